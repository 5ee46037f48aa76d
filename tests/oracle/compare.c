/*
 * compare.c - the comparison rules of compare.h and the mismatch report.
 * Trusts: nothing in the native result beyond its bounded fields; status values are checked.
 */
#include "tests/oracle/compare.h"

#include <capstone/capstone.h>
#include <stdarg.h>
#include <string.h>

static const char *const gpr_name[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
static const char *const seg_name[6] = { "es", "cs", "ss", "ds", "fs", "gs" };

static bool has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

struct diffs {
    char first[160];
    unsigned n;
    FILE *out; /* report lines go here when not NULL */
};

static void diff(struct diffs *d, const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (d->n++ == 0)
        snprintf(d->first, sizeof d->first, "%s", line);
    if (d->out)
        fprintf(d->out, "    DIFF %s\n", line);
}

static const char *clo_status_name(int s)
{
    switch (s) {
    case CLO_EXC: return "exception";
    case CLO_TIMEOUT: return "step limit reached";
    case CLO_HALT: return "ENG_HALT";
    case CLO_TRIPLE: return "ENG_TRIPLE";
    case CLO_BADIR: return "decoder output rejected by ir_insn_valid()";
    default: return "unexpected engine_exec result";
    }
}

static const char *nat_status_name(uint32_t s)
{
    switch (s) {
    case ORN_ST_DONE: return "done";
    case ORN_ST_TIMEOUT: return "timeout";
    case ORN_ST_SETUP: return "setup failed (selector or LDT)";
    case ORN_ST_BADREQ: return "request rejected";
    case ORN_ST_CRASHED: return "runner crashed";
    default: return "no result";
    }
}

static void compare_fpu(struct diffs *d, const struct orn_out *n, const struct clo_result *k)
{
    const struct cpu_fpu *f = &k->fpu;
    if (n->fcw != f->fcw)
        diff(d, "FCW native=%04x cloister=%04x", n->fcw, f->fcw);
    if (n->fsw != f->fsw)
        diff(d, "FSW native=%04x cloister=%04x", n->fsw, f->fsw);
    unsigned top = (f->fsw >> 11) & 7;
    for (unsigned p = 0; p < 8; p++) {
        bool ne = ((n->ftw >> (2 * p)) & 3) == 3, ce = ((f->ftw >> (2 * p)) & 3) == 3;
        if (ne != ce)
            diff(d, "x87 R%u native %s, cloister %s", p, ne ? "empty" : "valid", ce ? "empty" : "valid");
    }
    unsigned ntop = (n->fsw >> 11) & 7;
    if (ntop != top)
        return;
    for (unsigned i = 0; i < 8; i++) {
        unsigned p = (top + i) & 7;
        if (((n->ftw >> (2 * p)) & 3) == 3 || ((f->ftw >> (2 * p)) & 3) == 3)
            continue;
        uint8_t cb[16];
        memcpy(cb, &f->st[p], sizeof cb);
        if (memcmp(n->st[i], cb, 10) != 0) {
            uint16_t ne, ce;
            uint64_t nm, cm;
            memcpy(&nm, n->st[i], 8);
            memcpy(&ne, n->st[i] + 8, 2);
            memcpy(&cm, cb, 8);
            memcpy(&ce, cb + 8, 2);
            diff(d, "ST(%u) native=%04x:%016llx cloister=%04x:%016llx", i, ne, (unsigned long long)nm, ce,
                 (unsigned long long)cm);
        }
    }
}

static void compare_all(struct diffs *d, const struct oracle_case *c, const struct orn_out *n,
                        const struct clo_result *k)
{
    if (n->status == ORN_ST_TIMEOUT && k->status == CLO_TIMEOUT)
        return;
    if (n->status != ORN_ST_DONE) {
        diff(d, "native run: %s (cloister: %s)", nat_status_name(n->status), clo_status_name(k->status));
        return;
    }
    if (k->status != CLO_EXC) {
        diff(d, "cloister run: %s (native: trap %u at %08x)", clo_status_name(k->status), n->trapno, n->eip);
        if (k->status == CLO_BADIR)
            return;
    } else {
        if (n->trapno != k->vector)
            diff(d, "exception native=#%u cloister=#%u", n->trapno, k->vector);
        else if (has_error_code(k->vector)) {
            uint32_t ne = n->err, ce = k->error;
            if (k->vector == 14) {
                ne &= 0xF;
                ce &= 0xF;
            }
            if (ne != ce)
                diff(d, "error code native=%#x cloister=%#x", ne, ce);
        }
        if (n->trapno == 14 && k->vector == 14 && n->cr2 != k->cr2)
            diff(d, "CR2 native=%08x cloister=%08x", n->cr2, k->cr2);
    }
    if (n->eip != k->eip)
        diff(d, "EIP native=%08x cloister=%08x", n->eip, k->eip);
    /* a multi-slot access that faulted may be partly done on the host (case.h) */
    bool partial = (c->flags & OC_F_FAULT_PARTIAL) && k->status == CLO_EXC && n->trapno == k->vector &&
                   k->vector != 6 && k->vector != 3;
    for (int i = 0; i < 8; i++) {
        uint32_t m = ~c->reg_ignore[i];
        if (partial && i != 4)
            m = 0;
        if ((n->regs[i] & m) != (k->regs[i] & m))
            diff(d, "%s native=%08x cloister=%08x", gpr_name[i], n->regs[i], k->regs[i]);
    }
    uint32_t mask = CMP_EFLAGS_MASK & ~c->undef;
    if ((n->eflags & mask) != (k->eflags & mask))
        diff(d, "EFLAGS native=%08x cloister=%08x (compared %08x, differ %08x)", n->eflags & mask, k->eflags & mask,
             mask, (n->eflags ^ k->eflags) & mask);
    for (int s = 0; s < 6; s++) {
        /* a null selector's RPL bits do not survive every context switch on the host (Linux may
         * reload a null DS/ES/FS/GS as 0): null is null */
        if (s != 1 && s != 2 && n->sel[s] < 4 && k->sel[s] < 4)
            continue;
        if (n->sel[s] != k->sel[s])
            diff(d, "%s native=%04x cloister=%04x", seg_name[s], n->sel[s], k->sel[s]);
    }
    bool same = memcmp(n->data, k->data, ORN_DATA_SIZE) == 0;
    for (uint32_t i = 0; i < ORN_DATA_SIZE && !partial && !same;) {
        if (n->data[i] == k->data[i]) {
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < ORN_DATA_SIZE && j - i < 16 && n->data[j] != k->data[j])
            j++;
        char nb[64] = "", cb[64] = "";
        for (uint32_t q = i; q < j && q < i + 16; q++) {
            snprintf(nb + strlen(nb), sizeof nb - strlen(nb), "%02x", n->data[q]);
            snprintf(cb + strlen(cb), sizeof cb - strlen(cb), "%02x", k->data[q]);
        }
        diff(d, "memory %08x..%08x native=%s cloister=%s", ORN_DATA_BASE + i, ORN_DATA_BASE + j - 1, nb, cb);
        i = j;
    }
    if (c->flags & OC_F_X87)
        compare_fpu(d, n, k);
}

bool oracle_equal(const struct oracle_case *c, const struct orn_out *n, const struct clo_result *k, char *why,
                  size_t whylen)
{
    struct diffs d = { .n = 0, .out = NULL };
    d.first[0] = 0;
    compare_all(&d, c, n, k);
    if (why && whylen)
        snprintf(why, whylen, "%s", d.first);
    return d.n == 0;
}

void oracle_disasm(FILE *f, const uint8_t *code, size_t len, uint32_t addr, const char *indent)
{
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &h) != CS_ERR_OK) {
        fprintf(f, "%s(no disassembler)\n", indent);
        return;
    }
    size_t off = 0;
    while (off < len) {
        cs_insn *insn;
        size_t cnt = cs_disasm(h, code + off, len - off, addr + off, 1, &insn);
        if (cnt == 0) {
            fprintf(f, "%s%08x: %02x                   (.byte)\n", indent, (unsigned)(addr + off), code[off]);
            off++;
            continue;
        }
        char hex[48] = "";
        for (size_t i = 0; i < insn[0].size && i < 15; i++)
            snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02x ", insn[0].bytes[i]);
        fprintf(f, "%s%08x: %-30s %s %s\n", indent, (unsigned)insn[0].address, hex, insn[0].mnemonic, insn[0].op_str);
        off += insn[0].size;
        cs_free(insn, cnt);
    }
    cs_close(&h);
}

