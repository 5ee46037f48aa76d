/*
 * test_sys_far.c - far JMP/CALL/RETF through code segments and call gates (privilege change,
 * parameter copy, TSS stack), IRET in real, protected (same and outer level) and VM86 modes,
 * SYSENTER/SYSEXIT, and the small control instructions of exec_sys.c (INT family, CLI/STI,
 * HLT, BOUND, MOV Sreg, LDS..LSS).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/sys/sys_harness.h"
#include "vcpu/sys.h"

#define S(idx) ((uint16_t)((idx) * 8))

static struct ir_insn far_insn(unsigned op, uint16_t sel, uint32_t off, unsigned osize)
{
    struct ir_insn in = th_insn(op, 7, osize);
    in.imm = off;
    in.imm2 = sel;
    return in;
}

static void push32(struct th *t, uint32_t v)
{
    t->cpu.r[IR_ESP] -= 4;
    th_wr32(t, t->cpu.seg[IR_SS].base + t->cpu.r[IR_ESP], v);
}

static uint32_t stack32(struct th *t, unsigned slot)
{
    return th_rd32(t, t->cpu.seg[IR_SS].base + t->cpu.r[IR_ESP] + 4 * slot);
}

/* ---- direct far JMP/CALL ------------------------------------------------------------------ */

static void test_jmp_far_direct(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn in = far_insn(IR_JMP_FAR, SEL_CODE0, 0x45678, 4);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.eip, 0x45678);
    assert_int_equal(t->cpu.seg[IR_CS].sel, SEL_CODE0);
    /* into a 16-bit code segment: D bit clear afterwards */
    in = far_insn(IR_JMP_FAR, SEL_CODE16, 0x1234, 4);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_false(t->cpu.seg[IR_CS].attr & SA_DB);
    assert_int_equal(t->cpu.eip, 0x1234);
}

static void test_jmp_far_checks(void **state)
{
    struct th *t = *state = th_new(0);
    th_gdt(t, 12, 0, 0xFFF, ACC_CODE(0) & ~0x80, 0x4); /* not present */
    th_gdt(t, 13, 0, 0xFFF, ACC_CODE(0), 0x4);         /* limit 0xFFF */
    th_gdt(t, 14, 0, 0xFFFFF, 0x9E, 0xC);              /* conforming DPL 0 */
    uint32_t eip = t->cpu.eip;
    struct ir_insn in = far_insn(IR_JMP_FAR, 0, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    in = far_insn(IR_JMP_FAR, SEL_CODE3, 0, 4); /* DPL 3 != CPL 0 */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_CODE3 & ~3);
    in = far_insn(IR_JMP_FAR, SEL_CODE0 | 3, 0, 4); /* RPL 3 > CPL 0 */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_CODE0);
    in = far_insn(IR_JMP_FAR, S(12), 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_NP, S(12));
    in = far_insn(IR_JMP_FAR, S(13), 0x1000, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    in = far_insn(IR_JMP_FAR, SEL_DATA0, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_DATA0);
    in = far_insn(IR_JMP_FAR, SEL_LDT, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_LDT);
    in = far_insn(IR_JMP_FAR, 0x400, 0, 4); /* beyond the GDT limit */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0x400);
    assert_int_equal(t->cpu.eip, eip);
    assert_int_equal(t->cpu.seg[IR_CS].sel, SEL_CODE0);
    /* conforming code of DPL <= CPL: CPL stays, RPL becomes CPL */
    t->cpu.cpl = 3;
    th_seg(t, IR_CS, SEL_CODE3);
    in = far_insn(IR_JMP_FAR, S(14), 0x100, 4);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cpl, 3);
    assert_int_equal(t->cpu.seg[IR_CS].sel, S(14) | 3);
}

static void test_call_far_direct(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn in = far_insn(IR_CALL_FAR, SEL_CODE0, 0x50000, 4);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 8);
    assert_int_equal(stack32(t, 0), TH_CODE + 7);
    assert_int_equal(stack32(t, 1), SEL_CODE0);
    assert_int_equal(t->cpu.eip, 0x50000);
    /* 16-bit operand size pushes words */
    in = far_insn(IR_CALL_FAR, SEL_CODE0, 0x1234, 2);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 12);
    assert_int_equal(th_rd16(t, TH_STACK0 - 12), 0x0007);
    assert_int_equal(th_rd16(t, TH_STACK0 - 10), SEL_CODE0);
    /* no room on the stack: #SS(0), nothing changed */
    th_gdt(t, 12, TH_STACK0 - 0x100, 0x3, ACC_DATA(0), 0x4);
    th_seg(t, IR_SS, S(12));
    t->cpu.r[IR_ESP] = 4;
    uint32_t eip = t->cpu.eip;
    in = far_insn(IR_CALL_FAR, SEL_CODE0, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_SS, 0);
    assert_int_equal(t->cpu.r[IR_ESP], 4);
    assert_int_equal(t->cpu.eip, eip);
}

