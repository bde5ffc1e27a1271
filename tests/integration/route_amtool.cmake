# Differential test: routing decisions against Alertmanager's amtool on random routing trees.
add_executable(route_driver "${CMAKE_CURRENT_SOURCE_DIR}/integration/route_driver.c")
target_link_libraries(route_driver PRIVATE lagwatch_agent)
add_test(NAME route_amtool_differential
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/route_amtool_test.py"
                 $<TARGET_FILE:route_driver>)
set_tests_properties(route_amtool_differential PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
