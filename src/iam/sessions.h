/*
 * sessions.h: console sign-in sessions (server-side state behind the
 * iamd_session cookie), shared by every iamd node on the same database.
 *
 * A session is created after a successful sign-in (password or API key) and
 * is named by a 256-bit random secret, the cookie value (43 characters of
 * base64url). The store's console_sessions table (store/store_sessions.h)
 * keeps only the SHA-256 of that secret, never the secret itself, and finds a
 * session by that hash (the lookup's timing can tell at most something about
 * a hash, not about the secret). So a session started on one node is found,
 * used and ended on any other; sign-out deletes the row, and every node's
 * next lookup misses it: there is no per-process cache.
 *
 * CSRF: each session has a token that state-changing requests must echo in
 * X-CSRF-Token. It is not stored: it is base64url(HMAC-SHA256(K, cookie)),
 * K = HKDF-SHA256(pepper, info "iamd console csrf v1"), so every node derives
 * it from the cookie and the shared pepper, it differs for every session, and
 * it reveals nothing about the cookie. It is compared in constant time.
 *
 * Expiry: a session ends `idle_timeout` seconds after its last recorded use
 * and at `expires_at` (creation + the absolute timeout) whatever its use. The
 * caller takes both from the account's settings when the session is created
 * (session_invalidation_in_seconds, session_expiration_in_seconds), so a
 * change of the settings applies to sessions created afterwards.
 *
 * Touch throttling: a use is written to the store only when the recorded
 * last use is at least the touch interval old: min(60 s, idle_timeout / 10),
 * at least 1 s (iam_sessions_touch_interval). So the recorded last use lags
 * the real one by less than that interval, and a session may end up to one
 * interval (at most 10 % of its idle timeout, and 60 s) EARLIER than
 * idle_timeout after its real last use; never later.
 *
 * Bounds: iam_sessions_purge (the service's housekeeping, every minute)
 * deletes expired sessions (at most IAM_SESSIONS_PURGE_BATCH per call) and,
 * when more than `max_sessions` (default 100,000) remain, the oldest ones; in
 * between, the table may briefly hold more. A start request may cap the
 * sessions of its identity (the account's max_sessions_per_identity): in the
 * same transaction, the identity's expired sessions, then its oldest, end.
 *
 * The table knows nothing of identities' state: callers re-check the identity
 * on every use (iam_authn_principal) and end the session when it is gone.
 * All functions are thread-safe. Cookie values and CSRF tokens are never
 * logged or stored.
 */
#ifndef IAM_IAM_SESSIONS_H
#define IAM_IAM_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "iam/principal.h"

#define IAM_SESSIONS_MAX_DEFAULT 100000
#define IAM_SESSIONS_PURGE_BATCH 10000 /* the most expired sessions one purge deletes */
#define IAM_SESSIONS_TOUCH_INTERVAL_MAX 60 /* seconds; see "Touch throttling" */
#define IAM_SESSION_SECRET_BYTES 32 /* random bytes of the cookie value; bytes of the CSRF token's HMAC */
#define IAM_SESSION_TOKEN_LENGTH 43 /* their base64url length, without padding */
#define IAM_SESSION_TOKEN_SIZE 44   /* ... plus the NUL */
#define IAM_SESSION_ID_MAX 64       /* iam_id, account_id and API key id, NUL included */

struct iam_sessions;
struct iam_store;

struct iam_sessions_options {
    struct iam_store *store;         /* required: where sessions live; not owned, must outlive the table */
    const uint8_t *pepper;           /* required, at least 16 bytes: the CSRF key is derived from it */
    size_t pepper_length;
    size_t max_sessions;             /* the bound iam_sessions_purge keeps; 0: IAM_SESSIONS_MAX_DEFAULT */
    int64_t (*clock)(void *context); /* seconds since the epoch; NULL: iam_now (tests inject their own) */
    void *clock_context;
};

/* What a new session is for; the strings are copied. */
struct iam_session_start {
    enum iam_principal_kind kind;
    const char *iam_id;          /* required, shorter than IAM_SESSION_ID_MAX */
    const char *account_id;      /* required, shorter than IAM_SESSION_ID_MAX */
    const char *apikey_id;       /* the API key signed in with; NULL for a password */
    int64_t idle_timeout;        /* seconds, > 0 */
    int64_t absolute_timeout;    /* seconds, > 0 */
    size_t max_per_identity;     /* 0: no limit */
};

