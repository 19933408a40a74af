/* fx_engine.c - the registry of connections and streams, ownership by partition, the
 * periodic refresh from PostgreSQL, manual requests, and the loop step (fx_engine.h).
 * Runs themselves are in fx_run.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fx_backoff.h"
#include "fx_engine_int.h"
#include "fx_fresh.h"
#include "fx_pub.h"
#include "fx_url.h"
#include "log.h"
#include "pq_conn.h"
#include "util.h"
#include "values.h"

#define FX_INTEG_MIN_GAP_MS 61000 /* GET /integrations/... is allowed once a minute */
/* GET /connections/{id} after 429s in a row: 2 s, 4 s, ... up to 5 minutes, jittered */
#define FX_CHECK_BACKOFF_BASE_MS 2000
#define FX_CHECK_BACKOFF_CAP_MS (300 * 1000)

/* ---- small helpers ---- */

void fx_db_result(fx_engine *e, int rc, const char *what, const char *err) {
    int was = atomic_load(&e->db_ok);
    atomic_store(&e->db_ok, rc == 0 ? 1 : fx_db_ping(e->db) == 0);
    if (rc != 0)
        log_error("database error", "operation", what, "error", err, NULL);
    else if (!was)
        log_info("database reachable again", NULL);
}

int fx_engine_db_ok(const fx_engine *e) {
    return atomic_load(&e->db_ok);
}

int fx_engine_partition_of(const char *connection_id, int partitions) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)connection_id; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return partitions > 0 ? (int)(h % (uint32_t)partitions) : 0;
}

int fx_integration_reads(const fx_engine *e, const fx_conn *c, int res) {
    if (c->actions_known) return (c->actions >> res) & 1;
    if (!e->integ_known) return -1;
    for (int i = 0; i < e->ninteg; i++)
        if (strcmp(e->integs[i].name, c->integration) == 0) return (e->integs[i].reads >> res) & 1;
    return -1;
}

/* ---- the registry and the schedule ---- */

fx_conn *fx_conn_get(fx_engine *e, const char *id, int create) {
    int ix;
    if (strmap_get(e->conn_ix, id, &ix)) return e->conn_arr[ix];
    if (!create) return NULL;
    if (e->nconns == e->conn_cap) {
        int cap = e->conn_cap ? e->conn_cap * 2 : 64;
        fx_conn **a = realloc(e->conn_arr, (size_t)cap * sizeof *a);
        if (!a) return NULL;
        e->conn_arr = a;
        e->conn_cap = cap;
    }
    size_t idlen = strnlen(id, FX_ID_MAX - 1);
    fx_conn *c = calloc(1, sizeof *c + idlen + 1);
    if (!c) return NULL;
    if (strmap_put(e->conn_ix, id, e->nconns) != 0) {
        free(c);
        return NULL;
    }
    c->e = e;
    c->integration = "";
    memcpy(c->id, id, idlen);
    c->partition = fx_engine_partition_of(c->id, e->partitions);
    c->born_gen = e->sweep.gen;
    e->conn_arr[e->nconns++] = c;
    c->next = e->conns;
    e->conns = c;
    return c;
}

void fx_stream_wake(fx_engine *e, fx_stream *st, int64_t at) {
    if (!st->c->owned || !st->loaded) return;
    if (fx_sched_wake(&e->sched, &st->wake, at) != 0) /* cannot happen: room is reserved */
        log_error("stream not scheduled: schedule full", "connection_id", st->c->id, NULL);
}

void fx_conn_wake(fx_engine *e, fx_conn *c) {
    for (int r = 0; c->streams && r < TS_ENTITY_COUNT; r++)
        fx_stream_wake(e, &c->streams[r], 0);
}

_Static_assert(TS_ENTITY_COUNT <= 32, "fx_conn.slot_wait holds a bit per resource");

void fx_conn_request_done(fx_engine *e, fx_conn *c) {
    c->inflight--;
    uint32_t waiting = c->slot_wait;
    c->slot_wait = 0;
    for (int r = 0; waiting && c->streams && r < TS_ENTITY_COUNT; r++)
        if (waiting & (1u << r)) fx_stream_wake(e, &c->streams[r], 0);
}

void fx_slot_wait(fx_engine *e, fx_stream *st) {
    if (st->slot_waiting) return;
    st->slot_waiting = 1;
    st->slot_next = NULL;
    st->slot_prev = e->slotq.tail;
    if (e->slotq.tail)
        e->slotq.tail->slot_next = st;
    else
        e->slotq.head = st;
    e->slotq.tail = st;
}

void fx_slot_unwait(fx_engine *e, fx_stream *st) {
    if (!st->slot_waiting) return;
    if (st->slot_prev)
        st->slot_prev->slot_next = st->slot_next;
    else
        e->slotq.head = st->slot_next;
    if (st->slot_next)
        st->slot_next->slot_prev = st->slot_prev;
    else
        e->slotq.tail = st->slot_prev;
    st->slot_prev = st->slot_next = NULL;
    st->slot_waiting = 0;
}

/* As many waiting streams as there are free slots, first come first: each looks at its
 * pages this turn; one that still finds no slot queues again at the end. */
static void wake_slot_waiters(fx_engine *e) {
    if (e->unacked_bytes >= e->cfg.max_unacked_bytes) return;
    for (int room = e->cfg.max_inflight - fx_http_inflight(e->http); room > 0 && e->slotq.head;
         room--) {
        fx_stream *st = e->slotq.head;
        fx_slot_unwait(e, st);
        fx_stream_wake(e, st, 0);
    }
}

/* Whether c can take a look now (a GET /connections/{id}, or a sweep's listing): owned,
 * its token open, not blocked, no GET /connections/{id} of it in flight. */
static int lookable(const fx_conn *c) {
    return c->owned && c->token && !c->blocked && !c->info_req;
}

void fx_conn_check_at(fx_engine *e, fx_conn *c, int64_t at) {
    c->hist_check_at = at;
    /* Only a connection that can be checked waits in the queue: a blocked one comes back
     * when it is unblocked, one with a check in flight when the answer sets the next. */
    if (lookable(c)) {
        if (fx_sched_set(&e->checks, &c->check, at) != 0)
            log_error("connection check not scheduled: schedule full", "connection_id", c->id,
                      NULL);
    } else {
        fx_sched_del(&e->checks, &c->check);
    }
}

static fx_conn *find_conn(fx_engine *e, const char *id) {
    return fx_conn_get(e, id, 0);
}

/* ---- manual requests ---- */

static fx_active_req *find_areq(fx_engine *e, int64_t id) {
    for (int i = 0; i < e->nareqs; i++)
        if (e->areqs[i].id == id) return &e->areqs[i];
    return NULL;
}

static void areq_finish(fx_engine *e, fx_active_req *a) {
    /* Whoever reads the request as finished reads the streams' state it left as stored. */
    fx_state_flush(e);
    char err[256];
    int rc = fx_db_req_set(e->db, a->id, a->failed ? "failed" : "done",
                           a->detail[0] ? a->detail : NULL, err, sizeof err);
    fx_db_result(e, rc, "finish request", err);
    char ids[24];
    snprintf(ids, sizeof ids, "%" PRId64, a->id);
    log_info("request finished", "request_id", ids, "connection_id", a->conn, "status",
             a->failed ? "failed" : "done", NULL);
    *a = e->areqs[--e->nareqs];
}

void fx_req_stream_done(fx_engine *e, int64_t req_id, int failed, const char *what) {
    fx_active_req *a = find_areq(e, req_id);
    if (!a) return;
    if (failed) a->failed = 1;
    if (what && *what) {
        size_t n = strlen(a->detail);
        snprintf(a->detail + n, sizeof a->detail - n, "%s%s", n ? "; " : "", what);
    }
    if (--a->outstanding <= 0) areq_finish(e, a);
}

/* Hand a stream's manual work back (ownership lost, or the connection went away). */
static void release_requests(fx_engine *e, fx_conn *c) {
    for (int i = 0; i < e->nareqs;) {
        fx_active_req *a = &e->areqs[i];
        if (strcmp(a->conn, c->id) != 0) {
            i++;
            continue;
        }
        char err[256];
        int rc = fx_db_req_set(e->db, a->id, c->owned ? "failed" : "pending",
                               c->owned ? "connection removed" : NULL, err, sizeof err);
        fx_db_result(e, rc, "release request", err);
        *a = e->areqs[--e->nareqs];
    }
    for (int r = 0; c->streams && r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c->streams[r];
        st->force = st->bf_queued = 0;
        st->force_req = st->bf_req = st->run_req = 0;
        st->sync_posted = 0;
        fx_job_reset(e, st);
    }
}

/* The streams a force sync names poll now (the POST failed: there is nothing to wait for). */
static void force_waiting(fx_conn *c) {
    for (int r = 0; c->streams && r < TS_ENTITY_COUNT; r++)
        if (c->sync_wait & (1u << r)) {
            c->streams[r].force = 1;
            fx_stream_wake(c->e, &c->streams[r], 0);
        }
    c->sync_wait = 0;
}

/* Trackstar answers a force sync at once and crawls in the background for minutes
 * (§6.4): polling now would read the copy before the crawl. The streams wait until
 * GET /connections shows a crawl that ended after the answer (or
 * connection.force-sync-completed asks for a poll), at most FETCHER_SYNC_WAIT_S. */
