/*
 * kimage.h - the test kernel's file image: read once, then for each batch a copy with the cases
 * patched into the blob section (found by its magic). The kernel file is trusted to come from
 * this build, but every offset is still checked against the file size.
 */
#ifndef CLOISTER_SYSORACLE_KIMAGE_H
#define CLOISTER_SYSORACLE_KIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "tests/sysoracle/gen.h"

struct kimage {
    uint8_t *file;      /* the kernel as built */
    size_t size;
    size_t blob_off;    /* file offset of struct so_blob */
    uint32_t capacity;  /* bytes for cases */
};

/* 0, or -errno with a message in why */
int kimage_load(struct kimage *k, const char *path, char *why, size_t whylen);
void kimage_free(struct kimage *k);

/* Build an image with cases[0..n) (ids as given), running from case `first`. Returns a malloc'd
 * copy of the file, or NULL when the cases do not fit (then *fits is how many would). */
uint8_t *kimage_build(const struct kimage *k, const struct sc *const *cases, uint32_t n, uint32_t first,
                      uint32_t *fits);

/* How many of cases[0..n) fit into one image. */
uint32_t kimage_fit(const struct kimage *k, const struct sc *const *cases, uint32_t n);

#endif
