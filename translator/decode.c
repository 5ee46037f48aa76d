/*
 * decode.c - the generic part of the IA-32 decoder: prefixes, opcode-table lookup, ModRM / SIB /
 * displacement, immediates, and the normalisation into one struct ir_insn.
 *
 * Trusts: the constant tables in decode_tables.c. Does not trust: the guest bytes, of which it
 * reads at most min(avail, 15), each read bounds-checked. No allocation, no globals, no
 * recursion: one pass over the bytes with table lookups.
 *
 * Lengths: an instruction that decodes to IR_INVALID has len = the bytes examined before the
 * decoder knew it was invalid (prefixes, opcode, ModRM, sometimes SIB/displacement), so decoding
 * exactly those bytes again gives the same result.
 */
#include "translator/decode.h"

#include <stdbool.h>
#include <string.h>

#include "translator/decode_tables.h"

/* Why a read could not be satisfied. */
enum fetch { FETCH_OK, FETCH_MORE, FETCH_LONG };

struct cursor {
    const uint8_t *b;
    unsigned lim; /* readable bytes: min(avail, IR_MAX_INSN_LEN) */
    unsigned pos;
};

static inline enum fetch need(const struct cursor *c, unsigned n)
{
    unsigned end = c->pos + n;
    if (end <= c->lim)
        return FETCH_OK;
    return end > IR_MAX_INSN_LEN ? FETCH_LONG : FETCH_MORE;
}