static void test_far_indirect(void **state)
{
    struct th *t = *state = th_new(0);
    th_wr32(t, 0x60000, 0x48000);
    th_wr16(t, 0x60004, SEL_CODE0);
    struct ir_insn in = th_insn_mem(IR_JMP_FAR_IND, 4, IR_DS, 0x60000);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.eip, 0x48000);
    th_wr16(t, 0x60010, 0x1111);
    th_wr16(t, 0x60012, SEL_CODE0);
    in = th_insn_mem(IR_CALL_FAR_IND, 2, IR_DS, 0x60010);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.eip, 0x1111);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 4);
}

/* ---- call gates ---------------------------------------------------------------------------- */

static void test_call_gate_inner_with_params(void **state)
{
    struct th *t = *state = th_new(3);
    th_gate(t, TH_GDT, 12, SEL_CODE0, 0x41000, GATE_CALL32(3), 2);
    push32(t, 0xBBBB0001); /* parameter 1 (pushed first) */
    push32(t, 0xAAAA0000); /* parameter 0 */
    uint32_t esp3 = t->cpu.r[IR_ESP];
    th_seg(t, IR_FS, SEL_DATA3);
    struct ir_insn in = far_insn(IR_CALL_FAR, S(12) | 3, 0xDEAD, 4);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cpl, 0);
    assert_int_equal(t->cpu.seg[IR_CS].sel, SEL_CODE0);
    assert_int_equal(t->cpu.seg[IR_SS].sel, SEL_DATA0);
    assert_int_equal(t->cpu.eip, 0x41000); /* the gate's offset, not the instruction's */
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 24);
    assert_int_equal(stack32(t, 0), TH_CODE + 7);
    assert_int_equal(stack32(t, 1), SEL_CODE3);
    assert_int_equal(stack32(t, 2), 0xAAAA0000);
    assert_int_equal(stack32(t, 3), 0xBBBB0001);
    assert_int_equal(stack32(t, 4), esp3);
    assert_int_equal(stack32(t, 5), SEL_DATA3);

    /* return to ring 3 releasing the parameters; DS loaded with a ring-0 selector is nulled */
    th_seg(t, IR_DS, SEL_DATA0);
    struct ir_insn ret = th_insn(IR_RETF, 3, 4);
    ret.imm = 8;
    assert_int_equal(th_exec(t, &ret), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cpl, 3);
    assert_int_equal(t->cpu.seg[IR_CS].sel, SEL_CODE3);
    assert_int_equal(t->cpu.seg[IR_SS].sel, SEL_DATA3);
    assert_int_equal(t->cpu.r[IR_ESP], esp3 + 8);
    assert_int_equal(t->cpu.eip, TH_CODE + 7);
    assert_int_equal(t->cpu.seg[IR_DS].sel, 0);
    assert_false(t->cpu.seg[IR_DS].attr & SA_P);
    assert_int_equal(t->cpu.seg[IR_FS].sel, SEL_DATA3);
    assert_true(t->cpu.seg[IR_FS].attr & SA_P);
}

static void test_call_gate16_inner(void **state)
{
    struct th *t = *state = th_new(3);
    th_gate(t, TH_GDT, 12, SEL_CODE0, 0x12345678, GATE_CALL16(3), 1);
    push32(t, 0x5555);
    uint32_t esp3 = t->cpu.r[IR_ESP];
    struct ir_insn in = far_insn(IR_CALL_FAR, S(12) | 3, 0, 4);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.eip, 0x5678); /* 16-bit gate: 16-bit offset */
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 10);
    uint32_t sp = TH_STACK0 - 10;
    assert_int_equal(th_rd16(t, sp + 0), (TH_CODE + 7) & 0xFFFF);
    assert_int_equal(th_rd16(t, sp + 2), SEL_CODE3);
    assert_int_equal(th_rd16(t, sp + 4), 0x5555);
    assert_int_equal(th_rd16(t, sp + 6), esp3 & 0xFFFF);
    assert_int_equal(th_rd16(t, sp + 8), SEL_DATA3);
}

