/* db_version.c - the order of a record's versions (see db_version.h). */
#include "writer/db_version.h"

#include <stdio.h>
#include <string.h>

#include "values.h"
#include "writer/db_stage.h"

#define TIE_COL "trackstar_updated_at"
#define SOURCE_COL "source"

static const wdb_col *col_named(const wdb_spec *s, const char *name) {
    for (int i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0) return &s->cols[i];
    return NULL;
}

static const char *path_of(const wdb_col *c) {
    return c->path ? c->path : c->name;
}

int wdb_version_total(const wdb_spec *s) {
    const wdb_col *t = col_named(s, TIE_COL), *src = col_named(s, SOURCE_COL);
    return t && src && t->type == WDB_TS && !t->path && !src->path;
}

/* A top-level timestamp member: 0 with *us (WDB_VERSION_NULL when absent or null if
 * nullable), -1 when it is missing but required, or not a canonical RFC 3339 string
 * (val_time_canonical: what the normalizer writes). */
static int ts_member(const cJSON *rec, const char *name, int nullable, int64_t *us) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, name);
    if (!v || cJSON_IsNull(v)) {
        *us = WDB_VERSION_NULL;
        return nullable ? 0 : -1;
    }
    int64_t ms;
    if (!cJSON_IsString(v) || val_time_canonical(v->valuestring, &ms) != 0) return -1;
    *us = ms * 1000;
    return 0;
}

int wdb_version_of(const wdb_spec *s, const cJSON *rec, wdb_version *v, char *reason, size_t rlen) {
    const wdb_col *vc = col_named(s, s->version_col);
    const char *vp = vc ? path_of(vc) : s->version_col;
    *v = (wdb_version){.trackstar_us = WDB_VERSION_NULL};
    if (!vc || strchr(vp, '.') || ts_member(rec, vp, 0, &v->source_us) != 0) {
        snprintf(reason, rlen, "missing or invalid %s (canonical RFC 3339 expected)", vp);
        return -1;
    }
    if (!wdb_version_total(s)) return 0;
    if (ts_member(rec, TIE_COL, 1, &v->trackstar_us) != 0) {
        snprintf(reason, rlen, "invalid %s (canonical RFC 3339 expected)", TIE_COL);
        return -1;
    }
    const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, SOURCE_COL));
    v->poll = src && strcmp(src, "poll") == 0;
    return 0;
}

int wdb_version_cmp(const wdb_version *a, const wdb_version *b) {
    if (a->source_us != b->source_us) return a->source_us < b->source_us ? -1 : 1;
    if (a->trackstar_us != b->trackstar_us) return a->trackstar_us < b->trackstar_us ? -1 : 1;
    return 0;
}

int wdb_version_replaces(const wdb_version *incoming, const wdb_version *held,
                         int content_differs) {
    int c = wdb_version_cmp(incoming, held);
    if (c != 0) return c > 0;
    return incoming->poll && content_differs;
}

int wdb_version_prefer(const wdb_version *a, int a_item, const wdb_version *b, int b_item) {
    int c = wdb_version_cmp(a, b);
    if (c != 0) return -c; /* newer first */
    if (a->poll != b->poll) return a->poll ? -1 : 1;
    if (a_item == b_item) return 0;
    if (a->poll) return a_item > b_item ? -1 : 1; /* the last poll */
    return a_item < b_item ? -1 : 1;              /* the first webhook */
}

int wdb_version_sql_guard(const wdb_spec *s, sbuf *o) {
    const char *v = s->version_col, *r = s->record_col;
    /* Newer source_updated_at wins; t."v" IS NULL: the first version of a column group
     * (connections rows are filled by several specs). */
    int rc = sbuf_printf(
        o, "t.\"%s\" IS NULL OR t.\"%s\" < EXCLUDED.\"%s\" OR (t.\"%s\" = EXCLUDED.\"%s\" AND ", v,
        v, v, v, v);
    if (!wdb_version_total(s)) {
        /* the plain rule: on an equal version a different record replaces */
        rc |= sbuf_printf(o, "t.\"%s\" IS DISTINCT FROM EXCLUDED.\"%s\")", r, r);
        return rc ? -1 : 0;
    }
    rc |= sbuf_printf(
        o,
        "((EXCLUDED.\"" TIE_COL "\" IS NOT NULL AND (t.\"" TIE_COL "\" IS NULL OR t.\"" TIE_COL
        "\" < EXCLUDED.\"" TIE_COL "\")) OR (t.\"" TIE_COL
        "\" IS NOT DISTINCT FROM EXCLUDED.\"" TIE_COL "\" AND EXCLUDED.\"" SOURCE_COL
        "\" = 'poll' AND (t.\"%s\" - '" WDB_OBSERVATION_KEYS
        "'::text[]) IS DISTINCT FROM (EXCLUDED.\"%s\" - '" WDB_OBSERVATION_KEYS "'::text[]))))",
        r, r);
    return rc ? -1 : 0;
}
