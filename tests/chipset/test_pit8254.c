/*
 * test_pit8254.c - the 8254 at exact times: counts and OUT per mode clock by clock, the
 * sequences Linux uses (pit_calibrate_tsc and quick_pit_calibrate on counter 2 in mode 0, the
 * i8253 clockevent's periodic mode 2, one-shot mode 4 and shutdown), latch and read-back
 * commands, access modes, BCD, GATE effects, counts written while counting, the IRQ 0 edge
 * interface, and random traffic under the invariants.
 *
 * Expected values come from the data sheet's description, with clock k of a count written at
 * time T0 reached at T0 + at(k) = T0 + ceil(k * 1e9 / 1193182) ns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/pit8254.h"

#define T0 5000000000ull
#define CTRL 0x43

static uint64_t at(uint64_t k)
{
    return (k * 1000000000ull + PIT_HZ - 1) / PIT_HZ;
}

static uint64_t clocks(uint64_t ns)
{
    return ns * PIT_HZ / 1000000000ull;
}

static void write16(struct pit8254 *p, unsigned ch, uint16_t v, uint64_t t)
{
    pit_write(p, (uint16_t)(0x40 + ch), (uint8_t)v, t);
    pit_write(p, (uint16_t)(0x40 + ch), (uint8_t)(v >> 8), t);
}

static uint16_t read16(struct pit8254 *p, unsigned ch, uint64_t t)
{
    uint16_t lo = pit_read(p, (uint16_t)(0x40 + ch), t);
    return (uint16_t)(lo | pit_read(p, (uint16_t)(0x40 + ch), t) << 8);
}

static void test_bios_state(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, T0);
    assert_int_equal(pit_check(&p), 0);
    /* counter 0: mode 3, 65536: high for 32768 clocks, then low */
    assert_true(pit_out(&p, 0, T0 + at(32767)));
    assert_false(pit_out(&p, 0, T0 + at(32768)));
    assert_int_equal(pit_next_irq_ns(&p, T0), T0 + at(65536));
    /* counter 2: gate low, so frozen with OUT high */
    assert_true(pit_out(&p, 2, T0 + 1000000000));
    assert_int_equal(pit_next_edge_ns(&p, 2, T0 + 1000000000), PIT_NEVER);
    assert_int_equal(pit_read(&p, 0x43, T0), 0xFF);
    assert_int_equal(pit_read(&p, 0x44, T0), 0xFF);
}

static void test_mode0_calibration_sequence(void **state)
{
    (void)state;
    struct pit8254 p;
    const uint16_t latch = 11931; /* CAL_LATCH: 10 ms */
    pit_init(&p, 0);
    pit_set_gate(&p, 2, true, T0);
    pit_write(&p, CTRL, 0xB0, T0);
    assert_false(pit_out(&p, 2, T0)); /* mode 0: OUT low from the control word on */
    write16(&p, 2, latch, T0);
    static const uint64_t dts[] = {0, 1, 837, 838, 839, 1000, 1000000, 5000000, 9999000};
    for (unsigned i = 0; i < sizeof dts / sizeof dts[0]; i++) {
        uint64_t t = T0 + dts[i];
        assert_int_equal(pit_count(&p, 2, t), latch - clocks(dts[i]));
        assert_int_equal(read16(&p, 2, t), latch - clocks(dts[i]));
        assert_false(pit_out(&p, 2, t));
    }
    assert_int_equal(pit_next_edge_ns(&p, 2, T0 + 9999000), T0 + at(latch));
    assert_false(pit_out(&p, 2, T0 + at(latch) - 1));
    assert_true(pit_out(&p, 2, T0 + at(latch)));
    assert_int_equal(pit_count(&p, 2, T0 + at(latch)), 0);
    /* after terminal count OUT stays high and the counter wraps */
    assert_int_equal(pit_count(&p, 2, T0 + at(latch + 5)), 65531);
    assert_true(pit_out(&p, 2, T0 + at(latch + 40000)));
    assert_int_equal(pit_next_edge_ns(&p, 2, T0 + at(latch)), PIT_NEVER);
    assert_int_equal(pit_take_edges(&p, 2, T0 + 3000000000ull), 1);
    assert_int_equal(pit_check(&p), 0);
}

