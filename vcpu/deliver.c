/*
 * deliver.c - engine_deliver: delivery of exceptions and interrupts. Real mode through the IVT;
 * protected and virtual-8086 mode through IDT interrupt, trap and task gates with the TSS stack
 * switch (SDM vol. 3 sec. 6.12, INT n pseudocode in vol. 2); faults during delivery combine into
 * #DF and then a triple fault by the SDM table 6-5 classes.
 *
 * Trust: the IDT, GDT and TSS are guest memory; every read is bounded by the table limits and
 * goes through vmem. No register is changed before the last check that can fault, except after
 * the commit point of a task switch (faults there belong to the new task, as on hardware).
 */
#include "vcpu/sys.h"

enum exc_class { CLS_BENIGN, CLS_CONTRIB, CLS_PF, CLS_DF };

static enum exc_class exc_class(const struct engine_exc *x, bool external)
{
    if (external || x->soft)
        return CLS_BENIGN;
    switch (x->vector) {
    case CPU_DE: case CPU_TS: case CPU_NP: case CPU_SS: case CPU_GP:
        return CLS_CONTRIB;
    case CPU_PF_VEC:
        return CLS_PF;
    case CPU_DF_VEC:
        return CLS_DF;
    default:
        return CLS_BENIGN;
    }
}

static int deliver_real(struct engine *e, const struct engine_exc *x)
{
    struct cpu_state *cpu = e->cpu;
    unsigned v = x->vector;
    if (v * 4u + 3 > cpu->idtr.limit)
        return eng_raise(e, CPU_GP, true, v * 8u + 2);
    uint8_t ent[4];
    int r = sys_read(e, cpu->idtr.base + v * 4u, ent, 4);
    if (r)
        return r;
    uint32_t flags = cpu_get_eflags(cpu);
    uint32_t frame[3] = {flags & 0xFFFF, cpu->seg[IR_CS].sel, cpu->eip & 0xFFFF};
    uint32_t esp = cpu->r[IR_ESP];
    r = stk_push_all(e, &cpu->seg[IR_SS], &esp, frame, 3, 2, false, CPU_SS, 0);
    if (r)
        return r;
    cpu->r[IR_ESP] = esp;
    seg_load_real(cpu, IR_CS, (uint16_t)(ent[2] | ent[3] << 8));
    cpu->eip = (uint32_t)(ent[0] | ent[1] << 8);
    sys_set_flags(cpu, 0, CPU_IF | CPU_TF | CPU_AC | CPU_RF);
    return 0;
}

