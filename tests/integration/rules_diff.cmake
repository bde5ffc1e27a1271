# lagwatch test-rules and promtool (Debian's 2.42) on the same rule unit-test files: same verdicts,
# same failure reports; rule files pass promtool check rules. Fails when promtool is missing.
add_test(NAME rules_vs_promtool COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/rules_diff_test.sh")
set_tests_properties(rules_vs_promtool PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
