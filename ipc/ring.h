/*
 * ring.h - single-producer/single-consumer rings of fixed-size messages in shared memory, with
 * doorbells on shared futex words and a short adaptive spin before sleeping.
 *
 * Shared state is only the two indices and the doorbell words; each side keeps its own index
 * privately and never trusts the peer's beyond a range check, so a hostile peer can at worst
 * stall or garble its own channel (which the receiver detects and reports), never make us read
 * or write outside the ring. Messages are copied out of the slot before they are checked.
 */
#ifndef CLOISTER_IPC_RING_H
#define CLOISTER_IPC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/msg.h"

struct ring_shared {
    _Alignas(64) uint32_t head;        /* written by the producer: messages published */
    _Alignas(64) uint32_t tail;        /* written by the consumer: messages consumed */
    _Alignas(64) uint32_t data_bell;   /* futex: consumer sleeps here waiting for data */
    uint32_t data_sleeping;
    _Alignas(64) uint32_t space_bell;  /* futex: producer sleeps here waiting for space */
    uint32_t space_sleeping;
    _Alignas(64) struct msg slots[];
};

#define RING_HDR_SIZE ((size_t)offsetof(struct ring_shared, slots))
static inline size_t ring_bytes(uint32_t nslots) { return RING_HDR_SIZE + (size_t)nslots * MSG_SIZE; }

/* Adaptive spin, in nanoseconds of spinning before a waiter sleeps. A sleep costs the peer a
 * wake-up of tens of microseconds on these machines, so a waiter whose peer answered soon after
 * it fell asleep spins longer next time; one whose wait was long (an idle peer, or a timeout)
 * spins less. */
#define RING_SPIN_MIN_NS 1000u
#define RING_SPIN_START_NS 10000u
#define RING_SPIN_MAX_NS 25000u
#define RING_IDLE_NS 1000000u /* a wait this long means the peer was idle, not just slow */
/* Losing this many spins in a row at the full budget means spinning itself keeps the peer from
 * running (both on one core): then sleep at once for RING_COOLDOWN waits before trying again. */
#define RING_MAX_MISSES 8u
#define RING_COOLDOWN 1024u

struct ring {
    struct ring_shared *sh;
    uint32_t nslots;   /* power of two, private copy */
    uint32_t pos;      /* private: producer's head or consumer's tail */
    uint32_t seq;      /* private: next sequence number to send / expect */
    uint32_t spin_ns;  /* current adaptive spin budget */
    uint32_t misses;   /* spins lost in a row at the full budget */
    uint32_t cooldown; /* waits left before the budget may grow again */
    int kick_fd;       /* eventfd to write after each push (a peer that sleeps in epoll), or -1 */
    uint64_t sleeps, spins_won; /* statistics */
};

/* Attach to ring memory at `mem` (ring_bytes(nslots) bytes). `init` zeroes the shared part
 * (only the creator does this, before the peer exists). nslots must be a power of two. */
int ring_attach(struct ring *r, void *mem, uint32_t nslots, bool init);

/* Producer: publish one message (seq is filled in). -EAGAIN when full, -EPROTO when the shared
 * tail is out of range (peer corrupted it). */
int ring_push(struct ring *r, struct msg *m);
/* Producer: as ring_push, but waits for space up to timeout_ms (-1: forever). */
int ring_push_wait(struct ring *r, struct msg *m, int timeout_ms);

/* Consumer: copy the next message into *out without checking its contents beyond the sequence
 * number. 0, -EAGAIN when empty, -EPROTO when head is out of range or seq is wrong. */
int ring_pop(struct ring *r, struct msg *out);
/* Consumer: wait until a message is available: spin adaptively, then sleep on the doorbell.
 * 0 when data is there, -ETIMEDOUT, or -EPROTO. timeout_ms -1 waits forever. */
int ring_wait(struct ring *r, int timeout_ms);
/* Consumer: does the ring hold a message now? */
bool ring_ready(const struct ring *r);

#endif
