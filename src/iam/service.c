/*
 * service.c: building and tearing down the domain root, and its
 * housekeeping thread (signing-key rotation, purging old revocations and
 * expired console sessions).
 */
#include "iam/service.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/time.h"
#include "iam/audit_batch.h"
#include "iam/authn.h"
#include "iam/credential_cache.h"
#include "iam/engine.h"
#include "iam/keyring.h"
#include "iam/ratelimit.h"
#include "iam/sessions.h"
#include "iam/usage.h"

#define KEY_MAINTENANCE_INTERVAL_S 5
#define SESSION_PURGE_INTERVAL_S 60

struct service_internal {
    struct iam_service public; /* first: iam_service * and service_internal * convert */
    pthread_t housekeeper;
    bool housekeeper_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

void iam_service_options_default(struct iam_service_options *options)
{
    memset(options, 0, sizeof *options);
    options->issuer = "http://127.0.0.1:8080/identity";
    options->public_url = "http://127.0.0.1:8080";
    options->key_prefix = "iamd";
    options->token_alg = IAM_JWT_RS256;
    options->access_token_ttl = 3600;
    options->refresh_token_ttl = 30 * 86400;
    options->signing_key_rotation = 7 * 86400;
    options->jwks_cache_ttl = 300;
    options->clock_leeway = 30;
    options->usage_flush_interval_ms = 1000;
    options->decision_cache_ttl = 60;
    options->engine_refresh_ms = 500;
    options->max_staleness = 30;
    options->failed_auth_per_address = 60;
    options->failed_auth_per_key = 10;
    options->failed_auth_window = 300;
}

bool iam_service_store_reachable(struct iam_service *service, int64_t *confirmed_age_ms)
{
    struct iam_engine_store_status status;
    iam_engine_store_status(service ? service->engine : NULL, &status);
    if (confirmed_age_ms)
        *confirmed_age_ms = status.confirmed_age_ms;
    return status.reachable;
}

/* Adds `milliseconds` to an absolute CLOCK_REALTIME deadline. */
static void deadline_after(struct timespec *deadline, int64_t milliseconds)
{
    clock_gettime(CLOCK_REALTIME, deadline);
    deadline->tv_sec += milliseconds / 1000;
    deadline->tv_nsec += (milliseconds % 1000) * 1000000;
    if (deadline->tv_nsec >= 1000000000) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000;
    }
}

/* What the housekeeper last told the log about the store, so it logs changes, not every poll. */
struct store_watch {
    bool reachable;
    bool stale_logged;
    int64_t lost_ns; /* monotonic time the outage was first seen */
};

/* Polls the store revision through the engine (rebuilding when it moved) and logs outages and recoveries. */
static void watch_store(struct iam_service *service, struct store_watch *watch)
{
    enum iam_result result = iam_engine_refresh(service->engine, false);
    struct iam_engine_store_status status;
    iam_engine_store_status(service->engine, &status);
    if (result == IAM_OK && status.reachable) {
        if (!watch->reachable)
            iam_log(IAM_LOG_INFO, "store_reachable",
                    "the database answers again (unreachable for about %lld ms); serving normally",
                    (long long)((iam_monotonic_ns() - watch->lost_ns) / 1000000));
        *watch = (struct store_watch){.reachable = true, .stale_logged = false};
        return;
    }
    if (watch->reachable) {
        watch->lost_ns = iam_monotonic_ns();
        iam_log(IAM_LOG_WARN, "store_unreachable",
                "the policy engine cannot confirm the database revision (%s); tokens and decisions come from "
                "memory for at most %lld s (--max-staleness), cache misses answer 503",
                iam_strerror(result), (long long)service->options.max_staleness);
    }
    watch->reachable = false;
    if (!status.current && !watch->stale_logged) {
        iam_log(IAM_LOG_ERROR, "store_stale",
                "the database has been unreachable for %lld ms, longer than --max-staleness: tokens and decisions "
                "answer 503 until it is back",
                (long long)status.confirmed_age_ms);
        watch->stale_logged = true;
    }
}

