/*
 * sqlite_sessions.c: the SQLite side of store_sessions.h (the
 * console_sessions table). Every write runs in a write transaction whose
 * changes are not counted: sessions are not configuration, so the revision
 * stays.
 */
#include <string.h>

#include "common/time.h"
#include "store/sqlite_internal.h"
#include "store/store_sessions.h"

#define SESSION_COLUMNS "kind, iam_id, account_id, apikey_id, created_at, last_seen_at, expires_at, idle_timeout"

/* Copies a text column into a fixed buffer; SQL NULL is "". False when it does not fit. */
static bool column_fixed_text(sqlite3_stmt *statement, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(statement, column);
    size_t length = (size_t)sqlite3_column_bytes(statement, column);
    if (!text) {
        out[0] = '\0';
        return sqlite3_column_type(statement, column) == SQLITE_NULL;
    }
    if (length >= size)
        return false;
    memcpy(out, text, length);
    out[length] = '\0';
    return true;
}

/* Ends a session write: the rows it changed do not bump the revision. */
static enum iam_result write_end(struct iam_sqlite_conn *conn, enum iam_result result, const char *operation)
{
    conn->write_changes = 0;
    return iam_sqlite_write_end(conn, result, operation);
}

/* Runs a prepared statement whose bindings failed or not: the common tail of every bind-then-run. */
static enum iam_result run_bound(struct iam_sqlite_conn *conn, sqlite3_stmt *statement, bool bind_failed,
                                 const char *operation, int64_t *changes)
{
    if (bind_failed) {
        enum iam_result result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return iam_sqlite_run(conn, statement, operation, changes);
}

static enum iam_result sqlite_session_insert(struct iam_store *base, const struct iam_store_session_record *session,
                                             int64_t max_per_identity, int64_t now)
{
    static const char *const operation = "session_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    /* Room for the identity: its expired sessions first, then its oldest. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_DROP_EXPIRED_OF_IDENTITY,
                                "DELETE FROM console_sessions WHERE account_id = ?1 AND iam_id = ?2 "
                                "AND (expires_at <= ?3 OR ?3 - last_seen_at >= idle_timeout)",
                                &statement);
    if (result == IAM_OK)
        result = run_bound(conn, statement,
                           iam_sqlite_bind_text(statement, 1, session->account_id) ||
                               iam_sqlite_bind_text(statement, 2, session->iam_id) ||
                               iam_sqlite_bind_int64(statement, 3, now),
                           operation, NULL);
    if (result == IAM_OK && max_per_identity > 0) {
        result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_CAP_IDENTITY,
                                    "DELETE FROM console_sessions WHERE account_id = ?1 AND iam_id = ?2 "
                                    "AND hash NOT IN (SELECT hash FROM console_sessions "
                                    "WHERE account_id = ?1 AND iam_id = ?2 ORDER BY created_at DESC, started_at_ms DESC, hash LIMIT ?3)",
                                    &statement);
        if (result == IAM_OK)
            result = run_bound(conn, statement,
                               iam_sqlite_bind_text(statement, 1, session->account_id) ||
                                   iam_sqlite_bind_text(statement, 2, session->iam_id) ||
                                   iam_sqlite_bind_int64(statement, 3, max_per_identity - 1),
                               operation, NULL);
    }
    if (result == IAM_OK)
        result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_INSERT,
                                    "INSERT INTO console_sessions (hash, " SESSION_COLUMNS ", started_at_ms) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                                    &statement);
    if (result == IAM_OK)
        result = run_bound(conn, statement,
                           iam_sqlite_bind_blob(statement, 1, session->hash, sizeof session->hash) ||
                               iam_sqlite_bind_text(statement, 2, session->kind) ||
                               iam_sqlite_bind_text(statement, 3, session->iam_id) ||
                               iam_sqlite_bind_text(statement, 4, session->account_id) ||
                               iam_sqlite_bind_text(statement, 5, session->apikey_id[0] ? session->apikey_id : NULL) ||
                               iam_sqlite_bind_int64(statement, 6, session->created_at) ||
                               iam_sqlite_bind_int64(statement, 7, session->last_seen_at) ||
                               iam_sqlite_bind_int64(statement, 8, session->expires_at) ||
                               iam_sqlite_bind_int64(statement, 9, session->idle_timeout) ||
                               iam_sqlite_bind_int64(statement, 10, iam_now_ms()),
                           operation, NULL);
    return write_end(conn, result, operation);
}

