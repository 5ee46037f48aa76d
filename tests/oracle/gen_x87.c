/*
 * gen_x87.c - the x87 class: short FPU programs (after FNINIT) that load edge values (zeros,
 * infinities, NaNs, denormals, large and small numbers, integers), do arithmetic, compares
 * (FCOM, FCOMI into EFLAGS), unary operations and rounding-control changes, and store results to
 * memory (FST/FSTP m32/m64/m80, FIST/FISTP m16/m32/m64, FNSTSW, FNSTCW). The comparison also
 * checks the FPU status, control and tag words and the stack registers.
 */
#include "tests/oracle/gen.h"

#include <string.h>

#include "tests/oracle/flags_table.h"

struct fpgen {
    struct og_ctx *x;
    struct og_snip *s;
    uint32_t next_slot;
};

static uint32_t slot(struct fpgen *g, unsigned size)
{
    uint32_t a = g->next_slot;
    g->next_slot += (size + 15) & ~15u;
    return a;
}

static void put(struct fpgen *g, uint32_t addr, const void *b, unsigned n)
{
    sn_mem(g->s, addr, b, n);
}

static uint64_t f64_edge(struct rng *r)
{
    static const uint64_t v[] = {
        0x0000000000000000ull, 0x8000000000000000ull, 0x3FF0000000000000ull, 0xBFF0000000000000ull,
        0x3FE0000000000000ull, 0x4008000000000000ull, 0x7FEFFFFFFFFFFFFFull, 0x0010000000000000ull,
        0x0000000000000001ull, 0x800FFFFFFFFFFFFFull, 0x7FF0000000000000ull, 0xFFF0000000000000ull,
        0x7FF8000000000000ull, 0x7FF4000000000000ull, 0x400921FB54442D18ull, 0x43E0000000000000ull,
        0x4202A05F20000000ull, 0x3FB999999999999Aull, 0xC1E0000000000000ull, 0x41DFFFFFFFC00000ull,
    };
    if (rng_one_in(r, 3)) {
        /* random but finite and not huge, so arithmetic stays interesting */
        uint64_t m = rng_next(r) & 0x000FFFFFFFFFFFFFull;
        uint64_t e = 0x3C0 + rng_below(r, 0x80);
        return (rng_one_in(r, 2) ? 0x8000000000000000ull : 0) | e << 52 | m;
    }
    return v[rng_below(r, sizeof v / sizeof v[0])];
}

static uint32_t f32_edge(struct rng *r)
{
    static const uint32_t v[] = { 0, 0x80000000u, 0x3F800000u, 0xBF800000u, 0x3F000000u, 0x7F7FFFFFu,
                                  0x00000001u, 0x00800000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u,
                                  0x7FA00000u, 0x40490FDBu, 0x4F000000u, 0xCF000000u };
    if (rng_one_in(r, 3))
        return (rng_u32(r) & 0x807FFFFFu) | (0x70u + rng_below(r, 0x20)) << 23;
    return v[rng_below(r, sizeof v / sizeof v[0])];
}

static void emit_mem(struct fpgen *g, uint8_t opc, unsigned regfield, uint32_t addr)
{
    struct og_mem m;
    /* now and then the operand is on the guard page: the FPU state must be left as it was */
    if (rng_one_in(g->x->r, 40))
        addr = ORN_GUARD_BASE - 4 + rng_below(g->x->r, 0x100);
    /* never EAX: FNSTSW AX may change it before a later operand's address is formed */
    og_mem_plan(g->x, addr, (uint8_t)(RB(R_ESP) | RB(R_EAX) | g->s->must_mask), 0, &m);
    sn_presets_from_mem(g->s, &m);
    sn_prefixes(g->s, g->x->r, false, m.a16, 0, false, 0);
    sn_b(g->s, opc);
    sn_modrm_mem(g->s, regfield, &m);
}

static void emit_load(struct fpgen *g)
{
    struct rng *r = g->x->r;
    switch (rng_below(r, 8)) {
    case 0: case 1: { /* FLD m64 */
        uint32_t a = slot(g, 8);
        uint64_t v = f64_edge(r);
        put(g, a, &v, 8);
        emit_mem(g, 0xDD, 0, a);
        break;
    }
    case 2: { /* FLD m32 */
        uint32_t a = slot(g, 4);
        uint32_t v = f32_edge(r);
        put(g, a, &v, 4);
        emit_mem(g, 0xD9, 0, a);
        break;
    }
    case 3: { /* FLD m80: a normal extended value, occasionally an unnormal */
        uint32_t a = slot(g, 10);
        uint8_t b[10];
        uint64_t mant = rng_next(r) | (rng_one_in(r, 12) ? 0 : 0x8000000000000000ull);
        uint16_t ex = (uint16_t)(0x3FF0 + rng_below(r, 0x20)) | (rng_one_in(r, 2) ? 0x8000 : 0);
        memcpy(b, &mant, 8);
        memcpy(b + 8, &ex, 2);
        put(g, a, b, 10);
        emit_mem(g, 0xDB, 5, a);
        break;
    }
    case 4: { /* FILD m16/m32/m64 */
        unsigned k = rng_below(r, 3);
        static const unsigned sz[3] = { 2, 4, 8 };
        uint32_t a = slot(g, sz[k]);
        uint64_t v = ((uint64_t)og_val(r, 4) << 32) | og_val(r, 4);
        put(g, a, &v, sz[k]);
        if (k == 0)
            emit_mem(g, 0xDF, 0, a);
        else if (k == 1)
            emit_mem(g, 0xDB, 0, a);
        else
            emit_mem(g, 0xDF, 5, a);
        break;
    }
    case 5: case 6: /* constants */
        sn_b(g->s, 0xD9);
        sn_b(g->s, (uint8_t)(0xE8 + rng_below(r, 7)));
        break;
    default: /* FLD ST(i) */
        sn_b(g->s, 0xD9);
        sn_b(g->s, (uint8_t)(0xC0 + rng_below(r, 8)));
        break;
    }
}

