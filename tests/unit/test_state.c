/* test_state.c — state_dir persistence: round trips, versions, collections, every kind of
 * corrupt file moved aside (never a crash), temp files of an interrupted write cleaned up, and a
 * writer killed with SIGKILL mid-write leaving either the old or the new document. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lagwatch/state.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lagwatch-state-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct state *open_ok(void)
{
    struct state *s = NULL;
    struct lw_err err = {0};
    if (state_open(dir, &s, &err) != 0)
        fail_msg("state_open: %s", err.msg);
    return s;
}

static void write_ok(struct state *s, const char *name, int schema, const char *json)
{
    struct lw_err err = {0};
    if (state_write(s, name, schema, json, strlen(json), &err) != 0)
        fail_msg("state_write %s: %s", name, err.msg);
}

static void put_raw(const char *name, const char *content, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, len, f), len);
    fclose(f);
}

static size_t count_matching(const char *sub, const char *needle)
{
    char path[256];
    snprintf(path, sizeof path, "%s%s%s", dir, sub[0] ? "/" : "", sub);
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, needle))
            n++;
    closedir(d);
    return n;
}

static void test_round_trip_keeps_text_and_schema(void **state)
{
    (void)state;
    struct state *s = open_ok();
    write_ok(s, "alerts", 3, "{\"alerts\":[1,2,3]}");
    char *json = NULL;
    size_t len = 0;
    int schema = 0;
    struct lw_err err = {0};
    assert_int_equal(state_read(s, "alerts", &json, &len, &schema, &err), STATE_READ_OK);
    assert_string_equal(json, "{\"alerts\":[1,2,3]}");
    assert_int_equal(len, strlen(json));
    assert_int_equal(schema, 3);
    free(json);
    /* Overwrite replaces whole. */
    write_ok(s, "alerts", 4, "[]");
    assert_int_equal(state_read(s, "alerts", &json, &len, &schema, &err), STATE_READ_OK);
    assert_string_equal(json, "[]");
    assert_int_equal(schema, 4);
    free(json);
    assert_int_equal(count_matching("", ".tmp-"), 0);
    state_close(s);
}

static void test_absent_name_is_absent_not_an_error(void **state)
{
    (void)state;
    struct state *s = open_ok();
    char *json = (char *)0x1;
    size_t len = 0;
    int schema = 0;
    struct lw_err err = {0};
    assert_int_equal(state_read(s, "never-written", &json, &len, &schema, &err), STATE_READ_ABSENT);
    assert_ptr_equal(json, (char *)0x1);
    state_close(s);
}

static void test_names_are_checked(void **state)
{
    (void)state;
    assert_true(state_name_ok("alerts"));
    assert_true(state_name_ok("outbox/1700000000000-42"));
    assert_false(state_name_ok(""));
    assert_false(state_name_ok("../etc/passwd"));
    assert_false(state_name_ok("a/b/c"));
    assert_false(state_name_ok(".hidden"));
    assert_false(state_name_ok("a b"));
    assert_false(state_name_ok("x.tmp-1"));
    struct state *s = open_ok();
    struct lw_err err = {0};
    assert_int_equal(state_write(s, "../escape", 1, "{}", 2, &err), -1);
    assert_non_null(strstr(err.msg, "invalid state name"));
    state_close(s);
}

static void test_non_json_refused_on_write(void **state)
{
    (void)state;
    struct state *s = open_ok();
    struct lw_err err = {0};
    assert_int_equal(state_write(s, "silences", 1, "{oops", 5, &err), -1);
    assert_non_null(strstr(err.msg, "not JSON"));
    char *json = NULL;
    size_t len;
    int schema;
    assert_int_equal(state_read(s, "silences", &json, &len, &schema, &err), STATE_READ_ABSENT);
    state_close(s);
}

/* Write a good file, damage it with f, and expect CORRUPT with why in the message, the file
 * moved aside, and the name then absent. */
