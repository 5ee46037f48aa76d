/*
 * vm.c - assembling a VM (policies, regions, components) and tearing it down again.
 *
 * Teardown is the part that must never fail: whatever order components die in, and whether we
 * got here by an error, a signal or a guest request, every child is SIGKILLed through its pidfd
 * and reaped, and every region is unmapped and closed, so the kernel frees the memfds.
 */
#define _GNU_SOURCE
#include "monitor/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc/tcache.h"
#include "monitor/components.h"
#include "monitor/loader.h"
#include "monitor/policy.h"

static const char *const link_names[LINK_COUNT] = {"guest-ram", "tcache", "xlate", "mmu",
                                                   "dev-serial"};

uint64_t vm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compile_policy(const char *path, int *bpf_fd, char *err, size_t errlen)
{
    struct policy *p = NULL;
    struct policy_error pe;
    int rc = policy_parse_file(path, &p, &pe);
    if (rc < 0) {
        snprintf(err, errlen, "%s", pe.msg);
        return rc;
    }
    int fd = memfd_create("cloister:seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "memfd: %s", strerror(errno));
        policy_free(p);
        return rc;
    }
    rc = policy_compile_bpf(p, fd, &pe);
    policy_free(p);
    if (rc < 0) {
        snprintf(err, errlen, "%s", pe.msg);
        close(fd);
        return rc;
    }
    /* The component maps this read-only; sealing makes the program immutable for everyone. */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        rc = -errno;
        snprintf(err, errlen, "seal seccomp program: %s", strerror(errno));
        close(fd);
        return rc;
    }
    *bpf_fd = fd;
    return 0;
}

int vm_load_policies(struct vm *vm, char *err, size_t errlen)
{
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        struct vm_component *c = &vm->comp[k];
        char why[600];
        snprintf(c->policy_path, sizeof c->policy_path, "%s/%s.policy", vm->cfg.policy_dir,
                 component_name(k));
        int rc = compile_policy(c->policy_path, &c->bpf_fd, why, sizeof why);
        if (rc < 0) {
            snprintf(err, errlen, "policy for %s: %s", component_name(k), why);
            return rc;
        }
    }
    return 0;
}

static int make_ctl(struct vm_component *c, char *err, size_t errlen)
{
    char name[48];
    snprintf(name, sizeof name, "ctl-%s", component_name(c->kind));
    int rc = region_create(&c->ctl_region, name, CTL_REPORT_BYTES + chan_bytes(CHAN_CTL));
    if (rc == 0)
        rc = chan_attach(&c->ctl, (char *)c->ctl_region.base + CTL_REPORT_BYTES,
                         c->ctl_region.size - CTL_REPORT_BYTES, CHAN_CTL, false, true);
    if (rc < 0) {
        snprintf(err, errlen, "control region for %s: %s", component_name(c->kind), strerror(-rc));
        return rc;
    }
    c->report = c->ctl_region.base;
    c->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->kick_fd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

/* A read-only fd for a region: reopening the memfd through /proc with O_RDONLY gives a file
 * that cannot be mapped writable, whatever the holder asks mmap or mprotect for. */
static int readonly_fd(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, O_RDONLY | O_CLOEXEC);
}

