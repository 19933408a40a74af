/* trackstar-sim - a local stand-in for the Trackstar unified WMS API.
 *
 * Serves the WMS read API, the management API and a /_sim/ control API for tests on
 * one port; generates deterministic data per connection from SIM_SEED; changes the WMS on
 * ticks, takes the changes into Trackstar's copy on Trackstar's own crawls, and delivers
 * Svix-signed webhooks with retries. See docs/simulator.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "log.h"
#include "sim_crawl.h"
#include "sim_http.h"
#include "sim_ingest.h"
#include "sim_reqstats.h"
#include "sim_store.h"
#include "sim_webhook.h"
#include "util.h"

#define TICK_MS 100

extern int sim_filter_clamp_limit;

static char *c_bind, *c_api_key, *c_webhook_url, *c_secrets, *c_log_level, *c_public_url,
    *c_conn_shape, *c_integration;
static long long c_port, c_seed, c_conns, c_orders, c_products, c_warehouses, c_locations,
    c_returns, c_inbound, c_bills, c_methods, c_wcust, c_labor, c_crawl_ms, c_hist_ms, c_get_rate,
    c_write_rate, c_mutations, c_wh_timeout, c_wh_queue, c_wh_conc;
static char *c_retry_scale, *c_sync_scale, *c_page_order;
static int c_ts_dates, c_clamp, c_ingest_lag, c_same_second, c_quantity_only, c_short_pages;
static long long c_old_pct, c_job_ms, c_drop_pct, c_sync_max_s;

static const cfg_var vars[] = {
    {"SIM_BIND", CFG_STR, "127.0.0.1", 0, 0, 0, "listen address (IPv4)", &c_bind},
    {"SIM_PORT", CFG_INT, "8090", 1, 65535, 0, "listen port (API, management and /_sim/ control)",
     &c_port},
    {"SIM_API_KEY", CFG_STR, "sim_api_key_dev", 0, 0, CFG_SECRET,
     "the organisation API key clients must send", &c_api_key},
    {"SIM_PUBLIC_URL", CFG_STR, "", 0, 0, 0,
     "base URL in data_url/download_url (default http://SIM_BIND:SIM_PORT)", &c_public_url},
    {"SIM_WEBHOOK_URL", CFG_STR, "", 0, 0, 0, "where webhooks are POSTed; empty = do not send",
     &c_webhook_url},
    {"SIM_WEBHOOK_SECRETS", CFG_STR, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0, 0, CFG_SECRET,
     "comma-separated whsec_ secrets; each delivery carries one v1 signature per secret",
     &c_secrets},
    {"SIM_WEBHOOK_TIMEOUT_MS", CFG_INT, "15000", 100, 600000, 0,
     "a slower webhook answer is a failed attempt", &c_wh_timeout},
    {"SIM_WEBHOOK_QUEUE_MAX", CFG_INT, "100000", 10, 10000000, 0,
     "webhook messages waiting or retrying", &c_wh_queue},
    {"SIM_WEBHOOK_CONCURRENCY", CFG_INT, "8", 1, 64, 0, "webhook deliveries in flight at once",
     &c_wh_conc},
    {"SIM_RETRY_SCALE", CFG_STR, "1", 0, 0, 0,
     "multiplier on the Svix retry schedule (tests: 0.001)", &c_retry_scale},
    {"SIM_SEED", CFG_INT, "1", 0, 0x7fffffffffffffffLL, 0, "data generator seed", &c_seed},
    {"SIM_CONNECTIONS", CFG_INT, "1", 0, SIM_MAX_CONNECTIONS, 0,
     "connections created at start-up, historical sync done", &c_conns},
    {"SIM_INTEGRATION", CFG_STR, "sandbox", 0, 0, 0,
     "integration of start-up connections: sandbox, shipbob, extensiv-3pl-central, cool-wms",
     &c_integration},
    {"SIM_ORDERS", CFG_INT, "200", 0, 200000, 0, "orders per connection", &c_orders},
    {"SIM_PRODUCTS", CFG_INT, "50", 1, 200000, 0, "products per connection (every 8th is a kit)",
     &c_products},
    {"SIM_WAREHOUSES", CFG_INT, "2", 1, 8, 0, "warehouses per connection", &c_warehouses},
    {"SIM_LOCATIONS_PER_WAREHOUSE", CFG_INT, "10", 0, 10000, 0, "locations per warehouse",
     &c_locations},
    {"SIM_RETURNS", CFG_INT, "20", 0, 200000, 0, "returns per connection", &c_returns},
    {"SIM_INBOUND_SHIPMENTS", CFG_INT, "10", 0, 200000, 0, "inbound shipments per connection",
     &c_inbound},
    {"SIM_BILLS", CFG_INT, "30", 0, 200000, 0, "bills per connection", &c_bills},
    {"SIM_SHIPPING_METHODS", CFG_INT, "6", 1, 64, 0, "shipping methods per connection", &c_methods},
    {"SIM_WAREHOUSE_CUSTOMERS", CFG_INT, "2", 0, 8, 0,
     "warehouse customers (0 = warehouse_customer_id null)", &c_wcust},
    {"SIM_LABOR_ACTIVITIES", CFG_INT, "40", 0, 200000, 0, "labor activities per connection",
     &c_labor},
    {"SIM_CRAWL_INTERVAL_MS", CFG_INT, "0", 0, 86400000, 0, "crawl tick period; 0 = only on demand",
     &c_crawl_ms},
    {"SIM_CRAWL_MUTATIONS", CFG_INT, "20", 0, 10000, 0,
     "record changes per crawl tick per connection", &c_mutations},
    {"SIM_HISTORICAL_SYNC_MS", CFG_INT, "5000", 0, 86400000, 0,
     "how long a new connection's historical sync takes; 0 = only on demand", &c_hist_ms},
    {"SIM_GET_RATE", CFG_INT, "10", 1, 100000, 0, "GET requests per second per access token",
     &c_get_rate},
    {"SIM_WRITE_RATE", CFG_INT, "50", 1, 100000, 0, "write requests per second per access token",
     &c_write_rate},
    {"SIM_TRACKSTAR_DATES", CFG_BOOL, "1", 0, 0, 0,
     "serve trackstar_created_date/trackstar_updated_date and their filters (2026 API)",
     &c_ts_dates},
    {"SIM_LIMIT_CLAMP", CFG_BOOL, "0", 0, 0, 0, "limit > 1000 is clamped instead of a 422",
     &c_clamp},
    /* How unkind the world is (docs/simulator.md): every knob defaults to the harsh side. */
    {"SIM_SYNC_SCALE", CFG_STR, "0.001", 0, 0, 0,
     "multiplier on the reference's sync_frequency (3600 s / 43200 s) for Trackstar's crawls",
     &c_sync_scale},
    {"SIM_SYNC_FREQUENCY_MAX_S", CFG_INT, "0", 0, 86400, 0,
     "caps the scaled sync_frequency (0 = no cap): slow resources stay quick in tests",
     &c_sync_max_s},
    {"SIM_INGEST_LAG", CFG_BOOL, "1", 0, 0, 0,
     "WMS changes reach Trackstar's copy (and webhooks) only when a crawl reads them; 0 = at "
     "once",
     &c_ingest_lag},
    {"SIM_SAME_SECOND", CFG_BOOL, "1", 0, 0, 0,
     "updated_date is the change's second: versions in one second share it; 0 = strictly "
     "increasing",
     &c_same_second},
    {"SIM_QUANTITY_ONLY", CFG_BOOL, "1", 0, 0, 0,
     "inventory quantity changes leave updated_date as it was", &c_quantity_only},
    {"SIM_PAGE_ORDER", CFG_STR, "id", 0, 0, 0,
     "list order: id (a record changing behind a client's page is not shown again) or "
     "updated",
     &c_page_order},
    {"SIM_SHORT_PAGES", CFG_BOOL, "1", 0, 0, 0,
     "pages often hold fewer records than limit while next_token is set", &c_short_pages},
    {"SIM_OLD_HISTORY_PERCENT", CFG_INT, "10", 0, 90, 0,
     "orders, returns, ASNs and bills older than the historical sync's window (on-demand sync "
     "reads them)",
     &c_old_pct},
    {"SIM_SYNC_JOB_MS", CFG_INT, "2000", 0, 3600000, 0, "how long an on-demand sync job runs",
     &c_job_ms},
    {"SIM_WEBHOOK_DROP_PERCENT", CFG_INT, "0", 0, 100, 0,
     "resource webhooks withheld (never delivered), listed at GET /_sim/webhooks/dropped",
     &c_drop_pct},
    {"SIM_CONNECTION_SHAPE", CFG_STR, "list", 0, 0, 0,
     "GET /connections/{id} body: list ({data:[...]}, as the OpenAPI spec) or object "
     "({data:{...}})",
     &c_conn_shape},
    {"LOG_LEVEL", CFG_STR, "info", 0, 0, 0, "debug, info, warn or error", &c_log_level},
};
#define NVARS (sizeof vars / sizeof vars[0])

