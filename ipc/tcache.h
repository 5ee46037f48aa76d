/*
 * tcache.h - the translation staging region: where the translator writes decoded blocks for
 * the vCPU. Writable only by the translator, mapped read-only (read-only fd) by the vCPU.
 *
 * Because the translator can rewrite this region at any moment, the vCPU never executes from
 * it: it copies a block out, then validates the copy (header against its own request, every
 * instruction with ir_insn_valid), and keeps it in its private block cache (vcpu/tcache.h).
 * The staging region is a ring the translator reuses freely.
 */
#ifndef CLOISTER_IPC_TCACHE_H
#define CLOISTER_IPC_TCACHE_H

#include <stdint.h>

#include "ipc/ir.h"

#define TC_STAGING_BYTES (1u << 20)
#define TC_BLOCK_MAGIC 0x4B4C4243u /* "CBLK" */
#define TC_MAX_INSNS 128           /* instructions per block */
#define TC_MAX_BLOCK_BYTES (sizeof(struct tc_block_hdr) + TC_MAX_INSNS * sizeof(struct ir_insn))

enum tc_end {
    TC_END_BRANCH = 0,   /* the last instruction transfers control or needs the vCPU */
    TC_END_PAGE = 1,     /* the next instruction starts on another page */
    TC_END_LIMIT = 2,    /* the next instruction would cross the CS limit or the fetchable bytes */
    TC_END_FULL = 3,     /* TC_MAX_INSNS reached */
};

struct tc_block_hdr {
    uint32_t magic;
    uint32_t eip;
    uint32_t phys;
    uint32_t phys_next;  /* the second page the last instruction reaches into, or XL_NO_PAGE */
    uint32_t mode;
    uint16_t ninsn;
    uint16_t guest_bytes;
    uint32_t end;        /* enum tc_end */
    uint32_t pad;
    /* struct ir_insn insn[ninsn] follows */
};
_Static_assert(sizeof(struct tc_block_hdr) == 32, "tc_block_hdr layout");

#endif
