/* cli_cmd_dlq.c - the dead-letter topic for operators: list (with filters), inspect
 * one record, and replay records back to the topic they came from. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cmds.h"
#include "cli_dlq.h"
#include "cli_out.h"
#include "cli_table.h"
#include "util.h"

#define DLQ_LIST_DEFAULT 100
#define DLQ_LIST_MAX 100000
#define DLQ_REPLAY_MAX 10000 /* records replayed by one --all */

static int fail(const cli_ctx *ctx, const char *err, int code) {
    cli_errorf(ctx, "%s", err);
    return code;
}

/* obj[key] as an integer, -1 when absent. */
static int64_t jint_or(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

typedef struct filter {
    const char *stage, *topic, *connection;
} filter;

static int matches(const filter *f, const cli_dlq_rec *r) {
    if (f->stage && strcmp(f->stage, r->stage) != 0) return 0;
    if (f->topic && strcmp(f->topic, r->topic) != 0) return 0;
    if (f->connection) {
        /* keys start with the connection id: "connection_id|..." */
        const rd_kafka_message_t *m = r->msg;
        size_t cl = strlen(f->connection);
        if (!m->key || m->key_len <= cl || memcmp(m->key, f->connection, cl) != 0 ||
            ((const char *)m->key)[cl] != '|')
            return 0;
    }
    return 1;
}

/* ---- list: keep the newest `limit` matching records ---- */

typedef struct list_state {
    filter f;
    cJSON **ring;
    long limit, n, total;
} list_state;

static int on_list(const cli_dlq_rec *r, void *arg) {
    list_state *s = arg;
    if (!matches(&s->f, r)) return 0;
    cJSON *j = cli_dlq_json(r, 0);
    if (!j) return 1;
    long slot = s->total % s->limit;
    cJSON_Delete(s->ring[slot]);
    s->ring[slot] = j;
    s->total++;
    return 0;
}

static filter filter_of(const cli_cmd *cmd, const cli_args *a) {
    filter f = {CLI_ARGV("stage"), CLI_ARGV("topic"), CLI_ARGV("connection")};
    return f;
}

int cli_run_dlq_list(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    char err[1024];
    long limit = DLQ_LIST_DEFAULT;
    if (CLI_ARGV("limit")) {
        char *end;
        limit = strtol(CLI_ARGV("limit"), &end, 10);
        if (*end || limit < 1 || limit > DLQ_LIST_MAX)
            return fail(ctx, "--limit: expected 1..100000", CLI_EXIT_USAGE);
    }
    list_state s = {filter_of(cmd, a), calloc((size_t)limit, sizeof(cJSON *)), limit, 0, 0};
    if (!s.ring) return fail(ctx, "out of memory", CLI_EXIT_FAIL);
    int rc = CLI_EXIT_OK;
    if (cli_dlq_scan(ctx, -1, -1, on_list, &s, err, sizeof err) != 0) {
        rc = fail(ctx, err, CLI_EXIT_FAIL);
        goto done;
    }
    /* oldest first among the kept ones */
    cJSON *arr = cJSON_CreateArray();
    long kept = s.total < limit ? s.total : limit;
    for (long i = 0; i < kept; i++) {
        long slot = (s.total - kept + i) % limit;
        cJSON_AddItemToArray(arr, s.ring[slot]);
        s.ring[slot] = NULL;
    }
    if (ctx->json) {
        cli_print_json(ctx, arr);
    } else {
        static const char *const heads[] = {"REF",    "TIME", "STAGE", "FROM TOPIC",
                                            "ORIGIN", "KEY",  "BYTES", "REASON"};
        cli_table t;
        if (cli_table_init(&t, 8, heads) == 0) {
            cli_table_align_right(&t, 6);
            cli_table_width(&t, 7, 70);
            const cJSON *r;
            cJSON_ArrayForEach(r, arr) {
                char ref[48], orig[48], b[32];
                snprintf(ref, sizeof ref, "%" PRId64 ":%" PRId64, jint_or(r, "partition"),
                         jint_or(r, "offset"));
                cli_table_row(&t);
                cli_table_cell(&t, 0, ref);
                cli_table_cell(&t, 1, cli_jstr(r, "timestamp"));
                cli_table_cell(&t, 2, cli_jstr(r, "stage"));
                cli_table_cell(&t, 3, cli_jstr(r, "topic"));
                if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "original_offset"))) {
                    snprintf(orig, sizeof orig, "%" PRId64 ":%" PRId64,
                             jint_or(r, "original_partition"), jint_or(r, "original_offset"));
                    cli_table_cell(&t, 4, orig);
                }
                cli_table_cell(&t, 5, cli_jstr(r, "key"));
                cli_table_cell(&t, 6, cli_jtext(r, "value_bytes", b, sizeof b));
                cli_table_cell(&t, 7, cli_jstr(r, "reason"));
            }
            cli_table_render(&t, ctx->out);
            cli_table_free(&t);
        }
        if (s.total > kept)
            fprintf(ctx->out, "(%ld older matching records not shown; --limit)\n", s.total - kept);
    }
    cJSON_Delete(arr);
