/*
 * authn.c: API keys and access tokens in, principals out (see authn.h).
 * Every authentication re-checks the state of the key and of its identity:
 * in memory while nothing was written since it was last read from the store
 * (the credential cache and the verified-token cache, both bound to the
 * engine's snapshot serial, which moves with the store revision), else from
 * the store. So a disabled key or a deleted identity stops working at once
 * through this process and within engine_refresh_ms through others.
 */
#include "iam/authn.h"

#include <stdio.h>
#include <string.h>

#include "common/metrics.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "crypto/keyformat.h"
#include "iam/credential_cache.h"
#include "iam/engine.h"
#include "iam/keyring.h"
#include "iam/ratelimit.h"
#include "iam/usage.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define AUTHN_APIKEY_MAX 256
#define SUBJECT_SIZE sizeof(((struct iam_keyformat_info *)0)->key_id_text) /* "ApiKey-<uuid>" */

/* Fills the identity part of `who` from the key owner's record; ENOTFOUND when gone or inactive. */
static enum iam_result load_identity(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                     const char *iam_id, struct iam_principal *who)
{
    memset(who, 0, sizeof *who);
    who->iam_id = iam_id;
    who->account_id = account_id;
    if (strncmp(iam_id, "iam-ServiceId-", 14) == 0) {
        struct iam_service_id_record service_id;
        enum iam_result result = iam_store_service_id_get_by_iam_id(service->store, arena, account_id, iam_id,
                                                                    &service_id);
        if (result != IAM_OK)
            return result;
        who->kind = IAM_PRINCIPAL_SERVICE_ID;
        who->subject_id = service_id.id;
        who->name = service_id.name;
        return IAM_OK;
    }
    struct iam_user_record user;
    enum iam_result result = iam_store_user_get(service->store, arena, account_id, iam_id, &user);
    if (result != IAM_OK)
        return result;
    if (!user.state || strcmp(user.state, "ACTIVE") != 0)
        return IAM_ENOTFOUND;
    who->kind = IAM_PRINCIPAL_USER;
    who->subject_id = user.iam_id;
    who->login = user.login;
    who->email = user.email;
    who->given_name = user.given_name;
    who->family_name = user.family_name;
    if (user.given_name && user.family_name)
        who->name = iam_arena_printf(arena, "%s %s", user.given_name, user.family_name);
    else
        who->name = user.given_name ? user.given_name : user.login;
    return IAM_OK;
}

/* The credential a store record (and, when the key is usable, its owner in `who`) amounts to. */
static struct iam_credential credential_of(const struct iam_apikey_record *record, const struct iam_principal *who)
{
    struct iam_credential credential = {
        .apikey_id = record->id,
        .account_id = record->account_id,
        .iam_id = record->iam_id,
        .disabled = record->disabled,
        .expires_at = record->expires_at,
        .has_principal = who != NULL,
    };
    if (who)
        credential.principal = *who;
    return credential;
}

/*
 * Decides on a credential (from the cache or the store): the key's own state
 * first, then its owner. Returns false when it cannot (the owner was not
 * read), and the caller reads the store; otherwise `*result` is the answer,
 * and on IAM_OK `who` is filled.
 */
static bool credential_decide(const struct iam_credential *credential, int64_t now, struct iam_principal *who,
                              struct iam_error *err, enum iam_result *result)
{
    if (credential->disabled) {
        *result = iam_error_set(err, IAM_EINVAL, "BXNIM0416E", "Provided API key is disabled.");
        return true;
    }
    if (credential->expires_at && credential->expires_at <= now) {
        *result = iam_error_set(err, IAM_EINVAL, "BXNIM0417E", "Provided API key has expired.");
        return true;
    }
    if (!credential->has_principal)
        return false;
    *who = credential->principal;
    who->apikey_id = credential->apikey_id;
    *result = IAM_OK;
    return true;
}

