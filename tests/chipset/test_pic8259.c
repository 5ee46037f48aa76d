/*
 * test_pic8259.c - the 8259A pair driven the way Linux's arch/x86/kernel/i8259.c drives it
 * (probe, ICW1-4 with vectors 0x30/0x38, masking, specific EOI to slave then master, OCW3
 * ISR/IRR reads for the spurious check), and every other command the model implements: priority
 * and nesting, rotation, special mask, special fully nested, auto-EOI, poll, ELCR level
 * triggering, spurious IRQ 7 and 15, and a stream of random port traffic under the invariants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/pic8259.h"

#define M_CMD 0x20
#define M_IMR 0x21
#define S_CMD 0xA0
#define S_IMR 0xA1

/* Linux init_8259A(0) after probe_8259A, then the masks it keeps (everything but the cascade). */
static void linux_init(struct pic8259 *p, uint8_t master_icw4)
{
    pic_init(p);
    pic_write(p, S_IMR, 0xFF);
    pic_write(p, M_IMR, 0xFB);
    assert_int_equal(pic_read(p, M_IMR), 0xFB); /* probe: the mask reads back */
    pic_write(p, M_IMR, 0xFF);
    pic_write(p, M_CMD, 0x11);
    pic_write(p, M_IMR, 0x30);
    pic_write(p, M_IMR, 1u << 2);
    pic_write(p, M_IMR, master_icw4);
    pic_write(p, S_CMD, 0x11);
    pic_write(p, S_IMR, 0x38);
    pic_write(p, S_IMR, 2);
    pic_write(p, S_IMR, 0x01);
    pic_write(p, M_IMR, 0xFB);
    pic_write(p, S_IMR, 0xFF);
    assert_int_equal(pic_check(p), 0);
}

static void unmask(struct pic8259 *p, unsigned line)
{
    uint16_t port = line < 8 ? M_IMR : S_IMR;
    pic_write(p, port, (uint8_t)(pic_read(p, port) & ~(1u << (line & 7))));
}

static uint8_t read_isr(struct pic8259 *p, uint16_t cmd)
{
    pic_write(p, cmd, 0x0B);
    uint8_t v = pic_read(p, cmd);
    pic_write(p, cmd, 0x0A);
    return v;
}

static uint8_t read_irr(struct pic8259 *p, uint16_t cmd)
{
    pic_write(p, cmd, 0x0A);
    return pic_read(p, cmd);
}

static void test_bios_state(void **state)
{
    (void)state;
    struct pic8259 p;
    pic_init(&p);
    assert_int_equal(pic_read(&p, M_IMR), 0xFF);
    assert_int_equal(pic_read(&p, S_IMR), 0xFF);
    assert_int_equal(p.chip[0].vector_base, 0x08);
    assert_int_equal(p.chip[1].vector_base, 0x70);
    pic_set_irq(&p, 0, true);
    assert_false(pic_pending(&p, NULL)); /* everything masked */
    assert_int_equal(read_irr(&p, M_CMD), 0x01);
    assert_int_equal(pic_check(&p), 0);
}

static void test_linux_init_and_timer_irq(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec = 0;
    linux_init(&p, 0x01);
    assert_int_equal(p.chip[0].vector_base, 0x30);
    assert_int_equal(p.chip[1].vector_base, 0x38);
    assert_int_equal(p.chip[0].init_step, 0);
    assert_int_equal(pic_read(&p, M_IMR), 0xFB);
    assert_int_equal(pic_read(&p, S_IMR), 0xFF);

    unmask(&p, 0);
    pic_set_irq(&p, 0, true);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x30);
    assert_int_equal(read_irr(&p, M_CMD), 0x01);
    assert_int_equal(pic_ack(&p), 0x30);
    assert_false(pic_pending(&p, NULL));
    assert_int_equal(read_isr(&p, M_CMD), 0x01);
    assert_int_equal(read_irr(&p, M_CMD), 0x00); /* the edge was consumed, the line is high */
    /* mask_and_ack_8259A: mask, then specific EOI */
    pic_write(&p, M_IMR, 0xFB | 0x01);
    pic_write(&p, M_CMD, 0x60);
    assert_int_equal(read_isr(&p, M_CMD), 0x00);
    unmask(&p, 0);
    assert_false(pic_pending(&p, NULL)); /* no new edge yet */
    pic_set_irq(&p, 0, false);
    pic_set_irq(&p, 0, true);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x30);
    assert_int_equal(pic_check(&p), 0);
}

