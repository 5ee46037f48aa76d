/*
 * engine_testlib.h - shared fixture for the engine's unit tests: a CPU in flat 32-bit mode over
 * 1 MiB of RAM with an MMIO log and a code-write log, plus builders for IR instructions so tests
 * never depend on the decoder. Every instruction a test runs must pass ir_insn_valid().
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>.
 */
#ifndef CLOISTER_TESTS_ENGINE_TESTLIB_H
#define CLOISTER_TESTS_ENGINE_TESTLIB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ir.h"
#include "vcpu/engine.h"

#define TENV_RAM (1u << 20)
#define TENV_MMIO_LOG 64

struct mmio_rec {
    uint32_t phys;
    unsigned size;
    uint32_t value;
    int write;
};

struct tenv {
    struct cpu_state cpu;
    struct vmem mem;
    struct engine e;
    uint8_t *ram;
    uint8_t code_bitmap[TENV_RAM / VMEM_PAGE / 8];
    struct mmio_rec mmio[TENV_MMIO_LOG];
    unsigned n_mmio;
    uint32_t mmio_value; /* what reads return */
    unsigned n_code_writes;
    uint32_t code_write_phys;
    unsigned code_write_size;
    uint8_t ram_at_code_write; /* RAM byte at code_write_phys when the hook ran */
};

static uint32_t tenv_mmio_read(void *ctx, uint32_t phys, unsigned size)
{
    struct tenv *t = ctx;
    if (t->n_mmio < TENV_MMIO_LOG)
        t->mmio[t->n_mmio++] = (struct mmio_rec){ phys, size, 0, 0 };
    return t->mmio_value & (size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
}

static void tenv_mmio_write(void *ctx, uint32_t phys, unsigned size, uint32_t value)
{
    struct tenv *t = ctx;
    if (t->n_mmio < TENV_MMIO_LOG)
        t->mmio[t->n_mmio++] = (struct mmio_rec){ phys, size, value, 1 };
}

static void tenv_code_write(void *ctx, uint32_t phys, unsigned size)
{
    struct tenv *t = ctx;
    t->n_code_writes++;
    t->code_write_phys = phys;
    t->code_write_size = size;
    t->ram_at_code_write = phys < TENV_RAM ? t->ram[phys] : 0;
}

static inline struct tenv *tenv_new(void)
{
    struct tenv *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->ram = calloc(1, TENV_RAM);
    assert_non_null(t->ram);
    t->mem.ram = t->ram;
    t->mem.ram_size = TENV_RAM;
    t->mem.io_ctx = t;
    t->mem.mmio_read = tenv_mmio_read;
    t->mem.mmio_write = tenv_mmio_write;
    t->mem.code_bitmap = t->code_bitmap;
    t->mem.code_write = tenv_code_write;
    t->mem.cpu = &t->cpu;
    t->e.cpu = &t->cpu;
    t->e.mem = &t->mem;
    t->mmio_value = 0xFFFFFFFFu;
    engine_flat32(&t->cpu, 0);
    t->cpu.eip = 0x1000;
    t->cpu.r[IR_ESP] = 0x8000;
    return t;
}

static inline void tenv_free(struct tenv *t)
{
    free(t->ram);
    free(t);
}

/* cmocka fixtures: *state is a fresh struct tenv for each test, freed even when it fails. */
static inline int tenv_setup(void **state)
{
    *state = tenv_new();
    return 0;
}
static inline int tenv_teardown(void **state)
{
    tenv_free(*state);
    return 0;
}
#define TENV_TEST(fn) cmocka_unit_test_setup_teardown(fn, tenv_setup, tenv_teardown)

/* ---- IR builders ---- */

static inline struct ir_insn ir_make(unsigned op, unsigned osize)
{
    struct ir_insn in;
    memset(&in, 0, sizeof(in));
    in.op = (uint16_t)op;
    in.len = 3;
    in.osize = (uint8_t)osize;
    in.asize = 4;
    in.mem.seg = IR_DS;
    in.mem.base = IR_NOREG;
    in.mem.index = IR_NOREG;
    return in;
}

static inline struct ir_operand o_reg(unsigned reg, unsigned size)
{
    return (struct ir_operand){ IR_OPK_REG, (uint8_t)size, (uint8_t)reg, 0 };
}
static inline struct ir_operand o_mem(unsigned size)
{
    return (struct ir_operand){ IR_OPK_MEM, (uint8_t)size, 0, 0 };
}
static inline struct ir_operand o_imm(unsigned size)
{
    return (struct ir_operand){ IR_OPK_IMM, (uint8_t)size, 0, 0 };
}
static inline struct ir_operand o_sreg(unsigned sreg)
{
    return (struct ir_operand){ IR_OPK_SREG, 2, (uint8_t)sreg, 0 };
}

/* op dst, src with both operands general registers */
static inline struct ir_insn ir_rr(unsigned op, unsigned size, unsigned dst, unsigned src)
{
    struct ir_insn in = ir_make(op, size);
    in.opd[0] = o_reg(dst, size);
    in.opd[1] = o_reg(src, size);
    return in;
}

static inline struct ir_insn ir_ri(unsigned op, unsigned size, unsigned dst, uint32_t imm)
{
    struct ir_insn in = ir_make(op, size);
    in.opd[0] = o_reg(dst, size);
    in.opd[1] = o_imm(size);
    in.imm = imm;
    return in;
}

static inline void ir_set_mem(struct ir_insn *in, unsigned seg, unsigned base, unsigned index,
                              unsigned scale, int32_t disp)
{
    in->mem.seg = (uint8_t)seg;
    in->mem.base = (uint8_t)base;
    in->mem.index = (uint8_t)index;
    in->mem.scale = (uint8_t)scale;
    in->mem.disp = disp;
}

/* op [disp], src-register */
static inline struct ir_insn ir_mr(unsigned op, unsigned size, int32_t disp, unsigned src)
{
    struct ir_insn in = ir_make(op, size);
    in.opd[0] = o_mem(size);
    in.opd[1] = o_reg(src, size);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, disp);
    return in;
}

