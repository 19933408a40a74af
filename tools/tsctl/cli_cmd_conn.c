/* cli_cmd_conn.c - connections at a glance: the list (from the database the writer
 * fills, or from Trackstar), one connection in full (integration, supported
 * resources, first-sync state, Trackstar's sync frequency and last crawl, and last
 * success per resource, connection errors), its settings (webhooks_disabled,
 * customer_id), deletion, and the problems list (open connection errors, failing
 * streams). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_cmds.h"
#include "cli_db.h"
#include "cli_http.h"
#include "cli_out.h"
#include "cli_table.h"
#include "entities.h"
#include "kafka.h"
#include "purge.h"

#define TOKEN_MAX 4096      /* longest access token read from stdin */
#define ERRORS_LIMIT "1000" /* rows per problems table */

static int fail(const cli_ctx *ctx, const char *err, int code) {
    cli_errorf(ctx, "%s", err);
    return code;
}

/* ---- list ---- */

static const char sql_list_table[] =
    "SELECT connection_id, integration_name AS integration, customer_id AS customer,"
    " connection_status AS status, resources, failing_resources AS failing, open_errors, "
    "sync_blocked AS blocked,"
    " last_success_at AS last_success, latest_error"
    " FROM sync_overview WHERE $1 = 'all' OR connection_status <> 'deleted'"
    " ORDER BY created_at NULLS LAST, connection_id";
static const char sql_list_json[] =
    "SELECT * FROM sync_overview WHERE $1 = 'all' OR connection_status <> 'deleted'"
    " ORDER BY created_at NULLS LAST, connection_id";

/* Every connection from GET /connections, following next_token. */
static cJSON *api_connections(cli_ctx *ctx, char *err, size_t errlen) {
    cJSON *all = cJSON_CreateArray(), *resp = NULL;
    char *path = NULL;
    const char *next = NULL;
    for (int page = 0; page < CLI_HTTP_MAX_PAGES; page++) {
        free(path);
        path = next ? cli_url_path("/connections?page_token=", next) : strdup("/connections");
        cJSON_Delete(resp);
        resp = NULL;
        if (!path) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if (cli_ts_call(ctx, "GET", path, NULL, &resp, NULL, err, errlen) != 0) goto fail;
        cJSON *data = cJSON_GetObjectItemCaseSensitive(resp, "data"), *c;
        if (!cJSON_IsArray(data)) {
            snprintf(err, errlen, "GET /connections: no data array in the answer");
            goto fail;
        }
        while ((c = cJSON_DetachItemFromArray(data, 0)))
            cJSON_AddItemToArray(all, c);
        next = cli_jstr(resp, "next_token");
        if (!next || !*next) {
            cJSON_Delete(resp);
            free(path);
            return all;
        }
    }
    snprintf(err, errlen, "GET /connections: more than %d pages", CLI_HTTP_MAX_PAGES);
fail:
    free(path);
    cJSON_Delete(resp);
    cJSON_Delete(all);
    return NULL;
}

/* "3/9" first syncs done, from historical_sync_completed or the schedules. */
static void first_sync_summary(const cJSON *c, char *out, size_t len) {
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "historical_sync_completed"), *it;
    int done = 0, total = 0;
    if (cJSON_IsObject(h)) {
        cJSON_ArrayForEach(it, h) {
            total++;
            done += cJSON_IsTrue(it);
        }
    } else {
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c, "sync_schedules")) {
            const char *st = cli_jstr(it, "sync_status");
            total++;
            done += !(st && strcmp(st, "first_sync_in_progress") == 0);
        }
    }
    if (total)
        snprintf(out, len, "%d/%d done", done, total);
    else
        snprintf(out, len, "-");
}

