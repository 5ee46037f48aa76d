/*
 * unsealed_component.c - a deliberately broken component for the sandbox tests: it maps its
 * regions and greets the monitor like a real one, but never loads its seccomp filter. The
 * monitor must notice from /proc, not from the HELLO message, and refuse to start the VM.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "ipc/endpoint.h"

int main(int argc, char **argv)
{
    static struct endpoint ep;
    static const struct endpoint_want wants[] = {
        {"ram", PROT_READ | PROT_WRITE, false, 0, false},
        {"tcache", PROT_READ, false, 0, false},
        {"xlate", PROT_READ | PROT_WRITE, true, CHAN_XLATE, true},
        {"mmu", PROT_READ | PROT_WRITE, true, CHAN_MMU, true},
        {"dev-serial", PROT_READ | PROT_WRITE, true, CHAN_DEV, true},
    };
    const char *why;
    if (endpoint_init(&ep, COMP_VCPU, argc, argv, wants, 5, &why) < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], why);
        return 1;
    }
    return endpoint_handshake(&ep) == 0 ? 0 : 1; /* no endpoint_seal(): that is the point */
}
