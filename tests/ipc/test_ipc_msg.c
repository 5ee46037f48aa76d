/*
 * test_ipc_msg.c - msg_check() against an independent copy of the message table: every type on
 * every channel and direction, every length at and around its limit, and the payload rules
 * (printable log text, byte counts, port access sizes, enum ranges).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/msg.h"

struct expect {
    enum msg_type type;
    const char *name;
    enum chan_kind chan;
    enum msg_dir dir;
    uint16_t len;
};

/* Written out by hand from the protocol description, not generated from MSG_TYPES, so that an
 * accidental edit of the table shows up here. A new message type is added here too (and its
 * payload rule to make_valid and a range test), on purpose: the protocol changes visibly. */
static const struct expect table[] = {
    {MSG_CTL_HELLO, "CTL_HELLO", CHAN_CTL, DIR_RSP, 16},
    {MSG_CTL_START, "CTL_START", CHAN_CTL, DIR_REQ, 0},
    {MSG_CTL_STOP, "CTL_STOP", CHAN_CTL, DIR_REQ, 0},
    {MSG_CTL_PING, "CTL_PING", CHAN_CTL, DIR_REQ, 8},
    {MSG_CTL_PONG, "CTL_PONG", CHAN_CTL, DIR_RSP, 8},
    {MSG_CTL_LOG, "CTL_LOG", CHAN_CTL, DIR_RSP, 56},
    {MSG_CTL_CONSOLE_OUT, "CTL_CONSOLE_OUT", CHAN_CTL, DIR_RSP, 56},
    {MSG_CTL_CONSOLE_IN, "CTL_CONSOLE_IN", CHAN_CTL, DIR_REQ, 56},
    {MSG_CTL_LINKS, "CTL_LINKS", CHAN_CTL, DIR_RSP, 16},
    {MSG_CTL_VM_STOP, "CTL_VM_STOP", CHAN_CTL, DIR_RSP, 8},
    {MSG_CTL_SELFTEST, "CTL_SELFTEST", CHAN_CTL, DIR_REQ, 8},
    {MSG_CTL_BOOT, "CTL_BOOT", CHAN_CTL, DIR_REQ, 32},
    {MSG_XL_PING, "XL_PING", CHAN_XLATE, DIR_REQ, 8},
    {MSG_XL_PONG, "XL_PONG", CHAN_XLATE, DIR_RSP, 8},
    {MSG_XL_TRANSLATE, "XL_TRANSLATE", CHAN_XLATE, DIR_REQ, 24},
    {MSG_XL_BLOCK, "XL_BLOCK", CHAN_XLATE, DIR_RSP, 16},
    {MSG_MMU_PING, "MMU_PING", CHAN_MMU, DIR_REQ, 8},
    {MSG_MMU_PONG, "MMU_PONG", CHAN_MMU, DIR_RSP, 8},
    {MSG_DEV_PING, "DEV_PING", CHAN_DEV, DIR_REQ, 8},
    {MSG_DEV_PONG, "DEV_PONG", CHAN_DEV, DIR_RSP, 8},
    {MSG_DEV_PIO_WRITE, "DEV_PIO_WRITE", CHAN_DEV, DIR_REQ, 8},
    {MSG_DEV_PIO_READ, "DEV_PIO_READ", CHAN_DEV, DIR_REQ, 8},
    {MSG_DEV_PIO_DATA, "DEV_PIO_DATA", CHAN_DEV, DIR_RSP, 8},
};
#define NTABLE (sizeof table / sizeof table[0])

