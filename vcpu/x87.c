/*
 * x87.c - x87_exec: the order of checks (#NM, #UD, #MF), the memory operand traffic through the
 * engine's callbacks, the control instructions (FLDCW, FNSTCW, FNSTSW, FNCLEX, FNINIT, FLDENV,
 * FNSTENV, FRSTOR, FNSAVE), and the last-instruction bookkeeping (FIP, FCS, FOP, FDP, FDS).
 * Numeric instructions are handed to x87_host.c.
 *
 * All-or-nothing: the new state is built in a copy and committed only after the last callback
 * that can fault has succeeded, so X87_FAULT and X87_EXC leave *fpu untouched.
 */
#include "vcpu/x87.h"

#include <string.h>

#include "vcpu/x87_int.h"

/* Unmasked exceptions that suppress a store to memory: the store happens only for a masked
 * response, or when the only unmasked exception is precision (SDM vol. 1, 4.9.1, 8.5). */
#define X87_NO_STORE (X87_FSW_IE | X87_FSW_DE | X87_FSW_ZE | X87_FSW_OE | X87_FSW_UE)

void x87_init(struct cpu_fpu *fpu)
{
    memset(fpu, 0, sizeof(*fpu));
    fpu->fcw = 0x037F;
    fpu->ftw = 0xFFFF;
}

static void fninit(struct cpu_fpu *fpu)
{
    fpu->fcw = 0x037F;
    fpu->fsw = 0;
    fpu->ftw = 0xFFFF;
    fpu->fop = 0;
    fpu->fip = 0;
    fpu->fdp = 0;
    fpu->fcs = 0;
    fpu->fds = 0;
}

static bool pending(const struct cpu_fpu *fpu)
{
    return (fpu->fsw & ~fpu->fcw & X87_FSW_EXC) != 0;
}

static int exc_result(struct x87_result *res, uint8_t vector)
{
    res->vector = vector;
    res->status = X87_EXC;
    return X87_EXC;
}

static int fault(struct x87_result *res)
{
    res->status = X87_FAULT;
    return X87_FAULT;
}

int x87_wait_check(const struct cpu_fpu *fpu, uint32_t cr0, struct x87_result *res)
{
    memset(res, 0, sizeof(*res));
    if ((cr0 & (CPU_CR0_TS | CPU_CR0_MP)) == (CPU_CR0_TS | CPU_CR0_MP))
        return exc_result(res, CPU_NM);
    if ((cr0 & CPU_CR0_NE) && pending(fpu))
        return exc_result(res, CPU_MF);
    return X87_OK;
}

static int exec_host(struct cpu_fpu *fpu, const struct x87_form *f, unsigned code,
                     struct x87_env *env, struct x87_result *res)
{
    _Alignas(16) uint8_t mem[16] = {0};
    struct x87_image img;
    struct cpu_fpu next = *fpu;
    uint32_t flags = 0;
    unsigned raised;

    if (f->mem_in && env->read(env->ctx, 0, mem, f->mem_in) != 0)
        return fault(res);
    x87_to_image(fpu, &img);
    if (!x87_host_run(&img, f->host_code, mem, env->eflags, &flags))
        return exc_result(res, CPU_UD); /* unreachable while the decode and host tables agree */
    raised = x87_from_image(&next, &img, fpu->fsw);
    if (f->mem_out && !(raised & ~fpu->fcw & X87_NO_STORE) &&
        env->write(env->ctx, 0, mem, f->mem_out) != 0)
        return fault(res);

    next.fip = env->eip;
    next.fcs = env->cs;
    next.fop = (uint16_t)code;
    if (f->mem_in || f->mem_out) {
        next.fdp = env->mem_offset;
        next.fds = env->mem_sel;
    }
    *fpu = next;
    if (f->flags & X87F_SETS_FLAGS) {
        res->eflags_zpc = flags & CPU_ARITH_FLAGS;
        res->set_flags = true;
    }
    return X87_OK;
}

static int exec_control(struct cpu_fpu *fpu, const struct x87_form *f, bool o32,
                        struct x87_env *env, struct x87_result *res)
{
    uint8_t buf[108];
    struct cpu_fpu next = *fpu;
    unsigned envsz = x87_env_size(o32);

    if (f->mem_in && env->read(env->ctx, 0, buf, f->mem_in) != 0)
        return fault(res);

    switch (f->kind) {
    case X87K_LEGACY_NOP:
        break;
    case X87K_FLDCW:
        next.fcw = (uint16_t)(((buf[0] | buf[1] << 8) & X87_FCW_KEEP) | X87_FCW_ONES);
        next.fsw = x87_fsw_summary(next.fsw, next.fcw);
        break;
    case X87K_FNSTCW:
        buf[0] = (uint8_t)fpu->fcw;
        buf[1] = (uint8_t)(fpu->fcw >> 8);
        break;
    case X87K_FNSTSW_MEM:
        buf[0] = (uint8_t)fpu->fsw;
        buf[1] = (uint8_t)(fpu->fsw >> 8);
        break;
    case X87K_FNSTSW_AX:
        res->ax = fpu->fsw;
        res->set_ax = true;
        break;
    case X87K_FNCLEX:
        next.fsw &= (uint16_t)~(X87_FSW_EXC | X87_FSW_SF | X87_FSW_ES | X87_FSW_B);
        break;
    case X87K_FNINIT:
        fninit(&next);
        break;
    case X87K_FLDENV:
        x87_load_env(&next, buf, env->pmode, o32);
        break;
    case X87K_FRSTOR:
        x87_load_env(&next, buf, env->pmode, o32);
        x87_load_regs(&next, buf + envsz);
        break;
    case X87K_FNSTENV:
        /* FNSTENV then masks every exception, which also withdraws a pending one. */
        x87_store_env(fpu, buf, env->pmode, o32);
        next.fcw |= X87_FSW_EXC;
        next.fsw = x87_fsw_summary(next.fsw, next.fcw);
        break;
    case X87K_FNSAVE:
        x87_store_env(fpu, buf, env->pmode, o32);
        x87_store_regs(fpu, buf + envsz);
        fninit(&next);
        break;
    default:
        return exc_result(res, CPU_UD);
    }

    if (f->mem_out && env->write(env->ctx, 0, buf, f->mem_out) != 0) {
        res->set_ax = false;
        return fault(res);
    }
    *fpu = next;
    return X87_OK;
}

int x87_exec(struct cpu_fpu *fpu, const struct ir_insn *in, struct x87_env *env,
             struct x87_result *res)
{
    struct x87_form f;
    unsigned code = in->x87;
    bool is_mem = (code & 0xFF) < 0xC0;
    bool o32 = in->osize != 2;
    int rc;

    memset(res, 0, sizeof(*res));
    if (in->op != IR_X87)
        return exc_result(res, CPU_UD);
    if (env->cr0 & (CPU_CR0_EM | CPU_CR0_TS))
        return exc_result(res, CPU_NM);
    x87_classify(code, is_mem, o32, &f);
    if (f.kind == X87K_UD || (is_mem && in->opd[0].kind != IR_OPK_MEM))
        return exc_result(res, CPU_UD);
    if ((f.flags & X87F_WAITING) && (env->cr0 & CPU_CR0_NE) && pending(fpu))
        return exc_result(res, CPU_MF);

    if (f.kind == X87K_HOST)
        rc = exec_host(fpu, &f, code, env, res);
    else
        rc = exec_control(fpu, &f, o32, env, res);
    res->status = rc;
    return rc;
}
