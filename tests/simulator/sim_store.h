/* sim_store.h - every connected WMS and Trackstar's copy of it: connections and records.
 *
 * Two versions of the world are kept apart, as in production: the WMS, where a change
 * happens at time T (its updated_date), and Trackstar's stored copy, which the API serves
 * and which takes a change in only when one of Trackstar's crawls reads it (sim_ingest.h).
 * A table's row is the copy's version; a record the WMS changed since holds the WMS's
 * version aside (sim_pending.wms) until a crawl takes it. A record the copy does not hold
 * yet (created since, or older than the historical sync's window) has its WMS version as
 * the row and ts_created_ms 0.
 *
 * Records are compact C structs (no JSON trees); text fields that never change are derived
 * at render time from the record number, so 100k orders cost a few tens of MB. Each resource
 * keeps an index sorted by (updated_date, id) of the copy's versions, for date-ordered
 * listings. One process-wide mutex (sim_store_lock) guards everything in this header.
 */
#ifndef SIM_STORE_H
#define SIM_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_ratelimit.h"
#include "strmap.h"

#define SIM_MAX_CONNECTIONS 1000000 /* a bound on memory, not a table size */
#define SIM_MAX_WAREHOUSES 8
#define SIM_MAX_WC 8 /* warehouse customers per connection */
#define SIM_MAX_ORDER_LINES 6
#define SIM_MAX_SHIPMENTS 3
#define SIM_MAX_PACKAGES 3
#define SIM_MAX_KIT_ITEMS 4
#define SIM_MAX_RETURN_LINES 4
#define SIM_MAX_ASN_LINES 6
#define SIM_MAX_RECEIPTS 6
#define SIM_MAX_RECORDS 1000000   /* per resource per connection */
#define SIM_MAX_JOBS 32           /* on-demand sync jobs kept per connection */
#define SIM_MAX_FORCE_SYNCS 8     /* force syncs in progress per connection */
#define SIM_MAX_DROPS 20000       /* withheld webhook versions listed per connection */
#define SIM_MAX_LEDGER_GAPS 20000 /* movements made without a ledger entry, listed */
#define SIM_NONE 0xffu            /* "no value" for small uint8 references */
#define SIM_MAX_USERS 12          /* warehouse workers per connection (labor activities) */

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
    SIM_RES_LEDGER,    /* the inventory ledger: kept only where enabled (SIM_ON_REQUEST) */
    SIM_RES_CHANNELS,  /* order channels: read with get_orders, no webhooks */
    SIM_RES_SUPPLIERS, /* inbound-shipment suppliers: read with get_inbound_shipments, none */
    SIM_RES_LABOR,     /* labor activities: who picked, packed, received what, and when */
    SIM_RES_COUNT
} sim_res;

/* Resources Trackstar enables only on request: not in a connection's default actions
 * (sim_conn_create), only when the control API asks for them. */
#define SIM_ON_REQUEST (1u << SIM_RES_LEDGER)

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
/* The resource that owns function (get_orders: orders), -1 when none. */
int sim_res_by_function(const char *function);

/* Order channels and suppliers have no function of their own: Trackstar reads them with
 * get_orders / get_inbound_shipments, in that function's crawls, and sends no webhooks
 * for them. sim_res_owner gives the resource whose function reads r (r itself for the
 * others); sim_res_derive sets each such bit of mask as its owner's (for the action,
 * historical-sync and force-sync masks, which are kept per resource). Lists of functions
 * name each function once: skip the resources that do not own theirs. */
sim_res sim_res_owner(sim_res r);
uint32_t sim_res_derive(uint32_t mask);
#define SIM_NO_WEBHOOKS ((1u << SIM_RES_CHANNELS) | (1u << SIM_RES_SUPPLIERS))

