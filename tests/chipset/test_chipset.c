/*
 * test_chipset.c - the chipset as the vCPU and the device process see it: port decoding and
 * access sizes, floating ports, Linux's boot-time sequences through the ports (PIC init, PIT
 * periodic timer on IRQ 0 with EOI, TSC calibration polling port 0x61, RTC periodic interrupt
 * through the cascade, i8042 reset), the wake-up time, edges the owner was late for, external
 * lines, and the system outputs (reset, A20, NMI mask).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/chipset.h"

#define S 1000000000ull
#define T0 (10 * S)

static uint64_t at(uint64_t k)
{
    return (k * S + PIT_HZ - 1) / PIT_HZ;
}

static void boot(struct chipset *cs)
{
    /* 2024-06-01 12:00:00 UTC */
    struct chipset_config cfg = {.ram_bytes = 256ull << 20,
                                 .wall_unix_ns = 1717243200ll * (int64_t)S};
    chipset_init(cs, &cfg, T0);
    assert_int_equal(chipset_check(cs), 0);
}

static void outb(struct chipset *cs, uint16_t port, uint8_t v, uint64_t t)
{
    chipset_write(cs, port, 1, v, t);
    assert_int_equal(chipset_check(cs), 0);
}

static uint8_t inb(struct chipset *cs, uint16_t port, uint64_t t)
{
    uint32_t v = chipset_read(cs, port, 1, t);
    assert_true(v <= 0xFF);
    assert_int_equal(chipset_check(cs), 0);
    return (uint8_t)v;
}

/* Linux's init_8259A(0): vectors 0x30 and 0x38, everything masked but the cascade. */
static void linux_pic_init(struct chipset *cs, uint64_t t)
{
    static const uint8_t seq[][2] = {
        {0xA1, 0xFF}, {0x21, 0xFB}, {0x21, 0xFF}, {0x20, 0x11}, {0x21, 0x30}, {0x21, 0x04},
        {0x21, 0x01}, {0xA0, 0x11}, {0xA1, 0x38}, {0xA1, 0x02}, {0xA1, 0x01}, {0x21, 0xFB},
        {0xA1, 0xFF},
    };
    for (unsigned i = 0; i < sizeof seq / sizeof seq[0]; i++)
        outb(cs, seq[i][0], seq[i][1], t);
}

static void test_ports_and_sizes(void **state)
{
    (void)state;
    struct chipset cs;
    boot(&cs);
    assert_int_equal(chipset_read(&cs, 0x3F0, 1, T0), 0xFF);
    assert_int_equal(chipset_read(&cs, 0x3F0, 2, T0), 0xFFFF);
    assert_int_equal(chipset_read(&cs, 0x3F0, 4, T0), 0xFFFFFFFFu);
    assert_int_equal(chipset_read(&cs, 0x3F8, 1, T0), 0xFF); /* the UART lives elsewhere */
    assert_int_equal(chipset_read(&cs, 0x22, 1, T0), 0xFF);  /* no PIC aliases */
    assert_int_equal(chipset_read(&cs, 0x21, 3, T0), 0xFFFFFFFFu);
    assert_int_equal(chipset_read(&cs, 0x21, 0, T0), 0xFFFFFFFFu);
    assert_int_equal(chipset_read(&cs, 0xFFFF, 2, T0), 0xFF00 | 0xFF); /* wraps to port 0 */
    /* a word across a claimed and an unclaimed port */
    outb(&cs, 0x21, 0x5A, T0);
    assert_int_equal(chipset_read(&cs, 0x21, 2, T0), 0xFF5A);
    assert_int_equal(chipset_read(&cs, 0x20, 2, T0), 0x5A00 | inb(&cs, 0x20, T0));
    /* claims */
    assert_true(chipset_claims(0x20, 1));
    assert_true(chipset_claims(0x1F, 2));
    assert_false(chipset_claims(0x1E, 2));
    assert_true(chipset_claims(0x61, 1));
    assert_true(chipset_claims(0x80, 1));
    assert_true(chipset_claims(0xED, 1));
    assert_true(chipset_claims(0x4D0, 2));
    assert_true(chipset_claims(0xCF8, 4));
    assert_false(chipset_claims(0xCF8, 1));
    assert_true(chipset_claims(0xCFC, 4));
    assert_false(chipset_claims(0x3F8, 1));
    assert_false(chipset_claims(0x20, 3));
    /* the I/O delay ports take anything */
    outb(&cs, 0x80, 0x42, T0);
    assert_int_equal(cs.post_code, 0x42);
    outb(&cs, 0xED, 0x00, T0);
    assert_int_equal(inb(&cs, 0x80, T0), 0xFF);
    /* a word write is two byte writes: CMOS index, then data */
    chipset_write(&cs, 0x70, 2, 0xA540, T0);
    outb(&cs, 0x70, 0x40, T0);
    assert_int_equal(inb(&cs, 0x71, T0), 0xA5);
    assert_int_equal(chipset_read(&cs, 0x70, 2, T0), 0xA5FF);
    /* writes of bad sizes do nothing */
    struct chipset before = cs;
    chipset_write(&cs, 0x21, 3, 0, T0);
    chipset_write(&cs, 0x21, 8, 0, T0);
    assert_memory_equal(&cs, &before, sizeof cs);
    assert_int_equal(chipset_check(&cs), 0);
}