/* The refusal of a key that matched a stored one (or its cache entry): its ids. */
static void refuse_known(struct iam_authn_refusal *refusal, const char *apikey_id, const char *account_id,
                         const char *iam_id)
{
    if (!refusal)
        return;
    refusal->apikey_id = apikey_id;
    refusal->account_id = account_id;
    refusal->iam_id = iam_id;
}

/* The refusal of a value that matched no key: the key id its format names (valid checksum only), else nothing. */
static void refuse_unknown(struct iam_authn_refusal *refusal, struct iam_arena *arena,
                           const struct iam_keyformat_info *info)
{
    if (!refusal)
        return;
    memset(refusal, 0, sizeof *refusal);
    if (info && info->recognised && info->checksum_valid)
        refusal->apikey_id = iam_arena_strdup(arena, info->key_id_text);
}

static enum iam_result authn_apikey(struct iam_service *service, struct iam_arena *arena, const char *value,
                                    struct iam_principal *who, struct iam_apikey_record *key,
                                    struct iam_authn_refusal *refusal, struct iam_error *err)
{
    static const char not_found[] = "Provided API key could not be found.";
    if (!value || !*value)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0415E", not_found);
    /* RFC 8959 URI form. */
    if (strncmp(value, "secret-token:", 13) == 0)
        value += 13;
    size_t length = strlen(value);
    /*
     * Malformed, wrong-checksum and unknown keys all take the same path (hash,
     * cache lookup, store lookup) so their timing tells nothing; only the
     * length cap cuts short.
     */
    struct iam_keyformat_info info;
    memset(&info, 0, sizeof info);
    bool well_formed = length <= AUTHN_APIKEY_MAX;
    if (well_formed) {
        (void)iam_keyformat_inspect(service->options.key_prefix, value, &info);
        if (info.recognised && !info.checksum_valid)
            well_formed = false;
    }
    uint8_t hash[IAM_HASH_SIZE];
    enum iam_result result = iam_hasher_mac(service->hasher, value, length <= AUTHN_APIKEY_MAX ? length : 0, hash);
    if (result != IAM_OK)
        return iam_error_set(err, result, "BXNIM0500E", "Cannot check the API key.");
    int64_t now = iam_now();
    /*
     * Memory first. The cache needs the engine's snapshot serial to know an entry is
     * still true, and serves only while the engine says memory may stand in for
     * the store (iam_engine_check_current); otherwise the store decides, and a
     * store that cannot be reached is a 503. A caller that wants the key's whole
     * record reads the store.
     */
    struct iam_credential_cache *cache = service->engine && !key ? service->credential_cache : NULL;
    struct iam_credential_stamp stamp = iam_credential_cache_stamp(cache, iam_engine_snapshot_serial(service->engine));
    struct iam_credential cached;
    if (iam_credential_cache_lookup(cache, arena, hash, stamp, &cached) &&
        iam_engine_check_current(service->engine) == IAM_OK) {
        if (!well_formed) {
            iam_metrics_add(IAM_METRIC_CREDENTIAL_CACHE_HITS, 1);
            refuse_unknown(refusal, arena, &info);
            return iam_error_set(err, IAM_EINVAL, "BXNIM0415E", not_found);
        }
        if (credential_decide(&cached, now, who, err, &result)) {
            iam_metrics_add(IAM_METRIC_CREDENTIAL_CACHE_HITS, 1);
            if (result == IAM_OK)
                iam_usage_record(service->usage, cached.apikey_id, now);
            else
                refuse_known(refusal, cached.apikey_id, cached.account_id, cached.iam_id);
            return result;
        }
    }
    if (cache)
        iam_metrics_add(IAM_METRIC_CREDENTIAL_CACHE_MISSES, 1);
    struct iam_apikey_record record;
    result = iam_store_apikey_get_by_hash(service->store, arena, hash, &record);
    if (iam_store_failed(result))
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    if (result != IAM_OK || !well_formed || !iam_bytes_equal(record.hash, hash, IAM_HASH_SIZE)) {
        refuse_unknown(refusal, arena, &info);
        return iam_error_set(err, IAM_EINVAL, "BXNIM0415E", not_found); /* never remembered */
    }
    struct iam_credential credential = credential_of(&record, NULL);
    if (credential_decide(&credential, now, who, err, &result)) {
        /* A disabled or expired key is remembered as such: its owner need not be read. */
        iam_credential_cache_store(cache, hash, stamp, &credential);
        refuse_known(refusal, record.id, record.account_id, record.iam_id);
        return result;
    }
    result = load_identity(service, arena, record.account_id, record.iam_id, who);
    if (result != IAM_OK)
        refuse_known(refusal, record.id, record.account_id, record.iam_id);
    if (iam_store_failed(result))
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    if (result != IAM_OK)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0415E", not_found);
    who->apikey_id = record.id;
    credential = credential_of(&record, who);
    iam_credential_cache_store(cache, hash, stamp, &credential);
    if (key)
        *key = record;
    iam_usage_record(service->usage, record.id, now);
    return IAM_OK;
}

