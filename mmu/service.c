/*
 * service.c - the shadow MMU's channel protocol. So far it answers liveness pings; shadow-miss
 * and tracked-write requests join it with the shadow page tables (docs/mmu.md, issue 4).
 */
#include "mmu/service.h"

void mmu_service_init(struct mmu_service *s, uint8_t *ram, size_t ram_size)
{
    s->ram = ram;
    s->ram_size = ram_size;
    s->requests = 0;
}

int mmu_service_handle(void *ctx, const struct msg *req, struct msg *rsp)
{
    struct mmu_service *s = ctx;
    s->requests++;
    switch (req->type) {
    case MSG_MMU_PING:
        msg_set(rsp, MSG_MMU_PONG, req->payload, sizeof(struct msg_ping));
        return 1;
    default:
        return -1;
    }
}
