/*
 * test_tcache.c - the front-end's blocks and the vCPU's private translation cache: block
 * boundaries, validation of hostile blocks, lookup, chaining and its epochs, invalidation by
 * code writes (also of a block that straddles two pages), and flushing a full cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "translator/decode.h"
#include "translator/frontend.h"
#include "vcpu/tcache.h"

#define RAM (64 * 1024)

static uint8_t ram[RAM];
static union {
    struct tc_block_hdr h;
    uint8_t b[TC_MAX_BLOCK_BYTES];
} blk;

static struct msg_translate req_at(uint32_t eip, uint32_t phys)
{
    struct msg_translate r = {eip, phys, XL_NO_PAGE, 8192, IR_MODE_CS32 | IR_MODE_PE, 0};
    return r;
}

static size_t build(const struct msg_translate *r)
{
    size_t size = 0;
    assert_int_equal(fe_build_block(ram, RAM, r, &blk.h, sizeof blk, &size), XL_OK);
    return size;
}

static void put(uint32_t at, const char *bytes, size_t n) { memcpy(ram + at, bytes, n); }

static void test_block_ends_at_branch(void **state)
{
    (void)state;
    memset(ram, 0x90, RAM);
    /* mov eax,1 ; add eax,ebx ; jmp -2 (to itself) */
    put(0x1000, "\xb8\x01\x00\x00\x00\x01\xd8\xeb\xfe", 9);
    struct msg_translate r = req_at(0x1000, 0x1000);
    size_t size = build(&r);
    assert_int_equal(blk.h.ninsn, 3);
    assert_int_equal(blk.h.guest_bytes, 9);
    assert_int_equal(blk.h.end, TC_END_BRANCH);
    assert_int_equal(size, sizeof blk.h + 3 * sizeof(struct ir_insn));
    const struct ir_insn *in = (const void *)(&blk.h + 1);
    assert_int_equal(in[2].op, IR_JMP);
    assert_int_equal(in[2].imm, 0x1007);
}

static void test_block_ends_at_page_and_straddles(void **state)
{
    (void)state;
    memset(ram, 0x90, RAM);
    /* nops up to 2 bytes before the page end, then a 5-byte mov crossing into the next page */
    put(0x1ffe, "\xb8\x11\x22\x33\x44", 5);
    struct msg_translate r = req_at(0x1ff0, 0x1ff0);
    size_t size = 0;
    /* Without the next page the straddling instruction is left out of the block. */
    assert_int_equal(fe_build_block(ram, RAM, &r, &blk.h, sizeof blk, &size), XL_OK);
    assert_int_equal(blk.h.guest_bytes, 14);
    assert_int_equal(blk.h.end, TC_END_LIMIT);
    assert_int_equal(blk.h.phys_next, XL_NO_PAGE);
    /* With it, the block covers the instruction and names the second page. */
    r.phys_next = 0x2000;
    build(&r);
    assert_int_equal(blk.h.guest_bytes, 19);
    assert_int_equal(blk.h.phys_next, 0x2000);
    assert_int_equal(blk.h.end, TC_END_PAGE);
    /* A block whose first instruction cannot be fetched: #PF on the next page, or #GP at the
     * CS limit when the limit comes before the page end (bytes are fetched in order). */
    r = req_at(0x1ffe, 0x1ffe);
    assert_int_equal(fe_build_block(ram, RAM, &r, &blk.h, sizeof blk, &size), XL_FETCH_PAGE);
    r.limit = 3;
    assert_int_equal(fe_build_block(ram, RAM, &r, &blk.h, sizeof blk, &size), XL_FETCH_PAGE);
    r.limit = 1;
    assert_int_equal(fe_build_block(ram, RAM, &r, &blk.h, sizeof blk, &size), XL_FETCH_LIMIT);
}

static void test_block_full(void **state)
{
    (void)state;
    memset(ram, 0x90, RAM);
    struct msg_translate r = req_at(0x3000, 0x3000);
    build(&r);
    assert_int_equal(blk.h.ninsn, TC_MAX_INSNS);
    assert_int_equal(blk.h.end, TC_END_FULL);
}

static void test_outside_ram_reads_all_ones(void **state)
{
    (void)state;
    struct msg_translate r = req_at(0x100, RAM + 0x100);
    build(&r); /* FF FF is an invalid encoding: one #UD instruction */
    const struct ir_insn *in = (const void *)(&blk.h + 1);
    assert_int_equal(blk.h.ninsn, 1);
    assert_int_equal(in[0].op, IR_INVALID);
}

