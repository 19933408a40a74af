/* sim_webhook.c - the webhook sender: a bounded queue drained by one thread that keeps up
 * to `concurrency` deliveries in flight on a libcurl multi handle. A failed delivery goes
 * back into the queue with a due time from the Svix schedule; each attempt is re-signed
 * with a fresh timestamp under the same svix-id. */
#include "sim_webhook.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util.h"

/* Svix: immediately, then +5 s, +5 min, +30 min, +2 h, +5 h, +10 h, +10 h */
static const int retry_schedule_s[SIM_WH_ATTEMPTS] = {0, 5, 300, 1800, 7200, 18000, 36000, 36000};
#define STALE_OFFSET_S 600 /* beyond Svix's 300 s tolerance */
#define POLL_MS 50

typedef struct wh_msg {
    char id[32];
    char *body; /* owned */
    size_t len;
    int attempts;   /* made so far */
    int64_t due_ms; /* monotonic */
    uint64_t seq;   /* enqueue order */
} wh_msg;

typedef struct wh_xfer {
    wh_msg *msg;
    CURL *easy;
    struct curl_slist *hdrs;
    char *sent; /* the bytes actually sent (may be mangled) */
    int abort;  /* webhook-delivery: abort-message seen */
} wh_xfer;

typedef struct wh_stored {
    char id[32];
    char sig[40];
    char *body;
    size_t len;
    int64_t stored_ms;
} wh_stored;

static struct {
    pthread_mutex_t mu;
    pthread_t thread;
    int running;
    volatile int stop;
    char *url, *public_base;
    svix_key keys[SVIX_MAX_SECRETS];
    int nkeys;
    double scale;
    int timeout_ms, queue_max, concurrency;
    wh_msg **q;
    int nq;
    uint64_t seq;
    int inflight;
    wh_xfer *active[SIM_WH_MAX_INFLIGHT]; /* in-flight transfers, for shutdown */
    CURLM *multi;
    sim_wh_faults faults;
    sim_wh_stats st;
    wh_stored stored[SIM_WH_STORED_EVENTS];
    int stored_next;
} W = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void random_b62(char *out, int n) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[64];
    if (n > 64 || RAND_bytes(r, n) != 1) {
        for (int i = 0; i < n && i < 64; i++)
            r[i] = (unsigned char)rand();
    }
    for (int i = 0; i < n; i++)
        out[i] = al[r[i] % 62];
    out[n] = 0;
}

void sim_wh_new_msg_id(char out[32]) {
    memcpy(out, "msg_", 4);
    random_b62(out + 4, 24);
}

static void msg_free(wh_msg *m) {
    if (m) {
        free(m->body);
        free(m);
    }
}

/* Caller holds W.mu. Takes ownership of m (frees it when the queue is full). */
static int queue_push(wh_msg *m) {
    if (W.nq >= W.queue_max) {
        W.st.dropped++;
        log_warn("webhook queue full: event dropped", "svix_id", m->id, NULL);
        msg_free(m);
        return -1;
    }
    W.q[W.nq++] = m;
    return 0;
}

/* Keep the full event so data_url can serve it; returns the truncated body to send
 * (malloc'd) or NULL to send the original. Caller holds W.mu. */
static char *truncate_event(const char *id, const char *body, size_t len, size_t *outlen) {
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root) return NULL;
    cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    cJSON *rid = data ? cJSON_GetObjectItemCaseSensitive(data, "id") : NULL;
    cJSON *small = cJSON_CreateObject();
    if (rid) cJSON_AddItemToObject(small, "id", cJSON_Duplicate(rid, 1));
    cJSON_ReplaceItemInObjectCaseSensitive(root, "data", small);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "previous_attributes");
    cJSON_AddBoolToObject(root, "data_truncated", 1);
    char url[512];
    snprintf(url, sizeof url, "%s/webhooks/events/%s/data", W.public_base, id);
    cJSON_AddStringToObject(root, "data_url", url);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!out) return NULL;
    wh_stored *s = &W.stored[W.stored_next];
    W.stored_next = (W.stored_next + 1) % SIM_WH_STORED_EVENTS;
    free(s->body);
    s->body = malloc(len);
    if (!s->body) {
        free(out);
        memset(s, 0, sizeof *s);
        return NULL;
    }
    memcpy(s->body, body, len);
    s->len = len;
    snprintf(s->id, sizeof s->id, "%s", id);
    random_b62(s->sig, 32);
    s->stored_ms = util_now_ms();
    *outlen = strlen(out);
    W.st.truncated++;
    return out;
}

