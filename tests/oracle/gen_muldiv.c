/*
 * gen_muldiv.c - the muldiv class: MUL and one-operand IMUL (F6/F7 /4 /5), IMUL r,r/m (0F AF),
 * IMUL r,r/m,imm (69, 6B), DIV and IDIV (F6/F7 /6 /7). Dividends and divisors are built from a
 * chosen quotient and remainder so that most divisions succeed with edge quotients, and a known
 * share divide by zero or overflow the quotient (#DE), including INT_MIN / -1.
 */
#include "tests/oracle/gen.h"

#include "ipc/ir.h"

static void gen_mul1(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    bool is_imul = rng_one_in(r, 2);
    unsigned size = og_size(r);
    struct og_rm rm;
    og_pick_rm(x, s, size, false, 40, 0, 0, &rm);
    og_rm_prefixes(x, s, &rm, size == 2, false, rng_one_in(r, 60), 0);
    sn_b(s, size == 1 ? 0xF6 : 0xF7);
    og_emit_rm(s, is_imul ? 5 : 4, &rm);
    og_value_reg(x, s, R_EAX, size);
    if (!rm.mem)
        og_value_reg(x, s, rm.reg, size);
    if (size != 1)
        og_value_reg(x, s, R_EDX, 4);
    sn_flags(s, is_imul ? IR_IMUL1 : IR_MUL, size, 0);
}

static void gen_imul2(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned size = rng_one_in(r, 3) ? 2 : 4;
    unsigned form = rng_below(r, 3); /* 0: 0F AF, 1: 69, 2: 6B */
    struct og_rm rm;
    og_pick_rm(x, s, size, false, 40, 0, 0, &rm);
    unsigned dst = og_dst_reg(x, 0);
    og_rm_prefixes(x, s, &rm, size == 2, false, false, 0);
    if (form == 0) {
        sn_b(s, 0x0F);
        sn_b(s, 0xAF);
        og_emit_rm(s, dst, &rm);
    } else {
        sn_b(s, form == 1 ? 0x69 : 0x6B);
        og_emit_rm(s, dst, &rm);
        unsigned isz = form == 1 ? size : 1;
        sn_imm(s, og_val(r, isz), isz);
    }
    og_value_reg(x, s, dst, size);
    if (!rm.mem)
        og_value_reg(x, s, rm.reg, size);
    sn_flags(s, IR_IMUL, size, 0);
}

static int64_t sext(uint64_t v, unsigned bits)
{
    uint64_t m = 1ull << (bits - 1);
    v &= (bits == 64) ? ~0ull : ((1ull << bits) - 1);
    return (int64_t)((v ^ m) - m);
}

static void gen_div(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    bool is_idiv = rng_one_in(r, 2);
    unsigned size = og_size(r);
    unsigned n = size * 8;
    uint64_t mask = (n == 32) ? 0xFFFFFFFFull : ((1ull << n) - 1);
    uint64_t divisor, dividend; /* dividend has 2n bits */
    unsigned mode = rng_below(r, 12); /* 0: by zero, 1: overflow, else a valid quotient */
    if (!is_idiv) {
        divisor = og_val(r, size) & mask;
        if (mode == 0)
            divisor = 0;
        else if (divisor == 0)
            divisor = 1;
        if (mode == 1) {
            uint64_t hi = divisor + rng_below(r, 3);
            if (hi > mask)
                hi = mask;
            dividend = hi << n | (og_val(r, size) & mask);
        } else {
            uint64_t q = og_val(r, size) & mask;
            uint64_t rem = divisor ? (rng_one_in(r, 3) ? divisor - 1 : rng_next(r) % divisor) : 0;
            dividend = q * divisor + rem;
        }
    } else {
        int64_t d = sext(og_val(r, size), n);
        if (mode == 0)
            d = 0;
        else if (d == 0)
            d = rng_one_in(r, 2) ? 1 : -1;
        int64_t q;
        if (mode == 1) {
            if (rng_one_in(r, 2)) { /* the most negative dividend divided by -1 */
                d = -1;
                q = 0;
                dividend = 1ull << (2 * n - 1);
                goto have;
            }
            q = (int64_t)1 << (n - 1); /* one past the largest quotient */
            if (rng_one_in(r, 2))
                q = -q - 1;
        } else {
            q = sext(og_val(r, size), n);
        }
        {
            int64_t prod = q * d;
            uint64_t ad = (uint64_t)(d < 0 ? -d : d);
            int64_t rem = ad > 1 ? (int64_t)(rng_next(r) % ad) : 0;
            if (prod < 0 || (prod == 0 && rng_one_in(r, 2)))
                rem = -rem;
            dividend = (uint64_t)(prod + rem);
        }
    have:
        divisor = (uint64_t)d & mask;
    }
    /* the divisor: a register other than the accumulator pair, or memory */
    struct og_rm rm;
    uint8_t acc = (uint8_t)(RB(R_EAX) | RB(R_EDX));
    og_pick_rm(x, s, size, false, 35, acc, acc, &rm);
    og_rm_prefixes(x, s, &rm, size == 2, false, rng_one_in(r, 60), 0);
    sn_b(s, size == 1 ? 0xF6 : 0xF7);
    og_emit_rm(s, is_idiv ? 7 : 6, &rm);
    if (rm.mem)
        sn_mem_val(s, rm.off, (uint32_t)divisor, size);
    else
        sn_preset_part(s, r, rm.reg, size, (uint32_t)divisor, true);
    if (size == 1) {
        sn_preset_part(s, r, R_EAX, 2, (uint32_t)dividend, true);
    } else {
        sn_preset_part(s, r, R_EAX, size, (uint32_t)dividend, true);
        sn_preset_part(s, r, R_EDX, size, (uint32_t)(dividend >> n), true);
    }
    sn_flags(s, is_idiv ? IR_IDIV : IR_DIV, size, 0);
}

void gen_muldiv(struct og_ctx *x, struct og_snip *s)
{
    switch (rng_below(x->r, 5)) {
    case 0: gen_mul1(x, s); break;
    case 1: gen_imul2(x, s); break;
    default: gen_div(x, s); break;
    }
}
