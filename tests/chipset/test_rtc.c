/*
 * test_rtc.c - the MC146818 model: time and date from the wall clock at init in BCD and binary,
 * 24 and 12 hours; updates at the second boundaries (leap day, year end, century register left
 * alone); the UIP window as Linux's mach_get_cmos_time polls it; setting the time as Linux's
 * mc146818_set_time does (SET plus divider reset); periodic, update-ended and alarm interrupts
 * at their exact times with register C's read-to-clear; the CMOS memory-size bytes; and random
 * port traffic under the invariants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/rtc.h"

#define S 1000000000ull
#define MIB (1024ull * 1024)
#define NOW0 (2 * S)
/* 2024-02-29 23:59:58.5 UTC, a Thursday */
#define LEAP_EVE_NS ((1709164800ll + 86398) * (int64_t)S + 500000000)

static uint8_t rd(struct rtc *r, uint8_t reg, uint64_t t)
{
    rtc_write(r, RTC_PORT_INDEX, reg, t);
    return rtc_read(r, RTC_PORT_DATA, t);
}

static void wr(struct rtc *r, uint8_t reg, uint8_t v, uint64_t t)
{
    rtc_write(r, RTC_PORT_INDEX, reg, t);
    rtc_write(r, RTC_PORT_DATA, v, t);
}

struct when {
    uint8_t sec, min, hour, dow, mday, mon, year;
};

static void expect_time(struct rtc *r, uint64_t t, struct when w)
{
    assert_int_equal(rd(r, RTC_SECONDS, t), w.sec);
    assert_int_equal(rd(r, RTC_MINUTES, t), w.min);
    assert_int_equal(rd(r, RTC_HOURS, t), w.hour);
    assert_int_equal(rd(r, RTC_DAY_OF_WEEK, t), w.dow);
    assert_int_equal(rd(r, RTC_DAY_OF_MONTH, t), w.mday);
    assert_int_equal(rd(r, RTC_MONTH, t), w.mon);
    assert_int_equal(rd(r, RTC_YEAR, t), w.year);
}

static void test_init_and_updates_bcd(void **state)
{
    (void)state;
    struct rtc r;
    rtc_init(&r, LEAP_EVE_NS, 128 * MIB, NOW0);
    assert_int_equal(rtc_check(&r), 0);
    assert_int_equal(rd(&r, RTC_REG_A, NOW0), 0x26);
    assert_int_equal(rd(&r, RTC_REG_B, NOW0), 0x02);
    assert_int_equal(rd(&r, RTC_REG_C, NOW0), 0x00);
    assert_int_equal(rd(&r, RTC_REG_D, NOW0), 0x80);
    assert_int_equal(rd(&r, RTC_CENTURY, NOW0), 0x20);
    expect_time(&r, NOW0, (struct when){0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24});
    /* the wall clock's half second is kept: updates come at NOW0 + 0.5 s, + 1.5 s, ... */
    expect_time(&r, NOW0 + S / 2 - 1, (struct when){0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24});
    expect_time(&r, NOW0 + S / 2, (struct when){0x59, 0x59, 0x23, 5, 0x29, 0x02, 0x24});
    expect_time(&r, NOW0 + S / 2 + S, (struct when){0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24});
    /* a day and an hour later */
    expect_time(&r, NOW0 + S / 2 + S + 90000 * S,
                (struct when){0x00, 0x00, 0x01, 7, 0x02, 0x03, 0x24});
    assert_int_equal(rtc_check(&r), 0);
}

