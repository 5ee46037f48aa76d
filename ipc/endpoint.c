/*
 * endpoint.c - component start-up (see endpoint.h). Runs before the seccomp filter exists, so it
 * may use syscalls the policy forbids later (sigaction, fstat, close); after endpoint_init()
 * returns, only the component's policy applies.
 *
 * The SIGSYS handler needs the report page without arguments, so one static pointer exists,
 * set once here before the filter is loaded (the only mutable global in cloister).
 */
#define _GNU_SOURCE
#include "ipc/endpoint.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static struct violation_report *violation_page;

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    long a[6] = {g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9]};
    struct violation_report *r = violation_page;

    (void)sig;
    if (r) {
        r->nr = (uint32_t)si->si_syscall;
        r->arch = si->si_arch;
        for (int i = 0; i < 6; i++)
            r->args[i] = (uint64_t)a[i];
        r->ip = (uint64_t)(uintptr_t)si->si_call_addr;
        __atomic_store_n(&r->magic, VIOLATION_MAGIC, __ATOMIC_RELEASE);
    }
    /* Re-issue the forbidden call while SIGSYS is blocked in this handler: the filter traps it
     * again, and the kernel, finding SIGSYS blocked, resets it to the default action and kills
     * the process with SIGSYS. The call itself never runs. */
    syscall(si->si_syscall, a[0], a[1], a[2], a[3], a[4], a[5]);
    syscall(SYS_exit_group, 128 + SIGSYS);
}

static int parse_fd(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 3 || v > 64)
        return -1;
    return (int)v;
}

static int load_filter(const char **why)
{
    struct stat st;
    if (fstat(ENDPOINT_BPF_FD, &st) < 0 || st.st_size <= 0 ||
        st.st_size % (off_t)sizeof(struct sock_filter) ||
        st.st_size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter))) {
        *why = "seccomp program fd 3 missing or malformed";
        return -EINVAL;
    }
    /* Copy the program out and release the fd and memory before loading, so that nothing of
     * it outlives the load (the kernel keeps its own copy). */
    void *prog = malloc((size_t)st.st_size);
    if (!prog || pread(ENDPOINT_BPF_FD, prog, (size_t)st.st_size, 0) != st.st_size) {
        *why = "cannot read seccomp program";
        free(prog);
        return -EIO;
    }
    close(ENDPOINT_BPF_FD);
    struct sock_fprog fp = {.len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter)),
                            .filter = prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0) {
        int err = -errno;
        *why = "cannot load seccomp filter";
        free(prog);
        return err;
    }
    /* free() of a block this size returns it to the heap without a system call. */
    free(prog);
    return 0;
}

