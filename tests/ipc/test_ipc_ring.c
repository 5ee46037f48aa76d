/*
 * test_ipc_ring.c - the SPSC ring on its own, both ends in one process: FIFO order, full and
 * empty rings, wraparound of the slot index and of the 32-bit indices themselves, doorbells,
 * kicks and wait timeouts. Hostile peers are in test_ipc_hostile.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/ring.h"
#include "tests/ipc/ipc_test_util.h"

#define NSLOTS 8u

struct pair {
    void *mem;
    struct ring prod, cons;
};

static int pair_setup(void **state)
{
    struct pair *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->mem = ipc_test_alloc(ring_bytes(NSLOTS));
    assert_non_null(p->mem);
    assert_int_equal(ring_attach(&p->prod, p->mem, NSLOTS, true), 0);
    assert_int_equal(ring_attach(&p->cons, p->mem, NSLOTS, false), 0);
    *state = p;
    return 0;
}

static int pair_teardown(void **state)
{
    struct pair *p = *state;
    free(p->mem);
    free(p);
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void push_token(struct ring *r, uint64_t token)
{
    struct msg m;
    ipc_test_ping(&m, MSG_XL_PING, token);
    assert_int_equal(ring_push(r, &m), 0);
}

static void pop_expect(struct ring *r, uint64_t token)
{
    struct msg m;
    assert_int_equal(ring_pop(r, &m), 0);
    assert_int_equal(m.type, MSG_XL_PING);
    assert_int_equal(m.len, sizeof(struct msg_ping));
    assert_int_equal(ipc_test_token(&m), token);
}

static void test_attach_rejects_bad_arguments(void **state)
{
    (void)state;
    struct ring r;
    void *mem = ipc_test_alloc(ring_bytes(64) + 64);
    assert_non_null(mem);
    assert_int_equal(ring_attach(&r, mem, 0, true), -EINVAL);
    assert_int_equal(ring_attach(&r, mem, 1, true), -EINVAL);
    assert_int_equal(ring_attach(&r, mem, 3, true), -EINVAL);
    assert_int_equal(ring_attach(&r, mem, 48, true), -EINVAL);
    assert_int_equal(ring_attach(&r, (char *)mem + 8, 8, true), -EINVAL);
    assert_int_equal(ring_attach(&r, (char *)mem + 32, 8, true), -EINVAL);
    assert_int_equal(ring_attach(&r, (char *)mem + 64, 8, true), 0);
    assert_int_equal(ring_attach(&r, mem, 2, true), 0);
    assert_int_equal(ring_attach(&r, mem, 64, true), 0);
    assert_int_equal(r.kick_fd, -1);
    assert_int_equal(r.pos, 0);
    assert_int_equal(r.seq, 0);
    free(mem);
}

static void test_layout(void **state)
{
    (void)state;
    /* Indices and doorbells each own a cache line; slots start on a line of their own. */
    assert_int_equal(offsetof(struct ring_shared, head) % 64, 0);
    assert_int_equal(offsetof(struct ring_shared, tail) % 64, 0);
    assert_true(offsetof(struct ring_shared, tail) != offsetof(struct ring_shared, head));
    assert_int_equal(offsetof(struct ring_shared, data_bell) % 64, 0);
    assert_int_equal(offsetof(struct ring_shared, space_bell) % 64, 0);
    assert_int_equal(RING_HDR_SIZE % 64, 0);
    assert_int_equal(ring_bytes(8), RING_HDR_SIZE + 8 * 64);
}

static void test_empty_ring(void **state)
{
    struct pair *p = *state;
    struct msg m;
    memset(&m, 0xAB, sizeof m);
    assert_false(ring_ready(&p->cons));
    assert_int_equal(ring_pop(&p->cons, &m), -EAGAIN);
    assert_int_equal(p->cons.pos, 0);
    assert_int_equal(ring_wait(&p->cons, 0), -ETIMEDOUT);
    push_token(&p->prod, 7);
    assert_true(ring_ready(&p->cons));
    assert_int_equal(ring_wait(&p->cons, 0), 0);
    pop_expect(&p->cons, 7);
    assert_false(ring_ready(&p->cons));
    assert_int_equal(ring_pop(&p->cons, &m), -EAGAIN);
}

