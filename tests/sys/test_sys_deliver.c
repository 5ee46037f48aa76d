/*
 * test_sys_deliver.c - engine_deliver (vcpu/deliver.c): real-mode IVT delivery, protected-mode
 * interrupt/trap gates at the same and an inner level, 16-bit gates, gate and target checks with
 * IDT/EXT error codes, software-interrupt DPL checks, and the #DF / triple-fault rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/sys/sys_harness.h"
#include "vcpu/sys.h"

#define S(idx) ((uint16_t)((idx) * 8))
#define HANDLER(v) (0x44000u + (v) * 0x10u)
#define TSS2_ESP 0x1F000u

static uint32_t stack32(struct th *t, unsigned slot)
{
    return th_rd32(t, t->cpu.seg[IR_SS].base + t->cpu.r[IR_ESP] + 4 * slot);
}

static int deliver(struct th *t, unsigned vec, bool has_err, uint32_t err, bool external)
{
    struct engine_exc x = {(uint8_t)vec, has_err, 0, 0, err};
    return engine_deliver(&t->e, &x, external);
}

/* A TSS2 whose task handles faults with a good ring-0 stack, reached through a task gate. */
static void task_gate_to_tss2(struct th *t, unsigned vec)
{
    th_wr32(t, TH_TSS2 + 0x20, 0x47000);
    th_wr32(t, TH_TSS2 + 0x24, 0x2);
    th_wr32(t, TH_TSS2 + 0x38, TSS2_ESP);
    for (unsigned i = 0; i < 6; i++)
        th_wr32(t, TH_TSS2 + 0x48 + 4 * i, SEL_DATA0);
    th_wr32(t, TH_TSS2 + 0x4C, SEL_CODE0);
    th_idt(t, vec, SEL_TSS2, 0, GATE_TASK(0));
}

static void test_real_mode_ivt(void **state)
{
    struct th *t = *state = th_new_real();
    th_wr16(t, 0x10 * 4, 0x0300);
    th_wr16(t, 0x10 * 4 + 2, 0x2000);
    t->cpu.eflags |= CPU_IF | CPU_TF;
    struct ir_insn in = th_insn(IR_INT, 2, 2);
    in.imm = 0x10;
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(th_deliver(t), ENG_OK);
    assert_int_equal(t->cpu.seg[IR_CS].sel, 0x2000);
    assert_int_equal(t->cpu.seg[IR_CS].base, 0x20000);
    assert_int_equal(t->cpu.eip, 0x300);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000 - 6);
    assert_int_equal(th_rd16(t, 0x8000 - 6), 2); /* IP after INT */
    assert_int_equal(th_rd16(t, 0x8000 - 4), 0x1000);
    assert_true(th_rd16(t, 0x8000 - 2) & CPU_IF);
    assert_false(t->cpu.eflags & (CPU_IF | CPU_TF));
}

static void test_real_mode_ivt_limit(void **state)
{
    struct th *t = *state = th_new_real();
    t->cpu.idtr.limit = 0x3F; /* vectors 0..15 */
    th_wr16(t, CPU_GP * 4, 0x0400);
    th_wr16(t, CPU_GP * 4 + 2, 0x3000);
    /* vector 0x10 is beyond the limit: #GP, delivered through vector 13 at the faulting IP */
    assert_int_equal(deliver(t, 0x10, false, 0, true), ENG_OK);
    assert_int_equal(t->cpu.seg[IR_CS].sel, 0x3000);
    assert_int_equal(t->cpu.eip, 0x400);
    /* with no IVT at all: #GP, #DF, then shutdown */
    t->cpu.idtr.limit = 0;
    assert_int_equal(deliver(t, CPU_UD, false, 0, false), ENG_TRIPLE);
}

