/*
 * exec_far.c - far control transfers: JMP/CALL far (direct code segments, call gates with the
 * inner-level stack switch and parameter copy, task gates and TSSs), RETF to the same or an outer
 * level, and IRET (real mode, VM86, same/outer level, nested-task return, return to VM86).
 * Follows the JMP, CALL, RET and IRET pseudocode of SDM vol. 2.
 *
 * Trust: selectors and return frames come from guest registers and memory; descriptors from
 * guest tables. Nothing is committed before the last check that can fault, except that a task
 * switch past its commit point faults in the new task (as on hardware).
 */
#include "vcpu/sys.h"

/* Bits IRET may write, before privilege-dependent bits are added (SDM IRET pseudocode). */
#define IRET_BASE_MASK (CPU_ARITH_FLAGS | CPU_TF | CPU_DF | CPU_NT)
#define IRET_32_MASK   (CPU_RF | CPU_AC | CPU_ID)
#define REAL_IRET_MASK 0x00257FD5u

static uint32_t osize_mask(unsigned osize)
{
    return osize == 4 ? 0xFFFFFFFFu : 0xFFFFu;
}

/* Check a code-segment target of a direct JMP/CALL (SDM: same privilege only). */
static int check_direct_code(struct engine *e, uint16_t sel, uint32_t a)
{
    unsigned cpl = e->cpu->cpl, rpl = sel & 3;
    uint32_t err = sel & 0xFFFCu;
    if (a & SA_DC) {
        if (sa_dpl(a) > cpl)
            return eng_raise(e, CPU_GP, true, err);
    } else if (rpl > cpl || sa_dpl(a) != cpl) {
        return eng_raise(e, CPU_GP, true, err);
    }
    if (!(a & SA_P))
        return eng_raise(e, CPU_NP, true, err);
    return 0;
}

/* Load CS from a checked descriptor: accessed bit, selector RPL forced to `cpl`. */
static int commit_cs(struct engine *e, struct sys_desc *d, uint16_t sel, unsigned cpl)
{
    int r = desc_set_bits(e, d, 0x01);
    if (r)
        return r;
    uint32_t raw[2] = {d->lo, d->hi};
    seg_from_desc(&e->cpu->seg[IR_CS], (uint16_t)((sel & 0xFFFC) | cpl), raw);
    e->cpu->cpl = (uint8_t)cpl;
    return 0;
}

/* The gate or TSS descriptor itself must be reachable: DPL >= max(CPL, RPL), then present. */
static int check_system_target(struct engine *e, uint16_t sel, uint32_t a)
{
    uint32_t err = sel & 0xFFFCu;
    if (sa_dpl(a) < e->cpu->cpl || sa_dpl(a) < (sel & 3u))
        return eng_raise(e, CPU_GP, true, err);
    if (!(a & SA_P))
        return eng_raise(e, CPU_NP, true, err);
    return 0;
}

/* JMP/CALL through a task gate or to a TSS descriptor. */
static int far_task(struct engine *e, const struct ir_insn *in, uint16_t sel, struct sys_desc *d,
                    enum task_reason why)
{
    uint32_t a = desc_attr(d);
    int r = check_system_target(e, sel, a);
    if (r)
        return r;
    uint16_t tss = sel;
    struct sys_desc td = *d;
    if (sys_type(a) == ST_TASK) {
        tss = (uint16_t)(d->lo >> 16);
        if (tss & 4)
            return eng_raise(e, CPU_GP, true, tss & 0xFFFCu);
        r = desc_fetch(e, tss, &td, CPU_GP, 0);
        if (r)
            return r;
        uint32_t ta = desc_attr(&td);
        if ((ta & SA_S) || sys_type(ta) != ST_TSS32_AVAIL)
            return eng_raise(e, CPU_GP, true, tss & 0xFFFCu);
        if (!(ta & SA_P))
            return eng_raise(e, CPU_NP, true, tss & 0xFFFCu);
    }
    r = task_switch(e, tss, &td, why, 0, eng_next_eip(e->cpu, in), false, 0);
    return r ? r : ENG_END_BLOCK;
}

