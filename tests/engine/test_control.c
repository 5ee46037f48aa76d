/*
 * test_control.c - near control transfer in the engine: JMP/Jcc/JCXZ/LOOPcc, CALL/RET (direct,
 * indirect, 16-bit, RET imm16), the CS-limit check that raises #GP(0) with nothing committed,
 * and dispatch-level behaviour (INVALID -> #UD or #GP, counters, the interrupt shadow).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/engine/engine_testlib.h"
#include "vcpu/cpu.h"

static struct ir_insn branch(unsigned op, uint32_t target)
{
    struct ir_insn in = ir_make(op, 4);
    in.len = 2;
    in.imm = target;
    return in;
}

static void test_jumps(void **state)
{
    struct tenv *t = *state;
    struct ir_insn in = branch(IR_JMP, 0x4000);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x4000);

    /* Jcc taken / not taken after a CMP */
    t->cpu.r[IR_EAX] = 5;
    t->cpu.r[IR_EBX] = 5;
    struct ir_insn cmp = ir_rr(IR_CMP, 4, IR_EAX, IR_EBX);
    assert_int_equal(run(t, &cmp), ENG_OK);
    in = branch(IR_JCC, 0x1000);
    in.cond = IR_CC_E;
    t->cpu.eip = 0x4000;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1000);
    in.cond = IR_CC_NE;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1002);

    /* JCXZ uses CX or ECX by address size */
    t->cpu.r[IR_ECX] = 0x10000;
    in = branch(IR_JCXZ, 0x3000);
    t->cpu.eip = 0x1000;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1002);
    in.asize = 2;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x3000);

    /* JMP r/m32 and r/m16 */
    t->cpu.r[IR_EDX] = 0x12345;
    in = ir_make(IR_JMP_IND, 4);
    in.opd[0] = o_reg(IR_EDX, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x12345);
    in = ir_make(IR_JMP_IND, 2);
    in.opd[0] = o_reg(IR_EDX, 2);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x2345);
}

static void test_loops(void **state)
{
    struct tenv *t = *state;
    /* LOOP runs ECX times */
    t->cpu.r[IR_ECX] = 3;
    unsigned taken = 0;
    struct ir_insn in = branch(IR_LOOP, 0x0F00);
    for (;;) {
        t->cpu.eip = 0x1000;
        assert_int_equal(run(t, &in), ENG_OK);
        if (t->cpu.eip != 0x0F00)
            break;
        taken++;
    }
    assert_int_equal(taken, 2);
    assert_int_equal(t->cpu.r[IR_ECX], 0);
    assert_int_equal(t->cpu.eip, 0x1002);
    /* CX = 0 with a 16-bit address size wraps to 0xFFFF and loops, upper ECX untouched */
    t->cpu.r[IR_ECX] = 0xABCD0000;
    in.asize = 2;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 0xABCDFFFF);
    assert_int_equal(t->cpu.eip, 0x0F00);
    /* LOOPE stops when ZF = 0, LOOPNE when ZF = 1; neither touches the flags */
    cpu_set_eflags(&t->cpu, 0, CPU_ARITH_FLAGS);
    t->cpu.r[IR_ECX] = 10;
    in = branch(IR_LOOPE, 0x0F00);
    t->cpu.eip = 0x1000;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1002);
    assert_int_equal(t->cpu.r[IR_ECX], 9);
    in.op = IR_LOOPNE;
    t->cpu.eip = 0x1000;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x0F00);
    cpu_set_eflags(&t->cpu, CPU_ZF, CPU_ARITH_FLAGS);
    t->cpu.eip = 0x1000;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1002);
    assert_int_equal(cpu_get_eflags(&t->cpu) & CPU_ARITH_FLAGS, CPU_ZF);
    /* a LOOP whose target is beyond CS.limit faults before ECX changes */
    t->cpu.seg[IR_CS].limit = 0xFFFF;
    t->cpu.r[IR_ECX] = 5;
    in = branch(IR_LOOP, 0x10000);
    t->cpu.eip = 0x1000;
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_ECX], 5);
    assert_int_equal(t->cpu.eip, 0x1000);
}

