/*
 * test_x87_ops.c - x87_exec against values the SDM defines, independent of the host: constants
 * with their rounding, operand orientation of every arithmetic form, precision and rounding
 * control, integer and BCD conversions, compares and their condition codes, FCOMI flags,
 * FCMOVcc, FXAM classes, transcendentals (within 1 ulp of libm), masked responses and unmasked
 * exceptions, stack overflow/underflow, #NM/#MF/#UD, control instructions, FIP/FDP
 * bookkeeping, all-or-nothing behaviour on memory faults, and that the host's x87 control word
 * and MXCSR are left alone and its x87 unit is left empty with nothing pending.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tests/x87/x87_testlib.h"
#include "vcpu/x87.h"

#define C0 0x0100
#define C1 0x0200
#define C2 0x0400
#define C3 0x4000
#define CC (C0 | C1 | C2 | C3)
#define IE 0x01
#define DE 0x02
#define ZE 0x04
#define OE 0x08
#define UE 0x10
#define PE 0x20
#define SF 0x40
#define ES 0x80
#define BUSY 0x8000
#define J 0x8000000000000000ULL

struct t {
    struct cpu_fpu f;
    struct tmem m;
    struct x87_env env;
    struct x87_result res;
};

static void t_init(struct t *t)
{
    memset(t, 0, sizeof(*t));
    x87_init(&t->f);
    tmem_env(&t->env, &t->m);
}

static int xr(struct t *t, unsigned opcode, unsigned modrm)
{
    struct ir_insn in = insn_reg(opcode, modrm);
    return x87_exec(&t->f, &in, &t->env, &t->res);
}

static int xm(struct t *t, unsigned opcode, unsigned reg, const void *src, unsigned n)
{
    struct ir_insn in = insn_mem(opcode, reg, 4);
    if (src)
        memcpy(t->m.buf, src, n);
    return x87_exec(&t->f, &in, &t->env, &t->res);
}

/* FLD m80 through the executor itself. */
static void ld(struct t *t, long double v)
{
    uint8_t b[10];
    memcpy(b, &v, 10);
    assert_int_equal(xm(t, 0xDB, 5, b, 10), X87_OK);
}

static void ld_bits(struct t *t, unsigned se, uint64_t mant)
{
    long double v;
    ext_make(&v, se, mant);
    ld(t, v);
}

static long double st(const struct t *t, unsigned i) { return fpu_st(&t->f, i); }

static void assert_bits(long double v, unsigned se, uint64_t mant)
{
    if (ext_se(v) != se || ext_mant(v) != mant)
        print_error("got %04x %016llx want %04x %016llx\n", ext_se(v),
                    (unsigned long long)ext_mant(v), se, (unsigned long long)mant);
    assert_int_equal(ext_se(v), se);
    assert_true(ext_mant(v) == mant);
}

static void assert_indefinite(long double v) { assert_bits(v, 0xFFFF, 0xC000000000000000ULL); }

static void set_fcw(struct t *t, unsigned fcw)
{
    uint8_t b[2] = {(uint8_t)fcw, (uint8_t)(fcw >> 8)};
    assert_int_equal(xm(t, 0xD9, 5, b, 2), X87_OK);
}

static unsigned flags(const struct t *t) { return t->f.fsw & 0x7F; }

/* ---------------------------------------------------------------------------------------- */

static void test_init_state(void **state)
{
    struct cpu_fpu f;
    (void)state;

    memset(&f, 0xA5, sizeof(f));
    x87_init(&f);
    assert_int_equal(f.fcw, 0x037F);
    assert_int_equal(f.fsw, 0);
    assert_int_equal(f.ftw, 0xFFFF);
    assert_int_equal(f.fip, 0);
    assert_int_equal(f.fdp, 0);
    assert_int_equal(f.fcs, 0);
    assert_int_equal(f.fds, 0);
    assert_int_equal(f.fop, 0);
    assert_int_equal(x87_tag_word(&f), 0xFFFF);
}

static void test_constants_and_rounding(void **state)
{
    /* Exact expansions: pi = C90FDAA22168C234 C4C6..., log2(10) = D49A784BCD1B8AFE 492B...,
     * log2(e) = B8AA3B295C17F0BB BE87..., log10(2) = 9A209A84FBCFF798 8F89...,
     * ln(2) = B17217F7D1CF79AB C9E3...: RC picks the last mantissa bit. */
    static const struct {
        unsigned modrm, se;
        uint64_t down, up_or_near;
        bool near_is_up;
    } k[] = {
        {0xEB, 0x4000, 0xC90FDAA22168C234ULL, 0xC90FDAA22168C235ULL, true},
        {0xE9, 0x4000, 0xD49A784BCD1B8AFEULL, 0xD49A784BCD1B8AFFULL, false},
        {0xEA, 0x3FFF, 0xB8AA3B295C17F0BBULL, 0xB8AA3B295C17F0BCULL, true},
        {0xEC, 0x3FFD, 0x9A209A84FBCFF798ULL, 0x9A209A84FBCFF799ULL, true},
        {0xED, 0x3FFE, 0xB17217F7D1CF79ABULL, 0xB17217F7D1CF79ACULL, true},
    };
    (void)state;

    for (unsigned rc = 0; rc < 4; rc++)
        for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
            struct t t;
            t_init(&t);
            set_fcw(&t, 0x037F | rc << 10);
            assert_int_equal(xr(&t, 0xD9, k[i].modrm), X87_OK);
            bool up = rc == 2 || (rc == 0 && k[i].near_is_up);
            assert_bits(st(&t, 0), k[i].se, up ? k[i].up_or_near : k[i].down);
            assert_int_equal(fpu_top(&t.f), 7);
        }

    struct t t;
    t_init(&t);
    assert_int_equal(xr(&t, 0xD9, 0xE8), X87_OK); /* FLD1 */
    assert_bits(st(&t, 0), 0x3FFF, J);
    assert_int_equal(xr(&t, 0xD9, 0xEE), X87_OK); /* FLDZ */
    assert_bits(st(&t, 0), 0, 0);
    assert_int_equal(fpu_tag(&t.f, 0), 1);         /* zero */
    assert_int_equal(fpu_tag(&t.f, 1), 0);         /* valid */
    assert_int_equal(flags(&t), 0);
}

static void test_arith_orientation(void **state)
{
    static const struct {
        unsigned op, modrm;
        long double st0, st1; /* results; st1 only checked for the non-popping forms */
        bool pops;
        unsigned which; /* 0: result in ST0, 1: result in ST1 (before any pop) */
    } c[] = {
        {0xD8, 0xC1, 15, 0, false, 0}, {0xD8, 0xC9, 36, 0, false, 0},
        {0xD8, 0xE1, 9, 0, false, 0},  {0xD8, 0xE9, -9, 0, false, 0},
        {0xD8, 0xF1, 4, 0, false, 0},  {0xD8, 0xF9, 0.25, 0, false, 0},
        {0xDC, 0xC1, 0, 15, false, 1}, {0xDC, 0xC9, 0, 36, false, 1},
        {0xDC, 0xE9, 0, -9, false, 1}, {0xDC, 0xE1, 0, 9, false, 1},
        {0xDC, 0xF9, 0, 0.25, false, 1}, {0xDC, 0xF1, 0, 4, false, 1},
        {0xDE, 0xC1, 15, 0, true, 1},  {0xDE, 0xC9, 36, 0, true, 1},
        {0xDE, 0xE9, -9, 0, true, 1},  {0xDE, 0xE1, 9, 0, true, 1},
        {0xDE, 0xF9, 0.25, 0, true, 1}, {0xDE, 0xF1, 4, 0, true, 1},
    };
    (void)state;

    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct t t;
        t_init(&t);
        ld(&t, 3);  /* ST1 */
        ld(&t, 12); /* ST0 */
        assert_int_equal(xr(&t, c[i].op, c[i].modrm), X87_OK);
        if (c[i].pops) {
            assert_int_equal(fpu_top(&t.f), 7);
            assert_true(st(&t, 0) == c[i].st0);
        } else if (c[i].which == 0) {
            assert_true(st(&t, 0) == c[i].st0);
            assert_true(st(&t, 1) == 3);
        } else {
            assert_true(st(&t, 0) == 12);
            assert_true(st(&t, 1) == c[i].st1);
        }
        assert_int_equal(flags(&t), 0);
    }
}

