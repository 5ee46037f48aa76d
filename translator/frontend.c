/*
 * frontend.c - block building (see frontend.h). The bytes of the first page and, when the
 * vCPU supplied it, the first 15 bytes of the next page are gathered into a local buffer, so
 * that an instruction straddling the page boundary decodes like any other; the block then
 * records that it depends on the second page too (for self-modifying-code invalidation).
 */
#include "translator/frontend.h"

#include <string.h>

#include "translator/decode.h"

#define PAGE 4096u

static void fetch(const uint8_t *ram, size_t ram_size, uint32_t phys, uint8_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t a = (uint64_t)phys + i;
        dst[i] = a < ram_size ? ram[a] : 0xFF;
    }
}

int fe_build_block(const uint8_t *ram, size_t ram_size, const struct msg_translate *req,
                   struct tc_block_hdr *out, size_t cap, size_t *size)
{
    uint8_t buf[PAGE + IR_MAX_INSN_LEN];
    uint32_t first = PAGE - (req->phys & (PAGE - 1));
    uint32_t avail = first;
    bool next_ok = req->phys_next != XL_NO_PAGE && (req->phys_next & (PAGE - 1)) == 0;
    struct ir_insn *insn = (struct ir_insn *)(out + 1);
    uint32_t off = 0;
    unsigned n = 0;

    if (cap < TC_MAX_BLOCK_BYTES)
        return XL_FETCH_LIMIT;
    fetch(ram, ram_size, req->phys, buf, first);
    if (next_ok) {
        fetch(ram, ram_size, req->phys_next, buf + first, IR_MAX_INSN_LEN);
        avail += IR_MAX_INSN_LEN;
    }
    bool limit_binds = req->limit < avail;
    if (limit_binds)
        avail = req->limit;

    memset(out, 0, sizeof *out);
    out->end = TC_END_FULL;
    out->phys_next = XL_NO_PAGE;
    while (n < TC_MAX_INSNS) {
        int rc = decode_one(buf + off, avail - off, req->eip + off, req->mode, &insn[n]);
        if (rc == DEC_NEED_MORE || off + insn[n].len > avail) {
            if (n == 0)
                return limit_binds ? XL_FETCH_LIMIT : XL_FETCH_PAGE;
            out->end = TC_END_LIMIT;
            break;
        }
        off += insn[n].len;
        n++;
        if (off > first)
            out->phys_next = req->phys_next;
        if (insn[n - 1].flags & IR_F_ENDS_BLOCK) {
            out->end = TC_END_BRANCH;
            break;
        }
        if (off >= first) {
            out->end = TC_END_PAGE;
            break;
        }
    }
    out->magic = TC_BLOCK_MAGIC;
    out->eip = req->eip;
    out->phys = req->phys;
    out->mode = req->mode;
    out->ninsn = (uint16_t)n;
    out->guest_bytes = (uint16_t)off;
    *size = sizeof *out + n * sizeof(struct ir_insn);
    return XL_OK;
}

int fe_translate_inproc(void *ctx, const struct msg_translate *req, const void **block, size_t *size)
{
    struct fe_inproc *f = ctx;
    int rc = fe_build_block(f->ram, f->ram_size, req, &f->buf.hdr, sizeof f->buf, size);
    *block = f->buf.bytes;
    return rc;
}
