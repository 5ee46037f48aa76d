/*
 * decode_tables.c - the opcode tables of the IA-32 decoder for an i686-class guest (Pentium Pro /
 * Pentium II without MMX, SSE or FXSR): one-byte map, 0F map, ModRM group extensions, x87.
 *
 * Pure constant data, interpreted by decode.c (format in decode_tables.h and docs/decoder.md).
 * Slots left out of a designated initializer are zero, i.e. IR_INVALID (#UD): that is how UD2,
 * UD1, UD0, the MMX/SSE/3DNow! space, SYSCALL/SYSRET, RSM and reserved group rows are encoded.
 * Prefix bytes never reach the tables (decode.c consumes them first).
 *
 * Opcode meanings follow the Intel SDM vol. 2, appendix A (opcode map) and B; the validity of
 * undocumented x87 register forms was checked on the host CPU (see docs/decoder.md).
 */
#include "translator/decode_tables.h"

/* Operand specifiers, named after the SDM's operand codes. */
#define SP(k, z) { K_##k, SZ_##z }
#define Eb   SP(E, B)
#define Ev   SP(E, OS)
#define Ew   SP(E, W)
#define Ewm  SP(E, WM)
#define Gb   SP(G, B)
#define Gv   SP(G, OS)
#define Gw   SP(G, W)
#define Mv   SP(M, OS)
#define Mb   SP(M, B)
#define Mp   SP(M, FP)
#define Ma   SP(M, 2OS)
#define Ms   SP(M, DT)
#define Mq   SP(M, Q)
#define Md   SP(M, D)
#define Mw   SP(M, W)
#define Mt   SP(M, T)
#define Menv SP(M, ENV)
#define Mst  SP(M, STATE)
#define Rd   SP(R, D)
#define Cd   SP(C, D)
#define Dd   SP(D, D)
#define Sw   SP(S, W)
#define SWw  SP(SW, W)
#define Zb   SP(Z, B)
#define Zv   SP(Z, OS)
#define AL   SP(ACC, B)
#define eAX  SP(ACC, OS)
#define CL   SP(CL, B)
#define DX   SP(DX, W)
#define ONE  SP(ONE, B)
#define Ib   SP(IB, B)
#define Iz   SP(I, OS)
#define Ibs  SP(IBS, OS)
#define SREG SP(SREGFIX, W)
#define Ob   SP(MOFFS, B)
#define Ov   SP(MOFFS, OS)
#define hIb  SP(HIMM, B)
#define hIw  SP(HIMM, W)
#define h2Ib SP(HIMM2, B)
#define Jb   SP(JREL, B)
#define Jz   SP(JREL, OS)
#define Ap   SP(FARPTR, FP)
#define XLATM SP(XLAT, B)
#define Eign SP(EIGN, OS)

/* Flag shorthands. */
#define M   D_MODRM
#define B   D_BYTE
#define LK  D_LOCK
#define END D_ENDS
#define PRV D_PRIV
#define RD  D_RD
#define WR  D_WR
#define MO  D_MEMONLY
#define CC  D_COND
#define PM  D_PMODE
#define STR D_STRING
#define RW  (D_RD | D_WR)

#define E(op_, fl_, ...) { .op = IR_##op_, .flags = (fl_), .s = { __VA_ARGS__ } }
#define E0(op_, fl_)     { .op = IR_##op_, .flags = (fl_) }
/* Entries whose K_SREGFIX operand names segment register arg_. */
#define ES_(op_, sreg_, fl_, ...) { .op = IR_##op_, .arg = (sreg_), .flags = (fl_), .s = { __VA_ARGS__ } }
#define GRP(g_)          { .op = IR_INVALID, .arg = (g_), .flags = D_MODRM | D_GROUP }
#define X87ESC           { .op = IR_X87, .flags = D_MODRM | D_X87 }

