/*
 * bench_main.c - cloister-bench-ipc: request/response latency between two processes over a
 * cloister channel in a memfd region, beside the two classic alternatives measured in the same
 * run against the same server process: a one-byte pipe ping-pong and a raw futex ping-pong.
 *
 * The server is this executable started again by the monitor's launcher (monitor/sandbox.c)
 * under a seccomp policy compiled from bench-server.policy, exactly as the monitor starts a
 * component; this process plays the monitor (control channel, kick eventfd, violation page)
 * and the vCPU (client of the device channel). Everything the server writes back is only
 * printed, never trusted.
 *
 * "hot": requests back to back, so the server is awake (spinning on the ring).
 * "cold": a pause before each request, long enough for the server to go to sleep.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/ipc-latency/bench_proto.h"
#include "bench/ipc-latency/bench_stats.h"
#include "ipc/chan.h"
#include "ipc/endpoint.h"
#include "ipc/region.h"
#include "monitor/policy.h"
#include "monitor/sandbox.h"

#ifndef BENCH_POLICY_DEFAULT
#define BENCH_POLICY_DEFAULT "bench-server.policy"
#endif

#define CALL_TIMEOUT_MS 2000

struct options {
    size_t hot, cold;
    unsigned gap_us;
    int fifo; /* SCHED_FIFO priority for both halves, or 0 */
    const char *policy;
};

struct bench {
    struct options opt;
    int bpf_fd, kick_fd, pipe_to[2], pipe_from[2];
    struct region ctl_region, dev_region, board_region;
    struct chan ctl, dev;
    struct bench_board *board;
    struct sandbox_child child;
    uint32_t futex_seq;
    uint64_t token;
    uint64_t *samples;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Say what failed; returns `neg_err` (a negative errno) for the caller to pass on. */
static int complain(const char *what, int neg_err)
{
    fprintf(stderr, "cloister-bench-ipc: %s: %s\n", what, strerror(-neg_err));
    return neg_err;
}

/* The same, for run(): returns the process exit status. */
static int fail(const char *what, int neg_err)
{
    complain(what, neg_err);
    return 1;
}

/* ---- set-up: what the monitor does for a component (monitor/vm.c) ---- */

static int compile_policy(const char *path, int *bpf_fd)
{
    struct policy *p = NULL;
    struct policy_error pe;
    int rc = policy_parse_file(path, &p, &pe);
    if (rc < 0) {
        fprintf(stderr, "cloister-bench-ipc: %s\n", pe.msg);
        return rc;
    }
    int fd = memfd_create("cloister:seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        rc = -errno;
        policy_free(p);
        return complain("memfd", rc);
    }
    rc = policy_compile_bpf(p, fd, &pe);
    policy_free(p);
    if (rc < 0) {
        fprintf(stderr, "cloister-bench-ipc: %s\n", pe.msg);
        close(fd);
        return rc;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        rc = -errno;
        close(fd);
        return complain("seal seccomp program", rc);
    }
    *bpf_fd = fd;
    return 0;
}

static int make_regions(struct bench *b)
{
    int rc = region_create(&b->ctl_region, "bench-ctl", CTL_REPORT_BYTES + chan_bytes(CHAN_CTL));
    if (rc == 0)
        rc = chan_attach(&b->ctl, (char *)b->ctl_region.base + CTL_REPORT_BYTES,
                         b->ctl_region.size - CTL_REPORT_BYTES, CHAN_CTL, false, true);
    if (rc == 0)
        rc = region_create(&b->dev_region, "bench-dev", chan_bytes(CHAN_DEV));
    if (rc == 0)
        rc = chan_attach(&b->dev, b->dev_region.base, b->dev_region.size, CHAN_DEV, false, true);
    if (rc == 0)
        rc = region_create(&b->board_region, "bench-board", sizeof(struct bench_board));
    if (rc < 0)
        return complain("regions", rc);
    b->board = b->board_region.base;
    b->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->kick_fd < 0 || pipe2(b->pipe_to, O_CLOEXEC) < 0 || pipe2(b->pipe_from, O_CLOEXEC) < 0)
        return complain("eventfd/pipe", -errno);
    return 0;
}

