/*
 * test_sysoracle.c - cmocka tests of the system oracle's host side and of the test kernel under
 * cloister: the emitter's encodings, the case builder, generator determinism and promises, the
 * case-file format (round trip and rejections), the result parser (rejections), the kernel
 * image's blob, and known answers written from the SDM for a few hand-built cases run in
 * cloister (so the framework's recording is checked against fixed values, not only against QEMU).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/sysoracle/casefile.h"
#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/kimage.h"
#include "tests/sysoracle/results.h"
#include "tests/sysoracle/runner.h"
#include "tests/sysoracle/sdm.h"

/* ---- emitter ---- */

static void expect_bytes(const struct emit *e, const uint8_t *want, size_t n)
{
    assert_false(e->overflow);
    assert_int_equal(e->n, n);
    assert_memory_equal(e->b, want, n);
}

static void test_emit_encodings(void **state)
{
    (void)state;
    struct emit e;
    em_init(&e, 0x1000);
    em_far(&e, true, false, 0x1B, 0x12345678);
    static const uint8_t lcall[] = {0x9A, 0x78, 0x56, 0x34, 0x12, 0x1B, 0x00};
    expect_bytes(&e, lcall, sizeof lcall);

    em_init(&e, 0);
    em_mov_cr(&e, 4, R_EAX);
    em_mov_rcr(&e, R_EBX, 3);
    em_store_esp(&e, 4, 0xCAFE);
    static const uint8_t crs[] = {0x0F, 0x22, 0xE0, 0x0F, 0x20, 0xDB, 0xC7, 0x84, 0x24,
                                  0x04, 0x00, 0x00, 0x00, 0xFE, 0xCA, 0x00, 0x00};
    expect_bytes(&e, crs, sizeof crs);

    em_init(&e, 0);
    em_lfp(&e, S_SS, R_EDI, 0x310C00);
    em_pop_s(&e, S_GS);
    em_store_imm(&e, S_FS, 0x10, 1);
    static const uint8_t seg[] = {0x0F, 0xB2, 0x3D, 0x00, 0x0C, 0x31, 0x00, 0x0F, 0xA9, 0x64, 0xC7, 0x05,
                                  0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
    expect_bytes(&e, seg, sizeof seg);

    /* E9 rel32 relative to the end of the instruction */
    em_init(&e, 0x310000);
    em_jmp_to(&e, 0x310000);
    static const uint8_t jmp[] = {0xE9, 0xFB, 0xFF, 0xFF, 0xFF};
    expect_bytes(&e, jmp, sizeof jmp);

    /* bounded */
    em_init(&e, 0);
    for (int i = 0; i < EMIT_MAX + 10; i++)
        em_u8(&e, 0x90);
    assert_true(e.overflow);
    assert_int_equal(e.n, EMIT_MAX);
}

/* ---- descriptors and the builder ---- */

static void test_descriptors(void **state)
{
    (void)state;
    /* flat ring-0 code: 0x00CF9A00 0000FFFF */
    assert_true(d_seg(0, 0xFFFFF, 0x9A, 0xC) == 0x00CF9A000000FFFFull);
    /* base 0x12345678, limit 0x54321 */
    assert_true(d_seg(0x12345678, 0x54321, 0x92, 0x4) == 0x1245923456784321ull);
    /* 32-bit interrupt gate, DPL 3, present, 0x0008:0x00311234 */
    assert_true(d_gate(0x08, 0x00311234, 0xE, 3, true, 0) == 0x0031EE0000081234ull);
    /* call gate with 5 parameters, not present */
    assert_true(d_gate(0xC3, 0x1000, 0xC, 0, false, 5) == 0x00000C0500C31000ull);
}

static void test_builder_ops(void **state)
{
    (void)state;
    struct sc *s = malloc(sizeof *s);
    assert_non_null(s);
    sc_init(s, "t", 3);
    assert_int_equal(s->c.cs, SO_SEL_CODE3);
    assert_int_equal(s->c.gpr[R_ESP], SO_ESP3);
    sc_poke32(s, 0x330000, 0x11223344);
    sc_zero(s, 0x330000, 8);
    sc_poke32(s, 0x330004, 0xAABBCCDD);
    uint32_t v = 0;
    assert_true(sc_initial32(s, 0x330000, &v));
    assert_int_equal(v, 0);
    assert_true(sc_initial32(s, 0x330004, &v));
    assert_int_equal(v, 0xAABBCCDD);
    assert_false(sc_initial32(s, 0x331000, &v));
    assert_int_equal(sc_op_count(s), 3);
    /* the dump list is bounded */
    sc_clear_dumps(s);
    for (int i = 0; i < SO_MAX_DUMP; i++)
        sc_dump(s, 0x1000);
    assert_false(s->overflow);
    sc_dump(s, 0x1000);
    assert_true(s->overflow);
    free(s);
}

/* ---- generators ---- */

static bool op_allowed(uint32_t addr, uint32_t len)
{
    uint64_t end = (uint64_t)addr + len;
    /* never the kernel image, its blob, the pad pages, or the framework's own stack */
    if (end > SO_KERNEL_BASE && addr < SO_GDT)
        return false;
    if (end > SO_PADS && addr < SO_PADS + 0x1000)
        return false;
    if (end > SO_LOWPADS && addr < SO_LOWPADS + 0x1000)
        return false;
    if (end > SO_HSTACK_TOP - 0x1000 && addr < SO_HSTACK_TOP)
        return false;
    /* the framework's descriptors 1..15 only for the TSS/LDT descriptor edits a case may make */
    if (addr >= SO_GDT + 8 && addr < SO_GDT + SO_FIRST_CASE_ENTRY * 8 && addr != SO_GDT + (SO_SEL_LDT & ~7) &&
        addr != SO_GDT + (SO_SEL_LDT & ~7) + 4)
        return false;
    return end <= SO_RAM_SIZE;
}

static void test_generators(void **state)
{
    (void)state;
    struct sc *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    uint8_t *ba = malloc(1 << 17), *bb = malloc(1 << 17);
    for (unsigned c = 0; c < so_nclasses; c++) {
        for (uint32_t i = 0; i < 300; i++) {
            so_generate(&so_classes[c], 7, i, a);
            so_generate(&so_classes[c], 7, i, b);
            assert_false(a->overflow);
            size_t na = sc_serialize(a, ba, 1 << 17), nb = sc_serialize(b, bb, 1 << 17);
            assert_true(na > sizeof(struct so_case));
            assert_int_equal(na, nb);
            assert_memory_equal(ba, bb, na); /* deterministic */
            assert_string_equal(a->desc, b->desc);
            assert_true(a->desc[0] != 0);
            struct sc_op_view v;
            for (size_t k = 0; sc_op_get(a, k, &v); k++) {
                if (!op_allowed(v.addr, v.len))
                    fail_msg("%s #%u writes [0x%x, +0x%x)", so_classes[c].name, i, v.addr, v.len);
            }
            assert_true(a->c.cs != 0 && a->c.ss != 0);
            if ((a->c.cs & 3) == 0)
                assert_int_equal(a->c.ss, SO_SEL_DATA0); /* so_enter's same-level path */
            assert_true(a->c.gdt_limit >= SO_FIRST_CASE_ENTRY * 8 - 1);
        }
        /* different indexes give different cases */
        so_generate(&so_classes[c], 7, 0, a);
        so_generate(&so_classes[c], 7, 1, b);
        size_t na = sc_serialize(a, ba, 1 << 17), nb = sc_serialize(b, bb, 1 << 17);
        assert_true(na != nb || memcmp(ba + 8, bb + 8, na - 8) != 0);
    }
    assert_null(so_class_find("nope"));
    assert_non_null(so_class_find("paging"));
    free(ba);
    free(bb);
    free(a);
    free(b);
}

/* ---- case files ---- */

static void test_casefile_round_trip(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    struct sc *orig = calloc(so_nclasses * 5, sizeof *orig);
    assert_non_null(orig);
    for (unsigned c = 0; c < so_nclasses; c++)
        for (unsigned i = 0; i < 5; i++) {
            so_generate(&so_classes[c], 3, i, &orig[c * 5 + i]);
            assert_int_equal(casefile_write(f, &orig[c * 5 + i], "comment\nsecond line"), 0);
        }
    fclose(f);
    struct sc *back;
    size_t n;
    char why[200];
    assert_int_equal(casefile_parse(text, len, &back, &n, why, sizeof why), 0);
    assert_int_equal(n, so_nclasses * 5);
    uint8_t *x = malloc(1 << 17), *y = malloc(1 << 17);
    for (size_t i = 0; i < n; i++) {
        size_t nx = sc_serialize(&orig[i], x, 1 << 17), ny = sc_serialize(&back[i], y, 1 << 17);
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, nx);
        assert_string_equal(orig[i].cls, back[i].cls);
        assert_string_equal(orig[i].desc, back[i].desc);
        assert_int_equal(orig[i].tags, back[i].tags);
        assert_memory_equal(orig[i].tagval, back[i].tagval, sizeof orig[i].tagval);
    }
    free(x);
    free(y);
    free(back);
    free(orig);
    free(text);
}

