/* writer - applies canonical records to PostgreSQL (idempotent, monotonic upserts and
 * deletes: writer/db.c) and publishes exactly the versions PostgreSQL applied on the
 * public wms.<entity>.v1 topics (writer/publish.c).
 *
 * `writer --migrate` instead applies the schema migrations of every table the project
 * owns (WRITER_MIGRATIONS_DIR) and exits 0: a step of its own (a Kubernetes init
 * container, a compose one-shot service), run with the database role that may change the
 * schema. The writer itself runs with a role that may only read and write rows, and at
 * start-up waits until every migration it knows has been applied.
 *
 * Loop: consume a batch from the internal canonical topics and wms.connection_events.v1;
 * drop the messages of partitions revoked meanwhile; claim the batch's partitions in
 * PostgreSQL (partitions.h); hold the purge lock shared; apply the batch in one
 * transaction that also checks and advances the partition fences; then finish the batch
 * before it (below) and produce what this one applied. The broker acknowledges it while
 * the next batch is consumed and applied: the writer's time is the transaction, not the
 * round trip. Finishing a batch: wait for the acknowledgements (failed keys produced
 * again: publish.h), send the records PostgreSQL refused to the dead-letter topic, and
 * only then store the offsets. A revocation finishes the batch in flight before its
 * partitions go; an idle input, a failed transaction or a purge waiting for the lock do
 * too, and then the lock is released.
 *
 * Crash safety (docs/architecture.md): a batch committed but not published when the
 * writer died is re-read by the partition's next owner, which finds its offsets at or
 * below the fence's applied_offset and publishes the stored rows of their keys. When the
 * database is unavailable the batch is kept and retried with capped exponential backoff:
 * no crash loop, nothing lost, nothing skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entities.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "stage.h"
#include "topics.h"
#include "util.h"
#include "writer/conn_errors.h"
#include "writer/ledger_drift.h"
#include "writer/db.h"
#include "writer/db_accuracy.h"
#include "writer/db_spec.h"
#include "writer/partitions.h"
#include "writer/publish.h"

#define WRITER_BACKOFF_MAX_MS 10000

static stage_cfg g_stage;
static char *cfg_db_url, *cfg_migrations, *cfg_group;
static long long cfg_batch_max, cfg_batch_linger_ms, cfg_errors_refresh_ms, cfg_drift_ms;
static int cfg_publish;

static const cfg_var vars[] = {
    STAGE_CFG_VARS(&g_stage, 9104),
    {"DATABASE_URL", CFG_STR, NULL, 0, 0, CFG_REQUIRED | CFG_SECRET,
     "PostgreSQL connection URI or conninfo", &cfg_db_url},
    {"WRITER_MIGRATIONS_DIR", CFG_STR, "writer/migrations", 0, 0, 0,
     "directory of the versioned NNN_*.sql migrations (applied by --migrate; waited for at "
     "start-up)",
     &cfg_migrations},
    {"WRITER_GROUP", CFG_STR, GROUP_WRITER, 0, 0, 0, "Kafka consumer group", &cfg_group},
    {"WRITER_BATCH_MAX", CFG_INT, "2000", 1, WDB_MAX_BATCH, 0,
     "records applied per database transaction", &cfg_batch_max},
    /* Short: under load the batches grow anyway (records queue while a transaction
     * runs); idle, a record waits this long for company. At 2,000 orders/s, 20 ms made
     * request -> row p50 63 ms, 5 ms 34-41 ms (docs/benchmarks.md). */
    {"WRITER_BATCH_LINGER_MS", CFG_INT, "5", 0, 10000, 0,
     "how long a batch waits for more records after its first", &cfg_batch_linger_ms},
    {"WRITER_ERRORS_REFRESH_MS", CFG_INT, "15000", 1000, 3600000, 0,
     "how often the open connection errors are counted for /metrics", &cfg_errors_refresh_ms},
    {"WRITER_LEDGER_DRIFT_INTERVAL_MS", CFG_INT, "60000", 1000, 3600000, 0,
     "how often inventory windows are held against the ledger (a ledger poll's status must "
     "have been in the database this long)",
     &cfg_drift_ms},
    {"WRITER_PUBLISH", CFG_BOOL, "true", 0, 0, 0,
     "publish the applied versions on the public wms.<entity>.v1 topics (false only for a "
     "rebuild into a fresh database: tsctl rebuild)",
     &cfg_publish},
};

