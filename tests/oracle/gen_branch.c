/*
 * gen_branch.c - the branch class: Jcc (rel8, rel32), JMP (rel8, rel32, r/m32), JCXZ/JECXZ,
 * LOOP/LOOPE/LOOPNE with a loop body, CALL (rel32, r/m32), RET and RET imm16. Programs have two
 * or more UD2 exits, so the final EIP shows which way each branch went; backward targets too.
 * 16-bit operand-size forms (66) truncate the target to 16 bits: their targets are chosen on
 * unmapped pages, so they end in an instruction-fetch #PF at a known address.
 * Inside sequences, position-independent snippets: conditional skips over an instruction, jumps
 * over junk, LOOP to the next instruction, and CALL/RET pairs.
 */
#include "tests/oracle/gen.h"

#include <string.h>

#include "ipc/ir.h"
#include "tests/oracle/flags_table.h"

enum bkind { B_JCC8, B_JCC32, B_JMP8, B_JMP32, B_JCXZ, B_LOOP, B_LOOPE, B_LOOPNE, B_CALL, B_NKIND };

/* Bytes of the branch instruction (prefixes included). */
static unsigned blen(enum bkind k, bool p66, bool p67)
{
    unsigned n = (p66 ? 1u : 0u) + (p67 ? 1u : 0u);
    switch (k) {
    case B_JCC32: return n + 2 + (p66 ? 2 : 4);
    case B_JMP32:
    case B_CALL: return n + 1 + (p66 ? 2 : 4);
    default: return n + 2;
    }
}

/* Emit a branch at the current position to snippet offset `target` (eip = x->eip + offset).
 * With p66 and a rel16/rel32 form, `abs16` (when nonzero) overrides the target: a 16-bit EIP. */
static void emit_branch(struct og_ctx *x, struct og_snip *s, enum bkind k, unsigned cc, bool p66, bool p67,
                        uint32_t target, uint32_t abs16)
{
    unsigned len = blen(k, p66, p67);
    uint32_t next = s->len + len;
    int32_t rel = (int32_t)(target - next);
    if (p66 && abs16)
        rel = (int32_t)((abs16 - (x->eip + next)) & 0xFFFF);
    sn_prefixes(s, x->r, p66, p67, 0, false, 0);
    switch (k) {
    case B_JCC8: sn_b(s, (uint8_t)(0x70 + cc)); sn_b(s, (uint8_t)rel); break;
    case B_JCC32: sn_b(s, 0x0F); sn_b(s, (uint8_t)(0x80 + cc)); sn_imm(s, (uint32_t)rel, p66 ? 2 : 4); break;
    case B_JMP8: sn_b(s, 0xEB); sn_b(s, (uint8_t)rel); break;
    case B_JMP32: sn_b(s, 0xE9); sn_imm(s, (uint32_t)rel, p66 ? 2 : 4); break;
    case B_JCXZ: sn_b(s, 0xE3); sn_b(s, (uint8_t)rel); break;
    case B_LOOP: sn_b(s, 0xE2); sn_b(s, (uint8_t)rel); break;
    case B_LOOPE: sn_b(s, 0xE1); sn_b(s, (uint8_t)rel); break;
    case B_LOOPNE: sn_b(s, 0xE0); sn_b(s, (uint8_t)rel); break;
    case B_CALL: sn_b(s, 0xE8); sn_imm(s, (uint32_t)rel, p66 ? 2 : 4); break;
    default: break;
    }
}

static void ud2(struct og_snip *s)
{
    sn_b(s, 0x0F);
    sn_b(s, 0x0B);
}

static void pad(struct og_snip *s, unsigned n)
{
    while (n--)
        sn_b(s, 0xCC);
}

/* A 16-bit target on a page that is not mapped on either side. */
static uint32_t unmapped16(struct rng *r)
{
    if (rng_one_in(r, 2))
        return ORN_UNMAPPED_LO + rng_below(r, ORN_DATA_BASE - ORN_UNMAPPED_LO);
    return ORN_GUARD_BASE + rng_below(r, 0x10000 - ORN_GUARD_BASE);
}

static void branch_reads(struct og_snip *s, enum bkind k, unsigned cc)
{
    if (k == B_JCC8 || k == B_JCC32)
        s->flags_in |= flags_for_cond(cc);
    if (k == B_LOOPE || k == B_LOOPNE)
        s->flags_in |= OF_ZF;
}

