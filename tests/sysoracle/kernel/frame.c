/*
 * frame.c - the sysoracle test kernel's framework (freestanding, runs in the guest): for each
 * case of the blob it rebuilds the default machine (GDT, IDT, LDT, both TSSs, stacks, identity
 * page tables), applies the case's memory operations, loads the descriptor-table registers,
 * SYSENTER MSRs and control registers the case asks for and enters it (entry.S so_enter). Every
 * case ends in an event - an exception or interrupt through the IDT (usually #UD from a UD2
 * landing pad), or the double-fault task - whose state entry.S records in so_rec; so_after()
 * adds the case's memory dumps, prints one result line on COM1 and starts the next case.
 *
 * Output: "@SO I <cpuid1.eax> <cpuid1.edx>", "@SO B <ncases> <first>", one "@SO R ..." per case,
 * "@SO E <count>". Then it writes port 0xF4 (QEMU's isa-debug-exit) and halts with IF = 0.
 *
 * Trusts the blob (written by the host). Kernel state is global: there is one CPU and one run.
 */
#include <stddef.h>
#include <stdint.h>

#include "../blob.h"

_Static_assert(offsetof(struct so_case, eflags) == 20, "entry.S C_EFLAGS");
_Static_assert(offsetof(struct so_case, eip) == 24, "entry.S C_EIP");
_Static_assert(offsetof(struct so_case, gpr) == 28, "entry.S C_GPR");
_Static_assert(offsetof(struct so_case, cs) == 60, "entry.S C_CS");
_Static_assert(offsetof(struct so_case, ss) == 62, "entry.S C_SS");
_Static_assert(offsetof(struct so_case, gs) == 70, "entry.S C_GS");

extern struct so_blob so_blob;
extern char so_stubs[], so_df_entry[];
struct so_rec so_rec;
void so_enter(const struct so_case *c) __attribute__((noreturn));
void so_main(void) __attribute__((noreturn));
void so_after(void) __attribute__((noreturn));
void so_after_df(void) __attribute__((noreturn));

static const struct so_case *cur;
static uint32_t next_index, done_count;

/* clang may emit calls to these */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}
void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void putc(char c)
{
    while (!(inb(0x3FD) & 0x20))
        ;
    outb(0x3F8, (uint8_t)c);
}

static void puts(const char *s)
{
    while (*s)
        putc(*s++);
}

/* hex without leading zeros, preceded by a space */
static void puthex(uint32_t v)
{
    char buf[10];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    putc(' ');
    while (n)
        putc(buf[--n]);
}

static void zero32(uint32_t addr, uint32_t bytes)
{
    uint32_t *p = (uint32_t *)addr;
    for (uint32_t i = 0; i < bytes / 4; i++)
        p[i] = 0;
}

static void set_desc(uint32_t table, unsigned index, uint32_t base, uint32_t limit, uint32_t access,
                     uint32_t flags)
{
    uint32_t *d = (uint32_t *)(table + index * 8);
    d[0] = (limit & 0xFFFF) | base << 16;
    d[1] = (base >> 16 & 0xFF) | access << 8 | (limit & 0xF0000) | flags << 20 | (base & 0xFF000000);
}

static void set_gate(unsigned vec, uint32_t sel, uint32_t off, uint32_t type_dpl_p)
{
    uint32_t *d = (uint32_t *)(SO_IDT + vec * 8);
    d[0] = (off & 0xFFFF) | sel << 16;
    d[1] = (off & 0xFFFF0000) | type_dpl_p << 8;
}

static void write_tss(uint32_t at, uint32_t eip, uint32_t esp)
{
    uint32_t *t = (uint32_t *)at;
    zero32(at, 0x68);
    t[1] = SO_ESP0;
    t[2] = SO_SEL_DATA0;
    t[3] = SO_ESP1;
    t[4] = SO_SEL_DATA1;
    t[5] = SO_ESP2;
    t[6] = SO_SEL_DATA2;
    t[7] = SO_PD;
    t[8] = eip;
    t[9] = 2;
    t[14] = esp;
    t[18] = SO_SEL_DATA0; /* ES */
    t[19] = SO_SEL_CODE0; /* CS */
    t[20] = SO_SEL_DATA0; /* SS */
    t[21] = SO_SEL_DATA0; /* DS */
    t[25] = 0x68u << 16;  /* I/O map base past the limit: no bitmap */
}

