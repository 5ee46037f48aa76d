/*
 * test_sys_task.c - 32-bit TSS task switches (vcpu/task.c) through JMP/CALL to TSS descriptors
 * and task gates, IRET with NT, exceptions through IDT task gates; busy bits, back links, NT,
 * CR0.TS, state save/restore, and faults that belong to the new task.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/sys/sys_harness.h"
#include "vcpu/sys.h"

#define S(idx) ((uint16_t)((idx) * 8))
#define TSS2_EIP 0x47000u
#define TSS2_ESP 0x1F000u

static void tss_image(struct th *t, uint32_t base, uint32_t eflags, uint16_t cs, uint16_t ds)
{
    th_wr32(t, base + 0x20, TSS2_EIP);
    th_wr32(t, base + 0x24, eflags);
    for (unsigned i = 0; i < 8; i++)
        th_wr32(t, base + 0x28 + 4 * i, 0x1000 * (i + 1));
    th_wr32(t, base + 0x38, TSS2_ESP);
    for (unsigned i = 0; i < 6; i++)
        th_wr32(t, base + 0x48 + 4 * i, ds);
    th_wr32(t, base + 0x4C, cs);
    th_wr32(t, base + 0x60, 0);
}

static struct ir_insn far_insn(unsigned op, uint16_t sel)
{
    struct ir_insn in = th_insn(op, 7, 4);
    in.imm2 = sel;
    return in;
}

static uint8_t desc_type_byte(struct th *t, uint16_t sel)
{
    return th_rd8(t, TH_GDT + (sel & ~7u) + 5);
}

static void test_jmp_to_tss(void **state)
{
    struct th *t = *state = th_new(0);
    tss_image(t, TH_TSS2, 0x2 | CPU_CF, SEL_CODE0, SEL_DATA0);
    t->cpu.r[IR_EAX] = 0xAAAA;
    struct ir_insn in = far_insn(IR_JMP_FAR, SEL_TSS2);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS2);
    assert_int_equal(t->cpu.tr.base, TH_TSS2);
    assert_int_equal(t->cpu.eip, TSS2_EIP);
    assert_int_equal(t->cpu.r[IR_EAX], 0x1000);
    assert_int_equal(t->cpu.r[IR_ESP], TSS2_ESP);
    assert_true(t->cpu.cr0 & CPU_CR0_TS);
    assert_true(th_flags(t) & CPU_CF);
    assert_false(th_flags(t) & CPU_NT);
    /* outgoing state saved; busy moved from the old TSS to the new one; no back link */
    assert_int_equal(th_rd32(t, TH_TSS + 0x20), TH_CODE + 7);
    assert_int_equal(th_rd32(t, TH_TSS + 0x28), 0xAAAA);
    assert_int_equal(th_rd32(t, TH_TSS + 0x4C), SEL_CODE0);
    assert_int_equal(desc_type_byte(t, SEL_TSS), 0x89);
    assert_int_equal(desc_type_byte(t, SEL_TSS2), 0x8B);
    assert_int_equal(th_rd16(t, TH_TSS2), 0);
    assert_int_equal(t->cpu.cpl, 0);
    assert_int_equal(t->cpu.seg[IR_DS].sel, SEL_DATA0);
    assert_true(t->cpu.seg[IR_DS].attr & SA_P);
}

static void test_call_task_gate_and_iret_back(void **state)
{
    struct th *t = *state = th_new(0);
    tss_image(t, TH_TSS2, 0x2, SEL_CODE0, SEL_DATA0);
    th_gate(t, TH_GDT, 12, SEL_TSS2, 0, GATE_TASK(0), 0);
    t->cpu.r[IR_EBX] = 0xB0B0;
    struct ir_insn in = far_insn(IR_CALL_FAR, S(12));
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS2);
    assert_true(th_flags(t) & CPU_NT);
    assert_int_equal(th_rd16(t, TH_TSS2), SEL_TSS); /* back link */
    assert_int_equal(desc_type_byte(t, SEL_TSS), 0x8B); /* caller stays busy */
    assert_int_equal(desc_type_byte(t, SEL_TSS2), 0x8B);
    /* IRET with NT returns to the caller */
    t->cpu.eip = 0x47100;
    struct ir_insn iret = th_insn(IR_IRET, 1, 4);
    assert_int_equal(th_exec(t, &iret), ENG_END_BLOCK);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS);
    assert_int_equal(t->cpu.eip, TH_CODE + 7);
    assert_int_equal(t->cpu.r[IR_EBX], 0xB0B0);
    assert_false(th_flags(t) & CPU_NT);
    assert_int_equal(desc_type_byte(t, SEL_TSS2), 0x89);
    assert_int_equal(desc_type_byte(t, SEL_TSS), 0x8B);
    /* the nested task's saved state has NT cleared and EIP after its IRET */
    assert_int_equal(th_rd32(t, TH_TSS2 + 0x24) & CPU_NT, 0);
    assert_int_equal(th_rd32(t, TH_TSS2 + 0x20), 0x47101);
}

