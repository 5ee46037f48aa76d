/*
 * kimage.c - the test kernel's file and its case blob (see kimage.h).
 */
#include "tests/sysoracle/kimage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int kimage_load(struct kimage *k, const char *path, char *why, size_t whylen)
{
    memset(k, 0, sizeof *k);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot open the test kernel %s", path);
        return -errno;
    }
    size_t cap = 8u << 20, n = 0;
    k->file = malloc(cap);
    if (!k->file) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(k->file, 1, cap, f);
    fclose(f);
    k->size = n;
    for (size_t off = 0; off + sizeof(struct so_blob) <= n; off += 16) {
        if (rd32(k->file + off) == SO_BLOB_MAGIC0 && rd32(k->file + off + 4) == SO_BLOB_MAGIC1) {
            uint32_t capacity = rd32(k->file + off + 8), version = rd32(k->file + off + 12);
            if (version != SO_BLOB_VERSION || off + sizeof(struct so_blob) + capacity > n) {
                snprintf(why, whylen, "%s: blob version %u or capacity %u does not fit", path, version, capacity);
                kimage_free(k);
                return -EINVAL;
            }
            k->blob_off = off;
            k->capacity = capacity;
            return 0;
        }
    }
    snprintf(why, whylen, "%s has no case blob (not the sysoracle kernel?)", path);
    kimage_free(k);
    return -EINVAL;
}

void kimage_free(struct kimage *k)
{
    free(k->file);
    memset(k, 0, sizeof *k);
}

static size_t case_bytes(const struct sc *s) { return sizeof(struct so_case) + s->nops; }

uint32_t kimage_fit(const struct kimage *k, const struct sc *const *cases, uint32_t n)
{
    size_t used = 0;
    uint32_t i = 0;
    for (; i < n; i++) {
        if (used + case_bytes(cases[i]) > k->capacity)
            break;
        used += case_bytes(cases[i]);
    }
    return i;
}

uint8_t *kimage_build(const struct kimage *k, const struct sc *const *cases, uint32_t n, uint32_t first,
                      uint32_t *fits)
{
    *fits = kimage_fit(k, cases, n);
    if (*fits < n)
        return NULL;
    uint8_t *img = malloc(k->size);
    if (!img)
        return NULL;
    memcpy(img, k->file, k->size);
    uint8_t *blob = img + k->blob_off;
    uint8_t *p = blob + sizeof(struct so_blob);
    size_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t sz = sc_serialize(cases[i], p + used, k->capacity - used);
        if (!sz) {
            free(img);
            return NULL;
        }
        used += sz;
    }
    struct so_blob h;
    memcpy(&h, blob, sizeof h);
    h.ncases = n;
    h.first = first;
    h.bytes = (uint32_t)used;
    memcpy(blob, &h, sizeof h);
    return img;
}