static void test_same_level_interrupt_gate(void **state)
{
    struct th *t = *state = th_new(0);
    th_idt(t, CPU_GP, SEL_CODE0, HANDLER(CPU_GP), GATE_INT32(0));
    t->cpu.eflags |= CPU_IF | CPU_TF | CPU_NT;
    assert_int_equal(deliver(t, CPU_GP, true, 0x1234, false), ENG_OK);
    assert_int_equal(t->cpu.eip, HANDLER(CPU_GP));
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 16);
    assert_int_equal(stack32(t, 0), 0x1234);
    assert_int_equal(stack32(t, 1), TH_CODE);
    assert_int_equal(stack32(t, 2), SEL_CODE0);
    assert_true(stack32(t, 3) & CPU_IF);
    assert_false(t->cpu.eflags & (CPU_IF | CPU_TF | CPU_NT));
}

static void test_trap_gate_keeps_if(void **state)
{
    struct th *t = *state = th_new(0);
    th_idt(t, 0x30, SEL_CODE0, HANDLER(0x30), GATE_TRAP32(0));
    t->cpu.eflags |= CPU_IF;
    assert_int_equal(deliver(t, 0x30, false, 0, true), ENG_OK);
    assert_true(t->cpu.eflags & CPU_IF);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 12);
}

static void test_inner_level_stack_switch(void **state)
{
    struct th *t = *state = th_new(3);
    th_idt(t, CPU_PF_VEC, SEL_CODE0, HANDLER(14), GATE_INT32(0));
    th_seg(t, IR_DS, SEL_DATA3);
    t->cpu.r[IR_ESP] = 0x2FFF0;
    assert_int_equal(deliver(t, CPU_PF_VEC, true, 0x7, false), ENG_OK);
    assert_int_equal(t->cpu.cpl, 0);
    assert_int_equal(t->cpu.seg[IR_SS].sel, SEL_DATA0);
    assert_int_equal(t->cpu.seg[IR_CS].sel, SEL_CODE0);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 24);
    assert_int_equal(stack32(t, 0), 7);
    assert_int_equal(stack32(t, 1), TH_CODE);
    assert_int_equal(stack32(t, 2), SEL_CODE3);
    assert_int_equal(stack32(t, 4), 0x2FFF0);
    assert_int_equal(stack32(t, 5), SEL_DATA3);
    /* data segments are left alone on the way in */
    assert_int_equal(t->cpu.seg[IR_DS].sel, SEL_DATA3);
    /* ring 1 through a DPL 1 code segment uses SS1:ESP1 */
    struct th *t2 = th_new(3);
    th_free(t);
    *state = t = t2;
    th_idt(t, 0x40, SEL_CODE1, HANDLER(0x40), GATE_INT32(3));
    assert_int_equal(deliver(t, 0x40, false, 0, true), ENG_OK);
    assert_int_equal(t->cpu.cpl, 1);
    assert_int_equal(t->cpu.seg[IR_SS].sel, SEL_DATA1);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK1 - 20);
}

static void test_gate16(void **state)
{
    struct th *t = *state = th_new(0);
    th_idt(t, 0x41, SEL_CODE0, 0xABCD1234, GATE_INT16(0));
    t->cpu.eip = 0x12345;
    assert_int_equal(deliver(t, 0x41, false, 0, true), ENG_OK);
    assert_int_equal(t->cpu.eip, 0x1234);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 6);
    assert_int_equal(th_rd16(t, TH_STACK0 - 6), 0x2345);
    assert_int_equal(th_rd16(t, TH_STACK0 - 4), SEL_CODE0);
}

