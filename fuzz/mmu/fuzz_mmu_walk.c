/*
 * fuzz_mmu_walk.c - libFuzzer harness for the reference page walker (mmu/walk.c).
 *
 * Input: 17-byte header, then guest RAM.
 *   byte 0      bits 0-1 access (0 read, 1 write, 2 and 3 fetch), bits 2-3 CPL, bit 4 CR3
 *               steering (CR3 is folded into RAM), bits 5-7 RAM size: 0-2 whole pages of the
 *               rest, 3-6 the rest exactly (any length, so entries can straddle the end), 7 none
 *   bytes 1-16  CR0, CR3, CR4, linear address (little-endian)
 * RAM is an exactly-sized heap buffer, so ASan reports any read or write outside it.
 *
 * Checked (trap on violation):
 *  - the result is a translation or a #PF, never an error (single-threaded, valid arguments);
 *  - a walk with set_ad gives the same outcome as one without, and so does a second walk after;
 *  - without set_ad, and on any #PF, RAM is unchanged; with set_ad on a translation, only the
 *    PDE and PTE words change, only by gaining A (and D for a write, in the entry that maps the
 *    page);
 *  - the outcome equals an independent restatement of SDM 4.3/4.6/4.7 written here;
 *  - error codes: W exactly for writes, U exactly for CPL 3, RSVD only with P and CR4.PSE.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/walk.h"
#include "vcpu/cpu.h"

#define HDR 17

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t entry_at(const uint8_t *ram, size_t size, uint32_t addr)
{
    if (size < 4 || (uint64_t)addr > size - 4)
        return 0xFFFFFFFFu;
    return le32(ram + addr);
}

struct expect {
    int rc;
    uint32_t phys, err;
};

/* The oracle: 32-bit paging, no PSE-36/PAT/PAE/NX/SMEP/SMAP, stated as directly as possible. */
static struct expect oracle(const uint8_t *ram, size_t size, uint32_t cr0, uint32_t cr3,
                            uint32_t cr4, uint32_t lin, enum mmu_access acc, unsigned cpl)
{
    struct expect e = {0, lin, 0};
    int user = cpl == 3, write = acc == MMU_WRITE;
    uint32_t code = (write ? 2u : 0u) | (user ? 4u : 0u);
    if ((cr0 & 0x80000001u) != 0x80000001u)
        return e;
    uint32_t pde = entry_at(ram, size, (cr3 & ~0xFFFu) + (lin >> 22) * 4);
    int pse = (cr4 >> 4) & 1;
    if (!(pde & 1))
        return (struct expect){1, 0, code};
    uint32_t us, rw;
    if (pse && (pde & 0x80)) {
        if (pde & 0x003FF000u)
            return (struct expect){1, 0, code | 1 | 8};
        us = pde & 4;
        rw = pde & 2;
        e.phys = (pde & 0xFFC00000u) + (lin & 0x003FFFFFu);
    } else {
        uint32_t pte = entry_at(ram, size, (pde & ~0xFFFu) + ((lin >> 12) & 0x3FF) * 4);
        if (!(pte & 1))
            return (struct expect){1, 0, code};
        if (pse && (pte & 0x80))
            return (struct expect){1, 0, code | 1 | 8};
        us = pde & pte & 4;
        rw = pde & pte & 2;
        e.phys = (pte & ~0xFFFu) + (lin & 0xFFFu);
    }
    int ok;
    if (user)
        ok = us && (!write || rw);
    else
        ok = !write || rw || !(cr0 & 0x10000u);
    if (!ok)
        return (struct expect){1, 0, code | 1};
    return e;
}

