/*
 * gen_common.c - the case builder shared by every generator (see gen.h): defaults, memory
 * operations in the kernel's format, descriptors and gates, the class table.
 */
#include "tests/sysoracle/gen.h"

#include <stdio.h>
#include <string.h>

static const uint32_t gpr_init[8] = {0xA0A0A0A0, 0xC1C1C1C1, 0xD2D2D2D2, 0xB3B3B3B3,
                                     0,          0xB5B5B5B5, 0x51515151, 0xD7D7D7D7};

uint16_t so_code_sel(unsigned ring)
{
    static const uint16_t sel[4] = {SO_SEL_CODE0, SO_SEL_CODE1, SO_SEL_CODE2, SO_SEL_CODE3};
    return sel[ring & 3];
}

uint16_t so_data_sel(unsigned ring)
{
    static const uint16_t sel[4] = {SO_SEL_DATA0, SO_SEL_DATA1, SO_SEL_DATA2, SO_SEL_DATA3};
    return sel[ring & 3];
}

uint32_t so_ring_esp(unsigned ring)
{
    static const uint32_t esp[4] = {SO_ESP0, SO_ESP1, SO_ESP2, SO_ESP3};
    return esp[ring & 3];
}

uint32_t so_pad(struct so_rng *r) { return SO_PADS + 2 * so_below(r, 0x800); }

void sc_set_cpl(struct sc *s, unsigned cpl)
{
    cpl &= 3;
    s->c.cs = so_code_sel(cpl);
    s->c.ss = s->c.ds = s->c.es = so_data_sel(cpl);
    s->c.fs = s->c.gs = 0;
    s->c.gpr[R_ESP] = so_ring_esp(cpl);
}

void sc_clear_dumps(struct sc *s) { s->c.ndump = 0; }

void sc_maybe_paging(struct sc *s, struct so_rng *r, unsigned one_in)
{
    if (!so_one_in(r, one_in))
        return;
    s->c.cr3 = SO_PD;
    s->c.cr0 |= 0x80000000u | (so_below(r, 2) ? 0x10000u : 0);
    s->c.cr4 |= so_below(r, 2) ? 0x10u : 0;
    sc_descf(s, "[paging%s] ", s->c.cr0 & 0x10000 ? ", WP" : "");
}

void sc_init(struct sc *s, const char *cls, unsigned cpl)
{
    memset(s, 0, offsetof(struct sc, ops));
    snprintf(s->cls, sizeof s->cls, "%s", cls);
    s->c.cr0 = 0x11;
    s->c.eflags = 2;
    s->c.eip = SO_CODE;
    memcpy(s->c.gpr, gpr_init, sizeof gpr_init);
    sc_set_cpl(s, cpl);
    s->c.ldtr = SO_SEL_LDT;
    s->c.tr = SO_SEL_TSS;
    s->c.gdt_limit = SO_GDT_ENTRIES * 8 - 1;
    s->c.idt_limit = 256 * 8 - 1;
    for (unsigned ring = 0; ring < 4; ring++)
        sc_dump_range(s, so_ring_esp(ring) - 32, 8);
}

static void put_op(struct sc *s, uint32_t kind, uint32_t addr, const void *data, uint32_t len)
{
    uint32_t padded = kind == SO_OP_COPY ? (len + 3) & ~3u : 0;
    if (s->nops + sizeof(struct so_op) + padded > SC_OPS_MAX ||
        sizeof(struct so_case) + s->nops + sizeof(struct so_op) + padded > 0x10000) {
        s->overflow = true;
        return;
    }
    struct so_op op = {kind, addr, len};
    memcpy(s->ops + s->nops, &op, sizeof op);
    s->nops += sizeof op;
    if (padded) {
        memset(s->ops + s->nops, 0, padded);
        memcpy(s->ops + s->nops, data, len);
        s->nops += padded;
    }
}

void sc_copy(struct sc *s, uint32_t addr, const void *data, uint32_t len) { put_op(s, SO_OP_COPY, addr, data, len); }
void sc_zero(struct sc *s, uint32_t addr, uint32_t len) { put_op(s, SO_OP_ZERO, addr, NULL, len); }

void sc_poke32(struct sc *s, uint32_t addr, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    sc_copy(s, addr, b, 4);
}

static void poke64(struct sc *s, uint32_t addr, uint64_t v)
{
    sc_poke32(s, addr, (uint32_t)v);
    sc_poke32(s, addr + 4, (uint32_t)(v >> 32));
}

void sc_gdt(struct sc *s, unsigned index, uint64_t desc) { poke64(s, SO_GDT + 8 * (index % SO_GDT_ENTRIES), desc); }
void sc_ldt(struct sc *s, unsigned index, uint64_t desc) { poke64(s, SO_LDT + 8 * (index % SO_LDT_ENTRIES), desc); }
void sc_idt(struct sc *s, unsigned vec, uint64_t gate) { poke64(s, SO_IDT + 8 * (vec & 0xFF), gate); }

void sc_dump(struct sc *s, uint32_t addr)
{
    if (s->c.ndump >= SO_MAX_DUMP) {
        s->overflow = true;
        return;
    }
    s->c.dump[s->c.ndump++] = addr;
}

void sc_dump_range(struct sc *s, uint32_t addr, unsigned ndwords)
{
    for (unsigned i = 0; i < ndwords; i++)
        sc_dump(s, addr + 4 * i);
}

