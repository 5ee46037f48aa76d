/*
 * gen_seq.c - the seq class: 2 to 8 snippets from the sequence-capable classes, run back to back.
 * Before each snippet the registers it cannot do without (addresses, counts, divisors) are loaded
 * with MOV r32, imm32 (which leaves the flags alone); everything else flows from the previous
 * instructions. ESP is never a destination, so the stack stays in the data area. When a snippet
 * would read a flag an earlier one left undefined, a CMP r32, r32 first redefines all six.
 */
#include "tests/oracle/gen.h"

#include <errno.h>

#include "tests/oracle/flags_table.h"

static bool emit(struct oracle_case *c, const uint8_t *b, unsigned n)
{
    return oc_emit(c, b, n) == 0;
}

int gen_seq_case(struct og_ctx *x, struct oracle_case *c)
{
    struct rng *r = x->r;
    unsigned nclasses;
    const struct og_class *all = og_classes(&nclasses);
    const struct og_class *pool[16];
    unsigned npool = 0;
    for (unsigned i = 0; i < nclasses && npool < 16; i++)
        if (all[i].in_seq && all[i].gen)
            pool[npool++] = &all[i];
    if (npool == 0)
        return -EINVAL;
    c->code_off = rng_one_in(r, 4) ? rng_below(r, ORN_CODE_SIZE - 0x400) : 0;
    x->seq = true;
    x->avoid_dst = RB(R_ESP);
    uint32_t poison = 0;
    unsigned n = 2 + rng_below(r, 7);
    bool first = true;
    for (unsigned i = 0; i < n; i++) {
        struct og_snip s;
        bool ok = false;
        for (unsigned attempt = 0; attempt < 8 && !ok; attempt++) {
            sn_init(&s);
            x->eip = ORN_CODE_BASE + c->code_off + c->code_len;
            pool[rng_below(r, npool)]->gen(x, &s);
            ok = !s.overflow && s.len > 0 && !s.no_seq;
        }
        if (!ok)
            continue;
        if (s.flags_in & poison) {
            uint8_t cmp[2] = { 0x39, (uint8_t)(0xC0 | rng_below(r, 8) << 3 | rng_below(r, 8)) };
            if (!emit(c, cmp, 2))
                return -E2BIG;
            poison = 0;
        }
        for (unsigned reg = 0; reg < 8; reg++) {
            if (!(s.must_mask & RB(reg)) || reg == R_ESP)
                continue;
            uint8_t mov[5] = { (uint8_t)(0xB8 + reg), (uint8_t)s.preset[reg], (uint8_t)(s.preset[reg] >> 8),
                               (uint8_t)(s.preset[reg] >> 16), (uint8_t)(s.preset[reg] >> 24) };
            if (!emit(c, mov, 5))
                return -E2BIG;
        }
        if (first) {
            for (unsigned reg = 0; reg < 8; reg++)
                if ((s.preset_mask & RB(reg)) && !(s.must_mask & RB(reg)) && reg != R_ESP)
                    c->regs[reg] = s.preset[reg];
            first = false;
        }
        for (unsigned k = 0; k < s.nmem; k++)
            (void)oc_patch(c, s.mem[k].addr, s.mem[k].b, s.mem[k].len); /* best effort: values only */
        if (!emit(c, s.code, s.len))
            return -E2BIG;
        poison = (poison & ~s.flags_def) | s.flags_undef;
    }
    static const uint8_t ud2[2] = { 0x0F, 0x0B };
    if (!emit(c, ud2, 2))
        return -E2BIG;
    c->undef = poison;
    return 0;
}
