/*
 * ir.h - cloister's intermediate code: the contract between the translator (which decodes guest
 * bytes into it, inside its sandbox) and the vCPU (which validates and executes it, and which a
 * later back-end compiles to x86-64).
 *
 * One IR instruction stands for exactly one guest instruction, decoded and normalised: prefixes
 * resolved into sizes and a segment, ModRM/SIB resolved into one memory operand, immediates
 * sign- or zero-extended as the encoding says, relative branch targets made absolute. Because the
 * guest and host ISAs are both x86, this is the form a same-ISA back-end wants: most IR
 * instructions compile to one host instruction plus a memory-access sequence.
 *
 * Trust: IR crosses a process boundary (translator -> vCPU) in a shared region. The vCPU treats
 * every field as hostile and checks it with ir_insn_valid() before use; that function, not the
 * decoder, defines what "valid" means.
 *
 * Layout is fixed (static asserts below): no pointers, little-endian, explicit padding.
 */
#ifndef CLOISTER_IPC_IR_H
#define CLOISTER_IPC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register numbers follow the x86 encoding. For 1-byte operands, 0-3 are AL CL DL BL and 4-7 are
 * AH CH DH BH, exactly as the ModRM reg field encodes them. */
enum ir_gpr { IR_EAX, IR_ECX, IR_EDX, IR_EBX, IR_ESP, IR_EBP, IR_ESI, IR_EDI, IR_NOREG = 0xFF };
enum ir_sreg { IR_ES, IR_CS, IR_SS, IR_DS, IR_FS, IR_GS, IR_NSREG };

/* Condition codes, numbered as in the Jcc/SETcc/CMOVcc opcodes (low nibble). */
enum ir_cond {
    IR_CC_O, IR_CC_NO, IR_CC_B, IR_CC_AE, IR_CC_E, IR_CC_NE, IR_CC_BE, IR_CC_A,
    IR_CC_S, IR_CC_NS, IR_CC_P, IR_CC_NP, IR_CC_L, IR_CC_GE, IR_CC_LE, IR_CC_G,
};

enum ir_opkind {
    IR_OPK_NONE = 0,
    IR_OPK_REG,   /* general register; reg = 0..7 in the encoding's numbering for this size */
    IR_OPK_MEM,   /* the instruction's memory operand (struct ir_mem); at most one per instruction */
    IR_OPK_IMM,   /* immediate: ir_insn.imm (already extended to the operand size) */
    IR_OPK_SREG,  /* segment register, reg = enum ir_sreg */
    IR_OPK_CREG,  /* control register CR0..CR7 (only 0,2,3,4 are valid to execute) */
    IR_OPK_DREG,  /* debug register DR0..DR7 */
    IR_OPK_STREG, /* x87 stack register ST(reg) */
    IR_OPK_COUNT,
};

struct ir_operand {
    uint8_t kind; /* enum ir_opkind */
    uint8_t size; /* bytes: 1, 2, 4, 6 (far pointer / descriptor table), 8, 10 (x87) */
    uint8_t reg;
    uint8_t pad;
};

struct ir_mem {
    uint8_t seg;   /* enum ir_sreg after overrides and defaults (EBP/ESP base -> SS) */
    uint8_t base;  /* enum ir_gpr or IR_NOREG; with 16-bit addressing: see asize */
    uint8_t index; /* enum ir_gpr or IR_NOREG; never ESP */
    uint8_t scale; /* shift count 0..3 */
    int32_t disp;  /* sign-extended displacement */
};

/* Prefix flags kept after decoding (the rest are folded into sizes and segments). */
#define IR_PF_LOCK  0x01
#define IR_PF_REP   0x02 /* F3: REP / REPE */
#define IR_PF_REPNE 0x04 /* F2: REPNE */
#define IR_PF_SEGOV 0x08 /* a segment override was present (mem.seg holds it) */

/* Instruction-level flags. */
#define IR_F_ENDS_BLOCK 0x01 /* control transfer, or an instruction after which the vCPU must
                                re-check state (mode changes, interrupts enabled, CR writes) */
#define IR_F_PRIV       0x02 /* privileged: #GP(0) unless CPL 0 (checked by the engine) */
#define IR_F_WRITES_MEM 0x04 /* may write its memory operand */
#define IR_F_READS_MEM  0x08 /* may read its memory operand */
#define IR_F_TOO_LONG   0x10 /* with IR_INVALID: over 15 bytes, which is #GP(0), not #UD */

/*
 * The operation list. X(name, description). Operands are listed destination first, as in Intel
 * syntax. "osize" is the operand size (1, 2 or 4) after prefixes; "asize" the address size.
 * Where an instruction exists in byte and word/dword forms, osize tells them apart.
 */