static void test_task_switch_checks(void **state)
{
    struct th *t = *state = th_new(0);
    tss_image(t, TH_TSS2, 0x2, SEL_CODE0, SEL_DATA0);
    struct ir_insn in = far_insn(IR_JMP_FAR, SEL_TSS); /* busy: the current task */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_TSS);
    th_gdt(t, 12, TH_TSS2, 0x60, ACC_TSS32, 0); /* limit below 0x67 */
    in = far_insn(IR_JMP_FAR, S(12));
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_TS, S(12));
    th_gdt(t, 13, TH_TSS2, 0x67, ACC_TSS32 & ~0x80, 0);
    in = far_insn(IR_JMP_FAR, S(13));
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_NP, S(13));
    th_gdt(t, 14, TH_TSS2, 0x67, 0x81, 0); /* 16-bit TSS: unsupported */
    in = far_insn(IR_JMP_FAR, S(14));
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, S(14));
    th_gate(t, TH_GDT, 15, SEL_TSS2 | 4, 0, GATE_TASK(0), 0); /* TSS selector in the LDT */
    in = far_insn(IR_JMP_FAR, S(15));
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_TSS2 | 4);
    /* TSS descriptor DPL 0 from CPL 3 */
    t->cpu.cpl = 3;
    th_seg(t, IR_CS, SEL_CODE3);
    th_seg(t, IR_SS, SEL_DATA3);
    in = far_insn(IR_JMP_FAR, SEL_TSS2 | 3);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_TSS2);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS);
    assert_int_equal(desc_type_byte(t, SEL_TSS2), 0x89);
}

static void test_iret_nt_bad_link(void **state)
{
    struct th *t = *state = th_new(0);
    cpu_set_eflags(&t->cpu, CPU_NT, CPU_NT);
    struct ir_insn iret = th_insn(IR_IRET, 1, 4);
    th_wr16(t, TH_TSS, SEL_TSS2); /* available, not busy */
    TH_EXPECT_EXC(t, th_exec(t, &iret), CPU_TS, SEL_TSS2);
    th_wr16(t, TH_TSS, SEL_TSS2 | 4);
    TH_EXPECT_EXC(t, th_exec(t, &iret), CPU_TS, SEL_TSS2 | 4);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS);
}

static void test_fault_in_new_task(void **state)
{
    struct th *t = *state = th_new(0);
    tss_image(t, TH_TSS2, 0x2, SEL_DATA0, SEL_DATA0); /* CS is a data segment */
    struct ir_insn in = far_insn(IR_JMP_FAR, SEL_TSS2);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_TS, SEL_DATA0);
    /* the switch had committed: the fault belongs to the new task */
    assert_int_equal(t->cpu.tr.sel, SEL_TSS2);
    assert_int_equal(t->cpu.eip, TSS2_EIP);
    tss_image(t, TH_TSS2, 0x2, SEL_CODE0, SEL_DATA0);
    th_gdt(t, 12, 0, 0xFFFFF, ACC_DATA(0) & ~0x80, 0xC);
    th_wr32(t, TH_TSS2 + 0x54, S(12)); /* DS not present */
    th_gdt(t, 9, TH_TSS2, 0x67, ACC_TSS32, 0);
    th_gdt(t, 5, TH_TSS, TH_TSS_LIMIT, 0x8B, 0);
    t->cpu.tr = (struct cpu_seg){SEL_TSS, 0, TH_TSS, TH_TSS_LIMIT, 0x8B};
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_NP, S(12));
    assert_int_equal(t->cpu.seg[IR_DS].sel, S(12));
    assert_int_equal(t->cpu.seg[IR_DS].attr, 0);
}

static void test_exception_through_task_gate(void **state)
{
    struct th *t = *state = th_new(3);
    tss_image(t, TH_TSS2, 0x2, SEL_CODE0, SEL_DATA0);
    th_idt(t, CPU_GP, SEL_TSS2, 0, GATE_TASK(0));
    struct engine_exc x = {CPU_GP, 1, 0, 0, 0x5A};
    assert_int_equal(engine_deliver(&t->e, &x, false), ENG_OK);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS2);
    assert_int_equal(t->cpu.cpl, 0);
    assert_int_equal(t->cpu.r[IR_ESP], TSS2_ESP - 4);
    assert_int_equal(th_rd32(t, TSS2_ESP - 4), 0x5A); /* error code on the new stack */
    assert_true(th_flags(t) & CPU_NT);
    assert_int_equal(th_rd16(t, TH_TSS2), SEL_TSS);
    assert_int_equal(th_rd32(t, TH_TSS + 0x20), TH_CODE); /* the faulting EIP is saved */
}

static void test_task_into_vm86(void **state)
{
    struct th *t = *state = th_new(0);
    tss_image(t, TH_TSS2, 0x2 | CPU_VM, 0x1234, 0x5678);
    struct ir_insn in = far_insn(IR_JMP_FAR, SEL_TSS2);
    /* EIP 0x47000 is beyond the 64 KiB VM86 code segment: #GP(0) in the new task */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS2);
    struct th *t2 = th_new(0);
    th_free(t);
    *state = t = t2;
    tss_image(t, TH_TSS2, 0x2 | CPU_VM, 0x1234, 0x5678);
    th_wr32(t, TH_TSS2 + 0x20, 0x100);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.eip, 0x100);
    assert_true(t->cpu.eflags & CPU_VM);
    assert_int_equal(t->cpu.cpl, 3);
    assert_int_equal(t->cpu.seg[IR_CS].base, 0x12340);
    assert_int_equal(t->cpu.seg[IR_DS].base, 0x56780);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_jmp_to_tss, th_teardown),
        cmocka_unit_test_teardown(test_call_task_gate_and_iret_back, th_teardown),
        cmocka_unit_test_teardown(test_task_switch_checks, th_teardown),
        cmocka_unit_test_teardown(test_iret_nt_bad_link, th_teardown),
        cmocka_unit_test_teardown(test_fault_in_new_task, th_teardown),
        cmocka_unit_test_teardown(test_exception_through_task_gate, th_teardown),
        cmocka_unit_test_teardown(test_task_into_vm86, th_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
