/*
 * test_x87_diff.c - differential test of x87_exec against the host processor.
 *
 * For every one of the 2048 register encodings and 64 memory encodings: an encoding the i686
 * opcode table (x87_testlib.c) calls invalid must give #UD; every valid one is run on many
 * random states (random TOP, tags, edge-case and random register values, rounding and precision
 * control, masked and unmasked exceptions, masked sticky flags) with random edge-case memory
 * operands, once through x87_exec and once natively on the host through x87_native.c, and the
 * two must agree on: registers (all eight, 80 bits), FCW, FSW (minus condition bits the SDM
 * leaves undefined for that instruction), the full tag word, the memory operand afterwards,
 * EFLAGS for FCOMI/FUCOMI, AX for FNSTSW AX. Pointer fields are not compared here (the native
 * ones are host addresses); test_x87_env.c covers them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/x87/x87_native.h"
#include "tests/x87/x87_testlib.h"
#include "vcpu/x87.h"

struct fixture {
    struct native nat;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (!fx || native_init(&fx->nat) != 0) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    native_fini(&fx->nat);
    free(fx);
    return 0;
}

static void dump_fpu(const char *name, const struct cpu_fpu *f, uint16_t ftw)
{
    print_message("  %s: fcw %04x fsw %04x ftw %04x\n", name, f->fcw, f->fsw, ftw);
    for (unsigned i = 0; i < 8; i++)
        print_message("    phys %u: %04x %016llx\n", i, ext_se(f->st[i]),
                      (unsigned long long)ext_mant(f->st[i]));
}

/* Compare one executed instruction; returns true when they agree. */
static bool agree(unsigned code, const struct tinfo *t, const struct cpu_fpu *before,
                  const struct cpu_fpu *emu, const struct x87_result *res, const uint8_t *emem,
                  const struct cpu_fpu *nat, const struct native_out *nout, const uint8_t *nmem)
{
    uint16_t etw = x87_tag_word(emu);
    uint16_t ntw = nat->ftw;
    uint16_t mask = (uint16_t)~t->undef;
    unsigned msize = mtype_size(t->mtype, true);
    bool ok = true;

    if (emu->fcw != nat->fcw || (emu->fsw & mask) != (nat->fsw & mask) || etw != ntw)
        ok = false;
    for (unsigned i = 0; i < 8 && ok; i++)
        if (memcmp(&emu->st[i], &nat->st[i], 10) != 0)
            ok = false;
    if (t->store && memcmp(emem, nmem, msize) != 0)
        ok = false;
    if (res->set_flags && res->eflags_zpc != (nout->eflags & CPU_ARITH_FLAGS))
        ok = false;
    if (res->set_ax && res->ax != (uint16_t)nout->eax)
        ok = false;
    if (!ok) {
        print_error("mismatch for %02X %02X (x87 code %03x)\n", 0xD8 | code >> 8, code & 0xFF,
                    code);
        dump_fpu("before", before, before->ftw);
        dump_fpu("emulator", emu, etw);
        dump_fpu("native", nat, ntw);
        print_message("  flags emu %x nat %x, ax emu %x nat %x\n", res->eflags_zpc,
                      nout->eflags & CPU_ARITH_FLAGS, res->ax, nout->eax & 0xFFFF);
        if (msize) {
            print_message("  mem emu/nat:");
            for (unsigned i = 0; i < msize; i++)
                print_message(" %02x/%02x", emem[i], nmem[i]);
            print_message("\n");
        }
    }
    return ok;
}

