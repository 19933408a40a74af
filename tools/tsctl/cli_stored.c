/* cli_stored.c - see cli_stored.h. */
#include "cli_stored.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_lag.h"
#include "cli_out.h"
#include "entities.h"
#include "kafka.h"
#include "topics.h"
#include "util.h"
#include "values.h"

static const char *const writer_inputs[] = {WRITER_INPUT_TOPICS};
enum { NWRITER_INPUTS = sizeof writer_inputs / sizeof writer_inputs[0] };

typedef struct stage_wait {
    const char *stage; /* "normalizer" or "writer" */
    rd_kafka_t *ref;   /* in the stage's group, never subscribed */
    int n;
    char topic[NWRITER_INPUTS][256];
    int parts[NWRITER_INPUTS];
    int64_t *ends[NWRITER_INPUTS]; /* the topics' ends when the wait began */
} stage_wait;

static void stage_free(stage_wait *s) {
    for (int i = 0; i < s->n; i++)
        free(s->ends[i]);
    if (s->ref) rd_kafka_destroy(s->ref);
    memset(s, 0, sizeof *s);
}

/* The group's reference consumer and its topics' ends now. */
static int stage_begin(cli_ctx *ctx, rd_kafka_t *admin, stage_wait *s, const char *stage,
                       const char *group, const char *const *topics, int n, char *err,
                       size_t errlen) {
    s->stage = stage;
    if (!(s->ref = cli_lag_reference(ctx, group, err, errlen))) return -1;
    for (int i = 0; i < n; i++) {
        topic_name(ctx->topic_prefix, topics[i], s->topic[i], sizeof s->topic[i]);
        int parts = cli_lag_partitions(admin, s->topic[i], err, errlen);
        if (parts < 0) return -1;
        if (!(s->ends[i] = calloc((size_t)parts, sizeof *s->ends[i]))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->parts[i] = parts;
        s->n = i + 1;
        if (cli_lag_ends(admin, s->topic[i], parts, s->ends[i], err, errlen)) return -1;
    }
    return 0;
}

static long long stage_behind(rd_kafka_t *admin, const stage_wait *s, char *err, size_t errlen) {
    long long behind = 0;
    for (int i = 0; i < s->n; i++) {
        long long b =
            cli_lag(s->ref, admin, s->topic[i], s->parts[i], s->ends[i], NULL, err, errlen);
        if (b < 0) return -1;
        behind += b;
    }
    return behind;
}

static void print_line(cli_ctx *ctx, const char *waiting_for, long long behind) {
    char at[32];
    val_time_format(util_now_ms(), 0, at);
    if (ctx->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "at", at);
        if (waiting_for) {
            cJSON_AddStringToObject(o, "waiting_for", waiting_for);
            cJSON_AddNumberToObject(o, "behind", (double)behind);
        } else {
            cJSON_AddBoolToObject(o, "stored", 1);
        }
        char *s = cJSON_PrintUnformatted(o);
        if (s) fprintf(ctx->out, "%s\n", s);
        free(s);
        cJSON_Delete(o);
    } else if (waiting_for) {
        fprintf(ctx->out, "%s  fetched; waiting for the %s: %lld messages behind\n", at,
                waiting_for, behind);
    } else {
        fprintf(ctx->out, "%s  stored: the normalizer and the writer have what was fetched\n", at);
    }
    fflush(ctx->out);
}

int cli_wait_stored(cli_ctx *ctx, long interval_s) {
    char err[1024];
    static const char *const raw[] = {TOPIC_RAW};
    stage_wait s = {0};
    int rc = CLI_EXIT_FAIL;
    rd_kafka_t *admin = kafka_producer_new(ctx->kafka_bootstrap, "tsctl-status", NULL,
                                           ctx->kafka_props, NULL, NULL, err, sizeof err);
    if (!admin) goto out;
    for (int stage = 0; stage < 2 && !util_stop; stage++) {
        int st = stage == 0 ? stage_begin(ctx, admin, &s, "normalizer", ctx->normalizer_group, raw,
                                          1, err, sizeof err)
                            : stage_begin(ctx, admin, &s, "writer", ctx->writer_group,
                                          writer_inputs, NWRITER_INPUTS, err, sizeof err);
        if (st) goto out;
        for (;;) {
            long long behind = stage_behind(admin, &s, err, sizeof err);
            if (behind < 0) goto out;
            if (behind == 0 || util_stop) break;
            print_line(ctx, s.stage, behind);
            for (long ms = 0; ms < interval_s * 1000 && !util_stop; ms += 100)
                usleep(100 * 1000);
        }
        stage_free(&s);
    }
    if (!util_stop) print_line(ctx, NULL, 0);
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK)
        cli_errorf(ctx,
                   "status --until-done: %s (the wait for the normalizer and the writer reads "
                   "their groups' offsets from Kafka: KAFKA_BOOTSTRAP, KAFKA_CONFIG_FILE)",
                   err);
    stage_free(&s);
    if (admin) rd_kafka_destroy(admin);
    return rc;
}
