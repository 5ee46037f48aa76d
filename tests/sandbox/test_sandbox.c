/*
 * test_sandbox.c - the sandbox, end to end, with the real binaries: every component dies by
 * SIGSYS on each forbidden call and the monitor names the component and the call; a component
 * killed with SIGKILL mid-run stops the VM cleanly; a live VM audits clean; bad policies stop
 * everything before it starts. After every case, nothing of the VM may remain: this process is
 * a child subreaper, so any component the monitor failed to reap would become our child.
 *
 * Runs serially (ctest RUN_SERIAL): the leftover check scans all of /proc for cloister memfds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/msg.h"
#include "monitor/api_client.h"

static char bin[512], src[512];

struct run {
    pid_t pid;
    int err_fd;
    char err[16384];
    size_t errlen;
    int status;
};

static void start(struct run *r, const char *const *args)
{
    int p[2];
    char exe[600];
    const char *argv[32];
    unsigned n = 0;
    snprintf(exe, sizeof exe, "%s/cloister", bin);
    argv[n++] = exe;
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    memset(r, 0, sizeof *r);
    r->pid = fork();
    assert_true(r->pid >= 0);
    if (r->pid == 0) {
        dup2(p[1], 2);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        execv(exe, (char **)argv);
        _exit(126);
    }
    close(p[1]);
    r->err_fd = p[0];
}

/* Collect stderr and the exit status (fails the test after 20 s). */
static void finish(struct run *r)
{
    time_t t0 = time(NULL);
    for (;;) {
        struct pollfd pfd = {r->err_fd, POLLIN, 0};
        if (poll(&pfd, 1, 200) > 0) {
            ssize_t n = read(r->err_fd, r->err + r->errlen, sizeof r->err - 1 - r->errlen);
            if (n > 0) {
                r->errlen += (size_t)n;
                continue;
            }
            if (n == 0)
                break;
        }
        if (time(NULL) - t0 >= 20) {
            /* Stop the VM before failing so that later cases start from a clean machine. */
            kill(r->pid, SIGTERM);
            waitpid(r->pid, &r->status, 0);
            r->err[r->errlen] = '\0';
            fail_msg("cloister did not finish within 20 s; stderr:\n%s", r->err);
        }
    }
    r->err[r->errlen] = '\0';
    close(r->err_fd);
    assert_int_equal(waitpid(r->pid, &r->status, 0), r->pid);
}

static int run_exit(struct run *r) { return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1; }

/* Nothing of any VM left: no child (components would be reparented to us), and no process
 * running one of this build's executables, let alone holding or mapping a cloister memfd. */
static void assert_no_leftovers(void)
{
    int st;
    /* A component that outlived its monitor is ours now: give the kernel a moment, then look. */
    for (int i = 0; i < 50; i++) {
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p < 0 && errno == ECHILD)
            break;
        assert_true(p == 0);
        usleep(20000);
        if (i == 49)
            fail_msg("a component process outlived its VM");
    }
    DIR *d = opendir("/proc");
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], line[512], exe[600];
        snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
        ssize_t xn = readlink(path, exe, sizeof exe - 1);
        if (xn <= 0)
            continue;
        exe[xn] = '\0';
        if (strncmp(exe, bin, strlen(bin)) != 0 || exe[strlen(bin)] != '/')
            continue; /* not ours: other programs may use memfds named like ours */
        if (atoi(e->d_name) == getpid())
            continue;
        if (strstr(exe, "/cloister-bench-") == NULL)
            fail_msg("pid %s still runs %s", e->d_name, exe);
        snprintf(path, sizeof path, "/proc/%s/maps", e->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f))
            if (strstr(line, "memfd:cloister:"))
                fail_msg("pid %s still maps %s", e->d_name, line);
        fclose(f);
        snprintf(path, sizeof path, "/proc/%s/fd", e->d_name);
        DIR *fd = opendir(path);
        if (!fd)
            continue;
        struct dirent *fe;
        while ((fe = readdir(fd))) {
            char link[300], target[300];
            snprintf(link, sizeof link, "%s/%s", path, fe->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n > 0) {
                target[n] = '\0';
                if (strstr(target, "memfd:cloister:"))
                    fail_msg("pid %s still holds %s", e->d_name, target);
            }
        }
        closedir(fd);
    }
    closedir(d);
}

static const char *const calls[] = {"openat", "socket", "execve", "ptrace", "mprotect-exec"};
static const char *const sysnames[] = {"openat", "socket", "execve", "ptrace", "mprotect"};

static void test_forbidden_calls_kill_each_component(void **state)
{
    (void)state;
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        for (unsigned c = 0; c < sizeof calls / sizeof calls[0]; c++) {
            char arg[64], want[128];
            struct run r;
            snprintf(arg, sizeof arg, "%s:%s", component_name(k), calls[c]);
            const char *args[] = {"run", "--selftest-violation", arg, NULL};
            start(&r, args);
            finish(&r);
            assert_int_equal(run_exit(&r), 1);
            snprintf(want, sizeof want, "cloister: %s (pid ", component_name(k));
            if (!strstr(r.err, want))
                fail_msg("%s: no report naming the component in:\n%s", arg, r.err);
            snprintf(want, sizeof want, "violated its seccomp policy: %s(", sysnames[c]);
            if (!strstr(r.err, want) || !strstr(r.err, "killed by Bad system call"))
                fail_msg("%s: no report naming %s and SIGSYS in:\n%s", arg, sysnames[c], r.err);
            assert_no_leftovers();
        }
    }
}