static void test_call_gate_same_level_and_jmp(void **state)
{
    struct th *t = *state = th_new(0);
    th_gate(t, TH_GDT, 12, SEL_CODE0, 0x42000, GATE_CALL32(0), 3);
    struct ir_insn in = far_insn(IR_CALL_FAR, S(12), 0, 4);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 8); /* no stack switch, no parameters */
    assert_int_equal(t->cpu.eip, 0x42000);
    in = far_insn(IR_JMP_FAR, S(12), 0, 4);
    t->cpu.eip = TH_CODE;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.eip, 0x42000);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 8);
    /* JMP through a gate to a more privileged non-conforming segment is refused */
    t->cpu.cpl = 3;
    th_seg(t, IR_CS, SEL_CODE3);
    th_seg(t, IR_SS, SEL_DATA3);
    th_gate(t, TH_GDT, 13, SEL_CODE0, 0x42000, GATE_CALL32(3), 0);
    in = far_insn(IR_JMP_FAR, S(13) | 3, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_CODE0);
}

static void test_call_gate_checks(void **state)
{
    struct th *t = *state = th_new(3);
    th_gate(t, TH_GDT, 12, SEL_CODE0, 0x41000, GATE_CALL32(0), 0); /* DPL 0 */
    th_gate(t, TH_GDT, 13, SEL_CODE0, 0x41000, GATE_CALL32(3) & ~0x80, 0);
    th_gate(t, TH_GDT, 14, SEL_DATA0, 0x41000, GATE_CALL32(3), 0);
    th_gate(t, TH_GDT, 15, 0, 0x41000, GATE_CALL32(3), 0);
    th_gdt(t, 16, 0, 0xFFFFF, ACC_CODE(0) & ~0x80, 0xC);
    th_gate(t, TH_GDT, 17, S(16), 0x41000, GATE_CALL32(3), 0);
    th_gate(t, TH_GDT, 18, SEL_CODE0, 0x41000, GATE_CALL32(2), 0);
    th_gdt(t, 19, 0, 0xFFF, ACC_CODE(0), 0x4);
    th_gate(t, TH_GDT, 20, S(19), 0x1000, GATE_CALL32(3), 0);
    struct ir_insn in;
    in = far_insn(IR_CALL_FAR, S(12) | 3, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, S(12));
    in = far_insn(IR_CALL_FAR, S(13) | 3, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_NP, S(13));
    in = far_insn(IR_CALL_FAR, S(14) | 3, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_DATA0);
    in = far_insn(IR_CALL_FAR, S(15) | 3, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    in = far_insn(IR_CALL_FAR, S(17) | 3, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_NP, S(16));
    /* gate DPL 2 with CPL 3: #GP */
    in = far_insn(IR_CALL_FAR, S(18) | 3, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, S(18));
    /* gate offset beyond the target limit */
    in = far_insn(IR_CALL_FAR, S(20) | 3, 0, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    assert_int_equal(t->cpu.cpl, 3);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK3);
}

static void test_call_gate_bad_tss_stack(void **state)
{
    struct th *t = *state = th_new(3);
    th_gate(t, TH_GDT, 12, SEL_CODE0, 0x41000, GATE_CALL32(3), 0);
    struct ir_insn in = far_insn(IR_CALL_FAR, S(12) | 3, 0, 4);
    th_wr32(t, TH_TSS + 8, SEL_DATA3); /* SS0 with RPL/DPL 3 */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_TS, SEL_DATA3 & ~3);
    th_wr32(t, TH_TSS + 8, 0);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_TS, 0);
    th_wr32(t, TH_TSS + 8, SEL_CODE0 & ~3);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_TS, SEL_CODE0);
    th_gdt(t, 13, 0, 0xFFFFF, ACC_DATA(0) & ~0x80, 0xC);
    th_wr32(t, TH_TSS + 8, S(13));
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_SS, S(13));
    /* a TSS too short to hold SS0:ESP0 */
    th_wr32(t, TH_TSS + 8, SEL_DATA0);
    t->cpu.tr.limit = 8;
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_TS, SEL_TSS);
    t->cpu.tr.limit = TH_TSS_LIMIT;
    /* a new stack without room for the frame: #SS(new SS) */
    th_gdt(t, 14, 0x20000, 0xF, ACC_DATA(0), 0x4);
    th_wr32(t, TH_TSS + 8, S(14));
    th_wr32(t, TH_TSS + 4, 0x8);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_SS, S(14));
    assert_int_equal(t->cpu.cpl, 3);
    th_wr32(t, TH_TSS + 4, 0x10);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.r[IR_ESP], 0);
}

