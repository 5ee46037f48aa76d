/*
 * chipset.c - port decoding and the wires between the chipset's devices. Before and after every
 * access the internal interrupt lines are brought up to date ("sync"): a rising edge of PIT
 * OUT0 since the last sync is replayed into the PIC as a low-high transition (so an edge the
 * owner did not wake up for in time is still latched, once), and so is a new byte in the
 * i8042's output buffer on IRQ 1/12 (its line drops between two bytes on the real controller);
 * then each line is left at its device's current level.
 */
#include "devices/chipset.h"

#include <errno.h>
#include <string.h>

#define PORT_B_WRITABLE 0x0F /* gate 2, speaker data, parity and I/O check disables */
#define PORT_B_REFRESH 0x10
#define PORT_B_OUT2 0x20

static uint64_t clamp_now(struct chipset *cs, uint64_t now)
{
    if (now < cs->now_ns)
        return cs->now_ns;
    cs->now_ns = now;
    return now;
}

static void sync(struct chipset *cs, uint64_t t)
{
    if (pit_irq_edges(&cs->pit, t)) {
        pic_set_irq(&cs->pic, 0, false);
        pic_set_irq(&cs->pic, 0, true);
    }
    pic_set_irq(&cs->pic, 0, pit_out(&cs->pit, 0, t));
    if (cs->kbc.ob_loads != cs->kbc_loads) {
        cs->kbc_loads = cs->kbc.ob_loads;
        pic_set_irq(&cs->pic, 1, false);
        pic_set_irq(&cs->pic, 12, false);
    }
    pic_set_irq(&cs->pic, 1, i8042_irq1(&cs->kbc));
    pic_set_irq(&cs->pic, 8, rtc_irq(&cs->rtc, t));
    pic_set_irq(&cs->pic, 12, i8042_irq12(&cs->kbc));
}

void chipset_init(struct chipset *cs, const struct chipset_config *cfg, uint64_t now_ns)
{
    memset(cs, 0, sizeof *cs);
    cs->now_ns = now_ns;
    pic_init(&cs->pic);
    pit_init(&cs->pit, now_ns);
    rtc_init(&cs->rtc, cfg->wall_unix_ns, cfg->ram_bytes, now_ns);
    i8042_init(&cs->kbc);
    pci_host_init(&cs->pci);
    sync(cs, now_ns);
}

static bool byte_claimed(uint16_t port)
{
    switch (port) {
    case PIC_MASTER_CMD:
    case PIC_MASTER_DATA:
    case PIC_SLAVE_CMD:
    case PIC_SLAVE_DATA:
    case PIC_ELCR_MASTER:
    case PIC_ELCR_SLAVE:
    case 0x40:
    case 0x41:
    case 0x42:
    case PIT_PORT_CONTROL:
    case CHIPSET_PORT_B:
    case I8042_PORT_DATA:
    case I8042_PORT_STATUS:
    case I8042_PORT_SYSCTL_A:
    case RTC_PORT_INDEX:
    case RTC_PORT_DATA:
    case CHIPSET_PORT_POST:
    case CHIPSET_PORT_DELAY:
        return true;
    default:
        return pci_host_claims(port, 1);
    }
}

bool chipset_claims(uint16_t port, unsigned size)
{
    if (size != 1 && size != 2 && size != 4)
        return false;
    if (pci_host_claims(port, size))
        return true;
    for (unsigned i = 0; i < size; i++)
        if (byte_claimed((uint16_t)(port + i)))
            return true;
    return false;
}

static uint8_t read_byte(struct chipset *cs, uint16_t port, uint64_t t)
{
    switch (port) {
    case PIC_MASTER_CMD:
    case PIC_MASTER_DATA:
    case PIC_SLAVE_CMD:
    case PIC_SLAVE_DATA:
    case PIC_ELCR_MASTER:
    case PIC_ELCR_SLAVE:
        return pic_read(&cs->pic, port);
    case 0x40:
    case 0x41:
    case 0x42:
    case PIT_PORT_CONTROL:
        return pit_read(&cs->pit, port, t);
    case CHIPSET_PORT_B:
        return (uint8_t)(cs->port_b | ((t / CHIPSET_REFRESH_NS) & 1 ? PORT_B_REFRESH : 0) |
                         (pit_out(&cs->pit, 2, t) ? PORT_B_OUT2 : 0));
    case I8042_PORT_DATA:
    case I8042_PORT_STATUS:
    case I8042_PORT_SYSCTL_A:
        return i8042_read(&cs->kbc, port);
    case RTC_PORT_INDEX:
    case RTC_PORT_DATA:
        return rtc_read(&cs->rtc, port, t);
    default:
        return (uint8_t)pci_host_read(&cs->pci, port, 1); /* 0xFF unless 0xCFC-0xCFF */
    }
}

static void write_byte(struct chipset *cs, uint16_t port, uint8_t v, uint64_t t)
{
    switch (port) {
    case PIC_MASTER_CMD:
    case PIC_MASTER_DATA:
    case PIC_SLAVE_CMD:
    case PIC_SLAVE_DATA:
    case PIC_ELCR_MASTER:
    case PIC_ELCR_SLAVE:
        pic_write(&cs->pic, port, v);
        break;
    case 0x40:
    case 0x41:
    case 0x42:
    case PIT_PORT_CONTROL:
        pit_write(&cs->pit, port, v, t);
        break;
    case CHIPSET_PORT_B:
        cs->port_b = v & PORT_B_WRITABLE;
        pit_set_gate(&cs->pit, 2, v & 1, t);
        break;
    case I8042_PORT_DATA:
    case I8042_PORT_CMD:
    case I8042_PORT_SYSCTL_A:
        i8042_write(&cs->kbc, port, v);
        break;
    case RTC_PORT_INDEX:
    case RTC_PORT_DATA:
        rtc_write(&cs->rtc, port, v, t);
        break;
    case CHIPSET_PORT_POST:
        cs->post_code = v;
        break;
    case CHIPSET_PORT_DELAY:
        break;
    default:
        pci_host_write(&cs->pci, port, 1, v); /* dropped unless 0xCFC-0xCFF */
        break;
    }
}