static void test_linux_timer_irq0(void **state)
{
    (void)state;
    struct chipset cs;
    uint8_t vec;
    boot(&cs);
    assert_int_equal(chipset_next_event_ns(&cs, T0), CHIPSET_NEVER); /* all masked */
    linux_pic_init(&cs, T0);
    /* i8253 clockevent, periodic at HZ = 250 */
    const uint16_t latch = 4773;
    outb(&cs, 0x43, 0x34, T0);
    outb(&cs, 0x40, latch & 0xFF, T0);
    outb(&cs, 0x40, latch >> 8, T0);
    outb(&cs, 0x21, 0xFA, T0); /* unmask IRQ 0 */
    assert_false(chipset_pending(&cs, T0, NULL));
    uint64_t t = chipset_next_event_ns(&cs, T0);
    assert_int_equal(t, T0 + at(latch));
    assert_false(chipset_pending(&cs, t - 1, NULL));
    assert_true(chipset_pending(&cs, t, &vec));
    assert_int_equal(vec, 0x30);
    assert_int_equal(chipset_ack(&cs, t), 0x30);
    assert_false(chipset_pending(&cs, t, NULL));
    outb(&cs, 0x20, 0x60, t); /* specific EOI */
    assert_false(chipset_pending(&cs, t, NULL));
    for (unsigned i = 2; i <= 5; i++) {
        uint64_t next = chipset_next_event_ns(&cs, t);
        assert_int_equal(next, T0 + at(i * latch));
        assert_false(chipset_pending(&cs, next - 1, NULL));
        assert_true(chipset_pending(&cs, next, &vec));
        assert_int_equal(chipset_ack(&cs, next), 0x30);
        outb(&cs, 0x20, 0x60, next);
        t = next;
    }
    /* the owner sleeps through three periods: one interrupt, not three */
    uint64_t late = T0 + at(8 * latch) + 1000;
    assert_true(chipset_pending(&cs, late, &vec));
    assert_int_equal(chipset_ack(&cs, late), 0x30);
    outb(&cs, 0x20, 0x60, late);
    assert_false(chipset_pending(&cs, late, NULL));
    assert_int_equal(chipset_next_event_ns(&cs, late), T0 + at(9 * latch));
    /* while IRQ 0 is masked there is nothing to wake for, but the edge is kept */
    outb(&cs, 0x21, 0xFB, late);
    assert_int_equal(chipset_next_event_ns(&cs, late), CHIPSET_NEVER);
    outb(&cs, 0x21, 0xFA, T0 + at(12 * latch));
    assert_true(chipset_pending(&cs, T0 + at(12 * latch), &vec));
    assert_int_equal(chipset_irq_lines(&cs, T0 + at(12 * latch)) & 1, 1);
    assert_int_equal(chipset_check(&cs), 0);
}

