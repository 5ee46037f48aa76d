/*
 * gen_bcd.c - the bcd class: DAA DAS AAA AAS with edge AL/AH values and random AF/CF inputs, AAM
 * and AAD with base 10, other bases and base 0 (AAM 0 is #DE).
 */
#include "tests/oracle/gen.h"

#include "ipc/ir.h"

void gen_bcd(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    static const uint8_t op[6] = { 0x27, 0x2F, 0x37, 0x3F, 0xD4, 0xD5 };
    static const uint16_t ir[6] = { IR_DAA, IR_DAS, IR_AAA, IR_AAS, IR_AAM, IR_AAD };
    unsigned k = rng_below(r, 6);
    if (x->avoid_dst & RB(R_EAX))
        return;
    if (rng_one_in(r, 30))
        sn_b(s, 0x66); /* operand size does not change these */
    sn_b(s, op[k]);
    if (k >= 4) {
        uint8_t base = 10;
        switch (rng_below(r, 6)) {
        case 0: base = (uint8_t)rng_u32(r); break;
        case 1: base = k == 4 && !x->seq ? 0 : 16; break;
        case 2: base = (uint8_t)og_val(r, 1); break;
        default: break;
        }
        sn_b(s, base);
    }
    sn_preset_part(s, r, R_EAX, 1, og_val(r, 1), false);
    sn_preset_part(s, r, 4 /* AH */, 1, og_val(r, 1), false);
    sn_flags(s, ir[k], 1, 0);
}