static void test_arith_memory_forms(void **state)
{
    float f15 = 1.5f, f4 = 4.0f;
    double d20 = 20.0;
    int16_t im2 = -2, i5 = 5;
    int32_t i36 = 36;
    int64_t big = INT64_MAX;
    static const struct {
        unsigned op, reg;
        long double want;
    } c[] = {
        {0xD8, 0, 13.5}, {0xD8, 6, 3}, {0xDC, 5, 8}, {0xDE, 1, -24}, {0xDA, 7, 3}, {0xDE, 4, 7},
        {0xDA, 0, 48}, {0xDE, 6, -6},
    };
    const void *src[] = {&f15, &f4, &d20, &im2, &i36, &i5, &i36, &im2};
    const unsigned n[] = {4, 4, 8, 2, 4, 2, 4, 2};
    (void)state;

    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct t t;
        t_init(&t);
        ld(&t, 12);
        assert_int_equal(xm(&t, c[i].op, c[i].reg, src[i], n[i]), X87_OK);
        assert_int_equal(t.m.last_size, n[i]);
        assert_true(st(&t, 0) == c[i].want);
    }

    /* FILD m64 of 2^63-1 is exact in 64 bits; FILD m16 of -32768. */
    struct t t;
    t_init(&t);
    assert_int_equal(xm(&t, 0xDF, 5, &big, 8), X87_OK);
    assert_bits(st(&t, 0), 0x403D, 0xFFFFFFFFFFFFFFFEULL);
    int16_t m = INT16_MIN;
    assert_int_equal(xm(&t, 0xDF, 0, &m, 2), X87_OK);
    assert_bits(st(&t, 0), 0xC00E, J);
    assert_int_equal(flags(&t), 0);
}

static void test_precision_control(void **state)
{
    static const struct {
        unsigned pc;
        uint64_t mant;
        bool c1;
    } c[] = {
        {0, 0xAAAAAB0000000000ULL, true},
        {2, 0xAAAAAAAAAAAAA800ULL, false},
        {3, 0xAAAAAAAAAAAAAAABULL, true},
    };
    (void)state;

    for (unsigned i = 0; i < 3; i++) {
        struct t t;
        t_init(&t);
        set_fcw(&t, 0x007F | c[i].pc << 8);
        ld(&t, 3);
        ld(&t, 1);
        assert_int_equal(xr(&t, 0xD8, 0xF1), X87_OK); /* FDIV st0, st1 = 1/3 */
        assert_bits(st(&t, 0), 0x3FFD, c[i].mant);
        assert_int_equal(flags(&t), PE);
        assert_int_equal(!!(t.f.fsw & C1), c[i].c1);
    }
}

static void test_rounding_control(void **state)
{
    static const long double in[] = {2.5, -2.5, 2.75, -0.5};
    static const long double want[4][4] = {
        /* nearest, down, up, chop */
        {2, 2, 3, 2}, {-2, -3, -2, -2}, {3, 2, 3, 2}, {-0.0, -1, -0.0, -0.0},
    };
    (void)state;

    for (unsigned v = 0; v < 4; v++)
        for (unsigned rc = 0; rc < 4; rc++) {
            struct t t;
            t_init(&t);
            set_fcw(&t, 0x037F | rc << 10);
            ld(&t, in[v]);
            assert_int_equal(xr(&t, 0xD9, 0xFC), X87_OK); /* FRNDINT */
            assert_true(st(&t, 0) == want[v][rc]);
            assert_int_equal(signbit(st(&t, 0)) != 0, signbit(want[v][rc]) != 0);
            assert_int_equal(flags(&t), PE);

            int16_t out = 0x5555;
            assert_int_equal(xm(&t, 0xDF, 3, NULL, 0), X87_OK); /* FISTP m16 */
            memcpy(&out, t.m.buf, 2);
            assert_int_equal(out, (int16_t)want[v][rc]);
            assert_int_equal(t.f.ftw, 0xFFFF);
        }

    /* FST m32 of 1/3 rounds per RC: 0x3EAAAAAB up/nearest, 0x3EAAAAAA down/chop. */
    for (unsigned rc = 0; rc < 4; rc++) {
        struct t t;
        uint32_t f;
        t_init(&t);
        set_fcw(&t, 0x037F | rc << 10);
        ld_bits(&t, 0x3FFD, 0xAAAAAAAAAAAAAAABULL);
        assert_int_equal(xm(&t, 0xD9, 2, NULL, 0), X87_OK);
        memcpy(&f, t.m.buf, 4);
        assert_int_equal(f, (rc == 0 || rc == 2) ? 0x3EAAAAABu : 0x3EAAAAAAu);
        assert_int_equal(fpu_top(&t.f), 7); /* FST does not pop */
    }
}

static void test_integer_store_overflow(void **state)
{
    struct t t;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    (void)state;

    /* Masked: the integer indefinite is stored, IE set. */
    t_init(&t);
    ld(&t, 40000);
    assert_int_equal(xm(&t, 0xDF, 2, NULL, 0), X87_OK); /* FIST m16 */
    memcpy(&i16, t.m.buf, 2);
    assert_int_equal((uint16_t)i16, 0x8000);
    assert_int_equal(flags(&t), IE);
    assert_int_equal(fpu_top(&t.f), 7);
    assert_int_equal(xm(&t, 0xDB, 3, NULL, 0), X87_OK); /* FISTP m32: 40000 fits */
    memcpy(&i32, t.m.buf, 4);
    assert_int_equal(i32, 40000);
    ld(&t, 1e19L);
    assert_int_equal(xm(&t, 0xDF, 7, NULL, 0), X87_OK); /* FISTP m64 */
    memcpy(&i64, t.m.buf, 8);
    assert_true((uint64_t)i64 == 0x8000000000000000ULL);
    assert_int_equal(t.f.ftw, 0xFFFF);

    /* Unmasked IE: nothing written, no pop, ES and B set, #MF at the next waiting insn. */
    t_init(&t);
    set_fcw(&t, 0x037E);
    ld(&t, 1e10L);
    memset(t.m.buf, 0x5A, 8);
    t.m.writes = 0;
    assert_int_equal(xm(&t, 0xDB, 3, NULL, 0), X87_OK); /* FISTP m32 */
    assert_int_equal(t.m.writes, 0);
    assert_int_equal(t.m.buf[0], 0x5A);
    assert_int_equal(fpu_top(&t.f), 7);
    assert_int_equal(t.f.fsw & (0xFF | BUSY), IE | ES | BUSY);
    struct cpu_fpu before = t.f;
    assert_int_equal(xr(&t, 0xD9, 0xE8), X87_EXC); /* FLD1 */
    assert_int_equal(t.res.vector, CPU_MF);
    assert_int_equal(t.res.status, X87_EXC);
    assert_memory_equal(&before, &t.f, sizeof(before));
    /* With CR0.NE clear the exception stays pending and execution goes on. */
    t.env.cr0 &= ~CPU_CR0_NE;
    assert_int_equal(xr(&t, 0xD9, 0xE8), X87_OK);
    assert_int_equal(t.f.fsw & 0xFF, IE | ES);
    assert_true(st(&t, 0) == 1);
}

