/* test_api_dispatch.c: api_handle_line against fake ops: every command, every error class,
 * id echoing, callback failures and misbehaviour, reply size limits, events and greeting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/api.h"
#include "monitor/json.h"

enum behaviour { OK, FAIL_EIO, FAIL_AFTER_WRITING, LEAVE_OPEN, VALUE_WITHOUT_KEY, WRITE_HUGE };

struct fake {
	enum behaviour status, components, quit;
	int status_calls, components_calls, quit_calls;
};

static int fake_status(void *ctx, struct jbuf *out)
{
	struct fake *f = ctx;
	f->status_calls++;
	switch (f->status) {
	case OK:
		jbuf_member_string(out, "status", "running");
		jbuf_member_bool(out, "running", true);
		return 0;
	case FAIL_EIO:
		return -EIO;
	case FAIL_AFTER_WRITING:
		jbuf_key(out, "partial");
		jbuf_array_begin(out);
		return -EBUSY;
	case LEAVE_OPEN:
		jbuf_key(out, "open");
		jbuf_object_begin(out);
		return 0;
	case VALUE_WITHOUT_KEY:
		jbuf_int64(out, 1);
		return 0;
	case WRITE_HUGE:
		jbuf_key(out, "blob");
		jbuf_array_begin(out);
		for (int i = 0; i < 100000; i++)
			jbuf_string(out, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		jbuf_array_end(out);
		return 0;
	}
	return -EINVAL;
}

static int fake_components(void *ctx, struct jbuf *out)
{
	struct fake *f = ctx;
	f->components_calls++;
	if (f->components != OK)
		return -ENOENT;
	jbuf_key(out, "components");
	jbuf_array_begin(out);
	static const char *const names[] = {"vcpu0", "mmu", "serial"};
	for (int i = 0; i < 3; i++) {
		jbuf_object_begin(out);
		jbuf_member_string(out, "name", names[i]);
		jbuf_member_int64(out, "pid", 100 + i);
		jbuf_member_string(out, "state", "running");
		jbuf_object_end(out);
	}
	jbuf_array_end(out);
	return 0;
}

static int fake_quit(void *ctx, struct jbuf *out)
{
	struct fake *f = ctx;
	f->quit_calls++;
	return f->quit == OK ? 0 : -EPERM;
}

struct reply {
	int rc;
	struct json_doc *doc;
	const struct json_value *root;
	char text[1024]; /* first bytes of the reply line, for exact comparisons */
};

/* Runs one request and checks the framing every reply must have: exactly one line, valid
 * JSON, an object with either "return" or "error". */
static struct reply run_n(const struct api_ops *ops, const char *line, size_t len, size_t reply_max)
{
	static const struct json_limits lim = {.max_input = 1 << 24, .max_depth = 64, .max_nodes = 1 << 22};
	struct reply r;
	struct jbuf b;
	struct json_error err;

	memset(&r, 0, sizeof(r));
	jbuf_init(&b, reply_max);
	r.rc = api_handle_line(ops, line, len, &b);
	assert_int_equal(b.err, 0);
	assert_true(b.len > 1);
	assert_int_equal(b.data[b.len - 1], '\n');
	assert_null(memchr(b.data, '\n', b.len - 1));
	assert_true(b.len <= reply_max);
	if (json_parse(b.data, b.len, &lim, &r.doc, &err) != 0)
		fail_msg("reply is not JSON: %s", b.data);
	r.root = json_root(r.doc);
	assert_int_equal(json_type(r.root), JSON_OBJECT);
	assert_true((json_get(r.root, "return") != NULL) != (json_get(r.root, "error") != NULL));
	snprintf(r.text, sizeof(r.text), "%s", b.data);
	jbuf_free(&b);
	return r;
}

static struct reply run(const struct api_ops *ops, const char *line)
{
	return run_n(ops, line, strlen(line), API_REPLY_RECOMMENDED);
}

