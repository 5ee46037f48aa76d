/*
 * exec_desc.c - descriptor-table and segment-inspection instructions: LGDT/LIDT/SGDT/SIDT,
 * LLDT/SLDT, LTR/STR, LMSW/SMSW, CLTS, LAR/LSL/VERR/VERW and ARPL (SDM vol. 2 pseudocode).
 * exec_sys.c has already applied the CPL-0 and real-mode #UD rules.
 *
 * Trust: selectors and descriptor-table images are guest data; table reads are bounded by the
 * limits in the CPU state, and LAR/LSL/VERR/VERW report out-of-table selectors through ZF
 * without faulting, as the SDM requires.
 */
#include "vcpu/sys.h"

static int done(struct engine *e, const struct ir_insn *in, int result)
{
    e->cpu->eip = eng_next_eip(e->cpu, in);
    return result;
}

static void set_zf(struct cpu_state *cpu, bool z)
{
    sys_set_flags(cpu, z ? CPU_ZF : 0, CPU_ZF);
}

static int exec_load_dtr(struct engine *e, const struct ir_insn *in, struct cpu_dtr *dtr)
{
    uint8_t b[6];
    if (in->opd[0].kind != IR_OPK_MEM)
        return eng_ud(e);
    int r = seg_read(e, in->mem.seg, eng_ea(e->cpu, in), b, 6);
    if (r)
        return r;
    uint32_t base = (uint32_t)b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 |
                    (uint32_t)b[5] << 24;
    if (in->osize == 2)
        base &= 0x00FFFFFFu; /* 16-bit operand size: 24-bit base */
    dtr->limit = (uint16_t)(b[0] | b[1] << 8);
    dtr->base = base;
    return done(e, in, ENG_END_BLOCK);
}

static int exec_store_dtr(struct engine *e, const struct ir_insn *in, const struct cpu_dtr *dtr)
{
    if (in->opd[0].kind != IR_OPK_MEM)
        return eng_ud(e);
    uint32_t base = in->osize == 2 ? dtr->base & 0x00FFFFFFu : dtr->base;
    uint8_t b[6] = {(uint8_t)dtr->limit, (uint8_t)(dtr->limit >> 8), (uint8_t)base,
                    (uint8_t)(base >> 8), (uint8_t)(base >> 16), (uint8_t)(base >> 24)};
    int r = seg_write(e, in->mem.seg, eng_ea(e->cpu, in), b, 6);
    return r ? r : done(e, in, ENG_OK);
}

/* SLDT, STR, SMSW: a register destination gets the operand size, memory 16 bits. */
static int store_word(struct engine *e, const struct ir_insn *in, uint32_t v)
{
    unsigned size = in->opd[0].kind == IR_OPK_MEM ? 2 : (in->osize == 4 ? 4 : 2);
    int r = sys_opd_write(e, in, 0, size, v);
    return r ? r : done(e, in, ENG_OK);
}

static int exec_lldt(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t v;
    int r = sys_opd_read(e, in, 0, 2, &v);
    if (r)
        return r;
    uint16_t sel = (uint16_t)v;
    if (sel_null(sel)) {
        seg_make_null(&cpu->ldtr, sel);
        return done(e, in, ENG_END_BLOCK);
    }
    if (sel & 4)
        return eng_raise(e, CPU_GP, true, sel & 0xFFFCu);
    struct sys_desc d;
    r = desc_fetch(e, sel, &d, CPU_GP, 0);
    if (r)
        return r;
    uint32_t a = desc_attr(&d);
    if ((a & SA_S) || sys_type(a) != ST_LDT)
        return eng_raise(e, CPU_GP, true, sel & 0xFFFCu);
    if (!(a & SA_P))
        return eng_raise(e, CPU_NP, true, sel & 0xFFFCu);
    uint32_t raw[2] = {d.lo, d.hi};
    seg_from_desc(&cpu->ldtr, sel, raw);
    return done(e, in, ENG_END_BLOCK);
}

static int exec_ltr(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t v;
    int r = sys_opd_read(e, in, 0, 2, &v);
    if (r)
        return r;
    uint16_t sel = (uint16_t)v;
    if (sel_null(sel))
        return eng_gp0(e);
    if (sel & 4)
        return eng_raise(e, CPU_GP, true, sel & 0xFFFCu);
    struct sys_desc d;
    r = desc_fetch(e, sel, &d, CPU_GP, 0);
    if (r)
        return r;
    uint32_t a = desc_attr(&d);
    if ((a & SA_S) || (sys_type(a) != ST_TSS32_AVAIL && sys_type(a) != ST_TSS16_AVAIL))
        return eng_raise(e, CPU_GP, true, sel & 0xFFFCu);
    if (!(a & SA_P))
        return eng_raise(e, CPU_NP, true, sel & 0xFFFCu);
    r = desc_set_bits(e, &d, 0x02); /* busy */
    if (r)
        return r;
    uint32_t raw[2] = {d.lo, d.hi};
    seg_from_desc(&cpu->tr, sel, raw);
    return done(e, in, ENG_END_BLOCK);
}

/* Is `sel` inside its descriptor table? (LAR/LSL/VERR/VERW answer ZF = 0 instead of faulting.) */
static bool sel_in_table(const struct cpu_state *cpu, uint16_t sel)
{
    uint32_t limit;
    if (sel & 4) {
        if (sel_null(cpu->ldtr.sel) || !(cpu->ldtr.attr & SA_P))
            return false;
        limit = cpu->ldtr.limit;
    } else {
        limit = cpu->gdtr.limit;
    }
    return (uint32_t)(sel & 0xFFF8u) + 7 <= limit;
}

