/*
 * x87_native.h - the reference for the x87 tests: runs one D8-DF encoding on the host x87 unit,
 * through code generated at start-up (one small stub per encoding), against a guest state given
 * as a struct cpu_fpu. Deliberately independent of the module under test: it moves state with
 * FRSTOR/FNSAVE (not FXRSTOR/FXSAVE), converts images with its own code, runs the aliases as
 * encoded, and classifies nothing.
 *
 * The caller must not pass a state with a pending unmasked exception to a waiting instruction:
 * that would raise SIGFPE in the test process, as it would on the guest.
 */
#ifndef CLOISTER_TESTS_X87_NATIVE_H
#define CLOISTER_TESTS_X87_NATIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/cpu.h"

struct native_out {
    uint32_t eflags; /* RFLAGS after the instruction */
    uint32_t eax;    /* EAX after it (FNSTSW AX) */
    uint8_t save[108]; /* the FNSAVE image taken right after it */
};

/* The generated stubs (read+execute mapping, kept for the life of the test process). */
struct native {
    uint8_t *stubs;
};

/* Map and fill the stubs. Returns 0 or -errno. native_fini unmaps them. */
int native_init(struct native *n);
void native_fini(struct native *n);

/* Run code (the IR x87 field: (opcode & 7) << 8 | modrm; memory forms use [mem]) on *fpu,
 * replacing *fpu by the result. `mem` must be at least 108 bytes. */
void native_run(const struct native *n, struct cpu_fpu *fpu, unsigned code, void *mem,
                uint32_t eflags, struct native_out *out);

/* The same with an operand-size prefix (16-bit FLDENV/FNSTENV/FRSTOR/FNSAVE images). */
void native_run16(const struct native *n, struct cpu_fpu *fpu, unsigned code, void *mem,
                  uint32_t eflags, struct native_out *out);

/* Build / parse a 32-bit protected-mode FNSAVE image (pointer fields: zero on build, ignored
 * on parse). The tag word written is the full one from fpu->ftw. */
void native_image_from_fpu(const struct cpu_fpu *fpu, uint8_t img[108]);
void native_fpu_from_image(struct cpu_fpu *fpu, const uint8_t img[108]);

/* FNSTENV / FNSAVE natively, in the 32-bit protected-mode format (o16: the 16-bit format). */
void native_fnstenv(const struct native *n, const struct cpu_fpu *fpu, uint8_t *buf,
                    bool o16);
void native_fnsave(const struct native *n, const struct cpu_fpu *fpu, uint8_t *buf,
                   bool o16);

/* Host FCW and MXCSR right now. */
uint16_t native_host_fcw(void);
uint32_t native_host_mxcsr(void);

#endif
