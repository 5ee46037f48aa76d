/*
 * tcache.c - the vCPU's private translation cache (see tcache.h).
 *
 * Trust: blocks arrive from the translator, which may be compromised. tcache_insert copies the
 * block out of the shared region first and validates only the copy: header fields against the
 * vCPU's own request, instruction count against the size, every instruction with
 * ir_insn_valid(), and the instruction lengths against the bytes the block claims to cover.
 */
#include "vcpu/tcache.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 4096u

static unsigned hash(uint32_t eip, uint32_t phys, uint32_t mode)
{
    uint32_t h = eip * 0x9E3779B1u ^ phys * 0x85EBCA77u ^ mode;
    return (h ^ (h >> 15)) & ((1u << TB_HASH_BITS) - 1);
}

int tcache_init(struct tcache *tc, size_t arena_size, uint32_t ram_bytes)
{
    memset(tc, 0, sizeof *tc);
    tc->ram_pages = ram_bytes / PAGE;
    tc->arena = malloc(arena_size);
    tc->page_head = calloc(tc->ram_pages ? tc->ram_pages : 1, sizeof *tc->page_head);
    tc->code_bitmap = calloc((tc->ram_pages + 7) / 8 + 1, 1);
    if (!tc->arena || !tc->page_head || !tc->code_bitmap) {
        tcache_free(tc);
        return -1;
    }
    tc->arena_size = arena_size;
    return 0;
}

void tcache_free(struct tcache *tc)
{
    free(tc->arena);
    free(tc->page_head);
    free(tc->code_bitmap);
    memset(tc, 0, sizeof *tc);
}

void tcache_flush(struct tcache *tc)
{
    tc->used = 0;
    memset(tc->hash, 0, sizeof tc->hash);
    memset(tc->page_head, 0, tc->ram_pages * sizeof *tc->page_head);
    memset(tc->code_bitmap, 0, (tc->ram_pages + 7) / 8 + 1);
    tc->epoch++;
    tc->current_hit = tc->current != NULL;
    tc->current = NULL;
    tc->count.flushes++;
}

struct tb *tcache_find(struct tcache *tc, uint32_t eip, uint32_t phys, uint32_t mode)
{
    tc->count.lookups++;
    for (struct tb *t = tc->hash[hash(eip, phys, mode)]; t; t = t->hash_next)
        if (t->eip == eip && t->phys == phys && t->mode == mode && t->valid)
            return t;
    return NULL;
}

static bool chainable_end(const struct tb *t)
{
    if (t->end != TC_END_BRANCH)
        return true; /* fall-through to a fixed address */
    switch (t->insn[t->ninsn - 1].op) {
    case IR_JMP: case IR_JCC: case IR_JCXZ: case IR_LOOP: case IR_LOOPE: case IR_LOOPNE:
    case IR_CALL:
        return true;
    default:
        return false;
    }
}

static bool block_ok(const struct tc_block_hdr *h, size_t size, const struct msg_translate *req)
{
    if (size < sizeof *h || h->magic != TC_BLOCK_MAGIC || h->eip != req->eip ||
        h->phys != req->phys || h->mode != req->mode || h->ninsn == 0 ||
        h->ninsn > TC_MAX_INSNS || size != sizeof *h + (size_t)h->ninsn * sizeof(struct ir_insn) ||
        h->end > TC_END_FULL || (h->phys_next != XL_NO_PAGE && h->phys_next != req->phys_next))
        return false;
    const struct ir_insn *in = (const void *)(h + 1);
    unsigned bytes = 0;
    for (unsigned i = 0; i < h->ninsn; i++) {
        if (!ir_insn_valid(&in[i]))
            return false;
        /* Only the last instruction may end the block. */
        if ((in[i].flags & IR_F_ENDS_BLOCK) && i + 1 != h->ninsn)
            return false;
        bytes += in[i].len;
    }
    /* The block covers what its instructions cover, and at most one page plus one
     * instruction reaching into the next page (which must then be named). */
    uint32_t first = PAGE - (req->phys & (PAGE - 1));
    if (bytes != h->guest_bytes || bytes > req->limit || bytes > first + IR_MAX_INSN_LEN - 1)
        return false;
    if (bytes > first && h->phys_next == XL_NO_PAGE)
        return false;
    return true;
}

