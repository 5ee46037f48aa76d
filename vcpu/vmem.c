/*
 * vmem.c - guest linear memory for the engine: translation (paging off: identity; paging on: a
 * plain two-level 32-bit page walk with 4 KiB and, with CR4.PSE, 4 MiB pages), RAM accesses with
 * bounds checks, MMIO and unbacked physical addresses through the io callbacks, and the
 * translated-code hook before stores to marked pages.
 *
 * Trusts: the struct vmem set up by the vCPU (ram/ram_size describe one mapping; code_bitmap has
 * a bit per RAM page). Everything derived from the guest - addresses, page-table entries - is
 * bounds-checked here, so no guest value can make a host access outside ram[0, ram_size).
 *
 * The walk is the reference path: no TLB, A/D bits written on every successful translation. The
 * shadow MMU replaces it behind the same interface. PAE (CR4.PAE) is not modelled: the i686 model
 * does not advertise it, and the walk ignores the bit.
 */
#include <string.h>

#include "vcpu/cpu.h"
#include "vcpu/vmem.h"

#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PDE_PS 0x080u

#define PF_P 0x01u
#define PF_W 0x02u
#define PF_U 0x04u

/* ---- physical accesses ---- */

static bool in_ram(const struct vmem *m, uint32_t phys, unsigned size)
{
    return m->ram != NULL && phys < m->ram_size && size <= m->ram_size - phys;
}

static uint32_t io_read(struct vmem *m, uint32_t phys, unsigned size)
{
    if (m->mmio_read == NULL)
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    return m->mmio_read(m->io_ctx, phys, size);
}

static void io_write(struct vmem *m, uint32_t phys, unsigned size, uint32_t value)
{
    if (m->mmio_write != NULL)
        m->mmio_write(m->io_ctx, phys, size, value);
}

/* Tell the code tracker about a store to [phys, phys + size) inside one RAM page. */
static void code_hook(struct vmem *m, uint32_t phys, unsigned size)
{
    if (m->code_bitmap == NULL || m->code_write == NULL)
        return;
    uint32_t page = phys / VMEM_PAGE;
    if (m->code_bitmap[page / 8] & (1u << (page % 8)))
        m->code_write(m->io_ctx, phys, size);
}

/* Largest access of 4, 2 or 1 bytes that is naturally aligned at phys and fits in n. */
static unsigned io_chunk(uint32_t phys, unsigned n)
{
    if (n >= 4 && (phys & 3) == 0)
        return 4;
    if (n >= 2 && (phys & 1) == 0)
        return 2;
    return 1;
}

/* Read n bytes of non-RAM physical space (inside one page) as aligned device accesses. */
static void io_read_bytes(struct vmem *m, uint32_t phys, uint8_t *buf, unsigned n)
{
    while (n > 0) {
        unsigned c = io_chunk(phys, n);
        uint32_t v = io_read(m, phys, c);
        for (unsigned i = 0; i < c; i++)
            buf[i] = (uint8_t)(v >> (8 * i));
        phys += c;
        buf += c;
        n -= c;
    }
}

static void io_write_bytes(struct vmem *m, uint32_t phys, const uint8_t *buf, unsigned n)
{
    while (n > 0) {
        unsigned c = io_chunk(phys, n);
        uint32_t v = 0;
        for (unsigned i = 0; i < c; i++)
            v |= (uint32_t)buf[i] << (8 * i);
        io_write(m, phys, c, v);
        phys += c;
        buf += c;
        n -= c;
    }
}

