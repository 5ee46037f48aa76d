/*
 * exec_ctl.c - control and model-specific state: MOV to/from CR0/CR2/CR3/CR4 and DR0-DR7,
 * INVLPG, INVD, WBINVD, CPUID, RDTSC, RDPMC, RDMSR, WRMSR for the i686 model of cpuid.c.
 * exec_sys.c has already applied the CPL-0 rules.
 *
 * Trust: values come from guest registers; every architectural constraint (reserved bits,
 * invalid combinations, unknown MSRs) is checked here and raises the SDM's exception.
 */
#include "vcpu/sys.h"

/* CR0 bits this model implements (SDM 2.5); writes to the others are ignored, ET reads as 1. */
#define CR0_VALID (CPU_CR0_PE | CPU_CR0_MP | CPU_CR0_EM | CPU_CR0_TS | CPU_CR0_ET | CPU_CR0_NE | \
                   CPU_CR0_WP | CPU_CR0_AM | CPU_CR0_NW | CPU_CR0_CD | CPU_CR0_PG)
/* CR4 bits the model advertises through CPUID (TSC, DE, PSE, PGE); any other set bit is #GP(0). */
/* PCE (bit 8) exists on every P6 without a CPUID flag (SDM Vol. 3A 2.5), so it is accepted;
 * RDPMC itself still faults (no counters are modelled, see docs/cpu-system.md). */
#define CPU_CR4_PCE 0x0100u
#define CR4_VALID (CPU_CR4_TSD | CPU_CR4_DE | CPU_CR4_PSE | CPU_CR4_PGE | CPU_CR4_PCE)
/* CR3 without PAE: page-directory base, PWT, PCD. */

#define DR6_FIXED1 0xFFFF0FF0u
#define DR6_BD     0x00002000u
#define DR7_FIXED1 0x00000400u
#define DR7_FIXED0 0x0000D800u
#define DR7_GD     0x00002000u

enum msr_index {
    MSR_TSC = 0x10, MSR_PLATFORM_ID = 0x17, MSR_APIC_BASE = 0x1B, MSR_BIOS_SIGN_ID = 0x8B,
    MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
    MSR_MISC_ENABLE = 0x1A0,
};
/* APIC_BASE: BSP flag (read-only), global enable, base address (32-bit physical space here). */
#define APIC_BASE_BSP      0x100u
#define APIC_BASE_WRITABLE 0xFFFFF800u
/* MISC_ENABLE as this model reports it: fast strings enabled, nothing else. */
#define MISC_ENABLE_VALUE  0x1u

static int done(struct engine *e, const struct ir_insn *in, int result)
{
    e->cpu->eip = eng_next_eip(e->cpu, in);
    return result;
}

static int mov_to_cr(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    if (in->opd[0].kind != IR_OPK_CREG || in->opd[1].kind != IR_OPK_REG)
        return eng_ud(e);
    uint32_t v = cpu->r[in->opd[1].reg & 7];
    switch (in->opd[0].reg) {
    case 0:
        v = (v & CR0_VALID) | CPU_CR0_ET;
        if ((v & CPU_CR0_PG) && !(v & CPU_CR0_PE))
            return eng_gp0(e);
        if ((v & CPU_CR0_NW) && !(v & CPU_CR0_CD))
            return eng_gp0(e);
        cpu->cr0 = v;
        break;
    case 2:
        cpu->cr2 = v;
        break;
    case 3:
        /* Bits 2:0 and 11:5 are ignored by 32-bit paging (SDM Vol. 3A, Table 4-3), not
         * cleared: MOV from CR3 reads back what was written, as QEMU and hardware do. */
        cpu->cr3 = v;
        break;
    case 4:
        if (v & ~CR4_VALID)
            return eng_gp0(e);
        cpu->cr4 = v;
        break;
    default:
        return eng_ud(e);
    }
    return done(e, in, ENG_END_BLOCK);
}

static int mov_from_cr(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    if (in->opd[1].kind != IR_OPK_CREG || in->opd[0].kind != IR_OPK_REG)
        return eng_ud(e);
    uint32_t v;
    switch (in->opd[1].reg) {
    case 0: v = cpu->cr0; break;
    case 2: v = cpu->cr2; break;
    case 3: v = cpu->cr3; break;
    case 4: v = cpu->cr4; break;
    default: return eng_ud(e);
    }
    cpu->r[in->opd[0].reg & 7] = v;
    return done(e, in, ENG_OK);
}

/* DR4/DR5 alias DR6/DR7 unless CR4.DE; DR7.GD turns any access into #DB with DR6.BD. */
static int dr_index(struct engine *e, unsigned n, unsigned *idx)
{
    struct cpu_state *cpu = e->cpu;
    if (n > 7)
        return eng_ud(e);
    if (n == 4 || n == 5) {
        if (cpu->cr4 & CPU_CR4_DE)
            return eng_ud(e);
        n += 2;
    }
    if (cpu->dr[7] & DR7_GD) {
        cpu->dr[6] |= DR6_BD;
        cpu->dr[7] &= ~DR7_GD; /* cleared on entry to the handler so that it can use DRs */
        return eng_raise(e, CPU_DB, false, 0);
    }
    *idx = n;
    return 0;
}

