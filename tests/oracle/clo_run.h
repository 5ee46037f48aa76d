/*
 * clo_run.h - the cloister side of the oracle: runs a case through decode_one() and
 * engine_exec() in flat 32-bit protected mode at CPL 3, with paging on over a guest RAM laid out
 * exactly like the native runner's address space (proto.h): the data area and the code page are
 * mapped user-accessible, the guard page and the "unmapped" ranges are not present, and the GDT
 * and LDT mirror what the native process saw (user selectors from LAR/LSL probes, the LDT bytes
 * the kernel installed). Runs until the first exception (every case ends in one).
 *
 * Trusts: the decoder and engine under test only as far as their contracts; a decoder result that
 * fails ir_insn_valid() is reported, not executed.
 */
#ifndef CLOISTER_ORACLE_CLO_RUN_H
#define CLOISTER_ORACLE_CLO_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ir.h"
#include "tests/oracle/case.h"
#include "tests/oracle/proto.h"
#include "vcpu/cpu.h"
#include "vcpu/engine.h"
#include "vcpu/vmem.h"

#define CLO_RAM_SIZE 0x30000u
#define CLO_PD 0x20000u
#define CLO_PT 0x21000u
#define CLO_GDT 0x22000u
#define CLO_TSS 0x22100u
#define CLO_IDT 0x22800u
#define CLO_LDT 0x23000u

enum clo_status {
    CLO_EXC = 0,     /* ended with an exception (the normal end) */
    CLO_TIMEOUT = 1, /* step limit reached */
    CLO_HALT = 2,    /* engine_exec returned ENG_HALT */
    CLO_TRIPLE = 3,  /* engine_exec returned ENG_TRIPLE */
    CLO_BADIR = 4,   /* the decoder produced an instruction ir_insn_valid() rejects */
    CLO_ENGINE = 5,  /* engine_exec returned something undocumented */
};

struct clo_result {
    int status;
    uint8_t vector, has_error, soft;
    uint32_t error;
    uint32_t cr2;
    uint32_t regs[8];
    uint32_t eip, eflags;
    uint16_t sel[6];
    struct cpu_fpu fpu;
    unsigned steps;
    uint32_t last_eip;     /* address of the last instruction decoded */
    struct ir_insn last;   /* and its decoding */
    int last_rc;           /* engine_exec's return for it */
    uint8_t data[ORN_DATA_SIZE];
};

/* What the native process told us about its descriptor tables. */
struct clo_host {
    uint16_t user_cs, user_ds;
    uint32_t gdt_lar[16], gdt_lsl[16];
    uint16_t gdt_ok;
};

struct clo_env {
    uint8_t *ram;
    struct clo_host host;
    unsigned max_steps;
    struct vmem mem;
    struct cpu_state cpu;
    struct engine eng;
};

/* Allocate guest RAM. Returns 0 or -ENOMEM. */
int clo_env_init(struct clo_env *env, const struct clo_host *host, unsigned max_steps);
void clo_env_free(struct clo_env *env);

/* Run one case. `in` is the request the native run got (its code page and data area images are
 * reused), `ldt_raw` the descriptors the native run installed (orn_out.ldt_raw). */
void clo_run(struct clo_env *env, const struct oracle_case *c, const struct orn_in *in,
             const uint8_t ldt_raw[ORN_LDT_ENTRIES][8], struct clo_result *res);

#endif