enum iam_result iam_authn_apikey(struct iam_service *service, struct iam_arena *arena, const char *value,
                                 struct iam_principal *who, struct iam_apikey_record *key, struct iam_error *err)
{
    return authn_apikey(service, arena, value, who, key, NULL, err);
}

/* The key id `value` names ("ApiKey-<uuid>") in `subject`, or "" when it is in no format we know. */
static void apikey_subject(const struct iam_service *service, const char *value, char subject[SUBJECT_SIZE])
{
    subject[0] = '\0';
    if (!value)
        return;
    if (strncmp(value, "secret-token:", 13) == 0)
        value += 13;
    if (strnlen(value, AUTHN_APIKEY_MAX + 1) > AUTHN_APIKEY_MAX)
        return;
    struct iam_keyformat_info info;
    (void)iam_keyformat_inspect(service->options.key_prefix, value, &info);
    if (info.recognised)
        snprintf(subject, SUBJECT_SIZE, "%s", info.key_id_text);
}

/* The refusal of a value turned away before it was checked: the key id its format names, if any. */
static void refuse_unchecked(const struct iam_service *service, struct iam_arena *arena, const char *value,
                             struct iam_authn_refusal *refusal)
{
    if (!refusal || !value)
        return;
    if (strncmp(value, "secret-token:", 13) == 0)
        value += 13;
    if (strnlen(value, AUTHN_APIKEY_MAX + 1) > AUTHN_APIKEY_MAX)
        return;
    struct iam_keyformat_info info;
    (void)iam_keyformat_inspect(service->options.key_prefix, value, &info);
    refuse_unknown(refusal, arena, &info);
}

static enum iam_result apikey_from(struct iam_service *service, struct iam_arena *arena, const char *value,
                                   const char *client_address, struct iam_principal *who,
                                   struct iam_apikey_record *key, int64_t *retry_after,
                                   struct iam_authn_refusal *refusal, struct iam_error *err)
{
    *retry_after = 0;
    if (refusal)
        memset(refusal, 0, sizeof *refusal);
    struct iam_ratelimit *limits = service->auth_limits;
    if (!limits)
        return authn_apikey(service, arena, value, who, key, refusal, err);
    char subject[SUBJECT_SIZE];
    apikey_subject(service, value, subject);
    int64_t now = iam_now();
    enum iam_result result = iam_ratelimit_begin(limits, subject, client_address, now, retry_after);
    if (result == IAM_ETOOMANY) {
        refuse_unchecked(service, arena, value, refusal);
        return iam_error_set(err, IAM_ETOOMANY, "BXNIM0431E",
                             "Too many failed API key authentications from this address. Try again in %lld seconds.",
                             (long long)*retry_after);
    }
    if (result != IAM_OK) {
        refuse_unchecked(service, arena, value, refusal);
        return iam_error_set(err, result, "BXNIM0500E", "Cannot check the API key now.");
    }
    result = authn_apikey(service, arena, value, who, key, refusal, err);
    enum iam_ratelimit_outcome outcome = result == IAM_OK ? IAM_RATELIMIT_SUCCEEDED
                                         : result == IAM_EINVAL ? IAM_RATELIMIT_FAILED
                                                                : IAM_RATELIMIT_VOID;
    if (iam_ratelimit_end(limits, subject, client_address, outcome, now, retry_after) == IAM_ETOOMANY)
        return iam_error_set(err, IAM_ETOOMANY, "BXNIM0431E",
                             "Too many failed authentications with this API key. Try again in %lld seconds.",
                             (long long)*retry_after);
    return result;
}

