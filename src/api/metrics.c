/*
 * metrics.c: the operational endpoints.
 *
 *   GET /metrics   Prometheus text exposition format 0.0.4; who may read it
 *                  is --metrics (off: 404, token: Bearer $IAMD_METRICS_TOKEN,
 *                  open: anyone)
 *   GET /readyz    200 when the database answers and a signing key is
 *                  active, else 503 naming the failing check
 *
 * (GET /healthz, liveness, is in routes.c.) The numbers come from the
 * process-wide counters (common/metrics.h), the router's per-route
 * statistics (http.h), the store call histogram, and a few reads of the
 * domain's state at scrape time (cache, usage and limiter sizes, each under
 * the lock that already guards it).
 * No label carries an account, identity or key id: routes are templates,
 * every other label has a fixed set of values.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "common/buf.h"
#include "common/metrics.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "iam/authn.h"
#include "iam/credential_cache.h"
#include "iam/engine.h"
#include "iam/keyring.h"
#include "iam/passwords.h"
#include "iam/ratelimit.h"
#include "iam/usage.h"

#ifndef IAMD_VERSION
#define IAMD_VERSION "unknown"
#endif

#define METRICS_MAX_BYTES ((size_t)4 * 1024 * 1024)
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The process-wide counters, as families and labels. */
struct metric_row {
    enum iam_metric metric;
    const char *family; /* rows of one family are adjacent */
    const char *type;
    const char *help;
    const char *labels; /* "" or `name="value"` */
};

static const struct metric_row metric_rows[] = {
    {IAM_METRIC_CONNECTIONS_ACTIVE, "iamd_http_connections_active", "gauge", "Open HTTP connections.", ""},
    {IAM_METRIC_CONNECTIONS_ACCEPTED, "iamd_http_connections_total", "counter", "HTTP connections accepted.", ""},
    {IAM_METRIC_CONNECTIONS_REFUSED, "iamd_http_connections_refused_total", "counter",
     "Connections closed at once because --max-connections were open.", ""},
    {IAM_METRIC_CONNECTIONS_TIMED_OUT, "iamd_http_request_timeouts_total", "counter",
     "Connections closed because a request did not arrive whole within --request-timeout.", ""},
    {IAM_METRIC_REQUESTS_REFUSED_HEADER, "iamd_http_header_limit_refusals_total", "counter",
     "Requests answered 414 or 431 by iamd for a request line or headers over --max-header-bytes.", ""},
    {IAM_METRIC_TOKENS_APIKEY, "iamd_tokens_issued_total", "counter", "Access tokens issued, by grant type.",
     "grant_type=\"apikey\""},
    {IAM_METRIC_TOKENS_REFRESH, "iamd_tokens_issued_total", NULL, NULL, "grant_type=\"refresh_token\""},
    {IAM_METRIC_TOKENS_CLIENT_CREDENTIALS, "iamd_tokens_issued_total", NULL, NULL,
     "grant_type=\"client_credentials\""},
    {IAM_METRIC_TOKENS_PASSWORD, "iamd_tokens_issued_total", NULL, NULL, "grant_type=\"password\""},
    {IAM_METRIC_TOKEN_FAILED_INVALID_REQUEST, "iamd_token_failures_total", "counter",
     "Token requests refused, by OAuth error.", "reason=\"invalid_request\""},
    {IAM_METRIC_TOKEN_FAILED_INVALID_GRANT, "iamd_token_failures_total", NULL, NULL, "reason=\"invalid_grant\""},
    {IAM_METRIC_TOKEN_FAILED_UNSUPPORTED_GRANT, "iamd_token_failures_total", NULL, NULL,
     "reason=\"unsupported_grant_type\""},
    {IAM_METRIC_TOKEN_FAILED_TOO_MANY_REQUESTS, "iamd_token_failures_total", NULL, NULL,
     "reason=\"too_many_requests\""},
    {IAM_METRIC_TOKEN_FAILED_UNAVAILABLE, "iamd_token_failures_total", NULL, NULL,
     "reason=\"temporarily_unavailable\""},
    {IAM_METRIC_TOKEN_FAILED_SERVER_ERROR, "iamd_token_failures_total", NULL, NULL, "reason=\"server_error\""},
    {IAM_METRIC_TOKEN_FAILED_OTHER, "iamd_token_failures_total", NULL, NULL, "reason=\"other\""},
    {IAM_METRIC_DECISIONS_PERMIT, "iamd_authz_decisions_total", "counter",
     "Decisions answered by the decision API (/v2/authz, bulk included).", "decision=\"permit\""},
    {IAM_METRIC_DECISIONS_DENY, "iamd_authz_decisions_total", NULL, NULL, "decision=\"deny\""},
    {IAM_METRIC_STORE_ERRORS, "iamd_store_failures_total", "counter",
     "Requests answered 5xx because the database failed (error) or could not be reached (unavailable).",
     "kind=\"error\""},
    {IAM_METRIC_STORE_UNAVAILABLE, "iamd_store_failures_total", NULL, NULL, "kind=\"unavailable\""},
    {IAM_METRIC_TLS_RELOADS_OK, "iamd_tls_reloads_total", "counter",
     "Certificate reloads on SIGHUP, by result (a failed one keeps the previous certificate).", "result=\"ok\""},
    {IAM_METRIC_TLS_RELOADS_FAILED, "iamd_tls_reloads_total", NULL, NULL, "result=\"failed\""},
    {IAM_METRIC_CREDENTIAL_CACHE_HITS, "iamd_credential_cache_lookups_total", "counter",
     "API-key authentications answered from the credential cache (hit) or from the database (miss).",
     "result=\"hit\""},
    {IAM_METRIC_CREDENTIAL_CACHE_MISSES, "iamd_credential_cache_lookups_total", NULL, NULL, "result=\"miss\""},
    {IAM_METRIC_TOKEN_CACHE_HITS, "iamd_verified_token_cache_lookups_total", "counter",
     "Access tokens accepted from the verified-token cache (hit) or verified and their identity read (miss).",
     "result=\"hit\""},
    {IAM_METRIC_TOKEN_CACHE_MISSES, "iamd_verified_token_cache_lookups_total", NULL, NULL, "result=\"miss\""},
};