static int list_api(cli_ctx *ctx) {
    char err[1024];
    cJSON *all = api_connections(ctx, err, sizeof err);
    if (!all) return fail(ctx, err, CLI_EXIT_FAIL);
    if (ctx->json) {
        cli_print_json(ctx, all);
        cJSON_Delete(all);
        return CLI_EXIT_OK;
    }
    static const char *const heads[] = {"CONNECTION", "INTEGRATION", "TYPE",       "CUSTOMER",
                                        "CREATED",    "ERRORS",      "FIRST SYNC", "LAST USED"};
    cli_table t;
    if (cli_table_init(&t, 8, heads) != 0) {
        cJSON_Delete(all);
        return fail(ctx, "out of memory", CLI_EXIT_FAIL);
    }
    cli_table_align_right(&t, 5);
    const cJSON *c;
    cJSON_ArrayForEach(c, all) {
        char b1[64], b2[64], fs[32];
        cli_table_row(&t);
        cli_table_cell(&t, 0, cli_jstr(c, "connection_id"));
        cli_table_cell(&t, 1, cli_jstr(c, "integration_name"));
        cli_table_cell(&t, 2, cli_jstr(c, "integration_type"));
        cli_table_cell(&t, 3, cli_jstr(c, "customer_id"));
        const char *cr = cli_jstr(c, "created_at"), *lu = cli_jstr(c, "last_used");
        cli_table_cell(&t, 4, cr ? cli_db_time(cr, b1, sizeof b1) : NULL);
        cli_table_cellf(&t, 5, "%d",
                        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "errors")));
        first_sync_summary(c, fs, sizeof fs);
        cli_table_cell(&t, 6, fs);
        cli_table_cell(&t, 7, lu ? cli_db_time(lu, b2, sizeof b2) : NULL);
    }
    cli_table_render(&t, ctx->out);
    cli_table_free(&t);
    cJSON_Delete(all);
    return CLI_EXIT_OK;
}

int cli_run_conn_list(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    const char *src = CLI_ARGV("source");
    char err[1024];
    if (src && strcmp(src, "api") == 0) return list_api(ctx);
    if (src && strcmp(src, "db") != 0)
        return fail(ctx, "--source: expected db or api", CLI_EXIT_USAGE);
    const char *const p[] = {CLI_ARGV("all") ? "all" : "live"};
    if (cli_db_print(ctx, ctx->json ? sql_list_json : sql_list_table, 1, p, NULL, err,
                     sizeof err) != 0)
        return fail(ctx, err, CLI_EXIT_FAIL);
    return CLI_EXIT_OK;
}

/* ---- show ---- */

static const char sql_conn[] =
    "SELECT connection_id, integration_name, customer_id, status, created_at, deleted_at,"
    " access_token_present FROM connections WHERE connection_id = $1";
static const char sql_resources[] =
    "SELECT coalesce(s.resource, h.resource) AS resource, s.state, s.last_started_at,"
    " s.last_success_at, s.records_seen, s.last_error,"
    " h.source_updated_at AS historical_sync_completed_at, h.oldest_data_date, h.newest_data_date"
    " FROM (SELECT * FROM sync_status WHERE connection_id = $1) s"
    " FULL JOIN (SELECT * FROM historical_syncs WHERE connection_id = $1) h ON h.resource = "
    "s.resource"
    " ORDER BY 1";
static const char sql_errors[] =
    "SELECT error_key, resource, error_message, failed_url, error_type, preventing_sync, active,"
    " created_at, last_seen_at, resolved_at, affected_endpoints"
    " FROM connection_errors WHERE connection_id = $1 ORDER BY active DESC, source_updated_at DESC";

/* GET /connections/{id}: the connection object, whichever envelope the API uses. */
static cJSON *api_connection(cli_ctx *ctx, const char *id, char *err, size_t errlen) {
    char *path = cli_url_path("/connections/", id);
    cJSON *resp = NULL, *c = NULL;
    if (!path) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cli_ts_call(ctx, "GET", path, NULL, &resp, NULL, err, errlen) == 0) {
        cJSON *data = cJSON_GetObjectItemCaseSensitive(resp, "data");
        if (cJSON_IsArray(data))
            c = cJSON_DetachItemFromArray(data, 0);
        else if (cJSON_IsObject(data))
            c = cJSON_DetachItemFromObjectCaseSensitive(resp, "data");
        if (!c) snprintf(err, errlen, "GET %s: no connection in the answer", path);
    }
    cJSON_Delete(resp);
    free(path);
    return c;
}

/* A resource's entry in the merged list (created when missing). */
static cJSON *res_entry(cJSON *list, const char *name) {
    cJSON *it;
    cJSON_ArrayForEach(it, list) {
        const char *n = cli_jstr(it, "resource");
        if (n && strcmp(n, name) == 0) return it;
    }
    it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "resource", name);
    cJSON_AddItemToArray(list, it);
    return it;
}