static void sock_path(char *out, size_t n, const char *tag)
{
    snprintf(out, n, "/tmp/cloister-test-%d-%s.sock", getpid(), tag);
}

/* Wait until the VM reports "running" (all components up and linked). */
static void wait_running(const char *sock)
{
    char reply[4096];
    struct api_client_error ce;
    for (int i = 0; i < 200; i++) {
        if (api_client_call(sock, "{\"execute\":\"query-status\"}", reply, sizeof reply, 1000, &ce) == 0 &&
            strstr(reply, "\"status\":\"running\""))
            return;
        usleep(25000);
    }
    fail_msg("the VM did not come up: %s", ce.msg);
}

static pid_t component_pid(const char *sock, const char *name)
{
    static char reply[65536];
    char key[64];
    struct api_client_error ce;
    assert_int_equal(api_client_call(sock, "{\"execute\":\"query-components\"}", reply,
                                     sizeof reply, 1000, &ce), 0);
    snprintf(key, sizeof key, "\"name\":\"%s\",\"pid\":", name);
    char *p = strstr(reply, key);
    assert_non_null(p);
    return (pid_t)atoi(p + strlen(key));
}

static void test_sigkill_each_component_stops_vm(void **state)
{
    (void)state;
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        char sock[128], want[128];
        struct run r;
        sock_path(sock, sizeof sock, component_name(k));
        const char *args[] = {"run", "--api-socket", sock, NULL};
        start(&r, args);
        wait_running(sock);
        pid_t victim = component_pid(sock, component_name(k));
        assert_true(victim > 1);
        assert_int_equal(kill(victim, SIGKILL), 0);
        finish(&r);
        assert_int_equal(run_exit(&r), 1);
        snprintf(want, sizeof want, "cloister: %s (pid %d) was killed by signal 9", component_name(k),
                 victim);
        if (!strstr(r.err, want))
            fail_msg("no report of the kill in:\n%s", r.err);
        struct stat st;
        assert_int_equal(stat(sock, &st), -1); /* the API socket is removed too */
        assert_no_leftovers();
    }
}

static void test_live_vm_audits_clean(void **state)
{
    (void)state;
    char sock[128], cmd[1024];
    struct run r;
    sock_path(sock, sizeof sock, "audit");
    const char *args[] = {"run", "--api-socket", sock, NULL};
    start(&r, args);
    wait_running(sock);
    snprintf(cmd, sizeof cmd, "%s/cloister audit --json --api-socket %s", bin, sock);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    static char out[1 << 18];
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("audit found violations:\n%s", out);
    assert_non_null(strstr(out, "\"violations\":0"));
    unsigned comps = 0;
    for (char *p = out; (p = strstr(p, "\"Seccomp\":2")); p++)
        comps++;
    assert_int_equal(comps, COMP_KIND_COUNT);
    comps = 0;
    for (char *p = out; (p = strstr(p, "\"NoNewPrivs\":1")); p++)
        comps++;
    assert_int_equal(comps, COMP_KIND_COUNT);
    comps = 0;
    for (char *p = out; (p = strstr(p, "\"CapEff\":\"0000000000000000\"")); p++)
        comps++;
    assert_int_equal(comps, COMP_KIND_COUNT);
    assert_null(strstr(out, "rwx"));
    char reply[256];
    struct api_client_error ce;
    assert_int_equal(api_client_call(sock, "{\"execute\":\"quit\"}", reply, sizeof reply, 1000, &ce), 0);
    finish(&r);
    assert_int_equal(run_exit(&r), 0);
    assert_no_leftovers();
}

static void test_exit_when_up(void **state)
{
    (void)state;
    struct run r;
    const char *args[] = {"run", "--exit-when-up", NULL};
    start(&r, args);
    finish(&r);
    if (run_exit(&r) != 0)
        fail_msg("exit %d:\n%s", run_exit(&r), r.err);
    assert_non_null(strstr(r.err, "all 4 components up"));
    assert_no_leftovers();
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_broken_policy_starts_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/cloister-policy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        snprintf(path, sizeof path, "%s/%s.policy", dir, component_name(k));
        write_file(path, k == COMP_MMU ? "exit_group\nwrite: arg9 == 1\n" : "exit_group\n");
    }
    struct run r;
    const char *args[] = {"run", "--exit-when-up", "--policy-dir", dir, NULL};
    start(&r, args);
    finish(&r);
    assert_int_equal(run_exit(&r), 2);
    snprintf(path, sizeof path, "%s/mmu.policy:2:", dir);
    if (!strstr(r.err, path))
        fail_msg("no file:line error in:\n%s", r.err);
    assert_null(strstr(r.err, "components up"));
    assert_no_leftovers();
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        snprintf(path, sizeof path, "%s/%s.policy", dir, component_name(k));
        unlink(path);
    }
    rmdir(dir);
}

