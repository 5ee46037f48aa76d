/*
 * test_sys_ctl.c - control registers, debug registers, MSRs, CPUID, RDTSC/RDPMC (exec_ctl.c,
 * cpuid.c) and the descriptor-table / segment-inspection instructions (exec_desc.c), with their
 * privilege and mode checks.
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

static struct ir_insn mov_cr(bool to, unsigned cr, unsigned gpr)
{
    struct ir_insn in = th_insn(to ? IR_MOV_TO_CR : IR_MOV_FROM_CR, 3, 4);
    struct ir_operand c = {IR_OPK_CREG, 4, (uint8_t)cr, 0}, g = {IR_OPK_REG, 4, (uint8_t)gpr, 0};
    in.opd[0] = to ? c : g;
    in.opd[1] = to ? g : c;
    return in;
}

static struct ir_insn mov_dr(bool to, unsigned dr, unsigned gpr)
{
    struct ir_insn in = th_insn(to ? IR_MOV_TO_DR : IR_MOV_FROM_DR, 3, 4);
    struct ir_operand d = {IR_OPK_DREG, 4, (uint8_t)dr, 0}, g = {IR_OPK_REG, 4, (uint8_t)gpr, 0};
    in.opd[0] = to ? d : g;
    in.opd[1] = to ? g : d;
    return in;
}

static struct ir_insn r16(unsigned op, unsigned reg)
{
    struct ir_insn in = th_insn(op, 3, 4);
    in.opd[0] = (struct ir_operand){IR_OPK_REG, 2, (uint8_t)reg, 0};
    return in;
}

static void test_cr0_rules(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn in = mov_cr(true, 0, IR_EAX);
    t->cpu.r[IR_EAX] = CPU_CR0_PG; /* PG without PE */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    t->cpu.r[IR_EAX] = CPU_CR0_PE | CPU_CR0_NW; /* NW without CD */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    /* reserved bits are ignored (SDM 2.5), ET reads as 1 */
    t->cpu.r[IR_EAX] = CPU_CR0_PE | CPU_CR0_WP | 0x00000F00u | 0x10000000u;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cr0, CPU_CR0_PE | CPU_CR0_WP | CPU_CR0_ET);
    t->cpu.r[IR_EAX] = CPU_CR0_PE | CPU_CR0_CD | CPU_CR0_NW;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    in = mov_cr(false, 0, IR_EBX);
    assert_int_equal(th_exec(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EBX], CPU_CR0_PE | CPU_CR0_CD | CPU_CR0_NW | CPU_CR0_ET);
}

static void test_cr234(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn in = mov_cr(true, 4, IR_EAX);
    t->cpu.r[IR_EAX] = CPU_CR4_VME; /* not advertised */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    t->cpu.r[IR_EAX] = 0x20; /* PAE */
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    t->cpu.r[IR_EAX] = 0x100; /* PCE exists on every P6 (no CPUID flag): accepted */
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cr4, 0x100);
    t->cpu.r[IR_EAX] = CPU_CR4_PSE | CPU_CR4_PGE | CPU_CR4_TSD | CPU_CR4_DE;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cr4, CPU_CR4_PSE | CPU_CR4_PGE | CPU_CR4_TSD | CPU_CR4_DE);
    in = mov_cr(true, 3, IR_EAX);
    t->cpu.r[IR_EAX] = 0x12345FFF;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.cr3, 0x12345FFF); /* ignored bits read back as written */
    in = mov_cr(true, 2, IR_EAX);
    t->cpu.r[IR_EAX] = 0xDEADBEEF;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    in = mov_cr(false, 2, IR_ECX);
    assert_int_equal(th_exec(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 0xDEADBEEF);
    in = mov_cr(true, 1, IR_EAX);
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_UD);
    in = mov_cr(false, 5, IR_EAX);
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_UD);
}

