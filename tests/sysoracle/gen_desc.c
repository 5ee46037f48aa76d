/*
 * gen_desc.c - the "desc" class: a random descriptor in the GDT or LDT (any type, S, DPL, P, A,
 * base, limit, G, D/B) and a selector for it (any RPL) - or a null selector, one past the GDT or
 * LDT limit, an LDT selector without an LDT, or one of the framework's - examined with LAR, LSL,
 * VERR and VERW (results and ZF kept in registers), then loaded from ring 0..3 by MOV or POP to
 * DS/ES/FS/GS/SS, by LDS/LES/LFS/LGS/LSS, or into CS by a far JMP/CALL to a landing pad. A
 * successful data load is followed by a read and a write at an offset chosen at the segment's
 * limit edges (expand-up and expand-down, 16- and 32-bit upper bounds), whose linear address
 * the base puts in scratch memory; SS loads push and pop. The record shows the exact vector and
 * error code of a failed load, the registers, the loaded selector, and (dumps) the descriptor's
 * accessed bit and the scratch memory.
 */
#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/sdm.h"

#define G_INDEX 24 /* sel 0xC0 */
#define L_INDEX 3  /* sel 0x1C */

enum op { OP_MOV, OP_POP, OP_LFP, OP_FAR };

/* Does an access of `size` bytes at `off` fit the segment (SDM vol. 3 5.3)? */
static bool in_limits(bool expand_down, uint32_t limit, bool db, uint32_t off, unsigned size)
{
    uint64_t last = (uint64_t)off + size - 1;
    if (!expand_down)
        return last <= limit;
    return off > limit && last <= (db ? 0xFFFFFFFFull : 0xFFFFull);
}

