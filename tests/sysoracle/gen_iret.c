/*
 * gen_iret.c - the "iret" class: a case builds an IRET frame (32- or 16-bit) on its stack and
 * returns to the same or an outer level - or tries an inner one - with a random EFLAGS image and
 * CS/SS that are valid or broken in one way (null, RPL, type, DPL, not present, past the table,
 * EIP past the limit). Before an outer return DS/ES/FS/GS hold selectors of various DPLs, which
 * the return must null or keep. The target is a UD2 landing pad, or (returns to ring 3) code
 * that comes back in through INT 0x80. The #UD or fault record shows CS, SS, ESP, EFLAGS and the
 * data segment registers as the return left them.
 */
#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/sdm.h"

/* descriptors this class may use */
#define G_NP_CODE 16   /* sel 0x80: code, DPL per case, not present */
#define G_CONF 17      /* sel 0x88: conforming code, DPL per case */
#define G_SHORT 18     /* sel 0x90: code, DPL per case, limit 0xFFF */
#define G_RO_DATA 19   /* sel 0x98: read-only data, DPL per case */
#define G_NP_DATA 20   /* sel 0xA0: writable data, DPL per case, not present */
#define G_CODE16 21    /* sel 0xA8: 16-bit code, DPL per case */
#define G_RCODE0 22    /* sel 0xB0: readable non-conforming code DPL0 (a data-segment value) */
#define G_RCONF0 23    /* sel 0xB8: readable conforming code DPL0 */

static unsigned gsel(unsigned index, unsigned rpl) { return index * 8 | (rpl & 3); }

