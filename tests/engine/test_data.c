/*
 * test_data.c - the engine's data-movement and stack instructions: MOV forms and addressing
 * (32- and 16-bit), extensions, exchanges and compare-exchanges, conversions, CMOV/SETcc, XLAT,
 * PUSH/POP in every form, PUSHA/POPA, PUSHF/POPF privilege rules, ENTER/LEAVE; and that a
 * faulting stack access leaves ESP and memory untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/engine/engine_testlib.h"
#include "vcpu/cpu.h"
#include "vcpu/exec.h"

static uint32_t eflags(struct tenv *t)
{
    return cpu_get_eflags(&t->cpu);
}

/* Real-address mode with every segment at base 0 (CS too), as after a far jump to 0:xxxx. */
static void go_real(struct tenv *t)
{
    engine_reset(&t->cpu);
    for (unsigned s = 0; s < IR_NSREG; s++) {
        t->cpu.seg[s].sel = 0;
        t->cpu.seg[s].base = 0;
    }
    t->cpu.eip = 0x1000;
    t->cpu.r[IR_ESP] = 0x8000;
}

/* ---- MOV and addressing ---- */

static void test_mov_forms(void **state)
{
    struct tenv *t = *state;
    struct ir_insn in;

    /* imm -> reg for each size keeps the untouched part */
    t->cpu.r[IR_EDX] = 0xAAAAAAAA;
    in = ir_ri(IR_MOV, 2, IR_EDX, 0x1234);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], 0xAAAA1234);
    in = ir_ri(IR_MOV, 1, 6 /* DH */, 0x55);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], 0xAAAA5534);
    in = ir_ri(IR_MOV, 4, IR_EDX, 0xCAFEF00D);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], 0xCAFEF00D);
    assert_int_equal(t->cpu.eip, 0x1000 + 3 * 3);

    /* reg -> mem through base + index * scale + disp */
    t->cpu.r[IR_EBX] = 0x3000;
    t->cpu.r[IR_ESI] = 0x10;
    in = ir_make(IR_MOV, 4);
    in.opd[0] = o_mem(4);
    in.opd[1] = o_reg(IR_EDX, 4);
    ir_set_mem(&in, IR_DS, IR_EBX, IR_ESI, 2, -8);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x3000 + 0x40 - 8), 0xCAFEF00D);

    /* moffs form: a memory operand with neither base nor index */
    in = ir_rm(IR_MOV, 2, IR_EAX, 0x3038);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX] & 0xFFFF, 0xF00D);

    /* 16-bit addressing wraps at 64 KiB: BX + SI + disp */
    t->cpu.r[IR_EBX] = 0xFFF0;
    t->cpu.r[IR_ESI] = 0x0030;
    put32(t, 0x0020, 0x11223344);
    in = ir_make(IR_MOV, 4);
    in.asize = 2;
    in.opd[0] = o_reg(IR_ECX, 4);
    in.opd[1] = o_mem(4);
    ir_set_mem(&in, IR_DS, IR_EBX, IR_ESI, 0, 0);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 0x11223344);

    /* a segment base applies to the offset */
    t->cpu.seg[IR_FS].base = 0x6000;
    put32(t, 0x6010, 0x99887766);
    in = ir_rm(IR_MOV, 4, IR_EDI, 0x10);
    in.mem.seg = IR_FS;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDI], 0x99887766);

    /* beyond the DS limit: #GP(0), destination unchanged */
    t->cpu.seg[IR_DS].limit = 0xFFFF;
    t->cpu.r[IR_EDI] = 7;
    t->cpu.eip = 0x2000;
    in = ir_rm(IR_MOV, 4, IR_EDI, 0xFFFE);
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_EDI], 7);
    assert_int_equal(t->cpu.eip, 0x2000);
}

