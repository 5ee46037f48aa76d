/*
 * ir.c - names of IR operations and the structural validator for IR received from the translator.
 *
 * Trusts nothing in the instruction it checks: ir_insn_valid() is the gate between the sandboxed
 * translator and the execution engine. It accepts exactly the operand shapes the engine is written
 * for (one table row per op), so the engine may rely on them instead of re-checking: register
 * numbers in range, operand sizes matching the op, at most one memory operand, a sane address form.
 * Semantic checks (privilege, segment limits, paging) stay with the engine at execution time.
 */
#include "ipc/ir.h"

static const char *const op_names[IR_OP_COUNT] = {
#define IR_NAME(name, desc) #name,
    IR_OPS(IR_NAME)
#undef IR_NAME
};

const char *ir_op_name(unsigned op)
{
    return op < IR_OP_COUNT ? op_names[op] : "?";
}

/* Operand kinds allowed in one slot, as a bit set over enum ir_opkind. */
#define K_NONE (1u << IR_OPK_NONE)
#define K_REG (1u << IR_OPK_REG)
#define K_MEM (1u << IR_OPK_MEM)
#define K_IMM (1u << IR_OPK_IMM)
#define K_SREG (1u << IR_OPK_SREG)
#define K_CREG (1u << IR_OPK_CREG)
#define K_DREG (1u << IR_OPK_DREG)
#define K_STREG (1u << IR_OPK_STREG)
#define K_RM (K_REG | K_MEM)
#define K_RMI (K_REG | K_MEM | K_IMM)

/* Size rules for one slot (checked for REG and MEM operands; immediates carry their value in
 * ir_insn.imm already extended, so their declared size only has to be 1, 2 or 4). */
enum size_rule {
    SZ_ANY = 0,  /* not checked (operands the engine does not access by size) */
    SZ_OS,       /* == osize */
    SZ_1,
    SZ_2,
    SZ_4,
    SZ_6,
    SZ_8,
    SZ_2OR4,     /* selector-sized operands that may be written as 16 or 32 bits */
    SZ_12,       /* MOVZX/MOVSX source: 1 or 2, not above osize */
    SZ_OS2,      /* far pointer: osize + 2 */
    SZ_2OS,      /* BOUND pair: 2 * osize */
    SZ_CL,       /* count: IMM, or REG CL with size 1 */
};

/* Operand-size rules for the instruction as a whole. */
enum osize_rule {
    OS_ANY = 0, /* 1, 2 or 4 */
    OS_W,       /* 2 or 4 only (no byte form exists) */
};

/* Extra per-op constraints. */
#define X_MEMSEG 0x01  /* uses mem.seg/base/index implicitly (string ops, XLAT): validate mem */
#define X_ACC 0x02     /* op[0] (IN) or op[1] (OUT) must be the accumulator */
#define X_PORT 0x04    /* port operand: IMM, or REG DX of size 2 */
#define X_IMM8 0x08    /* imm must fit in 8 bits (INT vector, AAM/AAD base) */
#define X_IMM16 0x10   /* imm must fit in 16 bits (RET/RETF/ENTER sizes, far selectors in imm2) */
#define X_X87 0x20     /* x87 field checked */
#define X_NOCS 0x40    /* SREG operand may not be CS (LFP target) */
#define X_LOCK 0x80    /* LOCK allowed (with a memory destination) */
#define X_REP 0x100    /* REP/REPNE allowed (string instructions) */
#define X_REL 0x200    /* imm is a near target: fits the operand size */
#define X_FAR 0x400    /* imm:imm2 is a far pointer: 16-bit selector, offset fits osize */
#define X_LEVEL 0x800  /* imm2 is ENTER's 8-bit nesting level */

struct op_spec {
    uint8_t kinds[3];
    uint8_t sizes[3];
    uint8_t osize;
    uint16_t extra;
};

