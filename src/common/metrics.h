/*
 * metrics.h: the process-wide counters and gauges behind GET /metrics.
 *
 * Each is one atomic in a static table (one cache line each), bumped with a
 * relaxed atomic add on the hot path: no lock, no allocation. Process-wide,
 * like Redis's server.stat_* fields: one iamd per process; unit tests that
 * start several servers in one process see the sums. Names, labels and the
 * exposition format live in api/metrics.c; per-route request counts and
 * latencies are kept by the router (http.h).
 * Labels never carry identifiers (accounts, iam_ids, key ids): only the
 * fixed values listed here.
 */
#ifndef IAM_COMMON_METRICS_H
#define IAM_COMMON_METRICS_H

#include <stdint.h>

enum iam_metric {
    /* HTTP connections (http/server.c) */
    IAM_METRIC_CONNECTIONS_ACTIVE,      /* gauge: open connections */
    IAM_METRIC_CONNECTIONS_ACCEPTED,    /* connections accepted */
    IAM_METRIC_CONNECTIONS_REFUSED,     /* closed at once: over --max-connections */
    IAM_METRIC_CONNECTIONS_TIMED_OUT,   /* cut by --request-timeout (slow clients) */
    IAM_METRIC_REQUESTS_REFUSED_HEADER, /* 414/431 for a request line or headers over --max-header-bytes */
    /* TLS (http/tls.c) */
    IAM_METRIC_TLS_RELOADS_OK,
    IAM_METRIC_TLS_RELOADS_FAILED,
    IAM_METRIC_TLS_CERT_NOT_AFTER,      /* gauge: expiry of the served certificate, seconds since the epoch */
    /* tokens (api/token.c), by grant type */
    IAM_METRIC_TOKENS_APIKEY,
    IAM_METRIC_TOKENS_REFRESH,
    IAM_METRIC_TOKENS_CLIENT_CREDENTIALS,
    IAM_METRIC_TOKENS_PASSWORD,
    /* failed token requests, by OAuth error */
    IAM_METRIC_TOKEN_FAILED_INVALID_REQUEST,
    IAM_METRIC_TOKEN_FAILED_INVALID_GRANT,
    IAM_METRIC_TOKEN_FAILED_UNSUPPORTED_GRANT,
    IAM_METRIC_TOKEN_FAILED_TOO_MANY_REQUESTS,
    IAM_METRIC_TOKEN_FAILED_UNAVAILABLE,
    IAM_METRIC_TOKEN_FAILED_SERVER_ERROR,
    IAM_METRIC_TOKEN_FAILED_OTHER,
    /* decisions answered by the decision API (api/authz.c) */
    IAM_METRIC_DECISIONS_PERMIT,
    IAM_METRIC_DECISIONS_DENY,
    /* requests that failed because the database failed or could not be reached */
    IAM_METRIC_STORE_ERRORS,
    IAM_METRIC_STORE_UNAVAILABLE,
    /* authentication answered from memory or not (iam/authn.c): API-key credentials, verified access tokens */
    IAM_METRIC_CREDENTIAL_CACHE_HITS,
    IAM_METRIC_CREDENTIAL_CACHE_MISSES,
    IAM_METRIC_TOKEN_CACHE_HITS,
    IAM_METRIC_TOKEN_CACHE_MISSES,
    IAM_METRIC_COUNT
};

/* Adds `amount` (may be negative for gauges). */
void iam_metrics_add(enum iam_metric metric, int64_t amount);

/* Sets a gauge. */
void iam_metrics_set(enum iam_metric metric, int64_t value);

/* The current value. */
int64_t iam_metrics_get(enum iam_metric metric);

/*
 * The database latency histogram: every call of the public store interface
 * (store/store.c and its siblings measure it in one place) adds its duration.
 * Bucket i counts calls of at most iam_metrics_store_bounds_us[i]
 * microseconds (not cumulative); the last bucket is everything slower.
 */
#define IAM_METRICS_STORE_BUCKETS 14
extern const int64_t iam_metrics_store_bounds_us[IAM_METRICS_STORE_BUCKETS - 1];

struct iam_metrics_histogram {
    uint64_t buckets[IAM_METRICS_STORE_BUCKETS];
    uint64_t sum_ns;
};

/* Adds one store call that took `duration_ns` (negative counts as 0). Lock-free. */
void iam_metrics_observe_store_call(int64_t duration_ns);

/* A copy of the store call histogram (each bucket read atomically; the whole is not a snapshot). */
void iam_metrics_store_calls(struct iam_metrics_histogram *out);

/* Seconds since the epoch when the process first used this module (iamd calls it at start). */
int64_t iam_metrics_start_time(void);

#endif