static void test_extend_convert(void **state)
{
    struct tenv *t = *state;
    struct ir_insn in;

    t->cpu.r[IR_EBX] = 0x000080F0;
    in = ir_make(IR_MOVZX, 4);
    in.opd[0] = o_reg(IR_EAX, 4);
    in.opd[1] = o_reg(IR_EBX, 1);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xF0);
    in.op = IR_MOVSX;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xFFFFFFF0);
    in.opd[1] = o_reg(7 /* BH */, 1);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xFFFFFF80);
    /* word source to a 16-bit destination (66 0F BF) */
    t->cpu.r[IR_ECX] = 0x12345678;
    in = ir_make(IR_MOVSX, 2);
    in.opd[0] = o_reg(IR_ECX, 2);
    in.opd[1] = o_reg(IR_EBX, 1);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 0x1234FFF0);
    /* memory word source */
    put32(t, 0x2000, 0x9001);
    in = ir_make(IR_MOVSX, 4);
    in.opd[0] = o_reg(IR_EDX, 4);
    in.opd[1] = o_mem(2);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x2000);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], 0xFFFF9001);

    /* CBW, CWDE, CWD, CDQ */
    t->cpu.r[IR_EAX] = 0xFFFF0080;
    in = ir_make(IR_CBW, 2);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xFFFFFF80);
    t->cpu.r[IR_EAX] = 0x12348000;
    in = ir_make(IR_CBW, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xFFFF8000);
    t->cpu.r[IR_EDX] = 0x12345678;
    t->cpu.r[IR_EAX] = 0x00008000;
    in = ir_make(IR_CWD, 2);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], 0x1234FFFF);
    in = ir_make(IR_CWD, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], 0);

    /* BSWAP; the 16-bit form clears the word as the host does */
    t->cpu.r[IR_ESI] = 0x11223344;
    in = ir_make(IR_BSWAP, 4);
    in.opd[0] = o_reg(IR_ESI, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESI], 0x44332211);
    in = ir_make(IR_BSWAP, 2);
    in.opd[0] = o_reg(IR_ESI, 2);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESI], 0x44330000);

    /* LEA: no memory access; the address size masks, the operand size truncates */
    t->cpu.r[IR_EBX] = 0xFFFFFFF0;
    t->cpu.r[IR_ECX] = 0x20;
    in = ir_make(IR_LEA, 4);
    in.opd[0] = o_reg(IR_EAX, 4);
    in.opd[1] = o_mem(4);
    ir_set_mem(&in, IR_DS, IR_EBX, IR_ECX, 3, 0x100);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0x1F0);
    in.asize = 2;
    ir_set_mem(&in, IR_DS, IR_EBX, IR_ESI, 0, 0x100);
    t->cpu.r[IR_ESI] = 0x0;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0x00F0);
    in = ir_make(IR_LEA, 2);
    in.opd[0] = o_reg(IR_EAX, 2);
    in.opd[1] = o_mem(2);
    t->cpu.r[IR_EAX] = 0xABCD0000;
    ir_set_mem(&in, IR_DS, IR_EBX, IR_NOREG, 0, 0x12345);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xABCD2335);
}

