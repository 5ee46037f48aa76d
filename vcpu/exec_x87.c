/*
 * exec_x87.c - glue between the engine and the x87 executor (vcpu/x87.h): builds the x87_env
 * (memory callbacks through seg_read/seg_write at the instruction's effective address, CR0,
 * EFLAGS, the FIP/FCS and FDP/FDS values) and applies the x87_result (AX for FNSTSW AX, the
 * arithmetic flags for FCOMI and friends, exceptions). Also WAIT/FWAIT.
 *
 * Trusts: the x87 executor to call the callbacks only with offsets inside the operand it names
 * (each access goes through the segment checks anyway) and to leave state unchanged when it
 * reports a fault or an exception.
 */
#include "vcpu/exec.h"
#include "vcpu/x87.h"

struct x87_mem {
    struct engine *e;
    unsigned seg;
    uint32_t ea;
    int rc; /* the engine's result of the last failed access, to report unchanged */
};

static int x87_read_cb(void *ctx, uint32_t offset, void *buf, unsigned size)
{
    struct x87_mem *m = ctx;
    m->rc = seg_read(m->e, m->seg, m->ea + offset, buf, size);
    return m->rc ? -1 : 0;
}

static int x87_write_cb(void *ctx, uint32_t offset, const void *buf, unsigned size)
{
    struct x87_mem *m = ctx;
    /* check every page first: a 10- or 108-byte image either fits or faults with the right CR2 */
    m->rc = eng_check_write(m->e, m->seg, m->ea + offset, size);
    if (m->rc == 0)
        m->rc = seg_write(m->e, m->seg, m->ea + offset, buf, size);
    return m->rc ? -1 : 0;
}

static int x87_apply(struct engine *e, const struct ir_insn *in, int status,
                     const struct x87_result *res, const struct x87_mem *m)
{
    struct cpu_state *cpu = e->cpu;

    switch (status) {
    case X87_OK:
        if (res->set_ax)
            reg_put(cpu, IR_EAX, 2, res->ax);
        if (res->set_flags)
            flags_set(cpu, CPU_ARITH_FLAGS, res->eflags_zpc);
        cpu->eip = eng_next_eip(cpu, in);
        return ENG_OK;
    case X87_FAULT:
        /* e->exc was filled by the failing seg_read/seg_write */
        return m->rc ? m->rc : eng_gp0(e);
    case X87_EXC:
        return eng_raise(e, res->vector, false, 0);
    default:
        return eng_ud(e);
    }
}

int exec_x87(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    struct x87_result res = { 0 };
    struct x87_mem m = { e, in->mem.seg % IR_NSREG, 0, 0 };
    int status;

    if (in->op == IR_WAIT) {
        status = x87_wait_check(&cpu->fpu, cpu->cr0, &res);
        return x87_apply(e, in, status, &res, &m);
    }
    bool has_mem = in->opd[0].kind == IR_OPK_MEM;
    if (has_mem)
        m.ea = eng_ea(cpu, in);
    struct x87_env env = {
        .ctx = &m,
        .read = x87_read_cb,
        .write = x87_write_cb,
        .cr0 = cpu->cr0,
        .eflags = cpu_get_eflags(cpu),
        .eip = cpu->eip,
        .cs = cpu->seg[IR_CS].sel,
        .mem_sel = has_mem ? cpu->seg[m.seg].sel : 0,
        .mem_offset = m.ea,
        .pmode = cpu_pmode(cpu),
    };
    status = x87_exec(&cpu->fpu, in, &env, &res);
    return x87_apply(e, in, status, &res, &m);
}
