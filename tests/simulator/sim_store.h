/* sim_store.h - the simulator's copy of every connected WMS: connections and records.
 *
 * Records are compact C structs (no JSON trees); text fields that never change are derived
 * at render time from the record number, so 100k orders cost a few tens of MB. Each resource
 * keeps an index sorted by (updated_date, id) so date filters and keyset pagination are
 * cheap. One process-wide mutex (sim_store_lock) guards everything in this header.
 */
#ifndef SIM_STORE_H
#define SIM_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_ratelimit.h"

#define SIM_MAX_CONNECTIONS 64
#define SIM_MAX_WAREHOUSES 8
#define SIM_MAX_WC 8 /* warehouse customers per connection */
#define SIM_MAX_ORDER_LINES 6
#define SIM_MAX_SHIPMENTS 3
#define SIM_MAX_PACKAGES 3
#define SIM_MAX_KIT_ITEMS 4
#define SIM_MAX_RETURN_LINES 4
#define SIM_MAX_ASN_LINES 6
#define SIM_MAX_RECEIPTS 6
#define SIM_MAX_RECORDS 1000000 /* per resource per connection */
#define SIM_NONE 0xffu          /* "no value" for small uint8 references */

typedef enum sim_res {
    SIM_RES_ORDERS = 0,
    SIM_RES_INVENTORY,
    SIM_RES_PRODUCTS,
    SIM_RES_WAREHOUSES,
    SIM_RES_LOCATIONS,
    SIM_RES_SHIPPING_METHODS,
    SIM_RES_RETURNS,
    SIM_RES_INBOUND,
    SIM_RES_BILLS,
    SIM_RES_WAREHOUSE_CUSTOMERS,
    SIM_RES_COUNT
} sim_res;

/* Static facts about a resource: names used on the wire. */
typedef struct sim_res_info {
    const char *plural;    /* "orders": historical-sync data.resource, truth endpoint */
    const char *function;  /* "get_orders" */
    const char *event;     /* "order" -> order.created */
    const char *id_prefix; /* "ord" */
    const char *endpoint;  /* "GET /wms/orders" */
    int sync_frequency_s;
} sim_res_info;

extern const sim_res_info sim_res_infos[SIM_RES_COUNT];

/* Look a resource up by plural name; returns -1 when unknown. */
int sim_res_by_plural(const char *plural);
int sim_res_by_function(const char *function);

/* Every record starts with this, so generic code can sort, filter and page any table. */
typedef struct sim_meta {
    int64_t created_ms, updated_ms;       /* source (WMS) timestamps, whole seconds */
    int64_t ts_created_ms, ts_updated_ms; /* when this copy first saw / last changed it */
    uint32_t num;                         /* id number; the id is "<prefix>_<tag>_<num>" */
    uint8_t removed; /* deleted in the WMS by a test (POST /_sim/connections/{id}/records):
                        in no list, get or truth, and the crawl leaves it alone */
} sim_meta;

typedef struct sim_warehouse {
    sim_meta m;
    uint8_t city; /* index into the city table: name, code, address */
    uint8_t rev;  /* renames bump this */
} sim_warehouse;

typedef struct sim_location {
    sim_meta m;
    uint32_t wh;  /* warehouse num */
    uint8_t type; /* bin, shelf, pallet, floor */
    uint8_t aisle, bay, level;
} sim_location;

typedef struct sim_shipmethod {
    sim_meta m;
    uint8_t carrier, service, rev;
} sim_shipmethod;

typedef struct sim_wcust {
    sim_meta m;
    uint8_t name;
} sim_wcust;

typedef struct sim_product {
    sim_meta m;
    uint8_t wc;                               /* warehouse customer num, 0 = null */
    uint8_t is_kit, active, nitems, supplier; /* supplier SIM_NONE = null */
    int32_t price_c;                          /* cents */
    uint32_t inv[SIM_MAX_KIT_ITEMS];          /* inventory item nums */
    uint8_t unit_qty[SIM_MAX_KIT_ITEMS];
} sim_product;

typedef struct sim_inv_wh {
    int32_t onhand, committed, unfulfillable, awaiting;
    int32_t loc_a_qty;     /* the rest of onhand sits in loc_b */
    uint32_t loc_a, loc_b; /* location nums */
} sim_inv_wh;

