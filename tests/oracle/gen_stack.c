/*
 * gen_stack.c - the stack class: PUSH/POP of registers (including ESP itself), immediates and
 * memory (including ESP-relative memory, whose address POP computes after the increment),
 * PUSHA/POPA, PUSHF/POPF (popped images with IF, IOPL, NT, AC and ID bits set: CPL 3 must ignore
 * IF and IOPL), ENTER with nesting levels 0..31 and large frames, LEAVE, PUSH of segment
 * registers; 16-bit operand-size forms of all of them. ESP starts inside the data area, now and
 * then close enough to either end that the access faults.
 */
#include "tests/oracle/gen.h"

#include <string.h>

#include "ipc/ir.h"
#include "tests/oracle/flags_table.h"

/* A stack pointer for a snippet that needs `below` bytes under it and `above` bytes over it. */
static uint32_t pick_esp(struct og_ctx *x, unsigned below, unsigned above)
{
    struct rng *r = x->r;
    uint32_t lo = ORN_DATA_BASE + below, hi = ORN_GUARD_BASE - above;
    if (!x->seq) {
        if (rng_one_in(r, 16)) /* pushes run into the unmapped page below the data area */
            return ORN_DATA_BASE + rng_below(r, below + 1);
        if (rng_one_in(r, 16)) /* pops run into the guard page */
            return ORN_GUARD_BASE - rng_below(r, above + 1);
    }
    uint32_t v = lo + rng_below(r, hi > lo ? hi - lo : 1);
    return rng_one_in(r, 6) ? v : (v & ~3u);
}

/* ESP for single-instruction cases; sequences keep the running ESP (never written wildly). */
static void set_esp(struct og_ctx *x, struct og_snip *s, unsigned below, unsigned above)
{
    if (!x->seq)
        sn_preset(s, R_ESP, pick_esp(x, below, above), true);
}

/* Fill the stack around ESP with edge values so pops read something interesting. */
static void stack_values(struct og_ctx *x, struct og_snip *s, unsigned bytes)
{
    if (x->seq || !(s->preset_mask & RB(R_ESP)))
        return;
    uint32_t esp = s->preset[R_ESP];
    uint8_t b[64];
    if (bytes > sizeof b)
        bytes = sizeof b;
    for (unsigned i = 0; i < bytes; i += 4) {
        uint32_t v = og_val(x->r, 4);
        for (unsigned k = 0; k < 4 && i + k < bytes; k++)
            b[i + k] = (uint8_t)(v >> (8 * k));
    }
    sn_mem(s, esp, b, bytes);
}

static uint32_t popf_image(struct og_ctx *x, bool w16)
{
    struct rng *r = x->r;
    uint32_t v = rng_u32(r) & (OF_ARITH | OF_DF | 0x0200u | 0x3000u | 0x4000u);
    if (!x->seq && rng_one_in(r, 3))
        v |= 0x40000u; /* AC */
    if (rng_one_in(r, 3))
        v |= 0x200000u; /* ID */
    if (rng_one_in(r, 8))
        v |= rng_u32(r) & 0xFFC08028u; /* reserved bits: must be ignored */
    v |= 0x2;
    v &= ~0x100u; /* never TF */
    v &= ~0x10000u; /* RF: not in a POPF image we care about */
    v &= ~0x20000u; /* VM: ignored by POPF, kept clear for clarity */
    return w16 ? (v & 0xFFFF) : v;
}

