/*
 * flags.c - lazy arithmetic flags: evaluation of cpu_state.cc_op records, and the EFLAGS
 * accessors everyone else uses (cpu_get_eflags / cpu_set_eflags).
 *
 * Trusts the cpu_state it is given only as far as its types: an out-of-range cc_op (a corrupt
 * snapshot, say) reads as "flags already in eflags" instead of indexing anything.
 */
#include "vcpu/exec.h"

/* EFLAGS bits that exist on the i686 model; the rest read as 0 (bit 1 as 1). */
#define EFLAGS_DEFINED 0x003F7FD5u
#define EFLAGS_FIXED1 0x00000002u

static uint32_t parity_flag(uint32_t v)
{
    v &= 0xFF;
    v ^= v >> 4;
    /* 0x6996 is the odd-parity table of a nibble */
    return ((0x6996u >> (v & 0xF)) & 1) ? 0 : CPU_PF;
}

uint32_t flags_szp(uint32_t res, unsigned size)
{
    uint32_t r = res & size_mask(size);
    uint32_t f = parity_flag(r);
    if (r == 0)
        f |= CPU_ZF;
    if (r & size_sign(size))
        f |= CPU_SF;
    return f;
}

static uint32_t eval_lazy(unsigned op, uint32_t res, uint32_t src1, uint32_t src2)
{
    unsigned kind = (op - 1) / 3 * 3 + 1;
    unsigned size = 1u << ((op - 1) % 3);
    uint32_t m = size_mask(size), sign = size_sign(size);
    uint32_t r = res & m, a = src1 & m, b = src2 & m;
    uint32_t f = flags_szp(r, size);
    uint32_t carry;

    switch (kind) {
    case CC_OP_ADD:
    case CC_OP_ADC:
        /* the carry-in of ADC is whatever makes res = a + b + c */
        carry = kind == CC_OP_ADC ? ((r - a - b) & m) : 0;
        if (carry ? r <= a : r < a)
            f |= CPU_CF;
        if ((a ^ b ^ r) & 0x10)
            f |= CPU_AF;
        if ((a ^ r) & (b ^ r) & sign)
            f |= CPU_OF;
        break;
    case CC_OP_SUB:
    case CC_OP_SBB:
        carry = kind == CC_OP_SBB ? ((a - b - r) & m) : 0;
        if (carry ? a <= b : a < b)
            f |= CPU_CF;
        if ((a ^ b ^ r) & 0x10)
            f |= CPU_AF;
        if ((a ^ b) & (a ^ r) & sign)
            f |= CPU_OF;
        break;
    case CC_OP_LOGIC:
        break;
    case CC_OP_INC:
        if (src2 & CPU_CF)
            f |= CPU_CF;
        if ((r & 0xF) == 0)
            f |= CPU_AF;
        if (r == sign)
            f |= CPU_OF;
        break;
    case CC_OP_DEC:
        if (src2 & CPU_CF)
            f |= CPU_CF;
        if ((r & 0xF) == 0xF)
            f |= CPU_AF;
        if (r == sign - 1)
            f |= CPU_OF;
        break;
    default:
        break;
    }
    return f;
}

uint32_t flags_arith(const struct cpu_state *cpu)
{
    unsigned op = cpu->cc_op;
    if (op == CC_OP_EFLAGS || op >= CC_OP_COUNT)
        return cpu->eflags & CPU_ARITH_FLAGS;
    return eval_lazy(op, cpu->cc_res, cpu->cc_src1, cpu->cc_src2);
}

uint32_t cpu_get_eflags(const struct cpu_state *cpu)
{
    uint32_t f = (cpu->eflags & ~CPU_ARITH_FLAGS) | flags_arith(cpu);
    return (f & EFLAGS_DEFINED) | EFLAGS_FIXED1;
}

void cpu_set_eflags(struct cpu_state *cpu, uint32_t value, uint32_t writable_mask)
{
    uint32_t cur = cpu_get_eflags(cpu);
    uint32_t f = (cur & ~writable_mask) | (value & writable_mask);
    cpu->eflags = (f & EFLAGS_DEFINED) | EFLAGS_FIXED1;
    cpu->cc_op = CC_OP_EFLAGS;
}

void flags_set(struct cpu_state *cpu, uint32_t mask, uint32_t value)
{
    mask &= CPU_ARITH_FLAGS;
    uint32_t f = flags_arith(cpu);
    cpu->eflags = (cpu->eflags & ~CPU_ARITH_FLAGS) | (f & ~mask) | (value & mask);
    cpu->cc_op = CC_OP_EFLAGS;
}
