/*
 * sessions.c: console sessions over the store's console_sessions table
 * (rules in sessions.h): the cookie's shape and hash, the derived CSRF
 * token, expiry and touch throttling. The table holds no state of its own
 * besides the CSRF key: every call reads or writes the store.
 */
#include "iam/sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/time.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "store/store_sessions.h"

#define CSRF_KEY_INFO "iamd console csrf v1"
#define KIND_USER "user"
#define KIND_SERVICE_ID "serviceid"

_Static_assert(IAM_SESSION_ID_MAX == IAM_STORE_SESSION_ID_MAX, "session id bounds differ");
_Static_assert(IAM_HASH_SIZE == IAM_RECORD_HASH_SIZE, "hash sizes differ");

struct iam_sessions {
    struct iam_store *store;
    struct iam_hasher *csrf; /* HMAC under the derived CSRF key */
    size_t max_sessions;
    int64_t (*clock)(void *context);
    void *clock_context;
};

static int64_t default_clock(void *context)
{
    (void)context;
    return iam_now();
}

enum iam_result iam_sessions_new(const struct iam_sessions_options *options, struct iam_sessions **out)
{
    *out = NULL;
    if (!options || !options->store || !options->pepper || options->pepper_length < 16)
        return IAM_EINVAL;
    struct iam_sessions *sessions = calloc(1, sizeof *sessions);
    if (!sessions)
        return IAM_ENOMEM;
    sessions->store = options->store;
    sessions->max_sessions = options->max_sessions ? options->max_sessions : IAM_SESSIONS_MAX_DEFAULT;
    sessions->clock = options->clock ? options->clock : default_clock;
    sessions->clock_context = options->clock ? options->clock_context : NULL;
    uint8_t key[IAM_HASH_SIZE];
    enum iam_result result = iam_hkdf_sha256(options->pepper, options->pepper_length, NULL, 0, CSRF_KEY_INFO,
                                             strlen(CSRF_KEY_INFO), key, sizeof key);
    if (result == IAM_OK)
        result = iam_hasher_new(key, sizeof key, &sessions->csrf);
    iam_wipe(key, sizeof key);
    if (result != IAM_OK) {
        free(sessions);
        return result;
    }
    *out = sessions;
    return IAM_OK;
}

void iam_sessions_free(struct iam_sessions *sessions)
{
    if (!sessions)
        return;
    iam_hasher_free(sessions->csrf);
    free(sessions);
}

/* True when `cookie` has the shape of a value we issue (43 base64url characters); then hashes it. */
static bool cookie_hash(const char *cookie, uint8_t hash[IAM_HASH_SIZE])
{
    if (!cookie || strnlen(cookie, IAM_SESSION_TOKEN_SIZE) != IAM_SESSION_TOKEN_LENGTH)
        return false;
    for (const char *c = cookie; *c; c++) {
        bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
                  *c == '_';
        if (!ok)
            return false;
    }
    return iam_sha256(cookie, IAM_SESSION_TOKEN_LENGTH, hash) == IAM_OK;
}

/* The session's CSRF token: base64url(HMAC-SHA256(K, cookie)); the cookie is known to be well formed. */
static enum iam_result csrf_token(const struct iam_sessions *sessions, const char *cookie,
                                  char out[IAM_SESSION_TOKEN_SIZE])
{
    uint8_t mac[IAM_HASH_SIZE];
    enum iam_result result = iam_hasher_mac(sessions->csrf, cookie, IAM_SESSION_TOKEN_LENGTH, mac);
    if (result == IAM_OK)
        result = iam_base64url_encode(mac, sizeof mac, out, IAM_SESSION_TOKEN_SIZE);
    iam_wipe(mac, sizeof mac);
    return result;
}

/* Draws 256 random bits as base64url text. */
static enum iam_result random_token(char out[IAM_SESSION_TOKEN_SIZE])
{
    uint8_t secret[IAM_SESSION_SECRET_BYTES];
    enum iam_result result = iam_random_bytes(secret, sizeof secret);
    if (result == IAM_OK)
        result = iam_base64url_encode(secret, sizeof secret, out, IAM_SESSION_TOKEN_SIZE);
    iam_wipe(secret, sizeof secret);
    return result;
}

