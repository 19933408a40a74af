/* sim_ingest.c - Trackstar's crawls, force syncs and on-demand sync jobs (sim_ingest.h). */
#include "sim_ingest.h"

#include <cjson/cJSON.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim_diff.h"
#include "sim_events.h"
#include "values.h"
#include "sim_render.h"
#include "util.h"

#define CRAWL_MIN_MS 300           /* the shortest crawl */
#define CRAWL_SHARE_MIN 10         /* a crawl lasts 10..40% of sync_frequency */
#define CRAWL_SHARE_SPAN 30        /* ... */
#define MID_PAGING_WINDOW_MS 10000 /* a listing counts as in progress this long after a page */

static int64_t sec(int64_t ms) {
    return ms - ms % 1000;
}

static uint32_t world_rand(uint32_t n) {
    return sim_rand_below(&sim_g.w.rng, n);
}

int64_t sim_sync_frequency_ms(sim_res r) {
    double ms = sim_res_infos[r].sync_frequency_s * 1000.0 * sim_g.w.sync_scale;
    if (sim_g.w.sync_max_ms > 0 && ms > sim_g.w.sync_max_ms) ms = sim_g.w.sync_max_ms;
    return ms < 1000 ? 1000 : (int64_t)ms;
}

int sim_sync_frequency_s(sim_res r) {
    return (int)((sim_sync_frequency_ms(r) + 500) / 1000);
}

int sim_crawl_running(const sim_conn *c, sim_res r) {
    return c->run_end_ms[r] != 0;
}

int sim_jobs_open(const sim_conn *c) {
    for (int i = 0; i < c->njobs; i++)
        if (c->jobs[i].status == SIM_JOB_OPEN) return 1;
    return 0;
}

/* Trackstar's copy of r exists for c: the integration has it and its first sync is done. */
static int synced(const sim_conn *c, sim_res r) {
    uint32_t b = 1u << r;
    return c->live && (c->actions & b) && (c->hist_done & b);
}

/* A crawl of r can run now: errors stop crawls (connection-issues), open on-demand jobs
 * pause them (on-demand-syncs). */
static int crawlable(const sim_conn *c, sim_res r) {
    return synced(c, r) && !c->invalid_creds &&
           !(c->missing_perm & ((1u << r) | (1u << sim_res_owner(r)))) && !sim_jobs_open(c);
}

/* ---- taking a record into the copy ------------------------------------------------- */

static cJSON *render_json(const sim_conn *c, sim_res r, const void *rec) {
    sbuf b = {0};
    cJSON *j = NULL;
    if (sim_render_record(&b, c, r, rec) == 0) j = cJSON_ParseWithLength(b.p, b.len);
    sbuf_free(&b);
    return j;
}

/* The event a change of the copy is announced with: a new shipment or receipt has its
 * own, carrying the whole old array (reference §7.3). */
static const char *event_suffix(sim_res r, const void *old, const void *now,
                                const char **whole_key) {
    *whole_key = NULL;
    if (r == SIM_RES_ORDERS && ((const sim_order *)now)->nship > ((const sim_order *)old)->nship) {
        *whole_key = "shipments";
        return "shipment.created";
    }
    if (r == SIM_RES_INBOUND &&
        ((const sim_inbound *)now)->nrcpt > ((const sim_inbound *)old)->nrcpt) {
        *whole_key = "receipts";
        return "receipt.created";
    }
    return "updated";
}

/* previous_attributes of a change from old to now (JSON text, malloc'd), or NULL when the
 * rendered record did not change or memory ran out. */
static char *previous_attributes(const cJSON *old, const cJSON *now, const char *whole_key) {
    cJSON *prev = sim_diff_prev(old, now);
    if (!prev) return NULL;
    if (whole_key) {
        size_t wl = strlen(whole_key);
        cJSON *it = prev->child;
        while (it) {
            cJSON *next = it->next;
            if (strncmp(it->string, whole_key, wl) == 0 &&
                (it->string[wl] == '.' || !it->string[wl]))
                cJSON_Delete(cJSON_DetachItemViaPointer(prev, it));
            it = next;
        }
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(old, whole_key);
        cJSON_AddItemToObject(prev, whole_key, arr ? cJSON_Duplicate(arr, 1) : cJSON_CreateArray());
    }
    char *text = prev->child ? cJSON_PrintUnformatted(prev) : NULL;
    cJSON_Delete(prev);
    return text;
}