static int has_string(const cJSON *arr, const char *s) {
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0) return 1;
    return 0;
}

/* One list per resource: the database's sync state and first-sync record, and what
 * Trackstar says (supported, first sync done, schedule status). */
static cJSON *merge_resources(cJSON *db_rows, const cJSON *api) {
    cJSON *out = cJSON_CreateArray(), *row;
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        res_entry(out, ts_entities[r].name);
    cJSON_ArrayForEach(row, db_rows) {
        const char *n = cli_jstr(row, "resource");
        if (!n) continue;
        int k = ts_entity_lookup(n);
        cJSON *e = res_entry(out, k >= 0 ? ts_entities[k].name : n), *f;
        cJSON_ArrayForEach(f, row) {
            if (strcmp(f->string, "resource") == 0) continue;
            cJSON_DeleteItemFromObjectCaseSensitive(e, f->string);
            cJSON_AddItemToObject(e, f->string, cJSON_Duplicate(f, 1));
        }
    }
    if (!api) return out;
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(api, "available_actions");
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(api, "historical_sync_completed");
    const cJSON *scheds = cJSON_GetObjectItemCaseSensitive(api, "sync_schedules");
    cJSON *e;
    cJSON_ArrayForEach(e, out) {
        int k = ts_entity_lookup(cli_jstr(e, "resource"));
        if (k < 0) continue;
        const char *fn = ts_entities[k].function;
        if (cJSON_IsArray(actions)) cJSON_AddBoolToObject(e, "supported", has_string(actions, fn));
        const cJSON *hv = cJSON_GetObjectItemCaseSensitive(hist, fn), *s;
        if (cJSON_IsBool(hv))
            cJSON_AddBoolToObject(e, "trackstar_first_sync_done", cJSON_IsTrue(hv));
        cJSON_ArrayForEach(s, scheds) {
            const char *sf = cli_jstr(s, "function_name");
            if (sf && strcmp(sf, fn) == 0) {
                const char *st = cli_jstr(s, "sync_status");
                if (st) cJSON_AddStringToObject(e, "trackstar_sync_status", st);
                const char *le = cli_jstr(s, "last_crawl_end");
                if (le) cJSON_AddStringToObject(e, "trackstar_last_crawl_end", le);
                const cJSON *fq = cJSON_GetObjectItemCaseSensitive(s, "sync_frequency");
                if (cJSON_IsNumber(fq))
                    cJSON_AddNumberToObject(e, "trackstar_sync_frequency_s", fq->valuedouble);
            }
        }
    }
    return out;
}

static const char *first_sync_text(const cJSON *e, char *buf, size_t len) {
    const char *at = cli_jstr(e, "historical_sync_completed_at");
    char t[64];
    if (at) {
        snprintf(buf, len, "done %s", cli_db_time(at, t, sizeof t));
        return buf;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "trackstar_first_sync_done");
    if (cJSON_IsBool(d)) return cJSON_IsTrue(d) ? "done" : "pending";
    const char *st = cli_jstr(e, "trackstar_sync_status");
    if (st) return strcmp(st, "first_sync_in_progress") == 0 ? "pending" : "done";
    return NULL;
}

