/* test_policy_consts.c: the symbolic-name tables a policy can use (monitor/policy_consts.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>

#include <cmocka.h>

#include "monitor/policy.h"

static uint64_t must_lookup(const char *name)
{
	uint64_t v = 0xdeadbeef;
	if (policy_const_lookup(name, &v) != 0)
		fail_msg("constant %s missing from the table", name);
	return v;
}

static void test_required_names_present(void **state)
{
	(void)state;
	static const char *const required[] = {
		"PROT_NONE", "PROT_READ", "PROT_WRITE", "PROT_EXEC", "MAP_SHARED", "MAP_PRIVATE",
		"MAP_FIXED", "MAP_ANONYMOUS", "MAP_NORESERVE", "MAP_POPULATE", "FUTEX_WAIT",
		"FUTEX_WAKE", "FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_PRIVATE_FLAG",
		"FUTEX_CLOCK_REALTIME", "FUTEX_WAIT_PRIVATE", "FUTEX_WAKE_PRIVATE",
		"FUTEX_WAIT_BITSET_PRIVATE", "FUTEX_WAKE_BITSET_PRIVATE", "O_RDONLY", "O_WRONLY",
		"O_RDWR", "O_CLOEXEC", "O_NONBLOCK", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL",
		"F_ADD_SEALS", "F_GET_SEALS", "FD_CLOEXEC", "SIGSYS", "SIGKILL", "SIGTERM",
		"SIGCHLD", "SIGSEGV", "SIGABRT", "CLOCK_REALTIME", "CLOCK_MONOTONIC",
		"CLOCK_MONOTONIC_RAW", "CLOCK_BOOTTIME", "MADV_DONTNEED", "MADV_FREE",
		"MADV_WILLNEED", "TCGETS", "TCSETS", "TIOCGWINSZ", "SIG_BLOCK", "SIG_UNBLOCK",
		"SIG_SETMASK", "EFD_CLOEXEC", "EFD_NONBLOCK", "CLONE_VM", "CLONE_THREAD",
		"CLONE_SETTLS", "CLONE_NEWUSER", "PR_SET_NAME", "PR_SET_NO_NEW_PRIVS",
		"PR_SET_SECCOMP", "PR_SET_PDEATHSIG", "PR_CAPBSET_DROP", "KVM_RUN",
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		must_lookup(required[i]);
}

static void test_values_match_headers(void **state)
{
	(void)state;
	assert_int_equal(must_lookup("PROT_EXEC"), PROT_EXEC);
	assert_int_equal(must_lookup("MAP_ANONYMOUS"), MAP_ANONYMOUS);
	assert_int_equal(must_lookup("FUTEX_WAKE_PRIVATE"), FUTEX_WAKE | FUTEX_PRIVATE_FLAG);
	assert_int_equal(must_lookup("F_ADD_SEALS"), F_ADD_SEALS);
	assert_int_equal(must_lookup("SIGSYS"), 31);
	assert_int_equal(must_lookup("CLOCK_BOOTTIME"), CLOCK_BOOTTIME);
	assert_int_equal(must_lookup("TCGETS"), TCGETS);
	assert_int_equal(must_lookup("CLONE_THREAD"), CLONE_THREAD);
	assert_int_equal(must_lookup("O_RDONLY"), 0);
	/* Negative int constants are what the register holds: sign-extended. */
	assert_true(must_lookup("AT_FDCWD") == (uint64_t)(int64_t)-100);
	assert_true(must_lookup("FUTEX_BITSET_MATCH_ANY") == 0xffffffffu);
}

static void test_unknown_and_near_miss_names(void **state)
{
	(void)state;
	uint64_t v = 7;
	int e = 7;
	assert_int_equal(policy_const_lookup("PROT_FOO", &v), -ENOENT);
	assert_int_equal(policy_const_lookup("prot_read", &v), -ENOENT);
	assert_int_equal(policy_const_lookup("PROT_READ ", &v), -ENOENT);
	assert_int_equal(policy_const_lookup("", &v), -ENOENT);
	assert_int_equal(v, 7);
	/* errno names are only for 'return', constants only for arguments */
	assert_int_equal(policy_const_lookup("EPERM", &v), -ENOENT);
	assert_int_equal(policy_errno_lookup("PROT_READ", &e), -ENOENT);
	assert_int_equal(policy_errno_lookup("EFOO", &e), -ENOENT);
	assert_int_equal(e, 7);
}

static void test_names_unique(void **state)
{
	(void)state;
	size_t n = policy_const_count();
	assert_true(n > 200);
	for (size_t i = 0; i < n; i++) {
		uint64_t vi, vj;
		const char *a = policy_const_at(i, &vi);
		assert_non_null(a);
		for (size_t j = i + 1; j < n; j++) {
			const char *b = policy_const_at(j, &vj);
			if (strcmp(a, b) == 0)
				fail_msg("constant %s listed twice", a);
		}
		uint64_t looked;
		assert_int_equal(policy_const_lookup(a, &looked), 0);
		assert_true(looked == vi);
	}
	assert_null(policy_const_at(n, &(uint64_t){ 0 }));

	size_t ne = policy_errno_count();
	for (size_t i = 0; i < ne; i++) {
		int vi, vj;
		const char *a = policy_errno_at(i, &vi);
		for (size_t j = i + 1; j < ne; j++) {
			const char *b = policy_errno_at(j, &vj);
			if (strcmp(a, b) == 0)
				fail_msg("errno %s listed twice", a);
		}
	}
	assert_null(policy_errno_at(ne, &(int){ 0 }));
}

/* Every errno value Linux defines on x86_64 (1..133 except the two holes) has a name. */
static void test_every_errno_named(void **state)
{
	(void)state;
	for (int e = 1; e <= 133; e++) {
		if (e == 41 || e == 58)
			continue;
		const char *name = policy_errno_name(e);
		if (!name)
			fail_msg("errno %d has no name", e);
		int back = 0;
		assert_int_equal(policy_errno_lookup(name, &back), 0);
		assert_int_equal(back, e);
	}
	assert_null(policy_errno_name(0));
	assert_null(policy_errno_name(41));
	assert_null(policy_errno_name(134));
	/* canonical names win over aliases */
	assert_string_equal(policy_errno_name(EAGAIN), "EAGAIN");
	assert_string_equal(policy_errno_name(EDEADLK), "EDEADLK");
	assert_string_equal(policy_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	int v;
	assert_int_equal(policy_errno_lookup("EWOULDBLOCK", &v), 0);
	assert_int_equal(v, EAGAIN);
	assert_int_equal(policy_errno_lookup("ENOTSUP", &v), 0);
	assert_int_equal(v, EOPNOTSUPP);
	assert_int_equal(policy_errno_lookup("ENOSYS", &v), 0);
	assert_int_equal(v, ENOSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_required_names_present),
		cmocka_unit_test(test_values_match_headers),
		cmocka_unit_test(test_unknown_and_near_miss_names),
		cmocka_unit_test(test_names_unique),
		cmocka_unit_test(test_every_errno_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
