/* test_cli_redact.c - tsctl never prints a secret it finds: access tokens (clear or
 * sealed), API keys, secrets and passwords are redacted at any depth, whatever the case
 * of their names; everything else (ids, link tokens, next_token) is printed as is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tsctl/cli_out.h"

static void redacts_at_any_depth(void **state) {
    (void)state;
    cJSON *j = cJSON_Parse(
        "{\"connection_id\":\"c1\",\"event_type\":\"connection.created\","
        "\"data\":{\"created_date\":\"2026-01-05T10:00:00Z\",\"access_token\":\"tok_CLEAR\","
        "\"nested\":[{\"access_token_sealed\":\"v2.00000000.AAAA\"},{\"Client_Secret\":\"s3\"}]},"
        "\"headers\":{\"X-Trackstar-Access-Token\":\"tok_H\",\"x-trackstar-api-key\":\"k\"},"
        "\"password\":\"p\",\"api_key\":\"k2\",\"gone\":{\"access_token\":null},"
        "\"link_token\":\"lt_keep\",\"next_token\":\"nt_keep\"}");
    assert_non_null(j);
    assert_int_equal(cli_redact(j), 7);
    char *s = cJSON_PrintUnformatted(j);
    static const char *const gone[] = {"tok_CLEAR", "v2.00000000", "s3", "tok_H",
                                       "\"k\"",     "\"p\"",       "k2"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        if (strstr(s, gone[i])) fail_msg("%s still printed in %s", gone[i], s);
    assert_non_null(strstr(s, "\"link_token\":\"lt_keep\""));
    assert_non_null(strstr(s, "\"next_token\":\"nt_keep\""));
    assert_non_null(strstr(s, "\"connection_id\":\"c1\""));
    assert_non_null(strstr(s, "\"access_token\":null")); /* nothing to hide */
    assert_non_null(strstr(s, "\"access_token\":\"" CLI_REDACTED "\""));
    free(s);
    cJSON_Delete(j);
}

static void print_json_redacts_a_copy(void **state) {
    (void)state;
    cJSON *j = cJSON_Parse("{\"access_token\":\"tok_P\",\"id\":\"x\"}");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cli_ctx ctx = {.out = out};
    assert_int_equal(cli_print_json(&ctx, j), 0);
    fclose(out);
    assert_null(strstr(buf, "tok_P"));
    assert_non_null(strstr(buf, CLI_REDACTED));
    /* the caller's tree is left as it was */
    assert_string_equal(cJSON_GetObjectItem(j, "access_token")->valuestring, "tok_P");
    free(buf);
    cJSON_Delete(j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redacts_at_any_depth),
        cmocka_unit_test(print_json_redacts_a_copy),
    };
    return cmocka_run_group_tests_name("cli_redact", tests, NULL, NULL);
}