static void test_stack_faults(void **state)
{
    struct t t;
    uint32_t f32;
    (void)state;

    /* Overflow, masked: IE SF C1, ST0 = indefinite. */
    t_init(&t);
    for (int i = 0; i < 8; i++)
        assert_int_equal(xr(&t, 0xD9, 0xE8), X87_OK);
    assert_int_equal(t.f.ftw, 0);
    assert_int_equal(xr(&t, 0xD9, 0xEB), X87_OK); /* FLDPI */
    assert_int_equal(flags(&t), IE | SF);
    assert_true(t.f.fsw & C1);
    assert_indefinite(st(&t, 0));

    /* Overflow, unmasked: nothing pushed. */
    t_init(&t);
    set_fcw(&t, 0x037E);
    for (int i = 0; i < 8; i++)
        assert_int_equal(xr(&t, 0xD9, 0xEE), X87_OK);
    assert_int_equal(xr(&t, 0xD9, 0xE8), X87_OK);
    assert_int_equal(t.f.fsw & 0xFF, IE | SF | ES);
    assert_true(t.f.fsw & C1);
    assert_int_equal(fpu_top(&t.f), 0);
    for (unsigned i = 0; i < 8; i++)
        assert_bits(st(&t, i), 0, 0);

    /* Underflow, masked: IE SF, C1 = 0, the destination gets the indefinite. */
    t_init(&t);
    t.f.fsw |= C1;
    assert_int_equal(xr(&t, 0xD8, 0xC1), X87_OK); /* FADD st0, st1 on an empty stack */
    assert_int_equal(flags(&t), IE | SF);
    assert_false(t.f.fsw & C1);
    assert_indefinite(st(&t, 0));
    assert_int_equal(fpu_tag(&t.f, 0), 2);

    /* FSTP m32 of an empty ST0: the single-precision indefinite, and the pop happens. */
    t_init(&t);
    assert_int_equal(xm(&t, 0xD9, 3, NULL, 0), X87_OK);
    memcpy(&f32, t.m.buf, 4);
    assert_int_equal(f32, 0xFFC00000u);
    assert_int_equal(fpu_top(&t.f), 1);

    /* FSTP1 (D9 D8+i) pops an empty ST0 without a stack fault, unlike FSTP (DD D8+i). */
    t_init(&t);
    assert_int_equal(xr(&t, 0xD9, 0xD9), X87_OK);
    assert_int_equal(flags(&t), 0);
    assert_int_equal(fpu_top(&t.f), 1);
    t_init(&t);
    assert_int_equal(xr(&t, 0xDD, 0xD9), X87_OK);
    assert_int_equal(flags(&t), IE | SF);

    /* FXCH with an empty register: IS, both become the indefinite. */
    t_init(&t);
    ld(&t, 5);
    assert_int_equal(xr(&t, 0xD9, 0xC9), X87_OK);
    assert_int_equal(flags(&t), IE | SF);
    assert_indefinite(st(&t, 0));
}

static void test_compares(void **state)
{
    static const struct {
        long double a, b;
        unsigned cc;
    } c[] = {{1, 2, C0}, {2, 1, 0}, {2, 2, C3}, {-0.0, 0.0, C3}, {-INFINITY, 1, C0}};
    (void)state;

    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct t t;
        double b = (double)c[i].b;
        t_init(&t);
        t.f.fsw |= CC;
        ld(&t, c[i].b);
        ld(&t, c[i].a);
        assert_int_equal(xr(&t, 0xD8, 0xD1), X87_OK); /* FCOM st1 */
        assert_int_equal(t.f.fsw & CC, c[i].cc);
        assert_int_equal(xr(&t, 0xDD, 0xE1), X87_OK); /* FUCOM st1 */
        assert_int_equal(t.f.fsw & CC, c[i].cc);
        assert_int_equal(xm(&t, 0xDC, 2, &b, 8), X87_OK); /* FCOM m64 */
        assert_int_equal(t.f.fsw & CC, c[i].cc);
        assert_int_equal(flags(&t), 0);
        assert_int_equal(xr(&t, 0xDE, 0xD9), X87_OK); /* FCOMPP */
        assert_int_equal(t.f.fsw & CC, c[i].cc);
        assert_int_equal(t.f.ftw, 0xFFFF);
    }

    /* Unordered: QNaN is IE for FCOM but not for FUCOM; SNaN is IE for both. */
    struct t t;
    t_init(&t);
    ld(&t, 1);
    ld_bits(&t, 0x7FFF, 0xC000000000000000ULL);
    assert_int_equal(xr(&t, 0xDD, 0xE1), X87_OK);
    assert_int_equal(t.f.fsw & CC, C3 | C2 | C0);
    assert_int_equal(flags(&t), 0);
    assert_int_equal(xr(&t, 0xD8, 0xD9), X87_OK); /* FCOMP */
    assert_int_equal(t.f.fsw & CC, C3 | C2 | C0);
    assert_int_equal(flags(&t), IE);
    assert_int_equal(fpu_top(&t.f), 7);
    t_init(&t);
    ld(&t, 1);
    ld_bits(&t, 0x7FFF, 0x8000000000000001ULL);
    assert_int_equal(xr(&t, 0xDA, 0xE9), X87_OK); /* FUCOMPP */
    assert_int_equal(flags(&t), IE);
    assert_int_equal(t.f.ftw, 0xFFFF);

    /* FICOM m16, FTST */
    t_init(&t);
    ld(&t, 5);
    int16_t five = 5, six = 6;
    assert_int_equal(xm(&t, 0xDE, 2, &five, 2), X87_OK);
    assert_int_equal(t.f.fsw & CC, C3);
    assert_int_equal(xm(&t, 0xDE, 3, &six, 2), X87_OK); /* FICOMP */
    assert_int_equal(t.f.fsw & CC, C0);
    assert_int_equal(t.f.ftw, 0xFFFF);
    ld(&t, -1);
    assert_int_equal(xr(&t, 0xD9, 0xE4), X87_OK);
    assert_int_equal(t.f.fsw & CC, C0);
    ld(&t, 0);
    assert_int_equal(xr(&t, 0xD9, 0xE4), X87_OK);
    assert_int_equal(t.f.fsw & CC, C3);
}

