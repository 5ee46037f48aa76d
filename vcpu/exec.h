/*
 * exec.h - internal interface shared by the engine's files (not used outside vcpu/).
 *
 * Split of work between files:
 *   exec.c        dispatch on ir_insn.op, operand read/write, effective addresses
 *   exec_alu.c    integer arithmetic, logic, shifts, multiply/divide, BCD, bit ops
 *   exec_data.c   moves, stack, string instructions, near control transfer
 *   flags.c       lazy flags: cc_op evaluation, cpu_get_eflags / cpu_set_eflags
 *   vmem.c        vmem_translate / vmem_read / vmem_write (paging off: RAM + MMIO)
 *   seg.c         segmentation: descriptor fetch and checks, segment loads, limit checks
 *   exec_sys.c    system instructions: far CALL/JMP/RET, IRET, gates, TSS, SYSENTER/SYSEXIT,
 *                 LGDT.. LTR, LAR/LSL/VERR/VERW/ARPL, CR/DR moves, CPUID, RDTSC, MSRs, HLT, I/O
 *                 permission checks and port I/O
 *   deliver.c     engine_deliver: real-mode IVT and protected-mode IDT delivery, #DF, triple fault
 *
 * Every function that can fault returns 0 on success or ENG_EXCEPTION after filling e->exc via
 * eng_raise(); callers propagate the value unchanged and must not have committed any
 * architectural state before the last point that can fault.
 */
#ifndef CLOISTER_VCPU_EXEC_H
#define CLOISTER_VCPU_EXEC_H

#include "vcpu/engine.h"

/* Fill e->exc and return ENG_EXCEPTION. */
int eng_raise(struct engine *e, unsigned vector, bool has_error, uint32_t error);
static inline int eng_gp0(struct engine *e) { return eng_raise(e, CPU_GP, true, 0); }
static inline int eng_ud(struct engine *e) { return eng_raise(e, CPU_UD, false, 0); }

/* Data access through segment `seg` (enum ir_sreg) at offset `off`: limit/type checks (#GP(0),
 * or #SS(0) for SS), then linear access at the current CPL (CPL 3 = user). size 1..10. */
int seg_read(struct engine *e, unsigned seg, uint32_t off, void *buf, unsigned size);
int seg_write(struct engine *e, unsigned seg, uint32_t off, const void *buf, unsigned size);
/* Check that a write of `size` bytes at seg:off would succeed, without writing (for instructions
 * that must not commit partial state, e.g. PUSHA, ENTER, far CALL). */
int seg_check(struct engine *e, unsigned seg, uint32_t off, unsigned size, bool write);

/* Supervisor-mode linear access (descriptor tables, TSS, IDT): always CPL 0 rules. */
int sys_read(struct engine *e, uint32_t lin, void *buf, unsigned size);
int sys_write(struct engine *e, uint32_t lin, const void *buf, unsigned size);

/* Load a segment register from a selector with all protected-mode checks (or real-mode / v86
 * semantics); raises #GP/#SS/#NP/#TS with the selector error code as the SDM says. */
int seg_load(struct engine *e, unsigned seg, uint16_t sel);
/* Read the 8-byte descriptor for `sel` from the GDT/LDT; error code selector&0xFFFC on failure. */
int seg_fetch_desc(struct engine *e, uint16_t sel, uint32_t desc[2], unsigned fault_vector);
/* Fill a cpu_seg hidden part from a raw descriptor. */
void seg_from_desc(struct cpu_seg *s, uint16_t sel, const uint32_t desc[2]);
/* Real-mode style load: base = sel << 4, limit/attributes unchanged except as the SDM says. */
void seg_load_real(struct cpu_state *cpu, unsigned seg, uint16_t sel);

/* Stack helpers honouring SS.B (32- or 16-bit stack pointer). They do not commit ESP on fault. */
int stack_push(struct engine *e, uint32_t value, unsigned size);
int stack_pop(struct engine *e, uint32_t *value, unsigned size);
static inline uint32_t stack_mask(const struct cpu_state *cpu)
{
    return (cpu->seg[IR_SS].attr & 0x4000) ? 0xFFFFFFFFu : 0xFFFFu;
}

/* Effective address of the instruction's memory operand (offset within its segment). */
uint32_t eng_ea(const struct cpu_state *cpu, const struct ir_insn *in);

/* True when the CPU is in protected mode and not virtual-8086 mode. */
static inline bool cpu_pmode(const struct cpu_state *cpu)
{
    return (cpu->cr0 & CPU_CR0_PE) && !(cpu->eflags & CPU_VM);
}

