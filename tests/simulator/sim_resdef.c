/* sim_resdef.c - per-endpoint filter tables taken from the OpenAPI parameters of each
 * list path, and the one getter that answers them from the compact structs. */
#include "sim_resdef.h"

#include <stdio.h>
#include <string.h>

#include "sim_render.h"
#include "sim_text.h"

enum {
    K_CREATED,
    K_UPDATED,
    K_TS_CREATED,
    K_TS_UPDATED,
    K_TAGS,
    K_STATUS,
    K_WC,
    K_CHANNEL,
    K_TYPE,
    K_ORDER_NUMBER,
    K_REFERENCE_ID,
    K_REQUIRED_SHIP,
    K_ACTIVE,
    K_SKU,
    K_WH,
    K_EXPECTED_ARRIVAL,
    K_PO,
    K_LEDGER_EVENT,
    K_USER,
    K_ACTIVITY_TYPE,
    K_OBJ_TYPE,
    K_OBJ_ID,
    K_START,
    K_END
};

/* The trailing five entries of every table; the last three are the newer API's. */
#define COMMON                                                                                     \
    {"created_date", SIM_FK_DATE, SIM_OPS_DATE, K_CREATED},                                        \
        {"updated_date", SIM_FK_DATE, SIM_OPS_DATE, K_UPDATED},                                    \
        {"trackstar_created_date", SIM_FK_DATE, SIM_OPS_DATE, K_TS_CREATED},                       \
        {"trackstar_updated_date", SIM_FK_DATE, SIM_OPS_DATE, K_TS_UPDATED}, {                     \
        "trackstar_tags", SIM_FK_TAGS, SIM_OPS_TAGS, K_TAGS                                        \
    }
#define NEWER 3

#define WC_FIELD                                                                                   \
    { "warehouse_customer_id", SIM_FK_STR, SIM_OPS_STR, K_WC }

static const sim_fdef f_orders[] = {
    {"status", SIM_FK_STR, SIM_OPS_STR, K_STATUS},
    WC_FIELD,
    {"channel", SIM_FK_STR, SIM_OPS_STR, K_CHANNEL},
    {"type", SIM_FK_STR, SIM_OPS_STR, K_TYPE},
    {"order_number", SIM_FK_STR, SIM_OPS_STR_I, K_ORDER_NUMBER},
    {"reference_id", SIM_FK_STR, SIM_OPS_STR_I, K_REFERENCE_ID},
    {"required_ship_date", SIM_FK_DATE, SIM_OPS_DATE_RANGE, K_REQUIRED_SHIP},
    COMMON,
};
static const sim_fdef f_inventory[] = {
    WC_FIELD,
    {"active", SIM_FK_BOOL, SIM_OPB(SIM_OP_EQ), K_ACTIVE},
    {"sku", SIM_FK_STR, SIM_OPS_SKU, K_SKU},
    COMMON,
};
static const sim_fdef f_products[] = {
    WC_FIELD,
    {"sku", SIM_FK_STR, SIM_OPS_SKU, K_SKU},
    COMMON,
};
static const sim_fdef f_plain[] = {COMMON};
static const sim_fdef f_locations[] = {
    {"type", SIM_FK_STR, SIM_OPS_STR, K_TYPE},
    COMMON,
};
static const sim_fdef f_returns[] = {
    {"status", SIM_FK_STR, SIM_OPS_STR, K_STATUS},
    WC_FIELD,
    COMMON,
};
static const sim_fdef f_inbound[] = {
    {"status", SIM_FK_STR, SIM_OPS_STR, K_STATUS},
    WC_FIELD,
    {"warehouse_id", SIM_FK_STR, SIM_OPS_EQ_CONTAINS, K_WH},
    {"expected_arrival_date", SIM_FK_DATE, SIM_OPS_DATE_RANGE, K_EXPECTED_ARRIVAL},
    {"purchase_order_number", SIM_FK_STR, SIM_OPS_STR, K_PO},
    COMMON,
};
static const sim_fdef f_bills[] = {WC_FIELD, COMMON};
static const sim_fdef f_named[] = {WC_FIELD, COMMON}; /* order channels, suppliers */
static const sim_fdef f_ledger[] = {
    WC_FIELD,
    {"event_type", SIM_FK_STR, SIM_OPS_STR, K_LEDGER_EVENT},
    COMMON,
};

/* The labor activities' list: the OpenAPI's parameters (equality only for the ids and
 * enums; warehouse_customer_id is the associated record's). */
