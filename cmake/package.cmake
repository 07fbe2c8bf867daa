# cpack -G DEB (from the build folder): two Debian packages, as Debian splits a library.
#   kiln         the tool, the shared libraries, the docs and the bash completion; its Depends
#                are the Debian runtime packages the binaries link (dpkg-shlibdeps finds them)
#   libkiln-dev  the headers, the CMake and pkg-config files and the .so links (or the static
#                libraries when BUILD_SHARED_LIBS is OFF)
set(CPACK_PACKAGE_NAME kiln)
set(CPACK_PACKAGE_VENDOR "kiln")
set(CPACK_PACKAGE_CONTACT "kiln maintainers <kiln@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps looks up kiln's own libraries here rather than in an installed package.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR} ${PROJECT_BINARY_DIR}/src)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME kiln)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION science)
# Each package's description: the project's one-line summary, then these lines.
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "The kiln command-line tool (train, evaluate, predict, serve with TensorFlow Serving's REST API,\n\
tune, export to ONNX) and the kiln shared libraries.")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libkiln-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "kiln (= ${PROJECT_VERSION}), nlohmann-json3-dev (>= 3.10)")
if(KILN_STATIC)
  string(APPEND CPACK_DEBIAN_DEV_PACKAGE_DEPENDS ", zlib1g-dev, libspng-dev, libjpeg-dev, libgif-dev, libarchive-dev, libhdf5-dev, "
         "libcurl4-openssl-dev | libcurl-dev, libssl-dev, libcairo2-dev, libgraphviz-dev, libboost-dev, libsimdjson-dev")
  if(KILN_HAS_MPI)
    string(APPEND CPACK_DEBIAN_DEV_PACKAGE_DEPENDS ", mpi-default-dev")
  endif()
endif()
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "kiln's C++ headers, CMake package and pkg-config files, to build programs against kiln:\n\
find_package(kiln) and kiln::kiln, or pkg-config kiln.")
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
include(CPack)