#define N K_NONE
#define S(k0, s0, k1, s1, k2, s2, os, x) { { (k0), (k1), (k2) }, { (s0), (s1), (s2) }, (os), (x) }
#define S0(os, x) S(N, SZ_ANY, N, SZ_ANY, N, SZ_ANY, os, x)
#define S_ALU2 S(K_RM, SZ_OS, K_RMI, SZ_OS, N, 0, OS_ANY, X_LOCK)
#define S_ALU1 S(K_RM, SZ_OS, N, 0, N, 0, OS_ANY, X_LOCK)
#define S_ALU2N S(K_RM, SZ_OS, K_RMI, SZ_OS, N, 0, OS_ANY, 0)
#define S_ALU1N S(K_RM, SZ_OS, N, 0, N, 0, OS_ANY, 0)
#define S_SHIFT S(K_RM, SZ_OS, K_REG | K_IMM, SZ_CL, N, 0, OS_ANY, 0)
#define S_TARGET S(N | K_IMM, SZ_ANY, N, 0, N, 0, OS_W, X_REL)
#define S_BT S(K_RM, SZ_OS, K_REG | K_IMM, SZ_OS, N, 0, OS_W, X_LOCK)
#define S_BS S(K_REG, SZ_OS, K_RM, SZ_OS, N, 0, OS_W, 0)
#define S_STR S0(OS_ANY, X_MEMSEG | X_REP)
#define S_RM16 S(K_RM, SZ_2, N, 0, N, 0, OS_ANY, 0)
#define S_RMSEL S(K_RM, SZ_2OR4, N, 0, N, 0, OS_ANY, 0)
#define S_M6 S(K_MEM, SZ_6, N, 0, N, 0, OS_ANY, 0)

