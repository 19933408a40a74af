/* test_db_fx_owned.c - a fetcher replica holds what its partitions own, and nothing more
 * (issue 24): before, every replica built all 15 streams (28 KB) of every connection and
 * opened every access token, so adding replicas did not lower anyone's memory, and every
 * new connection made it read all historical-sync rows again. Shown against PostgreSQL
 * (TEST_DATABASE_URL, as every test_db_*), through the engine's own refresh:
 *   - of N stored connections on two partitions, the replica owning one has streams and
 *     an opened token exactly for that partition's connections, with their first syncs;
 *     the others are a name and a sealed token;
 *   - taking the other partition over builds and loads those (their historical-sync rows
 *     too, read then and not before); giving one up frees its streams and wipes the
 *     tokens;
 *   - a token that cannot be opened keeps its connection unowned, and a new row for it
 *     with a good token is owned;
 *   - what the heap holds per connection: a known one the replica does not own, and
 *     what owning it adds (the budget below).
 */
#include "db_test_util.h"

#include <librdkafka/rdkafka.h>
#include <malloc.h>

#include "fetcher/fx_db.h"
#include "fetcher/fx_engine_int.h"
#include "fx_test_engine.h"
#include "seal.h"

#define N_CONNS 120
/* base64 of 32 bytes: the sealing key, and another the engine does not hold */
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

typedef struct world {
    tdb t;
    PGconn *db;
    rd_kafka_t *producer;
    fx_engine *e;
    seal_ring ring;
} world;

static void conn_id(int i, char id[32]) {
    snprintf(id, 32, "conn-%04d", i);
}

static void put_conn(world *w, const char *id, const seal_ring *ring, int64_t event_ms) {
    char err[512], plain[64];
    snprintf(plain, sizeof plain, "token-of-%s", id);
    char *sealed = seal_seal(ring, id, plain, err, sizeof err);
    assert_non_null(sealed);
    assert_int_equal(fx_db_conn_put(w->db, id, "shiphero", sealed, NULL, event_ms, err, sizeof err),
                     1); /* applied */
    free(sealed);
}

static void world_new_n(world *w, int nconns) {
    char err[512];
    tdb_create(&w->t, 1);
    if (!(w->db = fx_db_open(w->t.conninfo, err, sizeof err))) fail_msg("fx_db_open: %s", err);
    assert_int_equal(seal_ring_parse(KEY_A, NULL, &w->ring, err, sizeof err), 0);
    for (int i = 0; i < nconns; i++) {
        char id[32];
        conn_id(i, id);
        put_conn(w, id, &w->ring, 1000);
        /* every third one has finished its first sync of orders */
        if (i % 3 == 0)
            assert_int_equal(fx_db_hist_put(w->db, id, "orders", 0, 0, "webhook", err, sizeof err),
                             0);
    }
    w->e = fx_test_engine_new(w->db, &w->producer, err, sizeof err);
    assert_non_null(w->e);
    w->e->cfg.ring = w->ring;
    fx_engine_set_partitions(w->e, 2);
}

static void world_new(world *w) {
    world_new_n(w, N_CONNS);
}

static void world_free(world *w) {
    fx_test_engine_free(w->e, w->producer);
    seal_ring_wipe(&w->ring);
    PQfinish(w->db);
    tdb_destroy(&w->t);
}

static void refresh(world *w) {
    fx_engine_poke(w->e);
    fx_engine_step(w->e, 0);
}

/* Every connection as a replica owning the partitions in owned[] must hold it. */
static void assert_holds(world *w, const int owned[2]) {
    int n_owned = 0;
    for (int i = 0; i < N_CONNS; i++) {
        char id[32], plain[64];
        conn_id(i, id);
        snprintf(plain, sizeof plain, "token-of-%s", id);
        fx_conn *c = fx_conn_get(w->e, id, 0);
        assert_non_null(c);
        assert_non_null(c->sealed);
        int p = fx_engine_partition_of(id, 2);
        if (owned[p]) {
            n_owned++;
            assert_true(c->owned);
            assert_non_null(c->streams);
            assert_non_null(c->token);
            assert_string_equal(c->token, plain);
            int r = ts_entity_lookup("orders");
            assert_true(r >= 0);
            assert_int_equal(c->streams[r].hist_done, i % 3 == 0);
            assert_true(c->streams[r].loaded);
        } else {
            assert_false(c->owned);
            assert_null(c->streams);
            assert_null(c->token);
        }
    }
    assert_int_equal(w->e->owned_conns, n_owned);
}