static void test_quick_pit_calibrate_msb(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, 0);
    pit_set_gate(&p, 2, true, T0);
    pit_write(&p, CTRL, 0xB0, T0);
    pit_write(&p, 0x42, 0xFF, T0);
    pit_write(&p, 0x42, 0xFF, T0);
    /* pit_expect_msb: read LSB, then MSB, over and over; the MSB steps down every 256 clocks */
    unsigned expected_msb = 0xFF, changes = 0;
    for (uint64_t dt = 0; dt < 1000000; dt += 700) {
        (void)pit_read(&p, 0x42, T0 + dt);
        uint8_t msb = pit_read(&p, 0x42, T0 + dt + 350);
        assert_int_equal(msb, (65535 - clocks(dt + 350)) >> 8);
        if (msb != expected_msb) {
            assert_int_equal(msb, expected_msb - 1); /* no MSB value is skipped */
            expected_msb = msb;
            changes++;
        }
    }
    assert_int_equal(changes, 0xFF - expected_msb);
    assert_true(changes >= 4); /* 1 ms is 1193 clocks: four and a bit MSB steps */
}

static void test_mode2_periodic_linux(void **state)
{
    (void)state;
    struct pit8254 p;
    const uint16_t n = 4773; /* (PIT_TICK_RATE + HZ/2) / HZ, HZ = 250 */
    pit_init(&p, T0);
    pit_write(&p, CTRL, 0x34, T0);
    write16(&p, 0, n, T0);
    /* every query goes forward in time: an earlier time would be taken as the latest */
    assert_int_equal(pit_irq_edges(&p, T0), 0);
    assert_int_equal(pit_next_irq_ns(&p, T0), T0 + at(n));
    assert_int_equal(pit_count(&p, 0, T0), n);
    assert_int_equal(pit_count(&p, 0, T0 + at(1)), n - 1);
    assert_true(pit_out(&p, 0, T0 + at(n - 1) - 1));
    assert_int_equal(pit_count(&p, 0, T0 + at(n - 1)), 1);
    assert_false(pit_out(&p, 0, T0 + at(n - 1))); /* low for the one clock at count 1 */
    assert_int_equal(pit_next_irq_ns(&p, T0 + at(n) - 1), T0 + at(n));
    assert_int_equal(pit_irq_edges(&p, T0 + at(n) - 1), 0);
    assert_true(pit_out(&p, 0, T0 + at(n)));
    assert_int_equal(pit_count(&p, 0, T0 + at(n)), n); /* reloaded */
    assert_int_equal(pit_next_irq_ns(&p, T0 + at(n)), T0 + at(2 * n));
    assert_int_equal(pit_irq_edges(&p, T0 + at(n)), 1);
    assert_int_equal(pit_irq_edges(&p, T0 + at(n) + 1), 0);
    assert_int_equal(pit_count(&p, 0, T0 + at(n + 10)), n - 10);
    assert_int_equal(pit_irq_edges(&p, T0 + 1000000000), clocks(1000000000) / n - 1);
    assert_int_equal(pit_irq_edges(&p, T0 + 2000000000),
                     clocks(2000000000) / n - clocks(1000000000) / n);
    assert_int_equal(pit_check(&p), 0);
}

static void test_mode3_square_wave(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, T0);
    /* even count 65536 (written as 0) */
    assert_int_equal(pit_count(&p, 0, T0), 0);
    assert_int_equal(pit_count(&p, 0, T0 + at(1)), 65534);
    assert_int_equal(pit_count(&p, 0, T0 + at(32767)), 2);
    assert_int_equal(pit_count(&p, 0, T0 + at(32768)), 0);
    assert_int_equal(pit_count(&p, 0, T0 + at(32769)), 65534);
    assert_true(pit_out(&p, 0, T0 + at(65535) + 1) == false);
    assert_true(pit_out(&p, 0, T0 + at(65536)));
    /* odd count 5 on counter 1: high 3 clocks, low 2; counts 4, 2, 0 | 4, 2 */
    uint64_t w = T0 + at(65536);
    pit_write(&p, CTRL, 0x76, w);
    write16(&p, 1, 5, w);
    (void)pit_take_edges(&p, 1, w); /* forget the BIOS programming's edges */
    static const uint8_t counts[10] = {4, 2, 0, 4, 2, 4, 2, 0, 4, 2};
    static const bool outs[10] = {1, 1, 1, 0, 0, 1, 1, 1, 0, 0};
    for (unsigned d = 0; d < 10; d++) {
        assert_int_equal(pit_count(&p, 1, w + at(d)), counts[d]);
        assert_int_equal(pit_out(&p, 1, w + at(d)), outs[d]);
    }
    assert_int_equal(pit_take_edges(&p, 1, w + at(10)), 2); /* at clocks 5 and 10 */
    /* even count 6: 3 high, 3 low, counts 6, 4, 2 */
    uint64_t b = w + at(10);
    pit_write(&p, CTRL, 0x76, b);
    write16(&p, 1, 6, b);
    assert_int_equal(pit_count(&p, 1, b), 6);
    assert_int_equal(pit_count(&p, 1, b + at(2)), 2);
    assert_true(pit_out(&p, 1, b + at(2)));
    assert_int_equal(pit_count(&p, 1, b + at(3)), 6);
    assert_false(pit_out(&p, 1, b + at(3)));
    assert_int_equal(pit_next_edge_ns(&p, 1, b + at(3)), b + at(6));
    assert_int_equal(pit_check(&p), 0);
}

