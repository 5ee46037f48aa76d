/*
 * sdm.h - where QEMU's system emulator and the Intel SDM disagree, the SDM wins. Each rule names
 * the SDM section, what QEMU does and what the SDM says, recognises the cases it covers (from
 * the tags the generator put on the case and from QEMU's record) and rewrites QEMU's record into
 * what the SDM specifies. The SDM fixes the architectural outcome (vector, error code, faulting
 * EIP, register values) but a rule does not re-derive every consequence of delivering that
 * outcome (the handler's stack address, memory below it): those fields are marked as open and
 * not compared. Cloister is compared with the result. The table is printed by
 * `cloister-sysoracle --sdm-table` and documented in docs/sysoracle.md.
 */
#ifndef CLOISTER_SYSORACLE_SDM_H
#define CLOISTER_SYSORACLE_SDM_H

#include <stdbool.h>
#include <stdio.h>

#include "tests/sysoracle/compare.h"
#include "tests/sysoracle/gen.h"
#include "tests/sysoracle/results.h"

/* Tags a generator puts on a case (struct sc.tags); tagval[] carry parameters. */
enum sdm_tag {
    /* INT1 (F1); tagval[0]: 0 valid gate (32-bit: 1, 16-bit: 2 in tagval[2]), 1 not present,
     * 2 not a gate; tagval[1]: the landing pad offset of a valid gate */
    SDM_T_ICEBP = 1u << 0,
    /* the gate's target offset is past its code segment's limit; tagval[0]: address of the
     * instruction whose event is delivered, tagval[1]: 0 software interrupt, 1 contributory
     * exception; tagval[2]: the target code selector without RPL */
    SDM_T_GATE_LIMIT = 1u << 1,
    /* a far return (IRET, RETF) to an outer level whose SS is not present; tagval[3]: EIP of the
     * return instruction, tagval[4]: the SS selector in the frame */
    SDM_T_RET_SS_NP = 1u << 2,
    /* a far return whose EIP is past the new CS limit; tagval[3]: EIP of the return instruction,
     * tagval[1]: that CS selector */
    SDM_T_RET_EIP_LIMIT = 1u << 3,
    /* a 32-bit IRET at CPL 0 whose EFLAGS image has VIF/VIP; tagval[6]: those bits, tagval[5]:
     * the target EIP */
    SDM_T_IRET_VIFVIP = 1u << 4,
    /* an outer return with null selectors of non-zero RPL in DS (tagval[7] bit 0) or ES (bit 1);
     * tagval[3]: EIP of the return instruction */
    SDM_T_NULL_SREG = 1u << 5,
    /* a far CALL/JMP through a call gate to a conforming code segment (selector without RPL in
     * tagval[0] bits 15:2, the caller's CPL in bits 1:0) */
    SDM_T_CONF_RPL = 1u << 6,
    /* TSS.SS0 (selector in tagval[2]) is a segment whose limit cannot hold an interrupt frame at
     * TSS.ESP0, and nothing but exception delivery uses it */
    SDM_T_TINY_SS0 = 1u << 7,
    /* control-register operations (the cr class): op i < 3 wrote tagval[i]; tagval[3 + i] =
     * kind << 24 | read-back register << 16 | offset of the instruction from SO_CODE, kinds in
     * enum sdm_cr_op; tagval[6] = number of ops */
    SDM_T_CR = 1u << 8,
    /* data accesses through a loaded segment (the desc class): tagval[0] = EIP of the first access
     * that the SDM faults (a limit, type or null-selector violation), tagval[1] = 12 (#SS), 13
     * (#GP) with error code 0, or 8 | SO_VEC_TASK (an #SS at CPL 0, delivered on the same stack) */
    SDM_T_SEG_ACCESS = 1u << 9,
    /* a far JMP/CALL to a code segment whose limit is below the target offset; tagval[4]: EIP of
     * the far transfer */
    SDM_T_FAR_LIMIT = 1u << 10,
    /* the desc class examines (LAR into EBX, ZF in CL) a selector the framework's entry IRET
     * loaded into CS or SS */
    SDM_T_ENTRY_ACCESSED = 1u << 11,
    /* the desc class's far JMP/CALL loads its descriptor (selector in tagval[5]) into CS; the
     * descriptor's dwords are dumps 32 and 33 */
    SDM_T_FAR_ACCESSED = 1u << 12,
    /* a far JMP/CALL to a system descriptor that is neither a gate nor a TSS; tagval[4]: its EIP */
    SDM_T_FAR_SYSTYPE = 1u << 13,
    /* the paging class: access k < tagval[7] is tagval[k] = offset of its instruction from SO_CODE
     * << 16 | kind << 12 (0 read, 1 write, 2 read-modify-write, 3 fetch) | crosses a page << 11 |
     * page-directory index - 0x100 << 8 | page-table index */
    SDM_T_PAGING = 1u << 14,
    /* a far JMP (EIP in tagval[5]) through a call gate to a not-present code segment (selector
     * without RPL in tagval[6]) */
    SDM_T_JMPGATE_NP = 1u << 15,
};

enum sdm_cr_op { SDM_CR_OTHER = 0, SDM_CR_W0 = 1, SDM_CR_W4 = 2, SDM_CR_READ0 = 3, SDM_CR_SMSW = 4 };

/* The model's CR4 bits as CPUID.1 enumerates them (TSD DE PSE PGE), plus PCE, which every P6
 * family processor has (SDM vol. 3 2.5); everything else is reserved for this CPU. */
#define SDM_CR4_ALLOWED 0x019Cu
#define SDM_CR0_RESERVED 0x1FFAFFC0u

struct sdm_rule {
    const char *name;
    const char *section;  /* where in the SDM */
    const char *qemu;     /* what QEMU 7.2 does */
    const char *sdm;      /* what the SDM specifies (and cloister is held to) */
    uint32_t tag;
    /* does the rule cover this case (given QEMU's record)? */
    bool (*applies)(const struct sc *s, const struct so_result *qemu);
    /* turn QEMU's record into the SDM's; mark what the rule leaves open in *open */
    void (*fix)(const struct sc *s, struct so_result *ref, struct so_diff *open);
    /* rules whose QEMU behaviour kills the test kernel: does the rule decide the case when QEMU
     * has no result at all? (NULL: no) The fix then starts from an empty record. */
    bool (*applies_without_qemu)(const struct sc *s);
};

extern const struct sdm_rule sdm_rules[];
extern const unsigned sdm_nrules;

/* The reference record for case s: QEMU's, rewritten by every rule that applies; *open gets the
 * fields and dumps those rules leave open. Returns the bitmask of applied rules. */
uint32_t sdm_reference(const struct sc *s, const struct so_result *qemu, struct so_result *ref,
                       struct so_diff *open);

void sdm_print_table(FILE *f);

#endif