#define IR_OPS(X)                                                                                  \
    X(INVALID, "decodes to #UD (invalid encoding, LOCK where not allowed, UD2, too long)")         \
    /* integer arithmetic: op[0] = dst (reg or mem), op[1] = src (reg, mem or imm) */             \
    X(ADD, "") X(OR, "") X(ADC, "") X(SBB, "") X(AND, "") X(SUB, "") X(XOR, "") X(CMP, "")         \
    X(TEST, "") X(INC, "op[0]") X(DEC, "op[0]") X(NEG, "op[0]") X(NOT, "op[0]")                    \
    X(MUL, "op[0] = src; AL/AX/EAX implicit, result in AX, DX:AX or EDX:EAX")                    \
    X(IMUL1, "one-operand IMUL, like MUL")                                                         \
    X(IMUL, "op[0] = dst reg, op[1] = src; op[2] = imm for the three-operand form, else NONE")    \
    X(DIV, "op[0] = divisor") X(IDIV, "op[0] = divisor")                                           \
    /* shifts and rotates: op[0] = dst, op[1] = count (imm, or REG CL with size 1) */             \
    X(ROL, "") X(ROR, "") X(RCL, "") X(RCR, "") X(SHL, "also SAL (/6)") X(SHR, "") X(SAR, "")     \
    X(SHLD, "op[0] = dst, op[1] = src reg, op[2] = count (imm or CL)") X(SHRD, "as SHLD")           \
    /* data movement */                                                                            \
    X(MOV, "op[0] = dst, op[1] = src (reg, mem, imm; moffs forms give a MEM with no base)")       \
    X(MOVZX, "op[0] = dst reg (osize), op[1] = src (size 1 or 2)") X(MOVSX, "as MOVZX")           \
    X(MOV_SREG, "op[0] = SREG dst, op[1] = r/m16 src: a segment load")                           \
    X(MOV_FROM_SREG, "op[0] = dst r/m, op[1] = SREG")                                            \
    X(XCHG, "op[0], op[1]") X(XADD, "op[0] = dst, op[1] = src reg")                                \
    X(CMPXCHG, "op[0] = dst, op[1] = src reg; accumulator implicit")                               \
    X(CMPXCHG8B, "op[0] = MEM size 8; EDX:EAX, ECX:EBX implicit")                                  \
    X(LEA, "op[0] = dst reg, op[1] = MEM (address computed with asize, no segment)")              \
    X(CBW, "osize 2: CBW, osize 4: CWDE") X(CWD, "osize 2: CWD, osize 4: CDQ")                    \
    X(BSWAP, "op[0] = reg (osize 4; osize 2 is undefined -> executes as on the host)")            \
    X(CMOV, "cond; op[0] = dst reg, op[1] = src")                                                  \
    X(SETCC, "cond; op[0] = r/m8")                                                                 \
    X(LAHF, "") X(SAHF, "") X(PUSHF, "osize") X(POPF, "osize")                                     \
    X(PUSH, "op[0] = src (reg, mem, imm, or SREG for PUSH ES/CS/SS/DS/FS/GS)")                     \
    X(POP, "op[0] = dst (reg, mem, or SREG)")                                                      \
    X(PUSHA, "osize") X(POPA, "osize")                                                             \
    X(ENTER, "imm = frame size (16 bits), imm2 = nesting level (low 5 bits used)")                \
    X(LEAVE, "osize")                                                                              \
    X(LFP, "load far pointer: op[0] = dst reg, op[1] = MEM (osize+2 bytes), op[2] = SREG target") \
    X(XLAT, "mem = [seg: EBX/BX + AL]")                                                            \
    /* BCD */                                                                                      \
    X(DAA, "") X(DAS, "") X(AAA, "") X(AAS, "") X(AAM, "imm = base") X(AAD, "imm = base")          \
    X(SALC, "D6: AL = CF ? 0xFF : 0 (undocumented, executed by the host CPU)")                    \
    /* bit operations: op[0] = dst/base, op[1] = bit offset (reg or imm8) */                       \
    X(BT, "") X(BTS, "") X(BTR, "") X(BTC, "")                                                     \
    X(BSF, "op[0] = dst reg, op[1] = src") X(BSR, "as BSF")                                        \
    /* control transfer: imm = absolute target EIP (already masked to osize) for relative forms */ \
    X(JMP, "imm = target") X(JCC, "cond; imm = target")                                            \
    X(JCXZ, "asize selects CX or ECX; imm = target")                                               \
    X(LOOP, "asize selects CX or ECX; imm = target") X(LOOPE, "") X(LOOPNE, "")                   \
    X(JMP_IND, "op[0] = r/m target") X(CALL, "imm = target") X(CALL_IND, "op[0] = r/m target")   \
    X(JMP_FAR, "imm = offset, imm2 = selector") X(CALL_FAR, "imm = offset, imm2 = selector")       \
    X(JMP_FAR_IND, "op[0] = MEM m16:16/m16:32") X(CALL_FAR_IND, "op[0] = MEM")                     \
    X(RET, "imm = bytes to pop (0 if none)") X(RETF, "imm = bytes to pop") X(IRET, "osize")        \
    X(INT, "imm = vector") X(INT3, "") X(INTO, "") X(INT1, "F1 (ICEBP)")                           \
    X(BOUND, "op[0] = index reg, op[1] = MEM bounds pair")                                         \
    /* flags */                                                                                    \
    X(CLC, "") X(STC, "") X(CMC, "") X(CLD, "") X(STD, "") X(CLI, "") X(STI, "")                   \
    /* string instructions: osize = element size, asize = index registers, prefix = REP/REPNE;   \
     * mem.seg = source segment (DS or override); destination is always ES:EDI */                  \
    X(MOVS, "") X(CMPS, "") X(STOS, "") X(LODS, "") X(SCAS, "") X(INS, "") X(OUTS, "")           \
    /* port I/O: op[0] = dst/src; port in imm (op kind IMM) or DX (REG) */                         \
    X(IN, "op[0] = AL/AX/EAX, op[1] = port (IMM 8-bit or REG DX)")                                 \
    X(OUT, "op[0] = port (IMM or REG DX), op[1] = AL/AX/EAX")                                      \
    /* system */                                                                                   \
    X(NOP, "including multi-byte 0F 1F /0 and PAUSE") X(HLT, "") X(WAIT, "FWAIT")                  \
    X(CPUID, "") X(RDTSC, "") X(RDMSR, "") X(WRMSR, "") X(RDPMC, "") X(SYSENTER, "") X(SYSEXIT, "")\
    X(LGDT, "op[0] = MEM (6 bytes)") X(LIDT, "") X(SGDT, "") X(SIDT, "")                           \
    X(LLDT, "op[0] = r/m16") X(SLDT, "op[0] = r/m") X(LTR, "") X(STR, "")                          \
    X(LMSW, "op[0] = r/m16") X(SMSW, "op[0] = r/m")                                                \
    X(LAR, "op[0] = dst reg, op[1] = r/m16 selector") X(LSL, "as LAR")                             \
    X(VERR, "op[0] = r/m16") X(VERW, "")                                                           \
    X(ARPL, "op[0] = r/m16 dst, op[1] = reg16") X(CLTS, "")                                        \
    X(MOV_TO_CR, "op[0] = CREG, op[1] = reg32") X(MOV_FROM_CR, "op[0] = reg32, op[1] = CREG")      \
    X(MOV_TO_DR, "op[0] = DREG, op[1] = reg32") X(MOV_FROM_DR, "op[0] = reg32, op[1] = DREG")      \
    X(INVLPG, "op[0] = MEM") X(INVD, "") X(WBINVD, "")                                             \
    /* x87: x87 = (opcode & 7) << 8 | modrm for register forms, (opcode & 7) << 8 | (modrm & 0x38)   \
     * for memory forms with op[0] = MEM (size from the opcode); the engine decodes the rest */      \
    X(X87, "")

