/* test_registry.c - the entity registry (common/entities.h): what each entry derives,
 * that every name a stage may meet finds exactly its entity, and the event families.
 *
 * Then the drift checks: everything outside C that must list every entity does, so
 * that an entity added to the registry and forgotten elsewhere fails here. They read
 * the repository's files relative to its root, where make runs the unit tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "entities.h"
#include "util.h"

/* The derived names follow their rules: wms.<name>.v1, get_<name>,
 * FETCHER_INTERVAL_<NAME>_S; and each entry is complete. */
static void entries_derive_their_names(void **state) {
    (void)state;
    char want[128];
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        const ts_entity *t = &ts_entities[e];
        snprintf(want, sizeof want, "wms.%s.v1", t->name);
        assert_string_equal(t->topic, want);
        /* get_<name>, or the function of the entity it is read WITH, which owns it */
        snprintf(want, sizeof want, "get_%s", t->name);
        if (ts_entity_owns_function(e)) {
            assert_string_equal(t->function, want);
        } else {
            int with = ts_entity_lookup(t->function);
            assert_true(with >= 0 && with != e && ts_entity_owns_function(with));
            assert_int_equal(t->on_request, ts_entities[with].on_request);
        }
        assert_true(ts_function_reads(t->function) & (1u << e));
        int n = snprintf(want, sizeof want, "FETCHER_INTERVAL_");
        for (const char *p = t->name; *p; p++)
            want[n++] = (char)toupper((unsigned char)*p);
        snprintf(want + n, sizeof want - (size_t)n, "_S");
        assert_string_equal(t->interval_env, want);
        assert_true(t->entity[0] && t->table[0] && t->prefix[0]);
        assert_true(t->path[0] == '/');
        assert_int_equal(strstr(t->path, "%s") != NULL,
                         t->poll == TS_POLL_PER_WAREHOUSE || t->poll == TS_POLL_PER_ORDER);
        assert_true(t->interval_s > 0);
        assert_non_null(t->events); /* TS_NONE: an empty list, not NULL */
    }
    /* No webhooks, no function of their own: read with get_orders / get_inbound_shipments,
     * listed completely (the reference documents no cursor) */
    assert_null(ts_entities[TS_ENT_ORDER_CHANNELS].events[0]);
    assert_null(ts_entities[TS_ENT_INBOUND_SHIPMENT_SUPPLIERS].events[0]);
    assert_string_equal(ts_entities[TS_ENT_ORDER_CHANNELS].function, "get_orders");
    assert_string_equal(ts_entities[TS_ENT_INBOUND_SHIPMENT_SUPPLIERS].function,
                        "get_inbound_shipments");
    assert_int_equal(ts_entities[TS_ENT_ORDER_CHANNELS].poll, TS_POLL_COMPLETE);
    assert_int_equal(ts_entities[TS_ENT_ORDER_CHANNELS].interval_s, 43200);
    assert_int_equal(ts_function_reads("get_orders"), (1u << TS_ENT_ORDERS) |
                                                          (1u << TS_ENT_ORDER_CHANNELS) |
                                                          (1u << TS_ENT_ORDER_PACKS));
    /* Packs: no webhooks, no function, one read per packed order */
    assert_null(ts_entities[TS_ENT_ORDER_PACKS].events[0]);
    assert_int_equal(ts_entities[TS_ENT_ORDER_PACKS].poll, TS_POLL_PER_ORDER);
    assert_int_equal(ts_function_reads("get_inbound_shipment"),
                     (1u << TS_ENT_INBOUND_SHIPMENTS) | (1u << TS_ENT_INBOUND_SHIPMENT_SUPPLIERS));
    assert_int_equal(ts_function_reads("get_products"), 1u << TS_ENT_PRODUCTS);
    assert_int_equal(ts_function_reads("get_labor_activities"), 1u << TS_ENT_LABOR_ACTIVITIES);
    assert_int_equal(ts_function_reads("get_cart_orders"), 0);
    assert_int_equal(ts_function_reads(NULL), 0);
    /* Reference §6.2. */
    assert_int_equal(ts_entities[TS_ENT_ORDERS].interval_s, 3600);
    assert_int_equal(ts_entities[TS_ENT_WAREHOUSES].interval_s, 43200);
    assert_int_equal(ts_entities[TS_ENT_INVENTORY].poll, TS_POLL_COMPLETE);
    assert_int_equal(ts_entities[TS_ENT_BILLS].on_request, 1);
    assert_int_equal(ts_entities[TS_ENT_ORDERS].on_request, 0);
}