/* Fetch the descriptor LAR/LSL/VERR/VERW inspect. *ok = false for null or out-of-table. */
static int inspect_fetch(struct engine *e, const struct ir_insn *in, unsigned opd, uint16_t *sel,
                         struct sys_desc *d, bool *ok)
{
    uint32_t v;
    int r = sys_opd_read(e, in, opd, 2, &v);
    if (r)
        return r;
    *sel = (uint16_t)v;
    *ok = !sel_null(*sel) && sel_in_table(e->cpu, *sel);
    if (!*ok)
        return 0;
    return desc_fetch(e, *sel, d, CPU_GP, 0);
}

/* The privilege rule shared by LAR/LSL/VERR/VERW: conforming code is always visible. */
static bool visible(const struct cpu_state *cpu, uint16_t sel, uint32_t a)
{
    if (sa_conforming_code(a))
        return true;
    return sa_dpl(a) >= cpu->cpl && sa_dpl(a) >= (sel & 3u);
}

static int exec_lar_lsl(struct engine *e, const struct ir_insn *in, bool lsl)
{
    struct cpu_state *cpu = e->cpu;
    uint16_t sel;
    struct sys_desc d;
    bool ok;
    int r = inspect_fetch(e, in, 1, &sel, &d, &ok);
    if (r)
        return r;
    if (ok) {
        uint32_t a = desc_attr(&d);
        if (!(a & SA_S)) {
            switch (sys_type(a)) {
            case ST_TSS16_AVAIL: case ST_LDT: case ST_TSS16_BUSY: case ST_TSS32_AVAIL:
            case ST_TSS32_BUSY:
                break;
            case ST_CALL16: case ST_TASK: case ST_CALL32:
                ok = !lsl; /* gates have access rights but no limit */
                break;
            default:
                ok = false;
            }
        }
        ok = ok && visible(cpu, sel, a);
    }
    if (ok) {
        uint32_t v = lsl ? desc_limit(&d) : (d.hi & 0x00F0FF00u);
        r = sys_opd_write(e, in, 0, in->osize == 4 ? 4 : 2, v);
        if (r)
            return r;
    }
    set_zf(cpu, ok);
    return done(e, in, ENG_OK);
}

static int exec_verr_verw(struct engine *e, const struct ir_insn *in, bool write)
{
    struct cpu_state *cpu = e->cpu;
    uint16_t sel;
    struct sys_desc d;
    bool ok;
    int r = inspect_fetch(e, in, 0, &sel, &d, &ok);
    if (r)
        return r;
    if (ok) {
        uint32_t a = desc_attr(&d);
        if (write)
            ok = sa_writable_data(a) && visible(cpu, sel, a);
        else if (sa_code(a))
            ok = (a & SA_RW) && visible(cpu, sel, a);
        else
            ok = sa_data(a) && visible(cpu, sel, a);
    }
    set_zf(cpu, ok);
    return done(e, in, ENG_OK);
}

static int exec_arpl(struct engine *e, const struct ir_insn *in)
{
    uint32_t dst, src;
    int r = sys_opd_read(e, in, 0, 2, &dst);
    if (r)
        return r;
    r = sys_opd_read(e, in, 1, 2, &src);
    if (r)
        return r;
    bool adjust = (dst & 3) < (src & 3);
    if (adjust) {
        r = sys_opd_write(e, in, 0, 2, (dst & ~3u) | (src & 3));
        if (r)
            return r;
    }
    set_zf(e->cpu, adjust);
    return done(e, in, ENG_OK);
}

int exec_desc(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint32_t v;
    int r;
    switch (in->op) {
    case IR_LGDT:
        return exec_load_dtr(e, in, &cpu->gdtr);
    case IR_LIDT:
        return exec_load_dtr(e, in, &cpu->idtr);
    case IR_SGDT:
        return exec_store_dtr(e, in, &cpu->gdtr);
    case IR_SIDT:
        return exec_store_dtr(e, in, &cpu->idtr);
    case IR_LLDT:
        return exec_lldt(e, in);
    case IR_SLDT:
        return store_word(e, in, cpu->ldtr.sel);
    case IR_LTR:
        return exec_ltr(e, in);
    case IR_STR:
        return store_word(e, in, cpu->tr.sel);
    case IR_LMSW:
        r = sys_opd_read(e, in, 0, 2, &v);
        if (r)
            return r;
        /* PE MP EM TS only; PE can be set but not cleared */
        cpu->cr0 = (cpu->cr0 & ~0xEu) | (v & 0xF);
        return done(e, in, ENG_END_BLOCK);
    case IR_SMSW:
        return store_word(e, in, in->opd[0].kind == IR_OPK_MEM ? cpu->cr0 & 0xFFFF : cpu->cr0);
    case IR_CLTS:
        cpu->cr0 &= ~CPU_CR0_TS;
        return done(e, in, ENG_END_BLOCK);
    case IR_LAR:
        return exec_lar_lsl(e, in, false);
    case IR_LSL:
        return exec_lar_lsl(e, in, true);
    case IR_VERR:
        return exec_verr_verw(e, in, false);
    case IR_VERW:
        return exec_verr_verw(e, in, true);
    case IR_ARPL:
        return exec_arpl(e, in);
    default:
        return eng_ud(e);
    }
}
