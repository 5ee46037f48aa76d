/* policy_compile.c: turns a parsed policy into the classic-BPF seccomp program.
 *
 * Filter semantics (relied on by the launcher and the monitor):
 *  - only the native x86_64 ABI is accepted: another audit arch (i386 through int 0x80)
 *    or an x32 number (bit 30 set, same arch token) gets KILL_PROCESS;
 *  - a listed syscall runs its rule lines in file order: the first whose conditions all
 *    hold decides (ALLOW or ERRNO); if none holds, TRAP;
 *  - an unlisted syscall gets TRAP: the component's SIGSYS reporter records it, then the
 *    component dies by SIGSYS.
 *
 * Why not libseccomp's rule compiler: version 2.5.4 (Debian 12) merges alternative rules
 * of one syscall wrongly when they mix ordered comparisons with 64-bit values. It hangs on
 * some policies and, worse, emits filters that allow calls the rules forbid (reproduced
 * against the kernel; see tests/policy). The program here is small enough to check:
 * tests run it through a BPF interpreter against a reference reading of the rules.
 *
 * Trusts the policy to have come from policy_parse.c (arg indexes, set sizes and masks
 * already validated). */
#define _GNU_SOURCE
#include "monitor/policy.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if !defined(__x86_64__) || defined(__ILP32__)
#error "policies name x86_64 syscalls and the filter reads little-endian 64-bit arguments"
#endif

#define X32_SYSCALL_BIT 0x40000000u
#define MAX_JUMP 255 /* jt/jf are 8-bit */

static const char *errno_text(int rc)
{
	const char *name = policy_errno_name(rc < 0 ? -rc : rc);
	return name ? name : "unknown error";
}

/* ---- assembler ----
 * The program is built back to front. Every jump in classic BPF goes forward, so when an
 * instruction is added all of its targets already exist. A position is named by its
 * distance from the end ("rev"), which adding instructions in front never changes; the
 * current front has rev == len. */

struct builder {
	struct sock_filter *insns; /* filled from insns[cap - 1] downwards */
	size_t cap;
	size_t len; /* instructions so far, counting any that did not fit */
};

static void put(struct builder *b, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (b->len < b->cap) {
		struct sock_filter *f = &b->insns[b->cap - 1 - b->len];
		f->code = code;
		f->jt = jt;
		f->jf = jf;
		f->k = k;
	}
	b->len++;
}

static size_t front(const struct builder *b)
{
	return b->len;
}

static void ret(struct builder *b, uint32_t action)
{
	put(b, BPF_RET | BPF_K, 0, 0, action);
}

static void load(struct builder *b, uint32_t offset)
{
	put(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, offset);
}

static void goto_(struct builder *b, size_t target)
{
	put(b, BPF_JMP | BPF_JA | BPF_K, 0, 0, (uint32_t)(b->len - target));
}

/* if (A op k) goto t; else goto f. Far targets go through unconditional jumps. */
static void jump(struct builder *b, uint16_t op, uint32_t k, size_t t, size_t f)
{
	size_t ot = b->len - t, of = b->len - f;

	if (ot <= MAX_JUMP && of <= MAX_JUMP) {
		put(b, BPF_JMP | op | BPF_K, (uint8_t)ot, (uint8_t)of, k);
		return;
	}
	goto_(b, f);
	goto_(b, t);
	put(b, BPF_JMP | op | BPF_K, 0, 1, k);
}

/* ---- conditions ---- */

static uint32_t lo32(uint64_t v)
{
	return (uint32_t)v;
}

static uint32_t hi32(uint64_t v)
{
	return (uint32_t)(v >> 32);
}

/* Emits one condition: falls through to what follows when it holds, jumps to FAIL when
 * not. Comments show the code in execution order; it is emitted bottom-up. Arguments are
 * compared as full unsigned 64-bit values, high word first. */