/* The eight classic ALU opcodes 00-3F: r/m,reg  reg,r/m  acc,imm in byte and full size. */
#define ALU(base_, op_)                                                                            \
    [(base_) + 0] = E(op_, M | B | LK | RW, Eb, Gb),                                               \
    [(base_) + 1] = E(op_, M | LK | RW, Ev, Gv),                                                   \
    [(base_) + 2] = E(op_, M | B | RD, Gb, Eb),                                                    \
    [(base_) + 3] = E(op_, M | RD, Gv, Ev),                                                        \
    [(base_) + 4] = E(op_, B, AL, Ib),                                                             \
    [(base_) + 5] = E(op_, 0, eAX, Iz)

/* Eight consecutive opcodes with the register in bits 2..0. */
#define REG8(base_, ...)                                                                           \
    [(base_) + 0] = __VA_ARGS__, [(base_) + 1] = __VA_ARGS__, [(base_) + 2] = __VA_ARGS__,         \
    [(base_) + 3] = __VA_ARGS__, [(base_) + 4] = __VA_ARGS__, [(base_) + 5] = __VA_ARGS__,         \
    [(base_) + 6] = __VA_ARGS__, [(base_) + 7] = __VA_ARGS__
#define CC16(base_, ...) REG8(base_, __VA_ARGS__), REG8((base_) + 8, __VA_ARGS__)

