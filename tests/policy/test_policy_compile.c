/* test_policy_compile.c: parsed policy -> BPF (monitor/policy_compile.c).
 * The exported program is run through a classic-BPF interpreter (bpf_eval.c) so every
 * decision can be checked without installing it: bad ABIs killed, unlisted syscalls
 * trapped, each operator exact at 64-bit boundaries, 'in' sets, long jumps, and a randomized
 * comparison against a reference evaluation of the parsed rules. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sched.h>

#include <cmocka.h>

#include <seccomp.h>

#include "monitor/policy.h"
#include "tests/policy/bpf_eval.h"

#define X32_BIT 0x40000000u

struct prog {
	struct sock_filter insns[POLICY_MAX_BPF_INSNS];
	size_t n;
};

static void compile_policy(const struct policy *p, struct prog *out)
{
	struct policy_error err;
	int fd = memfd_create("test-policy", MFD_CLOEXEC);
	assert_true(fd >= 0);
	int n = policy_compile_bpf(p, fd, &err);
	if (n <= 0)
		fail_msg("compile failed %d: %s", n, err.msg);
	assert_true(n <= POLICY_MAX_BPF_INSNS);
	off_t size = lseek(fd, 0, SEEK_END);
	assert_int_equal(size, (off_t)n * (off_t)sizeof(struct sock_filter));
	assert_int_equal(pread(fd, out->insns, (size_t)size, 0), size);
	out->n = (size_t)n;
	close(fd);
}

static struct policy *parse_text(const char *text)
{
	struct policy *p;
	struct policy_error err;
	if (policy_parse_buffer("t.policy", text, strlen(text), &p, &err))
		fail_msg("parse failed: %s", err.msg);
	return p;
}

static void compile_text(const char *text, struct prog *out)
{
	struct policy *p = parse_text(text);
	compile_policy(p, out);
	policy_free(p);
}

static uint32_t decide_abi(const struct prog *pr, uint32_t arch, uint32_t nr, const uint64_t args[6])
{
	struct seccomp_data d;
	uint32_t ret = 0;
	memset(&d, 0, sizeof(d));
	d.nr = (int)nr;
	d.arch = arch;
	d.instruction_pointer = 0x401000;
	if (args)
		memcpy(d.args, args, sizeof(d.args));
	assert_int_equal(bpf_eval(pr->insns, pr->n, &d, &ret), 0);
	return ret;
}

static uint32_t decide(const struct prog *pr, int nr, uint64_t a0, uint64_t a1, uint64_t a2,
		       uint64_t a3)
{
	const uint64_t args[6] = { a0, a1, a2, a3, 0, 0 };
	return decide_abi(pr, AUDIT_ARCH_X86_64, (uint32_t)nr, args);
}

#define ALLOW SECCOMP_RET_ALLOW
#define TRAP SECCOMP_RET_TRAP
#define KILL SECCOMP_RET_KILL_PROCESS
#define ERRNO(e) (SECCOMP_RET_ERRNO | (uint32_t)(e))

static void check_bad_abis(const struct prog *pr)
{
	const uint64_t zero[6] = { 0 };
	/* i386 through int 0x80: any number, including ones allowed natively */
	for (uint32_t nr = 0; nr < 450; nr++)
		assert_int_equal(decide_abi(pr, AUDIT_ARCH_I386, nr, zero), KILL);
	/* x32: the x86_64 arch token with bit 30 set in the number */
	for (uint32_t nr = 0; nr < 600; nr++)
		assert_int_equal(decide_abi(pr, AUDIT_ARCH_X86_64, X32_BIT | nr, zero), KILL);
	assert_int_equal(decide_abi(pr, AUDIT_ARCH_X86_64, 0x7fffffffu, zero), KILL);
	assert_int_equal(decide_abi(pr, AUDIT_ARCH_AARCH64, SYS_read, zero), KILL);
	assert_int_equal(decide_abi(pr, 0, SYS_read, zero), KILL);
}

/* ---- tests ---- */

