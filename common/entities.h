/* entities.h - the registry: one line per canonical entity, and everything the pipeline
 * derives from it. The fetcher polls what it lists, the gateway keys its webhooks, the
 * normalizer routes them to the entity's mapper, the writer to its table spec, tsctl
 * lists and counts them, and topic_all (the dev broker, the topic job) creates their
 * topics. docs/adding-an-entity.md gives the steps for a new one.
 *
 * TS_ENTITIES(X) calls X once per entity, in the order the writer applies a batch:
 *
 *   X(name, NAME, entity, table, path, prefix, events, aliases, poll, interval_s, enabled)
 *
 *   name        our resource name: the raw topic's `resource` header and key, the topic
 *               wms.<name>.v1, the fetcher's stream, Trackstar's function get_<name>
 *               (unless enabled says WITH(other))
 *   NAME        the same in capitals: FETCHER_INTERVAL_<NAME>_S, TS_ENT_<NAME>
 *   entity      the canonical record's `entity`; its mapper is canon_entity_<entity>
 *               (normalizer/), its table spec wdb_spec_<name> (writer/spec_*.c)
 *   table       the PostgreSQL table holding one row per record (writer/migrations/)
 *   path        the list endpoint; "%s" stands for a warehouse id when polled per warehouse,
 *               for an order id when polled per order
 *   prefix      the webhook event prefix as the 2025 OpenAPI spells it: "<prefix>.<event>".
 *               Trackstar also sends '_' for '-' (shipping_method.created): every
 *               comparison here treats the two alike, so both spellings are one entry
 *   events      the events Trackstar sends for it (TS_LIST("created", ...)), or TS_NONE
 *               when Trackstar sends no webhooks for it (it is only polled)
 *   aliases     other names Trackstar uses for it, in connection.historical-sync-completed
 *               (data.resource) or Link's endpoint list; NULL when none. The singular
 *               (entity, prefix) and get_<name> are accepted without being listed
 *   poll        INCREMENTAL: by a cursor on updated_date; COMPLETE: the whole list every
 *               run, so a listing is the complete set of live records; PER_WAREHOUSE: one
 *               list per warehouse, a cursor over all of them; PER_ORDER: the packed
 *               orders listed by a cursor on their updated_date, then one read per order
 *               (order packs: the response has no id or date, the fetcher gives it the
 *               order's)
 *   interval_s  the default seconds between two polls (reference §6.2)
 *   enabled     ALWAYS, or ON_REQUEST when Trackstar enables the function only on request;
 *               WITH(other) when it has no function of its own: Trackstar reads it with
 *               get_<other> (order channels with get_orders), so a connection has it when
 *               its available_actions has get_<other>, and its schedule, first sync and
 *               force syncs are get_<other>'s
 *
 * Trackstar sends more event families than the pipeline models: TS_UNMODELLED lists
 * them, so that the gateway still keys them by record and the normalizer counts them as
 * ignored instead of dead-lettering them. Modelling one moves its line up here.
 */
#ifndef TS_ENTITIES_H
#define TS_ENTITIES_H

#include <stddef.h>

/* A NULL-terminated list of strings, as an entry's events or aliases. */
#define TS_LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
/* The empty list: an entity Trackstar sends no webhooks for (TS_LIST() does not compile). */
#define TS_NONE ((const char *const[]){NULL})