static void test_casefile_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "state cr0=1\n",                                   /* no case */
        "case t x\nstate bogus=1\nend\n",                  /* unknown key */
        "case t x\nstate cs=10000\nend\n",                 /* 16-bit field too large */
        "case t x\nstate cr0=12345678 9\nend\n",           /* not key=value */
        "case t x\ncopy 310000 0f0\nend\n",                /* odd hex */
        "case t x\ncopy 310000 zz\nend\n",                 /* not hex */
        "case t x\nzero 330000 20000\nend\n",              /* zero too long */
        "case t x\nfrobnicate\nend\n",                     /* unknown keyword */
        "case t x\ncopy 310000 0f0b\n",                    /* missing end */
        "case t x\ncase t y\nend\n",                       /* nested */
        "case t x\ndump 123456789\nend\n",                 /* more than 8 hex digits */
        "case\n",                                          /* no class */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sc *out = (struct sc *)1;
        size_t n = 99;
        char why[200] = "";
        assert_int_equal(casefile_parse(bad[i], strlen(bad[i]), &out, &n, why, sizeof why), -1);
        assert_null(out);
        assert_int_equal(n, 0);
        assert_true(strncmp(why, "line ", 5) == 0);
    }
    /* too many dumps */
    char buf[1024] = "case t x\ndump";
    for (int i = 0; i <= SO_MAX_DUMP; i++)
        strcat(buf, " 1000");
    strcat(buf, "\nend\n");
    struct sc *out;
    size_t n;
    char why[200];
    assert_int_equal(casefile_parse(buf, strlen(buf), &out, &n, why, sizeof why), -1);
    /* comments and blank lines are fine */
    static const char ok[] = "# c\n\ncase t desc words\n# inside\nstate eip=310000\ncopy 310000 0f0b\nend\n";
    assert_int_equal(casefile_parse(ok, strlen(ok), &out, &n, why, sizeof why), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].desc, "desc words");
    free(out);
}