static void test_soft_int_dpl(void **state)
{
    struct th *t = *state = th_new(3);
    th_idt(t, 0x80, SEL_CODE0, HANDLER(0x80), GATE_INT32(0)); /* DPL 0 */
    th_idt(t, CPU_GP, SEL_CODE0, HANDLER(CPU_GP), GATE_INT32(0));
    struct ir_insn in = th_insn(IR_INT, 2, 4);
    in.imm = 0x80;
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(th_deliver(t), ENG_OK);
    assert_int_equal(t->cpu.eip, HANDLER(CPU_GP));
    assert_int_equal(stack32(t, 0), 0x80 * 8 + 2); /* no EXT for INT n */
    assert_int_equal(stack32(t, 1), TH_CODE);      /* reported at the INT instruction */
    /* with DPL 3 the same INT goes through, EIP after the instruction */
    struct th *t2 = th_new(3);
    th_free(t);
    *state = t = t2;
    th_idt(t, 0x80, SEL_CODE0, HANDLER(0x80), GATE_TRAP32(3));
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(th_deliver(t), ENG_OK);
    assert_int_equal(t->cpu.eip, HANDLER(0x80));
    assert_int_equal(stack32(t, 0), TH_CODE + 2);
    /* INT1 (ICEBP) skips the DPL check; INT3 does not */
    th_idt(t, CPU_DB, SEL_CODE0, HANDLER(1), GATE_INT32(0));
    th_idt(t, CPU_BP, SEL_CODE0, HANDLER(3), GATE_INT32(0));
    th_idt(t, CPU_GP, SEL_CODE0, HANDLER(CPU_GP), GATE_INT32(0));
    struct th *t3 = th_new(3);
    memcpy(t3->ram + TH_IDT, t->ram + TH_IDT, 256 * 8);
    th_free(t);
    *state = t = t3;
    in = th_insn(IR_INT1, 1, 4);
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(th_deliver(t), ENG_OK);
    assert_int_equal(t->cpu.eip, HANDLER(1));
    struct th *t4 = th_new(3);
    memcpy(t4->ram + TH_IDT, t->ram + TH_IDT, 256 * 8);
    th_free(t);
    *state = t = t4;
    in = th_insn(IR_INT3, 1, 4);
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(th_deliver(t), ENG_OK);
    assert_int_equal(t->cpu.eip, HANDLER(CPU_GP));
    assert_int_equal(stack32(t, 0), CPU_BP * 8 + 2);
}

/* The IDT error codes for gate problems, with EXT for external events; observed through a
 * #GP/#NP handler reached through a task gate (so the error code is on TSS2's stack). */
static void expect_nested(struct th *t, unsigned vec, bool external, unsigned want_vec,
                          uint32_t want_err)
{
    assert_int_equal(deliver(t, vec, false, 0, external), ENG_OK);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS2);
    assert_int_equal(th_rd32(t, TSS2_ESP - 4), want_err);
    (void)want_vec;
}

static void test_gate_checks_error_codes(void **state)
{
    struct th *t = *state = th_new(0);
    task_gate_to_tss2(t, CPU_GP);
    t->cpu.idtr.limit = 0x50 * 8 - 1;
    expect_nested(t, 0x60, true, CPU_GP, 0x60 * 8 + 2 + 1); /* beyond the IDT limit */

    struct th *t2 = th_new(0);
    th_free(t);
    *state = t = t2;
    task_gate_to_tss2(t, CPU_GP);
    th_gdt(t, 12, 0, 0xFFFFF, ACC_DATA(0), 0xC);
    th_wr32(t, TH_IDT + 0x42 * 8, 0);
    th_wr32(t, TH_IDT + 0x42 * 8 + 4, 0x9200); /* a data descriptor in the IDT */
    expect_nested(t, 0x42, true, CPU_GP, 0x42 * 8 + 3);

    t2 = th_new(0);
    th_free(t);
    *state = t = t2;
    task_gate_to_tss2(t, CPU_GP);
    th_idt(t, 0x43, 0, HANDLER(0x43), GATE_INT32(0)); /* null target selector */
    expect_nested(t, 0x43, true, CPU_GP, 1);

    t2 = th_new(0);
    th_free(t);
    *state = t = t2;
    task_gate_to_tss2(t, CPU_GP);
    th_idt(t, 0x44, SEL_CODE3, HANDLER(0x44), GATE_INT32(0)); /* DPL 3 code from CPL 0 */
    expect_nested(t, 0x44, true, CPU_GP, (SEL_CODE3 & ~3) | 1);

    t2 = th_new(0);
    th_free(t);
    *state = t = t2;
    task_gate_to_tss2(t, CPU_GP);
    th_idt(t, 0x45, SEL_DATA0, HANDLER(0x45), GATE_INT32(0)); /* target not code */
    expect_nested(t, 0x45, false, CPU_GP, SEL_DATA0 | 1);
}

