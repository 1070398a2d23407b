/*
 * store_sessions.c: the public functions of store_sessions.h: argument
 * checks every backend would make the same way, then the backend's sessions
 * table (backend.h). Nothing here knows SQL.
 */
#include "store/store_sessions.h"
#include "store/timed.h"

#include <string.h>

#include "store/backend.h"

static const struct iam_store_sessions_backend *sessions_of(const struct iam_store *store)
{
    return store->backend->sessions;
}

static bool text_fits(const char *text, bool may_be_empty)
{
    size_t length = strnlen(text, IAM_STORE_SESSION_ID_MAX);
    return length < IAM_STORE_SESSION_ID_MAX && (may_be_empty || length > 0);
}

enum iam_result iam_store_session_insert(struct iam_store *store, const struct iam_store_session_record *session,
                                         int64_t max_per_identity, int64_t now)
{
    if (!store || !session || !text_fits(session->kind, false) || !text_fits(session->iam_id, false) ||
        !text_fits(session->account_id, false) || !text_fits(session->apikey_id, true) || max_per_identity < 0 ||
        session->idle_timeout <= 0)
        return IAM_EINVAL;
    const struct iam_store_sessions_backend *sessions = sessions_of(store);
    if (!sessions)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(sessions->insert(store, session, max_per_identity, now));
}

enum iam_result iam_store_session_get(struct iam_store *store, const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                      struct iam_store_session_record *out)
{
    if (!out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    if (!store || !hash)
        return IAM_EINVAL;
    const struct iam_store_sessions_backend *sessions = sessions_of(store);
    if (!sessions)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(sessions->get(store, hash, out));
}

enum iam_result iam_store_session_touch(struct iam_store *store, const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                        int64_t now, bool *found)
{
    if (!store || !hash || !found)
        return IAM_EINVAL;
    *found = false;
    const struct iam_store_sessions_backend *sessions = sessions_of(store);
    if (!sessions)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(sessions->touch(store, hash, now, found));
}

enum iam_result iam_store_session_delete(struct iam_store *store, const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                         int64_t *deleted)
{
    int64_t ignored = 0;
    if (!deleted)
        deleted = &ignored;
    *deleted = 0;
    if (!store || !hash)
        return IAM_EINVAL;
    const struct iam_store_sessions_backend *sessions = sessions_of(store);
    if (!sessions)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(sessions->delete_one(store, hash, deleted));
}

enum iam_result iam_store_session_delete_identity(struct iam_store *store, const char *account_id,
                                                  const char *iam_id, int64_t *deleted)
{
    int64_t ignored = 0;
    if (!deleted)
        deleted = &ignored;
    *deleted = 0;
    if (!store || !account_id || !iam_id)
        return IAM_EINVAL;
    const struct iam_store_sessions_backend *sessions = sessions_of(store);
    if (!sessions)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(sessions->delete_identity(store, account_id, iam_id, deleted));
}

enum iam_result iam_store_session_purge(struct iam_store *store, int64_t now, int64_t limit, int64_t keep,
                                        int64_t *deleted)
{
    int64_t ignored = 0;
    if (!deleted)
        deleted = &ignored;
    *deleted = 0;
    if (!store || limit <= 0 || keep <= 0)
        return IAM_EINVAL;
    const struct iam_store_sessions_backend *sessions = sessions_of(store);
    if (!sessions)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(sessions->purge(store, now, limit, keep, deleted));
}

enum iam_result iam_store_session_count(struct iam_store *store, int64_t *count)
{
    if (!count)
        return IAM_EINVAL;
    *count = 0;
    if (!store)
        return IAM_EINVAL;
    const struct iam_store_sessions_backend *sessions = sessions_of(store);
    if (!sessions)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(sessions->count(store, count));
}