static void test_fcomi(void **state)
{
    static const struct {
        long double a, b;
        unsigned modrm_op, modrm;
        uint32_t want;
        unsigned fl;
    } c[] = {
        {1, 2, 0xDB, 0xF1, CPU_CF, 0},
        {2, 1, 0xDB, 0xF1, 0, 0},
        {2, 2, 0xDB, 0xE9, CPU_ZF, 0},
        {NAN, 2, 0xDB, 0xE9, CPU_ZF | CPU_PF | CPU_CF, 0},
        {NAN, 2, 0xDB, 0xF1, CPU_ZF | CPU_PF | CPU_CF, IE},
        {1, 2, 0xDF, 0xF1, CPU_CF, 0},
        {3, 3, 0xDF, 0xE9, CPU_ZF, 0},
    };
    (void)state;

    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct t t;
        t_init(&t);
        t.env.eflags = 0x2 | CPU_ARITH_FLAGS;
        ld(&t, c[i].b);
        ld(&t, c[i].a);
        assert_int_equal(xr(&t, c[i].modrm_op, c[i].modrm), X87_OK);
        assert_true(t.res.set_flags);
        assert_int_equal(t.res.eflags_zpc, c[i].want);
        assert_int_equal(flags(&t), c[i].fl);
        assert_int_equal(fpu_top(&t.f), c[i].modrm_op == 0xDF ? 7 : 6);
    }
    /* Other instructions leave EFLAGS alone. */
    struct t t;
    t_init(&t);
    ld(&t, 1);
    ld(&t, 2);
    assert_int_equal(xr(&t, 0xD8, 0xD1), X87_OK);
    assert_false(t.res.set_flags);
    assert_false(t.res.set_ax);
}

static void test_fcmov(void **state)
{
    (void)state;

    for (unsigned fl = 0; fl < 8; fl++) {
        uint32_t ef = 0x2 | ((fl & 1) ? CPU_CF : 0) | ((fl & 2) ? CPU_ZF : 0) |
                      ((fl & 4) ? CPU_PF : 0);
        bool cf = fl & 1, zf = fl & 2, pf = fl & 4;
        const bool cond[8] = {cf, zf, cf || zf, pf, !cf, !zf, !cf && !zf, !pf};
        for (unsigned k = 0; k < 8; k++) {
            struct t t;
            t_init(&t);
            t.env.eflags = ef;
            ld(&t, 2);
            ld(&t, 1);
            assert_int_equal(xr(&t, k < 4 ? 0xDA : 0xDB, 0xC1 | (k & 3) << 3), X87_OK);
            assert_true(st(&t, 0) == (cond[k] ? 2 : 1));
            assert_false(t.res.set_flags);
        }
    }
}

static void test_fxam(void **state)
{
    static const struct {
        unsigned se;
        uint64_t m;
        unsigned cc;
    } c[] = {
        {0x4000, 0x4000000000000000ULL, 0},           /* unnormal: unsupported */
        {0x7FFF, 0xC000000000000000ULL, C0},          /* NaN */
        {0xFFFF, 0x8000000000000001ULL, C0 | C1},     /* negative SNaN */
        {0x3FFF, J, C2},                              /* normal */
        {0xBFFF, J, C2 | C1},
        {0x7FFF, J, C2 | C0},                         /* infinity */
        {0x0000, 0, C3},                              /* zero */
        {0x8000, 0, C3 | C1},
        {0x0000, 1, C3 | C2},                         /* denormal */
    };
    (void)state;

    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct t t;
        t_init(&t);
        ld_bits(&t, c[i].se, c[i].m);
        assert_int_equal(xr(&t, 0xD9, 0xE5), X87_OK);
        assert_int_equal(t.f.fsw & CC, c[i].cc);
        assert_int_equal(flags(&t), 0);
    }
    struct t t;
    t_init(&t);
    assert_int_equal(xr(&t, 0xD9, 0xE5), X87_OK); /* empty */
    assert_int_equal(t.f.fsw & (C3 | C2 | C0), C3 | C0);
}

static void test_bcd(void **state)
{
    struct t t;
    uint8_t b[10];
    (void)state;

    t_init(&t);
    memcpy(b, "\x34\x12\x00\x00\x00\x00\x00\x00\x00\x00", 10);
    assert_int_equal(xm(&t, 0xDF, 4, b, 10), X87_OK);
    assert_true(st(&t, 0) == 1234);
    b[9] = 0x80;
    assert_int_equal(xm(&t, 0xDF, 4, b, 10), X87_OK);
    assert_true(st(&t, 0) == -1234);
    memset(b, 0x99, 9);
    b[9] = 0;
    assert_int_equal(xm(&t, 0xDF, 4, b, 10), X87_OK);
    assert_true(st(&t, 0) == 999999999999999999.0L);
    assert_int_equal(flags(&t), 0);

    t_init(&t);
    ld(&t, -7);
    assert_int_equal(xm(&t, 0xDF, 6, NULL, 0), X87_OK); /* FBSTP */
    assert_memory_equal(t.m.buf, "\x07\x00\x00\x00\x00\x00\x00\x00\x00\x80", 10);
    assert_int_equal(t.f.ftw, 0xFFFF);
    ld(&t, 999999999999999999.0L);
    assert_int_equal(xm(&t, 0xDF, 6, NULL, 0), X87_OK);
    assert_memory_equal(t.m.buf, "\x99\x99\x99\x99\x99\x99\x99\x99\x99\x00", 10);
    ld(&t, 12.5);
    assert_int_equal(xm(&t, 0xDF, 6, NULL, 0), X87_OK); /* nearest even */
    assert_memory_equal(t.m.buf, "\x12\x00\x00\x00\x00\x00\x00\x00\x00\x00", 10);
    assert_int_equal(flags(&t), PE);
    set_fcw(&t, 0x0B7F); /* round up */
    ld(&t, 12.5);
    assert_int_equal(xm(&t, 0xDF, 6, NULL, 0), X87_OK);
    assert_memory_equal(t.m.buf, "\x13\x00\x00\x00\x00\x00\x00\x00\x00\x00", 10);

    /* Out of range: IE and the packed BCD indefinite. */
    t_init(&t);
    ld(&t, 1e18L);
    assert_int_equal(xm(&t, 0xDF, 6, NULL, 0), X87_OK);
    assert_memory_equal(t.m.buf, "\x00\x00\x00\x00\x00\x00\x00\xC0\xFF\xFF", 10);
    assert_int_equal(flags(&t), IE);
}

/* Distance in units in the last place between two finite values of the same sign. */
static uint64_t ulps(long double a, long double b)
{
    if (a == b)
        return 0;
    if (signbit(a) != signbit(b))
        return UINT64_MAX;
    __int128 ka = (__int128)(ext_se(a) & 0x7FFF) << 63 | (ext_mant(a) & ~J);
    __int128 kb = (__int128)(ext_se(b) & 0x7FFF) << 63 | (ext_mant(b) & ~J);
    __int128 d = ka > kb ? ka - kb : kb - ka;
    return d > 1000 ? UINT64_MAX : (uint64_t)d;
}

static void check_ulp(const char *what, long double got, long double want)
{
    uint64_t d = ulps(got, want);
    if (d > 1)
        print_error("%s: %d ulps off\n", what, (int)(d > 1000 ? 1000 : d));
    assert_true(d <= 1);
}