struct metrics_writer {
    struct iam_buf text;
    bool failed;
};

static void emit(struct metrics_writer *writer, const char *format, ...) IAM_PRINTF(2, 3);

static void emit(struct metrics_writer *writer, const char *format, ...)
{
    if (writer->failed)
        return;
    char line[1024];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0 || (size_t)length >= sizeof line || iam_buf_append(&writer->text, line, (size_t)length) != IAM_OK)
        writer->failed = true;
}

static void emit_family(struct metrics_writer *writer, const char *name, const char *type, const char *help)
{
    emit(writer, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped (exposition format 0.0.4). */
static void label_escape(const char *value, char *out, size_t size)
{
    size_t used = 0;
    for (const char *c = value ? value : ""; *c && used + 3 < size; c++) {
        if (*c == '\\' || *c == '"') {
            out[used++] = '\\';
            out[used++] = *c;
        } else if (*c == '\n') {
            out[used++] = '\\';
            out[used++] = 'n';
        } else {
            out[used++] = *c;
        }
    }
    out[used] = '\0';
}

struct route_pass {
    struct metrics_writer *writer;
    bool histogram; /* false: request counts; true: durations */
};

static void emit_route(void *context, const char *method, const char *pattern,
                       const struct iam_http_route_stats *stats)
{
    struct route_pass *pass = context;
    char route[512];
    label_escape(pattern, route, sizeof route);
    const char *method_label = method ? method : "";
    if (!pass->histogram) {
        for (int class = 0; class < 5; class++) {
            uint64_t count = atomic_load_explicit(&stats->responses[class], memory_order_relaxed);
            if (count)
                emit(pass->writer, "iamd_http_requests_total{method=\"%s\",route=\"%s\",code=\"%dxx\"} %llu\n",
                     method_label, route, class + 1, (unsigned long long)count);
        }
        return;
    }
    uint64_t buckets[IAM_HTTP_DURATION_BUCKETS], total = 0;
    for (int i = 0; i < IAM_HTTP_DURATION_BUCKETS; i++) {
        buckets[i] = atomic_load_explicit(&stats->duration_buckets[i], memory_order_relaxed);
        total += buckets[i];
    }
    if (!total)
        return;
    uint64_t cumulative = 0;
    for (int i = 0; i < IAM_HTTP_DURATION_BUCKETS; i++) {
        cumulative += buckets[i];
        if (i < IAM_HTTP_DURATION_BUCKETS - 1)
            emit(pass->writer,
                 "iamd_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
                 method_label, route, (double)iam_http_duration_bounds_us[i] / 1e6, (unsigned long long)cumulative);
        else
            emit(pass->writer,
                 "iamd_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n",
                 method_label, route, (unsigned long long)cumulative);
    }
    uint64_t sum_us = atomic_load_explicit(&stats->duration_us_sum, memory_order_relaxed);
    emit(pass->writer, "iamd_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n", method_label,
         route, (double)sum_us / 1e6);
    emit(pass->writer, "iamd_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n", method_label,
         route, (unsigned long long)cumulative);
}

/* The store call histogram (common/metrics.h), cumulative as the format wants. */
static void emit_store_calls(struct metrics_writer *writer)
{
    struct iam_metrics_histogram calls;
    iam_metrics_store_calls(&calls);
    emit_family(writer, "iamd_store_call_duration_seconds", "histogram",
                "Duration of each call into the database layer (one transaction or read), every caller's.");
    uint64_t cumulative = 0;
    for (int i = 0; i < IAM_METRICS_STORE_BUCKETS; i++) {
        cumulative += calls.buckets[i];
        if (i < IAM_METRICS_STORE_BUCKETS - 1)
            emit(writer, "iamd_store_call_duration_seconds_bucket{le=\"%g\"} %llu\n",
                 (double)iam_metrics_store_bounds_us[i] / 1e6, (unsigned long long)cumulative);
        else
            emit(writer, "iamd_store_call_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
    }
    emit(writer, "iamd_store_call_duration_seconds_sum %.6f\n", (double)calls.sum_ns / 1e9);
    emit(writer, "iamd_store_call_duration_seconds_count %llu\n", (unsigned long long)cumulative);
}

/* Sizes read at scrape time (each under the lock that guards it) and the failed-authentication limiters. */
static void emit_memory_state(struct metrics_writer *writer, struct iam_service *service)
{
    int64_t snapshot = iam_engine_snapshot_serial(service->engine);
    emit_family(writer, "iamd_credential_cache_entries", "gauge",
                "API-key credentials the cache would answer now (stored since the last change seen).");
    emit(writer, "iamd_credential_cache_entries %zu\n", iam_credential_cache_count(service->credential_cache, snapshot));
    emit_family(writer, "iamd_credential_cache_capacity", "gauge", "Slots of the credential cache.");
    emit(writer, "iamd_credential_cache_capacity %zu\n", iam_credential_cache_capacity(service->credential_cache));
    emit_family(writer, "iamd_verified_token_cache_entries", "gauge",
                "Verified access tokens the cache would accept now (unexpired, verified since the last change seen).");
    emit(writer, "iamd_verified_token_cache_entries %zu\n", iam_authn_cache_count(service));

    int64_t confirmed_age_ms = 0;
    (void)iam_service_store_reachable(service, &confirmed_age_ms);
    emit_family(writer, "iamd_store_confirmed_age_seconds", "gauge",
                "Seconds since the decision engine last confirmed its snapshot current against the database "
                "revision; memory is served until it passes --max-staleness.");
    emit(writer, "iamd_store_confirmed_age_seconds %.3f\n", (double)confirmed_age_ms / 1e3);
    emit_family(writer, "iamd_engine_policies", "gauge", "Access policies compiled into the engine's snapshot.");
    emit(writer, "iamd_engine_policies %zu\n", iam_engine_policy_count(service->engine));
    emit_family(writer, "iamd_usage_pending_entries", "gauge",
                "API keys and users whose usage counts wait in memory for the next batched write.");
    emit(writer, "iamd_usage_pending_entries %zu\n", iam_usage_size(service->usage));

    struct iam_ratelimit_stats apikey, password;
    iam_ratelimit_stats(service->auth_limits, &apikey);
    iam_password_limits_stats(&password);
    emit_family(writer, "iamd_auth_rate_limit_entries", "gauge",
                "Counters held by the failed-authentication limiters, by credential and table.");
    emit(writer, "iamd_auth_rate_limit_entries{credential=\"apikey\",kind=\"address\"} %zu\n", apikey.address_entries);
    emit(writer, "iamd_auth_rate_limit_entries{credential=\"apikey\",kind=\"key\"} %zu\n", apikey.subject_entries);
    emit(writer, "iamd_auth_rate_limit_entries{credential=\"password\",kind=\"address\"} %zu\n",
         password.address_entries);
    emit(writer, "iamd_auth_rate_limit_entries{credential=\"password\",kind=\"login\"} %zu\n",
         password.subject_entries);
    emit_family(writer, "iamd_auth_rate_limited_total", "counter",
                "Authentications answered 429 by the failed-authentication limits, by credential and by what "
                "was over its limit.");
    emit(writer, "iamd_auth_rate_limited_total{credential=\"apikey\",kind=\"address\"} %llu\n",
         (unsigned long long)apikey.refused_address);
    emit(writer, "iamd_auth_rate_limited_total{credential=\"apikey\",kind=\"key\"} %llu\n",
         (unsigned long long)apikey.refused_subject);
    emit(writer, "iamd_auth_rate_limited_total{credential=\"password\",kind=\"address\"} %llu\n",
         (unsigned long long)password.refused_address);
    emit(writer, "iamd_auth_rate_limited_total{credential=\"password\",kind=\"login\"} %llu\n",
         (unsigned long long)password.refused_subject);
}

static void render(struct iam_api *api, struct metrics_writer *writer)
{
    int64_t now = iam_now();
    emit_family(writer, "iamd_build_info", "gauge", "Always 1; the labels say which iamd this is.");
    emit(writer, "iamd_build_info{version=\"%s\"} 1\n", IAMD_VERSION);
    emit_family(writer, "iamd_start_time_seconds", "gauge", "When the process started, seconds since the epoch.");
    emit(writer, "iamd_start_time_seconds %lld\n", (long long)iam_metrics_start_time());

    if (api->router) {
        struct route_pass pass = {.writer = writer, .histogram = false};
        emit_family(writer, "iamd_http_requests_total", "counter",
                    "HTTP requests answered, by route template and status class (route \"unmatched\": no route).");
        iam_router_each_stats(api->router, emit_route, &pass);
        pass.histogram = true;
        emit_family(writer, "iamd_http_request_duration_seconds", "histogram",
                    "Time from the complete request headers to the queued answer, by route template.");
        iam_router_each_stats(api->router, emit_route, &pass);
    }

    const char *family = NULL;
    for (size_t i = 0; i < sizeof metric_rows / sizeof metric_rows[0]; i++) {
        const struct metric_row *row = &metric_rows[i];
        if (!family || strcmp(family, row->family) != 0) {
            family = row->family;
            emit_family(writer, row->family, row->type, row->help);
        }
        long long value = (long long)iam_metrics_get(row->metric);
        if (row->labels[0])
            emit(writer, "%s{%s} %lld\n", row->family, row->labels, value);
        else
            emit(writer, "%s %lld\n", row->family, value);
    }
    int64_t not_after = iam_metrics_get(IAM_METRIC_TLS_CERT_NOT_AFTER);
    if (not_after > 0) {
        emit_family(writer, "iamd_tls_certificate_not_after_seconds", "gauge",
                    "Expiry of the certificate served, seconds since the epoch.");
        emit(writer, "iamd_tls_certificate_not_after_seconds %lld\n", (long long)not_after);
    }

    struct iam_service *service = api->service;
    emit_family(writer, "iamd_engine_revision", "gauge", "Store revision of the decision engine's policy snapshot.");
    emit(writer, "iamd_engine_revision %lld\n", (long long)iam_engine_revision(service->engine));
    int64_t revision = 0;
    int64_t started_ns = iam_monotonic_ns();
    bool store_ok = iam_store_revision(service->store, &revision) == IAM_OK;
    int64_t read_ns = iam_monotonic_ns() - started_ns;
    emit_family(writer, "iamd_store_up", "gauge", "1 when the database answered this scrape's revision read.");
    emit(writer, "iamd_store_up %d\n", store_ok ? 1 : 0);
    emit_family(writer, "iamd_store_read_seconds", "gauge",
                "How long this scrape's revision read took: the database's round trip.");
    emit(writer, "iamd_store_read_seconds %.6f\n", (double)(read_ns > 0 ? read_ns : 0) / 1e9);
    if (store_ok) {
        emit_family(writer, "iamd_store_revision", "gauge",
                    "The database's revision now; above iamd_engine_revision while the engine catches up.");
        emit(writer, "iamd_store_revision %lld\n", (long long)revision);
    }
    emit_family(writer, "iamd_signing_key_available", "gauge", "1 when a token signing key is active.");
    emit(writer, "iamd_signing_key_available %d\n", iam_keyring_can_sign(service->keyring, now) ? 1 : 0);
    emit_store_calls(writer);
    emit_memory_state(writer, service);
}

/* True when the request may read /metrics; otherwise the answer is written. */
static bool metrics_allowed(struct iam_api *api, struct iam_http_request *request,
                            struct iam_http_response *response)
{
    if (api->metrics_access == IAM_API_METRICS_OPEN)
        return true;
    if (api->metrics_access != IAM_API_METRICS_TOKEN || !api->metrics_token || !api->metrics_token[0]) {
        iam_api_fail(request, response, IAM_ENOTFOUND, "BXNIM0404E", "No such API endpoint.");
        return false;
    }
    const char *authorization = iam_http_header(request, "Authorization");
    bool allowed = false;
    if (authorization && strncasecmp(authorization, "Bearer ", 7) == 0) {
        /* Digests of both, so neither the comparison nor its length depends on the secret. */
        uint8_t given[IAM_HASH_SIZE], expected[IAM_HASH_SIZE];
        const char *token = authorization + 7;
        allowed = iam_sha256(token, strlen(token), given) == IAM_OK &&
                  iam_sha256(api->metrics_token, strlen(api->metrics_token), expected) == IAM_OK &&
                  iam_bytes_equal(given, expected, sizeof given);
    }
    if (!allowed) {
        iam_api_fail(request, response, IAM_EUNAUTH, "BXNIM0308E", "A valid metrics bearer token is required.");
        iam_http_add_header(request, response, "WWW-Authenticate", "Bearer realm=\"iamd-metrics\"");
    }
    return allowed;
}

static void handle_metrics(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    if (!metrics_allowed(api, request, response))
        return;
    struct metrics_writer writer = {.failed = false};
    iam_buf_init(&writer.text, METRICS_MAX_BYTES);
    render(api, &writer);
    if (writer.failed) {
        iam_buf_free(&writer.text);
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "The metrics could not be rendered.");
        return;
    }
    iam_http_respond_raw(request, response, 200, METRICS_CONTENT_TYPE, writer.text.data, writer.text.length);
    iam_http_add_header(request, response, "Cache-Control", "no-store");
    iam_buf_free(&writer.text);
}

static void handle_readyz(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    int64_t revision = 0;
    enum iam_result store = iam_store_revision(api->service->store, &revision);
    bool signing = iam_keyring_can_sign(api->service->keyring, iam_now());
    bool ready = store == IAM_OK && signing;
    const char *database = store == IAM_OK                ? "ok"
                           : store == IAM_EUNAVAILABLE ? "unavailable"
                                                          : "failed";
    iam_http_respond_json(request, response, ready ? 200 : 503,
                          json_pack("{s:s,s:{s:s,s:s}}", "status", ready ? "ready" : "not_ready", "checks",
                                    "database", database, "signing_key", signing ? "ok" : "missing"));
}

enum iam_result iam_api_metrics_register(struct iam_router *router, struct iam_api *api)
{
    api->router = router;
    enum iam_result result = iam_router_add(router, "GET", "/metrics", handle_metrics, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "GET", "/readyz", handle_readyz, api);
    return result;
}
