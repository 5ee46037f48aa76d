/*
 * test_string.c - string instructions in the engine: MOVS/CMPS/STOS/LODS/SCAS at each element
 * size, DF, 16- and 32-bit index registers, segment override of the source (never of ES:EDI),
 * REP/REPE/REPNE termination, a fault in the middle of a REP (registers and memory reflect the
 * completed iterations, EIP stays), and the per-call iteration cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/engine/engine_testlib.h"
#include "vcpu/cpu.h"
#include "vcpu/exec.h"

static struct ir_insn str_op(unsigned op, unsigned size, uint8_t prefix)
{
    struct ir_insn in = ir_make(op, size);
    in.len = 2;
    in.prefix = prefix;
    in.mem.base = IR_ESI;
    return in;
}

static void test_movs_single(void **state)
{
    struct tenv *t = *state;
    put32(t, 0x2000, 0x44332211);
    t->cpu.r[IR_ESI] = 0x2000;
    t->cpu.r[IR_EDI] = 0x3000;
    for (unsigned size = 1; size <= 4; size *= 2) {
        struct ir_insn in = str_op(IR_MOVS, size, 0);
        assert_int_equal(run(t, &in), ENG_OK);
    }
    /* 1 + 2 + 4 bytes copied in sequence */
    assert_int_equal(t->cpu.r[IR_ESI], 0x2007);
    assert_int_equal(t->cpu.r[IR_EDI], 0x3007);
    assert_int_equal(getn(t, 0x3000, 3), 0x332211);
    /* DF = 1 walks down */
    t->cpu.eflags |= CPU_DF;
    t->cpu.r[IR_ESI] = 0x2000;
    t->cpu.r[IR_EDI] = 0x3100;
    struct ir_insn in = str_op(IR_MOVS, 4, 0);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESI], 0x1FFC);
    assert_int_equal(t->cpu.r[IR_EDI], 0x30FC);
    assert_int_equal(get32(t, 0x3100), 0x44332211);
    t->cpu.eflags &= ~CPU_DF;
    /* the source segment may be overridden; the destination is always ES */
    t->cpu.seg[IR_FS].base = 0x10000;
    t->cpu.seg[IR_ES].base = 0x20000;
    put32(t, 0x10040, 0xCAFEBABE);
    t->cpu.r[IR_ESI] = 0x40;
    t->cpu.r[IR_EDI] = 0x80;
    in = str_op(IR_MOVS, 4, IR_PF_SEGOV);
    in.mem.seg = IR_FS;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(get32(t, 0x20080), 0xCAFEBABE);
    /* 16-bit index registers wrap and keep their upper halves */
    t->cpu.seg[IR_ES].base = 0;
    t->cpu.r[IR_ESI] = 0x5555FFFF;
    t->cpu.r[IR_EDI] = 0x7777FFFF;
    t->ram[0xFFFF] = 0xA5;
    in = str_op(IR_MOVS, 1, 0);
    in.asize = 2;
    in.mem.seg = IR_DS;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ESI], 0x55550000);
    assert_int_equal(t->cpu.r[IR_EDI], 0x77770000);
}

static void test_rep_stos_lods(void **state)
{
    struct tenv *t = *state;
    /* REP STOSD */
    t->cpu.r[IR_EAX] = 0x01020304;
    t->cpu.r[IR_EDI] = 0x4000;
    t->cpu.r[IR_ECX] = 100;
    struct ir_insn in = str_op(IR_STOS, 4, IR_PF_REP);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 0);
    assert_int_equal(t->cpu.r[IR_EDI], 0x4000 + 400);
    assert_int_equal(t->cpu.eip, 0x1002);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(get32(t, 0x4000 + 4 * i), 0x01020304);
    assert_int_equal(get32(t, 0x4000 + 400), 0);
    /* ECX = 0: nothing happens except EIP */
    t->cpu.r[IR_EDI] = 0x5000;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EDI], 0x5000);
    assert_int_equal(t->cpu.eip, 0x1004);
    /* REPNE acts as REP for STOS; CX only with a 16-bit address size */
    t->cpu.r[IR_ECX] = 0x00010003;
    in = str_op(IR_STOS, 2, IR_PF_REPNE);
    in.asize = 2;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 0x00010000);
    assert_int_equal(t->cpu.r[IR_EDI], 0x5006);
    /* LODSW loads AX and advances SI */
    putn(t, 0x6000, 0xBEEF, 2);
    t->cpu.r[IR_ESI] = 0x6000;
    t->cpu.r[IR_EAX] = 0x12345678;
    in = str_op(IR_LODS, 2, 0);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0x1234BEEF);
    assert_int_equal(t->cpu.r[IR_ESI], 0x6002);
}

