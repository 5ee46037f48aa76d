/*
 * chan.c - channels over two rings. Validation happens here, once, for every receiver.
 */
#include "ipc/chan.h"

#include <errno.h>

uint32_t chan_slots(enum chan_kind kind)
{
    switch (kind) {
    case CHAN_DEV:
        return 256;
    case CHAN_CTL:
    case CHAN_XLATE:
    case CHAN_MMU:
    default:
        return 64;
    }
}

size_t chan_bytes(enum chan_kind kind)
{
    size_t n = 2 * ring_bytes(chan_slots(kind));
    return (n + 4095) & ~(size_t)4095;
}

int chan_attach(struct chan *c, void *mem, size_t avail, enum chan_kind kind, bool server, bool init)
{
    if (kind >= CHAN_KIND_COUNT || avail < chan_bytes(kind))
        return -EINVAL;
    uint32_t n = chan_slots(kind);
    c->kind = kind;
    c->server = server;
    c->broken = false;
    int rc = ring_attach(&c->req, mem, n, init);
    if (rc == 0)
        rc = ring_attach(&c->rsp, (char *)mem + ring_bytes(n), n, init);
    return rc;
}

int chan_send(struct chan *c, struct msg *m)
{
    if (c->broken)
        return -EPROTO;
    int rc = ring_push(chan_out(c), m);
    if (rc == -EPROTO)
        c->broken = true;
    return rc;
}

int chan_send_wait(struct chan *c, struct msg *m, int timeout_ms)
{
    if (c->broken)
        return -EPROTO;
    int rc = ring_push_wait(chan_out(c), m, timeout_ms);
    if (rc == -EPROTO)
        c->broken = true;
    return rc;
}

int chan_recv(struct chan *c, struct msg *m)
{
    if (c->broken)
        return -EPROTO;
    int rc = ring_pop(chan_in(c), m);
    if (rc == 0)
        rc = msg_check(m, c->kind, c->server ? DIR_REQ : DIR_RSP);
    if (rc == -EPROTO)
        c->broken = true;
    return rc;
}

int chan_recv_wait(struct chan *c, struct msg *m, int timeout_ms)
{
    if (c->broken)
        return -EPROTO;
    int rc = ring_wait(chan_in(c), timeout_ms);
    if (rc == -EPROTO)
        c->broken = true;
    if (rc < 0)
        return rc;
    return chan_recv(c, m);
}

int chan_call(struct chan *c, struct msg *req, struct msg *rsp, int timeout_ms)
{
    int rc = chan_send_wait(c, req, timeout_ms);
    if (rc < 0)
        return rc;
    return chan_recv_wait(c, rsp, timeout_ms);
}
