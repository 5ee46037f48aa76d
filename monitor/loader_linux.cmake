# cl_loader_linux: the Linux x86 32-bit boot protocol loader (bzImage + initrd + command line
# into guest RAM, BOOT_LINUX32 start state). A pure function over buffers, unit-tested in
# tests/loader and fuzzed in fuzz/loader.
cloister_library(cl_loader_linux SOURCES ${CMAKE_CURRENT_LIST_DIR}/loader_linux.c DEPS cl_ipc)
