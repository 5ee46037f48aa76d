/*
 * test_mmu_shadow.c - shadow page-table maintenance (mmu/shadow.c): fills and permissions, A/D
 * driven upgrades, write tracking of page-table and code pages, guest stores dropping exactly
 * the affected entries, per-CR3 root caching and LRU eviction, INVLPG, CR0.WP, CR4.PSE and
 * CR4.PGE, paging off, pool exhaustion, hostile tables, the bounds-checked reader, and the
 * invariant checker's ability to notice a broken shadow. mmu_check runs after every step.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mmu/check.h"
#include "mmu/shadow.h"
#include "vcpu/cpu.h"

#define PG_ON (CPU_CR0_PG | CPU_CR0_PE)
#define PD1 0x1000u
#define PTA 0x2000u
#define PD2 0x3000u
#define PTB 0x4000u
#define PD3 0x5000u
#define F(n) ((uint32_t)(n) << 12)
#define L(i) (0x00400000u + (uint32_t)(i) * 0x1000u) /* PD index 1, PT index i */
#define URW (MMU_E_P | MMU_E_RW | MMU_E_US)

struct env {
    uint8_t *ram;
    size_t ram_size;
    uint8_t *region;
    size_t region_size;
    struct mmu_state m;
};

static struct env *env_new(uint32_t ram_pages, uint32_t region_pages, unsigned roots)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->ram_size = (size_t)ram_pages * 4096;
    e->region_size = (size_t)region_pages * 4096;
    e->ram = aligned_alloc(4096, e->ram_size);
    e->region = aligned_alloc(4096, e->region_size);
    assert_non_null(e->ram);
    assert_non_null(e->region);
    memset(e->ram, 0, e->ram_size);
    assert_int_equal(mmu_init(&e->m, e->region, e->region_size, e->ram, e->ram_size, roots), 0);
    return e;
}

static void env_free(struct env *e)
{
    mmu_fini(&e->m);
    free(e->ram);
    free(e->region);
    free(e);
}

static void check(struct env *e)
{
    char why[400];
    if (mmu_check(&e->m, why, sizeof(why)) != 0)
        fail_msg("invariant: %s", why);
}

static uint32_t get32(struct env *e, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, e->ram + addr, 4);
    return v;
}

/* Behind the MMU's back: only for set-up, or to simulate a store that escaped tracking. */
static void put32(struct env *e, uint32_t addr, uint32_t v)
{
    memcpy(e->ram + addr, &v, 4);
}

static struct mmu_write_result gwrite(struct env *e, uint32_t addr, unsigned size, uint64_t v)
{
    struct mmu_write_result r;
    assert_int_equal(mmu_guest_write(&e->m, addr, size, v, &r), 0);
    check(e);
    return r;
}

static uint32_t set_cr(struct env *e, uint32_t cr0, uint32_t cr3, uint32_t cr4, bool *flush)
{
    struct mmu_cr_result r;
    assert_int_equal(mmu_set_cr(&e->m, cr0, cr3, cr4, &r), 0);
    assert_int_equal(r.root, mmu_active_root(&e->m));
    if (flush != NULL)
        *flush = r.flush;
    check(e);
    return r.root;
}

static uint32_t lookup_in(struct env *e, uint32_t root, uint32_t lin)
{
    uint32_t entry;
    int rc = shadow_lookup(e->region, e->region_size, root, lin, &entry);
    assert_true(rc == SHADOW_HIT || rc == SHADOW_MISS);
    return rc == SHADOW_HIT ? entry : 0;
}

static uint32_t lookup(struct env *e, uint32_t lin)
{
    return lookup_in(e, mmu_active_root(&e->m), lin);
}

static struct mmu_fault_result fault(struct env *e, uint32_t lin, enum mmu_access acc,
                                     unsigned cpl)
{
    struct mmu_fault_result r;
    assert_int_equal(mmu_fault(&e->m, lin, acc, cpl, &r), 0);
    if (r.status == MMU_MAPPED)
        assert_int_equal(lookup(e, lin), r.entry);
    check(e);
    return r;
}

static uint32_t mapped(struct env *e, uint32_t lin, enum mmu_access acc, unsigned cpl)
{
    struct mmu_fault_result r = fault(e, lin, acc, cpl);
    assert_int_equal(r.status, MMU_MAPPED);
    return r.entry;
}

/* The standard guest: PD1[1] -> PTA; PTA maps data frames 10.. and, at indices 2 and 3, its own
 * page and the page directory. */
static struct env *standard_guest(uint32_t region_pages, unsigned roots)
{
    struct env *e = env_new(64, region_pages, roots);
    put32(e, PD1 + 4 * 1, PTA | URW);
    put32(e, PTA + 4 * 0, F(10) | URW);
    put32(e, PTA + 4 * 1, F(11) | URW | MMU_E_A | MMU_E_D);
    put32(e, PTA + 4 * 2, PTA | MMU_E_P | MMU_E_RW);
    put32(e, PTA + 4 * 3, PD1 | MMU_E_P | MMU_E_RW);
    put32(e, PTA + 4 * 4, F(12) | MMU_E_P);
    put32(e, PTA + 4 * 5, F(13) | URW | MMU_E_A | MMU_E_D);
    put32(e, PTA + 4 * 6, F(17) | URW | MMU_E_G);
    return e;
}

