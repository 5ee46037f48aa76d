/*
 * x87_native.c - host reference runner for the x87 tests (see x87_native.h).
 *
 * One 64-byte stub per encoding (and a second set with an operand-size prefix) is generated into
 * an anonymous mapping that is made read+execute once filled. A stub, called as
 *     stub(guest_image, mem, eflags, out, host_image)
 * does: FNSAVE host_image; set CF/PF/AF/ZF/SF/OF from eflags; FRSTOR guest_image; RAX = mem;
 * [66] opcode modrm; FNSAVE guest_image; out[1] = EAX; out[0] = RFLAGS; FRSTOR host_image; RET.
 * Trusts: nothing outside the test process; encodings the host does not know raise SIGILL, so
 * callers only run valid ones.
 */
#include "tests/x87/x87_native.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define STUB_SIZE 64u
#define NCODES 2048u

typedef void (*stub_fn)(uint8_t *img, void *mem, uint64_t eflags, uint32_t *out, uint8_t *host);

static unsigned emit_stub(uint8_t *p, unsigned code, bool o16)
{
    static const uint8_t pre[] = {
        0x41, 0xDD, 0x30,                   /* fnsave [r8] */
        0x9C, 0x58,                         /* pushfq; pop rax */
        0x48, 0x25, 0x2A, 0xF7, 0xFF, 0xFF, /* and rax, ~0x8D5 */
        0x48, 0x81, 0xE2, 0xD5, 0x08, 0x00, 0x00, /* and rdx, 0x8D5 */
        0x48, 0x09, 0xD0,                   /* or rax, rdx */
        0x50, 0x9D,                         /* push rax; popfq */
        0xDD, 0x27,                         /* frstor [rdi] */
        0x48, 0x89, 0xF0,                   /* mov rax, rsi */
    };
    static const uint8_t post[] = {
        0xDD, 0x37,                         /* fnsave [rdi] */
        0x89, 0x41, 0x04,                   /* mov [rcx+4], eax */
        0x9C, 0x58,                         /* pushfq; pop rax */
        0x89, 0x01,                         /* mov [rcx], eax */
        0x41, 0xDD, 0x20,                   /* frstor [r8] */
        0xC3,                               /* ret */
    };
    unsigned n = 0;

    memcpy(p, pre, sizeof(pre));
    n += sizeof(pre);
    if (o16)
        p[n++] = 0x66;
    p[n++] = (uint8_t)(0xD8 | (code >> 8));
    p[n++] = (uint8_t)code;
    memcpy(p + n, post, sizeof(post));
    n += sizeof(post);
    return n;
}

int native_init(struct native *n)
{
    size_t len = 2 * NCODES * STUB_SIZE;

    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    memset(p, 0xCC, len);
    for (unsigned o = 0; o < 2; o++)
        for (unsigned c = 0; c < NCODES; c++)
            if (emit_stub(p + (o * NCODES + c) * STUB_SIZE, c, o == 1) > STUB_SIZE) {
                munmap(p, len);
                return -EOVERFLOW;
            }
    if (mprotect(p, len, PROT_READ | PROT_EXEC) != 0) {
        int err = -errno;
        munmap(p, len);
        return err;
    }
    n->stubs = p;
    return 0;
}

void native_fini(struct native *n)
{
    if (n->stubs)
        munmap(n->stubs, 2 * NCODES * STUB_SIZE);
    n->stubs = NULL;
}

static stub_fn stub_for(const struct native *n, unsigned code, bool o16)
{
    stub_fn f;
    uint8_t *p = n->stubs + ((o16 ? NCODES : 0) + (code & (NCODES - 1))) * STUB_SIZE;

    memcpy(&f, &p, sizeof(f));
    return f;
}

static void w16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static unsigned r16(const uint8_t *p) { return p[0] | (unsigned)p[1] << 8; }

void native_image_from_fpu(const struct cpu_fpu *fpu, uint8_t img[108])
{
    unsigned top = (fpu->fsw >> 11) & 7;

    memset(img, 0, 108);
    w16(img + 0, fpu->fcw);
    w16(img + 4, fpu->fsw);
    w16(img + 8, fpu->ftw);
    for (unsigned i = 0; i < 8; i++)
        memcpy(img + 28 + 10 * i, &fpu->st[(top + i) & 7], 10);
}

void native_fpu_from_image(struct cpu_fpu *fpu, const uint8_t img[108])
{
    unsigned top;

    fpu->fcw = (uint16_t)r16(img + 0);
    fpu->fsw = (uint16_t)r16(img + 4);
    fpu->ftw = (uint16_t)r16(img + 8);
    top = (fpu->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        memset(&fpu->st[(top + i) & 7], 0, sizeof(long double));
        memcpy(&fpu->st[(top + i) & 7], img + 28 + 10 * i, 10);
    }
}

static void run_stub(const struct native *n, struct cpu_fpu *fpu, unsigned code, bool o16,
                     void *mem, uint32_t eflags, struct native_out *out)
{
    uint8_t host[108];
    uint32_t words[2] = {0, 0};

    native_image_from_fpu(fpu, out->save);
    stub_for(n, code, o16)(out->save, mem, eflags, words, host);
    out->eflags = words[0];
    out->eax = words[1];
    native_fpu_from_image(fpu, out->save);
}

void native_run(const struct native *n, struct cpu_fpu *fpu, unsigned code, void *mem,
                uint32_t eflags, struct native_out *out)
{
    run_stub(n, fpu, code, false, mem, eflags, out);
}

void native_run16(const struct native *n, struct cpu_fpu *fpu, unsigned code, void *mem,
                  uint32_t eflags, struct native_out *out)
{
    run_stub(n, fpu, code, true, mem, eflags, out);
}

void native_fnstenv(const struct native *n, const struct cpu_fpu *fpu, uint8_t *buf,
                    bool o16)
{
    struct cpu_fpu tmp = *fpu;
    struct native_out out;

    run_stub(n, &tmp, (1u << 8) | (6u << 3), o16, buf, 0, &out);
}

void native_fnsave(const struct native *n, const struct cpu_fpu *fpu, uint8_t *buf,
                   bool o16)
{
    struct cpu_fpu tmp = *fpu;
    struct native_out out;

    run_stub(n, &tmp, (5u << 8) | (6u << 3), o16, buf, 0, &out);
}

uint16_t native_host_fcw(void)
{
    uint16_t cw;

    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

uint32_t native_host_mxcsr(void)
{
    uint32_t m;

    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return m;
}
