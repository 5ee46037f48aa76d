/*
 * sys.h - helpers shared by the system-level files of the engine (seg.c, exec_sys.c, exec_far.c,
 * exec_desc.c, exec_ctl.c, exec_io.c, task.c, deliver.c). Not part of the exec.h contract: only
 * these files include it.
 *
 * Trust: descriptors, gates and TSS images are guest memory and therefore arbitrary; every helper
 * here bounds-checks against the table limits in the CPU state before reading.
 */
#ifndef CLOISTER_VCPU_SYS_H
#define CLOISTER_VCPU_SYS_H

#include "vcpu/exec.h"

/* Bits of cpu_seg.attr (descriptor bits 40..55 shifted down by 8). */
#define SA_ACCESSED 0x0001u
#define SA_RW       0x0002u /* data: writable; code: readable */
#define SA_DC       0x0004u /* data: expand-down; code: conforming */
#define SA_CODE     0x0008u
#define SA_S        0x0010u /* code/data (1) or system (0) */
#define SA_DPL      0x0060u
#define SA_P        0x0080u
#define SA_DB       0x4000u
#define SA_G        0x8000u

/* System descriptor and gate types (attr & 0xF with S = 0). */
enum sys_type {
    ST_TSS16_AVAIL = 1, ST_LDT = 2, ST_TSS16_BUSY = 3, ST_CALL16 = 4, ST_TASK = 5, ST_INT16 = 6,
    ST_TRAP16 = 7, ST_TSS32_AVAIL = 9, ST_TSS32_BUSY = 11, ST_CALL32 = 12, ST_INT32 = 14,
    ST_TRAP32 = 15,
};

/* EFLAGS bits cpu.h does not name. */
#define EFL_FIXED1 0x00000002u
#define EFL_VIF    0x00080000u
#define EFL_VIP    0x00100000u

/* Attributes the engine gives flat segments it builds itself (SYSENTER/SYSEXIT, VM86). */
#define SA_VM86_DATA 0x00F3u /* present, DPL 3, read/write data, accessed, 16-bit */

static inline unsigned sa_dpl(uint32_t attr) { return (attr >> 5) & 3; }
static inline bool sa_code(uint32_t attr) { return (attr & (SA_S | SA_CODE)) == (SA_S | SA_CODE); }
static inline bool sa_data(uint32_t attr) { return (attr & (SA_S | SA_CODE)) == SA_S; }
static inline bool sa_conforming_code(uint32_t attr) { return sa_code(attr) && (attr & SA_DC); }
static inline bool sa_writable_data(uint32_t attr) { return sa_data(attr) && (attr & SA_RW); }
static inline unsigned sys_type(uint32_t attr) { return attr & 0xF; }
static inline bool sel_null(uint16_t sel) { return (sel & 0xFFFC) == 0; }

/* A descriptor as read from a table, with the linear address it came from (for the accessed
 * and busy bits, which the CPU writes back). */
struct sys_desc {
    uint32_t lo, hi;
    uint32_t lin;
};

static inline uint32_t desc_attr(const struct sys_desc *d) { return (d->hi >> 8) & 0xF0FF; }

/* Read the descriptor for `sel`. A selector beyond the table limit (or in an unusable LDT)
 * raises `vector` with error (sel & 0xFFFC) | ext. The null selector is the caller's business. */
int desc_fetch(struct engine *e, uint16_t sel, struct sys_desc *d, unsigned vector, uint32_t ext);
/* Set bits (within byte 5 of the descriptor: accessed = 0x01, TSS busy = 0x02) in memory and in
 * d->hi. Clear them with desc_clear_bits. */
int desc_set_bits(struct engine *e, struct sys_desc *d, uint8_t bits);
int desc_clear_bits(struct engine *e, struct sys_desc *d, uint8_t bits);
/* Base and byte-granular limit of a code/data/TSS/LDT descriptor. */
uint32_t desc_base(const struct sys_desc *d);
uint32_t desc_limit(const struct sys_desc *d);

/*
 * Stack frames on a segment that need not be loaded in SS yet (the new stack of a privilege
 * change); limit failures raise `vector` with error code `err`. stk_push_all pushes `n` values
 * of `size` bytes in order at ss:esp, checking every slot (limit, then paging for write) before
 * writing any, and updates *esp only on success (keeping the upper half of ESP on a 16-bit
 * stack).
 */
int stk_push_all(struct engine *e, const struct cpu_seg *ss, uint32_t *esp, const uint32_t *vals,
                 unsigned n, unsigned size, bool user, unsigned vector, uint32_t err);