static rd_kafka_t *consumer, *producer;
static wdb *db;
static wparts parts;
static volatile int db_up;
static metric *m_rows, *m_batches, *m_dlq, *m_dlq_stubs, *m_db_retries, *m_published,
    *m_republished, *m_recovered, *m_skipped, *m_fenced, *m_claims, *m_age, *m_apply_s,
    *m_publish_s, *m_batch_records;
static log_limiter dlq_retry_log = LOG_LIMITER_INIT(5, 10000);

static int ready(void *arg, char *why, size_t whylen) {
    (void)arg;
    if (!db_up) {
        snprintf(why, whylen, "database unavailable");
        return 0;
    }
    if (!consumer || !kafka_brokers_up(consumer)) {
        snprintf(why, whylen, "no Kafka broker reachable");
        return 0;
    }
    return 1;
}

/* Sleep *backoff_ms (waking every 100 ms to notice a stop, and to beat: waiting for the
 * database is the loop working as designed), then double it up to the cap. */
static void backoff_wait(int *backoff_ms) {
    for (int waited = 0; waited < *backoff_ms && !util_stop; waited += 100) {
        admin_heartbeat();
        usleep(100000);
    }
    *backoff_ms = *backoff_ms * 2 > WRITER_BACKOFF_MAX_MS ? WRITER_BACKOFF_MAX_MS : *backoff_ms * 2;
}

/* (Re)connect until it works or we are asked to stop. Returns 0 when connected. A new
 * session holds no lock, and the partitions' claims (rows in PostgreSQL) stay valid. */
static int connect_db(void) {
    int backoff = 100;
    char err[512];
    while (!util_stop) {
        if (db && wdb_ok(db)) return 0;
        wdb_close(db);
        db = wdb_open(cfg_db_url, err, sizeof err);
        if (db) {
            log_info("database connected", NULL);
            return 0;
        }
        db_up = 0;
        log_warn("database unavailable, retrying", "error", err, NULL);
        backoff_wait(&backoff);
    }
    return -1;
}

/* Send the rejected records to the dead-letter topic and wait for the broker. A record
 * Kafka can never take (too large for the dead-letter topic) is replaced by its stub
 * (kafka_dlq_stub_headers: the reason and where the original is). A failure that may pass
 * (broker away) is retried. Returns 0 when all are delivered, -1 when asked to stop
 * first (the offsets are then not stored: the batch comes again after a restart). */
