/*
 * msg.h - every message that crosses a process boundary in cloister, in one place.
 *
 * A message is one 64-byte slot: an 8-byte header (type, payload length, sequence number) and up
 * to 56 bytes of payload. Each type belongs to one channel kind and travels in one direction;
 * msg_check() enforces the type/channel/direction/length table below before any handler looks at
 * the payload. Payloads are plain little-endian structs with explicit padding; any offsets they
 * carry are checked by the receiver against the region they name.
 */
#ifndef CLOISTER_IPC_MSG_H
#define CLOISTER_IPC_MSG_H

#include <stddef.h>
#include <stdint.h>

#define MSG_SIZE 64
#define MSG_PAYLOAD_MAX 56

struct msg {
    uint16_t type;
    uint16_t len;  /* payload bytes actually used */
    uint32_t seq;  /* producer's running count, checked by the consumer */
    uint8_t payload[MSG_PAYLOAD_MAX];
};
_Static_assert(sizeof(struct msg) == MSG_SIZE, "msg is one slot");

/* Channel kinds: who talks to whom. The first named side is the client (sends requests). */
enum chan_kind {
    CHAN_CTL = 0,   /* monitor -> component: control; the component answers and reports */
    CHAN_XLATE = 1, /* vcpu -> translator */
    CHAN_MMU = 2,   /* vcpu -> mmu */
    CHAN_DEV = 3,   /* vcpu -> device model */
    CHAN_KIND_COUNT
};

/* Direction of a message on its channel. */
enum msg_dir { DIR_REQ = 0 /* client -> server */, DIR_RSP = 1 /* server -> client */ };

/* Components, as named on the command line, in the audit and in policies/<name>.policy. */
enum component_kind {
    COMP_VCPU = 0,
    COMP_TRANSLATOR = 1,
    COMP_MMU = 2,
    COMP_DEV_SERIAL = 3,
    COMP_KIND_COUNT
};

/* ---- payloads ---- */

/* CHAN_CTL */
struct msg_hello {          /* component -> monitor, first message after sandboxing */
    uint32_t kind;          /* enum component_kind */
    uint32_t version;       /* CLOISTER_IPC_VERSION */
    uint32_t seccomp_mode;  /* what the component itself read back (2 = filter) */
    uint32_t pad;
};
struct msg_ping {           /* either direction on any channel: liveness and latency */
    uint64_t token;
};
struct msg_log {            /* component -> monitor: a short diagnostic line */
    uint8_t level;          /* 0 info, 1 warning, 2 error */
    uint8_t n;              /* bytes used in text, <= 52 */
    uint8_t pad[2];
    char text[52];          /* printable ASCII only (checked) */
};
struct msg_bytes {          /* console data: serial -> monitor (output), monitor -> serial (input) */
    uint8_t n;              /* 1..52 */
    uint8_t pad[3];
    uint8_t data[52];
};
struct msg_links {          /* vcpu -> monitor: result of pinging every peer at start */
    uint32_t peers;         /* number of peers answered */
    uint32_t worst_rtt_ns;
    uint32_t pad[2];
};
struct msg_stop {           /* component -> monitor: request to stop the VM */
    uint32_t reason;        /* enum stop_reason */
    uint32_t detail;
};
struct msg_boot {           /* monitor -> vcpu, before START: the guest's entry state */
    uint32_t mode;          /* enum boot_mode */
    uint32_t entry;         /* EIP */
    uint32_t eax, ebx, esi, esp;  /* every other general register starts at 0 */
    uint32_t gdt_base;      /* BOOT_LINUX32: GDTR; ignored by BOOT_FLAT32 */
    uint32_t gdt_limit;
};
/* Both modes: 32-bit protected mode, CPL 0, paging off, EFLAGS = 0x2 (IF=0), flat 4 GiB segments.
 * BOOT_FLAT32 (Multiboot): CS = 0x08, data segments 0x10, GDTR not meaningful.
 * BOOT_LINUX32 (Linux 32-bit boot protocol): GDTR = gdt_base/gdt_limit, a GDT in guest RAM whose
 * entries 0x10 (code) and 0x18 (data) are the flat descriptors; CS = BOOT_LINUX32_CS and
 * DS = ES = SS = FS = GS = BOOT_LINUX32_DS. msg_check requires a limit that covers selector 0x18
 * and a table that does not wrap around 4 GiB. */
enum boot_mode { BOOT_FLAT32 = 1, BOOT_LINUX32 = 2 };
#define BOOT_LINUX32_CS 0x10
#define BOOT_LINUX32_DS 0x18
struct msg_selftest {       /* monitor -> component: perform one forbidden call (sandbox tests) */
    uint32_t what;          /* enum selftest_call */
    uint32_t pad;
};
enum selftest_call { SELFTEST_OPENAT = 1, SELFTEST_SOCKET, SELFTEST_EXECVE, SELFTEST_PTRACE,
                     SELFTEST_MPROTECT_EXEC, SELFTEST_COUNT };
enum stop_reason { STOP_GUEST_HALT = 1, STOP_GUEST_RESET = 2, STOP_DONE = 3, STOP_INTERNAL = 4 };

