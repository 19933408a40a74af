/* fx_engine_int.h - the engine's internal structures, shared by fx_engine.c (registry,
 * ownership, refresh, requests) and fx_run.c (runs, pages, acknowledgements). Not a
 * public interface: nothing outside the engine includes it. */
#ifndef FX_ENGINE_INT_H
#define FX_ENGINE_INT_H

#include <stdatomic.h>

#include "fx_api.h"
#include "fx_cursor.h"
#include "fx_engine.h"
#include "fx_http.h"
#include "fx_json.h"
#include "fx_rate.h"
#include "fx_sched.h"
#include "fx_trim.h"
#include "metrics.h"
#include "strmap.h"

#define FX_SWEEP_TOKEN_MAX 1024 /* a GET /connections page token */
#define FX_MAX_CHAINS 4         /* windows (or warehouses) fetched at once per stream */
#define FX_MAX_WAREHOUSES 1024  /* warehouses a location run walks */
#define FX_MAX_PARTITIONS 1024
#define FX_MAX_ACTIVE_REQS 256 /* manual requests being carried out at once */
#define FX_SAVE_RETRY_MS 1000  /* a stream whose state did not store tries again after */
/* A turn stores queued stream state when a statement's worth is queued or this long after
 * the last store: a statement costs a commit whatever its rows (see fx_engine_tick). */
#define FX_SAVE_LINGER_MS 200

typedef enum fx_state {
    FX_ST_WAITING = 0, /* waiting_for_historical_sync */
    FX_ST_IDLE,
    FX_ST_RUNNING,
    FX_ST_RATE_LIMITED,
    FX_ST_FAILED,
    FX_ST_UNSUPPORTED,
    FX_ST_BLOCKED,
    FX_ST_COUNT
} fx_state;

extern const char *const fx_state_names[FX_ST_COUNT];

typedef enum fx_run_kind {
    FX_RUN_NONE = 0,
    FX_RUN_INCREMENTAL, /* cursor windows (the first run is the full backfill) */
    FX_RUN_SNAPSHOT,    /* inventory, whole */
    FX_RUN_LOCATIONS,   /* warehouses listed, then each one's locations */
    FX_RUN_WINDOW,      /* a requested backfill over [start, end]: no cursor change */
    FX_RUN_PER_ORDER    /* packed orders listed by the cursor, then each one's packs */
} fx_run_kind;

typedef struct fx_conn fx_conn;
typedef struct fx_stream fx_stream;

typedef enum fx_job_state {
    FX_JOB_NONE = 0, /* no job: the window is read from Trackstar's stored copy as it is */
    FX_JOB_POSTING,  /* POST /connections/on-demand-syncs in flight */
    FX_JOB_OPEN,     /* the job runs: GET it now and then */
    FX_JOB_ENDED     /* completed, cancelled, stuck or refused: read the window now */
} fx_job_state;

/* The records of one page in flight to Kafka. Outlives an abandoned run: a detached
 * batch (st == NULL) only counts its remaining deliveries down and is freed at zero. */
typedef struct fx_batch {
    fx_stream *st;
    uint64_t seg;
    int64_t refs, bytes;
    struct fx_batch *prev, *next;
} fx_batch;

typedef struct fx_chain {
    fx_stream *st;
    int active;
    int listing; /* locations run: this chain lists warehouses; per-order run: orders */
    uint64_t seg;
    int64_t lo, hi; /* the window (FX_NO_BOUND = open side) */
    char *wh;       /* locations run: the warehouse id; per-order run: the order id */
    char *wh_upd;   /* per-order run: the order's updated_date as listed (malloc'd) */
    char *token;    /* next_token to send (malloc'd), NULL for the first page */
    fx_http_req *req;
    int attempt;
    int64_t retry_at; /* monotonic ms */
    int64_t records, pages;
} fx_chain;

/* A backfill's on-demand sync job (fx_jobs.c). */
typedef struct fx_job {
    fx_job_state state;
    char id[FX_ID_MAX];
    char note[160]; /* what the request's detail says about it */
    fx_http_req *req;
    int64_t check_at; /* monotonic ms */
} fx_job;

