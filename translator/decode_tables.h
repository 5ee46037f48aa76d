/*
 * decode_tables.h - private to the decoder: the format of the opcode tables that
 * decode_tables.c fills and decode.c interprets.
 *
 * One struct dec_entry describes one opcode (or one /r row of a group, or one x87 memory form):
 * the IR op, up to three operand specifiers in encoding order, and attribute flags. The tables are
 * constant data; nothing here is trusted from outside. See docs/decoder.md for the format.
 */
#ifndef CLOISTER_TRANSLATOR_DECODE_TABLES_H
#define CLOISTER_TRANSLATOR_DECODE_TABLES_H

#include <stdint.h>

#include "ipc/ir.h"

/* What one operand slot of an entry stands for. "Hidden" kinds consume encoding bytes and fill
 * ir_insn.imm/imm2/mem, but produce no IR operand. */
enum dec_kind {
    K_NONE = 0,
    K_E,       /* ModRM r/m: register (mod == 3) or memory */
    K_M,       /* ModRM r/m, memory only (entry also carries D_MEMONLY) */
    K_G,       /* ModRM reg: general register */
    K_R,       /* ModRM r/m as a general register whatever mod says (MOV CR/DR) */
    K_S,       /* ModRM reg: segment register, read (ES..GS) */
    K_SW,      /* ModRM reg: segment register, written (ES, SS..GS; CS is #UD) */
    K_C,       /* ModRM reg: control register */
    K_D,       /* ModRM reg: debug register */
    K_Z,       /* general register in opcode bits 2..0 */
    K_ACC,     /* AL / AX / EAX */
    K_CL,      /* CL (shift counts) */
    K_DX,      /* DX (port number) */
    K_ONE,     /* constant 1 as an immediate (D0-D3 shifts) */
    K_I,       /* immediate of the entry's operand size (Ib, Iw or Id) */
    K_IBS,     /* imm8 sign-extended to the operand size */
    K_IB,      /* imm8, zero-extended, operand size 1 (counts, ports, bit offsets) */
    K_SREGFIX, /* segment register given by entry.arg (PUSH ES, LES ...) */
    K_MOFFS,   /* moffs: address-size offset, memory operand without base or index */
    /* hidden kinds */
    K_HIMM,    /* immediate into ir_insn.imm (size class B or W) */
    K_HIMM2,   /* imm8 into ir_insn.imm2 (ENTER nesting level) */
    K_JREL,    /* relative branch displacement (size class B or OS) -> absolute target in imm */
    K_FARPTR,  /* ptr16:16 / ptr16:32: offset into imm, selector into imm2 */
    K_XLAT,    /* implicit [seg: EBX/BX + AL] into ir_insn.mem */
    K_EIGN,    /* ModRM r/m decoded for its length only (hint NOPs) */
    K_COUNT,
};

/* Operand size classes, resolved against the effective operand size. */
enum dec_size {
    SZ_OS = 0, /* operand size: 1 for byte entries (D_BYTE), else 2 or 4 */
    SZ_B,      /* 1 */
    SZ_W,      /* 2 */
    SZ_D,      /* 4 */
    SZ_FP,     /* far pointer: operand size + 2 */
    SZ_Q,      /* 8 */
    SZ_DT,     /* 6: descriptor-table register image */
    SZ_2OS,    /* 2 * operand size (BOUND pair) */
    SZ_WM,     /* 2 for a memory operand, the operand size for a register (SLDT, SMSW ...) */
    SZ_T,      /* 10: x87 extended real / packed BCD */
    SZ_ENV,    /* x87 environment: 14 (16-bit) or 28 (32-bit) */
    SZ_STATE,  /* x87 state: 94 (16-bit) or 108 (32-bit) */
};

struct dec_spec {
    uint8_t kind; /* enum dec_kind */
    uint8_t size; /* enum dec_size */
};

/* Entry attribute flags. */
#define D_MODRM   0x0001u /* a ModRM byte follows the opcode */
#define D_BYTE    0x0002u /* byte operation: operand size 1 whatever the prefixes */
#define D_LOCK    0x0004u /* LOCK allowed when the r/m operand is memory */
#define D_ENDS    0x0008u /* IR_F_ENDS_BLOCK */
#define D_PRIV    0x0010u /* IR_F_PRIV */
#define D_RD      0x0020u /* reads its memory operand (when it has one) */
#define D_WR      0x0040u /* writes its memory operand (when it has one) */
#define D_MEMONLY 0x0080u /* mod == 3 is #UD */
#define D_COND    0x0100u /* condition = low nibble of the opcode */
#define D_PMODE   0x0200u /* #UD in real-address and virtual-8086 mode */
#define D_STRING  0x0400u /* string instruction: REP/REPNE kept, mem = DS:ESI source */
#define D_GROUP   0x0800u /* ModRM reg selects the entry in dec_groups[arg] */
#define D_X87     0x1000u /* x87 escape D8-DF */
#define D_MODREG  0x2000u /* ModRM r/m names a register whatever mod says (0F 20-23) */

struct dec_entry {
    uint8_t op;    /* enum ir_op; 0 (IR_INVALID) for undefined slots */
    uint8_t arg;   /* group index (D_GROUP) or segment register (K_SREGFIX) */
    uint16_t flags; /* D_* */
    struct dec_spec s[3];
};

_Static_assert(IR_OP_COUNT <= 256, "ops must fit in dec_entry.op");
_Static_assert(IR_INVALID == 0, "zero-filled table slots must decode as invalid");

enum dec_group {
    G1_80, G1_81, G1_83, G2_C0, G2_C1, G2_D0, G2_D1, G2_D2, G2_D3, G3_F6, G3_F7, G4_FE, G5_FF,
    G1A_8F, G11_C6, G11_C7, G6_0F00, G7_0F01, G8_0FBA, G9_0FC7, DEC_NGROUPS,
};

extern const struct dec_entry dec_map1[256];             /* one-byte opcodes */
extern const struct dec_entry dec_map2[256];             /* 0F xx */
extern const struct dec_entry dec_groups[DEC_NGROUPS][8]; /* indexed by ModRM reg */
extern const struct dec_entry dec_x87_mem[8][8];         /* [opcode - D8][ModRM reg], mod != 3 */
extern const uint64_t dec_x87_reg_valid[8];              /* [opcode - D8]: bit (modrm & 63) set
                                                            when the register form executes */

#endif
