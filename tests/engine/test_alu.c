/*
 * test_alu.c - the engine's arithmetic group against the host CPU: every ALU, shift, rotate,
 * multiply/divide and bit instruction at 8/16/32 bits on generated operands, compared with the
 * same instruction executed natively (host_ops.c); BCD against a table recorded on the host;
 * precise #DE and faulting writes leaving the state untouched.
 *
 * Flags the SDM leaves undefined are masked, except on an AMD host, where the engine promises
 * to match them exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/engine/engine_testlib.h"
#include "tests/engine/host_ops.h"
#include "vcpu/cpu.h"

#define ARITH CPU_ARITH_FLAGS
#define ITER 2000

static bool amd;

static void check_flags(uint32_t got, uint32_t want, uint32_t undefined)
{
    uint32_t m = ARITH & ~(amd ? 0 : undefined);
    if ((got & m) != (want & m))
        fail_msg("flags %03x, host %03x (compared %03x)", got & m, want & m, m);
}

static uint32_t eflags(struct tenv *t)
{
    return cpu_get_eflags(&t->cpu);
}

static void set_flags(struct tenv *t, uint32_t f)
{
    cpu_set_eflags(&t->cpu, f, ARITH);
}

static const unsigned sizes[3] = { 1, 2, 4 };

/* ---- two-operand arithmetic ---- */

static void test_binary_reg(void **state)
{
    static const unsigned ops[] = { IR_ADD, IR_OR, IR_ADC, IR_SBB, IR_AND,
                                    IR_SUB, IR_XOR, IR_CMP, IR_TEST };
    struct tenv *t = *state;
    struct rng r = { 0x1234567 };
    for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
        for (unsigned s = 0; s < 3; s++)
            for (unsigned i = 0; i < ITER; i++) {
                unsigned size = sizes[s];
                uint32_t a = rng_operand(&r), b = rng_operand(&r), fin = rng_next(&r) & ARITH;
                t->cpu.r[IR_EAX] = a;
                t->cpu.r[IR_ECX] = b;
                set_flags(t, fin);
                t->cpu.eip = 0x1000;
                struct ir_insn in = ir_rr(ops[k], size, IR_EAX, IR_ECX);
                assert_int_equal(run(t, &in), ENG_OK);
                struct host_out h = host_alu2(ops[k], size, a, b, fin);
                uint32_t logic_af = (ops[k] == IR_AND || ops[k] == IR_OR || ops[k] == IR_XOR ||
                                     ops[k] == IR_TEST) ? CPU_AF : 0;
                assert_int_equal(t->cpu.r[IR_EAX], (a & ~szmask(size)) | (h.r & szmask(size)));
                assert_int_equal(t->cpu.r[IR_ECX], b);
                check_flags(eflags(t), h.f, logic_af);
                assert_int_equal(t->cpu.eip, 0x1003);
            }
}

static void test_binary_forms(void **state)
{
    struct tenv *t = *state;
    struct rng r = { 99 };
    for (unsigned i = 0; i < ITER; i++) {
        unsigned size = sizes[i % 3];
        uint32_t a = rng_operand(&r), b = rng_operand(&r), fin = rng_next(&r) & ARITH;
        uint32_t m = szmask(size);
        struct host_out h = host_alu2(IR_SUB, size, a, b, fin);

        /* memory destination */
        putn(t, 0x2000, a, 4);
        t->cpu.r[IR_EBX] = b;
        set_flags(t, fin);
        struct ir_insn in = ir_mr(IR_SUB, size, 0x2000, IR_EBX);
        assert_int_equal(run(t, &in), ENG_OK);
        assert_int_equal(getn(t, 0x2000, 4), (a & ~m) | (h.r & m));
        check_flags(eflags(t), h.f, 0);

        /* memory source */
        putn(t, 0x2100, b, 4);
        t->cpu.r[IR_EDX] = a;
        set_flags(t, fin);
        in = ir_rm(IR_SUB, size, IR_EDX, 0x2100);
        assert_int_equal(run(t, &in), ENG_OK);
        assert_int_equal(t->cpu.r[IR_EDX] & m, h.r & m);
        check_flags(eflags(t), h.f, 0);

        /* immediate source, given already extended to the operand size */
        t->cpu.r[IR_EBX] = a;
        set_flags(t, fin);
        in = ir_ri(IR_SUB, size, IR_EBX, b & m);
        assert_int_equal(run(t, &in), ENG_OK);
        assert_int_equal(t->cpu.r[IR_EBX] & m, h.r & m);
        check_flags(eflags(t), h.f, 0);
    }
    /* byte registers 4-7 are AH CH DH BH */
    t->cpu.r[IR_EAX] = 0x11223344;
    t->cpu.r[IR_EDX] = 0x55667788;
    struct ir_insn in = ir_rr(IR_ADD, 1, 4 /* AH */, 6 /* DH */);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0x1122AA44);
    assert_int_equal(t->cpu.r[IR_EDX], 0x55667788);
}

