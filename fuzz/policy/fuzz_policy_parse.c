/* fuzz_policy_parse.c: libFuzzer harness for monitor/policy_parse.c and policy_compile.c.
 *
 * Arbitrary bytes go to policy_parse_buffer. A rejected input must come with a message
 * naming the input and a line; an accepted one is compiled into a memfd (created once,
 * truncated each time), and every rule's canonical text must parse back to the same rule.
 * Any crash, leak, sanitizer report or broken invariant is a finding. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "monitor/policy.h"

static int output_fd(void)
{
	/* One descriptor for the whole run: creating one per input would only measure the
	 * kernel. */
	static int fd = -1;
	if (fd < 0) {
		fd = memfd_create("fuzz-policy", MFD_CLOEXEC);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	return fd;
}

static void check_round_trip(const struct policy_rule *r)
{
	char text[POLICY_RULE_TEXT_MAX];
	struct policy *q;
	struct policy_error err;
	int n = policy_rule_format(r, text, sizeof(text));

	if (n <= 0 || (size_t)n != strlen(text))
		abort();
	if (n > POLICY_MAX_LINE)
		return; /* big sets print longer than a line may be */
	if (policy_parse_buffer("rt", text, (size_t)n, &q, &err) != 0)
		abort();
	const struct policy_rule *s = policy_rule_at(q, 0);
	if (policy_rule_count(q) != 1 || s->nr != r->nr || s->action != r->action ||
	    s->errno_value != r->errno_value || s->n_conds != r->n_conds ||
	    strcmp(s->syscall, r->syscall) != 0 || memcmp(s->conds, r->conds, sizeof(r->conds)) != 0)
		abort();
	policy_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	struct policy_error err;
	int rc = policy_parse_buffer("fuzz", (const char *)data, size, &p, &err);

	if (rc != 0) {
		if (p != NULL || strncmp(err.msg, "fuzz:", 5) != 0 || strlen(err.msg) < 8)
			abort();
		return 0;
	}
	for (size_t i = 0; i < policy_rule_count(p); i++)
		check_round_trip(policy_rule_at(p, i));

	int n = policy_compile_bpf(p, output_fd(), &err);
	if (n == 0 || (n < 0 && err.msg[0] == '\0'))
		abort();
	policy_free(p);
	return 0;
}