int sim_wh_enqueue(char *body, size_t len) {
    pthread_mutex_lock(&W.mu);
    if (!W.running || !W.url || !*W.url) {
        W.st.skipped++;
        pthread_mutex_unlock(&W.mu);
        free(body);
        return 0;
    }
    wh_msg *m = calloc(1, sizeof *m);
    if (!m) {
        W.st.dropped++;
        pthread_mutex_unlock(&W.mu);
        free(body);
        return -1;
    }
    sim_wh_new_msg_id(m->id);
    m->body = body;
    m->len = len;
    if (W.faults.oversize_bytes > 0 && (long)len > W.faults.oversize_bytes) {
        size_t tl = 0;
        char *t = truncate_event(m->id, body, len, &tl);
        if (t) {
            free(m->body);
            m->body = t;
            m->len = tl;
        }
    }
    m->due_ms = util_mono_ms();
    m->seq = ++W.seq;
    W.st.enqueued++;
    int dup = 0;
    if (W.faults.duplicate > 0) {
        W.faults.duplicate--;
        dup = 1;
    }
    int rc = queue_push(m);
    if (rc == 0 && dup) {
        /* a second message with the same svix-id and body: a duplicate delivery */
        wh_msg *d = calloc(1, sizeof *d);
        char *copy = malloc(m->len);
        if (d && copy) {
            memcpy(d->id, m->id, sizeof d->id);
            memcpy(copy, m->body, m->len);
            d->body = copy;
            d->len = m->len;
            d->due_ms = m->due_ms;
            d->seq = ++W.seq;
            W.st.duplicated++;
            queue_push(d);
        } else {
            free(d);
            free(copy);
        }
    }
    pthread_mutex_unlock(&W.mu);
    if (W.multi) curl_multi_wakeup(W.multi);
    return rc;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg) {
    wh_xfer *x = arg;
    size_t len = size * n;
    static const char h[] = "webhook-delivery:";
    if (len > sizeof h - 1 && strncasecmp(buf, h, sizeof h - 1) == 0) {
        const char *v = buf + sizeof h - 1;
        while (*v == ' ')
            v++;
        if (strncasecmp(v, "abort-message", 13) == 0) x->abort = 1;
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg) {
    (void)buf;
    (void)arg;
    return size * n; /* the receiver's answer body is not needed */
}

/* Build and start one attempt. Caller holds W.mu (faults are consumed here). */
static int start_attempt(wh_msg *m) {
    wh_xfer *x = calloc(1, sizeof *x);
    if (!x) return -1;
    x->msg = m;
    long long ts = util_now_ms() / 1000;
    if (W.faults.stale_timestamp > 0) {
        W.faults.stale_timestamp--;
        ts -= STALE_OFFSET_S;
    }
    char sigs[SVIX_MAX_SECRETS * (SVIX_SIG_B64_LEN + 4) + 32] = "svix-signature: ";
    int bad = 0;
    if (W.faults.bad_signature > 0) {
        W.faults.bad_signature--;
        bad = 1;
    }
    for (int i = 0; i < W.nkeys; i++) {
        svix_key k = W.keys[i];
        if (bad) k.key[0] ^= 0x5a; /* a different key: the signature cannot verify */
        char sig[SVIX_SIG_B64_LEN + 1];
        if (svix_sign(&k, m->id, ts, m->body, m->len, sig) != 0) goto fail; /* retried later */
        if (i) strcat(sigs, " ");
        strcat(sigs, "v1,");
        strcat(sigs, sig);
    }
    x->sent = malloc(m->len + 2);
    if (!x->sent) goto fail;
    size_t sent_len = m->len;
    if (W.faults.mangled_body > 0 && m->len > 1) {
        /* one extra space after the opening brace: still JSON, no longer the signed bytes */
        W.faults.mangled_body--;
        x->sent[0] = m->body[0];
        x->sent[1] = ' ';
        memcpy(x->sent + 2, m->body + 1, m->len - 1);
        sent_len = m->len + 1;
    } else {
        memcpy(x->sent, m->body, m->len);
    }
    x->sent[sent_len] = 0;
    char h_id[64], h_ts[64];
    snprintf(h_id, sizeof h_id, "svix-id: %s", m->id);
    snprintf(h_ts, sizeof h_ts, "svix-timestamp: %lld", ts);
    struct curl_slist *l = NULL, *t;
    const char *hs[] = {"Content-Type: application/json",
                        "User-Agent: Svix-Webhooks/1.0 (trackstar-sim)",
                        h_id,
                        h_ts,
                        sigs,
                        "Expect:"};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        t = curl_slist_append(l, hs[i]);
        if (!t) goto fail_list;
        l = t;
    }
    x->hdrs = l;
    x->easy = curl_easy_init();
    if (!x->easy) goto fail_list;
    curl_easy_setopt(x->easy, CURLOPT_URL, W.url);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->sent);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)sent_len);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)W.timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    if (curl_multi_add_handle(W.multi, x->easy) != CURLM_OK) goto fail_easy;
    m->attempts++;
    W.st.attempts++;
    if (m->attempts > 1) W.st.retries++;
    for (int i = 0; i < SIM_WH_MAX_INFLIGHT; i++) {
        if (!W.active[i]) {
            W.active[i] = x;
            break;
        }
    }
    W.inflight++;
    return 0;
