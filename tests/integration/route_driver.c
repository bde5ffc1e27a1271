/*
 * route_driver.c — test-only bridge for the amtool differential test: loads the route and
 * receivers of a YAML file with lagwatch's decoder, then for every line of stdin (labels as
 * name=value words) prints the receivers the alert is routed to, comma-separated, as
 * `amtool config routes test` prints them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/notify_config.h"

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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: route_driver CONFIG.yml < labelsets\n");
        return 2;
    }
    size_t len;
    char *buf = slurp(argv[1], &len);
    struct yamldoc *d;
    struct lw_err err = {0};
    if (!buf || yamldoc_parse(buf, len, argv[1], &d, &err) != 0) {
        fprintf(stderr, "route_driver: %s:%d:%d: %s\n", argv[1], err.line, err.col, err.msg);
        return 2;
    }
    struct notify_config nc;
    if (notify_config_decode(d, yamldoc_map_get(d->root, "route"),
                             yamldoc_map_get(d->root, "receivers"), NULL,
                             yamldoc_map_get(d->root, "time_intervals"), ".", &nc, &err) != 0) {
        fprintf(stderr, "route_driver: %s:%d:%d: %s\n", err.file, err.line, err.col, err.msg);
        return 2;
    }
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        struct lw_labels ls;
        lw_labels_init(&ls);
        char *save = NULL;
        for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
            char *eq = strchr(w, '=');
            if (eq && lw_labels_setn(&ls, w, (size_t)(eq - w), eq + 1, strlen(eq + 1)) != 0)
                return 2;
        }
        const struct route *out[64];
        size_t n = route_match(nc.route, &ls, out, 64);
        for (size_t i = 0; i < n && i < 64; i++)
            printf("%s%s", i ? "," : "", out[i]->receiver);
        printf("\n");
        lw_labels_cleanup(&ls);
    }
    notify_config_cleanup(&nc);
    yamldoc_free(d);
    free(buf);
    return 0;
}
