/*
 * test_native.c - self-test of cloister-oracle-native: cases with results known from the SDM run
 * on the host, checking registers, flags, memory, every kind of exception report, LDT segments,
 * the timeout and the crash-restart path. If this fails, the oracle's reference is broken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/oracle/case.h"
#include "tests/oracle/native_client.h"

#define SIGILL_ 4
#define SIGTRAP_ 5
#define SIGBUS_ 7
#define SIGFPE_ 8
#define SIGSEGV_ 11

static struct oracle_native nat;
static uint8_t expect_data[ORN_DATA_SIZE];

static int setup(void **state)
{
    (void)state;
    char path[4096];
    if (!oracle_native_default_path(path, sizeof path))
        return -1;
    return oracle_native_start(&nat, path) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    oracle_native_stop(&nat);
    return 0;
}

static void mkcase(struct oracle_case *c, const uint8_t *code, size_t n)
{
    oc_init(c, "selftest");
    c->seed = 42;
    c->regs[ORN_ESP] = ORN_DATA_BASE + 0x3000;
    assert_int_equal(oc_emit(c, code, n), 0);
}

/* Run one case alone; returns its result slot. */
static const struct orn_out *run1(const struct oracle_case *c)
{
    oc_to_native(c, &oracle_native_slot(&nat, 0)->in);
    assert_int_equal(oracle_native_run(&nat, 1), 0);
    oc_build_data(c, expect_data);
    return &oracle_native_slot(&nat, 0)->out;
}

static void test_add_flags(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x01, 0xC8, 0x0F, 0x0B }; /* add eax,ecx; ud2 */
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    c.regs[ORN_EAX] = 0x7FFFFFFF;
    c.regs[ORN_ECX] = 1;
    c.eflags = 0x1; /* CF set before: ADD must clear it */
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->status, ORN_ST_DONE);
    assert_int_equal(o->signo, SIGILL_);
    assert_int_equal(o->trapno, 6);
    assert_int_equal(o->eip, ORN_CODE_BASE + 2);
    assert_int_equal(o->regs[ORN_EAX], 0x80000000u);
    assert_int_equal(o->regs[ORN_ECX], 1);
    assert_int_equal(o->eflags & 0x8D5, 0x894); /* OF SF AF PF */
    assert_true(o->eflags & 0x200);             /* IF stays set in user mode */
    assert_memory_equal(o->data, expect_data, ORN_DATA_SIZE);
}

static void test_registers_pass_through(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x0F, 0x0B };
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    for (int i = 0; i < 8; i++)
        c.regs[i] = 0x11111111u * (uint32_t)(i + 1);
    c.regs[ORN_ESP] = 0xDEADBEEF; /* nothing uses the stack */
    c.eflags = 0x400 | 0x800 | 0x40 | 0x1; /* DF OF ZF CF */
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->status, ORN_ST_DONE);
    for (int i = 0; i < 8; i++)
        assert_int_equal(o->regs[i], c.regs[i]);
    assert_int_equal(o->eflags & 0xCD5, 0xC41);
    assert_int_equal(o->sel[ORN_DS], nat.user_ds);
    assert_int_equal(o->sel[ORN_CS], nat.user_cs);
}

static void test_memory_write(void **state)
{
    (void)state;
    /* mov dword [0x8100], 0xdeadbeef; ud2 */
    static const uint8_t code[] = { 0xC7, 0x05, 0x00, 0x81, 0x00, 0x00, 0xEF, 0xBE, 0xAD, 0xDE, 0x0F, 0x0B };
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->trapno, 6);
    static const uint8_t want[] = { 0xEF, 0xBE, 0xAD, 0xDE };
    memcpy(expect_data + 0x100, want, 4);
    assert_memory_equal(o->data, expect_data, ORN_DATA_SIZE);
}

static void test_guard_read_fault(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x8B, 0x05, 0x00, 0xC0, 0x00, 0x00, 0x0F, 0x0B }; /* mov eax,[0xC000] */
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    c.regs[ORN_EAX] = 0x1234;
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->signo, SIGSEGV_);
    assert_int_equal(o->trapno, 14);
    assert_int_equal(o->err & 0xF, 4); /* user, read, not present */
    assert_int_equal(o->cr2, ORN_GUARD_BASE);
    assert_int_equal(o->addr, ORN_GUARD_BASE);
    assert_int_equal(o->eip, ORN_CODE_BASE);
    assert_int_equal(o->regs[ORN_EAX], 0x1234);
}

