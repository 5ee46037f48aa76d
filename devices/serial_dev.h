/*
 * serial_dev.h - the serial device process's message handler: port accesses from the vCPU in,
 * register reads out, transmitted bytes collected for the monitor's console. Everything it
 * receives comes from the vCPU, which it does not trust: messages are checked by the channel
 * (ipc/chan.c) and ports outside COM1 read as all-ones and are ignored on write.
 */
#ifndef CLOISTER_DEVICES_SERIAL_DEV_H
#define CLOISTER_DEVICES_SERIAL_DEV_H

#include "devices/uart16550.h"
#include "ipc/msg.h"

#define SERIAL_COM1_BASE 0x3F8

struct serial_dev {
    struct uart16550 uart;
    uint16_t base;
    uint64_t reads, writes;
};

void serial_dev_init(struct serial_dev *d, uint16_t base);
/* Returns 1 when *rsp is to be sent back, 0 for a posted write. */
int serial_dev_handle(struct serial_dev *d, const struct msg *req, struct msg *rsp);

#endif
