/*
 * service.h - the shadow MMU's request handler: what it answers on the vCPU's channel. Every
 * request is untrusted (a compromised vCPU may send anything the channel lets through).
 */
#ifndef CLOISTER_MMU_SERVICE_H
#define CLOISTER_MMU_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"

struct mmu_service {
    uint8_t *ram;  /* guest RAM (read-write: page walks set accessed and dirty bits) */
    size_t ram_size;
    uint64_t requests;
};

void mmu_service_init(struct mmu_service *s, uint8_t *ram, size_t ram_size);
/* Returns 1 with *rsp to send, or -1 for a request this service does not serve. */
int mmu_service_handle(void *ctx, const struct msg *req, struct msg *rsp);

#endif
