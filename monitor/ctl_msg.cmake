# cl_ctl_msg: the monitor's interpretation of control messages from components (ctl_msg.h), a
# pure function shared by the supervisor and its fuzz harness (fuzz/ipc).
cloister_library(cl_ctl_msg SOURCES ${CMAKE_CURRENT_LIST_DIR}/ctl_msg.c DEPS cl_ipc)