static void test_full_ring(void **state)
{
    struct pair *p = *state;
    struct msg m;
    for (unsigned i = 0; i < NSLOTS; i++)
        push_token(&p->prod, 100 + i);
    ipc_test_ping(&m, MSG_XL_PING, 999);
    m.seq = 0xDEADBEEF;
    assert_int_equal(ring_push(&p->prod, &m), -EAGAIN);
    /* A refused push changes nothing: neither the message nor the producer's state. */
    assert_int_equal(m.seq, 0xDEADBEEF);
    assert_int_equal(p->prod.pos, NSLOTS);
    assert_int_equal(p->prod.seq, NSLOTS);
    assert_int_equal(p->prod.sh->head, NSLOTS);
    /* One pop makes exactly one slot free. */
    pop_expect(&p->cons, 100);
    push_token(&p->prod, 100 + NSLOTS);
    assert_int_equal(ring_push(&p->prod, &m), -EAGAIN);
    for (unsigned i = 1; i <= NSLOTS; i++)
        pop_expect(&p->cons, 100 + i);
    assert_int_equal(ring_pop(&p->cons, &m), -EAGAIN);
}

static void test_push_wait_times_out_when_full(void **state)
{
    struct pair *p = *state;
    struct msg m;
    for (unsigned i = 0; i < NSLOTS; i++)
        push_token(&p->prod, i);
    ipc_test_ping(&m, MSG_XL_PING, 1);
    uint32_t spin_before = p->prod.spin_ns;
    uint64_t t0 = now_ms();
    assert_int_equal(ring_push_wait(&p->prod, &m, 30), -ETIMEDOUT);
    uint64_t el = now_ms() - t0;
    assert_true(el >= 30);
    assert_true(el < 2000);
    /* The spin failed, it slept on the space doorbell, and the timeout halved the budget. */
    assert_true(p->prod.sleeps >= 1);
    assert_int_equal(p->prod.spins_won, 0);
    assert_int_equal(p->prod.spin_ns, spin_before / 2);
    assert_int_equal(p->prod.sh->space_sleeping, 0);
    /* With space available it returns at once. */
    pop_expect(&p->cons, 0);
    assert_int_equal(ring_push_wait(&p->prod, &m, 0), 0);
}

static void test_wait_times_out_when_empty(void **state)
{
    struct pair *p = *state;
    uint64_t t0 = now_ms();
    assert_int_equal(ring_wait(&p->cons, 25), -ETIMEDOUT);
    uint64_t el = now_ms() - t0;
    assert_true(el >= 25);
    assert_true(el < 2000);
    assert_true(p->cons.sleeps >= 1);
    assert_int_equal(p->cons.sh->data_sleeping, 0);
    /* The budget shrinks on every timed-out wait but never below the minimum. */
    for (int i = 0; i < 20; i++)
        assert_int_equal(ring_wait(&p->cons, 0), -ETIMEDOUT);
    assert_int_equal(p->cons.spin_ns, RING_SPIN_MIN_NS);
}

/* Many laps of the slot array with every batch size from 1 to a full ring. */
static void test_wraparound_many_laps(void **state)
{
    struct pair *p = *state;
    uint64_t sent = 0, got = 0;
    for (unsigned lap = 0; lap < 5000; lap++) {
        unsigned batch = 1 + lap % NSLOTS;
        for (unsigned i = 0; i < batch; i++)
            push_token(&p->prod, sent++);
        for (unsigned i = 0; i < batch; i++)
            pop_expect(&p->cons, got++);
    }
    /* Interleaved, keeping the ring partly full. */
    for (unsigned i = 0; i < NSLOTS / 2; i++)
        push_token(&p->prod, sent++);
    for (unsigned i = 0; i < 20000; i++) {
        push_token(&p->prod, sent++);
        pop_expect(&p->cons, got++);
    }
    while (got < sent)
        pop_expect(&p->cons, got++);
    assert_int_equal(p->prod.pos, (uint32_t)sent);
    assert_int_equal(p->cons.pos, (uint32_t)sent);
    assert_int_equal(p->prod.sh->tail, (uint32_t)sent);
}

/* Both ends, and the shared indices, as if 2^32 - 16 messages had already passed. */
static void set_indices(struct pair *p, uint32_t idx, uint32_t seq)
{
    p->prod.pos = p->cons.pos = idx;
    p->prod.seq = p->cons.seq = seq;
    p->prod.sh->head = p->prod.sh->tail = idx;
}

