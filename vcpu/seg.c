/*
 * seg.c - segmentation: descriptor fetch from the GDT/LDT, segment-register loads with every
 * protected-mode check (SDM vol. 3 ch. 3 and 5, MOV/POP Sreg pseudocode), real-mode and VM86
 * loads, and limit/type checks on each data access through a segment.
 *
 * Trust: descriptor tables are guest memory; a table limit from the CPU state bounds every
 * fetch, and reads go through vmem (which bounds them to RAM or MMIO).
 */
#include <string.h>

#include "vcpu/sys.h"

/* ---- linear accesses ---------------------------------------------------------------------- */

static int raise_vmem(struct engine *e, const struct vmem_fault *f)
{
    if (f->vector == CPU_PF_VEC)
        e->cpu->cr2 = f->cr2;
    return eng_raise(e, f->vector, true, f->error);
}

/* Linear accesses; `user` selects CPL 3 paging rules. #PF sets CR2. */
static int lin_read(struct engine *e, uint32_t lin, void *buf, unsigned size, bool user)
{
    struct vmem_fault f;
    uint8_t *p = buf;
    while (size > 0) {
        unsigned n = size > 8 ? 8 : size;
        if (vmem_read(e->mem, lin, p, n, user, &f) != 0)
            return raise_vmem(e, &f);
        lin += n;
        p += n;
        size -= n;
    }
    return 0;
}

/* Translate the first byte and the first byte of the last page, so that a multi-part write
 * cannot stop half-way; a fault on the second page reports that page's first byte in CR2, as
 * the processor does. */
static int lin_probe(struct engine *e, uint32_t lin, unsigned size, enum vmem_kind kind, bool user)
{
    struct vmem_fault f;
    uint32_t phys;
    uint8_t *host;
    if (vmem_translate(e->mem, lin, kind, user, &phys, &host, &f) != 0)
        return raise_vmem(e, &f);
    uint32_t last = lin + size - 1;
    if ((last & ~(VMEM_PAGE - 1)) != (lin & ~(VMEM_PAGE - 1)) &&
        vmem_translate(e->mem, last & ~(VMEM_PAGE - 1), kind, user, &phys, &host, &f) != 0)
        return raise_vmem(e, &f);
    return 0;
}

static int lin_probe_write(struct engine *e, uint32_t lin, unsigned size, bool user)
{
    return lin_probe(e, lin, size, VMEM_WRITE, user);
}

static int lin_write(struct engine *e, uint32_t lin, const void *buf, unsigned size, bool user)
{
    struct vmem_fault f;
    const uint8_t *p = buf;
    if (size > 8) {
        int r = lin_probe_write(e, lin, size, user);
        if (r)
            return r;
    }
    while (size > 0) {
        unsigned n = size > 8 ? 8 : size;
        if (vmem_write(e->mem, lin, p, n, user, &f) != 0)
            return raise_vmem(e, &f);
        lin += n;
        p += n;
        size -= n;
    }
    return 0;
}

int sys_read(struct engine *e, uint32_t lin, void *buf, unsigned size)
{
    return lin_read(e, lin, buf, size, false);
}

int sys_write(struct engine *e, uint32_t lin, const void *buf, unsigned size)
{
    return lin_write(e, lin, buf, size, false);
}

/* ---- limit and type checks ---------------------------------------------------------------- */

static bool limit_ok(const struct cpu_seg *s, uint32_t off, unsigned size)
{
    uint32_t last = off + (size - 1);
    if (last < off)
        return false; /* wraps past 4 GiB */
    if ((s->attr & (SA_S | SA_CODE | SA_DC)) == (SA_S | SA_DC)) {
        /* expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (B bit) */
        uint32_t upper = (s->attr & SA_DB) ? 0xFFFFFFFFu : 0xFFFFu;
        return off > s->limit && last <= upper;
    }
    return last <= s->limit;
}

/* Checks through a segment that need not be loaded in a register yet. */
static int segc_check(struct engine *e, const struct cpu_seg *s, uint32_t off, unsigned size, bool write,
               unsigned vector, uint32_t err)
{
    if (size == 0)
        return 0;
    if (cpu_pmode(e->cpu)) {
        /* a null-loaded register is unusable: fault on use (SDM 3.4.2) */
        if (!(s->attr & SA_P) || !(s->attr & SA_S))
            return eng_raise(e, vector, true, err);
        if (write && !sa_writable_data(s->attr))
            return eng_raise(e, vector, true, err);
        if (!write && sa_code(s->attr) && !(s->attr & SA_RW))
            return eng_raise(e, vector, true, err);
    }
    if (!limit_ok(s, off, size))
        return eng_raise(e, vector, true, err);
    return 0;
}

