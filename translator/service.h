/*
 * service.h - the translator's request handler: what it answers on the vCPU's channel. Every
 * request is untrusted (a compromised vCPU may send anything the channel lets through).
 */
#ifndef CLOISTER_TRANSLATOR_SERVICE_H
#define CLOISTER_TRANSLATOR_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"

struct translator_service {
    const uint8_t *ram;  /* guest RAM, mapped read-only */
    size_t ram_size;
    uint8_t *staging;    /* the staging region (ipc/tcache.h), ours to write */
    size_t staging_size;
    size_t next;         /* where the next block goes (a ring) */
    uint64_t requests, blocks, insns;
};

void translator_service_init(struct translator_service *s, const uint8_t *ram, size_t ram_size,
                             uint8_t *staging, size_t staging_size);
/* Returns 1 with *rsp to send, or -1 for a request this service does not serve. */
int translator_service_handle(void *ctx, const struct msg *req, struct msg *rsp);

#endif