static void defaults(void)
{
    zero32(SO_GDT, SO_GDT_ENTRIES * 8);
    set_desc(SO_GDT, 1, 0, 0xFFFFF, 0x9A, 0xC);
    set_desc(SO_GDT, 2, 0, 0xFFFFF, 0x92, 0xC);
    set_desc(SO_GDT, 3, 0, 0xFFFFF, 0xFA, 0xC);
    set_desc(SO_GDT, 4, 0, 0xFFFFF, 0xF2, 0xC);
    set_desc(SO_GDT, 5, SO_TSS, 0x67, 0x89, 0);
    set_desc(SO_GDT, 6, SO_DF_TSS, 0x67, 0x89, 0);
    set_desc(SO_GDT, 7, 0, 0xFFFFF, 0xBA, 0xC);
    set_desc(SO_GDT, 8, 0, 0xFFFFF, 0xB2, 0xC);
    set_desc(SO_GDT, 9, 0, 0xFFFFF, 0xDA, 0xC);
    set_desc(SO_GDT, 10, 0, 0xFFFFF, 0xD2, 0xC);
    set_desc(SO_GDT, 11, SO_LDT, SO_LDT_ENTRIES * 8 - 1, 0x82, 0);
    set_desc(SO_GDT, 12, 0, 0xFFFFF, 0x9A, 0xC);
    set_desc(SO_GDT, 13, 0, 0xFFFFF, 0x92, 0xC);
    set_desc(SO_GDT, 14, 0, 0xFFFFF, 0xFA, 0xC);
    set_desc(SO_GDT, 15, 0, 0xFFFFF, 0xF2, 0xC);
    zero32(SO_LDT, SO_LDT_ENTRIES * 8);
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, SO_SEL_CODE0, (uint32_t)so_stubs + 16 * v, 0x8E);
    set_gate(8, SO_SEL_DF_TSS, 0, 0x85);
    write_tss(SO_TSS, 0, 0);
    write_tss(SO_DF_TSS, (uint32_t)so_df_entry, SO_DF_STACK_TOP);
    zero32(SO_STACK0, 0x5000); /* ring 0..3 stacks and the double-fault stack (not ours) */
    zero32(SO_CODE, 0x1000);
    zero32(SO_PD, 0x1000);
    *(uint32_t *)SO_PD = SO_PT0 | 7;
    uint32_t *pt = (uint32_t *)SO_PT0;
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t a = i << 12;
        uint32_t user = (a >= SO_STACK3 && a < SO_STACK3 + 0x1000) ||
                        (a >= SO_CODE && a < SO_CODE + 0x2000) || a == SO_LOWPADS || a == SO_LOWCODE;
        pt[i] = a | 3 | (user ? 4 : 0);
    }
}

static void apply_ops(const struct so_case *c)
{
    const uint8_t *p = (const uint8_t *)c + sizeof *c, *end = (const uint8_t *)c + c->size;
    while (p + sizeof(struct so_op) <= end) {
        const struct so_op *op = (const struct so_op *)p;
        p += sizeof *op;
        if (op->kind == SO_OP_COPY) {
            memcpy((void *)op->addr, p, op->len);
            p += (op->len + 3) & ~3u;
        } else if (op->kind == SO_OP_ZERO) {
            if (!(op->addr & 3) && !(op->len & 3))
                zero32(op->addr, op->len);
            else
                memset((void *)op->addr, 0, op->len);
        } else {
            break;
        }
    }
}

static void load_tables(uint16_t gdt_limit, uint16_t idt_limit)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } g = {gdt_limit, SO_GDT}, i = {idt_limit, SO_IDT};
    __asm__ volatile("lgdt %0" ::"m"(g));
    __asm__ volatile("lidt %0" ::"m"(i));
}

static void wrmsr(uint32_t msr, uint32_t lo)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"(lo), "d"(0));
}

/* Paging off, no optional features, TS clear: the framework's own state between cases. */
static void plain_control(void)
{
    __asm__ volatile("movl %0, %%cr0" ::"r"(0x11u));
    __asm__ volatile("movl %0, %%cr4" ::"r"(0u));
    __asm__ volatile("movl %0, %%cr3" ::"r"(0u));
    __asm__ volatile("movl %0, %%cr2" ::"r"(0u)); /* a case's CR2 must not leak into the next */
    __asm__ volatile("pushl $2; popfl");
}

