/* tsctl - the operator's tool for the Trackstar pipeline: connect customers (link
 * tokens, auth-code exchange, magic links, reinstalls), see whether every connection
 * and resource is in sync, trigger syncs and backfills, watch a backfill's progress,
 * and deal with connection errors and dead-lettered records, without SQL or curl.
 *
 * Settings come from the environment (tsctl --help lists them) or a stack.env file
 * (--env). stdout carries data: tables for people, JSON with --json; stderr carries
 * diagnostics. Exit codes: 0 ok, 1 the operation failed, 2 bad usage or settings.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cli_cmds.h"
#include "cli_env.h"
#include "log.h"
#include "util.h"

#define MAX_VARS 16

static void usage(FILE *out, const char *prog, cli_ctx *ctx) {
    cfg_var vars[MAX_VARS];
    int n = cli_config_table(ctx, vars, MAX_VARS);
    fprintf(out,
            "usage: %s [--env FILE] [--json] <command> [arguments] [options]\n\n"
            "Operate the Trackstar pipeline: connections, links, syncs, backfills, status,\n"
            "connection errors, dead letters, inventory.\n\n"
            "global options:\n"
            "  --env FILE    load settings from a stack.env file (KEY=value lines, as\n"
            "                deploy/stack/stack.sh writes var/stack.env); they override the\n"
            "                environment\n"
            "  --json        JSON on stdout instead of tables\n"
            "  -h, --help    help; `%s <command> --help` for one command\n\n"
            "commands:\n",
            prog, prog);
    cli_cmd_list(out, cli_commands, cli_ncommands, NULL);
    fputc('\n', out);
    fflush(out);
    cfg_print_help(prog, "settings", vars, (size_t)n);
}

int main(int argc, char **argv) {
    /* The configuration lives as long as the process, like the stages' g_stage: what
     * cfg_load read from files (KAFKA_CONFIG_FILE) stays reachable until exit. */
    static cli_ctx ctx;
    ctx = (cli_ctx){.prog = "tsctl", .out = stdout};
    const char *env_file = NULL;
    int help = 0, json = 0, i = 1, rc = CLI_EXIT_USAGE;
    char err[1024];
    /* Global options come before the command words. */
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            help = 1;
        } else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc) {
            env_file = argv[++i];
        } else if (strncmp(argv[i], "--env=", 6) == 0) {
            env_file = argv[i] + 6;
        } else {
            fprintf(stderr, "%s: unknown global option %s (see %s --help)\n", ctx.prog, argv[i],
                    ctx.prog);
            return CLI_EXIT_USAGE;
        }
    }
    if (env_file && cli_env_load(env_file, 1, err, sizeof err) < 0) {
        fprintf(stderr, "%s: --env: %s\n", ctx.prog, err);
        return CLI_EXIT_USAGE;
    }
    /* stack.env names the fetcher's admin URL ADMIN_FETCHER. */
    const char *fa = getenv("FETCHER_ADMIN_URL"), *af = getenv("ADMIN_FETCHER");
    if ((!fa || !*fa) && af && *af) setenv("FETCHER_ADMIN_URL", af, 1);
    cfg_var vars[MAX_VARS];
    int nvars = cli_config_table(&ctx, vars, MAX_VARS);
    if (cfg_load(vars, (size_t)nvars, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", ctx.prog, err);
        return CLI_EXIT_USAGE;
    }
    int consumed = 0, prefix = 0;
    const cli_cmd *cmd =
        cli_cmd_find(cli_commands, cli_ncommands, argc - i, argv + i, &consumed, &prefix);
    if (!cmd) {
        if (i >= argc || strcmp(argv[i], "help") == 0) {
            usage(stdout, ctx.prog, &ctx);
            return help || i < argc ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        }
        if (prefix > 0) {
            /* e.g. `tsctl link`: the commands under it */
            char words[128] = "";
            for (int w = 0; w < prefix; w++)
                snprintf(words + strlen(words), sizeof words - strlen(words), "%s%s", w ? " " : "",
                         argv[i + w]);
            FILE *out = help ? stdout : stderr;
            fprintf(out, "usage: %s %s <command>\n\ncommands:\n", ctx.prog, words);
            cli_cmd_list(out, cli_commands, cli_ncommands, words);
            return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        }
        fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n", ctx.prog, argv[i], ctx.prog);
        return CLI_EXIT_USAGE;
    }
    cli_args a;
    if (cli_args_parse(cmd->opts, cmd->nopts, cmd->min_pos, cmd->max_pos, argc - i - consumed,
                       argv + i + consumed, &a, err, sizeof err) != 0) {
        fprintf(stderr, "%s %s: %s\n\n", ctx.prog, cmd->path, err);
        cli_cmd_help(stderr, ctx.prog, cmd);
        return CLI_EXIT_USAGE;
    }
    if (help || a.help) {
        cli_cmd_help(stdout, ctx.prog, cmd);
        return CLI_EXIT_OK;
    }
    ctx.json = json || a.json;
    log_init("tsctl", LOG_WARN); /* librdkafka warnings and the like, on stderr */
    util_install_signals();      /* Ctrl-C ends a --watch cleanly */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "%s: cannot initialise libcurl\n", ctx.prog);
        return CLI_EXIT_FAIL;
    }
    rc = cmd->run(&ctx, cmd, &a);
    if (ctx.db) PQfinish(ctx.db);
    curl_global_cleanup();
    if (fflush(stdout) != 0) rc = CLI_EXIT_FAIL; /* e.g. a closed pipe: the data did not arrive */
    return rc;
}
