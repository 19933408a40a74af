/* sim_render.h - JSON for records, connections and connection errors, rendered on demand
 * from the compact structs (nothing is cached, so memory does not grow per request).
 * Every record carries every field of its OpenAPI schema, nulls included. */
#ifndef SIM_RENDER_H
#define SIM_RENDER_H

#include <stdint.h>

#include "sim_store.h"
#include "util.h"

/* Append the record's JSON object to b. Caller holds the store lock. 0 or -1 (ENOMEM). */
int sim_render_record(sbuf *b, const sim_conn *c, sim_res r, const void *rec);

/* The Connection object of GET /connections. */
int sim_render_connection(sbuf *b, const sim_conn *c);

/* ConnectionErrorSchema (webhook data) for invalid credentials (res < 0) or for a missing
 * permission on resource res. */
int sim_render_conn_error(sbuf *b, const sim_conn *c, int res);

/* An on-demand sync job: {id, connection_id, function_name, requested_start_time,
 * requested_end_time, created_at, status}. */
int sim_render_job(sbuf *b, const sim_conn *c, const sim_job *j);

/* Derived text shared with the filter getter, so filters see what clients see. */
void sim_render_product_text(const sim_conn *c, uint32_t pnum, char *name, size_t nl, char *sku,
                             size_t sl);
void sim_render_order_refs(const sim_conn *c, uint32_t num, char *order_number, char *reference_id,
                           size_t len);
/* A labor activity's user_id ("usr_<tag>_NN") for its user number. */
void sim_render_user_id(const sim_conn *c, int user, char *buf, size_t len);
int sim_render_po(const sim_conn *c, uint32_t num, char *buf, size_t len); /* 0 = null */

/* The text of available_actions: read functions then write actions, as a JSON array. */
int sim_render_actions(sbuf *b, const sim_conn *c);

/* Small JSON writer shared by the HTTP handlers: keeps commas right across nesting. */
#define SIM_JW_DEPTH 16
typedef struct sim_jw {
    sbuf *b;
    int count[SIM_JW_DEPTH];
    int after_key[SIM_JW_DEPTH];
    int d;
    int err;
} sim_jw;

void sim_jw_init(sim_jw *w, sbuf *b);
void sim_jw_obj(sim_jw *w);
void sim_jw_end(sim_jw *w, char close); /* '}' or ']' */
void sim_jw_arr(sim_jw *w);
void sim_jw_key(sim_jw *w, const char *k);
void sim_jw_str(sim_jw *w, const char *s); /* NULL -> null */
void sim_jw_int(sim_jw *w, long long v);
void sim_jw_cents(sim_jw *w, long long cents); /* 1234 -> 12.34 */
void sim_jw_bool(sim_jw *w, int v);
void sim_jw_null(sim_jw *w);
void sim_jw_date(sim_jw *w, int64_t ms); /* 0 -> null */
void sim_jw_raw(sim_jw *w, const char *json, size_t n);

#endif
