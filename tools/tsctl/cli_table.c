/* cli_table.c - text rendering for people (see cli_table.h). Everything is measured
 * in code points so that a warehouse name with an accent does not shift its row. */
#include "cli_table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define KV_KEY_WIDTH 24
#define FIT_BYTES                                                                                  \
    (4 * CLI_TABLE_MAX_WIDTH + 8) /* a fitted cell: 4 bytes per code point at most                 \
                                   */

size_t cli_text_width(const char *s) {
    size_t w = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) w++;
    return w;
}

char *cli_text_fit(const char *s, int maxw, char *out, size_t outlen) {
    if (outlen == 0) return out;
    if (!s) s = "-";
    int total = (int)cli_text_width(s);
    int keep = total > maxw ? (maxw > 3 ? maxw - 3 : 0) : total;
    size_t n = 0;
    int cp = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int start = (*p & 0xC0) != 0x80;
        if (start && cp == keep) break;
        /* a code point is copied whole or not at all */
        size_t need = 1;
        if (start) {
            need = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
            if (n + need + 4 > outlen) break;
            cp++;
        } else if (n + 1 >= outlen) {
            break;
        }
        out[n++] = (*p < 0x20 || *p == 0x7f) ? ' ' : (char)*p;
    }
    if (total > maxw && n + 4 <= outlen) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

int cli_table_init(cli_table *t, int ncols, const char *const *headers) {
    memset(t, 0, sizeof *t);
    if (ncols < 1 || ncols > CLI_TABLE_MAX_COLS) return -1;
    t->ncols = ncols;
    for (int c = 0; c < ncols; c++) {
        t->headers[c] = strdup(headers[c] ? headers[c] : "");
        t->maxw[c] = CLI_TABLE_CELL_WIDTH;
        if (!t->headers[c]) {
            cli_table_free(t);
            return -1;
        }
    }
    return 0;
}

void cli_table_align_right(cli_table *t, int col) {
    if (col >= 0 && col < t->ncols) t->right[col] = 1;
}

void cli_table_width(cli_table *t, int col, int maxw) {
    if (col >= 0 && col < t->ncols && maxw >= 4)
        t->maxw[col] = maxw > CLI_TABLE_MAX_WIDTH ? CLI_TABLE_MAX_WIDTH : maxw;
}

int cli_table_row(cli_table *t) {
    if (t->nrows >= CLI_TABLE_MAX_ROWS) return -1;
    if (t->nrows == t->cap) {
        int cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, (size_t)cap * (size_t)t->ncols * sizeof *c);
        if (!c) return -1;
        t->cells = c;
        t->cap = cap;
    }
    memset(&t->cells[(size_t)t->nrows * (size_t)t->ncols], 0, (size_t)t->ncols * sizeof(char *));
    t->nrows++;
    return 0;
}

int cli_table_cell(cli_table *t, int col, const char *val) {
    if (t->nrows == 0 || col < 0 || col >= t->ncols) return -1;
    char **slot = &t->cells[(size_t)(t->nrows - 1) * (size_t)t->ncols + (size_t)col];
    free(*slot);
    *slot = NULL;
    if (!val) return 0;
    *slot = strdup(val);
    return *slot ? 0 : -1;
}

int cli_table_cellf(cli_table *t, int col, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return cli_table_cell(t, col, buf);
}

static void pad(FILE *out, size_t n) {
    while (n--)
        fputc(' ', out);
}

/* One line: cells (already fitted) padded to widths; the last column unpadded. */
static void line(const cli_table *t, FILE *out, char fitted[][FIT_BYTES], const size_t *w) {
    for (int c = 0; c < t->ncols; c++) {
        size_t cw = cli_text_width(fitted[c]);
        int last = c == t->ncols - 1;
        if (t->right[c]) pad(out, w[c] - cw);
        fputs(fitted[c], out);
        if (!last) {
            if (!t->right[c]) pad(out, w[c] - cw);
            pad(out, CLI_TABLE_GAP);
        }
    }
    fputc('\n', out);
}

void cli_table_render(const cli_table *t, FILE *out) {
    size_t w[CLI_TABLE_MAX_COLS];
    /* static: 16 columns of the widest cells would be a large stack frame */
    static char fitted[CLI_TABLE_MAX_COLS][FIT_BYTES];
    char tmp[4096];
    for (int c = 0; c < t->ncols; c++) {
        w[c] = cli_text_width(cli_text_fit(t->headers[c], t->maxw[c], tmp, sizeof tmp));
        for (int r = 0; r < t->nrows; r++) {
            const char *v = t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            size_t cw = cli_text_width(cli_text_fit(v, t->maxw[c], tmp, sizeof tmp));
            if (cw > w[c]) w[c] = cw;
        }
    }
    for (int c = 0; c < t->ncols; c++)
        cli_text_fit(t->headers[c], t->maxw[c], fitted[c], sizeof fitted[c]);
    line(t, out, fitted, w);
    if (t->nrows == 0) fputs("(none)\n", out);
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++)
            cli_text_fit(t->cells[(size_t)r * (size_t)t->ncols + (size_t)c], t->maxw[c], fitted[c],
                         sizeof fitted[c]);
        line(t, out, fitted, w);
    }
}

void cli_table_free(cli_table *t) {
    for (int c = 0; c < t->ncols; c++)
        free(t->headers[c]);
    for (size_t i = 0; t->cells && i < (size_t)t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

void cli_kv(FILE *out, const char *key, const char *val) {
    char k[KV_KEY_WIDTH + 8], v[4096];
    snprintf(k, sizeof k, "%s:", key);
    fprintf(out, "%-*s %s\n", KV_KEY_WIDTH, k, cli_text_fit(val, 1000, v, sizeof v));
}

char *cli_bar(double fraction, int width, char *out, size_t outlen) {
    if (fraction != fraction || fraction < 0) fraction = 0; /* NaN too */
    if (fraction > 1) fraction = 1;
    if (width < 1) width = 1;
    if ((size_t)width + 10 > outlen) width = outlen > 10 ? (int)outlen - 10 : 0;
    int fill = (int)(fraction * width + 0.5);
    size_t n = 0;
    out[n++] = '[';
    for (int i = 0; i < width; i++)
        out[n++] = i < fill ? '#' : '.';
    snprintf(out + n, outlen - n, "] %3d%%",
             (int)(fraction * 100 + 0.5) > 100 ? 100 : (int)(fraction * 100 + 0.5));
    return out;
}

char *cli_duration(int64_t s, char *out, size_t outlen) {
    if (s < 0)
        snprintf(out, outlen, "-");
    else if (s < 60)
        snprintf(out, outlen, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(out, outlen, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400)
        snprintf(out, outlen, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        snprintf(out, outlen, "%lldd%02lldh", (long long)(s / 86400),
                 (long long)(s % 86400 / 3600));
    return out;
}