/* Every record starts with this, so generic code can sort, filter and page any table. */
typedef struct sim_meta {
    int64_t created_ms, updated_ms; /* the WMS's timestamps of this version, whole seconds */
    /* when Trackstar's copy first held / last changed it, whole seconds; ts_created_ms 0 =
     * the copy does not hold the record (yet) */
    int64_t ts_created_ms, ts_updated_ms;
    uint32_t num;    /* id number; the id is "<prefix>_<tag>_<num>" */
    uint8_t removed; /* on the copy's row: deleted in the WMS by a test (POST
                        /_sim/connections/{id}/records): in no list, get or truth, and
                        neither the WMS nor a crawl changes it until it comes back */
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

/* An order channel or a supplier: num - 1 indexes sim_channels / sim_suppliers for the
 * ones orders, inbound shipments and products reference; later ones are new. */
typedef struct sim_named_rec {
    sim_meta m;
    uint8_t name; /* index into sim_channels / sim_suppliers */
    uint8_t rev;  /* renames bump this */
    uint8_t wc;   /* warehouse customer num, 0 = null */
} sim_named_rec;

/* Why an inventory ledger entry moved stock (the OpenAPI's event_type enum, in part). */
typedef enum sim_ledger_event {
    SIM_LE_OPENING = 0, /* adjustment: the stock the item had when the ledger began */
    SIM_LE_SHIPMENT,    /* order_shipment: an order's shipment took units out */
    SIM_LE_RECEIPT,     /* inbound_receipt: an inbound shipment's receipt */
    SIM_LE_RETURN,      /* return_receipt: a received return restocked */
    SIM_LE_FOUND,       /* adjustment: units found */
    SIM_LE_COUNT_FIX,   /* adjustment: a cycle count corrected onhand */
    SIM_LE_COUNT
} sim_ledger_event;

/* One inventory ledger entry: an immutable, signed change of one item's onhand in one
 * warehouse (sim_ledger_append). Summed per item and warehouse, the entries give onhand. */
typedef struct sim_ledger {
    sim_meta m;
    uint32_t inv;     /* inventory item num */
    uint32_t loc;     /* location num, 0 = null */
    uint32_t obj_num; /* the causing order / inbound shipment / return, 0 = null */
    int32_t qty;      /* signed movement of onhand */
    uint8_t wh;       /* warehouse num */
    uint8_t event;    /* sim_ledger_event */
} sim_ledger;

/* What a labor activity was for (the OpenAPI's associated_object_type; 0 = null). */
typedef enum sim_labor_obj {
    SIM_LO_NONE = 0,
    SIM_LO_ORDER,
    SIM_LO_INBOUND,
    SIM_LO_RETURN,
    SIM_LO_INVENTORY,
    SIM_LO_COUNT
} sim_labor_obj;

/* One labor activity: a user's pick, pack, put away, transfer or receipt in a warehouse.
 * In progress while end_ms is 0; ending it (sim_crawl) is an update. */
typedef struct sim_labor {
    sim_meta m;
    int64_t start_ms, end_ms; /* end_ms 0 = null: in progress */
    uint32_t obj_num;         /* the associated record, 0 = null */
    int32_t qty;              /* units handled, -1 = null */
    uint8_t user;             /* 1..SIM_MAX_USERS */
    uint8_t wh;               /* warehouse num */
    uint8_t type;             /* index into sim_labor_types */
    uint8_t obj_type;         /* sim_labor_obj */
} sim_labor;

/* What the copy lacks of one record: the WMS changed it since a crawl last read it. */
typedef struct sim_pending {
    void *wms;          /* the WMS's version (owned) when the copy holds an older one; NULL
                           when the row is the WMS's own (the copy does not hold it yet) */
    int64_t since_ms;   /* the WMS's first change the copy lacks (ms); 0 = nothing pending */
    int64_t visible_ms; /* when the crawl in progress takes it in; 0 = no crawl has it yet */
    uint32_t dpos;      /* its position + 1 in the table's dirty list */
} sim_pending;

/* A table of one resource for one connection. Owns its rows. */
typedef struct sim_table {
    void **rows;       /* rows[num - 1]: the copy's version (see the file comment) */
    sim_pending *pend; /* pend[num - 1] */
    uint32_t n, cap;
    uint32_t *order; /* row indexes sorted by (updated_ms, num); n entries */
    uint32_t *dirty; /* nums whose pend.since_ms is set */
    uint32_t ndirty, capdirty;
    uint32_t page_pos;    /* the id a client's listing last paged past (mid-paging counter) */
    int64_t page_seen_ms; /* when */
} sim_table;

/* Generated data sizes (per connection). */
typedef struct sim_sizes {
    int orders, products, warehouses, locations_per_wh, returns, inbound, bills, shipping_methods,
        warehouse_customers, labor;
} sim_sizes;

/* Injected HTTP faults; counts are consumed one per request. */
typedef struct sim_http_faults {
    int force_429, force_5xx, drop, slow_count, slow_ms;
    int force_401;   /* answered as for a revoked access token */
    int short_pages; /* serve fewer items than limit while next_token stays set */
} sim_http_faults;

/* An on-demand sync job (POST /connections/on-demand-syncs). */
typedef enum sim_job_status {
    SIM_JOB_OPEN = 0,
    SIM_JOB_COMPLETED,
    SIM_JOB_CANCELLED,
    SIM_JOB_STUCK
} sim_job_status;

typedef struct sim_job {
    char id[40];
    sim_res res;
    int64_t start_ms, end_ms; /* the requested window */
    int64_t created_ms, due_ms;
    sim_job_status status;
    int stuck; /* ends as stuck instead of completed */
} sim_job;

/* A force sync in progress: the crawls it started or waits for. */
typedef struct sim_force_run {
    uint32_t waiting; /* resources whose crawl has not ended yet */
    uint32_t mask;    /* every resource it covers */
} sim_force_run;

/* A resource webhook the drop knob withheld (never delivered). */
/* A movement of onhand the WMS made without appending its ledger entry (the ledger-gap
 * fault, for the drift test): what the ledger lacks, when. */
typedef struct sim_ledger_gap {
    uint32_t inv;
    uint8_t wh;
    int32_t qty;
    int64_t at_ms; /* whole seconds, as an entry's entry_date */
} sim_ledger_gap;

typedef struct sim_drop {
    uint8_t res;
    uint32_t num;
    int64_t updated_ms, ts_updated_ms;
    char suffix[20]; /* "created", "updated", "shipment.created", ... */
} sim_drop;

/* What the unkind world did to a connection, for tests to prove each case happened. */
typedef struct sim_counters {
    long long late;          /* versions that reached the copy after a later crawl started */
    long long equal_updated; /* copy versions whose updated_date equals the previous one's */
    long long quantity_only; /* WMS changes that left updated_date as it was */
    long long mid_paging;    /* copy changes behind a client's page position, while it paged */
    long long short_pages;   /* pages with fewer records than limit and a next_token */
    long long crawls, force_syncs, jobs_completed, jobs_stuck;
} sim_counters;

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
    /* Trackstar's crawls, per resource (sim_ingest.c): the last completed one (as
     * GET /connections reports it), the one in progress, and the next scheduled start */
    int64_t crawl_start_ms[SIM_RES_COUNT], crawl_end_ms[SIM_RES_COUNT];
    int64_t run_start_ms[SIM_RES_COUNT], run_end_ms[SIM_RES_COUNT]; /* run_end 0 = none */
    int64_t next_crawl_ms[SIM_RES_COUNT];
    sim_force_run force[SIM_MAX_FORCE_SYNCS];
    sim_job *jobs; /* SIM_MAX_JOBS slots (owned), allocated at the first job: most
                      connections never have one, and 100,000 connections must fit */
    int njobs;
    sim_drop *drops; /* withheld webhooks (owned), at most SIM_MAX_DROPS */
    int ndrops;
    long long ndropped;
    int ledger_gap_pct;   /* movements appended without their entry, in percent */
    sim_ledger_gap *gaps; /* those movements (owned), at most SIM_MAX_LEDGER_GAPS */
    int ngaps;
    sim_counters n;
    uint64_t seed; /* derives every record's invariant text */
    uint64_t rng;  /* mutation stream */
    sim_sizes sizes;
    sim_table t[SIM_RES_COUNT];
    uint32_t next_receipt;
    /* connection errors */
    int invalid_creds;
    uint32_t missing_perm; /* bit per sim_res */
    int64_t err_first_seen, err_last_seen;
    int64_t err_next_seen_ms; /* the next failed crawl attempt (connection-error.updated) */
    sim_rl rl;
    sim_http_faults faults;
} sim_conn;

