/*
 * endpoint.h - what every component does first, before it touches guest data: take the fds the
 * monitor passed, map its regions with the least permission it needs, close every region fd,
 * install the SIGSYS violation reporter, load its seccomp filter, and greet the monitor.
 *
 * The fd contract with the monitor's launcher (monitor/sandbox.c):
 *   0, 1  /dev/null          2  pipe to the monitor (diagnostics before the ctl channel is up)
 *   3     sealed memfd holding the compiled seccomp BPF program (struct sock_filter[])
 *   argv  NAME=FD pairs naming every other fd: ctl=FD (control region), kick=FD (eventfd the
 *         monitor sleeps on), and the component's regions (ram, tcache, xlate, mmu, dev-serial)
 */
#ifndef CLOISTER_IPC_ENDPOINT_H
#define CLOISTER_IPC_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/chan.h"
#include "ipc/region.h"

#define ENDPOINT_BPF_FD 3
#define ENDPOINT_MAX_REGIONS 8
#define CTL_REPORT_BYTES 4096 /* the control region starts with the violation report page */

/* Written by a component's SIGSYS handler, read by the monitor after the component is dead. */
struct violation_report {
    uint32_t magic;  /* VIOLATION_MAGIC once complete (stored last) */
    uint32_t nr;     /* syscall number */
    uint32_t arch;   /* AUDIT_ARCH_* */
    uint32_t pad;
    uint64_t args[6];
    uint64_t ip;     /* address of the instruction after the syscall */
};
#define VIOLATION_MAGIC 0x53595343u /* "CSYS" */

/* A region the component wants: its argv name, the protection to map it with, and whether it is
 * a channel (and which kind; the component is the server unless `client`). */
struct endpoint_want {
    const char *name;
    int prot;          /* PROT_READ or PROT_READ|PROT_WRITE */
    bool is_chan;
    enum chan_kind kind;
    bool client;
};

struct endpoint {
    enum component_kind kind;
    struct region ctl_region;
    struct chan ctl;               /* we are the server; the monitor is the client */
    struct violation_report *report;
    int kick_fd;
    struct region regions[ENDPOINT_MAX_REGIONS]; /* in the order of `wants` */
    struct chan chans[ENDPOINT_MAX_REGIONS];     /* valid where wants[i].is_chan */
    unsigned nregions;
    /* Control messages the endpoint does not handle itself (BOOT, CONSOLE_IN, ...), during the
     * handshake and while serving; NULL drops them. */
    void (*on_ctl)(void *ctx, const struct msg *m);
    void *ctl_ctx;
};

/* Take the fds, map the regions, close every region fd. On failure returns -errno and a reason
 * in `why`; the caller writes it to fd 2 and exits. The component then allocates whatever it
 * needs for its whole life and calls endpoint_seal(). */
int endpoint_init(struct endpoint *ep, enum component_kind kind, int argc, char **argv,
                  const struct endpoint_want *wants, unsigned nwants, const char **why);

/* Install the SIGSYS reporter and load the seccomp filter: from here on only the component's
 * policy applies. Must come before the component reads anything from the guest or a peer. */
int endpoint_seal(struct endpoint *ep, const char **why);

/* The usual start: endpoint_seal(), then endpoint_handshake(). Returns ENDPOINT_GO to run,
 * or the exit status the component should return (0 after STOP, 1 on failure, reported on
 * fd 2 under `name`). */
#define ENDPOINT_GO (-1)
int endpoint_start(struct endpoint *ep, const char *name);

/* Greet the monitor (HELLO) and wait for START. Returns 0, or -errno (STOP or broken channel). */
int endpoint_handshake(struct endpoint *ep);

/* Serve one request channel until the monitor says STOP: wait on `chan` (spinning briefly, then
 * sleeping), answer each request with handler(ctx, req, rsp) (a handler returns 1 when rsp is to
 * be sent, 0 for posted messages that need no answer, negative to stop), and between waits
 * check the control channel. Returns 0 after STOP, negative on a broken channel. */
typedef int (*endpoint_handler)(void *ctx, const struct msg *req, struct msg *rsp);
int endpoint_serve(struct endpoint *ep, struct chan *chan, endpoint_handler handler, void *ctx);

/* Handle pending control messages (PING -> PONG, SELFTEST, the rest to on_ctl). Returns
 * -ECANCELED after STOP, -EPROTO on a broken control channel, else 0. */
int endpoint_poll_ctl(struct endpoint *ep);

/* Send a log line to the monitor (truncated to 52 printable bytes). */
void endpoint_log(struct endpoint *ep, int level, const char *text);

#endif
