/*
 * ring.c - SPSC rings. Memory ordering: the producer writes the slot, then publishes head with
 * release; the consumer reads head with acquire, then copies the slot. The doorbell handshake is
 * Dekker-style: a sleeper stores its "sleeping" flag then re-reads the index (seq_cst fence in
 * between); a waker stores the index then reads the flag. One of them always sees the other.
 */
#define _GNU_SOURCE
#include "ipc/ring.h"

#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static inline void cpu_relax(void) { __builtin_ia32_pause(); }

static int futex_wait(uint32_t *addr, uint32_t val, int timeout_ms)
{
    struct timespec ts, *tp = NULL;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
        tp = &ts;
    }
    /* Shared (not PRIVATE) futex: the word lives in a memfd mapped by two processes. */
    if (syscall(SYS_futex, addr, FUTEX_WAIT, val, tp, NULL, 0) < 0)
        return -errno;
    return 0;
}

static void futex_wake(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE, 1, NULL, NULL, 0);
}

int ring_attach(struct ring *r, void *mem, uint32_t nslots, bool init)
{
    if (nslots < 2 || (nslots & (nslots - 1)) || ((uintptr_t)mem & 63))
        return -EINVAL;
    memset(r, 0, sizeof *r);
    r->sh = mem;
    r->nslots = nslots;
    r->spin_ns = RING_SPIN_START_NS;
    r->kick_fd = -1;
    if (init)
        memset(mem, 0, ring_bytes(nslots));
    return 0;
}

static void ring_doorbell(uint32_t *bell, uint32_t *sleeping)
{
    FENCE();
    if (__atomic_load_n(sleeping, __ATOMIC_RELAXED)) {
        __atomic_fetch_add(bell, 1, __ATOMIC_RELEASE);
        futex_wake(bell);
    }
}

int ring_push(struct ring *r, struct msg *m)
{
    uint32_t tail = LOAD_ACQ(&r->sh->tail);
    uint32_t used = r->pos - tail;
    if (used > r->nslots)
        return -EPROTO;
    if (used == r->nslots)
        return -EAGAIN;
    m->seq = r->seq;
    memcpy(&r->sh->slots[r->pos & (r->nslots - 1)], m, sizeof *m);
    r->pos++;
    r->seq++;
    STORE_REL(&r->sh->head, r->pos);
    ring_doorbell(&r->sh->data_bell, &r->sh->data_sleeping);
    if (r->kick_fd >= 0) {
        uint64_t one = 1;
        /* An eventfd write only fails when the counter would overflow: the peer is then
         * already certain to wake, so the error carries no information. */
        if (write(r->kick_fd, &one, sizeof one) < 0) {
        }
    }
    return 0;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Adapt the spin budget to how a wait that had to sleep ended (see ring.h). */
static void adapt(struct ring *r, uint64_t waited_ns, bool timed_out)
{
    if (timed_out || waited_ns >= RING_IDLE_NS) {
        r->spin_ns = r->spin_ns / 2 > RING_SPIN_MIN_NS ? r->spin_ns / 2 : RING_SPIN_MIN_NS;
        r->misses = 0;
    } else if (waited_ns < 4ull * r->spin_ns + 20000u && !r->cooldown) {
        /* The peer answered soon after we gave up: both sides paid a wake-up for nothing. But
         * if even the full budget keeps losing, our spinning is what holds the peer off. */
        if (r->spin_ns == RING_SPIN_MAX_NS && ++r->misses >= RING_MAX_MISSES) {
            r->spin_ns = RING_SPIN_MIN_NS;
            r->cooldown = RING_COOLDOWN;
            r->misses = 0;
        } else {
            r->spin_ns = r->spin_ns * 2 < RING_SPIN_MAX_NS ? r->spin_ns * 2 : RING_SPIN_MAX_NS;
        }
    }
}

/* Wait until ready(r): spin (checking the clock every 32 pauses), then sleep on `bell`. */
static int wait_until(struct ring *r, bool (*ready)(const struct ring *), uint32_t *bell,
                      uint32_t *sleeping, int timeout_ms)
{
    uint64_t start = mono_ns();
    if (r->cooldown)
        r->cooldown--;
    for (uint64_t now = start; now - start < r->spin_ns; now = mono_ns()) {
        for (unsigned i = 0; i < 32; i++) {
            if (ready(r)) {
                r->spins_won++;
                r->misses = 0;
                return 0;
            }
            cpu_relax();
        }
    }
    for (;;) {
        uint32_t v = __atomic_load_n(bell, __ATOMIC_ACQUIRE);
        __atomic_store_n(sleeping, 1, __ATOMIC_RELAXED);
        FENCE();
        if (ready(r)) {
            __atomic_store_n(sleeping, 0, __ATOMIC_RELAXED);
            return 0;
        }
        int left = -1;
        if (timeout_ms >= 0) {
            uint64_t el = (mono_ns() - start) / 1000000u;
            if (el >= (uint64_t)timeout_ms) {
                __atomic_store_n(sleeping, 0, __ATOMIC_RELAXED);
                adapt(r, mono_ns() - start, true);
                return -ETIMEDOUT;
            }
            left = timeout_ms - (int)el;
        }
        r->sleeps++;
        int rc = futex_wait(bell, v, left);
        __atomic_store_n(sleeping, 0, __ATOMIC_RELAXED);
        if (rc < 0 && rc != -EAGAIN && rc != -EINTR && rc != -ETIMEDOUT)
            return rc;
        if (ready(r)) {
            adapt(r, mono_ns() - start, false);
            return 0;
        }
    }
}

static bool has_space(const struct ring *r)
{
    return r->pos - LOAD_ACQ(&r->sh->tail) != r->nslots;
}

int ring_push_wait(struct ring *r, struct msg *m, int timeout_ms)
{
    int rc = ring_push(r, m);
    if (rc != -EAGAIN)
        return rc;
    rc = wait_until(r, has_space, &r->sh->space_bell, &r->sh->space_sleeping, timeout_ms);
    if (rc < 0)
        return rc;
    return ring_push(r, m);
}

bool ring_ready(const struct ring *r)
{
    return LOAD_ACQ(&r->sh->head) != r->pos;
}

int ring_pop(struct ring *r, struct msg *out)
{
    uint32_t head = LOAD_ACQ(&r->sh->head);
    uint32_t avail = head - r->pos;
    if (avail == 0)
        return -EAGAIN;
    if (avail > r->nslots)
        return -EPROTO;
    memcpy(out, &r->sh->slots[r->pos & (r->nslots - 1)], sizeof *out);
    if (out->seq != r->seq)
        return -EPROTO;
    r->pos++;
    r->seq++;
    STORE_REL(&r->sh->tail, r->pos);
    ring_doorbell(&r->sh->space_bell, &r->sh->space_sleeping);
    return 0;
}

int ring_wait(struct ring *r, int timeout_ms)
{
    uint32_t avail = LOAD_ACQ(&r->sh->head) - r->pos;
    if (avail > r->nslots)
        return -EPROTO;
    if (avail)
        return 0;
    return wait_until(r, ring_ready, &r->sh->data_bell, &r->sh->data_sleeping, timeout_ms);
}
