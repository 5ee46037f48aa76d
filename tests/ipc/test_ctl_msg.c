/*
 * test_ctl_msg.c - the monitor's interpretation of control messages from components
 * (monitor/ctl_msg.c): one case per message type and sender situation, including every way a
 * compromised component can try to confuse the monitor, and the exact line printed for a log.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/ctl_msg.h"

static struct msg hello(uint32_t kind)
{
    struct msg m;
    struct msg_hello h = {kind, CLOISTER_IPC_VERSION, 2, 0};
    msg_set(&m, MSG_CTL_HELLO, &h, sizeof h);
    return m;
}

static struct msg log_msg(uint8_t level, const char *text)
{
    struct msg m;
    struct msg_log l;
    memset(&l, 0, sizeof l);
    l.level = level;
    l.n = (uint8_t)strlen(text);
    memcpy(l.text, text, l.n);
    msg_set(&m, MSG_CTL_LOG, &l, sizeof l);
    return m;
}

static void test_hello(void **state)
{
    (void)state;
    struct ctl_action a;
    struct msg m = hello(COMP_MMU);
    ctl_interpret(&m, COMP_MMU, true, &a);
    assert_int_equal(a.kind, CTL_ACT_HELLO);
    /* A second greeting, or one naming another component, is hostile. */
    ctl_interpret(&m, COMP_MMU, false, &a);
    assert_int_equal(a.kind, CTL_ACT_HOSTILE);
    assert_string_equal(a.why, "unexpected HELLO");
    ctl_interpret(&m, COMP_VCPU, true, &a);
    assert_int_equal(a.kind, CTL_ACT_HOSTILE);
    m = hello(COMP_KIND_COUNT);
    ctl_interpret(&m, COMP_VCPU, true, &a);
    assert_int_equal(a.kind, CTL_ACT_HOSTILE);
    assert_string_equal(a.why, "malformed control message");
}

static void test_log(void **state)
{
    (void)state;
    struct ctl_action a;
    struct msg m = log_msg(1, "cache warm");
    ctl_interpret(&m, COMP_TRANSLATOR, false, &a);
    assert_int_equal(a.kind, CTL_ACT_LOG);
    assert_int_equal(a.level, 1);
    assert_int_equal(a.len, 10);
    /* The text is referenced inside the caller's message, not copied elsewhere. */
    assert_ptr_equal(a.data, m.payload + offsetof(struct msg_log, text));
    char line[128];
    size_t n = ctl_format_log(line, sizeof line, COMP_TRANSLATOR, &a);
    assert_string_equal(line, "cloister: [translator] cache warm\n");
    assert_int_equal(n, strlen(line));
    /* Truncation keeps a terminated prefix. */
    char small[12];
    n = ctl_format_log(small, sizeof small, COMP_TRANSLATOR, &a);
    assert_int_equal(n, sizeof small - 1);
    assert_string_equal(small, "cloister: [");
    /* Empty and full-length lines. */
    m = log_msg(0, "");
    ctl_interpret(&m, COMP_VCPU, false, &a);
    assert_int_equal(a.kind, CTL_ACT_LOG);
    n = ctl_format_log(line, sizeof line, COMP_VCPU, &a);
    assert_string_equal(line, "cloister: [vcpu] \n");
    char full[53];
    memset(full, 'w', 52);
    full[52] = '\0';
    m = log_msg(2, full);
    ctl_interpret(&m, COMP_DEV_SERIAL, false, &a);
    n = ctl_format_log(line, sizeof line, COMP_DEV_SERIAL, &a);
    assert_int_equal(n, strlen("cloister: [dev-serial] ") + 52 + 1);
    /* Control characters, an escape sequence, and a count past the text are refused. */
    m = log_msg(0, "\x1b[2J");
    ctl_interpret(&m, COMP_VCPU, false, &a);
    assert_int_equal(a.kind, CTL_ACT_HOSTILE);
    m = log_msg(0, "ok");
    ((struct msg_log *)m.payload)->n = 53;
    ctl_interpret(&m, COMP_VCPU, false, &a);
    assert_int_equal(a.kind, CTL_ACT_HOSTILE);
}

