/*
 * images.h - synthetic guest images for the loader tests: bzImages with a chosen setup header,
 * Multiboot ELF32 kernels and a.out-kludge kernels. Every payload byte is a known function of its
 * offset (img_pattern), so a test can tell which file bytes landed where.
 */
#ifndef CLOISTER_TESTS_LOADER_IMAGES_H
#define CLOISTER_TESTS_LOADER_IMAGES_H

#include <stddef.h>
#include <stdint.h>

/* The byte a synthetic image carries at file offset `off` of its payload. */
static inline uint8_t img_pattern(size_t off) { return (uint8_t)(off * 7 + 3 + (off >> 9)); }

void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);
void put64(uint8_t *p, uint64_t v);
uint16_t get16(const uint8_t *p);
uint32_t get32(const uint8_t *p);
uint64_t get64(const uint8_t *p);

/* ---- bzImage ---- */
struct bz_opts {
    uint16_t version;    /* boot protocol, e.g. 0x020F */
    uint8_t setup_sects; /* as stored (0 means 4) */
    uint8_t hdr_jump;    /* byte at 0x201: the header ends at 0x202 + this */
    uint32_t pm_size;    /* protected-mode bytes, a multiple of 16 (syssize = pm_size/16) */
    size_t trailing;     /* bytes after the protected-mode part (signatures, padding) */
    uint8_t loadflags;
    uint32_t code32_start;
    uint32_t initrd_addr_max;
    uint32_t kernel_alignment;
    uint8_t relocatable;
    uint16_t xloadflags;
    uint32_t cmdline_size;
    uint64_t pref_address;
    uint32_t init_size;
};

/* A modern, small kernel: protocol 2.15, 64 KiB at 1 MiB, runs at 1 MiB with 256 KiB init_size. */
void bz_defaults(struct bz_opts *o);
/* malloc'ed image; the boot sector and the setup code around the header hold 0xCC and the
 * protected-mode part img_pattern(i) for its i-th byte. */
uint8_t *bz_build(const struct bz_opts *o, size_t *size);
/* File offset of the protected-mode part. */
size_t bz_setup_off(const struct bz_opts *o);

/* ---- Multiboot ---- */
#define MBT_MAGIC 0x1BADB002u
#define MBT_HDR_OFF 0x100u /* where the builders put the multiboot header */

struct mb_seg {
    uint32_t type; /* 1 = PT_LOAD */
    uint32_t offset, vaddr, paddr, filesz, memsz;
};

/* An ELF32 i386 executable with a multiboot header (flags, valid checksum) at MBT_HDR_OFF and
 * the given program headers; segment file data is img_pattern(file offset). File size is
 * `size` (at least large enough for the headers). */
uint8_t *mb_build_elf(uint32_t flags, uint32_t entry, const struct mb_seg *segs, unsigned nseg,
                      size_t size);

/* An a.out-kludge image: multiboot header with flag 16 and the given address fields at
 * MBT_HDR_OFF of a `size`-byte file whose bytes are img_pattern(offset) elsewhere. */
uint8_t *mb_build_aout(uint32_t flags, uint32_t header_addr, uint32_t load_addr,
                       uint32_t load_end_addr, uint32_t bss_end_addr, uint32_t entry, size_t size);

#endif