static void expect_corrupt(const char *name, const char *content, size_t len, const char *why)
{
    struct state *s = open_ok();
    char file[128];
    snprintf(file, sizeof file, "%s.json", name);
    put_raw(file, content, len);
    char *json = NULL;
    size_t jlen = 0;
    int schema = 0;
    struct lw_err err = {0};
    assert_int_equal(state_read(s, name, &json, &jlen, &schema, &err), STATE_READ_CORRUPT);
    assert_null(json);
    if (strstr(err.msg, why) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", name, err.msg, why);
    assert_non_null(strstr(err.msg, "moved aside"));
    assert_non_null(strstr(err.file, file));
    char aside[160];
    snprintf(aside, sizeof aside, "%s.corrupt-", file);
    assert_int_equal(count_matching("", aside), 1);
    assert_int_equal(state_read(s, name, &json, &jlen, &schema, &err), STATE_READ_ABSENT);
    /* A fresh write works after that. */
    write_ok(s, name, 1, "{}");
    assert_int_equal(state_read(s, name, &json, &jlen, &schema, &err), STATE_READ_OK);
    free(json);
    state_close(s);
}

static void test_corrupt_files_are_reported_and_moved_aside(void **state)
{
    (void)state;
    static const char empty_sum[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    char buf[512];
    expect_corrupt("c_empty", "", 0, "no header line");
    expect_corrupt("c_garbage", "\x00\x01\x02garbage\n{}", 13, "bad header line");
    snprintf(buf, sizeof buf, "lagwatch-state 1 c_trunc 1 10 %s\n{\"a\":", empty_sum);
    expect_corrupt("c_trunc", buf, strlen(buf), "truncated");
    snprintf(buf, sizeof buf, "lagwatch-state 1 c_sum 1 2 %s\n{}", empty_sum);
    expect_corrupt("c_sum", buf, strlen(buf), "checksum mismatch");
    snprintf(buf, sizeof buf, "lagwatch-state 9 c_new 1 0 %s\n", empty_sum);
    expect_corrupt("c_new", buf, strlen(buf), "newer lagwatch");
    snprintf(buf, sizeof buf, "lagwatch-state 1 other 1 0 %s\n", empty_sum);
    expect_corrupt("c_name", buf, strlen(buf), "header names 'other'");
    /* Valid checksum over text that is not JSON (the checksum of the empty string). */
    snprintf(buf, sizeof buf, "lagwatch-state 1 c_json 1 0 %s\n", empty_sum);
    expect_corrupt("c_json", buf, strlen(buf), "not JSON");
}

static void test_bit_flip_in_a_written_file_is_caught(void **state)
{
    (void)state;
    struct state *s = open_ok();
    write_ok(s, "nflog", 1, "{\"entries\":[\"aaaa\"]}");
    char path[256];
    snprintf(path, sizeof path, "%s/nflog.json", dir);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, -4, SEEK_END);
    fputc('b', f);
    fclose(f);
    char *json = NULL;
    size_t len;
    int schema;
    struct lw_err err = {0};
    assert_int_equal(state_read(s, "nflog", &json, &len, &schema, &err), STATE_READ_CORRUPT);
    assert_non_null(strstr(err.msg, "checksum"));
    state_close(s);
}

static void test_directory_in_place_of_file_is_corrupt_not_a_crash(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/failover.json", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    struct state *s = open_ok();
    char *json = NULL;
    size_t len;
    int schema;
    struct lw_err err = {0};
    assert_int_equal(state_read(s, "failover", &json, &len, &schema, &err), STATE_READ_CORRUPT);
    assert_non_null(strstr(err.msg, "not a regular file"));
    state_close(s);
}

static void test_leftover_temp_files_removed_on_open(void **state)
{
    (void)state;
    struct state *s = open_ok();
    write_ok(s, "alerts", 1, "{\"v\":\"old\"}");
    write_ok(s, "outbox/1", 1, "{}");
    state_close(s);
    /* What a crash between create and rename leaves: a partial temp next to the old file. */
    put_raw(".alerts.json.tmp-12345", "lagwatch-state 1 alerts 1 99 abc\n{\"v\":\"ne", 41);
    put_raw("outbox/.2.json.tmp-777", "partial", 7);
    assert_int_equal(count_matching("", ".tmp-"), 1);
    s = open_ok();
    assert_int_equal(count_matching("", ".tmp-"), 0);
    assert_int_equal(count_matching("outbox", ".tmp-"), 0);
    char *json = NULL;
    size_t len;
    int schema;
    struct lw_err err = {0};
    assert_int_equal(state_read(s, "alerts", &json, &len, &schema, &err), STATE_READ_OK);
    assert_string_equal(json, "{\"v\":\"old\"}");
    free(json);
    state_close(s);
}

struct listed {
    char ids[8][32];
    int n, corrupt;
};

static int on_item(void *ud, const char *id, const char *json, size_t len, int schema)
{
    struct listed *l = ud;
    (void)json;
    (void)len;
    (void)schema;
    snprintf(l->ids[l->n++], sizeof l->ids[0], "%s", id);
    return 0;
}

static void on_corrupt(void *ud, const struct lw_err *what)
{
    struct listed *l = ud;
    assert_non_null(strstr(what->msg, "corrupt"));
    l->corrupt++;
}

static void test_collections_list_sorted_skip_corrupt_and_delete(void **state)
{
    (void)state;
    struct state *s = open_ok();
    write_ok(s, "outbox/b", 1, "{\"n\":2}");
    write_ok(s, "outbox/a", 1, "{\"n\":1}");
    write_ok(s, "outbox/c", 1, "{\"n\":3}");
    put_raw("outbox/bad.json", "junk", 4);
    struct listed l = {0};
    struct lw_err err = {0};
    assert_int_equal(state_list(s, "outbox", on_item, on_corrupt, &l, &err), 3);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.ids[0], "a");
    assert_string_equal(l.ids[2], "c");
    assert_int_equal(l.corrupt, 1);
    assert_int_equal(state_delete(s, "outbox/b", &err), 0);
    assert_int_equal(state_delete(s, "outbox/b", &err), 0); /* absent is fine */
    memset(&l, 0, sizeof l);
    assert_int_equal(state_list(s, "outbox", on_item, NULL, &l, &err), 2);
    memset(&l, 0, sizeof l);
    assert_int_equal(state_list(s, "nothing", on_item, NULL, &l, &err), 0);
    state_close(s);
}