static const struct op_spec specs[IR_OP_COUNT] = {
    [IR_INVALID] = S(K_NONE | K_RMI | K_SREG | K_CREG | K_DREG | K_STREG, SZ_ANY,
                     K_NONE | K_RMI | K_SREG | K_CREG | K_DREG | K_STREG, SZ_ANY,
                     K_NONE | K_RMI | K_SREG | K_CREG | K_DREG | K_STREG, SZ_ANY, OS_ANY, 0),
    [IR_ADD] = S_ALU2, [IR_OR] = S_ALU2, [IR_ADC] = S_ALU2, [IR_SBB] = S_ALU2,
    [IR_AND] = S_ALU2, [IR_SUB] = S_ALU2, [IR_XOR] = S_ALU2, [IR_CMP] = S_ALU2N,
    [IR_TEST] = S_ALU2N,
    [IR_INC] = S_ALU1, [IR_DEC] = S_ALU1, [IR_NEG] = S_ALU1, [IR_NOT] = S_ALU1,
    [IR_MUL] = S_ALU1N, [IR_IMUL1] = S_ALU1N, [IR_DIV] = S_ALU1N, [IR_IDIV] = S_ALU1N,
    [IR_IMUL] = S(K_REG, SZ_OS, K_RM, SZ_OS, N | K_IMM, SZ_ANY, OS_W, 0),
    [IR_ROL] = S_SHIFT, [IR_ROR] = S_SHIFT, [IR_RCL] = S_SHIFT, [IR_RCR] = S_SHIFT,
    [IR_SHL] = S_SHIFT, [IR_SHR] = S_SHIFT, [IR_SAR] = S_SHIFT,
    [IR_SHLD] = S(K_RM, SZ_OS, K_REG, SZ_OS, K_REG | K_IMM, SZ_CL, OS_W, 0),
    [IR_SHRD] = S(K_RM, SZ_OS, K_REG, SZ_OS, K_REG | K_IMM, SZ_CL, OS_W, 0),
    [IR_MOV] = S_ALU2N,
    [IR_MOVZX] = S(K_REG, SZ_OS, K_RM, SZ_12, N, 0, OS_W, 0),
    [IR_MOVSX] = S(K_REG, SZ_OS, K_RM, SZ_12, N, 0, OS_W, 0),
    [IR_MOV_SREG] = S(K_SREG, SZ_ANY, K_RM, SZ_2OR4, N, 0, OS_ANY, 0),
    [IR_MOV_FROM_SREG] = S(K_RM, SZ_2OR4, K_SREG, SZ_ANY, N, 0, OS_ANY, 0),
    [IR_XCHG] = S(K_RM, SZ_OS, K_RM, SZ_OS, N, 0, OS_ANY, X_LOCK),
    [IR_XADD] = S(K_RM, SZ_OS, K_REG, SZ_OS, N, 0, OS_ANY, X_LOCK),
    [IR_CMPXCHG] = S(K_RM, SZ_OS, K_REG, SZ_OS, N, 0, OS_ANY, X_LOCK),
    [IR_CMPXCHG8B] = S(K_MEM, SZ_8, N, 0, N, 0, OS_ANY, X_LOCK),
    [IR_LEA] = S(K_REG, SZ_OS, K_MEM, SZ_ANY, N, 0, OS_W, 0),
    [IR_CBW] = S0(OS_W, 0), [IR_CWD] = S0(OS_W, 0),
    [IR_BSWAP] = S(K_REG, SZ_OS, N, 0, N, 0, OS_W, 0),
    [IR_CMOV] = S(K_REG, SZ_OS, K_RM, SZ_OS, N, 0, OS_W, 0),
    [IR_SETCC] = S(K_RM, SZ_1, N, 0, N, 0, OS_ANY, 0),
    [IR_LAHF] = S0(OS_ANY, 0), [IR_SAHF] = S0(OS_ANY, 0),
    [IR_PUSHF] = S0(OS_W, 0), [IR_POPF] = S0(OS_W, 0),
    [IR_PUSH] = S(K_RMI | K_SREG, SZ_OS, N, 0, N, 0, OS_W, 0),
    [IR_POP] = S(K_RM | K_SREG, SZ_OS, N, 0, N, 0, OS_W, 0),
    [IR_PUSHA] = S0(OS_W, 0), [IR_POPA] = S0(OS_W, 0),
    [IR_ENTER] = S(N | K_IMM, SZ_ANY, N | K_IMM, SZ_ANY, N, 0, OS_W, X_IMM16 | X_LEVEL),
    [IR_LEAVE] = S0(OS_W, 0),
    [IR_LFP] = S(K_REG, SZ_OS, K_MEM, SZ_OS2, K_SREG, SZ_ANY, OS_W, X_NOCS),
    [IR_XLAT] = S0(OS_ANY, X_MEMSEG),
    [IR_DAA] = S0(OS_ANY, 0), [IR_DAS] = S0(OS_ANY, 0), [IR_AAA] = S0(OS_ANY, 0),
    [IR_AAS] = S0(OS_ANY, 0),
    [IR_AAM] = S(N | K_IMM, SZ_ANY, N, 0, N, 0, OS_ANY, X_IMM8),
    [IR_AAD] = S(N | K_IMM, SZ_ANY, N, 0, N, 0, OS_ANY, X_IMM8),
    [IR_SALC] = S0(OS_ANY, 0),
    [IR_BT] = S(K_RM, SZ_OS, K_REG | K_IMM, SZ_OS, N, 0, OS_W, 0),
    [IR_BTS] = S_BT, [IR_BTR] = S_BT, [IR_BTC] = S_BT,
    [IR_BSF] = S_BS, [IR_BSR] = S_BS,
    [IR_JMP] = S_TARGET, [IR_JCC] = S_TARGET, [IR_JCXZ] = S_TARGET, [IR_LOOP] = S_TARGET,
    [IR_LOOPE] = S_TARGET, [IR_LOOPNE] = S_TARGET,
    [IR_JMP_IND] = S(K_RM, SZ_OS, N, 0, N, 0, OS_W, 0),
    [IR_CALL] = S_TARGET,
    [IR_CALL_IND] = S(K_RM, SZ_OS, N, 0, N, 0, OS_W, 0),
    [IR_JMP_FAR] = S(N | K_IMM, SZ_ANY, N | K_IMM, SZ_ANY, N, 0, OS_W, X_FAR),
    [IR_CALL_FAR] = S(N | K_IMM, SZ_ANY, N | K_IMM, SZ_ANY, N, 0, OS_W, X_FAR),
    [IR_JMP_FAR_IND] = S(K_MEM, SZ_OS2, N, 0, N, 0, OS_W, 0),
    [IR_CALL_FAR_IND] = S(K_MEM, SZ_OS2, N, 0, N, 0, OS_W, 0),
    [IR_RET] = S(N | K_IMM, SZ_ANY, N, 0, N, 0, OS_W, X_IMM16),
    [IR_RETF] = S(N | K_IMM, SZ_ANY, N, 0, N, 0, OS_W, X_IMM16),
    [IR_IRET] = S0(OS_W, 0),
    [IR_INT] = S(N | K_IMM, SZ_ANY, N, 0, N, 0, OS_ANY, X_IMM8),
    [IR_INT3] = S0(OS_ANY, 0), [IR_INTO] = S0(OS_ANY, 0), [IR_INT1] = S0(OS_ANY, 0),
    [IR_BOUND] = S(K_REG, SZ_OS, K_MEM, SZ_2OS, N, 0, OS_W, 0),
    [IR_CLC] = S0(OS_ANY, 0), [IR_STC] = S0(OS_ANY, 0), [IR_CMC] = S0(OS_ANY, 0),
    [IR_CLD] = S0(OS_ANY, 0), [IR_STD] = S0(OS_ANY, 0), [IR_CLI] = S0(OS_ANY, 0),
    [IR_STI] = S0(OS_ANY, 0),
    [IR_MOVS] = S_STR, [IR_CMPS] = S_STR, [IR_STOS] = S_STR, [IR_LODS] = S_STR,
    [IR_SCAS] = S_STR, [IR_INS] = S_STR, [IR_OUTS] = S_STR,
    [IR_IN] = S(K_REG, SZ_OS, K_REG | K_IMM, SZ_ANY, N, 0, OS_ANY, X_ACC | X_PORT),
    [IR_OUT] = S(K_REG | K_IMM, SZ_ANY, K_REG, SZ_OS, N, 0, OS_ANY, X_ACC | X_PORT),
    [IR_NOP] = S(N | K_RM, SZ_ANY, N | K_REG, SZ_ANY, N, 0, OS_ANY, 0),
    [IR_HLT] = S0(OS_ANY, 0), [IR_WAIT] = S0(OS_ANY, 0), [IR_CPUID] = S0(OS_ANY, 0),
    [IR_RDTSC] = S0(OS_ANY, 0), [IR_RDMSR] = S0(OS_ANY, 0), [IR_WRMSR] = S0(OS_ANY, 0),
    [IR_RDPMC] = S0(OS_ANY, 0), [IR_SYSENTER] = S0(OS_ANY, 0), [IR_SYSEXIT] = S0(OS_ANY, 0),
    [IR_LGDT] = S_M6, [IR_LIDT] = S_M6, [IR_SGDT] = S_M6, [IR_SIDT] = S_M6,
    [IR_LLDT] = S_RM16, [IR_SLDT] = S_RMSEL, [IR_LTR] = S_RM16, [IR_STR] = S_RMSEL,
    [IR_LMSW] = S_RM16, [IR_SMSW] = S_RMSEL,
    [IR_LAR] = S(K_REG, SZ_OS, K_RM, SZ_2OR4, N, 0, OS_W, 0),
    [IR_LSL] = S(K_REG, SZ_OS, K_RM, SZ_2OR4, N, 0, OS_W, 0),
    [IR_VERR] = S_RM16, [IR_VERW] = S_RM16,
    [IR_ARPL] = S(K_RM, SZ_2, K_REG, SZ_2, N, 0, OS_ANY, 0),
    [IR_CLTS] = S0(OS_ANY, 0),
    [IR_MOV_TO_CR] = S(K_CREG, SZ_ANY, K_REG, SZ_4, N, 0, OS_ANY, 0),
    [IR_MOV_FROM_CR] = S(K_REG, SZ_4, K_CREG, SZ_ANY, N, 0, OS_ANY, 0),
    [IR_MOV_TO_DR] = S(K_DREG, SZ_ANY, K_REG, SZ_4, N, 0, OS_ANY, 0),
    [IR_MOV_FROM_DR] = S(K_REG, SZ_4, K_DREG, SZ_ANY, N, 0, OS_ANY, 0),
    [IR_INVLPG] = S(K_MEM, SZ_ANY, N, 0, N, 0, OS_ANY, 0),
    [IR_INVD] = S0(OS_ANY, 0), [IR_WBINVD] = S0(OS_ANY, 0),
    [IR_X87] = S(N | K_MEM | K_STREG, SZ_ANY, N | K_STREG | K_REG, SZ_ANY, N, 0, OS_ANY, X_X87),
};

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static bool size_ok(unsigned rule, unsigned size, unsigned osize)
{
    switch (rule) {
    case SZ_ANY: return true;
    case SZ_OS: return size == osize;
    case SZ_1: return size == 1;
    case SZ_2: return size == 2;
    case SZ_4: return size == 4;
    case SZ_6: return size == 6;
    case SZ_8: return size == 8;
    case SZ_2OR4: return size == 2 || size == 4;
    case SZ_12: return (size == 1 || size == 2) && size <= osize;
    case SZ_OS2: return size == osize + 2;
    case SZ_2OS: return size == 2 * osize;
    case SZ_CL: return size == 1;
    default: return false;
    }
}

