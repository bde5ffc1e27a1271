# Credential providers against local peers: stand-ins for IMDS and the ECS endpoint, moto's STS
# (creds_test.py), driving `lagwatch aws whoami` and creds_driver (the default provider at
# chosen clock offsets). Also greps everything lagwatch printed for the secrets handed out.
add_executable(creds_driver "${CMAKE_CURRENT_SOURCE_DIR}/integration/creds_driver.c")
target_link_libraries(creds_driver PRIVATE lagwatch_sigv4)
add_test(NAME creds_standins
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/creds_test.py"
                 $<TARGET_FILE:lagwatch> $<TARGET_FILE:creds_driver>)
set_tests_properties(creds_standins PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
