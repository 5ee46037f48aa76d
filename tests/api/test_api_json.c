/* test_api_json.c: conformance of the strict JSON parser (monitor/json.c): accepted and rejected
 * documents with exact error offsets, numbers, escapes, surrogates, UTF-8, limits, duplicates
 * and the DOM accessors. */
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

static const struct json_limits roomy = {.max_input = 8u << 20, .max_depth = 32, .max_nodes = 1u << 20};

static struct json_doc *parse_n(const char *s, size_t len, const struct json_limits *lim)
{
	struct json_doc *doc = NULL;
	struct json_error err;
	int rc = json_parse(s, len, lim, &doc, &err);
	if (rc != 0)
		fail_msg("parse of '%.*s' failed at %zu: %s", (int)(len > 80 ? 80 : len), s,
			 err.offset, err.reason);
	assert_non_null(doc);
	return doc;
}

static struct json_doc *parse(const char *s)
{
	return parse_n(s, strlen(s), &roomy);
}

static void expect_error_n(const char *s, size_t len, const struct json_limits *lim, int code,
			   size_t offset)
{
	struct json_doc *doc = (struct json_doc *)0x1;
	struct json_error err;
	int rc = json_parse(s, len, lim, &doc, &err);
	if (rc != code || err.offset != offset)
		fail_msg("'%.*s': got rc %d offset %zu (%s), want rc %d offset %zu",
			 (int)(len > 80 ? 80 : len), s, rc, err.offset,
			 err.reason ? err.reason : "-", code, offset);
	assert_null(doc);
	assert_int_equal(err.code, code);
	assert_non_null(err.reason);
}

