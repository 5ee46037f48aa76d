/*
 * gen_common.c - shared generator machinery: edge-biased values, snippet encoding, memory
 * operand planning (effective address first, registers and displacement solved to match), the
 * class table, and turning one snippet into a complete single-instruction case.
 * Trusts nothing; all buffers bounded (an oversized snippet is flagged and discarded).
 */
#include "tests/oracle/gen.h"

#include <errno.h>
#include <string.h>

#include "ipc/ir.h"
#include "tests/oracle/flags_table.h"

/* ---- values ---- */

uint32_t og_val(struct rng *r, unsigned size)
{
    static const uint32_t e32[] = { 0, 1, 2, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE,
                                    0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7F, 0x80, 0xFF, 0x100 };
    static const uint32_t e16[] = { 0, 1, 2, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0xFFFE, 0x7F, 0x80, 0xFF, 0x100, 0x0F0F };
    static const uint32_t e8[] = { 0, 1, 2, 0x7F, 0x80, 0x81, 0xFF, 0xFE, 0x0F, 0x10, 0x09, 0x99, 0x9A, 0x66 };
    uint32_t v;
    switch (rng_below(r, 10)) {
    case 0: case 1: case 2:
        if (size == 1)
            v = e8[rng_below(r, sizeof e8 / sizeof e8[0])];
        else if (size == 2)
            v = e16[rng_below(r, sizeof e16 / sizeof e16[0])];
        else
            v = e32[rng_below(r, sizeof e32 / sizeof e32[0])];
        break;
    case 3:
        v = rng_below(r, 17);
        if (rng_one_in(r, 2))
            v = 0u - v;
        break;
    case 4:
        v = 1u << rng_below(r, 32);
        if (rng_one_in(r, 3))
            v = ~v;
        break;
    default:
        v = rng_u32(r);
        break;
    }
    if (size == 1)
        return v & 0xFF;
    if (size == 2)
        return v & 0xFFFF;
    return v;
}

uint32_t og_count(struct rng *r)
{
    static const uint8_t c[] = { 0, 1, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 255 };
    if (rng_one_in(r, 4))
        return rng_below(r, 256);
    return c[rng_below(r, sizeof c)];
}

unsigned og_size(struct rng *r)
{
    static const uint8_t s[] = { 1, 2, 4, 4 };
    return s[rng_below(r, 4)];
}

unsigned og_reg(struct og_ctx *x, uint8_t avoid)
{
    if (avoid == 0xFF)
        return R_EAX;
    for (;;) {
        unsigned reg = rng_below(x->r, 8);
        if (!(avoid & RB(reg)))
            return reg;
    }
}

unsigned og_dst_reg(struct og_ctx *x, uint8_t avoid)
{
    return og_reg(x, avoid | x->avoid_dst);
}

uint32_t og_data_off(struct og_ctx *x, unsigned size, bool fault_ok)
{
    struct rng *r = x->r;
    if (size == 0)
        size = 1;
    if (fault_ok) {
        unsigned k = rng_below(r, 40);
        if (k == 0 && size > 1) /* straddles the last data page and the guard page */
            return ORN_GUARD_BASE - 1 - rng_below(r, size - 1);
        if (k == 1)
            return ORN_GUARD_BASE + rng_below(r, 0x1000 - size);
        if (k == 2) /* the unmapped page just below the data area */
            return ORN_DATA_BASE - 1 - rng_below(r, 64);
    }
    if (rng_one_in(r, 8)) /* right at the ends of the data area */
        return rng_one_in(r, 2) ? ORN_DATA_BASE + rng_below(r, 8)
                                : ORN_GUARD_BASE - size - rng_below(r, 8);
    return ORN_DATA_BASE + rng_below(r, ORN_DATA_SIZE - size + 1);
}

/* ---- snippet building ---- */

void sn_init(struct og_snip *s)
{
    memset(s, 0, sizeof *s);
}