/* ---- RETF ------------------------------------------------------------------------------- */

static void test_retf_checks(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn ret = th_insn(IR_RETF, 1, 4);
    push32(t, SEL_CODE0); /* RPL 0 < CPL 3 */
    push32(t, 0x1000);
    TH_EXPECT_EXC(t, th_exec(t, &ret), CPU_GP, SEL_CODE0);
    t->cpu.r[IR_ESP] = TH_STACK3;
    push32(t, 0);
    push32(t, 0x1000);
    TH_EXPECT_EXC(t, th_exec(t, &ret), CPU_GP, 0);
    /* same level, offset beyond the limit */
    th_gdt(t, 12, 0, 0xFFF, ACC_CODE(3), 0x4);
    t->cpu.r[IR_ESP] = TH_STACK3;
    push32(t, S(12) | 3);
    push32(t, 0x1000);
    TH_EXPECT_EXC(t, th_exec(t, &ret), CPU_GP, 0);
    /* a frame running past the SS limit */
    th_gdt(t, 13, 0, 0xFFF, ACC_DATA(3), 0x4);
    th_seg(t, IR_SS, S(13) | 3);
    t->cpu.r[IR_ESP] = 0xFFC;
    TH_EXPECT_EXC(t, th_exec(t, &ret), CPU_SS, 0);
}

static void test_retf_outer_bad_ss(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn ret = th_insn(IR_RETF, 1, 4);
    push32(t, SEL_DATA0 | 3); /* SS RPL 3 but DPL 0 */
    push32(t, 0x2F000);
    push32(t, SEL_CODE3);
    push32(t, 0x1000);
    TH_EXPECT_EXC(t, th_exec(t, &ret), CPU_GP, SEL_DATA0);
    th_wr32(t, TH_STACK0 - 4, SEL_DATA1); /* RPL 1 != 3 */
    TH_EXPECT_EXC(t, th_exec(t, &ret), CPU_GP, SEL_DATA1 & ~3);
    th_wr32(t, TH_STACK0 - 4, 0);
    TH_EXPECT_EXC(t, th_exec(t, &ret), CPU_GP, 0);
    th_wr32(t, TH_STACK0 - 4, SEL_DATA3);
    assert_int_equal(th_exec(t, &ret), ENG_END_BLOCK);
    assert_int_equal(t->cpu.r[IR_ESP], 0x2F000);
    assert_int_equal(t->cpu.cpl, 3);
}

/* ---- IRET ------------------------------------------------------------------------------- */

static void test_iret_same_level_flag_rules(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn iret = th_insn(IR_IRET, 1, 4);
    /* CPL 3, IOPL 0: IF and IOPL in the image are ignored, CF/AC are taken */
    push32(t, CPU_CF | CPU_IF | CPU_IOPL | CPU_AC | 0x2);
    push32(t, SEL_CODE3);
    push32(t, 0x1234);
    assert_int_equal(th_exec(t, &iret), ENG_END_BLOCK);
    uint32_t f = th_flags(t);
    assert_true(f & CPU_CF);
    assert_true(f & CPU_AC);
    assert_false(f & CPU_IF);
    assert_int_equal(f & CPU_IOPL, 0);
    assert_int_equal(t->cpu.eip, 0x1234);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK3);
    /* CPL 0: IOPL and IF are taken; VM in the image with 16-bit operand size is not */
    struct th *t0 = th_new(0);
    th_free(t);
    *state = t = t0;
    push32(t, 0);
    t->cpu.r[IR_ESP] += 2; /* 16-bit frame: FLAGS CS IP */
    t->cpu.r[IR_ESP] -= 6;
    th_wr16(t, t->cpu.r[IR_ESP] + 0, 0x5678);
    th_wr16(t, t->cpu.r[IR_ESP] + 2, SEL_CODE0);
    th_wr16(t, t->cpu.r[IR_ESP] + 4, (uint16_t)(CPU_IF | CPU_IOPL | CPU_ZF));
    uint32_t esp = t->cpu.r[IR_ESP];
    iret = th_insn(IR_IRET, 2, 2);
    assert_int_equal(th_exec(t, &iret), ENG_END_BLOCK);
    f = th_flags(t);
    assert_int_equal(f & (CPU_IF | CPU_IOPL | CPU_ZF), CPU_IF | CPU_IOPL | CPU_ZF);
    assert_int_equal(t->cpu.eip, 0x5678);
    assert_int_equal(t->cpu.r[IR_ESP], esp + 6);
}

