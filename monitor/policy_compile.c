/* policy_compile.c: turns a parsed policy into a seccomp filter with libseccomp.
 *
 * Filter semantics (relied on by the launcher and the monitor):
 *  - default action TRAP: the component's SIGSYS reporter records the violation, then the
 *    component dies by SIGSYS;
 *  - only native x86_64 is accepted: a syscall made through another ABI (i386 int 0x80, or
 *    x32 numbers with bit 30 set, which libseccomp checks for on x86_64) gets the
 *    bad-architecture action KILL_PROCESS;
 *  - each rule line becomes one libseccomp rule per combination of its 'in' sets.
 * Trusts the policy to have come from policy_parse.c (limits already enforced). */
#define _GNU_SOURCE
#include "monitor/policy.h"

#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(__x86_64__) || defined(__ILP32__)
#error "policies name x86_64 syscalls; the filter is built for the native x86_64 ABI only"
#endif

static const char *errno_text(int rc)
{
	const char *name = policy_errno_name(rc < 0 ? -rc : rc);
	return name ? name : "unknown error";
}

static enum scmp_compare scmp_op(enum policy_op op)
{
	switch (op) {
	case POLICY_OP_EQ:
	case POLICY_OP_IN:
		return SCMP_CMP_EQ;
	case POLICY_OP_NE:
		return SCMP_CMP_NE;
	case POLICY_OP_LT:
		return SCMP_CMP_LT;
	case POLICY_OP_LE:
		return SCMP_CMP_LE;
	case POLICY_OP_GT:
		return SCMP_CMP_GT;
	case POLICY_OP_GE:
		return SCMP_CMP_GE;
	case POLICY_OP_MASKED_EQ:
		return SCMP_CMP_MASKED_EQ;
	}
	return _SCMP_CMP_MIN; /* unreachable for parsed rules; libseccomp rejects it */
}

/* Adds every combination of the rule's 'in' values, odometer style. */
static int add_rule(scmp_filter_ctx ctx, const struct policy_rule *r, struct policy_error *err)
{
	unsigned pick[POLICY_MAX_CONDS] = { 0 };
	uint32_t action = r->action == POLICY_ACTION_ERRNO ? SCMP_ACT_ERRNO((uint32_t)r->errno_value)
							   : SCMP_ACT_ALLOW;

	for (;;) {
		struct scmp_arg_cmp cmp[POLICY_MAX_CONDS];
		for (unsigned i = 0; i < r->n_conds; i++) {
			const struct policy_cond *c = &r->conds[i];
			cmp[i].arg = c->arg;
			cmp[i].op = scmp_op(c->op);
			if (c->op == POLICY_OP_MASKED_EQ) {
				cmp[i].datum_a = c->mask;
				cmp[i].datum_b = c->value;
			} else {
				cmp[i].datum_a = c->op == POLICY_OP_IN ? c->values[pick[i]] : c->value;
				cmp[i].datum_b = 0;
			}
		}
		int rc = seccomp_rule_add_exact_array(ctx, action, r->nr, r->n_conds, cmp);
		if (rc < 0) {
			snprintf(err->msg, sizeof(err->msg), "%s:%u: libseccomp rejected the rule for '%s': %s",
				 r->file, r->line, r->syscall, errno_text(rc));
			return rc;
		}

		unsigned i = 0;
		for (; i < r->n_conds; i++) {
			const struct policy_cond *c = &r->conds[i];
			if (c->op != POLICY_OP_IN)
				continue;
			if (++pick[i] < c->n_values)
				break;
			pick[i] = 0;
		}
		if (i == r->n_conds)
			return 0;
	}
}

static int build_filter(const struct policy *p, scmp_filter_ctx *out, struct policy_error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int rc;

	if (!ctx) {
		snprintf(err->msg, sizeof(err->msg), "%s:0: libseccomp initialisation failed",
			 policy_name(p));
		return -ENOMEM;
	}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* A binary search over syscall numbers keeps big policies small and fast. */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s:0: libseccomp attribute failed: %s",
			 policy_name(p), errno_text(rc));
		seccomp_release(ctx);
		return rc;
	}
	for (size_t i = 0; i < policy_rule_count(p); i++) {
		rc = add_rule(ctx, policy_rule_at(p, i), err);
		if (rc < 0) {
			seccomp_release(ctx);
			return rc;
		}
	}
	*out = ctx;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Exports into a private memfd first so that a program the kernel would refuse is reported
 * here, and OUT_FD receives all of a valid program or nothing. */
int policy_compile_bpf(const struct policy *p, int out_fd, struct policy_error *err)
{
	enum { MAX_BYTES = POLICY_MAX_BPF_INSNS * sizeof(struct sock_filter) };
	scmp_filter_ctx ctx;
	struct stat st;
	char *prog = NULL;
	int memfd = -1, rc;

	err->msg[0] = '\0';
	rc = build_filter(p, &ctx, err);
	if (rc < 0)
		return rc;
	memfd = memfd_create("cloister-policy", MFD_CLOEXEC);
	if (memfd < 0) {
		rc = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s:0: memfd_create: %s", policy_name(p),
			 errno_text(rc));
		goto out;
	}
	rc = seccomp_export_bpf(ctx, memfd);
	if (rc < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s:0: seccomp_export_bpf: %s", policy_name(p),
			 errno_text(rc));
		goto out;
	}
	if (fstat(memfd, &st) < 0) {
		rc = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s:0: fstat: %s", policy_name(p), errno_text(rc));
		goto out;
	}
	if (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) != 0) {
		rc = -EIO;
		snprintf(err->msg, sizeof(err->msg), "%s:0: libseccomp exported %lld bytes",
			 policy_name(p), (long long)st.st_size);
		goto out;
	}
	if (st.st_size > MAX_BYTES) {
		rc = -E2BIG;
		snprintf(err->msg, sizeof(err->msg),
			 "%s:0: BPF program too large (%lld instructions, max %d)", policy_name(p),
			 (long long)(st.st_size / (off_t)sizeof(struct sock_filter)),
			 POLICY_MAX_BPF_INSNS);
		goto out;
	}
	prog = malloc((size_t)st.st_size);
	if (!prog) {
		rc = -ENOMEM;
		snprintf(err->msg, sizeof(err->msg), "%s:0: out of memory", policy_name(p));
		goto out;
	}
	if (pread(memfd, prog, (size_t)st.st_size, 0) != st.st_size) {
		rc = -EIO;
		snprintf(err->msg, sizeof(err->msg), "%s:0: short read of the exported program",
			 policy_name(p));
		goto out;
	}
	rc = write_all(out_fd, prog, (size_t)st.st_size);
	if (rc < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s:0: writing the program: %s", policy_name(p),
			 errno_text(rc));
		goto out;
	}
	rc = (int)(st.st_size / (off_t)sizeof(struct sock_filter));
out:
	free(prog);
	if (memfd >= 0)
		close(memfd);
	seccomp_release(ctx);
	return rc;
}

int policy_load(const struct policy *p, struct policy_error *err)
{
	scmp_filter_ctx ctx;
	int rc;

	err->msg[0] = '\0';
	rc = build_filter(p, &ctx, err);
	if (rc < 0)
		return rc;
	rc = seccomp_load(ctx);
	if (rc < 0)
		snprintf(err->msg, sizeof(err->msg), "%s:0: seccomp_load: %s", policy_name(p),
			 errno_text(rc));
	seccomp_release(ctx);
	return rc;
}
