/* test_api_client.c: api_client_call against a scripted server thread on a UNIX socket in a
 * temporary directory: normal calls, interleaved events, bad greetings, silence (timeouts),
 * early close, malformed and oversized lines, trickled replies, and argument checks.
 * The server thread never calls cmocka (not thread-safe); it records what it saw instead. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/api.h"
#include "monitor/api_client.h"
#include "monitor/json.h"

enum script {
	S_NORMAL,
	S_EVENTS_FIRST,
	S_BAD_GREETING,
	S_WRONG_PROTOCOL,
	S_CLOSE_AFTER_GREETING,
	S_SILENT,
	S_NO_GREETING,
	S_GARBAGE_REPLY,
	S_NEITHER,
	S_TRICKLE,
	S_BIG_REPLY,
	S_OVERLONG_LINE,
};

struct server {
	char dir[64];
	char path[128];
	int listen_fd;
	enum script script;
	pthread_t thread;
	char received[API_MAX_LINE + 1];
	size_t received_len;
	int requests;
	bool joined;
	int problem; /* errno of anything unexpected on the server side */
};

static int status_cb(void *ctx, struct jbuf *out)
{
	jbuf_member_string(out, "status", "running");
	return 0;
}

static void send_all(struct server *s, int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EPIPE && errno != ECONNRESET)
				s->problem = errno;
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

static void wait_for_eof(int fd)
{
	char tmp[256];
	while (read(fd, tmp, sizeof(tmp)) > 0)
		;
}

/* Reads one request line; false on EOF first. */
static bool read_request(struct server *s, int fd, struct api_linebuf *lb)
{
	const char *line;
	size_t len, avail;

	for (;;) {
		enum api_line_status st = api_linebuf_next(lb, &line, &len);
		if (st == API_LINE_OK) {
			memcpy(s->received, line, len);
			s->received[len] = '\0';
			s->received_len = len;
			s->requests++;
			return true;
		}
		if (st == API_LINE_TOO_LONG) {
			s->problem = EMSGSIZE;
			return false;
		}
		char *space = api_linebuf_space(lb, &avail);
		ssize_t n = read(fd, space, avail);
		if (n <= 0)
			return false;
		api_linebuf_commit(lb, (size_t)n);
	}
}

static void serve(struct server *s, int fd)
{
	struct api_ops ops = {.query_status = status_cb};
	struct api_linebuf lb;
	struct jbuf out;
	struct api_timestamp ts = {1, 2};

	jbuf_init(&out, 2u << 20);
	if (api_linebuf_init(&lb, API_MAX_LINE) != 0) {
		s->problem = ENOMEM;
		return;
	}
	switch (s->script) {
	case S_NO_GREETING:
		wait_for_eof(fd);
		goto out;
	case S_BAD_GREETING:
		send_all(s, fd, "{\"hello\":1}\n", 12);
		wait_for_eof(fd);
		goto out;
	case S_WRONG_PROTOCOL:
		send_all(s, fd, "{\"cloister\":{\"version\":\"x\",\"protocol\":2}}\n", 42);
		wait_for_eof(fd);
		goto out;
	default:
		api_format_greeting(&out, "test");
		send_all(s, fd, out.data, out.len);
		jbuf_reset(&out);
		break;
	}
	if (s->script == S_CLOSE_AFTER_GREETING)
		goto out;
	if (!read_request(s, fd, &lb))
		goto out;

	switch (s->script) {
	case S_SILENT:
		wait_for_eof(fd);
		goto out;
	case S_GARBAGE_REPLY:
		send_all(s, fd, "this is not json\n", 17);
		goto out;
	case S_NEITHER:
		send_all(s, fd, "{\"hello\":\"there\"}\n", 18);
		goto out;
	case S_BIG_REPLY:
		jbuf_object_begin(&out);
		jbuf_key(&out, "return");
		jbuf_object_begin(&out);
		for (int i = 0; i < 1000; i++) {
			char key[16];
			snprintf(key, sizeof(key), "k%d", i);
			jbuf_member_string(&out, key, "0123456789");
		}
		jbuf_object_end(&out);
		jbuf_object_end(&out);
		jbuf_newline(&out);
		send_all(s, fd, out.data, out.len);
		goto out;
	case S_OVERLONG_LINE: {
		size_t n = API_CLIENT_MAX_LINE + 4096;
		char *big = malloc(n);
		if (!big) {
			s->problem = ENOMEM;
			goto out;
		}
		memset(big, ' ', n);
		big[0] = '[';
		big[n - 2] = ']';
		big[n - 1] = '\n';
		send_all(s, fd, big, n);
		free(big);
		goto out;
	}
	case S_EVENTS_FIRST:
		api_format_event(&out, "FIRST", NULL, NULL, ts);
		api_format_event(&out, "SECOND", NULL, NULL, ts);
		break;
	default:
		break;
	}
	api_handle_line(&ops, s->received, s->received_len, &out);
	if (s->script == S_TRICKLE) {
		for (size_t i = 0; i < out.len; i++) {
			send_all(s, fd, out.data + i, 1);
			struct timespec pause = {0, 200 * 1000};
			nanosleep(&pause, NULL);
		}
	} else {
		send_all(s, fd, out.data, out.len);
	}
out:
	api_linebuf_free(&lb);
	jbuf_free(&out);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		s->problem = errno;
		return NULL;
	}
	serve(s, fd);
	close(fd);
	return NULL;
}

