/*
 * gen_gates.c - the "gates" class: one IDT gate is replaced by a random one and an event is sent
 * through it from ring 0..3: INT n, INT3, INTO, INT1, or a hardware exception with or without an
 * error code (#DE, #GP from a privileged instruction or a null SS, #NP from a segment load).
 * The gate varies in type (interrupt/trap, 32/16-bit, task, and types that are not gates), DPL,
 * presence and target (ring 0-3 code, conforming, 16-bit, non-zero base, short limit, LDT, not
 * present, data, null, system, past the GDT limit); the TSS ring-0 stack and the IDT limit vary
 * too. A target that is reached executes a UD2 landing pad, so the recorded #UD shows where the
 * gate went, at which privilege, on which stack, and (in the 12 dwords above the handler's
 * ESP and the ring stack dumps) the frame the gate pushed.
 */
#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/sdm.h"

enum target {
    T_FLAT0, T_RING1, T_RING2, T_RING3, T_CONF0, T_CONF3, T_CODE16, T_BASED, T_SHORT, T_LDT,
    T_NP, T_DATA, T_NULL, T_BEYOND, T_SYS, T_NTARGETS
};
static const char *const target_name[T_NTARGETS] = {
    "ring0 code", "ring1 code", "ring2 code", "ring3 code", "conforming DPL0", "conforming DPL3",
    "16-bit code DPL0", "code base 0x1000", "code limit 0xFFF", "LDT code DPL0", "not-present code",
    "data segment", "null", "past the GDT limit", "TSS descriptor"};

/* A selector for the target (descriptors it needs are poked into the case). */
static uint16_t target_sel(struct sc *s, struct so_rng *r, enum target t, uint32_t *base)
{
    unsigned rpl = so_below(r, 4);
    *base = 0;
    switch (t) {
    case T_FLAT0: return (uint16_t)(SO_SEL_CODE0 | rpl);
    case T_RING1: return (uint16_t)(SO_SEL_CODE1 & ~3) | (uint16_t)rpl;
    case T_RING2: return (uint16_t)(SO_SEL_CODE2 & ~3) | (uint16_t)rpl;
    case T_RING3: return (uint16_t)(SO_SEL_CODE3 & ~3) | (uint16_t)rpl;
    case T_CONF0: sc_gdt(s, 16, d_seg(0, 0xFFFFF, 0x9E, 0xC)); return (uint16_t)(0x80 | rpl);
    case T_CONF3: sc_gdt(s, 16, d_seg(0, 0xFFFFF, 0xFE, 0xC)); return (uint16_t)(0x80 | rpl);
    case T_CODE16: sc_gdt(s, 16, d_seg(0, 0xFFFFF, 0x9A, 0x8)); return (uint16_t)(0x80 | rpl);
    case T_BASED: sc_gdt(s, 16, d_seg(0x1000, 0xFFFFF, 0x9A, 0xC)); *base = 0x1000; return (uint16_t)(0x80 | rpl);
    case T_SHORT: sc_gdt(s, 16, d_seg(0, 0xFFF, 0x9A, 0x4)); return (uint16_t)(0x80 | rpl);
    case T_LDT: sc_ldt(s, 1, d_seg(0, 0xFFFFF, 0x9A, 0xC)); return (uint16_t)(0x0C | rpl);
    case T_NP: sc_gdt(s, 16, d_seg(0, 0xFFFFF, 0x1A, 0xC)); return (uint16_t)(0x80 | rpl);
    case T_DATA: return (uint16_t)(SO_SEL_DATA0 | rpl);
    case T_NULL: return (uint16_t)rpl;
    case T_BEYOND: return (uint16_t)((SO_GDT_ENTRIES + so_below(r, 8)) * 8 | rpl);
    case T_SYS: return (uint16_t)(SO_SEL_TSS | rpl);
    default: return 0;
    }
}

enum event { E_INT, E_INT3, E_INTO, E_INT1, E_DE, E_GP, E_NP, E_NEVENTS };

