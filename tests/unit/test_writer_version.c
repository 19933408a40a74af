/* test_writer_version.c - the order of a record's versions (writer/db_version.h): a newer
 * (source_updated_at, trackstar_updated_at) wins; an older Trackstar copy with an equal
 * updated_date loses, even arriving last; the same version replayed is a no-op; under one
 * version only a poll replaces content; a batch's reduction picks what applying every
 * item in order would leave; and the SQL guard is built from the same rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "writer/db_spec.h"
#include "writer/db_version.h"

#define T0 1767690000000000LL /* 2026-01-06T09:00:00Z in microseconds */
#define S 1000000LL

static const wdb_spec *orders(void) {
    return wdb_specs[wdb_spec_find("wms.orders.v1", "order", NULL)];
}

static wdb_version ver(int64_t src, int64_t ts, int poll) {
    return (wdb_version){.source_us = src, .trackstar_us = ts, .poll = poll};
}

static void test_version_of_record(void **state) {
    (void)state;
    char reason[128];
    wdb_version v;
    cJSON *r = cJSON_Parse("{\"source\":\"poll\",\"source_updated_at\":\"2026-01-06T09:00:00Z\","
                           "\"trackstar_updated_at\":\"2026-01-06T09:00:05Z\"}");
    assert_int_equal(wdb_version_total(orders()), 1);
    assert_int_equal(wdb_version_of(orders(), r, &v, reason, sizeof reason), 0);
    assert_true(v.source_us == T0 && v.trackstar_us == T0 + 5 * S && v.poll == 1);
    cJSON_ReplaceItemInObject(r, "trackstar_updated_at", cJSON_CreateNull());
    cJSON_ReplaceItemInObject(r, "source", cJSON_CreateString("webhook"));
    assert_int_equal(wdb_version_of(orders(), r, &v, reason, sizeof reason), 0);
    assert_true(v.trackstar_us == WDB_VERSION_NULL && v.poll == 0);
    cJSON_ReplaceItemInObject(r, "trackstar_updated_at", cJSON_CreateString("yesterday"));
    assert_int_equal(wdb_version_of(orders(), r, &v, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "trackstar_updated_at"));
    cJSON_DeleteItemFromObject(r, "source_updated_at");
    assert_int_equal(wdb_version_of(orders(), r, &v, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "source_updated_at"));
    cJSON_Delete(r);
    /* connection-level specs keep the plain rule */
    assert_int_equal(wdb_version_total(wdb_specs[wdb_spec_find(
                         "wms.connection_events.v1", "connection_event", "connection_created")]),
                     0);
}

static void test_order(void **state) {
    (void)state;
    wdb_version a = ver(T0, T0 + 5 * S, 0), b = ver(T0 + S, WDB_VERSION_NULL, 0);
    assert_true(wdb_version_cmp(&a, &b) < 0); /* source_updated_at first */
    assert_true(wdb_version_cmp(&b, &a) > 0);
    wdb_version c = ver(T0, T0 + 6 * S, 0), d = ver(T0, WDB_VERSION_NULL, 1);
    assert_true(wdb_version_cmp(&a, &c) < 0); /* then trackstar_updated_at */
    assert_true(wdb_version_cmp(&d, &a) < 0); /* null is older than any date */
    wdb_version e = ver(T0, T0 + 5 * S, 1);
    assert_int_equal(wdb_version_cmp(&a, &e), 0); /* how it was observed is no part of it */
}

static void test_older_copy_equal_updated_date_loses(void **state) {
    (void)state;
    /* Trackstar's copy changed twice within one WMS second: the older copy arriving last
     * (a late webhook, or a poll that read it before the change) loses. */
    wdb_version newer = ver(T0, T0 + 9 * S, 0), older = ver(T0, T0 + 4 * S, 0);
    assert_int_equal(wdb_version_replaces(&older, &newer, 1), 0);
    older.poll = 1;
    assert_int_equal(wdb_version_replaces(&older, &newer, 1), 0);
    assert_int_equal(wdb_version_replaces(&newer, &older, 1), 1);
}

static void test_replay_is_noop(void **state) {
    (void)state;
    wdb_version v = ver(T0, T0 + 5 * S, 0);
    assert_int_equal(wdb_version_replaces(&v, &v, 0), 0);
    v.poll = 1;
    assert_int_equal(wdb_version_replaces(&v, &v, 0), 0); /* a poll of the same content too */
    wdb_version w = ver(T0, WDB_VERSION_NULL, 1);
    assert_int_equal(wdb_version_replaces(&w, &w, 0), 0);
}