static void test_init_arguments(void **state)
{
    struct mmu_state m;
    uint8_t *region = aligned_alloc(4096, 8 * 4096);
    uint8_t *ram = aligned_alloc(4096, 4 * 4096);
    assert_int_equal(mmu_init(&m, region + 4, 4 * 4096, ram, 4 * 4096, 0), -EINVAL);
    assert_int_equal(mmu_init(&m, region, 4 * 4096 + 8, ram, 4 * 4096, 0), -EINVAL);
    assert_int_equal(mmu_init(&m, region, 2 * 4096, ram, 4 * 4096, 0), -EINVAL);
    assert_int_equal(mmu_init(&m, region, MMU_MAX_REGION + 4096, ram, 4 * 4096, 0), -EINVAL);
    assert_int_equal(mmu_init(&m, NULL, 4 * 4096, ram, 4 * 4096, 0), -EINVAL);
    assert_int_equal(mmu_init(&m, region, 4 * 4096, ram, 4 * 4096 + 4, 0), -EINVAL);
    assert_int_equal(mmu_init(&m, region, 4 * 4096, ram + 2, 4096, 0), -EINVAL);
    assert_int_equal(mmu_init(&m, region, 4 * 4096, NULL, 4096, 0), -EINVAL);
    assert_int_equal(mmu_init(&m, region, 4 * 4096, ram, 4 * 4096, MMU_MAX_ROOTS + 1), -EINVAL);

    /* the smallest region: header, one root, one table */
    assert_int_equal(mmu_init(&m, region, 3 * 4096, ram, 4 * 4096, 0), 0);
    assert_int_equal(m.nroots, 1);
    mmu_fini(&m);

    memset(region, 0xEE, 8 * 4096);
    assert_int_equal(mmu_init(&m, region, 8 * 4096, ram, 4 * 4096, 0), 0);
    const struct shadow_header *h = (const void *)region;
    assert_int_equal(h->magic, SHADOW_MAGIC);
    assert_int_equal(h->version, SHADOW_VERSION);
    assert_int_equal(h->page_size, 4096);
    assert_int_equal(h->pool_off, 4096);
    assert_int_equal(h->pool_pages, 7);
    assert_int_equal(h->active_root, 0);
    assert_int_equal(mmu_epoch(&m), 0);
    assert_int_equal(m.nroots, 6);
    for (size_t i = 4096; i < 8 * 4096; i++)
        assert_int_equal(region[i], 0);
    /* paging is off until set_cr says otherwise */
    struct mmu_fault_result fr;
    assert_int_equal(mmu_fault(&m, 0, MMU_READ, 0, &fr), -EINVAL);
    assert_int_equal(mmu_invlpg(&m, 0), 0);
    char why[200];
    assert_int_equal(mmu_check(&m, why, sizeof(why)), 0);
    mmu_fini(&m);
    free(region);
    free(ram);
}

static void test_fill_permissions_and_dirty(void **state)
{
    struct env *e = standard_guest(16, 0);
    uint32_t root = set_cr(e, PG_ON, PD1, 0, NULL);
    assert_true(root != 0 && root % 4096 == 0);
    assert_int_equal(lookup(e, L(0)), 0);

    /* read: A set in both entries, no write permission while D is clear */
    uint32_t ent = mapped(e, L(0), MMU_READ, 3);
    assert_int_equal(ent, F(10) | SHADOW_P | SHADOW_U);
    assert_int_equal(get32(e, PD1 + 4), PTA | URW | MMU_E_A);
    assert_int_equal(get32(e, PTA), F(10) | URW | MMU_E_A);
    assert_int_equal(shadow_classify(ent, MMU_READ, 3), SHADOW_GO);
    assert_int_equal(shadow_classify(ent, MMU_FETCH, 3), SHADOW_GO);
    assert_int_equal(shadow_classify(ent, MMU_WRITE, 3), SHADOW_ASK_FAULT);
    assert_int_equal(shadow_classify(ent, MMU_WRITE, 0), SHADOW_ASK_FAULT);
    /* the first write goes to the MMU, which sets D and grants the write */
    struct mmu_fault_result r = fault(e, L(0) + 0x10, MMU_WRITE, 3);
    assert_int_equal(r.status, MMU_MAPPED);
    assert_int_equal(r.phys, F(10) + 0x10);
    assert_int_equal(r.entry, F(10) | SHADOW_P | SHADOW_U | SHADOW_WU | SHADOW_WS);
    assert_int_equal(get32(e, PTA), F(10) | URW | MMU_E_A | MMU_E_D);
    assert_int_equal(shadow_classify(r.entry, MMU_WRITE, 3), SHADOW_GO);
    /* A and D already set: write permission straight away */
    assert_int_equal(mapped(e, L(1), MMU_FETCH, 0), F(11) | SHADOW_P | SHADOW_U | SHADOW_WU |
                                                        SHADOW_WS);
    /* supervisor-only read-only page, CR0.WP = 0: a supervisor write is allowed (and sets D),
     * a user access faults with P set */
    assert_int_equal(mapped(e, L(4), MMU_READ, 0), F(12) | SHADOW_P);
    assert_int_equal(mapped(e, L(4), MMU_WRITE, 1), F(12) | SHADOW_P | SHADOW_WS);
    r = fault(e, L(4), MMU_WRITE, 3);
    assert_int_equal(r.status, MMU_PAGE_FAULT);
    assert_int_equal(r.error, MMU_PF_P | MMU_PF_W | MMU_PF_U);
    assert_int_equal(r.cr2, L(4));
    assert_int_equal(lookup(e, L(4)), F(12) | SHADOW_P | SHADOW_WS); /* still there */
    /* not present */
    r = fault(e, L(9), MMU_FETCH, 3);
    assert_int_equal(r.status, MMU_PAGE_FAULT);
    assert_int_equal(r.error, MMU_PF_U);
    r = fault(e, 0x00C00000u, MMU_WRITE, 0);
    assert_int_equal(r.error, MMU_PF_W);
    /* filling never takes anything away */
    assert_int_equal(mmu_epoch(&e->m), 0);
    struct mmu_fault_result bad;
    assert_int_equal(mmu_fault(&e->m, L(0), MMU_READ, 4, &bad), -EINVAL);
    assert_int_equal(mmu_fault(&e->m, L(0), (enum mmu_access)3, 0, &bad), -EINVAL);
    env_free(e);
}

