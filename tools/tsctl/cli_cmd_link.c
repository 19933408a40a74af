/* cli_cmd_link.c - connecting customers: link tokens (with the Trackstar Link options
 * that limit the integrations shown), reinstalls, the auth-code exchange (carried out
 * by the fetcher, which stores the access token encrypted: tsctl never sees it), and
 * magic links. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_args.h"
#include "cli_cmds.h"
#include "cli_db.h"
#include "cli_http.h"
#include "cli_out.h"
#include "cli_table.h"
#include "entities.h"
#include "util.h"

/* What the pipeline needs from every integration: without these the warehouse is
 * of little use to us, so by default Link offers only integrations that have them. */
#define LINK_DEFAULT_ENDPOINTS "get_orders,get_inventory,get_products"
#define MAGIC_DAYS_MAX 365
#define EXCHANGE_WAIT_DEFAULT_S 60
#define EXCHANGE_WAIT_MAX_S 3600
#define WAIT_POLL_MS 500

/* The endpoint names Trackstar Link accepts (react-trackstar-link AllowedEndpoints). */
static const char *const link_endpoints[] = {"get_inventory",
                                             "get_products",
                                             "create_product",
                                             "update_product",
                                             "get_inbound_shipment",
                                             "create_inbound_shipment",
                                             "update_inbound_shipment",
                                             "get_orders",
                                             "create_order",
                                             "update_order",
                                             "create_kit",
                                             "update_kit",
                                             "get_returns",
                                             "create_return",
                                             "update_return",
                                             "get_shipping_methods",
                                             "get_bills",
                                             "get_warehouses",
                                             "get_warehouse_customers",
                                             "get_labor_activities",
                                             NULL};

/* A Link endpoint name as it is; any other name of an entity (orders, get_orders, ...)
 * as the Link endpoint of the same entity: Link's names can differ from the API's
 * (get_inbound_shipment; the registry lists it among the entity's names). */
static const char *endpoint_name(const char *s) {
    for (int i = 0; link_endpoints[i]; i++)
        if (strcmp(s, link_endpoints[i]) == 0) return link_endpoints[i];
    int e = ts_entity_lookup(s);
    for (int i = 0; e >= 0 && link_endpoints[i]; i++)
        if (strncmp(link_endpoints[i], "get_", 4) == 0 && ts_entity_lookup(link_endpoints[i]) == e)
            return link_endpoints[i];
    return NULL;
}

/* A comma list into a JSON array; endpoints are checked and mapped. */
static cJSON *list_json(const char *csv, int endpoints, char *errstr, size_t errlen) {
    char buf[2048];
    const char *items[CLI_MAX_LIST];
    int n = cli_split_list(csv, buf, sizeof buf, items, CLI_MAX_LIST, errstr, errlen);
    if (n < 0) return NULL;
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        const char *v = items[i];
        if (endpoints && !(v = endpoint_name(items[i]))) {
            snprintf(errstr, errlen,
                     "'%s' is not an endpoint Trackstar Link knows (e.g. "
                     "get_orders, get_inventory, get_products, get_returns, get_bills)",
                     items[i]);
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, cJSON_CreateString(v));
    }
    if (!a) snprintf(errstr, errlen, "out of memory");
    return a;
}

typedef struct filter_opts {
    const char *allow, *block, *endpoints, *type;
} filter_opts;

/* The integration filters, shared by link tokens and magic links. Adds
 * allow/block/endpoints arrays to o under the given key names. Mirrors Link's rule:
 * an allow list excludes the other two (Link would silently show everything). */
