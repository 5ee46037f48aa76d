/*
 * task.c - hardware task switching through 32-bit TSSs (SDM vol. 3 sec. 7.3): JMP/CALL to a TSS
 * or task gate, INT/exception through a task gate, IRET with NT set; and the inner-level stack
 * pointers that privilege changes read from the current TSS.
 *
 * Trust: TSS images and descriptors are guest memory. Everything is read into local buffers
 * before the switch commits; loads after the commit point fault in the context of the new task,
 * as on hardware.
 */
#include "vcpu/sys.h"

/* 32-bit TSS layout */
enum {
    TSS_LINK = 0x00, TSS_CR3 = 0x1C, TSS_EIP = 0x20, TSS_EFLAGS = 0x24, TSS_GPR = 0x28,
    TSS_SREG = 0x48, TSS_LDT = 0x60, TSS32_MIN_LIMIT = 0x67,
};

/* EFLAGS bits a task switch loads from the TSS image (all defined bits). */
#define TASK_EFLAGS_MASK 0x003F7FD7u

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int tss_inner_stack(struct engine *e, unsigned dpl, uint32_t ext, uint16_t *ss, uint32_t *esp)
{
    const struct cpu_seg *tr = &e->cpu->tr;
    uint32_t err = (tr->sel & 0xFFFCu) | (ext & 1);
    bool is32 = sys_type(tr->attr) == ST_TSS32_BUSY || sys_type(tr->attr) == ST_TSS32_AVAIL;
    uint32_t off = is32 ? 4 + 8 * dpl : 2 + 4 * dpl;
    uint32_t need = is32 ? 8 : 4;
    if (!(tr->attr & SA_P) || off + need - 1 > tr->limit)
        return eng_raise(e, CPU_TS, true, err);
    uint8_t b[8] = {0};
    int r = sys_read(e, tr->base + off, b, need);
    if (r)
        return r;
    if (is32) {
        *esp = rd32(b);
        *ss = (uint16_t)(b[4] | b[5] << 8);
    } else {
        *esp = (uint32_t)(b[0] | b[1] << 8);
        *ss = (uint16_t)(b[2] | b[3] << 8);
    }
    return 0;
}

/* Load the LDT register from a selector inside a task switch (faults are #TS). */
static int task_load_ldt(struct engine *e, uint16_t sel, uint32_t ext)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t err = (sel & 0xFFFCu) | (ext & 1);
    if (sel & 4)
        return eng_raise(e, CPU_TS, true, err);
    if (sel_null(sel)) {
        seg_make_null(&cpu->ldtr, sel);
        return 0;
    }
    struct sys_desc d;
    int r = desc_fetch(e, sel, &d, CPU_TS, ext);
    if (r)
        return r;
    uint32_t a = desc_attr(&d);
    if ((a & SA_S) || sys_type(a) != ST_LDT || !(a & SA_P))
        return eng_raise(e, CPU_TS, true, err);
    uint32_t raw[2] = {d.lo, d.hi};
    seg_from_desc(&cpu->ldtr, sel, raw);
    return 0;
}

static int task_load_cs(struct engine *e, uint16_t sel, uint32_t ext)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t err = (sel & 0xFFFCu) | (ext & 1);
    unsigned rpl = sel & 3;
    if (sel_null(sel))
        return eng_raise(e, CPU_TS, true, err);
    struct sys_desc d;
    int r = desc_fetch(e, sel, &d, CPU_TS, ext);
    if (r)
        return r;
    uint32_t a = desc_attr(&d);
    if (!sa_code(a))
        return eng_raise(e, CPU_TS, true, err);
    if ((a & SA_DC) ? sa_dpl(a) > rpl : sa_dpl(a) != rpl)
        return eng_raise(e, CPU_TS, true, err);
    if (!(a & SA_P))
        return eng_raise(e, CPU_NP, true, err);
    r = desc_set_bits(e, &d, 0x01);
    if (r)
        return r;
    uint32_t raw[2] = {d.lo, d.hi};
    seg_from_desc(&cpu->seg[IR_CS], sel, raw);
    return 0;
}

static int task_load_segments(struct engine *e, const uint16_t sregs[6], uint32_t ext)
{
    struct cpu_state *cpu = e->cpu;
    int r = task_load_cs(e, sregs[IR_CS], ext);
    if (r)
        return r;
    static const unsigned order[] = {IR_SS, IR_DS, IR_ES, IR_FS, IR_GS};
    for (unsigned i = 0; i < 5; i++) {
        unsigned s = order[i];
        struct cpu_seg v;
        struct sys_desc d;
        r = seg_check_data_load(e, s, sregs[s], cpu->cpl, CPU_TS, ext, &v, &d);
        if (r)
            return r;
        r = seg_commit(e, s, &d, &v);
        if (r)
            return r;
    }
    return 0;
}