static void test_tracking_of_table_pages(void **state)
{
    struct env *e = standard_guest(16, 0);
    set_cr(e, PG_ON, PD1, 0, NULL);
    /* the page table and the page directory are tracked wherever they are mapped */
    uint32_t pt = mapped(e, L(2), MMU_WRITE, 0);
    assert_int_equal(pt, PTA | SHADOW_P | SHADOW_WS | SHADOW_TRACKED);
    assert_int_equal(shadow_classify(pt, MMU_WRITE, 0), SHADOW_ASK_WRITE);
    assert_int_equal(shadow_classify(pt, MMU_READ, 0), SHADOW_GO);
    assert_int_equal(mapped(e, L(3), MMU_READ, 0), PD1 | SHADOW_P | SHADOW_TRACKED);
    assert_int_equal(mapped(e, L(5), MMU_WRITE, 3) & SHADOW_TRACKED, 0);

    /* a data page that becomes a page table: its existing mapping gains TRACKED, and the caller
     * is told to flush (its TLB may hold the writable entry) */
    put32(e, F(13), F(14) | URW); /* still untracked: a direct store is what the vCPU would do */
    struct mmu_write_result w = gwrite(e, PD1 + 4 * 2, 4, F(13) | URW);
    assert_int_equal(w.dropped, 0);
    assert_false(w.flush);
    uint32_t epoch = mmu_epoch(&e->m);
    struct mmu_fault_result r = fault(e, 0x00800000u, MMU_READ, 3);
    assert_int_equal(r.status, MMU_MAPPED);
    assert_int_equal(r.entry, F(14) | SHADOW_P | SHADOW_U);
    assert_true(r.flush);
    assert_int_equal(mmu_epoch(&e->m), epoch + 1);
    assert_int_equal(lookup(e, L(5)), F(13) | SHADOW_P | SHADOW_U | SHADOW_WU | SHADOW_WS |
                                          SHADOW_TRACKED);
    /* ... and loses it once no shadow PT is built from it any more */
    w = gwrite(e, PD1 + 4 * 2, 4, 0);
    assert_int_equal(w.dropped, 1);
    assert_true(w.flush);
    assert_int_equal(lookup(e, L(5)) & SHADOW_TRACKED, 0);
    env_free(e);
}

static void test_guest_write_drops_exactly(void **state)
{
    struct env *e = standard_guest(16, 0);
    set_cr(e, PG_ON, PD1, 0, NULL);
    mapped(e, L(0), MMU_READ, 0);
    mapped(e, L(1), MMU_READ, 0);
    mapped(e, L(5), MMU_READ, 0);

    /* repoint PTE 0: only L(0) goes */
    struct mmu_write_result w = gwrite(e, PTA, 4, F(15) | URW | MMU_E_A | MMU_E_D);
    assert_int_equal(w.dropped, 1);
    assert_true(w.flush);
    assert_false(w.code);
    assert_int_equal(lookup(e, L(0)), 0);
    assert_true(lookup(e, L(1)) != 0);
    assert_int_equal(mapped(e, L(0), MMU_READ, 0) & SHADOW_FRAME, F(15));
    /* the same value, or bits nothing depends on (PWT, PCD, bits 11:9): nothing dropped */
    w = gwrite(e, PTA, 4, F(15) | URW | MMU_E_A | MMU_E_D);
    assert_int_equal(w.dropped, 0);
    assert_false(w.flush);
    w = gwrite(e, PTA, 4, F(15) | URW | MMU_E_A | MMU_E_D | 0xE18u);
    assert_int_equal(w.dropped, 0);
    assert_true(lookup(e, L(0)) != 0);
    /* one byte of the frame field of PTE 1 */
    w = gwrite(e, PTA + 4 + 2, 1, 0x02);
    assert_int_equal(w.dropped, 1);
    assert_int_equal(lookup(e, L(1)), 0);
    assert_int_equal(mapped(e, L(1), MMU_READ, 0) & SHADOW_FRAME, 0x0002B000u);
    /* an unaligned store across PTEs 0 and 1 drops both, an 8-byte one too */
    w = gwrite(e, PTA + 2, 4, 0x00300030u);
    assert_int_equal(w.dropped, 2);
    put32(e, F(16), 0);
    mapped(e, L(5), MMU_READ, 0);
    w = gwrite(e, PTA + 4 * 4, 8, ((uint64_t)(F(13) | URW | MMU_E_A) << 32) | (F(12) | URW));
    assert_int_equal(w.dropped, 1); /* L(4) was not mapped, L(5) was */
    assert_int_equal(get32(e, PTA + 16), F(12) | URW);
    assert_int_equal(get32(e, PTA + 20), F(13) | URW | MMU_E_A);
    /* clearing A drops the entry; the next access sets A again */
    mapped(e, L(5), MMU_READ, 3);
    w = gwrite(e, PTA + 20, 4, F(13) | URW);
    assert_int_equal(w.dropped, 1);
    mapped(e, L(5), MMU_READ, 3);
    assert_int_equal(get32(e, PTA + 20), F(13) | URW | MMU_E_A);
    /* clearing D drops the entry; it comes back without write permission */
    mapped(e, L(5), MMU_WRITE, 3);
    w = gwrite(e, PTA + 20, 4, F(13) | URW | MMU_E_A);
    assert_int_equal(w.dropped, 1);
    assert_int_equal(mapped(e, L(5), MMU_READ, 3), F(13) | SHADOW_P | SHADOW_U);
    /* a PDE store drops the whole shadow PT behind it */
    mapped(e, L(0), MMU_READ, 0);
    mapped(e, L(2), MMU_READ, 0);
    w = gwrite(e, PD1 + 4, 4, PTA | MMU_E_P | MMU_E_RW | MMU_E_A);
    assert_int_equal(w.dropped, 3);
    assert_int_equal(lookup(e, L(0)) | lookup(e, L(2)) | lookup(e, L(5)), 0);
    /* PTE 0 is 0x0030FE7F since the unaligned store: frame outside RAM, D set; the new PDE
     * has no U/S */
    assert_int_equal(mapped(e, L(0), MMU_READ, 0), 0x0030F000u | SHADOW_P | SHADOW_WS);
    /* a store to a page nothing is built from changes RAM and nothing else */
    w = gwrite(e, F(20) + 0x10, 2, 0xBEEF);
    assert_int_equal(w.dropped, 0);
    assert_int_equal(get32(e, F(20) + 0x10), 0xBEEF);
    /* arguments */
    struct mmu_write_result r;
    assert_int_equal(mmu_guest_write(&e->m, PTA, 0, 0, &r), -EINVAL);
    assert_int_equal(mmu_guest_write(&e->m, PTA, 9, 0, &r), -EINVAL);
    assert_int_equal(mmu_guest_write(&e->m, PTA + 0xFFE, 4, 0, &r), -EINVAL);
    assert_int_equal(mmu_guest_write(&e->m, 64 * 4096 - 2, 4, 0, &r), -EINVAL);
    assert_int_equal(mmu_guest_write(&e->m, 0xFFFFFFFCu, 4, 0, &r), -EINVAL);
    check(e);
    env_free(e);
}

