/*
 * test_sys_io.c - IN/OUT/INS/OUTS (exec_io.c): the IOPL rule, the TSS I/O permission bitmap
 * (including multi-byte accesses straddling bits and bitmaps past the TSS limit), VM86, and REP
 * string I/O with DF and the iteration cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/sys/sys_harness.h"
#include "vcpu/sys.h"

static void allow_port(struct th *t, unsigned port)
{
    t->ram[TH_TSS + TH_TSS_IOMAP + port / 8] &= (uint8_t)~(1u << (port % 8));
}

static struct ir_insn io_dx(unsigned op, unsigned size)
{
    struct ir_insn in = th_insn(op, 1, size);
    struct ir_operand acc = {IR_OPK_REG, (uint8_t)size, IR_EAX, 0};
    struct ir_operand dx = {IR_OPK_REG, 2, IR_EDX, 0};
    in.opd[0] = op == IR_IN ? acc : dx;
    in.opd[1] = op == IR_IN ? dx : acc;
    return in;
}

static void test_cpl0_in_out(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn in = th_insn(IR_IN, 2, 1);
    in.opd[0] = (struct ir_operand){IR_OPK_REG, 1, IR_EAX, 0};
    in.opd[1] = (struct ir_operand){IR_OPK_IMM, 1, 0, 0};
    in.imm = 0x60;
    t->cpu.r[IR_EAX] = 0xAABBCCDD;
    assert_int_equal(th_exec(t, &in), ENG_OK);
    assert_int_equal(t->last_in_port, 0x60);
    assert_int_equal(t->cpu.r[IR_EAX], 0xAABBCC01); /* harness returns in_value + size */
    struct ir_insn out = io_dx(IR_OUT, 2);
    t->cpu.r[IR_EDX] = 0x3F8;
    t->cpu.r[IR_EAX] = 0x12345678;
    assert_int_equal(th_exec(t, &out), ENG_OK);
    assert_int_equal(t->n_out, 1);
    assert_int_equal(t->outs[0].port, 0x3F8);
    assert_int_equal(t->outs[0].size, 2);
    assert_int_equal(t->outs[0].value, 0x5678);
    assert_int_equal(t->cpu.eip, TH_CODE + 3);
}

static void test_bitmap(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn out = io_dx(IR_OUT, 1), out4 = io_dx(IR_OUT, 4);
    t->cpu.r[IR_EDX] = 0x3F8;
    TH_EXPECT_EXC(t, th_exec(t, &out), CPU_GP, 0);
    assert_int_equal(t->n_out, 0);
    allow_port(t, 0x3F8);
    assert_int_equal(th_exec(t, &out), ENG_OK);
    assert_int_equal(t->n_out, 1);
    /* a dword needs all four bits: 0x3F8..0x3FB */
    TH_EXPECT_EXC(t, th_exec(t, &out4), CPU_GP, 0);
    allow_port(t, 0x3F9);
    allow_port(t, 0x3FA);
    allow_port(t, 0x3FB);
    assert_int_equal(th_exec(t, &out4), ENG_OK);
    /* an access straddling a bitmap byte: 0x3FF..0x400 */
    allow_port(t, 0x3FF);
    t->cpu.r[IR_EDX] = 0x3FF;
    struct ir_insn out2 = io_dx(IR_OUT, 2);
    TH_EXPECT_EXC(t, th_exec(t, &out2), CPU_GP, 0);
    allow_port(t, 0x400);
    assert_int_equal(th_exec(t, &out2), ENG_OK);
    /* IOPL 3 bypasses the bitmap */
    t->cpu.r[IR_EDX] = 0x80;
    TH_EXPECT_EXC(t, th_exec(t, &out), CPU_GP, 0);
    t->cpu.eflags |= CPU_IOPL;
    assert_int_equal(th_exec(t, &out), ENG_OK);
}

static void test_bitmap_limits(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn in = io_dx(IR_IN, 1);
    allow_port(t, 0x10);
    t->cpu.r[IR_EDX] = 0x10;
    assert_int_equal(th_exec(t, &in), ENG_OK);
    /* the CPU reads two bytes: base + port/8 + 1 must be within the TSS limit */
    t->cpu.tr.limit = TH_TSS_IOMAP + 0x10 / 8;
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    t->cpu.tr.limit = TH_TSS_IOMAP + 0x10 / 8 + 1;
    assert_int_equal(th_exec(t, &in), ENG_OK);
    /* a bitmap base beyond the limit denies everything */
    th_wr16(t, TH_TSS + 0x66, 0xFFFF);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    /* no 32-bit TSS loaded: #GP(0) */
    th_wr16(t, TH_TSS + 0x66, TH_TSS_IOMAP);
    t->cpu.tr.attr = (t->cpu.tr.attr & ~0xFu) | ST_TSS16_BUSY;
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
}

