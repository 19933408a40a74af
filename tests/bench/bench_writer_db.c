/* bench_writer_db.c - throughput of the writer's database layer, in records per second.
 *
 * Same generated orders (each with 2 line items, 1 shipment with 1 line item, 1 package
 * with 1 line item: 6 table rows per record), same batch size, two fresh databases:
 *   wdb_apply   the whole layer: JSON parse, checks, in-batch dedupe, COPY to staging,
 *               guarded merge under a savepoint, child replacement, commit;
 *   bare        the floor: the same COPY text (prepared outside the clock) and the same
 *               merge statements, nothing else.
 * Passes: insert (empty tables), update (every record newer), replay (identical: no-op).
 *
 *   bench_writer_db [records] [batch]     (BENCH_DATABASE_URL or TEST_DATABASE_URL)
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "writer/db.h"
#include "writer/db_conn.h"
#include "writer/db_spec.h"
#include "writer/db_sql.h"
#include "writer/db_stage.h"

#define DEFAULT_RECORDS 20000
#define DEFAULT_BATCH 500

static const char ORDER_FMT[] =
    "{\"schema_version\":1,\"entity\":\"order\",\"connection_id\":\"conn_b\",\"integration_name\":\"shiphero\","
    "\"id\":\"ord_%d\",\"source\":\"webhook\",\"event_id\":\"msg_%d_%d\",\"event_type\":\"order.updated\","
    "\"source_updated_at\":\"2026-01-%02dT09:00:00Z\",\"trackstar_updated_at\":null,\"observed_at\":\"2026-01-06T09:00:01.123Z\","
    "\"created_at\":\"2026-01-05T10:00:00Z\",\"warehouse_customer_id\":\"wc_1\",\"warehouse_id\":\"wh_1\","
    "\"reference_id\":\"SHOP-%d\",\"order_number\":\"%d\",\"status\":\"%s\",\"raw_status\":\"Shipped\",\"type\":\"d2c\","
    "\"channel\":null,\"channel_id\":\"ch_1\",\"channel_name\":\"Shopify\",\"trading_partner\":null,\"service_level\":\"ground\","
    "\"shipping_method\":null,\"shipping_method_id\":\"sm_1\",\"shipping_method_name\":\"UPS Ground\",\"carrier_id\":\"ups\","
    "\"carrier_name\":\"UPS\",\"scac\":\"UPSN\",\"is_third_party_freight\":false,\"third_party_freight_account_number\":null,"
    "\"first_party_freight_account_number\":null,\"currency\":\"USD\",\"total_price\":\"59.5\",\"total_tax\":\"4.5\","
    "\"total_discount\":\"0\",\"total_shipping\":\"5\",\"required_ship_date\":null,\"saturday_delivery\":false,"
    "\"signature_required\":false,\"international_duty_paid_by\":null,"
    "\"ship_to_address\":{\"full_name\":\"Ann Lee\",\"company\":null,\"address1\":\"1 Main St\",\"address2\":null,\"address3\":null,"
    "\"city\":\"Austin\",\"state\":\"TX\",\"postal_code\":\"78701\",\"country\":\"US\",\"phone_number\":null,\"email_address\":null},"
    "\"line_items\":[{\"line_number\":0,\"product_id\":\"prod_1\",\"sku\":\"TSHIRT-M\",\"quantity\":2,\"unit_price\":\"25\",\"is_picked\":true,\"discount_amount\":null},"
    "{\"line_number\":1,\"product_id\":\"prod_2\",\"sku\":\"CAP\",\"quantity\":1,\"unit_price\":\"9.5\",\"is_picked\":true,\"discount_amount\":null}],"
    "\"shipments\":[{\"shipment_id\":\"shp_%d\",\"warehouse_id\":\"wh_1\",\"status\":\"shipped\",\"raw_status\":\"shipped\","
    "\"shipped_at\":\"2026-01-06T08:00:00Z\",\"shipping_method\":null,"
    "\"ship_to_address\":{\"full_name\":\"Ann Lee\",\"company\":null,\"address1\":\"1 Main St\",\"address2\":null,\"address3\":null,"
    "\"city\":\"Austin\",\"state\":\"TX\",\"postal_code\":\"78701\",\"country\":\"US\",\"phone_number\":null,\"email_address\":null},"
    "\"ship_from_address\":{\"address1\":\"9 Dock Rd\",\"address2\":null,\"address3\":null,\"city\":\"Reno\",\"state\":\"NV\",\"postal_code\":\"89501\",\"country\":\"US\"},"
    "\"line_items\":[{\"line_number\":0,\"inventory_item_id\":\"inv_1\",\"sku\":\"TSHIRT-M\",\"quantity\":2,\"parent_product_id\":null}],"
    "\"packages\":[{\"package_id\":\"pkg_%d\",\"package_name\":\"12x9x4\",\"tracking_number\":\"1Z%08d\",\"tracking_url\":null,"
    "\"shipping_method\":null,\"carrier\":null,\"shipping_method_id\":\"sm_1\",\"shipping_method_name\":\"UPS Ground\",\"carrier_id\":\"ups\","
    "\"carrier_name\":\"UPS\",\"scac\":\"UPSN\",\"shipping_cost\":\"7.1\",\"measurements\":{\"length\":\"12\",\"width\":\"9\",\"height\":\"4\","
    "\"unit\":\"in\",\"weight\":\"1.2\",\"weight_unit\":\"lb\"},\"line_items\":[{\"line_number\":0,\"inventory_item_id\":\"inv_1\","
    "\"sku\":\"TSHIRT-M\",\"quantity\":2,\"lot_id\":null,\"expiration_date\":null,\"parent_product_id\":null}]}]}],"
    "\"tags\":[\"vip\"],\"trackstar_tags\":[],\"external_system_url\":null,\"additional_fields\":{},\"extra\":{}}";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_writer_db: %s: %s\n", what, why);
    exit(1);
}

static void exec_or_die(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        die(sql, PQerrorMessage(c));
    PQclear(r);
}

/* conninfo of url with another dbname */
static void conninfo_for(const char *url, const char *db, char *out, size_t len) {
    char *err = NULL;
    PQconninfoOption *o = PQconninfoParse(url, &err);
    if (!o) die("conninfo", err ? err : "?");
    size_t n = 0;
    for (PQconninfoOption *p = o; p->keyword && n < len; p++) {
        const char *v = strcmp(p->keyword, "dbname") == 0 ? db : p->val;
        if (v) n += (size_t)snprintf(out + n, len - n, "%s='%s' ", p->keyword, v);
    }
    PQconninfoFree(o);
}

