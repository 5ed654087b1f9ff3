# The libFuzzer build (-DANSHIN_FUZZ=ON; scripts/fuzz configures it in build-fuzz/ with
# CC=clang CXX=clang++). Every library of the project is compiled with coverage instrumentation
# for libFuzzer (fuzzer-no-link) and with AddressSanitizer + UndefinedBehaviorSanitizer; only the
# fuzz targets of tests/fuzz/ link libFuzzer itself (-fsanitize=fuzzer brings its main).
#
# Included from the top-level CMakeLists.txt before any library is declared, so the flags reach
# every target. Build the targets (`fuzz_targets`, or one by name), not `all`: the server's HTTP
# sessions do not compile with the coverage instrumentation under clang 14 (tests/fuzz/).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "ANSHIN_FUZZ needs clang (configure with CC=clang CXX=clang++), "
                      "not ${CMAKE_CXX_COMPILER_ID}")
endif()
if(ANSHIN_SANITIZE)
  message(FATAL_ERROR "ANSHIN_FUZZ already builds with ASan+UBSan: leave ANSHIN_SANITIZE off")
endif()
if(NOT (ANSHIN_BUILD_SERVER AND ANSHIN_BUILD_AGENT AND ANSHIN_BUILD_ADMIN))
  message(FATAL_ERROR "ANSHIN_FUZZ fuzzes the server, the agent and anshin-admin: build all three")
endif()

add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
  -fno-sanitize-recover=all)
add_link_options(-fsanitize=address,undefined)
# Boost 1.74's Asio enables co_await under clang only with <experimental/coroutine> (libc++),
# which libstdc++ 12 does not have; clang 14 implements C++20 coroutines and libstdc++'s
# <coroutine> works with it, which is what Asio then uses (BOOST_ASIO_HAS_STD_COROUTINE).
add_compile_definitions(BOOST_ASIO_HAS_CO_AWAIT=1)

# One libFuzzer executable per input surface: tests/fuzz/<name>.cpp linked with `ARGN`.
function(anshin_fuzz_target name)
  add_executable(${name} ${name}.cpp)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${ARGN})
  set_property(GLOBAL APPEND PROPERTY ANSHIN_FUZZ_TARGETS ${name})
endfunction()