/* A run's working state: allocated when it starts, freed when it ends. */
typedef struct fx_run_state {
    fx_track track;
    int64_t next_lo, width, run_end;
    int windows_done; /* every window of the run has been opened */
    fx_chain chains[FX_MAX_CHAINS];
    int64_t run_records, ts_seen, ts_missing;
    int loc_fetched; /* locations run: its one window is marked fetched */
    char **whs;      /* locations run: the warehouses; per-order run: one listing page's orders */
    char **whs_upd;  /* per-order run: each listed order's updated_date */
    int nwh, wh_next, listing_done;
    uint64_t loc_seg;
    strmap *listed; /* complete listings: every id this run published (see infer_gone) */
    int gone_sent;  /* ... and the deletes it inferred are produced */
} fx_run_state;

/* Fields are grouped by size (pointers and times, then 4-byte, then 1-byte flags), so that
 * the struct has no holes: a replica holds TS_ENTITY_COUNT of them per owned connection
 * (issue 24: memory per owned connection). */
struct fx_stream {
    fx_conn *c;
    fx_db_stream d;
    int64_t oldest_ms;
    /* the run: its state allocated while it is on (r != NULL exactly then), so that an
     * idle stream costs a few hundred bytes */
    fx_run_state *r;
    int64_t fail_retry_ms;
    fx_batch *batches; /* records in flight to Kafka, detached when the run ends */
    /* what Trackstar says about its copy of this resource (GET /connections/{id}) */
    fx_promise prom;
    int64_t retry_at; /* wall ms: a failed run is not retried before */
    /* manual work */
    int64_t force_req;
    int64_t sync_posted; /* wall ms a force sync was accepted at: poll when its crawl ended */
    int64_t sync_deadline;
    int64_t bf_start, bf_end, bf_req;
    /* a backfill's on-demand sync job (reference §6.4): posted, followed, then the window;
     * allocated by the first look at it (fx_jobs.c), freed by fx_job_reset */
    fx_job *job;
    int64_t run_req; /* the request this run answers (0 = none) */
    /* when the loop looks at it next (e->sched): only owned, loaded streams are in it */
    fx_sched_item wake;
    /* in e->slotq: its run has a page to send and waits for a process-wide request slot
     * or room among the unacknowledged bytes */
    fx_stream *slot_prev, *slot_next;
    int res;
    fx_state state;
    fx_run_kind run;
    fx_state fail_state; /* state to land in when it ends: failed/unsupported/blocked */
    unsigned char loaded, dirty;
    unsigned char save_queued; /* in e->saveq: stored by the next fx_state_flush */
    unsigned char hist_done;
    unsigned char fail;         /* the run failed (reason in d.last_error) */
    unsigned char crawls_known; /* it reports crawl times: poll after each crawl, not by interval */
    unsigned char crawl_error;  /* sync_status error: Trackstar cannot crawl (its copy is still) */
    unsigned char force;
    unsigned char bf_queued;
    unsigned char slot_waiting;
};

/* Grouped by size as fx_stream is: a replica holds one for every known connection,
 * owned or not. */