static void test_privileged_at_cpl3(void **state)
{
    struct th *t = *state = th_new(3);
    static const unsigned ops[] = {IR_CLTS, IR_INVD, IR_WBINVD, IR_RDMSR, IR_WRMSR, IR_HLT};
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        struct ir_insn in = th_insn(ops[i], 2, 4);
        TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    }
    struct ir_insn in = mov_cr(false, 0, IR_EAX);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    in = mov_dr(true, 7, IR_EAX);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    in = th_insn_mem(IR_LGDT, 4, IR_DS, 0x60000);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    in = th_insn_mem(IR_INVLPG, 4, IR_DS, 0x60000);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    in = r16(IR_LMSW, IR_EAX);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    in = r16(IR_LTR, IR_EAX);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
    /* SGDT, SMSW and CPUID are not privileged on this model */
    in = th_insn_mem(IR_SGDT, 4, IR_DS, 0x60000);
    assert_int_equal(th_exec(t, &in), ENG_OK);
    in = th_insn(IR_CPUID, 2, 4);
    assert_int_equal(th_exec(t, &in), ENG_OK);
    /* VM86 counts as CPL 3 */
    t->cpu.eflags |= CPU_VM;
    in = th_insn(IR_CLTS, 2, 2);
    TH_EXPECT_EXC(t, th_exec(t, &in), CPU_GP, 0);
}

static void test_pmode_only_ud(void **state)
{
    struct th *t = *state = th_new_real();
    static const unsigned ops[] = {IR_LLDT, IR_SLDT, IR_LTR, IR_STR, IR_VERR, IR_VERW};
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        struct ir_insn in = r16(ops[i], IR_EAX);
        assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
        assert_int_equal(t->e.exc.vector, CPU_UD);
    }
    struct ir_insn in = r16(IR_ARPL, IR_EAX);
    in.opd[1] = (struct ir_operand){IR_OPK_REG, 2, IR_EBX, 0};
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_UD);
    /* real mode may use the CPL-0 instructions */
    in = th_insn(IR_CLTS, 2, 2);
    t->cpu.cr0 |= CPU_CR0_TS;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_false(t->cpu.cr0 & CPU_CR0_TS);
}

static void test_debug_registers(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn in = mov_dr(true, 4, IR_EAX);
    t->cpu.r[IR_EAX] = 0;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK); /* DR4 = DR6 */
    assert_int_equal(t->cpu.dr[6], 0xFFFF0FF0u);
    in = mov_dr(true, 5, IR_EAX);
    t->cpu.r[IR_EAX] = 0xFFFFFFFFu;
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK); /* DR5 = DR7 */
    assert_int_equal(t->cpu.dr[7], 0xFFFFFFFFu & ~0xD800u);
    t->cpu.cr4 |= CPU_CR4_DE;
    in = mov_dr(false, 4, IR_EAX);
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_UD);
    /* DR7.GD: the next DR access is #DB with DR6.BD, and GD is cleared */
    in = mov_dr(false, 0, IR_EAX);
    uint32_t eip = t->cpu.eip;
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_DB);
    assert_true(t->cpu.dr[6] & 0x2000);
    assert_false(t->cpu.dr[7] & 0x2000);
    assert_int_equal(t->cpu.eip, eip);
    t->cpu.dr[0] = 0x1234;
    assert_int_equal(th_exec(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0x1234);
}

static int msr(struct th *t, bool write, uint32_t idx, uint64_t *v)
{
    struct ir_insn in = th_insn(write ? IR_WRMSR : IR_RDMSR, 2, 4);
    t->cpu.r[IR_ECX] = idx;
    if (write) {
        t->cpu.r[IR_EAX] = (uint32_t)*v;
        t->cpu.r[IR_EDX] = (uint32_t)(*v >> 32);
    }
    int rc = th_exec(t, &in);
    if (!write && rc != ENG_EXCEPTION)
        *v = (uint64_t)t->cpu.r[IR_EDX] << 32 | t->cpu.r[IR_EAX];
    return rc;
}

