/*
 * cpuid.c - CPUID for cloister's guest CPU model: a GenuineIntel family 6 model 5 (Pentium II
 * class) processor with the features the engine implements and nothing more (SDM vol. 2 CPUID).
 *
 * Advertised in leaf 1 EDX: FPU, DE, PSE, TSC, MSR, CX8, SEP, PGE, CMOV. Deliberately absent:
 * VME (no virtual-8086 extensions), MCE/MCA, APIC, MTRR, PAT, PAE, MMX, FXSR, SSE, PSN.
 * Trust: none needed; the leaf number is any guest value.
 */
#include "vcpu/engine.h"

#define CPUID_MAX_BASIC 2u

/* Leaf 1 EAX: stepping 2, model 5, family 6, type 0 (original OEM processor). Model >= 3 keeps
 * Linux from clearing SEP for the early Pentium Pro SYSENTER erratum. */
#define CPUID_SIGNATURE 0x00000652u

enum {
    FEAT_FPU = 1u << 0, FEAT_DE = 1u << 2, FEAT_PSE = 1u << 3, FEAT_TSC = 1u << 4,
    FEAT_MSR = 1u << 5, FEAT_CX8 = 1u << 8, FEAT_SEP = 1u << 11, FEAT_PGE = 1u << 13,
    FEAT_CMOV = 1u << 15,
};

void cpu_cpuid(const struct cpu_state *cpu, uint32_t leaf, uint32_t out[4])
{
    (void)cpu;
    /* Intel behaviour: any leaf above the maximum (basic or extended, as there are no extended
     * leaves here) returns the highest basic leaf. That makes 0x80000000 answer a value below
     * 0x80000001, which tells software there are no extended leaves. */
    if (leaf > CPUID_MAX_BASIC)
        leaf = CPUID_MAX_BASIC;
    switch (leaf) {
    case 0:
        out[0] = CPUID_MAX_BASIC;
        out[1] = 0x756E6547u; /* "Genu" */
        out[3] = 0x49656E69u; /* "ineI" */
        out[2] = 0x6C65746Eu; /* "ntel" */
        break;
    case 1:
        out[0] = CPUID_SIGNATURE;
        out[1] = 0;
        out[2] = 0;
        out[3] = FEAT_FPU | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_CX8 | FEAT_SEP |
                 FEAT_PGE | FEAT_CMOV;
        break;
    default:
        /* Leaf 2 cache and TLB descriptors, one iteration (AL = 1): 01 instruction TLB 4K,
         * 02 instruction TLB 4M, 03 data TLB 4K, 04 data TLB 4M, 08 L1 instruction 16K,
         * 0C L1 data 16K, 43 L2 512K. */
        out[0] = 0x03020101u;
        out[1] = 0;
        out[2] = 0;
        out[3] = 0x0C040843u;
        break;
    }
}
