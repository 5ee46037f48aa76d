/*
 * gen_data.c - the data class: MOV (88-8B, C6/C7, B0-BF, A0-A3 moffs), MOVZX/MOVSX, XCHG
 * (86/87, 90+r), XADD, CMPXCHG (equal and unequal accumulator), CMPXCHG8B (and its #UD register
 * form), LEA with every addressing form (no access, so any register values), CBW/CWDE, CWD/CDQ,
 * CMOVcc (whose memory source is read even when the condition is false), SETcc, LAHF/SAHF, XLAT,
 * MOV from segment registers, CLC/STC/CMC/CLD/STD, NOPs and SALC.
 */
#include "tests/oracle/gen.h"

#include "ipc/ir.h"
#include "tests/oracle/flags_table.h"

static void gen_mov(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned size = og_size(r);
    bool w = size != 1;
    struct og_rm rm;
    switch (rng_below(r, 5)) {
    case 0: case 1: { /* 88/89 (store) or 8A/8B (load) */
        bool store = rng_one_in(r, 2);
        og_pick_rm(x, s, size, store, 55, 0, 0, &rm);
        struct og_rm regop;
        og_pick_rm(x, s, size, !store, 0, 0, 0, &regop);
        og_rm_prefixes(x, s, &rm, size == 2, store, rng_one_in(r, 60), 0);
        sn_b(s, (uint8_t)((store ? 0x88 : 0x8A) | w));
        og_emit_rm(s, regop.reg, &rm);
        og_value_reg(x, s, regop.reg, size);
        break;
    }
    case 2: /* C6/C7 /0 */
        og_pick_rm(x, s, size, true, 60, 0, 0, &rm);
        og_rm_prefixes(x, s, &rm, size == 2, true, false, 0);
        sn_b(s, (uint8_t)(0xC6 | w));
        og_emit_rm(s, 0, &rm);
        sn_imm(s, og_val(r, size), size);
        break;
    case 3: { /* B0+r / B8+r */
        unsigned reg;
        if (size == 1) {
            og_pick_rm(x, s, 1, true, 0, 0, 0, &rm);
            reg = rm.reg;
        } else {
            reg = og_dst_reg(x, 0);
        }
        sn_prefixes(s, r, size == 2, false, 0, false, 0);
        sn_b(s, (uint8_t)((size == 1 ? 0xB0 : 0xB8) + reg));
        sn_imm(s, og_val(r, size), size);
        break;
    }
    default: { /* A0-A3: AL/AX/EAX <-> moffs */
        if (x->avoid_dst & RB(R_EAX))
            return;
        bool store = rng_one_in(r, 2);
        bool a16 = rng_one_in(r, 5);
        uint32_t off = og_data_off(x, size, !x->seq);
        uint8_t seg = og_seg_prefix(x, store);
        sn_prefixes(s, r, size == 2, a16, seg, false, 0);
        sn_b(s, (uint8_t)((store ? 0xA2 : 0xA0) | w));
        sn_imm(s, off, a16 ? 2 : 4);
        sn_mem_val(s, off, og_val(r, size), size);
        og_value_reg(x, s, R_EAX, size);
        break;
    }
    }
}

static void gen_movx(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    bool sx = rng_one_in(r, 2);
    unsigned src = rng_one_in(r, 2) ? 1 : 2;
    unsigned dsize = rng_one_in(r, 4) ? 2 : 4;
    struct og_rm rm;
    og_pick_rm(x, s, src, false, 45, 0, 0, &rm);
    unsigned dst = og_dst_reg(x, 0);
    og_rm_prefixes(x, s, &rm, dsize == 2, false, false, 0);
    sn_b(s, 0x0F);
    sn_b(s, (uint8_t)((sx ? 0xBE : 0xB6) | (src == 2)));
    og_emit_rm(s, dst, &rm);
    if (!rm.mem)
        og_value_reg(x, s, rm.reg, src);
    og_value_reg(x, s, dst, 4);
}

static void gen_xchg(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned size = og_size(r);
    if (size != 1 && rng_one_in(r, 3)) { /* 90+r: xchg eAX, reg */
        unsigned reg = og_dst_reg(x, RB(R_EAX));
        if (x->avoid_dst & RB(R_EAX))
            return;
        sn_prefixes(s, r, size == 2, false, 0, false, 0);
        sn_b(s, (uint8_t)(0x90 + reg));
        og_value_reg(x, s, reg, size);
        og_value_reg(x, s, R_EAX, size);
        return;
    }
    struct og_rm rm;
    og_pick_rm(x, s, size, true, 50, 0, 0, &rm);
    struct og_rm regop;
    og_pick_rm(x, s, size, true, 0, 0, 0, &regop);
    og_rm_prefixes(x, s, &rm, size == 2, true, rm.mem && rng_one_in(r, 3), 0);
    sn_b(s, (uint8_t)(0x86 | (size != 1)));
    og_emit_rm(s, regop.reg, &rm);
    og_value_reg(x, s, regop.reg, size);
    if (!rm.mem)
        og_value_reg(x, s, rm.reg, size);
}

