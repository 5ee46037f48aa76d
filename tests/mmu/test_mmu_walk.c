/*
 * test_mmu_walk.c - the reference page walker (mmu/walk.c) against tables written from the SDM:
 * every combination of P/RW/US/PS/G in the PDE and P/RW/US/G in the PTE, initial A/D, CPL, CR0.WP,
 * CR4.PSE, CR4.PGE and access type; reserved bits; accessed/dirty updates; hostile tables
 * (outside RAM, self-referencing, changing under the walker).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "mmu/walk.h"
#include "vcpu/cpu.h"

#define PG_ON (CPU_CR0_PG | CPU_CR0_PE)
#define RAM_PAGES 4u
#define PT_BASE 0x0000u  /* frame 0: also the base of the 4 MiB page, so PS can be toggled */
#define PD_BASE 0x1000u
#define DATA_BASE 0x2000u
#define LIN 0x00405123u  /* PD index 1, PT index 5, offset 0x123 */
#define PDE_ADDR (PD_BASE + 4u)
#define PTE_ADDR (PT_BASE + 5u * 4u)

/*
 * SDM Vol. 3A 4.6.1 "Determination of Access Rights" for 32-bit paging with CR4.SMEP = CR4.SMAP
 * = 0 (this model has neither), restated as a table. U/S and R/W are the logical AND of the flags
 * in every paging-structure entry controlling the translation (the PDE of a 4 MiB page; the PDE
 * and the PTE of a 4 KiB page). Fetches follow the read column: without NX (IA32_EFER.NXE is
 * not available with 32-bit paging) a fetch needs what a read needs.
 */
struct rights_row {
    uint8_t user, wp, us, rw; /* user: CPL 3; wp: CR0.WP */
    uint8_t read, write, fetch;
};

static const struct rights_row sdm_rights[16] = {
    /* supervisor-mode accesses: reads and fetches from any valid translation; writes anywhere
     * with CR0.WP = 0, only where R/W = 1 with CR0.WP = 1 */
    {0, 0, 0, 0, 1, 1, 1},
    {0, 0, 0, 1, 1, 1, 1},
    {0, 0, 1, 0, 1, 1, 1},
    {0, 0, 1, 1, 1, 1, 1},
    {0, 1, 0, 0, 1, 0, 1},
    {0, 1, 0, 1, 1, 1, 1},
    {0, 1, 1, 0, 1, 0, 1},
    {0, 1, 1, 1, 1, 1, 1},
    /* user-mode accesses: U/S = 1 for reads and fetches, U/S = R/W = 1 for writes, CR0.WP
     * irrelevant */
    {1, 0, 0, 0, 0, 0, 0},
    {1, 0, 0, 1, 0, 0, 0},
    {1, 0, 1, 0, 1, 0, 1},
    {1, 0, 1, 1, 1, 1, 1},
    {1, 1, 0, 0, 0, 0, 0},
    {1, 1, 0, 1, 0, 0, 0},
    {1, 1, 1, 0, 1, 0, 1},
    {1, 1, 1, 1, 1, 1, 1},
};

static uint8_t *new_ram(size_t pages)
{
    uint8_t *ram = aligned_alloc(4096, pages * 4096);
    assert_non_null(ram);
    memset(ram, 0, pages * 4096);
    return ram;
}

static uint32_t get32(const uint8_t *ram, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, ram + addr, 4);
    return v;
}

static void put32(uint8_t *ram, uint32_t addr, uint32_t v)
{
    memcpy(ram + addr, &v, 4);
}

static int walk(uint8_t *ram, size_t size, uint32_t cr0, uint32_t cr3, uint32_t cr4, uint32_t lin,
                enum mmu_access acc, unsigned cpl, bool set_ad, struct mmu_walk_info *w)
{
    struct mmu_walk_args a = {ram, size, cr0, cr3, cr4, lin, acc, cpl, set_ad};
    return mmu_walk_ex(&a, w);
}

struct outcome_counts {
    unsigned ok, not_present, protection;
};

