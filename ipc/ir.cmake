# cl_ir: names and the structural validator of the IR (ipc/ir.h), shared by the vCPU (which
# validates every instruction it receives) and anyone who produces or inspects IR.
cloister_library(cl_ir SOURCES ${CMAKE_CURRENT_LIST_DIR}/ir.c)