static void test_cache_insert_find_and_reject(void **state)
{
    (void)state;
    struct tcache tc;
    assert_int_equal(tcache_init(&tc, 1 << 20, RAM), 0);
    memset(ram, 0x90, RAM);
    put(0x1000, "\xb8\x01\x00\x00\x00\x01\xd8\xeb\xfe", 9);
    struct msg_translate r = req_at(0x1000, 0x1000);
    size_t size = build(&r);

    struct tb *t = tcache_insert(&tc, blk.b, size, &r);
    assert_non_null(t);
    assert_ptr_equal(tcache_find(&tc, 0x1000, 0x1000, r.mode), t);
    assert_null(tcache_find(&tc, 0x1000, 0x1000, 0));
    assert_null(tcache_find(&tc, 0x1001, 0x1000, r.mode));
    assert_true(tc.code_bitmap[0] & 2);

    /* Hostile variants of the same block, each must be rejected. */
    struct msg_translate other = r;
    other.eip++;
    assert_null(tcache_insert(&tc, blk.b, size, &other)); /* header does not match request */
    assert_null(tcache_insert(&tc, blk.b, size - 1, &r)); /* size does not match count */
    struct ir_insn *in = (struct ir_insn *)(&blk.h + 1);
    in[1].op = IR_OP_COUNT;
    assert_null(tcache_insert(&tc, blk.b, size, &r)); /* invalid op */
    in[1].op = IR_ADD;
    in[0].flags |= IR_F_ENDS_BLOCK;
    assert_null(tcache_insert(&tc, blk.b, size, &r)); /* block end in the middle */
    in[0].flags &= (uint8_t)~IR_F_ENDS_BLOCK;
    blk.h.guest_bytes = 4000;
    assert_null(tcache_insert(&tc, blk.b, size, &r)); /* bytes do not add up */
    blk.h.guest_bytes = 9;
    blk.h.magic = 0;
    assert_null(tcache_insert(&tc, blk.b, size, &r));
    blk.h.magic = TC_BLOCK_MAGIC;
    in[0].mem.index = IR_ESP;
    in[0].opd[1].kind = IR_OPK_MEM;
    assert_null(tcache_insert(&tc, blk.b, size, &r)); /* ESP as an index */
    assert_int_equal(tc.count.rejected, 7);
    assert_int_equal(tc.count.translated, 1);
    tcache_free(&tc);
}

static void test_code_write_invalidates(void **state)
{
    (void)state;
    struct tcache tc;
    assert_int_equal(tcache_init(&tc, 1 << 20, RAM), 0);
    memset(ram, 0x90, RAM);
    put(0x1ffe, "\xb8\x11\x22\x33\x44\xeb\xfe", 7);
    struct msg_translate a = req_at(0x1ff0, 0x1ff0);
    a.phys_next = 0x2000;
    size_t size = build(&a);
    struct tb *ta = tcache_insert(&tc, blk.b, size, &a);
    assert_non_null(ta);
    assert_int_equal(ta->phys_next, 0x2000);
    struct msg_translate b = req_at(0x5000, 0x5000);
    size = build(&b);
    struct tb *tb = tcache_insert(&tc, blk.b, size, &b);
    assert_non_null(tb);

    /* A write to a page without code changes nothing. */
    tcache_code_write(&tc, 0x8000, 4);
    assert_true(ta->valid && tb->valid);
    /* A write to the second page of the straddling block drops it, and only it. */
    tc.current = ta;
    tcache_code_write(&tc, 0x2001, 1);
    assert_false(ta->valid);
    assert_true(tc.current_hit);
    assert_true(tb->valid);
    assert_null(tcache_find(&tc, 0x1ff0, 0x1ff0, a.mode));
    assert_int_equal(tc.count.invalidations, 1);
    /* An access straddling two pages checks both. */
    tcache_code_write(&tc, 0x4ffe, 4);
    assert_false(tb->valid);
    tcache_free(&tc);
}

static void test_chaining_and_epochs(void **state)
{
    (void)state;
    struct tcache tc;
    assert_int_equal(tcache_init(&tc, 1 << 20, RAM), 0);
    memset(ram, 0x90, RAM);
    put(0x1000, "\x01\xd8\xeb\x10", 4); /* add eax,ebx ; jmp 0x1014 */
    put(0x1014, "\x01\xd8\xc3", 3);     /* add eax,ebx ; ret */
    struct msg_translate a = req_at(0x1000, 0x1000), b = req_at(0x1014, 0x1014);
    size_t size = build(&a);
    struct tb *ta = tcache_insert(&tc, blk.b, size, &a);
    size = build(&b);
    struct tb *tb = tcache_insert(&tc, blk.b, size, &b);
    assert_non_null(ta);
    assert_non_null(tb);
    assert_true(ta->chainable);
    assert_false(tb->chainable); /* RET: the successor is not fixed */

    assert_null(tb_next(&tc, ta, 0x1014));
    tb_chain(&tc, ta, tb);
    assert_ptr_equal(tb_next(&tc, ta, 0x1014), tb);
    assert_null(tb_next(&tc, ta, 0x1015));
    tcache_unchain_all(&tc);
    assert_null(tb_next(&tc, ta, 0x1014));
    tb_chain(&tc, ta, tb);
    assert_ptr_equal(tb_next(&tc, ta, 0x1014), tb);
    tcache_code_write(&tc, 0x1014, 1); /* same page: both go */
    assert_null(tb_next(&tc, ta, 0x1014));
    tcache_free(&tc);
}

static void test_full_cache_flushes(void **state)
{
    (void)state;
    struct tcache tc;
    size_t per = sizeof(struct tb) + TC_MAX_INSNS * sizeof(struct ir_insn);
    assert_int_equal(tcache_init(&tc, per * 4, RAM), 0);
    memset(ram, 0x90, RAM);
    for (uint32_t i = 0; i < 40; i++) {
        struct msg_translate r = req_at(0x1000 + i * 0x200, 0x1000 + i * 0x200);
        size_t size = build(&r);
        assert_non_null(tcache_insert(&tc, blk.b, size, &r));
    }
    assert_true(tc.count.flushes >= 9);
    assert_int_equal(tc.count.translated, 40);
    tcache_free(&tc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_ends_at_branch),
        cmocka_unit_test(test_block_ends_at_page_and_straddles),
        cmocka_unit_test(test_block_full),
        cmocka_unit_test(test_outside_ram_reads_all_ones),
        cmocka_unit_test(test_cache_insert_find_and_reject),
        cmocka_unit_test(test_code_write_invalidates),
        cmocka_unit_test(test_chaining_and_epochs),
        cmocka_unit_test(test_full_cache_flushes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
