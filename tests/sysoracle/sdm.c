/*
 * sdm.c - the table of QEMU-versus-SDM disagreements (see sdm.h). Every rule was found by the
 * oracle (the first cases are named in docs/sysoracle.md) and checked against the SDM text.
 */
#include "tests/sysoracle/sdm.h"

#include <string.h>

#define ALL_FIELDS ((1ull << SO_NFIELDS) - 1)
#define ALL_DUMPS ((1ull << SO_MAX_DUMP) - 1)
#define FBIT(f) (1ull << (f))

/* Leave everything open but the fields named in keep. */
static void open_all_but(struct so_diff *open, uint64_t keep)
{
    open->fields |= ALL_FIELDS & ~keep;
    open->dumps |= ALL_DUMPS;
}

/* ---- INT1 (ICEBP) ---- */

static bool icebp_applies(const struct sc *s, const struct so_result *q)
{
    (void)s;
    /* QEMU raises #UD at the F1 byte itself */
    return q->f[SO_F_VEC] == 6 && q->f[SO_F_FRAME] == SO_CODE;
}

static void icebp_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    uint32_t kind = s->tagval[0];
    if (kind == 0) {
        /* delivered as a trap through the vector-1 gate (no DPL check) to a ring-0 pad */
        ref->f[SO_F_VEC] = 6;
        ref->f[SO_F_FRAME + 0] = s->tagval[1];
        ref->f[SO_F_FRAME + 1] = SO_SEL_CODE0;
        uint64_t keep = FBIT(SO_F_VEC) | FBIT(SO_F_FRAME) | FBIT(SO_F_FRAME + 1);
        if (s->tagval[2] == 1) { /* 32-bit frame: EIP after INT1, CS */
            ref->f[SO_F_FRAME + 3] = SO_CODE + 1;
            ref->f[SO_F_FRAME + 4] = s->c.cs;
            keep |= FBIT(SO_F_FRAME + 3) | FBIT(SO_F_FRAME + 4);
        }
        open_all_but(open, keep);
    } else {
        /* #NP or #GP with the IDT error code: vector * 8 + 2 + EXT (INT1 sets EXT), reported
         * at the INT1 instruction as for INT n */
        ref->f[SO_F_VEC] = kind == 1 ? 11 : 13;
        ref->f[SO_F_FRAME + 0] = 1 * 8 + 2 + 1;
        ref->f[SO_F_FRAME + 1] = SO_CODE;
        open_all_but(open, FBIT(SO_F_VEC) | FBIT(SO_F_FRAME) | FBIT(SO_F_FRAME + 1));
    }
}

/* ---- gate target past the code segment limit ---- */

static bool gate_limit_applies(const struct sc *s, const struct so_result *q)
{
    /* QEMU went through the gate and executed the landing pad in the short segment */
    return q->f[SO_F_VEC] == 6 && (q->f[SO_F_FRAME + 1] & ~3u) == s->tagval[2];
}

static void gate_limit_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    if (s->tagval[1] == 0) {
        /* software interrupt: #GP(EXT = 0) at the INT instruction */
        ref->f[SO_F_VEC] = 13;
        ref->f[SO_F_FRAME + 0] = 0;
        ref->f[SO_F_FRAME + 1] = s->tagval[0];
        open_all_but(open, FBIT(SO_F_VEC) | FBIT(SO_F_FRAME) | FBIT(SO_F_FRAME + 1));
    } else {
        /* #GP while delivering a contributory exception: double fault (the #DF task), error
         * code 0, the interrupted EIP at the faulting instruction */
        ref->f[SO_F_VEC] = 8 | SO_VEC_TASK;
        ref->f[SO_F_FRAME + 0] = 0;
        ref->f[SO_F_FRAME + 4] = s->tagval[0];
        open_all_but(open, FBIT(SO_F_VEC) | FBIT(SO_F_FRAME) | FBIT(SO_F_FRAME + 4));
    }
}

/* ---- far returns ---- */

static bool faulted_at(const struct so_result *q, uint32_t eip)
{
    uint32_t v = q->f[SO_F_VEC];
    return (v == 10 || v == 11 || v == 12 || v == 13) && q->f[SO_F_FRAME + 1] == eip;
}

