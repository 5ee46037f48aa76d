/* json.c: strict RFC 8259 parser producing a read-only DOM in one allocation.
 *
 * Trusts nothing in the input text. The same iterative parser runs twice: a counting pass that
 * validates everything except key uniqueness and measures how many values and string bytes the
 * document needs, then a building pass that fills one exactly sized block and checks duplicate
 * keys (by sorting each object's members, so hostile objects cost O(n log n), not O(n^2)).
 * Nesting is tracked in a fixed array of JSON_DEPTH_MAX frames, never on the C stack.
 */
#define _GNU_SOURCE
#include "monitor/json.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

struct json_value {
	uint8_t type;
	bool is_int;         /* number whose exact value is num.i */
	uint32_t offset;     /* where the value starts in the input */
	uint32_t key_offset; /* where its key starts, for object members */
	uint32_t key_len;
	const char *key;     /* NULL unless this value is an object member */
	union {
		bool b;
		struct {
			double d;
			int64_t i;
		} num;
		struct {
			const char *ptr;
			size_t len;
		} str;
		struct {
			const struct json_value **items;
			size_t count;
		} kids;
	} u;
};

struct json_doc {
	size_t nodes;
	struct json_value *values; /* values[0] is the root */
};

struct frame {
	struct json_value *node;
	size_t child_base; /* stack index of this container's first child */
	bool is_object;
};

struct parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	uint32_t max_depth;
	uint32_t max_nodes;
	locale_t cloc; /* "C" locale for strtod_l, created on first use */
	struct json_error *err;

	/* measured by both passes */
	size_t nodes;
	size_t str_bytes;

	/* building pass only (node_mem == NULL while counting) */
	struct json_value *node_mem;
	size_t node_cap, node_used;
	const struct json_value **items; /* permanent child arrays, carved in close order */
	size_t items_cap, items_used;
	const struct json_value **stack; /* children of still open containers */
	size_t stack_cap, stack_top;
	char *str_mem;
	size_t str_cap, str_used;

	struct json_value scratch; /* stands in for every node while counting */
	const char *pending_key;
	size_t pending_key_len;
	size_t pending_key_offset;
	uint32_t depth;
	struct frame frames[JSON_DEPTH_MAX];
};

static int fail(struct parser *p, int code, size_t offset, const char *reason)
{
	p->err->code = code;
	p->err->offset = offset;
	p->err->reason = reason;
	return code;
}

/* The two passes must agree; if the building pass ever outgrows what counting measured, stop
 * with an error rather than write past the block. */
static int internal_error(struct parser *p)
{
	return fail(p, -EFAULT, p->pos, "internal error: parser passes disagree");
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

size_t json_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c, v;
	size_t n;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		v = c;
		n = 1;
	} else if (c < 0xC2) { /* stray continuation byte, or overlong 2-byte lead */
		return 0;
	} else if (c < 0xE0) {
		n = 2;
		v = c & 0x1F;
	} else if (c < 0xF0) {
		n = 3;
		v = c & 0x0F;
	} else if (c < 0xF5) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)))
		return 0;
	if (n == 4 && (v < 0x10000 || v > 0x10FFFF))
		return 0;
	if (cp)
		*cp = v;
	return n;
}

