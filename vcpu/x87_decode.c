/*
 * x87_decode.c - what each D8-DF encoding means on an i686 (P6 family, no SSE3): which ones are
 * numeric instructions the host FPU runs, which are control instructions done in C, which are
 * #UD, how big the memory operand is, and which canonical encoding stands in for each
 * undocumented alias that behaves exactly like a documented instruction (FCOM2, FCOMP3, FXCH4,
 * FCOMP5, FXCH7, FSTP8, FSTP9; checked against the host by tests/x87). FSTP1 (D9 D8+i, also
 * called FSTPNCE) is not such an alias: it pops an empty ST(0) without a stack fault, so the host
 * runs it as encoded.
 *
 * Trusts nothing about `code`: every value maps to some form, unknown ones to X87K_UD.
 */
#include "vcpu/x87_int.h"

#include <string.h>

static void host(struct x87_form *f, unsigned code, unsigned in, unsigned out)
{
    f->kind = X87K_HOST;
    f->flags = X87F_WAITING;
    f->mem_in = (uint8_t)in;
    f->mem_out = (uint8_t)out;
    f->host_code = (uint16_t)code;
}

static void ctrl(struct x87_form *f, unsigned kind, bool waiting, unsigned in, unsigned out)
{
    f->kind = (uint8_t)kind;
    f->flags = (uint8_t)(X87F_CONTROL | (waiting ? X87F_WAITING : 0));
    f->mem_in = (uint8_t)in;
    f->mem_out = (uint8_t)out;
    f->host_code = 0;
}

/* Memory forms: op = opcode & 7, reg = ModRM reg field. */
static void classify_mem(unsigned op, unsigned reg, bool o32, struct x87_form *f)
{
    unsigned code = X87_CODE(op, reg << 3);
    unsigned env = o32 ? 28 : 14;

    switch (op) {
    case 0: host(f, code, 4, 0); return;           /* FADD..FDIVR m32fp */
    case 2: host(f, code, 4, 0); return;           /* FIADD..FIDIVR m32int */
    case 4: host(f, code, 8, 0); return;           /* FADD..FDIVR m64fp */
    case 6: host(f, code, 2, 0); return;           /* FIADD..FIDIVR m16int */
    case 1:
        switch (reg) {
        case 0: host(f, code, 4, 0); return;       /* FLD m32fp */
        case 2: case 3: host(f, code, 0, 4); return; /* FST/FSTP m32fp */
        case 4: ctrl(f, X87K_FLDENV, true, env, 0); return;
        case 5: ctrl(f, X87K_FLDCW, true, 2, 0); return;
        case 6: ctrl(f, X87K_FNSTENV, false, 0, env); return;
        case 7: ctrl(f, X87K_FNSTCW, false, 0, 2); return;
        default: return;
        }
    case 3:
        switch (reg) {
        case 0: host(f, code, 4, 0); return;       /* FILD m32int */
        case 2: case 3: host(f, code, 0, 4); return; /* FIST/FISTP m32int */
        case 5: host(f, code, 10, 0); return;      /* FLD m80fp */
        case 7: host(f, code, 0, 10); return;      /* FSTP m80fp */
        default: return;                           /* 1: FISTTP (SSE3); 4, 6 reserved */
        }
    case 5:
        switch (reg) {
        case 0: host(f, code, 8, 0); return;       /* FLD m64fp */
        case 2: case 3: host(f, code, 0, 8); return; /* FST/FSTP m64fp */
        case 4: ctrl(f, X87K_FRSTOR, true, env + 80, 0); return;
        case 6: ctrl(f, X87K_FNSAVE, false, 0, env + 80); return;
        case 7: ctrl(f, X87K_FNSTSW_MEM, false, 0, 2); return;
        default: return;                           /* 1: FISTTP; 5 reserved */
        }
    default: /* 7 */
        switch (reg) {
        case 0: host(f, code, 2, 0); return;       /* FILD m16int */
        case 2: case 3: host(f, code, 0, 2); return; /* FIST/FISTP m16int */
        case 4: host(f, code, 10, 0); return;      /* FBLD */
        case 5: host(f, code, 8, 0); return;       /* FILD m64int */
        case 6: host(f, code, 0, 10); return;      /* FBSTP */
        case 7: host(f, code, 0, 8); return;       /* FISTP m64int */
        default: return;                           /* 1: FISTTP */
        }
    }
}