/* Run `trials` random cases of one encoding. Returns the number of disagreements. */
static unsigned diff_code(const struct native *nat, struct rng *r, unsigned code, bool is_mem,
                          unsigned trials)
{
    struct tinfo t = tinfo_of(code, is_mem);
    struct ir_insn in = is_mem ? insn_mem(0xD8 | code >> 8, (code >> 3) & 7, 4)
                               : insn_reg(0xD8 | code >> 8, code & 0xFF);
    unsigned bad = 0;

    for (unsigned k = 0; k < trials; k++) {
        struct cpu_fpu before, emu, natf;
        struct tmem m;
        struct x87_env env;
        struct x87_result res;
        struct native_out nout;
        _Alignas(16) uint8_t nmem[128];
        uint32_t eflags = 0x2 | ((uint32_t)rng_next(r) & CPU_ARITH_FLAGS);

        fpu_random(r, &before);
        memset(&m, 0, sizeof(m));
        for (unsigned i = 0; i < sizeof(m.buf); i++)
            m.buf[i] = (uint8_t)rng_next(r);
        if (t.mtype != MT_NONE && !t.store)
            mem_random(r, t.mtype, m.buf);
        memcpy(nmem, m.buf, sizeof(nmem));
        tmem_env(&env, &m);
        env.eflags = eflags;

        emu = before;
        int rc = x87_exec(&emu, &in, &env, &res);
        if (rc != X87_OK) {
            print_error("%03x: x87_exec returned %d (vector %u)\n", code, rc, res.vector);
            bad++;
            continue;
        }
        natf = before;
        native_run(nat, &natf, code, nmem, eflags, &nout);
        if (!agree(code, &t, &before, &emu, &res, m.buf, &natf, &nout, nmem))
            bad++;
        if (bad > 5)
            break;
    }
    return bad;
}

/* The environment/save images have pointer fields the native run fills with host values;
 * test_x87_env.c compares those layouts with masks. */
static bool diff_skip(const struct tinfo *t)
{
    return t->mtype == MT_ENV || t->mtype == MT_SAVE;
}

static void test_register_forms(void **state)
{
    struct fixture *fx = *state;
    struct rng r = {0x1234567887654321ULL};
    unsigned bad = 0, valid = 0;

    for (unsigned code = 0; code < 0x800; code++) {
        if ((code & 0xFF) < 0xC0)
            continue;
        struct tinfo t = tinfo_of(code, false);
        if (!t.valid)
            continue;
        valid++;
        bad += diff_code(&fx->nat, &r, code, false, 48);
    }
    assert_int_equal(valid, 512 - 92); /* 92 reserved register encodings on an i686 */
    assert_int_equal(bad, 0);
}

static void test_memory_forms(void **state)
{
    struct fixture *fx = *state;
    struct rng r = {0x0DDBA11CAFEF00DULL};
    unsigned bad = 0, valid = 0;

    for (unsigned op = 0; op < 8; op++)
        for (unsigned reg = 0; reg < 8; reg++) {
            unsigned code = op << 8 | reg << 3;
            struct tinfo t = tinfo_of(code, true);
            if (!t.valid)
                continue;
            valid++;
            if (!diff_skip(&t))
                bad += diff_code(&fx->nat, &r, code, true, 600);
        }
    assert_int_equal(valid, 64 - 7); /* FISTTP x3, D9 /1, DB /4, DB /6, DD /5 */
    assert_int_equal(bad, 0);
}

/* Every encoding the i686 table calls invalid is #UD, and nothing else is. */
static void test_invalid_is_ud(void **state)
{
    struct rng r = {77};
    (void)state;

    for (unsigned code = 0; code < 0x800; code++) {
        bool is_mem = (code & 0xFF) < 0xC0;
        if (is_mem && (code & 0xC7))
            continue; /* not a form the IR produces */
        struct tinfo t = tinfo_of(code, is_mem);
        struct ir_insn in = is_mem ? insn_mem(0xD8 | code >> 8, (code >> 3) & 7, 4)
                                   : insn_reg(0xD8 | code >> 8, code & 0xFF);
        struct cpu_fpu f, before;
        struct tmem m;
        struct x87_env env;
        struct x87_result res;

        fpu_random(&r, &f);
        before = f;
        memset(&m, 0, sizeof(m));
        tmem_env(&env, &m);
        int rc = x87_exec(&f, &in, &env, &res);
        if (t.valid) {
            if (rc != X87_OK)
                print_error("code %03x (%s) valid but rc %d\n", code, is_mem ? "mem" : "reg", rc);
            assert_int_equal(rc, X87_OK);
        } else {
            if (rc != X87_EXC || res.vector != CPU_UD)
                print_error("code %03x (%s) should be #UD, rc %d\n", code,
                            is_mem ? "mem" : "reg", rc);
            assert_int_equal(rc, X87_EXC);
            assert_int_equal(res.vector, CPU_UD);
            assert_memory_equal(&f, &before, sizeof(f));
        }
    }
}