static void test_split_write_fault(void **state)
{
    (void)state;
    /* mov dword [0xBFFE], 0x44332211: the second page faults, nothing is written */
    static const uint8_t code[] = { 0xC7, 0x05, 0xFE, 0xBF, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x0F, 0x0B };
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->trapno, 14);
    assert_int_equal(o->err & 0xF, 6); /* user, write, not present */
    assert_int_equal(o->cr2, ORN_GUARD_BASE);
    assert_memory_equal(o->data, expect_data, ORN_DATA_SIZE);
}

static void test_code_write_fault(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0xC6, 0x05, 0x00, 0x00, 0x01, 0x00, 0x90, 0x0F, 0x0B }; /* mov byte [0x10000],0x90 */
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->trapno, 14);
    assert_int_equal(o->err & 0xF, 7); /* user, write, present */
    assert_int_equal(o->cr2, ORN_CODE_BASE);
}

static void test_divide_error(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x90, 0xF7, 0xF1, 0x0F, 0x0B }; /* nop; div ecx */
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    c.regs[ORN_ECX] = 0;
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->signo, SIGFPE_);
    assert_int_equal(o->trapno, 0);
    assert_int_equal(o->eip, ORN_CODE_BASE + 1);
}

static void test_int3_and_into(void **state)
{
    (void)state;
    static const uint8_t int3[] = { 0x90, 0xCC, 0x0F, 0x0B };
    struct oracle_case c;
    mkcase(&c, int3, sizeof int3);
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->signo, SIGTRAP_);
    assert_int_equal(o->trapno, 3);
    assert_int_equal(o->eip, ORN_CODE_BASE + 2); /* a trap: EIP after the instruction */

    static const uint8_t into[] = { 0xCE, 0x0F, 0x0B };
    mkcase(&c, into, sizeof into);
    c.eflags = 0x800; /* OF */
    o = run1(&c);
    assert_int_equal(o->signo, SIGSEGV_);
    assert_int_equal(o->trapno, 4);
    assert_int_equal(o->eip, ORN_CODE_BASE + 1);
}

static void test_bound_icebp_np(void **state)
{
    (void)state;
    /* bound eax, [0x8100] with bounds 10..20 and EAX = 21: #BR, reported as SIGSEGV trap 5 */
    static const uint8_t bound[] = { 0x62, 0x05, 0x00, 0x81, 0x00, 0x00, 0x0F, 0x0B };
    static const uint8_t bounds[8] = { 10, 0, 0, 0, 20, 0, 0, 0 };
    struct oracle_case c;
    mkcase(&c, bound, sizeof bound);
    assert_int_equal(oc_patch(&c, ORN_DATA_BASE + 0x100, bounds, sizeof bounds), 0);
    c.regs[ORN_EAX] = 21;
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->signo, SIGSEGV_);
    assert_int_equal(o->trapno, 5);
    assert_int_equal(o->eip, ORN_CODE_BASE); /* a fault */
    c.regs[ORN_EAX] = 20;
    o = run1(&c);
    assert_int_equal(o->trapno, 6); /* in range: on to the UD2 */

    /* ICEBP (F1): SIGTRAP trap 1, EIP after it */
    static const uint8_t icebp[] = { 0xF1, 0x0F, 0x0B };
    mkcase(&c, icebp, sizeof icebp);
    o = run1(&c);
    assert_int_equal(o->signo, SIGTRAP_);
    assert_int_equal(o->trapno, 1);
    assert_int_equal(o->eip, ORN_CODE_BASE + 1);

    /* mov es, ax with a not-present LDT data segment: #NP(sel), SIGBUS trap 11 */
    static const uint8_t load[] = { 0x8E, 0xC0, 0x0F, 0x0B };
    mkcase(&c, load, sizeof load);
    c.ldt[2] = (struct orn_desc){ .present = 1, .base = ORN_DATA_BASE, .limit = 0xFF, .seg_32bit = 1,
                                  .not_present = 1 };
    c.regs[ORN_EAX] = 0x17;
    o = run1(&c);
    assert_int_equal(o->signo, SIGBUS_);
    assert_int_equal(o->trapno, 11);
    assert_int_equal(o->err, 0x14);
    assert_int_equal(o->ldt_raw[2][5] & 0x80, 0); /* P clear in the installed descriptor */
}

