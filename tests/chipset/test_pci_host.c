/*
 * test_pci_host.c - configuration mechanism #1: Linux's pci_check_type1 probe and the type 2
 * probe it must fail, the host bridge's header through byte, word and dword accesses at every
 * data-port offset, absent devices and functions, the enable bit, read-only fields and the
 * writable ones, BAR sizing on a device without BARs, and random traffic under the invariants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "devices/pci_host.h"

static uint32_t cfg_read(struct pci_host *h, uint32_t bdf, unsigned off, unsigned size)
{
    pci_host_write(h, PCI_PORT_ADDRESS, 4, PCI_ADDR_ENABLE | bdf << 8 | (off & 0xFC));
    return pci_host_read(h, (uint16_t)(PCI_PORT_DATA + (off & 3)), size);
}

static void cfg_write(struct pci_host *h, uint32_t bdf, unsigned off, unsigned size, uint32_t v)
{
    pci_host_write(h, PCI_PORT_ADDRESS, 4, PCI_ADDR_ENABLE | bdf << 8 | (off & 0xFC));
    pci_host_write(h, (uint16_t)(PCI_PORT_DATA + (off & 3)), size, v);
}

static void test_linux_type1_probe(void **state)
{
    (void)state;
    struct pci_host h;
    pci_host_init(&h);
    /* pci_check_type1 */
    pci_host_write(&h, 0xCFB, 1, 0x01);
    uint32_t tmp = pci_host_read(&h, PCI_PORT_ADDRESS, 4);
    pci_host_write(&h, PCI_PORT_ADDRESS, 4, 0x80000000u);
    assert_int_equal(pci_host_read(&h, PCI_PORT_ADDRESS, 4), 0x80000000u);
    pci_host_write(&h, PCI_PORT_ADDRESS, 4, tmp);
    assert_int_equal(pci_host_read(&h, PCI_PORT_ADDRESS, 4), tmp);
    /* the type 2 probe finds nothing: byte ports 0xCF8/0xCFA are not ours */
    pci_host_write(&h, 0xCFB, 1, 0x00);
    pci_host_write(&h, 0xCF8, 1, 0x00);
    pci_host_write(&h, 0xCFA, 1, 0x00);
    assert_int_equal(pci_host_read(&h, 0xCF8, 1), 0xFF);
    assert_int_equal(pci_host_read(&h, 0xCFA, 1), 0xFF);
    assert_int_equal(pci_host_read(&h, 0xCF8, 2), 0xFFFF);
    assert_int_equal(pci_host_read(&h, PCI_PORT_ADDRESS, 4), tmp); /* byte writes did not latch */
    /* pci_sanity_check: a host bridge on bus 0 */
    assert_int_equal(cfg_read(&h, PCI_BDF(0, 0, 0), 0x0A, 2), 0x0600);
    assert_int_equal(cfg_read(&h, PCI_BDF(0, 0, 0), 0x00, 2), 0x8086);
    assert_int_equal(pci_host_check(&h), 0);
}

static void test_host_bridge_header(void **state)
{
    (void)state;
    struct pci_host h;
    pci_host_init(&h);
    uint32_t bdf = PCI_BDF(0, 0, 0);
    assert_int_equal(cfg_read(&h, bdf, 0x00, 4), 0x12378086u);
    assert_int_equal(cfg_read(&h, bdf, 0x08, 4), 0x06000002u); /* class 06 00 00, rev 02 */
    assert_int_equal(cfg_read(&h, bdf, 0x0C, 4), 0x00000000u); /* header type 0 */
    assert_int_equal(cfg_read(&h, bdf, 0x04, 4), 0x02800006u);
    /* byte and word accesses at every data-port offset */
    static const uint8_t id[4] = {0x86, 0x80, 0x37, 0x12};
    for (unsigned o = 0; o < 4; o++)
        assert_int_equal(cfg_read(&h, bdf, o, 1), id[o]);
    assert_int_equal(cfg_read(&h, bdf, 2, 2), 0x1237);
    assert_int_equal(cfg_read(&h, bdf, 0x0E, 1), 0x00);
    assert_int_equal(cfg_read(&h, bdf, 0x0B, 1), 0x06);
    /* a word at 0xCFF and a dword at 0xCFE run past the window: those bytes float */
    assert_int_equal(cfg_read(&h, bdf, 3, 2), 0xFF12);
    assert_int_equal(cfg_read(&h, bdf, 2, 4), 0xFFFF1237u);
    /* every dword of the rest of the space reads, the unused ones as zero */
    for (unsigned off = 0x10; off < 0x100; off += 4)
        assert_int_equal(cfg_read(&h, bdf, off, 4), 0);
    assert_int_equal(pci_host_check(&h), 0);
}

static void test_absent_devices(void **state)
{
    (void)state;
    struct pci_host h;
    pci_host_init(&h);
    assert_int_equal(cfg_read(&h, PCI_BDF(0, 1, 0), 0, 4), 0xFFFFFFFFu);
    assert_int_equal(cfg_read(&h, PCI_BDF(0, 31, 7), 0x0A, 2), 0xFFFF);
    assert_int_equal(cfg_read(&h, PCI_BDF(0, 0, 1), 0, 4), 0xFFFFFFFFu); /* single function */
    assert_int_equal(cfg_read(&h, PCI_BDF(1, 0, 0), 0, 4), 0xFFFFFFFFu);
    assert_int_equal(cfg_read(&h, PCI_BDF(255, 31, 7), 0xFC, 1), 0xFF);
    /* enable bit clear: no configuration cycle at all */
    pci_host_write(&h, PCI_PORT_ADDRESS, 4, 0x00000000u);
    assert_int_equal(pci_host_read(&h, PCI_PORT_DATA, 4), 0xFFFFFFFFu);
    pci_host_write(&h, PCI_PORT_DATA + 1, 1, 0x00);
    assert_int_equal(cfg_read(&h, PCI_BDF(0, 0, 0), 0, 4), 0x12378086u);
    /* writes to absent functions go nowhere */
    struct pci_host before = h;
    cfg_write(&h, PCI_BDF(0, 2, 0), 0x04, 4, 0xFFFFFFFFu);
    cfg_write(&h, PCI_BDF(0, 0, 3), 0x40, 4, 0x12345678u);
    assert_memory_equal(h.cfg, before.cfg, sizeof h.cfg);
}

