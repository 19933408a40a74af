/* test_db_fx_change_seq.c - every replica's refresh sees every change (issue 24).
 * The refresh reads the connections and historical syncs whose seq is above the newest it
 * has seen (fx_db_conn_since, fx_db_hist_since). With two writers at once, the one that
 * took the smaller seq could commit after the other: a refresh between the two commits
 * saw the larger seq, moved past it, and never read the smaller one. The bench's two
 * replicas and 1,000 connections left 165 connections owned by neither.
 *
 * Against PostgreSQL (TEST_DATABASE_URL, as every test_db_*), for both tables: writer A
 * opens a transaction and writes a row; writer B then writes another on its own. B must
 * wait until A commits (migration 022), and a refresh before and after A's commit, moving
 * its mark as the fetcher does, must have read both rows. Before migration 022, B
 * committed at once with the larger seq and the second refresh missed A's row.
 */
#include "db_test_util.h"

#include <time.h>

#include "fetcher/fx_db.h"
#include "util.h"

static PGconn *connect_to(const tdb *t) {
    PGconn *c = PQconnectdb(t->conninfo);
    if (PQstatus(c) != CONNECTION_OK) fail_msg("connect: %s", PQerrorMessage(c));
    return c;
}

/* Has the statement sent on c finished within ms? (Its result is left for finish.) */
static int done_within(PGconn *c, int ms) {
    int64_t until = util_mono_ms() + ms;
    do {
        if (!PQconsumeInput(c)) fail_msg("consume: %s", PQerrorMessage(c));
        if (!PQisBusy(c)) return 1;
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    } while (util_mono_ms() < until);
    return 0;
}

static void finish(PGconn *c) {
    PGresult *r;
    while ((r = PQgetResult(c))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("write: %s", PQresultErrorMessage(r));
        PQclear(r);
    }
}

/* What a refresh reads after *mark (moving it): bit 0 when row "a" is among it, bit 1
 * for "b". */
static int refresh(PGconn *db, int hist, int64_t *mark) {
    char err[256];
    int n = 0, seen = 0;
    if (hist) {
        fx_db_hist *h = NULL;
        assert_int_equal(fx_db_hist_since(db, *mark, &h, &n, mark, err, sizeof err), 0);
        for (int i = 0; i < n; i++)
            seen |= strcmp(h[i].conn, "conn-a") == 0 ? 1 : strcmp(h[i].conn, "conn-b") == 0 ? 2 : 0;
        free(h);
    } else {
        fx_db_conn *c = NULL;
        assert_int_equal(fx_db_conn_since(db, *mark, &c, &n, mark, err, sizeof err), 0);
        for (int i = 0; i < n; i++)
            seen |= strcmp(c[i].id, "conn-a") == 0 ? 1 : strcmp(c[i].id, "conn-b") == 0 ? 2 : 0;
        fx_db_conns_free(c, n);
    }
    return seen;
}

static void writers_out_of_order(int hist) {
    tdb t;
    tdb_create(&t, 1);
    char err[512];
    PGconn *reader = fx_db_open(t.conninfo, err, sizeof err);
    if (!reader) fail_msg("fx_db_open: %s", err);
    PGconn *a = connect_to(&t), *b = connect_to(&t);
    const char *ins = hist
                          ? "INSERT INTO fetcher_historical_syncs (connection_id, resource, source)"
                            " VALUES ('%s', 'orders', 'test')"
                          : "INSERT INTO fetcher_connections (connection_id, token_sealed)"
                            " VALUES ('%s', 'sealed')";
    char sa[256], sb[256];
    snprintf(sa, sizeof sa, ins, "conn-a");
    snprintf(sb, sizeof sb, ins, "conn-b");
    int64_t mark = 0;
    assert_int_equal(refresh(reader, hist, &mark), 0);

    PQclear(tdb_q(a, "BEGIN"));
    PQclear(tdb_q(a, "%s", sa)); /* the smaller seq, not committed yet */
    assert_int_equal(PQsendQuery(b, sb), 1);
    int b_waited = !done_within(b, 500);
    int seen = refresh(reader, hist, &mark); /* between the two commits, if B did not wait */
    PQclear(tdb_q(a, "COMMIT"));
    assert_true(done_within(b, 5000));
    finish(b);
    seen |= refresh(reader, hist, &mark);
    print_message("%s: the second writer %s; the refreshes read %s\n",
                  hist ? "historical syncs" : "connections",
                  b_waited ? "waited for the first to commit" : "committed at once",
                  seen == 3   ? "both rows"
                  : seen == 2 ? "only the second row"
                              : "not both rows");
    assert_true(b_waited);
    assert_int_equal(seen, 3);
    assert_int_equal(refresh(reader, hist, &mark), 0); /* and nothing twice */
    PQfinish(a);
    PQfinish(b);
    PQfinish(reader);
    tdb_destroy(&t);
}

static void connections_seen_whatever_the_commit_order(void **state) {
    (void)state;
    writers_out_of_order(0);
}

static void historical_syncs_seen_whatever_the_commit_order(void **state) {
    (void)state;
    writers_out_of_order(1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connections_seen_whatever_the_commit_order),
        cmocka_unit_test(historical_syncs_seen_whatever_the_commit_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
