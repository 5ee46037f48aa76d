/*
 * gen_string.c - the string class: MOVS CMPS STOS LODS SCAS in byte/word/dword forms, without
 * prefix, with REP/REPE and REPNE, both directions (DF), 32- and 16-bit addressing (67: SI, DI
 * and CX with garbage in the upper halves), source segment overrides. Counts include 0, 1 and
 * runs that end at the guard page or below the data area (the fault must leave ESI/EDI/ECX at
 * the faulting iteration). CMPS/SCAS data has equal prefixes so REPE/REPNE stop mid-way.
 */
#include "tests/oracle/gen.h"

#include "ipc/ir.h"
#include "tests/oracle/flags_table.h"

enum { K_MOVS, K_CMPS, K_STOS, K_LODS, K_SCAS };

/* Start of a range of `span` bytes walked in direction `down`; sometimes one that runs off the
 * data area (when faults are allowed). */
static uint32_t pick_start(struct og_ctx *x, uint32_t span, bool down, bool fault_ok)
{
    struct rng *r = x->r;
    if (fault_ok && rng_one_in(r, 8)) {
        uint32_t edge = down ? ORN_DATA_BASE : ORN_GUARD_BASE;
        uint32_t back = rng_below(r, span + 1);
        return down ? edge + back : edge - back;
    }
    uint32_t lo = ORN_DATA_BASE + (down ? span : 0);
    uint32_t hi = ORN_GUARD_BASE - (down ? 0 : span) - 4;
    if (x->seq) { /* DF is not known inside a sequence: leave room both ways */
        lo = ORN_DATA_BASE + span;
        hi = ORN_GUARD_BASE - span - 4;
    }
    return lo + rng_below(r, hi > lo ? hi - lo : 1);
}

void gen_string(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned k = rng_below(r, 5);
    unsigned size = og_size(r);
    bool a16 = rng_one_in(r, 5);
    bool down;
    if (x->seq) {
        down = false;
    } else {
        down = rng_one_in(r, 3);
        if (down)
            s->eflags_set |= OF_DF;
        else
            s->eflags_clear |= OF_DF;
    }
    uint8_t rep = 0;
    unsigned pr = rng_below(r, 8);
    if (pr >= 2)
        rep = 0xF3;
    if (pr == 1 && (k == K_CMPS || k == K_SCAS))
        rep = 0xF2;
    uint32_t n;
    unsigned nk = rng_below(r, 10);
    if (nk == 0)
        n = 0;
    else if (nk == 1)
        n = 1;
    else if (nk < 8)
        n = 2 + rng_below(r, 15);
    else
        n = 17 + rng_below(r, 48);
    bool fault_ok = !x->seq;
    bool long_run = fault_ok && rep && rng_one_in(r, 12);
    if (long_run)
        n = 0x800 + rng_below(r, 0x3000); /* runs until it faults or finishes */
    uint32_t span = (rep ? n : 1) * size;
    uint32_t span_cap = long_run ? 16 : span;
    bool reads_src = k == K_MOVS || k == K_CMPS || k == K_LODS;
    bool uses_dst = k == K_MOVS || k == K_CMPS || k == K_STOS || k == K_SCAS;
    uint32_t si = pick_start(x, span_cap, down, fault_ok);
    uint32_t di = pick_start(x, span_cap, down, fault_ok);
    if (long_run) {
        /* aim the long run at an edge so it ends in a fault */
        if (rng_one_in(r, 2))
            si = down ? ORN_DATA_BASE + rng_below(r, 0x100) : ORN_GUARD_BASE - rng_below(r, 0x100) - 1;
        else
            di = down ? ORN_DATA_BASE + rng_below(r, 0x100) : ORN_GUARD_BASE - rng_below(r, 0x100) - 1;
    }
    if (k == K_MOVS && rng_one_in(r, 4)) /* overlapping copy */
        di = si + (uint32_t)((int32_t)rng_below(r, 16) - 8);

    uint8_t seg = 0;
    if (reads_src)
        seg = og_seg_prefix(x, false);
    else if (rng_one_in(r, 10))
        seg = og_seg_byte(rng_below(r, 6)); /* ES:EDI cannot be overridden */
    bool lock = !x->seq && rng_one_in(r, 50);
    sn_prefixes(s, r, size == 2, a16, seg, lock, rep);
    static const uint8_t op[5] = { 0xA4, 0xA6, 0xAA, 0xAC, 0xAE };
    sn_b(s, (uint8_t)(op[k] | (size != 1)));

    uint32_t hi = a16 ? 0xFFFF0000u : 0;
    if (reads_src)
        sn_preset(s, R_ESI, (a16 ? (rng_u32(r) & hi) : 0) | (a16 ? si & 0xFFFF : si), true);
    else
        og_value_reg(x, s, R_ESI, 4);
    if (uses_dst)
        sn_preset(s, R_EDI, (a16 ? (rng_u32(r) & hi) : 0) | (a16 ? di & 0xFFFF : di), true);
    else
        og_value_reg(x, s, R_EDI, 4);
    if (rep)
        sn_preset(s, R_ECX, (a16 ? (rng_u32(r) & hi) : 0) | n, true);
    else
        og_value_reg(x, s, R_ECX, 4);

    /* data: CMPS gets equal runs that end at a chosen element; SCAS finds its value at one */
    uint32_t stop = n ? rng_below(r, n + 1) : 0;
    if (k == K_CMPS) {
        uint8_t buf[64];
        unsigned len = span > sizeof buf ? (unsigned)sizeof buf : (unsigned)span;
        for (unsigned i = 0; i < len; i++)
            buf[i] = (uint8_t)(rng_one_in(r, 4) ? 0 : rng_u32(r));
        uint32_t s0 = down ? si - len + size : si;
        uint32_t d0 = down ? di - len + size : di;
        sn_mem(s, s0, buf, len);
        if (stop * size < len) {
            unsigned at = down ? len - size - stop * size : stop * size;
            buf[at] ^= (uint8_t)(1 + rng_below(r, 255));
        }
        sn_mem(s, d0, buf, len);
    } else if (k == K_SCAS || k == K_STOS) {
        uint32_t v = og_val(r, size);
        og_value_reg(x, s, R_EAX, 4);
        sn_preset_part(s, r, R_EAX, size, v, false);
        if (k == K_SCAS && n && stop < n) {
            uint32_t at = down ? di - stop * size : di + stop * size;
            sn_mem_val(s, at, v, size);
        }
    } else {
        og_value_reg(x, s, R_EAX, 4);
    }
    if (k == K_CMPS || k == K_SCAS) {
        if (!rep || n)
            sn_flags(s, k == K_CMPS ? IR_CMPS : IR_SCAS, size, 0);
        else
            s->flags_in |= OF_DF;
    } else {
        sn_flags(s, k == K_MOVS ? IR_MOVS : k == K_STOS ? IR_STOS : IR_LODS, size, 0);
    }
    s->flags_in |= OF_DF;
}
