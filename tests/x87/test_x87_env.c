/*
 * test_x87_env.c - the FNSTENV/FLDENV and FNSAVE/FRSTOR memory images.
 *
 * Protected-mode layouts (32-bit and 16-bit) are compared byte for byte with the host's own
 * FNSTENV/FNSAVE (o16: with an operand-size prefix) for random states, except the pointer
 * fields (FIP, FCS, FOP, FDP, FDS), whose native values are host addresses; those are checked
 * against known values instead. Loading random images with FLDENV/FRSTOR must give the state
 * the host gets. Real-mode layouts, which the host cannot produce in 64-bit mode, are checked
 * against images built by hand from the SDM's figures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

static int run_mem(struct cpu_fpu *f, struct tmem *m, unsigned opcode, unsigned reg,
                   unsigned osize, bool pmode)
{
    struct ir_insn in = insn_mem(opcode, reg, osize);
    struct x87_env env;
    struct x87_result res;

    tmem_env(&env, m);
    env.pmode = pmode;
    env.cr0 &= ~CPU_CR0_NE; /* FLDENV/FRSTOR must run even with a pending exception */
    return x87_exec(f, &in, &env, &res);
}

/* Bytes of the image that hold pointers (FIP, FCS|FOP, FDP, FDS low half). */
static bool is_pointer_byte(unsigned i, bool o32)
{
    return o32 ? (i >= 12 && i < 26) : (i >= 6 && i < 14);
}

static void compare_image(const uint8_t *emu, const uint8_t *nat, unsigned len, bool o32)
{
    for (unsigned i = 0; i < len; i++) {
        if (is_pointer_byte(i, o32))
            continue;
        if (emu[i] != nat[i])
            print_error("image byte %u: emulator %02x native %02x\n", i, emu[i], nat[i]);
        assert_int_equal(emu[i], nat[i]);
    }
}

static void compare_state(const struct cpu_fpu *emu, const struct cpu_fpu *nat)
{
    assert_int_equal(emu->fcw, nat->fcw);
    assert_int_equal(emu->fsw, nat->fsw);
    assert_int_equal(x87_tag_word(emu), nat->ftw);
    for (unsigned i = 0; i < 8; i++)
        assert_memory_equal(&emu->st[i], &nat->st[i], 10);
}

/* A random state, possibly with a pending unmasked exception (FNSTENV/FNSAVE do not wait). */
static void state_random(struct rng *r, struct cpu_fpu *f)
{
    fpu_random(r, f);
    if (rng_below(r, 3) == 0) {
        f->fsw |= (uint16_t)(rng_next(r) & 0x3F);
        f->fsw = (uint16_t)((f->fsw & 0x7F7F) | ((f->fsw & ~f->fcw & 0x3F) ? 0x8080 : 0));
    }
    f->fip = (uint32_t)rng_next(r);
    f->fdp = (uint32_t)rng_next(r);
    f->fcs = (uint16_t)rng_next(r);
    f->fds = (uint16_t)rng_next(r);
    f->fop = (uint16_t)(rng_next(r) & 0x7FF);
}

static void test_store_matches_native(void **state)
{
    struct fixture *fx = *state;
    struct rng r = {0xFEEDFACE12345ULL};

    for (unsigned k = 0; k < 400; k++) {
        bool o32 = k & 1, save = k & 2;
        unsigned len = (o32 ? 28 : 14) + (save ? 80 : 0);
        struct cpu_fpu f, emu, natf;
        struct tmem m;
        uint8_t nat[128];
        struct native_out out;

        state_random(&r, &f);
        memset(&m, 0, sizeof(m));
        memset(nat, 0, sizeof(nat));
        emu = f;
        assert_int_equal(run_mem(&emu, &m, save ? 0xDD : 0xD9, 6, o32 ? 4 : 2, true), X87_OK);
        assert_int_equal(m.last_size, len);
        if (save)
            native_fnsave(&fx->nat, &f, nat, !o32);
        else
            native_fnstenv(&fx->nat, &f, nat, !o32);
        compare_image(m.buf, nat, len, o32);

        /* The state afterwards: FNSTENV masks all exceptions, FNSAVE initialises. */
        natf = f;
        native_run(&fx->nat, &natf, save ? 0x530 : 0x130, nat, 0, &out);
        compare_state(&emu, &natf);
    }
}

