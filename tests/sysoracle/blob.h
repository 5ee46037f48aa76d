/*
 * blob.h - the contract between cloister-sysoracle (the host program that generates cases) and
 * the test kernel (kernel/), which is the same bytes under QEMU and under cloister: the guest
 * memory layout, the case format the kernel interprets, and the result record it prints.
 *
 * Included by C on the host, by freestanding C in the kernel and (the #defines only) by the
 * kernel's assembly. The kernel trusts the blob (the host wrote it); the host trusts nothing the
 * kernel prints (results are parsed with every field bounds-checked).
 */
#ifndef CLOISTER_SYSORACLE_BLOB_H
#define CLOISTER_SYSORACLE_BLOB_H

/* ---- guest physical layout (paging off = linear; paging cases map 0-4 MiB identically) ---- */
#define SO_LOWCODE 0x0000D000  /* case code below 64 KiB (16-bit call gate targets), user too */
#define SO_LOWPADS 0x0000E000  /* UD2 landing pads below 64 KiB, for 16-bit gates (user too) */
#define SO_KERNEL_BASE 0x00100000 /* framework text/data/bss */
#define SO_BLOB_ADDR 0x00180000   /* the case blob (section .blob of the kernel ELF) */
#define SO_BLOB_SIZE 0x00180000   /* up to 0x300000 */

#define SO_GDT 0x00300000      /* 64 descriptors */
#define SO_GDT_ENTRIES 64
#define SO_IDT 0x00301000      /* 256 gates */
#define SO_LDT 0x00301800      /* 32 descriptors */
#define SO_LDT_ENTRIES 32
#define SO_TSS 0x00302000      /* the main TSS (TR = SO_SEL_TSS) */
#define SO_DF_TSS 0x00302800   /* the double-fault task's TSS */
#define SO_STACK0 0x00304000   /* ring 0 stack page; TSS.ESP0 = SO_ESP0 */
#define SO_STACK1 0x00305000
#define SO_STACK2 0x00306000
#define SO_STACK3 0x00307000
#define SO_ESP0 0x00304F00     /* stacks start 256 bytes below the page end: the handler reads */
#define SO_ESP1 0x00305F00     /* 48 bytes above its ESP, and a few stack tests look above the */
#define SO_ESP2 0x00306F00     /* top */
#define SO_ESP3 0x00307F00
#define SO_DF_STACK_TOP 0x00308F00
#define SO_HSTACK_TOP 0x0030A000 /* the framework's own stack (0x309000-0x309FFF) */
#define SO_CODE 0x00310000     /* case code page (user-accessible in the identity tables) */
#define SO_PADS 0x00311000     /* a page of UD2 landing pads (every even offset), user too */
#define SO_PD 0x00320000       /* page directory used by paging cases and the #DF task */
#define SO_PT0 0x00321000      /* the identity page table behind PDE 0 */
#define SO_TEST_PT 0x00322000  /* 14 page tables the paging generator may use */
#define SO_TEST_PAGES 0x00330000 /* 16 physical data pages for paging cases */
#define SO_WORK_END 0x00340000
#define SO_RAM_SIZE 0x02000000 /* 32 MiB, as "-m 32" */

/* ---- the framework's GDT (entries 0..15 are the framework's; cases use 16..63) ---- */
#define SO_SEL_CODE0 0x08
#define SO_SEL_DATA0 0x10
#define SO_SEL_CODE3 0x1B /* entry 3, DPL 3 */
#define SO_SEL_DATA3 0x23 /* entry 4, DPL 3 */
#define SO_SEL_TSS 0x28
#define SO_SEL_DF_TSS 0x30
#define SO_SEL_CODE1 0x39 /* entry 7, DPL 1 */
#define SO_SEL_DATA1 0x41 /* entry 8, DPL 1 */
#define SO_SEL_CODE2 0x4A /* entry 9, DPL 2 */
#define SO_SEL_DATA2 0x52 /* entry 10, DPL 2 */
#define SO_SEL_LDT 0x58   /* entry 11: the LDT at SO_LDT, limit 0xFF */
#define SO_SEL_SYSENTER 0x60 /* entries 12..15: code0, data0, code3, data3 for SYSENTER/SYSEXIT */
#define SO_FIRST_CASE_ENTRY 16

/* ---- the case blob ---- */
#define SO_BLOB_MAGIC0 0x4F4C4321 /* "!CLO" */
#define SO_BLOB_MAGIC1 0x42535953 /* "SYSB" */
#define SO_BLOB_VERSION 1
#define SO_MAX_DUMP 48
#define SO_OP_COPY 1 /* len bytes follow (padded to 4) and are copied to addr */
#define SO_OP_ZERO 2 /* len bytes at addr are zeroed */

/* ---- the result record: one line "@SO R <id> <field>... <ndump> <dump>..." per case ---- */
#define SO_F_VEC 0     /* vector (SO_VEC_TASK set: recorded by the double-fault task) */
#define SO_F_ESP 1     /* handler's ESP and SS at entry */
#define SO_F_SS 2
#define SO_F_FRAME 3   /* 12 dwords from SS:ESP at entry */
#define SO_NFRAME 12
#define SO_F_EAX 15    /* general registers at entry: EAX ECX EDX EBX EBP ESI EDI */
#define SO_F_ECX 16
#define SO_F_EDX 17
#define SO_F_EBX 18
#define SO_F_EBP 19
#define SO_F_ESI 20
#define SO_F_EDI 21
#define SO_F_EFLAGS 22 /* EFLAGS in the handler */
#define SO_F_CS 23     /* the handler's CS */
#define SO_F_DS 24     /* DS ES FS GS as the handler found them */
#define SO_F_ES 25
#define SO_F_FS 26
#define SO_F_GS 27
#define SO_F_CR0 28
#define SO_F_CR2 29
#define SO_F_CR3 30
#define SO_F_CR4 31
#define SO_F_LDTR 32
#define SO_F_TR 33
#define SO_NFIELDS 34
#define SO_VEC_TASK 0x100

#ifndef __ASSEMBLER__
#include <stdint.h>

struct so_blob {
    uint32_t magic[2];
    uint32_t capacity; /* bytes available for cases after this header */
    uint32_t version;
    uint32_t ncases;
    uint32_t first;    /* the kernel runs cases [first, ncases) */
    uint32_t bytes;    /* bytes of cases */
    uint32_t pad;
};

struct so_case {
    uint32_t size;     /* bytes of this case with its ops, a multiple of 4 */
    uint32_t id;       /* printed with the result */
    uint32_t cr0, cr3, cr4;
    uint32_t eflags, eip;
    uint32_t gpr[8];   /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint16_t cs, ss, ds, es, fs, gs;
    uint16_t ldtr, tr;
    uint16_t gdt_limit, idt_limit;
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint32_t ndump;
    uint32_t dump[SO_MAX_DUMP]; /* physical addresses of dwords printed after the case */
    /* struct so_op records follow up to size */
};

struct so_op {
    uint32_t kind, addr, len;
};

struct so_rec {
    uint32_t f[SO_NFIELDS];
    uint32_t dump[SO_MAX_DUMP];
};
#endif

#endif
