/* stage.c - common start-up of every pipeline binary (see stage.h). */
#include "stage.h"

#include "log.h"
#include "metrics.h"
#include "util.h"

#include <stdio.h>

int stage_start(const char *stage, const stage_cfg *s, admin_ready_fn ready, void *arg) {
    log_level lvl;
    if (log_level_parse(s->log_level, &lvl) != 0) {
        fprintf(stderr,
                "%s: configuration error: LOG_LEVEL: '%s' is not debug, info, warn or error\n",
                stage, s->log_level);
        return -1;
    }
    log_init(stage, lvl);
    metrics_set_build_info(stage);
    util_install_signals();
    char err[256];
    if (admin_start(s->admin_bind, (int)s->admin_port, (int)s->healthz_stale_s, ready, arg, err,
                    sizeof err) != 0) {
        log_error("cannot start admin server", "error", err, NULL);
        return -1;
    }
    return 0;
}
