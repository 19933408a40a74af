/* util.h - small shared helpers: clocks, signals, string buffers. (Timestamp text is
 * values.h's.) */
#ifndef TS_UTIL_H
#define TS_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Set by SIGINT/SIGTERM; stages poll it every 100 ms or so. */
extern volatile sig_atomic_t util_stop;
void util_install_signals(void);

int64_t util_now_ms(void);  /* wall clock, ms since epoch */
int64_t util_mono_ms(void); /* monotonic ms */
int64_t util_mono_us(void); /* monotonic µs */

/* v in decimal (with '-' when negative), written at the END of buf; returns where it
 * starts, so the digits are [ret, buf + UTIL_I64_BUF). No printf: several stages print
 * integers per record on their hot path. */
#define UTIL_I64_BUF 24
char *util_i64_digits(int64_t v, char buf[UTIL_I64_BUF]);

/* A growable byte buffer. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

int sbuf_append(sbuf *b, const void *data, size_t n); /* 0 or -1 (ENOMEM) */
int sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbuf_json_str(sbuf *b, const char *s, size_t n); /* append a quoted JSON string */
void sbuf_free(sbuf *b);

#endif