static void print_regs(FILE *f, const char *label, const uint32_t *r, uint32_t eip, uint32_t fl, const uint16_t *sel)
{
    fprintf(f, "  %-9s", label);
    for (int i = 0; i < 8; i++)
        fprintf(f, " %s=%08x", gpr_name[i], r[i]);
    fprintf(f, "\n  %-9s eip=%08x eflags=%08x", "", eip, fl);
    if (sel)
        for (int s = 0; s < 6; s++)
            fprintf(f, " %s=%04x", seg_name[s], sel[s]);
    fprintf(f, "\n");
}

void oracle_report(FILE *f, const struct oracle_case *c, const struct orn_out *n, const struct clo_result *k)
{
    fprintf(f, "  code at %08x:\n", ORN_CODE_BASE + c->code_off);
    oracle_disasm(f, c->code, c->code_len, ORN_CODE_BASE + c->code_off, "    ");
    fprintf(f, "  bytes:");
    for (uint32_t i = 0; i < c->code_len; i++)
        fprintf(f, " %02x", c->code[i]);
    fprintf(f, "\n");
    print_regs(f, "input", c->regs, ORN_CODE_BASE + c->code_off, c->eflags, c->sel);
    for (uint32_t i = 0; i < c->npatch; i++) {
        fprintf(f, "  memory %08x:", c->patch[i].addr);
        for (uint32_t q = 0; q < c->patch[i].len; q++)
            fprintf(f, " %02x", c->patch[i].bytes[q]);
        fprintf(f, "\n");
    }
    for (unsigned i = 0; i < ORN_LDT_ENTRIES; i++) {
        const struct orn_desc *d = &c->ldt[i];
        if (d->present)
            fprintf(f, "  ldt[%u] (sel %#x) base=%08x limit=%05x%s %s%s%s%s raw=%02x%02x%02x%02x%02x%02x%02x%02x\n", i,
                    i * 8 + 7, d->base, d->limit, d->limit_in_pages ? "(pages)" : "",
                    d->contents == 2 ? "code" : d->contents == 1 ? "data-down" : "data", d->read_exec_only ? " ro/xo" : "",
                    d->seg_32bit ? " 32-bit" : " 16-bit", d->not_present ? " not-present" : "", n->ldt_raw[i][7],
                    n->ldt_raw[i][6], n->ldt_raw[i][5], n->ldt_raw[i][4], n->ldt_raw[i][3], n->ldt_raw[i][2],
                    n->ldt_raw[i][1], n->ldt_raw[i][0]);
    }
    fprintf(f, "  undefined flags (not compared): %#x\n", c->undef);
    if (n->status == ORN_ST_DONE)
        fprintf(f, "  native:   signal %u trap %u err %#x cr2 %08x at eip %08x\n", n->signo, n->trapno, n->err, n->cr2,
                n->eip);
    else
        fprintf(f, "  native:   %s\n", nat_status_name(n->status));
    if (k->status == CLO_EXC)
        fprintf(f, "  cloister: exception #%u%s err %#x cr2 %08x at eip %08x after %u steps\n", k->vector,
                k->soft ? " (soft)" : "", k->error, k->cr2, k->eip, k->steps);
    else
        fprintf(f, "  cloister: %s after %u steps (last insn at %08x: ir op %s len %u)\n", clo_status_name(k->status),
                k->steps, k->last_eip, ir_op_name(k->last.op), k->last.len);
    print_regs(f, "native", n->regs, n->eip, n->eflags, n->sel);
    print_regs(f, "cloister", k->regs, k->eip, k->eflags, k->sel);
    struct diffs d = { .n = 0, .out = f };
    compare_all(&d, c, n, k);
}