void sn_b(struct og_snip *s, uint8_t v)
{
    if (s->len >= OG_SNIP_MAX) {
        s->overflow = true;
        return;
    }
    s->code[s->len++] = v;
}

void sn_w(struct og_snip *s, uint16_t v)
{
    sn_b(s, (uint8_t)v);
    sn_b(s, (uint8_t)(v >> 8));
}

void sn_d(struct og_snip *s, uint32_t v)
{
    sn_w(s, (uint16_t)v);
    sn_w(s, (uint16_t)(v >> 16));
}

void sn_imm(struct og_snip *s, uint32_t v, unsigned size)
{
    if (size == 0)
        return;
    if (size == 1)
        sn_b(s, (uint8_t)v);
    else if (size == 2)
        sn_w(s, (uint16_t)v);
    else
        sn_d(s, v);
}

void sn_modrm_reg(struct og_snip *s, unsigned regfield, unsigned rm)
{
    sn_b(s, (uint8_t)(0xC0 | (regfield & 7) << 3 | (rm & 7)));
}

void sn_modrm_mem(struct og_snip *s, unsigned regfield, const struct og_mem *m)
{
    sn_b(s, (uint8_t)(m->mod << 6 | (regfield & 7) << 3 | m->rm));
    if (m->has_sib)
        sn_b(s, m->sib);
    sn_imm(s, m->disp, m->disp_size);
}

void sn_preset(struct og_snip *s, unsigned reg, uint32_t val, bool must)
{
    reg &= 7;
    s->preset[reg] = val;
    s->preset_mask |= (uint8_t)RB(reg);
    if (must)
        s->must_mask |= (uint8_t)RB(reg);
}

void sn_preset_part(struct og_snip *s, struct rng *r, unsigned reg, unsigned size, uint32_t val, bool must)
{
    unsigned full = size == 1 ? og_reg8_owner(reg) : reg & 7;
    uint32_t cur = (s->preset_mask & RB(full)) ? s->preset[full] : rng_u32(r);
    if (size == 1 && reg >= 4)
        cur = (cur & ~0xFF00u) | (val & 0xFF) << 8;
    else if (size == 1)
        cur = (cur & ~0xFFu) | (val & 0xFF);
    else if (size == 2)
        cur = (cur & ~0xFFFFu) | (val & 0xFFFF);
    else
        cur = val;
    sn_preset(s, full, cur, must);
}

void sn_presets_from_mem(struct og_snip *s, const struct og_mem *m)
{
    for (unsigned i = 0; i < 8; i++)
        if (m->regs & RB(i))
            sn_preset(s, i, m->val[i], true);
}

void sn_mem(struct og_snip *s, uint32_t addr, const void *bytes, unsigned len)
{
    if (len == 0 || len > sizeof s->mem[0].b)
        return;
    if (addr < ORN_DATA_BASE || addr - ORN_DATA_BASE >= ORN_DATA_SIZE || addr - ORN_DATA_BASE + len > ORN_DATA_SIZE)
        return;
    if (s->nmem >= OG_MEMP_MAX) {
        s->overflow = true;
        return;
    }
    struct og_memp *p = &s->mem[s->nmem++];
    p->addr = addr;
    p->len = len;
    memcpy(p->b, bytes, len);
}

void sn_mem_val(struct og_snip *s, uint32_t addr, uint32_t val, unsigned size)
{
    uint8_t b[4] = { (uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16), (uint8_t)(val >> 24) };
    sn_mem(s, addr, b, size > 4 ? 4 : size);
}

void sn_flags(struct og_snip *s, unsigned op, unsigned osize, uint32_t count)
{
    /* What this instruction reads counts as an input unless an earlier instruction of the
     * snippet already defined it. */
    s->flags_in |= flags_read(op) & ~s->flags_def;
    struct flag_effect e = flags_effect(op, osize, count);
    s->flags_def = (s->flags_def | e.def) & ~e.undef;
    s->flags_undef = (s->flags_undef & ~e.def) | e.undef;
}