static void same(int rc1, const struct mmu_walk_info *a, int rc2, const struct mmu_walk_info *b)
{
    if (rc1 != rc2)
        __builtin_trap();
    if (rc1 == MMU_WALK_OK && a->phys != b->phys)
        __builtin_trap();
    if (rc1 == MMU_WALK_PF && a->pf_error != b->pf_error)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HDR)
        return 0;
    const uint8_t ctl = data[0];
    enum mmu_access acc = (ctl & 3) == 3 ? MMU_FETCH : (enum mmu_access)(ctl & 3);
    unsigned cpl = (ctl >> 2) & 3;
    uint32_t cr0 = le32(data + 1), cr3 = le32(data + 5), cr4 = le32(data + 9);
    uint32_t lin = le32(data + 13);
    size_t rest = size - HDR, ram_size;
    switch (ctl >> 5) {
    case 0: case 1: case 2: ram_size = rest & ~(size_t)4095; break;
    case 7: ram_size = 0; break;
    default: ram_size = rest; break;
    }
    if (ctl & 16) {
        size_t pages = ram_size / 4096 + 1;
        cr3 = (uint32_t)(((cr3 >> 12) % pages) << 12) | (cr3 & 0xFFFu);
    }
    uint8_t *ram = malloc(ram_size ? ram_size : 1);
    uint8_t *orig = malloc(ram_size ? ram_size : 1);
    if (ram == NULL || orig == NULL)
        abort();
    memcpy(ram, data + HDR, ram_size);
    memcpy(orig, ram, ram_size);

    struct mmu_walk_args a = {ram, ram_size, cr0, cr3, cr4, lin, acc, cpl, false};
    struct mmu_walk_info w1, w2, w3;
    int rc1 = mmu_walk_ex(&a, &w1);
    if (rc1 != MMU_WALK_OK && rc1 != MMU_WALK_PF)
        __builtin_trap();
    if (memcmp(ram, orig, ram_size) != 0)
        __builtin_trap();

    struct expect e = oracle(orig, ram_size, cr0, cr3, cr4, lin, acc, cpl);
    if (e.rc != rc1 || (rc1 == MMU_WALK_OK ? e.phys != w1.phys : e.err != w1.pf_error))
        __builtin_trap();
    if (rc1 == MMU_WALK_PF) {
        uint32_t err = w1.pf_error;
        if ((err & ~0xFu) || !!(err & MMU_PF_W) != (acc == MMU_WRITE) ||
            !!(err & MMU_PF_U) != (cpl == 3))
            __builtin_trap();
        if ((err & MMU_PF_RSVD) && (!(err & MMU_PF_P) || !(cr4 & CPU_CR4_PSE)))
            __builtin_trap();
    }

    a.set_ad = true;
    int rc2 = mmu_walk_ex(&a, &w2);
    same(rc1, &w1, rc2, &w2);
    /* what may have changed: A (and D) in the two entries of a translating walk */
    for (size_t off = 0; off + 4 <= ram_size; off += 4) {
        uint32_t before = le32(orig + off), after = le32(ram + off);
        if (before == after)
            continue;
        bool is_pde = rc2 == MMU_WALK_OK && off == w2.pde_addr;
        bool is_pte = rc2 == MMU_WALK_OK && w2.has_pte && off == w2.pte_addr;
        uint32_t allowed = 0;
        if (is_pde)
            allowed |= MMU_E_A | (w2.big && acc == MMU_WRITE ? MMU_E_D : 0);
        if (is_pte)
            allowed |= MMU_E_A | (acc == MMU_WRITE ? MMU_E_D : 0);
        if ((after & ~before) & ~allowed || (before & ~after))
            __builtin_trap();
    }
    for (size_t off = ram_size & ~(size_t)3; off < ram_size; off++) {
        if (ram[off] != orig[off]) /* the tail that holds no whole entry is never written */
            __builtin_trap();
    }
    if (rc2 == MMU_WALK_OK && acc == MMU_WRITE && !w2.dirty)
        __builtin_trap();

    a.set_ad = false;
    int rc3 = mmu_walk_ex(&a, &w3);
    same(rc1, &w1, rc3, &w3);
    /* once A/D are set a second walk with set_ad writes nothing */
    memcpy(orig, ram, ram_size);
    a.set_ad = true;
    rc3 = mmu_walk_ex(&a, &w3);
    same(rc1, &w1, rc3, &w3);
    if (memcmp(ram, orig, ram_size) != 0)
        __builtin_trap();

    free(ram);
    free(orig);
    return 0;
}