enum iam_result iam_authn_apikey_from(struct iam_service *service, struct iam_arena *arena, const char *value,
                                      const char *client_address, struct iam_principal *who,
                                      struct iam_apikey_record *key, int64_t *retry_after, struct iam_error *err)
{
    return apikey_from(service, arena, value, client_address, who, key, retry_after, NULL, err);
}

enum iam_result iam_authn_apikey_attempt(struct iam_service *service, struct iam_arena *arena, const char *value,
                                         const char *client_address, struct iam_principal *who,
                                         int64_t *retry_after, struct iam_authn_refusal *refusal,
                                         struct iam_error *err)
{
    return apikey_from(service, arena, value, client_address, who, NULL, retry_after, refusal, err);
}

/* --- the verified-token cache (see authn.h) --- */

#define CACHE_SLOTS 4096 /* direct-mapped by hash; a collision just evicts */
#define CACHE_LOCKS 64

struct cache_entry {
    uint8_t key[IAM_HASH_SIZE]; /* SHA-256 of the token */
    bool used;
    int64_t exp;
    int64_t snapshot; /* iam_engine_snapshot_serial when verified */
    uint64_t generation;
    enum iam_principal_kind kind;
    char iam_id[64];
    char account_id[40];
    char subject_id[64];
    char name[128];
    char login[96];
    char email[128];
    char given_name[64];
    char family_name[64];
};

struct iam_authn_cache {
    _Atomic uint64_t generation; /* moved by iam_authn_forget */
    pthread_mutex_t locks[CACHE_LOCKS];
    struct cache_entry entries[CACHE_SLOTS];
};

enum iam_result iam_authn_cache_new(struct iam_authn_cache **out)
{
    struct iam_authn_cache *cache = calloc(1, sizeof *cache);
    if (!cache)
        return IAM_ENOMEM;
    atomic_init(&cache->generation, 1);
    for (size_t i = 0; i < CACHE_LOCKS; i++)
        pthread_mutex_init(&cache->locks[i], NULL);
    *out = cache;
    return IAM_OK;
}

void iam_authn_cache_free(struct iam_authn_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < CACHE_LOCKS; i++)
        pthread_mutex_destroy(&cache->locks[i]);
    free(cache);
}

void iam_authn_forget(struct iam_service *service)
{
    if (!service)
        return;
    iam_credential_cache_invalidate(service->credential_cache);
    if (service->authn_cache)
        atomic_fetch_add(&service->authn_cache->generation, 1);
}

static size_t cache_slot(const uint8_t key[IAM_HASH_SIZE])
{
    return ((size_t)key[0] | (size_t)key[1] << 8 | (size_t)key[2] << 16) % CACHE_SLOTS;
}

/* Copies `text` (NULL allowed) into a fixed field; false when it does not fit. */
static bool cache_copy(char *field, size_t size, const char *text)
{
    if (!text) {
        field[0] = '\0';
        return true;
    }
    size_t length = strlen(text);
    if (length >= size)
        return false;
    memcpy(field, text, length + 1);
    return true;
}

static const char *cache_text(struct iam_arena *arena, const char *field)
{
    return field[0] ? iam_arena_strdup(arena, field) : NULL;
}

