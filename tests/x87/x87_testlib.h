/*
 * x87_testlib.h - shared helpers for the x87 tests: a deterministic PRNG, a guest-memory stub
 * for the x87_env callbacks, IR builders, random FPU states and operands with the interesting
 * edge cases, and an i686 opcode table written independently of vcpu/x87_decode.c (from the
 * SDM opcode map) so that the two can be checked against each other.
 */
#ifndef CLOISTER_TESTS_X87_TESTLIB_H
#define CLOISTER_TESTS_X87_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ir.h"
#include "vcpu/cpu.h"
#include "vcpu/x87.h"

struct rng {
    uint64_t s;
};
uint64_t rng_next(struct rng *r);
unsigned rng_below(struct rng *r, unsigned n);

/* Guest memory behind the callbacks: the operand starts at buf[0]. */
struct tmem {
    uint8_t buf[128];
    bool fail_read, fail_write;
    unsigned reads, writes;
    unsigned last_size;
};
void tmem_env(struct x87_env *env, struct tmem *m);

struct ir_insn insn_reg(unsigned opcode, unsigned modrm);
struct ir_insn insn_mem(unsigned opcode, unsigned reg, unsigned osize);
static inline unsigned code_of(unsigned opcode, unsigned low) { return (opcode & 7) << 8 | low; }

/* Memory operand types of the i686 x87 encodings. */
enum mtype {
    MT_NONE, MT_F32, MT_F64, MT_F80, MT_I16, MT_I32, MT_I64, MT_BCD, MT_CW, MT_SW, MT_ENV,
    MT_SAVE,
};

struct tinfo {
    bool valid;       /* executes on an i686 (not #UD) */
    bool waiting;     /* checks for pending exceptions (#MF) */
    bool store;       /* writes its memory operand */
    uint8_t mtype;    /* enum mtype */
    uint16_t undef;   /* FSW condition bits the SDM leaves undefined after it */
};
/* code: the IR x87 field; is_mem: memory form. */
struct tinfo tinfo_of(unsigned code, bool is_mem);
unsigned mtype_size(unsigned mtype, bool o32);

/* 80-bit values. */
void ext_make(long double *out, unsigned sign_exp, uint64_t mant);
void ext_random(struct rng *r, long double *out); /* edge case or random */
void mem_random(struct rng *r, unsigned mtype, uint8_t *buf); /* edge case or random */

/* A random state without a pending unmasked exception (so a native waiting instruction does
 * not trap): random TOP, tags, registers, FCW (RC, PC, masks), C bits, masked flags. */
void fpu_random(struct rng *r, struct cpu_fpu *fpu);

/* Push like FLD (no checks), and read ST(i). */
void fpu_push(struct cpu_fpu *fpu, long double v);
long double fpu_st(const struct cpu_fpu *fpu, unsigned i);
unsigned fpu_top(const struct cpu_fpu *fpu);
unsigned fpu_tag(const struct cpu_fpu *fpu, unsigned i); /* tag of ST(i) in fpu->ftw */

/* Bits of an 80-bit value. */
uint64_t ext_mant(long double v);
unsigned ext_se(long double v);

#endif
