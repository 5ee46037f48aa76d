/*
 * loader.h - guest image loaders: they place a kernel (and its command line and modules) into
 * guest RAM and say how the vCPU must start. Pure functions over buffers, so that they can be
 * fuzzed: the image is untrusted input, and nothing outside [ram, ram + ram_size) is written.
 *
 * Multiboot (version 1): ELF32 kernels, or any image using the header's address fields (flag
 * 16). Memory map, command line and mem_lower/mem_upper are passed in the info structure. Kernel
 * segments must lie at or above 1 MiB (the info structures live below it) and inside RAM.
 */
#ifndef CLOISTER_MONITOR_LOADER_H
#define CLOISTER_MONITOR_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"

#define LOADER_MAX_IMAGE (64u << 20)

/* Where the multiboot loader puts its structures (all below 1 MiB, in conventional memory). */
#define MB_INFO_ADDR 0x8000u
#define MB_MMAP_ADDR 0x8100u
#define MB_CMDLINE_ADDR 0x8400u
#define MB_CMDLINE_MAX 3072u
#define MB_STACK_TOP 0x7FF0u

struct loader_error {
    char msg[200];
};

/* Is there a multiboot header in the first 8 KiB? */
int multiboot_detect(const uint8_t *image, size_t size);

/* Load a multiboot image. Returns 0 and the vCPU's start state, or -EINVAL with a reason. */
int multiboot_load(const uint8_t *image, size_t size, const char *cmdline, uint8_t *ram,
                   size_t ram_size, struct msg_boot *boot, struct loader_error *err);

/* ---- Linux x86 32-bit boot protocol (bzImage, boot protocol 2.06 or later) ----
 *
 * The protected-mode part of the bzImage goes to 1 MiB; the zero page (struct boot_params, with
 * the image's setup header, an e820 map, the command line and initrd pointers), a GDT with the
 * boot protocol's flat descriptors and the command line go below 640 KiB; the initrd goes as high
 * as the kernel allows, clear of both the loaded image and the region the kernel decompresses
 * into (its run address + init_size). The 16-bit setup code is not used: the vCPU starts at
 * code32_start in BOOT_LINUX32 mode (ipc/msg.h) with ESI = the zero page.
 */
#define LINUX_ZERO_PAGE_ADDR 0x10000u
#define LINUX_GDT_ADDR 0x11000u    /* 4 descriptors: null, unused, code 0x10, data 0x18 */
#define LINUX_GDT_LIMIT 0x1Fu
#define LINUX_CMDLINE_ADDR 0x12000u
#define LINUX_CMDLINE_MAX 4096u    /* bytes including the NUL, also capped by cmdline_size */
#define LINUX_STACK_TOP 0x10000u   /* not part of the protocol; the kernel sets its own at once */
#define LINUX_LOAD_ADDR 0x100000u
#define LINUX_MAX_INITRD (512u << 20)
#define LINUX_E820_ENTRIES 4u

/* Does the image carry a Linux setup header ("HdrS" at 0x202, boot flag 0xAA55 at 0x1FE)? */
int linux_detect(const uint8_t *image, size_t size);

/* Load a bzImage and an optional initrd (NULL/0 for none) with a command line (NULL for an empty
 * one). Returns 0 and the vCPU's start state (BOOT_LINUX32), or -EINVAL with a reason; initrd
 * problems are reported with the prefix "initrd: ". */
int linux_load(const uint8_t *kernel, size_t ksize, const uint8_t *initrd, size_t isize,
               const char *cmdline, uint8_t *ram, size_t ram_size, struct msg_boot *boot,
               struct loader_error *err);

#endif
