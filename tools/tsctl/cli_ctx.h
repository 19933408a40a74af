/* cli_ctx.h - what every tsctl command gets: the resolved settings (from the
 * environment, optionally loaded from a stack.env file), the output mode, and the
 * clients opened on first use. main() owns it; commands only read the settings.
 */
#ifndef CLI_CTX_H
#define CLI_CTX_H

#include <stdio.h>

#if defined(__has_include) && __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif

typedef struct cli_ctx {
    const char *prog;
    /* settings: point into the environment or the config table's defaults */
    char *base_url;         /* TRACKSTAR_BASE_URL */
    char *api_key;          /* TRACKSTAR_API_KEY: secret, never printed */
    char *database_url;     /* DATABASE_URL */
    char *fetcher_url;      /* FETCHER_ADMIN_URL */
    char *admin_token;      /* ADMIN_TOKEN: the fetcher's admin bearer, secret, never printed */
    char *kafka_bootstrap;  /* KAFKA_BOOTSTRAP */
    char *topic_prefix;     /* KAFKA_TOPIC_PREFIX */
    char *kafka_props;      /* KAFKA_CONFIG_FILE text: may hold secrets, never printed */
    char *normalizer_group; /* NORMALIZER_GROUP */
    char *writer_group;     /* WRITER_GROUP */
    long long http_timeout_s;
    int json;   /* --json: stdout carries JSON only */
    FILE *out;  /* stdout */
    PGconn *db; /* opened by cli_db_get(), closed by main */
} cli_ctx;

/* Exit codes: 0 success, 1 the operation failed, 2 bad usage or configuration. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* Print "tsctl: <msg>" on stderr (diagnostics never go to stdout). */
void cli_errorf(const cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