/*
 * Every engine_refresh_ms: pick up policy changes written by other processes
 * (this process refreshes right after its own writes). Every few seconds:
 * signing-key maintenance. Every minute: purge expired console sessions
 * (bounded, iam_sessions_purge). Hourly: purge expired refresh-token revocations.
 */
static void *housekeeping_loop(void *argument)
{
    struct service_internal *internal = argument;
    struct iam_service *service = &internal->public;
    int64_t last_purge = 0, last_key_maintenance = 0, last_session_purge = 0;
    struct store_watch watch = {.reachable = true, .stale_logged = false};
    pthread_mutex_lock(&internal->lock);
    while (!internal->stopping) {
        struct timespec deadline;
        deadline_after(&deadline, service->options.engine_refresh_ms > 50 ? service->options.engine_refresh_ms : 50);
        int wait = pthread_cond_timedwait(&internal->wake, &internal->lock, &deadline);
        if (internal->stopping || wait != ETIMEDOUT)
            continue;
        pthread_mutex_unlock(&internal->lock);
        int64_t now = iam_now();
        if (service->engine)
            watch_store(service, &watch);
        if (now - last_key_maintenance >= KEY_MAINTENANCE_INTERVAL_S) {
            last_key_maintenance = now;
            if (iam_keyring_maintain(service->keyring, now) != IAM_OK)
                iam_log(IAM_LOG_WARN, "housekeeping", "signing key maintenance failed; retrying later");
        }
        if (now - last_session_purge >= SESSION_PURGE_INTERVAL_S) {
            last_session_purge = now;
            if (iam_sessions_purge(service->sessions, NULL) != IAM_OK)
                iam_log(IAM_LOG_WARN, "housekeeping", "purging expired console sessions failed; retrying later");
        }
        if (now - last_purge >= 3600) {
            if (iam_store_revocation_purge(service->store, now) == IAM_OK)
                last_purge = now;
        }
        pthread_mutex_lock(&internal->lock);
    }
    pthread_mutex_unlock(&internal->lock);
    return NULL;
}

static void flush_audit_batch(void *context)
{
    enum iam_result result = iam_audit_batch_flush(context);
    (void)result; /* logged inside; what failed is kept and retried next round */
}

