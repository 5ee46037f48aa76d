/*
 * serial_main.c - the cloister-dev-serial process: a 16550A on COM1 behind the vCPU's device
 * channel, its output forwarded to the monitor's console over the control channel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/serial_dev.h"
#include "ipc/endpoint.h"

struct serial_proc {
    struct endpoint ep;
    struct serial_dev dev;
};

static void flush_output(struct serial_proc *s)
{
    struct msg m;
    struct msg_bytes b;
    while (s->dev.uart.tx_len) {
        memset(&b, 0, sizeof b);
        b.n = (uint8_t)uart_take_output(&s->dev.uart, b.data, sizeof b.data);
        msg_set(&m, MSG_CTL_CONSOLE_OUT, &b, sizeof b);
        if (chan_send_wait(&s->ep.ctl, &m, 1000) < 0)
            break;
    }
}

static int handle(void *ctx, const struct msg *req, struct msg *rsp)
{
    struct serial_proc *s = ctx;
    int rc = serial_dev_handle(&s->dev, req, rsp);
    /* Forward output at once: the console must not hold anything back. */
    if (s->dev.uart.tx_len)
        flush_output(s);
    return rc;
}

static void on_ctl(void *ctx, const struct msg *m)
{
    struct serial_proc *s = ctx;
    if (m->type == MSG_CTL_CONSOLE_IN) {
        const struct msg_bytes *b = (const void *)m->payload;
        uart_receive(&s->dev.uart, b->data, b->n);
    }
}

int main(int argc, char **argv)
{
    static struct serial_proc s;
    static const struct endpoint_want wants[] = {
        {"dev-serial", PROT_READ | PROT_WRITE, true, CHAN_DEV, false},
    };
    const char *why;
    int rc = endpoint_init(&s.ep, COMP_DEV_SERIAL, argc, argv, wants, 1, &why);
    if (rc < 0) {
        fprintf(stderr, "cloister-dev-serial: %s: %s\n", why, strerror(-rc));
        return 1;
    }
    serial_dev_init(&s.dev, SERIAL_COM1_BASE);
    s.ep.on_ctl = on_ctl;
    s.ep.ctl_ctx = &s;
    rc = endpoint_start(&s.ep, argv[0]);
    if (rc != ENDPOINT_GO)
        return rc;
    rc = endpoint_serve(&s.ep, &s.ep.chans[0], handle, &s);
    return rc < 0 ? 1 : 0;
}
