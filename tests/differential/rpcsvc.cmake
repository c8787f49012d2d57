# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The ONC RPC .x files that Debian ships in /usr/include/rpcsvc: the twelve
# of rpcsvc-proto and those of libnsl-dev that rpcgen takes (its nis.x is
# refused by rpcgen and by virtwire-gen alike).  For each one:
#   - virtwire-gen's output is compiled with the project's warnings (-Wall
#     -Wextra ..., errors with VIRTWIRE_WERROR), its client and server
#     headers included too (library vwrpcsvc_NAME);
#   - the test rpcsvc.differential.NAME runs differential.c over every type
#     of the file against rpcgen's code for it and libtirpc, with
#     VIRTWIRE_RPCSVC_COUNT (1000) random values per type.
# nis_callback.x takes nis_object and nis_error from libnsl's hand-written
# <rpcsvc/nis.h>; virtwire-gen imports nis_object.x and nis.x's enum
# nis_error (cut out of nis.x by tests/rpcsvc/cut_enum.py), and rpcgen's side
# links rpcgen's code for both.
# tests/rpcsvc/test_rpcsvc.py checks the same files by hand: generated with
# the command line, compiled with cc -Wall -Wextra -Werror.

set(VIRTWIRE_RPCSVC_DIR /usr/include/rpcsvc CACHE PATH
    "Where the rpcsvc .x files are (rpcsvc-proto, libnsl-dev)")
set(VIRTWIRE_RPCSVC_COUNT 1000 CACHE STRING
    "Random values per type in the rpcsvc differential tests")
set(VIRTWIRE_RPCSVC_MODULES
    bootparam_prot key_prot klm_prot mount nfs_prot nlm_prot rex rquota rstat rusers
    sm_inter spray                              # rpcsvc-proto
    nis_object yp yppasswd nis_callback)        # libnsl-dev
set(_rpcsvc_imports_nis_callback nis_object nis_error)
set(_rpcsvc ${CMAKE_CURRENT_BINARY_DIR}/rpcsvc)
set(_rpcsvc_src ${PROJECT_SOURCE_DIR}/tests/rpcsvc)

set(_rpcsvc_missing ${_missing})
list(REMOVE_ITEM _rpcsvc_missing "libvirt's headers (libvirt-dev)")
foreach(m ${VIRTWIRE_RPCSVC_MODULES})
  if(NOT EXISTS ${VIRTWIRE_RPCSVC_DIR}/${m}.x)
    list(APPEND _rpcsvc_missing "${VIRTWIRE_RPCSVC_DIR}/${m}.x (rpcsvc-proto, libnsl-dev)")
  endif()
endforeach()

file(MAKE_DIRECTORY ${_rpcsvc}/src)
add_custom_command(
  OUTPUT ${_rpcsvc}/src/nis_error.x
  COMMAND ${Python3_EXECUTABLE} -B ${_rpcsvc_src}/cut_enum.py ${VIRTWIRE_RPCSVC_DIR}/nis.x
          nis_error ${_rpcsvc}/src/nis_error.x
  DEPENDS ${_rpcsvc_src}/cut_enum.py
  COMMENT "nis.x's enum nis_error, for nis_callback.x"
  VERBATIM)

function(_rpcsvc_xfile m outvar)
  if(m STREQUAL nis_error)
    set(${outvar} ${_rpcsvc}/src/nis_error.x PARENT_SCOPE)
  else()
    set(${outvar} ${VIRTWIRE_RPCSVC_DIR}/${m}.x PARENT_SCOPE)
  endif()
endfunction()

