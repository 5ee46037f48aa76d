/*
 * rtc.h - the MC146818 real-time clock and CMOS RAM of a PC: index port 0x70 (bit 7 = NMI
 * mask), data port 0x71, 128 bytes: time and date in registers 0-9, control registers A-D, and
 * CMOS RAM 0x0E-0x7F with what a PC BIOS stores there (memory sizes, equipment, century).
 *
 * Pure and time-explicit: the caller passes the wall-clock time once at init and the current
 * time in nanoseconds with every call; nothing here reads a clock. The clock keeps its own
 * calendar as the chip does: two-digit years, every fourth year a leap year, so it runs in a
 * cycle of 100 years (the century byte at 0x32 is plain CMOS RAM, as on a PC). Updates happen
 * at each second boundary of the divider chain; UIP (register A bit 7) reads 1 during the
 * 244 us before each one. Time never runs backwards here: a `now` earlier than one already
 * seen is taken as that earlier time.
 *
 * Every port access may come from a compromised vCPU: any index and value leaves the state
 * within the invariants rtc_check() tests.
 */
#ifndef CLOISTER_DEVICES_RTC_H
#define CLOISTER_DEVICES_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA 0x71
#define RTC_NEVER UINT64_MAX
#define RTC_UIP_NS 244000u

/* Register numbers */
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define RTC_REG_C 0x0C
#define RTC_REG_D 0x0D
#define RTC_CENTURY 0x32

/* Register bits */
#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80

/* Seconds in the chip's 100-year calendar cycle (25 leap years). */
#define RTC_CYCLE_DAYS 36525u
#define RTC_CYCLE_SECONDS (RTC_CYCLE_DAYS * 86400ull)

struct rtc {
    uint8_t index;       /* 0..127 */
    bool nmi_masked;     /* bit 7 of the last index write */
    /* ram[0..9]: alarms at 1, 3, 5; the other time registers hold a snapshot while SET is 1
     * (otherwise they are computed from the clock). ram[0x0A] holds register A without UIP,
     * ram[0x0B] register B, ram[0x0C] the flags PF/AF/UF; 0x0D is not stored; 0x0E-0x7F RAM. */
    uint8_t ram[128];
    /* the divider chain: updates happen at div_base_ns + k seconds, k >= 1 */
    uint64_t div_base_ns;
    /* The clock is a count of seconds; its value modulo RTC_CYCLE_SECONDS is the calendar
     * position, and the unreduced day count keeps the day of week continuous across the
     * century wrap. */
    uint64_t sec_base;   /* clock at k = 0; < RTC_CYCLE_SECONDS */
    uint64_t frozen_sec; /* clock while the divider is held in reset */
    uint8_t dow_offset;  /* day of week = (clock / 86400 + dow_offset) % 7 + 1; < 7 */
    uint64_t seen_ns;    /* flags are up to date to here; also the latest time seen */
};

/* `unix_ns`: wall-clock time (nanoseconds since 1970-01-01 00:00 UTC) at `now_ns`.
 * `ram_bytes`: guest RAM size, for the memory-size bytes. Registers: A = 0x26 (32.768 kHz,
 * 1024 Hz periodic rate), B = 0x02 (24 hours, BCD, no interrupts), C = 0, D = VRT. */
void rtc_init(struct rtc *r, int64_t unix_ns, uint64_t ram_bytes, uint64_t now_ns);

/* Ports 0x70 and 0x71; other ports read 0xFF and ignore writes. Port 0x70 is write-only and
 * reads 0xFF. */
uint8_t rtc_read(struct rtc *r, uint16_t port, uint64_t now_ns);
void rtc_write(struct rtc *r, uint16_t port, uint8_t value, uint64_t now_ns);

/* The IRQ 8 output (register C's IRQF) at `now_ns`. */
bool rtc_irq(struct rtc *r, uint64_t now_ns);

/* Earliest time strictly after `now_ns` at which the IRQ output may rise by itself (an enabled
 * periodic, update-ended or alarm event); RTC_NEVER when it will not, including while it is
 * already raised (only a read of register C lowers it). */
uint64_t rtc_next_event_ns(struct rtc *r, uint64_t now_ns);

/* Register `reg` (0..127) as a read would show it, without side effects (register C is not
 * cleared). For tests and diagnostics. */
uint8_t rtc_peek(struct rtc *r, unsigned reg, uint64_t now_ns);

/* 0 when the state satisfies the model's invariants, else a negative number naming the first
 * one broken. */
int rtc_check(const struct rtc *r);

#endif
