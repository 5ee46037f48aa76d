/* json_write.c: append-only JSON writer with automatic commas and bounded growth.
 *
 * Trusts its caller only to pass readable memory; string contents are arbitrary bytes (control
 * characters are escaped, invalid UTF-8 becomes U+FFFD) and call-order mistakes set a sticky
 * -EINVAL instead of producing malformed output. Growth stops at b->max with -E2BIG, so a
 * hostile request can never make a reply allocate without bound.
 */
#include "monitor/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEVEL_OBJECT 0x1u
#define LEVEL_HAS_ITEMS 0x2u
#define INITIAL_CAP 256

void jbuf_init(struct jbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max < SIZE_MAX / 2 ? max : SIZE_MAX / 2;
}

void jbuf_init_fixed(struct jbuf *b, char *mem, size_t size)
{
	memset(b, 0, sizeof(*b));
	b->fixed = true;
	b->data = mem;
	b->cap = mem ? size : 0;
	b->max = b->cap ? b->cap - 1 : 0;
	if (b->cap)
		b->data[0] = '\0';
}

void jbuf_free(struct jbuf *b)
{
	if (!b->fixed)
		free(b->data);
	b->data = NULL;
	b->cap = 0;
	b->len = 0;
}

void jbuf_reset(struct jbuf *b)
{
	b->len = 0;
	if (b->cap)
		b->data[0] = '\0';
	b->err = 0;
	b->after_key = false;
	b->top_done = false;
	b->depth = 0;
}

int jbuf_rewind(struct jbuf *b, size_t len)
{
	if (len > b->len)
		return -EINVAL;
	b->len = len;
	if (b->cap)
		b->data[len] = '\0';
	b->err = 0;
	b->after_key = false;
	b->depth = 0;
	b->top_done = len > 0 && b->data[len - 1] != '\n';
	return 0;
}

static void put(struct jbuf *b, const char *s, size_t n)
{
	if (b->err || n == 0)
		return;
	if (n > b->max - b->len) {
		b->err = -E2BIG;
		return;
	}
	if (n + 1 > b->cap - b->len) {
		if (b->fixed) {
			b->err = -E2BIG;
			return;
		}
		size_t want = b->len + n + 1, cap = b->cap ? b->cap : INITIAL_CAP;
		while (cap < want)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void misuse(struct jbuf *b)
{
	if (!b->err)
		b->err = -EINVAL;
}

/* Writes the separator a new value needs; false if no value may go here. */
static bool begin_value(struct jbuf *b)
{
	if (b->err)
		return false;
	if (b->depth == 0) {
		if (b->top_done) {
			misuse(b);
			return false;
		}
		return true;
	}
	uint8_t *l = &b->level[b->depth - 1];
	if (*l & LEVEL_OBJECT) {
		if (!b->after_key) {
			misuse(b);
			return false;
		}
		b->after_key = false;
		return true;
	}
	if (*l & LEVEL_HAS_ITEMS)
		put(b, ",", 1);
	*l |= LEVEL_HAS_ITEMS;
	return !b->err;
}

static void end_value(struct jbuf *b)
{
	if (b->depth == 0)
		b->top_done = true;
}

static void put_escaped(struct jbuf *b, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	put(b, "\"", 1);
	while (i < len && !b->err) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t k = json_utf8_decode(s + i, len - i, NULL);
			if (k) {
				i += k;
				continue;
			}
		}
		put(b, str + run, i - run);
		if (c == '"') {
			put(b, "\\\"", 2);
		} else if (c == '\\') {
			put(b, "\\\\", 2);
		} else if (c >= 0x80) {
			put(b, "\xEF\xBF\xBD", 3); /* U+FFFD for one undecodable byte */
		} else {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
			put(b, esc, sizeof(esc));
		}
		i++;
		run = i;
	}
	put(b, str + run, i - run);
	put(b, "\"", 1);
}

void jbuf_object_begin(struct jbuf *b)
{
	if (!begin_value(b))
		return;
	if (b->depth >= JBUF_DEPTH_MAX) {
		misuse(b);
		return;
	}
	put(b, "{", 1);
	b->level[b->depth++] = LEVEL_OBJECT;
}

void jbuf_array_begin(struct jbuf *b)
{
	if (!begin_value(b))
		return;
	if (b->depth >= JBUF_DEPTH_MAX) {
		misuse(b);
		return;
	}
	put(b, "[", 1);
	b->level[b->depth++] = 0;
}

static void container_end(struct jbuf *b, bool object)
{
	if (b->err)
		return;
	if (b->depth == 0 || ((b->level[b->depth - 1] & LEVEL_OBJECT) != 0) != object ||
	    b->after_key) {
		misuse(b);
		return;
	}
	put(b, object ? "}" : "]", 1);
	b->depth--;
	end_value(b);
}

void jbuf_object_end(struct jbuf *b)
{
	container_end(b, true);
}

void jbuf_array_end(struct jbuf *b)
{
	container_end(b, false);
}