static void test_mode4_oneshot_linux(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, T0);
    pit_write(&p, CTRL, 0x38, T0); /* pit_set_oneshot */
    assert_true(pit_out(&p, 0, T0));
    write16(&p, 0, 1000, T0); /* pit_next_event */
    assert_int_equal(pit_next_irq_ns(&p, T0), T0 + at(1001));
    assert_true(pit_out(&p, 0, T0 + at(999)));
    assert_false(pit_out(&p, 0, T0 + at(1000)));
    assert_true(pit_out(&p, 0, T0 + at(1001)));
    assert_int_equal(pit_irq_edges(&p, T0 + at(1001)), 1);
    assert_int_equal(pit_next_irq_ns(&p, T0 + at(1001)), PIT_NEVER);
    assert_int_equal(pit_irq_edges(&p, T0 + 1000000000), 0); /* one strobe per count */
    /* the next event: a new count alone restarts the counter */
    uint64_t t1 = T0 + 1000000000;
    write16(&p, 0, 500, t1);
    assert_int_equal(pit_count(&p, 0, t1 + at(100)), 400);
    assert_int_equal(pit_next_irq_ns(&p, t1), t1 + at(501));
    /* rewritten before it fires: only the new deadline counts */
    write16(&p, 0, 2000, t1 + at(300));
    assert_int_equal(pit_next_irq_ns(&p, t1 + at(300)), t1 + at(300) + at(2001));
    assert_int_equal(pit_irq_edges(&p, t1 + at(300) + at(2001)), 1);
    assert_int_equal(pit_check(&p), 0);
}

static void test_mode0_shutdown(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, 0);
    pit_write(&p, CTRL, 0x30, T0); /* clockevent shutdown: mode 0, count 0 */
    write16(&p, 0, 0, T0);
    assert_false(pit_out(&p, 0, T0 + at(65535)));
    assert_int_equal(pit_next_irq_ns(&p, T0), T0 + at(65536));
    assert_true(pit_out(&p, 0, T0 + at(65536)));
}

static void test_mode0_first_byte_stops(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, 0);
    pit_write(&p, CTRL, 0x30, T0);
    write16(&p, 0, 100, T0);
    assert_true(pit_out(&p, 0, T0 + at(150)));
    pit_write(&p, 0x40, 0x20, T0 + at(150)); /* LSB: counting stops, OUT low */
    assert_false(pit_out(&p, 0, T0 + at(150)));
    uint16_t held = (uint16_t)pit_count(&p, 0, T0 + at(150));
    assert_int_equal(pit_count(&p, 0, T0 + at(5000)), held);
    assert_int_equal(pit_next_irq_ns(&p, T0 + at(5000)), PIT_NEVER);
    pit_write(&p, 0x40, 0x01, T0 + at(5000)); /* MSB: count 0x0120 starts */
    assert_int_equal(pit_count(&p, 0, T0 + at(5000)), 0x120);
    assert_int_equal(pit_next_irq_ns(&p, T0 + at(5000)), T0 + at(5000) + at(0x120));
}

