/*
 * rng.h - the oracle's deterministic random source (splitmix64). Every generated case and every
 * data area is a pure function of a seed, so any case can be regenerated from the seed printed
 * with a mismatch. Trusts nothing; has no state outside the struct.
 */
#ifndef CLOISTER_ORACLE_RNG_H
#define CLOISTER_ORACLE_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint32_t rng_u32(struct rng *r)
{
    return (uint32_t)(rng_next(r) >> 32);
}

/* Uniform in [0, n) for n >= 1 (the tiny modulo bias is irrelevant here). */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
    return n ? (uint32_t)(rng_next(r) % n) : 0;
}

/* True with probability 1/n. */
static inline int rng_one_in(struct rng *r, uint32_t n)
{
    return rng_below(r, n) == 0;
}

#endif
