/*
 * test_loader_multiboot.c - the Multiboot 1 loader (monitor/loader_multiboot.c) on synthetic
 * ELF32 and a.out-kludge kernels: header detection, loading (segments, bss, entry translation),
 * the info structure, memory map and command line, and every refusal.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/loader.h"
#include "tests/loader/images.h"

#define MiB (1024u * 1024u)
#define RAM_FILL 0xA5
#define PT_LOAD 1

static uint8_t *ram_new(size_t size)
{
    uint8_t *r = malloc(size);
    assert_non_null(r);
    memset(r, RAM_FILL, size);
    return r;
}

static void expect_refused(const uint8_t *im, size_t size, const char *cmd, size_t ram_size,
                           const char *needle)
{
    uint8_t *ram = ram_new(ram_size);
    struct msg_boot b;
    struct loader_error e;
    memset(&e, 0, sizeof e);
    int rc = multiboot_load(im, size, cmd, ram, ram_size, &b, &e);
    if (rc != -EINVAL || !strstr(e.msg, needle))
        fail_msg("wanted a refusal mentioning \"%s\", got rc %d \"%s\"", needle, rc, e.msg);
    free(ram);
}

static void load_ok(const uint8_t *im, size_t size, const char *cmd, uint8_t *ram, size_t ram_size,
                    struct msg_boot *b)
{
    struct loader_error e;
    memset(&e, 0, sizeof e);
    int rc = multiboot_load(im, size, cmd, ram, ram_size, b, &e);
    if (rc != 0)
        fail_msg("load failed: %s", e.msg);
}

/* Two segments: text at 1 MiB (virtual 0xC0100000) and data + bss at 2 MiB. */
#define TEXT_OFF 0x1000u
#define TEXT_SIZE 0x800u
#define DATA_OFF 0x1800u
#define DATA_FILE 0x100u
#define DATA_MEM 0x2000u
#define FILE_SIZE 0x1900u

static void two_segments(struct mb_seg s[2])
{
    s[0] = (struct mb_seg){PT_LOAD, TEXT_OFF, 0xC0100000u, 0x100000u, TEXT_SIZE, TEXT_SIZE};
    s[1] = (struct mb_seg){PT_LOAD, DATA_OFF, 0xC0200000u, 0x200000u, DATA_FILE, DATA_MEM};
}

/* ---- detection ---- */

static void put_header(uint8_t *p, uint32_t magic, uint32_t flags, uint32_t checksum)
{
    put32(p, magic);
    put32(p + 4, flags);
    put32(p + 8, checksum);
}

static void test_detect(void **state)
{
    (void)state;
    uint8_t *f = calloc(1, 9000);
    assert_non_null(f);
    assert_false(multiboot_detect(f, 9000));
    assert_false(multiboot_detect(f, 0));
    /* The last 4-aligned place where 12 bytes fit in the first 8 KiB. */
    put_header(f + 8180, MBT_MAGIC, 3, 0u - MBT_MAGIC - 3);
    assert_true(multiboot_detect(f, 9000));
    assert_true(multiboot_detect(f, 8192));
    assert_false(multiboot_detect(f, 8191)); /* cut */
    memset(f + 8180, 0, 12);
    put_header(f + 8184, MBT_MAGIC, 3, 0u - MBT_MAGIC - 3); /* crosses 8 KiB */
    assert_false(multiboot_detect(f, 9000));
    memset(f + 8184, 0, 12);
    put_header(f + 2, MBT_MAGIC, 0, 0u - MBT_MAGIC); /* not 4-aligned */
    assert_false(multiboot_detect(f, 9000));
    memset(f, 0, 16);
    put_header(f + 4, MBT_MAGIC, 0, 0u - MBT_MAGIC + 1); /* bad checksum */
    assert_false(multiboot_detect(f, 9000));
    put_header(f + 4, MBT_MAGIC + 1, 0, 0u - MBT_MAGIC - 1); /* bad magic */
    assert_false(multiboot_detect(f, 9000));
    put_header(f + 4, MBT_MAGIC, 0, 0u - MBT_MAGIC);
    assert_true(multiboot_detect(f, 16));
    assert_false(multiboot_detect(f, 15));
    free(f);
}

/* ---- ELF ---- */