static void on_sync_posted(void *arg, fx_http_resp *resp) {
    fx_conn *c = arg;
    fx_engine *e = c->e;
    c->sync_req = NULL;
    char st[16];
    snprintf(st, sizeof st, "%d", resp->status);
    if (resp->status == 200 || resp->status == 201 || resp->status == 202) {
        int64_t now = util_now_ms();
        for (int r = 0; r < TS_ENTITY_COUNT; r++) {
            if (!(c->sync_wait & (1u << r))) continue;
            c->streams[r].sync_posted = now;
            c->streams[r].sync_deadline = now + e->cfg.sync_wait_ms;
        }
        c->sync_wait = 0;
        fx_conn_check_at(e, c, 0); /* look at its crawls from now on */
        log_info("POST /connections/sync accepted; polling when its crawl has ended",
                 "connection_id", c->id, NULL);
    } else {
        force_waiting(c);
        log_warn("POST /connections/sync refused; polling anyway", "connection_id", c->id, "status",
                 st, "error", resp->status ? NULL : resp->err, NULL);
    }
    if (resp->status == 401) fx_conn_block(e, c, "401 on POST /connections/sync");
    fx_conn_wake(e, c); /* its waiting streams: the force sync's deadline, or a poll now */
}

static void post_connection_sync(fx_engine *e, fx_conn *c, uint32_t mask) {
    if (c->sync_req || !c->token) {
        force_waiting(c);
        return;
    }
    sbuf url = {0}, body = {0};
    sbuf_printf(&url, "%s/connections/sync", e->cfg.base_url);
    sbuf_append(&body, "{\"functions_to_sync\":[", 22);
    int first = 1;
    unsigned named = 0; /* each function once: get_orders syncs orders and order channels */
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        if ((mask & (1u << r)) && !(named & (1u << r))) {
            sbuf_printf(&body, "%s\"%s\"", first ? "" : ",", ts_entities[r].function);
            named |= ts_function_reads(ts_entities[r].function);
            first = 0;
        }
    sbuf_append(&body, "]}", 2);
    /* A POST: Trackstar counts it against the write budget (50/s), not the GET one. */
    c->sync_req =
        fx_http_start(e->http, "POST", url.p, e->cfg.api_key, c->token, body.p, on_sync_posted, c);
    sbuf_free(&url);
    sbuf_free(&body);
    if (!c->sync_req) force_waiting(c);
}

static void take_request(fx_engine *e, const fx_db_req *q) {
    fx_conn *c = find_conn(e, q->conn);
    if (!c || !c->owned) return;
    char err[256];
    if (e->nareqs == FX_MAX_ACTIVE_REQS) return; /* picked up at a later refresh */
    if (c->deleted || c->unusable) {
        int rc = fx_db_req_set(e->db, q->id, "failed",
                               c->deleted ? "connection deleted" : "access token unusable", err,
                               sizeof err);
        fx_db_result(e, rc, "fail request", err);
        return;
    }
    int rc = fx_db_req_set(e->db, q->id, "running", NULL, err, sizeof err);
    fx_db_result(e, rc, "claim request", err);
    if (rc) return;
    uint32_t mask = q->resources ? q->resources : (1u << TS_ENTITY_COUNT) - 1;
    fx_active_req *a = &e->areqs[e->nareqs++];
    memset(a, 0, sizeof *a);
    a->id = q->id;
    snprintf(a->conn, sizeof a->conn, "%s", c->id);
    a->outstanding = 1; /* held until every stream is handed its part */
    int is_sync = strcmp(q->kind, "sync") == 0;
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        if (!(mask & (1u << r))) continue;
        fx_stream *st = &c->streams[r];
        char ids[24];
        a->outstanding++;
        if (strcmp(q->kind, "backfill") == 0) {
            if (ts_entities[r].poll != TS_POLL_INCREMENTAL) {
                /* A complete listing has no window; a window backfill of it is a full run. */
                if (st->force_req) fx_req_stream_done(e, st->force_req, 0, "superseded");
                st->force = 1;
                st->force_req = q->id;
                continue;
            }
            if (st->bf_req) {
                snprintf(ids, sizeof ids, "superseded by %" PRId64, q->id);
                fx_req_stream_done(e, st->bf_req, 0, ids);
            }
            fx_job_reset(e, st); /* a new window: its own on-demand sync */
            st->bf_queued = 1;
            st->bf_start = q->start_ms;
            st->bf_end = q->end_ms ? q->end_ms : util_now_ms();
            st->bf_req = q->id;
        } else {
            if (st->force_req) {
                snprintf(ids, sizeof ids, "superseded by %" PRId64, q->id);
                fx_req_stream_done(e, st->force_req, 0, ids);
            }
            st->force_req = q->id;
            if (is_sync) {
                c->sync_wait |= 1u << r; /* waits for the sync's crawl once Trackstar answered */
            } else {
                st->force = 1;
                st->sync_posted = 0;
            }
        }
    }
    if (is_sync) post_connection_sync(e, c, mask);
    fx_conn_wake(e, c); /* a manual request is carried out at the next turn */
    char ids[24];
    snprintf(ids, sizeof ids, "%" PRId64, q->id);
    log_info("request taken", "request_id", ids, "connection_id", c->id, "kind", q->kind, NULL);
    fx_req_stream_done(e, q->id, 0, NULL);
}

/* ---- ownership ---- */

/* A historical-sync row of c (its resource's first sync done, the oldest data date when
 * known) into its stream. Read with what is stored of c when it is owned (load_conns),
 * then as the rows change (refresh), only for owned connections. 1 when it changed
 * anything. */
static int apply_hist(fx_engine *e, fx_conn *c, int res, int64_t oldest_ms) {
    fx_stream *st = &c->streams[res];
    if (st->hist_done && (!oldest_ms || oldest_ms == st->oldest_ms)) return 0;
    st->hist_done = 1;
    if (oldest_ms) st->oldest_ms = oldest_ms;
    fx_stream_wake(e, st, 0); /* its first run may start */
    return 1;
}

static int64_t next_conn_check(const fx_engine *e, const fx_conn *c, int64_t now);

/* What GET /connections/{id} last said of the stream, as stored with it: the answer it
 * came with is as good as just received. A crawl end stored without its start (a row of
 * an earlier release) is not a known crawl: the next answer says it again. */
static void restore_promise(fx_stream *st) {
    memset(&st->prom, 0, sizeof st->prom);
    st->prom.frequency_ms = (int64_t)st->d.sync_frequency_s * 1000;
    if (st->d.crawl_start_ms && st->d.crawl_end_ms) {
        st->prom.crawl_start_ms = st->d.crawl_start_ms;
        st->prom.crawl_end_ms = st->d.crawl_end_ms;
    }
    st->crawls_known = st->prom.crawl_end_ms != 0;
    st->crawl_error = st->d.crawl_error;
}

/* What is stored of c (L) taken in: the stored answer when newer than what this replica
 * knows (it may have owned c before), then every stream not loaded yet, with what that
 * answer said of it (a stream takes its last_error over from L). */
static void apply_loaded(fx_engine *e, fx_conn *c, fx_db_loaded *L) {
    if (L->check_found && L->check.checked_ms > c->checked_ms) {
        c->checked_ms = L->check.checked_ms;
        if (L->check.reads_known) {
            c->actions = L->check.reads;
            c->actions_known = 1;
        }
    }
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c->streams[r];
        if (st->loaded) continue;
        fx_db_stream_clear(&st->d);
        if (L->found & (1u << r)) {
            st->d = L->streams[r];
            L->streams[r].last_error = NULL; /* the stream holds it now */
        } else {
            memset(&st->d, 0, sizeof st->d);
            snprintf(st->d.cursor_field, sizeof st->d.cursor_field, "updated_date");
            snprintf(st->d.state, sizeof st->d.state, "%s", fx_state_names[FX_ST_WAITING]);
            st->dirty = 1;
        }
        restore_promise(st);
        st->state = FX_ST_COUNT; /* unknown: the first decision publishes the state */
        for (int s = 0; s < FX_ST_COUNT; s++)
            if (strcmp(st->d.state, fx_state_names[s]) == 0) st->state = (fx_state)s;
        /* A run interrupted by a crash or a rebalance shows as running: it resumes at
         * once, from its stored cursor. (A failed run also keeps run_started_at, but
         * waits for its retry time.) */
        if (st->state == FX_ST_RUNNING || st->state == FX_ST_RATE_LIMITED) {
            st->state = FX_ST_COUNT;
            st->d.next_due_ms = 0;
        }
        st->loaded = 1;
        fx_stream_wake(e, st, 0); /* its first decision */
    }
    if (!c->hist_loaded) {
        for (int r = 0; r < TS_ENTITY_COUNT; r++)
            if (L->hist & (1u << r)) apply_hist(e, c, r, L->hist_oldest_ms[r]);
        c->hist_loaded = 1;
    }
}

/* c's next GET /connections/{id} after it was owned: its last answer (checked_ms) plus
 * the gap a live answer would have set (next_conn_check), plus up to a tenth of that gap
 * (replicas restarting together do not all ask at one moment). Never answered: at once,
 * as a connection event asks. Longer ago than that gap: due now, like any connection whose
 * time came, so that a replica that does not sweep leaves it for the group's sweep, which
 * is listing it if the others' answers are as old (a restart asked for its own sweep on
 * top of the group's). Set again when first syncs load (refresh), while no answer came. */
static void restore_check(fx_engine *e, fx_conn *c) {
    int64_t now = util_mono_ms(), age = util_now_ms() - c->checked_ms;
    int64_t gap = next_conn_check(e, c, 0);
    c->check_restored = c->checked_ms != 0 && age >= 0 && age < gap;
    if (!c->check_restored) {
        fx_conn_check_at(e, c, c->checked_ms ? now : 0);
        return;
    }
    int64_t jitter = (int64_t)(fx_rand(&e->rng) % (uint64_t)(gap / 10 + 1));
    fx_conn_check_at(e, c, now + (gap - age) + jitter);
}

/* Read what is stored of n owned connections (at most FX_DB_LOAD_MAX) and take it in.
 * When the database does not answer, each is checked now, as if never checked, and read
 * again at the next refresh (load_pending). */
