/*
 * mmu_sim.c - the differential shadow-MMU simulator (see mmu_sim.h).
 *
 * Trusts the mmu library only as far as it checks it: every outcome is compared with the plain
 * walker on a separate RAM copy, and shadow_lookup is used exactly as the vCPU will use it.
 * Physical addresses outside RAM behave as the unbacked bus on both sides: reads all-ones,
 * writes dropped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/check.h"
#include "tests/mmu/mmu_sim.h"
#include "vcpu/cpu.h"

#define PAGE SHADOW_PAGE

static int sim_fail(struct sim *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t next(struct sim *s)
{
    s->rng = mix(s->rng);
    return s->rng;
}

int sim_init(struct sim *s, uint32_t ram_pages, uint32_t region_pages, unsigned max_roots)
{
    memset(s, 0, sizeof(*s));
    s->ram_size = (size_t)ram_pages * PAGE;
    s->region_size = (size_t)region_pages * PAGE;
    s->ram = aligned_alloc(PAGE, s->ram_size ? s->ram_size : PAGE);
    s->ref = aligned_alloc(PAGE, s->ram_size ? s->ram_size : PAGE);
    s->region = aligned_alloc(PAGE, s->region_size);
    s->check_every = 1;
    if (!s->ram || !s->ref || !s->region) {
        sim_fini(s);
        return sim_fail(s, "out of memory");
    }
    memset(s->ram, 0, s->ram_size);
    memset(s->ref, 0, s->ram_size);
    int rc = mmu_init(&s->mmu, s->region, s->region_size, s->ram, s->ram_size, max_roots);
    if (rc < 0) {
        sim_fini(s);
        return sim_fail(s, "mmu_init: %d", rc);
    }
    return 0;
}

void sim_fini(struct sim *s)
{
    if (s->mmu.region != NULL)
        mmu_fini(&s->mmu);
    free(s->ram);
    free(s->ref);
    free(s->region);
    s->ram = s->ref = NULL;
    s->region = NULL;
}

/* An entry that is mostly a sensible PDE/PTE for this RAM: a frame in RAM (a few just past its
 * end, a few anywhere, some 0 for 4 MiB pages at 0), P set seven times in eight, R/W and U/S
 * three times in four, PS/PAT one time in eight, every other flag random. */
static uint32_t plausible_entry(const struct sim *s, uint64_t r)
{
    uint32_t pages = (uint32_t)(s->ram_size / PAGE);
    uint32_t kind = (uint32_t)(r & 15), frame;
    r >>= 4;
    if (kind < 11)
        frame = (uint32_t)(r % (pages + 2));
    else if (kind < 14)
        frame = 0;
    else
        frame = (uint32_t)r & 0xFFFFFu;
    r >>= 20;
    uint32_t flags = (uint32_t)r & 0xF7Eu;
    if ((r >> 12) & 7)
        flags |= MMU_E_P;
    if ((r >> 15) & 1)
        flags |= MMU_E_RW;
    if ((r >> 16) & 1)
        flags |= MMU_E_US;
    if (((r >> 17) & 7) == 0)
        flags |= MMU_E_PS;
    return (frame << 12) | flags;
}

void sim_fill_tables(struct sim *s, uint64_t seed)
{
    s->rng = seed;
    for (size_t off = 0; off < s->ram_size; off += 4) {
        uint32_t e = plausible_entry(s, next(s));
        memcpy(s->ram + off, &e, 4);
    }
    memcpy(s->ref, s->ram, s->ram_size);
}

static uint32_t mem_read(const uint8_t *mem, size_t size, uint32_t phys, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t at = (uint64_t)phys + i;
        uint32_t b = at < size ? mem[at] : 0xFFu;
        v |= b << (8 * i);
    }
    return v;
}

static void mem_write(uint8_t *mem, size_t size, uint32_t phys, unsigned n, uint32_t v)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t at = (uint64_t)phys + i;
        if (at < size)
            mem[at] = (uint8_t)(v >> (8 * i));
    }
}

int sim_check(struct sim *s)
{
    char why[400];
    if (mmu_check(&s->mmu, why, sizeof(why)) != 0)
        return sim_fail(s, "invariant: %s", why);
    if (memcmp(s->ram, s->ref, s->ram_size) != 0) {
        size_t at = 0;
        while (at < s->ram_size && s->ram[at] == s->ref[at])
            at++;
        return sim_fail(s, "RAM differs from the reference at %#zx (%#x vs %#x)", at,
                        mem_read(s->ram, s->ram_size, (uint32_t)at & ~3u, 4),
                        mem_read(s->ref, s->ram_size, (uint32_t)at & ~3u, 4));
    }
    uint32_t epoch = mmu_epoch(&s->mmu);
    if ((int32_t)(epoch - s->last_epoch) < 0)
        return sim_fail(s, "epoch went backwards");
    s->last_epoch = epoch;
    const struct shadow_header *h = s->region;
    if (h->active_root != s->root)
        return sim_fail(s, "header active root %#x, set_cr said %#x", h->active_root, s->root);
    return 0;
}