static void test_console(void **state)
{
    (void)state;
    struct ctl_action a;
    struct msg m;
    struct msg_bytes b = {.n = 3, .data = {'a', 0, 0x1b}};
    msg_set(&m, MSG_CTL_CONSOLE_OUT, &b, sizeof b);
    ctl_interpret(&m, COMP_DEV_SERIAL, false, &a);
    assert_int_equal(a.kind, CTL_ACT_CONSOLE);
    assert_int_equal(a.len, 3);
    assert_ptr_equal(a.data, m.payload + offsetof(struct msg_bytes, data));
    b.n = 0;
    msg_set(&m, MSG_CTL_CONSOLE_OUT, &b, sizeof b);
    ctl_interpret(&m, COMP_DEV_SERIAL, false, &a);
    assert_int_equal(a.kind, CTL_ACT_HOSTILE);
    /* Console input travels the other way: a component may not send it. */
    b.n = 1;
    msg_set(&m, MSG_CTL_CONSOLE_IN, &b, sizeof b);
    ctl_interpret(&m, COMP_DEV_SERIAL, false, &a);
    assert_int_equal(a.kind, CTL_ACT_HOSTILE);
}

static void test_links_only_from_vcpu(void **state)
{
    (void)state;
    struct ctl_action a;
    struct msg m;
    struct msg_links l = {3, 4321, {0, 0}};
    msg_set(&m, MSG_CTL_LINKS, &l, sizeof l);
    ctl_interpret(&m, COMP_VCPU, false, &a);
    assert_int_equal(a.kind, CTL_ACT_LINKS_UP);
    assert_int_equal(a.peers, 3);
    assert_int_equal(a.worst_rtt_ns, 4321);
    for (unsigned k = COMP_TRANSLATOR; k < COMP_KIND_COUNT; k++) {
        ctl_interpret(&m, (enum component_kind)k, false, &a);
        assert_int_equal(a.kind, CTL_ACT_NONE);
    }
}

static void test_vm_stop(void **state)
{
    (void)state;
    const struct {
        uint32_t reason;
        const char *why;
        int status;
    } cases[] = {{STOP_GUEST_HALT, "guest stopped", 0}, {STOP_GUEST_RESET, "guest reset", 0},
                 {STOP_DONE, "guest stopped", 0}, {STOP_INTERNAL, "guest stopped", 1}};
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ctl_action a;
        struct msg m;
        struct msg_stop s = {cases[i].reason, 0};
        msg_set(&m, MSG_CTL_VM_STOP, &s, sizeof s);
        ctl_interpret(&m, COMP_VCPU, false, &a);
        assert_int_equal(a.kind, CTL_ACT_VM_STOP);
        assert_string_equal(a.why, cases[i].why);
        assert_int_equal(a.status, cases[i].status);
    }
}

static void test_everything_else(void **state)
{
    (void)state;
    struct ctl_action a;
    struct msg m;
    struct msg_ping p = {42};
    msg_set(&m, MSG_CTL_PONG, &p, sizeof p);
    ctl_interpret(&m, COMP_MMU, false, &a);
    assert_int_equal(a.kind, CTL_ACT_NONE);
    /* Monitor-to-component types, other channels' types and nonsense are all hostile. */
    const uint16_t bad[] = {MSG_NONE, MSG_CTL_START, MSG_CTL_STOP, MSG_CTL_PING, MSG_CTL_SELFTEST,
                            MSG_CTL_BOOT, MSG_XL_PONG, MSG_DEV_PIO_DATA, MSG_TYPE_COUNT, 0xFFFF};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&m, 0, sizeof m);
        m.type = bad[i];
        m.len = 8;
        ctl_interpret(&m, COMP_VCPU, true, &a);
        assert_int_equal(a.kind, CTL_ACT_HOSTILE);
        assert_null(a.data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_links_only_from_vcpu),
        cmocka_unit_test(test_vm_stop),
        cmocka_unit_test(test_everything_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
