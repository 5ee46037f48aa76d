/*
 * uart16550.h - a 16550A UART register model (COM1 by default: ports 0x3F8-0x3FF, IRQ 4).
 *
 * Pure state machine: register reads and writes in, transmitted bytes and the interrupt line
 * out. No I/O, no time: the device process wires it to its channel, and tests and fuzzers drive
 * it directly. Register offsets are 0..7 from the base port; anything outside is ignored.
 */
#ifndef CLOISTER_DEVICES_UART16550_H
#define CLOISTER_DEVICES_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#define UART_FIFO 16

struct uart16550 {
    uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
    bool fifo_enabled;
    bool thr_irq;               /* THR-empty interrupt pending (cleared by IIR read / THR write) */
    uint8_t rx[UART_FIFO];
    uint8_t rx_head, rx_count;
    /* transmitted bytes not yet taken by uart_take_output() */
    uint8_t tx[256];
    uint16_t tx_len;
    uint64_t tx_dropped;        /* output the sink did not drain in time */
};

void uart_reset(struct uart16550 *u);
uint8_t uart_read(struct uart16550 *u, unsigned offset);
void uart_write(struct uart16550 *u, unsigned offset, uint8_t value);
/* Queue received bytes (console input); returns how many fitted in the receive FIFO. */
unsigned uart_receive(struct uart16550 *u, const uint8_t *data, unsigned n);
/* Level of the interrupt line (OUT2 gates it onto the PIC, as on a PC). */
bool uart_irq(const struct uart16550 *u);
/* Move up to `cap` transmitted bytes into `out`; returns the count. */
unsigned uart_take_output(struct uart16550 *u, uint8_t *out, unsigned cap);

#endif
