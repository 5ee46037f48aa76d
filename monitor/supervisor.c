/*
 * supervisor.c - the monitor's event loop: it watches every component through its pidfd, reads
 * their control channels when they kick us, serves the API socket and handles signals. Any
 * component death outside an orderly stop, any malformed control message, and any seccomp
 * violation stops the whole VM; teardown then leaves nothing behind.
 *
 * The monitor sleeps in epoll_wait: it is never on the guest's hot path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/api.h"
#include "monitor/audit.h"
#include "monitor/ctl_msg.h"
#include "monitor/vm.h"

#define START_TIMEOUT_MS 10000
#define STOP_GRACE_MS 500

enum ev_kind { EV_PIDFD = 1, EV_KICK, EV_STDERR, EV_SIGNAL, EV_API };

static uint64_t ev_key(enum ev_kind kind, unsigned idx) { return (uint64_t)kind << 32 | idx; }

static int watch(struct vm *vm, int fd, enum ev_kind kind, unsigned idx)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ev_key(kind, idx)};
    return epoll_ctl(vm->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void vm_request_stop(struct vm *vm, const char *why, int status)
{
    if (vm->state == VM_STOPPING || vm->state == VM_STOPPED)
        return;
    snprintf(vm->stop_reason, sizeof vm->stop_reason, "%s", why);
    vm->exit_status = status;
    vm->state = VM_STOPPING;
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        struct vm_component *c = &vm->comp[k];
        struct msg m;
        if (c->state == COMP_DEAD || c->ctl.broken)
            continue;
        msg_set(&m, MSG_CTL_STOP, NULL, 0);
        chan_send(&c->ctl, &m);
    }
}

struct violation_event {
    const char *component;
    char syscall[64];
    uint64_t args[6];
    uint64_t ip;
    int pid;
};

static int write_violation(void *ctx, struct jbuf *out)
{
    const struct violation_event *v = ctx;
    jbuf_member_string(out, "component", v->component);
    jbuf_member_int64(out, "pid", v->pid);
    jbuf_member_string(out, "syscall", v->syscall);
    jbuf_key(out, "args");
    jbuf_array_begin(out);
    for (int i = 0; i < 6; i++)
        jbuf_uint64(out, v->args[i]);
    jbuf_array_end(out);
    jbuf_member_uint64(out, "ip", v->ip);
    return 0;
}

struct exit_event {
    const char *component;
    int pid, code, signal;
    bool expected;
};

static int write_exit(void *ctx, struct jbuf *out)
{
    const struct exit_event *e = ctx;
    jbuf_member_string(out, "component", e->component);
    jbuf_member_int64(out, "pid", e->pid);
    if (e->signal)
        jbuf_member_string(out, "signal", strsignal(e->signal));
    else
        jbuf_member_int64(out, "exit-code", e->code);
    jbuf_member_bool(out, "expected", e->expected);
    return 0;
}

/* The report page is written by a process we no longer trust: copy it, then check it. */
static bool read_violation(struct vm_component *c, struct violation_event *v)
{
    struct violation_report r;
    memcpy(&r, c->report, sizeof r);
    if (r.magic != VIOLATION_MAGIC)
        return false;
    memset(v, 0, sizeof *v);
    v->component = component_name(c->kind);
    v->pid = c->child.pid;
    memcpy(v->args, r.args, sizeof v->args);
    v->ip = r.ip;
    char *name = NULL;
    if (r.arch == SCMP_ARCH_X86_64 && r.nr < 1024)
        name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, (int)r.nr);
    if (name)
        snprintf(v->syscall, sizeof v->syscall, "%s", name);
    else
        snprintf(v->syscall, sizeof v->syscall, "syscall-%u(arch 0x%x)", r.nr, r.arch);
    free(name);
    return true;
}

