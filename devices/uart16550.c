/*
 * uart16550.c - register semantics per the PC16550D data sheet: DLAB-switched divisor latch,
 * FIFO control, interrupt identification by priority (line status > received data > THR empty >
 * modem status), loopback, and an always-ready transmitter (each THR write is sent at once, so
 * THRE/TEMT read back set and the THR-empty interrupt is raised again right away).
 */
#include "devices/uart16550.h"

#include <string.h>

#define LCR_DLAB 0x80
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRS 0x1E
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08

void uart_reset(struct uart16550 *u)
{
    memset(u, 0, sizeof *u);
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = 0xB0; /* DCD, DSR, CTS asserted: a terminal is attached */
    u->dll = 0x0C; /* 9600 baud, as the BIOS leaves it */
}

static void push_rx(struct uart16550 *u, uint8_t b)
{
    unsigned cap = u->fifo_enabled ? UART_FIFO : 1;
    if (u->rx_count >= cap) {
        u->lsr |= LSR_OE;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % UART_FIFO] = b;
    u->rx_count++;
    u->lsr |= LSR_DR;
}

static void transmit(struct uart16550 *u, uint8_t b)
{
    if (u->mcr & MCR_LOOP) {
        push_rx(u, b);
    } else if (u->tx_len < sizeof u->tx) {
        u->tx[u->tx_len++] = b;
    } else {
        u->tx_dropped++;
    }
    u->thr_irq = true;
}

static unsigned rx_trigger(const struct uart16550 *u)
{
    static const unsigned levels[4] = {1, 4, 8, 14};
    return u->fifo_enabled ? levels[u->fcr >> 6] : 1;
}

/* The pending interrupt of highest priority, as IIR bits 3..0 (1 = none). */
static uint8_t pending(const struct uart16550 *u)
{
    if ((u->ier & IER_RLSI) && (u->lsr & (LSR_OE | LSR_ERRS)))
        return 0x6;
    if ((u->ier & IER_RDI) && u->rx_count) {
        /* Below the trigger level the 16550 reports a character timeout instead; with no
         * timing model here the data is reported as a timeout at once. */
        return u->rx_count >= rx_trigger(u) ? 0x4 : 0xC;
    }
    if ((u->ier & IER_THRI) && u->thr_irq)
        return 0x2;
    if ((u->ier & IER_MSI) && (u->msr & 0x0F))
        return 0x0;
    return 0x1;
}

bool uart_irq(const struct uart16550 *u)
{
    return (u->mcr & MCR_OUT2) && pending(u) != 0x1;
}

uint8_t uart_read(struct uart16550 *u, unsigned off)
{
    switch (off) {
    case 0:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        if (!u->rx_count)
            return 0;
        {
            uint8_t b = u->rx[u->rx_head];
            u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO);
            u->rx_count--;
            if (!u->rx_count)
                u->lsr &= (uint8_t)~LSR_DR;
            return b;
        }
    case 1:
        return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
    case 2: {
        uint8_t id = pending(u);
        if (id == 0x2)
            u->thr_irq = false; /* reading IIR while THRE is the source clears it */
        return (uint8_t)(id | (u->fifo_enabled ? 0xC0 : 0));
    }
    case 3:
        return u->lcr;
    case 4:
        return u->mcr;
    case 5: {
        uint8_t v = u->lsr;
        u->lsr &= (uint8_t)~(LSR_OE | LSR_ERRS); /* error bits clear on read */
        if (u->fifo_enabled && (v & LSR_ERRS))
            v |= 0x80;
        return v;
    }
    case 6: {
        uint8_t v = u->msr;
        if (u->mcr & MCR_LOOP) {
            /* Loopback: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2 */
            v = (uint8_t)((u->msr & 0x0F) | ((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) |
                          ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
        }
        u->msr &= 0xF0; /* delta bits clear on read */
        return v;
    }
    case 7:
        return u->scr;
    default:
        return 0xFF;
    }
}

void uart_write(struct uart16550 *u, unsigned off, uint8_t v)
{
    switch (off) {
    case 0:
        if (u->lcr & LCR_DLAB)
            u->dll = v;
        else
            transmit(u, v);
        break;
    case 1:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            /* Enabling the THR interrupt while the transmitter is empty raises it at once. */
            if ((v & IER_THRI) && !(u->ier & IER_THRI))
                u->thr_irq = true;
            u->ier = v & 0x0F;
        }
        break;
    case 2:
        if ((v & 1) != u->fifo_enabled) {
            u->rx_count = 0;
            u->rx_head = 0;
            u->lsr &= (uint8_t)~LSR_DR;
        }
        u->fifo_enabled = v & 1;
        if (v & 0x02) {
            u->rx_count = 0;
            u->rx_head = 0;
            u->lsr &= (uint8_t)~LSR_DR;
        }
        u->fcr = v & 0xC9;
        break;
    case 3:
        u->lcr = v;
        break;
    case 4: {
        uint8_t old = u->mcr;
        u->mcr = v & 0x1F;
        if ((old ^ u->mcr) & MCR_LOOP)
            u->msr = (u->mcr & MCR_LOOP) ? 0 : 0xB0;
        break;
    }
    case 7:
        u->scr = v;
        break;
    default:
        break; /* LSR and MSR are read-only */
    }
}

unsigned uart_receive(struct uart16550 *u, const uint8_t *data, unsigned n)
{
    unsigned cap = u->fifo_enabled ? UART_FIFO : 1, i;
    for (i = 0; i < n && u->rx_count < cap; i++)
        push_rx(u, data[i]);
    return i;
}

unsigned uart_take_output(struct uart16550 *u, uint8_t *out, unsigned cap)
{
    unsigned n = u->tx_len < cap ? u->tx_len : cap;
    memcpy(out, u->tx, n);
    memmove(u->tx, u->tx + n, u->tx_len - n);
    u->tx_len = (uint16_t)(u->tx_len - n);
    return n;
}
