/*
 * pic8259.h - the PC/AT pair of 8259A interrupt controllers: master at ports 0x20/0x21, slave at
 * 0xA0/0xA1 cascaded on the master's IR2, and the PIIX edge/level control registers (ELCR) at
 * 0x4D0/0x4D1.
 *
 * Pure state machine: port reads and writes, input line levels and interrupt acknowledge cycles
 * in; the INT output (as a pending vector) out. No I/O and no time. Every input comes from a vCPU
 * that may be compromised: any port and value is accepted and leaves the state within the
 * invariants pic_check() tests (used by the fuzzer and the unit tests).
 *
 * Inputs are levels, as on the ISA bus: drive a line with pic_set_irq(line, 1) and leave it high
 * until the device drops its request. An edge-triggered input latches a request on its rising
 * edge, and (as on the 8259A) the request disappears again if the line falls before the
 * acknowledge, which then yields the spurious IRQ 7. The exception is the master's cascade
 * input: once the slave's request is latched there it stays until acknowledged (the 8259A
 * freezes its IRR at the first INTA pulse; the acknowledge here is one atomic step), so a slave
 * request that vanishes in between yields the slave's spurious IRQ 7, i.e. IRQ 15.
 */
#ifndef CLOISTER_DEVICES_PIC8259_H
#define CLOISTER_DEVICES_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xA0
#define PIC_SLAVE_DATA 0xA1
#define PIC_ELCR_MASTER 0x4D0
#define PIC_ELCR_SLAVE 0x4D1
#define PIC_CASCADE_LINE 2

/* One 8259A. Bit n of each byte is input IRn. */
struct pic_chip {
    uint8_t level;       /* input pin levels */
    uint8_t edge;        /* edge-sense latches: a rising edge seen and not yet acknowledged */
    uint8_t sticky;      /* latches kept when their line falls (the master's cascade input) */
    uint8_t isr;         /* in-service register */
    uint8_t imr;         /* interrupt mask register (OCW1) */
    uint8_t elcr;        /* 1 = level-triggered input (ELCR) */
    uint8_t elcr_mask;   /* ELCR bits the chipset lets software change */
    uint8_t vector_base; /* ICW2 & 0xF8 */
    uint8_t icw3;        /* as written, for the record; the cascade itself is wired on IR2 */
    uint8_t lowest;      /* lowest-priority line (7 after ICW1; moved by rotation) */
    uint8_t init_step;   /* 0 ready; 2, 3, 4 = the ICW the next data-port write is */
    bool need_icw4, single, ltim;
    bool auto_eoi, rotate_on_aeoi, sfnm;
    bool special_mask, read_isr, poll;
};

struct pic8259 {
    struct pic_chip chip[2]; /* [0] master, [1] slave */
};

/* The state a PC BIOS leaves: both chips initialised (vectors 0x08 and 0x70, 8086 mode,
 * normal EOI), every line masked, all inputs edge-triggered and low. */
void pic_init(struct pic8259 *p);

/* Ports 0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1; any other port reads 0xFF and ignores writes. */
uint8_t pic_read(struct pic8259 *p, uint16_t port);
void pic_write(struct pic8259 *p, uint16_t port, uint8_t value);

/* Level of input line 0..15. Line 2 is the cascade and is driven by the slave only; lines
 * outside 0..15 and line 2 are ignored. */
void pic_set_irq(struct pic8259 *p, unsigned line, bool level);

/* Whether the master's INT output is asserted; if so and `vector` is not NULL, the vector the
 * next pic_ack() would return (assuming nothing changes in between). No side effects. */
bool pic_pending(const struct pic8259 *p, uint8_t *vector);

/* The interrupt acknowledge cycle: marks the request in service (unless auto-EOI) and returns
 * its vector. With nothing to deliver it returns the spurious vector of IR7 (master base + 7),
 * or of the slave's IR7 when the master picked the cascade and the slave had nothing. */
uint8_t pic_ack(struct pic8259 *p);

/* The requests as the interrupt request register shows them (bit n = IRn). */
uint8_t pic_irr(const struct pic_chip *c);

/* 0 when the state satisfies the model's invariants, else a negative number naming the first
 * one broken (for tests and fuzzers). */
int pic_check(const struct pic8259 *p);

#endif
