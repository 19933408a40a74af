/* cli_cmd_rebuild.c - `tsctl rebuild`: a fresh database rebuilt from the raw topic, through
 * the normal normalizer and writer in consumer groups of their own.
 *
 * The live raw topic is the replay log. A rebuild runs a normalizer that reads it from the
 * beginning (NORMALIZER_RAW_TOPIC) and writes into topics of the rebuild's own prefix
 * ("rebuild-<id>."), and a writer in that prefix that applies them to the target database
 * without publishing (WRITER_PUBLISH=false: the public topics already hold the live
 * versions). The purge markers of the current database are copied first, so purged
 * connections stay purged. Progress is the two groups' committed offsets against the raw
 * topic's end when the rebuild began and the rebuild topics' ends; it is done when both
 * have caught up. The live pipeline is not touched.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_cmds.h"
#include "cli_db.h"
#include "cli_lag.h"
#include "cli_out.h"
#include "entities.h"
#include "kafka.h"
#include "purge.h"
#include "topics.h"
#include "util.h"

#define RB_ADMIN_TIMEOUT_MS 4000 /* topic creation: the dev broker never answers it */
#define RB_POLL_S 2              /* progress lines */
#define RB_STABLE_CHECKS 2       /* caught up this many checks in a row: done */

/* The rebuild's own topics: what the normalizer produces (and the writer reads). */
#define INTERNAL_TOPIC(name, ...) TS_TOPIC_INTERNAL(name),
static const char *const rb_topics[] = {TOPIC_CONNECTION_EVENTS, TOPIC_DLQ,
                                        TS_ENTITIES(INTERNAL_TOPIC)};
#undef INTERNAL_TOPIC
enum { RB_NTOPICS = sizeof rb_topics / sizeof rb_topics[0] };

typedef struct rb {
    cli_ctx *ctx;
    char id[32], prefix[64], ngroup[96], wgroup[96];
    char raw[256];
    rd_kafka_t *admin;       /* a producer: metadata, watermarks, topic creation */
    rd_kafka_t *nref, *wref; /* consumers in the two groups, never subscribed: committed offsets */
    int nraw;
    int64_t raw_end[CLI_LAG_MAX_PARTITIONS];
    pid_t writer, normalizer;
} rb;

static int fail(cli_ctx *ctx, const char *msg, int code) {
    cli_errorf(ctx, "%s", msg);
    return code;
}

/* Create the rebuild's topics with the live topics' partition counts. Kafka's admin API
 * where it works; a broker that auto-creates topics (the dev broker) is asked for their
 * metadata instead. Then every one must exist. */
