/*
 * shadow.c - the shadow page tables: cached roots per (guest CR3, CR0.WP, CR4.PSE), lazily filled
 * from walks of the guest tables, kept equal to those tables by write tracking (docs/mmu.md).
 *
 * MMU side trusts: the region, RAM and the private arrays set up by mmu_init. Guest RAM contents
 * and every argument are hostile; frames outside RAM are never indexed into per-frame arrays.
 * The region is written only here (the vCPU maps it read-only), so values read back from it are
 * ours; words a reader may look at concurrently are stored atomically.
 *
 * Reader side (shadow_lookup, shadow_classify) trusts nothing in the region.
 *
 * Coherence rule: every shadow entry of every cached root equals what a fresh walk of that root's
 * guest tables gives (mmu/check.c verifies it). It holds because the frames those walks read -
 * each root's guest page directory and the guest page table behind each shadow PT - are
 * "tracked": every shadow entry mapping them carries SHADOW_TRACKED, so every store to them
 * reaches mmu_guest_write, which drops the shadow entries the store may change.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/shadow.h"
#include "vcpu/cpu.h"

#define PAGE SHADOW_PAGE
#define NENT SHADOW_ENTRIES
#define NIL MMU_NIL

/* Entry bits a store must change for any shadow entry to depend on it: PWT/PCD (memory type,
 * not modelled) and bits 11:9 (ignored in every kind of entry) do not matter. */
#define RELEVANT_BITS (~(MMU_E_PWT | MMU_E_PCD | 0xE00u))

/* ---- region access ---- */

