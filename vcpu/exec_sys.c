/*
 * exec_sys.c - entry point for the system instructions (exec_sys, called by exec.c's
 * dispatcher): privilege and mode checks that decide #GP/#UD before anything runs, then the
 * small instructions (INT n/INT3/INTO/INT1, BOUND, CLI/STI, HLT, MOV Sreg, LDS..LSS,
 * SYSENTER/SYSEXIT) here and the rest in exec_far.c, exec_desc.c, exec_ctl.c and exec_io.c.
 *
 * Trust: the IR instruction passed ir_insn_valid() (structure only); which instructions are
 * privileged is decided here from the opcode, never from the translator's IR_F_PRIV flag.
 */
#include "vcpu/sys.h"

/* ---- operands ----------------------------------------------------------------------------- */

int sys_opd_read(struct engine *e, const struct ir_insn *in, unsigned i, unsigned size, uint32_t *v)
{
    const struct ir_operand *o = &in->opd[i];
    if (o->kind == IR_OPK_REG) {
        *v = reg_get(e->cpu, o->reg, size);
        return 0;
    }
    if (o->kind != IR_OPK_MEM)
        return eng_ud(e);
    uint8_t b[4] = {0, 0, 0, 0};
    int r = seg_read(e, in->mem.seg, eng_ea(e->cpu, in), b, size);
    if (r)
        return r;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

int sys_opd_write(struct engine *e, const struct ir_insn *in, unsigned i, unsigned size, uint32_t v)
{
    const struct ir_operand *o = &in->opd[i];
    if (o->kind == IR_OPK_REG) {
        reg_put(e->cpu, o->reg, size, v);
        return 0;
    }
    if (o->kind != IR_OPK_MEM)
        return eng_ud(e);
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return seg_write(e, in->mem.seg, eng_ea(e->cpu, in), b, size);
}

/* ---- privilege classes -------------------------------------------------------------------- */

/* Needs CPL 0 (VM86 counts as CPL 3); allowed in real mode. */
static bool op_cpl0(unsigned op)
{
    switch (op) {
    case IR_LGDT: case IR_LIDT: case IR_LLDT: case IR_LTR: case IR_LMSW: case IR_CLTS:
    case IR_MOV_TO_CR: case IR_MOV_FROM_CR: case IR_MOV_TO_DR: case IR_MOV_FROM_DR:
    case IR_INVLPG: case IR_INVD: case IR_WBINVD: case IR_HLT: case IR_RDMSR: case IR_WRMSR:
        return true;
    default:
        return false;
    }
}

/* Not recognised in real mode or VM86 (#UD). */
static bool op_pmode_only(unsigned op)
{
    switch (op) {
    case IR_LLDT: case IR_SLDT: case IR_LTR: case IR_STR: case IR_LAR: case IR_LSL:
    case IR_VERR: case IR_VERW: case IR_ARPL:
        return true;
    default:
        return false;
    }
}

/* ---- small instructions ------------------------------------------------------------------- */

static int advance(struct engine *e, const struct ir_insn *in, int result)
{
    e->cpu->eip = eng_next_eip(e->cpu, in);
    return result;
}

/* Software interrupt: reported with EIP after the instruction (engine.h). */
static int soft_int(struct engine *e, const struct ir_insn *in, unsigned vector, unsigned kind)
{
    e->cpu->eip = eng_next_eip(e->cpu, in);
    eng_raise(e, vector, false, 0);
    e->exc.soft = (uint8_t)kind;
    e->exc.insn_len = in->len;
    return ENG_EXCEPTION;
}

static int exec_bound(struct engine *e, const struct ir_insn *in)
{
    unsigned size = in->osize == 2 ? 2 : 4;
    uint8_t b[8];
    if (in->opd[1].kind != IR_OPK_MEM || in->opd[0].kind != IR_OPK_REG)
        return eng_ud(e);
    int r = seg_read(e, in->mem.seg, eng_ea(e->cpu, in), b, 2 * size);
    if (r)
        return r;
    int32_t lo, hi, idx;
    uint32_t raw_idx = e->cpu->r[in->opd[0].reg & 7];
    if (size == 2) {
        lo = (int16_t)(b[0] | b[1] << 8);
        hi = (int16_t)(b[2] | b[3] << 8);
        idx = (int16_t)raw_idx;
    } else {
        lo = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                       (uint32_t)b[3] << 24);
        hi = (int32_t)((uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 |
                       (uint32_t)b[7] << 24);
        idx = (int32_t)raw_idx;
    }
    if (idx < lo || idx > hi)
        return eng_raise(e, CPU_BR, false, 0); /* a fault: EIP stays at BOUND */
    return advance(e, in, ENG_OK);
}

/* CLI/STI may change IF: real mode always; VM86 with IOPL 3; protected mode with CPL <= IOPL
 * (no VME/PVI in this model, so no VIF path). */
static bool if_writable(const struct cpu_state *cpu)
{
    unsigned iopl = (cpu->eflags & CPU_IOPL) >> 12;
    if (!(cpu->cr0 & CPU_CR0_PE))
        return true;
    if (cpu->eflags & CPU_VM)
        return iopl == 3;
    return cpu->cpl <= iopl;
}

static int exec_cli_sti(struct engine *e, const struct ir_insn *in, bool sti)
{
    struct cpu_state *cpu = e->cpu;
    if (!if_writable(cpu))
        return eng_gp0(e);
    if (!sti) {
        cpu->eflags &= ~CPU_IF;
        return advance(e, in, ENG_OK);
    }
    /* the instruction after STI completes before interrupts are recognised */
    if (!(cpu->eflags & CPU_IF))
        cpu->inhibit_irq = 1;
    cpu->eflags |= CPU_IF;
    return advance(e, in, ENG_END_BLOCK);
}

static int exec_mov_sreg(struct engine *e, const struct ir_insn *in)
{
    if (in->opd[0].kind != IR_OPK_SREG || in->opd[0].reg >= IR_NSREG || in->opd[0].reg == IR_CS)
        return eng_ud(e);
    uint32_t sel;
    int r = sys_opd_read(e, in, 1, 2, &sel);
    if (r)
        return r;
    r = seg_load(e, in->opd[0].reg, (uint16_t)sel);
    if (r)
        return r;
    /* MOV SS holds off interrupts (and debug traps) for one instruction so SS:ESP change as one */
    if (in->opd[0].reg == IR_SS)
        e->cpu->inhibit_irq = 1;
    return advance(e, in, ENG_END_BLOCK);
}

static int exec_mov_from_sreg(struct engine *e, const struct ir_insn *in)
{
    if (in->opd[1].kind != IR_OPK_SREG || in->opd[1].reg >= IR_NSREG)
        return eng_ud(e);
    uint32_t sel = e->cpu->seg[in->opd[1].reg].sel;
    /* a register destination takes the zero-extended selector; memory always 16 bits */
    unsigned size = in->opd[0].kind == IR_OPK_MEM ? 2 : (in->osize == 4 ? 4 : 2);
    int r = sys_opd_write(e, in, 0, size, sel);
    return r ? r : advance(e, in, ENG_OK);
}

static int exec_lfp(struct engine *e, const struct ir_insn *in)
{
    unsigned size = in->osize == 2 ? 2 : 4;
    if (in->opd[1].kind != IR_OPK_MEM || in->opd[0].kind != IR_OPK_REG ||
        in->opd[2].kind != IR_OPK_SREG || in->opd[2].reg >= IR_NSREG || in->opd[2].reg == IR_CS)
        return eng_ud(e);
    uint8_t b[6];
    int r = seg_read(e, in->mem.seg, eng_ea(e->cpu, in), b, size + 2);
    if (r)
        return r;
    uint32_t off = (uint32_t)b[0] | (uint32_t)b[1] << 8;
    if (size == 4)
        off |= (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    uint16_t sel = (uint16_t)(b[size] | b[size + 1] << 8);
    r = seg_load(e, in->opd[2].reg, sel);
    if (r)
        return r;
    reg_put(e->cpu, in->opd[0].reg, size, off);
    if (in->opd[2].reg == IR_SS)
        e->cpu->inhibit_irq = 1;
    return advance(e, in, ENG_END_BLOCK);
}

/* Flat segments SYSENTER/SYSEXIT load without reading any descriptor (SDM SYSENTER). */
static void flat_seg(struct cpu_seg *s, uint16_t sel, unsigned dpl, bool code)
{
    s->sel = sel;
    s->pad = 0;
    s->base = 0;
    s->limit = 0xFFFFFFFFu;
    s->attr = SA_G | SA_DB | SA_P | (dpl << 5) | SA_S | (code ? SA_CODE : 0) | SA_RW | SA_ACCESSED;
}

static int exec_sysenter(struct engine *e)
{
    struct cpu_state *cpu = e->cpu;
    if (!(cpu->cr0 & CPU_CR0_PE) || sel_null((uint16_t)cpu->sysenter_cs))
        return eng_gp0(e);
    uint16_t cs = (uint16_t)(cpu->sysenter_cs & 0xFFFC);
    sys_set_flags(cpu, 0, CPU_VM | CPU_IF | CPU_RF);
    flat_seg(&cpu->seg[IR_CS], cs, 0, true);
    flat_seg(&cpu->seg[IR_SS], (uint16_t)(cs + 8), 0, false);
    cpu->cpl = 0;
    cpu->r[IR_ESP] = cpu->sysenter_esp;
    cpu->eip = cpu->sysenter_eip;
    return ENG_END_BLOCK;
}

static int exec_sysexit(struct engine *e)
{
    struct cpu_state *cpu = e->cpu;
    if (!cpu_pmode(cpu) || cpu->cpl != 0 || sel_null((uint16_t)cpu->sysenter_cs))
        return eng_gp0(e);
    uint16_t cs = (uint16_t)cpu->sysenter_cs;
    flat_seg(&cpu->seg[IR_CS], (uint16_t)((cs + 16) | 3), 3, true);
    flat_seg(&cpu->seg[IR_SS], (uint16_t)((cs + 24) | 3), 3, false);
    cpu->cpl = 3;
    cpu->r[IR_ESP] = cpu->r[IR_ECX];
    cpu->eip = cpu->r[IR_EDX];
    return ENG_END_BLOCK;
}

static int read_far_pointer(struct engine *e, const struct ir_insn *in, uint16_t *sel,
                            uint32_t *off)
{
    unsigned size = in->osize == 2 ? 2 : 4;
    uint8_t b[6];
    if (in->opd[0].kind != IR_OPK_MEM)
        return eng_ud(e);
    int r = seg_read(e, in->mem.seg, eng_ea(e->cpu, in), b, size + 2);
    if (r)
        return r;
    *off = (uint32_t)b[0] | (uint32_t)b[1] << 8;
    if (size == 4)
        *off |= (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    *sel = (uint16_t)(b[size] | b[size + 1] << 8);
    return 0;
}

/* ---- dispatcher --------------------------------------------------------------------------- */

int exec_sys(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned op = in->op;
    if (op_pmode_only(op) && !cpu_pmode(cpu))
        return eng_ud(e);
    if (op_cpl0(op) && (cpu->cr0 & CPU_CR0_PE) && cpu->cpl != 0)
        return eng_gp0(e); /* includes VM86, where CPL is 3 */

    uint16_t sel;
    uint32_t off;
    int r;
    switch (op) {
    case IR_JMP_FAR:
        return far_jmp(e, in, (uint16_t)in->imm2, in->imm);
    case IR_CALL_FAR:
        return far_call(e, in, (uint16_t)in->imm2, in->imm);
    case IR_JMP_FAR_IND:
        r = read_far_pointer(e, in, &sel, &off);
        return r ? r : far_jmp(e, in, sel, off);
    case IR_CALL_FAR_IND:
        r = read_far_pointer(e, in, &sel, &off);
        return r ? r : far_call(e, in, sel, off);
    case IR_RETF:
        return far_ret(e, in);
    case IR_IRET:
        return far_iret(e, in);

    case IR_INT:
        if ((cpu->eflags & CPU_VM) && ((cpu->eflags & CPU_IOPL) >> 12) < 3)
            return eng_gp0(e);
        return soft_int(e, in, in->imm & 0xFF, 1);
    case IR_INT3:
        return soft_int(e, in, CPU_BP, 1);
    case IR_INT1:
        return soft_int(e, in, CPU_DB, 2);
    case IR_INTO:
        if (cpu_get_eflags(cpu) & CPU_OF)
            return soft_int(e, in, CPU_OF_VEC, 1);
        return advance(e, in, ENG_OK);

    case IR_BOUND:
        return exec_bound(e, in);
    case IR_CLI:
        return exec_cli_sti(e, in, false);
    case IR_STI:
        return exec_cli_sti(e, in, true);
    case IR_MOV_SREG:
        return exec_mov_sreg(e, in);
    case IR_MOV_FROM_SREG:
        return exec_mov_from_sreg(e, in);
    case IR_LFP:
        return exec_lfp(e, in);
    case IR_HLT:
        cpu->halted = 1;
        return advance(e, in, ENG_HALT);

    case IR_SYSENTER:
        return exec_sysenter(e);
    case IR_SYSEXIT:
        return exec_sysexit(e);

    case IR_IN: case IR_OUT: case IR_INS: case IR_OUTS:
        return exec_io(e, in);

    case IR_LGDT: case IR_LIDT: case IR_SGDT: case IR_SIDT: case IR_LLDT: case IR_SLDT:
    case IR_LTR: case IR_STR: case IR_LMSW: case IR_SMSW: case IR_LAR: case IR_LSL:
    case IR_VERR: case IR_VERW: case IR_ARPL: case IR_CLTS:
        return exec_desc(e, in);

    case IR_MOV_TO_CR: case IR_MOV_FROM_CR: case IR_MOV_TO_DR: case IR_MOV_FROM_DR:
    case IR_INVLPG: case IR_INVD: case IR_WBINVD: case IR_CPUID: case IR_RDTSC: case IR_RDPMC:
    case IR_RDMSR: case IR_WRMSR:
        return exec_ctl(e, in);

    default:
        return eng_ud(e);
    }
}
