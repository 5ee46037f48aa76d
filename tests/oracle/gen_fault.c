/*
 * gen_fault.c - the fault class: memory operands at the guard page, the unmapped page below the
 * data area, straddling into the guard page, and writes to the (read-only) code page (#PF with
 * CR2 and the error code); privileged instructions at CPL 3 (#GP(0)); invalid encodings (#UD);
 * INT3, INT 3, INTO, INT 4, ICEBP, BOUND; jumps to unmapped pages and an instruction that runs
 * off the end of the code page (instruction-fetch #PF).
 */
#include "tests/oracle/gen.h"

#include <string.h>

#include "ipc/ir.h"
#include "tests/oracle/flags_table.h"

static uint32_t fault_addr(struct rng *r, unsigned size)
{
    switch (rng_below(r, 6)) {
    case 0: return ORN_GUARD_BASE + rng_below(r, 0x1000 - size + 1);
    case 1: return ORN_GUARD_BASE - 1 - rng_below(r, size > 1 ? size - 1 : 1); /* straddles */
    case 2: return ORN_DATA_BASE - size + 1 + rng_below(r, size > 1 ? size - 1 : 1); /* straddles below */
    case 3: return ORN_UNMAPPED_LO + rng_below(r, ORN_DATA_BASE - ORN_UNMAPPED_LO - size);
    case 4: return ORN_CODE_BASE + rng_below(r, ORN_CODE_SIZE - size); /* writes fault, reads work */
    default: return ORN_UNMAPPED_HI + rng_below(r, ORN_CODE_BASE - ORN_UNMAPPED_HI - size);
    }
}

static void mem_fault(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    unsigned size = og_size(r);
    if (rng_one_in(r, 6))
        size = 8; /* CMPXCHG8B */
    uint32_t off = fault_addr(r, size);
    struct og_rm rm;
    memset(&rm, 0, sizeof rm);
    rm.mem = true;
    rm.off = off;
    og_mem_plan(x, off, 0, 0, &rm.m);
    sn_presets_from_mem(s, &rm.m);
    unsigned kind = rng_below(r, 6);
    bool writes = kind != 0 && kind != 5;
    og_rm_prefixes(x, s, &rm, size == 2, writes, writes && kind == 2 && rng_one_in(r, 3), 0);
    if (size == 8) {
        sn_b(s, 0x0F);
        sn_b(s, 0xC7);
        og_emit_rm(s, 1, &rm);
        return;
    }
    bool w = size != 1;
    switch (kind) {
    case 0: sn_b(s, (uint8_t)(0x8A | w)); og_emit_rm(s, rng_below(r, 8), &rm); break;  /* load */
    case 1: sn_b(s, (uint8_t)(0x88 | w)); og_emit_rm(s, rng_below(r, 8), &rm); break;  /* store */
    case 2: sn_b(s, (uint8_t)(0x00 | w)); og_emit_rm(s, rng_below(r, 8), &rm); break;  /* add: RMW */
    case 3: sn_b(s, size == 1 ? 0xFE : 0xFF); og_emit_rm(s, 0, &rm); break;             /* inc */
    case 4: sn_b(s, 0x0F); sn_b(s, (uint8_t)(0xC0 | w)); og_emit_rm(s, rng_below(r, 8), &rm); break; /* xadd */
    default: sn_b(s, (uint8_t)(0x84 | w)); og_emit_rm(s, rng_below(r, 8), &rm); break;  /* test: read */
    }
    if (kind == 2 || kind == 4)
        sn_flags(s, kind == 2 ? IR_ADD : IR_XADD, size, 0);
    if (kind == 3)
        sn_flags(s, IR_INC, size, 0);
    if (kind == 5)
        sn_flags(s, IR_TEST, size, 0);
}

