/*
 * test_case.c - the oracle case format: building, the data fill, text round trip, and the
 * parser's rejection of malformed regression files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/oracle/case.h"

static void sample(struct oracle_case *c)
{
    oc_init(c, "alu");
    static const uint8_t code[] = { 0x66, 0x01, 0xC8, 0x0F, 0x0B };
    assert_int_equal(oc_emit(c, code, sizeof code), 0);
    c->code_off = 0x20;
    for (int i = 0; i < 8; i++)
        c->regs[i] = 0x01020304u * (uint32_t)(i + 3);
    c->eflags = 0x8D5;
    c->seed = 0xFEDCBA9876543210ull;
    static const uint8_t pat[] = { 1, 2, 3, 4, 5 };
    assert_int_equal(oc_patch(c, ORN_DATA_BASE + 0x10, pat, sizeof pat), 0);
    c->sel[ORN_DS] = 0x7;
    c->ldt[0] = (struct orn_desc){ .base = 0xFFFF9000, .limit = 0xFFFFF, .present = 1, .seg_32bit = 1,
                                   .contents = 1, .read_exec_only = 0, .limit_in_pages = 1, .useable = 1, .not_present = 1 };
    c->undef = 0x10;
    c->flags = OC_F_X87 | OC_F_FAULT_PARTIAL;
    c->reg_ignore[2] = 0x000F0000;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct oracle_case a, b;
    sample(&a);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(oc_write_text(f, &a, "found by seed 7\nsecond line"), 0);
    assert_int_equal(oc_write_text(f, &a, NULL), 0);
    fclose(f);
    size_t pos = 0;
    unsigned line = 0;
    char err[128];
    for (int k = 0; k < 2; k++) {
        memset(&b, 0xAA, sizeof b);
        assert_int_equal(oc_parse_text(buf, len, &pos, &line, &b, err, sizeof err), 1);
        assert_memory_equal(&a, &b, sizeof a);
    }
    assert_int_equal(oc_parse_text(buf, len, &pos, &line, &b, err, sizeof err), 0);
    free(buf);
}

static void expect_reject(const char *text, const char *what)
{
    struct oracle_case c;
    size_t pos = 0;
    unsigned line = 0;
    char err[128] = "";
    int r = oc_parse_text(text, strlen(text), &pos, &line, &c, err, sizeof err);
    if (r != -1)
        fail_msg("accepted %s", what);
    assert_true(strncmp(err, "line ", 5) == 0);
}

static void test_parser_rejects(void **state)
{
    (void)state;
    expect_reject("code 90\n", "code before case");
    expect_reject("case alu\ncode 90\n", "missing end");
    expect_reject("case alu\ncode 9\nend\n", "odd hex digit");
    expect_reject("case alu\ncode 90zz\nend\n", "junk after a byte");
    expect_reject("case alu\nregs 1 2 3\nend\n", "short regs");
    expect_reject("case alu\nregs 1 2 3 4 5 6 7 8 9\nend\n", "trailing number");
    expect_reject("case alu\neflags 0x100000000\nend\n", "32-bit overflow");
    expect_reject("case alu\neflags -1\nend\n", "negative");
    expect_reject("case alu\npatch 0x100 00\nend\n", "patch outside the data area");
    expect_reject("case alu\npatch 0xBFFF 00 00\nend\n", "patch past the data area");
    expect_reject("case alu\nldt 4 0 0 1 1 0 0 0 0 0\nend\n", "ldt index");
    expect_reject("case alu\nldt 0 0 0x100000 1 1 0 0 0 0 0\nend\n", "ldt limit");
    expect_reject("case alu\ncode_off 0x1000\nend\n", "code offset past the page");
    expect_reject("case alu\ncode_off 0xFFF\ncode 90 90\nend\n", "code past the page");
    expect_reject("case alu\nbogus 1\nend\n", "unknown keyword");
    expect_reject("case alu\nflags 0x80\nend\n", "unknown flag");
    expect_reject("case alu\nignore 8 0xff\nend\n", "ignore register");
    expect_reject("case alu\nignore 1\nend\n", "ignore without mask");
    expect_reject("case 0123456789012345678901234567890\nend\n", "long class name");
    /* a code line longer than OC_CODE_MAX */
    size_t n = 16 + 3 * (OC_CODE_MAX + 1) + 8;
    char *big = malloc(n);
    assert_non_null(big);
    size_t k = (size_t)sprintf(big, "case a\ncode");
    for (unsigned i = 0; i <= OC_CODE_MAX; i++)
        k += (size_t)sprintf(big + k, " 90");
    sprintf(big + k, "\nend\n");
    expect_reject(big, "too much code");
    free(big);
}

