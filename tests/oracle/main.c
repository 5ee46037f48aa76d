/*
 * main.c - cloister-oracle: runs generated (or replayed) instruction sequences on the host CPU
 * through cloister-oracle-native and in cloister's decoder + engine, and compares the outcomes.
 *
 *   cloister-oracle [--cases N] [--seed S] [--class NAME]... [--first I] [--list-classes]
 *                   [--verbose] [--max-report N] [--replay FILE]... [--replay-dir DIR] [--save FILE]
 *                   [--runner PATH] [--steps N] [--native-only] [--determinism] [--show]
 *
 * Ends with "N passed, M failed" and exits 1 when M > 0 (2 on usage or setup errors).
 * Trusts: regression files only after oc_parse_text's checks; the runner's results only after
 * their status is checked (compare.c).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/oracle/case.h"
#include "tests/oracle/clo_run.h"
#include "tests/oracle/compare.h"
#include "tests/oracle/gen.h"
#include "tests/oracle/native_client.h"

#define MAX_SEL_CLASSES 32
#define MAX_REPLAY 64

struct opts {
    uint64_t cases;
    uint64_t seed;
    uint64_t first;
    const char *classes[MAX_SEL_CLASSES];
    unsigned nclasses;
    const char *replay[MAX_REPLAY];
    unsigned nreplay;
    char replay_store[MAX_REPLAY][512]; /* names found by --replay-dir */
    const char *save;
    const char *runner;
    unsigned max_report;
    unsigned steps;
    bool verbose;
    bool native_only;
    bool determinism;
    bool show;
    bool list;
};

struct tally {
    uint64_t pass, fail;
    uint64_t trap_hist[32];
    uint64_t native_bad;
};

struct pending {
    struct oracle_case c;
    const char *cls;
    uint64_t index;   /* generated: case index; replayed: case number in the file */
    const char *file; /* replayed: file name */
    struct tally *t;
};

struct runner {
    struct opts *o;
    struct oracle_native nat;
    struct clo_env env;
    FILE *save;
    struct pending batch[ORN_BATCH];
    unsigned nbatch;
    uint64_t pass, fail;
    unsigned reported;
    struct clo_result res;
    struct tally tallies[MAX_SEL_CLASSES];
    struct tally replay_tally;
    struct orn_out first[ORN_BATCH]; /* --determinism: the first run of a batch */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: cloister-oracle [--cases N] [--seed S] [--class NAME]... [--first I] [--list-classes]\n"
               "                       [--verbose] [--max-report N] [--replay FILE]... [--replay-dir DIR]\n"
               "                       [--save FILE]\n"
               "                       [--runner PATH] [--steps N] [--native-only] [--determinism] [--show]\n"
               "Compares the host CPU (cloister-oracle-native) with cloister's decoder and engine.\n"
               "  --cases N       total generated cases, spread over the selected classes (default 20000)\n"
               "  --seed S        generator seed (default 1); a case is (class, seed, index)\n"
               "  --class NAME    only this class (repeatable); see --list-classes\n"
               "  --first I       first case index (with --cases 1: rerun one reported case)\n"
               "  --verbose       report every mismatch in full (default: the first --max-report)\n"
               "  --max-report N  full reports printed before switching to one-line summaries (20)\n"
               "  --replay FILE   run the cases of a regression file instead of generating (repeatable)\n"
               "  --replay-dir D  replay every *.txt file in D (name order)\n"
               "  --save FILE     append every mismatching case to FILE in the regression format\n"
               "  --runner PATH   the native runner (default: next to this program, or $CLOISTER_BIN)\n"
               "  --steps N       cloister step limit per case (default 400000)\n"
               "  --native-only   run only natively and print the outcome histogram (generator check)\n"
               "  --show          print every case with its native outcome (generator debugging)\n"
               "  --determinism   run every batch natively twice, the second time in reverse order, and\n"
               "                  fail cases whose outcomes differ (checks the reference itself)\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *e;
    errno = 0;
    unsigned long long x = strtoull(s, &e, 0);
    if (!*s || *e || errno || *s == '-')
        return -1;
    *v = x;
    return 0;
}

static int txt_only(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 4 && strcmp(d->d_name + n - 4, ".txt") == 0;
}