const struct dec_entry dec_map1[256] = {
    ALU(0x00, ADD),
    [0x06] = ES_(PUSH, IR_ES, 0, SREG),
    [0x07] = ES_(POP, IR_ES, 0, SREG),
    ALU(0x08, OR),
    [0x0E] = ES_(PUSH, IR_CS, 0, SREG),
    ALU(0x10, ADC),
    [0x16] = ES_(PUSH, IR_SS, 0, SREG),
    [0x17] = ES_(POP, IR_SS, END, SREG), /* interrupt shadow */
    ALU(0x18, SBB),
    [0x1E] = ES_(PUSH, IR_DS, 0, SREG),
    [0x1F] = ES_(POP, IR_DS, 0, SREG),
    ALU(0x20, AND),
    [0x27] = E0(DAA, 0),
    ALU(0x28, SUB),
    [0x2F] = E0(DAS, 0),
    ALU(0x30, XOR),
    [0x37] = E0(AAA, 0),
    [0x38] = E(CMP, M | B | RD, Eb, Gb),
    [0x39] = E(CMP, M | RD, Ev, Gv),
    [0x3A] = E(CMP, M | B | RD, Gb, Eb),
    [0x3B] = E(CMP, M | RD, Gv, Ev),
    [0x3C] = E(CMP, B, AL, Ib),
    [0x3D] = E(CMP, 0, eAX, Iz),
    [0x3F] = E0(AAS, 0),
    REG8(0x40, E(INC, 0, Zv)),
    REG8(0x48, E(DEC, 0, Zv)),
    REG8(0x50, E(PUSH, 0, Zv)),
    REG8(0x58, E(POP, 0, Zv)),
    [0x60] = E0(PUSHA, 0),
    [0x61] = E0(POPA, 0),
    [0x62] = E(BOUND, M | MO | RD, Gv, Ma),
    [0x63] = E(ARPL, M | RW | PM, Ew, Gw),
    [0x68] = E(PUSH, 0, Iz),
    [0x69] = E(IMUL, M | RD, Gv, Ev, Iz),
    [0x6A] = E(PUSH, 0, Ibs),
    [0x6B] = E(IMUL, M | RD, Gv, Ev, Ibs),
    [0x6C] = E0(INS, B | STR | WR | END),
    [0x6D] = E0(INS, STR | WR | END),
    [0x6E] = E0(OUTS, B | STR | RD | END),
    [0x6F] = E0(OUTS, STR | RD | END),
    CC16(0x70, E(JCC, CC | END, Jb)),
    [0x80] = GRP(G1_80),
    [0x81] = GRP(G1_81),
    [0x82] = GRP(G1_80), /* alias of 80, valid outside 64-bit mode */
    [0x83] = GRP(G1_83),
    [0x84] = E(TEST, M | B | RD, Eb, Gb),
    [0x85] = E(TEST, M | RD, Ev, Gv),
    [0x86] = E(XCHG, M | B | LK | RW, Eb, Gb),
    [0x87] = E(XCHG, M | LK | RW, Ev, Gv),
    [0x88] = E(MOV, M | B | WR, Eb, Gb),
    [0x89] = E(MOV, M | WR, Ev, Gv),
    [0x8A] = E(MOV, M | B | RD, Gb, Eb),
    [0x8B] = E(MOV, M | RD, Gv, Ev),
    [0x8C] = E(MOV_FROM_SREG, M | WR, Ewm, Sw),
    [0x8D] = E(LEA, M | MO, Gv, Mv),
    [0x8E] = E(MOV_SREG, M | RD, SWw, Ew),
    [0x8F] = GRP(G1A_8F),
    [0x90] = E0(NOP, 0), /* XCHG eAX,eAX; F3 90 is PAUSE */
    [0x91] = E(XCHG, 0, Zv, eAX),
    [0x92] = E(XCHG, 0, Zv, eAX),
    [0x93] = E(XCHG, 0, Zv, eAX),
    [0x94] = E(XCHG, 0, Zv, eAX),
    [0x95] = E(XCHG, 0, Zv, eAX),
    [0x96] = E(XCHG, 0, Zv, eAX),
    [0x97] = E(XCHG, 0, Zv, eAX),
    [0x98] = E0(CBW, 0),
    [0x99] = E0(CWD, 0),
    [0x9A] = E(CALL_FAR, END, Ap),
    [0x9B] = E0(WAIT, 0),
    [0x9C] = E0(PUSHF, 0),
    [0x9D] = E0(POPF, END),
    [0x9E] = E0(SAHF, 0),
    [0x9F] = E0(LAHF, 0),
    [0xA0] = E(MOV, B | RD, AL, Ob),
    [0xA1] = E(MOV, RD, eAX, Ov),
    [0xA2] = E(MOV, B | WR, Ob, AL),
    [0xA3] = E(MOV, WR, Ov, eAX),
    [0xA4] = E0(MOVS, B | STR | RW),
    [0xA5] = E0(MOVS, STR | RW),
    [0xA6] = E0(CMPS, B | STR | RD),
    [0xA7] = E0(CMPS, STR | RD),
    [0xA8] = E(TEST, B, AL, Ib),
    [0xA9] = E(TEST, 0, eAX, Iz),
    [0xAA] = E0(STOS, B | STR | WR),
    [0xAB] = E0(STOS, STR | WR),
    [0xAC] = E0(LODS, B | STR | RD),
    [0xAD] = E0(LODS, STR | RD),
    [0xAE] = E0(SCAS, B | STR | RD),
    [0xAF] = E0(SCAS, STR | RD),
    REG8(0xB0, E(MOV, B, Zb, Ib)),
    REG8(0xB8, E(MOV, 0, Zv, Iz)),
    [0xC0] = GRP(G2_C0),
    [0xC1] = GRP(G2_C1),
    [0xC2] = E(RET, END, hIw),
    [0xC3] = E0(RET, END),
    [0xC4] = ES_(LFP, IR_ES, M | MO | RD, Gv, Mp, SREG),
    [0xC5] = ES_(LFP, IR_DS, M | MO | RD, Gv, Mp, SREG),
    [0xC6] = GRP(G11_C6),
    [0xC7] = GRP(G11_C7),
    [0xC8] = E(ENTER, 0, hIw, h2Ib),
    [0xC9] = E0(LEAVE, 0),
    [0xCA] = E(RETF, END, hIw),
    [0xCB] = E0(RETF, END),
    [0xCC] = E0(INT3, END),
    [0xCD] = E(INT, END, hIb),
    [0xCE] = E0(INTO, END),
    [0xCF] = E0(IRET, END),
    [0xD0] = GRP(G2_D0),
    [0xD1] = GRP(G2_D1),
    [0xD2] = GRP(G2_D2),
    [0xD3] = GRP(G2_D3),
    [0xD4] = E(AAM, 0, hIb),
    [0xD5] = E(AAD, 0, hIb),
    [0xD6] = E0(SALC, 0),
    [0xD7] = E(XLAT, B | RD, XLATM),
    REG8(0xD8, X87ESC),
    [0xE0] = E(LOOPNE, END, Jb),
    [0xE1] = E(LOOPE, END, Jb),
    [0xE2] = E(LOOP, END, Jb),
    [0xE3] = E(JCXZ, END, Jb),
    [0xE4] = E(IN, B | END, AL, Ib),
    [0xE5] = E(IN, END, eAX, Ib),
    [0xE6] = E(OUT, B | END, Ib, AL),
    [0xE7] = E(OUT, END, Ib, eAX),
    [0xE8] = E(CALL, END, Jz),
    [0xE9] = E(JMP, END, Jz),
    [0xEA] = E(JMP_FAR, END, Ap),
    [0xEB] = E(JMP, END, Jb),
    [0xEC] = E(IN, B | END, AL, DX),
    [0xED] = E(IN, END, eAX, DX),
    [0xEE] = E(OUT, B | END, DX, AL),
    [0xEF] = E(OUT, END, DX, eAX),
    [0xF1] = E0(INT1, END),
    [0xF4] = E0(HLT, PRV | END),
    [0xF5] = E0(CMC, 0),
    [0xF6] = GRP(G3_F6),
    [0xF7] = GRP(G3_F7),
    [0xF8] = E0(CLC, 0),
    [0xF9] = E0(STC, 0),
    [0xFA] = E0(CLI, END),
    [0xFB] = E0(STI, END), /* interrupt shadow */
    [0xFC] = E0(CLD, 0),
    [0xFD] = E0(STD, 0),
    [0xFE] = GRP(G4_FE),
    [0xFF] = GRP(G5_FF),
};

