/*
 * bench_proto.h - what the two halves of cloister-bench-ipc agree on: the server's argv names
 * and fd order, the shared "board" region (raw futex word, server-side ring statistics), and
 * the futex helpers both sides use for the raw futex baseline. The client trusts the board only
 * for numbers it prints; it never follows anything found there.
 */
#ifndef CLOISTER_BENCH_IPC_PROTO_H
#define CLOISTER_BENCH_IPC_PROTO_H

#include <stdint.h>

#define BENCH_SERVER_ARGV0 "cloister-bench-ipc-server"
/* argv names of the regions (endpoint_want names) and of the two pipe ends. */
#define BENCH_REGION_DEV "dev"
#define BENCH_REGION_BOARD "board"
#define BENCH_PIPE_IN "pin"
#define BENCH_PIPE_OUT "pout"

#define BENCH_PIPE_QUIT 'q'
#define BENCH_FUTEX_QUIT 0xFFFFFFFFu

struct bench_board {
    /* Raw futex ping-pong: odd = request pending, the server answers with the next even value. */
    _Alignas(64) uint32_t futex_word;
    /* The server's incoming device-channel ring, published on every request it serves. */
    _Alignas(64) uint64_t served;
    uint64_t in_sleeps, in_spins_won;
    uint32_t in_spin; /* the server ring's spin budget, ns */
};

/* Shared (not PRIVATE) futex calls on a word in a memfd region: the only kind the policy allows. */
int bench_futex_wait(uint32_t *word, uint32_t val);
void bench_futex_wake(uint32_t *word);

/* Server mode: argv as the launcher built it. Returns the exit status. */
int bench_server_main(int argc, char **argv);

#endif