static bool ss_np_applies(const struct sc *s, const struct so_result *q)
{
    return q->f[SO_F_VEC] == 11 && q->f[SO_F_FRAME] == (s->tagval[4] & 0xFFFC) &&
           q->f[SO_F_FRAME + 1] == s->tagval[3];
}

static void ss_np_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)s;
    (void)open;
    ref->f[SO_F_VEC] = 12; /* same error code, same frame: only the vector differs */
}

static bool eip_limit_applies(const struct sc *s, const struct so_result *q)
{
    /* QEMU returned into the short segment: its selector is in the frame of the next event */
    if (faulted_at(q, s->tagval[3]))
        return false;
    for (unsigned k = 0; k < SO_NFRAME; k++)
        if ((q->f[SO_F_FRAME + k] & 0xFFFF) == s->tagval[1])
            return true;
    return false;
}

static void eip_limit_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    ref->f[SO_F_VEC] = 13;
    ref->f[SO_F_FRAME + 0] = 0;
    ref->f[SO_F_FRAME + 1] = s->tagval[3];
    open_all_but(open, FBIT(SO_F_VEC) | FBIT(SO_F_FRAME) | FBIT(SO_F_FRAME + 1));
}

/* The IRET succeeded: the record is the landing pad's #UD at the target, or (targets that come
 * back through INT 0x80: MOV EBX, imm32; INT 0x80) the #UD at a ring-0 pad above the INT frame. */
static bool vifvip_applies(const struct sc *s, const struct so_result *q)
{
    return q->f[SO_F_VEC] == 6 &&
           (q->f[SO_F_FRAME] == s->tagval[5] || q->f[SO_F_FRAME + 3] == s->tagval[5] + 7);
}

static void vifvip_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)open;
    uint32_t bits = s->tagval[6];
    /* the EFLAGS images in the frame: the pad's, and the INT's when it came back through INT */
    unsigned slots[2] = {2, 5}, nslots = ref->f[SO_F_FRAME] == s->tagval[5] ? 1 : 2;
    for (unsigned k = 0; k < nslots; k++) {
        uint32_t image = ref->f[SO_F_FRAME + slots[k]];
        for (uint32_t i = 0; i < ref->ndump && i < SO_MAX_DUMP; i++)
            if (ref->dump[i] == image)
                ref->dump[i] |= bits;
        ref->f[SO_F_FRAME + slots[k]] |= bits;
    }
    ref->f[SO_F_EFLAGS] |= bits;
}

static bool null_sreg_applies(const struct sc *s, const struct so_result *q)
{
    return !faulted_at(q, s->tagval[3]);
}

static void null_sreg_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)ref;
    if (s->tagval[7] & 1)
        open->fields |= FBIT(SO_F_DS);
    if (s->tagval[7] & 2)
        open->fields |= FBIT(SO_F_ES);
}

/* ---- call gate to a conforming segment ---- */

static bool conf_rpl_applies(const struct sc *s, const struct so_result *q)
{
    uint32_t sel = s->tagval[0] & ~3u;
    if ((s->tagval[0] & 3) == 0)
        return false;
    for (unsigned k = 0; k < SO_NFRAME; k++)
        if (q->f[SO_F_FRAME + k] == sel)
            return true;
    return false;
}

static void conf_rpl_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)open;
    uint32_t sel = s->tagval[0] & ~3u, want = s->tagval[0];
    for (unsigned k = 0; k < SO_NFRAME; k++)
        if (ref->f[SO_F_FRAME + k] == sel)
            ref->f[SO_F_FRAME + k] = want;
    /* stack slots, also the halves of a dump when the stack is not dword-aligned */
    for (uint32_t i = 0; i < ref->ndump && i < SO_MAX_DUMP; i++) {
        if ((ref->dump[i] & 0xFFFF) == sel)
            ref->dump[i] = (ref->dump[i] & 0xFFFF0000u) | want;
        if ((ref->dump[i] >> 16) == sel)
            ref->dump[i] = (ref->dump[i] & 0xFFFF) | want << 16;
    }
}

