/*
 * chan.h - a channel: one request ring (client -> server) and one response ring (server ->
 * client) laid out back to back in a shared region. Both sides compute the layout from the
 * channel kind alone; nothing in the region tells either side where anything is.
 *
 * Every message received through chan_recv() has passed msg_check() for this channel and
 * direction. Any failure (bad index, bad sequence, bad type/length/payload) is -EPROTO: the
 * caller must treat the peer as hostile, stop using the channel and report it.
 */
#ifndef CLOISTER_IPC_CHAN_H
#define CLOISTER_IPC_CHAN_H

#include "ipc/msg.h"
#include "ipc/ring.h"

struct chan {
    struct ring req, rsp;
    enum chan_kind kind;
    bool server;
    bool broken; /* set on the first protocol error; every later call fails */
};

/* Slots per ring for each channel kind. */
uint32_t chan_slots(enum chan_kind kind);
/* Bytes of shared memory a channel of this kind needs (page-rounded). */
size_t chan_bytes(enum chan_kind kind);

/* Attach at `mem` (chan_bytes(kind) bytes, 64-byte aligned). `init` zeroes the rings. */
int chan_attach(struct chan *c, void *mem, size_t avail, enum chan_kind kind, bool server, bool init);

/* Send on our outgoing ring (non-blocking: -EAGAIN when full). */
int chan_send(struct chan *c, struct msg *m);
/* Send, waiting up to timeout_ms for space. */
int chan_send_wait(struct chan *c, struct msg *m, int timeout_ms);
/* Receive and check the next incoming message: 0, -EAGAIN (none), -EPROTO (hostile peer). */
int chan_recv(struct chan *c, struct msg *m);
/* Wait for an incoming message (spin, then sleep), then receive it. */
int chan_recv_wait(struct chan *c, struct msg *m, int timeout_ms);
/* Client: send a request and wait for the next response. */
int chan_call(struct chan *c, struct msg *req, struct msg *rsp, int timeout_ms);

/* The outgoing / incoming ring of this side. */
static inline struct ring *chan_out(struct chan *c) { return c->server ? &c->rsp : &c->req; }
static inline struct ring *chan_in(struct chan *c) { return c->server ? &c->req : &c->rsp; }

#endif
