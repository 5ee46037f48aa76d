/*
 * case.c - building, serialising and parsing oracle test cases (see case.h for the format).
 * Trusts nothing it parses: every number is range-checked and every buffer bounded.
 */
#include "tests/oracle/case.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tests/oracle/rng.h"

void oc_init(struct oracle_case *c, const char *cls)
{
    memset(c, 0, sizeof *c);
    snprintf(c->cls, sizeof c->cls, "%s", cls);
}

int oc_emit(struct oracle_case *c, const uint8_t *bytes, size_t n)
{
    if (n > OC_CODE_MAX - c->code_len || c->code_off + c->code_len + n > ORN_CODE_SIZE)
        return -E2BIG;
    memcpy(c->code + c->code_len, bytes, n);
    c->code_len += (uint32_t)n;
    return 0;
}

int oc_patch(struct oracle_case *c, uint32_t addr, const void *bytes, size_t n)
{
    if (addr < ORN_DATA_BASE || addr - ORN_DATA_BASE > ORN_DATA_SIZE || n > ORN_DATA_SIZE ||
        addr - ORN_DATA_BASE + n > ORN_DATA_SIZE)
        return -EINVAL;
    while (n) {
        if (c->npatch >= OC_PATCH_MAX)
            return -E2BIG;
        size_t chunk = n > OC_PATCH_BYTES ? OC_PATCH_BYTES : n;
        struct oc_patch *p = &c->patch[c->npatch++];
        p->addr = addr;
        p->len = (uint32_t)chunk;
        memcpy(p->bytes, bytes, chunk);
        addr += (uint32_t)chunk;
        bytes = (const uint8_t *)bytes + chunk;
        n -= chunk;
    }
    return 0;
}

void oc_fill_data(uint64_t seed, uint8_t data[ORN_DATA_SIZE])
{
    struct rng r = { seed ^ 0x6F7261636C650000ull };
    for (uint32_t i = 0; i < ORN_DATA_SIZE; i += 8) {
        uint64_t v = rng_next(&r);
        /* Runs of zero and all-ones bytes make equal/unequal string compares and sign
         * boundaries common. */
        switch (v & 15) {
        case 0: v = 0; break;
        case 1: v = ~0ull; break;
        default: break;
        }
        memcpy(data + i, &v, 8);
    }
}

void oc_build_data(const struct oracle_case *c, uint8_t data[ORN_DATA_SIZE])
{
    oc_fill_data(c->seed, data);
    for (uint32_t i = 0; i < c->npatch && i < OC_PATCH_MAX; i++) {
        const struct oc_patch *p = &c->patch[i];
        if (p->addr >= ORN_DATA_BASE && p->len <= OC_PATCH_BYTES &&
            p->addr - ORN_DATA_BASE + p->len <= ORN_DATA_SIZE)
            memcpy(data + (p->addr - ORN_DATA_BASE), p->bytes, p->len);
    }
}

void oc_build_code(const struct oracle_case *c, uint8_t page[ORN_CODE_SIZE])
{
    memset(page, 0xCC, ORN_CODE_SIZE);
    if (c->code_off < ORN_CODE_SIZE && c->code_len <= OC_CODE_MAX &&
        c->code_off + c->code_len <= ORN_CODE_SIZE)
        memcpy(page + c->code_off, c->code, c->code_len);
}

void oc_to_native(const struct oracle_case *c, struct orn_in *in)
{
    memcpy(in->regs, c->regs, sizeof in->regs);
    in->eflags = c->eflags;
    in->entry = ORN_CODE_BASE + (c->code_off % ORN_CODE_SIZE);
    in->flags = (c->flags & OC_F_X87) ? ORN_IN_X87 : 0;
    memcpy(in->sel, c->sel, sizeof in->sel);
    memcpy(in->ldt, c->ldt, sizeof in->ldt);
    oc_build_code(c, in->code);
    oc_build_data(c, in->data);
}

static void put_hex(FILE *f, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, " %02x", b[i]);
}