const struct dec_entry dec_map2[256] = {
    [0x00] = GRP(G6_0F00),
    [0x01] = GRP(G7_0F01),
    [0x02] = E(LAR, M | RD | PM, Gv, Ew),
    [0x03] = E(LSL, M | RD | PM, Gv, Ew),
    [0x06] = E0(CLTS, PRV | END),
    [0x08] = E0(INVD, PRV),
    [0x09] = E0(WBINVD, PRV),
    /* 0B UD2, 0D/0E/0F 3DNow!, 10-17 SSE: invalid */
    /* 18-1F: prefetch hints and reserved NOPs; the host executes every ModRM form as a NOP */
    REG8(0x18, E(NOP, M, Eign)),
    [0x20] = E(MOV_FROM_CR, M | D_MODREG | PRV, Rd, Cd),
    [0x21] = E(MOV_FROM_DR, M | D_MODREG | PRV, Rd, Dd),
    [0x22] = E(MOV_TO_CR, M | D_MODREG | PRV | END, Cd, Rd),
    [0x23] = E(MOV_TO_DR, M | D_MODREG | PRV | END, Dd, Rd),
    /* 24/26 (MOV TR, i486 only) and 28-2F (SSE): invalid */
    [0x30] = E0(WRMSR, PRV | END),
    [0x31] = E0(RDTSC, 0),
    [0x32] = E0(RDMSR, PRV),
    [0x33] = E0(RDPMC, 0),
    [0x34] = E0(SYSENTER, END),
    [0x35] = E0(SYSEXIT, PRV | END),
    CC16(0x40, E(CMOV, M | CC | RD, Gv, Ev)),
    /* 50-7F MMX/SSE: invalid */
    CC16(0x80, E(JCC, CC | END, Jz)),
    CC16(0x90, E(SETCC, M | CC | B | WR, Eb)),
    [0xA0] = ES_(PUSH, IR_FS, 0, SREG),
    [0xA1] = ES_(POP, IR_FS, 0, SREG),
    [0xA2] = E0(CPUID, 0),
    [0xA3] = E(BT, M | RD, Ev, Gv),
    [0xA4] = E(SHLD, M | RW, Ev, Gv, Ib),
    [0xA5] = E(SHLD, M | RW, Ev, Gv, CL),
    [0xA8] = ES_(PUSH, IR_GS, 0, SREG),
    [0xA9] = ES_(POP, IR_GS, 0, SREG),
    /* AA RSM: #UD outside SMM, which a guest never enters */
    [0xAB] = E(BTS, M | LK | RW, Ev, Gv),
    [0xAC] = E(SHRD, M | RW, Ev, Gv, Ib),
    [0xAD] = E(SHRD, M | RW, Ev, Gv, CL),
    /* AE: FXSAVE/FXRSTOR and SSE state management: invalid without FXSR/SSE */
    [0xAF] = E(IMUL, M | RD, Gv, Ev),
    [0xB0] = E(CMPXCHG, M | B | LK | RW, Eb, Gb),
    [0xB1] = E(CMPXCHG, M | LK | RW, Ev, Gv),
    [0xB2] = ES_(LFP, IR_SS, M | MO | RD | END, Gv, Mp, SREG),
    [0xB3] = E(BTR, M | LK | RW, Ev, Gv),
    [0xB4] = ES_(LFP, IR_FS, M | MO | RD, Gv, Mp, SREG),
    [0xB5] = ES_(LFP, IR_GS, M | MO | RD, Gv, Mp, SREG),
    [0xB6] = E(MOVZX, M | RD, Gv, Eb),
    [0xB7] = E(MOVZX, M | RD, Gv, Ew),
    /* B8 (POPCNT with F3) and B9 (UD1): invalid */
    [0xBA] = GRP(G8_0FBA),
    [0xBB] = E(BTC, M | LK | RW, Ev, Gv),
    [0xBC] = E(BSF, M | RD, Gv, Ev),
    [0xBD] = E(BSR, M | RD, Gv, Ev),
    [0xBE] = E(MOVSX, M | RD, Gv, Eb),
    [0xBF] = E(MOVSX, M | RD, Gv, Ew),
    [0xC0] = E(XADD, M | B | LK | RW, Eb, Gb),
    [0xC1] = E(XADD, M | LK | RW, Ev, Gv),
    /* C2-C6 SSE: invalid */
    [0xC7] = GRP(G9_0FC7),
    REG8(0xC8, E(BSWAP, 0, Zv)),
    /* D0-FF MMX/SSE, FF UD0: invalid */
};