static int after_op(struct sim *s)
{
    s->ops++;
    if (s->check_every != 0 && s->ops % s->check_every == 0)
        return sim_check(s);
    if (memcmp(s->ram, s->ref, s->ram_size) != 0)
        return sim_check(s); /* to say where */
    return 0;
}

int sim_set_cr(struct sim *s, uint32_t cr0, uint32_t cr3, uint32_t cr4)
{
    struct mmu_cr_result res;
    int rc = mmu_set_cr(&s->mmu, cr0, cr3, cr4, &res);
    if (rc < 0)
        return sim_fail(s, "mmu_set_cr: %d", rc);
    bool paging = (cr0 & CPU_CR0_PG) && (cr0 & CPU_CR0_PE);
    if ((res.root != 0) != paging || res.root != mmu_active_root(&s->mmu))
        return sim_fail(s, "mmu_set_cr root %#x with paging %d", res.root, paging);
    s->cr0 = cr0;
    s->cr3 = cr3;
    s->cr4 = cr4;
    s->root = res.root;
    return after_op(s);
}

/* The vCPU side of one access. Returns MMU_WALK_OK / MMU_WALK_PF like the walker, or -1. */
static int sut_access(struct sim *s, uint32_t linear, enum mmu_access access, unsigned cpl,
                      unsigned size, uint32_t value, uint32_t *phys, uint32_t *error,
                      uint32_t *read)
{
    if (!(s->cr0 & CPU_CR0_PG) || !(s->cr0 & CPU_CR0_PE)) {
        *phys = linear;
        if (access == MMU_WRITE)
            mem_write(s->ram, s->ram_size, linear, size, value);
        else
            *read = mem_read(s->ram, s->ram_size, linear, size);
        return MMU_WALK_OK;
    }
    for (unsigned tries = 0; tries < 3; tries++) {
        uint32_t e;
        int rc = shadow_lookup(s->region, s->region_size, s->root, linear, &e);
        if (rc < 0)
            return sim_fail(s, "shadow_lookup(%#x): %d", linear, rc);
        *phys = (e & SHADOW_FRAME) | (linear & (PAGE - 1));
        switch (shadow_classify(e, access, cpl)) {
        case SHADOW_GO:
            if (tries == 0)
                s->shadow_hits++;
            if (access == MMU_WRITE) {
                mem_write(s->ram, s->ram_size, *phys, size, value);
                s->direct_writes++;
            } else {
                *read = mem_read(s->ram, s->ram_size, *phys, size);
            }
            return MMU_WALK_OK;
        case SHADOW_ASK_WRITE: {
            struct mmu_write_result wr;
            rc = mmu_guest_write(&s->mmu, *phys, size, value, &wr);
            if (rc < 0)
                return sim_fail(s, "mmu_guest_write(%#x, %u): %d", *phys, size, rc);
            if (wr.code != (s->mmu.code[*phys / PAGE] != 0))
                return sim_fail(s, "mmu_guest_write code flag wrong");
            s->tracked_writes++;
            return MMU_WALK_OK;
        }
        case SHADOW_ASK_FAULT: {
            struct mmu_fault_result fr;
            rc = mmu_fault(&s->mmu, linear, access, cpl, &fr);
            if (rc < 0)
                return sim_fail(s, "mmu_fault(%#x): %d", linear, rc);
            if (fr.status == MMU_PAGE_FAULT) {
                if (fr.cr2 != linear)
                    return sim_fail(s, "cr2 %#x for %#x", fr.cr2, linear);
                *error = fr.error;
                return MMU_WALK_PF;
            }
            if (fr.status != MMU_MAPPED)
                return sim_fail(s, "mmu_fault status %u", fr.status);
            if (shadow_classify(fr.entry, access, cpl) == SHADOW_ASK_FAULT)
                return sim_fail(s, "mmu_fault mapped %#x -> %#x but it does not allow the access",
                                linear, fr.entry);
            uint32_t again;
            if (shadow_lookup(s->region, s->region_size, s->root, linear, &again) != SHADOW_HIT ||
                again != fr.entry)
                return sim_fail(s, "entry %#x not in the region after mmu_fault", fr.entry);
            if (fr.phys != ((fr.entry & SHADOW_FRAME) | (linear & (PAGE - 1))))
                return sim_fail(s, "mmu_fault phys %#x, entry %#x", fr.phys, fr.entry);
            break;
        }
        }
    }
    return sim_fail(s, "no progress on %#x", linear);
}

