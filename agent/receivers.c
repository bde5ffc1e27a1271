/*
 * receivers.c — cleanup and lookup of receiver configs (see receivers.h).
 */
#include "lagwatch/receivers.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/template.h"

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void receivers_cleanup(struct receivers *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct receiver_config *c = &r->v[i];
        free(c->name);
        for (size_t k = 0; k < c->n_slack; k++) {
            wipe_free(c->slack[k].api_url);
            free(c->slack[k].channel);
            free(c->slack[k].username);
            free(c->slack[k].title);
            free(c->slack[k].text);
            tmpl_free(c->slack[k].title_tmpl);
            tmpl_free(c->slack[k].text_tmpl);
        }
        free(c->slack);
        for (size_t k = 0; k < c->n_pagerduty; k++) {
            wipe_free(c->pagerduty[k].routing_key);
            free(c->pagerduty[k].url);
            free(c->pagerduty[k].client);
            free(c->pagerduty[k].client_url);
            free(c->pagerduty[k].summary);
            free(c->pagerduty[k].description);
            tmpl_free(c->pagerduty[k].summary_tmpl);
            tmpl_free(c->pagerduty[k].description_tmpl);
        }
        free(c->pagerduty);
        for (size_t k = 0; k < c->n_webhook; k++) {
            wipe_free(c->webhook[k].url);
            wipe_free(c->webhook[k].bearer_token);
            free(c->webhook[k].basic_user);
            wipe_free(c->webhook[k].basic_password);
        }
        free(c->webhook);
        for (size_t k = 0; k < c->n_alertmanager; k++) {
            for (size_t u = 0; u < c->alertmanager[k].n_urls; u++)
                free(c->alertmanager[k].urls[u]);
            free(c->alertmanager[k].urls);
        }
        free(c->alertmanager);
    }
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

const struct receiver_config *receivers_find(const struct receivers *r, const char *name)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (strcmp(r->v[i].name, name) == 0)
            return &r->v[i];
    return NULL;
}