static bool jmp_np_applies(const struct sc *s, const struct so_result *q)
{
    return q->f[SO_F_VEC] == 13 && q->f[SO_F_FRAME] == s->tagval[6] && q->f[SO_F_FRAME + 1] == s->tagval[5];
}

static void jmp_np_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)s;
    (void)open;
    ref->f[SO_F_VEC] = 11; /* same error code, same frame */
}

/* ---- interrupt frame on an inner stack whose limit is too small ---- */

static bool tiny_ss0_applies(const struct sc *s, const struct so_result *q)
{
    return q->f[SO_F_SS] == s->tagval[2] && !(q->f[SO_F_VEC] & SO_VEC_TASK);
}

static void tiny_ss0_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)s;
    uint32_t v = ref->f[SO_F_VEC];
    bool has_error = v == 8 || (v >= 10 && v <= 14) || v == 17;
    uint32_t eip = ref->f[SO_F_FRAME + (has_error ? 1 : 0)];
    /* #SS(SS0 + EXT) delivering the event; the #SS itself needs the same stack: #DF */
    ref->f[SO_F_VEC] = 8 | SO_VEC_TASK;
    ref->f[SO_F_FRAME + 0] = 0;
    ref->f[SO_F_FRAME + 4] = eip;
    open_all_but(open, FBIT(SO_F_VEC) | FBIT(SO_F_FRAME) | FBIT(SO_F_FRAME + 4));
}

/* ---- control registers ---- */

struct cr_op {
    unsigned kind, reg;
    uint32_t value, eip;
};

static unsigned cr_ops(const struct sc *s, struct cr_op *ops)
{
    unsigned n = s->tagval[6] > 3 ? 3 : s->tagval[6];
    for (unsigned i = 0; i < n; i++) {
        ops[i].value = s->tagval[i];
        ops[i].kind = s->tagval[3 + i] >> 24;
        ops[i].reg = (s->tagval[3 + i] >> 16) & 7;
        ops[i].eip = SO_CODE + (s->tagval[3 + i] & 0xFFFF);
    }
    return n;
}

/* the first op the SDM faults on (#GP(0)), or -1 */
static int cr_sdm_fault(const struct sc *s, uint32_t *eip)
{
    struct cr_op ops[3];
    unsigned n = cr_ops(s, ops);
    for (unsigned i = 0; i < n; i++) {
        uint32_t v = ops[i].value;
        bool bad = (ops[i].kind == SDM_CR_W0 && (((v & 0x80000000u) && !(v & 1)) || ((v & 0x20000000) && !(v & 0x40000000)))) ||
                   (ops[i].kind == SDM_CR_W4 && (v & ~SDM_CR4_ALLOWED));
        if (bad) {
            *eip = ops[i].eip;
            return (int)i;
        }
    }
    return -1;
}

/* where the recorded event happened (the cr class ends in #UD or #GP) */
static uint32_t event_eip(const struct so_result *q)
{
    return q->f[SO_F_VEC] == 13 ? q->f[SO_F_FRAME + 1] : q->f[SO_F_FRAME];
}

static bool cr_fault_applies(const struct sc *s, const struct so_result *q)
{
    uint32_t eip;
    /* QEMU went past the instruction the SDM faults on */
    return s->c.cs == SO_SEL_CODE0 && cr_sdm_fault(s, &eip) >= 0 && event_eip(q) > eip;
}

static bool cr_fault_without_qemu(const struct sc *s)
{
    uint32_t eip;
    return s->c.cs == SO_SEL_CODE0 && cr_sdm_fault(s, &eip) >= 0;
}

static void cr_fault_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    uint32_t eip = 0;
    cr_sdm_fault(s, &eip);
    ref->present = true;
    ref->f[SO_F_VEC] = 13;
    ref->f[SO_F_FRAME + 0] = 0;
    ref->f[SO_F_FRAME + 1] = eip;
    open_all_but(open, FBIT(SO_F_VEC) | FBIT(SO_F_FRAME) | FBIT(SO_F_FRAME + 1));
}

