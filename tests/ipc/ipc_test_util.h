/*
 * ipc_test_util.h - small helpers shared by the IPC tests: ring memory of exactly the size the
 * library asks for (so that ASan flags any access past it), a deterministic PRNG, and message
 * builders. Trusts nothing; used by test code only.
 */
#ifndef CLOISTER_TESTS_IPC_TEST_UTIL_H
#define CLOISTER_TESTS_IPC_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ring.h"

/* 64-byte aligned, exactly `bytes` long (bytes must be a multiple of 64). */
static inline void *ipc_test_alloc(size_t bytes)
{
    void *p = aligned_alloc(64, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

/* xorshift64*: reproducible pseudo-random bytes for the garbage tests. */
static inline uint64_t ipc_test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline void ipc_test_fill_random(void *mem, size_t n, uint64_t *state)
{
    uint8_t *b = mem;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(ipc_test_rand(state) >> 56);
}

/* A well-formed ping of `type` carrying `token`. */
static inline void ipc_test_ping(struct msg *m, enum msg_type type, uint64_t token)
{
    struct msg_ping p = {.token = token};
    msg_set(m, type, &p, sizeof p);
}

static inline uint64_t ipc_test_token(const struct msg *m)
{
    struct msg_ping p;
    memcpy(&p, m->payload, sizeof p);
    return p.token;
}

#endif
