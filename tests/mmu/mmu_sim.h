/*
 * mmu_sim.h - a differential simulator for the shadow MMU, shared by the stress test and the
 * mmu_shadow fuzz harness.
 *
 * It runs one guest twice: the system under test is a vCPU as the integrator will build it
 * (shadow_lookup on every access, mmu_fault on a miss or missing permission, mmu_guest_write for
 * stores to tracked pages, direct RAM access otherwise); the reference is hardware without a TLB
 * (mmu_walk with accessed/dirty updates on every access, on a second copy of RAM). Every
 * operation must give both the same outcome (#PF error code, physical address, value read) and
 * leave both RAM copies byte-for-byte equal; sim_check() also runs the invariant checker.
 */
#ifndef CLOISTER_TESTS_MMU_SIM_H
#define CLOISTER_TESTS_MMU_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/shadow.h"

struct sim {
    uint8_t *ram, *ref;  /* system under test / reference */
    size_t ram_size;
    void *region;
    size_t region_size;
    struct mmu_state mmu;
    uint32_t cr0, cr3, cr4;
    uint32_t root;
    uint32_t recent[8];  /* recently accessed pages: accesses come back to them (locality) */
    uint32_t last_epoch;
    unsigned check_every; /* run the invariant checker after every n-th operation (0: never) */
    uint64_t rng;
    uint64_t ops, accesses, page_faults, shadow_hits, tracked_writes, direct_writes;
    char msg[512];
};

/* RAM of ram_pages pages (both copies zero), a region of region_pages pages. 0 or -1. */
int sim_init(struct sim *s, uint32_t ram_pages, uint32_t region_pages, unsigned max_roots);
void sim_fini(struct sim *s);

/* Fills both RAM copies with plausible paging-structure entries drawn from seed. Call before
 * the first sim_set_cr (it writes RAM behind the MMU's back). */
void sim_fill_tables(struct sim *s, uint64_t seed);

/* Each returns 0 when both sides agree (and the checker passes when it runs, see check_every),
 * else -1 with s->msg describing the divergence. RAM is compared after every operation. */
int sim_set_cr(struct sim *s, uint32_t cr0, uint32_t cr3, uint32_t cr4);
int sim_access(struct sim *s, uint32_t linear, enum mmu_access access, unsigned cpl, unsigned size,
               uint32_t value);
int sim_invlpg(struct sim *s, uint32_t linear);
int sim_phys_write(struct sim *s, uint32_t phys, unsigned size, uint32_t value);
int sim_track_code(struct sim *s, uint32_t phys, bool on);
int sim_flush_all(struct sim *s);
int sim_check(struct sim *s);

/* One operation chosen by the 64 bits of r, biased towards the interesting cases. */
int sim_random_op(struct sim *s, uint64_t r);

#endif
