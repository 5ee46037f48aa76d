/*
 * fuzz_dev_serial_handler.c - a compromised vCPU drives the serial device: a sequence of device
 * channel messages (each let through only if msg_check for CHAN_DEV / DIR_REQ accepts it, as
 * the channel would), interleaved with console input (uart_receive) and the monitor draining
 * output (uart_take_output). After every step the UART must be in a state its own model allows:
 * receive FIFO within 16 bytes, transmit buffer within 256, IIR naming a real interrupt source;
 * every answer must be one the vCPU's channel accepts.
 *
 * Input: records; the low two bits of the first byte pick the kind:
 *   0, 1  message: [op][type selector][port u16][size][value u32]([len] when op bit 6)
 *   2     console input: [op][n] then n bytes (n <= 52, as a CONSOLE_IN message carries)
 *   3     drain output: [op][cap]
 */
#include <stdlib.h>
#include <string.h>

#include "devices/serial_dev.h"
#include "fuzz/ipc/fuzz_input.h"

static const uint16_t dev_requests[] = {MSG_DEV_PING, MSG_DEV_PIO_WRITE, MSG_DEV_PIO_READ,
                                        MSG_DEV_PIO_DATA, MSG_DEV_PONG};

static void check_uart(const struct serial_dev *d)
{
    const struct uart16550 *u = &d->uart;
    if (u->rx_count > UART_FIFO || u->rx_head >= UART_FIFO || u->tx_len > sizeof u->tx)
        abort();
    /* Read IIR on a copy: the read itself has side effects the guest did not ask for. */
    struct uart16550 copy = *u;
    uint8_t iir = uart_read(&copy, 2);
    uint8_t id = iir & 0x0F;
    if (id != 0x1 && id != 0x0 && id != 0x2 && id != 0x4 && id != 0x6 && id != 0xC)
        abort();
    if (iir & 0x30)
        abort(); /* bits 4-5 always read zero */
    if ((iir & 0xC0) != (u->fifo_enabled ? 0xC0 : 0))
        abort();
    if (uart_irq(u) && !(u->mcr & 0x08))
        abort(); /* the line is gated by OUT2 */
}

static void one_message(struct serial_dev *d, struct fuzz_in *in, uint8_t op)
{
    struct msg req, rsp;
    uint8_t sel = fuzz_u8(in);
    struct msg_pio p = {0};
    p.port = fuzz_u16(in);
    p.size = fuzz_u8(in);
    p.value = fuzz_u32(in);
    if (op & 0x80)
        p.port = (uint16_t)(SERIAL_COM1_BASE + (p.port & 0x0F) - 4); /* mostly COM1 and its edges */
    uint16_t type = sel < 0xF0 ? dev_requests[sel % 5] : (uint16_t)(sel - 0xF0);
    msg_set(&req, type, &p, sizeof p);
    if (op & 0x40)
        req.len = fuzz_u8(in);
    if (msg_check(&req, CHAN_DEV, DIR_REQ) != 0)
        return; /* the channel would have refused it and broken the link */

    uint64_t reads = d->reads, writes = d->writes;
    memset(&rsp, 0xA5, sizeof rsp);
    int rc = serial_dev_handle(d, &req, &rsp);
    switch (req.type) {
    case MSG_DEV_PIO_WRITE:
        if (rc != 0 || d->writes != writes + 1)
            abort(); /* a posted write: no answer */
        break;
    case MSG_DEV_PING:
    case MSG_DEV_PIO_READ:
        if (rc != 1 || msg_check(&rsp, CHAN_DEV, DIR_RSP) != 0)
            abort(); /* every request the channel admits is answered, acceptably */
        break;
    default:
        /* A request type added later: whatever it does, an answer must be acceptable. */
        if (rc < -1 || rc > 1 || (rc == 1 && msg_check(&rsp, CHAN_DEV, DIR_RSP) != 0))
            abort();
        break;
    }
    if (req.type == MSG_DEV_PING && memcmp(rsp.payload, req.payload, sizeof(struct msg_ping)) != 0)
        abort();
    if (req.type == MSG_DEV_PIO_READ) {
        struct msg_pio r;
        memcpy(&r, rsp.payload, sizeof r);
        if (rsp.type != MSG_DEV_PIO_DATA || r.port != p.port || r.size != p.size ||
            d->reads != reads + 1)
            abort();
        /* Bytes outside the device's eight ports read as an open bus. */
        for (unsigned i = 0; i < p.size; i++) {
            uint16_t port = (uint16_t)(p.port + i);
            if ((uint16_t)(port - d->base) >= 8 && ((r.value >> (8 * i)) & 0xFF) != 0xFF)
                abort();
        }
        if (p.size < 4 && (r.value >> (8 * p.size)) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct serial_dev d;
    struct fuzz_in in = {data, size};
    serial_dev_init(&d, SERIAL_COM1_BASE);
    check_uart(&d);
    while (in.left) {
        uint8_t op = fuzz_u8(&in);
        switch (op & 3) {
        case 0:
        case 1:
            one_message(&d, &in, op);
            break;
        case 2: {
            uint8_t buf[52];
            unsigned n = fuzz_u8(&in) % (sizeof buf + 1);
            fuzz_take(&in, buf, n);
            uint8_t before = d.uart.rx_count;
            unsigned took = uart_receive(&d.uart, buf, n);
            if (took > n || d.uart.rx_count != before + took)
                abort();
            break;
        }
        case 3: {
            uint8_t out[256];
            unsigned cap = fuzz_u8(&in);
            uint16_t before = d.uart.tx_len;
            unsigned got = uart_take_output(&d.uart, out, cap);
            if (got > cap || got > before || d.uart.tx_len != before - got)
                abort();
            break;
        }
        }
        check_uart(&d);
    }
    return 0;
}
