/* cli_args.h - tsctl's command line: a table of commands (each a path of words such
 * as "link magic create"), each with its own option table, and a parser that turns
 * argv into positional arguments and option values. --help/-h and --json are
 * understood everywhere, before or after the command words.
 */
#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <stddef.h>
#include <stdio.h>

#define CLI_MAX_OPTS 24 /* options per command */
#define CLI_MAX_POS 16  /* positional arguments per command */
#define CLI_MAX_WORDS 3 /* words in a command path */
#define CLI_MAX_LIST 64 /* items in a comma-separated option value */

typedef struct cli_opt {
    const char *name;    /* long name without "--", e.g. "connection" */
    int has_arg;         /* 1: takes a value (--name v or --name=v); 0: a flag */
    const char *metavar; /* shown in help for options with a value */
    const char *help;
} cli_opt;

/* The parsed command line. Pointers point into argv (not copied, not freed). */
typedef struct cli_args {
    const char *vals[CLI_MAX_OPTS]; /* per option in table order; flags get "" when set */
    const char *pos[CLI_MAX_POS];
    int npos;
    int help; /* --help or -h seen */
    int json; /* --json seen */
} cli_args;

struct cli_ctx;
struct cli_cmd;
typedef int (*cli_run_fn)(struct cli_ctx *ctx, const struct cli_cmd *cmd, const cli_args *a);

typedef struct cli_cmd {
    const char *path;    /* "link magic create" */
    const char *usage;   /* positional synopsis, e.g. "<magic_link_id>" ("" when none) */
    const char *summary; /* one line */
    const char *details; /* more help text, or NULL */
    const cli_opt *opts;
    int nopts;
    int min_pos, max_pos;
    cli_run_fn run;
} cli_cmd;

/* Parse argv[0..argc) (the words after the command path) against opts. Unknown
 * options, missing values, and a positional count outside [min_pos, max_pos] are
 * errors (-1 with errstr), except that with --help the counts are not checked. */
int cli_args_parse(const cli_opt *opts, int nopts, int min_pos, int max_pos, int argc, char **argv,
                   cli_args *out, char *errstr, size_t errlen);

/* The value of option name (NULL when absent or unknown). */
const char *cli_arg(const cli_args *a, const cli_opt *opts, int nopts, const char *name);
#define CLI_ARG(a, cmd, name) cli_arg((a), (cmd)->opts, (cmd)->nopts, (name))

/* Find the command whose path matches the most leading words of argv (the words
 * before the first option; main() takes global options off first, so
 * `tsctl --json dlq list` works). *consumed gets the index in argv
 * just after the last matched word. NULL when no command matches a whole path;
 * *prefix_words then tells how many words matched some path's beginning (for
 * listing the subcommands of "link"). */
const cli_cmd *cli_cmd_find(const cli_cmd *cmds, int ncmds, int argc, char **argv, int *consumed,
                            int *prefix_words);

/* Help: one command in full, or the commands starting with prefix (NULL = all). */
void cli_cmd_help(FILE *out, const char *prog, const cli_cmd *cmd);
void cli_cmd_list(FILE *out, const cli_cmd *cmds, int ncmds, const char *prefix);

/* Split a comma-separated value into items (empty items refused). items point into
 * buf, a copy the caller provides (bufsz bytes). Returns the count or -1. */
int cli_split_list(const char *value, char *buf, size_t bufsz, const char **items, int max,
                   char *errstr, size_t errlen);

#endif