static void test_msrs(void **state)
{
    struct th *t = *state = th_new(0);
    uint64_t v = 0x73;
    assert_int_not_equal(msr(t, true, 0x174, &v), ENG_EXCEPTION);
    v = 0xC0DE0000;
    assert_int_not_equal(msr(t, true, 0x175, &v), ENG_EXCEPTION);
    v = 0xC0DE1111;
    assert_int_not_equal(msr(t, true, 0x176, &v), ENG_EXCEPTION);
    assert_int_equal(t->cpu.sysenter_cs, 0x73);
    assert_int_equal(t->cpu.sysenter_esp, 0xC0DE0000);
    assert_int_equal(t->cpu.sysenter_eip, 0xC0DE1111);
    assert_int_equal(msr(t, false, 0x176, &v), ENG_OK);
    assert_int_equal(v, 0xC0DE1111);
    /* TSC: the write sets the offset (high half cleared on P6), reads follow the host clock */
    t->host_tsc = 1000;
    v = 0x1234500000000ull | 5000;
    assert_int_not_equal(msr(t, true, 0x10, &v), ENG_EXCEPTION);
    t->host_tsc = 1100;
    assert_int_equal(msr(t, false, 0x10, &v), ENG_OK);
    assert_int_equal(v, 5100);
    struct ir_insn rd = th_insn(IR_RDTSC, 2, 4);
    t->host_tsc = 1200;
    assert_int_equal(th_exec(t, &rd), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 5200);
    assert_int_equal(t->cpu.r[IR_EDX], 0);
    /* microcode revision protocol and the read-only platform ID */
    v = 0;
    assert_int_not_equal(msr(t, true, 0x8B, &v), ENG_EXCEPTION);
    assert_int_equal(msr(t, false, 0x8B, &v), ENG_OK);
    assert_int_equal(msr(t, false, 0x17, &v), ENG_OK);
    TH_EXPECT_EXC(t, msr(t, true, 0x17, &v), CPU_GP, 0);
    assert_int_equal(msr(t, false, 0x1A0, &v), ENG_OK);
    assert_int_equal(v, 1);
    /* APIC_BASE: reserved bits are #GP, the BSP flag is read-only */
    assert_int_equal(msr(t, false, 0x1B, &v), ENG_OK);
    assert_int_equal(v, 0xFEE00900u);
    v = 0xFEE00000u;
    assert_int_not_equal(msr(t, true, 0x1B, &v), ENG_EXCEPTION);
    assert_int_equal(t->cpu.apic_base, 0xFEE00100u);
    v = 0xFEE00001u;
    TH_EXPECT_EXC(t, msr(t, true, 0x1B, &v), CPU_GP, 0);
    /* MTRRs and machine-check MSRs are not advertised: #GP like any unknown MSR */
    static const uint32_t absent[] = {0xFE, 0x2FF, 0x179, 0x200, 0x277, 0x3A, 0xC0000080u};
    for (unsigned i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        TH_EXPECT_EXC(t, msr(t, false, absent[i], &v), CPU_GP, 0);
        TH_EXPECT_EXC(t, msr(t, true, absent[i], &v), CPU_GP, 0);
    }
}

static void test_rdtsc_rdpmc(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn rd = th_insn(IR_RDTSC, 2, 4), pmc = th_insn(IR_RDPMC, 2, 4);
    t->host_tsc = 42;
    assert_int_equal(th_exec(t, &rd), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 42);
    t->cpu.cr4 |= CPU_CR4_TSD;
    TH_EXPECT_EXC(t, th_exec(t, &rd), CPU_GP, 0);
    t->cpu.cpl = 0;
    assert_int_equal(th_exec(t, &rd), ENG_OK);
    TH_EXPECT_EXC(t, th_exec(t, &pmc), CPU_GP, 0);
}

static void test_cpuid(void **state)
{
    struct th *t = *state = th_new(3);
    uint32_t o[4];
    cpu_cpuid(&t->cpu, 0, o);
    assert_int_equal(o[0], 2);
    char vendor[13];
    memcpy(vendor, &o[1], 4);
    memcpy(vendor + 4, &o[3], 4);
    memcpy(vendor + 8, &o[2], 4);
    vendor[12] = 0;
    assert_string_equal(vendor, "GenuineIntel");
    cpu_cpuid(&t->cpu, 1, o);
    assert_int_equal((o[0] >> 8) & 0xF, 6);
    assert_int_equal(o[2], 0);
    uint32_t want = 1u << 0 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 8 | 1u << 11 |
                    1u << 13 | 1u << 15;
    assert_int_equal(o[3], want);
    /* off: VME(1) MCE(7) APIC(9) MTRR(12) MCA(14) PAT(16) MMX(23) FXSR(24) SSE(25) */
    assert_int_equal(o[3] & (1u << 1 | 1u << 7 | 1u << 9 | 1u << 12 | 1u << 14 | 1u << 16 |
                             1u << 23 | 1u << 24 | 1u << 25), 0);
    uint32_t l2[4], hi[4], ext[4];
    cpu_cpuid(&t->cpu, 2, l2);
    assert_int_equal(l2[0] & 0xFF, 1);
    cpu_cpuid(&t->cpu, 7, hi);
    assert_memory_equal(hi, l2, sizeof l2);
    cpu_cpuid(&t->cpu, 0x80000000u, ext);
    assert_memory_equal(ext, l2, sizeof l2);
    assert_true(ext[0] < 0x80000001u);
    /* through the instruction */
    struct ir_insn in = th_insn(IR_CPUID, 2, 4);
    t->cpu.r[IR_EAX] = 1;
    assert_int_equal(th_exec(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDX], want);
}

