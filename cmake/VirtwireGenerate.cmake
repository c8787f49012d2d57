# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virtwire_generate(TARGET <name> PROTOCOL <file.x>
#                   [OUTPUT_DIR <dir>] [CONSTANTS <file>] [OVERRIDES <file>]
#                   [IMPORTS <other.x>...] [LINK <targets>...]
#                   [DEFINES <name[=value]>...] [INCLUDE_DIRS <dir>...]
#                   [DEPENDS <file>...]
#                   [STATIC | SHARED] [PASSTHROUGH] [RUNTIME <target>])
#
# Runs virtwire-gen on an ONC RPC .x file at build time and compiles the
# result into the library <name>.  For <file.x> named BASE.x it writes, into
# OUTPUT_DIR (default: ${CMAKE_CURRENT_BINARY_DIR}/<name>):
#   BASE.h, BASE.c   types, encoders, decoders, procedure tables
#   BASE_client.h    typed calls for virtwire_client (link virtwire::client)
#   BASE_server.h    typed handlers for virtwire_server (link virtwire::server)
# and regenerates them when the .x file, a file it names, or the generator
# changes.  <name> has OUTPUT_DIR as a public include directory and links the
# virtwire runtime (RUNTIME: another target, e.g. virtwire::runtime_static)
# and LINK.
#
#   CONSTANTS   NAME<TAB>VALUE table of constants the .x uses but does not
#               define (default: the table of libvirt's)
#   OVERRIDES   per-procedure facts the .x does not state (fd passing,
#               bidirectional streams)
#   IMPORTS     .x files whose types the .x uses; link the libraries
#               generated from them with LINK
#   DEFINES     NAME or NAME=VALUE for the C preprocessor (virtwire-gen -D),
#               which a .x file with # lines goes through, as with rpcgen
#   INCLUDE_DIRS where the preprocessor looks for #include files (-I); list
#               the files a .x file #includes in DEPENDS
#   DEPENDS     more files whose change regenerates the output
#   STATIC, SHARED  the library type (default: BUILD_SHARED_LIBS decides)
#   PASSTHROUGH copy the .x file's %-lines into BASE.h
#
# Relative paths are taken from the current source directory (OUTPUT_DIR:
# from the current binary directory).  The variable <name>_GENERATED_DIR is
# set to the output directory.
#
# Where the generator lives comes from global properties that the virtwire
# package (or virtwire's own CMakeLists.txt) sets before including this file:
# VIRTWIRE_GENERATOR, VIRTWIRE_GENERATOR_DEPENDS, VIRTWIRE_GENERATE_RUNTIME.

function(virtwire_generate)
  cmake_parse_arguments(PARSE_ARGV 0 VG "STATIC;SHARED;PASSTHROUGH"
                        "TARGET;PROTOCOL;OUTPUT_DIR;CONSTANTS;OVERRIDES;RUNTIME"
                        "IMPORTS;LINK;DEFINES;INCLUDE_DIRS;DEPENDS")
  if(VG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "virtwire_generate: unknown arguments ${VG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT VG_TARGET OR NOT VG_PROTOCOL)
    message(FATAL_ERROR "virtwire_generate: TARGET and PROTOCOL are required")
  endif()
  if(VG_STATIC AND VG_SHARED)
    message(FATAL_ERROR "virtwire_generate: STATIC or SHARED, not both")
  endif()

  get_property(generator GLOBAL PROPERTY VIRTWIRE_GENERATOR)
  get_property(generator_depends GLOBAL PROPERTY VIRTWIRE_GENERATOR_DEPENDS)
  get_property(runtime GLOBAL PROPERTY VIRTWIRE_GENERATE_RUNTIME)
  if(NOT generator)
    message(FATAL_ERROR "virtwire_generate: no virtwire-gen known; use find_package(virtwire)")
  endif()
  if(VG_RUNTIME)
    set(runtime ${VG_RUNTIME})
  endif()
  if(NOT Python3_EXECUTABLE)
    find_package(Python3 3.9 REQUIRED COMPONENTS Interpreter)
  endif()

  get_filename_component(xfile "${VG_PROTOCOL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  get_filename_component(base "${xfile}" NAME)
  string(REGEX REPLACE "\\.x$" "" base "${base}")
  if(NOT VG_OUTPUT_DIR)
    set(VG_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/${VG_TARGET}")
  endif()
  get_filename_component(out "${VG_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")

  set(args --out-dir "${out}")
  set(depends "${xfile}")
  foreach(opt CONSTANTS OVERRIDES)
    if(VG_${opt})
      get_filename_component(f "${VG_${opt}}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
      string(TOLOWER ${opt} flag)
      list(APPEND args --${flag} "${f}")
      list(APPEND depends "${f}")
    endif()
  endforeach()
  foreach(imp ${VG_IMPORTS})
    get_filename_component(f "${imp}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args --import "${f}")
    list(APPEND depends "${f}")
  endforeach()
  if(VG_PASSTHROUGH)
    list(APPEND args --passthrough)
  endif()
  foreach(d ${VG_DEFINES})
    list(APPEND args "-D${d}")
  endforeach()
  foreach(dir ${VG_INCLUDE_DIRS})
    get_filename_component(f "${dir}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args -I "${f}")
  endforeach()
  foreach(dep ${VG_DEPENDS})
    get_filename_component(f "${dep}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND depends "${f}")
  endforeach()

  set(headers "${out}/${base}.h" "${out}/${base}_client.h" "${out}/${base}_server.h")
  file(MAKE_DIRECTORY "${out}")
  add_custom_command(
    OUTPUT "${out}/${base}.c" ${headers}
    COMMAND ${Python3_EXECUTABLE} "${generator}" "${xfile}" ${args}
    DEPENDS ${depends} ${generator_depends}
    COMMENT "virtwire-gen ${VG_PROTOCOL}"
    VERBATIM)

  set(type)
  if(VG_STATIC)
    set(type STATIC)
  elseif(VG_SHARED)
    set(type SHARED)
  endif()
  add_library(${VG_TARGET} ${type} "${out}/${base}.c" ${headers})
  target_include_directories(${VG_TARGET} PUBLIC "$<BUILD_INTERFACE:${out}>")
  target_link_libraries(${VG_TARGET} PUBLIC ${runtime} ${VG_LINK})
  target_compile_features(${VG_TARGET} PUBLIC c_std_11)
  set(${VG_TARGET}_GENERATED_DIR "${out}" PARENT_SCOPE)
endfunction()
