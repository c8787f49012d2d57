# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virtwire_library(NAME EXPORT [GENERATED] SOURCES files... [INCLUDE dirs...]
#                  [LINK targets...] [PRIVATE_LINK targets...])
#
# Compiles SOURCES once, as position-independent code, into two libraries:
#   NAME         static (libNAME.a): what the tree's tests, examples and
#                benchmarks link
#   NAME_shared  shared (libNAME.so, SONAME libNAME.so.VIRTWIRE_SOVERSION)
# Both are installed and exported as virtwire::EXPORT (shared) and
# virtwire::EXPORT_static, names that also exist in the tree as aliases.
# LINK lists static libraries of this project (their _shared twins are used
# for NAME_shared) and other targets (used by both).  PRIVATE_LINK lists
# outside libraries the code uses but the headers do not expose (GnuTLS):
# private to NAME_shared, a link-only requirement of NAME.  INCLUDE names the
# directories of the library's headers in the tree; installed, every header is
# in <includedir>/virtwire.
#
# The runtime's shared libraries export only the virtwire_* symbols
# (cmake/virtwire.map); GENERATED libraries hold generated codecs, whose
# every external symbol belongs to the protocol's API.

# The runtime's ABI is not stable before 1.0: every 0.x release gets its
# own SONAME.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(VIRTWIRE_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(VIRTWIRE_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()

include(GNUInstallDirs)

function(virtwire_library name export)
  cmake_parse_arguments(L "GENERATED" "" "SOURCES;INCLUDE;LINK;PRIVATE_LINK" ${ARGN})
  add_library(${name}_objects OBJECT ${L_SOURCES})
  set_target_properties(${name}_objects PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(L_INCLUDE)
    target_include_directories(${name}_objects PUBLIC ${L_INCLUDE})
  endif()
  target_link_libraries(${name}_objects PUBLIC ${L_LINK} PRIVATE ${L_PRIVATE_LINK})
  virtwire_warnings(${name}_objects)

  set(shared_link)
  foreach(lib ${L_LINK})
    if(TARGET ${lib}_shared)
      list(APPEND shared_link ${lib}_shared)
    else()
      list(APPEND shared_link ${lib})
    endif()
  endforeach()

  add_library(${name} STATIC $<TARGET_OBJECTS:${name}_objects>)
  target_link_libraries(${name} PUBLIC ${L_LINK})
  foreach(lib ${L_PRIVATE_LINK})
    target_link_libraries(${name} INTERFACE $<LINK_ONLY:${lib}>)
  endforeach()
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${export}_static)

  add_library(${name}_shared SHARED $<TARGET_OBJECTS:${name}_objects>)
  target_link_libraries(${name}_shared PUBLIC ${shared_link} PRIVATE ${L_PRIVATE_LINK})
  # Installed, each finds the others it needs next to itself, in any prefix.
  set_target_properties(${name}_shared PROPERTIES
    EXPORT_NAME ${export} OUTPUT_NAME ${name}
    VERSION ${PROJECT_VERSION} SOVERSION ${VIRTWIRE_SOVERSION}
    INSTALL_RPATH "$ORIGIN")
  if(NOT L_GENERATED)
    set(map ${PROJECT_SOURCE_DIR}/cmake/virtwire.map)
    target_link_options(${name}_shared PRIVATE LINKER:--version-script=${map})
    set_property(TARGET ${name}_shared APPEND PROPERTY LINK_DEPENDS ${map})
  endif()
  # Every symbol a shared library uses comes from a library it names (with
  # sanitizers the runtime comes from the executable).
  if(NOT VIRTWIRE_SANITIZE)
    target_link_options(${name}_shared PRIVATE LINKER:--no-undefined)
  endif()

  foreach(t ${name} ${name}_shared)
    if(L_INCLUDE)
      foreach(dir ${L_INCLUDE})
        target_include_directories(${t} PUBLIC $<BUILD_INTERFACE:${dir}>)
      endforeach()
    endif()
    target_include_directories(${t} PUBLIC
                               $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/virtwire>)
    target_compile_features(${t} PUBLIC c_std_11)
  endforeach()

  add_library(virtwire::${export} ALIAS ${name}_shared)
  add_library(virtwire::${export}_static ALIAS ${name})
  set_property(GLOBAL APPEND PROPERTY VIRTWIRE_INSTALL_TARGETS ${name} ${name}_shared)
endfunction()
