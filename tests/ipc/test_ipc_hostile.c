/*
 * test_ipc_hostile.c - a peer that writes garbage into the shared channel memory: indices out of
 * range (ahead, behind, replayed), wrong sequence numbers, message types of another channel or
 * direction, bad lengths, and random bytes over the whole region. The receiver must answer
 * -EPROTO and mark the channel broken, and must never read or write outside the ring: the
 * memory is malloc'd at exactly the size the library asks for, and the page-rounding slack
 * behind the two rings is poisoned, so AddressSanitizer catches any stray access.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sanitizer/asan_interface.h>

#include "ipc/chan.h"
#include "tests/ipc/ipc_test_util.h"

struct fixture {
    enum chan_kind kind;
    void *mem;
    size_t bytes;
    struct chan client, server;
};

static void fixture_open(struct fixture *f, enum chan_kind kind)
{
    f->kind = kind;
    f->bytes = chan_bytes(kind);
    f->mem = ipc_test_alloc(f->bytes);
    assert_non_null(f->mem);
    size_t used = 2 * ring_bytes(chan_slots(kind));
    assert_true(used <= f->bytes);
    ASAN_POISON_MEMORY_REGION((char *)f->mem + used, f->bytes - used);
    assert_int_equal(chan_attach(&f->client, f->mem, f->bytes, kind, false, true), 0);
    assert_int_equal(chan_attach(&f->server, f->mem, f->bytes, kind, true, false), 0);
}

static void fixture_close(struct fixture *f)
{
    ASAN_UNPOISON_MEMORY_REGION(f->mem, f->bytes);
    free(f->mem);
    f->mem = NULL;
}

static int setup_xlate(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fixture_open(f, CHAN_XLATE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fixture_close(f);
    free(f);
    return 0;
}

static void send_ping(struct chan *c, uint64_t token)
{
    struct msg m;
    ipc_test_ping(&m, c->server ? MSG_XL_PONG : MSG_XL_PING, token);
    assert_int_equal(chan_send(c, &m), 0);
}

/* Once broken, every operation on the channel fails without touching the rings. */
static void assert_broken(struct chan *c)
{
    struct msg m, rsp;
    assert_true(c->broken);
    uint32_t in_pos = chan_in(c)->pos, out_pos = chan_out(c)->pos;
    assert_int_equal(chan_recv(c, &m), -EPROTO);
    assert_int_equal(chan_recv_wait(c, &m, 0), -EPROTO);
    ipc_test_ping(&m, c->server ? MSG_XL_PONG : MSG_XL_PING, 1);
    assert_int_equal(chan_send(c, &m), -EPROTO);
    assert_int_equal(chan_send_wait(c, &m, 0), -EPROTO);
    if (!c->server)
        assert_int_equal(chan_call(c, &m, &rsp, 0), -EPROTO);
    assert_int_equal(chan_in(c)->pos, in_pos);
    assert_int_equal(chan_out(c)->pos, out_pos);
}

static void test_sizes_and_attach(void **state)
{
    (void)state;
    for (unsigned k = 0; k < CHAN_KIND_COUNT; k++) {
        size_t need = 2 * ring_bytes(chan_slots((enum chan_kind)k));
        assert_true(chan_bytes((enum chan_kind)k) >= need);
        assert_int_equal(chan_bytes((enum chan_kind)k) % 4096, 0);
        uint32_t n = chan_slots((enum chan_kind)k);
        assert_true(n >= 2 && (n & (n - 1)) == 0);
    }
    struct chan c;
    void *mem = ipc_test_alloc(chan_bytes(CHAN_DEV));
    assert_non_null(mem);
    assert_int_equal(chan_attach(&c, mem, chan_bytes(CHAN_DEV) - 1, CHAN_DEV, false, true), -EINVAL);
    assert_int_equal(chan_attach(&c, mem, chan_bytes(CHAN_DEV), CHAN_KIND_COUNT, false, true), -EINVAL);
    assert_int_equal(chan_attach(&c, (char *)mem + 16, chan_bytes(CHAN_CTL), CHAN_CTL, false, true),
                     -EINVAL);
    assert_int_equal(chan_attach(&c, mem, chan_bytes(CHAN_DEV), CHAN_DEV, true, true), 0);
    assert_false(c.broken);
    free(mem);
}