int sim_ingest_take(sim_conn *c, sim_res r, uint32_t num, int64_t now_ms, int emit) {
    sim_table *t = &c->t[r];
    if (num == 0 || num > t->n) return 0;
    sim_pending *p = &t->pend[num - 1];
    sim_meta *row = t->rows[num - 1];
    if (row->removed) { /* deleted in the WMS: the copy never takes a change of it, and a
                         * comeback shows the version it had */
        sim_pending_clear(t, num);
        return 0;
    }
    int was_in = sim_in_copy(row);
    if (was_in && !p->since_ms) return 0; /* the copy has it as it is */
    int64_t prev_updated = row->updated_ms;
    emit = emit && synced(c, r) && !(SIM_NO_WEBHOOKS & (1u << r)); /* channels: none */
    cJSON *old = NULL;
    /* For the difference: a rendering of the copy's version before (the old struct is
     * gone once the WMS's version is copied over it). */
    if (emit && was_in && !(old = render_json(c, r, row))) return -1;
    const void *old_struct = NULL;
    void *keep = NULL;
    if (emit && was_in && p->wms) {
        size_t sz = sim_record_size(r, row);
        if (!(keep = malloc(sz))) {
            cJSON_Delete(old);
            return -1;
        }
        memcpy(keep, row, sz);
        old_struct = keep;
    }
    int64_t ts_created = row->ts_created_ms;
    if (p->wms) memcpy(row, p->wms, sim_record_size(r, p->wms));
    int64_t v = sec(now_ms) ? sec(now_ms) : 1000;
    row->ts_created_ms = was_in ? ts_created : v;
    row->ts_updated_ms = v;
    /* What the unkind world did, for the tests' evidence. */
    if (row->updated_ms < v) c->n.late++;
    if (was_in && row->updated_ms == prev_updated) c->n.equal_updated++;
    if (was_in && num <= t->page_pos && now_ms - t->page_seen_ms < MID_PAGING_WINDOW_MS)
        c->n.mid_paging++;
    sim_pending_clear(t, num);
    sim_table_touch(t, num);
    int rc = 0;
    if (emit && !was_in) {
        rc = sim_event_record(c, r, row, "created", NULL);
    } else if (emit && old_struct) {
        cJSON *now = render_json(c, r, row);
        const char *whole;
        const char *suffix = event_suffix(r, old_struct, row, &whole);
        char *prev = now ? previous_attributes(old, now, whole) : NULL;
        if (prev) rc = sim_event_record(c, r, row, suffix, prev);
        free(prev);
        cJSON_Delete(now);
    }
    free(keep);
    cJSON_Delete(old);
    return rc;
}

/* ---- crawls -------------------------------------------------------------------------- */

static void start_crawl(sim_conn *c, sim_res r, int64_t now_ms) {
    int64_t f = sim_sync_frequency_ms(r);
    int64_t d = f * (CRAWL_SHARE_MIN + (int64_t)world_rand(CRAWL_SHARE_SPAN + 1)) / 100;
    if (d < CRAWL_MIN_MS) d = CRAWL_MIN_MS;
    if (d > f - 100) d = f - 100 > CRAWL_MIN_MS ? f - 100 : CRAWL_MIN_MS;
    /* read by another's function: within that function's crawl, ending with it */
    sim_res o = sim_res_owner(r);
    if (o != r && sim_crawl_running(c, o))
        d = c->run_end_ms[o] > now_ms ? c->run_end_ms[o] - now_ms : 0;
    c->run_start_ms[r] = now_ms;
    c->run_end_ms[r] = now_ms + d;
    /* Every change made before the start is read during this crawl, each at its moment. */
    sim_table *t = &c->t[r];
    for (uint32_t i = 0; i < t->ndirty; i++) {
        sim_pending *p = &t->pend[t->dirty[i] - 1];
        if (p->since_ms < now_ms && !p->visible_ms)
            p->visible_ms = now_ms + (int64_t)world_rand((uint32_t)d + 1);
    }
    c->n.crawls++;
}

/* Take the pending records of r whose moment has come (all of them at the crawl's end). */
static void take_due(sim_conn *c, sim_res r, int64_t upto_ms, int64_t now_ms) {
    sim_table *t = &c->t[r];
    for (uint32_t i = 0; i < t->ndirty;) {
        uint32_t num = t->dirty[i];
        const sim_pending *p = &t->pend[num - 1];
        if (p->visible_ms && p->visible_ms <= upto_ms) {
            if (sim_ingest_take(c, r, num, now_ms, 1) != 0) {
                log_error("out of memory taking a record into the copy", "connection_id", c->id,
                          NULL);
                return;
            }
            continue; /* the list was compacted: position i holds another record now */
        }
        i++;
    }
}

