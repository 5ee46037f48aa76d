/*
 * flags_table.c - the SDM's "Flags Affected" sections as data (see flags_table.h).
 *
 * Sources (Intel SDM Vol. 2): ADD/ADC/SUB/SBB/CMP/NEG/XADD/CMPXCHG/CMPS/SCAS set all six per the
 * result. AND/OR/XOR/TEST clear OF and CF, set SF ZF PF, AF undefined. INC/DEC leave CF alone.
 * MUL/IMUL define CF and OF only; SF ZF AF PF undefined. DIV/IDIV leave all six undefined.
 * Shifts: count masked to 5 bits; count 0 touches nothing; otherwise SF ZF PF defined, CF is the
 * last bit out (undefined for SHL/SHR when the count >= the operand width), OF defined only for
 * 1-bit shifts, AF undefined. ROL/ROR/RCL/RCR: masked count 0 touches nothing; otherwise CF
 * defined, OF only for 1-bit rotates. SHLD/SHRD: count 0 touches nothing; count > width leaves
 * the result and all flags undefined; otherwise CF SF ZF PF defined, OF for 1-bit shifts only, AF
 * undefined. BT/BTS/BTR/BTC: CF defined, ZF unchanged, OF SF AF PF undefined. BSF/BSR: ZF
 * defined, the rest undefined. DAA/DAS: OF undefined. AAA/AAS: CF AF defined, OF SF ZF PF
 * undefined. AAM/AAD: SF ZF PF defined, OF AF CF undefined. CMPXCHG8B, LAR, LSL, VERR, VERW,
 * ARPL: ZF only. SAHF loads SF ZF AF PF CF; POPF loads them all.
 */
#include "tests/oracle/flags_table.h"

#include "ipc/ir.h"

#define ALL6 OF_ARITH
#define SZP (OF_SF | OF_ZF | OF_PF)

struct row {
    uint16_t op;
    uint32_t def, undef, read;
};

/* Ops whose effect does not depend on a count. */
static const struct row rows[] = {
    { IR_ADD, ALL6, 0, 0 },
    { IR_ADC, ALL6, 0, OF_CF },
    { IR_SUB, ALL6, 0, 0 },
    { IR_SBB, ALL6, 0, OF_CF },
    { IR_CMP, ALL6, 0, 0 },
    { IR_NEG, ALL6, 0, 0 },
    { IR_XADD, ALL6, 0, 0 },
    { IR_CMPXCHG, ALL6, 0, 0 },
    { IR_CMPS, ALL6, 0, OF_DF },
    { IR_SCAS, ALL6, 0, OF_DF },
    { IR_AND, OF_CF | OF_OF | SZP, OF_AF, 0 },
    { IR_OR, OF_CF | OF_OF | SZP, OF_AF, 0 },
    { IR_XOR, OF_CF | OF_OF | SZP, OF_AF, 0 },
    { IR_TEST, OF_CF | OF_OF | SZP, OF_AF, 0 },
    { IR_INC, OF_OF | OF_AF | SZP, 0, 0 },
    { IR_DEC, OF_OF | OF_AF | SZP, 0, 0 },
    { IR_MUL, OF_CF | OF_OF, OF_AF | SZP, 0 },
    { IR_IMUL1, OF_CF | OF_OF, OF_AF | SZP, 0 },
    { IR_IMUL, OF_CF | OF_OF, OF_AF | SZP, 0 },
    { IR_DIV, 0, ALL6, 0 },
    { IR_IDIV, 0, ALL6, 0 },
    { IR_BT, OF_CF, OF_OF | OF_SF | OF_AF | OF_PF, 0 },
    { IR_BTS, OF_CF, OF_OF | OF_SF | OF_AF | OF_PF, 0 },
    { IR_BTR, OF_CF, OF_OF | OF_SF | OF_AF | OF_PF, 0 },
    { IR_BTC, OF_CF, OF_OF | OF_SF | OF_AF | OF_PF, 0 },
    { IR_BSF, OF_ZF, OF_CF | OF_OF | OF_SF | OF_AF | OF_PF, 0 },
    { IR_BSR, OF_ZF, OF_CF | OF_OF | OF_SF | OF_AF | OF_PF, 0 },
    { IR_DAA, OF_CF | OF_AF | SZP, OF_OF, OF_CF | OF_AF },
    { IR_DAS, OF_CF | OF_AF | SZP, OF_OF, OF_CF | OF_AF },
    { IR_AAA, OF_CF | OF_AF, OF_OF | SZP, OF_AF },
    { IR_AAS, OF_CF | OF_AF, OF_OF | SZP, OF_AF },
    { IR_AAM, SZP, OF_OF | OF_AF | OF_CF, 0 },
    { IR_AAD, SZP, OF_OF | OF_AF | OF_CF, 0 },
    { IR_CMPXCHG8B, OF_ZF, 0, 0 },
    { IR_LAR, OF_ZF, 0, 0 },
    { IR_LSL, OF_ZF, 0, 0 },
    { IR_VERR, OF_ZF, 0, 0 },
    { IR_VERW, OF_ZF, 0, 0 },
    { IR_ARPL, OF_ZF, 0, 0 },
    { IR_SAHF, OF_SF | OF_ZF | OF_AF | OF_PF | OF_CF, 0, 0 },
    { IR_POPF, ALL6 | OF_DF, 0, 0 },
    { IR_CLC, OF_CF, 0, 0 },
    { IR_STC, OF_CF, 0, 0 },
    { IR_CMC, OF_CF, 0, OF_CF },
    { IR_CLD, OF_DF, 0, 0 },
    { IR_STD, OF_DF, 0, 0 },
    /* read-only users */
    { IR_LAHF, 0, 0, OF_SF | OF_ZF | OF_AF | OF_PF | OF_CF },
    { IR_PUSHF, 0, 0, ALL6 | OF_DF },
    { IR_SALC, 0, 0, OF_CF },
    { IR_INTO, 0, 0, OF_OF },
    { IR_MOVS, 0, 0, OF_DF },
    { IR_STOS, 0, 0, OF_DF },
    { IR_LODS, 0, 0, OF_DF },
    { IR_RCL, 0, 0, OF_CF },
    { IR_RCR, 0, 0, OF_CF },
};

