/*
 * gen.h - test-case generators: per instruction class, random instructions with edge-case
 * operands, built as "snippets" that say which register values and memory bytes they need, which
 * flags they read, define and leave undefined. A single-instruction case is one snippet plus a
 * UD2; the seq class strings snippets together (loading only the values a snippet cannot do
 * without, and never letting an instruction consume a flag an earlier one left undefined).
 *
 * Memory operands are always planned: the generator picks the effective address first (inside the
 * data area, or deliberately at the guard page / unmapped pages / code page) and then chooses
 * registers and displacement that produce it. This is what keeps native execution inside the
 * layout of proto.h: no generated access can reach the runner's own memory.
 */
#ifndef CLOISTER_ORACLE_GEN_H
#define CLOISTER_ORACLE_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/oracle/case.h"
#include "tests/oracle/rng.h"

#define OG_SNIP_MAX 128u
#define OG_MEMP_MAX 6u

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS };
#define RB(r) (1u << (r))

struct og_memp {
    uint32_t addr;
    uint32_t len;
    uint8_t b[64];
};

struct og_snip {
    uint8_t code[OG_SNIP_MAX];
    unsigned len;
    uint32_t preset[8];
    uint8_t preset_mask; /* registers given an initial value */
    uint8_t must_mask;   /* of those: a sequence must load them just before the snippet */
    uint32_t flags_in;   /* EFLAGS bits the snippet's results depend on */
    uint32_t flags_def;  /* bits it leaves defined */
    uint32_t flags_undef;/* bits it leaves undefined */
    uint32_t eflags_set, eflags_clear; /* initial flags wanted (single-instruction cases only) */
    struct og_memp mem[OG_MEMP_MAX];
    unsigned nmem;
    bool no_seq;   /* cannot be placed inside a sequence */
    bool no_exit;  /* single case: do not append the UD2 (the snippet ends the code page) */
    bool fault_partial; /* a fault may leave part of the work done (OC_F_FAULT_PARTIAL) */
    uint32_t reg_ignore[8]; /* result bits the SDM leaves undefined */
    bool overflow; /* something did not fit: the snippet is discarded */
};

/* A planned memory operand (see og_mem_plan). */
struct og_mem {
    bool a16;          /* 16-bit addressing: needs a 67 prefix */
    uint8_t mod, rm;
    bool has_sib;
    uint8_t sib;
    uint8_t disp_size; /* 0, 1, 2 or 4 */
    uint32_t disp;
    uint8_t regs;      /* registers taking part in the address */
    uint32_t val[8];   /* their values */
    uint8_t def_seg;   /* S_DS, or S_SS for EBP/ESP (BP) based forms */
};

/* Memory planning options. */
#define OGM_NO16 0x1u   /* no 16-bit addressing */
#define OGM_ONLY16 0x2u
#define OGM_NOESP 0x4u  /* no ESP base (ESP's value is not free) */
#define OGM_NOREG 0x8u  /* absolute displacement only */

struct og_ctx {
    struct rng *r;
    bool seq;            /* building a snippet for the seq class */
    uint8_t avoid_dst;   /* registers no generated instruction may write */
    uint32_t eip;        /* linear address of the snippet's first byte */
    struct oracle_case *c; /* the case being built (for segment setup and flags) */
};

/* ---- values ---- */
uint32_t og_val(struct rng *r, unsigned size);  /* edge-biased value of `size` bytes */
uint32_t og_count(struct rng *r);               /* edge-biased shift count */
unsigned og_size(struct rng *r);                /* 1, 2 or 4 */
unsigned og_reg(struct og_ctx *x, uint8_t avoid); /* a register not in `avoid` */
unsigned og_dst_reg(struct og_ctx *x, uint8_t avoid); /* ... and not in x->avoid_dst */
/* Register number that holds byte register `r8` (AL..BH -> EAX..EBX). */
static inline unsigned og_reg8_owner(unsigned r8) { return r8 & 3; }

/* An offset in the data area for an access of `size` bytes; now and then one that crosses into
 * or lies in the guard page. `fault_ok` = 0 never faults. */
uint32_t og_data_off(struct og_ctx *x, unsigned size, bool fault_ok);

/* ---- snippet building ---- */
void sn_init(struct og_snip *s);
void sn_b(struct og_snip *s, uint8_t v);
void sn_w(struct og_snip *s, uint16_t v);
void sn_d(struct og_snip *s, uint32_t v);
void sn_imm(struct og_snip *s, uint32_t v, unsigned size);
void sn_modrm_reg(struct og_snip *s, unsigned regfield, unsigned rm);
void sn_modrm_mem(struct og_snip *s, unsigned regfield, const struct og_mem *m);
/* Set a register's initial value; `must` also makes a sequence load it. A preset overrides an
 * earlier one for the same register. */