/* Register-number ranges that hold for every op, whatever the slot. */
static bool operand_regs_ok(const struct ir_operand *o)
{
    switch (o->kind) {
    case IR_OPK_NONE:
    case IR_OPK_MEM:
    case IR_OPK_IMM:
        return true;
    case IR_OPK_REG:
    case IR_OPK_CREG:
    case IR_OPK_DREG:
    case IR_OPK_STREG:
        return o->reg <= 7;
    case IR_OPK_SREG:
        return o->reg < IR_NSREG;
    default:
        return false;
    }
}

static bool mem_ok(const struct ir_mem *m, unsigned asize)
{
    if (m->seg >= IR_NSREG || m->scale > 3)
        return false;
    if (m->base != IR_NOREG && m->base > IR_EDI)
        return false;
    if (m->index != IR_NOREG && (m->index > IR_EDI || m->index == IR_ESP))
        return false;
    if (asize == 2) {
        /* 16-bit forms only combine BX/BP with SI/DI, unscaled. */
        if (m->scale != 0)
            return false;
        if (m->base != IR_NOREG && m->base != IR_EBX && m->base != IR_EBP &&
            m->base != IR_ESI && m->base != IR_EDI)
            return false;
        if (m->index != IR_NOREG && m->index != IR_ESI && m->index != IR_EDI)
            return false;
    }
    return true;
}

