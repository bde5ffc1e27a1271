/*
 * limits.h — every cap lagwatch puts on input from outside, in one place. Modules add their own
 * constants here (named LW_MAX_* with the unit in the name) rather than burying numbers in code.
 * Where a user may need to raise a cap, the config key that does so is named next to it.
 */
#ifndef LAGWATCH_LIMITS_H
#define LAGWATCH_LIMITS_H

/* Files lagwatch reads whole (configs, rule files, credentials files, test-suite files). */
#define LW_MAX_FILE_BYTES (16u * 1024u * 1024u)

/* One HTTP request or response body held in memory (AWS answers, JSON APIs). */
#define LW_MAX_HTTP_BODY_BYTES (32u * 1024u * 1024u)

/* One header line of an HTTP request or response. */
#define LW_MAX_HEADER_BYTES (16u * 1024u)

/* Header lines in one HTTP response. */
#define LW_MAX_HTTP_HEADERS 256u

/* Label names and one Alertmanager-syntax matcher (routes, inhibit rules, silences). */
#define LW_MAX_LABEL_NAME_BYTES 1024u
#define LW_MAX_MATCHER_BYTES    (64u * 1024u)

/* A secret read from a *_file key (webhook URL, routing key, token, password). */
#define LW_MAX_SECRET_BYTES 8192u
/* Exposition pages (JMX exporter, Kafka Connect workers): one scrape after decompression. Config:
 * a source's `body_size_limit`. */
#define LW_MAX_SCRAPE_BYTES (64u * 1024u * 1024u)
/* Samples in one scrape page, before the `keep` filter. Config: a source's `sample_limit`. */
#define LW_MAX_SCRAPE_SAMPLES 2000000u
/* Labels on one sample, __name__ included. Config: `label_limit`. */
#define LW_MAX_LABELS_PER_SERIES 64u
/* One label value in bytes after unescaping. Config: `label_value_length_limit`. */
#define LW_MAX_LABEL_VALUE_BYTES (16u * 1024u)
/* One line of an exposition page (HELP text included), its end excluded. */
#define LW_MAX_EXPO_LINE_BYTES (256u * 1024u)

/* SigV4 signing: headers and query parameters of one request to sign, and the size of the
 * canonical request, string to sign and other intermediate texts built for it. */
#define LW_MAX_SIGV4_HEADERS         256u
#define LW_MAX_SIGV4_QUERY_PARAMS    4096u
#define LW_MAX_SIGV4_CANONICAL_BYTES (1024u * 1024u)
/* Kafka Connect task/connector traces kept for notification text: the first lines only. */
#define LW_MAX_TRACE_LINES 5u
#define LW_MAX_TRACE_BYTES 1024u

/* YAML documents (config, rule files): nodes in one document, alias copies included (this is
 * what stops "billion laughs" alias bombs), nesting depth, and one scalar after ${VAR}
 * interpolation. */
#define LW_MAX_YAML_NODES        250000u
#define LW_MAX_YAML_DEPTH        64u
#define LW_MAX_YAML_SCALAR_BYTES (1024u * 1024u)

/* AWS credential providers (sigv4/creds_*.c): one answer from IMDS, ECS or STS; a token file
 * (web identity, ECS authorization); the blocking transport's timeouts; IMDSv2 token lifetime;
 * the cache's refresh windows and how soon a failed refresh is retried. */
#define LW_MAX_CREDS_BODY_BYTES      (64u * 1024u)
#define LW_MAX_CREDS_TOKEN_BYTES     (64u * 1024u)
#define LW_MAX_AWS_CONFIG_LINE_BYTES (16u * 1024u)
#define LW_CREDS_CONNECT_TIMEOUT_MS  1000L
#define LW_CREDS_TIMEOUT_MS          5000L
#define LW_CREDS_IMDS_TOKEN_TTL_S    21600
#define LW_CREDS_IMDS_TOKEN_SLACK_S  60
#define LW_CREDS_ADVISORY_REFRESH_S  (15 * 60)
#define LW_CREDS_MANDATORY_REFRESH_S (10 * 60)
#define LW_CREDS_REFRESH_RETRY_S     10

/* One PromQL expression (rule `expr`, promql-test query) and its nesting depth (parentheses,
 * operators, calls): the parser recurses, so depth bounds its stack use. */
#define LW_MAX_PROMQL_BYTES 65536u
#define LW_MAX_PROMQL_DEPTH 200

/* Samples one PromQL evaluation may hold at once (selected points plus intermediate results);
 * a query over more fails with an error instead of exhausting memory. */
#define LW_MAX_PROMQL_SAMPLES 50000000u

/* Series in the sample store (all sources together) when store_options.max_series is 0; appends
 * that would create more fail with STORE_ERR_SERIES_LIMIT. */
#define LW_MAX_STORE_SERIES 1000000u

/* Values one expanding series notation may expand to (`1+1x100000`): test scripts and promtool
 * unit-test files are input from outside too. */
#define LW_MAX_SERIESNOT_VALUES 1000000u

/* Templates (alert annotations/labels, receiver templates): source text, nesting of control
 * structures and parentheses, evaluation steps of one execution (every node evaluated and every
 * range iteration counts), {{template}} call depth, and output of one execution (strings built
 * by printf and friends included). */
#define LW_MAX_TMPL_SOURCE_BYTES (1024u * 1024u)
#define LW_MAX_TMPL_NEST_DEPTH   100
#define LW_MAX_TMPL_STEPS        1000000u
#define LW_MAX_TMPL_CALL_DEPTH   64
#define LW_MAX_TMPL_OUTPUT_BYTES (1024u * 1024u)
/* Strings the functions of one execution build in all (printf in a loop discards its results,
 * so the output cap alone would not bound the work), PCRE2's match limit for one regexp match
 * (RE2 never backtracks, PCRE2 does), and a fuse on the time one execution may take. */
#define LW_MAX_TMPL_WORK_BYTES     (64u * 1024u * 1024u)
#define LW_TMPL_REGEXP_MATCH_LIMIT 1000000u
#define LW_MAX_TMPL_EXEC_MS        2000

/* Rule unit tests (lagwatch test-rules): evaluation steps of one test group (its largest
 * eval_time / evaluation_interval), so a fuzzed or mistyped file ("eval_time: 100y" with a 1s
 * interval) fails at once instead of running for days. 100000 is 69 days at 1m. */
#define LW_MAX_RULETEST_STEPS 100000

/* One file in state_dir (alert states, silences, notification log, one outbox item). */
#define LW_MAX_STATE_FILE_BYTES (64u * 1024u * 1024u)

#endif
