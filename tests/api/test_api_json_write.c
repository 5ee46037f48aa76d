/* test_api_json_write.c: the JSON writer (monitor/json_write.c): exact output, escaping,
 * numbers, misuse detection, size caps, and round trips through the parser. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/json.h"

static const struct json_limits roomy = {.max_input = 8u << 20, .max_depth = 128, .max_nodes = 1u << 20};

/* Parses b's content, failing the test if it is not valid JSON. */
static struct json_doc *reparse(const struct jbuf *b)
{
	struct json_doc *doc = NULL;
	struct json_error err;
	assert_int_equal(b->err, 0);
	if (json_parse(b->data, b->len, &roomy, &doc, &err) != 0)
		fail_msg("writer output is not JSON (%s at %zu): %.*s", err.reason, err.offset,
			 (int)(b->len > 200 ? 200 : b->len), b->data);
	return doc;
}

static void test_structure_and_commas(void **state)
{
	struct jbuf b;
	jbuf_init(&b, 4096);
	jbuf_object_begin(&b);
	jbuf_member_string(&b, "a", "x");
	jbuf_key(&b, "list");
	jbuf_array_begin(&b);
	jbuf_int64(&b, 1);
	jbuf_int64(&b, -2);
	jbuf_array_begin(&b);
	jbuf_array_end(&b);
	jbuf_object_begin(&b);
	jbuf_object_end(&b);
	jbuf_null(&b);
	jbuf_bool(&b, true);
	jbuf_bool(&b, false);
	jbuf_array_end(&b);
	jbuf_member_int64(&b, "i", INT64_MIN);
	jbuf_member_uint64(&b, "u", UINT64_MAX);
	jbuf_member_bool(&b, "t", true);
	jbuf_key(&b, "raw");
	jbuf_raw(&b, "{\"pre\":[1]}", 11);
	jbuf_key(&b, "nothing");
	jbuf_string(&b, NULL);
	jbuf_object_end(&b);
	jbuf_newline(&b);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.data, "{\"a\":\"x\",\"list\":[1,-2,[],{},null,true,false],"
				    "\"i\":-9223372036854775808,\"u\":18446744073709551615,"
				    "\"t\":true,\"raw\":{\"pre\":[1]},\"nothing\":null}\n");
	assert_int_equal(b.len, strlen(b.data));
	assert_int_equal(b.depth, 0);

	/* A second line after the newline is fine; top-level scalars too. */
	jbuf_string(&b, "second");
	jbuf_newline(&b);
	assert_int_equal(b.err, 0);
	assert_non_null(strstr(b.data, "}\n\"second\"\n"));
	jbuf_free(&b);
	assert_null(b.data);
}

static void expect_escaped(const char *in, size_t in_len, const char *want)
{
	struct jbuf b;
	jbuf_init(&b, 1 << 16);
	jbuf_string_n(&b, in, in_len);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.data, want);
	struct json_doc *doc = reparse(&b);
	assert_int_equal(json_type(json_root(doc)), JSON_STRING);
	json_free(doc);
	jbuf_free(&b);
}