static void expect_error(struct reply *r, const char *cls, const char *desc_part)
{
	const struct json_value *e = json_get(r->root, "error");
	if (!e)
		fail_msg("expected %s error, got %s", cls, r->text);
	assert_int_equal(json_length(e), 2);
	assert_string_equal(json_string(json_get(e, "class"), NULL), cls);
	const char *desc = json_string(json_get(e, "desc"), NULL);
	assert_non_null(desc);
	if (desc_part && !strstr(desc, desc_part))
		fail_msg("desc '%s' lacks '%s'", desc, desc_part);
}

static void done(struct reply *r)
{
	json_free(r->doc);
}

static struct api_ops ops_for(struct fake *f)
{
	struct api_ops ops = {
		.ctx = f, .query_status = fake_status, .query_components = fake_components,
		.quit = fake_quit};
	return ops;
}

static void test_query_status(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);

	struct reply r = run(&ops, "{\"execute\":\"query-status\"}");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.text, "{\"return\":{\"status\":\"running\",\"running\":true}}\n");
	assert_int_equal(f.status_calls, 1);
	done(&r);

	/* Arguments may be given as an empty object; whitespace and CR are fine. */
	r = run(&ops, " { \"arguments\" : { } , \"execute\" : \"query-status\" , \"id\" : 7 } \r");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.text,
			    "{\"return\":{\"status\":\"running\",\"running\":true},\"id\":7}\n");
	done(&r);
}

static void test_query_components(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);

	struct reply r = run(&ops, "{\"execute\":\"query-components\",\"id\":\"c1\"}");
	assert_int_equal(r.rc, 0);
	const struct json_value *list = json_get(json_get(r.root, "return"), "components");
	assert_int_equal(json_length(list), 3);
	assert_string_equal(json_string(json_get(json_index(list, 1), "name"), NULL), "mmu");
	assert_string_equal(json_string(json_get(r.root, "id"), NULL), "c1");
	assert_int_equal(f.components_calls, 1);
	assert_int_equal(f.status_calls, 0);
	done(&r);
}

static void test_quit(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);

	struct reply r = run(&ops, "{\"execute\":\"quit\",\"id\":1}");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.text, "{\"return\":{},\"id\":1}\n");
	assert_int_equal(f.quit_calls, 1);
	done(&r);

	/* A refused quit is an ordinary error and does not ask the monitor to stop. */
	f.quit = FAIL_EIO;
	r = run(&ops, "{\"execute\":\"quit\"}");
	assert_int_equal(r.rc, 0);
	expect_error(&r, "GenericError", "quit failed: Operation not permitted");
	done(&r);
}

struct seen {
	int n;
	const struct json_value *list;
};

static void check_listed(void *ctx, const char *name, const char *description)
{
	struct seen *s = ctx;
	const struct json_value *item = json_index(s->list, (size_t)s->n);
	assert_non_null(item);
	assert_string_equal(json_string(json_get(item, "name"), NULL), name);
	assert_string_equal(json_string(json_get(item, "description"), NULL), description);
	assert_true(strlen(description) > 10);
	s->n++;
}

static void test_query_commands(void **state)
{
	/* Works without any ops: the handler answers it from its own table. */
	struct reply r = run(NULL, "{\"execute\":\"query-commands\",\"id\":null}");
	assert_int_equal(r.rc, 0);
	assert_int_equal(json_type(json_get(r.root, "id")), JSON_NULL);
	struct seen s = {0, json_get(json_get(r.root, "return"), "commands")};
	assert_int_equal(json_length(s.list), 4);
	api_for_each_command(check_listed, &s);
	assert_int_equal(s.n, 4);
	static const char *const want[] = {"query-status", "query-components", "query-commands",
					   "quit"};
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(json_string(json_get(json_index(s.list, i), "name"), NULL),
				    want[i]);
	done(&r);
}