/* Every name of an entity finds it, in both spellings; nothing else does. */
static void lookup_finds_each_entity_by_every_name(void **state) {
    (void)state;
    char other[128];
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        const ts_entity *t = &ts_entities[e];
        /* a function names the entity that owns it (get_orders: orders, not channels) */
        const char *names[] = {t->name, t->entity, t->prefix, t->function};
        size_t nnames = sizeof names / sizeof names[0] - !ts_entity_owns_function(e);
        for (size_t i = 0; i < nnames; i++) {
            assert_int_equal(ts_entity_lookup(names[i]), e);
            snprintf(other, sizeof other, "%s", names[i]);
            for (char *p = other; *p; p++)
                *p = *p == '-' ? '_' : *p == '_' ? '-' : *p;
            assert_int_equal(ts_entity_lookup(other), e);
        }
        for (const char *const *a = t->aliases; a && *a; a++)
            assert_int_equal(ts_entity_lookup(*a), e);
        assert_int_equal(ts_entity_by_topic(t->topic), e);
    }
    assert_int_equal(ts_entity_lookup("billing"), TS_ENT_BILLS);
    assert_int_equal(ts_entity_lookup("locations"), TS_ENT_WAREHOUSE_LOCATIONS);
    assert_int_equal(ts_entity_lookup("inbound-shipments"), TS_ENT_INBOUND_SHIPMENTS);
    assert_int_equal(ts_entity_lookup("get_inbound_shipment"), TS_ENT_INBOUND_SHIPMENTS);
    assert_int_equal(ts_entity_lookup("get_orders"), TS_ENT_ORDERS);
    assert_int_equal(ts_entity_lookup("get_labor_activities"), TS_ENT_LABOR_ACTIVITIES);
    assert_int_equal(ts_entity_lookup("get_cart_orders"), -1);
    assert_int_equal(ts_entity_lookup("Orders"), -1);
    assert_int_equal(ts_entity_lookup("orders "), -1);
    assert_int_equal(ts_entity_lookup("order.created"), -1);
    assert_int_equal(ts_entity_lookup(""), -1);
    assert_int_equal(ts_entity_lookup(NULL), -1);
    assert_int_equal(ts_entity_by_topic("wms.connection_events.v1"), -1);
    assert_int_equal(ts_entity_by_topic("acme.wms.orders.v1"), -1);
    assert_int_equal(ts_entity_by_topic(NULL), -1);
}

/* The families: the entities' first, in registry order, then the unmodelled ones, each
 * with a resource and a reason; no prefix twice (a webhook must find one family). */