/* Register forms: op = opcode & 7, modrm = 0xC0..0xFF. */
static void classify_reg(unsigned op, unsigned modrm, struct x87_form *f)
{
    unsigned row = modrm & 0xF8, i = modrm & 7;
    unsigned code = X87_CODE(op, modrm);

    switch (op) {
    case 0: /* FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR st(0),st(i) */
        host(f, code, 0, 0);
        return;
    case 1:
        /* FLD FXCH FNOP FSTP1 FCHS FABS FTST FXAM constants D9 F0-FF */
        if (row == 0xC0 || row == 0xC8 || row == 0xD8 || row >= 0xF0 || modrm == 0xD0 ||
            modrm == 0xE0 || modrm == 0xE1 || modrm == 0xE4 || modrm == 0xE5 ||
            (modrm >= 0xE8 && modrm <= 0xEE))
            host(f, code, 0, 0);
        return;
    case 2:
        if (modrm < 0xE0) {                        /* FCMOVB/E/BE/U */
            host(f, code, 0, 0);
            f->flags |= X87F_FLAGS;
        } else if (modrm == 0xE9) {
            host(f, code, 0, 0);                   /* FUCOMPP */
        }
        return;
    case 3:
        if (modrm < 0xE0) {                        /* FCMOVNB/NE/NBE/NU */
            host(f, code, 0, 0);
            f->flags |= X87F_FLAGS;
        } else if (modrm == 0xE0 || modrm == 0xE1 || modrm == 0xE4) {
            ctrl(f, X87K_LEGACY_NOP, false, 0, 0);
        } else if (modrm == 0xE2) {
            ctrl(f, X87K_FNCLEX, false, 0, 0);
        } else if (modrm == 0xE3) {
            ctrl(f, X87K_FNINIT, false, 0, 0);
        } else if (modrm >= 0xE8 && modrm <= 0xF7) { /* FUCOMI, FCOMI */
            host(f, code, 0, 0);
            f->flags |= X87F_FLAGS | X87F_SETS_FLAGS;
        }
        return;
    case 4:
        if (row == 0xD0 || row == 0xD8)           /* FCOM2/FCOMP3 aliases */
            host(f, X87_CODE(0, modrm), 0, 0);
        else                                       /* FADD FMUL FSUBR FSUB FDIVR FDIV st(i),st(0) */
            host(f, code, 0, 0);
        return;
    case 5:
        if (row == 0xC8)                           /* FXCH4 alias */
            host(f, X87_CODE(1, modrm), 0, 0);
        else if (modrm < 0xF0)                     /* FFREE FST FSTP FUCOM FUCOMP */
            host(f, code, 0, 0);
        return;
    case 6:
        if (row == 0xD0)                           /* FCOMP5 alias */
            host(f, X87_CODE(0, 0xD8 | i), 0, 0);
        else if (row != 0xD8 || modrm == 0xD9)     /* FADDP FMULP FCOMPP FSUBRP FSUBP FDIVRP.. */
            host(f, code, 0, 0);
        return;
    default: /* 7 */
        if (row == 0xC0) {
            host(f, code, 0, 0);                   /* FFREEP */
        } else if (row == 0xC8) {
            host(f, X87_CODE(1, modrm), 0, 0);     /* FXCH7 alias */
        } else if (row == 0xD0 || row == 0xD8) {
            host(f, X87_CODE(5, 0xD8 | i), 0, 0);  /* FSTP8/FSTP9 aliases */
        } else if (modrm == 0xE0) {
            ctrl(f, X87K_FNSTSW_AX, false, 0, 0);
        } else if (modrm >= 0xE8 && modrm <= 0xF7) { /* FUCOMIP, FCOMIP */
            host(f, code, 0, 0);
            f->flags |= X87F_FLAGS | X87F_SETS_FLAGS;
        }
        return;
    }
}

void x87_classify(unsigned code, bool is_mem, bool o32, struct x87_form *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = X87K_UD;
    if (code > 0x7FF)
        return;
    if (is_mem)
        classify_mem(code >> 8, (code >> 3) & 7, o32, out);
    else if ((code & 0xFF) >= 0xC0)
        classify_reg(code >> 8, code & 0xFF, out);
}
