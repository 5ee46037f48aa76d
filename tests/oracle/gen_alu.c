/*
 * gen_alu.c - the alu class: ADD OR ADC SBB AND SUB XOR CMP in every encoding (r/m,reg reg,r/m
 * acc,imm 80/81/82/83), TEST (84/85/A8/A9/F6-F7 /0 and the /1 alias), INC/DEC (short and FE/FF
 * forms), NEG/NOT; 8/16/32-bit; LOCK on memory destinations, and now and then an illegal LOCK.
 */
#include "tests/oracle/gen.h"

#include "ipc/ir.h"

static const uint16_t binop_ir[8] = { IR_ADD, IR_OR, IR_ADC, IR_SBB, IR_AND, IR_SUB, IR_XOR, IR_CMP };

static uint8_t rep_noise(struct rng *r)
{
    if (!rng_one_in(r, 30))
        return 0;
    return rng_one_in(r, 2) ? 0xF3 : 0xF2; /* ignored on these opcodes */
}

static void gen_binop(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned k = rng_below(r, 8);
    unsigned size = og_size(r);
    bool w = size != 1;
    unsigned form = rng_below(r, 6);
    bool writes = k != 7;
    struct og_rm rm;
    if (form == 2) { /* AL/AX/EAX, imm */
        if (writes && (x->avoid_dst & RB(R_EAX)))
            form = 3;
        else {
            uint32_t imm = og_val(r, size);
            sn_prefixes(s, r, size == 2, false, 0, false, rep_noise(r));
            sn_b(s, (uint8_t)(k << 3 | 4 | w));
            sn_imm(s, imm, size);
            og_value_reg(x, s, R_EAX, size);
            sn_flags(s, binop_ir[k], size, 0);
            return;
        }
    }
    if (form == 0 || form == 1) {
        bool dst_is_rm = form == 0;
        og_pick_rm(x, s, size, writes && dst_is_rm, 50, 0, 0, &rm);
        uint8_t reg_avoid = (writes && !dst_is_rm) ? x->avoid_dst : 0;
        struct og_rm regop;
        og_pick_rm(x, s, size, false, 0, reg_avoid, 0, &regop);
        bool lock = dst_is_rm && rm.mem && writes && rng_one_in(r, 4);
        if (rng_one_in(r, 40))
            lock = true; /* LOCK on a register destination or CMP: #UD */
        og_rm_prefixes(x, s, &rm, size == 2, writes && dst_is_rm, lock, rep_noise(r));
        sn_b(s, (uint8_t)(k << 3 | (dst_is_rm ? 0 : 2) | w));
        og_emit_rm(s, regop.reg, &rm);
        og_value_reg(x, s, regop.reg, size);
        if (!rm.mem)
            og_value_reg(x, s, rm.reg, size);
        sn_flags(s, binop_ir[k], size, 0);
        return;
    }
    /* group 1: 80 /k ib, 81 /k iz, 83 /k ib (sign-extended), 82 /k ib (byte alias) */
    og_pick_rm(x, s, size, writes, 50, 0, 0, &rm);
    bool lock = rm.mem && writes && rng_one_in(r, 4);
    if (rng_one_in(r, 40))
        lock = true;
    og_rm_prefixes(x, s, &rm, size == 2, writes, lock, rep_noise(r));
    unsigned immsize = size;
    if (size == 1)
        sn_b(s, form == 5 ? 0x82 : 0x80);
    else if (form == 4 || form == 5) {
        sn_b(s, 0x83);
        immsize = 1;
    } else
        sn_b(s, 0x81);
    og_emit_rm(s, k, &rm);
    sn_imm(s, og_val(r, immsize), immsize);
    if (!rm.mem)
        og_value_reg(x, s, rm.reg, size);
    sn_flags(s, binop_ir[k], size, 0);
}

static void gen_test(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned size = og_size(r);
    bool w = size != 1;
    struct og_rm rm;
    switch (rng_below(r, 3)) {
    case 0: { /* 84/85 r/m, reg */
        og_pick_rm(x, s, size, false, 50, 0, 0, &rm);
        struct og_rm regop;
        og_pick_rm(x, s, size, false, 0, 0, 0, &regop);
        og_rm_prefixes(x, s, &rm, size == 2, false, rng_one_in(r, 40), rep_noise(r));
        sn_b(s, (uint8_t)(0x84 | w));
        og_emit_rm(s, regop.reg, &rm);
        og_value_reg(x, s, regop.reg, size);
        if (!rm.mem)
            og_value_reg(x, s, rm.reg, size);
        break;
    }
    case 1: /* A8/A9 */
        sn_prefixes(s, r, size == 2, false, 0, false, rep_noise(r));
        sn_b(s, (uint8_t)(0xA8 | w));
        sn_imm(s, og_val(r, size), size);
        og_value_reg(x, s, R_EAX, size);
        break;
    default: /* F6/F7 /0 (and the undocumented /1 alias) */
        og_pick_rm(x, s, size, false, 50, 0, 0, &rm);
        og_rm_prefixes(x, s, &rm, size == 2, false, false, rep_noise(r));
        sn_b(s, (uint8_t)(0xF6 | w));
        og_emit_rm(s, rng_one_in(r, 20) ? 1 : 0, &rm);
        sn_imm(s, og_val(r, size), size);
        if (!rm.mem)
            og_value_reg(x, s, rm.reg, size);
        break;
    }
    sn_flags(s, IR_TEST, size, 0);
}

static void gen_unary(struct og_ctx *x, struct og_snip *s, unsigned which)
{
    /* which: 0 INC, 1 DEC, 2 NOT, 3 NEG */
    struct rng *r = x->r;
    unsigned size = og_size(r);
    if (which < 2 && size != 1 && rng_one_in(r, 2)) { /* 40+r / 48+r */
        unsigned reg = og_dst_reg(x, 0);
        sn_prefixes(s, r, size == 2, false, 0, false, rep_noise(r));
        sn_b(s, (uint8_t)(0x40 + which * 8 + reg));
        og_value_reg(x, s, reg, size);
        sn_flags(s, which ? IR_DEC : IR_INC, size, 0);
        return;
    }
    struct og_rm rm;
    og_pick_rm(x, s, size, true, 50, 0, 0, &rm);
    bool lock = rm.mem && rng_one_in(r, 4);
    if (rng_one_in(r, 40))
        lock = true;
    og_rm_prefixes(x, s, &rm, size == 2, true, lock, rep_noise(r));
    if (which < 2) {
        sn_b(s, size == 1 ? 0xFE : 0xFF);
        og_emit_rm(s, which, &rm);
    } else {
        sn_b(s, size == 1 ? 0xF6 : 0xF7);
        og_emit_rm(s, which, &rm);
    }
    if (!rm.mem)
        og_value_reg(x, s, rm.reg, size);
    static const uint16_t ir[4] = { IR_INC, IR_DEC, IR_NOT, IR_NEG };
    sn_flags(s, ir[which], size, 0);
}

void gen_alu(struct og_ctx *x, struct og_snip *s)
{
    unsigned kind = rng_below(x->r, 12);
    if (kind < 7)
        gen_binop(x, s);
    else if (kind == 7)
        gen_test(x, s);
    else
        gen_unary(x, s, kind - 8);
}
