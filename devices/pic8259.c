/*
 * pic8259.c - the 8259A pair, after the Intel 8259A data sheet (ICW1-4, OCW1-3, priority
 * resolution, rotation, special mask and special fully nested modes, poll command) and the PIIX
 * ELCR. The slave's INT output is recomputed after every change and drives the master's IR2, so
 * the cascade behaves like the wire it is (with the master's IR2 latch kept until acknowledged,
 * see pic8259.h). The priority of line n is (n - lowest - 1) mod 8:
 * 0 is the highest, and `lowest` is the line that was last rotated to the bottom.
 */
#include "devices/pic8259.h"

#include <string.h>

#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_INIT 0x10
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
#define OCW3_SELECT 0x08
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_POLL 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40

/* Bits of the PIIX ELCRs software may set: IRQ 0, 1, 2, 8 and 13 are always edge-triggered. */
#define ELCR_MASTER_MASK 0xF8
#define ELCR_SLAVE_MASK 0xDE

static void chip_reset(struct pic_chip *c, uint8_t base, uint8_t icw3, uint8_t elcr_mask,
                       uint8_t sticky)
{
    uint8_t level = c->level;
    memset(c, 0, sizeof *c);
    c->level = level; /* the pins belong to the devices, not to the chip */
    c->sticky = sticky;
    c->vector_base = base;
    c->icw3 = icw3;
    c->lowest = 7;
    c->imr = 0xFF;
    c->elcr_mask = elcr_mask;
    c->need_icw4 = true;
}

void pic_init(struct pic8259 *p)
{
    memset(p, 0, sizeof *p);
    chip_reset(&p->chip[0], 0x08, 1u << PIC_CASCADE_LINE, ELCR_MASTER_MASK,
               1u << PIC_CASCADE_LINE);
    chip_reset(&p->chip[1], 0x70, PIC_CASCADE_LINE, ELCR_SLAVE_MASK, 0);
}

uint8_t pic_irr(const struct pic_chip *c)
{
    uint8_t level_triggered = c->ltim ? 0xFF : c->elcr;
    return (uint8_t)((c->level & (c->edge | level_triggered)) | (c->edge & c->sticky));
}

/* Priority (0 = highest) of the highest-priority line set in `mask`, or 8 for none. */
static unsigned priority(const struct pic_chip *c, uint8_t mask)
{
    for (unsigned pr = 0; pr < 8; pr++)
        if (mask & (1u << ((c->lowest + 1 + pr) & 7)))
            return pr;
    return 8;
}

static unsigned line_of(const struct pic_chip *c, unsigned pr)
{
    return (c->lowest + 1 + pr) & 7;
}

/* The line this chip would deliver now, or -1 when its INT output is low. */
static int chip_pick(const struct pic_chip *c, bool master)
{
    uint8_t req = (uint8_t)(pic_irr(c) & ~c->imr);
    unsigned pr = priority(c, req);
    if (pr == 8)
        return -1;
    uint8_t busy = c->isr;
    if (c->special_mask)
        busy &= (uint8_t)~c->imr; /* masked levels in service do not hold anything back */
    if (master && c->sfnm)
        busy &= (uint8_t)~(1u << PIC_CASCADE_LINE); /* the slave does its own nesting */
    return pr < priority(c, busy) ? (int)line_of(c, pr) : -1;
}

static void chip_set_line(struct pic_chip *c, unsigned line, bool level)
{
    uint8_t bit = (uint8_t)(1u << line);
    if (level) {
        if (!(c->level & bit))
            c->edge |= bit;
        c->level |= bit;
    } else {
        c->level &= (uint8_t)~bit;
        if (!(c->sticky & bit))
            c->edge &= (uint8_t)~bit; /* the request vanishes with the line */
    }
}

/* The slave's INT output is the master's IR2. */
static void cascade(struct pic8259 *p)
{
    chip_set_line(&p->chip[0], PIC_CASCADE_LINE, chip_pick(&p->chip[1], false) >= 0);
}

