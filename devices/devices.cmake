cloister_library(cl_dev_serial SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/uart16550.c
  ${CMAKE_CURRENT_LIST_DIR}/serial_dev.c
  DEPS cl_ipc)
cloister_component(cloister-dev-serial SOURCES ${CMAKE_CURRENT_LIST_DIR}/serial_main.c
  DEPS cl_dev_serial cl_ipc)
