/*
 * test_sys_seg.c - segment-register loads and segment-checked accesses (vcpu/seg.c): every
 * protected-mode check of MOV/POP Sreg with its exact vector and error code, the accessed bit,
 * limits (expand-up/down, B bit, G scaling), type checks on access, real-mode and VM86 loads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/sys/sys_harness.h"
#include "vcpu/sys.h"

#define S(idx) ((uint16_t)((idx) * 8))

static int load(struct th *t, unsigned seg, uint16_t sel)
{
    return seg_load(&t->e, seg, sel);
}

static void test_null_data_ok_fault_on_use(void **state)
{
    struct th *t = *state = th_new(0);
    uint8_t b[4];
    assert_int_equal(load(t, IR_DS, 0x0003), 0);
    assert_int_equal(t->cpu.seg[IR_DS].sel, 3);
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_DS, 0x100, b, 4), CPU_GP, 0);
    TH_EXPECT_EXC(t, seg_write(&t->e, IR_DS, 0x100, b, 1), CPU_GP, 0);
    /* ES/FS/GS too */
    assert_int_equal(load(t, IR_GS, 0), 0);
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_GS, 0, b, 1), CPU_GP, 0);
}

static void test_null_ss_gp0(void **state)
{
    struct th *t = *state = th_new(0);
    struct cpu_seg before = t->cpu.seg[IR_SS];
    TH_EXPECT_EXC(t, load(t, IR_SS, 0), CPU_GP, 0);
    TH_EXPECT_EXC(t, load(t, IR_SS, 3), CPU_GP, 0);
    assert_memory_equal(&before, &t->cpu.seg[IR_SS], sizeof before);
}

static void test_ss_checks(void **state)
{
    struct th *t = *state = th_new(0);
    th_gdt(t, 12, 0, 0xFFFFF, ACC_DATA(0) & ~0x02, 0xC); /* read-only data */
    th_gdt(t, 13, 0, 0xFFFFF, ACC_CODE(0), 0xC);
    th_gdt(t, 14, 0, 0xFFFFF, ACC_DATA(0) & ~0x80, 0xC); /* not present */
    th_gdt(t, 15, 0, 0xFFFFF, ACC_DATA(1), 0xC);
    TH_EXPECT_EXC(t, load(t, IR_SS, SEL_DATA0 | 1), CPU_GP, SEL_DATA0); /* RPL != CPL */
    TH_EXPECT_EXC(t, load(t, IR_SS, S(12)), CPU_GP, S(12));
    TH_EXPECT_EXC(t, load(t, IR_SS, S(13)), CPU_GP, S(13));
    TH_EXPECT_EXC(t, load(t, IR_SS, S(14)), CPU_SS, S(14));
    TH_EXPECT_EXC(t, load(t, IR_SS, S(15)), CPU_GP, S(15)); /* DPL != CPL */
    TH_EXPECT_EXC(t, load(t, IR_SS, SEL_TSS), CPU_GP, SEL_TSS); /* system segment */
    assert_int_equal(load(t, IR_SS, SEL_DATA0), 0);
}

static void test_data_checks(void **state)
{
    struct th *t = *state = th_new(3);
    th_gdt(t, 12, 0, 0xFFFFF, 0xF8, 0xC);                /* execute-only code, DPL 3 */
    th_gdt(t, 13, 0x1000, 0xFFF, 0xFA, 0x4);             /* readable code DPL 3 */
    th_gdt(t, 14, 0x2000, 0xFF, 0x9E, 0x4);              /* conforming readable code DPL 0 */
    th_gdt(t, 15, 0, 0xFFFFF, ACC_DATA(3) & ~0x80, 0xC); /* not present */
    th_gdt(t, 16, 0, 0xFFFFF, 0xFC, 0xC);               /* conforming execute-only */
    TH_EXPECT_EXC(t, load(t, IR_DS, SEL_DATA0), CPU_GP, SEL_DATA0); /* DPL 0 < CPL 3 */
    TH_EXPECT_EXC(t, load(t, IR_DS, S(12)), CPU_GP, S(12));
    TH_EXPECT_EXC(t, load(t, IR_DS, S(15) | 3), CPU_NP, S(15));
    TH_EXPECT_EXC(t, load(t, IR_DS, S(16) | 3), CPU_GP, S(16));
    TH_EXPECT_EXC(t, load(t, IR_DS, SEL_TSS | 3), CPU_GP, SEL_TSS);
    TH_EXPECT_EXC(t, load(t, IR_DS, SEL_LDT | 3), CPU_GP, SEL_LDT);
    assert_int_equal(load(t, IR_DS, S(13) | 3), 0);
    assert_int_equal(t->cpu.seg[IR_DS].base, 0x1000);
    /* conforming code is loadable regardless of DPL */
    assert_int_equal(load(t, IR_ES, S(14) | 3), 0);
    assert_int_equal(t->cpu.seg[IR_ES].base, 0x2000);
}

