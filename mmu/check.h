/*
 * check.h - the shadow MMU's invariant checker, for tests, fuzz harnesses and debug builds.
 *
 * mmu_check() verifies, from scratch, that the shadow agrees with the guest tables and with its
 * own bookkeeping:
 *  - every present entry of every cached root equals a fresh walk of that root's guest tables
 *    (no A/D written): same frame, guest A bits set, U exactly as the walk allows, write
 *    permissions never beyond the walk's and only with D set, G exactly G with CR4.PGE, and
 *    TRACKED exactly when the frame holds a cached root's guest PD, a guest PT a shadow PT was
 *    built from, or translated code;
 *  - every shadow PT still matches the guest PDE it was built from;
 *  - pool ownership, the free list, the header, the reverse map and the per-frame counts are
 *    consistent.
 * It reads guest RAM and the region but changes nothing. O(pool + RAM pages); it allocates
 * scratch memory, so it is not for the production fast path.
 */
#ifndef CLOISTER_MMU_CHECK_H
#define CLOISTER_MMU_CHECK_H

#include <stddef.h>

#include "mmu/shadow.h"

/* Returns 0 when every invariant holds, -1 with the first violation described in msg (always
 * NUL-terminated when msg_size > 0), or -ENOMEM. */
int mmu_check(const struct mmu_state *m, char *msg, size_t msg_size);

#endif