static void families_cover_entities_then_the_rest(void **state) {
    (void)state;
    assert_true(ts_family_count > TS_ENTITY_COUNT);
    for (int i = 0; i < ts_family_count; i++) {
        const ts_family *f = &ts_families[i];
        if (i < TS_ENTITY_COUNT) {
            assert_int_equal(f->entity, i);
            assert_string_equal(f->prefix, ts_entities[i].prefix);
            assert_string_equal(f->resource, ts_entities[i].name);
            assert_null(f->ignored);
        } else {
            assert_int_equal(f->entity, -1);
            assert_non_null(f->ignored);
            assert_int_equal(ts_entity_lookup(f->resource), -1);
        }
        assert_ptr_equal(ts_family_by_prefix(f->prefix, strlen(f->prefix)), f);
        for (int j = i + 1; j < ts_family_count; j++)
            assert_false(ts_name_eq(f->prefix, strlen(f->prefix), ts_families[j].prefix));
    }
    const ts_family *f = ts_family_by_prefix("shipping_method.created", 15);
    assert_non_null(f);
    assert_int_equal(f->entity, TS_ENT_SHIPPING_METHODS);
    assert_int_equal(ts_family_event(f, "created", 7), 0);
    f = ts_family_by_prefix("inbound_shipment", 16);
    assert_true(ts_family_event(f, "receipt.created", 15) >= 0);
    assert_int_equal(ts_family_event(f, "receipt", 7), -1);
    assert_int_equal(ts_family_event(f, "deleted", 7), -1);
    /* The ledger's prefix has an underscore in the OpenAPI; the hyphen finds it too. */
    f = ts_family_by_prefix("inventory-ledger", 16);
    assert_non_null(f);
    assert_int_equal(f->entity, TS_ENT_INVENTORY_LEDGER);
    assert_int_equal(ts_entities[TS_ENT_INVENTORY_LEDGER].on_request, 1);
    /* No webhooks: the family is there (its name is the entity's), with no events. */
    f = ts_family_by_prefix("order-channel", 13);
    assert_non_null(f);
    assert_int_equal(f->entity, TS_ENT_ORDER_CHANNELS);
    assert_null(f->events[0]);
    assert_int_equal(ts_family_event(f, "created", 7), -1);
    /* The labor activities' prefix has an underscore too (always enabled, not on request). */
    f = ts_family_by_prefix("labor-activity", 14);
    assert_non_null(f);
    assert_int_equal(f->entity, TS_ENT_LABOR_ACTIVITIES);
    assert_int_equal(ts_entities[TS_ENT_LABOR_ACTIVITIES].on_request, 0);
    f = ts_family_by_prefix("cart-order", 10);
    assert_non_null(f);
    assert_int_equal(f->entity, -1);
    assert_null(ts_family_by_prefix("order", 4));
    assert_null(ts_family_by_prefix("widget", 6));
    assert_null(ts_family_by_prefix(NULL, 0));
}

static void name_eq_treats_dash_and_underscore_alike(void **state) {
    (void)state;
    assert_true(ts_name_eq("a-b_c", 5, "a_b-c"));
    assert_true(ts_name_eq("abc", 0, ""));
    assert_false(ts_name_eq("abc", 2, "abc"));
    assert_false(ts_name_eq("abc", 3, "ab"));
    assert_false(ts_name_eq("a.b", 3, "a_b"));
    assert_false(ts_name_eq("ABC", 3, "abc"));
}

/* ---- drift: the files that list the entities ------------------------------------ */

/* The whole file, NUL-terminated (the caller frees it); fails the test when absent. */
static char *slurp(const char *path) {
    sbuf b = {0};
    char chunk[8192];
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s: %s (the unit tests run from the repository root)", path,
                 strerror(errno));
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(sbuf_append(&b, chunk, n), 0);
    fclose(f);
    assert_int_equal(sbuf_append(&b, "", 1), 0);
    return b.p;
}

/* 1 when word occurs in text as a whole word ([a-z0-9_] on neither side). */
static int has_word(const char *text, const char *word) {
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        int before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
        int after = isalnum((unsigned char)p[n]) || p[n] == '_';
        if (!before && !after) return 1;
    }
    return 0;
}

/* The topic job creates two topics per entity (internal and public) from its list
 * `ENTITIES="orders ..."`: exactly the registry's. */
static void topic_script_lists_every_entity(void **state) {
    (void)state;
    char *sh = slurp("deploy/k8s/base/core/topics.sh");
    char *loop = strstr(sh, "\nENTITIES=\"");
    assert_non_null(loop);
    loop += strlen("\nENTITIES=\"");
    char *end = strchr(loop, '"');
    assert_non_null(end);
    *end = '\0';
    char *list = strdup(loop); /* strtok_r cuts it up */
    assert_non_null(list);
    int words = 0;
    for (char *save = NULL, *w = strtok_r(list, " \t\n\\", &save); w;
         w = strtok_r(NULL, " \t\n\\", &save), words++)
        if (ts_entity_lookup(w) < 0)
            fail_msg("topics.sh creates wms.%s.v1, which is no entity of the registry", w);
    for (int e = 0; e < TS_ENTITY_COUNT; e++)
        if (!has_word(loop, ts_entities[e].name))
            fail_msg("deploy/k8s/base/core/topics.sh does not create %s", ts_entities[e].topic);
    assert_int_equal(words, TS_ENTITY_COUNT);
    free(list);
    free(sh);
}