static int add_filters(cJSON *o, const filter_opts *f, const char *k_allow, const char *k_block,
                       const char *k_endpoints, char *errstr, size_t errlen) {
    const char *eps = f->endpoints;
    if (f->allow && (f->block || (eps && strcmp(eps, "none") != 0))) {
        snprintf(errstr, errlen, "--allow cannot be combined with --block or --endpoints");
        return -1;
    }
    if (!eps && !f->allow) eps = LINK_DEFAULT_ENDPOINTS;
    if (eps && strcmp(eps, "none") == 0) eps = NULL;
    cJSON *j;
    if (f->allow) {
        if (!(j = list_json(f->allow, 0, errstr, errlen))) return -1;
        cJSON_AddItemToObject(o, k_allow, j);
    }
    if (f->block) {
        if (!(j = list_json(f->block, 0, errstr, errlen))) return -1;
        cJSON_AddItemToObject(o, k_block, j);
    }
    if (eps) {
        if (!(j = list_json(eps, 1, errstr, errlen))) return -1;
        cJSON_AddItemToObject(o, k_endpoints, j);
    }
    return 0;
}

static int fail(const cli_ctx *ctx, const char *err, int code) {
    cli_errorf(ctx, "%s", err);
    return code;
}

/* The branding Trackstar Link takes (reference §1.3: logo, style), as Link options. */
typedef struct branding {
    const char *logo;  /* an image URL */
    const char *style; /* a JSON object, passed to Link as it is */
} branding;

/* POST /link/token, then print the token and the Link options to open it with. */
static int link_token(cli_ctx *ctx, const char *conn, const char *customer, const filter_opts *f,
                      int sandbox, const branding *brand, const char *button) {
    char err[1024];
    cJSON *body = cJSON_CreateObject(), *opts = cJSON_CreateObject(), *resp = NULL;
    int rc = CLI_EXIT_FAIL;
    cJSON *style = NULL;
    if (brand->style) {
        style = cJSON_Parse(brand->style);
        if (!cJSON_IsObject(style)) {
            cJSON_Delete(style);
            rc = fail(ctx, "--style: expected a JSON object, e.g. '{\"primaryColor\":\"#0b5\"}'",
                      CLI_EXIT_USAGE);
            goto done;
        }
    }
    const char *type = f->type ? f->type : "wms";
    if (strcmp(type, "wms") && strcmp(type, "cart") && strcmp(type, "carrier")) {
        rc = fail(ctx, "--integration-type: expected wms, cart or carrier", CLI_EXIT_USAGE);
        goto done;
    }
    if (conn) cJSON_AddStringToObject(body, "connection_id", conn);
    if (customer) cJSON_AddStringToObject(body, "customer_id", customer);
    /* The filters and branding are Trackstar Link's own options (the component or
     * window.Trackstar), not fields of POST /link/token. */
    cJSON_AddStringToObject(opts, "integrationType", type);
    if (!conn && add_filters(opts, f, "integrationAllowList", "integrationBlockList",
                             "integrationsWithEndpoints", err, sizeof err) != 0) {
        rc = fail(ctx, err, CLI_EXIT_USAGE);
        goto done;
    }
    if (sandbox) cJSON_AddTrueToObject(opts, "sandbox");
    if (brand->logo) cJSON_AddStringToObject(opts, "logo", brand->logo);
    if (style) {
        cJSON_AddItemToObject(opts, "style", style);
        style = NULL;
    }
    if (button) cJSON_AddStringToObject(opts, "buttonId", button);
    if (cli_ts_call(ctx, "POST", "/link/token", body, &resp, NULL, err, sizeof err) != 0) {
        rc = fail(ctx, err, CLI_EXIT_FAIL);
        goto done;
    }
    const char *tok = cli_jstr(resp, "link_token");
    if (!tok) {
        rc = fail(ctx, "POST /link/token: no link_token in the answer", CLI_EXIT_FAIL);
        goto done;
    }
    if (ctx->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "link_token", tok);
        if (conn)
            cJSON_AddStringToObject(o, "connection_id", conn);
        else
            cJSON_AddNullToObject(o, "connection_id");
        cJSON_AddItemReferenceToObject(o, "link_options", opts);
        cli_print_json(ctx, o);
        cJSON_Delete(o);
    } else {
        char *ot = cJSON_PrintUnformatted(opts);
        cli_kv(ctx->out, "link token", tok);
        if (conn) cli_kv(ctx->out, "reinstalls", conn);
        cli_kv(ctx->out, "link options", ot);
        fprintf(ctx->out,
                "\nOpen Trackstar Link with this token and these options; its onSuccess"
                " gives an auth code:\n  %s link exchange <auth_code>\n",
                ctx->prog);
        free(ot);
    }
    rc = CLI_EXIT_OK;