static void check_info(const uint8_t *ram, size_t ram_size, const char *cmd)
{
    const uint8_t *info = ram + MB_INFO_ADDR;
    assert_int_equal(get32(info), cmd ? 0x45 : 0x41);
    assert_int_equal(get32(info + 4), 639);
    assert_int_equal(get32(info + 8), (ram_size - MiB) / 1024);
    assert_int_equal(get32(info + 44), 48);
    assert_int_equal(get32(info + 48), MB_MMAP_ADDR);
    const uint8_t *mm = ram + MB_MMAP_ADDR;
    assert_int_equal(get32(mm), 20);
    assert_true(get64(mm + 4) == 0);
    assert_true(get64(mm + 12) == 0x9FC00);
    assert_int_equal(get32(mm + 20), 1);
    assert_int_equal(get32(mm + 24), 20);
    assert_true(get64(mm + 28) == MiB);
    assert_true(get64(mm + 36) == ram_size - MiB);
    assert_int_equal(get32(mm + 44), 1);
    if (cmd) {
        assert_int_equal(get32(info + 16), MB_CMDLINE_ADDR);
        assert_string_equal((const char *)ram + MB_CMDLINE_ADDR, cmd);
    }
}

static void test_elf_load(void **state)
{
    (void)state;
    struct mb_seg s[3];
    two_segments(s);
    /* A non-loadable header with nonsense addresses is ignored. */
    s[2] = (struct mb_seg){4 /* PT_NOTE */, 0xFFFFFF00u, 0x10, 0x10, 0xFFFF, 0xFFFF};
    uint8_t *f = mb_build_elf(0x3, 0xC0100010u, s, 3, FILE_SIZE);
    uint8_t *ram = ram_new(4 * MiB);
    struct msg_boot b;
    load_ok(f, FILE_SIZE, "console=com1", ram, 4 * MiB, &b);
    assert_int_equal(b.mode, BOOT_FLAT32);
    assert_int_equal(b.entry, 0x100010);
    assert_int_equal(b.eax, 0x2BADB002);
    assert_int_equal(b.ebx, MB_INFO_ADDR);
    assert_int_equal(b.esp, MB_STACK_TOP);
    assert_int_equal(b.esi, 0);
    struct msg m;
    msg_set(&m, MSG_CTL_BOOT, &b, sizeof b);
    assert_int_equal(msg_check(&m, CHAN_CTL, DIR_REQ), 0);
    assert_memory_equal(ram + 0x100000, f + TEXT_OFF, TEXT_SIZE);
    assert_memory_equal(ram + 0x200000, f + DATA_OFF, DATA_FILE);
    for (size_t i = DATA_FILE; i < DATA_MEM; i++)
        assert_int_equal(ram[0x200000 + i], 0); /* bss */
    assert_int_equal(ram[0x100000 + TEXT_SIZE], RAM_FILL);
    assert_int_equal(ram[0x200000 + DATA_MEM], RAM_FILL);
    check_info(ram, 4 * MiB, "console=com1");
    free(ram);

    /* Without a command line the flag stays clear. */
    ram = ram_new(4 * MiB);
    load_ok(f, FILE_SIZE, NULL, ram, 4 * MiB, &b);
    check_info(ram, 4 * MiB, NULL);
    free(ram);
    free(f);
}

static void test_elf_entry_in_second_segment(void **state)
{
    (void)state;
    struct mb_seg s[2];
    two_segments(s);
    uint8_t *f = mb_build_elf(0, 0xC0201FFFu, s, 2, FILE_SIZE); /* last byte of the bss */
    uint8_t *ram = ram_new(4 * MiB);
    struct msg_boot b;
    load_ok(f, FILE_SIZE, NULL, ram, 4 * MiB, &b);
    assert_int_equal(b.entry, 0x201FFF);
    free(ram);
    free(f);
    f = mb_build_elf(0, 0xC0202000u, s, 2, FILE_SIZE); /* one past it */
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "entry point 0xc0202000 is not inside");
    free(f);
    f = mb_build_elf(0, 0x100000u, s, 2, FILE_SIZE); /* a physical address is not virtual */
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "entry point");
    free(f);
}