static void test_good_policy(void **state)
{
	(void)state;
	char path[PATH_MAX];
	struct policy *p;
	struct policy_error err;
	struct prog pr;

	snprintf(path, sizeof(path), "%s/good.policy", POLICY_TEST_DATA);
	assert_int_equal(policy_parse_file(path, &p, &err), 0);
	compile_policy(p, &pr);

	check_bad_abis(&pr);

	/* unconditional rules allow with any arguments; unlisted syscalls trap */
	assert_int_equal(decide(&pr, SYS_read, 0, 0, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_read, UINT64_MAX, 1, 2, 3), ALLOW);
	assert_int_equal(decide(&pr, SYS_exit_group, 0, 0, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_rt_sigreturn, 0, 0, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_getppid, 0, 0, 0, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_execve, 0, 0, 0, 0), TRAP);
	assert_int_equal(decide(&pr, 1000, 0, 0, 0, 0), TRAP);
	/* numbers with bit 30 or above set are no native syscall: killed, -1 included */
	assert_int_equal(decide(&pr, -1, 0, 0, 0, 0), KILL);
	assert_int_equal(decide(&pr, (int)(X32_BIT - 1), 0, 0, 0, 0), TRAP);

	/* return rules */
	assert_int_equal(decide(&pr, SYS_getpid, 0, 0, 0, 0), ERRNO(EPERM));
	assert_int_equal(decide(&pr, SYS_socket, 1, 1, 0, 0), ERRNO(EAFNOSUPPORT));

	/* alternatives */
	assert_int_equal(decide(&pr, SYS_write, 1, 0, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_write, 2, 0, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_write, 3, 0, 0, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_write, 0x100000001, 0, 0, 0), TRAP);

	/* masked conditions */
	assert_int_equal(decide(&pr, SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE), ALLOW);
	assert_int_equal(decide(&pr, SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE), TRAP);
	assert_int_equal(decide(&pr, SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED), TRAP);
	assert_int_equal(decide(&pr, SYS_mmap, 0, 4096, 0xffffffff00000003, MAP_PRIVATE), ALLOW);
	assert_int_equal(decide(&pr, SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SETTLS, 0, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_clone, CLONE_VM, 0, 0, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_clone, SIGCHLD, 0, 0, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_openat, (uint64_t)(int64_t)AT_FDCWD, 0, O_RDONLY | O_CLOEXEC, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_openat, (uint64_t)(int64_t)AT_FDCWD, 0, O_RDWR, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_openat, (uint32_t)AT_FDCWD, 0, O_RDONLY, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_openat, 3, 0, O_RDONLY, 0), TRAP);

	/* 'in' sets */
	assert_int_equal(decide(&pr, SYS_mprotect, 0, 0, PROT_NONE, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_mprotect, 0, 0, PROT_READ, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_mprotect, 0, 0, PROT_READ | PROT_WRITE, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_mprotect, 0, 0, PROT_WRITE, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_mprotect, 0, 0, PROT_READ | PROT_EXEC, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_mprotect, 0, 0, 0x100000001, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_futex, 0, FUTEX_WAIT_PRIVATE, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_futex, 0, FUTEX_WAKE_PRIVATE, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_futex, 0, FUTEX_WAIT, 0, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_futex, 0, FUTEX_WAKE_PRIVATE, 0, 1), TRAP);
	for (uint64_t cmd = 0; cmd < 8; cmd++) {
		for (uint64_t arg = 0; arg < 4; arg++) {
			bool ok = (cmd == F_GETFD || cmd == F_SETFD) && (arg == 0 || arg == FD_CLOEXEC);
			assert_int_equal(decide(&pr, SYS_fcntl, 3, cmd, arg, 0), ok ? ALLOW : TRAP);
		}
	}
	assert_int_equal(decide(&pr, SYS_clock_gettime, CLOCK_MONOTONIC, 0, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_clock_gettime, CLOCK_REALTIME, 0, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_clock_gettime, CLOCK_BOOTTIME, 0, 0, 0), TRAP);

	/* ordered comparisons */
	assert_int_equal(decide(&pr, SYS_lseek, 3, 5, SEEK_SET, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_lseek, 3, 5, 3, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_lseek, 3, 0x7fffffffffffffff, SEEK_SET, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_lseek, 3, 0x8000000000000000, SEEK_SET, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_pread64, 3, 0, 1, 4095), ALLOW);
	assert_int_equal(decide(&pr, SYS_pread64, 3, 0, 1, 4096), TRAP);
	assert_int_equal(decide(&pr, SYS_pread64, 3, 0, 0, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_pread64, 3, 0, 1, 0x100000000), TRAP);
	assert_int_equal(decide(&pr, SYS_pwrite64, 3, 0, 0, 0x100000001), ALLOW);
	assert_int_equal(decide(&pr, SYS_pwrite64, 3, 0, 0, 0x200000000), ALLOW);
	assert_int_equal(decide(&pr, SYS_pwrite64, 3, 0, 0, 0x100000000), TRAP);
	assert_int_equal(decide(&pr, SYS_pwrite64, 3, 0, 0, 0xffffffff), TRAP);
	assert_int_equal(decide(&pr, SYS_kill, 1, SIGTERM, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_kill, 1, SIGKILL, 0, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_ioctl, UINT64_MAX, TCGETS, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_ioctl, 0, TCGETS, 0, 0), TRAP);

	/* every number: unconditional rules allow, return rules fail, the rest traps */
	for (int nr = 0; nr < 1024; nr++) {
		uint32_t want = TRAP;
		bool conditional = false;
		for (size_t i = 0; i < policy_rule_count(p); i++) {
			const struct policy_rule *r = policy_rule_at(p, i);
			if (r->nr != nr)
				continue;
			if (r->n_conds)
				conditional = true;
			else
				want = r->action == POLICY_ACTION_ERRNO ? ERRNO(r->errno_value) : ALLOW;
		}
		if (!conditional)
			assert_int_equal(decide(&pr, nr, 7, 7, 7, 7), want);
	}
	policy_free(p);
}