static void privileged(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    struct og_mem m;
    switch (rng_below(r, 16)) {
    case 0: sn_b(s, 0xF4); break;                                         /* HLT */
    case 1: sn_b(s, rng_one_in(r, 2) ? 0xFA : 0xFB); break;               /* CLI / STI */
    case 2: { static const uint8_t io[] = { 0xE4, 0xE5, 0xE6, 0xE7 };     /* IN/OUT imm8 */
        sn_b(s, io[rng_below(r, 4)]);
        sn_b(s, (uint8_t)rng_u32(r));
        break; }
    case 3: sn_b(s, (uint8_t)(0xEC + rng_below(r, 4))); break;            /* IN/OUT DX */
    case 4: /* INS/OUTS, possibly with REP */
        if (rng_one_in(r, 2))
            sn_b(s, 0xF3);
        sn_b(s, (uint8_t)(0x6C + rng_below(r, 4)));
        sn_preset(s, R_ESI, ORN_DATA_BASE + 0x100, true);
        sn_preset(s, R_EDI, ORN_DATA_BASE + 0x200, true);
        break;
    case 5: case 6: /* LGDT / LIDT / INVLPG m */
        og_mem_plan(x, ORN_DATA_BASE + rng_below(r, 0x3000), 0, 0, &m);
        sn_presets_from_mem(s, &m);
        sn_prefixes(s, r, rng_one_in(r, 4), m.a16, 0, false, 0);
        sn_b(s, 0x0F);
        sn_b(s, 0x01);
        { static const uint8_t g[3] = { 2, 3, 7 }; sn_modrm_mem(s, g[rng_below(r, 3)], &m); }
        break;
    case 7: /* LLDT / LTR r/m16 (register) */
        sn_b(s, 0x0F);
        sn_b(s, 0x00);
        sn_modrm_reg(s, 2 + rng_below(r, 2), rng_below(r, 8));
        break;
    case 8: /* LMSW r16 */
        sn_b(s, 0x0F);
        sn_b(s, 0x01);
        sn_modrm_reg(s, 6, rng_below(r, 8));
        break;
    case 9: sn_b(s, 0x0F); sn_b(s, 0x06); break;                          /* CLTS */
    case 10: { /* MOV to/from CR0/2/3/4 */
        static const uint8_t crs[4] = { 0, 2, 3, 4 };
        sn_b(s, 0x0F);
        sn_b(s, rng_one_in(r, 2) ? 0x20 : 0x22);
        sn_modrm_reg(s, crs[rng_below(r, 4)], rng_below(r, 8));
        break;
    }
    case 11: /* MOV to/from DR0-7 */
        sn_b(s, 0x0F);
        sn_b(s, rng_one_in(r, 2) ? 0x21 : 0x23);
        { /* not DR4/DR5: whether they alias DR6/DR7 depends on CR4.DE */
            static const uint8_t drs[6] = { 0, 1, 2, 3, 6, 7 };
            sn_modrm_reg(s, drs[rng_below(r, 6)], rng_below(r, 8));
        }
        break;
    case 12: sn_b(s, 0x0F); sn_b(s, rng_one_in(r, 2) ? 0x08 : 0x09); break; /* INVD / WBINVD */
    case 13: sn_b(s, 0x0F); sn_b(s, rng_one_in(r, 2) ? 0x30 : 0x32); break; /* WRMSR / RDMSR */
    default: sn_b(s, 0xF4); break;
    }
}

static void invalid(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    switch (rng_below(r, 10)) {
    case 0: sn_b(s, 0x0F); sn_b(s, 0x0B); break;                                  /* UD2 */
    case 1: sn_b(s, 0x0F); sn_b(s, 0xB9); sn_modrm_reg(s, rng_below(r, 8), rng_below(r, 8)); break; /* UD1 */
    case 2: sn_b(s, 0xFE); sn_modrm_reg(s, 2 + rng_below(r, 6), rng_below(r, 8)); break; /* FE /2../7 */
    case 3: sn_b(s, 0xFF); sn_modrm_reg(s, 7, rng_below(r, 8)); break;            /* FF /7 */
    case 4: sn_b(s, 0x8E); sn_modrm_reg(s, rng_one_in(r, 2) ? 1 : 6 + rng_below(r, 2), rng_below(r, 8)); break; /* MOV CS/bad sreg */
    case 5: sn_b(s, 0x8C); sn_modrm_reg(s, 6 + rng_below(r, 2), rng_below(r, 8)); break; /* MOV r, bad sreg */
    case 6: sn_b(s, 0x8D); sn_modrm_reg(s, rng_below(r, 8), rng_below(r, 8)); break; /* LEA reg */
    case 7: { /* LOCK on an instruction that cannot take it */
        static const uint8_t b[][2] = { { 0x90, 0 }, { 0x01, 0xC0 }, { 0x8B, 0xC1 }, { 0x40, 0 }, { 0xF8, 0 } };
        unsigned k = rng_below(r, 5);
        sn_b(s, 0xF0);
        sn_b(s, b[k][0]);
        if (b[k][1])
            sn_b(s, b[k][1]);
        break;
    }
    case 8: sn_b(s, 0x0F); sn_b(s, 0xFF); break;                                  /* UD0 */
    default: sn_b(s, 0x0F); sn_b(s, 0xC7); sn_modrm_reg(s, 1, rng_below(r, 8)); break; /* CMPXCHG8B reg */
    }
}