static void on_exit_of(struct vm *vm, struct vm_component *c)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PIDFD, (id_t)c->child.pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
        return;
    c->state = COMP_DEAD;
    epoll_ctl(vm->epfd, EPOLL_CTL_DEL, c->child.pidfd, NULL);
    struct exit_event e = {component_name(c->kind), c->child.pid, 0, 0, vm->state == VM_STOPPING};
    if (si.si_code == CLD_EXITED)
        c->exit_code = e.code = si.si_status;
    else
        c->exit_signal = e.signal = si.si_status;

    struct violation_event v;
    if (read_violation(c, &v)) {
        fprintf(stderr,
                "cloister: %s (pid %d) violated its seccomp policy: %s(0x%llx, 0x%llx, 0x%llx, "
                "0x%llx, 0x%llx, 0x%llx) at ip 0x%llx; killed by %s\n",
                v.component, v.pid, v.syscall, (unsigned long long)v.args[0],
                (unsigned long long)v.args[1], (unsigned long long)v.args[2],
                (unsigned long long)v.args[3], (unsigned long long)v.args[4],
                (unsigned long long)v.args[5], (unsigned long long)v.ip,
                e.signal ? strsignal(e.signal) : "exit");
        api_server_broadcast(vm, "SECCOMP_VIOLATION", write_violation, &v);
        char why[160];
        snprintf(why, sizeof why, "%s violated its seccomp policy (%s)", v.component, v.syscall);
        vm_request_stop(vm, why, 1);
        vm->exit_status = 1;
    } else if (e.signal == SIGSYS) {
        fprintf(stderr, "cloister: %s (pid %d) was killed by SIGSYS without a report "
                "(a non-native system call ABI, which its filter kills outright)\n",
                e.component, e.pid);
        vm_request_stop(vm, "seccomp violation (non-native ABI)", 1);
        vm->exit_status = 1;
    } else if (!e.expected) {
        if (e.signal)
            fprintf(stderr, "cloister: %s (pid %d) was killed by signal %d (%s)\n", e.component,
                    e.pid, e.signal, strsignal(e.signal));
        else
            fprintf(stderr, "cloister: %s (pid %d) exited with status %d\n", e.component, e.pid,
                    e.code);
        char why[160];
        snprintf(why, sizeof why, "%s died", e.component);
        vm_request_stop(vm, why, 1);
        vm->exit_status = 1;
    }
    api_server_broadcast(vm, "COMPONENT_EXIT", write_exit, &e);
}

static void drain_stderr(struct vm_component *c)
{
    char buf[512];
    ssize_t n;
    while ((n = read(c->stderr_rd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            char ch = buf[i];
            if (ch == '\n' || c->errlen == sizeof c->errline - 1) {
                c->errline[c->errlen] = '\0';
                fprintf(stderr, "cloister: [%s] %s\n", component_name(c->kind), c->errline);
                c->errlen = 0;
                if (ch == '\n')
                    continue;
            }
            c->errline[c->errlen++] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
        }
    }
}

static bool all_in_state(struct vm *vm, enum comp_state s)
{
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++)
        if (vm->comp[k].state != s)
            return false;
    return true;
}

static int write_up(void *ctx, struct jbuf *out)
{
    const struct vm *vm = ctx;
    jbuf_member_int64(out, "components", COMP_KIND_COUNT);
    jbuf_member_uint64(out, "worst-link-rtt-ns", vm->worst_link_ns);
    jbuf_member_uint64(out, "startup-ns", vm_now_ns() - vm->started_ns);
    return 0;
}

static void console_out(const uint8_t *data, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(STDOUT_FILENO, data + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

/* What a message means is decided by ctl_interpret() (monitor/ctl_msg.c); this carries it out. */
static void handle_ctl(struct vm *vm, struct vm_component *c, const struct msg *m)
{
    struct ctl_action a;
    ctl_interpret(m, c->kind, c->state == COMP_STARTED, &a);
    switch (a.kind) {
    case CTL_ACT_HOSTILE:
        fprintf(stderr, "cloister: %s: %s: treating it as hostile\n", component_name(c->kind),
                a.why);
        vm_request_stop(vm, a.why, 1);
        return;
    case CTL_ACT_HELLO: {
        /* Trust the kernel, not the component's word: it must be filtered and powerless now,
         * before it gets START and before the guest runs. */
        struct audit_confinement_error ce;
        if (audit_check_confined(c->child.pid, &ce) < 0) {
            fprintf(stderr, "cloister: %s (pid %d) %s: refusing to start the VM\n",
                    component_name(c->kind), c->child.pid, ce.msg);
            vm_request_stop(vm, "a component is not confined", 1);
            return;
        }
        c->state = COMP_HELLO;
        if (all_in_state(vm, COMP_HELLO)) {
            if (vm->have_boot) {
                struct msg b;
                msg_set(&b, MSG_CTL_BOOT, &vm->boot, sizeof vm->boot);
                chan_send(&vm->comp[COMP_VCPU].ctl, &b);
            }
            for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
                struct msg s;
                msg_set(&s, MSG_CTL_START, NULL, 0);
                chan_send(&vm->comp[k].ctl, &s);
                vm->comp[k].state = COMP_RUNNING;
            }
        }
        break;
    }
    case CTL_ACT_LOG: {
        char line[128];
        ctl_format_log(line, sizeof line, c->kind, &a);
        fputs(line, stderr);
        break;
    }
    case CTL_ACT_CONSOLE:
        console_out(a.data, a.len);
        break;
    case CTL_ACT_LINKS_UP: {
        vm->worst_link_ns = a.worst_rtt_ns;
        vm->state = VM_RUNNING;
        fprintf(stderr, "cloister: all %d components up in %.1f ms (%u peer links, worst "
                "first round trip %.1f us)\n", COMP_KIND_COUNT,
                (double)(vm_now_ns() - vm->started_ns) / 1e6, a.peers, a.worst_rtt_ns / 1e3);
        api_server_broadcast(vm, "VM_UP", write_up, vm);
        if (vm->cfg.selftest_comp >= 0) {
            struct msg t;
            struct msg_selftest st = {vm->cfg.selftest_call, 0};
            msg_set(&t, MSG_CTL_SELFTEST, &st, sizeof st);
            chan_send(&vm->comp[vm->cfg.selftest_comp].ctl, &t);
        } else if (vm->cfg.exit_when_up) {
            vm_request_stop(vm, "components up (--exit-when-up)", 0);
        }
        break;
    }
    case CTL_ACT_VM_STOP:
        vm_request_stop(vm, a.why, a.status);
        break;
    case CTL_ACT_NONE:
        break; /* PONG and friends: liveness only */
    }
}

static void on_kick(struct vm *vm, struct vm_component *c)
{
    uint64_t v;
    struct msg m;
    int rc;
    /* A receive that fails on the ring indices copies nothing: report type 0, not stack bytes. */
    memset(&m, 0, sizeof m);
    if (read(c->kick_fd, &v, sizeof v) < 0 && errno != EAGAIN)
        return;
    while ((rc = chan_recv(&c->ctl, &m)) == 0)
        handle_ctl(vm, c, &m);
    if (rc == -EPROTO) {
        fprintf(stderr, "cloister: %s sent a malformed control message (type %u): stopping\n",
                component_name(c->kind), m.type);
        epoll_ctl(vm->epfd, EPOLL_CTL_DEL, c->kick_fd, NULL);
        vm_request_stop(vm, "malformed control message", 1);
        vm->exit_status = 1;
    }
}

int vm_prepare(struct vm *vm, char *err, size_t errlen)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    vm->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    vm->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (vm->sigfd < 0 || vm->epfd < 0 || watch(vm, vm->sigfd, EV_SIGNAL, 0) < 0) {
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        return -errno;
    }
    return api_server_open(vm, err, errlen);
}

