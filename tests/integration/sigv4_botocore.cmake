# Differential test: lagwatch's signer against botocore's SigV4Auth on randomised requests
# (sigv4_botocore.py drives sigv4_driver, a test-only bridge to sigv4_sign_for_http).
add_executable(sigv4_driver "${CMAKE_CURRENT_SOURCE_DIR}/integration/sigv4_driver.c")
target_link_libraries(sigv4_driver PRIVATE lagwatch_sigv4 PkgConfig::JANSSON)
add_test(NAME sigv4_botocore
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/sigv4_botocore.py"
                 $<TARGET_FILE:sigv4_driver> 2000)
set_tests_properties(sigv4_botocore PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
