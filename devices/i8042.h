/*
 * i8042.h - the PS/2 keyboard controller (data port 0x60, status/command port 0x64) with a
 * keyboard that answers commands but has no keys, an empty mouse port, and the system control
 * port A (0x92: fast A20 and fast reset), which the PC chipset keeps next to it.
 *
 * Enough for Linux's i8042 and atkbd drivers: controller self test, interface tests, command
 * byte, port enable/disable, the AUX loopback test with its IRQ 12, keyboard reset and identify;
 * and for the reset and A20 paths of boot loaders and kernels (command 0xFE, 0xD1, port 0x92).
 * A reset request is a flag the owner polls with i8042_take_reset(); nothing here resets
 * anything else.
 *
 * Pure state machine: no I/O, no time (the real controller's delays are zero here). Every port
 * access may come from a compromised vCPU; the byte queues are bounded and overflow drops bytes,
 * as a device does whose host stops reading.
 */
#ifndef CLOISTER_DEVICES_I8042_H
#define CLOISTER_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define I8042_PORT_DATA 0x60
#define I8042_PORT_STATUS 0x64
#define I8042_PORT_CMD 0x64
#define I8042_PORT_SYSCTL_A 0x92
#define I8042_QUEUE 16

/* Status register */
#define I8042_STR_OBF 0x01
#define I8042_STR_IBF 0x02
#define I8042_STR_SYS 0x04
#define I8042_STR_CMD 0x08
#define I8042_STR_UNLOCKED 0x10
#define I8042_STR_AUXDATA 0x20
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY 0x80

/* Controller command byte */
#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_AUXINT 0x02
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

/* A byte on its way to the output buffer, with the status bits it raises. */
struct i8042_byte {
    uint8_t data;
    uint8_t flags; /* I8042_STR_AUXDATA, I8042_STR_TIMEOUT */
};

struct i8042_queue {
    struct i8042_byte b[I8042_QUEUE];
    uint8_t head, count;
};

struct i8042 {
    uint8_t ram[32];          /* controller RAM; ram[0] is the command byte */
    uint8_t outport;          /* output port (bit 0 reset line, bit 1 A20); bits 4-5 are live */
    uint8_t pending_cmd;      /* controller command waiting for its data byte, or 0 */
    bool last_was_cmd;        /* status bit 3: the last write went to port 0x64 */
    /* output buffer */
    bool obf;
    struct i8042_byte ob;
    uint32_t ob_loads;        /* bytes loaded into it so far (wraps): each load is a new
                               * interrupt, even when the line never visibly dropped */
    /* where bytes come from, in the order they reach the output buffer */
    struct i8042_queue ctrl;  /* controller answers and 0xD2/0xD3 echoes: never held back */
    struct i8042_queue kbd;   /* keyboard: held while the keyboard interface is disabled */
    struct i8042_queue aux;   /* mouse port: held while the aux interface is disabled */
    /* the keyboard */
    uint8_t kbd_param_cmd;    /* command waiting for its parameter byte, or 0 */
    uint8_t kbd_last;         /* last byte sent, for the resend command */
    uint8_t kbd_leds, kbd_rate, kbd_set;
    bool kbd_scanning;
    /* port 0x92 */
    uint8_t sysctl_a;
    bool reset_request;
};

/* A controller as a BIOS leaves it: command byte 0x65 (keyboard interrupt, system flag,
 * translation, mouse port off), A20 enabled, keyboard enabled with scan set 2. */
void i8042_init(struct i8042 *k);

/* Ports 0x60, 0x64 and 0x92; other ports read 0xFF and ignore writes. */
uint8_t i8042_read(struct i8042 *k, uint16_t port);
void i8042_write(struct i8042 *k, uint16_t port, uint8_t value);

/* Interrupt outputs: IRQ 1 (keyboard byte in the output buffer, interrupts enabled) and IRQ 12
 * (mouse-port byte, mouse interrupts enabled). A read of port 0x60 that empties the buffer and
 * loads the next queued byte leaves the line high; on the real controller it drops for the
 * moment between, so an edge-triggered PIC sees one edge per byte. Owners replay that edge
 * when ob_loads changes (devices/chipset.c does). */
bool i8042_irq1(const struct i8042 *k);
bool i8042_irq12(const struct i8042 *k);

/* The A20 gate: the output port's bit 1 or port 0x92's bit 1. */
bool i8042_a20(const struct i8042 *k);

/* Whether the guest asked for a system reset (0xFE or any pulse of output port bit 0, output
 * port bit 0 written as 0, or port 0x92 bit 0 set); clears the request. */
bool i8042_take_reset(struct i8042 *k);

/* 0 when the state satisfies the model's invariants, else a negative number naming the first
 * one broken. */
int i8042_check(const struct i8042 *k);

#endif
