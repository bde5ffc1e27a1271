/*
 * notify_deliver_driver.c — test-only harness for delivery: decodes route and receivers from a
 * YAML file, puts the alerts of a JSON file through the dispatcher (group_wait applies as
 * configured), queues notifications in the outbox and sends them through the real HTTP client
 * until the outbox is empty or the deadline passes. With a state directory, outbox items are
 * persisted one file per item (fsync'd) and restored at start, so a killed run can be resumed.
 * Prints one JSON line with the notifier's counters and what is left in the outbox.
 *   notify_deliver_driver CONFIG.yml ALERTS.json DEADLINE_MS [STATE_DIR] [TIMEOUT_MS] [am-push]
 * With am-push the alerts are instead pushed once to the receivers' Alertmanager integrations
 * (notifier_push_alertmanager, as the daemon does) and the driver waits for the answers.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lagwatch/log.h"
#include "lagwatch/notify.h"
#include "lagwatch/notify_config.h"
#include "lagwatch/rfc3339.h"

static const char *state_dir;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int put(void *ud, const char *id, const char *json)
{
    (void)ud;
    if (!state_dir)
        return 0;
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", state_dir, id);
    snprintf(path, sizeof(path), "%s/%s.json", state_dir, id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    size_t len = strlen(json);
    int ok = write(fd, json, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    return ok && rename(tmp, path) == 0 ? 0 : -1;
}

static void del(void *ud, const char *id)
{
    (void)ud;
    if (!state_dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.json", state_dir, id);
    unlink(path);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[*len] = '\0';
    return buf;
}

static void restore(struct outbox *o)
{
    DIR *dir = opendir(state_dir);
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0 || e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", state_dir, e->d_name);
        size_t len;
        char *buf = slurp(path, &len);
        struct lw_err err = {0};
        if (buf && outbox_restore(o, buf, len, &err) != 0)
            fprintf(stderr, "restore %s: %s\n", path, err.msg);
        free(buf);
    }
    if (dir)
        closedir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: notify_deliver_driver CONFIG.yml ALERTS.json DEADLINE_MS "
                        "[STATE_DIR] [TIMEOUT_MS]\n");
        return 2;
    }
    state_dir = argc > 4 && argv[4][0] ? argv[4] : NULL;
    size_t len;
    char *buf = slurp(argv[1], &len);
    struct yamldoc *d;
    struct lw_err err = {0};
    struct notify_config nc;
    if (!buf || yamldoc_parse(buf, len, argv[1], &d, &err) != 0 ||
        notify_config_decode(d, yamldoc_map_get(d->root, "route"),
                             yamldoc_map_get(d->root, "receivers"), NULL, NULL, ".", &nc,
                             &err) != 0) {
        fprintf(stderr, "driver: %s:%d:%d: %s\n", argv[1], err.line, err.col, err.msg);
        return 2;
    }
    struct http_client *http = http_client_new(NULL, &err);
    struct outbox_hooks hooks = {.put = put, .del = del};
    struct outbox *ob = outbox_new(&hooks, 0);
    struct notifier *nt = notifier_new(http, ob, &nc.receivers, "http://lagwatch.test:9741");
    if (argc > 5)
        notifier_set_timeout_ms(nt, strtol(argv[5], NULL, 10));
    if (state_dir)
        restore(ob);
    struct dispatch_options dopts = {.root = nc.route};
    struct dispatch *dp = dispatch_new(&dopts);
    json_t *alerts = json_load_file(argv[2], 0, NULL);
    int64_t start = now_ms();
    bool am_push = argc > 6 && strcmp(argv[6], "am-push") == 0;
    struct dispatch_alert pushed[64];
    const struct dispatch_alert *push_ptrs[64];
    size_t n_pushed = 0;
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        struct dispatch_alert da = {0};
        lw_labels_init(&da.labels);
        lw_labels_init(&da.annotations);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(a, "labels"), k, v)
        {
            if (lw_labels_set(&da.labels, k, json_string_value(v)) != 0)
                return 2;
        }
        json_object_foreach(json_object_get(a, "annotations"), k, v)
        {
            if (lw_labels_set(&da.annotations, k, json_string_value(v)) != 0)
                return 2;
        }
        da.starts_at_ms = start - 3600 * 1000;
        if (json_is_true(json_object_get(a, "resolved")))
            da.ends_at_ms = start - 1000;
        if (am_push && n_pushed < 64) {
            da.generator_url = "http://lagwatch.test:9741/graph";
            push_ptrs[n_pushed] = &pushed[n_pushed];
            pushed[n_pushed++] = da;
            continue;
        }
        if (dispatch_put(dp, &da, start, &err) != 0)
            return 2;
        lw_labels_cleanup(&da.labels);
        lw_labels_cleanup(&da.annotations);
    }
    if (am_push) {
        notifier_push_alertmanager(nt, nc.route, push_ptrs, n_pushed, start);
        int64_t deadline = start + strtol(argv[3], NULL, 10);
        while (http_client_pending(http) > 0 && now_ms() < deadline)
            if (http_client_poll(http, 100) != 0)
                return 2;
        for (size_t k = 0; k < n_pushed; k++) {
            lw_labels_cleanup(&pushed[k].labels);
            lw_labels_cleanup(&pushed[k].annotations);
        }
    }
    /* On a resumed run the dispatcher has no log here: the test only resumes with no alerts. */
    int64_t deadline = start + strtol(argv[3], NULL, 10);
    while (now_ms() < deadline) {
        int64_t now = now_ms();
        if (dispatch_flush_due(dp, now, notifier_emit, nt) < 0)
            return 2;
        notifier_pump(nt, now);
        if (outbox_len(ob) == 0 && http_client_pending(http) == 0 && dispatch_group_count(dp) == 0)
            break;
        int64_t next = outbox_next_due_ms(ob);
        int wait = next <= now ? 10 : next - now > 100 ? 100 : (int)(next - now);
        if (http_client_poll(http, wait) != 0)
            return 2;
    }
    const struct notifier_stats *st = notifier_stats(nt);
    printf("{\"sent\":%llu,\"failed\":%llu,\"dropped\":%llu,\"retried\":%llu,\"queued\":%zu}\n",
           (unsigned long long)st->sent, (unsigned long long)st->failed,
           (unsigned long long)st->dropped, (unsigned long long)st->retried, outbox_len(ob));
    json_decref(alerts);
    dispatch_free(dp);
    notifier_free(nt);
    http_client_free(http);
    outbox_free(ob);
    notify_config_cleanup(&nc);
    yamldoc_free(d);
    free(buf);
    return 0;
}