static void table_case(uint8_t *ram, uint32_t pde, uint32_t pte, unsigned cpl, bool wp,
                       enum mmu_access acc, bool pse, bool pge, struct outcome_counts *seen)
{
    const bool user = cpl == 3, write = acc == MMU_WRITE;
    const bool big = pse && (pde & MMU_E_PS);
    const uint32_t cr0 = PG_ON | (wp ? CPU_CR0_WP : 0);
    const uint32_t cr4 = (pse ? CPU_CR4_PSE : 0) | (pge ? CPU_CR4_PGE : 0);
    const uint32_t base_err = (write ? MMU_PF_W : 0) | (user ? MMU_PF_U : 0);

    /* expectation from the SDM table */
    bool translates = (pde & MMU_E_P) && (big || (pte & MMU_E_P));
    bool allowed = false;
    if (translates) {
        uint32_t both = big ? pde : pde & pte;
        const struct rights_row *row =
            &sdm_rights[user * 8 + wp * 4 + !!(both & MMU_E_US) * 2 + !!(both & MMU_E_RW)];
        assert_int_equal(row->user, user);
        assert_int_equal(row->wp, wp);
        allowed = acc == MMU_READ ? row->read : acc == MMU_WRITE ? row->write : row->fetch;
    }
    uint32_t want_err = translates ? base_err | MMU_PF_P : base_err;
    uint32_t want_phys = big ? (LIN & 0x003FFFFFu) : DATA_BASE | (LIN & 0xFFFu);

    for (int set_ad = 0; set_ad <= 1; set_ad++) {
        struct mmu_walk_info w;
        put32(ram, PDE_ADDR, pde);
        put32(ram, PTE_ADDR, pte);
        int rc = walk(ram, RAM_PAGES * 4096, cr0, PD_BASE, cr4, LIN, acc, cpl, set_ad, &w);
        uint32_t pde_after = pde, pte_after = pte;
        if (allowed) {
            assert_int_equal(rc, MMU_WALK_OK);
            assert_int_equal(w.phys, want_phys);
            assert_int_equal(w.big, big);
            assert_int_equal(w.global, ((big ? pde : pte) & MMU_E_G) != 0);
            if (set_ad) {
                /* SDM 4.8: A in every entry used, D in the entry that maps the page on a write */
                pde_after |= MMU_E_A | (big && write ? MMU_E_D : 0);
                if (!big)
                    pte_after |= MMU_E_A | (write ? MMU_E_D : 0);
            }
            assert_int_equal(w.dirty, ((big ? pde_after : pte_after) & MMU_E_D) != 0);
            seen->ok++;
        } else {
            assert_int_equal(rc, MMU_WALK_PF);
            assert_int_equal(w.pf_error, want_err);
            if (translates)
                seen->protection++;
            else
                seen->not_present++;
        }
        /* a faulting walk, or one without set_ad, writes nothing */
        assert_int_equal(get32(ram, PDE_ADDR), pde_after);
        assert_int_equal(get32(ram, PTE_ADDR), pte_after);
    }
}

/* Every combination: PDE P/RW/US/PS/G, PTE P/RW/US/G, initial A and D in both, CPL 0-3, CR0.WP,
 * access, CR4.PSE, CR4.PGE. */