static void test_same_version_other_content(void **state) {
    (void)state;
    /* The 2025 API, updated_date untouched (a quantity-only change): only a poll, which
     * read the copy as it is now, replaces; a webhook may be a late delivery. */
    wdb_version held = ver(T0, WDB_VERSION_NULL, 0);
    wdb_version hook = ver(T0, WDB_VERSION_NULL, 0), poll = ver(T0, WDB_VERSION_NULL, 1);
    assert_int_equal(wdb_version_replaces(&hook, &held, 1), 0);
    assert_int_equal(wdb_version_replaces(&poll, &held, 1), 1);
    held.poll = 1;
    assert_int_equal(wdb_version_replaces(&hook, &held, 1), 0);
    assert_int_equal(wdb_version_replaces(&poll, &held, 1), 1);
}

/* Apply items one by one from held (content ids stand for contents) and compare with
 * applying only the item wdb_version_prefer puts first. */
typedef struct obs {
    wdb_version v;
    int content;
} obs;

static obs fold(obs held, const obs *items, int n) {
    for (int i = 0; i < n; i++)
        if (wdb_version_replaces(&items[i].v, &held.v, items[i].content != held.content))
            held = items[i];
    return held;
}

static void test_batch_reduction_equals_sequence(void **state) {
    (void)state;
    /* every mix of up to 5 observations over 2 versions, 2 sources and 3 contents,
     * against several held rows */
    obs kinds[12];
    int nk = 0;
    for (int v = 0; v < 2; v++)
        for (int p = 0; p < 2; p++)
            for (int c = 0; c < 3; c++)
                kinds[nk++] = (obs){ver(T0 + v * S, WDB_VERSION_NULL, p), c};
    obs helds[] = {{ver(T0 - S, WDB_VERSION_NULL, 0), 9},
                   {ver(T0, WDB_VERSION_NULL, 0), 0},
                   {ver(T0, WDB_VERSION_NULL, 1), 1},
                   {ver(T0 + S, WDB_VERSION_NULL, 0), 2},
                   {ver(T0 + 2 * S, WDB_VERSION_NULL, 1), 2}};
    long cases = 0;
    uint64_t rng = 12345;
    for (int round = 0; round < 20000; round++) {
        obs items[5];
        int n = 1 + (int)(round % 5);
        for (int i = 0; i < n; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            items[i] = kinds[(rng >> 33) % (uint64_t)nk];
        }
        int best = 0;
        for (int i = 1; i < n; i++)
            if (wdb_version_prefer(&items[i].v, i, &items[best].v, best) < 0) best = i;
        for (size_t h = 0; h < sizeof helds / sizeof helds[0]; h++) {
            obs seq = fold(helds[h], items, n), one = fold(helds[h], &items[best], 1);
            assert_int_equal(seq.content, one.content);
            assert_int_equal(wdb_version_cmp(&seq.v, &one.v), 0);
            cases++;
        }
    }
    assert_true(cases == 100000);
}

static void test_sql_guard(void **state) {
    (void)state;
    sbuf o = {0};
    assert_int_equal(wdb_version_sql_guard(orders(), &o), 0);
    /* the same rule: newer source_updated_at, newer trackstar_updated_at (null oldest),
     * and under one version a poll with different content (observation keys aside) */
    assert_non_null(strstr(o.p, "t.\"source_updated_at\" < EXCLUDED.\"source_updated_at\""));
    assert_non_null(strstr(o.p, "t.\"trackstar_updated_at\" IS NULL OR t.\"trackstar_updated_at\" "
                                "< EXCLUDED.\"trackstar_updated_at\""));
    assert_non_null(strstr(o.p, "EXCLUDED.\"source\" = 'poll'"));
    assert_non_null(strstr(o.p, "(t.\"record\" - '" WDB_OBSERVATION_KEYS
                                "'::text[]) IS DISTINCT FROM (EXCLUDED.\"record\" - '"));
    sbuf_free(&o);
    const wdb_spec *plain =
        wdb_specs[wdb_spec_find("wms.connection_events.v1", "connection_event", "sync_status")];
    assert_int_equal(wdb_version_sql_guard(plain, &o), 0);
    assert_null(strstr(o.p, "poll"));
    assert_non_null(strstr(o.p, "t.\"record\" IS DISTINCT FROM EXCLUDED.\"record\""));
    sbuf_free(&o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_of_record),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_older_copy_equal_updated_date_loses),
        cmocka_unit_test(test_replay_is_noop),
        cmocka_unit_test(test_same_version_other_content),
        cmocka_unit_test(test_batch_reduction_equals_sequence),
        cmocka_unit_test(test_sql_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
