/*
 * exec_io.c - port I/O: IN, OUT, INS, OUTS (with REP), and the protected-mode I/O permission
 * check (SDM vol. 1 sec. 18.2-18.3: CPL <= IOPL, else the TSS I/O permission bitmap; in VM86
 * always the bitmap). Ports are forwarded to the engine's io callbacks.
 *
 * Trust: the bitmap is guest memory, bounded by the TSS limit; device models behind e->io are
 * the run loop's business. A REP string run stops after ENG_REP_CAP iterations and restarts the
 * instruction, so a huge ECX cannot hold the vCPU.
 */
#include "vcpu/sys.h"

#define TSS_IOMAP_BASE 0x66u
#define TSS32_MIN_LIMIT 0x67u

/* Port permission (SDM vol. 1 18.2): CPL <= IOPL outside VM86, else the TSS bitmap. */
static int io_permitted(struct engine *e, uint16_t port, unsigned size)
{
    struct cpu_state *cpu = e->cpu;
    if (!(cpu->cr0 & CPU_CR0_PE))
        return 0;
    unsigned iopl = (cpu->eflags & CPU_IOPL) >> 12;
    if (!(cpu->eflags & CPU_VM) && cpu->cpl <= iopl)
        return 0;
    const struct cpu_seg *tr = &cpu->tr;
    unsigned t = sys_type(tr->attr);
    if ((tr->attr & SA_S) || !(tr->attr & SA_P) || (t != ST_TSS32_BUSY && t != ST_TSS32_AVAIL) ||
        tr->limit < TSS32_MIN_LIMIT)
        return eng_gp0(e);
    uint8_t b[2];
    int r = sys_read(e, tr->base + TSS_IOMAP_BASE, b, 2);
    if (r)
        return r;
    uint32_t at = (uint32_t)(b[0] | b[1] << 8) + port / 8u;
    if (at + 1 > tr->limit)
        return eng_gp0(e);
    r = sys_read(e, tr->base + at, b, 2);
    if (r)
        return r;
    uint32_t bits = (uint32_t)(b[0] | b[1] << 8) >> (port & 7);
    if (bits & ((1u << size) - 1))
        return eng_gp0(e);
    return 0;
}

static uint32_t port_in(struct engine *e, uint16_t port, unsigned size)
{
    uint32_t all = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (!e->io.in)
        return all;
    return e->io.in(e->io.ctx, port, size) & all;
}

static void port_out(struct engine *e, uint16_t port, unsigned size, uint32_t v)
{
    if (e->io.out)
        e->io.out(e->io.ctx, port, size, v);
}

static uint16_t port_of(const struct engine *e, const struct ir_insn *in, unsigned i)
{
    if (in->opd[i].kind == IR_OPK_IMM)
        return (uint16_t)(in->imm & 0xFF);
    return (uint16_t)e->cpu->r[IR_EDX];
}

static int done(struct engine *e, const struct ir_insn *in, int result)
{
    e->cpu->eip = eng_next_eip(e->cpu, in);
    return result;
}

static int exec_in_out(struct engine *e, const struct ir_insn *in, bool is_in)
{
    unsigned size = in->osize;
    if (size != 1 && size != 2 && size != 4)
        return eng_ud(e);
    uint16_t port = port_of(e, in, is_in ? 1 : 0);
    int r = io_permitted(e, port, size);
    if (r)
        return r;
    if (is_in) {
        r = sys_opd_write(e, in, 0, size, port_in(e, port, size));
        return r ? r : done(e, in, ENG_OK);
    }
    uint32_t v;
    r = sys_opd_read(e, in, 1, size, &v);
    if (r)
        return r;
    port_out(e, port, size, v);
    return done(e, in, ENG_OK);
}

static int exec_string(struct engine *e, const struct ir_insn *in, bool is_in)
{
    struct cpu_state *cpu = e->cpu;
    unsigned size = in->osize;
    if (size != 1 && size != 2 && size != 4)
        return eng_ud(e);
    uint16_t port = (uint16_t)cpu->r[IR_EDX];
    int r = io_permitted(e, port, size);
    if (r)
        return r;
    uint32_t amask = in->asize == 2 ? 0xFFFFu : 0xFFFFFFFFu;
    bool rep = (in->prefix & (IR_PF_REP | IR_PF_REPNE)) != 0;
    unsigned idx = is_in ? IR_EDI : IR_ESI;
    uint32_t step = (cpu->eflags & CPU_DF) ? (uint32_t)-size : size;
    for (unsigned n = 0; n < ENG_REP_CAP; n++) {
        if (rep && (cpu->r[IR_ECX] & amask) == 0)
            return done(e, in, ENG_OK);
        uint32_t off = cpu->r[idx] & amask;
        uint8_t b[4];
        if (is_in) {
            r = seg_check(e, IR_ES, off, size, true);
            if (r)
                return r;
            uint32_t v = port_in(e, port, size);
            for (unsigned i = 0; i < 4; i++)
                b[i] = (uint8_t)(v >> (8 * i));
            r = seg_write(e, IR_ES, off, b, size);
        } else {
            r = seg_read(e, in->mem.seg, off, b, size);
            if (r == 0)
                port_out(e, port, size,
                         (uint32_t)b[0] | (size > 1 ? (uint32_t)b[1] << 8 : 0) |
                             (size > 2 ? (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0));
        }
        if (r)
            return r;
        cpu->r[idx] = (cpu->r[idx] & ~amask) | ((cpu->r[idx] + step) & amask);
        if (!rep)
            return done(e, in, ENG_OK);
        cpu->r[IR_ECX] = (cpu->r[IR_ECX] & ~amask) | ((cpu->r[IR_ECX] - 1) & amask);
    }
    /* cap reached: EIP stays on the instruction, which resumes where it stopped (exec.h) */
    if ((cpu->r[IR_ECX] & amask) == 0)
        return done(e, in, ENG_OK);
    return ENG_OK;
}

int exec_io(struct engine *e, const struct ir_insn *in)
{
    switch (in->op) {
    case IR_IN:
        return exec_in_out(e, in, true);
    case IR_OUT:
        return exec_in_out(e, in, false);
    case IR_INS:
        return exec_string(e, in, true);
    case IR_OUTS:
        return exec_string(e, in, false);
    default:
        return eng_ud(e);
    }
}
