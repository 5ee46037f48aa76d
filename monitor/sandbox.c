/*
 * sandbox.c - see sandbox.h. The child side runs between clone3() and execveat() in a copy of
 * the single-threaded monitor, so it may use ordinary libc calls; it reports failure on its
 * stderr fd and exits 127 rather than returning into monitor code.
 */
#define _GNU_SOURCE
#include "monitor/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS_ALL (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | \
                CLONE_NEWUTS | CLONE_NEWCGROUP)
#define HIGH_FD 200

static void die(int fd, const char *what)
{
    char line[200];
    int n = snprintf(line, sizeof line, "sandbox: %s: %s\n", what, strerror(errno));
    if (n > 0 && write(fd, line, (size_t)n) < 0) {
    }
    _exit(127);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int err = n == (ssize_t)strlen(text) ? 0 : -errno;
    close(fd);
    return err;
}

static bool make_empty_root(void)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return false;
    if (mount("cloister-root", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=4k,nr_inodes=2,mode=0555") < 0)
        return false;
    if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
        return false;
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        return false;
    return mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0;
}

static void drop_privileges(int errfd, bool userns)
{
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            die(errfd, "drop bounding set");
    if (!userns && setgroups(0, NULL) < 0)
        die(errfd, "setgroups");
    if (setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID) < 0)
        die(errfd, "setresgid");
    if (setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0)
        die(errfd, "setresuid");
    cap_t none = cap_init();
    if (!none || cap_set_proc(none) < 0)
        die(errfd, "clear capabilities");
    cap_free(none);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        die(errfd, "clear ambient capabilities");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die(errfd, "no_new_privs");
}

static void set_limits(int errfd, unsigned nfds)
{
    struct rlimit zero = {0, 0};
    struct rlimit files = {4 + nfds + 1, 4 + nfds + 1};
    if (setrlimit(RLIMIT_CORE, &zero) < 0 || setrlimit(RLIMIT_NPROC, &zero) < 0 ||
        setrlimit(RLIMIT_FSIZE, &zero) < 0 || setrlimit(RLIMIT_MEMLOCK, &zero) < 0 ||
        setrlimit(RLIMIT_NOFILE, &files) < 0)
        die(errfd, "setrlimit");
}

/* Move the contract's fds into place (0,1 /dev/null, 2 stderr, 3 bpf, 4.. regions), put the
 * executable's fd just above them (close-on-exec) and close everything else. Returns that fd. */
static int arrange_fds(const struct sandbox_spec *s, int devnull, int exe_fd)
{
    int errfd = s->stderr_fd;
    int hi[SANDBOX_MAX_FDS + 5];
    int src[SANDBOX_MAX_FDS + 5];
    unsigned n = 0;
    src[n++] = devnull;
    src[n++] = devnull;
    src[n++] = s->stderr_fd;
    src[n++] = s->bpf_fd;
    for (unsigned i = 0; i < s->nfds; i++)
        src[n++] = s->fds[i].fd;
    src[n] = exe_fd;
    /* First lift everything above any target number, then drop into place. */
    for (unsigned i = 0; i <= n; i++) {
        hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, HIGH_FD);
        if (hi[i] < 0)
            die(errfd, "dup");
    }
    errfd = hi[2];
    for (unsigned i = 0; i < n; i++)
        if (dup3(hi[i], (int)i, 0) < 0)
            die(errfd, "dup3");
    if (dup3(hi[n], (int)n, O_CLOEXEC) < 0)
        die(errfd, "dup3");
    if (syscall(SYS_close_range, n + 1, ~0U, 0) < 0)
        die(2, "close_range");
    return (int)n;
}

