/*
 * pci_host.h - PCI configuration mechanism #1 (address port 0xCF8, data ports 0xCFC-0xCFF) with
 * one device: an Intel 440FX-style host bridge at bus 0, device 0, function 0 (8086:1237, class
 * 0x0600, header type 0, no BARs). Every other bus/device/function is absent and reads as
 * all-ones; writes to it are dropped.
 *
 * The address register is claimed only by 32-bit accesses to 0xCF8, as on real chipsets
 * (Linux's pci_check_type1 relies on this); byte and word accesses at 0xCF8-0xCFB are not the
 * host bridge's and read as all-ones. The data window takes 8-, 16- and 32-bit accesses at the
 * offset the port selects within the dword (0xCFE, size 2 = bytes 2-3); bytes past 0xCFF are
 * not the data window's. Read-only configuration fields ignore writes (a per-byte write mask).
 *
 * Pure state machine: no I/O, no time. Accesses come from a possibly compromised vCPU.
 */
#ifndef CLOISTER_DEVICES_PCI_HOST_H
#define CLOISTER_DEVICES_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_PORT_ADDRESS 0xCF8
#define PCI_PORT_DATA 0xCFC
#define PCI_ADDR_ENABLE 0x80000000u
#define PCI_ADDR_MASK 0x80FFFFFCu /* reserved bits 30-24 and 1-0 read as zero */

#define PCI_HOST_VENDOR 0x8086
#define PCI_HOST_DEVICE 0x1237
#define PCI_HOST_CLASS 0x0600

struct pci_host {
    uint32_t address;   /* the 0xCF8 latch (within PCI_ADDR_MASK) */
    uint8_t cfg[256];   /* configuration space of 00:00.0 */
};

void pci_host_init(struct pci_host *h);

/* Whether any byte of a `size`-byte access at `port` belongs to the PCI host. */
bool pci_host_claims(uint16_t port, unsigned size);

/* Accesses of `size` 1, 2 or 4 at `port`; bytes of the access that are not the host's read as
 * 0xFF (reads return all-ones in `size` bytes for other sizes or ports) and writes to them are
 * dropped. */
uint32_t pci_host_read(struct pci_host *h, uint16_t port, unsigned size);
void pci_host_write(struct pci_host *h, uint16_t port, unsigned size, uint32_t value);

/* Configuration space access by bus/device/function/offset (bytes of an absent function read
 * as 0xFF); used by the port handlers and by tests. */
uint8_t pci_config_read8(const struct pci_host *h, uint32_t bdf, unsigned offset);
void pci_config_write8(struct pci_host *h, uint32_t bdf, unsigned offset, uint8_t value);
#define PCI_BDF(bus, dev, fn) (((uint32_t)(bus) << 8) | ((uint32_t)(dev) << 3) | (uint32_t)(fn))

/* 0 when the state satisfies the model's invariants, else a negative number. */
int pci_host_check(const struct pci_host *h);

#endif