void sc_code(struct sc *s, const struct emit *e)
{
    if (e->overflow)
        s->overflow = true;
    sc_copy(s, e->org, e->b, (uint32_t)e->n);
}

void sc_descf(struct sc *s, const char *fmt, ...)
{
    size_t n = strlen(s->desc);
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(s->desc + n, sizeof s->desc - n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= sizeof s->desc - n)
        s->overflow = true;
}

size_t sc_serialize(const struct sc *s, uint8_t *out, size_t cap)
{
    size_t size = sizeof(struct so_case) + s->nops;
    if (size > cap)
        return 0;
    struct so_case c = s->c;
    c.size = (uint32_t)size;
    memcpy(out, &c, sizeof c);
    memcpy(out + sizeof c, s->ops, s->nops);
    return size;
}

size_t sc_op_count(const struct sc *s)
{
    size_t n = 0;
    struct sc_op_view v;
    while (sc_op_get(s, n, &v))
        n++;
    return n;
}

bool sc_op_get(const struct sc *s, size_t i, struct sc_op_view *v)
{
    size_t at = 0;
    for (;;) {
        struct so_op op;
        if (at + sizeof op > s->nops)
            return false;
        memcpy(&op, s->ops + at, sizeof op);
        at += sizeof op;
        uint32_t padded = op.kind == SO_OP_COPY ? (op.len + 3) & ~3u : 0;
        if (at + padded > s->nops)
            return false;
        if (i == 0) {
            v->kind = op.kind;
            v->addr = op.addr;
            v->len = op.len;
            v->data = op.kind == SO_OP_COPY ? s->ops + at : NULL;
            return true;
        }
        at += padded;
        i--;
    }
}

bool sc_initial32(const struct sc *s, uint32_t addr, uint32_t *value)
{
    bool found = false;
    struct sc_op_view v;
    for (size_t i = 0; sc_op_get(s, i, &v); i++) {
        if (addr < v.addr || (uint64_t)addr + 4 > (uint64_t)v.addr + v.len)
            continue;
        found = true;
        if (v.kind == SO_OP_ZERO)
            *value = 0;
        else
            memcpy(value, v.data + (addr - v.addr), 4);
    }
    return found;
}

uint64_t d_seg(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    uint32_t lo = (limit & 0xFFFF) | base << 16;
    uint32_t hi = (base >> 16 & 0xFF) | (access & 0xFF) << 8 | (limit & 0xF0000) | (flags & 0xF) << 20 |
                  (base & 0xFF000000);
    return (uint64_t)hi << 32 | lo;
}

uint64_t d_gate(uint16_t sel, uint32_t off, unsigned type, unsigned dpl, bool present, unsigned params)
{
    uint32_t lo = (off & 0xFFFF) | (uint32_t)sel << 16;
    uint32_t hi = (off & 0xFFFF0000) | (present ? 0x8000u : 0) | (dpl & 3) << 13 | (type & 0xF) << 8 |
                  (params & 0x1F);
    return (uint64_t)hi << 32 | lo;
}

const struct so_class so_classes[] = {
    {"gates", "INT n / INT3 / INTO / INT1 and exceptions through random IDT gates from rings 0-3: "
              "gate type and size, DPL checks, not present, bad targets, IDT limit, stack switch",
     gen_gates},
    {"iret", "IRET (32/16-bit) to the same and outer levels, back in through INT; bad CS/SS "
             "selectors, EFLAGS rules per CPL/IOPL, data segment nulling",
     gen_iret},
    {"callgate", "far CALL/JMP through call gates (32/16-bit, parameter copy, TSS stacks), RETF "
                 "(with imm) back to outer levels, bad gates/targets/stacks",
     gen_callgate},
    {"sysenter", "SYSENTER/SYSEXIT round trips with random MSRs, #GP for SYSENTER_CS = 0 and "
                 "SYSEXIT outside ring 0",
     gen_sysenter},
    {"cr", "MOV to/from CR0/CR3/CR4 with valid and reserved values, CLTS, LMSW, SMSW, at CPL 0 "
           "and above",
     gen_cr},
    {"desc", "segment loads of random GDT/LDT descriptors (MOV/POP/LxS, far JMP to code) from "
             "rings 0-3; LAR/LSL/VERR/VERW; accesses through the loaded segment; accessed bits",
     gen_desc},
    {"paging", "random 2-level page tables (4K/4M, P RW US A D G), reads/writes/fetches from ring "
               "0 and 3 with WP 0/1, INVLPG; faults, error codes, CR2, A/D bits",
     gen_paging},
};
const unsigned so_nclasses = sizeof so_classes / sizeof so_classes[0];

const struct so_class *so_class_find(const char *name)
{
    for (unsigned i = 0; i < so_nclasses; i++)
        if (!strcmp(so_classes[i].name, name))
            return &so_classes[i];
    return NULL;
}

void so_generate(const struct so_class *cls, uint64_t seed, uint32_t index, struct sc *out)
{
    uint64_t h = seed * 0x100000001B3ull;
    for (const char *p = cls->name; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001B3ull;
    struct so_rng r = {h ^ ((uint64_t)index << 20) ^ index};
    so_rng_next(&r);
    sc_init(out, cls->name, 0);
    cls->gen(out, &r);
}
