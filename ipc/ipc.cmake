cloister_library(cl_ipc SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/region.c
  ${CMAKE_CURRENT_LIST_DIR}/ring.c
  ${CMAKE_CURRENT_LIST_DIR}/chan.c
  ${CMAKE_CURRENT_LIST_DIR}/msg.c
  ${CMAKE_CURRENT_LIST_DIR}/endpoint.c)