void gen_gates(struct sc *s, struct so_rng *r)
{
    static const unsigned cpls[] = {0, 0, 3, 3, 3, 1, 2};
    unsigned cpl = SO_PICK(r, cpls);
    sc_set_cpl(s, cpl);
    s->c.gpr[R_ESP] -= 4 * so_below(r, 8);
    sc_maybe_paging(s, r, 4);

    /* the event and its vector */
    enum event ev = (enum event)so_below(r, E_NEVENTS);
    if (so_below(r, 3))
        ev = E_INT;
    unsigned vec = 0;
    switch (ev) {
    case E_INT:
        vec = so_one_in(r, 5) ? so_below(r, 32) : 32 + so_below(r, 224);
        if (vec == 6 || vec == 8)
            vec = 0x80; /* #UD ends every case at a landing pad; 8 is the double-fault task */
        break;
    case E_INT3: vec = 3; break;
    case E_INTO: vec = 4; break;
    case E_INT1: vec = 1; break;
    case E_DE: vec = 0; break;
    case E_GP: vec = 13; break;
    case E_NP: vec = 11; break;
    default: break;
    }

    /* the gate */
    static const unsigned good_types[] = {0xE, 0xE, 0xE, 0xF, 0xF, 0x6, 0x7};
    static const unsigned bad_types[] = {0x0, 0x1, 0x2, 0x3, 0x4, 0x8, 0x9, 0xA, 0xB, 0xC, 0xD, 0x5};
    unsigned type = so_one_in(r, 8) ? SO_PICK(r, bad_types) : SO_PICK(r, good_types);
    bool sys = !so_one_in(r, 40); /* else the S bit is set: not a system descriptor at all */
    unsigned dpl = so_below(r, 4);
    if (ev == E_INT && so_below(r, 2))
        dpl = 3; /* INT n from ring 3 mostly needs it */
    bool present = !so_one_in(r, 10);
    enum target t = (enum target)(so_one_in(r, 3) ? so_below(r, T_NTARGETS) : T_FLAT0);
    if (so_one_in(r, 6))
        t = cpl == 3 ? T_RING3 : T_CONF0;
    if (ev == E_INT1) {
        /* QEMU does not implement INT1 (sdm.c "icebp"): keep to gates whose SDM outcome the rule
         * states - a valid gate to ring 0 code, a not-present gate, or no gate at all */
        t = T_FLAT0;
        if (type == 5)
            type = 0xE;
        s->tags |= SDM_T_ICEBP;
        s->tagval[0] = (!sys || !(type & 6) || (type & 7) < 6) ? 2 : present ? 0 : 1;
        s->tagval[2] = type & 8 ? 1 : 2;
    }
    uint32_t base;
    uint16_t sel = target_sel(s, r, t, &base);
    bool gate16 = type == 6 || type == 7;
    uint32_t off = (gate16 ? SO_LOWPADS + 2 * so_below(r, 0x800) : so_pad(r)) - base;
    if (type == 5)
        sel = SO_SEL_DF_TSS, off = 0;
    s->tagval[1] = ev == E_INT1 ? off : s->tagval[1];
    uint64_t gate = d_gate(sel, off, type, dpl, present, 0);
    if (!sys)
        gate |= 1ull << 44;
    sc_idt(s, vec, gate);
    sc_descf(s, "CPL%u, IDT[0x%02x] = type 0x%x%s DPL%u %s sel 0x%04x (%s) off 0x%x", cpl, vec, type,
             sys ? "" : " with S=1", dpl, present ? "present" : "NOT present", sel,
             type == 5 ? "double-fault TSS" : target_name[t], off);

    /* the ring-0 stack in the TSS */
    if (so_one_in(r, 3)) {
        uint32_t esp0 = SO_ESP0 - 4 * so_below(r, 16) - (so_one_in(r, 4) ? 2 : 0);
        sc_poke32(s, SO_TSS + 4, esp0);
        sc_descf(s, ", TSS.ESP0 0x%x", esp0);
    }
    if (so_one_in(r, 30) && ev != E_INT1) {
        static const uint16_t bad_ss0[] = {0, SO_SEL_DATA3, SO_SEL_CODE0, 0x80};
        uint16_t ss0 = SO_PICK(r, bad_ss0);
        if (ss0 == 0x80)
            sc_gdt(s, 16, d_seg(0, 0xFFFFF, 0x12, 0xC)); /* not present */
        sc_poke32(s, SO_TSS + 8, ss0);
        sc_descf(s, ", TSS.SS0 0x%x", ss0);
    }
    if (vec > 13 && so_one_in(r, 20)) {
        s->c.idt_limit = (uint16_t)(vec * 8 + (so_one_in(r, 2) ? so_below(r, 7) : (uint32_t)-1));
        sc_descf(s, ", IDT limit 0x%x", s->c.idt_limit);
    }

    /* entry flags: arithmetic flags, DF, IF, NT at random; IOPL too */
    s->c.eflags = 2 | (so_rng_u32(r) & 0x0CD5) | (so_below(r, 4) << 12) | (so_one_in(r, 4) ? 0x4000 : 0) |
                  (so_one_in(r, 2) ? 0x200 : 0);
    if (ev == E_INTO && so_below(r, 4))
        s->c.eflags |= 0x800;

    struct emit e;
    em_init(&e, SO_CODE);
    uint32_t ev_eip = SO_CODE; /* the instruction whose event goes through the gate */
    switch (ev) {
    case E_INT:
        em_int(&e, (uint8_t)vec);
        sc_descf(s, "; INT 0x%02x", vec);
        break;
    case E_INT3: em_u8(&e, 0xCC); sc_descf(s, "; INT3"); break;
    case E_INTO: em_u8(&e, 0xCE); sc_descf(s, "; INTO (OF=%u)", (s->c.eflags >> 11) & 1); break;
    case E_INT1: em_u8(&e, 0xF1); sc_descf(s, "; INT1 (ICEBP)"); break;
    case E_DE:
        em_mov_ri(&e, R_ECX, 0);
        ev_eip = em_here(&e);
        em_u8(&e, 0xF7);
        em_u8(&e, 0xF1); /* DIV ECX */
        sc_descf(s, "; DIV by zero");
        break;
    case E_GP:
        if (cpl) {
            em_u8(&e, 0xF4); /* HLT at CPL > 0 */
            sc_descf(s, "; HLT at CPL%u (#GP(0))", cpl);
        } else {
            em_mov_ri(&e, R_EAX, 0);
            ev_eip = em_here(&e);
            em_mov_sr(&e, S_SS, R_EAX);
            sc_descf(s, "; MOV SS, null (#GP(0))");
        }
        break;
    case E_NP:
        sc_gdt(s, 17, d_seg(0, 0xFFFFF, 0x72, 0xC)); /* DPL3 data, not present */
        em_mov_ri(&e, R_EAX, 0x88 | cpl);
        ev_eip = em_here(&e);
        em_mov_sr(&e, S_DS, R_EAX);
        sc_descf(s, "; MOV DS, not-present data 0x%x (#NP)", 0x88 | cpl);
        break;
    default: break;
    }
    em_ud2(&e);
    sc_code(s, &e);
    if (t == T_SHORT && type != 5) {
        /* QEMU ignores the limit here (sdm.c "gate-offset-limit") */
        s->tags |= SDM_T_GATE_LIMIT;
        s->tagval[0] = ev_eip;
        s->tagval[1] = ev == E_DE || ev == E_GP || ev == E_NP;
        s->tagval[2] = 0x80;
    }
}
