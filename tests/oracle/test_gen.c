/*
 * test_gen.c - the generator side of the oracle without any CPU: the SDM flags table, memory
 * operand planning (the encoded address really is the one planned), determinism of generated
 * cases, and the structural promises every class makes (code ends in UD2 or at the page end,
 * patches inside the data area, x87 cases flagged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <capstone/capstone.h>

#include "ipc/ir.h"
#include "tests/oracle/flags_table.h"
#include "tests/oracle/gen.h"

static void test_flags_table(void **state)
{
    (void)state;
    struct flag_effect e = flags_effect(IR_ADD, 4, 0);
    assert_int_equal(e.def, OF_ARITH);
    assert_int_equal(e.undef, 0);
    e = flags_effect(IR_AND, 1, 0);
    assert_int_equal(e.undef, OF_AF);
    e = flags_effect(IR_INC, 2, 0);
    assert_false(e.def & OF_CF);
    assert_false(e.undef & OF_CF);
    e = flags_effect(IR_MUL, 4, 0);
    assert_int_equal(e.def, OF_CF | OF_OF);
    e = flags_effect(IR_DIV, 1, 0);
    assert_int_equal(e.undef, OF_ARITH);
    /* shifts: count masked to 5 bits, 0 touches nothing, OF only for 1 */
    e = flags_effect(IR_SHL, 4, 32);
    assert_int_equal(e.def | e.undef, 0);
    e = flags_effect(IR_SHL, 4, 1);
    assert_true(e.def & OF_OF);
    assert_true(e.undef & OF_AF);
    e = flags_effect(IR_SHR, 1, 9);
    assert_true(e.undef & OF_CF); /* count >= width */
    e = flags_effect(IR_SAR, 1, 9);
    assert_true(e.def & OF_CF);
    e = flags_effect(IR_ROL, 1, 8); /* masked count 8: CF defined, OF not */
    assert_int_equal(e.def, OF_CF);
    assert_int_equal(e.undef, OF_OF);
    e = flags_effect(IR_RCR, 2, 0x20);
    assert_int_equal(e.def | e.undef, 0);
    e = flags_effect(IR_SHLD, 2, 17);
    assert_int_equal(e.undef, OF_ARITH);
    e = flags_effect(IR_SHRD, 2, 16);
    assert_true(e.def & OF_CF);
    e = flags_effect(IR_BT, 4, 0);
    assert_int_equal(e.def, OF_CF);
    assert_false((e.def | e.undef) & OF_ZF);
    assert_int_equal(flags_read(IR_ADC), OF_CF);
    assert_int_equal(flags_read(IR_PUSHF), OF_ARITH | OF_DF);
    assert_int_equal(flags_for_cond(IR_CC_LE), OF_SF | OF_OF | OF_ZF);
    assert_int_equal(flags_for_cond(IR_CC_P), OF_PF);
}