static void test_load_matches_native(void **state)
{
    struct fixture *fx = *state;
    struct rng r = {0xABCDEF987ULL};

    for (unsigned k = 0; k < 600; k++) {
        bool o32 = k & 1, rstor = k & 2;
        unsigned len = (o32 ? 28 : 14) + (rstor ? 80 : 0);
        struct cpu_fpu f, src, emu, natf;
        struct tmem m;
        _Alignas(16) uint8_t nat[128];
        struct native_out out;

        fpu_random(&r, &f);
        memset(&m, 0, sizeof(m));
        if (k & 4) {
            /* a plausible image: what FNSAVE wrote for another random state */
            state_random(&r, &src);
            assert_int_equal(run_mem(&src, &m, rstor ? 0xDD : 0xD9, 6, o32 ? 4 : 2, true),
                             X87_OK);
        } else {
            for (unsigned i = 0; i < len; i++)
                m.buf[i] = (uint8_t)rng_next(&r);
        }
        memcpy(nat, m.buf, sizeof(nat));
        emu = f;
        assert_int_equal(run_mem(&emu, &m, rstor ? 0xDD : 0xD9, 4, o32 ? 4 : 2, true), X87_OK);
        assert_int_equal(m.last_size, len);
        natf = f;
        if (o32)
            native_run(&fx->nat, &natf, rstor ? 0x520 : 0x120, nat, 0, &out);
        else
            native_run16(&fx->nat, &natf, rstor ? 0x520 : 0x120, nat, 0, &out);
        compare_state(&emu, &natf);
    }
}

static void test_load16_roundtrip(void **state)
{
    struct fixture *fx = *state;
    struct rng r = {0x5151ULL};

    /* 16-bit images: what the host's o16 FNSTENV/FNSAVE wrote, loaded by the emulator, must
     * give back the state (all but the pointers, which the host does not record for us). */
    for (unsigned k = 0; k < 200; k++) {
        bool save = k & 1;
        struct cpu_fpu f, emu;
        struct tmem m;

        state_random(&r, &f);
        memset(&m, 0, sizeof(m));
        if (save)
            native_fnsave(&fx->nat, &f, m.buf, true);
        else
            native_fnstenv(&fx->nat, &f, m.buf, true);
        x87_init(&emu);
        if (!save)
            memcpy(emu.st, f.st, sizeof(f.st));
        assert_int_equal(run_mem(&emu, &m, save ? 0xDD : 0xD9, 4, 2, true), X87_OK);
        assert_int_equal(emu.fcw, (f.fcw & 0x1F3F) | 0x40);
        assert_int_equal(emu.fsw, f.fsw);
        assert_int_equal(x87_tag_word(&emu), x87_tag_word(&f));
        for (unsigned i = 0; i < 8; i++)
            assert_memory_equal(&emu.st[i], &f.st[i], 10);
    }
}

static void fill_pointers(struct cpu_fpu *f)
{
    x87_init(f);
    f->fip = 0x00012345;
    f->fcs = 0x1234;
    f->fop = 0x5A5;
    f->fdp = 0x00067890;
    f->fds = 0xABCD;
}

static void test_pointer_fields_protected(void **state)
{
    struct cpu_fpu f, g;
    struct tmem m;
    (void)state;

    fill_pointers(&f);
    f.fip = 0x89ABCDEF;
    f.fdp = 0x76543210;
    memset(&m, 0, sizeof(m));
    assert_int_equal(run_mem(&f, &m, 0xD9, 6, 4, true), X87_OK);
    assert_memory_equal(m.buf + 12,
                        "\xEF\xCD\xAB\x89" "\x34\x12\xA5\x05" "\x10\x32\x54\x76" "\xCD\xAB\xFF\xFF",
                        16);
    x87_init(&g);
    assert_int_equal(run_mem(&g, &m, 0xD9, 4, 4, true), X87_OK);
    assert_int_equal(g.fip, 0x89ABCDEF);
    assert_int_equal(g.fcs, 0x1234);
    assert_int_equal(g.fop, 0x5A5);
    assert_int_equal(g.fdp, 0x76543210);
    assert_int_equal(g.fds, 0xABCD);

    memset(&m, 0, sizeof(m));
    assert_int_equal(run_mem(&f, &m, 0xD9, 6, 2, true), X87_OK);
    assert_memory_equal(m.buf + 6, "\xEF\xCD\x34\x12\x10\x32\xCD\xAB", 8);
}