static void test_cr3_root_caching(void **state)
{
    struct env *e = standard_guest(16, 0);
    put32(e, PD2 + 4 * 1, PTA | URW);       /* shared "kernel" page table */
    put32(e, PD2 + 4 * 2, PTB | URW);
    put32(e, PTB, F(16) | URW | MMU_E_A | MMU_E_D);
    uint32_t r1 = set_cr(e, PG_ON, PD1, 0, NULL);
    mapped(e, L(0), MMU_READ, 0);
    uint32_t r2 = set_cr(e, PG_ON, PD2, 0, NULL);
    assert_true(r2 != r1);
    assert_int_equal(lookup(e, L(0)), 0);
    mapped(e, L(0), MMU_READ, 0);
    mapped(e, 0x00800000u, MMU_READ, 0);
    /* back to the first address space: its shadow is still there, no fault needed */
    uint64_t hits = e->m.stats.root_hits;
    assert_int_equal(set_cr(e, PG_ON, PD1 | 0x18, 0, NULL), r1); /* PWT/PCD do not matter */
    assert_int_equal(e->m.stats.root_hits, hits + 1);
    assert_int_equal(lookup(e, L(0)) & SHADOW_FRAME, F(10));
    /* a store to the shared page table drops the entry in both roots, active or not */
    set_cr(e, PG_ON, PD2, 0, NULL);
    mapped(e, L(2), MMU_WRITE, 0); /* PTA itself, through PD2 */
    struct mmu_write_result w = gwrite(e, PTA, 4, F(18) | URW);
    assert_int_equal(w.dropped, 2);
    assert_int_equal(lookup_in(e, r1, L(0)), 0);
    assert_int_equal(lookup_in(e, r2, L(0)), 0);
    assert_true(lookup_in(e, r2, 0x00800000u) != 0);
    /* a store to PD1 (not the active directory) drops PD1's shadow PT only */
    set_cr(e, PG_ON, PD1, 0, NULL);
    mapped(e, L(1), MMU_READ, 0);
    set_cr(e, PG_ON, PD2, 0, NULL);
    mapped(e, L(1), MMU_READ, 0);
    w = gwrite(e, PD1 + 4, 4, PTB | URW);
    assert_int_equal(w.dropped, 1);
    assert_int_equal(lookup_in(e, r1, L(1)), 0);
    assert_true(lookup_in(e, r2, L(1)) != 0);
    /* CR0.WP selects a different root for the same CR3 */
    uint32_t r3 = set_cr(e, PG_ON | CPU_CR0_WP, PD2, 0, NULL);
    assert_true(r3 != r2 && r3 != r1);
    assert_int_equal(set_cr(e, PG_ON, PD2, 0, NULL), r2);
    env_free(e);
}

static void test_lru_eviction_and_untracking(void **state)
{
    struct env *e = standard_guest(32, 2);
    put32(e, PD2 + 4, PTA | URW);
    put32(e, PD3 + 4, PTA | URW);
    uint32_t ra = set_cr(e, PG_ON, PD1, 0, NULL);
    uint32_t rb = set_cr(e, PG_ON, PD2, 0, NULL);
    /* through PD2, map PD1's directory page: tracked because root A shadows it */
    assert_int_equal(mapped(e, L(3), MMU_READ, 0), PD1 | SHADOW_P | SHADOW_TRACKED);
    /* a third address space evicts the least recently used root (A) */
    bool flush;
    set_cr(e, PG_ON, PD3, 0, &flush);
    assert_int_equal(e->m.stats.evicted_roots, 1);
    assert_int_equal(lookup_in(e, rb, L(3)), PD1 | SHADOW_P); /* no longer tracked */
    assert_false(flush); /* untracking only adds permission */
    mapped(e, L(0), MMU_READ, 0);
    /* back to PD1: a new root (evicting B, now the least recently used) */
    uint32_t ra2 = set_cr(e, PG_ON, PD1, 0, &flush);
    assert_int_equal(e->m.stats.evicted_roots, 2);
    assert_int_equal(lookup(e, L(0)), 0);
    (void)ra;
    (void)ra2;
    env_free(e);
}

