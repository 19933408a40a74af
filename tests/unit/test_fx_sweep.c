/* test_fx_sweep.c - many owned connections due at once are learned from the pages of
 * GET /connections, not one GET /connections/{id} each (issue 24: a restart at 1,000
 * connections asked each one, 49,070 requests with the organisation's 429s). Against a
 * local server listing LISTED connections, 100 a page:
 *   - LISTED + UNLISTED owned connections due: ceil(LISTED/100) pages, every listed one
 *     takes what its element says (its next look moves to the future), and only the
 *     UNLISTED ones are asked on their own afterwards; due again, those do not start a
 *     sweep of their own (they would, one after another, were they counted);
 *   - connections added after that sweep (which could not list them) do count: twelve of
 *     them due start a sweep;
 *   - a handful due: asked on their own, no page;
 *   - two replicas (partitions 0 and 1 of 2), both with their connections due: one sweep
 *     (the owner of partition 0's) lists them all and hands the other's over, which asks
 *     nothing itself (each replica reading the list cost R x N/100 requests a round);
 *   - the same with the sweeper gone: the other asks for itself, after the grace only;
 *   - a sweep that takes longer than the grace (its pages spaced by the organisation's
 *     budget): the other waits while listings come, and asks nothing. Before, it swept
 *     the list too once the grace ran out (a restart of the sweeper at 10,000
 *     connections: 206-210 API-key requests in its minute, not 100);
 *   - listings that never stop coming, none of them for its connections: the other waits
 *     no longer than FX_LISTING_WAITS graces, then asks.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fetcher/fx_engine_int.h"
#include "fx_test_engine.h"
#include "util.h"

#define LISTED 250
#define UNLISTED 12 /* enough to start a sweep, were they counted */
#define PAGE 100

typedef struct server {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    int pages, singles;
} server;

static void conn_id(int i, char id[32]) {
    snprintf(id, 32, "conn-%04d", i);
}

static enum MHD_Result reply(struct MHD_Connection *conn, int status, sbuf *body) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body->len, body->p ? body->p : "", MHD_RESPMEM_MUST_COPY);
    sbuf_free(body);
    if (!r) return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static void conn_object(sbuf *b, const char *id) {
    sbuf_printf(b,
                "{\"connection_id\":\"%s\",\"integration_name\":\"sandbox\","
                "\"available_actions\":[\"get_orders\"]}",
                id);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_len, void **req_cls) {
    (void)version, (void)upload, (void)upload_len, (void)req_cls;
    server *s = cls;
    sbuf b = {0};
    if (strcmp(method, "GET") != 0) return reply(conn, 405, &b);
    if (strcmp(url, "/connections") == 0) {
        const char *tok = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "page_token");
        int from = tok ? atoi(tok) : 0;
        pthread_mutex_lock(&s->mu);
        s->pages++;
        pthread_mutex_unlock(&s->mu);
        sbuf_printf(&b, "{\"data\":[");
        int i = from;
        for (; i < LISTED && i < from + PAGE; i++) {
            char id[32];
            conn_id(i, id);
            if (i > from) sbuf_printf(&b, ",");
            conn_object(&b, id);
        }
        if (i < LISTED)
            sbuf_printf(&b, "],\"next_token\":\"%d\",\"total_count\":%d}", i, LISTED);
        else
            sbuf_printf(&b, "],\"next_token\":null,\"total_count\":%d}", LISTED);
        return reply(conn, 200, &b);
    }
    if (strncmp(url, "/connections/", 13) == 0) {
        pthread_mutex_lock(&s->mu);
        s->singles++;
        pthread_mutex_unlock(&s->mu);
        int i = atoi(url + 13 + 5); /* conn-NNNN */
        if (i >= LISTED) return reply(conn, 404, &b);
        sbuf_printf(&b, "{\"data\":");
        conn_object(&b, url + 13);
        sbuf_printf(&b, "}");
        return reply(conn, 200, &b);
    }
    return reply(conn, 404, &b);
}

typedef struct world {
    server s;
    rd_kafka_t *producer;
    fx_engine *e;
    char url[64];
} world;