static int spawn_component(struct vm *vm, struct vm_component *c, char *err, size_t errlen)
{
    const struct comp_desc *d = &comp_table[c->kind];
    struct sandbox_spec spec;
    struct sandbox_error se;
    int pipefd[2], ro[COMP_MAX_LINKS];

    memset(&spec, 0, sizeof spec);
    snprintf(c->exe, sizeof c->exe, "%s/%s", vm->cfg.bin_dir, d->exe);
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -errno;
    }
    c->stderr_rd = pipefd[0];
    fcntl(c->stderr_rd, F_SETFL, O_NONBLOCK);
    spec.exe = c->exe;
    spec.argv0 = d->exe;
    spec.bpf_fd = c->bpf_fd;
    spec.stderr_fd = pipefd[1];
    spec.fds[spec.nfds++] = (struct sandbox_fd){c->ctl_region.fd, "ctl"};
    spec.fds[spec.nfds++] = (struct sandbox_fd){c->kick_fd, "kick"};
    for (unsigned i = 0; i < d->nlinks; i++) {
        int fd = vm->link[d->links[i].link].fd;
        ro[i] = -1;
        if (d->links[i].read_only) {
            fd = ro[i] = readonly_fd(fd);
            if (fd < 0) {
                snprintf(err, errlen, "read-only fd: %s", strerror(errno));
                close(pipefd[1]);
                for (unsigned j = 0; j < i; j++)
                    if (ro[j] >= 0)
                        close(ro[j]);
                return -errno;
            }
        }
        spec.fds[spec.nfds++] = (struct sandbox_fd){fd, d->links[i].name};
    }
    int rc = sandbox_spawn(&spec, &c->child, &se);
    close(pipefd[1]);
    for (unsigned i = 0; i < d->nlinks; i++)
        if (ro[i] >= 0)
            close(ro[i]);
    if (rc < 0) {
        snprintf(err, errlen, "start %s: %s", component_name(c->kind), se.msg);
        return rc;
    }
    c->state = COMP_STARTED;
    return 0;
}

/* Read a whole regular file of at most `max` bytes. */
static int read_file(const char *opt, const char *path, size_t max, uint8_t **out, size_t *size,
                     char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = -errno;
        snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return e;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > max) {
        snprintf(err, errlen, "%s %s: not a regular file of 1 byte to %zu MiB", opt, path, max >> 20);
        close(fd);
        return -EINVAL;
    }
    uint8_t *buf = malloc((size_t)st.st_size);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != (size_t)st.st_size) {
        free(buf);
        snprintf(err, errlen, "%s %s: cannot read it", opt, path);
        return -EIO;
    }
    *out = buf;
    *size = got;
    return 0;
}

int vm_read_image(struct vm *vm, char *err, size_t errlen)
{
    int rc = read_file("--kernel", vm->cfg.kernel, LOADER_MAX_IMAGE, &vm->image, &vm->image_size,
                       err, errlen);
    if (rc < 0)
        return rc;
    bool is_linux = linux_detect(vm->image, vm->image_size);
    if (!is_linux && !multiboot_detect(vm->image, vm->image_size)) {
        snprintf(err, errlen, "--kernel %s: neither a Linux bzImage nor a multiboot kernel",
                 vm->cfg.kernel);
        return -EINVAL;
    }
    if (vm->cfg.initrd) {
        if (!is_linux) {
            snprintf(err, errlen, "--initrd: a multiboot kernel takes no initrd");
            return -EINVAL;
        }
        return read_file("--initrd", vm->cfg.initrd, LINUX_MAX_INITRD, &vm->initrd,
                         &vm->initrd_size, err, errlen);
    }
    return 0;
}

static int load_guest(struct vm *vm, char *err, size_t errlen)
{
    struct loader_error le;
    uint8_t *ram = vm->link[LINK_RAM].base;
    size_t ram_size = vm->link[LINK_RAM].size;
    int rc;
    if (linux_detect(vm->image, vm->image_size))
        rc = linux_load(vm->image, vm->image_size, vm->initrd, vm->initrd_size, vm->cfg.append,
                        ram, ram_size, &vm->boot, &le);
    else
        rc = multiboot_load(vm->image, vm->image_size, vm->cfg.append, ram, ram_size, &vm->boot,
                            &le);
    if (rc < 0) {
        bool about_initrd = strncmp(le.msg, "initrd: ", 8) == 0;
        snprintf(err, errlen, "%s %s: %s", about_initrd ? "--initrd" : "--kernel",
                 about_initrd ? vm->cfg.initrd : vm->cfg.kernel, about_initrd ? le.msg + 8 : le.msg);
        return rc;
    }
    vm->have_boot = true;
    free(vm->image);
    free(vm->initrd);
    vm->image = vm->initrd = NULL;
    return 0;
}

