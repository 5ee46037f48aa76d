/*
 * shadow.h - the shadow MMU's core: shadow page tables for 32-bit guest paging, kept in one shared
 * region that only the MMU writes, with per-CR3 cached roots and write tracking of the pages that
 * hold guest page tables or translated code. docs/mmu.md describes the structures, the trap path
 * and the rules; walk.h is the page walk every entry comes from.
 *
 * Two sides:
 *  - the MMU side (struct mmu_state, mmu_*): owns the region and its private bookkeeping; trusts
 *    the buffers it was given at mmu_init and nothing else: guest RAM and every request argument
 *    may be hostile.
 *  - the reader side (shadow_lookup, shadow_classify): what the vCPU runs on a miss of its own
 *    TLB, without IPC, over its read-only mapping of the region. It trusts nothing in the
 *    region: every offset is checked against the region size before use.
 *
 * Region layout (all offsets in bytes from the start of the region, little-endian words):
 *   page 0                  struct shadow_header
 *   pages 1 .. pool_pages   the pool: each page is free, a shadow page directory (a root), or a
 *                           shadow page table
 * A root is a 1024-word shadow PD: word i is 0 or the offset of the shadow PT that covers linear
 * [i << 22, (i + 1) << 22). A shadow PT is 1024 shadow PTEs (SHADOW_* below): 0 when there is no
 * shadow translation, else a guest-physical frame with effective permissions.
 */
#ifndef CLOISTER_MMU_SHADOW_H
#define CLOISTER_MMU_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/walk.h"

#define SHADOW_PAGE 4096u
#define SHADOW_ENTRIES 1024u
#define SHADOW_MAGIC 0x48534C43u /* "CLSH" */
#define SHADOW_VERSION 1u

/* Shadow PTE. An entry exists only for a linear page whose guest walk succeeded and set the
 * accessed bits; a write permission only once the guest's dirty bit is set. */
#define SHADOW_P 0x001u       /* a translation exists: supervisor reads and fetches are allowed */
#define SHADOW_WS 0x002u      /* supervisor (CPL 0-2) writes are allowed (CR0.WP applied, D set) */
#define SHADOW_U 0x004u       /* user (CPL 3) reads and fetches are allowed */
#define SHADOW_WU 0x008u      /* user writes are allowed (D set) */
#define SHADOW_TRACKED 0x010u /* the frame holds guest page tables or translated code: every
                                 write must be emulated by the MMU (mmu_guest_write) */
#define SHADOW_G 0x020u       /* global translation (G with CR4.PGE): a TLB may keep it across
                                 CR3 switches */
#define SHADOW_FLAGS 0x03Fu
#define SHADOW_FRAME 0xFFFFF000u

struct shadow_header {
    uint32_t magic;        /* SHADOW_MAGIC */
    uint32_t version;      /* SHADOW_VERSION */
    uint32_t page_size;    /* SHADOW_PAGE */
    uint32_t pool_off;     /* offset of the first pool page (SHADOW_PAGE) */
    uint32_t pool_pages;
    uint32_t active_root;  /* offset of the active root, 0 when paging is off */
    uint32_t epoch;        /* incremented whenever a shadow entry is removed or loses a
                              permission: any cache of entries must then be flushed */
};

/* ---- reader side (vCPU): bounds-checked, never trusts the region ---- */

#define SHADOW_HIT 0
#define SHADOW_MISS 1

/* Looks up `linear` under the root at root_off. Returns SHADOW_HIT with *entry (SHADOW_P set),
 * SHADOW_MISS (no shadow translation: ask the MMU, mmu_fault) or -EPROTO when an offset in the
 * region is out of bounds or misaligned (the MMU misbehaves). region must be 4-byte aligned. */
int shadow_lookup(const void *region, size_t region_size, uint32_t root_off, uint32_t linear,
                  uint32_t *entry);

enum shadow_verdict {
    SHADOW_GO = 0,        /* access RAM (or the device at the frame) directly */
    SHADOW_ASK_FAULT = 1, /* no translation or not enough permission: mmu_fault */
    SHADOW_ASK_WRITE = 2, /* allowed write to a tracked page: mmu_guest_write */
};

/* What the vCPU does with a looked-up entry (0 = miss) for an access at cpl. */
enum shadow_verdict shadow_classify(uint32_t entry, enum mmu_access access, unsigned cpl);

/* ---- MMU side ---- */

#define MMU_DEFAULT_ROOTS 16u
#define MMU_MAX_ROOTS 256u
#define MMU_MIN_REGION (3u * SHADOW_PAGE)
#define MMU_MAX_REGION (64u << 20)

/* One cached root: the shadow of the guest page directory at pd_base for one (CR0.WP, CR4.PSE). */
struct mmu_root {
    bool used;
    bool wp, pse;
    uint32_t pd_base;  /* guest-physical page directory (CR3 bits 31:12) */
    uint32_t pd_page;  /* pool page index of the shadow PD */
    uint64_t stamp;    /* last activation, for LRU eviction */
};

struct mmu_stats {
    uint64_t faults, fills, page_faults, retries;
    uint64_t guest_writes, dropped_entries, dropped_tables, evicted_roots, root_hits;
};