enum ir_op {
#define IR_ENUM(name, desc) IR_##name,
    IR_OPS(IR_ENUM)
#undef IR_ENUM
    IR_OP_COUNT
};

struct ir_insn {
    uint16_t op;     /* enum ir_op */
    uint8_t len;     /* guest instruction length in bytes, 1..15 */
    uint8_t osize;   /* operand size: 1, 2 or 4 */
    uint8_t asize;   /* address size: 2 or 4 */
    uint8_t prefix;  /* IR_PF_* */
    uint8_t cond;    /* enum ir_cond for JCC/SETCC/CMOV */
    uint8_t flags;   /* IR_F_* */
    struct ir_operand opd[3];
    struct ir_mem mem; /* valid when any opd[i].kind == IR_OPK_MEM, or for string ops / XLAT */
    uint32_t imm;
    uint32_t imm2;
    uint16_t x87;    /* see IR_X87 */
    uint16_t pad;
};

_Static_assert(sizeof(struct ir_operand) == 4, "ir_operand layout");
_Static_assert(sizeof(struct ir_mem) == 8, "ir_mem layout");
_Static_assert(sizeof(struct ir_insn) == 40, "ir_insn layout");

#define IR_MAX_INSN_LEN 15

/* Decoding mode: the only CPU state that changes how bytes decode (part of the block key). */
#define IR_MODE_CS32 0x1 /* CS.D = 1: default operand and address size 32 */
#define IR_MODE_PE   0x2 /* protected mode (some opcodes are #UD in real mode) */

/* Name of an op for diagnostics; "?" for out-of-range values. */
const char *ir_op_name(unsigned op);

/* Structural validity of one IR instruction received from another process: every enum in range,
 * register numbers in range for their kind, sizes allowed for the op, at most one MEM operand,
 * lengths 1..15. Semantics (privilege, faults) are the engine's business at execution time. */
bool ir_insn_valid(const struct ir_insn *in);

#endif