static void chip_ack(struct pic_chip *c, unsigned line)
{
    uint8_t bit = (uint8_t)(1u << line);
    c->edge &= (uint8_t)~bit;
    if (!c->auto_eoi)
        c->isr |= bit;
    else if (c->rotate_on_aeoi)
        c->lowest = (uint8_t)line;
}

static void chip_eoi(struct pic_chip *c, uint8_t ocw2)
{
    unsigned cmd = ocw2 >> 5, line = ocw2 & 7;
    switch (cmd) {
    case 1: /* non-specific EOI */
    case 5: { /* rotate on non-specific EOI */
        unsigned pr = priority(c, c->isr);
        if (pr == 8)
            break;
        line = line_of(c, pr);
        c->isr &= (uint8_t)~(1u << line);
        if (cmd == 5)
            c->lowest = (uint8_t)line;
        break;
    }
    case 3: /* specific EOI */
        c->isr &= (uint8_t)~(1u << line);
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << line);
        c->lowest = (uint8_t)line;
        break;
    case 6: /* set priority */
        c->lowest = (uint8_t)line;
        break;
    case 4: /* rotate in automatic EOI mode: set */
        c->rotate_on_aeoi = true;
        break;
    case 0: /* rotate in automatic EOI mode: clear */
        c->rotate_on_aeoi = false;
        break;
    default: /* 2: no operation */
        break;
    }
}

static void chip_write_cmd(struct pic_chip *c, uint8_t v, uint8_t base_after_reset)
{
    if (v & ICW1_INIT) {
        /* ICW1 resets the chip: edge sense, masks, priorities, special mask, read select and,
         * until ICW4 says otherwise, every ICW4 function. */
        uint8_t level = c->level, elcr = c->elcr, mask = c->elcr_mask, icw3 = c->icw3;
        uint8_t sticky = c->sticky;
        memset(c, 0, sizeof *c);
        c->level = level;
        c->sticky = sticky;
        c->elcr = elcr;
        c->elcr_mask = mask;
        c->icw3 = icw3;
        c->vector_base = base_after_reset;
        c->lowest = 7;
        c->need_icw4 = v & ICW1_IC4;
        c->single = v & ICW1_SNGL;
        c->ltim = v & ICW1_LTIM;
        c->init_step = 2;
        return;
    }
    if (v & OCW3_SELECT) {
        if (v & OCW3_RR)
            c->read_isr = v & OCW3_RIS;
        if (v & OCW3_ESMM)
            c->special_mask = v & OCW3_SMM;
        if (v & OCW3_POLL)
            c->poll = true;
        return;
    }
    chip_eoi(c, v);
}

static void chip_write_data(struct pic_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = v & 0xF8;
        c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
        break;
    case 3:
        c->icw3 = v;
        c->init_step = c->need_icw4 ? 4 : 0;
        break;
    case 4:
        /* Bit 0 (8086 mode) is assumed: an MCS-80 vector format has no use on a PC. */
        c->auto_eoi = v & ICW4_AEOI;
        c->sfnm = v & ICW4_SFNM;
        c->init_step = 0;
        break;
    default:
        c->imr = v;
        break;
    }
}

/* The poll command: the read acknowledges the highest request, as an INTA would, and reports
 * it as 0x80 | line; with nothing pending it reads 0x07 (bit 7 clear). */
static uint8_t chip_poll(struct pic_chip *c, bool master)
{
    c->poll = false;
    int line = chip_pick(c, master);
    if (line < 0)
        return 0x07;
    chip_ack(c, (unsigned)line);
    return (uint8_t)(0x80 | line);
}

