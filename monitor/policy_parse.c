/* policy_parse.c: turns policy text (policies/README.md) into struct policy.
 *
 * Trusts nothing it reads: bytes are validated before tokenizing, every limit in policy.h is
 * enforced, and @include is confined beneath the top-level file's directory (relative names
 * only, no '.' or '..' components, no symlink followed at any step, regular files only).
 * Recursion through @include is bounded by POLICY_MAX_INCLUDE_DEPTH and POLICY_MAX_FILES.
 * Trusts the caller for the top-level path and for a valid error struct. */
#define _GNU_SOURCE
#include "monitor/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REL_PATH_MAX 256 /* include path relative to the top-level directory, with NUL */
#define PREFIX_MAX 4096  /* directory part of the top-level path, for display */
#define WORD_MAX 64      /* identifiers longer than this name nothing in our tables */

struct policy {
	struct policy_rule *rules;
	size_t n_rules;
	size_t cap_rules;
	char *files[POLICY_MAX_FILES];
	size_t n_files;
};

struct file_id {
	dev_t dev;
	ino_t ino;
};

struct parser {
	struct policy *p;
	struct policy_error *err;
	int root_fd; /* directory of the top-level file; -1 when parsing a buffer */
	char prefix[PREFIX_MAX]; /* prepended to root-relative paths for display */
	struct file_id open_files[POLICY_MAX_INCLUDE_DEPTH + 1]; /* the include chain, for cycles */
};

struct source {
	const char *display; /* owned by the policy */
	char reldir[REL_PATH_MAX]; /* its directory relative to root_fd; "" for the root */
	unsigned depth;
};

/* ---- errors ---- */