static void load_conns(fx_engine *e, fx_conn **cs, int n) {
    const char *ids[FX_DB_LOAD_MAX] = {0};
    fx_db_loaded *L = calloc((size_t)n, sizeof *L);
    char err[256] = "load connections' state: out of memory";
    for (int i = 0; i < n; i++)
        ids[i] = cs[i]->id;
    int rc = L ? fx_db_conns_load(e->db, ids, n, L, err, sizeof err) : -1;
    fx_db_result(e, rc, "load connections' state", err);
    for (int i = 0; i < n; i++) {
        if (rc == 0) apply_loaded(e, cs[i], &L[i]);
        restore_check(e, cs[i]);
    }
    if (rc != 0) e->load_pending = 1;
    for (int i = 0; L && i < n; i++) /* the errors apply_loaded did not take over */
        for (int r = 0; r < TS_ENTITY_COUNT; r++)
            fx_db_stream_clear(&L[i].streams[r]);
    free(L);
}

/* Every connection queued by own_conn, read in statements of FX_DB_LOAD_MAX. */
static void load_queued(fx_engine *e) {
    fx_conn *cs[FX_DB_LOAD_MAX];
    int n = 0;
    for (int i = 0; i < e->nload; i++) {
        fx_conn *c = e->loadq[i];
        c->load_queued = 0;
        if (!c->owned) continue; /* released meanwhile */
        cs[n++] = c;
        if (n == FX_DB_LOAD_MAX) {
            load_conns(e, cs, n);
            n = 0;
        }
    }
    e->nload = 0;
    if (n) load_conns(e, cs, n);
}

/* c's stored state is to be read (by load_queued; at once when there is no room to
 * queue it). */
static void queue_load(fx_engine *e, fx_conn *c) {
    if (c->load_queued) return;
    if (e->nload == e->load_cap) {
        int cap = e->load_cap ? e->load_cap * 2 : 256;
        fx_conn **q = realloc(e->loadq, (size_t)cap * sizeof *q);
        if (!q) {
            load_conns(e, &c, 1);
            return;
        }
        e->loadq = q;
        e->load_cap = cap;
    }
    e->loadq[e->nload++] = c;
    c->load_queued = 1;
}

/* Cancel every page request of c's streams in flight. */
static void cancel_chains(fx_engine *e, fx_conn *c) {
    for (int r = 0; c->streams && r < TS_ENTITY_COUNT; r++)
        fx_run_cancel_pages(e, &c->streams[r]);
}

/* Its token opened: 1, or 0 (logged) when it cannot be (no token stored, or sealed with a
 * key this process does not hold). Only owned connections hold an opened token. */
static int open_token(fx_engine *e, fx_conn *c) {
    char err[256];
    seal_free_secret(c->token);
    c->token = c->sealed ? seal_open(&e->cfg.ring, c->id, c->sealed, err, sizeof err) : NULL;
    c->unusable = !c->token;
    if (c->unusable)
        log_error("access token unusable", "connection_id", c->id, "error",
                  c->sealed ? err : "no token stored", NULL);
    return !c->unusable;
}

int fx_conn_streams_new(fx_conn *c) {
    /* Room first in the schedules, for every stream of it and for its check: then
     * scheduling never allocates, and never fails, in the loop. Only owned connections
     * are scheduled, so the room follows them, not every known connection (issue 24). */
    fx_engine *e = c->e;
    if (fx_sched_reserve(&e->sched, (size_t)(e->owned_conns + 1) * TS_ENTITY_COUNT) != 0 ||
        fx_sched_reserve(&e->checks, (size_t)e->owned_conns + 1) != 0)
        return -1;
    /* Its token's rate ring, kept once made (a response may still come after a
     * rebalance took the connection away): a connection never owned has none. */
    if (!c->rate.sent && fx_rate_init(&c->rate, e->cfg.rate_per_token, e->cfg.rate_window_ms) != 0)
        return -1;
    c->streams = calloc(TS_ENTITY_COUNT, sizeof *c->streams);
    if (!c->streams) return -1;
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        c->streams[r].c = c;
        c->streams[r].res = r;
    }
    return 0;
}

static void own_conn(fx_engine *e, fx_conn *c) {
    if (c->owned || c->deleted || c->unusable || !open_token(e, c)) return;
    if (fx_conn_streams_new(c) != 0) {
        log_error("connection not owned: out of memory", "connection_id", c->id, NULL);
        seal_free_secret(c->token);
        c->token = NULL;
        return;
    }
    c->owned = 1;
    e->owned_conns++;
    c->owned_at_ms = util_now_ms();
    c->info_at = 0;
    /* What GET /connections/{id} said is read back, not asked again (issue 24): a restart
     * with nothing to sync costs the organisation's budget nothing. Read with the other
     * connections owned at the same time (load_queued), its check scheduled then. */
    queue_load(e, c);
    log_info("connection owned", "connection_id", c->id, NULL);
}

static void disown_conn(fx_engine *e, fx_conn *c, int flush_ms) {
    if (!c->owned) return;
    int running = 0;
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        running |= c->streams[r].run != FX_RUN_NONE;
    if (running && flush_ms > 0) {
        /* Let what was produced be acknowledged, so that the next owner starts from the
         * newest cursor these records allow. */
        cancel_chains(e, c);
        rd_kafka_flush(e->producer, flush_ms);
        for (int r = 0; r < TS_ENTITY_COUNT; r++)
            fx_run_keep_acked(&c->streams[r]);
    }
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c->streams[r];
        st->run_req = 0; /* released below: the next owner carries it out */
        fx_run_abort(e, st, 1);
        fx_stream_save(e, st);
    }
    /* Stored while still owned: the next owner loads what this one last had. */
    fx_state_flush(e);
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c->streams[r];
        st->loaded = 0;
        st->dirty = 0;
        fx_sched_del(&e->sched, &st->wake); /* its next owner schedules it */
    }
    if (c->info_req) fx_http_cancel(e->http, c->info_req);
    if (c->sync_req) fx_http_cancel(e->http, c->sync_req);
    c->info_req = c->sync_req = NULL;
    c->sync_wait = 0;
    c->owned = 0;
    e->owned_conns--;
    fx_sched_del(&e->checks, &c->check);
    release_requests(e, c);
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        fx_stream_release(e, &c->streams[r]);
    free(c->streams);
    c->streams = NULL;
    c->slot_wait = 0;
    c->inflight = 0; /* its checks' requests, cancelled above without counting down */
    c->hist_loaded = 0;
    seal_free_secret(c->token);
    c->token = NULL;
    log_info("connection released", "connection_id", c->id, NULL);
}

void fx_engine_set_partitions(fx_engine *e, int partitions) {
    if (partitions < 1) partitions = 1;
    if (partitions > FX_MAX_PARTITIONS) partitions = FX_MAX_PARTITIONS;
    e->partitions = partitions;
    for (fx_conn *c = e->conns; c; c = c->next)
        c->partition = fx_engine_partition_of(c->id, partitions);
}

void fx_engine_partition(fx_engine *e, int partition, int owned) {
    if (partition < 0 || partition >= FX_MAX_PARTITIONS) return;
    e->owned[partition] = (unsigned char)owned;
    for (fx_conn *c = e->conns; c; c = c->next) {
        if (c->partition != partition) continue;
        if (owned && !c->deleted && !c->unusable)
            own_conn(e, c);
        else if (!owned)
            disown_conn(e, c, (int)e->cfg.revoke_flush_ms);
    }
    load_queued(e);
    fx_engine_poke(e);
}

/* ---- registry refresh ---- */

static void conn_free(fx_engine *e, fx_conn *c) {
    disown_conn(e, c, 0);
    free(c->sealed);
    fx_rate_free(&c->rate);
    free(c);
}

/* name as stored once for every connection that has it: a pointer that lives as long as
 * e, or NULL out of memory. An integration name per connection was 128 bytes of every
 * connection a replica knows (issue 24); there are a few names. */
static const char *fx_engine_intern(fx_engine *e, const char *name) {
    int ix;
    if (strmap_get(e->names_ix, name, &ix)) return e->names[ix];
    if (e->nnames == e->names_cap) {
        int cap = e->names_cap ? e->names_cap * 2 : 16;
        char **a = realloc(e->names, (size_t)cap * sizeof *a);
        if (!a) return NULL;
        e->names = a;
        e->names_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy || strmap_put(e->names_ix, name, e->nnames) != 0) {
        free(copy);
        return NULL;
    }
    e->names[e->nnames++] = copy;
    return copy;
}

static void apply_conn_row(fx_engine *e, const fx_db_conn *row) {
    fx_conn *c = find_conn(e, row->id);
    if (!c) {
        c = fx_conn_get(e, row->id, 1);
        if (!c) {
            log_error("connection not registered: out of memory", "connection_id", row->id, NULL);
            return;
        }
        log_info("connection known", "connection_id", c->id, "integration_name", row->integration,
                 NULL);
    }
    if (c->known && c->version == row->version) return;
    int deleted = strcmp(row->state, FX_CONN_DELETED) == 0;
    char *sealed = !deleted && row->sealed ? strdup(row->sealed) : NULL;
    const char *integration = fx_engine_intern(e, row->integration);
    if ((!deleted && row->sealed && !sealed) || !integration) {
        log_error("connection not updated: out of memory", "connection_id", c->id, NULL);
        free(sealed);
        return; /* kept as it was until its row changes again */
    }
    c->known = 1;
    c->version = row->version;
    c->integration = integration;
    /* A deleted connection has no token any more (wiped in the database): forget ours
     * too, at once. The sealed token is opened only by the owner (own_conn). */
    free(c->sealed);
    c->sealed = sealed;
    c->unusable = 0;
    if (c->owned && (deleted || !open_token(e, c))) {
        seal_free_secret(c->token);
        c->token = NULL;
    }
    int blocked = strcmp(row->state, FX_CONN_BLOCKED) == 0;
    c->deleted = deleted;
    if (c->blocked && !blocked) {
        log_info("connection unblocked", "connection_id", c->id, NULL);
        for (int r = 0; c->streams && r < TS_ENTITY_COUNT; r++)
            fx_db_stream_error(&c->streams[r].d, NULL);
    }
    c->blocked = blocked;
    if (blocked) c->blocked_recheck_at = util_mono_ms() + e->cfg.blocked_recheck_ms;
    int should_own = e->owned[c->partition] && !deleted && !c->unusable;
    if (c->owned && !should_own) {
        for (int r = 0; r < TS_ENTITY_COUNT; r++) {
            fx_stream *st = &c->streams[r];
            fx_run_abort(e, st, 1);
            if (deleted && st->loaded) {
                fx_db_stream_error(&st->d, "connection deleted");
                fx_stream_set_state(e, st, FX_ST_BLOCKED);
                fx_stream_save(e, st);
            }
        }
        disown_conn(e, c, 0);
    } else if (!c->owned && should_own) {
        own_conn(e, c);
    } else if (c->owned) {
        /* blocked, unblocked or a new token: every stream decides again, and the checks of
         * its crawl times stop or go on */
        fx_conn_check_at(e, c, c->hist_check_at);
        fx_conn_wake(e, c);
    }
}

