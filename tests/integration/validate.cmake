# lagwatch validate: the shipped example passes, errors carry file:line:col, exit codes 0/1/2.
add_test(NAME cli_validate COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/validate_test.sh")
set_tests_properties(cli_validate PROPERTIES LABELS integration TIMEOUT 60
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