/* Explicit state, no globals. Fields are private to shadow.c and check.c. */
struct mmu_state {
    uint8_t *region;
    size_t region_size;
    uint8_t *ram;
    size_t ram_size;
    uint32_t frames;     /* RAM pages */
    uint32_t pool_pages;
    uint32_t nroots;
    struct mmu_root *roots;
    int active;          /* index into roots, -1 when paging is off */
    uint32_t cr0, cr3, cr4;
    bool cr_loaded;
    uint64_t clock;
    bool flushed;        /* this operation removed or downgraded an entry */
    /* pool bookkeeping */
    uint32_t *free_stack;
    uint32_t free_count;
    uint32_t *page_owner; /* per pool page: MMU_OWNER_FREE, MMU_OWNER_ROOT | root, or a node */
    /* nodes: one per (root, PD index) = root * 1024 + index. node_page: pool page of its shadow
     * PT (MMU_NIL: none); node_src: the guest PT frame it was built from (or MMU_SRC_*);
     * next/prev: links of the list of nodes built from the same guest frame */
    uint32_t *node_page, *node_src, *node_next, *node_prev;
    /* reverse map: per shadow PTE slot (pool page * 1024 + index), links of its frame's list */
    uint32_t *rmap_next, *rmap_prev;
    /* per RAM frame */
    uint32_t *rmap_head;  /* first slot mapping the frame */
    uint32_t *pt_head;    /* first node whose shadow PT was built from the frame */
    uint32_t *pt_count;   /* nodes built from the frame */
    uint16_t *pd_count;   /* roots whose guest PD is the frame */
    uint8_t *code;        /* the frame holds translated code */
    struct mmu_stats stats;
};

#define MMU_OWNER_FREE 0xFFFFFFFFu
#define MMU_OWNER_ROOT 0x80000000u
#define MMU_SRC_NONE 0xFFFFFFFFu /* node without a shadow PT */
#define MMU_SRC_BIG 0xFFFFFFFEu  /* shadow PT split from a 4 MiB guest page */
#define MMU_NIL 0xFFFFFFFFu

/* Sets up the region (header, empty pool) and allocates all private bookkeeping now, none later,
 * so it can run before the sandbox closes mmap. region: region_size bytes, a multiple of 4 KiB
 * in [MMU_MIN_REGION, MMU_MAX_REGION], 4 KiB aligned. ram: ram_size bytes, a multiple of 4 KiB,
 * at most 4 GiB, 4-byte aligned. max_roots: 0 for MMU_DEFAULT_ROOTS, else 1..MMU_MAX_ROOTS
 * (fewer when the pool is small). Returns 0, -EINVAL or -ENOMEM. Private memory is about twice
 * the region size plus 15 bytes per RAM page. */
int mmu_init(struct mmu_state *m, void *region, size_t region_size, uint8_t *ram,
             size_t ram_size, unsigned max_roots);
void mmu_fini(struct mmu_state *m);

struct mmu_cr_result {
    uint32_t root;  /* offset of the active root, 0 when paging is off */
    bool flush;     /* entries were removed or downgraded (any root) */
};

/* The guest's CR0, CR3 and CR4 after any change (MOV CR0/CR3/CR4, task switch). Paging on: makes
 * the root for (CR3, CR0.WP, CR4.PSE) active, reusing a cached one or creating one (evicting the
 * least recently used when all are in use). Paging off (CR0.PG or PE clear): drops every root,
 * since stores then bypass the shadow and tracking lapses. A CR4.PGE change drops every shadow
 * entry (SDM 4.10.4.1). Returns 0 or -EINVAL. */
int mmu_set_cr(struct mmu_state *m, uint32_t cr0, uint32_t cr3, uint32_t cr4,
               struct mmu_cr_result *res);

enum mmu_fault_status {
    MMU_MAPPED = 0,     /* entry installed: the access is now allowed by it */
    MMU_PAGE_FAULT = 1, /* deliver #PF(error) with CR2 = cr2 */
    MMU_RETRY = 2,      /* guest tables changed during the walk: re-execute the access */
};

struct mmu_fault_result {
    uint32_t status;   /* enum mmu_fault_status */
    uint32_t entry;    /* MMU_MAPPED: the shadow entry now in the active root */
    uint32_t phys;     /* MMU_MAPPED: guest-physical address of the linear address */
    uint32_t error;    /* MMU_PAGE_FAULT: #PF error code */
    uint32_t cr2;      /* MMU_PAGE_FAULT: the linear address */
    bool flush;
};

/* A miss or a permission miss in the active root: walks the guest tables for the access at cpl,
 * setting accessed/dirty bits as hardware does, and installs the shadow entry or reports the
 * #PF. Returns 0 with *res, or -EINVAL (paging off, bad access or cpl). */
int mmu_fault(struct mmu_state *m, uint32_t linear, enum mmu_access access, unsigned cpl,
              struct mmu_fault_result *res);

/* INVLPG: drops the shadow entry for the page in the active root. Returns the number of entries
 * removed (0 or 1). */
int mmu_invlpg(struct mmu_state *m, uint32_t linear);

struct mmu_write_result {
    bool code;         /* the page holds translated code: drop translations overlapping it */
    bool flush;
    uint32_t dropped;  /* shadow entries removed */
};

/* Emulates a store of `size` (1..8) bytes of `value` (little-endian) at guest-physical `phys`,
 * which must lie inside RAM and inside one page: applies it to RAM and drops every shadow entry,
 * in every cached root, that the store may change. Returns 0 or -EINVAL. */
int mmu_guest_write(struct mmu_state *m, uint32_t phys, unsigned size, uint64_t value,
                    struct mmu_write_result *res);

/* Marks (on) or unmarks the RAM page containing phys as holding translated code. Returns the
 * number of present entries that gained SHADOW_TRACKED (0 when unmarking), or -EINVAL. */
int mmu_track_code(struct mmu_state *m, uint32_t phys, bool on);

/* Drops every shadow entry of every root (roots themselves stay cached). For paths that change
 * guest RAM without mmu_guest_write while paging is on. Returns the number removed. */
int mmu_flush_all(struct mmu_state *m);

/* Region offset of the active root (0: paging off) and the current epoch. */
uint32_t mmu_active_root(const struct mmu_state *m);
uint32_t mmu_epoch(const struct mmu_state *m);

#endif