static void test_empty_policy_traps_everything(void **state)
{
	(void)state;
	struct prog pr;
	compile_text("# nothing allowed\n", &pr);
	check_bad_abis(&pr);
	for (int nr = 0; nr < 512; nr++)
		assert_int_equal(decide(&pr, nr, 0, 0, 0, 0), TRAP);
}

static void test_in_cross_product(void **state)
{
	(void)state;
	struct prog pr;
	compile_text("fcntl: arg0 in {1, 2, 3} && arg1 in {4, 5} && arg2 == 9\n", &pr);
	for (uint64_t a = 0; a < 8; a++) {
		for (uint64_t b = 0; b < 8; b++) {
			bool ok = a >= 1 && a <= 3 && (b == 4 || b == 5);
			assert_int_equal(decide(&pr, SYS_fcntl, a, b, 9, 0), ok ? ALLOW : TRAP);
			assert_int_equal(decide(&pr, SYS_fcntl, a, b, 8, 0), TRAP);
		}
	}
}

/* ---- operators against a reference, at 64-bit boundaries ---- */

static bool cond_holds(const struct policy_cond *c, const uint64_t *args)
{
	uint64_t v = args[c->arg];
	switch (c->op) {
	case POLICY_OP_EQ: return v == c->value;
	case POLICY_OP_NE: return v != c->value;
	case POLICY_OP_LT: return v < c->value;
	case POLICY_OP_LE: return v <= c->value;
	case POLICY_OP_GT: return v > c->value;
	case POLICY_OP_GE: return v >= c->value;
	case POLICY_OP_MASKED_EQ: return (v & c->mask) == c->value;
	case POLICY_OP_IN:
		for (unsigned i = 0; i < c->n_values; i++) {
			if (v == c->values[i])
				return true;
		}
		return false;
	}
	return false;
}

/* What the policy means, straight from the parsed rules. */
static uint32_t reference(const struct policy *p, int nr, const uint64_t *args)
{
	for (size_t i = 0; i < policy_rule_count(p); i++) {
		const struct policy_rule *r = policy_rule_at(p, i);
		if (r->nr != nr)
			continue;
		bool all = true;
		for (unsigned j = 0; j < r->n_conds; j++)
			all = all && cond_holds(&r->conds[j], args);
		if (all)
			return r->action == POLICY_ACTION_ERRNO ? ERRNO(r->errno_value) : ALLOW;
	}
	return TRAP;
}