static void test_head_beyond_nslots(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    uint32_t n = chan_slots(f->kind);
    f->server.req.sh->head = n + 1;
    assert_int_equal(chan_recv(&f->server, &m), -EPROTO);
    assert_broken(&f->server);
}

static void test_head_far_ahead_and_behind(void **state)
{
    struct fixture *f = *state;
    const uint32_t heads[] = {0x80000000u, 0xFFFFFFFFu, 0x7FFFFFFFu, 0xFFFFFFFFu - 63};
    for (unsigned i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        struct msg m;
        assert_int_equal(chan_attach(&f->server, f->mem, f->bytes, f->kind, true, false), 0);
        f->server.req.sh->head = heads[i];
        assert_int_equal(chan_recv_wait(&f->server, &m, 0), -EPROTO);
        assert_broken(&f->server);
    }
}

/* A head exactly a ring ahead is legal; the slots it exposes are checked one by one. */
static void test_head_exactly_full_with_stale_slots(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    uint32_t n = chan_slots(f->kind);
    for (uint32_t i = 0; i < n; i++)
        send_ping(&f->client, i);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(chan_recv(&f->server, &m), 0);
        assert_int_equal(ipc_test_token(&m), i);
    }
    /* The peer now claims another full ring without writing it: every slot holds an old
     * message whose sequence number is one lap behind. */
    f->server.req.sh->head = 2 * n;
    assert_int_equal(chan_recv(&f->server, &m), -EPROTO);
    assert_broken(&f->server);
}

static void test_head_moved_back_replay(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    send_ping(&f->client, 1);
    send_ping(&f->client, 2);
    assert_int_equal(chan_recv(&f->server, &m), 0);
    assert_int_equal(chan_recv(&f->server, &m), 0);
    f->server.req.sh->head = 1;
    assert_int_equal(chan_recv(&f->server, &m), -EPROTO);
    assert_broken(&f->server);
}

static void test_tail_beyond_head(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    send_ping(&f->client, 1);
    f->client.req.sh->tail = 5; /* consumer claims more than was ever sent */
    ipc_test_ping(&m, MSG_XL_PING, 2);
    assert_int_equal(chan_send(&f->client, &m), -EPROTO);
    assert_int_equal(f->client.req.pos, 1);
    assert_broken(&f->client);
}

static void test_tail_too_far_behind(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    uint32_t n = chan_slots(f->kind);
    for (uint32_t i = 0; i < n; i++)
        send_ping(&f->client, i);
    /* tail == head - n is merely full ... */
    ipc_test_ping(&m, MSG_XL_PING, 2);
    assert_int_equal(chan_send(&f->client, &m), -EAGAIN);
    assert_false(f->client.broken);
    /* ... but a tail that went backwards claims more than n messages in flight. */
    f->client.req.sh->tail = 0xFFFFFFFFu;
    assert_int_equal(chan_send_wait(&f->client, &m, 0), -EPROTO);
    assert_broken(&f->client);
}

/* The response ring, seen by the client: the same checks apply in the other direction. */
static void test_client_side_garbage(void **state)
{
    struct fixture *f = *state;
    struct msg req, rsp;
    f->client.rsp.sh->head = 3;
    /* slots are zero: seq 0 matches, but type 0 is no message */
    ipc_test_ping(&req, MSG_XL_PING, 9);
    assert_int_equal(chan_call(&f->client, &req, &rsp, 0), -EPROTO);
    assert_broken(&f->client);
    /* The server's tail on the response ring is garbage too: the server notices on send. */
    f->server.rsp.sh->tail = 1000;
    ipc_test_ping(&rsp, MSG_XL_PONG, 9);
    assert_int_equal(chan_send(&f->server, &rsp), -EPROTO);
    assert_broken(&f->server);
}

static void test_wrong_sequence(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    send_ping(&f->client, 1);
    send_ping(&f->client, 2);
    send_ping(&f->client, 3);
    f->server.req.sh->slots[1].seq ^= 0x100;
    assert_int_equal(chan_recv(&f->server, &m), 0);
    assert_int_equal(ipc_test_token(&m), 1);
    assert_int_equal(chan_recv(&f->server, &m), -EPROTO);
    assert_int_equal(f->server.req.pos, 1); /* the bad slot is not consumed */
    assert_int_equal(f->server.req.sh->tail, 1);
    assert_broken(&f->server);
}

