/*
 * host_ops.c - native execution of 8/16/32-bit integer instructions for the engine tests (see
 * host_ops.h). Each wrapper loads the caller's flags with POPF, runs one instruction and reads
 * EFLAGS back with PUSHF. The stack pointer first steps over the red zone so the pushes cannot
 * overwrite anything the compiler keeps below RSP.
 */
#include <cpuid.h>
#include <string.h>

#include "ipc/ir.h"
#include "tests/engine/host_ops.h"

#define PRE "lea -128(%%rsp),%%rsp\n\tpush %[fi]\n\tpopf\n\t"
#define POST "\n\tpushf\n\tpop %[fo]\n\tlea 128(%%rsp),%%rsp"

/* A op= B with A in EAX, B in ECX */
#define RUN_AC(insn)                                                                               \
    __asm__ volatile(PRE insn POST : "+a"(a), [fo] "=&r"(fo) : "c"(b), [fi] "r"(fi) : "cc", "memory")
/* one operand in EAX */
#define RUN_A(insn) __asm__ volatile(PRE insn POST : "+a"(a), [fo] "=&r"(fo) : [fi] "r"(fi) : "cc", "memory")
/* EAX op= EDX with count in CL */
#define RUN_ADC(insn)                                                                              \
    __asm__ volatile(PRE insn POST : "+a"(a), [fo] "=&r"(fo) : "d"(b), "c"(c), [fi] "r"(fi) : "cc", "memory")
/* EDX:EAX op src(ECX) */
#define RUN_MD(insn)                                                                               \
    __asm__ volatile(PRE insn POST : "+a"(a), "+d"(d), [fo] "=&r"(fo) : "c"(s), [fi] "r"(fi) : "cc", "memory")

#define BIN_CASES(SFX, RB, RA)                                                                     \
    case IR_ADD: RUN_AC("add" SFX " " RB "," RA); break;                                           \
    case IR_OR: RUN_AC("or" SFX " " RB "," RA); break;                                             \
    case IR_ADC: RUN_AC("adc" SFX " " RB "," RA); break;                                           \
    case IR_SBB: RUN_AC("sbb" SFX " " RB "," RA); break;                                           \
    case IR_AND: RUN_AC("and" SFX " " RB "," RA); break;                                           \
    case IR_SUB: RUN_AC("sub" SFX " " RB "," RA); break;                                           \
    case IR_XOR: RUN_AC("xor" SFX " " RB "," RA); break;                                           \
    case IR_CMP: RUN_AC("cmp" SFX " " RB "," RA); break;                                           \
    case IR_TEST: RUN_AC("test" SFX " " RB "," RA); break;

struct host_out host_alu2(unsigned op, unsigned size, uint32_t a, uint32_t b, uint32_t fin)
{
    unsigned long fi = fin, fo = 0;
    if (size == 1) {
        switch (op) {
        BIN_CASES("b", "%%cl", "%%al")
        default: break;
        }
    } else if (size == 2) {
        switch (op) {
        BIN_CASES("w", "%%cx", "%%ax")
        case IR_IMUL: RUN_AC("imulw %%cx,%%ax"); break;
        default: break;
        }
    } else {
        switch (op) {
        BIN_CASES("l", "%%ecx", "%%eax")
        case IR_IMUL: RUN_AC("imull %%ecx,%%eax"); break;
        default: break;
        }
    }
    return (struct host_out){ a, 0, (uint32_t)fo };
}

#define UN_CASES(SFX, RA)                                                                          \
    case IR_INC: RUN_A("inc" SFX " " RA); break;                                                   \
    case IR_DEC: RUN_A("dec" SFX " " RA); break;                                                   \
    case IR_NEG: RUN_A("neg" SFX " " RA); break;                                                   \
    case IR_NOT: RUN_A("not" SFX " " RA); break;

struct host_out host_alu1(unsigned op, unsigned size, uint32_t a, uint32_t fin)
{
    unsigned long fi = fin, fo = 0;
    if (size == 1) {
        switch (op) { UN_CASES("b", "%%al") default: break; }
    } else if (size == 2) {
        switch (op) { UN_CASES("w", "%%ax") default: break; }
    } else {
        switch (op) { UN_CASES("l", "%%eax") default: break; }
    }
    return (struct host_out){ a, 0, (uint32_t)fo };
}

