/*
 * msg.c - the message table's checks. Payload contents that need more than a length check
 * (printable text, byte counts, port sizes) are checked here too, so that every handler on
 * either side of every channel starts from a message that is at least well-formed.
 */
#include "ipc/msg.h"

#include <errno.h>
#include <string.h>

struct msg_rule {
    const char *name;
    uint8_t chan;
    uint8_t dir;
    uint16_t size;
};

static const struct msg_rule rules[MSG_TYPE_COUNT] = {
    [MSG_NONE] = {"NONE", CHAN_KIND_COUNT, 0, 0},
#define MSG_RULE(n, c, d, s) [MSG_##n] = {#n, c, d, (uint16_t)(s)},
    MSG_TYPES(MSG_RULE)
#undef MSG_RULE
};

static const char *const comp_names[COMP_KIND_COUNT] = {
    [COMP_VCPU] = "vcpu",
    [COMP_TRANSLATOR] = "translator",
    [COMP_MMU] = "mmu",
    [COMP_DEV_SERIAL] = "dev-serial",
};

static int text_ok(const char *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x20 || (unsigned char)t[i] > 0x7e)
            return 0;
    return 1;
}

static int payload_ok(const struct msg *m)
{
    switch (m->type) {
    case MSG_CTL_LOG: {
        const struct msg_log *l = (const void *)m->payload;
        return l->level <= 2 && l->n <= sizeof l->text && text_ok(l->text, l->n);
    }
    case MSG_CTL_CONSOLE_OUT:
    case MSG_CTL_CONSOLE_IN: {
        const struct msg_bytes *b = (const void *)m->payload;
        return b->n >= 1 && b->n <= sizeof b->data;
    }
    case MSG_CTL_HELLO: {
        const struct msg_hello *h = (const void *)m->payload;
        return h->kind < COMP_KIND_COUNT && h->version == CLOISTER_IPC_VERSION;
    }
    case MSG_CTL_VM_STOP: {
        const struct msg_stop *s = (const void *)m->payload;
        return s->reason >= STOP_GUEST_HALT && s->reason <= STOP_INTERNAL;
    }
    case MSG_CTL_SELFTEST: {
        const struct msg_selftest *t = (const void *)m->payload;
        return t->what >= SELFTEST_OPENAT && t->what < SELFTEST_COUNT;
    }
    case MSG_CTL_BOOT: {
        const struct msg_boot *b = (const void *)m->payload;
        if (b->mode == BOOT_FLAT32)
            return 1;
        return b->mode == BOOT_LINUX32 && b->gdt_limit >= BOOT_LINUX32_DS + 7 &&
               b->gdt_limit <= 0xFFFF && b->gdt_base <= UINT32_MAX - b->gdt_limit;
    }
    case MSG_XL_TRANSLATE: {
        const struct msg_translate *t = (const void *)m->payload;
        return t->limit >= 1 && t->limit <= 8192 && t->mode <= 3;
    }
    case MSG_XL_BLOCK: {
        const struct msg_block *b = (const void *)m->payload;
        return b->status <= 2;
    }
    case MSG_DEV_PIO_WRITE:
    case MSG_DEV_PIO_READ:
    case MSG_DEV_PIO_DATA: {
        const struct msg_pio *p = (const void *)m->payload;
        return p->size == 1 || p->size == 2 || p->size == 4;
    }
    default:
        return 1;
    }
}

int msg_check(const struct msg *m, enum chan_kind kind, enum msg_dir dir)
{
    if (m->type == MSG_NONE || m->type >= MSG_TYPE_COUNT)
        return -EPROTO;
    const struct msg_rule *r = &rules[m->type];
    if (r->chan != kind || r->dir != dir || m->len != r->size)
        return -EPROTO;
    return payload_ok(m) ? 0 : -EPROTO;
}

void msg_set(struct msg *m, enum msg_type type, const void *payload, size_t len)
{
    if (len > MSG_PAYLOAD_MAX)
        len = MSG_PAYLOAD_MAX;
    m->type = (uint16_t)type;
    m->len = (uint16_t)len;
    memset(m->payload, 0, sizeof m->payload);
    if (len)
        memcpy(m->payload, payload, len);
}

const char *msg_type_name(unsigned type)
{
    return type < MSG_TYPE_COUNT ? rules[type].name : "?";
}

const char *component_name(unsigned kind)
{
    return kind < COMP_KIND_COUNT ? comp_names[kind] : "?";
}

int component_by_name(const char *name)
{
    for (unsigned i = 0; i < COMP_KIND_COUNT; i++)
        if (strcmp(comp_names[i], name) == 0)
            return (int)i;
    return -1;
}