static void refresh(fx_engine *e) {
    char err[256];
    fx_db_conn *rows = NULL;
    int n = 0;
    if (fx_db_ensure(e->db) != 0) {
        fx_db_result(e, -1, "reconnect", pq_conn_failure(NULL, e->db));
        return;
    }
    int rc = fx_db_conn_since(e->db, e->conn_seq, &rows, &n, &e->conn_seq, err, sizeof err);
    fx_db_result(e, rc, "load connections", err);
    for (int i = 0; i < n; i++)
        apply_conn_row(e, &rows[i]);
    fx_db_conns_free(rows, n);
    if (rc) return;

    fx_db_hist *h = NULL;
    int64_t since = e->hist_seq;
    rc = fx_db_hist_since(e->db, since, &h, &n, &e->hist_seq, err, sizeof err);
    fx_db_result(e, rc, "load historical syncs", err);
    for (int i = 0; i < n; i++) {
        fx_conn *c = find_conn(e, h[i].conn);
        /* not owned: its owner reads it, and so do we if we come to own it (load_conns);
         * the gap after a stored answer depends on the first syncs done */
        if (c && c->owned && c->hist_loaded && apply_hist(e, c, h[i].res, h[i].oldest_ms) &&
            c->check_restored && !c->info_req)
            restore_check(e, c);
    }
    free(h);

    if (e->load_pending) { /* rows that failed to load earlier */
        e->load_pending = 0;
        for (fx_conn *c = e->conns; c; c = c->next) {
            int missing = c->owned && !c->hist_loaded;
            for (int r = 0; r < TS_ENTITY_COUNT && c->owned && !missing; r++)
                missing = !c->streams[r].loaded;
            if (missing) queue_load(e, c);
        }
    }
    /* the connections owned by this refresh, with their first syncs known (the gap to
     * their next check depends on them) */
    load_queued(e);
    if (e->owned_conns > 0) {
        fx_db_req reqs[FX_REQ_MAX_BATCH];
        rc = fx_db_req_pending(e->db, reqs, FX_REQ_MAX_BATCH, &n, err, sizeof err);
        fx_db_result(e, rc, "load requests", err);
        for (int i = 0; i < n && rc == 0; i++)
            take_request(e, &reqs[i]);
    }
}

void fx_engine_poke(fx_engine *e) {
    e->next_refresh = 0;
}

/* ---- GET /integrations/wms and GET /connections/{id} ---- */

/* An answer of GET /integrations/wms (live, or stored by any replica) taken in; the next
 * look is due at next. 0, or -1 when it does not parse. */
static int adopt_integrations(fx_engine *e, const char *body, size_t len, int64_t next,
                              const char *from) {
    int n = 0;
    if (fx_api_parse_integrations(body, len, e->integs, FX_MAX_INTEGRATIONS, &n) != 0) return -1;
    e->ninteg = n;
    e->integ_known = 1;
    /* what each integration reads decides whether a stream polls: all decide again
     * (once an hour, and no poll comes of it unless one is due) */
    for (int i = 0; i < e->nconns; i++)
        if (e->conn_arr[i]->owned) fx_conn_wake(e, e->conn_arr[i]);
    e->integ_next = next;
    char ns[16];
    snprintf(ns, sizeof ns, "%d", n);
    log_info("integrations loaded", "count", ns, "from", from, NULL);
    return 0;
}

static void on_integrations(void *arg, fx_http_resp *resp) {
    fx_engine *e = arg;
    e->integ_req = NULL;
    int64_t now = util_mono_ms();
    const char *body = resp->body.p ? resp->body.p : "";
    if (resp->status == 200 &&
        adopt_integrations(e, body, resp->body.len, now + e->cfg.integrations_ttl_ms, "api") == 0) {
        /* for every replica and the next start: the API allows one call a minute */
        char err[256];
        if (e->db) {
            int rc = fx_db_integrations_put(e->db, body, util_now_ms(), err, sizeof err);
            fx_db_result(e, rc, "store integrations", err);
        }
        return;
    }
    int64_t wait = FX_INTEG_MIN_GAP_MS;
    if (resp->status == 429 && resp->retry_after_s > 0 && resp->retry_after_s * 1000 > wait)
        wait = resp->retry_after_s * 1000;
    e->integ_next = now + wait;
    char st[16];
    snprintf(st, sizeof st, "%d", resp->status);
    log_warn("GET /integrations/wms failed; assuming every resource until it answers", "status", st,
             "error", resp->status ? NULL : resp->err, NULL);
}

/* The stored answer, when younger than FETCHER_INTEGRATIONS_TTL_S: taken in as if just
 * received (the next look when it expires, plus up to a tenth of the lifetime, so that
 * replicas do not all ask at one moment). 1 when taken, 0 when the API is to be asked (none
 * stored, too old, unreadable, or the database did not answer; or an engine without one,
 * as fx_engine_new allows). */
static int stored_integrations(fx_engine *e, int64_t now) {
    if (!e->db) return 0;
    char err[256], *body = NULL;
    int64_t fetched = 0;
    int rc = fx_db_integrations_get(e->db, &body, &fetched, err, sizeof err);
    fx_db_result(e, rc < 0 ? -1 : 0, "load integrations", err);
    int64_t ttl = e->cfg.integrations_ttl_ms, age = util_now_ms() - fetched;
    int taken = 0;
    if (age < 0 && age >= -FX_INTEG_MIN_GAP_MS) age = 0; /* another replica's clock ahead */
    if (rc == 1 && age >= 0 && age < ttl) {
        int64_t jitter = (int64_t)(fx_rand(&e->rng) % (uint64_t)(ttl / 10 + 1));
        taken =
            adopt_integrations(e, body, strlen(body), now + (ttl - age) + jitter, "database") == 0;
    }
    free(body);
    return taken;
}

static void maybe_fetch_integrations(fx_engine *e, int64_t now) {
    if (e->integ_req || now < e->integ_next) return;
    if (stored_integrations(e, now)) return;
    sbuf url = {0};
    sbuf_printf(&url, "%s/integrations/wms", e->cfg.base_url);
    e->integ_req =
        fx_http_start(e->http, "GET", url.p, e->cfg.api_key, NULL, NULL, on_integrations, e);
    sbuf_free(&url);
    /* Never more than one call a minute, whatever the answer. */
    e->integ_next = now + FX_INTEG_MIN_GAP_MS;
}

/* When to look at the connection's crawl times again: every FETCHER_CONN_CHECK_S once a
 * first sync is done; before any is, every FETCHER_HIST_CHECK_S
 * (connection.historical-sync-completed, which carries oldest_data_date, usually tells
 * first); while some are pending, whichever is sooner. */
static int64_t next_conn_check(const fx_engine *e, const fx_conn *c, int64_t now) {
    int pending = !c->actions_known, done = 0;
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        if (fx_integration_reads(e, c, r) == 0) continue;
        pending |= !c->streams[r].hist_done;
        done |= c->streams[r].hist_done;
    }
    int64_t gap = !done ? e->cfg.hist_check_ms : e->cfg.conn_check_ms;
    if (done && pending && e->cfg.hist_check_ms < gap) gap = e->cfg.hist_check_ms;
    return now + gap;
}

/* The connection object, exactly as served (by GET /connections/{id} or a page of
 * GET /connections), onto the raw topic (resource "connections", event_type
 * connections.polled): how the connection's customer_id and settings reach the database.
 * Delivery is not tracked: the next answer after FETCHER_CONNECTION_REFRESH_S publishes
 * it again. An object naming another connection, or holding a token, is not published. */
static void publish_conn_object(fx_engine *e, fx_conn *c, const char *obj, size_t ol) {
    const char *tok;
    size_t tl;
    char got[FX_ID_MAX], at[32], err[256];
    if (!obj || fx_json_obj_str(obj, ol, "connection_id", got, sizeof got) != 1 ||
        strcmp(got, c->id) != 0 || fx_json_obj_raw(obj, ol, "access_token", &tok, &tl) != 0) {
        log_warn("connection object not published (another connection's, or it holds a token)",
                 "connection_id", c->id, NULL);
        return;
    }
    val_time_format(util_now_ms(), 1, at);
    fx_pub_record r = {.connection_id = c->id,
                       .integration = c->integration,
                       .resource = FX_CONNECTIONS_RESOURCE,
                       .id = c->id,
                       .updated_date = at,
                       .received_at = at,
                       .value = obj,
                       .len = ol};
    if (fx_pub_record_send(e->producer, e->cfg.raw_topic, &r, NULL, err, sizeof err) != 0)
        log_warn("connection object not published", "connection_id", c->id, "error", err, NULL);
}

/* A GET /connections/{id} that failed: counted, logged (a sample: a storm of them must
 * not flood the log), and tried again later. After a 429 the organisation's budget is
 * spent, for every connection: that one waits at least retry-after, and backs off
 * exponentially with jitter while the 429s go on, so that connections refused together
 * do not come back together. */
