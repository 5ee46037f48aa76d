/*
 * casefile.c - the regression text format (see casefile.h).
 */
#include "tests/sysoracle/casefile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct key {
    const char *name;
    size_t off;   /* in struct sc */
    unsigned size;
};

#define K(n, field, sz) {n, offsetof(struct sc, field), sz}
static const struct key keys[] = {
    K("cr0", c.cr0, 4), K("cr3", c.cr3, 4), K("cr4", c.cr4, 4), K("eflags", c.eflags, 4),
    K("eip", c.eip, 4), K("eax", c.gpr[0], 4), K("ecx", c.gpr[1], 4), K("edx", c.gpr[2], 4),
    K("ebx", c.gpr[3], 4), K("esp", c.gpr[4], 4), K("ebp", c.gpr[5], 4), K("esi", c.gpr[6], 4),
    K("edi", c.gpr[7], 4), K("cs", c.cs, 2), K("ss", c.ss, 2), K("ds", c.ds, 2), K("es", c.es, 2),
    K("fs", c.fs, 2), K("gs", c.gs, 2), K("ldtr", c.ldtr, 2), K("tr", c.tr, 2),
    K("gdt_limit", c.gdt_limit, 2), K("idt_limit", c.idt_limit, 2), K("sysenter_cs", c.sysenter_cs, 4),
    K("sysenter_esp", c.sysenter_esp, 4), K("sysenter_eip", c.sysenter_eip, 4), K("tags", tags, 4),
    K("tag0", tagval[0], 4), K("tag1", tagval[1], 4), K("tag2", tagval[2], 4), K("tag3", tagval[3], 4),
    K("tag4", tagval[4], 4), K("tag5", tagval[5], 4), K("tag6", tagval[6], 4), K("tag7", tagval[7], 4),
};
#undef K