/* Delivery through an interrupt or trap gate (gate already read and checked by the caller). */
static int deliver_gate(struct engine *e, const struct engine_exc *x, const struct sys_desc *gate,
                        uint32_t ext, bool push_err)
{
    struct cpu_state *cpu = e->cpu;
    unsigned gtype = sys_type(desc_attr(gate));
    bool g32 = gtype == ST_INT32 || gtype == ST_TRAP32;
    bool vm86 = (cpu->eflags & CPU_VM) != 0;
    uint16_t cs_sel = (uint16_t)(gate->lo >> 16);
    uint32_t off = (gate->lo & 0xFFFF) | (g32 ? (gate->hi & 0xFFFF0000u) : 0);
    uint32_t cs_err = (cs_sel & 0xFFFCu) | ext;

    if (sel_null(cs_sel))
        return eng_raise(e, CPU_GP, true, ext);
    struct sys_desc csd;
    int r = desc_fetch(e, cs_sel, &csd, CPU_GP, ext);
    if (r)
        return r;
    uint32_t ca = desc_attr(&csd);
    if (!sa_code(ca) || sa_dpl(ca) > cpu->cpl)
        return eng_raise(e, CPU_GP, true, cs_err);
    if (!(ca & SA_P))
        return eng_raise(e, CPU_NP, true, cs_err);
    unsigned dpl = sa_dpl(ca);
    bool inner = !(ca & SA_DC) && dpl < cpu->cpl;
    if (vm86 && (!inner || dpl != 0))
        return eng_raise(e, CPU_GP, true, cs_err);

    uint32_t flags = cpu_get_eflags(cpu);
    uint32_t vals[10];
    unsigned n = 0, size = g32 ? 4 : 2;
    struct cpu_seg new_ss = cpu->seg[IR_SS];
    struct sys_desc ssd = {0, 0, 0};
    uint32_t esp = cpu->r[IR_ESP];
    unsigned new_cpl = inner ? dpl : cpu->cpl;
    unsigned ss_vec = CPU_SS;
    uint32_t ss_err = ext;

    if (inner) {
        uint16_t nss;
        uint32_t nesp;
        r = tss_inner_stack(e, dpl, ext, &nss, &nesp);
        if (r)
            return r;
        r = seg_check_new_stack(e, nss, dpl, ext, &new_ss, &ssd);
        if (r)
            return r;
        ss_err = (nss & 0xFFFCu) | ext;
        if (vm86) {
            vals[n++] = cpu->seg[IR_GS].sel;
            vals[n++] = cpu->seg[IR_FS].sel;
            vals[n++] = cpu->seg[IR_DS].sel;
            vals[n++] = cpu->seg[IR_ES].sel;
        }
        vals[n++] = cpu->seg[IR_SS].sel;
        vals[n++] = cpu->r[IR_ESP];
        esp = nesp;
    }
    vals[n++] = flags;
    vals[n++] = cpu->seg[IR_CS].sel;
    vals[n++] = cpu->eip;
    if (push_err)
        vals[n++] = x->error;
    if (!g32)
        for (unsigned i = 0; i < n; i++)
            vals[i] &= 0xFFFF;

    bool user = new_cpl == 3;
    r = stk_check_all(e, &new_ss, esp, n, size, user, ss_vec, ss_err);
    if (r)
        return r;
    if (!g32)
        off &= 0xFFFF;
    uint32_t cs_limit = desc_limit(&csd);
    if (off > cs_limit)
        return eng_raise(e, CPU_GP, true, ext);
    r = stk_push_all(e, &new_ss, &esp, vals, n, size, user, ss_vec, ss_err);
    if (r)
        return r;
    if (inner) {
        r = desc_set_bits(e, &ssd, 0x01);
        if (r)
            return r;
        new_ss.attr |= SA_ACCESSED;
    }
    r = desc_set_bits(e, &csd, 0x01);
    if (r)
        return r;

    /* commit */
    uint32_t raw[2] = {csd.lo, csd.hi};
    seg_from_desc(&cpu->seg[IR_CS], (uint16_t)((cs_sel & 0xFFFC) | new_cpl), raw);
    if (inner)
        cpu->seg[IR_SS] = new_ss;
    cpu->r[IR_ESP] = esp;
    cpu->cpl = (uint8_t)new_cpl;
    cpu->eip = off;
    if (vm86) {
        seg_make_null(&cpu->seg[IR_DS], 0);
        seg_make_null(&cpu->seg[IR_ES], 0);
        seg_make_null(&cpu->seg[IR_FS], 0);
        seg_make_null(&cpu->seg[IR_GS], 0);
    }
    uint32_t clear = CPU_TF | CPU_NT | CPU_RF | CPU_VM;
    if (gtype == ST_INT16 || gtype == ST_INT32)
        clear |= CPU_IF;
    sys_set_flags(cpu, 0, clear);
    return 0;
}

