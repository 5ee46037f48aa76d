# The monitor executable and its own pieces (sandbox launcher, VM assembly, supervisor, API
# server, audit). The policy language (policy.cmake) and API parsing (api.cmake) are libraries.
cloister_library(cl_sandbox SOURCES ${CMAKE_CURRENT_LIST_DIR}/sandbox.c LINK cap)
cloister_library(cl_loader SOURCES ${CMAKE_CURRENT_LIST_DIR}/loader_multiboot.c DEPS cl_ipc)
cloister_program(cloister SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/main.c
  ${CMAKE_CURRENT_LIST_DIR}/vm.c
  ${CMAKE_CURRENT_LIST_DIR}/components.c
  ${CMAKE_CURRENT_LIST_DIR}/supervisor.c
  ${CMAKE_CURRENT_LIST_DIR}/api_server.c
  ${CMAKE_CURRENT_LIST_DIR}/audit.c
  DEPS cl_sandbox cl_loader cl_loader_linux cl_policy cl_api cl_ctl_msg cl_ipc seccomp m)
target_compile_definitions(cloister PRIVATE
  CLOISTER_POLICY_DIR_DEFAULT="${PROJECT_SOURCE_DIR}/policies")
