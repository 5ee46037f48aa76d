/*
 * loader_linux.c - the Linux x86 32-bit boot protocol loader for bzImages (see loader.h and
 * Documentation/x86/boot.rst). The kernel image, the initrd and the command line are untrusted:
 * every setup-header field is checked against the file, the protocol version that defines it,
 * and guest RAM, with 64-bit arithmetic so nothing wraps. All checks come before the first write,
 * so a refused image leaves RAM as it was; nothing outside [ram, ram + ram_size) is ever written.
 */
#include "monitor/loader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Offsets in the bzImage's first sector and in struct boot_params (they coincide). */
#define BP_EXT_MEM_K 0x002
#define BP_ALT_MEM_K 0x1E0
#define BP_E820_ENTRIES 0x1E8
#define BP_E820_TABLE 0x2D0
#define BP_E820_MAX 128u
#define HDR_START 0x1F1
#define HDR_SETUP_SECTS 0x1F1
#define HDR_SYSSIZE 0x1F4
#define HDR_BOOT_FLAG 0x1FE
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21C
#define HDR_HEAP_END_PTR 0x224
#define HDR_EXT_LOADER_VER 0x226
#define HDR_EXT_LOADER_TYPE 0x227
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22C
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_HARDWARE_SUBARCH 0x23C
#define HDR_SUBARCH_DATA 0x240
#define HDR_SETUP_DATA 0x250
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define BP_HDR_LIMIT 0x290 /* edd_mbr_sig_buffer follows the setup header in boot_params */
#define BOOT_PARAMS_SIZE 4096u

#define PROTO_MIN 0x0206       /* cmdline_size */
#define PROTO_INIT_SIZE 0x020A /* pref_address, init_size */
#define PROTO_XLOADFLAGS 0x020C

#define LF_LOADED_HIGH 0x01
#define LF_KEEP_SEGMENTS 0x40
#define LF_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01
#define LOADER_UNDEFINED 0xFF
/* The end of the setup heap, as an offset from the real-mode code minus 0x200. Only the 16-bit
 * setup reads it, which this loader does not run; the value is the conventional full segment. */
#define HEAP_END_PTR 0xFE00
/* Kernels before protocol 2.10 do not state how much memory decompression needs; they
 * decompress in place at their load address, and this many times the compressed size is kept
 * clear for them. */
#define LEGACY_INIT_FACTOR 8u

#define LOW_LIMIT 0x100000u
#define PAGE 4096u
#define RAM_MIN (2 * LOW_LIMIT)
#define RAM_MAX 0xC0000000u

enum { E820_RAM = 1, E820_RESERVED = 2 };

/* What the checks decided, before anything is written. */
struct linux_plan {
    unsigned version;
    size_t setup_off;   /* of the protected-mode part in the file */
    uint32_t pm_size;   /* bytes of it loaded at LINUX_LOAD_ADDR */
    size_t hdr_end;     /* end of the setup header in the file (exclusive) */
    uint64_t run_addr;  /* where the kernel decompresses itself */
    uint64_t run_size;  /* init_size, or the legacy estimate */
    size_t cmdline_len; /* without the NUL */
    uint64_t initrd_addr;
};

static int fail(struct loader_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)v);
    wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

