# Management API: strict JSON parser/writer, request dispatch, line framing and a one-shot client.
cloister_library(cl_api
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/json.c
    ${CMAKE_CURRENT_LIST_DIR}/json_write.c
    ${CMAKE_CURRENT_LIST_DIR}/api.c
    ${CMAKE_CURRENT_LIST_DIR}/api_client.c)
