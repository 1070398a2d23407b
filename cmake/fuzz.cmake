# fuzz.cmake: the libFuzzer targets (fuzz/fuzz_*.c), built when IAMD_FUZZ is ON.
#
# Included at the end of the top-level CMakeLists.txt, after iamcore exists.
# With IAMD_FUZZ=ON (clang only) the whole library is instrumented for coverage
# (-fsanitize=fuzzer-no-link) and checked by ASan and UBSan; every
# fuzz/fuzz_<name>.c becomes an executable fuzz_<name> linked with libFuzzer's
# main. `cmake --build <dir> --target fuzzers` builds them all. See
# docs/fuzzing.md for running them (make fuzz, scripts/fuzz-smoke.sh).
include_guard(GLOBAL)
option(IAMD_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)

if(IAMD_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "IAMD_FUZZ=ON needs clang (configure with CC=clang); the compiler is ${CMAKE_C_COMPILER_ID}")
  endif()
  # libFuzzer and the sanitizer runtimes are a separate Debian package (libclang-rt-14-dev), only recommended by clang.
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS -fsanitize=fuzzer,address,undefined)
  set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=fuzzer,address,undefined)
  check_c_source_compiles("
    #include <stddef.h>
    #include <stdint.h>
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return data && size ? 0 : 0; }"
    IAMD_HAVE_LIBFUZZER)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(NOT IAMD_HAVE_LIBFUZZER)
    message(FATAL_ERROR "clang cannot link libFuzzer with ASan/UBSan: install libclang-rt-14-dev")
  endif()
  set(IAMD_FUZZ_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)

  # Coverage instrumentation without libFuzzer's main, so the library can also be linked into iamd.
  target_compile_options(iamcore PRIVATE -fsanitize=fuzzer-no-link ${IAMD_FUZZ_SANITIZERS})
  target_link_options(iamcore INTERFACE -fsanitize=address,undefined)

  file(GLOB IAMD_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
  add_custom_target(fuzzers)
  foreach(fuzz_source ${IAMD_FUZZ_SOURCES})
    get_filename_component(fuzz_name ${fuzz_source} NAME_WE)
    add_executable(${fuzz_name} ${fuzz_source})
    target_include_directories(${fuzz_name} PRIVATE ${CMAKE_SOURCE_DIR}/fuzz)
    target_compile_options(${fuzz_name} PRIVATE -fsanitize=fuzzer ${IAMD_FUZZ_SANITIZERS})
    target_link_options(${fuzz_name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${fuzz_name} PRIVATE iamcore)
    add_dependencies(fuzzers ${fuzz_name})
  endforeach()
endif()

# The fuzz smoke run of `make test`: in a test build (IAMD_TESTS, not itself a fuzz build), one
# ctest test per target, fuzz/<target>, runs that target of the fuzz build in IAMD_FUZZ_SMOKE_DIR
# (the Makefile's FUZZ_BUILD, which `make test` builds first with `make fuzz-build`) for
# IAMD_FUZZ_SMOKE_SECONDS on its committed corpus (scripts/fuzz-smoke.sh). A crash, leak,
# sanitizer report, hang or memory blow-up fails the test. Skipped (exit 77) when the fuzz
# binary is not built, e.g. when ctest runs without `make test`.
if(IAMD_TESTS AND NOT IAMD_FUZZ)
  set(IAMD_FUZZ_SMOKE_DIR "${CMAKE_SOURCE_DIR}/build/fuzz" CACHE PATH "Fuzz build whose targets the fuzz/* tests run")
  set(IAMD_FUZZ_SMOKE_SECONDS 5 CACHE STRING "Seconds each fuzz/* test runs its target")
  file(GLOB IAMD_FUZZ_SMOKE_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
  foreach(fuzz_source ${IAMD_FUZZ_SMOKE_SOURCES})
    get_filename_component(fuzz_name ${fuzz_source} NAME_WE)
    add_test(NAME fuzz/${fuzz_name}
             COMMAND sh -c "test -x \"$1/$2\" || { echo \"$1/$2 is not built: run make fuzz-build\"; exit 77; }; exec \"$0\" \"$1\""
                     ${CMAKE_SOURCE_DIR}/scripts/fuzz-smoke.sh ${IAMD_FUZZ_SMOKE_DIR} ${fuzz_name}
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(fuzz/${fuzz_name} PROPERTIES
      TIMEOUT 180 SKIP_RETURN_CODE 77
      ENVIRONMENT "FUZZ_TARGETS=${fuzz_name};FUZZ_SECONDS=${IAMD_FUZZ_SMOKE_SECONDS};ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endforeach()
endif()
