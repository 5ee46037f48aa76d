/*
 * rtc.c - the MC146818 after its data sheet, with the clock kept as seconds into the chip's
 * 100-year calendar cycle rather than as ten registers: the registers are encoded on each read
 * (BCD or binary, 12 or 24 hours, per register B as it is now), and decoded on each write. While
 * SET is 1 the time registers are plain bytes the guest may fill in any order; clearing SET
 * decodes them (out-of-range fields are clamped, a day past the month's end rolls into the next
 * month) and the clock runs on from there at the next divider second.
 *
 * Flags are evaluated lazily: before anything that reads or changes them, the update, alarm and
 * periodic events between the last evaluation (seen_ns) and now set UF, AF and PF. Divider modes
 * (register A bits 6-4) 000, 001 and 010 all run the clock at 32.768 kHz rates; the others hold
 * the divider in reset, and leaving reset puts the first update 500 ms later.
 */
#include "devices/rtc.h"

#include <string.h>

#define NS_PER_S 1000000000ull
#define HALF_SECOND_NS 500000000ull
#define SECONDS_PER_DAY 86400u

static const uint8_t month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
static const uint8_t time_regs[7] = {RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
                                     RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR};

struct rtc_fields {
    unsigned sec, min, hour, dow, mday, mon, year;
};

/* ---- the chip's calendar: years 00-99, leap when divisible by four ---- */

static unsigned days_in_month(unsigned year, unsigned mon)
{
    return month_days[mon - 1] + (mon == 2 && year % 4 == 0);
}

static uint32_t day_number(unsigned year, unsigned mon, unsigned mday)
{
    uint32_t days = year * 365u + (year + 3) / 4;
    for (unsigned m = 1; m < mon; m++)
        days += days_in_month(year, m);
    return days + mday - 1;
}

static unsigned day_of_week(uint64_t secs, uint8_t dow_offset)
{
    return (unsigned)((secs / SECONDS_PER_DAY + dow_offset) % 7) + 1;
}

static void split(uint64_t secs, uint8_t dow_offset, struct rtc_fields *f)
{
    uint32_t days = (uint32_t)(secs / SECONDS_PER_DAY % RTC_CYCLE_DAYS);
    uint32_t tod = (uint32_t)(secs % SECONDS_PER_DAY);
    uint32_t r = days % 1461;
    unsigned year = days / 1461 * 4;
    if (r >= 366) {
        year += 1 + (r - 366) / 365;
        r = (r - 366) % 365;
    }
    unsigned mon = 1;
    while (mon < 12 && r >= days_in_month(year, mon))
        r -= days_in_month(year, mon++);
    f->year = year;
    f->mon = mon;
    f->mday = r + 1;
    f->dow = day_of_week(secs, dow_offset);
    f->hour = tod / 3600;
    f->min = tod / 60 % 60;
    f->sec = tod % 60;
}

/* ---- register encodings (register B: DM = binary, 24/12) ---- */

static bool binary(const struct rtc *r)
{
    return r->ram[RTC_REG_B] & RTC_B_DM_BINARY;
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
    return (uint8_t)(binary(r) ? v : (v / 10) << 4 | v % 10);
}

static unsigned dec(const struct rtc *r, uint8_t b)
{
    return binary(r) ? b : (b >> 4) * 10u + (b & 15u);
}