static __attribute__((noreturn)) void finish(void)
{
    puts("\n@SO E");
    puthex(done_count);
    puts("\n");
    outb(0xF4, 0);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static const struct so_case *case_at(uint32_t index)
{
    const uint8_t *p = (const uint8_t *)&so_blob + sizeof so_blob;
    for (uint32_t i = 0; i < index; i++)
        p += ((const struct so_case *)p)->size;
    return (const struct so_case *)p;
}

static __attribute__((noreturn)) void start_case(void)
{
    if (next_index >= so_blob.ncases)
        finish();
    cur = cur ? (const struct so_case *)((const uint8_t *)cur + cur->size) : case_at(next_index);
    next_index++;
    plain_control();
    defaults();
    load_tables(SO_GDT_ENTRIES * 8 - 1, 256 * 8 - 1);
    apply_ops(cur);
    load_tables(cur->gdt_limit, cur->idt_limit);
    __asm__ volatile("ltr %0" ::"r"(cur->tr));
    __asm__ volatile("lldt %0" ::"r"(cur->ldtr));
    wrmsr(0x174, cur->sysenter_cs);
    wrmsr(0x175, cur->sysenter_esp);
    wrmsr(0x176, cur->sysenter_eip);
    __asm__ volatile("movl %0, %%cr4" ::"r"(cur->cr4));
    __asm__ volatile("movl %0, %%cr3" ::"r"(cur->cr3));
    __asm__ volatile("movl %0, %%cr0" ::"r"(cur->cr0));
    so_enter(cur);
}

static void print_record(void)
{
    for (uint32_t i = 0; i < cur->ndump && i < SO_MAX_DUMP; i++)
        so_rec.dump[i] = *(volatile uint32_t *)cur->dump[i];
    puts("@SO R");
    puthex(cur->id);
    for (unsigned i = 0; i < SO_NFIELDS; i++)
        puthex(so_rec.f[i]);
    puthex(cur->ndump);
    for (uint32_t i = 0; i < cur->ndump && i < SO_MAX_DUMP; i++)
        puthex(so_rec.dump[i]);
    puts("\n");
    done_count++;
}

void so_after(void)
{
    plain_control();
    print_record();
    start_case();
}

/* The double-fault task: the interrupted state is in the main TSS. */
void so_after_df(void)
{
    const uint32_t *t = (const uint32_t *)SO_TSS, *df = (const uint32_t *)SO_DF_TSS;
    uint32_t cr0, cr2, cr3, cr4;
    uint16_t ldtr, tr;
    __asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("movl %%cr2, %0" : "=r"(cr2));
    __asm__ volatile("movl %%cr3, %0" : "=r"(cr3));
    __asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("sldt %0" : "=r"(ldtr));
    __asm__ volatile("str %0" : "=r"(tr));
    so_rec.f[SO_F_VEC] = 8 | SO_VEC_TASK;
    so_rec.f[SO_F_SS] = SO_SEL_DATA0;
    so_rec.f[SO_F_FRAME + 4] = t[8];   /* EIP */
    so_rec.f[SO_F_FRAME + 5] = t[19];  /* CS */
    so_rec.f[SO_F_FRAME + 6] = t[9];   /* EFLAGS */
    so_rec.f[SO_F_FRAME + 7] = t[14];  /* ESP */
    so_rec.f[SO_F_FRAME + 8] = t[20];  /* SS */
    so_rec.f[SO_F_FRAME + 9] = df[0];  /* back link */
    so_rec.f[SO_F_FRAME + 10] = 0;
    so_rec.f[SO_F_FRAME + 11] = 0;
    so_rec.f[SO_F_EAX] = t[10];
    so_rec.f[SO_F_ECX] = t[11];
    so_rec.f[SO_F_EDX] = t[12];
    so_rec.f[SO_F_EBX] = t[13];
    so_rec.f[SO_F_EBP] = t[15];
    so_rec.f[SO_F_ESI] = t[16];
    so_rec.f[SO_F_EDI] = t[17];
    so_rec.f[SO_F_CS] = SO_SEL_CODE0;
    so_rec.f[SO_F_DS] = t[21] & 0xFFFF;
    so_rec.f[SO_F_ES] = t[18] & 0xFFFF;
    so_rec.f[SO_F_FS] = t[22] & 0xFFFF;
    so_rec.f[SO_F_GS] = t[23] & 0xFFFF;
    so_rec.f[SO_F_CR0] = cr0;
    so_rec.f[SO_F_CR2] = cr2;
    so_rec.f[SO_F_CR3] = cr3;
    so_rec.f[SO_F_CR4] = cr4;
    so_rec.f[SO_F_LDTR] = ldtr;
    so_rec.f[SO_F_TR] = tr;
    so_after();
}

void so_main(void)
{
    uint32_t a, b, c, d;
    outb(0x21, 0xFF); /* mask the PICs: no timer or other IRQ may reach a case */
    outb(0xA1, 0xFF);
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1));
    defaults();
    load_tables(SO_GDT_ENTRIES * 8 - 1, 256 * 8 - 1);
    __asm__ volatile("ljmp %0, $1f\n1:" ::"i"(SO_SEL_CODE0));
    __asm__ volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss; movw %w1, %%fs; movw %w1, %%gs"
                     ::"r"(SO_SEL_DATA0), "r"(0));
    /* pages of UD2 landing pads */
    for (uint32_t off = 0; off < 0x1000; off += 2) {
        *(volatile uint16_t *)(SO_PADS + off) = 0x0B0F;
        *(volatile uint16_t *)(SO_LOWPADS + off) = 0x0B0F;
    }
    puts("\n@SO I");
    puthex(a);
    puthex(d);
    puts("\n@SO B");
    puthex(so_blob.ncases);
    puthex(so_blob.first);
    puts("\n");
    if (so_blob.magic[0] != SO_BLOB_MAGIC0 || so_blob.version != SO_BLOB_VERSION)
        finish();
    next_index = so_blob.first;
    cur = 0;
    start_case();
}