int linux_detect(const uint8_t *image, size_t size)
{
    return image && size >= HDR_VERSION && rd16(image + HDR_BOOT_FLAG) == 0xAA55 &&
           memcmp(image + HDR_MAGIC, "HdrS", 4) == 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Setup header: identity, version, sizes of the two parts of the file. */
static int check_header(const uint8_t *k, size_t ksize, struct linux_plan *p,
                        struct loader_error *err)
{
    if (!k || ksize < HDR_VERSION + 2)
        return fail(err, "truncated: %zu bytes cannot hold a Linux setup header", k ? ksize : 0);
    if (ksize > LOADER_MAX_IMAGE)
        return fail(err, "kernel image of %zu bytes is larger than the %u MiB limit", ksize,
                    LOADER_MAX_IMAGE >> 20);
    if (rd16(k + HDR_BOOT_FLAG) != 0xAA55)
        return fail(err, "not a Linux kernel: boot flag 0x%04x, not 0xaa55",
                    rd16(k + HDR_BOOT_FLAG));
    if (memcmp(k + HDR_MAGIC, "HdrS", 4) != 0)
        return fail(err, "not a Linux kernel: no \"HdrS\" setup header signature at 0x202");
    p->version = rd16(k + HDR_VERSION);
    if (p->version < PROTO_MIN)
        return fail(err,
                    "boot protocol %u.%02u is older than 2.06, the oldest this loader supports",
                    p->version >> 8, p->version & 0xFF);
    if (k[HDR_JUMP] != 0xEB)
        return fail(err, "setup header: no short jump at 0x200 giving its length");
    p->hdr_end = 0x202u + k[HDR_JUMP + 1];
    size_t need = p->version >= PROTO_INIT_SIZE ? HDR_INIT_SIZE + 4 : HDR_CMDLINE_SIZE + 4;
    if (p->hdr_end < need)
        return fail(err,
                    "setup header ends at 0x%zx, before the fields of protocol %u.%02u (0x%zx)",
                    p->hdr_end, p->version >> 8, p->version & 0xFF, need);
    if (p->hdr_end > BP_HDR_LIMIT)
        return fail(err, "setup header claims to end at 0x%zx, past 0x%x", p->hdr_end,
                    BP_HDR_LIMIT);

    unsigned sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    p->setup_off = (size_t)(sects + 1) * 512;
    if (p->setup_off >= ksize)
        return fail(err, "truncated: the setup code (%u sectors) takes the whole %zu-byte file",
                    sects, ksize);
    uint64_t sys = (uint64_t)rd32(k + HDR_SYSSIZE) * 16;
    if (sys == 0)
        return fail(err, "syssize is 0: no protected-mode kernel");
    if (p->setup_off + sys > ksize)
        return fail(err,
                    "truncated: syssize says %llu bytes of kernel after the setup code, the file "
                    "has %zu",
                    (unsigned long long)sys, ksize - p->setup_off);
    p->pm_size = (uint32_t)sys;

    if (!(k[HDR_LOADFLAGS] & LF_LOADED_HIGH))
        return fail(err, "not a bzImage: loadflags LOADED_HIGH is clear (zImage kernels load at "
                         "0x10000 and are not supported)");
    if (p->version >= PROTO_XLOADFLAGS && (rd16(k + HDR_XLOADFLAGS) & XLF_KERNEL_64))
        return fail(err, "a 64-bit kernel (xloadflags KERNEL_64); guests are 32-bit only");
    uint32_t code32 = rd32(k + HDR_CODE32_START);
    if (code32 != LINUX_LOAD_ADDR)
        return fail(err, "code32_start 0x%x: only kernels loaded at 1 MiB are supported", code32);
    return 0;
}

/* Where the kernel will decompress itself and how much room that needs, as its own
 * startup_32 computes it: the load address rounded up to kernel_alignment when relocatable,
 * but never below pref_address (LOAD_PHYSICAL_ADDR). */
static int check_placement(const uint8_t *k, size_t ram_size, struct linux_plan *p,
                           struct loader_error *err)
{
    uint64_t load_end = (uint64_t)LINUX_LOAD_ADDR + p->pm_size;
    if (load_end > ram_size)
        return fail(err, "kernel of %u bytes at 1 MiB does not fit in %zu bytes of RAM", p->pm_size,
                    ram_size);
    if (p->version < PROTO_INIT_SIZE) {
        p->run_addr = LINUX_LOAD_ADDR;
        p->run_size = (uint64_t)p->pm_size * LEGACY_INIT_FACTOR;
    } else {
        uint64_t pref = rd64(k + HDR_PREF_ADDRESS);
        uint32_t align = rd32(k + HDR_KERNEL_ALIGNMENT);
        if (pref < LOW_LIMIT || pref >= RAM_MAX)
            return fail(err, "pref_address 0x%llx is not an address a 32-bit kernel can run at",
                        (unsigned long long)pref);
        p->run_addr = pref;
        if (k[HDR_RELOCATABLE]) {
            if (align < PAGE || (align & (align - 1)) != 0)
                return fail(err, "kernel_alignment 0x%x is not a power of two of at least 4 KiB",
                            align);
            uint64_t aligned = ((uint64_t)LINUX_LOAD_ADDR + align - 1) & ~(uint64_t)(align - 1);
            if (aligned > p->run_addr)
                p->run_addr = aligned;
        }
        p->run_size = rd32(k + HDR_INIT_SIZE);
        if (p->run_size < p->pm_size)
            return fail(err, "init_size 0x%llx is smaller than the kernel itself (0x%x)",
                        (unsigned long long)p->run_size, p->pm_size);
    }
    if (p->run_addr + p->run_size > ram_size)
        return fail(err,
                    "the kernel needs 0x%llx bytes (init_size) from 0x%llx, beyond the end of "
                    "%zu bytes of RAM",
                    (unsigned long long)p->run_size, (unsigned long long)p->run_addr, ram_size);
    return 0;
}

static int check_cmdline(const uint8_t *k, const char *cmdline, struct linux_plan *p,
                         struct loader_error *err)
{
    p->cmdline_len = 0;
    if (!cmdline)
        return 0;
    uint32_t kmax = rd32(k + HDR_CMDLINE_SIZE);
    size_t max = kmax < LINUX_CMDLINE_MAX - 1 ? kmax : LINUX_CMDLINE_MAX - 1;
    /* strnlen: the string is the caller's, but it need not be short. */
    p->cmdline_len = strnlen(cmdline, max + 1);
    if (p->cmdline_len > max)
        return fail(err, "command line longer than %zu bytes (the kernel's cmdline_size is %u)",
                    max, kmax);
    return 0;
}

/* The initrd goes as high as allowed: below min(initrd_addr_max + 1, RAM end), page-aligned,
 * clear of the loaded kernel and of its decompression region, and above 1 MiB. */
static int place_initrd(const uint8_t *k, size_t isize, size_t ram_size, struct linux_plan *p,
                        struct loader_error *err)
{
    uint64_t top = (uint64_t)rd32(k + HDR_INITRD_ADDR_MAX) + 1;
    if (top > ram_size)
        top = ram_size;
    if (isize > top)
        return fail(err, "initrd: %zu bytes do not fit below 0x%llx (RAM end or initrd_addr_max)",
                    isize, (unsigned long long)top);
    const uint64_t busy[2][2] = {{LINUX_LOAD_ADDR, p->pm_size}, {p->run_addr, p->run_size}};
    uint64_t addr = (top - isize) & ~(uint64_t)(PAGE - 1);
    /* Each move goes below a busy region, so addr only decreases: one pass per region ends it. */
    for (unsigned pass = 0; pass <= 2; pass++) {
        bool moved = false;
        for (unsigned i = 0; i < 2; i++) {
            if (!overlaps(addr, isize, busy[i][0], busy[i][1]))
                continue;
            if (busy[i][0] < isize + LOW_LIMIT)
                return fail(err,
                            "initrd: %zu bytes do not fit in RAM beside the kernel (which uses "
                            "0x%llx-0x%llx) below 0x%llx",
                            isize, (unsigned long long)LINUX_LOAD_ADDR,
                            (unsigned long long)(p->run_addr + p->run_size),
                            (unsigned long long)top);
            addr = (busy[i][0] - isize) & ~(uint64_t)(PAGE - 1);
            moved = true;
        }
        if (!moved)
            break;
    }
    for (unsigned i = 0; i < 2; i++)
        if (overlaps(addr, isize, busy[i][0], busy[i][1]))
            return fail(err, "initrd: no room clear of the kernel");
    if (addr < LOW_LIMIT)
        return fail(err, "initrd: %zu bytes do not fit between 1 MiB and 0x%llx", isize,
                    (unsigned long long)top);
    p->initrd_addr = addr;
    return 0;
}

static void write_e820(uint8_t *zp, size_t ram_size)
{
    const uint64_t map[LINUX_E820_ENTRIES][3] = {
        {0, 0x9FC00, E820_RAM},
        {0x9FC00, 0xA0000 - 0x9FC00, E820_RESERVED},
        {0xF0000, 0x10000, E820_RESERVED},
        {LOW_LIMIT, ram_size - LOW_LIMIT, E820_RAM},
    };
    for (unsigned i = 0; i < LINUX_E820_ENTRIES; i++) {
        uint8_t *e = zp + BP_E820_TABLE + 20 * i;
        wr64(e, map[i][0]);
        wr64(e + 8, map[i][1]);
        wr32(e + 16, (uint32_t)map[i][2]);
    }
    zp[BP_E820_ENTRIES] = LINUX_E820_ENTRIES;
}

static void write_gdt(uint8_t *gdt)
{
    /* Flat 4 GiB, DPL 0, G=1, D/B=1, accessed: code execute/read (0x10), data read/write (0x18) */
    memset(gdt, 0, LINUX_GDT_LIMIT + 1);
    wr64(gdt + BOOT_LINUX32_CS, 0x00CF9B000000FFFFull);
    wr64(gdt + BOOT_LINUX32_DS, 0x00CF93000000FFFFull);
}

int linux_load(const uint8_t *kernel, size_t ksize, const uint8_t *initrd, size_t isize,
               const char *cmdline, uint8_t *ram, size_t ram_size, struct msg_boot *boot,
               struct loader_error *err)
{
    if (ram_size < RAM_MIN || ram_size > RAM_MAX)
        return fail(err, "RAM size %zu is not usable for a Linux kernel (2 MiB .. 3 GiB)",
                    ram_size);
    struct linux_plan p;
    memset(&p, 0, sizeof p);
    int rc = check_header(kernel, ksize, &p, err);
    if (rc == 0)
        rc = check_placement(kernel, ram_size, &p, err);
    if (rc == 0)
        rc = check_cmdline(kernel, cmdline, &p, err);
    if (rc < 0)
        return rc;
    if (isize && !initrd)
        return fail(err, "initrd: %zu bytes announced but no data", isize);
    if (isize > LINUX_MAX_INITRD)
        return fail(err, "initrd: %zu bytes is larger than the %u MiB limit", isize,
                    LINUX_MAX_INITRD >> 20);
    if (isize && (rc = place_initrd(kernel, isize, ram_size, &p, err)) < 0)
        return rc;

    /* Everything is checked: write. */
    memcpy(ram + LINUX_LOAD_ADDR, kernel + p.setup_off, p.pm_size);
    if (isize)
        memcpy(ram + p.initrd_addr, initrd, isize);
    memset(ram + LINUX_CMDLINE_ADDR, 0, LINUX_CMDLINE_MAX);
    if (p.cmdline_len)
        memcpy(ram + LINUX_CMDLINE_ADDR, cmdline, p.cmdline_len);
    write_gdt(ram + LINUX_GDT_ADDR);

    uint8_t *zp = ram + LINUX_ZERO_PAGE_ADDR;
    memset(zp, 0, BOOT_PARAMS_SIZE);
    memcpy(zp + HDR_START, kernel + HDR_START, p.hdr_end - HDR_START);
    uint64_t high_k = (ram_size - LOW_LIMIT) / 1024;
    wr16(zp + BP_EXT_MEM_K, (uint16_t)(high_k < 0xFC00 ? high_k : 0xFC00));
    wr32(zp + BP_ALT_MEM_K, (uint32_t)high_k);
    write_e820(zp, ram_size);
    zp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
    zp[HDR_EXT_LOADER_VER] = 0;
    zp[HDR_EXT_LOADER_TYPE] = 0;
    zp[HDR_LOADFLAGS] = (uint8_t)((zp[HDR_LOADFLAGS] & ~LF_KEEP_SEGMENTS) | LF_CAN_USE_HEAP);
    wr16(zp + HDR_HEAP_END_PTR, HEAP_END_PTR);
    wr32(zp + HDR_CODE32_START, LINUX_LOAD_ADDR);
    wr32(zp + HDR_CMD_LINE_PTR, LINUX_CMDLINE_ADDR);
    wr32(zp + HDR_RAMDISK_IMAGE, isize ? (uint32_t)p.initrd_addr : 0);
    wr32(zp + HDR_RAMDISK_SIZE, (uint32_t)isize);
    if (p.version >= 0x0207) {
        wr32(zp + HDR_HARDWARE_SUBARCH, 0); /* a PC */
        wr64(zp + HDR_SUBARCH_DATA, 0);
    }
    if (p.version >= 0x0209)
        wr64(zp + HDR_SETUP_DATA, 0);

    memset(boot, 0, sizeof *boot);
    boot->mode = BOOT_LINUX32;
    boot->entry = LINUX_LOAD_ADDR;
    boot->esi = LINUX_ZERO_PAGE_ADDR;
    boot->esp = LINUX_STACK_TOP;
    boot->gdt_base = LINUX_GDT_ADDR;
    boot->gdt_limit = LINUX_GDT_LIMIT;
    return 0;
}