static void test_binary_and_12_hour(void **state)
{
    (void)state;
    struct rtc r;
    rtc_init(&r, LEAP_EVE_NS, 128 * MIB, NOW0);
    wr(&r, RTC_REG_B, 0x06, NOW0); /* binary, 24 h */
    expect_time(&r, NOW0, (struct when){58, 59, 23, 5, 29, 2, 24});
    wr(&r, RTC_REG_B, 0x04, NOW0); /* binary, 12 h: 11 PM */
    assert_int_equal(rd(&r, RTC_HOURS, NOW0), 0x80 | 11);
    wr(&r, RTC_REG_B, 0x00, NOW0); /* BCD, 12 h */
    assert_int_equal(rd(&r, RTC_HOURS, NOW0), 0x91);
    assert_int_equal(rd(&r, RTC_HOURS, NOW0 + 2 * S), 0x12); /* midnight is 12 AM */
    /* noon is 12 PM */
    rtc_init(&r, 1686832200ll * (int64_t)S, 128 * MIB, NOW0); /* 2023-06-15 12:30:00 */
    wr(&r, RTC_REG_B, 0x00, NOW0);
    assert_int_equal(rd(&r, RTC_HOURS, NOW0), 0x92);
    wr(&r, RTC_REG_B, 0x04, NOW0);
    assert_int_equal(rd(&r, RTC_HOURS, NOW0), 0x8C);
    wr(&r, RTC_REG_B, 0x06, NOW0);
    assert_int_equal(rd(&r, RTC_HOURS, NOW0), 12);
    assert_int_equal(rd(&r, RTC_DAY_OF_WEEK, NOW0), 5); /* Thursday */
    assert_int_equal(rtc_check(&r), 0);
}

static void test_uip_window(void **state)
{
    (void)state;
    struct rtc r;
    rtc_init(&r, LEAP_EVE_NS, 128 * MIB, NOW0);
    uint64_t update = NOW0 + S / 2;
    assert_int_equal(rd(&r, RTC_REG_A, update - RTC_UIP_NS - 1), 0x26);
    assert_int_equal(rd(&r, RTC_REG_A, update - RTC_UIP_NS), 0xA6);
    assert_int_equal(rd(&r, RTC_REG_A, update - 1), 0xA6);
    assert_int_equal(rd(&r, RTC_REG_A, update), 0x26);
    /* mach_get_cmos_time: poll A until UIP clears, then read the time */
    uint64_t t = update + S - 100000;
    unsigned polls = 0;
    while (rd(&r, RTC_REG_A, t) & RTC_A_UIP) {
        t += 10000;
        polls++;
        assert_true(polls < 100);
    }
    assert_int_equal(polls, 10);
    assert_int_equal(rd(&r, RTC_SECONDS, t), 0x00); /* the new second */
    /* SET inhibits updates and UIP with them */
    wr(&r, RTC_REG_B, 0x82, t);
    assert_int_equal(rd(&r, RTC_REG_A, update + 3 * S - 1000), 0x26);
    assert_int_equal(rtc_check(&r), 0);
}

static void test_set_time_linux(void **state)
{
    (void)state;
    struct rtc r;
    rtc_init(&r, LEAP_EVE_NS, 128 * MIB, NOW0);
    uint64_t t = NOW0 + 10 * S + 300000000; /* 0.8 s after an update */
    /* mc146818_set_time to 2031-12-31 23:59:59 */
    uint8_t save_control = rd(&r, RTC_REG_B, t);
    wr(&r, RTC_REG_B, save_control | RTC_B_SET, t);
    uint8_t save_freq = rd(&r, RTC_REG_A, t);
    wr(&r, RTC_REG_A, save_freq | 0x70, t); /* RTC_DIV_RESET2 */
    wr(&r, RTC_YEAR, 0x31, t);
    wr(&r, RTC_MONTH, 0x12, t);
    wr(&r, RTC_DAY_OF_MONTH, 0x31, t);
    wr(&r, RTC_HOURS, 0x23, t);
    wr(&r, RTC_MINUTES, 0x59, t);
    wr(&r, RTC_SECONDS, 0x59, t);
    wr(&r, RTC_REG_B, save_control, t);
    assert_int_equal(rd(&r, RTC_SECONDS, t + 5 * S), 0x59); /* divider still in reset */
    uint64_t go = t + 5 * S;
    wr(&r, RTC_REG_A, save_freq, go);
    /* Linux does not write the day of week: the chip keeps counting it from Friday */
    expect_time(&r, go + S / 2 - 1, (struct when){0x59, 0x59, 0x23, 6, 0x31, 0x12, 0x31});
    expect_time(&r, go + S / 2, (struct when){0x00, 0x00, 0x00, 7, 0x01, 0x01, 0x32});
    assert_int_equal(rd(&r, RTC_CENTURY, go + S), 0x20);

    /* fields in any order while SET: day 31 before month 3, from February */
    uint64_t u = go + 100 * S;
    wr(&r, RTC_REG_B, 0x82, u);
    wr(&r, RTC_MONTH, 0x02, u);
    wr(&r, RTC_DAY_OF_MONTH, 0x31, u);
    wr(&r, RTC_MONTH, 0x03, u);
    wr(&r, RTC_REG_B, 0x02, u);
    assert_int_equal(rd(&r, RTC_DAY_OF_MONTH, u), 0x31);
    assert_int_equal(rd(&r, RTC_MONTH, u), 0x03);
    /* without SET a write takes effect at once; nonsense is clamped */
    wr(&r, RTC_HOURS, 0x99, u);
    assert_int_equal(rd(&r, RTC_HOURS, u), 0x23);
    wr(&r, RTC_MINUTES, 0x07, u);
    assert_int_equal(rd(&r, RTC_MINUTES, u), 0x07);
    wr(&r, RTC_DAY_OF_WEEK, 0x02, u);
    assert_int_equal(rd(&r, RTC_DAY_OF_WEEK, u), 0x02);
    assert_int_equal(rd(&r, RTC_DAY_OF_WEEK, u + 86400 * S), 0x03);
    assert_int_equal(rtc_check(&r), 0);
}

