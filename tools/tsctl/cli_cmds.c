/* cli_cmds.c - the command table: every tsctl command, its options and help, in one
 * place, so that `tsctl --help`, `tsctl <cmd> --help`, the dispatcher and docs/tsctl.md
 * describe the same thing. Also the settings table (environment variables). */
#include "cli_cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cli_out.h"
#include "cli_table.h"
#include "topics.h"

#define N(a) ((int)(sizeof a / sizeof a[0]))

/* ---- settings ---- */

int cli_config_table(cli_ctx *ctx, cfg_var *vars, int max) {
    const cfg_var v[] = {
        {"TRACKSTAR_BASE_URL", CFG_STR, "https://production.trackstarhq.com", 0, 0, 0,
         "Trackstar API (the simulator's URL on a local stack)", &ctx->base_url},
        {"TRACKSTAR_API_KEY", CFG_STR, "", 0, 0, CFG_SECRET,
         "organisation API key for link, magic-link and connection commands", &ctx->api_key},
        {"DATABASE_URL", CFG_STR, "", 0, 0, CFG_SECRET,
         "the database the writer fills (read only; may hold a password)", &ctx->database_url},
        {"FETCHER_ADMIN_URL", CFG_STR, "http://127.0.0.1:9102", 0, 0, 0,
         "the fetcher's admin port (stack.env's ADMIN_FETCHER is used when unset)",
         &ctx->fetcher_url},
        {"ADMIN_TOKEN", CFG_STR, "", 0, 0, CFG_SECRET,
         "bearer token for the fetcher's admin actions (stack.env has it)", &ctx->admin_token},
        {"KAFKA_BOOTSTRAP", CFG_STR, "127.0.0.1:9092", 0, 0, 0,
         "Kafka bootstrap servers, for the dead-letter, purge and rebuild commands and status "
         "--until-done",
         &ctx->kafka_bootstrap},
        {"KAFKA_TOPIC_PREFIX", CFG_STR, "", 0, 0, 0, "prefix in front of every topic name",
         &ctx->topic_prefix},
        {"KAFKA_CONFIG_FILE", CFG_FILE, "", 0, 0, 0,
         "librdkafka properties file, key=value a line (SASL, TLS); a value ${file:/path} is "
         "read from that file",
         &ctx->kafka_props},
        {"NORMALIZER_GROUP", CFG_STR, GROUP_NORMALIZER, 0, 0, 0,
         "the normalizer's consumer group (status --until-done waits for it)",
         &ctx->normalizer_group},
        {"WRITER_GROUP", CFG_STR, GROUP_WRITER, 0, 0, 0,
         "the writer's consumer group (status --until-done waits for it)", &ctx->writer_group},
        {"TSCTL_HTTP_TIMEOUT_S", CFG_INT, "30", 1, 600, 0, "timeout of one HTTP request",
         &ctx->http_timeout_s},
    };
    int n = N(v) < max ? N(v) : max;
    memcpy(vars, v, (size_t)n * sizeof v[0]);
    return n;
}

/* `tsctl config`: the effective settings, secrets shown only as set or not. */
static int run_config(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *a) {
    (void)cmd;
    (void)a;
    cfg_var vars[16];
    int n = cli_config_table(ctx, vars, 16);
    cJSON *o = cJSON_CreateObject();
    cli_table t;
    static const char *const heads[] = {"VARIABLE", "VALUE"};
    if (cli_table_init(&t, 2, heads) != 0) {
        cJSON_Delete(o);
        return CLI_EXIT_FAIL;
    }
    cli_table_width(&t, 1, 100);
    for (int i = 0; i < n; i++) {
        char buf[32];
        const char *val;
        if (vars[i].type == CFG_INT) {
            snprintf(buf, sizeof buf, "%lld", *(long long *)vars[i].target);
            val = buf;
        } else if (vars[i].type == CFG_FILE) {
            val = getenv(vars[i].name); /* the path: the content may hold secrets */
        } else {
            const char *s = *(char **)vars[i].target;
            val = (vars[i].flags & CFG_SECRET) ? (s && *s ? "(set, secret)" : "(not set)") : s;
        }
        cJSON_AddStringToObject(o, vars[i].name, val ? val : "");
        cli_table_row(&t);
        cli_table_cell(&t, 0, vars[i].name);
        cli_table_cell(&t, 1, val && *val ? val : "(empty)");
    }
    if (ctx->json)
        cli_print_json(ctx, o);
    else
        cli_table_render(&t, ctx->out);
    cli_table_free(&t);
    cJSON_Delete(o);
    return CLI_EXIT_OK;
}

