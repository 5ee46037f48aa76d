/*
 * test_i8042.c - the keyboard controller through Linux's drivers/input/serio/i8042.c sequence
 * (flush, self test, command byte read and write, keyboard interface test, AUX loopback with
 * its IRQ 12, AUX enable/disable bit checks), the atkbd probe (reset, identify with and
 * without translation, enable), the mouse port without a mouse, held-back bytes of a disabled
 * interface, A20 through the output port and port 0x92, every reset path, and bounded queues.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/i8042.h"

static uint8_t status(struct i8042 *k)
{
    return i8042_read(k, I8042_PORT_STATUS);
}

static void cmd(struct i8042 *k, uint8_t c)
{
    i8042_write(k, I8042_PORT_CMD, c);
}

static void data(struct i8042 *k, uint8_t v)
{
    i8042_write(k, I8042_PORT_DATA, v);
}

/* The next byte, which must be there. */
static uint8_t take(struct i8042 *k)
{
    assert_true(status(k) & I8042_STR_OBF);
    return i8042_read(k, I8042_PORT_DATA);
}

static void expect_empty(struct i8042 *k)
{
    assert_false(status(k) & I8042_STR_OBF);
}

static void test_linux_controller_probe(void **state)
{
    (void)state;
    struct i8042 k;
    i8042_init(&k);
    /* i8042_flush: nothing queued */
    assert_int_equal(status(&k), I8042_STR_SYS | I8042_STR_UNLOCKED);
    /* i8042_controller_selftest */
    cmd(&k, 0xAA);
    assert_true(status(&k) & I8042_STR_CMD);
    assert_int_equal(take(&k), 0x55);
    expect_empty(&k);
    /* i8042_controller_init: read the command byte (twice, until stable) and write it back */
    cmd(&k, 0x20);
    assert_int_equal(take(&k), 0x65);
    cmd(&k, 0x20);
    assert_int_equal(take(&k), 0x65);
    cmd(&k, 0x60);
    data(&k, 0x65 & ~(I8042_CTR_KBDINT | I8042_CTR_AUXINT));
    assert_false(status(&k) & I8042_STR_CMD);
    cmd(&k, 0x20);
    assert_int_equal(take(&k), 0x64);
    /* keyboard interface test */
    cmd(&k, 0xAB);
    assert_int_equal(take(&k), 0x00);
    /* i8042_check_aux: loopback, then disable/enable with the command byte checked */
    cmd(&k, 0xD3);
    data(&k, 0x5A);
    assert_true(status(&k) & I8042_STR_AUXDATA);
    assert_int_equal(take(&k), 0x5A);
    cmd(&k, 0xA7);
    cmd(&k, 0x20);
    assert_true(take(&k) & I8042_CTR_AUXDIS);
    cmd(&k, 0xA8);
    cmd(&k, 0x20);
    assert_false(take(&k) & I8042_CTR_AUXDIS);
    /* the AUX IRQ test: loopback with AUX interrupts on raises IRQ 12, not IRQ 1 */
    cmd(&k, 0x60);
    data(&k, 0x47 & ~I8042_CTR_AUXDIS);
    cmd(&k, 0xD3);
    data(&k, 0xA5);
    assert_true(i8042_irq12(&k));
    assert_false(i8042_irq1(&k));
    assert_int_equal(take(&k), 0xA5);
    assert_false(i8042_irq12(&k));
    cmd(&k, 0xA9); /* AUX interface test */
    assert_int_equal(take(&k), 0x00);
    assert_true(i8042_irq1(&k) == false); /* controller answer read already */
    assert_int_equal(i8042_check(&k), 0);
}