static void test_xchg_family(void **state)
{
    struct tenv *t = *state;
    struct ir_insn in;

    t->cpu.r[IR_EAX] = 1;
    t->cpu.r[IR_EBX] = 2;
    in = ir_rr(IR_XCHG, 4, IR_EAX, IR_EBX);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 2);
    assert_int_equal(t->cpu.r[IR_EBX], 1);
    /* memory in either slot */
    put32(t, 0x2000, 0xAAAA);
    in = ir_rm(IR_XCHG, 4, IR_EAX, 0x2000);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xAAAA);
    assert_int_equal(get32(t, 0x2000), 2);
    in = ir_mr(IR_XCHG, 1, 0x2000, 4 /* AH */);
    t->cpu.r[IR_EAX] = 0x7700;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0x0200);
    assert_int_equal(get32(t, 0x2000), 0x77);
    /* a faulting exchange changes neither side */
    t->cpu.seg[IR_DS].attr = 0xC091; /* read-only */
    t->cpu.r[IR_EAX] = 5;
    in = ir_mr(IR_XCHG, 4, 0x2000, IR_EAX);
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_EAX], 5);
    assert_int_equal(get32(t, 0x2000), 0x77);
    t->cpu.seg[IR_DS].attr = 0xC093;

    /* XADD: flags of the addition; XADD r,r with one register leaves the sum */
    t->cpu.r[IR_ECX] = 0xFFFFFFFF;
    t->cpu.r[IR_EDX] = 2;
    in = ir_rr(IR_XADD, 4, IR_ECX, IR_EDX);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 1);
    assert_int_equal(t->cpu.r[IR_EDX], 0xFFFFFFFF);
    assert_true(eflags(t) & CPU_CF);
    t->cpu.r[IR_ECX] = 3;
    in = ir_rr(IR_XADD, 4, IR_ECX, IR_ECX);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 6);
    put32(t, 0x2100, 40);
    t->cpu.r[IR_EBX] = 2;
    in = ir_mr(IR_XADD, 2, 0x2100, IR_EBX);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x2100), 42);
    assert_int_equal(t->cpu.r[IR_EBX], 40);

    /* CMPXCHG equal: destination takes the source, ZF=1 */
    put32(t, 0x2200, 0x1111);
    t->cpu.r[IR_EAX] = 0x1111;
    t->cpu.r[IR_ECX] = 0x2222;
    in = ir_mr(IR_CMPXCHG, 4, 0x2200, IR_ECX);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x2200), 0x2222);
    assert_true(eflags(t) & CPU_ZF);
    /* unequal: the accumulator takes the destination, flags as CMP */
    t->cpu.r[IR_EAX] = 0x3333;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0x2222);
    assert_int_equal(get32(t, 0x2200), 0x2222);
    assert_false(eflags(t) & CPU_ZF);
    assert_false(eflags(t) & CPU_CF); /* 0x3333 - 0x2222 does not borrow */
    /* the destination is written even when unequal: a read-only destination faults */
    t->cpu.seg[IR_DS].attr = 0xC091;
    t->cpu.r[IR_EAX] = 0x4444;
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_EAX], 0x4444);
    t->cpu.seg[IR_DS].attr = 0xC093;
    /* byte form with AL */
    t->cpu.r[IR_EAX] = 0x12;
    t->cpu.r[IR_EBX] = 0x12;
    t->cpu.r[IR_EDX] = 0x99;
    in = ir_rr(IR_CMPXCHG, 1, IR_EBX, IR_EDX);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EBX], 0x99);

    /* CMPXCHG8B */
    put32(t, 0x2300, 0x11111111);
    put32(t, 0x2304, 0x22222222);
    t->cpu.r[IR_EAX] = 0x11111111;
    t->cpu.r[IR_EDX] = 0x22222222;
    t->cpu.r[IR_EBX] = 0xBBBBBBBB;
    t->cpu.r[IR_ECX] = 0xCCCCCCCC;
    in = ir_make(IR_CMPXCHG8B, 4);
    in.opd[0] = o_mem(8);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x2300);
    cpu_set_eflags(&t->cpu, CPU_CF, CPU_ARITH_FLAGS);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x2300), 0xBBBBBBBB);
    assert_int_equal(get32(t, 0x2304), 0xCCCCCCCC);
    assert_int_equal(eflags(t) & CPU_ARITH_FLAGS, CPU_ZF | CPU_CF); /* only ZF changes */
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xBBBBBBBB);
    assert_int_equal(t->cpu.r[IR_EDX], 0xCCCCCCCC);
    assert_int_equal(eflags(t) & CPU_ARITH_FLAGS, CPU_CF);
}

/* Reference condition evaluation straight from the SDM's table. */
static bool cond_ref(unsigned cc, uint32_t f)
{
    bool cf = f & CPU_CF, zf = f & CPU_ZF, sf = f & CPU_SF, of = f & CPU_OF, pf = f & CPU_PF;
    bool r;
    switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    default: r = zf || sf != of; break;
    }
    return (cc & 1) ? !r : r;
}

