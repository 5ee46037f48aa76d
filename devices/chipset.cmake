# The legacy PC chipset models (PIC, PIT, RTC, i8042, PCI host) and their glue: pure state
# machines with no I/O, linked by whichever process the integrator gives the chipset to.
cloister_library(cl_chipset SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/pic8259.c
  ${CMAKE_CURRENT_LIST_DIR}/pit8254.c
  ${CMAKE_CURRENT_LIST_DIR}/rtc.c
  ${CMAKE_CURRENT_LIST_DIR}/i8042.c
  ${CMAKE_CURRENT_LIST_DIR}/pci_host.c
  ${CMAKE_CURRENT_LIST_DIR}/chipset.c)