static void test_sdm_table_all_combinations(void **state)
{
    uint8_t *ram = new_ram(RAM_PAGES);
    struct outcome_counts seen = {0};
    unsigned cases = 0;

    /* everything else in RAM holds a pattern that must survive every walk */
    for (uint32_t a = 0; a < RAM_PAGES * 4096; a += 4)
        put32(ram, a, 0xA5000000u | a);
    for (unsigned pdeb = 0; pdeb < 32; pdeb++)
        for (unsigned pteb = 0; pteb < 16; pteb++)
            for (unsigned ad = 0; ad < 16; ad++) {
                uint32_t pde = PT_BASE | ((pdeb & 1) ? MMU_E_P : 0) | ((pdeb & 2) ? MMU_E_RW : 0) |
                               ((pdeb & 4) ? MMU_E_US : 0) | ((pdeb & 8) ? MMU_E_PS : 0) |
                               ((pdeb & 16) ? MMU_E_G : 0) | ((ad & 1) ? MMU_E_A : 0) |
                               ((ad & 2) ? MMU_E_D : 0);
                uint32_t pte = DATA_BASE | ((pteb & 1) ? MMU_E_P : 0) | ((pteb & 2) ? MMU_E_RW : 0) |
                               ((pteb & 4) ? MMU_E_US : 0) | ((pteb & 8) ? MMU_E_G : 0) |
                               ((ad & 4) ? MMU_E_A : 0) | ((ad & 8) ? MMU_E_D : 0);
                for (unsigned cpl = 0; cpl < 4; cpl++)
                    for (int wp = 0; wp <= 1; wp++)
                        for (int acc = MMU_READ; acc <= MMU_FETCH; acc++)
                            for (int pse = 0; pse <= 1; pse++)
                                for (int pge = 0; pge <= 1; pge++) {
                                    table_case(ram, pde, pte, cpl, wp, (enum mmu_access)acc, pse,
                                               pge, &seen);
                                    cases++;
                                }
            }
    assert_int_equal(cases, 32u * 16 * 16 * 4 * 2 * 3 * 2 * 2);
    assert_true(seen.ok > 0 && seen.not_present > 0 && seen.protection > 0);
    for (uint32_t a = 0; a < RAM_PAGES * 4096; a += 4) {
        if (a != PDE_ADDR && a != PTE_ADDR)
            assert_int_equal(get32(ram, a), 0xA5000000u | a);
    }
    free(ram);
}

/* SDM 4.3 for a processor without PSE-36 and PAT: with CR4.PSE = 1, bits 21:12 of a 4 MiB PDE
 * and bit 7 of a PTE are reserved; with CR4.PSE = 0 nothing is. RSVD comes with P, before any
 * access-rights check, and is not reported for a not-present entry. */
static void test_reserved_bits(void **state)
{
    uint8_t *ram = new_ram(RAM_PAGES);
    struct mmu_walk_info w;
    const uint32_t cr4 = CPU_CR4_PSE;

    for (unsigned bit = 12; bit <= 21; bit++) {
        /* supervisor-only 4 MiB page, user write: reserved wins over the protection fault */
        put32(ram, PDE_ADDR, MMU_E_P | MMU_E_PS | (1u << bit));
        assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, cr4, LIN, MMU_WRITE, 3, true, &w),
                         MMU_WALK_PF);
        assert_int_equal(w.pf_error, MMU_PF_P | MMU_PF_RSVD | MMU_PF_W | MMU_PF_U);
        assert_int_equal(get32(ram, PDE_ADDR), MMU_E_P | MMU_E_PS | (1u << bit));
        assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, cr4, LIN, MMU_FETCH, 0, true, &w),
                         MMU_WALK_PF);
        assert_int_equal(w.pf_error, MMU_PF_P | MMU_PF_RSVD);
        /* without PSE the same PDE references a page table (bits 31:12) */
        uint32_t pt = 1u << bit;
        if (pt < 16384)
            put32(ram, pt + 5 * 4, 0);
        assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, MMU_READ, 0, false, &w),
                         pt < 16384 ? MMU_WALK_PF : MMU_WALK_OK);
        if (pt < 16384)
            assert_int_equal(w.pf_error, 0); /* the PTE it finds in RAM is zero: not present */
        else
            assert_int_equal(w.phys, 0xFFFFF123u); /* PT outside RAM: all-ones PTE */
        /* not present: nothing is reserved */
        put32(ram, PDE_ADDR, MMU_E_PS | (1u << bit));
        assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, cr4, LIN, MMU_READ, 0, true, &w),
                         MMU_WALK_PF);
        assert_int_equal(w.pf_error, 0);
    }
    /* bits 31:22 of a 4 MiB PDE are address bits, 11:8 and 6:0 flags or ignored */
    put32(ram, PDE_ADDR, 0xFFC00000u | 0xFFFu);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, cr4, LIN, MMU_WRITE, 3, false, &w),
                     MMU_WALK_OK);
    assert_int_equal(w.phys, 0xFFC00000u | (LIN & 0x3FFFFFu));

    /* PTE bit 7 (PAT) */
    put32(ram, PDE_ADDR, PT_BASE | MMU_E_P | MMU_E_RW | MMU_E_US);
    put32(ram, PTE_ADDR, DATA_BASE | MMU_E_P | MMU_E_PAT);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, cr4, LIN, MMU_READ, 3, true, &w),
                     MMU_WALK_PF);
    assert_int_equal(w.pf_error, MMU_PF_P | MMU_PF_RSVD | MMU_PF_U);
    assert_int_equal(get32(ram, PDE_ADDR) & MMU_E_A, 0); /* faulting walk: no A anywhere */
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, MMU_READ, 3, true, &w),
                     MMU_WALK_PF); /* PSE off: bit 7 ignored, but U/S = 0 in the PTE */
    assert_int_equal(w.pf_error, MMU_PF_P | MMU_PF_U);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, MMU_READ, 0, true, &w),
                     MMU_WALK_OK);
    assert_int_equal(w.phys, DATA_BASE | 0x123);
    /* not-present PTE with bit 7: P = 0, no RSVD */
    put32(ram, PTE_ADDR, DATA_BASE | MMU_E_PAT);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, cr4, LIN, MMU_WRITE, 0, true, &w),
                     MMU_WALK_PF);
    assert_int_equal(w.pf_error, MMU_PF_W);
    /* a 4 KiB PDE has no reserved bits: bit 6 and bits 8-11 are ignored */
    put32(ram, PDE_ADDR, PT_BASE | MMU_E_P | MMU_E_D | MMU_E_G | 0xE00u);
    put32(ram, PTE_ADDR, DATA_BASE | MMU_E_P);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, cr4, LIN, MMU_READ, 0, false, &w),
                     MMU_WALK_OK);
    free(ram);
}

