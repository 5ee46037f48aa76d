/*
 * test_ipc_xproc.c - channels between two processes, as the components use them: a forked
 * server maps a sealed memfd region by its fd and serves a channel in it. An echo server under
 * 200k back-to-back calls (server spinning) and after idle periods long enough that it must go
 * to sleep on the futex doorbell; a one-way posted burst that keeps the ring full so the
 * producer has to wait for space. Every message is checked on both sides, and the ring
 * statistics (sleeps, spins_won) must move the way the waiting strategy says they do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/chan.h"
#include "ipc/region.h"
#include "tests/ipc/ipc_test_util.h"

#define HOT_CALLS 200000u
#define IDLE_ROUNDS 20u
#define IDLE_MS 30          /* far beyond the longest spin (RING_SPIN_MAX_NS) */
#define CALLS_PER_ROUND 50u
#define TOKEN_MAGIC 0x5EC0DEC0FFEE1234ULL
#define BURST_TOTAL 100000u
#define CALL_TIMEOUT_MS 10000

/* Shared between the test and its server process, in a region of its own. */
struct board {
    uint32_t go;     /* test -> server: start consuming */
    uint32_t stop;   /* test -> server: leave */
    uint64_t served; /* server -> test, published after every message */
    uint64_t bad;    /* messages that failed the server's checks */
    uint64_t in_sleeps, in_spins_won; /* the server's incoming ring statistics */
};

struct fixture {
    struct region chan_region, board_region;
    struct board *board;
    struct chan client;
    pid_t server;
};

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void publish(struct board *b, const struct chan *c, uint64_t served, uint64_t bad)
{
    const struct ring *in = c->server ? &c->req : &c->rsp;
    __atomic_store_n(&b->in_sleeps, in->sleeps, __ATOMIC_RELAXED);
    __atomic_store_n(&b->in_spins_won, in->spins_won, __ATOMIC_RELAXED);
    __atomic_store_n(&b->bad, bad, __ATOMIC_RELAXED);
    __atomic_store_n(&b->served, served, __ATOMIC_RELEASE);
}

/* ---- server processes: they map the region from its fd, like a component ---- */

static int server_attach(struct fixture *f, enum chan_kind kind, struct chan *c, struct board **b)
{
    struct region cr, br;
    if (region_map_fd(&cr, f->chan_region.fd, PROT_READ | PROT_WRITE, f->chan_region.size) < 0 ||
        region_map_fd(&br, f->board_region.fd, PROT_READ | PROT_WRITE, f->board_region.size) < 0)
        return -1;
    *b = br.base;
    return chan_attach(c, cr.base, cr.size, kind, true, false);
}

static int echo_server(struct fixture *f)
{
    struct chan c;
    struct board *b;
    uint64_t served = 0, bad = 0;
    if (server_attach(f, CHAN_XLATE, &c, &b) < 0)
        return 10;
    for (;;) {
        struct msg req, rsp;
        int rc = chan_recv_wait(&c, &req, 10);
        if (rc == -ETIMEDOUT) {
            if (__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
                return bad ? 12 : 0;
            continue;
        }
        if (rc < 0)
            return 11;
        if (req.type != MSG_XL_PING)
            bad++;
        /* Published before the answer, so a client holding the answer sees the count. */
        publish(b, &c, ++served, bad);
        ipc_test_ping(&rsp, MSG_XL_PONG, ipc_test_token(&req) ^ TOKEN_MAGIC);
        if (chan_send_wait(&c, &rsp, CALL_TIMEOUT_MS) < 0)
            return 13;
    }
}

static int burst_server(struct fixture *f)
{
    struct chan c;
    struct board *b;
    uint64_t bad = 0;
    if (server_attach(f, CHAN_DEV, &c, &b) < 0)
        return 10;
    while (!__atomic_load_n(&b->go, __ATOMIC_ACQUIRE))
        pause_ms(1);
    for (uint32_t i = 0; i < BURST_TOTAL; i++) {
        struct msg m;
        if (chan_recv_wait(&c, &m, CALL_TIMEOUT_MS) < 0)
            return 11;
        struct msg_pio p;
        memcpy(&p, m.payload, sizeof p);
        if (m.type != MSG_DEV_PIO_WRITE || p.value != i || p.port != 0x3F8 + (i & 7) || p.size != 1)
            bad++;
        /* A consumer a little slower than its producer, as a device model is. */
        for (int k = 0; k < 20; k++)
            __builtin_ia32_pause();
        publish(b, &c, i + 1, bad);
    }
    return bad ? 12 : 0;
}

static void start_server(struct fixture *f, int (*server)(struct fixture *))
{
    pid_t parent = getpid();
    f->server = fork();
    assert_true(f->server >= 0);
    if (f->server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != parent)
            _exit(20);
        alarm(120); /* a stuck server dies instead of hanging the suite */
        _exit(server(f));
    }
}

static int wait_server(struct fixture *f)
{
    int status;
    pid_t w;
    do {
        w = waitpid(f->server, &status, 0);
    } while (w < 0 && errno == EINTR);
    assert_int_equal(w, f->server);
    f->server = 0;
    if (!WIFEXITED(status))
        fail_msg("server killed by signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

static int setup_kind(void **state, enum chan_kind kind)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(region_create(&f->chan_region, "test-chan", chan_bytes(kind)), 0);
    assert_int_equal(region_create(&f->board_region, "test-board", sizeof(struct board)), 0);
    f->board = f->board_region.base;
    assert_int_equal(chan_attach(&f->client, f->chan_region.base, f->chan_region.size, kind, false,
                                 true), 0);
    *state = f;
    return 0;
}

static int setup_xlate(void **state) { return setup_kind(state, CHAN_XLATE); }
static int setup_dev(void **state) { return setup_kind(state, CHAN_DEV); }

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->server > 0) {
        kill(f->server, SIGKILL);
        waitpid(f->server, NULL, 0);
    }
    region_destroy(&f->chan_region);
    region_destroy(&f->board_region);
    free(f);
    return 0;
}