static void show_text(cli_ctx *ctx, const char *id, const cJSON *conn, const cJSON *api,
                      const cJSON *res, const cJSON *errs) {
    char b[64], t[64];
    const char *integ = conn ? cli_jstr(conn, "integration_name") : NULL;
    if (!integ && api) integ = cli_jstr(api, "integration_name");
    cli_kv(ctx->out, "connection", id);
    cli_kv(ctx->out, "integration", integ);
    cli_kv(ctx->out, "status", conn ? cli_jstr(conn, "status") : "not in the database");
    const char *cr = conn ? cli_jstr(conn, "created_at") : NULL;
    if (!cr && api) cr = cli_jstr(api, "created_at");
    cli_kv(ctx->out, "created", cr ? cli_db_time(cr, t, sizeof t) : NULL);
    if (conn && cli_jstr(conn, "deleted_at"))
        cli_kv(ctx->out, "deleted", cli_db_time(cli_jstr(conn, "deleted_at"), t, sizeof t));
    const char *cust = conn ? cli_jstr(conn, "customer_id") : NULL;
    if (!cust && api) cust = cli_jstr(api, "customer_id");
    cli_kv(ctx->out, "customer", cust);
    if (api) {
        cli_kv(ctx->out, "webhooks disabled", cli_jtext(api, "webhooks_disabled", b, sizeof b));
    } else {
        cli_kv(ctx->out, "trackstar", "not reachable (supported resources unknown)");
    }
    fputc('\n', ctx->out);
    /* EVERY and LAST CRAWL: how often Trackstar refreshes its copy and when it last did
     * (the fetcher polls after each crawl) */
    static const char *const heads[] = {"RESOURCE",     "SUPPORTED",  "FIRST SYNC",
                                        "EVERY",        "LAST CRAWL", "STATE",
                                        "LAST SUCCESS", "RECORDS",    "LAST ERROR"};
    cli_table tb;
    if (cli_table_init(&tb, 9, heads) == 0) {
        cli_table_align_right(&tb, 3);
        cli_table_align_right(&tb, 7);
        cli_table_width(&tb, 8, 60);
        const cJSON *e;
        cJSON_ArrayForEach(e, res) {
            char fs[96], n[32], every[32], t2[64];
            const char *ls = cli_jstr(e, "last_success_at");
            const char *lc = cli_jstr(e, "trackstar_last_crawl_end");
            const cJSON *fq = cJSON_GetObjectItemCaseSensitive(e, "trackstar_sync_frequency_s");
            cli_table_row(&tb);
            cli_table_cell(&tb, 0, cli_jstr(e, "resource"));
            cli_table_cell(&tb, 1, cli_jtext(e, "supported", b, sizeof b));
            cli_table_cell(&tb, 2, first_sync_text(e, fs, sizeof fs));
            cli_table_cell(&tb, 3,
                           cJSON_IsNumber(fq)
                               ? cli_duration((int64_t)fq->valuedouble, every, sizeof every)
                               : NULL);
            cli_table_cell(&tb, 4, lc ? cli_db_time(lc, t2, sizeof t2) : NULL);
            cli_table_cell(&tb, 5, cli_jstr(e, "state"));
            cli_table_cell(&tb, 6, ls ? cli_db_time(ls, t, sizeof t) : NULL);
            cli_table_cell(&tb, 7, cli_jtext(e, "records_seen", n, sizeof n));
            cli_table_cell(&tb, 8, cli_jstr(e, "last_error"));
        }
        cli_table_render(&tb, ctx->out);
        cli_table_free(&tb);
    }
    fprintf(ctx->out, "\nconnection errors:\n");
    static const char *const eheads[] = {"RESOURCE",   "BLOCKING",  "ACTIVE",
                                         "FIRST SEEN", "LAST SEEN", "MESSAGE"};
    if (cli_table_init(&tb, 6, eheads) == 0) {
        cli_table_width(&tb, 5, 80);
        const cJSON *e;
        cJSON_ArrayForEach(e, errs) {
            char t2[64];
            const char *fs = cli_jstr(e, "created_at"), *ls = cli_jstr(e, "last_seen_at");
            cli_table_row(&tb);
            cli_table_cell(&tb, 0, cli_jstr(e, "resource"));
            cli_table_cell(&tb, 1, cli_jtext(e, "preventing_sync", b, sizeof b));
            cli_table_cell(&tb, 2, cli_jtext(e, "active", b, sizeof b));
            cli_table_cell(&tb, 3, fs ? cli_db_time(fs, t, sizeof t) : NULL);
            cli_table_cell(&tb, 4, ls ? cli_db_time(ls, t2, sizeof t2) : NULL);
            cli_table_cell(&tb, 5, cli_jstr(e, "error_message"));
        }
        cli_table_render(&tb, ctx->out);
        cli_table_free(&tb);
    }
}

