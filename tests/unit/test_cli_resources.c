/* test_cli_resources.c - tsctl follows the registry (common/entities.h): `tsctl
 * resources` lists every entity with its topic, table and function, the row counts of
 * `status` and `resources` count every entity's table, and resource lists take every
 * name of every entity. An entity in the registry but missing from tsctl fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entities.h"
#include "tools/tsctl/cli_cmds.h"
#include "tools/tsctl/cli_out.h"

/* What cli_print_resources printed, NUL-terminated (the caller frees it). */
static char *printed(int json, const int64_t *stored) {
    char *buf = NULL;
    size_t len = 0;
    cli_ctx ctx = {.prog = "tsctl", .json = json};
    ctx.out = open_memstream(&buf, &len);
    assert_non_null(ctx.out);
    assert_int_equal(cli_print_resources(&ctx, stored), 0);
    fclose(ctx.out);
    return buf;
}

static void listing_has_every_entity(void **state) {
    (void)state;
    int64_t stored[TS_ENTITY_COUNT];
    for (int e = 0; e < TS_ENTITY_COUNT; e++)
        stored[e] = 100 + e;
    char *text = printed(1, stored);
    cJSON *arr = cJSON_Parse(text);
    assert_true(cJSON_IsArray(arr));
    assert_int_equal(cJSON_GetArraySize(arr), TS_ENTITY_COUNT);
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        const cJSON *o = cJSON_GetArrayItem(arr, e);
        const ts_entity *t = &ts_entities[e];
        assert_string_equal(cli_jstr(o, "resource"), t->name);
        assert_string_equal(cli_jstr(o, "entity"), t->entity);
        assert_string_equal(cli_jstr(o, "topic"), t->topic);
        assert_string_equal(cli_jstr(o, "table"), t->table);
        assert_string_equal(cli_jstr(o, "function"), t->function);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "stored_records");
        assert_true(cJSON_IsNumber(n));
        assert_int_equal((int)n->valuedouble, 100 + e);
    }
    cJSON_Delete(arr);
    free(text);

    text = printed(0, NULL);
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        if (!strstr(text, ts_entities[e].topic))
            fail_msg("no %s in:\n%s", ts_entities[e].topic, text);
        assert_non_null(strstr(text, ts_entities[e].function));
    }
    assert_null(strstr(text, "IN DB")); /* no connection given: no counts column */
    free(text);
}

/* One count per entity, over its table, named by its resource. */
static void counts_cover_every_table(void **state) {
    (void)state;
    char *sql = cli_counts_sql(), want[256];
    assert_non_null(sql);
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        snprintf(want, sizeof want, "SELECT '%s' AS resource, count(*) AS n FROM \"%s\" WHERE",
                 ts_entities[e].name, ts_entities[e].table);
        if (!strstr(sql, want)) fail_msg("no \"%s\" in %s", want, sql);
    }
    int unions = 0;
    for (const char *p = strstr(sql, "UNION ALL"); p; p = strstr(p + 1, "UNION ALL"))
        unions++;
    assert_int_equal(unions, TS_ENTITY_COUNT - 1);
    free(sql);
}

static void resource_lists_take_every_name(void **state) {
    (void)state;
    char err[1024];
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        /* by its function, unless that is another's (get_orders names orders) */
        const char *fn = ts_entities[e].function;
        cJSON *l =
            cli_res_list(ts_entity_owns_function(e) ? fn : ts_entities[e].name, err, sizeof err);
        assert_non_null(l);
        assert_string_equal(cJSON_GetArrayItem(l, 0)->valuestring, ts_entities[e].name);
        cJSON_Delete(l);
    }
    cJSON *l = cli_res_list("warehouse-locations,billing,get_inbound_shipment", err, sizeof err);
    assert_non_null(l);
    char *s = cJSON_PrintUnformatted(l);
    assert_string_equal(s, "[\"warehouse_locations\",\"inbound_shipments\",\"bills\"]");
    free(s);
    cJSON_Delete(l);
    assert_null(cli_res_list("orders,widgets", err, sizeof err));
    for (int e = 0; e < TS_ENTITY_COUNT; e++) /* the message names every resource */
        assert_non_null(strstr(err, ts_entities[e].name));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listing_has_every_entity),
        cmocka_unit_test(counts_cover_every_table),
        cmocka_unit_test(resource_lists_take_every_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
