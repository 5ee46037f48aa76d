/* api.h: the management API (line-delimited JSON over a UNIX socket, modelled on QEMU's QMP).
 *
 * This is the pure part of the server: turning one request line into one reply line, framing a
 * byte stream into lines, and formatting greetings and events. It owns no sockets and no VM
 * state; the monitor's event loop reads and writes the socket and supplies struct api_ops.
 * Every request byte is hostile; callbacks in api_ops are trusted. See docs/api.md.
 */
#ifndef CLOISTER_MONITOR_API_H
#define CLOISTER_MONITOR_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/json.h"

#define API_PROTOCOL_VERSION 1
#define API_MAX_LINE (64 * 1024)   /* request bytes per line, excluding "\n" or "\r\n" */
#define API_MAX_DEPTH 32           /* nesting inside one request */
#define API_MAX_NODES 4096         /* JSON values inside one request */
/* Smallest reply buffer (jbuf max) for which api_handle_line can always emit some reply. */
#define API_REPLY_MIN 256
/* A reply buffer this large never has to drop an echoed id: ids come from a line of at most
 * API_MAX_LINE bytes and re-serialization at most grows each byte six-fold (\u00XX). */
#define API_REPLY_RECOMMENDED (6 * API_MAX_LINE + 4096)

/* Callbacks the monitor provides; the handler never touches VM state itself. Each writes the
 * members of the reply's "return" object (possibly none) and returns 0, or returns a negative
 * errno, in which case whatever it wrote is discarded and a GenericError is sent instead. A
 * NULL callback makes its command answer GenericError "... is not available". */
struct api_ops {
	void *ctx;
	int (*query_status)(void *ctx, struct jbuf *out);
	int (*query_components)(void *ctx, struct jbuf *out);
	int (*quit)(void *ctx, struct jbuf *out);
};

enum api_error_class {
	API_ERR_GENERIC,           /* "GenericError": the command ran and failed, or bad arguments */
	API_ERR_COMMAND_NOT_FOUND, /* "CommandNotFound" */
	API_ERR_INVALID_REQUEST,   /* "InvalidRequest": valid JSON, wrong request shape */
	API_ERR_PARSE,             /* "ParseError": not JSON (desc carries the byte offset) */
};

/* The class name as sent on the wire; NULL for a value outside the enum. */
const char *api_error_class_name(enum api_error_class cls);

/* Handles one request line (without its newline) and appends exactly one reply line, ending
 * in "\n", to reply. reply must have no container open; anything it already holds is kept.
 * Never fails as long as reply can hold API_REPLY_MIN more bytes: a reply that does not fit
 * is replaced by a GenericError, and if even that does not fit with the echoed id, by one
 * without the id. Returns 1 when the request was a successful "quit", otherwise 0; a negative
 * errno only if reply could not take even the minimal error line. */
int api_handle_line(const struct api_ops *ops, const char *line, size_t len, struct jbuf *reply);

/* Appends one error reply line. id is the request's "id" to echo, or NULL to omit it (for
 * example when the line was too long to parse). Returns 0 or reply's error code. */
int api_reply_error(struct jbuf *reply, enum api_error_class cls, const char *desc,
		    const struct json_value *id);

/* Appends the greeting line sent on connect:
 * {"cloister": {"version": VERSION, "protocol": API_PROTOCOL_VERSION}} */
int api_format_greeting(struct jbuf *out, const char *version);

struct api_timestamp {
	int64_t seconds;
	int64_t microseconds;
};
/* Wall-clock time now (CLOCK_REALTIME), the events' timestamp. */
struct api_timestamp api_timestamp_now(void);

/* Writes the members of an event's "data" object; returns 0 or a negative errno. */
typedef int (*api_write_fn)(void *ctx, struct jbuf *out);

/* Appends one event line:
 * {"event": NAME, "data": {...}, "timestamp": {"seconds": S, "microseconds": U}}
 * write_data may be NULL for an empty "data" object. On failure (callback error or out of
 * space) nothing is appended and the negative errno is returned. */
int api_format_event(struct jbuf *out, const char *name, api_write_fn write_data, void *data_ctx,
		     struct api_timestamp ts);

/* Calls fn(ctx, name, description) for every command in the table, in table order. */
void api_for_each_command(void (*fn)(void *ctx, const char *name, const char *description),
			  void *ctx);

/* ---------------------------------------------------------------- line framing */

/* Splits a byte stream into lines for the server. Lines end in "\n"; a "\r" before it is
 * dropped; empty lines are skipped. A line longer than max_line is reported once as
 * API_LINE_TOO_LONG and the rest of it is discarded up to the next "\n". Memory is one
 * allocation of max_line + 2 bytes made by api_linebuf_init. */
struct api_linebuf {
	char *buf;
	size_t cap;       /* max_line + 2: room for the longest line plus "\r\n" */
	size_t max_line;
	size_t start;     /* first byte not yet returned */
	size_t len;       /* bytes held */
	bool discarding;  /* inside an over-long line, dropping bytes until "\n" */
};

enum api_line_status {
	API_LINE_NONE,     /* no complete line yet: feed more bytes */
	API_LINE_OK,       /* *line / *len hold a line (not NUL-terminated), valid until the
			    * next call of any api_linebuf function on lb */
	API_LINE_TOO_LONG, /* an over-long line was dropped; answer it with api_reply_error */
};

int api_linebuf_init(struct api_linebuf *lb, size_t max_line);
void api_linebuf_free(struct api_linebuf *lb);
/* Copies up to n bytes in and returns how many were taken. Fewer than n means the buffer is
 * full: call api_linebuf_next until it returns API_LINE_NONE, then feed the rest. */
size_t api_linebuf_feed(struct api_linebuf *lb, const void *data, size_t n);
/* Zero-copy alternative to feed for a non-blocking read(): read into the returned space
 * (*avail bytes, 0 when full) and commit what was read. */
char *api_linebuf_space(struct api_linebuf *lb, size_t *avail);
void api_linebuf_commit(struct api_linebuf *lb, size_t n);
enum api_line_status api_linebuf_next(struct api_linebuf *lb, const char **line, size_t *len);

#endif