struct fx_conn {
    fx_engine *e;
    const char *integration; /* interned (fx_engine_intern): shared by its connections */
    char *sealed;            /* the access token as stored (sealed): opened only while owned */
    char *token;             /* the opened access token while owned: secret, never logged */
    int64_t version;
    int64_t owned_at_ms; /* wall clock: when this replica took the connection over */
    fx_rate rate;
    int64_t hist_check_at; /* monotonic ms of the next GET /connections/{id} */
    /* Its last answer (wall ms, 0 = none known), stored with what it said (fx_conn_save)
     * and read back when the connection is owned: a restart asks again only after the
     * gap a live answer would have waited (see own_conn). */
    int64_t checked_ms;
    int64_t info_at; /* monotonic ms from which its answer goes to the raw topic again */
    fx_http_req *info_req;
    fx_http_req *sync_req; /* POST /connections/sync in flight */
    int64_t blocked_recheck_at;
    /* TS_ENTITY_COUNT streams while owned, else NULL: a replica's memory grows with the
     * connections it owns, not with all of them (issue 24) */
    fx_stream *streams;
    /* its next GET /connections/{id} (e->checks, keyed by hist_check_at): in it while
     * owned, usable, unblocked and no such request is in flight */
    fx_sched_item check;
    fx_conn *next;
    int partition;
    int inflight;
    uint32_t slot_wait;  /* its streams (a bit per resource) waiting for one of its slots */
    uint32_t actions;    /* from GET /connections/{id} */
    int check_429s;      /* 429s in a row on it: its backoff */
    uint32_t sync_wait;  /* streams forced once that POST has answered */
    uint32_t swept;      /* e->sweep.gen of the last sweep that listed it */
    uint32_t born_gen;   /* e->sweep.gen when it was added: sweeps before it could not list it */
    unsigned char known; /* its row has been applied once (version is the row's) */
    unsigned char blocked, deleted, unusable, owned;
    unsigned char actions_known;
    unsigned char check_dirty;  /* the answer is not stored yet */
    unsigned char check_queued; /* in e->checkq: stored by the next fx_state_flush */
    unsigned char
        check_restored;        /* its next check was set from the stored answer, none came since */
    unsigned char load_queued; /* owned, in e->loadq: its stored state is read by load_queued() */
    /* due, and left for the group's sweep to list: how many listing_grace()s so far
     * (fx_engine.c, pop_due) */
    unsigned char listing_wait;
    unsigned char hist_loaded; /* its historical-sync rows are in its streams */
    char id[];                 /* as long as the id (at most FX_ID_MAX - 1 bytes) */
};

typedef struct fx_active_req {
    int64_t id;
    char conn[FX_ID_MAX];
    int outstanding, failed;
    char detail[256];
} fx_active_req;