/* docs/schemas/<name>.schema.json: titled with the topic, entity the registry's. */
static void every_entity_has_a_schema(void **state) {
    (void)state;
    char path[256];
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        snprintf(path, sizeof path, "docs/schemas/%s.schema.json", ts_entities[e].name);
        char *text = slurp(path);
        cJSON *j = cJSON_Parse(text);
        if (!j) fail_msg("%s is not JSON", path);
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(j, "title");
        const cJSON *ent = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "properties"),
                                             "entity"),
            "const");
        if (!cJSON_IsString(title) || strcmp(title->valuestring, ts_entities[e].topic) != 0)
            fail_msg("%s: title is not %s", path, ts_entities[e].topic);
        if (!cJSON_IsString(ent) || strcmp(ent->valuestring, ts_entities[e].entity) != 0)
            fail_msg("%s: properties.entity.const is not %s", path, ts_entities[e].entity);
        cJSON_Delete(j);
        free(text);
    }
}

/* The pages that list the topics, resources or prefixes name every entity. */
static void docs_list_every_entity(void **state) {
    (void)state;
    static const struct {
        const char *path, *what; /* what: "topic", "name", "function", "prefix" */
    } pages[] = {
        {"docs/architecture.md", "name"}, {"docs/canonical-model.md", "topic"},
        {"docs/consuming.md", "topic"},   {"docs/fetcher.md", "function"},
        {"docs/webhook-gw.md", "prefix"}, {"docs/tsctl.md", "name"},
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        char *text = slurp(pages[i].path);
        for (int e = 0; e < TS_ENTITY_COUNT; e++) {
            const ts_entity *t = &ts_entities[e];
            const char *w = strcmp(pages[i].what, "topic") == 0      ? t->topic
                            : strcmp(pages[i].what, "function") == 0 ? t->function
                            : strcmp(pages[i].what, "prefix") == 0   ? t->prefix
                                                                     : t->name;
            if (!has_word(text, w)) fail_msg("%s does not mention %s", pages[i].path, w);
        }
        free(text);
    }
}

/* A migration creates each entity's table, and the truth comparison of the fault test
 * (tests/faults/compare_truth.py) covers each entity. */
static void migrations_and_truth_cover_every_entity(void **state) {
    (void)state;
    sbuf all = {0};
    glob_t g;
    assert_int_equal(glob("writer/migrations/*.sql", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = slurp(g.gl_pathv[i]);
        assert_int_equal(sbuf_printf(&all, "%s\n", text), 0);
        free(text);
    }
    globfree(&g);
    char *truth = slurp("tests/faults/compare_truth.py");
    char want[256];
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        snprintf(want, sizeof want, "CREATE TABLE %s (", ts_entities[e].table);
        if (!strstr(all.p, want)) fail_msg("no migration in writer/migrations/ says %s", want);
        snprintf(want, sizeof want, "\"%s\": (\"%s\",", ts_entities[e].name, ts_entities[e].table);
        if (!strstr(truth, want))
            fail_msg("tests/faults/compare_truth.py ENTITIES has no %s...", want);
    }
    free(truth);
    sbuf_free(&all);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entries_derive_their_names),
        cmocka_unit_test(lookup_finds_each_entity_by_every_name),
        cmocka_unit_test(families_cover_entities_then_the_rest),
        cmocka_unit_test(name_eq_treats_dash_and_underscore_alike),
        cmocka_unit_test(topic_script_lists_every_entity),
        cmocka_unit_test(every_entity_has_a_schema),
        cmocka_unit_test(docs_list_every_entity),
        cmocka_unit_test(migrations_and_truth_cover_every_entity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
