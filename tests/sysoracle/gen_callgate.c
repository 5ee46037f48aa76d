/*
 * gen_callgate.c - the "callgate" class: far CALL (direct or through memory) or far JMP through a
 * random call gate in the GDT or LDT from ring 0..3 after pushing parameters. The gate varies in
 * size (32/16-bit), parameter count, DPL, presence, selector RPL and target (ring 0-3 code,
 * conforming, 16-bit, not present, data, null, past the GDT); the TSS stacks of the inner rings
 * vary too (alignment, a bad SS0, an SS0 too small for the frame). The target is a UD2 landing
 * pad (the record shows the frame with the copied parameters) or code that returns with RETF
 * (imm16) - sometimes after corrupting the return CS or SS - to a UD2 after the call.
 */
#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/sdm.h"

#define G_CONF0 25   /* sel 0xC8: conforming code DPL0 */
#define G_NPCODE 26  /* sel 0xD0: code, DPL per case, not present */
#define G_CODE16 27  /* sel 0xD8: 16-bit code DPL0 */
#define G_SHORT3 28  /* sel 0xE3: code DPL3, limit 0xFFF */
#define G_NPDATA3 29 /* sel 0xEB: data DPL3, not present */
#define G_BADSS0 30  /* sel 0xF0: data DPL0, not present, or read-only */
#define G_TINYSS0 31 /* sel 0xF8: data DPL0 whose limit cuts the new frame */

