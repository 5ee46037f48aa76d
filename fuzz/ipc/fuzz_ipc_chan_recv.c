/*
 * fuzz_ipc_chan_recv.c - the fuzzer is the hostile peer: its bytes become the shared memory of
 * a channel region (indices, doorbells, sequence numbers, slots), and keep changing it while the
 * receiver works. For every channel kind and both sides, the receiver calls chan_recv until it
 * stops; it must never crash or touch memory outside the rings (the region is malloc'd at its
 * exact size and the page-rounding slack behind the rings is poisoned), must stop, and every
 * message it hands out must be well-formed for that channel and direction.
 *
 * Input: [0] mode bits, [1..4] private index offset, [5..8] private sequence number,
 * then `nmut` (mode bits 4-7) 8-byte mutations (u32 offset, u32 value) applied between
 * receives, then the rest: laid over the region (repeated to fill it), or with mode bit 3, the
 * 64-byte slots of a well-formed stream (sequence numbers and head set right).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include "fuzz/ipc/fuzz_input.h"
#include "ipc/chan.h"

#define MAX_MUT 16

struct mutation {
    uint32_t off, value;
};

static void fill_region(uint8_t *mem, size_t used, const uint8_t *fill, size_t nfill)
{
    if (nfill == 0) {
        memset(mem, 0, used);
        return;
    }
    for (size_t i = 0; i < used; i += nfill)
        memcpy(mem + i, fill, used - i < nfill ? used - i : nfill);
}

static void run_one(enum chan_kind kind, bool server, uint8_t mode, uint32_t pos_off, uint32_t seq,
                    const struct mutation *mut, unsigned nmut, const uint8_t *fill, size_t nfill)
{
    size_t bytes = chan_bytes(kind);
    uint32_t n = chan_slots(kind);
    size_t used = 2 * ring_bytes(n);
    uint8_t *mem = aligned_alloc(64, bytes);
    if (!mem)
        abort();
    ASAN_POISON_MEMORY_REGION(mem + used, bytes - used);

    struct chan c;
    if (chan_attach(&c, mem, bytes, kind, server, false) != 0)
        abort();
    struct ring *in = chan_in(&c);
    if (mode & 8) {
        /* A well-behaved peer's ring carrying the input's slots as messages, so that the
         * fuzzer reaches the message checks (and the mutations corrupt a live stream). */
        memset(mem, 0, used);
        uint32_t count = (uint32_t)(nfill / MSG_SIZE) < n ? (uint32_t)(nfill / MSG_SIZE) : n;
        for (uint32_t i = 0; i < count; i++) {
            memcpy(&in->sh->slots[i], fill + (size_t)i * MSG_SIZE, MSG_SIZE);
            in->sh->slots[i].seq = i;
        }
        in->sh->head = count;
        in->pos = in->seq = 0;
    } else {
        fill_region(mem, used, fill, nfill);
        if (mode & 1) {
            /* Start near the peer's head, as a receiver that has kept up would be. */
            in->pos = in->sh->head - pos_off;
            in->seq = (mode & 2) ? in->sh->slots[in->pos & (n - 1)].seq : seq;
        } else {
            in->pos = pos_off;
            in->seq = seq;
        }
    }
    chan_out(&c)->pos = chan_out(&c)->sh->tail + (pos_off & (2 * n - 1));
    in->spin_ns = RING_SPIN_MIN_NS; /* keep waits short: the peer here never writes */

    /* Each mutation can expose at most n more messages, so this many receives must end it. */
    unsigned limit = n * (nmut + 1) + 1, got = 0, m_next = 0;
    int rc = 0;
    for (unsigned i = 0; i <= limit; i++) {
        struct msg m;
        rc = chan_recv(&c, &m);
        if (rc != 0)
            break;
        got++;
        if (msg_check(&m, kind, server ? DIR_REQ : DIR_RSP) != 0)
            abort(); /* the channel handed out something its own check rejects */
        if (m_next < nmut) {
            /* The peer writes while we read: any aligned word of the two rings. */
            size_t off = (mut[m_next].off % (used / 4)) * 4;
            uint32_t v = mut[m_next].value;
            memcpy(mem + off, &v, 4);
            m_next++;
        }
    }
    if (rc == 0 || (rc != -EAGAIN && rc != -EPROTO))
        abort(); /* did not stop, or stopped for a reason the contract does not have */
    if ((rc == -EPROTO) != c.broken || got > limit)
        abort();
    if (c.broken) {
        struct msg m;
        if (chan_recv(&c, &m) != -EPROTO || chan_send(&c, &m) != -EPROTO)
            abort();
    } else {
        /* Waiting and sending on the same garbage stay inside the contract too. */
        struct msg m;
        int w = chan_recv_wait(&c, &m, 0);
        if (w != 0 && w != -ETIMEDOUT && w != -EPROTO && w != -EAGAIN)
            abort();
        struct msg_ping p = {.token = seq};
        msg_set(&m, server ? MSG_DEV_PONG : MSG_DEV_PING, &p, sizeof p);
        int s = chan_send(&c, &m);
        if (s != 0 && s != -EAGAIN && s != -EPROTO)
            abort();
    }
    ASAN_UNPOISON_MEMORY_REGION(mem, bytes);
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    uint8_t mode = fuzz_u8(&in);
    uint32_t pos_off = fuzz_u32(&in);
    uint32_t seq = fuzz_u32(&in);
    unsigned nmut = (mode >> 4) % (MAX_MUT + 1);
    struct mutation mut[MAX_MUT];
    for (unsigned i = 0; i < nmut; i++) {
        mut[i].off = fuzz_u32(&in);
        mut[i].value = fuzz_u32(&in);
    }
    /* Small offsets are the interesting ones when starting near the head. */
    if (mode & 1)
        pos_off %= 300;
    for (unsigned k = 0; k < CHAN_KIND_COUNT; k++)
        for (int server = 0; server < 2; server++)
            run_one((enum chan_kind)k, server, mode, pos_off, seq, mut, nmut, in.p, in.left);
    return 0;
}