static int segc_read(struct engine *e, const struct cpu_seg *s, uint32_t off, void *buf, unsigned size,
              bool user, unsigned vector, uint32_t err)
{
    int r = segc_check(e, s, off, size, false, vector, err);
    if (r)
        return r;
    return lin_read(e, s->base + off, buf, size, user);
}

static unsigned seg_fault_vector(unsigned seg)
{
    return seg == IR_SS ? CPU_SS : CPU_GP;
}

int seg_check(struct engine *e, unsigned seg, uint32_t off, unsigned size, bool write)
{
    if (seg >= IR_NSREG)
        return eng_gp0(e);
    int r = segc_check(e, &e->cpu->seg[seg], off, size, write, seg_fault_vector(seg), 0);
    if (r || size == 0)
        return r;
    /* the check covers paging too, so that callers can commit afterwards */
    return lin_probe(e, e->cpu->seg[seg].base + off, size, write ? VMEM_WRITE : VMEM_READ,
                     e->cpu->cpl == 3);
}

int seg_read(struct engine *e, unsigned seg, uint32_t off, void *buf, unsigned size)
{
    if (seg >= IR_NSREG)
        return eng_gp0(e);
    return segc_read(e, &e->cpu->seg[seg], off, buf, size, e->cpu->cpl == 3,
                     seg_fault_vector(seg), 0);
}

int seg_write(struct engine *e, unsigned seg, uint32_t off, const void *buf, unsigned size)
{
    if (seg >= IR_NSREG)
        return eng_gp0(e);
    const struct cpu_seg *s = &e->cpu->seg[seg];
    int r = segc_check(e, s, off, size, true, seg_fault_vector(seg), 0);
    if (r)
        return r;
    return lin_write(e, s->base + off, buf, size, e->cpu->cpl == 3);
}

/* ---- stack frames ------------------------------------------------------------------------- */

int stk_check_all(struct engine *e, const struct cpu_seg *ss, uint32_t esp, unsigned n,
                  unsigned size, bool user, unsigned vector, uint32_t err)
{
    uint32_t m = stk_mask(ss);
    for (unsigned i = 0; i < n; i++) {
        uint32_t off = (esp - (i + 1) * size) & m;
        int r = segc_check(e, ss, off, size, true, vector, err);
        if (r)
            return r;
    }
    for (unsigned i = 0; i < n; i++) {
        int r = lin_probe_write(e, ss->base + ((esp - (i + 1) * size) & m), size, user);
        if (r)
            return r;
    }
    return 0;
}

int stk_push_all(struct engine *e, const struct cpu_seg *ss, uint32_t *esp, const uint32_t *vals,
                 unsigned n, unsigned size, bool user, unsigned vector, uint32_t err)
{
    uint32_t m = stk_mask(ss), sp = *esp;
    int r0 = stk_check_all(e, ss, sp, n, size, user, vector, err);
    if (r0)
        return r0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b[4] = {(uint8_t)vals[i], (uint8_t)(vals[i] >> 8), (uint8_t)(vals[i] >> 16),
                        (uint8_t)(vals[i] >> 24)};
        int r = lin_write(e, ss->base + ((sp - (i + 1) * size) & m), b, size, user);
        if (r)
            return r;
    }
    *esp = (sp & ~m) | ((sp - n * size) & m);
    return 0;
}