bool oracle_native_same(const struct oracle_case *c, const struct orn_out *a, const struct orn_out *b, char *why,
                        size_t whylen)
{
    const char *what = NULL;
    static const int data_segs[4] = { 0, 3, 4, 5 };
    for (int i = 0; i < 4 && !what; i++) {
        int s = data_segs[i];
        if (a->sel[s] != b->sel[s] && !(a->sel[s] < 4 && b->sel[s] < 4))
            what = "selectors";
    }
    uint32_t fmask = CMP_EFLAGS_MASK & ~c->undef;
    if (a->status != b->status)
        what = "status";
    else if (a->status != ORN_ST_DONE)
        what = NULL;
    else if (a->signo != b->signo || a->trapno != b->trapno)
        what = "signal";
    else if (has_error_code(a->trapno) && a->err != b->err)
        what = "error code";
    else if (a->trapno == 14 && a->cr2 != b->cr2)
        what = "cr2";
    else if (a->eip != b->eip)
        what = "eip";
    else if ((a->eflags & fmask) != (b->eflags & fmask))
        what = "eflags";
    else if (a->sel[1] != b->sel[1] || a->sel[2] != b->sel[2])
        what = "selectors";
    else if (memcmp(a->data, b->data, ORN_DATA_SIZE) != 0)
        what = "memory";
    else if ((c->flags & OC_F_X87) && (a->fcw != b->fcw || a->fsw != b->fsw || a->ftw != b->ftw ||
                                       memcmp(a->st, b->st, sizeof a->st) != 0))
        what = "x87 state";
    for (int i = 0; i < 8 && !what; i++)
        if ((a->regs[i] & ~c->reg_ignore[i]) != (b->regs[i] & ~c->reg_ignore[i]))
            what = gpr_name[i];
    if (why && whylen)
        snprintf(why, whylen, "%s", what ? what : "");
    return what == NULL;
}
