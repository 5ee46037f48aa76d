/*
 * exec_alu.c - integer arithmetic and logic, shifts and rotates, multiply and divide, BCD
 * adjustments, bit tests and scans, and the instructions that only touch flags.
 *
 * Trusts: the instruction passed ir_insn_valid(), so operand kinds and sizes match the op.
 * Every handler reads its operands, computes, performs the one memory write that can fault, and
 * only then commits registers, flags and EIP, so a fault leaves the state untouched.
 *
 * Flags the SDM leaves undefined follow the reference host (an AMD family 19h part), measured
 * by running the instructions natively: shifts set AF; SHR/ROR/RCR/SHRD set OF from the top two
 * result bits and SHL/ROL/RCL/SHLD from the top bit and CF, at any count; MUL/IMUL and BSF/BSR and
 * BT* leave the undefined flags unchanged; DIV/IDIV set SF=ZF=PF=0, AF=1 and keep CF and OF;
 * AAA/AAS set SF/ZF/OF from the 16-bit AX adjustment; AAM clears CF/AF/OF; AAD and DAA/DAS set
 * the undefined flags as the underlying 8-bit addition or subtraction would.
 */
#include "vcpu/exec.h"

static uint32_t sext(uint32_t v, unsigned size)
{
    uint32_t sign = size_sign(size);
    v &= size_mask(size);
    return (v ^ sign) - sign;
}

static int finish(struct engine *e, const struct ir_insn *in)
{
    e->cpu->eip = eng_next_eip(e->cpu, in);
    return ENG_OK;
}

/* ---- two- and one-operand arithmetic ---- */

static int alu_binary(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t m = size_mask(size);
    uint32_t a, b, r, carry;
    unsigned kind;
    int rc;

    bool writes = in->op != IR_CMP && in->op != IR_TEST;
    if ((rc = writes ? opd_read_rmw(e, in, 0, &a) : opd_read(e, in, 0, &a)) ||
        (rc = opd_read(e, in, 1, &b)))
        return rc;
    a &= m;
    b &= m;
    switch (in->op) {
    case IR_ADD: r = a + b; kind = CC_OP_ADD; break;
    case IR_ADC:
        carry = flags_arith(cpu) & CPU_CF;
        r = a + b + carry;
        kind = CC_OP_ADC;
        break;
    case IR_SUB: case IR_CMP: r = a - b; kind = CC_OP_SUB; break;
    case IR_SBB:
        carry = flags_arith(cpu) & CPU_CF;
        r = a - b - carry;
        kind = CC_OP_SBB;
        break;
    case IR_AND: case IR_TEST: r = a & b; kind = CC_OP_LOGIC; break;
    case IR_OR: r = a | b; kind = CC_OP_LOGIC; break;
    default: r = a ^ b; kind = CC_OP_LOGIC; break;
    }
    r &= m;
    if (writes && (rc = opd_write(e, in, 0, r)))
        return rc;
    flags_lazy(cpu, kind, size, r, a, b);
    return finish(e, in);
}

static int alu_unary(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t m = size_mask(size);
    uint32_t a, r;
    int rc;

    if ((rc = opd_read_rmw(e, in, 0, &a)))
        return rc;
    a &= m;
    switch (in->op) {
    case IR_INC: r = (a + 1) & m; break;
    case IR_DEC: r = (a - 1) & m; break;
    case IR_NEG: r = (0 - a) & m; break;
    default: r = ~a & m; break;
    }
    if ((rc = opd_write(e, in, 0, r)))
        return rc;
    if (in->op == IR_INC || in->op == IR_DEC)
        flags_lazy(cpu, in->op == IR_INC ? CC_OP_INC : CC_OP_DEC, size, r, a,
                   flags_arith(cpu) & CPU_CF);
    else if (in->op == IR_NEG)
        flags_lazy(cpu, CC_OP_SUB, size, r, 0, a);
    return finish(e, in);
}

/* ---- multiply and divide ---- */

