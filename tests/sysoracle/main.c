/*
 * main.c - cloister-sysoracle: the system half of the equivalence oracle. Generates cases per
 * class (or reads regression files), packs them into test kernels, runs each kernel under QEMU's
 * system emulator and in cloister, and compares the result of every case; where sdm.c has a rule
 * for a case, the reference is the SDM's result rather than QEMU's. Ends with "N passed, M
 * failed"; exit status 1 when M > 0, 2 on usage or set-up errors (QEMU missing included).
 *
 * A kernel run that dies part-way (triple fault, hang) is resumed after the case that killed it,
 * so every case gets a result or a reason.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sysoracle/casefile.h"
#include "tests/sysoracle/compare.h"
#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/kimage.h"
#include "tests/sysoracle/results.h"
#include "tests/sysoracle/runner.h"
#include "tests/sysoracle/sdm.h"

#ifndef SYSORACLE_KERNEL
#define SYSORACLE_KERNEL "sysoracle-kernel.elf"
#endif

#define MAX_CLASSES 16
#define MAX_REPLAY 64
#define CLO_CPUID_EAX 0x652u
#define CLO_CPUID_EDX 0xA93Du

struct opts {
    uint64_t seed;
    uint32_t cases, first, batch, timeout_ms, max_report;
    uint64_t budget;
    const char *kernel, *qemu, *qemu_cpu, *save, *write_kernel;
    const char *classes[MAX_CLASSES];
    unsigned nclasses;
    const char *replay[MAX_REPLAY];
    unsigned nreplay;
    const char *replay_dir;
    bool cloister_only, qemu_only, verbose, show, records;
};

struct item {
    struct sc *s;
    char ident[96];   /* "gates #17" or "file.txt case 3" */
    char repro[200];
};