static void test_iret_to_outer_level(void **state)
{
    struct th *t = *state = th_new(0);
    th_seg(t, IR_ES, SEL_DATA0);
    th_seg(t, IR_GS, SEL_DATA3);
    push32(t, SEL_DATA3);
    push32(t, 0x2FF00);
    push32(t, CPU_IF | 0x2);
    push32(t, SEL_CODE3);
    push32(t, 0x8000);
    struct ir_insn iret = th_insn(IR_IRET, 1, 4);
    assert_int_equal(th_exec(t, &iret), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cpl, 3);
    assert_int_equal(t->cpu.seg[IR_CS].sel, SEL_CODE3);
    assert_int_equal(t->cpu.seg[IR_SS].sel, SEL_DATA3);
    assert_int_equal(t->cpu.r[IR_ESP], 0x2FF00);
    assert_int_equal(t->cpu.eip, 0x8000);
    assert_true(th_flags(t) & CPU_IF);
    assert_int_equal(t->cpu.seg[IR_ES].sel, 0); /* DPL 0 data nulled */
    assert_int_equal(t->cpu.seg[IR_ES].attr, 0);
    assert_int_equal(t->cpu.seg[IR_GS].sel, SEL_DATA3);
    /* an outer-level SS that is not present gives #SS(selector) */
    struct th *t2 = th_new(0);
    th_free(t);
    *state = t = t2;
    th_gdt(t, 12, 0, 0xFFFFF, ACC_DATA(3) & ~0x80, 0xC);
    push32(t, S(12) | 3);
    push32(t, 0x2FF00);
    push32(t, 0x2);
    push32(t, SEL_CODE3);
    push32(t, 0x8000);
    TH_EXPECT_EXC(t, th_exec(t, &iret), CPU_SS, S(12));
    assert_int_equal(t->cpu.cpl, 0);
}

static void test_iret_real_mode(void **state)
{
    struct th *t = *state = th_new_real();
    uint32_t sp = 0x8000 - 6;
    th_wr16(t, sp, 0x0100);
    th_wr16(t, sp + 2, 0x2000);
    th_wr16(t, sp + 4, (uint16_t)(CPU_IF | CPU_CF | CPU_NT | CPU_IOPL));
    t->cpu.r[IR_ESP] = sp;
    struct ir_insn iret = th_insn(IR_IRET, 1, 2);
    assert_int_equal(th_exec(t, &iret), ENG_END_BLOCK);
    assert_int_equal(t->cpu.seg[IR_CS].base, 0x20000);
    assert_int_equal(t->cpu.eip, 0x100);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);
    assert_int_equal(th_flags(t) & (CPU_IF | CPU_CF | CPU_NT | CPU_IOPL),
                     CPU_IF | CPU_CF | CPU_NT | CPU_IOPL);
}