int cli_run_conn_show(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    (void)cmd;
    const char *id = a->pos[0];
    const char *const p[] = {id};
    char dberr[1024] = "", apierr[1024] = "";
    cJSON *conns = NULL, *res = NULL, *errs = NULL, *api = NULL, *merged = NULL;
    int rc = CLI_EXIT_FAIL, db_ok = 0;
    if ((conns = cli_db_json(ctx, sql_conn, 1, p, dberr, sizeof dberr)) &&
        (res = cli_db_json(ctx, sql_resources, 1, p, dberr, sizeof dberr)) &&
        (errs = cli_db_json(ctx, sql_errors, 1, p, dberr, sizeof dberr)))
        db_ok = 1;
    api = api_connection(ctx, id, apierr, sizeof apierr);
    if (!db_ok) cli_errorf(ctx, "database: %s", dberr);
    if (!api) cli_errorf(ctx, "trackstar: %s", apierr);
    const cJSON *conn = conns ? cJSON_GetArrayItem(conns, 0) : NULL;
    if (!conn && !api && (!res || cJSON_GetArraySize(res) == 0) &&
        (!errs || cJSON_GetArraySize(errs) == 0)) {
        cli_errorf(ctx, "connection %s: not found", id);
        goto done;
    }
    if (!errs) errs = cJSON_CreateArray();
    merged = merge_resources(res, api);
    if (ctx->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "connection_id", id);
        cJSON_AddItemToObject(o, "connection",
                              conn ? cJSON_Duplicate(conn, 1) : cJSON_CreateNull());
        cJSON_AddItemReferenceToObject(o, "resources", merged);
        cJSON_AddItemReferenceToObject(o, "errors", errs);
        cJSON_AddItemToObject(o, "trackstar", api ? cJSON_Duplicate(api, 1) : cJSON_CreateNull());
        /* the API's connection object carries no token; cli_print_json redacts one anyway */
        cli_print_json(ctx, o);
        cJSON_Delete(o);
    } else {
        show_text(ctx, id, conn, api, merged, errs);
    }
    rc = CLI_EXIT_OK;
done:
    cJSON_Delete(conns);
    cJSON_Delete(res);
    cJSON_Delete(errs);
    cJSON_Delete(api);
    cJSON_Delete(merged);
    return rc;
}

/* ---- settings (PATCH /connections) ---- */

/* The fetcher holds the connection's access token (sealed): it makes the call. */
int cli_run_conn_set(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    const char *wd = CLI_ARGV("webhooks-disabled"), *cust = CLI_ARGV("customer");
    int no_cust = CLI_ARGV("no-customer") != NULL;
    if (!wd && !cust && !no_cust) {
        cli_errorf(ctx, "nothing to set: give --webhooks-disabled, --customer or --no-customer");
        return CLI_EXIT_USAGE;
    }
    if (cust && no_cust) {
        cli_errorf(ctx, "--customer and --no-customer exclude each other");
        return CLI_EXIT_USAGE;
    }
    if (wd && strcmp(wd, "true") != 0 && strcmp(wd, "false") != 0) {
        cli_errorf(ctx, "--webhooks-disabled: expected true or false");
        return CLI_EXIT_USAGE;
    }
    cJSON *body = cJSON_CreateObject(), *r = NULL;
    cJSON_AddStringToObject(body, "connection_id", a->pos[0]);
    if (wd) cJSON_AddBoolToObject(body, "webhooks_disabled", strcmp(wd, "true") == 0);
    if (cust) cJSON_AddStringToObject(body, "customer_id", cust);
    if (no_cust) cJSON_AddNullToObject(body, "customer_id");
    char err[1024];
    int rc = CLI_EXIT_OK;
    if (cli_fetcher_call(ctx, "POST", "/connections/patch", body, &r, NULL, err, sizeof err) != 0) {
        rc = fail(ctx, err, CLI_EXIT_FAIL);
    } else if (ctx->json) {
        cli_print_json(ctx, r);
    } else {
        cli_kv(ctx->out, "connection", a->pos[0]);
        if (wd) cli_kv(ctx->out, "webhooks disabled", wd);
        if (cust || no_cust) cli_kv(ctx->out, "customer", cust ? cust : "(none)");
        cli_kv(ctx->out, "updated", cJSON_IsTrue(cJSON_GetObjectItem(r, "updated")) ? "yes" : "no");
    }
    cJSON_Delete(body);
    cJSON_Delete(r);
    return rc;
}

/* ---- delete ---- */

