/*
 * test_decode_capstone.c - differential test of the decoder against Capstone 4 (libcapstone).
 *
 * For every sample both decoders see the same 15 bytes; they must agree on validity and, where
 * both accept, on the length. Samples: the whole one-byte and 0F opcode space with every ModRM
 * byte (exhaustive), then random 15-byte strings biased towards prefixes and the 0F map:
 * CLOISTER_DECODE_N32 (default 1,000,000) in 32-bit mode and CLOISTER_DECODE_N16 (default
 * 200,000) in 16-bit protected mode, from the fixed seed CLOISTER_SEED (default below). The same
 * numbers can be given on the command line: --n32=N --n16=N --seed=S.
 *
 * A disagreement passes only if one entry of the exception table below explains it. Each entry
 * names the SDM rule (or the Capstone 4 bug) and, where it can, proves the explanation: e.g.
 * "Capstone ignores LOCK" re-decodes the bytes with the LOCK prefixes replaced by a neutral DS
 * override and requires that the decoder then accepts them with Capstone's length. Every other
 * disagreement fails the test and is printed with its bytes. Each decoded instruction also passes
 * the structural check of insn_check.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>
#include <cmocka.h>

#include "tests/decoder/insn_check.h"
#include "translator/decode.h"

#define DEFAULT_SEED 0x636c6f6973746572ull /* "cloister" */

enum disagreement { DIS_LEN = 1, DIS_WE_ONLY = 2, DIS_CS_ONLY = 4 };

struct sample {
    uint8_t b[15];
    unsigned mode;      /* DEC_MODE_* */
    csh cs;             /* Capstone handle for this mode, for re-checks */
    csh csd;            /* the same with CS_OPT_DETAIL, for the operand comparison */
    struct ir_insn in;  /* ours */
    bool cs_ok;
    unsigned cs_len;
    /* prefix scan (an independent, minimal one) */
    unsigned npfx;
    bool lock, f2, f3, p66;
    unsigned map;       /* 1: one-byte, 2: 0F, 3: 0F 38 / 0F 3A */
    uint8_t op, modrm;  /* opcode, and the byte after it */
};

static bool is_prefix(uint8_t b)
{
    switch (b) {
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
        return true;
    default:
        return false;
    }
}

static void scan(struct sample *s)
{
    unsigned i = 0;
    s->lock = s->f2 = s->f3 = s->p66 = false;
    while (i < 14 && is_prefix(s->b[i])) {
        s->lock |= s->b[i] == 0xf0;
        s->f2 |= s->b[i] == 0xf2;
        s->f3 |= s->b[i] == 0xf3;
        s->p66 |= s->b[i] == 0x66;
        i++;
    }
    s->npfx = i;
    s->map = 1;
    if (s->b[i] == 0x0f && i + 1 < 15) {
        i++;
        s->map = 2;
        if ((s->b[i] == 0x38 || s->b[i] == 0x3a) && i + 1 < 15) {
            s->map = 3;
            i++;
        }
    }
    s->op = s->b[i];
    s->modrm = i + 1 < 15 ? s->b[i + 1] : 0;
}

static unsigned mod_of(const struct sample *s) { return s->modrm >> 6; }
static unsigned reg_of(const struct sample *s) { return (s->modrm >> 3) & 7; }

/* Capstone's length for bytes (0 when it rejects them). */
static unsigned cs_length(csh h, const uint8_t *b, size_t n, cs_insn *scratch)
{
    const uint8_t *p = b;
    size_t size = n;
    uint64_t addr = 0x1000;
    return cs_disasm_iter(h, &p, &size, &addr, scratch) ? scratch->size : 0;
}

/* The sample with every prefix byte `from` replaced by `to` (same length, same positions). */
static void replace_prefix(const struct sample *s, uint8_t from, uint8_t to, uint8_t out[15])
{
    memcpy(out, s->b, 15);
    for (unsigned i = 0; i < s->npfx; i++)
        if (out[i] == from)
            out[i] = to;
}

/* ---- exception predicates ---- */

static bool variant_agrees(struct sample *t);