static void test_invlpg(void **state)
{
    struct env *e = standard_guest(16, 0);
    set_cr(e, PG_ON, PD1, 0, NULL);
    mapped(e, L(0), MMU_READ, 0);
    mapped(e, L(1), MMU_READ, 0);
    uint32_t epoch = mmu_epoch(&e->m);
    assert_int_equal(mmu_invlpg(&e->m, L(0) + 0xABC), 1);
    check(e);
    assert_int_equal(lookup(e, L(0)), 0);
    assert_true(lookup(e, L(1)) != 0);
    assert_int_equal(mmu_epoch(&e->m), epoch + 1);
    assert_int_equal(mmu_invlpg(&e->m, L(0)), 0);
    assert_int_equal(mmu_invlpg(&e->m, 0xC0000000u), 0); /* no shadow PT there */
    assert_int_equal(mmu_epoch(&e->m), epoch + 1);
    /* the guest changed a PTE without telling anyone but INVLPG (a store that escaped tracking):
     * INVLPG alone repairs the page */
    put32(e, PTA + 4, F(19) | URW | MMU_E_A | MMU_E_D);
    assert_int_equal(mmu_invlpg(&e->m, L(1)), 1);
    assert_int_equal(mapped(e, L(1), MMU_READ, 0) & SHADOW_FRAME, F(19));
    env_free(e);
}

static void test_global_pages_and_pge(void **state)
{
    struct env *e = standard_guest(16, 0);
    put32(e, PD2 + 4, PTA | URW);
    uint32_t r1 = set_cr(e, PG_ON, PD1, CPU_CR4_PGE, NULL);
    assert_int_equal(mapped(e, L(6), MMU_READ, 3), F(17) | SHADOW_P | SHADOW_U | SHADOW_G);
    assert_int_equal(mapped(e, L(0), MMU_READ, 3) & SHADOW_G, 0);
    /* a CR3 switch keeps it (as it keeps everything cached per root) */
    uint32_t r2 = set_cr(e, PG_ON, PD2, CPU_CR4_PGE, NULL);
    mapped(e, L(6), MMU_READ, 3);
    assert_int_equal(set_cr(e, PG_ON, PD1, CPU_CR4_PGE, NULL), r1);
    assert_true(lookup(e, L(6)) & SHADOW_G);
    /* INVLPG removes a global page too */
    assert_int_equal(mmu_invlpg(&e->m, L(6)), 1);
    mapped(e, L(6), MMU_READ, 3);
    /* toggling CR4.PGE flushes everything, in every root, globals included */
    bool flush;
    uint32_t epoch = mmu_epoch(&e->m);
    assert_int_equal(set_cr(e, PG_ON, PD1, 0, &flush), r1);
    assert_true(flush);
    assert_int_equal(mmu_epoch(&e->m), epoch + 1);
    assert_int_equal(lookup_in(e, r1, L(6)) | lookup_in(e, r1, L(0)) | lookup_in(e, r2, L(6)), 0);
    /* without PGE the G bit is not reflected */
    assert_int_equal(mapped(e, L(6), MMU_READ, 3), F(17) | SHADOW_P | SHADOW_U);
    set_cr(e, PG_ON, PD1, CPU_CR4_PGE, &flush);
    assert_true(flush);
    set_cr(e, PG_ON, PD1, CPU_CR4_PGE, &flush);
    assert_false(flush); /* no change, no flush */
    env_free(e);
}

static void test_write_protect(void **state)
{
    struct env *e = standard_guest(16, 0);
    put32(e, PTA + 4 * 4, F(12) | MMU_E_P | MMU_E_A | MMU_E_D);
    uint32_t r0 = set_cr(e, PG_ON, PD1, 0, NULL);
    assert_int_equal(mapped(e, L(4), MMU_WRITE, 0), F(12) | SHADOW_P | SHADOW_WS);
    uint32_t r1 = set_cr(e, PG_ON | CPU_CR0_WP, PD1, 0, NULL);
    assert_true(r1 != r0);
    struct mmu_fault_result r = fault(e, L(4), MMU_WRITE, 0);
    assert_int_equal(r.status, MMU_PAGE_FAULT);
    assert_int_equal(r.error, MMU_PF_P | MMU_PF_W);
    assert_int_equal(mapped(e, L(4), MMU_READ, 0), F(12) | SHADOW_P);
    /* CR0.WP does not restrict user writes beyond R/W, nor supervisor writes to R/W pages */
    assert_int_equal(mapped(e, L(1), MMU_WRITE, 3),
                     F(11) | SHADOW_P | SHADOW_U | SHADOW_WU | SHADOW_WS);
    assert_int_equal(set_cr(e, PG_ON, PD1, 0, NULL), r0);
    assert_int_equal(lookup(e, L(4)), F(12) | SHADOW_P | SHADOW_WS);
    env_free(e);
}

