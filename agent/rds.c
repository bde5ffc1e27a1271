/*
 * rds.c — DescribeDBClusters and DescribeEvents over the Query protocol; see rds.h. Bodies are
 * form-encoded with libcurl's escaping, answers parsed with libxml2 (no network access, no entity
 * expansion, errors silenced and turned into lw_err with libxml2's line and column). A call that
 * spans several Marker pages keeps the pages' results in one list and reports once. It does not
 * decide what a failover is (failover.c does), it only says what RDS answered.
 */
#include "lagwatch/rds.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagwatch/aws.h"
#include "lagwatch/limits.h"
#include "lagwatch/rfc3339.h"

const char *rds_cluster_writer(const struct rds_cluster *c)
{
    for (size_t i = 0; i < c->n_members; i++)
        if (c->members[i].is_writer)
            return c->members[i].instance_id;
    return NULL;
}

static int add_param(struct lw_buf *b, const char *name, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    if (esc == NULL)
        return -1;
    int rc = lw_buf_addf(b, "&%s=%s", name, esc);
    curl_free(esc);
    return rc;
}

int rds_build_describe_clusters(const char *cluster_id, const char *marker, struct lw_buf *out,
                                struct lw_err *err)
{
    lw_buf_adds(out, "Action=DescribeDBClusters&Version=" RDS_API_VERSION);
    if (cluster_id)
        add_param(out, "DBClusterIdentifier", cluster_id);
    if (marker)
        add_param(out, "Marker", marker);
    return lw_buf_failed(out) ? lw_err_set(err, 0, 0, "DescribeDBClusters body too large") : 0;
}

int rds_build_describe_events(const char *source_id, int64_t since_s, const char *marker,
                              struct lw_buf *out, struct lw_err *err)
{
    char ts[RFC3339_MAX];
    rfc3339_format(since_s * 1000, ts, sizeof ts);
    lw_buf_adds(out, "Action=DescribeEvents&Version=" RDS_API_VERSION
                     "&SourceType=db-cluster&EventCategories.EventCategory.1=failover");
    add_param(out, "StartTime", ts);
    if (source_id)
        add_param(out, "SourceIdentifier", source_id);
    if (marker)
        add_param(out, "Marker", marker);
    return lw_buf_failed(out) ? lw_err_set(err, 0, 0, "DescribeEvents body too large") : 0;
}

static bool is_el(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_el(c, name))
            return c;
    return NULL;
}

/* The text of n's child name as a heap string; NULL when absent (or out of memory). */
static char *child_text(const xmlNode *n, const char *name)
{
    const xmlNode *c = child(n, name);
    if (c == NULL)
        return NULL;
    xmlChar *t = xmlNodeGetContent(c);
    if (t == NULL)
        return NULL;
    size_t len = strlen((const char *)t);
    char *s = malloc(len + 1);
    if (s)
        memcpy(s, t, len + 1);
    xmlFree(t);
    return s;
}

static void ignore_xml_error(void *ud, const char *msg, ...)
{
    (void)ud;
    (void)msg;
}