/* A message of `type` whose payload satisfies that type's content rules. */
static void make_valid(struct msg *m, enum msg_type type, uint16_t len)
{
    memset(m, 0, sizeof *m);
    m->type = (uint16_t)type;
    m->len = len;
    m->seq = 0x55AA55AA; /* the sequence number is the ring's business, not msg_check's */
    switch (type) {
    case MSG_CTL_HELLO: {
        struct msg_hello h = {COMP_MMU, CLOISTER_IPC_VERSION, 2, 0};
        memcpy(m->payload, &h, sizeof h);
        break;
    }
    case MSG_CTL_LOG: {
        struct msg_log l = {.level = 1, .n = 5};
        memcpy(l.text, "hello", 5);
        memcpy(m->payload, &l, sizeof l);
        break;
    }
    case MSG_CTL_CONSOLE_OUT:
    case MSG_CTL_CONSOLE_IN: {
        struct msg_bytes b = {.n = 3, .data = {0, 0xFF, '\n'}};
        memcpy(m->payload, &b, sizeof b);
        break;
    }
    case MSG_CTL_VM_STOP: {
        struct msg_stop s = {STOP_GUEST_HALT, 0};
        memcpy(m->payload, &s, sizeof s);
        break;
    }
    case MSG_CTL_SELFTEST: {
        struct msg_selftest t = {SELFTEST_SOCKET, 0};
        memcpy(m->payload, &t, sizeof t);
        break;
    }
    case MSG_CTL_BOOT: {
        struct msg_boot b = {.mode = BOOT_FLAT32, .entry = 0x100000, .esp = 0x90000};
        memcpy(m->payload, &b, sizeof b);
        break;
    }
    case MSG_XL_TRANSLATE: {
        struct msg_translate t = {0xFFF0, 0xFFFF0, XL_NO_PAGE, 16, 1, 0};
        memcpy(m->payload, &t, sizeof t);
        break;
    }
    case MSG_XL_BLOCK: {
        struct msg_block b = {XL_OK, 64, 96, 0xFFF0};
        memcpy(m->payload, &b, sizeof b);
        break;
    }
    case MSG_DEV_PIO_WRITE:
    case MSG_DEV_PIO_READ:
    case MSG_DEV_PIO_DATA: {
        struct msg_pio p = {0x3F8, 1, 0, 0x41};
        memcpy(m->payload, &p, sizeof p);
        break;
    }
    default:
        memset(m->payload, 0x5C, sizeof m->payload); /* pings carry any token */
        break;
    }
}

static int check_one(const struct expect *e, uint16_t len, enum chan_kind kind, enum msg_dir dir)
{
    struct msg m;
    make_valid(&m, e->type, len);
    return msg_check(&m, kind, dir);
}

static void test_table_covers_every_type(void **state)
{
    (void)state;
    assert_int_equal(NTABLE, MSG_TYPE_COUNT - 1);
    for (unsigned i = 0; i < NTABLE; i++) {
        assert_int_equal(table[i].type, i + 1);
        assert_string_equal(msg_type_name(table[i].type), table[i].name);
    }
    assert_string_equal(msg_type_name(MSG_NONE), "NONE");
    assert_string_equal(msg_type_name(MSG_TYPE_COUNT), "?");
    assert_string_equal(msg_type_name(0xFFFF), "?");
    assert_int_equal(sizeof(struct msg), MSG_SIZE);
    assert_int_equal(offsetof(struct msg, payload) + MSG_PAYLOAD_MAX, MSG_SIZE);
    assert_int_equal(sizeof(struct msg_log), MSG_PAYLOAD_MAX);
    assert_int_equal(sizeof(struct msg_bytes), MSG_PAYLOAD_MAX);
}

/* Each type is accepted on exactly one channel in exactly one direction. */
static void test_type_channel_direction(void **state)
{
    (void)state;
    for (unsigned i = 0; i < NTABLE; i++) {
        const struct expect *e = &table[i];
        for (unsigned k = 0; k < CHAN_KIND_COUNT; k++)
            for (unsigned d = 0; d <= DIR_RSP; d++) {
                int want = (k == e->chan && d == e->dir) ? 0 : -EPROTO;
                int got = check_one(e, e->len, (enum chan_kind)k, (enum msg_dir)d);
                if (got != want)
                    fail_msg("%s on chan %u dir %u: got %d want %d", e->name, k, d, got, want);
            }
        /* Out-of-range channel kinds and directions match nothing. */
        assert_int_equal(check_one(e, e->len, CHAN_KIND_COUNT, e->dir), -EPROTO);
        assert_int_equal(check_one(e, e->len, (enum chan_kind)200, e->dir), -EPROTO);
        assert_int_equal(check_one(e, e->len, e->chan, (enum msg_dir)2), -EPROTO);
    }
}

