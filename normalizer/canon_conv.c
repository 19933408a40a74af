/* canon_conv.c - the typed converters of the canonical model: each takes one cJSON value,
 * checks its type and writes it in canonical form, applying the shared value rules
 * (common/values.h: timestamps, decimals) and checking integers for exactness.
 *
 * The value policy: they only ever convert fields that are neither identity nor version
 * (canon.c checks id, connection_id and the dates that order versions itself, and fails
 * the record). A value that cannot be cast is written as null and recorded as a change
 * (canon_change): one odd optional field must not cost the whole record.
 */
#include "normalizer/canon_internal.h"

#include <stdio.h>
#include <string.h>

static const char *type_name(const cJSON *v) {
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsNumber(v)) return "number";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsArray(v)) return "array";
    if (cJSON_IsObject(v)) return "object";
    return "other";
}

/* Write null for the value of `name` and record why. */
static int nulled(canon_ctx *c, const char *name, const char *reason) {
    canon_w_lit(c, "null");
    return canon_change(c, name, "nulled", reason);
}

static int wrong_type(canon_ctx *c, const cJSON *v, const char *name, const char *want) {
    char why[64];
    snprintf(why, sizeof why, "wrong type: %s, want %s", type_name(v), want);
    return nulled(c, name, why);
}

static int is_absent(const cJSON *v) {
    return v == NULL || cJSON_IsNull(v);
}

static int put_null(canon_ctx *c) {
    canon_w_lit(c, "null");
    return 0;
}

int canon_conv_str(canon_ctx *c, const cJSON *v, const char *name) {
    if (c->failed) return -1;
    if (is_absent(v)) return put_null(c);
    if (!cJSON_IsString(v)) return wrong_type(c, v, name, "string");
    canon_w_str(c, v->valuestring);
    return 0;
}

int canon_conv_time(canon_ctx *c, const cJSON *v, const char *name) {
    char ts[VAL_TIME_LEN];
    if (c->failed) return -1;
    /* An empty string is how some WMSs say "no date"; it means the same as null. */
    if (is_absent(v) || (cJSON_IsString(v) && v->valuestring[0] == '\0')) return put_null(c);
    if (!cJSON_IsString(v)) return wrong_type(c, v, name, "timestamp string");
    if (val_time_norm(v->valuestring, ts) < 0) return nulled(c, name, "bad timestamp");
    /* Normalised: digits and -T:.Z only, nothing to escape. */
    canon_w_ch(c, '"');
    canon_w_mem(c, ts, strlen(ts));
    canon_w_ch(c, '"');
    return 0;
}

int canon_conv_dec(canon_ctx *c, const cJSON *v, const char *name) {
    char dec[VAL_DEC_LEN];
    if (c->failed) return -1;
    if (is_absent(v)) return put_null(c);
    if (cJSON_IsNumber(v)) {
        if (val_dec_from_double(v->valuedouble, dec) < 0)
            return nulled(c, name, "non-finite number");
    } else if (cJSON_IsString(v)) {
        if (val_dec_from_text(v->valuestring, dec) < 0) return nulled(c, name, "non-numeric text");
    } else {
        return wrong_type(c, v, name, "number");
    }
    /* Digits, '-' and '.' only, nothing to escape. */
    canon_w_ch(c, '"');
    canon_w_mem(c, dec, strlen(dec));
    canon_w_ch(c, '"');
    return 0;
}

int canon_int_value(const cJSON *v, int64_t *out) {
    return cJSON_IsNumber(v) ? val_int_exact(v->valuedouble, out) : -1;
}

int canon_conv_int(canon_ctx *c, const cJSON *v, const char *name) {
    int64_t n;
    if (c->failed) return -1;
    if (is_absent(v)) return put_null(c);
    if (!cJSON_IsNumber(v)) return wrong_type(c, v, name, "integer");
    if (canon_int_value(v, &n) < 0) return nulled(c, name, "not an exact integer");
    /* Our own digits, so that a large quantity is never printed in exponent form. */
    canon_w_i64(c, n);
    return 0;
}

int canon_conv_bool(canon_ctx *c, const cJSON *v, const char *name) {
    if (c->failed) return -1;
    if (is_absent(v)) return put_null(c);
    if (!cJSON_IsBool(v)) return wrong_type(c, v, name, "boolean");
    if (cJSON_IsTrue(v))
        canon_w_lit(c, "true");
    else
        canon_w_lit(c, "false");
    return 0;
}