static int dead_letter(rd_kafka_message_t **msgs, wdb_item *items, int n) {
    char dlq[256];
    STAGE_TOPIC(&g_stage, TOPIC_DLQ, dlq);
    kafka_delivery *drs = calloc((size_t)n, sizeof *drs);
    char *stub = calloc((size_t)n, 1);
    if (!drs || !stub) {
        free(drs);
        free(stub);
        return -1;
    }
    int sent = 0, rc = 0;
    for (int attempt = 0;; attempt++) {
        for (int i = 0; i < n; i++) {
            if (!items[i].rejected || drs[i].state == KAFKA_DELIVERED) continue;
            if (attempt > 0 && drs[i].state == KAFKA_PENDING) continue; /* still in flight */
            if (drs[i].state == KAFKA_FAILED && kafka_err_permanent(drs[i].err) && !stub[i]) {
                stub[i] = 1;
                metric_inc(m_dlq_stubs);
                log_warn("record too large for the dead-letter topic: sending a stub", "topic",
                         items[i].topic, "error", rd_kafka_err2str(drs[i].err), NULL);
            }
            drs[i].state = KAFKA_PENDING;
            rd_kafka_resp_err_t err =
                kafka_dlq_send(producer, dlq, msgs[i], "writer", items[i].reason, stub[i], &drs[i]);
            if (err) {
                drs[i].state = KAFKA_FAILED;
                drs[i].err = err;
            } else {
                sent++;
            }
        }
        admin_heartbeat();
        rd_kafka_flush(producer, 1000);
        int failed = 0, pending = 0;
        for (int i = 0; i < n; i++) {
            if (!items[i].rejected) continue;
            failed += drs[i].state == KAFKA_FAILED;
            pending += drs[i].state == KAFKA_PENDING;
        }
        if (!failed && !pending) break;
        if (util_stop) {
            rc = -1;
            break;
        }
        if (!failed) continue;
        log_limited(&dlq_retry_log, LOG_WARN, "dead-letter delivery failed, retrying", NULL);
        int wait = 1000;
        backoff_wait(&wait);
    }
    metric_add(m_dlq, sent);
    free(drs);
    free(stub);
    return rc;
}

/* Keep only the messages this writer may apply (see partitions.h); the others are
 * destroyed, unprocessed: their partition's owner reads them again. Returns the count. */
static int keep_usable(rd_kafka_message_t **msgs, int n) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (wparts_usable(&parts, rd_kafka_topic_name(msgs[i]->rkt), (int)msgs[i]->partition))
            msgs[k++] = msgs[i];
        else
            rd_kafka_message_destroy(msgs[i]);
    }
    return k;
}

/* The batch's partitions, claimed (a new owner bumps the epoch, which fences off the
 * previous one), as fences with the batch's highest offset each; items at offsets a
 * previous owner may have committed but not published get `recover`. Returns the count
 * of fences, or -1 (database trouble: errstr). */
static int fences_for(rd_kafka_message_t **msgs, int n, wdb_item *items, wdb_fence *f, char *err,
                      size_t errlen) {
    int nf = 0;
    for (int i = 0; i < n; i++) {
        const char *t = rd_kafka_topic_name(msgs[i]->rkt);
        int pn = (int)msgs[i]->partition;
        wpart *p = wparts_find(&parts, t, pn);
        if (!p->claimed) {
            long long applied;
            if (wdb_claim(db, cfg_group, t, pn, &p->epoch, &applied, err, errlen)) return -1;
            p->claimed = 1;
            p->recover_through = applied;
            metric_inc(m_claims);
            char e[24], a[24], pp[16];
            snprintf(e, sizeof e, "%lld", p->epoch);
            snprintf(a, sizeof a, "%lld", applied);
            snprintf(pp, sizeof pp, "%d", pn);
            log_info("partition claimed", "topic", t, "partition", pp, "epoch", e,
                     "recover_through", a, NULL);
        }
        items[i].recover = msgs[i]->offset <= p->recover_through;
        int j = 0;
        while (j < nf && !(f[j].partition == pn && strcmp(f[j].topic, t) == 0))
            j++;
        if (j == nf)
            f[nf++] = (wdb_fence){.topic = t, .partition = pn, .epoch = p->epoch, .offset = -1};
        if (msgs[i]->offset > f[j].offset) f[j].offset = msgs[i]->offset;
    }
    return nf;
}

/* Drop the messages of fences another writer holds now; returns the new count. */
static int drop_lost(rd_kafka_message_t **msgs, int n, const wdb_fence *f, int nf) {
    for (int j = 0; j < nf; j++) {
        if (!f[j].lost) continue;
        char pp[16];
        snprintf(pp, sizeof pp, "%d", f[j].partition);
        log_warn("partition claimed by another writer: its batch is left to it", "topic",
                 f[j].topic, "partition", pp, NULL);
        metric_inc(m_fenced);
        wparts_lost(&parts, f[j].topic, f[j].partition);
    }
    return keep_usable(msgs, n);
}