static void test_gdt_probe(void **state)
{
    (void)state;
    /* the user code and data selectors are visible to LAR/LSL: flat, DPL 3, present */
    const struct orn_shm *shm = nat.shm;
    unsigned cs = nat.user_cs >> 3, ds = nat.user_ds >> 3;
    assert_true(cs < 16 && ds < 16);
    assert_true(shm->gdt_ok & (1u << cs));
    assert_true(shm->gdt_ok & (1u << ds));
    assert_int_equal(shm->gdt_lar[cs] & 0xFF00, 0xFB00);
    assert_int_equal(shm->gdt_lar[ds] & 0xFF00, 0xF300);
    assert_int_equal(shm->gdt_lsl[ds], 0xFFFFFFFFu);
    assert_false(shm->gdt_ok & 1u); /* the null selector */
}

static void test_privileged_gp(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0xF4, 0x0F, 0x0B }; /* hlt */
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->signo, SIGSEGV_);
    assert_int_equal(o->trapno, 13);
    assert_int_equal(o->err, 0);
    assert_int_equal(o->eip, ORN_CODE_BASE);
}

static void set_ldt(struct orn_desc *d, uint32_t base, uint32_t limit, unsigned contents, unsigned d32)
{
    memset(d, 0, sizeof *d);
    d->present = 1;
    d->base = base;
    d->limit = limit;
    d->contents = (uint8_t)contents;
    d->seg_32bit = (uint8_t)d32;
}

static void test_ldt_data_limit(void **state)
{
    (void)state;
    /* with DS = LDT 0 (base 0x8000, limit 0xFF): mov eax,[0xFC] is the last dword in the limit,
     * mov eax,[0xFD] crosses it: #GP(0) */
    static const uint8_t code[] = { 0x8B, 0x05, 0xFC, 0x00, 0x00, 0x00, 0x8B, 0x1D, 0xFD, 0x00, 0x00, 0x00, 0x0F, 0x0B };
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    set_ldt(&c.ldt[0], ORN_DATA_BASE, 0xFF, 0, 1);
    c.sel[ORN_DS] = 0x7;
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->status, ORN_ST_DONE);
    assert_int_equal(o->trapno, 13);
    assert_int_equal(o->err, 0);
    assert_int_equal(o->eip, ORN_CODE_BASE + 6);
    uint32_t want;
    memcpy(&want, expect_data + 0xFC, 4);
    assert_int_equal(o->regs[ORN_EAX], want);
    assert_int_equal(o->sel[ORN_DS], 0x7);
    static const uint8_t raw[8] = { 0xFF, 0x00, 0x00, 0x80, 0x00, 0xF3, 0x40, 0x00 };
    assert_memory_equal(o->ldt_raw[0], raw, 8);
    static const uint8_t zero[8] = { 0 };
    assert_memory_equal(o->ldt_raw[1], zero, 8);
}

static void test_stack16_expand_down(void **state)
{
    (void)state;
    /* SS = LDT 1: 16-bit expand-down, base 0, limit 0x8FFF: valid offsets 0x9000..0xFFFF.
     * push eax (SP 0x9004 -> 0x9000) works and keeps ESP's upper half; the next push is #SS(0). */
    static const uint8_t code[] = { 0x50, 0x50, 0x0F, 0x0B };
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    set_ldt(&c.ldt[1], 0, 0x8FFF, 1, 0);
    c.sel[ORN_SS] = 0xF;
    c.regs[ORN_ESP] = 0x12349004;
    c.regs[ORN_EAX] = 0xCAFEF00D;
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->status, ORN_ST_DONE);
    assert_int_equal(o->signo, SIGBUS_);
    assert_int_equal(o->trapno, 12);
    assert_int_equal(o->err, 0);
    assert_int_equal(o->eip, ORN_CODE_BASE + 1);
    assert_int_equal(o->regs[ORN_ESP], 0x12349000);
    static const uint8_t want[] = { 0x0D, 0xF0, 0xFE, 0xCA };
    memcpy(expect_data + 0x1000, want, 4);
    assert_memory_equal(o->data, expect_data, ORN_DATA_SIZE);
}

static void test_bad_selector_load(void **state)
{
    (void)state;
    /* mov ds, ax with AX = 0x18 | 3 (a kernel data segment): #GP(0x18) */
    static const uint8_t code[] = { 0x8E, 0xD8, 0x0F, 0x0B };
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    c.regs[ORN_EAX] = 0x1B;
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->trapno, 13);
    assert_int_equal(o->err, 0x18);
    assert_int_equal(o->eip, ORN_CODE_BASE);
}

