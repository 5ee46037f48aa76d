/* test_api_linebuf.c: the server-side line splitter (api_linebuf in monitor/api.c): split reads,
 * CRLF, empty lines, over-long lines at and around the limit, full-buffer back pressure, and a
 * randomized comparison against a simple whole-stream reference splitter. */
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

/* Events are recorded as text: the line itself, or "<TOO_LONG>". */
struct log {
	char items[1024][80];
	int n;
};

static void drain(struct api_linebuf *lb, struct log *log)
{
	const char *line;
	size_t len;
	enum api_line_status st;

	while ((st = api_linebuf_next(lb, &line, &len)) != API_LINE_NONE) {
		assert_true(log->n < 1024);
		if (st == API_LINE_TOO_LONG) {
			snprintf(log->items[log->n++], 80, "<TOO_LONG>");
		} else {
			assert_int_equal(st, API_LINE_OK);
			assert_true(len > 0 && len <= lb->max_line && len < 80);
			assert_null(memchr(line, '\n', len));
			memcpy(log->items[log->n], line, len);
			log->items[log->n++][len] = '\0';
		}
	}
}

/* Feeds data in chunks of the given sizes (cycled), draining after every chunk the way an
 * event loop would after each read. */
static void feed_chunked(struct api_linebuf *lb, const char *data, size_t n, const size_t *chunks,
			 size_t nchunks, struct log *log)
{
	size_t ci = 0;
	while (n > 0) {
		size_t want = chunks[ci++ % nchunks];
		if (want > n)
			want = n;
		while (want > 0) {
			size_t took = api_linebuf_feed(lb, data, want);
			data += took;
			n -= took;
			want -= took;
			drain(lb, log);
		}
	}
}

static void expect_log(const struct log *log, const char *const *want, int nwant)
{
	if (log->n != nwant) {
		for (int i = 0; i < log->n; i++)
			print_message("got[%d] = '%s'\n", i, log->items[i]);
		fail_msg("got %d events, want %d", log->n, nwant);
	}
	for (int i = 0; i < nwant; i++)
		assert_string_equal(log->items[i], want[i]);
}

static void test_basic_lines(void **state)
{
	struct api_linebuf lb;
	struct log log = {.n = 0};
	const char *line;
	size_t len;

	assert_int_equal(api_linebuf_init(&lb, 64), 0);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_NONE);
	assert_int_equal(api_linebuf_feed(&lb, "abc", 3), 3);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_NONE);
	assert_int_equal(api_linebuf_feed(&lb, "\nde", 3), 3);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(line, "abc", 3);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_NONE);
	assert_int_equal(api_linebuf_feed(&lb, "f\n\n\nghi\n", 8), 8);
	drain(&lb, &log);
	static const char *const want[] = {"def", "ghi"};
	expect_log(&log, want, 2);
	api_linebuf_free(&lb);
	assert_null(lb.buf);
}

static void test_crlf_and_empty_lines(void **state)
{
	struct api_linebuf lb;
	struct log log = {.n = 0};
	static const char stream[] = "one\r\n\r\n\ntwo\rx\nthree\r\r\n\r\r\nfour";
	static const size_t ones[] = {1};

	assert_int_equal(api_linebuf_init(&lb, 64), 0);
	feed_chunked(&lb, stream, sizeof(stream) - 1, ones, 1, &log);
	/* Only one CR before the LF is framing; other CRs are content. "four" is unfinished. */
	static const char *const want[] = {"one", "two\rx", "three\r", "\r"};
	expect_log(&log, want, 4);
	assert_int_equal(api_linebuf_feed(&lb, "\r\n", 2), 2);
	drain(&lb, &log);
	static const char *const want2[] = {"one", "two\rx", "three\r", "\r", "four"};
	expect_log(&log, want2, 5);
	api_linebuf_free(&lb);
}

static void test_limit_boundaries(void **state)
{
	struct api_linebuf lb;
	struct log log = {.n = 0};
	static const size_t whole[] = {1000};
	static const size_t ones[] = {1};

	/* max_line 8: 8 bytes pass with LF or CRLF; 9 bytes are too long either way. */
	static const char stream[] = "12345678\n"
				     "12345678\r\n"
				     "123456789\n"
				     "123456789\r\n"
				     "ok\n"
				     "1234567890123456789012345\n"
				     "after\n";
	static const char *const want[] = {"12345678", "12345678", "<TOO_LONG>", "<TOO_LONG>",
					   "ok", "<TOO_LONG>", "after"};
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(api_linebuf_init(&lb, 8), 0);
		log.n = 0;
		feed_chunked(&lb, stream, sizeof(stream) - 1, pass ? ones : whole, 1, &log);
		expect_log(&log, want, 7);
		api_linebuf_free(&lb);
	}
}

static void test_over_long_without_newline_reported_once(void **state)
{
	struct api_linebuf lb;
	struct log log = {.n = 0};
	char junk[1000];

	memset(junk, 'j', sizeof(junk));
	assert_int_equal(api_linebuf_init(&lb, 16), 0);
	static const size_t chunks[] = {7, 1, 33, 100};
	feed_chunked(&lb, junk, sizeof(junk), chunks, 4, &log);
	static const char *const want[] = {"<TOO_LONG>"};
	expect_log(&log, want, 1);
	/* The discarded line ends at the next newline; what follows is a fresh line. */
	feed_chunked(&lb, "jjj\nnext\n", 9, chunks, 4, &log);
	static const char *const want2[] = {"<TOO_LONG>", "next"};
	expect_log(&log, want2, 2);
	api_linebuf_free(&lb);
}

