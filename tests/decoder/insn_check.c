/*
 * insn_check.c - structural check and canonical text of a decoded instruction (test helper).
 * Trusts nothing in the instruction: every field is range-checked before it is used as an index.
 */
#include "tests/decoder/insn_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const op_names[] = {
#define NAME(n, d) #n,
    IR_OPS(NAME)
#undef NAME
};

const char *insn_op_name(unsigned op)
{
    return op < IR_OP_COUNT ? op_names[op] : "?";
}

static bool op_is(unsigned op, const unsigned *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == op)
            return true;
    return false;
}

static const unsigned lockable[] = { IR_ADD, IR_OR, IR_ADC, IR_SBB, IR_AND, IR_SUB, IR_XOR,
                                     IR_NOT, IR_NEG, IR_INC, IR_DEC, IR_XCHG, IR_XADD,
                                     IR_CMPXCHG, IR_CMPXCHG8B, IR_BTS, IR_BTR, IR_BTC };
static const unsigned strings[] = { IR_MOVS, IR_CMPS, IR_STOS, IR_LODS, IR_SCAS, IR_INS, IR_OUTS };
static const unsigned relbranch[] = { IR_JCC, IR_JCXZ, IR_LOOP, IR_LOOPE, IR_LOOPNE };
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (whylen)
        vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

static bool size_ok(unsigned kind, unsigned size)
{
    switch (kind) {
    case IR_OPK_REG:
    case IR_OPK_IMM:
        return size == 1 || size == 2 || size == 4;
    case IR_OPK_MEM:
        return size == 1 || size == 2 || size == 4 || size == 6 || size == 8 || size == 10 ||
               size == 14 || size == 28 || size == 94 || size == 108;
    case IR_OPK_SREG:
        return size == 2;
    case IR_OPK_CREG:
    case IR_OPK_DREG:
        return size == 4;
    default:
        return false;
    }
}

static bool reg_ok(unsigned kind, unsigned reg)
{
    return kind == IR_OPK_SREG ? reg < IR_NSREG : reg < 8;
}

static int check_mem(const struct ir_insn *in, char *why, size_t whylen)
{
    const struct ir_mem *m = &in->mem;
    if (m->seg >= IR_NSREG)
        return fail(why, whylen, "mem.seg %u", m->seg);
    if (m->base != IR_NOREG && m->base > 7)
        return fail(why, whylen, "mem.base %u", m->base);
    if (m->index != IR_NOREG && (m->index > 7 || m->index == IR_ESP))
        return fail(why, whylen, "mem.index %u", m->index);
    if (m->scale > 3 || (m->index == IR_NOREG && m->scale))
        return fail(why, whylen, "mem.scale %u", m->scale);
    if (in->asize == 2) {
        bool b_ok = m->base == IR_NOREG || m->base == IR_EBX || m->base == IR_EBP ||
                    m->base == IR_ESI || m->base == IR_EDI;
        bool i_ok = m->index == IR_NOREG ||
                    ((m->index == IR_ESI || m->index == IR_EDI) &&
                     (m->base == IR_EBX || m->base == IR_EBP));
        if (!b_ok || !i_ok || m->scale)
            return fail(why, whylen, "16-bit form base %u index %u scale %u", m->base, m->index,
                        m->scale);
        if (m->disp < -32768 || m->disp > 32767)
            return fail(why, whylen, "16-bit displacement %d", m->disp);
    }
    return 0;
}

