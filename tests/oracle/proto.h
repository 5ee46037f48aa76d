/*
 * proto.h - the contract between cloister-oracle (64-bit parent) and cloister-oracle-native
 * (32-bit runner): the guest address layout both sides reproduce, and the shared-memory batch
 * format through which test cases go in and native results come back.
 *
 * This header is compiled both with -m32 (runner) and for the host (parent), so it uses only
 * fixed-width types and has explicit padding; the static asserts pin the layout on both sides.
 *
 * Trust: the runner trusts the parent only as far as bounds go (it checks every length and
 * count); the parent treats results as data from a process that ran arbitrary generated code
 * and validates status values and counts before use.
 */
#ifndef CLOISTER_ORACLE_PROTO_H
#define CLOISTER_ORACLE_PROTO_H

#include <stdint.h>

/* Guest linear layout, identical natively and in cloister. Everything below 0x10000 is reachable
 * with 16-bit addressing through a flat segment, which is why the data area lives there. */
#define ORN_DATA_BASE  0x00008000u /* read/write data area, stack at its top part */
#define ORN_DATA_SIZE  0x00004000u
#define ORN_GUARD_BASE 0x0000C000u /* no access: natively PROT_NONE, in cloister not present */
#define ORN_CODE_BASE  0x00010000u /* read+execute, one page; the page after it is unmapped */
#define ORN_CODE_SIZE  0x00001000u
/* Regions generators may use for "unmapped" accesses: nothing is mapped there on either side. */
#define ORN_UNMAPPED_LO 0x00001000u /* .. 0x7FFF */
#define ORN_UNMAPPED_HI 0x0000D000u /* .. 0xFFFF */

#define ORN_LDT_ENTRIES 4u
#define ORN_BATCH 32u
#define ORN_MAGIC 0x4F524E31u /* "ORN1" */

/* One LDT descriptor request, in the kernel's struct user_desc terms (modify_ldt(2)). */
struct orn_desc {
    uint32_t base;
    uint32_t limit;      /* 20 bits */
    uint8_t present;     /* 0: the entry is empty (all-zero descriptor) */
    uint8_t seg_32bit;   /* D/B */
    uint8_t contents;    /* 0 data expand-up, 1 data expand-down, 2 code */
    uint8_t read_exec_only;
    uint8_t limit_in_pages;
    uint8_t useable;     /* AVL */
    uint8_t not_present; /* P = 0 (a real descriptor that is marked not present) */
    uint8_t pad;
};

/* Segment register indexes, the x86 encoding order (same as enum ir_sreg). */
enum { ORN_ES, ORN_CS, ORN_SS, ORN_DS, ORN_FS, ORN_GS, ORN_NSEG };
/* GPR indexes, x86 encoding order. */
enum { ORN_EAX, ORN_ECX, ORN_EDX, ORN_EBX, ORN_ESP, ORN_EBP, ORN_ESI, ORN_EDI };

#define ORN_IN_X87 0x1u /* run FNINIT before the case (x87 cases) */

struct orn_in {
    uint32_t regs[8];
    uint32_t eflags;     /* only CF PF AF ZF SF OF DF are taken; the runner adds IF and bit 1 */
    uint32_t entry;      /* EIP to start at, inside the code page */
    uint32_t flags;      /* ORN_IN_* */
    uint16_t sel[ORN_NSEG]; /* selectors for ES SS DS FS GS (CS ignored); 0 = the flat user data
                              selector (nothing else can be null on entry) */
    struct orn_desc ldt[ORN_LDT_ENTRIES];
    uint8_t code[ORN_CODE_SIZE]; /* full page image */
    uint8_t data[ORN_DATA_SIZE];
};

enum orn_status {
    ORN_ST_EMPTY = 0,
    ORN_ST_DONE = 1,      /* the case ended with a signal; fields below are valid */
    ORN_ST_TIMEOUT = 2,   /* the case ran too long and was stopped */
    ORN_ST_SETUP = 3,     /* the runner could not set the case up (modify_ldt or a selector) */
    ORN_ST_BADREQ = 4,    /* the request failed validation */
    ORN_ST_CRASHED = 5,   /* set by the parent: the runner died or hung on this case */
};

struct orn_out {
    uint32_t status;     /* enum orn_status */
    uint32_t signo;
    uint32_t trapno;
    uint32_t err;
    uint32_t addr;       /* si_addr */
    uint32_t cr2;
    uint32_t regs[8];
    uint32_t eip;
    uint32_t eflags;
    uint16_t sel[ORN_NSEG];
    uint16_t fcw, fsw, ftw, fpad; /* x87 state at the signal (ftw: full 2-bit tag word) */
    uint8_t st[8][10];   /* ST(0)..ST(7) as 80-bit values */
    uint8_t ldt_raw[ORN_LDT_ENTRIES][8]; /* the descriptors the kernel actually installed */
    uint8_t data[ORN_DATA_SIZE];
};

struct orn_slot {
    struct orn_in in;
    struct orn_out out;
};

/* The shared region. The parent fills `count` slots and writes the 4-byte count to the socket;
 * the runner processes them in order, sets each out.status, and answers with the count done. */
struct orn_shm {
    uint32_t magic;
    uint32_t count;
    /* filled by the runner at start-up: the selectors Linux gave it, and what LAR/LSL report
     * for each GDT selector (index 0..15, RPL 3): the parent rebuilds the GDT from them */
    uint16_t user_cs, user_ds, user_fs, user_gs;
    uint32_t gdt_lar[16], gdt_lsl[16];
    uint16_t gdt_ok; /* bit i: LAR succeeded for index i */
    uint16_t gdt_pad;
    struct orn_slot slot[ORN_BATCH];
};

_Static_assert(sizeof(struct orn_desc) == 16, "orn_desc layout");
_Static_assert(sizeof(struct orn_in) == 4 * 11 + 12 + 16 * ORN_LDT_ENTRIES + ORN_CODE_SIZE + ORN_DATA_SIZE,
               "orn_in layout");
_Static_assert(sizeof(struct orn_out) % 4 == 0, "orn_out layout");
_Static_assert(sizeof(struct orn_out) == 4 * 16 + 12 + 8 + 80 + 8 * ORN_LDT_ENTRIES + ORN_DATA_SIZE,
               "orn_out layout");

#endif