static void unlock_purge(void) {
    char err[256];
    if (db && wdb_ok(db) && wdb_purge_lock(db, 0, err, sizeof err) != 0)
        log_warn("purge lock not released", "error", err, NULL);
}

/* writer_record_age_seconds: from the raw message (webhook-gw or fetcher handing it to
 * Kafka) to the commit that applied it, for every record of a committed batch that
 * carries raw_ts (common/topics.h). Refused and skipped records are not counted. */
static void observe_age(rd_kafka_message_t *const *msgs, const wdb_item *items, int n) {
    int64_t now = util_now_ms();
    for (int i = 0; i < n; i++) {
        char buf[24], *end;
        if (items[i].rejected || items[i].skipped ||
            !*kafka_header_str(msgs[i], HDR_RAW_TS, buf, sizeof buf))
            continue;
        long long raw_ts = strtoll(buf, &end, 10);
        if (*end || raw_ts <= 0 || raw_ts > now) continue;
        metric_observe(m_age, (double)(now - raw_ts) / 1000.0);
    }
}

/* The accuracy figures of a committed batch (writer/db_accuracy.h), by resource: how old
 * each applied version was (commit time minus Trackstar's updated_date) by source, and
 * the corrections with how stale the row was. Handles are made once per label set. */
static const double freshness_le[] = {0.1, 0.5, 1,    2.5,  5,     10,    30,    60,
                                      300, 900, 3600, 7200, 21600, 86400, 604800};
#define FRESHNESS_NB ((int)(sizeof freshness_le / sizeof freshness_le[0]))
static void observe_accuracy(void) {
    /* Entity specs come first, at their ts_entity_id (db_spec.h). */
    static metric *fresh[TS_ENTITY_COUNT][2], *stale[TS_ENTITY_COUNT], *corr[TS_ENTITY_COUNT];
    const wdb_acc_row *rows;
    int n = wdb_accuracy(db, &rows);
    for (int i = 0; i < n; i++) {
        const wdb_acc_row *r = &rows[i];
        if (r->spec >= TS_ENTITY_COUNT) continue;
        const char *res = wdb_spec_name(wdb_specs[r->spec]);
        if (!fresh[r->spec][r->poll]) {
            const char *const l[] = {"resource", res, "source", r->poll ? "poll" : "webhook", NULL};
            fresh[r->spec][r->poll] = metric_histogram_labels(
                "writer_freshness_seconds",
                "versions applied: commit time minus Trackstar's updated_date, by source", l,
                freshness_le, FRESHNESS_NB);
        }
        metric_observe(fresh[r->spec][r->poll], r->lag_s);
        if (!r->corrected) continue;
        if (!corr[r->spec]) {
            const char *const l[] = {"resource", res, NULL};
            corr[r->spec] = metric_counter(
                "writer_corrections_total",
                "versions a poll brought that were newer than the row (a webhook missed or late)",
                "resource", res);
            stale[r->spec] = metric_histogram_labels(
                "writer_correction_staleness_seconds",
                "how stale a corrected row was: commit time minus when Trackstar had the newer "
                "version",
                l, freshness_le, FRESHNESS_NB);
        }
        metric_inc(corr[r->spec]);
        metric_observe(stale[r->spec], r->stale_s);
    }
}

/* A batch of the canonical topics, from its consumption until its offsets are stored.
 * There are two: one is applied while the other's publications are acknowledged. */
typedef struct wbatch {
    rd_kafka_message_t **msgs;
    wdb_item *items;
    int n;
    wdb_publist list; /* what its transaction applied (wdb_take_published) */
    publication pub;
    double publish_s; /* the writer's own time on the publication (not the overlap) */
} wbatch;

static wbatch *in_flight; /* committed and produced; acknowledgements not yet awaited */

/* Wait for the in-flight batch's publications, dead-letter its refused records and
 * store its offsets. When asked to stop first, nothing is stored: the partition's next
 * owner republishes (the fence recorded the offsets). Its messages are destroyed. */