static void world_new(world *w) {
    memset(w, 0, sizeof *w);
    assert_int_equal(pthread_mutex_init(&w->s.mu, NULL), 0);
    w->s.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                              handler, &w->s, MHD_OPTION_END);
    assert_non_null(w->s.d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->s.d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    snprintf(w->url, sizeof w->url, "http://127.0.0.1:%u", (unsigned)info->port);
    char err[256];
    w->e = fx_test_engine_new(NULL, &w->producer, err, sizeof err);
    assert_non_null(w->e);
    w->e->cfg.base_url = w->url;
    w->e->cfg.org_rate = 1000; /* the budget is not what this shows */
    fx_rate_init(&w->e->org_rate, w->e->cfg.org_rate, 1000);
}

static void world_free(world *w) {
    fx_test_engine_free(w->e, w->producer);
    MHD_stop_daemon(w->s.d);
    pthread_mutex_destroy(&w->s.mu);
}

/* Connections from..from+n-1 owned, with a token, due for a look now. */
static void own_due(world *w, int from, int n) {
    for (int i = from; i < from + n; i++) {
        char id[32];
        conn_id(i, id);
        fx_conn *c = fx_conn_get(w->e, id, 1);
        assert_non_null(c);
        assert_int_equal(fx_conn_streams_new(c), 0);
        c->token = strdup("token");
        assert_non_null(c->token);
        c->owned = 1;
        w->e->owned_conns++;
        fx_conn_check_at(w->e, c, util_mono_ms() - 1);
    }
}

/* Turns until every connection from..from+n-1 is answered (or 10 s). */
static void run_until_known(world *w, int from, int n) {
    int64_t until = util_mono_ms() + 10000;
    for (;;) {
        int known = 0;
        for (int i = from; i < from + n; i++) {
            char id[32];
            conn_id(i, id);
            fx_conn *c = fx_conn_get(w->e, id, 0);
            known += c->actions_known || (!c->info_req && c->check_429s == 0 &&
                                          c->hist_check_at > util_mono_ms() && i >= LISTED);
        }
        if ((known == n && !w->e->sweep.on && fx_http_inflight(w->e->http) == 0) ||
            util_mono_ms() > until)
            break;
        fx_engine_tick(w->e, util_mono_ms(), util_now_ms());
        fx_http_run(w->e->http, 10);
    }
}

static void many_due_read_from_pages(void **state) {
    (void)state;
    world w;
    world_new(&w);
    own_due(&w, 0, LISTED + UNLISTED);
    run_until_known(&w, 0, LISTED + UNLISTED);
    int64_t now = util_mono_ms();
    for (int i = 0; i < LISTED; i++) {
        char id[32];
        conn_id(i, id);
        fx_conn *c = fx_conn_get(w.e, id, 0);
        assert_true(c->actions_known);
        assert_true(c->hist_check_at > now); /* not due any more */
    }
    assert_int_equal(w.s.pages, (LISTED + PAGE - 1) / PAGE);
    assert_int_equal(w.e->sweep.last_pages, (LISTED + PAGE - 1) / PAGE);
    /* the ones the list did not show, asked on their own after it */
    assert_int_equal(w.s.singles, UNLISTED);
    for (int i = LISTED; i < LISTED + UNLISTED; i++) {
        char id[32];
        conn_id(i, id);
        fx_conn *c = fx_conn_get(w.e, id, 0);
        assert_true(fx_conn_unlisted(w.e, c));
        fx_conn_check_at(w.e, c, util_mono_ms() - 1);
    }
    run_until_known(&w, LISTED, UNLISTED);
    assert_int_equal(w.s.pages, (LISTED + PAGE - 1) / PAGE);
    assert_int_equal(w.s.singles, 2 * UNLISTED);
    /* added since: the last sweep is no judge of them */
    own_due(&w, LISTED + UNLISTED, UNLISTED);
    run_until_known(&w, LISTED + UNLISTED, UNLISTED);
    assert_int_equal(w.s.pages, 2 * ((LISTED + PAGE - 1) / PAGE));
    world_free(&w);
}

