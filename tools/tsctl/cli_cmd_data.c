/* cli_cmd_data.c - the synced data at a glance: the entities the pipeline keeps (the
 * registry, common/entities.h) and how many rows each holds, any entity's newest
 * records, inventory per SKU across warehouses with every breakdown (view
 * inventory_by_sku), and a connection's recent orders. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cmds.h"
#include "cli_db.h"
#include "cli_out.h"
#include "cli_table.h"
#include "entities.h"
#include "util.h"

#define DATA_LIMIT_DEFAULT "200"
#define DATA_LIMIT_MAX 100000

static int fail(const cli_ctx *ctx, const char *err, int code) {
    cli_errorf(ctx, "%s", err);
    return code;
}

static int limit_arg(const cli_ctx *ctx, const char *s, const char *def, char out[16]) {
    if (!s) s = def;
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > DATA_LIMIT_MAX) {
        cli_errorf(ctx, "--limit: expected 1..%d", DATA_LIMIT_MAX);
        return -1;
    }
    snprintf(out, 16, "%ld", v);
    return 0;
}

/* Table: one row per SKU with its totals ("all"), then one row per warehouse with
 * that warehouse's breakdown (named when the warehouse is known). $2 = SKU pattern
 * (SQL LIKE, NULL = every SKU), $3 = SKUs shown. */
static const char sql_inv_table[] =
    "WITH s AS (SELECT * FROM inventory_by_sku WHERE connection_id = $1"
    "  AND ($2::text IS NULL OR sku LIKE $2) ORDER BY sku LIMIT $3::int)"
    " SELECT sku, warehouse, onhand, fulfillable, committed, unfulfillable, awaiting, sellable,"
    "  unsellable, items FROM ("
    "  SELECT sku, 0 AS ord, '(all)' AS warehouse, onhand, fulfillable, committed, unfulfillable,"
    "   awaiting, sellable, unsellable, inventory_items AS items FROM s"
    "  UNION ALL"
    "  SELECT s.sku, 1, coalesce(w.name || ' (' || e.key || ')', e.key),"
    "   (e.value->>'onhand')::numeric, (e.value->>'fulfillable')::numeric,"
    "   (e.value->>'committed')::numeric, (e.value->>'unfulfillable')::numeric,"
    "   (e.value->>'awaiting')::numeric, (e.value->>'sellable')::numeric,"
    "   (e.value->>'unsellable')::numeric, NULL"
    "  FROM s CROSS JOIN LATERAL jsonb_each(s.by_warehouse) e"
    "  LEFT JOIN warehouses w ON w.connection_id = s.connection_id AND w.id = e.key"
    " ) x ORDER BY sku, ord, warehouse";
static const char sql_inv_json[] =
    "SELECT * FROM inventory_by_sku WHERE connection_id = $1"
    " AND ($2::text IS NULL OR sku LIKE $2) ORDER BY sku LIMIT $3::int";

int cli_run_inventory(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    char lim[16], err[1024];
    int rows = 0;
    if (limit_arg(ctx, CLI_ARGV("limit"), DATA_LIMIT_DEFAULT, lim) != 0) return CLI_EXIT_USAGE;
    const char *const p[] = {a->pos[0], CLI_ARGV("sku"), lim};
    if (cli_db_print(ctx, ctx->json ? sql_inv_json : sql_inv_table, 3, p, &rows, err, sizeof err) !=
        0)
        return fail(ctx, err, CLI_EXIT_FAIL);
    return CLI_EXIT_OK;
}

static const char sql_orders_table[] =
    "SELECT o.order_number, o.status, o.created_at, o.source_updated_at AS updated,"
    " o.warehouse_id AS warehouse, (SELECT count(*) FROM order_line_items l"
    "  WHERE l.connection_id = o.connection_id AND l.order_id = o.id) AS lines,"
    " o.total_price AS total, o.currency, o.ship_to_city AS city, o.ship_to_country AS country,"
    " o.source"
    " FROM orders o WHERE o.connection_id = $1 AND o.deleted_at IS NULL AND ($2::text IS NULL OR "
    "o.status = $2)"
    " ORDER BY o.created_at DESC NULLS LAST, o.id LIMIT $3::int";
static const char sql_orders_json[] =
    "SELECT o.connection_id, o.id, o.order_number, o.status, o.created_at,"
    " o.source_updated_at, o.record FROM orders o WHERE o.connection_id = $1 AND o.deleted_at IS "
    "NULL AND ($2::text IS NULL "
    "OR o.status = $2)"
    " ORDER BY o.created_at DESC NULLS LAST, o.id LIMIT $3::int";