static void test_lgdt_sgdt(void **state)
{
    struct th *t = *state = th_new(0);
    th_wr16(t, 0x60000, 0x1FF);
    th_wr32(t, 0x60002, 0xAB123456);
    struct ir_insn in = th_insn_mem(IR_LIDT, 2, IR_DS, 0x60000);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.idtr.limit, 0x1FF);
    assert_int_equal(t->cpu.idtr.base, 0x00123456); /* 16-bit operand size: 24-bit base */
    in = th_insn_mem(IR_LIDT, 4, IR_DS, 0x60000);
    assert_int_equal(th_exec(t, &in), ENG_END_BLOCK);
    assert_int_equal(t->cpu.idtr.base, 0xAB123456);
    in = th_insn_mem(IR_SIDT, 2, IR_DS, 0x60010);
    assert_int_equal(th_exec(t, &in), ENG_OK);
    assert_int_equal(th_rd16(t, 0x60010), 0x1FF);
    assert_int_equal(th_rd32(t, 0x60012), 0x00123456);
    in = th_insn_mem(IR_SGDT, 4, IR_DS, 0x60020);
    assert_int_equal(th_exec(t, &in), ENG_OK);
    assert_int_equal(th_rd16(t, 0x60020), 64 * 8 - 1);
    assert_int_equal(th_rd32(t, 0x60022), TH_GDT);
    /* a register operand is #UD */
    in = r16(IR_SGDT, IR_EAX);
    assert_int_equal(th_exec(t, &in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, CPU_UD);
}

static void test_lldt_ltr(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn lldt = r16(IR_LLDT, IR_EAX), ltr = r16(IR_LTR, IR_EAX);
    t->cpu.r[IR_EAX] = 0;
    assert_int_equal(th_exec(t, &lldt), ENG_END_BLOCK);
    assert_int_equal(t->cpu.ldtr.attr, 0);
    t->cpu.r[IR_EAX] = SEL_DATA0;
    TH_EXPECT_EXC(t, th_exec(t, &lldt), CPU_GP, SEL_DATA0);
    t->cpu.r[IR_EAX] = SEL_LDT | 4;
    TH_EXPECT_EXC(t, th_exec(t, &lldt), CPU_GP, SEL_LDT | 4);
    th_gdt(t, 12, TH_LDT, 0xFF, ACC_LDT & ~0x80, 0);
    t->cpu.r[IR_EAX] = S(12);
    TH_EXPECT_EXC(t, th_exec(t, &lldt), CPU_NP, S(12));
    t->cpu.r[IR_EAX] = SEL_LDT;
    assert_int_equal(th_exec(t, &lldt), ENG_END_BLOCK);
    assert_int_equal(t->cpu.ldtr.base, TH_LDT);
    /* LTR: null, busy and non-TSS are #GP; success marks the descriptor busy */
    t->cpu.r[IR_EAX] = 0;
    TH_EXPECT_EXC(t, th_exec(t, &ltr), CPU_GP, 0);
    t->cpu.r[IR_EAX] = SEL_TSS;
    TH_EXPECT_EXC(t, th_exec(t, &ltr), CPU_GP, SEL_TSS);
    t->cpu.r[IR_EAX] = SEL_LDT;
    TH_EXPECT_EXC(t, th_exec(t, &ltr), CPU_GP, SEL_LDT);
    th_gdt(t, 13, TH_TSS2, 0x67, ACC_TSS32 & ~0x80, 0);
    t->cpu.r[IR_EAX] = S(13);
    TH_EXPECT_EXC(t, th_exec(t, &ltr), CPU_NP, S(13));
    t->cpu.r[IR_EAX] = SEL_TSS2;
    assert_int_equal(th_exec(t, &ltr), ENG_END_BLOCK);
    assert_int_equal(t->cpu.tr.sel, SEL_TSS2);
    assert_int_equal(th_rd8(t, TH_GDT + SEL_TSS2 + 5), 0x8B);
    /* STR / SLDT */
    struct ir_insn str = r16(IR_STR, IR_EBX);
    str.opd[0].size = 4;
    t->cpu.r[IR_EBX] = 0xFFFFFFFFu;
    assert_int_equal(th_exec(t, &str), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EBX], SEL_TSS2);
    struct ir_insn sldt = th_insn_mem(IR_SLDT, 4, IR_DS, 0x60000);
    th_wr32(t, 0x60000, 0xFFFFFFFFu);
    assert_int_equal(th_exec(t, &sldt), ENG_OK);
    assert_int_equal(th_rd32(t, 0x60000), 0xFFFF0000u | SEL_LDT);
}

