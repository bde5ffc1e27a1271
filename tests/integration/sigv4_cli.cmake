# `lagwatch aws sign` over every case and artefact of the AWS SigV4 suite, and its error paths.
add_test(NAME sigv4_cli COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/sigv4_cli_test.sh")
set_tests_properties(sigv4_cli PROPERTIES LABELS integration TIMEOUT 120
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