uint32_t vmem_phys_read32(struct vmem *m, uint32_t phys)
{
    uint8_t b[4];
    if (in_ram(m, phys, 4)) {
        memcpy(b, m->ram + phys, 4);
    } else if ((phys & 3) == 0) {
        return io_read(m, phys, 4);
    } else {
        for (unsigned i = 0; i < 4; i++) {
            uint32_t p = phys + i;
            b[i] = in_ram(m, p, 1) ? m->ram[p] : (uint8_t)io_read(m, p, 1);
        }
    }
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void vmem_phys_write32(struct vmem *m, uint32_t phys, uint32_t value)
{
    for (unsigned i = 0; i < 4; i++) {
        uint32_t p = phys + i;
        if (!in_ram(m, p, 1)) {
            io_write(m, p, 1, (value >> (8 * i)) & 0xFF);
            continue;
        }
        code_hook(m, p, 1);
        m->ram[p] = (uint8_t)(value >> (8 * i));
    }
}

/* ---- translation ---- */

static int page_fault(struct vmem_fault *f, uint32_t lin, uint32_t error)
{
    f->vector = CPU_PF_VEC;
    f->error = error;
    f->cr2 = lin;
    return -1;
}

/* Write back accessed/dirty bits only when they change, as the hardware's locked update does. */
static void set_bits(struct vmem *m, uint32_t entry_phys, uint32_t entry, uint32_t bits)
{
    if ((entry & bits) != bits)
        vmem_phys_write32(m, entry_phys, entry | bits);
}

static int walk(struct vmem *m, const struct cpu_state *cpu, uint32_t lin, enum vmem_kind kind,
                bool user, uint32_t *phys, struct vmem_fault *f)
{
    bool write = kind == VMEM_WRITE;
    uint32_t err = (write ? PF_W : 0) | (user ? PF_U : 0);
    uint32_t pde_phys = (cpu->cr3 & 0xFFFFF000u) + ((lin >> 22) << 2);
    uint32_t pde = vmem_phys_read32(m, pde_phys);

    if (!(pde & PTE_P))
        return page_fault(f, lin, err);
    /* a supervisor write honours R/W only with CR0.WP; user access needs U and (write) W */
    bool wp = user || (cpu->cr0 & CPU_CR0_WP);
    if ((pde & PDE_PS) && (cpu->cr4 & CPU_CR4_PSE)) {
        if ((user && !(pde & PTE_U)) || (write && wp && !(pde & PTE_W)))
            return page_fault(f, lin, err | PF_P);
        set_bits(m, pde_phys, pde, PTE_A | (write ? PTE_D : 0));
        *phys = (pde & 0xFFC00000u) | (lin & 0x003FFFFFu);
        return 0;
    }
    uint32_t pte_phys = (pde & 0xFFFFF000u) + (((lin >> 12) & 0x3FF) << 2);
    uint32_t pte = vmem_phys_read32(m, pte_phys);
    if (!(pte & PTE_P))
        return page_fault(f, lin, err);
    /* the effective permission is the stricter of the two levels */
    uint32_t both = pde & pte;
    if ((user && !(both & PTE_U)) || (write && wp && !(both & PTE_W)))
        return page_fault(f, lin, err | PF_P);
    set_bits(m, pde_phys, pde, PTE_A);
    set_bits(m, pte_phys, pte, PTE_A | (write ? PTE_D : 0));
    *phys = (pte & 0xFFFFF000u) | (lin & 0xFFFu);
    return 0;
}

int vmem_translate(struct vmem *m, uint32_t lin, enum vmem_kind kind, bool user, uint32_t *phys,
                   uint8_t **host, struct vmem_fault *fault)
{
    const struct cpu_state *cpu = m->cpu;
    uint32_t p = lin;

    if (cpu != NULL && (cpu->cr0 & CPU_CR0_PG) && (cpu->cr0 & CPU_CR0_PE)) {
        if (walk(m, cpu, lin, kind, user, &p, fault) != 0)
            return -1;
    }
    *phys = p;
    *host = in_ram(m, p, 1) ? m->ram + p : NULL;
    return 0;
}

/* ---- linear accesses ---- */

/* One access of `size` bytes split at the page boundary: both parts translated up front. */
struct span {
    uint32_t phys[2];
    uint8_t *host[2];
    unsigned len[2];
    unsigned parts;
};

static int translate_span(struct vmem *m, uint32_t lin, unsigned size, enum vmem_kind kind,
                          bool user, struct span *s, struct vmem_fault *f)
{
    unsigned first = VMEM_PAGE - (lin & (VMEM_PAGE - 1));
    if (first > size)
        first = size;
    s->len[0] = first;
    s->len[1] = size - first;
    s->parts = s->len[1] ? 2 : 1;
    if (vmem_translate(m, lin, kind, user, &s->phys[0], &s->host[0], f) != 0)
        return -1;
    if (s->parts == 2 &&
        vmem_translate(m, lin + first, kind, user, &s->phys[1], &s->host[1], f) != 0)
        return -1;
    return 0;
}

/* Accesses are at most 16 bytes (the engine's widest single access is 10, x87 images go
 * through the segment layer in pieces); anything larger must be split by the caller. */
#define VMEM_MAX_ACCESS 16u

int vmem_read(struct vmem *m, uint32_t lin, void *buf, unsigned size, bool user, struct vmem_fault *f)
{
    struct span s;
    uint8_t *out = buf;

    if (size == 0)
        return 0;
    if (size > VMEM_MAX_ACCESS) {
        f->vector = CPU_GP;
        f->error = 0;
        f->cr2 = 0;
        return -1;
    }
    if (translate_span(m, lin, size, VMEM_READ, user, &s, f) != 0)
        return -1;
    for (unsigned i = 0; i < s.parts; i++) {
        if (s.host[i] != NULL && in_ram(m, s.phys[i], s.len[i]))
            memcpy(out, s.host[i], s.len[i]);
        else
            io_read_bytes(m, s.phys[i], out, s.len[i]);
        out += s.len[i];
    }
    return 0;
}

int vmem_write(struct vmem *m, uint32_t lin, const void *buf, unsigned size, bool user,
               struct vmem_fault *f)
{
    struct span s;
    const uint8_t *in = buf;

    if (size == 0)
        return 0;
    if (size > VMEM_MAX_ACCESS) {
        f->vector = CPU_GP;
        f->error = 0;
        f->cr2 = 0;
        return -1;
    }
    if (translate_span(m, lin, size, VMEM_WRITE, user, &s, f) != 0)
        return -1;
    for (unsigned i = 0; i < s.parts; i++) {
        if (s.host[i] != NULL && in_ram(m, s.phys[i], s.len[i])) {
            code_hook(m, s.phys[i], s.len[i]);
            memcpy(s.host[i], in, s.len[i]);
        } else {
            io_write_bytes(m, s.phys[i], in, s.len[i]);
        }
        in += s.len[i];
    }
    return 0;
}
