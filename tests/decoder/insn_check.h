/*
 * insn_check.h - test-side helpers for the decoder: an independent structural check of one
 * decoded struct ir_insn (the rules stated in ipc/ir.h plus the decoder's own normal form), and
 * a canonical one-line text form that the hand-written tests compare against.
 *
 * Shared by tests/decoder and fuzz/decoder. Deliberately does not use ipc/ir.c: the decoder's
 * tests must stand on their own.
 */
#ifndef CLOISTER_TESTS_DECODER_INSN_CHECK_H
#define CLOISTER_TESTS_DECODER_INSN_CHECK_H

#include <stddef.h>

#include "ipc/ir.h"

/* 0 when `in` is structurally sound; else -1 with a reason in why[0..whylen). */
int insn_check(const struct ir_insn *in, char *why, size_t whylen);

/* Name of an op ("?" when out of range). */
const char *insn_op_name(unsigned op);

/*
 * Canonical text: "OP len=N os=N as=N" then, when present: "cc=N", "pf=lock,rep,repne,seg",
 * "fl=EPRWL" (ends block, privileged, reads, writes, too long), operands ("r4:3" register size:num,
 * "m2" memory, "i1" immediate, "sreg:2", "cr:0", "dr:7"), the memory operand
 * "[ss:ebp+esi*1-0x4]" (for MEM operands, string ops and XLAT), "imm=0x..", "imm2=0x..",
 * "x87=0x...". Returns buf.
 */
char *insn_format(const struct ir_insn *in, char *buf, size_t len);

#endif