void gen_iret(struct sc *s, struct so_rng *r)
{
    static const unsigned cpls[] = {0, 0, 0, 0, 1, 2, 3};
    unsigned cpl = SO_PICK(r, cpls);
    sc_set_cpl(s, cpl);
    sc_maybe_paging(s, r, 4);
    uint32_t esp = so_ring_esp(cpl) - (cpl ? 0x40 : 0x100);
    s->c.gpr[R_ESP] = esp;
    sc_dump_range(s, esp - 24, 6);
    s->c.eflags = 2 | (so_rng_u32(r) & 0x08D5) | (so_below(r, 4) << 12) | (so_one_in(r, 2) ? 0x200 : 0);

    bool o16 = so_one_in(r, 5);
    /* target ring: mostly outer or same */
    unsigned ring = cpl + so_below(r, 4 - cpl);
    if (so_one_in(r, 10))
        ring = so_below(r, 4);
    bool outer = ring > cpl;

    /* CS */
    uint16_t cs = so_code_sel(ring);
    uint32_t eip = o16 ? SO_LOWPADS + 2 * so_below(r, 0x800) : so_pad(r);
    const char *cs_what = "ring code";
    bool code16 = false, cs_short = false;
    switch (so_one_in(r, 3) ? so_below(r, 9) : 99) {
    case 0: cs = (uint16_t)so_below(r, 4); cs_what = "null"; break;
    case 1: cs = (uint16_t)((so_code_sel(ring) & ~3) | ((ring + 1 + so_below(r, 3)) & 3)); cs_what = "RPL != DPL"; break;
    case 2: cs = so_data_sel(ring); cs_what = "data segment"; break;
    case 3: cs = (uint16_t)((SO_GDT_ENTRIES + so_below(r, 4)) * 8 | ring); cs_what = "past the GDT"; break;
    case 4:
        sc_gdt(s, G_NP_CODE, d_seg(0, 0xFFFFF, 0x1A | ring << 5, 0xC));
        cs = (uint16_t)gsel(G_NP_CODE, ring);
        cs_what = "not present";
        break;
    case 5: {
        unsigned dpl = so_below(r, 4);
        sc_gdt(s, G_CONF, d_seg(0, 0xFFFFF, 0x9E | dpl << 5, 0xC));
        cs = (uint16_t)gsel(G_CONF, ring);
        cs_what = dpl <= ring ? "conforming, DPL <= RPL" : "conforming, DPL > RPL";
        break;
    }
    case 6:
        sc_gdt(s, G_SHORT, d_seg(0, 0xFFF, 0x9A | ring << 5, 0x4));
        cs = (uint16_t)gsel(G_SHORT, ring);
        cs_what = "limit 0xFFF (EIP past it)";
        cs_short = true;
        break;
    case 7:
        sc_gdt(s, G_CODE16, d_seg(0, 0xFFFF, 0x9A | ring << 5, 0x0));
        cs = (uint16_t)gsel(G_CODE16, ring);
        cs_what = "16-bit code";
        code16 = true;
        break;
    case 8:
        sc_ldt(s, 4, d_seg(0, 0xFFFFF, 0x9A | ring << 5, 0xC));
        cs = (uint16_t)(0x24 | ring);
        cs_what = "LDT code";
        break;
    default: break;
    }
    if (code16)
        eip = SO_LOWPADS + 2 * so_below(r, 0x800);

    /* back in through INT 0x80 from ring 3 */
    bool via_int = ring == 3 && !o16 && !code16 && so_one_in(r, 3);
    if (via_int) {
        uint32_t pad = so_pad(r);
        sc_idt(s, 0x80, d_gate(SO_SEL_CODE0, pad, so_one_in(r, 2) ? 0xE : 0xF, 3, true, 0));
        struct emit c;
        em_init(&c, SO_CODE + 0x400);
        em_mov_ri(&c, R_EBX, 0x12345678);
        em_int(&c, 0x80);
        em_ud2(&c);
        sc_code(s, &c);
        eip = SO_CODE + 0x400;
    }

    /* SS:ESP for an outer return */
    uint16_t ss = so_data_sel(ring);
    uint32_t new_esp = so_ring_esp(ring) - 4 * so_below(r, 8) - (so_one_in(r, 8) ? 2 : 0);
    const char *ss_what = "ring data";
    switch (so_one_in(r, 3) ? so_below(r, 8) : 99) {
    case 0: ss = (uint16_t)so_below(r, 4); ss_what = "null"; break;
    case 1: ss = (uint16_t)((so_data_sel(ring) & ~3) | ((ring + 1 + so_below(r, 3)) & 3)); ss_what = "RPL != CS RPL"; break;
    case 2: ss = (uint16_t)((so_data_sel((ring + 1 + so_below(r, 3)) & 3) & ~3) | ring); ss_what = "DPL != RPL"; break;
    case 3:
        sc_gdt(s, G_RO_DATA, d_seg(0, 0xFFFFF, 0x90 | ring << 5, 0xC));
        ss = (uint16_t)gsel(G_RO_DATA, ring);
        ss_what = "read-only data";
        break;
    case 4: ss = so_code_sel(ring); ss_what = "code segment"; break;
    case 5:
        sc_gdt(s, G_NP_DATA, d_seg(0, 0xFFFFF, 0x12 | ring << 5, 0xC));
        ss = (uint16_t)gsel(G_NP_DATA, ring);
        ss_what = "not present";
        break;
    case 6: ss = (uint16_t)((SO_GDT_ENTRIES + so_below(r, 4)) * 8 | ring); ss_what = "past the GDT"; break;
    case 7: ss = (uint16_t)(0x2C | ring); ss_what = "LDT selector, empty entry"; break;
    default: break;
    }

    /* the popped EFLAGS: any of the flags IRET may load (no TF, no VM) */
    uint32_t flags = 2 | (so_rng_u32(r) & 0x0CD5) | (so_below(r, 4) << 12) | (so_one_in(r, 2) ? 0x200 : 0) |
                     (so_one_in(r, 4) ? 0x4000 : 0) | (so_one_in(r, 4) ? 0x10000 : 0) |
                     (so_one_in(r, 4) ? 0x40000 : 0) | (so_one_in(r, 4) ? 0x80000 : 0) |
                     (so_one_in(r, 4) ? 0x100000 : 0) | (so_one_in(r, 4) ? 0x200000 : 0);

    sc_descf(s, "CPL%u IRET%s to CS 0x%04x (%s) EIP 0x%x", cpl, o16 ? "16" : "", cs, cs_what, eip);
    if (outer || so_one_in(r, 4))
        sc_descf(s, ", SS:ESP 0x%04x (%s):0x%x", ss, ss_what, new_esp);
    sc_descf(s, ", EFLAGS image 0x%x%s", flags, via_int ? ", then INT 0x80" : "");

    struct emit e;
    em_init(&e, SO_CODE);
    /* data segment registers an outer return must check */
    if (outer || so_one_in(r, 3)) {
        sc_gdt(s, G_RCODE0, d_seg(0, 0xFFFFF, 0x9A, 0xC));
        sc_gdt(s, G_RCONF0, d_seg(0, 0xFFFFF, 0x9E, 0xC));
        static const unsigned sregs[] = {S_DS, S_ES, S_FS, S_GS};
        const char *names[] = {"DS", "ES", "FS", "GS"};
        for (unsigned i = 0; i < 4; i++) {
            if (so_one_in(r, 3))
                continue;
            uint16_t v;
            unsigned d = cpl + so_below(r, 4 - cpl); /* loadable at this CPL */
            switch (so_below(r, 4)) {
            case 0: v = so_data_sel(d); break;
            case 1: v = (uint16_t)so_below(r, 4); break;
            case 2: v = cpl == 0 ? (uint16_t)gsel(G_RCODE0, 0) : so_data_sel(d); break;
            default: v = (uint16_t)gsel(G_RCONF0, so_below(r, 4)); break;
            }
            em_mov_ri(&e, R_EAX, v);
            em_mov_sr(&e, sregs[i], R_EAX);
            sc_descf(s, ", %s=0x%x", names[i], v);
            if (outer && v >= 1 && v <= 3 && (sregs[i] == S_DS || sregs[i] == S_ES)) {
                s->tags |= SDM_T_NULL_SREG;
                s->tagval[7] |= sregs[i] == S_DS ? 1 : 2;
            }
        }
    }
    if (o16) {
        if (outer || so_one_in(r, 4)) {
            em_push_i16(&e, ss);
            em_push_i16(&e, (uint16_t)new_esp);
        }
        em_push_i16(&e, (uint16_t)flags);
        em_push_i16(&e, cs);
        em_push_i16(&e, (uint16_t)eip);
    } else {
        if (outer || so_one_in(r, 4)) {
            em_push_i(&e, ss);
            em_push_i(&e, new_esp);
        }
        em_push_i(&e, flags);
        em_push_i(&e, cs);
        em_push_i(&e, eip);
    }
    em_mov_ri(&e, R_EAX, 0xA11A0000 | cpl);
    s->tagval[3] = em_here(&e);
    s->tagval[4] = ss;
    s->tagval[5] = eip;
    if (outer)
        s->tags |= SDM_T_RET_SS_NP;
    if (cs_short) {
        s->tags |= SDM_T_RET_EIP_LIMIT;
        s->tagval[1] = cs;
    }
    if (cpl == 0 && !o16 && (flags & 0x180000)) {
        s->tags |= SDM_T_IRET_VIFVIP;
        s->tagval[6] = flags & 0x180000;
    }
    em_iret(&e, o16);
    em_ud2(&e);
    sc_code(s, &e);
    sc_dump_range(s, so_ring_esp(ring) - 48, 4);
}
