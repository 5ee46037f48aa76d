/*
 * emit.c - hand-written encodings for the system oracle's case bodies (see emit.h). Every
 * instruction is written byte by byte into a bounded buffer.
 */
#include "tests/sysoracle/emit.h"

#include <string.h>

static const uint8_t seg_prefix[6] = {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65};

void em_init(struct emit *e, uint32_t org)
{
    memset(e, 0, sizeof *e);
    e->org = org;
}

uint32_t em_here(const struct emit *e) { return e->org + (uint32_t)e->n; }

void em_u8(struct emit *e, uint8_t v)
{
    if (e->n >= EMIT_MAX) {
        e->overflow = true;
        return;
    }
    e->b[e->n++] = v;
}

void em_u16(struct emit *e, uint16_t v)
{
    em_u8(e, (uint8_t)v);
    em_u8(e, (uint8_t)(v >> 8));
}

void em_u32(struct emit *e, uint32_t v)
{
    em_u16(e, (uint16_t)v);
    em_u16(e, (uint16_t)(v >> 16));
}

void em_bytes(struct emit *e, const void *p, size_t n)
{
    const uint8_t *q = p;
    for (size_t i = 0; i < n; i++)
        em_u8(e, q[i]);
}

void em_align(struct emit *e, unsigned a, uint8_t fill)
{
    while (em_here(e) % a)
        em_u8(e, fill);
}

static void seg(struct emit *e, int s)
{
    if (s >= 0 && s < 6)
        em_u8(e, seg_prefix[s]);
}

void em_mov_ri(struct emit *e, unsigned r, uint32_t imm)
{
    em_u8(e, (uint8_t)(0xB8 + (r & 7)));
    em_u32(e, imm);
}

void em_mov_rr(struct emit *e, unsigned dst, unsigned src)
{
    em_u8(e, 0x89);
    em_u8(e, (uint8_t)(0xC0 | (src & 7) << 3 | (dst & 7)));
}

void em_mov_sr(struct emit *e, unsigned sreg, unsigned r)
{
    em_u8(e, 0x8E);
    em_u8(e, (uint8_t)(0xC0 | (sreg & 7) << 3 | (r & 7)));
}

void em_mov_rs(struct emit *e, unsigned r, unsigned sreg)
{
    em_u8(e, 0x66);
    em_u8(e, 0x8C);
    em_u8(e, (uint8_t)(0xC0 | (sreg & 7) << 3 | (r & 7)));
}

void em_pop_s(struct emit *e, unsigned sreg)
{
    switch (sreg) {
    case S_ES: em_u8(e, 0x07); break;
    case S_SS: em_u8(e, 0x17); break;
    case S_DS: em_u8(e, 0x1F); break;
    case S_FS: em_u8(e, 0x0F); em_u8(e, 0xA1); break;
    case S_GS: em_u8(e, 0x0F); em_u8(e, 0xA9); break;
    default: em_ud2(e); break;
    }
}

void em_push_i(struct emit *e, uint32_t imm)
{
    em_u8(e, 0x68);
    em_u32(e, imm);
}

void em_push_i16(struct emit *e, uint16_t imm)
{
    em_u8(e, 0x66);
    em_u8(e, 0x68);
    em_u16(e, imm);
}

void em_store_esp(struct emit *e, uint32_t disp, uint32_t imm)
{
    em_u8(e, 0xC7);
    em_u8(e, 0x84);
    em_u8(e, 0x24);
    em_u32(e, disp);
    em_u32(e, imm);
}

void em_push_r(struct emit *e, unsigned r) { em_u8(e, (uint8_t)(0x50 + (r & 7))); }
void em_pop_r(struct emit *e, unsigned r) { em_u8(e, (uint8_t)(0x58 + (r & 7))); }

void em_load(struct emit *e, int s, unsigned r, uint32_t addr)
{
    seg(e, s);
    em_u8(e, 0x8B);
    em_u8(e, (uint8_t)((r & 7) << 3 | 5));
    em_u32(e, addr);
}

void em_store(struct emit *e, int s, uint32_t addr, unsigned r)
{
    seg(e, s);
    em_u8(e, 0x89);
    em_u8(e, (uint8_t)((r & 7) << 3 | 5));
    em_u32(e, addr);
}

void em_load_b(struct emit *e, int s, unsigned r, uint32_t addr)
{
    seg(e, s);
    em_u8(e, 0x8A);
    em_u8(e, (uint8_t)((r & 7) << 3 | 5));
    em_u32(e, addr);
}

/* mod=10 [base+disp32]; ESP as base needs a SIB byte */
static void modrm_base(struct emit *e, unsigned reg, unsigned base, uint32_t disp)
{
    em_u8(e, (uint8_t)(0x80 | (reg & 7) << 3 | (base & 7)));
    if ((base & 7) == R_ESP)
        em_u8(e, 0x24);
    em_u32(e, disp);
}

void em_load_base(struct emit *e, int s, unsigned r, unsigned base, uint32_t disp)
{
    seg(e, s);
    em_u8(e, 0x8B);
    modrm_base(e, r, base, disp);
}

void em_store_base(struct emit *e, int s, unsigned base, uint32_t disp, unsigned r)
{
    seg(e, s);
    em_u8(e, 0x89);
    modrm_base(e, r, base, disp);
}