int sim_access(struct sim *s, uint32_t linear, enum mmu_access access, unsigned cpl, unsigned size,
               uint32_t value)
{
    uint32_t rphys = 0, rerr = 0, rval = 0, sphys = 0, serr = 0, sval = 0;
    int rrc = mmu_walk(s->ref, s->ram_size, s->cr0, s->cr3, s->cr4, linear, access, cpl, true,
                       &rphys, &rerr);
    if (rrc < 0)
        return sim_fail(s, "reference walk: %d", rrc);
    if (rrc == MMU_WALK_OK) {
        if (access == MMU_WRITE)
            mem_write(s->ref, s->ram_size, rphys, size, value);
        else
            rval = mem_read(s->ref, s->ram_size, rphys, size);
    }
    int src = sut_access(s, linear, access, cpl, size, value, &sphys, &serr, &sval);
    if (src < 0)
        return -1;
    s->accesses++;
    if (src != rrc)
        return sim_fail(s, "%#x access %d cpl %u: shadow %s (error %#x), reference %s (error %#x)",
                        linear, access, cpl, src ? "faults" : "translates", serr,
                        rrc ? "faults" : "translates", rerr);
    if (rrc == MMU_WALK_PF) {
        s->page_faults++;
        if (serr != rerr)
            return sim_fail(s, "%#x: error code %#x, reference %#x", linear, serr, rerr);
    } else if (sphys != rphys || sval != rval) {
        return sim_fail(s, "%#x: phys %#x value %#x, reference phys %#x value %#x", linear,
                        sphys, sval, rphys, rval);
    }
    return after_op(s);
}

int sim_invlpg(struct sim *s, uint32_t linear)
{
    int rc = mmu_invlpg(&s->mmu, linear);
    if (rc < 0 || rc > 1)
        return sim_fail(s, "mmu_invlpg: %d", rc);
    uint32_t e;
    if (s->root != 0 && shadow_lookup(s->region, s->region_size, s->root, linear, &e) != SHADOW_MISS)
        return sim_fail(s, "entry for %#x survives INVLPG", linear);
    return after_op(s);
}

int sim_phys_write(struct sim *s, uint32_t phys, unsigned size, uint32_t value)
{
    struct mmu_write_result wr;
    bool in_ram = (uint64_t)phys + size <= s->ram_size && phys / PAGE == (phys + size - 1) / PAGE;
    int rc = mmu_guest_write(&s->mmu, phys, size, value, &wr);
    if (!in_ram) {
        if (rc != -EINVAL)
            return sim_fail(s, "mmu_guest_write outside RAM: %d", rc);
        return after_op(s);
    }
    if (rc < 0)
        return sim_fail(s, "mmu_guest_write(%#x): %d", phys, rc);
    mem_write(s->ref, s->ram_size, phys, size, value);
    return after_op(s);
}

int sim_track_code(struct sim *s, uint32_t phys, bool on)
{
    int rc = mmu_track_code(&s->mmu, phys, on);
    if ((phys / PAGE < s->ram_size / PAGE) != (rc >= 0))
        return sim_fail(s, "mmu_track_code(%#x): %d", phys, rc);
    return after_op(s);
}

int sim_flush_all(struct sim *s)
{
    if (mmu_flush_all(&s->mmu) < 0)
        return sim_fail(s, "mmu_flush_all failed");
    uint32_t e;
    for (uint32_t pdi = 0; s->root != 0 && pdi < 1024; pdi++) {
        if (shadow_lookup(s->region, s->region_size, s->root, pdi << 22, &e) == SHADOW_HIT)
            return sim_fail(s, "entries survive mmu_flush_all");
    }
    return after_op(s);
}

/* Linear addresses where the tables are: PD indices 0-3 and 1023 mostly, PT indices in and just
 * past RAM mostly, offsets aligned to the access size; half the time a recently used page, so
 * that accesses also hit the shadow rather than always missing. With paging off, RAM. */
static uint32_t pick_linear(struct sim *s, uint64_t r, unsigned size)
{
    static const uint32_t pdis[] = {0, 1, 2, 3, 1023, 512, 1, 0};
    uint32_t pages = (uint32_t)(s->ram_size / PAGE);
    uint32_t off = (uint32_t)(r >> 40) & (PAGE - 1) & ~(size - 1);
    if ((r >> 39) & 1) /* the words that serve as entries for the addresses picked below */
        off = 4 * pdis[(r >> 40) & 7] + 4 * ((r >> 43) & 7 & -(uint64_t)((r >> 46) & 1));
    if (!(s->cr0 & CPU_CR0_PG) || !(s->cr0 & CPU_CR0_PE)) /* paging off: aim at RAM */
        return (uint32_t)(((r >> 1) % (pages + 1)) << 12) | off;
    uint32_t slot = (uint32_t)(r >> 52) & 7;
    if (r & 1)
        return (s->recent[slot] & ~(PAGE - 1)) | off;
    r >>= 1;
    uint32_t pdi = (r & 15) < 14 ? pdis[r & 7] : (uint32_t)(r >> 4) & 1023;
    r >>= 14;
    uint32_t pti;
    switch (r & 3) {
    case 0: case 1: pti = (uint32_t)(r >> 2) & 7; break;
    case 2: pti = (uint32_t)((r >> 2) % (pages + 2)); break;
    default: pti = (uint32_t)(r >> 2) & 1023; break;
    }
    s->recent[slot] = (pdi << 22) | (pti << 12);
    return s->recent[slot] | off;
}

