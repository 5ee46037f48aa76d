/*
 * fuzz_decode.c - libFuzzer harness for the IA-32 decoder.
 *
 * Input: byte 0 = decode mode (DEC_MODE_* bits), bytes 1-4 = EIP (little endian), the rest =
 * instruction bytes. The instruction bytes are copied into a heap buffer of exactly their size,
 * so AddressSanitizer catches any read past `avail`. Properties checked on every input:
 * status is DEC_OK or DEC_NEED_MORE; NEED_MORE only when fewer than 15 bytes were available;
 * len is 1..15 and within the bytes available (except the too-long result, len 15); the result
 * is structurally sound (tests/decoder/insn_check.c); decoding exactly the first len bytes gives
 * the identical instruction.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/decoder/insn_check.h"
#include "translator/decode.h"

static void die(const char *what, const struct ir_insn *in)
{
    char text[256];
    fprintf(stderr, "decode property violated: %s\n  %s\n", what, insn_format(in, text, sizeof(text)));
    abort();
}

static int decode_copy(const uint8_t *src, size_t n, uint32_t eip, unsigned mode, struct ir_insn *out)
{
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    memcpy(buf, src, n);
    int rc = decode_one(buf, n, eip, mode, out);
    free(buf);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    const unsigned mode = data[0] & (DEC_MODE_CS32 | DEC_MODE_PE);
    const uint32_t eip = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
                         (uint32_t)data[4] << 24;
    const uint8_t *bytes = data + 5;
    size_t avail = size - 5;
    if (avail > 64)
        avail = 64;

    struct ir_insn in, again;
    char why[128];
    memset(&in, 0xA5, sizeof(in));
    int rc = decode_copy(bytes, avail, eip, mode, &in);
    if (rc == DEC_NEED_MORE) {
        if (avail >= IR_MAX_INSN_LEN)
            die("NEED_MORE with 15 or more bytes available", &in);
        return 0;
    }
    if (rc != DEC_OK)
        die("unknown status", &in);
    if (insn_check(&in, why, sizeof(why)) != 0)
        die(why, &in);
    const int too_long = (in.flags & IR_F_TOO_LONG) != 0;
    if (too_long ? in.len != IR_MAX_INSN_LEN : in.len > avail)
        die("len beyond the bytes available", &in);
    if (!too_long) {
        memset(&again, 0x5A, sizeof(again));
        if (decode_copy(bytes, in.len, eip, mode, &again) != DEC_OK ||
            memcmp(&in, &again, sizeof(in)) != 0)
            die("decoding the first len bytes again differs", &in);
    }
    return 0;
}