/* A carry chain through lazily recorded flags: ADD then ADC then SBB. */
static void test_carry_chain(void **state)
{
    struct tenv *t = *state;
    t->cpu.r[IR_EAX] = 0xFFFFFFFF;
    t->cpu.r[IR_EDX] = 0x00000001;
    t->cpu.r[IR_ECX] = 1;
    t->cpu.r[IR_EBX] = 0;
    struct ir_insn add = ir_rr(IR_ADD, 4, IR_EAX, IR_ECX);
    struct ir_insn adc = ir_rr(IR_ADC, 4, IR_EDX, IR_EBX);
    assert_int_equal(run(t, &add), ENG_OK);
    assert_int_equal(run(t, &adc), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0);
    assert_int_equal(t->cpu.r[IR_EDX], 2);
    assert_int_equal(eflags(t) & CPU_CF, 0);
    /* 0 - 1 borrows; the SBB then subtracts the borrow */
    struct ir_insn sub = ir_rr(IR_SUB, 4, IR_EAX, IR_ECX);
    struct ir_insn sbb = ir_rr(IR_SBB, 4, IR_EDX, IR_EBX);
    assert_int_equal(run(t, &sub), ENG_OK);
    assert_int_equal(run(t, &sbb), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], 0xFFFFFFFF);
    assert_int_equal(t->cpu.r[IR_EDX], 1);
}

static void test_unary(void **state)
{
    static const unsigned ops[] = { IR_INC, IR_DEC, IR_NEG, IR_NOT };
    struct tenv *t = *state;
    struct rng r = { 777 };
    for (unsigned k = 0; k < 4; k++)
        for (unsigned s = 0; s < 3; s++)
            for (unsigned i = 0; i < ITER; i++) {
                unsigned size = sizes[s];
                uint32_t a = rng_operand(&r), fin = rng_next(&r) & ARITH, m = szmask(size);
                struct host_out h = host_alu1(ops[k], size, a, fin);
                struct ir_insn in = ir_make(ops[k], size);
                if (i & 1) {
                    t->cpu.r[IR_EBX] = a;
                    in.opd[0] = o_reg(IR_EBX, size);
                } else {
                    putn(t, 0x3000, a, 4);
                    in.opd[0] = o_mem(size);
                    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x3000);
                }
                set_flags(t, fin);
                assert_int_equal(run(t, &in), ENG_OK);
                uint32_t got = (i & 1) ? t->cpu.r[IR_EBX] : getn(t, 0x3000, 4);
                assert_int_equal(got, (a & ~m) | (h.r & m));
                check_flags(eflags(t), h.f, 0);
            }
}

/* ---- multiply and divide ---- */

static bool div_faults(unsigned op, unsigned size, uint32_t eax, uint32_t edx, uint32_t src)
{
    unsigned bits = 8 * size;
    uint32_t m = szmask(size);
    src &= m;
    if (src == 0)
        return true;
    uint64_t dividend = size == 1 ? (eax & 0xFFFF) : ((uint64_t)(edx & m) << bits) | (eax & m);
    if (op == IR_DIV)
        return dividend / src > m;
    int64_t sd = (int64_t)(dividend << (64 - 2 * bits)) >> (64 - 2 * bits);
    int64_t sv = (int64_t)((int32_t)(src << (32 - bits)) >> (32 - bits));
    if (sd == INT64_MIN && sv == -1)
        return true;
    int64_t q = sd / sv, lim = (int64_t)1 << (bits - 1);
    return q >= lim || q < -lim;
}

