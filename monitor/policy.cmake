# cl_policy: the seccomp policy language: parser, constant tables, libseccomp compiler.
# Used by the monitor (launcher, audit, docs) and by tests; see policies/README.md.
cloister_library(cl_policy
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/policy_parse.c
          ${CMAKE_CURRENT_LIST_DIR}/policy_consts.c
          ${CMAKE_CURRENT_LIST_DIR}/policy_compile.c
  LINK seccomp)
