/* cli_cmd_data.c - the synced data at a glance: inventory per SKU across warehouses
 * with every breakdown (view inventory_by_sku), and a connection's recent orders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cmds.h"
#include "cli_db.h"
#include "cli_out.h"

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