static void test_call_ret(void **state)
{
    struct tenv *t = *state;
    struct ir_insn call = branch(IR_CALL, 0x5000);
    call.len = 5;
    assert_int_equal(run(t, &call), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x5000);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FFC);
    assert_int_equal(get32(t, 0x7FFC), 0x1005);
    struct ir_insn ret = ir_make(IR_RET, 4);
    assert_int_equal(run(t, &ret), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1005);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);

    /* CALL [ESP]: the target is read before the push */
    put32(t, 0x8000, 0x6000);
    struct ir_insn ci = ir_make(IR_CALL_IND, 4);
    ci.opd[0] = o_mem(4);
    ir_set_mem(&ci, IR_SS, IR_ESP, IR_NOREG, 0, 0);
    assert_int_equal(run(t, &ci), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x6000);
    assert_int_equal(get32(t, 0x7FFC), 0x1008);

    /* RET 8 pops the return address and then 8 bytes */
    ret.imm = 8;
    t->cpu.r[IR_ESP] = 0x7FFC;
    assert_int_equal(run(t, &ret), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1008);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8008);

    /* 16-bit CALL pushes IP only and RET pops it */
    t->cpu.r[IR_ESP] = 0x8000;
    t->cpu.eip = 0x1234;
    struct ir_insn c16 = branch(IR_CALL, 0x0100);
    c16.osize = 2;
    c16.len = 3;
    assert_int_equal(run(t, &c16), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FFE);
    assert_int_equal(getn(t, 0x7FFE, 2), 0x1237);
    struct ir_insn r16 = ir_make(IR_RET, 2);
    assert_int_equal(run(t, &r16), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1237);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);
}

static void test_limit_checks(void **state)
{
    struct tenv *t = *state;
    t->cpu.seg[IR_CS].limit = 0xFFFF;
    t->cpu.eip = 0x1000;

    struct ir_insn in = branch(IR_JMP, 0x10000);
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.eip, 0x1000);
    in = branch(IR_JMP, 0xFFFF);
    assert_int_equal(run(t, &in), ENG_OK);
    t->cpu.eip = 0x1000;

    /* CALL beyond the limit: #GP(0) before anything is pushed */
    in = branch(IR_CALL, 0x20000);
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);
    assert_int_equal(t->cpu.eip, 0x1000);

    /* RET to beyond the limit: #GP(0), ESP not popped */
    put32(t, 0x7FF8, 0x30000);
    t->cpu.r[IR_ESP] = 0x7FF8;
    in = ir_make(IR_RET, 4);
    in.imm = 4;
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_ESP], 0x7FF8);
    assert_int_equal(t->cpu.eip, 0x1000);

    /* a not-taken Jcc does not check the target */
    cpu_set_eflags(&t->cpu, 0, CPU_ARITH_FLAGS);
    in = branch(IR_JCC, 0x40000);
    in.cond = IR_CC_E;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1002);
}

static void test_dispatch(void **state)
{
    struct tenv *t = *state;
    struct ir_insn in = ir_make(IR_INVALID, 4);
    t->cpu.eip = 0x1000;
    run_expect_exc(t, &in, CPU_UD, 0, 0);
    assert_int_equal(t->cpu.eip, 0x1000);
    in.flags = IR_F_TOO_LONG;
    in.len = 15;
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->e.count.exceptions, 2);

    /* the interrupt shadow lasts exactly one completed instruction */
    struct ir_insn nop = ir_make(IR_NOP, 4);
    t->cpu.inhibit_irq = 1;
    in.flags = 0;
    run_expect_exc(t, &in, CPU_UD, 0, 0);
    assert_int_equal(t->cpu.inhibit_irq, 1);
    assert_int_equal(run(t, &nop), ENG_OK);
    assert_int_equal(t->cpu.inhibit_irq, 0);
    assert_int_equal(t->e.count.insns, 1);

    /* IR_F_PRIV from the translator is only a hint: a NOP marked privileged still runs at CPL 3 */
    t->cpu.cpl = 3;
    nop.flags = IR_F_PRIV;
    assert_int_equal(run(t, &nop), ENG_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TENV_TEST(test_jumps),
        TENV_TEST(test_loops),
        TENV_TEST(test_call_ret),
        TENV_TEST(test_limit_checks),
        TENV_TEST(test_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