static void conn_check_failed(fx_engine *e, fx_conn *c, const fx_http_resp *resp, int64_t now) {
    static log_limiter failures = LOG_LIMITER_INIT(10, 60000);
    char st[16];
    snprintf(st, sizeof st, "%d", resp->status);
    log_limited(&failures, LOG_WARN, "GET /connections/{id} failed", "connection_id", c->id,
                "status", st, NULL);
    if (resp->status == 429) {
        metric_inc(e->m.http_429);
        int64_t wait = fx_backoff_delay(c->check_429s++, FX_CHECK_BACKOFF_BASE_MS,
                                        FX_CHECK_BACKOFF_CAP_MS, &e->rng);
        if (resp->retry_after_s > 0 && wait < resp->retry_after_s * 1000)
            wait = resp->retry_after_s * 1000 + (int64_t)(fx_rand(&e->rng) % 1000);
        fx_conn_check_at(e, c, now + wait);
        c->info_at = now; /* its answer is still wanted on the raw topic */
        return;
    }
    metric_inc(resp->status >= 500 ? e->m.http_5xx : e->m.http_errors);
}

/* A first sync an answer reported, to be stored by store_hists at the end of the answer's
 * callback. Without room to queue it, it is not stored: the connection's next answer
 * reports it again. */
static void queue_hist(fx_engine *e, fx_conn *c, int r) {
    if (e->histq.n == e->histq.cap) {
        int cap = e->histq.cap ? e->histq.cap * 2 : 256;
        struct fx_hist_item *q = realloc(e->histq.items, (size_t)cap * sizeof *q);
        if (!q) return;
        e->histq.items = q;
        e->histq.cap = cap;
    }
    e->histq.items[e->histq.n++] = (struct fx_hist_item){.c = c, .res = r};
}

/* The queued first syncs in one statement (a page of GET /connections reports up to 1,100:
 * one autocommit each held the loop for minutes at 10,000 connections). Only once stored
 * are the streams told (st->hist_done): one that did not store is reported again by the
 * connection's next answer. Each connection's next look then counts them (its streams
 * were woken by conn_info_apply and decide at the next turn, after this). */
static void store_hists(fx_engine *e, int64_t now) {
    int n = e->histq.n;
    if (n == 0) return;
    const char **ids = calloc((size_t)n, sizeof *ids), **names = calloc((size_t)n, sizeof *names);
    char err[256] = "store historical syncs: out of memory";
    for (int i = 0; ids && names && i < n; i++) {
        ids[i] = e->histq.items[i].c->id;
        names[i] = ts_entities[e->histq.items[i].res].name;
    }
    int rc = ids && names ? fx_db_hist_put_many(e->db, ids, names, n, err, sizeof err) : -1;
    fx_db_result(e, rc, "store historical syncs", err);
    free(ids);
    free(names);
    e->histq.n = 0;
    if (rc != 0) return;
    for (int i = 0; i < n; i++) {
        fx_conn *c = e->histq.items[i].c;
        int r = e->histq.items[i].res;
        if (!c->owned || !c->streams) continue;
        c->streams[r].hist_done = 1;
        log_info("first sync done (from GET /connections)", "connection_id", c->id, "resource",
                 ts_entities[r].name, NULL);
        if (i + 1 == n || e->histq.items[i + 1].c != c) /* its last one */
            fx_conn_check_at(e, c, next_conn_check(e, c, now));
    }
}

/* What a Connection object says (GET /connections/{id}, or one element of a page of
 * GET /connections), applied to the owned connection c: what it reads, Trackstar's
 * crawl times, its first syncs. obj is the object as served, for the raw topic. */
static void conn_info_apply(fx_engine *e, fx_conn *c, const fx_conn_info *info, const char *obj,
                            size_t objlen, int64_t now) {
    c->check_429s = 0;
    c->listing_wait = 0;
    c->checked_ms = util_now_ms(); /* stored (fx_conn_save): a restart reads it back */
    c->check_restored = 0;
    c->check_dirty = 1;
    if (now >= c->info_at) { /* customer_id and settings: no more often than this */
        publish_conn_object(e, c, obj, objlen);
        c->info_at = now + e->cfg.conn_refresh_ms;
    }
    if (info->actions_known) {
        c->actions = info->actions;
        c->actions_known = 1;
    }
    for (int r = 0; r < TS_ENTITY_COUNT; r++) {
        fx_stream *st = &c->streams[r];
        const fx_schedule *sc = &info->sched[r];
        if (!sc->known) continue;
        /* What Trackstar promises about its copy (the cursor rule), and when it last
         * refreshed it (the schedule: poll after each crawl). */
        fx_schedule_promise(sc, &st->prom);
        st->crawls_known = st->prom.crawl_end_ms != 0;
        st->crawl_error = sc->error;
        /* stored with the stream (apply_loaded reads it back at a restart) */
        int fs = (int)(st->prom.frequency_ms / 1000);
        if (st->loaded &&
            (st->d.sync_frequency_s != fs || st->d.crawl_end_ms != st->prom.crawl_end_ms ||
             st->d.crawl_start_ms != st->prom.crawl_start_ms ||
             st->d.crawl_error != st->crawl_error)) {
            st->d.sync_frequency_s = fs;
            st->d.crawl_start_ms = st->prom.crawl_start_ms;
            st->d.crawl_end_ms = st->prom.crawl_end_ms;
            st->d.crawl_error = st->crawl_error;
            st->dirty = 1;
        }
    }
    for (int r = 0; r < TS_ENTITY_COUNT; r++)
        if (!c->streams[r].hist_done && (info->hist_done & (1u << r))) queue_hist(e, c, r);
    fx_conn_check_at(e, c, next_conn_check(e, c, now)); /* again once its first syncs stored */
    fx_conn_save(e, c); /* its time and actions, stored after its streams' schedules */
    /* crawl times, first syncs, what it reads: every stream decides again */
    fx_conn_wake(e, c);
}

static void on_conn_info(void *arg, fx_http_resp *resp) {
    fx_conn *c = arg;
    fx_engine *e = c->e;
    c->info_req = NULL;
    fx_conn_request_done(e, c);
    int64_t now = util_mono_ms();
    /* An API-key endpoint: its rate-limit headers describe the organisation's budget. */
    fx_rate_on_response(&e->org_rate, now, util_now_ms(), resp->status, resp->retry_after_s,
                        resp->remaining, resp->reset_epoch_s);
    fx_conn_info info;
    if (resp->status == 401) {
        fx_conn_block(e, c, "401 on GET /connections/{id}");
        return;
    }
    fx_conn_check_at(e, c, next_conn_check(e, c, now));
    const char *obj = NULL;
    size_t ol = 0;
    if (resp->status != 200 || fx_api_parse_connection(resp->body.p ? resp->body.p : "",
                                                       resp->body.len, &info, &obj, &ol) != 0) {
        conn_check_failed(e, c, resp, now);
        return;
    }
    conn_info_apply(e, c, &info, obj, ol, now);
    store_hists(e, now);
}

/* One GET /connections/{id}, counted in every budget it spends. 0, or -1 when it could not
 * start (then it is tried again after FETCHER_CONN_CHECK_S, so that it does not stay the
 * most overdue one). */
static int start_conn_check(fx_engine *e, fx_conn *c, int64_t now) {
    sbuf url = {0};
    if (sbuf_printf(&url, "%s/connections/", e->cfg.base_url) == 0 &&
        val_url_escape(&url, c->id) == 0)
        c->info_req =
            fx_http_start(e->http, "GET", url.p, e->cfg.api_key, NULL, NULL, on_conn_info, c);
    sbuf_free(&url);
    if (!c->info_req) {
        fx_conn_check_at(e, c, now + e->cfg.conn_check_ms);
        return -1;
    }
    fx_sched_del(&e->checks, &c->check); /* the answer schedules the next */
    c->listing_wait = 0;
    /* API-key only, but counted against the token's budget too: better too careful. */
    fx_rate_take(&c->rate, now);
    fx_rate_take(&e->org_rate, now);
    c->inflight++;
    metric_inc(e->m.http_requests);
    return 0;
}

/* ---- the sweep: GET /connections, a page of connections a request ----
 *
 * When many owned connections are due for a look at once (a start or a restart, a
 * partition taken over, the connections created together coming due together), reading
 * the organisation's list, 100 connections a page, costs N/100 API-key requests where
 * asking each connection costs one each. The pages are read one after another within
 * FETCHER_ORG_RATE; each owned connection listed takes what its element says, exactly as
 * from GET /connections/{id}, and so leaves the due queue. One the last complete sweep
 * did not list (deleted at Trackstar, say) is asked on its own, and does not count
 * towards the next sweep, so that such connections cannot start sweep after sweep. After
 * a failed sweep, none starts for FX_SWEEP_GAP_MS and the due ones are asked one by one.
 * The page size is Trackstar's (the API takes no limit; the simulator's is 100).
 *
 * One sweep serves the whole group: the list cannot be filtered by owner, so R replicas
 * each reading it would cost R x N/100 requests a round. A sweep hands every listed
 * connection that another replica owns to that replica, on the assignment topic's
 * partition the connection hashes to (its owner is the consumer of that partition); the
 * owner applies it as it applies its own sweep's (fx_engine_listed). The replica that owns
 * partition 0 is the one that sweeps when its connections come due; the others leave a due
 * connection for listing_grace() first, and longer while the sweep is under way (a listing
 * was handed over within the last grace), at most FX_LISTING_WAITS graces in all; they
 * ask (or sweep) themselves only when no listing came, so a dead or slow sweeper costs a
 * delay, never a connection unlooked at.
 * A connection one sweep looked at comes due with all the others it listed, so in steady
 * state one sweep a round lists all of them. A look asked for now (a connection event:
 * due at 0) is not left waiting. */