static void emit_cond(struct builder *b, const struct policy_cond *c, size_t fail)
{
	const size_t pass = front(b);
	const uint32_t lo = (uint32_t)offsetof(struct seccomp_data, args) + 8 * c->arg;
	const uint32_t hi = lo + 4;
	const uint64_t v = c->value;

	switch (c->op) {
	case POLICY_OP_EQ: /* ld hi; jeq vhi ? : fail; ld lo; jeq vlo ? pass : fail */
		jump(b, BPF_JEQ, lo32(v), pass, fail);
		load(b, lo);
		jump(b, BPF_JEQ, hi32(v), front(b), fail);
		load(b, hi);
		return;
	case POLICY_OP_NE: /* ld hi; jeq vhi ? : pass; ld lo; jeq vlo ? fail : pass */
		jump(b, BPF_JEQ, lo32(v), fail, pass);
		load(b, lo);
		jump(b, BPF_JEQ, hi32(v), front(b), pass);
		load(b, hi);
		return;
	case POLICY_OP_MASKED_EQ: /* the parser guarantees value & ~mask == 0 */
		jump(b, BPF_JEQ, lo32(v), pass, fail);
		put(b, BPF_ALU | BPF_AND | BPF_K, 0, 0, lo32(c->mask));
		load(b, lo);
		if (hi32(c->mask)) {
			jump(b, BPF_JEQ, hi32(v), front(b), fail);
			put(b, BPF_ALU | BPF_AND | BPF_K, 0, 0, hi32(c->mask));
			load(b, hi);
		}
		return;
	case POLICY_OP_GT: /* ld hi; jgt vhi ? pass : ; jeq vhi ? : fail; ld lo; jgt vlo ? pass : fail */
	case POLICY_OP_GE: /* ... last jge */
		jump(b, c->op == POLICY_OP_GT ? BPF_JGT : BPF_JGE, lo32(v), pass, fail);
		load(b, lo);
		jump(b, BPF_JEQ, hi32(v), front(b), fail);
		jump(b, BPF_JGT, hi32(v), pass, front(b));
		load(b, hi);
		return;
	case POLICY_OP_LT: /* ld hi; jgt vhi ? fail : ; jeq vhi ? : pass; ld lo; jge vlo ? fail : pass */
	case POLICY_OP_LE: /* ... last jgt */
		jump(b, c->op == POLICY_OP_LT ? BPF_JGE : BPF_JGT, lo32(v), fail, pass);
		load(b, lo);
		jump(b, BPF_JEQ, hi32(v), front(b), pass);
		jump(b, BPF_JGT, hi32(v), fail, front(b));
		load(b, hi);
		return;
	case POLICY_OP_IN: { /* per value: ld hi; jeq ? : next; ld lo; jeq ? pass : next */
		size_t next = fail;
		for (unsigned i = c->n_values; i-- > 0;) {
			const uint64_t w = c->values[i];
			jump(b, BPF_JEQ, lo32(w), pass, next);
			load(b, lo);
			jump(b, BPF_JEQ, hi32(w), front(b), next);
			load(b, hi);
			next = front(b);
		}
		return;
	}
	}
	/* Unknown op: cannot come from the parser; fail closed. */
	goto_(b, fail);
}

static uint32_t rule_action(const struct policy_rule *r)
{
	if (r->action == POLICY_ACTION_ERRNO)
		return SECCOMP_RET_ERRNO | ((uint32_t)r->errno_value & SECCOMP_RET_DATA);
	return SECCOMP_RET_ALLOW;
}

/* One syscall's rules in file order, then TRAP. Returns the block's start. */
static size_t emit_syscall(struct builder *b, const struct policy *p, int nr)
{
	const size_t n = policy_rule_count(p);

	/* An unconditional rule stands alone (the parser refuses mixing it with conditions);
	 * repeats of it add nothing. */
	for (size_t i = 0; i < n; i++) {
		const struct policy_rule *r = policy_rule_at(p, i);
		if (r->nr == nr && r->n_conds == 0) {
			ret(b, rule_action(r));
			return front(b);
		}
	}
	ret(b, SECCOMP_RET_TRAP);
	for (size_t i = n; i-- > 0;) {
		const struct policy_rule *r = policy_rule_at(p, i);
		if (r->nr != nr)
			continue;
		const size_t next_rule = front(b);
		ret(b, rule_action(r));
		for (unsigned j = r->n_conds; j-- > 0;)
			emit_cond(b, &r->conds[j], next_rule);
	}
	return front(b);
}

/* Binary search over the sorted syscall numbers in A; small ranges are tested in turn.
 * Recursion depth is log2(POLICY_MAX_RULES). */