static void fresh_db(const char *url, const char *name, char *ci, size_t len) {
    char sql[128], err[512];
    PGconn *admin = PQconnectdb(url);
    if (PQstatus(admin) != CONNECTION_OK) die("connect", PQerrorMessage(admin));
    exec_or_die(admin, "SET client_min_messages = warning");
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    exec_or_die(admin, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'", name);
    exec_or_die(admin, sql);
    PQfinish(admin);
    conninfo_for(url, name, ci, len);
    wdb *db = wdb_open(ci, err, sizeof err);
    if (!db || wdb_migrate(db, "writer/migrations", err, sizeof err)) die("migrate", err);
    wdb_close(db);
}

static void drop_db(const char *url, const char *name) {
    char sql[128];
    PGconn *admin = PQconnectdb(url);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    PQclear(PQexec(admin, sql));
    PQfinish(admin);
}

static char **make_records(int n, int day, const char *status) {
    char **v = malloc((size_t)n * sizeof *v);
    for (int i = 0; i < n; i++) {
        v[i] = malloc(sizeof ORDER_FMT + 256);
        snprintf(v[i], sizeof ORDER_FMT + 256, ORDER_FMT, i, i, day, day, i, i, status, i, i, i);
    }
    return v;
}

static double run_wdb(wdb *db, char **v, int n, int batch) {
    wdb_item *items = calloc((size_t)batch, sizeof *items);
    char err[512];
    double t0 = now_s();
    for (int i = 0; i < n; i += batch) {
        int len = n - i < batch ? n - i : batch;
        for (int k = 0; k < len; k++)
            items[k] = (wdb_item){.topic = "wms.orders.v1", .value = v[i + k], .value_len = strlen(v[i + k])};
        if (wdb_apply(db, items, len, err, sizeof err) != WDB_OK) die("wdb_apply", err);
        for (int k = 0; k < len; k++)
            if (items[k].rejected) die("rejected", items[k].reason);
    }
    double dt = now_s() - t0;
    free(items);
    return n / dt;
}

/* The bare loop: per batch BEGIN, COPY the pre-built staging text, the same merge and
 * child statements, COMMIT. */
typedef struct bare {
    PGconn *c;
    const wdb_spec *sp;
    sbuf merge, clear, del[WDB_MAX_CHILD_TABLES], ins[WDB_MAX_CHILD_TABLES];
} bare;

static void bare_prepare(bare *b, const char *ci) {
    b->c = PQconnectdb(ci);
    if (PQstatus(b->c) != CONNECTION_OK) die("connect", PQerrorMessage(b->c));
    /* the same session settings as wdb_open, so both loops get the same plans */
    exec_or_die(b->c, "SET TIME ZONE 'UTC'; SET client_min_messages = warning; "
                      "SET enable_hashjoin = off; SET enable_mergejoin = off");
    b->sp = wdb_specs[wdb_spec_find("wms.orders.v1", "order", NULL)];
    sbuf ddl = {0};
    wdb_sql_staging_ddl(b->sp, &ddl);
    exec_or_die(b->c, ddl.p);
    sbuf_free(&ddl);
    wdb_sql_merge(b->sp, &b->merge);
    wdb_sql_clear_changed(b->sp, &b->clear);
    for (int c = 0; c < b->sp->nchildren; c++) {
        wdb_sql_child_delete(b->sp, c, &b->del[c]);
        wdb_sql_child_insert(b->sp, c, &b->ins[c]);
    }
}

static void run_stmt(PGconn *c, const char *sql, int lo, int hi) {
    char a[16], z[16];
    snprintf(a, sizeof a, "%d", lo);
    snprintf(z, sizeof z, "%d", hi);
    const char *vals[2] = {a, z};
    PGresult *r = PQexecParams(c, sql, strstr(sql, "$1") ? 2 : 0, NULL, strstr(sql, "$1") ? vals : NULL, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) die("bare statement", PQerrorMessage(c));
    PQclear(r);
}

static void copy_text(PGconn *c, const char *table, const sbuf *s) {
    char sql[96];
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) die("copy", PQerrorMessage(c));
    PQclear(r);
    if (PQputCopyData(c, s->p, (int)s->len) != 1 || PQputCopyEnd(c, NULL) != 1) die("copy", PQerrorMessage(c));
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) die("copy", PQerrorMessage(c));
        PQclear(r);
    }
}