/* The checks of stk_push_all alone (nothing written). */
int stk_check_all(struct engine *e, const struct cpu_seg *ss, uint32_t esp, unsigned n,
                  unsigned size, bool user, unsigned vector, uint32_t err);
/* Read `size` bytes at ss:(esp + byte_off), the offset wrapped with the SS stack-address mask. */
int stk_read(struct engine *e, const struct cpu_seg *ss, uint32_t esp, uint32_t byte_off,
             unsigned size, bool user, unsigned vector, uint32_t err, uint32_t *val);
static inline uint32_t stk_mask(const struct cpu_seg *ss)
{
    return (ss->attr & SA_DB) ? 0xFFFFFFFFu : 0xFFFFu;
}
static inline uint32_t stk_add(const struct cpu_seg *ss, uint32_t esp, uint32_t delta)
{
    uint32_t m = stk_mask(ss);
    return (esp & ~m) | ((esp + delta) & m);
}

/* Checks a data-segment register load (DS/ES/FS/GS) or SS load would do, without committing:
 * raises `gp_vector` (#GP, or #TS inside a task switch) for type/privilege errors and #NP/#SS for
 * not-present, with error (sel & 0xFFFC) | ext. On success *out holds the hidden part and *d the
 * descriptor (accessed bit not yet written). `cpl` is the privilege the load is checked against. */
int seg_check_data_load(struct engine *e, unsigned seg, uint16_t sel, unsigned cpl,
                        unsigned gp_vector, uint32_t ext, struct cpu_seg *out,
                        struct sys_desc *d);
/* Mark a data/stack load committed: set the accessed bit (may fault) and store the register. */
int seg_commit(struct engine *e, unsigned seg, struct sys_desc *d, const struct cpu_seg *s);
/* The hidden part the CPU uses for a null data selector: unusable (attr 0, so P = 0). */
void seg_make_null(struct cpu_seg *s, uint16_t sel);
/* VM86-style load: base sel << 4, limit 0xFFFF, DPL 3 read/write data. */
void seg_load_vm86(struct cpu_seg *s, uint16_t sel);
/* After a return to an outer level: null every data register whose DPL < new CPL (SDM RET/IRET). */
void seg_null_inaccessible(struct cpu_state *cpu);

/* EFLAGS writes: value under mask replaces the current (materialised) flags. */
void sys_set_flags(struct cpu_state *cpu, uint32_t value, uint32_t mask);

/* Task switch (32-bit TSS). `why` decides busy/NT/back-link handling (SDM 7.3). `next_eip` is
 * the EIP saved in the outgoing TSS. `ext` goes into error codes of faults it raises. When
 * has_err, `err` is pushed on the new task's stack (exception through a task gate). */
enum task_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
int task_switch(struct engine *e, uint16_t sel, struct sys_desc *d, enum task_reason why,
                uint32_t ext, uint32_t next_eip, bool has_err, uint32_t err);

/* SS:ESP for privilege level `dpl` from the current TSS (32- or 16-bit format); #TS(TR | ext)
 * when the TSS limit does not cover them. */
int tss_inner_stack(struct engine *e, unsigned dpl, uint32_t ext, uint16_t *ss, uint32_t *esp);

/* Check a new stack segment for a privilege change to `dpl` (CALL gate, interrupt): faults are
 * #TS(sel | ext), not present #SS(sel | ext). On success *out holds the hidden part. */
int seg_check_new_stack(struct engine *e, uint16_t sel, unsigned dpl, uint32_t ext,
                        struct cpu_seg *out, struct sys_desc *d);

/* Far-transfer and port-I/O pieces used by exec_sys.c's dispatcher. */
int far_jmp(struct engine *e, const struct ir_insn *in, uint16_t sel, uint32_t off);
int far_call(struct engine *e, const struct ir_insn *in, uint16_t sel, uint32_t off);
int far_ret(struct engine *e, const struct ir_insn *in);
int far_iret(struct engine *e, const struct ir_insn *in);
int exec_io(struct engine *e, const struct ir_insn *in);
int exec_ctl(struct engine *e, const struct ir_insn *in);
int exec_desc(struct engine *e, const struct ir_insn *in);

/* Operand access for the system instructions (register or the memory operand). */
int sys_opd_read(struct engine *e, const struct ir_insn *in, unsigned i, unsigned size, uint32_t *v);
int sys_opd_write(struct engine *e, const struct ir_insn *in, unsigned i, unsigned size, uint32_t v);

#endif
