/*
 * gen_paging.c - the "paging" class: random two-level page tables (with CR4.PSE, 4 MiB pages;
 * without it a PS=1 entry still points to a page table) with random P, R/W, U/S, A, D, G, PWT
 * and PCD bits over 16 MiB at 0x40000000, and one to four accesses from ring 0 or ring 3 with
 * CR0.WP 0 or 1: reads, writes, read-modify-writes, accesses that cross into the next page, and
 * an instruction fetch (a call to a UD2 put in the target page). At ring 0 a case may also
 * rewrite an entry and INVLPG the address before the next access. The record gives the fault,
 * error code and CR2 (or the registers the reads filled); the dumps give the page-directory and
 * page-table entries afterwards (accessed and dirty bits) and the data touched.
 */
#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/sdm.h"

#include <string.h>

#define PDI0 0x100 /* linear 0x40000000 */
#define NPDE 4
#define NPTE 4     /* page-table indices 0..3 (and 4 for accesses that cross) */

struct ptmodel {
    uint32_t pde[NPDE];
    bool pde_set[NPDE];
    uint32_t pte[NPDE][NPTE + 1];
    bool pte_set[NPDE][NPTE + 1];
    bool pse;
};

static uint32_t rand_flags(struct so_rng *r, bool present_likely)
{
    uint32_t f = 0;
    if (!present_likely || !so_one_in(r, 7))
        f |= so_one_in(r, 8) ? 0 : 1; /* P */
    if (so_below(r, 3))
        f |= 2; /* R/W */
    if (so_below(r, 3))
        f |= 4; /* U/S */
    if (so_one_in(r, 4))
        f |= 8; /* PWT */
    if (so_one_in(r, 4))
        f |= 0x10; /* PCD */
    if (so_one_in(r, 3))
        f |= 0x20; /* A */
    if (so_one_in(r, 3))
        f |= 0x40; /* D */
    if (so_one_in(r, 4))
        f |= 0x100; /* G */
    if (so_one_in(r, 4))
        f |= so_rng_u32(r) & 0xE00; /* available bits */
    return f;
}

static uint32_t pt_page(unsigned pdi) { return SO_TEST_PT + (pdi - PDI0) * 0x1000; }

/* the physical address of the page table a PDE points to (a PS=1 entry without PSE too) */
static uint32_t pde_table(uint32_t pde) { return pde & 0xFFFFF000; }

static void make_pde(struct sc *s, struct so_rng *r, struct ptmodel *m, unsigned i)
{
    if (m->pde_set[i])
        return;
    uint32_t f = rand_flags(r, true);
    uint32_t v;
    if (so_one_in(r, 3)) { /* a 4 MiB page (or, without PSE, a table at that address) */
        /* one frame per directory slot: without PSE the frame is read as a page table, and two
         * slots sharing it would alias their entries */
        static const uint32_t frames[NPDE] = {0x00800000, 0x00C00000, 0x01000000, 0x01400000};
        v = frames[i] | f | 0x80;
        if (so_one_in(r, 4))
            v |= 0x1000; /* PAT bit of a 4 MiB entry */
    } else {
        v = pt_page(PDI0 + i) | (f & ~0x40u);
        sc_zero(s, pt_page(PDI0 + i), 0x1000);
    }
    m->pde[i] = v;
    m->pde_set[i] = true;
    sc_poke32(s, SO_PD + (PDI0 + i) * 4, v);
    sc_dump(s, SO_PD + (PDI0 + i) * 4);
    if ((v & 0x80) && !m->pse) /* PS ignored: the 4 MiB frame is read as a page table */
        sc_zero(s, pde_table(v), 0x20);
}

static bool is_large(const struct ptmodel *m, unsigned i) { return m->pse && (m->pde[i] & 0x80); }

static void make_pte(struct sc *s, struct so_rng *r, struct ptmodel *m, unsigned i, unsigned j)
{
    if (is_large(m, i) || m->pte_set[i][j])
        return;
    uint32_t v = SO_TEST_PAGES + so_below(r, 16) * 0x1000 | rand_flags(r, true);
    m->pte[i][j] = v;
    m->pte_set[i][j] = true;
    uint32_t at = pde_table(m->pde[i]) + j * 4;
    sc_poke32(s, at, v);
    sc_dump(s, at);
}

/* physical address behind (i, j, off) as the tables say, whatever the permissions */
static uint32_t phys_of(const struct ptmodel *m, unsigned i, unsigned j, uint32_t off)
{
    if (is_large(m, i))
        return (m->pde[i] & 0xFFC00000) + (j << 12) + off;
    return (m->pte[i][j] & 0xFFFFF000) + off;
}