int main(int argc, char **argv) {
    int rc =
        cfg_main(argc, argv, "Trackstar API simulator for local stacks and tests", vars, NVARS);
    if (rc != 0) return rc > 0 ? 0 : 2;
    log_level lvl;
    if (log_level_parse(c_log_level, &lvl) != 0) {
        fprintf(stderr, "%s: LOG_LEVEL: expected debug, info, warn or error\n", argv[0]);
        return 2;
    }
    char *end;
    double scale = strtod(c_retry_scale, &end);
    if (*end || scale < 0 || scale > 1000) {
        fprintf(stderr, "%s: SIM_RETRY_SCALE: expected a number between 0 and 1000\n", argv[0]);
        return 2;
    }
    double sync_scale = strtod(c_sync_scale, &end);
    if (*end || !(sync_scale > 0) || sync_scale > 10) {
        fprintf(stderr, "%s: SIM_SYNC_SCALE: expected a number above 0 and at most 10\n", argv[0]);
        return 2;
    }
    if (strcmp(c_page_order, "id") != 0 && strcmp(c_page_order, "updated") != 0) {
        fprintf(stderr, "%s: SIM_PAGE_ORDER: expected id or updated\n", argv[0]);
        return 2;
    }
    if (strcmp(c_conn_shape, "list") != 0 && strcmp(c_conn_shape, "object") != 0) {
        fprintf(stderr, "%s: SIM_CONNECTION_SHAPE: expected list or object\n", argv[0]);
        return 2;
    }
    log_init("trackstar-sim", lvl);
    cfg_log(vars, NVARS);
    util_install_signals();
    sim_filter_clamp_limit = c_clamp;

    char err[256];
    sim_wh_config wc = {0};
    if (*c_secrets &&
        svix_keys_parse(c_secrets, wc.keys, SVIX_MAX_SECRETS, &wc.nkeys, err, sizeof err) != 0) {
        fprintf(stderr, "%s: SIM_WEBHOOK_SECRETS: %s\n", argv[0], err);
        return 2;
    }
    char public_base[256];
    if (*c_public_url)
        snprintf(public_base, sizeof public_base, "%s", c_public_url);
    else
        snprintf(public_base, sizeof public_base, "http://%s:%lld", c_bind, c_port);
    wc.url = c_webhook_url;
    wc.retry_scale = scale;
    wc.timeout_ms = (int)c_wh_timeout;
    wc.queue_max = (int)c_wh_queue;
    wc.concurrency = (int)c_wh_conc;
    wc.public_base = public_base;

    sim_sizes sz = {.orders = (int)c_orders,
                    .products = (int)c_products,
                    .warehouses = (int)c_warehouses,
                    .locations_per_wh = (int)c_locations,
                    .returns = (int)c_returns,
                    .inbound = (int)c_inbound,
                    .bills = (int)c_bills,
                    .shipping_methods = (int)c_methods,
                    .warehouse_customers = (int)c_wcust,
                    .labor = (int)c_labor};
    sim_store_init((uint64_t)c_seed, c_ts_dates);
    sim_g.w.sync_scale = sync_scale;
    sim_g.w.sync_max_ms = (int)c_sync_max_s * 1000;
    sim_g.w.ingest_lag = c_ingest_lag;
    sim_g.w.same_second = c_same_second;
    sim_g.w.quantity_only = c_quantity_only;
    sim_g.w.page_by_id = strcmp(c_page_order, "id") == 0;
    sim_g.w.short_pages = c_short_pages;
    sim_g.w.old_history_pct = (int)c_old_pct;
    sim_g.w.job_ms = (int)c_job_ms;
    sim_g.w.drop_pct = (int)c_drop_pct;
    int64_t now = util_now_ms();
    sim_reqstats_reset(now);
    sim_store_lock();
    for (long long i = 0; i < c_conns; i++) {
        if (!sim_conn_create(c_integration, &sz, 0, 0xffffffffu, now, err, sizeof err)) {
            sim_store_unlock();
            fprintf(stderr, "%s: cannot create start-up connection: %s\n", argv[0], err);
            return 1;
        }
    }
    sim_store_unlock();

    if (sim_wh_start(&wc, err, sizeof err) != 0) {
        log_error("webhook sender failed to start", "error", err, NULL);
        return 1;
    }
    sim_http_config hc = {.bind = c_bind,
                          .port = (int)c_port,
                          .api_key = c_api_key,
                          .get_rate = (int)c_get_rate,
                          .write_rate = (int)c_write_rate,
                          .crawl_mutations = (int)c_mutations,
                          .connection_object_shape = strcmp(c_conn_shape, "object") == 0,
                          .historical_sync_ms = (int)c_hist_ms,
                          .public_base = public_base,
                          .default_sizes = sz};
    if (sim_http_start(&hc, err, sizeof err) != 0) {
        log_error("cannot start the HTTP server", "error", err, NULL);
        sim_wh_stop();
        return 1;
    }
    char port[16], nconn[16];
    snprintf(port, sizeof port, "%lld", c_port);
    snprintf(nconn, sizeof nconn, "%lld", c_conns);
    /* ids and tokens are only available through GET /_sim/connections */
    log_info("trackstar-sim listening", "bind", c_bind, "port", port, "connections", nconn, NULL);

    int64_t next_crawl = c_crawl_ms > 0 ? util_mono_ms() + c_crawl_ms : 0;
    while (!util_stop) {
        struct timespec ts = {0, TICK_MS * 1000000L};
        nanosleep(&ts, NULL);
        int64_t wall = util_now_ms();
        sim_store_lock();
        for (int i = 0; i < sim_g.nconns; i++) {
            sim_conn *c = sim_g.conns[i];
            if (c->live && c->hist_due_ms && wall >= c->hist_due_ms)
                sim_crawl_complete_history(c, 0xffffffffu, wall);
            sim_ingest_tick(c, wall);
        }
        if (next_crawl && util_mono_ms() >= next_crawl) {
            for (int i = 0; i < sim_g.nconns; i++) {
                sim_crawl_result cr;
                sim_crawl_tick(sim_g.conns[i], (int)c_mutations, 0xffffffffu, wall, &cr);
            }
            next_crawl = util_mono_ms() + c_crawl_ms;
        }
        sim_store_unlock();
    }
    log_info("trackstar-sim stopping", NULL);
    sim_http_stop();
    sim_wh_stop();
    sim_store_lock();
    sim_store_free();
    sim_store_unlock();
    return 0;
}