static void gen_xadd_cmpxchg(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    bool cmpx = rng_one_in(r, 2);
    unsigned size = og_size(r);
    if (cmpx && (x->avoid_dst & RB(R_EAX)))
        return;
    struct og_rm rm;
    og_pick_rm(x, s, size, true, 55, cmpx ? RB(R_EAX) : 0, cmpx ? RB(R_EAX) : 0, &rm);
    struct og_rm regop;
    og_pick_rm(x, s, size, !cmpx, 0, 0, 0, &regop);
    og_rm_prefixes(x, s, &rm, size == 2, true, rm.mem && rng_one_in(r, 3), 0);
    sn_b(s, 0x0F);
    sn_b(s, (uint8_t)((cmpx ? 0xB0 : 0xC0) | (size != 1)));
    og_emit_rm(s, regop.reg, &rm);
    og_value_reg(x, s, regop.reg, size);
    uint32_t dv = og_val(r, size);
    if (rm.mem)
        sn_mem_val(s, rm.off, dv, size);
    else if (!(s->must_mask & RB(og_full(rm.reg, size))))
        sn_preset_part(s, r, rm.reg, size, dv, false);
    if (cmpx) /* equal half of the time: the store path */
        sn_preset_part(s, r, R_EAX, size, rng_one_in(r, 2) ? dv : og_val(r, size), x->seq);
    sn_flags(s, cmpx ? IR_CMPXCHG : IR_XADD, size, 0);
}

static void gen_cmpxchg8b(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    uint8_t implicit = (uint8_t)(RB(R_EAX) | RB(R_EBX) | RB(R_ECX) | RB(R_EDX));
    if (x->avoid_dst & implicit)
        return;
    struct og_rm rm;
    og_pick_rm(x, s, 8, true, 100, 0, implicit, &rm);
    if (!x->seq && rng_one_in(r, 20)) { /* register operand: #UD */
        rm.mem = false;
        rm.reg = rng_below(r, 8);
    }
    og_rm_prefixes(x, s, &rm, rng_one_in(r, 20), true, rm.mem && rng_one_in(r, 2), 0);
    sn_b(s, 0x0F);
    sn_b(s, 0xC7);
    og_emit_rm(s, 1, &rm);
    uint32_t lo = og_val(r, 4), hi = og_val(r, 4);
    if (rm.mem) {
        sn_mem_val(s, rm.off, lo, 4);
        sn_mem_val(s, rm.off + 4, hi, 4);
    }
    bool eq = rng_one_in(r, 2);
    sn_preset(s, R_EAX, eq ? lo : og_val(r, 4), x->seq);
    sn_preset(s, R_EDX, eq || rng_one_in(r, 2) ? hi : og_val(r, 4), x->seq);
    sn_preset(s, R_EBX, og_val(r, 4), false);
    sn_preset(s, R_ECX, og_val(r, 4), false);
    sn_flags(s, IR_CMPXCHG8B, 4, 0);
}

static void gen_lea(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned dsize = rng_one_in(r, 4) ? 2 : 4;
    struct og_mem m;
    og_mem_plan(x, rng_u32(r), 0, 0, &m); /* any address: LEA does not access memory */
    unsigned dst = og_dst_reg(x, 0);
    sn_prefixes(s, r, dsize == 2, m.a16, rng_one_in(r, 8) ? og_seg_byte(rng_below(r, 6)) : 0, false, 0);
    sn_b(s, 0x8D);
    sn_modrm_mem(s, dst, &m);
    for (unsigned i = 0; i < 8; i++)
        if (m.regs & RB(i))
            sn_preset(s, i, rng_one_in(r, 2) ? m.val[i] : og_val(r, 4), false);
    og_value_reg(x, s, dst, 4);
    if (!x->seq && rng_one_in(r, 25)) { /* LEA with a register operand: #UD */
        s->code[s->len - 1 - m.disp_size - m.has_sib] |= 0xC0;
    }
}

static void gen_cond(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned cc = rng_below(r, 16);
    struct og_rm rm;
    if (rng_one_in(r, 2)) { /* CMOVcc r, r/m */
        unsigned size = rng_one_in(r, 3) ? 2 : 4;
        og_pick_rm(x, s, size, false, 40, 0, 0, &rm);
        unsigned dst = og_dst_reg(x, 0);
        og_rm_prefixes(x, s, &rm, size == 2, false, false, 0);
        sn_b(s, 0x0F);
        sn_b(s, (uint8_t)(0x40 + cc));
        og_emit_rm(s, dst, &rm);
        og_value_reg(x, s, dst, 4);
        if (!rm.mem)
            og_value_reg(x, s, rm.reg, size);
    } else { /* SETcc r/m8 */
        og_pick_rm(x, s, 1, true, 40, 0, 0, &rm);
        og_rm_prefixes(x, s, &rm, false, true, false, 0);
        sn_b(s, 0x0F);
        sn_b(s, (uint8_t)(0x90 + cc));
        og_emit_rm(s, rng_one_in(r, 10) ? rng_below(r, 8) : 0, &rm); /* reg field is ignored */
    }
    s->flags_in |= flags_for_cond(cc);
}

