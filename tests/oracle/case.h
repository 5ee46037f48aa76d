/*
 * case.h - one oracle test case: code bytes, initial registers, flags, data area (a seed plus
 * explicit byte patches), segment setup, and which EFLAGS bits the SDM leaves undefined at its
 * end. A case is everything needed to replay a comparison; it is what regression files store.
 *
 * Regression text format (one or more cases per file, '#' starts a comment line):
 *   case <class>             starts a case
 *   code_off <n>             offset of the code in the code page (entry = ORN_CODE_BASE + n)
 *   code <hex bytes...>      the code (filler 0xCC fills the rest of the page)
 *   regs <8 numbers>         EAX ECX EDX EBX ESP EBP ESI EDI
 *   eflags <n>               CF PF AF ZF SF OF DF are used
 *   seed <n>                 data area contents = oc_fill_data(seed)
 *   patch <addr> <hex...>    bytes stored over the data area (addr inside it), any number of lines
 *   sel <6 numbers>          ES CS SS DS FS GS selectors, 0 = flat user data (CS ignored)
 *   ldt <i> <base> <limit> <present> <d32> <contents> <ro> <pages> <avl> <not_present>
 *   undef <n>                EFLAGS bits not compared
 *   ignore <reg> <mask>      bits of GPR <reg> (0..7) not compared (results the SDM leaves undefined)
 *   flags <n>                OC_F_* bits
 *   end
 * Numbers are C literals (0x.. hex or decimal). Parsing is strict and bounds-checked: files are
 * input from outside the program.
 */
#ifndef CLOISTER_ORACLE_CASE_H
#define CLOISTER_ORACLE_CASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tests/oracle/proto.h"

#define OC_CODE_MAX 512u
#define OC_PATCH_MAX 8u
#define OC_PATCH_BYTES 64u
#define OC_NAME_MAX 24u

#define OC_F_X87 0x1u /* FNINIT before the case; compare the x87 state at the end */
/* If the case ends in a fault other than at its final UD2, only the exception, EIP, ESP and the
 * selectors are compared: how much of a multi-slot access (PUSHA, POPA) is committed before a
 * fault differs between processors (AMD commits the slots before the faulting one). */
#define OC_F_FAULT_PARTIAL 0x2u
#define OC_F_ALL (OC_F_X87 | OC_F_FAULT_PARTIAL)

struct oc_patch {
    uint32_t addr;
    uint32_t len;
    uint8_t bytes[OC_PATCH_BYTES];
};

struct oracle_case {
    char cls[OC_NAME_MAX];
    uint32_t code_off;
    uint32_t code_len;
    uint8_t code[OC_CODE_MAX];
    uint32_t regs[8];
    uint32_t eflags;
    uint64_t seed;
    uint32_t npatch;
    struct oc_patch patch[OC_PATCH_MAX];
    uint16_t sel[ORN_NSEG];
    struct orn_desc ldt[ORN_LDT_ENTRIES];
    uint32_t undef;
    uint32_t flags;
    uint32_t reg_ignore[8];
};

/* An empty case of class `cls`. */
void oc_init(struct oracle_case *c, const char *cls);
/* Append code bytes; -E2BIG when the code would exceed OC_CODE_MAX or the page. */
int oc_emit(struct oracle_case *c, const uint8_t *bytes, size_t n);
/* Add a data patch; -EINVAL if outside the data area, -E2BIG if too long or too many. */
int oc_patch(struct oracle_case *c, uint32_t addr, const void *bytes, size_t n);

/* The data area contents for a seed (deterministic). */
void oc_fill_data(uint64_t seed, uint8_t data[ORN_DATA_SIZE]);
/* Data area = seed fill + patches in order. */
void oc_build_data(const struct oracle_case *c, uint8_t data[ORN_DATA_SIZE]);
/* Code page image: 0xCC everywhere, the code at code_off. */
void oc_build_code(const struct oracle_case *c, uint8_t page[ORN_CODE_SIZE]);
/* Fill a runner request. */
void oc_to_native(const struct oracle_case *c, struct orn_in *in);

/* Write a case in the text format; `comment` (may be NULL, may hold several lines) goes first. */
int oc_write_text(FILE *f, const struct oracle_case *c, const char *comment);
/* Parse the next case from text[*pos..len). Returns 1 with *c filled, 0 at end of input, or -1
 * with a message in err (including the line number). */
int oc_parse_text(const char *text, size_t len, size_t *pos, unsigned *line, struct oracle_case *c,
                  char *err, size_t errlen);

#endif
