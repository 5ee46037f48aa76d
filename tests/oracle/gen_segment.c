/*
 * gen_segment.c - the segment class: LDT descriptors (expand-up, read-only, expand-down 16/32-bit,
 * page-granular, readable and execute-only code, not-present, empty) loaded into DS/ES/FS/GS/SS,
 * then accesses near their limits (#GP(0), or #SS(0) through SS), stack operations on 16- and
 * 32-bit stack segments, segment register loads (MOV, POP, LDS/LES/LFS/LGS/LSS) with good and bad
 * selectors, accesses through a just-loaded or null segment, LAR/LSL/VERR/VERW/ARPL, and string
 * instructions that run into a segment limit.
 *
 * Safety: every access the descriptor model says is within limits must map to linear addresses
 * below 0x10000 (data area, guard page or unmapped pages); offsets that would not are re-drawn.
 */
#include "tests/oracle/gen.h"

#include <string.h>

#include "ipc/ir.h"
#include "tests/oracle/flags_table.h"

enum sd_kind { SD_EMPTY, SD_UP, SD_RO, SD_DOWN, SD_CODE_R, SD_CODE_X, SD_NP, SD_NKIND };

struct sdesc {
    enum sd_kind kind;
    uint32_t base, lim; /* effective limit */
    bool b32;
};

struct segenv {
    struct sdesc d[ORN_LDT_ENTRIES];
};

static bool loadable_data(const struct sdesc *d)
{
    return d->kind == SD_UP || d->kind == SD_RO || d->kind == SD_DOWN || d->kind == SD_CODE_R;
}

static bool writable(const struct sdesc *d)
{
    return d->kind == SD_UP || d->kind == SD_DOWN;
}

static void make_desc(struct rng *r, enum sd_kind kind, struct sdesc *d, struct orn_desc *o)
{
    memset(o, 0, sizeof *o);
    memset(d, 0, sizeof *d);
    d->kind = kind;
    if (kind == SD_EMPTY)
        return;
    o->present = 1;
    o->useable = (uint8_t)rng_below(r, 2);
    uint32_t raw;
    bool g = false;
    if (kind == SD_DOWN) {
        d->b32 = rng_one_in(r, 2);
        if (d->b32 && rng_one_in(r, 2)) {
            g = true;
            raw = 0xFFFF0 + rng_below(r, 16);
        } else if (!d->b32) {
            raw = rng_one_in(r, 4) ? rng_below(r, 0x10000) : 0xFFFF - rng_below(r, 0x4000);
        } else {
            raw = rng_one_in(r, 2) ? rng_below(r, 0x100000) : rng_below(r, 0x8000);
        }
        d->lim = g ? (raw << 12 | 0xFFF) : raw;
        uint32_t len = (d->b32 ? 0xFFFFFFFFu : 0xFFFFu) - d->lim; /* valid bytes above the limit */
        if (g) /* the whole valid range ends just below base: keep it under 0x10000 */
            d->base = 0x1000 + len + rng_below(r, 0x10000 - 0x1000 - (len < 0xE000 ? len : 0xE000));
        else /* the bottom of the valid range lands in the data area */
            d->base = ORN_DATA_BASE + rng_below(r, ORN_DATA_SIZE) - (d->lim + 1);
        o->contents = 1;
    } else {
        d->b32 = kind == SD_CODE_R || kind == SD_CODE_X || rng_one_in(r, 2);
        d->base = 0x1000 + rng_below(r, 0xE000);
        uint32_t room = 0xFFFF - d->base;
        static const uint32_t small[] = { 0, 1, 3, 7, 0xFF, 0x1FF, 0xFFF };
        switch (rng_below(r, 6)) {
        case 0: raw = small[rng_below(r, 7)]; break;
        case 1: raw = room; break;
        case 2:
            if (room >= 0xFFF) {
                g = true;
                raw = rng_below(r, (room + 1) >> 12);
                break;
            }
            raw = room;
            break;
        case 3: /* big: valid offsets beyond 0x10000 exist (they are never generated) */
            g = rng_one_in(r, 2);
            raw = rng_below(r, 0x100000);
            break;
        default: raw = rng_below(r, room + 1); break;
        }
        d->lim = g ? (raw << 12 | 0xFFF) : raw;
        o->contents = (kind == SD_CODE_R || kind == SD_CODE_X) ? 2 : 0;
        o->read_exec_only = kind == SD_RO || kind == SD_CODE_X;
        o->not_present = kind == SD_NP;
    }
    o->base = d->base;
    o->limit = raw & 0xFFFFF;
    o->limit_in_pages = g;
    o->seg_32bit = d->b32;
}