static void test_real_mode_layouts(void **state)
{
    struct cpu_fpu f, g;
    struct tmem m;
    (void)state;

    /* linear FIP = 0x1234 * 16 + 0x12345 = 0x24685, linear FDP = 0xABCD0 + 0x67890 = 0x113560 */
    fill_pointers(&f);
    f.fcw = 0x027F;
    memset(&m, 0, sizeof(m));
    assert_int_equal(run_mem(&f, &m, 0xD9, 6, 4, false), X87_OK);
    assert_memory_equal(m.buf,
                        "\x7F\x02\xFF\xFF" "\x00\x00\xFF\xFF" "\xFF\xFF\xFF\xFF"
                        "\x85\x46\x00\x00" "\xA5\x25\x00\x00"  /* FOP | FIP[31:16] << 12 */
                        "\x60\x35\x00\x00" "\x00\x10\x01\x00", /* FDP[31:16] << 12 */
                        28);
    x87_init(&g);
    assert_int_equal(run_mem(&g, &m, 0xD9, 4, 4, false), X87_OK);
    assert_int_equal(g.fip, 0x24685);
    assert_int_equal(g.fcs, 0);
    assert_int_equal(g.fop, 0x5A5);
    assert_int_equal(g.fdp, 0x113560);
    assert_int_equal(g.fds, 0);
    assert_int_equal(g.fcw, 0x027F);

    fill_pointers(&f);
    memset(&m, 0, sizeof(m));
    assert_int_equal(run_mem(&f, &m, 0xD9, 6, 2, false), X87_OK);
    assert_memory_equal(m.buf,
                        "\x7F\x03" "\x00\x00" "\xFF\xFF" "\x85\x46" "\xA5\x25" "\x60\x35"
                        "\x00\x10",
                        14);
    x87_init(&g);
    assert_int_equal(run_mem(&g, &m, 0xD9, 4, 2, false), X87_OK);
    assert_int_equal(g.fip, 0x24685);
    assert_int_equal(g.fop, 0x5A5);
    assert_int_equal(g.fdp, 0x13560); /* only 20 bits in the 16-bit image */
}

static void test_save_restore_roundtrip(void **state)
{
    struct rng r = {99};
    (void)state;

    for (unsigned k = 0; k < 200; k++) {
        bool o32 = k & 1, pmode = k & 2;
        struct cpu_fpu f, g;
        struct tmem m;

        state_random(&r, &f);
        f.fcw = (uint16_t)((f.fcw & 0x1F3F) | 0x40);
        if (!pmode) {
            f.fcs = 0;
            f.fds = 0;
            f.fip &= o32 ? 0x0FFFFFFF : 0xFFFFF;
            f.fdp &= o32 ? 0x0FFFFFFF : 0xFFFFF;
        }
        g = f;
        memset(&m, 0, sizeof(m));
        assert_int_equal(run_mem(&g, &m, 0xDD, 6, o32 ? 4 : 2, pmode), X87_OK);
        assert_int_equal(g.fcw, 0x037F); /* initialised */
        assert_int_equal(g.ftw, 0xFFFF);
        assert_int_equal(run_mem(&g, &m, 0xDD, 4, o32 ? 4 : 2, pmode), X87_OK);
        assert_int_equal(g.fcw, f.fcw);
        assert_int_equal(g.fsw, f.fsw);
        assert_int_equal(g.ftw, x87_tag_word(&f));
        for (unsigned i = 0; i < 8; i++)
            assert_memory_equal(&g.st[i], &f.st[i], 10);
        assert_int_equal(g.fip, o32 || !pmode ? f.fip : (f.fip & 0xFFFF));
        assert_int_equal(g.fdp, o32 || !pmode ? f.fdp : (f.fdp & 0xFFFF));
        if (pmode) {
            assert_int_equal(g.fcs, f.fcs);
            assert_int_equal(g.fds, f.fds);
        }
        if (o32 || !pmode) /* the 16-bit protected-mode image has no FOP */
            assert_int_equal(g.fop, f.fop);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_matches_native),
        cmocka_unit_test(test_load_matches_native),
        cmocka_unit_test(test_load16_roundtrip),
        cmocka_unit_test(test_pointer_fields_protected),
        cmocka_unit_test(test_real_mode_layouts),
        cmocka_unit_test(test_save_restore_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