static void test_rpl_above_dpl(void **state)
{
    struct th *t = *state = th_new(0);
    th_gdt(t, 12, 0, 0xFFFFF, ACC_DATA(1), 0xC);
    assert_int_equal(load(t, IR_FS, S(12) | 1), 0);
    TH_EXPECT_EXC(t, load(t, IR_FS, S(12) | 2), CPU_GP, S(12)); /* RPL 2 > DPL 1 */
}

static void test_table_limits_and_ldt(void **state)
{
    struct th *t = *state = th_new(0);
    t->cpu.gdtr.limit = 13 * 8 - 1; /* entries 0..12 */
    th_gdt(t, 12, 0x5000, 0xFFF, ACC_DATA(0), 0x4);
    assert_int_equal(load(t, IR_DS, S(12)), 0);
    TH_EXPECT_EXC(t, load(t, IR_DS, S(13)), CPU_GP, S(13));
    /* a selector whose descriptor straddles the limit */
    t->cpu.gdtr.limit = 13 * 8 + 3;
    TH_EXPECT_EXC(t, load(t, IR_DS, S(13) | 2), CPU_GP, S(13));
    /* LDT selector */
    th_desc(t, TH_LDT, 2, 0x7000, 0xFF, ACC_DATA(0), 0x4);
    assert_int_equal(load(t, IR_ES, 0x14), 0);
    assert_int_equal(t->cpu.seg[IR_ES].base, 0x7000);
    assert_int_equal(t->cpu.seg[IR_ES].limit, 0xFF);
    TH_EXPECT_EXC(t, load(t, IR_ES, 32 * 8 + 4), CPU_GP, 32 * 8 + 4); /* beyond LDT limit */
    /* with a null LDTR every LDT selector is out of limits (LDT entry 0 included) */
    seg_make_null(&t->cpu.ldtr, 0);
    TH_EXPECT_EXC(t, load(t, IR_ES, 0x04), CPU_GP, 0x04);
}

static void test_accessed_bit_written(void **state)
{
    struct th *t = *state = th_new(0);
    th_gdt(t, 12, 0, 0xFFFFF, ACC_DATA(0) & ~1, 0xC);
    assert_int_equal(th_rd8(t, TH_GDT + 12 * 8 + 5) & 1, 0);
    assert_int_equal(load(t, IR_DS, S(12)), 0);
    assert_int_equal(th_rd8(t, TH_GDT + 12 * 8 + 5), ACC_DATA(0) | 1);
    assert_true(t->cpu.seg[IR_DS].attr & SA_ACCESSED);
}

static void test_g_bit_and_base(void **state)
{
    struct th *t = *state = th_new(0);
    th_gdt(t, 12, 0x12345678, 0x00003, ACC_DATA(0), 0x8); /* G: limit 0x3FFF */
    assert_int_equal(load(t, IR_DS, S(12)), 0);
    assert_int_equal(t->cpu.seg[IR_DS].base, 0x12345678);
    assert_int_equal(t->cpu.seg[IR_DS].limit, 0x3FFF);
    assert_int_equal(t->cpu.seg[IR_DS].attr, 0x8093);
}

