/*
 * test_x87_glue.c - the engine's side of x87 execution (vcpu/exec_x87.c): memory operands
 * through the segment layer at the effective address, FIP/FDP from the instruction, AX from
 * FNSTSW AX, EFLAGS from FCOMI, #NM/#MF from CR0 and the status word, and a faulting memory
 * operand leaving the FPU untouched. The numeric work itself is the x87 module's (tests/x87).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/engine/engine_testlib.h"
#include "vcpu/cpu.h"

/* x87 field: (opcode & 7) << 8 | modrm (register forms) or | (modrm & 0x38) (memory forms) */
static struct ir_insn x87_reg(unsigned esc, unsigned modrm)
{
    struct ir_insn in = ir_make(IR_X87, 4);
    in.len = 2;
    in.x87 = (uint16_t)((esc & 7) << 8 | modrm);
    return in;
}

static struct ir_insn x87_mem(unsigned esc, unsigned r, unsigned size, unsigned seg, int32_t disp)
{
    struct ir_insn in = ir_make(IR_X87, 4);
    in.len = 3;
    in.x87 = (uint16_t)((esc & 7) << 8 | (r & 7) << 3);
    in.opd[0] = o_mem(size);
    ir_set_mem(&in, seg, IR_EBX, IR_NOREG, 0, disp);
    return in;
}

static void test_load_store(void **state)
{
    struct tenv *t = *state;
    float f = 2.5f;
    memcpy(t->ram + 0x2010, &f, 4);
    t->cpu.r[IR_EBX] = 0x2000;
    t->cpu.eip = 0x1000;
    struct ir_insn fld = x87_mem(0xD9, 0, 4, IR_DS, 0x10); /* FLD m32fp */
    assert_int_equal(run(t, &fld), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1003);
    assert_int_equal(t->cpu.fpu.fdp, 0x2010);
    assert_int_equal(t->cpu.fpu.fip, 0x1000);
    /* FADD ST0, ST0 then FSTP m32fp through FS with a base */
    struct ir_insn fadd = x87_reg(0xD8, 0xC0);
    assert_int_equal(run(t, &fadd), ENG_OK);
    t->cpu.seg[IR_FS].base = 0x10000;
    struct ir_insn fstp = x87_mem(0xD9, 3, 4, IR_FS, 0x20);
    assert_int_equal(run(t, &fstp), ENG_OK);
    memcpy(&f, t->ram + 0x12020, 4);
    assert_true(f == 5.0f);
    assert_int_equal(t->cpu.fpu.fdp, 0x2020);
    assert_int_equal(t->cpu.fpu.fds, t->cpu.seg[IR_FS].sel);
}

static void test_fnstsw_fcomi(void **state)
{
    struct tenv *t = *state;
    /* FLD1, FLDZ: ST0 = 0, ST1 = 1 */
    struct ir_insn fld1 = x87_reg(0xD9, 0xE8), fldz = x87_reg(0xD9, 0xEE);
    assert_int_equal(run(t, &fld1), ENG_OK);
    assert_int_equal(run(t, &fldz), ENG_OK);
    /* FNSTSW AX: TOP = 6 after two pushes */
    t->cpu.r[IR_EAX] = 0xFFFF0000;
    struct ir_insn fnstsw = x87_reg(0xDF, 0xE0);
    assert_int_equal(run(t, &fnstsw), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xFFFF0000u | t->cpu.fpu.fsw);
    assert_int_equal((t->cpu.r[IR_EAX] >> 11) & 7, 6);
    /* FCOMI ST0, ST1: 0 < 1 -> CF=1, ZF=0, PF=0; OF SF AF cleared */
    cpu_set_eflags(&t->cpu, CPU_OF | CPU_SF | CPU_AF | CPU_ZF, CPU_ARITH_FLAGS);
    struct ir_insn fcomi = x87_reg(0xDB, 0xF1);
    assert_int_equal(run(t, &fcomi), ENG_OK);
    assert_int_equal(cpu_get_eflags(&t->cpu) & CPU_ARITH_FLAGS, CPU_CF);
    /* FCOMI ST0, ST0: equal */
    fcomi = x87_reg(0xDB, 0xF0);
    assert_int_equal(run(t, &fcomi), ENG_OK);
    assert_int_equal(cpu_get_eflags(&t->cpu) & CPU_ARITH_FLAGS, CPU_ZF);
}

static void test_exceptions(void **state)
{
    struct tenv *t = *state;
    struct ir_insn fld1 = x87_reg(0xD9, 0xE8);

    /* CR0.TS: #NM, nothing changes */
    t->cpu.cr0 |= CPU_CR0_TS;
    uint16_t fsw = t->cpu.fpu.fsw;
    t->cpu.eip = 0x1000;
    run_expect_exc(t, &fld1, CPU_NM, 0, 0);
    assert_int_equal(t->cpu.fpu.fsw, fsw);
    assert_int_equal(t->cpu.eip, 0x1000);
    /* WAIT honours TS only together with MP */
    struct ir_insn wait = ir_make(IR_WAIT, 4);
    wait.len = 1;
    assert_int_equal(run(t, &wait), ENG_OK);
    t->cpu.cr0 |= CPU_CR0_MP;
    run_expect_exc(t, &wait, CPU_NM, 0, 0);
    t->cpu.cr0 &= ~(CPU_CR0_TS | CPU_CR0_MP);

    /* a memory operand beyond the DS limit: #GP(0), the stack is not pushed */
    t->cpu.seg[IR_DS].limit = 0x2FFF;
    t->cpu.r[IR_EBX] = 0x2FFE;
    struct ir_insn fld = x87_mem(0xD9, 0, 4, IR_DS, 0);
    run_expect_exc(t, &fld, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.fpu.fsw, fsw);
    assert_int_equal(t->cpu.fpu.ftw, 0xFFFF);

    /* a pending unmasked exception makes WAIT raise #MF with CR0.NE */
    t->cpu.fpu.fcw = 0x037E;            /* invalid-operation unmasked */
    t->cpu.fpu.fsw = 0x0081;            /* IE and ES pending */
    run_expect_exc(t, &wait, CPU_MF, 0, 0);
    t->cpu.cr0 &= ~CPU_CR0_NE;
    assert_int_equal(run(t, &wait), ENG_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TENV_TEST(test_load_store),
        TENV_TEST(test_fnstsw_fcomi),
        TENV_TEST(test_exceptions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