void gen_callgate(struct sc *s, struct so_rng *r)
{
    static const unsigned cpls[] = {3, 3, 3, 3, 0, 1, 2};
    unsigned cpl = SO_PICK(r, cpls);
    sc_set_cpl(s, cpl);
    sc_clear_dumps(s);
    sc_maybe_paging(s, r, 4);
    uint32_t esp = so_ring_esp(cpl) - (cpl ? 0 : 0x400);
    s->c.gpr[R_ESP] = esp;
    s->c.eflags = 2 | (so_rng_u32(r) & 0x08D5) | (so_below(r, 4) << 12) | (so_one_in(r, 2) ? 0x200 : 0);

    /* the gate */
    bool g16 = so_one_in(r, 4);
    unsigned type = g16 ? 4 : 0xC;
    if (so_one_in(r, 15))
        type = so_one_in(r, 2) ? 0xE : 0x2; /* an interrupt gate or an LDT: not a call gate */
    unsigned params = so_one_in(r, 4) ? so_below(r, 32) : so_below(r, 5);
    unsigned dpl = so_one_in(r, 5) ? so_below(r, 4) : cpl + so_below(r, 4 - cpl);
    bool present = !so_one_in(r, 12);
    unsigned rpl = so_one_in(r, 4) ? so_below(r, 4) : cpl;

    /* the target */
    unsigned ring = so_below(r, cpl + 1); /* inner or same, mostly */
    uint16_t tsel = so_code_sel(ring);
    const char *twhat = "ring code";
    bool t16 = false, can_return = true;
    switch (so_one_in(r, 4) ? so_below(r, 6) : 99) {
    case 0:
        sc_gdt(s, G_CONF0, d_seg(0, 0xFFFFF, 0x9E, 0xC));
        tsel = (uint16_t)(G_CONF0 * 8);
        twhat = "conforming DPL0";
        ring = cpl;
        s->tags |= SDM_T_CONF_RPL;
        s->tagval[0] = tsel | cpl;
        break;
    case 1:
        sc_gdt(s, G_NPCODE, d_seg(0, 0xFFFFF, 0x1A | ring << 5, 0xC));
        tsel = (uint16_t)(G_NPCODE * 8 | ring);
        twhat = "not present";
        break;
    case 2:
        sc_gdt(s, G_CODE16, d_seg(0, 0xFFFF, 0x9A, 0x0));
        tsel = (uint16_t)(G_CODE16 * 8);
        twhat = "16-bit code DPL0";
        t16 = true;
        ring = 0;
        break;
    case 3: tsel = so_data_sel(ring); twhat = "data segment"; break;
    case 4: tsel = (uint16_t)so_below(r, 4); twhat = "null"; break;
    case 5: tsel = (uint16_t)((SO_GDT_ENTRIES + so_below(r, 8)) * 8); twhat = "past the GDT"; break;
    default:
        if (so_one_in(r, 8)) {
            ring = so_below(r, 4); /* possibly outer: a call gate cannot go there */
            tsel = so_code_sel(ring);
        }
        break;
    }
    if (t16)
        can_return = false;

    bool jmp = so_one_in(r, 6), via_mem = !jmp && so_one_in(r, 5);
    bool to_pad = !can_return || jmp || so_one_in(r, 2);
    /* a 16-bit gate or target segment only reaches the first 64 KiB */
    uint32_t target = t16 || g16 ? SO_LOWPADS + 2 * so_below(r, 0x800) : so_pad(r);
    unsigned unit = g16 ? 2 : 4;

    /* the target code: RETF imm16 back, maybe with a corrupted return frame */
    uint32_t ret_eip = 0;
    uint16_t ret_ss = s->c.ss;
    const char *corrupt = "";
    if (!to_pad) {
        struct emit c;
        target = g16 ? SO_LOWCODE : SO_CODE + 0x400;
        em_init(&c, target);
        em_mov_ri(&c, R_EBX, 0xC0DE0000 | ring);
        uint16_t imm = so_one_in(r, 6) ? (uint16_t)(unit * so_below(r, 6)) : (uint16_t)(params * unit);
        bool outer_ret = ring < cpl; /* the call switched stacks */
        if (so_one_in(r, 4)) {
            static const uint16_t bad_cs[] = {0, SO_SEL_CODE0, SO_SEL_DATA3, G_NPCODE * 8 | 3, G_SHORT3 * 8 | 3,
                                              SO_SEL_CODE1};
            uint16_t v = SO_PICK(r, bad_cs);
            sc_gdt(s, G_NPCODE, d_seg(0, 0xFFFFF, 0x7A, 0xC));
            sc_gdt(s, G_SHORT3, d_seg(0, 0xFFF, 0xFA, 0x4));
            if (g16) {
                em_u8(&c, 0x66);
                em_u8(&c, 0xC7);
                em_u8(&c, 0x44);
                em_u8(&c, 0x24);
                em_u8(&c, 0x02);
                em_u16(&c, v); /* MOV word [ESP+2], v */
            } else {
                em_store_esp(&c, 4, v);
            }
            corrupt = ", return CS corrupted";
            sc_descf(s, "[ret CS 0x%x] ", v);
            if (v == (G_SHORT3 * 8 | 3)) {
                s->tags |= SDM_T_RET_EIP_LIMIT;
                s->tagval[1] = v;
            }
        } else if (outer_ret && !g16 && so_one_in(r, 4)) {
            static const uint16_t bad_ss[] = {0, SO_SEL_DATA0 | 3, G_NPDATA3 * 8 | 3, SO_SEL_CODE3, SO_SEL_DATA2};
            uint16_t v = SO_PICK(r, bad_ss);
            sc_gdt(s, G_NPDATA3, d_seg(0, 0xFFFFF, 0x72, 0xC));
            em_store_esp(&c, 8 + imm + 4, v);
            ret_ss = v;
            corrupt = ", return SS corrupted";
            sc_descf(s, "[ret SS 0x%x] ", v);
        }
        ret_eip = em_here(&c);
        em_lret(&c, g16, imm);
        em_ud2(&c);
        sc_code(s, &c);
        sc_descf(s, "target code RETF%s %u%s; ", g16 ? "16" : "", imm, corrupt);
        s->tags |= SDM_T_RET_SS_NP;
        s->tagval[3] = ret_eip;
        s->tagval[4] = ret_ss;
    }

    uint64_t gate = d_gate(tsel, target, type, dpl, present, params);
    bool in_ldt = so_one_in(r, 4);
    uint16_t gsel;
    if (in_ldt) {
        sc_ldt(s, 6, gate);
        gsel = (uint16_t)(0x34 | rpl);
    } else {
        sc_gdt(s, 24, gate);
        gsel = (uint16_t)(0xC0 | rpl);
    }
    sc_descf(s, "CPL%u %s 0x%04x -> %s gate type 0x%x DPL%u %s params %u -> 0x%04x (%s):0x%x", cpl,
             jmp ? "JMP FAR" : via_mem ? "CALL FAR [mem]" : "CALL FAR", gsel, in_ldt ? "LDT" : "GDT", type, dpl,
             present ? "present" : "NOT present", params, tsel, twhat, target);

    /* inner stacks */
    if (so_one_in(r, 3)) {
        uint32_t esp0 = SO_ESP0 - 4 * so_below(r, 8) - (so_one_in(r, 6) ? 2 : 0);
        sc_poke32(s, SO_TSS + 4, esp0);
        sc_descf(s, ", TSS.ESP0 0x%x", esp0);
    }
    if (so_one_in(r, 20)) {
        uint16_t ss0;
        switch (so_below(r, 4)) {
        case 0: ss0 = 0; break;
        case 1:
            sc_gdt(s, G_BADSS0, d_seg(0, 0xFFFFF, 0x12, 0xC));
            ss0 = G_BADSS0 * 8;
            break;
        case 2:
            sc_gdt(s, G_BADSS0, d_seg(0, 0xFFFFF, 0x90, 0xC));
            ss0 = G_BADSS0 * 8;
            break;
        default:
            /* only exceptions use it (sdm.c "interrupt-stack-limit"): not a call to ring 0 */
            if (ring == 0 && tsel != (uint16_t)(G_CONF0 * 8)) {
                ss0 = 0;
                break;
            }
            sc_gdt(s, G_TINYSS0, d_seg(0, SO_ESP0 - 8 - 4 * so_below(r, 8), 0x92, 0x4));
            ss0 = G_TINYSS0 * 8;
            s->tags |= SDM_T_TINY_SS0;
            s->tagval[2] = ss0;
            break;
        }
        sc_poke32(s, SO_TSS + 8, ss0);
        sc_descf(s, ", TSS.SS0 0x%x", ss0);
    }

    /* a 16-bit gate saves a 16-bit return IP: the caller must run below 64 KiB */
    struct emit e;
    em_init(&e, g16 ? SO_LOWCODE + 0x800 : SO_CODE);
    s->c.eip = e.org;
    for (unsigned i = 0; i < params + 2 && i < 40; i++) {
        if (g16)
            em_push_i16(&e, (uint16_t)(0xCA00 + i));
        else
            em_push_i(&e, 0xCA110000 + i);
    }
    em_mov_ri(&e, R_EAX, 0xCA11CA11);
    if (via_mem) {
        uint8_t ptr[6] = {0x78, 0x56, 0x34, 0x12, (uint8_t)gsel, (uint8_t)(gsel >> 8)};
        sc_copy(s, SO_CODE + 0xC00, ptr, 6);
        em_far_mem(&e, true, SO_CODE + 0xC00);
    } else {
        if (jmp && tsel == (uint16_t)(G_NPCODE * 8 | ring) && ring == cpl) {
            /* QEMU raises #GP here (sdm.c "jmp-callgate-not-present") */
            s->tags |= SDM_T_JMPGATE_NP;
            s->tagval[5] = em_here(&e);
            s->tagval[6] = G_NPCODE * 8;
        }
        em_far(&e, !jmp, false, gsel, 0x12345678);
    }
    em_ud2(&e);
    sc_code(s, &e);

    /* the caller's stack top and the inner stacks where frames land */
    sc_dump_range(s, esp - 4 * 12, 12);
    uint32_t inner = ring < cpl ? so_ring_esp(ring) : SO_ESP0;
    sc_dump_range(s, inner - 4 * 36, 36);
}