static bool id_fits(const char *id)
{
    return id && *id && strnlen(id, IAM_SESSION_ID_MAX) < IAM_SESSION_ID_MAX;
}

static bool session_expired(const struct iam_session *session, int64_t now)
{
    /* now - last_seen_at: both are times near now, so no overflow (last_seen_at + idle_timeout could). */
    return now >= session->expires_at || now - session->last_seen_at >= session->idle_timeout;
}

/* The record's state as a session (without the CSRF token); false for a kind this program does not write. */
static bool session_from_record(const struct iam_store_session_record *record, struct iam_session *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(record->kind, KIND_USER) == 0)
        out->kind = IAM_PRINCIPAL_USER;
    else if (strcmp(record->kind, KIND_SERVICE_ID) == 0)
        out->kind = IAM_PRINCIPAL_SERVICE_ID;
    else
        return false;
    memcpy(out->iam_id, record->iam_id, sizeof out->iam_id);
    memcpy(out->account_id, record->account_id, sizeof out->account_id);
    memcpy(out->apikey_id, record->apikey_id, sizeof out->apikey_id);
    out->created_at = record->created_at;
    out->last_seen_at = record->last_seen_at;
    out->expires_at = record->expires_at;
    out->idle_timeout = record->idle_timeout;
    return true;
}

enum iam_result iam_sessions_start(struct iam_sessions *sessions, const struct iam_session_start *start,
                                   char cookie[IAM_SESSION_TOKEN_SIZE], struct iam_session *out)
{
    cookie[0] = '\0';
    if (!sessions || !start || !id_fits(start->iam_id) || !id_fits(start->account_id) ||
        (start->apikey_id && !id_fits(start->apikey_id)) || start->idle_timeout <= 0 || start->absolute_timeout <= 0)
        return IAM_EINVAL;
    struct iam_store_session_record record;
    memset(&record, 0, sizeof record);
    struct iam_session session;
    memset(&session, 0, sizeof session);
    enum iam_result result = random_token(cookie);
    if (result == IAM_OK && !cookie_hash(cookie, record.hash))
        result = IAM_ECRYPTO;
    if (result == IAM_OK)
        result = csrf_token(sessions, cookie, session.csrf_token);
    if (result == IAM_OK) {
        int64_t now = sessions->clock(sessions->clock_context);
        snprintf(record.kind, sizeof record.kind, "%s",
                 start->kind == IAM_PRINCIPAL_USER ? KIND_USER : KIND_SERVICE_ID);
        memcpy(record.iam_id, start->iam_id, strlen(start->iam_id) + 1);
        memcpy(record.account_id, start->account_id, strlen(start->account_id) + 1);
        if (start->apikey_id)
            memcpy(record.apikey_id, start->apikey_id, strlen(start->apikey_id) + 1);
        record.created_at = now;
        record.last_seen_at = now;
        record.expires_at = start->absolute_timeout > INT64_MAX - now ? INT64_MAX : now + start->absolute_timeout;
        record.idle_timeout = start->idle_timeout;
        size_t cap = start->max_per_identity;
        result = iam_store_session_insert(sessions->store, &record, cap > INT64_MAX ? INT64_MAX : (int64_t)cap, now);
    }
    if (result == IAM_OK && out) {
        char token[IAM_SESSION_TOKEN_SIZE];
        memcpy(token, session.csrf_token, sizeof token);
        (void)session_from_record(&record, out); /* the kind was written just above */
        memcpy(out->csrf_token, token, sizeof token);
        iam_wipe(token, sizeof token);
    }
    if (result != IAM_OK) {
        iam_wipe(cookie, IAM_SESSION_TOKEN_SIZE);
        cookie[0] = '\0';
    }
    iam_wipe(&record, sizeof record);
    iam_wipe(&session, sizeof session);
    return result;
}