static void test_transcendentals(void **state)
{
    static const long double args[] = {0.5L, 1.0L, -1.25L, 2.0L, 1e-3L, 0.7853981L, -0.1L};
    (void)state;

    for (unsigned i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
        long double x = args[i];
        struct t t;

        t_init(&t);
        ld(&t, x);
        assert_int_equal(xr(&t, 0xD9, 0xFE), X87_OK);
        check_ulp("fsin", st(&t, 0), sinl(x));
        assert_false(t.f.fsw & C2);

        t_init(&t);
        ld(&t, x);
        assert_int_equal(xr(&t, 0xD9, 0xFF), X87_OK);
        check_ulp("fcos", st(&t, 0), cosl(x));

        t_init(&t);
        ld(&t, x);
        assert_int_equal(xr(&t, 0xD9, 0xFB), X87_OK); /* FSINCOS: ST0 = cos, ST1 = sin */
        check_ulp("fsincos cos", st(&t, 0), cosl(x));
        check_ulp("fsincos sin", st(&t, 1), sinl(x));

        t_init(&t);
        ld(&t, x);
        assert_int_equal(xr(&t, 0xD9, 0xF2), X87_OK); /* FPTAN: ST1 = tan, ST0 = 1 */
        assert_true(st(&t, 0) == 1);
        check_ulp("fptan", st(&t, 1), tanl(x));

        t_init(&t);
        ld(&t, x);
        ld(&t, 2);
        assert_int_equal(xr(&t, 0xD9, 0xF3), X87_OK); /* FPATAN: atan(ST1 / ST0), pop */
        check_ulp("fpatan", st(&t, 0), atan2l(x, 2));
        assert_int_equal(fpu_top(&t.f), 7);

        if (fabsl(x) <= 1) {
            t_init(&t);
            ld(&t, x);
            assert_int_equal(xr(&t, 0xD9, 0xF0), X87_OK); /* F2XM1 */
            check_ulp("f2xm1", st(&t, 0), expm1l(x * 0.693147180559945309417232121458176568L));
        }

        t_init(&t);
        ld(&t, 3);
        ld(&t, fabsl(x));
        assert_int_equal(xr(&t, 0xD9, 0xF1), X87_OK); /* FYL2X: ST1 * log2(ST0), pop */
        check_ulp("fyl2x", st(&t, 0), 3 * log2l(fabsl(x)));


        t_init(&t);
        ld(&t, fabsl(x));
        assert_int_equal(xr(&t, 0xD9, 0xFA), X87_OK); /* FSQRT: correctly rounded */
        assert_true(st(&t, 0) == sqrtl(fabsl(x)));
    }

    /* FYL2XP1 with arguments for which 1 + x is exact, so log2l(1 + x) is a fair reference. */
    static const long double small[] = {0.125L, -0.25L, 0x1p-30L, 0.3125L, -0x1p-10L, 0x1.8p-50L};
    for (unsigned i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
        struct t t;
        t_init(&t);
        ld(&t, 2);
        ld(&t, small[i]);
        assert_int_equal(xr(&t, 0xD9, 0xF9), X87_OK); /* ST1 * log2(ST0 + 1), pop */
        check_ulp("fyl2xp1", st(&t, 0), 2 * log2l(1 + small[i]));
        assert_int_equal(fpu_top(&t.f), 7);
    }

    /* Out of range for FSIN/FCOS/FPTAN: C2 set, operand unchanged. */
    struct t t;
    t_init(&t);
    ld_bits(&t, 0x403F, J); /* 2^64 */
    assert_int_equal(xr(&t, 0xD9, 0xFE), X87_OK);
    assert_true(t.f.fsw & C2);
    assert_bits(st(&t, 0), 0x403F, J);

    /* FSCALE truncates ST1; FXTRACT splits; FYL2X exact case. */
    t_init(&t);
    ld(&t, 3.7L);
    ld(&t, 1.5L);
    assert_int_equal(xr(&t, 0xD9, 0xFD), X87_OK);
    assert_true(st(&t, 0) == 12);
    t_init(&t);
    ld(&t, -20);
    assert_int_equal(xr(&t, 0xD9, 0xF4), X87_OK);
    assert_true(st(&t, 0) == -1.25L);
    assert_true(st(&t, 1) == 4);
    t_init(&t);
    ld(&t, 3);
    ld(&t, 8);
    assert_int_equal(xr(&t, 0xD9, 0xF1), X87_OK);
    assert_true(st(&t, 0) == 9);
}

static void test_fprem(void **state)
{
    struct t t;
    (void)state;

    /* FPREM 7 mod 3: q = 2 -> C3 = q1 = 1, C1 = q0 = 0, C0 = q2 = 0; remainder 1. */
    t_init(&t);
    ld(&t, 3);
    ld(&t, 7);
    assert_int_equal(xr(&t, 0xD9, 0xF8), X87_OK);
    assert_true(st(&t, 0) == 1);
    assert_int_equal(t.f.fsw & CC, C3);
    /* FPREM1 8 rem 3: q = 3 (nearest) -> C1 = 1, C3 = 1; remainder -1. */
    t_init(&t);
    ld(&t, 3);
    ld(&t, 8);
    assert_int_equal(xr(&t, 0xD9, 0xF5), X87_OK);
    assert_true(st(&t, 0) == -1);
    assert_int_equal(t.f.fsw & CC, C3 | C1);
    /* FPREM -13 mod 4: sign of the dividend, q = 3 -> C1 C3. */
    t_init(&t);
    ld(&t, 4);
    ld(&t, -13);
    assert_int_equal(xr(&t, 0xD9, 0xF8), X87_OK);
    assert_true(st(&t, 0) == -1);
    assert_int_equal(t.f.fsw & CC, C3 | C1);
    /* Exponent difference over 63: partial (C2 = 1), and repeated calls finish the job. */
    t_init(&t);
    ld(&t, 3);
    ld_bits(&t, 0x3FFF + 200, J);
    unsigned rounds = 0;
    do {
        assert_int_equal(xr(&t, 0xD9, 0xF8), X87_OK);
        rounds++;
    } while ((t.f.fsw & C2) && rounds < 10);
    assert_true(rounds > 1);
    assert_false(t.f.fsw & C2);
    assert_true(st(&t, 0) == fmodl(ldexpl(1, 200), 3));
}

static void test_exceptions_masked(void **state)
{
    struct t t;
    (void)state;

    t_init(&t);
    ld(&t, 0);
    ld(&t, 1);
    assert_int_equal(xr(&t, 0xD8, 0xF1), X87_OK); /* 1 / 0 */
    assert_true(isinf(st(&t, 0)) && st(&t, 0) > 0);
    assert_int_equal(flags(&t), ZE);
    assert_int_equal(t.f.fsw & (ES | BUSY), 0);

    t_init(&t);
    ld(&t, -1);
    assert_int_equal(xr(&t, 0xD9, 0xFA), X87_OK); /* sqrt(-1) */
    assert_indefinite(st(&t, 0));
    assert_int_equal(flags(&t), IE);

    t_init(&t);
    ld(&t, INFINITY);
    ld(&t, INFINITY);
    assert_int_equal(xr(&t, 0xD8, 0xE1), X87_OK); /* inf - inf */
    assert_indefinite(st(&t, 0));

    t_init(&t);
    ld_bits(&t, 0x7FFE, ~0ULL);
    ld_bits(&t, 0x7FFE, ~0ULL);
    assert_int_equal(xr(&t, 0xD8, 0xC9), X87_OK); /* max * max */
    assert_true(isinf(st(&t, 0)));
    assert_int_equal(flags(&t), OE | PE);
    assert_true(t.f.fsw & C1);

    t_init(&t);
    ld_bits(&t, 0x0001, J);
    ld_bits(&t, 0x3FFE, J);
    assert_int_equal(xr(&t, 0xD8, 0xC9), X87_OK); /* min normal * 0.5: exact denormal */
    assert_bits(st(&t, 0), 0x0000, 0x4000000000000000ULL);
    assert_int_equal(flags(&t), 0); /* exact and masked: no UE */
    ld_bits(&t, 0x3FBF, J + 1);
    assert_int_equal(xr(&t, 0xD8, 0xC9), X87_OK); /* inexact tiny result */
    assert_int_equal(flags(&t), UE | PE | DE);

    t_init(&t);
    ld_bits(&t, 0x7FFF, 0x8000000000000001ULL);
    ld(&t, 1);
    assert_int_equal(xr(&t, 0xD8, 0xC1), X87_OK); /* 1 + SNaN: the quieted SNaN */
    assert_bits(st(&t, 0), 0x7FFF, 0xC000000000000001ULL);
    assert_int_equal(flags(&t), IE);
}