static void test_linux_oneshot_irq0(void **state)
{
    (void)state;
    struct chipset cs;
    boot(&cs);
    linux_pic_init(&cs, T0);
    outb(&cs, 0x21, 0xFA, T0);
    outb(&cs, 0x43, 0x38, T0); /* one-shot: mode 4 */
    outb(&cs, 0x40, 0xE8, T0); /* 1000 clocks */
    outb(&cs, 0x40, 0x03, T0);
    uint64_t t = chipset_next_event_ns(&cs, T0);
    assert_int_equal(t, T0 + at(1001));
    assert_true(chipset_pending(&cs, t, NULL));
    assert_int_equal(chipset_ack(&cs, t), 0x30);
    outb(&cs, 0x20, 0x60, t);
    assert_int_equal(chipset_next_event_ns(&cs, t), CHIPSET_NEVER);
    assert_false(chipset_pending(&cs, t + S, NULL));
    assert_int_equal(chipset_check(&cs), 0);
}

static void test_tsc_calibration_port61(void **state)
{
    (void)state;
    struct chipset cs;
    boot(&cs);
    uint64_t t = T0;
    assert_int_equal(inb(&cs, 0x61, t) & 0x0F, 0x00);
    /* pit_calibrate_tsc(CAL_LATCH, CAL_MS, CAL_PIT_LOOPS) */
    const uint16_t latch = 11931;
    outb(&cs, 0x61, (uint8_t)((inb(&cs, 0x61, t) & ~0x02) | 0x01), t);
    outb(&cs, 0x43, 0xB0, t);
    outb(&cs, 0x42, latch & 0xFF, t);
    outb(&cs, 0x42, latch >> 8, t);
    uint64_t start = t;
    unsigned polls = 0;
    while ((inb(&cs, 0x61, t) & 0x20) == 0) {
        t += 1000; /* an ISA read takes about a microsecond */
        polls++;
        assert_true(polls < 100000);
    }
    assert_int_equal(polls, (at(latch) + 999) / 1000);
    assert_true(t - start >= 9999000 && t - start < 10001000);
    /* bits 0-3 read back; bit 4 toggles with the refresh clock */
    outb(&cs, 0x61, 0x0F, t);
    uint64_t r0 = (t / CHIPSET_REFRESH_NS + 1) * CHIPSET_REFRESH_NS;
    uint8_t a = inb(&cs, 0x61, r0), b = inb(&cs, 0x61, r0 + CHIPSET_REFRESH_NS);
    assert_int_equal(a & 0x0F, 0x0F);
    assert_int_equal((a ^ b) & 0x10, 0x10);
    assert_int_equal(inb(&cs, 0x61, r0) & 0xC0, 0x00);
    /* gate low again: counter 2 frozen */
    outb(&cs, 0x61, 0x00, r0 + CHIPSET_REFRESH_NS);
    assert_false(cs.pit.ch[2].gate);
    /* quick_pit_calibrate: MSB of counter 2 steps every 256 clocks */
    uint64_t q = r0 + S;
    outb(&cs, 0x61, 0x01, q);
    outb(&cs, 0x43, 0xB0, q);
    outb(&cs, 0x42, 0xFF, q);
    outb(&cs, 0x42, 0xFF, q);
    (void)inb(&cs, 0x42, q + at(300));
    assert_int_equal(inb(&cs, 0x42, q + at(300)), 0xFE);
    assert_int_equal(chipset_check(&cs), 0);
}