static void finish_in_flight(void) {
    wbatch *b = in_flight;
    if (!b) return;
    in_flight = NULL;
    int64_t t0 = util_mono_us();
    long long again = 0;
    int ok = !cfg_publish || publication_finish(&b->pub, producer, &again) == 0;
    int recovered = 0, rejected = 0, skipped = 0;
    b->publish_s += (double)(util_mono_us() - t0) / 1e6;
    if (ok) metric_observe(m_publish_s, b->publish_s);
    for (int i = 0; i < b->list.n; i++)
        recovered += b->list.pubs[i].item < 0 && b->list.pubs[i].value;
    for (int i = 0; i < b->n; i++) {
        rejected += b->items[i].rejected;
        skipped += b->items[i].skipped;
    }
    if (ok && rejected) {
        for (int i = 0; i < b->n; i++)
            if (b->items[i].rejected)
                log_warn("record sent to dead-letter topic", "topic", b->items[i].topic, "reason",
                         b->items[i].reason, NULL);
        ok = dead_letter(b->msgs, b->items, b->n) == 0;
    }
    if (ok) {
        if (cfg_publish) {
            metric_add(m_published, b->list.n);
            metric_add(m_republished, again);
            metric_add(m_recovered, recovered);
        }
        metric_add(m_skipped, skipped);
        metric_add(m_rows, b->n - rejected - skipped);
        metric_inc(m_batches);
        kafka_store_offsets(consumer, b->msgs, b->n);
    }
    for (int i = 0; i < b->n; i++)
        rd_kafka_message_destroy(b->msgs[i]);
    b->n = 0;
}

/* Hold the purge lock for the next transaction. A writer keeps it from batch to batch
 * while one is in flight, unless a purge waits for it: then the in-flight batch is
 * finished first and the lock taken again behind the purge. 0 or -1 (errstr). */
static int hold_purge_lock(char *err, size_t errlen) {
    if (wdb_purge_locked(db)) {
        int waiting;
        if (wdb_purge_waiting(db, &waiting, err, errlen) != 0) return -1;
        if (!waiting) return 0;
        finish_in_flight();
        if (wdb_purge_lock(db, 0, err, errlen) != 0) return -1;
    }
    return wdb_purge_lock(db, 1, err, errlen);
}

/* Apply one batch and produce what it applied; the in-flight batch (if any) is finished
 * on the way, before b's publications start (publish.h). b->msgs may shrink (see
 * keep_usable). Afterwards b is in flight, or empty (its messages destroyed). */
static void process_batch(wbatch *b, wdb_fence *fences) {
    size_t plen = strlen(g_stage.topic_prefix);
    char err[512];
    int backoff = 100, n = b->n = keep_usable(b->msgs, b->n);
    int64_t t0 = util_mono_us();
    wdb_item *items = b->items;
    rd_kafka_message_t **msgs = b->msgs;
    for (;;) {
        if (n == 0) goto not_applied;
        for (int i = 0; i < n; i++) {
            const char *t = rd_kafka_topic_name(msgs[i]->rkt);
            if (strncmp(t, g_stage.topic_prefix, plen) == 0) t += plen;
            const char *pub = topic_public_of(t);
            items[i] = (wdb_item){.topic = pub ? pub : t,
                                  .value = msgs[i]->payload ? msgs[i]->payload : "",
                                  .value_len = msgs[i]->len};
        }
        if (connect_db() != 0) goto not_applied; /* stopping: offsets stay unstored */
        db_up = 1;
        int nf = fences_for(msgs, n, items, fences, err, sizeof err);
        wdb_result rc = WDB_RETRY;
        if (nf >= 0 && hold_purge_lock(err, sizeof err) == 0)
            rc = wdb_apply_fenced(db, cfg_group, fences, nf, items, n, err, sizeof err);
        if (rc == WDB_OK) break;
        finish_in_flight();
        unlock_purge();
        if (rc == WDB_FENCED) {
            n = b->n = drop_lost(msgs, n, fences, nf);
            continue;
        }
        db_up = wdb_ok(db);
        metric_inc(m_db_retries);
        log_warn("batch not applied, retrying", "error", err, NULL);
        backoff_wait(&backoff);
        if (util_stop) goto not_applied;
    }
    int64_t t1 = util_mono_us();
    metric_observe(m_apply_s, (double)(t1 - t0) / 1e6);
    metric_observe(m_batch_records, n);
    wdb_take_published(db, &b->list);
    observe_age(msgs, items, n);
    observe_accuracy();
    finish_in_flight();
    if (util_stop) goto not_applied; /* its publication might not follow a failed one */
    int64_t t2 = util_mono_us();
    if (cfg_publish && publication_start(&b->pub, producer, g_stage.topic_prefix, b->list.pubs,
                                         b->list.n, msgs, b->list.applied_at) != 0)
        goto not_applied; /* stopping */
    b->publish_s = (double)(util_mono_us() - t2) / 1e6;
    in_flight = b;
    return;
not_applied:
    finish_in_flight();
    unlock_purge();
    for (int i = 0; i < b->n; i++)
        rd_kafka_message_destroy(b->msgs[i]);
    b->n = 0;
}

