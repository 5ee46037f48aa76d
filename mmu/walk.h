/*
 * walk.h - the reference page walker for 32-bit paging (SDM Vol. 3A 4.3, 4.6, 4.7, 4.8) as the
 * i686 model defines it: CR4.PSE (4 MiB pages) and CR4.PGE (global pages) are advertised; PAE,
 * PSE-36, PAT, NX, SMEP and SMAP are not, so MAXPHYADDR is 32. It is the one place that decides
 * whether a linear address translates: the shadow MMU fills its tables from it, and the
 * invariant checker and the tests compare the shadow against it.
 *
 * Trusts nothing it reads: guest RAM is a (ram, ram_size) buffer that may be shared with a
 * hostile writer; every entry is read with one aligned 32-bit load, entries outside the buffer
 * read as all-ones (a PC's unbacked bus) and accessed/dirty updates there are dropped. No guest
 * value can make it touch memory outside the buffer.
 *
 * Reserved bits (SDM 4.3, for a processor without PSE-36 and without PAT): none when CR4.PSE = 0;
 * with CR4.PSE = 1, bits 21:12 of a present 4 MiB PDE (21:13 for lack of PSE-36, 12 for lack of
 * PAT) and bit 7 of a present PTE (lack of PAT). A set reserved bit is a #PF with P and RSVD.
 *
 * Accessed/dirty rule (docs/mmu.md "Accessed and dirty bits"): A/D are written only for an
 * access that translates and is allowed; then A is set in the PDE and (4 KiB) the PTE, and D in
 * the entry that maps the page when the access is a write. A faulting walk writes nothing. Each
 * update is a compare-and-swap of the value the walk used, skipped when nothing changes; when
 * the entry changed underneath, the whole walk starts again (at most MMU_WALK_RETRIES times).
 */
#ifndef CLOISTER_MMU_WALK_H
#define CLOISTER_MMU_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Same numbering as enum vmem_kind in vcpu/vmem.h. */
enum mmu_access { MMU_READ = 0, MMU_WRITE = 1, MMU_FETCH = 2 };

/* Paging-structure entry bits (32-bit paging). */
#define MMU_E_P 0x001u
#define MMU_E_RW 0x002u
#define MMU_E_US 0x004u
#define MMU_E_PWT 0x008u
#define MMU_E_PCD 0x010u
#define MMU_E_A 0x020u
#define MMU_E_D 0x040u
#define MMU_E_PS 0x080u   /* PDE: 4 MiB page when CR4.PSE = 1 */
#define MMU_E_PAT 0x080u  /* PTE: PAT bit, reserved on this model when CR4.PSE = 1 */
#define MMU_E_G 0x100u
#define MMU_E_FRAME 0xFFFFF000u
#define MMU_E_BIGFRAME 0xFFC00000u
/* Reserved bits with CR4.PSE = 1 (SDM 4.3: no PSE-36, no PAT). */
#define MMU_RSVD_BIG_PDE 0x003FF000u
#define MMU_RSVD_PTE 0x00000080u

/* #PF error code bits (SDM 4.7). I/D (bit 4) is never set: it needs NX or SMEP. */
#define MMU_PF_P 0x01u
#define MMU_PF_W 0x02u
#define MMU_PF_U 0x04u
#define MMU_PF_RSVD 0x08u

/* mmu_walk return values (negative errno for bad arguments or -EAGAIN, see above). */
#define MMU_WALK_OK 0
#define MMU_WALK_PF 1
#define MMU_WALK_RETRIES 8

struct mmu_walk_args {
    uint8_t *ram;      /* 4-byte aligned; written only when set_ad */
    size_t ram_size;   /* bytes; entries not wholly inside read as all-ones */
    uint32_t cr0, cr3, cr4;
    uint32_t linear;
    enum mmu_access access;
    unsigned cpl;      /* 0..3; CPL 3 is a user-mode access, 0..2 supervisor (implicit
                          supervisor accesses at CPL 3, e.g. descriptor tables, pass 0) */
    bool set_ad;
};

/* Everything the walk learnt. Valid fields depend on the result:
 *   always: pde_addr, pde (0 with paging off)
 *   has_pte: pte_addr, pte
 *   OK, or #PF without RSVD and with P (a valid translation the access may not use): phys, big,
 *     user_ok, user_write_ok, sup_write_ok, dirty, global
 *   #PF: pf_error (cr2 is the linear address) */
struct mmu_walk_info {
    uint32_t phys;
    uint32_t pf_error;
    uint32_t pde_addr, pde;  /* pde/pte: the values the decision used (after any A/D update) */
    uint32_t pte_addr, pte;
    bool has_pte;
    bool big;            /* mapped by a 4 MiB PDE */
    bool user_ok;        /* CPL 3 may read and fetch */
    bool user_write_ok;  /* CPL 3 may write */
    bool sup_write_ok;   /* CPL 0-2 may write (CR0.WP applied) */
    bool dirty;          /* D is set in the entry that maps the page */
    bool global;         /* G is set in the entry that maps the page (CR4.PGE not applied) */
};

/* The walk with everything it learnt. Returns MMU_WALK_OK, MMU_WALK_PF, -EINVAL (ram not 4-byte
 * aligned, access or cpl out of range) or -EAGAIN (set_ad: the entries kept changing under the
 * walk; nothing is decided, the access should simply be retried). With CR0.PG or CR0.PE clear
 * the linear address is the physical address. */
int mmu_walk_ex(const struct mmu_walk_args *a, struct mmu_walk_info *out);

/* The short form. *phys is set on MMU_WALK_OK, *pf_error on MMU_WALK_PF. */
int mmu_walk(uint8_t *ram, size_t ram_size, uint32_t cr0, uint32_t cr3, uint32_t cr4,
             uint32_t linear, enum mmu_access access, unsigned cpl, bool set_ad, uint32_t *phys,
             uint32_t *pf_error);

/* One paging-structure entry as the walker sees it: an aligned 32-bit load from RAM, all-ones
 * when addr is unaligned or not wholly inside RAM. */
uint32_t mmu_entry_read(const uint8_t *ram, size_t ram_size, uint32_t addr);

#endif
