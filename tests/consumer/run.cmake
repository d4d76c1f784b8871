# Builds tests/consumer against installed liminal packages, as a user would:
#   1. the build under test (static), installed into a scratch prefix;
#   2. a shared-library build of the same sources (BUILD_SHARED_LIBS=ON),
#      installed into another; its libliminal.so carries the SOVERSION.
# Each way the consumer is built through find_package(liminal) and through
# pkg-config (liminal.pc), and run.
# Inputs: LIMINAL_SOURCE_DIR, LIMINAL_BINARY_DIR, CONSUMER_SOURCE_DIR, WORK_DIR, CXX, PKG_CONFIG, SOVERSION.

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

# find_package: a CMake project of its own.
function(consume_with_cmake prefix tag)
  set(build ${WORK_DIR}/consumer-cmake-${tag})
  run("configuring the ${tag} find_package consumer" ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${build}
    -DCMAKE_PREFIX_PATH=${prefix})
  run("building the ${tag} find_package consumer" ${CMAKE_COMMAND} --build ${build})
  run("running the ${tag} find_package consumer" ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${prefix}/lib
    ${build}/consumer)
endfunction()

# pkg-config: the compiler alone, with the flags liminal.pc gives.
function(consume_with_pkg_config prefix tag)
  set(flags --cflags --libs)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/lib/pkgconfig ${PKG_CONFIG} ${flags} liminal
    RESULT_VARIABLE rc OUTPUT_VARIABLE pc_flags ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(rc)
    message(FATAL_ERROR "pkg-config --cflags --libs liminal (${tag}) failed: ${err}")
  endif()
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  set(program ${WORK_DIR}/consumer-pkg-config-${tag})
  run("building the ${tag} pkg-config consumer" ${CXX} -std=c++20 ${CONSUMER_SOURCE_DIR}/main.cpp ${pc_flags}
    -o ${program})
  run("running the ${tag} pkg-config consumer" ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${prefix}/lib ${program})
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})

set(static_prefix ${WORK_DIR}/prefix-static)
run("installing the build under test" ${CMAKE_COMMAND} --install ${LIMINAL_BINARY_DIR} --prefix ${static_prefix})
consume_with_cmake(${static_prefix} static)
consume_with_pkg_config(${static_prefix} static)

set(shared_prefix ${WORK_DIR}/prefix-shared)
run("configuring the shared build" ${CMAKE_COMMAND} -S ${LIMINAL_SOURCE_DIR} -B ${WORK_DIR}/shared
  -DBUILD_SHARED_LIBS=ON -DCMAKE_BUILD_TYPE=Release -DLIMINAL_BUILD_TESTS=OFF -DLIMINAL_BUILD_TOOLS=OFF
  -DLIMINAL_BUILD_EXAMPLES=OFF -DLIMINAL_BUILD_PERF=OFF)
cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
run("building the shared build" ${CMAKE_COMMAND} --build ${WORK_DIR}/shared -j ${cores})
run("installing the shared build" ${CMAKE_COMMAND} --install ${WORK_DIR}/shared --prefix ${shared_prefix})
if(NOT EXISTS ${shared_prefix}/lib/libliminal.so.${SOVERSION})
  message(FATAL_ERROR "the shared build installed no libliminal.so.${SOVERSION}")
endif()
consume_with_cmake(${shared_prefix} shared)
consume_with_pkg_config(${shared_prefix} shared)

message(STATUS "consumers built through find_package and pkg-config ran against the static and shared packages")