static void test_periodic_interrupt(void **state)
{
    (void)state;
    struct rtc r;
    rtc_init(&r, LEAP_EVE_NS, 128 * MIB, NOW0);
    uint64_t base = NOW0 - S / 2; /* the divider's phase */
    assert_int_equal(rtc_next_event_ns(&r, NOW0), RTC_NEVER); /* nothing enabled */
    wr(&r, RTC_REG_B, 0x42, NOW0);                             /* PIE */
    /* 1024 Hz: ticks at base + ceil(k * 1e9 / 1024) */
    uint64_t k = (NOW0 - base) * 1024 / S + 1;
    uint64_t t1 = base + (k * S + 1023) / 1024;
    assert_int_equal(rtc_next_event_ns(&r, NOW0), t1);
    assert_false(rtc_irq(&r, t1 - 1));
    assert_true(rtc_irq(&r, t1));
    assert_int_equal(rtc_next_event_ns(&r, t1), RTC_NEVER); /* raised until C is read */
    assert_int_equal(rd(&r, RTC_REG_C, t1), 0xC0);
    assert_false(rtc_irq(&r, t1));
    assert_int_equal(rd(&r, RTC_REG_C, t1), 0x00);
    uint64_t t2 = base + ((k + 1) * S + 1023) / 1024;
    assert_int_equal(rtc_next_event_ns(&r, t1), t2);
    /* many periods pass unread: one flag, one interrupt */
    assert_true(rtc_irq(&r, t2 + 50000000));
    assert_int_equal(rd(&r, RTC_REG_C, t2 + 50000000), 0xC0);
    /* rates: RS 3 = 8192 Hz, RS 15 = 2 Hz, RS 1 = 256 Hz, RS 0 = none */
    static const struct {
        uint8_t rs;
        uint32_t hz;
    } rates[] = {{3, 8192}, {15, 2}, {1, 256}, {2, 128}, {6, 1024}};
    uint64_t t = t2 + 100000000;
    for (unsigned i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        wr(&r, RTC_REG_A, (uint8_t)(0x20 | rates[i].rs), t);
        (void)rd(&r, RTC_REG_C, t);
        uint64_t j = (t - base) * rates[i].hz / S + 1;
        uint64_t next = base + (j * S + rates[i].hz - 1) / rates[i].hz;
        assert_int_equal(rtc_next_event_ns(&r, t), next);
        uint64_t after = base + ((j + 1) * S + rates[i].hz - 1) / rates[i].hz;
        assert_int_equal(rtc_next_event_ns(&r, next), RTC_NEVER);
        assert_int_equal(rd(&r, RTC_REG_C, next) & ~RTC_C_UF, 0xC0); /* 2 Hz meets an update */
        assert_int_equal(rtc_next_event_ns(&r, next), after);
        t = after + 1000;
    }
    wr(&r, RTC_REG_A, 0x20, t);
    (void)rd(&r, RTC_REG_C, t);
    assert_int_equal(rtc_next_event_ns(&r, t), RTC_NEVER);
    /* only UF and AF (alarm 00:00:00, midnight passed) are set, and neither is enabled */
    assert_false(rtc_irq(&r, t + 10 * S));
    assert_int_equal(rd(&r, RTC_REG_C, t + 10 * S), RTC_C_UF | RTC_C_AF);
    assert_int_equal(rtc_check(&r), 0);
}