fail_easy:
    curl_easy_cleanup(x->easy);
fail_list:
    curl_slist_free_all(l);
fail:
    free(x->sent);
    free(x);
    return -1;
}

/* Pick the next due message (oldest first, or newest first under the out-of-order
 * fault) and remove it from the queue. Caller holds W.mu. */
static wh_msg *pick_due(int64_t now) {
    int best = -1;
    int newest = W.faults.out_of_order > 0;
    for (int i = 0; i < W.nq; i++) {
        if (W.q[i]->due_ms > now) continue;
        if (best < 0 || (newest ? W.q[i]->seq > W.q[best]->seq : W.q[i]->seq < W.q[best]->seq))
            best = i;
    }
    if (best < 0) return NULL;
    /* out-of-order only means something when there is a choice */
    if (newest && W.nq > 1) W.faults.out_of_order--;
    wh_msg *m = W.q[best];
    W.q[best] = W.q[--W.nq];
    return m;
}

static void finish(CURL *easy, CURLcode res) {
    wh_xfer *x = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(W.multi, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(x->hdrs);
    free(x->sent);
    wh_msg *m = x->msg;
    char scode[16];
    snprintf(scode, sizeof scode, "%ld", code);
    pthread_mutex_lock(&W.mu);
    W.inflight--;
    for (int i = 0; i < SIM_WH_MAX_INFLIGHT; i++)
        if (W.active[i] == x) W.active[i] = NULL;
    if (res == CURLE_OK && code >= 200 && code < 300) {
        W.st.delivered++;
        log_debug("webhook delivered", "svix_id", m->id, "status", scode, NULL);
        msg_free(m);
    } else if (x->abort) {
        W.st.aborted++;
        log_info("webhook aborted by receiver", "svix_id", m->id, NULL);
        msg_free(m);
    } else if (m->attempts >= SIM_WH_ATTEMPTS) {
        W.st.failed++;
        log_warn("webhook failed after all attempts", "svix_id", m->id, "status", scode, NULL);
        msg_free(m);
    } else {
        double delay = retry_schedule_s[m->attempts] * 1000.0 * W.scale;
        m->due_ms = util_mono_ms() + (int64_t)delay;
        log_debug("webhook attempt failed, will retry", "svix_id", m->id, "status", scode, "error",
                  res == CURLE_OK ? NULL : curl_easy_strerror(res), NULL);
        queue_push(m);
    }
    pthread_mutex_unlock(&W.mu);
    free(x);
}

static void *sender(void *arg) {
    (void)arg;
    while (!W.stop) {
        pthread_mutex_lock(&W.mu);
        int64_t now = util_mono_ms();
        while (W.inflight < W.concurrency) {
            wh_msg *m = pick_due(now);
            if (!m) break;
            if (start_attempt(m) != 0) {
                /* could not even build the request: count it as a failed attempt */
                m->attempts++;
                m->due_ms = now + 1000;
                if (m->attempts >= SIM_WH_ATTEMPTS) {
                    W.st.failed++;
                    msg_free(m);
                } else {
                    queue_push(m);
                }
                break;
            }
        }
        pthread_mutex_unlock(&W.mu);
        int running = 0;
        curl_multi_perform(W.multi, &running);
        CURLMsg *cm;
        int left;
        while ((cm = curl_multi_info_read(W.multi, &left)))
            if (cm->msg == CURLMSG_DONE) finish(cm->easy_handle, cm->data.result);
        curl_multi_poll(W.multi, NULL, 0, POLL_MS, NULL);
    }
    return NULL;
}

int sim_wh_start(const sim_wh_config *cfg, char *errstr, size_t errlen) {
    W.url = strdup(cfg->url ? cfg->url : "");
    W.public_base = strdup(cfg->public_base ? cfg->public_base : "");
    if (!W.url || !W.public_base) {
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    memcpy(W.keys, cfg->keys, sizeof W.keys);
    W.nkeys = cfg->nkeys;
    W.scale = cfg->retry_scale;
    W.timeout_ms = cfg->timeout_ms;
    W.queue_max = cfg->queue_max;
    W.concurrency = cfg->concurrency < 1                     ? 1
                    : cfg->concurrency > SIM_WH_MAX_INFLIGHT ? SIM_WH_MAX_INFLIGHT
                                                             : cfg->concurrency;
    W.q = calloc((size_t)W.queue_max, sizeof *W.q);
    W.multi = curl_multi_init();
    if (!W.q || !W.multi) {
        snprintf(errstr, errlen, "cannot set up the webhook sender");
        return -1;
    }
    W.running = 1;
    if (pthread_create(&W.thread, NULL, sender, NULL) != 0) {
        W.running = 0;
        snprintf(errstr, errlen, "cannot start the webhook sender thread");
        return -1;
    }
    return 0;
}

void sim_wh_stop(void) {
    if (!W.running) return;
    W.stop = 1;
    curl_multi_wakeup(W.multi);
    pthread_join(W.thread, NULL);
    pthread_mutex_lock(&W.mu);
    W.running = 0;
    /* abandon in-flight transfers: the simulator is exiting */
    for (int i = 0; i < SIM_WH_MAX_INFLIGHT; i++) {
        wh_xfer *x = W.active[i];
        if (!x) continue;
        curl_multi_remove_handle(W.multi, x->easy);
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->hdrs);
        free(x->sent);
        msg_free(x->msg);
        free(x);
        W.active[i] = NULL;
    }
    for (int i = 0; i < W.nq; i++)
        msg_free(W.q[i]);
    W.nq = 0;
    for (int i = 0; i < SIM_WH_STORED_EVENTS; i++) {
        free(W.stored[i].body);
        W.stored[i].body = NULL;
    }
    pthread_mutex_unlock(&W.mu);
    curl_multi_cleanup(W.multi);
    W.multi = NULL;
    free(W.q);
    free(W.url);
    free(W.public_base);
}

void sim_wh_stats_get(sim_wh_stats *out) {
    pthread_mutex_lock(&W.mu);
    *out = W.st;
    out->pending = W.nq + W.inflight;
    pthread_mutex_unlock(&W.mu);
}

void sim_wh_faults_set(const sim_wh_faults *f) {
    pthread_mutex_lock(&W.mu);
    W.faults = *f;
    pthread_mutex_unlock(&W.mu);
}

void sim_wh_faults_get(sim_wh_faults *out) {
    pthread_mutex_lock(&W.mu);
    *out = W.faults;
    pthread_mutex_unlock(&W.mu);
}

static wh_stored *stored_find(const char *id) {
    for (int i = 0; i < SIM_WH_STORED_EVENTS; i++)
        if (W.stored[i].body && strcmp(W.stored[i].id, id) == 0) return &W.stored[i];
    return NULL;
}

int sim_wh_event_sig(const char *msg_id, char *sig, size_t siglen) {
    pthread_mutex_lock(&W.mu);
    wh_stored *s = stored_find(msg_id);
    if (s) snprintf(sig, siglen, "%s", s->sig);
    pthread_mutex_unlock(&W.mu);
    return s ? 0 : -1;
}

int sim_wh_event_download(const char *msg_id, const char *sig, int64_t now_ms, char **body,
                          size_t *len) {
    int rc = -1;
    pthread_mutex_lock(&W.mu);
    wh_stored *s = stored_find(msg_id);
    if (s && sig && strcmp(s->sig, sig) == 0 && now_ms - s->stored_ms <= SIM_WH_DOWNLOAD_TTL_MS) {
        *body = malloc(s->len + 1);
        if (*body) {
            memcpy(*body, s->body, s->len);
            (*body)[s->len] = 0;
            *len = s->len;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&W.mu);
    return rc;
}