static void test_counter_latch(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, 0);
    pit_write(&p, CTRL, 0x34, T0);
    write16(&p, 0, 1000, T0);
    pit_write(&p, CTRL, 0x00, T0 + at(100)); /* latch counter 0 */
    pit_write(&p, CTRL, 0x00, T0 + at(300)); /* ignored: the first is not read yet */
    assert_int_equal(pit_read(&p, 0x40, T0 + at(500)), 900 & 0xFF);
    assert_int_equal(pit_read(&p, 0x40, T0 + at(600)), 900 >> 8);
    assert_int_equal(read16(&p, 0, T0 + at(700)), 300); /* live again */
    /* LSB-only access: one read releases the latch */
    pit_write(&p, CTRL, 0x54, T0); /* counter 1, LSB only, mode 2 */
    pit_write(&p, 0x41, 200, T0 + at(700));
    pit_write(&p, CTRL, 0x40, T0 + at(710));
    assert_int_equal(pit_read(&p, 0x41, T0 + at(750)), 190);
    assert_int_equal(pit_read(&p, 0x41, T0 + at(750)), 150);
    /* the PIT clocksource: latch, LSB, MSB, at every read */
    for (uint64_t k = 800; k < 2000; k += 37) {
        pit_write(&p, CTRL, 0x00, T0 + at(k));
        assert_int_equal(read16(&p, 0, T0 + at(k) + 5000), 1000 - k % 1000);
    }
    assert_int_equal(pit_check(&p), 0);
}

static void test_read_back(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, 0);
    pit_set_gate(&p, 2, true, T0);
    pit_write(&p, CTRL, 0xB0, T0);
    pit_write(&p, CTRL, 0xE8, T0); /* status of counter 2 */
    assert_int_equal(pit_read(&p, 0x42, T0), 0x70); /* OUT low, null count, LSB+MSB, mode 0 */
    write16(&p, 2, 50, T0);
    pit_write(&p, CTRL, 0xC8, T0 + at(10)); /* status and count */
    pit_write(&p, CTRL, 0xC8, T0 + at(20)); /* ignored until read */
    assert_int_equal(pit_read(&p, 0x42, T0 + at(30)), 0x30);
    assert_int_equal(read16(&p, 2, T0 + at(30)), 40);
    pit_write(&p, CTRL, 0xE8, T0 + at(60));
    assert_int_equal(pit_read(&p, 0x42, T0 + at(60)), 0xB0); /* OUT high after terminal count */
    /* count only, several counters at once */
    uint64_t u = T0 + 1000000;
    pit_write(&p, CTRL, 0x34, u);
    write16(&p, 0, 1000, u);
    pit_write(&p, CTRL, 0xD6, u + at(100)); /* counts of counters 0 and 1 */
    assert_int_equal(read16(&p, 0, u + at(900)), 900);
    (void)read16(&p, 1, u + at(900));
    assert_int_equal(read16(&p, 0, u + at(900)), 100);
    /* status of a BCD counter in mode 3 written as mode 7 */
    pit_write(&p, CTRL, 0x7F, u + at(900));
    pit_write(&p, CTRL, 0xE4, u + at(900));
    assert_int_equal(pit_read(&p, 0x41, u + at(900)), 0x80 | 0x40 | 0x30 | 0x0E | 0x01);
    assert_int_equal(pit_check(&p), 0);
}

static void test_access_modes_and_bcd(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, 0);
    pit_write(&p, CTRL, 0x10, T0); /* LSB only */
    pit_write(&p, 0x40, 0x50, T0);
    assert_int_equal(pit_count(&p, 0, T0), 0x50);
    assert_int_equal(pit_read(&p, 0x40, T0 + at(0x10)), 0x40);
    assert_int_equal(pit_read(&p, 0x40, T0 + at(0x10)), 0x40); /* always the LSB */
    pit_write(&p, CTRL, 0x20, T0 + at(0x10)); /* MSB only */
    pit_write(&p, 0x40, 0x12, T0 + at(0x10));
    assert_int_equal(pit_count(&p, 0, T0 + at(0x10)), 0x1200);
    assert_int_equal(pit_read(&p, 0x40, T0 + at(0x10)), 0x12);
    /* BCD: count 1000 decimal written as 0x1000 */
    uint64_t v = T0 + 1000000;
    pit_write(&p, CTRL, 0x31, v);
    write16(&p, 0, 0x1000, v);
    assert_int_equal(read16(&p, 0, v), 0x1000);
    assert_int_equal(read16(&p, 0, v + at(1)), 0x0999);
    assert_int_equal(read16(&p, 0, v + at(999)), 0x0001);
    assert_false(pit_out(&p, 0, v + at(999)));
    assert_int_equal(read16(&p, 0, v + at(1000)), 0x0000);
    assert_true(pit_out(&p, 0, v + at(1000)));
    assert_int_equal(read16(&p, 0, v + at(1001)), 0x9999);
    /* BCD count 0 is 10000 */
    pit_write(&p, CTRL, 0x35, v + at(1001));
    write16(&p, 0, 0, v + at(1001));
    assert_int_equal(pit_next_irq_ns(&p, v + at(1001)), v + at(1001) + at(10000));
    assert_int_equal(read16(&p, 0, v + at(1001) + at(1)), 0x9999);
    assert_int_equal(pit_check(&p), 0);
}

