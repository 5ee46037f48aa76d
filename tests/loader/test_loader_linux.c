/*
 * test_loader_linux.c - the Linux 32-bit boot protocol loader (monitor/loader_linux.c) on
 * synthetic bzImages: detection, every refusal (each leaves RAM untouched), the zero page
 * (copied setup header, loader fields, e820, memory sizes), the GDT, the command line, the
 * initrd's placement, and that nothing but the documented areas is written.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/loader.h"
#include "tests/loader/images.h"

#define MiB (1024u * 1024u)
#define RAM_FILL 0xA5
#define ZP LINUX_ZERO_PAGE_ADDR

struct ram {
    uint8_t *b;
    size_t size;
};

static struct ram ram_new(size_t size)
{
    struct ram r = {malloc(size), size};
    assert_non_null(r.b);
    memset(r.b, RAM_FILL, size);
    return r;
}

static int all_fill(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != RAM_FILL)
            return 0;
    return 1;
}

static int load(const uint8_t *k, size_t ks, const uint8_t *ird, size_t is, const char *cmd,
                struct ram *r, struct msg_boot *b, struct loader_error *e)
{
    memset(e, 0, sizeof *e);
    return linux_load(k, ks, ird, is, cmd, r->b, r->size, b, e);
}

/* The load must fail with a message containing `needle`, and RAM must be as it was. */
static void expect_refused(const uint8_t *k, size_t ks, const uint8_t *ird, size_t is,
                           const char *cmd, size_t ram_size, const char *needle)
{
    struct ram r = ram_new(ram_size);
    struct msg_boot b;
    struct loader_error e;
    memset(&b, 0x5A, sizeof b);
    int rc = load(k, ks, ird, is, cmd, &r, &b, &e);
    if (rc != -EINVAL || !strstr(e.msg, needle))
        fail_msg("wanted a refusal mentioning \"%s\", got rc %d \"%s\"", needle, rc, e.msg);
    assert_true(all_fill(r.b, r.size));
    free(r.b);
}

static void expect_refused_opts(const struct bz_opts *o, size_t ram_size, const char *needle)
{
    size_t ks;
    uint8_t *k = bz_build(o, &ks);
    expect_refused(k, ks, NULL, 0, "console=ttyS0", ram_size, needle);
    free(k);
}

/* A successful load of `o` into fresh RAM; the caller frees r->b and the image. */
static uint8_t *load_ok(const struct bz_opts *o, size_t *ks, const uint8_t *ird, size_t is,
                        const char *cmd, struct ram *r, struct msg_boot *b)
{
    uint8_t *k = bz_build(o, ks);
    struct loader_error e;
    int rc = load(k, *ks, ird, is, cmd, r, b, &e);
    if (rc != 0)
        fail_msg("load failed: %s", e.msg);
    return k;
}

static uint8_t *initrd_new(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 13 + 5);
    return p;
}

/* ---- detection ---- */

static void test_detect(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);
    assert_true(linux_detect(k, ks));
    assert_true(linux_detect(k, 0x206));
    assert_false(linux_detect(k, 0x205));
    assert_false(linux_detect(k, 0));
    assert_false(linux_detect(NULL, ks));
    k[0x1FF] = 0x55; /* boot flag 0x5555 */
    assert_false(linux_detect(k, ks));
    k[0x1FF] = 0xAA;
    assert_true(linux_detect(k, ks));
    k[0x205] = 's';
    assert_false(linux_detect(k, ks));
    free(k);

    /* A multiboot ELF is not a bzImage. */
    struct mb_seg s = {1, 0x1000, 0x100000, 0x100000, 0x100, 0x100};
    uint8_t *mb = mb_build_elf(0, 0x100000, &s, 1, 0x2000);
    assert_false(linux_detect(mb, 0x2000));
    free(mb);
}

/* ---- a good load: every byte of the layout ---- */