static void child_main(const struct sandbox_spec *s, int exe_fd, int devnull, int sync_rd,
                       unsigned long ns, pid_t parent)
{
    int errfd = s->stderr_fd;
    char c;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        die(errfd, "pdeathsig");
    if (getppid() != parent && !(ns & CLONE_NEWPID))
        _exit(127);
    /* Wait until the parent wrote our uid/gid maps (or gave up on them). */
    if (read(sync_rd, &c, 1) != 1)
        die(errfd, "sync with monitor");
    close(sync_rd);

    bool empty_root = (ns & CLONE_NEWNS) && make_empty_root();
    if (!empty_root && (ns & CLONE_NEWNS))
        die(errfd, "empty root");
    if (ns & CLONE_NEWUTS)
        if (sethostname("cloister", 8) < 0)
            die(errfd, "sethostname");

    exe_fd = arrange_fds(s, devnull, exe_fd);
    errfd = 2;
    set_limits(errfd, s->nfds);
    drop_privileges(errfd, (ns & CLONE_NEWUSER) != 0);

    char *argv[SANDBOX_MAX_FDS + 2];
    char args[SANDBOX_MAX_FDS][48];
    argv[0] = (char *)s->argv0;
    for (unsigned i = 0; i < s->nfds; i++) {
        snprintf(args[i], sizeof args[i], "%s=%u", s->fds[i].name, 4 + i);
        argv[i + 1] = args[i];
    }
    argv[s->nfds + 1] = NULL;
    char *envp[] = {NULL};
    syscall(SYS_execveat, exe_fd, "", argv, envp, AT_EMPTY_PATH);
    die(errfd, "execveat");
}

static long try_clone(unsigned long flags, int *pidfd)
{
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = flags | CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)pidfd;
    ca.exit_signal = SIGCHLD;
    return syscall(SYS_clone3, &ca, sizeof ca);
}

int sandbox_spawn(const struct sandbox_spec *s, struct sandbox_child *out, struct sandbox_error *err)
{
    static const unsigned long attempts[] = {NS_ALL, NS_ALL & ~CLONE_NEWUSER, 0};
    int sync[2], pidfd = -1;
    long pid = -1;
    unsigned long ns = 0;

    memset(out, 0, sizeof *out);
    out->pidfd = -1;
    if (s->nfds > SANDBOX_MAX_FDS) {
        snprintf(err->msg, sizeof err->msg, "too many fds for %s", s->argv0);
        return -EINVAL;
    }
    int exe_fd = open(s->exe, O_PATH | O_CLOEXEC);
    if (exe_fd < 0) {
        int e = -errno;
        snprintf(err->msg, sizeof err->msg, "%s: %s", s->exe, strerror(errno));
        return e;
    }
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || pipe2(sync, O_CLOEXEC) < 0) {
        int e = -errno;
        snprintf(err->msg, sizeof err->msg, "pipe: %s", strerror(errno));
        close(exe_fd);
        if (devnull >= 0)
            close(devnull);
        return e;
    }
    pid_t parent = getpid();
    for (unsigned i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
        ns = attempts[i];
        pid = try_clone(ns, &pidfd);
        if (pid >= 0 || (errno != EPERM && errno != EINVAL && errno != ENOSPC && errno != EUSERS))
            break;
    }
    if (pid == 0) {
        close(sync[1]);
        child_main(s, exe_fd, devnull, sync[0], ns, parent);
    }
    int e = pid < 0 ? -errno : 0;
    close(sync[0]);
    close(exe_fd);
    close(devnull);
    if (pid < 0) {
        snprintf(err->msg, sizeof err->msg, "clone3: %s", strerror(-e));
        close(sync[1]);
        return e;
    }
    if (ns & CLONE_NEWUSER) {
        char path[64], map[64];
        snprintf(map, sizeof map, "%d %d 1\n", SANDBOX_UID, SANDBOX_UID);
        snprintf(path, sizeof path, "/proc/%ld/setgroups", pid);
        int rc = write_file(path, "deny");
        snprintf(path, sizeof path, "/proc/%ld/uid_map", pid);
        if (rc == 0)
            rc = write_file(path, map);
        snprintf(map, sizeof map, "%d %d 1\n", SANDBOX_GID, SANDBOX_GID);
        snprintf(path, sizeof path, "/proc/%ld/gid_map", pid);
        if (rc == 0)
            rc = write_file(path, map);
        if (rc < 0) {
            snprintf(err->msg, sizeof err->msg, "uid/gid map: %s", strerror(-rc));
            close(sync[1]);
            syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
            waitid(P_PIDFD, (id_t)pidfd, NULL, WEXITED);
            close(pidfd);
            return rc;
        }
    }
    if (write(sync[1], "g", 1) != 1) {
    }
    close(sync[1]);
    out->pid = (pid_t)pid;
    out->pidfd = pidfd;
    out->ns_flags = ns;
    out->empty_root = (ns & CLONE_NEWNS) != 0;
    return 0;
}