done:
    cJSON_Delete(style);
    cJSON_Delete(body);
    cJSON_Delete(opts);
    cJSON_Delete(resp);
    return rc;
}

int cli_run_link_token(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    filter_opts f = {CLI_ARGV("allow"), CLI_ARGV("block"), CLI_ARGV("endpoints"),
                     CLI_ARGV("integration-type")};
    branding b = {CLI_ARGV("logo"), CLI_ARGV("style")};
    return link_token(ctx, CLI_ARGV("connection"), CLI_ARGV("customer"), &f,
                      CLI_ARGV("sandbox") != NULL, &b, CLI_ARGV("button-id"));
}

/* Parse --days (magic link lifetime). */
static int days_arg(const cli_ctx *ctx, const char *s, int *days) {
    char *end;
    long d = strtol(s, &end, 10);
    if (*end || end == s || d < 1 || d > MAGIC_DAYS_MAX) {
        cli_errorf(ctx, "--days: expected 1..%d", MAGIC_DAYS_MAX);
        return -1;
    }
    *days = (int)d;
    return 0;
}

static void magic_row(cli_table *t, const cJSON *m) {
    const char *keys[] = {"integration_allow_list", "integration_block_list",
                          "integrations_with_endpoints"};
    char buf[32];
    cli_table_row(t);
    cli_table_cell(t, 0, cli_jstr(m, "id"));
    cli_table_cell(t, 1, cli_jstr(m, "integration_type"));
    cli_table_cell(t, 2, cli_jtext(m, "customer_id", buf, sizeof buf));
    cli_table_cell(t, 3, cli_jstr(m, "expires_at"));
    for (int i = 0; i < 3; i++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(m, keys[i]), *it;
        char list[512] = "";
        size_t n = 0;
        cJSON_ArrayForEach(it, arr) {
            if (cJSON_IsString(it) && n < sizeof list)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? "," : "",
                                      it->valuestring);
        }
        cli_table_cell(t, 4 + i, n ? list : NULL);
    }
}

static void magic_table(cli_ctx *ctx, const cJSON *links) {
    static const char *const heads[] = {"ID",    "TYPE",  "CUSTOMER", "EXPIRES",
                                        "ALLOW", "BLOCK", "ENDPOINTS"};
    cli_table t;
    if (cli_table_init(&t, 7, heads) != 0) return;
    const cJSON *m;
    cJSON_ArrayForEach(m, links) magic_row(&t, m);
    cli_table_render(&t, ctx->out);
    cli_table_free(&t);
}

