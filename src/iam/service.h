/*
 * service.h: the domain root. One struct iam_service per process holds the
 * store, the secrets kept outside the database (pepper and key-encryption
 * key), the signing keyring, the usage batcher, the failed-authentication
 * limits of API keys (process-wide: each node counts on its own) and the
 * settings that shape tokens. Everything in iam/ takes it as its first argument.
 */
#ifndef IAM_IAM_SERVICE_H
#define IAM_IAM_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/jwt.h"
#include "iam/audit.h"
#include "store/store.h"

struct iam_audit_batch;
struct iam_authn_cache;
struct iam_credential_cache;
struct iam_engine;
struct iam_keyring;
struct iam_ratelimit;
struct iam_sessions;
struct iam_usage;

struct iam_service_options {
    const char *issuer;              /* "<public base URL>/identity", the tokens' `iss` */
    const char *public_url;          /* "http://127.0.0.1:8080", for absolute URLs */
    const char *key_prefix;          /* API key value prefix, default "iamd" */
    enum iam_jwt_alg token_alg;      /* RS256 by default */
    int64_t access_token_ttl;        /* seconds, default 3600 */
    int64_t refresh_token_ttl;       /* seconds, default 30 days */
    int64_t signing_key_rotation;    /* seconds a key signs before the next one takes over */
    int64_t jwks_cache_ttl;          /* seconds clients may cache the JWKS */
    int64_t clock_leeway;            /* seconds of skew accepted on exp/nbf/iat */
    int64_t usage_flush_interval_ms; /* how often usage counters and token audit aggregates are written */
    int64_t decision_cache_ttl;      /* maxCacheAgeSeconds in /v2/authz obligations */
    int64_t engine_refresh_ms;       /* how often the engine polls the store revision (other writers) */
    int64_t max_staleness;           /* seconds memory stands in for an unreachable store (engine.h); default 30 */
    /* Failed API-key authentication limits (iam_authn_apikey_from); 0 disables one, both 0 all. */
    int64_t failed_auth_per_address; /* failures per client address per window, default 60 */
    int64_t failed_auth_per_key;     /* failures per key id per window (wrong values only), default 10 */
    int64_t failed_auth_window;      /* seconds, default 300 */
    enum iam_audit_mode audit_mode;  /* fail-closed (default) or best-effort */
};

struct iam_service {
    struct iam_store *store;      /* owned */
    struct iam_hasher *hasher;    /* keyed with the pepper; owned */
    uint8_t kek[IAM_AEAD_KEY_SIZE];
    struct iam_keyring *keyring;  /* owned */
    struct iam_usage *usage;      /* owned */
    struct iam_engine *engine;    /* the policy decision engine; owned */
    struct iam_authn_cache *authn_cache; /* verified access tokens; owned */
    struct iam_credential_cache *credential_cache; /* API keys seen (iam/credential_cache.h); owned, may be NULL */
    struct iam_ratelimit *auth_limits;   /* failed API-key authentications; owned; NULL: no limits */
    struct iam_audit *audit;      /* the audit trail (keyed from the pepper); owned */
    struct iam_sessions *sessions; /* console sign-in sessions, in the store (iam/sessions.h); owned */
    struct iam_audit_batch *audit_batch; /* token and failed-authentication events, batched; owned, may be NULL */
    struct iam_service_options options;
};

/*
 * Opens the service over an open store (taking ownership of it) with the pepper
 * and KEK given; loads or creates the signing keys and starts the usage batcher.
 * Free with iam_service_free (which also closes the store).
 */
enum iam_result iam_service_new(struct iam_store *store, const uint8_t *pepper, size_t pepper_length,
                                const uint8_t kek[IAM_AEAD_KEY_SIZE], const struct iam_service_options *options,
                                struct iam_service **out, struct iam_error *err) IAM_MUST_CHECK;

/* Flushes usage counters, stops background work and frees everything. NULL is allowed. */
void iam_service_free(struct iam_service *service);

/*
 * Whether the store answers, as the decision engine's revision polls last saw
 * it: true when the latest poll succeeded. `confirmed_age_ms` (optional) gets
 * the milliseconds since the engine's snapshot was last confirmed current
 * (about engine_refresh_ms while the store is reachable; growing while it is
 * not). While it is unreachable, tokens and decisions are served from memory
 * until that age passes max_staleness, then refused with 503 (engine.h,
 * iam_engine_store_status). For /readyz and /metrics. Lock-free.
 */
bool iam_service_store_reachable(struct iam_service *service, int64_t *confirmed_age_ms);

/* Fills `options` with the defaults listed above (issuer and public_url from 127.0.0.1:8080). */
void iam_service_options_default(struct iam_service_options *options);

#endif
