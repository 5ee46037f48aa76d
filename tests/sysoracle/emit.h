/*
 * emit.h - a small IA-32 machine-code emitter for the system oracle's case bodies: exactly the
 * encodings the generators use, each written out by hand (no assembler at run time). Bounded:
 * writes past the buffer set `overflow` instead of writing.
 */
#ifndef CLOISTER_SYSORACLE_EMIT_H
#define CLOISTER_SYSORACLE_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMIT_MAX 2048

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS };

struct emit {
    uint32_t org; /* guest address of b[0] */
    size_t n;
    bool overflow;
    uint8_t b[EMIT_MAX];
};

void em_init(struct emit *e, uint32_t org);
uint32_t em_here(const struct emit *e);
void em_u8(struct emit *e, uint8_t v);
void em_u16(struct emit *e, uint16_t v);
void em_u32(struct emit *e, uint32_t v);
void em_bytes(struct emit *e, const void *p, size_t n);
void em_align(struct emit *e, unsigned a, uint8_t fill);

void em_mov_ri(struct emit *e, unsigned r, uint32_t imm);          /* MOV r32, imm32 */
void em_mov_rr(struct emit *e, unsigned dst, unsigned src);        /* MOV r32, r32 */
void em_mov_sr(struct emit *e, unsigned sreg, unsigned r);         /* MOV Sreg, r16 */
void em_mov_rs(struct emit *e, unsigned r, unsigned sreg);         /* MOV r16, Sreg (66) */
void em_pop_s(struct emit *e, unsigned sreg);                      /* POP Sreg */
void em_push_i(struct emit *e, uint32_t imm);                      /* PUSH imm32 */
void em_push_i16(struct emit *e, uint16_t imm);                    /* PUSH imm16 (66) */
void em_store_esp(struct emit *e, uint32_t disp, uint32_t imm);    /* MOV dword [ESP+disp], imm32 */
void em_push_r(struct emit *e, unsigned r);
void em_pop_r(struct emit *e, unsigned r);
void em_load(struct emit *e, int seg, unsigned r, uint32_t addr);  /* MOV r32, [seg:addr] (seg -1: none) */
void em_store(struct emit *e, int seg, uint32_t addr, unsigned r); /* MOV [seg:addr], r32 */
void em_load_b(struct emit *e, int seg, unsigned r, uint32_t addr);/* MOV r8, [seg:addr] */
void em_load_base(struct emit *e, int seg, unsigned r, unsigned base, uint32_t disp); /* MOV r32, [seg:base+disp32] */
void em_store_base(struct emit *e, int seg, unsigned base, uint32_t disp, unsigned r);
void em_add_mi(struct emit *e, uint32_t addr, int8_t imm);         /* ADD dword [addr], imm8 */
void em_store_imm(struct emit *e, int seg, uint32_t addr, uint32_t imm); /* MOV dword [seg:addr], imm32 */
void em_ud2(struct emit *e);
void em_int(struct emit *e, uint8_t n);                            /* CD ib */
void em_iret(struct emit *e, bool o16);
void em_lret(struct emit *e, bool o16, uint16_t imm);              /* CB or CA iw */
void em_far(struct emit *e, bool call, bool o16, uint16_t sel, uint32_t off); /* 9A/EA ptr16:32 (ptr16:16 with o16) */
void em_far_mem(struct emit *e, bool call, uint32_t addr);         /* FF /3 or /5 [addr] (m16:32) */
void em_sysenter(struct emit *e);
void em_sysexit(struct emit *e);
void em_mov_cr(struct emit *e, unsigned cr, unsigned r);           /* MOV CRn, r32 */
void em_mov_rcr(struct emit *e, unsigned r, unsigned cr);          /* MOV r32, CRn */
void em_clts(struct emit *e);
void em_lmsw(struct emit *e, unsigned r);
void em_smsw16(struct emit *e, unsigned r);                        /* SMSW r16 (66): upper half kept */
void em_invlpg(struct emit *e, uint32_t addr);
void em_lar(struct emit *e, unsigned dst, unsigned src);           /* LAR r32, r16 */
void em_lsl(struct emit *e, unsigned dst, unsigned src);
void em_verr(struct emit *e, unsigned r);
void em_verw(struct emit *e, unsigned r);
void em_setz(struct emit *e, unsigned r8);                         /* SETZ r8 (AL CL DL BL AH CH DH BH) */
void em_lfp(struct emit *e, unsigned sreg, unsigned r, uint32_t addr); /* LDS/LES/LFS/LGS/LSS r32, [addr] */
void em_pushf(struct emit *e);
void em_popf(struct emit *e);
void em_jmp_r(struct emit *e, unsigned r);                         /* JMP r32 */
void em_call_r(struct emit *e, unsigned r);
void em_jmp_to(struct emit *e, uint32_t target);                   /* E9 rel32 */
void em_cli(struct emit *e);
void em_sti(struct emit *e);
void em_nop(struct emit *e);

#endif