static const uint64_t interesting[] = {
	0, 1, 2, 3, 4, 0xff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x100000000,
	0x100000001, 0x1ffffffff, 0xff000000000000ff, 0x1000000000000001, 0x7fffffffffffffff,
	0x8000000000000000, 0xfffffffffffffffe, 0xffffffffffffffff,
};
#define N_INTERESTING (sizeof(interesting) / sizeof(interesting[0]))

static void test_operators_at_boundaries(void **state)
{
	(void)state;
	const char *text = "read: arg0 < 0x100000000\n"
			   "write: arg1 <= 0x100000000\n"
			   "open: arg2 > 0xffffffff\n"
			   "close: arg3 >= 0x100000000\n"
			   "stat: arg4 != 0x100000000\n"
			   "fstat: arg5 & 0xff000000000000ff == 0x1000000000000001\n"
			   "lstat: arg0 == 0x1ffffffff\n"
			   "poll: arg0 < 1\n"
			   "lseek: arg0 > 0xfffffffffffffffe\n"
			   "mmap: arg0 <= 0\n"
			   "mprotect: arg0 >= 0xffffffffffffffff\n"
			   "munmap: arg0 & 0x8000000000000000 == 0x8000000000000000\n"
			   "brk: arg0 in {0x80000000, 0xffffffff80000000}\n";
	struct policy *p = parse_text(text);
	struct prog pr;
	compile_policy(p, &pr);
	for (size_t i = 0; i < policy_rule_count(p); i++) {
		int nr = policy_rule_at(p, i)->nr;
		for (size_t a = 0; a < 6; a++) {
			for (size_t v = 0; v < N_INTERESTING; v++) {
				uint64_t args[6] = { 5, 5, 5, 5, 5, 5 };
				args[a] = interesting[v];
				uint32_t got = decide_abi(&pr, AUDIT_ARCH_X86_64, (uint32_t)nr, args);
				uint32_t want = reference(p, nr, args);
				if (got != want)
					fail_msg("%s arg%zu=0x%llx: filter %#x, reference %#x",
						 policy_rule_at(p, i)->syscall, a,
						 (unsigned long long)interesting[v], got, want);
			}
		}
	}
	policy_free(p);
}