static void test_id_echo(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);
	static const char *const ids[] = {
		"0", "-1.5", "\"text\"", "\"\\u0000\\n\\ud83d\\ude00\"", "true", "null", "[]",
		"{\"nested\":[1,{\"deep\":\"x\"},null],\"k\":false}", "123456789012345678901234",
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char line[256];
		snprintf(line, sizeof(line), "{\"id\":%s,\"execute\":\"query-status\"}", ids[i]);
		struct reply r = run(&ops, line);
		struct json_doc *want = NULL;
		assert_int_equal(json_parse(ids[i], strlen(ids[i]), &(struct json_limits){1024, 8, 64},
					    &want, NULL),
				 0);
		assert_true(json_equal(json_get(r.root, "id"), json_root(want)));
		json_free(want);
		done(&r);

		/* Errors echo it too, as long as the request was an object. */
		snprintf(line, sizeof(line), "{\"id\":%s,\"execute\":\"no-such\"}", ids[i]);
		r = run(&ops, line);
		expect_error(&r, "CommandNotFound", "no-such");
		assert_non_null(json_get(r.root, "id"));
		done(&r);
	}

	/* No id in, no id out. */
	struct reply r = run(&ops, "{\"execute\":\"query-status\"}");
	assert_null(json_get(r.root, "id"));
	done(&r);
}

static void test_command_not_found(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);

	int n;
	struct reply r = run(&ops, "{\"execute\":\"stop\",\"id\":3}");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.text, "{\"error\":{\"class\":\"CommandNotFound\","
				    "\"desc\":\"the command 'stop' has not been found\"},\"id\":3}\n");
	done(&r);

	/* Near misses do not match: prefix, case, trailing space, embedded NUL. */
	static const char *const near[] = {"query", "Query-Status", "query-status ", "quit\\u0000",
					   ""};
	for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line), "{\"execute\":\"%s\"}", near[i]);
		r = run(&ops, line);
		expect_error(&r, "CommandNotFound", NULL);
		done(&r);
	}
	assert_int_equal(f.status_calls + f.quit_calls, 0);

	/* Control characters and NULs in a quoted name are shown as '?'. */
	r = run(&ops, "{\"execute\":\"a\\u0000b\\u0001\\n\\u00e9\"}");
	expect_error(&r, "CommandNotFound", "the command 'a?b??\xc3\xa9' has not been found");
	done(&r);
	r = run(&ops, "{\"execute\":\"quit\",\"\\u001b[31m\":1}");
	expect_error(&r, "InvalidRequest", "unexpected member '?[31m'");
	done(&r);

	/* A long name is quoted only in part, and a UTF-8 sequence cut at the limit becomes '?'. */
	char cut[200];
	n = snprintf(cut, sizeof(cut), "{\"execute\":\"");
	memset(cut + n, 'y', 63);
	snprintf(cut + n + 63, sizeof(cut) - (size_t)n - 63, "\xe2\x82\xac\"}");
	r = run(&ops, cut);
	expect_error(&r, "CommandNotFound", "yyy?' has not been found");
	done(&r);

	/* A long name is quoted only in part. */
	char line[1200];
	n = snprintf(line, sizeof(line), "{\"execute\":\"");
	memset(line + n, 'z', 1000);
	snprintf(line + n + 1000, sizeof(line) - (size_t)n - 1000, "\"}");
	r = run(&ops, line);
	expect_error(&r, "CommandNotFound", "zzzz");
	assert_true(strlen(json_string(json_get(json_get(r.root, "error"), "desc"), NULL)) < 200);
	done(&r);
}