/* Every *.txt file of a directory, in name order. */
static int add_replay_dir(struct opts *o, const char *dir)
{
    struct dirent **list;
    int n = scandir(dir, &list, txt_only, alphasort);
    if (n < 0) {
        fprintf(stderr, "cloister-oracle: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0) {
            if (o->nreplay >= MAX_REPLAY) {
                fprintf(stderr, "cloister-oracle: more than %d replay files\n", MAX_REPLAY);
                rc = -1;
            } else {
                char *slot = o->replay_store[o->nreplay];
                int k = snprintf(slot, sizeof o->replay_store[0], "%s/%s", dir, list[i]->d_name);
                if (k < 0 || (size_t)k >= sizeof o->replay_store[0])
                    rc = -1;
                else
                    o->replay[o->nreplay++] = slot;
            }
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    o->cases = 20000;
    o->seed = 1;
    o->max_report = 20;
    o->steps = 400000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (!strcmp(a, "--list-classes")) {
            o->list = true;
        } else if (!strcmp(a, "--verbose")) {
            o->verbose = true;
        } else if (!strcmp(a, "--native-only")) {
            o->native_only = true;
        } else if (!strcmp(a, "--determinism")) {
            o->native_only = true;
            o->determinism = true;
        } else if (!strcmp(a, "--show")) {
            o->show = true;
        } else if (!v) {
            fprintf(stderr, "cloister-oracle: %s needs a value (or is unknown)\n", a);
            return -1;
        } else if (!strcmp(a, "--cases") && !parse_u64(v, &n) && n > 0) {
            o->cases = n, i++;
        } else if (!strcmp(a, "--seed") && !parse_u64(v, &n)) {
            o->seed = n, i++;
        } else if (!strcmp(a, "--first") && !parse_u64(v, &n)) {
            o->first = n, i++;
        } else if (!strcmp(a, "--max-report") && !parse_u64(v, &n) && n < 1000000) {
            o->max_report = (unsigned)n, i++;
        } else if (!strcmp(a, "--steps") && !parse_u64(v, &n) && n > 0 && n < 100000000) {
            o->steps = (unsigned)n, i++;
        } else if (!strcmp(a, "--class") && o->nclasses < MAX_SEL_CLASSES) {
            if (!og_find_class(v)) {
                fprintf(stderr, "cloister-oracle: unknown class '%s' (see --list-classes)\n", v);
                return -1;
            }
            o->classes[o->nclasses++] = v, i++;
        } else if (!strcmp(a, "--replay") && o->nreplay < MAX_REPLAY) {
            o->replay[o->nreplay++] = v, i++;
        } else if (!strcmp(a, "--replay-dir")) {
            if (add_replay_dir(o, v) != 0)
                return -1;
            i++;
        } else if (!strcmp(a, "--save")) {
            o->save = v, i++;
        } else if (!strcmp(a, "--runner")) {
            o->runner = v, i++;
        } else {
            fprintf(stderr, "cloister-oracle: bad option or value: %s %s\n", a, v);
            return -1;
        }
    }
    return 0;
}

static void note_trap(struct tally *t, const struct orn_out *n)
{
    if (n->status == ORN_ST_DONE)
        t->trap_hist[n->trapno < 31 ? n->trapno : 31]++;
    else
        t->native_bad++;
}

static void mismatch(struct runner *r, const struct pending *p, const struct orn_out *n, const char *why)
{
    char where[256];
    if (p->file)
        snprintf(where, sizeof where, "%s case %" PRIu64, p->file, p->index);
    else
        snprintf(where, sizeof where, "class %s seed %" PRIu64 " index %" PRIu64, p->cls, r->o->seed, p->index);
    bool full = r->o->verbose || r->reported < r->o->max_report;
    printf("MISMATCH %s: %s\n", where, why);
    if (full) {
        r->reported++;
        if (!p->file)
            printf("  reproduce: cloister-oracle --class %s --seed %" PRIu64 " --first %" PRIu64 " --cases 1\n", p->cls,
                   r->o->seed, p->index);
        oracle_report(stdout, &p->c, n, &r->res);
    }
    if (r->save) {
        char comment[512];
        snprintf(comment, sizeof comment, "%s\n%s", where, why);
        oc_write_text(r->save, &p->c, comment);
        fflush(r->save);
    }
}

/* The batch ran once; keep its results, run it again in reverse slot order, compare. */
static int determinism_check(struct runner *r)
{
    struct orn_out *first = r->first;
    unsigned nb = r->nbatch;
    for (unsigned i = 0; i < nb; i++)
        first[i] = oracle_native_slot(&r->nat, i)->out;
    for (unsigned i = 0; i < nb; i++)
        oc_to_native(&r->batch[nb - 1 - i].c, &oracle_native_slot(&r->nat, i)->in);
    int rc = oracle_native_run(&r->nat, nb);
    if (rc != 0)
        return rc;
    for (unsigned i = 0; i < nb; i++) {
        struct pending *p = &r->batch[i];
        const struct orn_out *again = &oracle_native_slot(&r->nat, nb - 1 - i)->out;
        note_trap(p->t, &first[i]);
        char why[64];
        bool ok = first[i].status == ORN_ST_DONE && oracle_native_same(&p->c, &first[i], again, why, sizeof why);
        if (!ok) {
            printf("MISMATCH class %s seed %" PRIu64 " index %" PRIu64 ": two native runs differ (%s)\n", p->cls,
                   r->o->seed, p->index, first[i].status == ORN_ST_DONE ? why : "no result");
            oracle_disasm(stdout, p->c.code, p->c.code_len, ORN_CODE_BASE + p->c.code_off, "    ");
        }
        p->t->pass += ok;
        p->t->fail += !ok;
        r->pass += ok;
        r->fail += !ok;
    }
    r->nbatch = 0;
    return 0;
}

static int flush_batch(struct runner *r)
{
    if (r->nbatch == 0)
        return 0;
    for (unsigned i = 0; i < r->nbatch; i++)
        oc_to_native(&r->batch[i].c, &oracle_native_slot(&r->nat, i)->in);
    int rc = oracle_native_run(&r->nat, r->nbatch);
    if (rc != 0) {
        fprintf(stderr, "cloister-oracle: native runner failed: %s\n", strerror(-rc));
        return rc;
    }
    if (r->o->determinism)
        return determinism_check(r);
    for (unsigned i = 0; i < r->nbatch; i++) {
        struct pending *p = &r->batch[i];
        const struct orn_out *n = &oracle_native_slot(&r->nat, i)->out;
        note_trap(p->t, n);
        if (r->o->show) {
            printf("case %s %" PRIu64 ": native status %u signal %u trap %u err %#x cr2 %08x eip %08x\n", p->cls,
                   p->index, n->status, n->signo, n->trapno, n->err, n->cr2, n->eip);
            oracle_disasm(stdout, p->c.code, p->c.code_len, ORN_CODE_BASE + p->c.code_off, "    ");
        }
        if (r->o->native_only) {
            bool ok = n->status == ORN_ST_DONE;
            if (!ok) {
                char why[128];
                snprintf(why, sizeof why, "native run did not end in a signal (status %u)", n->status);
                printf("MISMATCH class %s seed %" PRIu64 " index %" PRIu64 ": %s\n", p->cls, r->o->seed, p->index, why);
                oracle_disasm(stdout, p->c.code, p->c.code_len, ORN_CODE_BASE + p->c.code_off, "    ");
            }
            p->t->pass += ok;
            p->t->fail += !ok;
            r->pass += ok;
            r->fail += !ok;
            continue;
        }
        clo_run(&r->env, &p->c, &oracle_native_slot(&r->nat, i)->in, n->ldt_raw, &r->res);
        char why[160];
        if (oracle_equal(&p->c, n, &r->res, why, sizeof why)) {
            p->t->pass++;
            r->pass++;
        } else {
            p->t->fail++;
            r->fail++;
            mismatch(r, p, n, why);
        }
    }
    r->nbatch = 0;
    return 0;
}

static int add_case(struct runner *r, const struct pending *p)
{
    r->batch[r->nbatch++] = *p;
    return r->nbatch == ORN_BATCH ? flush_batch(r) : 0;
}

static void print_tally(const char *name, const struct tally *t, bool hist)
{
    printf("%-8s %8" PRIu64 " passed, %8" PRIu64 " failed", name, t->pass, t->fail);
    if (hist) {
        printf("   ends:");
        for (int v = 0; v < 32; v++)
            if (t->trap_hist[v])
                printf(" #%d:%" PRIu64, v, t->trap_hist[v]);
        if (t->native_bad)
            printf(" bad:%" PRIu64, t->native_bad);
    }
    printf("\n");
}

static int run_generated(struct runner *r)
{
    unsigned total;
    const struct og_class *all = og_classes(&total);
    const struct og_class *sel[MAX_SEL_CLASSES];
    unsigned nsel = 0;
    if (r->o->nclasses) {
        for (unsigned i = 0; i < r->o->nclasses; i++)
            sel[nsel++] = og_find_class(r->o->classes[i]);
    } else {
        for (unsigned i = 0; i < total && nsel < MAX_SEL_CLASSES; i++)
            sel[nsel++] = &all[i];
    }
    struct tally *tallies = r->tallies;
    memset(r->tallies, 0, sizeof r->tallies);
    for (unsigned k = 0; k < nsel; k++) {
        uint64_t count = r->o->cases / nsel + (k < r->o->cases % nsel ? 1 : 0);
        for (uint64_t i = r->o->first; i < r->o->first + count; i++) {
            struct pending p = { .cls = sel[k]->name, .index = i, .t = &tallies[k] };
            if (og_make_case(sel[k], r->o->seed, i, &p.c) != 0) {
                printf("MISMATCH class %s seed %" PRIu64 " index %" PRIu64 ": generator failed\n", sel[k]->name,
                       r->o->seed, i);
                tallies[k].fail++;
                r->fail++;
                continue;
            }
            int rc = add_case(r, &p);
            if (rc)
                return rc;
        }
        int rc = flush_batch(r);
        if (rc)
            return rc;
    }
    printf("--- per class (seed %" PRIu64 ")\n", r->o->seed);
    for (unsigned k = 0; k < nsel; k++)
        print_tally(sel[k]->name, &tallies[k], true);
    return 0;
}

static int run_replay(struct runner *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cloister-oracle: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    const size_t cap = 4u << 20;
    char *text = malloc(cap);
    if (!text) {
        fclose(f);
        return -ENOMEM;
    }
    size_t len = fread(text, 1, cap, f);
    bool too_big = !feof(f);
    fclose(f);
    if (too_big) {
        fprintf(stderr, "cloister-oracle: %s: larger than %zu bytes\n", path, cap);
        free(text);
        return -EFBIG;
    }
    struct tally *t = &r->replay_tally;
    memset(t, 0, sizeof *t);
    size_t pos = 0;
    unsigned line = 0;
    uint64_t num = 0;
    for (;;) {
        struct pending p = { .file = path, .t = t };
        char err[160];
        int k = oc_parse_text(text, len, &pos, &line, &p.c, err, sizeof err);
        if (k == 0)
            break;
        if (k < 0) {
            fprintf(stderr, "cloister-oracle: %s: %s\n", path, err);
            free(text);
            return -EINVAL;
        }
        p.index = ++num;
        p.cls = "replay";
        int rc = add_case(r, &p);
        if (rc) {
            free(text);
            return rc;
        }
    }
    free(text);
    int rc = flush_batch(r);
    if (rc)
        return rc;
    print_tally("replay", t, false);
    return 0;
}

static int run(struct opts *o, struct runner *r);

int main(int argc, char **argv)
{
    /* everything lives on the heap: the runner state holds a batch of cases and results */
    struct opts *o = calloc(1, sizeof *o);
    struct runner *r = calloc(1, sizeof *r);
    int rc = 2;
    if (o && r) {
        if (parse_args(argc, argv, o) != 0)
            usage(stderr);
        else
            rc = run(o, r);
    }
    free(r);
    free(o);
    return rc;
}

static int run(struct opts *o, struct runner *r)
{
    if (o->list) {
        unsigned n;
        const struct og_class *all = og_classes(&n);
        for (unsigned i = 0; i < n; i++)
            printf("%-8s %s\n", all[i].name, all[i].what);
        return 0;
    }
    r->o = o;
    char path[4096];
    const char *runner = o->runner ? o->runner : oracle_native_default_path(path, sizeof path);
    if (!runner) {
        fprintf(stderr, "cloister-oracle: cannot locate cloister-oracle-native (use --runner)\n");
        return 2;
    }
    int rc = oracle_native_start(&r->nat, runner);
    if (rc != 0) {
        fprintf(stderr, "cloister-oracle: starting %s: %s\n", runner, strerror(-rc));
        return 2;
    }
    struct clo_host host = { .user_cs = r->nat.user_cs, .user_ds = r->nat.user_ds, .gdt_ok = r->nat.shm->gdt_ok };
    memcpy(host.gdt_lar, r->nat.shm->gdt_lar, sizeof host.gdt_lar);
    memcpy(host.gdt_lsl, r->nat.shm->gdt_lsl, sizeof host.gdt_lsl);
    if (clo_env_init(&r->env, &host, o->steps) != 0) {
        fprintf(stderr, "cloister-oracle: out of memory\n");
        oracle_native_stop(&r->nat);
        return 2;
    }
    if (o->save) {
        r->save = fopen(o->save, "a");
        if (!r->save) {
            fprintf(stderr, "cloister-oracle: %s: %s\n", o->save, strerror(errno));
            clo_env_free(&r->env);
            oracle_native_stop(&r->nat);
            return 2;
        }
    }
    if (o->nreplay) {
        for (unsigned i = 0; i < o->nreplay && rc == 0; i++)
            rc = run_replay(r, o->replay[i]);
    } else {
        rc = run_generated(r);
    }
    if (r->save)
        fclose(r->save);
    clo_env_free(&r->env);
    unsigned restarts = r->nat.restarts;
    oracle_native_stop(&r->nat);
    if (rc != 0)
        return 2;
    if (restarts)
        printf("(native runner restarted %u times)\n", restarts);
    printf("%" PRIu64 " passed, %" PRIu64 " failed\n", r->pass, r->fail);
    return r->fail ? 1 : 0;
}