static void test_writes(void **state)
{
    (void)state;
    struct pci_host h;
    pci_host_init(&h);
    uint32_t bdf = PCI_BDF(0, 0, 0);
    cfg_write(&h, bdf, 0x00, 4, 0xFFFFFFFFu); /* identity: read-only */
    assert_int_equal(cfg_read(&h, bdf, 0x00, 4), 0x12378086u);
    cfg_write(&h, bdf, 0x08, 4, 0);
    assert_int_equal(cfg_read(&h, bdf, 0x08, 4), 0x06000002u);
    cfg_write(&h, bdf, 0x04, 2, 0xFFFF); /* command: only its enables */
    assert_int_equal(cfg_read(&h, bdf, 0x04, 2), 0x0147);
    cfg_write(&h, bdf, 0x06, 2, 0xFFFF); /* status: nothing to clear, nothing to set */
    assert_int_equal(cfg_read(&h, bdf, 0x06, 2), 0x0280);
    cfg_write(&h, bdf, 0x0C, 4, 0xFFFFFFFFu); /* cache line, latency (top 5 bits), fixed rest */
    assert_int_equal(cfg_read(&h, bdf, 0x0C, 4), 0x0000F8FFu);
    /* BAR sizing on a bridge without BARs: all-ones in, zero out */
    for (unsigned off = 0x10; off <= 0x24; off += 4) {
        cfg_write(&h, bdf, off, 4, 0xFFFFFFFFu);
        assert_int_equal(cfg_read(&h, bdf, off, 4), 0);
    }
    cfg_write(&h, bdf, 0x30, 4, 0xFFFFFFFFu); /* expansion ROM */
    assert_int_equal(cfg_read(&h, bdf, 0x30, 4), 0);
    cfg_write(&h, bdf, 0x3C, 1, 0x0B);
    assert_int_equal(cfg_read(&h, bdf, 0x3C, 4), 0x0000000Bu);
    /* device-specific registers (PAM, SMRAM): storage; byte writes in the middle */
    cfg_write(&h, bdf, 0x58, 4, 0x11223344u);
    cfg_write(&h, bdf, 0x5A, 1, 0xAB);
    cfg_write(&h, bdf, 0x5B, 2, 0xCDEF); /* word at 0xCFF: only its first byte lands */
    assert_int_equal(cfg_read(&h, bdf, 0x58, 4), 0xEFAB3344u);
    /* the address register keeps only its defined bits */
    pci_host_write(&h, PCI_PORT_ADDRESS, 4, 0xFFFFFFFFu);
    assert_int_equal(pci_host_read(&h, PCI_PORT_ADDRESS, 4), PCI_ADDR_MASK);
    assert_int_equal(pci_host_check(&h), 0);
}

static void test_claims_and_sizes(void **state)
{
    (void)state;
    struct pci_host h;
    pci_host_init(&h);
    assert_true(pci_host_claims(0xCF8, 4));
    assert_false(pci_host_claims(0xCF8, 1));
    assert_false(pci_host_claims(0xCF8, 2));
    assert_false(pci_host_claims(0xCF9, 2));
    assert_true(pci_host_claims(0xCFA, 4)); /* reaches 0xCFC */
    assert_true(pci_host_claims(0xCFF, 1));
    assert_false(pci_host_claims(0xD00, 1));
    assert_false(pci_host_claims(0xCFC, 3));
    assert_int_equal(pci_host_read(&h, 0xCFC, 3), 0xFFFFFFFFu);
    assert_int_equal(pci_host_read(&h, 0xCFC, 0), 0xFFFFFFFFu);
    assert_int_equal(pci_host_read(&h, 0x1234, 2), 0xFFFF);
    struct pci_host before = h;
    pci_host_write(&h, 0xCF8, 3, 0x80000000u);
    pci_host_write(&h, 0xCF8, 8, 0x80000000u);
    assert_memory_equal(&h, &before, sizeof h);
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
    struct pci_host h;
    uint32_t s = 0x5EED;
    pci_host_init(&h);
    for (int i = 0; i < 200000; i++) {
        uint32_t r = rng(&s), v = rng(&s);
        uint16_t port = (uint16_t)(0xCF6 + (r & 0xF));
        unsigned size = (r >> 4) % 6;
        if (r & 0x100)
            pci_host_write(&h, port, size, (r & 0x200) ? (v | PCI_ADDR_ENABLE) & 0x8000FFFFu : v);
        else {
            uint32_t got = pci_host_read(&h, port, size);
            if (size == 1 || size == 2)
                assert_int_equal(got >> (8 * size), 0);
        }
        assert_int_equal(pci_host_check(&h), 0);
    }
    /* the identity survived */
    assert_int_equal(cfg_read(&h, PCI_BDF(0, 0, 0), 0, 4), 0x12378086u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_type1_probe),
        cmocka_unit_test(test_host_bridge_header),
        cmocka_unit_test(test_absent_devices),
        cmocka_unit_test(test_writes),
        cmocka_unit_test(test_claims_and_sizes),
        cmocka_unit_test(test_random_traffic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
