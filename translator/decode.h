/*
 * decode.h - the IA-32 instruction decoder: guest bytes -> one struct ir_insn.
 *
 * Runs only inside the translator process (and in-process in tests and fuzzers). Table-driven:
 * one table entry per opcode (one-byte map, 0F map, group extensions, x87 D8-DF) says how the
 * operands are encoded; one generic routine reads prefixes, ModRM, SIB, displacement and
 * immediates. Input bytes are untrusted; the decoder never reads past `avail`.
 */
#ifndef CLOISTER_TRANSLATOR_DECODE_H
#define CLOISTER_TRANSLATOR_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/ir.h"

/* Decoding mode: the only CPU state that changes how bytes decode. */
#define DEC_MODE_CS32 IR_MODE_CS32
#define DEC_MODE_PE   IR_MODE_PE

enum dec_status {
    DEC_OK = 0,     /* *out holds the instruction (possibly IR_INVALID: executes as #UD) */
    DEC_NEED_MORE = 1, /* the bytes available end inside an instruction shorter than 15 bytes:
                        * the caller must fetch more (next page) or, if none, fault on fetch */
};

/*
 * Decode one instruction at guest address `eip` from `bytes[0..avail)`. `eip` is needed to turn
 * relative branches into absolute targets (masked to the operand size). Returns DEC_OK or
 * DEC_NEED_MORE. An instruction longer than 15 bytes decodes as IR_INVALID with len 15 (#GP on
 * real hardware: the engine raises #GP(0) for INVALID with len == 15 and prefix-only bytes).
 */
int decode_one(const uint8_t *bytes, size_t avail, uint32_t eip, unsigned mode, struct ir_insn *out);

#endif
