/*
 * x87_testlib.c - helpers shared by the x87 tests (see x87_testlib.h). The opcode table here is
 * transcribed from the SDM opcode map (vol. 2, A.5) on its own, not derived from the module.
 */
#include "tests/x87/x87_testlib.h"

#include <string.h>

uint64_t rng_next(struct rng *r)
{
    /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

unsigned rng_below(struct rng *r, unsigned n) { return (unsigned)(rng_next(r) % n); }

static int tmem_read(void *ctx, uint32_t off, void *buf, unsigned size)
{
    struct tmem *m = ctx;

    m->reads++;
    m->last_size = size;
    if (m->fail_read || off > sizeof(m->buf) || size > sizeof(m->buf) - off)
        return -1;
    memcpy(buf, m->buf + off, size);
    return 0;
}

static int tmem_write(void *ctx, uint32_t off, const void *buf, unsigned size)
{
    struct tmem *m = ctx;

    m->writes++;
    m->last_size = size;
    if (m->fail_write || off > sizeof(m->buf) || size > sizeof(m->buf) - off)
        return -1;
    memcpy(m->buf + off, buf, size);
    return 0;
}

void tmem_env(struct x87_env *env, struct tmem *m)
{
    memset(env, 0, sizeof(*env));
    env->ctx = m;
    env->read = tmem_read;
    env->write = tmem_write;
    env->cr0 = CPU_CR0_PE | CPU_CR0_ET | CPU_CR0_NE | CPU_CR0_MP;
    env->eflags = 0x2;
    env->eip = 0x1000;
    env->cs = 0x8;
    env->mem_offset = 0x2000;
    env->mem_sel = 0x10;
    env->pmode = true;
}

struct ir_insn insn_reg(unsigned opcode, unsigned modrm)
{
    struct ir_insn in;

    memset(&in, 0, sizeof(in));
    in.op = IR_X87;
    in.len = 2;
    in.osize = 4;
    in.asize = 4;
    in.x87 = (uint16_t)code_of(opcode, modrm);
    in.opd[0].kind = IR_OPK_STREG;
    in.opd[0].reg = (uint8_t)(modrm & 7);
    return in;
}

struct ir_insn insn_mem(unsigned opcode, unsigned reg, unsigned osize)
{
    struct ir_insn in;

    memset(&in, 0, sizeof(in));
    in.op = IR_X87;
    in.len = 3;
    in.osize = (uint8_t)osize;
    in.asize = 4;
    in.x87 = (uint16_t)code_of(opcode, reg << 3);
    in.opd[0].kind = IR_OPK_MEM;
    in.mem.seg = IR_DS;
    in.mem.base = IR_EBX;
    in.mem.index = IR_NOREG;
    return in;
}

#define U_ALL (0x0100 | 0x0200 | 0x0400 | 0x4000) /* C0 C1 C2 C3 */
#define U_ARITH (0x0100 | 0x0400 | 0x4000)        /* C0 C2 C3: C1 means round-up/stack */
#define U_TRIG (0x0100 | 0x4000)                  /* C0 C3: C2 means out of range */

static struct tinfo ti(bool waiting, unsigned mtype, bool store, unsigned undef)
{
    struct tinfo t = {true, waiting, store, (uint8_t)mtype, (uint16_t)undef};
    return t;
}

static struct tinfo tinfo_mem(unsigned op, unsigned reg)
{
    static const struct tinfo none;
    bool cmp = reg == 2 || reg == 3;

    switch (op) {
    case 0: return ti(true, MT_F32, false, cmp ? 0 : U_ARITH);
    case 2: return ti(true, MT_I32, false, cmp ? 0 : U_ARITH);
    case 4: return ti(true, MT_F64, false, cmp ? 0 : U_ARITH);
    case 6: return ti(true, MT_I16, false, cmp ? 0 : U_ARITH);
    case 1:
        switch (reg) {
        case 0: return ti(true, MT_F32, false, U_ARITH);
        case 2: case 3: return ti(true, MT_F32, true, U_ARITH);
        case 4: return ti(true, MT_ENV, false, 0);
        case 5: return ti(true, MT_CW, false, U_ALL);
        case 6: return ti(false, MT_ENV, true, 0);
        case 7: return ti(false, MT_CW, true, U_ALL);
        }
        return none;
    case 3:
        switch (reg) {
        case 0: return ti(true, MT_I32, false, U_ARITH);
        case 2: case 3: return ti(true, MT_I32, true, U_ARITH);
        case 5: return ti(true, MT_F80, false, U_ARITH);
        case 7: return ti(true, MT_F80, true, U_ARITH);
        }
        return none;
    case 5:
        switch (reg) {
        case 0: return ti(true, MT_F64, false, U_ARITH);
        case 2: case 3: return ti(true, MT_F64, true, U_ARITH);
        case 4: return ti(true, MT_SAVE, false, 0);
        case 6: return ti(false, MT_SAVE, true, 0);
        case 7: return ti(false, MT_SW, true, 0);
        }
        return none;
    default:
        switch (reg) {
        case 0: return ti(true, MT_I16, false, U_ARITH);
        case 2: case 3: return ti(true, MT_I16, true, U_ARITH);
        case 4: return ti(true, MT_BCD, false, U_ARITH);
        case 5: return ti(true, MT_I64, false, U_ARITH);
        case 6: return ti(true, MT_BCD, true, U_ARITH);
        case 7: return ti(true, MT_I64, true, U_ARITH);
        }
        return none;
    }
}

static struct tinfo tinfo_reg(unsigned op, unsigned m)
{
    static const struct tinfo none;
    unsigned row = m & 0xF8;

    switch (op) {
    case 0:
        return ti(true, MT_NONE, false, (row == 0xD0 || row == 0xD8) ? 0 : U_ARITH);
    case 1:
        if (m < 0xD0 || row == 0xD8 || m == 0xE0 || m == 0xE1 || (m >= 0xE8 && m <= 0xEE))
            return ti(true, MT_NONE, false, U_ARITH);
        if (m == 0xD0)
            return ti(true, MT_NONE, false, U_ALL);
        if (m == 0xE4 || m == 0xE5 || m == 0xF5 || m == 0xF8)
            return ti(true, MT_NONE, false, 0);
        if (m == 0xF2 || m == 0xFB || m == 0xFE || m == 0xFF)
            return ti(true, MT_NONE, false, U_TRIG);
        if (m >= 0xF0)
            return ti(true, MT_NONE, false, U_ARITH);
        return none;
    case 2:
        if (m < 0xE0)
            return ti(true, MT_NONE, false, U_ARITH);
        if (m == 0xE9)
            return ti(true, MT_NONE, false, 0);
        return none;
    case 3:
        if (m < 0xE0)
            return ti(true, MT_NONE, false, U_ARITH);
        if (m == 0xE0 || m == 0xE1 || m == 0xE4)
            return ti(false, MT_NONE, false, 0);
        if (m == 0xE2)
            return ti(false, MT_NONE, false, U_ALL);
        if (m == 0xE3)
            return ti(false, MT_NONE, false, 0);
        if (m >= 0xE8 && m <= 0xF7)
            return ti(true, MT_NONE, false, 0);
        return none;
    case 4:
        return ti(true, MT_NONE, false, (row == 0xD0 || row == 0xD8) ? 0 : U_ARITH);
    case 5:
        if (row == 0xC0)
            return ti(true, MT_NONE, false, U_ALL);
        if (m < 0xE0)
            return ti(true, MT_NONE, false, U_ARITH);
        if (m < 0xF0)
            return ti(true, MT_NONE, false, 0);
        return none;
    case 6:
        if (row == 0xD0 || m == 0xD9)
            return ti(true, MT_NONE, false, 0);
        if (row == 0xD8)
            return none;
        return ti(true, MT_NONE, false, U_ARITH);
    default:
        if (row == 0xC0)
            return ti(true, MT_NONE, false, U_ALL);
        if (m < 0xE0)
            return ti(true, MT_NONE, false, U_ARITH);
        if (m == 0xE0)
            return ti(false, MT_NONE, false, 0);
        if (m >= 0xE8 && m <= 0xF7)
            return ti(true, MT_NONE, false, 0);
        return none;
    }
}

struct tinfo tinfo_of(unsigned code, bool is_mem)
{
    static const struct tinfo none;

    if (code > 0x7FF)
        return none;
    if (is_mem)
        return tinfo_mem(code >> 8, (code >> 3) & 7);
    if ((code & 0xFF) < 0xC0)
        return none;
    return tinfo_reg(code >> 8, code & 0xFF);
}

unsigned mtype_size(unsigned mtype, bool o32)
{
    static const unsigned sz[] = {0, 4, 8, 10, 2, 4, 8, 10, 2, 2, 0, 0};

    if (mtype == MT_ENV)
        return o32 ? 28 : 14;
    if (mtype == MT_SAVE)
        return o32 ? 108 : 94;
    return mtype < sizeof(sz) / sizeof(sz[0]) ? sz[mtype] : 0;
}

void ext_make(long double *out, unsigned sign_exp, uint64_t mant)
{
    uint8_t b[16] = {0};

    memcpy(b, &mant, 8);
    b[8] = (uint8_t)sign_exp;
    b[9] = (uint8_t)(sign_exp >> 8);
    memcpy(out, b, sizeof(*out));
}

uint64_t ext_mant(long double v)
{
    uint64_t m;

    memcpy(&m, &v, 8);
    return m;
}

unsigned ext_se(long double v)
{
    uint8_t b[16];

    memcpy(b, &v, sizeof(v));
    return b[8] | (unsigned)b[9] << 8;
}

#define J 0x8000000000000000ULL
static const struct {
    uint16_t se;
    uint64_t mant;
} ext_edges[] = {
    {0x0000, 0}, {0x8000, 0},                                 /* +-0 */
    {0x3FFF, J}, {0xBFFF, J}, {0x4000, J}, {0x3FFE, J},       /* 1, -1, 2, 0.5 */
    {0x4000, 0xC90FDAA22168C235ULL},                          /* pi */
    {0x3FFF, 0xC000000000000000ULL}, {0x4000, 0xA000000000000000ULL}, /* 1.5, 2.5 */
    {0xC000, 0xA000000000000000ULL},                          /* -2.5 */
    {0x3FFB, 0xCCCCCCCCCCCCCCCDULL},                          /* 0.1 */
    {0x0001, J}, {0x8001, J},                                 /* smallest normals */
    {0x0000, 1}, {0x8000, 0x4000000000000000ULL},             /* denormals */
    {0x0000, 0x8000000000000001ULL},                          /* pseudo-denormal */
    {0x7FFE, ~0ULL}, {0xFFFE, ~0ULL},                         /* largest finite */
    {0x7FFF, J}, {0xFFFF, J},                                 /* infinities */
    {0x7FFF, 0xC000000000000000ULL}, {0xFFFF, 0xC000000000000000ULL}, /* QNaN, indefinite */
    {0x7FFF, 0xC000000000001234ULL},                          /* QNaN with payload */
    {0x7FFF, 0x8000000000000001ULL}, {0xFFFF, 0x8000000000abcdefULL}, /* SNaNs */
    {0x4000, 0x4000000000000000ULL},                          /* unnormal */
    {0x7FFF, 0}, {0x7FFF, 1},                                 /* pseudo-infinity, pseudo-NaN */
    {0x400D, 0xFFFE000000000000ULL}, {0xC00E, J}, {0x400E, J}, /* 32767, -32768, 32768 */
    {0x401D, 0xFFFFFFFE00000000ULL}, {0xC01E, J}, {0x401E, J}, /* 2^31-1, -2^31, 2^31 */
    {0x403D, 0xFFFFFFFFFFFFFFFEULL}, {0xC03E, J}, {0x403E, J}, /* 2^63-1, -2^63, 2^63 */
    {0x403A, 0xDE0B6B3A763FFFF0ULL},                          /* 10^18 - 1 */
    {0x403A, 0xDE0B6B3A76400000ULL},                          /* 10^18 */
    {0x43FE, 0xC90FDAA22168C235ULL},                          /* huge: trig out of range */
    {0x3FBF, J}, {0x7FF0, J}, {0x0010, J}, {0x3C00, J},       /* assorted magnitudes */
    {0x4400, J}, {0x3BFF, J},                                 /* overflow/underflow for m32/m64 */
};

void ext_random(struct rng *r, long double *out)
{
    unsigned k = rng_below(r, 4);
    size_t n = sizeof(ext_edges) / sizeof(ext_edges[0]);

    if (k < 2) {
        unsigned i = rng_below(r, (unsigned)n);
        ext_make(out, ext_edges[i].se, ext_edges[i].mant);
    } else if (k == 2) {
        /* ordinary numbers around 1 */
        unsigned se = (0x3FFF - 40 + rng_below(r, 80)) | (rng_below(r, 2) << 15);
        ext_make(out, se, rng_next(r) | J);
    } else {
        ext_make(out, (unsigned)rng_next(r) & 0xFFFF, rng_next(r));
    }
}

static const uint32_t f32_edges[] = {
    0, 0x80000000u, 0x3F800000u, 0xBF800000u, 0x00000001u, 0x807FFFFFu, 0x00800000u,
    0x7F7FFFFFu, 0xFF7FFFFFu, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u,
    0x7F800001u, 0x7FA00000u, 0x40490FDBu, 0x4F000000u, 0x46FFFE00u,
};
static const uint64_t f64_edges[] = {
    0, 0x8000000000000000ULL, 0x3FF0000000000000ULL, 0xBFF0000000000000ULL, 1,
    0x800FFFFFFFFFFFFFULL, 0x0010000000000000ULL, 0x7FEFFFFFFFFFFFFFULL, 0x7FF0000000000000ULL,
    0xFFF0000000000000ULL, 0x7FF8000000000000ULL, 0x7FF0000000000001ULL,
    0x400921FB54442D18ULL, 0x43E0000000000000ULL, 0xC3E0000000000000ULL,
};
static const int64_t int_edges[] = {
    0, 1, -1, 2, 100, -100, 32767, -32768, 2147483647, -2147483647 - 1,
    INT64_MAX, INT64_MIN, 999999999999999999LL, 1000000000000000000LL,
};

static void put_le(uint8_t *buf, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        buf[i] = (uint8_t)(v >> (8 * i));
}

static void bcd_random(struct rng *r, uint8_t *buf)
{
    unsigned k = rng_below(r, 6);

    for (unsigned i = 0; i < 9; i++)
        buf[i] = (uint8_t)(rng_below(r, 10) | rng_below(r, 10) << 4);
    buf[9] = rng_below(r, 2) ? 0x80 : 0x00;
    if (k == 0) /* an invalid digit somewhere */
        buf[rng_below(r, 9)] |= 0x0A;
    else if (k == 1) /* junk in the sign byte */
        buf[9] = (uint8_t)rng_next(r);
    else if (k == 2) /* indefinite */
        memcpy(buf, "\x00\x00\x00\x00\x00\x00\x00\xC0\xFF\xFF", 10);
    else if (k == 3) /* small value */
        memset(buf + 1, 0, 8);
}

void mem_random(struct rng *r, unsigned mtype, uint8_t *buf)
{
    bool edge = rng_below(r, 3) != 0;
    size_t ni = sizeof(int_edges) / sizeof(int_edges[0]);

    switch (mtype) {
    case MT_F32:
        put_le(buf, edge ? f32_edges[rng_below(r, sizeof(f32_edges) / 4)] ^
                               (rng_below(r, 4) == 0 ? 1u : 0u)
                         : rng_next(r), 4);
        return;
    case MT_F64:
        put_le(buf, edge ? f64_edges[rng_below(r, sizeof(f64_edges) / 8)] : rng_next(r), 8);
        return;
    case MT_F80: {
        long double v;
        ext_random(r, &v);
        memcpy(buf, &v, 10);
        return;
    }
    case MT_I16: case MT_I32: case MT_I64: {
        unsigned n = mtype == MT_I16 ? 2 : mtype == MT_I32 ? 4 : 8;
        int64_t v = edge ? int_edges[rng_below(r, (unsigned)ni)] : (int64_t)rng_next(r);
        if (edge && n == 2 && (v > 32767 || v < -32768))
            v = rng_below(r, 2) ? 32767 : -32768;
        put_le(buf, (uint64_t)v, n);
        return;
    }
    case MT_BCD:
        bcd_random(r, buf);
        return;
    default:
        for (unsigned i = 0; i < 108; i++)
            buf[i] = (uint8_t)rng_next(r);
        return;
    }
}

void fpu_random(struct rng *r, struct cpu_fpu *fpu)
{
    static const unsigned pcs[] = {0, 2, 3, 3, 3, 1};
    unsigned fcw, fsw;

    memset(fpu, 0, sizeof(*fpu));
    for (unsigned i = 0; i < 8; i++)
        ext_random(r, &fpu->st[i]);
    fpu->ftw = 0;
    for (unsigned i = 0; i < 8; i++) {
        unsigned t = rng_below(r, 10) < 3 ? 3 : rng_below(r, 3);
        fpu->ftw |= (uint16_t)(t << (2 * i));
    }
    if (rng_below(r, 8) == 0)
        fpu->ftw = rng_below(r, 2) ? 0xFFFF : 0x0000; /* empty / full stack */
    fcw = 0x0040 | rng_below(r, 4) << 10 | pcs[rng_below(r, 6)] << 8 | rng_below(r, 2) << 12;
    fcw |= rng_below(r, 3) ? 0x3F : (unsigned)rng_next(r) & 0x3F;
    fsw = (unsigned)rng_next(r) & 0x7F00;           /* C0-C3, TOP */
    fsw |= (unsigned)rng_next(r) & fcw & 0x3F;      /* only masked flags */
    fsw |= rng_below(r, 4) == 0 ? 0x40 : 0;         /* SF */
    fpu->fcw = (uint16_t)fcw;
    fpu->fsw = (uint16_t)fsw;
}

unsigned fpu_top(const struct cpu_fpu *fpu) { return (fpu->fsw >> 11) & 7; }

void fpu_push(struct cpu_fpu *fpu, long double v)
{
    unsigned top = (fpu_top(fpu) + 7) & 7;

    fpu->fsw = (uint16_t)((fpu->fsw & ~0x3800) | top << 11);
    memset(&fpu->st[top], 0, sizeof(long double));
    memcpy(&fpu->st[top], &v, 10);
    fpu->ftw = (uint16_t)((fpu->ftw & ~(3u << (2 * top))));
}

long double fpu_st(const struct cpu_fpu *fpu, unsigned i)
{
    long double v;

    memset(&v, 0, sizeof(v));
    memcpy(&v, &fpu->st[(fpu_top(fpu) + i) & 7], 10);
    return v;
}

unsigned fpu_tag(const struct cpu_fpu *fpu, unsigned i)
{
    return (fpu->ftw >> (2 * ((fpu_top(fpu) + i) & 7))) & 3;
}