static void test_priority_and_nesting(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec;
    linux_init(&p, 0x01);
    pic_write(&p, M_IMR, 0x00);
    pic_set_irq(&p, 3, true);
    pic_set_irq(&p, 5, true);
    assert_int_equal(pic_ack(&p), 0x33);
    assert_false(pic_pending(&p, NULL)); /* IRQ 5 waits behind IRQ 3 in service */
    pic_set_irq(&p, 1, true);
    assert_true(pic_pending(&p, &vec)); /* IRQ 1 is higher: it nests */
    assert_int_equal(vec, 0x31);
    assert_int_equal(pic_ack(&p), 0x31);
    assert_int_equal(read_isr(&p, M_CMD), 0x0A);
    pic_write(&p, M_CMD, 0x20); /* non-specific EOI ends the highest: IRQ 1 */
    assert_int_equal(read_isr(&p, M_CMD), 0x08);
    assert_false(pic_pending(&p, NULL));
    pic_write(&p, M_CMD, 0x20);
    assert_int_equal(read_isr(&p, M_CMD), 0x00);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x35);
    assert_int_equal(pic_check(&p), 0);
}

static void test_specific_eoi(void **state)
{
    (void)state;
    struct pic8259 p;
    linux_init(&p, 0x01);
    pic_write(&p, M_IMR, 0x00);
    pic_set_irq(&p, 6, true);
    assert_int_equal(pic_ack(&p), 0x36);
    pic_set_irq(&p, 4, true);
    assert_int_equal(pic_ack(&p), 0x34);
    assert_int_equal(read_isr(&p, M_CMD), 0x50);
    pic_write(&p, M_CMD, 0x66); /* specific EOI of the lower one */
    assert_int_equal(read_isr(&p, M_CMD), 0x10);
    pic_write(&p, M_CMD, 0x67); /* EOI of a level not in service changes nothing */
    assert_int_equal(read_isr(&p, M_CMD), 0x10);
    pic_write(&p, M_CMD, 0x64);
    assert_int_equal(read_isr(&p, M_CMD), 0x00);
    pic_write(&p, M_CMD, 0x20); /* non-specific EOI with nothing in service: harmless */
    assert_int_equal(pic_check(&p), 0);
}

static void test_spurious_irq7(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec;
    linux_init(&p, 0x01);
    unmask(&p, 3);
    pic_set_irq(&p, 3, true);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x33);
    pic_set_irq(&p, 3, false); /* the request goes away before the acknowledge */
    assert_false(pic_pending(&p, NULL));
    assert_int_equal(pic_ack(&p), 0x37);
    /* Linux's check: IRQ 7 is not in service, so it was spurious; nothing to EOI. */
    assert_int_equal(read_isr(&p, M_CMD), 0x00);
    /* masking a pending request has the same effect */
    pic_set_irq(&p, 3, true);
    assert_true(pic_pending(&p, NULL));
    pic_write(&p, M_IMR, 0xFF);
    assert_int_equal(pic_ack(&p), 0x37);
    assert_int_equal(read_isr(&p, M_CMD), 0x00);
    assert_int_equal(read_irr(&p, M_CMD), 0x08); /* the masked request is still there */
    assert_int_equal(pic_check(&p), 0);
}

static void test_cascade_irq2(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec;
    linux_init(&p, 0x01);
    unmask(&p, 10);
    pic_set_irq(&p, 10, true);
    assert_int_equal(read_irr(&p, S_CMD), 0x04);
    assert_int_equal(read_irr(&p, M_CMD), 0x04); /* the slave's INT on the master's IR2 */
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x3A);
    assert_int_equal(pic_ack(&p), 0x3A);
    assert_int_equal(read_isr(&p, S_CMD), 0x04);
    assert_int_equal(read_isr(&p, M_CMD), 0x04);
    /* a second slave line while IRQ 10 is in service: the master's IR2 blocks it */
    unmask(&p, 14);
    pic_set_irq(&p, 14, true);
    assert_false(pic_pending(&p, NULL));
    /* Linux: specific EOI to the slave, then to the master's IR2 */
    pic_write(&p, S_CMD, 0x62);
    pic_write(&p, M_CMD, 0x62);
    assert_int_equal(read_isr(&p, S_CMD), 0x00);
    assert_int_equal(read_isr(&p, M_CMD), 0x00);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x3E);
    assert_int_equal(pic_ack(&p), 0x3E);
    pic_write(&p, S_CMD, 0x66);
    pic_write(&p, M_CMD, 0x62);
    assert_false(pic_pending(&p, NULL));
    /* a master line outranks every slave line (IRQ 1 > IRQ 2's slave) */
    pic_set_irq(&p, 10, false);
    pic_set_irq(&p, 10, true);
    unmask(&p, 1);
    pic_set_irq(&p, 1, true);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x31);
    assert_int_equal(pic_check(&p), 0);
}

