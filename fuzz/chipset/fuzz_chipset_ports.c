/*
 * fuzz_chipset_ports.c - a compromised vCPU (and a sloppy owner) drive struct chipset: port
 * reads and writes of any port and size, external interrupt lines, interrupt acknowledges,
 * wake-ups at the predicted next event, all at times that move forward by anything from a
 * nanosecond to hours, and sometimes backwards. After every step:
 *   - chipset_check() holds (each device's invariants and the wiring between them);
 *   - a read has no bits above its size, invalid sizes read all-ones, and every byte of a read
 *     that no device claims is 0xFF;
 *   - a pending interrupt's vector is one of the two chips' sixteen, and the acknowledge that
 *     follows returns exactly that vector;
 *   - the predicted wake-up is in the future, and on a copy: each PIT counter's predicted next
 *     OUT edge is exactly where the first edge appears, and the RTC's predicted interrupt is
 *     exactly when its line rises.
 *
 * Input: records, the first byte `op` of each picks the kind (op & 7), the time unit of its
 * delta ((op >> 3) & 3: ns, us, ms, s), whether the time given is earlier than the harness's
 * clock (op & 0x40) and, for port accesses, whether the port is taken from the table of
 * chipset ports (op & 0x80):
 *   0 write  [port u16][size u8 % 6][value u32][dt u16]     1 write, size 1, same layout
 *   2 read   [port u16][size u8 % 6][value u32][dt u16]     3 read, size 1, same layout
 *   4 line   [line u8 % 20][level u8][dt u16]
 *   5 pending, then acknowledge when op & 0x20   [dt u16]
 *   6 jump to the predicted next event (when within 100 s)
 *   7 wake-up: update, reset flag, A20, NMI mask, line levels   [dt u16]; with op & 0x20 the
 *     clock first jumps to UINT64_MAX - dt seconds, to reach the saturating arithmetic
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/chipset.h"

struct input {
    const uint8_t *p;
    size_t left;
};

static void take(struct input *in, void *out, size_t n)
{
    size_t k = n < in->left ? n : in->left;
    memcpy(out, in->p, k);
    memset((uint8_t *)out + k, 0, n - k);
    in->p += k;
    in->left -= k;
}

static uint8_t u8(struct input *in)
{
    uint8_t v;
    take(in, &v, 1);
    return v;
}

static uint16_t u16(struct input *in)
{
    uint16_t v;
    take(in, &v, 2);
    return v;
}

static uint32_t u32(struct input *in)
{
    uint32_t v;
    take(in, &v, 4);
    return v;
}

static const uint16_t chipset_ports[] = {
    0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x60,
    0x64, 0x92, 0x70, 0x71, 0xCF8, 0xCFC, 0xCFD, 0xCFE, 0xCFF, 0x80, 0xED, 0xCFA,
};
#define NPORTS (sizeof chipset_ports / sizeof chipset_ports[0])
#define TIME_LIMIT (1ull << 62)

static const uint64_t units[4] = {1, 1000, 1000000, 1000000000};

static uint64_t step_time(uint64_t *now, uint8_t op, uint16_t dt)
{
    uint64_t d = (uint64_t)dt * units[(op >> 3) & 3];
    if (op & 0x40)
        return *now > d ? *now - d : 0; /* an earlier time: the chipset must clamp it */
    if (*now < TIME_LIMIT)
        *now += d;
    return *now;
}

static void check_read(uint16_t port, unsigned size, uint32_t v)
{
    if (size != 1 && size != 2 && size != 4) {
        if (v != 0xFFFFFFFFu)
            abort();
        return;
    }
    if (size < 4 && (v >> (8 * size)) != 0)
        abort();
    if (port == PCI_PORT_ADDRESS && size == 4)
        return; /* the PCI address register: one 32-bit port */
    for (unsigned i = 0; i < size; i++)
        if (!chipset_claims((uint16_t)(port + i), 1) && ((v >> (8 * i)) & 0xFF) != 0xFF)
            abort();
}

static bool is_vector(const struct chipset *cs, uint8_t v)
{
    uint8_t m = cs->pic.chip[0].vector_base, s = cs->pic.chip[1].vector_base;
    return (v >= m && v < m + 8) || (v >= s && v < s + 8);
}

