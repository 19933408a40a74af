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

/* Print j on ctx->out, indented. Returns 0 or -1. Does not take ownership. */
int cli_print_json(const cli_ctx *ctx, const cJSON *j);

/* obj[key] as a string, or NULL when absent or not a string. */
const char *cli_jstr(const cJSON *obj, const char *key);
/* obj[key] as text for a table: strings as is, numbers, booleans "yes"/"no", null
 * and absent as NULL (printed "-"). Uses buf for numbers. */
const char *cli_jtext(const cJSON *obj, const char *key, char *buf, size_t len);

/* A date argument: "2026-01-05", "2026-01-05T10:00:00Z" (any RFC 3339), or "now".
 * 0 or -1. */
int cli_parse_date(const char *s, int64_t now_ms, int64_t *ms);

#endif