static void test_spurious_irq15(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec;
    linux_init(&p, 0x01);
    unmask(&p, 11);
    pic_set_irq(&p, 11, true);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x3B);
    pic_set_irq(&p, 11, false); /* gone after the master latched the cascade */
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x3F);
    assert_int_equal(pic_ack(&p), 0x3F);
    assert_int_equal(read_isr(&p, S_CMD), 0x00); /* slave: IRQ 15 not in service */
    assert_int_equal(read_isr(&p, M_CMD), 0x04); /* master: the cascade is; Linux EOIs it */
    pic_write(&p, M_CMD, 0x62);
    assert_int_equal(read_isr(&p, M_CMD), 0x00);
    assert_false(pic_pending(&p, NULL));
    assert_int_equal(pic_check(&p), 0);
}

static void test_elcr_level_triggering(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec;
    linux_init(&p, 0x01);
    pic_write(&p, PIC_ELCR_MASTER, 0xFF);
    pic_write(&p, PIC_ELCR_SLAVE, 0xFF);
    assert_int_equal(pic_read(&p, PIC_ELCR_MASTER), 0xF8); /* IRQ 0-2 are always edge */
    assert_int_equal(pic_read(&p, PIC_ELCR_SLAVE), 0xDE);  /* and IRQ 8 and 13 */
    pic_write(&p, PIC_ELCR_MASTER, 0x00);
    pic_write(&p, PIC_ELCR_SLAVE, 0x08); /* IRQ 11 level-triggered */
    unmask(&p, 11);
    pic_set_irq(&p, 11, true);
    assert_int_equal(pic_ack(&p), 0x3B);
    pic_write(&p, S_CMD, 0x63);
    pic_write(&p, M_CMD, 0x62);
    /* still asserted after EOI: a level-triggered line requests again at once */
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x3B);
    assert_int_equal(read_irr(&p, S_CMD), 0x08);
    pic_set_irq(&p, 11, false);
    assert_int_equal(read_irr(&p, S_CMD), 0x00);
    /* the same line edge-triggered: one request per rising edge */
    pic_write(&p, PIC_ELCR_SLAVE, 0x00);
    pic_set_irq(&p, 11, true);
    assert_int_equal(pic_ack(&p), 0x3B);
    pic_write(&p, S_CMD, 0x63);
    pic_write(&p, M_CMD, 0x62);
    assert_false(pic_pending(&p, NULL));
    /* ICW1 LTIM makes every input level-triggered */
    pic_write(&p, M_CMD, 0x19);
    pic_write(&p, M_IMR, 0x30);
    pic_write(&p, M_IMR, 0x04);
    pic_write(&p, M_IMR, 0x01);
    pic_write(&p, M_IMR, 0xFF & ~0x20);
    pic_set_irq(&p, 5, true);
    assert_int_equal(pic_ack(&p), 0x35);
    pic_write(&p, M_CMD, 0x65);
    assert_true(pic_pending(&p, NULL));
    assert_int_equal(pic_check(&p), 0);
}

static void test_ocw3_select_and_poll(void **state)
{
    (void)state;
    struct pic8259 p;
    linux_init(&p, 0x01);
    pic_write(&p, M_IMR, 0x00);
    pic_set_irq(&p, 4, true);
    pic_set_irq(&p, 6, true);
    pic_write(&p, M_CMD, 0x0A);
    assert_int_equal(pic_read(&p, M_CMD), 0x50);
    assert_int_equal(pic_read(&p, M_CMD), 0x50); /* the selection persists */
    pic_write(&p, M_CMD, 0x08);                  /* RR = 0: selection unchanged */
    assert_int_equal(pic_read(&p, M_CMD), 0x50);
    pic_write(&p, M_CMD, 0x0B);
    assert_int_equal(pic_read(&p, M_CMD), 0x00);
    assert_int_equal(pic_read(&p, M_IMR), 0x00); /* the odd port still reads the mask */
    /* poll: the read is the acknowledge */
    pic_write(&p, M_CMD, 0x0C);
    assert_int_equal(pic_read(&p, M_CMD), 0x84);
    assert_int_equal(pic_read(&p, M_CMD), 0x10); /* poll is one-shot; ISR selected again */
    pic_write(&p, M_CMD, 0x0C);
    assert_int_equal(pic_read(&p, M_IMR), 0x07); /* IRQ 6 waits behind 4: nothing to poll */
    pic_write(&p, M_CMD, 0x64);
    pic_write(&p, M_CMD, 0x0C);
    assert_int_equal(pic_read(&p, M_IMR), 0x86);
    assert_int_equal(read_isr(&p, M_CMD), 0x40);
    assert_int_equal(pic_check(&p), 0);
}

