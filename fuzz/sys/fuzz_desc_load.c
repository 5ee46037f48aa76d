/*
 * fuzz_desc_load.c - libFuzzer harness for the engine's system paths: random GDT/LDT/IDT/TSS
 * memory and CPU system state, then a short program of segment loads, far transfers, IRET,
 * software interrupts, descriptor-table instructions and exception/interrupt deliveries.
 *
 * Invariants: no crash or sanitizer report (in particular no host access outside the RAM
 * buffer, which is allocated at its exact size so ASan sees any overrun); every engine result is
 * a known ENG_* value; CPL stays 0..3; an exception reported by engine_exec is a valid vector.
 *
 * Input layout: bytes [0, HDR) configure the CPU (see load_config), [HDR, HDR + 8 * NOPS) are
 * the operations, the rest is copied into RAM from address 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/exec.h"

#define RAM_SIZE (64u * 1024u)
#define HDR 64u
#define NOPS 12u

struct fz {
    struct cpu_state cpu;
    struct vmem mem;
    struct engine e;
};

static uint32_t mmio_read(void *ctx, uint32_t phys, unsigned size)
{
    (void)ctx;
    return (phys * 0x9E3779B1u) & (size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
}

static void mmio_write(void *ctx, uint32_t phys, unsigned size, uint32_t value)
{
    (void)ctx, (void)phys, (void)size, (void)value;
}

static uint32_t port_in(void *ctx, uint16_t port, unsigned size)
{
    (void)ctx, (void)size;
    return port * 3u;
}

static void port_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    (void)ctx, (void)port, (void)size, (void)value;
}

static uint64_t tsc(void *ctx)
{
    (void)ctx;
    return 12345;
}

static uint32_t u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Build the CPU state from the header: tables, TR/LDTR caches, mode, CPL, flags. */
static void load_config(struct cpu_state *cpu, const uint8_t *h)
{
    unsigned cpl = (h[0] >> 3) & 3;
    engine_flat32(cpu, cpl == 3 ? 3 : 0);
    cpu->cpl = (uint8_t)cpl;
    if (!(h[0] & 1))
        cpu->cr0 &= ~CPU_CR0_PE;
    if ((h[0] & 2) && (h[0] & 1))
        cpu->eflags |= CPU_VM;
    if ((h[0] & 4) && (h[0] & 1)) {
        cpu->cr0 |= CPU_CR0_PG;
        cpu->cr3 = u32(h + 40) & 0xFFFFF018u;
        cpu->cr4 = h[44] & (CPU_CR4_PSE | CPU_CR4_PGE);
    }
    if (h[0] & 0x20)
        cpu->eflags |= CPU_NT;
    cpu->eflags |= (uint32_t)(h[0] >> 6) << 12;
    cpu->gdtr.limit = u16(h + 1);
    cpu->gdtr.base = u32(h + 3);
    cpu->idtr.limit = u16(h + 7);
    cpu->idtr.base = u32(h + 9);
    uint32_t ldt[2] = {u32(h + 13), u32(h + 17)};
    seg_from_desc(&cpu->ldtr, u16(h + 21), ldt);
    uint32_t tss[2] = {u32(h + 23), u32(h + 27)};
    seg_from_desc(&cpu->tr, u16(h + 31), tss);
    for (unsigned s = 0; s < IR_NSREG; s++) {
        /* perturb each cached segment a little: attributes and limit */
        cpu->seg[s].attr ^= (uint32_t)(h[33 + s] & 0x7F);
        if (h[33 + s] & 0x80)
            cpu->seg[s].limit = 0xFFFFu;
    }
    cpu->r[IR_ESP] = u32(h + 45);
    cpu->eip = u16(h + 49);
    cpu->sysenter_cs = u16(h + 51);
    cpu->sysenter_esp = u32(h + 53);
    cpu->sysenter_eip = u32(h + 57);
    cpu->dr[7] |= (uint32_t)(h[61] & 1) << 13;
}

static void make_insn(struct ir_insn *in, unsigned op, unsigned osize)
{
    memset(in, 0, sizeof *in);
    in->op = (uint16_t)op;
    in->len = 2;
    in->osize = (uint8_t)osize;
    in->asize = 4;
    in->mem.base = IR_NOREG;
    in->mem.index = IR_NOREG;
    in->mem.seg = IR_DS;
}

