/*
 * clo_run.c - running a case in cloister (see clo_run.h): guest RAM and page tables mirroring the
 * native layout, descriptor tables mirroring the host's, then a fetch/decode/execute loop like the
 * vCPU's interpreter: fetch through vmem (instruction fetch at CPL 3, faulting where the native
 * fetch would), decode_one(), ir_insn_valid(), engine_exec().
 */
#include "tests/oracle/clo_run.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "translator/decode.h"

#define PTE_P 0x1u
#define PTE_W 0x2u
#define PTE_U 0x4u

static uint32_t io_in(void *ctx, uint16_t port, unsigned size)
{
    (void)ctx;
    (void)port;
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static void io_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    (void)ctx;
    (void)port;
    (void)size;
    (void)value;
}

static uint64_t io_tsc(void *ctx)
{
    (void)ctx;
    return 0;
}

int clo_env_init(struct clo_env *env, const struct clo_host *host, unsigned max_steps)
{
    memset(env, 0, sizeof *env);
    env->ram = calloc(1, CLO_RAM_SIZE);
    if (!env->ram)
        return -ENOMEM;
    env->host = *host;
    env->max_steps = max_steps;
    return 0;
}

void clo_env_free(struct clo_env *env)
{
    free(env->ram);
    env->ram = NULL;
}

static void put32(uint8_t *ram, uint32_t addr, uint32_t v)
{
    memcpy(ram + addr, &v, 4);
}

static void put_desc(uint8_t *ram, uint32_t addr, uint32_t lo, uint32_t hi)
{
    put32(ram, addr, lo);
    put32(ram, addr + 4, hi);
}

/* The hidden part of a segment register loaded from descriptor (lo, hi). */
static void seg_from_raw(struct cpu_seg *s, uint16_t sel, uint32_t lo, uint32_t hi)
{
    uint32_t limit = (lo & 0xFFFF) | (hi & 0x000F0000u);
    if (hi & 0x00800000u)
        limit = limit << 12 | 0xFFF;
    s->sel = sel;
    s->base = (lo >> 16) | (hi & 0xFF) << 16 | (hi & 0xFF000000u);
    s->limit = limit;
    s->attr = (hi >> 8) & 0xF0FF;
}

/* GDT entry i as the host shows it to CPL 3: LAR/LSL give the attributes and limit of the user
 * segments (all based at 0); anything LAR rejects becomes a DPL 0 data segment, which a CPL 3
 * program can neither load nor inspect - exactly what it sees of the real entry. */
static void gdt_entry(const struct clo_host *h, unsigned i, uint32_t *lo, uint32_t *hi)
{
    if (i == 0) {
        *lo = *hi = 0;
        return;
    }
    if (h->gdt_ok & (1u << i)) {
        uint32_t ar = h->gdt_lar[i] & 0x00F0FF00u;
        uint32_t lim = h->gdt_lsl[i];
        uint32_t raw = (ar & 0x00800000u) ? lim >> 12 : lim;
        *lo = raw & 0xFFFF;
        *hi = ar | (raw & 0x000F0000u);
        return;
    }
    *lo = 0x0000FFFFu;
    *hi = 0x00CF9300u;
}

static void desc_for(const struct clo_env *env, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    unsigned idx = sel >> 3;
    if (sel & 4) {
        uint32_t a = CLO_LDT + (idx & 3) * 8;
        memcpy(lo, env->ram + a, 4);
        memcpy(hi, env->ram + a + 4, 4);
    } else {
        gdt_entry(&env->host, idx & 15, lo, hi);
    }
}