/* ---- options ---- */

static const cli_opt o_link_token[] = {
    {"connection", 1, "ID", "reinstall this connection instead of connecting a new one"},
    {"customer", 1, "ID", "your identifier for the end customer"},
    {"endpoints", 1, "LIST",
     "only offer integrations that support these endpoints (default "
     "get_orders,get_inventory,get_products; 'none' = no limit)"},
    {"allow", 1, "LIST", "only offer these integrations (excludes --endpoints and --block)"},
    {"block", 1, "LIST", "never offer these integrations"},
    {"integration-type", 1, "TYPE", "wms (default), cart or carrier"},
    {"sandbox", 0, NULL, "also offer Trackstar's sandbox integration"},
    {"logo", 1, "URL", "your logo, shown in Link (branding)"},
    {"style", 1, "JSON", "Link's style option, a JSON object (branding)"},
    {"button-id", 1, "ID", "Link button id, when a page has several"},
};
static const cli_opt o_reinstall[] = {
    {"magic", 0, NULL, "make a magic link for the customer instead of a link token"},
    {"days", 1, "N", "magic link lifetime in days (with --magic)"},
    {"customer", 1, "ID", "your identifier for the end customer"},
    {"logo", 1, "URL", "your logo, shown in Link"},
    {"style", 1, "JSON", "Link's style option, a JSON object"},
};
static const cli_opt o_exchange[] = {
    {"customer", 1, "ID", "your identifier for the end customer"},
    {"wait", 1, "SECONDS", "wait until the new connection has reached the database"},
};
static const cli_opt o_magic_create[] = {
    {"connection", 1, "ID", "reinstall this connection"},
    {"customer", 1, "ID", "your identifier for the end customer"},
    {"endpoints", 1, "LIST",
     "only integrations supporting these endpoints (default "
     "get_orders,get_inventory,get_products; 'none' = no limit)"},
    {"allow", 1, "LIST", "only these integrations (excludes --endpoints and --block)"},
    {"block", 1, "LIST", "never these integrations"},
    {"integration-type", 1, "TYPE", "wms (default), freight or cart"},
    {"days", 1, "N", "lifetime in days (Trackstar's default: 7)"},
};
static const cli_opt o_conn_list[] = {
    {"source", 1, "db|api", "db: the database the writer fills (default); api: GET /connections"},
    {"all", 0, NULL, "include deleted connections (db)"},
};
static const cli_opt o_conn_set[] = {
    {"webhooks-disabled", 1, "true|false", "stop (true) or resume Trackstar's resource webhooks"},
    {"customer", 1, "ID", "your identifier for the end customer"},
    {"no-customer", 0, NULL, "clear the customer identifier"},
};
static const cli_opt o_conn_delete[] = {
    {"yes", 0, NULL, "really delete"},
    {"token-stdin", 0, NULL, "read the connection's access token from stdin (never printed)"},
};
static const cli_opt o_conn_purge[] = {
    {"yes", 0, NULL,
     "do it without asking (otherwise the connection id is asked for on a terminal)"},
    {"force", 0, NULL, "also purge a connection that is not deleted"},
};
static const cli_opt o_errors[] = {
    {"all", 0, NULL, "include resolved connection errors"},
    {"check", 0, NULL, "exit 1 when anything is listed (for monitors)"},
};
static const cli_opt o_sync[] = {
    {"resources", 1, "LIST", "only these resources (default: all), e.g. orders,inventory"},
    {"wait", 1, "SECONDS", "wait until the fetcher has carried it out"},
};
static const cli_opt o_backfill[] = {
    {"from", 1, "DATE", "window start: 2026-01-05 or RFC 3339 (required)"},
    {"to", 1, "DATE", "window end (default: now)"},
    {"resources", 1, "LIST", "only these resources (default: all)"},
    {"wait", 1, "SECONDS", "wait until the fetcher has carried it out"},
};
static const cli_opt o_request[] = {
    {"wait", 1, "SECONDS", "wait until it is done or failed"},
};
static const cli_opt o_status[] = {
    {"watch", 0, NULL, "redraw every --interval seconds until Ctrl-C"},
    {"until-done", 0, NULL,
     "watch until no stream is running or backfilling, then until the normalizer and the "
     "writer have stored what was fetched"},
    {"interval", 1, "SECONDS", "time between samples (default 2)"},
    {"count", 1, "N", "stop after N samples"},
};
static const cli_opt o_dlq_list[] = {
    {"stage", 1, "NAME", "only records a stage dead-lettered (normalizer, writer, ...)"},
    {"topic", 1, "NAME", "only records from this topic"},
    {"connection", 1, "ID", "only records of this connection (key prefix)"},
    {"limit", 1, "N", "show the newest N (default 100)"},
};
static const cli_opt o_dlq_replay[] = {
    {"all", 0, NULL, "replay every record matching the filters"},
    {"stage", 1, "NAME", "with --all: only records of this stage"},
    {"topic", 1, "NAME", "with --all: only records from this topic"},
    {"connection", 1, "ID", "with --all: only records of this connection"},
    {"dry-run", 0, NULL, "list what would be replayed, produce nothing"},
};
static const cli_opt o_rebuild[] = {
    {"database-url", 1, "URL", "the new, empty database to rebuild into (required)"},
    {"bin-dir", 1, "DIR", "where the normalizer and writer binaries are (default: tsctl's own)"},
    {"migrations", 1, "DIR",
     "the writer's migrations (default: $WRITER_MIGRATIONS_DIR, else "
     "writer/migrations)"},
    {"log-dir", 1, "DIR", "where their logs go (default: $TMPDIR, else /tmp)"},
    {"admin-ports", 1, "PORT",
     "admin ports of the normalizer (PORT) and writer (PORT+1); "
     "default 9193"},
    {"timeout", 1, "SECONDS", "give up after this long (default 3600)"},
};
static const cli_opt o_inventory[] = {
    {"sku", 1, "PATTERN", "only SKUs matching (SQL LIKE: TSHIRT-% )"},
    {"limit", 1, "N", "SKUs shown (default 200)"},
};
static const cli_opt o_records[] = {
    {"limit", 1, "N", "records shown, newest first (default 20)"},
};
static const cli_opt o_changes[] = {
    {"limit", 1, "N", "changed records shown, newest first (default 20)"},
};
static const cli_opt o_orders[] = {
    {"status", 1, "STATUS", "only orders with this status (open, fulfilled, ...)"},
    {"limit", 1, "N", "orders shown, newest first (default 20)"},
};

