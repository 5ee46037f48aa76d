/*
 * fuzz_loader_input.h - how the loader harnesses split one fuzzer input into a guest RAM size,
 * a command line and image files, each copied into its own exactly-sized heap buffer so that
 * AddressSanitizer sees any read past an end. Reads past the input's end yield zeros.
 */
#ifndef CLOISTER_FUZZ_LOADER_INPUT_H
#define CLOISTER_FUZZ_LOADER_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_RAM_FILL 0xA5

struct fuzz_cursor {
    const uint8_t *p;
    size_t left;
};

static inline uint32_t fuzz_le(struct fuzz_cursor *c, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        uint32_t b = 0;
        if (c->left) {
            b = *c->p++;
            c->left--;
        }
        v |= b << (8 * i);
    }
    return v;
}

/* Up to `want` bytes as an exactly-sized heap copy (at least 1 byte allocated); *n gets the
 * count taken. Aborts when out of memory: a harness has nothing better to do. */
static inline uint8_t *fuzz_chunk(struct fuzz_cursor *c, size_t want, size_t *n)
{
    *n = want < c->left ? want : c->left;
    uint8_t *b = malloc(*n ? *n : 1);
    if (!b)
        abort();
    if (*n)
        memcpy(b, c->p, *n);
    c->p += *n;
    c->left -= *n;
    return b;
}

/* The guest RAM size: from just under 2 MiB (refused) to about 3 MiB, not always page-sized. */
static inline size_t fuzz_ram_size(uint32_t sel16)
{
    return (2u << 20) - 4096 + (size_t)(sel16 & 0xFFFF) * 16;
}

static inline uint8_t *fuzz_ram(size_t size)
{
    uint8_t *ram = malloc(size);
    if (!ram)
        abort();
    memset(ram, FUZZ_RAM_FILL, size);
    return ram;
}

/* Is [off, off + n) of RAM as the harness left it? Every byte equals its neighbour and the
 * first is the marker: one memcmp instead of megabytes of instrumented byte compares. */
static inline int fuzz_untouched(const uint8_t *ram, size_t off, size_t n)
{
    if (n == 0)
        return 1;
    return ram[off] == FUZZ_RAM_FILL && memcmp(ram + off, ram + off + 1, n - 1) == 0;
}

/* An error message is non-empty text ending inside its buffer. */
static inline int fuzz_msg_ok(const char *msg, size_t cap)
{
    size_t n = strnlen(msg, cap);
    if (n == 0 || n == cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] > 0x7e)
            return 0;
    return 1;
}

#endif