static double run_bare(bare *b, char **v, int n, int batch) {
    int nt = 1 + b->sp->nchildren, nb = (n + batch - 1) / batch;
    sbuf *text = calloc((size_t)(nb * nt), sizeof *text);
    char reason[256];
    for (int i = 0; i < n; i++) { /* outside the clock: parse and stage */
        cJSON *rec = cJSON_Parse(v[i]);
        int oom;
        if (wdb_stage_rows(b->sp, rec, v[i], strlen(v[i]), i % batch, &text[(i / batch) * nt], &oom, reason,
                           sizeof reason))
            die("stage", reason);
        cJSON_Delete(rec);
    }
    double t0 = now_s();
    for (int k = 0; k < nb; k++) {
        exec_or_die(b->c, "BEGIN");
        for (int t = 0; t < nt; t++) {
            char table[80];
            wdb_sql_stage_name(b->sp, t, table, sizeof table);
            if (text[k * nt + t].len) copy_text(b->c, table, &text[k * nt + t]);
        }
        run_stmt(b->c, b->clear.p, 0, 0);
        run_stmt(b->c, b->merge.p, 0, batch);
        for (int c = 0; c < b->sp->nchildren; c++) {
            run_stmt(b->c, b->del[c].p, 0, 0);
            run_stmt(b->c, b->ins[c].p, 0, batch);
        }
        exec_or_die(b->c, "COMMIT");
    }
    double dt = now_s() - t0;
    for (int i = 0; i < nb * nt; i++) sbuf_free(&text[i]);
    free(text);
    return n / dt;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : DEFAULT_RECORDS;
    int batch = argc > 2 ? atoi(argv[2]) : DEFAULT_BATCH;
    const char *url = getenv("BENCH_DATABASE_URL");
    if (!url || !*url) url = getenv("TEST_DATABASE_URL");
    if (!url || !*url) die("config", "set BENCH_DATABASE_URL or TEST_DATABASE_URL");
    if (n < 1 || batch < 1 || batch > WDB_MAX_BATCH) die("config", "records >= 1, 1 <= batch <= WDB_MAX_BATCH");
    char ci_w[2048], ci_b[2048], err[512];
    fresh_db(url, "wdb_bench_layer", ci_w, sizeof ci_w);
    fresh_db(url, "wdb_bench_bare", ci_b, sizeof ci_b);
    wdb *db = wdb_open(ci_w, err, sizeof err);
    if (!db) die("wdb_open", err);
    bare b = {0};
    bare_prepare(&b, ci_b);

    char **v1 = make_records(n, 6, "open"), **v2 = make_records(n, 7, "fulfilled");
    printf("bench_writer_db: %d orders x 6 rows each, batches of %d\n", n, batch);
    printf("%-8s %14s %14s %8s\n", "pass", "wdb_apply/s", "bare/s", "ratio");
    const char *names[3] = {"insert", "update", "replay"};
    char **sets[3] = {v1, v2, v2};
    for (int p = 0; p < 3; p++) {
        double w = run_wdb(db, sets[p], n, batch);
        double x = run_bare(&b, sets[p], n, batch);
        printf("%-8s %14.0f %14.0f %7.2fx\n", names[p], w, x, x / w);
    }
    for (int i = 0; i < n; i++) free(v1[i]), free(v2[i]);
    free(v1), free(v2);
    wdb_close(db);
    PQfinish(b.c);
    if (!getenv("BENCH_KEEP")) drop_db(url, "wdb_bench_layer");
    drop_db(url, "wdb_bench_bare");
    return 0;
}