static void test_auto_eoi_and_rotation(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec;
    linux_init(&p, 0x03); /* master in auto-EOI */
    pic_write(&p, M_IMR, 0x00);
    pic_set_irq(&p, 1, true);
    assert_int_equal(pic_ack(&p), 0x31);
    assert_int_equal(read_isr(&p, M_CMD), 0x00); /* nothing stays in service */
    /* rotate in auto-EOI mode: the acknowledged line becomes the lowest priority */
    pic_write(&p, M_CMD, 0x80);
    pic_set_irq(&p, 1, false);
    pic_set_irq(&p, 1, true);
    assert_int_equal(pic_ack(&p), 0x31);
    pic_set_irq(&p, 0, true);
    pic_set_irq(&p, 3, true);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x33); /* order now 2,3,...,7,0,1 */
    pic_write(&p, M_CMD, 0x00);  /* rotation in auto-EOI off */
    pic_write(&p, M_CMD, 0xC7);  /* set priority: 7 lowest, back to 0 first */
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x30);
    assert_int_equal(pic_check(&p), 0);
}

static void test_rotate_on_eoi(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec;
    linux_init(&p, 0x01);
    pic_write(&p, M_IMR, 0x00);
    pic_write(&p, M_CMD, 0xC4); /* lowest = 4: order 5,6,7,0,1,2,3,4 */
    pic_set_irq(&p, 3, true);
    pic_set_irq(&p, 6, true);
    assert_int_equal(pic_ack(&p), 0x36);
    pic_write(&p, M_CMD, 0xA0); /* rotate on non-specific EOI: 6 becomes lowest */
    assert_int_equal(read_isr(&p, M_CMD), 0x00);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x33);
    assert_int_equal(pic_ack(&p), 0x33);
    pic_write(&p, M_CMD, 0xE3); /* rotate on specific EOI of 3 */
    pic_set_irq(&p, 3, false);
    pic_set_irq(&p, 3, true);
    pic_set_irq(&p, 4, true);
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x34); /* 3 is lowest now */
    pic_write(&p, M_CMD, 0x40); /* OCW2 "no operation" */
    assert_int_equal(pic_check(&p), 0);
}

static void test_special_mask_mode(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec;
    linux_init(&p, 0x01);
    pic_write(&p, M_IMR, 0x00);
    pic_set_irq(&p, 1, true);
    assert_int_equal(pic_ack(&p), 0x31);
    pic_set_irq(&p, 5, true);
    assert_false(pic_pending(&p, NULL));
    pic_write(&p, M_CMD, 0x68);  /* special mask mode on */
    pic_write(&p, M_IMR, 0x02);  /* mask the level in service */
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x35); /* lower priority gets through */
    pic_write(&p, M_CMD, 0x48);  /* off again */
    assert_false(pic_pending(&p, NULL));
    assert_int_equal(pic_check(&p), 0);
}

static void test_special_fully_nested(void **state)
{
    (void)state;
    struct pic8259 p;
    uint8_t vec;
    for (int sfnm = 0; sfnm <= 1; sfnm++) {
        linux_init(&p, sfnm ? 0x11 : 0x01);
        pic_write(&p, S_IMR, 0x00);
        pic_set_irq(&p, 12, true);
        assert_int_equal(pic_ack(&p), 0x3C);
        pic_set_irq(&p, 9, true); /* higher priority on the same slave */
        if (sfnm) {
            assert_true(pic_pending(&p, &vec));
            assert_int_equal(vec, 0x39);
        } else {
            assert_false(pic_pending(&p, NULL));
        }
        assert_int_equal(pic_check(&p), 0);
    }
}

