/* test_policy_sandbox.c: compiled policies enforced by the real kernel.
 *
 * Each case forks a child that installs a filter and then makes only raw syscalls before
 * _exit, so neither the sanitizer runtime nor libc needs anything the policy does not
 * list. Filters are installed both ways the project uses: the exported program through
 * seccomp(2) (as the launcher does) and policy_load (in-process). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/policy.h"

#define EXIT_REPORTED_BASE 100 /* reporter exits with this + syscall number (< 100) */
#define EXIT_REPORTER_CONFUSED 99
#define I386_GETPID 20
#define X32_BIT 0x40000000L
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS; older glibc lacks the name */
#endif

enum install { VIA_EXPORT, VIA_LOAD };

struct child_spec {
	const char *policy;    /* policy text; exit_group is added */
	enum install how;
	bool reporter;         /* install a SIGSYS handler like a component's */
	int (*body)(void *);   /* runs under the filter; returns the exit code */
	void *arg;
};

struct outcome {
	bool exited;
	int code;   /* exit status, or the signal */
};

/* What a component's reporter does, minus the recording: tell the parent, by exit code,
 * which syscall was trapped, after checking it was seccomp that trapped it on x86_64. */
static void reporter(int sig, siginfo_t *info, void *uc)
{
	(void)uc;
	if (sig == SIGSYS && info->si_code == SYS_SECCOMP && info->si_arch == AUDIT_ARCH_X86_64 &&
	    info->si_syscall >= 0 && info->si_syscall < EXIT_REPORTED_BASE - 1)
		syscall(SYS_exit_group, EXIT_REPORTED_BASE + info->si_syscall);
	syscall(SYS_exit_group, EXIT_REPORTER_CONFUSED);
}

static void compile_to_memory(const struct policy *p, struct sock_filter *insns, unsigned short *n)
{
	struct policy_error err;
	int fd = memfd_create("sandbox-test", MFD_CLOEXEC);
	assert_true(fd >= 0);
	int count = policy_compile_bpf(p, fd, &err);
	if (count <= 0)
		fail_msg("compile: %s", err.msg);
	ssize_t size = (ssize_t)count * (ssize_t)sizeof(struct sock_filter);
	assert_int_equal(pread(fd, insns, (size_t)size, 0), size);
	*n = (unsigned short)count;
	close(fd);
}

static struct outcome run_child(const struct child_spec *spec)
{
	char text[2048];
	struct policy *p;
	struct policy_error err;
	static struct sock_filter insns[POLICY_MAX_BPF_INSNS];
	unsigned short n = 0;

	snprintf(text, sizeof(text), "exit_group\n%s", spec->policy);
	if (policy_parse_buffer("sandbox.policy", text, strlen(text), &p, &err))
		fail_msg("parse: %s", err.msg);
	if (spec->how == VIA_EXPORT)
		compile_to_memory(p, insns, &n);

	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Everything that needs a syscall happens before the filter. */
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		if (spec->reporter) {
			sa.sa_sigaction = reporter;
			sa.sa_flags = SA_SIGINFO;
		} else {
			sa.sa_handler = SIG_DFL; /* cmocka's handler is inherited */
		}
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) < 0)
			_exit(90);
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		alarm(20); /* a stuck child dies instead of hanging the suite */

		if (spec->how == VIA_EXPORT) {
			struct sock_fprog prog = { .len = n, .filter = insns };
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
				_exit(91);
			if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
				_exit(92);
		} else {
			struct policy_error lerr;
			if (policy_load(p, &lerr) < 0)
				_exit(93);
		}
		syscall(SYS_exit_group, spec->body(spec->arg));
		_exit(94); /* unreachable: exit_group does not return */
	}

	policy_free(p);
	int status;
	pid_t w;
	do {
		w = waitpid(pid, &status, 0);
	} while (w < 0 && errno == EINTR);
	assert_int_equal(w, pid);
	struct outcome o;
	if (WIFEXITED(status)) {
		o.exited = true;
		o.code = WEXITSTATUS(status);
	} else {
		assert_true(WIFSIGNALED(status));
		o.exited = false;
		o.code = WTERMSIG(status);
	}
	return o;
}