static void test_x87_store(void **state)
{
    (void)state;
    /* fld1; fstp qword [0x8100]; ud2 */
    static const uint8_t code[] = { 0xD9, 0xE8, 0xDD, 0x1D, 0x00, 0x81, 0x00, 0x00, 0x0F, 0x0B };
    struct oracle_case c;
    mkcase(&c, code, sizeof code);
    c.flags = OC_F_X87;
    const struct orn_out *o = run1(&c);
    assert_int_equal(o->trapno, 6);
    static const uint8_t one[8] = { 0, 0, 0, 0, 0, 0, 0xF0, 0x3F };
    assert_memory_equal(o->data + 0x100, one, 8);
    assert_int_equal(o->fcw, 0x37F);
    assert_int_equal((o->fsw >> 11) & 7, 0); /* TOP back to 0 */
    assert_int_equal(o->ftw, 0xFFFF);       /* all empty */
}

static void test_timeout_then_continue(void **state)
{
    (void)state;
    static const uint8_t spin[] = { 0xEB, 0xFE };
    static const uint8_t ok[] = { 0x40, 0x0F, 0x0B }; /* inc eax */
    struct oracle_case a, b;
    mkcase(&a, spin, sizeof spin);
    mkcase(&b, ok, sizeof ok);
    b.regs[ORN_EAX] = 41;
    oc_to_native(&a, &oracle_native_slot(&nat, 0)->in);
    oc_to_native(&b, &oracle_native_slot(&nat, 1)->in);
    assert_int_equal(oracle_native_run(&nat, 2), 0);
    assert_int_equal(oracle_native_slot(&nat, 0)->out.status, ORN_ST_TIMEOUT);
    assert_int_equal(oracle_native_slot(&nat, 0)->out.eip, ORN_CODE_BASE);
    assert_int_equal(oracle_native_slot(&nat, 1)->out.status, ORN_ST_DONE);
    assert_int_equal(oracle_native_slot(&nat, 1)->out.regs[ORN_EAX], 42);
}

static void test_crash_restart(void **state)
{
    (void)state;
    /* The middle case calls exit(7) through int 0x80: the runner dies, the parent marks that
     * case and restarts it, and the last case still runs. */
    static const uint8_t die_code[] = { 0xB8, 0x01, 0x00, 0x00, 0x00, 0xBB, 0x07, 0x00, 0x00, 0x00, 0xCD, 0x80 };
    static const uint8_t ok[] = { 0x40, 0x0F, 0x0B };
    struct oracle_case a, b;
    mkcase(&a, ok, sizeof ok);
    mkcase(&b, die_code, sizeof die_code);
    unsigned before = nat.restarts;
    oc_to_native(&a, &oracle_native_slot(&nat, 0)->in);
    oc_to_native(&b, &oracle_native_slot(&nat, 1)->in);
    oc_to_native(&a, &oracle_native_slot(&nat, 2)->in);
    assert_int_equal(oracle_native_run(&nat, 3), 0);
    assert_int_equal(oracle_native_slot(&nat, 0)->out.status, ORN_ST_DONE);
    assert_int_equal(oracle_native_slot(&nat, 1)->out.status, ORN_ST_CRASHED);
    assert_int_equal(oracle_native_slot(&nat, 2)->out.status, ORN_ST_DONE);
    assert_int_equal(oracle_native_slot(&nat, 2)->out.regs[ORN_EAX], 1);
    assert_int_equal(nat.restarts, before + 1);
}

static void test_bad_entry_rejected(void **state)
{
    (void)state;
    static const uint8_t ok[] = { 0x0F, 0x0B };
    struct oracle_case c;
    mkcase(&c, ok, sizeof ok);
    oc_to_native(&c, &oracle_native_slot(&nat, 0)->in);
    oracle_native_slot(&nat, 0)->in.entry = ORN_DATA_BASE;
    assert_int_equal(oracle_native_run(&nat, 1), 0);
    assert_int_equal(oracle_native_slot(&nat, 0)->out.status, ORN_ST_BADREQ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_flags),
        cmocka_unit_test(test_registers_pass_through),
        cmocka_unit_test(test_memory_write),
        cmocka_unit_test(test_guard_read_fault),
        cmocka_unit_test(test_split_write_fault),
        cmocka_unit_test(test_code_write_fault),
        cmocka_unit_test(test_divide_error),
        cmocka_unit_test(test_int3_and_into),
        cmocka_unit_test(test_privileged_gp),
        cmocka_unit_test(test_bound_icebp_np),
        cmocka_unit_test(test_gdt_probe),
        cmocka_unit_test(test_ldt_data_limit),
        cmocka_unit_test(test_stack16_expand_down),
        cmocka_unit_test(test_bad_selector_load),
        cmocka_unit_test(test_x87_store),
        cmocka_unit_test(test_timeout_then_continue),
        cmocka_unit_test(test_crash_restart),
        cmocka_unit_test(test_bad_entry_rejected),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