static void test_update_ended_interrupt(void **state)
{
    (void)state;
    struct rtc r;
    rtc_init(&r, LEAP_EVE_NS, 128 * MIB, NOW0);
    wr(&r, RTC_REG_A, 0x20, NOW0); /* no periodic flag in the way */
    wr(&r, RTC_REG_B, 0x12, NOW0); /* UIE */
    uint64_t update = NOW0 + S / 2;
    assert_int_equal(rtc_next_event_ns(&r, NOW0), update);
    assert_false(rtc_irq(&r, update - 1));
    assert_true(rtc_irq(&r, update));
    assert_int_equal(rd(&r, RTC_REG_C, update), 0x90);
    assert_int_equal(rtc_next_event_ns(&r, update), update + S);
    /* UF is set without UIE too, and enabling UIE then raises the line at once */
    wr(&r, RTC_REG_B, 0x02, update);
    assert_false(rtc_irq(&r, update + S));
    /* UF, and AF: the alarm registers hold 00:00:00 from init and midnight just passed */
    assert_int_equal(rtc_peek(&r, RTC_REG_C, update + S), RTC_C_UF | RTC_C_AF);
    wr(&r, RTC_REG_B, 0x12, update + S);
    assert_true(rtc_irq(&r, update + S));
    /* SET clears UIE */
    (void)rd(&r, RTC_REG_C, update + S);
    wr(&r, RTC_REG_B, 0x92, update + S);
    assert_int_equal(rd(&r, RTC_REG_B, update + S), 0x82);
    assert_int_equal(rtc_next_event_ns(&r, update + S), RTC_NEVER);
    assert_int_equal(rtc_check(&r), 0);
}

static void test_alarm(void **state)
{
    (void)state;
    struct rtc r;
    rtc_init(&r, LEAP_EVE_NS, 128 * MIB, NOW0);
    wr(&r, RTC_REG_A, 0x20, NOW0);
    /* alarm at 00:00:01, two updates after 23:59:59 */
    wr(&r, RTC_SECONDS_ALARM, 0x01, NOW0);
    wr(&r, RTC_MINUTES_ALARM, 0x00, NOW0);
    wr(&r, RTC_HOURS_ALARM, 0x00, NOW0);
    wr(&r, RTC_REG_B, 0x22, NOW0); /* AIE */
    uint64_t fire = NOW0 + S / 2 + 2 * S;
    assert_int_equal(rtc_next_event_ns(&r, NOW0), fire);
    assert_false(rtc_irq(&r, fire - 1));
    assert_true(rtc_irq(&r, fire));
    assert_int_equal(rd(&r, RTC_REG_C, fire), 0xB0); /* IRQF, AF, and UF (always set) */
    /* next match a day later */
    assert_int_equal(rtc_next_event_ns(&r, fire), fire + 86400 * S);
    /* don't-care in all three: every second */
    wr(&r, RTC_SECONDS_ALARM, 0xC0, fire);
    wr(&r, RTC_MINUTES_ALARM, 0xFF, fire);
    wr(&r, RTC_HOURS_ALARM, 0xC5, fire);
    assert_int_equal(rtc_next_event_ns(&r, fire), fire + S);
    /* don't-care seconds only: every second of 00:01 */
    wr(&r, RTC_MINUTES_ALARM, 0x01, fire);
    assert_int_equal(rtc_next_event_ns(&r, fire), fire + 59 * S);
    /* a value the time registers never hold never matches */
    wr(&r, RTC_SECONDS_ALARM, 0x60, fire);
    assert_int_equal(rtc_next_event_ns(&r, fire), RTC_NEVER);
    wr(&r, RTC_SECONDS_ALARM, 0x1A, fire);
    assert_int_equal(rtc_next_event_ns(&r, fire), RTC_NEVER);
    /* 12-hour alarm: 1 AM is 0x01, 1 PM is 0x81 */
    wr(&r, RTC_REG_B, 0x20, fire); /* BCD, 12 h, AIE */
    wr(&r, RTC_SECONDS_ALARM, 0x00, fire);
    wr(&r, RTC_MINUTES_ALARM, 0x00, fire);
    wr(&r, RTC_HOURS_ALARM, 0x81, fire);
    assert_int_equal(rtc_next_event_ns(&r, fire), fire + (13 * 3600 - 1) * S);
    /* an alarm passed while nobody looked still sets AF */
    assert_int_equal(rd(&r, RTC_REG_C, fire + 20 * 3600 * S), 0xB0);
    assert_int_equal(rtc_check(&r), 0);
}