/* Is an access of n bytes at offset `off` within the limits (per the SDM's checks)? */
static bool within(const struct sdesc *d, uint32_t off, unsigned n)
{
    if (d->kind == SD_DOWN) {
        uint32_t upper = d->b32 ? 0xFFFFFFFFu : 0xFFFFu;
        return off > d->lim && off <= upper && n - 1 <= upper - off;
    }
    return off <= d->lim && n - 1 <= d->lim - off;
}

static bool safe_linear(uint32_t base, uint32_t off, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (base + off + i >= 0x10000u)
            return false;
    return true;
}

/* An offset near the interesting edges of segment d for an n-byte access. */
static bool pick_off(struct rng *r, const struct sdesc *d, unsigned n, bool a16, uint32_t *off)
{
    for (int tries = 0; tries < 40; tries++) {
        uint32_t lim = d->lim, o;
        uint32_t upper = d->kind == SD_DOWN ? (d->b32 ? 0xFFFFFFFFu : 0xFFFFu) : lim;
        switch (rng_below(r, 10)) {
        case 0: o = lim - n + 1; break;
        case 1: o = lim - n + 2; break;
        case 2: o = lim; break;
        case 3: o = lim + 1; break;
        case 4: o = upper - n + 1; break;
        case 5: o = upper - n + 2; break;
        case 6: o = 0; break;
        case 7: o = lim + 1 + rng_below(r, 64); break;
        default:
            o = d->kind == SD_DOWN ? lim + 1 + rng_below(r, upper - lim > 0x800 ? 0x800 : upper - lim + 1)
                                   : rng_below(r, lim > 0x3FFF ? 0x4000 : lim + 1);
            break;
        }
        if (a16)
            o &= 0xFFFF;
        if (within(d, o, n) && !safe_linear(d->base, o, n))
            continue;
        *off = o;
        return true;
    }
    return false;
}

static uint16_t ldt_sel(unsigned i, unsigned rpl)
{
    return (uint16_t)(i << 3 | 4 | rpl);
}

static void build_env(struct og_ctx *x, struct segenv *e)
{
    static const enum sd_kind pool[] = { SD_UP, SD_UP, SD_RO, SD_DOWN, SD_DOWN, SD_CODE_R, SD_CODE_X, SD_NP, SD_EMPTY };
    for (unsigned i = 0; i < ORN_LDT_ENTRIES; i++) {
        enum sd_kind k = pool[rng_below(x->r, sizeof pool / sizeof pool[0])];
        if (i == 0)
            k = SD_UP; /* at least one ordinary data segment and one stack-capable one */
        if (i == 1)
            k = rng_one_in(x->r, 2) ? SD_DOWN : SD_UP;
        make_desc(x->r, k, &e->d[i], &x->c->ldt[i]);
    }
}

/* A random loadable LDT entry for a data register (or -1). */
static int pick_loadable(struct og_ctx *x, const struct segenv *e, bool need_write)
{
    for (int t = 0; t < 16; t++) {
        unsigned i = rng_below(x->r, ORN_LDT_ENTRIES);
        if (loadable_data(&e->d[i]) && (!need_write || writable(&e->d[i])))
            return (int)i;
    }
    return -1;
}

/* Emit one memory access (load, store, RMW or read-only compare) of n bytes at offset `off` in
 * segment register `seg`. */