static void test_invalid_request(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);
	static const struct {
		const char *line;
		const char *desc_part;
	} cases[] = {
		{"[]", "must be a JSON object"},
		{"1", "must be a JSON object"},
		{"\"query-status\"", "must be a JSON object"},
		{"null", "must be a JSON object"},
		{"[{\"execute\":\"quit\"}]", "must be a JSON object"},
		{"{}", "no 'execute'"},
		{"{\"id\":1}", "no 'execute'"},
		{"{\"arguments\":{}}", "no 'execute'"},
		{"{\"execute\":1}", "'execute' must be a string"},
		{"{\"execute\":null}", "'execute' must be a string"},
		{"{\"execute\":[\"quit\"]}", "'execute' must be a string"},
		{"{\"execute\":{\"name\":\"quit\"}}", "'execute' must be a string"},
		{"{\"execute\":\"quit\",\"arguments\":[]}", "'arguments' must be an object"},
		{"{\"execute\":\"quit\",\"arguments\":null}", "'arguments' must be an object"},
		{"{\"execute\":\"quit\",\"arguments\":\"x\"}", "'arguments' must be an object"},
		{"{\"execute\":\"quit\",\"extra\":1}", "unexpected member 'extra'"},
		{"{\"execute\":\"quit\",\"Execute\":\"quit\"}", "unexpected member 'Execute'"},
		{"{\"execute\":\"nope\",\"extra\":1}", "unexpected member 'extra'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reply r = run(&ops, cases[i].line);
		assert_int_equal(r.rc, 0);
		expect_error(&r, "InvalidRequest", cases[i].desc_part);
		done(&r);
	}
	assert_int_equal(f.quit_calls, 0);

	/* The id is still echoed when the request is an object. */
	struct reply r = run(&ops, "{\"id\":\"abc\",\"execute\":5}");
	expect_error(&r, "InvalidRequest", NULL);
	assert_string_equal(json_string(json_get(r.root, "id"), NULL), "abc");
	done(&r);
}

static void test_unexpected_arguments(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);

	struct reply r = run(&ops, "{\"execute\":\"query-status\",\"arguments\":{\"verbose\":true},\"id\":2}");
	assert_int_equal(r.rc, 0);
	expect_error(&r, "GenericError", "parameter 'verbose' is unexpected");
	assert_int_equal(f.status_calls, 0);
	done(&r);

	r = run(&ops, "{\"execute\":\"quit\",\"arguments\":{\"force\":1}}");
	assert_int_equal(r.rc, 0);
	expect_error(&r, "GenericError", "'force'");
	assert_int_equal(f.quit_calls, 0);
	done(&r);
}

static void test_parse_error(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);
	static const struct {
		const char *line;
		const char *desc_part;
	} cases[] = {
		{"{", "at byte 1"},
		{"not json", "at byte 0"},
		{"{\"execute\":\"quit\",}", "at byte 18"},
		{"{\"execute\":\"quit\"} x", "at byte 19"},
		{"{\"execute\":'quit'}", "at byte 11"},
		{"{\"execute\":\"quit\",\"execute\":\"quit\"}", "duplicate object key"},
		{"", "empty input"},
		{"   ", "empty input"},
		{"{\"execute\":\"qu\\x\"}", "invalid escape"},
		{"{\"execute\":\"quit\",\"id\":01}", "leading zero"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reply r = run(&ops, cases[i].line);
		assert_int_equal(r.rc, 0);
		expect_error(&r, "ParseError", cases[i].desc_part);
		assert_null(json_get(r.root, "id"));
		done(&r);
	}
	assert_int_equal(f.quit_calls, 0);

	/* Invalid UTF-8 in a request becomes U+FFFD in nothing: the request is refused. */
	struct reply r = run(&ops, "{\"execute\":\"\xff\"}");
	expect_error(&r, "ParseError", "UTF-8");
	done(&r);

	/* Nesting beyond API_MAX_DEPTH. */
	char deep[256];
	int n = snprintf(deep, sizeof(deep), "{\"execute\":\"quit\",\"id\":");
	for (int i = 0; i < API_MAX_DEPTH; i++)
		deep[n++] = '[';
	for (int i = 0; i < API_MAX_DEPTH; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	r = run(&ops, deep);
	expect_error(&r, "ParseError", "nesting too deep");
	done(&r);
	assert_int_equal(f.quit_calls, 0);

	/* NUL bytes inside the line are syntax errors, not terminators. */
	r = run_n(&ops, "{\"execute\":\"quit\"}\0junk", 23, API_REPLY_RECOMMENDED);
	expect_error(&r, "ParseError", "at byte 18");
	done(&r);
	assert_int_equal(f.quit_calls, 0);
}

static void test_line_and_node_limits(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);

	/* A line of exactly API_MAX_LINE bytes is handled; one more byte is refused. */
	size_t cap = API_MAX_LINE + 2;
	char *line = malloc(cap);
	assert_non_null(line);
	const char *head = "{\"execute\":\"query-status\",\"id\":\"";
	size_t hl = strlen(head);
	memcpy(line, head, hl);
	memset(line + hl, 'i', API_MAX_LINE - hl - 2);
	memcpy(line + API_MAX_LINE - 2, "\"}", 2);
	struct reply r = run_n(&ops, line, API_MAX_LINE, API_REPLY_RECOMMENDED);
	assert_non_null(json_get(r.root, "return"));
	size_t id_len = 0;
	assert_non_null(json_string(json_get(r.root, "id"), &id_len));
	assert_int_equal(id_len, API_MAX_LINE - hl - 2);
	done(&r);

	line[API_MAX_LINE - 1] = ' ';
	line[API_MAX_LINE] = '}';
	line[API_MAX_LINE - 2] = '"';
	r = run_n(&ops, line, API_MAX_LINE + 1, API_REPLY_RECOMMENDED);
	expect_error(&r, "ParseError", "input too large");
	done(&r);

	/* Too many values. */
	size_t o = (size_t)snprintf(line, cap, "{\"execute\":\"quit\",\"id\":[");
	for (int i = 0; i < API_MAX_NODES; i++)
		o += (size_t)snprintf(line + o, cap - o, "%s0", i ? "," : "");
	o += (size_t)snprintf(line + o, cap - o, "]}");
	r = run_n(&ops, line, o, API_REPLY_RECOMMENDED);
	expect_error(&r, "ParseError", "too many values");
	done(&r);
	assert_int_equal(f.quit_calls, 0);
	free(line);
}

