/*
 * runner.c - the two ways of running a test kernel (see runner.h).
 */
#define _GNU_SOURCE
#include "tests/sysoracle/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor/loader.h"
#include "tests/sysoracle/blob.h"
#include "translator/frontend.h"
#include "vcpu/run.h"

const char *so_end_name(enum so_end e)
{
    switch (e) {
    case SO_END_CLEAN: return "finished";
    case SO_END_TRIPLE: return "triple fault";
    case SO_END_TIMEOUT: return "timeout";
    case SO_END_BUDGET: return "instruction budget spent";
    case SO_END_HALT: return "HLT with interrupts enabled";
    case SO_END_BAD_BLOCK: return "malformed translated block";
    default: return "could not run";
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct outbuf {
    char *p;
    size_t len, cap;
    bool full;
};

static void ob_put(struct outbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (b->len + n + 1 > cap && cap < SO_OUTPUT_MAX)
            cap *= 2;
        if (b->len + n + 1 > cap) {
            b->full = true;
            return;
        }
        char *q = realloc(b->p, cap);
        if (!q) {
            b->full = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void finish_output(struct so_run *run, struct outbuf *b)
{
    if (!b->p)
        ob_put(b, "", 0);
    run->out = b->p;
    run->len = b->len;
}

void so_run_free(struct so_run *run)
{
    free(run->out);
    run->out = NULL;
}

int so_have_program(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char dir[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n && n < sizeof dir - 1) {
            char full[8192];
            memcpy(dir, path, n);
            dir[n] = 0;
            snprintf(full, sizeof full, "%s/%s", dir, prog);
            if (access(full, X_OK) == 0)
                return 1;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

/* ---- QEMU ---- */

/* CPU time (user + system, all threads) the child has used, from /proc; -1 if unknown */
static double child_cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may contain spaces */
    if (!p)
        return -1;
    unsigned long long utime = 0, stime = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (double)(utime + stime) / (double)hz : -1;
}

static int write_temp(const uint8_t *img, size_t size, char *path, size_t pathlen)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, pathlen, "%s/cloister-sysoracle-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, img + done, size - done);
        if (w <= 0) {
            close(fd);
            unlink(path);
            return -1;
        }
        done += (size_t)w;
    }
    close(fd);
    return 0;
}

int so_run_qemu(const char *qemu, const char *cpu, const uint8_t *img, size_t size, unsigned timeout_ms,
                struct so_run *run)
{
    memset(run, 0, sizeof *run);
    struct outbuf b = {0};
    char path[4096];
    double t0 = now();
    if (write_temp(img, size, path, sizeof path) < 0) {
        run->end = SO_END_ERROR;
        snprintf(run->why, sizeof run->why, "cannot write the kernel image: %s", strerror(errno));
        finish_output(run, &b);
        return -1;
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        unlink(path);
        run->end = SO_END_ERROR;
        snprintf(run->why, sizeof run->why, "pipe: %s", strerror(errno));
        finish_output(run, &b);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        char *argv[] = {(char *)qemu, "-machine", "pc", "-cpu", (char *)cpu, "-m", "32", "-nographic",
                        "-no-reboot", "-net", "none", "-kernel", path, "-serial", "stdio", "-monitor",
                        "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", NULL};
        execvp(qemu, argv);
        dprintf(1, "\n@SO X cannot execute %s: %s\n", qemu, strerror(errno));
        _exit(127);
    }
    close(out[1]);
    if (pid < 0) {
        close(out[0]);
        unlink(path);
        run->end = SO_END_ERROR;
        snprintf(run->why, sizeof run->why, "fork: %s", strerror(errno));
        finish_output(run, &b);
        return -1;
    }
    bool timed_out = false;
    double last = now(), last_cpu = 0;
    for (;;) {
        int left = (int)(timeout_ms - (now() - t0) * 1000);
        int idle = (int)(SO_QEMU_IDLE_MS - (now() - last) * 1000);
        double used = child_cpu_seconds(pid);
        if (used >= 0 && (used - last_cpu) * 1000 >= SO_QEMU_IDLE_CPU_MS)
            left = 0; /* busy without printing: hung */
        if (idle < left)
            left = idle;
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {out[0], POLLIN, 0};
        int pr = poll(&pfd, 1, left < 100 ? left : 100);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            break;
        if (pr == 0)
            continue;
        char chunk[65536];
        ssize_t n = read(out[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        last = now();
        double c = child_cpu_seconds(pid);
        if (c >= 0)
            last_cpu = c;
        ob_put(&b, chunk, (size_t)n);
    }
    if (timed_out)
        kill(pid, SIGKILL);
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    unlink(path);
    run->seconds = now() - t0;
    run->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (timed_out)
        run->end = SO_END_TIMEOUT;
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
        run->end = SO_END_CLEAN; /* isa-debug-exit: (0 << 1) | 1 */
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        run->end = SO_END_TRIPLE; /* -no-reboot: a reset (triple fault) shuts QEMU down */
    else {
        run->end = SO_END_ERROR;
        snprintf(run->why, sizeof run->why, "%s exited with status %d", qemu, run->exit_status);
    }
    finish_output(run, &b);
    return run->end == SO_END_ERROR ? -1 : 0;
}

/* ---- cloister ---- */

struct clo_io {
    struct outbuf *b;
    bool exit_port;
    uint64_t ticks;
};

static uint32_t clo_in(void *ctx, uint16_t port, unsigned size)
{
    (void)ctx;
    if (port == 0x3FD && size == 1)
        return 0x60; /* LSR: transmitter empty */
    return size == 1 ? 0xFF : size == 2 ? 0xFFFF : 0xFFFFFFFFu;
}

static void clo_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    struct clo_io *io = ctx;
    if (port == 0x3F8 && size == 1) {
        char c = (char)value;
        ob_put(io->b, &c, 1);
    } else if (port == 0xF4) {
        io->exit_port = true;
    }
}

static uint64_t clo_tsc(void *ctx)
{
    struct clo_io *io = ctx;
    return io->ticks += 1000;
}

int so_run_cloister(const uint8_t *img, size_t size, uint64_t budget, struct so_run *run)
{
    memset(run, 0, sizeof *run);
    struct outbuf b = {0};
    double t0 = now();
    uint8_t *ram = aligned_alloc(4096, SO_RAM_SIZE);
    struct vcpu *v = calloc(1, sizeof *v);
    struct fe_inproc *fe = calloc(1, sizeof *fe);
    int rc = -1;
    if (!ram || !v || !fe) {
        run->end = SO_END_ERROR;
        snprintf(run->why, sizeof run->why, "out of memory");
        goto out;
    }
    memset(ram, 0, SO_RAM_SIZE);
    struct msg_boot boot;
    struct loader_error lerr;
    if (multiboot_load(img, size, "", ram, SO_RAM_SIZE, &boot, &lerr) < 0) {
        run->end = SO_END_ERROR;
        snprintf(run->why, sizeof run->why, "multiboot_load: %s", lerr.msg);
        goto out;
    }
    if (vcpu_init(v, ram, SO_RAM_SIZE, 16u << 20) < 0) {
        run->end = SO_END_ERROR;
        snprintf(run->why, sizeof run->why, "vcpu_init failed");
        goto out;
    }
    fe->ram = ram;
    fe->ram_size = SO_RAM_SIZE;
    v->src.ctx = fe;
    v->src.translate = fe_translate_inproc;
    struct clo_io io = {&b, false, 0};
    v->eng.io = (struct engine_io){&io, clo_in, clo_out, clo_tsc};
    engine_flat32(&v->cpu, 0);
    v->cpu.eip = boot.entry;
    v->cpu.r[IR_EAX] = boot.eax;
    v->cpu.r[IR_EBX] = boot.ebx;
    v->cpu.r[IR_ESI] = boot.esi;
    v->cpu.r[IR_ESP] = boot.esp;
    for (;;) {
        int stop = vcpu_run(v, 1u << 20);
        if (stop == VCPU_HALT_DEAD) {
            run->end = SO_END_CLEAN;
            break;
        }
        if (stop == VCPU_TRIPLE) {
            run->end = SO_END_TRIPLE;
            break;
        }
        if (stop == VCPU_BAD_BLOCK) {
            run->end = SO_END_BAD_BLOCK;
            break;
        }
        if (stop == VCPU_HALTED) {
            run->end = SO_END_HALT;
            break;
        }
        if (v->insns >= budget) {
            run->end = SO_END_BUDGET;
            break;
        }
    }
    if (run->end != SO_END_CLEAN)
        snprintf(run->why, sizeof run->why, "%s at EIP 0x%08x CS 0x%04x", so_end_name(run->end), v->cpu.eip,
                 v->cpu.seg[IR_CS].sel);
    run->insns = v->insns;
    vcpu_free(v);
    rc = 0;
out:
    free(fe);
    free(v);
    free(ram);
    run->seconds = now() - t0;
    finish_output(run, &b);
    return rc;
}