/* LOCK: Capstone 4 accepts it on any instruction. SDM vol. 2A "LOCK": #UD unless the
 * instruction is one of ADD ADC AND BTC BTR BTS CMPXCHG CMPXCHG8B DEC INC NEG NOT OR SBB SUB
 * XOR XADD XCHG with a memory destination. Proof: with each LOCK replaced by a DS override we
 * accept the bytes, and Capstone agrees on them (or the remaining difference is itself
 * explained by another entry). */
static bool x_lock(const struct sample *s)
{
    if (!s->lock || s->in.op != IR_INVALID)
        return false;
    struct sample t = *s;
    replace_prefix(s, 0xf0, 0x3e, t.b);
    return variant_agrees(&t) && t.in.op != IR_INVALID;
}

/* MMX, SSE..SSE4.2, AVX-era 0F rows, 0F 38 / 0F 3A maps, 0F AE (FXSAVE, LDMXCSR, XSAVE,
 * CLFLUSH, fences), 0F 78/79 (VMREAD/VMWRITE), 0F B8 (POPCNT): the guest CPU is a Pentium
 * Pro/II without MMX/SSE/FXSR (CPUID does not report them), so these are #UD (SDM vol. 2
 * appendix A, table A-3, and each instruction's "#UD if CPUID.01H:EDX.SSE[bit 25] = 0" rule). */
static bool x_simd(const struct sample *s)
{
    if (s->in.op != IR_INVALID)
        return false;
    if (s->map == 3)
        return true;
    if (s->map != 2)
        return false;
    unsigned o = s->op;
    return (o >= 0x10 && o <= 0x17) || (o >= 0x28 && o <= 0x2f) || (o >= 0x50 && o <= 0x7f) ||
           (o >= 0xc2 && o <= 0xc6) || o >= 0xd0 || o == 0xae || o == 0xb8;
}

/* 3DNow! (0F 0E FEMMS, 0F 0F xx) and PREFETCH/PREFETCHW (0F 0D): AMD extensions, absent on
 * the Intel P6 family (SDM vol. 2 table A-3 leaves 0F 0D-0F undefined for Intel CPUs of the
 * time; PREFETCHW requires CPUID.80000001H:ECX.PRFCHW). */
static bool x_3dnow(const struct sample *s)
{
    return s->in.op == IR_INVALID && s->map == 2 && s->op >= 0x0d && s->op <= 0x0f;
}

/* VEX (C4/C5 with mod = 3), EVEX (62 with mod = 3) and XOP (8F with reg != 0): in 32-bit
 * code these encodings are LES/LDS/BOUND with a register operand (#UD, SDM "LES", "BOUND") or
 * POP r/m with a reserved reg field on a CPU without AVX/AVX-512/XOP. */
static bool x_vex(const struct sample *s)
{
    if (s->in.op != IR_INVALID || s->map != 1)
        return false;
    if ((s->op == 0xc4 || s->op == 0xc5 || s->op == 0x62) && mod_of(s) == 3)
        return true;
    return s->op == 0x8f && reg_of(s) != 0;
}

/* FISTTP (DB /1, DD /1, DF /1 memory forms) is SSE3: #UD without CPUID.01H:ECX.SSE3. */
static bool x_fisttp(const struct sample *s)
{
    return s->in.op == IR_INVALID && s->map == 1 && (s->op == 0xdb || s->op == 0xdd || s->op == 0xdf) &&
           mod_of(s) != 3 && reg_of(s) == 1;
}

/* Later system extensions in group 7/9 and elsewhere, #UD on a P6: 0F 01 with mod = 3 (VMX,
 * SVM, MONITOR/MWAIT, XGETBV/XSETBV, SWAPGS, RDTSCP, CLAC/STAC ...), 0F C7 other than /1
 * memory (VMPTRLD/VMPTRST/VMCLEAR/VMXON, XSAVES/XRSTORS/XSAVEC, RDRAND, RDSEED), 0F 37 GETSEC,
 * 0F A6/A7 (VIA PadLock; XBTS/IBTS existed only on early i486 steppings), C6/C7 with ModRM F8
 * (XABORT/XBEGIN, TSX). SDM vol. 2 table A-6 (group encodings) and the instructions' CPUID
 * feature requirements. */
