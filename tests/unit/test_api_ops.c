/* test_api_ops.c — the operator endpoints: silences and failover episodes over JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "lagwatch/api_ops.h"

#define NOW 1795876200000LL

static int changes;
static int64_t now_ms(void *ud)
{
    (void)ud;
    return NOW;
}
static void changed(void *ud, const char *what)
{
    (void)ud;
    (void)what;
    changes++;
}

struct fx {
    struct silences s;
    struct failover *f;
    struct api_ops ops;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    silences_init(&x->s);
    x->f = failover_new(600000);
    x->ops =
        (struct api_ops){.silences = &x->s, .failover = x->f, .now_ms = now_ms, .changed = changed};
    changes = 0;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    silences_cleanup(&x->s);
    failover_free(x->f);
    free(x);
    return 0;
}

static json_t *call(int (*fn)(void *, const struct httpd_request *, struct httpd_reply *),
                    struct api_ops *ops, const char *method, const char *path, const char *body,
                    int *status)
{
    struct httpd_request req = {.method = method,
                                .path = path,
                                .body = body ? body : "",
                                .body_len = body ? strlen(body) : 0};
    struct httpd_reply reply = {.status = 200};
    lw_buf_init(&reply.body, 1 << 20);
    assert_int_equal(fn(ops, &req, &reply), 0);
    *status = reply.status;
    json_t *doc = json_loads(lw_buf_str(&reply.body), 0, NULL);
    assert_non_null(doc);
    lw_buf_cleanup(&reply.body);
    return doc;
}

static void test_add_list_and_expire_a_silence(void **state)
{
    struct fx *x = *state;
    int st;
    json_t *r = call(api_ops_silences, &x->ops, "POST", "/api/v1/silences",
                     "{\"matchers\":[\"pipeline=orders\"],\"duration\":\"2h\","
                     "\"createdBy\":\"alice\",\"comment\":\"schema change\"}",
                     &st);
    assert_int_equal(st, 200);
    char id[64];
    strncpy(id, json_string_value(json_object_get(r, "silenceID")), sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '4'); /* UUID v4 */
    json_decref(r);
    assert_int_equal(changes, 1);
    r = call(api_ops_silences, &x->ops, "GET", "/api/v1/silences", NULL, &st);
    json_t *s0 = json_array_get(r, 0);
    assert_string_equal(json_string_value(json_object_get(s0, "status")), "active");
    assert_string_equal(json_string_value(json_object_get(s0, "endsAt")), "2026-11-28T16:30:00Z");
    assert_string_equal(json_string_value(json_array_get(json_object_get(s0, "matchers"), 0)),
                        "pipeline=\"orders\"");
    json_decref(r);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/silences/%s", id);
    r = call(api_ops_silences, &x->ops, "DELETE", path, NULL, &st);
    assert_int_equal(st, 200);
    json_decref(r);
    r = call(api_ops_silences, &x->ops, "DELETE", "/api/v1/silences/nope", NULL, &st);
    assert_int_equal(st, 404);
    json_decref(r);
    r = call(api_ops_silences, &x->ops, "GET", "/api/v1/silences", NULL, &st);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "status")),
                        "expired");
    json_decref(r);
}

static void test_bad_silence_requests_get_400_with_reason(void **state)
{
    struct fx *x = *state;
    int st;
    const char *bad[] = {"not json", "{\"matchers\":[1]}", "{\"matchers\":[\"a=~.*\"]}",
                         "{\"matchers\":[\"a=b\"],\"duration\":\"soon\"}",
                         "{\"matchers\":[\"a=b\"],\"endsAt\":\"yesterday\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *r = call(api_ops_silences, &x->ops, "POST", "/api/v1/silences", bad[i], &st);
        assert_int_equal(st, 400);
        assert_non_null(json_string_value(json_object_get(r, "error")));
        json_decref(r);
    }
    assert_int_equal(x->s.n, 0);
    assert_int_equal(changes, 0);
}

static void test_failover_by_hand(void **state)
{
    struct fx *x = *state;
    int st;
    json_t *r =
        call(api_ops_failover, &x->ops, "POST", "/api/v1/failover/orders-aurora/start", NULL, &st);
    assert_int_equal(st, 200);
    json_decref(r);
    assert_true(failover_held(x->f, "orders-aurora", NOW));
    r = call(api_ops_failover, &x->ops, "GET", "/api/v1/failover", NULL, &st);
    json_t *c = json_array_get(r, 0);
    assert_string_equal(json_string_value(json_object_get(c, "cluster")), "orders-aurora");
    assert_string_equal(json_string_value(json_object_get(c, "phase")), "active");
    assert_true(json_is_true(json_object_get(c, "held")));
    json_decref(r);
    r = call(api_ops_failover, &x->ops, "POST", "/api/v1/failover/orders-aurora/pause", NULL, &st);
    assert_int_equal(st, 400);
    json_decref(r);
    r = call(api_ops_failover, &x->ops, "POST", "/api/v1/failover/orders-aurora/end", NULL, &st);
    assert_int_equal(st, 200);
    json_decref(r);
    assert_true(failover_held(x->f, "orders-aurora", NOW + 599999)); /* the hold runs */
    assert_int_equal(changes, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_list_and_expire_a_silence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_silence_requests_get_400_with_reason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failover_by_hand, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