static void test_big_pages(void **state)
{
    struct env *e = standard_guest(16, 0);
    put32(e, PD1 + 4 * 2, 0x00000000u | URW | MMU_E_PS | MMU_E_A | MMU_E_D);
    put32(e, PD1 + 4 * 3, 0x00400000u | URW | MMU_E_PS | (1u << 13));
    set_cr(e, PG_ON, PD1, CPU_CR4_PSE, NULL);
    /* split into 4 KiB entries, each with its own frame and tracking */
    assert_int_equal(mapped(e, 0x00805000u, MMU_WRITE, 3),
                     F(5) | SHADOW_P | SHADOW_U | SHADOW_WU | SHADOW_WS);
    assert_int_equal(mapped(e, 0x00801000u, MMU_READ, 3),
                     F(1) | SHADOW_P | SHADOW_U | SHADOW_WU | SHADOW_WS | SHADOW_TRACKED);
    /* PTA (frame 2) becomes a tracked page table once a shadow PT is built from it */
    assert_int_equal(mapped(e, 0x00802000u, MMU_READ, 3) & SHADOW_TRACKED, 0);
    mapped(e, L(0), MMU_READ, 3);
    assert_int_equal(lookup(e, 0x00802000u) & SHADOW_TRACKED, SHADOW_TRACKED);
    /* outside RAM, inside the 4 MiB page */
    assert_int_equal(mapped(e, 0x00BFF000u, MMU_READ, 3),
                     0x003FF000u | SHADOW_P | SHADOW_U | SHADOW_WU | SHADOW_WS);
    /* reserved bit 13 */
    struct mmu_fault_result r = fault(e, 0x00C00000u, MMU_READ, 3);
    assert_int_equal(r.status, MMU_PAGE_FAULT);
    assert_int_equal(r.error, MMU_PF_P | MMU_PF_RSVD | MMU_PF_U);
    /* the same PDE without PSE references a page table at frame 0 (zero: not present) */
    set_cr(e, PG_ON, PD1, 0, NULL);
    r = fault(e, 0x00805000u, MMU_READ, 3);
    assert_int_equal(r.status, MMU_PAGE_FAULT);
    assert_int_equal(r.error, MMU_PF_U);
    /* a store to the 4 MiB PDE drops its split shadow PT */
    set_cr(e, PG_ON, PD1, CPU_CR4_PSE, NULL);
    assert_true(lookup(e, 0x00805000u) != 0);
    struct mmu_write_result w = gwrite(e, PD1 + 8, 4, 0x00000000u | URW | MMU_E_PS | MMU_E_A);
    assert_int_equal(w.dropped, 4);
    assert_int_equal(mapped(e, 0x00805000u, MMU_READ, 3), F(5) | SHADOW_P | SHADOW_U);
    /* D of a 4 MiB page lives in the PDE */
    mapped(e, 0x00805000u, MMU_WRITE, 3);
    assert_int_equal(get32(e, PD1 + 8), URW | MMU_E_PS | MMU_E_A | MMU_E_D);
    env_free(e);
}

static void test_code_tracking(void **state)
{
    struct env *e = standard_guest(16, 0);
    set_cr(e, PG_ON, PD1, 0, NULL);
    assert_int_equal(mapped(e, L(1), MMU_WRITE, 3) & SHADOW_TRACKED, 0);
    uint32_t epoch = mmu_epoch(&e->m);
    assert_int_equal(mmu_track_code(&e->m, F(11) + 0x123, true), 1);
    check(e);
    assert_int_equal(mmu_epoch(&e->m), epoch + 1);
    uint32_t ent = lookup(e, L(1));
    assert_true(ent & SHADOW_TRACKED);
    assert_int_equal(shadow_classify(ent, MMU_WRITE, 3), SHADOW_ASK_WRITE);
    struct mmu_write_result w = gwrite(e, F(11) + 0x40, 4, 0x90909090u);
    assert_true(w.code);
    assert_int_equal(w.dropped, 0);
    assert_int_equal(get32(e, F(11) + 0x40), 0x90909090u);
    /* new mappings of a code page are tracked from the start */
    mmu_invlpg(&e->m, L(1));
    assert_true(mapped(e, L(1), MMU_READ, 3) & SHADOW_TRACKED);
    assert_int_equal(mmu_track_code(&e->m, F(11), false), 0);
    check(e);
    assert_int_equal(lookup(e, L(1)) & SHADOW_TRACKED, 0);
    /* a page-table page stays tracked when its code mark goes */
    mapped(e, L(2), MMU_READ, 0);
    assert_int_equal(mmu_track_code(&e->m, PTA, true), 0); /* already tracked: nothing gained */
    assert_int_equal(mmu_track_code(&e->m, PTA, false), 0);
    check(e);
    assert_true(lookup(e, L(2)) & SHADOW_TRACKED);
    w = gwrite(e, PTA + 0x800, 4, 1);
    assert_false(w.code);
    assert_int_equal(mmu_track_code(&e->m, 64 * 4096, true), -EINVAL);
    env_free(e);
}

static void test_paging_off_drops_everything(void **state)
{
    struct env *e = standard_guest(16, 0);
    put32(e, PD2 + 4, PTA | URW);
    set_cr(e, PG_ON, PD2, 0, NULL);
    mapped(e, L(0), MMU_READ, 0);
    set_cr(e, PG_ON, PD1, 0, NULL);
    mapped(e, L(0), MMU_READ, 0);
    mapped(e, L(2), MMU_READ, 0);
    bool flush;
    assert_int_equal(set_cr(e, CPU_CR0_PE, PD1, 0, &flush), 0);
    assert_true(flush);
    for (uint32_t r = 0; r < e->m.nroots; r++)
        assert_false(e->m.roots[r].used);
    assert_int_equal(e->m.free_count, e->m.pool_pages);
    struct mmu_fault_result fr;
    assert_int_equal(mmu_fault(&e->m, L(0), MMU_READ, 0, &fr), -EINVAL);
    /* PG without PE is not paging either */
    assert_int_equal(set_cr(e, CPU_CR0_PG, PD1, 0, NULL), 0);
    set_cr(e, PG_ON, PD1, 0, NULL);
    assert_int_equal(lookup(e, L(0)), 0);
    env_free(e);
}

static void test_pool_exhaustion(void **state)
{
    /* 3 pool pages: one PD and two tables at most */
    struct env *e = standard_guest(4, 0);
    for (uint32_t i = 1; i < 9; i++)
        put32(e, PD1 + 4 * i, PTA | URW);
    set_cr(e, PG_ON, PD1, 0, NULL);
    for (uint32_t i = 1; i < 9; i++) {
        uint32_t lin = (i << 22) | 0x1000;
        assert_int_equal(mapped(e, lin, MMU_READ, 3) & SHADOW_FRAME, F(11));
    }
    assert_true(lookup(e, (8u << 22) | 0x1000) != 0);
    /* a second root takes the pool from the first */
    put32(e, PD2 + 4, PTA | URW);
    set_cr(e, PG_ON, PD2, 0, NULL);
    mapped(e, L(0), MMU_READ, 0);
    mapped(e, 0x00400000u, MMU_READ, 0);
    put32(e, PD2 + 8, PTA | URW);
    mapped(e, 0x00800000u, MMU_READ, 0);
    assert_true(e->m.stats.evicted_roots >= 1);
    env_free(e);
}