/* One operation: 8 bytes = kind, arg (2), arg2 (4), size flag. */
static int run_op(struct fz *f, const uint8_t *op)
{
    struct engine *e = &f->e;
    struct ir_insn in;
    unsigned osize = (op[7] & 1) ? 2 : 4;
    uint16_t sel = u16(op + 1);
    uint32_t arg = u32(op + 3);
    static const unsigned simple[] = {IR_RETF, IR_IRET, IR_INT3, IR_INTO, IR_INT1, IR_SYSENTER,
                                      IR_SYSEXIT, IR_CLI, IR_STI, IR_HLT, IR_CLTS, IR_RDMSR,
                                      IR_WRMSR, IR_CPUID, IR_RDTSC, IR_INVD};
    static const unsigned r16ops[] = {IR_LLDT, IR_LTR, IR_VERR, IR_VERW, IR_LMSW, IR_SLDT,
                                      IR_STR, IR_SMSW};
    static const unsigned memops[] = {IR_LGDT, IR_LIDT, IR_SGDT, IR_SIDT, IR_JMP_FAR_IND,
                                      IR_CALL_FAR_IND, IR_LFP, IR_BOUND};
    switch (op[0] % 12) {
    case 0:
        return seg_load(e, op[7] % IR_NSREG, sel);
    case 1:
        make_insn(&in, (op[7] & 2) ? IR_CALL_FAR : IR_JMP_FAR, osize);
        in.imm = arg;
        in.imm2 = sel;
        return engine_exec(e, &in);
    case 2:
        make_insn(&in, simple[sel % (sizeof simple / sizeof simple[0])], osize);
        in.imm = arg & 0xFFFF;
        f->cpu.r[IR_ECX] = arg;
        return engine_exec(e, &in);
    case 3:
        make_insn(&in, IR_INT, osize);
        in.imm = op[1];
        return engine_exec(e, &in);
    case 4: {
        struct engine_exc x = {op[1], (uint8_t)(op[2] & 1), 0, 0, arg};
        return engine_deliver(e, &x, (op[7] & 2) != 0);
    }
    case 5:
        make_insn(&in, r16ops[op[7] % (sizeof r16ops / sizeof r16ops[0])], osize);
        in.opd[0] = (struct ir_operand){IR_OPK_REG, 2, IR_EAX, 0};
        f->cpu.r[IR_EAX] = sel;
        return engine_exec(e, &in);
    case 6:
        make_insn(&in, (op[7] & 2) ? IR_LSL : IR_LAR, osize);
        in.opd[0] = (struct ir_operand){IR_OPK_REG, (uint8_t)osize, IR_EBX, 0};
        in.opd[1] = (struct ir_operand){IR_OPK_REG, 2, IR_EAX, 0};
        f->cpu.r[IR_EAX] = sel;
        return engine_exec(e, &in);
    case 7:
        make_insn(&in, memops[op[7] % (sizeof memops / sizeof memops[0])], osize);
        in.opd[0] = (struct ir_operand){IR_OPK_MEM, (uint8_t)osize, 0, 0};
        if (in.op == IR_LFP || in.op == IR_BOUND) {
            in.opd[1] = in.opd[0];
            in.opd[0] = (struct ir_operand){IR_OPK_REG, (uint8_t)osize, IR_ESI, 0};
            in.opd[2] = (struct ir_operand){IR_OPK_SREG, 2, (uint8_t)(sel % IR_NSREG), 0};
        }
        in.mem.seg = (uint8_t)(sel % IR_NSREG);
        in.mem.disp = (int32_t)arg;
        return engine_exec(e, &in);
    case 8:
        make_insn(&in, (op[7] & 2) ? IR_OUT : IR_IN, (op[7] & 4) ? 4 : 1);
        f->cpu.r[IR_EDX] = sel;
        in.opd[0] = (struct ir_operand){IR_OPK_REG, in.osize, IR_EAX, 0};
        in.opd[1] = (struct ir_operand){IR_OPK_REG, 2, IR_EDX, 0};
        if (in.op == IR_OUT) {
            struct ir_operand t = in.opd[0];
            in.opd[0] = in.opd[1];
            in.opd[1] = t;
        }
        return engine_exec(e, &in);
    case 9:
        make_insn(&in, (op[7] & 2) ? IR_OUTS : IR_INS, 1);
        in.prefix = IR_PF_REP;
        f->cpu.r[IR_EDX] = sel;
        f->cpu.r[IR_ECX] = arg & 0xFF;
        f->cpu.r[IR_EDI] = f->cpu.r[IR_ESI] = arg >> 8;
        return engine_exec(e, &in);
    case 10:
        make_insn(&in, (op[7] & 2) ? IR_MOV_TO_CR : IR_MOV_TO_DR, 4);
        in.opd[0] = (struct ir_operand){(op[7] & 2) ? IR_OPK_CREG : IR_OPK_DREG, 4,
                                        (uint8_t)(op[1] & 7), 0};
        in.opd[1] = (struct ir_operand){IR_OPK_REG, 4, IR_EAX, 0};
        f->cpu.r[IR_EAX] = arg;
        return engine_exec(e, &in);
    default:
        make_insn(&in, IR_MOV_SREG, 2);
        in.opd[0] = (struct ir_operand){IR_OPK_SREG, 2, (uint8_t)(op[7] % IR_NSREG), 0};
        in.opd[1] = (struct ir_operand){IR_OPK_REG, 2, IR_EAX, 0};
        f->cpu.r[IR_EAX] = sel;
        return engine_exec(e, &in);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HDR + 8)
        return 0;
    uint8_t *ram = calloc(1, RAM_SIZE);
    struct fz *f = calloc(1, sizeof *f);
    if (!ram || !f)
        abort();
    size_t nops = (size - HDR) / 8 < NOPS ? (size - HDR) / 8 : NOPS;
    size_t body = HDR + 8 * nops;
    if (size > body)
        memcpy(ram, data + body, size - body < RAM_SIZE ? size - body : RAM_SIZE);
    f->mem = (struct vmem){.ram = ram, .ram_size = RAM_SIZE, .mmio_read = mmio_read,
                           .mmio_write = mmio_write, .cpu = &f->cpu};
    f->e.cpu = &f->cpu;
    f->e.mem = &f->mem;
    f->e.io = (struct engine_io){NULL, port_in, port_out, tsc};
    load_config(&f->cpu, data);

    for (size_t i = 0; i < nops; i++) {
        int rc = run_op(f, data + HDR + 8 * i);
        if (rc < ENG_OK || rc > ENG_END_BLOCK)
            abort();
        if (rc == ENG_EXCEPTION) {
            if (f->e.exc.vector > 31 && !f->e.exc.soft)
                abort();
            struct engine_exc x = f->e.exc;
            rc = engine_deliver(&f->e, &x, false);
        }
        if (f->cpu.cpl > 3)
            abort();
        if (rc == ENG_TRIPLE)
            break;
    }
    free(f);
    free(ram);
    return 0;
}