enum iam_result iam_sessions_find(struct iam_sessions *sessions, const char *cookie, struct iam_session *out)
{
    uint8_t hash[IAM_HASH_SIZE];
    struct iam_session ignored;
    if (!out)
        out = &ignored;
    if (!sessions || !cookie_hash(cookie, hash))
        return IAM_ENOTFOUND;
    struct iam_store_session_record record;
    enum iam_result result = iam_store_session_get(sessions->store, hash, &record);
    if (result == IAM_OK && !session_from_record(&record, out))
        result = IAM_ENOTFOUND;
    if (result == IAM_OK && session_expired(out, sessions->clock(sessions->clock_context))) {
        /* Best effort: when this delete fails, the next purge removes the row. */
        enum iam_result deleted = iam_store_session_delete(sessions->store, hash, NULL);
        (void)deleted;
        result = IAM_ENOTFOUND;
    }
    if (result == IAM_OK)
        result = csrf_token(sessions, cookie, out->csrf_token);
    if (result != IAM_OK)
        iam_wipe(out, sizeof *out);
    iam_wipe(&record, sizeof record);
    iam_wipe(hash, sizeof hash);
    return result;
}

int64_t iam_sessions_touch_interval(int64_t idle_timeout)
{
    int64_t interval = idle_timeout / 10;
    if (interval > IAM_SESSIONS_TOUCH_INTERVAL_MAX)
        interval = IAM_SESSIONS_TOUCH_INTERVAL_MAX;
    return interval < 1 ? 1 : interval;
}

enum iam_result iam_sessions_touch(struct iam_sessions *sessions, const char *cookie, const struct iam_session *seen)
{
    struct iam_session found;
    uint8_t hash[IAM_HASH_SIZE];
    if (!sessions || !cookie_hash(cookie, hash))
        return IAM_ENOTFOUND;
    if (!seen) {
        enum iam_result result = iam_sessions_find(sessions, cookie, &found);
        if (result != IAM_OK)
            return result;
        seen = &found;
    }
    int64_t now = sessions->clock(sessions->clock_context);
    enum iam_result result = IAM_OK;
    if (now - seen->last_seen_at >= iam_sessions_touch_interval(seen->idle_timeout)) {
        bool exists = false;
        result = iam_store_session_touch(sessions->store, hash, now, &exists);
        if (result == IAM_OK && !exists)
            result = IAM_ENOTFOUND;
    }
    if (seen == &found)
        iam_wipe(&found, sizeof found);
    return result;
}

enum iam_result iam_sessions_end(struct iam_sessions *sessions, const char *cookie)
{
    uint8_t hash[IAM_HASH_SIZE];
    if (!sessions || !cookie_hash(cookie, hash))
        return IAM_ENOTFOUND;
    int64_t deleted = 0;
    enum iam_result result = iam_store_session_delete(sessions->store, hash, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return result;
}

enum iam_result iam_sessions_end_identity(struct iam_sessions *sessions, const char *account_id, const char *iam_id,
                                          size_t *ended)
{
    if (ended)
        *ended = 0;
    if (!sessions || !account_id || !iam_id)
        return IAM_EINVAL;
    int64_t deleted = 0;
    enum iam_result result = iam_store_session_delete_identity(sessions->store, account_id, iam_id, &deleted);
    if (result == IAM_OK && ended)
        *ended = (size_t)deleted;
    return result;
}

enum iam_result iam_sessions_purge(struct iam_sessions *sessions, size_t *removed)
{
    if (removed)
        *removed = 0;
    if (!sessions)
        return IAM_EINVAL;
    int64_t deleted = 0;
    int64_t keep = sessions->max_sessions > INT64_MAX ? INT64_MAX : (int64_t)sessions->max_sessions;
    enum iam_result result = iam_store_session_purge(sessions->store, sessions->clock(sessions->clock_context),
                                                     IAM_SESSIONS_PURGE_BATCH, keep, &deleted);
    if (result == IAM_OK && removed)
        *removed = (size_t)deleted;
    return result;
}

int64_t iam_sessions_count(struct iam_sessions *sessions)
{
    int64_t count = 0;
    if (!sessions || iam_store_session_count(sessions->store, &count) != IAM_OK)
        return -1;
    return count;
}

bool iam_session_csrf_matches(const struct iam_session *session, const char *presented)
{
    if (!session || !presented || session->csrf_token[0] == '\0')
        return false;
    /* The length is no secret (always 43); only equal lengths are compared, in constant time. */
    if (strnlen(presented, IAM_SESSION_TOKEN_SIZE) != IAM_SESSION_TOKEN_LENGTH)
        return false;
    return iam_bytes_equal(session->csrf_token, presented, IAM_SESSION_TOKEN_LENGTH);
}