// clang-format off
#define TS_ENTITIES(X)                                                                             \
    X(orders, ORDERS, order, orders, "/wms/orders", "order",                                       \
      TS_LIST("created", "updated", "shipment.created"), NULL, INCREMENTAL, 3600, ALWAYS)          \
    X(inventory, INVENTORY, inventory_item, inventory_items, "/wms/inventory", "inventory",        \
      TS_LIST("created", "updated"), NULL, COMPLETE, 3600, ALWAYS)                                 \
    X(products, PRODUCTS, product, products, "/wms/products", "product",                           \
      TS_LIST("created", "updated"), NULL, INCREMENTAL, 3600, ALWAYS)                              \
    X(warehouses, WAREHOUSES, warehouse, warehouses, "/wms/warehouses", "warehouse",               \
      TS_LIST("created", "updated"), NULL, COMPLETE, 43200, ALWAYS)                                \
    X(warehouse_locations, WAREHOUSE_LOCATIONS, warehouse_location, warehouse_locations,           \
      "/wms/warehouses/%s/locations", "warehouse-location",                                        \
      TS_LIST("created", "updated"), TS_LIST("locations"), PER_WAREHOUSE, 43200, ALWAYS)           \
    X(shipping_methods, SHIPPING_METHODS, shipping_method, shipping_methods, "/wms/shipping-methods",\
      "shipping-method", TS_LIST("created", "updated"), NULL, COMPLETE, 43200, ALWAYS)             \
    X(returns, RETURNS, return, returns, "/wms/returns", "return",                                 \
      TS_LIST("created", "updated"), NULL, INCREMENTAL, 3600, ALWAYS)                              \
    X(inbound_shipments, INBOUND_SHIPMENTS, inbound_shipment, inbound_shipments,                   \
      "/wms/inbound-shipments", "inbound-shipment",                                                \
      TS_LIST("created", "updated", "receipt.created"), TS_LIST("get_inbound_shipment"),           \
      INCREMENTAL, 3600, ALWAYS)                                                                   \
    X(bills, BILLS, bill, bills, "/wms/billing", "bill",                                           \
      TS_LIST("created", "updated"), TS_LIST("billing"), INCREMENTAL, 3600, ON_REQUEST)            \
    X(warehouse_customers, WAREHOUSE_CUSTOMERS, warehouse_customer, warehouse_customers,           \
      "/wms/warehouse-customers", "warehouse-customer", TS_LIST("created", "updated"), NULL,       \
      INCREMENTAL, 43200, ALWAYS)                                                                  \
    X(inventory_ledger, INVENTORY_LEDGER, inventory_ledger_entry, inventory_ledger,                \
      "/wms/inventory/ledger", "inventory_ledger", TS_LIST("created", "updated"), NULL,            \
      INCREMENTAL, 3600, ON_REQUEST)                                                               \
    X(order_channels, ORDER_CHANNELS, order_channel, order_channels, "/wms/orders/channels",       \
      "order-channel", TS_NONE, NULL, COMPLETE, 43200, WITH(orders))                               \
    X(inbound_shipment_suppliers, INBOUND_SHIPMENT_SUPPLIERS, inbound_shipment_supplier,           \
      inbound_shipment_suppliers, "/wms/inbound-shipments/suppliers",                              \
      "inbound-shipment-supplier", TS_NONE, NULL, COMPLETE, 43200, WITH(inbound_shipments))        \
    X(labor_activities, LABOR_ACTIVITIES, labor_activity, labor_activities,                        \
      "/wms/labor-activities", "labor_activity", TS_LIST("created", "updated"), NULL,              \
      INCREMENTAL, 3600, ALWAYS)                                                                   \
    X(order_packs, ORDER_PACKS, order_pack, order_packs, "/wms/orders/%s/packs", "order-pack",     \
      TS_NONE, NULL, PER_ORDER, 3600, WITH(orders))

/* Passed on, not modelled: X(prefix, resource, events, why). The resource is the raw
 * topic's key part, as the fetcher would name it; why is what the normalizer counts. */
#define TS_UNMODELLED(X)                                                                           \
    X("cart-order", cart_orders, TS_LIST("created", "updated", "cart-shipment.created"),           \
      "cart events are not modelled")                                                              \
    X("cart-product", cart_products, TS_LIST("created", "updated"), "cart events are not modelled")\
    X("cart-warehouse", cart_warehouses, TS_LIST("created", "updated"),                            \
      "cart events are not modelled")                                                              \
    X("freight-shipment", freight_shipments, TS_LIST("created", "updated"),                        \
      "freight events are not modelled")                                                           \
    X("carrier-invoice-line-item", carrier_invoice_line_items, TS_LIST("created", "updated"),      \
      "carrier events are not modelled")                                                           \
    X("carrier-file", carrier_files, TS_LIST("created"), "carrier events are not modelled")
