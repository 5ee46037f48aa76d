/*
 * test_ipc_region.c - memfd regions: sizes, seals (nobody can resize a region, not even its
 * creator), mapping an inherited fd, refusing unsealed or wrongly sized fds, and read-only fds
 * (reopened through /proc/self/fd) that can be mapped neither writable nor mprotected to write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/region.h"

static size_t page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static int reopen_readonly(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, O_RDONLY | O_CLOEXEC);
}

static void test_create_sizes(void **state)
{
    (void)state;
    struct region r;
    assert_int_equal(region_create(&r, "t", 0), -EINVAL);
    assert_null(r.base);
    assert_int_equal(r.fd, -1);
    assert_int_equal(region_create(&r, "t", ((size_t)1 << 34) + 1), -EINVAL);
    assert_int_equal(region_create(&r, "t", 1), 0);
    assert_int_equal(r.size, page());
    assert_int_equal(r.prot, PROT_READ | PROT_WRITE);
    struct stat st;
    assert_int_equal(fstat(r.fd, &st), 0);
    assert_int_equal((size_t)st.st_size, page());
    /* Fresh memory is zero and writable. */
    const uint8_t *b = r.base;
    for (size_t i = 0; i < r.size; i++)
        assert_int_equal(b[i], 0);
    memset(r.base, 0x7A, r.size);
    region_destroy(&r);
    assert_null(r.base);
    assert_int_equal(r.fd, -1);
    region_destroy(&r); /* idempotent */

    assert_int_equal(region_create(&r, "t", 3 * page() + 1), 0);
    assert_int_equal(r.size, 4 * page());
    region_destroy(&r);
}