static void test_iret_to_vm86_and_back(void **state)
{
    struct th *t = *state = th_new(0);
    push32(t, 0x9000); /* GS */
    push32(t, 0x8000); /* FS */
    push32(t, 0x7000); /* DS */
    push32(t, 0x6000); /* ES */
    push32(t, 0x5000); /* SS */
    push32(t, 0x0FFE); /* ESP */
    push32(t, CPU_VM | CPU_IF | 0x2);
    push32(t, 0x4000); /* CS */
    push32(t, 0x0010); /* EIP */
    struct ir_insn iret = th_insn(IR_IRET, 1, 4);
    assert_int_equal(th_exec(t, &iret), ENG_END_BLOCK);
    assert_true(t->cpu.eflags & CPU_VM);
    assert_int_equal(t->cpu.cpl, 3);
    assert_int_equal(t->cpu.seg[IR_CS].base, 0x40000);
    assert_int_equal(t->cpu.seg[IR_SS].base, 0x50000);
    assert_int_equal(t->cpu.seg[IR_GS].base, 0x90000);
    assert_int_equal(t->cpu.r[IR_ESP], 0x0FFE);
    assert_int_equal(t->cpu.eip, 0x10);
    /* IOPL 0 in VM86: IRET, INT n, CLI are #GP(0) */
    TH_EXPECT_EXC(t, th_exec(t, &iret), CPU_GP, 0);
    struct ir_insn intn = th_insn(IR_INT, 2, 2);
    intn.imm = 0x21;
    TH_EXPECT_EXC(t, th_exec(t, &intn), CPU_GP, 0);
    struct ir_insn cli = th_insn(IR_CLI, 1, 2);
    TH_EXPECT_EXC(t, th_exec(t, &cli), CPU_GP, 0);
    /* an interrupt leaves VM86 through a ring-0 interrupt gate, saving the data segments */
    th_idt(t, 0x20, SEL_CODE0, 0x44000, GATE_INT32(0));
    struct engine_exc x = {0x20, 0, 0, 0, 0};
    assert_int_equal(engine_deliver(&t->e, &x, true), ENG_OK);
    assert_false(t->cpu.eflags & CPU_VM);
    assert_int_equal(t->cpu.cpl, 0);
    assert_int_equal(t->cpu.eip, 0x44000);
    assert_int_equal(t->cpu.r[IR_ESP], TH_STACK0 - 36);
    assert_int_equal(stack32(t, 0), 0x10);
    assert_int_equal(stack32(t, 1), 0x4000);
    assert_true(stack32(t, 2) & CPU_VM);
    assert_int_equal(stack32(t, 3), 0x0FFE);
    assert_int_equal(stack32(t, 4), 0x5000);
    assert_int_equal(stack32(t, 5), 0x6000);
    assert_int_equal(stack32(t, 6), 0x7000);
    assert_int_equal(stack32(t, 7), 0x8000);
    assert_int_equal(stack32(t, 8), 0x9000);
    assert_int_equal(t->cpu.seg[IR_DS].sel, 0);
    assert_int_equal(t->cpu.seg[IR_GS].sel, 0);
    /* and IRET goes back */
    assert_int_equal(th_exec(t, &iret), ENG_END_BLOCK);
    assert_true(t->cpu.eflags & CPU_VM);
    assert_int_equal(t->cpu.seg[IR_DS].base, 0x70000);
}

/* ---- real-mode far transfers ------------------------------------------------------------ */

static void test_real_mode_far(void **state)
{
    struct th *t = *state = th_new_real();
    struct ir_insn in = far_insn(IR_CALL_FAR, 0x3000, 0x0200, 2);
    in.len = 5;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.seg[IR_CS].base, 0x30000);
    assert_int_equal(t->cpu.eip, 0x200);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000 - 4);
    assert_int_equal(th_rd16(t, 0x8000 - 4), 5);
    assert_int_equal(th_rd16(t, 0x8000 - 2), 0x1000);
    struct ir_insn ret = th_insn(IR_RETF, 1, 2);
    assert_int_equal(th_exec(t, &ret), ENG_END_BLOCK);
    assert_int_equal(t->cpu.seg[IR_CS].sel, 0x1000);
    assert_int_equal(t->cpu.eip, 5);
    assert_int_equal(t->cpu.r[IR_ESP], 0x8000);
    /* a 32-bit offset beyond the 64 KiB real-mode limit */
    in = far_insn(IR_JMP_FAR, 0x3000, 0x10000, 4);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
}

/* ---- SYSENTER / SYSEXIT ---------------------------------------------------------------- */