void sn_prefixes(struct og_snip *s, struct rng *r, bool p66, bool p67, uint8_t seg, bool lock, uint8_t rep)
{
    uint8_t p[5];
    unsigned n = 0;
    if (p66)
        p[n++] = 0x66;
    if (p67)
        p[n++] = 0x67;
    if (seg)
        p[n++] = seg;
    if (lock)
        p[n++] = 0xF0;
    if (rep)
        p[n++] = rep;
    for (unsigned i = n; i > 1; i--) {
        unsigned j = rng_below(r, i);
        uint8_t t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
    for (unsigned i = 0; i < n; i++)
        sn_b(s, p[i]);
}

uint8_t og_seg_prefix(struct og_ctx *x, bool write)
{
    if (!rng_one_in(x->r, 5))
        return 0;
    unsigned seg = rng_below(x->r, 6);
    if (seg == S_CS && write && !rng_one_in(x->r, 4))
        seg = S_DS;
    return og_seg_byte(seg);
}

/* ---- memory operands ---- */

static unsigned pick_from(struct rng *r, uint8_t set)
{
    unsigned n = (unsigned)__builtin_popcount(set);
    if (n == 0)
        return 8;
    unsigned k = rng_below(r, n);
    for (unsigned i = 0; i < 8; i++)
        if ((set & RB(i)) && k-- == 0)
            return i;
    return 8;
}

static uint32_t hi16_garbage(struct rng *r)
{
    return rng_one_in(r, 2) ? 0 : rng_u32(r) & 0xFFFF0000u;
}

static void plan16(struct og_ctx *x, uint32_t off, uint8_t allowed, struct og_mem *m)
{
    struct rng *r = x->r;
    static const uint8_t regs_of[8][2] = { { R_EBX, R_ESI }, { R_EBX, R_EDI }, { R_EBP, R_ESI }, { R_EBP, R_EDI },
                                           { R_ESI, 8 }, { R_EDI, 8 }, { R_EBP, 8 }, { R_EBX, 8 } };
    m->a16 = true;
    uint8_t ok = 0;
    for (unsigned rm = 0; rm < 8; rm++) {
        uint8_t need = (uint8_t)(RB(regs_of[rm][0]) | (regs_of[rm][1] < 8 ? RB(regs_of[rm][1]) : 0));
        if ((need & allowed) == need)
            ok |= (uint8_t)RB(rm);
    }
    unsigned rm = rng_one_in(r, 6) ? 8 : pick_from(r, ok);
    if (rm == 8) { /* disp16 only */
        m->mod = 0;
        m->rm = 6;
        m->disp_size = 2;
        m->disp = off & 0xFFFF;
        m->def_seg = S_DS;
        return;
    }
    m->rm = (uint8_t)rm;
    m->mod = (uint8_t)rng_below(r, 3);
    if (rm == 6 && m->mod == 0)
        m->mod = 1;
    int32_t disp = 0;
    if (m->mod == 1) {
        disp = (int8_t)rng_u32(r);
        m->disp_size = 1;
    } else if (m->mod == 2) {
        disp = (int16_t)og_val(r, 2);
        m->disp_size = 2;
    }
    m->disp = (uint32_t)disp & (m->mod == 1 ? 0xFF : 0xFFFF);
    unsigned a = regs_of[rm][0], b = regs_of[rm][1];
    uint32_t rest = (off - (uint32_t)disp) & 0xFFFF;
    if (b < 8) {
        uint32_t va = rng_u32(r) & 0xFFFF;
        uint32_t vb = (rest - va) & 0xFFFF;
        m->val[a] = hi16_garbage(r) | va;
        m->val[b] = hi16_garbage(r) | vb;
        m->regs = (uint8_t)(RB(a) | RB(b));
    } else {
        m->val[a] = hi16_garbage(r) | rest;
        m->regs = (uint8_t)RB(a);
    }
    m->def_seg = (rm == 2 || rm == 3 || rm == 6) ? S_SS : S_DS;
}

static void plan32(struct og_ctx *x, uint32_t off, uint8_t allowed, struct og_mem *m)
{
    struct rng *r = x->r;
    m->a16 = false;
    m->def_seg = S_DS;
    unsigned form = rng_below(r, 10);
    uint8_t nonsp = allowed & (uint8_t)~RB(R_ESP);
    if (form == 0 || nonsp == 0) { /* [disp32] */
        m->mod = 0;
        m->rm = 5;
        m->disp_size = 4;
        m->disp = off;
        return;
    }
    if (form <= 5) { /* [base], [base+disp8], [base+disp32] */
        unsigned base = pick_from(r, nonsp);
        unsigned mod = rng_below(r, 3);
        if (mod == 0 && base == R_EBP)
            mod = 1;
        int32_t disp = 0;
        if (mod == 1) {
            disp = (int8_t)rng_u32(r);
            m->disp_size = 1;
        } else if (mod == 2) {
            disp = rng_one_in(r, 2) ? (int32_t)og_val(r, 4) : (int32_t)rng_below(r, 0x2000) - 0x1000;
            m->disp_size = 4;
        }
        m->mod = (uint8_t)mod;
        m->rm = (uint8_t)base;
        m->disp = (uint32_t)disp;
        m->val[base] = off - (uint32_t)disp;
        m->regs = (uint8_t)RB(base);
        m->def_seg = base == R_EBP ? S_SS : S_DS;
        return;
    }
    /* SIB */
    m->has_sib = true;
    m->rm = 4;
    unsigned scale = rng_below(r, 4);
    unsigned index = rng_one_in(r, 6) ? 4 : pick_from(r, nonsp);
    if (index >= 8)
        index = 4;
    unsigned base = rng_one_in(r, 6) ? 8 : pick_from(r, allowed);
    unsigned mod = rng_below(r, 3);
    if (base == 8 || (base == R_EBP && mod == 0)) {
        if (base == 8 || rng_one_in(r, 2)) { /* no base: [index*s + disp32] */
            base = 8;
            mod = 0;
        } else {
            mod = 1;
        }
    }
    int32_t disp = 0;
    if (base == 8) {
        m->disp_size = 4;
    } else if (mod == 1) {
        disp = (int8_t)rng_u32(r);
        m->disp_size = 1;
    } else if (mod == 2) {
        disp = rng_one_in(r, 2) ? (int32_t)og_val(r, 4) : (int32_t)rng_below(r, 0x2000) - 0x1000;
        m->disp_size = 4;
    }
    m->mod = (uint8_t)mod;
    m->sib = (uint8_t)(scale << 6 | (index & 7) << 3 | (base == 8 ? 5 : base));
    uint32_t mult = 1u << scale;
    if (index != 4 && index == base) {
        /* the same register twice: v * (1 + 2^s) + disp = off */
        uint32_t k = mult + 1;
        if (m->disp_size == 4) {
            uint32_t v = rng_one_in(r, 2) ? rng_u32(r) : (off / k) + rng_below(r, 64);
            disp = (int32_t)(off - v * k);
            m->val[base] = v;
        } else {
            if (m->disp_size == 0) {
                m->mod = 1;
                m->disp_size = 1;
            }
            int32_t d8 = (int32_t)rng_below(r, 200) - 100;
            uint32_t v = (off - (uint32_t)d8) / k;
            disp = (int32_t)(off - v * k);
            m->val[base] = v;
        }
        m->regs = (uint8_t)RB(base);
    } else {
        uint32_t iv = 0;
        if (index != 4) {
            iv = rng_one_in(r, 2) ? og_val(r, 4) : rng_below(r, 0x800);
            m->val[index] = iv;
            m->regs |= (uint8_t)RB(index);
        }
        if (base == 8) {
            disp = (int32_t)(off - iv * mult);
        } else {
            m->val[base] = off - iv * mult - (uint32_t)disp;
            m->regs |= (uint8_t)RB(base);
        }
    }
    m->disp = m->disp_size == 1 ? ((uint32_t)disp & 0xFF) : (uint32_t)disp;
    if (base == R_EBP || base == R_ESP)
        m->def_seg = S_SS;
}

void og_mem_plan(struct og_ctx *x, uint32_t off, uint8_t avoid, unsigned opts, struct og_mem *m)
{
    memset(m, 0, sizeof *m);
    uint8_t allowed = (uint8_t)~avoid;
    if ((opts & OGM_NOESP) || x->seq)
        allowed &= (uint8_t)~RB(R_ESP);
    if (opts & OGM_NOREG)
        allowed = 0;
    bool use16 = (opts & OGM_ONLY16) || (!(opts & OGM_NO16) && rng_one_in(x->r, 6));
    if (use16 && off <= 0xFFFF)
        plan16(x, off, allowed, m);
    else
        plan32(x, off, allowed, m);
}

void og_pick_rm(struct og_ctx *x, struct og_snip *s, unsigned size, bool write, unsigned mem_pct,
                uint8_t reg_avoid, uint8_t addr_avoid, struct og_rm *o)
{
    memset(o, 0, sizeof *o);
    if (rng_below(x->r, 100) < mem_pct) {
        o->mem = true;
        o->off = og_data_off(x, size, !x->seq || rng_one_in(x->r, 8));
        /* registers already pinned by an earlier operand of the snippet keep their values */
        og_mem_plan(x, o->off, addr_avoid | s->must_mask, 0, &o->m);
        sn_presets_from_mem(s, &o->m);
        sn_mem_val(s, o->off, og_val(x->r, size), size);
        return;
    }
    uint8_t avoid = reg_avoid | (write ? x->avoid_dst : 0);
    if (size == 1) {
        /* byte registers: AL..BL are 0-3, AH..BH 4-7 (owned by EAX..EBX) */
        uint8_t a8 = 0;
        for (unsigned i = 0; i < 8; i++)
            if (avoid & RB(i & 3))
                a8 |= (uint8_t)RB(i);
        o->reg = og_reg(x, a8);
    } else {
        o->reg = og_reg(x, avoid);
    }
}

void og_emit_rm(struct og_snip *s, unsigned regfield, const struct og_rm *o)
{
    if (o->mem)
        sn_modrm_mem(s, regfield, &o->m);
    else
        sn_modrm_reg(s, regfield, o->reg);
}

void og_rm_prefixes(struct og_ctx *x, struct og_snip *s, const struct og_rm *o, bool p66, bool write,
                    bool lock, uint8_t rep)
{
    uint8_t seg = o->mem ? og_seg_prefix(x, write) : 0;
    if (!o->mem && rng_one_in(x->r, 30))
        seg = og_seg_byte(rng_below(x->r, 6)); /* an override without memory is ignored */
    sn_prefixes(s, x->r, p66, o->mem && o->m.a16, seg, lock, rep);
}

void og_value_reg(struct og_ctx *x, struct og_snip *s, unsigned reg, unsigned size)
{
    unsigned full = og_full(reg, size);
    if (s->must_mask & RB(full))
        return;
    sn_preset_part(s, x->r, reg, size, og_val(x->r, size), false);
}

/* ---- classes ---- */

static const struct og_class classes[] = {
    { "alu", "ADD..CMP, TEST, INC, DEC, NEG, NOT in 8/16/32 bits, LOCK", gen_alu, true },
    { "shift", "SHL SHR SAR ROL ROR RCL RCR (imm, 1, CL), SHLD SHRD", gen_shift, true },
    { "muldiv", "MUL, IMUL (1/2/3 operands), DIV, IDIV incl. #DE", gen_muldiv, true },
    { "bcd", "DAA DAS AAA AAS AAM AAD", gen_bcd, true },
    { "bit", "BT BTS BTR BTC (reg/imm offsets, memory bit strings), BSF BSR BSWAP", gen_bit, true },
    { "data", "MOV MOVZX MOVSX XCHG XADD CMPXCHG CMPXCHG8B LEA CBW CWD CMOV SETcc LAHF SAHF XLAT", gen_data, true },
    { "stack", "PUSH POP PUSHA POPA PUSHF POPF ENTER LEAVE, 16-bit forms", gen_stack, true },
    { "string", "MOVS CMPS STOS LODS SCAS with REP/REPE/REPNE, DF, 16-bit addressing", gen_string, true },
    { "branch", "Jcc JCXZ LOOPcc JMP CALL RET (near), final EIP", gen_branch, true },
    { "fault", "#PF at the guard page, #GP(0) privileged, #UD, INT3 INTO BOUND, fetch faults", gen_fault, false },
    { "segment", "LDT data segments: limits, expand-down, 16-bit stack, overrides, loads", gen_segment, false },
    { "x87", "x87 loads, arithmetic, compares and stores", gen_x87, false },
    { "seq", "random sequences of 2-8 instructions from the classes above", NULL, false },
};

const struct og_class *og_classes(unsigned *count)
{
    *count = sizeof classes / sizeof classes[0];
    return classes;
}

const struct og_class *og_find_class(const char *name)
{
    for (unsigned i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strcmp(classes[i].name, name) == 0)
            return &classes[i];
    return NULL;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

/* Initial registers and flags shared by every class: edge-biased values, a sane stack. */
static void base_state(struct rng *r, struct oracle_case *c)
{
    for (unsigned i = 0; i < 8; i++)
        c->regs[i] = og_val(r, 4);
    c->regs[R_ESP] = ORN_DATA_BASE + 0x2000 + (rng_below(r, 0x1800) & ~3u);
    if (rng_one_in(r, 8))
        c->regs[R_ESP] += 1 + rng_below(r, 3);
    c->eflags = rng_u32(r) & OF_ARITH;
    if (rng_one_in(r, 4))
        c->eflags |= OF_DF;
}

int og_apply_snip(struct oracle_case *c, const struct og_snip *s)
{
    for (unsigned i = 0; i < 8; i++)
        if (s->preset_mask & RB(i))
            c->regs[i] = s->preset[i];
    for (unsigned i = 0; i < s->nmem; i++)
        if (oc_patch(c, s->mem[i].addr, s->mem[i].b, s->mem[i].len) != 0)
            return -E2BIG;
    c->eflags = (c->eflags | s->eflags_set) & ~s->eflags_clear;
    for (unsigned i = 0; i < 8; i++)
        c->reg_ignore[i] |= s->reg_ignore[i];
    if (s->fault_partial)
        c->flags |= OC_F_FAULT_PARTIAL;
    return 0;
}

int og_make_case(const struct og_class *k, uint64_t seed, uint64_t index, struct oracle_case *c)
{
    struct rng r = { seed * 0x9E3779B97F4A7C15ull ^ name_hash(k->name) ^ (index * 0xD1B54A32D192ED03ull) };
    rng_next(&r);
    struct og_ctx x = { .r = &r, .c = c };
    for (unsigned attempt = 0; attempt < 16; attempt++) {
        oc_init(c, k->name);
        c->seed = rng_next(&r);
        base_state(&r, c);
        if (!k->gen) {
            if (gen_seq_case(&x, c) == 0)
                return 0;
            continue;
        }
        c->code_off = rng_one_in(&r, 4) ? rng_below(&r, ORN_CODE_SIZE - 0x200) : 0;
        x.seq = false;
        x.avoid_dst = 0;
        x.eip = ORN_CODE_BASE + c->code_off;
        struct og_snip s;
        sn_init(&s);
        k->gen(&x, &s);
        if (s.overflow || s.len == 0)
            continue;
        static const uint8_t ud2[2] = { 0x0F, 0x0B };
        if (oc_emit(c, s.code, s.len) != 0 || (!s.no_exit && oc_emit(c, ud2, 2) != 0))
            continue;
        if (og_apply_snip(c, &s) != 0)
            continue;
        c->undef = s.flags_undef;
        return 0;
    }
    return -E2BIG;
}
