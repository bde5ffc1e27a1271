# AWS clients against real peers: moto_server (signature verification, IAM, CloudWatch, RDS) and
# the fault-injection stand-in in front of it. aws_probe drives lagwatch's clients; the Python
# scripts set up the peers, run it and check what it printed.
add_executable(aws_probe ${CMAKE_CURRENT_LIST_DIR}/aws_probe.c)
target_link_libraries(aws_probe PRIVATE lagwatch_agent)
add_test(NAME aws_moto
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_LIST_DIR}/aws_moto_test.py"
                 $<TARGET_FILE:aws_probe>)
set_tests_properties(aws_moto PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
add_test(NAME aws_faults
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_LIST_DIR}/aws_fault_test.py"
                 $<TARGET_FILE:aws_probe>)
set_tests_properties(aws_faults PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