static void test_elf_refusals(void **state)
{
    (void)state;
    struct mb_seg s[2];
    uint8_t *f;

    two_segments(s);
    f = mb_build_elf(0, 0xC0100000u, s, 2, FILE_SIZE);
    f[0] = 0x7E;
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "not an ELF file");
    f[0] = 0x7F;
    f[4] = 2; /* ELFCLASS64 */
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "not a 32-bit little-endian ELF");
    f[4] = 1;
    f[5] = 2; /* big-endian */
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "not a 32-bit little-endian ELF");
    f[5] = 1;
    put16(f + 18, 62); /* x86-64 */
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "not an i386 ELF executable");
    put16(f + 18, 3);
    put16(f + 16, 1); /* ET_REL */
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "not an i386 ELF executable");
    put16(f + 16, 2);
    put32(f + 28, FILE_SIZE - 32); /* program headers run off the end */
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "program headers out of range");
    put32(f + 28, 0xFFFFFFF0u);
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "program headers out of range");
    put32(f + 28, 52);
    put16(f + 42, 31);
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "program headers out of range");
    put16(f + 42, 32);
    put16(f + 44, 0);
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "program headers out of range");
    put16(f + 44, 65);
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "program headers out of range");
    put16(f + 44, 2);
    /* Still loads after all of that was put back. */
    uint8_t *ram = ram_new(4 * MiB);
    struct msg_boot b;
    load_ok(f, FILE_SIZE, NULL, ram, 4 * MiB, &b);
    free(ram);
    free(f);

    /* A file of only a multiboot header: too short to be an ELF file. */
    uint8_t tiny[48] = {0};
    put_header(tiny, MBT_MAGIC, 0, 0u - MBT_MAGIC);
    expect_refused(tiny, sizeof tiny, NULL, 4 * MiB, "not an ELF file");

    struct {
        struct mb_seg data;
        const char *needle;
    } cases[] = {
        {{PT_LOAD, DATA_OFF, 0xC0200000u, 0x200000u, 0x200, 0x100}, "segment 1: file size larger"},
        {{PT_LOAD, DATA_OFF, 0xC0200000u, 0x200000u, 0x101, 0x2000},
         "segment 1: data beyond the end"},
        {{PT_LOAD, 0xFFFFFFFFu, 0xC0200000u, 0x200000u, 0x2, 0x2},
         "segment 1: data beyond the end"},
        {{PT_LOAD, DATA_OFF, 0xC00FF000u, 0xFF000u, 0x100, 0x100},
         "segment 1 at 0xff000 is below 1 MiB"},
        {{PT_LOAD, DATA_OFF, 0, 0, 0x100, 0x100}, "below 1 MiB"},
        {{PT_LOAD, DATA_OFF, 0xC0200000u, 0x3FFF00u, 0x100, 0x101},
         "segment 1 at 0x3fff00 (+0x101) does not fit"},
        {{PT_LOAD, DATA_OFF, 0xC0200000u, 0xFFFFF000u, 0x100, 0x2000}, "does not fit"},
        {{PT_LOAD, DATA_OFF, 0xC0200000u, 0x200000u, 0, 0xFFFFFFFFu}, "does not fit"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        two_segments(s);
        s[1] = cases[i].data;
        f = mb_build_elf(0, 0xC0100000u, s, 2, FILE_SIZE);
        expect_refused(f, FILE_SIZE, NULL, 4 * MiB, cases[i].needle);
        free(f);
    }
    /* Exactly filling RAM is fine. */
    two_segments(s);
    s[1].paddr = 4 * MiB - DATA_MEM;
    f = mb_build_elf(0, 0xC0100000u, s, 2, FILE_SIZE);
    ram = ram_new(4 * MiB);
    load_ok(f, FILE_SIZE, NULL, ram, 4 * MiB, &b);
    assert_int_equal(ram[4 * MiB - 1], 0);
    free(ram);
    free(f);

    /* Nothing loadable. */
    two_segments(s);
    s[0].type = 2;
    s[1].type = 6;
    f = mb_build_elf(0, 0xC0100000u, s, 2, FILE_SIZE);
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "no loadable segment");
    free(f);
}