static void test_setcc_cmov(void **state)
{
    struct tenv *t = *state;
    static const uint32_t bits[] = { CPU_CF, CPU_PF, CPU_ZF, CPU_SF, CPU_OF };
    for (unsigned combo = 0; combo < 32; combo++) {
        uint32_t f = 0;
        for (unsigned b = 0; b < 5; b++)
            if (combo & (1u << b))
                f |= bits[b];
        for (unsigned cc = 0; cc < 16; cc++) {
            cpu_set_eflags(&t->cpu, f, CPU_ARITH_FLAGS);
            t->cpu.r[IR_EBX] = 0xFFFFFF77;
            struct ir_insn in = ir_make(IR_SETCC, 1);
            in.cond = (uint8_t)cc;
            in.opd[0] = o_reg(IR_EBX, 1);
            assert_int_equal(run(t, &in), ENG_OK);
            assert_int_equal(t->cpu.r[IR_EBX], 0xFFFFFF00u | (cond_ref(cc, f) ? 1 : 0));

            t->cpu.r[IR_EAX] = 0x11111111;
            t->cpu.r[IR_ECX] = 0x22222222;
            in = ir_rr(IR_CMOV, 4, IR_EAX, IR_ECX);
            in.cond = (uint8_t)cc;
            assert_int_equal(run(t, &in), ENG_OK);
            assert_int_equal(t->cpu.r[IR_EAX], cond_ref(cc, f) ? 0x22222222 : 0x11111111);
            assert_int_equal(eflags(t) & CPU_ARITH_FLAGS, f);
        }
    }
    /* conditions read lazily recorded flags: CMP 1, 2 -> below, less, not equal */
    t->cpu.r[IR_EAX] = 1;
    t->cpu.r[IR_ECX] = 2;
    struct ir_insn cmp = ir_rr(IR_CMP, 4, IR_EAX, IR_ECX);
    assert_int_equal(run(t, &cmp), ENG_OK);
    assert_true(eng_cond(&t->cpu, IR_CC_B));
    assert_true(eng_cond(&t->cpu, IR_CC_L));
    assert_true(eng_cond(&t->cpu, IR_CC_NE));
    assert_false(eng_cond(&t->cpu, IR_CC_G));

    /* SETcc to memory, CMOV from memory */
    struct ir_insn in = ir_make(IR_SETCC, 1);
    in.cond = IR_CC_B;
    in.opd[0] = o_mem(1);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x2400);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->ram[0x2400], 1);
    /* a false CMOV still reads its memory source, and so faults */
    t->cpu.seg[IR_DS].limit = 0x2FFF;
    t->cpu.r[IR_EDX] = 0x5555;
    in = ir_rm(IR_CMOV, 4, IR_EDX, 0x3000);
    in.cond = IR_CC_E; /* false after the CMP */
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_EDX], 0x5555);
    t->cpu.seg[IR_DS].limit = 0xFFFFFFFF;
    put32(t, 0x3000, 0x7777);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], 0x5555);
    in.cond = IR_CC_NE;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], 0x7777);
}

static void test_xlat_nop(void **state)
{
    struct tenv *t = *state;
    for (unsigned i = 0; i < 256; i++)
        t->ram[0x2500 + i] = (uint8_t)(255 - i);
    t->cpu.r[IR_EBX] = 0x2500;
    t->cpu.r[IR_EAX] = 0x12345610;
    struct ir_insn in = ir_make(IR_XLAT, 1);
    in.mem.base = IR_EBX;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0x123456EF);
    /* 16-bit: BX + AL wraps at 64 KiB */
    t->cpu.r[IR_EBX] = 0x1000FFFF;
    t->cpu.r[IR_EAX] = 0x01;
    t->ram[0] = 0x5A;
    in.asize = 2;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX] & 0xFF, 0x5A);

    /* a hint NOP never touches its memory operand */
    in = ir_make(IR_NOP, 4);
    in.opd[0] = o_mem(4);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, -4);
    t->cpu.seg[IR_DS].limit = 0xFFFF;
    t->cpu.eip = 0x1000;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1003);
}