static void test_exceptions_unmasked(void **state)
{
    struct t t;
    struct cpu_fpu before;
    (void)state;

    /* ZE unmasked: destination unchanged, ES/B, #MF next, non-waiting ones still run. */
    t_init(&t);
    set_fcw(&t, 0x037B);
    ld(&t, 0);
    ld(&t, 1);
    assert_int_equal(xr(&t, 0xD8, 0xF1), X87_OK);
    assert_true(st(&t, 0) == 1);
    assert_int_equal(t.f.fsw & (0xFF | BUSY), ZE | ES | BUSY);
    before = t.f;
    assert_int_equal(xr(&t, 0xD8, 0xC1), X87_EXC);
    assert_int_equal(t.res.vector, CPU_MF);
    assert_memory_equal(&before, &t.f, sizeof(before));
    assert_int_equal(xm(&t, 0xD9, 5, "\x7f\x03", 2), X87_EXC); /* FLDCW waits too */
    assert_int_equal(t.res.vector, CPU_MF);
    struct x87_result wr;
    assert_int_equal(x87_wait_check(&t.f, t.env.cr0, &wr), X87_EXC);
    assert_int_equal(wr.vector, CPU_MF);
    assert_int_equal(xr(&t, 0xDF, 0xE0), X87_OK); /* FNSTSW AX */
    assert_true(t.res.set_ax);
    assert_int_equal(t.res.ax, t.f.fsw);
    assert_int_equal(xm(&t, 0xD9, 7, NULL, 0), X87_OK); /* FNSTCW */
    assert_int_equal(xm(&t, 0xDD, 7, NULL, 0), X87_OK); /* FNSTSW m16 */
    assert_int_equal(t.m.buf[0] | t.m.buf[1] << 8, t.f.fsw);
    assert_int_equal(xr(&t, 0xDB, 0xE2), X87_OK); /* FNCLEX */
    assert_int_equal(t.f.fsw & (0xFF | BUSY), 0);
    assert_int_equal(x87_wait_check(&t.f, t.env.cr0, &wr), X87_OK);
    assert_int_equal(xr(&t, 0xD8, 0xC1), X87_OK);

    /* OE unmasked with a register destination: the result is stored with its exponent
     * wrapped by 24576 (SDM vol. 1, 8.5.4). */
    t_init(&t);
    set_fcw(&t, 0x0377);
    ld_bits(&t, 0x7FFE, ~0ULL);
    ld_bits(&t, 0x7FFE, ~0ULL);
    assert_int_equal(xr(&t, 0xD8, 0xC9), X87_OK);
    assert_int_equal(ext_se(st(&t, 0)), 0xBFFE - 0x6000);
    assert_int_equal(flags(&t) & OE, OE);
    assert_true(t.f.fsw & ES);

    /* OE unmasked with a memory destination: nothing stored, nothing popped. */
    t_init(&t);
    set_fcw(&t, 0x0377);
    ld(&t, 1e300L * 1e10L);
    memset(t.m.buf, 0xEE, 8);
    assert_int_equal(xm(&t, 0xD9, 3, NULL, 0), X87_OK);
    assert_int_equal(t.m.buf[0], 0xEE);
    assert_int_equal(fpu_top(&t.f), 7);

    /* PE unmasked: the store happens anyway. */
    t_init(&t);
    set_fcw(&t, 0x035F);
    ld_bits(&t, 0x3FFD, 0xAAAAAAAAAAAAAAABULL);
    assert_int_equal(xm(&t, 0xD9, 3, NULL, 0), X87_OK);
    uint32_t f;
    memcpy(&f, t.m.buf, 4);
    assert_int_equal(f, 0x3EAAAAABu);
    assert_int_equal(fpu_top(&t.f), 0);
    assert_int_equal(t.f.fsw & (PE | ES), PE | ES);

    /* DE unmasked: denormal operand, destination unchanged. */
    t_init(&t);
    set_fcw(&t, 0x037D);
    ld_bits(&t, 0x0000, 1);
    ld(&t, 1);
    assert_int_equal(xr(&t, 0xD8, 0xC1), X87_OK);
    assert_true(st(&t, 0) == 1);
    assert_int_equal(flags(&t), DE);
}