static void traps(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    switch (rng_below(r, 7)) {
    case 0: sn_b(s, 0xCC); break;                                      /* INT3 */
    case 1: sn_b(s, 0xCD); sn_b(s, 3); break;                          /* INT 3 */
    case 2: sn_b(s, 0xCD); sn_b(s, 4); break;                          /* INT 4 */
    case 3: /* INTO, OF set or clear */
        sn_b(s, 0xCE);
        if (rng_one_in(r, 3))
            s->eflags_clear |= OF_OF;
        else
            s->eflags_set |= OF_OF;
        break;
    case 4: sn_b(s, 0xF1); break;                                      /* ICEBP */
    default: { /* BOUND r, m: index inside, at and past both bounds */
        bool w16 = rng_one_in(r, 3);
        unsigned sz = w16 ? 2 : 4;
        uint32_t off = og_data_off(x, 2 * sz, true);
        struct og_mem m;
        og_mem_plan(x, off, 0, 0, &m);
        unsigned reg = og_reg(x, m.regs);
        sn_presets_from_mem(s, &m);
        int32_t lo = (int32_t)og_val(r, sz), hi = (int32_t)og_val(r, sz);
        if (w16) {
            lo = (int16_t)lo;
            hi = (int16_t)hi;
        }
        if (lo > hi && rng_one_in(r, 2)) {
            int32_t t = lo;
            lo = hi;
            hi = t;
        }
        uint32_t idx; /* wrapping arithmetic: the edges may be INT_MIN/INT_MAX */
        switch (rng_below(r, 6)) {
        case 0: idx = (uint32_t)lo; break;
        case 1: idx = (uint32_t)hi; break;
        case 2: idx = (uint32_t)lo - 1; break;
        case 3: idx = (uint32_t)hi + 1; break;
        default: idx = (uint32_t)lo + rng_below(r, (uint32_t)hi - (uint32_t)lo + 1); break;
        }
        sn_mem_val(s, off, (uint32_t)lo, sz);
        sn_mem_val(s, off + sz, (uint32_t)hi, sz);
        sn_prefixes(s, r, w16, m.a16, 0, false, 0);
        sn_b(s, 0x62);
        sn_modrm_mem(s, reg, &m);
        if (!(s->must_mask & RB(reg)))
            sn_preset_part(s, r, reg, sz, idx, false);
        break;
    }
    }
}

static void fetch_fault(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    if (rng_one_in(r, 2)) {
        /* JMP to an unmapped page, the guard page, or the data area (execute from data: i686
         * paging has no NX, so keep to pages that are not present on either side) */
        uint32_t target = rng_one_in(r, 2) ? ORN_UNMAPPED_LO + rng_below(r, 0x6000)
                                           : ORN_GUARD_BASE + rng_below(r, 0x1000);
        if (rng_one_in(r, 4))
            target = ORN_CODE_BASE + ORN_CODE_SIZE + rng_below(r, 0x1000);
        unsigned reg = og_reg(x, RB(R_ESP));
        sn_b(s, 0xFF);
        sn_modrm_reg(s, 4, reg);
        sn_preset(s, reg, target, true);
        return;
    }
    /* an instruction straddling the end of the code page: place the snippet so it ends exactly
     * at the page end with only part of the instruction on the page */
    static const uint8_t insns[][6] = {
        { 5, 0xB8, 0x11, 0x22, 0x33, 0x44 }, /* mov eax, imm32 */
        { 6, 0x81, 0xC1, 0x01, 0x00, 0x00 }, /* add ecx, imm32 (first 5 bytes) */
        { 3, 0x0F, 0xAF, 0xC1 },             /* imul eax, ecx */
        { 2, 0x66, 0x90 },                   /* prefix then nop */
    };
    unsigned k = rng_below(r, 4);
    unsigned n = insns[k][0];
    unsigned keep = 1 + rng_below(r, n - 1 > 0 ? n - 1 : 1); /* bytes on this page */
    if (keep >= n)
        keep = n - 1;
    if (keep == 0)
        keep = 1;
    for (unsigned i = 0; i < keep; i++)
        sn_b(s, insns[k][1 + i]);
    if (x->c)
        x->c->code_off = ORN_CODE_SIZE - keep;
    s->no_exit = true;
}

void gen_fault(struct og_ctx *x, struct og_snip *s)
{
    s->no_seq = true;
    switch (rng_below(x->r, 10)) {
    case 0: case 1: case 2: mem_fault(x, s); break;
    case 3: case 4: privileged(x, s); break;
    case 5: case 6: invalid(x, s); break;
    case 7: case 8: traps(x, s); break;
    default: fetch_fault(x, s); break;
    }
}