/* ---- stack ---- */

static void test_push_pop(void **state)
{
    struct tenv *t = *state;
    struct ir_insn in;

    /* PUSH ESP pushes the value before the push */
    in = ir_make(IR_PUSH, 4);
    in.opd[0] = o_reg(IR_ESP, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FFC);
    assert_int_equal(get32(t, 0x7FFC), 0x8000);
    /* PUSH imm16 with a 16-bit operand size */
    in = ir_make(IR_PUSH, 2);
    in.opd[0] = o_imm(2);
    in.imm = 0xBEEF;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FFA);
    assert_int_equal(getn(t, 0x7FFA, 2), 0xBEEF);
    /* PUSH mem */
    put32(t, 0x2000, 0x01020304);
    in = ir_make(IR_PUSH, 4);
    in.opd[0] = o_mem(4);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x2000);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x7FF6), 0x01020304);
    /* PUSH sreg with a 32-bit operand size writes the selector zero-extended */
    put32(t, 0x7FF2, 0xFFFFFFFF);
    in = ir_make(IR_PUSH, 4);
    in.opd[0] = o_sreg(IR_DS);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x7FF2), t->cpu.seg[IR_DS].sel);

    /* POP reg */
    in = ir_make(IR_POP, 4);
    in.opd[0] = o_reg(IR_EAX, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], t->cpu.seg[IR_DS].sel);
    /* POP [ESP+4]: the address uses the incremented ESP */
    in = ir_make(IR_POP, 4);
    in.opd[0] = o_mem(4);
    ir_set_mem(&in, IR_SS, IR_ESP, IR_NOREG, 0, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FFA);
    assert_int_equal(get32(t, 0x7FFE), 0x01020304);
    /* POP ESP: the popped value wins over the increment */
    put32(t, 0x7FFA, 0x6000);
    in = ir_make(IR_POP, 4);
    in.opd[0] = o_reg(IR_ESP, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x6000);

    /* a 16-bit stack (SS.B = 0) wraps SP and keeps the upper half of ESP */
    t->cpu.seg[IR_SS].attr &= ~0x4000u;
    t->cpu.seg[IR_SS].limit = 0xFFFF;
    t->cpu.r[IR_ESP] = 0xABCD0002;
    t->cpu.r[IR_EBX] = 0x11223344;
    in = ir_make(IR_PUSH, 2);
    in.opd[0] = o_reg(IR_EBX, 2);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0xABCDFFFE);
    assert_int_equal(getn(t, 0xFFFE, 2), 0x3344);
    assert_int_equal(getn(t, 0x0000, 2), 0x3344);
    in = ir_make(IR_POP, 2);
    in.opd[0] = o_reg(IR_ECX, 2);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0xABCD0000);
    assert_int_equal(t->cpu.r[IR_ECX] & 0xFFFF, 0x3344);
    /* a 4-byte push at SP = 2 would straddle the 64 KiB limit: #SS(0), nothing moves */
    t->cpu.r[IR_ESP] = 0xABCD0002;
    in = ir_make(IR_PUSH, 4);
    in.opd[0] = o_reg(IR_EBX, 4);
    run_expect_exc(t, &in, CPU_SS, 1, 0);
    assert_int_equal(t->cpu.r[IR_ESP], 0xABCD0002);
}