/* Random policies (obeying the one-kind-per-syscall rule) compiled and compared with the
 * reference on random arguments drawn mostly from the policy's own constants. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t pick_value(uint64_t *s)
{
	if (rng_next(s) % 4 == 0)
		return rng_next(s);
	return interesting[rng_next(s) % N_INTERESTING];
}

static size_t random_cond(uint64_t *s, char *out, size_t size, unsigned arg)
{
	static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=" };
	switch (rng_next(s) % 8) {
	case 0: {
		uint64_t mask = pick_value(s);
		uint64_t value = mask & pick_value(s);
		return (size_t)snprintf(out, size, "arg%u & 0x%llx == 0x%llx", arg,
					(unsigned long long)mask, (unsigned long long)value);
	}
	case 1: {
		size_t n = (size_t)snprintf(out, size, "arg%u in {", arg);
		unsigned count = 1 + (unsigned)(rng_next(s) % 4);
		uint64_t used[4];
		unsigned k = 0;
		while (k < count) {
			uint64_t v = pick_value(s);
			bool dup = false;
			for (unsigned j = 0; j < k; j++)
				dup = dup || used[j] == v;
			if (dup)
				continue;
			used[k] = v;
			n += (size_t)snprintf(out + n, size - n, "%s0x%llx", k ? ", " : "",
					      (unsigned long long)v);
			k++;
		}
		return n + (size_t)snprintf(out + n, size - n, "}");
	}
	default:
		return (size_t)snprintf(out, size, "arg%u %s 0x%llx", arg, ops[rng_next(s) % 6],
					(unsigned long long)pick_value(s));
	}
}

static void test_random_policies_match_reference(void **state)
{
	(void)state;
	static const char *const names[] = { "read", "write", "open", "close", "stat" };
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	for (int round = 0; round < 400; round++) {
		char text[8192];
		size_t len = 0;
		for (size_t sc = 0; sc < 5; sc++) {
			unsigned kind = (unsigned)(rng_next(&seed) % 4);
			if (kind == 0)
				continue; /* not listed: traps */
			if (kind == 1) {
				len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", names[sc]);
				continue;
			}
			if (kind == 2) {
				len += (size_t)snprintf(text + len, sizeof(text) - len, "%s: return E%s\n",
							names[sc], rng_next(&seed) % 2 ? "PERM" : "NOSYS");
				continue;
			}
			unsigned lines = 1 + (unsigned)(rng_next(&seed) % 3);
			for (unsigned l = 0; l < lines; l++) {
				len += (size_t)snprintf(text + len, sizeof(text) - len, "%s: ", names[sc]);
				unsigned n = 1 + (unsigned)(rng_next(&seed) % 4);
				for (unsigned c = 0; c < n; c++) {
					/* arguments may repeat: conditions are ANDed */
					unsigned arg = (unsigned)(rng_next(&seed) % 6);
					if (c)
						len += (size_t)snprintf(text + len, sizeof(text) - len, " && ");
					len += random_cond(&seed, text + len, sizeof(text) - len, arg);
				}
				len += (size_t)snprintf(text + len, sizeof(text) - len, "\n");
			}
		}
		assert_true(len < sizeof(text));

		struct policy *p = parse_text(text);
		struct prog pr;
		compile_policy(p, &pr);
		for (int probe = 0; probe < 300; probe++) {
			int nr = (int)(rng_next(&seed) % 6); /* 5 is fstat: never listed */
			uint64_t args[6];
			for (int a = 0; a < 6; a++)
				args[a] = pick_value(&seed);
			/* aim some probes exactly at a rule's values */
			if (probe % 3 == 0) {
				for (size_t i = 0; i < policy_rule_count(p); i++) {
					const struct policy_rule *r = policy_rule_at(p, i);
					if (r->nr != nr)
						continue;
					for (unsigned j = 0; j < r->n_conds; j++) {
						const struct policy_cond *c = &r->conds[j];
						args[c->arg] = c->op == POLICY_OP_IN ? c->values[0] : c->value;
					}
					break;
				}
			}
			uint32_t got = decide_abi(&pr, AUDIT_ARCH_X86_64, (uint32_t)nr, args);
			uint32_t want = reference(p, nr, args);
			if (got != want)
				fail_msg("round %d: %s: filter %#x, reference %#x for nr %d\n%s", round,
					 "mismatch", got, want, nr, text);
		}
		check_bad_abis(&pr);
		policy_free(p);
	}
}


/* Policies that libseccomp 2.5.4 (Debian 12) gets wrong: the first hangs its rule merging,
 * the second yields a filter allowing a read the rules forbid, the third traps a call they
 * allow. Each is checked here against the reference at the arguments that exposed it. */
static void test_policies_libseccomp_got_wrong(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int nr;
		uint64_t args[6];
		uint32_t want;
	} cases[] = {
		{ "write: arg5 == 0x100000000 && arg1 != 2\n"
		  "write: arg5 == 0x200000000 && arg1 != 2\n"
		  "write: arg0 == 0\n",
		  SYS_write, { 7, 3, 0, 0, 0, 0x200000000 }, ALLOW },
		{ "read: arg0 & 0x100000000 == 0x100000000\n"
		  "read: arg1 >= 0x8000000000000000 && arg0 >= 0x100000000\n"
		  "read: arg4 in {0x81f4b9f6a2db99c9, 0xffffffff} && arg0 <= 0x4 && arg5 == 0xffffffff\n",
		  SYS_read,
		  { 0xfffffffe, 0xe10cf0f97835db68, 0x7fffffffffffffff, 0x492c76b7efd452d1,
		    0x41f6da11942639e8, 0xff000000000000ff },
		  TRAP },
		{ "stat: arg3 >= 0x1ffffffff && arg0 <= 0x6071b447f85ce0e4\n"
		  "stat: arg3 < 0x1000000000000001\n"
		  "stat: arg0 <= 0x1cfcc457cf6b6394 && arg3 <= 0x3\n",
		  SYS_stat,
		  { 0x100000000, 0xef629c22b9dbf03b, 0x100000001, 0x8000000000000000,
		    0xffffffffffffffff, 0x1f5aeac77186818d },
		  ALLOW },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p = parse_text(cases[i].text);
		struct prog pr;
		compile_policy(p, &pr);
		assert_int_equal(reference(p, cases[i].nr, cases[i].args), cases[i].want);
		assert_int_equal(decide_abi(&pr, AUDIT_ARCH_X86_64, (uint32_t)cases[i].nr, cases[i].args),
				 cases[i].want);
		policy_free(p);
	}
}

