/* test_policy_parse.c: policy text -> rules (monitor/policy_parse.c).
 * Every malformed input must give exactly "FILE:LINE: reason"; well-formed input must give
 * exactly the expected rules; @include must stay inside its tree. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/policy.h"

/* ---- helpers ---- */

static struct policy *parse_ok_len(const char *text, size_t len)
{
	struct policy *p = NULL;
	struct policy_error err;
	int rc = policy_parse_buffer("t.policy", text, len, &p, &err);
	if (rc != 0)
		fail_msg("unexpected parse failure %d: %s", rc, err.msg);
	assert_non_null(p);
	return p;
}

static struct policy *parse_ok(const char *text)
{
	return parse_ok_len(text, strlen(text));
}

static void expect_error_len(const char *text, size_t len, const char *msg)
{
	struct policy *p = (struct policy *)&p; /* must be reset to NULL */
	struct policy_error err;
	int rc = policy_parse_buffer("t.policy", text, len, &p, &err);
	assert_int_equal(rc, -EINVAL);
	assert_null(p);
	assert_string_equal(err.msg, msg);
}

static void expect_error(const char *text, const char *msg)
{
	expect_error_len(text, strlen(text), msg);
}

static void data_path(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", POLICY_TEST_DATA, name);
	assert_true(n > 0 && (size_t)n < size);
}