static void test_atkbd_probe(void **state)
{
    (void)state;
    struct i8042 k;
    i8042_init(&k);
    /* translation on (BIOS default): the ID's second byte reads 0x41 */
    data(&k, 0xF2);
    assert_true(i8042_irq1(&k));
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0xAB);
    assert_int_equal(take(&k), 0x41);
    expect_empty(&k);
    assert_false(i8042_irq1(&k));
    /* translation off: raw 0xAB 0x83 */
    cmd(&k, 0x60);
    data(&k, 0x05);
    data(&k, 0xF2);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0xAB);
    assert_int_equal(take(&k), 0x83);
    /* reset: ACK, then the self test passed */
    data(&k, 0xFF);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0xAA);
    /* deactivate, set LEDs, typematic, scan set query, enable */
    data(&k, 0xF5);
    assert_int_equal(take(&k), 0xFA);
    assert_false(k.kbd_scanning);
    data(&k, 0xED);
    assert_int_equal(take(&k), 0xFA);
    data(&k, 0x07);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(k.kbd_leds, 7);
    data(&k, 0xF3);
    data(&k, 0x20);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(k.kbd_rate, 0x20);
    data(&k, 0xF0);
    data(&k, 0x00);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0x02);
    data(&k, 0xF0);
    data(&k, 0x09); /* no such set */
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0xFE);
    data(&k, 0xF4);
    assert_int_equal(take(&k), 0xFA);
    assert_true(k.kbd_scanning);
    /* echo, resend, unknown */
    data(&k, 0xEE);
    assert_int_equal(take(&k), 0xEE);
    data(&k, 0xFE);
    assert_int_equal(take(&k), 0xEE);
    data(&k, 0x42);
    assert_int_equal(take(&k), 0xFE);
    expect_empty(&k);
    /* scan set query under translation */
    cmd(&k, 0x60);
    data(&k, 0x45);
    data(&k, 0xF0);
    data(&k, 0x00);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0x41);
    assert_int_equal(i8042_check(&k), 0);
}

static void test_disabled_interfaces_hold_bytes(void **state)
{
    (void)state;
    struct i8042 k;
    i8042_init(&k);
    cmd(&k, 0xAD); /* keyboard interface off */
    data(&k, 0xFF);
    expect_empty(&k);
    cmd(&k, 0x20); /* controller answers still come */
    assert_int_equal(take(&k), 0x75);
    expect_empty(&k);
    cmd(&k, 0xAE);
    assert_int_equal(take(&k), 0xFA);
    assert_int_equal(take(&k), 0xAA);
    /* the mouse port, disabled at init, then enabled: no mouse, so 0xFE with timeout */
    cmd(&k, 0xD4);
    data(&k, 0xFF);
    expect_empty(&k);
    cmd(&k, 0xA8);
    uint8_t st = status(&k);
    assert_true(st & I8042_STR_AUXDATA);
    assert_true(st & I8042_STR_TIMEOUT);
    assert_int_equal(take(&k), 0xFE);
    assert_false(status(&k) & I8042_STR_TIMEOUT);
    /* reading an empty buffer gives the last byte again */
    assert_int_equal(i8042_read(&k, I8042_PORT_DATA), 0xFE);
    assert_int_equal(i8042_check(&k), 0);
}

static void test_a20(void **state)
{
    (void)state;
    struct i8042 k;
    i8042_init(&k);
    assert_true(i8042_a20(&k));
    cmd(&k, 0xD1);
    data(&k, 0xDD); /* A20 off, reset line high */
    assert_false(i8042_a20(&k));
    assert_false(i8042_take_reset(&k));
    cmd(&k, 0xD0);
    assert_int_equal(take(&k) & 0x03, 0x01);
    cmd(&k, 0xD1);
    data(&k, 0xDF);
    assert_true(i8042_a20(&k));
    cmd(&k, 0xD0);
    assert_int_equal(take(&k) & 0x03, 0x03);
    cmd(&k, 0xDD);
    assert_false(i8042_a20(&k));
    /* fast A20 at port 0x92 ORs in */
    i8042_write(&k, I8042_PORT_SYSCTL_A, 0x02);
    assert_true(i8042_a20(&k));
    assert_int_equal(i8042_read(&k, I8042_PORT_SYSCTL_A), 0x02);
    i8042_write(&k, I8042_PORT_SYSCTL_A, 0x00);
    assert_false(i8042_a20(&k));
    cmd(&k, 0xDF);
    assert_true(i8042_a20(&k));
    /* the output port shows the interrupt lines in bits 4 and 5 */
    data(&k, 0xEE);
    cmd(&k, 0xD0); /* the echo is in the buffer and raises IRQ 1 */
    assert_int_equal(take(&k), 0xEE);
    assert_int_equal(take(&k) & 0x30, 0x10);
    cmd(&k, 0xD0); /* now nothing is in the buffer */
    assert_int_equal(take(&k) & 0x30, 0x00);
    assert_int_equal(i8042_check(&k), 0);
}

