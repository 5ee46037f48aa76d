/*
 * exec.c - the engine's front door: engine_exec() dispatches one validated IR instruction to its
 * group, plus what every group shares (exception reporting, effective addresses, condition codes,
 * register and operand access, near-branch checks) and the reset / flat-mode set-up.
 *
 * Trusts: the instruction passed ir_insn_valid() (operand kinds, sizes and register numbers are in
 * range for the op); the cpu_state is the vCPU's own. Guest memory is reached only through
 * seg_read/seg_write, which do the segment and paging checks.
 */
#include <string.h>

#include "vcpu/exec.h"

int eng_raise(struct engine *e, unsigned vector, bool has_error, uint32_t error)
{
    e->exc.vector = (uint8_t)vector;
    e->exc.has_error = has_error ? 1 : 0;
    e->exc.soft = 0;
    e->exc.insn_len = 0;
    e->exc.error = has_error ? error : 0;
    return ENG_EXCEPTION;
}

uint32_t eng_ea(const struct cpu_state *cpu, const struct ir_insn *in)
{
    const struct ir_mem *m = &in->mem;
    uint32_t a = (uint32_t)m->disp;
    if (m->base < 8)
        a += cpu->r[m->base];
    if (m->index < 8)
        a += cpu->r[m->index] << (m->scale & 3);
    return in->asize == 2 ? (a & 0xFFFF) : a;
}

bool eng_cond(const struct cpu_state *cpu, unsigned cond)
{
    uint32_t f = flags_arith(cpu);
    bool r;
    switch ((cond >> 1) & 7) {
    case 0: r = f & CPU_OF; break;
    case 1: r = f & CPU_CF; break;
    case 2: r = f & CPU_ZF; break;
    case 3: r = f & (CPU_CF | CPU_ZF); break;
    case 4: r = f & CPU_SF; break;
    case 5: r = f & CPU_PF; break;
    case 6: r = !(f & CPU_SF) != !(f & CPU_OF); break;
    default: r = (f & CPU_ZF) || (!(f & CPU_SF) != !(f & CPU_OF)); break;
    }
    return (cond & 1) ? !r : r;
}

uint32_t reg_get(const struct cpu_state *cpu, unsigned reg, unsigned size)
{
    reg &= 7;
    if (size == 1)
        return reg < 4 ? (cpu->r[reg] & 0xFF) : ((cpu->r[reg - 4] >> 8) & 0xFF);
    return cpu->r[reg] & size_mask(size);
}

void reg_put(struct cpu_state *cpu, unsigned reg, unsigned size, uint32_t value)
{
    reg &= 7;
    if (size == 1) {
        if (reg < 4)
            cpu->r[reg] = (cpu->r[reg] & ~0xFFu) | (value & 0xFF);
        else
            cpu->r[reg - 4] = (cpu->r[reg - 4] & ~0xFF00u) | ((value & 0xFF) << 8);
    } else if (size == 2) {
        cpu->r[reg] = (cpu->r[reg] & ~0xFFFFu) | (value & 0xFFFF);
    } else {
        cpu->r[reg] = value;
    }
}

int opd_read(struct engine *e, const struct ir_insn *in, unsigned i, uint32_t *value)
{
    const struct ir_operand *o = &in->opd[i];
    uint8_t buf[4] = { 0, 0, 0, 0 };
    int rc;

    switch (o->kind) {
    case IR_OPK_REG:
        *value = reg_get(e->cpu, o->reg, o->size);
        return 0;
    case IR_OPK_MEM:
        if (o->size > 4)
            return eng_ud(e); /* wider memory operands have their own accessors */
        rc = seg_read(e, in->mem.seg, eng_ea(e->cpu, in), buf, o->size);
        if (rc)
            return rc;
        *value = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
                 (uint32_t)buf[3] << 24;
        return 0;
    case IR_OPK_IMM:
        *value = in->imm;
        return 0;
    case IR_OPK_SREG:
        *value = e->cpu->seg[o->reg % IR_NSREG].sel;
        return 0;
    default:
        return eng_ud(e);
    }
}