/* Read the access token from stdin (one line), into a buffer the caller wipes. */
static int read_token(char *buf, size_t len) {
    if (!fgets(buf, (int)len, stdin)) return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return *buf ? 0 : -1;
}

int cli_run_conn_delete(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    const char *id = a->pos[0];
    char err[1024], url[1024];
    if (!CLI_ARGV("yes")) {
        cli_errorf(ctx,
                   "this deletes connection %s in Trackstar (its data stops syncing and its"
                   " token stops working); run again with --yes to do it",
                   id);
        return CLI_EXIT_USAGE;
    }
    if (!CLI_ARGV("token-stdin"))
        return fail(ctx,
                    "DELETE /connections needs the connection's access token: pass it on stdin"
                    " with --token-stdin (it is never printed)",
                    CLI_EXIT_USAGE);
    char *tok = calloc(1, TOKEN_MAX);
    cJSON *resp = NULL;
    cli_http_resp r = {0};
    int rc = CLI_EXIT_FAIL;
    if (!tok || read_token(tok, TOKEN_MAX) != 0) {
        rc = fail(ctx, "--token-stdin: no token on stdin", CLI_EXIT_USAGE);
        goto done;
    }
    if (!ctx->api_key || !*ctx->api_key) {
        rc = fail(ctx, "TRACKSTAR_API_KEY is not set", CLI_EXIT_USAGE);
        goto done;
    }
    snprintf(url, sizeof url, "%s/connections", ctx->base_url);
    cli_http_auth auth = {ctx->api_key, tok, NULL};
    if (cli_http_do("DELETE", url, &auth, NULL, (long)ctx->http_timeout_s, &r, err, sizeof err) !=
        0) {
        rc = fail(ctx, err, CLI_EXIT_FAIL);
        goto done;
    }
    resp = cJSON_ParseWithLength(r.body, r.len);
    if (r.status < 200 || r.status > 299) {
        cli_errorf(ctx, "DELETE /connections: HTTP %ld: %s", r.status,
                   cli_jstr(resp, "error") ? cli_jstr(resp, "error") : "no message");
        goto done;
    }
    const char *deleted_id = cli_jstr(resp, "id");
    if (!deleted_id || strcmp(deleted_id, id) != 0) {
        /* the token selects the connection: refuse to report success for another one */
        cli_errorf(ctx, "the token belongs to connection %s, not %s", deleted_id ? deleted_id : "?",
                   id);
        goto done;
    }
    if (ctx->json)
        cli_print_json(ctx, resp);
    else
        fprintf(ctx->out,
                "connection %s deleted in Trackstar; its connection.deleted event will"
                " stop the fetcher and mark it deleted in the database\n",
                id);
    rc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "deleted")) ? CLI_EXIT_OK
                                                                         : CLI_EXIT_FAIL;
done:
    if (tok) memset(tok, 0, TOKEN_MAX);
    free(tok);
    cJSON_Delete(resp);
    cli_http_resp_free(&r);
    return rc;
}

/* ---- problems ---- */

static const char sql_conn_errors[] =
    "SELECT connection_id, resource, preventing_sync AS blocking, active,"
    " created_at AS first_seen, last_seen_at AS last_seen, resolved_at, error_message"
    " FROM connection_errors WHERE ($1::text IS NULL OR connection_id = $1) AND ($2 = 'all' OR "
    "active)"
    " ORDER BY active DESC, source_updated_at DESC LIMIT " ERRORS_LIMIT;
/* A stream is failing when the fetcher says so, or its last run left an error. A stream
 * that is unsupported because the connection lacks the function (not in its
 * available_actions: the integration has no such endpoint, or Trackstar enables it only
 * on request, as the inventory ledger) is no problem: nothing failed, and every
 * connection without the ledger would fail --check. One a 501 made unsupported carries
 * its error in last_error and is listed. */
static const char sql_failing[] =
    "SELECT connection_id, resource, state, last_started_at AS last_started,"
    " last_success_at AS last_success, last_error"
    " FROM sync_status WHERE ($1::text IS NULL OR connection_id = $1)"
    " AND (state IN ('failed', 'blocked') OR coalesce(last_error, '') <> '')"
    " ORDER BY connection_id, resource LIMIT " ERRORS_LIMIT;

