/*
 * run.c - the vCPU run loop (see run.h).
 *
 * Precision: exceptions are delivered at the faulting instruction (the engine leaves state as
 * before it); interrupts are taken at block boundaries; a store that invalidates the running
 * block ends the block right after the store, so the next instruction is fetched anew; an
 * instruction that does not leave EIP where the block expects (a REP instruction that yields
 * before finishing, say) also ends the block.
 */
#include "vcpu/run.h"

#include <stdlib.h>
#include <string.h>


#define PAGE 4096u

static void on_code_write(void *ctx, uint32_t phys, unsigned size)
{
    struct vcpu *v = ctx;
    tcache_code_write(&v->tc, phys, size);
}

int vcpu_init(struct vcpu *v, uint8_t *ram, uint32_t ram_size, size_t cache_bytes)
{
    memset(v, 0, sizeof *v);
    if (tcache_init(&v->tc, cache_bytes, ram_size) < 0)
        return -1;
    v->mem.ram = ram;
    v->mem.ram_size = ram_size;
    v->mem.io_ctx = v;
    v->mem.code_bitmap = v->tc.code_bitmap;
    v->mem.code_write = on_code_write;
    v->mem.cpu = &v->cpu;
    v->eng.cpu = &v->cpu;
    v->eng.mem = &v->mem;
    engine_reset(&v->cpu);
    return 0;
}

void vcpu_free(struct vcpu *v)
{
    tcache_free(&v->tc);
}

uint32_t vcpu_mode(const struct cpu_state *cpu)
{
    uint32_t mode = 0;
    if (cpu->cr0 & CPU_CR0_PE)
        mode |= IR_MODE_PE;
    if ((cpu->seg[IR_CS].attr & 0x4000) && !(cpu->eflags & CPU_VM))
        mode |= IR_MODE_CS32;
    return mode;
}

static int raise_and_deliver(struct vcpu *v, unsigned vector, bool has_error, uint32_t error)
{
    struct engine_exc exc;
    memset(&exc, 0, sizeof exc);
    exc.vector = (uint8_t)vector;
    exc.has_error = has_error;
    exc.error = error;
    return engine_deliver(&v->eng, &exc, false);
}

static int fetch_fault(struct vcpu *v, const struct vmem_fault *f)
{
    if (f->vector == CPU_PF_VEC)
        v->cpu.cr2 = f->cr2;
    return raise_and_deliver(v, f->vector, true, f->error);
}

/* Find or translate the block at CS:EIP. Returns the block, or NULL with *rc set to the result
 * of delivering a fetch fault (ENG_OK or ENG_TRIPLE), or VCPU_BAD_BLOCK in *stop. */
static struct tb *lookup(struct vcpu *v, int *rc, int *stop)
{
    struct cpu_state *cpu = &v->cpu;
    const struct cpu_seg *cs = &cpu->seg[IR_CS];
    bool user = cpu->cpl == 3;
    struct vmem_fault f;
    uint32_t phys, phys_next = XL_NO_PAGE;
    uint8_t *host;

    *rc = ENG_OK;
    *stop = -1;
    if (cpu->eip > cs->limit) {
        *rc = raise_and_deliver(v, CPU_GP, true, 0);
        return NULL;
    }
    uint32_t lin = cs->base + cpu->eip;
    if (vmem_translate(&v->mem, lin, VMEM_FETCH, user, &phys, &host, &f) < 0) {
        *rc = fetch_fault(v, &f);
        return NULL;
    }
    uint32_t mode = vcpu_mode(cpu);
    struct tb *t = tcache_find(&v->tc, cpu->eip, phys, mode);
    if (t)
        return t;

