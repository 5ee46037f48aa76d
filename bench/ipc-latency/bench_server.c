/*
 * bench_server.c - server mode of cloister-bench-ipc: a component like any other. It starts
 * through ipc/endpoint.c (maps its regions and closes their fds, then endpoint_start loads the
 * seccomp program from fd 3 and greets the client over its control channel), then answers
 * three ping-pongs in turn: one byte over a pipe, a raw futex word, and finally the device
 * channel through endpoint_serve() with the real serial device model as handler, until the
 * client says STOP.
 * It trusts nothing the client writes into shared memory beyond what the channel checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench/ipc-latency/bench_proto.h"
#include "devices/serial_dev.h"
#include "ipc/endpoint.h"

struct bench_server {
    struct endpoint ep;
    struct serial_dev dev;
    struct bench_board *board;
    int pipe_in, pipe_out;
};

static void say(const char *text)
{
    if (write(2, text, strlen(text)) < 0) {
    }
}

/* Take the two pipe fds out of argv: endpoint_init() accepts only regions it was told about. */
static int take_pipe_args(struct bench_server *s, int *argc, char **argv)
{
    int out = 1;
    s->pipe_in = s->pipe_out = -1;
    for (int a = 1; a < *argc; a++) {
        int *dst = NULL;
        size_t n = 0;
        if (strncmp(argv[a], BENCH_PIPE_IN "=", strlen(BENCH_PIPE_IN) + 1) == 0) {
            dst = &s->pipe_in;
            n = strlen(BENCH_PIPE_IN) + 1;
        } else if (strncmp(argv[a], BENCH_PIPE_OUT "=", strlen(BENCH_PIPE_OUT) + 1) == 0) {
            dst = &s->pipe_out;
            n = strlen(BENCH_PIPE_OUT) + 1;
        }
        if (!dst) {
            argv[out++] = argv[a];
            continue;
        }
        char *end;
        long v = strtol(argv[a] + n, &end, 10);
        if (*end || v < 3 || v > 64)
            return -EINVAL;
        *dst = (int)v;
    }
    argv[out] = NULL;
    *argc = out;
    return s->pipe_in >= 0 && s->pipe_out >= 0 ? 0 : -EINVAL;
}

static int serve_pipe(struct bench_server *s)
{
    char c;
    for (;;) {
        if (read(s->pipe_in, &c, 1) != 1)
            return -EIO;
        if (c == BENCH_PIPE_QUIT)
            return 0;
        if (write(s->pipe_out, &c, 1) != 1)
            return -EIO;
    }
}

static int serve_futex(struct bench_server *s)
{
    uint32_t *w = &s->board->futex_word;
    for (;;) {
        uint32_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
        if (v == BENCH_FUTEX_QUIT)
            return 0;
        if (v & 1) {
            __atomic_store_n(w, v + 1, __ATOMIC_RELEASE);
            bench_futex_wake(w);
            continue;
        }
        int rc = bench_futex_wait(w, v);
        if (rc < 0 && rc != -EAGAIN && rc != -EINTR)
            return rc;
    }
}

static int handle(void *ctx, const struct msg *req, struct msg *rsp)
{
    struct bench_server *s = ctx;
    const struct ring *in = &s->ep.chans[0].req;
    __atomic_store_n(&s->board->in_sleeps, in->sleeps, __ATOMIC_RELAXED);
    __atomic_store_n(&s->board->in_spins_won, in->spins_won, __ATOMIC_RELAXED);
    __atomic_store_n(&s->board->in_spin, in->spin_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&s->board->served, s->board->served + 1, __ATOMIC_RELEASE);
    return serial_dev_handle(&s->dev, req, rsp);
}

int bench_server_main(int argc, char **argv)
{
    static struct bench_server s;
    static const struct endpoint_want wants[] = {
        {BENCH_REGION_DEV, PROT_READ | PROT_WRITE, true, CHAN_DEV, false},
        {BENCH_REGION_BOARD, PROT_READ | PROT_WRITE, false, 0, false},
    };
    const char *why = "bad arguments";
    int rc = take_pipe_args(&s, &argc, argv);
    if (rc == 0)
        rc = endpoint_init(&s.ep, COMP_DEV_SERIAL, argc, argv, wants, 2, &why);
    if (rc < 0) {
        char line[160];
        snprintf(line, sizeof line, BENCH_SERVER_ARGV0 ": %s: %s\n", why, strerror(-rc));
        say(line);
        return 1;
    }
    if (s.ep.regions[1].size < sizeof(struct bench_board)) {
        say(BENCH_SERVER_ARGV0 ": board region too small\n");
        return 1;
    }
    s.board = s.ep.regions[1].base;
    serial_dev_init(&s.dev, SERIAL_COM1_BASE);
    rc = endpoint_start(&s.ep, BENCH_SERVER_ARGV0); /* seal, greet, wait for START */
    if (rc != ENDPOINT_GO)
        return rc;
    if (serve_pipe(&s) < 0 || serve_futex(&s) < 0)
        return 1;
    rc = endpoint_serve(&s.ep, &s.ep.chans[0], handle, &s);
    return rc < 0 ? 1 : 0;
}
