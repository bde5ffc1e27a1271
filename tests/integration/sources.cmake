# The exporter and Kafka Connect sources against loopback stand-ins (tests/integration/standins),
# and `lagwatch scrape URL` on the live stand-in exporter.
add_executable(itest_sources "${CMAKE_CURRENT_SOURCE_DIR}/integration/itest_sources.c")
target_link_libraries(itest_sources PRIVATE lagwatch_testsupport)
add_test(NAME sources_standins
         COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/sources_test.sh"
                 $<TARGET_FILE:itest_sources>)
set_tests_properties(sources_standins PROPERTIES LABELS integration TIMEOUT 120
                     ENVIRONMENT "${LAGWATCH_TEST_ENV};LAGWATCH_PYTHON=${LAGWATCH_PYTHON}")
