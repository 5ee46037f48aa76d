/* api.c: management API request dispatch, reply/event formatting, and server-side line framing.
 *
 * Trusts nothing in a request line: it is parsed under fixed limits, its shape is checked
 * before any callback runs, and everything echoed back (id, names) is re-serialized by the
 * writer rather than copied. Trusts the api_ops callbacks, but still checks that what they
 * wrote is well formed before sending it, so a buggy callback cannot break the framing.
 */
#define _GNU_SOURCE
#include "monitor/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest excerpt of client-supplied text (command or member names) quoted in a desc. */
#define QUOTE_MAX 64

struct api_failure {
	enum api_error_class cls;
	char desc[256];
};

/* Runs a command: writes members of the "return" object. Returns 0, 1 for "quit the
 * monitor", or a negative errno with f filled in. */
typedef int (*api_handler_fn)(const struct api_ops *ops, const struct json_value *args,
			      struct jbuf *out, struct api_failure *f);

struct api_command {
	const char *name;
	api_handler_fn run;
	const char *const *args; /* accepted argument names, NULL-terminated; NULL: takes none */
	const char *description;
};

static int cmd_query_status(const struct api_ops *ops, const struct json_value *args,
			    struct jbuf *out, struct api_failure *f);
static int cmd_query_components(const struct api_ops *ops, const struct json_value *args,
				struct jbuf *out, struct api_failure *f);
static int cmd_query_commands(const struct api_ops *ops, const struct json_value *args,
			      struct jbuf *out, struct api_failure *f);
static int cmd_quit(const struct api_ops *ops, const struct json_value *args, struct jbuf *out,
		    struct api_failure *f);

/* Adding a command is one line here plus its handler. */
static const struct api_command commands[] = {
	{"query-status", cmd_query_status, NULL, "Report the VM run state and monitor status."},
	{"query-components", cmd_query_components, NULL,
	 "List the sandboxed component processes and their state."},
	{"query-commands", cmd_query_commands, NULL, "List the commands this server accepts."},
	{"quit", cmd_quit, NULL, "Stop the VM and exit the monitor."},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *api_error_class_name(enum api_error_class cls)
{
	switch (cls) {
	case API_ERR_GENERIC: return "GenericError";
	case API_ERR_COMMAND_NOT_FOUND: return "CommandNotFound";
	case API_ERR_INVALID_REQUEST: return "InvalidRequest";
	case API_ERR_PARSE: return "ParseError";
	}
	return NULL;
}

void api_for_each_command(void (*fn)(void *ctx, const char *name, const char *description),
			  void *ctx)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		fn(ctx, commands[i].name, commands[i].description);
}

