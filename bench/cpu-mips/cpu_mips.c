/*
 * cpu_mips.c - bench/cpu-mips: guest instructions per second of cloister's engine on a fixed
 * mix (workload.S), beside the same bytes run natively as 32-bit user code in the same run; the
 * engine with block chaining and with every transition through the dispatcher; and the
 * front-end's translation throughput. Results are ratios against the native run, which is
 * measured each time (the machine is shared and noisy); nothing here asserts a timing.
 *
 * usage: cloister-bench-cpu [--iterations N] [--native PATH] [--workload PATH]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "translator/frontend.h"
#include "vcpu/run.h"

#define RAM_SIZE (4u << 20)
#define CODE 0x100000u
#define SCRATCH 0x200000u
#define STACK_TOP 0x3F0000u
#define HALT_AT 0x0FF000u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t read_file(const char *path, uint8_t *dst, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    size_t n = fread(dst, 1, cap, f);
    fclose(f);
    return n;
}

struct guest_run {
    double seconds;
    uint32_t checksum;
    uint64_t insns;
    struct tcache_counters count;
    uint64_t blocks;
};

static void run_guest(uint8_t *ram, const uint8_t *code, size_t code_size, uint32_t iters,
                      bool chain, struct guest_run *out)
{
    static struct vcpu v;
    static struct fe_inproc fe;
    memset(ram, 0, RAM_SIZE);
    memcpy(ram + CODE, code, code_size);
    for (unsigned i = 0; i < 65536; i++)
        ram[SCRATCH + i] = (uint8_t)i;
    ram[HALT_AT] = 0xF4; /* HLT */
    if (vcpu_init(&v, ram, RAM_SIZE, 16u << 20) < 0) {
        fprintf(stderr, "cannot allocate the translation cache\n");
        exit(2);
    }
    fe.ram = ram;
    fe.ram_size = RAM_SIZE;
    v.src.ctx = &fe;
    v.src.translate = fe_translate_inproc;
    v.no_chain = !chain;
    engine_flat32(&v.cpu, 0);
    uint32_t sp = STACK_TOP - 12;
    uint32_t frame[3] = {HALT_AT, iters, SCRATCH};
    memcpy(ram + sp, frame, sizeof frame);
    v.cpu.r[IR_ESP] = sp;
    v.cpu.eip = CODE;
    double t0 = now();
    int stop = vcpu_run(&v, UINT64_MAX);
    out->seconds = now() - t0;
    if (stop != VCPU_HALT_DEAD) {
        fprintf(stderr, "cpu-mips: the guest stopped with %d at eip 0x%x\n", stop, v.cpu.eip);
        exit(1);
    }
    out->checksum = v.cpu.r[IR_EAX];
    out->insns = v.insns;
    out->count = v.tc.count;
    out->blocks = v.blocks_run;
    vcpu_free(&v);
}

static int run_native(const char *path, uint32_t iters, uint32_t *sum, double *seconds)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s %u", path, iters);
    FILE *p = popen(cmd, "r");
    long long ns = 0;
    unsigned s = 0;
    if (!p || fscanf(p, "%u %lld", &s, &ns) != 2) {
        if (p)
            pclose(p);
        return -1;
    }
    pclose(p);
    *sum = s;
    *seconds = (double)ns / 1e9;
    return 0;
}

/* Translation throughput: rebuild every block the run used, repeatedly, for ~0.3 s. */
static double translate_rate(uint8_t *ram, size_t code_size, double *avg_block)
{
    static struct fe_inproc fe;
    fe.ram = ram;
    fe.ram_size = RAM_SIZE;
    uint64_t insns = 0, blocks = 0;
    double t0 = now();
    while (now() - t0 < 0.3) {
        for (uint32_t eip = CODE; eip < CODE + code_size;) {
            struct msg_translate req = {eip, eip, XL_NO_PAGE, 8192, IR_MODE_CS32 | IR_MODE_PE, 0};
            const void *b;
            size_t size;
            if (fe_translate_inproc(&fe, &req, &b, &size) != XL_OK)
                break;
            const struct tc_block_hdr *h = b;
            insns += h->ninsn;
            blocks++;
            eip += h->guest_bytes;
        }
    }
    *avg_block = blocks ? (double)insns / (double)blocks : 0;
    return (double)insns / (now() - t0);
}

int main(int argc, char **argv)
{
    uint32_t iters = 2000;
    const char *native = CLOISTER_BENCH_NATIVE, *workload = CLOISTER_BENCH_WORKLOAD;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--iterations"))
            iters = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--native"))
            native = argv[i + 1];
        else if (!strcmp(argv[i], "--workload"))
            workload = argv[i + 1];
        else {
            fprintf(stderr, "usage: %s [--iterations N] [--native PATH] [--workload PATH]\n", argv[0]);
            return 2;
        }
    }
    static uint8_t code[65536];
    size_t code_size = read_file(workload, code, sizeof code);
    uint8_t *ram = aligned_alloc(4096, RAM_SIZE);
    if (!ram)
        return 2;

    uint32_t nsum = 0;
    double nsec = 0;
    if (run_native(native, iters, &nsum, &nsec) < 0) {
        fprintf(stderr, "cpu-mips: cannot run the native workload %s\n", native);
        return 2;
    }
    struct guest_run chained, dispatched;
    run_guest(ram, code, code_size, iters, true, &chained);
    run_guest(ram, code, code_size, iters, false, &dispatched);
    if (chained.checksum != nsum || dispatched.checksum != nsum) {
        fprintf(stderr, "cpu-mips: checksum mismatch: native 0x%08x, engine 0x%08x / 0x%08x\n",
                nsum, chained.checksum, dispatched.checksum);
        return 1;
    }
    double avg = 0;
    double xrate = translate_rate(ram, code_size, &avg);
    double insns = (double)chained.insns;
    printf("cpu-mips: %u iterations, %.0f guest instructions, checksum 0x%08x equal to native\n",
           iters, insns, nsum);
    printf("  native (32-bit user code)      %9.2f ms  %9.1f MIPS\n", nsec * 1e3, insns / nsec / 1e6);
    printf("  engine, chained blocks         %9.2f ms  %9.1f MIPS  %.1fx slower than native\n",
           chained.seconds * 1e3, insns / chained.seconds / 1e6, chained.seconds / nsec);
    printf("  engine, dispatcher only        %9.2f ms  %9.1f MIPS  %.1fx slower than native\n",
           dispatched.seconds * 1e3, insns / dispatched.seconds / 1e6, dispatched.seconds / nsec);
    printf("  block transitions: %llu, chained %llu, dispatcher lookups %llu (chained run); "
           "%.1f ns saved per chained transition\n",
           (unsigned long long)chained.blocks, (unsigned long long)chained.count.chain_hits,
           (unsigned long long)chained.count.lookups,
           (dispatched.seconds - chained.seconds) * 1e9 /
               (double)(chained.count.chain_hits ? chained.count.chain_hits : 1));
    printf("  translation: %.2f million guest instructions decoded per second (%.1f per block), "
           "%llu blocks translated\n",
           xrate / 1e6, avg, (unsigned long long)chained.count.translated);
    return 0;
}
