/* fuzz_json_parse.c: hostile bytes into the strict JSON parser, then a round trip.
 *
 * Anything the parser accepts must serialize without error, parse again under the same
 * limits, compare equal to the first parse, and serialize to the same bytes a second time.
 * Anything it rejects must come with a reason and an offset inside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_limits lim = {.max_input = size, .max_depth = 64, .max_nodes = 1u << 16};
	struct json_doc *first = NULL, *second = NULL;
	struct json_error err;
	struct jbuf out1, out2;

	if (json_parse((const char *)data, size, &lim, &first, &err) != 0) {
		if (first || !err.reason || err.code >= 0 || err.offset > size)
			abort();
		return 0;
	}

	/* Re-serialization grows at most six-fold (a raw DEL becomes \u007f, "9e15" becomes
	 * sixteen digits), so this cap is never the reason for failure. */
	jbuf_init(&out1, 6 * size + 64);
	json_write_value(&out1, json_root(first));
	if (out1.err)
		abort();

	lim.max_input = out1.len;
	if (json_parse(out1.data, out1.len, &lim, &second, &err) != 0)
		abort();
	if (!json_equal(json_root(first), json_root(second)))
		abort();
	if (json_node_count(first) != json_node_count(second))
		abort();

	jbuf_init(&out2, out1.len);
	json_write_value(&out2, json_root(second));
	if (out2.err || out2.len != out1.len || memcmp(out1.data, out2.data, out1.len) != 0)
		abort();

	jbuf_free(&out1);
	jbuf_free(&out2);
	json_free(first);
	json_free(second);
	return 0;
}
