/*
 * run.h - the vCPU's run loop: find the block at EIP (chained successor, else the dispatcher's
 * hash table, else ask the translator), execute its instructions with the engine, deliver
 * exceptions and interrupts at instruction boundaries, and stop on HLT, triple fault or when
 * the instruction budget is spent.
 *
 * Where blocks come from is a callback, so the same loop runs in the vCPU process (blocks over
 * the translator channel) and in-process in tests, the oracle and benchmarks (the front-end
 * called directly).
 */
#ifndef CLOISTER_VCPU_RUN_H
#define CLOISTER_VCPU_RUN_H

#include <stdint.h>

#include "vcpu/engine.h"
#include "vcpu/tcache.h"

struct vcpu_source {
    void *ctx;
    /* Produce the block for `req`: returns enum xl_status; on XL_OK, block and size describe the
     * block in memory the translator controls (tcache_insert copies and validates it) */
    int (*translate)(void *ctx, const struct msg_translate *req, const void **block, size_t *size);
    /* The highest-priority pending external interrupt vector, or -1. Called at block
     * boundaries when IF=1; `ack` acknowledges it (the PIC's INTA). */
    int (*irq_pending)(void *ctx, bool ack);
};

enum vcpu_stop {
    VCPU_BUDGET = 0,    /* executed the requested number of instructions */
    VCPU_HALTED = 1,    /* HLT with interrupts enabled: wait for an interrupt */
    VCPU_HALT_DEAD = 2, /* HLT with interrupts disabled and nothing pending: the VM is over */
    VCPU_TRIPLE = 3,    /* triple fault: reset */
    VCPU_BAD_BLOCK = 4, /* the translator returned a malformed block: treat it as hostile */
};

struct vcpu {
    struct engine eng;
    struct cpu_state cpu;
    struct vmem mem;
    struct tcache tc;
    struct vcpu_source src;
    bool no_chain;        /* benchmarks: always go through the dispatcher */
    uint64_t blocks_run;
    uint64_t insns;       /* instructions executed (including ones that faulted) */
};

/* Wire engine, memory and cache together (ram: guest RAM mapping of ram_size bytes). */
int vcpu_init(struct vcpu *v, uint8_t *ram, uint32_t ram_size, size_t cache_bytes);
void vcpu_free(struct vcpu *v);

/* Run until one of enum vcpu_stop happens; at most `budget` instructions (approximately: whole
 * blocks are run). */
int vcpu_run(struct vcpu *v, uint64_t budget);

/* The decoding mode bits (IR_MODE_*) for the current CPU state. */
uint32_t vcpu_mode(const struct cpu_state *cpu);

#endif
