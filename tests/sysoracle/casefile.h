/*
 * casefile.h - system-oracle cases as text, for regressions (the .txt files in tests/sysoracle/regressions)
 * and --save. A case is self-contained: entry state, memory operations and dump addresses, so
 * replaying needs no generator. Format (hex numbers without 0x):
 *
 *   # comment lines anywhere
 *   case <class> <description to the end of the line>
 *   state cr0=11 cr3=0 cr4=0 eflags=2 eip=310000 eax=... edi=... cs=8 ss=10 ds=10 es=10 fs=0
 *         gs=0 ldtr=58 tr=28 gdt_limit=1ff idt_limit=7ff sysenter_cs=0 sysenter_esp=0
 *         sysenter_eip=0 tags=0 tag0=0 ... tag7=0      (one line; keys in any order)
 *   dump <addr>...                    (repeatable)
 *   copy <addr> <hex bytes>
 *   zero <addr> <len>
 *   end
 *
 * Files are untrusted: lines are length-limited, every key and number is checked, a case that
 * does not fit the builder's limits is rejected with the line number.
 */
#ifndef CLOISTER_SYSORACLE_CASEFILE_H
#define CLOISTER_SYSORACLE_CASEFILE_H

#include <stdio.h>

#include "tests/sysoracle/gen.h"

#define CASEFILE_LINE_MAX 65536

/* Append one case. Returns 0 or -1 on a write error. */
int casefile_write(FILE *f, const struct sc *s, const char *comment);

/* Parse every case of a text; *out is malloc'd (free it), *n the count. Returns 0, or -1 with a
 * message "line N: ..." in why. */
int casefile_parse(const char *text, size_t len, struct sc **out, size_t *n, char *why, size_t whylen);

/* Read a file and parse it. */
int casefile_read(const char *path, struct sc **out, size_t *n, char *why, size_t whylen);

#endif