static void test_muldiv(void **state)
{
    static const unsigned ops[] = { IR_MUL, IR_IMUL1, IR_DIV, IR_IDIV };
    struct tenv *t = *state;
    struct rng r = { 4242 };
    unsigned faults = 0;
    for (unsigned k = 0; k < 4; k++)
        for (unsigned s = 0; s < 3; s++)
            for (unsigned i = 0; i < ITER; i++) {
                unsigned size = sizes[s];
                uint32_t eax = rng_operand(&r), edx = rng_operand(&r), src = rng_operand(&r);
                uint32_t fin = rng_next(&r) & ARITH;
                if ((ops[k] == IR_DIV || ops[k] == IR_IDIV) && (i & 1)) {
                    /* keep the high half small so most divisions succeed */
                    edx &= 0x3;
                    if (size == 1)
                        eax &= 0x3FF;
                }
                t->cpu.r[IR_EAX] = eax;
                t->cpu.r[IR_EDX] = edx;
                t->cpu.r[IR_ECX] = src;
                t->cpu.eip = 0x1000;
                set_flags(t, fin);
                struct ir_insn in = ir_make(ops[k], size);
                in.opd[0] = o_reg(IR_ECX, size);
                if ((ops[k] == IR_DIV || ops[k] == IR_IDIV) && div_faults(ops[k], size, eax, edx, src)) {
                    run_expect_exc(t, &in, CPU_DE, 0, 0);
                    assert_int_equal(t->cpu.r[IR_EAX], eax);
                    assert_int_equal(t->cpu.r[IR_EDX], edx);
                    assert_int_equal(t->cpu.eip, 0x1000);
                    assert_int_equal(eflags(t) & ARITH, fin);
                    faults++;
                    continue;
                }
                struct host_out h = host_muldiv(ops[k], size, eax, edx, src, fin);
                assert_int_equal(run(t, &in), ENG_OK);
                assert_int_equal(t->cpu.r[IR_EAX], h.r);
                assert_int_equal(t->cpu.r[IR_EDX], h.r2);
                uint32_t undef = (ops[k] == IR_MUL || ops[k] == IR_IMUL1)
                                     ? (CPU_SF | CPU_ZF | CPU_AF | CPU_PF) : ARITH;
                check_flags(eflags(t), h.f, undef);
            }
    assert_true(faults > 100);
}

static void test_imul_forms(void **state)
{
    struct tenv *t = *state;
    struct rng r = { 31337 };
    for (unsigned i = 0; i < 2 * ITER; i++) {
        unsigned size = (i & 1) ? 4 : 2;
        uint32_t a = rng_operand(&r), b = rng_operand(&r), fin = rng_next(&r) & ARITH;
        struct host_out h = host_alu2(IR_IMUL, size, a, b, fin);
        uint32_t undef = CPU_SF | CPU_ZF | CPU_AF | CPU_PF;

        t->cpu.r[IR_EAX] = a;
        t->cpu.r[IR_ECX] = b;
        set_flags(t, fin);
        struct ir_insn in = ir_rr(IR_IMUL, size, IR_EAX, IR_ECX);
        assert_int_equal(run(t, &in), ENG_OK);
        assert_int_equal(t->cpu.r[IR_EAX] & szmask(size), h.r & szmask(size));
        check_flags(eflags(t), h.f, undef);

        /* three-operand form: EDI = [mem] * imm */
        putn(t, 0x2200, a, 4);
        t->cpu.r[IR_EDI] = 0xDEADBEEF;
        set_flags(t, fin);
        in = ir_make(IR_IMUL, size);
        in.opd[0] = o_reg(IR_EDI, size);
        in.opd[1] = o_mem(size);
        in.opd[2] = o_imm(size);
        in.imm = b & szmask(size);
        ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x2200);
        assert_int_equal(run(t, &in), ENG_OK);
        assert_int_equal(t->cpu.r[IR_EDI] & szmask(size), h.r & szmask(size));
        if (size == 2)
            assert_int_equal(t->cpu.r[IR_EDI] >> 16, 0xDEAD);
        check_flags(eflags(t), h.f, undef);
    }
}

