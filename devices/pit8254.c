/*
 * pit8254.c - the 8254 counters as functions of time, after the Intel 8254 data sheet.
 *
 * A running counter is a segment: it was loaded with count n (1..65536, or 1..10000 in BCD) and
 * d(t) = base_d + floor((t - base_ns) * 1193182 / 1e9) clocks have elapsed at time t (base_d
 * alone while frozen by a low GATE). Per mode, with M = 65536 (10000 in BCD):
 *   0, 1  count (n - d) mod M;  OUT = d >= n (mode 0 low until terminal count, mode 1 low
 *         during the one-shot); rising edge at d = n.
 *   2     count n - (d mod n);  OUT low for the one clock where the count is 1; rising edges at
 *         every multiple of n (the reload).
 *   3     square wave: high for (n+1)/2 clocks, low for n/2; the count runs from n (n-1 when
 *         odd) down by two in each half; rising edges at every multiple of n.
 *   4, 5  count (n - d) mod M;  OUT low for the one clock at d = n; rising edge at d = n + 1.
 * Modes 2 and 3 with n = 1 (undefined on the chip) keep OUT high, so they never flood IRQ 0.
 * Every change of a segment first counts the rising edges of the old one (edge_ns/edges), so
 * pit_take_edges() is exact whatever the order of calls.
 */
#include "devices/pit8254.h"

#include <string.h>

#define NS_PER_S 1000000000u
#define NO_EDGE UINT64_MAX

static uint64_t clocks_in(uint64_t ns)
{
    return (uint64_t)(((unsigned __int128)ns * PIT_HZ) / NS_PER_S);
}