# virtwire-gen's output for module m: library vwrpcsvc_m.
function(_rpcsvc_ours m)
  _rpcsvc_xfile(${m} xfile)
  set(out ${_rpcsvc}/gen/${m})
  set(args)
  set(deps ${xfile})
  foreach(i ${_rpcsvc_imports_${m}})
    _rpcsvc_xfile(${i} ifile)
    list(APPEND args --import ${ifile})
    list(APPEND deps ${ifile})
  endforeach()
  file(MAKE_DIRECTORY ${out})
  add_custom_command(
    OUTPUT ${out}/${m}.c ${out}/${m}.h ${out}/${m}_client.h ${out}/${m}_server.h
    COMMAND ${Python3_EXECUTABLE} -B ${VIRTWIRE_GENERATOR} ${xfile} --out-dir ${out} ${args}
    DEPENDS ${deps} ${VIRTWIRE_GENERATOR_SOURCES}
    COMMENT "virtwire-gen ${m}.x (rpcsvc)"
    VERBATIM)
  # The typed client calls and server handlers must compile too.
  file(WRITE ${out}/${m}_headers.c.in
       "/* SPDX-License-Identifier: LGPL-2.1-or-later */\n"
       "#include \"${m}_client.h\"\n#include \"${m}_server.h\"\n"
       "int vwrpcsvc_${m}_headers(void);\nint vwrpcsvc_${m}_headers(void)\n{\n    return 0;\n}\n")
  configure_file(${out}/${m}_headers.c.in ${out}/${m}_headers.c COPYONLY)
  add_library(vwrpcsvc_${m} STATIC ${out}/${m}.c ${out}/${m}_headers.c)
  set_source_files_properties(${out}/${m}_headers.c PROPERTIES
                              OBJECT_DEPENDS "${out}/${m}_client.h;${out}/${m}_server.h")
  target_include_directories(vwrpcsvc_${m} PUBLIC ${out})
  target_link_libraries(vwrpcsvc_${m} PUBLIC virtwire PRIVATE virtwire_client virtwire_server)
  foreach(i ${_rpcsvc_imports_${m}})
    target_link_libraries(vwrpcsvc_${m} PUBLIC vwrpcsvc_${i})
  endforeach()
  virtwire_warnings(vwrpcsvc_${m})
endfunction()

# rpcgen's code for module m and the table of its xdr_T functions:
# library vwrpcsvc_rpcgen_m.
function(_rpcsvc_rpcgen m)
  _rpcsvc_xfile(${m} xfile)
  set(dir ${_rpcsvc}/rpcgen/${m})
  file(MAKE_DIRECTORY ${dir})
  add_custom_command(
    OUTPUT ${dir}/${m}.h ${dir}/${m}.c
    COMMAND ${CMAKE_COMMAND} -E copy ${xfile} ${m}.x
    COMMAND ${CMAKE_COMMAND} -E remove -f ${m}.h ${m}.c
    COMMAND ${VIRTWIRE_RPCGEN} -h -o ${m}.h ${m}.x
    COMMAND ${VIRTWIRE_RPCGEN} -c -o ${m}.c ${m}.x
    WORKING_DIRECTORY ${dir}
    DEPENDS ${xfile}
    COMMENT "rpcgen ${m}.x (reference for rpcsvc.differential.${m})"
    VERBATIM)
  add_custom_command(
    OUTPUT ${dir}/oracle_${m}.c
    COMMAND ${Python3_EXECUTABLE} -B ${CMAKE_CURRENT_SOURCE_DIR}/gen_harness.py oraclex
            ${dir}/${m}.h ${dir}
    DEPENDS ${dir}/${m}.h ${_gen_sources}
    VERBATIM)
  add_library(vwrpcsvc_rpcgen_${m} STATIC ${dir}/${m}.c ${dir}/oracle_${m}.c)
  target_include_directories(vwrpcsvc_rpcgen_${m} PRIVATE ${dir} ${CMAKE_CURRENT_SOURCE_DIR}
                             ${VIRTWIRE_RPCGEN_SHIM} ${VIRTWIRE_TIRPC_INCLUDE_DIRS})
  target_compile_options(vwrpcsvc_rpcgen_${m} PRIVATE -w) # rpcgen's code: not ours to fix
  set_target_properties(vwrpcsvc_rpcgen_${m} PROPERTIES C_EXTENSIONS ON)