static void test_hostile_tables(void **state)
{
    struct env *e = standard_guest(16, 0);
    /* directory outside RAM: all-ones PDE -> all-ones PTE -> frame 0xFFFFF000, never tracked */
    set_cr(e, PG_ON, 0x80000000u, 0, NULL);
    assert_int_equal(mapped(e, 0x12345000u, MMU_WRITE, 3),
                     0xFFFFF000u | SHADOW_P | SHADOW_U | SHADOW_WU | SHADOW_WS);
    set_cr(e, PG_ON, 0x80000000u, CPU_CR4_PSE, NULL);
    struct mmu_fault_result r = fault(e, 0x12345000u, MMU_READ, 0);
    assert_int_equal(r.error, MMU_PF_P | MMU_PF_RSVD);

    /* recursive directory: PD1[1023] -> PD1 */
    put32(e, PD1 + 4 * 1023, PD1 | URW);
    set_cr(e, PG_ON, PD1, 0, NULL);
    mapped(e, L(0), MMU_READ, 3); /* builds a shadow PT from PTA: PTA is tracked */
    assert_int_equal(mapped(e, 0xFFC01000u, MMU_READ, 3) & ~SHADOW_FLAGS, PTA); /* PD1[1] as PTE */
    assert_true(lookup(e, 0xFFC01000u) & SHADOW_TRACKED);
    assert_int_equal(mapped(e, 0xFFFFF000u, MMU_WRITE, 3),
                     PD1 | SHADOW_P | SHADOW_U | SHADOW_WU | SHADOW_WS | SHADOW_TRACKED);
    assert_int_equal(get32(e, PD1 + 4 * 1023), PD1 | URW | MMU_E_A | MMU_E_D);
    /* one store to PD1[1] changes a PDE (drops the shadow PT for index 1) and a "PTE" of the
     * recursive region (drops 0xFFC01000) */
    struct mmu_write_result w = gwrite(e, PD1 + 4, 4, PTB | URW);
    assert_int_equal(w.dropped, 2);
    assert_int_equal(lookup(e, L(0)) | lookup(e, 0xFFC01000u), 0);
    assert_true(lookup(e, 0xFFFFF000u) != 0);
    /* a PDE that is its own PTE */
    put32(e, PD1 + 4 * 5, PD1 | MMU_E_P | MMU_E_RW);
    assert_int_equal(mapped(e, (5u << 22) | (5u << 12), MMU_WRITE, 0),
                     PD1 | SHADOW_P | SHADOW_WS | SHADOW_TRACKED);
    assert_int_equal(get32(e, PD1 + 4 * 5), PD1 | MMU_E_P | MMU_E_RW | MMU_E_A | MMU_E_D);
    /* page table outside RAM, and a PTE into MMIO space: mapped, untracked, never indexed */
    put32(e, PD1 + 4 * 6, 0x7FFFF000u | URW);
    assert_int_equal(mapped(e, 6u << 22, MMU_READ, 3) & SHADOW_FRAME, 0xFFFFF000u);
    put32(e, PTA + 4 * 7, 0xFEC00000u | URW | MMU_E_A | MMU_E_D);
    put32(e, PD1 + 4 * 7, PTA | URW);
    assert_int_equal(mapped(e, (7u << 22) | (7u << 12), MMU_WRITE, 3),
                     0xFEC00000u | SHADOW_P | SHADOW_U | SHADOW_WU | SHADOW_WS);
    /* reserved-bit PTE appearing behind the MMU's back: the fault reports RSVD and removes the
     * stale entry */
    set_cr(e, PG_ON, PD1, CPU_CR4_PSE, NULL);
    mapped(e, (7u << 22) | (5u << 12), MMU_READ, 3);
    put32(e, PTA + 4 * 5, get32(e, PTA + 4 * 5) | MMU_E_PAT);
    r = fault(e, (7u << 22) | (5u << 12), MMU_READ, 3);
    assert_int_equal(r.error, MMU_PF_P | MMU_PF_RSVD | MMU_PF_U);
    assert_int_equal(lookup(e, (7u << 22) | (5u << 12)), 0);
    env_free(e);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 16;
}

