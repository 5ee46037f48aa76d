/*
 * fuzz_ir_exec.c - libFuzzer harness for the validator and the execution engine together:
 * arbitrary bytes become IR instructions exactly as a compromised translator could hand them
 * over; each goes through ir_insn_valid() and, if accepted, engine_exec() on a CPU in flat 32-bit
 * mode over 64 KiB of RAM. Exceptions are not delivered (the next instruction simply runs), so
 * any sequence is explored. ASan checks that nothing outside the RAM buffer is touched; the
 * harness checks the engine's own invariants after every instruction.
 *
 * Input: 36 bytes of initial state (eight GPRs, then EFLAGS' arithmetic bits and DF), then
 * 40-byte records. Each record is tried twice: raw (whatever the bytes say) and normalised
 * (fields folded into their ranges), so that most records reach the engine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ir.h"
#include "vcpu/engine.h"

#define RAM_SIZE (64u * 1024)
#define MAX_INSNS 64

struct world {
    struct cpu_state cpu;
    struct vmem mem;
    struct engine e;
    uint8_t *ram;
    uint8_t code_bitmap[RAM_SIZE / VMEM_PAGE / 8];
    uint32_t io_seed;
};

static uint32_t w_mmio_read(void *ctx, uint32_t phys, unsigned size)
{
    struct world *w = ctx;
    uint32_t v = (phys * 2654435761u) ^ w->io_seed;
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void w_mmio_write(void *ctx, uint32_t phys, unsigned size, uint32_t value)
{
    struct world *w = ctx;
    w->io_seed ^= phys + value + size;
}

static void w_code_write(void *ctx, uint32_t phys, unsigned size)
{
    struct world *w = ctx;
    if (phys >= RAM_SIZE || size == 0 || size > RAM_SIZE - phys)
        abort(); /* the hook must only ever name RAM */
    w->io_seed += phys;
}

static uint32_t w_in(void *ctx, uint16_t port, unsigned size)
{
    return w_mmio_read(ctx, port, size);
}

static void w_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    w_mmio_write(ctx, port, size, value);
}