static bool x_sysext(const struct sample *s)
{
    if (s->in.op != IR_INVALID)
        return false;
    if (s->map == 2) {
        if (s->op == 0x01 && mod_of(s) == 3)
            return true;
        if (s->op == 0xc7 && !(reg_of(s) == 1 && mod_of(s) != 3))
            return true;
        return s->op == 0x37 || s->op == 0xa6 || s->op == 0xa7;
    }
    return s->map == 1 && (s->op == 0xc6 || s->op == 0xc7) && s->modrm == 0xf8;
}

/* SYSCALL/SYSRET (0F 05, 0F 07): on Intel CPUs #UD outside 64-bit mode (SDM "SYSCALL":
 * "#UD If not in 64-bit mode"); the P6 guest has SYSENTER/SYSEXIT instead. */
static bool x_syscall(const struct sample *s)
{
    return s->in.op == IR_INVALID && s->map == 2 && (s->op == 0x05 || s->op == 0x07);
}

/* RSM (0F AA): "#UD If an attempt is made to execute this instruction when the processor is
 * not in SMM" (SDM "RSM"); a guest is never in SMM. */
static bool x_rsm(const struct sample *s)
{
    return s->in.op == IR_INVALID && s->map == 2 && s->op == 0xaa;
}

/* UD2 (0F 0B), UD1 (0F B9), UD0 (0F FF): defined to raise #UD (SDM "UD"); Capstone decodes
 * them as instructions, the IR contract maps them to IR_INVALID. */
static bool x_ud(const struct sample *s)
{
    return s->in.op == IR_INVALID && s->map == 2 && (s->op == 0x0b || s->op == 0xb9 || s->op == 0xff);
}

/* MOV CS, r/m16 (8E /1): "#UD If attempt is made to load the CS register" (SDM "MOV"). */
static bool x_movcs(const struct sample *s)
{
    return s->in.op == IR_INVALID && s->map == 1 && s->op == 0x8e && reg_of(s) == 1;
}

/* 0F 18-1F: prefetch hints and reserved NOPs (SDM table A-3: "Reserved-NOP", "NOP Ev",
 * "Prefetch (Grp 16)"). The host CPU executes every ModRM form, register ones included, as a
 * NOP (checked on the host); Capstone 4 rejects many of them. */
static bool x_hintnop(const struct sample *s)
{
    return s->in.op == IR_NOP && s->map == 2 && s->op >= 0x18 && s->op <= 0x1f;
}

/* Capstone 4 bug: with an F2/F3 prefix it rejects the moffs forms of MOV (A0-A3), which
 * execute normally (F2/F3 are ignored on non-string instructions; objdump agrees). Proof:
 * with F2/F3 replaced by DS overrides Capstone accepts them at our length. */
static bool x_cs_moffs_rep(const struct sample *s)
{
    if (s->map != 1 || s->op < 0xa0 || s->op > 0xa3 || !(s->f2 || s->f3) || s->in.op != IR_MOV)
        return false;
    uint8_t v[15], w[15];
    cs_insn *scratch = cs_malloc(s->cs);
    replace_prefix(s, 0xf2, 0x3e, v);
    struct sample t = *s;
    memcpy(t.b, v, 15);
    replace_prefix(&t, 0xf3, 0x3e, w);
    unsigned n = cs_length(s->cs, w, 15, scratch);
    cs_free(scratch, 1);
    return n == s->in.len;
}

/* Capstone 4 bug: with an F2/F3 prefix it ignores the 66 prefix of CALL/JMP rel (E8/E9) and
 * takes a rel32. SDM "CALL"/"JMP": the operand size attribute selects rel16 (objdump agrees:
 * "66 f3 e8 cw" is "repz callw"). Proof as above. */