static int hex4(const unsigned char *s, size_t avail, uint32_t *out)
{
	uint32_t v = 0;

	if (avail < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Reads the \u escape whose backslash is at s[pos]; combines a surrogate pair into one code
 * point. Advances p->pos past everything consumed. */
static int parse_u_escape(struct parser *p, uint32_t *cp)
{
	size_t esc = p->pos;
	uint32_t hi, lo;

	if (hex4(p->s + esc + 2, p->len - esc - 2, &hi) < 0)
		return fail(p, -EINVAL, esc, "invalid \\u escape");
	p->pos = esc + 6;
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return fail(p, -EINVAL, esc, "unpaired low surrogate");
	if (hi < 0xD800 || hi > 0xDBFF) {
		*cp = hi;
		return 0;
	}
	if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
	    hex4(p->s + p->pos + 2, 4, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
		return fail(p, -EINVAL, esc, "unpaired high surrogate");
	p->pos += 6;
	*cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
	return 0;
}

/* Parses the string whose opening quote is at p->pos. While building, the unescaped bytes go
 * to the string area and *out points at them; while counting only the length is measured. */
static int parse_string(struct parser *p, const char **out, size_t *out_len)
{
	size_t start = p->pos;
	char *dst = p->str_mem ? p->str_mem + p->str_used : NULL;
	size_t room = p->str_mem ? p->str_cap - p->str_used : 0;
	size_t n = 0;
	unsigned char enc[4];
	size_t enc_len;
	int rc;

	p->pos++;
	for (;;) {
		const unsigned char *run;
		size_t run_len = 0;

		if (p->pos >= p->len)
			return fail(p, -EINVAL, start, "unterminated string");
		unsigned char c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20)
			return fail(p, -EINVAL, p->pos, "control character in string");
		if (c == '\\') {
			if (p->len - p->pos < 2)
				return fail(p, -EINVAL, start, "unterminated string");
			unsigned char kind = p->s[p->pos + 1];
			enc_len = 1;
			switch (kind) {
			case '"': enc[0] = '"'; break;
			case '\\': enc[0] = '\\'; break;
			case '/': enc[0] = '/'; break;
			case 'b': enc[0] = '\b'; break;
			case 'f': enc[0] = '\f'; break;
			case 'n': enc[0] = '\n'; break;
			case 'r': enc[0] = '\r'; break;
			case 't': enc[0] = '\t'; break;
			case 'u': {
				uint32_t cp;
				rc = parse_u_escape(p, &cp); /* advances p->pos itself */
				if (rc)
					return rc;
				enc_len = utf8_encode(cp, enc);
				break;
			}
			default:
				return fail(p, -EINVAL, p->pos, "invalid escape sequence");
			}
			if (kind != 'u')
				p->pos += 2;
			run = enc;
			run_len = enc_len;
		} else if (c < 0x80) {
			run = p->s + p->pos;
			while (run_len < p->len - p->pos) {
				unsigned char d = run[run_len];
				if (d == '"' || d == '\\' || d < 0x20 || d >= 0x80)
					break;
				run_len++;
			}
			p->pos += run_len;
		} else {
			run = p->s + p->pos;
			run_len = json_utf8_decode(run, p->len - p->pos, NULL);
			if (run_len == 0)
				return fail(p, -EINVAL, p->pos, "invalid UTF-8 in string");
			p->pos += run_len;
		}
		if (dst) {
			if (run_len >= room - n)
				return internal_error(p);
			memcpy(dst + n, run, run_len);
		}
		n += run_len;
	}
	if (dst) {
		if (n >= room)
			return internal_error(p);
		dst[n] = '\0';
		p->str_used += n + 1;
		*out = dst;
	} else {
		*out = NULL;
	}
	*out_len = n;
	p->str_bytes += n + 1;
	return 0;
}

static int parse_number(struct parser *p, struct json_value *v)
{
	size_t start = p->pos;
	bool neg = false, integral = true;

	if (p->s[p->pos] == '-') {
		neg = true;
		p->pos++;
	}
	if (p->pos >= p->len || !is_digit(p->s[p->pos]))
		return fail(p, -EINVAL, p->pos, "digit expected in number");
	if (p->s[p->pos] == '0') {
		p->pos++;
		if (p->pos < p->len && is_digit(p->s[p->pos]))
			return fail(p, -EINVAL, p->pos - 1, "leading zero in number");
	} else {
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		integral = false;
		p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return fail(p, -EINVAL, p->pos, "digit expected after decimal point");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		integral = false;
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return fail(p, -EINVAL, p->pos, "digit expected in exponent");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}

	size_t tok_len = p->pos - start;
	if (tok_len > JSON_NUMBER_MAX_LEN)
		return fail(p, -E2BIG, start, "number too long");

	if (integral) {
		/* Exact conversion when it fits: doubles cannot hold every int64. */
		uint64_t mag = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
		bool fits = true;
		for (size_t i = start + neg; i < p->pos && fits; i++) {
			uint64_t d = (uint64_t)(p->s[i] - '0');
			if (mag > (lim - d) / 10)
				fits = false;
			else
				mag = mag * 10 + d;
		}
		if (fits) {
			v->is_int = true;
			v->u.num.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
			v->u.num.d = (neg && mag == 0) ? -0.0 : (double)v->u.num.i;
			return 0;
		}
	}

	char buf[JSON_NUMBER_MAX_LEN + 1];
	char *end;
	memcpy(buf, p->s + start, tok_len);
	buf[tok_len] = '\0';
	if (!p->cloc) {
		p->cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
		if (!p->cloc)
			return fail(p, -ENOMEM, start, "out of memory");
	}
	double d = strtod_l(buf, &end, p->cloc);
	if (end != buf + tok_len)
		return fail(p, -EINVAL, start, "invalid number");
	if (!isfinite(d))
		return fail(p, -ERANGE, start, "number out of range");
	v->is_int = false;
	v->u.num.d = d;
	return 0;
}

static int parse_literal(struct parser *p, const char *word, size_t wlen)
{
	if (p->len - p->pos < wlen || memcmp(p->s + p->pos, word, wlen) != 0)
		return fail(p, -EINVAL, p->pos, "invalid literal");
	p->pos += wlen;
	return 0;
}

static int new_node(struct parser *p, uint8_t type, size_t at, struct json_value **out)
{
	struct json_value *v;

	if (p->nodes >= p->max_nodes)
		return fail(p, -E2BIG, at, "too many values");
	p->nodes++;
	if (p->node_mem) {
		if (p->node_used >= p->node_cap)
			return internal_error(p);
		v = &p->node_mem[p->node_used++];
		if (p->depth > 0) {
			if (p->stack_top >= p->stack_cap)
				return internal_error(p);
			p->stack[p->stack_top++] = v;
		}
	} else {
		v = &p->scratch;
	}
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->offset = (uint32_t)at;
	if (p->depth > 0 && p->frames[p->depth - 1].is_object) {
		v->key = p->pending_key;
		v->key_len = (uint32_t)p->pending_key_len;
		v->key_offset = (uint32_t)p->pending_key_offset;
	}
	*out = v;
	return 0;
}

/* Expects `"key" :` at p->pos (whitespace before it already skipped). */
static int parse_member_key(struct parser *p)
{
	int rc;

	if (p->pos >= p->len)
		return fail(p, -EINVAL, p->pos, "unexpected end of input");
	if (p->s[p->pos] != '"')
		return fail(p, -EINVAL, p->pos, "object key must be a string");
	p->pending_key_offset = p->pos;
	rc = parse_string(p, &p->pending_key, &p->pending_key_len);
	if (rc)
		return rc;
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return fail(p, -EINVAL, p->pos, "expected ':' after object key");
	p->pos++;
	return 0;
}

static int cmp_member_keys(const void *a, const void *b)
{
	const struct json_value *x = *(const struct json_value *const *)a;
	const struct json_value *y = *(const struct json_value *const *)b;

	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return memcmp(x->key, y->key, x->key_len);
}

static int close_container(struct parser *p)
{
	struct frame *f = &p->frames[--p->depth];

	if (!p->node_mem)
		return 0;
	size_t n = p->stack_top - f->child_base;
	const struct json_value **kids = p->stack + f->child_base;
	if (n > p->items_cap - p->items_used)
		return internal_error(p);
	memcpy(p->items + p->items_used, kids, n * sizeof(*kids));
	f->node->u.kids.items = p->items + p->items_used;
	f->node->u.kids.count = n;
	p->items_used += n;

	if (f->is_object && n > 1) {
		/* The stack copy is no longer needed in order, so sort it in place. */
		size_t dup_at = SIZE_MAX;
		qsort(kids, n, sizeof(*kids), cmp_member_keys);
		for (size_t i = 1; i < n; i++) {
			if (cmp_member_keys(&kids[i - 1], &kids[i]) == 0) {
				size_t later = kids[i - 1]->key_offset > kids[i]->key_offset
						       ? kids[i - 1]->key_offset
						       : kids[i]->key_offset;
				if (later < dup_at)
					dup_at = later;
			}
		}
		if (dup_at != SIZE_MAX)
			return fail(p, -EINVAL, dup_at, "duplicate object key");
	}
	p->stack_top = f->child_base;
	return 0;
}

/* The grammar as a loop: parse one value, then climb out of finished containers. */
static int parse_document(struct parser *p)
{
	int rc;

	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, -EINVAL, p->pos, "empty input");
	for (;;) {
		struct json_value *v;
		size_t at;

		skip_ws(p);
		at = p->pos;
		if (at >= p->len)
			return fail(p, -EINVAL, at, "unexpected end of input");
		unsigned char c = p->s[at];
		switch (c) {
		case '{':
		case '[': {
			bool is_object = c == '{';
			if (p->depth >= p->max_depth)
				return fail(p, -E2BIG, at, "nesting too deep");
			rc = new_node(p, is_object ? JSON_OBJECT : JSON_ARRAY, at, &v);
			if (rc)
				return rc;
			p->frames[p->depth].node = v;
			p->frames[p->depth].child_base = p->stack_top;
			p->frames[p->depth].is_object = is_object;
			p->depth++;
			p->pos++;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == (is_object ? '}' : ']')) {
				p->pos++;
				rc = close_container(p);
				if (rc)
					return rc;
				break;
			}
			if (is_object) {
				rc = parse_member_key(p);
				if (rc)
					return rc;
			}
			continue; /* first element or member value */
		}
		case '"':
			rc = new_node(p, JSON_STRING, at, &v);
			if (!rc)
				rc = parse_string(p, &v->u.str.ptr, &v->u.str.len);
			if (rc)
				return rc;
			break;
		case 't':
		case 'f':
			rc = new_node(p, JSON_BOOL, at, &v);
			if (!rc)
				rc = c == 't' ? parse_literal(p, "true", 4) : parse_literal(p, "false", 5);
			if (rc)
				return rc;
			v->u.b = c == 't';
			break;
		case 'n':
			rc = new_node(p, JSON_NULL, at, &v);
			if (!rc)
				rc = parse_literal(p, "null", 4);
			if (rc)
				return rc;
			break;
		default:
			if (c != '-' && !is_digit(c))
				return fail(p, -EINVAL, at, "value expected");
			rc = new_node(p, JSON_NUMBER, at, &v);
			if (!rc)
				rc = parse_number(p, v);
			if (rc)
				return rc;
			break;
		}

		/* A value is complete: close containers until one wants another element. */
		for (;;) {
			skip_ws(p);
			if (p->depth == 0) {
				if (p->pos != p->len)
					return fail(p, -EINVAL, p->pos, "unexpected data after the document");
				return 0;
			}
			struct frame *f = &p->frames[p->depth - 1];
			if (p->pos >= p->len)
				return fail(p, -EINVAL, p->pos, "unexpected end of input");
			c = p->s[p->pos];
			if (c == ',') {
				p->pos++;
				if (f->is_object) {
					skip_ws(p);
					rc = parse_member_key(p);
					if (rc)
						return rc;
				}
				break;
			}
			if (c == (f->is_object ? '}' : ']')) {
				p->pos++;
				rc = close_container(p);
				if (rc)
					return rc;
				continue;
			}
			return fail(p, -EINVAL, p->pos,
				    f->is_object ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
}

static void reset_pass(struct parser *p)
{
	p->pos = 0;
	p->nodes = 0;
	p->str_bytes = 0;
	p->depth = 0;
	p->pending_key = NULL;
	p->pending_key_len = 0;
	p->pending_key_offset = 0;
}

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

int json_parse(const char *text, size_t len, const struct json_limits *lim,
	       struct json_doc **out, struct json_error *err)
{
	struct json_error ignored;
	struct parser p;
	int rc;

	if (!err)
		err = &ignored;
	err->code = 0;
	err->offset = 0;
	err->reason = NULL;
	if (out)
		*out = NULL;
	memset(&p, 0, sizeof(p));
	p.err = err;
	if (!out || !lim || (!text && len))
		return fail(&p, -EINVAL, 0, "invalid arguments");

	size_t max_input = lim->max_input < JSON_INPUT_MAX ? lim->max_input : JSON_INPUT_MAX;
	if (len > max_input)
		return fail(&p, -E2BIG, max_input, "input too large");
	p.s = (const unsigned char *)text;
	p.len = len;
	p.max_depth = lim->max_depth < JSON_DEPTH_MAX ? lim->max_depth : JSON_DEPTH_MAX;
	p.max_nodes = lim->max_nodes;

	reset_pass(&p);
	rc = parse_document(&p);
	if (rc)
		goto out;

	/* One block: header, values, permanent child arrays, child stack, strings. */
	size_t nodes = p.nodes, strs = p.str_bytes;
	size_t off_values = align_up(sizeof(struct json_doc), alignof(struct json_value));
	size_t off_items = align_up(off_values + nodes * sizeof(struct json_value),
				    alignof(const struct json_value *));
	size_t off_stack = off_items + nodes * sizeof(const struct json_value *);
	size_t off_strs = off_stack + nodes * sizeof(const struct json_value *);
	size_t total;
	if (nodes > SIZE_MAX / 64 || __builtin_add_overflow(off_strs, strs, &total)) {
		rc = fail(&p, -ENOMEM, 0, "document too large");
		goto out;
	}
	char *block = malloc(total);
	if (!block) {
		rc = fail(&p, -ENOMEM, 0, "out of memory");
		goto out;
	}
	struct json_doc *doc = (struct json_doc *)block;
	doc->nodes = nodes;
	doc->values = (struct json_value *)(block + off_values);
	p.node_mem = doc->values;
	p.node_cap = nodes;
	p.items = (const struct json_value **)(block + off_items);
	p.items_cap = nodes;
	p.stack = (const struct json_value **)(block + off_stack);
	p.stack_cap = nodes;
	p.str_mem = block + off_strs;
	p.str_cap = strs;

	reset_pass(&p);
	rc = parse_document(&p);
	if (rc == 0 && (p.node_used != nodes || p.str_used != strs))
		rc = internal_error(&p);
	if (rc) {
		free(block);
		goto out;
	}
	*out = doc;
out:
	if (p.cloc)
		freelocale(p.cloc);
	return rc;
}

void json_free(struct json_doc *doc)
{
	free(doc);
}

const struct json_value *json_root(const struct json_doc *doc)
{
	return doc ? &doc->values[0] : NULL;
}

size_t json_node_count(const struct json_doc *doc)
{
	return doc ? doc->nodes : 0;
}

enum json_type json_type(const struct json_value *v)
{
	return v ? (enum json_type)v->type : JSON_ABSENT;
}

size_t json_offset(const struct json_value *v)
{
	return v ? v->offset : 0;
}

const struct json_value *json_get_n(const struct json_value *obj, const char *key, size_t key_len)
{
	if (!obj || obj->type != JSON_OBJECT || (!key && key_len))
		return NULL;
	for (size_t i = 0; i < obj->u.kids.count; i++) {
		const struct json_value *m = obj->u.kids.items[i];
		if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
			return m;
	}
	return NULL;
}

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
	return key ? json_get_n(obj, key, strlen(key)) : NULL;
}

const char *json_string(const struct json_value *v, size_t *len)
{
	if (!v || v->type != JSON_STRING)
		return NULL;
	if (len)
		*len = v->u.str.len;
	return v->u.str.ptr;
}

int json_number(const struct json_value *v, double *out)
{
	if (!v || v->type != JSON_NUMBER)
		return -EINVAL;
	*out = v->u.num.d;
	return 0;
}

int json_bool(const struct json_value *v, bool *out)
{
	if (!v || v->type != JSON_BOOL)
		return -EINVAL;
	*out = v->u.b;
	return 0;
}

int json_int64(const struct json_value *v, int64_t *out)
{
	const double exact_limit = 9007199254740992.0; /* 2^53 */

	if (!v || v->type != JSON_NUMBER)
		return -EINVAL;
	if (v->is_int) {
		*out = v->u.num.i;
		return 0;
	}
	double d = v->u.num.d;
	if (d != floor(d) || d > exact_limit || d < -exact_limit)
		return -ERANGE;
	*out = (int64_t)d;
	return 0;
}

size_t json_length(const struct json_value *v)
{
	if (!v || (v->type != JSON_ARRAY && v->type != JSON_OBJECT))
		return 0;
	return v->u.kids.count;
}

const struct json_value *json_index(const struct json_value *v, size_t i)
{
	if (i >= json_length(v))
		return NULL;
	return v->u.kids.items[i];
}

const struct json_value *json_member(const struct json_value *obj, size_t i,
				     const char **key, size_t *key_len)
{
	if (!obj || obj->type != JSON_OBJECT || i >= obj->u.kids.count)
		return NULL;
	const struct json_value *m = obj->u.kids.items[i];
	if (key)
		*key = m->key;
	if (key_len)
		*key_len = m->key_len;
	return m;
}

/* Recursion is bounded: a parsed DOM is at most JSON_DEPTH_MAX containers deep. */
static bool equal_at(const struct json_value *a, const struct json_value *b, unsigned depth)
{
	if (!a || !b)
		return a == b;
	if (a->type != b->type || depth > JSON_DEPTH_MAX)
		return false;
	switch (a->type) {
	case JSON_NULL:
		return true;
	case JSON_BOOL:
		return a->u.b == b->u.b;
	case JSON_NUMBER:
		if (a->is_int && b->is_int)
			return a->u.num.i == b->u.num.i;
		return a->u.num.d == b->u.num.d;
	case JSON_STRING:
		return a->u.str.len == b->u.str.len &&
		       memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
	case JSON_ARRAY:
	case JSON_OBJECT:
		if (a->u.kids.count != b->u.kids.count)
			return false;
		for (size_t i = 0; i < a->u.kids.count; i++) {
			const struct json_value *x = a->u.kids.items[i], *y = b->u.kids.items[i];
			if (a->type == JSON_OBJECT &&
			    (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0))
				return false;
			if (!equal_at(x, y, depth + 1))
				return false;
		}
		return true;
	default:
		return false;
	}
}

bool json_equal(const struct json_value *a, const struct json_value *b)
{
	return equal_at(a, b, 0);
}