/* How unkind the world is (docs/simulator.md): every knob defaults to the harsh side. */
typedef struct sim_world {
    double sync_scale;   /* multiplies the reference's sync_frequency (tests: ~0.001) */
    int sync_max_ms;     /* caps the scaled sync_frequency (0 = no cap) */
    int ingest_lag;      /* 1: changes reach the copy only through crawls; 0: at once */
    int same_second;     /* 1: updated_date is the change's second, equal to the previous
                            version's within one second; 0: strictly increasing */
    int quantity_only;   /* 1: inventory quantity changes leave updated_date as it was */
    int page_by_id;      /* 1: listings page in id order (a record changing behind the
                            client's position is not shown again); 0: (updated_date, id) */
    int short_pages;     /* 1: pages often hold fewer records than limit */
    int old_history_pct; /* share of orders, returns, ASNs and bills older than the
                            historical sync's window: not in the copy until on-demand sync */
    int job_ms;          /* how long an on-demand sync job runs */
    int drop_pct;        /* resource webhooks withheld (never delivered), in percent */
    int stuck_jobs;      /* the next N on-demand sync jobs end stuck */
    uint64_t rng;        /* the world's own random stream (crawl timing, drops, pages) */
} sim_world;

/* The store: every connection plus global settings. A connection keeps its index
 * (sim_conn.idx) for the life of the store: deleted ones stay, not live, so that
 * GET /connections page tokens (an index) and reinstalls (an index) stay valid. */
