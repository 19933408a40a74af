/* cli_env.h - reads a stack.env file (deploy/stack/stack.sh writes one) into the
 * process environment, so `tsctl --env var/stack.env` reaches a stack without the
 * operator sourcing anything. The format is the subset of shell assignments such
 * files use: KEY=value, optional `export `, '...' and "..." quoting, # comments.
 * Anything a shell would expand ($VAR, `cmd`) is refused rather than misread.
 */
#ifndef CLI_ENV_H
#define CLI_ENV_H

#include <stddef.h>

#define CLI_ENV_MAX_LINE 4096 /* longest line accepted */
#define CLI_ENV_MAX_KEY 128   /* longest variable name */
#define CLI_ENV_MAX_VARS 512  /* assignments per file */

/* Parse one line. Returns 1 with key and value filled, 0 for a blank or comment line,
 * -1 with errstr for anything else. key/val are caller buffers of klen/vlen bytes. */
int cli_env_parse_line(const char *line, char *key, size_t klen, char *val, size_t vlen,
                       char *errstr, size_t errlen);

/* Load path and setenv() every assignment. With overwrite 0 a variable already set
 * in the environment keeps its value. Returns the number of assignments, or -1 with
 * "path:line: reason" in errstr (nothing after the bad line is applied). Values are
 * never copied into errstr: the file holds secrets. */
int cli_env_load(const char *path, int overwrite, char *errstr, size_t errlen);

#endif
