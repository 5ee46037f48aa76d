/*
 * service.c - the translator's channel protocol: liveness pings, and TRANSLATE requests that
 * build a block with the front-end into the staging region and answer where it is.
 */
#include "translator/service.h"

#include "translator/frontend.h"

void translator_service_init(struct translator_service *s, const uint8_t *ram, size_t ram_size,
                             uint8_t *staging, size_t staging_size)
{
    s->ram = ram;
    s->ram_size = ram_size;
    s->staging = staging;
    s->staging_size = staging_size;
    s->next = 0;
    s->requests = s->blocks = s->insns = 0;
}

static int translate(struct translator_service *s, const struct msg *req, struct msg *rsp)
{
    const struct msg_translate *t = (const void *)req->payload;
    struct msg_block b = {XL_FETCH_LIMIT, 0, 0, t->eip};
    size_t size = 0;
    if (s->next + TC_MAX_BLOCK_BYTES > s->staging_size)
        s->next = 0;
    if (s->next + TC_MAX_BLOCK_BYTES <= s->staging_size) {
        struct tc_block_hdr *h = (struct tc_block_hdr *)(s->staging + s->next);
        b.status = (uint32_t)fe_build_block(s->ram, s->ram_size, t, h, TC_MAX_BLOCK_BYTES, &size);
        if (b.status == XL_OK) {
            b.offset = (uint32_t)s->next;
            b.size = (uint32_t)size;
            s->next += (size + 63) & ~(size_t)63;
            s->blocks++;
            s->insns += h->ninsn;
        }
    }
    msg_set(rsp, MSG_XL_BLOCK, &b, sizeof b);
    return 1;
}

int translator_service_handle(void *ctx, const struct msg *req, struct msg *rsp)
{
    struct translator_service *s = ctx;
    s->requests++;
    switch (req->type) {
    case MSG_XL_PING:
        msg_set(rsp, MSG_XL_PONG, req->payload, sizeof(struct msg_ping));
        return 1;
    case MSG_XL_TRANSLATE:
        return translate(s, req, rsp);
    default:
        return -1;
    }
}
