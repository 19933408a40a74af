/* cli_args.c - command lookup and option parsing for tsctl (see cli_args.h). */
#include "cli_args.h"

#include <stdio.h>
#include <string.h>

static int find_opt(const cli_opt *opts, int nopts, const char *name, size_t len) {
    for (int i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return i;
    return -1;
}

int cli_args_parse(const cli_opt *opts, int nopts, int min_pos, int max_pos, int argc, char **argv,
                   cli_args *out, char *errstr, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (nopts > CLI_MAX_OPTS) {
        snprintf(errstr, errlen, "too many options in the command table");
        return -1;
    }
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (!only_pos && strcmp(w, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0)) {
            out->help = 1;
            continue;
        }
        if (!only_pos && strcmp(w, "--json") == 0) {
            out->json = 1;
            continue;
        }
        if (!only_pos && w[0] == '-' && w[1] == '-') {
            const char *name = w + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            int k = find_opt(opts, nopts, name, len);
            if (k < 0) {
                snprintf(errstr, errlen, "unknown option --%.*s", (int)len, name);
                return -1;
            }
            if (!opts[k].has_arg) {
                if (eq) {
                    snprintf(errstr, errlen, "option --%s takes no value", opts[k].name);
                    return -1;
                }
                out->vals[k] = "";
            } else if (eq) {
                out->vals[k] = eq + 1;
            } else if (i + 1 < argc) {
                out->vals[k] = argv[++i];
            } else {
                snprintf(errstr, errlen, "option --%s needs a value", opts[k].name);
                return -1;
            }
            continue;
        }
        if (!only_pos && w[0] == '-' && w[1] != '\0') {
            snprintf(errstr, errlen, "unknown option %s", w);
            return -1;
        }
        if (out->npos >= CLI_MAX_POS) {
            snprintf(errstr, errlen, "too many arguments");
            return -1;
        }
        out->pos[out->npos++] = w;
    }
    if (out->help) return 0;
    if (out->npos < min_pos) {
        snprintf(errstr, errlen, "missing argument (expected %d, got %d)", min_pos, out->npos);
        return -1;
    }
    if (out->npos > max_pos) {
        snprintf(errstr, errlen, "unexpected argument '%s'", out->pos[max_pos]);
        return -1;
    }
    return 0;
}

const char *cli_arg(const cli_args *a, const cli_opt *opts, int nopts, const char *name) {
    int k = find_opt(opts, nopts, name, strlen(name));
    return k < 0 ? NULL : a->vals[k];
}

/* Split a command path into words; returns the count. */
static int path_words(const char *path, char words[CLI_MAX_WORDS][32]) {
    int n = 0;
    const char *p = path;
    while (*p && n < CLI_MAX_WORDS) {
        while (*p == ' ')
            p++;
        size_t l = strcspn(p, " ");
        if (!l) break;
        snprintf(words[n++], 32, "%.*s", (int)(l < 31 ? l : 31), p);
        p += l;
    }
    return n;
}

const cli_cmd *cli_cmd_find(const cli_cmd *cmds, int ncmds, int argc, char **argv, int *consumed,
                            int *prefix_words) {
    /* The command words are the leading words before the first option. */
    int idx[CLI_MAX_WORDS], nw = 0;
    for (int i = 0; i < argc && nw < CLI_MAX_WORDS && argv[i][0] != '-'; i++)
        idx[nw++] = i;
    const cli_cmd *best = NULL;
    int best_n = 0, most_prefix = 0;
    for (int c = 0; c < ncmds; c++) {
        char words[CLI_MAX_WORDS][32];
        int n = path_words(cmds[c].path, words), m = 0;
        while (m < n && m < nw && strcmp(words[m], argv[idx[m]]) == 0)
            m++;
        if (m > most_prefix) most_prefix = m;
        if (m == n && n > best_n) {
            best = &cmds[c];
            best_n = n;
        }
    }
    *consumed = best ? idx[best_n - 1] + 1 : 0;
    *prefix_words = most_prefix;
    return best;
}

void cli_cmd_help(FILE *out, const char *prog, const cli_cmd *cmd) {
    fprintf(out, "usage: %s %s%s%s [options]\n\n%s\n", prog, cmd->path, *cmd->usage ? " " : "",
            cmd->usage, cmd->summary);
    if (cmd->details) fprintf(out, "\n%s\n", cmd->details);
    fprintf(out, "\noptions:\n");
    for (int i = 0; i < cmd->nopts; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", cmd->opts[i].name, cmd->opts[i].has_arg ? " " : "",
                 cmd->opts[i].has_arg ? cmd->opts[i].metavar : "");
        fprintf(out, "  %-28s %s\n", left, cmd->opts[i].help);
    }
    fprintf(out, "  %-28s %s\n", "--json", "machine-readable JSON on stdout instead of a table");
    fprintf(out, "  %-28s %s\n", "-h, --help", "this help");
}

void cli_cmd_list(FILE *out, const cli_cmd *cmds, int ncmds, const char *prefix) {
    size_t pl = prefix ? strlen(prefix) : 0;
    for (int c = 0; c < ncmds; c++) {
        if (pl && (strncmp(cmds[c].path, prefix, pl) != 0 ||
                   (cmds[c].path[pl] != ' ' && cmds[c].path[pl] != '\0')))
            continue;
        char left[80];
        snprintf(left, sizeof left, "%s%s%s", cmds[c].path, *cmds[c].usage ? " " : "",
                 cmds[c].usage);
        fprintf(out, "  %-40s %s\n", left, cmds[c].summary);
    }
}

int cli_split_list(const char *value, char *buf, size_t bufsz, const char **items, int max,
                   char *errstr, size_t errlen) {
    size_t len = strlen(value);
    if (len + 1 > bufsz) {
        snprintf(errstr, errlen, "list too long");
        return -1;
    }
    memcpy(buf, value, len + 1);
    int n = 0;
    char *p = buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        while (*p == ' ')
            p++;
        char *end = p + strlen(p);
        while (end > p && end[-1] == ' ')
            *--end = '\0';
        if (!*p) {
            snprintf(errstr, errlen, "empty item in list '%s'", value);
            return -1;
        }
        if (n >= max) {
            snprintf(errstr, errlen, "more than %d items in list", max);
            return -1;
        }
        items[n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}
