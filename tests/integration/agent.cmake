# The agent end to end: `lagwatch fetch` and `lagwatch run` against moto_server and the
# loopback stand-ins (tests/standins/cdc_env.py starts them).
add_test(NAME agent_fetch
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_LIST_DIR}/agent_fetch_test.py"
                 $<TARGET_FILE:lagwatch>)
set_tests_properties(agent_fetch PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