/* Mostly the bits a shadow entry depends on: P, R/W, U/S, A, D, PS/PAT, G, a frame bit. */
static unsigned bit_to_flip(uint64_t r)
{
    static const unsigned bits[] = {0, 1, 2, 5, 5, 6, 6, 7, 8, 12, 13, 3, 9, 22, 0, 5};
    return bits[r & 15];
}

/* For a store that changes one bit of what is there now (a guest clearing A or D, toggling
 * R/W...): the current word at the address the store will reach, one bit flipped. */
static uint32_t flip_one_bit(struct sim *s, uint32_t linear, uint64_t r)
{
    uint32_t phys = linear, err;
    bool paging = (s->cr0 & CPU_CR0_PG) && (s->cr0 & CPU_CR0_PE);
    if (paging && mmu_walk(s->ref, s->ram_size, s->cr0, s->cr3, s->cr4, linear, MMU_READ, 0,
                           false, &phys, &err) != MMU_WALK_OK)
        return (uint32_t)r;
    return mem_read(s->ref, s->ram_size, phys, 4) ^ (1u << bit_to_flip(r));
}

int sim_random_op(struct sim *s, uint64_t r)
{
    uint64_t x = mix(r);
    unsigned kind = (unsigned)(r % 100);
    uint32_t pages = (uint32_t)(s->ram_size / PAGE);

    if (kind < 70) {
        static const unsigned sizes[] = {4, 4, 2, 1};
        unsigned size = sizes[x & 3];
        enum mmu_access access = (enum mmu_access)((x >> 2) % 3);
        static const unsigned cpls[] = {0, 0, 3, 3, 3, 0, 1, 2};
        unsigned cpl = cpls[(x >> 4) & 7];
        uint64_t y = mix(x);
        uint32_t linear = pick_linear(s, x >> 7, size);
        uint32_t value = size == 4 ? plausible_entry(s, y) : (uint32_t)(x >> 32);
        if (size == 4 && access == MMU_WRITE && (y & 1))
            value = flip_one_bit(s, linear, y >> 1);
        return sim_access(s, linear, access, cpl, size, value);
    }
    if (kind < 80) {
        uint32_t cr0 = s->cr0 | CPU_CR0_PG | CPU_CR0_PE, cr3 = s->cr3, cr4 = s->cr4;
        unsigned what = (unsigned)(x % 20);
        if (what < 12) {
            cr3 = (uint32_t)((x >> 8) % 4) << 12; /* a handful of address spaces */
            if (((x >> 10) & 15) == 0)
                cr3 = (pages + 1) << 12; /* page directory outside RAM */
            cr3 |= (uint32_t)(x >> 14) & 0x18u; /* PWT/PCD do not select roots */
        } else if (what < 15) {
            cr0 ^= CPU_CR0_WP;
        } else if (what < 18) {
            cr4 ^= CPU_CR4_PSE;
        } else if (what < 19) {
            cr4 ^= CPU_CR4_PGE;
        } else {
            cr0 &= ~CPU_CR0_PG; /* paging off: every root goes */
        }
        return sim_set_cr(s, cr0, cr3, cr4);
    }
    if (kind < 86)
        return sim_invlpg(s, pick_linear(s, x, 1));
    if (kind < 94) {
        /* stores that bypass the shadow (device DMA, loaders) must come through the MMU */
        unsigned size = (x & 3) ? 4 : 1 + (unsigned)((x >> 2) & 3);
        uint32_t phys = (uint32_t)((x >> 5) % ((uint64_t)s->ram_size + PAGE));
        if (size == 4 && (x & 4))
            phys &= ~3u;
        uint64_t y = mix(x);
        uint32_t value = size == 4 ? plausible_entry(s, y) : (uint32_t)y;
        if (size == 4 && (y & 1))
            value = mem_read(s->ref, s->ram_size, phys, 4) ^ (1u << bit_to_flip(y >> 1));
        return sim_phys_write(s, phys, size, value);
    }
    if (kind < 99)
        return sim_track_code(s, (uint32_t)((x >> 1) % (pages + 1)) << 12, x & 1);
    return sim_flush_all(s);
}