/* The devices' own predictions, checked on a copy so the run itself is not disturbed. */
static void check_predictions(const struct chipset *cs, uint64_t now)
{
    static struct chipset copy; /* large: keep it off the stack; one harness thread */
    now = now > cs->now_ns ? now : cs->now_ns;
    for (unsigned ch = 0; ch < 3; ch++) {
        copy = *cs;
        uint64_t e = pit_next_edge_ns(&copy.pit, ch, now);
        if (e == PIT_NEVER)
            continue;
        if (e <= now)
            abort();
        (void)pit_take_edges(&copy.pit, ch, now);
        if (pit_take_edges(&copy.pit, ch, e - 1) != 0 || pit_take_edges(&copy.pit, ch, e) == 0 ||
            !pit_out(&copy.pit, ch, e))
            abort();
    }
    copy = *cs;
    uint64_t r = rtc_next_event_ns(&copy.rtc, now);
    if (r != RTC_NEVER) {
        if (r <= now || rtc_irq(&copy.rtc, r - 1) || !rtc_irq(&copy.rtc, r))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct chipset cs;
    struct input in = {data, size};
    uint64_t now = 1000000000;
    struct chipset_config cfg = {.ram_bytes = 64ull << 20,
                                 .wall_unix_ns = 1700000000ll * 1000000000};
    chipset_init(&cs, &cfg, now);
    if (chipset_check(&cs))
        abort();
    while (in.left) {
        uint8_t op = u8(&in);
        unsigned kind = op & 7;
        switch (kind) {
        case 0:
        case 1:
        case 2:
        case 3: {
            uint16_t port = u16(&in);
            unsigned sz = u8(&in) % 6;
            uint32_t value = u32(&in);
            uint64_t t = step_time(&now, op, u16(&in));
            if (op & 0x80)
                port = chipset_ports[port % NPORTS];
            if (kind == 1 || kind == 3)
                sz = 1;
            if (kind <= 1) {
                chipset_write(&cs, port, sz, value, t);
            } else {
                check_read(port, sz, chipset_read(&cs, port, sz, t));
            }
            break;
        }
        case 4: {
            unsigned line = u8(&in) % 20;
            bool level = u8(&in) & 1;
            uint64_t t = step_time(&now, op, u16(&in));
            int rc = chipset_set_irq(&cs, line, level, t);
            bool external = line < 16 && !(CHIPSET_INTERNAL_IRQS & (1u << line));
            if (rc != (external ? 0 : -EINVAL))
                abort();
            break;
        }
        case 5: {
            uint64_t t = step_time(&now, op, u16(&in));
            uint8_t vec = 0;
            bool pending = chipset_pending(&cs, t, &vec);
            if (pending && !is_vector(&cs, vec))
                abort();
            if (op & 0x20) {
                uint8_t got = chipset_ack(&cs, t);
                if (!is_vector(&cs, got) || (pending && got != vec))
                    abort();
            }
            break;
        }
        case 6: {
            uint64_t e = chipset_next_event_ns(&cs, now);
            if (e != CHIPSET_NEVER) {
                if (e <= now)
                    abort(); /* a wake-up must be in the future */
                if (e - now < 100 * units[3])
                    now = e;
            }
            chipset_update(&cs, now);
            break;
        }
        default: {
            uint16_t dt = u16(&in);
            if ((op & 0x60) == 0x20)
                now = UINT64_MAX - (uint64_t)dt * units[3];
            uint64_t t = step_time(&now, op, dt);
            chipset_update(&cs, t);
            (void)chipset_take_reset(&cs);
            (void)chipset_a20(&cs);
            (void)chipset_nmi_masked(&cs);
            uint16_t lines = chipset_irq_lines(&cs, t);
            if ((lines ^ cs.ext_irqs) & ~CHIPSET_INTERNAL_IRQS)
                abort();
            break;
        }
        }
        if (chipset_check(&cs))
            abort();
        if (now < cs.now_ns)
            now = cs.now_ns; /* the chipset's clock: an earlier time was clamped to it */
        check_predictions(&cs, now);
    }
    return 0;
}