/* Programs whose jumps exceed the 8-bit jt/jf range: 6 conditions of 16-value sets in one
 * rule, and hundreds of syscalls between the dispatch and the last blocks. */
static void test_long_jumps(void **state)
{
	(void)state;
	static char text[POLICY_MAX_FILE_SIZE];
	size_t len = 0;
	len += (size_t)snprintf(text + len, sizeof(text) - len, "ioctl:");
	for (int a = 0; a < 6; a++) {
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s arg%d in {", a ? " &&" : "", a);
		for (int v = 0; v < POLICY_MAX_SET; v++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%d", v ? "," : "",
						v + POLICY_MAX_SET * a);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "}");
	}
	assert_true(len <= POLICY_MAX_LINE);
	text[len++] = '\n';
	/* the conditional rule above sits first; many more syscalls follow */
	for (int nr = 0; nr < 300; nr++) {
		const char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		if (!name)
			continue;
		if (nr != SYS_ioctl)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s: arg0 != %d\n", name, nr);
		free((void *)name);
	}
	text[len] = '\0';
	struct policy *p = parse_text(text);
	struct prog pr;
	compile_policy(p, &pr);
	assert_true(pr.n > 1000);

	uint64_t seed = 12345;
	for (int probe = 0; probe < 20000; probe++) {
		uint64_t args[6];
		for (int a = 0; a < 6; a++) {
			uint64_t v = rng_next(&seed) % (POLICY_MAX_SET + 1);
			args[a] = v + POLICY_MAX_SET * (uint64_t)a;
			if (rng_next(&seed) % 16 == 0)
				args[a] ^= UINT64_C(1) << (rng_next(&seed) % 64);
		}
		int nr = probe % 2 ? SYS_ioctl : (int)(rng_next(&seed) % 320);
		if (probe % 7 == 0)
			args[0] = (uint64_t)nr;
		uint32_t got = decide_abi(&pr, AUDIT_ARCH_X86_64, (uint32_t)nr, args);
		uint32_t want = reference(p, nr, args);
		if (got != want)
			fail_msg("nr %d: filter %#x, reference %#x", nr, got, want);
	}
	/* the all-match corner of the big rule */
	uint64_t all[6];
	for (int a = 0; a < 6; a++)
		all[a] = 15 + POLICY_MAX_SET * (uint64_t)a;
	assert_int_equal(decide_abi(&pr, AUDIT_ARCH_X86_64, SYS_ioctl, all), ALLOW);
	all[5] += 1; /* one past the set */
	assert_int_equal(decide_abi(&pr, AUDIT_ARCH_X86_64, SYS_ioctl, all), TRAP);
	check_bad_abis(&pr);
	policy_free(p);
}

static void test_compile_into_small_buffer(void **state)
{
	(void)state;
	struct policy *p = parse_text("read\nwrite: arg0 == 1\n");
	struct policy_error err;
	struct sock_filter small[8];
	assert_int_equal(policy_compile(p, small, 8, &err), -E2BIG);
	assert_true(strstr(err.msg, "t.policy:0: BPF program too large (") == err.msg);
	assert_non_null(strstr(err.msg, "instructions, max 8)"));

	struct prog pr;
	int n = policy_compile(p, pr.insns, POLICY_MAX_BPF_INSNS, &err);
	assert_true(n > 8);
	pr.n = (size_t)n;
	assert_int_equal(decide(&pr, SYS_write, 1, 0, 0, 0), ALLOW);
	assert_int_equal(decide(&pr, SYS_write, 2, 0, 0, 0), TRAP);
	assert_int_equal(decide(&pr, SYS_read, 2, 0, 0, 0), ALLOW);
	/* exactly the needed room is enough */
	struct sock_filter *exact = malloc((size_t)n * sizeof(*exact));
	assert_non_null(exact);
	assert_int_equal(policy_compile(p, exact, (size_t)n, &err), n);
	assert_memory_equal(exact, pr.insns, (size_t)n * sizeof(*exact));
	free(exact);
	policy_free(p);
}