static const sim_fdef f_labor[] = {
    WC_FIELD,
    {"user_id", SIM_FK_STR, SIM_OPB(SIM_OP_EQ), K_USER},
    {"warehouse_id", SIM_FK_STR, SIM_OPB(SIM_OP_EQ), K_WH},
    {"activity_type", SIM_FK_STR, SIM_OPB(SIM_OP_EQ), K_ACTIVITY_TYPE},
    {"associated_object_type", SIM_FK_STR, SIM_OPB(SIM_OP_EQ), K_OBJ_TYPE},
    {"associated_object_id", SIM_FK_STR, SIM_OPB(SIM_OP_EQ), K_OBJ_ID},
    {"activity_start_time", SIM_FK_DATE, SIM_OPS_DATE, K_START},
    {"activity_end_time", SIM_FK_DATE, SIM_OPS_DATE, K_END},
    COMMON,
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

const sim_fdef *sim_resdef_fields(sim_res r, int trackstar_dates, int *n) {
    const sim_fdef *d;
    switch (r) {
    case SIM_RES_ORDERS:
        d = f_orders;
        *n = N(f_orders);
        break;
    case SIM_RES_INVENTORY:
        d = f_inventory;
        *n = N(f_inventory);
        break;
    case SIM_RES_PRODUCTS:
        d = f_products;
        *n = N(f_products);
        break;
    case SIM_RES_LOCATIONS:
        d = f_locations;
        *n = N(f_locations);
        break;
    case SIM_RES_RETURNS:
        d = f_returns;
        *n = N(f_returns);
        break;
    case SIM_RES_INBOUND:
        d = f_inbound;
        *n = N(f_inbound);
        break;
    case SIM_RES_BILLS:
        d = f_bills;
        *n = N(f_bills);
        break;
    case SIM_RES_LEDGER:
        d = f_ledger;
        *n = N(f_ledger);
        break;
    case SIM_RES_CHANNELS:
    case SIM_RES_SUPPLIERS:
        d = f_named;
        *n = N(f_named);
        break;
    case SIM_RES_LABOR:
        d = f_labor;
        *n = N(f_labor);
        break;
    default:
        d = f_plain;
        *n = N(f_plain);
        break;
    }
    if (!trackstar_dates) *n -= NEWER;
    return d;
}

static int ref(const sim_conn *c, sim_res r, uint32_t num, char *buf, size_t len,
               const char **str) {
    if (!num) return 0;
    sim_format_id(c, r, num, buf, len);
    *str = buf;
    return 1;
}

static int sku_of_product(const sim_conn *c, uint32_t pnum, char *buf, size_t len,
                          const char **str) {
    char name[96];
    if (!sim_table_get(&c->t[SIM_RES_PRODUCTS], pnum)) return 0;
    sim_render_product_text(c, pnum, name, sizeof name, buf, len);
    *str = buf;
    return 1;
}

/* A labor activity's filterable fields (sim_render.c renders the same values). */
static int labor_get(const sim_conn *c, const sim_labor *a, int key, char *buf, size_t buflen,
                     const char **str, int64_t *date) {
    int ot = a->obj_num && a->obj_type < SIM_LO_COUNT ? a->obj_type : SIM_LO_NONE;
    switch (key) {
    case K_USER:
        sim_render_user_id(c, a->user, buf, buflen);
        *str = buf;
        return 1;
    case K_WH: return ref(c, SIM_RES_WAREHOUSES, a->wh, buf, buflen, str);
    case K_ACTIVITY_TYPE: *str = sim_labor_types[a->type % sim_nlabor_types]; return 1;
    case K_OBJ_TYPE:
        if (!ot) return 0;
        *str = sim_labor_objs[ot].name;
        return 1;
    case K_OBJ_ID: return ot ? ref(c, sim_labor_objs[ot].res, a->obj_num, buf, buflen, str) : 0;
    case K_START: *date = a->start_ms; return 1;
    case K_END: *date = a->end_ms; return a->end_ms != 0;
    case K_WC: {
        /* the warehouse customer of the associated record */
        const void *o = ot ? sim_table_get(&c->t[sim_labor_objs[ot].res], a->obj_num) : NULL;
        uint8_t wc = 0;
        if (!o) return 0;
        switch (ot) {
        case SIM_LO_ORDER: wc = ((const sim_order *)o)->wc; break;
        case SIM_LO_INBOUND: wc = ((const sim_inbound *)o)->wc; break;
        case SIM_LO_RETURN: wc = ((const sim_return *)o)->wc; break;
        default: wc = ((const sim_inventory *)o)->wc; break;
        }
        return ref(c, SIM_RES_WAREHOUSE_CUSTOMERS, wc, buf, buflen, str);
    }
    default: return 0;
    }
}

int sim_resdef_get(const void *rec, const void *ctxp, int key, char *buf, size_t buflen,
                   const char **str, int64_t *date, int *bval) {
    const sim_resctx *ctx = ctxp;
    const sim_conn *c = ctx->c;
    const sim_meta *m = rec;
    switch (key) {
    case K_CREATED: *date = m->created_ms; return 1;
    case K_UPDATED: *date = m->updated_ms; return 1;
    case K_TS_CREATED: *date = m->ts_created_ms; return 1;
    case K_TS_UPDATED: *date = m->ts_updated_ms; return 1;
    case K_TAGS: return 0; /* no record carries trackstar_tags: the list is always empty */
    default: break;
    }
    switch (ctx->r) {
    case SIM_RES_ORDERS: {
        const sim_order *o = rec;
        switch (key) {
        case K_STATUS: *str = sim_order_status_names[o->status % SIM_OS_COUNT]; return 1;
        case K_WC: return ref(c, SIM_RES_WAREHOUSE_CUSTOMERS, o->wc, buf, buflen, str);
        case K_CHANNEL:
            if (o->channel == SIM_NONE || !sim_channels[o->channel % sim_nchannels].name) return 0;
            *str = sim_channels[o->channel % sim_nchannels].name;
            return 1;
        case K_TYPE: *str = sim_order_types[o->type % sim_norder_types]; return 1;
        case K_ORDER_NUMBER:
        case K_REFERENCE_ID: {
            char other[64];
            if (key == K_ORDER_NUMBER)
                sim_render_order_refs(c, o->m.num, buf, other,
                                      buflen < sizeof other ? buflen : sizeof other);
            else
                sim_render_order_refs(c, o->m.num, other, buf,
                                      buflen < sizeof other ? buflen : sizeof other);
            *str = buf;
            return 1;
        }
        case K_REQUIRED_SHIP: *date = o->required_ship_ms; return o->required_ship_ms != 0;
        default: return 0;
        }
    }
    case SIM_RES_INVENTORY: {
        const sim_inventory *v = rec;
        switch (key) {
        case K_WC: return ref(c, SIM_RES_WAREHOUSE_CUSTOMERS, v->wc, buf, buflen, str);
        case K_ACTIVE: *bval = v->active; return 1;
        case K_SKU: return sku_of_product(c, v->product, buf, buflen, str);
        default: return 0;
        }
    }
    case SIM_RES_PRODUCTS: {
        const sim_product *p = rec;
        switch (key) {
        case K_WC: return ref(c, SIM_RES_WAREHOUSE_CUSTOMERS, p->wc, buf, buflen, str);
        case K_SKU: return sku_of_product(c, p->m.num, buf, buflen, str);
        default: return 0;
        }
    }
    case SIM_RES_LOCATIONS:
        if (key == K_TYPE) {
            *str = sim_location_types[((const sim_location *)rec)->type % sim_nlocation_types];
            return 1;
        }
        return 0;
    case SIM_RES_RETURNS: {
        const sim_return *x = rec;
        if (key == K_STATUS) {
            *str = sim_flow_status_names[x->status % SIM_FS_COUNT];
            return 1;
        }
        return key == K_WC ? ref(c, SIM_RES_WAREHOUSE_CUSTOMERS, x->wc, buf, buflen, str) : 0;
    }
    case SIM_RES_INBOUND: {
        const sim_inbound *x = rec;
        switch (key) {
        case K_STATUS: *str = sim_flow_status_names[x->status % SIM_FS_COUNT]; return 1;
        case K_WC: return ref(c, SIM_RES_WAREHOUSE_CUSTOMERS, x->wc, buf, buflen, str);
        case K_WH: return ref(c, SIM_RES_WAREHOUSES, x->wh, buf, buflen, str);
        case K_EXPECTED_ARRIVAL: *date = x->expected_ms; return x->expected_ms != 0;
        case K_PO:
            if (!sim_render_po(c, x->m.num, buf, buflen)) return 0;
            *str = buf;
            return 1;
        default: return 0;
        }
    }
    case SIM_RES_BILLS:
        return key == K_WC ? ref(c, SIM_RES_WAREHOUSE_CUSTOMERS, ((const sim_bill *)rec)->wc, buf,
                                 buflen, str)
                           : 0;
    case SIM_RES_LEDGER: {
        const sim_ledger *e = rec;
        if (key == K_LEDGER_EVENT) {
            *str = sim_ledger_events[e->event < SIM_LE_COUNT ? e->event : 0].type;
            return 1;
        }
        if (key != K_WC) return 0;
        /* an entry belongs to the warehouse customer of its item */
        const sim_inventory *v = sim_table_get(&c->t[SIM_RES_INVENTORY], e->inv);
        return v ? ref(c, SIM_RES_WAREHOUSE_CUSTOMERS, v->wc, buf, buflen, str) : 0;
    }
    case SIM_RES_CHANNELS:
    case SIM_RES_SUPPLIERS:
        return key == K_WC ? ref(c, SIM_RES_WAREHOUSE_CUSTOMERS, ((const sim_named_rec *)rec)->wc,
                                 buf, buflen, str)
                           : 0;
    case SIM_RES_LABOR: return labor_get(c, rec, key, buf, buflen, str, date);
    default: return 0;
    }
}
