/* test_fx_gone.c - the id set of a complete listing, and which resources are complete
 * listings (fx_res_infos: a table to compare with, and no cursor). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fetcher/fx_gone.h"
#include "fetcher/fx_res.h"

static void test_idset_holds_what_was_added(void **state) {
    (void)state;
    fx_idset *s = fx_idset_new();
    assert_non_null(s);
    char id[32];
    /* enough to grow several times */
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "inv_%d", i);
        assert_int_equal(fx_idset_add(s, id), 0);
        assert_int_equal(fx_idset_add(s, id), 0); /* twice: kept once */
    }
    assert_int_equal((int)fx_idset_count(s), 5000);
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "inv_%d", i);
        assert_true(fx_idset_has(s, id));
    }
    assert_false(fx_idset_has(s, "inv_5000"));
    assert_false(fx_idset_has(s, ""));
    assert_false(fx_idset_has(s, "inv_1 "));
    fx_idset_free(s);
    fx_idset_free(NULL);
}

static void test_complete_listings(void **state) {
    (void)state;
    static const struct {
        fx_res res;
        const char *table;
    } want[] = {{FX_RES_INVENTORY, "inventory_items"},
                {FX_RES_WAREHOUSES, "warehouses"},
                {FX_RES_WAREHOUSE_LOCATIONS, "warehouse_locations"},
                {FX_RES_SHIPPING_METHODS, "shipping_methods"}};
    int complete = 0;
    for (int r = 0; r < FX_RES_COUNT; r++) {
        const fx_res_info *ri = &fx_res_infos[r];
        /* a table exactly when the resource is read whole */
        assert_int_equal(ri->table != NULL, ri->kind != FX_KIND_INCREMENTAL);
        complete += ri->table != NULL;
    }
    assert_int_equal(complete, (int)(sizeof want / sizeof want[0]));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(fx_res_infos[want[i].res].table, want[i].table);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idset_holds_what_was_added),
        cmocka_unit_test(test_complete_listings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
