/* test_cli_args.c - tsctl's command line: command lookup by leading words, option
 * forms, positional counts, the global flags, list splitting, and the real command
 * table (every command reachable, options unique). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tools/tsctl/cli_args.h"
#include "tools/tsctl/cli_cmds.h"

static const cli_opt opts[] = {
    {"from", 1, "DATE", ""},
    {"resources", 1, "LIST", ""},
    {"yes", 0, NULL, ""},
};
#define NOPTS 3

static int parse(int min, int max, cli_args *a, char *err, ...) {
    char *argv[16];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *w; (w = va_arg(ap, char *));)
        argv[argc++] = w;
    va_end(ap);
    return cli_args_parse(opts, NOPTS, min, max, argc, argv, a, err, 256);
}

static void test_options(void **state) {
    (void)state;
    cli_args a;
    char err[256];
    assert_int_equal(parse(1, 1, &a, err, "conn1", "--from", "2026-01-01",
                           "--resources=orders,inventory", "--yes", "--json", NULL),
                     0);
    assert_int_equal(a.npos, 1);
    assert_string_equal(a.pos[0], "conn1");
    assert_string_equal(cli_arg(&a, opts, NOPTS, "from"), "2026-01-01");
    assert_string_equal(cli_arg(&a, opts, NOPTS, "resources"), "orders,inventory");
    assert_string_equal(cli_arg(&a, opts, NOPTS, "yes"), "");
    assert_null(cli_arg(&a, opts, NOPTS, "nope"));
    assert_true(a.json);
    assert_false(a.help);
    /* options before positionals; -- ends options */
    assert_int_equal(parse(2, 2, &a, err, "--yes", "--", "--weird", "x", NULL), 0);
    assert_string_equal(a.pos[0], "--weird");
    assert_null(cli_arg(&a, opts, NOPTS, "from"));
}

static void test_errors(void **state) {
    (void)state;
    cli_args a;
    char err[256];
    assert_int_equal(parse(0, 1, &a, err, "--bogus", NULL), -1);
    assert_non_null(strstr(err, "--bogus"));
    assert_int_equal(parse(0, 1, &a, err, "--from", NULL), -1);
    assert_non_null(strstr(err, "needs a value"));
    assert_int_equal(parse(0, 1, &a, err, "--yes=1", NULL), -1);
    assert_non_null(strstr(err, "takes no value"));
    assert_int_equal(parse(1, 1, &a, err, NULL), -1);
    assert_non_null(strstr(err, "missing argument"));
    assert_int_equal(parse(0, 1, &a, err, "a", "b", NULL), -1);
    assert_non_null(strstr(err, "'b'"));
    assert_int_equal(parse(0, 0, &a, err, "-x", NULL), -1);
    /* --help skips the count checks, so `tsctl sync --help` works */
    assert_int_equal(parse(1, 1, &a, err, "--help", NULL), 0);
    assert_true(a.help);
    assert_int_equal(parse(1, 1, &a, err, "-h", NULL), 0);
}

static const cli_cmd cmds[] = {
    {"link token", "", "", NULL, NULL, 0, 0, 0, NULL},
    {"link magic create", "", "", NULL, NULL, 0, 0, 0, NULL},
    {"link magic list", "", "", NULL, NULL, 0, 0, 0, NULL},
    {"status", "", "", NULL, NULL, 0, 0, 1, NULL},
};

static const cli_cmd *find(int *consumed, int *prefix, int argc, char **argv) {
    return cli_cmd_find(cmds, 4, argc, argv, consumed, prefix);
}

static void test_find(void **state) {
    (void)state;
    int consumed, prefix;
    char *a1[] = {"link", "magic", "create", "--days", "3"};
    const cli_cmd *c = find(&consumed, &prefix, 5, a1);
    assert_non_null(c);
    assert_string_equal(c->path, "link magic create");
    assert_int_equal(consumed, 3);
    char *a2[] = {"status", "conn1", "--watch"};
    c = find(&consumed, &prefix, 3, a2);
    assert_string_equal(c->path, "status");
    assert_int_equal(consumed, 1); /* conn1 stays a positional */
    char *a3[] = {"link", "magic"};
    assert_null(find(&consumed, &prefix, 2, a3));
    assert_int_equal(prefix, 2); /* main lists the subcommands of "link magic" */
    char *a4[] = {"nope"};
    assert_null(find(&consumed, &prefix, 1, a4));
    assert_int_equal(prefix, 0);
    char *a5[] = {"--json", "status"}; /* options end the command words */
    assert_null(find(&consumed, &prefix, 2, a5));
}

static void test_split(void **state) {
    (void)state;
    char buf[64], err[128];
    const char *items[4];
    assert_int_equal(
        cli_split_list("orders, inventory ,bills", buf, sizeof buf, items, 4, err, sizeof err), 3);
    assert_string_equal(items[1], "inventory");
    assert_string_equal(items[2], "bills");
    assert_int_equal(cli_split_list("a,,b", buf, sizeof buf, items, 4, err, sizeof err), -1);
    assert_int_equal(cli_split_list("a,b,c,d,e", buf, sizeof buf, items, 4, err, sizeof err), -1);
    assert_int_equal(cli_split_list("", buf, sizeof buf, items, 4, err, sizeof err), -1);
    char small[4];
    assert_int_equal(cli_split_list("abcdef", small, sizeof small, items, 4, err, sizeof err), -1);
}

/* The real table: every path reachable as itself, no duplicate option names. */
static void test_command_table(void **state) {
    (void)state;
    for (int i = 0; i < cli_ncommands; i++) {
        char copy[128], *argv[8];
        int argc = 0, consumed, prefix;
        snprintf(copy, sizeof copy, "%s", cli_commands[i].path);
        for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
            argv[argc++] = w;
        const cli_cmd *c =
            cli_cmd_find(cli_commands, cli_ncommands, argc, argv, &consumed, &prefix);
        assert_ptr_equal(c, &cli_commands[i]);
        assert_int_equal(consumed, argc);
        assert_non_null(cli_commands[i].run);
        assert_true(cli_commands[i].nopts <= CLI_MAX_OPTS);
        assert_true(cli_commands[i].min_pos <= cli_commands[i].max_pos);
        for (int o = 0; o < cli_commands[i].nopts; o++) {
            assert_string_not_equal(cli_commands[i].opts[o].name, "json");
            assert_string_not_equal(cli_commands[i].opts[o].name, "help");
            for (int p = o + 1; p < cli_commands[i].nopts; p++)
                assert_string_not_equal(cli_commands[i].opts[o].name, cli_commands[i].opts[p].name);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),       cmocka_unit_test(test_errors),
        cmocka_unit_test(test_find),          cmocka_unit_test(test_split),
        cmocka_unit_test(test_command_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
