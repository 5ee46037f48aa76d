/*
 * cpu.h - the guest CPU state: one plain struct that the execution engine, the (later) x86-64
 * back-end, snapshots and tests all share. Generated code addresses fields by offsetof(), so the
 * layout below is part of the back-end contract: add fields at the end of a group, never reorder.
 *
 * Owned by the vCPU process. Nothing here is trusted from another process.
 */
#ifndef CLOISTER_VCPU_CPU_H
#define CLOISTER_VCPU_CPU_H

#include <stdbool.h>
#include <stdint.h>

/* A segment register with its hidden (descriptor cache) part. */
struct cpu_seg {
    uint16_t sel;
    uint16_t pad;
    uint32_t base;
    uint32_t limit; /* byte-granular effective limit (G already applied) */
    uint32_t attr;  /* descriptor bits 40..55 as (desc_hi >> 8) & 0xF0FF: type, S, DPL, P, AVL, D/B, G */
};

struct cpu_dtr {
    uint32_t base;
    uint16_t limit;
    uint16_t pad;
};

/* EFLAGS bits. */
#define CPU_CF 0x0001u
#define CPU_PF 0x0004u
#define CPU_AF 0x0010u
#define CPU_ZF 0x0040u
#define CPU_SF 0x0080u
#define CPU_TF 0x0100u
#define CPU_IF 0x0200u
#define CPU_DF 0x0400u
#define CPU_OF 0x0800u
#define CPU_IOPL 0x3000u
#define CPU_NT 0x4000u
#define CPU_RF 0x10000u
#define CPU_VM 0x20000u
#define CPU_AC 0x40000u
#define CPU_ID 0x200000u
#define CPU_ARITH_FLAGS (CPU_CF | CPU_PF | CPU_AF | CPU_ZF | CPU_SF | CPU_OF)

/* CR0 / CR4 bits used by the engine. */
#define CPU_CR0_PE 0x00000001u
#define CPU_CR0_MP 0x00000002u
#define CPU_CR0_EM 0x00000004u
#define CPU_CR0_TS 0x00000008u
#define CPU_CR0_ET 0x00000010u
#define CPU_CR0_NE 0x00000020u
#define CPU_CR0_WP 0x00010000u
#define CPU_CR0_AM 0x00040000u
#define CPU_CR0_NW 0x20000000u
#define CPU_CR0_CD 0x40000000u
#define CPU_CR0_PG 0x80000000u
#define CPU_CR4_VME 0x0001u
#define CPU_CR4_PVI 0x0002u
#define CPU_CR4_TSD 0x0004u
#define CPU_CR4_DE 0x0008u
#define CPU_CR4_PSE 0x0010u
#define CPU_CR4_PGE 0x0080u

/* Exception vectors. */
enum cpu_vector {
    CPU_DE = 0, CPU_DB = 1, CPU_NMI = 2, CPU_BP = 3, CPU_OF_VEC = 4, CPU_BR = 5, CPU_UD = 6,
    CPU_NM = 7, CPU_DF_VEC = 8, CPU_TS = 10, CPU_NP = 11, CPU_SS = 12, CPU_GP = 13, CPU_PF_VEC = 14,
    CPU_MF = 16, CPU_AC_VEC = 17, CPU_MC = 18,
};

/* x87 state. Registers are kept as host long double (80-bit extended), physical order. */
struct cpu_fpu {
    long double st[8];
    uint16_t fcw, fsw, ftw; /* ftw: full 2-bit-per-register tag word */
    uint16_t fop;
    uint32_t fip, fdp;
    uint16_t fcs, fds;
};

/*
 * Lazy arithmetic flags. The engine may leave CF PF AF ZF SF OF unevaluated: cc_op names the last
 * flag-setting operation and cc_res/cc_src1/cc_src2 hold what is needed to compute them exactly;
 * cpu_get_eflags() materialises them. CC_OP_EFLAGS means eflags already holds them.
 */
struct cpu_state {
    /* --- hot: general registers, EIP, flags (offsets relied on by generated code) --- */
    uint32_t r[8];   /* enum ir_gpr order */
    uint32_t eip;
    uint32_t eflags; /* non-arithmetic bits always; arithmetic bits only when cc_op == 0 */
    uint32_t cc_op;
    uint32_t cc_res, cc_src1, cc_src2;

    /* --- segmentation and system registers --- */
    struct cpu_seg seg[6]; /* enum ir_sreg order */
    struct cpu_seg ldtr, tr;
    struct cpu_dtr gdtr, idtr;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    uint8_t cpl;
    uint8_t halted;
    uint8_t inhibit_irq;  /* interrupt shadow after STI / MOV SS / POP SS: one instruction */
    uint8_t pad0;

    /* --- MSRs the i686 model implements --- */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t tsc_offset; /* guest TSC = host clock ticks + tsc_offset */
    uint64_t apic_base;

    struct cpu_fpu fpu;
};

#endif
