/*
 * results.c - the result-line parser (see results.h).
 */
#include "tests/sysoracle/results.h"

#include <stdio.h>
#include <string.h>

#define LINE_MAX_LEN 4096

static bool parse_hex(const char **p, const char *end, uint32_t *out)
{
    const char *s = *p;
    while (s < end && *s == ' ')
        s++;
    uint64_t v = 0;
    int digits = 0;
    while (s < end) {
        char c = *s;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            break;
        v = v << 4 | (unsigned)d;
        if (++digits > 8)
            return false;
        s++;
    }
    if (!digits || (s < end && *s != ' ' && *s != '\r'))
        return false;
    *out = (uint32_t)v;
    *p = s;
    return true;
}

static bool at_end(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\r'))
        p++;
    return p == end;
}

static void parse_line(const char *s, const char *end, struct so_result *res, uint32_t n, struct so_parsed *p)
{
    if (end - s < 5)
        goto bad;
    char kind = s[4];
    const char *q = s + 5;
    if (kind == 'I') {
        if (!parse_hex(&q, end, &p->cpuid_eax) || !parse_hex(&q, end, &p->cpuid_edx) || !at_end(q, end))
            goto bad;
        p->have_info = true;
        return;
    }
    if (kind == 'B') {
        if (!parse_hex(&q, end, &p->begin_ncases) || !parse_hex(&q, end, &p->begin_first) || !at_end(q, end))
            goto bad;
        p->have_begin = true;
        return;
    }
    if (kind == 'E') {
        if (!parse_hex(&q, end, &p->end_count) || !at_end(q, end))
            goto bad;
        p->have_end = true;
        return;
    }
    if (kind != 'R')
        goto bad;
    struct so_result r;
    memset(&r, 0, sizeof r);
    uint32_t id;
    if (!parse_hex(&q, end, &id) || id >= n)
        goto bad;
    for (unsigned i = 0; i < SO_NFIELDS; i++)
        if (!parse_hex(&q, end, &r.f[i]))
            goto bad;
    if (!parse_hex(&q, end, &r.ndump) || r.ndump > SO_MAX_DUMP)
        goto bad;
    for (uint32_t i = 0; i < r.ndump; i++)
        if (!parse_hex(&q, end, &r.dump[i]))
            goto bad;
    if (!at_end(q, end))
        goto bad;
    r.present = true;
    if (res[id].present) {
        p->duplicates++;
        return;
    }
    res[id] = r;
    p->results++;
    p->last_id = id;
    return;
bad:
    p->malformed++;
}

void so_parse(const char *text, size_t len, struct so_result *res, uint32_t n, struct so_parsed *p)
{
    memset(p, 0, sizeof *p);
    const char *end = text + len;
    const char *s = text;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        /* the marker may follow firmware output on the same line */
        const char *m = NULL;
        for (const char *t = s; t + 4 <= le; t++)
            if (t[0] == '@' && t[1] == 'S' && t[2] == 'O' && t[3] == ' ') {
                m = t;
                break;
            }
        if (m) {
            if (le - m > LINE_MAX_LEN)
                p->malformed++;
            else
                parse_line(m, le, res, n, p);
        }
        s = nl ? nl + 1 : end;
    }
}

const char *so_field_name(unsigned field, char *buf, size_t buflen)
{
    static const char *const names[SO_NFIELDS] = {
        [SO_F_VEC] = "vector", [SO_F_ESP] = "handler ESP", [SO_F_SS] = "handler SS",
        [SO_F_EAX] = "EAX", [SO_F_ECX] = "ECX", [SO_F_EDX] = "EDX", [SO_F_EBX] = "EBX",
        [SO_F_EBP] = "EBP", [SO_F_ESI] = "ESI", [SO_F_EDI] = "EDI", [SO_F_EFLAGS] = "handler EFLAGS",
        [SO_F_CS] = "handler CS", [SO_F_DS] = "DS", [SO_F_ES] = "ES", [SO_F_FS] = "FS", [SO_F_GS] = "GS",
        [SO_F_CR0] = "CR0", [SO_F_CR2] = "CR2", [SO_F_CR3] = "CR3", [SO_F_CR4] = "CR4",
        [SO_F_LDTR] = "LDTR", [SO_F_TR] = "TR"};
    if (field >= SO_F_FRAME && field < SO_F_FRAME + SO_NFRAME)
        snprintf(buf, buflen, "stack[+%u]", (field - SO_F_FRAME) * 4);
    else if (field < SO_NFIELDS && names[field])
        snprintf(buf, buflen, "%s", names[field]);
    else
        snprintf(buf, buflen, "field %u", field);
    return buf;
}
