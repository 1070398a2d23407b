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