static int alu_mul1(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t src, acc;
    bool wide;
    int rc;

    if ((rc = opd_read(e, in, 0, &src)))
        return rc;
    acc = reg_get(cpu, IR_EAX, size);
    if (in->op == IR_MUL) {
        uint64_t p = (uint64_t)acc * (uint64_t)(src & size_mask(size));
        if (size == 1) {
            reg_put(cpu, IR_EAX, 2, (uint32_t)p);
            wide = (p >> 8) != 0;
        } else {
            reg_put(cpu, IR_EAX, size, (uint32_t)p);
            reg_put(cpu, IR_EDX, size, (uint32_t)(p >> (8 * size)));
            wide = (p >> (8 * size)) != 0;
        }
    } else {
        int64_t p = (int64_t)(int32_t)sext(acc, size) * (int64_t)(int32_t)sext(src, size);
        uint32_t lo = (uint32_t)p & size_mask(size);
        wide = (int64_t)(int32_t)sext(lo, size) != p;
        if (size == 1) {
            reg_put(cpu, IR_EAX, 2, (uint32_t)p);
        } else {
            reg_put(cpu, IR_EAX, size, (uint32_t)p);
            reg_put(cpu, IR_EDX, size, (uint32_t)((uint64_t)p >> (8 * size)));
        }
    }
    flags_set(cpu, CPU_CF | CPU_OF, wide ? CPU_CF | CPU_OF : 0);
    return finish(e, in);
}

static int alu_imul(struct engine *e, const struct ir_insn *in)
{
    unsigned size = in->osize;
    uint32_t a, b;
    int rc;

    if (in->opd[2].kind == IR_OPK_IMM) {
        if ((rc = opd_read(e, in, 1, &a)))
            return rc;
        b = in->imm;
    } else {
        if ((rc = opd_read(e, in, 0, &a)) || (rc = opd_read(e, in, 1, &b)))
            return rc;
    }
    int64_t p = (int64_t)(int32_t)sext(a, size) * (int64_t)(int32_t)sext(b, size);
    uint32_t r = (uint32_t)p & size_mask(size);
    bool wide = (int64_t)(int32_t)sext(r, size) != p;
    reg_put(e->cpu, in->opd[0].reg, size, r);
    flags_set(e->cpu, CPU_CF | CPU_OF, wide ? CPU_CF | CPU_OF : 0);
    return finish(e, in);
}

static int alu_div(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize, bits = 8 * size;
    uint32_t src, q, r;
    int rc;

    if ((rc = opd_read(e, in, 0, &src)))
        return rc;
    src &= size_mask(size);
    if (src == 0)
        return eng_raise(e, CPU_DE, false, 0);

    uint64_t dividend = size == 1 ? reg_get(cpu, IR_EAX, 2)
                                  : ((uint64_t)reg_get(cpu, IR_EDX, size) << bits) |
                                        reg_get(cpu, IR_EAX, size);
    if (in->op == IR_DIV) {
        uint64_t qq = dividend / src;
        if (qq > size_mask(size))
            return eng_raise(e, CPU_DE, false, 0);
        q = (uint32_t)qq;
        r = (uint32_t)(dividend % src);
    } else {
        /* sign-extend the 2*size-bit dividend */
        int64_t sd = (int64_t)(dividend << (64 - 2 * bits)) >> (64 - 2 * bits);
        int64_t sv = (int32_t)sext(src, size);
        if (sd == INT64_MIN && sv == -1)
            return eng_raise(e, CPU_DE, false, 0);
        int64_t qq = sd / sv;
        int64_t lim = (int64_t)1 << (bits - 1);
        if (qq >= lim || qq < -lim)
            return eng_raise(e, CPU_DE, false, 0);
        q = (uint32_t)qq;
        r = (uint32_t)(sd % sv);
    }
    if (size == 1) {
        reg_put(cpu, IR_EAX, 2, (q & 0xFF) | (r & 0xFF) << 8);
    } else {
        reg_put(cpu, IR_EAX, size, q);
        reg_put(cpu, IR_EDX, size, r);
    }
    flags_set(cpu, CPU_SF | CPU_ZF | CPU_PF | CPU_AF, CPU_AF);
    return finish(e, in);
}

/* ---- shifts and rotates ---- */

static unsigned shift_count(const struct cpu_state *cpu, const struct ir_insn *in, unsigned slot)
{
    uint32_t c = in->opd[slot].kind == IR_OPK_IMM ? in->imm : cpu->r[IR_ECX];
    return c & 0x1F;
}