static void test_expand_up_limits(void **state)
{
    struct th *t = *state = th_new(0);
    uint8_t b[10] = {0};
    th_gdt(t, 12, 0x50000, 0xFF, ACC_DATA(0), 0x4);
    assert_int_equal(load(t, IR_DS, S(12)), 0);
    assert_int_equal(seg_read(&t->e, IR_DS, 0xFC, b, 4), 0);
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_DS, 0xFD, b, 4), CPU_GP, 0);
    TH_EXPECT_EXC(t, seg_write(&t->e, IR_DS, 0x100, b, 1), CPU_GP, 0);
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_DS, 0xF8, b, 10), CPU_GP, 0);
    assert_int_equal(seg_write(&t->e, IR_DS, 0xF6, b, 10), 0);
    /* the stack segment faults with #SS(0) */
    assert_int_equal(load(t, IR_SS, S(12)), 0);
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_SS, 0x100, b, 1), CPU_SS, 0);
    TH_EXPECT_EXC(t, seg_check(&t->e, IR_SS, 0xFF, 2, true), CPU_SS, 0);
    /* a flat segment: an access wrapping past 4 GiB is out of limits */
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_ES, 0xFFFFFFFEu, b, 4), CPU_GP, 0);
}

static void test_expand_down_limits(void **state)
{
    struct th *t = *state = th_new(0);
    uint8_t b[4] = {0};
    th_gdt(t, 12, 0x50000, 0x0FFF, 0x96, 0x0); /* expand-down, B = 0: offsets 0x1000..0xFFFF */
    th_gdt(t, 13, 0x50000, 0x0FFF, 0x96, 0x4); /* expand-down, B = 1: 0x1000..0xFFFFFFFF */
    assert_int_equal(load(t, IR_DS, S(12)), 0);
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_DS, 0xFFF, b, 1), CPU_GP, 0);
    assert_int_equal(seg_read(&t->e, IR_DS, 0x1000, b, 4), 0);
    assert_int_equal(seg_read(&t->e, IR_DS, 0xFFFC, b, 4), 0);
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_DS, 0xFFFD, b, 4), CPU_GP, 0);
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_DS, 0x10000, b, 1), CPU_GP, 0);
    assert_int_equal(load(t, IR_DS, S(13)), 0);
    assert_int_equal(seg_read(&t->e, IR_DS, 0x10000, b, 1), 0);
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_DS, 0x0FFE, b, 4), CPU_GP, 0);
}

static void test_access_type_checks(void **state)
{
    struct th *t = *state = th_new(0);
    uint8_t b[4] = {0};
    th_gdt(t, 12, 0, 0xFFFFF, ACC_DATA(0) & ~0x02, 0xC); /* read-only */
    th_gdt(t, 13, 0, 0xFFFFF, 0x9A, 0xC);                /* readable code */
    assert_int_equal(load(t, IR_DS, S(12)), 0);
    assert_int_equal(seg_read(&t->e, IR_DS, 0, b, 4), 0);
    TH_EXPECT_EXC(t, seg_write(&t->e, IR_DS, 0, b, 4), CPU_GP, 0);
    assert_int_equal(load(t, IR_ES, S(13)), 0);
    assert_int_equal(seg_read(&t->e, IR_ES, 0, b, 4), 0);
    TH_EXPECT_EXC(t, seg_write(&t->e, IR_ES, 0, b, 4), CPU_GP, 0);
    /* execute-only CS cannot be read through a CS override */
    t->cpu.seg[IR_CS].attr &= ~SA_RW;
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_CS, 0, b, 4), CPU_GP, 0);
}

static void test_cs_not_loadable(void **state)
{
    struct th *t = *state = th_new(0);
    assert_int_equal(load(t, IR_CS, SEL_CODE0), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_UD);
}

static void test_real_mode_load(void **state)
{
    struct th *t = *state = th_new_real();
    uint8_t b[4] = {0};
    t->cpu.seg[IR_DS].limit = 0xFFFFFFFFu; /* "unreal" limit cached from protected mode */
    assert_int_equal(load(t, IR_DS, 0x1234), 0);
    assert_int_equal(t->cpu.seg[IR_DS].base, 0x12340);
    assert_int_equal(t->cpu.seg[IR_DS].limit, 0xFFFFFFFFu);
    assert_int_equal(load(t, IR_ES, 0x2000), 0);
    assert_int_equal(t->cpu.seg[IR_ES].limit, 0xFFFF);
    /* a word at offset 0xFFFF crosses the 64 KiB limit: #GP(0); the stack gives #SS(0) */
    TH_EXPECT_EXC(t, seg_read(&t->e, IR_ES, 0xFFFF, b, 2), CPU_GP, 0);
    TH_EXPECT_EXC(t, seg_write(&t->e, IR_SS, 0xFFFF, b, 2), CPU_SS, 0);
    /* real mode does not check types: writes through CS work */
    assert_int_equal(seg_write(&t->e, IR_CS, 0x10, b, 2), 0);
}

