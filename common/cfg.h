/* cfg.h - configuration from environment variables, driven by one table per binary.
 *
 * Each binary declares a cfg_var table (name, type, default, bounds, secret flag, help).
 * cfg_load() reads the environment, validates every value and fills the targets; on a
 * bad value it names the variable. The same table prints --help and the start-up log
 * line (secrets masked), so the three can never disagree.
 */
#ifndef TS_CFG_H
#define TS_CFG_H

#include <stddef.h>

/* CFG_FILE: the variable names a file; its content (read once, at most 1 MiB, malloc'd:
 * the caller frees it before loading the table again) becomes the value ("" when the
 * variable is unset or empty). The path, not the content, is
 * what --help and the start-up log show, so the content may hold secrets while the
 * variable itself is not one. */
typedef enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_FILE } cfg_type;

#define CFG_SECRET 0x1   /* never printed or logged */
#define CFG_REQUIRED 0x2 /* must be set and non-empty */

typedef struct cfg_var {
    const char *name; /* environment variable, e.g. "WEBHOOK_GW_PORT" */
    cfg_type type;
    const char *def;    /* default as text; NULL = no default */
    long long min, max; /* bounds for CFG_INT (inclusive) */
    int flags;
    const char *help;
    void *target; /* char ** (into the environment or def, or a malloc'd file content that
                   lives as long as the process), long long *, int * */
} cfg_var;

/* Fill every target. Returns 0, or -1 with "VAR: reason" in errstr. */
int cfg_load(const cfg_var *vars, size_t n, char *errstr, size_t errlen);

/* Print the table as help text to stdout. */
void cfg_print_help(const char *prog, const char *summary, const cfg_var *vars, size_t n);

/* Log one line with every effective value, secrets masked. */
void cfg_log(const cfg_var *vars, size_t n);

/* The standard start-up for a stage binary: handles --help, loads the table, and on
 * error prints "prog: VAR: reason" and returns -1 (main then exits 2). */
int cfg_main(int argc, char **argv, const char *summary, const cfg_var *vars, size_t n);

#endif