static void test_replayed_slot(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    send_ping(&f->client, 1);
    send_ping(&f->client, 2);
    memcpy(&f->server.req.sh->slots[1], &f->server.req.sh->slots[0], sizeof(struct msg));
    assert_int_equal(chan_recv(&f->server, &m), 0);
    assert_int_equal(chan_recv(&f->server, &m), -EPROTO);
    assert_broken(&f->server);
}

/* Every type with a well-formed payload, pushed raw (the sender does not check), on every
 * channel kind, towards both sides: only the types of that channel and direction get through. */
static void fill_valid_payload(struct msg *m, unsigned type)
{
    memset(m->payload, 0, sizeof m->payload);
    switch (type) {
    case MSG_CTL_HELLO: {
        struct msg_hello h = {COMP_VCPU, CLOISTER_IPC_VERSION, 2, 0};
        memcpy(m->payload, &h, sizeof h);
        break;
    }
    case MSG_CTL_CONSOLE_IN:
    case MSG_CTL_CONSOLE_OUT:
        m->payload[0] = 1;
        break;
    case MSG_CTL_VM_STOP:
    case MSG_CTL_SELFTEST:
        m->payload[0] = 1;
        break;
    case MSG_CTL_BOOT:
        m->payload[0] = BOOT_FLAT32;
        break;
    case MSG_XL_TRANSLATE: {
        struct msg_translate t = {0, 0, XL_NO_PAGE, 1, 0, 0};
        memcpy(m->payload, &t, sizeof t);
        break;
    }
    case MSG_DEV_PIO_DATA:
    case MSG_DEV_PIO_READ:
    case MSG_DEV_PIO_WRITE:
        m->payload[2] = 4;
        break;
    default:
        break;
    }
}

static const uint16_t type_len[MSG_TYPE_COUNT] = {
#define LEN(name, chan, dir, size) [MSG_##name] = (uint16_t)(size),
    MSG_TYPES(LEN)
#undef LEN
};
static const uint8_t type_chan[MSG_TYPE_COUNT] = {
    [MSG_NONE] = CHAN_KIND_COUNT,
#define CH(name, chan, dir, size) [MSG_##name] = chan,
    MSG_TYPES(CH)
#undef CH
};
static const uint8_t type_dir[MSG_TYPE_COUNT] = {
#define DIR(name, chan, dir, size) [MSG_##name] = dir,
    MSG_TYPES(DIR)
#undef DIR
};

static void test_wrong_type_for_channel_or_direction(void **state)
{
    (void)state;
    unsigned accepted = 0;
    for (unsigned k = 0; k < CHAN_KIND_COUNT; k++)
        for (unsigned type = 0; type <= MSG_TYPE_COUNT; type++)
            for (unsigned to_server = 0; to_server < 2; to_server++)
                for (int lendelta = -1; lendelta <= 1; lendelta++) {
                    struct fixture f;
                    struct msg m, got;
                    fixture_open(&f, (enum chan_kind)k);
                    memset(&m, 0, sizeof m);
                    m.type = (uint16_t)type;
                    m.len = (uint16_t)((type < MSG_TYPE_COUNT ? type_len[type] : 8) + lendelta);
                    fill_valid_payload(&m, type);
                    struct chan *tx = to_server ? &f.client : &f.server;
                    struct chan *rx = to_server ? &f.server : &f.client;
                    assert_int_equal(chan_send(tx, &m), 0);
                    bool known = type != MSG_NONE && type < MSG_TYPE_COUNT;
                    /* Whether the payload itself is well-formed is msg_check's business
                     * (test_ipc_msg); here it is asked on the type's own channel. */
                    bool payload_ok = known && lendelta == 0 &&
                                      msg_check(&m, type_chan[type], type_dir[type]) == 0;
                    bool ok = payload_ok && type_chan[type] == k &&
                              type_dir[type] == (to_server ? DIR_REQ : DIR_RSP);
                    accepted += ok;
                    int rc = chan_recv(rx, &got);
                    if (rc != (ok ? 0 : -EPROTO))
                        fail_msg("type %u len %+d on chan %u to %s: %d", type, lendelta, k,
                                 to_server ? "server" : "client", rc);
                    assert_int_equal(rx->broken, !ok);
                    if (ok)
                        assert_memory_equal(&got, &m, sizeof m);
                    fixture_close(&f);
                }
    /* Most types got through on their own channel: the payload builder is not stale. */
    assert_true(accepted >= (MSG_TYPE_COUNT - 1) * 3 / 4);
}