static void test_real_mode_reload_after_null(void **state)
{
    struct th *t = *state = th_new(0);
    uint8_t b[2];
    assert_int_equal(load(t, IR_FS, 0), 0);
    t->cpu.cr0 &= ~CPU_CR0_PE;
    assert_int_equal(load(t, IR_FS, 0x100), 0);
    assert_true(t->cpu.seg[IR_FS].attr & SA_P);
    assert_int_equal(seg_read(&t->e, IR_FS, 0, b, 2), 0);
}

static void test_vm86_load(void **state)
{
    struct th *t = *state = th_new(0);
    t->cpu.eflags |= CPU_VM;
    t->cpu.cpl = 3;
    assert_int_equal(load(t, IR_DS, 0xB800), 0);
    assert_int_equal(t->cpu.seg[IR_DS].base, 0xB8000);
    assert_int_equal(t->cpu.seg[IR_DS].limit, 0xFFFF);
    assert_int_equal(t->cpu.seg[IR_DS].attr, SA_VM86_DATA);
}

static void test_fetch_desc_and_from_desc(void **state)
{
    struct th *t = *state = th_new(0);
    uint32_t d[2];
    assert_int_equal(seg_fetch_desc(&t->e, SEL_CODE0, d, CPU_TS), 0);
    assert_int_equal(d[0], 0x0000FFFF);
    assert_int_equal(d[1], 0x00CF9A00);
    TH_EXPECT_EXC(t, seg_fetch_desc(&t->e, 64 * 8 + 3, d, CPU_TS), CPU_TS, 64 * 8);
    struct cpu_seg s;
    seg_from_desc(&s, 0x77, d);
    assert_int_equal(s.sel, 0x77);
    assert_int_equal(s.limit, 0xFFFFFFFFu);
    assert_int_equal(s.attr, 0xC09A);
}

static void test_mov_sreg_through_engine(void **state)
{
    struct th *t = *state = th_new(0);
    th_gdt(t, 12, 0, 0xFFFFF, ACC_DATA(0) & ~0x80, 0xC);
    struct ir_insn in = th_insn(IR_MOV_SREG, 2, 4);
    in.opd[0] = (struct ir_operand){IR_OPK_SREG, 2, IR_SS, 0};
    in.opd[1] = (struct ir_operand){IR_OPK_REG, 2, IR_EAX, 0};
    t->cpu.r[IR_EAX] = S(12);
    uint32_t eip = t->cpu.eip;
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_SS, S(12));
    assert_int_equal(t->cpu.eip, eip);
    t->cpu.r[IR_EAX] = SEL_DATA0;
    assert_int_not_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->cpu.eip, eip + 2);
    assert_int_equal(t->cpu.inhibit_irq, 1); /* MOV SS shadow */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_null_data_ok_fault_on_use, th_teardown),
        cmocka_unit_test_teardown(test_null_ss_gp0, th_teardown),
        cmocka_unit_test_teardown(test_ss_checks, th_teardown),
        cmocka_unit_test_teardown(test_data_checks, th_teardown),
        cmocka_unit_test_teardown(test_rpl_above_dpl, th_teardown),
        cmocka_unit_test_teardown(test_table_limits_and_ldt, th_teardown),
        cmocka_unit_test_teardown(test_accessed_bit_written, th_teardown),
        cmocka_unit_test_teardown(test_g_bit_and_base, th_teardown),
        cmocka_unit_test_teardown(test_expand_up_limits, th_teardown),
        cmocka_unit_test_teardown(test_expand_down_limits, th_teardown),
        cmocka_unit_test_teardown(test_access_type_checks, th_teardown),
        cmocka_unit_test_teardown(test_cs_not_loadable, th_teardown),
        cmocka_unit_test_teardown(test_real_mode_load, th_teardown),
        cmocka_unit_test_teardown(test_real_mode_reload_after_null, th_teardown),
        cmocka_unit_test_teardown(test_vm86_load, th_teardown),
        cmocka_unit_test_teardown(test_fetch_desc_and_from_desc, th_teardown),
        cmocka_unit_test_teardown(test_mov_sreg_through_engine, th_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