static const char *ns_names(unsigned long ns, char *buf, size_t len)
{
    static const struct {
        unsigned long flag;
        const char *name;
    } all[] = {{CLONE_NEWUSER, "user"}, {CLONE_NEWPID, "pid"}, {CLONE_NEWNS, "mount"},
               {CLONE_NEWNET, "net"},   {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},
               {CLONE_NEWCGROUP, "cgroup"}};
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++)
        if (ns & all[i].flag)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", all[i].name);
    return used ? buf : "none";
}

/* The "Seccomp:" field of /proc/PID/status (2 = filter), or -1. */
static int seccomp_mode_of(pid_t pid)
{
    char path[64], line[256];
    int mode = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Seccomp:", 8) == 0) {
            mode = atoi(line + 8);
            break;
        }
    fclose(f);
    return mode;
}

static int start_server(struct bench *b)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe);
    if (n <= 0 || (size_t)n >= sizeof exe)
        return complain("/proc/self/exe", n < 0 ? -errno : -ENAMETOOLONG);
    exe[n] = '\0';
    /* fd order is the policy's: ctl 4, kick 5, dev 6, board 7, pipe in 8, pipe out 9. */
    struct sandbox_spec spec = {
        .exe = exe,
        .argv0 = BENCH_SERVER_ARGV0,
        .bpf_fd = b->bpf_fd,
        .stderr_fd = STDERR_FILENO,
        .fds = {{b->ctl_region.fd, "ctl"},
                {b->kick_fd, "kick"},
                {b->dev_region.fd, BENCH_REGION_DEV},
                {b->board_region.fd, BENCH_REGION_BOARD},
                {b->pipe_to[0], BENCH_PIPE_IN},
                {b->pipe_from[1], BENCH_PIPE_OUT}},
        .nfds = 6,
    };
    struct sandbox_error se;
    int rc = sandbox_spawn(&spec, &b->child, &se);
    close(b->pipe_to[0]);
    close(b->pipe_from[1]);
    b->pipe_to[0] = b->pipe_from[1] = -1;
    region_close_fd(&b->ctl_region);
    region_close_fd(&b->dev_region);
    region_close_fd(&b->board_region);
    close(b->bpf_fd);
    b->bpf_fd = -1;
    if (rc < 0) {
        fprintf(stderr, "cloister-bench-ipc: start server: %s\n", se.msg);
        return rc;
    }
    /* The monitor's side of the handshake: HELLO from the sandboxed server, then START. */
    struct msg m;
    rc = chan_recv_wait(&b->ctl, &m, 10000);
    if (rc < 0)
        return complain("no HELLO from the server", rc);
    const struct msg_hello *h = (const void *)m.payload;
    if (m.type != MSG_CTL_HELLO || h->kind != COMP_DEV_SERIAL || h->seccomp_mode != 2)
        return complain("unexpected greeting from the server", -EPROTO);
    /* Its word on being filtered is not evidence: ask the kernel. */
    int mode = seccomp_mode_of(b->child.pid);
    if (mode != 2) {
        fprintf(stderr, "cloister-bench-ipc: the server runs without its seccomp filter "
                "(Seccomp: %d)\n", mode);
        return -EPERM;
    }
    msg_set(&m, MSG_CTL_START, NULL, 0);
    rc = chan_send(&b->ctl, &m);
    if (rc < 0)
        return complain("START", rc);
    return 0;
}

/* STOP, then wait for the server (killing it if it does not leave), and explain its end. */
static int stop_server(struct bench *b)
{
    if (b->child.pidfd < 0)
        return 0;
    struct msg m;
    msg_set(&m, MSG_CTL_STOP, NULL, 0);
    chan_send(&b->ctl, &m);
    struct pollfd pfd = {.fd = b->child.pidfd, .events = POLLIN};
    if (poll(&pfd, 1, 5000) <= 0)
        syscall(SYS_pidfd_send_signal, b->child.pidfd, SIGKILL, NULL, 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PIDFD, (id_t)b->child.pidfd, &si, WEXITED);
    close(b->child.pidfd);
    b->child.pidfd = -1;
    const struct violation_report *r = b->ctl_region.base;
    if (__atomic_load_n(&r->magic, __ATOMIC_ACQUIRE) == VIOLATION_MAGIC) {
        fprintf(stderr, "cloister-bench-ipc: the server violated bench-server.policy: syscall %u "
                "(args 0x%llx, 0x%llx, ...)\n", r->nr, (unsigned long long)r->args[0],
                (unsigned long long)r->args[1]);
        return 1;
    }
    if (si.si_code != CLD_EXITED || si.si_status != 0) {
        fprintf(stderr, "cloister-bench-ipc: the server %s %d\n",
                si.si_code == CLD_EXITED ? "exited with status" : "was killed by signal",
                si.si_status);
        return 1;
    }
    return 0;
}

