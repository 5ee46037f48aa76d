/*
 * compare.h - comparing a cloister result with the reference (QEMU's result, or the SDM's where
 * sdm.h has a rule for the case) and printing a mismatch: the case, its code disassembled, and
 * both records with every difference marked.
 */
#ifndef CLOISTER_SYSORACLE_COMPARE_H
#define CLOISTER_SYSORACLE_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/results.h"

struct so_diff {
    uint64_t fields;  /* bit i: field i differs */
    uint64_t dumps;   /* bit i: dump i differs */
    bool count;       /* dump counts differ */
};

/* true when equal outside the fields and dumps marked in `ignore` (may be NULL) */
bool so_compare(const struct so_result *ref, const struct so_result *clo, const struct so_diff *ignore,
                struct so_diff *d);

/* One case's mismatch report. `why_ref`/`why_clo` say why a side has no result (NULL if it has). */
void so_report(FILE *f, const struct sc *s, const char *ident, const char *ref_name,
               const struct so_result *ref, const char *why_ref, const struct so_result *clo,
               const char *why_clo, const struct so_diff *d, const struct so_diff *ignore, bool verbose);

/* The case's code (COPY operations into the code and pad pages), disassembled. */
void so_print_code(FILE *f, const struct sc *s, const char *indent);

#endif
