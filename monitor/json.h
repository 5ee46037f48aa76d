/* json.h: a small strict JSON (RFC 8259) parser to a read-only DOM, and an append-only writer.
 *
 * The parser trusts nothing about its input: it enforces caller-given limits on input size,
 * nesting depth and value count, never recurses, and allocates the whole DOM as one block sized
 * by a validating first pass (so malformed input costs no allocation). Strictness: no trailing
 * commas, no comments, no leading zeros, no BOM, no control characters or invalid UTF-8 in
 * strings, no lone surrogates, no duplicate object keys. Numbers whose token is longer than
 * JSON_NUMBER_MAX_LEN bytes or whose magnitude overflows a double are rejected (RFC 8259 sec. 9
 * lets an implementation limit range and precision).
 *
 * The writer (json_write.c) trusts its caller to call begin/end/key in a sensible order, but
 * detects misuse and size overflow with a sticky error instead of emitting invalid JSON.
 */
#ifndef CLOISTER_MONITOR_JSON_H
#define CLOISTER_MONITOR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- parser / DOM */

/* Hard ceilings the caller's limits are clamped to. */
#define JSON_DEPTH_MAX 128              /* nesting of arrays/objects */
#define JSON_INPUT_MAX (256u << 20)     /* bytes; keeps offsets in 32 bits with room to spare */
#define JSON_NUMBER_MAX_LEN 256         /* bytes in one number token */