static void test_not_present_gate_and_target(void **state)
{
    struct th *t = *state = th_new(0);
    task_gate_to_tss2(t, CPU_NP);
    th_idt(t, 0x50, SEL_CODE0, HANDLER(0x50), GATE_INT32(0) & ~0x80);
    expect_nested(t, 0x50, true, CPU_NP, 0x50 * 8 + 3);

    struct th *t2 = th_new(0);
    th_free(t);
    *state = t = t2;
    task_gate_to_tss2(t, CPU_NP);
    th_gdt(t, 12, 0, 0xFFFFF, ACC_CODE(0) & ~0x80, 0xC);
    th_idt(t, 0x51, S(12), HANDLER(0x51), GATE_INT32(0));
    expect_nested(t, 0x51, true, CPU_NP, S(12) | 1);
}

static void test_bad_tss_stack_is_ts(void **state)
{
    struct th *t = *state = th_new(3);
    task_gate_to_tss2(t, CPU_TS);
    th_idt(t, 0x52, SEL_CODE0, HANDLER(0x52), GATE_INT32(0));
    th_wr32(t, TH_TSS + 8, SEL_DATA3);
    expect_nested(t, 0x52, true, CPU_TS, (SEL_DATA3 & ~3) | 1);
}

static void test_double_fault(void **state)
{
    struct th *t = *state = th_new(0);
    /* #GP gate not present: #NP while delivering #GP is contributory twice -> #DF */
    th_idt(t, CPU_GP, SEL_CODE0, HANDLER(CPU_GP), GATE_INT32(0) & ~0x80);
    th_idt(t, CPU_NP, SEL_CODE0, HANDLER(CPU_NP), GATE_INT32(0));
    th_idt(t, CPU_DF_VEC, SEL_CODE0, HANDLER(8), GATE_INT32(0));
    assert_int_equal(deliver(t, CPU_GP, true, 0, false), ENG_OK);
    assert_int_equal(t->cpu.eip, HANDLER(8));
    assert_int_equal(stack32(t, 0), 0); /* #DF error code */
    assert_int_equal(stack32(t, 1), TH_CODE);
    /* no #DF handler either: shutdown */
    struct th *t2 = th_new(0);
    th_free(t);
    *state = t = t2;
    th_idt(t, CPU_GP, SEL_CODE0, HANDLER(CPU_GP), GATE_INT32(0) & ~0x80);
    assert_int_equal(deliver(t, CPU_GP, true, 0, false), ENG_TRIPLE);
}

static void test_benign_then_contributory(void **state)
{
    struct th *t = *state = th_new(0);
    /* #UD's gate not present: the #NP is delivered as such (benign first), not #DF */
    th_idt(t, CPU_UD, SEL_CODE0, HANDLER(6), GATE_INT32(0) & ~0x80);
    th_idt(t, CPU_NP, SEL_CODE0, HANDLER(CPU_NP), GATE_INT32(0));
    assert_int_equal(deliver(t, CPU_UD, false, 0, false), ENG_OK);
    assert_int_equal(t->cpu.eip, HANDLER(CPU_NP));
    assert_int_equal(stack32(t, 0), CPU_UD * 8 + 3);
    /* an external interrupt is benign too */
    th_idt(t, 0x70, SEL_CODE0, HANDLER(0x70), GATE_INT32(0) & ~0x80);
    assert_int_equal(deliver(t, 0x70, false, 0, true), ENG_OK);
    assert_int_equal(t->cpu.eip, HANDLER(CPU_NP));
}

/* Identity-map 0..4 MiB with 4 KiB pages, leaving `hole` not present; paging on. */
static void paging_with_hole(struct th *t, uint32_t hole)
{
    const uint32_t pd = 0x100000, pt = 0x101000;
    th_wr32(t, pd, pt | 0x7);
    for (uint32_t i = 0; i < 1024; i++)
        th_wr32(t, pt + 4 * i, (i * 4096) | ((i * 4096 == hole) ? 0 : 0x7));
    t->cpu.cr3 = pd;
    t->cpu.cr0 |= CPU_CR0_PG;
    th_wr32(t, TH_TSS2 + 0x1C, pd); /* the handler task's CR3 */
}