static uint32_t ld(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void st(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static struct shadow_header *header(struct mmu_state *m)
{
    return (struct shadow_header *)(void *)m->region;
}

static uint32_t page_offset(uint32_t page)
{
    return PAGE * (page + 1);
}

static uint32_t *table(struct mmu_state *m, uint32_t page)
{
    return (uint32_t *)(void *)(m->region + page_offset(page));
}

static bool tracked(const struct mmu_state *m, uint32_t frame)
{
    return frame < m->frames &&
           (m->pd_count[frame] != 0 || m->pt_count[frame] != 0 || m->code[frame] != 0);
}

/* ---- reverse map: shadow PTE slots by guest frame ---- */

static void rmap_link(struct mmu_state *m, uint32_t slot, uint32_t frame)
{
    uint32_t head = m->rmap_head[frame];
    m->rmap_next[slot] = head;
    m->rmap_prev[slot] = NIL;
    if (head != NIL)
        m->rmap_prev[head] = slot;
    m->rmap_head[frame] = slot;
}

static void rmap_unlink(struct mmu_state *m, uint32_t slot, uint32_t frame)
{
    uint32_t prev = m->rmap_prev[slot], next = m->rmap_next[slot];
    if (prev != NIL)
        m->rmap_next[prev] = next;
    else
        m->rmap_head[frame] = next;
    if (next != NIL)
        m->rmap_prev[next] = prev;
    m->rmap_next[slot] = m->rmap_prev[slot] = NIL;
}

/* Every shadow PTE store goes through here so that the reverse map follows it. */
static void slot_write(struct mmu_state *m, uint32_t page, uint32_t idx, uint32_t entry)
{
    uint32_t *t = table(m, page);
    uint32_t old = ld(&t[idx]);
    uint32_t slot = page * NENT + idx;
    if ((old & SHADOW_P) && (old >> 12) < m->frames)
        rmap_unlink(m, slot, old >> 12);
    st(&t[idx], entry);
    if ((entry & SHADOW_P) && (entry >> 12) < m->frames)
        rmap_link(m, slot, entry >> 12);
}

/* After a change of the frame's tracking reasons: make the TRACKED bit of every entry mapping it
 * agree. Returns how many present entries gained the bit. */
static int retrack(struct mmu_state *m, uint32_t frame, bool before)
{
    bool now = tracked(m, frame);
    int changed = 0;
    if (now == before)
        return 0;
    for (uint32_t s = m->rmap_head[frame]; s != NIL; s = m->rmap_next[s]) {
        uint32_t *t = table(m, s / NENT);
        uint32_t e = ld(&t[s % NENT]);
        st(&t[s % NENT], now ? e | SHADOW_TRACKED : e & ~SHADOW_TRACKED);
        changed++;
    }
    if (!now)
        return 0;
    if (changed)
        m->flushed = true;
    return changed;
}

/* ---- pool ---- */

static void page_free(struct mmu_state *m, uint32_t page)
{
    m->page_owner[page] = MMU_OWNER_FREE;
    m->free_stack[m->free_count++] = page;
}

static bool reclaim(struct mmu_state *m, int keep);

/* A zeroed pool page, evicting roots other than `keep` (then keep's own tables) when the pool is
 * empty. NIL only if nothing at all can be reclaimed. */
static uint32_t page_alloc(struct mmu_state *m, int keep)
{
    while (m->free_count == 0) {
        if (!reclaim(m, keep))
            return NIL;
    }
    uint32_t page = m->free_stack[--m->free_count];
    memset(table(m, page), 0, PAGE);
    return page;
}

/* ---- nodes: (root, PD index) and the shadow PT behind it ---- */

static void node_attach(struct mmu_state *m, uint32_t n, uint32_t page, uint32_t src)
{
    uint32_t r = n / NENT, i = n % NENT;
    m->node_page[n] = page;
    m->node_src[n] = src;
    m->page_owner[page] = n;
    st(&table(m, m->roots[r].pd_page)[i], page_offset(page));
    if (src < m->frames) {
        bool before = tracked(m, src);
        uint32_t head = m->pt_head[src];
        m->node_next[n] = head;
        m->node_prev[n] = NIL;
        if (head != NIL)
            m->node_prev[head] = n;
        m->pt_head[src] = n;
        m->pt_count[src]++;
        retrack(m, src, before);
    }
}

/* Removes node n's shadow PT. Returns the number of present entries it held. */
static int node_drop(struct mmu_state *m, uint32_t n)
{
    uint32_t page = m->node_page[n];
    uint32_t src = m->node_src[n];
    int removed = 0;
    if (page == NIL)
        return 0;
    uint32_t *t = table(m, page);
    for (uint32_t j = 0; j < NENT; j++) {
        if (ld(&t[j]) & SHADOW_P) {
            slot_write(m, page, j, 0);
            removed++;
        }
    }
    st(&table(m, m->roots[n / NENT].pd_page)[n % NENT], 0);
    if (src < m->frames) {
        bool before = tracked(m, src);
        uint32_t prev = m->node_prev[n], next = m->node_next[n];
        if (prev != NIL)
            m->node_next[prev] = next;
        else
            m->pt_head[src] = next;
        if (next != NIL)
            m->node_prev[next] = prev;
        m->pt_count[src]--;
        retrack(m, src, before);
    }
    m->node_next[n] = m->node_prev[n] = NIL;
    m->node_page[n] = NIL;
    m->node_src[n] = MMU_SRC_NONE;
    page_free(m, page);
    m->stats.dropped_tables++;
    m->stats.dropped_entries += (uint64_t)removed;
    if (removed)
        m->flushed = true;
    return removed;
}

static int root_drop_tables(struct mmu_state *m, uint32_t r)
{
    int removed = 0;
    for (uint32_t i = 0; i < NENT; i++)
        removed += node_drop(m, r * NENT + i);
    return removed;
}

static void root_drop(struct mmu_state *m, uint32_t r)
{
    struct mmu_root *root = &m->roots[r];
    uint32_t f = root->pd_base >> 12;
    root_drop_tables(m, r);
    if (f < m->frames) {
        bool before = tracked(m, f);
        m->pd_count[f]--;
        retrack(m, f, before);
    }
    page_free(m, root->pd_page);
    *root = (struct mmu_root){0};
    if (m->active == (int)r) {
        m->active = -1;
        st(&header(m)->active_root, 0);
    }
}

static bool reclaim(struct mmu_state *m, int keep)
{
    int victim = -1;
    for (uint32_t r = 0; r < m->nroots; r++) {
        if (!m->roots[r].used || (int)r == keep)
            continue;
        if (victim < 0 || m->roots[r].stamp < m->roots[victim].stamp)
            victim = (int)r;
    }
    if (victim >= 0) {
        root_drop(m, (uint32_t)victim);
        m->stats.evicted_roots++;
        return true;
    }
    if (keep < 0)
        return false;
    uint32_t before = m->free_count;
    root_drop_tables(m, (uint32_t)keep);
    return m->free_count != before;
}

/* Ends every mutating operation: publish the epoch when something was taken away. */
static bool finish(struct mmu_state *m)
{
    bool flushed = m->flushed;
    if (flushed)
        st(&header(m)->epoch, ld(&header(m)->epoch) + 1);
    m->flushed = false;
    return flushed;
}

/* ---- set-up ---- */

static void *alloc_array(size_t count, size_t elem, int fill)
{
    if (count == 0)
        count = 1;
    void *p = calloc(count, elem);
    if (p != NULL && fill != 0)
        memset(p, fill, count * elem);
    return p;
}

void mmu_fini(struct mmu_state *m)
{
    free(m->roots);
    free(m->free_stack);
    free(m->page_owner);
    free(m->node_page);
    free(m->node_src);
    free(m->node_next);
    free(m->node_prev);
    free(m->rmap_next);
    free(m->rmap_prev);
    free(m->rmap_head);
    free(m->pt_head);
    free(m->pt_count);
    free(m->pd_count);
    free(m->code);
    memset(m, 0, sizeof(*m));
    m->active = -1;
}

int mmu_init(struct mmu_state *m, void *region, size_t region_size, uint8_t *ram,
             size_t ram_size, unsigned max_roots)
{
    memset(m, 0, sizeof(*m));
    m->active = -1;
    if (region == NULL || ((uintptr_t)region % PAGE) != 0 || region_size % PAGE != 0 ||
        region_size < MMU_MIN_REGION || region_size > MMU_MAX_REGION)
        return -EINVAL;
    if ((ram == NULL && ram_size != 0) || ((uintptr_t)ram & 3u) != 0 || ram_size % PAGE != 0 ||
        (uint64_t)ram_size > (1ull << 32))
        return -EINVAL;
    if (max_roots > MMU_MAX_ROOTS)
        return -EINVAL;
    m->region = region;
    m->region_size = region_size;
    m->ram = ram;
    m->ram_size = ram_size;
    m->frames = (uint32_t)(ram_size / PAGE);
    m->pool_pages = (uint32_t)(region_size / PAGE - 1);
    m->nroots = max_roots ? max_roots : MMU_DEFAULT_ROOTS;
    if (m->nroots > m->pool_pages - 1)
        m->nroots = m->pool_pages - 1; /* every root must leave a page for a table */
    size_t nodes = (size_t)m->nroots * NENT, slots = (size_t)m->pool_pages * NENT;
    m->roots = alloc_array(m->nroots, sizeof(*m->roots), 0);
    m->free_stack = alloc_array(m->pool_pages, sizeof(uint32_t), 0);
    m->page_owner = alloc_array(m->pool_pages, sizeof(uint32_t), 0xFF);
    m->node_page = alloc_array(nodes, sizeof(uint32_t), 0xFF);
    m->node_src = alloc_array(nodes, sizeof(uint32_t), 0xFF);
    m->node_next = alloc_array(nodes, sizeof(uint32_t), 0xFF);
    m->node_prev = alloc_array(nodes, sizeof(uint32_t), 0xFF);
    m->rmap_next = alloc_array(slots, sizeof(uint32_t), 0xFF);
    m->rmap_prev = alloc_array(slots, sizeof(uint32_t), 0xFF);
    m->rmap_head = alloc_array(m->frames, sizeof(uint32_t), 0xFF);
    m->pt_head = alloc_array(m->frames, sizeof(uint32_t), 0xFF);
    m->pt_count = alloc_array(m->frames, sizeof(uint32_t), 0);
    m->pd_count = alloc_array(m->frames, sizeof(uint16_t), 0);
    m->code = alloc_array(m->frames, sizeof(uint8_t), 0);
    if (!m->roots || !m->free_stack || !m->page_owner || !m->node_page || !m->node_src ||
        !m->node_next || !m->node_prev || !m->rmap_next || !m->rmap_prev || !m->rmap_head ||
        !m->pt_head || !m->pt_count || !m->pd_count || !m->code) {
        mmu_fini(m);
        return -ENOMEM;
    }
    /* lowest pages first, which keeps small working sets at the start of the region */
    for (uint32_t p = 0; p < m->pool_pages; p++)
        m->free_stack[p] = m->pool_pages - 1 - p;
    m->free_count = m->pool_pages;
    memset(region, 0, region_size);
    struct shadow_header *h = header(m);
    h->magic = SHADOW_MAGIC;
    h->version = SHADOW_VERSION;
    h->page_size = PAGE;
    h->pool_off = PAGE;
    h->pool_pages = m->pool_pages;
    h->active_root = 0;
    h->epoch = 0;
    return 0;
}

/* ---- control registers ---- */

static int root_find(const struct mmu_state *m, uint32_t pd_base, bool wp, bool pse)
{
    for (uint32_t r = 0; r < m->nroots; r++) {
        const struct mmu_root *root = &m->roots[r];
        if (root->used && root->pd_base == pd_base && root->wp == wp && root->pse == pse)
            return (int)r;
    }
    return -1;
}

static int root_create(struct mmu_state *m, uint32_t pd_base, bool wp, bool pse)
{
    int slot = -1;
    for (uint32_t r = 0; r < m->nroots && slot < 0; r++) {
        if (!m->roots[r].used)
            slot = (int)r;
    }
    if (slot < 0) {
        for (uint32_t r = 0; r < m->nroots; r++) {
            if (slot < 0 || m->roots[r].stamp < m->roots[slot].stamp)
                slot = (int)r;
        }
        root_drop(m, (uint32_t)slot);
        m->stats.evicted_roots++;
    }
    /* slot is unused now, so eviction inside page_alloc cannot pick it */
    uint32_t page = page_alloc(m, -1);
    if (page == NIL)
        return -ENOMEM;
    m->roots[slot] = (struct mmu_root){.used = true, .wp = wp, .pse = pse, .pd_base = pd_base,
                                       .pd_page = page};
    m->page_owner[page] = MMU_OWNER_ROOT | (uint32_t)slot;
    uint32_t f = pd_base >> 12;
    if (f < m->frames) {
        bool before = tracked(m, f);
        m->pd_count[f]++;
        retrack(m, f, before);
    }
    return slot;
}

int mmu_set_cr(struct mmu_state *m, uint32_t cr0, uint32_t cr3, uint32_t cr4,
               struct mmu_cr_result *res)
{
    bool paging = (cr0 & CPU_CR0_PG) && (cr0 & CPU_CR0_PE);
    bool pge_changed = m->cr_loaded && ((cr4 ^ m->cr4) & CPU_CR4_PGE);
    int rc = 0;

    m->flushed = false;
    m->cr0 = cr0;
    m->cr3 = cr3;
    m->cr4 = cr4;
    m->cr_loaded = true;
    if (!paging) {
        for (uint32_t r = 0; r < m->nroots; r++) {
            if (m->roots[r].used)
                root_drop(m, r);
        }
        m->active = -1;
        st(&header(m)->active_root, 0);
    } else {
        if (pge_changed) {
            for (uint32_t r = 0; r < m->nroots; r++) {
                if (m->roots[r].used)
                    root_drop_tables(m, r);
            }
        }
        uint32_t pd_base = cr3 & MMU_E_FRAME;
        bool wp = (cr0 & CPU_CR0_WP) != 0, pse = (cr4 & CPU_CR4_PSE) != 0;
        int r = root_find(m, pd_base, wp, pse);
        if (r >= 0)
            m->stats.root_hits++;
        else
            r = root_create(m, pd_base, wp, pse);
        if (r < 0) {
            rc = r;
            m->active = -1;
            st(&header(m)->active_root, 0);
        } else {
            m->roots[r].stamp = ++m->clock;
            m->active = r;
            st(&header(m)->active_root, page_offset(m->roots[r].pd_page));
        }
    }
    bool flushed = finish(m);
    if (res != NULL) {
        res->root = mmu_active_root(m);
        res->flush = flushed;
    }
    return rc;
}

/* ---- misses ---- */

static uint32_t entry_from_walk(const struct mmu_state *m, const struct mmu_walk_info *w)
{
    uint32_t frame = w->phys & SHADOW_FRAME;
    uint32_t e = frame | SHADOW_P;
    if (w->user_ok)
        e |= SHADOW_U;
    if (w->dirty && w->sup_write_ok)
        e |= SHADOW_WS;
    if (w->dirty && w->user_write_ok)
        e |= SHADOW_WU;
    if (tracked(m, frame >> 12))
        e |= SHADOW_TRACKED;
    if (w->global && (m->cr4 & CPU_CR4_PGE))
        e |= SHADOW_G;
    return e;
}

/* Removes the active root's entry for `linear`, if any. Returns 1 when one was present. */
static int drop_linear(struct mmu_state *m, uint32_t linear)
{
    uint32_t n = (uint32_t)m->active * NENT + (linear >> 22);
    uint32_t page = m->node_page[n], j = (linear >> 12) & (NENT - 1);
    if (page == NIL || !(ld(&table(m, page)[j]) & SHADOW_P))
        return 0;
    slot_write(m, page, j, 0);
    m->stats.dropped_entries++;
    m->flushed = true;
    return 1;
}

static int install(struct mmu_state *m, uint32_t linear, const struct mmu_walk_info *w,
                   uint32_t *entry)
{
    uint32_t n = (uint32_t)m->active * NENT + (linear >> 22);
    uint32_t j = (linear >> 12) & (NENT - 1);
    uint32_t src = w->big ? MMU_SRC_BIG : w->pde >> 12;

    if (m->node_page[n] != NIL && m->node_src[n] != src)
        node_drop(m, n); /* built from another table: cannot happen while coherent */
    if (m->node_page[n] == NIL) {
        uint32_t page = page_alloc(m, m->active);
        if (page == NIL)
            return -ENOMEM;
        node_attach(m, n, page, src);
    }
    uint32_t page = m->node_page[n];
    uint32_t e = entry_from_walk(m, w);
    uint32_t old = ld(&table(m, page)[j]);
    if ((old & SHADOW_P) && ((old & SHADOW_FRAME) != (e & SHADOW_FRAME) ||
                             (old & ~e & (SHADOW_WS | SHADOW_WU | SHADOW_U | SHADOW_G))))
        m->flushed = true;
    slot_write(m, page, j, e);
    m->stats.fills++;
    *entry = e;
    return 0;
}

int mmu_fault(struct mmu_state *m, uint32_t linear, enum mmu_access access, unsigned cpl,
              struct mmu_fault_result *res)
{
    if (m->active < 0 || cpl > 3 || (unsigned)access > MMU_FETCH)
        return -EINVAL;
    const struct mmu_root *root = &m->roots[m->active];
    struct mmu_walk_args a = {
        .ram = m->ram,
        .ram_size = m->ram_size,
        .cr0 = CPU_CR0_PG | CPU_CR0_PE | (root->wp ? CPU_CR0_WP : 0),
        .cr3 = root->pd_base,
        .cr4 = root->pse ? CPU_CR4_PSE : 0,
        .linear = linear,
        .access = access,
        .cpl = cpl,
        .set_ad = true,
    };
    struct mmu_walk_info w;
    struct mmu_fault_result r = {0};
    int rc;

    m->flushed = false;
    m->stats.faults++;
    rc = mmu_walk_ex(&a, &w);
    if (rc == -EAGAIN) {
        r.status = MMU_RETRY;
        m->stats.retries++;
        rc = 0;
    } else if (rc == MMU_WALK_PF) {
        r.status = MMU_PAGE_FAULT;
        r.error = w.pf_error;
        r.cr2 = linear;
        m->stats.page_faults++;
        /* no valid translation: a shadow entry here would be stale (defensive; the coherence
         * rule says there is none) */
        if (!(w.pf_error & MMU_PF_P) || (w.pf_error & MMU_PF_RSVD))
            drop_linear(m, linear);
        rc = 0;
    } else if (rc == MMU_WALK_OK) {
        rc = install(m, linear, &w, &r.entry);
        if (rc == 0) {
            r.status = MMU_MAPPED;
            r.phys = w.phys;
        }
    }
    r.flush = finish(m);
    if (res != NULL)
        *res = r;
    return rc;
}

int mmu_invlpg(struct mmu_state *m, uint32_t linear)
{
    if (m->active < 0)
        return 0;
    m->flushed = false;
    int removed = drop_linear(m, linear);
    finish(m);
    return removed;
}

/* ---- tracked stores ---- */

/* Entry `idx` of guest frame f changed: drop what was built from it, in every root. */
static int invalidate_entry(struct mmu_state *m, uint32_t f, uint32_t idx)
{
    int removed = 0;
    for (uint32_t r = 0; r < m->nroots; r++) {
        if (m->roots[r].used && (m->roots[r].pd_base >> 12) == f)
            removed += node_drop(m, r * NENT + idx);
    }
    for (uint32_t n = m->pt_head[f]; n != NIL; n = m->node_next[n]) {
        uint32_t page = m->node_page[n];
        if (ld(&table(m, page)[idx]) & SHADOW_P) {
            slot_write(m, page, idx, 0);
            m->stats.dropped_entries++;
            m->flushed = true;
            removed++;
        }
    }
    return removed;
}

int mmu_guest_write(struct mmu_state *m, uint32_t phys, unsigned size, uint64_t value,
                    struct mmu_write_result *res)
{
    if (size < 1 || size > 8 || (uint64_t)phys + size > m->ram_size ||
        (phys / PAGE) != (uint32_t)(((uint64_t)phys + size - 1) / PAGE))
        return -EINVAL;
    uint32_t f = phys / PAGE;
    uint32_t first = phys & ~3u;
    uint32_t words = (((phys + size - 1) & ~3u) - first) / 4 + 1;
    int removed = 0;

    m->flushed = false;
    m->stats.guest_writes++;
    for (uint32_t k = 0; k < words; k++) {
        uint32_t addr = first + 4 * k;
        uint32_t *word = (uint32_t *)(void *)(m->ram + addr);
        uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE), val = old;
        for (uint32_t b = 0; b < 4; b++) {
            uint32_t at = addr + b;
            if (at < phys || at - phys >= size)
                continue;
            uint32_t byte = (uint32_t)(value >> (8 * (at - phys))) & 0xFFu;
            val = (val & ~(0xFFu << (8 * b))) | (byte << (8 * b));
        }
        __atomic_store_n(word, val, __ATOMIC_RELEASE);
        if ((old ^ val) & RELEVANT_BITS)
            removed += invalidate_entry(m, f, (addr % PAGE) / 4);
    }
    bool flushed = finish(m);
    if (res != NULL) {
        res->code = m->code[f] != 0;
        res->flush = flushed;
        res->dropped = (uint32_t)removed;
    }
    return 0;
}

int mmu_track_code(struct mmu_state *m, uint32_t phys, bool on)
{
    uint32_t f = phys / PAGE;
    if (f >= m->frames)
        return -EINVAL;
    m->flushed = false;
    bool before = tracked(m, f);
    m->code[f] = on ? 1 : 0;
    int gained = retrack(m, f, before);
    finish(m);
    return gained;
}

int mmu_flush_all(struct mmu_state *m)
{
    int removed = 0;
    m->flushed = false;
    for (uint32_t r = 0; r < m->nroots; r++) {
        if (m->roots[r].used)
            removed += root_drop_tables(m, r);
    }
    finish(m);
    return removed;
}

uint32_t mmu_active_root(const struct mmu_state *m)
{
    return m->active < 0 ? 0 : page_offset(m->roots[m->active].pd_page);
}

uint32_t mmu_epoch(const struct mmu_state *m)
{
    return __atomic_load_n(&((const struct shadow_header *)(const void *)m->region)->epoch,
                           __ATOMIC_ACQUIRE);
}

/* ---- reader side ---- */

static bool table_in_region(size_t region_size, uint32_t off)
{
    return off != 0 && off % PAGE == 0 && region_size >= PAGE && (size_t)off <= region_size - PAGE;
}

int shadow_lookup(const void *region, size_t region_size, uint32_t root_off, uint32_t linear,
                  uint32_t *entry)
{
    const uint8_t *base = region;
    *entry = 0;
    if (base == NULL || ((uintptr_t)base & 3u) != 0 || !table_in_region(region_size, root_off))
        return -EPROTO;
    uint32_t pt = __atomic_load_n(
        (const uint32_t *)(const void *)(base + root_off + 4 * (linear >> 22)), __ATOMIC_ACQUIRE);
    if (pt == 0)
        return SHADOW_MISS;
    if (!table_in_region(region_size, pt))
        return -EPROTO;
    uint32_t e = __atomic_load_n(
        (const uint32_t *)(const void *)(base + pt + 4 * ((linear >> 12) & (NENT - 1))),
        __ATOMIC_ACQUIRE);
    if (!(e & SHADOW_P))
        return SHADOW_MISS;
    *entry = e;
    return SHADOW_HIT;
}

enum shadow_verdict shadow_classify(uint32_t entry, enum mmu_access access, unsigned cpl)
{
    bool user = cpl >= 3;
    if (!(entry & SHADOW_P))
        return SHADOW_ASK_FAULT;
    if (access == MMU_WRITE) {
        if (!(entry & (user ? SHADOW_WU : SHADOW_WS)))
            return SHADOW_ASK_FAULT;
        return (entry & SHADOW_TRACKED) ? SHADOW_ASK_WRITE : SHADOW_GO;
    }
    if (user && !(entry & SHADOW_U))
        return SHADOW_ASK_FAULT;
    return SHADOW_GO;
}
