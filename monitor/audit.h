/*
 * audit.h - `cloister audit`: inspect a running VM's components through /proc.
 */
#ifndef CLOISTER_MONITOR_AUDIT_H
#define CLOISTER_MONITOR_AUDIT_H

#include <stdbool.h>

/* Prints the report; returns 0 (no violation), 1 (violations) or 2 (could not audit). */
int audit_main(const char *socket_path, bool json);

#endif