static void test_sysenter_sysexit(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn se = th_insn(IR_SYSENTER, 2, 4), sx = th_insn(IR_SYSEXIT, 2, 4);
    TH_EXPECT_EXC(t, th_exec(t, &se), CPU_GP, 0); /* SYSENTER_CS = 0 */
    t->cpu.sysenter_cs = 0x60;
    t->cpu.sysenter_esp = 0x1F000;
    t->cpu.sysenter_eip = 0xC0001000u;
    t->cpu.eflags |= CPU_IF;
    assert_int_equal(th_exec(t, &se), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cpl, 0);
    assert_int_equal(t->cpu.seg[IR_CS].sel, 0x60);
    assert_int_equal(t->cpu.seg[IR_SS].sel, 0x68);
    assert_int_equal(t->cpu.seg[IR_CS].limit, 0xFFFFFFFFu);
    assert_int_equal(t->cpu.seg[IR_CS].attr, 0xC09B);
    assert_int_equal(t->cpu.seg[IR_SS].attr, 0xC093);
    assert_int_equal(t->cpu.r[IR_ESP], 0x1F000);
    assert_int_equal(t->cpu.eip, 0xC0001000u);
    assert_false(t->cpu.eflags & CPU_IF);
    t->cpu.r[IR_ECX] = 0xBFFF0000u;
    t->cpu.r[IR_EDX] = 0x08048000u;
    assert_int_equal(th_exec(t, &sx), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cpl, 3);
    assert_int_equal(t->cpu.seg[IR_CS].sel, 0x73);
    assert_int_equal(t->cpu.seg[IR_SS].sel, 0x7B);
    assert_int_equal(t->cpu.seg[IR_CS].attr, 0xC0FB);
    assert_int_equal(t->cpu.seg[IR_SS].attr, 0xC0F3);
    assert_int_equal(t->cpu.r[IR_ESP], 0xBFFF0000u);
    assert_int_equal(t->cpu.eip, 0x08048000u);
    /* SYSEXIT at CPL 3, and SYSENTER in real mode, are #GP(0) */
    TH_EXPECT_EXC(t, th_exec(t, &sx), CPU_GP, 0);
    struct th *r = th_new_real();
    th_free(t);
    *state = t = r;
    t->cpu.sysenter_cs = 0x60;
    TH_EXPECT_EXC(t, th_exec(t, &se), CPU_GP, 0);
}

/* ---- INT family, CLI/STI, HLT, BOUND, segment loads ------------------------------------- */

static void test_soft_interrupts(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn in = th_insn(IR_INT, 2, 4);
    in.imm = 0x80;
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, 0x80);
    assert_int_equal(t->e.exc.soft, 1);
    assert_int_equal(t->e.exc.insn_len, 2);
    assert_int_equal(t->e.exc.has_error, 0);
    assert_int_equal(t->cpu.eip, TH_CODE + 2);
    in = th_insn(IR_INT3, 1, 4);
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_BP);
    assert_int_equal(t->cpu.eip, TH_CODE + 3);
    in = th_insn(IR_INT1, 1, 4);
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_DB);
    assert_int_equal(t->e.exc.soft, 2);
    in = th_insn(IR_INTO, 1, 4);
    assert_int_equal(th_exec(t, &in), ENG_OK); /* OF clear: nothing */
    assert_int_equal(t->cpu.eip, TH_CODE + 5);
    cpu_set_eflags(&t->cpu, CPU_OF, CPU_OF);
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_OF_VEC);
    assert_int_equal(t->cpu.eip, TH_CODE + 6);
}

static void test_cli_sti_iopl(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn cli = th_insn(IR_CLI, 1, 4), sti = th_insn(IR_STI, 1, 4);
    TH_EXPECT_EXC(t, th_exec(t, &cli), CPU_GP, 0);
    TH_EXPECT_EXC(t, th_exec(t, &sti), CPU_GP, 0);
    t->cpu.eflags |= CPU_IOPL;
    assert_int_equal(th_exec(t, &sti), ENG_END_BLOCK);
    assert_true(t->cpu.eflags & CPU_IF);
    assert_int_equal(t->cpu.inhibit_irq, 1);
    /* the next instruction ends the shadow; STI with IF already set opens none */
    assert_int_equal(th_exec(t, &sti), ENG_END_BLOCK);
    assert_int_equal(t->cpu.inhibit_irq, 0);
    assert_int_equal(th_exec(t, &cli), ENG_OK);
    assert_false(t->cpu.eflags & CPU_IF);
    /* CPL 1 with IOPL 1 may, CPL 2 may not */
    t->cpu.eflags = (t->cpu.eflags & ~CPU_IOPL) | 0x1000;
    t->cpu.cpl = 1;
    assert_int_equal(th_exec(t, &sti), ENG_END_BLOCK);
    t->cpu.cpl = 2;
    TH_EXPECT_EXC(t, th_exec(t, &cli), CPU_GP, 0);
}

static void test_hlt(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn hlt = th_insn(IR_HLT, 1, 4);
    TH_EXPECT_EXC(t, th_exec(t, &hlt), CPU_GP, 0);
    assert_int_equal(t->cpu.halted, 0);
    t->cpu.cpl = 0;
    assert_int_equal(th_exec(t, &hlt), ENG_HALT);
    assert_int_equal(t->cpu.halted, 1);
    assert_int_equal(t->cpu.eip, TH_CODE + 1);
}

