/*
 * tcache.h - the vCPU's private translation cache: validated copies of the blocks the
 * translator produced, found by a hash table keyed on (eip, physical address, decoding mode),
 * chained to their direct successors, and dropped when their guest code pages are written.
 *
 * Blocks live in one arena; a full arena is flushed and rebuilt. An invalidated block stays in
 * the arena (marked invalid) until the next flush, so chain pointers to it are always safe to
 * follow and simply fail their check. Chains are also cut wholesale (by an epoch) when the
 * guest's linear-to-physical mapping may have changed (CR3, INVLPG, CR0/CR4 paging bits).
 */
#ifndef CLOISTER_VCPU_TCACHE_H
#define CLOISTER_VCPU_TCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ir.h"
#include "ipc/msg.h"
#include "ipc/tcache.h"

#define TB_HASH_BITS 14
#define TB_CHAIN_SLOTS 2

struct tb {
    uint32_t eip, phys, phys_next, mode;
    uint16_t ninsn, guest_bytes;
    uint8_t end;         /* enum tc_end */
    bool valid;
    bool chainable;      /* the successors' EIPs are fixed (direct branch or fall-through) */
    uint8_t pad;
    struct tb *hash_next;
    struct tb *page_next[2];   /* per code page lists: [0] for phys, [1] for phys_next */
    struct {
        struct tb *to;
        uint32_t eip;
        uint32_t epoch;
    } succ[TB_CHAIN_SLOTS];
    struct ir_insn insn[];
};

struct tcache_counters {
    uint64_t translated;     /* blocks accepted from the translator */
    uint64_t rejected;       /* blocks that failed validation (a hostile translator) */
    uint64_t chain_hits;     /* transitions that followed a chain */
    uint64_t lookups;        /* transitions through the dispatcher's hash table */
    uint64_t invalidations;  /* blocks dropped by writes to their code */
    uint64_t flushes;        /* whole-cache flushes (arena full) */
};

struct tcache {
    uint8_t *arena;
    size_t arena_size, used;
    struct tb *hash[1u << TB_HASH_BITS];
    struct tb **page_head;   /* per RAM page: blocks whose code is on it */
    uint8_t *code_bitmap;    /* per RAM page: 1 bit, "has translated code" (shared with vmem) */
    uint32_t ram_pages;
    uint32_t epoch;
    bool current_hit;        /* set when an invalidation hit the block being executed */
    const struct tb *current;
    struct tcache_counters count;
};

int tcache_init(struct tcache *tc, size_t arena_size, uint32_t ram_bytes);
void tcache_free(struct tcache *tc);

struct tb *tcache_find(struct tcache *tc, uint32_t eip, uint32_t phys, uint32_t mode);

/* Copy `size` bytes of a block produced for `req` out of untrusted memory, validate the copy
 * and insert it. Returns the block, or NULL when the block is malformed (counted in
 * rejected). May flush the whole cache to make room. */
struct tb *tcache_insert(struct tcache *tc, const void *untrusted, size_t size,
                         const struct msg_translate *req);

/* A write of `size` bytes at guest physical `phys` hit a page with translated code: drop every
 * block on the pages touched. */
void tcache_code_write(struct tcache *tc, uint32_t phys, unsigned size);

/* Cut every chain (the linear-to-physical mapping may have changed). */
static inline void tcache_unchain_all(struct tcache *tc) { tc->epoch++; }

void tcache_flush(struct tcache *tc);

/* Chaining helpers for the run loop. */
static inline struct tb *tb_next(struct tcache *tc, struct tb *from, uint32_t eip)
{
    for (unsigned i = 0; i < TB_CHAIN_SLOTS; i++) {
        struct tb *t = from->succ[i].to;
        if (t && from->succ[i].eip == eip && from->succ[i].epoch == tc->epoch && t->valid &&
            t->mode == from->mode)
            return t;
    }
    return NULL;
}
void tb_chain(struct tcache *tc, struct tb *from, struct tb *to);

#endif
