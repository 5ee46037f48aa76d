/*
 * region.c - memfd regions. Seals (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) are applied at
 * creation so that no holder of the fd, however hostile, can change the size that every other
 * mapping relies on: a truncation under a live mapping would turn our reads into SIGBUS.
 */
#define _GNU_SOURCE
#include "ipc/region.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define REQUIRED_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int region_create(struct region *r, const char *name, size_t size)
{
    char full[64];
    long page = sysconf(_SC_PAGESIZE);

    r->fd = -1;
    r->base = NULL;
    r->size = 0;
    if (size == 0 || size > ((size_t)1 << 34))
        return -EINVAL;
    size = (size + (size_t)page - 1) & ~((size_t)page - 1);
    snprintf(full, sizeof full, "cloister:%s", name);
    int fd = memfd_create(full, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, REQUIRED_SEALS) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int err = -errno;
        close(fd);
        return err;
    }
    r->fd = fd;
    r->base = p;
    r->size = size;
    r->prot = PROT_READ | PROT_WRITE;
    return 0;
}

int region_map_fd(struct region *r, int fd, int prot, size_t expect_size)
{
    struct stat st;

    r->fd = -1;
    r->base = NULL;
    r->size = 0;
    if (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE))
        return -EINVAL;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (st.st_size <= 0 || (expect_size && (size_t)st.st_size != expect_size))
        return -EINVAL;
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0)
        return -errno;
    if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW))
        return -EPERM;
    void *p = mmap(NULL, (size_t)st.st_size, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    r->fd = fd;
    r->base = p;
    r->size = (size_t)st.st_size;
    r->prot = prot;
    return 0;
}

void region_close_fd(struct region *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

void region_destroy(struct region *r)
{
    if (r->base)
        munmap(r->base, r->size);
    region_close_fd(r);
    r->base = NULL;
    r->size = 0;
}