static enum iam_result sqlite_session_get(struct iam_store *base, const uint8_t *hash,
                                          struct iam_store_session_record *out)
{
    static const char *const operation = "session_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_GET,
                                "SELECT " SESSION_COLUMNS " FROM console_sessions WHERE hash = ?1", &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_blob(statement, 1, hash, IAM_RECORD_HASH_SIZE)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result != IAM_OK)
        goto out;
    memcpy(out->hash, hash, IAM_RECORD_HASH_SIZE);
    if (!column_fixed_text(statement, 0, out->kind, sizeof out->kind) ||
        !column_fixed_text(statement, 1, out->iam_id, sizeof out->iam_id) ||
        !column_fixed_text(statement, 2, out->account_id, sizeof out->account_id) ||
        !column_fixed_text(statement, 3, out->apikey_id, sizeof out->apikey_id)) {
        result = IAM_ESTORE; /* not a row this program wrote */
        goto out;
    }
    out->created_at = sqlite3_column_int64(statement, 4);
    out->last_seen_at = sqlite3_column_int64(statement, 5);
    out->expires_at = sqlite3_column_int64(statement, 6);
    out->idle_timeout = sqlite3_column_int64(statement, 7);
out:
    iam_sqlite_reset(statement);
    return result;
}

static enum iam_result sqlite_session_touch(struct iam_store *base, const uint8_t *hash, int64_t now, bool *found)
{
    static const char *const operation = "session_touch";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t changes = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    /* Matches (and counts) the row even when last_seen_at is already later. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_TOUCH,
                                "UPDATE console_sessions SET last_seen_at = max(last_seen_at, ?2) WHERE hash = ?1",
                                &statement);
    if (result == IAM_OK)
        result = run_bound(conn, statement,
                           iam_sqlite_bind_blob(statement, 1, hash, IAM_RECORD_HASH_SIZE) ||
                               iam_sqlite_bind_int64(statement, 2, now),
                           operation, &changes);
    *found = result == IAM_OK && changes > 0;
    return write_end(conn, result, operation);
}

static enum iam_result sqlite_session_delete(struct iam_store *base, const uint8_t *hash, int64_t *deleted)
{
    static const char *const operation = "session_delete";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_DELETE, "DELETE FROM console_sessions WHERE hash = ?1",
                                &statement);
    if (result == IAM_OK)
        result = run_bound(conn, statement, iam_sqlite_bind_blob(statement, 1, hash, IAM_RECORD_HASH_SIZE),
                           operation, deleted);
    return write_end(conn, result, operation);
}

static enum iam_result sqlite_session_delete_identity(struct iam_store *base, const char *account_id,
                                                      const char *iam_id, int64_t *deleted)
{
    static const char *const operation = "session_delete_identity";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_DELETE_IDENTITY,
                                "DELETE FROM console_sessions WHERE account_id = ?1 AND iam_id = ?2", &statement);
    if (result == IAM_OK)
        result = run_bound(conn, statement,
                           iam_sqlite_bind_text(statement, 1, account_id) ||
                               iam_sqlite_bind_text(statement, 2, iam_id),
                           operation, deleted);
    return write_end(conn, result, operation);
}

/* Counts the rows inside the open transaction. */
static enum iam_result count_rows(struct iam_sqlite_conn *conn, const char *operation, int64_t *count)
{
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_COUNT,
                                                "SELECT count(*) FROM console_sessions", &statement);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        *count = sqlite3_column_int64(statement, 0);
    else if (result == IAM_ENOTFOUND)
        result = IAM_ESTORE;
    iam_sqlite_reset(statement);
    return result;
}

static enum iam_result sqlite_session_purge(struct iam_store *base, int64_t now, int64_t limit, int64_t keep,
                                            int64_t *deleted)
{
    static const char *const operation = "session_purge";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t expired = 0, trimmed = 0, count = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_PURGE_EXPIRED,
                                "DELETE FROM console_sessions WHERE hash IN (SELECT hash FROM console_sessions "
                                "WHERE expires_at <= ?1 OR ?1 - last_seen_at >= idle_timeout LIMIT ?2)",
                                &statement);
    if (result == IAM_OK)
        result = run_bound(conn, statement,
                           iam_sqlite_bind_int64(statement, 1, now) || iam_sqlite_bind_int64(statement, 2, limit),
                           operation, &expired);
    if (result == IAM_OK)
        result = count_rows(conn, operation, &count);
    if (result == IAM_OK && count > keep) {
        result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SESSION_TRIM,
                                    "DELETE FROM console_sessions WHERE hash IN (SELECT hash FROM console_sessions "
                                    "ORDER BY created_at, started_at_ms, hash LIMIT ?1)",
                                    &statement);
        if (result == IAM_OK)
            result = run_bound(conn, statement, iam_sqlite_bind_int64(statement, 1, count - keep), operation,
                               &trimmed);
    }
    result = write_end(conn, result, operation);
    if (result == IAM_OK)
        *deleted = expired + trimmed;
    return result;
}

static enum iam_result sqlite_session_count(struct iam_store *base, int64_t *count)
{
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    return count_rows(conn, "session_count", count);
}

const struct iam_store_sessions_backend iam_store_sqlite_sessions_backend = {
    .insert = sqlite_session_insert,
    .get = sqlite_session_get,
    .touch = sqlite_session_touch,
    .delete_one = sqlite_session_delete,
    .delete_identity = sqlite_session_delete_identity,
    .purge = sqlite_session_purge,
    .count = sqlite_session_count,
};