/* Exactly the declared length: not one less, one more, the maximum, zero or nonsense. */
static void test_lengths_at_every_limit(void **state)
{
    (void)state;
    for (unsigned i = 0; i < NTABLE; i++) {
        const struct expect *e = &table[i];
        const uint16_t lens[] = {e->len, (uint16_t)(e->len - 1), (uint16_t)(e->len + 1),
                                 MSG_PAYLOAD_MAX, 0, MSG_PAYLOAD_MAX + 1, MSG_SIZE, 0xFFFF};
        for (unsigned j = 0; j < sizeof lens / sizeof lens[0]; j++) {
            int want = lens[j] == e->len ? 0 : -EPROTO;
            int got = check_one(e, lens[j], e->chan, e->dir);
            if (got != want)
                fail_msg("%s with len %u: got %d want %d", e->name, lens[j], got, want);
        }
    }
}

static void test_unknown_types(void **state)
{
    (void)state;
    const uint16_t bad[] = {MSG_NONE, MSG_TYPE_COUNT, MSG_TYPE_COUNT + 1, 0x100, 0x8000, 0xFFFF};
    for (unsigned j = 0; j < sizeof bad / sizeof bad[0]; j++)
        for (unsigned k = 0; k < CHAN_KIND_COUNT; k++)
            for (unsigned d = 0; d <= DIR_RSP; d++)
                for (uint16_t len = 0; len <= MSG_PAYLOAD_MAX; len += 8) {
                    struct msg m;
                    memset(&m, 0, sizeof m);
                    m.type = bad[j];
                    m.len = len;
                    assert_int_equal(msg_check(&m, (enum chan_kind)k, (enum msg_dir)d), -EPROTO);
                }
}

static int log_check(uint8_t level, uint8_t n, const char *text, size_t textlen)
{
    struct msg m;
    struct msg_log l;
    memset(&l, 0, sizeof l);
    l.level = level;
    l.n = n;
    memcpy(l.text, text, textlen);
    msg_set(&m, MSG_CTL_LOG, &l, sizeof l);
    return msg_check(&m, CHAN_CTL, DIR_RSP);
}

static void test_log_text_rules(void **state)
{
    (void)state;
    char text[52];
    memset(text, 'x', sizeof text);
    assert_int_equal(log_check(0, 0, text, 0), 0);
    assert_int_equal(log_check(0, 1, text, 1), 0);
    assert_int_equal(log_check(2, 52, text, 52), 0);
    assert_int_equal(log_check(0, 53, text, 52), -EPROTO);
    assert_int_equal(log_check(0, 255, text, 52), -EPROTO);
    assert_int_equal(log_check(3, 5, text, 5), -EPROTO);
    assert_int_equal(log_check(255, 5, text, 5), -EPROTO);
    /* Every printable byte is fine; every other byte is refused, at the first and last place. */
    for (unsigned c = 0; c < 256; c++) {
        int want = (c >= 0x20 && c <= 0x7e) ? 0 : -EPROTO;
        memset(text, 'a', sizeof text);
        text[0] = (char)c;
        assert_int_equal(log_check(0, 52, text, 52), want);
        memset(text, 'a', sizeof text);
        text[51] = (char)c;
        assert_int_equal(log_check(1, 52, text, 52), want);
    }
    /* Bytes past n are not text and are not looked at. */
    memset(text, 0, sizeof text);
    memcpy(text, "ok", 2);
    text[2] = '\n';
    text[51] = (char)0xFF;
    assert_int_equal(log_check(0, 2, text, 52), 0);
    assert_int_equal(log_check(0, 3, text, 52), -EPROTO);
}

static int bytes_check(enum msg_type type, uint8_t n, enum msg_dir dir)
{
    struct msg m;
    struct msg_bytes b;
    memset(&b, 0xFF, sizeof b); /* the data itself may be anything */
    b.n = n;
    msg_set(&m, type, &b, sizeof b);
    return msg_check(&m, CHAN_CTL, dir);
}

static void test_byte_counts(void **state)
{
    (void)state;
    const struct {
        enum msg_type type;
        enum msg_dir dir;
    } kinds[] = {{MSG_CTL_CONSOLE_OUT, DIR_RSP}, {MSG_CTL_CONSOLE_IN, DIR_REQ}};
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(bytes_check(kinds[i].type, 0, kinds[i].dir), -EPROTO);
        assert_int_equal(bytes_check(kinds[i].type, 1, kinds[i].dir), 0);
        assert_int_equal(bytes_check(kinds[i].type, 52, kinds[i].dir), 0);
        assert_int_equal(bytes_check(kinds[i].type, 53, kinds[i].dir), -EPROTO);
        assert_int_equal(bytes_check(kinds[i].type, 255, kinds[i].dir), -EPROTO);
    }
}