static void test_comments_and_blank_lines(void **state)
{
    (void)state;
    const char *t = "# a regression\n\n  # indented comment\ncase shift\ncode c1 e0 05 0f 0b\nend\n";
    struct oracle_case c;
    size_t pos = 0;
    unsigned line = 0;
    char err[128];
    assert_int_equal(oc_parse_text(t, strlen(t), &pos, &line, &c, err, sizeof err), 1);
    assert_string_equal(c.cls, "shift");
    assert_int_equal(c.code_len, 5);
    assert_int_equal(c.code[2], 5);
    assert_int_equal(line, 6);
}

static void test_emit_and_patch_bounds(void **state)
{
    (void)state;
    struct oracle_case c;
    oc_init(&c, "x");
    uint8_t big[OC_CODE_MAX + 1];
    memset(big, 0x90, sizeof big);
    assert_int_equal(oc_emit(&c, big, OC_CODE_MAX), 0);
    assert_int_equal(oc_emit(&c, big, 1), -E2BIG);
    oc_init(&c, "x");
    c.code_off = ORN_CODE_SIZE - 2;
    assert_int_equal(oc_emit(&c, big, 3), -E2BIG);
    /* a long patch is split into chunks; too many chunks is refused */
    uint8_t data[OC_PATCH_BYTES * 3];
    memset(data, 7, sizeof data);
    assert_int_equal(oc_patch(&c, ORN_DATA_BASE, data, sizeof data), 0);
    assert_int_equal(c.npatch, 3);
    assert_int_equal(oc_patch(&c, ORN_DATA_BASE - 1, data, 1), -EINVAL);
    assert_int_equal(oc_patch(&c, ORN_DATA_BASE + ORN_DATA_SIZE - 1, data, 2), -EINVAL);
    for (unsigned i = c.npatch; i < OC_PATCH_MAX; i++)
        assert_int_equal(oc_patch(&c, ORN_DATA_BASE, data, 1), 0);
    assert_int_equal(oc_patch(&c, ORN_DATA_BASE, data, 1), -E2BIG);
}

static void test_data_and_code_images(void **state)
{
    (void)state;
    static uint8_t d1[ORN_DATA_SIZE], d2[ORN_DATA_SIZE];
    oc_fill_data(5, d1);
    oc_fill_data(5, d2);
    assert_memory_equal(d1, d2, sizeof d1);
    oc_fill_data(6, d2);
    assert_memory_not_equal(d1, d2, sizeof d1);
    struct oracle_case c;
    sample(&c);
    oc_build_data(&c, d2);
    assert_int_equal(d2[0x10], 1);
    assert_int_equal(d2[0x14], 5);
    static uint8_t page[ORN_CODE_SIZE];
    oc_build_code(&c, page);
    assert_int_equal(page[0], 0xCC);
    assert_int_equal(page[0x20], 0x66);
    assert_int_equal(page[0x24], 0x0B);
    assert_int_equal(page[0x25], 0xCC);
    struct orn_in *in = malloc(sizeof *in);
    assert_non_null(in);
    oc_to_native(&c, in);
    assert_int_equal(in->entry, ORN_CODE_BASE + 0x20);
    assert_int_equal(in->flags, ORN_IN_X87);
    assert_int_equal(in->sel[ORN_DS], 7);
    assert_memory_equal(in->data, d2, sizeof d2);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parser_rejects),
        cmocka_unit_test(test_comments_and_blank_lines),
        cmocka_unit_test(test_emit_and_patch_bounds),
        cmocka_unit_test(test_data_and_code_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
