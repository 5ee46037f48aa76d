/*
 * gen_shift.c - the shift class: ROL ROR RCL RCR SHL SHR SAL(/6 alias) SAR with count 1 (D0/D1),
 * CL (D2/D3) and imm8 (C0/C1), 8/16/32-bit; SHLD/SHRD with imm8 and CL, 16/32-bit. Counts come
 * from an edge list (0, 1, 7, 8, 15, 16, 31, 32, 63, 255 ...). 16-bit SHLD/SHRD counts above 16
 * leave the destination undefined (SDM) and are not generated.
 */
#include "tests/oracle/gen.h"

#include "ipc/ir.h"

static const uint16_t grp2_ir[8] = { IR_ROL, IR_ROR, IR_RCL, IR_RCR, IR_SHL, IR_SHR, IR_SHL, IR_SAR };

static void gen_grp2(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned op = rng_below(r, 8);
    if (op == 6 && !rng_one_in(r, 4))
        op = 4; /* keep the undocumented SAL alias rare */
    unsigned size = og_size(r);
    bool w = size != 1;
    unsigned form = rng_below(r, 3); /* 0: by 1, 1: by CL, 2: by imm8 */
    uint32_t count = form == 0 ? 1 : og_count(r);
    struct og_rm rm;
    uint8_t avoid = form == 1 ? RB(R_ECX) : 0;
    og_pick_rm(x, s, size, true, 40, avoid, avoid, &rm);
    og_rm_prefixes(x, s, &rm, size == 2, true, rng_one_in(r, 60), 0);
    sn_b(s, (uint8_t)((form == 0 ? 0xD0 : form == 1 ? 0xD2 : 0xC0) | w));
    og_emit_rm(s, op, &rm);
    if (form == 2)
        sn_b(s, (uint8_t)count);
    if (form == 1)
        sn_preset_part(s, r, R_ECX, 1, count, true);
    if (!rm.mem)
        og_value_reg(x, s, rm.reg, size);
    sn_flags(s, grp2_ir[op], size, count);
}

static void gen_double(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    bool right = rng_one_in(r, 2);
    unsigned size = rng_one_in(r, 3) ? 2 : 4;
    bool by_cl = rng_one_in(r, 2);
    uint32_t count = og_count(r);
    if (size == 2 && (count & 31) > 16)
        count = (count & ~31u) | (count & 15);
    uint8_t avoid = by_cl ? RB(R_ECX) : 0;
    struct og_rm rm;
    og_pick_rm(x, s, size, true, 40, avoid, avoid, &rm);
    unsigned src = og_reg(x, avoid);
    og_rm_prefixes(x, s, &rm, size == 2, true, rng_one_in(r, 60), 0);
    sn_b(s, 0x0F);
    sn_b(s, (uint8_t)((right ? 0xAC : 0xA4) | (by_cl ? 1 : 0)));
    og_emit_rm(s, src, &rm);
    if (!by_cl)
        sn_b(s, (uint8_t)count);
    else
        sn_preset_part(s, r, R_ECX, 1, count, true);
    og_value_reg(x, s, src, size);
    if (!rm.mem)
        og_value_reg(x, s, rm.reg, size);
    sn_flags(s, right ? IR_SHRD : IR_SHLD, size, count);
}

void gen_shift(struct og_ctx *x, struct og_snip *s)
{
    if (rng_below(x->r, 4) == 0)
        gen_double(x, s);
    else
        gen_grp2(x, s);
}
