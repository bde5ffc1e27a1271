# The agent end to end: `lagwatch fetch` and `lagwatch run` against moto_server and the
# loopback stand-ins (tests/standins/cdc_env.py starts them).
add_test(NAME agent_fetch
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_LIST_DIR}/agent_fetch_test.py"
                 $<TARGET_FILE:lagwatch>)
set_tests_properties(agent_fetch PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
add_test(NAME agent_run
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_LIST_DIR}/agent_run_test.py"
                 $<TARGET_FILE:lagwatch>)
set_tests_properties(agent_run PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
# The README's first command runs this demo (after installing and building): keep it true.
add_test(NAME agent_demo
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_SOURCE_DIR}/packaging/demo/demo.py"
                 $<TARGET_FILE:lagwatch>)
set_tests_properties(agent_demo PROPERTIES LABELS integration TIMEOUT 400
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