enum json_type {
	JSON_ABSENT = 0, /* what json_type() says about a NULL value (missing key, bad index) */
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_limits {
	size_t max_input;   /* bytes; larger input is rejected before parsing */
	uint32_t max_depth; /* containers nested inside each other; 0 means only scalars */
	uint32_t max_nodes; /* values in the document, counting containers and the root */
};

struct json_error {
	int code;           /* negative errno: -EINVAL syntax, -E2BIG limit, -ENOMEM */
	size_t offset;      /* byte offset in the input where the problem was found */
	const char *reason; /* static string, never NULL after a failed call */
};

struct json_doc;   /* one allocation holding every value and string of a document */
struct json_value; /* a value inside a doc; valid until json_free(doc) */

/* Parses text[0..len) (need not be NUL-terminated). On success *out owns the document and 0 is
 * returned; otherwise *out is NULL, err (if given) is filled and its code is returned. */
int json_parse(const char *text, size_t len, const struct json_limits *lim,
	       struct json_doc **out, struct json_error *err);
void json_free(struct json_doc *doc);
const struct json_value *json_root(const struct json_doc *doc);
/* Number of values in the document (what max_nodes limited). */
size_t json_node_count(const struct json_doc *doc);

enum json_type json_type(const struct json_value *v);
/* Byte offset in the parsed input where this value starts. */
size_t json_offset(const struct json_value *v);

/* Object member lookup; NULL if v is not an object or has no such key. Keys compare bytewise
 * after unescaping; json_get() cannot find keys containing U+0000, json_get_n() can. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
const struct json_value *json_get_n(const struct json_value *obj, const char *key, size_t key_len);

/* The unescaped UTF-8 bytes of a string value, NUL-terminated for convenience (the string may
 * itself contain NUL bytes, so use *len). NULL if v is not a string. len may be NULL. */
const char *json_string(const struct json_value *v, size_t *len);

/* 0 on success; -EINVAL if v has the wrong type. */
int json_number(const struct json_value *v, double *out);
int json_bool(const struct json_value *v, bool *out);
/* 0 if v is a number with an exact integer value in int64 range: integer tokens are converted
 * exactly; tokens with a fraction or exponent qualify if their double value is integral and
 * within +-2^53. -EINVAL if not a number, -ERANGE if not such an integer. */
int json_int64(const struct json_value *v, int64_t *out);

/* Element count of an array or member count of an object; 0 for anything else. */
size_t json_length(const struct json_value *v);
/* Array element i (or value of object member i, in document order); NULL if out of range. */
const struct json_value *json_index(const struct json_value *v, size_t i);
/* Object member i in document order: returns its value and stores its key (NUL-terminated,
 * length in *key_len). NULL if v is not an object or i is out of range. */
const struct json_value *json_member(const struct json_value *obj, size_t i,
				     const char **key, size_t *key_len);

/* Structural equality: same types, equal numbers (compared as doubles unless both are exact
 * integers), equal strings, arrays element-wise, objects member-wise in document order. */
bool json_equal(const struct json_value *a, const struct json_value *b);

/* Decodes one UTF-8 sequence from s[0..len): returns its length (1-4) and stores the code point,
 * or returns 0 for an invalid, overlong, surrogate, out-of-range or truncated sequence. */
size_t json_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* ---------------------------------------------------------------- writer */

#define JBUF_DEPTH_MAX JSON_DEPTH_MAX

/* Append-only output buffer. Invariants: data[len] == '\0' whenever cap > 0; once err is set
 * every further append is ignored, so a caller can write a whole reply and check err once. */
struct jbuf {
	char *data;
	size_t len;
	size_t cap;      /* bytes allocated (including room for the terminating NUL) */
	size_t max;      /* hard cap on len; growth beyond it sets err = -E2BIG */
	int err;         /* 0, -E2BIG (over max), -ENOMEM, or -EINVAL (unbalanced/misplaced call) */
	bool fixed;      /* data is caller memory that must not be reallocated or freed */
	bool after_key;  /* a key was written and its value is still due */
	bool top_done;   /* a top-level value is complete; only a newline may follow */
	uint32_t depth;  /* open containers */
	uint8_t level[JBUF_DEPTH_MAX]; /* per open container: object? has items? (json_write.c) */
};

/* Heap-backed buffer growing on demand up to max bytes of output. Never fails; the first
 * allocation happens on the first append. */
void jbuf_init(struct jbuf *b, size_t max);
/* Buffer over caller memory mem[0..size); output is limited to size - 1 bytes. */
void jbuf_init_fixed(struct jbuf *b, char *mem, size_t size);
void jbuf_free(struct jbuf *b);
/* Empties the buffer and clears the error and nesting state; keeps the memory. */
void jbuf_reset(struct jbuf *b);
/* Truncates back to a length recorded while no container was open (depth 0), clearing the
 * error: used to discard a partly written reply. -EINVAL if len is beyond the end. */
int jbuf_rewind(struct jbuf *b, size_t len);

void jbuf_object_begin(struct jbuf *b);
void jbuf_object_end(struct jbuf *b);
void jbuf_array_begin(struct jbuf *b);
void jbuf_array_end(struct jbuf *b);
/* Member name inside an object; the next call must write its value. */
void jbuf_key(struct jbuf *b, const char *key);
void jbuf_key_n(struct jbuf *b, const char *key, size_t len);
/* String value; len-less form takes a NUL-terminated string, NULL writes null. */
void jbuf_string(struct jbuf *b, const char *s);
void jbuf_string_n(struct jbuf *b, const char *s, size_t len);
void jbuf_int64(struct jbuf *b, int64_t v);
void jbuf_uint64(struct jbuf *b, uint64_t v);
/* Shortest of %.15g/%.16g/%.17g that reads back to the same double; NaN and infinities are
 * written as null (JSON has no spelling for them). */
void jbuf_double(struct jbuf *b, double v);
void jbuf_bool(struct jbuf *b, bool v);
void jbuf_null(struct jbuf *b);
/* A value the caller has already serialized; it is trusted to be one valid JSON value. */
void jbuf_raw(struct jbuf *b, const char *json, size_t len);
/* Ends a line (JSON Lines framing): '\n', only allowed with no container open. A second
 * top-level value without a newline in between is refused (-EINVAL). */
void jbuf_newline(struct jbuf *b);
/* Serializes a parsed value (members in document order). */
void json_write_value(struct jbuf *b, const struct json_value *v);

/* key + value in one call, for the common object member cases. */
void jbuf_member_string(struct jbuf *b, const char *key, const char *s);
void jbuf_member_int64(struct jbuf *b, const char *key, int64_t v);
void jbuf_member_uint64(struct jbuf *b, const char *key, uint64_t v);
void jbuf_member_bool(struct jbuf *b, const char *key, bool v);

#endif