static void test_back_pressure(void **state)
{
	struct api_linebuf lb;
	const char *line;
	size_t len;

	/* cap is max_line + 2 = 10: feed stops there until lines are taken out. */
	assert_int_equal(api_linebuf_init(&lb, 8), 0);
	assert_int_equal(api_linebuf_feed(&lb, "ab\ncd\nefgh\nij\n", 14), 10);
	assert_int_equal(api_linebuf_feed(&lb, "\nij\n", 4), 0);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_OK);
	assert_memory_equal(line, "ab", 2);
	/* The returned line stays valid until the next feed. */
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_OK);
	assert_memory_equal(line, "cd", 2);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_NONE);
	assert_int_equal(api_linebuf_feed(&lb, "\nij\n", 4), 4);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(line, "efgh", 4);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_OK);
	assert_memory_equal(line, "ij", 2);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_NONE);
	api_linebuf_free(&lb);
}

static void test_zero_copy_space(void **state)
{
	struct api_linebuf lb;
	const char *line;
	size_t len, avail;

	assert_int_equal(api_linebuf_init(&lb, 8), 0);
	char *space = api_linebuf_space(&lb, &avail);
	assert_int_equal(avail, 10);
	memcpy(space, "xy\nz", 4);
	api_linebuf_commit(&lb, 4);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_OK);
	assert_memory_equal(line, "xy", 2);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_NONE);
	/* The consumed line is compacted away: the pending "z" moves to the front. */
	space = api_linebuf_space(&lb, &avail);
	assert_int_equal(avail, 9);
	memcpy(space, "\n", 1);
	api_linebuf_commit(&lb, 1);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_OK);
	assert_int_equal(len, 1);
	assert_memory_equal(line, "z", 1);
	/* Committing more than the space given is clamped, never overflows. */
	space = api_linebuf_space(&lb, &avail);
	memset(space, 'k', avail);
	api_linebuf_commit(&lb, avail + 100);
	assert_int_equal(lb.len, lb.cap);
	assert_int_equal(api_linebuf_next(&lb, &line, &len), API_LINE_TOO_LONG);
	api_linebuf_free(&lb);
}

static void test_init_arguments(void **state)
{
	struct api_linebuf lb;
	assert_int_equal(api_linebuf_init(&lb, 0), -EINVAL);
	assert_int_equal(api_linebuf_init(&lb, SIZE_MAX), -EINVAL);
	assert_int_equal(api_linebuf_init(&lb, API_MAX_LINE), 0);
	assert_int_equal(lb.cap, API_MAX_LINE + 2);
	api_linebuf_free(&lb);
}

/* Reference: split the whole stream at once. */
static void reference_split(const char *s, size_t n, size_t max, struct log *log)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		size_t len = i - start;
		if (len > 0 && s[i - 1] == '\r')
			len--;
		if (len > max)
			snprintf(log->items[log->n++], 80, "<TOO_LONG>");
		else if (len > 0) {
			memcpy(log->items[log->n], s + start, len);
			log->items[log->n++][len] = '\0';
		}
		start = i + 1;
	}
	/* An unterminated tail is reported only once it can no longer fit. */
	if (n - start >= max + 2)
		snprintf(log->items[log->n++], 80, "<TOO_LONG>");
}

static void test_random_streams_match_reference(void **state)
{
	static char stream[4096];
	static struct log got, want;
	uint32_t seed = 0xC0FFEE;
	const size_t max = 12;

	for (int round = 0; round < 400; round++) {
		size_t n = 0;
		while (n < 1500) {
			seed = seed * 1664525u + 1013904223u;
			size_t len = (seed >> 24) % 20; /* around the limit of 12 */
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1664525u + 1013904223u;
				unsigned r = (seed >> 16) % 20;
				stream[n++] = r == 0 ? '\r' : (char)('a' + r);
			}
			seed = seed * 1664525u + 1013904223u;
			if ((seed >> 20) % 8 == 0)
				stream[n++] = '\r';
			stream[n++] = '\n';
		}
		seed = seed * 1664525u + 1013904223u;
		size_t tail = (seed >> 24) % 20;
		for (size_t i = 0; i < tail; i++)
			stream[n++] = 't';

		want.n = 0;
		got.n = 0;
		reference_split(stream, n, max, &want);

		size_t chunks[5];
		for (int i = 0; i < 5; i++) {
			seed = seed * 1664525u + 1013904223u;
			chunks[i] = 1 + (seed >> 24) % 30;
		}
		struct api_linebuf lb;
		assert_int_equal(api_linebuf_init(&lb, max), 0);
		feed_chunked(&lb, stream, n, chunks, 5, &got);
		api_linebuf_free(&lb);

		if (got.n != want.n)
			fail_msg("round %d: %d events, reference %d", round, got.n, want.n);
		for (int i = 0; i < want.n; i++)
			assert_string_equal(got.items[i], want.items[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_lines),
		cmocka_unit_test(test_crlf_and_empty_lines),
		cmocka_unit_test(test_limit_boundaries),
		cmocka_unit_test(test_over_long_without_newline_reported_once),
		cmocka_unit_test(test_back_pressure),
		cmocka_unit_test(test_zero_copy_space),
		cmocka_unit_test(test_init_arguments),
		cmocka_unit_test(test_random_streams_match_reference),
	};
	return cmocka_run_group_tests_name("api_linebuf", tests, NULL, NULL);
}
