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
    IAM_METRIC_COUNT
};

/* Adds `amount` (may be negative for gauges). */
void iam_metrics_add(enum iam_metric metric, int64_t amount);

/* Sets a gauge. */
void iam_metrics_set(enum iam_metric metric, int64_t value);

/* The current value. */
int64_t iam_metrics_get(enum iam_metric metric);

/* Seconds since the epoch when the process first used this module (iamd calls it at start). */
int64_t iam_metrics_start_time(void);

#endif