static void test_page_fault_classes(void **state)
{
    /* #PF while delivering #PF: #DF (here handled by a task with a good stack) */
    struct th *t = *state = th_new(0);
    paging_with_hole(t, TH_STACK0 - 4096);
    th_idt(t, CPU_PF_VEC, SEL_CODE0, HANDLER(14), GATE_INT32(0));
    task_gate_to_tss2(t, CPU_DF_VEC);
    assert_int_equal(deliver(t, CPU_PF_VEC, true, 2, false), ENG_OK);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS2);
    assert_int_equal(th_rd32(t, TSS2_ESP - 4), 0);
    assert_int_equal(t->cpu.cr2, TH_STACK0 - 4);

    /* #PF while delivering #GP (contributory then page fault): the #PF is delivered */
    struct th *t2 = th_new(0);
    th_free(t);
    *state = t = t2;
    paging_with_hole(t, TH_STACK0 - 4096);
    th_idt(t, CPU_GP, SEL_CODE0, HANDLER(CPU_GP), GATE_INT32(0));
    task_gate_to_tss2(t, CPU_PF_VEC);
    assert_int_equal(deliver(t, CPU_GP, true, 0, false), ENG_OK);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS2);
    assert_int_equal(th_rd32(t, TSS2_ESP - 4), 0x2); /* supervisor write, not present */

    /* #PF during #DF delivery: shutdown */
    struct th *t3 = th_new(0);
    th_free(t);
    *state = t = t3;
    paging_with_hole(t, TH_STACK0 - 4096);
    th_idt(t, CPU_PF_VEC, SEL_CODE0, HANDLER(14), GATE_INT32(0));
    th_idt(t, CPU_DF_VEC, SEL_CODE0, HANDLER(8), GATE_INT32(0));
    assert_int_equal(deliver(t, CPU_PF_VEC, true, 2, false), ENG_TRIPLE);
}

static void test_vm86_needs_ring0_handler(void **state)
{
    struct th *t = *state = th_new(0);
    t->cpu.eflags |= CPU_VM;
    t->cpu.cpl = 3;
    for (unsigned s = 0; s < IR_NSREG; s++)
        seg_load_vm86(&t->cpu.seg[s], 0x100);
    t->cpu.eip = 0x10;
    task_gate_to_tss2(t, CPU_GP);
    th_idt(t, 0x60, SEL_CODE1, HANDLER(0x60), GATE_INT32(3));
    expect_nested(t, 0x60, true, CPU_GP, (SEL_CODE1 & ~3u) | 1);
}

static void test_halt_cleared(void **state)
{
    struct th *t = *state = th_new(0);
    th_idt(t, 0x20, SEL_CODE0, HANDLER(0x20), GATE_INT32(0));
    t->cpu.halted = 1;
    assert_int_equal(deliver(t, 0x20, false, 0, true), ENG_OK);
    assert_int_equal(t->cpu.halted, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_real_mode_ivt, th_teardown),
        cmocka_unit_test_teardown(test_real_mode_ivt_limit, th_teardown),
        cmocka_unit_test_teardown(test_same_level_interrupt_gate, th_teardown),
        cmocka_unit_test_teardown(test_trap_gate_keeps_if, th_teardown),
        cmocka_unit_test_teardown(test_inner_level_stack_switch, th_teardown),
        cmocka_unit_test_teardown(test_gate16, th_teardown),
        cmocka_unit_test_teardown(test_soft_int_dpl, th_teardown),
        cmocka_unit_test_teardown(test_gate_checks_error_codes, th_teardown),
        cmocka_unit_test_teardown(test_not_present_gate_and_target, th_teardown),
        cmocka_unit_test_teardown(test_bad_tss_stack_is_ts, th_teardown),
        cmocka_unit_test_teardown(test_double_fault, th_teardown),
        cmocka_unit_test_teardown(test_benign_then_contributory, th_teardown),
        cmocka_unit_test_teardown(test_page_fault_classes, th_teardown),
        cmocka_unit_test_teardown(test_vm86_needs_ring0_handler, th_teardown),
        cmocka_unit_test_teardown(test_halt_cleared, th_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
