/*
 * components.c - the least-privilege table (see components.h and docs/architecture.md).
 */
#include "monitor/components.h"

const struct comp_desc comp_table[COMP_KIND_COUNT] = {
    [COMP_VCPU] = {"cloister-vcpu",
                   {{"ram", LINK_RAM, false},
                    {"tcache", LINK_TCACHE, true},
                    {"xlate", LINK_XLATE, false},
                    {"mmu", LINK_MMU, false},
                    {"dev-serial", LINK_SERIAL, false}},
                   5},
    [COMP_TRANSLATOR] = {"cloister-translator",
                         {{"ram", LINK_RAM, true},
                          {"xlate", LINK_XLATE, false},
                          {"tcache", LINK_TCACHE, false}},
                         3},
    [COMP_MMU] = {"cloister-mmu", {{"ram", LINK_RAM, false}, {"mmu", LINK_MMU, false}}, 2},
    [COMP_DEV_SERIAL] = {"cloister-dev-serial", {{"dev-serial", LINK_SERIAL, false}}, 1},
};