static void only_owned_partitions_are_built(void **state) {
    (void)state;
    world w;
    world_new(&w);
    fx_engine_partition(w.e, 0, 1);
    refresh(&w);
    int p0 = 0;
    for (int i = 0; i < N_CONNS; i++) {
        char id[32];
        conn_id(i, id);
        p0 += fx_engine_partition_of(id, 2) == 0;
    }
    assert_true(p0 > N_CONNS / 4 && p0 < 3 * N_CONNS / 4); /* both partitions have some */
    assert_holds(&w, (const int[]){1, 0});

    /* the other partition comes: built and loaded then, first syncs included */
    fx_engine_partition(w.e, 1, 1);
    assert_holds(&w, (const int[]){1, 1});
    /* the first one goes: its streams freed, its tokens wiped */
    fx_engine_partition(w.e, 0, 0);
    assert_holds(&w, (const int[]){0, 1});
    /* a first sync stored meanwhile reaches it when it comes back */
    char err[512], id[32];
    int i = 1;
    for (conn_id(i, id); i % 3 == 0 || fx_engine_partition_of(id, 2) != 0; conn_id(++i, id))
        ;
    assert_true(i < N_CONNS);
    assert_int_equal(fx_db_hist_put(w.db, id, "orders", 0, 0, "api", err, sizeof err), 0);
    fx_engine_partition(w.e, 0, 1);
    fx_conn *c = fx_conn_get(w.e, id, 0);
    assert_true(c->owned);
    assert_true(c->streams[ts_entity_lookup("orders")].hist_done);
    world_free(&w);
}

static void unopenable_token_is_not_owned(void **state) {
    (void)state;
    world w;
    world_new(&w);
    fx_engine_partition(w.e, 0, 1);
    fx_engine_partition(w.e, 1, 1);
    refresh(&w);
    char err[512], id[32];
    conn_id(7, id);
    seal_ring other;
    assert_int_equal(seal_ring_parse(KEY_B, NULL, &other, err, sizeof err), 0);
    put_conn(&w, id, &other, 2000); /* sealed with a key this replica does not hold */
    refresh(&w);
    fx_conn *c = fx_conn_get(w.e, id, 0);
    assert_true(c->unusable);
    assert_false(c->owned);
    assert_null(c->streams);
    assert_null(c->token);
    put_conn(&w, id, &w.ring, 3000); /* reinstalled with a good one */
    refresh(&w);
    assert_false(c->unusable);
    assert_true(c->owned);
    assert_non_null(c->streams);
    assert_string_equal(c->token, "token-of-conn-0007");
    seal_ring_wipe(&other);
    world_free(&w);
}

/* The heap per connection, for the goal of at most 10 KB of RSS per owned connection
 * (issue 24), which allocator slack and fragmentation also take from. Measured on this
 * build: a known connection the replica does not own 442 bytes (1,090 before its id and
 * integration name were sized to fit and its rate ring and schedule room made only
 * when owned); owning one adds 6,061 (6,406 before), mostly its 15 streams. With two
 * replicas each knows every connection and owns half, so each owned connection costs
 * its own and one unowned. */
#define HEAP_PER_KNOWN_MAX 512
#define HEAP_PER_OWNED_MAX 6400
#define HEAP_CONNS 2000

static void heap_follows_owned_connections(void **state) {
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* ASan's allocator does not report through mallinfo2 */
#endif
    world w;
    world_new_n(&w, HEAP_CONNS);
    size_t m0 = mallinfo2().uordblks;
    refresh(&w); /* learns every connection; this replica owns no partition yet */
    size_t m1 = mallinfo2().uordblks;
    assert_int_equal(w.e->nconns, HEAP_CONNS);
    assert_int_equal(w.e->owned_conns, 0);
    fx_engine_partition(w.e, 0, 1);
    fx_engine_partition(w.e, 1, 1);
    size_t m2 = mallinfo2().uordblks;
    assert_int_equal(w.e->owned_conns, HEAP_CONNS);
    double known = (double)(m1 - m0) / HEAP_CONNS, owned = (double)(m2 - m1) / HEAP_CONNS;
    print_message("heap per connection: known %.0f bytes, owning it adds %.0f\n", known, owned);
    assert_true(known <= HEAP_PER_KNOWN_MAX);
    assert_true(owned <= HEAP_PER_OWNED_MAX);
    world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(only_owned_partitions_are_built),
        cmocka_unit_test(unopenable_token_is_not_owned),
        cmocka_unit_test(heap_follows_owned_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