static void test_nm_ud_mf(void **state)
{
    struct t t;
    struct cpu_fpu before;
    struct x87_result wr;
    (void)state;

    t_init(&t);
    before = t.f;
    t.env.cr0 |= CPU_CR0_EM;
    assert_int_equal(xr(&t, 0xD9, 0xE8), X87_EXC);
    assert_int_equal(t.res.vector, CPU_NM);
    assert_int_equal(xr(&t, 0xDB, 0xE3), X87_EXC); /* FNINIT too */
    assert_int_equal(t.res.vector, CPU_NM);
    assert_int_equal(xm(&t, 0xDB, 1, NULL, 0), X87_EXC); /* even an FISTTP */
    assert_int_equal(t.res.vector, CPU_NM);
    t.env.cr0 &= ~CPU_CR0_EM;
    t.env.cr0 |= CPU_CR0_TS;
    assert_int_equal(xr(&t, 0xDF, 0xE0), X87_EXC);
    assert_int_equal(t.res.vector, CPU_NM);
    assert_false(t.res.set_ax);
    assert_memory_equal(&before, &t.f, sizeof(before));

    /* WAIT: #NM only with TS and MP; EM alone does not matter. */
    assert_int_equal(x87_wait_check(&t.f, CPU_CR0_TS, &wr), X87_OK);
    assert_int_equal(x87_wait_check(&t.f, CPU_CR0_TS | CPU_CR0_MP, &wr), X87_EXC);
    assert_int_equal(wr.vector, CPU_NM);
    assert_int_equal(x87_wait_check(&t.f, CPU_CR0_EM | CPU_CR0_MP | CPU_CR0_NE, &wr), X87_OK);
    t.f.fsw = 0x0004; /* ZE pending once unmasked */
    t.f.fcw = 0x037B;
    assert_int_equal(x87_wait_check(&t.f, CPU_CR0_NE, &wr), X87_EXC);
    assert_int_equal(wr.vector, CPU_MF);
    assert_int_equal(x87_wait_check(&t.f, 0, &wr), X87_OK);
    /* #NM takes priority over #MF. */
    t.env.cr0 = CPU_CR0_NE | CPU_CR0_TS;
    assert_int_equal(xr(&t, 0xD9, 0xE8), X87_EXC);
    assert_int_equal(t.res.vector, CPU_NM);
    /* Non-waiting instructions do not check for a pending exception. */
    t.env.cr0 = CPU_CR0_NE | CPU_CR0_PE;
    assert_int_equal(xr(&t, 0xDB, 0xE0), X87_OK); /* FNENI */
    assert_int_equal(xm(&t, 0xD9, 6, NULL, 0), X87_OK); /* FNSTENV, which masks everything */
    assert_int_equal(t.f.fcw, 0x037F);
    assert_int_equal(t.f.fsw & (ES | BUSY), 0);
    assert_int_equal(xr(&t, 0xD9, 0xE8), X87_OK);

    /* #UD: FISTTP (SSE3), reserved memory and register forms, wrong op, junk in x87, a memory
     * form without a memory operand. */
    static const unsigned ud_mem[][2] = {{0xDB, 1}, {0xDD, 1}, {0xDF, 1}, {0xD9, 1},
                                         {0xDB, 4}, {0xDB, 6}, {0xDD, 5}};
    static const unsigned ud_reg[][2] = {{0xD9, 0xD1}, {0xD9, 0xE2}, {0xD9, 0xEF}, {0xDA, 0xE8},
                                         {0xDB, 0xE5}, {0xDB, 0xF8}, {0xDD, 0xF0}, {0xDE, 0xD8},
                                         {0xDF, 0xE1}, {0xDF, 0xF8}};
    t_init(&t);
    before = t.f;
    for (unsigned i = 0; i < sizeof(ud_mem) / sizeof(ud_mem[0]); i++) {
        assert_int_equal(xm(&t, ud_mem[i][0], ud_mem[i][1], NULL, 0), X87_EXC);
        assert_int_equal(t.res.vector, CPU_UD);
    }
    for (unsigned i = 0; i < sizeof(ud_reg) / sizeof(ud_reg[0]); i++) {
        assert_int_equal(xr(&t, ud_reg[i][0], ud_reg[i][1]), X87_EXC);
        assert_int_equal(t.res.vector, CPU_UD);
    }
    struct ir_insn in = insn_reg(0xD9, 0xE8);
    in.op = IR_NOP;
    assert_int_equal(x87_exec(&t.f, &in, &t.env, &t.res), X87_EXC);
    assert_int_equal(t.res.vector, CPU_UD);
    in = insn_reg(0xD9, 0xE8);
    in.x87 |= 0x800;
    assert_int_equal(x87_exec(&t.f, &in, &t.env, &t.res), X87_EXC);
    in = insn_mem(0xD9, 0, 4);
    in.opd[0].kind = IR_OPK_REG;
    assert_int_equal(x87_exec(&t.f, &in, &t.env, &t.res), X87_EXC);
    assert_int_equal(t.res.vector, CPU_UD);
    assert_memory_equal(&before, &t.f, sizeof(before));
    assert_int_equal(t.m.reads + t.m.writes, 0);
}

static void test_control_instructions(void **state)
{
    struct t t;
    (void)state;

    t_init(&t);
    set_fcw(&t, 0x0000);
    assert_int_equal(t.f.fcw, 0x0040);
    set_fcw(&t, 0xFFFF);
    assert_int_equal(t.f.fcw, 0x1F7F);
    set_fcw(&t, 0x037F);
    assert_int_equal(xm(&t, 0xD9, 7, NULL, 0), X87_OK);
    assert_int_equal(t.m.last_size, 2);
    assert_memory_equal(t.m.buf, "\x7f\x03", 2);

    /* FLDCW unmasking a flag that is already set makes it pending. */
    ld(&t, 0);
    ld(&t, 1);
    assert_int_equal(xr(&t, 0xD8, 0xF1), X87_OK);
    assert_int_equal(t.f.fsw & (ES | BUSY), 0);
    set_fcw(&t, 0x037B);
    assert_int_equal(t.f.fsw & (ZE | ES | BUSY), ZE | ES | BUSY);
    assert_int_equal(xr(&t, 0xD9, 0xE8), X87_EXC);

    /* FNCLEX keeps C0-C3 and TOP. */
    t.f.fsw |= C0 | C2 | C3 | SF;
    unsigned keep = t.f.fsw & (CC | 0x3800);
    assert_int_equal(xr(&t, 0xDB, 0xE2), X87_OK);
    assert_int_equal(t.f.fsw, keep);

    /* FNINIT */
    t.f.fip = 1;
    t.f.fdp = 2;
    t.f.fop = 3;
    assert_int_equal(xr(&t, 0xDB, 0xE3), X87_OK);
    assert_int_equal(t.f.fcw, 0x037F);
    assert_int_equal(t.f.fsw, 0);
    assert_int_equal(t.f.ftw, 0xFFFF);
    assert_int_equal(t.f.fip | t.f.fdp | t.f.fop | t.f.fcs | t.f.fds, 0);

    /* FNENI / FNDISI / FNSETPM change nothing at all. */
    ld(&t, 5);
    struct cpu_fpu before = t.f;
    t.env.eip = 0x7777;
    assert_int_equal(xr(&t, 0xDB, 0xE0), X87_OK);
    assert_int_equal(xr(&t, 0xDB, 0xE1), X87_OK);
    assert_int_equal(xr(&t, 0xDB, 0xE4), X87_OK);
    assert_memory_equal(&before, &t.f, sizeof(before));

    /* Stack management */
    t_init(&t);
    ld(&t, 1);
    ld(&t, 2);
    assert_int_equal(xr(&t, 0xD9, 0xC9), X87_OK); /* FXCH */
    assert_true(st(&t, 0) == 1 && st(&t, 1) == 2);
    assert_int_equal(xr(&t, 0xD9, 0xF7), X87_OK); /* FINCSTP */
    assert_int_equal(fpu_top(&t.f), 7);
    assert_int_equal(fpu_tag(&t.f, 7), 0); /* not a pop: still valid */
    assert_int_equal(xr(&t, 0xD9, 0xF6), X87_OK); /* FDECSTP */
    assert_int_equal(fpu_top(&t.f), 6);
    assert_int_equal(xr(&t, 0xDD, 0xC1), X87_OK); /* FFREE st1 */
    assert_int_equal(fpu_tag(&t.f, 1), 3);
    assert_int_equal(fpu_top(&t.f), 6);
    assert_int_equal(xr(&t, 0xDF, 0xC0), X87_OK); /* FFREEP st0 */
    assert_int_equal(t.f.ftw, 0xFFFF);
    assert_int_equal(fpu_top(&t.f), 7);
    ld(&t, -3);
    assert_int_equal(xr(&t, 0xD9, 0xE1), X87_OK); /* FABS */
    assert_true(st(&t, 0) == 3);
    assert_int_equal(xr(&t, 0xD9, 0xE0), X87_OK); /* FCHS */
    assert_true(st(&t, 0) == -3);
    assert_int_equal(xr(&t, 0xDD, 0xD1), X87_OK); /* FST st1 */
    assert_true(st(&t, 1) == -3);
    assert_int_equal(xr(&t, 0xD9, 0xC1), X87_OK); /* FLD st1 */
    assert_int_equal(fpu_top(&t.f), 5);
    assert_int_equal(xr(&t, 0xD9, 0xD0), X87_OK); /* FNOP */
    assert_int_equal(flags(&t), 0);
}

