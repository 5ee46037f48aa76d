cloister_library(cl_mmu_service SOURCES ${CMAKE_CURRENT_LIST_DIR}/service.c DEPS cl_ipc)
cloister_component(cloister-mmu SOURCES ${CMAKE_CURRENT_LIST_DIR}/main.c DEPS cl_mmu_service cl_ipc)
