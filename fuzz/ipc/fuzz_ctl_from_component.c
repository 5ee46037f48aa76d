/*
 * fuzz_ctl_from_component.c - control messages from a compromised component to the monitor.
 * Each input record is a raw message slot plus the sender; it goes through msg_check (CHAN_CTL,
 * DIR_RSP), as the channel would, and then through the monitor's own interpretation
 * (monitor/ctl_msg.c, the function the supervisor calls) and the monitor's formatting of it:
 * the LOG line it prints and the console bytes it writes. The invariants: anything msg_check
 * refuses is hostile; a component greets once and only as itself; only the vCPU reports links;
 * text and bytes handed on lie inside the message (an exactly sized heap copy, so ASan sees any
 * overrun) and what reaches the monitor's stderr is printable.
 *
 * Input: records of [sender][64-byte slot].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/ipc/fuzz_input.h"
#include "monitor/ctl_msg.h"

static void check_inside(const struct msg *m, const uint8_t *p, size_t len)
{
    const uint8_t *lo = m->payload, *hi = m->payload + MSG_PAYLOAD_MAX;
    if (len && (p < lo || p + len > hi))
        abort();
}

static void check_log_line(const struct msg *m, enum component_kind from, const struct ctl_action *a)
{
    char line[128], tiny[16], expect[128];
    size_t n = ctl_format_log(line, sizeof line, from, a);
    if (n >= sizeof line || strlen(line) != n || n == 0 || line[n - 1] != '\n')
        abort(); /* a full line always fits */
    for (size_t i = 0; i + 1 < n; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
            abort(); /* nothing but printable text reaches the terminal */
    /* The text is the message's own bytes, verbatim. */
    const struct msg_log *l = (const void *)m->payload;
    size_t e = (size_t)snprintf(expect, sizeof expect, "cloister: [%s] ", component_name(from));
    memcpy(expect + e, l->text, l->n);
    expect[e + l->n] = '\n';
    expect[e + l->n + 1] = '\0';
    if (strcmp(line, expect) != 0)
        abort();
    size_t t = ctl_format_log(tiny, sizeof tiny, from, a);
    if (t != sizeof tiny - 1 || strlen(tiny) != t || memcmp(tiny, line, t) != 0)
        abort(); /* truncation keeps a prefix and the terminator */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    bool greeted[COMP_KIND_COUNT] = {false};
    while (in.left) {
        enum component_kind from = (enum component_kind)(fuzz_u8(&in) % COMP_KIND_COUNT);
        struct msg *m = malloc(sizeof *m);
        if (!m)
            abort();
        fuzz_take(&in, m, sizeof *m);
        bool valid = msg_check(m, CHAN_CTL, DIR_RSP) == 0;
        struct ctl_action a;
        ctl_interpret(m, from, !greeted[from], &a);
        check_inside(m, a.data, a.len);
        if (!valid) {
            if (a.kind != CTL_ACT_HOSTILE || !a.why)
                abort();
            free(m);
            continue;
        }
        switch (a.kind) {
        case CTL_ACT_HOSTILE:
            /* A well-formed message is hostile only as a HELLO out of place. */
            if (m->type != MSG_CTL_HELLO || !a.why)
                abort();
            if (!greeted[from] && ((const struct msg_hello *)m->payload)->kind == (uint32_t)from)
                abort();
            break;
        case CTL_ACT_HELLO:
            if (m->type != MSG_CTL_HELLO || greeted[from])
                abort();
            greeted[from] = true;
            break;
        case CTL_ACT_LOG:
            if (m->type != MSG_CTL_LOG || a.level > 2 || a.len > 52)
                abort();
            check_log_line(m, from, &a);
            break;
        case CTL_ACT_CONSOLE: {
            uint8_t console[52];
            if (m->type != MSG_CTL_CONSOLE_OUT || a.len < 1 || a.len > sizeof console)
                abort();
            memcpy(console, a.data, a.len); /* what the monitor writes to its stdout */
            break;
        }
        case CTL_ACT_LINKS_UP:
            if (m->type != MSG_CTL_LINKS || from != COMP_VCPU)
                abort();
            break;
        case CTL_ACT_VM_STOP:
            if (m->type != MSG_CTL_VM_STOP || !a.why || (a.status != 0 && a.status != 1))
                abort();
            break;
        case CTL_ACT_NONE:
            /* Liveness, or links reported by someone other than the vCPU. */
            if (m->type != MSG_CTL_PONG && !(m->type == MSG_CTL_LINKS && from != COMP_VCPU))
                abort();
            break;
        default:
            abort();
        }
        free(m);
    }
    return 0;
}