/* Receive until the ring says stop; returns the final code and checks what got through. */
static int drain(struct chan *c, unsigned *received)
{
    struct msg m;
    uint32_t n = chan_slots(c->kind);
    int rc = 0;
    *received = 0;
    for (uint32_t i = 0; i <= n + 1; i++) {
        rc = chan_recv(c, &m);
        if (rc != 0)
            break;
        (*received)++;
        /* What the channel hands out is always well-formed for this side. */
        assert_int_equal(msg_check(&m, c->kind, c->server ? DIR_REQ : DIR_RSP), 0);
    }
    assert_true(rc == -EAGAIN || rc == -EPROTO);
    assert_true(*received <= n);
    assert_int_equal(c->broken, rc == -EPROTO);
    return rc;
}

/* Random bytes over the whole channel memory, with the private indices either fresh (0) or
 * placed near the garbage head so that the sequence and message checks are reached. */
static void test_random_bytes_over_channel(void **state)
{
    (void)state;
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    unsigned counts[3] = {0, 0, 0}; /* EAGAIN, EPROTO, messages received */
    for (unsigned iter = 0; iter < 1200; iter++) {
        enum chan_kind kind = (enum chan_kind)(iter % CHAN_KIND_COUNT);
        bool server = (iter / CHAN_KIND_COUNT) % 2;
        unsigned mode = (iter / (2 * CHAN_KIND_COUNT)) % 3;
        struct fixture f;
        fixture_open(&f, kind);
        uint32_t n = chan_slots(kind);
        ipc_test_fill_random(f.mem, 2 * ring_bytes(n), &rng);
        struct chan c;
        assert_int_equal(chan_attach(&c, f.mem, f.bytes, kind, server, false), 0);
        struct ring *in = chan_in(&c);
        if (mode >= 1) {
            /* Our private index just behind the peer's head. */
            in->pos = in->sh->head - (uint32_t)(ipc_test_rand(&rng) % (n + 2));
            in->seq = (uint32_t)ipc_test_rand(&rng);
        }
        if (mode == 2) {
            /* And the slots carry the right sequence numbers and plausible headers. */
            for (uint32_t i = 0; i < n; i++) {
                struct msg *s = &in->sh->slots[(in->pos + i) & (n - 1)];
                s->seq = in->seq + i;
                s->type = (uint16_t)(1 + ipc_test_rand(&rng) % (MSG_TYPE_COUNT - 1));
                s->len = type_len[s->type];
                if (ipc_test_rand(&rng) % 4)
                    fill_valid_payload(s, s->type);
            }
        }
        unsigned got;
        int rc = drain(&c, &got);
        counts[rc == -EAGAIN ? 0 : 1]++;
        counts[2] += got;
        /* Sending into garbage is refused or lands inside the ring. */
        struct msg m;
        ipc_test_ping(&m, MSG_XL_PING, iter);
        rc = chan_send(&c, &m);
        assert_true(rc == 0 || rc == -EAGAIN || rc == -EPROTO);
        rc = chan_recv_wait(&c, &m, 0);
        assert_true(rc == 0 || rc == -ETIMEDOUT || rc == -EPROTO || rc == -EAGAIN);
        fixture_close(&f);
    }
    /* Every outcome was reached, so the loop really explored past the index checks. */
    assert_true(counts[0] > 0);
    assert_true(counts[1] > 0);
    assert_true(counts[2] > 0);
}