static int alu_shift(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize, bits = 8 * size;
    uint32_t m = size_mask(size), msb = size_sign(size);
    unsigned c = shift_count(cpu, in, 1);
    uint32_t a, r, cf = 0, of, mask, val;
    bool cin;
    int rc;

    if ((rc = opd_read_rmw(e, in, 0, &a)))
        return rc;
    if (c == 0)
        return finish(e, in); /* no write, flags unaffected */
    a &= m;
    cin = flags_arith(cpu) & CPU_CF;

    switch (in->op) {
    case IR_SHL:
        r = (uint32_t)(((uint64_t)a << c) & m);
        cf = c <= bits ? (uint32_t)(((uint64_t)a >> (bits - c)) & 1) : 0;
        of = !!(r & msb) ^ cf;
        break;
    case IR_SHR:
        r = a >> c;
        cf = (a >> (c - 1)) & 1;
        of = !!(r & msb) ^ !!(r & (msb >> 1));
        break;
    case IR_SAR: {
        int32_t s = (int32_t)sext(a, size);
        r = (uint32_t)(s >> c) & m;
        cf = (uint32_t)(s >> (c - 1)) & 1;
        of = 0;
        break;
    }
    case IR_ROL: {
        unsigned k = c % bits;
        r = k ? ((a << k) | (a >> (bits - k))) & m : a;
        cf = r & 1;
        of = !!(r & msb) ^ cf;
        break;
    }
    case IR_ROR: {
        unsigned k = c % bits;
        r = k ? ((a >> k) | (a << (bits - k))) & m : a;
        cf = !!(r & msb);
        of = !!(r & msb) ^ !!(r & (msb >> 1));
        break;
    }
    case IR_RCL:
    case IR_RCR: {
        unsigned k = c % (bits + 1);
        uint64_t v = (uint64_t)a | ((uint64_t)cin << bits);
        uint64_t vm = ((uint64_t)1 << (bits + 1)) - 1;
        if (k && in->op == IR_RCL)
            v = ((v << k) | (v >> (bits + 1 - k))) & vm;
        else if (k)
            v = ((v >> k) | (v << (bits + 1 - k))) & vm;
        r = (uint32_t)(v & m);
        cf = (uint32_t)(v >> bits) & 1;
        of = in->op == IR_RCL ? (!!(r & msb) ^ cf) : (!!(r & msb) ^ !!(r & (msb >> 1)));
        break;
    }
    default:
        return eng_ud(e);
    }
    if ((rc = opd_write(e, in, 0, r)))
        return rc;
    if (in->op == IR_SHL || in->op == IR_SHR || in->op == IR_SAR) {
        mask = CPU_ARITH_FLAGS;
        val = flags_szp(r, size) | CPU_AF;
    } else {
        mask = CPU_CF | CPU_OF;
        val = 0;
    }
    val |= (cf ? CPU_CF : 0) | (of ? CPU_OF : 0);
    flags_set(cpu, mask, val);
    return finish(e, in);
}

static int alu_shiftd(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    uint32_t msb = size_sign(size);
    unsigned c = shift_count(cpu, in, 2);
    uint32_t a, b, r, cf, of;
    int rc;

    if ((rc = opd_read_rmw(e, in, 0, &a)) || (rc = opd_read(e, in, 1, &b)))
        return rc;
    if (c == 0)
        return finish(e, in);
    bool left = in->op == IR_SHLD;
    if (size == 4) {
        uint64_t v = left ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
        if (left) {
            r = (uint32_t)((v << c) >> 32);
            cf = (uint32_t)((v << (c - 1)) >> 63) & 1;
        } else {
            r = (uint32_t)(v >> c);
            cf = (uint32_t)(v >> (c - 1)) & 1;
        }
    } else {
        /* 16 bits: counts above 16 shift in the source again (dest:src:src), as the host does */
        uint64_t A = a & 0xFFFF, B = b & 0xFFFF;
        if (left) {
            uint64_t v = A << 32 | B << 16 | B;
            r = (uint32_t)((v << c) >> 32) & 0xFFFF;
            cf = c <= 16 ? (uint32_t)((v << (c - 1)) >> 47) & 1 : 0;
        } else {
            uint64_t v = A | B << 16 | B << 32;
            r = (uint32_t)(v >> c) & 0xFFFF;
            cf = c <= 16 ? (uint32_t)(v >> (c - 1)) & 1 : 0;
        }
    }
    if (left)
        of = (size == 2 && c >= 16) ? cf : (!!(r & msb) ^ cf);
    else
        of = !!(r & msb) ^ !!(r & (msb >> 1));
    if ((rc = opd_write(e, in, 0, r)))
        return rc;
    flags_set(cpu, CPU_ARITH_FLAGS,
              flags_szp(r, size) | CPU_AF | (cf ? CPU_CF : 0) | (of ? CPU_OF : 0));
    return finish(e, in);
}

