/*
 * fuzz_loader_linux.c - the Linux boot protocol loader (monitor/loader_linux.c) on hostile
 * bzImages, initrds and command lines. Guest RAM is an exactly-sized heap buffer filled with a
 * marker, so ASan catches any write past its end and the harness sees any write inside it.
 * Invariants: a refusal is -EINVAL with a printable message and leaves RAM untouched; a load
 * writes only the zero page, the GDT, the command-line area, the kernel at 1 MiB and the
 * initrd, puts the initrd where the protocol allows (page-aligned, below initrd_addr_max and
 * RAM's end, clear of the loaded kernel and of its decompression region, recomputed here from
 * the header), and produces a start state msg_check accepts.
 *
 * Input: [u16 RAM size selector][u8 flags][u16 cmdline length][u24 initrd length]
 *        [cmdline][initrd][kernel: the rest]. Flags bit 0: no command line; bit 1: initrd
 *        pointer NULL (with its length still given).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/loader/fuzz_loader_input.h"
#include "monitor/loader.h"

#define MiB (1u << 20)

static uint32_t le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static void check_loaded(const uint8_t *k, size_t klen, const uint8_t *ird, size_t isize,
                         const char *cmd, const uint8_t *ram, size_t ram_size,
                         const struct msg_boot *b)
{
    if (!linux_detect(k, klen))
        abort();
    struct msg m;
    msg_set(&m, MSG_CTL_BOOT, b, sizeof *b);
    if (msg_check(&m, CHAN_CTL, DIR_REQ) != 0 || b->mode != BOOT_LINUX32 ||
        b->entry != LINUX_LOAD_ADDR || b->esi != LINUX_ZERO_PAGE_ADDR || b->ebx != 0 ||
        b->gdt_base != LINUX_GDT_ADDR || b->gdt_limit != LINUX_GDT_LIMIT)
        abort();

    /* The kernel, as its header describes it. */
    unsigned version = le(k + 0x206, 2);
    size_t setup_off = (size_t)((k[0x1F1] ? k[0x1F1] : 4) + 1) * 512;
    uint64_t pm = (uint64_t)le(k + 0x1F4, 4) * 16;
    if (version < 0x0206 || pm == 0 || setup_off + pm > klen || LINUX_LOAD_ADDR + pm > ram_size)
        abort();
    if (memcmp(ram + LINUX_LOAD_ADDR, k + setup_off, pm) != 0)
        abort();
    uint64_t run = LINUX_LOAD_ADDR, run_len = pm * 8;
    if (version >= 0x020A) {
        uint64_t pref = (uint64_t)le(k + 0x258, 4) | (uint64_t)le(k + 0x25C, 4) << 32;
        uint32_t align = le(k + 0x230, 4);
        run = pref;
        if (k[0x234]) {
            if (align == 0 || (align & (align - 1)))
                abort();
            uint64_t up = ((uint64_t)LINUX_LOAD_ADDR + align - 1) & ~(uint64_t)(align - 1);
            if (up > run)
                run = up;
        }
        run_len = le(k + 0x260, 4);
    }
    if (run < LINUX_LOAD_ADDR || run + run_len > ram_size)
        abort();

    /* The zero page. */
    const uint8_t *zp = ram + LINUX_ZERO_PAGE_ADDR;
    if (zp[0x210] != 0xFF || (zp[0x211] & 0xC1) != 0x81 || zp[0x1EF] != 0 || zp[0x1E8] != 4 ||
        le(zp + 0x228, 4) != LINUX_CMDLINE_ADDR || le(zp + 0x214, 4) != LINUX_LOAD_ADDR)
        abort();
    const uint8_t *last = zp + 0x2D0 + 3 * 20;
    if (le(last, 4) != MiB || le(last + 8, 4) != ram_size - MiB || le(last + 16, 4) != 1)
        abort();
    const char *line = (const char *)ram + LINUX_CMDLINE_ADDR;
    if (strnlen(line, LINUX_CMDLINE_MAX) >= LINUX_CMDLINE_MAX ||
        strcmp(line, cmd ? cmd : "") != 0 || strlen(line) > le(k + 0x238, 4))
        abort();

    /* The initrd. */
    uint32_t addr = le(zp + 0x218, 4), size = le(zp + 0x21C, 4);
    if (size != isize || (isize == 0) != (addr == 0))
        abort();
    if (isize) {
        if (addr % 4096 || addr < MiB || (uint64_t)addr + isize > ram_size ||
            (uint64_t)addr + isize - 1 > le(k + 0x22C, 4) ||
            overlap(addr, isize, LINUX_LOAD_ADDR, pm) || overlap(addr, isize, run, run_len) ||
            memcmp(ram + addr, ird, isize) != 0)
            abort();
    }

    /* Nothing else written. */
    uint64_t kend = LINUX_LOAD_ADDR + pm;
    if (!fuzz_untouched(ram, 0, LINUX_ZERO_PAGE_ADDR) ||
        !fuzz_untouched(ram, LINUX_GDT_ADDR + 32, LINUX_CMDLINE_ADDR - LINUX_GDT_ADDR - 32) ||
        !fuzz_untouched(ram, LINUX_CMDLINE_ADDR + LINUX_CMDLINE_MAX,
                        LINUX_LOAD_ADDR - LINUX_CMDLINE_ADDR - LINUX_CMDLINE_MAX))
        abort();
    if (isize) {
        if (!fuzz_untouched(ram, kend, addr - kend) ||
            !fuzz_untouched(ram, addr + isize, ram_size - addr - isize))
            abort();
    } else if (!fuzz_untouched(ram, kend, ram_size - kend)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_cursor c = {data, size};
    size_t ram_size = fuzz_ram_size(fuzz_le(&c, 2));
    uint8_t flags = (uint8_t)fuzz_le(&c, 1);
    size_t want_cmd = fuzz_le(&c, 2) & 0x1FFF, want_ird = fuzz_le(&c, 3);
    size_t cmd_len, isize, klen;
    uint8_t *cmd_bytes = fuzz_chunk(&c, want_cmd, &cmd_len);
    uint8_t *ird = fuzz_chunk(&c, want_ird, &isize);
    uint8_t *k = fuzz_chunk(&c, c.left, &klen);
    char *cmd = malloc(cmd_len + 1);
    if (!cmd)
        abort();
    memcpy(cmd, cmd_bytes, cmd_len);
    cmd[cmd_len] = 0;

    const char *cmd_arg = (flags & 1) ? NULL : cmd;
    const uint8_t *ird_arg = (flags & 2) ? NULL : ird;
    uint8_t *ram = fuzz_ram(ram_size);
    struct msg_boot boot;
    struct loader_error err;
    memset(&err, 0, sizeof err);
    int rc = linux_load(k, klen, ird_arg, isize, cmd_arg, ram, ram_size, &boot, &err);
    if (rc == 0) {
        if (!ird_arg && isize)
            abort();
        check_loaded(k, klen, ird, ird_arg ? isize : 0, cmd_arg, ram, ram_size, &boot);
    } else if (rc != -EINVAL || !fuzz_msg_ok(err.msg, sizeof err.msg) ||
               !fuzz_untouched(ram, 0, ram_size)) {
        abort();
    }
    free(ram);
    free(cmd);
    free(k);
    free(ird);
    free(cmd_bytes);
    return 0;
}
