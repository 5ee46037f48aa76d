/*
 * loader_multiboot.c - the Multiboot 1 loader (see loader.h). Every field of the image is
 * checked before use: offsets and sizes against the file, addresses against RAM and against the
 * area below 1 MiB that holds the info structures, with 64-bit arithmetic so nothing wraps.
 */
#include "monitor/loader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_FLAG_AOUT_KLUDGE (1u << 16)
#define MB_SUPPORTED_REQUIRED 0x3u /* bit 0: page-aligned modules, bit 1: memory info */
#define LOW_LIMIT 0x100000u

struct mb_header {
    uint32_t magic, flags, checksum;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

static int fail(struct loader_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Offset of a valid multiboot header, or -1. */
static long find_header(const uint8_t *image, size_t size)
{
    size_t end = size < 8192 ? size : 8192;
    for (size_t off = 0; off + 12 <= end; off += 4) {
        uint32_t magic = rd32(image + off), flags = rd32(image + off + 4);
        if (magic == MB_MAGIC && (uint32_t)(magic + flags + rd32(image + off + 8)) == 0)
            return (long)off;
    }
    return -1;
}

int multiboot_detect(const uint8_t *image, size_t size) { return find_header(image, size) >= 0; }

/* [addr, addr + len) must be inside RAM and at or above 1 MiB. */
static int check_dest(uint64_t addr, uint64_t len, size_t ram_size, struct loader_error *err,
                      const char *what)
{
    if (addr < LOW_LIMIT)
        return fail(err, "%s at 0x%llx is below 1 MiB", what, (unsigned long long)addr);
    if (addr + len > ram_size)
        return fail(err, "%s at 0x%llx (+0x%llx) does not fit in %zu bytes of RAM", what,
                    (unsigned long long)addr, (unsigned long long)len, ram_size);
    return 0;
}

static int load_elf(const uint8_t *im, size_t size, uint8_t *ram, size_t ram_size, uint32_t *entry,
                    struct loader_error *err)
{
    if (size < 52 || memcmp(im, "\x7f" "ELF", 4) != 0)
        return fail(err, "no multiboot address fields and not an ELF file");
    if (im[4] != 1 || im[5] != 1)
        return fail(err, "not a 32-bit little-endian ELF file");
    if (rd16(im + 16) != 2 || rd16(im + 18) != 3)
        return fail(err, "not an i386 ELF executable");
    uint32_t phoff = rd32(im + 28);
    uint16_t phentsize = rd16(im + 42), phnum = rd16(im + 44);
    if (phentsize < 32 || phnum == 0 || phnum > 64 ||
        (uint64_t)phoff + (uint64_t)phentsize * phnum > size)
        return fail(err, "program headers out of range");
    *entry = rd32(im + 24);
    bool entry_ok = false;
    unsigned loaded = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = im + phoff + (size_t)i * phentsize;
        if (rd32(ph) != 1 /* PT_LOAD */)
            continue;
        uint32_t off = rd32(ph + 4), vaddr = rd32(ph + 8), paddr = rd32(ph + 12);
        uint32_t filesz = rd32(ph + 16), memsz = rd32(ph + 20);
        if (filesz > memsz)
            return fail(err, "segment %u: file size larger than memory size", i);
        if ((uint64_t)off + filesz > size)
            return fail(err, "segment %u: data beyond the end of the file", i);
        char what[32];
        snprintf(what, sizeof what, "segment %u", i);
        int rc = check_dest(paddr, memsz, ram_size, err, what);
        if (rc < 0)
            return rc;
        memcpy(ram + paddr, im + off, filesz);
        memset(ram + paddr + filesz, 0, memsz - filesz);
        /* The entry point is a virtual address; translate it through its segment. */
        if (*entry >= vaddr && (uint64_t)*entry < (uint64_t)vaddr + memsz) {
            *entry = paddr + (*entry - vaddr);
            entry_ok = true;
        }
        loaded++;
    }
    if (!loaded)
        return fail(err, "no loadable segment");
    if (!entry_ok)
        return fail(err, "entry point 0x%x is not inside a loaded segment", *entry);
    return 0;
}

static int load_aout(const uint8_t *im, size_t size, long hoff, const struct mb_header *h,
                     uint8_t *ram, size_t ram_size, uint32_t *entry, struct loader_error *err)
{
    if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > (uint32_t)hoff)
        return fail(err, "multiboot header_addr/load_addr inconsistent with the file");
    uint64_t file_off = (uint64_t)hoff - (h->header_addr - h->load_addr);
    uint64_t end = h->load_end_addr ? h->load_end_addr : h->load_addr + (size - file_off);
    if (end < h->load_addr || file_off + (end - h->load_addr) > size)
        return fail(err, "multiboot load_end_addr beyond the end of the file");
    uint64_t bss_end = h->bss_end_addr ? h->bss_end_addr : end;
    if (bss_end < end)
        return fail(err, "multiboot bss_end_addr before load_end_addr");
    int rc = check_dest(h->load_addr, bss_end - h->load_addr, ram_size, err, "kernel image");
    if (rc < 0)
        return rc;
    memcpy(ram + h->load_addr, im + file_off, end - h->load_addr);
    memset(ram + end, 0, bss_end - end);
    if (h->entry_addr < h->load_addr || h->entry_addr >= end)
        return fail(err, "entry point 0x%x is outside the loaded image", h->entry_addr);
    *entry = h->entry_addr;
    return 0;
}