typedef struct sim_inventory {
    sim_meta m;
    uint32_t product; /* the non-kit product this item stocks */
    uint8_t wc, active, has_lots, nwh;
    int32_t unit_cost_c;
    sim_inv_wh wh[]; /* one per warehouse (index = warehouse num - 1) */
} sim_inventory;

typedef enum sim_order_status {
    SIM_OS_OPEN = 0,
    SIM_OS_CONFIRMED,
    SIM_OS_PROCESSING,
    SIM_OS_PICKED,
    SIM_OS_PACKED,
    SIM_OS_PARTIAL,
    SIM_OS_FULFILLED,
    SIM_OS_BACKORDERED,
    SIM_OS_EXCEPTION,
    SIM_OS_CANCELLED,
    SIM_OS_OTHER,
    SIM_OS_COUNT
} sim_order_status;

typedef struct sim_order_line {
    uint32_t product;                 /* product num */
    int32_t unit_price_c, discount_c; /* discount_c < 0 = null */
    uint16_t qty;
    uint8_t picked;
} sim_order_line;

typedef struct sim_shipment {
    int64_t shipped_ms;         /* 0 = null */
    uint8_t status;             /* 0 open, 1 shipped, 2 cancelled */
    uint8_t wh;                 /* warehouse num */
    uint8_t line_from, line_to; /* the order lines [from, to) it carries */
    uint8_t npkg;               /* lines are spread over packages round-robin */
    uint8_t method;             /* shipping method num */
} sim_shipment;

typedef struct sim_order {
    sim_meta m;
    int64_t required_ship_ms; /* 0 = null */
    uint8_t wc, wh, status, type, channel, method, nlines, nship;
    uint8_t flags; /* SIM_OF_* */
    sim_order_line lines[SIM_MAX_ORDER_LINES];
    sim_shipment ship[SIM_MAX_SHIPMENTS];
} sim_order;

#define SIM_OF_SATURDAY 0x1
#define SIM_OF_SIGNATURE 0x2
#define SIM_OF_THIRD_PARTY 0x4

typedef enum sim_flow_status { /* returns and inbound shipments share the enum */
                               SIM_FS_OPEN = 0,
                               SIM_FS_IN_TRANSIT,
                               SIM_FS_RECEIVING,
                               SIM_FS_RECEIVED,
                               SIM_FS_CANCELLED,
                               SIM_FS_OTHER,
                               SIM_FS_COUNT
} sim_flow_status;

typedef struct sim_return_line {
    uint32_t inv;
    uint16_t expected, received, restocked;
    uint8_t reason;
} sim_return_line;

typedef struct sim_return {
    sim_meta m;
    int64_t shipped_ms, arrived_ms; /* 0 = null */
    uint32_t order;                 /* order num, 0 = null */
    uint8_t wc, status, wh, nlines, has_ship, carrier;
    sim_return_line lines[SIM_MAX_RETURN_LINES];
} sim_return;

typedef struct sim_asn_line {
    uint32_t inv;
    int32_t expected, received, unit_cost_c;
} sim_asn_line;

typedef struct sim_receipt {
    int64_t arrived_ms;
    uint32_t num; /* receipt id number */
    int32_t qty[SIM_MAX_ASN_LINES];
} sim_receipt;

typedef struct sim_inbound {
    sim_meta m;
    int64_t expected_ms; /* 0 = null */
    uint8_t wc, status, wh, nlines, nrcpt, supplier;
    sim_asn_line lines[SIM_MAX_ASN_LINES];
    sim_receipt rcpt[SIM_MAX_RECEIPTS];
} sim_inbound;

typedef struct sim_bill {
    sim_meta m;
    uint32_t obj_num; /* 0 = null object */
    int32_t amount_c;
    uint8_t wc, charge, obj_type; /* obj_type: 0 none, 1 order, 2 inbound_shipment, 3 return */
} sim_bill;

/* A table of one resource for one connection. Owns its rows. */
typedef struct sim_table {
    void **rows; /* rows[num - 1] */
    uint32_t n, cap;
    uint32_t *order; /* row indexes sorted by (updated_ms, num); n entries */
} sim_table;

/* Generated data sizes (per connection). */
typedef struct sim_sizes {
    int orders, products, warehouses, locations_per_wh, returns, inbound, bills, shipping_methods,
        warehouse_customers;
} sim_sizes;

