# AWS clients against real peers: moto_server (signature verification, IAM, CloudWatch, RDS) and
# a fault-injection stand-in. aws_probe drives lagwatch's clients; the Python scripts set up the
# peers, run it and check what it printed.
add_executable(aws_probe ${CMAKE_CURRENT_LIST_DIR}/aws_probe.c)
target_link_libraries(aws_probe PRIVATE lagwatch_agent)
