/*
 * walk.c - the reference 32-bit page walker (see walk.h for the rules it implements and the SDM
 * sections they come from).
 *
 * Trusts: only that (ram, ram_size) describe one buffer it may read (and, with set_ad, write).
 * Guest RAM can be written concurrently by a hostile party: entries are read once each with an
 * atomic 32-bit load, decisions use those values only, and accessed/dirty updates are
 * compare-and-swaps against them, so a concurrent change makes the walk start again rather than
 * set bits in an entry it did not look at.
 */
#include <errno.h>

#include "mmu/walk.h"
#include "vcpu/cpu.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "guest entries are host-endian words");

static bool entry_in_ram(size_t ram_size, uint32_t addr)
{
    return (addr & 3u) == 0 && ram_size >= 4 && (uint64_t)addr <= (uint64_t)ram_size - 4;
}

uint32_t mmu_entry_read(const uint8_t *ram, size_t ram_size, uint32_t addr)
{
    if (ram == NULL || !entry_in_ram(ram_size, addr))
        return 0xFFFFFFFFu;
    return __atomic_load_n((const uint32_t *)(const void *)(ram + addr), __ATOMIC_ACQUIRE);
}

/* Set `bits` in the entry at addr whose value the walk read as `seen`. Returns false when the
 * entry no longer holds `seen` (the walk must start again). Outside RAM the write is dropped,
 * as a store to the unbacked bus is; all-ones already has every bit set anyway. */
static bool entry_set_bits(uint8_t *ram, size_t ram_size, uint32_t addr, uint32_t seen,
                           uint32_t bits)
{
    if ((seen & bits) == bits)
        return true;
    if (ram == NULL || !entry_in_ram(ram_size, addr))
        return true;
    uint32_t expected = seen;
    return __atomic_compare_exchange_n((uint32_t *)(void *)(ram + addr), &expected, seen | bits,
                                       false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* SDM 4.6 without SMEP/SMAP, for 32-bit paging: supervisor reads and fetches need only a valid
 * translation, supervisor writes need R/W in every entry when CR0.WP = 1; user reads and fetches
 * need U/S in every entry, user writes need U/S and R/W in every entry whatever CR0.WP. */
static bool access_allowed(const struct mmu_walk_info *w, enum mmu_access access, bool user)
{
    if (access == MMU_WRITE)
        return user ? w->user_write_ok : w->sup_write_ok;
    return user ? w->user_ok : true;
}

enum walk_step { STEP_DONE, STEP_RESTART };

static enum walk_step walk_once(const struct mmu_walk_args *a, struct mmu_walk_info *w, int *rc)
{
    const bool user = a->cpl == 3;
    const bool write = a->access == MMU_WRITE;
    const bool wp = (a->cr0 & CPU_CR0_WP) != 0;
    const bool pse = (a->cr4 & CPU_CR4_PSE) != 0;
    const uint32_t err = (write ? MMU_PF_W : 0) | (user ? MMU_PF_U : 0);
    uint32_t leaf, rights;

    *w = (struct mmu_walk_info){0};
    w->pde_addr = (a->cr3 & MMU_E_FRAME) | ((a->linear >> 22) << 2);
    w->pde = mmu_entry_read(a->ram, a->ram_size, w->pde_addr);
    if (!(w->pde & MMU_E_P))
        goto not_present;
    if (pse && (w->pde & MMU_E_PS)) {
        if (w->pde & MMU_RSVD_BIG_PDE)
            goto reserved;
        w->big = true;
        leaf = w->pde;
        rights = w->pde;
        w->phys = (w->pde & MMU_E_BIGFRAME) | (a->linear & ~MMU_E_BIGFRAME);
    } else {
        w->has_pte = true;
        w->pte_addr = (w->pde & MMU_E_FRAME) | (((a->linear >> 12) & 0x3FFu) << 2);
        w->pte = mmu_entry_read(a->ram, a->ram_size, w->pte_addr);
        if (!(w->pte & MMU_E_P))
            goto not_present;
        if (pse && (w->pte & MMU_RSVD_PTE))
            goto reserved;
        leaf = w->pte;
        rights = w->pde & w->pte;
        w->phys = (w->pte & MMU_E_FRAME) | (a->linear & ~MMU_E_FRAME);
    }
    w->user_ok = (rights & MMU_E_US) != 0;
    w->user_write_ok = w->user_ok && (rights & MMU_E_RW);
    w->sup_write_ok = !wp || (rights & MMU_E_RW);
    w->dirty = (leaf & MMU_E_D) != 0;
    w->global = (leaf & MMU_E_G) != 0;
    if (!access_allowed(w, a->access, user)) {
        w->pf_error = err | MMU_PF_P;
        *rc = MMU_WALK_PF;
        return STEP_DONE;
    }
    if (a->set_ad) {
        if (w->big) {
            uint32_t bits = MMU_E_A | (write ? MMU_E_D : 0);
            if (!entry_set_bits(a->ram, a->ram_size, w->pde_addr, w->pde, bits))
                return STEP_RESTART;
            w->pde |= bits;
        } else {
            uint32_t bits = MMU_E_A | (write ? MMU_E_D : 0);
            if (!entry_set_bits(a->ram, a->ram_size, w->pde_addr, w->pde, MMU_E_A))
                return STEP_RESTART;
            w->pde |= MMU_E_A;
            /* a PDE that points at its own directory is its own PTE here: the PTE value read
             * above may already be stale, which the compare-and-swap notices */
            if (!entry_set_bits(a->ram, a->ram_size, w->pte_addr, w->pte, bits))
                return STEP_RESTART;
            w->pte |= bits;
        }
        w->dirty = w->dirty || write;
    }
    *rc = MMU_WALK_OK;
    return STEP_DONE;

not_present:
    w->pf_error = err;
    *rc = MMU_WALK_PF;
    return STEP_DONE;
reserved:
    w->pf_error = err | MMU_PF_P | MMU_PF_RSVD;
    *rc = MMU_WALK_PF;
    return STEP_DONE;
}

int mmu_walk_ex(const struct mmu_walk_args *a, struct mmu_walk_info *out)
{
    if (a->cpl > 3 || (unsigned)a->access > MMU_FETCH)
        return -EINVAL;
    if (a->ram != NULL && ((uintptr_t)a->ram & 3u) != 0)
        return -EINVAL;
    if (!(a->cr0 & CPU_CR0_PG) || !(a->cr0 & CPU_CR0_PE)) {
        *out = (struct mmu_walk_info){.phys = a->linear, .user_ok = true, .user_write_ok = true,
                                      .sup_write_ok = true, .dirty = true};
        return MMU_WALK_OK;
    }
    for (unsigned attempt = 0; attempt <= MMU_WALK_RETRIES; attempt++) {
        int rc = MMU_WALK_PF;
        if (walk_once(a, out, &rc) == STEP_DONE)
            return rc;
    }
    return -EAGAIN;
}

int mmu_walk(uint8_t *ram, size_t ram_size, uint32_t cr0, uint32_t cr3, uint32_t cr4,
             uint32_t linear, enum mmu_access access, unsigned cpl, bool set_ad, uint32_t *phys,
             uint32_t *pf_error)
{
    struct mmu_walk_args a = {ram, ram_size, cr0, cr3, cr4, linear, access, cpl, set_ad};
    struct mmu_walk_info w;
    int rc = mmu_walk_ex(&a, &w);
    if (rc == MMU_WALK_OK)
        *phys = w.phys;
    else if (rc == MMU_WALK_PF)
        *pf_error = w.pf_error;
    return rc;
}