static void emit_access(struct og_ctx *x, struct og_snip *s, unsigned seg, uint32_t off, unsigned n, unsigned kind,
                        uint8_t addr_avoid)
{
    struct rng *r = x->r;
    struct og_mem m;
    og_mem_plan(x, off, (uint8_t)(addr_avoid | RB(R_ESP) | s->must_mask), off > 0xFFFF ? OGM_NO16 : 0, &m);
    sn_presets_from_mem(s, &m);
    uint8_t pfx = (seg != m.def_seg || rng_one_in(r, 4)) ? og_seg_byte(seg) : 0;
    sn_prefixes(s, r, n == 2, m.a16, pfx, false, 0);
    bool w = n != 1;
    unsigned reg = og_reg(x, (uint8_t)(m.regs | RB(R_ESP)));
    switch (kind % 4) {
    case 0: sn_b(s, (uint8_t)(0x8A | w)); break; /* mov reg, [mem] */
    case 1: sn_b(s, (uint8_t)(0x88 | w)); break; /* mov [mem], reg */
    case 2: sn_b(s, (uint8_t)(0x00 | w)); sn_flags(s, IR_ADD, n, 0); break; /* add [mem], reg */
    default: sn_b(s, (uint8_t)(0x38 | w)); sn_flags(s, IR_CMP, n, 0); break; /* cmp [mem], reg */
    }
    sn_modrm_mem(s, reg, &m);
    if (!(s->must_mask & RB(og_full(reg, n))))
        sn_preset_part(s, r, reg, n, og_val(r, n), false);
}

static void op_access(struct og_ctx *x, struct og_snip *s, const struct segenv *e)
{
    struct rng *r = x->r;
    /* preload up to four data segment registers with LDT selectors */
    static const unsigned dsegs[4] = { S_DS, S_ES, S_FS, S_GS };
    int which[6] = { -1, -1, -1, -1, -1, -1 };
    for (unsigned k = 0; k < 4; k++) {
        if (!rng_one_in(r, 3)) {
            int i = pick_loadable(x, e, false);
            if (i >= 0) {
                which[dsegs[k]] = i;
                x->c->sel[dsegs[k]] = ldt_sel((unsigned)i, rng_below(r, 4));
            }
        }
    }
    unsigned seg = rng_one_in(r, 6) ? S_SS : dsegs[rng_below(r, 4)];
    unsigned n = og_size(r);
    unsigned kind = rng_below(r, 4);
    uint32_t off;
    if (which[seg] < 0) {
        off = og_data_off(x, n, true);
    } else if (!pick_off(r, &e->d[which[seg]], n, false, &off)) {
        off = 0;
        n = 1;
        if (!within(&e->d[which[seg]], 0, 1) || !safe_linear(e->d[which[seg]].base, 0, 1))
            kind = 0, off = e->d[which[seg]].lim + 1; /* best effort: outside the limit */
    }
    if (rng_one_in(r, 12)) { /* CS (flat): reads work, writes #GP(0) */
        seg = S_CS;
        kind = rng_one_in(r, 2) ? 0 : 1;
        off = og_data_off(x, n, true);
    }
    emit_access(x, s, seg, off, n, kind, 0);
}

/* Every slot a stack operation touches: within the limits implies a safe linear address. */
static bool stack_slots_safe(const struct sdesc *d, uint32_t lo, unsigned slots, unsigned n)
{
    uint32_t mask = d->b32 ? 0xFFFFFFFFu : 0xFFFFu;
    for (unsigned k = 0; k < slots; k++) {
        uint32_t off = (lo + k * n) & mask;
        if (within(d, off, n) && !safe_linear(d->base, off, n))
            return false;
    }
    return true;
}

