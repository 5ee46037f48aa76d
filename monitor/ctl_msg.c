/*
 * ctl_msg.c - see ctl_msg.h. The rules: a HELLO only from a component that was started and
 * has not greeted yet, naming its own kind; LINKS only from the vCPU; LOG text and CONSOLE
 * bytes exactly as long as their counts, which msg_check bounds.
 */
#include "monitor/ctl_msg.h"

#include <stdio.h>
#include <string.h>

void ctl_interpret(const struct msg *m, enum component_kind from, bool hello_expected,
                   struct ctl_action *out)
{
    memset(out, 0, sizeof *out);
    if (msg_check(m, CHAN_CTL, DIR_RSP) < 0) {
        out->kind = CTL_ACT_HOSTILE;
        out->why = "malformed control message";
        return;
    }
    switch (m->type) {
    case MSG_CTL_HELLO: {
        const struct msg_hello *h = (const void *)m->payload;
        if (h->kind != (uint32_t)from || !hello_expected) {
            out->kind = CTL_ACT_HOSTILE;
            out->why = "unexpected HELLO";
        } else {
            out->kind = CTL_ACT_HELLO;
        }
        break;
    }
    case MSG_CTL_LOG: {
        const struct msg_log *l = (const void *)m->payload;
        out->kind = CTL_ACT_LOG;
        out->level = l->level;
        out->data = (const uint8_t *)l->text;
        out->len = l->n;
        break;
    }
    case MSG_CTL_CONSOLE_OUT: {
        const struct msg_bytes *b = (const void *)m->payload;
        out->kind = CTL_ACT_CONSOLE;
        out->data = b->data;
        out->len = b->n;
        break;
    }
    case MSG_CTL_LINKS: {
        const struct msg_links *l = (const void *)m->payload;
        if (from != COMP_VCPU)
            break;
        out->kind = CTL_ACT_LINKS_UP;
        out->peers = l->peers;
        out->worst_rtt_ns = l->worst_rtt_ns;
        break;
    }
    case MSG_CTL_VM_STOP: {
        const struct msg_stop *s = (const void *)m->payload;
        out->kind = CTL_ACT_VM_STOP;
        out->why = s->reason == STOP_GUEST_RESET ? "guest reset" : "guest stopped";
        out->status = s->reason == STOP_INTERNAL ? 1 : 0;
        break;
    }
    default:
        break; /* PONG: liveness only */
    }
}

size_t ctl_format_log(char *buf, size_t cap, enum component_kind from, const struct ctl_action *a)
{
    int n = snprintf(buf, cap, "cloister: [%s] %.*s\n", component_name(from), (int)a->len,
                     (const char *)a->data);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
