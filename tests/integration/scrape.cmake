# `lagwatch scrape` on files: sorted output, errors with line and column, exit codes.
add_test(NAME scrape_file COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/scrape_test.sh")
set_tests_properties(scrape_file PROPERTIES LABELS integration TIMEOUT 60
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