static void test_rtc_irq8_through_cascade(void **state)
{
    (void)state;
    struct chipset cs;
    uint8_t vec;
    boot(&cs);
    linux_pic_init(&cs, T0);
    outb(&cs, 0x70, 0x0B, T0);
    outb(&cs, 0x71, 0x42, T0); /* PIE, 24 h */
    assert_int_equal(chipset_next_event_ns(&cs, T0), CHIPSET_NEVER); /* IRQ 8 masked */
    outb(&cs, 0xA1, 0xFE, T0);
    uint64_t t = chipset_next_event_ns(&cs, T0);
    assert_true(t > T0 && t <= T0 + S / 1024 + 1);
    assert_false(chipset_pending(&cs, t - 1, NULL));
    assert_true(chipset_pending(&cs, t, &vec));
    assert_int_equal(vec, 0x38);
    assert_int_equal(chipset_ack(&cs, t), 0x38);
    /* rtc_cmos interrupt handler: read C, then EOI slave and cascade */
    outb(&cs, 0x70, 0x0C, t);
    assert_int_equal(inb(&cs, 0x71, t), 0xC0);
    assert_int_equal(chipset_irq_lines(&cs, t) & (1u << 8), 0);
    outb(&cs, 0xA0, 0x60, t);
    outb(&cs, 0x20, 0x62, t);
    assert_false(chipset_pending(&cs, t, NULL));
    uint64_t t2 = chipset_next_event_ns(&cs, t);
    assert_true(t2 > t + 976000 && t2 < t + 977000);
    /* the master's cascade mask hides it too */
    outb(&cs, 0x21, 0xFF, t);
    assert_int_equal(chipset_next_event_ns(&cs, t), CHIPSET_NEVER);
    /* the time of day as mach_get_cmos_time reads it */
    outb(&cs, 0x70, 0x04, t);
    assert_int_equal(inb(&cs, 0x71, t), 0x12);
    outb(&cs, 0x70, 0x32, t);
    assert_int_equal(inb(&cs, 0x71, t), 0x20);
    /* NMI mask in port 0x70 bit 7 */
    outb(&cs, 0x70, 0x8D, t);
    assert_true(chipset_nmi_masked(&cs));
    outb(&cs, 0x70, 0x0D, t);
    assert_false(chipset_nmi_masked(&cs));
    assert_int_equal(chipset_check(&cs), 0);
}