int cli_run_orders(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    char lim[16], err[1024];
    if (limit_arg(ctx, CLI_ARGV("limit"), "20", lim) != 0) return CLI_EXIT_USAGE;
    const char *const p[] = {a->pos[0], CLI_ARGV("status"), lim};
    if (cli_db_print(ctx, ctx->json ? sql_orders_json : sql_orders_table, 3, p, NULL, err,
                     sizeof err) != 0)
        return fail(ctx, err, CLI_EXIT_FAIL);
    return CLI_EXIT_OK;
}

/* ---- every entity ---- */

char *cli_counts_sql(void) {
    sbuf q = {0};
    int rc = 0;
    for (int e = 0; e < TS_ENTITY_COUNT; e++)
        rc |= sbuf_printf(&q,
                          "%sSELECT '%s' AS resource, count(*) AS n FROM \"%s\" WHERE "
                          "connection_id = $1 AND deleted_at IS NULL", /* live rows */
                          e ? " UNION ALL " : "", ts_entities[e].name, ts_entities[e].table);
    if (rc) {
        sbuf_free(&q);
        return NULL;
    }
    return q.p;
}

static const char *poll_text(ts_poll p) {
    switch (p) {
    case TS_POLL_INCREMENTAL: return "incremental";
    case TS_POLL_COMPLETE: return "complete listing";
    case TS_POLL_PER_WAREHOUSE: return "per warehouse";
    case TS_POLL_PER_ORDER: return "per order";
    }
    return "?";
}

/* stored[e]: rows of entity e for the connection, -1 when unknown. 0 or -1. */
static int stored_counts(cli_ctx *ctx, const char *conn, int64_t *stored, char *err,
                         size_t errlen) {
    for (int e = 0; e < TS_ENTITY_COUNT; e++)
        stored[e] = -1;
    char *sql = cli_counts_sql();
    if (!sql) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *const p[] = {conn};
    cJSON *rows = cli_db_json(ctx, sql, 1, p, err, errlen), *r;
    free(sql);
    if (!rows) return -1;
    cJSON_ArrayForEach(r, rows) {
        int e = ts_entity_lookup(cli_jstr(r, "resource"));
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "n");
        if (e >= 0 && cJSON_IsNumber(n)) stored[e] = (int64_t)n->valuedouble;
    }
    cJSON_Delete(rows);
    return 0;
}

int cli_print_resources(cli_ctx *ctx, const int64_t *stored) {
    static const char *const heads[] = {"RESOURCE", "ENTITY", "TOPIC",    "TABLE",
                                        "POLLED",   "EVERY",  "FUNCTION", "IN DB"};
    cli_table t;
    if (cli_table_init(&t, stored ? 8 : 7, heads) != 0) return -1;
    cli_table_align_right(&t, 7);
    cJSON *arr = cJSON_CreateArray();
    for (int e = 0; e < TS_ENTITY_COUNT && arr; e++) {
        const ts_entity *x = &ts_entities[e];
        char every[32];
        cli_duration(x->interval_s, every, sizeof every);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "resource", x->name);
        cJSON_AddStringToObject(o, "entity", x->entity);
        cJSON_AddStringToObject(o, "topic", x->topic);
        cJSON_AddStringToObject(o, "table", x->table);
        cJSON_AddStringToObject(o, "path", x->path);
        cJSON_AddStringToObject(o, "function", x->function);
        cJSON_AddStringToObject(o, "event_prefix", x->prefix);
        cJSON_AddStringToObject(o, "poll", poll_text(x->poll));
        cJSON_AddNumberToObject(o, "interval_s", x->interval_s);
        cJSON_AddBoolToObject(o, "on_request", x->on_request);
        cJSON_AddBoolToObject(o, "webhooks", x->events[0] != NULL); /* TS_NONE: polled only */
        if (stored && stored[e] >= 0)
            cJSON_AddNumberToObject(o, "stored_records", (double)stored[e]);
        cJSON_AddItemToArray(arr, o);
        cli_table_row(&t);
        cli_table_cell(&t, 0, x->name);
        cli_table_cell(&t, 1, x->entity);
        cli_table_cell(&t, 2, x->topic);
        cli_table_cell(&t, 3, x->table);
        cli_table_cell(&t, 4, poll_text(x->poll));
        cli_table_cell(&t, 5, every);
        cli_table_cellf(&t, 6, "%s%s%s", x->function, x->on_request ? " (on request)" : "",
                        x->events[0] ? "" : " (no webhooks)");
        if (stored && stored[e] >= 0) cli_table_cellf(&t, 7, "%lld", (long long)stored[e]);
    }
    int rc = arr ? 0 : -1;
    if (arr && ctx->json)
        rc = cli_print_json(ctx, arr);
    else if (arr)
        cli_table_render(&t, ctx->out);
    cJSON_Delete(arr);
    cli_table_free(&t);
    return rc;
}