static void test_load_layout(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    struct ram r = ram_new(8 * MiB);
    struct msg_boot b;
    size_t ks;
    const char *cmd = "console=ttyS0 rdinit=/init";
    uint8_t *k = load_ok(&o, &ks, NULL, 0, cmd, &r, &b);
    const uint8_t *zp = r.b + ZP;

    /* Start state. */
    assert_int_equal(b.mode, BOOT_LINUX32);
    assert_int_equal(b.entry, 0x100000);
    assert_int_equal(b.esi, ZP);
    assert_int_equal(b.eax, 0);
    assert_int_equal(b.ebx, 0);
    assert_int_equal(b.esp, LINUX_STACK_TOP);
    assert_int_equal(b.gdt_base, LINUX_GDT_ADDR);
    assert_int_equal(b.gdt_limit, LINUX_GDT_LIMIT);
    struct msg m;
    msg_set(&m, MSG_CTL_BOOT, &b, sizeof b);
    assert_int_equal(msg_check(&m, CHAN_CTL, DIR_REQ), 0);

    /* The setup header, copied from 0x1F1 to its end, with the loader's own fields. */
    for (size_t i = 0x1F1; i < 0x26C; i++) {
        switch (i) {
        case 0x210: /* type_of_loader */
        case 0x211: /* loadflags */
        case 0x224:
        case 0x225: /* heap_end_ptr */
        case 0x228:
        case 0x229:
        case 0x22A:
        case 0x22B: /* cmd_line_ptr */
            continue;
        default:
            if (zp[i] != k[i])
                fail_msg("zero page byte 0x%zx is 0x%02x, the image has 0x%02x", i, zp[i], k[i]);
        }
    }
    assert_int_equal(zp[0x210], 0xFF);
    assert_int_equal(zp[0x211], 0x81); /* LOADED_HIGH | CAN_USE_HEAP */
    assert_int_equal(get16(zp + 0x224), 0xFE00);
    assert_int_equal(get32(zp + 0x228), LINUX_CMDLINE_ADDR);
    assert_int_equal(get32(zp + 0x214), 0x100000);
    assert_int_equal(get32(zp + 0x218), 0);
    assert_int_equal(get32(zp + 0x21C), 0);
    assert_int_equal(zp[0x1EF], 0); /* sentinel */

    /* Memory sizes and the e820 map. */
    assert_int_equal(get16(zp + 0x002), 7 * 1024);
    assert_int_equal(get32(zp + 0x1E0), 7 * 1024);
    assert_int_equal(zp[0x1E8], 4);
    static const uint64_t want[4][3] = {
        {0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xF0000, 0x10000, 2}, {0x100000, 7 * MiB, 1}};
    for (unsigned i = 0; i < 4; i++) {
        const uint8_t *e = zp + 0x2D0 + 20 * i;
        assert_int_equal(get64(e), want[i][0]);
        assert_int_equal(get64(e + 8), want[i][1]);
        assert_int_equal(get32(e + 16), want[i][2]);
    }
    /* Nothing else in the zero page: the boot sector and the setup code were not copied. */
    for (size_t i = 0; i < 4096; i++) {
        int ours = (i >= 2 && i < 4) || (i >= 0x1E0 && i < 0x1E4) || i == 0x1E8 ||
                   (i >= 0x1F1 && i < 0x26C) || (i >= 0x2D0 && i < 0x2D0 + 80);
        if (!ours && zp[i] != 0)
            fail_msg("zero page byte 0x%zx is 0x%02x, not 0", i, zp[i]);
    }

    /* GDT: null, null, flat code at 0x10, flat data at 0x18. */
    const uint8_t *gdt = r.b + LINUX_GDT_ADDR;
    assert_int_equal(get64(gdt), 0);
    assert_int_equal(get64(gdt + 8), 0);
    assert_true(get64(gdt + 0x10) == 0x00CF9B000000FFFFull);
    assert_true(get64(gdt + 0x18) == 0x00CF93000000FFFFull);

    /* Command line, NUL-terminated; the rest of its area cleared. */
    assert_string_equal((const char *)r.b + LINUX_CMDLINE_ADDR, cmd);
    for (size_t i = strlen(cmd); i < LINUX_CMDLINE_MAX; i++)
        assert_int_equal(r.b[LINUX_CMDLINE_ADDR + i], 0);

    /* The protected-mode part at 1 MiB, exactly. */
    assert_memory_equal(r.b + 0x100000, k + bz_setup_off(&o), o.pm_size);

    /* Nothing else written. */
    assert_true(all_fill(r.b, ZP));
    assert_true(all_fill(r.b + LINUX_GDT_ADDR + 32, LINUX_CMDLINE_ADDR - LINUX_GDT_ADDR - 32));
    assert_true(all_fill(r.b + LINUX_CMDLINE_ADDR + LINUX_CMDLINE_MAX,
                         0x100000 - LINUX_CMDLINE_ADDR - LINUX_CMDLINE_MAX));
    assert_true(all_fill(r.b + 0x100000 + o.pm_size, r.size - 0x100000 - o.pm_size));
    free(k);
    free(r.b);
}

