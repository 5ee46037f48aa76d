/*
 * x87_host.c - runs one numeric x87 instruction on the host's own x87 unit.
 *
 * The guest and the host are the same ISA, so the exact i686 result of FADD, FSIN, FBSTP, a
 * stack fault or an unmasked overflow is what the host instruction itself produces when it runs
 * against the guest's register file, control word and tags. Each call is one asm statement:
 *
 *     FNSTCW host; FRSTOR guest image; [set CF/PF/ZF]; the instruction;
 *     FNSAVE guest image; [read EFLAGS]; FLDCW host
 *
 * FNSAVE leaves the unit initialised (empty stack, no exception flags), which is the state the
 * SysV ABI guarantees at a call boundary anyway; the control word, the only callee-saved x87
 * state, is put back, and MXCSR/XMM are never touched. The x87 status flags of the host are not
 * preserved (the ABI does not ask for it; nothing in the vCPU process uses them). The guest
 * image is loaded with its exception flags cleared (x87_to_image), so the host never has a
 * pending exception: an unmasked guest exception only ever becomes a flag in the saved image,
 * never a host #MF/SIGFPE. FRSTOR/FNSAVE rather than FXRSTOR/FXSAVE because they move only the
 * x87 state and are much cheaper on current processors.
 *
 * Memory forms are always encoded with ModRM mod=00 rm=000, i.e. [RAX], and RAX points at the
 * caller's 16-byte operand buffer. Only encodings listed in the switch below are ever executed;
 * anything else returns false. They are all documented encodings except FSTP1 (D9 D8+i), which
 * every x86-64 processor still decodes and which has no documented equivalent.
 * Trusts: its caller for `img` and `mem` being valid buffers.
 */
#include "vcpu/x87_int.h"

/* RFLAGS arithmetic bits: CF PF AF ZF SF OF. */
#define HOST_ARITH 0x8D5u

/* Every x87 register is clobbered as far as the compiler is concerned, in case it ever keeps a
 * long double live across this code. */
#define X87_CLOBBERS "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"

/* Plain form: the instruction's bytes are `o`, `m`. */
#define RUN(o, m)                                                                                \
    __asm__ volatile("fnstcw %[cw]\n\t"                                                          \
                     "frstor (%[g])\n\t"                                                         \
                     ".byte %c[op], %c[rm]\n\t"                                                  \
                     "fnsave (%[g])\n\t"                                                         \
                     "fldcw %[cw]"                                                               \
                     : [cw] "=m"(hostcw)                                                         \
                     : [g] "r"(img->b), "a"(mem), [op] "i"(o), [rm] "i"(m)                       \
                     : "memory", "cc", X87_CLOBBERS)

/* EFLAGS form (FCMOVcc reads CF/PF/ZF, FCOMI writes them): RFLAGS is set from `flin` and read
 * back into `flout`. The stack pointer steps over the 128-byte red zone before pushing. */
#define RUNF(o, m)                                                                               \
    __asm__ volatile("fnstcw %[cw]\n\t"                                                          \
                     "leaq -128(%%rsp), %%rsp\n\t"                                               \
                     "pushfq\n\t"                                                                \
                     "popq %%rcx\n\t"                                                            \
                     "andq %[keep], %%rcx\n\t"                                                   \
                     "orq %[fl], %%rcx\n\t"                                                      \
                     "pushq %%rcx\n\t"                                                           \
                     "popfq\n\t"                                                                 \
                     "frstor (%[g])\n\t"                                                         \
                     ".byte %c[op], %c[rm]\n\t"                                                  \
                     "fnsave (%[g])\n\t"                                                         \
                     "pushfq\n\t"                                                                \
                     "popq %[out]\n\t"                                                           \
                     "leaq 128(%%rsp), %%rsp\n\t"                                                \
                     "fldcw %[cw]"                                                               \
                     : [out] "=&r"(flout), [cw] "=m"(hostcw)                                     \
                     : [g] "r"(img->b), "a"(mem), [fl] "r"(flin), [keep] "r"(keep),              \
                       [op] "i"(o), [rm] "i"(m)                                                  \
                     : "memory", "rcx", "cc", X87_CLOBBERS)

#define C1(o, m) case X87_CODE(o, m): RUN(o, m); break;
#define C8(o, m) C1(o, (m)) C1(o, (m) + 1) C1(o, (m) + 2) C1(o, (m) + 3) \
                 C1(o, (m) + 4) C1(o, (m) + 5) C1(o, (m) + 6) C1(o, (m) + 7)