void em_add_mi(struct emit *e, uint32_t addr, int8_t imm)
{
    em_u8(e, 0x83);
    em_u8(e, 0x05);
    em_u32(e, addr);
    em_u8(e, (uint8_t)imm);
}

void em_store_imm(struct emit *e, int s, uint32_t addr, uint32_t imm)
{
    seg(e, s);
    em_u8(e, 0xC7);
    em_u8(e, 0x05);
    em_u32(e, addr);
    em_u32(e, imm);
}

void em_ud2(struct emit *e)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x0B);
}

void em_int(struct emit *e, uint8_t n)
{
    em_u8(e, 0xCD);
    em_u8(e, n);
}

void em_iret(struct emit *e, bool o16)
{
    if (o16)
        em_u8(e, 0x66);
    em_u8(e, 0xCF);
}

void em_lret(struct emit *e, bool o16, uint16_t imm)
{
    if (o16)
        em_u8(e, 0x66);
    if (imm) {
        em_u8(e, 0xCA);
        em_u16(e, imm);
    } else {
        em_u8(e, 0xCB);
    }
}

void em_far(struct emit *e, bool call, bool o16, uint16_t sel, uint32_t off)
{
    if (o16)
        em_u8(e, 0x66);
    em_u8(e, call ? 0x9A : 0xEA);
    if (o16)
        em_u16(e, (uint16_t)off);
    else
        em_u32(e, off);
    em_u16(e, sel);
}

void em_far_mem(struct emit *e, bool call, uint32_t addr)
{
    em_u8(e, 0xFF);
    em_u8(e, call ? 0x1D : 0x2D);
    em_u32(e, addr);
}

void em_sysenter(struct emit *e)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x34);
}

void em_sysexit(struct emit *e)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x35);
}

void em_mov_cr(struct emit *e, unsigned cr, unsigned r)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x22);
    em_u8(e, (uint8_t)(0xC0 | (cr & 7) << 3 | (r & 7)));
}

void em_mov_rcr(struct emit *e, unsigned r, unsigned cr)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x20);
    em_u8(e, (uint8_t)(0xC0 | (cr & 7) << 3 | (r & 7)));
}

void em_clts(struct emit *e)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x06);
}

void em_lmsw(struct emit *e, unsigned r)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x01);
    em_u8(e, (uint8_t)(0xF0 | (r & 7)));
}

void em_smsw16(struct emit *e, unsigned r)
{
    em_u8(e, 0x66);
    em_u8(e, 0x0F);
    em_u8(e, 0x01);
    em_u8(e, (uint8_t)(0xE0 | (r & 7)));
}

void em_invlpg(struct emit *e, uint32_t addr)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x01);
    em_u8(e, 0x3D);
    em_u32(e, addr);
}

void em_lar(struct emit *e, unsigned dst, unsigned src)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x02);
    em_u8(e, (uint8_t)(0xC0 | (dst & 7) << 3 | (src & 7)));
}

void em_lsl(struct emit *e, unsigned dst, unsigned src)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x03);
    em_u8(e, (uint8_t)(0xC0 | (dst & 7) << 3 | (src & 7)));
}

void em_verr(struct emit *e, unsigned r)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x00);
    em_u8(e, (uint8_t)(0xE0 | (r & 7)));
}

void em_verw(struct emit *e, unsigned r)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x00);
    em_u8(e, (uint8_t)(0xE8 | (r & 7)));
}

void em_setz(struct emit *e, unsigned r8)
{
    em_u8(e, 0x0F);
    em_u8(e, 0x94);
    em_u8(e, (uint8_t)(0xC0 | (r8 & 7)));
}

void em_lfp(struct emit *e, unsigned sreg, unsigned r, uint32_t addr)
{
    switch (sreg) {
    case S_DS: em_u8(e, 0xC5); break;
    case S_ES: em_u8(e, 0xC4); break;
    case S_SS: em_u8(e, 0x0F); em_u8(e, 0xB2); break;
    case S_FS: em_u8(e, 0x0F); em_u8(e, 0xB4); break;
    default: em_u8(e, 0x0F); em_u8(e, 0xB5); break;
    }
    em_u8(e, (uint8_t)((r & 7) << 3 | 5));
    em_u32(e, addr);
}

void em_pushf(struct emit *e) { em_u8(e, 0x9C); }
void em_popf(struct emit *e) { em_u8(e, 0x9D); }

void em_jmp_r(struct emit *e, unsigned r)
{
    em_u8(e, 0xFF);
    em_u8(e, (uint8_t)(0xE0 | (r & 7)));
}

void em_call_r(struct emit *e, unsigned r)
{
    em_u8(e, 0xFF);
    em_u8(e, (uint8_t)(0xD0 | (r & 7)));
}

void em_jmp_to(struct emit *e, uint32_t target)
{
    em_u8(e, 0xE9);
    em_u32(e, target - (em_here(e) + 4));
}

void em_cli(struct emit *e) { em_u8(e, 0xFA); }
void em_sti(struct emit *e) { em_u8(e, 0xFB); }
void em_nop(struct emit *e) { em_u8(e, 0x90); }