void gen_paging(struct sc *s, struct so_rng *r)
{
    unsigned cpl = so_below(r, 2) ? 0 : 3;
    sc_set_cpl(s, cpl);
    sc_clear_dumps(s);
    struct ptmodel m;
    memset(&m, 0, sizeof m);
    m.pse = so_below(r, 2);
    bool wp = so_below(r, 2), pge = so_one_in(r, 3);
    s->c.cr3 = SO_PD | (so_one_in(r, 4) ? 0x18 : 0);
    s->c.cr4 = (m.pse ? 0x10 : 0) | (pge ? 0x80 : 0);
    s->c.cr0 = 0x80000011 | (wp ? 0x10000 : 0);
    s->c.eflags = 2 | (so_rng_u32(r) & 0x08D5);
    sc_descf(s, "CPL%u WP%u PSE%u PGE%u:", cpl, wp, m.pse, pge);

    struct emit e;
    em_init(&e, SO_CODE);
    static const unsigned read_regs[] = {R_EBX, R_ESI, R_EDI, R_EBP};
    unsigned naccess = 1 + so_below(r, 4), nreads = 0, ntag = 0;
    bool invlpg_done = false;
    for (unsigned a = 0; a < naccess; a++) {
        unsigned i = so_below(r, NPDE), j = so_below(r, NPTE);
        /* a fetch is the last access; it stays away from the page end, where instruction
         * prefetch may touch the next page's entries (not architectural) */
        unsigned kind = a + 1 == naccess && so_one_in(r, 4) ? 3 : so_below(r, 3);
        bool cross = kind != 3 && so_one_in(r, 6);
        uint32_t off = cross ? 0xFFE - so_below(r, 2) : (so_rng_u32(r) & (kind == 3 ? 0xFC0 : 0xFFC));
        uint32_t lin = (uint32_t)(PDI0 + i) << 22 | j << 12 | off;
        make_pde(s, r, &m, i);
        make_pte(s, r, &m, i, j);
        if (cross)
            make_pte(s, r, &m, i, j + 1);
        /* data the reads find (and UD2 for fetches) wherever the tables point */
        uint32_t phys = phys_of(&m, i, j, off);
        if (phys < SO_RAM_SIZE - 8 && phys >= SO_TEST_PAGES) {
            if (kind == 3) {
                uint8_t ud2[2] = {0x0F, 0x0B};
                sc_copy(s, phys, ud2, 2);
            } else if (!cross) {
                sc_poke32(s, phys, 0xDA000000 | (phys & 0xFFFFFF));
                sc_dump(s, phys);
            }
        }
        static const char *const kinds[] = {"read", "write", "add", "fetch"};
        sc_descf(s, " %s%s 0x%08x (PDE 0x%x, PTE 0x%x)", kinds[kind], cross ? " crossing" : "", lin, m.pde[i],
                 is_large(&m, i) ? 0 : m.pte[i][j]);
        s->tagval[ntag++] = (uint32_t)e.n << 16 | kind << 12 | (cross ? 1u : 0u) << 11 | i << 8 | j;
        switch (kind) {
        case 0: em_load(&e, -1, read_regs[nreads++ % 4], lin); break;
        case 1: em_store_imm(&e, -1, lin, 0x0DD0D000 | a); break;
        case 2: em_add_mi(&e, lin, 1); break;
        default:
            em_mov_ri(&e, R_EAX, lin);
            em_call_r(&e, R_EAX);
            break;
        }
        /* ring 0: rewrite the entry, INVLPG, and touch the address again */
        if (cpl == 0 && kind != 3 && !invlpg_done && so_one_in(r, 5)) {
            invlpg_done = true;
            uint32_t at, v;
            if (is_large(&m, i)) {
                at = SO_PD + (PDI0 + i) * 4;
                v = m.pde[i] ^ (1u << so_below(r, 3)); /* flip P, R/W or U/S */
                m.pde[i] = v;
            } else {
                at = pde_table(m.pde[i]) + j * 4;
                v = m.pte[i][j] ^ (1u << so_below(r, 3));
                m.pte[i][j] = v;
            }
            em_store_imm(&e, -1, at, v);
            em_invlpg(&e, lin);
            s->tagval[ntag++] = (uint32_t)e.n << 16 | 1u << 12 | (cross ? 1u : 0u) << 11 | i << 8 | j;
            em_store_imm(&e, -1, lin, 0x1BADC0DE);
            sc_descf(s, "; [0x%x] = 0x%x, INVLPG, write again", at, v);
        }
    }
    em_ud2(&e);
    sc_code(s, &e);
    s->tags |= SDM_T_PAGING;
    s->tagval[7] = ntag;
    sc_dump_range(s, so_ring_esp(cpl) - 16, 4);
}
