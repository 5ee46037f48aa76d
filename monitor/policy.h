/* policy.h: cloister's seccomp policy language (see policies/README.md).
 *
 * A policy is a text file listing the syscalls one component may make, optionally with
 * conditions on their arguments or a fixed errno to return. This module parses such files
 * (treating their content as hostile: every limit below is enforced and reported), lets the
 * audit and docs walk the parsed rules, and compiles them into the classic-BPF program the
 * launcher installs: unlisted syscalls TRAP (the component's SIGSYS reporter records the
 * violation and dies by SIGSYS), any non-x86_64 ABI (i386 int 0x80, x32) is killed
 * outright. libseccomp resolves syscall names; the BPF is generated here (see
 * policy_compile.c for why).
 *
 * Every failure is returned: a negative errno plus, in struct policy_error, a message of
 * the form "FILE:LINE: reason" (LINE 0 means the file as a whole). Nothing is printed. */
#ifndef CLOISTER_MONITOR_POLICY_H
#define CLOISTER_MONITOR_POLICY_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_LINE 512          /* bytes per line, newline excluded */
#define POLICY_MAX_FILE_SIZE 65536   /* bytes per file */
#define POLICY_MAX_RULES 1024        /* rule lines in total, includes counted */
#define POLICY_MAX_CONDS 6           /* conditions per rule line */
#define POLICY_MAX_SET 16            /* values in one 'in {...}' set */
#define POLICY_MAX_INCLUDE_DEPTH 8   /* nested @include levels below the top-level file */
#define POLICY_MAX_FILES 64          /* files read for one policy, top-level included */
#define POLICY_MAX_BPF_INSNS 4096    /* kernel limit on one seccomp program */
#define POLICY_SYSCALL_NAME_MAX 32   /* longest syscall name + NUL */
#define POLICY_RULE_TEXT_MAX 2560    /* enough for policy_rule_format of any rule */

struct policy_error {
	char msg[512];
};

enum policy_action {
	POLICY_ACTION_ALLOW,
	POLICY_ACTION_ERRNO,
};

enum policy_op {
	POLICY_OP_EQ,
	POLICY_OP_NE,
	POLICY_OP_LT, /* comparisons are unsigned 64-bit, as the kernel passes registers */
	POLICY_OP_LE,
	POLICY_OP_GT,
	POLICY_OP_GE,
	POLICY_OP_MASKED_EQ, /* (arg & mask) == value */
	POLICY_OP_IN,        /* arg equals one of values[0..n_values) */
};

struct policy_cond {
	unsigned arg; /* 0..5 */
	enum policy_op op;
	uint64_t mask;  /* POLICY_OP_MASKED_EQ only */
	uint64_t value; /* every op but POLICY_OP_IN */
	unsigned n_values;
	uint64_t values[POLICY_MAX_SET]; /* POLICY_OP_IN only, distinct */
};

struct policy_rule {
	const char *file; /* display path of the file it came from; owned by the policy */
	unsigned line;
	int nr; /* x86_64 syscall number */
	char syscall[POLICY_SYSCALL_NAME_MAX];
	enum policy_action action;
	int errno_value; /* POLICY_ACTION_ERRNO only */
	unsigned n_conds; /* 0 for an unconditional rule; always 0 for POLICY_ACTION_ERRNO */
	struct policy_cond conds[POLICY_MAX_CONDS];
};

struct policy;

/* Parses PATH and the files it @includes (beneath PATH's directory, no symlinks, no '..').
 * Returns 0 and *out on success; -EINVAL for any problem in the text or an include,
 * -ENOMEM, or the negative errno of opening/reading PATH itself. */
int policy_parse_file(const char *path, struct policy **out, struct policy_error *err);

/* Parses LEN bytes of TEXT (need not be NUL-terminated; a NUL byte is an error). NAME is
 * used in messages. @include is rejected: a buffer has no directory to resolve it in. */
int policy_parse_buffer(const char *name, const char *text, size_t len, struct policy **out,
			struct policy_error *err);

void policy_free(struct policy *p);

/* Rules in file order (an included file's rules where its @include line stands). */
size_t policy_rule_count(const struct policy *p);
const struct policy_rule *policy_rule_at(const struct policy *p, size_t i); /* NULL past end */

/* Display name of the top-level file (or the buffer's name). */
const char *policy_name(const struct policy *p);

/* Writes RULE as one canonical policy line (numbers in hex). Returns its length, or
 * -ENOSPC if SIZE is too small (POLICY_RULE_TEXT_MAX always suffices). */
int policy_rule_format(const struct policy_rule *rule, char *buf, size_t size);

/* Compiles P into PROG (room for CAP instructions; POLICY_MAX_BPF_INSNS always suffices
 * for a program the kernel accepts). Returns the number of instructions (> 0), or -E2BIG
 * with ERR set if the program would not fit CAP or the kernel's limit. */
int policy_compile(const struct policy *p, struct sock_filter *prog, size_t cap,
		   struct policy_error *err);

/* Compiles P and writes the program (an array of struct sock_filter) to OUT_FD.
 * Returns the number of instructions (> 0), or a negative errno with ERR set. */
int policy_compile_bpf(const struct policy *p, int out_fd, struct policy_error *err);

/* Compiles P and installs it on the calling thread with seccomp(2), after setting
 * no_new_privs. Nothing is allocated or freed once the filter is in force, so the policy
 * needs to allow nothing beyond what the caller does next. */
int policy_load(const struct policy *p, struct policy_error *err);

/* Constant tables (policy_consts.c). Lookups return 0 or -ENOENT. Values are the 64-bit
 * register contents the kernel sees: negative C constants (AT_FDCWD) are sign-extended. */
int policy_const_lookup(const char *name, uint64_t *value);
size_t policy_const_count(void);
const char *policy_const_at(size_t i, uint64_t *value); /* NULL past end */
int policy_errno_lookup(const char *name, int *value);
const char *policy_errno_name(int value); /* canonical name, NULL if none */
size_t policy_errno_count(void);
const char *policy_errno_at(size_t i, int *value); /* NULL past end */

#endif