static void test_callback_failures(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);

	f.status = FAIL_EIO;
	struct reply r = run(&ops, "{\"execute\":\"query-status\",\"id\":9}");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.text, "{\"error\":{\"class\":\"GenericError\","
				    "\"desc\":\"query-status failed: Input/output error\"},\"id\":9}\n");
	done(&r);

	/* Whatever the callback wrote before failing is discarded. */
	f.status = FAIL_AFTER_WRITING;
	r = run(&ops, "{\"execute\":\"query-status\"}");
	expect_error(&r, "GenericError", "Device or resource busy");
	assert_null(strstr(r.text, "partial"));
	done(&r);

	f.components = FAIL_EIO;
	r = run(&ops, "{\"execute\":\"query-components\"}");
	expect_error(&r, "GenericError", "query-components failed");
	done(&r);

	/* Missing callbacks, and no ops at all. */
	struct api_ops none = {.ctx = &f};
	static const char *const cmds[] = {"query-status", "query-components", "quit"};
	for (size_t i = 0; i < 3; i++) {
		char line[64];
		snprintf(line, sizeof(line), "{\"execute\":\"%s\"}", cmds[i]);
		r = run(&none, line);
		assert_int_equal(r.rc, 0);
		expect_error(&r, "GenericError", "is not available");
		done(&r);
		r = run(NULL, line);
		assert_int_equal(r.rc, 0);
		expect_error(&r, "GenericError", "is not available");
		done(&r);
	}
}

static void test_misbehaving_callbacks(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);

	f.status = LEAVE_OPEN;
	struct reply r = run(&ops, "{\"execute\":\"query-status\",\"id\":1}");
	expect_error(&r, "GenericError", "internal error");
	assert_int_equal(json_type(json_get(r.root, "id")), JSON_NUMBER);
	done(&r);

	f.status = VALUE_WITHOUT_KEY;
	r = run(&ops, "{\"execute\":\"query-status\"}");
	expect_error(&r, "GenericError", "internal error");
	done(&r);

	/* A reply bigger than the buffer's cap turns into a short error. */
	f.status = WRITE_HUGE;
	r = run_n(&ops, "{\"execute\":\"query-status\",\"id\":4}", 33, 4096);
	expect_error(&r, "GenericError", "reply too large");
	assert_int_equal(json_type(json_get(r.root, "id")), JSON_NUMBER);
	done(&r);
}