int task_switch(struct engine *e, uint16_t sel, struct sys_desc *d, enum task_reason why,
                uint32_t ext, uint32_t next_eip, bool has_err, uint32_t err)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t serr = (sel & 0xFFFCu) | (ext & 1);
    uint32_t a = desc_attr(d);
    unsigned t = sys_type(a);
    unsigned bad_type_vec = why == TASK_IRET ? CPU_TS : CPU_GP;

    /* 16-bit TSSs are not supported (documented deviation): treated as a wrong type. */
    if (a & SA_S)
        return eng_raise(e, bad_type_vec, true, serr);
    if (why == TASK_IRET ? t != ST_TSS32_BUSY : t != ST_TSS32_AVAIL)
        return eng_raise(e, bad_type_vec, true, serr);
    if (!(a & SA_P))
        return eng_raise(e, CPU_NP, true, serr);
    if (desc_limit(d) < TSS32_MIN_LIMIT)
        return eng_raise(e, CPU_TS, true, serr);

    /* The outgoing TSS must be a 32-bit one too: its state is saved in that format. */
    unsigned ot = sys_type(cpu->tr.attr);
    if ((cpu->tr.attr & SA_S) || (ot != ST_TSS32_BUSY && ot != ST_TSS32_AVAIL))
        return eng_raise(e, CPU_TS, true, (cpu->tr.sel & 0xFFFCu) | (ext & 1));

    uint32_t new_base = desc_base(d);
    uint8_t img[0x68];
    int r = sys_read(e, new_base, img, sizeof img);
    if (r)
        return r;
    struct sys_desc old_d = {0, 0, 0};
    bool have_old_desc = false;
    if (why == TASK_JMP || why == TASK_IRET) {
        /* the outgoing TSS descriptor is found again through TR's selector */
        if (!sel_null(cpu->tr.sel) && !(cpu->tr.sel & 4)) {
            r = desc_fetch(e, cpu->tr.sel, &old_d, CPU_TS, ext);
            if (r)
                return r;
            have_old_desc = true;
        }
    }

    /* Save the outgoing task's state (dynamic fields 0x20..0x5F). */
    uint32_t eflags = cpu_get_eflags(cpu);
    if (why == TASK_IRET)
        eflags &= ~CPU_NT;
    uint8_t save[0x40];
    wr32(save + 0x00, next_eip);
    wr32(save + 0x04, eflags);
    for (unsigned i = 0; i < 8; i++)
        wr32(save + 0x08 + 4 * i, cpu->r[i]);
    for (unsigned i = 0; i < 6; i++)
        wr32(save + 0x28 + 4 * i, cpu->seg[i].sel);
    r = sys_write(e, cpu->tr.base + TSS_EIP, save, sizeof save);
    if (r)
        return r;
    if (have_old_desc) {
        r = desc_clear_bits(e, &old_d, 0x02);
        if (r)
            return r;
    }

    uint32_t new_eflags = rd32(img + TSS_EFLAGS);
    if (why == TASK_CALL || why == TASK_INT) {
        uint8_t link[2] = {(uint8_t)cpu->tr.sel, (uint8_t)(cpu->tr.sel >> 8)};
        r = sys_write(e, new_base + TSS_LINK, link, 2);
        if (r)
            return r;
        new_eflags |= CPU_NT;
    }
    if (why != TASK_IRET) {
        r = desc_set_bits(e, d, 0x02);
        if (r)
            return r;
    }

    /* Commit point: from here on the CPU is in the new task (SDM 7.3 step 12). */
    uint32_t raw[2] = {d->lo, d->hi | 0x200};
    seg_from_desc(&cpu->tr, sel, raw);
    cpu->cr0 |= CPU_CR0_TS;
    if (cpu->cr0 & CPU_CR0_PG)
        cpu->cr3 = rd32(img + TSS_CR3); /* ignored bits kept, as MOV to CR3 keeps them */
    sys_set_flags(cpu, new_eflags | EFL_FIXED1, TASK_EFLAGS_MASK);
    cpu->eip = rd32(img + TSS_EIP);
    for (unsigned i = 0; i < 8; i++)
        cpu->r[i] = rd32(img + TSS_GPR + 4 * i);
    uint16_t sregs[6];
    for (unsigned i = 0; i < 6; i++) {
        sregs[i] = (uint16_t)rd32(img + TSS_SREG + 4 * i);
        seg_make_null(&cpu->seg[i], sregs[i]);
    }
    uint16_t ldt = (uint16_t)rd32(img + TSS_LDT);
    seg_make_null(&cpu->ldtr, ldt);
    cpu->inhibit_irq = 0;

    r = task_load_ldt(e, ldt, ext);
    if (r)
        return r;
    if (new_eflags & CPU_VM) {
        cpu->cpl = 3;
        for (unsigned i = 0; i < 6; i++)
            seg_load_vm86(&cpu->seg[i], sregs[i]);
    } else {
        cpu->cpl = sregs[IR_CS] & 3;
        r = task_load_segments(e, sregs, ext);
        if (r)
            return r;
    }

    if (has_err) {
        uint32_t esp = cpu->r[IR_ESP];
        r = stk_push_all(e, &cpu->seg[IR_SS], &esp, &err, 1, 4, cpu->cpl == 3, CPU_SS, ext & 1);
        if (r)
            return r;
        cpu->r[IR_ESP] = esp;
    }
    if (cpu->eip > cpu->seg[IR_CS].limit)
        return eng_raise(e, CPU_GP, true, ext & 1);
    return 0;
}