static const unsigned reg_field[8] = {SO_F_EAX, SO_F_ECX, SO_F_EDX, SO_F_EBX, SO_F_ESP, SO_F_EBP, SO_F_ESI, SO_F_EDI};

static bool cr0_reserved_applies(const struct sc *s, const struct so_result *q)
{
    struct cr_op ops[3];
    unsigned n = cr_ops(s, ops);
    for (unsigned i = 0; i < n; i++)
        if (ops[i].kind == SDM_CR_W0 && (ops[i].value & SDM_CR0_RESERVED) && event_eip(q) > ops[i].eip)
            return true;
    return false;
}

static void cr0_reserved_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)open;
    struct cr_op ops[3];
    unsigned n = cr_ops(s, ops);
    for (unsigned i = 0; i < n; i++) {
        if (event_eip(ref) <= ops[i].eip || ops[i].reg == R_ESP)
            continue;
        uint32_t *r = &ref->f[reg_field[ops[i].reg]];
        if (ops[i].kind == SDM_CR_W0 || ops[i].kind == SDM_CR_READ0)
            *r &= ~SDM_CR0_RESERVED;
        else if (ops[i].kind == SDM_CR_SMSW)
            *r &= ~(SDM_CR0_RESERVED & 0xFFFF);
    }
    ref->f[SO_F_CR0] &= ~SDM_CR0_RESERVED;
}

/* ---- segment limits and types on data accesses ---- */

static uint32_t any_event_eip(const struct so_result *q)
{
    uint32_t v = q->f[SO_F_VEC];
    bool has_error = v == 8 || (v >= 10 && v <= 14) || v == 17;
    return q->f[SO_F_FRAME + (has_error ? 1 : 0)];
}

static bool seg_access_applies(const struct sc *s, const struct so_result *q)
{
    /* QEMU went past the access, or did it and met a page fault there (with paging on the limit
     * and type checks come first) */
    uint32_t at = any_event_eip(q);
    return !(q->f[SO_F_VEC] & SO_VEC_TASK) && (at > s->tagval[0] || (at == s->tagval[0] && q->f[SO_F_VEC] == 14));
}

static void seg_access_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    ref->f[SO_F_VEC] = s->tagval[1];
    ref->f[SO_F_FRAME + 0] = 0;
    unsigned eip_slot = s->tagval[1] & SO_VEC_TASK ? 4 : 1;
    ref->f[SO_F_FRAME + eip_slot] = s->tagval[0];
    open_all_but(open, FBIT(SO_F_VEC) | FBIT(SO_F_FRAME) | FBIT(SO_F_FRAME + eip_slot));
}

static bool far_loaded(const struct sc *s, const struct so_result *q)
{
    /* the far transfer reached the landing pad in that segment */
    return (s->tags & SDM_T_FAR_ACCESSED) && q->f[SO_F_VEC] == 6 &&
           (q->f[SO_F_FRAME + 1] & ~3u) == (s->tagval[5] & ~3u);
}

static bool entry_accessed_applies(const struct sc *s, const struct so_result *q)
{
    /* LAR succeeded (CL = ZF = 1) and reports the accessed bit clear */
    bool lar = (s->tags & SDM_T_ENTRY_ACCESSED) && (q->f[SO_F_ECX] & 0xFF) == 1 && !(q->f[SO_F_EBX] & 0x100);
    return lar || far_loaded(s, q);
}

static void entry_accessed_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)open;
    if ((s->tags & SDM_T_ENTRY_ACCESSED) && (ref->f[SO_F_ECX] & 0xFF) == 1)
        ref->f[SO_F_EBX] |= 0x100;
    if (far_loaded(s, ref) && ref->ndump > 33)
        ref->dump[33] |= 0x100;
}

static bool far_limit_applies(const struct sc *s, const struct so_result *q)
{
    return q->f[SO_F_VEC] == 13 && q->f[SO_F_FRAME + 1] == s->tagval[4] && q->f[SO_F_FRAME] != 0;
}

