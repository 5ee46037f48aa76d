# cl_engine: the execution engine (vcpu/engine.h). Every vcpu/*.c except the x87 executor (its own
# library, cl_x87) and the vCPU process's main.c, so the engine's and the system helper's files
# join it without edits here.
file(GLOB _engine_sources ${CMAKE_CURRENT_LIST_DIR}/*.c)
list(FILTER _engine_sources EXCLUDE REGEX "/x87[^/]*\\.c$")
list(REMOVE_ITEM _engine_sources ${CMAKE_CURRENT_LIST_DIR}/main.c)
cloister_library(cl_engine SOURCES ${_engine_sources} DEPS cl_ir cl_x87)
