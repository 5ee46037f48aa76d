/*
 * gen_bit.c - the bit class: BT BTS BTR BTC with register offsets (including memory bit strings
 * where a signed offset moves the accessed word away from the base) and imm8 offsets, LOCK on
 * memory forms; BSF/BSR with zero and single-bit sources; BSWAP (32-bit, and the 16-bit form the
 * SDM leaves undefined but real processors execute consistently).
 */
#include "tests/oracle/gen.h"

#include <string.h>

#include "ipc/ir.h"

static const uint16_t bt_ir[4] = { IR_BT, IR_BTS, IR_BTR, IR_BTC };

static void gen_bt(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned k = rng_below(r, 4);
    unsigned size = rng_one_in(r, 3) ? 2 : 4;
    bool imm = rng_one_in(r, 2);
    bool writes = k != 0;
    struct og_rm rm;
    if (imm) {
        og_pick_rm(x, s, size, writes, 45, 0, 0, &rm);
        bool lock = rm.mem && writes && rng_one_in(r, 4);
        og_rm_prefixes(x, s, &rm, size == 2, writes, lock || rng_one_in(r, 60), 0);
        sn_b(s, 0x0F);
        sn_b(s, 0xBA);
        og_emit_rm(s, 4 + k, &rm);
        sn_b(s, (uint8_t)(rng_one_in(r, 2) ? rng_u32(r) : og_count(r)));
        if (!rm.mem)
            og_value_reg(x, s, rm.reg, size);
        sn_flags(s, bt_ir[k], size, 0);
        return;
    }
    unsigned off_reg;
    if (rng_one_in(r, 2)) {
        /* a bit string in memory: the offset register selects a word up to +-256 bytes away */
        int32_t bits = (int32_t)rng_below(r, 4096) - 2048;
        if (rng_one_in(r, 8))
            bits = (int32_t)rng_u32(r) % 64;
        int32_t unit = size == 2 ? 16 : 32;
        int32_t words = bits >= 0 ? bits / unit : -((-bits + unit - 1) / unit);
        int32_t delta = words * (int32_t)size;
        /* the word actually touched, where we want it (sometimes at the guard page) */
        uint32_t target = og_data_off(x, size, !x->seq);
        uint32_t base_off = target - (uint32_t)delta;
        off_reg = og_reg(x, 0);
        memset(&rm, 0, sizeof rm);
        rm.mem = true;
        rm.off = base_off;
        og_mem_plan(x, base_off, (uint8_t)RB(off_reg), 0, &rm.m);
        sn_presets_from_mem(s, &rm.m);
        sn_mem_val(s, target, og_val(r, size), size);
        uint32_t regval = (uint32_t)bits;
        if (size == 2)
            regval = (rng_u32(r) & 0xFFFF0000u) | ((uint32_t)bits & 0xFFFF);
        sn_preset(s, off_reg, regval, true);
    } else {
        og_pick_rm(x, s, size, writes, 0, 0, 0, &rm);
        off_reg = og_reg(x, 0);
        og_value_reg(x, s, rm.reg, size);
        og_value_reg(x, s, off_reg, size);
    }
    bool lock = rm.mem && writes && rng_one_in(r, 4);
    og_rm_prefixes(x, s, &rm, size == 2, writes, lock || rng_one_in(r, 60), 0);
    static const uint8_t opc[4] = { 0xA3, 0xAB, 0xB3, 0xBB };
    sn_b(s, 0x0F);
    sn_b(s, opc[k]);
    og_emit_rm(s, off_reg, &rm);
    sn_flags(s, bt_ir[k], size, 0);
}

static void gen_bsf(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    bool rev = rng_one_in(r, 2);
    unsigned size = rng_one_in(r, 3) ? 2 : 4;
    struct og_rm rm;
    og_pick_rm(x, s, size, false, 35, 0, 0, &rm);
    unsigned dst = og_dst_reg(x, 0);
    og_rm_prefixes(x, s, &rm, size == 2, false, false, 0);
    sn_b(s, 0x0F);
    sn_b(s, rev ? 0xBD : 0xBC);
    og_emit_rm(s, dst, &rm);
    uint32_t v = rng_one_in(r, 4) ? 0 : og_val(r, size);
    if (rm.mem)
        sn_mem_val(s, rm.off, v, size);
    else if (!(s->must_mask & RB(rm.reg)))
        sn_preset_part(s, r, rm.reg, size, v, false);
    if (dst != rm.reg || rm.mem)
        og_value_reg(x, s, dst, 4);
    sn_flags(s, rev ? IR_BSR : IR_BSF, size, 0);
}

static void gen_bswap(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned reg = og_dst_reg(x, 0);
    bool w16 = rng_one_in(r, 6);
    if (w16)
        sn_b(s, 0x66);
    sn_b(s, 0x0F);
    sn_b(s, (uint8_t)(0xC8 + reg));
    og_value_reg(x, s, reg, 4);
}

void gen_bit(struct og_ctx *x, struct og_snip *s)
{
    switch (rng_below(x->r, 6)) {
    case 0: case 1: case 2: gen_bt(x, s); break;
    case 3: case 4: gen_bsf(x, s); break;
    default: gen_bswap(x, s); break;
    }
}