/* Real mode and VM86: CS gets sel << 4; the offset is checked against the CS limit. */
static int far_real(struct engine *e, const struct ir_insn *in, uint16_t sel, uint32_t off,
                    bool call)
{
    struct cpu_state *cpu = e->cpu;
    bool vm86 = (cpu->eflags & CPU_VM) != 0;
    off &= osize_mask(in->osize);
    uint32_t limit = vm86 ? 0xFFFF : cpu->seg[IR_CS].limit;
    uint32_t esp = cpu->r[IR_ESP];
    if (call) {
        uint32_t frame[2] = {cpu->seg[IR_CS].sel, eng_next_eip(cpu, in)};
        int r = stk_check_all(e, &cpu->seg[IR_SS], esp, 2, in->osize, cpu->cpl == 3, CPU_SS, 0);
        if (r)
            return r;
        if (off > limit)
            return eng_gp0(e);
        r = stk_push_all(e, &cpu->seg[IR_SS], &esp, frame, 2, in->osize, cpu->cpl == 3, CPU_SS, 0);
        if (r)
            return r;
    } else if (off > limit) {
        return eng_gp0(e);
    }
    cpu->r[IR_ESP] = esp;
    if (vm86)
        seg_load_vm86(&cpu->seg[IR_CS], sel);
    else
        seg_load_real(cpu, IR_CS, sel);
    cpu->eip = off;
    return ENG_END_BLOCK;
}

/* Inner-privilege CALL through a call gate (SDM CALL: MORE-PRIVILEGE). */
static int call_gate_inner(struct engine *e, const struct ir_insn *in, const struct sys_desc *gate,
                           struct sys_desc *csd, uint16_t cs_sel, uint32_t off)
{
    struct cpu_state *cpu = e->cpu;
    bool g32 = sys_type(desc_attr(gate)) == ST_CALL32;
    unsigned size = g32 ? 4 : 2, dpl = sa_dpl(desc_attr(csd));
    unsigned count = gate->hi & 0x1F;
    uint16_t nss;
    uint32_t nesp;
    int r = tss_inner_stack(e, dpl, 0, &nss, &nesp);
    if (r)
        return r;
    struct cpu_seg new_ss;
    struct sys_desc ssd;
    r = seg_check_new_stack(e, nss, dpl, 0, &new_ss, &ssd);
    if (r)
        return r;
    uint32_t ss_err = nss & 0xFFFCu;
    unsigned n = 4 + count;
    r = stk_check_all(e, &new_ss, nesp, n, size, dpl == 3, CPU_SS, ss_err);
    if (r)
        return r;
    uint32_t vals[4 + 31];
    unsigned k = 0;
    vals[k++] = cpu->seg[IR_SS].sel;
    vals[k++] = cpu->r[IR_ESP];
    /* parameters keep their order: the deepest one (highest address) is pushed first */
    for (unsigned i = count; i-- > 0;) {
        uint32_t v;
        r = stk_read(e, &cpu->seg[IR_SS], cpu->r[IR_ESP], i * size, size, cpu->cpl == 3, CPU_SS,
                     0, &v);
        if (r)
            return r;
        vals[k++] = v;
    }
    vals[k++] = cpu->seg[IR_CS].sel;
    vals[k++] = eng_next_eip(cpu, in);
    if (!g32)
        for (unsigned i = 0; i < k; i++)
            vals[i] &= 0xFFFF;
    if (off > desc_limit(csd))
        return eng_gp0(e);
    r = stk_push_all(e, &new_ss, &nesp, vals, k, size, dpl == 3, CPU_SS, ss_err);
    if (r)
        return r;
    r = desc_set_bits(e, &ssd, 0x01);
    if (r)
        return r;
    new_ss.attr |= SA_ACCESSED;
    r = commit_cs(e, csd, cs_sel, dpl);
    if (r)
        return r;
    cpu->seg[IR_SS] = new_ss;
    cpu->r[IR_ESP] = nesp;
    cpu->eip = off;
    return ENG_END_BLOCK;
}