static void op_stack(struct og_ctx *x, struct og_snip *s, const struct segenv *e)
{
    struct rng *r = x->r;
    int i = pick_loadable(x, e, true);
    if (i < 0)
        return;
    const struct sdesc *d = &e->d[i];
    x->c->sel[S_SS] = ldt_sel((unsigned)i, 3);
    unsigned op = rng_below(r, 7); /* push, pop, pusha, popa, call, ret, [ss:]-access */
    bool w16 = op < 4 && rng_one_in(r, 5);
    unsigned n = w16 ? 2 : 4;
    unsigned slots = (op == 2 || op == 3) ? 8 : 1;
    bool pushes = op == 0 || op == 2 || op == 4;
    uint32_t mask = d->b32 ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t lo = 0;
    bool found = false;
    for (int t = 0; t < 16 && !found; t++) {
        if (!pick_off(r, d, slots * n, !d->b32, &lo))
            continue;
        found = stack_slots_safe(d, lo, slots, n);
    }
    if (!found)
        return;
    uint32_t esp_off = (pushes ? lo + slots * n : lo) & mask;
    uint32_t esp = d->b32 ? esp_off : ((rng_u32(r) & 0xFFFF0000u) | esp_off);
    sn_preset(s, R_ESP, esp, true);
    switch (op) {
    case 0: sn_prefixes(s, r, w16, false, 0, false, 0); sn_b(s, (uint8_t)(0x50 + rng_below(r, 8))); break;
    case 1: sn_prefixes(s, r, w16, false, 0, false, 0); sn_b(s, (uint8_t)(0x58 + og_reg(x, RB(R_ESP)))); break;
    case 2: sn_prefixes(s, r, w16, false, 0, false, 0); sn_b(s, 0x60); s->fault_partial = true; break;
    case 3: sn_prefixes(s, r, w16, false, 0, false, 0); sn_b(s, 0x61); s->fault_partial = true; break;
    case 4: /* call to the next instruction: pushes the return address */
        sn_b(s, 0xE8);
        sn_d(s, 0);
        break;
    case 5: { /* ret: a readable slot holds the address of the UD2 after it; a slot outside the
               * limit or the data area faults before EIP changes */
        uint32_t lin = d->base + esp_off;
        bool readable = within(d, esp_off, 4);
        if (readable && !(lin >= ORN_DATA_BASE && lin + 4 <= ORN_GUARD_BASE)) {
            /* only a not-present page may be behind a readable slot outside the data area */
            if (!safe_linear(d->base, esp_off, 4))
                return;
        }
        sn_b(s, 0xC3);
        if (readable)
            sn_mem_val(s, lin, x->eip + s->len, 4);
        break;
    }
    default: {
        uint32_t off;
        if (!pick_off(r, d, n, false, &off))
            off = d->lim + 1;
        emit_access(x, s, S_SS, off, n, rng_below(r, 4), 0);
        break;
    }
    }
}

/* Selectors worth loading: LDT entries with any RPL, null, the user GDT segments, kernel and
 * system GDT entries, and selectors past both table limits. */
static uint16_t pick_selector(struct rng *r)
{
    switch (rng_below(r, 10)) {
    case 0: case 1: case 2: case 3: return ldt_sel(rng_below(r, ORN_LDT_ENTRIES), rng_below(r, 4));
    case 4: return (uint16_t)rng_below(r, 4); /* null */
    case 5: { static const uint16_t u[] = { 0x2B, 0x28, 0x23, 0x33, 0x2A }; return u[rng_below(r, 5)]; }
    case 6: return (uint16_t)((1 + rng_below(r, 11)) << 3 | rng_below(r, 4)); /* GDT 1..11 */
    case 7: return (uint16_t)(0x80 | rng_below(r, 0x7F80)) & (uint16_t)~4u; /* past the GDT */
    case 8: return ldt_sel(ORN_LDT_ENTRIES + rng_below(r, 64), rng_below(r, 4)); /* past the LDT */
    default: return (uint16_t)rng_u32(r); /* noise (TLS slots are replaced by the caller) */
    }
}

static bool tls_slot(uint16_t sel)
{
    return !(sel & 4) && (sel >> 3) >= 12 && (sel >> 3) <= 15;
}