int insn_check(const struct ir_insn *in, char *why, size_t whylen)
{
    if (in->op >= IR_OP_COUNT)
        return fail(why, whylen, "op %u out of range", in->op);
    if (in->len < 1 || in->len > IR_MAX_INSN_LEN)
        return fail(why, whylen, "len %u", in->len);
    if (in->osize != 1 && in->osize != 2 && in->osize != 4)
        return fail(why, whylen, "osize %u", in->osize);
    if (in->asize != 2 && in->asize != 4)
        return fail(why, whylen, "asize %u", in->asize);
    if (in->prefix & ~(IR_PF_LOCK | IR_PF_REP | IR_PF_REPNE | IR_PF_SEGOV))
        return fail(why, whylen, "unknown prefix bits %#x", in->prefix);
    if (in->flags & ~(IR_F_ENDS_BLOCK | IR_F_PRIV | IR_F_WRITES_MEM | IR_F_READS_MEM | IR_F_TOO_LONG))
        return fail(why, whylen, "unknown flag bits %#x", in->flags);
    if (in->pad || in->opd[0].pad || in->opd[1].pad || in->opd[2].pad)
        return fail(why, whylen, "padding not zero");

    if (in->op == IR_INVALID) {
        if (!(in->flags & IR_F_ENDS_BLOCK) ||
            (in->flags & (IR_F_PRIV | IR_F_READS_MEM | IR_F_WRITES_MEM)))
            return fail(why, whylen, "INVALID flags %#x", in->flags);
        if ((in->flags & IR_F_TOO_LONG) && in->len != IR_MAX_INSN_LEN)
            return fail(why, whylen, "TOO_LONG with len %u", in->len);
        if (in->prefix || in->opd[0].kind || in->imm || in->imm2 || in->x87 || in->cond)
            return fail(why, whylen, "INVALID carries operands or prefixes");
    } else if (in->flags & IR_F_TOO_LONG) {
        return fail(why, whylen, "TOO_LONG on a valid op");
    }

    unsigned nmem = 0, nimm = 0, imm_size = 0;
    bool ended = false;
    for (unsigned i = 0; i < 3; i++) {
        const struct ir_operand *o = &in->opd[i];
        if (o->kind >= IR_OPK_COUNT)
            return fail(why, whylen, "opd[%u].kind %u", i, o->kind);
        if (o->kind == IR_OPK_NONE) {
            if (o->size || o->reg)
                return fail(why, whylen, "opd[%u] NONE with fields set", i);
            ended = true;
            continue;
        }
        if (ended)
            return fail(why, whylen, "opd[%u] after an empty slot", i);
        if (!size_ok(o->kind, o->size))
            return fail(why, whylen, "opd[%u] kind %u size %u", i, o->kind, o->size);
        if (o->kind == IR_OPK_MEM || o->kind == IR_OPK_IMM) {
            if (o->reg)
                return fail(why, whylen, "opd[%u] reg set on MEM/IMM", i);
        } else if (!reg_ok(o->kind, o->reg)) {
            return fail(why, whylen, "opd[%u] kind %u reg %u", i, o->kind, o->reg);
        }
        nmem += o->kind == IR_OPK_MEM;
        if (o->kind == IR_OPK_IMM) {
            nimm++;
            imm_size = o->size;
        }
    }
    if (nmem > 1 || nimm > 1)
        return fail(why, whylen, "%u MEM and %u IMM operands", nmem, nimm);
    if (nimm && imm_size < 4 && in->imm >> (8 * imm_size))
        return fail(why, whylen, "imm %#x wider than %u bytes", in->imm, imm_size);

    bool is_string = op_is(in->op, strings, N(strings));
    bool uses_mem = nmem || is_string || in->op == IR_XLAT;
    if (uses_mem) {
        if (check_mem(in, why, whylen))
            return -1;
    } else if (in->mem.seg != IR_DS || in->mem.base != IR_NOREG || in->mem.index != IR_NOREG ||
               in->mem.scale || in->mem.disp) {
        return fail(why, whylen, "mem not in its empty form without a memory operand");
    }
    if ((in->flags & (IR_F_READS_MEM | IR_F_WRITES_MEM)) && !uses_mem)
        return fail(why, whylen, "memory access flags without memory");
    if ((in->prefix & IR_PF_SEGOV) && !uses_mem)
        return fail(why, whylen, "SEGOV without memory");
    if ((in->prefix & IR_PF_LOCK) && !(nmem && op_is(in->op, lockable, N(lockable))))
        return fail(why, whylen, "LOCK on a form that cannot be locked");
    if ((in->prefix & (IR_PF_REP | IR_PF_REPNE)) &&
        (!is_string || (in->prefix & IR_PF_REP && in->prefix & IR_PF_REPNE)))
        return fail(why, whylen, "REP prefix %#x on op %s", in->prefix, insn_op_name(in->op));

    bool has_cond = in->op == IR_JCC || in->op == IR_SETCC || in->op == IR_CMOV;
    if (in->cond > 15 || (!has_cond && in->cond))
        return fail(why, whylen, "cond %u", in->cond);
    if (in->op == IR_X87) {
        if ((in->x87 >> 8) > 7)
            return fail(why, whylen, "x87 %#x", in->x87);
        if (nmem ? (in->x87 & 0xC7) != 0 : ((in->x87 & 0xC0) != 0xC0 || in->opd[0].kind))
            return fail(why, whylen, "x87 %#x does not match its operands", in->x87);
    } else if (in->x87) {
        return fail(why, whylen, "x87 field on a non-x87 op");
    }
    bool is_rel = op_is(in->op, relbranch, N(relbranch)) ||
                  ((in->op == IR_JMP || in->op == IR_CALL) && !in->opd[0].kind);
    if (is_rel && in->osize == 2 && in->imm > 0xFFFF)
        return fail(why, whylen, "16-bit branch target %#x", in->imm);
    if ((is_rel || in->op == IR_JMP_IND || in->op == IR_CALL_IND || in->op == IR_RET ||
         in->op == IR_IRET || in->op == IR_INT) && !(in->flags & IR_F_ENDS_BLOCK))
        return fail(why, whylen, "control transfer without ENDS_BLOCK");
    return 0;
}