/* Injected HTTP faults; counts are consumed one per request. */
typedef struct sim_http_faults {
    int force_429, force_5xx, drop, slow_count, slow_ms;
    int short_pages; /* serve fewer items than limit while next_token stays set */
} sim_http_faults;

typedef struct sim_conn {
    int live; /* 0 after DELETE /connections */
    int idx;
    char id[40];    /* uuid */
    char token[72]; /* access token: secret */
    char tag[8];    /* 6 hex chars inside record ids */
    char integration[40];
    char customer_id[72];
    int has_customer;
    int64_t created_ms, last_used_ms, times_used;
    int webhooks_disabled;
    uint32_t actions;    /* bit per sim_res: the integration implements get_x */
    uint32_t hist_done;  /* bit per sim_res: historical sync complete */
    int64_t hist_due_ms; /* pending syncs complete then (0 = only on demand) */
    int64_t crawl_start_ms[SIM_RES_COUNT], crawl_end_ms[SIM_RES_COUNT];
    uint64_t seed; /* derives every record's invariant text */
    uint64_t rng;  /* mutation stream */
    sim_sizes sizes;
    sim_table t[SIM_RES_COUNT];
    uint32_t next_receipt;
    /* connection errors */
    int invalid_creds;
    uint32_t missing_perm; /* bit per sim_res */
    int64_t err_first_seen, err_last_seen;
    sim_rl rl;
    sim_http_faults faults;
} sim_conn;

/* The store: every connection plus global settings. */
typedef struct sim_store {
    pthread_mutex_t mu;
    sim_conn *conns[SIM_MAX_CONNECTIONS];
    int nconns;
    uint64_t seed;
    int trackstar_dates;    /* render trackstar_created_date / trackstar_updated_date */
    sim_http_faults faults; /* apply to every request with an access token */
} sim_store;

extern sim_store sim_g;

void sim_store_init(uint64_t seed, int trackstar_dates);
void sim_store_free(void);
void sim_store_lock(void);
void sim_store_unlock(void);

/* Create a connection with generated data. Caller holds the lock. integration must be
 * known to the catalog (sim_catalog.h); actions = 0 takes the integration's defaults.
 * hist_done = 0 leaves every historical sync pending. Returns the connection (owned by
 * the store) or NULL with errstr. */
sim_conn *sim_conn_create(const char *integration, const sim_sizes *sz, uint32_t actions,
                          uint32_t hist_done, int64_t base_ms, char *errstr, size_t errlen);

sim_conn *sim_conn_by_token(const char *token); /* live connections only */
sim_conn *sim_conn_by_id(const char *id);       /* live connections only */

/* Table helpers (caller holds the lock). */
void *sim_table_get(const sim_table *t, uint32_t num); /* NULL when out of range */
int sim_table_append(sim_table *t, void *row);         /* takes ownership; 0 / -1 */
void sim_table_touch(sim_table *t, uint32_t num);      /* re-sort after updated_ms changed */
void sim_table_free(sim_table *t);
/* First position in t->order whose (updated_ms, num) is > (upd, num). */
uint32_t sim_table_after(const sim_table *t, int64_t upd, uint32_t num);
/* First position whose updated_ms >= upd. */
uint32_t sim_table_lower(const sim_table *t, int64_t upd);

/* "ord_1a2b3c_000042" into buf; parse back (0 on success, -1 when not this conn's id). */
void sim_format_id(const sim_conn *c, sim_res r, uint32_t num, char *buf, size_t len);
int sim_parse_id(const sim_conn *c, sim_res r, const char *id, uint32_t *num);

/* Deterministic 64-bit mix used for derived text (stable for a given seed). */
uint64_t sim_mix(uint64_t a, uint64_t b);
/* xorshift stream: next value, and a value in [0, n). */
uint64_t sim_rand(uint64_t *state);
uint32_t sim_rand_below(uint64_t *state, uint32_t n);

/* Set a record's source updated_ms to max(now, previous + 1 s), its ts_updated_ms to now,
 * and re-sort. Keeps updated_date strictly increasing per record. */
void sim_record_bump(sim_conn *c, sim_res r, sim_meta *m, int64_t now_ms);

#endif
