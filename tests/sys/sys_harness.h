/*
 * sys_harness.h - a small machine for the system-instruction tests: RAM with a GDT, IDT, LDT and
 * two TSSs at fixed addresses, an engine wired to recording I/O callbacks, and builders for
 * descriptors, gates and IR instructions.
 *
 * Layout (physical = linear, paging off unless a test turns it on):
 *   GDT 0x10000 (64 entries)  IDT 0x11000 (256 gates)  TSS 0x12000 (+ I/O bitmap)
 *   TSS2 0x15000  LDT 0x16000 (32 entries)  ring-0 stack top 0x20000  ring-1 0x28000
 *   ring-3 stack top 0x30000  handlers/code around 0x40000
 */
#ifndef CLOISTER_TESTS_SYS_HARNESS_H
#define CLOISTER_TESTS_SYS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/exec.h"

#define TH_RAM_SIZE (4u << 20)
#define TH_GDT 0x10000u
#define TH_IDT 0x11000u
#define TH_TSS 0x12000u
#define TH_TSS_IOMAP 0x68u
#define TH_TSS_LIMIT (TH_TSS_IOMAP + 8192u) /* bitmap plus the trailing 0xFF byte */
#define TH_TSS2 0x15000u
#define TH_LDT 0x16000u
#define TH_STACK0 0x20000u
#define TH_STACK1 0x28000u
#define TH_STACK3 0x30000u
#define TH_CODE 0x40000u

/* GDT selectors */
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1B, SEL_DATA3 = 0x23, SEL_TSS = 0x28,
    SEL_LDT = 0x30, SEL_CODE1 = 0x39, SEL_DATA1 = 0x41, SEL_TSS2 = 0x48, SEL_CODE16 = 0x50,
    SEL_DATA16 = 0x58, SEL_SCRATCH = 0x60, /* entries 12.. are free for tests */
};

/* access bytes (P | DPL | S | type) */
#define ACC_CODE(dpl) (0x9A | (dpl) << 5)
#define ACC_DATA(dpl) (0x92 | (dpl) << 5)
#define ACC_TSS32 0x89
#define ACC_LDT 0x82
/* gate type bytes (P | DPL | type) */
#define GATE_INT32(dpl) (0x8E | (dpl) << 5)
#define GATE_TRAP32(dpl) (0x8F | (dpl) << 5)
#define GATE_INT16(dpl) (0x86 | (dpl) << 5)
#define GATE_CALL32(dpl) (0x8C | (dpl) << 5)
#define GATE_CALL16(dpl) (0x84 | (dpl) << 5)
#define GATE_TASK(dpl) (0x85 | (dpl) << 5)

struct th_out {
    uint16_t port;
    unsigned size;
    uint32_t value;
};

struct th {
    struct cpu_state cpu;
    struct vmem mem;
    struct engine e;
    uint8_t *ram;
    uint32_t in_value;
    unsigned n_in;
    uint16_t last_in_port;
    unsigned n_out;
    struct th_out outs[64];
    uint64_t host_tsc;
};

/* Allocate RAM and set up flat 32-bit protected mode at `cpl` (0 or 3) with the tables above
 * loaded (TR = SEL_TSS busy, IDT empty with limit 0x7FF). */
struct th *th_new(unsigned cpl);
/* Real mode, CS:IP = 0x1000:0, stack 0:0x8000, IVT at 0. */
struct th *th_new_real(void);
void th_free(struct th *t);
/* cmocka teardown: frees the machine a test stored in *state (also after a failed assert). */
int th_teardown(void **state);

uint32_t th_rd32(const struct th *t, uint32_t phys);
uint16_t th_rd16(const struct th *t, uint32_t phys);
uint8_t th_rd8(const struct th *t, uint32_t phys);
void th_wr32(struct th *t, uint32_t phys, uint32_t v);
void th_wr16(struct th *t, uint32_t phys, uint16_t v);

/* A code/data/system descriptor: `acc` is byte 5, `flags` the G/DB/L/AVL nibble. */
void th_desc(struct th *t, uint32_t table, unsigned idx, uint32_t base, uint32_t limit,
             uint8_t acc, uint8_t flags);
static inline void th_gdt(struct th *t, unsigned idx, uint32_t base, uint32_t limit, uint8_t acc,
                          uint8_t flags)
{
    th_desc(t, TH_GDT, idx, base, limit, acc, flags);
}
/* A gate at table[idx]: selector, offset, type byte, parameter count (call gates). */
void th_gate(struct th *t, uint32_t table, unsigned idx, uint16_t sel, uint32_t off, uint8_t type,
             unsigned params);
static inline void th_idt(struct th *t, unsigned vec, uint16_t sel, uint32_t off, uint8_t type)
{
    th_gate(t, TH_IDT, vec, sel, off, type, 0);
}
/* Load a segment register's hidden part from the GDT/LDT entry (no checks). */
void th_seg(struct th *t, unsigned seg, uint16_t sel);

/* IR instruction builders */
struct ir_insn th_insn(unsigned op, unsigned len, unsigned osize);
struct ir_insn th_insn_mem(unsigned op, unsigned osize, unsigned seg, uint32_t disp);

/* Run one instruction through engine_exec. */
int th_exec(struct th *t, const struct ir_insn *in);
/* Deliver t->e.exc (internal exception) */
int th_deliver(struct th *t);
uint32_t th_flags(struct th *t);

/* Expect an exception with this vector / error code (error ignored when has_error is false). */
#define TH_EXPECT_EXC(t, rc, vec, err)                                                             \
    do {                                                                                           \
        assert_int_equal((rc), ENG_EXCEPTION);                                                     \
        assert_int_equal((t)->e.exc.vector, (vec));                                                \
        assert_int_equal((t)->e.exc.error, (err));                                                 \
    } while (0)

#endif