static bool cache_lookup(struct iam_service *service, struct iam_arena *arena, const uint8_t key[IAM_HASH_SIZE],
                         int64_t now, int64_t snapshot, uint64_t generation, struct iam_principal *who)
{
    struct iam_authn_cache *cache = service->authn_cache;
    if (!cache)
        return false;
    size_t slot = cache_slot(key);
    pthread_mutex_t *lock = &cache->locks[slot % CACHE_LOCKS];
    pthread_mutex_lock(lock);
    const struct cache_entry *entry = &cache->entries[slot];
    bool hit = entry->used && iam_bytes_equal(entry->key, key, IAM_HASH_SIZE) && now < entry->exp &&
               entry->snapshot == snapshot && entry->generation == generation;
    if (hit) {
        memset(who, 0, sizeof *who);
        who->kind = entry->kind;
        who->iam_id = cache_text(arena, entry->iam_id);
        who->account_id = cache_text(arena, entry->account_id);
        who->subject_id = cache_text(arena, entry->subject_id);
        who->name = cache_text(arena, entry->name);
        who->login = cache_text(arena, entry->login);
        who->email = cache_text(arena, entry->email);
        who->given_name = cache_text(arena, entry->given_name);
        who->family_name = cache_text(arena, entry->family_name);
        hit = who->iam_id && who->account_id && who->subject_id;
    }
    pthread_mutex_unlock(lock);
    return hit;
}

static void cache_store(struct iam_service *service, const uint8_t key[IAM_HASH_SIZE], int64_t exp, int64_t snapshot,
                        uint64_t generation, const struct iam_principal *who)
{
    struct iam_authn_cache *cache = service->authn_cache;
    if (!cache || generation != atomic_load(&cache->generation))
        return;
    struct cache_entry entry = {
        .used = true, .exp = exp, .snapshot = snapshot, .generation = generation, .kind = who->kind};
    memcpy(entry.key, key, IAM_HASH_SIZE);
    if (!cache_copy(entry.iam_id, sizeof entry.iam_id, who->iam_id) ||
        !cache_copy(entry.account_id, sizeof entry.account_id, who->account_id) ||
        !cache_copy(entry.subject_id, sizeof entry.subject_id, who->subject_id) ||
        !cache_copy(entry.name, sizeof entry.name, who->name) ||
        !cache_copy(entry.login, sizeof entry.login, who->login) ||
        !cache_copy(entry.email, sizeof entry.email, who->email) ||
        !cache_copy(entry.given_name, sizeof entry.given_name, who->given_name) ||
        !cache_copy(entry.family_name, sizeof entry.family_name, who->family_name))
        return; /* too long to cache: verified every time */
    size_t slot = cache_slot(key);
    pthread_mutex_t *lock = &cache->locks[slot % CACHE_LOCKS];
    pthread_mutex_lock(lock);
    cache->entries[slot] = entry;
    pthread_mutex_unlock(lock);
}

size_t iam_authn_cache_count(struct iam_service *service)
{
    struct iam_authn_cache *cache = service ? service->authn_cache : NULL;
    if (!cache)
        return 0;
    int64_t now = iam_now();
    int64_t snapshot = iam_engine_snapshot_serial(service->engine);
    uint64_t generation = atomic_load(&cache->generation);
    size_t count = 0;
    for (size_t lock = 0; lock < CACHE_LOCKS; lock++) {
        pthread_mutex_lock(&cache->locks[lock]);
        for (size_t slot = lock; slot < CACHE_SLOTS; slot += CACHE_LOCKS) {
            const struct cache_entry *entry = &cache->entries[slot];
            count += entry->used && now < entry->exp && entry->snapshot == snapshot && entry->generation == generation;
        }
        pthread_mutex_unlock(&cache->locks[lock]);
    }
    return count;
}

static const char *claim_string(const json_t *claims, const char *name)
{
    return json_string_value(json_object_get(claims, name));
}

