/*
 * flags_table.h - which arithmetic flags each instruction defines, leaves undefined, or does not
 * touch, as the Intel SDM (Vol. 2, each instruction's "Flags Affected") states them. The oracle
 * masks undefined flags out of the comparison, and the sequence generator uses the same facts to
 * keep later instructions from consuming an undefined flag.
 *
 * Keys are enum ir_op values from ipc/ir.h; the table itself is data in flags_table.c.
 */
#ifndef CLOISTER_ORACLE_FLAGS_TABLE_H
#define CLOISTER_ORACLE_FLAGS_TABLE_H

#include <stdint.h>

#define OF_CF 0x001u
#define OF_PF 0x004u
#define OF_AF 0x010u
#define OF_ZF 0x040u
#define OF_SF 0x080u
#define OF_DF 0x400u
#define OF_OF 0x800u
#define OF_ARITH (OF_CF | OF_PF | OF_AF | OF_ZF | OF_SF | OF_OF)

struct flag_effect {
    uint32_t def;   /* written with a defined value */
    uint32_t undef; /* written with an undefined value */
    /* every other flag keeps its value */
};

/*
 * The effect of one execution of `op` (enum ir_op) with operand size `osize` (1, 2, 4). For
 * shifts and rotates `count` is the count operand before masking (flags depend on it); other ops
 * ignore it. Ops that do not touch the arithmetic flags return {0, 0}.
 */
struct flag_effect flags_effect(unsigned op, unsigned osize, uint32_t count);

/* Flags an op reads (its result depends on them), e.g. CF for ADC, all six for PUSHF. Condition
 * reads (Jcc/SETcc/CMOVcc) are given per condition code by flags_for_cond(). */
uint32_t flags_read(unsigned op);
uint32_t flags_for_cond(unsigned cond);

#endif
