# Differential test: webhook v4 payloads from lagwatch's route + dispatcher + payload builder must
# equal a real Alertmanager's (Debian's prometheus-alertmanager) for the same alerts.
add_executable(notify_driver "${CMAKE_CURRENT_SOURCE_DIR}/integration/notify_driver.c")
target_link_libraries(notify_driver PRIVATE lagwatch_agent PkgConfig::JANSSON)
add_test(NAME notify_alertmanager_webhook_differential
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/am_webhook_test.py"
                 $<TARGET_FILE:notify_driver>)
set_tests_properties(notify_alertmanager_webhook_differential PROPERTIES LABELS integration
                     TIMEOUT 120 ENVIRONMENT "${LAGWATCH_TEST_ENV}")