/* Fields a hostile or careless image presets are the loader's to set. */
static void test_loader_fields_override_image(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);
    k[0x210] = 0x00;               /* type_of_loader 0 would make the kernel drop the initrd */
    k[0x211] = 0x01 | 0x40 | 0x20; /* KEEP_SEGMENTS, QUIET */
    put32(k + 0x218, 0x12345678);  /* ramdisk_image */
    put32(k + 0x21C, 0x1000);      /* ramdisk_size */
    put16(k + 0x224, 0x1234);
    k[0x226] = 7;
    k[0x227] = 9;
    put32(k + 0x228, 0xDEADBEEF); /* cmd_line_ptr */
    put32(k + 0x23C, 2);          /* hardware_subarch: Xen */
    put64(k + 0x240, 0x1111);
    put64(k + 0x250, 0x2222000); /* setup_data */
    k[0x1EF] = 0x55;             /* the byte before the header is not the image's */
    struct ram r = ram_new(4 * MiB);
    struct msg_boot b;
    struct loader_error e;
    assert_int_equal(load(k, ks, NULL, 0, NULL, &r, &b, &e), 0);
    const uint8_t *zp = r.b + ZP;
    assert_int_equal(zp[0x210], 0xFF);
    assert_int_equal(zp[0x211], 0x01 | 0x20 | 0x80); /* QUIET kept, KEEP_SEGMENTS cleared */
    assert_int_equal(get32(zp + 0x218), 0);
    assert_int_equal(get32(zp + 0x21C), 0);
    assert_int_equal(get16(zp + 0x224), 0xFE00);
    assert_int_equal(zp[0x226], 0);
    assert_int_equal(zp[0x227], 0);
    assert_int_equal(get32(zp + 0x228), LINUX_CMDLINE_ADDR);
    assert_int_equal(get32(zp + 0x23C), 0);
    assert_true(get64(zp + 0x240) == 0);
    assert_true(get64(zp + 0x250) == 0);
    assert_int_equal(zp[0x1EF], 0);
    /* No command line given: an empty one. */
    assert_int_equal(r.b[LINUX_CMDLINE_ADDR], 0);
    free(k);
    free(r.b);
}

static void test_setup_sects(void **state)
{
    (void)state;
    static const uint8_t sects[] = {0, 1, 4, 30, 255};
    for (unsigned i = 0; i < sizeof sects; i++) {
        struct bz_opts o;
        bz_defaults(&o);
        o.setup_sects = sects[i];
        o.pm_size = 4096;
        struct ram r = ram_new(2 * MiB);
        struct msg_boot b;
        size_t ks;
        uint8_t *k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
        size_t off = (size_t)((sects[i] ? sects[i] : 4) + 1) * 512;
        assert_int_equal(bz_setup_off(&o), off);
        assert_memory_equal(r.b + 0x100000, k + off, 4096);
        assert_int_equal(r.b[0x100000], img_pattern(0));
        assert_true(all_fill(r.b + 0x100000 + 4096, r.size - 0x100000 - 4096));
        free(k);
        free(r.b);
    }
}

/* Trailing bytes after syssize (an appended signature) are not loaded. */
static void test_trailing_bytes_ignored(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    o.trailing = 448;
    struct ram r = ram_new(4 * MiB);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
    assert_int_equal(ks, bz_setup_off(&o) + o.pm_size + 448);
    assert_true(all_fill(r.b + 0x100000 + o.pm_size, 448));
    free(k);
    free(r.b);
}

static void test_ext_mem_capped(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    struct ram r = ram_new(70 * MiB);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
    assert_int_equal(get16(r.b + ZP + 0x002), 0xFC00);
    assert_int_equal(get32(r.b + ZP + 0x1E0), 69 * 1024);
    assert_true(get64(r.b + ZP + 0x2D0 + 60 + 8) == 69ull * MiB);
    free(k);
    free(r.b);
}

/* ---- refusals of the header ---- */

static void test_refuse_truncated(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);
    expect_refused(NULL, 0, NULL, 0, NULL, 4 * MiB, "truncated");
    expect_refused(k, 0, NULL, 0, NULL, 4 * MiB, "truncated");
    expect_refused(k, 0x207, NULL, 0, NULL, 4 * MiB, "truncated");
    /* Only the setup code. */
    expect_refused(k, bz_setup_off(&o), NULL, 0, NULL, 4 * MiB, "truncated");
    /* syssize promises more than the file has. */
    expect_refused(k, ks - 1, NULL, 0, NULL, 4 * MiB, "truncated: syssize");
    expect_refused(k, bz_setup_off(&o) + 16, NULL, 0, NULL, 4 * MiB, "truncated: syssize");
    free(k);

    o.setup_sects = 255; /* 128 KiB of setup code */
    o.pm_size = 16;
    k = bz_build(&o, &ks);
    expect_refused(k, 128 * 1024, NULL, 0, NULL, 4 * MiB, "setup code (255 sectors)");
    free(k);
}

static void test_refuse_oversized(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    size_t ks;
    uint8_t *small = bz_build(&o, &ks);
    size_t big_size = (size_t)LOADER_MAX_IMAGE + 1;
    uint8_t *big = calloc(1, big_size);
    assert_non_null(big);
    memcpy(big, small, ks);
    expect_refused(big, big_size, NULL, 0, NULL, 4 * MiB, "larger than the 64 MiB limit");
    /* Exactly at the limit is a size the loader accepts (syssize decides what is loaded). */
    struct ram r = ram_new(4 * MiB);
    struct msg_boot b;
    struct loader_error e;
    assert_int_equal(load(big, LOADER_MAX_IMAGE, NULL, 0, NULL, &r, &b, &e), 0);
    free(r.b);
    free(big);
    free(small);
}

