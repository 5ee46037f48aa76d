/* api_client.h: one-shot management API client (used by `cloister audit` and tests).
 *
 * Connects to the monitor's socket, checks the greeting, sends one request line and returns
 * the matching reply line, skipping asynchronous event lines. Trusts nothing the server sends:
 * every line is size-limited and parsed before it is believed.
 */
#ifndef CLOISTER_MONITOR_API_CLIENT_H
#define CLOISTER_MONITOR_API_CLIENT_H

#include <stddef.h>

/* Longest line accepted from the server (greeting, event or reply), excluding the newline. */
#define API_CLIENT_MAX_LINE (1024 * 1024)

struct api_client_error {
	int code;      /* negative errno, same as the return value */
	char msg[192]; /* what failed, for a human */
};

/* Sends request_line (one JSON request; a trailing "\n" is optional, any other newline is
 * refused) to the server at socket_path and stores the reply line, NUL-terminated and
 * without its newline, in reply[0..reply_cap). The whole exchange must finish within
 * timeout_ms (> 0). Returns 0 when a reply arrived, whether it is {"return": ...} or
 * {"error": ...}; otherwise a negative errno, with err (if given) filled:
 *   -EINVAL       bad arguments (empty path, request over API_MAX_LINE or multi-line, ...)
 *   -ENAMETOOLONG socket_path does not fit in sockaddr_un
 *   -ETIMEDOUT    the deadline passed
 *   -ECONNRESET   the server closed the connection before replying
 *   -EPROTO       a line from the server was not JSON, or the greeting was not a cloister
 *                 protocol 1 greeting, or a non-event line was neither return nor error
 *   -EMSGSIZE     a server line exceeded API_CLIENT_MAX_LINE, or the reply did not fit
 *   other         errors from socket(), connect(), read() or send() */
int api_client_call(const char *socket_path, const char *request_line, char *reply,
		    size_t reply_cap, int timeout_ms, struct api_client_error *err);

#endif