static void test_wraparound_32bit_indices(void **state)
{
    struct pair *p = *state;
    struct msg m;
    set_indices(p, 0xFFFFFFF0u, 0xFFFFFFF8u);
    uint64_t sent = 0, got = 0;
    for (unsigned round = 0; round < 64; round++) {
        unsigned batch = 1 + (round * 5) % NSLOTS;
        for (unsigned i = 0; i < batch; i++)
            push_token(&p->prod, sent++);
        assert_true(ring_ready(&p->cons));
        for (unsigned i = 0; i < batch; i++)
            pop_expect(&p->cons, got++);
        assert_int_equal(ring_pop(&p->cons, &m), -EAGAIN);
    }
    /* Both the index and the sequence number crossed zero. */
    assert_true(p->prod.pos < 0x1000);
    assert_true(p->cons.seq < 0x1000);
    assert_int_equal(p->prod.sh->head, p->cons.pos);
}

static void test_full_and_empty_across_32bit_wrap(void **state)
{
    struct pair *p = *state;
    struct msg m;
    /* The ring's slots straddle the wrap: head ends past zero, tail still below it. */
    set_indices(p, 0xFFFFFFFDu, 0xFFFFFFFEu);
    for (unsigned i = 0; i < NSLOTS; i++)
        push_token(&p->prod, 500 + i);
    assert_int_equal(p->prod.sh->head, (uint32_t)(0xFFFFFFFDu + NSLOTS));
    ipc_test_ping(&m, MSG_XL_PING, 1);
    assert_int_equal(ring_push(&p->prod, &m), -EAGAIN);
    assert_int_equal(ring_push_wait(&p->prod, &m, 0), -ETIMEDOUT);
    for (unsigned i = 0; i < NSLOTS; i++)
        pop_expect(&p->cons, 500 + i);
    assert_int_equal(ring_pop(&p->cons, &m), -EAGAIN);
    assert_int_equal(ring_wait(&p->cons, 0), -ETIMEDOUT);
    assert_int_equal(ring_push(&p->prod, &m), 0);
    pop_expect(&p->cons, 1);
}

static void test_sequence_numbers(void **state)
{
    struct pair *p = *state;
    struct msg m;
    for (uint32_t i = 0; i < 3 * NSLOTS; i++) {
        ipc_test_ping(&m, MSG_XL_PING, i);
        m.seq = 0x12345678; /* whatever the caller left there is overwritten */
        assert_int_equal(ring_push(&p->prod, &m), 0);
        assert_int_equal(m.seq, i);
        assert_int_equal(ring_pop(&p->cons, &m), 0);
        assert_int_equal(m.seq, i);
    }
}

static void test_doorbells_ring_only_for_sleepers(void **state)
{
    struct pair *p = *state;
    struct ring_shared *sh = p->prod.sh;
    push_token(&p->prod, 1);
    assert_int_equal(sh->data_bell, 0);
    sh->data_sleeping = 1;
    push_token(&p->prod, 2);
    assert_int_equal(sh->data_bell, 1);
    sh->data_sleeping = 0;
    pop_expect(&p->cons, 1);
    assert_int_equal(sh->space_bell, 0);
    sh->space_sleeping = 1;
    pop_expect(&p->cons, 2);
    assert_int_equal(sh->space_bell, 1);
    assert_int_equal(sh->data_bell, 1);
}

static void test_kick_fd_written_per_push(void **state)
{
    struct pair *p = *state;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(efd >= 0);
    p->prod.kick_fd = efd;
    for (unsigned i = 0; i < 5; i++)
        push_token(&p->prod, i);
    struct msg m;
    ipc_test_ping(&m, MSG_XL_PING, 5);
    assert_int_equal(ring_push_wait(&p->prod, &m, 0), 0); /* the waiting push kicks too */
    uint64_t v = 0;
    assert_int_equal(read(efd, &v, sizeof v), sizeof v);
    assert_int_equal(v, 6);
    /* A refused push does not kick. */
    while (ring_push(&p->prod, &m) == 0)
        ;
    assert_int_equal(read(efd, &v, sizeof v), sizeof v);
    assert_int_equal(v, NSLOTS - 6);
    assert_int_equal(ring_push(&p->prod, &m), -EAGAIN);
    assert_int_equal(read(efd, &v, sizeof v), -1);
    assert_int_equal(errno, EAGAIN);
    close(efd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attach_rejects_bad_arguments),
        cmocka_unit_test(test_layout),
        cmocka_unit_test_setup_teardown(test_empty_ring, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_full_ring, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_push_wait_times_out_when_full, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_wait_times_out_when_empty, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_wraparound_many_laps, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_wraparound_32bit_indices, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_full_and_empty_across_32bit_wrap, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_sequence_numbers, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_doorbells_ring_only_for_sleepers, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_kick_fd_written_per_push, pair_setup, pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