/* Condition code evaluation (uses lazy flags). */
bool eng_cond(const struct cpu_state *cpu, unsigned cond);

/* Group entry points, called by exec.c's dispatcher. Return ENG_* values. */
int exec_alu(struct engine *e, const struct ir_insn *in);
int exec_data(struct engine *e, const struct ir_insn *in);
int exec_sys(struct engine *e, const struct ir_insn *in);
int exec_x87(struct engine *e, const struct ir_insn *in);

/* ---- Added by the integer engine (exec.c, flags.c): shared by the engine's files. ---- */

/* Lazy flags: cpu_state.cc_op = kind + size index (0: 8-bit, 1: 16-bit, 2: 32-bit). cc_res is the
 * result, cc_src1/cc_src2 the operands (ADC/SBB recover their carry-in from res - src1 - src2;
 * INC/DEC keep the untouched CF in cc_src2). Any other value of cc_op reads as CC_OP_EFLAGS. */
enum cc_op {
    CC_OP_EFLAGS = 0,
    CC_OP_ADD = 1,
    CC_OP_ADC = 4,
    CC_OP_SUB = 7,
    CC_OP_SBB = 10,
    CC_OP_LOGIC = 13,
    CC_OP_INC = 16,
    CC_OP_DEC = 19,
    CC_OP_COUNT = 22,
};

static inline uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}
static inline uint32_t size_sign(unsigned size)
{
    return 1u << (8 * (size >= 4 ? 4 : size) - 1);
}

/* Record a lazily evaluated flag-setting operation of `size` bytes (cc kind without size). */
static inline void flags_lazy(struct cpu_state *cpu, unsigned kind, unsigned size, uint32_t res,
                              uint32_t src1, uint32_t src2)
{
    cpu->cc_op = kind + (size == 1 ? 0 : size == 2 ? 1 : 2);
    cpu->cc_res = res;
    cpu->cc_src1 = src1;
    cpu->cc_src2 = src2;
}
/* The six arithmetic flags as they are now (evaluating the lazy state). */
uint32_t flags_arith(const struct cpu_state *cpu);
/* Set the arithmetic flags in `mask` to `value` eagerly (others keep their current values). */
void flags_set(struct cpu_state *cpu, uint32_t mask, uint32_t value);
/* SF, ZF and PF for a result of `size` bytes. */
uint32_t flags_szp(uint32_t res, unsigned size);

/* General registers by operand size (size 1: 0-3 = AL..BL, 4-7 = AH..BH). */
uint32_t reg_get(const struct cpu_state *cpu, unsigned reg, unsigned size);
void reg_put(struct cpu_state *cpu, unsigned reg, unsigned size, uint32_t value);
/* Operand i of `in`: REG/MEM values are zero-extended from the operand's size; IMM gives the raw
 * in->imm; SREG gives the selector. Writes go to REG, MEM or (never) other kinds by size. */
int opd_read(struct engine *e, const struct ir_insn *in, unsigned i, uint32_t *value);
int opd_write(struct engine *e, const struct ir_insn *in, unsigned i, uint32_t value);
/* seg_check(seg, off, size, write = true) done page by page of the linear range, so that a #PF
 * on the second page reports that page's first byte in CR2, as the processor does. */
int eng_check_write(struct engine *e, unsigned seg, uint32_t off, unsigned size);
/* opd_read for a read-modify-write destination: a memory operand is first checked for writing,
 * as the processor's write-intent read does (a write-protected segment is #GP, a #PF carries W). */
int opd_read_rmw(struct engine *e, const struct ir_insn *in, unsigned i, uint32_t *value);

/* Address of the next instruction (wrapped to 16 bits in a 16-bit code segment). Every handler
 * sets cpu->eip itself: to this on completion, or to a branch target; unchanged on exception. */
static inline uint32_t eng_next_eip(const struct cpu_state *cpu, const struct ir_insn *in)
{
    uint32_t n = cpu->eip + in->len;
    return (cpu->seg[IR_CS].attr & 0x4000u) ? n : (n & 0xFFFFu);
}
/* Near branch: #GP(0) if `target` is beyond the CS limit, else EIP = target. */
int eng_branch(struct engine *e, uint32_t target);

/* REP string instructions run at most this many iterations per engine_exec() call; when the
 * count is not exhausted they return ENG_OK with EIP unchanged (registers reflect the completed
 * iterations), so the run loop can take interrupts and then simply executes the instruction again. */
#define ENG_REP_CAP 4096u

#endif