int opd_write(struct engine *e, const struct ir_insn *in, unsigned i, uint32_t value)
{
    const struct ir_operand *o = &in->opd[i];
    uint8_t buf[4];

    switch (o->kind) {
    case IR_OPK_REG:
        reg_put(e->cpu, o->reg, o->size, value);
        return 0;
    case IR_OPK_MEM:
        if (o->size > 4)
            return eng_ud(e);
        buf[0] = (uint8_t)value;
        buf[1] = (uint8_t)(value >> 8);
        buf[2] = (uint8_t)(value >> 16);
        buf[3] = (uint8_t)(value >> 24);
        return seg_write(e, in->mem.seg, eng_ea(e->cpu, in), buf, o->size);
    default:
        return eng_ud(e);
    }
}

int eng_check_write(struct engine *e, unsigned seg, uint32_t off, unsigned size)
{
    /* the whole range first: segment limit and type faults take precedence over paging */
    int rc = seg_check(e, seg, off, size, true);
    if (rc == 0 || e->exc.vector != CPU_PF_VEC)
        return rc;
    /* a #PF: find the page that faults, so CR2 is the first byte touched on it */
    uint32_t lin = e->cpu->seg[seg % IR_NSREG].base + off;
    unsigned first = VMEM_PAGE - (lin & (VMEM_PAGE - 1));
    if (first >= size)
        return rc;
    if (seg_check(e, seg, off, first, true) || seg_check(e, seg, off + first, size - first, true))
        return ENG_EXCEPTION;
    return rc;
}

int opd_read_rmw(struct engine *e, const struct ir_insn *in, unsigned i, uint32_t *value)
{
    const struct ir_operand *o = &in->opd[i];
    if (o->kind == IR_OPK_MEM) {
        int rc = eng_check_write(e, in->mem.seg, eng_ea(e->cpu, in), o->size);
        if (rc)
            return rc;
    }
    return opd_read(e, in, i, value);
}

int eng_branch(struct engine *e, uint32_t target)
{
    if (target > e->cpu->seg[IR_CS].limit)
        return eng_gp0(e);
    e->cpu->eip = target;
    return ENG_OK;
}

enum group { G_ALU, G_DATA, G_SYS, G_X87, G_INVALID };

static unsigned group_of(unsigned op)
{
    switch (op) {
    case IR_ADD: case IR_OR: case IR_ADC: case IR_SBB: case IR_AND: case IR_SUB: case IR_XOR:
    case IR_CMP: case IR_TEST: case IR_INC: case IR_DEC: case IR_NEG: case IR_NOT:
    case IR_MUL: case IR_IMUL1: case IR_IMUL: case IR_DIV: case IR_IDIV:
    case IR_ROL: case IR_ROR: case IR_RCL: case IR_RCR: case IR_SHL: case IR_SHR: case IR_SAR:
    case IR_SHLD: case IR_SHRD:
    case IR_DAA: case IR_DAS: case IR_AAA: case IR_AAS: case IR_AAM: case IR_AAD: case IR_SALC:
    case IR_BT: case IR_BTS: case IR_BTR: case IR_BTC: case IR_BSF: case IR_BSR:
    case IR_CLC: case IR_STC: case IR_CMC: case IR_CLD: case IR_STD: case IR_LAHF: case IR_SAHF:
        return G_ALU;
    case IR_MOV: case IR_MOVZX: case IR_MOVSX: case IR_XCHG: case IR_XADD: case IR_CMPXCHG: case IR_CMPXCHG8B: case IR_LEA:
    case IR_CBW: case IR_CWD: case IR_BSWAP: case IR_CMOV: case IR_SETCC:
    case IR_PUSHF: case IR_POPF: case IR_PUSH: case IR_POP: case IR_PUSHA: case IR_POPA:
    case IR_ENTER: case IR_LEAVE: case IR_XLAT:
    case IR_JMP: case IR_JCC: case IR_JCXZ: case IR_LOOP: case IR_LOOPE: case IR_LOOPNE:
    case IR_JMP_IND: case IR_CALL: case IR_CALL_IND: case IR_RET:
    case IR_MOVS: case IR_CMPS: case IR_STOS: case IR_LODS: case IR_SCAS:
    case IR_NOP:
        return G_DATA;
    case IR_X87: case IR_WAIT:
        return G_X87;
    case IR_INVALID:
        return G_INVALID;
    default:
        return G_SYS;
    }
}