/* ---- BCD ---- */

static uint32_t add8_flags(uint32_t a, uint32_t b, uint32_t r)
{
    uint32_t f = flags_szp(r, 1);
    if (a + b > 0xFF)
        f |= CPU_CF;
    if ((a ^ b ^ r) & 0x10)
        f |= CPU_AF;
    if ((a ^ r) & (b ^ r) & 0x80)
        f |= CPU_OF;
    return f;
}

static int alu_bcd(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t f = flags_arith(cpu);
    uint32_t al = cpu->r[IR_EAX] & 0xFF, ax = cpu->r[IR_EAX] & 0xFFFF;
    bool cf = f & CPU_CF, af = f & CPU_AF;
    uint32_t r, nf, adj = 0;

    switch (in->op) {
    case IR_DAA:
    case IR_DAS: {
        bool sub = in->op == IR_DAS;
        bool ncf = false, naf = false;
        r = al;
        if ((al & 0xF) > 9 || af) {
            adj = 6;
            ncf = cf || (sub ? al < 6 : al + 6 > 0xFF);
            naf = true;
        }
        if (al > 0x99 || cf) {
            adj += 0x60;
            ncf = true;
        }
        r = (sub ? al - adj : al + adj) & 0xFF;
        nf = flags_szp(r, 1) | (ncf ? CPU_CF : 0) | (naf ? CPU_AF : 0);
        if (sub ? ((al ^ adj) & (al ^ r) & 0x80) : ((al ^ r) & (adj ^ r) & 0x80))
            nf |= CPU_OF;
        reg_put(cpu, IR_EAX, 1, r);
        break;
    }
    case IR_AAA:
    case IR_AAS: {
        bool sub = in->op == IR_AAS;
        uint32_t t = ax;
        nf = 0;
        if ((al & 0xF) > 9 || af) {
            t = (sub ? ax - 0x106 : ax + 0x106) & 0xFFFF;
            nf = CPU_CF | CPU_AF;
            if (sub ? ((ax ^ 0x106) & (ax ^ t) & 0x8000) : ((ax ^ t) & (0x106 ^ t) & 0x8000))
                nf |= CPU_OF;
        }
        /* SF and ZF follow the whole 16-bit adjustment, PF its low byte */
        nf |= (flags_szp(t, 2) & (CPU_SF | CPU_ZF)) | (flags_szp(t, 1) & CPU_PF);
        reg_put(cpu, IR_EAX, 2, t & 0xFF0F);
        break;
    }
    case IR_AAM: {
        uint32_t base = in->imm & 0xFF;
        if (base == 0)
            return eng_raise(e, CPU_DE, false, 0);
        r = al % base;
        reg_put(cpu, IR_EAX, 2, (al / base) << 8 | r);
        nf = flags_szp(r, 1);
        break;
    }
    case IR_AAD: {
        uint32_t p = ((ax >> 8) * (in->imm & 0xFF)) & 0xFF;
        r = (al + p) & 0xFF;
        reg_put(cpu, IR_EAX, 2, r);
        nf = add8_flags(al, p, r);
        break;
    }
    default: /* SALC */
        reg_put(cpu, IR_EAX, 1, cf ? 0xFF : 0);
        return finish(e, in);
    }
    flags_set(cpu, CPU_ARITH_FLAGS, nf);
    return finish(e, in);
}

/* ---- bit test and scan ---- */

