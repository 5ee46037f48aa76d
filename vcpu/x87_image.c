/*
 * x87_image.c - moves the guest FPU state between its three representations:
 *   struct cpu_fpu    registers in physical order, full 2-bit tag word, FCW/FSW with TOP
 *   host FSAVE image  registers in stack (ST(i)) order, 32-bit protected-mode environment
 *   guest memory      the FNSTENV/FLDENV and FNSAVE/FRSTOR images in their four layouts:
 *                     16- or 32-bit operand size, protected or real/virtual-8086 mode
 *
 * Everything here is pure byte shuffling: no floating-point arithmetic, so no host FPU state is
 * touched. Inputs may hold any bit pattern (hostile guest memory, fuzzed state).
 */
#include "vcpu/x87_int.h"

#include <string.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static unsigned top_of(uint16_t fsw) { return (fsw & X87_FSW_TOP) >> X87_FSW_TOP_SHIFT; }

/* Registers live in long double slots; only the first 10 bytes are the x87 value. The padding
 * is kept zero so that states compare and snapshot deterministically. */
static void reg_get(const long double *slot, uint8_t out[10]) { memcpy(out, slot, 10); }
static void reg_set(long double *slot, const uint8_t in[10])
{
    memset(slot, 0, sizeof(*slot));
    memcpy(slot, in, 10);
}

unsigned x87_tag_of(const long double *reg)
{
    uint8_t b[10];
    uint64_t mant;
    unsigned exp;

    reg_get(reg, b);
    memcpy(&mant, b, 8);
    exp = get16(b + 8) & 0x7FFF;
    if (exp == 0x7FFF)
        return 2;                     /* infinity, NaN, pseudo-NaN/-infinity */
    if (exp == 0)
        return mant == 0 ? 1 : 2;     /* zero; denormal or pseudo-denormal */
    return (mant >> 63) ? 0 : 2;      /* normal; unnormal (integer bit clear) */
}

uint16_t x87_tag_word(const struct cpu_fpu *fpu)
{
    uint16_t tw = 0;

    for (unsigned i = 0; i < 8; i++) {
        unsigned t = (fpu->ftw >> (2 * i)) & 3;
        if (t != 3)
            t = x87_tag_of(&fpu->st[i]);
        tw |= (uint16_t)(t << (2 * i));
    }
    return tw;
}

/* Keep the empty/non-empty split of fpu->ftw, reclassify the non-empty registers. */
static void retag(struct cpu_fpu *fpu) { fpu->ftw = x87_tag_word(fpu); }

uint16_t x87_fsw_summary(uint16_t fsw, uint16_t fcw)
{
    fsw &= (uint16_t)~(X87_FSW_ES | X87_FSW_B);
    if (fsw & ~fcw & X87_FSW_EXC)
        fsw |= X87_FSW_ES | X87_FSW_B;
    return fsw;
}

void x87_to_image(const struct cpu_fpu *fpu, struct x87_image *img)
{
    unsigned top = top_of(fpu->fsw);

    memset(img->b, 0, 28);
    put32(img->b + 0, fpu->fcw);
    put32(img->b + 4, fpu->fsw & (uint16_t)~(X87_FSW_EXC | X87_FSW_SF | X87_FSW_ES | X87_FSW_B));
    put32(img->b + 8, fpu->ftw); /* FRSTOR only looks at empty (11) versus not */
    for (unsigned i = 0; i < 8; i++)
        reg_get(&fpu->st[(top + i) & 7], img->b + 28 + 10 * i);
}

unsigned x87_from_image(struct cpu_fpu *fpu, const struct x87_image *img, uint16_t old_fsw)
{
    uint16_t hfsw = get16(img->b + 4);
    unsigned top = top_of(hfsw), raised = hfsw & (X87_FSW_EXC | X87_FSW_SF);
    uint16_t keep = X87_FSW_C0 | X87_FSW_C1 | X87_FSW_C2 | X87_FSW_C3 | X87_FSW_TOP;

    for (unsigned i = 0; i < 8; i++)
        reg_set(&fpu->st[(top + i) & 7], img->b + 28 + 10 * i);
    fpu->ftw = get16(img->b + 8);
    fpu->fsw = (uint16_t)((hfsw & keep) | raised | (old_fsw & (X87_FSW_EXC | X87_FSW_SF)));
    fpu->fsw = x87_fsw_summary(fpu->fsw, fpu->fcw);
    return raised;
}

/*
 * Environment layouts (SDM vol. 1, 8.1.10). Offsets in bytes; "hi" fields hold pointer bits
 * 31..16 (32-bit real mode) or 19..16 (16-bit real mode) in bits 12 and up, FOP in bits 0-10.
 *   32-bit protected:  0 FCW  4 FSW  8 FTW  12 FIP  16 FCS | FOP<<16  20 FDP  24 FDS
 *   32-bit real:       0 FCW  4 FSW  8 FTW  12 FIP[15:0]  16 FOP | FIP[31:16]<<12
 *                      20 FDP[15:0]  24 FDP[31:16]<<12
 *   16-bit protected:  0 FCW  2 FSW  4 FTW  6 FIP  8 FCS  10 FDP  12 FDS
 *   16-bit real:       0 FCW  2 FSW  4 FTW  6 FIP[15:0]  8 FOP | FIP[19:16]<<12
 *                      10 FDP[15:0]  12 FDP[19:16]<<12
 * In real mode the pointers are linear addresses (selector * 16 + offset). The 32-bit images
 * fill the unused upper halves of the FCW/FSW/FTW/FDS dwords with ones, as P6 and later do.
 */
