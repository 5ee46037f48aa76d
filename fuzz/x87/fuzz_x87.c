/*
 * fuzz_x87.c - libFuzzer harness for the x87 executor.
 *
 * Input: a raw FPU state (any bit pattern, including inconsistent tags, reserved FCW bits and
 * pending exceptions), a guest memory operand of 0..128 bytes, then a sequence of 4-byte
 * instruction records (x87 field little-endian, control byte, EFLAGS byte). Control byte:
 * bit 0 osize 16, bit 1 flips memory/register form, bit 2 CR0.MP, bits 3+4 EM or TS, bit 5
 * CR0.NE clear, bit 6 real-mode image layout, bit 7 odd cases (another op, junk x87 bits).
 * Each record becomes an ir_insn (mostly IR_X87) executed in turn on the same state. Memory
 * callbacks are backed by an exactly-sized heap buffer and refuse anything outside it, so ASan
 * reports any access the executor makes beyond what it asked for.
 *
 * Invariants checked (trap on violation): the host x87 control word and MXCSR are unchanged by
 * every call, and the host status word shows nothing pending (ES, B) and TOP 0; X87_FAULT and
 * X87_EXC leave the FPU state byte-for-byte unchanged; res->status equals the return value;
 * X87_EXC carries #NM, #MF or #UD.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ir.h"
#include "vcpu/cpu.h"
#include "vcpu/x87.h"

#define HDR_STATE 100
#define MEM_MAX 128
#define HDR (HDR_STATE + 1 + MEM_MAX)
#define MAX_INSNS 64

struct gmem {
    uint8_t *buf;
    unsigned len;
};

static int gread(void *ctx, uint32_t off, void *dst, unsigned size)
{
    struct gmem *g = ctx;

    if (off > g->len || size > g->len - off)
        return -1;
    memcpy(dst, g->buf + off, size);
    return 0;
}

static int gwrite(void *ctx, uint32_t off, const void *src, unsigned size)
{
    struct gmem *g = ctx;

    if (off > g->len || size > g->len - off)
        return -1;
    memcpy(g->buf + off, src, size);
    return 0;
}

struct host_ctl {
    uint16_t fcw, fsw;
    uint32_t mxcsr;
};

static void host_ctl(struct host_ctl *h)
{
    __asm__ volatile("fnstcw %0; fnstsw %1; stmxcsr %2" : "=m"(h->fcw), "=m"(h->fsw),
                     "=m"(h->mxcsr));
}

static void state_from(struct cpu_fpu *f, const uint8_t *p)
{
    memset(f, 0, sizeof(*f));
    for (unsigned i = 0; i < 8; i++)
        memcpy(&f->st[i], p + 10 * i, 10);
    memcpy(&f->fcw, p + 80, 2);
    memcpy(&f->fsw, p + 82, 2);
    memcpy(&f->ftw, p + 84, 2);
    memcpy(&f->fop, p + 86, 2);
    memcpy(&f->fip, p + 88, 4);
    memcpy(&f->fdp, p + 92, 4);
    memcpy(&f->fcs, p + 96, 2);
    memcpy(&f->fds, p + 98, 2);
}

static void insn_from(struct ir_insn *in, const uint8_t *rec)
{
    uint16_t x87 = (uint16_t)(rec[0] | rec[1] << 8);
    uint8_t ctl = rec[2];
    bool mem_form = (x87 & 0xFF) < 0xC0;

    memset(in, 0, sizeof(*in));
    /* ctl bit 7 with EFLAGS-byte bit 7: some other op; with it clear: keep x87 bits 11-15 */
    bool odd = ctl & 0x80, other_op = odd && (rec[3] & 0x80);
    in->op = other_op ? (uint16_t)(rec[3] % IR_OP_COUNT) : IR_X87;
    in->len = 2;
    in->osize = (ctl & 1) ? 2 : 4;
    in->asize = 4;
    in->x87 = odd && !other_op ? x87 : (uint16_t)(x87 & 0x7FF);
    if (mem_form != !!(ctl & 2)) {
        in->opd[0].kind = IR_OPK_MEM;
        in->opd[0].size = 10;
        in->mem.seg = IR_DS;
        in->mem.base = IR_EBX;
        in->mem.index = IR_NOREG;
    } else {
        in->opd[0].kind = IR_OPK_STREG;
        in->opd[0].reg = (uint8_t)(x87 & 7);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t hdr[HDR] = {0};
    struct cpu_fpu fpu;
    struct gmem g;
    struct x87_env env;

    memcpy(hdr, data, size < HDR ? size : HDR);
    state_from(&fpu, hdr);
    g.len = hdr[HDR_STATE] % (MEM_MAX + 1);
    g.buf = malloc(g.len ? g.len : 1);
    if (!g.buf)
        return 0;
    memcpy(g.buf, hdr + HDR_STATE + 1, g.len);

    memset(&env, 0, sizeof(env));
    env.ctx = &g;
    env.read = gread;
    env.write = gwrite;

    const uint8_t *rec = data + HDR;
    size_t nrec = size > HDR ? (size - HDR) / 4 : 0;
    if (nrec > MAX_INSNS)
        nrec = MAX_INSNS;
    for (size_t i = 0; i < nrec; i++, rec += 4) {
        struct ir_insn in;
        struct x87_result res;
        struct cpu_fpu before = fpu;
        struct host_ctl h0, h1;
        uint8_t ctl = rec[2];

        insn_from(&in, rec);
        /* ctl bit 2: MP; bits 3+4 both set: EM (bit 2 set) or TS; bit 5: NE clear */
        env.cr0 = CPU_CR0_PE | CPU_CR0_ET | CPU_CR0_NE;
        if (ctl & 0x04)
            env.cr0 |= CPU_CR0_MP;
        if ((ctl & 0x18) == 0x18)
            env.cr0 |= (ctl & 0x04) ? CPU_CR0_EM : CPU_CR0_TS;
        if (ctl & 0x20)
            env.cr0 &= ~CPU_CR0_NE;
        env.eflags = 0x2 | rec[3];
        env.pmode = !(ctl & 0x40);
        env.eip = (uint32_t)i * 3;
        env.cs = 0x8;
        env.mem_offset = 0x1000 + (uint32_t)i;
        env.mem_sel = 0x10;

        host_ctl(&h0);
        int rc = x87_exec(&fpu, &in, &env, &res);
        host_ctl(&h1);
        if (h0.fcw != h1.fcw || h0.mxcsr != h1.mxcsr || (h1.fsw & 0xB880) != 0)
            __builtin_trap(); /* control state kept; no pending exception, TOP 0, not busy */
        if (rc != res.status || rc < X87_OK || rc > X87_EXC)
            __builtin_trap();
        if (rc != X87_OK && memcmp(&before, &fpu, sizeof(fpu)) != 0)
            __builtin_trap();
        if (rc == X87_EXC && res.vector != CPU_NM && res.vector != CPU_MF &&
            res.vector != CPU_UD)
            __builtin_trap();
    }
    /* WAIT as well, on whatever state the sequence left. */
    struct x87_result wr;
    int wrc = x87_wait_check(&fpu, env.cr0, &wr);
    if (wrc != X87_OK && wrc != X87_EXC)
        __builtin_trap();
    free(g.buf);
    return 0;
}
