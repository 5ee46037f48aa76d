/*
 * x87.h - the x87 FPU executor: executes one IR_X87 instruction (opcodes D8-DF as an i686
 * executes them) against a struct cpu_fpu, through a narrow environment supplied by the engine.
 *
 * The engine keeps everything architectural outside the FPU: it computes the memory operand's
 * effective address and does segmentation and paging inside the read/write callbacks, supplies
 * CR0/EFLAGS/EIP/CS, and applies what struct x87_result asks for (AX for FNSTSW AX, the
 * arithmetic flags for FCOMI/FUCOMI, an exception vector to raise).
 *
 * Trust: the ir_insn and the cpu_fpu contents are treated as hostile (any bit pattern is
 * handled); the callbacks are trusted to stay within the guest's memory. Numeric work runs on
 * the host's own x87 unit (same ISA); the host's x87 control word is restored after every use,
 * MXCSR and the SSE registers are never touched, the host x87 stack is left empty and its status
 * flags clear (all the SysV ABI asks for at a call boundary); see docs/x87.md.
 */
#ifndef CLOISTER_VCPU_X87_H
#define CLOISTER_VCPU_X87_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/ir.h"
#include "vcpu/cpu.h"

enum x87_status {
    X87_OK = 0,    /* executed (possibly leaving a masked/unmasked exception recorded in FSW) */
    X87_FAULT = 1, /* a read/write callback failed: the cpu_fpu and *res are unchanged except
                      res->status; the engine raises the fault the callback recorded */
    X87_EXC = 2,   /* res->vector must be raised (#NM, #MF or #UD); nothing was changed */
};

struct x87_env {
    void *ctx;
    /* Memory operand accessors. offset is relative to the start of the instruction's memory
     * operand; the engine applies segmentation, limits and paging. Return 0, or -1 on a fault
     * (which the engine records for itself). Each access is one call covering the whole operand
     * (at most 108 bytes, for FNSAVE/FRSTOR), so a partial write never happens from our side. */
    int (*read)(void *ctx, uint32_t offset, void *buf, unsigned size);
    int (*write)(void *ctx, uint32_t offset, const void *buf, unsigned size);
    uint32_t cr0;        /* only EM, TS, MP, NE are used */
    uint32_t eflags;     /* only CF, PF, ZF are used (FCMOVcc) */
    uint32_t eip;        /* offset of the instruction's first byte: becomes FIP */
    uint16_t cs;         /* CS selector: becomes FCS */
    uint16_t mem_sel;    /* selector of the memory operand's segment: becomes FDS */
    uint32_t mem_offset; /* effective address (offset) of the memory operand: becomes FDP */
    bool pmode;          /* protected mode and not virtual-8086: selects the protected-mode layout
                            of FNSTENV/FLDENV/FNSAVE/FRSTOR images, else the real-mode layout;
                            the 16- or 32-bit layout follows in->osize (2 -> 16-bit) */
};

struct x87_result {
    int status;          /* same as x87_exec's return value */
    uint16_t ax;         /* FNSTSW AX: the value for AX, when set_ax */
    bool set_ax;
    uint32_t eflags_zpc; /* FCOMI/FCOMIP/FUCOMI/FUCOMIP: new values of all six arithmetic flags
                            (CF PF AF ZF SF OF, i.e. CPU_ARITH_FLAGS), when set_flags; the engine
                            does eflags = (eflags & ~CPU_ARITH_FLAGS) | eflags_zpc */
    bool set_flags;
    uint8_t vector;      /* X87_EXC: CPU_NM, CPU_MF or CPU_UD */
};

/* FNINIT state: FCW=0x037F, FSW=0, FTW all empty, FIP/FCS/FDP/FDS/FOP zero. The registers are
 * zeroed too (FNINIT leaves them alone; a reset clears them). */
void x87_init(struct cpu_fpu *fpu);

/*
 * Execute one IR_X87 instruction (in->op must be IR_X87; anything else is #UD). in->x87 holds
 * (opcode & 7) << 8 | modrm for register forms (modrm >= 0xC0) and (opcode & 7) << 8 |
 * (modrm & 0x38) for memory forms, which must have opd[0].kind == IR_OPK_MEM. The memory
 * operand size comes from the opcode (and in->osize for the environment/save images), not from
 * opd[0].size. Check order: #NM (CR0.EM or CR0.TS), #UD (invalid or non-i686 encoding, e.g.
 * FISTTP), #MF (a pending unmasked exception and CR0.NE, waiting instructions only), memory
 * operand read, execution, memory operand write.
 */
int x87_exec(struct cpu_fpu *fpu, const struct ir_insn *in, struct x87_env *env,
             struct x87_result *res);

/*
 * WAIT/FWAIT: X87_EXC with res->vector = CPU_NM when CR0.TS and CR0.MP are both set, else
 * CPU_MF when an unmasked exception is pending and CR0.NE is set; X87_OK otherwise. With
 * CR0.NE clear the exception stays pending in FSW and nothing is raised (no FERR#/IRQ 13 model).
 */
int x87_wait_check(const struct cpu_fpu *fpu, uint32_t cr0, struct x87_result *res);

/* The full tag word (2 bits per physical register) as FNSTENV stores it: empty registers as
 * recorded in fpu->ftw, the others classified from their contents (valid, zero, special). */
uint16_t x87_tag_word(const struct cpu_fpu *fpu);

#endif