/* Group 1: ADD OR ADC SBB AND SUB XOR CMP with an immediate. */
#define GROUP1(fl_, dst_, imm_)                                                                    \
    {                                                                                              \
        E(ADD, M | LK | RW | (fl_), dst_, imm_), E(OR, M | LK | RW | (fl_), dst_, imm_),           \
        E(ADC, M | LK | RW | (fl_), dst_, imm_), E(SBB, M | LK | RW | (fl_), dst_, imm_),          \
        E(AND, M | LK | RW | (fl_), dst_, imm_), E(SUB, M | LK | RW | (fl_), dst_, imm_),          \
        E(XOR, M | LK | RW | (fl_), dst_, imm_), E(CMP, M | RD | (fl_), dst_, imm_),               \
    }
/* Group 2: rotates and shifts; /6 is the undocumented SAL alias of SHL, which executes. */
#define GROUP2(fl_, dst_, cnt_)                                                                    \
    {                                                                                              \
        E(ROL, M | RW | (fl_), dst_, cnt_), E(ROR, M | RW | (fl_), dst_, cnt_),                    \
        E(RCL, M | RW | (fl_), dst_, cnt_), E(RCR, M | RW | (fl_), dst_, cnt_),                    \
        E(SHL, M | RW | (fl_), dst_, cnt_), E(SHR, M | RW | (fl_), dst_, cnt_),                    \
        E(SHL, M | RW | (fl_), dst_, cnt_), E(SAR, M | RW | (fl_), dst_, cnt_),                    \
    }
