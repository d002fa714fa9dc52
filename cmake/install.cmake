# cmake --install: the programs, the library (shared and static), its public
# headers, a pkg-config file and a CMake package (find_package(secsock)).
include(CMakePackageConfigHelpers)

install(TARGETS tcp-client tcp-server udp-client udp-server
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS secsock secsock_static EXPORT secsockTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/secsock DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

file(RELATIVE_PATH SECSOCK_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(${PROJECT_SOURCE_DIR}/cmake/secsock.pc.in ${PROJECT_BINARY_DIR}/secsock.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/secsock.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(SECSOCK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/secsock)
install(EXPORT secsockTargets NAMESPACE secsock:: DESTINATION ${SECSOCK_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/secsockConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/secsockConfig.cmake
                              INSTALL_DESTINATION ${SECSOCK_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/secsockConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/secsockConfig.cmake
              ${PROJECT_BINARY_DIR}/secsockConfigVersion.cmake
        DESTINATION ${SECSOCK_CMAKE_DIR})

# Man pages: section 1 for the programs, 3 for the API (man/*.[13]).
file(GLOB SECSOCK_MAN1 CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.1)
file(GLOB SECSOCK_MAN3 CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.3)
install(FILES ${SECSOCK_MAN1} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${SECSOCK_MAN3} DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