/* A copy of a session's state: no secret but the CSRF token (derived), which the console page needs. */
struct iam_session {
    enum iam_principal_kind kind;
    char iam_id[IAM_SESSION_ID_MAX];
    char account_id[IAM_SESSION_ID_MAX];
    char apikey_id[IAM_SESSION_ID_MAX]; /* "" when signed in with a password */
    char csrf_token[IAM_SESSION_TOKEN_SIZE];
    int64_t created_at;
    int64_t last_seen_at;
    int64_t expires_at;   /* the absolute end */
    int64_t idle_timeout; /* seconds */
};

/* A table over options->store. IAM_EINVAL without store or with a short pepper; IAM_ENOMEM. */
enum iam_result iam_sessions_new(const struct iam_sessions_options *options, struct iam_sessions **out) IAM_MUST_CHECK;

/* Frees the table (wiping its key). The sessions stay in the store. NULL is allowed. */
void iam_sessions_free(struct iam_sessions *sessions);

/*
 * Starts a session: draws the cookie value into `cookie` (the caller sends it
 * once and forgets it), stores the session (capping its identity as described
 * above), and copies it, with its CSRF token, into `out` (may be NULL).
 * IAM_EINVAL for missing or too long ids or non-positive timeouts;
 * IAM_ECRYPTO when the CSPRNG fails; IAM_ENOMEM; store errors.
 */
enum iam_result iam_sessions_start(struct iam_sessions *sessions, const struct iam_session_start *start,
                                   char cookie[IAM_SESSION_TOKEN_SIZE], struct iam_session *out) IAM_MUST_CHECK;

/*
 * Finds the live session named by the cookie value `cookie` (one read of the
 * store) and copies it, with its CSRF token, into `out`. IAM_ENOTFOUND when
 * the value is malformed, unknown, or its session has expired (idle or
 * absolute; an expired session is deleted); the store's error (e.g.
 * IAM_EUNAVAILABLE) when it cannot be read. Does not count as a use: see
 * iam_sessions_touch.
 */
enum iam_result iam_sessions_find(struct iam_sessions *sessions, const char *cookie,
                                  struct iam_session *out) IAM_MUST_CHECK;

/* The touch interval of a session with this idle timeout (see "Touch throttling"). */
int64_t iam_sessions_touch_interval(int64_t idle_timeout);

/*
 * Records a use of the session now. `seen` is what iam_sessions_find returned
 * for this cookie during the same request, or NULL to read it first. The
 * store is written only when the recorded last use is a touch interval old;
 * then IAM_ENOTFOUND tells that the session was ended in between. With `seen`
 * and no write due, nothing is read or written. IAM_ENOTFOUND as
 * iam_sessions_find when `seen` is NULL; store errors.
 */
enum iam_result iam_sessions_touch(struct iam_sessions *sessions, const char *cookie,
                                   const struct iam_session *seen) IAM_MUST_CHECK;

/* Ends the session named by `cookie` (sign-out). IAM_ENOTFOUND when there was none; store errors. */
enum iam_result iam_sessions_end(struct iam_sessions *sessions, const char *cookie) IAM_MUST_CHECK;

/* Ends every session of an identity (deleted, disabled); `ended` (may be NULL) counts them. */
enum iam_result iam_sessions_end_identity(struct iam_sessions *sessions, const char *account_id, const char *iam_id,
                                          size_t *ended) IAM_MUST_CHECK;

/* Deletes expired sessions and the oldest beyond max_sessions (see "Bounds"); `removed` may be NULL. */
enum iam_result iam_sessions_purge(struct iam_sessions *sessions, size_t *removed) IAM_MUST_CHECK;

/* How many sessions the store holds (expired ones not yet removed included); -1 when it cannot tell. */
int64_t iam_sessions_count(struct iam_sessions *sessions);

/* True when `presented` (may be NULL) equals the session's CSRF token; constant time. */
bool iam_session_csrf_matches(const struct iam_session *session, const char *presented);

#endif
