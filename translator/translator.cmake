cloister_library(cl_frontend SOURCES ${CMAKE_CURRENT_LIST_DIR}/frontend.c DEPS cl_decode cl_ipc)
cloister_library(cl_translator_service SOURCES ${CMAKE_CURRENT_LIST_DIR}/service.c
  DEPS cl_frontend cl_ipc)
cloister_component(cloister-translator SOURCES ${CMAKE_CURRENT_LIST_DIR}/main.c
  DEPS cl_translator_service cl_ipc)