int oc_write_text(FILE *f, const struct oracle_case *c, const char *comment)
{
    if (comment) {
        const char *s = comment;
        while (*s) {
            const char *nl = strchr(s, '\n');
            size_t n = nl ? (size_t)(nl - s) : strlen(s);
            fprintf(f, "# %.*s\n", (int)n, s);
            s += n + (nl ? 1 : 0);
        }
    }
    fprintf(f, "case %s\n", c->cls);
    fprintf(f, "code_off 0x%x\ncode", c->code_off);
    put_hex(f, c->code, c->code_len);
    fprintf(f, "\nregs");
    for (int i = 0; i < 8; i++)
        fprintf(f, " 0x%08x", c->regs[i]);
    fprintf(f, "\neflags 0x%x\nseed 0x%llx\n", c->eflags, (unsigned long long)c->seed);
    for (uint32_t i = 0; i < c->npatch; i++) {
        fprintf(f, "patch 0x%x", c->patch[i].addr);
        put_hex(f, c->patch[i].bytes, c->patch[i].len);
        fprintf(f, "\n");
    }
    fprintf(f, "sel");
    for (int i = 0; i < ORN_NSEG; i++)
        fprintf(f, " 0x%x", c->sel[i]);
    fprintf(f, "\n");
    for (unsigned i = 0; i < ORN_LDT_ENTRIES; i++) {
        const struct orn_desc *d = &c->ldt[i];
        if (!d->present)
            continue;
        fprintf(f, "ldt %u 0x%x 0x%x %u %u %u %u %u %u %u\n", i, d->base, d->limit, d->present,
                d->seg_32bit, d->contents, d->read_exec_only, d->limit_in_pages, d->useable, d->not_present);
    }
    fprintf(f, "undef 0x%x\nflags 0x%x\n", c->undef, c->flags);
    for (int i = 0; i < 8; i++)
        if (c->reg_ignore[i])
            fprintf(f, "ignore %d 0x%x\n", i, c->reg_ignore[i]);
    fprintf(f, "end\n");
    return ferror(f) ? -EIO : 0;
}

/* ---- parsing ---- */

struct cursor {
    const char *p, *end;
};

static void skip_blank(struct cursor *k)
{
    while (k->p < k->end && (*k->p == ' ' || *k->p == '\t' || *k->p == '\r'))
        k->p++;
}

static bool at_eol(struct cursor *k)
{
    skip_blank(k);
    return k->p >= k->end;
}