/* op dst-register, [disp] */
static inline struct ir_insn ir_rm(unsigned op, unsigned size, unsigned dst, int32_t disp)
{
    struct ir_insn in = ir_make(op, size);
    in.opd[0] = o_reg(dst, size);
    in.opd[1] = o_mem(size);
    ir_set_mem(&in, IR_DS, IR_NOREG, IR_NOREG, 0, disp);
    return in;
}

static inline int run(struct tenv *t, const struct ir_insn *in)
{
    assert_true(ir_insn_valid(in));
    return engine_exec(&t->e, in);
}

/* Run and require an exception with the given vector (and error code when has_error). */
static inline void run_expect_exc(struct tenv *t, const struct ir_insn *in, unsigned vector,
                                  int has_error, uint32_t error)
{
    assert_int_equal(run(t, in), ENG_EXCEPTION);
    assert_int_equal(t->e.exc.vector, vector);
    assert_int_equal(t->e.exc.has_error, has_error);
    if (has_error)
        assert_int_equal(t->e.exc.error, error);
}

/* ---- memory helpers ---- */

static inline void put32(struct tenv *t, uint32_t addr, uint32_t v)
{
    memcpy(t->ram + addr, &v, 4);
}
static inline uint32_t get32(struct tenv *t, uint32_t addr)
{
    uint32_t v;
    memcpy(&v, t->ram + addr, 4);
    return v;
}
static inline uint32_t getn(struct tenv *t, uint32_t addr, unsigned size)
{
    uint32_t v = 0;
    memcpy(&v, t->ram + addr, size);
    return v;
}
static inline void putn(struct tenv *t, uint32_t addr, uint32_t v, unsigned size)
{
    memcpy(t->ram + addr, &v, size);
}

static inline uint32_t szmask(unsigned size)
{
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

/* Deterministic operand generator mixing edge values with random ones. */
struct rng {
    uint64_t s;
};
static inline uint32_t rng_next(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 16);
}
static inline uint32_t rng_operand(struct rng *r)
{
    static const uint32_t edge[] = { 0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
                                     0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu, 0x0F, 0x10, 0x99 };
    uint32_t k = rng_next(r);
    if ((k & 7) == 0)
        return edge[(k >> 3) % (sizeof(edge) / sizeof(edge[0]))];
    return rng_next(r) ^ (rng_next(r) << 16);
}

#endif
