/*
 * native_client.c - starting, feeding and restarting the 32-bit native runner.
 *
 * Protocol (see proto.h): the parent fills slots in the shared region, resets their status to
 * EMPTY and writes the 4-byte count to the socket; the runner answers with the same count once
 * every slot has a status. If the runner dies or stops answering, the first slot still EMPTY is
 * the culprit: it is marked CRASHED, the runner restarted, and the batch resubmitted (the runner
 * skips slots that already have a status).
 */
#define _GNU_SOURCE
#include "tests/oracle/native_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_RESTARTS 1000u

static int recv_u32(int fd, uint32_t *v, int timeout_ms)
{
    uint8_t *p = (uint8_t *)v;
    size_t got = 0;
    while (got < sizeof *v) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -ETIMEDOUT;
        ssize_t k = recv(fd, p + got, sizeof *v - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -EPIPE;
        got += (size_t)k;
    }
    return 0;
}

static int send_u32(int fd, uint32_t v)
{
    ssize_t k;
    do
        k = send(fd, &v, sizeof v, MSG_NOSIGNAL);
    while (k < 0 && errno == EINTR);
    return k == (ssize_t)sizeof v ? 0 : -EPIPE;
}

static void reap(struct oracle_native *n)
{
    if (n->sock >= 0) {
        close(n->sock);
        n->sock = -1;
    }
    if (n->pid > 0) {
        kill(n->pid, SIGKILL);
        while (waitpid(n->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        n->pid = 0;
    }
}

static int spawn_runner(struct oracle_native *n)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -errno;
    /* The child's end and the shared region must survive exec. */
    if (fcntl(sv[1], F_SETFD, 0) != 0 || fcntl(n->shm_fd, F_SETFD, 0) != 0) {
        int e = -errno;
        close(sv[0]);
        close(sv[1]);
        return e;
    }
    char shm_arg[16], sock_arg[16];
    snprintf(shm_arg, sizeof shm_arg, "%d", n->shm_fd);
    snprintf(sock_arg, sizeof sock_arg, "%d", sv[1]);
    char *argv[] = { n->path, "--shm-fd", shm_arg, "--sock-fd", sock_arg, NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, n->path, NULL, NULL, argv, environ);
    close(sv[1]);
    fcntl(n->shm_fd, F_SETFD, FD_CLOEXEC);
    if (rc != 0) {
        close(sv[0]);
        return -rc;
    }
    n->pid = pid;
    n->sock = sv[0];
    uint32_t hello;
    int r = recv_u32(n->sock, &hello, 10000);
    if (r != 0 || hello != ORN_MAGIC) {
        reap(n);
        return r ? r : -EPROTO;
    }
    n->user_cs = n->shm->user_cs;
    n->user_ds = n->shm->user_ds;
    return 0;
}

int oracle_native_start(struct oracle_native *n, const char *path)
{
    memset(n, 0, sizeof *n);
    n->sock = -1;
    n->shm_fd = -1;
    n->batch_timeout_ms = 20000;
    if (strlen(path) >= sizeof n->path)
        return -ENAMETOOLONG;
    strcpy(n->path, path);
    n->shm_fd = memfd_create("oracle-shm", MFD_CLOEXEC);
    if (n->shm_fd < 0)
        return -errno;
    if (ftruncate(n->shm_fd, sizeof *n->shm) != 0) {
        int e = -errno;
        oracle_native_stop(n);
        return e;
    }
    void *p = mmap(NULL, sizeof *n->shm, PROT_READ | PROT_WRITE, MAP_SHARED, n->shm_fd, 0);
    if (p == MAP_FAILED) {
        int e = -errno;
        oracle_native_stop(n);
        return e;
    }
    n->shm = p;
    n->shm->magic = ORN_MAGIC;
    int r = spawn_runner(n);
    if (r != 0)
        oracle_native_stop(n);
    return r;
}

int oracle_native_run(struct oracle_native *n, unsigned count)
{
    if (count > ORN_BATCH || !n->shm)
        return -EINVAL;
    for (unsigned i = 0; i < count; i++)
        n->shm->slot[i].out.status = ORN_ST_EMPTY;
    for (;;) {
        if (n->pid <= 0) {
            if (n->restarts >= MAX_RESTARTS)
                return -ECHILD;
            n->restarts++;
            int r = spawn_runner(n);
            if (r != 0)
                return r;
        }
        uint32_t done;
        int r = send_u32(n->sock, count);
        if (r == 0)
            r = recv_u32(n->sock, &done, (int)n->batch_timeout_ms);
        if (r == 0 && done == count) {
            for (unsigned i = 0; i < count; i++) {
                uint32_t st = __atomic_load_n(&n->shm->slot[i].out.status, __ATOMIC_ACQUIRE);
                if (st == ORN_ST_EMPTY || st > ORN_ST_CRASHED)
                    n->shm->slot[i].out.status = ORN_ST_CRASHED;
            }
            return 0;
        }
        /* The runner died or hung: blame the first unanswered slot and go again. */
        reap(n);
        unsigned i = 0;
        while (i < count && __atomic_load_n(&n->shm->slot[i].out.status, __ATOMIC_ACQUIRE) != ORN_ST_EMPTY)
            i++;
        if (i == count)
            return 0;
        n->shm->slot[i].out.status = ORN_ST_CRASHED;
    }
}

void oracle_native_stop(struct oracle_native *n)
{
    reap(n);
    if (n->shm) {
        munmap(n->shm, sizeof *n->shm);
        n->shm = NULL;
    }
    if (n->shm_fd >= 0) {
        close(n->shm_fd);
        n->shm_fd = -1;
    }
}

char *oracle_native_default_path(char *buf, size_t size)
{
    const char *bin = getenv("CLOISTER_BIN");
    if (bin && *bin) {
        int k = snprintf(buf, size, "%s/cloister-oracle-native", bin);
        return k > 0 && (size_t)k < size ? buf : NULL;
    }
    char self[4096];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k <= 0)
        return NULL;
    self[k] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    int m = snprintf(buf, size, "%s/cloister-oracle-native", self);
    return m > 0 && (size_t)m < size ? buf : NULL;
}