/* ---- result lines ---- */

static void make_line(char *buf, size_t cap, uint32_t id, unsigned nfields, unsigned ndump)
{
    int n = snprintf(buf, cap, "junk before @SO R %x", id);
    for (unsigned i = 0; i < nfields; i++)
        n += snprintf(buf + n, cap - (size_t)n, " %x", i * 0x11);
    n += snprintf(buf + n, cap - (size_t)n, " %x", ndump);
    for (unsigned i = 0; i < ndump; i++)
        n += snprintf(buf + n, cap - (size_t)n, " %x", 0xdead0000 + i);
    snprintf(buf + n, cap - (size_t)n, "\r\n");
}

static void test_results_parse(void **state)
{
    (void)state;
    char text[8192], line[2048];
    struct so_result res[4];
    struct so_parsed p;
    snprintf(text, sizeof text, "SeaBIOS...\n@SO I 652 a93d\n@SO B 4 0\n");
    make_line(line, sizeof line, 0, SO_NFIELDS, 3);
    strcat(text, line);
    make_line(line, sizeof line, 2, SO_NFIELDS, 0);
    strcat(text, line);
    strcat(text, "@SO E 2\n");
    memset(res, 0, sizeof res);
    so_parse(text, strlen(text), res, 4, &p);
    assert_true(p.have_info && p.have_begin && p.have_end);
    assert_int_equal(p.cpuid_eax, 0x652);
    assert_int_equal(p.cpuid_edx, 0xa93d);
    assert_int_equal(p.results, 2);
    assert_int_equal(p.malformed, 0);
    assert_true(res[0].present && !res[1].present && res[2].present);
    assert_int_equal(res[0].f[3], 0x33);
    assert_int_equal(res[0].ndump, 3);
    assert_int_equal(res[0].dump[2], 0xdead0002);

    /* rejected: a field short, a field extra, id out of range, non-hex, 9 digits, too many dumps */
    memset(res, 0, sizeof res);
    text[0] = 0;
    make_line(line, sizeof line, 1, SO_NFIELDS - 1, 0);
    strcat(text, line);
    make_line(line, sizeof line, 1, SO_NFIELDS + 1, 0);
    strcat(text, line);
    make_line(line, sizeof line, 9, SO_NFIELDS, 0);
    strcat(text, line);
    strcat(text, "@SO R 1 xyz\n@SO R 123456789\n@SO Q\n@SO E\n");
    make_line(line, sizeof line, 1, SO_NFIELDS, SO_MAX_DUMP + 1);
    strcat(text, line);
    so_parse(text, strlen(text), res, 4, &p);
    assert_int_equal(p.results, 0);
    assert_int_equal(p.malformed, 8);
    assert_false(res[1].present);

    /* a duplicate keeps the first */
    text[0] = 0;
    make_line(line, sizeof line, 1, SO_NFIELDS, 1);
    strcat(text, line);
    strcat(text, line);
    memset(res, 0, sizeof res);
    so_parse(text, strlen(text), res, 4, &p);
    assert_int_equal(p.results, 1);
    assert_int_equal(p.duplicates, 1);
}