static bool x_cs_rel_rep(const struct sample *s)
{
    if (s->map != 1 || (s->op != 0xe8 && s->op != 0xe9) || !(s->f2 || s->f3) || !s->p66)
        return false;
    uint8_t v[15], w[15];
    cs_insn *scratch = cs_malloc(s->cs);
    replace_prefix(s, 0xf2, 0x3e, v);
    struct sample t = *s;
    memcpy(t.b, v, 15);
    replace_prefix(&t, 0xf3, 0x3e, w);
    unsigned n = cs_length(s->cs, w, 15, scratch);
    cs_free(scratch, 1);
    return n == s->in.len;
}

struct exception {
    const char *name;
    unsigned kinds; /* DIS_* it may explain */
    bool (*match)(const struct sample *s);
    unsigned long hits;
};

static struct exception exceptions[] = {
    { "LOCK on a non-lockable form (Capstone ignores LOCK)", DIS_CS_ONLY, x_lock, 0 },
    { "MMX/SSE/0F38/0F3A/FXSAVE/POPCNT rows (no MMX/SSE on this CPU)", DIS_CS_ONLY, x_simd, 0 },
    { "3DNow!/PREFETCHW 0F 0D-0F (AMD only)", DIS_CS_ONLY, x_3dnow, 0 },
    { "VEX/EVEX/XOP over LES/LDS/BOUND/POP", DIS_CS_ONLY, x_vex, 0 },
    { "FISTTP (SSE3)", DIS_CS_ONLY, x_fisttp, 0 },
    { "post-P6 system extensions (0F 01 mod 3, 0F C7, GETSEC, PadLock, TSX)", DIS_CS_ONLY, x_sysext, 0 },
    { "SYSCALL/SYSRET outside 64-bit mode (Intel)", DIS_CS_ONLY, x_syscall, 0 },
    { "RSM outside SMM", DIS_CS_ONLY, x_rsm, 0 },
    { "UD2/UD1/UD0 map to IR_INVALID", DIS_CS_ONLY, x_ud, 0 },
    { "MOV CS, r/m16", DIS_CS_ONLY, x_movcs, 0 },
    { "0F 18-1F hint NOPs (Capstone rejects some forms)", DIS_WE_ONLY, x_hintnop, 0 },
    { "Capstone bug: moffs MOV with F2/F3", DIS_WE_ONLY, x_cs_moffs_rep, 0 },
    { "Capstone bug: 66 ignored on CALL/JMP rel with F2/F3", DIS_LEN, x_cs_rel_rep, 0 },
};
#define NEXC (sizeof(exceptions) / sizeof(exceptions[0]))

/* Decodes a rewritten sample with both decoders: true when they agree, or when an entry other
 * than the LOCK one explains the difference (the rewrite removed every LOCK, so the recursion
 * ends there). */
static bool variant_agrees(struct sample *t)
{
    cs_insn *scratch = cs_malloc(t->cs);
    decode_one(t->b, 15, 0x1000, t->mode, &t->in);
    t->cs_len = cs_length(t->cs, t->b, 15, scratch);
    cs_free(scratch, 1);
    t->cs_ok = t->cs_len != 0;
    scan(t);
    bool ours = t->in.op != IR_INVALID;
    if (ours == t->cs_ok && (!ours || t->in.len == t->cs_len))
        return true;
    unsigned kind = ours && t->cs_ok ? DIS_LEN : ours ? DIS_WE_ONLY : DIS_CS_ONLY;
    for (unsigned i = 0; i < NEXC; i++)
        if (exceptions[i].match != x_lock && (exceptions[i].kinds & kind) && exceptions[i].match(t))
            return true;
    return false;
}

/* ---- sampling ---- */

struct rng {
    uint64_t s;
};

static uint64_t next(struct rng *r)
{
    /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

static void random_sample(struct rng *r, uint8_t b[15])
{
    static const uint8_t pf[] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3 };
    for (unsigned i = 0; i < 15; i += 8) {
        uint64_t v = next(r);
        for (unsigned k = 0; k < 8 && i + k < 15; k++)
            b[i + k] = (uint8_t)(v >> (8 * k));
    }
    uint64_t v = next(r);
    unsigned kind = v & 7, k = 0;
    v >>= 3;
    if (kind <= 2 || kind == 5) { /* one to three prefixes */
        unsigned np = 1 + (v & 3) % 3;
        v >>= 2;
        for (unsigned j = 0; j < np; j++, v >>= 4)
            b[k++] = pf[(v & 15) % sizeof(pf)];
    }
    if (kind == 3 || kind == 4 || kind == 5)
        b[k] = 0x0f;
}