#define FX_SWEEP_MIN_DUE 10
#define FX_SWEEP_GAP_MS 10000
/* A sweep lasts pages / FETCHER_ORG_RATE: at 10,000 connections 100 pages, 20 s, longer
 * than the grace (15 s). After a restart of the sweeper in the middle of a round its new
 * sweep reached the other replica's connections after their grace, and that replica swept
 * the list too (206-210 API-key requests in a restart's minute, not 100). 16 graces are 4
 * minutes at the defaults: a sweep of 1,000 pages at 5 a second takes 200 s. */
#define FX_LISTING_WAITS 16

/* Whether this replica sweeps for the group: it owns partition 0, or there is only one
 * partition (so no other replica owns anything). */
static int sweep_leader(const fx_engine *e) {
    return e->partitions <= 1 || e->owned[0];
}

/* How long a replica that does not sweep leaves a due connection for the group's sweep:
 * a quarter of the shortest gap between looks (15 s at the defaults), ample for a sweep
 * that started when its own connections came due, the same moment, to reach it. */
static int64_t listing_grace(const fx_engine *e) {
    int64_t gap =
        e->cfg.conn_check_ms < e->cfg.hist_check_ms ? e->cfg.conn_check_ms : e->cfg.hist_check_ms;
    return gap / 4;
}

/* A listed connection owned by another replica goes to it on the assignment topic. Not
 * tracked: one that does not arrive leaves that connection to ask for itself. */