/* CHAN_XLATE: the vCPU asks for the block at (eip, phys, mode); the translator decodes it from
 * guest RAM into the staging region (ipc/tcache.h) and answers where it put it. */
struct msg_translate {
    uint32_t eip;        /* linear address of the first instruction */
    uint32_t phys;       /* its physical address (the vCPU's translation) */
    uint32_t phys_next;  /* physical address of the next linear page, or XL_NO_PAGE */
    uint32_t limit;      /* bytes that may be fetched from eip (CS limit), 1 .. 8192 */
    uint32_t mode;       /* DEC_MODE_* bits */
    uint32_t pad;
};
#define XL_NO_PAGE 0xFFFFFFFFu
enum xl_status {
    XL_OK = 0,           /* a block of at least one instruction is at offset */
    XL_FETCH_LIMIT = 1,  /* the first instruction crosses the CS limit: #GP(0) */
    XL_FETCH_PAGE = 2,   /* the first instruction crosses into an unmapped page: #PF there */
};
struct msg_block {
    uint32_t status;     /* enum xl_status */
    uint32_t offset;     /* of the block in the staging region */
    uint32_t size;       /* bytes: header and instructions */
    uint32_t eip;        /* echoes the request */
};

/* CHAN_DEV */
struct msg_pio {            /* vcpu -> device: port access; reads are answered with msg_pio */
    uint16_t port;
    uint8_t size;           /* 1, 2 or 4 */
    uint8_t pad;
    uint32_t value;         /* write value, or read result in the response */
};

/* ---- the type table ---- */
#define MSG_TYPES(X)                                                        \
    /* name,             chan,       dir,     payload struct / size */     \
    X(CTL_HELLO,         CHAN_CTL,   DIR_RSP, sizeof(struct msg_hello))     \
    X(CTL_START,         CHAN_CTL,   DIR_REQ, 0)                            \
    X(CTL_STOP,          CHAN_CTL,   DIR_REQ, 0)                            \
    X(CTL_PING,          CHAN_CTL,   DIR_REQ, sizeof(struct msg_ping))      \
    X(CTL_PONG,          CHAN_CTL,   DIR_RSP, sizeof(struct msg_ping))      \
    X(CTL_LOG,           CHAN_CTL,   DIR_RSP, sizeof(struct msg_log))       \
    X(CTL_CONSOLE_OUT,   CHAN_CTL,   DIR_RSP, sizeof(struct msg_bytes))     \
    X(CTL_CONSOLE_IN,    CHAN_CTL,   DIR_REQ, sizeof(struct msg_bytes))     \
    X(CTL_LINKS,         CHAN_CTL,   DIR_RSP, sizeof(struct msg_links))     \
    X(CTL_VM_STOP,       CHAN_CTL,   DIR_RSP, sizeof(struct msg_stop))      \
    X(CTL_SELFTEST,      CHAN_CTL,   DIR_REQ, sizeof(struct msg_selftest))  \
    X(CTL_BOOT,          CHAN_CTL,   DIR_REQ, sizeof(struct msg_boot))      \
    X(XL_PING,           CHAN_XLATE, DIR_REQ, sizeof(struct msg_ping))      \
    X(XL_PONG,           CHAN_XLATE, DIR_RSP, sizeof(struct msg_ping))      \
    X(XL_TRANSLATE,      CHAN_XLATE, DIR_REQ, sizeof(struct msg_translate)) \
    X(XL_BLOCK,          CHAN_XLATE, DIR_RSP, sizeof(struct msg_block))     \
    X(MMU_PING,          CHAN_MMU,   DIR_REQ, sizeof(struct msg_ping))      \
    X(MMU_PONG,          CHAN_MMU,   DIR_RSP, sizeof(struct msg_ping))      \
    X(DEV_PING,          CHAN_DEV,   DIR_REQ, sizeof(struct msg_ping))      \
    X(DEV_PONG,          CHAN_DEV,   DIR_RSP, sizeof(struct msg_ping))      \
    X(DEV_PIO_WRITE,     CHAN_DEV,   DIR_REQ, sizeof(struct msg_pio))      \
    X(DEV_PIO_READ,      CHAN_DEV,   DIR_REQ, sizeof(struct msg_pio))      \
    X(DEV_PIO_DATA,      CHAN_DEV,   DIR_RSP, sizeof(struct msg_pio))

enum msg_type {
    MSG_NONE = 0,
#define MSG_ENUM(name, chan, dir, size) MSG_##name,
    MSG_TYPES(MSG_ENUM)
#undef MSG_ENUM
    MSG_TYPE_COUNT
};

#define CLOISTER_IPC_VERSION 1

/* 0 when `m` is a well-formed message of a type allowed on channel `kind` in direction `dir`
 * with exactly the payload length its type defines; -EPROTO otherwise. */
int msg_check(const struct msg *m, enum chan_kind kind, enum msg_dir dir);

/* Fill type/len and copy `len` bytes of payload (zeroing the rest). */
void msg_set(struct msg *m, enum msg_type type, const void *payload, size_t len);

const char *msg_type_name(unsigned type);
const char *component_name(unsigned kind);
/* enum component_kind for a name, or -1. */
int component_by_name(const char *name);

#endif