struct report {
    unsigned long samples, agree_valid, agree_invalid, explained, unexplained, operand_mismatch;
    char keys[64][48];
    unsigned long key_hits[64];
    unsigned nkeys;
};

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 3 * i, "%02x ", b[i]);
    out[n ? 3 * n - 1 : 0] = 0;
}

static void note_unexplained(struct report *rep, const struct sample *s, enum disagreement kind)
{
    char key[48];
    snprintf(key, sizeof(key), "%s map%u op %02x /%u%s%s",
             kind == DIS_LEN ? "LEN" : kind == DIS_WE_ONLY ? "WE_ONLY" : "CS_ONLY", s->map, s->op,
             reg_of(s), mod_of(s) == 3 ? "r" : "m", s->lock ? " lock" : "");
    rep->unexplained++;
    for (unsigned i = 0; i < rep->nkeys; i++)
        if (strcmp(rep->keys[i], key) == 0) {
            rep->key_hits[i]++;
            return;
        }
    if (rep->nkeys < 64) { /* first of its group: show it */
        char h[64], text[256];
        strcpy(rep->keys[rep->nkeys], key);
        rep->key_hits[rep->nkeys++] = 1;
        hex(s->b, 15, h);
        print_error("UNEXPLAINED %s (mode %u): %s\n   ours: %s\n   capstone: %s len %u\n", key,
                    s->mode, h, insn_format(&s->in, text, sizeof(text)),
                    s->cs_ok ? "accepts" : "rejects", s->cs_len);
    }
}

/* ---- operand comparison where both accept at the same length ---- */

static unsigned cs_gpr(x86_reg r)
{
    static const x86_reg r32[8] = { X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
                                    X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI };
    static const x86_reg r16[8] = { X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX,
                                    X86_REG_SP, X86_REG_BP, X86_REG_SI, X86_REG_DI };
    if (r == X86_REG_INVALID)
        return IR_NOREG;
    for (unsigned i = 0; i < 8; i++)
        if (r == r32[i] || r == r16[i])
            return i;
    return 0x100; /* never equal to an IR register number */
}

static unsigned cs_sreg(x86_reg r)
{
    static const x86_reg sr[IR_NSREG] = { X86_REG_ES, X86_REG_CS, X86_REG_SS,
                                          X86_REG_DS, X86_REG_FS, X86_REG_GS };
    for (unsigned i = 0; i < IR_NSREG; i++)
        if (r == sr[i])
            return i;
    return 0x100;
}

static bool has_mem_operand(const struct ir_insn *in)
{
    for (unsigned i = 0; i < 3; i++)
        if (in->opd[i].kind == IR_OPK_MEM)
            return true;
    return false;
}

static bool is_rel_branch(const struct ir_insn *in)
{
    switch (in->op) {
    case IR_JCC: case IR_JCXZ: case IR_LOOP: case IR_LOOPE: case IR_LOOPNE:
        return true;
    case IR_JMP: case IR_CALL:
        return in->opd[0].kind == IR_OPK_NONE;
    default:
        return false;
    }
}