static void far_limit_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)s;
    /* QEMU's CALL has pushed the return address before checking: memory is left open */
    ref->f[SO_F_FRAME] = 0;
    open->dumps |= ALL_DUMPS;
}

static bool far_systype_applies(const struct sc *s, const struct so_result *q)
{
    return q->f[SO_F_VEC] == 10 && q->f[SO_F_FRAME + 1] == s->tagval[4];
}

static void far_systype_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)s;
    (void)open;
    ref->f[SO_F_VEC] = 13; /* same error code (the selector), same frame */
}

/* ---- paging ---- */

struct pg_access {
    uint32_t eip;
    unsigned kind, i, j;
    bool cross;
};

static unsigned pg_accesses(const struct sc *s, struct pg_access *a)
{
    unsigned n = s->tagval[7] > 7 ? 7 : s->tagval[7];
    for (unsigned k = 0; k < n; k++) {
        uint32_t t = s->tagval[k];
        a[k].eip = SO_CODE + (t >> 16);
        a[k].kind = (t >> 12) & 3;
        a[k].cross = (t >> 11) & 1;
        a[k].i = (t >> 8) & 3;
        a[k].j = t & 7;
    }
    return n;
}

/* which access raised the recorded #PF (-1: none) */
static int pg_faulting(const struct sc *s, const struct so_result *q, struct pg_access *a, unsigned *n)
{
    *n = pg_accesses(s, a);
    if (q->f[SO_F_VEC] != 14)
        return -1;
    for (unsigned k = 0; k < *n; k++)
        if (a[k].eip == q->f[SO_F_FRAME + 1] && a[k].kind != 3)
            return (int)k;
    /* a fetch faults at its target: the last access, EIP in its directory slot */
    if (*n && a[*n - 1].kind == 3 && q->f[SO_F_FRAME + 1] >> 22 == 0x100 + a[*n - 1].i)
        return (int)(*n - 1);
    return -1;
}

static int dump_index(const struct sc *s, uint32_t addr)
{
    for (uint32_t i = 0; i < s->c.ndump; i++)
        if (s->c.dump[i] == addr)
            return (int)i;
    return -1;
}

static bool pg_a_applies(const struct sc *s, const struct so_result *q)
{
    struct pg_access a[7];
    unsigned n;
    return pg_faulting(s, q, a, &n) >= 0;
}

/* Clear the accessed bit QEMU set in an entry the faulting walk read, unless the entry had it
 * before the case or an earlier (successful) access used the entry. */
static void pg_unset_a(const struct sc *s, struct so_result *ref, uint32_t entry_addr, bool used_before)
{
    uint32_t initial;
    int d = dump_index(s, entry_addr);
    if (used_before || d < 0 || (uint32_t)d >= ref->ndump || !sc_initial32(s, entry_addr, &initial))
        return;
    if (!(initial & 0x20))
        ref->dump[d] &= ~0x20u;
}

static void pg_a_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    struct pg_access a[7];
    unsigned n;
    int f = pg_faulting(s, ref, a, &n);
    if (f < 0)
        return;
    uint32_t pde_addr = SO_PD + (0x100 + a[f].i) * 4, pde = 0;
    bool pde_used = false, pte_used[2] = {false, false};
    for (int k = 0; k < f; k++) {
        if (a[k].i != a[f].i)
            continue;
        pde_used = true;
        for (unsigned h = 0; h < 2; h++)
            if (a[k].j == a[f].j + h || (a[k].cross && a[k].j + 1 == a[f].j + h))
                pte_used[h] = true;
    }
    sc_initial32(s, pde_addr, &pde);
    bool large = (pde & 0x80) && (s->c.cr4 & 0x10);
    if (a[f].cross) {
        /* An access crossing into the next page: which page's fault is reported when both fault,
         * and whether the page that translated keeps its accessed bit, the SDM does not say. */
        int d;
        open->fields |= FBIT(SO_F_CR2) | FBIT(SO_F_FRAME);
        if ((d = dump_index(s, ref->f[SO_F_ESP])) >= 0)
            open->dumps |= 1ull << d;
        if ((d = dump_index(s, pde_addr)) >= 0)
            open->dumps |= 1ull << d;
        for (unsigned h = 0; h < 2 && !large; h++)
            if ((d = dump_index(s, (pde & 0xFFFFF000) + (a[f].j + h) * 4)) >= 0)
                open->dumps |= 1ull << d;
        return;
    }
    pg_unset_a(s, ref, pde_addr, pde_used);
    if (large || !(pde & 1))
        return;
    pg_unset_a(s, ref, (pde & 0xFFFFF000) + a[f].j * 4, pte_used[0]);
}

