/*
 * sandbox.h - the launcher: starts one component executable in its own sandbox.
 *
 * In the child, before exec: new user/pid/ipc/net/mount/uts/cgroup namespaces where the kernel
 * allows (falling back to fewer and recording what it got), uid/gid 65534 mapped to itself, an
 * empty read-only tmpfs as root (pivot_root), only the fds of the contract in ipc/endpoint.h,
 * a clean environment, parent-death SIGKILL, rlimits (no core, no new processes, few fds, no
 * file writes), every capability dropped from every set and the bounding set, no_new_privs.
 * After exec, the component maps its regions and loads the seccomp program it was handed on
 * fd 3 (ipc/endpoint.c) before it reads anything from the guest.
 */
#ifndef CLOISTER_MONITOR_SANDBOX_H
#define CLOISTER_MONITOR_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#define SANDBOX_MAX_FDS 8
#define SANDBOX_UID 65534
#define SANDBOX_GID 65534

struct sandbox_fd {
    int fd;            /* in the monitor */
    const char *name;  /* argv name in the child: NAME=FD */
};

struct sandbox_spec {
    const char *exe;   /* absolute path of the component executable */
    const char *argv0; /* e.g. "cloister-vcpu" */
    int bpf_fd;        /* sealed memfd with the compiled filter; becomes fd 3 */
    int stderr_fd;     /* becomes fd 2 */
    struct sandbox_fd fds[SANDBOX_MAX_FDS]; /* become 4, 5, ... in order */
    unsigned nfds;
};

struct sandbox_child {
    pid_t pid;
    int pidfd;
    unsigned long ns_flags;  /* CLONE_NEW* flags actually applied */
    bool empty_root;         /* pivot_root into an empty tmpfs succeeded */
};

struct sandbox_error {
    char msg[256];
};

/* Start the component. 0 or -errno with a reason. The child is running (or about to exec)
 * when this returns; failures in the child before exec make it exit with status 127 after
 * writing one line to its stderr fd. */
int sandbox_spawn(const struct sandbox_spec *spec, struct sandbox_child *out, struct sandbox_error *err);

#endif