/* Accessed/dirty: set only when they change, only for allowed accesses, A on both levels and D
 * only on the entry that maps the page; never anything on a faulting walk. */
static void test_accessed_dirty(void **state)
{
    uint8_t *ram = new_ram(RAM_PAGES);
    struct mmu_walk_info w;

    put32(ram, PDE_ADDR, PT_BASE | MMU_E_P | MMU_E_RW | MMU_E_US);
    put32(ram, PTE_ADDR, DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_US);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, MMU_FETCH, 3, true, &w), 0);
    assert_int_equal(get32(ram, PDE_ADDR), PT_BASE | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A);
    assert_int_equal(get32(ram, PTE_ADDR), DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A);
    assert_false(w.dirty);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, MMU_WRITE, 3, true, &w), 0);
    /* D in the PTE only: bit 6 of a PDE that references a page table is ignored, never set */
    assert_int_equal(get32(ram, PDE_ADDR), PT_BASE | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A);
    assert_int_equal(get32(ram, PTE_ADDR),
                     DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A | MMU_E_D);
    assert_true(w.dirty);

    /* protection fault: A stays clear in both entries (no write at all) */
    put32(ram, PDE_ADDR, PT_BASE | MMU_E_P | MMU_E_RW);
    put32(ram, PTE_ADDR, DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_US);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, MMU_READ, 3, true, &w), 1);
    assert_int_equal(w.pf_error, MMU_PF_P | MMU_PF_U);
    assert_int_equal(get32(ram, PDE_ADDR), PT_BASE | MMU_E_P | MMU_E_RW);
    assert_int_equal(get32(ram, PTE_ADDR), DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_US);
    /* PTE not present: the present PDE does not get A either */
    put32(ram, PDE_ADDR, PT_BASE | MMU_E_P | MMU_E_RW | MMU_E_US);
    put32(ram, PTE_ADDR, DATA_BASE);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, MMU_WRITE, 0, true, &w), 1);
    assert_int_equal(get32(ram, PDE_ADDR), PT_BASE | MMU_E_P | MMU_E_RW | MMU_E_US);
    /* supervisor write to a read-only page with WP = 0 is allowed and sets D */
    put32(ram, PTE_ADDR, DATA_BASE | MMU_E_P);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, MMU_WRITE, 0, true, &w), 0);
    assert_int_equal(get32(ram, PTE_ADDR), DATA_BASE | MMU_E_P | MMU_E_A | MMU_E_D);
    assert_true(w.dirty && !w.user_ok && !w.user_write_ok && w.sup_write_ok);

    /* 4 MiB page: A and D both in the PDE */
    put32(ram, PDE_ADDR, 0x00400000u | MMU_E_P | MMU_E_PS | MMU_E_RW);
    assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, CPU_CR4_PSE, LIN, MMU_WRITE, 0, true, &w), 0);
    assert_int_equal(get32(ram, PDE_ADDR),
                     0x00400000u | MMU_E_P | MMU_E_PS | MMU_E_RW | MMU_E_A | MMU_E_D);
    assert_int_equal(w.phys, 0x00400000u | (LIN & 0x3FFFFFu));
    free(ram);
}