static void expect_exit(const struct child_spec *spec, int code)
{
	struct outcome o = run_child(spec);
	if (!o.exited || o.code != code)
		fail_msg("child %s %d, expected exit %d", o.exited ? "exited" : "killed by signal",
			 o.code, code);
}

static void expect_signal(const struct child_spec *spec, int sig)
{
	struct outcome o = run_child(spec);
	if (o.exited || o.code != sig)
		fail_msg("child %s %d, expected signal %d", o.exited ? "exited" : "killed by signal",
			 o.code, sig);
}

/* ---- bodies: raw syscalls only ---- */

static int body_getppid(void *arg)
{
	long want = *(const long *)arg;
	return syscall(SYS_getppid) == want ? 0 : 1;
}

static int body_getpid(void *arg)
{
	(void)arg;
	syscall(SYS_getpid);
	return 0;
}

static int body_getpid_eperm(void *arg)
{
	(void)arg;
	long r = syscall(SYS_getpid);
	return r == -1 && errno == EPERM ? 0 : 1;
}

static int body_mmap(void *arg)
{
	long prot = *(const long *)arg;
	long r = syscall(SYS_mmap, 0L, 4096L, prot, (long)(MAP_PRIVATE | MAP_ANONYMOUS), -1L, 0L);
	return r == (long)MAP_FAILED ? 1 : 0;
}

static int body_fcntl(void *arg)
{
	long cmd = *(const long *)arg;
	return syscall(SYS_fcntl, 0L, cmd, 0L) < 0 ? 1 : 0;
}

static long int80_getpid(void)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"((long)I386_GETPID)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static int body_int80(void *arg)
{
	(void)arg;
	long r = int80_getpid();
	return r > 0 ? 0 : 1;
}

static int body_x32(void *arg)
{
	(void)arg;
	syscall(X32_BIT | SYS_getpid);
	return 0;
}

/* The arguments at which libseccomp 2.5.4's filter for the policy in
 * test_miscompiled_policy_enforced wrongly allowed read. */
static int body_read_forbidden_args(void *arg)
{
	(void)arg;
	syscall(SYS_read, 0xfffffffeL, 0xe10cf0f97835db68L, 0x7fffffffffffffffL, 0x492c76b7efd452d1L,
		0x41f6da11942639e8L, (long)0xff000000000000ffUL);
	return 0;
}

static const enum install both[] = { VIA_EXPORT, VIA_LOAD };

/* ---- tests ---- */

static void test_allowed_syscall_succeeds(void **state)
{
	(void)state;
	long parent = (long)getpid();
	for (size_t i = 0; i < 2; i++) {
		struct child_spec s = { "getppid\n", both[i], false, body_getppid, &parent };
		expect_exit(&s, 0);
	}
}

static void test_forbidden_syscall_dies_by_sigsys(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct child_spec s = { "getppid\n", both[i], false, body_getpid, NULL };
		expect_signal(&s, SIGSYS);
	}
}

static void test_forbidden_syscall_reaches_reporter(void **state)
{
	(void)state;
	/* TRAP, not KILL: a component's SIGSYS handler sees which syscall it was */
	for (size_t i = 0; i < 2; i++) {
		struct child_spec s = { "getppid\n", both[i], true, body_getpid, NULL };
		expect_exit(&s, EXIT_REPORTED_BASE + SYS_getpid);
	}
}

static void test_conditional_rule(void **state)
{
	(void)state;
	long rw = PROT_READ | PROT_WRITE, rx = PROT_READ | PROT_EXEC, none = PROT_NONE;
	for (size_t i = 0; i < 2; i++) {
		struct child_spec ok = { "mmap: arg2 & PROT_EXEC == 0\n", both[i], false, body_mmap, &rw };
		expect_exit(&ok, 0);
		ok.arg = &none;
		expect_exit(&ok, 0);
		struct child_spec bad = { "mmap: arg2 & PROT_EXEC == 0\n", both[i], true, body_mmap, &rx };
		expect_exit(&bad, EXIT_REPORTED_BASE + SYS_mmap);
		bad.reporter = false;
		expect_signal(&bad, SIGSYS);
	}
}