static int set_failure(struct api_failure *f, enum api_error_class cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_failure(struct api_failure *f, enum api_error_class cls, const char *fmt, ...)
{
	va_list ap;

	f->cls = cls;
	va_start(ap, fmt);
	vsnprintf(f->desc, sizeof(f->desc), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *errno_text(int rc)
{
	const char *s = rc < 0 ? strerrordesc_np(-rc) : NULL;
	return s ? s : "unknown error";
}

/* A short, printable excerpt of a client string for a desc: at most QUOTE_MAX bytes, control
 * characters, NULs and any UTF-8 sequence cut by the limit shown as '?'. Keeps error lines
 * small (so they fit in API_REPLY_MIN) and readable. */
static const char *excerpt(char out[QUOTE_MAX + 1], const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = len < QUOTE_MAX ? len : QUOTE_MAX, i = 0, o = 0;

	while (i < n) {
		size_t k = json_utf8_decode(u + i, n - i, NULL);
		if (k == 0 || (k == 1 && (u[i] < 0x20 || u[i] == 0x7F))) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

static int call_op(int (*fn)(void *ctx, struct jbuf *out), const struct api_ops *ops,
		   struct jbuf *out, struct api_failure *f, const char *name)
{
	if (!fn)
		return set_failure(f, API_ERR_GENERIC, "%s is not available", name);
	int rc = fn(ops->ctx, out);
	if (rc != 0)
		return set_failure(f, API_ERR_GENERIC, "%s failed: %s", name, errno_text(rc));
	return 0;
}

static int cmd_query_status(const struct api_ops *ops, const struct json_value *args,
			    struct jbuf *out, struct api_failure *f)
{
	return call_op(ops ? ops->query_status : NULL, ops, out, f, "query-status");
}

static int cmd_query_components(const struct api_ops *ops, const struct json_value *args,
				struct jbuf *out, struct api_failure *f)
{
	return call_op(ops ? ops->query_components : NULL, ops, out, f, "query-components");
}

static int cmd_quit(const struct api_ops *ops, const struct json_value *args, struct jbuf *out,
		    struct api_failure *f)
{
	int rc = call_op(ops ? ops->quit : NULL, ops, out, f, "quit");
	return rc ? rc : 1;
}

static int cmd_query_commands(const struct api_ops *ops, const struct json_value *args,
			      struct jbuf *out, struct api_failure *f)
{
	jbuf_key(out, "commands");
	jbuf_array_begin(out);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		jbuf_object_begin(out);
		jbuf_member_string(out, "name", commands[i].name);
		jbuf_member_string(out, "description", commands[i].description);
		jbuf_object_end(out);
	}
	jbuf_array_end(out);
	return 0;
}

static void write_error(struct jbuf *reply, enum api_error_class cls, const char *desc,
			const struct json_value *id)
{
	jbuf_object_begin(reply);
	jbuf_key(reply, "error");
	jbuf_object_begin(reply);
	jbuf_member_string(reply, "class", api_error_class_name(cls));
	jbuf_member_string(reply, "desc", desc);
	jbuf_object_end(reply);
	if (id) {
		jbuf_key(reply, "id");
		json_write_value(reply, id);
	}
	jbuf_object_end(reply);
	jbuf_newline(reply);
}

/* Replaces everything after mark with one error line; drops the id if it is what does not fit. */
static int emit_error(struct jbuf *reply, size_t mark, enum api_error_class cls, const char *desc,
		      const struct json_value *id)
{
	jbuf_rewind(reply, mark);
	write_error(reply, cls, desc, id);
	if (!reply->err)
		return 0;
	if (id) {
		jbuf_rewind(reply, mark);
		write_error(reply, cls, desc, NULL);
		if (!reply->err)
			return 0;
	}
	int rc = reply->err;
	jbuf_rewind(reply, mark);
	return rc;
}

int api_reply_error(struct jbuf *reply, enum api_error_class cls, const char *desc,
		    const struct json_value *id)
{
	if (reply->err || reply->depth != 0 || !api_error_class_name(cls))
		return -EINVAL;
	return emit_error(reply, reply->len, cls, desc ? desc : "", id);
}

static const struct api_command *find_command(const char *name, size_t len)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strlen(commands[i].name) == len && memcmp(commands[i].name, name, len) == 0)
			return &commands[i];
	}
	return NULL;
}

static bool arg_allowed(const struct api_command *cmd, const char *key, size_t key_len)
{
	for (const char *const *a = cmd->args; a && *a; a++) {
		if (strlen(*a) == key_len && memcmp(*a, key, key_len) == 0)
			return true;
	}
	return false;
}

/* Checks the request's shape and finds its command; fills f and returns NULL if it is bad. */
static const struct api_command *check_request(const struct json_value *root,
					       const struct json_value **args,
					       struct api_failure *f)
{
	const struct json_value *execute, *arguments;
	const char *name, *key;
	size_t name_len, key_len;
	char quoted[QUOTE_MAX + 1];

	if (json_type(root) != JSON_OBJECT) {
		set_failure(f, API_ERR_INVALID_REQUEST, "request must be a JSON object");
		return NULL;
	}
	for (size_t i = 0; i < json_length(root); i++) {
		json_member(root, i, &key, &key_len);
		if ((key_len == 7 && memcmp(key, "execute", 7) == 0) ||
		    (key_len == 9 && memcmp(key, "arguments", 9) == 0) ||
		    (key_len == 2 && memcmp(key, "id", 2) == 0))
			continue;
		set_failure(f, API_ERR_INVALID_REQUEST, "unexpected member '%s' in request",
			    excerpt(quoted, key, key_len));
		return NULL;
	}
	execute = json_get(root, "execute");
	if (!execute) {
		set_failure(f, API_ERR_INVALID_REQUEST, "request has no 'execute' member");
		return NULL;
	}
	name = json_string(execute, &name_len);
	if (!name) {
		set_failure(f, API_ERR_INVALID_REQUEST, "'execute' must be a string");
		return NULL;
	}
	arguments = json_get(root, "arguments");
	if (arguments && json_type(arguments) != JSON_OBJECT) {
		set_failure(f, API_ERR_INVALID_REQUEST, "'arguments' must be an object");
		return NULL;
	}
	const struct api_command *cmd = find_command(name, name_len);
	if (!cmd) {
		set_failure(f, API_ERR_COMMAND_NOT_FOUND, "the command '%s' has not been found",
			    excerpt(quoted, name, name_len));
		return NULL;
	}
	for (size_t i = 0; i < json_length(arguments); i++) {
		json_member(arguments, i, &key, &key_len);
		if (!arg_allowed(cmd, key, key_len)) {
			set_failure(f, API_ERR_GENERIC, "parameter '%s' is unexpected",
				    excerpt(quoted, key, key_len));
			return NULL;
		}
	}
	*args = arguments;
	return cmd;
}

static int parse_error_class(int rc)
{
	return rc == -ENOMEM || rc == -EFAULT ? API_ERR_GENERIC : API_ERR_PARSE;
}

int api_handle_line(const struct api_ops *ops, const char *line, size_t len, struct jbuf *reply)
{
	static const struct json_limits limits = {
		.max_input = API_MAX_LINE, .max_depth = API_MAX_DEPTH, .max_nodes = API_MAX_NODES};
	struct json_doc *doc = NULL;
	struct json_error jerr;
	struct api_failure f;
	const struct json_value *root, *id = NULL, *args = NULL;
	size_t mark = reply->len;
	bool quit = false;
	int rc;

	if (reply->err || reply->depth != 0)
		return -EINVAL;

	rc = json_parse(line, len, &limits, &doc, &jerr);
	if (rc) {
		set_failure(&f, parse_error_class(rc), "JSON parse error at byte %zu: %s",
			    jerr.offset, jerr.reason);
		return emit_error(reply, mark, f.cls, f.desc, NULL);
	}
	root = json_root(doc);
	id = json_get(root, "id");

	const struct api_command *cmd = check_request(root, &args, &f);
	if (!cmd) {
		rc = emit_error(reply, mark, f.cls, f.desc, id);
		json_free(doc);
		return rc;
	}

	jbuf_object_begin(reply);
	jbuf_key(reply, "return");
	jbuf_object_begin(reply);
	uint32_t depth = reply->depth;
	rc = cmd->run(ops, args, reply, &f);
	if (rc == 1)
		quit = true; /* the monitor is stopping whatever happens to the reply */
	if (rc < 0) {
		rc = emit_error(reply, mark, f.cls, f.desc, id);
		json_free(doc);
		return rc;
	}
	if (!reply->err && (reply->depth != depth || reply->after_key)) {
		rc = emit_error(reply, mark, API_ERR_GENERIC, "internal error: malformed reply", id);
		json_free(doc);
		return rc < 0 ? rc : quit;
	}
	jbuf_object_end(reply);
	if (id) {
		jbuf_key(reply, "id");
		json_write_value(reply, id);
	}
	jbuf_object_end(reply);
	jbuf_newline(reply);
	if (reply->err) {
		const char *why = reply->err == -E2BIG ? "reply too large"
			       : reply->err == -ENOMEM ? "out of memory"
						       : "internal error: malformed reply";
		rc = emit_error(reply, mark, API_ERR_GENERIC, why, id);
		json_free(doc);
		return rc < 0 ? rc : quit;
	}
	json_free(doc);
	return quit;
}

int api_format_greeting(struct jbuf *out, const char *version)
{
	size_t mark = out->len;

	if (out->err || out->depth != 0)
		return -EINVAL;
	jbuf_object_begin(out);
	jbuf_key(out, "cloister");
	jbuf_object_begin(out);
	jbuf_member_string(out, "version", version ? version : "");
	jbuf_member_int64(out, "protocol", API_PROTOCOL_VERSION);
	jbuf_object_end(out);
	jbuf_object_end(out);
	jbuf_newline(out);
	if (out->err) {
		int rc = out->err;
		jbuf_rewind(out, mark);
		return rc;
	}
	return 0;
}

struct api_timestamp api_timestamp_now(void)
{
	struct timespec now;
	struct api_timestamp ts = {0, 0};

	if (clock_gettime(CLOCK_REALTIME, &now) == 0) {
		ts.seconds = now.tv_sec;
		ts.microseconds = now.tv_nsec / 1000;
	}
	return ts;
}

int api_format_event(struct jbuf *out, const char *name, api_write_fn write_data, void *data_ctx,
		     struct api_timestamp ts)
{
	size_t mark = out->len;
	int rc = 0;

	if (out->err || out->depth != 0 || !name || !*name)
		return -EINVAL;
	jbuf_object_begin(out);
	jbuf_member_string(out, "event", name);
	jbuf_key(out, "data");
	jbuf_object_begin(out);
	uint32_t depth = out->depth;
	if (write_data && !out->err)
		rc = write_data(data_ctx, out);
	if (rc == 0 && !out->err && (out->depth != depth || out->after_key))
		rc = -EINVAL;
	if (rc == 0) {
		jbuf_object_end(out);
		jbuf_key(out, "timestamp");
		jbuf_object_begin(out);
		jbuf_member_int64(out, "seconds", ts.seconds);
		jbuf_member_int64(out, "microseconds", ts.microseconds);
		jbuf_object_end(out);
		jbuf_object_end(out);
		jbuf_newline(out);
		rc = out->err;
	}
	if (rc == 0 && out->err)
		rc = out->err;
	if (rc) {
		jbuf_rewind(out, mark);
		return rc < 0 ? rc : -EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------- line framing */

int api_linebuf_init(struct api_linebuf *lb, size_t max_line)
{
	memset(lb, 0, sizeof(*lb));
	if (max_line == 0 || max_line > SIZE_MAX / 2)
		return -EINVAL;
	lb->buf = malloc(max_line + 2);
	if (!lb->buf)
		return -ENOMEM;
	lb->cap = max_line + 2;
	lb->max_line = max_line;
	return 0;
}

void api_linebuf_free(struct api_linebuf *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

char *api_linebuf_space(struct api_linebuf *lb, size_t *avail)
{
	/* Any line handed out earlier is dead now, so consumed bytes can go. */
	if (lb->start > 0) {
		memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
		lb->len -= lb->start;
		lb->start = 0;
	}
	*avail = lb->cap - lb->len;
	return lb->buf + lb->len;
}

void api_linebuf_commit(struct api_linebuf *lb, size_t n)
{
	size_t room = lb->cap - lb->len;
	lb->len += n < room ? n : room;
}

size_t api_linebuf_feed(struct api_linebuf *lb, const void *data, size_t n)
{
	size_t avail;
	char *dst = api_linebuf_space(lb, &avail);
	size_t take = n < avail ? n : avail;

	memcpy(dst, data, take);
	api_linebuf_commit(lb, take);
	return take;
}

enum api_line_status api_linebuf_next(struct api_linebuf *lb, const char **line, size_t *len)
{
	for (;;) {
		char *from = lb->buf + lb->start;
		size_t held = lb->len - lb->start;
		char *nl = held ? memchr(from, '\n', held) : NULL;

		if (lb->discarding) {
			if (!nl) {
				lb->start = lb->len = 0;
				return API_LINE_NONE;
			}
			lb->start = (size_t)(nl - lb->buf) + 1;
			lb->discarding = false;
			continue;
		}
		if (!nl) {
			/* Even a "\n" next could not make this a line of max_line bytes. */
			if (held > lb->max_line + 1) {
				lb->start = lb->len = 0;
				lb->discarding = true;
				return API_LINE_TOO_LONG;
			}
			return API_LINE_NONE;
		}
		size_t n = (size_t)(nl - from);
		lb->start += n + 1;
		if (n > 0 && from[n - 1] == '\r')
			n--;
		if (n > lb->max_line)
			return API_LINE_TOO_LONG;
		if (n == 0)
			continue;
		*line = from;
		*len = n;
		return API_LINE_OK;
	}
}