static void test_gate(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, 0);
    /* mode 0: GATE low suspends counting, high resumes it */
    pit_set_gate(&p, 2, true, T0);
    pit_write(&p, CTRL, 0xB0, T0);
    write16(&p, 2, 1000, T0);
    pit_set_gate(&p, 2, false, T0 + at(100));
    assert_int_equal(pit_count(&p, 2, T0 + 5000000), 900);
    assert_int_equal(pit_next_edge_ns(&p, 2, T0 + 5000000), PIT_NEVER);
    pit_set_gate(&p, 2, true, T0 + 5000000);
    assert_int_equal(pit_count(&p, 2, T0 + 5000000 + at(50)), 850);
    assert_int_equal(pit_next_edge_ns(&p, 2, T0 + 5000000), T0 + 5000000 + at(900));
    /* mode 2: GATE low forces OUT high and stops; the rising edge reloads */
    uint64_t t = T0 + 100000000;
    pit_write(&p, CTRL, 0xB4, t);
    write16(&p, 2, 100, t);
    pit_set_gate(&p, 2, false, t + at(99)); /* in the low clock */
    assert_true(pit_out(&p, 2, t + at(99)));
    pit_set_gate(&p, 2, true, t + at(500));
    assert_int_equal(pit_count(&p, 2, t + at(500)), 100);
    assert_int_equal(pit_next_edge_ns(&p, 2, t + at(500)), t + at(500) + at(100));
    /* mode 1: one-shot triggered by the rising edge, retriggerable */
    t += 100000000;
    pit_write(&p, CTRL, 0xB2, t);
    write16(&p, 2, 100, t);
    assert_true(pit_out(&p, 2, t + at(1000))); /* not triggered: GATE was already high */
    pit_set_gate(&p, 2, false, t + at(1000));
    pit_set_gate(&p, 2, true, t + at(1001));
    uint64_t g = t + at(1001);
    assert_false(pit_out(&p, 2, g));
    assert_int_equal(pit_count(&p, 2, g + at(30)), 70);
    pit_set_gate(&p, 2, false, g + at(50));
    assert_int_equal(pit_count(&p, 2, g + at(60)), 40); /* GATE low does not stop mode 1 */
    pit_set_gate(&p, 2, true, g + at(60));              /* retrigger */
    assert_int_equal(pit_count(&p, 2, g + at(60)), 100);
    assert_int_equal(pit_next_edge_ns(&p, 2, g + at(60)), g + at(60) + at(100));
    assert_true(pit_out(&p, 2, g + at(60) + at(100)));
    /* mode 5: strobe one clock long, 'count' clocks after the trigger */
    t += 100000000;
    pit_write(&p, CTRL, 0xBA, t);
    write16(&p, 2, 10, t);
    pit_set_gate(&p, 2, false, t);
    pit_set_gate(&p, 2, true, t + at(5));
    (void)pit_take_edges(&p, 2, t + at(5)); /* forget the edges of the earlier modes */
    assert_true(pit_out(&p, 2, t + at(5) + at(9)));
    assert_false(pit_out(&p, 2, t + at(5) + at(10)));
    assert_true(pit_out(&p, 2, t + at(5) + at(11)));
    assert_int_equal(pit_take_edges(&p, 2, t + at(5) + at(50)), 1);
    assert_int_equal(pit_check(&p), 0);
}

