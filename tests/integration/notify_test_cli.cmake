# lagwatch notify-test against the stand-in Slack, PagerDuty and webhook receivers: delivered,
# a receiver's 4xx error text shown, a hang past --timeout, unknown receiver and usage errors.
add_test(NAME notify_test_cli
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/notify_test_cli.py")
set_tests_properties(notify_test_cli PROPERTIES LABELS integration TIMEOUT 120
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
