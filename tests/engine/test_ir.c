/*
 * test_ir.c - ir_insn_valid (ipc/ir.c), the gate between the untrusted translator and the
 * engine: a well-formed instruction of every operand shape passes, and each single corruption of
 * a field the engine relies on is rejected. Plus ir_op_name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "ipc/ir.h"

static struct ir_insn base_insn(unsigned op, unsigned osize)
{
    struct ir_insn in;
    memset(&in, 0, sizeof(in));
    in.op = (uint16_t)op;
    in.len = 2;
    in.osize = (uint8_t)osize;
    in.asize = 4;
    in.mem.seg = IR_DS;
    in.mem.base = IR_NOREG;
    in.mem.index = IR_NOREG;
    return in;
}

static struct ir_operand reg(unsigned r, unsigned size)
{
    return (struct ir_operand){ IR_OPK_REG, (uint8_t)size, (uint8_t)r, 0 };
}
static struct ir_operand mem(unsigned size)
{
    return (struct ir_operand){ IR_OPK_MEM, (uint8_t)size, 0, 0 };
}
static struct ir_operand imm(unsigned size)
{
    return (struct ir_operand){ IR_OPK_IMM, (uint8_t)size, 0, 0 };
}
static struct ir_operand sreg(unsigned r)
{
    return (struct ir_operand){ IR_OPK_SREG, 2, (uint8_t)r, 0 };
}

static struct ir_insn add_rm(void)
{
    struct ir_insn in = base_insn(IR_ADD, 4);
    in.opd[0] = reg(IR_EAX, 4);
    in.opd[1] = mem(4);
    in.mem.base = IR_EBX;
    in.mem.index = IR_ESI;
    in.mem.scale = 2;
    in.mem.disp = -16;
    return in;
}

static void test_op_names(void **state)
{
    (void)state;
    assert_string_equal(ir_op_name(IR_ADD), "ADD");
    assert_string_equal(ir_op_name(IR_X87), "X87");
    assert_string_equal(ir_op_name(IR_INVALID), "INVALID");
    assert_string_equal(ir_op_name(IR_OP_COUNT), "?");
    assert_string_equal(ir_op_name(0xFFFF), "?");
}

static void test_valid_shapes(void **state)
{
    (void)state;
    struct ir_insn in;

    assert_false(ir_insn_valid(NULL));
    in = add_rm();
    assert_true(ir_insn_valid(&in));
    /* byte registers AH..BH */
    in = base_insn(IR_XOR, 1);
    in.opd[0] = reg(7, 1);
    in.opd[1] = imm(1);
    assert_true(ir_insn_valid(&in));
    /* shifts by 1, imm8 and CL */
    in = base_insn(IR_SHL, 2);
    in.opd[0] = mem(2);
    in.opd[1] = imm(1);
    assert_true(ir_insn_valid(&in));
    in.opd[1] = reg(IR_ECX, 1);
    assert_true(ir_insn_valid(&in));
    /* three-operand IMUL */
    in = base_insn(IR_IMUL, 2);
    in.opd[0] = reg(IR_EDX, 2);
    in.opd[1] = mem(2);
    in.opd[2] = imm(2);
    assert_true(ir_insn_valid(&in));
    /* 16-bit addressing [BP+DI+disp] */
    in = base_insn(IR_MOV, 1);
    in.asize = 2;
    in.opd[0] = reg(IR_EAX, 1);
    in.opd[1] = mem(1);
    in.mem.seg = IR_SS;
    in.mem.base = IR_EBP;
    in.mem.index = IR_EDI;
    in.mem.disp = -2;
    assert_true(ir_insn_valid(&in));
    /* string op with a REP prefix and a segment override */
    in = base_insn(IR_MOVS, 4);
    in.prefix = IR_PF_REP | IR_PF_SEGOV;
    in.mem.seg = IR_FS;
    in.mem.base = IR_ESI;
    assert_true(ir_insn_valid(&in));
    /* PUSH sreg, POP mem, LFP, CMPXCHG8B, BOUND, LEA */
    in = base_insn(IR_PUSH, 4);
    in.opd[0] = sreg(IR_GS);
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_POP, 2);
    in.opd[0] = mem(2);
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_LFP, 4);
    in.opd[0] = reg(IR_ESI, 4);
    in.opd[1] = mem(6);
    in.opd[2] = sreg(IR_ES);
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_CMPXCHG8B, 4);
    in.opd[0] = mem(8);
    in.prefix = IR_PF_LOCK;
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_BOUND, 2);
    in.opd[0] = reg(IR_EAX, 2);
    in.opd[1] = mem(4);
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_LEA, 4);
    in.opd[0] = reg(IR_EAX, 4);
    in.opd[1] = mem(4);
    assert_true(ir_insn_valid(&in));
    /* port I/O */
    in = base_insn(IR_IN, 2);
    in.opd[0] = reg(IR_EAX, 2);
    in.opd[1] = reg(IR_EDX, 2);
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_OUT, 1);
    in.opd[0] = imm(1);
    in.imm = 0x80;
    in.opd[1] = reg(IR_EAX, 1);
    assert_true(ir_insn_valid(&in));
    /* control transfer and system forms */
    in = base_insn(IR_JCC, 4);
    in.cond = IR_CC_G;
    in.imm = 0x1234;
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_MOV_TO_CR, 4);
    in.opd[0] = (struct ir_operand){ IR_OPK_CREG, 4, 3, 0 };
    in.opd[1] = reg(IR_EAX, 4);
    in.flags = IR_F_PRIV | IR_F_ENDS_BLOCK;
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_LGDT, 4);
    in.opd[0] = mem(6);
    assert_true(ir_insn_valid(&in));
    /* x87 register and memory forms */
    in = base_insn(IR_X87, 4);
    in.x87 = 0x7E0; /* FNSTSW AX */
    assert_true(ir_insn_valid(&in));
    in.x87 = 0x528; /* DD /5 with a memory operand */
    in.opd[0] = mem(8);
    assert_true(ir_insn_valid(&in));
    /* too long: INVALID with the flag */
    in = base_insn(IR_INVALID, 4);
    in.len = 15;
    in.flags = IR_F_TOO_LONG;
    assert_true(ir_insn_valid(&in));
}

