# The command line's contract: --help, --version, usage errors exit 2.
add_test(NAME cli_basics COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_test.sh")
set_tests_properties(cli_basics PROPERTIES LABELS integration TIMEOUT 60
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