void gen_desc(struct sc *s, struct so_rng *r)
{
    static const unsigned cpls[] = {0, 0, 3, 3, 3, 1, 2};
    unsigned cpl = SO_PICK(r, cpls);
    sc_set_cpl(s, cpl);
    sc_maybe_paging(s, r, 4);
    s->c.eflags = 2 | (so_rng_u32(r) & 0x08D5);

    /* the operation decides which descriptors are interesting */
    enum op op = so_below(r, 10) < 5 ? OP_MOV : (enum op)so_below(r, 4);
    static const unsigned data_sregs[] = {S_DS, S_ES, S_FS, S_GS, S_SS};
    unsigned sreg = op == OP_FAR ? S_CS : so_one_in(r, 5) ? S_SS : data_sregs[so_below(r, 4)];
    bool call = op == OP_FAR && so_one_in(r, 3);

    /* the descriptor */
    bool code = op == OP_FAR ? !so_one_in(r, 6) : so_one_in(r, 4);
    unsigned type = code ? 8 | so_below(r, 8) : so_below(r, 8);
    unsigned sbit = so_one_in(r, 12) ? 0 : 1;
    if (!sbit) {
        /* system descriptors; a far transfer to a TSS or through a gate is not this class's */
        static const unsigned harmless[] = {0, 2, 6, 7, 8, 0xA, 0xD, 0xE, 0xF};
        type = op == OP_FAR ? SO_PICK(r, harmless) : so_below(r, 16);
    }
    unsigned dpl = so_below(r, 4), present = !so_one_in(r, 8);
    if (so_below(r, 2)) /* often a DPL that can work from this CPL */
        dpl = (sreg == S_SS || (code && !(type & 4))) ? cpl : cpl + so_below(r, 4 - cpl);
    unsigned g = so_one_in(r, 3), db = so_below(r, 2);
    uint32_t raw;
    switch (so_below(r, 4)) {
    case 0: raw = so_below(r, 0x1000); break;
    case 1: raw = 0xFFFF; break;
    case 2: raw = 0xFFFFF; break;
    default: raw = so_rng_u32(r) & 0xFFFFF; break;
    }
    uint32_t limit = g ? raw << 12 | 0xFFF : raw;
    bool expand_down = sbit && !code && (type & 4);
    uint32_t upper = expand_down ? (db ? 0xFFFFFFFFu : 0xFFFF) : limit;

    /* the offset of the access, near the edges of the valid range, and a base that puts the
     * access into scratch memory */
    uint32_t off;
    uint32_t lo = expand_down ? limit + 1 : 0;
    switch (so_below(r, 6)) {
    case 0: off = upper - 3; break;
    case 1: off = upper - 2; break;
    case 2: off = upper + 1; break;
    case 3: off = lo; break;
    case 4: off = lo - 1 - so_below(r, 3); break;
    default: off = lo + (so_rng_u32(r) % (upper - lo + 1u ? upper - lo + 1u : 1u)); break;
    }
    uint32_t target = SO_TEST_PAGES + (so_rng_u32(r) & 0xFFF0);
    uint32_t base = target - off;
    if (sreg == S_SS) {
        /* the access is the PUSH at (E)SP - 4 (SP with a 16-bit stack), which the base must put
         * in scratch memory too (outside RAM QEMU reads 0, cloister all-ones) */
        uint32_t esp = s->c.gpr[R_ESP];
        off = db ? esp - 4 : ((esp & 0xFFFF) - 4) & 0xFFFF;
        base = target - off;
    }
    if (op == OP_FAR) {
        static const uint32_t bases[] = {0, 0, 0x1000, 0x10000};
        base = SO_PICK(r, bases);
        off = so_pad(r) - base;
        if (so_one_in(r, 2))
            limit = off + 1 + so_below(r, 0x100); /* just covering it */
        if (so_one_in(r, 8))
            limit = off - 1 - so_below(r, 4); /* just short */
        if (limit > 0xFFFFF) { /* byte granularity cannot say it: pages */
            g = 1;
            raw = limit >> 12;
            limit = raw << 12 | 0xFFF;
        } else {
            g = 0;
            raw = limit;
        }
    }
    unsigned access = present << 7 | dpl << 5 | sbit << 4 | type;
    if (sbit && so_below(r, 2))
        access |= 1; /* accessed already (for a system descriptor bit 0 is part of the type) */
    uint64_t desc = d_seg(base, raw, access, g << 3 | db << 2);

    bool in_ldt = so_one_in(r, 3);
    unsigned rpl = so_one_in(r, 3) ? so_below(r, 4) : cpl;
    uint16_t sel;
    uint32_t desc_addr;
    if (in_ldt) {
        sc_ldt(s, L_INDEX, desc);
        sel = (uint16_t)(L_INDEX * 8 | 4 | rpl);
        desc_addr = SO_LDT + L_INDEX * 8;
    } else {
        sc_gdt(s, G_INDEX, desc);
        sel = (uint16_t)(G_INDEX * 8 | rpl);
        desc_addr = SO_GDT + G_INDEX * 8;
    }
    const char *special = "";
    /* what an access through the loaded register meets (for the SDM rule) */
    bool null_sel = false, fw_code = false, known = true;
    switch (so_one_in(r, 4) ? so_below(r, 7) : 99) {
    case 0: sel = (uint16_t)so_below(r, 4); special = " (null)"; null_sel = true; break;
    case 1:
        s->c.gdt_limit = (uint16_t)(G_INDEX * 8 + so_below(r, 8) - 1);
        sel = (uint16_t)(G_INDEX * 8 | rpl);
        special = " (GDT limit cuts it)";
        known = false;
        break;
    case 2:
        sc_gdt(s, SO_SEL_LDT >> 3, d_seg(SO_LDT, L_INDEX * 8 + so_below(r, 8) - 1, 0x82, 0));
        sel = (uint16_t)(L_INDEX * 8 | 4 | rpl);
        special = " (LDT limit cuts it)";
        known = false;
        break;
    case 3:
        s->c.ldtr = 0;
        sel = (uint16_t)(L_INDEX * 8 | 4 | rpl);
        special = " (no LDT)";
        known = false;
        break;
    case 4: {
        static const uint16_t fw[] = {SO_SEL_CODE0, SO_SEL_DATA0, SO_SEL_CODE3, SO_SEL_DATA3, SO_SEL_TSS,
                                      SO_SEL_LDT, SO_SEL_DATA1, SO_SEL_CODE2};
        sel = (uint16_t)((SO_PICK(r, fw) & ~3) | rpl);
        special = " (framework)";
        off = op == OP_FAR ? so_pad(r) : 0x330000 + (so_rng_u32(r) & 0xFFF0);
        fw_code = sel == (SO_SEL_CODE0 & ~3) + rpl || sel == (SO_SEL_CODE3 & ~3) + rpl || sel == (SO_SEL_CODE2 & ~3) + rpl;
        type = fw_code ? 0xA : 0x2;
        code = fw_code;
        sbit = 1;
        expand_down = false;
        limit = 0xFFFFFFFFu;
        break;
    }
    default: break;
    }

    static const char *const sname[] = {"ES", "CS", "SS", "DS", "FS", "GS"};
    sc_descf(s, "CPL%u %s %s 0x%04x%s; descriptor %s base 0x%x limit 0x%x%s type 0x%x S%u DPL%u P%u D/B%u; "
                "offset 0x%x",
             cpl, op == OP_MOV ? "MOV" : op == OP_POP ? "POP" : op == OP_LFP ? "LxS" : call ? "CALL FAR" : "JMP FAR",
             sname[sreg], sel, special, in_ldt ? "LDT" : "GDT", base, raw, g ? " (G)" : "", type, sbit, dpl, present,
             db, off);

    /* the framework's IRET into the case loaded CS (and SS when it went outward) */
    if ((sel & ~3) == (s->c.cs & ~3) || (cpl && (sel & ~3) == (s->c.ss & ~3))) {
        s->tags |= SDM_T_ENTRY_ACCESSED;
    }
    struct emit e;
    em_init(&e, SO_CODE);
    em_mov_ri(&e, R_ESI, sel);
    em_mov_ri(&e, R_EBX, 0xB3B3B3B3);
    em_mov_ri(&e, R_EDX, 0xD2D2D2D2);
    em_lar(&e, R_EBX, R_ESI);
    em_setz(&e, 1);  /* CL */
    em_lsl(&e, R_EDX, R_ESI);
    em_setz(&e, 5);  /* CH */
    em_verr(&e, R_ESI);
    em_setz(&e, 0);  /* AL */
    em_verw(&e, R_ESI);
    em_setz(&e, 4);  /* AH */
    switch (op) {
    case OP_MOV: em_mov_sr(&e, sreg, R_ESI); break;
    case OP_POP:
        em_push_r(&e, R_ESI);
        em_pop_s(&e, sreg);
        break;
    case OP_LFP: {
        uint8_t ptr[6] = {(uint8_t)off, (uint8_t)(off >> 8), (uint8_t)(off >> 16), (uint8_t)(off >> 24), (uint8_t)sel,
                          (uint8_t)(sel >> 8)};
        sc_copy(s, SO_CODE + 0xC00, ptr, 6);
        em_lfp(&e, sreg, R_EDI, SO_CODE + 0xC00);
        break;
    }
    case OP_FAR: em_far(&e, call, false, sel, off); break;
    }
    bool conforming = (type & 4) != 0;
    bool far_ok = sbit && code && present && (conforming ? dpl <= cpl : (dpl == cpl && rpl <= cpl));
    if (op == OP_FAR && !special[0] && far_ok && off <= limit) {
        /* QEMU leaves the accessed bit clear on CS loads (sdm.c "cs-ss-accessed-bit") */
        s->tags |= SDM_T_FAR_ACCESSED;
        s->tagval[5] = sel;
    }
    if (op == OP_FAR && known && !null_sel && far_ok && off > limit) {
        /* QEMU's error code here is the selector (sdm.c "far-transfer-eip-limit") */
        s->tags |= SDM_T_FAR_LIMIT;
        s->tagval[4] = em_here(&e) - (call ? 7 : 7);
    }
    if (op == OP_FAR && known && !null_sel && !sbit) {
        /* QEMU raises #TS(selector) for some of these (sdm.c "far-transfer-system-type") */
        s->tags |= SDM_T_FAR_SYSTYPE;
        s->tagval[4] = em_here(&e) - 7;
    }
    bool readable = code ? (type & 2) : true, writable = !code && (type & 2);
    uint32_t first_bad = 0, bad_vec = 13;
    if (op != OP_FAR) {
        if (sreg == S_SS) {
            uint32_t esp = s->c.gpr[R_ESP];
            uint32_t push_off = db ? esp - 4 : ((esp & 0xFFFF) - 4) & 0xFFFF;
            if (!in_limits(expand_down, limit, db, push_off, 4)) {
                first_bad = em_here(&e);
                /* at CPL 0 the #SS is delivered on the same stack: double fault */
                bad_vec = cpl ? 12 : 8 | SO_VEC_TASK;
            }
            em_push_i(&e, 0x5EED0000 | cpl);
            em_pop_r(&e, R_EDI);
            if (cpl == 0) { /* the next event must find a flat ring-0 stack */
                em_mov_ri(&e, R_EBP, SO_SEL_DATA0);
                em_mov_sr(&e, S_SS, R_EBP);
                em_mov_ri(&e, R_ESP, s->c.gpr[R_ESP]);
            }
        } else {
            if (null_sel || !readable || !in_limits(expand_down, limit, db, off, 4))
                first_bad = em_here(&e);
            em_load(&e, (int)sreg, R_EDI, off);
            if (so_below(r, 2)) {
                if (!first_bad && (null_sel || !writable || !in_limits(expand_down, limit, db, off, 4)))
                    first_bad = em_here(&e);
                em_store_imm(&e, (int)sreg, off, 0x600DF00D);
            }
        }
    }
    if (first_bad && known && (sbit || null_sel)) {
        /* QEMU does not check these accesses (sdm.c "segment-access-checks") */
        s->tags |= SDM_T_SEG_ACCESS;
        s->tagval[0] = first_bad;
        s->tagval[1] = bad_vec;
    }
    em_ud2(&e);
    sc_code(s, &e);
    sc_dump(s, desc_addr);
    sc_dump(s, desc_addr + 4);
    sc_dump(s, target);
    sc_dump(s, target + 4);
    sc_zero(s, target - 16, 32);
}
