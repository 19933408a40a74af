/* gw_reaper.h - a total time limit per request, against slow clients.
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client that trickles one
 * byte every second keeps its connection, and its slot, forever (slowloris). The
 * reaper remembers when each connection began its current request and shuts down the
 * socket of one still unanswered past the limit; libmicrohttpd then sees the
 * connection fail and closes it. The limit covers the whole request (headers, body
 * and the wait for Kafka), which the ack deadline keeps far below it.
 */
#ifndef GW_REAPER_H
#define GW_REAPER_H

#include <microhttpd.h>

typedef struct gw_reaper gw_reaper;

/* Start the reaper thread. limit_ms > 0. NULL when out of memory or threads. */
gw_reaper *gw_reaper_new(int limit_ms);

/* Stop the thread and free everything. Call after MHD_stop_daemon(). NULL allowed. */
void gw_reaper_free(gw_reaper *r);

/* MHD_OPTION_NOTIFY_CONNECTION callback (cls = the reaper): tracks connections. */
void gw_reaper_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);

/* A request on conn was answered: the next one (keep-alive) gets a fresh limit. */
void gw_reaper_request_done(gw_reaper *r, struct MHD_Connection *conn);

/* Connections cut so far (for tests and metrics). */
long gw_reaper_cut_count(const gw_reaper *r);

#endif