/* Parse body; on failure set err from libxml2's last error. The caller xmlFreeDoc()s. */
static xmlDoc *read_xml(const char *body, size_t len, const char *root_name, const xmlNode **result,
                        const char *result_name, struct lw_err *err)
{
    if (len > (size_t)INT32_MAX) {
        lw_err_set(err, 0, 0, "RDS answer too large");
        return NULL;
    }
    xmlSetGenericErrorFunc(NULL, ignore_xml_error);
    xmlResetLastError();
    xmlDoc *doc = xmlReadMemory(body, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        const xmlError *e = xmlGetLastError();
        char msg[256] = "not XML";
        if (e && e->message) {
            snprintf(msg, sizeof msg, "%s", e->message);
            size_t n = strlen(msg);
            while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                msg[--n] = '\0';
        }
        lw_err_set(err, e ? e->line : 0, e ? e->int2 : 0, "RDS answer is not well-formed XML: %s",
                   msg);
        return NULL;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_el(root, root_name)) {
        lw_err_set(err, 1, 1, "RDS answer's root element is <%s>, expected <%s>",
                   root ? (const char *)root->name : "", root_name);
        xmlFreeDoc(doc);
        return NULL;
    }
    *result = child(root, result_name);
    if (*result == NULL) {
        lw_err_set(err, root->line, 0, "RDS answer has no <%s>", result_name);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static void cluster_cleanup(struct rds_cluster *c)
{
    free(c->id);
    free(c->status);
    free(c->engine);
    for (size_t i = 0; i < c->n_members; i++)
        free(c->members[i].instance_id);
    free(c->members);
}

void rds_clusters_cleanup(struct rds_clusters *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        cluster_cleanup(&c->v[i]);
    free(c->v);
    free(c->marker);
    memset(c, 0, sizeof *c);
}

static size_t count_children(const xmlNode *n, const char *name)
{
    size_t k = 0;
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        k += is_el(c, name);
    return k;
}

static int parse_cluster(const xmlNode *n, struct rds_cluster *c, struct lw_err *err)
{
    c->id = child_text(n, "DBClusterIdentifier");
    c->status = child_text(n, "Status");
    c->engine = child_text(n, "Engine");
    if (c->id == NULL)
        return lw_err_set(err, n->line, 0, "DBCluster without DBClusterIdentifier");
    const xmlNode *ms = child(n, "DBClusterMembers");
    size_t k = count_children(ms, "DBClusterMember");
    if (k) {
        c->members = calloc(k, sizeof *c->members);
        if (c->members == NULL)
            return lw_err_set(err, 0, 0, "out of memory");
    }
    for (const xmlNode *m = ms ? ms->children : NULL; m; m = m->next) {
        if (!is_el(m, "DBClusterMember"))
            continue;
        struct rds_member *mm = &c->members[c->n_members];
        mm->instance_id = child_text(m, "DBInstanceIdentifier");
        if (mm->instance_id == NULL)
            return lw_err_set(err, m->line, 0,
                              "DBClusterMember of %s without "
                              "DBInstanceIdentifier",
                              c->id);
        char *w = child_text(m, "IsClusterWriter");
        mm->is_writer = w && strcmp(w, "true") == 0;
        free(w);
        c->n_members++;
    }
    return 0;
}

int rds_parse_clusters(const char *body, size_t len, struct rds_clusters *out, struct lw_err *err)
{
    const xmlNode *res = NULL;
    xmlDoc *doc =
        read_xml(body, len, "DescribeDBClustersResponse", &res, "DescribeDBClustersResult", err);
    if (doc == NULL)
        return -1;
    struct rds_clusters r = {0};
    int rc = -1;
    const xmlNode *list = child(res, "DBClusters");
    size_t k = count_children(list, "DBCluster");
    if (k && (r.v = calloc(k, sizeof *r.v)) == NULL) {
        lw_err_set(err, 0, 0, "out of memory");
        goto out;
    }
    for (const xmlNode *n = list ? list->children : NULL; n; n = n->next) {
        if (!is_el(n, "DBCluster"))
            continue;
        r.n++;
        if (parse_cluster(n, &r.v[r.n - 1], err) != 0)
            goto out;
    }
    r.marker = child_text(res, "Marker");
    if (r.marker && r.marker[0] == '\0') {
        free(r.marker);
        r.marker = NULL;
    }
    *out = r;
    memset(&r, 0, sizeof r);
    rc = 0;
out:
    rds_clusters_cleanup(&r);
    xmlFreeDoc(doc);
    return rc;
}

void rds_events_cleanup(struct rds_events *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].source_id);
        free(e->v[i].source_type);
        free(e->v[i].message);
        free(e->v[i].categories);
    }
    free(e->v);
    free(e->marker);
    memset(e, 0, sizeof *e);
}

static char *join_categories(const xmlNode *ev)
{
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    const xmlNode *cats = child(ev, "EventCategories");
    for (const xmlNode *c = cats ? cats->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *t = xmlNodeGetContent(c);
        if (t) {
            if (b.len)
                lw_buf_addc(&b, ',');
            lw_buf_adds(&b, (const char *)t);
            xmlFree(t);
        }
    }
    return lw_buf_take(&b);
}