static void make_dir(struct server *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/cloister-api-test-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/api.sock", s->dir);
}

static int bind_socket(const char *path, bool do_listen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static struct server *start(enum script script)
{
	struct server *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	make_dir(s);
	s->script = script;
	s->listen_fd = bind_socket(s->path, true);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	return s;
}

static void join(struct server *s)
{
	if (!s->joined)
		pthread_join(s->thread, NULL);
	s->joined = true;
}

static void stop(struct server *s)
{
	join(s);
	close(s->listen_fd);
	unlink(s->path);
	rmdir(s->dir);
	assert_int_equal(s->problem, 0);
	free(s);
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct json_doc *parse_reply(const char *reply)
{
	struct json_doc *doc = NULL;
	assert_int_equal(json_parse(reply, strlen(reply),
				    &(struct json_limits){1 << 20, 16, 1 << 16}, &doc, NULL),
			 0);
	return doc;
}

static void test_normal_call(void **state)
{
	struct server *s = start(S_NORMAL);
	char reply[4096];
	struct api_client_error err;
	const char *req = "{\"execute\":\"query-status\",\"id\":\"r1\"}";

	int rc = api_client_call(s->path, req, reply, sizeof(reply), 5000, &err);
	assert_int_equal(rc, 0);
	assert_int_equal(err.code, 0);
	assert_string_equal(reply, "{\"return\":{\"status\":\"running\"},\"id\":\"r1\"}");
	stop(s);
}

static void test_request_reaches_server_intact(void **state)
{
	struct server *s = start(S_NORMAL);
	char reply[4096];
	/* A trailing newline is accepted and not doubled. */
	const char *req = "{\"execute\":\"quit\", \"id\": [1, \"\\u00e9\"]}\n";

	assert_int_equal(api_client_call(s->path, req, reply, sizeof(reply), 5000, NULL), 0);
	join(s);
	assert_int_equal(s->requests, 1);
	assert_int_equal(s->received_len, strlen(req) - 1);
	assert_memory_equal(s->received, req, s->received_len);
	/* The fake server has no quit callback, so the reply is an error: still a reply. */
	struct json_doc *doc = parse_reply(reply);
	assert_non_null(json_get(json_root(doc), "error"));
	assert_int_equal(json_length(json_get(json_root(doc), "id")), 2);
	json_free(doc);
	stop(s);
}

static void test_error_reply_is_a_reply(void **state)
{
	struct server *s = start(S_NORMAL);
	char reply[4096];
	assert_int_equal(api_client_call(s->path, "{\"execute\":\"bogus\"}", reply, sizeof(reply),
					 5000, NULL),
			 0);
	struct json_doc *doc = parse_reply(reply);
	assert_string_equal(json_string(json_get(json_get(json_root(doc), "error"), "class"), NULL),
			    "CommandNotFound");
	json_free(doc);
	stop(s);
}

static void test_events_are_skipped(void **state)
{
	struct server *s = start(S_EVENTS_FIRST);
	char reply[4096];
	assert_int_equal(api_client_call(s->path, "{\"execute\":\"query-status\"}", reply,
					 sizeof(reply), 5000, NULL),
			 0);
	assert_string_equal(reply, "{\"return\":{\"status\":\"running\"}}");
	stop(s);
}

static void test_trickled_reply(void **state)
{
	struct server *s = start(S_TRICKLE);
	char reply[4096];
	assert_int_equal(api_client_call(s->path, "{\"execute\":\"query-status\",\"id\":12345}",
					 reply, sizeof(reply), 5000, NULL),
			 0);
	assert_string_equal(reply, "{\"return\":{\"status\":\"running\"},\"id\":12345}");
	stop(s);
}

static void expect_failure(enum script script, int want, int timeout_ms, size_t reply_cap)
{
	struct server *s = start(script);
	char reply[64 * 1024];
	struct api_client_error err;

	assert_true(reply_cap <= sizeof(reply));
	int rc = api_client_call(s->path, "{\"execute\":\"query-status\"}", reply, reply_cap,
				 timeout_ms, &err);
	if (rc != want)
		fail_msg("script %d: rc %d (%s), want %d", script, rc, err.msg, want);
	assert_int_equal(err.code, want);
	assert_true(strlen(err.msg) > 0);
	assert_string_equal(reply, "");
	stop(s);
}

static void test_bad_greetings(void **state)
{
	expect_failure(S_BAD_GREETING, -EPROTO, 5000, 4096);
	expect_failure(S_WRONG_PROTOCOL, -EPROTO, 5000, 4096);
}

static void test_server_closes_early(void **state)
{
	expect_failure(S_CLOSE_AFTER_GREETING, -ECONNRESET, 5000, 4096);
}

static void test_malformed_server_lines(void **state)
{
	expect_failure(S_GARBAGE_REPLY, -EPROTO, 5000, 4096);
	expect_failure(S_NEITHER, -EPROTO, 5000, 4096);
	expect_failure(S_OVERLONG_LINE, -EMSGSIZE, 5000, 4096);
}

static void test_reply_must_fit(void **state)
{
	expect_failure(S_BIG_REPLY, -EMSGSIZE, 5000, 1000);

	struct server *s = start(S_BIG_REPLY);
	char reply[64 * 1024];
	assert_int_equal(api_client_call(s->path, "{\"execute\":\"query-status\"}", reply,
					 sizeof(reply), 5000, NULL),
			 0);
	struct json_doc *doc = parse_reply(reply);
	assert_int_equal(json_length(json_get(json_root(doc), "return")), 1000);
	json_free(doc);
	stop(s);
}

static void test_timeouts(void **state)
{
	int64_t t0 = ms_now();
	expect_failure(S_SILENT, -ETIMEDOUT, 300, 4096);
	int64_t t1 = ms_now();
	expect_failure(S_NO_GREETING, -ETIMEDOUT, 300, 4096);
	int64_t t2 = ms_now();
	assert_true(t1 - t0 >= 290 && t1 - t0 < 3000);
	assert_true(t2 - t1 >= 290 && t2 - t1 < 3000);
}

static void test_connect_failures(void **state)
{
	struct server s;
	char reply[256];
	struct api_client_error err;

	make_dir(&s);
	/* Nothing at the path. */
	assert_int_equal(api_client_call(s.path, "{}", reply, sizeof(reply), 1000, &err), -ENOENT);
	assert_int_equal(err.code, -ENOENT);
	assert_non_null(strstr(err.msg, s.path));
	/* A socket that is bound but not listening. */
	int fd = bind_socket(s.path, false);
	assert_int_equal(api_client_call(s.path, "{}", reply, sizeof(reply), 1000, &err),
			 -ECONNREFUSED);
	close(fd);
	unlink(s.path);
	rmdir(s.dir);
}

static void test_argument_checks(void **state)
{
	char reply[256];
	struct api_client_error err;
	char long_path[200];

	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(api_client_call(long_path, "{}", reply, sizeof(reply), 100, &err),
			 -ENAMETOOLONG);
	assert_int_equal(err.code, -ENAMETOOLONG);
	assert_int_equal(api_client_call("", "{}", reply, sizeof(reply), 100, &err), -EINVAL);
	assert_int_equal(api_client_call(NULL, "{}", reply, sizeof(reply), 100, &err), -EINVAL);
	assert_int_equal(api_client_call("/x", NULL, reply, sizeof(reply), 100, &err), -EINVAL);
	assert_int_equal(api_client_call("/x", "{}", NULL, sizeof(reply), 100, &err), -EINVAL);
	assert_int_equal(api_client_call("/x", "{}", reply, 0, 100, &err), -EINVAL);
	assert_int_equal(api_client_call("/x", "{}", reply, sizeof(reply), 0, &err), -EINVAL);
	assert_int_equal(api_client_call("/x", "{}", reply, sizeof(reply), -5, &err), -EINVAL);
	assert_int_equal(api_client_call("/x", "", reply, sizeof(reply), 100, &err), -EINVAL);
	assert_int_equal(api_client_call("/x", "\n", reply, sizeof(reply), 100, &err), -EINVAL);
	assert_int_equal(api_client_call("/x", "{}\n{}", reply, sizeof(reply), 100, &err), -EINVAL);
	assert_int_equal(api_client_call("/x", "{}\n\n", reply, sizeof(reply), 100, &err), -EINVAL);

	char *big = malloc(API_MAX_LINE + 2);
	assert_non_null(big);
	memset(big, ' ', API_MAX_LINE + 1);
	big[API_MAX_LINE + 1] = '\0';
	assert_int_equal(api_client_call("/x", big, reply, sizeof(reply), 100, &err), -EINVAL);
	free(big);
	/* Errors are reported even without an error struct. */
	assert_int_equal(api_client_call("/x", "", reply, sizeof(reply), 100, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_call),
		cmocka_unit_test(test_request_reaches_server_intact),
		cmocka_unit_test(test_error_reply_is_a_reply),
		cmocka_unit_test(test_events_are_skipped),
		cmocka_unit_test(test_trickled_reply),
		cmocka_unit_test(test_bad_greetings),
		cmocka_unit_test(test_server_closes_early),
		cmocka_unit_test(test_malformed_server_lines),
		cmocka_unit_test(test_reply_must_fit),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_connect_failures),
		cmocka_unit_test(test_argument_checks),
	};
	return cmocka_run_group_tests_name("api_client", tests, NULL, NULL);
}