static void test_valid_documents(void **state)
{
	static const char *const ok[] = {
		"0", "-0", "1", "-1", "1.5", "1e5", "1E5", "1e+5", "1e-5", "0.0", "0e0",
		"-0.0e-0", "123456789", "true", "false", "null", "\"\"", "\"x\"", "[]", "{}",
		" \t\r\n[ ] \n", "[[],[[]],{}]", "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}",
		"\"\\u0000\"", "\"\x7f\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "{\"\":0}",
		"[1e308]", "[-1e-308]", "5e-324", "1e-400", "[true,false,null,\"s\",0,{},[]]",
		"{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
		"\"\\uD83D\\uDE00\"", "\"\\uFFFF\"", "\"\xef\xbf\xbf\"", "\"\xf4\x8f\xbf\xbf\"",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		json_free(parse(ok[i]));
}

struct bad_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int code;
	size_t offset;
};

static void test_invalid_documents(void **state)
{
	static const struct bad_case bad[] = {
		{"", 0, -EINVAL, 0},
		{"   ", 0, -EINVAL, 3},
		{"[1,]", 0, -EINVAL, 3},
		{"{\"a\":1,}", 0, -EINVAL, 7},
		{"[1,,2]", 0, -EINVAL, 3},
		{"{\"a\":1,,}", 0, -EINVAL, 7},
		{"[1 2]", 0, -EINVAL, 3},
		{"{\"a\" 1}", 0, -EINVAL, 5},
		{"{1:2}", 0, -EINVAL, 1},
		{"{a:1}", 0, -EINVAL, 1},
		{"{'a':1}", 0, -EINVAL, 1},
		{"[\"a\":1]", 0, -EINVAL, 4},
		{"01", 0, -EINVAL, 0},
		{"-01", 0, -EINVAL, 1},
		{"[00]", 0, -EINVAL, 1},
		{"-", 0, -EINVAL, 1},
		{"--1", 0, -EINVAL, 1},
		{"1.", 0, -EINVAL, 2},
		{"1.e5", 0, -EINVAL, 2},
		{".5", 0, -EINVAL, 0},
		{"+1", 0, -EINVAL, 0},
		{"1e", 0, -EINVAL, 2},
		{"1e+", 0, -EINVAL, 3},
		{"0x10", 0, -EINVAL, 1},
		{"tru", 0, -EINVAL, 0},
		{"True", 0, -EINVAL, 0},
		{"nul", 0, -EINVAL, 0},
		{"nulll", 0, -EINVAL, 4},
		{"NaN", 0, -EINVAL, 0},
		{"Infinity", 0, -EINVAL, 0},
		{"-Infinity", 0, -EINVAL, 1},
		{"'a'", 0, -EINVAL, 0},
		{"\"abc", 0, -EINVAL, 0},
		{"[\"abc", 0, -EINVAL, 1},
		{"[", 0, -EINVAL, 1},
		{"]", 0, -EINVAL, 0},
		{"{", 0, -EINVAL, 1},
		{"{\"a\"", 0, -EINVAL, 4},
		{"{\"a\":", 0, -EINVAL, 5},
		{"{\"a\":1", 0, -EINVAL, 6},
		{"[1,2", 0, -EINVAL, 4},
		{"{}}", 0, -EINVAL, 2},
		{"[] []", 0, -EINVAL, 3},
		{"1 2", 0, -EINVAL, 2},
		{"\xef\xbb\xbf[]", 0, -EINVAL, 0},
		{"/* c */ 1", 0, -EINVAL, 0},
		{"[1] // c", 0, -EINVAL, 4},
		{"[1]\f", 0, -EINVAL, 3},
		{"\"\\x\"", 0, -EINVAL, 1},
		{"\"\\'\"", 0, -EINVAL, 1},
		{"\"\\", 0, -EINVAL, 0},
		{"\"\\u12\"", 0, -EINVAL, 1},
		{"\"\\u12g4\"", 0, -EINVAL, 1},
		{"\"\\U0041\"", 0, -EINVAL, 1},
		{"\"\\ud800\"", 0, -EINVAL, 1},
		{"\"ab\\ud800x\"", 0, -EINVAL, 3},
		{"\"\\ud800\\u0041\"", 0, -EINVAL, 1},
		{"\"\\ud800\\ud800\"", 0, -EINVAL, 1},
		{"\"\\ud800\\n\"", 0, -EINVAL, 1},
		{"\"\\udc00\"", 0, -EINVAL, 1},
		{"\"\\uDFFF\\uD800\"", 0, -EINVAL, 1},
		{"\"a\x01\"", 0, -EINVAL, 2},
		{"\"\n\"", 0, -EINVAL, 1},
		{"\"\t\"", 0, -EINVAL, 1},
		{"\"\x1f\"", 0, -EINVAL, 1},
		{"\"\xc0\x80\"", 0, -EINVAL, 1},
		{"\"\xc1\xbf\"", 0, -EINVAL, 1},
		{"\"\xe0\x80\xaf\"", 0, -EINVAL, 1},
		{"\"\xed\xa0\x80\"", 0, -EINVAL, 1},
		{"\"\xed\xbf\xbf\"", 0, -EINVAL, 1},
		{"\"\xf0\x80\x80\xaf\"", 0, -EINVAL, 1},
		{"\"\xf4\x90\x80\x80\"", 0, -EINVAL, 1},
		{"\"\xf5\x80\x80\x80\"", 0, -EINVAL, 1},
		{"\"x\x80\"", 0, -EINVAL, 2},
		{"\"\xe2\x82\"", 0, -EINVAL, 1},
		{"\"\xe2\x82", 0, -EINVAL, 1},
		{"\"\xff\"", 0, -EINVAL, 1},
		{"\xc3\xa9", 0, -EINVAL, 0},
		{"\x00", 1, -EINVAL, 0},
		{"[\x00]", 3, -EINVAL, 1},
		{"\"\x00\"", 3, -EINVAL, 1},
		{"[1]\x00", 4, -EINVAL, 3},
		{"1e400", 0, -ERANGE, 0},
		{"[-1e400]", 0, -ERANGE, 1},
		{"{\"a\":1,\"a\":2}", 0, -EINVAL, 7},
		{"{\"a\":1,\"b\":2,\"a\":3}", 0, -EINVAL, 13},
		{"{\"a\":1,\"\\u0061\":2}", 0, -EINVAL, 7},
		{"[{\"x\":{\"b\":1,\"b\":[]}}]", 0, -EINVAL, 13},
		{"{\"\":1,\"\":2}", 0, -EINVAL, 6},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_case *c = &bad[i];
		expect_error_n(c->text, c->len ? c->len : strlen(c->text), &roomy, c->code,
			       c->offset);
	}
}

static void test_argument_checks(void **state)
{
	struct json_doc *doc = NULL;
	struct json_error err;

	assert_int_equal(json_parse("1", 1, &roomy, NULL, &err), -EINVAL);
	assert_int_equal(json_parse("1", 1, NULL, &doc, &err), -EINVAL);
	assert_null(doc);
	assert_int_equal(json_parse(NULL, 1, &roomy, &doc, &err), -EINVAL);
	/* A NULL error pointer is allowed; the code still comes back. */
	assert_int_equal(json_parse("[", 1, &roomy, &doc, NULL), -EINVAL);
	assert_null(doc);
	json_free(NULL);
	assert_null(json_root(NULL));
	assert_int_equal(json_node_count(NULL), 0);
}

static void test_integers(void **state)
{
	struct {
		const char *text;
		int64_t value;
	} exact[] = {
		{"0", 0},
		{"-0", 0},
		{"42", 42},
		{"-42", -42},
		{"9223372036854775807", INT64_MAX},
		{"-9223372036854775808", INT64_MIN},
		{"1e2", 100},
		{"1E+2", 100},
		{"2.5e1", 25},
		{"-3.0", -3},
		{"9007199254740992", 9007199254740992LL},
		{"9.007199254740992e15", 9007199254740992LL},
		{"1000000000000000000", 1000000000000000000LL},
	};
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		struct json_doc *doc = parse(exact[i].text);
		int64_t v = -1;
		assert_int_equal(json_type(json_root(doc)), JSON_NUMBER);
		assert_int_equal(json_int64(json_root(doc), &v), 0);
		assert_true(v == exact[i].value);
		json_free(doc);
	}

	static const char *const not_int[] = {
		"9223372036854775808", "-9223372036854775809", "1.5", "1e-1", "1e16",
		"-9007199254740994.0", "123456789012345678901234567890", "5e-324",
	};
	for (size_t i = 0; i < sizeof(not_int) / sizeof(not_int[0]); i++) {
		struct json_doc *doc = parse(not_int[i]);
		int64_t v = 77;
		assert_int_equal(json_int64(json_root(doc), &v), -ERANGE);
		assert_true(v == 77);
		json_free(doc);
	}

	struct json_doc *doc = parse("\"1\"");
	int64_t v;
	assert_int_equal(json_int64(json_root(doc), &v), -EINVAL);
	assert_int_equal(json_int64(NULL, &v), -EINVAL);
	json_free(doc);
}