static int far_gate(struct engine *e, const struct ir_insn *in, uint16_t sel, struct sys_desc *gate,
                    bool call)
{
    struct cpu_state *cpu = e->cpu;
    int r = check_system_target(e, sel, desc_attr(gate));
    if (r)
        return r;
    bool g32 = sys_type(desc_attr(gate)) == ST_CALL32;
    uint16_t cs_sel = (uint16_t)(gate->lo >> 16);
    uint32_t off = (gate->lo & 0xFFFF) | (g32 ? (gate->hi & 0xFFFF0000u) : 0);
    uint32_t cs_err = cs_sel & 0xFFFCu;
    if (sel_null(cs_sel))
        return eng_gp0(e);
    struct sys_desc csd;
    r = desc_fetch(e, cs_sel, &csd, CPU_GP, 0);
    if (r)
        return r;
    uint32_t ca = desc_attr(&csd);
    if (!sa_code(ca) || sa_dpl(ca) > cpu->cpl)
        return eng_raise(e, CPU_GP, true, cs_err);
    if (!call && !(ca & SA_DC) && sa_dpl(ca) != cpu->cpl)
        return eng_raise(e, CPU_GP, true, cs_err);
    if (!(ca & SA_P))
        return eng_raise(e, CPU_NP, true, cs_err);
    if (call && !(ca & SA_DC) && sa_dpl(ca) < cpu->cpl)
        return call_gate_inner(e, in, gate, &csd, cs_sel, off);

    uint32_t esp = cpu->r[IR_ESP];
    if (call) {
        unsigned size = g32 ? 4 : 2;
        uint32_t frame[2] = {cpu->seg[IR_CS].sel, eng_next_eip(cpu, in) & (g32 ? ~0u : 0xFFFFu)};
        r = stk_check_all(e, &cpu->seg[IR_SS], esp, 2, size, cpu->cpl == 3, CPU_SS, 0);
        if (r)
            return r;
        if (off > desc_limit(&csd))
            return eng_gp0(e);
        r = stk_push_all(e, &cpu->seg[IR_SS], &esp, frame, 2, size, cpu->cpl == 3, CPU_SS, 0);
        if (r)
            return r;
    } else if (off > desc_limit(&csd)) {
        return eng_gp0(e);
    }
    r = commit_cs(e, &csd, cs_sel, cpu->cpl);
    if (r)
        return r;
    cpu->r[IR_ESP] = esp;
    cpu->eip = off;
    return ENG_END_BLOCK;
}

static int far_transfer(struct engine *e, const struct ir_insn *in, uint16_t sel, uint32_t off,
                        bool call)
{
    struct cpu_state *cpu = e->cpu;
    if (!cpu_pmode(cpu))
        return far_real(e, in, sel, off, call);
    if (sel_null(sel))
        return eng_gp0(e);
    struct sys_desc d;
    int r = desc_fetch(e, sel, &d, CPU_GP, 0);
    if (r)
        return r;
    uint32_t a = desc_attr(&d);
    uint32_t err = sel & 0xFFFCu;
    if (a & SA_S) {
        if (!sa_code(a))
            return eng_raise(e, CPU_GP, true, err);
        r = check_direct_code(e, sel, a);
        if (r)
            return r;
        off &= osize_mask(in->osize);
        uint32_t esp = cpu->r[IR_ESP];
        if (call) {
            uint32_t frame[2] = {cpu->seg[IR_CS].sel, eng_next_eip(cpu, in)};
            r = stk_check_all(e, &cpu->seg[IR_SS], esp, 2, in->osize, cpu->cpl == 3, CPU_SS, 0);
            if (r)
                return r;
            if (off > desc_limit(&d))
                return eng_gp0(e);
            r = stk_push_all(e, &cpu->seg[IR_SS], &esp, frame, 2, in->osize, cpu->cpl == 3,
                             CPU_SS, 0);
            if (r)
                return r;
        } else if (off > desc_limit(&d)) {
            return eng_gp0(e);
        }
        r = commit_cs(e, &d, sel, cpu->cpl);
        if (r)
            return r;
        cpu->r[IR_ESP] = esp;
        cpu->eip = off;
        return ENG_END_BLOCK;
    }
    switch (sys_type(a)) {
    case ST_CALL16:
    case ST_CALL32:
        return far_gate(e, in, sel, &d, call);
    case ST_TASK:
    case ST_TSS32_AVAIL:
        return far_task(e, in, sel, &d, call ? TASK_CALL : TASK_JMP);
    default:
        /* busy TSSs, 16-bit TSSs (unsupported), LDTs, interrupt/trap gates */
        return eng_raise(e, CPU_GP, true, err);
    }
}

