# The IA-32 decoder (guest bytes -> struct ir_insn), linked into the translator and its tests.
cloister_library(cl_decode
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/decode.c ${CMAKE_CURRENT_LIST_DIR}/decode_tables.c)