void x87_store_env(const struct cpu_fpu *fpu, uint8_t *buf, bool pmode, bool o32)
{
    uint16_t tw = x87_tag_word(fpu);
    uint32_t fop = fpu->fop & 0x7FFu;

    if (o32) {
        put32(buf + 0, 0xFFFF0000u | fpu->fcw);
        put32(buf + 4, 0xFFFF0000u | fpu->fsw);
        put32(buf + 8, 0xFFFF0000u | tw);
        if (pmode) {
            put32(buf + 12, fpu->fip);
            put32(buf + 16, fpu->fcs | fop << 16);
            put32(buf + 20, fpu->fdp);
            put32(buf + 24, 0xFFFF0000u | fpu->fds);
        } else {
            uint32_t ip = fpu->fip + ((uint32_t)fpu->fcs << 4);
            uint32_t dp = fpu->fdp + ((uint32_t)fpu->fds << 4);
            put32(buf + 12, ip & 0xFFFF);
            put32(buf + 16, fop | (ip >> 16) << 12);
            put32(buf + 20, dp & 0xFFFF);
            put32(buf + 24, (dp >> 16) << 12);
        }
    } else {
        put16(buf + 0, fpu->fcw);
        put16(buf + 2, fpu->fsw);
        put16(buf + 4, tw);
        if (pmode) {
            put16(buf + 6, fpu->fip);
            put16(buf + 8, fpu->fcs);
            put16(buf + 10, fpu->fdp);
            put16(buf + 12, fpu->fds);
        } else {
            uint32_t ip = fpu->fip + ((uint32_t)fpu->fcs << 4);
            uint32_t dp = fpu->fdp + ((uint32_t)fpu->fds << 4);
            put16(buf + 6, ip);
            put16(buf + 8, fop | ((ip >> 16) & 0xF) << 12);
            put16(buf + 10, dp);
            put16(buf + 12, ((dp >> 16) & 0xF) << 12);
        }
    }
}

void x87_load_env(struct cpu_fpu *fpu, const uint8_t *buf, bool pmode, bool o32)
{
    uint16_t fcw, fsw, tw;

    if (o32) {
        fcw = get16(buf + 0);
        fsw = get16(buf + 4);
        tw = get16(buf + 8);
        if (pmode) {
            fpu->fip = get32(buf + 12);
            fpu->fcs = get16(buf + 16);
            fpu->fop = (uint16_t)((get32(buf + 16) >> 16) & 0x7FF);
            fpu->fdp = get32(buf + 20);
            fpu->fds = get16(buf + 24);
        } else {
            uint32_t hi = get32(buf + 16);
            fpu->fip = get16(buf + 12) | ((hi >> 12) & 0xFFFF) << 16;
            fpu->fop = (uint16_t)(hi & 0x7FF);
            fpu->fdp = get16(buf + 20) | ((get32(buf + 24) >> 12) & 0xFFFF) << 16;
            fpu->fcs = 0;
            fpu->fds = 0;
        }
    } else {
        fcw = get16(buf + 0);
        fsw = get16(buf + 2);
        tw = get16(buf + 4);
        if (pmode) {
            fpu->fip = get16(buf + 6);
            fpu->fcs = get16(buf + 8);
            fpu->fdp = get16(buf + 10);
            fpu->fds = get16(buf + 12);
        } else {
            uint16_t hi = get16(buf + 8);
            fpu->fip = get16(buf + 6) | (uint32_t)(hi >> 12) << 16;
            fpu->fop = hi & 0x7FF;
            fpu->fdp = get16(buf + 10) | (uint32_t)(get16(buf + 12) >> 12) << 16;
            fpu->fcs = 0;
            fpu->fds = 0;
        }
    }
    fpu->fcw = (uint16_t)((fcw & X87_FCW_KEEP) | X87_FCW_ONES);
    fpu->fsw = x87_fsw_summary(fsw, fpu->fcw);
    fpu->ftw = tw;
    retag(fpu);
}

void x87_store_regs(const struct cpu_fpu *fpu, uint8_t *buf)
{
    unsigned top = top_of(fpu->fsw);

    for (unsigned i = 0; i < 8; i++)
        reg_get(&fpu->st[(top + i) & 7], buf + 10 * i);
}

void x87_load_regs(struct cpu_fpu *fpu, const uint8_t *buf)
{
    unsigned top = top_of(fpu->fsw);

    for (unsigned i = 0; i < 8; i++)
        reg_set(&fpu->st[(top + i) & 7], buf + 10 * i);
    retag(fpu);
}