enum iam_result iam_service_new(struct iam_store *store, const uint8_t *pepper, size_t pepper_length,
                                const uint8_t kek[IAM_AEAD_KEY_SIZE], const struct iam_service_options *options,
                                struct iam_service **out, struct iam_error *err)
{
    *out = NULL;
    if (sodium_init() < 0) {
        iam_store_close(store);
        return iam_error_set(err, IAM_ECRYPTO, "", "libsodium failed to initialise.");
    }
    if (options->signing_key_rotation <= options->jwks_cache_ttl) {
        iam_store_close(store);
        return iam_error_set(err, IAM_EINVAL, "",
                             "The key rotation period must be longer than the JWKS cache time, or clients "
                             "would meet tokens signed by keys they have not seen.");
    }
    struct service_internal *internal = calloc(1, sizeof *internal);
    if (!internal) {
        iam_store_close(store);
        return iam_error_set(err, IAM_ENOMEM, "", "Out of memory.");
    }
    struct iam_service *service = &internal->public;
    pthread_mutex_init(&internal->lock, NULL);
    pthread_cond_init(&internal->wake, NULL);
    service->store = store;
    service->options = *options;
    memcpy(service->kek, kek, IAM_AEAD_KEY_SIZE);
    enum iam_result result = iam_hasher_new(pepper, pepper_length, &service->hasher);
    if (result != IAM_OK) {
        iam_error_set(err, result, "", "Cannot key the API-key hasher (the pepper must be at least 16 bytes).");
        goto fail;
    }
    struct iam_keyring_options keyring_options = {
        .alg = options->token_alg,
        .rotation = options->signing_key_rotation,
        /* A retired key verifies every token it signed, plus the time clients cache the JWKS. */
        .retention = options->access_token_ttl + options->jwks_cache_ttl + options->clock_leeway,
    };
    result = iam_audit_new(store, pepper, pepper_length, options->audit_mode, &service->audit);
    if (result != IAM_OK) {
        iam_error_set(err, result, "", "Cannot key the audit trail.");
        goto fail;
    }
    struct iam_sessions_options session_options = {.store = store, .pepper = pepper, .pepper_length = pepper_length};
    result = iam_sessions_new(&session_options, &service->sessions);
    if (result != IAM_OK) {
        iam_error_set(err, result, "", "Cannot create the console session table.");
        goto fail;
    }
    result = iam_audit_batch_new(service->audit, NULL, &service->audit_batch);
    if (result != IAM_OK) {
        iam_error_set(err, result, "", "Out of memory.");
        goto fail;
    }
    result = iam_keyring_open(store, kek, &keyring_options, iam_now(), &service->keyring, err);
    if (result != IAM_OK)
        goto fail;
    result = iam_engine_new(store, &service->engine, err);
    if (result != IAM_OK)
        goto fail;
    iam_engine_set_staleness(service->engine, options->max_staleness * 1000, options->engine_refresh_ms);
    result = iam_authn_cache_new(&service->authn_cache);
    if (result == IAM_OK)
        result = iam_credential_cache_new(0, &service->credential_cache);
    if (result != IAM_OK) {
        iam_error_set(err, result, "", "Out of memory.");
        goto fail;
    }
    if (options->failed_auth_per_address > 0 || options->failed_auth_per_key > 0) {
        struct iam_ratelimit_options limits = {
            .window = options->failed_auth_window > 0 ? options->failed_auth_window : 300,
            .address_max = options->failed_auth_per_address,
            .subject_max = options->failed_auth_per_key,
            .subject_rule = IAM_RATELIMIT_SUBJECT_AFTER_CHECK,
        };
        result = iam_ratelimit_new(&limits, &service->auth_limits);
        if (result != IAM_OK) {
            iam_error_set(err, result, "", "Cannot create the failed-authentication limits.");
            goto fail;
        }
    }
    result = iam_usage_new(store, options->usage_flush_interval_ms, &service->usage);
    if (result != IAM_OK) {
        iam_error_set(err, result, "", "Cannot start the usage counter thread.");
        goto fail;
    }
    /* Token and failed-authentication audit records are flushed by the same thread, at the same interval. */
    iam_usage_set_companion(service->usage, flush_audit_batch, service->audit_batch);
    if (pthread_create(&internal->housekeeper, NULL, housekeeping_loop, internal) != 0) {
        result = iam_error_set(err, IAM_EINTERNAL, "", "Cannot start the housekeeping thread.");
        goto fail;
    }
    internal->housekeeper_started = true;
    *out = service;
    return IAM_OK;
fail:
    iam_service_free(service);
    return result;
}

void iam_service_free(struct iam_service *service)
{
    if (!service)
        return;
    struct service_internal *internal = (struct service_internal *)service;
    if (internal->housekeeper_started) {
        pthread_mutex_lock(&internal->lock);
        internal->stopping = true;
        pthread_cond_signal(&internal->wake);
        pthread_mutex_unlock(&internal->lock);
        pthread_join(internal->housekeeper, NULL);
    }
    iam_usage_free(service->usage); /* its last flush writes the audit batch too */
    iam_audit_batch_free(service->audit_batch);
    iam_engine_free(service->engine);
    iam_authn_cache_free(service->authn_cache);
    iam_credential_cache_free(service->credential_cache);
    iam_ratelimit_free(service->auth_limits);
    iam_keyring_free(service->keyring);
    iam_audit_free(service->audit);
    iam_sessions_free(service->sessions);
    iam_hasher_free(service->hasher);
    iam_store_close(service->store);
    sodium_memzero(service->kek, sizeof service->kek);
    pthread_cond_destroy(&internal->wake);
    pthread_mutex_destroy(&internal->lock);
    free(internal);
}