uint8_t pic_read(struct pic8259 *p, uint16_t port)
{
    uint8_t v;
    switch (port) {
    case PIC_MASTER_CMD:
    case PIC_MASTER_DATA:
    case PIC_SLAVE_CMD:
    case PIC_SLAVE_DATA: {
        bool master = port < PIC_SLAVE_CMD;
        struct pic_chip *c = &p->chip[master ? 0 : 1];
        if (c->poll)
            v = chip_poll(c, master);
        else if (port & 1)
            v = c->imr;
        else
            v = c->read_isr ? c->isr : pic_irr(c);
        break;
    }
    case PIC_ELCR_MASTER:
        return p->chip[0].elcr;
    case PIC_ELCR_SLAVE:
        return p->chip[1].elcr;
    default:
        return 0xFF;
    }
    cascade(p);
    return v;
}

void pic_write(struct pic8259 *p, uint16_t port, uint8_t v)
{
    switch (port) {
    case PIC_MASTER_CMD:
        chip_write_cmd(&p->chip[0], v, 0x08);
        break;
    case PIC_SLAVE_CMD:
        chip_write_cmd(&p->chip[1], v, 0x70);
        break;
    case PIC_MASTER_DATA:
        chip_write_data(&p->chip[0], v);
        break;
    case PIC_SLAVE_DATA:
        chip_write_data(&p->chip[1], v);
        break;
    case PIC_ELCR_MASTER:
        p->chip[0].elcr = v & p->chip[0].elcr_mask;
        break;
    case PIC_ELCR_SLAVE:
        p->chip[1].elcr = v & p->chip[1].elcr_mask;
        break;
    default:
        return;
    }
    cascade(p);
}

void pic_set_irq(struct pic8259 *p, unsigned line, bool level)
{
    if (line >= 16 || line == PIC_CASCADE_LINE)
        return;
    chip_set_line(&p->chip[line >> 3], line & 7, level);
    cascade(p);
}

bool pic_pending(const struct pic8259 *p, uint8_t *vector)
{
    int line = chip_pick(&p->chip[0], true);
    if (line < 0)
        return false;
    if (vector) {
        if (line == PIC_CASCADE_LINE) {
            int sl = chip_pick(&p->chip[1], false);
            *vector = (uint8_t)(p->chip[1].vector_base + (sl < 0 ? 7 : sl));
        } else {
            *vector = (uint8_t)(p->chip[0].vector_base + line);
        }
    }
    return true;
}

uint8_t pic_ack(struct pic8259 *p)
{
    struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
    int line = chip_pick(m, true);
    uint8_t vector;
    if (line < 0)
        return (uint8_t)(m->vector_base + 7); /* the request went away: spurious IRQ 7 */
    chip_ack(m, (unsigned)line);
    if (line == PIC_CASCADE_LINE) {
        int sl = chip_pick(s, false);
        if (sl < 0) {
            vector = (uint8_t)(s->vector_base + 7); /* spurious IRQ 15 */
        } else {
            chip_ack(s, (unsigned)sl);
            vector = (uint8_t)(s->vector_base + sl);
        }
    } else {
        vector = (uint8_t)(m->vector_base + line);
    }
    cascade(p);
    return vector;
}

static int chip_check(const struct pic_chip *c)
{
    if (c->init_step != 0 && (c->init_step < 2 || c->init_step > 4))
        return -1;
    if (c->edge & ~c->level & ~c->sticky)
        return -2;
    if (c->elcr & ~c->elcr_mask)
        return -3;
    if (c->vector_base & 7)
        return -4;
    if (c->lowest > 7)
        return -5;
    return 0;
}

int pic_check(const struct pic8259 *p)
{
    int rc = chip_check(&p->chip[0]);
    if (rc)
        return rc;
    rc = chip_check(&p->chip[1]);
    if (rc)
        return rc - 10;
    if (p->chip[0].elcr_mask != ELCR_MASTER_MASK || p->chip[1].elcr_mask != ELCR_SLAVE_MASK ||
        p->chip[0].sticky != (1u << PIC_CASCADE_LINE) || p->chip[1].sticky != 0)
        return -20;
    bool slave_int = chip_pick(&p->chip[1], false) >= 0;
    if (!!(p->chip[0].level & (1u << PIC_CASCADE_LINE)) != slave_int)
        return -21; /* the cascade wire disagrees with the slave's output */
    return 0;
}