/* ---- the kernel under cloister, with answers written from the SDM ---- */

static void run_in_cloister(const struct kimage *k, struct sc **cases, uint32_t n, struct so_result *res)
{
    for (uint32_t i = 0; i < n; i++)
        cases[i]->c.id = i;
    uint32_t fits;
    uint8_t *img = kimage_build(k, (const struct sc *const *)cases, n, 0, &fits);
    assert_non_null(img);
    struct so_run run;
    assert_int_equal(so_run_cloister(img, k->size, 50000000, &run), 0);
    free(img);
    assert_int_equal(run.end, SO_END_CLEAN);
    struct so_parsed p;
    memset(res, 0, n * sizeof *res);
    so_parse(run.out, run.len, res, n, &p);
    assert_true(p.have_info && p.have_end);
    assert_int_equal(p.cpuid_eax, 0x652); /* family 6 model 5 stepping 2 */
    assert_int_equal(p.end_count, n);
    assert_int_equal(p.malformed, 0);
    so_run_free(&run);
}

static void test_known_answers(void **state)
{
    (void)state;
    struct kimage k;
    char why[300];
    assert_int_equal(kimage_load(&k, SYSORACLE_KERNEL, why, sizeof why), 0);
    enum { N = 6 };
    struct sc *c[N];
    for (int i = 0; i < N; i++) {
        c[i] = malloc(sizeof(struct sc));
        assert_non_null(c[i]);
    }
    struct emit e;
    uint32_t pad = SO_PADS + 0x100;

    /* 0: INT 0x80 from ring 3 through a DPL-3 interrupt gate to a ring-0 pad: the pad's #UD frame
     * (EIP, CS, EFLAGS with IF clear) sits on the ring-0 stack above which the INT frame is
     * (EIP after INT, CS 0x1B, EFLAGS, ESP, SS) */
    sc_init(c[0], "known", 3);
    c[0]->c.eflags = 0x202;
    sc_idt(c[0], 0x80, d_gate(SO_SEL_CODE0, pad, 0xE, 3, true, 0));
    em_init(&e, SO_CODE);
    em_int(&e, 0x80);
    em_ud2(&e);
    sc_code(c[0], &e);

    /* 1: the same through a DPL-0 gate: #GP(0x80 * 8 + 2) at the INT */
    sc_init(c[1], "known", 3);
    sc_idt(c[1], 0x80, d_gate(SO_SEL_CODE0, pad, 0xE, 0, true, 0));
    sc_code(c[1], &e);

    /* 2: MOV CR0 with NW and without CD: #GP(0) */
    sc_init(c[2], "known", 0);
    em_init(&e, SO_CODE);
    em_mov_ri(&e, R_EAX, 0x20000011);
    em_mov_cr(&e, 0, R_EAX);
    em_ud2(&e);
    sc_code(c[2], &e);

    /* 3: SYSENTER with SYSENTER_CS = 0: #GP(0) */
    sc_init(c[3], "known", 3);
    em_init(&e, SO_CODE);
    em_sysenter(&e);
    em_ud2(&e);
    sc_code(c[3], &e);

    /* 4: a user read of a not-present page: #PF, error code U (4), CR2 */
    sc_init(c[4], "known", 3);
    c[4]->c.cr3 = SO_PD;
    c[4]->c.cr0 = 0x80000011;
    em_init(&e, SO_CODE);
    em_load(&e, -1, R_EBX, 0x40001234);
    em_ud2(&e);
    sc_code(c[4], &e);

    /* 5: MOV DS with a not-present data segment: #NP(selector) */
    sc_init(c[5], "known", 0);
    sc_gdt(c[5], 20, d_seg(0, 0xFFFFF, 0x12, 0xC));
    em_init(&e, SO_CODE);
    em_mov_ri(&e, R_EAX, 20 * 8);
    em_mov_sr(&e, S_DS, R_EAX);
    em_ud2(&e);
    sc_code(c[5], &e);

    struct so_result r[N];
    run_in_cloister(&k, c, N, r);
    for (int i = 0; i < N; i++)
        assert_true(r[i].present);

    assert_int_equal(r[0].f[SO_F_VEC], 6);
    assert_int_equal(r[0].f[SO_F_FRAME + 0], pad);
    assert_int_equal(r[0].f[SO_F_FRAME + 1], SO_SEL_CODE0);
    assert_int_equal(r[0].f[SO_F_FRAME + 2] & 0x200, 0); /* interrupt gate cleared IF */
    assert_int_equal(r[0].f[SO_F_FRAME + 3], SO_CODE + 2);
    assert_int_equal(r[0].f[SO_F_FRAME + 4], SO_SEL_CODE3);
    assert_int_equal(r[0].f[SO_F_FRAME + 5] & 0x200, 0x200);
    assert_int_equal(r[0].f[SO_F_FRAME + 6], SO_ESP3);
    assert_int_equal(r[0].f[SO_F_FRAME + 7], SO_SEL_DATA3);
    assert_int_equal(r[0].f[SO_F_ESP], SO_ESP0 - 20 - 12);

    assert_int_equal(r[1].f[SO_F_VEC], 13);
    assert_int_equal(r[1].f[SO_F_FRAME + 0], 0x80 * 8 + 2);
    assert_int_equal(r[1].f[SO_F_FRAME + 1], SO_CODE);
    assert_int_equal(r[1].f[SO_F_FRAME + 2], SO_SEL_CODE3);

    assert_int_equal(r[2].f[SO_F_VEC], 13);
    assert_int_equal(r[2].f[SO_F_FRAME + 0], 0);
    assert_int_equal(r[2].f[SO_F_FRAME + 1], SO_CODE + 5);
    assert_int_equal(r[2].f[SO_F_CR0] & 0x20000000, 0);

    assert_int_equal(r[3].f[SO_F_VEC], 13);
    assert_int_equal(r[3].f[SO_F_FRAME + 0], 0);
    assert_int_equal(r[3].f[SO_F_FRAME + 1], SO_CODE);

    assert_int_equal(r[4].f[SO_F_VEC], 14);
    assert_int_equal(r[4].f[SO_F_FRAME + 0], 4);
    assert_int_equal(r[4].f[SO_F_CR2], 0x40001234);
    assert_int_equal(r[4].f[SO_F_CR0] & 0x80000000u, 0x80000000u);

    assert_int_equal(r[5].f[SO_F_VEC], 11);
    assert_int_equal(r[5].f[SO_F_FRAME + 0], 20 * 8);
    assert_int_equal(r[5].f[SO_F_DS], SO_SEL_DATA0);

    /* a blob that cannot hold the cases is refused */
    uint32_t fits;
    struct sc *many[1] = {c[0]};
    struct kimage small = k;
    small.capacity = 16;
    assert_null(kimage_build(&small, (const struct sc *const *)many, 1, 0, &fits));
    assert_int_equal(fits, 0);

    for (int i = 0; i < N; i++)
        free(c[i]);
    kimage_free(&k);
}

