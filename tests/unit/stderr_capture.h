/* stderr_capture.h - read what the code under test logged (log.h writes JSON lines to
 * file descriptor 2): capture_start() points fd 2 at a temporary file, capture_end()
 * puts it back and returns the text (malloc'd). */
#ifndef TEST_STDERR_CAPTURE_H
#define TEST_STDERR_CAPTURE_H

#include <setjmp.h> /* cmocka.h's prerequisites */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int capture_saved_fd = -1;
static FILE *capture_file;

static inline void capture_start(void) {
    fflush(stderr);
    capture_file = tmpfile();
    assert_non_null(capture_file);
    capture_saved_fd = dup(STDERR_FILENO);
    assert_true(capture_saved_fd >= 0);
    assert_true(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
}

static inline char *capture_end(void) {
    assert_true(dup2(capture_saved_fd, STDERR_FILENO) >= 0);
    close(capture_saved_fd);
    long n = ftell(capture_file);
    char *text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    assert_non_null(text);
    rewind(capture_file);
    if (n > 0) assert_int_equal(fread(text, 1, (size_t)n, capture_file), (size_t)n);
    fclose(capture_file);
    return text;
}

/* How many times needle occurs in text. */
static inline int count_of(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

#endif
