/*
 * vmem.h - the one narrow interface through which the engine touches guest memory:
 * guest linear address -> host pointer (RAM) or physical address (MMIO / unbacked) or fault.
 *
 * With paging off, linear == physical and RAM is one memfd mapping with bounds checks. The shadow
 * MMU issue replaces the paging-on path behind this same interface (a software TLB over the
 * shared shadow tables). Physical addresses outside RAM go to the io callbacks (device MMIO, or
 * all-ones reads and ignored writes where nothing is mapped, as on a PC).
 */
#ifndef CLOISTER_VCPU_VMEM_H
#define CLOISTER_VCPU_VMEM_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_state;

#define VMEM_PAGE 4096u

enum vmem_kind { VMEM_READ = 0, VMEM_WRITE = 1, VMEM_FETCH = 2 };

struct vmem_fault {
    uint8_t vector;  /* CPU_PF_VEC or CPU_GP */
    uint32_t error;  /* #PF error code */
    uint32_t cr2;    /* faulting linear address for #PF */
};

struct vmem {
    uint8_t *ram;        /* guest RAM mapping (host pointer, never crosses a process boundary) */
    uint32_t ram_size;   /* bytes, multiple of VMEM_PAGE */
    /* physical accesses outside RAM: size 1, 2 or 4 */
    void *io_ctx;
    uint32_t (*mmio_read)(void *ctx, uint32_t phys, unsigned size);
    void (*mmio_write)(void *ctx, uint32_t phys, unsigned size, uint32_t value);
    /* pages holding translated code: one bit per RAM page; a write to a marked page calls
     * code_write() before the store so translations can be dropped (NULL = no tracking) */
    uint8_t *code_bitmap;
    void (*code_write)(void *ctx, uint32_t phys, unsigned size);
    /* paging state is read from the cpu at each translation */
    const struct cpu_state *cpu;
};

/* Translate linear `lin` for an access of `kind` at privilege `user` (CPL 3 data access rules).
 * On success returns 0 and sets *phys; *host points at the byte in RAM or is NULL when the
 * physical address is not RAM. The result is valid to the end of the 4 KiB page. On failure
 * returns -1 and fills *fault. */
int vmem_translate(struct vmem *m, uint32_t lin, enum vmem_kind kind, bool user, uint32_t *phys,
                   uint8_t **host, struct vmem_fault *fault);

/* Linear-address accesses of 1..8 bytes (any alignment, may cross a page: both pages are
 * translated before anything is written, so a fault leaves memory unchanged). */
int vmem_read(struct vmem *m, uint32_t lin, void *buf, unsigned size, bool user, struct vmem_fault *f);
int vmem_write(struct vmem *m, uint32_t lin, const void *buf, unsigned size, bool user, struct vmem_fault *f);

/* Physical accesses (no paging), for page walks and loaders. */
uint32_t vmem_phys_read32(struct vmem *m, uint32_t phys);
void vmem_phys_write32(struct vmem *m, uint32_t phys, uint32_t value);

#endif