int multiboot_load(const uint8_t *image, size_t size, const char *cmdline, uint8_t *ram,
                   size_t ram_size, struct msg_boot *boot, struct loader_error *err)
{
    if (ram_size < 2 * LOW_LIMIT || ram_size > 0xC0000000u)
        return fail(err, "RAM size %zu is not usable for a multiboot kernel", ram_size);
    long hoff = find_header(image, size);
    if (hoff < 0)
        return fail(err, "no multiboot header in the first 8 KiB");
    struct mb_header h;
    memset(&h, 0, sizeof h);
    size_t hlen = (size_t)hoff + sizeof h <= size ? sizeof h : 12;
    for (size_t i = 0; i < hlen / 4; i++)
        ((uint32_t *)&h)[i] = rd32(image + hoff + 4 * i);
    uint32_t required = h.flags & 0xFFFF;
    if (required & ~MB_SUPPORTED_REQUIRED)
        return fail(err, "multiboot header requires features 0x%x this loader does not provide",
                    required & ~MB_SUPPORTED_REQUIRED);

    uint32_t entry = 0;
    int rc = (h.flags & MB_FLAG_AOUT_KLUDGE)
                 ? (hlen < sizeof h ? fail(err, "multiboot header truncated")
                                    : load_aout(image, size, hoff, &h, ram, ram_size, &entry, err))
                 : load_elf(image, size, ram, ram_size, &entry, err);
    if (rc < 0)
        return rc;

    /* Info structure, memory map and command line below 1 MiB. */
    uint8_t *info = ram + MB_INFO_ADDR;
    memset(info, 0, 0x100);
    uint32_t flags = 0x1 | 0x40; /* mem_lower/mem_upper, mmap */
    wr32(info + 4, 639);
    wr32(info + 8, (uint32_t)((ram_size - LOW_LIMIT) / 1024));
    uint8_t *mm = ram + MB_MMAP_ADDR;
    const uint64_t ranges[2][3] = {{0, 0x9FC00, 1}, {LOW_LIMIT, ram_size - LOW_LIMIT, 1}};
    for (int i = 0; i < 2; i++) {
        uint8_t *e = mm + 24 * i;
        wr32(e, 20);
        wr32(e + 4, (uint32_t)ranges[i][0]);
        wr32(e + 8, (uint32_t)(ranges[i][0] >> 32));
        wr32(e + 12, (uint32_t)ranges[i][1]);
        wr32(e + 16, (uint32_t)(ranges[i][1] >> 32));
        wr32(e + 20, (uint32_t)ranges[i][2]);
    }
    wr32(info + 44, 48);
    wr32(info + 48, MB_MMAP_ADDR);
    if (cmdline) {
        size_t n = strlen(cmdline);
        if (n >= MB_CMDLINE_MAX)
            return fail(err, "command line longer than %u bytes", MB_CMDLINE_MAX - 1);
        memcpy(ram + MB_CMDLINE_ADDR, cmdline, n + 1);
        wr32(info + 16, MB_CMDLINE_ADDR);
        flags |= 0x4;
    }
    wr32(info, flags);

    memset(boot, 0, sizeof *boot);
    boot->mode = BOOT_FLAT32;
    boot->entry = entry;
    boot->eax = MB_BOOT_MAGIC;
    boot->ebx = MB_INFO_ADDR;
    boot->esp = MB_STACK_TOP;
    return 0;
}
