# Delivery against stand-in receivers with every failure the issue names, a receiver down then
# back, and a kill -9 loop over a persisted outbox.
add_executable(notify_deliver_driver "${CMAKE_CURRENT_SOURCE_DIR}/integration/notify_deliver_driver.c")
target_link_libraries(notify_deliver_driver PRIVATE lagwatch_agent PkgConfig::JANSSON)
add_test(NAME notify_delivery
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/notify_delivery_test.py"
                 $<TARGET_FILE:notify_deliver_driver> 50)
set_tests_properties(notify_delivery PROPERTIES LABELS integration TIMEOUT 600
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
# alertmanager_configs against two real Alertmanagers: pushed alerts show in their API.
add_test(NAME notify_alertmanager_push
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/am_push_test.py"
                 $<TARGET_FILE:notify_deliver_driver>)
set_tests_properties(notify_alertmanager_push PROPERTIES LABELS integration TIMEOUT 300
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
