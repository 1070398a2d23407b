/*
 * sessions.h: console sign-in sessions (server-side state behind the
 * iamd_session cookie).
 *
 * A session is created after a successful sign-in (password or API key) and
 * is named by a 256-bit random secret, the cookie value (43 characters of
 * base64url). The table keeps only the SHA-256 of that secret, never the
 * secret itself, and finds a session by that hash; the full hash is compared
 * in constant time. Each session also has its own CSRF token (256-bit random,
 * base64url) that state-changing requests must echo in X-CSRF-Token.
 *
 * Expiry: a session ends `idle_timeout` seconds after its last use and at
 * `expires_at` (creation + the absolute timeout) whatever its use. The caller
 * takes both from the account's settings when the session is created
 * (session_invalidation_in_seconds, session_expiration_in_seconds), so a
 * change of the settings applies to sessions created afterwards. Touching a
 * session moves its last use in memory only.
 *
 * Bounds: the table holds at most `max_sessions` (default 100,000): when full,
 * expired sessions are dropped first, then the oldest session. A start request
 * may also cap the sessions of its identity (the account's
 * max_sessions_per_identity): the identity's oldest sessions are ended.
 *
 * This implementation is in memory, one table per process: on a restart every
 * session ends, and several iamd processes do not share sessions. A
 * store-backed table (PostgreSQL issue) replaces it behind these functions.
 *
 * The table knows nothing of identities' state: callers re-check the identity
 * on every use (iam_authn_principal) and end the session when it is gone.
 * All functions are thread-safe. Cookie values and CSRF tokens are never logged.
 */
#ifndef IAM_IAM_SESSIONS_H
#define IAM_IAM_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "iam/principal.h"

#define IAM_SESSIONS_MAX_DEFAULT 100000
#define IAM_SESSION_SECRET_BYTES 32 /* random bytes of the cookie value and of the CSRF token */
#define IAM_SESSION_TOKEN_LENGTH 43 /* their base64url length, without padding */
#define IAM_SESSION_TOKEN_SIZE 44   /* ... plus the NUL */
#define IAM_SESSION_ID_MAX 64       /* iam_id, account_id and API key id, NUL included */

struct iam_sessions;

struct iam_sessions_options {
    size_t max_sessions;             /* the table's bound; 0: IAM_SESSIONS_MAX_DEFAULT */
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

/* A copy of a session's state: no secret but the CSRF token, which the console page needs. */
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

/* A new empty table. IAM_ENOMEM. Free with iam_sessions_free. */
enum iam_result iam_sessions_new(const struct iam_sessions_options *options, struct iam_sessions **out) IAM_MUST_CHECK;

/* Ends every session and frees the table (wiping the hashes). NULL is allowed. */
void iam_sessions_free(struct iam_sessions *sessions);

/*
 * The process's table (default options), created on first use; NULL only when
 * that creation ran out of memory. Lives until the process exits.
 */
struct iam_sessions *iam_sessions_shared(void);

/*
 * Starts a session: draws the cookie value into `cookie` (the caller sends it
 * once and forgets it) and the CSRF token, and copies the session into `out`
 * (may be NULL). Evicts as described above. IAM_EINVAL for missing or too long
 * ids or non-positive timeouts; IAM_ECRYPTO when the CSPRNG fails; IAM_ENOMEM.
 */
enum iam_result iam_sessions_start(struct iam_sessions *sessions, const struct iam_session_start *start,
                                   char cookie[IAM_SESSION_TOKEN_SIZE], struct iam_session *out) IAM_MUST_CHECK;

/*
 * Finds the live session named by the cookie value `cookie` and copies it into
 * `out`. IAM_ENOTFOUND when the value is malformed, unknown, or its session
 * has expired (idle or absolute; an expired session is removed). Does not
 * count as a use: see iam_sessions_touch.
 */
enum iam_result iam_sessions_find(struct iam_sessions *sessions, const char *cookie,
                                  struct iam_session *out) IAM_MUST_CHECK;

/* Records a use of the session now (its idle timeout restarts). IAM_ENOTFOUND as iam_sessions_find. */
enum iam_result iam_sessions_touch(struct iam_sessions *sessions, const char *cookie) IAM_MUST_CHECK;

/* Ends the session named by `cookie` (sign-out); false when there was none (nothing to do). */
bool iam_sessions_end(struct iam_sessions *sessions, const char *cookie);

/* Ends every session of an identity (deleted, disabled); returns how many ended. */
size_t iam_sessions_end_identity(struct iam_sessions *sessions, const char *account_id, const char *iam_id);

/* How many sessions the table holds (expired ones not yet removed included). */
size_t iam_sessions_count(struct iam_sessions *sessions);

/* True when `presented` (may be NULL) equals the session's CSRF token; constant time. */
bool iam_session_csrf_matches(const struct iam_session *session, const char *presented);

#endif