typedef void (*mutator)(struct ir_insn *in);

#define MUT(name, body) static void name(struct ir_insn *in) { body; }
MUT(m_op, in->op = IR_OP_COUNT)
MUT(m_len0, in->len = 0)
MUT(m_len16, in->len = 16)
MUT(m_osize, in->osize = 3)
MUT(m_asize, in->asize = 1)
MUT(m_cond, in->cond = 16)
MUT(m_prefix, in->prefix = 0x10)
MUT(m_rep_both, in->prefix = IR_PF_REP | IR_PF_REPNE)
MUT(m_flags, in->flags = 0x20)
MUT(m_toolong, in->flags = IR_F_TOO_LONG)
MUT(m_kind, in->opd[0].kind = IR_OPK_COUNT)
MUT(m_kind_sreg, in->opd[0] = sreg(IR_DS))
MUT(m_reg8, in->opd[0].reg = 8)
MUT(m_size, in->opd[0].size = 2)
MUT(m_memsize, in->opd[1].size = 2)
MUT(m_two_mem, in->opd[0] = mem(4))
MUT(m_seg, in->mem.seg = IR_NSREG)
MUT(m_base, in->mem.base = 8)
MUT(m_index_esp, in->mem.index = IR_ESP)
MUT(m_index, in->mem.index = 0x80)
MUT(m_scale, in->mem.scale = 4)
MUT(m_asize16_scale, in->asize = 2)
MUT(m_third, in->opd[2] = imm(4))
MUT(m_src_none, in->opd[1].kind = IR_OPK_NONE)

static void test_single_corruptions(void **state)
{
    (void)state;
    static const mutator muts[] = {
        m_op, m_len0, m_len16, m_osize, m_asize, m_cond, m_prefix, m_rep_both, m_flags, m_toolong,
        m_kind, m_kind_sreg, m_reg8, m_size, m_memsize, m_two_mem, m_seg, m_base, m_index_esp,
        m_index, m_scale, m_asize16_scale, m_third, m_src_none,
    };
    for (unsigned i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
        struct ir_insn in = add_rm();
        assert_true(ir_insn_valid(&in));
        muts[i](&in);
        if (ir_insn_valid(&in))
            fail_msg("mutation %u accepted", i);
    }
}