static void page_link(struct tcache *tc, struct tb *t, unsigned which, uint32_t phys)
{
    uint32_t page = phys / PAGE;
    if (page >= tc->ram_pages) {
        t->page_next[which] = NULL;
        return; /* code outside RAM cannot be written through RAM, nothing to track */
    }
    t->page_next[which] = tc->page_head[page];
    tc->page_head[page] = t;
    tc->code_bitmap[page / 8] |= (uint8_t)(1u << (page % 8));
}

struct tb *tcache_insert(struct tcache *tc, const void *untrusted, size_t size,
                         const struct msg_translate *req)
{
    size_t need = sizeof(struct tb) + TC_MAX_INSNS * sizeof(struct ir_insn);
    if (size > TC_MAX_BLOCK_BYTES || size < sizeof(struct tc_block_hdr)) {
        tc->count.rejected++;
        return NULL;
    }
    if (tc->used + need > tc->arena_size)
        tcache_flush(tc);
    struct tb *t = (struct tb *)(tc->arena + tc->used);
    /* Copy first: the translator may change the shared bytes after we look at them. */
    union {
        struct tc_block_hdr h;
        uint8_t bytes[TC_MAX_BLOCK_BYTES];
    } copy;
    memcpy(copy.bytes, untrusted, size);
    if (!block_ok(&copy.h, size, req)) {
        tc->count.rejected++;
        return NULL;
    }
    memset(t, 0, sizeof *t);
    t->eip = copy.h.eip;
    t->phys = copy.h.phys;
    t->phys_next = copy.h.phys_next;
    t->mode = copy.h.mode;
    t->ninsn = copy.h.ninsn;
    t->guest_bytes = copy.h.guest_bytes;
    t->end = (uint8_t)copy.h.end;
    t->valid = true;
    memcpy(t->insn, copy.bytes + sizeof copy.h, t->ninsn * sizeof(struct ir_insn));
    t->chainable = chainable_end(t);
    tc->used += (sizeof(struct tb) + t->ninsn * sizeof(struct ir_insn) + 63) & ~(size_t)63;

    unsigned h = hash(t->eip, t->phys, t->mode);
    t->hash_next = tc->hash[h];
    tc->hash[h] = t;
    page_link(tc, t, 0, t->phys);
    if (t->phys_next != XL_NO_PAGE)
        page_link(tc, t, 1, t->phys_next);
    tc->count.translated++;
    return t;
}

static void invalidate_page(struct tcache *tc, uint32_t page)
{
    struct tb *t = tc->page_head[page];
    tc->page_head[page] = NULL;
    tc->code_bitmap[page / 8] &= (uint8_t)~(1u << (page % 8));
    while (t) {
        /* A block sits on at most two page lists; follow the link of this page's list. */
        unsigned which = (t->phys / PAGE == page) ? 0 : 1;
        struct tb *next = t->page_next[which];
        if (t->valid) {
            t->valid = false;
            tc->count.invalidations++;
            if (t == tc->current)
                tc->current_hit = true;
        }
        t = next;
    }
}

void tcache_code_write(struct tcache *tc, uint32_t phys, unsigned size)
{
    uint32_t first = phys / PAGE, last = (uint32_t)(((uint64_t)phys + (size ? size - 1 : 0)) / PAGE);
    for (uint32_t p = first; p <= last && p < tc->ram_pages; p++)
        if (tc->code_bitmap[p / 8] & (1u << (p % 8)))
            invalidate_page(tc, p);
}

void tb_chain(struct tcache *tc, struct tb *from, struct tb *to)
{
    if (!from->chainable || !from->valid || !to->valid)
        return;
    unsigned slot = 0;
    for (unsigned i = 0; i < TB_CHAIN_SLOTS; i++) {
        if (from->succ[i].to == NULL || from->succ[i].epoch != tc->epoch ||
            from->succ[i].eip == to->eip) {
            slot = i;
            break;
        }
        slot = (i + 1) % TB_CHAIN_SLOTS;
    }
    from->succ[slot].to = to;
    from->succ[slot].eip = to->eip;
    from->succ[slot].epoch = tc->epoch;
}