/* Recompute a planned operand's effective address from its encoding and register values. */
static uint32_t ea_of(const struct og_mem *m)
{
    if (m->a16) {
        static const int8_t a[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
        static const int8_t b[8] = { R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1 };
        uint32_t ea = m->mod == 1 ? (uint32_t)(int8_t)m->disp : m->disp;
        if (m->mod == 0 && m->rm == 6)
            return m->disp & 0xFFFF;
        ea += m->val[a[m->rm]];
        if (b[m->rm] >= 0)
            ea += m->val[b[m->rm]];
        return ea & 0xFFFF;
    }
    uint32_t disp = m->disp_size == 1 ? (uint32_t)(int8_t)m->disp : m->disp;
    if (!m->has_sib) {
        if (m->mod == 0 && m->rm == 5)
            return disp;
        return m->val[m->rm] + disp;
    }
    unsigned scale = m->sib >> 6, index = (m->sib >> 3) & 7, base = m->sib & 7;
    uint32_t ea = disp;
    if (index != 4)
        ea += m->val[index] << scale;
    if (!(base == 5 && m->mod == 0))
        ea += m->val[base];
    return ea;
}

static void test_mem_plan(void **state)
{
    (void)state;
    struct rng r = { 77 };
    struct og_ctx x = { .r = &r };
    for (int i = 0; i < 20000; i++) {
        uint32_t off = ORN_DATA_BASE + rng_below(&r, ORN_DATA_SIZE);
        uint8_t avoid = (uint8_t)rng_u32(&r);
        struct og_mem m;
        x.seq = (i & 1) != 0;
        og_mem_plan(&x, off, avoid, 0, &m);
        assert_int_equal(ea_of(&m), off);
        assert_int_equal(m.regs & avoid, 0);
        if (x.seq)
            assert_false(m.regs & RB(R_ESP));
        /* the default segment follows EBP/ESP bases */
        if (m.def_seg == S_SS)
            assert_true(m.regs & (RB(R_EBP) | RB(R_ESP)));
    }
}

static void test_cases_deterministic_and_sane(void **state)
{
    (void)state;
    unsigned n;
    const struct og_class *k = og_classes(&n);
    assert_true(n >= 13);
    static struct oracle_case a, b;
    for (unsigned ci = 0; ci < n; ci++) {
        for (uint64_t i = 0; i < 300; i++) {
            assert_int_equal(og_make_case(&k[ci], 5, i, &a), 0);
            assert_int_equal(og_make_case(&k[ci], 5, i, &b), 0);
            assert_memory_equal(&a, &b, sizeof a);
            assert_string_equal(a.cls, k[ci].name);
            assert_true(a.code_len > 0);
            assert_true(a.code_off + a.code_len <= ORN_CODE_SIZE);
            bool ends_ud2 = a.code_len >= 2 && a.code[a.code_len - 2] == 0x0F && a.code[a.code_len - 1] == 0x0B;
            assert_true(ends_ud2 || a.code_off + a.code_len == ORN_CODE_SIZE);
            for (uint32_t p = 0; p < a.npatch; p++) {
                assert_true(a.patch[p].addr >= ORN_DATA_BASE);
                assert_true(a.patch[p].addr + a.patch[p].len <= ORN_DATA_BASE + ORN_DATA_SIZE);
            }
            assert_int_equal(a.undef & ~OF_ARITH, 0);
            if (!strcmp(k[ci].name, "x87"))
                assert_true(a.flags & OC_F_X87);
            if (strcmp(k[ci].name, "segment") != 0)
                for (int s = 0; s < 6; s++)
                    assert_int_equal(a.sel[s], 0);
        }
        /* a different seed gives different cases */
        assert_int_equal(og_make_case(&k[ci], 6, 0, &b), 0);
        assert_int_equal(og_make_case(&k[ci], 5, 0, &a), 0);
        assert_memory_not_equal(&a, &b, sizeof a);
    }
}

static void test_seq_never_writes_esp(void **state)
{
    (void)state;
    /* sequences rely on ESP staying a stack pointer in the data area: no instruction of a
     * generated sequence may name ESP/SP as an explicitly written operand (PUSH/POP/CALL/ENTER
     * change it implicitly, by small amounts, and the generators' own LEA ESP, [ESP+n] fix-ups
     * after pushes are small too) */
    const struct og_class *seq = og_find_class("seq");
    assert_non_null(seq);
    csh h;
    assert_int_equal(cs_open(CS_ARCH_X86, CS_MODE_32, &h), CS_ERR_OK);
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    static struct oracle_case c;
    unsigned checked = 0;
    char bad[160] = "";
    for (uint64_t i = 0; i < 3000; i++) {
        assert_int_equal(og_make_case(seq, 9, i, &c), 0);
        cs_insn *insn;
        size_t cnt = cs_disasm(h, c.code, c.code_len, ORN_CODE_BASE + c.code_off, 0, &insn);
        for (size_t k = 0; k < cnt; k++) {
            /* jumps over junk leave bytes that are never executed: stop at the first JMP */
            if (insn[k].id == X86_INS_JMP)
                break;
            const cs_x86 *d = &insn[k].detail->x86;
            bool small_lea = insn[k].id == X86_INS_LEA && d->op_count == 2 && d->operands[1].type == X86_OP_MEM &&
                             d->operands[1].mem.base == X86_REG_ESP && d->operands[1].mem.index == X86_REG_INVALID &&
                             d->operands[1].mem.disp >= -16 && d->operands[1].mem.disp <= 16;
            for (unsigned o = 0; o < d->op_count && !small_lea; o++) {
                const cs_x86_op *op = &d->operands[o];
                if (op->type == X86_OP_REG && (op->access & CS_AC_WRITE) &&
                    (op->reg == X86_REG_ESP || op->reg == X86_REG_SP) && bad[0] == 0)
                    snprintf(bad, sizeof bad, "seq case %u writes ESP: %s %s", (unsigned)i, insn[k].mnemonic,
                             insn[k].op_str);
            }
            checked++;
        }
        if (cnt)
            cs_free(insn, cnt);
    }
    cs_close(&h);
    if (bad[0])
        fail_msg("%s", bad);
    assert_true(checked > 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_table),
        cmocka_unit_test(test_mem_plan),
        cmocka_unit_test(test_cases_deterministic_and_sane),
        cmocka_unit_test(test_seq_never_writes_esp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
