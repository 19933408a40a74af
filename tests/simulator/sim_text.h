/* sim_text.h - the fixed vocabulary records are made of (cities, carriers, products...).
 * Records store small indexes into these tables; the renderer turns them into text. */
#ifndef SIM_TEXT_H
#define SIM_TEXT_H

typedef struct sim_city {
    const char *city, *code, *street, *state, *postal, *country;
} sim_city;

typedef struct sim_carrier {
    const char *id, *name, *scac, *tracking_prefix, *tracking_url; /* url takes %s */
} sim_carrier;

typedef struct sim_named {
    const char *id, *name;
} sim_named;

#define SIM_TEXT_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

extern const sim_city sim_cities[];
extern const int sim_ncities;
extern const sim_carrier sim_carriers[];
extern const int sim_ncarriers;
extern const char *const sim_services[];       /* "Ground", "2 Day", ... */
extern const char *const sim_service_levels[]; /* "ground", "2day", ... same order */
extern const int sim_nservices;
extern const sim_named sim_channels[];
extern const int sim_nchannels;
extern const sim_named sim_suppliers[];
extern const int sim_nsuppliers;
extern const char *const sim_first_names[];
extern const int sim_nfirst;
extern const char *const sim_last_names[];
extern const int sim_nlast;
extern const char *const sim_streets[];
extern const int sim_nstreets;
extern const char *const sim_product_nouns[];
extern const int sim_nnouns;
extern const char *const sim_product_adjs[];
extern const int sim_nadjs;
extern const char *const sim_wc_names[];
extern const int sim_nwc_names;
extern const char *const sim_location_types[];
extern const int sim_nlocation_types;
extern const char *const sim_return_reasons[];
extern const int sim_nreturn_reasons;
extern const char *const sim_charge_types[];
extern const int sim_ncharge_types;
extern const char *const sim_order_types[]; /* d2c, b2b, dropship, transfer */
extern const int sim_norder_types;

/* How an inventory ledger entry names its cause, indexed by sim_ledger_event. */
typedef struct sim_ledger_text {
    const char *type;     /* the OpenAPI's event_type: "order_shipment", "adjustment", ... */
    const char *raw;      /* raw_event_type, as a WMS would name it */
    const char *reason;   /* NULL = null */
    const char *obj_type; /* object_type of the causing record, NULL when none */
    int obj_res;          /* its sim_res (meaningful only with obj_type) */
} sim_ledger_text;
extern const sim_ledger_text sim_ledger_events[];

/* Labor activities: the OpenAPI's activity_type enum, associated_object_type names and
 * resources, and the users' names (NULL = null). */
extern const char *const sim_labor_types[]; /* pick, pack, put_away, transfer, receive */
extern const int sim_nlabor_types;
typedef struct sim_labor_obj_text {
    const char *name; /* associated_object_type: "order", ...; NULL for SIM_LO_NONE */
    int res;          /* the associated record's sim_res (meaningful only with name) */
} sim_labor_obj_text;
extern const sim_labor_obj_text sim_labor_objs[]; /* indexed by sim_labor_obj */
extern const char *const sim_user_first[];
extern const char *const sim_user_last[];
extern const int sim_nuser_names;

/* Order status enum names / raw WMS names, indexed by sim_order_status. */
extern const char *const sim_order_status_names[];
extern const char *const sim_order_raw_status[];
/* Return / inbound status names, indexed by sim_flow_status. */
extern const char *const sim_flow_status_names[];
extern const char *const sim_return_raw_status[];
extern const char *const sim_asn_raw_status[];
extern const char *const sim_shipment_status_names[]; /* open, shipped, cancelled */

#endif