static int ensure_topics(rb *r, char *err, size_t errlen) {
    rd_kafka_NewTopic_t *nt[RB_NTOPICS];
    int n = 0;
    for (int i = 0; i < RB_NTOPICS; i++) {
        char live[256], mine[256];
        topic_name(r->ctx->topic_prefix, rb_topics[i], live, sizeof live);
        topic_name(r->prefix, rb_topics[i], mine, sizeof mine);
        int parts = cli_lag_partitions(r->admin, live, err, errlen);
        if (parts < 0) goto fail;
        char e2[256];
        if (!(nt[n] = rd_kafka_NewTopic_new(mine, parts, -1, e2, sizeof e2))) {
            snprintf(err, errlen, "%s: %s", mine, e2);
            goto fail;
        }
        n++;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(r->admin);
    rd_kafka_AdminOptions_t *o =
        rd_kafka_AdminOptions_new(r->admin, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(o, RB_ADMIN_TIMEOUT_MS, NULL, 0);
    rd_kafka_CreateTopics(r->admin, nt, (size_t)n, o, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, RB_ADMIN_TIMEOUT_MS + 1000);
    /* A per-topic "already exists" is fine; a timeout or refusal falls back to metadata. */
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy_array(nt, (size_t)n);
    for (int i = 0; i < RB_NTOPICS; i++) {
        char mine[256];
        topic_name(r->prefix, rb_topics[i], mine, sizeof mine);
        int ok = 0;
        for (int attempt = 0; attempt < 10 && !ok; attempt++) {
            ok = cli_lag_partitions(r->admin, mine, err, errlen) > 0;
            if (!ok) usleep(500000);
        }
        if (!ok) {
            snprintf(err, errlen,
                     "topic %s could not be created: create the rebuild's topics "
                     "(docs/operations.md) and run again",
                     mine);
            return -1;
        }
    }
    return 0;
fail:
    rd_kafka_NewTopic_destroy_array(nt, (size_t)n);
    return -1;
}

/* Start bin_dir/name [arg] with the caller's environment plus vars (NULL-terminated "K=V"),
 * stdout and stderr to log. Returns the pid or -1. */
static pid_t spawn(const char *bin_dir, const char *name, const char *arg, const char *log,
                   const char *const *vars, char *err, size_t errlen) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", bin_dir, name);
    if (access(path, X_OK) != 0) {
        snprintf(err, errlen, "%.900s: not an executable (--bin-dir)", path);
        return -1;
    }
    FILE *f = fopen(log, "a");
    if (!f) {
        snprintf(err, errlen, "%s: %s", log, strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        fclose(f);
        return -1;
    }
    if (pid == 0) {
        for (const char *const *v = vars; *v; v++)
            putenv((char *)*v);
        dup2(fileno(f), STDOUT_FILENO);
        dup2(fileno(f), STDERR_FILENO);
        execl(path, name, arg, (char *)NULL); /* arg NULL: no argument */
        _exit(127);
    }
    fclose(f);
    return pid;
}

static void stop_child(pid_t *pid) {
    if (*pid <= 0) return;
    kill(*pid, SIGTERM);
    for (int i = 0; i < 300; i++) { /* 30 s to flush and commit */
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        usleep(100000);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

static int alive(pid_t pid) {
    return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

/* The target must be a database without tables: a rebuild never writes into data. */
static int target_empty(const char *url, char *err, size_t errlen) {
    PGconn *t = PQconnectdb(url);
    int rc = -1;
    if (PQstatus(t) != CONNECTION_OK) {
        snprintf(err, errlen, "target database: %s", PQerrorMessage(t));
    } else {
        PGresult *r = PQexec(t, "SELECT count(*) FROM information_schema.tables "
                                "WHERE table_schema = current_schema()");
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            snprintf(err, errlen, "target database: %s", PQerrorMessage(t));
        else if (strcmp(PQgetvalue(r, 0, 0), "0") != 0)
            snprintf(err, errlen, "the target database already has tables: rebuild into a new one");
        else
            rc = 0;
        PQclear(r);
    }
    PQfinish(t);
    return rc;
}

typedef struct marker_copy {
    PGconn *t;
    int n;
    char err[256];
} marker_copy;

static int copy_marker(void *arg, const char *hash, const char *purged_at) {
    marker_copy *c = arg;
    const char *v[] = {hash, purged_at};
    PGresult *ins =
        PQexecParams(c->t,
                     "INSERT INTO purged_connections (connection_hash, purged_at) "
                     "VALUES ($1, coalesce($2::timestamptz, now())) ON CONFLICT DO NOTHING",
                     2, NULL, v, NULL, NULL, 0);
    int ok = PQresultStatus(ins) == PGRES_COMMAND_OK;
    if (!ok) snprintf(c->err, sizeof c->err, "%s", PQerrorMessage(c->t));
    PQclear(ins);
    c->n += ok;
    return ok ? 0 : -1;
}

/* Copy the purge markers (from trackstar.purged-connections.v1: the current database may be
 * gone) into the target once the writer has made the table. */
static int copy_markers(rb *r, const char *url, int *copied, char *err, size_t errlen) {
    marker_copy c = {.t = PQconnectdb(url)};
    int rc = -1, ready = 0;
    for (int i = 0; i < 600 && PQstatus(c.t) == CONNECTION_OK && !ready; i++) {
        PGresult *q = PQexec(c.t, "SELECT to_regclass('purged_connections') IS NOT NULL");
        ready = PQresultStatus(q) == PGRES_TUPLES_OK && strcmp(PQgetvalue(q, 0, 0), "t") == 0;
        PQclear(q);
        if (!ready) {
            if (!alive(r->writer)) break;
            usleep(100000);
        }
    }
    if (!ready) {
        snprintf(err, errlen,
                 "the rebuild's writer did not migrate the target database (see its log)");
    } else if (purge_markers(r->ctx->kafka_bootstrap, r->ctx->kafka_props, r->ctx->topic_prefix,
                             copy_marker, &c, err, errlen) == 0) {
        *copied = c.n;
        rc = 0;
    } else if (c.err[0]) {
        snprintf(err, errlen, "copying purge markers: %s", c.err);
    }
    PQfinish(c.t);
    return rc;
}

int cli_run_rebuild(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    (void)cmd;
    const char *target = CLI_ARGV("database-url");
    const char *bin_dir = CLI_ARGV("bin-dir"), *log_dir = CLI_ARGV("log-dir");
    const char *migrations = CLI_ARGV("migrations");
    long ports = CLI_ARGV("admin-ports") ? strtol(CLI_ARGV("admin-ports"), NULL, 10) : 9193;
    long timeout_s = CLI_ARGV("timeout") ? strtol(CLI_ARGV("timeout"), NULL, 10) : 3600;
    char err[1024], self[PATH_MAX];
    rb r = {.ctx = ctx};
    int rc = CLI_EXIT_FAIL;
    if (!target) return fail(ctx, "--database-url (the new database) is required", CLI_EXIT_USAGE);
    if (ports < 1 || ports > 65534 || timeout_s < 1)
        return fail(ctx, "--admin-ports or --timeout out of range", CLI_EXIT_USAGE);
    if (!bin_dir) { /* tsctl's own directory: the binaries are installed together */
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return fail(ctx, "cannot find tsctl's directory: give --bin-dir", CLI_EXIT_USAGE);
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) *slash = '\0';
        bin_dir = self;
    }
    if (!migrations) migrations = getenv("WRITER_MIGRATIONS_DIR");
    if (!migrations || !*migrations) migrations = "writer/migrations";
    if (!log_dir) log_dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if (target_empty(target, err, sizeof err)) return fail(ctx, err, CLI_EXIT_FAIL);

    snprintf(r.id, sizeof r.id, "%lld", (long long)(util_now_ms() / 1000));
    snprintf(r.prefix, sizeof r.prefix, "%srebuild-%s.", ctx->topic_prefix, r.id);
    snprintf(r.ngroup, sizeof r.ngroup, "trackstar-rebuild-%s-normalizer", r.id);
    snprintf(r.wgroup, sizeof r.wgroup, "trackstar-rebuild-%s-writer", r.id);
    topic_name(ctx->topic_prefix, TOPIC_RAW, r.raw, sizeof r.raw);
    if (!(r.admin = kafka_producer_new(ctx->kafka_bootstrap, "tsctl-rebuild", NULL,
                                       ctx->kafka_props, NULL, NULL, err, sizeof err)) ||
        !(r.nref = cli_lag_reference(ctx, r.ngroup, err, sizeof err)) ||
        !(r.wref = cli_lag_reference(ctx, r.wgroup, err, sizeof err))) {
        cli_errorf(ctx, "%s", err);
        goto done;
    }
    /* The replay ends where the raw topic ends now. */
    if ((r.nraw = cli_lag_partitions(r.admin, r.raw, err, sizeof err)) < 0) goto fail_err;
    long long raw_total = 0;
    for (int p = 0; p < r.nraw; p++) {
        int64_t lo;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(r.admin, r.raw, p, &lo,
                                                                 &r.raw_end[p], CLI_LAG_TIMEOUT_MS);
        if (e) {
            snprintf(err, sizeof err, "%s: %s", r.raw, rd_kafka_err2str(e));
            goto fail_err;
        }
        raw_total += r.raw_end[p] - lo;
        if (lo > 0)
            fprintf(stderr,
                    "tsctl: warning: %s[%d] starts at offset %lld: older messages are gone "
                    "(retention), the rebuild lacks them\n",
                    r.raw, p, (long long)lo);
    }
    fprintf(stderr, "tsctl: rebuild %s: %lld raw messages, topics %s*, groups %s / %s\n", r.id,
            raw_total, r.prefix, r.ngroup, r.wgroup);
    if (ensure_topics(&r, err, sizeof err)) goto fail_err;

    char logw[PATH_MAX], logn[PATH_MAX], v[12][PATH_MAX + 64];
    snprintf(logw, sizeof logw, "%s/rebuild-%s-writer.log", log_dir, r.id);
    snprintf(logn, sizeof logn, "%s/rebuild-%s-normalizer.log", log_dir, r.id);
    snprintf(v[0], sizeof v[0], "KAFKA_TOPIC_PREFIX=%s", r.prefix);
    snprintf(v[1], sizeof v[1], "DATABASE_URL=%s", target);
    snprintf(v[2], sizeof v[2], "WRITER_GROUP=%s", r.wgroup);
    snprintf(v[3], sizeof v[3], "WRITER_PUBLISH=false");
    snprintf(v[4], sizeof v[4], "WRITER_MIGRATIONS_DIR=%s", migrations);
    snprintf(v[5], sizeof v[5], "ADMIN_PORT=%ld", ports + 1);
    const char *wv[] = {v[0], v[1], v[2], v[3], v[4], v[5], NULL};
    fprintf(stderr, "tsctl: migrating the target database (log %s)\n", logw);
    pid_t mig = spawn(bin_dir, "writer", "--migrate", logw, wv, err, sizeof err);
    if (mig < 0) goto fail_err;
    int mst = 0;
    if (waitpid(mig, &mst, 0) != mig || !WIFEXITED(mst) || WEXITSTATUS(mst) != 0) {
        snprintf(err, sizeof err, "writer --migrate failed on the target database (see %.900s)",
                 logw);
        goto fail_err;
    }
    fprintf(stderr, "tsctl: starting the rebuild's writer (log %s)\n", logw);
    if ((r.writer = spawn(bin_dir, "writer", NULL, logw, wv, err, sizeof err)) < 0) goto fail_err;
    int markers = 0;
    if (copy_markers(&r, target, &markers, err, sizeof err)) goto fail_err;
    fprintf(stderr, "tsctl: target migrated; %d purged connections carried over\n", markers);
    snprintf(v[6], sizeof v[6], "NORMALIZER_RAW_TOPIC=%s", r.raw);
    snprintf(v[7], sizeof v[7], "NORMALIZER_GROUP=%s", r.ngroup);
    snprintf(v[8], sizeof v[8], "ADMIN_PORT=%ld", ports);
    const char *nv[] = {v[0], v[6], v[7], v[8], NULL};
    fprintf(stderr, "tsctl: starting the rebuild's normalizer (log %s)\n", logn);
    if ((r.normalizer = spawn(bin_dir, "normalizer", NULL, logn, nv, err, sizeof err)) < 0)
        goto fail_err;

    int64_t t0 = util_mono_ms();
    int stable = 0;
    while (stable < RB_STABLE_CHECKS) {
        sleep(RB_POLL_S);
        if (!alive(r.writer) || !alive(r.normalizer)) {
            snprintf(err, sizeof err, "the rebuild's %s exited (see its log)",
                     alive(r.writer) ? "normalizer" : "writer");
            goto fail_err;
        }
        long long nbehind =
            cli_lag(r.nref, r.admin, r.raw, r.nraw, r.raw_end, NULL, err, sizeof err);
        if (nbehind < 0) goto fail_err;
        long long wbehind = 0, wtotal = 0;
        for (int i = 0; i < RB_NTOPICS; i++) {
            char mine[256];
            topic_name(r.prefix, rb_topics[i], mine, sizeof mine);
            if (strcmp(rb_topics[i], TOPIC_DLQ) == 0) continue; /* written, never read */
            int parts = cli_lag_partitions(r.admin, mine, err, sizeof err);
            if (parts < 0) goto fail_err;
            long long b = cli_lag(r.wref, r.admin, mine, parts, NULL, &wtotal, err, sizeof err);
            if (b < 0) goto fail_err;
            wbehind += b;
        }
        long long elapsed = (util_mono_ms() - t0) / 1000;
        fprintf(stderr,
                "tsctl: rebuild %s: normalizer %lld/%lld raw (%lld%%), writer %lld/%lld, %llds\n",
                r.id, raw_total - nbehind, raw_total,
                raw_total ? (raw_total - nbehind) * 100 / raw_total : 100, wtotal - wbehind, wtotal,
                elapsed);
        stable = nbehind == 0 && wbehind == 0 ? stable + 1 : 0;
        if (elapsed > timeout_s) {
            snprintf(err, sizeof err, "not done after %ld s (--timeout)", timeout_s);
            goto fail_err;
        }
    }
    stop_child(&r.normalizer);
    stop_child(&r.writer);
    if (ctx->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "rebuild", r.id);
        cJSON_AddStringToObject(o, "topic_prefix", r.prefix);
        cJSON_AddNumberToObject(o, "raw_messages", (double)raw_total);
        cJSON_AddNumberToObject(o, "purged_connections", markers);
        cJSON_AddNumberToObject(o, "seconds", (double)((util_mono_ms() - t0) / 1000));
        cli_print_json(ctx, o);
        cJSON_Delete(o);
    } else {
        fprintf(ctx->out,
                "rebuild %s done: %lld raw messages replayed into the new database in %lld s; "
                "delete the topics %s* when you no longer need them\n",
                r.id, raw_total, (long long)((util_mono_ms() - t0) / 1000), r.prefix);
    }
    rc = CLI_EXIT_OK;
    goto done;
fail_err:
    cli_errorf(ctx, "rebuild: %s", err);
done:
    stop_child(&r.normalizer);
    stop_child(&r.writer);
    if (r.nref) rd_kafka_destroy(r.nref);
    if (r.wref) rd_kafka_destroy(r.wref);
    if (r.admin) rd_kafka_destroy(r.admin);
    return rc;
}