void gen_stack(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    bool w16 = rng_one_in(r, 5);
    unsigned osz = w16 ? 2 : 4;
    switch (rng_below(r, 14)) {
    case 0: { /* PUSH reg */
        unsigned reg = rng_below(r, 8);
        set_esp(x, s, 8, 8);
        sn_prefixes(s, r, w16, false, 0, false, 0);
        sn_b(s, (uint8_t)(0x50 + reg));
        if (reg != R_ESP)
            og_value_reg(x, s, reg, 4);
        break;
    }
    case 1: { /* POP reg (POP ESP loads ESP from the stack) */
        unsigned reg = og_dst_reg(x, 0);
        set_esp(x, s, 8, 8);
        stack_values(x, s, 8);
        sn_prefixes(s, r, w16, false, 0, false, 0);
        sn_b(s, (uint8_t)(0x58 + reg));
        break;
    }
    case 2: /* PUSH imm */
        set_esp(x, s, 8, 8);
        sn_prefixes(s, r, w16, false, 0, false, 0);
        if (rng_one_in(r, 2)) {
            sn_b(s, 0x6A);
            sn_b(s, (uint8_t)og_val(r, 1));
        } else {
            sn_b(s, 0x68);
            sn_imm(s, og_val(r, osz), osz);
        }
        break;
    case 3: case 4: { /* PUSH r/m (FF /6) or POP r/m (8F /0), memory possibly ESP-relative */
        bool pop = rng_one_in(r, 2);
        set_esp(x, s, 16, 16);
        stack_values(x, s, 8);
        struct og_rm rm;
        uint32_t esp = s->preset[R_ESP];
        if (!x->seq && rng_one_in(r, 3)) {
            /* [esp + disp8]: for POP the address uses ESP after the pop */
            memset(&rm, 0, sizeof rm);
            rm.mem = true;
            int32_t d = (int32_t)(rng_below(r, 24) & ~3u) - 8;
            rm.off = esp + (uint32_t)d;
            rm.m.mod = 1;
            rm.m.rm = 4;
            rm.m.has_sib = true;
            rm.m.sib = 0x24;
            rm.m.disp_size = 1;
            rm.m.disp = (uint32_t)d & 0xFF;
            rm.m.def_seg = S_SS;
        } else {
            og_pick_rm(x, s, osz, pop, 70, RB(R_ESP), RB(R_ESP), &rm);
        }
        og_rm_prefixes(x, s, &rm, w16, pop, false, 0);
        sn_b(s, pop ? 0x8F : 0xFF);
        og_emit_rm(s, pop ? 0 : 6, &rm);
        if (!rm.mem)
            og_value_reg(x, s, rm.reg, 4);
        break;
    }
    case 5: /* PUSHA */
        set_esp(x, s, 40, 8);
        sn_prefixes(s, r, w16, false, 0, false, 0);
        sn_b(s, 0x60);
        s->fault_partial = true;
        break;
    case 6: /* POPA (the ESP slot is skipped) */
        if (x->seq)
            return; /* overwrites every register, ESP stays sane: allowed, but rare */
        set_esp(x, s, 8, 40);
        stack_values(x, s, 32);
        sn_prefixes(s, r, w16, false, 0, false, 0);
        sn_b(s, 0x61);
        s->fault_partial = true;
        break;
    case 7: /* PUSHF */
        set_esp(x, s, 8, 8);
        sn_prefixes(s, r, w16, false, 0, false, 0);
        sn_b(s, 0x9C);
        s->flags_in |= flags_read(IR_PUSHF);
        break;
    case 8: { /* POPF */
        set_esp(x, s, 8, 8);
        if (x->seq) {
            /* push a chosen image first so the popped value is known, and drop what a 16-bit
             * POPF leaves of it with LEA (no flags) */
            sn_b(s, 0x68);
            sn_d(s, popf_image(x, false));
            if (w16)
                sn_b(s, 0x66);
            sn_b(s, 0x9D);
            if (w16) {
                static const uint8_t lea2[4] = { 0x8D, 0x64, 0x24, 0x02 };
                for (int i = 0; i < 4; i++)
                    sn_b(s, lea2[i]);
            }
        } else {
            uint32_t img = popf_image(x, w16);
            sn_mem_val(s, s->preset[R_ESP], img, osz);
            if (w16)
                sn_b(s, 0x66);
            sn_b(s, 0x9D);
        }
        sn_flags(s, IR_POPF, osz, 0);
        break;
    }
    case 9: case 10: { /* ENTER imm16, imm8 */
        /* large frames only as the last instruction: ESP may end up anywhere below */
        uint16_t frame = (uint16_t)(!x->seq && rng_one_in(r, 4) ? og_val(r, 2) : rng_below(r, 64));
        static const uint8_t lv[] = { 0, 0, 1, 1, 2, 3, 4, 7, 31, 32, 33, 255 };
        uint8_t level = x->seq ? 0 : lv[rng_below(r, sizeof lv)];
        unsigned need = 8 + 4u * (level & 31);
        set_esp(x, s, need + 8, 8);
        if (!x->seq) {
            /* ENTER write-checks the final stack pointer: keep it from wrapping below 0, where
             * the native process has its own mappings */
            uint32_t esp = s->preset[R_ESP];
            uint32_t room = esp > need + 16 ? esp - need - 16 : 0;
            if (frame > room)
                frame = (uint16_t)(room & 0xFFFF);
        }
        if (!x->seq && (level & 31) > 1) {
            /* EBP: the old frame whose display is copied */
            uint32_t ebp = ORN_DATA_BASE + 4u * (level & 31) + rng_below(r, 0x1000);
            if (rng_one_in(r, 10))
                ebp = ORN_DATA_BASE + rng_below(r, 8); /* copying the display reads below the area */
            sn_preset(s, R_EBP, ebp, true);
        }
        sn_prefixes(s, r, w16, false, 0, false, 0);
        sn_b(s, 0xC8);
        sn_w(s, frame);
        sn_b(s, level);
        break;
    }
    case 11: { /* LEAVE: ESP = EBP, pop EBP */
        uint32_t ebp = pick_esp(x, 8, 8);
        sn_preset(s, R_EBP, ebp, true);
        if (!x->seq) {
            uint8_t b[4];
            uint32_t v = og_val(r, 4);
            for (int i = 0; i < 4; i++)
                b[i] = (uint8_t)(v >> (8 * i));
            sn_mem(s, ebp, b, 4);
        }
        sn_prefixes(s, r, w16, false, 0, false, 0);
        sn_b(s, 0xC9);
        break;
    }
    default: { /* PUSH Sreg (the slot's upper half is implementation-specific: keep it zero) */
        static const uint8_t one[4] = { 0x06, 0x0E, 0x16, 0x1E };
        unsigned sreg = rng_below(r, 6);
        set_esp(x, s, 8, 8);
        if (!x->seq) {
            uint32_t esp = s->preset[R_ESP];
            uint8_t z[4] = { 0, 0, 0, 0 };
            sn_mem(s, esp - 4, z, 4);
        } else if (!w16) {
            /* inside a sequence the slot is not known: push zero, pop it, push the selector */
            sn_b(s, 0x6A);
            sn_b(s, 0x00);
            sn_b(s, 0x8D);
            sn_b(s, 0x64);
            sn_b(s, 0x24);
            sn_b(s, 0x04); /* lea esp, [esp+4] */
        }
        sn_prefixes(s, r, w16, false, 0, false, 0);
        if (sreg < 4) {
            sn_b(s, one[sreg]);
        } else {
            sn_b(s, 0x0F);
            sn_b(s, sreg == 4 ? 0xA0 : 0xA8);
        }
        break;
    }
    }
}
