/*
 * main.c - the cloister-translator process: the only place guest instruction bytes are parsed.
 * It maps guest RAM read-only and serves the vCPU's translation channel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "ipc/endpoint.h"
#include "translator/service.h"

int main(int argc, char **argv)
{
    static struct endpoint ep;
    static struct translator_service svc;
    static const struct endpoint_want wants[] = {
        {"ram", PROT_READ, false, 0, false},
        {"xlate", PROT_READ | PROT_WRITE, true, CHAN_XLATE, false},
        {"tcache", PROT_READ | PROT_WRITE, false, 0, false},
    };
    const char *why;
    int rc = endpoint_init(&ep, COMP_TRANSLATOR, argc, argv, wants, 3, &why);
    if (rc < 0) {
        fprintf(stderr, "cloister-translator: %s: %s\n", why, strerror(-rc));
        return 1;
    }
    translator_service_init(&svc, ep.regions[0].base, ep.regions[0].size, ep.regions[2].base,
                            ep.regions[2].size);
    rc = endpoint_start(&ep, argv[0]);
    if (rc != ENDPOINT_GO)
        return rc;
    rc = endpoint_serve(&ep, &ep.chans[1], translator_service_handle, &svc);
    return rc < 0 ? 1 : 0;
}