static bool pg_rmw_applies(const struct sc *s, const struct so_result *q)
{
    struct pg_access a[7];
    unsigned n;
    int f = pg_faulting(s, q, a, &n);
    return f >= 0 && a[f].kind == 2 && !a[f].cross && !(q->f[SO_F_FRAME] & 2);
}

static void pg_rmw_fix(const struct sc *s, struct so_result *ref, struct so_diff *open)
{
    (void)open;
    int d = dump_index(s, ref->f[SO_F_ESP]);
    ref->f[SO_F_FRAME] |= 2;
    if (d >= 0 && (uint32_t)d < ref->ndump)
        ref->dump[d] |= 2;
}

const struct sdm_rule sdm_rules[] = {
    {"icebp",
     "Vol. 2A INT n/INTO/INT3/INT1 (INT1: a #DB trap, no gate DPL check, EXT = 1); Vol. 3A 6.15 Interrupt 1",
     "raises #UD at the F1 byte (the CPU model behaves as if INT1 did not exist)",
     "F1 delivers vector 1 through the IDT like INT 1 without the DPL check: valid gate -> handler with "
     "the return EIP after INT1; not present -> #NP(0x0B); not a gate -> #GP(0x0B), at the INT1",
     SDM_T_ICEBP, icebp_applies, icebp_fix, NULL},
    {"gate-offset-limit",
     "Vol. 2A INT n/INTO/INT3/INT1 Operation ('IF instruction pointer from gate is not within code segment "
     "limits THEN #GP(EXT)'); Vol. 3A 6.15 Interrupt 8 (contributory + contributory = #DF)",
     "enters the handler even though the gate's offset is past the code segment limit",
     "#GP(0) at INT n/INT3/INTO; for a #DE/#GP/#NP being delivered the #GP is contributory and becomes "
     "a double fault (error code 0)",
     SDM_T_GATE_LIMIT, gate_limit_applies, gate_limit_fix, NULL},
    {"ret-ss-not-present",
     "Vol. 2A IRET/IRETD Operation RETURN-TO-OUTER-PRIVILEGE-LEVEL and RET Operation "
     "RETURN-TO-OUTER-PRIVILEGE-LEVEL: 'IF stack segment is not present THEN #SS(SS selector)'",
     "#NP(SS selector)",
     "#SS(SS selector) (the exception list of IRET says #NP; the pseudocode and RET's list say #SS, as "
     "for every other stack-segment load)",
     SDM_T_RET_SS_NP, ss_np_applies, ss_np_fix, NULL},
    {"ret-eip-limit",
     "Vol. 2A IRET/IRETD and RET Operation: 'IF tempEIP is not within code segment limit THEN #GP(0)' "
     "(same and outer level)",
     "loads CS:EIP without checking EIP against the new CS limit",
     "#GP(0) at the return instruction, nothing loaded",
     SDM_T_RET_EIP_LIMIT, eip_limit_applies, eip_limit_fix, NULL},
    {"iret-vif-vip",
     "Vol. 2A IRET/IRETD Operation: 'IF CPL = 0 THEN ... IF OperandSize = 32 THEN EFLAGS(VM, VIF, VIP) "
     "<- tempEFLAGS'",
     "IRET never loads VIF and VIP",
     "a 32-bit IRET at CPL 0 loads VIF and VIP from the image",
     SDM_T_IRET_VIFVIP, vifvip_applies, vifvip_fix, NULL},
    {"outer-return-null-sreg",
     "Vol. 2A IRET/IRETD Operation, the loop over ES, FS, GS, DS at the end of "
     "RETURN-TO-OUTER-PRIVILEGE-LEVEL",
     "DS and ES holding a null selector with RPL != 0 become 0 (FS and GS keep it)",
     "the SDM nulls registers that 'point to data or non-conforming code' with DPL < CPL; what a null "
     "selector's hidden part points to is not specified, so the value is not compared",
     SDM_T_NULL_SREG, null_sreg_applies, null_sreg_fix, NULL},
    {"callgate-conforming-rpl",
     "Vol. 2A CALL Operation (call gate, SAME-PRIVILEGE: 'CS(RPL) <- CPL'); JMP Operation likewise",
     "loads CS with RPL = the conforming segment's DPL (CPL itself stays)",
     "CS.RPL = CPL: the selector pushed by a later event shows the caller's privilege",
     SDM_T_CONF_RPL, conf_rpl_applies, conf_rpl_fix, NULL},
    {"jmp-callgate-not-present",
     "Vol. 2A JMP Operation, CALL-GATE: 'IF code segment is not present THEN #NP(code segment selector)'",
     "#GP(code segment selector) for a far JMP through a call gate to a not-present code segment",
     "#NP(code segment selector)",
     SDM_T_JMPGATE_NP, jmp_np_applies, jmp_np_fix, NULL},
    {"interrupt-stack-limit",
     "Vol. 2A INT n/INTO/INT3/INT1 Operation INTER-PRIVILEGE-LEVEL-INTERRUPT ('IF ... new stack does not "
     "have room for the frame THEN #SS(NewSS + EXT)'); Vol. 3A 6.15 Interrupt 8 (contributory pairs)",
     "pushes the frame below the new SS's limit without checking it and runs the handler",
     "#SS(SS0 + EXT) while delivering; delivering that #SS needs the same stack, so the end is a "
     "double fault whose interrupted EIP is the first event's",
     SDM_T_TINY_SS0, tiny_ss0_applies, tiny_ss0_fix, NULL},
    {"cr-invalid-value",
     "Vol. 2A MOV (control registers) Protected Mode Exceptions: #GP(0) for invalid CR0 combinations (PG "
     "without PE, NW without CD) and for a 1 in a reserved CR4 bit; Vol. 3A 4.1.4 and CPUID.1:EDX "
     "(VME, PAE, MCE, FXSR absent: CR4.VME/PVI, PAE, MCE, OSFXSR/OSXMMEXCPT are reserved)",
     "accepts NW without CD; PG without PE leaves the kernel hung; accepts CR4 bits of features the "
     "CPU model does not enumerate (and drops OSFXSR silently)",
     "#GP(0) at the MOV to CR0/CR4, nothing written",
     SDM_T_CR, cr_fault_applies, cr_fault_fix, cr_fault_without_qemu},
    {"cr0-reserved-bits",
     "Vol. 3A 2.5 Control Registers ('attempting to set any reserved bits in CR0[31:0] is ignored')",
     "stores the reserved bits and reads them back",
     "the reserved bits are not written: MOV from CR0, SMSW and the recorded CR0 show them clear",
     SDM_T_CR, cr0_reserved_applies, cr0_reserved_fix, NULL},
    {"segment-access-checks",
     "Vol. 3A 5.3 Limit Checking, 5.4 Type Checking, 3.4.2 (null selectors in DS/ES/FS/GS); Vol. 2A MOV, "
     "PUSH, POP Protected Mode Exceptions ('#GP(0) If a memory operand effective address is outside the "
     "segment limit' / 'If ... a NULL segment selector' / writable segment; #SS(0) for SS)",
     "TCG does not check data-segment limits, writability or null selectors on accesses: it reads and "
     "writes base + offset",
     "#GP(0) (#SS(0) through SS) at the first access outside the limits (expand-up: offset + size - 1 > "
     "limit; expand-down: offset <= limit or past 0xFFFF/0xFFFFFFFF by D/B), a write to a read-only or "
     "code segment, or any access through a null selector",
     SDM_T_SEG_ACCESS, seg_access_applies, seg_access_fix, NULL},
    {"far-transfer-eip-limit",
     "Vol. 2A JMP and CALL Operation (far, to a code segment): 'IF instruction pointer not within code "
     "segment limit THEN #GP(0)'",
     "#GP with the target selector as the error code (a far CALL has already pushed CS:EIP)",
     "#GP(0), checked before anything is pushed",
     SDM_T_FAR_LIMIT, far_limit_applies, far_limit_fix, NULL},
    {"cs-ss-accessed-bit",
     "Vol. 3A 3.4.5.1 Code- and Data-Segment Descriptor Types ('the processor sets this bit whenever it "
     "loads a segment selector for the segment into a segment register')",
     "IRET (and the other far transfers) load CS and SS without setting the descriptor's accessed bit",
     "the accessed bit is set: LAR of the selector the case entry loaded into CS (or SS, entering an "
     "outer ring) shows bit 8 set",
     SDM_T_ENTRY_ACCESSED | SDM_T_FAR_ACCESSED, entry_accessed_applies, entry_accessed_fix, NULL},
    {"far-transfer-system-type",
     "Vol. 2A CALL and JMP Operation: 'IF segment type is neither conforming nor nonconforming code "
     "segment, call gate, task gate, or TSS THEN #GP(segment selector)'",
     "#TS(selector) for a reserved system type (type 0)",
     "#GP(selector)",
     SDM_T_FAR_SYSTYPE, far_systype_applies, far_systype_fix, NULL},
    {"paging-rmw-write-intent",
     "Vol. 3A 4.7 (#PF error code W/R: 'the access causing the fault was a write'); the destination of "
     "ADD/OR/... is read with write intent - as the host processor of the user-mode oracle shows and "
     "docs/cpu.md describes",
     "a read-modify-write of a not-present page faults as a read (W/R = 0)",
     "W/R = 1: the access that faults is the write-intent read of the destination",
     SDM_T_PAGING, pg_rmw_applies, pg_rmw_fix, NULL},
    {"paging-accessed-on-fault",
     "Vol. 3A 4.8 ('Whenever the processor uses a paging-structure entry as part of linear-address "
     "translation, it sets the accessed flag'); a walk that faults produces no translation, and Intel "
     "processors update A/D only after a successful walk",
     "sets the accessed bit of the page-directory entry before looking at the page-table entry, so a "
     "fault on the PTE (not present, or the read half of a read-modify-write) leaves PDE.A (and PTE.A) set",
     "a faulting walk sets no accessed bit; for an access crossing into the next page the SDM fixes "
     "neither which page's fault is reported nor the accessed bits, so CR2, the error code and those "
     "entries are not compared",
     SDM_T_PAGING, pg_a_applies, pg_a_fix, NULL},
};
const unsigned sdm_nrules = sizeof sdm_rules / sizeof sdm_rules[0];

