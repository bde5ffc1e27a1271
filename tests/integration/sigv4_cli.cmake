# `lagwatch aws sign` over every case and artefact of the AWS SigV4 suite, and its error paths.
# 304 process runs: about 2 minutes under ASan on a loaded 2-core machine, hence the timeout.
add_test(NAME sigv4_cli COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/integration/sigv4_cli_test.sh")
set_tests_properties(sigv4_cli PROPERTIES LABELS integration TIMEOUT 600
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