static void test_doubles(void **state)
{
	struct {
		const char *text;
		double value;
	} cases[] = {
		{"1.5", 1.5},
		{"-0.25", -0.25},
		{"1e308", 1e308},
		{"1.7976931348623157e308", 1.7976931348623157e308},
		{"5e-324", 5e-324},
		{"1e-400", 0.0},
		{"0.1", 0.1},
		{"9223372036854775808", 9223372036854775808.0},
		{"-9223372036854775809", -9223372036854775808.0},
		{"123", 123.0},
		{"1E3", 1000.0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_doc *doc = parse(cases[i].text);
		double d = -1;
		assert_int_equal(json_number(json_root(doc), &d), 0);
		assert_true(d == cases[i].value);
		json_free(doc);
	}

	/* "-0" keeps its sign as a double even though it is the integer 0. */
	struct json_doc *doc = parse("-0");
	double d = 1;
	assert_int_equal(json_number(json_root(doc), &d), 0);
	assert_true(d == 0.0 && signbit(d));
	json_free(doc);

	doc = parse("true");
	assert_int_equal(json_number(json_root(doc), &d), -EINVAL);
	json_free(doc);
}

static void test_number_token_length(void **state)
{
	char buf[JSON_NUMBER_MAX_LEN + 8];

	/* "0." followed by zeros: JSON_NUMBER_MAX_LEN bytes parse, one more is refused. */
	memset(buf, '0', sizeof(buf));
	buf[1] = '.';
	buf[JSON_NUMBER_MAX_LEN - 1] = '1';
	struct json_doc *doc = parse_n(buf, JSON_NUMBER_MAX_LEN, &roomy);
	double d = -1;
	assert_int_equal(json_number(json_root(doc), &d), 0);
	assert_true(d > 0 && d < 1e-200);
	json_free(doc);
	buf[JSON_NUMBER_MAX_LEN - 1] = '0';
	buf[JSON_NUMBER_MAX_LEN] = '1';
	expect_error_n(buf, JSON_NUMBER_MAX_LEN + 1, &roomy, -E2BIG, 0);

	/* Long integer tokens too: they overflow int64 and go the double route. */
	char digits[JSON_NUMBER_MAX_LEN + 2];
	digits[0] = '[';
	memset(digits + 1, '9', JSON_NUMBER_MAX_LEN + 1);
	expect_error_n(digits, sizeof(digits), &roomy, -E2BIG, 1);
}

static void assert_string_is(const char *json, const char *bytes, size_t len)
{
	struct json_doc *doc = parse(json);
	size_t got_len = 999;
	const char *s = json_string(json_root(doc), &got_len);
	assert_non_null(s);
	assert_int_equal(got_len, len);
	assert_memory_equal(s, bytes, len);
	assert_int_equal(s[len], '\0');
	json_free(doc);
}

static void test_strings_and_escapes(void **state)
{
	assert_string_is("\"\"", "", 0);
	assert_string_is("\"plain text\"", "plain text", 10);
	assert_string_is("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
	assert_string_is("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
	assert_string_is("\"\\u0000x\"", "\0x", 2);
	assert_string_is("\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"",
			 "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf", 11);
	/* Surrogate pairs become 4-byte UTF-8, both at the edges of the range. */
	assert_string_is("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
	assert_string_is("\"\\uD800\\uDC00\"", "\xf0\x90\x80\x80", 4);
	assert_string_is("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
	/* Escapes back to back, after a \u escape that decodes to one byte. */
	assert_string_is("\"\\u0041\\n\\u0042\\\\\"", "A\nB\\", 4);
	/* Raw UTF-8 passes through unchanged. */
	assert_string_is("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
			 "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	assert_string_is("\"a\x7f" "b\"", "a\x7f" "b", 3);

	struct json_doc *doc = parse("1");
	assert_null(json_string(json_root(doc), NULL));
	json_free(doc);
	assert_null(json_string(NULL, NULL));
}

static char *nested(size_t depth, char open, char close, const char *inner)
{
	size_t il = strlen(inner);
	char *s = malloc(2 * depth + il + 1);
	assert_non_null(s);
	memset(s, open, depth);
	memcpy(s + depth, inner, il);
	memset(s + depth + il, close, depth);
	s[2 * depth + il] = '\0';
	return s;
}

static void test_depth_limit(void **state)
{
	struct json_limits lim = {.max_input = 1 << 20, .max_depth = 32, .max_nodes = 1000};

	char *s = nested(32, '[', ']', "1");
	json_free(parse_n(s, strlen(s), &lim));
	free(s);
	s = nested(33, '[', ']', "1");
	expect_error_n(s, strlen(s), &lim, -E2BIG, 32);
	free(s);
	/* Still refused when the document is cut off: the limit triggers first. */
	s = nested(1000, '[', ']', "");
	expect_error_n(s, 1000, &lim, -E2BIG, 32);
	free(s);

	/* Objects count the same as arrays. */
	char obj[32 * 6 + 8] = "";
	size_t o = 0;
	for (int i = 0; i < 33; i++)
		o += (size_t)snprintf(obj + o, sizeof(obj) - o, "{\"k\":");
	assert_true(o < sizeof(obj));
	expect_error_n(obj, o, &lim, -E2BIG, 32 * 5);

	/* Depth 0 allows only scalars. */
	lim.max_depth = 0;
	json_free(parse_n("\"s\"", 3, &lim));
	expect_error_n("[]", 2, &lim, -E2BIG, 0);

	/* Caller limits above the hard ceiling are clamped to it. */
	lim.max_depth = 100000;
	s = nested(JSON_DEPTH_MAX, '[', ']', "");
	json_free(parse_n(s, strlen(s), &lim));
	free(s);
	s = nested(JSON_DEPTH_MAX + 1, '[', ']', "");
	expect_error_n(s, strlen(s), &lim, -E2BIG, JSON_DEPTH_MAX);
	free(s);
}

static void test_node_limit(void **state)
{
	struct json_limits lim = {.max_input = 1 << 20, .max_depth = 8, .max_nodes = 3};

	struct json_doc *doc = parse_n("[1,2]", 5, &lim);
	assert_int_equal(json_node_count(doc), 3);
	json_free(doc);
	expect_error_n("[1,2,3]", 7, &lim, -E2BIG, 5);
	expect_error_n("{\"a\":1,\"b\":[0]}", 15, &lim, -E2BIG, 12);
	lim.max_nodes = 0;
	expect_error_n("0", 1, &lim, -E2BIG, 0);
}

static void test_input_limit_and_huge_strings(void **state)
{
	size_t n = 1 << 20;
	char *s = malloc(n + 2);
	assert_non_null(s);
	s[0] = '"';
	memset(s + 1, 'x', n);
	s[n + 1] = '"';

	struct json_limits lim = {.max_input = n + 2, .max_depth = 1, .max_nodes = 1};
	struct json_doc *doc = parse_n(s, n + 2, &lim);
	size_t len = 0;
	assert_non_null(json_string(json_root(doc), &len));
	assert_int_equal(len, n);
	json_free(doc);

	lim.max_input = n + 1;
	expect_error_n(s, n + 2, &lim, -E2BIG, n + 1);
	lim.max_input = 0;
	expect_error_n(s, n + 2, &lim, -E2BIG, 0);
	/* An empty input is within any limit and fails for what it is. */
	expect_error_n("", 0, &lim, -EINVAL, 0);
	free(s);
}

static void test_many_keys(void **state)
{
	/* 2000 distinct keys parse; a duplicate of an early key at the very end is found and
	 * reported at the second occurrence. */
	size_t cap = 2000 * 16 + 64, o = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	s[o++] = '{';
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s\"k%d\":%d", i ? "," : "", i, i);
	size_t before_dup = o;
	s[o++] = '}';
	struct json_doc *doc = parse_n(s, o, &roomy);
	const struct json_value *root = json_root(doc);
	assert_int_equal(json_length(root), 2000);
	int64_t v = -1;
	assert_int_equal(json_int64(json_get(root, "k1999"), &v), 0);
	assert_int_equal(v, 1999);
	assert_int_equal(json_int64(json_get(root, "k0"), &v), 0);
	assert_int_equal(v, 0);
	json_free(doc);

	o = before_dup;
	o += (size_t)snprintf(s + o, cap - o, ",\"k7\":0}");
	expect_error_n(s, o, &roomy, -EINVAL, before_dup + 1);
	free(s);

	/* Keys that are prefixes of each other, or differ only in length, are distinct. */
	doc = parse("{\"a\":1,\"ab\":2,\"\":3,\"b\":4,\"a\\u0000\":5}");
	assert_int_equal(json_length(json_root(doc)), 5);
	json_free(doc);
}

static void test_accessors(void **state)
{
	struct json_doc *doc =
		parse("{\"name\":\"vm0\",\"on\":true,\"off\":false,\"n\":null,"
		      "\"list\":[10,\"x\",[]],\"nul\\u0000key\":7,\"obj\":{\"inner\":1}}");
	const struct json_value *root = json_root(doc);
	const char *key;
	size_t key_len, len;
	bool b;

	assert_int_equal(json_type(root), JSON_OBJECT);
	assert_int_equal(json_length(root), 7);
	assert_int_equal(json_offset(root), 0);
	assert_string_equal(json_string(json_get(root, "name"), &len), "vm0");
	assert_int_equal(len, 3);
	assert_int_equal(json_bool(json_get(root, "on"), &b), 0);
	assert_true(b);
	assert_int_equal(json_bool(json_get(root, "off"), &b), 0);
	assert_false(b);
	assert_int_equal(json_bool(json_get(root, "n"), &b), -EINVAL);
	assert_int_equal(json_type(json_get(root, "n")), JSON_NULL);
	assert_int_equal(json_type(json_get(root, "missing")), JSON_ABSENT);
	assert_null(json_get(root, NULL));
	assert_null(json_get(json_get(root, "name"), "x"));

	const struct json_value *list = json_get(root, "list");
	assert_int_equal(json_type(list), JSON_ARRAY);
	assert_int_equal(json_length(list), 3);
	assert_int_equal(json_type(json_index(list, 0)), JSON_NUMBER);
	assert_int_equal(json_type(json_index(list, 1)), JSON_STRING);
	assert_int_equal(json_type(json_index(list, 2)), JSON_ARRAY);
	assert_int_equal(json_length(json_index(list, 2)), 0);
	assert_null(json_index(list, 3));
	assert_null(json_index(json_get(root, "name"), 0));
	assert_int_equal(json_length(json_get(root, "name")), 0);
	assert_null(json_member(list, 0, &key, &key_len));
	/* Offsets point at where each value starts. */
	assert_int_equal(json_offset(json_get(root, "name")), 8);

	/* Keys with NUL: only the length-aware lookup finds them. */
	assert_null(json_get(root, "nul"));
	const struct json_value *nk = json_get_n(root, "nul\0key", 7);
	assert_non_null(nk);
	int64_t v;
	assert_int_equal(json_int64(nk, &v), 0);
	assert_int_equal(v, 7);

	/* Members keep document order. */
	static const char *const order[] = {"name", "on", "off", "n", "list", "nul", "obj"};
	for (size_t i = 0; i < 7; i++) {
		const struct json_value *m = json_member(root, i, &key, &key_len);
		assert_non_null(m);
		assert_int_equal(strncmp(key, order[i], strlen(order[i])), 0);
		assert_ptr_equal(json_index(root, i), m);
	}
	assert_null(json_member(root, 7, &key, &key_len));
	assert_int_equal(json_node_count(doc), 12);
	assert_int_equal(json_type(NULL), JSON_ABSENT);
	assert_int_equal(json_length(NULL), 0);
	json_free(doc);
}

static void test_equal(void **state)
{
	struct json_doc *a = parse("{\"x\":[1,2.5,\"s\",null,true,{}],\"y\":-0}");
	struct json_doc *b = parse(" { \"x\" : [ 1e0 , 25e-1 , \"\\u0073\" , null , true , { } ] , \"y\" : 0 } ");
	struct json_doc *c = parse("{\"y\":0,\"x\":[1,2.5,\"s\",null,true,{}]}");
	struct json_doc *d = parse("{\"x\":[1,2.5,\"s\",null,false,{}],\"y\":0}");
	struct json_doc *e = parse("{\"x\":[1,2.5,\"s\",null,true,{}],\"z\":0}");
	assert_true(json_equal(json_root(a), json_root(b)));
	assert_false(json_equal(json_root(a), json_root(c))); /* member order matters */
	assert_false(json_equal(json_root(a), json_root(d)));
	assert_false(json_equal(json_root(a), json_root(e)));
	assert_true(json_equal(NULL, NULL));
	assert_false(json_equal(json_root(a), NULL));
	json_free(a);
	json_free(b);
	json_free(c);
	json_free(d);
	json_free(e);

	a = parse("9223372036854775807");
	b = parse("9223372036854775806");
	assert_false(json_equal(json_root(a), json_root(b))); /* equal as doubles, not as ints */
	json_free(a);
	json_free(b);
}

static void test_utf8_decode(void **state)
{
	struct {
		const char *bytes;
		size_t len;
		size_t want;
		uint32_t cp;
	} cases[] = {
		{"A", 1, 1, 0x41},
		{"\x7f", 1, 1, 0x7f},
		{"\xc2\x80", 2, 2, 0x80},
		{"\xdf\xbf", 2, 2, 0x7ff},
		{"\xe0\xa0\x80", 3, 3, 0x800},
		{"\xed\x9f\xbf", 3, 3, 0xd7ff},
		{"\xee\x80\x80", 3, 3, 0xe000},
		{"\xef\xbf\xbf", 3, 3, 0xffff},
		{"\xf0\x90\x80\x80", 4, 4, 0x10000},
		{"\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff},
		{"", 0, 0, 0},
		{"\x80", 1, 0, 0},
		{"\xc0\xaf", 2, 0, 0},
		{"\xc1\xbf", 2, 0, 0},
		{"\xc2", 1, 0, 0},
		{"\xc2\x41", 2, 0, 0},
		{"\xe0\x9f\xbf", 3, 0, 0},
		{"\xed\xa0\x80", 3, 0, 0},
		{"\xf0\x8f\xbf\xbf", 4, 0, 0},
		{"\xf4\x90\x80\x80", 4, 0, 0},
		{"\xf8\x88\x80\x80\x80", 5, 0, 0},
		{"\xfe", 1, 0, 0},
		{"\xe2\x82", 2, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t cp = 0xdeadbeef;
		size_t n = json_utf8_decode((const unsigned char *)cases[i].bytes, cases[i].len, &cp);
		if (n != cases[i].want)
			fail_msg("case %zu: got %zu want %zu", i, n, cases[i].want);
		if (n)
			assert_int_equal(cp, cases[i].cp);
	}
	assert_int_equal(json_utf8_decode((const unsigned char *)"\xc3\xa9", 2, NULL), 2);
}

static void test_two_documents_share_nothing(void **state)
{
	/* Each document is its own block: freeing one leaves the other intact. */
	struct json_doc *a = parse("{\"k\":\"first\"}");
	struct json_doc *b = parse("{\"k\":\"second\"}");
	json_free(a);
	assert_string_equal(json_string(json_get(json_root(b), "k"), NULL), "second");
	json_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_documents),
		cmocka_unit_test(test_invalid_documents),
		cmocka_unit_test(test_argument_checks),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_number_token_length),
		cmocka_unit_test(test_strings_and_escapes),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_input_limit_and_huge_strings),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_two_documents_share_nothing),
	};
	return cmocka_run_group_tests_name("api_json", tests, NULL, NULL);
}
