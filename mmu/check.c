/*
 * check.c - the shadow MMU's invariant checker (see check.h for what it verifies).
 *
 * Trusts: the mmu_state it is given to be the one mmu_init set up (array sizes); it does not
 * trust any of the values in those arrays or in the region: every index is range-checked before
 * use and every list walk is bounded, so a corrupted state is reported, not followed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/check.h"
#include "vcpu/cpu.h"

#define PAGE SHADOW_PAGE
#define NENT SHADOW_ENTRIES
#define NIL MMU_NIL
#define ZERO_RUN 16u

/* The checker's own branches say nothing about the code under test: keep them out of a fuzzer's
 * coverage feedback (and out of its cost). */
#if defined(__clang__) && __clang_major__ >= 13
#define CHECKER __attribute__((no_sanitize("coverage")))
#else
#define CHECKER
#endif

static const uint8_t zero_page[SHADOW_PAGE];

struct checker {
    const struct mmu_state *m;
    char *msg;
    size_t msg_size;
    uint32_t *want_tracked; /* per frame: recomputed tracking reasons (bit 0 PD, 1 PT, 2 code) */
    uint32_t *present;      /* per frame: present in-RAM shadow entries mapping it */
    uint32_t *pt_nodes;     /* per frame: nodes built from it */
    uint32_t *pd_roots;     /* per frame: used roots whose guest PD it is */
    uint32_t *root_tables;  /* per root: pool pages owned by its nodes */
    uint8_t *seen;          /* per pool page / per slot marks */
};