static void test_lmsw_smsw_clts(void **state)
{
    struct th *t = *state = th_new(0);
    struct ir_insn lmsw = r16(IR_LMSW, IR_EAX);
    t->cpu.r[IR_EAX] = CPU_CR0_TS | CPU_CR0_MP | 0xFFF0; /* PE clear: cannot leave pmode */
    assert_int_equal(th_exec(t, &lmsw), ENG_END_BLOCK);
    assert_true(t->cpu.cr0 & CPU_CR0_PE);
    assert_true(t->cpu.cr0 & CPU_CR0_TS);
    assert_true(t->cpu.cr0 & CPU_CR0_MP);
    assert_true(t->cpu.cr0 & CPU_CR0_NE); /* bits above 3 untouched */
    struct ir_insn smsw = r16(IR_SMSW, IR_EBX);
    smsw.osize = 2;
    t->cpu.r[IR_EBX] = 0xAAAA0000u;
    assert_int_equal(th_exec(t, &smsw), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EBX], 0xAAAA0000u | (t->cpu.cr0 & 0xFFFF));
    struct ir_insn clts = th_insn(IR_CLTS, 2, 4);
    assert_int_equal(th_exec(t, &clts), ENG_END_BLOCK);
    assert_false(t->cpu.cr0 & CPU_CR0_TS);
    /* real mode: LMSW can set PE */
    struct th *r = th_new_real();
    th_free(t);
    *state = t = r;
    t->cpu.r[IR_EAX] = 1;
    assert_int_equal(th_exec(t, &lmsw), ENG_END_BLOCK);
    assert_true(t->cpu.cr0 & CPU_CR0_PE);
}

static struct ir_insn lar_like(unsigned op, unsigned osize)
{
    struct ir_insn in = th_insn(op, 3, osize);
    in.opd[0] = (struct ir_operand){IR_OPK_REG, (uint8_t)osize, IR_EAX, 0};
    in.opd[1] = (struct ir_operand){IR_OPK_REG, 2, IR_EBX, 0};
    return in;
}