static void test_div_edges(void **state)
{
    struct tenv *t = *state;
    /* IDIV r/m8: -256 / 2 = -128 fits; -256 / 1 does not */
    t->cpu.r[IR_EAX] = 0xFF00;
    t->cpu.r[IR_ECX] = 2;
    struct ir_insn in = ir_make(IR_IDIV, 1);
    in.opd[0] = o_reg(IR_ECX, 1);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX] & 0xFFFF, 0x0080);
    t->cpu.r[IR_EAX] = 0xFF00;
    t->cpu.r[IR_ECX] = 1;
    run_expect_exc(t, &in, CPU_DE, 0, 0);
    /* IDIV r/m32: INT_MIN / -1 overflows */
    t->cpu.r[IR_EAX] = 0;
    t->cpu.r[IR_EDX] = 0x80000000u;
    t->cpu.r[IR_ECX] = 0xFFFFFFFFu;
    in = ir_make(IR_IDIV, 4);
    in.opd[0] = o_reg(IR_ECX, 4);
    run_expect_exc(t, &in, CPU_DE, 0, 0);
    t->cpu.r[IR_EAX] = 0x80000000u;
    t->cpu.r[IR_EDX] = 0xFFFFFFFFu;
    run_expect_exc(t, &in, CPU_DE, 0, 0);
    /* DIV by a zero memory operand */
    put32(t, 0x2300, 0);
    in = ir_make(IR_DIV, 4);
    in.opd[0] = o_mem(4);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x2300);
    run_expect_exc(t, &in, CPU_DE, 0, 0);
    /* signed remainder takes the dividend's sign */
    t->cpu.r[IR_EAX] = (uint32_t)-7;
    t->cpu.r[IR_EDX] = 0xFFFFFFFFu;
    t->cpu.r[IR_ECX] = 2;
    in = ir_make(IR_IDIV, 4);
    in.opd[0] = o_reg(IR_ECX, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX], (uint32_t)-3);
    assert_int_equal(t->cpu.r[IR_EDX], (uint32_t)-1);
}

/* ---- shifts and rotates ---- */

static uint32_t shift_undef(unsigned op, unsigned size, unsigned count)
{
    unsigned c = count & 31;
    if (c == 0)
        return 0;
    uint32_t u = 0;
    switch (op) {
    case IR_SHL: case IR_SHR: case IR_SAR:
        u = CPU_AF;
        if (c != 1)
            u |= CPU_OF;
        if (c >= 8 * size && op != IR_SAR)
            u |= CPU_CF;
        break;
    default: /* rotates: OF defined only for a count of 1 */
        if (c != 1)
            u |= CPU_OF;
        break;
    }
    return u;
}

static void test_shifts(void **state)
{
    static const unsigned ops[] = { IR_ROL, IR_ROR, IR_RCL, IR_RCR, IR_SHL, IR_SHR, IR_SAR };
    struct tenv *t = *state;
    struct rng r = { 5150 };
    for (unsigned k = 0; k < 7; k++)
        for (unsigned s = 0; s < 3; s++)
            for (unsigned count = 0; count < 40; count++)
                for (unsigned i = 0; i < 12; i++) {
                    unsigned size = sizes[s];
                    uint32_t a = rng_operand(&r), fin = rng_next(&r) & ARITH, m = szmask(size);
                    uint32_t cnt = count == 39 ? 0xE1 : count; /* masked to 1 */
                    struct host_out h = host_shift(ops[k], size, a, cnt, fin);
                    struct ir_insn in = ir_make(ops[k], size);
                    set_flags(t, fin);
                    if (i & 1) {
                        /* register operand, count in CL */
                        t->cpu.r[IR_EDX] = a;
                        t->cpu.r[IR_ECX] = cnt;
                        in.opd[0] = o_reg(IR_EDX, size);
                        in.opd[1] = o_reg(IR_ECX, 1);
                    } else {
                        /* memory operand, immediate count */
                        putn(t, 0x4000, a, 4);
                        in.opd[0] = o_mem(size);
                        in.opd[1] = o_imm(1);
                        in.imm = cnt;
                        ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x4000);
                    }
                    assert_int_equal(run(t, &in), ENG_OK);
                    uint32_t got = (i & 1) ? t->cpu.r[IR_EDX] : getn(t, 0x4000, 4);
                    assert_int_equal(got, (a & ~m) | (h.r & m));
                    check_flags(eflags(t), h.f, shift_undef(ops[k], size, cnt));
                }
}

