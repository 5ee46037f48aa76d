/*
 * pci_host.c - configuration mechanism #1 and the host bridge's configuration header. The
 * identity fields and everything without a write-mask bit are fixed; the command register's
 * enables, cache line size, latency timer, interrupt line and the device-specific area
 * 0x40-0xFF (the 440FX's PAM, DRAM and SMRAM registers, which mean nothing here) hold what is
 * written.
 */
#include "devices/pci_host.h"

#include <string.h>

static const uint8_t header[16] = {
    PCI_HOST_VENDOR & 0xFF, PCI_HOST_VENDOR >> 8, PCI_HOST_DEVICE & 0xFF, PCI_HOST_DEVICE >> 8,
    0x06, 0x00,             /* command: memory space, bus master */
    0x80, 0x02,             /* status: fast back-to-back capable, medium DEVSEL timing */
    0x02,                   /* revision */
    0x00, PCI_HOST_CLASS & 0xFF, PCI_HOST_CLASS >> 8, /* prog-if, subclass, class: host bridge */
    0x00, 0x00,             /* cache line size, latency timer */
    0x00,                   /* header type 0, single function */
    0x00,                   /* BIST: not supported */
};

static uint8_t write_mask(unsigned offset)
{
    switch (offset) {
    case 0x04:
        return 0x47; /* I/O, memory, bus master, parity error response */
    case 0x05:
        return 0x01; /* SERR# enable */
    case 0x0C:
    case 0x3C:
        return 0xFF;
    case 0x0D:
        return 0xF8;
    default:
        return offset >= 0x40 ? 0xFF : 0x00;
    }
}

void pci_host_init(struct pci_host *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->cfg, header, sizeof header);
}

uint8_t pci_config_read8(const struct pci_host *h, uint32_t bdf, unsigned offset)
{
    if (bdf != PCI_BDF(0, 0, 0) || offset > 0xFF)
        return 0xFF; /* no device answers: the bus floats */
    return h->cfg[offset];
}

void pci_config_write8(struct pci_host *h, uint32_t bdf, unsigned offset, uint8_t v)
{
    if (bdf != PCI_BDF(0, 0, 0) || offset > 0xFF)
        return;
    uint8_t m = write_mask(offset);
    h->cfg[offset] = (uint8_t)((h->cfg[offset] & ~m) | (v & m));
}

static bool in_window(uint32_t port)
{
    return port >= PCI_PORT_DATA && port <= PCI_PORT_DATA + 3;
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4;
}

bool pci_host_claims(uint16_t port, unsigned size)
{
    if (!valid_size(size))
        return false;
    if (port == PCI_PORT_ADDRESS && size == 4)
        return true;
    for (unsigned i = 0; i < size; i++)
        if (in_window((uint32_t)port + i))
            return true;
    return false;
}

uint32_t pci_host_read(struct pci_host *h, uint16_t port, unsigned size)
{
    if (!valid_size(size))
        return 0xFFFFFFFFu;
    if (port == PCI_PORT_ADDRESS && size == 4)
        return h->address;
    uint32_t v = 0, bdf = (h->address >> 8) & 0xFFFF;
    for (unsigned i = 0; i < size; i++) {
        uint32_t p = (uint32_t)port + i;
        uint8_t b = 0xFF;
        if (in_window(p) && (h->address & PCI_ADDR_ENABLE))
            b = pci_config_read8(h, bdf, (h->address & 0xFC) + (p - PCI_PORT_DATA));
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

void pci_host_write(struct pci_host *h, uint16_t port, unsigned size, uint32_t value)
{
    if (!valid_size(size))
        return;
    if (port == PCI_PORT_ADDRESS && size == 4) {
        h->address = value & PCI_ADDR_MASK;
        return;
    }
    if (!(h->address & PCI_ADDR_ENABLE))
        return;
    uint32_t bdf = (h->address >> 8) & 0xFFFF;
    for (unsigned i = 0; i < size; i++) {
        uint32_t p = (uint32_t)port + i;
        if (in_window(p))
            pci_config_write8(h, bdf, (h->address & 0xFC) + (p - PCI_PORT_DATA),
                              (uint8_t)(value >> (8 * i)));
    }
}

int pci_host_check(const struct pci_host *h)
{
    if (h->address & ~PCI_ADDR_MASK)
        return -1;
    for (unsigned i = 0; i < 0x40; i++) {
        unsigned fixed = (unsigned)~write_mask(i) & 0xFF;
        unsigned initial = i < sizeof header ? header[i] : 0;
        if ((h->cfg[i] & fixed) != (initial & fixed))
            return -2; /* a read-only bit changed */
    }
    return 0;
}
