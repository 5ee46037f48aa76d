/*
 * fuzz_mmu_shadow.c - libFuzzer harness for shadow maintenance (mmu/shadow.c) through the
 * differential simulator of tests/mmu/mmu_sim.c.
 *
 * Input: byte 0 sizes (bits 0-2: RAM pages 4 + 4n; bits 3-4: region pages 3, 5, 9, 17;
 * bits 5-7: cached roots 1 + n, 0 meaning the default), byte 1 initial CR4.PSE/PGE and CR0.WP,
 * bytes 2-9 seed for the generated page tables, then up to MAX_RAM_BYTES bytes laid over the
 * start of RAM (length in byte 10 times 16), then 8-byte operations for sim_random_op: accesses
 * through the shadow, stores to page tables and code, INVLPG, CR3 switches, WP/PSE/PGE changes,
 * paging off, physical stores, code marks, flushes.
 *
 * Checked after every operation (trap on violation): the invariant checker (every shadow entry
 * equals a fresh walk, bookkeeping consistent), and that the shadow-driven guest and the
 * TLB-less reference agree on every outcome and on every byte of RAM.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/mmu/mmu_sim.h"
#include "vcpu/cpu.h"

#define MAX_OPS 400

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t region_pages[] = {3, 5, 9, 17};
    struct sim s;
    if (size < 11)
        return 0;
    uint32_t ram_pages = 4 + 4 * (data[0] & 7);
    unsigned roots = (data[0] >> 5) ? (unsigned)(data[0] >> 5) : 0;
    if (sim_init(&s, ram_pages, region_pages[(data[0] >> 3) & 3], roots) != 0)
        __builtin_trap();
    uint64_t seed = 0;
    for (int i = 0; i < 8; i++)
        seed |= (uint64_t)data[2 + i] << (8 * i);
    sim_fill_tables(&s, seed);
    size_t overlay = (size_t)data[10] * 16, pos = 11;
    if (overlay > size - pos)
        overlay = size - pos;
    if (overlay > s.ram_size)
        overlay = s.ram_size;
    memcpy(s.ram, data + pos, overlay);
    memcpy(s.ref, data + pos, overlay);
    pos += overlay;

    uint32_t cr0 = CPU_CR0_PG | CPU_CR0_PE | ((data[1] & 4) ? CPU_CR0_WP : 0);
    uint32_t cr4 = ((data[1] & 1) ? CPU_CR4_PSE : 0) | ((data[1] & 2) ? CPU_CR4_PGE : 0);
    if (sim_set_cr(&s, cr0, (uint32_t)(data[1] >> 4) << 12, cr4) != 0)
        goto broken;
    for (unsigned n = 0; n < MAX_OPS && size - pos >= 8; n++, pos += 8) {
        uint64_t r = 0;
        for (int i = 0; i < 8; i++)
            r |= (uint64_t)data[pos + i] << (8 * i);
        if (sim_random_op(&s, r) != 0)
            goto broken;
    }
    sim_fini(&s);
    return 0;
broken:
    fprintf(stderr, "mmu_shadow: %s\n", s.msg);
    __builtin_trap();
}
