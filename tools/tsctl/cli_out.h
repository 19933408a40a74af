/* cli_out.h - helpers shared by tsctl's commands: JSON printing, reading fields out
 * of API answers, resource lists (the registry's names, common/entities.h), and date
 * arguments.
 */
#ifndef CLI_OUT_H
#define CLI_OUT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "cli_ctx.h"

/* A comma-separated resource list (any name the registry knows: orders, get_orders,
 * ...) -> JSON array of our names (deduplicated, in the registry's order). NULL with
 * errstr naming the unknown item. */
cJSON *cli_res_list(const char *csv, char *errstr, size_t errlen);

/* Print j on ctx->out, indented, with every secret redacted (cli_redact, on a copy).
 * Returns 0 or -1. Does not take ownership. */
int cli_print_json(const cli_ctx *ctx, const cJSON *j);

/* Replace, at any depth of j, the value of every member whose name says it is a secret
 * (an access token, clear or sealed, an API key, a secret, a password; compared without
 * case) by the string CLI_REDACTED. Returns how many were replaced. */
#define CLI_REDACTED "[redacted]"
int cli_redact(cJSON *j);
/* 1 when a member name says its value is a secret. */
int cli_secret_name(const char *name);

/* obj[key] as a string, or NULL when absent or not a string. */
const char *cli_jstr(const cJSON *obj, const char *key);
/* obj[key] as text for a table: strings as is, numbers, booleans "yes"/"no", null
 * and absent as NULL (printed "-"). Uses buf for numbers. */
const char *cli_jtext(const cJSON *obj, const char *key, char *buf, size_t len);

/* A date argument: "2026-01-05", "2026-01-05T10:00:00Z" (any RFC 3339), or "now".
 * 0 or -1. */
int cli_parse_date(const char *s, int64_t now_ms, int64_t *ms);

#endif