static void test_count_change_at_period_end(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, T0);
    pit_write(&p, CTRL, 0x34, T0);
    write16(&p, 0, 1000, T0);
    write16(&p, 0, 500, T0 + at(300)); /* mode 2: loads at the end of this period */
    assert_int_equal(pit_count(&p, 0, T0 + at(999)), 1);
    assert_int_equal(pit_next_irq_ns(&p, T0 + at(300)), T0 + at(1000));
    uint64_t b = T0 + at(1000);
    assert_int_equal(pit_count(&p, 0, b), 500);
    assert_int_equal(pit_next_irq_ns(&p, b), b + at(500));
    assert_int_equal(pit_irq_edges(&p, b + at(1000)), 3); /* 1000 (old), +500, +1000 */
    /* mode 3: loads at the end of the half-cycle, continuing with the other half */
    pit_write(&p, CTRL, 0x36, T0 + 100000000);
    uint64_t c = T0 + 100000000;
    write16(&p, 0, 1000, c);
    write16(&p, 0, 200, c + at(100)); /* high half ends at 500 */
    assert_true(pit_out(&p, 0, c + at(499)));
    assert_int_equal(pit_count(&p, 0, c + at(499)), 2);
    assert_false(pit_out(&p, 0, c + at(500)));
    assert_int_equal(pit_count(&p, 0, c + at(500)), 200); /* low half of the new count */
    assert_int_equal(pit_next_irq_ns(&p, c + at(100)), c + at(500) + at(100));
    assert_int_equal(pit_check(&p), 0);
}

static void test_time_never_runs_backwards(void **state)
{
    (void)state;
    struct pit8254 p;
    pit_init(&p, 0);
    pit_write(&p, CTRL, 0x34, T0);
    write16(&p, 0, 1000, T0);
    assert_int_equal(pit_count(&p, 0, T0 + at(400)), 600);
    assert_int_equal(pit_count(&p, 0, T0), 600); /* an earlier time is taken as the latest */
    assert_int_equal(pit_count(&p, 0, 0), 600);
    assert_int_equal(pit_count(&p, 0, T0 + at(500)), 500);
    assert_int_equal(pit_check(&p), 0);
    /* the far future: no overflow, the formula still holds */
    uint64_t far = UINT64_MAX - 1000000000ull;
    uint32_t c = pit_count(&p, 0, far);
    assert_true(c >= 1 && c <= 1000);
    assert_true(pit_next_irq_ns(&p, far) > far);
    assert_int_equal(pit_check(&p), 0);
}

static uint32_t rng(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Random control words, counts, reads and gate changes at random times; after each, the
 * invariants hold and every counter's predicted next edge is where the edges appear. */
static void test_random_traffic(void **state)
{
    (void)state;
    struct pit8254 p;
    uint32_t s = 0xC0FFEE;
    uint64_t now = 1000;
    pit_init(&p, now);
    for (int i = 0; i < 50000; i++) {
        uint32_t r = rng(&s);
        now += (r >> 20) * ((r & 0x80) ? 1000 : 1);
        switch (r & 3) {
        case 0:
            pit_write(&p, (uint16_t)(0x40 + ((r >> 2) & 3)), (uint8_t)(r >> 8), now);
            break;
        case 1:
            (void)pit_read(&p, (uint16_t)(0x40 + ((r >> 2) & 3)), now);
            break;
        case 2:
            pit_set_gate(&p, 2, (r >> 4) & 1, now);
            break;
        default:
            for (unsigned ch = 0; ch < 3; ch++) {
                struct pit8254 copy = p;
                uint64_t e = pit_next_edge_ns(&copy, ch, now);
                if (e == PIT_NEVER)
                    continue;
                assert_true(e > now);
                (void)pit_take_edges(&copy, ch, now);
                assert_int_equal(pit_take_edges(&copy, ch, e - 1), 0);
                assert_true(pit_take_edges(&copy, ch, e) >= 1);
                assert_true(pit_out(&copy, ch, e));
            }
            break;
        }
        assert_int_equal(pit_check(&p), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bios_state),
        cmocka_unit_test(test_mode0_calibration_sequence),
        cmocka_unit_test(test_quick_pit_calibrate_msb),
        cmocka_unit_test(test_mode2_periodic_linux),
        cmocka_unit_test(test_mode3_square_wave),
        cmocka_unit_test(test_mode4_oneshot_linux),
        cmocka_unit_test(test_mode0_shutdown),
        cmocka_unit_test(test_mode0_first_byte_stops),
        cmocka_unit_test(test_counter_latch),
        cmocka_unit_test(test_read_back),
        cmocka_unit_test(test_access_modes_and_bcd),
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_count_change_at_period_end),
        cmocka_unit_test(test_time_never_runs_backwards),
        cmocka_unit_test(test_random_traffic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