static void test_external_lines(void **state)
{
    (void)state;
    struct chipset cs;
    uint8_t vec;
    boot(&cs);
    linux_pic_init(&cs, T0);
    outb(&cs, 0x21, 0xEB, T0); /* unmask IRQ 4 */
    assert_int_equal(chipset_set_irq(&cs, 4, true, T0), 0);
    assert_int_equal(chipset_irq_lines(&cs, T0) & (1u << 4), 1u << 4);
    assert_true(chipset_pending(&cs, T0, &vec));
    assert_int_equal(vec, 0x34);
    assert_int_equal(chipset_set_irq(&cs, 4, false, T0), 0); /* gone before the acknowledge */
    assert_int_equal(chipset_ack(&cs, T0), 0x37);
    static const unsigned refused[] = {0, 1, 2, 8, 12, 16, 100};
    for (unsigned i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(chipset_set_irq(&cs, refused[i], true, T0), -EINVAL);
    /* a slave line: IRQ 11 level-triggered through ELCR */
    outb(&cs, 0x4D1, 0x08, T0);
    outb(&cs, 0xA1, 0xF7, T0);
    assert_int_equal(chipset_set_irq(&cs, 11, true, T0), 0);
    assert_int_equal(chipset_ack(&cs, T0), 0x3B);
    outb(&cs, 0xA0, 0x63, T0);
    outb(&cs, 0x20, 0x62, T0);
    assert_true(chipset_pending(&cs, T0, &vec)); /* still asserted */
    assert_int_equal(vec, 0x3B);
    assert_int_equal(chipset_check(&cs), 0);
}

static void test_i8042_through_ports(void **state)
{
    (void)state;
    struct chipset cs;
    uint8_t vec;
    boot(&cs);
    linux_pic_init(&cs, T0);
    outb(&cs, 0x21, 0xF9, T0); /* unmask IRQ 1 */
    outb(&cs, 0x64, 0xAA, T0);
    assert_true(chipset_pending(&cs, T0, &vec)); /* answers raise IRQ 1 (INT is on) */
    assert_int_equal(vec, 0x31);
    assert_int_equal(inb(&cs, 0x60, T0), 0x55);
    assert_false(chipset_pending(&cs, T0, NULL)); /* the byte was taken: line low again */
    /* atkbd's GETID: i8042_interrupt takes one byte per interrupt, so every byte of the
     * answer must raise IRQ 1 anew although the buffer never stays empty in between */
    outb(&cs, 0x60, 0xF2, T0);
    static const uint8_t id[3] = {0xFA, 0xAB, 0x41};
    for (unsigned i = 0; i < 3; i++) {
        assert_true(chipset_pending(&cs, T0, &vec));
        assert_int_equal(vec, 0x31);
        assert_int_equal(chipset_ack(&cs, T0), 0x31);
        assert_true(inb(&cs, 0x64, T0) & 0x01);
        assert_int_equal(inb(&cs, 0x60, T0), id[i]);
        outb(&cs, 0x20, 0x61, T0);
    }
    assert_false(chipset_pending(&cs, T0, NULL));
    assert_int_equal(inb(&cs, 0x64, T0) & 0x01, 0);
    /* A20 and reset */
    assert_true(chipset_a20(&cs));
    outb(&cs, 0x92, 0x00, T0);
    outb(&cs, 0x64, 0xDD, T0);
    assert_false(chipset_a20(&cs));
    outb(&cs, 0x92, 0x02, T0);
    assert_true(chipset_a20(&cs));
    assert_false(chipset_take_reset(&cs));
    outb(&cs, 0x64, 0xFE, T0);
    assert_true(chipset_take_reset(&cs));
    assert_false(chipset_take_reset(&cs));
    assert_int_equal(chipset_check(&cs), 0);
}

static void test_pci_through_ports(void **state)
{
    (void)state;
    struct chipset cs;
    boot(&cs);
    chipset_write(&cs, 0xCFB, 1, 0x01, T0);
    chipset_write(&cs, 0xCF8, 4, 0x80000000u, T0);
    assert_int_equal(chipset_read(&cs, 0xCF8, 4, T0), 0x80000000u);
    assert_int_equal(chipset_read(&cs, 0xCFC, 4, T0), 0x12378086u);
    assert_int_equal(chipset_read(&cs, 0xCFE, 2, T0), 0x1237);
    assert_int_equal(chipset_read(&cs, 0xCFD, 1, T0), 0x80);
    assert_int_equal(chipset_read(&cs, 0xCF8, 2, T0), 0xFFFF); /* not the address register */
    chipset_write(&cs, 0xCF8, 4, 0x80000808u, T0);              /* 00:01.0, offset 8 */
    assert_int_equal(chipset_read(&cs, 0xCFC, 4, T0), 0xFFFFFFFFu);
    chipset_write(&cs, 0xCF8, 4, 0x80000008u, T0);
    assert_int_equal(chipset_read(&cs, 0xCFE, 2, T0), 0x0600);
    assert_int_equal(chipset_check(&cs), 0);
}

static void test_time_never_runs_backwards(void **state)
{
    (void)state;
    struct chipset cs;
    boot(&cs);
    outb(&cs, 0x43, 0x34, T0 + S);
    outb(&cs, 0x40, 0x00, T0 + S);
    outb(&cs, 0x40, 0x10, T0 + S);
    outb(&cs, 0x43, 0x00, T0 + S + at(100));
    assert_int_equal(inb(&cs, 0x40, 0), 0x9C); /* 0x1000 - 100 = 0x0F9C latched */
    assert_int_equal(inb(&cs, 0x40, 0), 0x0F);
    outb(&cs, 0x43, 0x00, 5);
    uint16_t c = inb(&cs, 0x40, 5);
    c = (uint16_t)(c | inb(&cs, 0x40, 5) << 8);
    assert_int_equal(c, 0x1000 - 100); /* "now" stayed at the latest time seen */
    assert_true(chipset_next_event_ns(&cs, 0) == CHIPSET_NEVER ||
                chipset_next_event_ns(&cs, 0) > T0 + S + at(100));
    assert_int_equal(chipset_check(&cs), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports_and_sizes),
        cmocka_unit_test(test_linux_timer_irq0),
        cmocka_unit_test(test_linux_oneshot_irq0),
        cmocka_unit_test(test_tsc_calibration_port61),
        cmocka_unit_test(test_rtc_irq8_through_cascade),
        cmocka_unit_test(test_external_lines),
        cmocka_unit_test(test_i8042_through_ports),
        cmocka_unit_test(test_pci_through_ports),
        cmocka_unit_test(test_time_never_runs_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