int engine_exec(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint8_t shadow = cpu->inhibit_irq;
    int rc;

    /* The interrupt shadow covers exactly one instruction; the instruction may set it again. */
    cpu->inhibit_irq = 0;
    if (in->op == IR_INVALID) {
        rc = (in->flags & IR_F_TOO_LONG) ? eng_gp0(e) : eng_ud(e);
    } else {
        /* privilege is decided by each handler from the op (IR_F_PRIV is only a hint from the
         * untrusted translator) */
        switch (group_of(in->op)) {
        case G_ALU: rc = exec_alu(e, in); break;
        case G_DATA: rc = exec_data(e, in); break;
        case G_X87: rc = exec_x87(e, in); break;
        case G_SYS: rc = exec_sys(e, in); break;
        default: rc = eng_ud(e); break;
        }
    }
    if (rc == ENG_EXCEPTION) {
        cpu->inhibit_irq = shadow;
        e->count.exceptions++;
    } else {
        e->count.insns++;
    }
    return rc;
}

static void set_seg(struct cpu_seg *s, uint16_t sel, uint32_t base, uint32_t limit, uint32_t attr)
{
    s->sel = sel;
    s->pad = 0;
    s->base = base;
    s->limit = limit;
    s->attr = attr;
}

/* x87 state after FINIT: all registers empty, default control word. */
static void fpu_init(struct cpu_fpu *f)
{
    memset(f, 0, sizeof(*f));
    f->fcw = 0x037F;
    f->ftw = 0xFFFF;
}

void engine_reset(struct cpu_state *cpu)
{
    uint32_t id[4];

    memset(cpu, 0, sizeof(*cpu));
    /* attr 0x93: present, DPL 0, data read/write accessed; CS 0x9B: code execute/read accessed */
    set_seg(&cpu->seg[IR_CS], 0xF000, 0xFFFF0000u, 0xFFFF, 0x9B);
    for (unsigned s = 0; s < IR_NSREG; s++)
        if (s != IR_CS)
            set_seg(&cpu->seg[s], 0, 0, 0xFFFF, 0x93);
    set_seg(&cpu->ldtr, 0, 0, 0xFFFF, 0x82);
    set_seg(&cpu->tr, 0, 0, 0xFFFF, 0x8B);
    cpu->gdtr.limit = 0xFFFF;
    cpu->idtr.limit = 0xFFFF;
    cpu->eip = 0xFFF0;
    cpu->eflags = 0x2;
    cpu->cc_op = CC_OP_EFLAGS;
    cpu->cr0 = CPU_CR0_CD | CPU_CR0_NW | CPU_CR0_ET;
    cpu->dr[6] = 0xFFFF0FF0u;
    cpu->dr[7] = 0x400;
    cpu->apic_base = 0xFEE00900u; /* default base, global enable, bootstrap processor */
    /* the processor signature is in EDX after reset */
    cpu_cpuid(cpu, 1, id);
    cpu->r[IR_EDX] = id[0];
    memset(&cpu->fpu, 0, sizeof(cpu->fpu));
    cpu->fpu.fcw = 0x0040;
    cpu->fpu.ftw = 0x5555;
}

void engine_flat32(struct cpu_state *cpu, unsigned cpl)
{
    unsigned dpl = cpl == 3 ? 3 : 0;
    uint16_t cs = dpl ? 0x1B : 0x08, ds = dpl ? 0x23 : 0x10;

    engine_reset(cpu);
    memset(cpu->r, 0, sizeof(cpu->r));
    cpu->eip = 0;
    /* G=1, D/B=1, present, DPL, code execute/read or data read/write, accessed */
    set_seg(&cpu->seg[IR_CS], cs, 0, 0xFFFFFFFFu, 0xC09B | dpl << 5);
    for (unsigned s = 0; s < IR_NSREG; s++)
        if (s != IR_CS)
            set_seg(&cpu->seg[s], ds, 0, 0xFFFFFFFFu, 0xC093 | dpl << 5);
    cpu->cr0 = CPU_CR0_PE | CPU_CR0_ET | CPU_CR0_NE;
    cpu->cpl = (uint8_t)dpl;
    cpu->eflags = 0x2;
    cpu->cc_op = CC_OP_EFLAGS;
    fpu_init(&cpu->fpu);
}