/* The first time offset at which clocks_in() reaches k. */
static uint64_t ns_for_clocks(uint64_t k)
{
    unsigned __int128 v = ((unsigned __int128)k * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
    return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static unsigned eff_mode(const struct pit_channel *c)
{
    return c->mode >= 6 ? c->mode - 4u : c->mode;
}

static uint32_t modulus(const struct pit_channel *c)
{
    return c->bcd ? 10000u : 65536u;
}

static uint32_t decode_count(const struct pit_channel *c, uint16_t v)
{
    uint32_t n = v;
    if (c->bcd) /* digits above 9 are not BCD; they count with their binary weight */
        n = (((v >> 12) & 15u) * 1000u + ((v >> 8) & 15u) * 100u + ((v >> 4) & 15u) * 10u +
             (v & 15u)) % 10000u;
    return n ? n : modulus(c);
}

static uint16_t to_bcd(uint32_t b)
{
    return (uint16_t)((b / 1000 % 10) << 12 | (b / 100 % 10) << 8 | (b / 10 % 10) << 4 | b % 10);
}

static uint64_t clamp_now(struct pit8254 *p, uint64_t now)
{
    if (now < p->now_ns)
        return p->now_ns;
    p->now_ns = now;
    return now;
}

static uint64_t elapsed(const struct pit_channel *c, uint64_t t)
{
    if (c->frozen || t <= c->base_ns)
        return c->base_d;
    return c->base_d + clocks_in(t - c->base_ns);
}

/* ---- the segment formulas ---- */

static uint32_t count_at(const struct pit_channel *c, uint64_t d)
{
    uint32_t m = modulus(c), n = c->n, v;
    switch (eff_mode(c)) {
    case 2:
        v = n < 2 ? n : n - (uint32_t)(d % n);
        break;
    case 3: {
        uint32_t p = (uint32_t)(d % n), h = (n + 1) / 2;
        uint32_t q = p < h ? p : p - h;
        v = (n & ~1u) - 2 * q;
        break;
    }
    default:
        v = n + m - (uint32_t)(d % m);
        break;
    }
    return v % m;
}

static bool out_at(const struct pit_channel *c, uint64_t d)
{
    uint32_t n = c->n;
    switch (eff_mode(c)) {
    case 0:
    case 1:
        return d >= n;
    case 2:
        return n < 2 || d % n != n - 1;
    case 3:
        return n < 2 || d % n < (n + 1) / 2;
    default:
        return d != n;
    }
}

/* Rising edges at clock counts k with da < k <= db. */
static uint64_t edges_between(const struct pit_channel *c, uint64_t da, uint64_t db)
{
    uint64_t n = c->n;
    switch (eff_mode(c)) {
    case 0:
    case 1:
        return da < n && n <= db;
    case 4:
    case 5:
        return da < n + 1 && n + 1 <= db;
    default:
        return n < 2 ? 0 : db / n - da / n;
    }
}

/* The clock count of the first rising edge after d, or NO_EDGE. */
static uint64_t edge_after(const struct pit_channel *c, uint32_t n, uint64_t d)
{
    switch (eff_mode(c)) {
    case 0:
    case 1:
        return n > d ? n : NO_EDGE;
    case 4:
    case 5:
        return (uint64_t)n + 1 > d ? (uint64_t)n + 1 : NO_EDGE;
    default:
        return n < 2 ? NO_EDGE : (d / n + 1) * n;
    }
}

/* ---- segment bookkeeping ---- */

static void count_edges(struct pit_channel *c, uint64_t t)
{
    if (t <= c->edge_ns)
        return;
    if (c->state == PIT_RUNNING && !c->frozen) {
        uint64_t e = edges_between(c, elapsed(c, c->edge_ns), elapsed(c, t));
        uint64_t sum = (uint64_t)c->edges + e;
        c->edges = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
    }
    c->edge_ns = t;
}

/* Apply a count that was waiting for the end of a period, if that moment has come. */
static void advance(struct pit_channel *c, uint64_t t)
{
    if (!c->pending || t < c->pending_ns)
        return;
    count_edges(c, c->pending_ns);
    c->n = c->pending_n;
    c->base_ns = c->pending_ns;
    c->base_d = c->pending_low_half ? (c->n + 1) / 2 : 0;
    c->pending = false;
    c->null_count = false;
}

static void start(struct pit_channel *c, uint32_t n, uint64_t t)
{
    count_edges(c, t);
    c->state = PIT_RUNNING;
    c->n = n;
    c->base_ns = t;
    c->base_d = 0;
    c->frozen = !c->gate && eff_mode(c) != 1 && eff_mode(c) != 5;
    c->pending = false;
    c->null_count = false;
}

static uint32_t current_count(const struct pit_channel *c, uint64_t t)
{
    if (c->state != PIT_RUNNING)
        return c->idle_count % modulus(c);
    return count_at(c, elapsed(c, t));
}

static bool current_out(const struct pit_channel *c, uint64_t t)
{
    unsigned m = eff_mode(c);
    switch (c->state) {
    case PIT_STOPPED:
        return m != 0;
    case PIT_ARMED:
        return true;
    default:
        if ((m == 2 || m == 3) && !c->gate)
            return true;
        return out_at(c, elapsed(c, t));
    }
}

static uint16_t shown(const struct pit_channel *c, uint32_t count)
{
    return c->bcd ? to_bcd(count) : (uint16_t)count;
}

/* ---- programming ---- */

static void program(struct pit_channel *c, uint8_t cw, uint64_t t)
{
    count_edges(c, t);
    c->idle_count = (uint16_t)current_count(c, t);
    c->mode = (cw >> 1) & 7;
    c->rw = (cw >> 4) & 3;
    c->bcd = cw & 1;
    c->state = PIT_STOPPED;
    c->frozen = false;
    c->pending = false;
    c->null_count = true;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->count_latched = false;
    c->status_latched = false;
}

static void load_count(struct pit_channel *c, uint16_t value, uint64_t t)
{
    uint32_t n;
    c->count_reg = value;
    c->null_count = true;
    n = decode_count(c, value);
    switch (eff_mode(c)) {
    case 0:
    case 4:
        start(c, n, t); /* a new count restarts the counter at once */
        break;
    case 1:
    case 5:
        if (c->state == PIT_STOPPED)
            c->state = PIT_ARMED; /* counting begins at the next GATE trigger */
        break;
    default:
        if (c->state != PIT_RUNNING) {
            start(c, n, t);
        } else if (!c->frozen) {
            if (!c->pending) {
                uint64_t d = elapsed(c, t), k;
                if (eff_mode(c) == 2) {
                    k = (d / c->n + 1) * c->n;
                    c->pending_low_half = false;
                } else {
                    uint64_t p = d % c->n, h = (c->n + 1) / 2;
                    k = p < h ? d - p + h : d - p + c->n;
                    c->pending_low_half = p < h;
                }
                c->pending_ns = add_sat(c->base_ns, ns_for_clocks(k - c->base_d));
            }
            c->pending = true;
            c->pending_n = n;
        }
        /* frozen by GATE: the rising edge of GATE reloads from count_reg */
        break;
    }
}

static void write_count(struct pit_channel *c, uint8_t v, uint64_t t)
{
    switch (c->rw) {
    case 1:
        load_count(c, v, t);
        break;
    case 2:
        load_count(c, (uint16_t)(v << 8), t);
        break;
    default:
        if (!c->write_msb_next) {
            c->lsb_written = v;
            c->write_msb_next = true;
            if (eff_mode(c) == 0 && c->state == PIT_RUNNING) {
                /* Mode 0: the first byte stops the count and drives OUT low. */
                count_edges(c, t);
                c->idle_count = (uint16_t)current_count(c, t);
                c->state = PIT_STOPPED;
                c->frozen = false;
            }
        } else {
            c->write_msb_next = false;
            load_count(c, (uint16_t)(c->lsb_written | v << 8), t);
        }
        break;
    }
}

static uint8_t status_byte(const struct pit_channel *c, uint64_t t)
{
    return (uint8_t)((current_out(c, t) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) | c->rw << 4 |
                     c->mode << 1 | (c->bcd ? 1 : 0));
}

static void latch_count(struct pit_channel *c, uint64_t t)
{
    if (c->count_latched)
        return; /* a second latch before the first is read is ignored */
    c->latch = shown(c, current_count(c, t));
    c->count_latched = true;
}

static void write_control(struct pit8254 *p, uint8_t v, uint64_t t)
{
    unsigned sc = v >> 6;
    if (sc == 3) { /* read-back: bits 3-1 select counters, bit 5 low latches counts, bit 4 status */
        for (unsigned i = 0; i < 3; i++) {
            struct pit_channel *c = &p->ch[i];
            if (!(v & (2u << i)))
                continue;
            advance(c, t);
            if (!(v & 0x20))
                latch_count(c, t);
            if (!(v & 0x10) && !c->status_latched) {
                c->status = status_byte(c, t);
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &p->ch[sc];
    advance(c, t);
    if (((v >> 4) & 3) == 0)
        latch_count(c, t);
    else
        program(c, v, t);
}

static uint8_t read_counter(struct pit_channel *c, uint64_t t)
{
    uint16_t v;
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    v = c->count_latched ? c->latch : shown(c, current_count(c, t));
    switch (c->rw) {
    case 1:
        c->count_latched = false;
        return (uint8_t)v;
    case 2:
        c->count_latched = false;
        return (uint8_t)(v >> 8);
    default:
        if (!c->read_msb_next) {
            c->read_msb_next = true;
            return (uint8_t)v;
        }
        c->read_msb_next = false;
        c->count_latched = false;
        return (uint8_t)(v >> 8);
    }
}

/* ---- public ---- */

void pit_init(struct pit8254 *p, uint64_t now_ns)
{
    memset(p, 0, sizeof *p);
    p->now_ns = now_ns;
    static const uint8_t cw[3] = {0x36, 0x74, 0xB6};
    static const uint16_t count[3] = {0, 18, 0};
    for (unsigned i = 0; i < 3; i++) {
        struct pit_channel *c = &p->ch[i];
        c->gate = i != 2;
        c->edge_ns = now_ns;
        program(c, cw[i], now_ns);
        load_count(c, count[i], now_ns);
    }
}

uint8_t pit_read(struct pit8254 *p, uint16_t port, uint64_t now_ns)
{
    if (port < PIT_PORT_CH0 || port >= PIT_PORT_CONTROL)
        return 0xFF;
    uint64_t t = clamp_now(p, now_ns);
    struct pit_channel *c = &p->ch[port - PIT_PORT_CH0];
    advance(c, t);
    return read_counter(c, t);
}

void pit_write(struct pit8254 *p, uint16_t port, uint8_t value, uint64_t now_ns)
{
    if (port < PIT_PORT_CH0 || port > PIT_PORT_CONTROL)
        return;
    uint64_t t = clamp_now(p, now_ns);
    if (port == PIT_PORT_CONTROL) {
        write_control(p, value, t);
        return;
    }
    struct pit_channel *c = &p->ch[port - PIT_PORT_CH0];
    advance(c, t);
    write_count(c, value, t);
}

void pit_set_gate(struct pit8254 *p, unsigned ch, bool level, uint64_t now_ns)
{
    if (ch > 2)
        return;
    uint64_t t = clamp_now(p, now_ns);
    struct pit_channel *c = &p->ch[ch];
    advance(c, t);
    if (c->gate == level)
        return;
    count_edges(c, t);
    c->gate = level;
    unsigned m = eff_mode(c);
    if (level) {
        if ((m == 1 || m == 5) && c->state != PIT_STOPPED)
            start(c, decode_count(c, c->count_reg), t); /* (re)trigger */
        else if ((m == 2 || m == 3) && c->state == PIT_RUNNING)
            start(c, decode_count(c, c->count_reg), t); /* reload and restart */
        else if (c->state == PIT_RUNNING && c->frozen) {
            c->base_ns = t; /* modes 0 and 4 resume where they stopped */
            c->frozen = false;
        }
    } else if (c->state == PIT_RUNNING && !c->frozen && m != 1 && m != 5) {
        c->base_d = elapsed(c, t);
        c->frozen = true;
        c->pending = false;
    }
}

bool pit_out(struct pit8254 *p, unsigned ch, uint64_t now_ns)
{
    if (ch > 2)
        return false;
    uint64_t t = clamp_now(p, now_ns);
    advance(&p->ch[ch], t);
    return current_out(&p->ch[ch], t);
}

uint32_t pit_count(struct pit8254 *p, unsigned ch, uint64_t now_ns)
{
    if (ch > 2)
        return 0;
    uint64_t t = clamp_now(p, now_ns);
    advance(&p->ch[ch], t);
    return current_count(&p->ch[ch], t);
}

uint64_t pit_next_edge_ns(struct pit8254 *p, unsigned ch, uint64_t now_ns)
{
    if (ch > 2)
        return PIT_NEVER;
    uint64_t t = clamp_now(p, now_ns);
    struct pit_channel *c = &p->ch[ch];
    advance(c, t);
    if (c->state != PIT_RUNNING || c->frozen)
        return PIT_NEVER;
    uint64_t k = edge_after(c, c->n, elapsed(c, t));
    uint64_t when = k == NO_EDGE ? PIT_NEVER : add_sat(c->base_ns, ns_for_clocks(k - c->base_d));
    if (c->pending && when > c->pending_ns) {
        /* the next edge comes from the count that loads at pending_ns */
        uint64_t d0 = c->pending_low_half ? (c->pending_n + 1) / 2 : 0;
        k = edge_after(c, c->pending_n, d0);
        when = k == NO_EDGE ? PIT_NEVER : add_sat(c->pending_ns, ns_for_clocks(k - d0));
    }
    return when;
}

uint32_t pit_take_edges(struct pit8254 *p, unsigned ch, uint64_t now_ns)
{
    if (ch > 2)
        return 0;
    uint64_t t = clamp_now(p, now_ns);
    struct pit_channel *c = &p->ch[ch];
    advance(c, t);
    count_edges(c, t);
    uint32_t e = c->edges;
    c->edges = 0;
    return e;
}

uint64_t pit_next_irq_ns(struct pit8254 *p, uint64_t now_ns)
{
    return pit_next_edge_ns(p, 0, now_ns);
}

uint32_t pit_irq_edges(struct pit8254 *p, uint64_t now_ns)
{
    return pit_take_edges(p, 0, now_ns);
}

static bool valid_bcd(uint16_t v)
{
    return (v & 0xF) < 10 && ((v >> 4) & 0xF) < 10 && ((v >> 8) & 0xF) < 10 && (v >> 12) < 10;
}

int pit_check(const struct pit8254 *p)
{
    for (unsigned i = 0; i < 3; i++) {
        const struct pit_channel *c = &p->ch[i];
        unsigned m = eff_mode(c);
        int base = -10 * (int)i;
        if (c->mode > 7 || c->rw < 1 || c->rw > 3 || c->state > PIT_RUNNING)
            return base - 1;
        if (c->state == PIT_RUNNING && (c->n < 1 || c->n > modulus(c)))
            return base - 2;
        if (c->frozen && (c->state != PIT_RUNNING || m == 1 || m == 5))
            return base - 3;
        if (c->pending && (c->state != PIT_RUNNING || c->frozen || (m != 2 && m != 3) ||
                           c->pending_n < 1 || c->pending_n > modulus(c)))
            return base - 4;
        if (c->state == PIT_ARMED && m != 1 && m != 5)
            return base - 5;
        if (c->count_latched && c->bcd && !valid_bcd(c->latch))
            return base - 6;
        if (c->edge_ns > p->now_ns || (c->state == PIT_RUNNING && c->base_ns > p->now_ns))
            return base - 7;
    }
    return 0;
}
