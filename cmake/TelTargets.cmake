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
# LOCK <resource>: cases that must not overlap with each other (or with other tests holding the
# same lock), e.g. because they compare a shared service's counters before and after.
function(tel_integration_test name)
  cmake_parse_arguments(ARG "" "LOCK" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Catch2::Catch2WithMain ${ARG_DEPS})
  set(properties LABELS integration TIMEOUT 300)
  if(ARG_LOCK)
    list(APPEND properties RESOURCE_LOCK ${ARG_LOCK})
  endif()
  catch_discover_tests(${name} TEST_PREFIX "${name}:" EXTRA_ARGS --warn NoTests PROPERTIES ${properties})
endfunction()