static void test_stack_faults_precise(void **state)
{
    struct tenv *t = *state;
    struct ir_insn in;

    /* a push below the SS limit of an expand-up stack: #SS(0), ESP unchanged */
    t->cpu.seg[IR_SS].limit = 0x7FFF;
    t->cpu.r[IR_ESP] = 0x8004;
    t->cpu.eip = 0x1000;
    in = ir_make(IR_PUSH, 4);
    in.opd[0] = o_reg(IR_EAX, 4);
    run_expect_exc(t, &in, CPU_SS, 1, 0);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8004);
    assert_int_equal(t->cpu.eip, 0x1000);

    /* PUSHA that would cross the limit writes nothing */
    memset(t->ram + 0x7FD0, 0xEE, 0x40);
    t->cpu.r[IR_ESP] = 0x8010;
    in = ir_make(IR_PUSHA, 4);
    run_expect_exc(t, &in, CPU_SS, 1, 0);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8010);
    for (unsigned i = 0x7FD0; i < 0x8010; i++)
        assert_int_equal(t->ram[i], 0xEE);

    /* POP to a read-only memory destination faults with ESP unchanged */
    t->cpu.r[IR_ESP] = 0x7000;
    t->cpu.seg[IR_DS].attr = 0xC091;
    in = ir_make(IR_POP, 4);
    in.opd[0] = o_mem(4);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x2000);
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7000);

    /* CALL whose push faults: ESP and EIP unchanged */
    t->cpu.r[IR_ESP] = 0x8002;
    in = ir_make(IR_CALL, 4);
    in.imm = 0x4000;
    run_expect_exc(t, &in, CPU_SS, 1, 0);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8002);
    assert_int_equal(t->cpu.eip, 0x1000);
}

static void test_pusha_popa(void **state)
{
    struct tenv *t = *state;
    for (unsigned i = 0; i < 8; i++)
        t->cpu.r[i] = 0x10101010u * (i + 1);
    t->cpu.r[IR_ESP] = 0x8000;
    struct ir_insn in = ir_make(IR_PUSHA, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000 - 32);
    /* EAX at the top, EDI at the bottom, the original ESP in the middle */
    assert_int_equal(get32(t, 0x8000 - 4), 0x10101010);
    assert_int_equal(get32(t, 0x8000 - 20), 0x8000);
    assert_int_equal(get32(t, 0x8000 - 32), 0x80808080);
    for (unsigned i = 0; i < 8; i++)
        if (i != IR_ESP)
            t->cpu.r[i] = 0;
    put32(t, 0x8000 - 20, 0xDEAD); /* the stored ESP is ignored */
    in = ir_make(IR_POPA, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);
    for (unsigned i = 0; i < 8; i++)
        if (i != IR_ESP)
            assert_int_equal(t->cpu.r[i], 0x10101010u * (i + 1));
    /* 16-bit forms touch only the low words */
    in = ir_make(IR_PUSHA, 2);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000 - 16);
    assert_int_equal(getn(t, 0x8000 - 2, 2), 0x1010);
    t->cpu.r[IR_EBX] = 0xFFFFFFFF;
    in = ir_make(IR_POPA, 2);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EBX], 0xFFFF4040);
}