static void test_shift_double(void **state)
{
    struct tenv *t = *state;
    struct rng r = { 8086 };
    for (unsigned op = IR_SHLD; op <= IR_SHRD; op++)
        for (unsigned size = 2; size <= 4; size += 2)
            for (unsigned count = 0; count < 32; count++)
                for (unsigned i = 0; i < 24; i++) {
                    uint32_t a = rng_operand(&r), b = rng_operand(&r), fin = rng_next(&r) & ARITH;
                    struct host_out h = host_shiftd(op, size, a, b, count, fin);
                    struct ir_insn in = ir_make(op, size);
                    in.opd[0] = o_reg(IR_EAX, size);
                    in.opd[1] = o_reg(IR_EDX, size);
                    if (i & 1) {
                        in.opd[2] = o_reg(IR_ECX, 1);
                        t->cpu.r[IR_ECX] = count | 0x20; /* only 5 bits count */
                    } else {
                        in.opd[2] = o_imm(1);
                        in.imm = count;
                    }
                    t->cpu.r[IR_EAX] = a;
                    t->cpu.r[IR_EDX] = b;
                    set_flags(t, fin);
                    assert_int_equal(run(t, &in), ENG_OK);
                    uint32_t m = szmask(size);
                    uint32_t undef = 0;
                    if (count) {
                        undef = CPU_AF | (count != 1 ? CPU_OF : 0);
                        if (count > 8 * size)
                            undef = ARITH; /* result and flags undefined */
                    }
                    if (!(count > 8 * size) || amd)
                        assert_int_equal(t->cpu.r[IR_EAX], (a & ~m) | (h.r & m));
                    check_flags(eflags(t), h.f, undef);
                }
}

/* ---- bit instructions ---- */

static void test_bit_reg(void **state)
{
    static const unsigned ops[] = { IR_BT, IR_BTS, IR_BTR, IR_BTC, IR_BSF, IR_BSR };
    struct tenv *t = *state;
    struct rng r = { 1717 };
    for (unsigned k = 0; k < 6; k++)
        for (unsigned size = 2; size <= 4; size += 2)
            for (unsigned i = 0; i < ITER; i++) {
                uint32_t a = rng_operand(&r), b = rng_operand(&r), fin = rng_next(&r) & ARITH;
                if ((ops[k] == IR_BSF || ops[k] == IR_BSR) && i % 5 == 0)
                    b = 0;
                struct host_out h = host_bit(ops[k], size, a, b, fin);
                t->cpu.r[IR_EAX] = a;
                t->cpu.r[IR_ECX] = b;
                set_flags(t, fin);
                struct ir_insn in = ir_rr(ops[k], size, IR_EAX, IR_ECX);
                assert_int_equal(run(t, &in), ENG_OK);
                uint32_t m = szmask(size);
                assert_int_equal(t->cpu.r[IR_EAX], (a & ~m) | (h.r & m));
                uint32_t undef = (ops[k] == IR_BSF || ops[k] == IR_BSR)
                                     ? (ARITH & ~CPU_ZF) : (CPU_OF | CPU_SF | CPU_AF | CPU_PF);
                check_flags(eflags(t), h.f, undef);
                /* the immediate form masks the offset to the operand size as well */
                if (ops[k] <= IR_BTC) {
                    t->cpu.r[IR_EAX] = a;
                    set_flags(t, fin);
                    in = ir_make(ops[k], size);
                    in.opd[0] = o_reg(IR_EAX, size);
                    in.opd[1] = o_imm(1);
                    in.imm = b & 0xFF;
                    assert_int_equal(run(t, &in), ENG_OK);
                    h = host_bit(ops[k], size, a, b & 0xFF, fin);
                    assert_int_equal(t->cpu.r[IR_EAX], (a & ~m) | (h.r & m));
                    check_flags(eflags(t), h.f, undef);
                }
            }
}

