/* test_registry.c - the entity registry (common/entities.h): what each entry derives,
 * that every name a stage may meet finds exactly its entity, and the event families. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <ctype.h>
#include <string.h>

#include "entities.h"

/* The derived names follow their rules: wms.<name>.v1, get_<name>,
 * FETCHER_INTERVAL_<NAME>_S; and each entry is complete. */
static void entries_derive_their_names(void **state) {
    (void)state;
    char want[128];
    for (int e = 0; e < TS_ENTITY_COUNT; e++) {
        const ts_entity *t = &ts_entities[e];
        snprintf(want, sizeof want, "wms.%s.v1", t->name);
        assert_string_equal(t->topic, want);
        snprintf(want, sizeof want, "get_%s", t->name);
        assert_string_equal(t->function, want);
        int n = snprintf(want, sizeof want, "FETCHER_INTERVAL_");
        for (const char *p = t->name; *p; p++)
            want[n++] = (char)toupper((unsigned char)*p);
        snprintf(want + n, sizeof want - (size_t)n, "_S");
        assert_string_equal(t->interval_env, want);
        assert_true(t->entity[0] && t->table[0] && t->prefix[0]);
        assert_true(t->path[0] == '/');
        assert_int_equal(strstr(t->path, "%s") != NULL, t->poll == TS_POLL_PER_WAREHOUSE);
        assert_true(t->interval_s > 0);
        assert_non_null(t->events[0]);
    }
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
        const char *names[] = {t->name, t->entity, t->prefix, t->function};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
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
    assert_int_equal(ts_entity_lookup("get_labor_activities"), -1);
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
    f = ts_family_by_prefix("inventory-ledger", 16);
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entries_derive_their_names),
        cmocka_unit_test(lookup_finds_each_entity_by_every_name),
        cmocka_unit_test(families_cover_entities_then_the_rest),
        cmocka_unit_test(name_eq_treats_dash_and_underscore_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
