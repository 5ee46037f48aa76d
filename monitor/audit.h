/*
 * audit.h - `cloister audit`: inspect a running VM's components through /proc.
 */
#ifndef CLOISTER_MONITOR_AUDIT_H
#define CLOISTER_MONITOR_AUDIT_H

#include <stdbool.h>

/* Prints the report; returns 0 (no violation), 1 (violations) or 2 (could not audit). */
int audit_main(const char *socket_path, bool json);

/* What the kernel says about a live process right now: 0 when it runs under a seccomp filter
 * (Seccomp: 2) with NoNewPrivs 1 and no capability in any set; otherwise -EPERM and a reason.
 * The monitor calls this when a component says HELLO, so a component that claims to be
 * confined but is not never gets START. */
struct audit_confinement_error {
    char msg[160];
};
int audit_check_confined(int pid, struct audit_confinement_error *err);

#endif