static void test_small_reply_buffer_drops_id(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);
	char line[2048];
	int n = snprintf(line, sizeof(line), "{\"execute\":\"query-status\",\"id\":\"");
	memset(line + n, 'q', 1500);
	snprintf(line + n + 1500, sizeof(line) - (size_t)n - 1500, "\"}");

	/* The id cannot fit in API_REPLY_MIN bytes, so the error goes out without it. */
	struct reply r = run_n(&ops, line, strlen(line), API_REPLY_MIN);
	expect_error(&r, "GenericError", "reply too large");
	assert_null(json_get(r.root, "id"));
	done(&r);

	/* Same for an error reply whose id is too large. */
	memcpy(line + 12, "nosuchcmd-xx", 12);
	r = run_n(&ops, line, strlen(line), API_REPLY_MIN);
	expect_error(&r, "CommandNotFound", NULL);
	assert_null(json_get(r.root, "id"));
	done(&r);

	/* Below API_REPLY_MIN even that may not fit: an error code and nothing appended. */
	struct jbuf b;
	jbuf_init(&b, 20);
	assert_true(api_handle_line(&ops, "{\"execute\":\"stop\"}", 18, &b) < 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.err, 0);
	jbuf_free(&b);
}

static void test_appends_to_existing_output(void **state)
{
	struct fake f = {0};
	struct api_ops ops = ops_for(&f);
	struct jbuf b;

	jbuf_init(&b, 4096);
	assert_int_equal(api_format_greeting(&b, "0.1"), 0);
	size_t first = b.len;
	assert_int_equal(api_handle_line(&ops, "{\"execute\":\"quit\"}", 18, &b), 1);
	assert_int_equal(api_handle_line(&ops, "{\"execute\":\"x\"}", 15, &b), 0);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.data + first,
			    "{\"return\":{}}\n"
			    "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"the command 'x' has not been found\"}}\n");

	/* Refuses to write into the middle of something else. */
	jbuf_object_begin(&b);
	size_t len = b.len;
	assert_int_equal(api_handle_line(&ops, "{\"execute\":\"quit\"}", 18, &b), -EINVAL);
	assert_int_equal(b.len, len);
	assert_int_equal(f.quit_calls, 1);
	jbuf_free(&b);
}

static void test_reply_error_helper(void **state)
{
	struct jbuf b;
	jbuf_init(&b, 4096);

	assert_int_equal(api_reply_error(&b, API_ERR_INVALID_REQUEST, "request line longer than 65536 bytes", NULL), 0);
	assert_string_equal(b.data, "{\"error\":{\"class\":\"InvalidRequest\","
				    "\"desc\":\"request line longer than 65536 bytes\"}}\n");

	struct json_doc *id = NULL;
	assert_int_equal(json_parse("[1,\"a\"]", 7, &(struct json_limits){64, 4, 8}, &id, NULL), 0);
	jbuf_reset(&b);
	assert_int_equal(api_reply_error(&b, API_ERR_PARSE, "bad \"thing\"\n", json_root(id)), 0);
	assert_string_equal(b.data, "{\"error\":{\"class\":\"ParseError\","
				    "\"desc\":\"bad \\\"thing\\\"\\u000a\"},\"id\":[1,\"a\"]}\n");
	json_free(id);

	jbuf_reset(&b);
	assert_int_equal(api_reply_error(&b, (enum api_error_class)42, "x", NULL), -EINVAL);
	assert_int_equal(api_reply_error(&b, API_ERR_GENERIC, NULL, NULL), 0);
	assert_string_equal(b.data, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"\"}}\n");
	jbuf_free(&b);

	assert_string_equal(api_error_class_name(API_ERR_GENERIC), "GenericError");
	assert_string_equal(api_error_class_name(API_ERR_COMMAND_NOT_FOUND), "CommandNotFound");
	assert_string_equal(api_error_class_name(API_ERR_INVALID_REQUEST), "InvalidRequest");
	assert_string_equal(api_error_class_name(API_ERR_PARSE), "ParseError");
	assert_null(api_error_class_name((enum api_error_class)-1));
}

