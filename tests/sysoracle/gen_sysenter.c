/*
 * gen_sysenter.c - the "sysenter" class: SYSENTER from ring 0..3 with random SYSENTER_CS/ESP/EIP
 * (loaded by the framework with WRMSR; SYSENTER_CS 0 must give #GP(0)), landing on a UD2 pad or
 * on ring-0 code that comes back with SYSEXIT (EDX = EIP, ECX = ESP) to a ring-3 pad; and
 * SYSEXIT executed directly at CPL 0 (to ring 3) or above it (#GP(0)). Entry EFLAGS vary (IF,
 * arithmetic flags, IOPL, NT) so the records show what SYSENTER clears and what it keeps. The
 * flat CS/SS that SYSENTER and SYSEXIT load without reading the GDT are exercised by pushing
 * and popping on the new stack and by the next event's frame.
 */
#include "tests/sysoracle/gen.h"

void gen_sysenter(struct sc *s, struct so_rng *r)
{
    static const unsigned cpls[] = {3, 3, 3, 0, 0, 1, 2};
    unsigned cpl = SO_PICK(r, cpls);
    sc_set_cpl(s, cpl);
    sc_maybe_paging(s, r, 4);
    s->c.gpr[R_ESP] -= 4 * so_below(r, 8);
    s->c.eflags = 2 | (so_rng_u32(r) & 0x0CD5) | (so_below(r, 4) << 12) | (so_one_in(r, 2) ? 0x200 : 0) |
                  (so_one_in(r, 5) ? 0x4000 : 0);

    static const uint32_t cs_values[] = {SO_SEL_SYSENTER, SO_SEL_SYSENTER, SO_SEL_CODE0, 0, 0x0100, 0x0103,
                                         0x01F8, 0xFFF8, 0x0008 | 2};
    uint32_t cs = SO_PICK(r, cs_values);
    if (so_one_in(r, 10))
        cs = so_rng_u32(r) & 0xFFFF;
    uint32_t esp0 = SO_ESP0 - 4 * so_below(r, 16) - (so_one_in(r, 8) ? 2 : 0);
    bool back = so_one_in(r, 2);
    bool direct_exit = so_one_in(r, 5); /* the case body is SYSEXIT itself */
    uint32_t eip0 = back ? SO_CODE + 0x400 : so_pad(r);
    s->c.sysenter_cs = cs;
    s->c.sysenter_esp = esp0;
    s->c.sysenter_eip = eip0;
    if (so_one_in(r, 12))
        s->c.sysenter_cs |= 0xABCD0000; /* bits 63:16 of the MSR do not matter */
    uint32_t ring3_pad = so_pad(r), ring3_esp = SO_ESP3 - 4 * so_below(r, 16);

    /* ring-0 code: touch the new stack, then SYSEXIT */
    if (back) {
        struct emit c;
        em_init(&c, SO_CODE + 0x400);
        em_push_i(&c, 0x5E5E0000 | cpl);
        em_pop_r(&c, R_EBX);
        em_mov_ri(&c, R_EDX, ring3_pad);
        em_mov_ri(&c, R_ECX, ring3_esp);
        if (so_one_in(r, 4))
            em_u8(&c, 0xFB); /* STI: SYSEXIT keeps EFLAGS */
        em_sysexit(&c);
        em_ud2(&c);
        sc_code(s, &c);
    }

    struct emit e;
    em_init(&e, SO_CODE);
    em_mov_ri(&e, R_EDX, 0xDDDD0000 | cpl);
    em_mov_ri(&e, R_ECX, 0xCCCC0000 | cpl);
    if (direct_exit) {
        em_mov_ri(&e, R_EDX, ring3_pad);
        em_mov_ri(&e, R_ECX, ring3_esp);
        em_sysexit(&e);
    } else {
        em_sysenter(&e);
    }
    em_ud2(&e);
    sc_code(s, &e);
    sc_descf(s, "CPL%u %s, SYSENTER_CS 0x%x ESP 0x%x EIP 0x%x%s, EFLAGS 0x%x", cpl,
             direct_exit ? "SYSEXIT" : "SYSENTER", s->c.sysenter_cs, esp0, eip0,
             back ? " (PUSH/POP, SYSEXIT to a ring-3 pad)" : " (a pad)", s->c.eflags);
    sc_dump_range(s, esp0 - 16, 5);
    sc_dump_range(s, ring3_esp - 8, 3);
}
