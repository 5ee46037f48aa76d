/*
 * vm.h - one virtual machine as the monitor sees it: its configuration, its shared regions,
 * its component processes and their control channels, and the supervisor loop that owns them.
 *
 * The monitor is the only trusted process. Everything it reads back from a component (control
 * messages, the violation report page, stderr lines) is untrusted input.
 */
#ifndef CLOISTER_MONITOR_VM_H
#define CLOISTER_MONITOR_VM_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/chan.h"
#include "ipc/endpoint.h"
#include "ipc/region.h"
#include "monitor/sandbox.h"

struct vm_config {
    const char *kernel, *initrd, *append;
    uint64_t memory;            /* bytes */
    bool no_reboot;
    const char *api_socket;
    const char *policy_dir;
    const char *bin_dir;
    const char *serial_file;    /* NULL: stdio */
    bool exit_when_up;          /* stop cleanly once every component is up (tests, demos) */
    int selftest_comp;          /* sandbox self-test: this component (or -1) ... */
    unsigned selftest_call;     /* ... attempts this forbidden call once it is up */
};

/* Shared regions other than the per-component control regions. */
enum vm_link { LINK_RAM, LINK_TCACHE, LINK_XLATE, LINK_MMU, LINK_SERIAL, LINK_COUNT };

enum comp_state { COMP_NEW, COMP_STARTED, COMP_HELLO, COMP_RUNNING, COMP_DEAD };

struct vm_component {
    enum component_kind kind;
    enum comp_state state;
    char exe[PATH_MAX];
    char policy_path[PATH_MAX];
    int bpf_fd;
    struct region ctl_region;
    struct chan ctl;
    struct violation_report *report;
    int kick_fd;       /* eventfd the component writes after each message to us */
    int stderr_rd;     /* the component's fd 2 */
    char errline[256]; /* partial stderr line */
    size_t errlen;
    struct sandbox_child child;
    int exit_code;     /* -1 while alive */
    int exit_signal;
};

enum vm_state { VM_STARTING, VM_RUNNING, VM_STOPPING, VM_STOPPED };

struct api_conn;

struct vm {
    struct vm_config cfg;
    enum vm_state state;
    struct region link[LINK_COUNT];
    struct vm_component comp[COMP_KIND_COUNT];
    int epfd, sigfd, api_fd;
    struct api_conn *conns;
    int exit_status;       /* what `cloister run` returns */
    char stop_reason[256];
    uint64_t started_ns;
    uint8_t *image;        /* the --kernel file, read and size-checked before anything starts */
    size_t image_size;
    uint8_t *initrd;       /* the --initrd file, likewise */
    size_t initrd_size;
    struct msg_boot boot;  /* the vCPU's start state, when a guest was loaded */
    bool have_boot;
    uint32_t worst_link_ns;
};

/* Event loop, signals and the API socket: before anything starts, so that a bad --api-socket
 * is a configuration error. */
int vm_prepare(struct vm *vm, char *err, size_t errlen);
/* Compile every component's policy (errors: file:line in err, nothing started). */
int vm_load_policies(struct vm *vm, char *err, size_t errlen);
/* Read --kernel (and --initrd) into memory, size-checked, and recognise the kernel format;
 * 0 or -errno with a reason. */
int vm_read_image(struct vm *vm, char *err, size_t errlen);
/* Create regions, load the guest into RAM, start every component. Returns 0, -EINVAL for a
 * guest image that cannot be loaded (a configuration error: nothing was started), or another
 * -errno. The caller tears down on failure. */
int vm_start(struct vm *vm, char *err, size_t errlen);
/* The supervisor loop; returns the process exit status. Tears everything down before it
 * returns, whatever happened: no process, fd or region of this VM outlives it. */
int vm_run(struct vm *vm);
/* Ask for an orderly stop (API quit, signal, guest request). */
void vm_request_stop(struct vm *vm, const char *why, int status);
/* Kill and reap every component, close and unmap everything. Idempotent. */
void vm_teardown(struct vm *vm);

/* API server (api_server.c). */
int api_server_open(struct vm *vm, char *err, size_t errlen);
void api_server_event(struct vm *vm, int fd, uint32_t events);
void api_server_close(struct vm *vm);
/* Broadcast an event to every connected client. */
struct jbuf;
void api_server_broadcast(struct vm *vm, const char *name, int (*write_data)(void *, struct jbuf *),
                          void *ctx);

/* Monotonic nanoseconds. */
uint64_t vm_now_ns(void);

#endif