uint32_t chipset_read(struct chipset *cs, uint16_t port, unsigned size, uint64_t now_ns)
{
    if (size != 1 && size != 2 && size != 4)
        return 0xFFFFFFFFu;
    uint64_t t = clamp_now(cs, now_ns);
    uint32_t v = 0;
    sync(cs, t);
    if (port == PCI_PORT_ADDRESS && size == 4) {
        v = pci_host_read(&cs->pci, port, 4);
    } else {
        for (unsigned i = 0; i < size; i++)
            v |= (uint32_t)read_byte(cs, (uint16_t)(port + i), t) << (8 * i);
    }
    sync(cs, t);
    return v;
}

void chipset_write(struct chipset *cs, uint16_t port, unsigned size, uint32_t value,
                   uint64_t now_ns)
{
    if (size != 1 && size != 2 && size != 4)
        return;
    uint64_t t = clamp_now(cs, now_ns);
    sync(cs, t);
    if (port == PCI_PORT_ADDRESS && size == 4) {
        pci_host_write(&cs->pci, port, 4, value);
    } else {
        for (unsigned i = 0; i < size; i++)
            write_byte(cs, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)), t);
    }
    sync(cs, t);
}

int chipset_set_irq(struct chipset *cs, unsigned line, bool level, uint64_t now_ns)
{
    if (line >= 16 || (CHIPSET_INTERNAL_IRQS & (1u << line)))
        return -EINVAL;
    uint64_t t = clamp_now(cs, now_ns);
    sync(cs, t);
    if (level)
        cs->ext_irqs |= (uint16_t)(1u << line);
    else
        cs->ext_irqs &= (uint16_t)~(1u << line);
    pic_set_irq(&cs->pic, line, level);
    return 0;
}

void chipset_update(struct chipset *cs, uint64_t now_ns)
{
    sync(cs, clamp_now(cs, now_ns));
}

uint16_t chipset_irq_lines(struct chipset *cs, uint64_t now_ns)
{
    sync(cs, clamp_now(cs, now_ns));
    return (uint16_t)(cs->pic.chip[0].level | cs->pic.chip[1].level << 8);
}

bool chipset_pending(struct chipset *cs, uint64_t now_ns, uint8_t *vector)
{
    sync(cs, clamp_now(cs, now_ns));
    return pic_pending(&cs->pic, vector);
}

uint8_t chipset_ack(struct chipset *cs, uint64_t now_ns)
{
    uint64_t t = clamp_now(cs, now_ns);
    sync(cs, t);
    uint8_t vector = pic_ack(&cs->pic);
    sync(cs, t);
    return vector;
}

uint64_t chipset_next_event_ns(struct chipset *cs, uint64_t now_ns)
{
    uint64_t t = clamp_now(cs, now_ns), best = CHIPSET_NEVER;
    sync(cs, t);
    uint8_t master_imr = cs->pic.chip[0].imr, slave_imr = cs->pic.chip[1].imr;
    if (!(master_imr & 0x01))
        best = pit_next_irq_ns(&cs->pit, t);
    if (!(slave_imr & 0x01) && !(master_imr & (1u << PIC_CASCADE_LINE))) {
        uint64_t r = rtc_next_event_ns(&cs->rtc, t);
        if (r < best)
            best = r;
    }
    return best;
}

bool chipset_take_reset(struct chipset *cs)
{
    return i8042_take_reset(&cs->kbc);
}

bool chipset_a20(const struct chipset *cs)
{
    return i8042_a20(&cs->kbc);
}

bool chipset_nmi_masked(const struct chipset *cs)
{
    return cs->rtc.nmi_masked;
}

int chipset_check(const struct chipset *cs)
{
    int rc;
    if ((rc = pic_check(&cs->pic)))
        return rc - 100;
    if ((rc = pit_check(&cs->pit)))
        return rc - 200;
    if ((rc = rtc_check(&cs->rtc)))
        return rc - 300;
    if ((rc = i8042_check(&cs->kbc)))
        return rc - 400;
    if ((rc = pci_host_check(&cs->pci)))
        return rc - 500;
    if (cs->port_b & ~PORT_B_WRITABLE)
        return -1;
    if (cs->pit.ch[2].gate != (cs->port_b & 1) || !cs->pit.ch[0].gate || !cs->pit.ch[1].gate)
        return -2; /* port B bit 0 is the gate of counter 2; the others are tied high */
    uint16_t levels = (uint16_t)(cs->pic.chip[0].level | cs->pic.chip[1].level << 8);
    if ((levels ^ cs->ext_irqs) & ~CHIPSET_INTERNAL_IRQS)
        return -3; /* an external line the PIC sees differs from what its owner drives */
    if (!!(levels & (1u << 1)) != i8042_irq1(&cs->kbc) ||
        !!(levels & (1u << 12)) != i8042_irq12(&cs->kbc))
        return -4;
    if (cs->pit.now_ns > cs->now_ns || cs->rtc.seen_ns > cs->now_ns)
        return -5; /* a device saw a time the chipset did not */
    if (cs->kbc_loads != cs->kbc.ob_loads)
        return -6; /* a keyboard-controller byte whose interrupt edge was not passed on */
    return 0;
}