/* "Only if it changes": with every A/D already set, a walk with set_ad must not store at all,
 * which a read-only mapping of RAM proves (a store would kill the test). */
static void test_no_store_when_bits_set(void **state)
{
    uint8_t *ram = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct mmu_walk_info w;
    assert_true(ram != MAP_FAILED);
    put32(ram, PDE_ADDR, PT_BASE | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A);
    put32(ram, PTE_ADDR, DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A | MMU_E_D);
    put32(ram, PD_BASE + 8, 0x00800000u | MMU_E_P | MMU_E_PS | MMU_E_RW | MMU_E_A | MMU_E_D);
    assert_int_equal(mprotect(ram, 16384, PROT_READ), 0);
    for (int acc = MMU_READ; acc <= MMU_FETCH; acc++) {
        assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, acc, 3, true, &w), 0);
        assert_int_equal(walk(ram, 16384, PG_ON, PD_BASE, CPU_CR4_PSE, 0x00812345u, acc, 0, true,
                              &w), 0);
        assert_int_equal(w.phys, 0x00812345u);
    }
    munmap(ram, 16384);
}

static void test_paging_off_and_arguments(void **state)
{
    uint8_t *ram = new_ram(RAM_PAGES);
    uint32_t phys = 0, err = 0;
    /* paging off (PG clear, or PG without PE): linear is physical, RAM is not touched */
    assert_int_equal(mmu_walk(NULL, 0, 0, 0, 0, 0xDEADBEEF, MMU_WRITE, 3, true, &phys, &err), 0);
    assert_int_equal(phys, 0xDEADBEEF);
    assert_int_equal(mmu_walk(NULL, 0, CPU_CR0_PG, 0, 0, 0x1234, MMU_READ, 0, true, &phys, &err),
                     0);
    assert_int_equal(phys, 0x1234);
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, 0, MMU_READ, 4, false, &phys, &err),
                     -EINVAL);
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, 0, (enum mmu_access)3, 0, false,
                              &phys, &err), -EINVAL);
    assert_int_equal(mmu_walk(ram + 1, 16380, PG_ON, PD_BASE, 0, 0, MMU_READ, 0, false, &phys,
                              &err), -EINVAL);
    /* a not-present PDE: error code bits W and U describe the access, not the entry */
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, 0, MMU_WRITE, 3, false, &phys, &err),
                     1);
    assert_int_equal(err, MMU_PF_W | MMU_PF_U);
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, 0, MMU_FETCH, 2, false, &phys, &err),
                     1);
    assert_int_equal(err, 0);
    /* CR3 bits 11:0 (PWT, PCD, ignored) do not move the directory */
    put32(ram, PDE_ADDR, PT_BASE | MMU_E_P);
    put32(ram, PTE_ADDR, DATA_BASE | MMU_E_P);
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE | 0xFFF, 0, LIN, MMU_READ, 0, false,
                              &phys, &err), 0);
    assert_int_equal(phys, DATA_BASE | 0x123);
    assert_int_equal(mmu_entry_read(ram, 16384, PDE_ADDR), PT_BASE | MMU_E_P);
    assert_int_equal(mmu_entry_read(ram, 16384, 16384), 0xFFFFFFFFu);
    assert_int_equal(mmu_entry_read(ram, 16384, PDE_ADDR + 1), 0xFFFFFFFFu);
    assert_int_equal(mmu_entry_read(NULL, 0, 0), 0xFFFFFFFFu);
    free(ram);
}