static void test_pio_sizes(void **state)
{
    (void)state;
    const struct {
        enum msg_type type;
        enum msg_dir dir;
    } kinds[] = {{MSG_DEV_PIO_WRITE, DIR_REQ}, {MSG_DEV_PIO_READ, DIR_REQ}, {MSG_DEV_PIO_DATA, DIR_RSP}};
    for (unsigned i = 0; i < 3; i++)
        for (unsigned size = 0; size < 256; size++) {
            struct msg m;
            struct msg_pio p = {0xFFFF, (uint8_t)size, 0xFF, 0xFFFFFFFF};
            msg_set(&m, kinds[i].type, &p, sizeof p);
            int want = (size == 1 || size == 2 || size == 4) ? 0 : -EPROTO;
            if (msg_check(&m, CHAN_DEV, kinds[i].dir) != want)
                fail_msg("%s size %u", msg_type_name(kinds[i].type), size);
        }
}

static void test_hello_stop_boot_selftest_ranges(void **state)
{
    (void)state;
    struct msg m;
    for (uint32_t kind = 0; kind <= COMP_KIND_COUNT + 1; kind++)
        for (uint32_t ver = 0; ver <= CLOISTER_IPC_VERSION + 1; ver++) {
            struct msg_hello h = {kind, ver, 2, 0};
            msg_set(&m, MSG_CTL_HELLO, &h, sizeof h);
            int want = (kind < COMP_KIND_COUNT && ver == CLOISTER_IPC_VERSION) ? 0 : -EPROTO;
            assert_int_equal(msg_check(&m, CHAN_CTL, DIR_RSP), want);
        }
    struct msg_hello big = {0xFFFFFFFF, CLOISTER_IPC_VERSION, 2, 0};
    msg_set(&m, MSG_CTL_HELLO, &big, sizeof big);
    assert_int_equal(msg_check(&m, CHAN_CTL, DIR_RSP), -EPROTO);

    for (uint32_t r = 0; r <= STOP_INTERNAL + 1; r++) {
        struct msg_stop s = {r, 0xFFFFFFFF};
        msg_set(&m, MSG_CTL_VM_STOP, &s, sizeof s);
        int want = (r >= STOP_GUEST_HALT && r <= STOP_INTERNAL) ? 0 : -EPROTO;
        assert_int_equal(msg_check(&m, CHAN_CTL, DIR_RSP), want);
    }
    /* BOOT: a flat Multiboot entry takes any register values; a Linux entry needs a GDT that
     * reaches the data selector, fits a 16-bit limit and does not wrap around 4 GiB. */
    const struct {
        uint32_t mode, base, limit;
        int want;
    } boots[] = {
        {0, 0, 0xFFFF, -EPROTO},
        {BOOT_FLAT32, 0xFFFFFFFF, 0xFFFFFFFF, 0},
        {BOOT_LINUX32, 0x1000, BOOT_LINUX32_DS + 7, 0},
        {BOOT_LINUX32, 0x1000, BOOT_LINUX32_DS + 6, -EPROTO},
        {BOOT_LINUX32, 0x1000, 0xFFFF, 0},
        {BOOT_LINUX32, 0x1000, 0x10000, -EPROTO},
        {BOOT_LINUX32, 0xFFFFFFFF - 0x1F, 0x1F, 0},
        {BOOT_LINUX32, 0xFFFFFFFF - 0x1E, 0x1F, -EPROTO},
        {BOOT_LINUX32 + 1, 0x1000, 0x1F, -EPROTO},
        {0xFFFFFFFF, 0x1000, 0x1F, -EPROTO},
    };
    for (unsigned i = 0; i < sizeof boots / sizeof boots[0]; i++) {
        struct msg_boot b;
        memset(&b, 0xFF, sizeof b);
        b.mode = boots[i].mode;
        b.gdt_base = boots[i].base;
        b.gdt_limit = boots[i].limit;
        msg_set(&m, MSG_CTL_BOOT, &b, sizeof b);
        if (msg_check(&m, CHAN_CTL, DIR_REQ) != boots[i].want)
            fail_msg("boot case %u", i);
    }
    for (uint32_t w = 0; w <= SELFTEST_COUNT; w++) {
        struct msg_selftest t = {w, 0};
        msg_set(&m, MSG_CTL_SELFTEST, &t, sizeof t);
        int want = (w >= SELFTEST_OPENAT && w < SELFTEST_COUNT) ? 0 : -EPROTO;
        assert_int_equal(msg_check(&m, CHAN_CTL, DIR_REQ), want);
    }
}