static void test_icw1_resets(void **state)
{
    (void)state;
    struct pic8259 p;
    linux_init(&p, 0x01);
    pic_write(&p, M_IMR, 0x00);
    pic_set_irq(&p, 3, true);
    pic_set_irq(&p, 4, true);
    assert_int_equal(pic_ack(&p), 0x33);
    pic_write(&p, M_CMD, 0x0B);
    pic_write(&p, M_CMD, 0x11); /* re-initialise: ISR, IMR, edges and read select reset */
    assert_int_equal(p.chip[0].init_step, 2);
    assert_int_equal(pic_read(&p, M_IMR), 0x00);
    pic_write(&p, M_IMR, 0x50);
    pic_write(&p, M_IMR, 0x04);
    pic_write(&p, M_IMR, 0x01);
    assert_int_equal(p.chip[0].vector_base, 0x50);
    assert_int_equal(pic_read(&p, M_CMD), 0x00); /* IRR selected, and no edges survived */
    assert_false(pic_pending(&p, NULL));
    pic_set_irq(&p, 4, false);
    pic_set_irq(&p, 4, true);
    uint8_t vec;
    assert_true(pic_pending(&p, &vec));
    assert_int_equal(vec, 0x54);
    /* single mode without ICW4: ICW2 ends the sequence */
    pic_write(&p, S_CMD, 0x12);
    pic_write(&p, S_IMR, 0x78);
    assert_int_equal(p.chip[1].init_step, 0);
    pic_write(&p, S_IMR, 0xAA);
    assert_int_equal(pic_read(&p, S_IMR), 0xAA);
    assert_int_equal(pic_check(&p), 0);
}

static void test_foreign_ports_and_lines(void **state)
{
    (void)state;
    struct pic8259 p;
    linux_init(&p, 0x01);
    struct pic8259 before = p;
    assert_int_equal(pic_read(&p, 0x22), 0xFF);
    assert_int_equal(pic_read(&p, 0x4D2), 0xFF);
    pic_write(&p, 0x22, 0x11);
    pic_write(&p, 0xA2, 0x11);
    pic_set_irq(&p, 2, true); /* the cascade is not an input */
    pic_set_irq(&p, 16, true);
    pic_set_irq(&p, 1000, true);
    assert_memory_equal(&p, &before, sizeof p);
}

static uint32_t rng(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_random_traffic_keeps_invariants(void **state)
{
    (void)state;
    static const uint16_t ports[] = {M_CMD, M_IMR, S_CMD, S_IMR, PIC_ELCR_MASTER, PIC_ELCR_SLAVE};
    struct pic8259 p;
    uint32_t s = 0x12345678;
    pic_init(&p);
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng(&s);
        uint16_t port = ports[(r >> 8) % 6];
        switch (r & 3) {
        case 0:
            pic_write(&p, port, (uint8_t)(r >> 16));
            break;
        case 1:
            (void)pic_read(&p, port);
            break;
        case 2:
            pic_set_irq(&p, (r >> 12) & 15, (r >> 20) & 1);
            break;
        default: {
            uint8_t vec = 0, m = p.chip[0].vector_base, sl = p.chip[1].vector_base;
            bool pend = pic_pending(&p, &vec);
            uint8_t got = pic_ack(&p);
            if (pend)
                assert_int_equal(got, vec);
            assert_true((got >= m && got < m + 8) || (got >= sl && got < sl + 8));
            break;
        }
        }
        assert_int_equal(pic_check(&p), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bios_state),
        cmocka_unit_test(test_linux_init_and_timer_irq),
        cmocka_unit_test(test_priority_and_nesting),
        cmocka_unit_test(test_specific_eoi),
        cmocka_unit_test(test_spurious_irq7),
        cmocka_unit_test(test_cascade_irq2),
        cmocka_unit_test(test_spurious_irq15),
        cmocka_unit_test(test_elcr_level_triggering),
        cmocka_unit_test(test_ocw3_select_and_poll),
        cmocka_unit_test(test_auto_eoi_and_rotation),
        cmocka_unit_test(test_rotate_on_eoi),
        cmocka_unit_test(test_special_mask_mode),
        cmocka_unit_test(test_special_fully_nested),
        cmocka_unit_test(test_icw1_resets),
        cmocka_unit_test(test_foreign_ports_and_lines),
        cmocka_unit_test(test_random_traffic_keeps_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
