# lagwatch check-rules: the rule pack is lint-clean, Debezium names that do not exist are errors
# with file:line:col and the right name, warnings do not fail unless --lint-fatal.
add_test(NAME cli_check_rules COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/check_rules_test.sh")
set_tests_properties(cli_check_rules PROPERTIES LABELS integration TIMEOUT 60
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