static int fail_rc(struct parser *ps, int rc, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail_rc(struct parser *ps, int rc, const char *file, unsigned line, const char *fmt, ...)
{
	char reason[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(ps->err->msg, sizeof(ps->err->msg), "%s:%u: %s", file, line, reason);
	return rc;
}

#define fail(ps, src, line, ...) fail_rc((ps), -EINVAL, (src)->display, (line), __VA_ARGS__)

static const char *describe_errno(int e)
{
	switch (e) {
	case ENOENT:
		return "no such file";
	case ELOOP:
		return "symbolic links are not followed";
	case ENOTDIR:
		return "not a directory";
	case EACCES:
		return "permission denied";
	default: {
		const char *name = policy_errno_name(e);
		return name ? name : "unknown error";
	}
	}
}

/* ---- policy object ---- */

static struct policy *policy_new(void)
{
	return calloc(1, sizeof(struct policy));
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->rules);
	free(p);
}

size_t policy_rule_count(const struct policy *p)
{
	return p->n_rules;
}

const struct policy_rule *policy_rule_at(const struct policy *p, size_t i)
{
	return i < p->n_rules ? &p->rules[i] : NULL;
}

const char *policy_name(const struct policy *p)
{
	return p->n_files ? p->files[0] : "";
}

/* Records a display name; the returned string lives as long as the policy. */
static const char *policy_add_file(struct policy *p, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (!s || p->n_files >= POLICY_MAX_FILES) {
		free(s);
		return NULL;
	}
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	p->files[p->n_files++] = s;
	return s;
}

/* ---- lexer ---- */

enum tok_kind { TOK_END, TOK_WORD, TOK_NUMBER, TOK_OP, TOK_PUNCT, TOK_BAD };

struct token {
	enum tok_kind kind;
	const char *s;
	size_t len;
};

struct lexer {
	const char *s; /* NUL-terminated, validated printable ASCII and tabs */
	size_t pos;
};

static bool is_word_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_word_char(char c)
{
	return is_word_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_op_char(char c)
{
	return c == '=' || c == '!' || c == '<' || c == '>' || c == '&' || c == '|';
}

static struct token next_token(struct lexer *lx)
{
	const char *s = lx->s;
	size_t i = lx->pos;
	struct token t;

	while (s[i] == ' ' || s[i] == '\t')
		i++;
	t.s = s + i;
	if (s[i] == '\0') {
		t.kind = TOK_END;
		t.len = 0;
	} else if (is_word_start(s[i])) {
		t.kind = TOK_WORD;
		while (is_word_char(s[i]))
			i++;
		t.len = (size_t)(s + i - t.s);
	} else if (is_digit(s[i]) || (s[i] == '-' && is_digit(s[i + 1]))) {
		t.kind = TOK_NUMBER;
		i++;
		while (is_word_char(s[i]))
			i++;
		t.len = (size_t)(s + i - t.s);
	} else if (is_op_char(s[i])) {
		t.kind = TOK_OP;
		while (is_op_char(s[i]))
			i++;
		t.len = (size_t)(s + i - t.s);
	} else if (s[i] == ':' || s[i] == '{' || s[i] == '}' || s[i] == ',') {
		t.kind = TOK_PUNCT;
		t.len = 1;
		i++;
	} else {
		t.kind = TOK_BAD;
		t.len = 1;
		i++;
	}
	lx->pos = i;
	return t;
}

static struct token peek_token(const struct lexer *lx)
{
	struct lexer copy = *lx;
	return next_token(&copy);
}

static bool tok_is(const struct token *t, enum tok_kind kind, const char *text)
{
	return t->kind == kind && strlen(text) == t->len && memcmp(t->s, text, t->len) == 0;
}

/* "'text'" or "end of line", for messages; long tokens are cut. */
static const char *tok_describe(const struct token *t, char *buf, size_t size)
{
	if (t->kind == TOK_END)
		snprintf(buf, size, "end of line");
	else
		snprintf(buf, size, "'%.*s'", (int)(t->len > 48 ? 48 : t->len), t->s);
	return buf;
}

/* ---- values ---- */

static int parse_number(const struct token *t, uint64_t *out)
{
	const char *s = t->s;
	size_t n = t->len;
	bool neg = false;
	uint64_t v = 0;

	if (s[0] == '-') {
		neg = true;
		s++;
		n--;
	}
	if (!neg && n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (size_t i = 2; i < n; i++) {
			char c = s[i];
			unsigned d;
			if (is_digit(c))
				d = (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				return -EINVAL;
			if (v >> 60)
				return -ERANGE;
			v = (v << 4) | d;
		}
		*out = v;
		return 0;
	}
	if (n > 1 && s[0] == '0')
		return -EINVAL; /* a C reader would take it for octal */
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (neg) {
		if (v > (UINT64_C(1) << 63))
			return -ERANGE;
		v = (uint64_t)0 - v;
	}
	*out = v;
	return 0;
}

/* VALUE := TERM ('|' TERM)*, TERM := number | constant. AFTER names what precedes it. */
static int parse_value(struct parser *ps, const struct source *src, unsigned line,
		       struct lexer *lx, const char *after, uint64_t *out)
{
	char desc[64];
	uint64_t v = 0;

	for (;;) {
		struct token t = next_token(lx);
		uint64_t term;

		if (t.kind == TOK_END)
			return fail(ps, src, line, "missing value after '%s'", after);
		if (t.kind == TOK_NUMBER) {
			int rc = parse_number(&t, &term);
			if (rc == -ERANGE)
				return fail(ps, src, line, "number out of range %s",
					    tok_describe(&t, desc, sizeof(desc)));
			if (rc)
				return fail(ps, src, line, "bad number %s",
					    tok_describe(&t, desc, sizeof(desc)));
		} else if (t.kind == TOK_WORD) {
			char name[WORD_MAX];
			if (t.len >= sizeof(name))
				return fail(ps, src, line, "unknown constant %s",
					    tok_describe(&t, desc, sizeof(desc)));
			memcpy(name, t.s, t.len);
			name[t.len] = '\0';
			if (policy_const_lookup(name, &term))
				return fail(ps, src, line, "unknown constant '%s'", name);
		} else {
			return fail(ps, src, line, "expected a value after '%s', got %s", after,
				    tok_describe(&t, desc, sizeof(desc)));
		}
		v |= term;

		struct token sep = peek_token(lx);
		if (!tok_is(&sep, TOK_OP, "|"))
			break;
		next_token(lx);
		after = "|";
	}
	*out = v;
	return 0;
}

/* ---- conditions and rules ---- */

static int parse_set(struct parser *ps, const struct source *src, unsigned line,
		     struct lexer *lx, struct policy_cond *c)
{
	char desc[64];
	struct token t = next_token(lx);

	if (!tok_is(&t, TOK_PUNCT, "{"))
		return fail(ps, src, line, "expected '{' after 'in', got %s",
			    tok_describe(&t, desc, sizeof(desc)));
	t = peek_token(lx);
	if (tok_is(&t, TOK_PUNCT, "}"))
		return fail(ps, src, line, "empty set after 'in'");
	const char *after = "{";
	for (;;) {
		uint64_t v;
		int rc = parse_value(ps, src, line, lx, after, &v);
		if (rc)
			return rc;
		for (unsigned i = 0; i < c->n_values; i++) {
			if (c->values[i] == v)
				return fail(ps, src, line, "duplicate value 0x%" PRIx64 " in set", v);
		}
		if (c->n_values == POLICY_MAX_SET)
			return fail(ps, src, line, "too many values in set (max %d)", POLICY_MAX_SET);
		c->values[c->n_values++] = v;

		t = next_token(lx);
		if (tok_is(&t, TOK_PUNCT, "}"))
			return 0;
		if (!tok_is(&t, TOK_PUNCT, ","))
			return fail(ps, src, line, "expected ',' or '}' in set, got %s",
				    tok_describe(&t, desc, sizeof(desc)));
		after = ",";
	}
}

static const struct {
	const char *text;
	enum policy_op op;
} comparisons[] = {
	{ "==", POLICY_OP_EQ }, { "!=", POLICY_OP_NE }, { "<", POLICY_OP_LT },
	{ "<=", POLICY_OP_LE }, { ">", POLICY_OP_GT },	{ ">=", POLICY_OP_GE },
};

/* COND := argN OP VALUE | argN '&' MASK '==' VALUE | argN 'in' '{' VALUE (',' VALUE)* '}' */
static int parse_cond(struct parser *ps, const struct source *src, unsigned line,
		      struct lexer *lx, const char *after, struct policy_cond *c)
{
	char desc[64];
	struct token t = next_token(lx);

	memset(c, 0, sizeof(*c));
	if (t.kind == TOK_END)
		return fail(ps, src, line, "missing condition after '%s'", after);
	if (t.kind != TOK_WORD || t.len < 3 || memcmp(t.s, "arg", 3) != 0)
		return fail(ps, src, line, "expected an argument (arg0..arg5), got %s",
			    tok_describe(&t, desc, sizeof(desc)));
	if (t.len != 4 || t.s[3] < '0' || t.s[3] > '5')
		return fail(ps, src, line, "bad argument index %s (must be arg0..arg5)",
			    tok_describe(&t, desc, sizeof(desc)));
	c->arg = (unsigned)(t.s[3] - '0');

	struct token op = next_token(lx);
	if (op.kind == TOK_END)
		return fail(ps, src, line, "missing operator after 'arg%u'", c->arg);
	if (tok_is(&op, TOK_WORD, "in")) {
		c->op = POLICY_OP_IN;
		return parse_set(ps, src, line, lx, c);
	}
	if (tok_is(&op, TOK_OP, "&")) {
		int rc = parse_value(ps, src, line, lx, "&", &c->mask);
		if (rc)
			return rc;
		t = next_token(lx);
		if (!tok_is(&t, TOK_OP, "=="))
			return fail(ps, src, line, "masked comparison needs '==' after the mask, got %s",
				    tok_describe(&t, desc, sizeof(desc)));
		rc = parse_value(ps, src, line, lx, "==", &c->value);
		if (rc)
			return rc;
		if (c->value & ~c->mask)
			return fail(ps, src, line,
				    "value 0x%" PRIx64 " has bits outside mask 0x%" PRIx64
				    " (the condition could never hold)",
				    c->value, c->mask);
		c->op = POLICY_OP_MASKED_EQ;
		return 0;
	}
	for (size_t i = 0; i < sizeof(comparisons) / sizeof(comparisons[0]); i++) {
		if (tok_is(&op, TOK_OP, comparisons[i].text)) {
			c->op = comparisons[i].op;
			return parse_value(ps, src, line, lx, comparisons[i].text, &c->value);
		}
	}
	return fail(ps, src, line, "bad operator %s", tok_describe(&op, desc, sizeof(desc)));
}

/* Several lines for one syscall are alternatives tried in file order. An unconditional
 * allow next to conditional ones would make the conditions meaningless, and allow next to
 * return (or two different returns) would make the outcome depend on line order, so those
 * combinations are refused rather than given a surprising meaning. */
static int check_conflicts(struct parser *ps, const struct source *src, const struct policy_rule *r)
{
	for (size_t i = 0; i < ps->p->n_rules; i++) {
		const struct policy_rule *o = &ps->p->rules[i];
		if (o->nr != r->nr)
			continue;
		if (o->action != r->action)
			return fail(ps, src, r->line, "'%s' mixes allow and return rules (other at %s:%u)",
				    r->syscall, o->file, o->line);
		if (r->action == POLICY_ACTION_ERRNO) {
			if (o->errno_value != r->errno_value)
				return fail(ps, src, r->line, "'%s' already returns %s at %s:%u",
					    r->syscall, policy_errno_name(o->errno_value), o->file,
					    o->line);
			continue;
		}
		if (r->n_conds == 0 && o->n_conds > 0)
			return fail(ps, src, r->line,
				    "'%s' allowed unconditionally but has conditional rules (%s:%u)",
				    r->syscall, o->file, o->line);
		if (r->n_conds > 0 && o->n_conds == 0)
			return fail(ps, src, r->line,
				    "conditions on '%s' are meaningless: allowed unconditionally at %s:%u",
				    r->syscall, o->file, o->line);
	}
	return 0;
}

static int add_rule(struct parser *ps, const struct source *src, const struct policy_rule *r)
{
	struct policy *p = ps->p;
	int rc = check_conflicts(ps, src, r);
	if (rc)
		return rc;

	if (p->n_rules >= POLICY_MAX_RULES)
		return fail(ps, src, r->line, "too many rules (max %d)", POLICY_MAX_RULES);
	if (p->n_rules == p->cap_rules) {
		size_t cap = p->cap_rules ? p->cap_rules * 2 : 16;
		struct policy_rule *grown = realloc(p->rules, cap * sizeof(*grown));
		if (!grown)
			return fail_rc(ps, -ENOMEM, src->display, r->line, "out of memory");
		p->rules = grown;
		p->cap_rules = cap;
	}
	p->rules[p->n_rules++] = *r;
	return 0;
}

/* RULE := SYSCALL | SYSCALL ':' 'return' ERRNO | SYSCALL ':' COND ('&&' COND)* */
static int parse_rule(struct parser *ps, const struct source *src, unsigned line, const char *text)
{
	char desc[64];
	struct lexer lx = { text, 0 };
	struct policy_rule r;
	struct token t = next_token(&lx);

	memset(&r, 0, sizeof(r));
	r.file = src->display;
	r.line = line;
	r.action = POLICY_ACTION_ALLOW;

	if (t.kind != TOK_WORD)
		return fail(ps, src, line, "expected a syscall name, got %s",
			    tok_describe(&t, desc, sizeof(desc)));
	if (t.len >= sizeof(r.syscall))
		return fail(ps, src, line, "unknown syscall %s", tok_describe(&t, desc, sizeof(desc)));
	memcpy(r.syscall, t.s, t.len);
	r.syscall[t.len] = '\0';
	r.nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, r.syscall);
	if (r.nr < 0) /* also rejects libseccomp's negative pseudo-numbers for other ABIs' calls */
		return fail(ps, src, line, "unknown syscall '%s'", r.syscall);

	t = next_token(&lx);
	if (t.kind == TOK_END)
		return add_rule(ps, src, &r);
	if (!tok_is(&t, TOK_PUNCT, ":"))
		return fail(ps, src, line, "expected ':' or end of line after '%s', got %s", r.syscall,
			    tok_describe(&t, desc, sizeof(desc)));

	t = peek_token(&lx);
	if (tok_is(&t, TOK_WORD, "return")) {
		next_token(&lx);
		t = next_token(&lx);
		if (t.kind == TOK_END)
			return fail(ps, src, line, "missing errno after 'return'");
		if (t.kind != TOK_WORD)
			return fail(ps, src, line, "expected an errno name after 'return', got %s",
				    tok_describe(&t, desc, sizeof(desc)));
		char name[WORD_MAX];
		if (t.len >= sizeof(name))
			return fail(ps, src, line, "unknown errno %s", tok_describe(&t, desc, sizeof(desc)));
		memcpy(name, t.s, t.len);
		name[t.len] = '\0';
		if (policy_errno_lookup(name, &r.errno_value))
			return fail(ps, src, line, "unknown errno '%s'", name);
		t = next_token(&lx);
		if (t.kind != TOK_END)
			return fail(ps, src, line, "unexpected %s after errno",
				    tok_describe(&t, desc, sizeof(desc)));
		r.action = POLICY_ACTION_ERRNO;
		return add_rule(ps, src, &r);
	}

	const char *after = ":";
	for (;;) {
		if (r.n_conds == POLICY_MAX_CONDS)
			return fail(ps, src, line, "too many conditions (max %d)", POLICY_MAX_CONDS);
		struct policy_cond *c = &r.conds[r.n_conds];
		int rc = parse_cond(ps, src, line, &lx, after, c);
		if (rc)
			return rc;
		r.n_conds++;
		t = next_token(&lx);
		if (t.kind == TOK_END)
			return add_rule(ps, src, &r);
		if (!tok_is(&t, TOK_OP, "&&"))
			return fail(ps, src, line, "expected '&&' or end of line, got %s",
				    tok_describe(&t, desc, sizeof(desc)));
		after = "&&";
	}
}

/* ---- @include ---- */

static int parse_text(struct parser *ps, const struct source *src, const char *text, size_t len);

static int check_include_path(struct parser *ps, const struct source *src, unsigned line,
			      const char *path)
{
	size_t len = strlen(path);

	if (path[0] == '/')
		return fail(ps, src, line, "include path must be relative");
	for (const char *comp = path;;) {
		const char *slash = strchr(comp, '/');
		size_t n = slash ? (size_t)(slash - comp) : strlen(comp);
		if (n == 2 && comp[0] == '.' && comp[1] == '.')
			return fail(ps, src, line, "include path must not contain '..'");
		if (n == 0 || (n == 1 && comp[0] == '.'))
			return fail(ps, src, line, "include path has an empty or '.' component");
		if (!slash)
			break;
		comp = slash + 1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = path[i];
		if (!is_word_char(c) && c != '.' && c != '-' && c != '/')
			return fail(ps, src, line, "invalid character '%c' in include path", c);
	}
	if (len >= REL_PATH_MAX)
		return fail(ps, src, line, "include path too long (max %d bytes)", REL_PATH_MAX - 1);
	return 0;
}

/* Tells a symlink apart from other failures of a no-follow open, for a clearer message. */
static int nofollow_error(int dir, const char *comp, int e)
{
	struct stat st;

	if ((e == ENOTDIR || e == ELOOP) && fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	return -e;
}

/* Opens REL beneath ROOT_FD one component at a time, never following a symlink, so the
 * result is inside the tree whatever the tree contains. */
static int open_beneath(int root_fd, const char *rel, int *out)
{
	char buf[REL_PATH_MAX];
	char *comp = buf;
	int dir = root_fd;

	snprintf(buf, sizeof(buf), "%s", rel);
	for (;;) {
		char *slash = strchr(comp, '/');
		if (!slash)
			break;
		*slash = '\0';
		int next = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int rc = next < 0 ? nofollow_error(dir, comp, errno) : 0;
		if (dir != root_fd)
			close(dir);
		if (rc)
			return rc;
		dir = next;
		comp = slash + 1;
	}
	int fd = openat(dir, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int rc = fd < 0 ? nofollow_error(dir, comp, errno) : 0;
	if (dir != root_fd)
		close(dir);
	if (rc)
		return rc;
	*out = fd;
	return 0;
}

/* Reads a whole regular file of at most POLICY_MAX_FILE_SIZE bytes into a fresh buffer.
 * Returns -EFBIG if it is larger, -EINVAL if it is not a regular file. */
static int read_policy_file(int fd, struct file_id *id, char **out, size_t *out_len)
{
	struct stat st;
	char *buf;
	size_t len = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > POLICY_MAX_FILE_SIZE)
		return -EFBIG;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	buf = malloc(POLICY_MAX_FILE_SIZE + 1);
	if (!buf)
		return -ENOMEM;
	/* The size may change under us: read one byte past the limit to notice. */
	while (len <= POLICY_MAX_FILE_SIZE) {
		ssize_t n = read(fd, buf + len, POLICY_MAX_FILE_SIZE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > POLICY_MAX_FILE_SIZE) {
		free(buf);
		return -EFBIG;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static int parse_include(struct parser *ps, const struct source *src, unsigned line,
			 const char *path)
{
	char rel[REL_PATH_MAX];
	struct source child;
	struct file_id id;
	char *text;
	size_t len;
	int fd, rc;

	if (ps->root_fd < 0)
		return fail(ps, src, line, "@include is not allowed in buffer input");
	rc = check_include_path(ps, src, line, path);
	if (rc)
		return rc;
	if (src->depth >= POLICY_MAX_INCLUDE_DEPTH)
		return fail(ps, src, line, "includes nested too deeply (max %d)",
			    POLICY_MAX_INCLUDE_DEPTH);
	if (ps->p->n_files >= POLICY_MAX_FILES)
		return fail(ps, src, line, "too many included files (max %d)", POLICY_MAX_FILES);
	if ((size_t)snprintf(rel, sizeof(rel), "%s%s%s", src->reldir, src->reldir[0] ? "/" : "",
			     path) >= sizeof(rel))
		return fail(ps, src, line, "include path too long (max %d bytes)", REL_PATH_MAX - 1);

	rc = open_beneath(ps->root_fd, rel, &fd);
	if (rc)
		return fail(ps, src, line, "cannot include '%s': %s", path, describe_errno(-rc));
	rc = read_policy_file(fd, &id, &text, &len);
	close(fd);
	if (rc == -EINVAL)
		return fail(ps, src, line, "cannot include '%s': not a regular file", path);
	if (rc == -EFBIG)
		return fail(ps, src, line, "cannot include '%s': file too large (max %d bytes)", path,
			    POLICY_MAX_FILE_SIZE);
	if (rc == -ENOMEM)
		return fail_rc(ps, rc, src->display, line, "out of memory");
	if (rc)
		return fail(ps, src, line, "cannot include '%s': %s", path, describe_errno(-rc));

	for (unsigned i = 0; i <= src->depth; i++) {
		if (ps->open_files[i].dev == id.dev && ps->open_files[i].ino == id.ino) {
			free(text);
			return fail(ps, src, line, "include cycle: '%s' is already being read", path);
		}
	}

	child.display = policy_add_file(ps->p, ps->prefix, rel);
	if (!child.display) {
		free(text);
		return fail_rc(ps, -ENOMEM, src->display, line, "out of memory");
	}
	char *slash = strrchr(rel, '/');
	if (slash)
		*slash = '\0';
	else
		rel[0] = '\0';
	memcpy(child.reldir, rel, sizeof(child.reldir));
	child.depth = src->depth + 1;
	ps->open_files[child.depth] = id;

	rc = parse_text(ps, &child, text, len);
	free(text);
	return rc;
}

/* ---- lines ---- */

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static int parse_line(struct parser *ps, const struct source *src, unsigned line,
		      const char *raw, size_t len)
{
	char buf[POLICY_MAX_LINE + 1];
	size_t content_len = len;
	bool in_comment = false;

	/* Outside comments only printable ASCII and tabs; comments may hold UTF-8 prose but
	 * no control characters. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c == '#' && !in_comment) {
			in_comment = true;
			content_len = i;
		}
		if (c == 0)
			return fail(ps, src, line, "NUL byte");
		if (c == '\t')
			continue;
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !in_comment))
			return fail(ps, src, line, "invalid byte 0x%02x", c);
	}
	memcpy(buf, raw, content_len);
	buf[content_len] = '\0';
	char *s = trim(buf);
	if (*s == '\0')
		return 0;

	if (*s == '@') {
		size_t n = strcspn(s, " \t");
		if (n != strlen("@include") || memcmp(s, "@include", n) != 0)
			return fail(ps, src, line, "unknown directive '%.*s'", (int)(n > 48 ? 48 : n), s);
		char *path = trim(s + n);
		if (*path == '\0')
			return fail(ps, src, line, "missing file name after @include");
		return parse_include(ps, src, line, path);
	}
	return parse_rule(ps, src, line, s);
}

static int parse_text(struct parser *ps, const struct source *src, const char *text, size_t len)
{
	size_t pos = 0;
	unsigned line = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		int rc;

		line++;
		if (end - pos > POLICY_MAX_LINE)
			return fail(ps, src, line, "line too long (max %d bytes)", POLICY_MAX_LINE);
		rc = parse_line(ps, src, line, text + pos, end - pos);
		if (rc)
			return rc;
		pos = end + 1;
	}
	return 0;
}

/* ---- entry points ---- */

int policy_parse_buffer(const char *name, const char *text, size_t len, struct policy **out,
			struct policy_error *err)
{
	struct parser ps;
	struct source src;
	int rc;

	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.root_fd = -1;
	*out = NULL;
	err->msg[0] = '\0';
	ps.p = policy_new();
	if (!ps.p)
		return fail_rc(&ps, -ENOMEM, name, 0, "out of memory");
	src.display = policy_add_file(ps.p, name, "");
	src.reldir[0] = '\0';
	src.depth = 0;
	if (!src.display) {
		policy_free(ps.p);
		return fail_rc(&ps, -ENOMEM, name, 0, "out of memory");
	}
	if (len > POLICY_MAX_FILE_SIZE)
		rc = fail(&ps, &src, 0, "input too large (max %d bytes)", POLICY_MAX_FILE_SIZE);
	else
		rc = parse_text(&ps, &src, text, len);
	if (rc) {
		policy_free(ps.p);
		return rc;
	}
	*out = ps.p;
	return 0;
}

int policy_parse_file(const char *path, struct policy **out, struct policy_error *err)
{
	struct parser ps;
	struct source src;
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.root_fd = -1;
	*out = NULL;
	err->msg[0] = '\0';

	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
	if (dir_len >= sizeof(ps.prefix))
		return fail_rc(&ps, -ENAMETOOLONG, path, 0, "path too long");
	memcpy(ps.prefix, path, dir_len);
	ps.prefix[dir_len] = '\0';

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return fail_rc(&ps, -e, path, 0, "cannot open: %s", describe_errno(e));
	}
	rc = read_policy_file(fd, &ps.open_files[0], &text, &len);
	close(fd);
	if (rc == -EINVAL)
		return fail_rc(&ps, rc, path, 0, "not a regular file");
	if (rc == -EFBIG)
		return fail_rc(&ps, -EINVAL, path, 0, "file too large (max %d bytes)",
			       POLICY_MAX_FILE_SIZE);
	if (rc)
		return fail_rc(&ps, rc, path, 0, "cannot read: %s", describe_errno(-rc));

	/* The includes' root is the top-level file's directory ("/" keeps its slash). */
	char dir[PREFIX_MAX];
	if (dir_len == 0)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(dir_len > 1 ? dir_len - 1 : 1), path);
	ps.root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ps.root_fd < 0) {
		int e = errno;
		free(text);
		return fail_rc(&ps, -e, path, 0, "cannot open its directory: %s", describe_errno(e));
	}

	ps.p = policy_new();
	src.display = ps.p ? policy_add_file(ps.p, path, "") : NULL;
	src.reldir[0] = '\0';
	src.depth = 0;
	if (!src.display)
		rc = fail_rc(&ps, -ENOMEM, path, 0, "out of memory");
	else
		rc = parse_text(&ps, &src, text, len);
	free(text);
	close(ps.root_fd);
	if (rc) {
		policy_free(ps.p);
		return rc;
	}
	*out = ps.p;
	return 0;
}

/* ---- canonical text ---- */

struct text_out {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
};

static void put(struct text_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text_out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->size ? o->size - o->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		o->overflow = true;
	o->len += n > 0 ? (size_t)n : 0;
}

static const char *op_text(enum policy_op op)
{
	for (size_t i = 0; i < sizeof(comparisons) / sizeof(comparisons[0]); i++) {
		if (comparisons[i].op == op)
			return comparisons[i].text;
	}
	return "?";
}

int policy_rule_format(const struct policy_rule *r, char *buf, size_t size)
{
	struct text_out o = { buf, size, 0, false };

	put(&o, "%s", r->syscall);
	if (r->action == POLICY_ACTION_ERRNO) {
		const char *name = policy_errno_name(r->errno_value);
		if (name)
			put(&o, ": return %s", name);
		else
			put(&o, ": return %d", r->errno_value);
	}
	for (unsigned i = 0; i < r->n_conds; i++) {
		const struct policy_cond *c = &r->conds[i];
		put(&o, "%s", i == 0 ? ": " : " && ");
		switch (c->op) {
		case POLICY_OP_MASKED_EQ:
			put(&o, "arg%u & 0x%" PRIx64 " == 0x%" PRIx64, c->arg, c->mask, c->value);
			break;
		case POLICY_OP_IN:
			put(&o, "arg%u in {", c->arg);
			for (unsigned j = 0; j < c->n_values; j++)
				put(&o, "%s0x%" PRIx64, j ? ", " : "", c->values[j]);
			put(&o, "}");
			break;
		default:
			put(&o, "arg%u %s 0x%" PRIx64, c->arg, op_text(c->op), c->value);
			break;
		}
	}
	if (o.overflow) {
		if (size)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)o.len;
}