static void test_bad_usage_exits_2(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        {"run", "--memory", "1K", NULL},     {"run", "--no-such-option", NULL, NULL},
        {"run", "--initrd", "/dev/null", NULL}, {"run", "--kernel", "/nonexistent", NULL},
        {"frobnicate", NULL, NULL, NULL},    {"audit", NULL, NULL, NULL},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r;
        start(&r, cases[i]);
        finish(&r);
        assert_int_equal(run_exit(&r), 2);
        assert_true(r.errlen > 0);
    }
    assert_no_leftovers();
}

/* The project's test guest, end to end: loader, vCPU, translator, engine, port I/O, serial
 * device, monitor console; HLT with interrupts off ends the VM with status 0. */
static void test_hello_guest(void **state)
{
    (void)state;
    char cmd[1024];
    static char out[65536];
    snprintf(cmd, sizeof cmd,
             "%s/cloister run --kernel %s/../guests/hello.elf --append 'console=ttyS0 x=1' 2>&1",
             bin, bin);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("exit status %d:\n%s", st, out);
    assert_non_null(strstr(out, "cloister test guest: hello from 32-bit protected mode\n"));
    assert_non_null(strstr(out, "sum of squares 1..1000 = 0x13e5e51c\n"));
    assert_non_null(strstr(out, "command line: console=ttyS0 x=1\n"));
    assert_non_null(strstr(out, "guest halted with interrupts disabled"));
    assert_no_leftovers();
}

static void test_bad_kernels_exit_2(void **state)
{
    (void)state;
    char path[] = "/tmp/cloister-kernel-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* a multiboot header asking for a video mode we do not provide */
    static const unsigned char hdr[12] = {0x02, 0xb0, 0xad, 0x1b, 0x04, 0x00, 0x00, 0x00,
                                          0xfa, 0x4f, 0x52, 0xe4};
    assert_int_equal(write(fd, hdr, sizeof hdr), (ssize_t)sizeof hdr);
    close(fd);
    struct run r;
    const char *args[] = {"run", "--kernel", path, NULL};
    start(&r, args);
    finish(&r);
    assert_int_equal(run_exit(&r), 2);
    assert_non_null(strstr(r.err, "requires features"));
    /* not a kernel at all */
    const char *args2[] = {"run", "--kernel", "/etc/hostname", NULL};
    start(&r, args2);
    finish(&r);
    assert_int_equal(run_exit(&r), 2);
    assert_non_null(strstr(r.err, "neither a Linux bzImage nor a multiboot kernel"));
    unlink(path);
    assert_no_leftovers();
}

/* A component that greets without loading its filter: the monitor checks /proc at HELLO and
 * refuses to start. The VM is assembled in a scratch bin dir with the impostor as the vCPU. */
static void test_unsealed_component_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/cloister-bin-XXXXXX", cmd[2048];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cp %s/cloister %s/cloister-translator %s/cloister-mmu %s/cloister-dev-serial %s/ && "
             "cp %s/../tests/cloister-test-unsealed %s/cloister-vcpu",
             bin, bin, bin, bin, dir, bin, dir);
    assert_int_equal(system(cmd), 0);
    char exe[600];
    snprintf(exe, sizeof exe, "%s/cloister", dir);
    char policy[600];
    snprintf(policy, sizeof policy, "%s/policies", src);
    struct run r;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    memset(&r, 0, sizeof r);
    r.pid = fork();
    if (r.pid == 0) {
        dup2(p[1], 2);
        execl(exe, exe, "run", "--exit-when-up", "--policy-dir", policy, (char *)NULL);
        _exit(126);
    }
    close(p[1]);
    r.err_fd = p[0];
    finish(&r);
    assert_int_equal(run_exit(&r), 1);
    if (!strstr(r.err, "vcpu (pid ") || !strstr(r.err, "runs without a seccomp filter"))
        fail_msg("the unsealed component was not refused:\n%s", r.err);
    assert_null(strstr(r.err, "components up"));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    assert_no_leftovers();
}

int main(void)
{
    const char *b = getenv("CLOISTER_BIN"), *s = getenv("CLOISTER_SRC");
    if (!b || !s) {
        fprintf(stderr, "CLOISTER_BIN and CLOISTER_SRC must be set (ctest does)\n");
        return 1;
    }
    snprintf(bin, sizeof bin, "%s", b);
    snprintf(src, sizeof src, "%s", s);
    if (geteuid() != 0) {
        fprintf(stderr, "the sandbox tests need root (namespaces, capability drops)\n");
        return 1;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_when_up),
        cmocka_unit_test(test_forbidden_calls_kill_each_component),
        cmocka_unit_test(test_sigkill_each_component_stops_vm),
        cmocka_unit_test(test_live_vm_audits_clean),
        cmocka_unit_test(test_broken_policy_starts_nothing),
        cmocka_unit_test(test_bad_usage_exits_2),
        cmocka_unit_test(test_hello_guest),
        cmocka_unit_test(test_bad_kernels_exit_2),
        cmocka_unit_test(test_unsealed_component_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
