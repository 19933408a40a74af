/* gw_reaper.c - cut requests that take longer than the limit (see gw_reaper.h). */
#include "gw_reaper.h"

#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define GW_REAPER_TICK_MS 250

/* One tracked connection; lives from the STARTED to the CLOSED notification. */
typedef struct gw_tracked {
    struct gw_tracked *prev, *next;
    int fd;
    int64_t started_ms; /* start of the current request (monotonic) */
    int cut;
} gw_tracked;

struct gw_reaper {
    int limit_ms;
    pthread_mutex_t mu; /* the list; held while shutting a socket down, so that a
                           socket is never shut after libmicrohttpd closed it */
    gw_tracked head;    /* sentinel of a circular list */
    pthread_t thread;
    atomic_int stop;
    atomic_long cuts;
};

static void *reaper_main(void *arg) {
    gw_reaper *r = arg;
    while (!atomic_load(&r->stop)) {
        usleep(GW_REAPER_TICK_MS * 1000);
        int64_t now = util_mono_ms();
        pthread_mutex_lock(&r->mu);
        for (gw_tracked *t = r->head.next; t != &r->head; t = t->next) {
            if (t->cut || now - t->started_ms <= r->limit_ms) continue;
            /* shutdown, not close: the descriptor stays libmicrohttpd's to close. */
            shutdown(t->fd, SHUT_RDWR);
            t->cut = 1;
            atomic_fetch_add(&r->cuts, 1);
            log_info("request over the time limit: connection cut", NULL);
        }
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

gw_reaper *gw_reaper_new(int limit_ms) {
    gw_reaper *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->limit_ms = limit_ms;
    r->head.next = r->head.prev = &r->head;
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->stop, 0);
    atomic_init(&r->cuts, 0);
    if (pthread_create(&r->thread, NULL, reaper_main, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        free(r);
        return NULL;
    }
    return r;
}

void gw_reaper_free(gw_reaper *r) {
    if (!r) return;
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    /* The daemon is stopped: every CLOSED notification has removed its entry. */
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void gw_reaper_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code) {
    gw_reaper *r = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        gw_tracked *t = ci ? calloc(1, sizeof *t) : NULL;
        if (!t) return; /* untracked: only the idle timeout applies */
        t->fd = ci->connect_fd;
        t->started_ms = util_mono_ms();
        pthread_mutex_lock(&r->mu);
        t->next = r->head.next;
        t->prev = &r->head;
        r->head.next->prev = t;
        r->head.next = t;
        pthread_mutex_unlock(&r->mu);
        *socket_context = t;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        gw_tracked *t = *socket_context;
        if (!t) return;
        pthread_mutex_lock(&r->mu);
        t->prev->next = t->next;
        t->next->prev = t->prev;
        pthread_mutex_unlock(&r->mu);
        free(t);
        *socket_context = NULL;
    }
}

void gw_reaper_request_done(gw_reaper *r, struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    gw_tracked *t = ci ? ci->socket_context : NULL;
    if (!t) return;
    pthread_mutex_lock(&r->mu);
    t->started_ms = util_mono_ms();
    pthread_mutex_unlock(&r->mu);
}

long gw_reaper_cut_count(const gw_reaper *r) { return atomic_load(&((gw_reaper *)r)->cuts); }
