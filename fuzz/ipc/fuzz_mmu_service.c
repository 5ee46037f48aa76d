/*
 * fuzz_mmu_service.c - a compromised vCPU sends the shadow MMU whatever its channel lets through
 * (msg_check for CHAN_MMU / DIR_REQ), with guest RAM of the fuzzer's choosing (exactly sized,
 * so ASan sees any walk outside it). Every answer must be one the vCPU's channel accepts, and a
 * ping must come back with its token.
 *
 * Input: [0..1] RAM bytes to take, those bytes, then records
 *   [sel] [type when sel bit 6] [len when sel bit 7] [payload bytes, up to 56]
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/ipc/fuzz_input.h"
#include "mmu/service.h"

#define RAM_BYTES (16 * 4096)

static const uint16_t mmu_types[] = {MSG_MMU_PING, MSG_MMU_PONG};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    uint8_t *ram = calloc(1, RAM_BYTES);
    if (!ram)
        abort();
    fuzz_take(&in, ram, fuzz_u16(&in) % (RAM_BYTES + 1));
    struct mmu_service s;
    mmu_service_init(&s, ram, RAM_BYTES);
    while (in.left) {
        struct msg req, rsp;
        uint8_t sel = fuzz_u8(&in);
        uint16_t type = (sel & 0x40) ? fuzz_u8(&in) : mmu_types[sel % 2];
        uint16_t len = (sel & 0x80) ? fuzz_u8(&in) : sizeof(struct msg_ping);
        uint8_t payload[MSG_PAYLOAD_MAX];
        size_t plen = len < MSG_PAYLOAD_MAX ? len : MSG_PAYLOAD_MAX;
        fuzz_take(&in, payload, plen);
        msg_set(&req, type, payload, plen);
        req.len = len;
        if (msg_check(&req, CHAN_MMU, DIR_REQ) != 0)
            continue; /* the channel would have refused it */
        memset(&rsp, 0x5A, sizeof rsp);
        int rc = mmu_service_handle(&s, &req, &rsp);
        if (rc != 1 && rc != -1)
            abort();
        if (rc == 1 && msg_check(&rsp, CHAN_MMU, DIR_RSP) != 0)
            abort();
        if (req.type == MSG_MMU_PING &&
            (rc != 1 || rsp.type != MSG_MMU_PONG ||
             memcmp(rsp.payload, req.payload, sizeof(struct msg_ping)) != 0))
            abort();
    }
    free(ram);
    return 0;
}