/* One delivery attempt through the IDT. */
static int deliver_pmode(struct engine *e, const struct engine_exc *x, uint32_t ext,
                         bool push_err)
{
    struct cpu_state *cpu = e->cpu;
    unsigned v = x->vector;
    uint32_t idt_err = v * 8u + 2 + ext;
    if (v * 8u + 7 > cpu->idtr.limit)
        return eng_raise(e, CPU_GP, true, idt_err);
    uint8_t b[8];
    int r = sys_read(e, cpu->idtr.base + v * 8u, b, 8);
    if (r)
        return r;
    struct sys_desc gate = {
        (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24,
        (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24,
        cpu->idtr.base + v * 8u};
    uint32_t ga = desc_attr(&gate);
    unsigned t = sys_type(ga);
    if ((ga & SA_S) || !(t == ST_TASK || t == ST_INT16 || t == ST_TRAP16 || t == ST_INT32 ||
                         t == ST_TRAP32))
        return eng_raise(e, CPU_GP, true, idt_err);
    /* INT n, INT3 and INTO check the gate DPL; INT1 (ICEBP) does not (SDM INT n: INT1 is a
     * privileged software exception) */
    if (x->soft == 1 && sa_dpl(ga) < cpu->cpl)
        return eng_raise(e, CPU_GP, true, idt_err);
    if (!(ga & SA_P))
        return eng_raise(e, CPU_NP, true, idt_err);

    if (t == ST_TASK) {
        uint16_t tss = (uint16_t)(gate.lo >> 16);
        uint32_t terr = (tss & 0xFFFCu) | ext;
        if (tss & 4)
            return eng_raise(e, CPU_GP, true, terr);
        struct sys_desc td;
        r = desc_fetch(e, tss, &td, CPU_GP, ext);
        if (r)
            return r;
        uint32_t ta = desc_attr(&td);
        if ((ta & SA_S) || sys_type(ta) != ST_TSS32_AVAIL)
            return eng_raise(e, CPU_GP, true, terr);
        if (!(ta & SA_P))
            return eng_raise(e, CPU_NP, true, terr);
        return task_switch(e, tss, &td, TASK_INT, ext, cpu->eip, push_err, x->error);
    }
    return deliver_gate(e, x, &gate, ext, push_err);
}

int engine_deliver(struct engine *e, const struct engine_exc *exc, bool external)
{
    struct cpu_state *cpu = e->cpu;
    struct engine_exc cur = *exc;
    bool cur_external = external;
    if (external) {
        cur.soft = 0;
        cur.has_error = 0;
    }
    for (unsigned depth = 0; depth < 8; depth++) {
        /* Faults while delivering anything but a program's own INT n/INT3/INTO carry EXT. */
        uint32_t ext = (cur_external || cur.soft != 1) ? 1 : 0;
        bool push_err = cur.has_error && !cur.soft && !cur_external;
        uint16_t old_tr = cpu->tr.sel;
        int r;
        if (!(cpu->cr0 & CPU_CR0_PE))
            r = deliver_real(e, &cur);
        else
            r = deliver_pmode(e, &cur, ext, push_err);
        if (r == 0) {
            cpu->halted = 0;
            cpu->inhibit_irq = 0;
            return ENG_OK;
        }
        struct engine_exc nf = e->exc;
        nf.soft = 0;
        nf.insn_len = 0;
        enum exc_class first = exc_class(&cur, cur_external), second = exc_class(&nf, false);
        if (first == CLS_DF)
            return ENG_TRIPLE;
        /* a software interrupt's fault is reported at the INT instruction itself */
        bool switched = cpu->tr.sel != old_tr; /* a task switch committed */
        if (cur.soft && !switched) {
            uint32_t back = cpu->eip - cur.insn_len;
            cpu->eip = (cpu->seg[IR_CS].attr & SA_DB) ? back : (back & 0xFFFF);
        }
        if ((first == CLS_CONTRIB && second == CLS_CONTRIB) ||
            (first == CLS_PF && (second == CLS_CONTRIB || second == CLS_PF))) {
            nf.vector = CPU_DF_VEC;
            nf.has_error = 1;
            nf.error = 0;
        }
        cur = nf;
        cur_external = false;
        e->count.exceptions++;
    }
    return ENG_TRIPLE;
}