static void test_divider_reset(void **state)
{
    (void)state;
    struct rtc r;
    rtc_init(&r, LEAP_EVE_NS, 128 * MIB, NOW0);
    wr(&r, RTC_REG_A, 0x66, NOW0); /* DV = 110: held in reset */
    assert_int_equal(rd(&r, RTC_SECONDS, NOW0 + 10 * S), 0x58);
    assert_int_equal(rd(&r, RTC_REG_A, NOW0 + 10 * S + S / 2 - 1000), 0x66); /* no UIP */
    wr(&r, RTC_REG_B, 0x52, NOW0 + 10 * S); /* PIE, UIE: nothing comes while held */
    assert_int_equal(rtc_next_event_ns(&r, NOW0 + 10 * S), RTC_NEVER);
    assert_false(rtc_irq(&r, NOW0 + 20 * S));
    uint64_t go = NOW0 + 20 * S;
    wr(&r, RTC_REG_A, 0x26, go);
    assert_int_equal(rd(&r, RTC_SECONDS, go + S / 2 - 1), 0x58);
    assert_int_equal(rd(&r, RTC_SECONDS, go + S / 2), 0x59);
    assert_int_equal(rtc_check(&r), 0);
}

static void test_cmos_memory(void **state)
{
    (void)state;
    struct rtc r;
    rtc_init(&r, LEAP_EVE_NS, 128 * MIB, NOW0);
    assert_int_equal(rd(&r, 0x15, NOW0), 0x80); /* 640 KiB base memory */
    assert_int_equal(rd(&r, 0x16, NOW0), 0x02);
    assert_int_equal(rd(&r, 0x17, NOW0), 0xFF); /* 127 MiB above 1 MiB: capped at 65535 KiB */
    assert_int_equal(rd(&r, 0x18, NOW0), 0xFF);
    assert_int_equal(rd(&r, 0x30, NOW0), 0xFF);
    assert_int_equal(rd(&r, 0x31, NOW0), 0xFF);
    assert_int_equal(rd(&r, 0x34, NOW0), 0x00); /* 112 MiB above 16 MiB = 1792 x 64 KiB */
    assert_int_equal(rd(&r, 0x35, NOW0), 0x07);
    assert_int_equal(rd(&r, 0x14, NOW0), 0x02);
    unsigned sum = 0;
    for (uint8_t i = 0x10; i <= 0x2D; i++)
        sum += rd(&r, i, NOW0);
    assert_int_equal(rd(&r, 0x2E, NOW0), sum >> 8);
    assert_int_equal(rd(&r, 0x2F, NOW0), sum & 0xFF);
    rtc_init(&r, LEAP_EVE_NS, 8 * MIB, NOW0);
    assert_int_equal(rd(&r, 0x17, NOW0), 0x00); /* 7168 KiB */
    assert_int_equal(rd(&r, 0x18, NOW0), 0x1C);
    assert_int_equal(rd(&r, 0x34, NOW0), 0x00);
    assert_int_equal(rd(&r, 0x35, NOW0), 0x00);
    rtc_init(&r, LEAP_EVE_NS, 512 * 1024, NOW0);
    assert_int_equal(rd(&r, 0x15, NOW0), 0x00); /* 512 KiB */
    assert_int_equal(rd(&r, 0x16, NOW0), 0x02);
    assert_int_equal(rd(&r, 0x17, NOW0), 0x00);
    /* RAM, the index register and NMI mask */
    wr(&r, 0x50, 0xA5, NOW0);
    assert_int_equal(rd(&r, 0x50, NOW0), 0xA5);
    rtc_write(&r, RTC_PORT_INDEX, 0x80 | 0x50, NOW0);
    assert_true(r.nmi_masked);
    assert_int_equal(rtc_read(&r, RTC_PORT_DATA, NOW0), 0xA5);
    rtc_write(&r, RTC_PORT_INDEX, 0x50, NOW0);
    assert_false(r.nmi_masked);
    assert_int_equal(rtc_read(&r, RTC_PORT_INDEX, NOW0), 0xFF);
    assert_int_equal(rtc_read(&r, 0x72, NOW0), 0xFF);
    /* C and D ignore writes; A keeps UIP out of its stored bits */
    wr(&r, RTC_REG_C, 0xFF, NOW0);
    wr(&r, RTC_REG_D, 0x00, NOW0);
    assert_int_equal(rd(&r, RTC_REG_C, NOW0), 0x00);
    assert_int_equal(rd(&r, RTC_REG_D, NOW0), 0x80);
    wr(&r, RTC_REG_A, 0xA6, NOW0);
    assert_int_equal(rd(&r, RTC_REG_A, NOW0), 0x26);
    assert_int_equal(rtc_check(&r), 0);
}