static void gen_misc(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    switch (rng_below(r, 10)) {
    case 0: /* CBW/CWDE, CWD/CDQ */
        if (x->avoid_dst & (RB(R_EAX) | RB(R_EDX)))
            return;
        sn_prefixes(s, r, rng_one_in(r, 2), false, 0, false, 0);
        sn_b(s, rng_one_in(r, 2) ? 0x98 : 0x99);
        og_value_reg(x, s, R_EAX, 4);
        break;
    case 1: /* LAHF */
        sn_b(s, 0x9F);
        s->flags_in |= flags_read(IR_LAHF);
        break;
    case 2: /* SAHF */
        sn_b(s, 0x9E);
        sn_preset_part(s, r, 4, 1, og_val(r, 1), false);
        sn_flags(s, IR_SAHF, 1, 0);
        break;
    case 3: { /* XLAT: AL = [seg: EBX + AL] */
        bool a16 = rng_one_in(r, 4);
        uint32_t table = ORN_DATA_BASE + 0x100 + rng_below(r, ORN_DATA_SIZE - 0x300);
        uint8_t al = (uint8_t)rng_u32(r);
        uint32_t ebx = a16 ? ((rng_u32(r) & 0xFFFF0000u) | table) : table;
        sn_prefixes(s, r, false, a16, og_seg_prefix(x, false), false, 0);
        sn_b(s, 0xD7);
        sn_preset(s, R_EBX, ebx, true);
        sn_preset_part(s, r, R_EAX, 1, al, x->seq);
        sn_mem_val(s, table + al, og_val(r, 1), 1);
        break;
    }
    case 4: { /* MOV r/m, Sreg */
        struct og_rm rm;
        unsigned size = rng_one_in(r, 2) ? 2 : 4;
        og_pick_rm(x, s, size, true, 40, 0, 0, &rm);
        unsigned sreg = rng_below(r, 6);
        og_rm_prefixes(x, s, &rm, size == 2, true, false, 0);
        sn_b(s, 0x8C);
        og_emit_rm(s, sreg, &rm);
        if (!rm.mem)
            og_value_reg(x, s, rm.reg, 4);
        break;
    }
    case 5: { /* flag instructions */
        static const uint8_t op[5] = { 0xF8, 0xF9, 0xF5, 0xFC, 0xFD };
        static const uint16_t ir[5] = { IR_CLC, IR_STC, IR_CMC, IR_CLD, IR_STD };
        unsigned k = rng_below(r, 5);
        sn_b(s, op[k]);
        sn_flags(s, ir[k], 4, 0);
        break;
    }
    case 6: { /* NOP forms: 90, 66 90, 0F 1F /0 with any addressing (no access) */
        if (rng_one_in(r, 2)) {
            sn_prefixes(s, r, rng_one_in(r, 3), false, 0, false, 0);
            sn_b(s, 0x90);
        } else {
            struct og_mem m;
            og_mem_plan(x, rng_u32(r), 0, OGM_NO16, &m);
            sn_prefixes(s, r, rng_one_in(r, 3), false, 0, false, 0);
            sn_b(s, 0x0F);
            sn_b(s, 0x1F);
            sn_modrm_mem(s, 0, &m);
            for (unsigned i = 0; i < 8; i++)
                if (m.regs & RB(i))
                    sn_preset(s, i, og_val(r, 4), false);
        }
        break;
    }
    case 7: /* SALC (D6): AL = CF ? FF : 00 */
        if (x->avoid_dst & RB(R_EAX))
            return;
        sn_b(s, 0xD6);
        s->flags_in |= flags_read(IR_SALC);
        break;
    default:
        gen_lea(x, s);
        break;
    }
}

void gen_data(struct og_ctx *x, struct og_snip *s)
{
    switch (rng_below(x->r, 12)) {
    case 0: case 1: case 2: gen_mov(x, s); break;
    case 3: gen_movx(x, s); break;
    case 4: gen_xchg(x, s); break;
    case 5: gen_xadd_cmpxchg(x, s); break;
    case 6: gen_cmpxchg8b(x, s); break;
    case 7: case 8: gen_cond(x, s); break;
    case 9: gen_lea(x, s); break;
    default: gen_misc(x, s); break;
    }
}