void sn_preset(struct og_snip *s, unsigned reg, uint32_t val, bool must);
/* Set the low 8/16 bits (or bits 8..15 for AH..BH with size 1 and reg >= 4) of a register,
 * keeping or inventing the rest. */
void sn_preset_part(struct og_snip *s, struct rng *r, unsigned reg, unsigned size, uint32_t val, bool must);
void sn_presets_from_mem(struct og_snip *s, const struct og_mem *m);
/* Data to place in memory before the case; silently ignored outside the data area. */
void sn_mem(struct og_snip *s, uint32_t addr, const void *bytes, unsigned len);
void sn_mem_val(struct og_snip *s, uint32_t addr, uint32_t val, unsigned size);
void sn_flags(struct og_snip *s, unsigned op, unsigned osize, uint32_t count);
/* Prefixes in random order: operand size, address size, segment (0 = none), lock, rep byte. */
void sn_prefixes(struct og_snip *s, struct rng *r, bool p66, bool p67, uint8_t seg, bool lock, uint8_t rep);

/* ---- memory operands ---- */
/* Plan a memory operand with effective address (offset) `off`, not using registers in `avoid`. */
void og_mem_plan(struct og_ctx *x, uint32_t off, uint8_t avoid, unsigned opts, struct og_mem *m);
/* A segment-override prefix byte for an access, or 0; flat segments make most of them
 * harmless; CS for a write is a #GP(0) test. */
uint8_t og_seg_prefix(struct og_ctx *x, bool write);
static inline uint8_t og_seg_byte(unsigned seg)
{
    static const uint8_t b[6] = { 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65 };
    return b[seg % 6];
}

/* A register or memory r/m operand. */
struct og_rm {
    bool mem;
    unsigned reg;  /* register operand (size 1: AL..BH numbering) */
    uint32_t off;  /* memory operand: effective address */
    struct og_mem m;
};
/* Choose an r/m operand of `size` bytes: memory with probability mem_pct %, register otherwise.
 * A register is not taken from `reg_avoid` (nor x->avoid_dst when `write`); an address does not
 * use `addr_avoid`. Memory gets an edge value and its address registers become must-presets. */
void og_pick_rm(struct og_ctx *x, struct og_snip *s, unsigned size, bool write, unsigned mem_pct,
                uint8_t reg_avoid, uint8_t addr_avoid, struct og_rm *o);
/* ModRM (+SIB, displacement) for an r/m operand. */
void og_emit_rm(struct og_snip *s, unsigned regfield, const struct og_rm *o);
/* Prefixes for an instruction with r/m operand `o` (67 and a segment override when memory). */
void og_rm_prefixes(struct og_ctx *x, struct og_snip *s, const struct og_rm *o, bool p66, bool write,
                    bool lock, uint8_t rep);
/* Give register `reg` (size-numbered) an edge value unless it is already pinned by a must-preset
 * (an address register). */
void og_value_reg(struct og_ctx *x, struct og_snip *s, unsigned reg, unsigned size);
/* Register number whose 32-bit register holds sized register `reg`. */
static inline unsigned og_full(unsigned reg, unsigned size) { return size == 1 ? (reg & 3) : (reg & 7); }

/* ---- classes ---- */
struct og_class {
    const char *name;
    const char *what;
    void (*gen)(struct og_ctx *x, struct og_snip *s);
    bool in_seq; /* its snippets may appear in the seq class */
};

/* The class table (static, read-only). */
const struct og_class *og_classes(unsigned *count);
const struct og_class *og_find_class(const char *name);
/* Build case number `index` of class `k` for `seed` (deterministic). Returns 0 or -E2BIG when
 * the generator kept producing oversized snippets. */
int og_make_case(const struct og_class *k, uint64_t seed, uint64_t index, struct oracle_case *c);

/* Apply a snippet's presets, memory and flags to a case. -E2BIG when patches do not fit. */
int og_apply_snip(struct oracle_case *c, const struct og_snip *s);

/* Generators, one per class (gen_*.c). */
void gen_alu(struct og_ctx *x, struct og_snip *s);
void gen_shift(struct og_ctx *x, struct og_snip *s);
void gen_muldiv(struct og_ctx *x, struct og_snip *s);
void gen_bcd(struct og_ctx *x, struct og_snip *s);
void gen_bit(struct og_ctx *x, struct og_snip *s);
void gen_data(struct og_ctx *x, struct og_snip *s);
void gen_stack(struct og_ctx *x, struct og_snip *s);
void gen_string(struct og_ctx *x, struct og_snip *s);
void gen_branch(struct og_ctx *x, struct og_snip *s);
void gen_fault(struct og_ctx *x, struct og_snip *s);
void gen_segment(struct og_ctx *x, struct og_snip *s);
void gen_x87(struct og_ctx *x, struct og_snip *s);
/* The seq class builds whole cases itself. */
int gen_seq_case(struct og_ctx *x, struct oracle_case *c);

#endif
