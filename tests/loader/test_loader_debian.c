/*
 * test_loader_debian.c - the Linux loader on the real default guest: Debian 12's i686 kernel
 * and the busybox initramfs that scripts/build-guest.sh makes in build/guest/ (or in
 * $CLOISTER_GUEST_DIR). Checks the zero page, the placement of the kernel, its decompression
 * region and the initrd against what the kernel's own header asks for.
 *
 * Without the files the test reports itself as skipped (exit code 77, ctest's SKIP_RETURN_CODE)
 * and says how to build them: a skip is never counted as a pass.
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
#define RAM_SIZE (128 * MiB)
#define SKIP_CODE 77

struct file {
    uint8_t *data;
    size_t size;
};

struct guest {
    struct file kernel, initrd;
};

static int read_file(const char *path, struct file *f)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    int rc = -1;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long n = ftell(fp);
        if (n > 0 && n <= (long)(256 * MiB) && fseek(fp, 0, SEEK_SET) == 0) {
            f->data = malloc((size_t)n);
            f->size = (size_t)n;
            if (f->data && fread(f->data, 1, f->size, fp) == f->size)
                rc = 0;
        }
    }
    fclose(fp);
    return rc;
}

static void guest_dir(char *out, size_t n)
{
    const char *dir = getenv("CLOISTER_GUEST_DIR");
    const char *src = getenv("CLOISTER_SRC");
    if (dir && *dir)
        snprintf(out, n, "%s", dir);
    else
        snprintf(out, n, "%s/build/guest", src && *src ? src : ".");
}

static uint32_t run_address(const uint8_t *k)
{
    uint32_t align = get32(k + 0x230);
    uint64_t pref = get64(k + 0x258);
    uint64_t aligned = ((uint64_t)0x100000 + align - 1) & ~(uint64_t)(align - 1);
    return (uint32_t)(k[0x234] && aligned > pref ? aligned : pref);
}

static void test_header_is_what_we_expect(void **state)
{
    const struct guest *g = *state;
    const uint8_t *k = g->kernel.data;
    assert_true(linux_detect(k, g->kernel.size));
    assert_false(multiboot_detect(k, g->kernel.size) && !linux_detect(k, g->kernel.size));
    uint16_t version = get16(k + 0x206);
    printf("# kernel: protocol %u.%02u, setup_sects %u, syssize %u bytes, init_size 0x%x, "
           "pref_address 0x%llx, kernel_alignment 0x%x, relocatable %u\n",
           version >> 8, version & 0xFF, k[0x1F1], get32(k + 0x1F4) * 16, get32(k + 0x260),
           (unsigned long long)get64(k + 0x258), get32(k + 0x230), k[0x234]);
    assert_true(version >= 0x020F); /* Linux 6.1 speaks 2.15 */
    assert_true(k[0x211] & 0x01);   /* LOADED_HIGH */
    assert_int_equal(get32(k + 0x214), 0x100000);
    assert_false(get16(k + 0x236) & 0x1); /* not a 64-bit kernel */
}

