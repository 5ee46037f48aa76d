# cl_x87: the x87 FPU executor (see vcpu/x87.h and docs/x87.md). Self-contained: only needs the
# headers ipc/ir.h and vcpu/cpu.h; the engine links it and calls x87_exec().
cloister_library(cl_x87
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/x87.c
    ${CMAKE_CURRENT_LIST_DIR}/x87_decode.c
    ${CMAKE_CURRENT_LIST_DIR}/x87_host.c
    ${CMAKE_CURRENT_LIST_DIR}/x87_image.c
  LINK m)