/* Tables outside RAM read as all-ones: P RW US A D PS G and every reserved bit set. */
static void test_tables_outside_ram(void **state)
{
    uint8_t *ram = new_ram(RAM_PAGES);
    uint8_t *copy = new_ram(RAM_PAGES);
    uint32_t phys = 0, err = 0;

    memset(ram, 0x5A, 16384);
    memcpy(copy, ram, 16384);
    /* CR3 far outside RAM, no PSE: PDE all-ones -> PT at 0xFFFFF000 -> PTE all-ones -> frame
     * 0xFFFFF000 for every address, writable by everyone */
    for (int acc = MMU_READ; acc <= MMU_FETCH; acc++) {
        assert_int_equal(mmu_walk(ram, 16384, PG_ON | CPU_CR0_WP, 0x80000000u, 0, 0x12345678,
                                  acc, 3, true, &phys, &err), 0);
        assert_int_equal(phys, 0xFFFFF678u);
    }
    /* with PSE the all-ones PDE is a 4 MiB page with reserved bits set */
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, 0x80000000u, CPU_CR4_PSE, 0x12345678, MMU_READ,
                              0, true, &phys, &err), 1);
    assert_int_equal(err, MMU_PF_P | MMU_PF_RSVD);
    /* a PDE in RAM pointing at a PT outside it: the PTE reads all-ones (bit 7 reserved w/ PSE) */
    put32(ram, PDE_ADDR, 0x7FFFF000u | MMU_E_P | MMU_E_RW | MMU_E_US);
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, MMU_WRITE, 3, true, &phys, &err),
                     0);
    assert_int_equal(phys, 0xFFFFF123u);
    assert_int_equal(get32(ram, PDE_ADDR), 0x7FFFF000u | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A);
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, CPU_CR4_PSE, LIN, MMU_READ, 0, true,
                              &phys, &err), 1);
    assert_int_equal(err, MMU_PF_P | MMU_PF_RSVD);
    /* the last entry of RAM, and a RAM size that cuts an entry in half */
    put32(copy, PDE_ADDR, get32(ram, PDE_ADDR));
    assert_memory_equal(ram, copy, 16384);
    put32(ram, PD_BASE + 4 * 1023, 0x3000u | MMU_E_P);
    put32(ram, 0x3000 + 4 * 1023, 0x2000u | MMU_E_P);
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, 0xFFFFF010u, MMU_READ, 0, true,
                              &phys, &err), 0);
    assert_int_equal(phys, 0x2010u);
    assert_int_equal(mmu_walk(ram, 16382, PG_ON, PD_BASE, 0, 0xFFFFF010u, MMU_READ, 0, true,
                              &phys, &err), 0);
    assert_int_equal(phys, 0xFFFFF010u); /* PTE straddles the end: all-ones */
    /* no RAM at all */
    assert_int_equal(mmu_walk(NULL, 0, PG_ON, 0, 0, 0xABCDE123u, MMU_WRITE, 3, true, &phys, &err),
                     0);
    assert_int_equal(phys, 0xFFFFF123u);
    free(ram);
    free(copy);
}

/* A PDE that points at its own page directory: the directory is its own page table, and for
 * linear (i << 22) | (i << 12) the PDE and the PTE are the same word. */
