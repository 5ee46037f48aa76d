/*
 * chipset.h - the legacy PC chipset as one state machine: 8259A pair, 8254 PIT, MC146818 RTC,
 * i8042 keyboard controller with port 0x92, PCI configuration mechanism #1 with a host bridge,
 * port 0x61 (PIT gate 2, speaker, refresh toggle, OUT2) and the I/O-delay ports 0x80/0xED.
 *
 * Pure and time-explicit: the owner passes the current time in nanoseconds into every call
 * (earlier times than one already seen are taken as that time) and wakes up at
 * chipset_next_event_ns() to let timer interrupts through; nothing here reads a clock or does
 * I/O. The interrupt lines wired inside are IRQ 0 (PIT OUT0), IRQ 1 and 12 (i8042), IRQ 2 (the
 * cascade) and IRQ 8 (RTC); every other line belongs to a device elsewhere (the 16550A's IRQ 4,
 * for one) and is driven with chipset_set_irq().
 *
 * Every port access may come from a compromised vCPU: any port, size and value is accepted,
 * nothing loops without bound, and chipset_check() holds afterwards.
 */
#ifndef CLOISTER_DEVICES_CHIPSET_H
#define CLOISTER_DEVICES_CHIPSET_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/i8042.h"
#include "devices/pci_host.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/rtc.h"

#define CHIPSET_NEVER UINT64_MAX
#define CHIPSET_PORT_B 0x61
#define CHIPSET_PORT_POST 0x80
#define CHIPSET_PORT_DELAY 0xED
/* Lines driven by the chipset's own devices; chipset_set_irq() refuses them. */
#define CHIPSET_INTERNAL_IRQS ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 8) | (1u << 12))
/* Port B refresh toggle (bit 4) half-period: DRAM refresh every 15.085 us on a PC. */
#define CHIPSET_REFRESH_NS 15085u

struct chipset_config {
    uint64_t ram_bytes;   /* guest RAM, for the CMOS memory-size bytes */
    int64_t wall_unix_ns; /* wall-clock time at init, nanoseconds since 1970-01-01 UTC */
};

struct chipset {
    struct pic8259 pic;
    struct pit8254 pit;
    struct rtc rtc;
    struct i8042 kbc;
    struct pci_host pci;
    uint8_t port_b;        /* port 0x61 bits 0-3 as written */
    uint8_t post_code;     /* last byte written to port 0x80, for diagnostics */
    uint16_t ext_irqs;     /* levels of the external lines (chipset_set_irq) */
    uint32_t kbc_loads;    /* i8042 output-buffer loads already turned into IRQ edges */
    uint64_t now_ns;       /* latest time seen */
};

void chipset_init(struct chipset *cs, const struct chipset_config *cfg, uint64_t now_ns);

/* Whether any byte of a `size`-byte access at `port` is the chipset's (0x80 and 0xED are:
 * their writes are taken and dropped). */
bool chipset_claims(uint16_t port, unsigned size);

/* Port accesses of `size` 1, 2 or 4 bytes. Multi-byte accesses are split into byte accesses at
 * consecutive ports, as the ISA bus does, except a 32-bit access to 0xCF8 (the PCI address
 * register). Bytes no device claims read as 0xFF; other sizes read as 0xFFFFFFFF and write
 * nothing. The result of a read has no bits above `size` bytes. */
uint32_t chipset_read(struct chipset *cs, uint16_t port, unsigned size, uint64_t now_ns);
void chipset_write(struct chipset *cs, uint16_t port, unsigned size, uint32_t value,
                   uint64_t now_ns);

/* Drive external line `line` (0..15, not one of CHIPSET_INTERNAL_IRQS). 0, or -EINVAL. */
int chipset_set_irq(struct chipset *cs, unsigned line, bool level, uint64_t now_ns);

/* Bring the internal lines up to `now_ns` (timer edges into the PIC). Every other call does
 * this too; this one is for the timer wake-up. */
void chipset_update(struct chipset *cs, uint64_t now_ns);

/* The 16 PIC input levels at `now_ns` (bit n = IRQ n; bit 2 is the slave's INT output). */
uint16_t chipset_irq_lines(struct chipset *cs, uint64_t now_ns);

/* For the vCPU: whether the PIC's INT output is asserted (and the vector it would deliver),
 * and the interrupt acknowledge cycle (see pic_pending and pic_ack). */
bool chipset_pending(struct chipset *cs, uint64_t now_ns, uint8_t *vector);
uint8_t chipset_ack(struct chipset *cs, uint64_t now_ns);

/* Earliest time after `now_ns` at which an internal interrupt line may rise by itself (PIT
 * OUT0 rising edge, RTC interrupt), or CHIPSET_NEVER. Lines masked in the PIC are left out:
 * their edges are still latched when the line is next brought up to date, so nothing is lost
 * by not waking for them. */
uint64_t chipset_next_event_ns(struct chipset *cs, uint64_t now_ns);

/* System-level outputs: a reset request (cleared by the call), the A20 gate, the NMI mask
 * (port 0x70 bit 7). */
bool chipset_take_reset(struct chipset *cs);
bool chipset_a20(const struct chipset *cs);
bool chipset_nmi_masked(const struct chipset *cs);

/* 0 when every device's invariants and the wiring between them hold, else a negative number
 * (devices' own codes offset by -100 per device: PIC, PIT, RTC, i8042, PCI). */
int chipset_check(const struct chipset *cs);

#endif