/* ---- output handling ---- */

static void test_compile_to_pipe_matches_memfd(void **state)
{
	(void)state;
	struct policy *p = parse_text("read\nwrite: arg0 == 1\ngetpid: return EPERM\n");
	struct policy_error err;
	struct prog a;
	int fds[2];

	compile_policy(p, &a);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	int n = policy_compile_bpf(p, fds[1], &err);
	assert_int_equal(n, (int)a.n);
	close(fds[1]);
	struct sock_filter b[POLICY_MAX_BPF_INSNS];
	ssize_t got = read(fds[0], b, sizeof(b));
	close(fds[0]);
	assert_int_equal(got, (ssize_t)(a.n * sizeof(struct sock_filter)));
	assert_memory_equal(a.insns, b, (size_t)got);

	/* deterministic */
	struct prog c;
	compile_policy(p, &c);
	assert_int_equal(c.n, a.n);
	assert_memory_equal(a.insns, c.insns, a.n * sizeof(struct sock_filter));
	policy_free(p);
}

static void test_compile_bad_fd(void **state)
{
	(void)state;
	struct policy *p = parse_text("read\n");
	struct policy_error err;
	assert_int_equal(policy_compile_bpf(p, -1, &err), -EBADF);
	assert_string_equal(err.msg, "t.policy:0: writing the program: EBADF");

	/* a read-only descriptor */
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(policy_compile_bpf(p, fd, &err), -EBADF);
	close(fd);
	policy_free(p);
}

static void test_program_too_large(void **state)
{
	(void)state;
	static char text[POLICY_MAX_FILE_SIZE];
	size_t len = 0;
	for (int i = 0; i < POLICY_MAX_RULES; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"ioctl: arg1 == 0x%x%08x && arg2 == %d\n", i + 1, i * 7, i);
	assert_true(len < sizeof(text));
	struct policy *p;
	struct policy_error err;
	assert_int_equal(policy_parse_buffer("big.policy", text, len, &p, &err), 0);

	int fd = memfd_create("too-large", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(policy_compile_bpf(p, fd, &err), -E2BIG);
	/* 1024 rules of two 64-bit equalities (4 instructions each) and a return, plus the
	 * dispatch and header: the count is exact */
	const char *prefix = "big.policy:0: BPF program too large (";
	assert_true(strncmp(err.msg, prefix, strlen(prefix)) == 0);
	const char *suffix = " instructions, max 4096)";
	size_t ml = strlen(err.msg);
	assert_true(ml > strlen(suffix) && strcmp(err.msg + ml - strlen(suffix), suffix) == 0);
	long insns = strtol(err.msg + strlen(prefix), NULL, 10);
	assert_true(insns > POLICY_MAX_RULES * 9);
	/* nothing partial was written */
	assert_int_equal(lseek(fd, 0, SEEK_END), 0);
	close(fd);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_policy),
		cmocka_unit_test(test_empty_policy_traps_everything),
		cmocka_unit_test(test_in_cross_product),
		cmocka_unit_test(test_operators_at_boundaries),
		cmocka_unit_test(test_random_policies_match_reference),
		cmocka_unit_test(test_policies_libseccomp_got_wrong),
		cmocka_unit_test(test_long_jumps),
		cmocka_unit_test(test_compile_into_small_buffer),
		cmocka_unit_test(test_compile_to_pipe_matches_memfd),
		cmocka_unit_test(test_compile_bad_fd),
		cmocka_unit_test(test_program_too_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