/* ECX for JCXZ/LOOP: small counts, zero, and CX = 0 with garbage above. */
static void count_reg(struct og_ctx *x, struct og_snip *s, enum bkind k, bool p67)
{
    struct rng *r = x->r;
    uint32_t v;
    if (k == B_JCXZ) {
        v = rng_one_in(r, 2) ? 0 : og_val(r, 4);
        if (rng_one_in(r, 4))
            v = rng_u32(r) & 0xFFFF0000u; /* CX = 0, ECX != 0 */
    } else {
        v = 1 + rng_below(r, 9);
        if (p67)
            v |= rng_u32(r) & 0xFFFF0000u;
        if (p67 && rng_one_in(r, 12))
            v &= 0xFFFF0000u; /* CX = 0: 65536 iterations */
    }
    sn_preset(s, R_ECX, v, true);
}

/* Forward or backward conditional/unconditional branch with two exits. */
static void prog_simple(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    static const enum bkind ks[] = { B_JCC8, B_JCC8, B_JCC32, B_JCC32, B_JMP8, B_JMP32, B_JCXZ, B_CALL };
    enum bkind k = ks[rng_below(r, sizeof ks / sizeof ks[0])];
    unsigned cc = rng_below(r, 16);
    bool p66 = rng_one_in(r, 10);
    bool p67 = k == B_JCXZ && rng_one_in(r, 2);
    unsigned gap = rng_one_in(r, 3) ? rng_below(r, 40) : 0;
    bool backward = !p66 && k != B_CALL && rng_one_in(r, 3);
    if (k == B_JCXZ)
        count_reg(x, s, k, p67);
    if (k == B_CALL)
        sn_preset(s, R_ESP, ORN_DATA_BASE + 0x400 + (rng_below(r, 0x3000) & ~3u), true);
    uint32_t abs16 = p66 ? unmapped16(r) : 0;
    if (!backward) {
        unsigned at = s->len;
        uint32_t target = at + blen(k, p66, p67) + 2 + gap;
        emit_branch(x, s, k, cc, p66, p67, target, abs16);
        ud2(s);
        pad(s, gap);
        ud2(s);
    } else {
        /* jmp over the taken exit, then branch back to it */
        sn_b(s, 0xEB);
        sn_b(s, (uint8_t)(2 + gap));
        uint32_t target = s->len;
        ud2(s);
        pad(s, gap);
        emit_branch(x, s, k, cc, false, p67, target, 0);
        ud2(s);
    }
    branch_reads(s, k, cc);
}

/* LOOPcc around a one-instruction body. */
static void prog_loop(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    enum bkind k = (enum bkind)(B_LOOP + rng_below(r, 3));
    bool p67 = rng_one_in(r, 3);
    bool p66 = rng_one_in(r, 12);
    count_reg(x, s, k, p67);
    static const uint8_t bodies[][2] = {
        { 0x01, 0xD8 }, /* add eax, ebx */
        { 0x38, 0xD8 }, /* cmp al, bl */
        { 0x31, 0xC2 }, /* xor edx, eax */
        { 0x29, 0xDA }, /* sub edx, ebx */
        { 0x85, 0xC2 }, /* test edx, eax */
    };
    static const uint16_t body_ir[] = { IR_ADD, IR_CMP, IR_XOR, IR_SUB, IR_TEST };
    unsigned b = rng_below(r, 5);
    sn_preset(s, R_EAX, og_val(r, 4), false);
    sn_preset(s, R_EBX, rng_one_in(r, 2) ? 0 : og_val(r, 4), false);
    sn_preset(s, R_EDX, og_val(r, 4), false);
    uint32_t top = s->len;
    sn_b(s, bodies[b][0]);
    sn_b(s, bodies[b][1]);
    sn_flags(s, body_ir[b], 4, 0);
    emit_branch(x, s, k, 0, p66, p67, top, 0);
    ud2(s);
}

/* Two conditional branches in a row, three exits. */
static void prog_chain(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned c1 = rng_below(r, 16), c2 = rng_below(r, 16);
    unsigned l1 = blen(B_JCC8, false, false), l2 = blen(B_JCC32, false, false);
    uint32_t t1 = l1 + l2 + 2, t2 = t1 + 2;
    emit_branch(x, s, B_JCC8, c1, false, false, t1, 0);
    emit_branch(x, s, B_JCC32, c2, false, false, t2, 0);
    ud2(s);
    ud2(s);
    ud2(s);
    s->flags_in |= flags_for_cond(c1) | flags_for_cond(c2);
}