struct side {
    bool qemu;
    const struct opts *o;
    const struct kimage *k;
    const struct sc **cases;
    uint32_t n;
    struct so_result *res;
    char (*why)[128];
    enum so_end *end;   /* per case: why it has no result */
    bool info_ok;
    uint32_t cpuid_eax, cpuid_edx;
    uint32_t malformed, runs;
    double seconds;
    char error[300];
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cloister-sysoracle [--seed S] [--cases N] [--class NAME]... [--first I] [--batch N]\n"
            "         [--kernel PATH] [--qemu PROG] [--qemu-cpu CPU] [--timeout MS] [--budget INSNS]\n"
            "         [--replay FILE]... [--replay-dir DIR] [--save FILE] [--max-report N]\n"
            "         [--cloister-only | --qemu-only] [--verbose] [--show] [--records] [--write-kernel FILE]\n"
            "         [--list-classes] [--sdm-table]\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || !*s || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->cases = 100;
    o->batch = 400;
    o->timeout_ms = 120000;
    o->budget = 0; /* per run: 100000 instructions per case + 10 million */
    o->max_report = 20;
    o->kernel = SYSORACLE_KERNEL;
    o->qemu = "qemu-system-i386";
    o->qemu_cpu = SO_QEMU_DEFAULT_CPU;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
#define NEEDV()                                                                                    \
    do {                                                                                           \
        if (!v) {                                                                                  \
            fprintf(stderr, "%s needs a value\n", a);                                              \
            return -1;                                                                             \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
#define NUM(dst, max)                                                                              \
    do {                                                                                           \
        NEEDV();                                                                                   \
        if (parse_u64(v, &n) < 0 || n > (max)) {                                                   \
            fprintf(stderr, "bad value for %s: %s\n", a, v);                                       \
            return -1;                                                                             \
        }                                                                                          \
        dst = n;                                                                                   \
    } while (0)
        if (!strcmp(a, "--seed")) NUM(o->seed, UINT64_MAX);
        else if (!strcmp(a, "--cases")) NUM(o->cases, 100000);
        else if (!strcmp(a, "--first")) NUM(o->first, 100000000);
        else if (!strcmp(a, "--batch")) NUM(o->batch, 5000);
        else if (!strcmp(a, "--timeout")) NUM(o->timeout_ms, 3600000);
        else if (!strcmp(a, "--budget")) NUM(o->budget, UINT64_MAX);
        else if (!strcmp(a, "--max-report")) NUM(o->max_report, 1000000);
        else if (!strcmp(a, "--kernel")) { NEEDV(); o->kernel = v; }
        else if (!strcmp(a, "--qemu")) { NEEDV(); o->qemu = v; }
        else if (!strcmp(a, "--qemu-cpu")) { NEEDV(); o->qemu_cpu = v; }
        else if (!strcmp(a, "--save")) { NEEDV(); o->save = v; }
        else if (!strcmp(a, "--write-kernel")) { NEEDV(); o->write_kernel = v; }
        else if (!strcmp(a, "--replay-dir")) { NEEDV(); o->replay_dir = v; }
        else if (!strcmp(a, "--class")) {
            NEEDV();
            if (o->nclasses == MAX_CLASSES || !so_class_find(v)) {
                fprintf(stderr, "unknown class %s (see --list-classes)\n", v);
                return -1;
            }
            o->classes[o->nclasses++] = v;
        } else if (!strcmp(a, "--replay")) {
            NEEDV();
            if (o->nreplay == MAX_REPLAY) {
                fprintf(stderr, "too many --replay files\n");
                return -1;
            }
            o->replay[o->nreplay++] = v;
        }
        else if (!strcmp(a, "--cloister-only")) o->cloister_only = true;
        else if (!strcmp(a, "--qemu-only")) o->qemu_only = true;
        else if (!strcmp(a, "--verbose")) o->verbose = true;
        else if (!strcmp(a, "--show")) o->show = true;
        else if (!strcmp(a, "--records")) o->records = true;
        else if (!strcmp(a, "--list-classes") || !strcmp(a, "--sdm-table")) continue; /* handled in main */
        else {
            fprintf(stderr, "unknown argument %s\n", a);
            return -1;
        }
#undef NUM
#undef NEEDV
    }
    if (o->batch == 0)
        o->batch = 1;
    if (o->cloister_only && o->qemu_only) {
        fprintf(stderr, "--cloister-only and --qemu-only exclude each other\n");
        return -1;
    }
    return 0;
}

/* ---- running one side of a batch, resuming after cases that kill the kernel ---- */

static void run_side(struct side *sd)
{
    const struct opts *o = sd->o;
    uint32_t start = 0;
    unsigned restarts = 0;
    while (start < sd->n) {
        uint32_t fits;
        uint8_t *img = kimage_build(sd->k, sd->cases, sd->n, start, &fits);
        if (!img) {
            snprintf(sd->error, sizeof sd->error, "the batch does not fit the kernel's blob");
            return;
        }
        struct so_run run;
        if (sd->qemu)
            so_run_qemu(o->qemu, o->qemu_cpu, img, sd->k->size, o->timeout_ms, &run);
        else
            so_run_cloister(img, sd->k->size, o->budget ? o->budget : 100000ull * (sd->n - start) + 10000000ull, &run);
        free(img);
        sd->runs++;
        sd->seconds += run.seconds;
        if (run.end == SO_END_ERROR) {
            snprintf(sd->error, sizeof sd->error, "%s", run.why);
            so_run_free(&run);
            return;
        }
        struct so_parsed p;
        so_parse(run.out, run.len, sd->res, sd->n, &p);
        sd->malformed += p.malformed;
        if (p.have_info && !sd->info_ok) {
            sd->info_ok = true;
            sd->cpuid_eax = p.cpuid_eax;
            sd->cpuid_edx = p.cpuid_edx;
        }
        uint32_t k = start;
        while (k < sd->n && sd->res[k].present)
            k++;
        if (k < sd->n) {
            sd->end[k] = run.end == SO_END_CLEAN ? SO_END_ERROR : run.end;
            snprintf(sd->why[k], sizeof sd->why[k], "%s%s%s",
                     run.end == SO_END_CLEAN ? "the kernel finished without a result line" : so_end_name(run.end),
                     run.why[0] ? ": " : "", run.why);
            if (sd->qemu && run.end == SO_END_TIMEOUT)
                snprintf(sd->why[k], sizeof sd->why[k],
                         "QEMU hung (%u ms of CPU or %u ms without output, or %u ms in all)", SO_QEMU_IDLE_CPU_MS,
                         SO_QEMU_IDLE_MS, o->timeout_ms);
        }
        so_run_free(&run);
        start = k + 1;
        if (++restarts > 200) {
            for (uint32_t j = start; j < sd->n; j++) {
                sd->end[j] = SO_END_ERROR;
                snprintf(sd->why[j], sizeof sd->why[j], "not run: too many kernel restarts in this batch");
            }
            return;
        }
    }
}

static void *side_thread(void *arg)
{
    run_side(arg);
    return NULL;
}

/* ---- the cases ---- */

static int load_cases(const struct opts *o, struct item **items, size_t *nitems)
{
    size_t cap = 0, n = 0;
    struct item *it = NULL;
#define PUSH()                                                                                     \
    do {                                                                                           \
        if (n == cap) {                                                                            \
            cap = cap ? cap * 2 : 256;                                                             \
            struct item *q = realloc(it, cap * sizeof *q);                                         \
            if (!q)                                                                                \
                return -1;                                                                         \
            it = q;                                                                                \
        }                                                                                          \
    } while (0)
    const char *files[MAX_REPLAY + 1024];
    char *owned[1024];
    unsigned nfiles = 0, nowned = 0;
    for (unsigned i = 0; i < o->nreplay; i++)
        files[nfiles++] = o->replay[i];
    if (o->replay_dir) {
        DIR *d = opendir(o->replay_dir);
        if (!d) {
            fprintf(stderr, "%s: %s\n", o->replay_dir, strerror(errno));
            return -1;
        }
        struct dirent *de;
        char *names[1024];
        unsigned nn = 0;
        while ((de = readdir(d)) && nn < 1024) {
            size_t l = strlen(de->d_name);
            if (l > 4 && !strcmp(de->d_name + l - 4, ".txt"))
                names[nn++] = strdup(de->d_name);
        }
        closedir(d);
        for (unsigned i = 0; i < nn; i++) /* sorted for a stable order */
            for (unsigned j = i + 1; j < nn; j++)
                if (strcmp(names[j], names[i]) < 0) {
                    char *t = names[i];
                    names[i] = names[j];
                    names[j] = t;
                }
        for (unsigned i = 0; i < nn; i++) {
            char *full = NULL;
            if (names[i] && asprintf(&full, "%s/%s", o->replay_dir, names[i]) > 0 && nowned < 1024) {
                owned[nowned++] = full;
                files[nfiles++] = full;
            }
            free(names[i]);
        }
    }
    for (unsigned fi = 0; fi < nfiles; fi++) {
        struct sc *cs;
        size_t nc;
        char why[300];
        if (casefile_read(files[fi], &cs, &nc, why, sizeof why) < 0) {
            fprintf(stderr, "%s\n", why);
            return -1;
        }
        for (size_t j = 0; j < nc; j++) {
            PUSH();
            it[n].s = malloc(sizeof(struct sc));
            if (!it[n].s)
                return -1;
            *it[n].s = cs[j];
            const char *base = strrchr(files[fi], '/');
            snprintf(it[n].ident, sizeof it[n].ident, "%s case %zu", base ? base + 1 : files[fi], j + 1);
            snprintf(it[n].repro, sizeof it[n].repro, "cloister-sysoracle --replay %s", files[fi]);
            n++;
        }
        free(cs);
    }
    for (unsigned i = 0; i < nowned; i++)
        free(owned[i]);
    bool replaying = nfiles > 0 || o->replay_dir;
    if (!replaying || o->nclasses) {
        for (unsigned ci = 0; ci < so_nclasses; ci++) {
            const struct so_class *cls = &so_classes[ci];
            bool want = o->nclasses == 0;
            for (unsigned j = 0; j < o->nclasses; j++)
                if (!strcmp(o->classes[j], cls->name))
                    want = true;
            if (!want)
                continue;
            for (uint32_t i = o->first; i < o->first + o->cases; i++) {
                PUSH();
                it[n].s = malloc(sizeof(struct sc));
                if (!it[n].s)
                    return -1;
                so_generate(cls, o->seed, i, it[n].s);
                if (it[n].s->overflow) {
                    fprintf(stderr, "generator bug: %s case %u overflows the builder\n", cls->name, i);
                    return -1;
                }
                snprintf(it[n].ident, sizeof it[n].ident, "%s #%u (seed %" PRIu64 ")", cls->name, i, o->seed);
                snprintf(it[n].repro, sizeof it[n].repro,
                         "cloister-sysoracle --class %s --seed %" PRIu64 " --first %u --cases 1", cls->name,
                         o->seed, i);
                n++;
            }
        }
    }
#undef PUSH
    *items = it;
    *nitems = n;
    return 0;
}

/* ---- per-class tallies ---- */

struct tally {
    char cls[16];
    uint32_t passed, failed, sdm, both_died;
};

static struct tally *tally_for(struct tally *t, unsigned *nt, const char *cls)
{
    for (unsigned i = 0; i < *nt; i++)
        if (!strcmp(t[i].cls, cls))
            return &t[i];
    if (*nt == 32)
        return &t[31];
    memset(&t[*nt], 0, sizeof t[*nt]);
    snprintf(t[*nt].cls, sizeof t[*nt].cls, "%s", cls);
    return &t[(*nt)++];
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--list-classes")) {
            for (unsigned c = 0; c < so_nclasses; c++)
                printf("%-9s %s\n", so_classes[c].name, so_classes[c].covers);
            printf("not covered: hlt (HLT and interrupt acceptance need a timer/PIC model that cloister "
                   "does not wire yet), task switches, virtual-8086 mode, debug exceptions\n");
            return 0;
        }
        if (!strcmp(argv[i], "--sdm-table")) {
            sdm_print_table(stdout);
            return 0;
        }
    }
    bool need_qemu = !o.cloister_only;
    if (need_qemu && !so_have_program(o.qemu)) {
        fprintf(stderr,
                "cloister-sysoracle: %s not found on PATH: the system oracle needs QEMU's system emulator "
                "(Debian package qemu-system-x86; scripts/setup.sh test installs it)\n",
                o.qemu);
        printf("0 passed, 1 failed\n");
        return 2;
    }
    struct kimage k;
    char why[300];
    if (kimage_load(&k, o.kernel, why, sizeof why) < 0) {
        fprintf(stderr, "cloister-sysoracle: %s\n", why);
        return 2;
    }
    struct item *items = NULL;
    size_t nitems = 0;
    if (load_cases(&o, &items, &nitems) < 0) {
        fprintf(stderr, "cloister-sysoracle: cannot build the cases\n");
        return 2;
    }
    if (o.show) {
        for (size_t i = 0; i < nitems; i++)
            casefile_write(stdout, items[i].s, items[i].ident);
    }
    if (o.write_kernel) {
        const struct sc **cs = calloc(nitems ? nitems : 1, sizeof *cs);
        for (size_t i = 0; i < nitems; i++) {
            items[i].s->c.id = (uint32_t)i;
            cs[i] = items[i].s;
        }
        uint32_t fits;
        uint8_t *img = kimage_build(&k, cs, (uint32_t)nitems, 0, &fits);
        FILE *f = img ? fopen(o.write_kernel, "wb") : NULL;
        int ok = f && fwrite(img, 1, k.size, f) == k.size;
        if (f)
            fclose(f);
        free(img);
        free(cs);
        if (!ok) {
            fprintf(stderr, "cannot write %s (%u of %zu cases fit)\n", o.write_kernel, fits, nitems);
            return 2;
        }
        printf("wrote %s with %zu cases\n", o.write_kernel, nitems);
        return 0;
    }

    FILE *save = NULL;
    if (o.save && !(save = fopen(o.save, "a"))) {
        fprintf(stderr, "%s: %s\n", o.save, strerror(errno));
        return 2;
    }
    struct tally tallies[32];
    unsigned ntallies = 0;
    uint32_t passed = 0, failed = 0, reported = 0, sdm_used = 0;
    uint32_t sdm_hits[32] = {0};
    bool cpuid_checked = false;
    double qsec = 0, csec = 0;
    unsigned qruns = 0, cruns = 0;

    for (size_t b0 = 0; b0 < nitems;) {
        const struct sc **cs = calloc(o.batch, sizeof *cs);
        uint32_t n = 0;
        while (b0 + n < nitems && n < o.batch) {
            items[b0 + n].s->c.id = n;
            cs[n] = items[b0 + n].s;
            n++;
        }
        n = kimage_fit(&k, cs, n);
        if (n == 0) {
            fprintf(stderr, "a case does not fit the kernel's blob\n");
            return 2;
        }
        struct side sides[2];
        for (int q = 0; q < 2; q++) {
            memset(&sides[q], 0, sizeof sides[q]);
            sides[q].qemu = q == 0;
            sides[q].o = &o;
            sides[q].k = &k;
            sides[q].cases = cs;
            sides[q].n = n;
            sides[q].res = calloc(n, sizeof(struct so_result));
            sides[q].why = calloc(n, sizeof *sides[q].why);
            sides[q].end = calloc(n, sizeof *sides[q].end);
            if (!sides[q].res || !sides[q].why || !sides[q].end)
                return 2;
        }
        bool run_q = !o.cloister_only, run_c = !o.qemu_only;
        pthread_t th;
        bool threaded = run_q && run_c && pthread_create(&th, NULL, side_thread, &sides[0]) == 0;
        if (run_q && !threaded)
            run_side(&sides[0]);
        if (run_c)
            run_side(&sides[1]);
        if (threaded)
            pthread_join(th, NULL);
        for (int q = 0; q < 2; q++) {
            if (sides[q].error[0]) {
                fprintf(stderr, "cloister-sysoracle: %s: %s\n", q ? "cloister" : "QEMU", sides[q].error);
                printf("%u passed, %u failed\n", passed, failed + 1);
                return 2;
            }
        }
        qsec += sides[0].seconds;
        csec += sides[1].seconds;
        qruns += sides[0].runs;
        cruns += sides[1].runs;

        /* The CPU models must agree before anything else means something. */
        if (!cpuid_checked) {
            cpuid_checked = true;
            for (int q = 0; q < 2; q++) {
                if ((q == 0 && !run_q) || (q == 1 && !run_c))
                    continue;
                bool bad = !sides[q].info_ok || sides[q].cpuid_eax != CLO_CPUID_EAX || sides[q].cpuid_edx != CLO_CPUID_EDX;
                if (bad) {
                    printf("MISMATCH cpuid: %s reports CPUID.1 EAX %x EDX %x, cloister's model is EAX %x EDX %x "
                           "(check --qemu-cpu)\n",
                           q ? "cloister" : "QEMU", sides[q].cpuid_eax, sides[q].cpuid_edx, CLO_CPUID_EAX,
                           CLO_CPUID_EDX);
                    failed++;
                }
            }
        }

        for (uint32_t i = 0; i < n; i++) {
            struct item *it = &items[b0 + i];
            const struct sc *s = it->s;
            struct tally *t = tally_for(tallies, &ntallies, s->cls);
            const struct so_result *qr = &sides[0].res[i], *cr = &sides[1].res[i];
            struct so_result ref = *qr;
            uint32_t applied = 0;
            bool ok;
            struct so_diff d, ignore;
            memset(&d, 0, sizeof d);
            memset(&ignore, 0, sizeof ignore);
            if (o.cloister_only || o.qemu_only) {
                const struct so_result *r = o.cloister_only ? cr : qr;
                ok = r->present;
                if (!ok) {
                    printf("NO RESULT %s: %s\n  %s\n", it->ident, s->desc, (o.cloister_only ? sides[1].why : sides[0].why)[i]);
                    printf("  reproduce: %s\n", it->repro);
                }
            } else {
                /* the reference: QEMU's record, or the SDM's (which may exist where QEMU has none) */
                applied = sdm_reference(s, qr, &ref, &ignore);
                if (ref.present && cr->present)
                    ok = so_compare(&ref, cr, &ignore, &d);
                else if (!ref.present && !cr->present)
                    ok = sides[0].end[i] == sides[1].end[i];
                else
                    ok = false;
                if (!ref.present && !cr->present && ok)
                    t->both_died++;
                if (applied) {
                    t->sdm++;
                    sdm_used++;
                    for (unsigned r = 0; r < sdm_nrules && r < 32; r++)
                        if (applied >> r & 1)
                            sdm_hits[r]++;
                }
                if (!ok && reported < o.max_report) {
                    reported++;
                    so_report(stdout, s, it->ident, applied ? "SDM" : "QEMU", &ref, sides[0].why[i], cr,
                              sides[1].why[i], &d, &ignore, o.verbose);
                    if (applied)
                        for (unsigned r = 0; r < sdm_nrules; r++)
                            if (applied >> r & 1)
                                printf("  reference from the SDM rule '%s' (%s)\n", sdm_rules[r].name,
                                       sdm_rules[r].section);
                    printf("  reproduce: %s\n", it->repro);
                }
                if (!ok && save) {
                    char comment[400];
                    snprintf(comment, sizeof comment, "%s\n%s", it->ident, it->repro);
                    casefile_write(save, s, comment);
                }
            }
            if (o.records) {
                static const struct so_diff nodiff;
                so_report(stdout, s, it->ident, applied ? "SDM" : "QEMU", o.cloister_only ? NULL : &ref,
                          sides[0].why[i], o.qemu_only ? NULL : cr, sides[1].why[i], ok ? &nodiff : &d, &ignore,
                          o.verbose);
            }
            if (ok) {
                passed++;
                t->passed++;
            } else {
                failed++;
                t->failed++;
            }
        }
        for (int q = 0; q < 2; q++) {
            if (sides[q].malformed)
                fprintf(stderr, "warning: %u malformed result lines from %s\n", sides[q].malformed,
                        q ? "cloister" : "QEMU");
            free(sides[q].res);
            free(sides[q].why);
            free(sides[q].end);
        }
        free(cs);
        b0 += n;
    }
    if (save)
        fclose(save);
    bool generated = !(o.nreplay || o.replay_dir) || o.nclasses;
    for (unsigned i = 0; i < ntallies; i++) {
        printf("  %-9s %5u passed %5u failed", tallies[i].cls, tallies[i].passed, tallies[i].failed);
        if (generated)
            printf(" (seed %" PRIu64 ", cases %u..%u)", o.seed, o.first, o.first + o.cases - 1);
        if (tallies[i].sdm)
            printf(", %u decided by the SDM table", tallies[i].sdm);
        if (tallies[i].both_died)
            printf(", %u ended the kernel on both sides", tallies[i].both_died);
        printf("\n");
    }
    for (unsigned r = 0; r < sdm_nrules && r < 32; r++)
        if (sdm_hits[r])
            printf("  SDM rule '%s' decided %u cases\n", sdm_rules[r].name, sdm_hits[r]);
    if (o.verbose)
        fprintf(stderr, "QEMU: %u runs, %.1f s; cloister: %u runs, %.1f s\n", qruns, qsec, cruns, csec);
    for (size_t i = 0; i < nitems; i++)
        free(items[i].s);
    free(items);
    kimage_free(&k);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
