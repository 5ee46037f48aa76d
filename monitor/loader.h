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

#endif