/* NULL when the memory operand and relative branch target agree with Capstone's detail. */
static const char *compare_operands(const struct sample *s, cs_insn *d)
{
    const struct ir_insn *in = &s->in;
    const bool mem = has_mem_operand(in), rel = is_rel_branch(in);
    if (!mem && !rel)
        return NULL;
    const uint8_t *p = s->b;
    size_t size = 15;
    uint64_t addr = 0x1000;
    if (!cs_disasm_iter(s->csd, &p, &size, &addr, d))
        return "Capstone detail decode failed";
    const cs_x86 *x = &d->detail->x86;
    if (rel) {
        if (x->op_count < 1 || x->operands[0].type != X86_OP_IMM)
            return "Capstone has no branch target";
        /* The operand size decides the masking (SDM "Jcc", "JMP", "CALL", "LOOP": "IF
         * OperandSize = 16 THEN EIP <- temp AND 0000FFFFH"). Capstone 4 also truncates to 16
         * bits when the address size is 16 (67 prefix) and for every branch in CS_MODE_16: a
         * Capstone deviation, so in those cases only the low 16 bits compare. */
        uint32_t mask =
            in->osize == 2 || in->asize == 2 || !(s->mode & DEC_MODE_CS32) ? 0xFFFF : 0xFFFFFFFF;
        if (((uint32_t)x->operands[0].imm & mask) != (in->imm & mask))
            return "branch target differs";
        return NULL;
    }
    const cs_x86_op *m = NULL;
    unsigned nmem = 0;
    for (unsigned i = 0; i < x->op_count; i++)
        if (x->operands[i].type == X86_OP_MEM) {
            m = &x->operands[i];
            nmem++;
        }
    if (nmem != 1)
        return nmem ? NULL : "Capstone has no memory operand";
    const uint32_t amask = in->asize == 2 ? 0xFFFF : 0xFFFFFFFF;
    if (cs_gpr(m->mem.base) != in->mem.base)
        return "memory base differs";
    if (cs_gpr(m->mem.index) != in->mem.index)
        return "memory index differs";
    if (in->mem.index != IR_NOREG && m->mem.scale != (1 << in->mem.scale))
        return "memory scale differs";
    if (((uint32_t)m->mem.disp & amask) != ((uint32_t)in->mem.disp & amask))
        return "displacement differs";
    if (m->mem.segment != X86_REG_INVALID || (in->prefix & IR_PF_SEGOV)) {
        if (!(in->prefix & IR_PF_SEGOV) || cs_sreg(m->mem.segment) != in->mem.seg)
            return "segment override differs";
    }
    return NULL;
}

static void check_sample(struct sample *s, cs_insn *scratch, cs_insn *detail, struct report *rep)
{
    char why[128];
    rep->samples++;
    assert_int_equal(decode_one(s->b, 15, 0x1000, s->mode, &s->in), DEC_OK);
    if (insn_check(&s->in, why, sizeof(why)) != 0) {
        char h[64], text[256];
        hex(s->b, 15, h);
        fail_msg("structural check failed for %s: %s\n   %s", h, why,
                 insn_format(&s->in, text, sizeof(text)));
    }
    s->cs_len = cs_length(s->cs, s->b, 15, scratch);
    s->cs_ok = s->cs_len != 0;
    bool ours = s->in.op != IR_INVALID;
    enum disagreement kind;
    if (ours && s->cs_ok) {
        if (s->in.len == s->cs_len) {
            const char *diff = compare_operands(s, detail);
            if (diff) {
                char h[64], text[256];
                hex(s->b, 15, h);
                rep->operand_mismatch++;
                if (rep->operand_mismatch <= 10)
                    print_error("OPERANDS %s (mode %u): %s\n   ours: %s\n   capstone: %s %s\n",
                                diff, s->mode, h, insn_format(&s->in, text, sizeof(text)),
                                detail->mnemonic, detail->op_str);
                return;
            }
            rep->agree_valid++;
            return;
        }
        kind = DIS_LEN;
    } else if (!ours && !s->cs_ok) {
        rep->agree_invalid++;
        return;
    } else {
        kind = ours ? DIS_WE_ONLY : DIS_CS_ONLY;
    }
    scan(s);
    for (unsigned i = 0; i < NEXC; i++)
        if ((exceptions[i].kinds & kind) && exceptions[i].match(s)) {
            exceptions[i].hits++;
            rep->explained++;
            return;
        }
    note_unexplained(rep, s, kind);
}

static unsigned long param(int argc, char **argv, const char *opt, const char *env, unsigned long def)
{
    size_t n = strlen(opt);
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], opt, n) == 0)
            return strtoull(argv[i] + n, NULL, 0);
    const char *e = getenv(env);
    return e && *e ? strtoull(e, NULL, 0) : def;
}

