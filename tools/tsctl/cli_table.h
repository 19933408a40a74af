/* cli_table.h - what tsctl prints for people: aligned tables with a header row,
 * "key: value" detail blocks, progress bars and short durations. Cells are
 * sanitised (control characters become spaces, so a multi-line error message
 * cannot break the layout) and cut to a bounded width. Widths count UTF-8 code
 * points, not bytes. For scripts every command prints JSON instead (--json).
 */
#ifndef CLI_TABLE_H
#define CLI_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_TABLE_MAX_COLS 16
#define CLI_TABLE_CELL_WIDTH 48 /* default widest cell, in code points */
#define CLI_TABLE_MAX_WIDTH 200 /* the most cli_table_width() allows */
#define CLI_TABLE_MAX_ROWS 1000000
#define CLI_TABLE_GAP 2 /* spaces between columns */

typedef struct cli_table {
    int ncols;
    char *headers[CLI_TABLE_MAX_COLS];
    int right[CLI_TABLE_MAX_COLS]; /* 1: right-aligned (numbers) */
    int maxw[CLI_TABLE_MAX_COLS];  /* widest cell shown */
    char **cells;                  /* nrows * ncols; NULL cells print as "-" */
    int nrows, cap;
} cli_table;

/* Headers are copied. 0 or -1 (too many columns or no memory). */
int cli_table_init(cli_table *t, int ncols, const char *const *headers);
/* Column options: right alignment, widest cell (4..CLI_TABLE_MAX_WIDTH). */
void cli_table_align_right(cli_table *t, int col);
void cli_table_width(cli_table *t, int col, int maxw);
/* Start a new row (every cell NULL). Returns 0 or -1. */
int cli_table_row(cli_table *t);
/* Set a cell of the last row (copied; NULL = "-"). Returns 0 or -1. */
int cli_table_cell(cli_table *t, int col, const char *val);
int cli_table_cellf(cli_table *t, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Print the header and every row; without rows, "(none)" under the header. */
void cli_table_render(const cli_table *t, FILE *out);
void cli_table_free(cli_table *t);

/* Display width of s in code points. */
size_t cli_text_width(const char *s);
/* Copy s into out (outlen bytes) with control characters replaced by spaces and at
 * most maxw code points, the last three "..." when it was cut. Returns out. */
char *cli_text_fit(const char *s, int maxw, char *out, size_t outlen);

/* "key:   value" with the keys padded to one column (NULL value = "-"). */
void cli_kv(FILE *out, const char *key, const char *val);

/* "[#######.............]  35%" in out; fraction is clamped to [0, 1]. */
char *cli_bar(double fraction, int width, char *out, size_t outlen);
/* "45s", "12m05s", "3h20m", "2d04h"; negative -> "-". */
char *cli_duration(int64_t seconds, char *out, size_t outlen);

#endif
