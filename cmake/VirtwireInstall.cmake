# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What `cmake --install` puts under the prefix (GNUInstallDirs names):
#   <includedir>/virtwire/            runtime headers and the generated
#                                     libvirt headers (NAME.h, NAME_client.h,
#                                     NAME_server.h, libvirt_protocols.h,
#                                     libvirt_constants.h)
#   <libdir>/libvirtwire*.a, .so      every library, static and shared
#   <libdir>/cmake/virtwire/          the CMake package: find_package(virtwire)
#   <libdir>/pkgconfig/virtwire*.pc   pkg-config files
#   <bindir>/virtwire-gen             the generator, which runs the
#   <datadir>/virtwire/generator/     virtwire_gen package, with its default
#   <datadir>/virtwire/protocol/      tables (constants, overrides)
include(CMakePackageConfigHelpers)

set(VIRTWIRE_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/virtwire)
set(VIRTWIRE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/virtwire)
set(VIRTWIRE_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/virtwire)
set(_stage ${CMAKE_CURRENT_BINARY_DIR}/install-files)

# Libraries and headers.
get_property(_targets GLOBAL PROPERTY VIRTWIRE_INSTALL_TARGETS)
install(TARGETS ${_targets} EXPORT virtwireTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Public headers are runtime/LAYER/virtwire_*.h; *_internal.h stay in the tree.
file(GLOB _headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/runtime/*/virtwire_*.h)
list(FILTER _headers EXCLUDE REGEX "_internal\\.h$")
if(NOT VIRTWIRE_HAVE_TLS)
  list(FILTER _headers EXCLUDE REGEX "/runtime/tls/")
endif()
list(APPEND _headers ${VIRTWIRE_GENERATED_DIR}/libvirt_protocols.h
     ${VIRTWIRE_GENERATED_DIR}/libvirt_constants.h)
foreach(m ${VIRTWIRE_LIBVIRT_MODULES})
  foreach(suffix "" _client _server)
    list(APPEND _headers ${VIRTWIRE_GENERATED_DIR}/${m}${suffix}.h)
  endforeach()
endforeach()
install(FILES ${_headers} DESTINATION ${VIRTWIRE_INSTALL_INCLUDEDIR})

# The generator: bin/virtwire-gen runs the package installed in datadir,
# which finds its tables at ../../protocol from itself, as in the tree.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/generator/virtwire_gen
        DESTINATION ${VIRTWIRE_INSTALL_DATADIR}/generator
        FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/protocol/constants.tsv
              ${PROJECT_SOURCE_DIR}/protocol/overrides.tsv
              ${PROJECT_SOURCE_DIR}/protocol/events.tsv
        DESTINATION ${VIRTWIRE_INSTALL_DATADIR}/protocol)
file(RELATIVE_PATH VIRTWIRE_GEN_PACKAGE_DIR ${CMAKE_INSTALL_FULL_BINDIR}
     ${CMAKE_INSTALL_FULL_DATADIR}/virtwire/generator)
configure_file(${PROJECT_SOURCE_DIR}/cmake/virtwire-gen.in ${_stage}/virtwire-gen @ONLY)
install(PROGRAMS ${_stage}/virtwire-gen DESTINATION ${CMAKE_INSTALL_BINDIR})

# The CMake package.
install(EXPORT virtwireTargets NAMESPACE virtwire:: DESTINATION ${VIRTWIRE_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/virtwireConfig.cmake.in
  ${_stage}/virtwireConfig.cmake
  INSTALL_DESTINATION ${VIRTWIRE_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_BINDIR VIRTWIRE_INSTALL_DATADIR)
# 0.x releases are compatible only within the same minor version.
write_basic_package_version_file(${_stage}/virtwireConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${_stage}/virtwireConfig.cmake ${_stage}/virtwireConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/VirtwireGenerate.cmake
        DESTINATION ${VIRTWIRE_INSTALL_CMAKEDIR})

# pkg-config: one file per library.  The prefix is written at install time,
# so that `cmake --install --prefix DIR` gets files that name DIR.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(VIRTWIRE_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(VIRTWIRE_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(VIRTWIRE_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(VIRTWIRE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
  set(VIRTWIRE_PC_BINDIR "${CMAKE_INSTALL_BINDIR}")
else()
  set(VIRTWIRE_PC_BINDIR "\${prefix}/${CMAKE_INSTALL_BINDIR}")
endif()
# virtwire_pc(FILE LIBRARY REQUIRES LIBS_PRIVATE DESCRIPTION [REQUIRES_PRIVATE])
function(virtwire_pc file lib requires libs_private description)
  set(PC_NAME ${file})
  set(PC_LIB ${lib})
  set(PC_REQUIRES)
  if(requires)
    set(PC_REQUIRES "${requires} = ${PROJECT_VERSION}")
  endif()
  set(PC_LIBS_PRIVATE ${libs_private})
  set(PC_REQUIRES_PRIVATE "${ARGN}")
  set(PC_DESCRIPTION ${description})
  set(PC_PREFIX "@CMAKE_INSTALL_PREFIX@") # filled in at install time
  configure_file(${PROJECT_SOURCE_DIR}/cmake/virtwire.pc.in ${_stage}/${file}.pc.in @ONLY)
  install(CODE "configure_file(\"${_stage}/${file}.pc.in\" \"${_stage}/${file}.pc\" @ONLY)")
  install(FILES ${_stage}/${file}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
virtwire_pc(virtwire virtwire "" ""
  "libvirt's RPC protocol without libvirt: XDR codec runtime, URIs, procedure tables")
virtwire_pc(virtwire-virnet virtwire_virnet virtwire ""
  "virtwire: codecs of libvirt ${VIRTWIRE_LIBVIRT_VERSION}'s message header and keepalive protocols")
virtwire_pc(virtwire-libvirt virtwire_libvirt virtwire-virnet ""
  "virtwire: codecs and procedure tables of libvirt ${VIRTWIRE_LIBVIRT_VERSION}'s protocols")
virtwire_pc(virtwire-transport virtwire_transport virtwire-virnet ""
  "virtwire: libvirt's message layer without I/O")
virtwire_pc(virtwire-conn virtwire_conn virtwire-transport ""
  "virtwire: libvirt connections over unix and TCP sockets")
virtwire_pc(virtwire-client virtwire_client "virtwire-conn = ${PROJECT_VERSION}, virtwire-libvirt" -pthread
  "virtwire: threaded libvirt RPC client")
virtwire_pc(virtwire-server virtwire_server virtwire-conn -pthread
  "virtwire: event-loop libvirt RPC server")
virtwire_pc(virtwire-session virtwire_session "virtwire-server = ${PROJECT_VERSION}, virtwire-libvirt" ""
  "virtwire: libvirt's authentication procedures answered as libvirtd answers them")
if(VIRTWIRE_HAVE_SASL)
  virtwire_pc(virtwire-sasl virtwire_sasl
    "virtwire-client = ${PROJECT_VERSION}, virtwire-session" "-lsasl2"
    "virtwire: libvirt's SASL authentication and security layer, client and server (Cyrus SASL)")
endif()
if(VIRTWIRE_HAVE_TLS)
  virtwire_pc(virtwire-tls virtwire_tls virtwire-conn ""
    "virtwire: TLS channels as libvirt makes them (GnuTLS), client and server" gnutls)
endif()