done:
    for (long i = 0; i < limit; i++)
        cJSON_Delete(s.ring[i]);
    free(s.ring);
    return rc;
}

/* ---- show / replay one record by reference ---- */

typedef struct one_state {
    int64_t offset;
    int found;
    int replay;
    const cli_ctx *ctx;
    cJSON *json;
    char err[1024];
    int failed;
} one_state;

static int on_one(const cli_dlq_rec *r, void *arg) {
    one_state *s = arg;
    if (r->offset != s->offset) return r->offset > s->offset; /* past it: stop */
    s->found = 1;
    s->json = cli_dlq_json(r, 1);
    if (s->replay && cli_dlq_replay(s->ctx, r->msg, s->err, sizeof s->err) != 0) s->failed = 1;
    return 1;
}

static int one(cli_ctx *ctx, const char *ref, int replay, cJSON **out, char *err, size_t errlen) {
    int32_t p;
    int64_t o;
    if (cli_dlq_parse_ref(ref, &p, &o) != 0) {
        snprintf(err, errlen, "'%s' is not a record reference PARTITION:OFFSET (see dlq list)",
                 ref);
        return CLI_EXIT_USAGE;
    }
    one_state s = {.offset = o, .replay = replay, .ctx = ctx};
    if (cli_dlq_scan(ctx, p, o, on_one, &s, err, errlen) != 0) return CLI_EXIT_FAIL;
    if (!s.found) {
        snprintf(err, errlen, "no dead-letter record at %s", ref);
        return CLI_EXIT_FAIL;
    }
    *out = s.json;
    if (s.failed) {
        snprintf(err, errlen, "%s", s.err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_run_dlq_show(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    (void)cmd;
    char err[1024];
    cJSON *j = NULL;
    int rc = one(ctx, a->pos[0], 0, &j, err, sizeof err);
    if (rc != CLI_EXIT_OK) {
        cJSON_Delete(j);
        return fail(ctx, err, rc);
    }
    if (ctx->json) {
        cli_print_json(ctx, j);
    } else {
        char b[64];
        const cJSON *h, *it;
        cli_kv(ctx->out, "ref", a->pos[0]);
        cli_kv(ctx->out, "time", cli_jstr(j, "timestamp"));
        cli_kv(ctx->out, "stage", cli_jstr(j, "stage"));
        cli_kv(ctx->out, "reason", cli_jstr(j, "reason"));
        cli_kv(ctx->out, "from topic", cli_jstr(j, "topic"));
        cli_kv(ctx->out, "original partition", cli_jtext(j, "original_partition", b, sizeof b));
        cli_kv(ctx->out, "original offset", cli_jtext(j, "original_offset", b, sizeof b));
        cli_kv(ctx->out, "key", cli_jstr(j, "key"));
        h = cJSON_GetObjectItemCaseSensitive(j, "headers");
        fprintf(ctx->out, "headers:\n");
        cJSON_ArrayForEach(it, h) {
            char k[160];
            snprintf(k, sizeof k, "  %s", it->string);
            cli_kv(ctx->out, k, cJSON_IsString(it) ? it->valuestring : NULL);
        }
        char *v = cJSON_Print(cJSON_GetObjectItemCaseSensitive(j, "value"));
        fprintf(ctx->out, "value (%s bytes):\n%s\n", cli_jtext(j, "value_bytes", b, sizeof b),
                v ? v : "null");
        free(v);
    }
    cJSON_Delete(j);
    return CLI_EXIT_OK;
}

/* ---- replay ---- */

typedef struct all_state {
    filter f;
    const cli_ctx *ctx;
    int dry_run;
    long replayed, failed;
    cJSON *done;
    char err[1024];
} all_state;

static int on_all(const cli_dlq_rec *r, void *arg) {
    all_state *s = arg;
    if (!matches(&s->f, r)) return 0;
    if (s->replayed + s->failed >= DLQ_REPLAY_MAX) return 1;
    char ref[48];
    snprintf(ref, sizeof ref, "%d:%" PRId64, (int)r->partition, r->offset);
    if (!s->dry_run && cli_dlq_replay(s->ctx, r->msg, s->err, sizeof s->err) != 0) {
        cli_errorf(s->ctx, "%s: %s", ref, s->err);
        s->failed++;
        return 0;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ref", ref);
    cJSON_AddStringToObject(o, "topic", r->topic);
    cJSON_AddBoolToObject(o, "replayed", !s->dry_run);
    cJSON_AddItemToArray(s->done, o);
    s->replayed++;
    return 0;
}

int cli_run_dlq_replay(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    char err[1024];
    int all = CLI_ARGV("all") != NULL, dry = CLI_ARGV("dry-run") != NULL;
    if (all == (a->npos > 0))
        return fail(ctx, "give record references (PARTITION:OFFSET ...) or --all, not both",
                    CLI_EXIT_USAGE);
    cJSON *done = cJSON_CreateArray();
    int rc = CLI_EXIT_OK;
    if (all) {
        all_state s = {filter_of(cmd, a), ctx, dry, 0, 0, done, ""};
        if (cli_dlq_scan(ctx, -1, -1, on_all, &s, err, sizeof err) != 0)
            rc = fail(ctx, err, CLI_EXIT_FAIL);
        if (s.failed) rc = CLI_EXIT_FAIL;
    } else {
        for (int i = 0; i < a->npos; i++) {
            cJSON *j = NULL;
            int r = dry ? one(ctx, a->pos[i], 0, &j, err, sizeof err)
                        : one(ctx, a->pos[i], 1, &j, err, sizeof err);
            if (r != CLI_EXIT_OK) {
                cli_errorf(ctx, "%s", err);
                rc = r;
            } else {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "ref", a->pos[i]);
                cJSON_AddStringToObject(o, "topic",
                                        cli_jstr(j, "topic") ? cli_jstr(j, "topic") : "");
                cJSON_AddBoolToObject(o, "replayed", !dry);
                cJSON_AddItemToArray(done, o);
            }
            cJSON_Delete(j);
        }
    }
    if (ctx->json) {
        cli_print_json(ctx, done);
    } else {
        const cJSON *o;
        cJSON_ArrayForEach(o, done)
            fprintf(ctx->out, "%s %s -> %s\n", dry ? "would replay" : "replayed",
                    cli_jstr(o, "ref"), cli_jstr(o, "topic"));
        fprintf(ctx->out, "%d record(s) %s\n", cJSON_GetArraySize(done),
                dry ? "to replay" : "replayed");
    }
    cJSON_Delete(done);
    return rc;
}
