/*
 * rng.h - deterministic random source for the system oracle's generators (splitmix64): a case is
 * a pure function of (seed, class, index). No state outside the struct.
 */
#ifndef CLOISTER_SYSORACLE_RNG_H
#define CLOISTER_SYSORACLE_RNG_H

#include <stdint.h>

struct so_rng {
    uint64_t s;
};

static inline uint64_t so_rng_next(struct so_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint32_t so_rng_u32(struct so_rng *r) { return (uint32_t)(so_rng_next(r) >> 32); }

/* uniform in [0, n) for n >= 1 */
static inline uint32_t so_below(struct so_rng *r, uint32_t n) { return n ? (uint32_t)(so_rng_next(r) % n) : 0; }

/* true with probability 1/n */
static inline int so_one_in(struct so_rng *r, uint32_t n) { return so_below(r, n) == 0; }

/* one of the n values of a table */
#define SO_PICK(r, table) ((table)[so_below((r), (uint32_t)(sizeof(table) / sizeof((table)[0])))])

#endif
