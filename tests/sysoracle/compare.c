/*
 * compare.c - result comparison and mismatch reports (see compare.h).
 */
#include "tests/sysoracle/compare.h"

#include <capstone/capstone.h>
#include <string.h>

bool so_compare(const struct so_result *ref, const struct so_result *clo, const struct so_diff *ignore,
                struct so_diff *d)
{
    static const struct so_diff none;
    if (!ignore)
        ignore = &none;
    memset(d, 0, sizeof *d);
    for (unsigned i = 0; i < SO_NFIELDS; i++)
        if (ref->f[i] != clo->f[i] && !(ignore->fields >> i & 1))
            d->fields |= 1ull << i;
    d->count = ref->ndump != clo->ndump && !ignore->count;
    for (uint32_t i = 0; i < ref->ndump && i < clo->ndump && i < SO_MAX_DUMP; i++)
        if (ref->dump[i] != clo->dump[i] && !(ignore->dumps >> i & 1))
            d->dumps |= 1ull << i;
    return !d->fields && !d->dumps && !d->count;
}

void so_print_code(FILE *f, const struct sc *s, const char *indent)
{
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &h) != CS_ERR_OK)
        return;
    struct sc_op_view v;
    for (size_t i = 0; sc_op_get(s, i, &v); i++) {
        bool code = (v.addr >= SO_CODE && v.addr < SO_CODE + 0x2000) || (v.addr >= SO_TEST_PAGES && v.addr < SO_WORK_END) ||
                    (v.addr >= SO_LOWCODE && v.addr < SO_LOWCODE + 0x1000);
        if (v.kind != SO_OP_COPY || !code || v.len < 2)
            continue;
        cs_insn *insn;
        size_t n = cs_disasm(h, v.data, v.len, v.addr, 0, &insn);
        fprintf(f, "%scode at 0x%x:\n", indent, v.addr);
        for (size_t j = 0; j < n && j < 64; j++)
            fprintf(f, "%s  %08llx  %-8s %s\n", indent, (unsigned long long)insn[j].address, insn[j].mnemonic,
                    insn[j].op_str);
        if (n)
            cs_free(insn, n);
    }
    cs_close(&h);
}

/* differing fields are marked '*', fields the reference leaves open (SDM rules) '?' */
static const char *mark(const struct so_diff *d, const struct so_diff *ig, bool dump, unsigned i)
{
    if ((dump ? d->dumps : d->fields) >> i & 1)
        return "*";
    if ((dump ? ig->dumps : ig->fields) >> i & 1)
        return "?";
    return "";
}

static void print_record(FILE *f, const char *name, const struct so_result *r, const char *why,
                         const struct so_diff *d, const struct so_diff *ig)
{
    if (!r || !r->present) {
        fprintf(f, "    %-8s no result: %s\n", name, why ? why : "?");
        return;
    }
    fprintf(f, "    %-8s vec %s%x", name, mark(d, ig, false, SO_F_VEC), r->f[SO_F_VEC]);
    char buf[32];
    for (unsigned i = 1; i < SO_NFIELDS; i++) {
        if (i == SO_F_FRAME) {
            fprintf(f, "\n             stack @%x:", r->f[SO_F_ESP]);
            for (unsigned k = 0; k < SO_NFRAME; k++)
                fprintf(f, " %s%x", mark(d, ig, false, SO_F_FRAME + k), r->f[SO_F_FRAME + k]);
            fprintf(f, "\n            ");
            i += SO_NFRAME - 1;
            continue;
        }
        if (i == SO_F_EFLAGS || i == SO_F_CR0)
            fprintf(f, "\n            ");
        fprintf(f, " %s=%s%x", so_field_name(i, buf, sizeof buf), mark(d, ig, false, i), r->f[i]);
    }
    fprintf(f, "\n             dumps:");
    for (uint32_t i = 0; i < r->ndump && i < SO_MAX_DUMP; i++)
        fprintf(f, " %s%x", mark(d, ig, true, i), r->dump[i]);
    fprintf(f, "\n");
}

void so_report(FILE *f, const struct sc *s, const char *ident, const char *ref_name,
               const struct so_result *ref, const char *why_ref, const struct so_result *clo,
               const char *why_clo, const struct so_diff *d, const struct so_diff *ignore, bool verbose)
{
    fprintf(f, "%s %s: %s\n", d && (d->fields || d->dumps || d->count) ? "MISMATCH" : "CASE", ident, s->desc);
    if (ref && ref->present && clo && clo->present) {
        char buf[32];
        fprintf(f, "  differs in:");
        for (unsigned i = 0; i < SO_NFIELDS; i++)
            if (d->fields >> i & 1)
                fprintf(f, " %s", so_field_name(i, buf, sizeof buf));
        for (uint32_t i = 0; i < SO_MAX_DUMP; i++)
            if (d->dumps >> i & 1)
                fprintf(f, " [0x%x]", s->c.dump[i]);
        if (d->count)
            fprintf(f, " dump count");
        fprintf(f, "\n");
    }
    so_print_code(f, s, "  ");
    if (verbose) {
        fprintf(f, "  entry: CS:EIP %04x:%08x SS:ESP %04x:%08x EFLAGS %08x CR0 %08x CR3 %08x CR4 %08x\n",
                s->c.cs, s->c.eip, s->c.ss, s->c.gpr[4], s->c.eflags, s->c.cr0, s->c.cr3, s->c.cr4);
    }
    static const struct so_diff none;
    print_record(f, ref_name, ref, why_ref, d ? d : &none, ignore ? ignore : &none);
    print_record(f, "cloister", clo, why_clo, d ? d : &none, ignore ? ignore : &none);
}
