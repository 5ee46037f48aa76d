# Build helpers shared by every folder.
#
# Each library is built twice: NAME (plain, what the sandboxed executables link) and
# NAME_san (AddressSanitizer + UndefinedBehaviorSanitizer, plus coverage instrumentation when
# fuzzing is on; what unit tests and fuzz harnesses link). The sandboxed components are never
# built with sanitizers: their seccomp policies describe the production binary, not ASan's runtime.

set(CLOISTER_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1)
set(CLOISTER_HARDEN_FLAGS -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE)
if(CLOISTER_FUZZ)
  set(CLOISTER_SAN_COMPILE ${CLOISTER_SAN_FLAGS} -fsanitize=fuzzer-no-link)
else()
  set(CLOISTER_SAN_COMPILE ${CLOISTER_SAN_FLAGS})
endif()

# cloister_san_deps(OUT dep ...): the sanitized variant of each dependency that has one.
function(cloister_san_deps out)
  set(_r "")
  foreach(d ${ARGN})
    if(TARGET ${d}_san)
      list(APPEND _r ${d}_san)
    else()
      list(APPEND _r ${d})
    endif()
  endforeach()
  set(${out} ${_r} PARENT_SCOPE)
endfunction()

# cloister_add_areas(): add every subfolder of the current folder that has a CMakeLists.txt,
# except those named in CLOISTER_SKIP_AREAS (a development convenience) and EXCLUDE names.
function(cloister_add_areas)
  cmake_parse_arguments(A "" "" "EXCLUDE" ${ARGN})
  file(GLOB _areas LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/*)
  foreach(a ${_areas})
    get_filename_component(_name ${a} NAME)
    if(_name IN_LIST CLOISTER_SKIP_AREAS OR _name IN_LIST A_EXCLUDE)
      continue()
    endif()
    if(IS_DIRECTORY ${a} AND EXISTS ${a}/CMakeLists.txt)
      add_subdirectory(${a})
    endif()
  endforeach()
endfunction()

# cloister_library(NAME SOURCES a.c b.c [DEPS lib ...] [LINK extlib ...])
function(cloister_library name)
  cmake_parse_arguments(L "" "" "SOURCES;DEPS;LINK" ${ARGN})
  add_library(${name} STATIC ${L_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${CLOISTER_HARDEN_FLAGS})
  target_link_libraries(${name} PUBLIC ${L_DEPS} ${L_LINK})
  if(CLOISTER_SANITIZE)
    add_library(${name}_san STATIC ${L_SOURCES})
    target_include_directories(${name}_san PUBLIC ${PROJECT_SOURCE_DIR})
    target_compile_options(${name}_san PRIVATE ${CLOISTER_SAN_COMPILE})
    target_compile_definitions(${name}_san PUBLIC CLOISTER_SANITIZED=1)
    cloister_san_deps(_sdeps ${L_DEPS})
    target_link_libraries(${name}_san PUBLIC ${_sdeps} ${L_LINK})
  endif()
endfunction()

# cloister_component(NAME SOURCES ... [DEPS ...]): a sandboxed component executable.
# Linked static-pie so that it runs inside an empty root with no loader or libraries.
function(cloister_component name)
  cmake_parse_arguments(C "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${C_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${CLOISTER_HARDEN_FLAGS})
  target_link_libraries(${name} PRIVATE ${C_DEPS})
  target_link_options(${name} PRIVATE -static-pie)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
endfunction()

# cloister_program(NAME SOURCES ... [DEPS ...]): an ordinary host program (monitor, tools, benches).
function(cloister_program name)
  cmake_parse_arguments(P "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${P_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${CLOISTER_HARDEN_FLAGS})
  target_link_libraries(${name} PRIVATE ${P_DEPS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
endfunction()

# cloister_test(NAME SOURCES ... [DEPS ...] [LABELS ...] [TIMEOUT s]): a cmocka test under ASan+UBSan.
function(cloister_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  cloister_san_deps(_sdeps ${T_DEPS})
  target_compile_options(${name} PRIVATE ${CLOISTER_SAN_FLAGS})
  target_link_options(${name} PRIVATE ${CLOISTER_SAN_FLAGS})
  target_link_libraries(${name} PRIVATE ${_sdeps} cmocka)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "unit;${T_LABELS}"
    ENVIRONMENT "CLOISTER_BIN=${PROJECT_BINARY_DIR}/bin;CLOISTER_SRC=${PROJECT_SOURCE_DIR};ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endfunction()

# cloister_fuzz(NAME SOURCES ... [DEPS ...]): a libFuzzer harness fuzz/NAME with corpus
# fuzz/corpus/NAME and regressions fuzz/regressions/NAME. Registers two ctest cases: a bounded
# smoke run on the seed corpus and a replay of every regression input.
set(CLOISTER_FUZZ_SECONDS 5 CACHE STRING "seconds each fuzz harness runs in the test command")
function(cloister_fuzz name)
  cmake_parse_arguments(F "" "" "SOURCES;DEPS" ${ARGN})
  set_property(GLOBAL APPEND PROPERTY CLOISTER_FUZZ_HARNESSES ${name})
  if(NOT CLOISTER_FUZZ)
    return()
  endif()
  cloister_san_deps(_sdeps ${F_DEPS})
  add_executable(fuzz_${name} ${F_SOURCES})
  target_include_directories(fuzz_${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(fuzz_${name} PRIVATE ${CLOISTER_SAN_FLAGS} -fsanitize=fuzzer)
  target_link_options(fuzz_${name} PRIVATE ${CLOISTER_SAN_FLAGS} -fsanitize=fuzzer)
  target_link_libraries(fuzz_${name} PRIVATE ${_sdeps})
  set_target_properties(fuzz_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
  set(_corpus ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
  set(_regr ${PROJECT_SOURCE_DIR}/fuzz/regressions/${name})
  add_test(NAME fuzz_smoke_${name}
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/fuzz-smoke.sh $<TARGET_FILE:fuzz_${name}> ${_corpus} ${CLOISTER_FUZZ_SECONDS})
  add_test(NAME fuzz_regress_${name}
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/fuzz-regress.sh $<TARGET_FILE:fuzz_${name}> ${_regr})
  set_tests_properties(fuzz_smoke_${name} fuzz_regress_${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
endfunction()