int rds_parse_events(const char *body, size_t len, struct rds_events *out, struct lw_err *err)
{
    const xmlNode *res = NULL;
    xmlDoc *doc = read_xml(body, len, "DescribeEventsResponse", &res, "DescribeEventsResult", err);
    if (doc == NULL)
        return -1;
    struct rds_events r = {0};
    int rc = -1;
    const xmlNode *list = child(res, "Events");
    size_t k = count_children(list, "Event");
    if (k && (r.v = calloc(k, sizeof *r.v)) == NULL) {
        lw_err_set(err, 0, 0, "out of memory");
        goto out;
    }
    for (const xmlNode *n = list ? list->children : NULL; n; n = n->next) {
        if (!is_el(n, "Event"))
            continue;
        struct rds_event *e = &r.v[r.n++];
        e->source_id = child_text(n, "SourceIdentifier");
        e->source_type = child_text(n, "SourceType");
        e->message = child_text(n, "Message");
        e->categories = join_categories(n);
        char *date = child_text(n, "Date");
        struct lw_err derr = {0};
        int drc = date ? rfc3339_parse(date, strlen(date), &e->t_ms, &derr) : -1;
        free(date);
        if (e->source_id == NULL || e->message == NULL || drc != 0) {
            lw_err_set(err, n->line, 0, "Event without SourceIdentifier, Message or a valid Date");
            goto out;
        }
    }
    r.marker = child_text(res, "Marker");
    if (r.marker && r.marker[0] == '\0') {
        free(r.marker);
        r.marker = NULL;
    }
    *out = r;
    memset(&r, 0, sizeof r);
    rc = 0;
out:
    rds_events_cleanup(&r);
    xmlFreeDoc(doc);
    return rc;
}

/* ---- asynchronous calls --------------------------------------------------------------------*/

struct rds_op {
    struct rds_target t;
    char *endpoint, *region, *id;
    int64_t since_s;
    bool events;
    int pages;
    struct rds_clusters clusters;
    struct rds_events evs;
    rds_clusters_fn clusters_done;
    rds_events_fn events_done;
    void *ud;
};

static void op_free(struct rds_op *op)
{
    free(op->endpoint);
    free(op->region);
    free(op->id);
    rds_clusters_cleanup(&op->clusters);
    rds_events_cleanup(&op->evs);
    free(op);
}

static void op_report(struct rds_op *op, const char *error)
{
    if (op->events)
        op->events_done(op->ud, error ? NULL : &op->evs, error);
    else
        op->clusters_done(op->ud, error ? NULL : &op->clusters, error);
    op_free(op);
}

static int send_page(struct rds_op *op, const char *marker, struct lw_err *err);