static void test_reset_paths(void **state)
{
    (void)state;
    struct i8042 k;
    i8042_init(&k);
    assert_false(i8042_take_reset(&k));
    cmd(&k, 0xFE); /* the reboot path */
    assert_true(i8042_take_reset(&k));
    assert_false(i8042_take_reset(&k)); /* taken once */
    cmd(&k, 0xFF); /* pulses nothing */
    assert_false(i8042_take_reset(&k));
    cmd(&k, 0xF0); /* pulses all four bits, bit 0 among them */
    assert_true(i8042_take_reset(&k));
    cmd(&k, 0xD1);
    data(&k, 0x02); /* reset line written low */
    assert_true(i8042_take_reset(&k));
    i8042_write(&k, I8042_PORT_SYSCTL_A, 0x01); /* fast reset */
    assert_true(i8042_take_reset(&k));
    i8042_write(&k, I8042_PORT_SYSCTL_A, 0x03); /* bit 0 already set: no new edge */
    assert_false(i8042_take_reset(&k));
    assert_int_equal(i8042_check(&k), 0);
}

static void test_controller_ram_and_foreign_ports(void **state)
{
    (void)state;
    struct i8042 k;
    i8042_init(&k);
    cmd(&k, 0x7F);
    data(&k, 0x99);
    cmd(&k, 0x3F);
    assert_int_equal(take(&k), 0x99);
    cmd(&k, 0xC0);
    assert_int_equal(take(&k), 0x80);
    cmd(&k, 0xE0);
    assert_int_equal(take(&k), 0x00);
    cmd(&k, 0x60);
    cmd(&k, 0xAA); /* a new command cancels the pending parameter */
    assert_int_equal(take(&k), 0x55);
    data(&k, 0xEE); /* so this goes to the keyboard */
    assert_int_equal(take(&k), 0xEE);
    cmd(&k, 0x20);
    assert_int_equal(take(&k), 0x65);
    assert_int_equal(i8042_read(&k, 0x61), 0xFF);
    assert_int_equal(i8042_read(&k, 0x65), 0xFF);
    struct i8042 before = k;
    i8042_write(&k, 0x61, 0xFE);
    i8042_write(&k, 0x65, 0xFE);
    assert_memory_equal(&k, &before, sizeof k);
}

static void test_queues_are_bounded(void **state)
{
    (void)state;
    struct i8042 k;
    i8042_init(&k);
    for (int i = 0; i < 1000; i++) {
        data(&k, 0xFF);
        cmd(&k, 0x20);
        cmd(&k, 0xD4);
        data(&k, 0x00);
        assert_int_equal(i8042_check(&k), 0);
    }
    unsigned n = 0;
    while ((status(&k) & I8042_STR_OBF) && n < 1000) {
        (void)i8042_read(&k, I8042_PORT_DATA);
        n++;
    }
    assert_true(n <= 1 + 3 * I8042_QUEUE);
    expect_empty(&k);
    assert_int_equal(i8042_check(&k), 0);
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
    static const uint16_t ports[] = {I8042_PORT_DATA, I8042_PORT_CMD, I8042_PORT_SYSCTL_A};
    struct i8042 k;
    uint32_t s = 0xABCD;
    i8042_init(&k);
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng(&s);
        uint16_t port = ports[(r >> 8) % 3];
        if (r & 1)
            i8042_write(&k, port, (uint8_t)(r >> 16));
        else
            (void)i8042_read(&k, port);
        if ((r & 0xF0) == 0)
            (void)i8042_take_reset(&k);
        assert_int_equal(i8042_check(&k), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_controller_probe),
        cmocka_unit_test(test_atkbd_probe),
        cmocka_unit_test(test_disabled_interfaces_hold_bytes),
        cmocka_unit_test(test_a20),
        cmocka_unit_test(test_reset_paths),
        cmocka_unit_test(test_controller_ram_and_foreign_ports),
        cmocka_unit_test(test_queues_are_bounded),
        cmocka_unit_test(test_random_traffic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