int far_jmp(struct engine *e, const struct ir_insn *in, uint16_t sel, uint32_t off)
{
    return far_transfer(e, in, sel, off, false);
}

int far_call(struct engine *e, const struct ir_insn *in, uint16_t sel, uint32_t off)
{
    return far_transfer(e, in, sel, off, true);
}

/* Checks on the CS selector popped by RETF/IRET in protected mode (SDM RET far). */
static int check_return_cs(struct engine *e, uint16_t sel, struct sys_desc *d)
{
    unsigned cpl = e->cpu->cpl, rpl = sel & 3;
    uint32_t err = sel & 0xFFFCu;
    if (sel_null(sel))
        return eng_gp0(e);
    int r = desc_fetch(e, sel, d, CPU_GP, 0);
    if (r)
        return r;
    uint32_t a = desc_attr(d);
    if (!sa_code(a) || rpl < cpl)
        return eng_raise(e, CPU_GP, true, err);
    if ((a & SA_DC) ? sa_dpl(a) > rpl : sa_dpl(a) != rpl)
        return eng_raise(e, CPU_GP, true, err);
    if (!(a & SA_P))
        return eng_raise(e, CPU_NP, true, err);
    return 0;
}

/* Checks on the SS popped when returning to an outer level (RPL of the return CS = `rpl`). */
static int check_return_ss(struct engine *e, uint16_t sel, unsigned rpl, struct cpu_seg *out,
                           struct sys_desc *d)
{
    uint32_t err = sel & 0xFFFCu;
    if (sel_null(sel))
        return eng_gp0(e);
    int r = desc_fetch(e, sel, d, CPU_GP, 0);
    if (r)
        return r;
    uint32_t a = desc_attr(d);
    if ((sel & 3u) != rpl || !sa_writable_data(a) || sa_dpl(a) != rpl)
        return eng_raise(e, CPU_GP, true, err);
    if (!(a & SA_P))
        return eng_raise(e, CPU_SS, true, err);
    uint32_t raw[2] = {d->lo, d->hi};
    seg_from_desc(out, sel, raw);
    return 0;
}

/* Pop `count` values of osize bytes from the current stack (values only; ESP untouched). */
static int peek_stack(struct engine *e, unsigned osize, unsigned first, unsigned count,
                      uint32_t *out)
{
    struct cpu_state *cpu = e->cpu;
    for (unsigned i = 0; i < count; i++) {
        int r = stk_read(e, &cpu->seg[IR_SS], cpu->r[IR_ESP], (first + i) * osize, osize,
                         cpu->cpl == 3, CPU_SS, 0, &out[i]);
        if (r)
            return r;
    }
    return 0;
}

/* Return to an outer level: shared tail of RETF and IRET. `extra` bytes are released from the
 * outer stack as well (RETF imm16). */
