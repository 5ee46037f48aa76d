/*
 * test_decode_table.c - hand-written decoder cases: byte strings with the expected IR written
 * out by hand from the Intel SDM (vol. 2 opcode maps, ModRM/SIB tables 2-1/2-2/2-3), covering
 * every 16-bit ModRM form, the 32-bit ModRM/SIB special cases, prefixes (66, 67, segment,
 * LOCK, REP/REPNE, redundancy and the 15-byte limit), each opcode group, x87, system
 * instructions and branch-target arithmetic. Plus NEED_MORE behaviour and structural sanity
 * over the whole two-byte opcode space.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/decoder/insn_check.h"
#include "translator/decode.h"

#define C32 (DEC_MODE_CS32 | DEC_MODE_PE) /* 32-bit protected mode */
#define P16 DEC_MODE_PE                   /* 16-bit protected mode */
#define R16 0u                            /* real mode */

struct row {
    const char *hex;
    unsigned mode;
    uint32_t eip;
    const char *want;
};

static const struct row rows[] = {
    /* --- every 16-bit ModRM memory form (SDM table 2-1), MOV AX, r/m16 --- */
    { "8b 00", R16, 0, "MOV len=2 os=2 as=2 fl=R r2:0 m2 [ds:ebx+esi*1]" },
    { "8b 01", R16, 0, "MOV len=2 os=2 as=2 fl=R r2:0 m2 [ds:ebx+edi*1]" },
    { "8b 02", R16, 0, "MOV len=2 os=2 as=2 fl=R r2:0 m2 [ss:ebp+esi*1]" },
    { "8b 03", R16, 0, "MOV len=2 os=2 as=2 fl=R r2:0 m2 [ss:ebp+edi*1]" },
    { "8b 04", R16, 0, "MOV len=2 os=2 as=2 fl=R r2:0 m2 [ds:esi]" },
    { "8b 05", R16, 0, "MOV len=2 os=2 as=2 fl=R r2:0 m2 [ds:edi]" },
    { "8b 06 34 12", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ds:0x1234]" },
    { "8b 06 00 80", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ds:-0x8000]" },
    { "8b 07", R16, 0, "MOV len=2 os=2 as=2 fl=R r2:0 m2 [ds:ebx]" },
    { "8b 40 fc", R16, 0, "MOV len=3 os=2 as=2 fl=R r2:0 m2 [ds:ebx+esi*1-0x4]" },
    { "8b 49 10", R16, 0, "MOV len=3 os=2 as=2 fl=R r2:1 m2 [ds:ebx+edi*1+0x10]" },
    { "8b 52 80", R16, 0, "MOV len=3 os=2 as=2 fl=R r2:2 m2 [ss:ebp+esi*1-0x80]" },
    { "8b 5b 7f", R16, 0, "MOV len=3 os=2 as=2 fl=R r2:3 m2 [ss:ebp+edi*1+0x7f]" },
    { "8b 64 01", R16, 0, "MOV len=3 os=2 as=2 fl=R r2:4 m2 [ds:esi+0x1]" },
    { "8b 6d ff", R16, 0, "MOV len=3 os=2 as=2 fl=R r2:5 m2 [ds:edi-0x1]" },
    { "8b 76 00", R16, 0, "MOV len=3 os=2 as=2 fl=R r2:6 m2 [ss:ebp]" },
    { "8b 7f 02", R16, 0, "MOV len=3 os=2 as=2 fl=R r2:7 m2 [ds:ebx+0x2]" },
    { "8b 80 00 80", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ds:ebx+esi*1-0x8000]" },
    { "8b 81 34 12", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ds:ebx+edi*1+0x1234]" },
    { "8b 82 ff ff", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ss:ebp+esi*1-0x1]" },
    { "8b 83 01 00", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ss:ebp+edi*1+0x1]" },
    { "8b 84 00 01", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ds:esi+0x100]" },
    { "8b 85 02 00", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ds:edi+0x2]" },
    { "8b 86 34 12", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ss:ebp+0x1234]" },
    { "8b 87 fe ff", R16, 0, "MOV len=4 os=2 as=2 fl=R r2:0 m2 [ds:ebx-0x2]" },
    { "8b c1", R16, 0, "MOV len=2 os=2 as=2 r2:0 r2:1" },
    { "8b f8", P16, 0, "MOV len=2 os=2 as=2 r2:7 r2:0" },
    { "88 e0", R16, 0, "MOV len=2 os=1 as=2 r1:0 r1:4" }, /* MOV AL, AH */

    /* --- 32-bit ModRM and SIB forms (SDM tables 2-2, 2-3) --- */
    { "8b 00", C32, 0, "MOV len=2 os=4 as=4 fl=R r4:0 m4 [ds:eax]" },
    { "8b 1b", C32, 0, "MOV len=2 os=4 as=4 fl=R r4:3 m4 [ds:ebx]" },
    { "8b 01", C32, 0, "MOV len=2 os=4 as=4 fl=R r4:0 m4 [ds:ecx]" },
    { "8b 12", C32, 0, "MOV len=2 os=4 as=4 fl=R r4:2 m4 [ds:edx]" },
    { "8b 3f", C32, 0, "MOV len=2 os=4 as=4 fl=R r4:7 m4 [ds:edi]" },
    { "8b 40 01", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:0 m4 [ds:eax+0x1]" },
    { "8b 49 80", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:1 m4 [ds:ecx-0x80]" },
    { "8b 52 7f", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:2 m4 [ds:edx+0x7f]" },
    { "8b 5b fe", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:3 m4 [ds:ebx-0x2]" },
    { "8b 76 04", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:6 m4 [ds:esi+0x4]" },
    { "8b 7f 08", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:7 m4 [ds:edi+0x8]" },
    { "8b 81 00 00 01 00", C32, 0, "MOV len=6 os=4 as=4 fl=R r4:0 m4 [ds:ecx+0x10000]" },
    { "8b 8a 04 00 00 00", C32, 0, "MOV len=6 os=4 as=4 fl=R r4:1 m4 [ds:edx+0x4]" },
    { "8b 93 00 00 00 80", C32, 0, "MOV len=6 os=4 as=4 fl=R r4:2 m4 [ds:ebx-0x80000000]" },
    { "8b 9e 10 00 00 00", C32, 0, "MOV len=6 os=4 as=4 fl=R r4:3 m4 [ds:esi+0x10]" },
    { "8b a7 f0 ff ff ff", C32, 0, "MOV len=6 os=4 as=4 fl=R r4:4 m4 [ds:edi-0x10]" },
    { "8b 64 24 08", C32, 0, "MOV len=4 os=4 as=4 fl=R r4:4 m4 [ss:esp+0x8]" },
    { "8b 4c 8c 08", C32, 0, "MOV len=4 os=4 as=4 fl=R r4:1 m4 [ss:esp+ecx*4+0x8]" },
    { "8b 14 3b", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:2 m4 [ds:ebx+edi*1]" },
    { "8b 1c 70", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:3 m4 [ds:eax+esi*2]" },
    { "8b 05 78 56 34 12", C32, 0, "MOV len=6 os=4 as=4 fl=R r4:0 m4 [ds:0x12345678]" },
    { "8b 36", C32, 0, "MOV len=2 os=4 as=4 fl=R r4:6 m4 [ds:esi]" },
    { "8b 45 08", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:0 m4 [ss:ebp+0x8]" },
    { "8b 80 ff ff ff ff", C32, 0, "MOV len=6 os=4 as=4 fl=R r4:0 m4 [ds:eax-0x1]" },
    { "8b 85 00 01 00 00", C32, 0, "MOV len=6 os=4 as=4 fl=R r4:0 m4 [ss:ebp+0x100]" },
    { "8b 04 24", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:0 m4 [ss:esp]" },
    { "8b 44 24 04", C32, 0, "MOV len=4 os=4 as=4 fl=R r4:0 m4 [ss:esp+0x4]" },
    { "8b 84 24 00 01 00 00", C32, 0, "MOV len=7 os=4 as=4 fl=R r4:0 m4 [ss:esp+0x100]" },
    { "8b 04 88", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:0 m4 [ds:eax+ecx*4]" },
    { "8b 04 4b", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:0 m4 [ds:ebx+ecx*2]" },
    { "8b 04 cd 00 10 00 00", C32, 0, "MOV len=7 os=4 as=4 fl=R r4:0 m4 [ds:ecx*8+0x1000]" },
    { "8b 04 2d 10 00 00 00", C32, 0, "MOV len=7 os=4 as=4 fl=R r4:0 m4 [ds:ebp*1+0x10]" },
    { "8b 04 25 00 00 00 80", C32, 0, "MOV len=7 os=4 as=4 fl=R r4:0 m4 [ds:-0x80000000]" },
    { "8b 04 65 10 00 00 00", C32, 0, "MOV len=7 os=4 as=4 fl=R r4:0 m4 [ds:0x10]" },
    { "8b 04 2c", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:0 m4 [ss:esp+ebp*1]" },
    { "8b 04 e0", C32, 0, "MOV len=3 os=4 as=4 fl=R r4:0 m4 [ds:eax]" },
    { "8b 44 ad 00", C32, 0, "MOV len=4 os=4 as=4 fl=R r4:0 m4 [ss:ebp+ebp*4]" },
    { "8b 4c 35 f0", C32, 0, "MOV len=4 os=4 as=4 fl=R r4:1 m4 [ss:ebp+esi*1-0x10]" },
    { "8b 8c fe 78 56 34 12", C32, 0, "MOV len=7 os=4 as=4 fl=R r4:1 m4 [ds:esi+edi*8+0x12345678]" },
    { "89 c8", C32, 0, "MOV len=2 os=4 as=4 r4:0 r4:1" },

    /* --- operand/address size and segment prefixes --- */
    { "66 8b 00", C32, 0, "MOV len=3 os=2 as=4 fl=R r2:0 m2 [ds:eax]" },
    { "67 8b 00", C32, 0, "MOV len=3 os=4 as=2 fl=R r4:0 m4 [ds:ebx+esi*1]" },
    { "66 67 8b 06 34 12", C32, 0, "MOV len=6 os=2 as=2 fl=R r2:0 m2 [ds:0x1234]" },
    { "67 8b 00", R16, 0, "MOV len=3 os=2 as=4 fl=R r2:0 m2 [ds:eax]" },
    { "66 8b 04 24", R16, 0, "MOV len=3 os=4 as=2 fl=R r4:0 m4 [ds:esi]" },
    { "66 66 66 8b c0", C32, 0, "MOV len=5 os=2 as=4 r2:0 r2:0" },
    { "26 8b 00", C32, 0, "MOV len=3 os=4 as=4 pf=seg fl=R r4:0 m4 [es:eax]" },
    { "64 8b 45 00", C32, 0, "MOV len=4 os=4 as=4 pf=seg fl=R r4:0 m4 [fs:ebp]" },
    { "2e 3e 8b 00", C32, 0, "MOV len=4 os=4 as=4 pf=seg fl=R r4:0 m4 [ds:eax]" },
    { "3e 36 8b 00", C32, 0, "MOV len=4 os=4 as=4 pf=seg fl=R r4:0 m4 [ss:eax]" },
    { "65 2e 8b 04 24", C32, 0, "MOV len=5 os=4 as=4 pf=seg fl=R r4:0 m4 [cs:esp]" },
    { "65 90", C32, 0, "NOP len=2 os=4 as=4" },
    { "f3 90", C32, 0, "NOP len=2 os=4 as=4" },
    { "66 90", C32, 0, "NOP len=2 os=2 as=4" },
    { "f3 0f bc c1", C32, 0, "BSF len=4 os=4 as=4 r4:0 r4:1" },

    /* --- LOCK --- */
    { "f0 01 00", C32, 0, "ADD len=3 os=4 as=4 pf=lock fl=RW m4 r4:0 [ds:eax]" },
    { "f0 01 c0", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "f0 03 00", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "f0 39 00", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "f0 04 01", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "f0 90", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "f0 87 03", C32, 0, "XCHG len=3 os=4 as=4 pf=lock fl=RW m4 r4:0 [ds:ebx]" },
    { "f0 0f c7 08", C32, 0, "CMPXCHG8B len=4 os=4 as=4 pf=lock fl=RW m8 [ds:eax]" },
    { "f0 0f ba 20 05", C32, 0, "INVALID len=4 os=4 as=4 fl=E" },
    { "f0 0f ba 28 05", C32, 0, "BTS len=5 os=4 as=4 pf=lock fl=RW m4 i1 [ds:eax] imm=0x5" },
    { "f0 0f a3 00", C32, 0, "INVALID len=4 os=4 as=4 fl=E" },
    { "f0 0f b1 0b", C32, 0, "CMPXCHG len=4 os=4 as=4 pf=lock fl=RW m4 r4:1 [ds:ebx]" },
    { "f0 0f c1 03", C32, 0, "XADD len=4 os=4 as=4 pf=lock fl=RW m4 r4:0 [ds:ebx]" },
    { "f0 fe 00", C32, 0, "INC len=3 os=1 as=4 pf=lock fl=RW m1 [ds:eax]" },
    { "f0 f6 18", C32, 0, "NEG len=3 os=1 as=4 pf=lock fl=RW m1 [ds:eax]" },
    { "f0 f6 00 01", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "f0 80 38 01", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "f0 83 00 ff", C32, 0, "ADD len=4 os=4 as=4 pf=lock fl=RW m4 i4 [ds:eax] imm=0xffffffff" },
    { "f0 0f 20 c0", C32, 0, "INVALID len=4 os=4 as=4 fl=E" },
    { "f0 d8 00", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "f0 8f 00", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "66 f0 29 48 02", C32, 0, "SUB len=5 os=2 as=4 pf=lock fl=RW m2 r2:1 [ds:eax+0x2]" },

    /* --- string instructions, XLAT --- */
    { "f3 a4", C32, 0, "MOVS len=2 os=1 as=4 pf=rep fl=RW [ds:esi]" },
    { "f2 a7", R16, 0, "CMPS len=2 os=2 as=2 pf=repne fl=R [ds:esi]" },
    { "f3 f2 ae", C32, 0, "SCAS len=3 os=1 as=4 pf=repne fl=R [ds:esi]" },
    { "f2 f3 ae", C32, 0, "SCAS len=3 os=1 as=4 pf=rep fl=R [ds:esi]" },
    { "26 f3 a5", C32, 0, "MOVS len=3 os=4 as=4 pf=rep,seg fl=RW [es:esi]" },
    { "66 ab", C32, 0, "STOS len=2 os=2 as=4 fl=W [ds:esi]" },
    { "67 ac", C32, 0, "LODS len=2 os=1 as=2 fl=R [ds:esi]" },
    { "6c", C32, 0, "INS len=1 os=1 as=4 fl=EW [ds:esi]" },
    { "66 6f", C32, 0, "OUTS len=2 os=2 as=4 fl=ER [ds:esi]" },
    { "f3 6d", R16, 0, "INS len=2 os=2 as=2 pf=rep fl=EW [ds:esi]" },
    { "d7", C32, 0, "XLAT len=1 os=1 as=4 fl=R [ds:ebx]" },
    { "64 d7", C32, 0, "XLAT len=2 os=1 as=4 pf=seg fl=R [fs:ebx]" },
    { "f0 a4", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },

    /* --- the 15-byte limit --- */
    { "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", C32, 0, "NOP len=15 os=2 as=4" },
    { "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", C32, 0,
      "INVALID len=15 os=2 as=4 fl=EL" },
    { "67 67 67 67 67 67 67 67 67 67 05 78 56 34 12", C32, 0,
      "ADD len=15 os=4 as=2 r4:0 i4 imm=0x12345678" },
    { "67 67 67 67 67 67 67 67 67 67 67 05 78 56 34 12", C32, 0,
      "INVALID len=15 os=4 as=2 fl=EL" },
    { "f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 0f 0b 00", C32, 0,
      "INVALID len=15 os=4 as=4 fl=E" },
    { "26 26 26 26 26 26 26 26 26 26 26 26 26 26 0f 0b", C32, 0,
      "INVALID len=15 os=4 as=4 fl=EL" },

    /* --- group 1 (80-83) --- */
    { "80 c1 05", C32, 0, "ADD len=3 os=1 as=4 r1:1 i1 imm=0x5" },
    { "82 f9 05", C32, 0, "CMP len=3 os=1 as=4 r1:1 i1 imm=0x5" },
    { "81 c1 78 56 34 12", C32, 0, "ADD len=6 os=4 as=4 r4:1 i4 imm=0x12345678" },
    { "66 81 c1 34 12", C32, 0, "ADD len=5 os=2 as=4 r2:1 i2 imm=0x1234" },
    { "83 e8 ff", C32, 0, "SUB len=3 os=4 as=4 r4:0 i4 imm=0xffffffff" },
    { "66 83 e8 80", C32, 0, "SUB len=4 os=2 as=4 r2:0 i2 imm=0xff80" },
    { "83 08 01", C32, 0, "OR len=3 os=4 as=4 fl=RW m4 i4 [ds:eax] imm=0x1" },
    { "83 38 01", C32, 0, "CMP len=3 os=4 as=4 fl=R m4 i4 [ds:eax] imm=0x1" },
    { "80 50 01 02", C32, 0, "ADC len=4 os=1 as=4 fl=RW m1 i1 [ds:eax+0x1] imm=0x2" },
    { "81 5d 00 01 00 00 00", C32, 0, "SBB len=7 os=4 as=4 fl=RW m4 i4 [ss:ebp] imm=0x1" },
    { "83 e4 f0", C32, 0, "AND len=3 os=4 as=4 r4:4 i4 imm=0xfffffff0" },
    { "34 80", C32, 0, "XOR len=2 os=1 as=4 r1:0 i1 imm=0x80" },
    { "66 35 ff ff", C32, 0, "XOR len=4 os=2 as=4 r2:0 i2 imm=0xffff" },
    { "3d 00 00 00 80", C32, 0, "CMP len=5 os=4 as=4 r4:0 i4 imm=0x80000000" },
    { "0a 0c 24", C32, 0, "OR len=3 os=1 as=4 fl=R r1:1 m1 [ss:esp]" },
    { "13 c3", C32, 0, "ADC len=2 os=4 as=4 r4:0 r4:3" },
    { "18 27", R16, 0, "SBB len=2 os=1 as=2 fl=RW m1 r1:4 [ds:ebx]" },

    /* --- group 2 (C0/C1/D0-D3) --- */
    { "c0 e0 03", C32, 0, "SHL len=3 os=1 as=4 r1:0 i1 imm=0x3" },
    { "c1 f0 03", C32, 0, "SHL len=3 os=4 as=4 r4:0 i1 imm=0x3" },
    { "c1 c1 20", C32, 0, "ROL len=3 os=4 as=4 r4:1 i1 imm=0x20" },
    { "d0 c8", C32, 0, "ROR len=2 os=1 as=4 r1:0 i1 imm=0x1" },
    { "d3 f8", C32, 0, "SAR len=2 os=4 as=4 r4:0 r1:1" },
    { "d2 10", C32, 0, "RCL len=2 os=1 as=4 fl=RW m1 r1:1 [ds:eax]" },
    { "d1 18", C32, 0, "RCR len=2 os=4 as=4 fl=RW m4 i1 [ds:eax] imm=0x1" },
    { "66 d1 e8", C32, 0, "SHR len=3 os=2 as=4 r2:0 i1 imm=0x1" },

    /* --- group 3 (F6/F7), 4 (FE), 5 (FF), 1A (8F), 11 (C6/C7) --- */
    { "f6 c8 7f", C32, 0, "TEST len=3 os=1 as=4 r1:0 i1 imm=0x7f" },
    { "f7 c0 01 00 00 00", C32, 0, "TEST len=6 os=4 as=4 r4:0 i4 imm=0x1" },
    { "66 f7 00 34 12", C32, 0, "TEST len=5 os=2 as=4 fl=R m2 i2 [ds:eax] imm=0x1234" },
    { "f7 d0", C32, 0, "NOT len=2 os=4 as=4 r4:0" },
    { "f7 d9", C32, 0, "NEG len=2 os=4 as=4 r4:1" },
    { "f7 e1", C32, 0, "MUL len=2 os=4 as=4 r4:1" },
    { "f6 2b", C32, 0, "IMUL1 len=2 os=1 as=4 fl=R m1 [ds:ebx]" },
    { "f7 f3", C32, 0, "DIV len=2 os=4 as=4 r4:3" },
    { "f7 fb", C32, 0, "IDIV len=2 os=4 as=4 r4:3" },
    { "fe c0", C32, 0, "INC len=2 os=1 as=4 r1:0" },
    { "fe c8", C32, 0, "DEC len=2 os=1 as=4 r1:0" },
    { "fe d0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "fe 38", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "ff c0", C32, 0, "INC len=2 os=4 as=4 r4:0" },
    { "ff 08", C32, 0, "DEC len=2 os=4 as=4 fl=RW m4 [ds:eax]" },
    { "ff 10", C32, 0, "CALL_IND len=2 os=4 as=4 fl=ER m4 [ds:eax]" },
    { "ff d0", C32, 0, "CALL_IND len=2 os=4 as=4 fl=E r4:0" },
    { "66 ff d0", C32, 0, "CALL_IND len=3 os=2 as=4 fl=E r2:0" },
    { "ff 18", C32, 0, "CALL_FAR_IND len=2 os=4 as=4 fl=ER m6 [ds:eax]" },
    { "66 ff 18", C32, 0, "CALL_FAR_IND len=3 os=2 as=4 fl=ER m4 [ds:eax]" },
    { "ff d8", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "ff 20", C32, 0, "JMP_IND len=2 os=4 as=4 fl=ER m4 [ds:eax]" },
    { "ff e3", C32, 0, "JMP_IND len=2 os=4 as=4 fl=E r4:3" },
    { "ff 2e 00 7c", R16, 0, "JMP_FAR_IND len=4 os=2 as=2 fl=ER m4 [ds:0x7c00]" },
    { "ff e8", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "ff 30", C32, 0, "PUSH len=2 os=4 as=4 fl=R m4 [ds:eax]" },
    { "ff 38", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "8f 00", C32, 0, "POP len=2 os=4 as=4 fl=W m4 [ds:eax]" },
    { "8f c0", C32, 0, "POP len=2 os=4 as=4 r4:0" },
    { "8f 08", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "c6 00 12", C32, 0, "MOV len=3 os=1 as=4 fl=W m1 i1 [ds:eax] imm=0x12" },
    { "c6 08 12", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "c6 f8 00", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "c7 c0 01 00 00 00", C32, 0, "MOV len=6 os=4 as=4 r4:0 i4 imm=0x1" },
    { "c7 44 24 04 78 56 34 12", C32, 0,
      "MOV len=8 os=4 as=4 fl=W m4 i4 [ss:esp+0x4] imm=0x12345678" },
    { "c7 f8 00 00 00 00", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },

    /* --- group 6 (0F 00), 7 (0F 01), 8 (0F BA), 9 (0F C7) --- */
    { "0f 00 c0", C32, 0, "SLDT len=3 os=4 as=4 r4:0" },
    { "0f 00 00", C32, 0, "SLDT len=3 os=4 as=4 fl=W m2 [ds:eax]" },
    { "0f 00 c8", P16, 0, "STR len=3 os=2 as=2 r2:0" },
    { "0f 00 d0", C32, 0, "LLDT len=3 os=4 as=4 fl=EP r2:0" },
    { "0f 00 18", C32, 0, "LTR len=3 os=4 as=4 fl=EPR m2 [ds:eax]" },
    { "0f 00 20", C32, 0, "VERR len=3 os=4 as=4 fl=R m2 [ds:eax]" },
    { "0f 00 e8", C32, 0, "VERW len=3 os=4 as=4 r2:0" },
    { "0f 00 30", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "0f 00 c0", R16, 0, "INVALID len=3 os=2 as=2 fl=E" },
    { "0f 00 d0", R16, 0, "INVALID len=3 os=2 as=2 fl=E" },
    { "0f 01 00", C32, 0, "SGDT len=3 os=4 as=4 fl=W m6 [ds:eax]" },
    { "0f 01 0e 00 10", R16, 0, "SIDT len=5 os=2 as=2 fl=W m6 [ds:0x1000]" },
    { "0f 01 10", C32, 0, "LGDT len=3 os=4 as=4 fl=EPR m6 [ds:eax]" },
    { "66 0f 01 16 00 10", R16, 0, "LGDT len=6 os=4 as=2 fl=EPR m6 [ds:0x1000]" },
    { "0f 01 18", C32, 0, "LIDT len=3 os=4 as=4 fl=EPR m6 [ds:eax]" },
    { "0f 01 e0", C32, 0, "SMSW len=3 os=4 as=4 r4:0" },
    { "66 0f 01 e0", C32, 0, "SMSW len=4 os=2 as=4 r2:0" },
    { "0f 01 20", C32, 0, "SMSW len=3 os=4 as=4 fl=W m2 [ds:eax]" },
    { "0f 01 f0", R16, 0, "LMSW len=3 os=2 as=2 fl=EP r2:0" },
    { "0f 01 38", C32, 0, "INVLPG len=3 os=4 as=4 fl=EP m1 [ds:eax]" },
    { "0f 01 f8", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "0f 01 c8", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "0f 01 d0", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "0f 01 c0", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "0f 01 28", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "0f ba e0 05", C32, 0, "BT len=4 os=4 as=4 r4:0 i1 imm=0x5" },
    { "0f ba 30 1f", C32, 0, "BTR len=4 os=4 as=4 fl=RW m4 i1 [ds:eax] imm=0x1f" },
    { "0f ba f9 ff", C32, 0, "BTC len=4 os=4 as=4 r4:1 i1 imm=0xff" },
    { "0f ba c0 05", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "0f c7 08", C32, 0, "CMPXCHG8B len=3 os=4 as=4 fl=RW m8 [ds:eax]" },
    { "0f c7 c8", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "0f c7 00", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },
    { "0f c7 f0", C32, 0, "INVALID len=3 os=4 as=4 fl=E" },

    /* --- x87 (x87 = (opcode & 7) << 8 | ModRM, reg field only for memory forms) --- */
    { "d9 c0", C32, 0, "X87 len=2 os=4 as=4 x87=0x1c0" },
    { "d9 d1", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "d9 d8", C32, 0, "X87 len=2 os=4 as=4 x87=0x1d8" },
    { "d9 e8", C32, 0, "X87 len=2 os=4 as=4 x87=0x1e8" },
    { "d9 ef", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "d8 00", C32, 0, "X87 len=2 os=4 as=4 fl=R m4 [ds:eax]" },
    { "d8 7d 08", C32, 0, "X87 len=3 os=4 as=4 fl=R m4 [ss:ebp+0x8] x87=0x38" },
    { "dd 38", C32, 0, "X87 len=2 os=4 as=4 fl=W m2 [ds:eax] x87=0x538" },
    { "d9 30", C32, 0, "X87 len=2 os=4 as=4 fl=W m28 [ds:eax] x87=0x130" },
    { "66 d9 30", C32, 0, "X87 len=3 os=2 as=4 fl=W m14 [ds:eax] x87=0x130" },
    { "d9 2e 00 10", R16, 0, "X87 len=4 os=2 as=2 fl=R m2 [ds:0x1000] x87=0x128" },
    { "dd 20", C32, 0, "X87 len=2 os=4 as=4 fl=R m108 [ds:eax] x87=0x520" },
    { "66 dd 30", C32, 0, "X87 len=3 os=2 as=4 fl=W m94 [ds:eax] x87=0x530" },
    { "db 28", C32, 0, "X87 len=2 os=4 as=4 fl=R m10 [ds:eax] x87=0x328" },
    { "df 28", C32, 0, "X87 len=2 os=4 as=4 fl=R m8 [ds:eax] x87=0x728" },
    { "df 38", C32, 0, "X87 len=2 os=4 as=4 fl=W m8 [ds:eax] x87=0x738" },
    { "de 00", C32, 0, "X87 len=2 os=4 as=4 fl=R m2 [ds:eax] x87=0x600" },
    { "dc 00", C32, 0, "X87 len=2 os=4 as=4 fl=R m8 [ds:eax] x87=0x400" },
    { "db 08", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "dd 08", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "df 08", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "db 20", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "dd 28", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "db e3", C32, 0, "X87 len=2 os=4 as=4 x87=0x3e3" },
    { "db e4", C32, 0, "X87 len=2 os=4 as=4 x87=0x3e4" },
    { "db e5", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "db f0", C32, 0, "X87 len=2 os=4 as=4 x87=0x3f0" },
    { "db f8", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "df e0", C32, 0, "X87 len=2 os=4 as=4 x87=0x7e0" },
    { "df e1", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "df c0", C32, 0, "X87 len=2 os=4 as=4 x87=0x7c0" },
    { "da e9", C32, 0, "X87 len=2 os=4 as=4 x87=0x2e9" },
    { "da e8", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "da c8", C32, 0, "X87 len=2 os=4 as=4 x87=0x2c8" },
    { "de d9", C32, 0, "X87 len=2 os=4 as=4 x87=0x6d9" },
    { "de d8", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "dd f0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "dc d8", C32, 0, "X87 len=2 os=4 as=4 x87=0x4d8" },
    { "9b", C32, 0, "WAIT len=1 os=4 as=4" },
    { "9b df e0", C32, 0, "WAIT len=1 os=4 as=4" },

    /* --- relative branches: imm = (eip + len + rel) masked to the operand size --- */
    { "eb fe", C32, 0x1000, "JMP len=2 os=4 as=4 fl=E imm=0x1000" },
    { "74 10", C32, 0x1000, "JCC len=2 os=4 as=4 cc=4 fl=E imm=0x1012" },
    { "7f 80", C32, 0x1000, "JCC len=2 os=4 as=4 cc=15 fl=E imm=0xf82" },
    { "0f 85 00 01 00 00", C32, 0x1000, "JCC len=6 os=4 as=4 cc=5 fl=E imm=0x1106" },
    { "e8 fb ff ff ff", C32, 0x1000, "CALL len=5 os=4 as=4 fl=E imm=0x1000" },
    { "e9 00 00 00 80", C32, 0x80000000, "JMP len=5 os=4 as=4 fl=E imm=0x5" },
    { "eb 80", R16, 0x10, "JMP len=2 os=2 as=2 fl=E imm=0xff92" },
    { "e9 fd 7f", R16, 0xfff0, "JMP len=3 os=2 as=2 fl=E imm=0x7ff0" },
    { "66 e8 00 10", C32, 0x12345, "CALL len=4 os=2 as=4 fl=E imm=0x3349" },
    { "66 e9 00 00 01 00", R16, 0xfff0, "JMP len=6 os=4 as=2 fl=E imm=0x1fff6" },
    { "0f 8c fc ff", R16, 0x100, "JCC len=4 os=2 as=2 cc=12 fl=E imm=0x100" },
    { "e2 fe", C32, 0x200, "LOOP len=2 os=4 as=4 fl=E imm=0x200" },
    { "e1 00", C32, 0x200, "LOOPE len=2 os=4 as=4 fl=E imm=0x202" },
    { "e0 00", R16, 0xffff, "LOOPNE len=2 os=2 as=2 fl=E imm=0x1" },
    { "67 e3 05", C32, 0x100, "JCXZ len=3 os=4 as=2 fl=E imm=0x108" },
    { "66 e2 fd", C32, 0x10000, "LOOP len=3 os=2 as=4 fl=E" },
    { "2e 74 00", C32, 0, "JCC len=3 os=4 as=4 cc=4 fl=E imm=0x3" },

    /* --- far transfers, returns, interrupts --- */
    { "9a 78 56 34 12 00 10", C32, 0, "CALL_FAR len=7 os=4 as=4 fl=E imm=0x12345678 imm2=0x1000" },
    { "ea 34 12 00 f0", R16, 0, "JMP_FAR len=5 os=2 as=2 fl=E imm=0x1234 imm2=0xf000" },
    { "66 ea 78 56 34 12 08 00", R16, 0,
      "JMP_FAR len=8 os=4 as=2 fl=E imm=0x12345678 imm2=0x8" },
    { "c2 08 00", C32, 0, "RET len=3 os=4 as=4 fl=E imm=0x8" },
    { "c3", C32, 0, "RET len=1 os=4 as=4 fl=E" },
    { "66 c3", C32, 0, "RET len=2 os=2 as=4 fl=E" },
    { "ca 04 00", C32, 0, "RETF len=3 os=4 as=4 fl=E imm=0x4" },
    { "cb", R16, 0, "RETF len=1 os=2 as=2 fl=E" },
    { "cf", C32, 0, "IRET len=1 os=4 as=4 fl=E" },
    { "66 cf", C32, 0, "IRET len=2 os=2 as=4 fl=E" },
    { "cc", C32, 0, "INT3 len=1 os=4 as=4 fl=E" },
    { "cd 80", C32, 0, "INT len=2 os=4 as=4 fl=E imm=0x80" },
    { "ce", C32, 0, "INTO len=1 os=4 as=4 fl=E" },
    { "f1", C32, 0, "INT1 len=1 os=4 as=4 fl=E" },
    { "62 05 00 10 00 00", C32, 0, "BOUND len=6 os=4 as=4 fl=R r4:0 m8 [ds:0x1000]" },
    { "66 62 00", C32, 0, "BOUND len=3 os=2 as=4 fl=R r2:0 m4 [ds:eax]" },
    { "62 c0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },

    /* --- stack, segment registers, data movement --- */
    { "c8 10 00 01", C32, 0, "ENTER len=4 os=4 as=4 imm=0x10 imm2=0x1" },
    { "c9", C32, 0, "LEAVE len=1 os=4 as=4" },
    { "60", C32, 0, "PUSHA len=1 os=4 as=4" },
    { "66 61", C32, 0, "POPA len=2 os=2 as=4" },
    { "06", C32, 0, "PUSH len=1 os=4 as=4 sreg:0" },
    { "0e", R16, 0, "PUSH len=1 os=2 as=2 sreg:1" },
    { "17", C32, 0, "POP len=1 os=4 as=4 fl=E sreg:2" },
    { "1f", C32, 0, "POP len=1 os=4 as=4 sreg:3" },
    { "0f a0", C32, 0, "PUSH len=2 os=4 as=4 sreg:4" },
    { "0f a9", C32, 0, "POP len=2 os=4 as=4 sreg:5" },
    { "55", C32, 0, "PUSH len=1 os=4 as=4 r4:5" },
    { "66 5f", C32, 0, "POP len=2 os=2 as=4 r2:7" },
    { "47", C32, 0, "INC len=1 os=4 as=4 r4:7" },
    { "48", R16, 0, "DEC len=1 os=2 as=2 r2:0" },
    { "68 78 56 34 12", C32, 0, "PUSH len=5 os=4 as=4 i4 imm=0x12345678" },
    { "6a ff", C32, 0, "PUSH len=2 os=4 as=4 i4 imm=0xffffffff" },
    { "66 6a ff", C32, 0, "PUSH len=3 os=2 as=4 i2 imm=0xffff" },
    { "8e d0", C32, 0, "MOV_SREG len=2 os=4 as=4 fl=E sreg:2 r2:0" },
    { "8e d8", C32, 0, "MOV_SREG len=2 os=4 as=4 sreg:3 r2:0" },
    { "8e 18", C32, 0, "MOV_SREG len=2 os=4 as=4 fl=R sreg:3 m2 [ds:eax]" },
    { "8e c8", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "8e f0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "8c c8", C32, 0, "MOV_FROM_SREG len=2 os=4 as=4 r4:0 sreg:1" },
    { "66 8c c8", C32, 0, "MOV_FROM_SREG len=3 os=2 as=4 r2:0 sreg:1" },
    { "8c 08", C32, 0, "MOV_FROM_SREG len=2 os=4 as=4 fl=W m2 sreg:1 [ds:eax]" },
    { "8c f0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "c4 00", C32, 0, "LFP len=2 os=4 as=4 fl=R r4:0 m6 sreg:0 [ds:eax]" },
    { "c5 36 00 10", R16, 0, "LFP len=4 os=2 as=2 fl=R r2:6 m4 sreg:3 [ds:0x1000]" },
    { "c5 c0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "c4 e2 79", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f b2 00", C32, 0, "LFP len=3 os=4 as=4 fl=ER r4:0 m6 sreg:2 [ds:eax]" },
    { "66 0f b4 00", C32, 0, "LFP len=4 os=2 as=4 fl=R r2:0 m4 sreg:4 [ds:eax]" },
    { "0f b5 18", C32, 0, "LFP len=3 os=4 as=4 fl=R r4:3 m6 sreg:5 [ds:eax]" },
    { "8d 04 8d 00 00 00 00", C32, 0, "LEA len=7 os=4 as=4 r4:0 m4 [ds:ecx*4]" },
    { "8d 46 fe", R16, 0, "LEA len=3 os=2 as=2 r2:0 m2 [ss:ebp-0x2]" },
    { "8d c0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "a1 78 56 34 12", C32, 0, "MOV len=5 os=4 as=4 fl=R r4:0 m4 [ds:0x12345678]" },
    { "67 a0 34 12", C32, 0, "MOV len=4 os=1 as=2 fl=R r1:0 m1 [ds:0x1234]" },
    { "a3 00 01", R16, 0, "MOV len=3 os=2 as=2 fl=W m2 r2:0 [ds:0x100]" },
    { "64 a2 00 00 00 00", C32, 0, "MOV len=6 os=1 as=4 pf=seg fl=W m1 r1:0 [fs:0]" },
    { "b0 7f", C32, 0, "MOV len=2 os=1 as=4 r1:0 i1 imm=0x7f" },
    { "b4 01", C32, 0, "MOV len=2 os=1 as=4 r1:4 i1 imm=0x1" },
    { "bf 78 56 34 12", C32, 0, "MOV len=5 os=4 as=4 r4:7 i4 imm=0x12345678" },
    { "66 b8 34 12", C32, 0, "MOV len=4 os=2 as=4 r2:0 i2 imm=0x1234" },
    { "69 c0 10 00 00 00", C32, 0, "IMUL len=6 os=4 as=4 r4:0 r4:0 i4 imm=0x10" },
    { "6b 00 fe", C32, 0, "IMUL len=3 os=4 as=4 fl=R r4:0 m4 i4 [ds:eax] imm=0xfffffffe" },
    { "0f af c1", C32, 0, "IMUL len=3 os=4 as=4 r4:0 r4:1" },
    { "91", C32, 0, "XCHG len=1 os=4 as=4 r4:1 r4:0" },
    { "90", C32, 0, "NOP len=1 os=4 as=4" },
    { "86 00", C32, 0, "XCHG len=2 os=1 as=4 fl=RW m1 r1:0 [ds:eax]" },
    { "98", C32, 0, "CBW len=1 os=4 as=4" },
    { "66 98", C32, 0, "CBW len=2 os=2 as=4" },
    { "99", R16, 0, "CWD len=1 os=2 as=2" },
    { "9c", C32, 0, "PUSHF len=1 os=4 as=4" },
    { "9d", C32, 0, "POPF len=1 os=4 as=4 fl=E" },
    { "9e", C32, 0, "SAHF len=1 os=4 as=4" },
    { "9f", C32, 0, "LAHF len=1 os=4 as=4" },
    { "a8 01", C32, 0, "TEST len=2 os=1 as=4 r1:0 i1 imm=0x1" },
    { "85 c0", C32, 0, "TEST len=2 os=4 as=4 r4:0 r4:0" },
    { "d4 0a", C32, 0, "AAM len=2 os=4 as=4 imm=0xa" },
    { "d5 0a", C32, 0, "AAD len=2 os=4 as=4 imm=0xa" },
    { "d6", C32, 0, "SALC len=1 os=4 as=4" },
    { "27", C32, 0, "DAA len=1 os=4 as=4" },
    { "2f", C32, 0, "DAS len=1 os=4 as=4" },
    { "37", C32, 0, "AAA len=1 os=4 as=4" },
    { "3f", C32, 0, "AAS len=1 os=4 as=4" },

    /* --- port I/O and flags --- */
    { "e4 60", C32, 0, "IN len=2 os=1 as=4 fl=E r1:0 i1 imm=0x60" },
    { "e7 80", C32, 0, "OUT len=2 os=4 as=4 fl=E i1 r4:0 imm=0x80" },
    { "ec", C32, 0, "IN len=1 os=1 as=4 fl=E r1:0 r2:2" },
    { "ef", C32, 0, "OUT len=1 os=4 as=4 fl=E r2:2 r4:0" },
    { "66 ed", C32, 0, "IN len=2 os=2 as=4 fl=E r2:0 r2:2" },
    { "f4", C32, 0, "HLT len=1 os=4 as=4 fl=EP" },
    { "f5", C32, 0, "CMC len=1 os=4 as=4" },
    { "f8", C32, 0, "CLC len=1 os=4 as=4" },
    { "f9", C32, 0, "STC len=1 os=4 as=4" },
    { "fa", C32, 0, "CLI len=1 os=4 as=4 fl=E" },
    { "fb", C32, 0, "STI len=1 os=4 as=4 fl=E" },
    { "fc", C32, 0, "CLD len=1 os=4 as=4" },
    { "fd", C32, 0, "STD len=1 os=4 as=4" },

    /* --- protected-mode-only and system instructions --- */
    { "63 c8", P16, 0, "ARPL len=2 os=2 as=2 r2:0 r2:1" },
    { "63 08", C32, 0, "ARPL len=2 os=4 as=4 fl=RW m2 r2:1 [ds:eax]" },
    { "63 c8", R16, 0, "INVALID len=2 os=2 as=2 fl=E" },
    { "0f 02 c1", C32, 0, "LAR len=3 os=4 as=4 r4:0 r2:1" },
    { "0f 03 00", C32, 0, "LSL len=3 os=4 as=4 fl=R r4:0 m2 [ds:eax]" },
    { "0f 03 00", R16, 0, "INVALID len=3 os=2 as=2 fl=E" },
    { "0f 06", C32, 0, "CLTS len=2 os=4 as=4 fl=EP" },
    { "0f 08", C32, 0, "INVD len=2 os=4 as=4 fl=P" },
    { "0f 09", C32, 0, "WBINVD len=2 os=4 as=4 fl=P" },
    { "0f 0b", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f 20 c0", C32, 0, "MOV_FROM_CR len=3 os=4 as=4 fl=P r4:0 cr:0" },
    { "0f 20 18", C32, 0, "MOV_FROM_CR len=3 os=4 as=4 fl=P r4:0 cr:3" },
    { "0f 20 e1", R16, 0, "MOV_FROM_CR len=3 os=2 as=2 fl=P r4:1 cr:4" },
    { "0f 22 d8", C32, 0, "MOV_TO_CR len=3 os=4 as=4 fl=EP cr:3 r4:0" },
    { "0f 22 44", C32, 0, "MOV_TO_CR len=3 os=4 as=4 fl=EP cr:0 r4:4" },
    { "0f 21 f8", C32, 0, "MOV_FROM_DR len=3 os=4 as=4 fl=P r4:0 dr:7" },
    { "0f 23 00", C32, 0, "MOV_TO_DR len=3 os=4 as=4 fl=EP dr:0 r4:0" },
    { "0f 30", C32, 0, "WRMSR len=2 os=4 as=4 fl=EP" },
    { "0f 31", C32, 0, "RDTSC len=2 os=4 as=4" },
    { "0f 32", C32, 0, "RDMSR len=2 os=4 as=4 fl=P" },
    { "0f 33", C32, 0, "RDPMC len=2 os=4 as=4" },
    { "0f 34", C32, 0, "SYSENTER len=2 os=4 as=4 fl=E" },
    { "0f 35", C32, 0, "SYSEXIT len=2 os=4 as=4 fl=EP" },
    { "0f a2", C32, 0, "CPUID len=2 os=4 as=4" },

    /* --- 0F integer extensions --- */
    { "0f 44 c1", C32, 0, "CMOV len=3 os=4 as=4 cc=4 r4:0 r4:1" },
    { "0f 4f 00", C32, 0, "CMOV len=3 os=4 as=4 cc=15 fl=R r4:0 m4 [ds:eax]" },
    { "66 0f 40 c1", C32, 0, "CMOV len=4 os=2 as=4 cc=0 r2:0 r2:1" },
    { "0f 94 c0", C32, 0, "SETCC len=3 os=1 as=4 cc=4 r1:0" },
    { "0f 9f 00", C32, 0, "SETCC len=3 os=1 as=4 cc=15 fl=W m1 [ds:eax]" },
    { "0f 90 f8", C32, 0, "SETCC len=3 os=1 as=4 cc=0 r1:0" },
    { "0f a3 c8", C32, 0, "BT len=3 os=4 as=4 r4:0 r4:1" },
    { "0f ab 08", C32, 0, "BTS len=3 os=4 as=4 fl=RW m4 r4:1 [ds:eax]" },
    { "0f b3 c8", C32, 0, "BTR len=3 os=4 as=4 r4:0 r4:1" },
    { "0f bb c8", C32, 0, "BTC len=3 os=4 as=4 r4:0 r4:1" },
    { "0f a4 c2 04", C32, 0, "SHLD len=4 os=4 as=4 r4:2 r4:0 i1 imm=0x4" },
    { "0f a5 00", C32, 0, "SHLD len=3 os=4 as=4 fl=RW m4 r4:0 r1:1 [ds:eax]" },
    { "0f ac c2 04", C32, 0, "SHRD len=4 os=4 as=4 r4:2 r4:0 i1 imm=0x4" },
    { "0f ad c2", C32, 0, "SHRD len=3 os=4 as=4 r4:2 r4:0 r1:1" },
    { "0f b6 c1", C32, 0, "MOVZX len=3 os=4 as=4 r4:0 r1:1" },
    { "66 0f b6 c1", C32, 0, "MOVZX len=4 os=2 as=4 r2:0 r1:1" },
    { "0f b7 00", C32, 0, "MOVZX len=3 os=4 as=4 fl=R r4:0 m2 [ds:eax]" },
    { "0f be c1", C32, 0, "MOVSX len=3 os=4 as=4 r4:0 r1:1" },
    { "0f bf 00", C32, 0, "MOVSX len=3 os=4 as=4 fl=R r4:0 m2 [ds:eax]" },
    { "0f bc c1", C32, 0, "BSF len=3 os=4 as=4 r4:0 r4:1" },
    { "0f bd 00", C32, 0, "BSR len=3 os=4 as=4 fl=R r4:0 m4 [ds:eax]" },
    { "0f b0 c1", C32, 0, "CMPXCHG len=3 os=1 as=4 r1:1 r1:0" },
    { "0f c0 c1", C32, 0, "XADD len=3 os=1 as=4 r1:1 r1:0" },
    { "0f c8", C32, 0, "BSWAP len=2 os=4 as=4 r4:0" },
    { "0f cf", C32, 0, "BSWAP len=2 os=4 as=4 r4:7" },
    { "66 0f c8", C32, 0, "BSWAP len=3 os=2 as=4 r2:0" },

    /* --- NOPs and hints --- */
    { "0f 1f 00", C32, 0, "NOP len=3 os=4 as=4" },
    { "0f 1f 44 00 00", C32, 0, "NOP len=5 os=4 as=4" },
    { "66 0f 1f 84 00 00 00 00 00", C32, 0, "NOP len=9 os=2 as=4" },
    { "2e 0f 1f 84 00 00 00 00 00", C32, 0, "NOP len=9 os=4 as=4" },
    { "0f 18 00", C32, 0, "NOP len=3 os=4 as=4" },
    { "0f 19 c0", C32, 0, "NOP len=3 os=4 as=4" },
    { "f3 0f 1e fb", C32, 0, "NOP len=4 os=4 as=4" },
    { "0f 1f 06 00 00", R16, 0, "NOP len=5 os=2 as=2" },
    { "f0 0f 1f 00", C32, 0, "INVALID len=4 os=4 as=4 fl=E" },

    /* --- #UD by design: MMX/SSE/3DNow!/later extensions, reserved opcodes --- */
    { "0f 60 c0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f 10 00", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "66 0f 6f c0", C32, 0, "INVALID len=3 os=2 as=4 fl=E" },
    { "0f ae 00", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f ff", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f b9 c0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f 0d 00", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f 05", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f 07", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f aa", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f 37", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f 38 00 c0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f a6 c0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f 24 c0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f b8 c0", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
    { "0f c3 00", C32, 0, "INVALID len=2 os=4 as=4 fl=E" },
};

static size_t parse_hex(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    while (*s) {
        unsigned v = 0;
        int used = 0;
        if (*s == ' ') {
            s++;
            continue;
        }
        if (n == max || sscanf(s, "%2x%n", &v, &used) != 1 || used != 2)
            fail_msg("bad hex in table: %s", s);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void test_rows(void **state)
{
    (void)state;
    unsigned bad = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint8_t b[32];
        size_t n = parse_hex(rows[i].hex, b, sizeof(b));
        struct ir_insn in;
        char got[256], why[128];
        int rc = decode_one(b, n, rows[i].eip, rows[i].mode, &in);
        if (rc != DEC_OK) {
            print_error("%s: status %d\n", rows[i].hex, rc);
            bad++;
            continue;
        }
        insn_format(&in, got, sizeof(got));
        if (strcmp(got, rows[i].want) != 0) {
            print_error("%s (mode %u)\n   want: %s\n    got: %s\n", rows[i].hex, rows[i].mode,
                        rows[i].want, got);
            bad++;
        }
        if (insn_check(&in, why, sizeof(why)) != 0) {
            print_error("%s: structural check: %s\n", rows[i].hex, why);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Every proper prefix of an instruction shorter than 15 bytes asks for more; the whole decodes. */
static void test_need_more(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "05 78 56 34 12", "0f 85 00 01 00 00", "8b 84 24 00 01 00 00", "66 67 8b 06 34 12",
        "f0 0f c7 0c 8d 00 10 00 00", "9a 78 56 34 12 00 10", "c8 10 00 01", "dd 38",
        "26 f3 a5", "c7 44 24 04 78 56 34 12",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t b[16];
        size_t n = parse_hex(cases[i], b, sizeof(b));
        struct ir_insn in;
        for (size_t k = 0; k < n; k++)
            assert_int_equal(decode_one(b, k, 0, C32, &in), DEC_NEED_MORE);
        assert_int_equal(decode_one(b, n, 0, C32, &in), DEC_OK);
        assert_int_equal(in.len, n);
        assert_int_not_equal(in.op, IR_INVALID);
    }
    struct ir_insn in;
    assert_int_equal(decode_one(NULL, 0, 0, C32, &in), DEC_NEED_MORE);

    /* Invalid encodings are recognised without the bytes they would not use. */
    uint8_t ud2[2] = { 0x0f, 0x0b }, lock_nop[2] = { 0xf0, 0x90 };
    assert_int_equal(decode_one(ud2, 2, 0, C32, &in), DEC_OK);
    assert_int_equal(in.op, IR_INVALID);
    assert_int_equal(decode_one(lock_nop, 2, 0, C32, &in), DEC_OK);
    assert_int_equal(in.op, IR_INVALID);

    /* 14 prefixes: NEED_MORE with 14 bytes, TOO_LONG once the 15th is also a prefix, and
     * TOO_LONG without fetching anything more when the opcode needs bytes past the 15th. */
    uint8_t p[16];
    memset(p, 0x66, sizeof(p));
    assert_int_equal(decode_one(p, 14, 0, C32, &in), DEC_NEED_MORE);
    assert_int_equal(decode_one(p, 15, 0, C32, &in), DEC_OK);
    assert_int_equal(in.op, IR_INVALID);
    assert_true(in.flags & IR_F_TOO_LONG);
    assert_int_equal(in.len, 15);
    p[13] = 0x05; /* ADD eAX, imm16 after 13 prefixes: 13 + 1 + 2 = 16 bytes */
    assert_int_equal(decode_one(p, 14, 0, C32, &in), DEC_OK);
    assert_true(in.flags & IR_F_TOO_LONG);
    p[13] = 0x66;
    p[14] = 0x90;
    assert_int_equal(decode_one(p, 15, 0, C32, &in), DEC_OK);
    assert_int_equal(in.op, IR_NOP);
    assert_int_equal(in.len, 15);
}

/* Decoding never reads more than it reports as len (for OK results): the bytes after an
 * instruction cannot change it. Checked over the whole 1- and 2-byte opcode space with
 * every ModRM byte and two different tails. */
static void test_len_is_what_was_read(void **state)
{
    (void)state;
    static const unsigned modes[] = { C32, P16, R16 };
    unsigned bad = 0;
    for (unsigned mi = 0; mi < 3; mi++) {
        for (unsigned esc = 0; esc < 2; esc++) {
            for (unsigned op = 0; op < 256; op++) {
                for (unsigned modrm = 0; modrm < 256; modrm++) {
                    uint8_t a[15], b[15];
                    size_t k = 0;
                    if (esc)
                        a[k++] = 0x0f;
                    a[k++] = (uint8_t)op;
                    a[k++] = (uint8_t)modrm;
                    for (size_t j = k; j < 15; j++)
                        a[j] = (uint8_t)(0x11 * j + modrm);
                    memcpy(b, a, sizeof(a));
                    struct ir_insn x, y;
                    char why[128];
                    assert_int_equal(decode_one(a, 15, 0x1000, modes[mi], &x), DEC_OK);
                    for (size_t j = x.len; j < 15; j++)
                        b[j] = (uint8_t)~a[j];
                    assert_int_equal(decode_one(b, 15, 0x1000, modes[mi], &y), DEC_OK);
                    if (memcmp(&x, &y, sizeof(x)) != 0) {
                        if (bad++ < 10)
                            print_error("mode %u esc %u op %02x modrm %02x: tail changed it\n",
                                        modes[mi], esc, op, modrm);
                    }
                    if (insn_check(&x, why, sizeof(why)) != 0) {
                        if (bad++ < 10)
                            print_error("mode %u esc %u op %02x modrm %02x: %s\n", modes[mi],
                                        esc, op, modrm, why);
                    }
                    /* the first len bytes alone decode the same */
                    if (x.len < 15) {
                        assert_int_equal(decode_one(a, x.len, 0x1000, modes[mi], &y), DEC_OK);
                        if (memcmp(&x, &y, sizeof(x)) != 0 && bad++ < 10)
                            print_error("mode %u op %02x modrm %02x: not idempotent\n",
                                        modes[mi], op, modrm);
                    }
                }
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* The structural checker the other tests rely on does reject broken instructions: each case
 * decodes a valid instruction, breaks one rule of ir.h, and expects the check to fail. */
#define CHECKER_CASES(X)                                                                           \
    X("01 00", in->op = IR_OP_COUNT) \
    X("01 00", in->len = 0) \
    X("01 00", in->len = 16) \
    X("01 00", in->osize = 3) \
    X("01 00", in->asize = 1) \
    X("01 00", in->prefix |= 0x40) \
    X("89 00", in->prefix |= IR_PF_LOCK) \
    X("01 c0", in->prefix |= IR_PF_LOCK) \
    X("01 00", in->prefix |= IR_PF_REP) \
    X("90", in->prefix |= IR_PF_SEGOV) \
    X("a4", in->prefix |= IR_PF_REP | IR_PF_REPNE) \
    X("01 00", in->mem.index = IR_ESP) \
    X("01 00", in->mem.seg = IR_NSREG) \
    X("01 00", in->mem.scale = 2) \
    X("01 00", in->mem.base = 9) \
    X("8b 00", in->mem.scale = 1) \
    X("01 c0", in->mem.disp = 4) \
    X("01 c0", in->flags |= IR_F_READS_MEM) \
    X("01 00", in->opd[1].kind = IR_OPK_MEM) \
    X("01 00", in->opd[1].reg = 8) \
    X("01 00", in->opd[0].size = 3) \
    X("01 00", in->opd[2].size = 4) \
    X("8e d8", in->opd[0].reg = IR_NSREG) \
    X("83 c0 01", in->opd[1].size = 1; in->imm = 0x100) \
    X("01 00", in->cond = 3) \
    X("74 00", in->cond = 16) \
    X("01 00", in->x87 = 0x100) \
    X("d8 00", in->x87 = 0x1) \
    X("d9 c0", in->x87 = 0x100) \
    X("0f 0b", in->flags = 0) \
    X("0f 0b", in->flags |= IR_F_TOO_LONG) \
    X("0f 0b", in->prefix = IR_PF_LOCK) \
    X("90", in->flags |= IR_F_TOO_LONG) \
    X("eb 00", in->flags = 0) \
    X("eb 00", in->osize = 2; in->imm = 0x10000) \
    X("01 00", in->pad = 1) \
    X("01 00", in->opd[0].pad = 1)

static const char *const checker_hex[] = {
#define HEX(hex_, ...) hex_,
    CHECKER_CASES(HEX)
#undef HEX
};

static void corrupt(unsigned which, struct ir_insn *in)
{
    unsigned n = 0;
#define APPLY(hex_, ...)                                                                           \
    if (which == n++) {                                                                            \
        __VA_ARGS__;                                                                               \
        return;                                                                                    \
    }
    CHECKER_CASES(APPLY)
#undef APPLY
}

static void test_checker_rejects(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sizeof(checker_hex) / sizeof(checker_hex[0]); i++) {
        uint8_t b[16];
        size_t n = parse_hex(checker_hex[i], b, sizeof(b));
        struct ir_insn in;
        char why[128];
        assert_int_equal(decode_one(b, n, 0, C32, &in), DEC_OK);
        assert_int_equal(insn_check(&in, why, sizeof(why)), 0);
        corrupt(i, &in);
        if (insn_check(&in, why, sizeof(why)) == 0)
            fail_msg("case %u (%s): corruption not detected", i, checker_hex[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_need_more),
        cmocka_unit_test(test_len_is_what_was_read),
        cmocka_unit_test(test_checker_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
