/*
 * engine.h - the execution engine: executes validated IR instructions against a cpu_state and a
 * guest memory (vmem), with the architecture's semantics and precise exceptions.
 *
 * The engine never delivers an exception by itself from engine_exec(): it reports it, leaving
 * the CPU state exactly as before the faulting instruction (for REP string instructions: as
 * before the faulting iteration). engine_deliver() then performs delivery through the IDT (real
 * mode IVT, or protected-mode interrupt/trap/task... gates with the TSS stack switch), including
 * the #DF and triple-fault rules. The oracle uses engine_exec() alone to compare exceptions.
 */
#ifndef CLOISTER_VCPU_ENGINE_H
#define CLOISTER_VCPU_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ir.h"
#include "vcpu/cpu.h"
#include "vcpu/vmem.h"

/* Port I/O and other requests the engine cannot complete on its own. */
struct engine_io {
    void *ctx;
    /* size 1, 2 or 4; returns the value read (all-ones for nothing there) */
    uint32_t (*in)(void *ctx, uint16_t port, unsigned size);
    void (*out)(void *ctx, uint16_t port, unsigned size, uint32_t value);
    /* host time in TSC ticks, for RDTSC (guest TSC = this + cpu.tsc_offset) */
    uint64_t (*tsc)(void *ctx);
};

enum engine_result {
    ENG_OK = 0,        /* instruction completed, EIP advanced (or branched) */
    ENG_EXCEPTION = 1, /* e->exc holds vector/error code; state as before the instruction */
    ENG_HALT = 2,      /* HLT executed (EIP after the HLT); the run loop waits for an interrupt */
    ENG_TRIPLE = 3,    /* triple fault: the platform resets */
    ENG_END_BLOCK = 4, /* completed, and the run loop must leave the current block (mode
                          change, CR/segment/descriptor-table write, STI, POPF changing IF ...) */
};

struct engine_exc {
    uint8_t vector;
    uint8_t has_error;
    uint8_t soft;  /* INT n / INT3 / INTO / INT1: software interrupt (EIP after the instruction);
                      1 for INT n, INT3, INTO; 2 for INT1 (ICEBP), which skips the gate DPL
                      check and sets EXT in error codes like a hardware event */
    uint8_t insn_len; /* with soft: length of the INT instruction, so that a fault during delivery
                         is reported at the instruction (0 otherwise) */
    uint32_t error;
};

struct engine_counters {
    uint64_t insns;
    uint64_t exceptions;
};

struct engine {
    struct cpu_state *cpu;
    struct vmem *mem;
    struct engine_io io;
    struct engine_exc exc;       /* valid after ENG_EXCEPTION */
    struct engine_counters count;
};

/* Reset state as after power-on (real mode, CS:IP = F000:FFF0, ...) */
void engine_reset(struct cpu_state *cpu);

/* Set up flat 32-bit protected mode at CPL `cpl` (0 or 3): CS/DS/ES/SS/FS/GS base 0, limit 4G,
 * CR0.PE=1, paging off, EFLAGS = 0x2. Used by the oracle and the Linux loader. */
void engine_flat32(struct cpu_state *cpu, unsigned cpl);

/* Execute one instruction. `in` must have passed ir_insn_valid(). */
int engine_exec(struct engine *e, const struct ir_insn *in);

/* Deliver e->exc (or an external interrupt when `vector` >= 0 is given with external=true). */
int engine_deliver(struct engine *e, const struct engine_exc *exc, bool external);

/* EFLAGS with lazy arithmetic flags materialised; and the inverse. */
uint32_t cpu_get_eflags(const struct cpu_state *cpu);
void cpu_set_eflags(struct cpu_state *cpu, uint32_t value, uint32_t writable_mask);

/* CPUID leaf results for the i686 model (family 6). */
void cpu_cpuid(const struct cpu_state *cpu, uint32_t leaf, uint32_t out[4]);

#endif