static void test_refuse_not_linux(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);
    k[0x1FE] = 0;
    expect_refused(k, ks, NULL, 0, NULL, 4 * MiB, "boot flag 0xaa00");
    k[0x1FE] = 0x55;
    k[0x203] = 'X';
    expect_refused(k, ks, NULL, 0, NULL, 4 * MiB, "HdrS");
    free(k);
}

static void test_refuse_old_protocol(void **state)
{
    (void)state;
    static const uint16_t old[] = {0x0000, 0x0100, 0x0201, 0x0204, 0x0205};
    for (unsigned i = 0; i < sizeof old / sizeof old[0]; i++) {
        struct bz_opts o;
        bz_defaults(&o);
        o.version = old[i];
        expect_refused_opts(&o, 4 * MiB, "older than 2.06");
    }
}

static void test_header_length(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    o.hdr_jump = 0x61; /* ends at 0x263: init_size incomplete */
    expect_refused_opts(&o, 4 * MiB, "before the fields of protocol 2.15");
    o.hdr_jump = 0x62; /* ends at 0x264: just enough */
    size_t ks;
    struct ram r = ram_new(4 * MiB);
    struct msg_boot b;
    uint8_t *k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
    /* Bytes past the header's end are setup code and stay out of the zero page. */
    for (size_t i = 0x264; i < 0x2D0; i++)
        assert_int_equal(r.b[ZP + i], 0);
    free(k);
    free(r.b);
    o.hdr_jump = 0x8E; /* ends at 0x290 */
    k = load_ok(&o, &ks, NULL, 0, "", (r = ram_new(4 * MiB), &r), &b);
    free(k);
    free(r.b);
    o.hdr_jump = 0x8F; /* 0x291: into edd_mbr_sig_buffer */
    expect_refused_opts(&o, 4 * MiB, "past 0x290");
    o.hdr_jump = 0xFF;
    expect_refused_opts(&o, 4 * MiB, "past 0x290");

    /* A 2.06 header needs cmdline_size (ends at 0x23C). */
    bz_defaults(&o);
    o.version = 0x0206;
    o.hdr_jump = 0x39;
    expect_refused_opts(&o, 4 * MiB, "before the fields of protocol 2.06");
    o.hdr_jump = 0x3A;
    k = load_ok(&o, &ks, NULL, 0, "", (r = ram_new(4 * MiB), &r), &b);
    free(k);
    free(r.b);

    /* The length comes from a short jump. */
    bz_defaults(&o);
    k = bz_build(&o, &ks);
    k[0x200] = 0xE9;
    expect_refused(k, ks, NULL, 0, NULL, 4 * MiB, "no short jump");
    free(k);
}

static void test_refuse_syssize_zero(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);
    put32(k + 0x1F4, 0);
    expect_refused(k, ks, NULL, 0, NULL, 4 * MiB, "syssize is 0");
    /* A syssize whose byte count needs more than 32 bits is still just "truncated". */
    put32(k + 0x1F4, 0xFFFFFFFF);
    expect_refused(k, ks, NULL, 0, NULL, 4 * MiB, "truncated: syssize");
    free(k);
}

static void test_refuse_flags(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    o.loadflags = 0;
    expect_refused_opts(&o, 4 * MiB, "LOADED_HIGH");
    bz_defaults(&o);
    o.xloadflags = 0x1;
    expect_refused_opts(&o, 4 * MiB, "64-bit kernel");
    /* xloadflags is defined from 2.12; before that the bytes mean nothing. */
    o.version = 0x020B;
    struct ram r = ram_new(4 * MiB);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
    free(k);
    free(r.b);
    /* Other xloadflags bits (EFI handover, above-4G capable) do not matter here. */
    bz_defaults(&o);
    o.xloadflags = 0x1E;
    k = load_ok(&o, &ks, NULL, 0, "", (r = ram_new(4 * MiB), &r), &b);
    free(k);
    free(r.b);
}

static void test_refuse_code32_start(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0, 0x10000, 0xFFFFF, 0x100001, 0x200000, 0xFFFFFFFF};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct bz_opts o;
        bz_defaults(&o);
        o.code32_start = bad[i];
        expect_refused_opts(&o, 4 * MiB, "code32_start");
    }
}

/* ---- RAM, load and run placement ---- */