int vm_start(struct vm *vm, char *err, size_t errlen)
{
    static const enum chan_kind link_chan[LINK_COUNT] = {
        [LINK_XLATE] = CHAN_XLATE, [LINK_MMU] = CHAN_MMU, [LINK_SERIAL] = CHAN_DEV};
    int rc;

    vm->started_ns = vm_now_ns();
    rc = region_create(&vm->link[LINK_RAM], link_names[LINK_RAM], vm->cfg.memory);
    if (rc < 0) {
        snprintf(err, errlen, "guest RAM (%llu bytes): %s", (unsigned long long)vm->cfg.memory,
                 strerror(-rc));
        return rc;
    }
    if (vm->image && (rc = load_guest(vm, err, errlen)) < 0)
        return rc;
    rc = region_create(&vm->link[LINK_TCACHE], link_names[LINK_TCACHE], TC_STAGING_BYTES);
    if (rc < 0) {
        snprintf(err, errlen, "translation staging region: %s", strerror(-rc));
        return rc;
    }
    for (unsigned l = LINK_XLATE; l < LINK_COUNT; l++) {
        struct chan scratch;
        rc = region_create(&vm->link[l], link_names[l], chan_bytes(link_chan[l]));
        if (rc == 0)
            rc = chan_attach(&scratch, vm->link[l].base, vm->link[l].size, link_chan[l], false, true);
        if (rc < 0) {
            snprintf(err, errlen, "region %s: %s", link_names[l], strerror(-rc));
            return rc;
        }
    }
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        rc = make_ctl(&vm->comp[k], err, errlen);
        if (rc < 0)
            return rc;
    }
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        rc = spawn_component(vm, &vm->comp[k], err, errlen);
        if (rc < 0)
            return rc;
    }
    /* Components now hold their own references; the monitor keeps only the RAM fd (for the
     * loaders) and its own mappings. */
    for (unsigned l = LINK_TCACHE; l < LINK_COUNT; l++)
        region_close_fd(&vm->link[l]);
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        region_close_fd(&vm->comp[k].ctl_region);
        close(vm->comp[k].bpf_fd);
        vm->comp[k].bpf_fd = -1;
    }
    return 0;
}

static void reap(struct vm_component *c, bool block)
{
    siginfo_t si;
    if (c->child.pidfd < 0 || c->state == COMP_DEAD)
        return;
    memset(&si, 0, sizeof si);
    if (waitid(P_PIDFD, (id_t)c->child.pidfd, &si, WEXITED | (block ? 0 : WNOHANG)) < 0 ||
        si.si_pid == 0)
        return;
    c->state = COMP_DEAD;
    if (si.si_code == CLD_EXITED) {
        c->exit_code = si.si_status;
        c->exit_signal = 0;
    } else {
        c->exit_code = -1;
        c->exit_signal = si.si_status;
    }
}

void vm_teardown(struct vm *vm)
{
    free(vm->image);
    free(vm->initrd);
    vm->image = vm->initrd = NULL;
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        struct vm_component *c = &vm->comp[k];
        if (c->child.pidfd >= 0 && c->state != COMP_DEAD)
            syscall(SYS_pidfd_send_signal, c->child.pidfd, SIGKILL, NULL, 0);
    }
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        struct vm_component *c = &vm->comp[k];
        reap(c, true);
        if (c->child.pidfd >= 0)
            close(c->child.pidfd);
        c->child.pidfd = -1;
        if (c->kick_fd >= 0)
            close(c->kick_fd);
        c->kick_fd = -1;
        if (c->stderr_rd >= 0)
            close(c->stderr_rd);
        c->stderr_rd = -1;
        if (c->bpf_fd >= 0)
            close(c->bpf_fd);
        c->bpf_fd = -1;
        region_destroy(&c->ctl_region);
        c->report = NULL;
    }
    for (unsigned l = 0; l < LINK_COUNT; l++)
        region_destroy(&vm->link[l]);
    api_server_close(vm);
    if (vm->epfd >= 0)
        close(vm->epfd);
    if (vm->sigfd >= 0)
        close(vm->sigfd);
    vm->epfd = vm->sigfd = -1;
    vm->state = VM_STOPPED;
}
