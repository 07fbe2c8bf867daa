# cmake --install: the kiln tool, the libraries, the public headers, a relocatable CMake package
# (find_package(kiln) -> kiln::kiln, kiln::serving, kiln::mpi where MPI was found), pkg-config files, the docs and the bash
# completion. Components: "runtime" (the tool, shared libraries, docs, completion) and "dev"
# (headers, static libraries and the .so links, the CMake and pkg-config files), which
# cmake/package.cmake makes the Debian packages kiln and libkiln-dev.
include(CMakePackageConfigHelpers)

set(KILN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)
get_target_property(kiln_type kiln TYPE)
if(kiln_type STREQUAL "STATIC_LIBRARY")
  set(KILN_STATIC ON)
else()
  set(KILN_STATIC OFF)
endif()

# The installed tool finds the installed libraries relative to itself: the prefix can move.
file(RELATIVE_PATH kiln_bin_to_lib ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
set_target_properties(kiln_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${kiln_bin_to_lib}")

set(kiln_libraries kiln kiln_serving)
if(KILN_HAS_MPI)
  list(APPEND kiln_libraries kiln_mpi)
endif()
install(TARGETS ${kiln_libraries} EXPORT kilnTargets
  RUNTIME COMPONENT runtime
  LIBRARY COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE COMPONENT dev)
install(TARGETS kiln_cli RUNTIME COMPONENT runtime)
install(DIRECTORY include/kiln DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/kiln/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln COMPONENT dev)

install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${KILN_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/kilnConfig.cmake.in ${PROJECT_BINARY_DIR}/kilnConfig.cmake
                              INSTALL_DESTINATION ${KILN_CMAKE_DIR})
# 0.x: a minor release may break the API, so 0.2 accepts 0.2.x only (as the SONAME says).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kilnConfig.cmake ${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
        DESTINATION ${KILN_CMAKE_DIR} COMPONENT dev)

# pkg-config: prefix relative to the .pc file's folder, so these move with the prefix too. A
# static kiln lists the libraries it links for `pkg-config --static`, as plain link flags (not
# Requires.private, which would pull in those libraries' own static dependencies: Debian ships
# their shared libraries).
set(KILN_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH KILN_PC_TO_PREFIX ${CMAKE_INSTALL_PREFIX}/${KILN_PKGCONFIG_DIR} ${CMAKE_INSTALL_PREFIX})
set(KILN_PC_LIBS_PRIVATE "")
set(KILN_SERVING_PC_LIBS_PRIVATE "")
if(KILN_STATIC)
  list(JOIN SPNG_LDFLAGS " " spng)
  list(JOIN JPEG_LDFLAGS " " jpeg)
  list(JOIN ARCHIVE_LDFLAGS " " archive)
  list(JOIN HDF5_LDFLAGS " " hdf5)
  list(JOIN CAIRO_LDFLAGS " " cairo)
  list(JOIN GVC_LDFLAGS " " gvc)
  set(KILN_PC_LIBS_PRIVATE "${spng} ${jpeg} ${archive} ${hdf5} ${cairo} ${gvc} -lcurl -lcrypto -lgif -lz -pthread")
  set(KILN_SERVING_PC_LIBS_PRIVATE "-lsimdjson")
endif()
configure_file(cmake/kiln.pc.in ${PROJECT_BINARY_DIR}/kiln.pc @ONLY)
configure_file(cmake/kiln-serving.pc.in ${PROJECT_BINARY_DIR}/kiln-serving.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/kiln.pc ${PROJECT_BINARY_DIR}/kiln-serving.pc
        DESTINATION ${KILN_PKGCONFIG_DIR} COMPONENT dev)

install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
install(FILES tools/kiln/completion.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME kiln COMPONENT runtime)

include(cmake/package.cmake)