static void test_ram_bounds(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    expect_refused_opts(&o, 2 * MiB - 1, "RAM size");
    expect_refused_opts(&o, 1 * MiB, "RAM size");
    /* Too much RAM is refused before RAM is touched, so a small buffer stands in for it. */
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);
    uint8_t stand_in[16];
    struct msg_boot b;
    struct loader_error e;
    memset(&e, 0, sizeof e);
    assert_int_equal(linux_load(k, ks, NULL, 0, NULL, stand_in, 0xC0000001u, &b, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "RAM size"));
    free(k);
    /* Exactly 2 MiB works, and the last e820 entry is the 1 MiB above 1 MiB. */
    struct ram r = ram_new(2 * MiB);
    k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
    assert_true(get64(r.b + ZP + 0x2D0 + 60 + 8) == 1 * MiB);
    free(k);
    free(r.b);
}

static void test_kernel_must_fit(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    o.pm_size = 1 * MiB + 16;
    o.init_size = 2 * MiB;
    expect_refused_opts(&o, 2 * MiB, "does not fit");
    o.pm_size = 1 * MiB;
    o.init_size = 1 * MiB;
    struct ram r = ram_new(2 * MiB);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
    assert_memory_equal(r.b + 0x100000, k + bz_setup_off(&o), 1 * MiB);
    free(k);
    free(r.b);
}

static void test_init_size(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    o.init_size = 3 * MiB; /* 1 MiB + 3 MiB > 3 MiB */
    expect_refused_opts(&o, 3 * MiB, "init_size");
    expect_refused_opts(&o, 4 * MiB - 1, "init_size");
    struct ram r = ram_new(4 * MiB);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
    free(k);
    free(r.b);
    o.init_size = o.pm_size - 16;
    expect_refused_opts(&o, 4 * MiB, "smaller than the kernel");
    o.init_size = 0;
    expect_refused_opts(&o, 4 * MiB, "smaller than the kernel");
}

static void test_pref_address(void **state)
{
    (void)state;
    static const uint64_t bad[] = {0, 0xFFFFF, 0xC0000000ull, 0x100000000ull, UINT64_MAX};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct bz_opts o;
        bz_defaults(&o);
        o.pref_address = bad[i];
        expect_refused_opts(&o, 4 * MiB, "pref_address");
    }
    /* Not relocatable: the kernel runs at pref_address, which must have init_size of RAM. */
    struct bz_opts o;
    bz_defaults(&o);
    o.pref_address = 16 * MiB;
    o.kernel_alignment = 3; /* ignored when not relocatable */
    expect_refused_opts(&o, 16 * MiB, "from 0x1000000");
    struct ram r = ram_new(16 * MiB + o.init_size);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
    free(k);
    free(r.b);
}

static void test_relocatable_alignment(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0, 1, 0x800, 0x3000, 0x100001, 0xFFFFFFFF};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct bz_opts o;
        bz_defaults(&o);
        o.relocatable = 1;
        o.kernel_alignment = bad[i];
        expect_refused_opts(&o, 4 * MiB, "kernel_alignment");
    }
    /* Like Debian's 686 kernel: relocatable, 16 MiB alignment, pref_address 16 MiB. The run
     * region is [16 MiB, 16 MiB + init_size). */
    struct bz_opts o;
    bz_defaults(&o);
    o.relocatable = 1;
    o.kernel_alignment = 16 * MiB;
    o.pref_address = 16 * MiB;
    o.init_size = 4 * MiB;
    expect_refused_opts(&o, 20 * MiB - 1, "from 0x1000000");
    /* Alignment above pref_address wins: 32 MiB alignment, runs at 32 MiB. */
    o.kernel_alignment = 32 * MiB;
    expect_refused_opts(&o, 20 * MiB, "from 0x2000000");
    struct ram r = ram_new(36 * MiB);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = load_ok(&o, &ks, NULL, 0, "", &r, &b);
    free(k);
    free(r.b);
    /* pref_address above the aligned load address wins. */
    o.kernel_alignment = 0x1000;
    o.pref_address = 8 * MiB;
    expect_refused_opts(&o, 12 * MiB - 1, "from 0x800000");
}

/* ---- command line ---- */

