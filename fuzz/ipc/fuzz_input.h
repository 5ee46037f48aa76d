/*
 * fuzz_input.h - a cursor over the fuzzer's bytes for the IPC harnesses: reads past the end
 * yield zeros, so every harness consumes its input without bounds checks of its own.
 */
#ifndef CLOISTER_FUZZ_IPC_INPUT_H
#define CLOISTER_FUZZ_IPC_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fuzz_in {
    const uint8_t *p;
    size_t left;
};

static inline void fuzz_take(struct fuzz_in *in, void *out, size_t n)
{
    size_t k = n < in->left ? n : in->left;
    memcpy(out, in->p, k);
    memset((uint8_t *)out + k, 0, n - k);
    in->p += k;
    in->left -= k;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    uint8_t v;
    fuzz_take(in, &v, 1);
    return v;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t v;
    fuzz_take(in, &v, 2);
    return v;
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
    uint32_t v;
    fuzz_take(in, &v, 4);
    return v;
}

#endif
