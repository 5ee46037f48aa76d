/*
 * gen_cr.c - the "cr" class: one to three control-register operations, each followed by a read
 * back into its own register: MOV to CR0 (MP EM TS NE WP AM NW CD PG in any combination, ET
 * cleared, reserved bits set, PG without PE), CR4 (every bit 0..10 and some above), CR3 (low bits
 * set; with paging on the base stays the framework's directory) and CR2; CLTS, LMSW, SMSW; the
 * CRs that do not exist (#UD); and all of them at CPL 1..3 (#GP(0), SMSW allowed). PE is never
 * cleared: a real-mode guest would take the next event through the BIOS's interrupt table.
 */
#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/sdm.h"

static const unsigned readback_regs[] = {R_EBX, R_ESI, R_EDI, R_EBP, R_EDX, R_ECX};

static uint32_t cr0_value(struct so_rng *r)
{
    static const uint32_t bits[] = {0x2, 0x4, 0x8, 0x20, 0x10000, 0x40000, 0x20000000, 0x40000000, 0x80000000u};
    uint32_t v = 0x11;
    for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (so_one_in(r, 3))
            v |= bits[i];
    if (v & 0x20000000 && so_below(r, 3))
        v |= 0x40000000; /* NW mostly with CD */
    if (so_one_in(r, 6))
        v &= ~0x10u; /* ET cleared */
    if (so_one_in(r, 5))
        v |= so_rng_u32(r) & 0x1FFAFFC0; /* reserved bits */
    if (so_one_in(r, 100))
        v = (v | 0x80000000u) & ~1u; /* PG without PE: QEMU hangs on it (sdm.c) */
    return v;
}

static uint32_t cr4_value(struct so_rng *r)
{
    uint32_t v = 0;
    for (unsigned b = 0; b <= 10; b++)
        if (so_one_in(r, b == 2 || b == 3 || b == 4 || b == 7 ? 2 : 6))
            v |= 1u << b;
    if (so_one_in(r, 40))
        v |= 1u << (11 + so_below(r, 21)); /* QEMU hangs on some of these (sdm.c) */
    return v;
}

void gen_cr(struct sc *s, struct so_rng *r)
{
    unsigned cpl = so_one_in(r, 5) ? 1 + so_below(r, 3) : 0;
    sc_set_cpl(s, cpl);
    s->c.cr3 = SO_PD;
    s->c.cr4 = so_one_in(r, 3) ? 0x10 : 0;
    s->c.eflags = 2 | (so_rng_u32(r) & 0x08D5);
    sc_clear_dumps(s);
    sc_dump_range(s, so_ring_esp(cpl) - 32, 8);

    struct emit e;
    em_init(&e, SO_CODE);
    unsigned nops = 1 + so_below(r, 3);
    bool paging = false;
    s->tags |= SDM_T_CR;
    s->tagval[6] = nops;
    for (unsigned i = 0; i < nops; i++) {
        unsigned rb = readback_regs[i % 6];
        uint32_t v = 0, at = (uint32_t)e.n, kind = SDM_CR_OTHER;
        switch (so_below(r, 12)) {
        case 0: case 1: case 2:
            v = cr0_value(r);
            em_mov_ri(&e, R_EAX, v);
            at = (uint32_t)e.n;
            kind = SDM_CR_W0;
            em_mov_cr(&e, 0, R_EAX);
            em_mov_rcr(&e, rb, 0);
            sc_descf(s, "%sMOV CR0, 0x%08x", i ? "; " : "", v);
            if (v & 0x80000000u)
                paging = true;
            break;
        case 3: case 4: case 5:
            v = cr4_value(r);
            em_mov_ri(&e, R_EAX, v);
            at = (uint32_t)e.n;
            kind = SDM_CR_W4;
            em_mov_cr(&e, 4, R_EAX);
            em_mov_rcr(&e, rb, 4);
            sc_descf(s, "%sMOV CR4, 0x%08x", i ? "; " : "", v);
            break;
        case 6:
            /* another directory only when nothing can turn paging on afterwards */
            v = (paging || i + 1 < nops || so_below(r, 2) ? SO_PD : so_rng_u32(r) & 0x01FFF000) |
                (so_rng_u32(r) & 0xFFF);
            em_mov_ri(&e, R_EAX, v);
            em_mov_cr(&e, 3, R_EAX);
            em_mov_rcr(&e, rb, 3);
            sc_descf(s, "%sMOV CR3, 0x%08x", i ? "; " : "", v);
            break;
        case 7:
            v = so_rng_u32(r);
            em_mov_ri(&e, R_EAX, v);
            em_mov_cr(&e, 2, R_EAX);
            em_mov_rcr(&e, rb, 2);
            sc_descf(s, "%sMOV CR2, 0x%08x", i ? "; " : "", v);
            break;
        case 8:
            em_clts(&e);
            kind = SDM_CR_READ0;
            em_mov_rcr(&e, rb, 0);
            sc_descf(s, "%sCLTS", i ? "; " : "");
            break;
        case 9:
            v = so_rng_u32(r) & 0xFFFF;
            em_mov_ri(&e, R_EAX, v);
            em_lmsw(&e, R_EAX);
            em_mov_ri(&e, rb, 0x5A5A5A5A);
            kind = SDM_CR_SMSW;
            em_smsw16(&e, rb);
            sc_descf(s, "%sLMSW 0x%04x; SMSW", i ? "; " : "", v);
            break;
        case 10: {
            static const unsigned bad[] = {1, 5, 6, 7};
            unsigned n = SO_PICK(r, bad);
            if (so_below(r, 2)) {
                em_mov_ri(&e, R_EAX, 0);
                em_mov_cr(&e, n, R_EAX);
                sc_descf(s, "%sMOV CR%u, EAX", i ? "; " : "", n);
            } else {
                em_mov_rcr(&e, rb, n);
                sc_descf(s, "%sMOV r32, CR%u", i ? "; " : "", n);
            }
            break;
        }
        default:
            em_mov_ri(&e, rb, 0x5A5A5A5A);
            kind = SDM_CR_SMSW;
            em_smsw16(&e, rb);
            sc_descf(s, "%sSMSW", i ? "; " : "");
            break;
        }
        s->tagval[i] = v;
        s->tagval[3 + i] = kind << 24 | rb << 16 | at;
    }
    if (cpl)
        sc_descf(s, " (at CPL%u)", cpl);
    em_ud2(&e);
    sc_code(s, &e);
}