static void test_lar_lsl(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn lar = lar_like(IR_LAR, 4), lsl = lar_like(IR_LSL, 4);
    t->cpu.r[IR_EBX] = SEL_DATA3;
    t->cpu.r[IR_EAX] = 0;
    assert_int_equal(th_exec(t, &lar), ENG_OK);
    assert_true(th_flags(t) & CPU_ZF);
    assert_int_equal(t->cpu.r[IR_EAX], 0x00C0F200u); /* not yet accessed */
    assert_int_equal(th_exec(t, &lsl), ENG_OK);
    assert_true(th_flags(t) & CPU_ZF);
    assert_int_equal(t->cpu.r[IR_EAX], 0xFFFFFFFFu);
    /* DPL 0 from CPL 3: ZF = 0, destination unchanged */
    t->cpu.r[IR_EBX] = SEL_DATA0;
    t->cpu.r[IR_EAX] = 0x55;
    assert_int_equal(th_exec(t, &lar), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    assert_int_equal(t->cpu.r[IR_EAX], 0x55);
    /* null and out-of-table selectors: ZF = 0, no fault */
    t->cpu.r[IR_EBX] = 0;
    assert_int_equal(th_exec(t, &lsl), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    t->cpu.r[IR_EBX] = 0x7FF8 | 3;
    assert_int_equal(th_exec(t, &lar), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    /* a DPL 3 call gate: LAR yes, LSL no; an interrupt gate: neither */
    th_gate(t, TH_GDT, 12, SEL_CODE0, 0, GATE_CALL32(3), 0);
    th_gate(t, TH_GDT, 13, SEL_CODE0, 0, GATE_INT32(3), 0);
    t->cpu.r[IR_EBX] = S(12) | 3;
    assert_int_equal(th_exec(t, &lar), ENG_OK);
    assert_true(th_flags(t) & CPU_ZF);
    assert_int_equal(t->cpu.r[IR_EAX], 0xEC00);
    assert_int_equal(th_exec(t, &lsl), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    t->cpu.r[IR_EBX] = S(13) | 3;
    assert_int_equal(th_exec(t, &lar), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    /* conforming code of any DPL is visible; LSL on a byte-granular limit, 16-bit LAR */
    th_gdt(t, 14, 0, 0x1234, 0x9E, 0x4);
    t->cpu.r[IR_EBX] = S(14) | 3;
    t->cpu.r[IR_EAX] = 0xFFFF0000u;
    assert_int_equal(th_exec(t, &lsl), ENG_OK);
    assert_true(th_flags(t) & CPU_ZF);
    assert_int_equal(t->cpu.r[IR_EAX], 0x1234);
    struct ir_insn lar16 = lar_like(IR_LAR, 2);
    t->cpu.r[IR_EAX] = 0xFFFF0000u;
    assert_int_equal(th_exec(t, &lar16), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xFFFF9E00u);
}

static void test_verr_verw_arpl(void **state)
{
    struct th *t = *state = th_new(3);
    struct ir_insn verr = r16(IR_VERR, IR_EBX), verw = r16(IR_VERW, IR_EBX);
    th_gdt(t, 12, 0, 0xFFFFF, 0xF8, 0xC); /* execute-only code DPL 3 */
    th_gdt(t, 13, 0, 0xFFFFF, 0xF0, 0xC); /* read-only data DPL 3 */
    t->cpu.r[IR_EBX] = SEL_DATA3;
    assert_int_equal(th_exec(t, &verr), ENG_OK);
    assert_true(th_flags(t) & CPU_ZF);
    assert_int_equal(th_exec(t, &verw), ENG_OK);
    assert_true(th_flags(t) & CPU_ZF);
    t->cpu.r[IR_EBX] = SEL_CODE3;
    assert_int_equal(th_exec(t, &verr), ENG_OK);
    assert_true(th_flags(t) & CPU_ZF);
    assert_int_equal(th_exec(t, &verw), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    t->cpu.r[IR_EBX] = S(12) | 3;
    assert_int_equal(th_exec(t, &verr), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    t->cpu.r[IR_EBX] = S(13) | 3;
    assert_int_equal(th_exec(t, &verw), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    t->cpu.r[IR_EBX] = SEL_DATA0;
    assert_int_equal(th_exec(t, &verr), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    t->cpu.r[IR_EBX] = SEL_TSS | 3;
    assert_int_equal(th_exec(t, &verr), ENG_OK);
    assert_false(th_flags(t) & CPU_ZF);
    /* ARPL */
    struct ir_insn arpl = r16(IR_ARPL, IR_EAX);
    arpl.opd[1] = (struct ir_operand){IR_OPK_REG, 2, IR_EBX, 0};
    t->cpu.r[IR_EAX] = 0xABCD0010;
    t->cpu.r[IR_EBX] = 0x0003;
    assert_int_equal(th_exec(t, &arpl), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xABCD0013);
    assert_true(th_flags(t) & CPU_ZF);
    t->cpu.r[IR_EBX] = 0x0001;
    assert_int_equal(th_exec(t, &arpl), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xABCD0013);
    assert_false(th_flags(t) & CPU_ZF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cr0_rules, th_teardown),
        cmocka_unit_test_teardown(test_cr234, th_teardown),
        cmocka_unit_test_teardown(test_privileged_at_cpl3, th_teardown),
        cmocka_unit_test_teardown(test_pmode_only_ud, th_teardown),
        cmocka_unit_test_teardown(test_debug_registers, th_teardown),
        cmocka_unit_test_teardown(test_msrs, th_teardown),
        cmocka_unit_test_teardown(test_rdtsc_rdpmc, th_teardown),
        cmocka_unit_test_teardown(test_cpuid, th_teardown),
        cmocka_unit_test_teardown(test_lgdt_sgdt, th_teardown),
        cmocka_unit_test_teardown(test_lldt_ltr, th_teardown),
        cmocka_unit_test_teardown(test_lmsw_smsw_clts, th_teardown),
        cmocka_unit_test_teardown(test_lar_lsl, th_teardown),
        cmocka_unit_test_teardown(test_verr_verw_arpl, th_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
