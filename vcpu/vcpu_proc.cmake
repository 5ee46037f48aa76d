cloister_component(cloister-vcpu SOURCES ${CMAKE_CURRENT_LIST_DIR}/main.c DEPS cl_engine cl_ipc)