static void test_name_visible(void **state)
{
    (void)state;
    struct region r;
    char path[64], target[256];
    assert_int_equal(region_create(&r, "guest-ram", 4096), 0);
    snprintf(path, sizeof path, "/proc/self/fd/%d", r.fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_non_null(strstr(target, "memfd:cloister:guest-ram"));
    /* close-on-exec: a region fd reaches a child only when the launcher passes it on. */
    assert_true(fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
    region_destroy(&r);
}

static void test_seals_enforced(void **state)
{
    (void)state;
    struct region r;
    assert_int_equal(region_create(&r, "sealed", 2 * page()), 0);
    int seals = fcntl(r.fd, F_GET_SEALS);
    assert_true(seals >= 0);
    assert_true(seals & F_SEAL_SHRINK);
    assert_true(seals & F_SEAL_GROW);
    assert_true(seals & F_SEAL_SEAL);
    assert_false(seals & F_SEAL_WRITE);
    errno = 0;
    assert_int_equal(ftruncate(r.fd, 0), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ftruncate(r.fd, (off_t)page()), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ftruncate(r.fd, (off_t)(4 * page())), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(fallocate(r.fd, 0, 0, (off_t)(8 * page())), -1);
    assert_int_equal(errno, EPERM);
    /* Sealing is itself sealed: nobody can add F_SEAL_WRITE and freeze the peer's writes. */
    assert_int_equal(fcntl(r.fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
    assert_int_equal(errno, EPERM);
    struct stat st;
    assert_int_equal(fstat(r.fd, &st), 0);
    assert_int_equal((size_t)st.st_size, 2 * page());
    /* The same holds through a second, read-only, fd. */
    int ro = reopen_readonly(r.fd);
    assert_true(ro >= 0);
    assert_int_equal(ftruncate(ro, 0), -1);
    close(ro);
    region_destroy(&r);
}

static void test_map_fd_shares_memory(void **state)
{
    (void)state;
    struct region a, b;
    assert_int_equal(region_create(&a, "shared", 8192), 0);
    assert_int_equal(region_map_fd(&b, a.fd, PROT_READ | PROT_WRITE, a.size), 0);
    assert_int_equal(b.size, a.size);
    assert_int_equal(b.fd, a.fd);
    assert_ptr_not_equal(a.base, b.base);
    ((volatile uint32_t *)a.base)[100] = 0xC0FFEE;
    assert_int_equal(((volatile uint32_t *)b.base)[100], 0xC0FFEE);
    ((volatile uint8_t *)b.base)[b.size - 1] = 0x42;
    assert_int_equal(((volatile uint8_t *)a.base)[a.size - 1], 0x42);
    /* Closing the fd keeps both mappings alive. */
    int fd = a.fd;
    region_close_fd(&a);
    assert_int_equal(a.fd, -1);
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    b.fd = -1; /* same fd number, already closed */
    ((volatile uint8_t *)b.base)[5] = 9;
    assert_int_equal(((volatile uint8_t *)a.base)[5], 9);
    region_destroy(&a);
    region_destroy(&b);
}

static void test_map_fd_checks(void **state)
{
    (void)state;
    struct region a, b;
    assert_int_equal(region_create(&a, "checks", 8192), 0);
    /* Any expected size but the real one is refused; zero means "whatever it is". */
    assert_int_equal(region_map_fd(&b, a.fd, PROT_READ, 4096), -EINVAL);
    assert_null(b.base);
    assert_int_equal(region_map_fd(&b, a.fd, PROT_READ, 8193), -EINVAL);
    assert_int_equal(region_map_fd(&b, a.fd, PROT_READ, 0), 0);
    assert_int_equal(b.size, 8192);
    region_destroy(&b);
    /* Executable, write-only and empty protections are never granted. */
    assert_int_equal(region_map_fd(&b, a.fd, PROT_READ | PROT_EXEC, 0), -EINVAL);
    assert_int_equal(region_map_fd(&b, a.fd, PROT_READ | PROT_WRITE | PROT_EXEC, 0), -EINVAL);
    assert_int_equal(region_map_fd(&b, a.fd, PROT_WRITE, 0), -EINVAL);
    assert_int_equal(region_map_fd(&b, a.fd, PROT_NONE, 0), -EINVAL);
    assert_int_equal(region_map_fd(&b, -1, PROT_READ, 0), -EBADF);
    region_destroy(&a);
}

static void test_map_fd_refuses_unsealed(void **state)
{
    (void)state;
    struct region b;
    /* A memfd a hostile holder could still shrink under our mapping (SIGBUS on access). */
    int fd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    assert_int_equal(region_map_fd(&b, fd, PROT_READ | PROT_WRITE, 0), -EPERM);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
    assert_int_equal(region_map_fd(&b, fd, PROT_READ | PROT_WRITE, 0), -EPERM);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
    assert_int_equal(region_map_fd(&b, fd, PROT_READ | PROT_WRITE, 0), 0);
    region_destroy(&b);
    /* A memfd without sealing support at all. */
    fd = memfd_create("nosealing", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    assert_int_equal(region_map_fd(&b, fd, PROT_READ, 0), -EPERM);
    close(fd);
    /* Empty files and things that are not files at all. */
    fd = memfd_create("empty", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(region_map_fd(&b, fd, PROT_READ, 0), -EINVAL);
    close(fd);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_true(region_map_fd(&b, p[0], PROT_READ, 0) < 0);
    assert_null(b.base);
    close(p[0]);
    close(p[1]);
}

static void test_readonly_fd(void **state)
{
    (void)state;
    struct region rw, ro;
    assert_int_equal(region_create(&rw, "ro-test", 3 * page()), 0);
    memcpy(rw.base, "guest bytes", 12);
    int fd = reopen_readonly(rw.fd);
    assert_true(fd >= 0);
    assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    /* Asking for a writable mapping of a read-only fd fails ... */
    assert_int_equal(region_map_fd(&ro, fd, PROT_READ | PROT_WRITE, 0), -EACCES);
    assert_null(ro.base);
    void *p = mmap(NULL, rw.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_ptr_equal(p, MAP_FAILED);
    assert_int_equal(errno, EACCES);
    /* ... a read-only mapping works and sees the creator's data ... */
    assert_int_equal(region_map_fd(&ro, fd, PROT_READ, rw.size), 0);
    assert_int_equal(ro.prot, PROT_READ);
    assert_memory_equal(ro.base, "guest bytes", 12);
    /* ... and cannot be made writable afterwards, on any page. */
    errno = 0;
    assert_int_equal(mprotect(ro.base, ro.size, PROT_READ | PROT_WRITE), -1);
    assert_int_equal(errno, EACCES);
    assert_int_equal(mprotect((char *)ro.base + page(), page(), PROT_WRITE), -1);
    assert_int_equal(errno, EACCES);
    /* Nor can the fd itself be written to or resized. */
    assert_int_equal(pwrite(fd, "x", 1, 0), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(ftruncate(fd, 0), -1);
    /* The creator's later writes are still visible through the read-only mapping. */
    ((volatile char *)rw.base)[0] = 'G';
    assert_int_equal(((volatile char *)ro.base)[0], 'G');
    region_destroy(&ro);
    region_destroy(&rw);
}

static void test_span_ok(void **state)
{
    (void)state;
    struct region r = {.fd = -1, .base = NULL, .size = 4096, .prot = PROT_READ};
    assert_true(region_span_ok(&r, 0, 0));
    assert_true(region_span_ok(&r, 0, 4096));
    assert_true(region_span_ok(&r, 4096, 0));
    assert_true(region_span_ok(&r, 4095, 1));
    assert_false(region_span_ok(&r, 4095, 2));
    assert_false(region_span_ok(&r, 4097, 0));
    assert_false(region_span_ok(&r, 0, 4097));
    assert_false(region_span_ok(&r, 1, UINT64_MAX));
    assert_false(region_span_ok(&r, UINT64_MAX, 1));
    assert_false(region_span_ok(&r, UINT64_MAX, UINT64_MAX));
    assert_false(region_span_ok(&r, 4096, UINT64_MAX - 4095));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_sizes),
        cmocka_unit_test(test_name_visible),
        cmocka_unit_test(test_seals_enforced),
        cmocka_unit_test(test_map_fd_shares_memory),
        cmocka_unit_test(test_map_fd_checks),
        cmocka_unit_test(test_map_fd_refuses_unsealed),
        cmocka_unit_test(test_readonly_fd),
        cmocka_unit_test(test_span_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