static void test_load_debian_kernel(void **state)
{
    const struct guest *g = *state;
    const uint8_t *k = g->kernel.data;
    uint8_t *ram = malloc(RAM_SIZE);
    assert_non_null(ram);
    memset(ram, 0xA5, RAM_SIZE);
    const char *cmd = "console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 nokaslr "
                      "mitigations=off acpi=off rdinit=/init";
    struct msg_boot b;
    struct loader_error e;
    memset(&e, 0, sizeof e);
    int rc =
        linux_load(k, g->kernel.size, g->initrd.data, g->initrd.size, cmd, ram, RAM_SIZE, &b, &e);
    if (rc != 0)
        fail_msg("the Debian kernel was refused: %s", e.msg);

    assert_int_equal(b.mode, BOOT_LINUX32);
    assert_int_equal(b.entry, 0x100000);
    assert_int_equal(b.esi, LINUX_ZERO_PAGE_ADDR);
    struct msg m;
    msg_set(&m, MSG_CTL_BOOT, &b, sizeof b);
    assert_int_equal(msg_check(&m, CHAN_CTL, DIR_REQ), 0);

    const uint8_t *zp = ram + LINUX_ZERO_PAGE_ADDR;
    size_t hdr_end = 0x202u + k[0x201];
    for (size_t i = 0x1F1; i < hdr_end; i++) {
        int loader_owned =
            i == 0x210 || i == 0x211 || (i >= 0x218 && i < 0x220) || (i >= 0x224 && i < 0x22C);
        if (!loader_owned && zp[i] != k[i])
            fail_msg("zero page byte 0x%zx is 0x%02x, the kernel's header has 0x%02x", i, zp[i],
                     k[i]);
    }
    assert_int_equal(zp[0x210], 0xFF);
    assert_true(zp[0x211] & 0x80);
    assert_false(zp[0x211] & 0x40);
    assert_string_equal((const char *)ram + get32(zp + 0x228), cmd);
    assert_true(strlen(cmd) <= get32(k + 0x238));
    assert_int_equal(zp[0x1E8], 4);
    assert_true(get64(zp + 0x2D0 + 60 + 8) == RAM_SIZE - MiB);

    /* The protected-mode kernel, byte for byte, at 1 MiB. */
    size_t setup_off = (size_t)((k[0x1F1] ? k[0x1F1] : 4) + 1) * 512;
    size_t pm = (size_t)get32(k + 0x1F4) * 16;
    assert_memory_equal(ram + 0x100000, k + setup_off, pm);

    /* The initrd at the top of RAM (below initrd_addr_max), clear of the decompression region. */
    uint32_t addr = get32(zp + 0x218), size = get32(zp + 0x21C);
    uint64_t top = (uint64_t)get32(k + 0x22C) + 1;
    if (top > RAM_SIZE)
        top = RAM_SIZE;
    printf("# initrd: %u bytes at 0x%x; kernel runs at 0x%x..0x%llx\n", size, addr, run_address(k),
           (unsigned long long)run_address(k) + get32(k + 0x260));
    assert_int_equal(size, g->initrd.size);
    assert_int_equal(addr, (uint32_t)((top - size) & ~4095ull));
    assert_true(addr >= (uint64_t)run_address(k) + get32(k + 0x260));
    assert_memory_equal(ram + addr, g->initrd.data, size);
    assert_int_equal(ram[addr], 0x1F); /* gzip */
    assert_int_equal(ram[addr + 1], 0x8B);
    free(ram);
}

/* The smallest RAM the kernel fits in is exactly its run address + init_size. */
static void test_debian_kernel_ram_minimum(void **state)
{
    const struct guest *g = *state;
    const uint8_t *k = g->kernel.data;
    size_t need = (size_t)run_address(k) + get32(k + 0x260);
    uint8_t *ram = malloc(need);
    assert_non_null(ram);
    struct msg_boot b;
    struct loader_error e;
    memset(&e, 0, sizeof e);
    assert_int_equal(linux_load(k, g->kernel.size, NULL, 0, "", ram, need - 1, &b, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "init_size"));
    printf("# with %zu bytes of RAM: %s\n", need - 1, e.msg);
    assert_int_equal(linux_load(k, g->kernel.size, NULL, 0, "", ram, need, &b, &e), 0);
    free(ram);
}

int main(void)
{
    char dir[4096], kpath[4200], ipath[4200];
    guest_dir(dir, sizeof dir);
    snprintf(kpath, sizeof kpath, "%s/bzImage", dir);
    snprintf(ipath, sizeof ipath, "%s/initramfs.cpio.gz", dir);
    struct guest g;
    memset(&g, 0, sizeof g);
    if (read_file(kpath, &g.kernel) < 0 || read_file(ipath, &g.initrd) < 0) {
        printf("SKIPPED: test_loader_debian: no default guest at %s (bzImage, initramfs.cpio.gz); "
               "build it with scripts/build-guest.sh. This is a skip, not a pass.\n",
               dir);
        free(g.kernel.data);
        free(g.initrd.data);
        return SKIP_CODE;
    }
    printf("# guest files: %s (%zu bytes), %s (%zu bytes)\n", kpath, g.kernel.size, ipath,
           g.initrd.size);
    void *state = &g;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_header_is_what_we_expect, state),
        cmocka_unit_test_prestate(test_load_debian_kernel, state),
        cmocka_unit_test_prestate(test_debian_kernel_ram_minimum, state),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g.kernel.data);
    free(g.initrd.data);
    return rc;
}