/* The consumer's rebalance hook: a batch in flight is finished (its offsets stored)
 * before its partitions can be revoked. */
static void on_rebalance(rd_kafka_t *rk, int assigned, const rd_kafka_topic_partition_list_t *ps,
                         void *arg) {
    if (!assigned) finish_in_flight();
    wparts_hook(rk, assigned, ps, arg);
}

/* --migrate: apply the migrations and exit (0, or 1 when they failed). */
static int migrate_only(void) {
    char err[512];
    cfg_log(vars, sizeof vars / sizeof vars[0]);
    if (connect_db() != 0) return 1;
    if (wdb_migrate(db, cfg_migrations, err, sizeof err) != 0) {
        log_error("migrations failed", "error", err, NULL);
        wdb_close(db);
        return 1;
    }
    log_info("migrations applied", "dir", cfg_migrations, NULL);
    wdb_close(db);
    return 0;
}

/* Wait until the schema has every migration of WRITER_MIGRATIONS_DIR: a writer never
 * writes into an older schema. Not ready meanwhile. 0, or -1 when stopping or when the
 * schema cannot be read (e.g. an applied migration changed). */
static int wait_for_schema(void) {
    char err[512];
    int64_t next_log = 0;
    while (!util_stop) {
        if (connect_db() != 0) return -1;
        int pending = 0;
        if (wdb_migrate_pending(db, cfg_migrations, &pending, err, sizeof err) != 0) {
            if (wdb_ok(db)) {
                log_error("cannot check the schema", "error", err, NULL);
                return -1;
            }
            continue; /* the connection broke: reconnect */
        }
        if (pending == 0) return 0;
        if (util_mono_ms() >= next_log) {
            char n[16];
            snprintf(n, sizeof n, "%d", pending);
            log_warn("waiting for migrations (writer --migrate)", "pending", n, NULL);
            next_log = util_mono_ms() + 30000;
        }
        for (int i = 0; i < 20 && !util_stop; i++)
            usleep(100000);
    }
    return -1;
}