static int mov_dr(struct engine *e, const struct ir_insn *in, bool to)
{
    struct cpu_state *cpu = e->cpu;
    const struct ir_operand *dreg = &in->opd[to ? 0 : 1], *greg = &in->opd[to ? 1 : 0];
    if (dreg->kind != IR_OPK_DREG || greg->kind != IR_OPK_REG)
        return eng_ud(e);
    unsigned n;
    int r = dr_index(e, dreg->reg, &n);
    if (r)
        return r;
    if (!to) {
        cpu->r[greg->reg & 7] = cpu->dr[n];
        return done(e, in, ENG_OK);
    }
    uint32_t v = cpu->r[greg->reg & 7];
    if (n == 6)
        v = (v | DR6_FIXED1) & ~0x1000u;
    else if (n == 7)
        v = (v | DR7_FIXED1) & ~DR7_FIXED0;
    cpu->dr[n] = v;
    return done(e, in, ENG_END_BLOCK);
}

static uint64_t guest_tsc(struct engine *e)
{
    uint64_t host = e->io.tsc ? e->io.tsc(e->io.ctx) : 0;
    return host + e->cpu->tsc_offset;
}

static int rdmsr(struct engine *e, uint32_t idx, uint64_t *v)
{
    struct cpu_state *cpu = e->cpu;
    switch (idx) {
    case MSR_TSC: *v = guest_tsc(e); return 0;
    case MSR_PLATFORM_ID: *v = 0; return 0;
    case MSR_APIC_BASE: *v = cpu->apic_base; return 0;
    case MSR_BIOS_SIGN_ID: *v = 0; return 0; /* microcode revision 0 in EDX */
    case MSR_SYSENTER_CS: *v = cpu->sysenter_cs; return 0;
    case MSR_SYSENTER_ESP: *v = cpu->sysenter_esp; return 0;
    case MSR_SYSENTER_EIP: *v = cpu->sysenter_eip; return 0;
    case MSR_MISC_ENABLE: *v = MISC_ENABLE_VALUE; return 0;
    default: return eng_gp0(e);
    }
}

static int wrmsr(struct engine *e, uint32_t idx, uint64_t v)
{
    struct cpu_state *cpu = e->cpu;
    switch (idx) {
    case MSR_TSC: {
        /* P6: only the low 32 bits are written, the high half is cleared */
        uint64_t host = e->io.tsc ? e->io.tsc(e->io.ctx) : 0;
        cpu->tsc_offset = (v & 0xFFFFFFFFu) - host;
        return 0;
    }
    case MSR_APIC_BASE:
        if (v & ~(uint64_t)(APIC_BASE_WRITABLE | APIC_BASE_BSP))
            return eng_gp0(e);
        cpu->apic_base = (cpu->apic_base & APIC_BASE_BSP) | (v & APIC_BASE_WRITABLE);
        return 0;
    case MSR_BIOS_SIGN_ID:
        return 0; /* writing 0 before CPUID is the revision-read protocol; nothing to load */
    case MSR_SYSENTER_CS: cpu->sysenter_cs = (uint32_t)v; return 0;
    case MSR_SYSENTER_ESP: cpu->sysenter_esp = (uint32_t)v; return 0;
    case MSR_SYSENTER_EIP: cpu->sysenter_eip = (uint32_t)v; return 0;
    case MSR_MISC_ENABLE:
        return 0; /* accepted and ignored: no feature here can be switched */
    default:
        return eng_gp0(e); /* unknown and read-only MSRs (PLATFORM_ID) */
    }
}

int exec_ctl(struct engine *e, const struct ir_insn *in)
{
    struct cpu_state *cpu = e->cpu;
    uint64_t v;
    int r;
    switch (in->op) {
    case IR_MOV_TO_CR:
        return mov_to_cr(e, in);
    case IR_MOV_FROM_CR:
        return mov_from_cr(e, in);
    case IR_MOV_TO_DR:
        return mov_dr(e, in, true);
    case IR_MOV_FROM_DR:
        return mov_dr(e, in, false);
    case IR_INVLPG:
        if (in->opd[0].kind != IR_OPK_MEM)
            return eng_ud(e);
        return done(e, in, ENG_END_BLOCK);
    case IR_INVD:
    case IR_WBINVD:
        return done(e, in, ENG_OK); /* no caches to model */
    case IR_CPUID: {
        uint32_t out[4];
        cpu_cpuid(cpu, cpu->r[IR_EAX], out);
        cpu->r[IR_EAX] = out[0];
        cpu->r[IR_EBX] = out[1];
        cpu->r[IR_ECX] = out[2];
        cpu->r[IR_EDX] = out[3];
        return done(e, in, ENG_OK);
    }
    case IR_RDTSC:
        if ((cpu->cr4 & CPU_CR4_TSD) && (cpu->cr0 & CPU_CR0_PE) && cpu->cpl != 0)
            return eng_gp0(e);
        v = guest_tsc(e);
        cpu->r[IR_EAX] = (uint32_t)v;
        cpu->r[IR_EDX] = (uint32_t)(v >> 32);
        return done(e, in, ENG_OK);
    case IR_RDPMC:
        return eng_gp0(e); /* no performance counters in this model */
    case IR_RDMSR:
        r = rdmsr(e, cpu->r[IR_ECX], &v);
        if (r)
            return r;
        cpu->r[IR_EAX] = (uint32_t)v;
        cpu->r[IR_EDX] = (uint32_t)(v >> 32);
        return done(e, in, ENG_OK);
    case IR_WRMSR:
        r = wrmsr(e, cpu->r[IR_ECX], (uint64_t)cpu->r[IR_EDX] << 32 | cpu->r[IR_EAX]);
        return r ? r : done(e, in, ENG_END_BLOCK);
    default:
        return eng_ud(e);
    }
}