static uint64_t w_tsc(void *ctx)
{
    struct world *w = ctx;
    return w->io_seed;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Fold every field into the range the validator accepts for some op, keeping the fuzzer's
 * choices otherwise (the validator still decides). */
static void normalise(struct ir_insn *in)
{
    static const uint8_t sizes[] = { 1, 2, 4, 6, 8, 10, 2, 4 };
    in->op = (uint16_t)(in->op % IR_OP_COUNT);
    in->len = (uint8_t)(in->len % IR_MAX_INSN_LEN + 1);
    in->osize = (uint8_t)(1u << (in->osize % 3));
    in->asize = (uint8_t)((in->asize & 1) ? 2 : 4);
    in->cond &= 0xF;
    in->prefix &= IR_PF_LOCK | IR_PF_REP | IR_PF_SEGOV;
    if (in->prefix & IR_PF_REP && in->pad & 1)
        in->prefix ^= IR_PF_REP | IR_PF_REPNE;
    in->flags &= IR_F_ENDS_BLOCK | IR_F_PRIV | IR_F_WRITES_MEM | IR_F_READS_MEM;
    for (unsigned i = 0; i < 3; i++) {
        struct ir_operand *o = &in->opd[i];
        o->kind = (uint8_t)(o->kind % IR_OPK_COUNT);
        o->reg &= 7;
        if (o->kind == IR_OPK_SREG)
            o->reg %= IR_NSREG;
        /* operand sizes follow osize most of the time */
        o->size = (o->size & 0x80) ? sizes[o->size & 7] : in->osize;
    }
    in->mem.seg %= IR_NSREG;
    in->mem.base = (in->mem.base & 8) ? IR_NOREG : (in->mem.base & 7);
    in->mem.index = (in->mem.index & 8) || (in->mem.index & 7) == IR_ESP ? IR_NOREG
                                                                          : (in->mem.index & 7);
    in->mem.scale &= 3;
    if (in->asize == 2) {
        static const uint8_t b16[4] = { IR_EBX, IR_EBP, IR_ESI, IR_EDI };
        in->mem.scale = 0;
        if (in->mem.base != IR_NOREG)
            in->mem.base = b16[in->mem.base & 3];
        if (in->mem.index != IR_NOREG)
            in->mem.index = (in->mem.index & 1) ? IR_EDI : IR_ESI;
    }
    in->x87 &= 0x7FF;
    if (in->opd[0].kind == IR_OPK_MEM)
        in->x87 &= 0x738;
    else
        in->x87 |= 0xC0;
    if (in->op == IR_INT || in->op == IR_AAM || in->op == IR_AAD)
        in->imm &= 0xFF;
    if (in->op == IR_RET || in->op == IR_RETF || in->op == IR_ENTER)
        in->imm &= 0xFFFF;
    if (in->op == IR_IN || in->op == IR_OUT)
        in->imm &= 0xFF;
}

static void check_invariants(const struct world *w, int rc)
{
    const struct cpu_state *c = &w->cpu;
    if (rc < ENG_OK || rc > ENG_END_BLOCK)
        abort();
    if (rc == ENG_EXCEPTION && !w->e.exc.soft && w->e.exc.vector > 31)
        abort();
    /* reserved EFLAGS bits never become set, bit 1 never clears */
    uint32_t f = cpu_get_eflags(c);
    if (!(f & 2) || (f & 0xFFC08028u))
        abort();
}

static void run_one(struct world *w, const struct ir_insn *in)
{
    if (!ir_insn_valid(in))
        return;
    int rc = engine_exec(&w->e, in);
    check_invariants(w, rc);
    if (rc == ENG_HALT)
        w->cpu.halted = 0;
    if (rc == ENG_TRIPLE)
        engine_flat32(&w->cpu, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 36)
        return 0;
    struct world *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return 0;
    w->ram = malloc(RAM_SIZE); /* exact size: ASan flags any byte beyond it */
    if (w->ram == NULL) {
        free(w);
        return 0;
    }
    /* memset, not a loop: the harness's own loops would be traced for coverage */
    memset(w->ram, data[34], RAM_SIZE);
    w->mem.ram = w->ram;
    w->mem.ram_size = RAM_SIZE;
    w->mem.io_ctx = w;
    w->mem.mmio_read = w_mmio_read;
    w->mem.mmio_write = w_mmio_write;
    memset(w->code_bitmap, 0x55, sizeof(w->code_bitmap));
    w->mem.code_bitmap = w->code_bitmap;
    w->mem.code_write = w_code_write;
    w->mem.cpu = &w->cpu;
    w->e.cpu = &w->cpu;
    w->e.mem = &w->mem;
    w->e.io = (struct engine_io){ w, w_in, w_out, w_tsc };

    engine_flat32(&w->cpu, 0);
    for (unsigned r = 0; r < 8; r++)
        w->cpu.r[r] = le32(data + 4 * r);
    /* keep ESP mostly inside RAM so stack instructions do something interesting */
    if (!(data[35] & 0x80))
        w->cpu.r[IR_ESP] = (w->cpu.r[IR_ESP] & 0xFFFC) | 0x100;
    cpu_set_eflags(&w->cpu, le32(data + 32), CPU_ARITH_FLAGS | CPU_DF);
    w->cpu.eip = 0x1000;
    data += 36;
    size -= 36;

    for (unsigned n = 0; n < MAX_INSNS && size >= sizeof(struct ir_insn); n++) {
        struct ir_insn in;
        memcpy(&in, data, sizeof(in));
        run_one(w, &in);
        normalise(&in);
        run_one(w, &in);
        data += sizeof(in);
        size -= sizeof(in);
    }
    free(w->ram);
    free(w);
    return 0;
}
