/*
 * service.c - the translator's channel protocol. So far it answers liveness pings; block
 * translation requests join it with the front-end (see docs/cpu.md).
 */
#include "translator/service.h"

void translator_service_init(struct translator_service *s, const uint8_t *ram, size_t ram_size)
{
    s->ram = ram;
    s->ram_size = ram_size;
    s->requests = 0;
}

int translator_service_handle(void *ctx, const struct msg *req, struct msg *rsp)
{
    struct translator_service *s = ctx;
    s->requests++;
    switch (req->type) {
    case MSG_XL_PING:
        msg_set(rsp, MSG_XL_PONG, req->payload, sizeof(struct msg_ping));
        return 1;
    default:
        return -1;
    }
}
