/* test_cli_env.c - stack.env parsing: the forms deploy/stack/stack.sh writes, shell
 * quoting, and every construct refused rather than misread (expansion, junk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/tsctl/cli_env.h"

typedef struct line_case {
    const char *line;
    int rc;
    const char *key, *val;
} line_case;

static const line_case cases[] = {
    {"KAFKA_BOOTSTRAP=127.0.0.1:17092\n", 1, "KAFKA_BOOTSTRAP", "127.0.0.1:17092"},
    {"DATABASE_URL=postgresql://postgres@127.0.0.1:17432/trackstar", 1, "DATABASE_URL",
     "postgresql://postgres@127.0.0.1:17432/trackstar"},
    {"WEBHOOK_SECRET=whsec_ab+/cd==\n", 1, "WEBHOOK_SECRET", "whsec_ab+/cd=="},
    {"export A=1\n", 1, "A", "1"},
    {"  B=2   # trailing comment\n", 1, "B", "2"},
    {"C='single $quoted # text'\n", 1, "C", "single $quoted # text"},
    {"D=\"double \\\"q\\\" \\\\ x\"\n", 1, "D", "double \"q\" \\ x"},
    {"E=\n", 1, "E", ""},
    {"F=a'b c'd\n", 1, "F", "ab cd"},
    {"G=a\\ b\n", 1, "G", "a b"},
    {"H=x\r\n", 1, "H", "x"},
    {"_U9=v", 1, "_U9", "v"},
    {"\n", 0, NULL, NULL},
    {"   \n", 0, NULL, NULL},
    {"# Written by deploy/stack/stack.sh\n", 0, NULL, NULL},
    {"NOEQUALS\n", -1, NULL, NULL},
    {"9BAD=x\n", -1, NULL, NULL},
    {"A B=x\n", -1, NULL, NULL},
    {"X=$HOME\n", -1, NULL, NULL},
    {"X=\"$HOME\"\n", -1, NULL, NULL},
    {"X=`id`\n", -1, NULL, NULL},
    {"X='open\n", -1, NULL, NULL},
    {"X=\"open\n", -1, NULL, NULL},
    {"X=a b\n", -1, NULL, NULL},
    {"X=a;rm\n", -1, NULL, NULL},
    {"X=a\\\n", -1, NULL, NULL},
};

static void test_lines(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char k[128], v[256], err[128] = "";
        int rc = cli_env_parse_line(cases[i].line, k, sizeof k, v, sizeof v, err, sizeof err);
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s): rc %d, want %d (%s)", i, cases[i].line, rc, cases[i].rc, err);
        if (rc == 1) {
            assert_string_equal(k, cases[i].key);
            assert_string_equal(v, cases[i].val);
        }
        if (rc < 0) assert_true(strlen(err) > 0);
    }
}

static void test_value_bound(void **state) {
    (void)state;
    char k[16], v[8], err[128];
    assert_int_equal(cli_env_parse_line("K=1234567", k, sizeof k, v, sizeof v, err, sizeof err), 1);
    assert_string_equal(v, "1234567");
    assert_int_equal(cli_env_parse_line("K=12345678", k, sizeof k, v, sizeof v, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "too long"));
}

static char *write_tmp(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/test_cli_env_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_load(void **state) {
    (void)state;
    char err[256];
    unsetenv("TSCTL_T_A");
    setenv("TSCTL_T_B", "from-env", 1);
    char *p = write_tmp("# comment\nTSCTL_T_A=one\nexport TSCTL_T_B='two'\n\n");
    assert_int_equal(cli_env_load(p, 0, err, sizeof err), 2);
    assert_string_equal(getenv("TSCTL_T_A"), "one");
    assert_string_equal(getenv("TSCTL_T_B"), "from-env"); /* overwrite 0 keeps it */
    assert_int_equal(cli_env_load(p, 1, err, sizeof err), 2);
    assert_string_equal(getenv("TSCTL_T_B"), "two");
    unlink(p);
}

static void test_load_errors(void **state) {
    (void)state;
    char err[256];
    unsetenv("TSCTL_T_C");
    char *p = write_tmp("OK_LINE=1\nTSCTL_T_SECRET=\"s3cr3t$X\"\nTSCTL_T_C=never\n");
    assert_int_equal(cli_env_load(p, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: ")); /* names the line */
    assert_null(strstr(err, "s3cr3t"));   /* never the value */
    assert_null(getenv("TSCTL_T_C"));     /* nothing after the bad line */
    unlink(p);
    assert_int_equal(cli_env_load("/nonexistent/stack.env", 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/stack.env"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_value_bound),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