static int return_outer(struct engine *e, unsigned osize, uint32_t eip, uint16_t cs_sel,
                        struct sys_desc *csd, unsigned ss_slot, uint32_t extra,
                        uint32_t flags, uint32_t flags_mask)
{
    struct cpu_state *cpu = e->cpu;
    unsigned rpl = cs_sel & 3;
    uint32_t v[2];
    int r = stk_read(e, &cpu->seg[IR_SS], cpu->r[IR_ESP], ss_slot * osize + extra, osize,
                     cpu->cpl == 3, CPU_SS, 0, &v[0]);
    if (r)
        return r;
    r = stk_read(e, &cpu->seg[IR_SS], cpu->r[IR_ESP], (ss_slot + 1) * osize + extra, osize,
                 cpu->cpl == 3, CPU_SS, 0, &v[1]);
    if (r)
        return r;
    struct cpu_seg new_ss;
    struct sys_desc ssd;
    r = check_return_ss(e, (uint16_t)v[1], rpl, &new_ss, &ssd);
    if (r)
        return r;
    if (eip > desc_limit(csd))
        return eng_gp0(e);
    r = desc_set_bits(e, &ssd, 0x01);
    if (r)
        return r;
    new_ss.attr |= SA_ACCESSED;
    r = commit_cs(e, csd, cs_sel, rpl);
    if (r)
        return r;
    if (flags_mask)
        sys_set_flags(cpu, flags, flags_mask);
    cpu->seg[IR_SS] = new_ss;
    cpu->r[IR_ESP] = stk_add(&new_ss, osize == 4 ? v[0] : (v[0] & 0xFFFF), extra);
    cpu->eip = eip;
    seg_null_inaccessible(cpu);
    return ENG_END_BLOCK;
}

int far_ret(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned osize = in->osize == 2 ? 2 : 4;
    uint32_t extra = in->imm & 0xFFFF;
    uint32_t v[2];
    int r = peek_stack(e, osize, 0, 2, v);
    if (r)
        return r;
    uint32_t eip = v[0];
    uint16_t cs_sel = (uint16_t)v[1];
    if (!cpu_pmode(cpu)) {
        bool vm86 = (cpu->eflags & CPU_VM) != 0;
        if (eip > (vm86 ? 0xFFFFu : cpu->seg[IR_CS].limit))
            return eng_gp0(e);
        if (vm86)
            seg_load_vm86(&cpu->seg[IR_CS], cs_sel);
        else
            seg_load_real(cpu, IR_CS, cs_sel);
        cpu->r[IR_ESP] = stk_add(&cpu->seg[IR_SS], cpu->r[IR_ESP], 2 * osize + extra);
        cpu->eip = eip;
        return ENG_END_BLOCK;
    }
    struct sys_desc csd;
    r = check_return_cs(e, cs_sel, &csd);
    if (r)
        return r;
    if ((cs_sel & 3u) > cpu->cpl)
        return return_outer(e, osize, eip, cs_sel, &csd, 2, extra, 0, 0);
    if (eip > desc_limit(&csd))
        return eng_gp0(e);
    r = commit_cs(e, &csd, cs_sel, cpu->cpl);
    if (r)
        return r;
    cpu->r[IR_ESP] = stk_add(&cpu->seg[IR_SS], cpu->r[IR_ESP], 2 * osize + extra);
    cpu->eip = eip;
    return ENG_END_BLOCK;
}

/* IRET from protected mode into a VM86 task at the same TSS (SDM IRET: RETURN-TO-VIRTUAL-8086). */
static int iret_to_vm86(struct engine *e, uint32_t eip, uint16_t cs_sel, uint32_t flags)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t v[6]; /* ESP SS ES DS FS GS */
    int r = peek_stack(e, 4, 3, 6, v);
    if (r)
        return r;
    if ((eip & 0xFFFF0000u) != 0)
        return eng_gp0(e);
    sys_set_flags(cpu, flags | EFL_FIXED1, 0x003F7FD7u);
    seg_load_vm86(&cpu->seg[IR_CS], cs_sel);
    seg_load_vm86(&cpu->seg[IR_SS], (uint16_t)v[1]);
    seg_load_vm86(&cpu->seg[IR_ES], (uint16_t)v[2]);
    seg_load_vm86(&cpu->seg[IR_DS], (uint16_t)v[3]);
    seg_load_vm86(&cpu->seg[IR_FS], (uint16_t)v[4]);
    seg_load_vm86(&cpu->seg[IR_GS], (uint16_t)v[5]);
    cpu->r[IR_ESP] = v[0];
    cpu->eip = eip;
    cpu->cpl = 3;
    return ENG_END_BLOCK;
}

