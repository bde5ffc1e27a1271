# Delivery against stand-in receivers with every failure the issue names, a receiver down then
# back, and a kill -9 loop over a persisted outbox.
add_executable(notify_deliver_driver "${CMAKE_CURRENT_SOURCE_DIR}/integration/notify_deliver_driver.c")
target_link_libraries(notify_deliver_driver PRIVATE lagwatch_agent PkgConfig::JANSSON)
add_test(NAME notify_delivery
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/notify_delivery_test.py"
                 $<TARGET_FILE:notify_deliver_driver> 50)
set_tests_properties(notify_delivery PROPERTIES LABELS integration TIMEOUT 600
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
