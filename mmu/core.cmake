# The shadow MMU's core as an in-process library: the reference page walker, the shadow page
# tables with their bounds-checked reader, and the invariant checker (docs/mmu.md).
cloister_library(cl_mmu_core SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/walk.c
  ${CMAKE_CURRENT_LIST_DIR}/shadow.c
  ${CMAKE_CURRENT_LIST_DIR}/check.c)