static void test_op_specific_rejects(void **state)
{
    (void)state;
    struct ir_insn in;

    /* IMUL has no byte form */
    in = base_insn(IR_IMUL, 1);
    in.opd[0] = reg(IR_EAX, 1);
    in.opd[1] = reg(IR_ECX, 1);
    assert_false(ir_insn_valid(&in));
    /* shift count in a register other than CL, or wider than a byte */
    in = base_insn(IR_SHR, 4);
    in.opd[0] = reg(IR_EAX, 4);
    in.opd[1] = reg(IR_EDX, 1);
    assert_false(ir_insn_valid(&in));
    in.opd[1] = reg(IR_ECX, 4);
    assert_false(ir_insn_valid(&in));
    /* MOVZX from a dword, or from a word into a byte-size destination */
    in = base_insn(IR_MOVZX, 4);
    in.opd[0] = reg(IR_EAX, 4);
    in.opd[1] = reg(IR_ECX, 4);
    assert_false(ir_insn_valid(&in));
    /* LEA of a register */
    in = base_insn(IR_LEA, 4);
    in.opd[0] = reg(IR_EAX, 4);
    in.opd[1] = reg(IR_ECX, 4);
    assert_false(ir_insn_valid(&in));
    /* SETcc of a word */
    in = base_insn(IR_SETCC, 2);
    in.opd[0] = reg(IR_EAX, 2);
    assert_false(ir_insn_valid(&in));
    /* 16-bit addressing with a 32-bit-only base or a scale */
    in = base_insn(IR_MOV, 2);
    in.asize = 2;
    in.opd[0] = reg(IR_EAX, 2);
    in.opd[1] = mem(2);
    in.mem.base = IR_EAX;
    assert_false(ir_insn_valid(&in));
    in.mem.base = IR_EBX;
    in.mem.index = IR_EBP;
    assert_false(ir_insn_valid(&in));
    /* IN into something other than the accumulator, or from a port register other than DX */
    in = base_insn(IR_IN, 1);
    in.opd[0] = reg(IR_ECX, 1);
    in.opd[1] = imm(1);
    assert_false(ir_insn_valid(&in));
    in.opd[0] = reg(IR_EAX, 1);
    in.opd[1] = reg(IR_ECX, 2);
    assert_false(ir_insn_valid(&in));
    in.opd[1] = imm(1);
    in.imm = 0x100;
    assert_false(ir_insn_valid(&in));
    /* INT vector and RET/ENTER sizes out of range */
    in = base_insn(IR_INT, 4);
    in.imm = 0x100;
    assert_false(ir_insn_valid(&in));
    in = base_insn(IR_RET, 4);
    in.imm = 0x10000;
    assert_false(ir_insn_valid(&in));
    /* LFP cannot load CS; CMPXCHG8B is 8 bytes; BOUND reads a pair of osize */
    in = base_insn(IR_LFP, 2);
    in.opd[0] = reg(IR_EAX, 2);
    in.opd[1] = mem(4);
    in.opd[2] = sreg(IR_CS);
    assert_false(ir_insn_valid(&in));
    in = base_insn(IR_CMPXCHG8B, 4);
    in.opd[0] = mem(4);
    assert_false(ir_insn_valid(&in));
    in = base_insn(IR_BOUND, 4);
    in.opd[0] = reg(IR_EAX, 4);
    in.opd[1] = mem(4);
    assert_false(ir_insn_valid(&in));
    /* string ops validate their implicit memory description */
    in = base_insn(IR_LODS, 4);
    in.mem.seg = 7;
    assert_false(ir_insn_valid(&in));
    /* x87: memory forms carry only ModRM.reg, register forms a full ModRM >= 0xC0 */
    in = base_insn(IR_X87, 4);
    in.x87 = 0x7E0;
    in.opd[0] = mem(2);
    assert_false(ir_insn_valid(&in));
    in = base_insn(IR_X87, 4);
    in.x87 = 0x128;
    assert_false(ir_insn_valid(&in));
    in.x87 = 0x8E0;
    assert_false(ir_insn_valid(&in));
    /* LOCK only on lockable ops with a memory destination; REP only on string ops */
    in = add_rm();
    in.prefix = IR_PF_LOCK;
    assert_false(ir_insn_valid(&in)); /* register destination */
    in = base_insn(IR_ADD, 4);
    in.opd[0] = mem(4);
    in.opd[1] = reg(IR_EAX, 4);
    in.prefix = IR_PF_LOCK;
    assert_true(ir_insn_valid(&in));
    in.op = IR_CMP;
    assert_false(ir_insn_valid(&in));
    in.op = IR_MOV;
    assert_false(ir_insn_valid(&in));
    in.op = IR_ADD;
    in.prefix = IR_PF_REP;
    assert_false(ir_insn_valid(&in));
    /* near targets fit the operand size; far pointers have 16-bit selectors */
    in = base_insn(IR_JMP, 2);
    in.imm = 0x10000;
    assert_false(ir_insn_valid(&in));
    in.imm = 0xFFFF;
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_CALL_FAR, 4);
    in.imm = 0x12345678;
    in.imm2 = 0x10008;
    assert_false(ir_insn_valid(&in));
    in.imm2 = 0x0008;
    assert_true(ir_insn_valid(&in));
    in = base_insn(IR_ENTER, 4);
    in.imm = 16;
    in.imm2 = 0x100;
    assert_false(ir_insn_valid(&in));
    /* MOV to a segment register operand kind that is not a segment register */
    in = base_insn(IR_MOV_SREG, 2);
    in.opd[0] = reg(IR_EAX, 2);
    in.opd[1] = reg(IR_ECX, 2);
    assert_false(ir_insn_valid(&in));
    /* a control register operand in an ALU op */
    in = base_insn(IR_ADD, 4);
    in.opd[0] = (struct ir_operand){ IR_OPK_CREG, 4, 0, 0 };
    in.opd[1] = reg(IR_EAX, 4);
    assert_false(ir_insn_valid(&in));
}

/* Any byte pattern is either accepted or rejected, never read out of bounds; most random
 * patterns are rejected. */
static void test_random_bytes(void **state)
{
    (void)state;
    uint64_t s = 0x9E3779B97F4A7C15ull;
    unsigned accepted = 0;
    for (unsigned i = 0; i < 200000; i++) {
        struct ir_insn in;
        uint8_t *p = (uint8_t *)&in;
        for (unsigned k = 0; k < sizeof(in); k++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            p[k] = (uint8_t)(s >> 24);
        }
        accepted += ir_insn_valid(&in);
    }
    assert_true(accepted < 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_names),
        cmocka_unit_test(test_valid_shapes),
        cmocka_unit_test(test_single_corruptions),
        cmocka_unit_test(test_op_specific_rejects),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
