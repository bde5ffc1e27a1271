# lagwatch health / silence / failover: the operator commands against a running lagwatch run on loopback.
add_test(NAME ops_cli
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_LIST_DIR}/ops_cli_test.py" $<TARGET_FILE:lagwatch>)
set_tests_properties(ops_cli PROPERTIES LABELS integration TIMEOUT 120
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