/* The same at ring level, with ring memory of exactly ring_bytes(n) and nothing after it. */
static void test_random_bytes_over_exact_ring(void **state)
{
    (void)state;
    uint64_t rng = 12345;
    const uint32_t sizes[] = {2, 4, 64, 256};
    for (unsigned iter = 0; iter < 2000; iter++) {
        uint32_t n = sizes[iter % 4];
        void *mem = ipc_test_alloc(ring_bytes(n));
        assert_non_null(mem);
        ipc_test_fill_random(mem, ring_bytes(n), &rng);
        struct ring cons, prod;
        /* init=false: attaching must not touch the (hostile) shared memory. */
        assert_int_equal(ring_attach(&cons, mem, n, false), 0);
        assert_int_equal(ring_attach(&prod, mem, n, false), 0);
        if (iter & 1) {
            cons.pos = cons.sh->head - (uint32_t)(ipc_test_rand(&rng) % (n + 2));
            prod.pos = prod.sh->tail + (uint32_t)(ipc_test_rand(&rng) % (n + 2));
            cons.seq = cons.sh->slots[cons.pos & (n - 1)].seq;
        }
        struct msg m;
        int rc;
        unsigned pops = 0;
        while ((rc = ring_pop(&cons, &m)) == 0)
            assert_true(++pops <= n);
        assert_true(rc == -EAGAIN || rc == -EPROTO);
        ipc_test_ping(&m, MSG_XL_PING, iter);
        unsigned pushes = 0;
        while ((rc = ring_push(&prod, &m)) == 0)
            assert_true(++pushes <= n);
        assert_true(rc == -EAGAIN || rc == -EPROTO);
        rc = ring_wait(&cons, 0);
        assert_true(rc == 0 || rc == -ETIMEDOUT || rc == -EPROTO);
        free(mem);
    }
}

/* The peer corrupts the ring while we are blocked waiting on it. */
struct corrupter {
    uint32_t *word;
    uint32_t value;
    uint32_t *bell;
};

static void *corrupt_later(void *arg)
{
    struct corrupter *c = arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    __atomic_store_n(c->word, c->value, __ATOMIC_RELEASE);
    /* A hostile peer may or may not ring; ringing makes the test fast either way. */
    __atomic_fetch_add(c->bell, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, c->bell, FUTEX_WAKE, 1, NULL, NULL, 0);
    return NULL;
}

static void test_corruption_while_waiting(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    pthread_t t;
    /* Consumer waiting for data; the head jumps out of range. */
    struct corrupter c1 = {&f->server.req.sh->head, 0x40000000u, &f->server.req.sh->data_bell};
    assert_int_equal(pthread_create(&t, NULL, corrupt_later, &c1), 0);
    assert_int_equal(chan_recv_wait(&f->server, &m, 5000), -EPROTO);
    pthread_join(t, NULL);
    assert_broken(&f->server);
    /* Producer waiting for space on a full ring; the tail jumps past the head. */
    uint32_t n = chan_slots(f->kind);
    for (uint32_t i = 0; i < n; i++)
        send_ping(&f->client, i);
    struct corrupter c2 = {&f->client.req.sh->tail, n + 7, &f->client.req.sh->space_bell};
    assert_int_equal(pthread_create(&t, NULL, corrupt_later, &c2), 0);
    ipc_test_ping(&m, MSG_XL_PING, 77);
    assert_int_equal(chan_send_wait(&f->client, &m, 5000), -EPROTO);
    pthread_join(t, NULL);
    assert_broken(&f->client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_attach),
        cmocka_unit_test_setup_teardown(test_head_beyond_nslots, setup_xlate, teardown),
        cmocka_unit_test_setup_teardown(test_head_far_ahead_and_behind, setup_xlate, teardown),
        cmocka_unit_test_setup_teardown(test_head_exactly_full_with_stale_slots, setup_xlate, teardown),
        cmocka_unit_test_setup_teardown(test_head_moved_back_replay, setup_xlate, teardown),
        cmocka_unit_test_setup_teardown(test_tail_beyond_head, setup_xlate, teardown),
        cmocka_unit_test_setup_teardown(test_tail_too_far_behind, setup_xlate, teardown),
        cmocka_unit_test_setup_teardown(test_client_side_garbage, setup_xlate, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_sequence, setup_xlate, teardown),
        cmocka_unit_test_setup_teardown(test_replayed_slot, setup_xlate, teardown),
        cmocka_unit_test(test_wrong_type_for_channel_or_direction),
        cmocka_unit_test(test_random_bytes_over_channel),
        cmocka_unit_test(test_random_bytes_over_exact_ring),
        cmocka_unit_test_setup_teardown(test_corruption_while_waiting, setup_xlate, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