/* Append src's items to dst (moving ownership). */
static int merge_clusters(struct rds_clusters *dst, struct rds_clusters *src)
{
    struct rds_cluster *v = realloc(dst->v, (dst->n + src->n + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    if (src->n > 0) /* src->v is NULL for an empty page */
        memcpy(v + dst->n, src->v, src->n * sizeof *v);
    dst->v = v;
    dst->n += src->n;
    free(src->v);
    src->v = NULL;
    src->n = 0;
    return 0;
}

static int merge_events(struct rds_events *dst, struct rds_events *src)
{
    struct rds_event *v = realloc(dst->v, (dst->n + src->n + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    if (src->n > 0) /* src->v is NULL for an empty page */
        memcpy(v + dst->n, src->v, src->n * sizeof *v);
    dst->v = v;
    dst->n += src->n;
    free(src->v);
    src->v = NULL;
    src->n = 0;
    return 0;
}

static void on_page(void *ud, const struct aws_result *res)
{
    struct rds_op *op = ud;
    struct lw_err err = {0};
    char msg[1200];
    if (!res->ok) {
        op_report(op, res->message);
        return;
    }
    const char *marker = NULL;
    struct rds_clusters pc = {0};
    struct rds_events pe = {0};
    int rc = op->events ? rds_parse_events(res->body, res->body_len, &pe, &err)
                        : rds_parse_clusters(res->body, res->body_len, &pc, &err);
    if (rc == 0)
        rc = op->events ? merge_events(&op->evs, &pe) : merge_clusters(&op->clusters, &pc);
    marker = op->events ? pe.marker : pc.marker;
    if (rc != 0) {
        snprintf(msg, sizeof msg, "%s: %s", op->events ? "DescribeEvents" : "DescribeDBClusters",
                 err.msg[0] ? err.msg : "out of memory");
    } else if (marker && ++op->pages >= RDS_MAX_PAGES) {
        snprintf(msg, sizeof msg, "RDS kept returning a Marker after %d pages", RDS_MAX_PAGES);
        rc = -1;
    } else if (marker && send_page(op, marker, &err) != 0) {
        snprintf(msg, sizeof msg, "%s", err.msg);
        rc = -1;
    }
    bool more = rc == 0 && marker != NULL;
    rds_clusters_cleanup(&pc);
    rds_events_cleanup(&pe);
    if (rc != 0)
        op_report(op, msg);
    else if (!more)
        op_report(op, NULL);
}

static int send_page(struct rds_op *op, const char *marker, struct lw_err *err)
{
    struct lw_buf body;
    lw_buf_init(&body, 64 * 1024);
    int rc = op->events ? rds_build_describe_events(op->id, op->since_s, marker, &body, err)
                        : rds_build_describe_clusters(op->id, marker, &body, err);
    if (rc == 0) {
        struct aws_call c = {.endpoint = op->endpoint,
                             .region = op->region,
                             .service = "rds",
                             .iam_action =
                                 op->events ? "rds:DescribeEvents" : "rds:DescribeDBClusters",
                             .protocol = AWS_PROTOCOL_QUERY,
                             .body = lw_buf_str(&body),
                             .body_len = body.len};
        rc = aws_submit(op->t.aws, &c, on_page, op, err);
    }
    lw_buf_cleanup(&body);
    return rc;
}

static char *dup_opt(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static struct rds_op *op_new(const struct rds_target *t, const char *id, struct lw_err *err)
{
    if (t == NULL || t->aws == NULL || t->endpoint == NULL || t->region == NULL) {
        lw_err_set(err, 0, 0, "RDS call needs an AWS client, endpoint and region");
        return NULL;
    }
    struct rds_op *op = calloc(1, sizeof *op);
    if (op == NULL || (op->endpoint = dup_opt(t->endpoint)) == NULL ||
        (op->region = dup_opt(t->region)) == NULL || (id && (op->id = dup_opt(id)) == NULL)) {
        if (op)
            op_free(op);
        lw_err_set(err, 0, 0, "out of memory");
        return NULL;
    }
    op->t = *t;
    return op;
}

int rds_describe_cluster(const struct rds_target *t, const char *cluster_id, rds_clusters_fn done,
                         void *ud, struct lw_err *err)
{
    if (cluster_id == NULL || done == NULL)
        return lw_err_set(err, 0, 0, "DescribeDBClusters needs a cluster and a callback");
    struct rds_op *op = op_new(t, cluster_id, err);
    if (op == NULL)
        return -1;
    op->clusters_done = done;
    op->ud = ud;
    if (send_page(op, NULL, err) != 0) {
        op_free(op);
        return -1;
    }
    return 0;
}

int rds_describe_failover_events(const struct rds_target *t, const char *source_id, int64_t since_s,
                                 rds_events_fn done, void *ud, struct lw_err *err)
{
    if (done == NULL)
        return lw_err_set(err, 0, 0, "DescribeEvents needs a callback");
    struct rds_op *op = op_new(t, source_id, err);
    if (op == NULL)
        return -1;
    op->events = true;
    op->since_s = since_s;
    op->events_done = done;
    op->ud = ud;
    if (send_page(op, NULL, err) != 0) {
        op_free(op);
        return -1;
    }
    return 0;
}