static void test_cmdline_limits(void **state)
{
    (void)state;
    char line[LINUX_CMDLINE_MAX + 2];
    struct bz_opts o;
    bz_defaults(&o);
    o.cmdline_size = 100;
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);

    memset(line, 'a', 101);
    line[101] = 0;
    expect_refused(k, ks, NULL, 0, line, 4 * MiB, "command line longer than 100");
    line[100] = 0;
    struct ram r = ram_new(4 * MiB);
    struct msg_boot b;
    struct loader_error e;
    assert_int_equal(load(k, ks, NULL, 0, line, &r, &b, &e), 0);
    assert_string_equal((char *)r.b + LINUX_CMDLINE_ADDR, line);
    free(r.b);
    free(k);

    /* The loader's own area caps a kernel that claims a huge cmdline_size. */
    o.cmdline_size = 0xFFFFFFFF;
    k = bz_build(&o, &ks);
    memset(line, 'b', LINUX_CMDLINE_MAX);
    line[LINUX_CMDLINE_MAX] = 0;
    expect_refused(k, ks, NULL, 0, line, 4 * MiB, "longer than 4095");
    line[LINUX_CMDLINE_MAX - 1] = 0;
    r = ram_new(4 * MiB);
    assert_int_equal(load(k, ks, NULL, 0, line, &r, &b, &e), 0);
    assert_int_equal(strlen((char *)r.b + LINUX_CMDLINE_ADDR), LINUX_CMDLINE_MAX - 1);
    assert_int_equal(r.b[LINUX_CMDLINE_ADDR + LINUX_CMDLINE_MAX - 1], 0);
    assert_int_equal(r.b[LINUX_CMDLINE_ADDR + LINUX_CMDLINE_MAX], RAM_FILL);
    free(r.b);
    free(k);

    /* cmdline_size 0: only the empty line. */
    o.cmdline_size = 0;
    k = bz_build(&o, &ks);
    expect_refused(k, ks, NULL, 0, "x", 4 * MiB, "longer than 0");
    r = ram_new(4 * MiB);
    assert_int_equal(load(k, ks, NULL, 0, "", &r, &b, &e), 0);
    assert_int_equal(get32(r.b + ZP + 0x228), LINUX_CMDLINE_ADDR);
    free(r.b);
    free(k);
}

/* ---- initrd ---- */

static void check_initrd(const struct ram *r, const uint8_t *ird, size_t is, uint32_t want_addr)
{
    const uint8_t *zp = r->b + ZP;
    uint32_t addr = get32(zp + 0x218);
    assert_int_equal(addr, want_addr);
    assert_int_equal(get32(zp + 0x21C), is);
    assert_int_equal(addr % 4096, 0);
    assert_memory_equal(r->b + addr, ird, is);
}

static void test_initrd_top_of_ram(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    static const size_t sizes[] = {1, 4095, 4096, 4097, 10000, 1 * MiB};
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t is = sizes[i];
        uint8_t *ird = initrd_new(is);
        struct ram r = ram_new(8 * MiB);
        struct msg_boot b;
        size_t ks;
        uint8_t *k = load_ok(&o, &ks, ird, is, "", &r, &b);
        uint32_t want = (uint32_t)((8 * MiB - is) & ~(size_t)4095);
        check_initrd(&r, ird, is, want);
        /* The kernel is intact and nothing between it and the initrd was written. */
        assert_memory_equal(r.b + 0x100000, k + bz_setup_off(&o), o.pm_size);
        assert_true(all_fill(r.b + 0x100000 + o.pm_size, want - 0x100000 - o.pm_size));
        assert_true(all_fill(r.b + want + is, 8 * MiB - want - is));
        free(k);
        free(ird);
        free(r.b);
    }
}

static void test_initrd_addr_max(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    o.initrd_addr_max = 0x3FFFFF; /* the last byte may be at 4 MiB - 1 */
    size_t is = 5000;
    uint8_t *ird = initrd_new(is);
    struct ram r = ram_new(8 * MiB);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = load_ok(&o, &ks, ird, is, "", &r, &b);
    check_initrd(&r, ird, is, (4 * MiB - 5000) & ~4095u);
    assert_true(all_fill(r.b + 4 * MiB, 4 * MiB));
    free(k);
    free(r.b);

    /* A limit that is not a page boundary: the initrd still ends at or below it. */
    o.initrd_addr_max = 0x3FF7FF;
    k = load_ok(&o, &ks, ird, is, "", (r = ram_new(8 * MiB), &r), &b);
    uint32_t addr = get32(r.b + ZP + 0x218);
    assert_true(addr + is - 1 <= 0x3FF7FF);
    check_initrd(&r, ird, is, (0x3FF800 - 5000) & ~4095u);
    free(k);
    free(r.b);

    /* A limit above RAM: RAM's end decides. */
    o.initrd_addr_max = 0xFFFFFFFF;
    k = load_ok(&o, &ks, ird, is, "", (r = ram_new(8 * MiB), &r), &b);
    check_initrd(&r, ird, is, (8 * MiB - 5000) & ~4095u);
    free(k);
    free(r.b);
    free(ird);
}

