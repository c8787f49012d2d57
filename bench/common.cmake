# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared by the benchmark projects (include it right after project()):
# C11, an -O2 Release build (the figures are defined at -O2; CMake's Release
# default is -O3), and the virtwire tree without its tests, in VIRTWIRE_REPO.
set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS OFF)

if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG")
set(VIRTWIRE_BUILD_TESTS OFF CACHE BOOL "Build the test suite" FORCE)

get_filename_component(VIRTWIRE_REPO ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
add_subdirectory(${VIRTWIRE_REPO} virtwire)