static void test_required_features(void **state)
{
    (void)state;
    struct mb_seg s[2];
    two_segments(s);
    for (unsigned bit = 0; bit < 16; bit++) {
        uint8_t *f = mb_build_elf(1u << bit, 0xC0100000u, s, 2, FILE_SIZE);
        if (bit < 2) {
            uint8_t *ram = ram_new(4 * MiB);
            struct msg_boot b;
            load_ok(f, FILE_SIZE, NULL, ram, 4 * MiB, &b);
            free(ram);
        } else {
            char needle[64];
            snprintf(needle, sizeof needle, "requires features 0x%x", 1u << bit);
            expect_refused(f, FILE_SIZE, NULL, 4 * MiB, needle);
        }
        free(f);
    }
    /* Optional bits (16 and up) other than the a.out kludge are not requirements. */
    uint8_t *f = mb_build_elf(0xFFFE0003u & ~(1u << 16), 0xC0100000u, s, 2, FILE_SIZE);
    uint8_t *ram = ram_new(4 * MiB);
    struct msg_boot b;
    load_ok(f, FILE_SIZE, NULL, ram, 4 * MiB, &b);
    free(ram);
    free(f);
}

static void test_no_header(void **state)
{
    (void)state;
    struct mb_seg s[2];
    two_segments(s);
    uint8_t *f = mb_build_elf(0, 0xC0100000u, s, 2, FILE_SIZE);
    expect_refused(f, 0, NULL, 4 * MiB, "no multiboot header");
    expect_refused(NULL, 0, NULL, 4 * MiB, "no multiboot header");
    expect_refused(f, MBT_HDR_OFF + 11, NULL, 4 * MiB, "no multiboot header");
    f[MBT_HDR_OFF + 8]++; /* checksum */
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "no multiboot header");
    f[MBT_HDR_OFF + 8]--;
    f[MBT_HDR_OFF]++; /* magic */
    expect_refused(f, FILE_SIZE, NULL, 4 * MiB, "no multiboot header");
    free(f);
}

static void test_every_prefix(void **state)
{
    (void)state;
    struct mb_seg s[2];
    two_segments(s);
    uint8_t *f = mb_build_elf(0, 0xC0100000u, s, 2, FILE_SIZE);
    uint8_t *ram = ram_new(4 * MiB);
    for (size_t n = 0; n < FILE_SIZE; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, f, n);
        struct msg_boot b;
        struct loader_error e;
        memset(&e, 0, sizeof e);
        assert_int_equal(multiboot_load(copy, n, NULL, ram, 4 * MiB, &b, &e), -EINVAL);
        assert_true(e.msg[0] != 0);
        free(copy);
    }
    free(ram);
    free(f);
}

/* ---- a.out kludge ---- */

static void test_aout_load(void **state)
{
    (void)state;
    /* Header 0x100 into the file, file loaded from offset 0 at 1 MiB. */
    size_t size = 0x2000;
    uint8_t *f = mb_build_aout(0x2, 0x100100, 0x100000, 0x101800, 0x104000, 0x100020, size);
    uint8_t *ram = ram_new(4 * MiB);
    struct msg_boot b;
    load_ok(f, size, "x", ram, 4 * MiB, &b);
    assert_int_equal(b.entry, 0x100020);
    assert_int_equal(b.mode, BOOT_FLAT32);
    assert_memory_equal(ram + 0x100000, f, 0x1800);
    for (size_t i = 0x1800; i < 0x4000; i++)
        assert_int_equal(ram[0x100000 + i], 0);
    assert_int_equal(ram[0x104000], RAM_FILL);
    check_info(ram, 4 * MiB, "x");
    free(ram);
    free(f);

    /* load_end_addr 0: the rest of the file; bss_end_addr 0: no bss. */
    f = mb_build_aout(0, 0x100100, 0x100000, 0, 0, 0x100000, size);
    ram = ram_new(4 * MiB);
    load_ok(f, size, NULL, ram, 4 * MiB, &b);
    assert_memory_equal(ram + 0x100000, f, size);
    assert_int_equal(ram[0x100000 + size], RAM_FILL);
    free(ram);
    free(f);

    /* The image starts after the file's first bytes: header_addr - load_addr < header offset. */
    f = mb_build_aout(0, 0x200080, 0x200000, 0x200400, 0, 0x2003FF, size);
    ram = ram_new(4 * MiB);
    load_ok(f, size, NULL, ram, 4 * MiB, &b);
    assert_memory_equal(ram + 0x200000, f + 0x80, 0x400);
    assert_int_equal(ram[0x200400], RAM_FILL);
    assert_int_equal(b.entry, 0x2003FF);
    free(ram);
    free(f);
}

