/* api_client.c: connect, check greeting, send one request, read its reply line.
 *
 * Trusts the caller's arguments after validating them; trusts nothing from the socket. All
 * waiting happens in poll() against one monotonic deadline, so a silent or slow server costs
 * at most timeout_ms. The socket is close-on-exec and writes use MSG_NOSIGNAL, so a client
 * embedded in a larger program neither leaks the descriptor nor dies of SIGPIPE.
 */
#define _GNU_SOURCE
#include "monitor/api_client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "monitor/api.h"
#include "monitor/json.h"

struct client {
	int fd;
	int64_t deadline_ms;
	struct api_linebuf lines;
	struct api_client_error *err;
};

static int failf(struct client *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failf(struct client *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->err) {
		c->err->code = code;
		va_start(ap, fmt);
		vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

static const char *errtext(int e)
{
	const char *s = strerrordesc_np(e);
	return s ? s : "unknown error";
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on the socket; -ETIMEDOUT once the deadline has passed. */
static int wait_fd(struct client *c, short events, const char *what)
{
	for (;;) {
		int64_t left = c->deadline_ms - now_ms();
		if (left <= 0)
			return failf(c, -ETIMEDOUT, "timed out %s", what);
		struct pollfd pfd = {.fd = c->fd, .events = events};
		int n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return failf(c, -errno, "poll: %s", errtext(errno));
	}
}

static int connect_socket(struct client *c, const char *path)
{
	struct sockaddr_un addr;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return failf(c, -errno, "socket: %s", errtext(errno));
	for (;;) {
		if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return 0;
		int e = errno;
		if (e == EINTR)
			continue;
		if (e == EAGAIN) {
			/* Listen backlog full: a UNIX socket cannot be polled for this, so retry. */
			if (now_ms() >= c->deadline_ms)
				return failf(c, -ETIMEDOUT, "timed out connecting to %s", path);
			struct timespec pause = {0, 10 * 1000 * 1000};
			nanosleep(&pause, NULL);
			continue;
		}
		if (e == EINPROGRESS) {
			int rc = wait_fd(c, POLLOUT, "connecting");
			if (rc)
				return rc;
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				soerr = errno;
			if (soerr == 0)
				return 0;
			e = soerr;
		}
		return failf(c, -e, "connect %s: %s", path, errtext(e));
	}
}

static int send_all(struct client *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(c, POLLOUT, "sending the request");
			if (rc)
				return rc;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			return failf(c, -ECONNRESET, "server closed the connection");
		return failf(c, -errno, "send: %s", errtext(errno));
	}
	return 0;
}

/* Next complete line from the server, parsed; the caller frees *doc. */
static int read_line(struct client *c, const char **line, size_t *len, struct json_doc **doc)
{
	static const struct json_limits limits = {
		.max_input = API_CLIENT_MAX_LINE, .max_depth = 64, .max_nodes = 1u << 16};
	struct json_error jerr;

	for (;;) {
		enum api_line_status st = api_linebuf_next(&c->lines, line, len);
		if (st == API_LINE_TOO_LONG)
			return failf(c, -EMSGSIZE, "server line longer than %d bytes",
				     API_CLIENT_MAX_LINE);
		if (st == API_LINE_OK) {
			if (json_parse(*line, *len, &limits, doc, &jerr) != 0)
				return failf(c, -EPROTO, "malformed line from server at byte %zu: %s",
					     jerr.offset, jerr.reason);
			return 0;
		}
		size_t avail;
		char *space = api_linebuf_space(&c->lines, &avail);
		ssize_t n = read(c->fd, space, avail);
		if (n > 0) {
			api_linebuf_commit(&c->lines, (size_t)n);
			continue;
		}
		if (n == 0)
			return failf(c, -ECONNRESET, "server closed the connection");
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return failf(c, -ECONNRESET, "server closed the connection");
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return failf(c, -errno, "read: %s", errtext(errno));
		int rc = wait_fd(c, POLLIN, "waiting for the server");
		if (rc)
			return rc;
	}
}

static int check_greeting(struct client *c)
{
	const char *line;
	size_t len;
	struct json_doc *doc;
	int64_t proto;

	int rc = read_line(c, &line, &len, &doc);
	if (rc)
		return rc;
	const struct json_value *hello = json_get(json_root(doc), "cloister");
	bool ok = json_type(hello) == JSON_OBJECT &&
		  json_int64(json_get(hello, "protocol"), &proto) == 0 &&
		  proto == API_PROTOCOL_VERSION;
	json_free(doc);
	if (!ok)
		return failf(c, -EPROTO, "not a cloister protocol %d greeting", API_PROTOCOL_VERSION);
	return 0;
}

static int await_reply(struct client *c, char *reply, size_t reply_cap)
{
	const char *line;
	size_t len;
	struct json_doc *doc;

	for (;;) {
		int rc = read_line(c, &line, &len, &doc);
		if (rc)
			return rc;
		const struct json_value *root = json_root(doc);
		bool is_event = json_get(root, "event") != NULL;
		bool is_reply = json_get(root, "return") != NULL || json_get(root, "error") != NULL;
		json_free(doc);
		if (is_event)
			continue;
		if (!is_reply)
			return failf(c, -EPROTO, "server line is neither a reply nor an event");
		if (len >= reply_cap)
			return failf(c, -EMSGSIZE, "reply of %zu bytes does not fit in %zu", len,
				     reply_cap);
		memcpy(reply, line, len);
		reply[len] = '\0';
		return 0;
	}
}

int api_client_call(const char *socket_path, const char *request_line, char *reply,
		    size_t reply_cap, int timeout_ms, struct api_client_error *err)
{
	struct client c = {.fd = -1, .err = err};
	size_t req_len;
	int rc;

	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
	if (!socket_path || !*socket_path || !request_line || !reply || reply_cap == 0 ||
	    timeout_ms <= 0)
		return failf(&c, -EINVAL, "invalid arguments");
	if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return failf(&c, -ENAMETOOLONG, "socket path too long for AF_UNIX");
	req_len = strlen(request_line);
	if (req_len > 0 && request_line[req_len - 1] == '\n')
		req_len--;
	if (req_len == 0 || req_len > API_MAX_LINE || memchr(request_line, '\n', req_len))
		return failf(&c, -EINVAL, "request must be one non-empty line of at most %d bytes",
			     API_MAX_LINE);
	reply[0] = '\0';

	c.deadline_ms = now_ms() + timeout_ms;
	rc = api_linebuf_init(&c.lines, API_CLIENT_MAX_LINE);
	if (rc)
		return failf(&c, rc, "out of memory");
	rc = connect_socket(&c, socket_path);
	if (!rc)
		rc = check_greeting(&c);
	if (!rc)
		rc = send_all(&c, request_line, req_len);
	if (!rc)
		rc = send_all(&c, "\n", 1);
	if (!rc)
		rc = await_reply(&c, reply, reply_cap);
	if (c.fd >= 0)
		close(c.fd);
	api_linebuf_free(&c.lines);
	return rc;
}