static void build_memory(struct clo_env *env, const struct orn_in *in, const uint8_t ldt_raw[ORN_LDT_ENTRIES][8])
{
    uint8_t *ram = env->ram;
    /* page tables: rebuilt every case (the walk sets accessed/dirty bits) */
    memset(ram + CLO_PD, 0, 0x2000);
    put32(ram, CLO_PD, CLO_PT | PTE_P | PTE_W | PTE_U);
    for (uint32_t a = ORN_DATA_BASE; a < ORN_DATA_BASE + ORN_DATA_SIZE; a += 0x1000)
        put32(ram, CLO_PT + (a >> 12) * 4, a | PTE_P | PTE_W | PTE_U);
    put32(ram, CLO_PT + (ORN_CODE_BASE >> 12) * 4, ORN_CODE_BASE | PTE_P | PTE_U);
    for (uint32_t a = CLO_GDT; a <= CLO_LDT; a += 0x1000)
        put32(ram, CLO_PT + (a >> 12) * 4, a | PTE_P | PTE_W);
    /* descriptor tables, TSS (no I/O bitmap), IDT (all DPL 0 interrupt gates) */
    memset(ram + CLO_GDT, 0, 0x2000);
    for (unsigned i = 0; i < 16; i++) {
        uint32_t lo, hi;
        gdt_entry(&env->host, i, &lo, &hi);
        put_desc(ram, CLO_GDT + i * 8, lo, hi);
    }
    put32(ram, CLO_TSS + 0x64, 0x00680000u); /* I/O map base 0x68: past the limit, no bitmap */
    for (unsigned v = 0; v < 256; v++)
        put_desc(ram, CLO_IDT + v * 8, 0x00100000u, 0x00008E00u);
    for (unsigned i = 0; i < ORN_LDT_ENTRIES; i++)
        memcpy(ram + CLO_LDT + i * 8, ldt_raw[i], 8);
    /* code and data */
    memcpy(ram + ORN_CODE_BASE, in->code, ORN_CODE_SIZE);
    memcpy(ram + ORN_DATA_BASE, in->data, ORN_DATA_SIZE);
}

static void build_cpu(struct clo_env *env, const struct oracle_case *c)
{
    struct cpu_state *cpu = &env->cpu;
    memset(cpu, 0, sizeof *cpu);
    engine_flat32(cpu, 3);
    for (unsigned s = 0; s < IR_NSREG; s++) {
        uint16_t sel = s == IR_CS ? env->host.user_cs : (c->sel[s] ? c->sel[s] : env->host.user_ds);
        uint32_t lo, hi;
        desc_for(env, sel, &lo, &hi);
        seg_from_raw(&cpu->seg[s], sel, lo, hi);
    }
    cpu->gdtr.base = CLO_GDT;
    cpu->gdtr.limit = 16 * 8 - 1;
    cpu->idtr.base = CLO_IDT;
    cpu->idtr.limit = 256 * 8 - 1;
    cpu->ldtr.sel = 0x50;
    cpu->ldtr.base = CLO_LDT;
    cpu->ldtr.limit = ORN_LDT_ENTRIES * 8 - 1;
    cpu->ldtr.attr = 0x0082;
    cpu->tr.sel = 0x40;
    cpu->tr.base = CLO_TSS;
    cpu->tr.limit = 0x67;
    cpu->tr.attr = 0x008B;
    /* Linux runs user code with paging, WP and alignment-check enable */
    cpu->cr0 |= CPU_CR0_PG | CPU_CR0_WP | CPU_CR0_AM;
    cpu->cr3 = CLO_PD;
    memcpy(cpu->r, c->regs, sizeof cpu->r);
    cpu->eip = ORN_CODE_BASE + (c->code_off % ORN_CODE_SIZE);
    cpu_set_eflags(cpu, (c->eflags & 0xCD5u) | 0x202u, 0xFFFFFFFFu);
}

/* Fetch up to 15 bytes at EIP the way the CPU does: a fault only when the instruction really
 * extends onto an inaccessible page. Returns 0, or -1 with *f set. */
