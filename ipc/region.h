/*
 * region.h - shared memory regions: memfd-backed, sealed to a fixed size, mapped with the least
 * permission each process needs. A region is named by the fd the monitor created; what crosses
 * processes inside it is offsets checked against the region size, never pointers.
 */
#ifndef CLOISTER_IPC_REGION_H
#define CLOISTER_IPC_REGION_H

#include <stddef.h>
#include <stdint.h>

struct region {
    int fd;        /* memfd, or -1 once closed (the mapping stays valid) */
    void *base;    /* this process's mapping */
    size_t size;
    int prot;      /* PROT_READ or PROT_READ|PROT_WRITE; never PROT_EXEC */
};

/* Create a sealed memfd of `size` bytes (rounded up to the page size), named "cloister:<name>",
 * and map it read-write. Returns 0 or -errno. */
int region_create(struct region *r, const char *name, size_t size);

/* Map an inherited region fd. `prot` is PROT_READ or PROT_READ|PROT_WRITE. The size is taken
 * from the memfd itself (fstat) and must equal `expect_size` when that is non-zero; the seals
 * must forbid growing and shrinking, so a peer cannot truncate it under us (SIGBUS). */
int region_map_fd(struct region *r, int fd, int prot, size_t expect_size);

/* Close the fd but keep the mapping (components keep no region fds after start-up). */
void region_close_fd(struct region *r);

/* Unmap and close. */
void region_destroy(struct region *r);

/* Bounds check of an (offset, length) pair received from a peer. */
static inline int region_span_ok(const struct region *r, uint64_t off, uint64_t len)
{
    return off <= r->size && len <= r->size - off;
}

#endif