    uint32_t in_page = PAGE - (lin & (PAGE - 1));
    struct vmem_fault nf;
    bool next_fault = false;
    if (in_page < IR_MAX_INSN_LEN) {
        uint32_t p2;
        if (vmem_translate(&v->mem, lin + in_page, VMEM_FETCH, user, &p2, &host, &nf) == 0)
            phys_next = p2;
        else
            next_fault = true;
    }
    uint64_t limit = (uint64_t)cs->limit - cpu->eip + 1;
    struct msg_translate req = {cpu->eip, phys, phys_next, limit > 8192 ? 8192 : (uint32_t)limit,
                                mode, 0};
    const void *blk;
    size_t size;
    int xs = v->src.translate(v->src.ctx, &req, &blk, &size);
    if (xs == XL_FETCH_LIMIT) {
        *rc = raise_and_deliver(v, CPU_GP, true, 0);
        return NULL;
    }
    if (xs == XL_FETCH_PAGE && next_fault) {
        *rc = fetch_fault(v, &nf);
        return NULL;
    }
    if (xs != XL_OK || !(t = tcache_insert(&v->tc, blk, size, &req))) {
        *stop = VCPU_BAD_BLOCK;
        return NULL;
    }
    return t;
}

static bool take_interrupt(struct vcpu *v, int *rc)
{
    struct cpu_state *cpu = &v->cpu;
    *rc = ENG_OK;
    if (!(cpu->eflags & CPU_IF) || cpu->inhibit_irq || !v->src.irq_pending ||
        v->src.irq_pending(v->src.ctx, false) < 0)
        return false;
    int vec = v->src.irq_pending(v->src.ctx, true);
    if (vec < 0)
        return false;
    struct engine_exc exc;
    memset(&exc, 0, sizeof exc);
    exc.vector = (uint8_t)vec;
    cpu->halted = 0;
    *rc = engine_deliver(&v->eng, &exc, true);
    return true;
}

int vcpu_run(struct vcpu *v, uint64_t budget)
{
    struct cpu_state *cpu = &v->cpu;
    struct tb *prev = NULL;
    uint64_t done = 0;
    int rc, stop;

    while (done < budget) {
        if (take_interrupt(v, &rc)) {
            prev = NULL;
            if (rc == ENG_TRIPLE)
                return VCPU_TRIPLE;
        }
        if (cpu->halted) {
            if (!(cpu->eflags & CPU_IF))
                return VCPU_HALT_DEAD;
            return VCPU_HALTED;
        }
        struct tb *t = prev && !v->no_chain ? tb_next(&v->tc, prev, cpu->eip) : NULL;
        if (t) {
            v->tc.count.chain_hits++;
        } else {
            t = lookup(v, &rc, &stop);
            if (!t) {
                if (stop >= 0)
                    return stop;
                if (rc == ENG_TRIPLE)
                    return VCPU_TRIPLE;
                prev = NULL;
                continue;
            }
            if (prev)
                tb_chain(&v->tc, prev, t);
        }
        prev = NULL;
        v->blocks_run++;

        uint32_t cr0 = cpu->cr0, cr3 = cpu->cr3, cr4 = cpu->cr4;
        uint32_t next_eip = t->eip;
        bool completed = false;
        v->tc.current = t;
        v->tc.current_hit = false;
        for (unsigned i = 0; i < t->ninsn; i++) {
            const struct ir_insn *in = &t->insn[i];
            next_eip += in->len;
            int r = engine_exec(&v->eng, in);
            done++;
            v->insns++;
            if (r == ENG_OK) {
                if (v->tc.current_hit)
                    break;
                if (i + 1 < t->ninsn && cpu->eip != next_eip)
                    break;
                if (i + 1 == t->ninsn)
                    completed = true;
                continue;
            }
            if (r == ENG_EXCEPTION) {
                if (engine_deliver(&v->eng, &v->eng.exc, false) == ENG_TRIPLE) {
                    v->tc.current = NULL;
                    return VCPU_TRIPLE;
                }
            } else if (r == ENG_HALT) {
                cpu->halted = 1;
            } else if (r == ENG_TRIPLE) {
                v->tc.current = NULL;
                return VCPU_TRIPLE;
            } else if (in->op == IR_INVLPG) {
                tcache_unchain_all(&v->tc);
            }
            break; /* ENG_END_BLOCK, or after an exception or HLT */
        }
        v->tc.current = NULL;
        /* The guest may have changed how linear addresses map: chains across pages are no
         * longer known to be right. */
        if (cpu->cr0 != cr0 || cpu->cr3 != cr3 || cpu->cr4 != cr4)
            tcache_unchain_all(&v->tc);
        if (completed && !v->tc.current_hit && t->valid)
            prev = t;
    }
    return VCPU_BUDGET;
}