static int alu_bt(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize, bits = 8 * size;
    uint32_t off, v, bit;
    int rc;

    if ((rc = opd_read(e, in, 1, &off)))
        return rc;
    bool bitstring = in->opd[0].kind == IR_OPK_MEM && in->opd[1].kind == IR_OPK_REG;
    uint32_t addr = 0;
    if (bitstring) {
        /* a register offset addresses a bit string: signed, beyond the operand in memory */
        int64_t soff = (int32_t)sext(off, size);
        /* floor division: negative offsets reach the units below the operand */
        int64_t units = soff >= 0 ? soff / bits : -((-soff + bits - 1) / bits);
        addr = eng_ea(cpu, in) + (uint32_t)units * size;
        if (in->asize == 2)
            addr &= 0xFFFF;
        bit = (uint32_t)soff & (bits - 1);
        uint8_t buf[4] = { 0, 0, 0, 0 };
        if (in->op != IR_BT && (rc = eng_check_write(e, in->mem.seg, addr, size)))
            return rc;
        if ((rc = seg_read(e, in->mem.seg, addr, buf, size)))
            return rc;
        v = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
    } else {
        bit = off & (bits - 1);
        if ((rc = in->op == IR_BT ? opd_read(e, in, 0, &v) : opd_read_rmw(e, in, 0, &v)))
            return rc;
    }
    bool old = (v >> bit) & 1;
    uint32_t nv = v;
    switch (in->op) {
    case IR_BTS: nv = v | (1u << bit); break;
    case IR_BTR: nv = v & ~(1u << bit); break;
    case IR_BTC: nv = v ^ (1u << bit); break;
    default: break;
    }
    if (in->op != IR_BT) {
        if (bitstring) {
            uint8_t buf[4] = { (uint8_t)nv, (uint8_t)(nv >> 8), (uint8_t)(nv >> 16), (uint8_t)(nv >> 24) };
            rc = seg_write(e, in->mem.seg, addr, buf, size);
        } else {
            rc = opd_write(e, in, 0, nv);
        }
        if (rc)
            return rc;
    }
    flags_set(cpu, CPU_CF, old ? CPU_CF : 0);
    return finish(e, in);
}

static int alu_bscan(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t src;
    int rc;

    if ((rc = opd_read(e, in, 1, &src)))
        return rc;
    src &= size_mask(in->osize);
    if (src == 0) {
        /* destination unchanged, as on AMD and Intel parts */
        flags_set(cpu, CPU_ZF, CPU_ZF);
        return finish(e, in);
    }
    uint32_t idx = in->op == IR_BSF ? (uint32_t)__builtin_ctz(src) : 31u - (uint32_t)__builtin_clz(src);
    reg_put(cpu, in->opd[0].reg, in->osize, idx);
    flags_set(cpu, CPU_ZF, 0);
    return finish(e, in);
}

/* ---- flags-only instructions ---- */

static int alu_flagop(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t ah;

    switch (in->op) {
    case IR_CLC: flags_set(cpu, CPU_CF, 0); break;
    case IR_STC: flags_set(cpu, CPU_CF, CPU_CF); break;
    case IR_CMC: flags_set(cpu, CPU_CF, flags_arith(cpu) ^ CPU_CF); break;
    case IR_CLD: cpu->eflags &= ~CPU_DF; break;
    case IR_STD: cpu->eflags |= CPU_DF; break;
    case IR_LAHF:
        ah = (flags_arith(cpu) & (CPU_SF | CPU_ZF | CPU_AF | CPU_PF | CPU_CF)) | 0x2;
        reg_put(cpu, 4 /* AH */, 1, ah);
        break;
    case IR_SAHF:
        ah = reg_get(cpu, 4 /* AH */, 1);
        flags_set(cpu, CPU_SF | CPU_ZF | CPU_AF | CPU_PF | CPU_CF, ah);
        break;
    default:
        return eng_ud(e);
    }
    return finish(e, in);
}

int exec_alu(struct engine *e, const struct ir_insn *in)
{
    switch (in->op) {
    case IR_ADD: case IR_OR: case IR_ADC: case IR_SBB: case IR_AND: case IR_SUB: case IR_XOR:
    case IR_CMP: case IR_TEST:
        return alu_binary(e, in);
    case IR_INC: case IR_DEC: case IR_NEG: case IR_NOT:
        return alu_unary(e, in);
    case IR_MUL: case IR_IMUL1:
        return alu_mul1(e, in);
    case IR_IMUL:
        return alu_imul(e, in);
    case IR_DIV: case IR_IDIV:
        return alu_div(e, in);
    case IR_ROL: case IR_ROR: case IR_RCL: case IR_RCR: case IR_SHL: case IR_SHR: case IR_SAR:
        return alu_shift(e, in);
    case IR_SHLD: case IR_SHRD:
        return alu_shiftd(e, in);
    case IR_DAA: case IR_DAS: case IR_AAA: case IR_AAS: case IR_AAM: case IR_AAD: case IR_SALC:
        return alu_bcd(e, in);
    case IR_BT: case IR_BTS: case IR_BTR: case IR_BTC:
        return alu_bt(e, in);
    case IR_BSF: case IR_BSR:
        return alu_bscan(e, in);
    case IR_CLC: case IR_STC: case IR_CMC: case IR_CLD: case IR_STD: case IR_LAHF: case IR_SAHF:
        return alu_flagop(e, in);
    default:
        return eng_ud(e);
    }
}