static void test_in_set_rule(void **state)
{
	(void)state;
	long getfd = F_GETFD, getfl = F_GETFL, setfd = F_SETFD;
	for (size_t i = 0; i < 2; i++) {
		struct child_spec s = { "fcntl: arg1 in {F_GETFD, F_GETFL}\n", both[i], true, body_fcntl, &getfd };
		expect_exit(&s, 0);
		s.arg = &getfl;
		expect_exit(&s, 0);
		s.arg = &setfd;
		expect_exit(&s, EXIT_REPORTED_BASE + SYS_fcntl);
	}
}

static void test_return_errno(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct child_spec s = { "getpid: return EPERM\n", both[i], true, body_getpid_eperm, NULL };
		expect_exit(&s, 0);
	}
}

/* Whether this kernel runs int 0x80 from a 64-bit process at all (IA32 emulation). */
static bool int80_available(void)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGSEGV, &sa, NULL);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		long r = int80_getpid();
		syscall(SYS_exit_group, r == syscall(SYS_getpid) ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_i386_abi_killed(void **state)
{
	(void)state;
	if (!int80_available()) {
		/* The BPF-level check in test_policy_compile covers the filter itself. */
		print_message("int 0x80 unavailable on this kernel: skipping the live check\n");
		skip();
	}
	/* getpid is allowed natively; through the i386 ABI the process is killed outright,
	 * not trapped: the reporter must not run. */
	for (size_t i = 0; i < 2; i++) {
		struct child_spec s = { "getpid\n", both[i], true, body_int80, NULL };
		expect_signal(&s, SIGSYS);
	}
}

static void test_x32_abi_killed(void **state)
{
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct child_spec s = { "getpid\n", both[i], true, body_x32, NULL };
		expect_signal(&s, SIGSYS);
	}
}

static void test_miscompiled_policy_enforced(void **state)
{
	(void)state;
	const char *policy = "read: arg0 & 0x100000000 == 0x100000000\n"
			     "read: arg1 >= 0x8000000000000000 && arg0 >= 0x100000000\n"
			     "read: arg4 in {0x81f4b9f6a2db99c9, 0xffffffff} && arg0 <= 0x4 && "
			     "arg5 == 0xffffffff\n";
	for (size_t i = 0; i < 2; i++) {
		struct child_spec s = { policy, both[i], true, body_read_forbidden_args, NULL };
		expect_exit(&s, EXIT_REPORTED_BASE + SYS_read);
	}
}

static void test_policy_from_file_enforced(void **state)
{
	(void)state;
	/* The integrator's policies come from files: the same path end to end. */
	char path[4096];
	struct policy *p;
	struct policy_error err;
	snprintf(path, sizeof(path), "%s/good.policy", POLICY_TEST_DATA);
	assert_int_equal(policy_parse_file(path, &p, &err), 0);
	static struct sock_filter insns[POLICY_MAX_BPF_INSNS];
	unsigned short n;
	compile_to_memory(p, insns, &n);
	policy_free(p);

	for (int variant = 0; variant < 3; variant++) {
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct sigaction sa;
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = SIG_DFL;
			sigaction(SIGSYS, &sa, NULL);
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
			alarm(20);
			struct sock_fprog prog = { .len = n, .filter = insns };
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
			    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
				_exit(92);
			if (variant == 0) /* getpid: return EPERM */
				syscall(SYS_exit_group, syscall(SYS_getpid) == -1 && errno == EPERM ? 0 : 1);
			if (variant == 1) /* write: arg0 == 1 or 2 -> fd 2 allowed (EBADF is fine) */
				syscall(SYS_write, 2L, "", 0L);
			if (variant == 2) /* write to fd 5: not allowed */
				syscall(SYS_write, 5L, "", 0L);
			syscall(SYS_exit_group, 0);
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (variant < 2) {
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
		} else {
			assert_true(WIFSIGNALED(status));
			assert_int_equal(WTERMSIG(status), SIGSYS);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_syscall_succeeds),
		cmocka_unit_test(test_forbidden_syscall_dies_by_sigsys),
		cmocka_unit_test(test_forbidden_syscall_reaches_reporter),
		cmocka_unit_test(test_conditional_rule),
		cmocka_unit_test(test_in_set_rule),
		cmocka_unit_test(test_return_errno),
		cmocka_unit_test(test_i386_abi_killed),
		cmocka_unit_test(test_x32_abi_killed),
		cmocka_unit_test(test_miscompiled_policy_enforced),
		cmocka_unit_test(test_policy_from_file_enforced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