static void test_sdm_table(void **state)
{
    (void)state;
    assert_true(sdm_nrules > 0 && sdm_nrules <= 32);
    for (unsigned i = 0; i < sdm_nrules; i++) {
        assert_non_null(sdm_rules[i].name);
        assert_non_null(sdm_rules[i].section);
        assert_true(strstr(sdm_rules[i].section, "Vol.") != NULL);
        assert_non_null(sdm_rules[i].applies);
        assert_non_null(sdm_rules[i].fix);
        assert_true(sdm_rules[i].tag != 0);
    }
    /* a case without tags is never rewritten */
    struct sc *s = malloc(sizeof *s);
    sc_init(s, "t", 0);
    struct so_result q, ref;
    struct so_diff open;
    memset(&q, 0, sizeof q);
    q.present = true;
    q.f[SO_F_VEC] = 11;
    assert_int_equal(sdm_reference(s, &q, &ref, &open), 0);
    assert_memory_equal(&q, &ref, sizeof q);
    /* ret-ss-not-present turns QEMU's #NP(ss) at the return into #SS(ss) */
    s->tags = SDM_T_RET_SS_NP;
    s->tagval[3] = 0x310020;
    s->tagval[4] = 0xA3;
    q.f[SO_F_FRAME] = 0xA0;
    q.f[SO_F_FRAME + 1] = 0x310020;
    assert_true(sdm_reference(s, &q, &ref, &open) != 0);
    assert_int_equal(ref.f[SO_F_VEC], 12);
    assert_int_equal(ref.f[SO_F_FRAME], 0xA0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emit_encodings),
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_builder_ops),
        cmocka_unit_test(test_generators),
        cmocka_unit_test(test_casefile_round_trip),
        cmocka_unit_test(test_casefile_rejects),
        cmocka_unit_test(test_results_parse),
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_sdm_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