static void test_lookup_bounds(void **state)
{
    const size_t size = 8 * 4096;
    uint8_t *region = malloc(size); /* exact size: ASan catches any read past it */
    uint32_t ent;
    uint64_t seed = 12345;
    assert_non_null(region);
    memset(region, 0, size);
    assert_int_equal(shadow_lookup(NULL, size, 4096, 0, &ent), -EPROTO);
    assert_int_equal(shadow_lookup(region, size, 0, 0, &ent), -EPROTO);
    assert_int_equal(shadow_lookup(region, size, size, 0, &ent), -EPROTO);
    assert_int_equal(shadow_lookup(region, size, 4100, 0, &ent), -EPROTO);
    assert_int_equal(shadow_lookup(region, size, 0xFFFFF000u, 0, &ent), -EPROTO);
    assert_int_equal(shadow_lookup(region, 100, 4096, 0, &ent), -EPROTO);
    assert_int_equal(shadow_lookup(region + 1, size - 4, 4096, 0, &ent), -EPROTO);
    /* the last page as the root, pointing past the end, at a misaligned table, at page 0 */
    uint32_t words[] = {(uint32_t)size, 0x2001u, 0xFFFFF000u, 4096u};
    for (unsigned k = 0; k < 4; k++)
        memcpy(region + size - 4096 + 4 * k, &words[k], 4);
    assert_int_equal(shadow_lookup(region, size, size - 4096, 0u << 22, &ent), -EPROTO);
    assert_int_equal(shadow_lookup(region, size, size - 4096, 1u << 22, &ent), -EPROTO);
    assert_int_equal(shadow_lookup(region, size, size - 4096, 2u << 22, &ent), -EPROTO);
    assert_int_equal(shadow_lookup(region, size, size - 4096, 3u << 22, &ent), SHADOW_MISS);
    assert_int_equal(shadow_lookup(region, size, size - 4096, 4u << 22, &ent), SHADOW_MISS);
    uint32_t e1 = 0x12345000u | SHADOW_P | SHADOW_U;
    memcpy(region + 4096 + 4 * 7, &e1, 4);
    assert_int_equal(shadow_lookup(region, size, size - 4096, (3u << 22) | (7u << 12), &ent),
                     SHADOW_HIT);
    assert_int_equal(ent, e1);
    /* a not-present entry with other bits is a miss */
    e1 = 0x12345000u | SHADOW_WS;
    memcpy(region + 4096 + 4 * 8, &e1, 4);
    assert_int_equal(shadow_lookup(region, size, size - 4096, (3u << 22) | (8u << 12), &ent),
                     SHADOW_MISS);
    assert_int_equal(ent, 0);
    /* a region full of garbage (a compromised MMU): any answer, but no stray read */
    unsigned hits = 0, protos = 0;
    for (size_t i = 0; i < size; i += 4) {
        uint32_t v = (uint32_t)lcg(&seed);
        if ((v & 3) == 0)
            v = ((v >> 2) % 9) * 4096; /* often a plausible offset */
        memcpy(region + i, &v, 4);
    }
    for (unsigned i = 0; i < 200000; i++) {
        uint32_t root = (uint32_t)lcg(&seed);
        if (i & 1)
            root = (root % 9) * 4096;
        int rc = shadow_lookup(region, size, root, (uint32_t)lcg(&seed), &ent);
        assert_true(rc == SHADOW_HIT || rc == SHADOW_MISS || rc == -EPROTO);
        hits += rc == SHADOW_HIT;
        protos += rc == -EPROTO;
        if (rc == SHADOW_HIT)
            assert_true(ent & SHADOW_P);
    }
    assert_true(hits > 0 && protos > 0);
    free(region);
}

/* shadow_classify against the rules in shadow.h, for every flag combination. */
static void test_classify_table(void **state)
{
    for (uint32_t flags = 0; flags <= SHADOW_FLAGS; flags++) {
        for (int acc = MMU_READ; acc <= MMU_FETCH; acc++) {
            for (unsigned cpl = 0; cpl < 4; cpl++) {
                bool user = cpl == 3;
                enum shadow_verdict want;
                if (!(flags & SHADOW_P))
                    want = SHADOW_ASK_FAULT;
                else if (acc == MMU_WRITE)
                    want = !(flags & (user ? SHADOW_WU : SHADOW_WS)) ? SHADOW_ASK_FAULT
                           : (flags & SHADOW_TRACKED)                ? SHADOW_ASK_WRITE
                                                                     : SHADOW_GO;
                else
                    want = (user && !(flags & SHADOW_U)) ? SHADOW_ASK_FAULT : SHADOW_GO;
                assert_int_equal(shadow_classify(0xABCDE000u | flags, acc, cpl), want);
            }
        }
    }
}

/* The checker must notice: a store that escaped tracking, a forged permission, a broken
 * reverse map, a wrong tracking mark. */
static void test_checker_detects_corruption(void **state)
{
    char why[400];
    struct env *e = standard_guest(16, 0);
    set_cr(e, PG_ON, PD1, 0, NULL);
    mapped(e, L(0), MMU_READ, 3);
    mapped(e, L(2), MMU_READ, 0);

    put32(e, PTA, F(30) | URW | MMU_E_A); /* escaped store */
    assert_int_equal(mmu_check(&e->m, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "frame"));
    put32(e, PTA, F(10) | URW | MMU_E_A);
    check(e);

    uint32_t root = mmu_active_root(&e->m), pt, ent;
    memcpy(&pt, e->region + root + 4, 4);
    memcpy(&ent, e->region + pt, 4);
    uint32_t forged = ent | SHADOW_WU | SHADOW_WS; /* D is clear in the guest PTE */
    memcpy(e->region + pt, &forged, 4);
    assert_int_equal(mmu_check(&e->m, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "writable"));
    memcpy(e->region + pt, &ent, 4);
    check(e);

    uint32_t t;
    memcpy(&t, e->region + pt + 8, 4);
    t &= ~SHADOW_TRACKED;
    memcpy(e->region + pt + 8, &t, 4);
    assert_int_equal(mmu_check(&e->m, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "TRACKED"));
    t |= SHADOW_TRACKED;
    memcpy(e->region + pt + 8, &t, 4);
    check(e);

    uint32_t head = e->m.rmap_head[10];
    e->m.rmap_head[10] = MMU_NIL;
    assert_int_equal(mmu_check(&e->m, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "reverse map"));
    e->m.rmap_head[10] = head;
    check(e);

    e->m.pt_count[2]++;
    assert_int_equal(mmu_check(&e->m, why, sizeof(why)), -1);
    e->m.pt_count[2]--;
    check(e);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_arguments),
        cmocka_unit_test(test_fill_permissions_and_dirty),
        cmocka_unit_test(test_tracking_of_table_pages),
        cmocka_unit_test(test_guest_write_drops_exactly),
        cmocka_unit_test(test_cr3_root_caching),
        cmocka_unit_test(test_lru_eviction_and_untracking),
        cmocka_unit_test(test_invlpg),
        cmocka_unit_test(test_global_pages_and_pge),
        cmocka_unit_test(test_write_protect),
        cmocka_unit_test(test_big_pages),
        cmocka_unit_test(test_code_tracking),
        cmocka_unit_test(test_paging_off_drops_everything),
        cmocka_unit_test(test_pool_exhaustion),
        cmocka_unit_test(test_hostile_tables),
        cmocka_unit_test(test_lookup_bounds),
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_checker_detects_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