static void test_pushf_popf(void **state)
{
    struct tenv *t = *state;
    struct ir_insn pushf = ir_make(IR_PUSHF, 4), popf = ir_make(IR_POPF, 4);

    /* the pushed image has bit 1 set and VM/RF clear */
    cpu_set_eflags(&t->cpu, CPU_RF | CPU_CF | CPU_IF, 0xFFFFFFFF);
    assert_int_equal(run(t, &pushf), ENG_OK);
    assert_int_equal(get32(t, 0x7FFC), CPU_CF | CPU_IF | 2);

    /* CPL 0: everything writable except VM/VIF/VIP; RF cleared */
    put32(t, 0x7FFC, 0xFFFFFFFF);
    assert_int_equal(run(t, &popf), ENG_END_BLOCK);
    uint32_t f = cpu_get_eflags(&t->cpu);
    assert_int_equal(f, 0x00247FD7u & ~CPU_RF & ~0x00180000u);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);

    /* CPL 3 with IOPL 0: IF and IOPL keep their values, the rest changes */
    t->cpu.cpl = 3;
    cpu_set_eflags(&t->cpu, CPU_IF | 2, 0xFFFFFFFF);
    t->cpu.r[IR_ESP] = 0x7FFC;
    put32(t, 0x7FFC, CPU_IOPL | CPU_DF | CPU_CF);
    assert_int_equal(run(t, &popf), ENG_OK);
    assert_int_equal(cpu_get_eflags(&t->cpu), CPU_IF | CPU_DF | CPU_CF | 2);
    /* CPL 3 with IOPL 3: IF changes too (and ends the block) */
    cpu_set_eflags(&t->cpu, CPU_IOPL | CPU_IF | 2, 0xFFFFFFFF);
    t->cpu.r[IR_ESP] = 0x7FFC;
    put32(t, 0x7FFC, 0);
    assert_int_equal(run(t, &popf), ENG_END_BLOCK);
    assert_int_equal(cpu_get_eflags(&t->cpu), CPU_IOPL | 2);

    /* 16-bit POPF leaves the upper half alone */
    t->cpu.cpl = 0;
    cpu_set_eflags(&t->cpu, CPU_AC | CPU_ID | 2, 0xFFFFFFFF);
    t->cpu.r[IR_ESP] = 0x7FFE;
    putn(t, 0x7FFE, CPU_ZF, 2);
    struct ir_insn popf16 = ir_make(IR_POPF, 2);
    assert_int_equal(run(t, &popf16), ENG_OK);
    assert_int_equal(cpu_get_eflags(&t->cpu), CPU_AC | CPU_ID | CPU_ZF | 2);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);

    /* real mode: IOPL writable */
    t->cpu.cr0 &= ~CPU_CR0_PE;
    t->cpu.r[IR_ESP] = 0x7FFC;
    put32(t, 0x7FFC, CPU_IOPL);
    assert_int_equal(run(t, &popf), ENG_END_BLOCK);
    assert_int_equal(cpu_get_eflags(&t->cpu) & CPU_IOPL, CPU_IOPL);
}

static void test_enter_leave(void **state)
{
    struct tenv *t = *state;
    struct ir_insn in;

    /* ENTER 16, 0 */
    t->cpu.r[IR_EBP] = 0x7F00;
    t->cpu.r[IR_ESP] = 0x8000;
    in = ir_make(IR_ENTER, 4);
    in.imm = 16;
    in.imm2 = 0;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x7FFC), 0x7F00);
    assert_int_equal(t->cpu.r[IR_EBP], 0x7FFC);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FFC - 16);
    /* LEAVE undoes it */
    in = ir_make(IR_LEAVE, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EBP], 0x7F00);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);

    /* ENTER 8, 3: copies two outer frame pointers from [EBP-4], [EBP-8], then the new frame */
    put32(t, 0x7F00 - 4, 0xAAAA0001);
    put32(t, 0x7F00 - 8, 0xAAAA0002);
    in = ir_make(IR_ENTER, 4);
    in.imm = 8;
    in.imm2 = 3;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x7FFC), 0x7F00);
    assert_int_equal(get32(t, 0x7FF8), 0xAAAA0001);
    assert_int_equal(get32(t, 0x7FF4), 0xAAAA0002);
    assert_int_equal(get32(t, 0x7FF0), 0x7FFC);
    assert_int_equal(t->cpu.r[IR_EBP], 0x7FFC);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FF0 - 8);

    /* the level is taken modulo 32 */
    t->cpu.r[IR_ESP] = 0x8000;
    t->cpu.r[IR_EBP] = 0x7F00;
    in.imm2 = 33;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x7FF8), 0x7FFC);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FF8 - 8);

    /* 16-bit ENTER 4, 1 */
    t->cpu.r[IR_ESP] = 0x8000;
    t->cpu.r[IR_EBP] = 0x12347F00;
    in = ir_make(IR_ENTER, 2);
    in.imm = 4;
    in.imm2 = 1;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(getn(t, 0x7FFE, 2), 0x7F00);
    assert_int_equal(getn(t, 0x7FFC, 2), 0x7FFE);
    assert_int_equal(t->cpu.r[IR_EBP], 0x12347FFE);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FFC - 4);

    /* an ENTER whose copy faults changes no register */
    t->cpu.r[IR_ESP] = 0x8000;
    t->cpu.r[IR_EBP] = 0x7F00;
    t->cpu.seg[IR_SS].limit = 0x7FF5; /* the third push (at 0x7FF4) crosses it */
    in = ir_make(IR_ENTER, 4);
    in.imm = 8;
    in.imm2 = 3;
    run_expect_exc(t, &in, CPU_SS, 1, 0);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);
    assert_int_equal(t->cpu.r[IR_EBP], 0x7F00);
}