static void test_bookkeeping(void **state)
{
    struct t t;
    double d = 2;
    uint32_t w[7];
    (void)state;

    t_init(&t);
    ld(&t, 1);
    t.env.eip = 0x12345678;
    t.env.cs = 0x1B;
    t.env.mem_offset = 0xCAFE0;
    t.env.mem_sel = 0x23;
    assert_int_equal(xm(&t, 0xDC, 1, &d, 8), X87_OK); /* FMUL m64 */
    assert_int_equal(t.f.fip, 0x12345678);
    assert_int_equal(t.f.fcs, 0x1B);
    assert_int_equal(t.f.fop, 0x408);
    assert_int_equal(t.f.fdp, 0xCAFE0);
    assert_int_equal(t.f.fds, 0x23);

    /* A register instruction updates FIP/FOP but not the data pointer. */
    t.env.eip = 0x2000;
    t.env.mem_offset = 0x9999;
    assert_int_equal(xr(&t, 0xD9, 0xE8), X87_OK);
    assert_int_equal(t.f.fip, 0x2000);
    assert_int_equal(t.f.fop, 0x1E8);
    assert_int_equal(t.f.fdp, 0xCAFE0);

    /* Control instructions and faults update nothing. */
    t.env.eip = 0x3000;
    assert_int_equal(xm(&t, 0xD9, 7, NULL, 0), X87_OK); /* FNSTCW */
    assert_int_equal(xr(&t, 0xDB, 0xE2), X87_OK);       /* FNCLEX */
    t.m.fail_read = true;
    assert_int_equal(xm(&t, 0xD8, 0, NULL, 0), X87_FAULT);
    t.m.fail_read = false;
    assert_int_equal(t.f.fip, 0x2000);

    /* ... and FNSTENV shows them in the 32-bit protected-mode image. */
    assert_int_equal(xm(&t, 0xD9, 6, NULL, 0), X87_OK);
    memcpy(w, t.m.buf, 28);
    assert_int_equal(w[3], 0x2000);
    assert_int_equal(w[4], 0x1B | 0x1E8u << 16);
    assert_int_equal(w[5], 0xCAFE0);
    assert_int_equal(w[6], 0xFFFF0023u);
}

static void test_fault_atomicity(void **state)
{
    static const struct {
        unsigned op, reg, size;
        bool write;
    } c[] = {
        {0xD8, 0, 4, false}, {0xDC, 3, 8, false}, {0xDB, 5, 10, false}, {0xDF, 4, 10, false},
        {0xDE, 0, 2, false}, {0xDA, 1, 4, false}, {0xDF, 5, 8, false}, {0xD9, 5, 2, false},
        {0xD9, 4, 28, false}, {0xDD, 4, 108, false},
        {0xD9, 3, 4, true}, {0xDD, 3, 8, true}, {0xDB, 7, 10, true}, {0xDF, 6, 10, true},
        {0xDF, 3, 2, true}, {0xDB, 3, 4, true}, {0xDF, 7, 8, true}, {0xD9, 6, 28, true},
        {0xDD, 6, 108, true}, {0xD9, 7, 2, true}, {0xDD, 7, 2, true},
    };
    (void)state;

    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct t t;
        struct cpu_fpu before;
        t_init(&t);
        ld(&t, 2);
        ld(&t, 3);
        before = t.f;
        t.m.fail_read = !c[i].write;
        t.m.fail_write = c[i].write;
        t.m.reads = t.m.writes = 0;
        assert_int_equal(xm(&t, c[i].op, c[i].reg, NULL, 0), X87_FAULT);
        assert_int_equal(t.res.status, X87_FAULT);
        assert_int_equal(t.m.last_size, c[i].size);
        assert_int_equal(c[i].write ? t.m.writes : t.m.reads, 1);
        assert_memory_equal(&before, &t.f, sizeof(before));
    }
    /* The 16-bit images are 14 and 94 bytes. */
    struct t t;
    t_init(&t);
    struct ir_insn in = insn_mem(0xDD, 6, 2);
    assert_int_equal(x87_exec(&t.f, &in, &t.env, &t.res), X87_OK);
    assert_int_equal(t.m.last_size, 94);
    in = insn_mem(0xD9, 4, 2);
    assert_int_equal(x87_exec(&t.f, &in, &t.env, &t.res), X87_OK);
    assert_int_equal(t.m.last_size, 14);
}

static void test_host_state_preserved(void **state)
{
    uint16_t cw_saved, cw = 0x0E7F, cw_after, sw_after;
    uint32_t mx_saved, mx = 0x5F80, mx_after;
    uint8_t env[28];
    (void)state;

    /* An unusual host control state: RC toward zero, PC 53 bits; SSE rounding up. */
    __asm__ volatile("fnstcw %0; stmxcsr %1" : "=m"(cw_saved), "=m"(mx_saved));
    __asm__ volatile("fldcw %0; ldmxcsr %1" : : "m"(cw), "m"(mx));

    struct t t;
    t_init(&t);
    set_fcw(&t, 0x0340); /* everything unmasked */
    ld(&t, 0);
    ld(&t, 1);
    assert_int_equal(xr(&t, 0xD8, 0xF1), X87_OK); /* unmasked ZE */
    t.env.cr0 &= ~CPU_CR0_NE;
    assert_int_equal(xr(&t, 0xD9, 0xFA), X87_OK); /* more, with one pending */
    assert_int_equal(xr(&t, 0xDB, 0xF1), X87_OK); /* FCOMI */
    t.env.eflags = 0x2 | CPU_CF;
    assert_int_equal(xr(&t, 0xDA, 0xC1), X87_OK); /* FCMOVB */
    assert_int_equal(xm(&t, 0xDD, 6, NULL, 0), X87_OK); /* FNSAVE */
    assert_int_equal(xm(&t, 0xDD, 4, NULL, 0), X87_OK); /* FRSTOR */
    assert_true(t.f.fsw & ES); /* the guest has its pending exception ... */

    __asm__ volatile("fnstcw %0; stmxcsr %1; fnstsw %2; fnstenv %3"
                     : "=m"(cw_after), "=m"(mx_after), "=m"(sw_after), "=m"(env));
    __asm__ volatile("fldcw %0; ldmxcsr %1" : : "m"(cw_saved), "m"(mx_saved));
    assert_int_equal(cw_after, cw);
    assert_int_equal(mx_after, mx);
    assert_int_equal(sw_after & (ES | BUSY | 0x3800), 0); /* ... the host has none, TOP 0 */
    assert_int_equal(env[8] | env[9] << 8, 0xFFFF);       /* and an empty stack */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_state),
        cmocka_unit_test(test_constants_and_rounding),
        cmocka_unit_test(test_arith_orientation),
        cmocka_unit_test(test_arith_memory_forms),
        cmocka_unit_test(test_precision_control),
        cmocka_unit_test(test_rounding_control),
        cmocka_unit_test(test_integer_store_overflow),
        cmocka_unit_test(test_stack_faults),
        cmocka_unit_test(test_compares),
        cmocka_unit_test(test_fcomi),
        cmocka_unit_test(test_fcmov),
        cmocka_unit_test(test_fxam),
        cmocka_unit_test(test_bcd),
        cmocka_unit_test(test_transcendentals),
        cmocka_unit_test(test_fprem),
        cmocka_unit_test(test_exceptions_masked),
        cmocka_unit_test(test_exceptions_unmasked),
        cmocka_unit_test(test_nm_ud_mf),
        cmocka_unit_test(test_control_instructions),
        cmocka_unit_test(test_bookkeeping),
        cmocka_unit_test(test_fault_atomicity),
        cmocka_unit_test(test_host_state_preserved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