static void test_rep_cmps_scas(void **state)
{
    struct tenv *t = *state;
    memcpy(t->ram + 0x2000, "hello, world", 12);
    memcpy(t->ram + 0x3000, "hello, there", 12);
    t->cpu.r[IR_ESI] = 0x2000;
    t->cpu.r[IR_EDI] = 0x3000;
    t->cpu.r[IR_ECX] = 12;
    struct ir_insn in = str_op(IR_CMPS, 1, IR_PF_REP); /* REPE */
    assert_int_equal(run(t, &in), ENG_OK);
    /* stops after comparing 'w' with 't' (the 8th pair) */
    assert_int_equal(t->cpu.r[IR_ECX], 4);
    assert_int_equal(t->cpu.r[IR_ESI], 0x2008);
    assert_int_equal(t->cpu.r[IR_EDI], 0x3008);
    uint32_t f = cpu_get_eflags(&t->cpu);
    assert_false(f & CPU_ZF);
    assert_false(f & CPU_CF); /* 'w' > 't' */
    /* equal strings run to ECX = 0 with ZF set */
    t->cpu.r[IR_ESI] = 0x2000;
    t->cpu.r[IR_EDI] = 0x3000;
    t->cpu.r[IR_ECX] = 7;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 0);
    assert_true(cpu_get_eflags(&t->cpu) & CPU_ZF);

    /* REPNE SCASB as strlen */
    memcpy(t->ram + 0x4000, "abcdef\0", 7);
    t->cpu.r[IR_EDI] = 0x4000;
    t->cpu.r[IR_ECX] = 0xFFFFFFFF;
    t->cpu.r[IR_EAX] = 0;
    in = str_op(IR_SCAS, 1, IR_PF_REPNE);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(~t->cpu.r[IR_ECX] - 1, 6);
    assert_int_equal(t->cpu.r[IR_EDI], 0x4007);
    assert_true(cpu_get_eflags(&t->cpu) & CPU_ZF);
    /* SCASD without REP: flags of EAX - [EDI] */
    put32(t, 0x4100, 5);
    t->cpu.r[IR_EDI] = 0x4100;
    t->cpu.r[IR_EAX] = 3;
    in = str_op(IR_SCAS, 4, 0);
    assert_int_equal(run(t, &in), ENG_OK);
    f = cpu_get_eflags(&t->cpu);
    assert_true(f & CPU_CF);
    assert_true(f & CPU_SF);
    assert_int_equal(t->cpu.r[IR_EDI], 0x4104);
}

/* A REP MOVS that faults part-way reports the state before the faulting iteration. */
static void test_rep_fault_midway(void **state)
{
    struct tenv *t = *state;
    for (unsigned i = 0; i < 64; i++)
        t->ram[0x2000 + i] = (uint8_t)(i + 1);
    t->cpu.seg[IR_ES].limit = 0x300F; /* the fifth dword store (0x3010) is out */
    t->cpu.r[IR_ESI] = 0x2000;
    t->cpu.r[IR_EDI] = 0x3000;
    t->cpu.r[IR_ECX] = 16;
    t->cpu.eip = 0x1000;
    struct ir_insn in = str_op(IR_MOVS, 4, IR_PF_REP);
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_ECX], 12);
    assert_int_equal(t->cpu.r[IR_ESI], 0x2010);
    assert_int_equal(t->cpu.r[IR_EDI], 0x3010);
    assert_int_equal(t->cpu.eip, 0x1000);
    assert_int_equal(memcmp(t->ram + 0x3000, t->ram + 0x2000, 16), 0);
    assert_int_equal(get32(t, 0x3010), 0);
    /* the fault handler fixes the limit and the instruction resumes */
    t->cpu.seg[IR_ES].limit = 0xFFFFFFFF;
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_ECX], 0);
    assert_int_equal(memcmp(t->ram + 0x3000, t->ram + 0x2000, 64), 0);
    assert_int_equal(t->cpu.eip, 0x1002);

    /* a faulting source read in REPE CMPS keeps the flags of the last completed compare */
    memset(t->ram + 0x5000, 7, 8);
    memset(t->ram + 0x6000, 7, 8);
    t->cpu.seg[IR_DS].limit = 0x5003;
    t->cpu.r[IR_ESI] = 0x5000;
    t->cpu.r[IR_EDI] = 0x6000;
    t->cpu.r[IR_ECX] = 8;
    cpu_set_eflags(&t->cpu, CPU_CF, CPU_ARITH_FLAGS);
    in = str_op(IR_CMPS, 1, IR_PF_REP);
    t->cpu.eip = 0x1000;
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->cpu.r[IR_ECX], 4);
    assert_int_equal(t->cpu.r[IR_ESI], 0x5004);
    assert_true(cpu_get_eflags(&t->cpu) & CPU_ZF);
    assert_false(cpu_get_eflags(&t->cpu) & CPU_CF);
}

/* Long REPs yield after ENG_REP_CAP iterations with EIP unchanged, and finish on re-execution. */
static void test_rep_cap(void **state)
{
    struct tenv *t = *state;
    uint32_t n = 3 * ENG_REP_CAP + 5;
    t->cpu.r[IR_EAX] = 0x5A;
    t->cpu.r[IR_EDI] = 0x10000;
    t->cpu.r[IR_ECX] = n;
    t->cpu.eip = 0x1000;
    struct ir_insn in = str_op(IR_STOS, 1, IR_PF_REP);
    unsigned calls = 0;
    while (t->cpu.eip == 0x1000) {
        uint32_t before = t->cpu.r[IR_ECX];
        assert_int_equal(run(t, &in), ENG_OK);
        calls++;
        if (t->cpu.eip == 0x1000)
            assert_int_equal(before - t->cpu.r[IR_ECX], ENG_REP_CAP);
        assert_true(calls < 10);
    }
    assert_int_equal(calls, 4);
    assert_int_equal(t->cpu.r[IR_ECX], 0);
    assert_int_equal(t->cpu.r[IR_EDI], 0x10000 + n);
    assert_int_equal(t->cpu.eip, 0x1002);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(t->ram[0x10000 + i], 0x5A);
    assert_int_equal(t->ram[0x10000 + n], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TENV_TEST(test_movs_single),
        TENV_TEST(test_rep_stos_lods),
        TENV_TEST(test_rep_cmps_scas),
        TENV_TEST(test_rep_fault_midway),
        TENV_TEST(test_rep_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
