/*
 * images.c - builders of synthetic guest images for the loader tests (see images.h). Test code:
 * inputs are the tests' own, allocation failures abort.
 */
#include "tests/loader/images.h"

#include <stdlib.h>
#include <string.h>

void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static void *xcalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        abort();
    return p;
}

void bz_defaults(struct bz_opts *o)
{
    memset(o, 0, sizeof *o);
    o->version = 0x020F;
    o->setup_sects = 4;
    o->hdr_jump = 0x6A; /* header ends at 0x26C, as in Linux 6.1 */
    o->pm_size = 64 * 1024;
    o->loadflags = 0x01;
    o->code32_start = 0x100000;
    o->initrd_addr_max = 0x37FFFFFF;
    o->kernel_alignment = 0x200000;
    o->relocatable = 0;
    o->cmdline_size = 2047;
    o->pref_address = 0x100000;
    o->init_size = 256 * 1024;
}

size_t bz_setup_off(const struct bz_opts *o)
{
    return (size_t)((o->setup_sects ? o->setup_sects : 4) + 1) * 512;
}

uint8_t *bz_build(const struct bz_opts *o, size_t *size)
{
    size_t setup = bz_setup_off(o);
    *size = setup + o->pm_size + o->trailing;
    uint8_t *k = xcalloc(*size);
    memset(k, 0xCC, setup);
    memset(k + 0x1F1, 0, 0x290 - 0x1F1);
    k[0x1F1] = o->setup_sects;
    put16(k + 0x1F2, 1); /* root_flags */
    put32(k + 0x1F4, o->pm_size / 16);
    put16(k + 0x1FA, 0xFFFF); /* vid_mode */
    put16(k + 0x1FC, 0x0801); /* root_dev */
    put16(k + 0x1FE, 0xAA55);
    k[0x200] = 0xEB;
    k[0x201] = o->hdr_jump;
    memcpy(k + 0x202, "HdrS", 4);
    put16(k + 0x206, o->version);
    put16(k + 0x20E, 0x0200); /* kernel_version */
    k[0x211] = o->loadflags;
    put32(k + 0x214, o->code32_start);
    put32(k + 0x22C, o->initrd_addr_max);
    put32(k + 0x230, o->kernel_alignment);
    k[0x234] = o->relocatable;
    k[0x235] = 0x0D; /* min_alignment */
    put16(k + 0x236, o->xloadflags);
    put32(k + 0x238, o->cmdline_size);
    put64(k + 0x258, o->pref_address);
    put32(k + 0x260, o->init_size);
    /* Whatever lies past the header in the file is setup code, never header. */
    size_t hdr_end = 0x202u + o->hdr_jump;
    if (hdr_end < 0x290)
        memset(k + hdr_end, 0xCC, 0x290 - hdr_end);
    for (size_t i = 0; i < (size_t)o->pm_size + o->trailing; i++)
        k[setup + i] = img_pattern(i);
    return k;
}

static void mb_header(uint8_t *h, uint32_t flags)
{
    put32(h, MBT_MAGIC);
    put32(h + 4, flags);
    put32(h + 8, (uint32_t)(0u - MBT_MAGIC - flags));
}

uint8_t *mb_build_elf(uint32_t flags, uint32_t entry, const struct mb_seg *segs, unsigned nseg,
                      size_t size)
{
    size_t min = MBT_HDR_OFF + 12;
    if (size < min)
        size = min;
    uint8_t *f = xcalloc(size);
    for (size_t i = 0; i < size; i++)
        f[i] = img_pattern(i);
    memset(f, 0, min);
    memcpy(f,
           "\x7f"
           "ELF",
           4);
    f[4] = 1; /* ELFCLASS32 */
    f[5] = 1; /* little-endian */
    f[6] = 1;
    put16(f + 16, 2); /* ET_EXEC */
    put16(f + 18, 3); /* EM_386 */
    put32(f + 20, 1);
    put32(f + 24, entry);
    put32(f + 28, 52);
    put16(f + 40, 52);
    put16(f + 42, 32);
    put16(f + 44, (uint16_t)nseg);
    for (unsigned i = 0; i < nseg && 52 + 32 * (i + 1) <= MBT_HDR_OFF; i++) {
        uint8_t *ph = f + 52 + 32 * i;
        put32(ph, segs[i].type);
        put32(ph + 4, segs[i].offset);
        put32(ph + 8, segs[i].vaddr);
        put32(ph + 12, segs[i].paddr);
        put32(ph + 16, segs[i].filesz);
        put32(ph + 20, segs[i].memsz);
        put32(ph + 24, 7);
        put32(ph + 28, 0x1000);
    }
    mb_header(f + MBT_HDR_OFF, flags);
    return f;
}

uint8_t *mb_build_aout(uint32_t flags, uint32_t header_addr, uint32_t load_addr,
                       uint32_t load_end_addr, uint32_t bss_end_addr, uint32_t entry, size_t size)
{
    if (size < MBT_HDR_OFF + 32)
        size = MBT_HDR_OFF + 32;
    uint8_t *f = xcalloc(size);
    for (size_t i = 0; i < size; i++)
        f[i] = img_pattern(i);
    uint8_t *h = f + MBT_HDR_OFF;
    mb_header(h, flags | (1u << 16));
    put32(h + 12, header_addr);
    put32(h + 16, load_addr);
    put32(h + 20, load_end_addr);
    put32(h + 24, bss_end_addr);
    put32(h + 28, entry);
    return f;
}