static int watch_components(struct vm *vm)
{
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        struct vm_component *c = &vm->comp[k];
        if (watch(vm, c->child.pidfd, EV_PIDFD, k) < 0 || watch(vm, c->kick_fd, EV_KICK, k) < 0 ||
            watch(vm, c->stderr_rd, EV_STDERR, k) < 0)
            return -errno;
    }
    return 0;
}

int vm_run(struct vm *vm)
{
    uint64_t stop_deadline = 0;
    uint64_t start_deadline = vm_now_ns() + (uint64_t)START_TIMEOUT_MS * 1000000u;

    if (watch_components(vm) < 0) {
        fprintf(stderr, "cloister: event loop: %s\n", strerror(errno));
        vm_teardown(vm);
        return 1;
    }
    while (vm->state != VM_STOPPED) {
        uint64_t now = vm_now_ns();
        int timeout = 1000;
        if (vm->state == VM_STARTING) {
            if (now >= start_deadline) {
                fprintf(stderr, "cloister: components did not come up within %d ms\n",
                        START_TIMEOUT_MS);
                vm_request_stop(vm, "start-up timeout", 1);
                continue;
            }
            timeout = (int)((start_deadline - now) / 1000000u) + 1;
        }
        if (vm->state == VM_STOPPING) {
            if (!stop_deadline)
                stop_deadline = now + (uint64_t)STOP_GRACE_MS * 1000000u;
            bool all_dead = true;
            for (unsigned k = 0; k < COMP_KIND_COUNT; k++)
                all_dead &= vm->comp[k].state == COMP_DEAD;
            if (all_dead || now >= stop_deadline)
                break;
            timeout = (int)((stop_deadline - now) / 1000000u) + 1;
        }
        struct epoll_event evs[16];
        int n = epoll_wait(vm->epfd, evs, 16, timeout);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            enum ev_kind kind = (enum ev_kind)(evs[i].data.u64 >> 32);
            unsigned idx = (unsigned)evs[i].data.u64;
            switch (kind) {
            case EV_PIDFD:
                on_exit_of(vm, &vm->comp[idx]);
                break;
            case EV_KICK:
                on_kick(vm, &vm->comp[idx]);
                break;
            case EV_STDERR:
                drain_stderr(&vm->comp[idx]);
                if (evs[i].events & (EPOLLHUP | EPOLLERR))
                    epoll_ctl(vm->epfd, EPOLL_CTL_DEL, vm->comp[idx].stderr_rd, NULL);
                break;
            case EV_SIGNAL: {
                struct signalfd_siginfo si;
                if (read(vm->sigfd, &si, sizeof si) == sizeof si) {
                    fprintf(stderr, "cloister: %s: stopping the VM\n", strsignal((int)si.ssi_signo));
                    vm_request_stop(vm, "signal", 0);
                }
                break;
            }
            case EV_API:
                api_server_event(vm, (int)idx, evs[i].events);
                break;
            }
        }
    }
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++)
        drain_stderr(&vm->comp[k]);
    if (vm->stop_reason[0])
        fprintf(stderr, "cloister: VM stopped: %s\n", vm->stop_reason);
    api_server_broadcast(vm, "VM_STOP", NULL, NULL);
    vm_teardown(vm);
    return vm->exit_status;
}