static uint8_t enc_hour(const struct rtc *r, unsigned h)
{
    if (r->ram[RTC_REG_B] & RTC_B_24H)
        return enc(r, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(enc(r, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned clampu(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static unsigned dec_hour(const struct rtc *r, uint8_t b)
{
    if (r->ram[RTC_REG_B] & RTC_B_24H)
        return clampu(dec(r, b), 0, 23);
    return clampu(dec(r, b & 0x7F), 1, 12) % 12 + (b & 0x80 ? 12 : 0);
}

static void encode_fields(const struct rtc *r, const struct rtc_fields *f, uint8_t regs[10])
{
    regs[RTC_SECONDS] = enc(r, f->sec);
    regs[RTC_MINUTES] = enc(r, f->min);
    regs[RTC_HOURS] = enc_hour(r, f->hour);
    regs[RTC_DAY_OF_WEEK] = enc(r, f->dow);
    regs[RTC_DAY_OF_MONTH] = enc(r, f->mday);
    regs[RTC_MONTH] = enc(r, f->mon);
    regs[RTC_YEAR] = enc(r, f->year);
}

/* Registers 0-9 (alarms ignored) -> seconds into the cycle and the day of week. */
static void decode_regs(const struct rtc *r, const uint8_t regs[10], uint32_t *secs,
                        unsigned *dow_out)
{
    unsigned sec = clampu(dec(r, regs[RTC_SECONDS]), 0, 59);
    unsigned min = clampu(dec(r, regs[RTC_MINUTES]), 0, 59);
    unsigned hour = dec_hour(r, regs[RTC_HOURS]);
    unsigned dow = clampu(dec(r, regs[RTC_DAY_OF_WEEK]), 1, 7);
    unsigned mday = clampu(dec(r, regs[RTC_DAY_OF_MONTH]), 1, 31);
    unsigned mon = clampu(dec(r, regs[RTC_MONTH]), 1, 12);
    unsigned year = clampu(dec(r, regs[RTC_YEAR]), 0, 99);
    uint32_t days = day_number(year, mon, mday) % RTC_CYCLE_DAYS;
    *secs = days * SECONDS_PER_DAY + hour * 3600u + min * 60u + sec;
    *dow_out = dow;
}

/* ---- the divider chain and the clock ---- */

static bool running(const struct rtc *r)
{
    return ((r->ram[RTC_REG_A] >> 4) & 7) <= 2;
}

static bool updating(const struct rtc *r)
{
    return running(r) && !(r->ram[RTC_REG_B] & RTC_B_SET);
}

static uint64_t since_base(const struct rtc *r, uint64_t t)
{
    return t > r->div_base_ns ? t - r->div_base_ns : 0;
}

/* Updates (second boundaries) from div_base to t. */
static uint64_t updates_by(const struct rtc *r, uint64_t t)
{
    return since_base(r, t) / NS_PER_S;
}

static uint64_t clock_at(const struct rtc *r, uint64_t t)
{
    if (!running(r))
        return r->frozen_sec;
    return r->sec_base + updates_by(r, t);
}

/* Make the clock read `secs` (seconds into the cycle) on day of week `dow` at time t. */
static void set_clock(struct rtc *r, uint64_t t, uint32_t secs, unsigned dow)
{
    if (!running(r)) {
        r->frozen_sec = secs;
    } else {
        uint64_t k = updates_by(r, t) % RTC_CYCLE_SECONDS;
        r->sec_base = (secs + RTC_CYCLE_SECONDS - k) % RTC_CYCLE_SECONDS;
    }
    uint64_t days = clock_at(r, t) / SECONDS_PER_DAY;
    r->dow_offset = (uint8_t)((dow - 1 + 7 - days % 7) % 7);
}

static uint32_t periodic_hz(const struct rtc *r)
{
    unsigned rs = r->ram[RTC_REG_A] & 15;
    if (rs == 0)
        return 0;
    if (rs <= 2)
        return 512u >> rs; /* 256 and 128 Hz, as the data sheet's table has it */
    return 65536u >> rs;
}

static uint64_t periodic_ticks(const struct rtc *r, uint64_t t, uint32_t hz)
{
    return (uint64_t)(((unsigned __int128)since_base(r, t) * hz) / NS_PER_S);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- the alarm ---- */

/* An alarm register: 1 with *value set, 0 for "don't care" (bits 7-6 both set), or -1 when it
 * holds a byte the time register never shows, so it never matches. */
static int alarm_field(const struct rtc *r, uint8_t b, bool hour, unsigned *value)
{
    if ((b & 0xC0) == 0xC0)
        return 0;
    unsigned v = hour ? dec_hour(r, b) : dec(r, b);
    if (!hour && v > 59)
        return -1;
    if ((hour ? enc_hour(r, v) : enc(r, v)) != b)
        return -1;
    *value = v;
    return 1;
}

/* Seconds from clock `now` to the next update that makes the time match the alarm, 1..86400;
 * 0 if it never will. */
static uint32_t alarm_delay(const struct rtc *r, uint64_t now)
{
    unsigned as = 0, am = 0, ah = 0;
    int ks = alarm_field(r, r->ram[RTC_SECONDS_ALARM], false, &as);
    int km = alarm_field(r, r->ram[RTC_MINUTES_ALARM], false, &am);
    int kh = alarm_field(r, r->ram[RTC_HOURS_ALARM], true, &ah);
    if (ks < 0 || km < 0 || kh < 0)
        return 0;
    uint32_t tod = (uint32_t)(now % SECONDS_PER_DAY);
    unsigned h0 = tod / 3600, m0 = tod / 60 % 60, s0 = tod % 60;
    for (unsigned i = 0; i <= 24; i++) { /* hour by hour, back round to this hour tomorrow */
        unsigned h = (h0 + i) % 24;
        if (kh && h != ah)
            continue;
        for (unsigned m = i == 0 ? m0 : 0; m < 60; m++) {
            if (km && m != am)
                continue;
            unsigned first = (i == 0 && m == m0) ? s0 + 1 : 0, s;
            if (!ks)
                s = first;
            else
                s = as >= first ? as : 60;
            if (s >= 60)
                continue;
            return (uint32_t)(i * 3600u + m * 60u + s - (m0 * 60u + s0));
        }
    }
    return 0;
}

/* ---- flags ---- */

static bool irq_level(const struct rtc *r)
{
    uint8_t f = r->ram[RTC_REG_C], b = r->ram[RTC_REG_B];
    return ((f & RTC_C_PF) && (b & RTC_B_PIE)) || ((f & RTC_C_AF) && (b & RTC_B_AIE)) ||
           ((f & RTC_C_UF) && (b & RTC_B_UIE));
}

/* Bring the flags up to date with time t (the latest seen; earlier times are clamped). */
static uint64_t advance(struct rtc *r, uint64_t now)
{
    if (now <= r->seen_ns)
        return r->seen_ns;
    uint64_t from = r->seen_ns;
    if (running(r)) {
        uint32_t hz = periodic_hz(r);
        if (hz && periodic_ticks(r, now, hz) > periodic_ticks(r, from, hz))
            r->ram[RTC_REG_C] |= RTC_C_PF;
        if (updating(r)) {
            uint64_t n = updates_by(r, now) - updates_by(r, from);
            if (n) {
                r->ram[RTC_REG_C] |= RTC_C_UF;
                uint32_t wait = alarm_delay(r, clock_at(r, from));
                if (wait && wait <= n)
                    r->ram[RTC_REG_C] |= RTC_C_AF;
            }
        }
    }
    r->seen_ns = now;
    return now;
}

/* ---- registers ---- */

static bool uip(const struct rtc *r, uint64_t t)
{
    return updating(r) && since_base(r, t) % NS_PER_S >= NS_PER_S - RTC_UIP_NS;
}

static bool is_time_reg(unsigned reg)
{
    return reg <= RTC_YEAR && reg != RTC_SECONDS_ALARM && reg != RTC_MINUTES_ALARM &&
           reg != RTC_HOURS_ALARM;
}

static void current_regs(const struct rtc *r, uint64_t t, uint8_t regs[10])
{
    struct rtc_fields f;
    split(clock_at(r, t), r->dow_offset, &f);
    encode_fields(r, &f, regs);
}

static uint8_t reg_value(const struct rtc *r, unsigned reg, uint64_t t)
{
    if (is_time_reg(reg)) {
        if (r->ram[RTC_REG_B] & RTC_B_SET)
            return r->ram[reg];
        uint8_t regs[10];
        current_regs(r, t, regs);
        return regs[reg];
    }
    switch (reg) {
    case RTC_REG_A:
        return (uint8_t)(r->ram[RTC_REG_A] | (uip(r, t) ? RTC_A_UIP : 0));
    case RTC_REG_C:
        return (uint8_t)(r->ram[RTC_REG_C] | (irq_level(r) ? RTC_C_IRQF : 0));
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        return r->ram[reg];
    }
}

static void write_time_reg(struct rtc *r, unsigned reg, uint8_t v, uint64_t t)
{
    if (r->ram[RTC_REG_B] & RTC_B_SET) {
        r->ram[reg] = v;
        return;
    }
    uint8_t regs[10];
    uint32_t secs;
    unsigned dow;
    current_regs(r, t, regs);
    regs[reg] = v;
    decode_regs(r, regs, &secs, &dow);
    set_clock(r, t, secs, dow);
}

static void write_reg_a(struct rtc *r, uint8_t v, uint64_t t)
{
    bool was_running = running(r);
    uint64_t secs = clock_at(r, t);
    r->ram[RTC_REG_A] = v & 0x7F;
    if (was_running && !running(r)) {
        r->frozen_sec = secs; /* the same count: the day of week is unchanged */
    } else if (!was_running && running(r)) {
        r->div_base_ns = t >= HALF_SECOND_NS ? t - HALF_SECOND_NS : 0;
        set_clock(r, t, (uint32_t)(secs % RTC_CYCLE_SECONDS), day_of_week(secs, r->dow_offset));
    }
}

static void write_reg_b(struct rtc *r, uint8_t v, uint64_t t)
{
    uint8_t old = r->ram[RTC_REG_B];
    if (v & RTC_B_SET)
        v &= (uint8_t)~RTC_B_UIE; /* setting SET clears UIE */
    r->ram[RTC_REG_B] = v;
    if (!(old & RTC_B_SET) && (v & RTC_B_SET)) {
        uint8_t regs[10];
        current_regs(r, t, regs);
        for (unsigned i = 0; i < sizeof time_regs; i++)
            r->ram[time_regs[i]] = regs[time_regs[i]];
    } else if ((old & RTC_B_SET) && !(v & RTC_B_SET)) {
        uint32_t secs;
        unsigned dow;
        decode_regs(r, r->ram, &secs, &dow);
        set_clock(r, t, secs, dow);
    }
}

uint8_t rtc_read(struct rtc *r, uint16_t port, uint64_t now_ns)
{
    if (port != RTC_PORT_DATA)
        return 0xFF;
    uint64_t t = advance(r, now_ns);
    uint8_t v = reg_value(r, r->index, t);
    if (r->index == RTC_REG_C)
        r->ram[RTC_REG_C] = 0; /* reading C clears every flag and lowers IRQ 8 */
    return v;
}

void rtc_write(struct rtc *r, uint16_t port, uint8_t v, uint64_t now_ns)
{
    if (port == RTC_PORT_INDEX) {
        r->index = v & 0x7F;
        r->nmi_masked = v & 0x80;
        return;
    }
    if (port != RTC_PORT_DATA)
        return;
    uint64_t t = advance(r, now_ns);
    unsigned reg = r->index;
    if (is_time_reg(reg))
        write_time_reg(r, reg, v, t);
    else if (reg == RTC_REG_A)
        write_reg_a(r, v, t);
    else if (reg == RTC_REG_B)
        write_reg_b(r, v, t);
    else if (reg != RTC_REG_C && reg != RTC_REG_D)
        r->ram[reg] = v; /* alarms and CMOS RAM */
}

bool rtc_irq(struct rtc *r, uint64_t now_ns)
{
    advance(r, now_ns);
    return irq_level(r);
}

uint8_t rtc_peek(struct rtc *r, unsigned reg, uint64_t now_ns)
{
    uint64_t t = advance(r, now_ns);
    return reg < 128 ? reg_value(r, reg, t) : 0xFF;
}

uint64_t rtc_next_event_ns(struct rtc *r, uint64_t now_ns)
{
    uint64_t t = advance(r, now_ns), best = RTC_NEVER;
    uint8_t b = r->ram[RTC_REG_B];
    if (irq_level(r) || !running(r))
        return RTC_NEVER;
    uint32_t hz = periodic_hz(r);
    if ((b & RTC_B_PIE) && hz) {
        uint64_t j = periodic_ticks(r, t, hz) + 1;
        unsigned __int128 off = ((unsigned __int128)j * NS_PER_S + hz - 1) / hz;
        uint64_t when = off > UINT64_MAX ? RTC_NEVER : add_sat(r->div_base_ns, (uint64_t)off);
        if (when < best)
            best = when;
    }
    if (updating(r) && (b & (RTC_B_UIE | RTC_B_AIE))) {
        uint64_t k = updates_by(r, t);
        uint64_t wait = (b & RTC_B_UIE) ? 1 : alarm_delay(r, clock_at(r, t));
        if (wait) {
            unsigned __int128 off = (unsigned __int128)(k + wait) * NS_PER_S;
            uint64_t when = off > UINT64_MAX ? RTC_NEVER : add_sat(r->div_base_ns, (uint64_t)off);
            if (when < best)
                best = when;
        }
    }
    return best;
}

/* ---- init ---- */

static uint8_t bcd8(unsigned v)
{
    return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Proleptic Gregorian date of a day number counted from 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void set_word(uint8_t *ram, unsigned lo, uint32_t v)
{
    ram[lo] = (uint8_t)v;
    ram[lo + 1] = (uint8_t)(v >> 8);
}

static void init_cmos(struct rtc *r, uint64_t ram_bytes)
{
    uint64_t kib = ram_bytes / 1024;
    uint64_t base = kib < 640 ? kib : 640;
    uint64_t ext = kib > 1024 ? kib - 1024 : 0;
    uint64_t above16 = ram_bytes > (16ull << 20) ? (ram_bytes - (16ull << 20)) >> 16 : 0;
    if (ext > 0xFFFF)
        ext = 0xFFFF;
    if (above16 > 0xFFFF)
        above16 = 0xFFFF;
    r->ram[0x10] = 0x00; /* no diskette drives */
    r->ram[0x12] = 0x00; /* no fixed disks the BIOS knows of */
    r->ram[0x14] = 0x02; /* equipment: maths coprocessor, EGA/VGA display, no diskettes */
    set_word(r->ram, 0x15, (uint32_t)base);
    set_word(r->ram, 0x17, (uint32_t)ext);
    set_word(r->ram, 0x30, (uint32_t)ext);
    set_word(r->ram, 0x34, (uint32_t)above16);
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2D; i++)
        sum += r->ram[i];
    r->ram[0x2E] = (uint8_t)(sum >> 8);
    r->ram[0x2F] = (uint8_t)sum;
}

void rtc_init(struct rtc *r, int64_t unix_ns, uint64_t ram_bytes, uint64_t now_ns)
{
    memset(r, 0, sizeof *r);
    int64_t secs = floor_div(unix_ns, (int64_t)NS_PER_S);
    uint64_t sub = (uint64_t)(unix_ns - secs * (int64_t)NS_PER_S);
    int64_t days = floor_div(secs, SECONDS_PER_DAY);
    uint32_t tod = (uint32_t)(secs - days * SECONDS_PER_DAY);
    int64_t year;
    unsigned mon, mday;
    civil_from_days(days, &year, &mon, &mday);
    int64_t hundreds = floor_div(year, 100);
    unsigned yy = (unsigned)(year - hundreds * 100);
    unsigned century = (unsigned)(hundreds - floor_div(hundreds, 100) * 100);

    r->ram[RTC_REG_A] = 0x26;
    r->ram[RTC_REG_B] = RTC_B_24H;
    r->ram[RTC_CENTURY] = bcd8(century);
    init_cmos(r, ram_bytes);

    unsigned weekday = (unsigned)((days % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    r->div_base_ns = now_ns >= sub ? now_ns - sub : 0;
    r->seen_ns = now_ns;
    set_clock(r, now_ns, day_number(yy, mon, mday) * SECONDS_PER_DAY + tod, weekday + 1);
}

int rtc_check(const struct rtc *r)
{
    if (r->index > 127)
        return -1;
    if (r->ram[RTC_REG_C] & ~(RTC_C_PF | RTC_C_AF | RTC_C_UF))
        return -2;
    if (r->ram[RTC_REG_A] & RTC_A_UIP)
        return -3;
    if (r->sec_base >= RTC_CYCLE_SECONDS || r->frozen_sec >= (1ull << 40))
        return -4; /* frozen_sec: at most sec_base plus 2^64 ns worth of updates */
    if (r->dow_offset > 6)
        return -5;
    if ((r->ram[RTC_REG_B] & RTC_B_SET) && (r->ram[RTC_REG_B] & RTC_B_UIE))
        return -6;
    if (r->div_base_ns > r->seen_ns)
        return -7;
    return 0;
}