int endpoint_init(struct endpoint *ep, enum component_kind kind, int argc, char **argv,
                  const struct endpoint_want *wants, unsigned nwants, const char **why)
{
    int fds[ENDPOINT_MAX_REGIONS];
    int ctl_fd = -1, rc;

    memset(ep, 0, sizeof *ep);
    ep->kind = kind;
    ep->kick_fd = -1;
    *why = "bad arguments";
    if (nwants > ENDPOINT_MAX_REGIONS)
        return -EINVAL;
    for (unsigned i = 0; i < nwants; i++)
        fds[i] = -1;
    for (int a = 1; a < argc; a++) {
        char *eq = strchr(argv[a], '=');
        if (!eq)
            return -EINVAL;
        *eq = '\0';
        int fd = parse_fd(eq + 1);
        if (fd < 0)
            return -EINVAL;
        if (strcmp(argv[a], "ctl") == 0)
            ctl_fd = fd;
        else if (strcmp(argv[a], "kick") == 0)
            ep->kick_fd = fd;
        else {
            unsigned i;
            for (i = 0; i < nwants && strcmp(wants[i].name, argv[a]) != 0; i++)
                ;
            if (i == nwants || fds[i] >= 0)
                return -EINVAL;
            fds[i] = fd;
        }
        *eq = '=';
    }
    if (ctl_fd < 0 || ep->kick_fd < 0) {
        *why = "ctl= and kick= are required";
        return -EINVAL;
    }
    for (unsigned i = 0; i < nwants; i++)
        if (fds[i] < 0) {
            *why = "a required region fd is missing";
            return -EINVAL;
        }

    /* Nobody else may ptrace or read our memory through /proc, even as the same uid. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    *why = "cannot map the control region";
    rc = region_map_fd(&ep->ctl_region, ctl_fd, PROT_READ | PROT_WRITE, 0);
    if (rc < 0)
        return rc;
    region_close_fd(&ep->ctl_region);
    if (ep->ctl_region.size < CTL_REPORT_BYTES + chan_bytes(CHAN_CTL))
        return -EINVAL;
    ep->report = ep->ctl_region.base;
    rc = chan_attach(&ep->ctl, (char *)ep->ctl_region.base + CTL_REPORT_BYTES,
                     ep->ctl_region.size - CTL_REPORT_BYTES, CHAN_CTL, true, false);
    if (rc < 0)
        return rc;
    ep->ctl.rsp.kick_fd = ep->kick_fd;

    for (unsigned i = 0; i < nwants; i++) {
        *why = "cannot map a region";
        rc = region_map_fd(&ep->regions[i], fds[i], wants[i].prot, 0);
        if (rc < 0)
            return rc;
        region_close_fd(&ep->regions[i]);
        ep->nregions = i + 1;
        if (wants[i].is_chan) {
            *why = "region too small for its channel";
            rc = chan_attach(&ep->chans[i], ep->regions[i].base, ep->regions[i].size,
                             wants[i].kind, !wants[i].client, false);
            if (rc < 0)
                return rc;
        }
    }

    return 0;
}

int endpoint_seal(struct endpoint *ep, const char **why)
{
    violation_page = ep->report;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    *why = "cannot install the SIGSYS reporter";
    if (sigaction(SIGSYS, &sa, NULL) < 0)
        return -errno;
    return load_filter(why);
}

int endpoint_handshake(struct endpoint *ep)
{
    struct msg m;
    struct msg_hello h = {.kind = ep->kind, .version = CLOISTER_IPC_VERSION, .seccomp_mode = 2};
    msg_set(&m, MSG_CTL_HELLO, &h, sizeof h);
    int rc = chan_send_wait(&ep->ctl, &m, 5000);
    if (rc < 0)
        return rc;
    for (;;) {
        rc = chan_recv_wait(&ep->ctl, &m, -1);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc < 0)
            return rc;
        if (m.type == MSG_CTL_START)
            return 0;
        if (m.type == MSG_CTL_STOP)
            return -ECANCELED;
        if (m.type == MSG_CTL_PING) {
            m.type = MSG_CTL_PONG;
            rc = chan_send_wait(&ep->ctl, &m, 1000);
            if (rc < 0)
                return rc;
        } else if (ep->on_ctl) {
            ep->on_ctl(ep->ctl_ctx, &m);
        }
    }
}

int endpoint_start(struct endpoint *ep, const char *name)
{
    const char *why;
    int rc = endpoint_seal(ep, &why);
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", name, why, strerror(-rc));
        return 1;
    }
    rc = endpoint_handshake(ep);
    if (rc == -ECANCELED)
        return 0;
    return rc < 0 ? 1 : ENDPOINT_GO;
}

void endpoint_log(struct endpoint *ep, int level, const char *text)
{
    struct msg m;
    struct msg_log l;
    memset(&l, 0, sizeof l);
    l.level = (uint8_t)level;
    for (size_t i = 0; text[i] && l.n < sizeof l.text; i++)
        l.text[l.n++] = (text[i] >= 0x20 && text[i] <= 0x7e) ? text[i] : '?';
    msg_set(&m, MSG_CTL_LOG, &l, sizeof l);
    chan_send_wait(&ep->ctl, &m, 1000);
}

/* The sandbox self-test: attempt a call the policy forbids. The filter traps it and the
 * component dies by SIGSYS; if any of these ever returns, the policy is wrong, and saying so on
 * the diagnostics pipe makes the test fail loudly. */
static void selftest(unsigned what)
{
    static char empty[] = "";
    char *argv[] = {empty, NULL};
    static const char msg[] = "selftest: a forbidden call was allowed\n";
    switch (what) {
    case SELFTEST_OPENAT:
        syscall(SYS_openat, -100, "/etc/passwd", 0);
        break;
    case SELFTEST_SOCKET:
        syscall(SYS_socket, 2, 1, 0);
        break;
    case SELFTEST_EXECVE:
        syscall(SYS_execve, "/bin/sh", argv, argv + 1);
        break;
    case SELFTEST_PTRACE:
        syscall(SYS_ptrace, 0, 0, 0, 0);
        break;
    case SELFTEST_MPROTECT_EXEC:
        syscall(SYS_mprotect, (uintptr_t)&selftest & ~(uintptr_t)4095, 4096, 7);
        break;
    }
    if (write(2, msg, sizeof msg - 1) < 0) {
    }
}

int endpoint_poll_ctl(struct endpoint *ep)
{
    struct msg m;
    int rc;
    while ((rc = chan_recv(&ep->ctl, &m)) == 0) {
        if (m.type == MSG_CTL_STOP)
            return -ECANCELED;
        if (m.type == MSG_CTL_PING) {
            m.type = MSG_CTL_PONG;
            rc = chan_send_wait(&ep->ctl, &m, 1000);
            if (rc < 0)
                return rc;
        } else if (m.type == MSG_CTL_SELFTEST) {
            selftest(((const struct msg_selftest *)m.payload)->what);
        } else if (ep->on_ctl) {
            ep->on_ctl(ep->ctl_ctx, &m);
        }
    }
    return rc == -EAGAIN ? 0 : rc;
}

int endpoint_serve(struct endpoint *ep, struct chan *chan, endpoint_handler handler, void *ctx)
{
    struct msg req, rsp;
    unsigned served = 0;
    for (;;) {
        int rc = chan_recv_wait(chan, &req, 100);
        /* A busy channel must not starve control: look at it every 256 requests too. */
        if (rc == 0 && (++served & 255) == 0) {
            int crc = endpoint_poll_ctl(ep);
            if (crc == -ECANCELED)
                return 0;
            if (crc < 0)
                return crc;
        }
        if (rc == 0) {
            rc = handler(ctx, &req, &rsp);
            if (rc < 0)
                return rc;
            if (rc == 1 && (rc = chan_send_wait(chan, &rsp, 1000)) < 0)
                return rc;
            continue;
        }
        if (rc != -ETIMEDOUT)
            return rc;
        rc = endpoint_poll_ctl(ep);
        if (rc == -ECANCELED)
            return 0;
        if (rc < 0)
            return rc;
    }
}