static int magic_create(cli_ctx *ctx, const char *conn, const char *customer, const filter_opts *f,
                        const char *days_s) {
    char err[1024];
    int days = 0, rc = CLI_EXIT_FAIL;
    cJSON *body = cJSON_CreateObject(), *resp = NULL;
    if (days_s && days_arg(ctx, days_s, &days) != 0) {
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    const char *type = f->type ? f->type : "wms";
    if (strcmp(type, "wms") && strcmp(type, "freight") && strcmp(type, "cart")) {
        rc = fail(ctx, "--integration-type: expected wms, freight or cart", CLI_EXIT_USAGE);
        goto done;
    }
    if (conn) cJSON_AddStringToObject(body, "connection_id", conn);
    if (customer) cJSON_AddStringToObject(body, "customer_id", customer);
    cJSON_AddStringToObject(body, "integration_type", type);
    if (days) cJSON_AddNumberToObject(body, "link_duration", days);
    if (!conn && add_filters(body, f, "integration_allow_list", "integration_block_list",
                             "integrations_with_endpoints", err, sizeof err) != 0) {
        rc = fail(ctx, err, CLI_EXIT_USAGE);
        goto done;
    }
    if (cli_ts_call(ctx, "POST", "/magic-links", body, &resp, NULL, err, sizeof err) != 0) {
        rc = fail(ctx, err, CLI_EXIT_FAIL);
        goto done;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(resp, "magic_link");
    if (!cJSON_IsObject(m)) {
        rc = fail(ctx, "POST /magic-links: no magic_link in the answer", CLI_EXIT_FAIL);
        goto done;
    }
    if (ctx->json) {
        cli_print_json(ctx, m);
    } else {
        cJSON *one = cJSON_CreateArray();
        cJSON_AddItemReferenceToArray(one, (cJSON *)m);
        magic_table(ctx, one);
        cJSON_Delete(one);
    }
    rc = CLI_EXIT_OK;
done:
    cJSON_Delete(body);
    cJSON_Delete(resp);
    return rc;
}

int cli_run_magic_create(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    filter_opts f = {CLI_ARGV("allow"), CLI_ARGV("block"), CLI_ARGV("endpoints"),
                     CLI_ARGV("integration-type")};
    return magic_create(ctx, CLI_ARGV("connection"), CLI_ARGV("customer"), &f, CLI_ARGV("days"));
}

int cli_run_link_reinstall(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    filter_opts f = {NULL, NULL, "none", NULL};
    branding b = {CLI_ARGV("logo"), CLI_ARGV("style")};
    if (CLI_ARGV("magic")) {
        /* MagicLinkInputSchema has no branding field: a magic link's look is Trackstar's
         * dashboard setting; sending one would be refused or ignored. */
        if (b.logo || b.style)
            return fail(ctx,
                        "--logo/--style: a magic link carries no branding (the API has no "
                        "such field; set it in Trackstar's dashboard)",
                        CLI_EXIT_USAGE);
        return magic_create(ctx, a->pos[0], CLI_ARGV("customer"), &f, CLI_ARGV("days"));
    }
    if (CLI_ARGV("days")) return fail(ctx, "--days needs --magic", CLI_EXIT_USAGE);
    return link_token(ctx, a->pos[0], CLI_ARGV("customer"), &f, 0, &b, NULL);
}

int cli_run_magic_list(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    (void)cmd;
    (void)a;
    char err[1024];
    cJSON *resp = NULL;
    if (cli_ts_call(ctx, "GET", "/magic-links", NULL, &resp, NULL, err, sizeof err) != 0)
        return fail(ctx, err, CLI_EXIT_FAIL);
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(resp, "magic_links");
    int rc = CLI_EXIT_OK;
    if (!cJSON_IsArray(links))
        rc = fail(ctx, "GET /magic-links: no magic_links array in the answer", CLI_EXIT_FAIL);
    else if (ctx->json)
        cli_print_json(ctx, links);
    else
        magic_table(ctx, links);
    cJSON_Delete(resp);
    return rc;
}

int cli_run_magic_show(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    (void)cmd;
    char err[1024], *path = cli_url_path("/magic-links/", a->pos[0]);
    cJSON *resp = NULL;
    if (!path) return fail(ctx, "out of memory", CLI_EXIT_FAIL);
    int called = cli_ts_call(ctx, "GET", path, NULL, &resp, NULL, err, sizeof err);
    free(path);
    if (called != 0) return fail(ctx, err, CLI_EXIT_FAIL);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(resp, "magic_link");
    int rc = CLI_EXIT_OK;
    if (!cJSON_IsObject(m)) {
        rc = fail(ctx, "no magic_link in the answer", CLI_EXIT_FAIL);
    } else if (ctx->json) {
        cli_print_json(ctx, m);
    } else {
        cJSON *one = cJSON_CreateArray();
        cJSON_AddItemReferenceToArray(one, (cJSON *)m);
        magic_table(ctx, one);
        cJSON_Delete(one);
    }
    cJSON_Delete(resp);
    return rc;
}

int cli_run_magic_delete(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    (void)cmd;
    char err[1024], *path = cli_url_path("/magic-links/", a->pos[0]);
    cJSON *resp = NULL;
    if (!path) return fail(ctx, "out of memory", CLI_EXIT_FAIL);
    int called = cli_ts_call(ctx, "DELETE", path, NULL, &resp, NULL, err, sizeof err);
    free(path);
    if (called != 0) return fail(ctx, err, CLI_EXIT_FAIL);
    int deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "deleted"));
    if (ctx->json)
        cli_print_json(ctx, resp);
    else
        fprintf(ctx->out, "magic link %s %s\n", a->pos[0], deleted ? "deleted" : "NOT deleted");
    cJSON_Delete(resp);
    return deleted ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* Wait until the connection's connection.created event reached the database. */
static int wait_in_db(cli_ctx *ctx, const char *conn, int seconds, char *err, size_t errlen) {
    const char *const p[] = {conn};
    int64_t deadline = util_mono_ms() + (int64_t)seconds * 1000;
    while (!util_stop) {
        PGresult *res = cli_db_query(ctx, "SELECT 1 FROM connections WHERE connection_id = $1", 1,
                                     p, err, errlen);
        if (!res) return -1;
        int found = PQntuples(res) > 0;
        PQclear(res);
        if (found) return 0;
        if (util_mono_ms() > deadline) break;
        usleep(WAIT_POLL_MS * 1000);
    }
    snprintf(err, errlen, "connection %s not in the database after %d s (is the pipeline running?)",
             conn, seconds);
    return -1;
}

int cli_run_link_exchange(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    char err[1024];
    int rc = CLI_EXIT_FAIL, wait_s = 0;
    const char *w = CLI_ARGV("wait");
    if (w) {
        char *end;
        long v = *w ? strtol(w, &end, 10) : EXCHANGE_WAIT_DEFAULT_S;
        if ((*w && (*end || v < 1)) || v > EXCHANGE_WAIT_MAX_S)
            return fail(ctx, "--wait: expected seconds (1..3600)", CLI_EXIT_USAGE);
        wait_s = (int)v;
    }
    cJSON *body = cJSON_CreateObject(), *resp = NULL;
    cJSON_AddStringToObject(body, "auth_code", a->pos[0]);
    if (CLI_ARGV("customer")) cJSON_AddStringToObject(body, "customer_id", CLI_ARGV("customer"));
    /* The fetcher calls POST /link/exchange itself and stores the access token sealed:
     * the token never passes through tsctl, its terminal or its logs. */
    if (cli_fetcher_call(ctx, "POST", "/connections/exchange", body, &resp, NULL, err,
                         sizeof err) != 0) {
        rc = fail(ctx, err, CLI_EXIT_FAIL);
        goto done;
    }
    /* Defence in depth: whatever the answer holds, no secret is printed. */
    cli_redact(resp);
    const char *conn = cli_jstr(resp, "connection_id");
    if (!conn) {
        rc = fail(ctx, "the fetcher's answer has no connection_id", CLI_EXIT_FAIL);
        goto done;
    }
    if (wait_s && wait_in_db(ctx, conn, wait_s, err, sizeof err) != 0) {
        rc = fail(ctx, err, CLI_EXIT_FAIL);
        goto done;
    }
    if (ctx->json) {
        cJSON_AddBoolToObject(resp, "in_database", wait_s > 0);
        cli_print_json(ctx, resp);
    } else {
        cli_kv(ctx->out, "connection", conn);
        cli_kv(ctx->out, "integration", cli_jstr(resp, "integration_name"));
        cli_kv(ctx->out, "access token", "stored encrypted by the fetcher (not shown)");
        if (wait_s) cli_kv(ctx->out, "in database", "yes");
        fprintf(ctx->out,
                "\nThe first sync runs in Trackstar now; watch it with:\n  %s status %s --watch\n",
                ctx->prog, conn);
    }
    rc = CLI_EXIT_OK;
done:
    cJSON_Delete(body);
    cJSON_Delete(resp);
    return rc;
}
