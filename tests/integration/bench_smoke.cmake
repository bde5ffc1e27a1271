# The fetch-cycle benchmark run small as a correctness test (not timed): 20 pipelines against the
# delayed stand-in must all answer, with the minimum number of GetMetricData calls. The figures
# come from running tests/bench/bench_fetch_cycle.py by hand (200 pipelines).
add_test(NAME fetch_cycle_smoke
         COMMAND ${LAGWATCH_PYTHON} "${PROJECT_SOURCE_DIR}/tests/bench/bench_fetch_cycle.py"
                 --lagwatch $<TARGET_FILE:lagwatch> --pipelines 20 --runs 1 --delay-ms 20)
set_tests_properties(fetch_cycle_smoke PROPERTIES LABELS integration TIMEOUT 120
                     ENVIRONMENT "${LAGWATCH_TEST_ENV}")