/* Group 3: /1 is the undocumented alias of TEST /0, which executes. */
#define GROUP3(fl_, dst_, imm_)                                                                    \
    {                                                                                              \
        E(TEST, M | RD | (fl_), dst_, imm_), E(TEST, M | RD | (fl_), dst_, imm_),                  \
        E(NOT, M | LK | RW | (fl_), dst_), E(NEG, M | LK | RW | (fl_), dst_),                      \
        E(MUL, M | RD | (fl_), dst_), E(IMUL1, M | RD | (fl_), dst_),                              \
        E(DIV, M | RD | (fl_), dst_), E(IDIV, M | RD | (fl_), dst_),                               \
    }

const struct dec_entry dec_groups[DEC_NGROUPS][8] = {
    [G1_80] = GROUP1(B, Eb, Ib),
    [G1_81] = GROUP1(0, Ev, Iz),
    [G1_83] = GROUP1(0, Ev, Ibs),
    [G2_C0] = GROUP2(B, Eb, Ib),
    [G2_C1] = GROUP2(0, Ev, Ib),
    [G2_D0] = GROUP2(B, Eb, ONE),
    [G2_D1] = GROUP2(0, Ev, ONE),
    [G2_D2] = GROUP2(B, Eb, CL),
    [G2_D3] = GROUP2(0, Ev, CL),
    [G3_F6] = GROUP3(B, Eb, Ib),
    [G3_F7] = GROUP3(0, Ev, Iz),
    [G4_FE] = {
        E(INC, M | B | LK | RW, Eb),
        E(DEC, M | B | LK | RW, Eb),
    },
    [G5_FF] = {
        E(INC, M | LK | RW, Ev),
        E(DEC, M | LK | RW, Ev),
        E(CALL_IND, M | RD | END, Ev),
        E(CALL_FAR_IND, M | MO | RD | END, Mp),
        E(JMP_IND, M | RD | END, Ev),
        E(JMP_FAR_IND, M | MO | RD | END, Mp),
        E(PUSH, M | RD, Ev),
    },
    [G1A_8F] = { E(POP, M | WR, Ev) },
    [G11_C6] = { E(MOV, M | B | WR, Eb, Ib) },
    [G11_C7] = { E(MOV, M | WR, Ev, Iz) },
    [G6_0F00] = {
        E(SLDT, M | WR | PM, Ewm),
        E(STR, M | WR | PM, Ewm),
        E(LLDT, M | RD | PM | PRV | END, Ew),
        E(LTR, M | RD | PM | PRV | END, Ew),
        E(VERR, M | RD | PM, Ew),
        E(VERW, M | RD | PM, Ew),
    },
    /* Group 7: every mod == 3 form of /0-/3, /5 and /7 is a later extension (VMX, MONITOR,
     * XGETBV, SWAPGS, RDTSCP ...) and so #UD on this CPU. */
    [G7_0F01] = {
        E(SGDT, M | MO | WR, Ms),
        E(SIDT, M | MO | WR, Ms),
        E(LGDT, M | MO | RD | PRV | END, Ms),
        E(LIDT, M | MO | RD | PRV | END, Ms),
        E(SMSW, M | WR, Ewm),
        E0(INVALID, 0),
        E(LMSW, M | RD | PRV | END, Ew),
        E(INVLPG, M | MO | PRV | END, Mb),
    },
    [G8_0FBA] = {
        [4] = E(BT, M | RD, Ev, Ib),
        [5] = E(BTS, M | LK | RW, Ev, Ib),
        [6] = E(BTR, M | LK | RW, Ev, Ib),
        [7] = E(BTC, M | LK | RW, Ev, Ib),
    },
    /* Group 9: only CMPXCHG8B exists on this CPU (RDRAND/RDSEED/VMPTRLD ... are later). */
    [G9_0FC7] = { [1] = E(CMPXCHG8B, M | MO | LK | RW, Mq) },
};