static void test_pop_sreg_real_mode(void **state)
{
    struct tenv *t = *state;
    go_real(t);
    putn(t, 0x7FFE, 0x1234, 2);
    t->cpu.r[IR_ESP] = 0x7FFE;
    struct ir_insn in = ir_make(IR_POP, 2);
    in.opd[0] = o_sreg(IR_ES);
    assert_int_equal(run(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.seg[IR_ES].sel, 0x1234);
    assert_int_equal(t->cpu.seg[IR_ES].base, 0x12340);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);
    /* POP SS opens the one-instruction interrupt shadow */
    putn(t, 0x7FFE, 0x0000, 2);
    t->cpu.r[IR_ESP] = 0x7FFE;
    in.opd[0] = o_sreg(IR_SS);
    assert_int_equal(run(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.inhibit_irq, 1);
    struct ir_insn nop = ir_make(IR_NOP, 2);
    assert_int_equal(run(t, &nop), ENG_OK);
    assert_int_equal(t->cpu.inhibit_irq, 0);
    /* PUSH CS / PUSH SS with 16-bit operands */
    t->cpu.seg[IR_CS].sel = 0x0700;
    in = ir_make(IR_PUSH, 2);
    in.opd[0] = o_sreg(IR_CS);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(getn(t, 0x7FFE, 2), 0x0700);
    /* POP CS does not exist */
    in = ir_make(IR_POP, 2);
    in.opd[0] = o_sreg(IR_CS);
    run_expect_exc(t, &in, CPU_UD, 0, 0);
}

static void test_reset_state(void **state)
{
    struct tenv *t = *state;
    engine_reset(&t->cpu);
    assert_int_equal(t->cpu.eip, 0xFFF0);
    assert_int_equal(t->cpu.seg[IR_CS].sel, 0xF000);
    assert_int_equal(t->cpu.seg[IR_CS].base, 0xFFFF0000u);
    assert_int_equal(t->cpu.cr0 & CPU_CR0_PE, 0);
    assert_int_equal(cpu_get_eflags(&t->cpu), 2);
    assert_int_equal(t->cpu.r[IR_EDX] & 0xF00, 0x600); /* family 6 signature */
    engine_flat32(&t->cpu, 3);
    assert_int_equal(t->cpu.cpl, 3);
    assert_int_equal(t->cpu.seg[IR_CS].sel & 3, 3);
    assert_int_equal(t->cpu.seg[IR_SS].limit, 0xFFFFFFFFu);
    assert_true(t->cpu.cr0 & CPU_CR0_PE);
    assert_int_equal(t->cpu.fpu.fcw, 0x037F);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TENV_TEST(test_mov_forms),
        TENV_TEST(test_extend_convert),
        TENV_TEST(test_xchg_family),
        TENV_TEST(test_setcc_cmov),
        TENV_TEST(test_xlat_nop),
        TENV_TEST(test_push_pop),
        TENV_TEST(test_stack_faults_precise),
        TENV_TEST(test_pusha_popa),
        TENV_TEST(test_pushf_popf),
        TENV_TEST(test_enter_leave),
        TENV_TEST(test_pop_sreg_real_mode),
        TENV_TEST(test_reset_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