static void op_load(struct og_ctx *x, struct og_snip *s, const struct segenv *e)
{
    struct rng *r = x->r;
    static const unsigned segs[5] = { S_ES, S_SS, S_DS, S_FS, S_GS };
    unsigned seg = segs[rng_below(r, 5)];
    uint16_t sel = pick_selector(r);
    if (tls_slot(sel))
        sel = 0x2B;
    unsigned how = rng_below(r, 4); /* 0 mov r16, 1 mov m16, 2 pop, 3 lXs */
    uint8_t clobbered = 0; /* registers the load writes: the access after it must not use them */
    if (seg == S_SS && how == 2)
        how = 0; /* POP SS with a 16-bit SS would move the stack under us */
    switch (how) {
    case 0: {
        unsigned reg = og_reg(x, RB(R_ESP));
        if (rng_one_in(r, 3))
            sn_b(s, 0x66);
        sn_b(s, 0x8E);
        sn_modrm_reg(s, seg, reg);
        sn_preset(s, reg, (rng_one_in(r, 2) ? rng_u32(r) & 0xFFFF0000u : 0) | sel, true);
        break;
    }
    case 1: {
        uint32_t off = ORN_DATA_BASE + rng_below(r, ORN_DATA_SIZE - 2);
        struct og_mem m;
        og_mem_plan(x, off, RB(R_ESP), 0, &m);
        sn_presets_from_mem(s, &m);
        sn_prefixes(s, r, false, m.a16, 0, false, 0);
        sn_b(s, 0x8E);
        sn_modrm_mem(s, seg, &m);
        sn_mem_val(s, off, sel, 2);
        break;
    }
    case 2: {
        uint32_t esp = ORN_DATA_BASE + 0x1000 + (rng_below(r, 0x2000) & ~3u);
        sn_preset(s, R_ESP, esp, true);
        sn_mem_val(s, esp, (rng_u32(r) & 0xFFFF0000u) | sel, 4);
        if (rng_one_in(r, 4))
            sn_b(s, 0x66);
        switch (seg) {
        case S_ES: sn_b(s, 0x07); break;
        case S_DS: sn_b(s, 0x1F); break;
        case S_FS: sn_b(s, 0x0F); sn_b(s, 0xA1); break;
        default: sn_b(s, 0x0F); sn_b(s, 0xA9); break;
        }
        break;
    }
    default: { /* LDS/LES/LFS/LGS/LSS reg, m16:32 */
        bool w16 = rng_one_in(r, 4);
        uint32_t off = ORN_DATA_BASE + rng_below(r, ORN_DATA_SIZE - 6);
        if (rng_one_in(r, 10))
            off = ORN_GUARD_BASE - 1 - rng_below(r, 5); /* the pointer straddles the guard page */
        struct og_mem m;
        og_mem_plan(x, off, RB(R_ESP), 0, &m);
        unsigned dst = og_reg(x, (uint8_t)(m.regs | RB(R_ESP)));
        clobbered = (uint8_t)RB(dst);
        sn_presets_from_mem(s, &m);
        sn_prefixes(s, r, w16, m.a16, 0, false, 0);
        switch (seg) {
        case S_ES: sn_b(s, 0xC4); break;
        case S_DS: sn_b(s, 0xC5); break;
        case S_SS: sn_b(s, 0x0F); sn_b(s, 0xB2); break;
        case S_FS: sn_b(s, 0x0F); sn_b(s, 0xB4); break;
        default: sn_b(s, 0x0F); sn_b(s, 0xB5); break;
        }
        sn_modrm_mem(s, dst, &m);
        unsigned osz = w16 ? 2 : 4;
        sn_mem_val(s, off, og_val(r, 4), osz);
        sn_mem_val(s, off + osz, sel, 2);
        break;
    }
    }
    if (seg == S_SS)
        return; /* stack use after loading SS is op_stack's business */
    /* now use the segment just loaded (or fault on a null one) */
    if (rng_one_in(r, 3))
        return;
    unsigned n = og_size(r);
    uint32_t off = og_data_off(x, n, false);
    unsigned idx = (sel >> 3) & 0x1FFF;
    if ((sel & 4) && idx < ORN_LDT_ENTRIES) {
        const struct sdesc *d = &e->d[idx];
        if (d->kind == SD_EMPTY || d->kind == SD_NP || d->kind == SD_CODE_X)
            off = 0; /* the load faults first */
        else if (!pick_off(r, d, n, false, &off))
            return;
    } else if (sel > 3 && (sel & ~3u) != 0x28 && (sel & ~3u) != 0x20 && (sel & ~3u) != 0x30) {
        off = 0; /* anything else fails to load */
    }
    emit_access(x, s, seg, off, n, rng_below(r, 4), clobbered);
}