struct fx_engine {
    fx_cfg cfg;
    PGconn *db;
    rd_kafka_t *producer;
    fx_http *http;
    fx_conn *conns;
    strmap *conn_ix;    /* connection id -> index in conn_arr: lookups in O(1) */
    fx_conn **conn_arr; /* every known connection (they are never removed before the end) */
    int nconns, conn_cap;
    int owned_conns;  /* connections this replica owns now */
    int load_pending; /* an owned connection has a stream whose row did not load */
    /* Scheduling by due time (issue 24): a turn pops the streams and connection checks
     * that are due; nothing else is looked at. */
    fx_sched sched;  /* owned, loaded streams by when to look at them next */
    fx_sched checks; /* owned connections by their next GET /connections/{id} */
    /* Running streams with a page ready that no request slot (or no room among the
     * unacknowledged bytes) let go out, first come first woken: a turn wakes as many as
     * there are free slots, so that 100,000 waiting runs cost nothing while they wait. */
    struct {
        fx_stream *head, *tail;
    } slotq;
    /* A sweep: the pages of GET /connections, read one after another when many owned
     * connections are due at once (fx_engine.c, check_conns) */
    struct {
        int on;
        fx_http_req *req;
        char token[FX_SWEEP_TOKEN_MAX]; /* the next page's; "" = the first */
        int pages, last_pages;          /* this sweep's so far; the last complete one's */
        int fails;                      /* 429s (or errors) in a row: its backoff */
        int64_t retry_at, next_at;      /* monotonic ms */
        int64_t listed, applied;        /* this sweep: connections listed, owned ones applied */
        int64_t handed_ms; /* monotonic ms of the last listing another replica handed over */
        uint32_t gen;      /* sweeps started */
        uint32_t done_gen; /* the gen of the last complete one; 0 = none */
    } sweep;
    /* How a sweep hands a listed connection to the replica that owns it: onto the
     * assignment topic (fx_engine.c); the unit tests hand it to another engine. */
    void (*hand_over)(fx_engine *e, const char *id, int partition, const char *obj, size_t len);
    uint64_t rot; /* where a turn starts among the due streams (fairness) */
    uint64_t sched_ticks, streams_examined, conns_examined;
    int partitions;
    unsigned char owned[FX_MAX_PARTITIONS];
    int64_t conn_seq, hist_seq;
    int64_t next_refresh; /* monotonic ms */
    int64_t unacked_bytes;
    uint64_t rng;
    fx_rate org_rate; /* API-key-only requests (GET /connections/{id}): FETCHER_ORG_RATE */
    atomic_int db_ok;
    /* GET /integrations/wms cache (one call a minute at most) */
    /* First syncs an answer of GET /connections(/{id}) reported, stored together at the
     * end of its callback (fx_engine.c, store_hists): a page reports up to 1,100 */
    struct {
        struct fx_hist_item {
            fx_conn *c;
            int res;
        } * items;
        int n, cap;
    } histq;
    fx_integ *integs;
    int ninteg, integ_known;
    /* every integration name a connection has, once (fx_engine_intern) */
    strmap *names_ix; /* name -> index in names */
    char **names;
    int nnames, names_cap;
    int64_t integ_at, integ_next;
    fx_http_req *integ_req;
    fx_active_req areqs[FX_MAX_ACTIVE_REQS];
    int nareqs;
    int stopping;
    /* Streams whose state waits to be stored (fx_stream_save): one statement per loop
     * turn stores them all (fx_state_flush), not one round trip per change. */
    fx_stream **saveq;
    int nsave, save_cap;
    /* Connections whose GET /connections/{id} answer waits to be stored (fx_conn_save):
     * stored by the same flush, after the streams, in one statement. */
    fx_conn **checkq;
    int ncheck, check_cap;
    /* Connections just owned whose stored state is not read yet: read together, three
     * statements per FX_DB_LOAD_MAX of them (a restart owns them all at once). */
    fx_conn **loadq;
    int nload, load_cap;
    int64_t check_retry_at; /* monotonic ms: after a failed statement, not before */
    int64_t save_at;        /* monotonic ms: the next turn that stores less than a statement */
    struct {
        metric *http_requests, *http_429, *http_5xx, *http_errors, *records, *acked,
            *delivery_failed, *runs_started, *runs_ok, *runs_failed, *cursor_moves, *owned_conns,
            *unacked_bytes, *inflight, *status_msgs, *gone, *sched_ticks, *sched_streams,
            *sched_conns, *state_writes, *state_rows, *state_write_failures, *sweep_pages,
            *heap_trims, *listings_handed, *listings_applied;
    } m;
    fx_trim trim; /* free heap memory handed back after a busy period (fx_trim.h) */
    struct {      /* fx_fresh.c */
        metric *age[TS_ENTITY_COUNT], *interval[TS_ENTITY_COUNT],
            *streams[TS_ENTITY_COUNT][FX_ST_COUNT], *blocked;
        int64_t next_ms;
    } fresh;
};

/* fx_engine.c: its streams, allocated as it comes to be owned (0, or -1 out of memory) */
int fx_conn_streams_new(fx_conn *c);

/* fx_run.c */
void fx_run_schedule(fx_engine *e, fx_stream *st, int64_t now);
/* After its turn, when a running stream needs the next: the earliest time one of its
 * pages may go (a retry, its token's rate), or FX_SCHED_NEVER when it waits only on
 * events that wake it: a page's answer, an acknowledgement, a slot of its connection
 * (fx_conn_request_done) or of the process (fx_slot_wait). */
int64_t fx_run_next_wake(fx_engine *e, fx_stream *st, int64_t now);
void fx_run_abort(fx_engine *e, fx_stream *st, int detach);
/* Cancel its pages' requests in flight (the run itself goes on, or is ended by the caller). */
void fx_run_cancel_pages(fx_engine *e, fx_stream *st);
/* Before its run is given up (a rebalance, a stop): the cursor moved as far as what Kafka
 * acknowledged allows, in memory (saved by the caller). No run: nothing. */
void fx_run_keep_acked(fx_stream *st);
/* Let go of everything the stream holds outside itself (requests, deliveries still due,
 * listings), run or no run: its memory may be freed next. */