/* Rounding and precision control, exhaustively over RC x PC for the arithmetic group with
 * fixed awkward operands (results needing rounding at each precision). */
static void test_rc_pc_matrix(void **state)
{
    struct fixture *fx = *state;
    static const uint16_t ops[] = {
        0x0C1, 0x0C9, 0x0E1, 0x0E9, 0x0F1, 0x0F9, /* D8: FADD FMUL FSUB FSUBR FDIV FDIVR st,st1 */
        0x1FA, 0x1FC, 0x1F0, 0x1F1, 0x1F9, 0x1F3, 0x1FD, 0x1F4, /* FSQRT FRNDINT F2XM1 FYL2X ...*/
        0x1FE, 0x1FF, 0x1FB, 0x1F2, 0x1F8, 0x1F5,               /* FSIN FCOS FSINCOS FPTAN FPREM* */
        0x1EB, 0x1E9, 0x1EA, 0x1EC, 0x1ED,                      /* constants */
        0x5D9,                                                  /* FSTP st(1) */
    };
    static const struct {
        uint16_t se;
        uint64_t m;
    } vals[] = {
        {0x3FFF, 0xAAAAAAAAAAAAAAABULL}, {0x3FFD, 0xCCCCCCCCCCCCCCCDULL},
        {0xBFFE, 0xFFFFFFFFFFFFFFFFULL}, {0x4001, 0x8000000000000401ULL},
        {0x3FFE, 0xB504F333F9DE6484ULL}, {0xC005, 0xC90FDAA22168C235ULL},
    };
    unsigned bad = 0;

    for (unsigned rc = 0; rc < 4; rc++)
        for (unsigned pc = 0; pc < 4; pc++)
            for (unsigned a = 0; a < 6; a++)
                for (unsigned b = 0; b < 6; b++)
                    for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
                        struct cpu_fpu f, emu, nat;
                        struct tmem m;
                        struct x87_env env;
                        struct x87_result res;
                        struct native_out nout;
                        _Alignas(16) uint8_t nmem[128] = {0};
                        long double va, vb;
                        unsigned code = ops[o];
                        struct tinfo t = tinfo_of(code, false);
                        struct ir_insn in = insn_reg(0xD8 | code >> 8, code & 0xFF);

                        x87_init(&f);
                        f.fcw = (uint16_t)(0x7F | rc << 10 | pc << 8);
                        ext_make(&va, vals[a].se, vals[a].m);
                        ext_make(&vb, vals[b].se, vals[b].m);
                        fpu_push(&f, vb);
                        fpu_push(&f, va);
                        memset(&m, 0, sizeof(m));
                        tmem_env(&env, &m);
                        emu = f;
                        assert_int_equal(x87_exec(&emu, &in, &env, &res), X87_OK);
                        nat = f;
                        native_run(&fx->nat, &nat, code, nmem, 2, &nout);
                        if (!agree(code, &t, &f, &emu, &res, m.buf, &nat, &nout, nmem))
                            bad++;
                    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_is_ud),
        cmocka_unit_test(test_register_forms),
        cmocka_unit_test(test_memory_forms),
        cmocka_unit_test(test_rc_pc_matrix),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
