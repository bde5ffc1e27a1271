# Differential test of the 0.0.4 parser: Prometheus scrapes the real exporter captures and the
# edge-case fixture; what it stores must equal what `lagwatch scrape` prints for the same files.
add_test(NAME expfmt_vs_prometheus
         COMMAND ${LAGWATCH_PYTHON} "${CMAKE_CURRENT_SOURCE_DIR}/integration/expfmt_vs_prometheus.py"
                 $<TARGET_FILE:lagwatch>
                 "${CMAKE_SOURCE_DIR}/tests/fixtures/expfmt/edge-cases.prom"
                 "${LAGWATCH_REFERENCE_DIR}/exporter-samples/kafka-connect-windowforsun-jmx-exporter-0.16.1.prom"
                 "${LAGWATCH_REFERENCE_DIR}/exporter-samples/debezium-mysql-synchdb-jmx-exporter-1.3.0.prom")
set_tests_properties(expfmt_vs_prometheus PROPERTIES LABELS integration TIMEOUT 120
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
