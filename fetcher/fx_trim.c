/* fx_trim.c - giving back free heap memory after a busy period (see fx_trim.h). */
#include "fx_trim.h"

#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

void fx_trim_init(fx_trim *t) {
    t->next_ms = 0;
    t->low = -1;
    t->trims = 0;
}

int fx_trim_due(fx_trim *t, int64_t now_ms, int64_t unused) {
    if (now_ms < t->next_ms) return 0;
    t->next_ms = now_ms + FX_TRIM_CHECK_MS;
    if (unused < 0) return 0;
    if (t->low < 0 || unused < t->low) {
        t->low = unused;
        return 0;
    }
    return unused - t->low > FX_TRIM_SLACK_BYTES;
}

void fx_trim_done(fx_trim *t, int64_t unused) {
    t->low = unused;
    t->trims++;
}

int64_t fx_trim_unused(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long long size = 0, resident = 0;
    int n = fscanf(f, "%lld %lld", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (n != 2 || page <= 0) return -1;
    struct mallinfo2 mi = mallinfo2();
    return resident * page - (int64_t)(mi.uordblks + mi.hblkhd);
}

int fx_trim_step(fx_trim *t, int64_t now_ms) {
    if (now_ms < t->next_ms) return 0;
    if (!fx_trim_due(t, now_ms, fx_trim_unused())) return 0;
    malloc_trim(0);
    fx_trim_done(t, fx_trim_unused());
    return 1;
}