static void test_vm86_uses_bitmap(void **state)
{
    struct th *t = *state = th_new(0);
    t->cpu.eflags |= CPU_VM | CPU_IOPL;
    t->cpu.cpl = 3;
    for (unsigned s = 0; s < IR_NSREG; s++)
        seg_load_vm86(&t->cpu.seg[s], 0x100);
    t->cpu.eip = 0;
    struct ir_insn in = io_dx(IR_IN, 1);
    t->cpu.r[IR_EDX] = 0x70;
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0); /* IOPL 3 does not matter in VM86 */
    allow_port(t, 0x70);
    assert_int_equal(th_exec(t, &in), ENG_OK);
}

static void test_real_mode_no_checks(void **state)
{
    struct th *t = *state = th_new_real();
    struct ir_insn in = io_dx(IR_IN, 4);
    t->cpu.r[IR_EDX] = 0xCF8;
    assert_int_equal(th_exec(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0x11223304);
}

static void test_rep_ins_outs(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn ins = th_insn(IR_INS, 2, 2);
    ins.prefix = IR_PF_REP;
    t->cpu.r[IR_EDX] = 0x1F0;
    t->cpu.r[IR_EDI] = 0x60000;
    t->cpu.r[IR_ECX] = 3;
    ins.asize = 4;
    assert_int_equal(th_exec(t, &ins), ENG_OK);
    assert_int_equal(t->n_in, 3);
    assert_int_equal(t->cpu.r[IR_ECX], 0);
    assert_int_equal(t->cpu.r[IR_EDI], 0x60006);
    assert_int_equal(th_rd16(t, 0x60000), 0x3302);
    assert_int_equal(th_rd16(t, 0x60004), 0x3302);
    assert_int_equal(t->cpu.eip, TH_CODE + 2);
    /* OUTS backwards (DF = 1) from DS:ESI */
    struct ir_insn outs = th_insn(IR_OUTS, 2, 1);
    outs.prefix = IR_PF_REP;
    outs.asize = 4;
    outs.mem.seg = IR_DS;
    t->cpu.eflags |= CPU_DF;
    t->ram[0x61002] = 0xC;
    t->ram[0x61001] = 0xB;
    t->ram[0x61000] = 0xA;
    t->cpu.r[IR_ESI] = 0x61002;
    t->cpu.r[IR_ECX] = 3;
    assert_int_equal(th_exec(t, &outs), ENG_OK);
    assert_int_equal(t->n_out, 3);
    assert_int_equal(t->outs[0].value, 0xC);
    assert_int_equal(t->outs[2].value, 0xA);
    assert_int_equal(t->cpu.r[IR_ESI], 0x60FFF);
    /* REP with ECX = 0 does nothing */
    assert_int_equal(th_exec(t, &outs), ENG_OK);
    assert_int_equal(t->n_out, 3);
}

static void test_ins_fault_before_port_read(void **state)
{
    struct th *t = *state = th_new(0);
    th_gdt(t, 12, 0x60000, 0xF, ACC_DATA(0), 0x4);
    th_seg(t, IR_ES, 12 * 8);
    struct ir_insn ins = th_insn(IR_INS, 1, 4);
    ins.prefix = IR_PF_REP;
    ins.asize = 4;
    t->cpu.r[IR_EDI] = 0x8;
    t->cpu.r[IR_ECX] = 5;
    /* iterations at 8 and 12 fit, 16 is beyond the limit: registers show two done */
    TH_EXPECT_EXC(t, th_exec(t, &ins), CPU_GP, 0);
    assert_int_equal(t->n_in, 2);
    assert_int_equal(t->cpu.r[IR_ECX], 3);
    assert_int_equal(t->cpu.r[IR_EDI], 16);
    assert_int_equal(t->cpu.eip, TH_CODE);
}

static void test_rep_cap_restarts(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn outs = th_insn(IR_OUTS, 2, 1);
    outs.prefix = IR_PF_REP;
    outs.asize = 4;
    t->cpu.r[IR_ESI] = 0x100000;
    t->cpu.r[IR_ECX] = ENG_REP_CAP + 5;
    assert_int_equal(th_exec(t, &outs), ENG_OK);
    assert_int_equal(t->cpu.eip, TH_CODE); /* not finished: executes again */
    assert_int_equal(t->cpu.r[IR_ECX], 5);
    assert_int_equal(th_exec(t, &outs), ENG_OK);
    assert_int_equal(t->cpu.eip, TH_CODE + 2);
    assert_int_equal(t->cpu.r[IR_ECX], 0);
    assert_int_equal(t->n_out, ENG_REP_CAP + 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cpl0_in_out, th_teardown),
        cmocka_unit_test_teardown(test_bitmap, th_teardown),
        cmocka_unit_test_teardown(test_bitmap_limits, th_teardown),
        cmocka_unit_test_teardown(test_vm86_uses_bitmap, th_teardown),
        cmocka_unit_test_teardown(test_real_mode_no_checks, th_teardown),
        cmocka_unit_test_teardown(test_rep_ins_outs, th_teardown),
        cmocka_unit_test_teardown(test_ins_fault_before_port_read, th_teardown),
        cmocka_unit_test_teardown(test_rep_cap_restarts, th_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