void fx_stream_release(fx_engine *e, fx_stream *st);
void fx_run_after_acks(fx_engine *e, fx_stream *st);
void fx_stream_set_state(fx_engine *e, fx_stream *st, fx_state s);
/* A dirty stream's state is queued to be stored; fx_state_flush stores it. */
void fx_stream_save(fx_engine *e, fx_stream *st);
/* c's last GET /connections/{id} answer (checked_ms, actions) is queued to be stored. */
void fx_conn_save(fx_engine *e, fx_conn *c);
/* Store every queued stream: one statement per FX_DB_STREAMS_MAX of them. A stream is
 * clean only once its statement committed; one that did not store stays dirty and looks
 * again after FX_SAVE_RETRY_MS. Then the queued connections' answers, the same way (they
 * stay queued until stored, tried again after FX_SAVE_RETRY_MS). 0 when all stored, -1
 * otherwise. */
int fx_state_flush(fx_engine *e);
/* Rows a loop turn stores at most (one statement); the rest stays queued, in order, for
 * the next turns, and a stream changed again meanwhile is stored once. A first sync of
 * 10,000 connections changed ~2,400 streams a turn: storing them all held the loop on
 * PostgreSQL for seconds (one turn every 5 s on a loaded machine), every HTTP answer
 * waiting. */
#define FX_SAVE_TURN_ROWS FX_DB_STREAMS_MAX
/* As fx_state_flush, at most FX_SAVE_TURN_ROWS of the streams (the checks only once no
 * stream is left queued): what the loop stores at the end of each turn. */
int fx_state_flush_turn(fx_engine *e);
int fx_stream_due(fx_engine *e, fx_stream *st, int64_t now_wall);
void fx_run_start(fx_engine *e, fx_stream *st, fx_run_kind kind);
void fx_batch_ack(fx_engine *e, fx_batch *b, int ok);
void fx_conn_block(fx_engine *e, fx_conn *c, const char *why);

/* fx_jobs.c: a backfill's on-demand sync job. pending: 1 while the window must wait for
 * Trackstar's job (it drives the job's requests), 0 when the window can be read. */
int fx_job_pending(fx_engine *e, fx_stream *st, int64_t now);
void fx_job_reset(fx_engine *e, fx_stream *st);

/* fx_engine.c */
/* Look at the stream at monotonic time at (0: at the next turn), or earlier if it was due
 * sooner. Every change a stream's decision depends on, made outside its own turn (an HTTP
 * answer, a delivery, a request, a refresh), calls this; a stream not owned or not loaded
 * is left alone (owning or loading it schedules it). */
void fx_stream_wake(fx_engine *e, fx_stream *st, int64_t at);
void fx_conn_wake(fx_engine *e, fx_conn *c); /* every stream of c at the next turn */
/* A request of c's ended (answered or cancelled): its slot is free, and the streams that
 * waited for it are woken. Every c->inflight++ has one of these. */
void fx_conn_request_done(fx_engine *e, fx_conn *c);
/* st waits in e->slotq for a process-wide slot (once, however often it is called);
 * fx_slot_unwait takes it out (its memory is going). */
void fx_slot_wait(fx_engine *e, fx_stream *st);
void fx_slot_unwait(fx_engine *e, fx_stream *st);
/* The connection with this id; with create, registered when unknown (NULL: out of memory
 * or, without create, unknown). */
fx_conn *fx_conn_get(fx_engine *e, const char *id, int create);
/* The last complete sweep did not list c though it was known then (deleted at Trackstar,
 * say): it is asked on its own and does not count towards the next sweep. A generation
 * compare, so that a sweep's end walks no connection. */
int fx_conn_unlisted(const fx_engine *e, const fx_conn *c);
/* When c's next GET /connections/{id} is due (monotonic ms), kept in e->checks. */
void fx_conn_check_at(fx_engine *e, fx_conn *c, int64_t at);
/* The scheduling part of a loop turn: due connection checks, then the due streams. */
void fx_engine_tick(fx_engine *e, int64_t now, int64_t wall);
void fx_req_stream_done(fx_engine *e, int64_t req_id, int failed, const char *what);
int fx_integration_reads(const fx_engine *e, const fx_conn *c,
                         int res); /* 1 yes, 0 no, -1 unknown */
void fx_db_result(fx_engine *e, int rc, const char *what, const char *err);

#endif