static void test_bound(void **state)
{
    struct th *t = *state = th_new(0);
    th_wr32(t, 0x60000, (uint32_t)-5);
    th_wr32(t, 0x60004, 10);
    struct ir_insn in = th_insn_mem(IR_BOUND, 4, IR_DS, 0x60000);
    in.opd[1] = in.opd[0];
    in.opd[0] = (struct ir_operand){IR_OPK_REG, 4, IR_EBX, 0};
    t->cpu.r[IR_EBX] = (uint32_t)-5;
    assert_int_equal(th_exec(t, &in), ENG_OK);
    t->cpu.r[IR_EBX] = 11;
    uint32_t eip = t->cpu.eip;
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_BR);
    assert_int_equal(t->e.exc.soft, 0);
    assert_int_equal(t->cpu.eip, eip); /* a fault */
}

static void test_lfp_and_mov_from_sreg(void **state)
{
    struct th *t = *state = th_new(0);
    th_wr32(t, 0x60000, 0xCAFEBABE);
    th_wr16(t, 0x60004, SEL_DATA0);
    struct ir_insn in = th_insn_mem(IR_LFP, 4, IR_DS, 0x60000);
    in.opd[1] = in.opd[0];
    in.opd[0] = (struct ir_operand){IR_OPK_REG, 4, IR_ESI, 0};
    in.opd[2] = (struct ir_operand){IR_OPK_SREG, 2, IR_SS, 0};
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.r[IR_ESI], 0xCAFEBABE);
    assert_int_equal(t->cpu.inhibit_irq, 1);
    /* a faulting segment load leaves the register alone */
    th_wr16(t, 0x60004, SEL_CODE0);
    t->cpu.r[IR_ESI] = 0;
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, SEL_CODE0);
    assert_int_equal(t->cpu.r[IR_ESI], 0);
    /* MOV r32, Sreg zero-extends */
    struct ir_insn mv = th_insn(IR_MOV_FROM_SREG, 2, 4);
    mv.opd[0] = (struct ir_operand){IR_OPK_REG, 4, IR_EAX, 0};
    mv.opd[1] = (struct ir_operand){IR_OPK_SREG, 2, IR_CS, 0};
    t->cpu.r[IR_EAX] = 0xFFFFFFFFu;
    assert_int_equal(th_exec(t, &mv), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], SEL_CODE0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_jmp_far_direct, th_teardown),
        cmocka_unit_test_teardown(test_jmp_far_checks, th_teardown),
        cmocka_unit_test_teardown(test_call_far_direct, th_teardown),
        cmocka_unit_test_teardown(test_far_indirect, th_teardown),
        cmocka_unit_test_teardown(test_call_gate_inner_with_params, th_teardown),
        cmocka_unit_test_teardown(test_call_gate16_inner, th_teardown),
        cmocka_unit_test_teardown(test_call_gate_same_level_and_jmp, th_teardown),
        cmocka_unit_test_teardown(test_call_gate_checks, th_teardown),
        cmocka_unit_test_teardown(test_call_gate_bad_tss_stack, th_teardown),
        cmocka_unit_test_teardown(test_retf_checks, th_teardown),
        cmocka_unit_test_teardown(test_retf_outer_bad_ss, th_teardown),
        cmocka_unit_test_teardown(test_iret_same_level_flag_rules, th_teardown),
        cmocka_unit_test_teardown(test_iret_to_outer_level, th_teardown),
        cmocka_unit_test_teardown(test_iret_real_mode, th_teardown),
        cmocka_unit_test_teardown(test_iret_to_vm86_and_back, th_teardown),
        cmocka_unit_test_teardown(test_real_mode_far, th_teardown),
        cmocka_unit_test_teardown(test_sysenter_sysexit, th_teardown),
        cmocka_unit_test_teardown(test_soft_interrupts, th_teardown),
        cmocka_unit_test_teardown(test_cli_sti_iopl, th_teardown),
        cmocka_unit_test_teardown(test_hlt, th_teardown),
        cmocka_unit_test_teardown(test_bound, th_teardown),
        cmocka_unit_test_teardown(test_lfp_and_mov_from_sreg, th_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