void jbuf_key_n(struct jbuf *b, const char *key, size_t len)
{
	if (b->err)
		return;
	if (b->depth == 0 || !(b->level[b->depth - 1] & LEVEL_OBJECT) || b->after_key ||
	    (!key && len)) {
		misuse(b);
		return;
	}
	uint8_t *l = &b->level[b->depth - 1];
	if (*l & LEVEL_HAS_ITEMS)
		put(b, ",", 1);
	*l |= LEVEL_HAS_ITEMS;
	put_escaped(b, key ? key : "", len);
	put(b, ":", 1);
	b->after_key = true;
}

void jbuf_key(struct jbuf *b, const char *key)
{
	if (!key) {
		misuse(b);
		return;
	}
	jbuf_key_n(b, key, strlen(key));
}

void jbuf_string_n(struct jbuf *b, const char *s, size_t len)
{
	if (!s && len) {
		misuse(b);
		return;
	}
	if (!begin_value(b))
		return;
	put_escaped(b, s ? s : "", len);
	end_value(b);
}

void jbuf_string(struct jbuf *b, const char *s)
{
	if (!s) {
		jbuf_null(b);
		return;
	}
	jbuf_string_n(b, s, strlen(s));
}

static void put_scalar(struct jbuf *b, const char *text, size_t len)
{
	if (!begin_value(b))
		return;
	put(b, text, len);
	end_value(b);
}

void jbuf_int64(struct jbuf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	put_scalar(b, tmp, (size_t)n);
}

void jbuf_uint64(struct jbuf *b, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	put_scalar(b, tmp, (size_t)n);
}

void jbuf_double(struct jbuf *b, double v)
{
	char tmp[40], out[40];
	size_t o = 0;

	if (!isfinite(v)) {
		jbuf_null(b);
		return;
	}
	/* printf and strtod share the process locale, so the round-trip test is consistent; the
	 * locale's decimal point is then replaced by JSON's '.'. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	for (size_t i = 0; tmp[i] && o < sizeof(out) - 1; i++) {
		char c = tmp[i];
		if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E')
			out[o++] = c;
		else if (o == 0 || out[o - 1] != '.')
			out[o++] = '.';
	}
	put_scalar(b, out, o);
}

void jbuf_bool(struct jbuf *b, bool v)
{
	if (v)
		put_scalar(b, "true", 4);
	else
		put_scalar(b, "false", 5);
}

void jbuf_null(struct jbuf *b)
{
	put_scalar(b, "null", 4);
}

void jbuf_raw(struct jbuf *b, const char *json, size_t len)
{
	if (!json || len == 0) {
		misuse(b);
		return;
	}
	put_scalar(b, json, len);
}

void jbuf_newline(struct jbuf *b)
{
	if (b->err)
		return;
	if (b->depth != 0 || b->after_key) {
		misuse(b);
		return;
	}
	put(b, "\n", 1);
	b->top_done = false;
}

void jbuf_member_string(struct jbuf *b, const char *key, const char *s)
{
	jbuf_key(b, key);
	jbuf_string(b, s);
}

void jbuf_member_int64(struct jbuf *b, const char *key, int64_t v)
{
	jbuf_key(b, key);
	jbuf_int64(b, v);
}

void jbuf_member_uint64(struct jbuf *b, const char *key, uint64_t v)
{
	jbuf_key(b, key);
	jbuf_uint64(b, v);
}

void jbuf_member_bool(struct jbuf *b, const char *key, bool v)
{
	jbuf_key(b, key);
	jbuf_bool(b, v);
}

/* Recursion is bounded twice over: parsed documents are at most JSON_DEPTH_MAX deep, and the
 * writer refuses to open more than JBUF_DEPTH_MAX containers. */
static void write_value(struct jbuf *b, const struct json_value *v, unsigned depth)
{
	if (b->err)
		return;
	if (depth > JBUF_DEPTH_MAX) {
		misuse(b);
		return;
	}
	switch (json_type(v)) {
	case JSON_NULL:
		jbuf_null(b);
		break;
	case JSON_BOOL: {
		bool t = false;
		json_bool(v, &t);
		jbuf_bool(b, t);
		break;
	}
	case JSON_NUMBER: {
		int64_t i;
		double d = 0;
		if (json_int64(v, &i) == 0) {
			jbuf_int64(b, i);
		} else {
			json_number(v, &d);
			jbuf_double(b, d);
		}
		break;
	}
	case JSON_STRING: {
		size_t len = 0;
		const char *s = json_string(v, &len);
		jbuf_string_n(b, s, len);
		break;
	}
	case JSON_ARRAY:
		jbuf_array_begin(b);
		for (size_t i = 0; i < json_length(v) && !b->err; i++)
			write_value(b, json_index(v, i), depth + 1);
		jbuf_array_end(b);
		break;
	case JSON_OBJECT:
		jbuf_object_begin(b);
		for (size_t i = 0; i < json_length(v) && !b->err; i++) {
			const char *key;
			size_t key_len;
			const struct json_value *m = json_member(v, i, &key, &key_len);
			jbuf_key_n(b, key, key_len);
			write_value(b, m, depth + 1);
		}
		jbuf_object_end(b);
		break;
	default:
		misuse(b);
		break;
	}
}

void json_write_value(struct jbuf *b, const struct json_value *v)
{
	write_value(b, v, 0);
}