static void emit_dispatch(struct builder *b, const int *nrs, const size_t *blocks, size_t lo,
			  size_t hi)
{
	if (hi - lo <= 4) {
		ret(b, SECCOMP_RET_TRAP);
		for (size_t i = hi; i-- > lo;)
			jump(b, BPF_JEQ, (uint32_t)nrs[i], blocks[i], front(b));
		return;
	}
	size_t mid = lo + (hi - lo) / 2;
	emit_dispatch(b, nrs, blocks, mid, hi);
	size_t upper = front(b);
	emit_dispatch(b, nrs, blocks, lo, mid);
	jump(b, BPF_JGE, (uint32_t)nrs[mid], upper, front(b));
}

static int compare_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static void emit_program(struct builder *b, const struct policy *p)
{
	int nrs[POLICY_MAX_RULES];
	size_t blocks[POLICY_MAX_RULES];
	size_t n = 0, count = policy_rule_count(p);

	for (size_t i = 0; i < count && n < POLICY_MAX_RULES; i++)
		nrs[n++] = policy_rule_at(p, i)->nr;
	qsort(nrs, n, sizeof(nrs[0]), compare_int);
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++) {
		if (distinct == 0 || nrs[distinct - 1] != nrs[i])
			nrs[distinct++] = nrs[i];
	}

	ret(b, SECCOMP_RET_KILL_PROCESS);
	const size_t kill = front(b);
	for (size_t i = distinct; i-- > 0;)
		blocks[i] = emit_syscall(b, p, nrs[i]);
	emit_dispatch(b, nrs, blocks, 0, distinct);

	/* ld arch; jeq x86_64 ? : kill; ld nr; jge X32 bit ? kill : dispatch */
	jump(b, BPF_JGE, X32_SYSCALL_BIT, kill, front(b));
	load(b, (uint32_t)offsetof(struct seccomp_data, nr));
	jump(b, BPF_JEQ, AUDIT_ARCH_X86_64, front(b), kill);
	load(b, (uint32_t)offsetof(struct seccomp_data, arch));
}

/* ---- entry points ---- */

int policy_compile(const struct policy *p, struct sock_filter *prog, size_t cap,
		   struct policy_error *err)
{
	struct builder b = { prog, cap, 0 };

	err->msg[0] = '\0';
	emit_program(&b, p);
	if (b.len > cap || b.len > POLICY_MAX_BPF_INSNS) {
		snprintf(err->msg, sizeof(err->msg),
			 "%s:0: BPF program too large (%zu instructions, max %zu)", policy_name(p), b.len,
			 cap < POLICY_MAX_BPF_INSNS ? cap : (size_t)POLICY_MAX_BPF_INSNS);
		return -E2BIG;
	}
	/* built at the top of the buffer: move it down */
	memmove(prog, prog + (cap - b.len), b.len * sizeof(*prog));
	return (int)b.len;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *buf = data;

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

int policy_compile_bpf(const struct policy *p, int out_fd, struct policy_error *err)
{
	struct sock_filter *prog = malloc(POLICY_MAX_BPF_INSNS * sizeof(*prog));
	int n, rc;

	if (!prog) {
		snprintf(err->msg, sizeof(err->msg), "%s:0: out of memory", policy_name(p));
		return -ENOMEM;
	}
	n = policy_compile(p, prog, POLICY_MAX_BPF_INSNS, err);
	if (n > 0) {
		rc = write_all(out_fd, prog, (size_t)n * sizeof(*prog));
		if (rc < 0) {
			snprintf(err->msg, sizeof(err->msg), "%s:0: writing the program: %s",
				 policy_name(p), errno_text(rc));
			n = rc;
		}
	}
	free(prog);
	return n;
}

int policy_load(const struct policy *p, struct policy_error *err)
{
	/* On the stack: nothing is freed once the filter is in force. */
	struct sock_filter prog[POLICY_MAX_BPF_INSNS];
	int n = policy_compile(p, prog, POLICY_MAX_BPF_INSNS, err);

	if (n < 0)
		return n;
	struct sock_fprog fprog = { .len = (unsigned short)n, .filter = prog };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		int rc = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s:0: PR_SET_NO_NEW_PRIVS: %s", policy_name(p),
			 errno_text(rc));
		return rc;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) {
		int rc = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s:0: seccomp: %s", policy_name(p),
			 errno_text(rc));
		return rc;
	}
	return 0;
}
