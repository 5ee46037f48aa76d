/*
 * serial_dev.c - see serial_dev.h. Multi-byte accesses are split into byte accesses at
 * consecutive ports, as the ISA bus does for an 8-bit device.
 */
#include "devices/serial_dev.h"

#include <string.h>

void serial_dev_init(struct serial_dev *d, uint16_t base)
{
    memset(d, 0, sizeof *d);
    d->base = base;
    uart_reset(&d->uart);
}

static uint8_t port_read(struct serial_dev *d, uint16_t port)
{
    uint16_t off = (uint16_t)(port - d->base);
    return off < 8 ? uart_read(&d->uart, off) : 0xFF;
}

static void port_write(struct serial_dev *d, uint16_t port, uint8_t v)
{
    uint16_t off = (uint16_t)(port - d->base);
    if (off < 8)
        uart_write(&d->uart, off, v);
}

int serial_dev_handle(struct serial_dev *d, const struct msg *req, struct msg *rsp)
{
    struct msg_pio p;
    memcpy(&p, req->payload, sizeof p);
    switch (req->type) {
    case MSG_DEV_PING:
        msg_set(rsp, MSG_DEV_PONG, req->payload, sizeof(struct msg_ping));
        return 1;
    case MSG_DEV_PIO_WRITE:
        d->writes++;
        for (unsigned i = 0; i < p.size; i++)
            port_write(d, (uint16_t)(p.port + i), (uint8_t)(p.value >> (8 * i)));
        return 0;
    case MSG_DEV_PIO_READ: {
        d->reads++;
        uint32_t v = 0;
        for (unsigned i = 0; i < p.size; i++)
            v |= (uint32_t)port_read(d, (uint16_t)(p.port + i)) << (8 * i);
        p.value = v;
        msg_set(rsp, MSG_DEV_PIO_DATA, &p, sizeof p);
        return 1;
    }
    default:
        return -1; /* a request type the channel allows but this device does not serve */
    }
}