static int iret_task(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint8_t b[2];
    if (cpu->tr.limit < 1)
        return eng_raise(e, CPU_TS, true, cpu->tr.sel & 0xFFFCu);
    int r = sys_read(e, cpu->tr.base, b, 2);
    if (r)
        return r;
    uint16_t link = (uint16_t)(b[0] | b[1] << 8);
    if (link & 4)
        return eng_raise(e, CPU_TS, true, link & 0xFFFCu);
    struct sys_desc d;
    r = desc_fetch(e, link, &d, CPU_TS, 0);
    if (r)
        return r;
    r = task_switch(e, link, &d, TASK_IRET, 0, eng_next_eip(cpu, in), false, 0);
    return r ? r : ENG_END_BLOCK;
}

int far_iret(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned osize = in->osize == 2 ? 2 : 4;
    uint32_t fmask16 = osize == 4 ? 0xFFFFFFFFu : 0xFFFFu;
    bool vm86 = (cpu->eflags & CPU_VM) != 0;

    if (!(cpu->cr0 & CPU_CR0_PE) || vm86) {
        unsigned iopl = (cpu->eflags & CPU_IOPL) >> 12;
        if (vm86 && iopl < 3)
            return eng_gp0(e); /* no VME: IOPL-sensitive */
        uint32_t v[3];
        int r = peek_stack(e, osize, 0, 3, v);
        if (r)
            return r;
        if (v[0] > (vm86 ? 0xFFFFu : cpu->seg[IR_CS].limit))
            return eng_gp0(e);
        uint32_t mask = REAL_IRET_MASK & fmask16;
        if (vm86)
            mask &= ~CPU_IOPL;
        sys_set_flags(cpu, v[2], mask);
        if (vm86)
            seg_load_vm86(&cpu->seg[IR_CS], (uint16_t)v[1]);
        else
            seg_load_real(cpu, IR_CS, (uint16_t)v[1]);
        cpu->r[IR_ESP] = stk_add(&cpu->seg[IR_SS], cpu->r[IR_ESP], 3 * osize);
        cpu->eip = v[0];
        return ENG_END_BLOCK;
    }

    if (cpu->eflags & CPU_NT)
        return iret_task(e, in);

    uint32_t v[3];
    int r = peek_stack(e, osize, 0, 3, v);
    if (r)
        return r;
    uint32_t eip = v[0], flags = v[2];
    uint16_t cs_sel = (uint16_t)v[1];
    if (osize == 4 && (flags & CPU_VM) && cpu->cpl == 0)
        return iret_to_vm86(e, eip, cs_sel, flags);

    struct sys_desc csd;
    r = check_return_cs(e, cs_sel, &csd);
    if (r)
        return r;
    unsigned iopl = (cpu->eflags & CPU_IOPL) >> 12;
    uint32_t mask = IRET_BASE_MASK;
    if (osize == 4)
        mask |= IRET_32_MASK;
    if (cpu->cpl <= iopl)
        mask |= CPU_IF;
    if (cpu->cpl == 0) {
        mask |= CPU_IOPL;
        if (osize == 4)
            mask |= EFL_VIF | EFL_VIP;
    }
    mask &= fmask16;
    if ((cs_sel & 3u) > cpu->cpl)
        return return_outer(e, osize, eip, cs_sel, &csd, 3, 0, flags, mask);
    if (eip > desc_limit(&csd))
        return eng_gp0(e);
    r = commit_cs(e, &csd, cs_sel, cpu->cpl);
    if (r)
        return r;
    sys_set_flags(cpu, flags, mask);
    cpu->r[IR_ESP] = stk_add(&cpu->seg[IR_SS], cpu->r[IR_ESP], 3 * osize);
    cpu->eip = eip;
    return ENG_END_BLOCK;
}