static void test_initrd_avoids_kernel(void **state)
{
    (void)state;
    /* Runs at 16 MiB with 4 MiB init_size; RAM 24 MiB. An initrd that would cross into the run
     * region from above goes below it instead, above the loaded image. */
    struct bz_opts o;
    bz_defaults(&o);
    o.relocatable = 1;
    o.kernel_alignment = 16 * MiB;
    o.pref_address = 16 * MiB;
    o.init_size = 4 * MiB;
    size_t is = 5 * MiB; /* [19 MiB, 24 MiB) would overlap [16, 20) */
    uint8_t *ird = initrd_new(is);
    struct ram r = ram_new(24 * MiB);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = load_ok(&o, &ks, ird, is, "", &r, &b);
    check_initrd(&r, ird, is, 11 * MiB);
    assert_true(all_fill(r.b + 16 * MiB, 8 * MiB));
    free(k);
    free(r.b);

    /* Fits above the run region: stays at the top. */
    is = 4 * MiB;
    k = load_ok(&o, &ks, ird, is, "", (r = ram_new(24 * MiB), &r), &b);
    check_initrd(&r, ird, is, 20 * MiB);
    free(k);
    free(r.b);

    /* Too big for the gap between the image and the run region, and above it. */
    is = 15 * MiB - o.pm_size + 1;
    free(ird);
    ird = initrd_new(is);
    k = bz_build(&o, &ks);
    expect_refused(k, ks, ird, is, "", 24 * MiB, "initrd:");
    free(k);
    /* Exactly the gap, page-aligned: it fits. */
    is = 15 * MiB - o.pm_size;
    k = load_ok(&o, &ks, ird, is, "", (r = ram_new(24 * MiB), &r), &b);
    check_initrd(&r, ird, is, 0x100000 + o.pm_size);
    free(k);
    free(r.b);
    free(ird);
}

static void test_initrd_refusals(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);
    uint8_t *ird = initrd_new(8 * MiB);

    /* Larger than RAM above the kernel. */
    expect_refused(k, ks, ird, 8 * MiB, "", 8 * MiB, "initrd:");
    expect_refused(k, ks, ird, 7 * MiB, "", 8 * MiB, "initrd:");
    /* RAM is 8 MiB, the kernel ends at 1 MiB + 256 KiB (init_size): exactly what is left fits. */
    size_t room = 8 * MiB - 0x100000 - o.init_size;
    struct ram r = ram_new(8 * MiB);
    struct msg_boot b;
    struct loader_error e;
    assert_int_equal(load(k, ks, ird, room, "", &r, &b, &e), 0);
    check_initrd(&r, ird, room, 0x100000 + o.init_size);
    free(r.b);
    expect_refused(k, ks, ird, room + 1, "", 8 * MiB, "initrd:");
    /* Data promised but absent. */
    expect_refused(k, ks, NULL, 100, "", 8 * MiB, "initrd: 100 bytes announced");
    /* A pointer with no bytes is no initrd. */
    r = ram_new(8 * MiB);
    assert_int_equal(load(k, ks, ird, 0, "", &r, &b, &e), 0);
    assert_int_equal(get32(r.b + ZP + 0x218), 0);
    assert_int_equal(get32(r.b + ZP + 0x21C), 0);
    free(r.b);
    free(ird);
    /* Larger than the loader's limit (refused before it is read). */
    size_t huge = (size_t)LINUX_MAX_INITRD + 1;
    ird = calloc(1, huge);
    assert_non_null(ird);
    expect_refused(k, ks, ird, huge, "", 8 * MiB, "initrd: 536870913 bytes is larger");
    free(ird);
    free(k);

    /* initrd_addr_max inside the kernel's own region, or zero. */
    ird = initrd_new(5000);
    o.initrd_addr_max = 0x100FFF;
    k = bz_build(&o, &ks);
    expect_refused(k, ks, ird, 5000, "", 8 * MiB, "initrd:");
    free(k);
    o.initrd_addr_max = 0;
    k = bz_build(&o, &ks);
    expect_refused(k, ks, ird, 5000, "", 8 * MiB, "initrd:");
    free(k);
    free(ird);
}

/* Protocols 2.06-2.09 have no init_size: 8 times the image from 1 MiB is kept clear. */
static void test_legacy_protocol(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    o.version = 0x0209;
    o.hdr_jump = 0x4E;  /* ends at 0x250, before pref_address */
    o.pref_address = 0; /* not defined before 2.10: ignored */
    o.init_size = 0;
    size_t is = 4096;
    uint8_t *ird = initrd_new(is);
    struct ram r = ram_new(2 * MiB);
    struct msg_boot b;
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);
    struct loader_error e;
    /* 64 KiB image: 512 KiB kept; 1 MiB above 1 MiB leaves room at the top. */
    assert_int_equal(load(k, ks, ird, is, "", &r, &b, &e), 0);
    check_initrd(&r, ird, is, 2 * MiB - 4096);
    free(r.b);
    free(k);
    /* A 192 KiB image keeps 1.5 MiB clear: 2 MiB of RAM is too little. */
    o.pm_size = 192 * 1024;
    k = bz_build(&o, &ks);
    expect_refused(k, ks, NULL, 0, "", 2 * MiB, "init_size");
    r = ram_new(3 * MiB);
    assert_int_equal(load(k, ks, ird, is, "", &r, &b, &e), 0);
    check_initrd(&r, ird, is, 3 * MiB - 4096);
    free(r.b);
    /* The initrd never goes into the kept region. */
    expect_refused(k, ks, ird, MiB / 2 + 1, "", 3 * MiB, "initrd:");
    free(k);
    free(ird);
}