#define SH_CASES(SFX, RA)                                                                          \
    case IR_ROL: RUN_AC("rol" SFX " %%cl," RA); break;                                             \
    case IR_ROR: RUN_AC("ror" SFX " %%cl," RA); break;                                             \
    case IR_RCL: RUN_AC("rcl" SFX " %%cl," RA); break;                                             \
    case IR_RCR: RUN_AC("rcr" SFX " %%cl," RA); break;                                             \
    case IR_SHL: RUN_AC("shl" SFX " %%cl," RA); break;                                             \
    case IR_SHR: RUN_AC("shr" SFX " %%cl," RA); break;                                             \
    case IR_SAR: RUN_AC("sar" SFX " %%cl," RA); break;

struct host_out host_shift(unsigned op, unsigned size, uint32_t a, uint32_t count, uint32_t fin)
{
    unsigned long fi = fin, fo = 0;
    uint32_t b = count;
    if (size == 1) {
        switch (op) { SH_CASES("b", "%%al") default: break; }
    } else if (size == 2) {
        switch (op) { SH_CASES("w", "%%ax") default: break; }
    } else {
        switch (op) { SH_CASES("l", "%%eax") default: break; }
    }
    return (struct host_out){ a, 0, (uint32_t)fo };
}

struct host_out host_shiftd(unsigned op, unsigned size, uint32_t a, uint32_t b, uint32_t count,
                            uint32_t fin)
{
    unsigned long fi = fin, fo = 0;
    uint32_t c = count;
    if (size == 2) {
        if (op == IR_SHLD)
            RUN_ADC("shldw %%cl,%%dx,%%ax");
        else
            RUN_ADC("shrdw %%cl,%%dx,%%ax");
    } else {
        if (op == IR_SHLD)
            RUN_ADC("shldl %%cl,%%edx,%%eax");
        else
            RUN_ADC("shrdl %%cl,%%edx,%%eax");
    }
    return (struct host_out){ a, 0, (uint32_t)fo };
}

#define MD_CASES(SFX, RS)                                                                          \
    case IR_MUL: RUN_MD("mul" SFX " " RS); break;                                                  \
    case IR_IMUL1: RUN_MD("imul" SFX " " RS); break;                                               \
    case IR_DIV: RUN_MD("div" SFX " " RS); break;                                                  \
    case IR_IDIV: RUN_MD("idiv" SFX " " RS); break;

struct host_out host_muldiv(unsigned op, unsigned size, uint32_t eax, uint32_t edx, uint32_t src,
                            uint32_t fin)
{
    unsigned long fi = fin, fo = 0;
    uint32_t a = eax, d = edx, s = src;
    if (size == 1) {
        switch (op) { MD_CASES("b", "%%cl") default: break; }
    } else if (size == 2) {
        switch (op) { MD_CASES("w", "%%cx") default: break; }
    } else {
        switch (op) { MD_CASES("l", "%%ecx") default: break; }
    }
    return (struct host_out){ a, d, (uint32_t)fo };
}

#define BIT_CASES(SFX, RB, RA)                                                                     \
    case IR_BT: RUN_AC("bt" SFX " " RB "," RA); break;                                             \
    case IR_BTS: RUN_AC("bts" SFX " " RB "," RA); break;                                           \
    case IR_BTR: RUN_AC("btr" SFX " " RB "," RA); break;                                           \
    case IR_BTC: RUN_AC("btc" SFX " " RB "," RA); break;                                           \
    case IR_BSF: RUN_AC("bsf" SFX " " RB "," RA); break;                                           \
    case IR_BSR: RUN_AC("bsr" SFX " " RB "," RA); break;

struct host_out host_bit(unsigned op, unsigned size, uint32_t a, uint32_t b, uint32_t fin)
{
    unsigned long fi = fin, fo = 0;
    if (size == 2) {
        switch (op) { BIT_CASES("w", "%%cx", "%%ax") default: break; }
    } else {
        switch (op) { BIT_CASES("l", "%%ecx", "%%eax") default: break; }
    }
    return (struct host_out){ a, 0, (uint32_t)fo };
}

bool host_is_amd(void)
{
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx))
        return false;
    char v[13];
    memcpy(v, &ebx, 4);
    memcpy(v + 4, &edx, 4);
    memcpy(v + 8, &ecx, 4);
    v[12] = 0;
    return strcmp(v, "AuthenticAMD") == 0;
}
