/*
 * gen.h - building system-oracle cases: a case is the kernel's struct so_case (entry state,
 * memory operations, dump addresses) plus, on the host only, a description and tags naming the
 * SDM-exception rules (sdm.h) that may apply to it. One generator per class fills a case from a
 * random source; every case is a pure function of (seed, class, index).
 */
#ifndef CLOISTER_SYSORACLE_GEN_H
#define CLOISTER_SYSORACLE_GEN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/sysoracle/blob.h"
#include "tests/sysoracle/emit.h"
#include "tests/sysoracle/rng.h"

#define SC_OPS_MAX 16384
#define SC_DESC_MAX 600

struct sc {
    struct so_case c;
    size_t nops;
    bool overflow;          /* an operation or the description did not fit: a generator bug */
    uint32_t tags;          /* SDM-exception rules that may apply (enum sdm_tag bits) */
    uint32_t tagval[8];     /* their parameters (sdm.h says which tag uses which) */
    char cls[16];
    char desc[SC_DESC_MAX];
    uint8_t ops[SC_OPS_MAX];
};

/* Defaults: flat framework segments for `cpl` (0..3), EIP = SO_CODE, the ring's default stack,
 * CR0 = PE|ET, no paging, EFLAGS = 2, recognisable GPR values, LDT and TSS loaded, full table
 * limits, SYSENTER MSRs zero, and dumps of the top of the ring stacks. */
void sc_init(struct sc *s, const char *cls, unsigned cpl);
void sc_copy(struct sc *s, uint32_t addr, const void *data, uint32_t len);
void sc_zero(struct sc *s, uint32_t addr, uint32_t len);
void sc_poke32(struct sc *s, uint32_t addr, uint32_t v);
void sc_gdt(struct sc *s, unsigned index, uint64_t desc);
void sc_ldt(struct sc *s, unsigned index, uint64_t desc);
void sc_idt(struct sc *s, unsigned vec, uint64_t gate);
void sc_dump(struct sc *s, uint32_t addr);
void sc_dump_range(struct sc *s, uint32_t addr, unsigned ndwords);
void sc_clear_dumps(struct sc *s);
void sc_code(struct sc *s, const struct emit *e); /* copy the emitted bytes to e->org */
void sc_descf(struct sc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_set_cpl(struct sc *s, unsigned cpl); /* CS/SS/DS/ES and ESP for that ring */

/* The last value the case's operations write to the dword at addr (COPY covering it, ZERO gives
 * 0); false if no operation writes it. */
bool sc_initial32(const struct sc *s, uint32_t addr, uint32_t *value);

/* The kernel's bytes of a case (header + ops); 0 if it does not fit in cap. */
size_t sc_serialize(const struct sc *s, uint8_t *out, size_t cap);
/* Iterate the ops of a case (for the case file writer). */
struct sc_op_view {
    uint32_t kind, addr, len;
    const uint8_t *data;
};
size_t sc_op_count(const struct sc *s);
bool sc_op_get(const struct sc *s, size_t i, struct sc_op_view *v);

/* Descriptors. access = P DPL S type (the byte at bits 40..47), flags = G D/B L AVL (bits 52..55). */
uint64_t d_seg(uint32_t base, uint32_t limit, unsigned access, unsigned flags);
/* Gates: type 4 (16-bit call), 5 (task), 6/7 (16-bit int/trap), 0xC (call), 0xE/0xF (int/trap). */
uint64_t d_gate(uint16_t sel, uint32_t off, unsigned type, unsigned dpl, bool present, unsigned params);

/* ring selectors of the framework */
uint16_t so_code_sel(unsigned ring);
uint16_t so_data_sel(unsigned ring);
uint32_t so_ring_esp(unsigned ring);

/* One case in `one_in` runs with paging on: the framework's identity tables (CR3 = SO_PD; ring-3
 * code, stack and pad pages user, the rest supervisor), WP and PSE at random. */
void sc_maybe_paging(struct sc *s, struct so_rng *r, unsigned one_in);

/* A landing pad (UD2) address in the pad page, from a random source. */
uint32_t so_pad(struct so_rng *r);

struct so_class {
    const char *name;
    const char *covers;
    void (*gen)(struct sc *s, struct so_rng *r);
};
extern const struct so_class so_classes[];
extern const unsigned so_nclasses;
const struct so_class *so_class_find(const char *name);

/* Generate case `index` of class `cls` for `seed`. */
void so_generate(const struct so_class *cls, uint64_t seed, uint32_t index, struct sc *out);

void gen_gates(struct sc *s, struct so_rng *r);
void gen_iret(struct sc *s, struct so_rng *r);
void gen_callgate(struct sc *s, struct so_rng *r);
void gen_sysenter(struct sc *s, struct so_rng *r);
void gen_cr(struct sc *s, struct so_rng *r);
void gen_desc(struct sc *s, struct so_rng *r);
void gen_paging(struct sc *s, struct so_rng *r);

#endif