int cli_run_errors(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    const char *const p2[] = {a->npos ? a->pos[0] : NULL, CLI_ARGV("all") ? "all" : "open"};
    char err[1024];
    int n_err = 0, n_fail = 0, rc = CLI_EXIT_FAIL;
    if (ctx->json) {
        cJSON *e = cli_db_json(ctx, sql_conn_errors, 2, p2, err, sizeof err), *f = NULL;
        if (e) f = cli_db_json(ctx, sql_failing, 1, p2, err, sizeof err);
        if (e && f) {
            cJSON *o = cJSON_CreateObject();
            n_err = cJSON_GetArraySize(e);
            n_fail = cJSON_GetArraySize(f);
            cJSON_AddItemToObject(o, "connection_errors", e);
            cJSON_AddItemToObject(o, "failing_streams", f);
            cli_print_json(ctx, o);
            cJSON_Delete(o);
            rc = CLI_EXIT_OK;
        } else {
            cJSON_Delete(e);
            cli_errorf(ctx, "%s", err);
        }
    } else {
        fprintf(ctx->out, "connection errors%s:\n", CLI_ARGV("all") ? "" : " (open)");
        if (cli_db_print(ctx, sql_conn_errors, 2, p2, &n_err, err, sizeof err) == 0) {
            fprintf(ctx->out, "\nfailing streams:\n");
            if (cli_db_print(ctx, sql_failing, 1, p2, &n_fail, err, sizeof err) == 0)
                rc = CLI_EXIT_OK;
        }
        if (rc != CLI_EXIT_OK) cli_errorf(ctx, "%s", err);
    }
    /* --check: for monitors, any open problem is a failure. */
    if (rc == CLI_EXIT_OK && CLI_ARGV("check") && (n_err > 0 || n_fail > 0)) rc = CLI_EXIT_FAIL;
    return rc;
}

/* ---- purge ---- */

static void purge_say(void *arg, const char *what) {
    cli_ctx *ctx = arg;
    if (!ctx->json) fprintf(stderr, "tsctl: %s\n", what);
}

/* 1 when the operator typed the connection id on the terminal. */
static int confirmed(const char *id) {
    if (!isatty(STDIN_FILENO)) return 0;
    char line[1024];
    fprintf(stderr,
            "This removes every row of connection %s and its records from Kafka for good.\n"
            "Type the connection id to confirm: ",
            id);
    if (!fgets(line, sizeof line, stdin)) return 0;
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, id) == 0;
}

int cli_run_conn_purge(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    (void)cmd;
    const char *id = a->pos[0];
    char err[1024];
    if (!CLI_ARGV("yes") && !confirmed(id)) {
        cli_errorf(ctx, "not confirmed: run again on a terminal, or with --yes");
        return CLI_EXIT_USAGE;
    }
    PGconn *db = cli_db_get(ctx, err, sizeof err);
    if (!db) return fail(ctx, err, CLI_EXIT_FAIL);
    rd_kafka_t *p = kafka_producer_new(ctx->kafka_bootstrap, "tsctl-purge", NULL, ctx->kafka_props,
                                       kafka_delivery_cb, NULL, err, sizeof err);
    if (!p) return fail(ctx, err, CLI_EXIT_USAGE);
    purge_report rep;
    int rc = purge_connection(db, p, ctx->kafka_bootstrap, ctx->kafka_props, ctx->topic_prefix, id,
                              CLI_ARGV("force") != NULL, purge_say, ctx, &rep, err, sizeof err);
    rd_kafka_destroy(p);
    if (rc != 0) return fail(ctx, err, CLI_EXIT_FAIL);
    if (ctx->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "connection_id", id);
        cJSON_AddNumberToObject(o, "rows_deleted", (double)rep.rows);
        cJSON_AddNumberToObject(o, "tables", rep.tables);
        cJSON_AddNumberToObject(o, "tombstones", (double)rep.tombstones);
        cJSON_AddNumberToObject(o, "topics_read", rep.topics);
        cli_print_json(ctx, o);
        cJSON_Delete(o);
    } else {
        fprintf(ctx->out,
                "connection %s purged: %lld rows from %d tables, %lld tombstones on %d topics\n",
                id, rep.rows, rep.tables, rep.tombstones, rep.topics);
    }
    return CLI_EXIT_OK;
}