#define OPTS(o) o, N(o)

const cli_cmd cli_commands[] = {
    {"link token", "", "create a link token to open Trackstar Link with",
     "Prints the token and the Link options (integration filters, branding) to pass to\n"
     "@trackstar/react-trackstar-link or window.Trackstar; Link's onSuccess gives an auth code.",
     OPTS(o_link_token), 0, 0, cli_run_link_token},
    {"link exchange", "<auth_code>", "register a new connection from a Link auth code",
     "The fetcher exchanges the code (POST /link/exchange) and stores the access token\n"
     "encrypted; the token is never shown. The connection is polled from its first sync on.",
     OPTS(o_exchange), 1, 1, cli_run_link_exchange},
    {"link reinstall", "<connection_id>", "re-authenticate a connection (same id and token)",
     "A link token (or with --magic a magic link) that reinstalls the connection: use it\n"
     "after invalid credentials. Connection errors resolve once the customer completes it.",
     OPTS(o_reinstall), 1, 1, cli_run_link_reinstall},
    {"link magic create", "", "create a magic link to send to a customer", NULL,
     OPTS(o_magic_create), 0, 0, cli_run_magic_create},
    {"link magic list", "", "list magic links", NULL, NULL, 0, 0, 0, cli_run_magic_list},
    {"link magic show", "<magic_link_id>", "show one magic link", NULL, NULL, 0, 1, 1,
     cli_run_magic_show},
    {"link magic delete", "<magic_link_id>", "delete a magic link", NULL, NULL, 0, 1, 1,
     cli_run_magic_delete},
    {"connections list", "", "every connection with its sync health at a glance", NULL,
     OPTS(o_conn_list), 0, 0, cli_run_conn_list},
    {"connections show", "<connection_id>",
     "one connection: supported resources, first sync, last success, errors",
     "Combines the database (sync_status, historical_syncs, connection_errors) with\n"
     "Trackstar's GET /connections/{id}; either may be missing.",
     NULL, 0, 1, 1, cli_run_conn_show},
    {"connections set", "<connection_id>", "change webhooks_disabled or customer_id",
     "PATCH /connections, made by the fetcher with the connection's access token (it holds it\n"
     "sealed). With webhooks disabled only the fetcher's polls (after each Trackstar crawl)\n"
     "bring changes in; connection events still arrive as webhooks.",
     OPTS(o_conn_set), 1, 1, cli_run_conn_set},
    {"connections delete", "<connection_id>", "delete a connection in Trackstar",
     "DELETE /connections is authorised by the connection's access token: give it on\n"
     "stdin with --token-stdin. Its connection.deleted event then flows through the pipeline.",
     OPTS(o_conn_delete), 1, 1, cli_run_conn_delete},
    {"connections purge", "<connection_id>",
     "remove every row of a connection and tombstone its keys on every compacted topic",
     "Deletes the connection's rows from every table with a connection_id column (found\n"
     "from the schema) and publishes a tombstone for each of its keys on wms.<entity>.v1\n"
     "and wms.connection_events.v1, so compaction removes them from Kafka too. Writers pause\n"
     "their publishing meanwhile; late records of the connection are skipped from then on.\n"
     "Only for a deleted connection unless --force. Cannot be undone.",
     OPTS(o_conn_purge), 1, 1, cli_run_conn_purge},
    {"errors", "[connection_id]", "open connection errors and failing streams", NULL,
     OPTS(o_errors), 0, 1, cli_run_errors},
    {"sync", "<connection_id>", "sync now: Trackstar's sync, then the fetcher polls at once", NULL,
     OPTS(o_sync), 1, 1, cli_run_sync},
    {"backfill", "<connection_id>", "re-read a date window (on-demand backfill)",
     "The fetcher re-reads the window [--from, --to] of each resource without moving its\n"
     "cursors; the writer's upserts make re-reading safe.",
     OPTS(o_backfill), 1, 1, cli_run_backfill},
    {"request", "<request_id>", "progress of a sync or backfill request", NULL, OPTS(o_request), 1,
     1, cli_run_request},
    {"status", "[connection_id]", "live sync status per resource (--watch: progress, rate, ETA)",
     "From the fetcher's admin port when it answers, else from the database's sync_status.\n"
     "PROGRESS is the backfill cursor's position between the resource's oldest data and now;\n"
     "IN DB counts the rows stored (one connection only).",
     OPTS(o_status), 0, 1, cli_run_status},
    {"dlq list", "", "records in the dead-letter topic (newest last)", NULL, OPTS(o_dlq_list), 0, 0,
     cli_run_dlq_list},
    {"dlq show", "<partition:offset>", "one dead-letter record in full", NULL, NULL, 0, 1, 1,
     cli_run_dlq_show},
    {"dlq replay", "[partition:offset...]", "send records back to the topic they came from",
     "Produces the original key, value and headers (without dlq_*) to the dlq_topic\n"
     "header's topic; the record stays in the dead-letter topic.",
     OPTS(o_dlq_replay), 0, CLI_MAX_POS, cli_run_dlq_replay},
    {"resources", "[connection_id]", "the entities the pipeline keeps, and rows stored per entity",
     "One line per entity of the registry (common/entities.h): its topic, table, how and how\n"
     "often the fetcher polls it. With a connection, IN DB counts its rows.",
     NULL, 0, 0, 1, cli_run_resources},
    {"records", "<connection_id> <resource>", "a connection's newest records of one entity", NULL,
     OPTS(o_records), 2, 2, cli_run_records},
    {"changes", "[connection_id]", "values not stored as sent (the value policy), newest first",
     "A value that could not be cast to its field's type (a date that is not a date, text\n"
     "where a number belongs) is stored as null and its record lists the change; the raw\n"
     "topic keeps the original. One line per change of the newest changed records of every\n"
     "entity (--limit records). normalizer_value_changes_total counts them by field.",
     OPTS(o_changes), 0, 1, cli_run_changes},
    {"rebuild", "", "rebuild a fresh database from the raw topic, with progress",
     "Runs a normalizer that reads the raw topic from the beginning into topics of the\n"
     "rebuild's own prefix (rebuild-<id>.), and a writer that applies them to the new\n"
     "database without publishing, each in a consumer group of its own; the purge markers\n"
     "are carried over. Ends when both have caught up with the raw topic as it was when\n"
     "the rebuild began. The live pipeline is not touched (docs/operations.md).",
     OPTS(o_rebuild), 0, 0, cli_run_rebuild},
    {"inventory", "<connection_id>", "stock per SKU across warehouses, every breakdown", NULL,
     OPTS(o_inventory), 1, 1, cli_run_inventory},
    {"orders", "<connection_id>", "a connection's newest orders", NULL, OPTS(o_orders), 1, 1,
     cli_run_orders},
    {"config", "", "the settings in effect (secrets masked)", NULL, NULL, 0, 0, 0, run_config},
};
const int cli_ncommands = N(cli_commands);