/* ---- one round trip of each kind ---- */

static int rt_pipe(struct bench *b)
{
    char c = 'p', r;
    if (write(b->pipe_to[1], &c, 1) != 1 || read(b->pipe_from[0], &r, 1) != 1 || r != c)
        return -EIO;
    return 0;
}

static int rt_futex(struct bench *b)
{
    uint32_t *w = &b->board->futex_word;
    uint32_t req = 2 * ++b->futex_seq - 1; /* odd: pending; the server stores req + 1 */
    __atomic_store_n(w, req, __ATOMIC_RELEASE);
    bench_futex_wake(w);
    uint32_t v;
    while ((v = __atomic_load_n(w, __ATOMIC_ACQUIRE)) == req) {
        int rc = bench_futex_wait(w, req);
        if (rc < 0 && rc != -EAGAIN && rc != -EINTR)
            return rc;
    }
    return v == req + 1 ? 0 : -EPROTO;
}

static int rt_ipc(struct bench *b)
{
    struct msg req, rsp;
    struct msg_ping p = {.token = ++b->token};
    msg_set(&req, MSG_DEV_PING, &p, sizeof p);
    int rc = chan_call(&b->dev, &req, &rsp, CALL_TIMEOUT_MS);
    if (rc < 0)
        return rc;
    memcpy(&p, rsp.payload, sizeof p);
    return rsp.type == MSG_DEV_PONG && p.token == b->token ? 0 : -EPROTO;
}

typedef int (*round_trip)(struct bench *);

/* n timed round trips, each after `gap_us` of idleness (0: back to back). */
static int measure(struct bench *b, round_trip rt, size_t n, unsigned gap_us, struct lat_stats *st)
{
    for (size_t i = 0; i < n; i++) {
        if (gap_us)
            sleep_us(gap_us);
        uint64_t t0 = now_ns();
        int rc = rt(b);
        uint64_t t1 = now_ns();
        if (rc < 0)
            return rc;
        b->samples[i] = t1 - t0;
    }
    lat_summarize(b->samples, n, st);
    return 0;
}

