/* cli_cmds.h - tsctl's commands: the table main() dispatches on, and each command's
 * entry point. A command returns an exit code (CLI_EXIT_*); it prints data on
 * ctx->out (a table, or JSON with --json) and diagnostics on stderr.
 */
#ifndef CLI_CMDS_H
#define CLI_CMDS_H

#include <stdint.h>

#include "cfg.h"
#include "cli_args.h"
#include "cli_ctx.h"

extern const cli_cmd cli_commands[];
extern const int cli_ncommands;

#define CLI_ARGV(name) CLI_ARG(a, cmd, name)

/* The environment variables tsctl reads, with targets in ctx; fills vars[0..max)
 * and returns the count. */
int cli_config_table(cli_ctx *ctx, cfg_var *vars, int max);

/* cli_cmd_link.c */
int cli_run_link_token(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_link_reinstall(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_link_exchange(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_magic_create(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_magic_list(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_magic_show(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_magic_delete(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);

/* cli_cmd_conn.c */
int cli_run_conn_list(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_conn_show(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_conn_delete(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_conn_set(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_conn_purge(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_errors(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);

/* cli_cmd_sync.c */
int cli_run_sync(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_backfill(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_request(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_status(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);

/* cli_cmd_dlq.c */
int cli_run_dlq_list(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_dlq_show(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_dlq_replay(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);

/* cli_cmd_rebuild.c */
int cli_run_rebuild(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);

/* cli_cmd_data.c */
int cli_run_resources(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_records(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_changes(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_inventory(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
int cli_run_orders(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a);
/* The registry's entities as `tsctl resources` prints them (a table, or JSON with
 * ctx->json), with stored[e] rows each when stored is not NULL (-1: unknown). 0 or -1. */
int cli_print_resources(cli_ctx *ctx, const int64_t *stored);
/* One statement counting a connection's ($1) live rows (deleted_at IS NULL) of every registry
 * entity, as rows (resource, n); malloc'd (the caller frees it), NULL when out of memory. */
char *cli_counts_sql(void);

#endif
