/*
 * fuzz_frontend.c - random guest bytes and a random translation request -> the translator's
 * front-end. Whatever it builds must pass the vCPU's own validation of blocks: the front-end
 * and the validator must agree on what a well-formed block is.
 * Input: [0..24) request fields, the rest guest RAM (up to two pages).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "translator/frontend.h"
#include "vcpu/tcache.h"

#define RAM (3 * 4096)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tcache tc;
    static bool ready;
    static struct fe_inproc fe;
    static uint8_t ram[RAM];
    if (!ready) {
        if (tcache_init(&tc, 1 << 20, RAM) < 0)
            abort();
        ready = true;
    }
    if (size < 24)
        return 0;
    struct msg_translate req;
    memcpy(&req, data, 24);
    req.phys %= RAM + 64;               /* now and then just past RAM: reads as all-ones */
    if (req.phys_next != XL_NO_PAGE)
        req.phys_next = (req.phys_next % 4) * 4096;
    req.limit = 1 + req.limit % 8192;
    req.mode &= 3;
    memset(ram, 0, RAM);
    memcpy(ram, data + 24, size - 24 < RAM ? size - 24 : RAM);
    fe.ram = ram;
    fe.ram_size = RAM;
    const void *blk;
    size_t bsize;
    int rc = fe_translate_inproc(&fe, &req, &blk, &bsize);
    if (rc == XL_OK) {
        if (!tcache_insert(&tc, blk, bsize, &req))
            abort(); /* the front-end built something the vCPU would reject */
    } else if (rc != XL_FETCH_LIMIT && rc != XL_FETCH_PAGE) {
        abort();
    }
    return 0;
}