/* A register offset on a memory operand addresses a bit string, negative offsets included. */
static void test_bit_string(void **state)
{
    struct tenv *t = *state;
    static const int32_t offs[] = { 0, 5, 31, 32, 33, 100, -1, -32, -33, -100, 1000, -1000 };
    for (unsigned size = 2; size <= 4; size += 2)
        for (unsigned k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
            int32_t off = offs[k];
            uint32_t base = 0x8000;
            memset(t->ram + base - 0x200, 0, 0x400);
            /* the byte/bit the offset names */
            int32_t byte = off >= 0 ? off / 8 : -((-off + 7) / 8);
            unsigned bit = (unsigned)(off - byte * 8);
            t->ram[base + byte] = (uint8_t)(1u << bit);
            t->cpu.r[IR_ECX] = (uint32_t)off;
            struct ir_insn in = ir_make(IR_BTR, size);
            in.opd[0] = o_mem(size);
            in.opd[1] = o_reg(IR_ECX, size);
            ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, (int32_t)base);
            if (size == 2 && (off > 32767 || off < -32768))
                continue;
            assert_int_equal(run(t, &in), ENG_OK);
            assert_int_equal(eflags(t) & CPU_CF, CPU_CF);
            assert_int_equal(t->ram[base + byte], 0);
            /* BT finds it clear now, and BTS sets exactly that bit again */
            in.op = IR_BTS;
            assert_int_equal(run(t, &in), ENG_OK);
            assert_int_equal(eflags(t) & CPU_CF, 0);
            assert_int_equal(t->ram[base + byte], 1u << bit);
        }
    /* a 16-bit register offset is signed 16-bit: 0xFFFF is -1 */
    memset(t->ram + 0x7FF0, 0, 0x20);
    t->ram[0x7FFF] = 0x80;
    t->cpu.r[IR_ECX] = 0x1234FFFF;
    struct ir_insn in = ir_make(IR_BT, 2);
    in.opd[0] = o_mem(2);
    in.opd[1] = o_reg(IR_ECX, 2);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x8000);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(eflags(t) & CPU_CF, CPU_CF);
    /* an immediate offset stays inside the operand */
    put32(t, 0x8000, 0x00000002);
    in = ir_make(IR_BT, 4);
    in.opd[0] = o_mem(4);
    in.opd[1] = o_imm(1);
    in.imm = 33;
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x8000);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(eflags(t) & CPU_CF, CPU_CF);
}

/* ---- BCD ---- */

struct bcd_case {
    unsigned op, base;
    uint16_t ax, fin, ax_out, f_out;
};
#include "tests/engine/bcd_cases.h"

static uint32_t bcd_undef(unsigned op)
{
    switch (op) {
    case IR_DAA: case IR_DAS: return CPU_OF;
    case IR_AAA: case IR_AAS: return CPU_OF | CPU_SF | CPU_ZF | CPU_PF;
    default: return CPU_OF | CPU_AF | CPU_CF; /* AAM, AAD */
    }
}

static void test_bcd(void **state)
{
    struct tenv *t = *state;
    for (unsigned i = 0; i < sizeof(bcd_cases) / sizeof(bcd_cases[0]); i++) {
        const struct bcd_case *c = &bcd_cases[i];
        struct ir_insn in = ir_make(c->op, 1);
        in.imm = c->base;
        t->cpu.r[IR_EAX] = 0xABCD0000u | c->ax;
        set_flags(t, c->fin);
        assert_int_equal(run(t, &in), ENG_OK);
        if (t->cpu.r[IR_EAX] != (0xABCD0000u | c->ax_out))
            fail_msg("case %u (%s ax %04x f %03x): ax %08x want %04x", i, ir_op_name(c->op), c->ax,
                     c->fin, t->cpu.r[IR_EAX], c->ax_out);
        check_flags(eflags(t), c->f_out, bcd_undef(c->op));
    }
    /* AAM 0 is a divide error, with nothing changed */
    struct ir_insn in = ir_make(IR_AAM, 1);
    in.imm = 0;
    t->cpu.r[IR_EAX] = 0x1234;
    t->cpu.eip = 0x1000;
    run_expect_exc(t, &in, CPU_DE, 0, 0);
    assert_int_equal(t->cpu.r[IR_EAX], 0x1234);
    assert_int_equal(t->cpu.eip, 0x1000);
    /* SALC */
    in = ir_make(IR_SALC, 1);
    set_flags(t, CPU_CF);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX] & 0xFF, 0xFF);
    set_flags(t, 0);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(t->cpu.r[IR_EAX] & 0xFF, 0);
}