static void test_aout_refusals(void **state)
{
    (void)state;
    size_t size = 0x2000;
    struct {
        uint32_t header_addr, load_addr, load_end, bss_end, entry;
        const char *needle;
    } cases[] = {
        {0x0FFFFF, 0x100000, 0, 0, 0x100000, "header_addr/load_addr inconsistent"},
        {0x100101, 0x100000, 0, 0, 0x100000, "header_addr/load_addr inconsistent"},
        {0x100100, 0x100000, 0x102001, 0, 0x100000, "load_end_addr beyond the end of the file"},
        {0x100100, 0x100000, 0x0FFFFF, 0, 0x100000, "load_end_addr beyond the end of the file"},
        {0x100100, 0x100000, 0x101000, 0x100FFF, 0x100000, "bss_end_addr before load_end_addr"},
        {0x0FF100, 0x0FF000, 0, 0, 0x0FF000, "kernel image at 0xff000 is below 1 MiB"},
        {0x3FF100, 0x3FF000, 0, 0, 0x3FF000, "does not fit"},
        {0x100100, 0x100000, 0x101000, 0x400001, 0x100000, "does not fit"},
        {0x100100, 0x100000, 0x101000, 0xFFFFFFFF, 0x100000, "does not fit"},
        {0x100100, 0x100000, 0x101000, 0, 0x0FFFFF, "entry point 0xfffff is outside"},
        {0x100100, 0x100000, 0x101000, 0x102000, 0x101000, "entry point 0x101000 is outside"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *f = mb_build_aout(0, cases[i].header_addr, cases[i].load_addr, cases[i].load_end,
                                   cases[i].bss_end, cases[i].entry, size);
        expect_refused(f, size, NULL, 4 * MiB, cases[i].needle);
        free(f);
    }
    /* The kludge flag with only 12 header bytes left in the file. */
    uint8_t *f = mb_build_aout(0, 0x100100, 0x100000, 0, 0, 0x100000, size);
    expect_refused(f, MBT_HDR_OFF + 12, NULL, 4 * MiB, "multiboot header truncated");
    expect_refused(f, MBT_HDR_OFF + 31, NULL, 4 * MiB, "multiboot header truncated");
    free(f);
}

/* ---- command line and RAM ---- */

static void test_cmdline_and_ram(void **state)
{
    (void)state;
    struct mb_seg s[2];
    two_segments(s);
    uint8_t *f = mb_build_elf(0, 0xC0100000u, s, 2, FILE_SIZE);
    char *line = malloc(MB_CMDLINE_MAX + 1);
    assert_non_null(line);
    memset(line, 'c', MB_CMDLINE_MAX);
    line[MB_CMDLINE_MAX] = 0;
    expect_refused(f, FILE_SIZE, line, 4 * MiB, "command line longer than 3071");
    line[MB_CMDLINE_MAX - 1] = 0;
    uint8_t *ram = ram_new(4 * MiB);
    struct msg_boot b;
    load_ok(f, FILE_SIZE, line, ram, 4 * MiB, &b);
    assert_string_equal((char *)ram + MB_CMDLINE_ADDR, line);
    free(ram);
    free(line);

    expect_refused(f, FILE_SIZE, NULL, 2 * MiB - 1, "RAM size");
    /* Too much RAM is refused before RAM is touched: a small buffer stands in. */
    uint8_t stand_in[16];
    struct loader_error e;
    memset(&e, 0, sizeof e);
    assert_int_equal(multiboot_load(f, FILE_SIZE, NULL, stand_in, 0xC0000001u, &b, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "RAM size"));
    free(f);

    /* At the minimum RAM size the data segment at 2 MiB no longer fits. */
    two_segments(s);
    f = mb_build_elf(0, 0xC0100000u, s, 2, FILE_SIZE);
    expect_refused(f, FILE_SIZE, NULL, 2 * MiB, "segment 1 at 0x200000");
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_elf_load),
        cmocka_unit_test(test_elf_entry_in_second_segment),
        cmocka_unit_test(test_elf_refusals),
        cmocka_unit_test(test_required_features),
        cmocka_unit_test(test_no_header),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_aout_load),
        cmocka_unit_test(test_aout_refusals),
        cmocka_unit_test(test_cmdline_and_ram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
