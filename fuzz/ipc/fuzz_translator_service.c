/*
 * fuzz_translator_service.c - a compromised vCPU sends the translator whatever its channel lets
 * through (msg_check for CHAN_XLATE / DIR_REQ), against guest RAM of the fuzzer's choosing and a
 * staging region small enough that the translator's block ring wraps often. Every answer must
 * be one the vCPU's channel accepts; every block the translator says it built must lie inside
 * the staging region and pass the vCPU's own block validation (tcache_insert) for the request
 * it answers. The staging region is malloc'd at its exact size, so ASan sees any stray write.
 *
 * Input: [0] staging size selector, [1..2] RAM bytes to take, those bytes, then records
 *   [sel] [type when sel bit 6] [len when sel bit 7] [24 payload bytes]
 * where sel bit 5 makes TRANSLATE fields plausible (inside RAM, a legal limit and mode).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/ipc/fuzz_input.h"
#include "ipc/tcache.h"
#include "translator/service.h"
#include "vcpu/tcache.h"

#define RAM_BYTES (4 * 4096)

static const uint16_t xl_types[] = {MSG_XL_PING, MSG_XL_TRANSLATE, MSG_XL_PONG, MSG_XL_BLOCK};

static void check_answer(struct tcache *tc, const struct translator_service *s, const struct msg *req,
                         const struct msg *rsp, int rc)
{
    if (rc != 1 && rc != -1)
        abort();
    if (rc == -1) {
        if (req->type == MSG_XL_PING || req->type == MSG_XL_TRANSLATE)
            abort(); /* these two are always answered */
        return;
    }
    if (msg_check(rsp, CHAN_XLATE, DIR_RSP) != 0)
        abort();
    if (req->type == MSG_XL_PING) {
        if (rsp->type != MSG_XL_PONG || memcmp(rsp->payload, req->payload, sizeof(struct msg_ping)))
            abort();
        return;
    }
    if (req->type != MSG_XL_TRANSLATE)
        return;
    struct msg_translate t;
    struct msg_block b;
    memcpy(&t, req->payload, sizeof t);
    memcpy(&b, rsp->payload, sizeof b);
    if (rsp->type != MSG_XL_BLOCK || b.eip != t.eip)
        abort();
    if (b.status != XL_OK)
        return;
    if (b.offset % 64 || b.size < sizeof(struct tc_block_hdr) || b.size > TC_MAX_BLOCK_BYTES ||
        (size_t)b.offset + b.size > s->staging_size)
        abort();
    if (!tcache_insert(tc, s->staging + b.offset, b.size, &t))
        abort(); /* the translator built a block the vCPU rejects */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tcache tc;
    static bool ready;
    static uint8_t ram[RAM_BYTES];
    if (!ready) {
        if (tcache_init(&tc, 1 << 20, RAM_BYTES) < 0)
            abort();
        ready = true;
    }
    tcache_flush(&tc);

    struct fuzz_in in = {data, size};
    /* From less than one block (nothing fits) to a few blocks (the ring wraps). */
    size_t staging_size = (size_t)(fuzz_u8(&in) % 4) * TC_MAX_BLOCK_BYTES + 64 * (fuzz_u8(&in) % 8);
    /* A region is whole pages, so always a multiple of the 64-byte block alignment. */
    staging_size = staging_size ? (staging_size + 63) & ~(size_t)63 : 64;
    uint8_t *staging = malloc(staging_size);
    if (!staging)
        abort();
    memset(staging, 0, staging_size);
    size_t nram = fuzz_u16(&in) % (RAM_BYTES + 1);
    memset(ram, 0, sizeof ram);
    fuzz_take(&in, ram, nram);

    struct translator_service s;
    translator_service_init(&s, ram, RAM_BYTES, staging, staging_size);
    while (in.left) {
        struct msg req, rsp;
        uint8_t sel = fuzz_u8(&in);
        uint16_t type = (sel & 0x40) ? fuzz_u8(&in) : xl_types[sel % 4];
        uint8_t payload[24];
        uint16_t len = (sel & 0x80) ? fuzz_u8(&in) : 0;
        fuzz_take(&in, payload, sizeof payload);
        if ((sel & 0x20) && type == MSG_XL_TRANSLATE) {
            struct msg_translate t;
            memcpy(&t, payload, sizeof t);
            t.phys %= RAM_BYTES + 64; /* now and then past RAM: reads as all-ones */
            if (t.phys_next != XL_NO_PAGE)
                t.phys_next = (t.phys_next % 5) * 4096;
            t.limit = 1 + t.limit % 8192;
            t.mode &= 3;
            memcpy(payload, &t, sizeof t);
        }
        msg_set(&req, type, payload, sizeof payload);
        req.len = (sel & 0x80) ? len
                  : type == MSG_XL_TRANSLATE ? sizeof(struct msg_translate) : sizeof(struct msg_ping);
        if (req.len < MSG_PAYLOAD_MAX)
            memset(req.payload + req.len, 0, MSG_PAYLOAD_MAX - req.len);
        if (msg_check(&req, CHAN_XLATE, DIR_REQ) != 0)
            continue; /* the channel would have refused it */
        uint64_t before = s.requests;
        int rc = translator_service_handle(&s, &req, &rsp);
        if (s.requests != before + 1 || s.next > staging_size)
            abort();
        check_answer(&tc, &s, &req, &rsp, rc);
    }
    free(staging);
    return 0;
}