/* ---- flag instructions ---- */

static void test_flag_ops(void **state)
{
    struct tenv *t = *state;
    struct ir_insn in;
    set_flags(t, CPU_ZF);
    in = ir_make(IR_STC, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(eflags(t) & ARITH, CPU_ZF | CPU_CF);
    in = ir_make(IR_CMC, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(eflags(t) & ARITH, CPU_ZF);
    assert_int_equal(run(t, &in), ENG_OK);
    in = ir_make(IR_CLC, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(eflags(t) & ARITH, CPU_ZF);
    in = ir_make(IR_STD, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_true(eflags(t) & CPU_DF);
    in = ir_make(IR_CLD, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_false(eflags(t) & CPU_DF);

    /* LAHF after a lazily evaluated SUB; SAHF loads SF ZF AF PF CF and keeps OF */
    t->cpu.r[IR_EAX] = 0x10;
    t->cpu.r[IR_ECX] = 0x11;
    in = ir_rr(IR_SUB, 4, IR_EAX, IR_ECX); /* -1: SF, CF, AF, PF */
    assert_int_equal(run(t, &in), ENG_OK);
    in = ir_make(IR_LAHF, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal((t->cpu.r[IR_EAX] >> 8) & 0xFF, 0x97);
    t->cpu.r[IR_EAX] = 0x4100; /* ZF | CF */
    set_flags(t, CPU_OF | CPU_SF);
    in = ir_make(IR_SAHF, 4);
    assert_int_equal(run(t, &in), ENG_OK);
    assert_int_equal(eflags(t) & ARITH, CPU_OF | CPU_ZF | CPU_CF);
}

/* A read-modify-write whose write faults changes nothing: memory, flags, EIP. */
static void test_faulting_write_is_precise(void **state)
{
    struct tenv *t = *state;
    /* DS becomes a read-only data segment */
    t->cpu.seg[IR_DS].attr = 0xC091;
    put32(t, 0x5000, 41);
    t->cpu.r[IR_EBX] = 1;
    set_flags(t, CPU_ZF | CPU_CF);
    t->cpu.eip = 0x1000;
    struct ir_insn in = ir_mr(IR_ADD, 4, 0x5000, IR_EBX);
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(get32(t, 0x5000), 41);
    assert_int_equal(eflags(t) & ARITH, CPU_ZF | CPU_CF);
    assert_int_equal(t->cpu.eip, 0x1000);
    /* a shift by a masked-to-zero count still reads, and so still faults on a bad read */
    t->cpu.seg[IR_DS].limit = 0x4FFF;
    in = ir_make(IR_SHL, 4);
    in.opd[0] = o_mem(4);
    in.opd[1] = o_imm(1);
    in.imm = 32;
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, 0x5000);
    run_expect_exc(t, &in, CPU_GP, 1, 0);
    assert_int_equal(t->e.count.exceptions, 2);
}

int main(void)
{
    amd = host_is_amd();
    const struct CMUnitTest tests[] = {
        TENV_TEST(test_binary_reg),
        TENV_TEST(test_binary_forms),
        TENV_TEST(test_carry_chain),
        TENV_TEST(test_unary),
        TENV_TEST(test_muldiv),
        TENV_TEST(test_imul_forms),
        TENV_TEST(test_div_edges),
        TENV_TEST(test_shifts),
        TENV_TEST(test_shift_double),
        TENV_TEST(test_bit_reg),
        TENV_TEST(test_bit_string),
        TENV_TEST(test_bcd),
        TENV_TEST(test_flag_ops),
        TENV_TEST(test_faulting_write_is_precise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