/* x87 memory forms. /1 of DB, DD and DF is FISTTP, an SSE3 instruction: invalid here. */
#define XM(fl_, m_) E(X87, M | MO | (fl_), m_)
const struct dec_entry dec_x87_mem[8][8] = {
    /* D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR m32fp */
    { XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md) },
    /* D9: FLD m32fp, -, FST, FSTP, FLDENV, FLDCW, FNSTENV, FNSTCW */
    { XM(RD, Md), E0(INVALID, 0), XM(WR, Md), XM(WR, Md), XM(RD, Menv), XM(RD, Mw), XM(WR, Menv),
      XM(WR, Mw) },
    /* DA: FIADD ... FIDIVR m32int */
    { XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md), XM(RD, Md) },
    /* DB: FILD m32int, FISTTP, FIST, FISTP, -, FLD m80fp, -, FSTP m80fp */
    { XM(RD, Md), E0(INVALID, 0), XM(WR, Md), XM(WR, Md), E0(INVALID, 0), XM(RD, Mt),
      E0(INVALID, 0), XM(WR, Mt) },
    /* DC: FADD ... FDIVR m64fp */
    { XM(RD, Mq), XM(RD, Mq), XM(RD, Mq), XM(RD, Mq), XM(RD, Mq), XM(RD, Mq), XM(RD, Mq), XM(RD, Mq) },
    /* DD: FLD m64fp, FISTTP, FST, FSTP, FRSTOR, -, FNSAVE, FNSTSW m16 */
    { XM(RD, Mq), E0(INVALID, 0), XM(WR, Mq), XM(WR, Mq), XM(RD, Mst), E0(INVALID, 0),
      XM(WR, Mst), XM(WR, Mw) },
    /* DE: FIADD ... FIDIVR m16int */
    { XM(RD, Mw), XM(RD, Mw), XM(RD, Mw), XM(RD, Mw), XM(RD, Mw), XM(RD, Mw), XM(RD, Mw), XM(RD, Mw) },
    /* DF: FILD m16int, FISTTP, FIST, FISTP, FBLD m80bcd, FILD m64int, FBSTP m80bcd, FISTP m64int */
    { XM(RD, Mw), E0(INVALID, 0), XM(WR, Mw), XM(WR, Mw), XM(RD, Mt), XM(RD, Mq), XM(WR, Mt),
      XM(WR, Mq) },
};

/* x87 register forms that execute (bit n = ModRM 0xC0 + n). Includes the undocumented aliases
 * (D9 D8-DF FSTP1, DC D0-DF FCOM2/FCOMP3, DD C8-CF FXCH4, DE D0-D7 FCOMP5, DF C0-C7 FFREEP,
 * DF C8-DF FXCH7/FSTP8/FSTP9) and the 287 leftovers DB E0/E1/E4 that execute as FNOP: all were
 * checked to execute on the host CPU; every other register form raises #UD there. */
#define BITS(lo_, hi_) ((~0ULL >> (63 - (hi_))) & (~0ULL << (lo_)))
const uint64_t dec_x87_reg_valid[8] = {
    ~0ULL,                                                                      /* D8 */
    BITS(0, 16) | BITS(24, 33) | BITS(36, 37) | BITS(40, 46) | BITS(48, 63),  /* D9 */
    BITS(0, 31) | BITS(41, 41),                                                 /* DA */
    BITS(0, 36) | BITS(40, 55),                                                 /* DB */
    ~0ULL,                                                                      /* DC */
    BITS(0, 47),                                                                /* DD */
    BITS(0, 23) | BITS(25, 25) | BITS(32, 63),                                  /* DE */
    BITS(0, 32) | BITS(40, 55),                                                 /* DF */
};