static int fetch_decode(struct clo_env *env, uint32_t eip, struct ir_insn *in, struct vmem_fault *f)
{
    uint8_t buf[IR_MAX_INSN_LEN];
    uint32_t phys;
    uint8_t *host;
    if (vmem_translate(&env->mem, eip, VMEM_FETCH, true, &phys, &host, f) != 0)
        return -1;
    uint32_t first = 0x1000 - (eip & 0xFFF);
    if (first > IR_MAX_INSN_LEN)
        first = IR_MAX_INSN_LEN;
    for (uint32_t i = 0; i < first; i++)
        buf[i] = host ? host[i] : 0xFF;
    unsigned mode = DEC_MODE_CS32 | DEC_MODE_PE;
    if (decode_one(buf, first, eip, mode, in) != DEC_NEED_MORE)
        return 0;
    uint32_t next = eip + first;
    if (vmem_translate(&env->mem, next, VMEM_FETCH, true, &phys, &host, f) != 0)
        return -1;
    for (uint32_t i = first; i < IR_MAX_INSN_LEN; i++)
        buf[i] = host ? host[i - first] : 0xFF;
    if (decode_one(buf, IR_MAX_INSN_LEN, eip, mode, in) == DEC_NEED_MORE) {
        memset(in, 0, sizeof *in); /* cannot happen with 15 bytes; treat as invalid */
        in->op = IR_INVALID;
        in->len = IR_MAX_INSN_LEN;
    }
    return 0;
}

void clo_run(struct clo_env *env, const struct oracle_case *c, const struct orn_in *in,
             const uint8_t ldt_raw[ORN_LDT_ENTRIES][8], struct clo_result *res)
{
    memset(res, 0, offsetof(struct clo_result, data));
    build_memory(env, in, ldt_raw);
    build_cpu(env, c);
    struct cpu_state *cpu = &env->cpu;
    env->mem = (struct vmem){ .ram = env->ram, .ram_size = CLO_RAM_SIZE, .cpu = cpu };
    env->eng = (struct engine){ .cpu = cpu, .mem = &env->mem,
                                .io = { .ctx = NULL, .in = io_in, .out = io_out, .tsc = io_tsc } };
    res->status = CLO_TIMEOUT;
    for (unsigned step = 0; step < env->max_steps; step++) {
        struct ir_insn insn;
        struct vmem_fault f;
        uint32_t eip = cpu->eip;
        res->steps = step + 1;
        res->last_eip = eip;
        if (fetch_decode(env, eip, &insn, &f) != 0) {
            res->status = CLO_EXC;
            res->vector = f.vector;
            res->has_error = 1;
            res->error = f.error;
            res->cr2 = f.cr2;
            cpu->cr2 = f.cr2;
            break;
        }
        res->last = insn;
        if (!ir_insn_valid(&insn)) {
            res->status = CLO_BADIR;
            break;
        }
        int rc = engine_exec(&env->eng, &insn);
        res->last_rc = rc;
        if (rc == ENG_OK || rc == ENG_END_BLOCK)
            continue;
        if (rc == ENG_EXCEPTION) {
            res->status = CLO_EXC;
            res->vector = env->eng.exc.vector;
            res->has_error = env->eng.exc.has_error;
            res->soft = env->eng.exc.soft;
            res->error = env->eng.exc.error;
            res->cr2 = cpu->cr2;
        } else if (rc == ENG_HALT) {
            res->status = CLO_HALT;
        } else if (rc == ENG_TRIPLE) {
            res->status = CLO_TRIPLE;
        } else {
            res->status = CLO_ENGINE;
        }
        break;
    }
    memcpy(res->regs, cpu->r, sizeof res->regs);
    res->eip = cpu->eip;
    res->eflags = cpu_get_eflags(cpu);
    for (unsigned s = 0; s < 6; s++)
        res->sel[s] = cpu->seg[s].sel;
    res->fpu = cpu->fpu;
    memcpy(res->data, env->ram + ORN_DATA_BASE, ORN_DATA_SIZE);
}