static void few_due_asked_each(void **state) {
    (void)state;
    world w;
    world_new(&w);
    own_due(&w, 0, 3);
    run_until_known(&w, 0, 3);
    assert_int_equal(w.s.pages, 0);
    assert_int_equal(w.s.singles, 3);
    for (int i = 0; i < 3; i++) {
        char id[32];
        conn_id(i, id);
        assert_true(fx_conn_get(w.e, id, 0)->actions_known);
    }
    world_free(&w);
}

/* ---- two replicas ---- */

static fx_engine *g_peer; /* where the test's hand-over delivers: the other engine */

static void hand_to_peer(fx_engine *e, const char *id, int partition, const char *obj, size_t len) {
    (void)e;
    assert_int_equal(fx_engine_partition_of(id, 2), partition);
    fx_engine_listed(g_peer, id, obj, len, util_now_ms());
}

/* A second engine on w's server, owning partition 1 of 2; w's owns partition 0. Each owns
 * the listed connections of its partition, all due now. Returns how many b owns. */
static int two_replicas(world *w, fx_engine **b, rd_kafka_t **bp, int64_t check_ms) {
    char err[256];
    *b = fx_test_engine_new(NULL, bp, err, sizeof err);
    assert_non_null(*b);
    (*b)->cfg.base_url = w->url;
    (*b)->cfg.org_rate = 1000;
    fx_rate_init(&(*b)->org_rate, 1000, 1000);
    fx_engine *es[2] = {w->e, *b};
    int nb = 0;
    for (int k = 0; k < 2; k++) {
        es[k]->partitions = 2;
        es[k]->owned[k] = 1;
        es[k]->cfg.conn_check_ms = es[k]->cfg.hist_check_ms = check_ms;
        es[k]->hand_over = hand_to_peer;
    }
    for (int i = 0; i < LISTED; i++) {
        char id[32];
        conn_id(i, id);
        int k = fx_engine_partition_of(id, 2);
        fx_conn *c = fx_conn_get(es[k], id, 1);
        assert_non_null(c);
        assert_int_equal(fx_conn_streams_new(c), 0);
        c->token = strdup("token");
        assert_non_null(c->token);
        c->owned = 1;
        c->partition = k;
        es[k]->owned_conns++;
        fx_conn_check_at(es[k], c, util_mono_ms() - 1); /* due by its schedule, not an event */
        nb += k;
    }
    return nb;
}

/* b's connections answered so far */
static int known_in(fx_engine *b) {
    int n = 0;
    for (int i = 0; i < LISTED; i++) {
        char id[32];
        conn_id(i, id);
        fx_conn *c = fx_conn_get(b, id, 0);
        n += c && c->owned && c->actions_known;
    }
    return n;
}

/* Turns of the engines given (b may be NULL: the sweeper is gone) until b knows want
 * connections, or until ms passed. */
static void run_both(fx_engine *a, fx_engine *b, int want, int64_t ms) {
    int64_t until = util_mono_ms() + ms;
    while (util_mono_ms() < until &&
           (known_in(b) < want || (a && a->sweep.on) || fx_http_inflight(b->http) > 0)) {
        if (a) {
            fx_engine_tick(a, util_mono_ms(), util_now_ms());
            fx_http_run(a->http, 5);
        }
        fx_engine_tick(b, util_mono_ms(), util_now_ms());
        fx_http_run(b->http, 5);
    }
}

static void one_sweep_for_two_replicas(void **state) {
    (void)state;
    world w;
    world_new(&w);
    fx_engine *b;
    rd_kafka_t *bp;
    int nb = two_replicas(&w, &b, &bp, 60000);
    assert_true(nb > 10 && LISTED - nb > 10); /* both have enough due to sweep */
    g_peer = b;
    run_both(w.e, b, nb, 10000);
    assert_int_equal(known_in(b), nb);
    assert_int_equal(w.s.pages, (LISTED + PAGE - 1) / PAGE); /* one sweep, not two */
    assert_int_equal(w.s.singles, 0);
    assert_int_equal(b->sweep.gen, 0); /* b asked nothing */
    for (int i = 0; i < LISTED; i++) {
        char id[32];
        conn_id(i, id);
        fx_conn *c = fx_conn_get(fx_engine_partition_of(id, 2) ? b : w.e, id, 0);
        assert_true(c->actions_known);
        assert_true(c->hist_check_at > util_mono_ms()); /* not due any more */
    }
    fx_test_engine_free(b, bp);
    world_free(&w);
}