static void test_other_eras(void **state)
{
    (void)state;
    struct rtc r;
    /* 1969-07-20 20:17:40 UTC, a Sunday: before the Unix epoch */
    rtc_init(&r, -14182940ll * (int64_t)S, 128 * MIB, NOW0);
    expect_time(&r, NOW0, (struct when){0x40, 0x17, 0x20, 1, 0x20, 0x07, 0x69});
    assert_int_equal(rd(&r, RTC_CENTURY, NOW0), 0x19);
    /* 1999-12-31 23:59:59 UTC, a Friday: the chip rolls to 00 and leaves the century */
    rtc_init(&r, 946684799ll * (int64_t)S, 128 * MIB, NOW0);
    expect_time(&r, NOW0, (struct when){0x59, 0x59, 0x23, 6, 0x31, 0x12, 0x99});
    expect_time(&r, NOW0 + S, (struct when){0x00, 0x00, 0x00, 7, 0x01, 0x01, 0x00});
    assert_int_equal(rd(&r, RTC_CENTURY, NOW0 + S), 0x19);
    /* 2000 is a leap year for the chip (every fourth year is) */
    expect_time(&r, NOW0 + S + 59 * 86400 * S,
                (struct when){0x00, 0x00, 0x00, 3, 0x29, 0x02, 0x00});
    /* 2099-12-31 23:59:59, a Thursday: the calendar cycle wraps, the weekday runs on */
    rtc_init(&r, 4102444799ll * (int64_t)S, 128 * MIB, NOW0);
    expect_time(&r, NOW0, (struct when){0x59, 0x59, 0x23, 5, 0x31, 0x12, 0x99});
    expect_time(&r, NOW0 + S, (struct when){0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x00});
    assert_int_equal(rtc_check(&r), 0);
}

static uint32_t rng(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_random_traffic(void **state)
{
    (void)state;
    struct rtc r;
    uint32_t s = 0xBEEF;
    uint64_t now = NOW0;
    rtc_init(&r, LEAP_EVE_NS, 64 * MIB, now);
    for (int i = 0; i < 30000; i++) {
        uint32_t v = rng(&s);
        now += (v >> 16) * ((v & 0x40) ? 100000 : 100);
        switch (v & 3) {
        case 0:
            rtc_write(&r, RTC_PORT_INDEX, (uint8_t)((v >> 8) & 0x8F), now);
            break;
        case 1:
            rtc_write(&r, RTC_PORT_DATA, (uint8_t)(v >> 8), now);
            break;
        case 2:
            (void)rtc_read(&r, RTC_PORT_DATA, now);
            break;
        default: {
            struct rtc copy = r;
            uint64_t e = rtc_next_event_ns(&copy, now);
            if (e != RTC_NEVER) {
                assert_true(e > now);
                assert_false(rtc_irq(&copy, e - 1));
                assert_true(rtc_irq(&copy, e));
            }
            break;
        }
        }
        assert_int_equal(rtc_check(&r), 0);
        assert_int_equal(rtc_peek(&r, RTC_REG_D, now), 0x80);
        assert_int_equal(rtc_peek(&r, RTC_REG_C, now) & 0x0F, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_updates_bcd),
        cmocka_unit_test(test_binary_and_12_hour),
        cmocka_unit_test(test_uip_window),
        cmocka_unit_test(test_set_time_linux),
        cmocka_unit_test(test_periodic_interrupt),
        cmocka_unit_test(test_update_ended_interrupt),
        cmocka_unit_test(test_alarm),
        cmocka_unit_test(test_divider_reset),
        cmocka_unit_test(test_cmos_memory),
        cmocka_unit_test(test_other_eras),
        cmocka_unit_test(test_random_traffic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