/* One number token: decimal or 0x-hex, at most 64 bits. */
static int get_num(struct cursor *k, uint64_t max, uint64_t *out)
{
    skip_blank(k);
    char tok[32];
    size_t n = 0;
    while (k->p < k->end && !isspace((unsigned char)*k->p)) {
        if (n + 1 >= sizeof tok)
            return -1;
        tok[n++] = *k->p++;
    }
    tok[n] = 0;
    if (n == 0)
        return -1;
    char *e;
    errno = 0;
    unsigned long long v = strtoull(tok, &e, 0);
    if (*e || errno || tok[0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

static int get_hexbytes(struct cursor *k, uint8_t *buf, size_t cap, uint32_t *len)
{
    size_t n = 0;
    while (!at_eol(k)) {
        if (k->end - k->p < 2 || !isxdigit((unsigned char)k->p[0]) || !isxdigit((unsigned char)k->p[1]) ||
            (k->end - k->p > 2 && !isspace((unsigned char)k->p[2])))
            return -1;
        if (n >= cap)
            return -1;
        char t[3] = { k->p[0], k->p[1], 0 };
        buf[n++] = (uint8_t)strtoul(t, NULL, 16);
        k->p += 2;
    }
    *len = (uint32_t)n;
    return 0;
}

static int fail(char *err, size_t errlen, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(err, errlen, "line %u: ", line);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int oc_parse_text(const char *text, size_t len, size_t *pos, unsigned *line, struct oracle_case *c,
                  char *err, size_t errlen)
{
    bool in_case = false;
    while (*pos < len) {
        const char *start = text + *pos;
        const char *nl = memchr(start, '\n', len - *pos);
        const char *stop = nl ? nl : text + len;
        *pos = (size_t)(stop - text) + (nl ? 1 : 0);
        (*line)++;
        struct cursor k = { start, stop };
        skip_blank(&k);
        if (k.p >= k.end || *k.p == '#')
            continue;
        char key[16];
        size_t kn = 0;
        while (k.p < k.end && !isspace((unsigned char)*k.p)) {
            if (kn + 1 >= sizeof key)
                return fail(err, errlen, *line, "unknown keyword");
            key[kn++] = *k.p++;
        }
        key[kn] = 0;
        uint64_t v;
        if (!in_case) {
            if (strcmp(key, "case") != 0)
                return fail(err, errlen, *line, "expected 'case'");
            skip_blank(&k);
            size_t n = (size_t)(k.end - k.p);
            if (n == 0 || n >= OC_NAME_MAX)
                return fail(err, errlen, *line, "bad class name");
            char name[OC_NAME_MAX];
            memcpy(name, k.p, n);
            name[n] = 0;
            oc_init(c, name);
            in_case = true;
            continue;
        }
        if (strcmp(key, "end") == 0)
            return 1;
        if (strcmp(key, "code_off") == 0) {
            if (get_num(&k, ORN_CODE_SIZE - 1, &v))
                return fail(err, errlen, *line, "bad code_off");
            c->code_off = (uint32_t)v;
        } else if (strcmp(key, "code") == 0) {
            if (get_hexbytes(&k, c->code, OC_CODE_MAX, &c->code_len) ||
                c->code_off + c->code_len > ORN_CODE_SIZE)
                return fail(err, errlen, *line, "bad code bytes");
        } else if (strcmp(key, "regs") == 0) {
            for (int i = 0; i < 8; i++) {
                if (get_num(&k, 0xFFFFFFFFu, &v))
                    return fail(err, errlen, *line, "regs needs 8 numbers");
                c->regs[i] = (uint32_t)v;
            }
        } else if (strcmp(key, "eflags") == 0) {
            if (get_num(&k, 0xFFFFFFFFu, &v))
                return fail(err, errlen, *line, "bad eflags");
            c->eflags = (uint32_t)v;
        } else if (strcmp(key, "seed") == 0) {
            if (get_num(&k, UINT64_MAX, &v))
                return fail(err, errlen, *line, "bad seed");
            c->seed = v;
        } else if (strcmp(key, "patch") == 0) {
            uint8_t b[OC_PATCH_BYTES];
            uint32_t n;
            if (get_num(&k, 0xFFFFFFFFu, &v) || get_hexbytes(&k, b, sizeof b, &n) ||
                oc_patch(c, (uint32_t)v, b, n) != 0)
                return fail(err, errlen, *line, "bad patch");
        } else if (strcmp(key, "sel") == 0) {
            for (int i = 0; i < ORN_NSEG; i++) {
                if (get_num(&k, 0xFFFF, &v))
                    return fail(err, errlen, *line, "sel needs 6 numbers");
                c->sel[i] = (uint16_t)v;
            }
        } else if (strcmp(key, "ldt") == 0) {
            uint64_t f[10];
            static const uint64_t max[10] = { ORN_LDT_ENTRIES - 1, 0xFFFFFFFFu, 0xFFFFF, 1, 1, 2, 1, 1, 1, 1 };
            for (int i = 0; i < 10; i++)
                if (get_num(&k, max[i], &f[i]))
                    return fail(err, errlen, *line, "bad ldt line");
            struct orn_desc *d = &c->ldt[f[0]];
            d->base = (uint32_t)f[1];
            d->limit = (uint32_t)f[2];
            d->present = (uint8_t)f[3];
            d->seg_32bit = (uint8_t)f[4];
            d->contents = (uint8_t)f[5];
            d->read_exec_only = (uint8_t)f[6];
            d->limit_in_pages = (uint8_t)f[7];
            d->useable = (uint8_t)f[8];
            d->not_present = (uint8_t)f[9];
        } else if (strcmp(key, "undef") == 0) {
            if (get_num(&k, 0xFFFFFFFFu, &v))
                return fail(err, errlen, *line, "bad undef");
            c->undef = (uint32_t)v;
        } else if (strcmp(key, "flags") == 0) {
            if (get_num(&k, 0xFFFFFFFFu, &v) || (v & ~(uint64_t)OC_F_ALL))
                return fail(err, errlen, *line, "bad flags");
            c->flags = (uint32_t)v;
        } else if (strcmp(key, "ignore") == 0) {
            uint64_t reg;
            if (get_num(&k, 7, &reg) || get_num(&k, 0xFFFFFFFFu, &v))
                return fail(err, errlen, *line, "bad ignore");
            c->reg_ignore[reg] = (uint32_t)v;
        } else {
            return fail(err, errlen, *line, "unknown keyword '%s'", key);
        }
        if (!at_eol(&k))
            return fail(err, errlen, *line, "trailing text");
    }
    if (in_case)
        return fail(err, errlen, *line, "case without 'end'");
    return 0;
}