static void test_translate_and_block_ranges(void **state)
{
    (void)state;
    struct msg m;
    const uint32_t limits[] = {0, 1, 2, 4096, 8191, 8192, 8193, 0xFFFFFFFF};
    for (unsigned i = 0; i < sizeof limits / sizeof limits[0]; i++)
        for (uint32_t mode = 0; mode <= 5; mode++) {
            struct msg_translate t = {0xFFFFFFFF, 0xFFFFFFFF, 0, limits[i], mode, 0xFFFFFFFF};
            msg_set(&m, MSG_XL_TRANSLATE, &t, sizeof t);
            int want = (limits[i] >= 1 && limits[i] <= 8192 && mode <= 3) ? 0 : -EPROTO;
            if (msg_check(&m, CHAN_XLATE, DIR_REQ) != want)
                fail_msg("translate limit %u mode %u", limits[i], mode);
        }
    for (uint32_t st = 0; st <= 4; st++) {
        struct msg_block b = {st, 0xFFFFFFFF, 0xFFFFFFFF, 0};
        msg_set(&m, MSG_XL_BLOCK, &b, sizeof b);
        assert_int_equal(msg_check(&m, CHAN_XLATE, DIR_RSP), st <= XL_FETCH_PAGE ? 0 : -EPROTO);
    }
    struct msg_block big = {0x80000000u, 0, 0, 0};
    msg_set(&m, MSG_XL_BLOCK, &big, sizeof big);
    assert_int_equal(msg_check(&m, CHAN_XLATE, DIR_RSP), -EPROTO);
}

static void test_msg_set(void **state)
{
    (void)state;
    struct msg m;
    uint8_t big[80];
    for (unsigned i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i + 1);
    memset(&m, 0xEE, sizeof m);
    msg_set(&m, MSG_XL_PING, big, 3);
    assert_int_equal(m.type, MSG_XL_PING);
    assert_int_equal(m.len, 3);
    assert_memory_equal(m.payload, big, 3);
    for (unsigned i = 3; i < MSG_PAYLOAD_MAX; i++)
        assert_int_equal(m.payload[i], 0);
    /* Oversized payloads are cut to the slot, never copied past it. */
    msg_set(&m, MSG_CTL_LOG, big, sizeof big);
    assert_int_equal(m.len, MSG_PAYLOAD_MAX);
    assert_memory_equal(m.payload, big, MSG_PAYLOAD_MAX);
    msg_set(&m, MSG_CTL_START, NULL, 0);
    assert_int_equal(m.len, 0);
    assert_int_equal(msg_check(&m, CHAN_CTL, DIR_REQ), 0);
}

static void test_component_names(void **state)
{
    (void)state;
    const char *names[] = {"vcpu", "translator", "mmu", "dev-serial"};
    assert_int_equal(sizeof names / sizeof names[0], COMP_KIND_COUNT);
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        assert_string_equal(component_name(k), names[k]);
        assert_int_equal(component_by_name(names[k]), (int)k);
    }
    assert_string_equal(component_name(COMP_KIND_COUNT), "?");
    assert_int_equal(component_by_name("VCPU"), -1);
    assert_int_equal(component_by_name(""), -1);
    assert_int_equal(component_by_name("dev-serial2"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_covers_every_type),
        cmocka_unit_test(test_type_channel_direction),
        cmocka_unit_test(test_lengths_at_every_limit),
        cmocka_unit_test(test_unknown_types),
        cmocka_unit_test(test_log_text_rules),
        cmocka_unit_test(test_byte_counts),
        cmocka_unit_test(test_pio_sizes),
        cmocka_unit_test(test_hello_stop_boot_selftest_ranges),
        cmocka_unit_test(test_translate_and_block_ranges),
        cmocka_unit_test(test_msg_set),
        cmocka_unit_test(test_component_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