static unsigned long n32 = 1000000, n16 = 200000;
static uint64_t seed = DEFAULT_SEED;

static void run_mode(unsigned mode, unsigned long count, struct report *rep)
{
    csh h;
    assert_int_equal(cs_open(CS_ARCH_X86, (mode & DEC_MODE_CS32) ? CS_MODE_32 : CS_MODE_16, &h), CS_ERR_OK);
    csh hd;
    assert_int_equal(cs_open(CS_ARCH_X86, (mode & DEC_MODE_CS32) ? CS_MODE_32 : CS_MODE_16, &hd), CS_ERR_OK);
    assert_int_equal(cs_option(hd, CS_OPT_DETAIL, CS_OPT_ON), CS_ERR_OK);
    cs_insn *scratch = cs_malloc(h), *detail = cs_malloc(hd);
    assert_non_null(scratch);
    assert_non_null(detail);
    struct sample s;
    memset(&s, 0, sizeof(s));
    s.mode = mode;
    s.cs = h;
    s.csd = hd;

    /* exhaustive: every one-byte and 0F opcode with every ModRM, fixed pseudo-random tail */
    struct rng tail = { seed ^ 0x9e3779b97f4a7c15ull };
    for (unsigned esc = 0; esc < 2; esc++)
        for (unsigned op = 0; op < 256; op++)
            for (unsigned modrm = 0; modrm < 256; modrm++) {
                random_sample(&tail, s.b);
                unsigned k = 0;
                if (esc)
                    s.b[k++] = 0x0f;
                s.b[k++] = (uint8_t)op;
                s.b[k] = (uint8_t)modrm;
                check_sample(&s, scratch, detail, rep);
            }

    struct rng r = { seed ? seed : DEFAULT_SEED };
    r.s ^= mode * 0x100000001b3ull;
    for (unsigned long i = 0; i < count; i++) {
        random_sample(&r, s.b);
        check_sample(&s, scratch, detail, rep);
    }
    cs_free(scratch, 1);
    cs_free(detail, 1);
    cs_close(&h);
    cs_close(&hd);
}

static void print_report(const char *what, const struct report *rep)
{
    print_message("%s: %lu samples, both accept %lu, both reject %lu, explained %lu, unexplained %lu, "
                  "operand mismatches %lu\n",
                  what, rep->samples, rep->agree_valid, rep->agree_invalid, rep->explained,
                  rep->unexplained, rep->operand_mismatch);
    for (unsigned i = 0; i < rep->nkeys; i++)
        print_message("   unexplained group %-34s %lu\n", rep->keys[i], rep->key_hits[i]);
}

static void test_capstone_32(void **state)
{
    (void)state;
    struct report rep;
    memset(&rep, 0, sizeof(rep));
    run_mode(DEC_MODE_CS32 | DEC_MODE_PE, n32, &rep);
    print_report("32-bit", &rep);
    assert_int_equal(rep.unexplained, 0);
    assert_int_equal(rep.operand_mismatch, 0);
}

static void test_capstone_16(void **state)
{
    (void)state;
    struct report rep;
    memset(&rep, 0, sizeof(rep));
    run_mode(DEC_MODE_PE, n16, &rep);
    print_report("16-bit", &rep);
    assert_int_equal(rep.unexplained, 0);
    assert_int_equal(rep.operand_mismatch, 0);
}

static void test_exception_summary(void **state)
{
    (void)state;
    print_message("seed %#llx; disagreements explained per exception:\n", (unsigned long long)seed);
    for (unsigned i = 0; i < NEXC; i++)
        print_message("   %8lu  %s\n", exceptions[i].hits, exceptions[i].name);
}

int main(int argc, char **argv)
{
    n32 = param(argc, argv, "--n32=", "CLOISTER_DECODE_N32", n32);
    n16 = param(argc, argv, "--n16=", "CLOISTER_DECODE_N16", n16);
    seed = param(argc, argv, "--seed=", "CLOISTER_SEED", DEFAULT_SEED);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capstone_32),
        cmocka_unit_test(test_capstone_16),
        cmocka_unit_test(test_exception_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
