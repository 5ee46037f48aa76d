/*
 * compare.h - deciding whether cloister behaved like the host for one case, and printing the
 * evidence when it did not: the instruction bytes (with a disassembly), the inputs, and both
 * final states with every difference marked.
 *
 * What is compared: how the case ended (exception vector; the error code for vectors that push
 * one, #PF error bits P/W/U/RSVD only, since the host sets I/D from NX, which i686 paging lacks;
 * CR2 for #PF), EIP, all eight GPRs, EFLAGS (CF PF AF ZF SF OF DF IF IOPL NT AC ID minus the
 * bits the SDM leaves undefined for the case), the six selectors (a null DS/ES/FS/GS compares
 * equal to any null: the host does not keep its RPL across every context switch), the whole data
 * area, and for x87 cases FCW, FSW, which registers are empty and the values of the others.
 */
#ifndef CLOISTER_ORACLE_COMPARE_H
#define CLOISTER_ORACLE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tests/oracle/case.h"
#include "tests/oracle/clo_run.h"
#include "tests/oracle/proto.h"

#define CMP_EFLAGS_MASK 0x00247ED5u

/* A one-line summary of the first difference goes to `why` (may be NULL). */
bool oracle_equal(const struct oracle_case *c, const struct orn_out *n, const struct clo_result *k, char *why,
                  size_t whylen);

/* Whether two native runs of the same case agree on everything oracle_equal() would compare
 * (a determinism check of the reference itself). */
bool oracle_native_same(const struct oracle_case *c, const struct orn_out *a, const struct orn_out *b, char *why,
                        size_t whylen);

/* Full report of a case and both outcomes. */
void oracle_report(FILE *f, const struct oracle_case *c, const struct orn_out *n, const struct clo_result *k);

/* Disassemble `code` (32-bit) into f, one instruction per line, prefixed by `indent`. */
void oracle_disasm(FILE *f, const uint8_t *code, size_t len, uint32_t addr, const char *indent);

#endif