/* Little-endian read of n = 1, 2 or 4 bytes; need() has approved it. */
static inline uint32_t take(struct cursor *c, unsigned n)
{
    const uint8_t *p = c->b + c->pos;
    uint32_t v = p[0];
    if (n >= 2)
        v |= (uint32_t)p[1] << 8;
    if (n == 4)
        v |= (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    c->pos += n;
    return v;
}

static inline int32_t sext(uint32_t v, unsigned n)
{
    if (n == 1)
        return (int8_t)v;
    if (n == 2)
        return (int16_t)v;
    return (int32_t)v;
}

static inline uint32_t size_mask(unsigned n)
{
    return n == 4 ? 0xFFFFFFFFu : (1u << (8 * n)) - 1;
}

/*
 * The memory form of a ModRM byte (mod != 3) plus SIB and displacement. 16-bit forms map onto
 * the same base + index << scale + disp shape with scale 0: [BX+SI] is base EBX, index ESI;
 * [BP+DI] base EBP, index EDI; [SI]/[DI]/[BX] a lone base; [BP]+disp base EBP; mod 0 rm 6 a
 * bare disp16. The engine masks the sum to the address size. Default segment: SS when the base
 * is EBP/ESP (BP in 16-bit forms), else DS.
 */
static enum fetch parse_mem(struct cursor *c, uint8_t modrm, unsigned asize, struct ir_mem *m)
{
    static const uint8_t base16[8] = { IR_EBX, IR_EBX, IR_EBP, IR_EBP, IR_ESI, IR_EDI, IR_EBP, IR_EBX };
    static const uint8_t index16[8] = { IR_ESI, IR_EDI, IR_ESI, IR_EDI,
                                        IR_NOREG, IR_NOREG, IR_NOREG, IR_NOREG };
    unsigned mod = modrm >> 6, rm = modrm & 7;
    enum fetch f;

    m->seg = IR_DS;
    m->base = IR_NOREG;
    m->index = IR_NOREG;
    m->scale = 0;
    m->disp = 0;
    if (asize == 2) {
        if (mod == 0 && rm == 6) {
            if ((f = need(c, 2)) != FETCH_OK)
                return f;
            m->disp = sext(take(c, 2), 2);
            return FETCH_OK;
        }
        m->base = base16[rm];
        m->index = index16[rm];
        if (m->base == IR_EBP)
            m->seg = IR_SS;
        if (mod == 1 || mod == 2) {
            unsigned n = mod == 1 ? 1 : 2;
            if ((f = need(c, n)) != FETCH_OK)
                return f;
            m->disp = sext(take(c, n), n);
        }
        return FETCH_OK;
    }

    unsigned base = rm;
    if (rm == 4) {
        if ((f = need(c, 1)) != FETCH_OK)
            return f;
        uint8_t sib = (uint8_t)take(c, 1);
        unsigned index = (sib >> 3) & 7;
        base = sib & 7;
        if (index != IR_ESP) { /* index 4 means none; its scale bits are ignored */
            m->index = (uint8_t)index;
            m->scale = sib >> 6;
        }
    }
    if (base == IR_EBP && mod == 0) {
        if ((f = need(c, 4)) != FETCH_OK)
            return f;
        m->disp = (int32_t)take(c, 4);
        return FETCH_OK;
    }
    m->base = (uint8_t)base;
    if (base == IR_EBP || base == IR_ESP)
        m->seg = IR_SS;
    if (mod == 1 || mod == 2) {
        unsigned n = mod == 1 ? 1 : 4;
        if ((f = need(c, n)) != FETCH_OK)
            return f;
        m->disp = sext(take(c, n), n);
    }
    return FETCH_OK;
}

static unsigned resolve_size(uint8_t cls, unsigned os, unsigned osize, bool is_mem)
{
    switch (cls) {
    case SZ_OS: return os;
    case SZ_B: return 1;
    case SZ_W: return 2;
    case SZ_D: return 4;
    case SZ_FP: return osize + 2;
    case SZ_Q: return 8;
    case SZ_DT: return 6;
    case SZ_2OS: return 2 * osize;
    case SZ_WM: return is_mem ? 2 : osize;
    case SZ_T: return 10;
    case SZ_ENV: return osize == 2 ? 14 : 28;
    case SZ_STATE: return osize == 2 ? 94 : 108;
    default: return os;
    }
}

static void reset(struct ir_insn *out, unsigned osize, unsigned asize)
{
    memset(out, 0, sizeof(*out));
    out->op = IR_INVALID;
    out->osize = (uint8_t)osize;
    out->asize = (uint8_t)asize;
    out->mem.seg = IR_DS;
    out->mem.base = IR_NOREG;
    out->mem.index = IR_NOREG;
}

static int finish_invalid(struct ir_insn *out, unsigned len, unsigned osize, unsigned asize)
{
    reset(out, osize, asize);
    out->len = (uint8_t)len;
    out->flags = IR_F_ENDS_BLOCK;
    return DEC_OK;
}

static int finish_fetch(struct ir_insn *out, enum fetch f, unsigned osize, unsigned asize)
{
    reset(out, osize, asize);
    if (f == FETCH_MORE)
        return DEC_NEED_MORE;
    out->len = IR_MAX_INSN_LEN;
    out->flags = IR_F_ENDS_BLOCK | IR_F_TOO_LONG;
    return DEC_OK;
}

int decode_one(const uint8_t *bytes, size_t avail, uint32_t eip, unsigned mode, struct ir_insn *out)
{
    struct cursor c = { bytes, avail < IR_MAX_INSN_LEN ? (unsigned)avail : IR_MAX_INSN_LEN, 0 };
    const bool def32 = (mode & DEC_MODE_CS32) != 0;
    unsigned osize = def32 ? 4 : 2, asize = def32 ? 4 : 2;
    int segov = -1;
    uint8_t pfx = 0;
    enum fetch f;

    /* Prefixes: any number, any order; the last segment override and the last of F2/F3 win. */
    for (;;) {
        if ((f = need(&c, 1)) != FETCH_OK)
            return finish_fetch(out, f, osize, asize);
        switch (c.b[c.pos]) {
        case 0x26: segov = IR_ES; break;
        case 0x2E: segov = IR_CS; break;
        case 0x36: segov = IR_SS; break;
        case 0x3E: segov = IR_DS; break;
        case 0x64: segov = IR_FS; break;
        case 0x65: segov = IR_GS; break;
        case 0x66: osize = def32 ? 2 : 4; break;
        case 0x67: asize = def32 ? 2 : 4; break;
        case 0xF0: pfx |= IR_PF_LOCK; break;
        case 0xF2: pfx = (uint8_t)((pfx & ~IR_PF_REP) | IR_PF_REPNE); break;
        case 0xF3: pfx = (uint8_t)((pfx & ~IR_PF_REPNE) | IR_PF_REP); break;
        default: goto opcode;
        }
        c.pos++;
    }

opcode:;
    uint8_t opc = (uint8_t)take(&c, 1);
    const struct dec_entry *e;
    if (opc == 0x0F) {
        if ((f = need(&c, 1)) != FETCH_OK)
            return finish_fetch(out, f, osize, asize);
        opc = (uint8_t)take(&c, 1);
        e = &dec_map2[opc];
    } else {
        e = &dec_map1[opc];
    }
    if (e->op == IR_INVALID && !(e->flags & D_GROUP))
        return finish_invalid(out, c.pos, osize, asize);

    uint8_t modrm = 0;
    if (e->flags & D_MODRM) {
        if ((f = need(&c, 1)) != FETCH_OK)
            return finish_fetch(out, f, osize, asize);
        modrm = (uint8_t)take(&c, 1);
    }
    const unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    uint16_t x87 = 0;
    if (e->flags & D_GROUP) {
        e = &dec_groups[e->arg][reg];
    } else if (e->flags & D_X87) {
        x87 = (uint16_t)((opc & 7) << 8);
        if (mod == 3) {
            if ((pfx & IR_PF_LOCK) || !(dec_x87_reg_valid[opc & 7] >> (modrm & 63) & 1))
                return finish_invalid(out, c.pos, osize, asize);
            reset(out, osize, asize);
            out->op = IR_X87;
            out->len = (uint8_t)c.pos;
            out->x87 = (uint16_t)(x87 | modrm);
            return DEC_OK;
        }
        x87 |= modrm & 0x38;
        e = &dec_x87_mem[opc & 7][reg];
    }

    const uint16_t fl = e->flags;
    const bool is_mem = (fl & D_MODRM) && mod != 3 && !(fl & D_MODREG);
    if (e->op == IR_INVALID || ((fl & D_MEMONLY) && mod == 3) ||
        ((fl & D_PMODE) && !(mode & DEC_MODE_PE)) ||
        ((pfx & IR_PF_LOCK) && (!(fl & D_LOCK) || !is_mem)))
        return finish_invalid(out, c.pos, osize, asize);

    const unsigned os = (fl & D_BYTE) ? 1 : osize;
    reset(out, osize, asize);
    struct ir_insn *in = out;
    in->op = e->op;
    in->osize = (uint8_t)os;
    in->x87 = x87;
    if (fl & D_COND)
        in->cond = opc & 0xF;
    if (is_mem && (f = parse_mem(&c, modrm, asize, &in->mem)) != FETCH_OK)
        return finish_fetch(out, f, osize, asize);

    uint8_t flags = 0;
    bool uses_mem = (fl & D_STRING) != 0, has_rel = false;
    int32_t rel = 0;
    unsigned n = 0; /* IR operands emitted */
    for (unsigned i = 0; i < 3 && e->s[i].kind != K_NONE; i++) {
        const struct dec_spec *s = &e->s[i];
        const unsigned size = resolve_size(s->size, os, osize, is_mem);
        struct ir_operand *o = &in->opd[n];
        switch (s->kind) {
        case K_E:
        case K_M:
            o->kind = is_mem ? IR_OPK_MEM : IR_OPK_REG;
            o->reg = is_mem ? 0 : (uint8_t)rm;
            uses_mem |= is_mem;
            break;
        case K_G: o->kind = IR_OPK_REG; o->reg = (uint8_t)reg; break;
        case K_R: o->kind = IR_OPK_REG; o->reg = (uint8_t)rm; break;
        case K_S:
        case K_SW:
            if (reg >= IR_NSREG || (s->kind == K_SW && reg == IR_CS))
                return finish_invalid(out, c.pos, osize, asize);
            if (s->kind == K_SW && reg == IR_SS)
                flags |= IR_F_ENDS_BLOCK; /* MOV SS: interrupt shadow */
            o->kind = IR_OPK_SREG;
            o->reg = (uint8_t)reg;
            break;
        case K_C: o->kind = IR_OPK_CREG; o->reg = (uint8_t)reg; break;
        case K_D: o->kind = IR_OPK_DREG; o->reg = (uint8_t)reg; break;
        case K_Z: o->kind = IR_OPK_REG; o->reg = opc & 7; break;
        case K_ACC: o->kind = IR_OPK_REG; o->reg = IR_EAX; break;
        case K_CL: o->kind = IR_OPK_REG; o->reg = IR_ECX; break;
        case K_DX: o->kind = IR_OPK_REG; o->reg = IR_EDX; break;
        case K_ONE: o->kind = IR_OPK_IMM; in->imm = 1; break;
        case K_I:
        case K_IB:
        case K_IBS: {
            const unsigned w = s->kind == K_I ? size : 1;
            if ((f = need(&c, w)) != FETCH_OK)
                return finish_fetch(out, f, osize, asize);
            uint32_t v = take(&c, w);
            in->imm = s->kind == K_IBS ? (uint32_t)sext(v, 1) & size_mask(size) : v;
            o->kind = IR_OPK_IMM;
            break;
        }
        case K_SREGFIX: o->kind = IR_OPK_SREG; o->reg = e->arg; break;
        case K_MOFFS:
            if ((f = need(&c, asize)) != FETCH_OK)
                return finish_fetch(out, f, osize, asize);
            in->mem.disp = sext(take(&c, asize), asize);
            o->kind = IR_OPK_MEM;
            uses_mem = true;
            break;
        case K_HIMM:
            if ((f = need(&c, size)) != FETCH_OK)
                return finish_fetch(out, f, osize, asize);
            in->imm = take(&c, size);
            continue;
        case K_HIMM2:
            if ((f = need(&c, 1)) != FETCH_OK)
                return finish_fetch(out, f, osize, asize);
            in->imm2 = take(&c, 1);
            continue;
        case K_JREL:
            if ((f = need(&c, size)) != FETCH_OK)
                return finish_fetch(out, f, osize, asize);
            rel = sext(take(&c, size), size);
            has_rel = true;
            continue;
        case K_FARPTR:
            if ((f = need(&c, osize + 2)) != FETCH_OK)
                return finish_fetch(out, f, osize, asize);
            in->imm = take(&c, osize);
            in->imm2 = take(&c, 2);
            continue;
        case K_XLAT:
            in->mem.base = IR_EBX;
            uses_mem = true;
            continue;
        case K_EIGN:
            /* decoded for its length only: keep the IR canonical */
            in->mem.seg = IR_DS;
            in->mem.base = in->mem.index = IR_NOREG;
            in->mem.scale = 0;
            in->mem.disp = 0;
            continue;
        default:
            return finish_invalid(out, c.pos, osize, asize);
        }
        o->size = (uint8_t)size;
        n++;
    }

    in->len = (uint8_t)c.pos;
    if (has_rel)
        in->imm = (eip + in->len + (uint32_t)rel) & size_mask(osize);
    if (fl & D_STRING)
        in->mem.base = IR_ESI;
    if (uses_mem) {
        if (fl & D_RD)
            flags |= IR_F_READS_MEM;
        if (fl & D_WR)
            flags |= IR_F_WRITES_MEM;
        if (segov >= 0) {
            in->mem.seg = (uint8_t)segov;
            in->prefix |= IR_PF_SEGOV;
        }
    }
    if (fl & D_ENDS)
        flags |= IR_F_ENDS_BLOCK;
    if (fl & D_PRIV)
        flags |= IR_F_PRIV;
    in->flags = flags;
    in->prefix |= pfx & IR_PF_LOCK;
    if (fl & D_STRING)
        in->prefix |= pfx & (IR_PF_REP | IR_PF_REPNE);
    return DEC_OK;
}
