/*
 * store_sessions.h: the store side of console sign-in sessions
 * (iam/sessions.h): the console_sessions table, so every node of a cluster
 * sees the sessions any node started and ended.
 *
 * A row is named by the SHA-256 of the session's cookie value; the cookie
 * itself is never stored. Same rules as store.h (one transaction per call,
 * prepared statements, arena-free fixed records) with one exception: session
 * writes are not configuration, so none of them bumps the store revision
 * (the caches keyed on it stay valid).
 *
 * "Expired" below means: now >= expires_at, or now >= last_seen_at + idle_timeout.
 */
#ifndef IAM_STORE_STORE_SESSIONS_H
#define IAM_STORE_STORE_SESSIONS_H

#include "store/store.h"

#define IAM_STORE_SESSION_ID_MAX 64    /* kind, iam_id, account_id and API key id, NUL included */

struct iam_store_session_record {
    uint8_t hash[IAM_RECORD_HASH_SIZE];  /* SHA-256 of the cookie value */
    char kind[IAM_STORE_SESSION_ID_MAX]; /* "user" or "serviceid" */
    char iam_id[IAM_STORE_SESSION_ID_MAX];
    char account_id[IAM_STORE_SESSION_ID_MAX];
    char apikey_id[IAM_STORE_SESSION_ID_MAX]; /* "" (NULL in the table) for a password sign-in */
    int64_t created_at;
    int64_t last_seen_at;
    int64_t expires_at;
    int64_t idle_timeout;
};

/*
 * Inserts a session. In the same transaction, first removes the identity's
 * expired sessions (at `now`), then, when `max_per_identity` > 0, its oldest
 * sessions (by created_at; ties in any order) so that it keeps at most
 * max_per_identity - 1 besides the new one. IAM_ECONFLICT when the hash exists.
 */
enum iam_result iam_store_session_insert(struct iam_store *store, const struct iam_store_session_record *session,
                                         int64_t max_per_identity, int64_t now) IAM_MUST_CHECK;

/* The session named by `hash` (expired or not); IAM_ENOTFOUND when none. */
enum iam_result iam_store_session_get(struct iam_store *store, const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                      struct iam_store_session_record *out) IAM_MUST_CHECK;

/* Sets last_seen_at to `now` when it is earlier; `*found` tells whether the session exists. */
enum iam_result iam_store_session_touch(struct iam_store *store, const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                        int64_t now, bool *found) IAM_MUST_CHECK;

/* Deletes the session named by `hash`; `*deleted` (may be NULL) is 0 or 1. */
enum iam_result iam_store_session_delete(struct iam_store *store, const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                         int64_t *deleted) IAM_MUST_CHECK;

/* Deletes every session of an identity; `*deleted` (may be NULL) counts them. */
enum iam_result iam_store_session_delete_identity(struct iam_store *store, const char *account_id,
                                                  const char *iam_id, int64_t *deleted) IAM_MUST_CHECK;

/*
 * Deletes at most `limit` (> 0) sessions expired at `now`, then, when more
 * than `keep` (> 0) remain, the oldest ones beyond `keep`. `*deleted` (may be
 * NULL) counts both.
 */
enum iam_result iam_store_session_purge(struct iam_store *store, int64_t now, int64_t limit, int64_t keep,
                                        int64_t *deleted) IAM_MUST_CHECK;

/* How many sessions the table holds (expired ones not yet purged included). */
enum iam_result iam_store_session_count(struct iam_store *store, int64_t *count) IAM_MUST_CHECK;

#endif
