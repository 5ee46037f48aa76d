/* fuzz_api_request.c: hostile bytes into the management API server path.
 *
 * The input is used twice: as one request line for api_handle_line, and as a socket byte
 * stream cut into pseudo-random chunks (seeded by the input) through api_linebuf, each line
 * then handled. Every reply must be exactly one line of valid JSON holding "return" xor
 * "error", for both a roomy reply buffer and the smallest one the API promises to work with.
 * Fake ops whose success or failure is also chosen by the input stand in for the monitor.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/api.h"
#include "monitor/json.h"

struct fake {
	uint32_t mode;
};

static int fake_status(void *ctx, struct jbuf *out)
{
	struct fake *f = ctx;
	if (f->mode & 1)
		return -EIO;
	jbuf_member_string(out, "status", "running");
	jbuf_member_bool(out, "running", true);
	return 0;
}

static int fake_components(void *ctx, struct jbuf *out)
{
	struct fake *f = ctx;
	if (f->mode & 2)
		return -ENOENT;
	jbuf_key(out, "components");
	jbuf_array_begin(out);
	for (int i = 0; i < 3; i++) {
		jbuf_object_begin(out);
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
	return (f->mode & 4) ? -EPERM : 0;
}

static void check_reply(const struct jbuf *b, size_t from)
{
	static const struct json_limits lim = {.max_input = 8u << 20, .max_depth = 64, .max_nodes = 1u << 22};
	struct json_doc *doc = NULL;
	const char *line = b->data + from;
	size_t len = b->len - from;

	if (b->err || len < 2 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		abort();
	if (json_parse(line, len, &lim, &doc, NULL) != 0)
		abort();
	const struct json_value *root = json_root(doc);
	bool has_return = json_get(root, "return") != NULL, has_error = json_get(root, "error") != NULL;
	if (json_type(root) != JSON_OBJECT || has_return == has_error)
		abort();
	if (has_error) {
		const struct json_value *e = json_get(root, "error");
		if (!json_string(json_get(e, "class"), NULL) || !json_string(json_get(e, "desc"), NULL))
			abort();
	}
	json_free(doc);
}

static void handle(const struct api_ops *ops, const char *line, size_t len, struct jbuf *reply)
{
	size_t from = reply->len;
	int rc = api_handle_line(ops, line, len, reply);
	if (rc < 0 || rc > 1)
		abort();
	check_reply(reply, from);
}

static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seed = 2166136261u;
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	struct fake f = {.mode = seed & 7};
	struct api_ops ops = {
		.ctx = &f, .query_status = fake_status, .query_components = fake_components,
		.quit = fake_quit};
	struct jbuf reply;

	/* The whole input as one line, with a roomy and a minimal reply buffer. */
	jbuf_init(&reply, API_REPLY_RECOMMENDED);
	handle(&ops, (const char *)data, size, &reply);
	jbuf_reset(&reply);
	jbuf_free(&reply);
	jbuf_init(&reply, API_REPLY_MIN);
	handle(&ops, (const char *)data, size, &reply);
	jbuf_free(&reply);

	/* The input as a byte stream, framed by the line splitter. */
	struct api_linebuf lb;
	size_t max_line = (seed & 8) ? API_MAX_LINE : 16 + (seed >> 4) % 64;
	if (api_linebuf_init(&lb, max_line) != 0)
		abort();
	jbuf_init(&reply, (seed & 16) ? API_REPLY_MIN : API_REPLY_RECOMMENDED);
	size_t pos = 0;
	while (pos < size) {
		size_t chunk = 1 + next_rand(&seed) % 97;
		if (chunk > size - pos)
			chunk = size - pos;
		pos += api_linebuf_feed(&lb, data + pos, chunk);
		const char *line;
		size_t len;
		enum api_line_status st;
		while ((st = api_linebuf_next(&lb, &line, &len)) != API_LINE_NONE) {
			jbuf_reset(&reply);
			if (st == API_LINE_TOO_LONG) {
				if (api_reply_error(&reply, API_ERR_INVALID_REQUEST,
						    "request line too long", NULL) != 0)
					abort();
				check_reply(&reply, 0);
				continue;
			}
			if (len == 0 || len > max_line || memchr(line, '\n', len))
				abort();
			handle(&ops, line, len, &reply);
		}
	}
	jbuf_free(&reply);
	api_linebuf_free(&lb);
	return 0;
}