static void force_syncs_crawled(sim_conn *c, sim_res r) {
    for (int i = 0; i < SIM_MAX_FORCE_SYNCS; i++) {
        sim_force_run *f = &c->force[i];
        if (!f->mask || !(f->waiting & (1u << r))) continue;
        f->waiting &= ~(1u << r);
        if (f->waiting) continue;
        sbuf d = {0};
        sbuf_append(&d, "{\"functions_to_sync\":[", 22);
        int n = 0;
        for (int k = 0; k < SIM_RES_COUNT; k++)
            if ((f->mask & (1u << k)) && sim_res_owner((sim_res)k) == (sim_res)k)
                sbuf_printf(&d, "%s\"%s\"", n++ ? "," : "", sim_res_infos[k].function);
        sbuf_append(&d, "]}", 2);
        if (d.p) sim_event_send(c, "connection.force-sync-completed", 1, d.p, NULL);
        sbuf_free(&d);
        f->mask = 0;
        c->n.force_syncs++;
    }
}

static void end_crawl(sim_conn *c, sim_res r, int64_t now_ms) {
    take_due(c, r, c->run_end_ms[r], now_ms);
    c->crawl_start_ms[r] = c->run_start_ms[r];
    c->crawl_end_ms[r] = c->run_end_ms[r];
    c->run_start_ms[r] = c->run_end_ms[r] = 0;
    force_syncs_crawled(c, r);
}

/* A scheduled crawl that an error stops: the connection error is seen again. */
static void crawl_failed(sim_conn *c, sim_res r, int64_t now_ms) {
    if (now_ms < c->err_next_seen_ms) return;
    int64_t f = sim_sync_frequency_ms(SIM_RES_ORDERS);
    c->err_next_seen_ms = now_ms + f;
    char prev[160], was[32];
    val_time_format(c->err_last_seen, 0, was);
    snprintf(prev, sizeof prev, "{\"updated_date\":\"%s\",\"last_seen\":\"%s\"}", was, was);
    c->err_last_seen = sec(now_ms);
    sim_event_conn_error(c, "updated", c->invalid_creds ? -1 : (int)r, prev);
}

static void jobs_tick(sim_conn *c, int64_t now_ms);

void sim_ingest_tick(sim_conn *c, int64_t now_ms) {
    if (!c->live) return;
    for (int i = 0; i < SIM_RES_COUNT; i++) {
        sim_res r = (sim_res)i;
        if (!synced(c, r)) continue;
        int64_t f = sim_sync_frequency_ms(r);
        if (!c->next_crawl_ms[r]) /* connections' schedules do not run in step */
            c->next_crawl_ms[r] = now_ms + (int64_t)world_rand((uint32_t)f);
        if (sim_crawl_running(c, r)) {
            take_due(c, r, now_ms, now_ms);
            if (now_ms >= c->run_end_ms[r]) end_crawl(c, r, now_ms);
            continue;
        }
        sim_res o = sim_res_owner(r);
        if (o != r) { /* no schedule of its own: crawled whenever its function is */
            if (sim_crawl_running(c, o) && c->run_start_ms[o] == now_ms && crawlable(c, r))
                start_crawl(c, r, now_ms);
            continue;
        }
        if (now_ms < c->next_crawl_ms[r]) continue;
        c->next_crawl_ms[r] += f;
        if (c->next_crawl_ms[r] <= now_ms) c->next_crawl_ms[r] = now_ms + f;
        if (c->invalid_creds || (c->missing_perm & (1u << r)))
            crawl_failed(c, r, now_ms);
        else if (crawlable(c, r))
            start_crawl(c, r, now_ms);
    }
    jobs_tick(c, now_ms);
}

int sim_ingest_all(sim_conn *c, uint32_t mask, int64_t now_ms, int emit) {
    int n = 0;
    for (int i = 0; i < SIM_RES_COUNT; i++) {
        sim_res r = (sim_res)i;
        if (!(mask & (1u << r))) continue;
        sim_table *t = &c->t[r];
        while (t->ndirty > 0) {
            if (sim_ingest_take(c, r, t->dirty[t->ndirty - 1], now_ms, emit) != 0) return n;
            n += !(SIM_NO_WEBHOOKS & (1u << r)); /* what announces itself: none of channels */
        }
        if (synced(c, r) && !sim_crawl_running(c, r))
            c->crawl_start_ms[r] = c->crawl_end_ms[r] = now_ms;
    }
    return n;
}