int stk_read(struct engine *e, const struct cpu_seg *ss, uint32_t esp, uint32_t byte_off,
             unsigned size, bool user, unsigned vector, uint32_t err, uint32_t *val)
{
    uint8_t b[4] = {0, 0, 0, 0};
    uint32_t off = (esp + byte_off) & stk_mask(ss);
    int r = segc_read(e, ss, off, b, size, user, vector, err);
    if (r)
        return r;
    *val = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

/* ---- descriptors -------------------------------------------------------------------------- */

uint32_t desc_base(const struct sys_desc *d)
{
    return (d->lo >> 16) | ((d->hi & 0xFF) << 16) | (d->hi & 0xFF000000u);
}

uint32_t desc_limit(const struct sys_desc *d)
{
    uint32_t limit = (d->lo & 0xFFFF) | (d->hi & 0xF0000);
    if (d->hi & (SA_G << 8))
        limit = (limit << 12) | 0xFFF;
    return limit;
}

void seg_from_desc(struct cpu_seg *s, uint16_t sel, const uint32_t desc[2])
{
    struct sys_desc d = {desc[0], desc[1], 0};
    s->sel = sel;
    s->pad = 0;
    s->base = desc_base(&d);
    s->limit = desc_limit(&d);
    s->attr = desc_attr(&d);
}

int desc_fetch(struct engine *e, uint16_t sel, struct sys_desc *d, unsigned vector, uint32_t ext)
{
    const struct cpu_state *cpu = e->cpu;
    uint32_t base, limit, idx = sel & 0xFFF8u;
    uint32_t err = (sel & 0xFFFCu) | (ext & 1);
    if (sel & 4) {
        /* an LDT selector with no usable LDT loaded is out of limits */
        if (sel_null(cpu->ldtr.sel) || !(cpu->ldtr.attr & SA_P))
            return eng_raise(e, vector, true, err);
        base = cpu->ldtr.base;
        limit = cpu->ldtr.limit;
    } else {
        base = cpu->gdtr.base;
        limit = cpu->gdtr.limit;
    }
    if (idx + 7 > limit)
        return eng_raise(e, vector, true, err);
    uint8_t b[8];
    int r = sys_read(e, base + idx, b, 8);
    if (r)
        return r;
    d->lo = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    d->hi = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    d->lin = base + idx;
    return 0;
}

int seg_fetch_desc(struct engine *e, uint16_t sel, uint32_t desc[2], unsigned fault_vector)
{
    struct sys_desc d;
    int r = desc_fetch(e, sel, &d, fault_vector, 0);
    if (r)
        return r;
    desc[0] = d.lo;
    desc[1] = d.hi;
    return 0;
}

static int desc_update(struct engine *e, struct sys_desc *d, uint8_t set, uint8_t clear)
{
    uint8_t old = (uint8_t)(d->hi >> 8);
    uint8_t val = (uint8_t)((old | set) & ~clear);
    if (val == old)
        return 0;
    int r = sys_write(e, d->lin + 5, &val, 1);
    if (r)
        return r;
    d->hi = (d->hi & ~0xFF00u) | (uint32_t)val << 8;
    return 0;
}

int desc_set_bits(struct engine *e, struct sys_desc *d, uint8_t bits)
{
    return desc_update(e, d, bits, 0);
}

int desc_clear_bits(struct engine *e, struct sys_desc *d, uint8_t bits)
{
    return desc_update(e, d, 0, bits);
}

/* ---- segment register loads --------------------------------------------------------------- */

void seg_make_null(struct cpu_seg *s, uint16_t sel)
{
    /* Only the selector and "unusable" (attr 0) change; the cached base and limit stay, as on
     * P6, which is what a later real-mode reload (base only) keeps using. */
    s->sel = sel;
    s->pad = 0;
    s->attr = 0;
}

void seg_load_vm86(struct cpu_seg *s, uint16_t sel)
{
    s->sel = sel;
    s->pad = 0;
    s->base = (uint32_t)sel << 4;
    s->limit = 0xFFFF;
    s->attr = SA_VM86_DATA;
}

void seg_load_real(struct cpu_state *cpu, unsigned seg, uint16_t sel)
{
    if (seg >= IR_NSREG)
        return;
    struct cpu_seg *s = &cpu->seg[seg];
    s->sel = sel;
    s->base = (uint32_t)sel << 4;
    /* The limit and attributes stay as cached (this is what makes "unreal mode" work). A register
     * left unusable by a protected-mode null load becomes a present read/write data segment
     * again, as every real-mode load on P6 hardware makes it usable. */
    if (!(s->attr & SA_P))
        s->attr = (s->attr & (SA_DB | SA_G)) | 0x93;
}

int seg_check_data_load(struct engine *e, unsigned seg, uint16_t sel, unsigned cpl,
                        unsigned gp_vector, uint32_t ext, struct cpu_seg *out,
                        struct sys_desc *d)
{
    uint32_t err = (sel & 0xFFFCu) | (ext & 1);
    unsigned rpl = sel & 3;
    if (sel_null(sel)) {
        if (seg == IR_SS)
            return eng_raise(e, gp_vector, true, ext & 1);
        *out = e->cpu->seg[seg < IR_NSREG ? seg : IR_DS];
        seg_make_null(out, sel);
        d->lo = d->hi = d->lin = 0;
        return 0;
    }
    int r = desc_fetch(e, sel, d, gp_vector, ext);
    if (r)
        return r;
    uint32_t a = desc_attr(d);
    if (seg == IR_SS) {
        if (rpl != cpl || !sa_writable_data(a) || sa_dpl(a) != cpl)
            return eng_raise(e, gp_vector, true, err);
        if (!(a & SA_P))
            return eng_raise(e, CPU_SS, true, err);
    } else {
        if (!sa_data(a) && !(sa_code(a) && (a & SA_RW)))
            return eng_raise(e, gp_vector, true, err);
        /* data and non-conforming code need DPL >= max(CPL, RPL) */
        if (!sa_conforming_code(a) && (sa_dpl(a) < cpl || sa_dpl(a) < rpl))
            return eng_raise(e, gp_vector, true, err);
        if (!(a & SA_P))
            return eng_raise(e, CPU_NP, true, err);
    }
    uint32_t raw[2] = {d->lo, d->hi};
    seg_from_desc(out, sel, raw);
    return 0;
}

int seg_check_new_stack(struct engine *e, uint16_t sel, unsigned dpl, uint32_t ext,
                        struct cpu_seg *out, struct sys_desc *d)
{
    uint32_t err = (sel & 0xFFFCu) | (ext & 1);
    if (sel_null(sel))
        return eng_raise(e, CPU_TS, true, ext & 1);
    int r = desc_fetch(e, sel, d, CPU_TS, ext);
    if (r)
        return r;
    uint32_t a = desc_attr(d);
    if ((sel & 3u) != dpl || sa_dpl(a) != dpl || !sa_writable_data(a))
        return eng_raise(e, CPU_TS, true, err);
    if (!(a & SA_P))
        return eng_raise(e, CPU_SS, true, err);
    uint32_t raw[2] = {d->lo, d->hi};
    seg_from_desc(out, sel, raw);
    return 0;
}

int seg_commit(struct engine *e, unsigned seg, struct sys_desc *d, const struct cpu_seg *s)
{
    struct cpu_seg v = *s;
    if (v.attr & SA_P) {
        int r = desc_set_bits(e, d, 0x01);
        if (r)
            return r;
        v.attr |= SA_ACCESSED;
    }
    e->cpu->seg[seg] = v;
    return 0;
}

int seg_load(struct engine *e, unsigned seg, uint16_t sel)
{
    struct cpu_state *cpu = e->cpu;
    if (seg >= IR_NSREG)
        return eng_ud(e);
    if (!(cpu->cr0 & CPU_CR0_PE)) {
        seg_load_real(cpu, seg, sel);
        return 0;
    }
    if (cpu->eflags & CPU_VM) {
        seg_load_vm86(&cpu->seg[seg], sel);
        return 0;
    }
    if (seg == IR_CS)
        return eng_ud(e); /* CS changes only through far transfers */
    struct cpu_seg s;
    struct sys_desc d;
    int r = seg_check_data_load(e, seg, sel, cpu->cpl, CPU_GP, 0, &s, &d);
    if (r)
        return r;
    return seg_commit(e, seg, &d, &s);
}

void seg_null_inaccessible(struct cpu_state *cpu)
{
    static const unsigned regs[] = {IR_ES, IR_DS, IR_FS, IR_GS};
    for (unsigned i = 0; i < 4; i++) {
        struct cpu_seg *s = &cpu->seg[regs[i]];
        uint32_t a = s->attr;
        if (!(a & SA_P))
            continue;
        if ((sa_data(a) || (sa_code(a) && !(a & SA_DC))) && sa_dpl(a) < cpu->cpl)
            seg_make_null(s, 0);
    }
}

void sys_set_flags(struct cpu_state *cpu, uint32_t value, uint32_t mask)
{
    uint32_t cur = cpu_get_eflags(cpu);
    uint32_t v = (cur & ~mask) | (value & mask);
    cpu_set_eflags(cpu, v, 0xFFFFFFFFu);
}