int main(int argc, char **argv) {
    /* --migrate is the one argument besides --help; the configuration is the same. */
    int migrate = 0, nargs = 0;
    char *args[argc + 1];
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--migrate") == 0)
            migrate = 1;
        else
            args[nargs++] = argv[i];
    }
    args[nargs] = NULL;
    if (cfg_main(nargs, args,
                 "applies canonical records to PostgreSQL and publishes what it applied; with "
                 "--migrate, applies the schema migrations and exits",
                 vars, sizeof vars / sizeof vars[0]) != 0)
        return 2;
    if (migrate) {
        log_level lvl;
        if (log_level_parse(g_stage.log_level, &lvl) == 0) log_init("writer-migrate", lvl);
        util_install_signals();
        return migrate_only();
    }
    char err[512];
    /* Every input topic, with the prefix: the internal canonical topics and the
     * connection events. */
    static const char *const base[] = {WRITER_INPUT_TOPICS};
    enum { NTOPICS = sizeof base / sizeof base[0] };
    char names[NTOPICS][256];
    const char *topics[NTOPICS];
    for (int i = 0; i < NTOPICS; i++)
        topics[i] = STAGE_TOPIC(&g_stage, base[i], names[i]);

    producer = kafka_producer_new(g_stage.kafka_bootstrap, "writer", NULL, g_stage.kafka_props,
                                  kafka_delivery_cb, NULL, err, sizeof err);
    if (!producer) {
        fprintf(stderr, "writer: %s\n", err);
        return 2;
    }
    if (stage_start("writer", &g_stage, ready, NULL) != 0) return 1;
    cfg_log(vars, sizeof vars / sizeof vars[0]);
    m_rows = metric_counter("writer_records_applied_total",
                            "canonical records applied (including no-op replays)", NULL, NULL);
    m_batches = metric_counter("writer_batches_total", "transactions committed", NULL, NULL);
    static const double age_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                    1,     2.5,  5,     10,   30,  60,   300};
    m_age = metric_histogram("writer_record_age_seconds",
                             "from the raw message to the commit that applied its record", age_le,
                             (int)(sizeof age_le / sizeof age_le[0]));
    /* Where a batch's time goes: the transaction (with its retries) and the publication
     * of what it applied, as far as the writer waits for it (the acknowledgements mostly
     * arrive while the next batch is applied); a batch's records show how far behind it
     * is. apply + publish over wall time is how busy the writer is. */
    static const double phase_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25,  0.5,    1,     2.5,  5,     10};
    const int phase_nb = (int)(sizeof phase_le / sizeof phase_le[0]);
    const char *const apply_l[] = {"phase", "apply", NULL};
    const char *const publish_l[] = {"phase", "publish", NULL};
    static const char phase_help[] = "a batch's time: its transaction (apply), and the "
                                     "writer's time on the publication of what it applied "
                                     "(publish), beyond the next batch's transaction";
    m_apply_s = metric_histogram_labels("writer_batch_phase_seconds", phase_help, apply_l, phase_le,
                                        phase_nb);
    m_publish_s = metric_histogram_labels("writer_batch_phase_seconds", phase_help, publish_l,
                                          phase_le, phase_nb);
    static const double records_le[] = {1, 10, 50, 100, 250, 500, 1000, 2000, 5000};
    m_batch_records = metric_histogram("writer_batch_records", "records per batch", records_le,
                                       (int)(sizeof records_le / sizeof records_le[0]));
    m_dlq = metric_counter("writer_dead_letters_total", "records refused for their content", NULL,
                           NULL);
    m_dlq_stubs = metric_counter("writer_dead_letter_stubs_total",
                                 "dead letters sent as a stub: the record was too large for Kafka",
                                 NULL, NULL);
    m_db_retries = metric_counter("writer_db_retries_total",
                                  "batches retried after a database failure", NULL, NULL);
    conn_errors_init();
    ledger_drift_init();
    m_published = metric_counter("writer_published_total",
                                 "messages published on the public topics (applied versions, "
                                 "tombstones, recovered rows)",
                                 NULL, NULL);
    m_republished =
        metric_counter("writer_republished_total",
                       "final states produced again after a failed delivery", NULL, NULL);
    m_recovered = metric_counter("writer_recovered_rows_total",
                                 "stored rows published for records a previous owner of their "
                                 "partition may have committed but not published",
                                 NULL, NULL);
    m_skipped = metric_counter("writer_purged_skipped_total",
                               "records of purged connections skipped", NULL, NULL);
    m_fenced =
        metric_counter("writer_fenced_total",
                       "batches that found their partition claimed by another writer", NULL, NULL);
    m_claims =
        metric_counter("writer_partition_claims_total", "input partitions claimed", NULL, NULL);

    if (wait_for_schema() != 0) return util_stop ? 0 : 1;
    db_up = 1;
    log_info("schema up to date", "dir", cfg_migrations, NULL);

    /* What it produces to: every public topic, and the dead-letter topic. */