/* CALL/JMP through a register or memory, RET and RET imm16 to a planted address. */
static void prog_indirect(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned kind = rng_below(r, 4); /* 0 call r/m, 1 jmp r/m, 2 ret, 3 ret imm16 */
    bool p66 = rng_one_in(r, 10);
    uint32_t esp = ORN_DATA_BASE + 0x400 + (rng_below(r, 0x3000) & ~3u);
    sn_preset(s, R_ESP, esp, true);
    unsigned gap = rng_below(r, 20);
    struct og_rm rm;
    memset(&rm, 0, sizeof rm);
    if (kind <= 1) {
        og_pick_rm(x, s, p66 ? 2 : 4, false, 50, RB(R_ESP), RB(R_ESP), &rm);
        og_rm_prefixes(x, s, &rm, p66, false, false, 0);
        sn_b(s, 0xFF);
        og_emit_rm(s, kind == 0 ? 2 : 4, &rm);
    } else {
        if (p66)
            sn_b(s, 0x66);
        sn_b(s, kind == 2 ? 0xC3 : 0xC2);
        if (kind == 3)
            sn_w(s, (uint16_t)(rng_one_in(r, 2) ? rng_below(r, 16) : og_val(r, 2)));
    }
    uint32_t fall = s->len;
    ud2(s);
    pad(s, gap);
    uint32_t taken = s->len;
    ud2(s);
    uint32_t dest = x->eip + (rng_one_in(r, 8) ? fall : taken);
    if (rng_one_in(r, 16))
        dest = x->eip + s->len + rng_below(r, 64); /* into the 0xCC filler: #BP there */
    if (p66)
        dest = unmapped16(r);
    unsigned sz = p66 ? 2 : 4;
    if (kind <= 1) {
        if (rm.mem)
            sn_mem_val(s, rm.off, dest, sz);
        else
            sn_preset_part(s, r, rm.reg, sz, dest, true);
    } else {
        sn_mem_val(s, esp, dest, sz);
    }
}

/* ---- inside sequences ---- */

static void seq_branch(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    switch (rng_below(r, 5)) {
    case 0: { /* jcc over a MOV r32, imm32 */
        unsigned cc = rng_below(r, 16);
        unsigned reg = og_dst_reg(x, 0);
        bool wide = rng_one_in(r, 3);
        if (wide) {
            sn_b(s, 0x0F);
            sn_b(s, (uint8_t)(0x80 + cc));
            sn_d(s, 5);
        } else {
            sn_b(s, (uint8_t)(0x70 + cc));
            sn_b(s, 5);
        }
        sn_b(s, (uint8_t)(0xB8 + reg));
        sn_d(s, og_val(r, 4));
        s->flags_in |= flags_for_cond(cc);
        break;
    }
    case 1: { /* jmp over junk */
        unsigned n = 1 + rng_below(r, 6);
        sn_b(s, 0xEB);
        sn_b(s, (uint8_t)n);
        for (unsigned i = 0; i < n; i++)
            sn_b(s, (uint8_t)rng_u32(r));
        break;
    }
    case 2: /* jecxz / jcxz over a CMC-free byte: inc/dec of a free register */
    {
        unsigned reg = og_dst_reg(x, RB(R_ECX));
        if (rng_one_in(r, 3))
            sn_b(s, 0x67);
        sn_b(s, 0xE3);
        sn_b(s, 5);
        sn_b(s, (uint8_t)(0xB8 + reg));
        sn_d(s, og_val(r, 4));
        break;
    }
    case 3: { /* loop/loope/loopne to the next instruction: only ECX changes */
        if (x->avoid_dst & RB(R_ECX))
            return;
        unsigned k = rng_below(r, 3);
        if (rng_one_in(r, 3))
            sn_b(s, 0x67);
        sn_b(s, (uint8_t)(0xE2 - k));
        sn_b(s, 0);
        if (k)
            s->flags_in |= OF_ZF;
        break;
    }
    default: { /* call +2; jmp +1; ret */
        static const uint8_t b[] = { 0xE8, 0x02, 0x00, 0x00, 0x00, 0xEB, 0x01, 0xC3 };
        for (unsigned i = 0; i < sizeof b; i++)
            sn_b(s, b[i]);
        break;
    }
    }
}

void gen_branch(struct og_ctx *x, struct og_snip *s)
{
    if (x->seq) {
        seq_branch(x, s);
        return;
    }
    switch (rng_below(x->r, 8)) {
    case 0: case 1: case 2: prog_simple(x, s); break;
    case 3: case 4: prog_loop(x, s); break;
    case 5: prog_chain(x, s); break;
    default: prog_indirect(x, s); break;
    }
}