static const struct row *find(unsigned op)
{
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].op == op)
            return &rows[i];
    return 0;
}

struct flag_effect flags_effect(unsigned op, unsigned osize, uint32_t count)
{
    struct flag_effect e = { 0, 0 };
    unsigned width = osize * 8;
    unsigned c = count & 0x1F;
    switch (op) {
    case IR_SHL:
    case IR_SHR:
    case IR_SAR:
        if (c == 0)
            return e;
        e.def = SZP | OF_CF;
        e.undef = OF_AF;
        if (op != IR_SAR && c >= width) {
            e.def &= ~OF_CF;
            e.undef |= OF_CF;
        }
        if (c == 1)
            e.def |= OF_OF;
        else
            e.undef |= OF_OF;
        return e;
    case IR_ROL:
    case IR_ROR:
    case IR_RCL:
    case IR_RCR:
        if (c == 0)
            return e;
        e.def = OF_CF;
        if (c == 1)
            e.def |= OF_OF;
        else
            e.undef = OF_OF;
        return e;
    case IR_SHLD:
    case IR_SHRD:
        if (c == 0)
            return e;
        if (c > width) {
            e.undef = ALL6;
            return e;
        }
        e.def = SZP | OF_CF;
        e.undef = OF_AF;
        if (c == 1)
            e.def |= OF_OF;
        else
            e.undef |= OF_OF;
        return e;
    default: {
        const struct row *r = find(op);
        if (r) {
            e.def = r->def;
            e.undef = r->undef;
        }
        return e;
    }
    }
}

uint32_t flags_read(unsigned op)
{
    const struct row *r = find(op);
    return r ? r->read : 0;
}

uint32_t flags_for_cond(unsigned cond)
{
    switch (cond & 15) {
    case IR_CC_O: case IR_CC_NO: return OF_OF;
    case IR_CC_B: case IR_CC_AE: return OF_CF;
    case IR_CC_E: case IR_CC_NE: return OF_ZF;
    case IR_CC_BE: case IR_CC_A: return OF_CF | OF_ZF;
    case IR_CC_S: case IR_CC_NS: return OF_SF;
    case IR_CC_P: case IR_CC_NP: return OF_PF;
    case IR_CC_L: case IR_CC_GE: return OF_SF | OF_OF;
    default: return OF_SF | OF_OF | OF_ZF; /* LE, G */
    }
}
