/*
 * results.h - parsing what the test kernel printed. The text is untrusted (a misbehaving engine
 * can print anything): lines are length-limited, every number must be hex and fit 32 bits, the
 * field count must be exact and case ids must be in range; anything else is counted as
 * malformed and ignored.
 */
#ifndef CLOISTER_SYSORACLE_RESULTS_H
#define CLOISTER_SYSORACLE_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/sysoracle/blob.h"

struct so_result {
    bool present;
    uint32_t f[SO_NFIELDS];
    uint32_t ndump;
    uint32_t dump[SO_MAX_DUMP];
};

struct so_parsed {
    bool have_info, have_begin, have_end;
    uint32_t cpuid_eax, cpuid_edx;
    uint32_t begin_ncases, begin_first;
    uint32_t end_count;
    uint32_t results;      /* result lines accepted */
    uint32_t malformed;    /* "@SO" lines rejected */
    uint32_t duplicates;   /* a second result for the same case */
    uint32_t last_id;      /* the last case id that produced a result (valid if results > 0) */
};

/* Parse text; res[0..n) receive the results by case id. */
void so_parse(const char *text, size_t len, struct so_result *res, uint32_t n, struct so_parsed *p);

/* Field names for reports ("vec", "esp", "frame[3]", "eax", ...). */
const char *so_field_name(unsigned field, char *buf, size_t buflen);

#endif
