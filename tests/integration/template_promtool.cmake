# Differential test: alert annotation templates rendered by lagwatch must be what Prometheus 2.42
# renders. The script renders ~40 templates with template_driver, writes them as the expected
# exp_annotations of a promtool unit test, and promtool (the oracle) must pass it.
add_executable(template_driver "${CMAKE_CURRENT_SOURCE_DIR}/integration/template_driver.c")
target_link_libraries(template_driver PRIVATE lagwatch_agent)
add_test(NAME template_promtool_differential
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/template_promtool_test.py"
                 $<TARGET_FILE:template_driver>)
set_tests_properties(template_promtool_differential PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")

# The same for receiver templates: Alertmanager 0.25's amtool renders its example data, and
# lagwatch must render the same text over the same data as a value tree.
add_test(NAME template_amtool_differential
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/template_amtool_test.py"
                 $<TARGET_FILE:template_driver>)
set_tests_properties(template_amtool_differential PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
