/*
 * main.c - the cloister-mmu process: owner of the shadow page tables. It maps guest RAM
 * read-write (page walks set accessed/dirty bits) and serves the vCPU's MMU channel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "ipc/endpoint.h"
#include "mmu/service.h"

int main(int argc, char **argv)
{
    static struct endpoint ep;
    static struct mmu_service svc;
    static const struct endpoint_want wants[] = {
        {"ram", PROT_READ | PROT_WRITE, false, 0, false},
        {"mmu", PROT_READ | PROT_WRITE, true, CHAN_MMU, false},
    };
    const char *why;
    int rc = endpoint_init(&ep, COMP_MMU, argc, argv, wants, 2, &why);
    if (rc < 0) {
        fprintf(stderr, "cloister-mmu: %s: %s\n", why, strerror(-rc));
        return 1;
    }
    mmu_service_init(&svc, ep.regions[0].base, ep.regions[0].size);
    rc = endpoint_start(&ep, argv[0]);
    if (rc != ENDPOINT_GO)
        return rc;
    rc = endpoint_serve(&ep, &ep.chans[1], mmu_service_handle, &svc);
    return rc < 0 ? 1 : 0;
}
