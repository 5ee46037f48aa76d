/*
 * pit8254.h - the 8254 programmable interval timer: three counters at ports 0x40-0x42, the
 * control word register at 0x43, clocked at 1.193182 MHz. On a PC counter 0's OUT is IRQ 0,
 * counter 2's GATE is port 0x61 bit 0 and its OUT reads back at port 0x61 bit 5 (both wired by
 * the chipset, devices/chipset.c).
 *
 * Pure and time-explicit: nothing here reads a clock. Every call takes the current time in
 * nanoseconds from the caller, and a counter's value is a function of the time since it was
 * loaded: d = floor((now - load) * 1193182 / 1e9) input clocks have elapsed, and the count, OUT
 * and the next OUT edge follow from d and the mode (see pit8254.c). A count takes effect at the
 * instant it is written (the 8254 loads it at the next input clock; the difference is under a
 * microsecond and is not modelled). Time never runs backwards here: a `now` earlier than one
 * already seen is taken as that earlier time.
 *
 * Every input may come from a compromised vCPU: any port and value leaves the state within the
 * invariants pit_check() tests.
 */
#ifndef CLOISTER_DEVICES_PIT8254_H
#define CLOISTER_DEVICES_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ 1193182u
#define PIT_NEVER UINT64_MAX
#define PIT_PORT_CH0 0x40
#define PIT_PORT_CONTROL 0x43

enum pit_state {
    PIT_STOPPED = 0, /* control word written, no count yet (or mode 0 between count bytes) */
    PIT_ARMED = 1,   /* modes 1 and 5: count written, waiting for a rising GATE edge */
    PIT_RUNNING = 2, /* counting: d = base_d + clocks since base_ns (or base_d when frozen) */
};

struct pit_channel {
    /* programming */
    uint8_t mode;          /* control word bits 3-1 as written, 0..7 (6 and 7 act as 2 and 3) */
    uint8_t rw;            /* access: 1 LSB only, 2 MSB only, 3 LSB then MSB */
    bool bcd;
    uint16_t count_reg;    /* the last complete count written, as written (BCD when bcd) */
    uint8_t lsb_written;   /* first byte of an LSB-then-MSB count */
    bool write_msb_next, read_msb_next;
    bool null_count;       /* a count was written and has not reached the counting element */
    /* latches (counter latch and read-back commands) */
    bool count_latched, status_latched;
    uint16_t latch;        /* the latched count as read, BCD when bcd */
    uint8_t status;
    /* the counting element */
    bool gate;
    uint8_t state;         /* enum pit_state */
    uint32_t n;            /* initial count in effect, in clocks: 1..65536 (1..10000 in BCD) */
    bool frozen;           /* counting suspended (GATE low in modes 0, 2, 3, 4) */
    uint64_t base_ns, base_d;
    uint16_t idle_count;   /* what the counter shows while not running (binary) */
    /* a count written in mode 2 or 3 while counting loads at the end of the period (mode 2)
     * or of the half-cycle (mode 3) */
    bool pending;
    bool pending_low_half; /* mode 3: the new count starts in the low half-cycle */
    uint32_t pending_n;
    uint64_t pending_ns;
    /* rising edges of OUT counted up to edge_ns and not yet taken */
    uint64_t edge_ns;
    uint32_t edges;
};

struct pit8254 {
    struct pit_channel ch[3];
    uint64_t now_ns; /* latest time seen */
};

/* The state a PC BIOS leaves at `now_ns`: counter 0 in mode 3 with count 65536 (18.2 Hz),
 * counter 1 in mode 2 with count 18 (the DRAM refresh rate), counter 2 in mode 3 with count
 * 65536 and its gate low. Counters 0 and 1 start with GATE high (a PC ties them high). */
void pit_init(struct pit8254 *p, uint64_t now_ns);

/* Ports 0x40-0x43; any other port reads 0xFF and ignores writes (0x43 is write-only and reads
 * 0xFF too). */
uint8_t pit_read(struct pit8254 *p, uint16_t port, uint64_t now_ns);
void pit_write(struct pit8254 *p, uint16_t port, uint8_t value, uint64_t now_ns);

/* GATE input of counter `ch` (0..2; others ignored). */
void pit_set_gate(struct pit8254 *p, unsigned ch, bool level, uint64_t now_ns);

/* OUT of counter `ch` at `now_ns` (false for ch > 2). */
bool pit_out(struct pit8254 *p, unsigned ch, uint64_t now_ns);

/* The current count of counter `ch` as an unlatched read would show it (binary, even in BCD
 * mode; 0 for ch > 2). For tests and diagnostics: no side effects on the read sequence. */
uint32_t pit_count(struct pit8254 *p, unsigned ch, uint64_t now_ns);

/* Earliest time strictly after `now_ns` at which OUT of counter `ch` rises by itself, assuming
 * no port access or gate change in between; PIT_NEVER when it will not. */
uint64_t pit_next_edge_ns(struct pit8254 *p, unsigned ch, uint64_t now_ns);

/* Rising edges of OUT of counter `ch` since the previous call (or init), up to `now_ns`;
 * saturates at UINT32_MAX. Edges that a port write or gate change causes at once (e.g. a new
 * control word setting OUT high) are not counted here: they show in pit_out(). */
uint32_t pit_take_edges(struct pit8254 *p, unsigned ch, uint64_t now_ns);

/* Counter 0 is IRQ 0: the two calls the chipset makes to raise it from a timer. */
uint64_t pit_next_irq_ns(struct pit8254 *p, uint64_t now_ns);
uint32_t pit_irq_edges(struct pit8254 *p, uint64_t now_ns);

/* 0 when the state satisfies the model's invariants, else a negative number naming the first
 * one broken. */
int pit_check(const struct pit8254 *p);

#endif