// clang-format on

/* An entity's two canonical topics (KAFKA_TOPIC_PREFIX goes in front; see topics.h):
 * the public one, wms.<name>.v1, that the writer publishes, and the internal one,
 * trackstar.canonical.<name>.v1, that the normalizer writes and the writer reads. */
#define TS_TOPIC(name) "wms." #name ".v1"
#define TS_TOPIC_INTERNAL(name) "trackstar.canonical." #name ".v1"

/* TS_ENT_ORDERS, ...: an entity's index in ts_entities[]. */
#define TS_ENT_ENUM(name, NAME, ...) TS_ENT_##NAME,
typedef enum ts_entity_id { TS_ENTITIES(TS_ENT_ENUM) TS_ENTITY_COUNT } ts_entity_id;
#undef TS_ENT_ENUM

typedef enum ts_poll {
    TS_POLL_INCREMENTAL = 0, /* cursor on a date field, gte with overlap */
    TS_POLL_COMPLETE,        /* the whole list every run, no cursor */
    TS_POLL_PER_WAREHOUSE,   /* one list per warehouse, one cursor over all */
    TS_POLL_PER_ORDER        /* orders listed by a cursor, then one read per order */
} ts_poll;

typedef struct ts_entity {
    const char *name;           /* "orders" */
    const char *entity;         /* "order" */
    const char *topic;          /* "wms.orders.v1" */
    const char *topic_internal; /* "trackstar.canonical.orders.v1" */
    const char *table;          /* "orders" */
    const char *path;           /* "/wms/orders" */
    const char *function;       /* "get_orders"; order_channels: "get_orders" too */
    const char *prefix;         /* "order" */
    const char *const *events;  /* "created", "updated", ...; NULL-terminated */
    const char *const *aliases; /* NULL-terminated, or NULL */
    const char *interval_env;   /* "FETCHER_INTERVAL_ORDERS_S" */
    int interval_s;             /* default of interval_env */
    ts_poll poll;
    int on_request; /* Trackstar enables it only on request (bills) */
} ts_entity;

extern const ts_entity ts_entities[TS_ENTITY_COUNT];

/* A webhook event family: the prefix before the first '.', the resource it is keyed
 * by, its events, and the entity it feeds (or -1 with the reason it is not modelled).
 * ts_families holds every entity's family first (index = entity id), then the
 * unmodelled ones. */
typedef struct ts_family {
    const char *prefix;
    const char *resource;
    const char *const *events;
    int entity;          /* ts_entity_id, or -1 */
    const char *ignored; /* entity -1: why, for the normalizer's count */
} ts_family;

extern const ts_family ts_families[];
extern const int ts_family_count;

/* The entity named by s: its name, entity, prefix, function or one of its aliases ('_'
 * and '-' alike, case as written). -1 when none. */
int ts_entity_lookup(const char *s);

/* The entities Trackstar's function fn reads, one bit per ts_entity_id: the entity fn
 * names (by any name ts_entity_lookup takes) and every entity enabled WITH it
 * ("get_orders": orders and order_channels). 0 when fn names none. */
unsigned ts_function_reads(const char *fn);

/* 1 when entity e has a function of its own (get_<name>), 0 when it is read WITH
 * another's. */
int ts_entity_owns_function(int e);

/* The entity whose public topic is topic (without KAFKA_TOPIC_PREFIX), or -1. */
int ts_entity_by_topic(const char *topic);

/* The entity whose internal topic is topic (without KAFKA_TOPIC_PREFIX), or -1. */
int ts_entity_by_internal_topic(const char *topic);

/* The family whose prefix equals p[0..n) ('_' and '-' alike, case as written), or NULL. */
const ts_family *ts_family_by_prefix(const char *p, size_t n);

/* Index of the event a[0..n) (the part after "<prefix>.") in f->events ('_' and '-'
 * alike), or -1. */
int ts_family_event(const ts_family *f, const char *a, size_t n);

/* 1 when a[0..n) and the string b are equal, '_' and '-' counting as one character. */
int ts_name_eq(const char *a, size_t n, const char *b);

#endif