/* Every prefix of a valid image is refused cleanly (no read beyond the size given). */
static void test_every_prefix(void **state)
{
    (void)state;
    struct bz_opts o;
    bz_defaults(&o);
    o.pm_size = 512;
    size_t ks;
    uint8_t *k = bz_build(&o, &ks);
    struct ram r = ram_new(2 * MiB);
    for (size_t n = 0; n < ks; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, k, n);
        struct msg_boot b;
        struct loader_error e;
        assert_int_equal(load(copy, n, NULL, 0, "", &r, &b, &e), -EINVAL);
        assert_true(e.msg[0] != 0);
        free(copy);
    }
    assert_true(all_fill(r.b, r.size));
    free(r.b);
    free(k);
}

/* ---- the BOOT_LINUX32 message rule (ipc/msg.c) the loader's start state must pass ---- */

static int boot_msg_ok(uint32_t mode, uint32_t base, uint32_t limit)
{
    struct msg_boot b;
    memset(&b, 0, sizeof b);
    b.mode = mode;
    b.gdt_base = base;
    b.gdt_limit = limit;
    struct msg m;
    msg_set(&m, MSG_CTL_BOOT, &b, sizeof b);
    return msg_check(&m, CHAN_CTL, DIR_REQ) == 0;
}

static void test_boot_message_rule(void **state)
{
    (void)state;
    assert_true(boot_msg_ok(BOOT_LINUX32, LINUX_GDT_ADDR, LINUX_GDT_LIMIT));
    assert_false(boot_msg_ok(BOOT_LINUX32, LINUX_GDT_ADDR, 0x1E)); /* selector 0x18 cut */
    assert_false(boot_msg_ok(BOOT_LINUX32, LINUX_GDT_ADDR, 0));
    assert_true(boot_msg_ok(BOOT_LINUX32, 0, 0xFFFF));
    assert_false(boot_msg_ok(BOOT_LINUX32, 0, 0x10000));
    assert_false(boot_msg_ok(BOOT_LINUX32, 0, 0xFFFFFFFF));
    assert_true(boot_msg_ok(BOOT_LINUX32, 0xFFFFFFE0u, 0x1F)); /* ends at 4 GiB - 1 */
    assert_false(boot_msg_ok(BOOT_LINUX32, 0xFFFFFFE1u, 0x1F)); /* wraps */
    /* FLAT32 has no GDT: its fields are not looked at. */
    assert_true(boot_msg_ok(BOOT_FLAT32, 0xFFFFFFFF, 0xFFFFFFFF));
    assert_false(boot_msg_ok(0, LINUX_GDT_ADDR, LINUX_GDT_LIMIT));
    assert_false(boot_msg_ok(BOOT_LINUX32 + 1, LINUX_GDT_ADDR, LINUX_GDT_LIMIT));
    /* The message keeps its size: one slot, the same as before the GDT fields. */
    assert_int_equal(sizeof(struct msg_boot), 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_load_layout),
        cmocka_unit_test(test_loader_fields_override_image),
        cmocka_unit_test(test_setup_sects),
        cmocka_unit_test(test_trailing_bytes_ignored),
        cmocka_unit_test(test_ext_mem_capped),
        cmocka_unit_test(test_refuse_truncated),
        cmocka_unit_test(test_refuse_oversized),
        cmocka_unit_test(test_refuse_not_linux),
        cmocka_unit_test(test_refuse_old_protocol),
        cmocka_unit_test(test_header_length),
        cmocka_unit_test(test_refuse_syssize_zero),
        cmocka_unit_test(test_refuse_flags),
        cmocka_unit_test(test_refuse_code32_start),
        cmocka_unit_test(test_ram_bounds),
        cmocka_unit_test(test_kernel_must_fit),
        cmocka_unit_test(test_init_size),
        cmocka_unit_test(test_pref_address),
        cmocka_unit_test(test_relocatable_alignment),
        cmocka_unit_test(test_cmdline_limits),
        cmocka_unit_test(test_initrd_top_of_ram),
        cmocka_unit_test(test_initrd_addr_max),
        cmocka_unit_test(test_initrd_avoids_kernel),
        cmocka_unit_test(test_initrd_refusals),
        cmocka_unit_test(test_legacy_protocol),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_boot_message_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