#define F1(o, m) case X87_CODE(o, m): RUNF(o, m); break;
#define F8(o, m) F1(o, (m)) F1(o, (m) + 1) F1(o, (m) + 2) F1(o, (m) + 3) \
                 F1(o, (m) + 4) F1(o, (m) + 5) F1(o, (m) + 6) F1(o, (m) + 7)
/* The eight memory forms of one opcode: ModRM reg = 0..7, operand [RAX]. */
#define M1(o, r) C1(o, (r) << 3)
#define M8(o) M1(o, 0) M1(o, 1) M1(o, 2) M1(o, 3) M1(o, 4) M1(o, 5) M1(o, 6) M1(o, 7)

bool x87_host_run(struct x87_image *img, unsigned host_code, void *mem, uint32_t eflags,
                  uint32_t *eflags_out)
{
    uint16_t hostcw;
    uint64_t flin = eflags & HOST_ARITH, keep = ~(uint64_t)HOST_ARITH, flout = flin;

    switch (host_code) {
    /* D8: arithmetic and compares, st(0) op st(i) and m32fp */
    C8(0xD8, 0xC0) C8(0xD8, 0xC8) C8(0xD8, 0xD0) C8(0xD8, 0xD8)
    C8(0xD8, 0xE0) C8(0xD8, 0xE8) C8(0xD8, 0xF0) C8(0xD8, 0xF8)
    M8(0xD8)
    /* D9: FLD st(i), FXCH, FNOP, FSTP1, FCHS FABS FTST FXAM, constants, D9 F0-FF;
     * FLD/FST/FSTP m32fp */
    C8(0xD9, 0xC0) C8(0xD9, 0xC8) C1(0xD9, 0xD0) C8(0xD9, 0xD8)
    C1(0xD9, 0xE0) C1(0xD9, 0xE1) C1(0xD9, 0xE4) C1(0xD9, 0xE5)
    C1(0xD9, 0xE8) C1(0xD9, 0xE9) C1(0xD9, 0xEA) C1(0xD9, 0xEB)
    C1(0xD9, 0xEC) C1(0xD9, 0xED) C1(0xD9, 0xEE)
    C8(0xD9, 0xF0) C8(0xD9, 0xF8)
    M1(0xD9, 0) M1(0xD9, 2) M1(0xD9, 3)
    /* DA: FCMOVB/E/BE/U, FUCOMPP; m32int arithmetic */
    F8(0xDA, 0xC0) F8(0xDA, 0xC8) F8(0xDA, 0xD0) F8(0xDA, 0xD8)
    C1(0xDA, 0xE9)
    M8(0xDA)
    /* DB: FCMOVNB/NE/NBE/NU, FUCOMI, FCOMI; FILD/FIST/FISTP m32int, FLD/FSTP m80fp */
    F8(0xDB, 0xC0) F8(0xDB, 0xC8) F8(0xDB, 0xD0) F8(0xDB, 0xD8)
    F8(0xDB, 0xE8) F8(0xDB, 0xF0)
    M1(0xDB, 0) M1(0xDB, 2) M1(0xDB, 3) M1(0xDB, 5) M1(0xDB, 7)
    /* DC: st(i) op st(0) arithmetic; m64fp arithmetic */
    C8(0xDC, 0xC0) C8(0xDC, 0xC8)
    C8(0xDC, 0xE0) C8(0xDC, 0xE8) C8(0xDC, 0xF0) C8(0xDC, 0xF8)
    M8(0xDC)
    /* DD: FFREE, FST, FSTP, FUCOM, FUCOMP; FLD/FST/FSTP m64fp */
    C8(0xDD, 0xC0) C8(0xDD, 0xD0) C8(0xDD, 0xD8) C8(0xDD, 0xE0) C8(0xDD, 0xE8)
    M1(0xDD, 0) M1(0xDD, 2) M1(0xDD, 3)
    /* DE: popping arithmetic, FCOMPP; m16int arithmetic */
    C8(0xDE, 0xC0) C8(0xDE, 0xC8) C1(0xDE, 0xD9)
    C8(0xDE, 0xE0) C8(0xDE, 0xE8) C8(0xDE, 0xF0) C8(0xDE, 0xF8)
    M8(0xDE)
    /* DF: FFREEP, FUCOMIP, FCOMIP; FILD/FIST/FISTP m16int, FBLD, FILD m64int, FBSTP, FISTP m64 */
    C8(0xDF, 0xC0)
    F8(0xDF, 0xE8) F8(0xDF, 0xF0)
    M1(0xDF, 0) M1(0xDF, 2) M1(0xDF, 3) M1(0xDF, 4) M1(0xDF, 5) M1(0xDF, 6) M1(0xDF, 7)
    default:
        return false;
    }
    *eflags_out = (uint32_t)(flout & HOST_ARITH);
    return true;
}
