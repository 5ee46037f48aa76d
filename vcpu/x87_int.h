/*
 * x87_int.h - internal interface shared by the x87 executor's files (not used outside them and
 * their tests).
 *
 *   x87.c         x87_exec: checks (#NM, #UD, #MF), memory operand traffic, FIP/FDP bookkeeping
 *   x87_decode.c  what each D8-DF encoding is on an i686: kind, memory operand size, the
 *                 canonical encoding the host runs for undocumented aliases
 *   x87_host.c    runs one numeric x87 instruction on the host FPU against a guest state image
 *                 (FRSTOR/FNSAVE), restoring the host's control word around it
 *   x87_image.c   guest state <-> host FSAVE image, tag word, and the FNSTENV/FNSAVE memory
 *                 images (16/32-bit, real/protected mode)
 */
#ifndef CLOISTER_VCPU_X87_INT_H
#define CLOISTER_VCPU_X87_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/cpu.h"

/* FSW bits. */
#define X87_FSW_IE 0x0001u
#define X87_FSW_DE 0x0002u
#define X87_FSW_ZE 0x0004u
#define X87_FSW_OE 0x0008u
#define X87_FSW_UE 0x0010u
#define X87_FSW_PE 0x0020u
#define X87_FSW_SF 0x0040u
#define X87_FSW_ES 0x0080u
#define X87_FSW_C0 0x0100u
#define X87_FSW_C1 0x0200u
#define X87_FSW_C2 0x0400u
#define X87_FSW_TOP 0x3800u
#define X87_FSW_C3 0x4000u
#define X87_FSW_B 0x8000u
#define X87_FSW_EXC 0x003Fu  /* the six exception flags, same positions as the FCW masks */
#define X87_FSW_TOP_SHIFT 11

/* FCW as FLDCW stores it: bits 13-15 read as zero, bit 6 reads as one. */
#define X87_FCW_KEEP 0x1F3Fu
#define X87_FCW_ONES 0x0040u

/* The 11-bit instruction code of ir_insn.x87: (opcode & 7) << 8 | modrm-ish low byte. */
#define X87_CODE(opcode, low) ((((unsigned)(opcode) & 7u) << 8) | (unsigned)(low))

enum x87_kind {
    X87K_UD = 0,     /* #UD on an i686 */
    X87K_HOST,       /* numeric instruction run on the host FPU (host_code) */
    X87K_LEGACY_NOP, /* FNENI, FNDISI, FNSETPM: no operation on a 387 and later */
    X87K_FLDCW,
    X87K_FNSTCW,
    X87K_FNSTSW_MEM,
    X87K_FNSTSW_AX,
    X87K_FNCLEX,
    X87K_FNINIT,
    X87K_FLDENV,
    X87K_FNSTENV,
    X87K_FRSTOR,
    X87K_FNSAVE,
};

#define X87F_WAITING 0x01   /* checks for a pending unmasked exception first (#MF) */
#define X87F_CONTROL 0x02   /* control instruction: leaves FIP/FCS/FOP/FDP/FDS alone */
#define X87F_FLAGS 0x04     /* reads EFLAGS (FCMOVcc) or writes them (FCOMI family) */
#define X87F_SETS_FLAGS 0x08

struct x87_form {
    uint8_t kind;      /* enum x87_kind */
    uint8_t flags;     /* X87F_* */
    uint8_t mem_in;    /* bytes read from the memory operand before executing (0: none) */
    uint8_t mem_out;   /* bytes written to it afterwards (0: none) */
    uint16_t host_code; /* X87K_HOST: the encoding the host executes (aliases -> canonical) */
};

/* Classify an 11-bit code; `is_mem` says it is a memory form (the low byte then only carries
 * the ModRM reg field in bits 3-5). `o32` selects the 32-bit environment image sizes. */
void x87_classify(unsigned code, bool is_mem, bool o32, struct x87_form *out);

/* The image the host FRSTORs and FNSAVEs: the 108-byte 32-bit protected-mode FSAVE layout
 * (what these instructions use in 64-bit mode without REX.W). */
struct x87_image {
    _Alignas(16) uint8_t b[108];
};

/* Build the image the host loads: the guest's FCW, C0-C3 and TOP, registers and tags;
 * exception flags, SF, ES and B are cleared so that the host never sees a pending exception
 * (the caller merges them back with x87_from_image). */
void x87_to_image(const struct cpu_fpu *fpu, struct x87_image *img);

/* Take the host's result into *fpu: registers, TOP, C0-C3, the tag word the host computed,
 * exception flags and SF ORed onto `old_fsw`'s, ES and B recomputed against fpu->fcw. Returns
 * the flags the instruction itself raised (exception flags and SF of the host FSW). */
unsigned x87_from_image(struct cpu_fpu *fpu, const struct x87_image *img, uint16_t old_fsw);

/* Run host_code (an X87K_HOST encoding from x87_classify) on the host FPU with the state in
 * *img, leaving the result state in *img. Memory forms use `mem` (16 bytes) as their operand.
 * `eflags` provides CF/PF/ZF for FCMOVcc; *eflags_out receives the host's arithmetic flags
 * afterwards. Returns false (and does nothing) for a code it does not know. */
bool x87_host_run(struct x87_image *img, unsigned host_code, void *mem, uint32_t eflags,
                  uint32_t *eflags_out);

/* Tag (0 valid, 1 zero, 2 special) of an 80-bit register value. */
unsigned x87_tag_of(const long double *reg);

/* ES and B recomputed from the flags and the masks in fcw. */
uint16_t x87_fsw_summary(uint16_t fsw, uint16_t fcw);

/* Size of the FNSTENV image (14 or 28). FNSAVE adds 80 bytes of registers. */
static inline unsigned x87_env_size(bool o32) { return o32 ? 28u : 14u; }

/* FNSTENV image of *fpu into buf (x87_env_size bytes). */
void x87_store_env(const struct cpu_fpu *fpu, uint8_t *buf, bool pmode, bool o32);
/* FLDENV from buf into *fpu (registers untouched; tags of non-empty registers recomputed). */
void x87_load_env(struct cpu_fpu *fpu, const uint8_t *buf, bool pmode, bool o32);
/* The 80 register bytes of an FNSAVE image, ST(0) first, and their inverse for FRSTOR (which
 * must follow x87_load_env so that TOP is the loaded one). */
void x87_store_regs(const struct cpu_fpu *fpu, uint8_t *buf);
void x87_load_regs(struct cpu_fpu *fpu, const uint8_t *buf);

#endif
