/*
 * fuzz_loader_multiboot.c - the Multiboot loader (monitor/loader_multiboot.c) on hostile
 * images and command lines. Guest RAM is an exactly-sized heap buffer filled with a marker, so
 * ASan catches any write past its end and the harness sees writes inside it. Invariants: a
 * refusal is -EINVAL with a printable message; below 1 MiB only the info structure, the memory
 * map and the command line are ever written; a load gives a start state msg_check accepts,
 * with the entry point in RAM above 1 MiB, and an info structure describing RAM.
 *
 * Input: [u16 RAM size selector][u8 flags][u16 cmdline length][cmdline][image: the rest].
 * Flags bit 0: no command line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/loader/fuzz_loader_input.h"
#include "monitor/loader.h"

#define MiB (1u << 20)
#define MMAP_END (MB_MMAP_ADDR + 48)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_cursor c = {data, size};
    size_t ram_size = fuzz_ram_size(fuzz_le(&c, 2));
    uint8_t flags = (uint8_t)fuzz_le(&c, 1);
    size_t want_cmd = fuzz_le(&c, 2) & 0xFFF;
    size_t cmd_len, ilen;
    uint8_t *cmd_bytes = fuzz_chunk(&c, want_cmd, &cmd_len);
    uint8_t *image = fuzz_chunk(&c, c.left, &ilen);
    char *cmd = malloc(cmd_len + 1);
    if (!cmd)
        abort();
    memcpy(cmd, cmd_bytes, cmd_len);
    cmd[cmd_len] = 0;
    const char *cmd_arg = (flags & 1) ? NULL : cmd;

    uint8_t *ram = fuzz_ram(ram_size);
    struct msg_boot boot;
    struct loader_error err;
    memset(&err, 0, sizeof err);
    int rc = multiboot_load(image, ilen, cmd_arg, ram, ram_size, &boot, &err);
    size_t low_end = ram_size < MiB ? ram_size : MiB;
    if (rc == 0) {
        if (!multiboot_detect(image, ilen))
            abort();
        struct msg m;
        msg_set(&m, MSG_CTL_BOOT, &boot, sizeof boot);
        if (msg_check(&m, CHAN_CTL, DIR_REQ) != 0 || boot.mode != BOOT_FLAT32 ||
            boot.eax != 0x2BADB002u || boot.ebx != MB_INFO_ADDR || boot.entry < MiB ||
            boot.entry >= ram_size)
            abort();
        const uint8_t *info = ram + MB_INFO_ADDR;
        if (le32(info + 4) != 639 || le32(info + 8) != (ram_size - MiB) / 1024 ||
            le32(info + 48) != MB_MMAP_ADDR)
            abort();
        size_t n = 0;
        if (cmd_arg) {
            n = strlen(cmd_arg) + 1;
            if (le32(info) != 0x45 || le32(info + 16) != MB_CMDLINE_ADDR ||
                strcmp((const char *)ram + MB_CMDLINE_ADDR, cmd_arg) != 0)
                abort();
        } else if (le32(info) != 0x41) {
            abort();
        }
        if (!fuzz_untouched(ram, MB_CMDLINE_ADDR + n, low_end - MB_CMDLINE_ADDR - n))
            abort();
    } else {
        if (rc != -EINVAL || !fuzz_msg_ok(err.msg, sizeof err.msg))
            abort();
        if (ram_size >= MB_CMDLINE_ADDR &&
            !fuzz_untouched(ram, MB_CMDLINE_ADDR, low_end - MB_CMDLINE_ADDR))
            abort(); /* the command line is written last, only on success */
    }
    if (ram_size >= MB_CMDLINE_ADDR && (!fuzz_untouched(ram, 0, MB_INFO_ADDR) ||
                                        !fuzz_untouched(ram, MMAP_END, MB_CMDLINE_ADDR - MMAP_END)))
        abort();
    free(ram);
    free(cmd);
    free(image);
    free(cmd_bytes);
    return 0;
}