int cli_run_resources(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    (void)cmd;
    int64_t stored[TS_ENTITY_COUNT];
    char err[1024];
    if (a->npos == 1 && stored_counts(ctx, a->pos[0], stored, err, sizeof err) != 0)
        return fail(ctx, err, CLI_EXIT_FAIL);
    if (cli_print_resources(ctx, a->npos == 1 ? stored : NULL) != 0)
        return fail(ctx, "out of memory", CLI_EXIT_FAIL);
    return CLI_EXIT_OK;
}

/* A connection's newest records of any entity: the envelope columns every entity
 * table has, and the record's name where it has one (the JSON has the whole record).
 * The table name is the registry's, never input. */
int cli_run_records(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    char lim[16], err[1024], sql[512];
    int e = ts_entity_lookup(a->pos[1]);
    if (e < 0) {
        cJSON *none = cli_res_list(a->pos[1], err, sizeof err); /* names them all */
        cJSON_Delete(none);
        return fail(ctx, err, CLI_EXIT_USAGE);
    }
    if (limit_arg(ctx, CLI_ARGV("limit"), "20", lim) != 0) return CLI_EXIT_USAGE;
    if (ctx->json)
        snprintf(sql, sizeof sql,
                 "SELECT connection_id, id, source, source_updated_at, record FROM \"%s\""
                 " WHERE connection_id = $1 ORDER BY source_updated_at DESC NULLS LAST, id"
                 " LIMIT $2::int",
                 ts_entities[e].table);
    else
        snprintf(sql, sizeof sql,
                 "SELECT id, record->>'name' AS name, source_updated_at AS updated, source"
                 " FROM \"%s\" WHERE connection_id = $1"
                 " ORDER BY source_updated_at DESC NULLS LAST, id LIMIT $2::int",
                 ts_entities[e].table);
    const char *const p[] = {a->pos[0], lim};
    if (cli_db_print(ctx, sql, 2, p, NULL, err, sizeof err) != 0)
        return fail(ctx, err, CLI_EXIT_FAIL);
    return CLI_EXIT_OK;
}

/* Recent value-policy changes (docs/canonical-model.md, "Values that cannot be cast"),
 * newest stored first, one line per change, from every entity table of the registry:
 * each table's partial index on changed rows keeps this cheap. $1 = connection (NULL:
 * all), $2 = records shown. */
int cli_run_changes(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    char lim[16], err[1024], part[512];
    (void)cmd;
    if (limit_arg(ctx, CLI_ARGV("limit"), "20", lim) != 0) return CLI_EXIT_USAGE;
    size_t cap = 512 + (size_t)TS_ENTITY_COUNT * sizeof part, len = 0;
    char *sql = malloc(cap);
    if (!sql) return fail(ctx, "out of memory", CLI_EXIT_FAIL);
    len += (size_t)snprintf(sql + len, cap - len,
                            "SELECT r.resource, r.connection_id, r.id, "
                            "r.db_updated_at AS stored_at, c->>'field' AS "
                            "field, c->>'change' AS change, c->>'reason' AS "
                            "reason FROM (SELECT * FROM (");
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        snprintf(part, sizeof part,
                 "%s(SELECT '%s' AS resource, connection_id, id, db_updated_at, value_changes"
                 " FROM \"%s\" WHERE value_changes IS NOT NULL AND ($1::text IS NULL OR"
                 " connection_id = $1) ORDER BY db_updated_at DESC LIMIT $2::int)",
                 e ? " UNION ALL " : "", ts_entities[e].name, ts_entities[e].table);
        len += (size_t)snprintf(sql + len, cap - len, "%s", part);
    }
    snprintf(sql + len, cap - len,
             ") u ORDER BY db_updated_at DESC LIMIT $2::int) r,"
             " LATERAL jsonb_array_elements(r.value_changes) WITH ORDINALITY AS c(c, n)"
             " ORDER BY r.db_updated_at DESC, r.resource, r.connection_id, r.id, c.n");
    const char *const p[] = {a->npos ? a->pos[0] : NULL, lim};
    int rc = cli_db_print(ctx, sql, 2, p, NULL, err, sizeof err);
    free(sql);
    if (rc != 0) return fail(ctx, err, CLI_EXIT_FAIL);
    return CLI_EXIT_OK;
}