static void test_escaping(void **state)
{
	expect_escaped("", 0, "\"\"");
	expect_escaped("plain", 5, "\"plain\"");
	expect_escaped("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"");
	expect_escaped("\n\t\r\b\f", 5, "\"\\u000a\\u0009\\u000d\\u0008\\u000c\"");
	expect_escaped("\x00\x01\x1f", 3, "\"\\u0000\\u0001\\u001f\"");
	expect_escaped("\x7f", 1, "\"\\u007f\"");
	/* Valid UTF-8 passes through untouched, including the largest code point. */
	expect_escaped("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 13,
		       "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
	/* Each undecodable byte becomes one U+FFFD. */
	expect_escaped("a\x80" "b", 3, "\"a\xef\xbf\xbd" "b\"");
	expect_escaped("\xff\xfe", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_escaped("\xc0\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_escaped("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_escaped("x\xe2\x82", 3, "\"x\xef\xbf\xbd\xef\xbf\xbd\"");
	expect_escaped("\xe2\x82\xac\xe2", 4, "\"\xe2\x82\xac\xef\xbf\xbd\"");
	/* Keys are escaped the same way. */
	struct jbuf b;
	jbuf_init(&b, 256);
	jbuf_object_begin(&b);
	jbuf_key_n(&b, "k\"\n\x80", 4);
	jbuf_int64(&b, 0);
	jbuf_object_end(&b);
	assert_string_equal(b.data, "{\"k\\\"\\u000a\xef\xbf\xbd\":0}");
	json_free(reparse(&b));
	jbuf_free(&b);
}

/* What the writer should turn arbitrary bytes into: valid sequences kept, bad bytes U+FFFD. */
static size_t sanitize(const unsigned char *in, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t k = json_utf8_decode(in + i, len - i, NULL);
		if (k) {
			memcpy(out + o, in + i, k);
			o += k;
			i += k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	return o;
}

static void test_string_round_trip(void **state)
{
	unsigned char in[512];
	char want[3 * sizeof(in)];
	uint32_t seed = 12345;

	/* Every single byte value, then random byte strings biased towards UTF-8 lead bytes. */
	for (int round = 0; round < 2000; round++) {
		size_t len;
		if (round < 256) {
			in[0] = (unsigned char)round;
			len = 1;
		} else {
			seed = seed * 1103515245u + 12345u;
			len = (seed >> 8) % sizeof(in);
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245u + 12345u;
				unsigned r = seed >> 16;
				in[i] = (r & 3) == 0 ? (unsigned char)(0xC0 | (r >> 2)) : (unsigned char)(r >> 4);
			}
		}
		struct jbuf b;
		jbuf_init(&b, 1 << 16);
		jbuf_array_begin(&b);
		jbuf_string_n(&b, (const char *)in, len);
		jbuf_array_end(&b);
		struct json_doc *doc = reparse(&b);
		size_t got_len;
		const char *got = json_string(json_index(json_root(doc), 0), &got_len);
		size_t want_len = sanitize(in, len, want);
		assert_non_null(got);
		assert_int_equal(got_len, want_len);
		assert_memory_equal(got, want, want_len);
		json_free(doc);
		jbuf_free(&b);
	}
}

static void expect_double(double v, const char *want)
{
	struct jbuf b;
	jbuf_init(&b, 128);
	jbuf_double(&b, v);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.data, want);
	jbuf_free(&b);
}

static void test_numbers(void **state)
{
	expect_double(0.1, "0.1");
	expect_double(1.5, "1.5");
	expect_double(-0.0, "-0");
	expect_double(1e300, "1e+300");
	expect_double(5e-324, "4.94065645841247e-324");
	expect_double(NAN, "null");
	expect_double(INFINITY, "null");
	expect_double(-INFINITY, "null");

	/* Doubles survive writer + parser exactly, across many bit patterns. */
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double d;
		memcpy(&d, &x, sizeof(d));
		if (!isfinite(d))
			continue;
		struct jbuf b;
		jbuf_init(&b, 128);
		jbuf_double(&b, d);
		struct json_doc *doc = reparse(&b);
		double back = 0;
		assert_int_equal(json_number(json_root(doc), &back), 0);
		if (memcmp(&back, &d, sizeof(d)) != 0 && !(back == 0 && d == 0))
			fail_msg("%.17g written as %s read back as %.17g", d, b.data, back);
		json_free(doc);
		jbuf_free(&b);
	}

	struct jbuf b;
	jbuf_init(&b, 128);
	jbuf_array_begin(&b);
	jbuf_int64(&b, INT64_MAX);
	jbuf_int64(&b, INT64_MIN);
	jbuf_uint64(&b, 0);
	jbuf_array_end(&b);
	assert_string_equal(b.data, "[9223372036854775807,-9223372036854775808,0]");
	struct json_doc *doc = reparse(&b);
	int64_t v;
	assert_int_equal(json_int64(json_index(json_root(doc), 0), &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(json_int64(json_index(json_root(doc), 1), &v), 0);
	assert_true(v == INT64_MIN);
	json_free(doc);
	jbuf_free(&b);
}

typedef void (*misuse_fn)(struct jbuf *b);

static void m_key_at_top(struct jbuf *b) { jbuf_key(b, "k"); }
static void m_key_in_array(struct jbuf *b) { jbuf_array_begin(b); jbuf_key(b, "k"); }
static void m_value_without_key(struct jbuf *b) { jbuf_object_begin(b); jbuf_int64(b, 1); }
static void m_two_keys(struct jbuf *b) { jbuf_object_begin(b); jbuf_key(b, "a"); jbuf_key(b, "b"); }
static void m_end_after_key(struct jbuf *b) { jbuf_object_begin(b); jbuf_key(b, "a"); jbuf_object_end(b); }
static void m_wrong_end(struct jbuf *b) { jbuf_object_begin(b); jbuf_array_end(b); }
static void m_end_at_top(struct jbuf *b) { jbuf_object_end(b); }
static void m_two_top_values(struct jbuf *b) { jbuf_int64(b, 1); jbuf_int64(b, 2); }
static void m_newline_inside(struct jbuf *b) { jbuf_array_begin(b); jbuf_newline(b); }
static void m_null_key(struct jbuf *b) { jbuf_object_begin(b); jbuf_key(b, NULL); }
static void m_null_string_n(struct jbuf *b) { jbuf_string_n(b, NULL, 3); }
static void m_empty_raw(struct jbuf *b) { jbuf_raw(b, "", 0); }
static void m_too_deep(struct jbuf *b)
{
	for (int i = 0; i <= JBUF_DEPTH_MAX; i++)
		jbuf_array_begin(b);
}

static void test_misuse_is_sticky(void **state)
{
	static const misuse_fn cases[] = {
		m_key_at_top, m_key_in_array, m_value_without_key, m_two_keys, m_end_after_key,
		m_wrong_end, m_end_at_top, m_two_top_values, m_newline_inside, m_null_key,
		m_null_string_n, m_empty_raw, m_too_deep,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jbuf b;
		jbuf_init(&b, 4096);
		cases[i](&b);
		if (b.err != -EINVAL)
			fail_msg("misuse case %zu: err %d", i, b.err);
		size_t len = b.len;
		jbuf_string(&b, "ignored");
		jbuf_array_end(&b);
		assert_int_equal(b.len, len);
		assert_int_equal(b.err, -EINVAL);
		jbuf_free(&b);
	}

	/* The deepest allowed nesting works. */
	struct jbuf b;
	jbuf_init(&b, 4096);
	for (int i = 0; i < JBUF_DEPTH_MAX; i++)
		jbuf_array_begin(&b);
	for (int i = 0; i < JBUF_DEPTH_MAX; i++)
		jbuf_array_end(&b);
	json_free(reparse(&b));
	jbuf_free(&b);
}

static void test_fixed_buffer_overflow(void **state)
{
	char mem[16];
	struct jbuf b;

	memset(mem, 'Z', sizeof(mem));
	jbuf_init_fixed(&b, mem, sizeof(mem));
	assert_string_equal(b.data, "");
	jbuf_string(&b, "0123456789ab"); /* 14 bytes with quotes: fits in 15 */
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 14);
	jbuf_newline(&b);
	assert_int_equal(b.len, 15);
	assert_int_equal(b.err, 0);
	jbuf_null(&b);
	assert_int_equal(b.err, -E2BIG);
	assert_int_equal(b.len, 15);
	assert_int_equal(mem[15], '\0');

	/* rewind discards and clears the error; jbuf_free leaves caller memory alone. */
	assert_int_equal(jbuf_rewind(&b, 16), -EINVAL);
	assert_int_equal(jbuf_rewind(&b, 0), 0);
	assert_int_equal(b.err, 0);
	jbuf_bool(&b, true);
	assert_string_equal(mem, "true");
	jbuf_free(&b);

	/* A zero-sized buffer refuses everything. */
	jbuf_init_fixed(&b, mem, 0);
	jbuf_null(&b);
	assert_int_equal(b.err, -E2BIG);
	assert_int_equal(b.len, 0);
}

static void test_heap_growth_and_cap(void **state)
{
	struct jbuf b;
	char *big = malloc(100000);
	assert_non_null(big);
	memset(big, 'a', 100000);

	jbuf_init(&b, 100002);
	assert_null(b.data);
	jbuf_string_n(&b, big, 100000);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 100002);
	assert_true(b.cap <= 100003);
	assert_int_equal(b.data[b.len], '\0');
	jbuf_reset(&b);
	assert_int_equal(b.len, 0);

	/* Past the cap the error sticks and the buffer never grows beyond max. */
	jbuf_array_begin(&b);
	jbuf_string_n(&b, big, 100000);
	assert_int_equal(b.err, -E2BIG);
	assert_true(b.len <= 100002);
	jbuf_free(&b);
	free(big);
}

static void test_rewind_restores_state(void **state)
{
	struct jbuf b;
	jbuf_init(&b, 1024);
	jbuf_int64(&b, 1);
	jbuf_newline(&b);
	size_t mark = b.len;
	jbuf_object_begin(&b);
	jbuf_key(&b, "half");
	assert_int_equal(jbuf_rewind(&b, mark), 0);
	assert_int_equal(b.depth, 0);
	jbuf_string(&b, "x");
	jbuf_newline(&b);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.data, "1\n\"x\"\n");
	/* Rewinding to just after a value (no newline) still forbids a second value. */
	assert_int_equal(jbuf_rewind(&b, 1), 0);
	jbuf_int64(&b, 2);
	assert_int_equal(b.err, -EINVAL);
	jbuf_free(&b);
}

static void expect_rewrite(const char *in, const char *want)
{
	struct json_doc *doc = NULL;
	struct json_error err;
	assert_int_equal(json_parse(in, strlen(in), &roomy, &doc, &err), 0);
	struct jbuf b;
	jbuf_init(&b, 1 << 20);
	json_write_value(&b, json_root(doc));
	assert_int_equal(b.err, 0);
	assert_string_equal(b.data, want);
	struct json_doc *again = reparse(&b);
	assert_true(json_equal(json_root(doc), json_root(again)));
	json_free(again);
	json_free(doc);
	jbuf_free(&b);
}

static void test_write_value(void **state)
{
	expect_rewrite(" { \"b\" : [ 1 , 2.5 , -0 , 1e2 , 1e100 ] , \"a\" : { } , \"c\" : [ ] } ",
		       "{\"b\":[1,2.5,0,100,1e+100],\"a\":{},\"c\":[]}");
	expect_rewrite("\"\\u0000\\n\\u00e9\\ud83d\\ude00\"",
		       "\"\\u0000\\u000a\xc3\xa9\xf0\x9f\x98\x80\"");
	expect_rewrite("[true,false,null,\"\"]", "[true,false,null,\"\"]");
	expect_rewrite("123456789012345678901234567890", "1.2345678901234568e+29");
	expect_rewrite("{\"\\u0000\":0}", "{\"\\u0000\":0}");

	struct jbuf b;
	jbuf_init(&b, 64);
	json_write_value(&b, NULL);
	assert_int_equal(b.err, -EINVAL);
	jbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure_and_commas),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_string_round_trip),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_misuse_is_sticky),
		cmocka_unit_test(test_fixed_buffer_overflow),
		cmocka_unit_test(test_heap_growth_and_cap),
		cmocka_unit_test(test_rewind_restores_state),
		cmocka_unit_test(test_write_value),
	};
	return cmocka_run_group_tests_name("api_json_write", tests, NULL, NULL);
}
