/*
 * sys_harness.c - the test machine of sys_harness.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/sys/sys_harness.h"

static uint32_t io_in(void *ctx, uint16_t port, unsigned size)
{
    struct th *t = ctx;
    t->n_in++;
    t->last_in_port = port;
    return t->in_value + size; /* distinct per size so tests see which size was used */
}

static void io_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    struct th *t = ctx;
    if (t->n_out < sizeof t->outs / sizeof t->outs[0])
        t->outs[t->n_out] = (struct th_out){port, size, value};
    t->n_out++;
}

static uint64_t io_tsc(void *ctx)
{
    struct th *t = ctx;
    return t->host_tsc;
}

uint32_t th_rd32(const struct th *t, uint32_t phys)
{
    const uint8_t *p = t->ram + phys;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint16_t th_rd16(const struct th *t, uint32_t phys)
{
    return (uint16_t)(t->ram[phys] | t->ram[phys + 1] << 8);
}

uint8_t th_rd8(const struct th *t, uint32_t phys)
{
    return t->ram[phys];
}

void th_wr32(struct th *t, uint32_t phys, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        t->ram[phys + i] = (uint8_t)(v >> (8 * i));
}

void th_wr16(struct th *t, uint32_t phys, uint16_t v)
{
    t->ram[phys] = (uint8_t)v;
    t->ram[phys + 1] = (uint8_t)(v >> 8);
}

void th_desc(struct th *t, uint32_t table, unsigned idx, uint32_t base, uint32_t limit,
             uint8_t acc, uint8_t flags)
{
    uint32_t lo = (limit & 0xFFFF) | (base & 0xFFFF) << 16;
    uint32_t hi = ((base >> 16) & 0xFF) | (uint32_t)acc << 8 | (limit & 0xF0000) |
                  (uint32_t)(flags & 0xF) << 20 | (base & 0xFF000000u);
    th_wr32(t, table + idx * 8, lo);
    th_wr32(t, table + idx * 8 + 4, hi);
}

void th_gate(struct th *t, uint32_t table, unsigned idx, uint16_t sel, uint32_t off, uint8_t type,
             unsigned params)
{
    th_wr32(t, table + idx * 8, (off & 0xFFFF) | (uint32_t)sel << 16);
    th_wr32(t, table + idx * 8 + 4, (off & 0xFFFF0000u) | (uint32_t)type << 8 | (params & 0x1F));
}

void th_seg(struct th *t, unsigned seg, uint16_t sel)
{
    uint32_t table = (sel & 4) ? TH_LDT : TH_GDT;
    uint32_t raw[2] = {th_rd32(t, table + (sel & ~7u)), th_rd32(t, table + (sel & ~7u) + 4)};
    seg_from_desc(&t->cpu.seg[seg], sel, raw);
}

static struct th *th_alloc(void)
{
    struct th *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->ram = calloc(1, TH_RAM_SIZE);
    if (!t->ram)
        abort();
    t->mem.ram = t->ram;
    t->mem.ram_size = TH_RAM_SIZE;
    t->mem.cpu = &t->cpu;
    t->e.cpu = &t->cpu;
    t->e.mem = &t->mem;
    t->e.io = (struct engine_io){t, io_in, io_out, io_tsc};
    t->in_value = 0x11223300;
    return t;
}

struct th *th_new(unsigned cpl)
{
    struct th *t = th_alloc();
    engine_flat32(&t->cpu, cpl);
    th_gdt(t, 1, 0, 0xFFFFF, ACC_CODE(0), 0xC);
    th_gdt(t, 2, 0, 0xFFFFF, ACC_DATA(0), 0xC);
    th_gdt(t, 3, 0, 0xFFFFF, ACC_CODE(3), 0xC);
    th_gdt(t, 4, 0, 0xFFFFF, ACC_DATA(3), 0xC);
    th_gdt(t, 5, TH_TSS, TH_TSS_LIMIT, 0x8B, 0); /* busy: it is the current task */
    th_gdt(t, 6, TH_LDT, 32 * 8 - 1, ACC_LDT, 0);
    th_gdt(t, 7, 0, 0xFFFFF, ACC_CODE(1), 0xC);
    th_gdt(t, 8, 0, 0xFFFFF, ACC_DATA(1), 0xC);
    th_gdt(t, 9, TH_TSS2, 0x67, ACC_TSS32, 0);
    th_gdt(t, 10, 0, 0xFFFF, ACC_CODE(0), 0x0);
    th_gdt(t, 11, 0, 0xFFFF, ACC_DATA(0), 0x0);
    t->cpu.gdtr.base = TH_GDT;
    t->cpu.gdtr.limit = 64 * 8 - 1;
    t->cpu.idtr.base = TH_IDT;
    t->cpu.idtr.limit = 256 * 8 - 1;
    /* TSS: ring 0/1/2 stacks, I/O bitmap all denied except what tests open */
    th_wr32(t, TH_TSS + 4, TH_STACK0);
    th_wr32(t, TH_TSS + 8, SEL_DATA0);
    th_wr32(t, TH_TSS + 12, TH_STACK1);
    th_wr32(t, TH_TSS + 16, SEL_DATA1);
    th_wr16(t, TH_TSS + 0x66, TH_TSS_IOMAP);
    memset(t->ram + TH_TSS + TH_TSS_IOMAP, 0xFF, 8193);
    th_seg(t, IR_CS, cpl ? SEL_CODE3 : SEL_CODE0);
    for (unsigned s = 0; s < IR_NSREG; s++)
        if (s != IR_CS)
            th_seg(t, s, cpl ? SEL_DATA3 : SEL_DATA0);
    uint32_t tr[2] = {th_rd32(t, TH_GDT + 40), th_rd32(t, TH_GDT + 44)};
    seg_from_desc(&t->cpu.tr, SEL_TSS, tr);
    uint32_t ldt[2] = {th_rd32(t, TH_GDT + 48), th_rd32(t, TH_GDT + 52)};
    seg_from_desc(&t->cpu.ldtr, SEL_LDT, ldt);
    t->cpu.cpl = (uint8_t)cpl;
    t->cpu.r[IR_ESP] = cpl ? TH_STACK3 : TH_STACK0;
    t->cpu.eip = TH_CODE;
    return t;
}

struct th *th_new_real(void)
{
    struct th *t = th_alloc();
    engine_reset(&t->cpu);
    seg_load_real(&t->cpu, IR_CS, 0x1000);
    t->cpu.eip = 0;
    seg_load_real(&t->cpu, IR_SS, 0);
    t->cpu.r[IR_ESP] = 0x8000;
    t->cpu.cr0 = CPU_CR0_ET;
    t->cpu.idtr.base = 0;
    t->cpu.idtr.limit = 0x3FF;
    return t;
}

void th_free(struct th *t)
{
    free(t->ram);
    free(t);
}

int th_teardown(void **state)
{
    if (*state)
        th_free(*state);
    *state = NULL;
    return 0;
}

struct ir_insn th_insn(unsigned op, unsigned len, unsigned osize)
{
    struct ir_insn in;
    memset(&in, 0, sizeof in);
    in.op = (uint16_t)op;
    in.len = (uint8_t)len;
    in.osize = (uint8_t)osize;
    in.asize = osize == 2 ? 2 : 4;
    in.mem.base = IR_NOREG;
    in.mem.index = IR_NOREG;
    in.mem.seg = IR_DS;
    return in;
}

struct ir_insn th_insn_mem(unsigned op, unsigned osize, unsigned seg, uint32_t disp)
{
    struct ir_insn in = th_insn(op, 6, osize);
    in.asize = 4;
    in.opd[0].kind = IR_OPK_MEM;
    in.opd[0].size = (uint8_t)osize;
    in.mem.seg = (uint8_t)seg;
    in.mem.disp = (int32_t)disp;
    return in;
}

int th_exec(struct th *t, const struct ir_insn *in)
{
    return engine_exec(&t->e, in);
}

int th_deliver(struct th *t)
{
    struct engine_exc x = t->e.exc;
    return engine_deliver(&t->e, &x, false);
}

uint32_t th_flags(struct th *t)
{
    return cpu_get_eflags(&t->cpu);
}
