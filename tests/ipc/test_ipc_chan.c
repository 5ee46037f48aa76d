/*
 * test_ipc_chan.c - channels with both ends in one process: request/response pairing,
 * direction checks, and every way chan_call and friends time out (-ETIMEDOUT, channel still
 * usable afterwards). Cross-process traffic is in test_ipc_xproc.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "ipc/chan.h"
#include "tests/ipc/ipc_test_util.h"

struct fixture {
    void *mem;
    struct chan client, server;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->mem = ipc_test_alloc(chan_bytes(CHAN_MMU));
    assert_non_null(f->mem);
    assert_int_equal(chan_attach(&f->client, f->mem, chan_bytes(CHAN_MMU), CHAN_MMU, false, true), 0);
    assert_int_equal(chan_attach(&f->server, f->mem, chan_bytes(CHAN_MMU), CHAN_MMU, true, false), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->mem);
    free(f);
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_sides(void **state)
{
    struct fixture *f = *state;
    assert_ptr_equal(chan_out(&f->client), &f->client.req);
    assert_ptr_equal(chan_in(&f->client), &f->client.rsp);
    assert_ptr_equal(chan_out(&f->server), &f->server.rsp);
    assert_ptr_equal(chan_in(&f->server), &f->server.req);
    /* The two rings sit back to back, the response ring right after the request ring. */
    assert_ptr_equal(f->client.req.sh, f->mem);
    assert_ptr_equal((char *)f->client.rsp.sh, (char *)f->mem + ring_bytes(chan_slots(CHAN_MMU)));
    assert_ptr_equal(f->server.rsp.sh, f->client.rsp.sh);
}

static void test_request_response(void **state)
{
    struct fixture *f = *state;
    struct msg req, rsp, got;
    for (uint64_t i = 0; i < 500; i++) {
        ipc_test_ping(&req, MSG_MMU_PING, i * 3);
        assert_int_equal(chan_send(&f->client, &req), 0);
        assert_int_equal(chan_recv(&f->server, &got), 0);
        assert_int_equal(got.type, MSG_MMU_PING);
        assert_int_equal(ipc_test_token(&got), i * 3);
        ipc_test_ping(&rsp, MSG_MMU_PONG, i * 3 + 1);
        assert_int_equal(chan_send(&f->server, &rsp), 0);
        assert_int_equal(chan_recv_wait(&f->client, &got, 0), 0);
        assert_int_equal(got.type, MSG_MMU_PONG);
        assert_int_equal(ipc_test_token(&got), i * 3 + 1);
    }
    /* chan_call with the answer already queued (the server was quicker than us). */
    ipc_test_ping(&rsp, MSG_MMU_PONG, 4242);
    assert_int_equal(chan_send(&f->server, &rsp), 0);
    ipc_test_ping(&req, MSG_MMU_PING, 77);
    assert_int_equal(chan_call(&f->client, &req, &got, 0), 0);
    assert_int_equal(ipc_test_token(&got), 4242);
    assert_int_equal(chan_recv(&f->server, &got), 0);
    assert_int_equal(ipc_test_token(&got), 77);
    assert_false(f->client.broken);
    assert_false(f->server.broken);
}

/* Sending a message of the wrong direction is not stopped by the sender (it is the receiver
 * that decides what to believe), and the receiver rejects it. */
static void test_direction_enforced_by_receiver(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    ipc_test_ping(&m, MSG_MMU_PONG, 1);
    assert_int_equal(chan_send(&f->client, &m), 0);
    assert_int_equal(chan_recv(&f->server, &m), -EPROTO);
    assert_true(f->server.broken);
    /* Only the receiving side is broken; the sender's own view stays healthy. */
    ipc_test_ping(&m, MSG_MMU_PING, 1);
    assert_int_equal(chan_send(&f->client, &m), 0);
    assert_int_equal(chan_recv(&f->client, &m), -EAGAIN);
    assert_false(f->client.broken);
    /* The same the other way: a request type travelling on the response ring. */
    ipc_test_ping(&m, MSG_MMU_PING, 2);
    f->server.broken = false;
    assert_int_equal(chan_send(&f->server, &m), 0);
    assert_int_equal(chan_recv(&f->client, &m), -EPROTO);
    assert_true(f->client.broken);
}

static void test_call_times_out_without_answer(void **state)
{
    struct fixture *f = *state;
    struct msg req, rsp, got;
    ipc_test_ping(&req, MSG_MMU_PING, 1);
    uint64_t t0 = now_ms();
    assert_int_equal(chan_call(&f->client, &req, &rsp, 40), -ETIMEDOUT);
    uint64_t el = now_ms() - t0;
    assert_true(el >= 40);
    assert_true(el < 3000);
    assert_false(f->client.broken);
    assert_true(f->client.rsp.sleeps >= 1);
    /* The request itself was delivered. */
    assert_int_equal(chan_recv(&f->server, &got), 0);
    assert_int_equal(ipc_test_token(&got), 1);
    /* A late answer is what the next receive gets: callers that time out must match
     * responses to requests (by token) rather than assume the next one is theirs. */
    ipc_test_ping(&rsp, MSG_MMU_PONG, 1);
    assert_int_equal(chan_send(&f->server, &rsp), 0);
    ipc_test_ping(&req, MSG_MMU_PING, 2);
    assert_int_equal(chan_call(&f->client, &req, &got, 0), 0);
    assert_int_equal(ipc_test_token(&got), 1);
    assert_int_equal(chan_call(&f->client, &req, &got, 0), -ETIMEDOUT);
    /* Zero timeout: one spin, no sleep, then -ETIMEDOUT. */
    assert_int_equal(chan_recv_wait(&f->client, &got, 0), -ETIMEDOUT);
    assert_int_equal(chan_recv(&f->server, &got), 0);
    assert_int_equal(chan_recv(&f->server, &got), 0);
    assert_int_equal(chan_recv_wait(&f->server, &got, 20), -ETIMEDOUT);
    assert_false(f->server.broken);
}

static void test_call_times_out_when_request_ring_full(void **state)
{
    struct fixture *f = *state;
    struct msg req, rsp;
    uint32_t n = chan_slots(CHAN_MMU);
    for (uint32_t i = 0; i < n; i++) {
        ipc_test_ping(&req, MSG_MMU_PING, i);
        assert_int_equal(chan_send(&f->client, &req), 0);
    }
    ipc_test_ping(&req, MSG_MMU_PING, 999);
    assert_int_equal(chan_send(&f->client, &req), -EAGAIN);
    uint64_t t0 = now_ms();
    assert_int_equal(chan_send_wait(&f->client, &req, 30), -ETIMEDOUT);
    assert_true(now_ms() - t0 >= 30);
    t0 = now_ms();
    assert_int_equal(chan_call(&f->client, &req, &rsp, 30), -ETIMEDOUT);
    assert_true(now_ms() - t0 >= 30);
    assert_true(f->client.req.sleeps >= 2);
    assert_false(f->client.broken);
    /* Nothing of the refused request got in: the server sees exactly the first n. */
    struct msg got;
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(chan_recv(&f->server, &got), 0);
        assert_int_equal(ipc_test_token(&got), i);
    }
    assert_int_equal(chan_recv(&f->server, &got), -EAGAIN);
    assert_int_equal(chan_send_wait(&f->client, &req, 30), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direction_enforced_by_receiver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_times_out_without_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_times_out_when_request_ring_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