static bool imm_size_ok(const struct ir_operand *o)
{
    return o->size == 1 || o->size == 2 || o->size == 4;
}

bool ir_insn_valid(const struct ir_insn *in)
{
    if (in == NULL || in->op >= IR_OP_COUNT)
        return false;
    if (in->len < 1 || in->len > IR_MAX_INSN_LEN)
        return false;
    if (in->osize != 1 && in->osize != 2 && in->osize != 4)
        return false;
    if (in->asize != 2 && in->asize != 4)
        return false;
    if (in->cond > IR_CC_G)
        return false;
    if (in->prefix & ~(IR_PF_LOCK | IR_PF_REP | IR_PF_REPNE | IR_PF_SEGOV))
        return false;
    /* F2 and F3 together are resolved by the decoder (the last one wins); both here is a bug. */
    if ((in->prefix & (IR_PF_REP | IR_PF_REPNE)) == (IR_PF_REP | IR_PF_REPNE))
        return false;
    if (in->flags & ~(IR_F_ENDS_BLOCK | IR_F_PRIV | IR_F_WRITES_MEM | IR_F_READS_MEM | IR_F_TOO_LONG))
        return false;
    if ((in->flags & IR_F_TOO_LONG) && in->op != IR_INVALID)
        return false;

    const struct op_spec *sp = &specs[in->op];
    if (sp->osize == OS_W && in->osize == 1)
        return false;

    unsigned mems = 0;
    for (unsigned i = 0; i < 3; i++) {
        const struct ir_operand *o = &in->opd[i];
        if (o->kind >= IR_OPK_COUNT || !(sp->kinds[i] & (1u << o->kind)))
            return false;
        if (!operand_regs_ok(o))
            return false;
        switch (o->kind) {
        case IR_OPK_MEM:
            mems++;
            if (!size_ok(sp->sizes[i], o->size, in->osize))
                return false;
            break;
        case IR_OPK_REG:
            if (sp->sizes[i] == SZ_CL) {
                if (o->size != 1 || o->reg != IR_ECX)
                    return false;
            } else if (!size_ok(sp->sizes[i], o->size, in->osize)) {
                return false;
            }
            break;
        case IR_OPK_IMM:
            if (!imm_size_ok(o))
                return false;
            break;
        default:
            break;
        }
    }
    if (mems > 1)
        return false;
    if ((mems || (sp->extra & X_MEMSEG)) && !mem_ok(&in->mem, in->asize))
        return false;

    /* LOCK only where the processor accepts it (else #UD, which the decoder emits as INVALID);
     * REP/REPNE are kept only on string instructions */
    if ((in->prefix & IR_PF_LOCK) && !((sp->extra & X_LOCK) && in->opd[0].kind == IR_OPK_MEM))
        return false;
    if ((in->prefix & (IR_PF_REP | IR_PF_REPNE)) && !(sp->extra & X_REP))
        return false;
    if ((sp->extra & (X_REL | X_FAR)) && in->imm > size_mask(in->osize))
        return false;
    if ((sp->extra & X_FAR) && in->imm2 > 0xFFFF)
        return false;
    if ((sp->extra & X_LEVEL) && in->imm2 > 0xFF)
        return false;
    if ((sp->extra & X_IMM8) && in->imm > 0xFF)
        return false;
    if ((sp->extra & X_IMM16) && in->imm > 0xFFFF)
        return false;
    if ((sp->extra & X_NOCS) && in->opd[2].reg == IR_CS)
        return false;
    if (sp->extra & X_ACC) {
        const struct ir_operand *acc = &in->opd[in->op == IR_IN ? 0 : 1];
        if (acc->reg != IR_EAX)
            return false;
    }
    if (sp->extra & X_PORT) {
        const struct ir_operand *port = &in->opd[in->op == IR_IN ? 1 : 0];
        if (port->kind == IR_OPK_REG && (port->reg != IR_EDX || port->size != 2))
            return false;
        if (port->kind == IR_OPK_IMM && in->imm > 0xFF)
            return false;
    }
    if (sp->extra & X_X87) {
        if (in->x87 > 0x7FF)
            return false;
        /* memory forms carry only the /r field of ModRM; register forms the whole ModRM */
        bool memform = in->opd[0].kind == IR_OPK_MEM;
        if (memform && (in->x87 & 0xC7) != 0)
            return false;
        if (!memform && (in->x87 & 0xC0) != 0xC0)
            return false;
    }
    return true;
}