static void expect_file_error(const char *name, int want_rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* FMT gets the data directory as its first %s wherever the message names a file. */
static void expect_file_error(const char *name, int want_rc, const char *fmt, ...)
{
	char path[PATH_MAX], want[1024];
	struct policy *p = (struct policy *)&p;
	struct policy_error err;
	va_list ap;

	data_path(path, sizeof(path), name);
	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	assert_int_equal(policy_parse_file(path, &p, &err), want_rc);
	assert_null(p);
	assert_string_equal(err.msg, want);
}

static const struct policy_rule *rule(const struct policy *p, size_t i)
{
	const struct policy_rule *r = policy_rule_at(p, i);
	assert_non_null(r);
	return r;
}

static void check_rule(const struct policy_rule *r, const char *syscall, int nr, unsigned n_conds)
{
	assert_string_equal(r->syscall, syscall);
	assert_int_equal(r->nr, nr);
	assert_int_equal(r->n_conds, n_conds);
}

static void check_cond(const struct policy_cond *c, unsigned arg, enum policy_op op,
		       uint64_t value)
{
	assert_int_equal(c->arg, arg);
	assert_int_equal(c->op, op);
	assert_true(c->value == value);
}

/* A scratch directory for include trees that cannot live in git (symlinks, FIFOs, huge
 * files, long chains). */
struct scratch {
	char dir[PATH_MAX];
};

static void scratch_init(struct scratch *s)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(s->dir, sizeof(s->dir), "%s/policy-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(s->dir));
}

static void scratch_path(const struct scratch *s, char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", s->dir, name);
	assert_true(n > 0 && (size_t)n < size);
}

static void scratch_write(const struct scratch *s, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	scratch_path(s, path, sizeof(path), name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void scratch_puts(const struct scratch *s, const char *name, const char *text)
{
	scratch_write(s, name, text, strlen(text));
}

static void scratch_cleanup(struct scratch *s)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	assert_int_equal(system(cmd), 0);
}

static int parse_scratch(const struct scratch *s, const char *name, struct policy **p,
			 struct policy_error *err)
{
	char path[PATH_MAX];
	scratch_path(s, path, sizeof(path), name);
	return policy_parse_file(path, p, err);
}

/* ---- well-formed input ---- */

static void test_empty_and_comments(void **state)
{
	(void)state;
	struct policy *p = parse_ok("");
	assert_int_equal(policy_rule_count(p), 0);
	assert_null(policy_rule_at(p, 0));
	assert_string_equal(policy_name(p), "t.policy");
	policy_free(p);

	p = parse_ok("\n\n   \n\t\n# only a comment\n   # indented comment\n#\n");
	assert_int_equal(policy_rule_count(p), 0);
	policy_free(p);

	/* UTF-8 prose is fine inside comments */
	p = parse_ok("read # lecture \xe2\x80\x94 seul\n");
	assert_int_equal(policy_rule_count(p), 1);
	check_rule(rule(p, 0), "read", SYS_read, 0);
	policy_free(p);
}

static void test_unconditional_and_errno(void **state)
{
	(void)state;
	struct policy *p = parse_ok("read\n  write  \nexit_group# no newline at end: getpid: return EPERM\n"
				    "getpid: return EPERM\nsocket:return EAFNOSUPPORT");
	assert_int_equal(policy_rule_count(p), 5);
	check_rule(rule(p, 0), "read", SYS_read, 0);
	assert_int_equal(rule(p, 0)->action, POLICY_ACTION_ALLOW);
	assert_int_equal(rule(p, 0)->line, 1);
	assert_string_equal(rule(p, 0)->file, "t.policy");
	check_rule(rule(p, 1), "write", SYS_write, 0);
	check_rule(rule(p, 2), "exit_group", SYS_exit_group, 0);
	check_rule(rule(p, 3), "getpid", SYS_getpid, 0);
	assert_int_equal(rule(p, 3)->action, POLICY_ACTION_ERRNO);
	assert_int_equal(rule(p, 3)->errno_value, EPERM);
	assert_int_equal(rule(p, 3)->line, 4);
	check_rule(rule(p, 4), "socket", SYS_socket, 0);
	assert_int_equal(rule(p, 4)->errno_value, EAFNOSUPPORT);
	assert_int_equal(rule(p, 4)->line, 5);
	policy_free(p);
}

static void test_every_operator(void **state)
{
	(void)state;
	struct policy *p = parse_ok("mmap: arg0 == 1 && arg1 != 2 && arg2 < 3 && arg3 <= 4 && arg4 > 5 && arg5 >= 6\n"
				    "mprotect: arg2 & PROT_EXEC == 0\n"
				    "fcntl: arg1 in {F_GETFD, F_SETFD, 0x10}\n");
	const struct policy_rule *r = rule(p, 0);
	check_rule(r, "mmap", SYS_mmap, 6);
	check_cond(&r->conds[0], 0, POLICY_OP_EQ, 1);
	check_cond(&r->conds[1], 1, POLICY_OP_NE, 2);
	check_cond(&r->conds[2], 2, POLICY_OP_LT, 3);
	check_cond(&r->conds[3], 3, POLICY_OP_LE, 4);
	check_cond(&r->conds[4], 4, POLICY_OP_GT, 5);
	check_cond(&r->conds[5], 5, POLICY_OP_GE, 6);

	r = rule(p, 1);
	check_rule(r, "mprotect", SYS_mprotect, 1);
	check_cond(&r->conds[0], 2, POLICY_OP_MASKED_EQ, 0);
	assert_true(r->conds[0].mask == 4);

	r = rule(p, 2);
	check_rule(r, "fcntl", SYS_fcntl, 1);
	assert_int_equal(r->conds[0].op, POLICY_OP_IN);
	assert_int_equal(r->conds[0].arg, 1);
	assert_int_equal(r->conds[0].n_values, 3);
	assert_true(r->conds[0].values[0] == F_GETFD);
	assert_true(r->conds[0].values[1] == F_SETFD);
	assert_true(r->conds[0].values[2] == 0x10);
	policy_free(p);
}

static void test_values(void **state)
{
	(void)state;
	struct policy *p = parse_ok(
		"read: arg0 == 0\n"
		"write: arg0 == 18446744073709551615\n"
		"pread64: arg0 == 0xFFFFFFFFFFFFFFFF\n"
		"pwrite64: arg0 == 0x0\n"
		"openat: arg0 == AT_FDCWD\n"
		"lseek: arg0 == -1\n"
		"close: arg0 == -9223372036854775808\n"
		"mmap: arg2 == PROT_READ|PROT_WRITE | 0x100\n"
		"dup: arg0 == 0xaBc\n");
	assert_int_equal(policy_rule_count(p), 9);
	assert_true(rule(p, 0)->conds[0].value == 0);
	assert_true(rule(p, 1)->conds[0].value == UINT64_MAX);
	assert_true(rule(p, 2)->conds[0].value == UINT64_MAX);
	assert_true(rule(p, 3)->conds[0].value == 0);
	assert_true(rule(p, 4)->conds[0].value == UINT64_C(0xffffffffffffff9c));
	assert_true(rule(p, 5)->conds[0].value == UINT64_MAX);
	assert_true(rule(p, 6)->conds[0].value == UINT64_C(0x8000000000000000));
	assert_true(rule(p, 7)->conds[0].value == 0x103);
	assert_true(rule(p, 8)->conds[0].value == 0xabc);
	policy_free(p);
}

static void test_whitespace_variants(void **state)
{
	(void)state;
	struct policy *p = parse_ok("mmap:arg2&PROT_EXEC==0&&arg3==1\n"
				    "\tmmap\t:\targ2\t==\t0\t\n"
				    "fcntl:arg1 in{1,2}\n");
	assert_int_equal(policy_rule_count(p), 3);
	const struct policy_rule *r = rule(p, 0);
	check_rule(r, "mmap", SYS_mmap, 2);
	check_cond(&r->conds[0], 2, POLICY_OP_MASKED_EQ, 0);
	check_cond(&r->conds[1], 3, POLICY_OP_EQ, 1);
	check_rule(rule(p, 1), "mmap", SYS_mmap, 1);
	assert_int_equal(rule(p, 2)->conds[0].n_values, 2);
	policy_free(p);
}

static void test_alternatives_and_duplicates(void **state)
{
	(void)state;
	/* several conditional lines: alternatives; repeats of unconditional or identical
	 * return lines: harmless */
	struct policy *p = parse_ok("write: arg0 == 1\nwrite: arg0 == 2\nread\nread\n"
				    "getpid: return EPERM\ngetpid: return EPERM\n");
	assert_int_equal(policy_rule_count(p), 6);
	assert_int_equal(rule(p, 1)->line, 2);
	policy_free(p);
}

static void test_limits_accepted(void **state)
{
	(void)state;
	/* a 512-byte line */
	char line[POLICY_MAX_LINE + 2];
	memset(line, ' ', POLICY_MAX_LINE);
	memcpy(line, "read #", 6);
	line[POLICY_MAX_LINE] = '\n';
	line[POLICY_MAX_LINE + 1] = '\0';
	struct policy *p = parse_ok(line);
	assert_int_equal(policy_rule_count(p), 1);
	policy_free(p);

	/* exactly POLICY_MAX_RULES rules */
	static char text[POLICY_MAX_FILE_SIZE];
	size_t len = 0;
	for (int i = 0; i < POLICY_MAX_RULES; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "read\n");
	p = parse_ok_len(text, len);
	assert_int_equal(policy_rule_count(p), POLICY_MAX_RULES);
	policy_free(p);

	/* the largest sets in every condition */
	p = parse_ok("fcntl: arg0 in {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16} && "
		     "arg1 in {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16} && "
		     "arg2 in {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}\n");
	assert_int_equal(rule(p, 0)->conds[2].n_values, POLICY_MAX_SET);
	policy_free(p);

	/* several comparisons of one argument make a range */
	p = parse_ok("mmap: arg1 > 0 && arg1 <= 0x100000 && arg1 & 0xfff == 0\n");
	check_rule(rule(p, 0), "mmap", SYS_mmap, 3);
	check_cond(&rule(p, 0)->conds[0], 1, POLICY_OP_GT, 0);
	check_cond(&rule(p, 0)->conds[1], 1, POLICY_OP_LE, 0x100000);
	check_cond(&rule(p, 0)->conds[2], 1, POLICY_OP_MASKED_EQ, 0);
	policy_free(p);

	/* a 64 KiB input */
	memset(text, '\n', sizeof(text));
	memcpy(text, "read", 4);
	p = parse_ok_len(text, sizeof(text));
	assert_int_equal(policy_rule_count(p), 1);
	policy_free(p);
}

/* ---- malformed input: one exact message each ---- */

static void test_error_syscall_names(void **state)
{
	(void)state;
	expect_error("getpidd\n", "t.policy:1: unknown syscall 'getpidd'");
	expect_error("read\nwrite\n\nfoo_bar: arg0 == 1\n", "t.policy:4: unknown syscall 'foo_bar'");
	/* exists in libseccomp's tables for other ABIs only */
	expect_error("socketcall\n", "t.policy:1: unknown syscall 'socketcall'");
	expect_error("READ\n", "t.policy:1: unknown syscall 'READ'");
	expect_error("a_name_much_longer_than_any_syscall_there_is\n",
		     "t.policy:1: unknown syscall 'a_name_much_longer_than_any_syscall_there_is'");
	expect_error("1234\n", "t.policy:1: expected a syscall name, got '1234'");
	expect_error(": arg0 == 1\n", "t.policy:1: expected a syscall name, got ':'");
	expect_error("read $\n", "t.policy:1: expected ':' or end of line after 'read', got '$'");
	expect_error("mmap arg0 == 1\n",
		     "t.policy:1: expected ':' or end of line after 'mmap', got 'arg0'");
}

static void test_error_conditions(void **state)
{
	(void)state;
	expect_error("mmap: arg6 == 0\n", "t.policy:1: bad argument index 'arg6' (must be arg0..arg5)");
	expect_error("mmap: argx == 0\n", "t.policy:1: bad argument index 'argx' (must be arg0..arg5)");
	expect_error("mmap: arg == 0\n", "t.policy:1: bad argument index 'arg' (must be arg0..arg5)");
	expect_error("mmap: arg10 == 0\n", "t.policy:1: bad argument index 'arg10' (must be arg0..arg5)");
	expect_error("mmap: prot == 0\n", "t.policy:1: expected an argument (arg0..arg5), got 'prot'");
	expect_error("mmap: 2 == 0\n", "t.policy:1: expected an argument (arg0..arg5), got '2'");
	expect_error("mmap: arg0 =< 0\n", "t.policy:1: bad operator '=<'");
	expect_error("mmap: arg0 = 0\n", "t.policy:1: bad operator '='");
	expect_error("mmap: arg0 === 0\n", "t.policy:1: bad operator '==='");
	expect_error("mmap: arg0 && 0\n", "t.policy:1: bad operator '&&'");
	expect_error("mmap: arg0 PROT_READ\n", "t.policy:1: bad operator 'PROT_READ'");
	expect_error("mmap: arg0\n", "t.policy:1: missing operator after 'arg0'");
	expect_error("mmap:\n", "t.policy:1: missing condition after ':'");
	expect_error("mmap:   # nothing\n", "t.policy:1: missing condition after ':'");
	expect_error("mmap: arg0 == 1 &&\n", "t.policy:1: missing condition after '&&'");
	expect_error("mmap: arg0 ==\n", "t.policy:1: missing value after '=='");
	expect_error("mmap: arg0 == {1}\n", "t.policy:1: expected a value after '==', got '{'");
	expect_error("mmap: arg0 == 1 || arg1 == 2\n",
		     "t.policy:1: expected '&&' or end of line, got '||'");
	expect_error("mmap: arg0 == 1 arg1 == 2\n",
		     "t.policy:1: expected '&&' or end of line, got 'arg1'");
	expect_error("mmap: arg0 == 1 & arg1 == 2\n",
		     "t.policy:1: expected '&&' or end of line, got '&'");
	expect_error("mmap: arg0 == 0 && arg1 == 1 && arg2 == 2 && arg3 == 3 && arg4 == 4 && "
		     "arg5 == 5 && arg0 == 6\n",
		     "t.policy:1: too many conditions (max 6)");
}

static void test_error_values(void **state)
{
	(void)state;
	expect_error("mmap: arg2 == PROT_FOO\n", "t.policy:1: unknown constant 'PROT_FOO'");
	expect_error("mmap: arg2 == PROT_READ | PROT_BOGUS\n", "t.policy:1: unknown constant 'PROT_BOGUS'");
	expect_error("mmap: arg2 == EPERM\n", "t.policy:1: unknown constant 'EPERM'");
	expect_error("mmap: arg2 == PROT_READ |\n", "t.policy:1: missing value after '|'");
	expect_error("mmap: arg2 == PROT_READ || PROT_WRITE\n",
		     "t.policy:1: expected '&&' or end of line, got '||'");
	expect_error("mmap: arg0 == 0x\n", "t.policy:1: bad number '0x'");
	expect_error("mmap: arg0 == 0x1g\n", "t.policy:1: bad number '0x1g'");
	expect_error("mmap: arg0 == 12abc\n", "t.policy:1: bad number '12abc'");
	expect_error("mmap: arg0 == 007\n", "t.policy:1: bad number '007'");
	expect_error("mmap: arg0 == -0x1\n", "t.policy:1: bad number '-0x1'");
	expect_error("mmap: arg0 == 18446744073709551616\n",
		     "t.policy:1: number out of range '18446744073709551616'");
	expect_error("mmap: arg0 == 0x10000000000000000\n",
		     "t.policy:1: number out of range '0x10000000000000000'");
	expect_error("mmap: arg0 == -9223372036854775809\n",
		     "t.policy:1: number out of range '-9223372036854775809'");
	expect_error("mmap: arg2 & PROT_EXEC != 0\n",
		     "t.policy:1: masked comparison needs '==' after the mask, got '!='");
	expect_error("mmap: arg2 & PROT_EXEC\n",
		     "t.policy:1: masked comparison needs '==' after the mask, got end of line");
	expect_error("mmap: arg2 & PROT_EXEC == PROT_READ\n",
		     "t.policy:1: value 0x1 has bits outside mask 0x4 (the condition could never hold)");
	expect_error("mmap: arg2 & == 0\n", "t.policy:1: expected a value after '&', got '=='");
}

static void test_error_sets(void **state)
{
	(void)state;
	expect_error("fcntl: arg1 in F_GETFD\n", "t.policy:1: expected '{' after 'in', got 'F_GETFD'");
	expect_error("fcntl: arg1 in\n", "t.policy:1: expected '{' after 'in', got end of line");
	expect_error("fcntl: arg1 in {}\n", "t.policy:1: empty set after 'in'");
	expect_error("fcntl: arg1 in {F_GETFD, 1}\n", "t.policy:1: duplicate value 0x1 in set");
	expect_error("fcntl: arg1 in {1 2}\n", "t.policy:1: expected ',' or '}' in set, got '2'");
	expect_error("fcntl: arg1 in {1,\n", "t.policy:1: missing value after ','");
	expect_error("fcntl: arg1 in {1,}\n", "t.policy:1: expected a value after ',', got '}'");
	expect_error("fcntl: arg1 in {1\n", "t.policy:1: expected ',' or '}' in set, got end of line");
	expect_error("fcntl: arg1 in {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17}\n",
		     "t.policy:1: too many values in set (max 16)");
	expect_error("fcntl: arg1 in {1} }\n", "t.policy:1: expected '&&' or end of line, got '}'");
}

static void test_error_return(void **state)
{
	(void)state;
	expect_error("getpid: return\n", "t.policy:1: missing errno after 'return'");
	expect_error("getpid: return   # why\n", "t.policy:1: missing errno after 'return'");
	expect_error("getpid: return EFOO\n", "t.policy:1: unknown errno 'EFOO'");
	expect_error("getpid: return eperm\n", "t.policy:1: unknown errno 'eperm'");
	expect_error("getpid: return 1\n", "t.policy:1: expected an errno name after 'return', got '1'");
	expect_error("getpid: return EPERM EPERM\n", "t.policy:1: unexpected 'EPERM' after errno");
	expect_error("getpid: return EPERM && arg0 == 1\n", "t.policy:1: unexpected '&&' after errno");
}

static void test_error_clashes(void **state)
{
	(void)state;
	expect_error("mmap\nmmap: arg2 == 0\n",
		     "t.policy:2: conditions on 'mmap' are meaningless: allowed unconditionally at t.policy:1");
	expect_error("mmap: arg2 == 0\nread\nmmap\n",
		     "t.policy:3: 'mmap' allowed unconditionally but has conditional rules (t.policy:1)");
	expect_error("getpid\ngetpid: return EPERM\n",
		     "t.policy:2: 'getpid' mixes allow and return rules (other at t.policy:1)");
	expect_error("getpid: return EPERM\ngetpid: arg0 == 1\n",
		     "t.policy:2: 'getpid' mixes allow and return rules (other at t.policy:1)");
	expect_error("getpid: return EPERM\ngetpid: return EACCES\n",
		     "t.policy:2: 'getpid' already returns EPERM at t.policy:1");
}

static void test_error_bytes(void **state)
{
	(void)state;
	expect_error("read\n\x01\x02\n", "t.policy:2: invalid byte 0x01");
	expect_error("read\xff\n", "t.policy:1: invalid byte 0xff");
	expect_error("read\r\n", "t.policy:1: invalid byte 0x0d");
	expect_error("read # bell \a\n", "t.policy:1: invalid byte 0x07");
	expect_error("read\x7f\n", "t.policy:1: invalid byte 0x7f");
	expect_error_len("read\0\n", 6, "t.policy:1: NUL byte");
	expect_error_len("read\n# x\0y\n", 10, "t.policy:2: NUL byte");
	expect_error_len("\0", 1, "t.policy:1: NUL byte");
	expect_error("@inclde x.policy\n", "t.policy:1: unknown directive '@inclde'");
	expect_error("@\n", "t.policy:1: unknown directive '@'");
	expect_error("@include\n", "t.policy:1: missing file name after @include");
	expect_error("@include   # nothing\n", "t.policy:1: missing file name after @include");
	expect_error("read\n@include x.policy\n", "t.policy:2: @include is not allowed in buffer input");
}

static void test_error_limits(void **state)
{
	(void)state;
	static char text[POLICY_MAX_FILE_SIZE + 1];
	size_t len;

	/* line length */
	memset(text, ' ', POLICY_MAX_LINE + 6);
	memcpy(text, "read\n#", 6);
	text[POLICY_MAX_LINE + 6] = '\n';
	expect_error_len(text, POLICY_MAX_LINE + 7, "t.policy:2: line too long (max 512 bytes)");
	/* ... also for a last line without newline */
	expect_error_len(text, POLICY_MAX_LINE + 6, "t.policy:2: line too long (max 512 bytes)");

	/* rule count */
	len = 0;
	for (int i = 0; i <= POLICY_MAX_RULES; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "read\n");
	expect_error_len(text, len, "t.policy:1025: too many rules (max 1024)");

	/* input size */
	memset(text, '\n', sizeof(text));
	expect_error_len(text, sizeof(text), "t.policy:0: input too large (max 65536 bytes)");
}

/* ---- canonical text ---- */

static void test_format_round_trip(void **state)
{
	(void)state;
	char path[PATH_MAX];
	struct policy *p;
	struct policy_error err;

	data_path(path, sizeof(path), "good.policy");
	assert_int_equal(policy_parse_file(path, &p, &err), 0);
	for (size_t i = 0; i < policy_rule_count(p); i++) {
		const struct policy_rule *r = rule(p, i);
		char text[POLICY_RULE_TEXT_MAX];
		int n = policy_rule_format(r, text, sizeof(text));
		assert_true(n > 0 && (size_t)n == strlen(text));

		struct policy *q = parse_ok(text);
		assert_int_equal(policy_rule_count(q), 1);
		const struct policy_rule *s = rule(q, 0);
		assert_int_equal(s->nr, r->nr);
		assert_string_equal(s->syscall, r->syscall);
		assert_int_equal(s->action, r->action);
		assert_int_equal(s->errno_value, r->errno_value);
		assert_int_equal(s->n_conds, r->n_conds);
		assert_memory_equal(s->conds, r->conds, sizeof(r->conds));
		policy_free(q);
	}
	policy_free(p);
}

static void test_format_text(void **state)
{
	(void)state;
	struct policy *p = parse_ok("mmap: arg2 & PROT_EXEC == 0 && arg3 in {1, MAP_PRIVATE|MAP_ANONYMOUS}\n"
				    "getpid: return EPERM\nread\nlseek: arg2 != 3 && arg0 >= 0x10\n");
	char text[POLICY_RULE_TEXT_MAX];
	assert_int_equal(policy_rule_format(rule(p, 0), text, sizeof(text)),
			 (int)strlen("mmap: arg2 & 0x4 == 0x0 && arg3 in {0x1, 0x22}"));
	assert_string_equal(text, "mmap: arg2 & 0x4 == 0x0 && arg3 in {0x1, 0x22}");
	policy_rule_format(rule(p, 1), text, sizeof(text));
	assert_string_equal(text, "getpid: return EPERM");
	policy_rule_format(rule(p, 2), text, sizeof(text));
	assert_string_equal(text, "read");
	policy_rule_format(rule(p, 3), text, sizeof(text));
	assert_string_equal(text, "lseek: arg2 != 0x3 && arg0 >= 0x10");

	/* too small a buffer is refused, not truncated silently */
	char small[8];
	assert_int_equal(policy_rule_format(rule(p, 0), small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "");
	assert_int_equal(policy_rule_format(rule(p, 2), small, 5), 4);
	assert_int_equal(policy_rule_format(rule(p, 2), small, 4), -ENOSPC);
	policy_free(p);

	/* the largest possible rule fits POLICY_RULE_TEXT_MAX */
	struct policy_rule big;
	memset(&big, 0, sizeof(big));
	snprintf(big.syscall, sizeof(big.syscall), "%.*s", POLICY_SYSCALL_NAME_MAX - 1,
		 "sched_get_priority_max_xxxxxxxxxxxxxxxx");
	big.n_conds = POLICY_MAX_CONDS;
	for (unsigned i = 0; i < POLICY_MAX_CONDS; i++) {
		big.conds[i].arg = i;
		big.conds[i].op = POLICY_OP_IN;
		big.conds[i].n_values = POLICY_MAX_SET;
		for (unsigned j = 0; j < POLICY_MAX_SET; j++)
			big.conds[i].values[j] = UINT64_MAX - j;
	}
	char large[POLICY_RULE_TEXT_MAX];
	assert_true(policy_rule_format(&big, large, sizeof(large)) > 0);
}

/* ---- files and @include ---- */

static void test_file_good_with_includes(void **state)
{
	(void)state;
	char path[PATH_MAX], base[PATH_MAX], extra[PATH_MAX];
	struct policy *p;
	struct policy_error err;

	data_path(path, sizeof(path), "good.policy");
	data_path(base, sizeof(base), "common/base.policy");
	data_path(extra, sizeof(extra), "common/extra.policy");
	int rc = policy_parse_file(path, &p, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_string_equal(policy_name(p), path);

	static const struct {
		const char *syscall;
		int nr;
		int file; /* 0 good, 1 base, 2 extra */
		unsigned line;
		unsigned n_conds;
	} want[] = {
		{ "rt_sigreturn", SYS_rt_sigreturn, 2, 2, 0 },
		{ "madvise", SYS_madvise, 2, 3, 1 },
		{ "exit_group", SYS_exit_group, 1, 3, 0 },
		{ "exit", SYS_exit, 1, 4, 0 },
		{ "clock_gettime", SYS_clock_gettime, 1, 5, 1 },
		{ "read", SYS_read, 0, 7, 0 },
		{ "write", SYS_write, 0, 8, 1 },
		{ "write", SYS_write, 0, 9, 1 },
		{ "mmap", SYS_mmap, 0, 10, 2 },
		{ "mprotect", SYS_mprotect, 0, 11, 1 },
		{ "futex", SYS_futex, 0, 12, 2 },
		{ "openat", SYS_openat, 0, 13, 2 },
		{ "getpid", SYS_getpid, 0, 14, 0 },
		{ "socket", SYS_socket, 0, 15, 0 },
		{ "lseek", SYS_lseek, 0, 16, 2 },
		{ "pread64", SYS_pread64, 0, 17, 2 },
		{ "pwrite64", SYS_pwrite64, 0, 18, 2 },
		{ "kill", SYS_kill, 0, 19, 1 },
		{ "fcntl", SYS_fcntl, 0, 20, 2 },
		{ "clone", SYS_clone, 0, 21, 1 },
		{ "ioctl", SYS_ioctl, 0, 22, 2 },
		{ "exit_group", SYS_exit_group, 0, 23, 0 },
	};
	const char *files[] = { path, base, extra };
	assert_int_equal(policy_rule_count(p), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct policy_rule *r = rule(p, i);
		check_rule(r, want[i].syscall, want[i].nr, want[i].n_conds);
		assert_string_equal(r->file, files[want[i].file]);
		assert_int_equal(r->line, want[i].line);
	}

	/* spot-check the conditions of the interesting lines */
	const struct policy_rule *r = rule(p, 8); /* mmap */
	check_cond(&r->conds[0], 2, POLICY_OP_MASKED_EQ, 0);
	assert_true(r->conds[0].mask == 0x4);
	check_cond(&r->conds[1], 3, POLICY_OP_MASKED_EQ, 0);
	assert_true(r->conds[1].mask == 0x1);
	r = rule(p, 9); /* mprotect */
	assert_int_equal(r->conds[0].n_values, 3);
	assert_true(r->conds[0].values[0] == 0 && r->conds[0].values[1] == 1 &&
		    r->conds[0].values[2] == 3);
	r = rule(p, 11); /* openat */
	check_cond(&r->conds[0], 0, POLICY_OP_EQ, UINT64_C(0xffffffffffffff9c));
	check_cond(&r->conds[1], 2, POLICY_OP_MASKED_EQ, 0);
	assert_true(r->conds[1].mask == 3);
	r = rule(p, 12); /* getpid */
	assert_int_equal(r->action, POLICY_ACTION_ERRNO);
	assert_int_equal(r->errno_value, EPERM);
	r = rule(p, 14); /* lseek */
	check_cond(&r->conds[0], 2, POLICY_OP_NE, 3);
	check_cond(&r->conds[1], 1, POLICY_OP_LE, UINT64_C(0x7fffffffffffffff));
	r = rule(p, 19); /* clone */
	check_cond(&r->conds[0], 0, POLICY_OP_MASKED_EQ, 0x10100);
	assert_true(r->conds[0].mask == 0x10100);
	r = rule(p, 20); /* ioctl */
	check_cond(&r->conds[0], 0, POLICY_OP_EQ, UINT64_MAX);
	check_cond(&r->conds[1], 1, POLICY_OP_EQ, 0x5401);
	policy_free(p);
}

static void test_file_errors(void **state)
{
	(void)state;
	const char *d = POLICY_TEST_DATA;
	expect_file_error("bad_cycle_a.policy", -EINVAL,
			  "%s/bad_cycle_b.policy:2: include cycle: 'bad_cycle_a.policy' is already being read", d);
	expect_file_error("bad_self_include.policy", -EINVAL,
			  "%s/bad_self_include.policy:1: include cycle: 'bad_self_include.policy' is already being read", d);
	expect_file_error("bad_include_missing.policy", -EINVAL,
			  "%s/bad_include_missing.policy:2: cannot include 'no_such_file.policy': no such file", d);
	expect_file_error("bad_include_dotdot.policy", -EINVAL,
			  "%s/bad_include_dotdot.policy:1: include path must not contain '..'", d);
	expect_file_error("bad_include_abs.policy", -EINVAL,
			  "%s/bad_include_abs.policy:1: include path must be relative", d);
	expect_file_error("bad_in_include.policy", -EINVAL,
			  "%s/common/broken.policy:3: unknown syscall 'nosuchcall'", d);
	expect_file_error("bad_include_clash.policy", -EINVAL,
			  "%s/bad_include_clash.policy:2: 'clock_gettime' allowed unconditionally but has "
			  "conditional rules (%s/common/base.policy:5)", d, d);
	expect_file_error("bad_long_line.policy", -EINVAL,
			  "%s/bad_long_line.policy:2: line too long (max 512 bytes)", d);
	expect_file_error("bad_garbage.policy", -EINVAL, "%s/bad_garbage.policy:2: invalid byte 0x1b", d);
	expect_file_error("bad_nul.policy", -EINVAL, "%s/bad_nul.policy:2: NUL byte", d);
	expect_file_error("no_such.policy", -ENOENT, "%s/no_such.policy:0: cannot open: no such file", d);
	expect_file_error("common", -EINVAL, "%s/common:0: not a regular file", d);
}

static void test_include_path_rules(void **state)
{
	(void)state;
	struct scratch s;
	struct policy *p;
	struct policy_error err;
	char want[PATH_MAX + 256];

	scratch_init(&s);
	char sub[PATH_MAX];
	scratch_path(&s, sub, sizeof(sub), "sub");
	assert_int_equal(mkdir(sub, 0755), 0);
	scratch_puts(&s, "sub/x.policy", "read\n");

	static const struct {
		const char *line;
		const char *reason;
	} cases[] = {
		{ "@include sub/./x.policy", "include path has an empty or '.' component" },
		{ "@include ./sub/x.policy", "include path has an empty or '.' component" },
		{ "@include sub//x.policy", "include path has an empty or '.' component" },
		{ "@include sub/", "include path has an empty or '.' component" },
		{ "@include ..", "include path must not contain '..'" },
		{ "@include sub/../sub/x.policy", "include path must not contain '..'" },
		{ "@include /etc/passwd", "include path must be relative" },
		{ "@include sub/x.policy extra", "invalid character ' ' in include path" },
		{ "@include sub\\x.policy", "invalid character '\\' in include path" },
		{ "@include sub", "cannot include 'sub': not a regular file" },
		{ "@include x.policy/y", "cannot include 'x.policy/y': no such file" },
		{ "@include sub/x.policy/y", "cannot include 'sub/x.policy/y': not a directory" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "read\n%s\n", cases[i].line);
		scratch_puts(&s, "top.policy", text);
		p = (struct policy *)&p;
		assert_int_equal(parse_scratch(&s, "top.policy", &p, &err), -EINVAL);
		assert_null(p);
		snprintf(want, sizeof(want), "%s/top.policy:2: %s", s.dir, cases[i].reason);
		assert_string_equal(err.msg, want);
	}

	/* a long path */
	char text[600];
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(text, sizeof(text), "@include %s\n", longname);
	scratch_puts(&s, "top.policy", text);
	assert_int_equal(parse_scratch(&s, "top.policy", &p, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s/top.policy:1: include path too long (max 255 bytes)", s.dir);
	assert_string_equal(err.msg, want);

	/* the good case in the same tree */
	scratch_puts(&s, "top.policy", "@include sub/x.policy\nwrite\n");
	assert_int_equal(parse_scratch(&s, "top.policy", &p, &err), 0);
	assert_int_equal(policy_rule_count(p), 2);
	snprintf(want, sizeof(want), "%s/sub/x.policy", s.dir);
	assert_string_equal(rule(p, 0)->file, want);
	policy_free(p);
	scratch_cleanup(&s);
}

static void test_include_no_symlinks_or_special_files(void **state)
{
	(void)state;
	struct scratch s;
	struct policy *p;
	struct policy_error err;
	char want[PATH_MAX + 256], a[PATH_MAX], b[PATH_MAX];

	scratch_init(&s);
	scratch_puts(&s, "real.policy", "read\n");
	scratch_path(&s, a, sizeof(a), "link.policy");
	assert_int_equal(symlink("real.policy", a), 0);
	scratch_path(&s, a, sizeof(a), "realdir");
	assert_int_equal(mkdir(a, 0755), 0);
	scratch_puts(&s, "realdir/x.policy", "read\n");
	scratch_path(&s, b, sizeof(b), "linkdir");
	assert_int_equal(symlink("realdir", b), 0);
	scratch_path(&s, a, sizeof(a), "fifo.policy");
	assert_int_equal(mkfifo(a, 0644), 0);

	scratch_puts(&s, "top.policy", "@include link.policy\n");
	assert_int_equal(parse_scratch(&s, "top.policy", &p, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s/top.policy:1: cannot include 'link.policy': symbolic links are not followed", s.dir);
	assert_string_equal(err.msg, want);

	scratch_puts(&s, "top.policy", "@include linkdir/x.policy\n");
	assert_int_equal(parse_scratch(&s, "top.policy", &p, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s/top.policy:1: cannot include 'linkdir/x.policy': symbolic links are not followed", s.dir);
	assert_string_equal(err.msg, want);

	/* opening a FIFO must neither block nor be accepted */
	scratch_puts(&s, "top.policy", "@include fifo.policy\n");
	assert_int_equal(parse_scratch(&s, "top.policy", &p, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s/top.policy:1: cannot include 'fifo.policy': not a regular file", s.dir);
	assert_string_equal(err.msg, want);

	/* the top-level file may be reached through a symlink: its path is trusted */
	scratch_path(&s, a, sizeof(a), "top-link.policy");
	assert_int_equal(symlink("real.policy", a), 0);
	assert_int_equal(policy_parse_file(a, &p, &err), 0);
	policy_free(p);
	scratch_cleanup(&s);
}

static void test_include_depth_and_count(void **state)
{
	(void)state;
	struct scratch s;
	struct policy *p;
	struct policy_error err;
	char name[64], text[128], want[PATH_MAX + 256];

	scratch_init(&s);
	/* d0 -> d1 -> ... -> d8 is 8 levels below the top: accepted */
	for (int i = 0; i <= POLICY_MAX_INCLUDE_DEPTH; i++) {
		snprintf(name, sizeof(name), "d%d.policy", i);
		if (i < POLICY_MAX_INCLUDE_DEPTH)
			snprintf(text, sizeof(text), "# level %d\n@include d%d.policy\n", i, i + 1);
		else
			snprintf(text, sizeof(text), "read\n");
		scratch_puts(&s, name, text);
	}
	assert_int_equal(parse_scratch(&s, "d0.policy", &p, &err), 0);
	assert_int_equal(policy_rule_count(p), 1);
	policy_free(p);

	/* one more level is refused, at the including line */
	snprintf(text, sizeof(text), "@include d%d.policy\n", POLICY_MAX_INCLUDE_DEPTH + 1);
	snprintf(name, sizeof(name), "d%d.policy", POLICY_MAX_INCLUDE_DEPTH);
	scratch_puts(&s, name, text);
	snprintf(name, sizeof(name), "d%d.policy", POLICY_MAX_INCLUDE_DEPTH + 1);
	scratch_puts(&s, name, "read\n");
	assert_int_equal(parse_scratch(&s, "d0.policy", &p, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s/d%d.policy:1: includes nested too deeply (max 8)", s.dir,
		 POLICY_MAX_INCLUDE_DEPTH);
	assert_string_equal(err.msg, want);

	/* a diamond is not a cycle: c is read twice, its unconditional rule repeated */
	scratch_puts(&s, "a.policy", "@include c.policy\n");
	scratch_puts(&s, "b.policy", "@include c.policy\n");
	scratch_puts(&s, "c.policy", "read\n");
	scratch_puts(&s, "diamond.policy", "@include a.policy\n@include b.policy\n");
	assert_int_equal(parse_scratch(&s, "diamond.policy", &p, &err), 0);
	assert_int_equal(policy_rule_count(p), 2);
	policy_free(p);

	/* at most POLICY_MAX_FILES files per policy: the top one and 63 includes */
	static char many[64 * 32];
	size_t len = 0;
	scratch_puts(&s, "empty.policy", "# nothing\n");
	for (int i = 0; i < POLICY_MAX_FILES; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, "@include empty.policy\n");
	scratch_write(&s, "many.policy", many, len);
	assert_int_equal(parse_scratch(&s, "many.policy", &p, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s/many.policy:%d: too many included files (max %d)", s.dir,
		 POLICY_MAX_FILES, POLICY_MAX_FILES);
	assert_string_equal(err.msg, want);
	scratch_write(&s, "many.policy", many, len - strlen("@include empty.policy\n"));
	assert_int_equal(parse_scratch(&s, "many.policy", &p, &err), 0);
	policy_free(p);
	scratch_cleanup(&s);
}

static void test_file_size_limit(void **state)
{
	(void)state;
	struct scratch s;
	struct policy *p;
	struct policy_error err;
	char want[PATH_MAX + 256];
	static char big[POLICY_MAX_FILE_SIZE + 1];

	scratch_init(&s);
	memset(big, '\n', sizeof(big));
	memcpy(big, "read", 4);
	scratch_write(&s, "limit.policy", big, POLICY_MAX_FILE_SIZE);
	scratch_write(&s, "big.policy", big, sizeof(big));

	assert_int_equal(parse_scratch(&s, "limit.policy", &p, &err), 0);
	policy_free(p);

	assert_int_equal(parse_scratch(&s, "big.policy", &p, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s/big.policy:0: file too large (max 65536 bytes)", s.dir);
	assert_string_equal(err.msg, want);

	scratch_puts(&s, "top.policy", "write\n@include big.policy\n");
	assert_int_equal(parse_scratch(&s, "top.policy", &p, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s/top.policy:2: cannot include 'big.policy': file too large (max 65536 bytes)", s.dir);
	assert_string_equal(err.msg, want);
	scratch_cleanup(&s);
}

static void test_relative_top_level_path(void **state)
{
	(void)state;
	struct policy *p;
	struct policy_error err;
	char cwd[PATH_MAX];

	/* a bare file name: includes resolve in the working directory, names stay bare */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(POLICY_TEST_DATA), 0);
	int rc = policy_parse_file("good.policy", &p, &err);
	assert_int_equal(chdir(cwd), 0);
	if (rc)
		fail_msg("%s", err.msg);
	assert_string_equal(rule(p, 0)->file, "common/extra.policy");
	assert_string_equal(rule(p, 2)->file, "common/base.policy");
	assert_string_equal(rule(p, 5)->file, "good.policy");
	policy_free(p);

	assert_int_equal(chdir(POLICY_TEST_DATA), 0);
	p = (struct policy *)&p;
	rc = policy_parse_file("bad_in_include.policy", &p, &err);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rc, -EINVAL);
	assert_null(p);
	assert_string_equal(err.msg, "common/broken.policy:3: unknown syscall 'nosuchcall'");
}

/* The example in policies/README.md must stay a valid policy (its @include aside). */
static void test_readme_example_parses(void **state)
{
	(void)state;
	static char doc[65536];
	FILE *f = fopen(POLICY_README, "r");
	assert_non_null(f);
	size_t n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';

	char *start = strstr(doc, "```\n# vcpu.policy");
	assert_non_null(start);
	start += 4;
	char *end = strstr(start, "```");
	assert_non_null(end);
	*end = '\0';
	char *inc = strstr(start, "@include");
	assert_non_null(inc);
	inc[0] = '#'; /* comment the include out */

	struct policy *p = parse_ok(start);
	assert_true(policy_rule_count(p) >= 9);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_unconditional_and_errno),
		cmocka_unit_test(test_every_operator),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_whitespace_variants),
		cmocka_unit_test(test_alternatives_and_duplicates),
		cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_error_syscall_names),
		cmocka_unit_test(test_error_conditions),
		cmocka_unit_test(test_error_values),
		cmocka_unit_test(test_error_sets),
		cmocka_unit_test(test_error_return),
		cmocka_unit_test(test_error_clashes),
		cmocka_unit_test(test_error_bytes),
		cmocka_unit_test(test_error_limits),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_format_text),
		cmocka_unit_test(test_file_good_with_includes),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_include_path_rules),
		cmocka_unit_test(test_include_no_symlinks_or_special_files),
		cmocka_unit_test(test_include_depth_and_count),
		cmocka_unit_test(test_file_size_limit),
		cmocka_unit_test(test_relative_top_level_path),
		cmocka_unit_test(test_readme_example_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