enum iam_result iam_authn_access_token(struct iam_service *service, struct iam_arena *arena, const char *token,
                                       struct iam_principal *who, json_t **claims_out, struct iam_error *err)
{
    static const char invalid[] = "The provided access token is invalid.";
    if (claims_out)
        *claims_out = NULL;
    int64_t now = iam_now();
    /*
     * The cache only serves callers that need the principal, not the claims,
     * and only while the engine says memory may stand in for the store.
     */
    uint8_t key[IAM_HASH_SIZE];
    bool cacheable = !claims_out && service->engine && service->authn_cache && token &&
                     strlen(token) <= IAM_JWT_DEFAULT_MAX_LENGTH && iam_sha256(token, strlen(token), key) == IAM_OK;
    int64_t snapshot = cacheable ? iam_engine_snapshot_serial(service->engine) : 0;
    uint64_t generation = cacheable ? atomic_load(&service->authn_cache->generation) : 0;
    if (cacheable && cache_lookup(service, arena, key, now, snapshot, generation, who) &&
        iam_engine_check_current(service->engine) == IAM_OK) {
        iam_metrics_add(IAM_METRIC_TOKEN_CACHE_HITS, 1);
        return IAM_OK;
    }
    if (cacheable)
        iam_metrics_add(IAM_METRIC_TOKEN_CACHE_MISSES, 1);
    struct iam_jwt_verify_options options = {
        .issuer = service->options.issuer,
        .now = now,
        .leeway = service->options.clock_leeway,
        .max_length = IAM_JWT_DEFAULT_MAX_LENGTH,
        .require_exp = true,
    };
    json_t *claims = NULL;
    const char *reason = NULL;
    enum iam_result result = iam_keyring_verify(service->keyring, token, &options, &claims, &reason);
    if (result != IAM_OK)
        return iam_error_set(err, IAM_EUNAUTH, "BXNIM0407E", invalid);
    const char *iam_id = claim_string(claims, "iam_id");
    const char *account_id = json_string_value(json_object_get(json_object_get(claims, "account"), "bss"));
    if (!iam_id || !account_id) {
        json_decref(claims);
        return iam_error_set(err, IAM_EUNAUTH, "BXNIM0407E", invalid);
    }
    const char *iam_id_copy = iam_arena_strdup(arena, iam_id);
    const char *account_copy = iam_arena_strdup(arena, account_id);
    if (!iam_id_copy || !account_copy) {
        json_decref(claims);
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    }
    result = load_identity(service, arena, account_copy, iam_id_copy, who);
    if (result != IAM_OK) {
        json_decref(claims);
        if (iam_store_failed(result))
            return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
        return iam_error_set(err, IAM_EUNAUTH, "BXNIM0407E", invalid);
    }
    json_t *exp = json_object_get(claims, "exp");
    if (cacheable && json_is_integer(exp))
        cache_store(service, key, json_integer_value(exp), snapshot, generation, who);
    if (claims_out)
        *claims_out = claims;
    else
        json_decref(claims);
    return IAM_OK;
}

enum iam_result iam_authn_principal(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                    const char *iam_id, const char *apikey_id, struct iam_principal *who,
                                    struct iam_error *err)
{
    static const char gone[] = "The identity of this session no longer exists or is disabled.";
    memset(who, 0, sizeof *who);
    if (!account_id || !iam_id)
        return iam_error_set(err, IAM_EUNAUTH, "BXNIM0407E", gone);
    enum iam_result result = load_identity(service, arena, account_id, iam_id, who);
    if (iam_store_failed(result))
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    if (result != IAM_OK)
        return iam_error_set(err, IAM_EUNAUTH, "BXNIM0407E", gone);
    if (!apikey_id)
        return IAM_OK;
    struct iam_apikey_record key;
    result = iam_store_apikey_get(service->store, arena, account_id, apikey_id, &key);
    if (iam_store_failed(result))
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    if (result != IAM_OK || !key.iam_id || strcmp(key.iam_id, iam_id) != 0 || key.disabled ||
        (key.expires_at && key.expires_at <= iam_now()))
        return iam_error_set(err, IAM_EUNAUTH, "BXNIM0407E", "The API key of this session no longer works.");
    who->apikey_id = key.id;
    return IAM_OK;
}