static void hand_over_kafka(fx_engine *e, const char *id, int partition, const char *obj,
                            size_t len) {
    static log_limiter failures = LOG_LIMITER_INIT(10, 60000);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        e->producer, RD_KAFKA_V_TOPIC(e->cfg.assign_topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(id, strlen(id)), RD_KAFKA_V_VALUE((void *)obj, len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err) {
        log_limited(&failures, LOG_WARN, "listed connection not handed over", "connection_id", id,
                    "error", rd_kafka_err2str(err), NULL);
        return;
    }
    metric_inc(e->m.listings_handed);
}

static void on_listed(void *arg, const char *id, const char *obj, size_t len,
                      const fx_conn_info *info) {
    fx_engine *e = arg;
    e->sweep.listed++;
    fx_conn *c = find_conn(e, id);
    if (c) c->swept = e->sweep.gen;
    int part = fx_engine_partition_of(id, e->partitions);
    if (e->partitions > 1 && !e->owned[part] && e->hand_over) {
        e->hand_over(e, id, part, obj, len);
        return;
    }
    /* one asked on its own meanwhile keeps that answer; a blocked one waits for its unblock */
    if (!c || !lookable(c)) return;
    e->sweep.applied++;
    conn_info_apply(e, c, info, obj, len, util_mono_ms());
}

int fx_conn_unlisted(const fx_engine *e, const fx_conn *c) {
    return e->sweep.done_gen && c->swept != e->sweep.done_gen && c->born_gen < e->sweep.done_gen;
}

static void sweep_end(fx_engine *e, int64_t now, const char *failed) {
    char pages[16], listed[24], applied[24];
    snprintf(pages, sizeof pages, "%d", e->sweep.pages);
    snprintf(listed, sizeof listed, "%" PRId64, e->sweep.listed);
    snprintf(applied, sizeof applied, "%" PRId64, e->sweep.applied);
    e->sweep.on = 0;
    if (!failed) {
        e->sweep.last_pages = e->sweep.pages;
        e->sweep.done_gen = e->sweep.gen;
        log_debug("connections listed (GET /connections)", "pages", pages, "listed", listed,
                  "owned_applied", applied, NULL);
    } else {
        static log_limiter failures = LOG_LIMITER_INIT(10, 60000);
        log_limited(&failures, LOG_WARN, "GET /connections failed; asking each due connection",
                    "pages", pages, "error", failed, NULL);
        e->sweep.next_at = now + FX_SWEEP_GAP_MS;
    }
}

static void on_sweep_page(void *arg, fx_http_resp *resp) {
    fx_engine *e = arg;
    e->sweep.req = NULL;
    int64_t now = util_mono_ms();
    fx_rate_on_response(&e->org_rate, now, util_now_ms(), resp->status, resp->retry_after_s,
                        resp->remaining, resp->reset_epoch_s);
    char next[FX_SWEEP_TOKEN_MAX], what[64];
    int parsed = resp->status == 200 &&
                 fx_api_parse_connection_page(resp->body.p ? resp->body.p : "", resp->body.len,
                                              on_listed, e, next, sizeof next) == 0;
    store_hists(e, now); /* the page's first syncs, elements before a fault's too */
    if (parsed) {
        e->sweep.pages++;
        e->sweep.fails = 0;
        metric_inc(e->m.sweep_pages);
        if (!next[0]) {
            sweep_end(e, now, NULL);
            return;
        }
        snprintf(e->sweep.token, sizeof e->sweep.token, "%s", next);
        return;
    }
    if (resp->status == 429) {
        /* the organisation's budget is spent: this page again, backing off while it lasts */
        metric_inc(e->m.http_429);
        int64_t wait = fx_backoff_delay(e->sweep.fails++, FX_CHECK_BACKOFF_BASE_MS,
                                        FX_CHECK_BACKOFF_CAP_MS, &e->rng);
        if (resp->retry_after_s > 0 && wait < resp->retry_after_s * 1000)
            wait = resp->retry_after_s * 1000 + (int64_t)(fx_rand(&e->rng) % 1000);
        e->sweep.retry_at = now + wait;
        return;
    }
    metric_inc(resp->status >= 500 ? e->m.http_5xx : e->m.http_errors);
    if (resp->status)
        snprintf(what, sizeof what, "HTTP %d", resp->status);
    else
        snprintf(what, sizeof what, "%.60s", resp->err);
    sweep_end(e, now, what);
}

/* The sweep's next page, when no page is in flight and the budgets allow. */
static void sweep_step(fx_engine *e, int64_t now) {
    if (e->sweep.req || now < e->sweep.retry_at ||
        fx_http_inflight(e->http) >= e->cfg.max_inflight || fx_rate_next(&e->org_rate, now) > now)
        return;
    sbuf url = {0};
    if (sbuf_printf(&url, "%s/connections", e->cfg.base_url) == 0 &&
        (!e->sweep.token[0] ||
         (sbuf_printf(&url, "?page_token=") == 0 && val_url_escape(&url, e->sweep.token) == 0)))
        e->sweep.req =
            fx_http_start(e->http, "GET", url.p, e->cfg.api_key, NULL, NULL, on_sweep_page, e);
    sbuf_free(&url);
    if (!e->sweep.req) {
        sweep_end(e, now, "request not started");
        return;
    }
    fx_rate_take(&e->org_rate, now);
    metric_inc(e->m.http_requests);
}

static fx_conn *check_conn_of(fx_sched_item *it) {
    return (fx_conn *)((char *)it - offsetof(fx_conn, check));
}

/* The next due connection that can be looked at, or NULL. Others popped on the way leave
 * the queue until that changes (fx_conn_check_at). */
static fx_conn *pop_due(fx_engine *e, int64_t now) {
    fx_sched_item *it;
    int64_t grace = listing_grace(e);
    while ((it = fx_sched_pop(&e->checks, now))) {
        fx_conn *c = check_conn_of(it);
        e->conns_examined++;
        metric_inc(e->m.sched_conns);
        if (!lookable(c)) continue;
        /* the group's sweep may list it: a grace, then more while listings come */
        if (!sweep_leader(e) && c->hist_check_at > 0 && c->listing_wait < FX_LISTING_WAITS &&
            (!c->listing_wait || now - e->sweep.handed_ms < grace)) {
            fx_conn_check_at(e, c, now + grace);
            c->listing_wait++;
            continue;
        }
        return c;
    }
    return NULL;
}

void fx_engine_listed(fx_engine *e, const char *id, const char *obj, size_t len,
                      int64_t listed_ms) {
    if (util_now_ms() - listed_ms > listing_grace(e)) return; /* stale: its own look stays due */
    int64_t now = util_mono_ms();
    e->sweep.handed_ms = now; /* the group's sweep is under way (pop_due) */
    fx_conn *c = find_conn(e, id);
    fx_conn_info info;
    if (!c || !lookable(c) || fx_api_parse_connection_object(obj, len, &info) != 0)
        return; /* not ours, or asked meanwhile */
    metric_inc(e->m.listings_applied);
    conn_info_apply(e, c, &info, obj, len, now);
    store_hists(e, now);
}

/* How many due connections make a sweep worth it: at least FX_SWEEP_MIN_DUE, and more
 * than the last sweep's pages; 0 for a while after a failed sweep. */
static size_t sweep_want(const fx_engine *e, int64_t now) {
    if (now < e->sweep.next_at) return 0;
    size_t want = FX_SWEEP_MIN_DUE;
    if ((size_t)e->sweep.last_pages + 1 > want) want = (size_t)e->sweep.last_pages + 1;
    return want;
}

static void sweep_start(fx_engine *e, int64_t now) {
    e->sweep.on = 1; /* from the first page; last_pages and next_at stay */
    e->sweep.gen++;
    e->sweep.token[0] = '\0';
    e->sweep.pages = e->sweep.fails = 0;
    e->sweep.retry_at = 0;
    e->sweep.listed = e->sweep.applied = 0;
    sweep_step(e, now);
}

/* Look at the owned connections that are due, the longest overdue first: by a sweep when
 * enough are (sweep_want), else with GET /connections/{id} each while the organisation's
 * budget for API-key requests and the process's cap on requests in flight (which every
 * other request obeys too) allow. When more are due than the budget serves, each waits
 * its turn instead of the first ones in the list taking every slot. Only due connections
 * are looked at (e->checks), each once a turn: one whose token has no budget or slot free
 * now is set aside for this turn and looked at again at the next. */
static void check_conns(fx_engine *e, int64_t now) {
    if (e->sweep.on) {
        sweep_step(e, now);
        return;
    }
    fx_sched_item **due = e->checks.scratch;
    size_t n = 0, counted = 0, want = sweep_want(e, now);
    fx_conn *c;
    /* the ones the last sweep did not list are taken out too, but do not count */
    while (counted < want && n < 4 * want && (c = pop_due(e, now))) {
        due[n++] = &c->check;
        counted += !fx_conn_unlisted(e, c);
    }
    int sweep = want && counted >= want;
    /* asked each: the ones taken out above first, then more while the budgets allow; the
     * ones set aside are written back into due[] behind the one being read */
    size_t next = 0, aside = 0;
    while (!sweep && fx_http_inflight(e->http) < e->cfg.max_inflight &&
           fx_rate_next(&e->org_rate, now) <= now) {
        if (next < n)
            c = check_conn_of(due[next++]);
        else if (!(c = pop_due(e, now)))
            break;
        if (c->inflight >= e->cfg.token_inflight || fx_rate_next(&c->rate, now) > now)
            due[aside++] = &c->check;
        else
            start_conn_check(e, c, now); /* one that cannot start is rescheduled by it */
    }
    while (next < n)
        due[aside++] = due[next++];
    /* back in at their own (past) time: still the most overdue next turn */
    for (size_t i = 0; i < aside; i++) {
        c = check_conn_of(due[i]);
        fx_conn_check_at(e, c, c->hist_check_at);
    }
    if (sweep) sweep_start(e, now);
}

/* ---- the stream's decision when it is not running ---- */

static void skip_manual(fx_engine *e, fx_stream *st, const char *why) {
    char what[128];
    snprintf(what, sizeof what, "%s: %s", ts_entities[st->res].name, why);
    if (st->force_req) fx_req_stream_done(e, st->force_req, 0, what);
    if (st->bf_req) fx_req_stream_done(e, st->bf_req, 0, what);
    st->force = st->bf_queued = 0;
    st->force_req = st->bf_req = 0;
}

static void decide(fx_engine *e, fx_stream *st, int64_t now_wall) {
    fx_conn *c = st->c;
    if (!st->loaded || st->run != FX_RUN_NONE) return;
    if (c->blocked) {
        skip_manual(e, st, "connection blocked");
        fx_stream_set_state(e, st, FX_ST_BLOCKED);
        return;
    }
    if (fx_integration_reads(e, c, st->res) == 0) {
        skip_manual(e, st, "not supported by the integration");
        fx_stream_set_state(e, st, FX_ST_UNSUPPORTED);
        return;
    }
    if (st->d.unsupported_until_ms > now_wall) {
        skip_manual(e, st, "unsupported (501)");
        fx_stream_set_state(e, st, FX_ST_UNSUPPORTED);
        return;
    }
    if (!st->hist_done) {
        skip_manual(e, st, "waiting for the historical sync");
        fx_stream_set_state(e, st, FX_ST_WAITING);
        return;
    }
    if (st->crawl_error) {
        /* Trackstar cannot crawl it (invalid credentials, a missing permission): reads
         * still serve its stored copy, which does not change; nothing to poll, and a force
         * sync would never end. The connection error itself comes as an event. */
        fx_db_stream_error(&st->d, "Trackstar reports sync_status error: its copy is not updated");
        skip_manual(e, st, "Trackstar cannot sync it (sync_status error)");
        st->sync_posted = 0;
        fx_stream_set_state(e, st, FX_ST_BLOCKED);
        return;
    }
    if (st->state == FX_ST_BLOCKED && !c->blocked) {
        fx_db_stream_error(&st->d, NULL); /* Trackstar syncs it again */
        st->dirty = 1;
    }
    if (st->sync_posted &&
        ((st->prom.crawl_end_ms > st->sync_posted - st->sync_posted % 1000 && !st->crawl_error) ||
         now_wall >= st->sync_deadline)) {
        if (now_wall >= st->sync_deadline)
            log_warn("no crawl ended after the force sync; polling anyway", "connection_id", c->id,
                     "resource", ts_entities[st->res].name, NULL);
        st->sync_posted = 0;
        st->force = 1;
    }
    if (st->bf_queued && fx_job_pending(e, st, util_mono_ms())) {
        return; /* Trackstar's on-demand sync of the window still runs */
    } else if (st->bf_queued) {
        fx_run_start(e, st, FX_RUN_WINDOW);
    } else if (st->sync_posted) {
        return; /* its poll comes when the force sync's crawl has ended */
    } else if (fx_stream_due(e, st, now_wall)) {
        fx_run_kind k = ts_entities[st->res].poll == TS_POLL_COMPLETE        ? FX_RUN_SNAPSHOT
                        : ts_entities[st->res].poll == TS_POLL_PER_WAREHOUSE ? FX_RUN_LOCATIONS
                        : ts_entities[st->res].poll == TS_POLL_PER_ORDER     ? FX_RUN_PER_ORDER
                                                                             : FX_RUN_INCREMENTAL;
        fx_run_start(e, st, k);
    } else if (st->state != FX_ST_IDLE && st->state != FX_ST_FAILED) {
        fx_stream_set_state(e, st, FX_ST_IDLE);
    }
}

/* ---- the loop ---- */

/* A wall-clock time as the monotonic time of the schedule (never before the next turn). */
static int64_t mono_at(int64_t wall_at, int64_t now, int64_t wall) {
    return wall_at > wall ? now + (wall_at - wall) : now + 1;
}

static int64_t earliest(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* When the stream needs a look again, after its turn: decide()'s gates in its order, each
 * gate that only time opens giving its time; the gates an event opens (an answer of
 * GET /connections/{id}, a first sync stored, a request, an unblock, GET /integrations/wms)
 * give none, since that event wakes the stream (fx_stream_wake). A run is looked at when
 * it can move (fx_run_next_wake): a first sync of 10,000 connections holds 140,000 runs,
 * nearly all waiting for a request slot, and looking at each every turn cost more than
 * the requests. */
static int64_t stream_next_wake(fx_engine *e, fx_stream *st, int64_t now, int64_t wall) {
    const fx_conn *c = st->c;
    if (!c->owned || !st->loaded) return FX_SCHED_NEVER;
    /* a queued stream is stored within FX_SAVE_LINGER_MS; one whose store failed is woken
     * for its retry by fx_state_flush */
    int64_t at = st->dirty && !st->save_queued ? now + FX_SAVE_RETRY_MS : FX_SCHED_NEVER;
    if (st->run != FX_RUN_NONE) return earliest(at, fx_run_next_wake(e, st, now));
    if (st->force || st->bf_queued) return now + 1; /* manual work: its gates every turn */
    if (c->blocked)
        return earliest(at, c->blocked_recheck_at > now ? c->blocked_recheck_at : now + 1);
    if (fx_integration_reads(e, c, st->res) == 0) return at;
    if (st->d.unsupported_until_ms > wall)
        return earliest(at, mono_at(st->d.unsupported_until_ms, now, wall));
    if (!st->hist_done || st->crawl_error) return at;
    if (st->sync_posted) return earliest(at, mono_at(st->sync_deadline, now, wall));
    if (wall < st->retry_at) return earliest(at, mono_at(st->retry_at, now, wall));
    if (st->crawls_known) return at; /* the next crawl end comes with GET /connections/{id} */
    return earliest(at, mono_at(st->d.next_due_ms, now, wall));
}

/* One stream's turn: acknowledgements, the decision, pages to send, its state stored. */
static void stream_turn(fx_engine *e, fx_stream *st, int64_t now, int64_t wall) {
    fx_conn *c = st->c;
    if (c->blocked && now >= c->blocked_recheck_at) {
        /* Try again now and then: a reinstall may have fixed it without an event. */
        char err[256];
        int rc = fx_db_conn_unblock(e->db, c->id, "recheck", err, sizeof err);
        fx_db_result(e, rc, "recheck blocked connection", err);
        c->blocked = 0;
        fx_conn_check_at(e, c, c->hist_check_at);
        fx_conn_wake(e, c);
    }
    fx_run_after_acks(e, st);
    if (!e->stopping) {
        decide(e, st, wall);
        fx_run_schedule(e, st, now);
        /* The schedule marks a listing's last sub-list read (open_locations, open_orders):
         * with every record acknowledged already, no acknowledgement comes to wake the run
         * for its end, so it is looked at again now. */
        fx_run_after_acks(e, st);
    }
    fx_stream_save(e, st);
}

void fx_engine_tick(fx_engine *e, int64_t now, int64_t wall) {
    load_queued(e); /* owned outside a refresh, or a refresh that stopped early */
    e->sched_ticks++;
    metric_inc(e->m.sched_ticks);
    /* Trackstar's crawl times first: the schedule and the cursor rule depend on them, and
     * the token's GET budget must not go to pages only. */
    if (!e->stopping) check_conns(e, now);
    if (!e->stopping) wake_slot_waiters(e); /* after the checks took their slots */
    /* Every due stream is taken out first, then each has its turn, from a different one
     * each time, so that none is starved of its token's budget or of the process's slots.
     * A stream woken during the turns waits for the next one. */
    fx_sched_item **due = e->sched.scratch;
    size_t n = 0;
    fx_sched_item *it;
    while ((it = fx_sched_pop(&e->sched, now)))
        due[n++] = it;
    e->streams_examined += n;
    metric_add(e->m.sched_streams, (int64_t)n);
    size_t from = n ? (size_t)(e->rot++ % n) : 0;
    for (size_t k = 0; k < n; k++) {
        fx_stream *st = (fx_stream *)((char *)due[(from + k) % n] - offsetof(fx_stream, wake));
        if (!st->c->owned || !st->loaded) continue;
        stream_turn(e, st, now, wall);
        int64_t at = stream_next_wake(e, st, now, wall);
        /* an event during the turns may have asked for an earlier look */
        if (fx_sched_scheduled(&st->wake) && st->wake.due < at) continue;
        if (fx_sched_set(&e->sched, &st->wake, at) != 0) /* cannot happen: room is reserved */
            log_error("stream not scheduled: schedule full", "connection_id", st->c->id, NULL);
    }
    /* Every state this turn changed, in one statement: during a first sync each stream
     * changes several times a second, and a round trip each held the loop on PostgreSQL.
     * What is stored only trails what the turn decided, never leads it: a cursor moved in
     * memory only after Kafka acknowledged the records behind it. More than a statement's
     * worth waits for the next turns (fx_state_flush_turn), so the loop keeps serving.
     * Less than a statement's worth waits up to FX_SAVE_LINGER_MS: a first sync of 10,000
     * connections made ~20 statements a second of ~20 rows each, and the loop spent most
     * of its time waiting on their commits. */
    if (e->nsave >= FX_SAVE_TURN_ROWS || now >= e->save_at) {
        fx_state_flush_turn(e);
        e->save_at = now + FX_SAVE_LINGER_MS;
    }
}

void fx_engine_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    fx_engine *e = opaque ? *(fx_engine **)opaque : NULL;
    if (!e) return;
    fx_batch *b = m->_private;
    if (m->err) {
        metric_inc(e->m.delivery_failed);
        log_warn("delivery failed", "error", rd_kafka_err2str(m->err), NULL);
    }
    if (!b) return; /* a sync-status message */
    e->unacked_bytes -= (int64_t)m->len;
    if (!m->err) metric_inc(e->m.acked);
    fx_batch_ack(e, b, m->err == RD_KAFKA_RESP_ERR_NO_ERROR);
}

void fx_engine_step(fx_engine *e, int wait_ms) {
    rd_kafka_poll(e->producer, 0);
    int64_t now = util_mono_ms(), wall = util_now_ms();
    if (now >= e->next_refresh) {
        e->next_refresh = now + e->cfg.refresh_ms;
        refresh(e);
    }
    if (!e->stopping) maybe_fetch_integrations(e, now);
    /* Trackstar's crawl times first: the schedule and the cursor rule depend on them, and
     * the token's GET budget must not go to pages only. */
    fx_engine_tick(e, now, wall);
    metric_set(e->m.owned_conns, e->owned_conns);
    metric_set(e->m.unacked_bytes, e->unacked_bytes);
    metric_set(e->m.inflight, fx_http_inflight(e->http));
    fx_fresh_update(e, now, wall);
    if (fx_trim_step(&e->trim, now)) metric_inc(e->m.heap_trims);
    if (fx_http_inflight(e->http) > 0) {
        fx_http_run(e->http, wait_ms);
    } else if (wait_ms > 0) {
        rd_kafka_poll(e->producer, wait_ms);
    }
}

void fx_engine_stop(fx_engine *e, int flush_ms) {
    e->stopping = 1;
    for (fx_conn *c = e->conns; c; c = c->next) {
        if (c->info_req) fx_http_cancel(e->http, c->info_req);
        if (c->sync_req) fx_http_cancel(e->http, c->sync_req);
        c->info_req = c->sync_req = NULL;
        cancel_chains(e, c);
    }
    if (e->integ_req) fx_http_cancel(e->http, e->integ_req);
    e->integ_req = NULL;
    rd_kafka_flush(e->producer, flush_ms);
    rd_kafka_poll(e->producer, 0);
    for (fx_conn *c = e->conns; c; c = c->next) {
        if (!c->owned) continue;
        for (int r = 0; r < TS_ENTITY_COUNT; r++) {
            fx_run_keep_acked(&c->streams[r]);
            fx_stream_save(e, &c->streams[r]);
        }
    }
    /* Everything dirty is stored before the requests go back and the process exits. */
    if (fx_state_flush(e) != 0)
        log_error("stream state not all stored at shutdown: the next owner resumes from the "
                  "last stored",
                  NULL);
    for (fx_conn *c = e->conns; c; c = c->next)
        if (c->owned) release_requests(e, c);
}

fx_engine *fx_engine_new(const fx_cfg *cfg, PGconn *db, rd_kafka_t *producer, char *errstr,
                         size_t errlen) {
    fx_engine *e = calloc(1, sizeof *e);
    if (!e) goto oom;
    e->cfg = *cfg;
    e->db = db;
    e->producer = producer;
    e->partitions = 1;
    atomic_store(&e->db_ok, 1);
    e->rng = (uint64_t)util_now_ms() ^ ((uint64_t)getpid() << 32);
    e->http =
        fx_http_new(cfg->max_body, cfg->http_timeout_ms, cfg->http_timeout_ms, cfg->max_inflight);
    e->integs = calloc(FX_MAX_INTEGRATIONS, sizeof *e->integs);
    e->conn_ix = strmap_new();
    e->names_ix = strmap_new();
    if (fx_rate_init(&e->org_rate, cfg->org_rate, cfg->rate_window_ms) != 0 || !e->http ||
        !e->integs || !e->conn_ix || !e->names_ix)
        goto oom;
    e->m.http_requests =
        metric_counter("fetcher_http_requests_total", "GET requests sent to Trackstar", NULL, NULL);
    e->m.http_429 =
        metric_counter("fetcher_http_429_total", "429 answers (rate limited)", NULL, NULL);
    e->m.http_5xx =
        metric_counter("fetcher_http_5xx_total", "5xx answers (retried with backoff)", NULL, NULL);
    e->m.http_errors =
        metric_counter("fetcher_http_errors_total", "other failed requests", NULL, NULL);
    e->m.records =
        metric_counter("fetcher_records_published_total", "polled records produced", NULL, NULL);
    e->m.acked = metric_counter("fetcher_records_acked_total",
                                "polled records acknowledged by Kafka", NULL, NULL);
    e->m.delivery_failed = metric_counter("fetcher_delivery_failures_total",
                                          "messages Kafka did not take", NULL, NULL);
    e->m.runs_started =
        metric_counter("fetcher_runs_started_total", "stream runs started", NULL, NULL);
    e->m.runs_ok =
        metric_counter("fetcher_runs_succeeded_total", "stream runs finished", NULL, NULL);
    e->m.runs_failed =
        metric_counter("fetcher_runs_failed_total", "stream runs failed", NULL, NULL);
    e->m.cursor_moves =
        metric_counter("fetcher_cursor_advances_total", "cursor moves stored", NULL, NULL);
    e->m.status_msgs =
        metric_counter("fetcher_sync_status_published_total", "sync-status messages", NULL, NULL);
    e->m.gone = metric_counter("fetcher_gone_published_total",
                               "records a complete listing no longer held, published as deletes",
                               NULL, NULL);
    e->m.owned_conns =
        metric_gauge("fetcher_connections_owned", "connections this replica polls", NULL, NULL);
    e->m.unacked_bytes = metric_gauge("fetcher_unacked_bytes",
                                      "record bytes produced, not yet acknowledged", NULL, NULL);
    e->m.inflight = metric_gauge("fetcher_http_inflight", "HTTP requests in flight", NULL, NULL);
    e->m.heap_trims = metric_counter(
        "fetcher_heap_trims_total", "free heap memory handed back after a busy period", NULL, NULL);
    e->m.sched_ticks = metric_counter("fetcher_scheduler_ticks_total",
                                      "loop turns that looked for due work", NULL, NULL);
    e->m.sched_streams = metric_counter(
        "fetcher_scheduler_streams_examined_total",
        "streams the loop looked at because they were due (not every stream every turn)", NULL,
        NULL);
    e->m.sched_conns =
        metric_counter("fetcher_scheduler_connections_examined_total",
                       "connections looked at for a due GET /connections/{id}", NULL, NULL);
    e->m.state_writes = metric_counter(
        "fetcher_state_writes_total",
        "statements that stored stream state (each covers every dirty stream, up to 500)", NULL,
        NULL);
    e->m.state_rows =
        metric_counter("fetcher_state_rows_total", "stream states stored", NULL, NULL);
    e->m.state_write_failures = metric_counter(
        "fetcher_state_write_failures_total",
        "statements storing stream state that failed (their streams are retried)", NULL, NULL);
    e->m.sweep_pages = metric_counter(
        "fetcher_connection_sweep_pages_total",
        "pages of GET /connections read (a sweep learns every owned connection listed)", NULL,
        NULL);
    e->m.listings_handed = metric_counter(
        "fetcher_connection_listings_handed_total",
        "connections a sweep listed that another replica owns, handed to it (assignment topic)",
        NULL, NULL);
    e->m.listings_applied = metric_counter(
        "fetcher_connection_listings_applied_total",
        "connections listed by another replica's sweep and applied here", NULL, NULL);
    if (e->cfg.assign_topic[0]) e->hand_over = hand_over_kafka;
    fx_fresh_init(e);
    fx_trim_init(&e->trim);
    return e;
oom:
    snprintf(errstr, errlen, "out of memory");
    if (e) {
        fx_http_free(e->http);
        free(e->integs);
        strmap_free(e->conn_ix);
        strmap_free(e->names_ix);
        fx_rate_free(&e->org_rate);
        free(e);
    }
    return NULL;
}

void fx_engine_free(fx_engine *e) {
    if (!e) return;
    while (e->conns) {
        fx_conn *c = e->conns;
        e->conns = c->next;
        conn_free(e, c);
    }
    fx_http_free(e->http);
    free(e->integs);
    free(e->histq.items);
    strmap_free(e->conn_ix);
    strmap_free(e->names_ix);
    for (int i = 0; i < e->nnames; i++)
        free(e->names[i]);
    free(e->names);
    free(e->conn_arr);
    fx_sched_free(&e->sched);
    fx_sched_free(&e->checks);
    free(e->saveq);
    free(e->checkq);
    free(e->loadq);
    fx_rate_free(&e->org_rate);
    free(e);
}