static void op_check(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    uint16_t sel = pick_selector(r);
    if (tls_slot(sel))
        sel = 0x23;
    unsigned k = rng_below(r, 5); /* LAR LSL VERR VERW ARPL */
    unsigned src = og_reg(x, RB(R_ESP));
    sn_preset(s, src, (rng_u32(r) & 0xFFFF0000u) | sel, true);
    if (k <= 1) {
        unsigned dst = og_dst_reg(x, RB(src));
        bool w16 = rng_one_in(r, 3);
        if (w16)
            sn_b(s, 0x66);
        else if (k == 0)
            s->reg_ignore[dst] = 0x000F0000u; /* LAR: bits 19:16 undefined (SDM: 00FxFF00H) */
        sn_b(s, 0x0F);
        sn_b(s, k == 0 ? 0x02 : 0x03);
        sn_modrm_reg(s, dst, src);
        og_value_reg(x, s, dst, 4);
        sn_flags(s, k == 0 ? IR_LAR : IR_LSL, 4, 0);
    } else if (k <= 3) {
        sn_b(s, 0x0F);
        sn_b(s, 0x00);
        sn_modrm_reg(s, k == 2 ? 4 : 5, src);
        sn_flags(s, k == 2 ? IR_VERR : IR_VERW, 2, 0);
    } else {
        unsigned other = og_reg(x, RB(src) | RB(R_ESP));
        sn_b(s, 0x63);
        sn_modrm_reg(s, other, src);
        og_value_reg(x, s, other, 4);
        sn_flags(s, IR_ARPL, 2, 0);
    }
}

static void op_string(struct og_ctx *x, struct og_snip *s, const struct segenv *e)
{
    struct rng *r = x->r;
    int i = pick_loadable(x, e, rng_one_in(r, 2));
    if (i < 0)
        return;
    const struct sdesc *d = &e->d[i];
    bool dst_side = writable(d) && rng_one_in(r, 2);
    unsigned size = og_size(r);
    /* run towards the limit: a few elements inside, the rest past it */
    uint32_t start;
    if (!pick_off(r, d, size, false, &start))
        return;
    uint32_t n = 1 + rng_below(r, 12);
    uint32_t flat = ORN_DATA_BASE + 0x1000 + rng_below(r, 0x1000);
    s->eflags_clear |= OF_DF;
    if (dst_side) {
        x->c->sel[S_ES] = ldt_sel((unsigned)i, 3);
        /* every element up to the limit must be safe too */
        for (uint32_t k = 0; k < n; k++)
            if (within(d, start + k * size, size) && !safe_linear(d->base, start + k * size, size))
                return;
        sn_b(s, 0xF3);
        if (size == 2)
            sn_b(s, 0x66);
        sn_b(s, (uint8_t)(0xAA | (size != 1))); /* rep stos */
        sn_preset(s, R_EDI, start, true);
    } else {
        x->c->sel[S_DS] = ldt_sel((unsigned)i, 3);
        for (uint32_t k = 0; k < n; k++)
            if (within(d, start + k * size, size) && !safe_linear(d->base, start + k * size, size))
                return;
        sn_b(s, 0xF3);
        if (size == 2)
            sn_b(s, 0x66);
        sn_b(s, (uint8_t)(0xA4 | (size != 1))); /* rep movs ds:esi -> es:edi (flat) */
        sn_preset(s, R_ESI, start, true);
        sn_preset(s, R_EDI, flat, true);
    }
    sn_preset(s, R_ECX, n, true);
    og_value_reg(x, s, R_EAX, 4);
}

void gen_segment(struct og_ctx *x, struct og_snip *s)
{
    s->no_seq = true;
    if (!x->c)
        return;
    struct segenv e;
    build_env(x, &e);
    switch (rng_below(x->r, 20)) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: op_access(x, s, &e); break;
    case 7: case 8: case 9: case 10: op_stack(x, s, &e); break;
    case 11: case 12: case 13: case 14: case 15: op_load(x, s, &e); break;
    case 16: case 17: op_check(x, s); break;
    default: op_string(x, s, &e); break;
    }
}
