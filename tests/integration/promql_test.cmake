# `lagwatch promql-test`: its own contract on small fixtures, and Prometheus's PromQL test data.
add_test(NAME promql_test_cli COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/promql_test_cli.sh")
set_tests_properties(promql_test_cli PROPERTIES LABELS integration TIMEOUT 60
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
add_test(NAME promql_testdata COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/promql_testdata.sh")
set_tests_properties(promql_testdata PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
