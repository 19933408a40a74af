/* sim_events.c - webhook envelopes. The body is built once here; the sender signs the
 * exact bytes, so receivers can verify them without re-serialising. */
#include "sim_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_render.h"
#include "sim_store.h"
#include "sim_webhook.h"
#include "util.h"

int sim_event_send(const sim_conn *c, const char *event_type, int general, const char *data,
                   const char *prev) {
    sbuf b = {0};
    int rc = 0;
    rc |= sbuf_append(&b, "{\"connection_id\":", 17);
    rc |= sbuf_json_str(&b, c->id, strlen(c->id));
    rc |= sbuf_append(&b, ",\"event_type\":", 14);
    rc |= sbuf_json_str(&b, event_type, strlen(event_type));
    rc |= sbuf_append(&b, ",\"integration_name\":", 20);
    rc |= sbuf_json_str(&b, c->integration, strlen(c->integration));
    rc |= sbuf_printf(&b, ",\"integration_type\":\"%s\",\"data\":", general ? "general" : "wms");
    rc |= sbuf_append(&b, data, strlen(data));
    if (prev) {
        rc |= sbuf_append(&b, ",\"previous_attributes\":", 23);
        rc |= sbuf_append(&b, prev, strlen(prev));
    }
    rc |= sbuf_append(&b, "}", 1);
    if (rc) {
        sbuf_free(&b);
        return -1;
    }
    return sim_wh_enqueue(b.p, b.len); /* takes b.p */
}

/* The drop knob: Svix gave up, or a transformation cancelled the delivery. The version is
 * listed (GET /_sim/webhooks/dropped) so that a test can check polls bring it in. */
static int withheld(sim_conn *c, sim_res r, const void *rec, const char *suffix) {
    if (sim_g.w.drop_pct <= 0 || (int)sim_rand_below(&sim_g.w.rng, 100) >= sim_g.w.drop_pct)
        return 0;
    c->ndropped++;
    if (c->ndrops < SIM_MAX_DROPS) {
        if (c->ndrops % 256 == 0) {
            sim_drop *d = realloc(c->drops, (size_t)(c->ndrops + 256) * sizeof *d);
            if (!d) return 1;
            c->drops = d;
        }
        const sim_meta *m = rec;
        sim_drop *d = &c->drops[c->ndrops++];
        memset(d, 0, sizeof *d);
        d->res = (uint8_t)r;
        d->num = m->num;
        d->updated_ms = m->updated_ms;
        d->ts_updated_ms = m->ts_updated_ms;
        snprintf(d->suffix, sizeof d->suffix, "%s", suffix);
    }
    return 1;
}

int sim_event_record(sim_conn *c, sim_res r, const void *rec, const char *suffix,
                     const char *prev) {
    if (c->webhooks_disabled) return 0;
    if (withheld(c, r, rec, suffix)) return 0;
    sbuf d = {0};
    char type[96];
    snprintf(type, sizeof type, "%s.%s", sim_res_infos[r].event, suffix);
    if (sim_render_record(&d, c, r, rec) != 0) {
        sbuf_free(&d);
        return -1;
    }
    int rc = sim_event_send(c, type, 0, d.p, prev);
    sbuf_free(&d);
    return rc;
}

int sim_event_conn_error(const sim_conn *c, const char *suffix, int res, const char *prev) {
    sbuf d = {0};
    char type[64];
    snprintf(type, sizeof type, "connection-error.%s", suffix);
    if (sim_render_conn_error(&d, c, res) != 0) {
        sbuf_free(&d);
        return -1;
    }
    int rc = sim_event_send(c, type, 1, d.p, prev);
    sbuf_free(&d);
    return rc;
}