static void emit_arith(struct fpgen *g)
{
    struct rng *r = g->x->r;
    struct og_snip *s = g->s;
    unsigned op = rng_below(r, 8); /* FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR */
    switch (rng_below(r, 9)) {
    case 0: { /* m64 */
        uint32_t a = slot(g, 8);
        uint64_t v = f64_edge(r);
        put(g, a, &v, 8);
        emit_mem(g, 0xDC, op, a);
        break;
    }
    case 1: { /* m32 */
        uint32_t a = slot(g, 4);
        uint32_t v = f32_edge(r);
        put(g, a, &v, 4);
        emit_mem(g, 0xD8, op, a);
        break;
    }
    case 2: /* ST(0), ST(i) */
        sn_b(s, 0xD8);
        sn_b(s, (uint8_t)(0xC0 | op << 3 | rng_below(r, 8)));
        break;
    case 3: /* ST(i), ST(0) (not the compare slots) */
        if (op == 2 || op == 3)
            op = 0;
        sn_b(s, 0xDC);
        sn_b(s, (uint8_t)(0xC0 | op << 3 | rng_below(r, 8)));
        break;
    case 4: /* ...P forms */
        if (op == 2 || op == 3)
            op = 1;
        sn_b(s, 0xDE);
        sn_b(s, (uint8_t)(0xC0 | op << 3 | rng_below(r, 8)));
        break;
    case 5: { /* unary */
        static const uint8_t u[] = { 0xE0, 0xE1, 0xE4, 0xE5, 0xFA, 0xFC, 0xFD, 0xF8, 0xF4, 0xF5 };
        sn_b(s, 0xD9);
        sn_b(s, u[rng_below(r, sizeof u)]);
        break;
    }
    case 6: /* FXCH */
        sn_b(s, 0xD9);
        sn_b(s, (uint8_t)(0xC8 + rng_below(r, 8)));
        break;
    case 7: { /* FCOMI / FUCOMI / FCOMIP / FUCOMIP: result in ZF PF CF, OF SF AF cleared */
        static const uint8_t f[4][2] = { { 0xDB, 0xF0 }, { 0xDB, 0xE8 }, { 0xDF, 0xF0 }, { 0xDF, 0xE8 } };
        unsigned k = rng_below(r, 4);
        sn_b(s, f[k][0]);
        sn_b(s, (uint8_t)(f[k][1] + rng_below(r, 8)));
        s->flags_def |= OF_ARITH;
        s->flags_undef &= ~OF_ARITH;
        break;
    }
    default: { /* FLDCW: another rounding mode or precision, exceptions stay masked */
        uint32_t a = slot(g, 2);
        uint16_t cw = (uint16_t)(0x037F & ~0x0F00u) | (uint16_t)(rng_below(r, 16) << 8);
        put(g, a, &cw, 2);
        emit_mem(g, 0xD9, 5, a);
        break;
    }
    }
}

static void emit_store(struct fpgen *g)
{
    struct rng *r = g->x->r;
    struct og_snip *s = g->s;
    switch (rng_below(r, 9)) {
    case 0: emit_mem(g, 0xDD, 3, slot(g, 8)); break;              /* FSTP m64 */
    case 1: emit_mem(g, 0xDD, 2, slot(g, 8)); break;              /* FST m64 */
    case 2: emit_mem(g, 0xD9, 3, slot(g, 4)); break;              /* FSTP m32 */
    case 3: emit_mem(g, 0xDB, 7, slot(g, 10)); break;             /* FSTP m80 */
    case 4: emit_mem(g, 0xDB, 3, slot(g, 4)); break;              /* FISTP m32 */
    case 5: emit_mem(g, 0xDF, rng_one_in(r, 2) ? 2 : 3, slot(g, 2)); break; /* FIST(P) m16 */
    case 6: emit_mem(g, 0xDF, 7, slot(g, 8)); break;              /* FISTP m64 */
    case 7: emit_mem(g, 0xDD, 7, slot(g, 2)); break;              /* FNSTSW m16 */
    default:
        if (g->x->avoid_dst & RB(R_EAX)) {
            emit_mem(g, 0xD9, 7, slot(g, 2)); /* FNSTCW m16 */
        } else {
            sn_b(s, 0xDF); /* FNSTSW AX */
            sn_b(s, 0xE0);
        }
        break;
    }
}

void gen_x87(struct og_ctx *x, struct og_snip *s)
{
    struct rng *r = x->r;
    s->no_seq = true;
    if (x->c)
        x->c->flags |= OC_F_X87;
    struct fpgen g = { x, s, ORN_DATA_BASE + 0x200 + (rng_below(r, 0x80) << 4) };
    unsigned loads = 1 + rng_below(r, 3);
    for (unsigned i = 0; i < loads; i++)
        emit_load(&g);
    unsigned ops = rng_below(r, 4);
    for (unsigned i = 0; i < ops; i++)
        emit_arith(&g);
    unsigned stores = 1 + rng_below(r, 3);
    for (unsigned i = 0; i < stores; i++)
        emit_store(&g);
}