static void test_open_refuses_a_file_as_state_dir(void **state)
{
    (void)state;
    put_raw("plainfile", "x", 1);
    char path[256];
    snprintf(path, sizeof path, "%s/plainfile", dir);
    struct state *s = NULL;
    struct lw_err err = {0};
    assert_int_equal(state_open(path, &s, &err), -1);
    assert_null(s);
    /* And creates missing parents. */
    snprintf(path, sizeof path, "%s/deep/er/state", dir);
    assert_int_equal(state_open(path, &s, &err), 0);
    state_close(s);
}

/* A child rewrites one document over and over (each version ~1 MB, all digits the same) and is
 * killed with SIGKILL at some point; whatever is on disk then must read back as one complete
 * version, and open must clean the temp file the kill may have left. */
static void test_kill_9_mid_write_leaves_old_or_new(void **state)
{
    (void)state;
    const size_t body = 1u << 20;
    for (int round = 0; round < 5; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct state *s = NULL;
            if (state_open(dir, &s, NULL) != 0)
                _exit(2);
            char *json = malloc(body + 3);
            for (int v = 0;; v = (v + 1) % 10) {
                json[0] = '"';
                memset(json + 1, '0' + v, body);
                json[body + 1] = '"';
                json[body + 2] = '\0';
                if (state_write(s, "crashy", v, json, body + 2, NULL) != 0)
                    _exit(3);
            }
        }
        struct timespec ts = {0, (long)(20 + 37 * round) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        struct state *s = open_ok();
        assert_int_equal(count_matching("", ".tmp-"), 0);
        char *json = NULL;
        size_t len = 0;
        int schema = -1;
        struct lw_err err = {0};
        enum state_read_result r = state_read(s, "crashy", &json, &len, &schema, &err);
        if (r == STATE_READ_CORRUPT)
            fail_msg("round %d: %s", round, err.msg);
        if (r == STATE_READ_OK) {
            assert_int_equal(len, body + 2);
            for (size_t i = 1; i <= body; i++)
                if (json[i] != '0' + schema)
                    fail_msg("round %d: mixed content at %zu", round, i);
            free(json);
        }
        state_close(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_keeps_text_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_name_is_absent_not_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_json_refused_on_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_files_are_reported_and_moved_aside, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bit_flip_in_a_written_file_is_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_in_place_of_file_is_corrupt_not_a_crash,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftover_temp_files_removed_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collections_list_sorted_skip_corrupt_and_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_a_file_as_state_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_9_mid_write_leaves_old_or_new, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