static const char *const seg_names[] = { "es", "cs", "ss", "ds", "fs", "gs" };
static const char *const reg_names[] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

struct out {
    char *buf;
    size_t len, pos;
};

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (o->pos < o->len) {
        int n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
        if (n > 0)
            o->pos += (size_t)n;
    }
    va_end(ap);
}

char *insn_format(const struct ir_insn *in, char *buf, size_t len)
{
    struct out o = { buf, len, 0 };
    if (len)
        buf[0] = 0;
    put(&o, "%s len=%u os=%u as=%u", insn_op_name(in->op), in->len, in->osize, in->asize);
    if (in->op == IR_JCC || in->op == IR_SETCC || in->op == IR_CMOV || in->cond)
        put(&o, " cc=%u", in->cond);
    if (in->prefix) {
        const char *sep = " pf=";
        static const char *const pn[] = { "lock", "rep", "repne", "seg" };
        for (unsigned i = 0; i < 4; i++)
            if (in->prefix & (1u << i)) {
                put(&o, "%s%s", sep, pn[i]);
                sep = ",";
            }
        if (in->prefix & 0xF0)
            put(&o, "%s%#x", sep, in->prefix & 0xF0);
    }
    if (in->flags) {
        put(&o, " fl=");
        if (in->flags & IR_F_ENDS_BLOCK) put(&o, "E");
        if (in->flags & IR_F_PRIV) put(&o, "P");
        if (in->flags & IR_F_READS_MEM) put(&o, "R");
        if (in->flags & IR_F_WRITES_MEM) put(&o, "W");
        if (in->flags & IR_F_TOO_LONG) put(&o, "L");
    }
    bool mem = in->op == IR_XLAT || op_is(in->op, strings, N(strings));
    for (unsigned i = 0; i < 3; i++) {
        const struct ir_operand *p = &in->opd[i];
        switch (p->kind) {
        case IR_OPK_NONE: break;
        case IR_OPK_REG: put(&o, " r%u:%u", p->size, p->reg); break;
        case IR_OPK_MEM: put(&o, " m%u", p->size); mem = true; break;
        case IR_OPK_IMM: put(&o, " i%u", p->size); break;
        case IR_OPK_SREG: put(&o, " sreg:%u", p->reg); break;
        case IR_OPK_CREG: put(&o, " cr:%u", p->reg); break;
        case IR_OPK_DREG: put(&o, " dr:%u", p->reg); break;
        default: put(&o, " ?%u", p->kind); break;
        }
    }
    if (mem) {
        const struct ir_mem *m = &in->mem;
        bool any = false;
        put(&o, " [%s:", m->seg < IR_NSREG ? seg_names[m->seg] : "?");
        if (m->base < 8) {
            put(&o, "%s", reg_names[m->base]);
            any = true;
        }
        if (m->index < 8) {
            put(&o, "%s%s*%u", any ? "+" : "", reg_names[m->index], 1u << (m->scale & 3));
            any = true;
        }
        if (m->disp || !any) {
            if (m->disp < 0)
                put(&o, "-%#x", (unsigned)-(int64_t)m->disp);
            else
                put(&o, "%s%#x", any ? "+" : "", (unsigned)m->disp);
        }
        put(&o, "]");
    }
    if (in->imm)
        put(&o, " imm=%#x", in->imm);
    if (in->imm2)
        put(&o, " imm2=%#x", in->imm2);
    if (in->x87)
        put(&o, " x87=%#x", in->x87);
    return buf;
}