static int warm_up(struct bench *b, round_trip rt, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = rt(b);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void print_row(const char *name, const struct lat_stats *s)
{
    printf("  %-26s %9.2f %9.2f %9.2f %9.2f %10.2f  (%zu)\n", name, s->median_us, s->p99_us,
           s->mean_us, s->min_us, s->max_us, s->n);
}

struct ring_sample {
    uint64_t sleeps, spins_won;
};

static struct ring_sample server_ring(const struct bench *b)
{
    struct ring_sample r = {__atomic_load_n(&b->board->in_sleeps, __ATOMIC_RELAXED),
                            __atomic_load_n(&b->board->in_spins_won, __ATOMIC_RELAXED)};
    return r;
}

static struct ring_sample client_ring(const struct bench *b)
{
    struct ring_sample r = {b->dev.rsp.sleeps, b->dev.rsp.spins_won};
    return r;
}

static void print_waits(const char *phase, struct ring_sample s0, struct ring_sample s1,
                        struct ring_sample c0, struct ring_sample c1, size_t n)
{
    printf("  %-26s server: %zu won by spinning, %zu slept; client: %zu won by spinning, %zu "
           "slept (of %zu)\n", phase, (size_t)(s1.spins_won - s0.spins_won),
           (size_t)(s1.sleeps - s0.sleeps), (size_t)(c1.spins_won - c0.spins_won),
           (size_t)(c1.sleeps - c0.sleeps), n);
}

static int run(struct bench *b)
{
    struct lat_stats pipe_hot, pipe_cold, futex_hot, futex_cold, ipc_hot, ipc_cold, ipc_rehot;
    size_t warm = b->opt.hot / 10 + 1;
    int rc;
    char c = BENCH_PIPE_QUIT;

    if ((rc = warm_up(b, rt_pipe, warm)) < 0 || (rc = measure(b, rt_pipe, b->opt.hot, 0, &pipe_hot)) < 0 ||
        (rc = measure(b, rt_pipe, b->opt.cold, b->opt.gap_us, &pipe_cold)) < 0)
        return fail("pipe round trip", rc);
    if (write(b->pipe_to[1], &c, 1) != 1)
        return fail("pipe", -errno);

    if ((rc = warm_up(b, rt_futex, warm)) < 0 || (rc = measure(b, rt_futex, b->opt.hot, 0, &futex_hot)) < 0 ||
        (rc = measure(b, rt_futex, b->opt.cold, b->opt.gap_us, &futex_cold)) < 0)
        return fail("futex round trip", rc);
    __atomic_store_n(&b->board->futex_word, BENCH_FUTEX_QUIT, __ATOMIC_RELEASE);
    bench_futex_wake(&b->board->futex_word);

    if ((rc = warm_up(b, rt_ipc, warm)) < 0)
        return fail("ipc round trip", rc);
    struct ring_sample s0 = server_ring(b), c0 = client_ring(b);
    if ((rc = measure(b, rt_ipc, b->opt.hot, 0, &ipc_hot)) < 0)
        return fail("ipc round trip", rc);
    struct ring_sample s1 = server_ring(b), c1 = client_ring(b);
    if ((rc = measure(b, rt_ipc, b->opt.cold, b->opt.gap_us, &ipc_cold)) < 0)
        return fail("ipc round trip", rc);
    struct ring_sample s2 = server_ring(b), c2 = client_ring(b);
    /* Back to busy after an idle stretch: does the channel return to spinning? */
    if ((rc = measure(b, rt_ipc, b->opt.hot, 0, &ipc_rehot)) < 0)
        return fail("ipc round trip", rc);
    struct ring_sample s3 = server_ring(b), c3 = client_ring(b);

    printf("round trips, microseconds        median       p99      mean       min        max   (n)\n");
    print_row("pipe  hot", &pipe_hot);
    print_row("futex hot", &futex_hot);
    print_row("ipc   hot", &ipc_hot);
    char name[64];
    snprintf(name, sizeof name, "pipe  cold (%u us gap)", b->opt.gap_us);
    print_row(name, &pipe_cold);
    snprintf(name, sizeof name, "futex cold (%u us gap)", b->opt.gap_us);
    print_row(name, &futex_cold);
    snprintf(name, sizeof name, "ipc   cold (%u us gap)", b->opt.gap_us);
    print_row(name, &ipc_cold);
    print_row("ipc   hot after cold", &ipc_rehot);
    printf("ring waits (a wait that found the message already there counts as neither):\n");
    print_waits("ipc hot", s0, s1, c0, c1, b->opt.hot);
    print_waits("ipc cold", s1, s2, c1, c2, b->opt.cold);
    print_waits("ipc hot after cold", s2, s3, c2, c3, b->opt.hot);

    double ratio = ipc_hot.median_us > 0 ? pipe_hot.median_us / ipc_hot.median_us : 0;
    printf("ipc hot median %.2f us (pipe %.2f us, futex %.2f us): %.1fx faster than pipe\n",
           ipc_hot.median_us, pipe_hot.median_us, futex_hot.median_us, ratio);
    printf("ipc cold median %.2f us (pipe %.2f us, futex %.2f us); ipc hot after cold median "
           "%.2f us\n", ipc_cold.median_us, pipe_cold.median_us, futex_cold.median_us,
           ipc_rehot.median_us);
    bool met = ipc_hot.median_us <= 2.0 && ratio >= 5.0;
    printf("target (hot median <= 2 us and >= 5x faster than pipe): %s\n", met ? "met" : "MISSED");
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: cloister-bench-ipc [--iterations N] [--cold-iterations N] [--cold-gap-us US]\n"
               "                          [--fifo PRIO] [--policy FILE]\n"
               "  --iterations N        hot round trips per transport (default 100000)\n"
               "  --cold-iterations N   cold round trips per transport (default 2000)\n"
               "  --cold-gap-us US      idle time before each cold round trip (default 1000)\n"
               "  --fifo PRIO           run both halves SCHED_FIFO at PRIO (1..99; needs CAP_SYS_NICE):\n"
               "                        approximates a core of their own on a machine shared with\n"
               "                        other work (spinning is bounded and the kernel's RT\n"
               "                        throttling leaves the rest of the system 5%% of each CPU)\n"
               "  --policy FILE         the server's seccomp policy (default %s)\n",
            BENCH_POLICY_DEFAULT);
}