int sim_force_sync(sim_conn *c, uint32_t mask, int64_t now_ms) {
    sim_force_run *f = NULL;
    for (int i = 0; i < SIM_MAX_FORCE_SYNCS && !f; i++)
        if (!c->force[i].mask) f = &c->force[i];
    if (!f) return -1;
    uint32_t waiting = 0;
    for (int i = 0; i < SIM_RES_COUNT; i++) {
        sim_res r = (sim_res)i;
        if (!(mask & (1u << r))) continue;
        /* "skips resources already mid-sync" (§6.4): a running crawl is waited for */
        if (!sim_crawl_running(c, r) && crawlable(c, r)) start_crawl(c, r, now_ms);
        if (sim_crawl_running(c, r)) waiting |= 1u << r;
    }
    /* Nothing could crawl (errors, a job open): no completion is ever announced. */
    if (waiting) {
        f->mask = mask & waiting;
        f->waiting = waiting;
    }
    return 0;
}

/* ---- on-demand sync jobs ------------------------------------------------------------- */

int sim_job_allowed(sim_res r) {
    return r == SIM_RES_PRODUCTS || r == SIM_RES_ORDERS || r == SIM_RES_INBOUND ||
           r == SIM_RES_RETURNS || r == SIM_RES_BILLS || r == SIM_RES_LEDGER;
}

sim_job *sim_job_open(sim_conn *c, sim_res r, int64_t start_ms, int64_t end_ms, int64_t now_ms,
                      char *errstr, size_t errlen) {
    sim_job *j = NULL;
    if (!c->jobs && !(c->jobs = calloc(SIM_MAX_JOBS, sizeof *c->jobs))) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    if (c->njobs < SIM_MAX_JOBS) {
        j = &c->jobs[c->njobs++];
    } else {
        /* reuse the oldest finished slot */
        for (int i = 0; i < SIM_MAX_JOBS && !j; i++)
            if (c->jobs[i].status != SIM_JOB_OPEN) j = &c->jobs[i];
    }
    if (!j) {
        snprintf(errstr, errlen, "too many open on-demand sync jobs");
        return NULL;
    }
    unsigned char rnd[12];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        snprintf(errstr, errlen, "RAND_bytes failed");
        return NULL;
    }
    memset(j, 0, sizeof *j);
    char *p = j->id + sprintf(j->id, "odsj_");
    for (size_t i = 0; i < sizeof rnd; i++)
        p += sprintf(p, "%02x", rnd[i]);
    j->res = r;
    j->start_ms = start_ms;
    j->end_ms = end_ms;
    j->created_ms = now_ms;
    j->due_ms = now_ms + sim_g.w.job_ms;
    j->status = SIM_JOB_OPEN;
    if (sim_g.w.stuck_jobs > 0) {
        sim_g.w.stuck_jobs--;
        j->stuck = 1;
    }
    return j;
}

sim_job *sim_job_find(sim_conn *c, const char *id) {
    for (int i = 0; id && i < c->njobs; i++)
        if (strcmp(c->jobs[i].id, id) == 0) return &c->jobs[i];
    return NULL;
}

static void job_event(sim_conn *c, const sim_job *j, const char *type) {
    sbuf d = {0};
    if (sim_render_job(&d, c, j) == 0) sim_event_send(c, type, 1, d.p, NULL);
    sbuf_free(&d);
}

int sim_job_cancel(sim_conn *c, sim_job *j, int64_t now_ms) {
    (void)c;
    (void)now_ms;
    if (j->status != SIM_JOB_OPEN) return -1;
    j->status = SIM_JOB_CANCELLED;
    return 0;
}

/* A completed job reads its window of the WMS into the copy: records older than the
 * historical sync's window appear (created webhooks: "resource webhooks also fire for new
 * data"), pending changes in the window are taken. */
static void job_complete(sim_conn *c, sim_job *j, int64_t now_ms) {
    sim_table *t = &c->t[j->res];
    for (uint32_t num = 1; num <= t->n; num++) {
        const sim_meta *m = sim_wms_get(t, num);
        if (m->updated_ms < j->start_ms || m->updated_ms > j->end_ms) continue;
        if (sim_in_copy(t->rows[num - 1]) && !t->pend[num - 1].since_ms) continue;
        if (sim_ingest_take(c, j->res, num, now_ms, 1) != 0) break;
    }
    j->status = SIM_JOB_COMPLETED;
    c->n.jobs_completed++;
    job_event(c, j, "connection.sync-job-completed");
}

static void jobs_tick(sim_conn *c, int64_t now_ms) {
    for (int i = 0; i < c->njobs; i++) {
        sim_job *j = &c->jobs[i];
        if (j->status != SIM_JOB_OPEN || now_ms < j->due_ms) continue;
        if (j->stuck) {
            j->status = SIM_JOB_STUCK;
            c->n.jobs_stuck++;
            job_event(c, j, "connection.sync-job-stuck");
        } else {
            job_complete(c, j, now_ms);
        }
    }
}