uint32_t sdm_reference(const struct sc *s, const struct so_result *qemu, struct so_result *ref,
                       struct so_diff *open)
{
    uint32_t applied = 0;
    *ref = *qemu;
    memset(open, 0, sizeof *open);
    if (!qemu->present) {
        for (unsigned i = 0; i < sdm_nrules; i++) {
            const struct sdm_rule *r = &sdm_rules[i];
            if ((s->tags & r->tag) && r->applies_without_qemu && r->applies_without_qemu(s)) {
                memset(ref, 0, sizeof *ref);
                r->fix(s, ref, open);
                ref->present = true;
                open->count = true;
                return 1u << i;
            }
        }
        return 0;
    }
    for (unsigned i = 0; i < sdm_nrules; i++) {
        const struct sdm_rule *r = &sdm_rules[i];
        if ((s->tags & r->tag) && r->applies(s, ref)) {
            r->fix(s, ref, open);
            applied |= 1u << i;
        }
    }
    return applied;
}

void sdm_print_table(FILE *f)
{
    for (unsigned i = 0; i < sdm_nrules; i++) {
        const struct sdm_rule *r = &sdm_rules[i];
        fprintf(f, "%s\n  SDM reference: %s\n  QEMU 7.2: %s\n  SDM: %s\n", r->name, r->section, r->qemu, r->sdm);
    }
}