static int parse_count(const char *s, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *s == '\0' || *end || *s == '-' || v == 0 || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    o->hot = 100000;
    o->cold = 2000;
    o->gap_us = 1000;
    o->policy = BENCH_POLICY_DEFAULT;
    for (int i = 1; i < argc; i++) {
        size_t v;
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc)
            return -1;
        const char *val = argv[++i];
        if (strcmp(a, "--iterations") == 0 && parse_count(val, 100000000, &v) == 0)
            o->hot = v;
        else if (strcmp(a, "--cold-iterations") == 0 && parse_count(val, 10000000, &v) == 0)
            o->cold = v;
        else if (strcmp(a, "--cold-gap-us") == 0 && parse_count(val, 10000000, &v) == 0)
            o->gap_us = (unsigned)v;
        else if (strcmp(a, "--fifo") == 0 && parse_count(val, 99, &v) == 0)
            o->fifo = (int)v;
        else if (strcmp(a, "--policy") == 0)
            o->policy = val;
        else
            return -1;
    }
    return 0;
}

static void cleanup(struct bench *b)
{
    if (b->child.pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, b->child.pidfd, SIGKILL, NULL, 0);
        waitid(P_PIDFD, (id_t)b->child.pidfd, NULL, WEXITED);
        close(b->child.pidfd);
    }
    int fds[] = {b->bpf_fd, b->kick_fd, b->pipe_to[0], b->pipe_to[1], b->pipe_from[0], b->pipe_from[1]};
    for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    region_destroy(&b->ctl_region);
    region_destroy(&b->dev_region);
    region_destroy(&b->board_region);
    free(b->samples);
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    if (strcmp(base ? base + 1 : argv[0], BENCH_SERVER_ARGV0) == 0)
        return bench_server_main(argc, argv);

    static struct bench b;
    memset(&b, 0, sizeof b);
    b.bpf_fd = b.kick_fd = -1;
    b.pipe_to[0] = b.pipe_to[1] = b.pipe_from[0] = b.pipe_from[1] = -1;
    b.child.pidfd = -1;
    if (parse_options(argc, argv, &b.opt) < 0) {
        usage(stderr);
        return 2;
    }
    size_t most = b.opt.hot > b.opt.cold ? b.opt.hot : b.opt.cold;
    b.samples = calloc(most, sizeof *b.samples);
    if (!b.samples)
        return fail("samples", -ENOMEM);
    signal(SIGPIPE, SIG_IGN);
    if (b.opt.fifo) {
        /* Set before the server is spawned: it inherits the policy through clone. */
        struct sched_param sp = {.sched_priority = b.opt.fifo};
        if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
            free(b.samples);
            return fail("SCHED_FIFO", -errno);
        }
    }
    int status = 1;
    if (compile_policy(b.opt.policy, &b.bpf_fd) == 0 && make_regions(&b) == 0 &&
        start_server(&b) == 0) {
        char ns[80];
        printf("cloister-bench-ipc: %zu hot and %zu cold round trips per transport%s; server pid "
               "%d sandboxed (namespaces: %s; seccomp policy %s)\n", b.opt.hot, b.opt.cold,
               b.opt.fifo ? ", SCHED_FIFO" : "", (int)b.child.pid,
               ns_names(b.child.ns_flags, ns, sizeof ns), b.opt.policy);
        fflush(stdout);
        status = run(&b);
        if (stop_server(&b) != 0)
            status = 1;
    }
    cleanup(&b);
    return status;
}