#define PUBLIC_TOPIC(name, ...) TS_TOPIC(name),
    static const char *const out[] = {TOPIC_DLQ, TS_ENTITIES(PUBLIC_TOPIC)};
#undef PUBLIC_TOPIC
    enum { NOUT = sizeof out / sizeof out[0] };
    rd_kafka_topic_t **out_topics =
        kafka_topics_warm(producer, g_stage.topic_prefix, out, NOUT, err, sizeof err);
    if (!out_topics) {
        log_error("cannot prepare the producer", "error", err, NULL);
        return 1;
    }

    consumer = kafka_consumer_new(g_stage.kafka_bootstrap, cfg_group, "writer", g_stage.kafka_props,
                                  g_stage.kafka_consumer_extra, topics, NTOPICS, err, sizeof err);
    if (!consumer) {
        log_error("cannot create consumer", "error", err, NULL);
        return 1;
    }
    kafka_consumer_set_rebalance_hook(consumer, on_rebalance, &parts);
    int max = (int)cfg_batch_max;
    wbatch batches[2] = {{0}};
    wdb_fence *fences = calloc((size_t)max, sizeof *fences);
    for (int k = 0; k < 2; k++) {
        batches[k].msgs = calloc((size_t)max, sizeof *batches[k].msgs);
        batches[k].items = calloc((size_t)max, sizeof *batches[k].items);
    }
    if (!fences || !batches[0].msgs || !batches[0].items || !batches[1].msgs || !batches[1].items) {
        log_error("out of memory for the batch buffers", NULL);
        return 1;
    }
    log_info("writer started", "group", cfg_group, NULL);
    int64_t errors_at = 0, drift_at = util_mono_ms() + cfg_drift_ms;
    while (!util_stop) {
        admin_heartbeat();
        if (db_up && util_mono_ms() >= errors_at) {
            errors_at = util_mono_ms() + cfg_errors_refresh_ms;
            if (conn_errors_refresh(db, err, sizeof err) != 0)
                log_warn("cannot count connection errors", "error", err, NULL);
        }
        if (db_up && util_mono_ms() >= drift_at) {
            drift_at = util_mono_ms() + cfg_drift_ms;
            if (ledger_drift_evaluate(db, cfg_drift_ms, err, sizeof err) != 0)
                log_warn("cannot evaluate ledger drift", "error", err, NULL);
        }
        /* The batch not in flight takes the next messages. While one is in flight, a
         * quiet input does not keep its acknowledgements waiting for long. */
        wbatch *b = in_flight == &batches[0] ? &batches[1] : &batches[0];
        b->n = kafka_consume_batch(consumer, b->msgs, max, in_flight ? 5 : 100,
                                   (int)cfg_batch_linger_ms);
        if (b->n > 0) {
            process_batch(b, fences);
        } else {
            finish_in_flight();
            unlock_purge(); /* an idle writer keeps no purge waiting */
        }
        rd_kafka_poll(producer, 0);
    }
    log_info("writer stopping", NULL);
    finish_in_flight();
    unlock_purge();
    kafka_consumer_destroy(consumer);
    kafka_flush(producer, 10000);
    kafka_topics_release(out_topics, NOUT);
    rd_kafka_destroy(producer);
    wdb_close(db);
    wparts_free(&parts);
    admin_stop();
    for (int k = 0; k < 2; k++) {
        free(batches[k].msgs);
        free(batches[k].items);
        wdb_publist_free(&batches[k].list);
        publication_free(&batches[k].pub);
    }
    free(fences);
    return 0;
}
