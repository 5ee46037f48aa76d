/*
 * ctl_msg.h - what the monitor makes of one control message from a component, as a pure
 * function: (message, sender, whether a greeting is due) -> one action for the supervisor to
 * carry out. No I/O and no VM state here, so the interpretation can be tested and fuzzed on its
 * own (fuzz/ipc/fuzz_ctl_from_component.c).
 *
 * Trust: the message comes from a component, which may be compromised. It is checked again
 * here (msg_check for CHAN_CTL, DIR_RSP) even though chan_recv already did, so the function is
 * safe on any bytes; pointers in the action point into the caller's copy of the message.
 */
#ifndef CLOISTER_MONITOR_CTL_MSG_H
#define CLOISTER_MONITOR_CTL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"

enum ctl_action_kind {
    CTL_ACT_NONE,     /* liveness traffic (PONG), or a report this sender may not make */
    CTL_ACT_HOSTILE,  /* malformed or out of place: stop the VM, exit status 1 */
    CTL_ACT_HELLO,    /* the component is up under its filter */
    CTL_ACT_LOG,      /* print `len` bytes of printable text at `level` */
    CTL_ACT_CONSOLE,  /* write `len` (1..52) guest console bytes */
    CTL_ACT_LINKS_UP, /* the vCPU reached every peer: the VM is running */
    CTL_ACT_VM_STOP,  /* the guest asked to stop, with exit `status` */
};

struct ctl_action {
    enum ctl_action_kind kind;
    const char *why;         /* HOSTILE and VM_STOP: a fixed string for the stop reason */
    int status;              /* VM_STOP */
    unsigned level;          /* LOG: 0 info, 1 warning, 2 error */
    const uint8_t *data;     /* LOG text or CONSOLE bytes, inside *m */
    size_t len;
    uint32_t peers, worst_rtt_ns; /* LINKS_UP */
};

/* `hello_expected`: the sender was started and has not greeted yet. */
void ctl_interpret(const struct msg *m, enum component_kind from, bool hello_expected,
                   struct ctl_action *out);

/* The line the monitor prints for a LOG action: "cloister: [NAME] TEXT\n", NUL-terminated and
 * truncated to fit `cap` (at least 1). Returns the length written, without the NUL. */
size_t ctl_format_log(char *buf, size_t cap, enum component_kind from, const struct ctl_action *a);

#endif