static void call_checked(struct chan *c, uint64_t token)
{
    struct msg req, rsp;
    ipc_test_ping(&req, MSG_XL_PING, token);
    int rc = chan_call(c, &req, &rsp, CALL_TIMEOUT_MS);
    if (rc != 0)
        fail_msg("call with token %llx: %d", (unsigned long long)token, rc);
    if (rsp.type != MSG_XL_PONG || ipc_test_token(&rsp) != (token ^ TOKEN_MAGIC))
        fail_msg("wrong reply to %llx: type %u token %llx", (unsigned long long)token, rsp.type,
                 (unsigned long long)ipc_test_token(&rsp));
}

static void test_echo_hot_and_after_idle(void **state)
{
    struct fixture *f = *state;
    start_server(f, echo_server);
    uint64_t token = 1, calls = 0;

    /* Hot: back to back. Each call waits for its answer once, by spinning or (when the server
     * is not on a CPU of its own: this machine is shared) by sleeping; which of the two is a
     * matter of scheduling, so only their sum is checked. */
    for (uint32_t i = 0; i < HOT_CALLS; i++, calls++)
        call_checked(&f->client, token++ * 0x9E3779B97F4A7C15ULL);
    const struct ring *in = chan_in(&f->client);
    uint64_t waited = in->spins_won + in->sleeps;
    if (waited < HOT_CALLS / 2)
        fail_msg("only %llu of %u calls waited for their answer",
                 (unsigned long long)waited, HOT_CALLS);
    assert_int_equal(__atomic_load_n(&f->board->served, __ATOMIC_ACQUIRE), calls);
    print_message("hot: client won %llu spins and slept %llu times; server won %llu, slept %llu\n",
                  (unsigned long long)in->spins_won, (unsigned long long)in->sleeps,
                  (unsigned long long)f->board->in_spins_won, (unsigned long long)f->board->in_sleeps);
    uint64_t sleeps_before = __atomic_load_n(&f->board->in_sleeps, __ATOMIC_RELAXED);

    /* Idle: each pause outlasts the longest spin, so the server is asleep on the futex when
     * the next request comes, and the request's doorbell must wake it. */
    for (uint32_t r = 0; r < IDLE_ROUNDS; r++) {
        pause_ms(IDLE_MS);
        for (uint32_t i = 0; i < CALLS_PER_ROUND; i++, calls++)
            call_checked(&f->client, token++ * 0x9E3779B97F4A7C15ULL);
    }
    assert_int_equal(__atomic_load_n(&f->board->served, __ATOMIC_ACQUIRE), calls);
    uint64_t sleeps_after = __atomic_load_n(&f->board->in_sleeps, __ATOMIC_RELAXED);
    /* One futex sleep per idle round at least (the first round's may fall before its
     * publication); spurious wake-ups can only add more. */
    if (sleeps_after - sleeps_before < IDLE_ROUNDS - 1)
        fail_msg("server slept %llu times over %u idle rounds",
                 (unsigned long long)(sleeps_after - sleeps_before), IDLE_ROUNDS);

    __atomic_store_n(&f->board->stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(wait_server(f), 0);
    assert_int_equal(f->board->bad, 0);
    assert_false(f->client.broken);
}

static void test_posted_burst_fills_ring(void **state)
{
    struct fixture *f = *state;
    uint32_t n = chan_slots(CHAN_DEV);
    start_server(f, burst_server);
    struct msg m;
    uint32_t sent = 0;
    /* The server is not consuming yet: exactly one ring's worth fits. */
    for (;;) {
        struct msg_pio p = {(uint16_t)(0x3F8 + (sent & 7)), 1, 0, sent};
        msg_set(&m, MSG_DEV_PIO_WRITE, &p, sizeof p);
        int rc = chan_send(&f->client, &m);
        if (rc == -EAGAIN)
            break;
        assert_int_equal(rc, 0);
        sent++;
    }
    assert_int_equal(sent, n);
    struct ring *out = chan_out(&f->client);
    assert_int_equal(chan_send_wait(&f->client, &m, 20), -ETIMEDOUT);
    assert_true(out->sleeps >= 1);
    assert_int_equal(out->spins_won, 0);

    __atomic_store_n(&f->board->go, 1, __ATOMIC_RELEASE);
    uint64_t waits_before = out->sleeps + out->spins_won;
    for (; sent < BURST_TOTAL; sent++) {
        struct msg_pio p = {(uint16_t)(0x3F8 + (sent & 7)), 1, 0, sent};
        msg_set(&m, MSG_DEV_PIO_WRITE, &p, sizeof p);
        int rc = chan_send_wait(&f->client, &m, CALL_TIMEOUT_MS);
        if (rc != 0)
            fail_msg("posted message %u: %d", sent, rc);
    }
    /* The producer outran the consumer and had to wait for space (spinning or sleeping). */
    assert_true(out->sleeps + out->spins_won > waits_before);
    assert_int_equal(wait_server(f), 0);
    assert_int_equal(f->board->served, BURST_TOTAL);
    assert_int_equal(f->board->bad, 0);
    assert_false(f->client.broken);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_echo_hot_and_after_idle, setup_xlate, teardown),
        cmocka_unit_test_setup_teardown(test_posted_burst_fills_ring, setup_dev, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