static void test_self_referencing_directory(void **state)
{
    uint8_t *ram = new_ram(RAM_PAGES);
    uint32_t phys = 0, err = 0;
    const uint32_t self = PD_BASE | MMU_E_P | MMU_E_RW | MMU_E_US;

    put32(ram, PD_BASE + 4 * 1023, self);
    put32(ram, PD_BASE + 4 * 2, DATA_BASE | MMU_E_P | MMU_E_RW);
    /* 0xFFFFF000: PDE 1023 used as PTE 1023: maps the directory itself; A and D land in the one
     * word (the second compare-and-swap sees the first one's A and restarts the walk) */
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, 0xFFFFF008u, MMU_WRITE, 3, true,
                              &phys, &err), 0);
    assert_int_equal(phys, PD_BASE | 8);
    assert_int_equal(get32(ram, PD_BASE + 4 * 1023), self | MMU_E_A | MMU_E_D);
    /* 0xFFC02000: PDE 1023, then PDE 2 of the directory as a PTE: maps the data page, U/S from
     * the directory entry and the "PTE" combined (PDE 2 is supervisor-only) */
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, 0xFFC02004u, MMU_READ, 3, true,
                              &phys, &err), 1);
    assert_int_equal(err, MMU_PF_P | MMU_PF_U);
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, 0xFFC02004u, MMU_READ, 0, true,
                              &phys, &err), 0);
    assert_int_equal(phys, DATA_BASE | 4);
    assert_int_equal(get32(ram, PD_BASE + 8), DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_A);
    /* a PTE that maps its own page table */
    put32(ram, PDE_ADDR, PT_BASE | MMU_E_P | MMU_E_RW);
    put32(ram, PTE_ADDR, PT_BASE | MMU_E_P | MMU_E_RW);
    assert_int_equal(mmu_walk(ram, 16384, PG_ON, PD_BASE, 0, LIN & ~0xFFFu, MMU_WRITE, 0, true,
                              &phys, &err), 0);
    assert_int_equal(phys, PT_BASE);
    assert_int_equal(get32(ram, PTE_ADDR), PT_BASE | MMU_E_P | MMU_E_RW | MMU_E_A | MMU_E_D);
    free(ram);
}

/* Tables changing under the walker: a thread flips a PTE between two mappings (one with A and
 * D clear) while walks with set_ad run. Every walk must give one of the two translations, or
 * -EAGAIN, never anything else; A/D are only ever added to a value the walk saw. */
struct flipper {
    uint8_t *ram;
    volatile int stop;
};

static void *flip(void *arg)
{
    struct flipper *f = arg;
    uint32_t *pte = (uint32_t *)(void *)(f->ram + PTE_ADDR);
    for (unsigned i = 0; !f->stop && i < 2000000; i++) {
        uint32_t v = (i & 1) ? (0x3000u | MMU_E_P | MMU_E_RW | MMU_E_US)
                             : (DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A);
        __atomic_store_n(pte, v, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void test_tables_change_under_walker(void **state)
{
    uint8_t *ram = new_ram(RAM_PAGES);
    struct flipper f = {ram, 0};
    pthread_t t;
    unsigned ok = 0;

    put32(ram, PDE_ADDR, PT_BASE | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A);
    put32(ram, PTE_ADDR, DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_US | MMU_E_A);
    assert_int_equal(pthread_create(&t, NULL, flip, &f), 0);
    for (unsigned i = 0; i < 20000; i++) {
        struct mmu_walk_info w;
        int rc = walk(ram, 16384, PG_ON, PD_BASE, 0, LIN, (i & 1) ? MMU_WRITE : MMU_READ, 3, true,
                      &w);
        if (rc == -EAGAIN)
            continue;
        assert_int_equal(rc, MMU_WALK_OK);
        assert_true(w.phys == (DATA_BASE | 0x123) || w.phys == (0x3000u | 0x123));
        /* the PTE value reported carries the bits this walk set */
        assert_true(w.pte & MMU_E_A);
        ok++;
    }
    f.stop = 1;
    pthread_join(t, NULL);
    assert_true(ok > 0);
    uint32_t last = get32(ram, PTE_ADDR) & ~(MMU_E_A | MMU_E_D);
    assert_true(last == (DATA_BASE | MMU_E_P | MMU_E_RW | MMU_E_US) ||
                last == (0x3000u | MMU_E_P | MMU_E_RW | MMU_E_US));
    free(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdm_table_all_combinations),
        cmocka_unit_test(test_reserved_bits),
        cmocka_unit_test(test_accessed_dirty),
        cmocka_unit_test(test_no_store_when_bits_set),
        cmocka_unit_test(test_paging_off_and_arguments),
        cmocka_unit_test(test_tables_outside_ram),
        cmocka_unit_test(test_self_referencing_directory),
        cmocka_unit_test(test_tables_change_under_walker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
