# `lagwatch check` against moto_server and the stand-ins: every exit code, the JSON shape,
# JUnit, --duration, --notify and the CloudWatch cost line.
add_test(NAME check_cli
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_LIST_DIR}/check_cli_test.py"
                 $<TARGET_FILE:lagwatch>)
set_tests_properties(check_cli PROPERTIES LABELS integration TIMEOUT 600
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
