/*
 * frontend.h - the translator front-end: decodes one basic block of guest code from guest RAM
 * into intermediate code. A block runs up to a control transfer (or any instruction the decoder
 * marks IR_F_ENDS_BLOCK), a page boundary, the fetch limit, or TC_MAX_INSNS instructions.
 *
 * Guest RAM is read by physical address; bytes outside RAM read as all-ones, as a PC's bus does.
 * The request comes from the vCPU and is untrusted: every address is bounds-checked here.
 */
#ifndef CLOISTER_TRANSLATOR_FRONTEND_H
#define CLOISTER_TRANSLATOR_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"
#include "ipc/tcache.h"

/* Build the block for `req` into `out` (capacity `cap` bytes, at least TC_MAX_BLOCK_BYTES).
 * Returns enum xl_status; on XL_OK *size is the block's size in bytes. */
int fe_build_block(const uint8_t *ram, size_t ram_size, const struct msg_translate *req,
                   struct tc_block_hdr *out, size_t cap, size_t *size);

/* In-process translation for tests, the oracle, fuzzers and benchmarks: the same front-end the
 * translator process runs, called directly, with the signature of vcpu_source.translate. */
struct fe_inproc {
    const uint8_t *ram;
    size_t ram_size;
    union {
        struct tc_block_hdr hdr;
        uint8_t bytes[TC_MAX_BLOCK_BYTES];
    } buf;
};
int fe_translate_inproc(void *ctx, const struct msg_translate *req, const void **block, size_t *size);

#endif
