/*
 * host_ops.h - the reference for the engine's ALU tests: the same instructions executed natively
 * on the x86-64 host (8-, 16- and 32-bit forms exist there unchanged), returning the result and
 * the host's EFLAGS. Only the arithmetic flags and DF are ever loaded into the host's EFLAGS.
 */
#ifndef CLOISTER_TESTS_ENGINE_HOST_OPS_H
#define CLOISTER_TESTS_ENGINE_HOST_OPS_H

#include <stdbool.h>
#include <stdint.h>

struct host_out {
    uint32_t r;  /* result (EAX for MUL/DIV forms) */
    uint32_t r2; /* EDX for MUL/DIV forms */
    uint32_t f;  /* EFLAGS after the instruction */
};

/* ADD OR ADC SBB AND SUB XOR CMP TEST and two-operand IMUL (size 2/4): a op= b. */
struct host_out host_alu2(unsigned op, unsigned size, uint32_t a, uint32_t b, uint32_t fin);
/* INC DEC NEG NOT. */
struct host_out host_alu1(unsigned op, unsigned size, uint32_t a, uint32_t fin);
/* ROL ROR RCL RCR SHL SHR SAR by CL = count. */
struct host_out host_shift(unsigned op, unsigned size, uint32_t a, uint32_t count, uint32_t fin);
/* SHLD/SHRD a, b, CL (size 2/4). */
struct host_out host_shiftd(unsigned op, unsigned size, uint32_t a, uint32_t b, uint32_t count,
                            uint32_t fin);
/* MUL IMUL1 DIV IDIV with the accumulator pair (eax, edx) and a register source. The caller
 * must not ask for a division that faults. */
struct host_out host_muldiv(unsigned op, unsigned size, uint32_t eax, uint32_t edx, uint32_t src,
                            uint32_t fin);
/* BT BTS BTR BTC dst, off (register forms) and BSF/BSR dst, src. */
struct host_out host_bit(unsigned op, unsigned size, uint32_t a, uint32_t b, uint32_t fin);

/* The engine follows an AMD host's choice for flags the SDM leaves undefined; on such a host the
 * tests compare those too. */
bool host_is_amd(void);

#endif