typedef struct sim_store {
    pthread_mutex_t mu;
    sim_conn **conns; /* nconns used of capconns (owned) */
    int nconns, capconns;
    strmap *by_id, *by_token; /* -> index in conns (common/strmap.h: O(1) lookups) */
    uint64_t seed;
    int trackstar_dates;    /* render trackstar_created_date / trackstar_updated_date */
    sim_http_faults faults; /* apply to every request with an access token */
    sim_world w;
} sim_store;

extern sim_store sim_g;

/* The harsh defaults (what sim_store_init installs). */
void sim_world_defaults(sim_world *w);

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
sim_conn *sim_conn_at(const char *id);          /* deleted ones too (truth, test hooks) */

/* Table helpers (caller holds the lock). */
void *sim_table_get(const sim_table *t, uint32_t num); /* the copy's row; NULL out of range */
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

/* ---- the WMS's versions and the copy (caller holds the lock) ---- */

/* Bytes of a record of r (inventory items carry one entry per warehouse). */
size_t sim_record_size(sim_res r, const void *rec);

/* The WMS's current version of record num (its pending version, else the row). */
void *sim_wms_get(const sim_table *t, uint32_t num);

/* 1 when the copy holds the record (the API shows it). */
int sim_in_copy(const void *rec);

/* 1 when the record is, or will be, in the copy: held, or a change is pending. A record
 * older than the historical sync's window that never changed since is not. */
int sim_in_scope(const sim_table *t, uint32_t num);

/* The WMS's version of record num, ready to be changed at now_ms: when the copy holds the
 * record, a private WMS version is made on first use. The record becomes pending. NULL on
 * out of memory. */
void *sim_wms_edit(sim_conn *c, sim_res r, uint32_t num, int64_t now_ms);

/* The WMS stamps a change it made at now_ms on rec (a version from sim_wms_edit):
 * updated_date becomes the change's second (equal to the previous version's within the
 * same second; strictly later when the world's same_second is off). touch 0 leaves
 * updated_date as it was (a quantity-only change of a WMS that does not touch it). */
void sim_wms_stamp(sim_conn *c, sim_res r, void *rec, int64_t now_ms, int touch);

/* A record the WMS just created (appended to t as num): pending from now_ms. */
void sim_wms_created(sim_table *t, uint32_t num, int64_t now_ms);

/* Forget the pending state of num (the copy took it). Frees its WMS version. */
void sim_pending_clear(sim_table *t, uint32_t num);

/* The WMS changed the onhand of inventory item inv in warehouse wh by qty (signed) at
 * now_ms because of event (obj_num: the order, inbound shipment or return that caused
 * it, else 0): append the ledger entry when the connection keeps a ledger (nothing when
 * qty is 0 or the ledger is not enabled). The entry is a WMS record like any other: the
 * copy takes it, and its inventory_ledger.created is sent, at a crawl of the ledger.
 * 1 when an entry was added, 0 when none was due, -1 when the table is full or memory
 * ran out. */
int sim_ledger_append(sim_conn *c, uint32_t inv, uint32_t wh, int32_t qty, sim_ledger_event event,
                      uint32_t obj_num, int64_t now_ms);

/* The same movement, made by a WMS that forgot its ledger entry: listed at
 * GET /_sim/ledger/gaps. 0, or -1 when the list is full or memory ran out. */
int sim_ledger_gap_add(sim_conn *c, uint32_t inv, uint32_t wh, int32_t qty, int64_t now_ms);

#endif