static CHECKER int fail(struct checker *c, const char *fmt, ...)
{
    if (c->msg_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, c->msg_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static CHECKER uint32_t rd(const struct mmu_state *m, uint32_t off)
{
    return __atomic_load_n((const uint32_t *)(const void *)(m->region + off), __ATOMIC_ACQUIRE);
}

static CHECKER uint32_t page_offset(uint32_t page)
{
    return PAGE * (page + 1);
}

static CHECKER int check_header(struct checker *c)
{
    const struct mmu_state *m = c->m;
    const struct shadow_header *h = (const struct shadow_header *)(const void *)m->region;
    if (h->magic != SHADOW_MAGIC || h->version != SHADOW_VERSION || h->page_size != PAGE ||
        h->pool_off != PAGE || h->pool_pages != m->pool_pages)
        return fail(c, "header fields wrong");
    if (m->active >= (int)m->nroots || (m->active >= 0 && !m->roots[m->active].used))
        return fail(c, "active root %d is not a used root", m->active);
    uint32_t want = m->active < 0 ? 0 : page_offset(m->roots[m->active].pd_page);
    if (h->active_root != want)
        return fail(c, "header active_root %#x, expected %#x", h->active_root, want);
    return 0;
}

/* Pool: each page free (and on the free stack exactly once), a root's PD, or one node's PT. */
static CHECKER int check_pool(struct checker *c)
{
    const struct mmu_state *m = c->m;
    memset(c->seen, 0, m->pool_pages);
    if (m->free_count > m->pool_pages)
        return fail(c, "free_count %u > pool %u", m->free_count, m->pool_pages);
    for (uint32_t k = 0; k < m->free_count; k++) {
        uint32_t p = m->free_stack[k];
        if (p >= m->pool_pages || c->seen[p])
            return fail(c, "free stack entry %u bad or repeated (%u)", k, p);
        c->seen[p] = 1;
        if (m->page_owner[p] != MMU_OWNER_FREE)
            return fail(c, "page %u on the free stack but owned by %#x", p, m->page_owner[p]);
        if (memcmp(m->region + page_offset(p), zero_page, PAGE) != 0)
            return fail(c, "free page %u not zero", p);
    }
    for (uint32_t p = 0; p < m->pool_pages; p++) {
        uint32_t o = m->page_owner[p];
        if (o == MMU_OWNER_FREE) {
            if (!c->seen[p])
                return fail(c, "page %u free but not on the free stack", p);
        } else if (o & MMU_OWNER_ROOT) {
            uint32_t r = o & ~MMU_OWNER_ROOT;
            if (r >= m->nroots || !m->roots[r].used || m->roots[r].pd_page != p)
                return fail(c, "page %u claims root %u", p, r);
        } else {
            if (o >= m->nroots * NENT || m->node_page[o] != p || !m->roots[o / NENT].used)
                return fail(c, "page %u claims node %u", p, o);
        }
    }
    return 0;
}

/* Roots: distinct keys; every PD word zero or the offset of node (r, i)'s page, and as many
 * non-zero words as the pool has pages owned by the root's nodes. */
static CHECKER int check_roots(struct checker *c)
{
    const struct mmu_state *m = c->m;
    memset(c->root_tables, 0, sizeof(uint32_t) * m->nroots);
    for (uint32_t p = 0; p < m->pool_pages; p++) {
        uint32_t o = m->page_owner[p];
        if (o != MMU_OWNER_FREE && !(o & MMU_OWNER_ROOT))
            c->root_tables[o / NENT]++;
    }
    for (uint32_t r = 0; r < m->nroots; r++) {
        const struct mmu_root *root = &m->roots[r];
        if (!root->used) {
            if (c->root_tables[r] != 0)
                return fail(c, "unused root %u owns %u tables", r, c->root_tables[r]);
            continue;
        }
        if (root->pd_page >= m->pool_pages || m->page_owner[root->pd_page] != (MMU_OWNER_ROOT | r))
            return fail(c, "root %u PD page %u not owned by it", r, root->pd_page);
        if (root->pd_base & ~MMU_E_FRAME)
            return fail(c, "root %u pd_base %#x not page aligned", r, root->pd_base);
        for (uint32_t q = r + 1; q < m->nroots; q++) {
            const struct mmu_root *o = &m->roots[q];
            if (o->used && o->pd_base == root->pd_base && o->wp == root->wp && o->pse == root->pse)
                return fail(c, "roots %u and %u have the same key", r, q);
        }
        uint32_t words = 0, pd = page_offset(root->pd_page);
        for (uint32_t i = 0; i < NENT; i++) {
            if (i % ZERO_RUN == 0 && memcmp(m->region + pd + 4 * i, zero_page, 4 * ZERO_RUN) == 0) {
                i += ZERO_RUN - 1;
                continue;
            }
            uint32_t n = r * NENT + i, word = rd(m, pd + 4 * i), page = m->node_page[n];
            if (word == 0)
                continue;
            if (page >= m->pool_pages || m->page_owner[page] != n || word != page_offset(page))
                return fail(c, "root %u PD[%u] = %#x, node page %u", r, i, word, page);
            if (m->node_src[n] == MMU_SRC_NONE)
                return fail(c, "root %u node %u has a page but no source", r, i);
            words++;
        }
        if (words != c->root_tables[r])
            return fail(c, "root %u: %u PD words, %u tables", r, words, c->root_tables[r]);
    }
    return 0;
}

/* Recompute the tracking reasons of every RAM frame from the roots, nodes and code marks. */
static CHECKER int recompute_tracking(struct checker *c)
{
    const struct mmu_state *m = c->m;
    memset(c->want_tracked, 0, sizeof(uint32_t) * (m->frames ? m->frames : 1));
    memset(c->pt_nodes, 0, sizeof(uint32_t) * (m->frames ? m->frames : 1));
    memset(c->pd_roots, 0, sizeof(uint32_t) * (m->frames ? m->frames : 1));
    for (uint32_t r = 0; r < m->nroots; r++) {
        uint32_t f = m->roots[r].pd_base >> 12;
        if (m->roots[r].used && f < m->frames) {
            c->want_tracked[f] |= 1;
            c->pd_roots[f]++;
        }
    }
    for (uint32_t p = 0; p < m->pool_pages; p++) {
        uint32_t o = m->page_owner[p];
        if (o == MMU_OWNER_FREE || (o & MMU_OWNER_ROOT))
            continue;
        uint32_t src = m->node_src[o];
        if (src < m->frames) {
            c->want_tracked[src] |= 2;
            c->pt_nodes[src]++;
        }
    }
    for (uint32_t f = 0; f < m->frames; f++) {
        if (m->pd_count[f] != c->pd_roots[f])
            return fail(c, "frame %#x pd_count %u, %u roots use it", f, m->pd_count[f],
                        c->pd_roots[f]);
        if (m->pt_count[f] != c->pt_nodes[f])
            return fail(c, "frame %#x pt_count %u, %u nodes", f, m->pt_count[f], c->pt_nodes[f]);
        if (m->code[f] > 1)
            return fail(c, "frame %#x code mark %u", f, m->code[f]);
        if (m->code[f])
            c->want_tracked[f] |= 4;
    }
    return 0;
}

/* The guest PDE a node was built from must still say the same thing. */
static CHECKER int check_node_source(struct checker *c, uint32_t r, uint32_t i, uint32_t src)
{
    const struct mmu_state *m = c->m;
    const struct mmu_root *root = &m->roots[r];
    uint32_t pde = mmu_entry_read(m->ram, m->ram_size, root->pd_base | (i << 2));
    bool big = root->pse && (pde & MMU_E_PS);
    if (!(pde & MMU_E_P) || !(pde & MMU_E_A))
        return fail(c, "root %u PD[%u]: shadow PT for guest PDE %#x (not present or A clear)", r,
                    i, pde);
    if (src == MMU_SRC_BIG) {
        if (!big || (pde & MMU_RSVD_BIG_PDE))
            return fail(c, "root %u PD[%u]: 4 MiB shadow PT but guest PDE %#x", r, i, pde);
    } else if (big || src != pde >> 12) {
        return fail(c, "root %u PD[%u]: shadow PT from frame %#x but guest PDE %#x", r, i, src,
                    pde);
    }
    return 0;
}

static CHECKER int check_entry(struct checker *c, uint32_t r, uint32_t linear, uint32_t e)
{
    const struct mmu_state *m = c->m;
    const struct mmu_root *root = &m->roots[r];
    struct mmu_walk_args a = {
        .ram = m->ram,
        .ram_size = m->ram_size,
        .cr0 = CPU_CR0_PG | CPU_CR0_PE | (root->wp ? CPU_CR0_WP : 0),
        .cr3 = root->pd_base,
        .cr4 = root->pse ? CPU_CR4_PSE : 0,
        .linear = linear,
        .access = MMU_READ,
        .cpl = 0,
        .set_ad = false,
    };
    struct mmu_walk_info w;
    int rc = mmu_walk_ex(&a, &w);
    if (e & ~(SHADOW_FRAME | SHADOW_FLAGS))
        return fail(c, "root %u %#x: entry %#x has unknown bits", r, linear, e);
    if (rc != MMU_WALK_OK)
        return fail(c, "root %u %#x: entry %#x but the walk gives %d (error %#x)", r, linear, e,
                    rc, w.pf_error);
    if ((w.phys & SHADOW_FRAME) != (e & SHADOW_FRAME))
        return fail(c, "root %u %#x: entry frame %#x, walk %#x", r, linear, e & SHADOW_FRAME,
                    w.phys & SHADOW_FRAME);
    if (!(w.pde & MMU_E_A) || (w.has_pte && !(w.pte & MMU_E_A)))
        return fail(c, "root %u %#x: entry %#x but guest A clear (pde %#x pte %#x)", r, linear, e,
                    w.pde, w.pte);
    if (((e & SHADOW_U) != 0) != w.user_ok)
        return fail(c, "root %u %#x: entry %#x U differs from the walk", r, linear, e);
    if ((e & SHADOW_WS) && !(w.sup_write_ok && w.dirty))
        return fail(c, "root %u %#x: entry %#x supervisor-writable, walk does not allow it", r,
                    linear, e);
    if ((e & SHADOW_WU) && !(w.user_write_ok && w.dirty))
        return fail(c, "root %u %#x: entry %#x user-writable, walk does not allow it", r, linear,
                    e);
    bool g = w.global && (m->cr4 & CPU_CR4_PGE);
    if (((e & SHADOW_G) != 0) != g)
        return fail(c, "root %u %#x: entry %#x G differs from the walk", r, linear, e);
    uint32_t f = e >> 12;
    bool want = f < m->frames && c->want_tracked[f] != 0;
    if (((e & SHADOW_TRACKED) != 0) != want)
        return fail(c, "root %u %#x: entry %#x TRACKED should be %d (reasons %#x)", r, linear, e,
                    want, f < m->frames ? c->want_tracked[f] : 0);
    return 0;
}

/* Every shadow PT: source still valid, every entry equal to a fresh walk. */
static CHECKER int check_tables(struct checker *c)
{
    const struct mmu_state *m = c->m;
    memset(c->present, 0, sizeof(uint32_t) * (m->frames ? m->frames : 1));
    for (uint32_t page = 0; page < m->pool_pages; page++) {
        uint32_t n = m->page_owner[page];
        if (n == MMU_OWNER_FREE || (n & MMU_OWNER_ROOT))
            continue;
        uint32_t r = n / NENT, i = n % NENT;
        if (check_node_source(c, r, i, m->node_src[n]) != 0)
            return -1;
        for (uint32_t j = 0; j < NENT; j++) {
            /* most of a shadow PT is empty: skip zero runs a cache line at a time */
            if (j % ZERO_RUN == 0 &&
                memcmp(m->region + page_offset(page) + 4 * j, zero_page, 4 * ZERO_RUN) == 0) {
                j += ZERO_RUN - 1;
                continue;
            }
            uint32_t e = rd(m, page_offset(page) + 4 * j);
            if (e == 0)
                continue;
            if (!(e & SHADOW_P))
                return fail(c, "root %u PT %u[%u]: non-present entry %#x not zero", r, i, j, e);
            if (check_entry(c, r, (i << 22) | (j << 12), e) != 0)
                return -1;
            if ((e >> 12) < m->frames)
                c->present[e >> 12]++;
        }
    }
    return 0;
}

/* Reverse map and per-frame node lists: exactly the present entries / nodes, links consistent. */
static CHECKER int check_lists(struct checker *c)
{
    const struct mmu_state *m = c->m;
    uint64_t slots = (uint64_t)m->pool_pages * NENT, nodes = (uint64_t)m->nroots * NENT;
    for (uint32_t f = 0; f < m->frames; f++) {
        uint32_t count = 0, prev = NIL;
        for (uint32_t s = m->rmap_head[f]; s != NIL; s = m->rmap_next[s]) {
            if (s >= slots || count >= slots)
                return fail(c, "frame %#x reverse map runs away (slot %u)", f, s);
            if (m->rmap_prev[s] != prev)
                return fail(c, "frame %#x reverse map slot %u bad back link", f, s);
            uint32_t page = s / NENT;
            if (m->page_owner[page] == MMU_OWNER_FREE || (m->page_owner[page] & MMU_OWNER_ROOT))
                return fail(c, "frame %#x reverse map slot %u not in a shadow PT", f, s);
            uint32_t e = rd(m, page_offset(page) + 4 * (s % NENT));
            if (!(e & SHADOW_P) || (e >> 12) != f)
                return fail(c, "frame %#x reverse map slot %u holds %#x", f, s, e);
            prev = s;
            count++;
        }
        if (count != c->present[f])
            return fail(c, "frame %#x reverse map has %u slots, %u entries map it", f, count,
                        c->present[f]);
        count = 0;
        prev = NIL;
        for (uint32_t n = m->pt_head[f]; n != NIL; n = m->node_next[n]) {
            if (n >= nodes || count >= nodes)
                return fail(c, "frame %#x node list runs away (node %u)", f, n);
            if (m->node_prev[n] != prev || m->node_src[n] != f || m->node_page[n] == NIL)
                return fail(c, "frame %#x node list: node %u inconsistent", f, n);
            prev = n;
            count++;
        }
        if (count != c->pt_nodes[f])
            return fail(c, "frame %#x node list has %u nodes, %u built from it", f, count,
                        c->pt_nodes[f]);
    }
    return 0;
}

CHECKER int mmu_check(const struct mmu_state *m, char *msg, size_t msg_size)
{
    struct checker c = {.m = m, .msg = msg, .msg_size = msg_size};
    size_t frames = m->frames ? m->frames : 1;
    int rc = -ENOMEM;

    if (msg_size > 0)
        msg[0] = '\0';
    c.want_tracked = calloc(frames, sizeof(uint32_t));
    c.present = calloc(frames, sizeof(uint32_t));
    c.pt_nodes = calloc(frames, sizeof(uint32_t));
    c.pd_roots = calloc(frames, sizeof(uint32_t));
    c.root_tables = calloc(m->nroots ? m->nroots : 1, sizeof(uint32_t));
    c.seen = calloc(m->pool_pages ? m->pool_pages : 1, 1);
    if (c.want_tracked && c.present && c.pt_nodes && c.pd_roots && c.root_tables && c.seen) {
        rc = check_header(&c);
        if (rc == 0)
            rc = check_pool(&c);
        if (rc == 0)
            rc = check_roots(&c);
        if (rc == 0)
            rc = recompute_tracking(&c);
        if (rc == 0)
            rc = check_tables(&c);
        if (rc == 0)
            rc = check_lists(&c);
    }
    free(c.want_tracked);
    free(c.present);
    free(c.pt_nodes);
    free(c.pd_roots);
    free(c.root_tables);
    free(c.seen);
    return rc;
}