endfunction()

# The same files through the command line, as a user would run it.
add_test(NAME rpcsvc.generate
         COMMAND ${Python3_EXECUTABLE} ${_rpcsvc_src}/test_rpcsvc.py
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(rpcsvc.generate PROPERTIES TIMEOUT 300 ENVIRONMENT
  "PYTHONDONTWRITEBYTECODE=1;VIRTWIRE_CC=${CMAKE_C_COMPILER};VIRTWIRE_RPCSVC_DIR=${VIRTWIRE_RPCSVC_DIR}")

if(_rpcsvc_missing)
  foreach(m ${VIRTWIRE_RPCSVC_MODULES})
    file(WRITE ${_rpcsvc}/missing.cmake
         "message(FATAL_ERROR \"the rpcsvc tests need ${_rpcsvc_missing}\")\n")
    add_test(NAME rpcsvc.differential.${m} COMMAND ${CMAKE_COMMAND} -P ${_rpcsvc}/missing.cmake)
  endforeach()
  return()
endif()

foreach(m nis_error ${VIRTWIRE_RPCSVC_MODULES})
  _rpcsvc_ours(${m})
  _rpcsvc_rpcgen(${m})
endforeach()

foreach(m ${VIRTWIRE_RPCSVC_MODULES})
  _rpcsvc_xfile(${m} xfile)
  set(h ${_rpcsvc}/harness/${m})
  set(fill ${h}/fill_${m}.c ${h}/fill_${m}.h)
  set(ifiles)
  foreach(i ${_rpcsvc_imports_${m}})
    _rpcsvc_xfile(${i} ifile)
    list(APPEND ifiles ${ifile})
    list(APPEND fill ${h}/fill_${i}.c ${h}/fill_${i}.h)
  endforeach()
  add_custom_command(
    OUTPUT ${fill} ${h}/modules.c ${h}/fill_modules.c
    COMMAND ${Python3_EXECUTABLE} -B ${CMAKE_CURRENT_SOURCE_DIR}/gen_harness.py fillx ${h}
            ${xfile} ${ifiles}
    DEPENDS ${xfile} ${ifiles} ${_gen_sources} ${VIRTWIRE_GENERATOR_SOURCES}
    COMMENT "Generating the differential test harness for ${m}.x"
    VERBATIM)
  add_library(vwrpcsvc_fill_${m} STATIC vw_fill.c ${fill} ${h}/fill_modules.c)
  target_include_directories(vwrpcsvc_fill_${m} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${h})
  target_link_libraries(vwrpcsvc_fill_${m} PUBLIC vwrpcsvc_${m})
  virtwire_warnings(vwrpcsvc_fill_${m})

  set(exe vwrpcsvc_differential_${m})
  add_executable(${exe} differential.c ${h}/modules.c)
  target_include_directories(${exe} PRIVATE ${VIRTWIRE_TIRPC_INCLUDE_DIRS})
  target_compile_definitions(${exe} PRIVATE VW_RELEASE="rpcsvc")
  target_link_directories(${exe} PRIVATE ${VIRTWIRE_TIRPC_LIBRARY_DIRS})
  target_link_libraries(${exe} PRIVATE vwrpcsvc_fill_${m} vwrpcsvc_rpcgen_${m})
  foreach(i ${_rpcsvc_imports_${m}})
    target_link_libraries(${exe} PRIVATE vwrpcsvc_rpcgen_${i})
  endforeach()
  target_link_libraries(${exe} PRIVATE vwrpcsvc_${m} ${VIRTWIRE_TIRPC_LIBRARIES})
  virtwire_warnings(${exe})
  add_test(NAME rpcsvc.differential.${m} COMMAND ${exe})
  set_tests_properties(rpcsvc.differential.${m} PROPERTIES
                       ENVIRONMENT VIRTWIRE_DIFF_COUNT=${VIRTWIRE_RPCSVC_COUNT} TIMEOUT 300)
endforeach()