static uint32_t get_key(const struct sc *s, const struct key *k)
{
    const uint8_t *p = (const uint8_t *)s + k->off;
    if (k->size == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void set_key(struct sc *s, const struct key *k, uint32_t v)
{
    uint8_t *p = (uint8_t *)s + k->off;
    if (k->size == 2) {
        uint16_t w = (uint16_t)v;
        memcpy(p, &w, 2);
    } else {
        memcpy(p, &v, 4);
    }
}

int casefile_write(FILE *f, const struct sc *s, const char *comment)
{
    if (comment && *comment) {
        const char *p = comment;
        while (*p) {
            size_t n = strcspn(p, "\n");
            fprintf(f, "# %.*s\n", (int)n, p);
            p += n;
            if (*p)
                p++;
        }
    }
    char desc[SC_DESC_MAX];
    snprintf(desc, sizeof desc, "%s", s->desc);
    for (char *q = desc; *q; q++)
        if (*q == '\n' || *q == '\r')
            *q = ' ';
    fprintf(f, "case %s %s\nstate", s->cls[0] ? s->cls : "-", desc);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        fprintf(f, " %s=%x", keys[i].name, get_key(s, &keys[i]));
    fprintf(f, "\n");
    for (uint32_t i = 0; i < s->c.ndump; i += 8) {
        fprintf(f, "dump");
        for (uint32_t j = i; j < i + 8 && j < s->c.ndump; j++)
            fprintf(f, " %x", s->c.dump[j]);
        fprintf(f, "\n");
    }
    struct sc_op_view v;
    for (size_t i = 0; sc_op_get(s, i, &v); i++) {
        if (v.kind == SO_OP_COPY) {
            fprintf(f, "copy %x ", v.addr);
            for (uint32_t j = 0; j < v.len; j++)
                fprintf(f, "%02x", v.data[j]);
            fprintf(f, "\n");
        } else {
            fprintf(f, "zero %x %x\n", v.addr, v.len);
        }
    }
    fprintf(f, "end\n\n");
    return ferror(f) ? -1 : 0;
}

static int fail(char *why, size_t whylen, unsigned line, const char *msg)
{
    snprintf(why, whylen, "line %u: %s", line, msg);
    return -1;
}

static bool hex32(const char *s, size_t n, uint32_t *out)
{
    if (n == 0 || n > 8)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* next space-separated token of [*p, end) */
static bool token(const char **p, const char *end, const char **t, size_t *n)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++;
    if (s == end)
        return false;
    const char *e = s;
    while (e < end && *e != ' ' && *e != '\t' && *e != '\r')
        e++;
    *t = s;
    *n = (size_t)(e - s);
    *p = e;
    return true;
}

int casefile_parse(const char *text, size_t len, struct sc **out, size_t *n, char *why, size_t whylen)
{
    size_t cap = 0, count = 0;
    struct sc *cases = NULL, *cur = NULL;
    uint8_t *bytes = malloc(CASEFILE_LINE_MAX / 2);
    unsigned line = 0;
    const char *s = text, *end = text + len;
    int rc = -1;
    if (!bytes) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        line++;
        if (le - s > CASEFILE_LINE_MAX) {
            fail(why, whylen, line, "line too long");
            goto out;
        }
        const char *p = s, *t;
        size_t tn;
        s = nl ? nl + 1 : end;
        if (!token(&p, le, &t, &tn) || t[0] == '#')
            continue;
        if (tn == 4 && !memcmp(t, "case", 4)) {
            if (cur) {
                fail(why, whylen, line, "case inside a case (missing end)");
                goto out;
            }
            if (count == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                if (ncap > 20000) {
                    fail(why, whylen, line, "too many cases");
                    goto out;
                }
                struct sc *q = realloc(cases, ncap * sizeof *q);
                if (!q) {
                    fail(why, whylen, line, "out of memory");
                    goto out;
                }
                cases = q;
                cap = ncap;
            }
            cur = &cases[count];
            const char *cls;
            size_t cn;
            if (!token(&p, le, &cls, &cn) || cn >= sizeof cur->cls) {
                fail(why, whylen, line, "case needs a class name");
                goto out;
            }
            char name[16];
            memcpy(name, cls, cn);
            name[cn] = 0;
            sc_init(cur, name, 0);
            sc_clear_dumps(cur);
            while (p < le && *p == ' ')
                p++;
            size_t dl = (size_t)(le - p);
            if (dl >= sizeof cur->desc)
                dl = sizeof cur->desc - 1;
            memcpy(cur->desc, p, dl);
            cur->desc[dl] = 0;
            continue;
        }
        if (!cur) {
            fail(why, whylen, line, "expected 'case'");
            goto out;
        }
        if (tn == 3 && !memcmp(t, "end", 3)) {
            if (cur->overflow) {
                fail(why, whylen, line, "case exceeds the builder's limits");
                goto out;
            }
            count++;
            cur = NULL;
        } else if (tn == 5 && !memcmp(t, "state", 5)) {
            while (token(&p, le, &t, &tn)) {
                const char *eq = memchr(t, '=', tn);
                uint32_t v;
                size_t i = 0;
                if (!eq) {
                    fail(why, whylen, line, "state entries are key=value");
                    goto out;
                }
                for (; i < sizeof keys / sizeof keys[0]; i++)
                    if (strlen(keys[i].name) == (size_t)(eq - t) && !memcmp(keys[i].name, t, (size_t)(eq - t)))
                        break;
                if (i == sizeof keys / sizeof keys[0] || !hex32(eq + 1, tn - (size_t)(eq + 1 - t), &v) ||
                    (keys[i].size == 2 && v > 0xFFFF)) {
                    fail(why, whylen, line, "unknown state key or bad value");
                    goto out;
                }
                set_key(cur, &keys[i], v);
            }
        } else if (tn == 4 && !memcmp(t, "dump", 4)) {
            uint32_t v;
            while (token(&p, le, &t, &tn)) {
                if (!hex32(t, tn, &v) || cur->c.ndump >= SO_MAX_DUMP) {
                    fail(why, whylen, line, "bad dump address or too many");
                    goto out;
                }
                sc_dump(cur, v);
            }
        } else if (tn == 4 && !memcmp(t, "copy", 4)) {
            uint32_t addr;
            if (!token(&p, le, &t, &tn) || !hex32(t, tn, &addr) || !token(&p, le, &t, &tn) || tn % 2 ||
                tn / 2 > CASEFILE_LINE_MAX / 2) {
                fail(why, whylen, line, "copy <addr> <hex bytes>");
                goto out;
            }
            for (size_t i = 0; i < tn / 2; i++) {
                uint32_t b;
                if (!hex32(t + 2 * i, 2, &b)) {
                    fail(why, whylen, line, "bad hex byte");
                    goto out;
                }
                bytes[i] = (uint8_t)b;
            }
            sc_copy(cur, addr, bytes, (uint32_t)(tn / 2));
        } else if (tn == 4 && !memcmp(t, "zero", 4)) {
            uint32_t addr, l;
            if (!token(&p, le, &t, &tn) || !hex32(t, tn, &addr) || !token(&p, le, &t, &tn) || !hex32(t, tn, &l) ||
                l > 0x10000) {
                fail(why, whylen, line, "zero <addr> <len up to 10000>");
                goto out;
            }
            sc_zero(cur, addr, l);
        } else {
            fail(why, whylen, line, "unknown keyword");
            goto out;
        }
        if (cur && cur->overflow) {
            fail(why, whylen, line, "case exceeds the builder's limits");
            goto out;
        }
    }
    if (cur) {
        fail(why, whylen, line, "missing 'end'");
        goto out;
    }
    rc = 0;
out:
    free(bytes);
    if (rc < 0) {
        free(cases);
        cases = NULL;
        count = 0;
    }
    *out = cases;
    *n = count;
    return rc;
}

int casefile_read(const char *path, struct sc **out, size_t *n, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    *out = NULL;
    *n = 0;
    if (!f) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    while (text) {
        size_t r = fread(text + len, 1, cap - len, f);
        len += r;
        if (len < cap)
            break;
        if (cap >= (64u << 20)) {
            free(text);
            text = NULL;
            break;
        }
        char *q = realloc(text, cap * 2);
        if (!q) {
            free(text);
            text = NULL;
            break;
        }
        text = q;
        cap *= 2;
    }
    fclose(f);
    if (!text) {
        snprintf(why, whylen, "%s: too large or out of memory", path);
        return -1;
    }
    char inner[200];
    int rc = casefile_parse(text, len, out, n, inner, sizeof inner);
    if (rc < 0)
        snprintf(why, whylen, "%s: %s", path, inner);
    free(text);
    return rc;
}
