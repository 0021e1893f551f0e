# Helpers that keep the per-target CMake files short and uniform.

# tel_library(<name> SOURCES ... DEPS ...): libs/<name> as target tel_<name>, alias tel::<name>,
# public headers under include/tel/<name>/.
function(tel_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tel_${name} STATIC ${ARG_SOURCES})
  add_library(tel::${name} ALIAS tel_${name})
  target_include_directories(tel_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(tel_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# tel_unit_test(<name> SOURCES ... DEPS ...): a hermetic Catch2 test, each case its own ctest test.
function(tel_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Catch2::Catch2WithMain ${ARG_DEPS})
  catch_discover_tests(${name} TEST_PREFIX "${name}:" EXTRA_ARGS --warn NoTests PROPERTIES LABELS unit TIMEOUT 60)
endfunction()

# tel_integration_test(<name> SOURCES ... DEPS ...): needs the running local stack that ./tel starts
# (found through the TEL_* variables of `./tel env`); fails, never skips, when the stack is absent.
function(tel_integration_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Catch2::Catch2WithMain ${ARG_DEPS})
  catch_discover_tests(${name} TEST_PREFIX "${name}:" EXTRA_ARGS --warn NoTests PROPERTIES LABELS integration TIMEOUT 300)
endfunction()
