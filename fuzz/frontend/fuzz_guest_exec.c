/*
 * fuzz_guest_exec.c - random guest code, run by the whole in-process pipeline (front-end,
 * block cache, engine, exception delivery) in flat 32-bit protected mode at CPL 0 or 3, for a
 * bounded number of instructions. No crash, no sanitizer report, no access outside guest RAM
 * (RAM is an exactly-sized heap buffer, so ASan sees any overrun).
 * Input: byte 0 selects CPL/mode bits, bytes 1..4 the initial ESP, the rest is code at 0x1000.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "translator/frontend.h"
#include "vcpu/run.h"

#define RAM (64 * 1024)

static uint32_t io_in(void *ctx, uint16_t port, unsigned size)
{
    (void)ctx;
    return port * 0x01010101u & (size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
}
static void io_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    (void)ctx, (void)port, (void)size, (void)value;
}
static uint64_t io_tsc(void *ctx)
{
    (void)ctx;
    return 12345;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vcpu v;
    static struct fe_inproc fe;
    if (size < 5)
        return 0;
    uint8_t *ram = malloc(RAM);
    if (!ram)
        return 0;
    memset(ram, 0, RAM);
    memcpy(ram + 0x1000, data + 5, size - 5 < RAM - 0x1000 ? size - 5 : RAM - 0x1000);
    if (vcpu_init(&v, ram, RAM, 1 << 20) < 0)
        abort();
    fe.ram = ram;
    fe.ram_size = RAM;
    v.src.ctx = &fe;
    v.src.translate = fe_translate_inproc;
    v.eng.io = (struct engine_io){NULL, io_in, io_out, io_tsc};
    engine_flat32(&v.cpu, (data[0] & 1) ? 3 : 0);
    uint32_t esp;
    memcpy(&esp, data + 1, 4);
    v.cpu.r[IR_ESP] = esp % RAM;
    v.cpu.eip = 0x1000;
    /* An IDT at 0 of zeros: every exception escalates to a triple fault, which ends the run. */
    for (int slice = 0; slice < 4; slice++) {
        int stop = vcpu_run(&v, 500);
        if (stop != VCPU_BUDGET)
            break;
    }
    vcpu_free(&v);
    free(ram);
    return 0;
}