static void sweeper_gone_asked_after_grace(void **state) {
    (void)state;
    world w;
    world_new(&w);
    fx_engine *b;
    rd_kafka_t *bp;
    int nb = two_replicas(&w, &b, &bp, 2000); /* grace: 500 ms */
    g_peer = w.e;
    int64_t t0 = util_mono_ms();
    run_both(NULL, b, nb, 300);
    assert_int_equal(w.s.pages + w.s.singles, 0); /* left to the group's sweep meanwhile */
    run_both(NULL, b, nb, 10000);
    assert_int_equal(known_in(b), nb);
    assert_true(util_mono_ms() - t0 >= 500);
    assert_int_equal(w.s.pages, (LISTED + PAGE - 1) / PAGE); /* b's own sweep */
    assert_int_equal(w.s.singles, 0);
    fx_test_engine_free(b, bp);
    world_free(&w);
}

static void sweep_longer_than_grace_waited_for(void **state) {
    (void)state;
    world w;
    world_new(&w);
    fx_engine *b;
    rd_kafka_t *bp;
    int nb = two_replicas(&w, &b, &bp, 4000); /* grace: 1 s */
    /* a page every 700 ms: the third, with a fifth of b's connections, at 1.4 s */
    assert_int_equal(fx_rate_init(&w.e->org_rate, 1, 700), 0);
    g_peer = b;
    int64_t t0 = util_mono_ms();
    run_both(w.e, b, nb, 10000);
    int64_t took = util_mono_ms() - t0;
    assert_int_equal(known_in(b), nb);
    assert_true(took > 1000);                                /* longer than the grace */
    assert_int_equal(w.s.pages, (LISTED + PAGE - 1) / PAGE); /* one sweep, not two */
    assert_int_equal(w.s.singles, 0);
    assert_int_equal(b->sweep.gen, 0); /* b asked nothing */
    fx_test_engine_free(b, bp);
    world_free(&w);
}

/* Turns of b alone for ms, handing it a listing of a connection it does not know every
 * 20 ms (another replica's sweep under way, never listing b's). */
static void run_with_listings(fx_engine *b, int64_t ms) {
    static const char obj[] = "{\"connection_id\":\"elsewhere\",\"integration_name\":\"sandbox\"}";
    int64_t until = util_mono_ms() + ms, next = 0;
    while (util_mono_ms() < until) {
        if (util_mono_ms() >= next) {
            fx_engine_listed(b, "elsewhere", obj, sizeof obj - 1, util_now_ms());
            next = util_mono_ms() + 20;
        }
        fx_engine_tick(b, util_mono_ms(), util_now_ms());
        fx_http_run(b->http, 5);
    }
}

static void endless_listings_waited_out_within_the_bound(void **state) {
    (void)state;
    world w;
    world_new(&w);
    fx_engine *b;
    rd_kafka_t *bp;
    int nb = two_replicas(&w, &b, &bp, 400); /* grace: 100 ms, the bound 1.6 s */
    g_peer = w.e;                            /* where b's own sweep hands the others' */
    run_with_listings(b, 1000);
    assert_int_equal(w.s.pages + w.s.singles, 0); /* waited past its grace */
    run_with_listings(b, 2000);
    run_both(NULL, b, nb, 5000);
    assert_int_equal(known_in(b), nb); /* then asked for itself */
    assert_true(w.s.pages + w.s.singles > 0);
    fx_test_engine_free(b, bp);
    world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_due_read_from_pages),
        cmocka_unit_test(few_due_asked_each),
        cmocka_unit_test(one_sweep_for_two_replicas),
        cmocka_unit_test(sweeper_gone_asked_after_grace),
        cmocka_unit_test(sweep_longer_than_grace_waited_for),
        cmocka_unit_test(endless_listings_waited_out_within_the_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
