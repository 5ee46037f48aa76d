/*
 * components.h - which regions each component receives and with what permission. This table is
 * the least-privilege map of the VM: a component gets only what it needs, read-only where it
 * only reads (a read-only fd, so not even mprotect can make the mapping writable).
 */
#ifndef CLOISTER_MONITOR_COMPONENTS_H
#define CLOISTER_MONITOR_COMPONENTS_H

#include <stdbool.h>

#include "ipc/msg.h"
#include "monitor/vm.h"

#define COMP_MAX_LINKS 5

struct comp_link {
    const char *name;  /* argv name, as endpoint_want.name in the component */
    enum vm_link link;
    bool read_only;
};

struct comp_desc {
    const char *exe;   /* file name in the bin dir */
    struct comp_link links[COMP_MAX_LINKS];
    unsigned nlinks;
};

extern const struct comp_desc comp_table[COMP_KIND_COUNT];

#endif