static int event_data(void *ctx, struct jbuf *out)
{
	jbuf_member_string(out, "component", ctx);
	jbuf_member_int64(out, "status", 139);
	return 0;
}

static int event_fails(void *ctx, struct jbuf *out)
{
	jbuf_member_string(out, "half", "written");
	return -EIO;
}

static int event_misbehaves(void *ctx, struct jbuf *out)
{
	jbuf_key(out, "dangling");
	return 0;
}

static void test_events_and_greeting(void **state)
{
	struct jbuf b;
	jbuf_init(&b, 4096);
	struct api_timestamp ts = {1700000000, 123456};

	assert_int_equal(api_format_event(&b, "COMPONENT_EXIT", event_data, "vcpu0", ts), 0);
	assert_string_equal(b.data, "{\"event\":\"COMPONENT_EXIT\",\"data\":{\"component\":\"vcpu0\","
				    "\"status\":139},\"timestamp\":{\"seconds\":1700000000,"
				    "\"microseconds\":123456}}\n");
	size_t len = b.len;
	assert_int_equal(api_format_event(&b, "SHUTDOWN", NULL, NULL, ts), 0);
	assert_string_equal(b.data + len, "{\"event\":\"SHUTDOWN\",\"data\":{},\"timestamp\":"
					  "{\"seconds\":1700000000,\"microseconds\":123456}}\n");

	/* Failures leave the buffer as it was. */
	len = b.len;
	assert_int_equal(api_format_event(&b, "X", event_fails, NULL, ts), -EIO);
	assert_int_equal(b.len, len);
	assert_int_equal(b.err, 0);
	assert_int_equal(api_format_event(&b, "X", event_misbehaves, NULL, ts), -EINVAL);
	assert_int_equal(b.len, len);
	assert_int_equal(api_format_event(&b, "", NULL, NULL, ts), -EINVAL);
	assert_int_equal(api_format_event(&b, NULL, NULL, NULL, ts), -EINVAL);
	assert_int_equal(b.len, len);
	jbuf_free(&b);

	/* Out of space: an error code, nothing appended. */
	char mem[64];
	jbuf_init_fixed(&b, mem, sizeof(mem));
	assert_int_equal(api_format_event(&b, "COMPONENT_EXIT", event_data, "vcpu0", ts), -E2BIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.err, 0);

	jbuf_init(&b, 4096);
	assert_int_equal(api_format_greeting(&b, "0.1.0"), 0);
	assert_string_equal(b.data, "{\"cloister\":{\"version\":\"0.1.0\",\"protocol\":1}}\n");
	jbuf_free(&b);
	jbuf_init_fixed(&b, mem, 10);
	assert_int_equal(api_format_greeting(&b, "0.1.0"), -E2BIG);
	assert_int_equal(b.len, 0);

	struct api_timestamp now = api_timestamp_now();
	assert_true(now.seconds > 1600000000);
	assert_true(now.microseconds >= 0 && now.microseconds < 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_status),
		cmocka_unit_test(test_query_components),
		cmocka_unit_test(test_quit),
		cmocka_unit_test(test_query_commands),
		cmocka_unit_test(test_id_echo),
		cmocka_unit_test(test_command_not_found),
		cmocka_unit_test(test_invalid_request),
		cmocka_unit_test(test_unexpected_arguments),
		cmocka_unit_test(test_parse_error),
		cmocka_unit_test(test_line_and_node_limits),
		cmocka_unit_test(test_callback_failures),
		cmocka_unit_test(test_misbehaving_callbacks),
		cmocka_unit_test(test_small_reply_buffer_drops_id),
		cmocka_unit_test(test_appends_to_existing_output),
		cmocka_unit_test(test_reply_error_helper),
		cmocka_unit_test(test_events_and_greeting),
	};
	return cmocka_run_group_tests_name("api_dispatch", tests, NULL, NULL);
}
