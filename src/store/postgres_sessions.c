/*
 * postgres_sessions.c: the PostgreSQL side of store_sessions.h, mirroring
 * sqlite_sessions.c. Insert and purge (several statements) run in a write
 * transaction that does not bump the revision; touch and the deletes are one
 * statement each and run on their own (autocommit), so a console request
 * never waits for the store-wide write lock.
 */
#include <string.h>

#include "common/time.h"
#include "store/postgres_internal.h"
#include "store/store_sessions.h"

#define SESSION_COLUMNS "kind, iam_id, account_id, apikey_id, created_at, last_seen_at, expires_at, idle_timeout"

/* Copies a text column into a fixed buffer; SQL NULL is "". False when it does not fit. */
static bool fixed_text(const PGresult *result, int row, int column, char *out, size_t size)
{
    out[0] = '\0';
    if (PQgetisnull(result, row, column))
        return true;
    int length = PQgetlength(result, row, column);
    if (length < 0 || (size_t)length >= size)
        return false;
    memcpy(out, PQgetvalue(result, row, column), (size_t)length);
    out[length] = '\0';
    return true;
}

static enum iam_result read_session(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    (void)arena;
    struct iam_store_session_record *out = item;
    if (!fixed_text(result, row, 0, out->kind, sizeof out->kind) ||
        !fixed_text(result, row, 1, out->iam_id, sizeof out->iam_id) ||
        !fixed_text(result, row, 2, out->account_id, sizeof out->account_id) ||
        !fixed_text(result, row, 3, out->apikey_id, sizeof out->apikey_id))
        return IAM_ESTORE; /* not a row this program wrote */
    out->created_at = iam_pg_int64(result, row, 4);
    out->last_seen_at = iam_pg_int64(result, row, 5);
    out->expires_at = iam_pg_int64(result, row, 6);
    out->idle_timeout = iam_pg_int64(result, row, 7);
    return IAM_OK;
}

static enum iam_result pg_session_insert(struct iam_store *store, const struct iam_store_session_record *session,
                                         int64_t max_per_identity, int64_t now)
{
    static const char *const operation = "session_insert";
    /* Room for the identity: its expired sessions first, then its oldest. */
    static struct iam_pg_statement drop_expired = IAM_PG_STATEMENT(
        "DELETE FROM console_sessions WHERE account_id = $1::text AND iam_id = $2::text "
        "AND (expires_at <= $3::bigint OR $3::bigint - last_seen_at >= idle_timeout)");
    static struct iam_pg_statement cap = IAM_PG_STATEMENT(
        "DELETE FROM console_sessions WHERE account_id = $1::text AND iam_id = $2::text "
        "AND hash NOT IN (SELECT hash FROM console_sessions WHERE account_id = $1::text AND iam_id = $2::text "
        "ORDER BY created_at DESC, started_at_ms DESC, hash LIMIT $3::bigint)");
    static struct iam_pg_statement insert = IAM_PG_STATEMENT(
        "INSERT INTO console_sessions (hash, " SESSION_COLUMNS ", started_at_ms) VALUES ($1::bytea, $2::text, $3::text, "
        "$4::text, $5::text, $6::bigint, $7::bigint, $8::bigint, $9::bigint, $10::bigint)");
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    struct iam_pg_params identity = {0};
    iam_pg_param_text(&identity, session->account_id);
    iam_pg_param_text(&identity, session->iam_id);
    iam_pg_param_int64(&identity, now);
    result = iam_pg_run(conn, &drop_expired, &identity, operation, NULL);
    if (result == IAM_OK && max_per_identity > 0) {
        struct iam_pg_params capped = {0};
        iam_pg_param_text(&capped, session->account_id);
        iam_pg_param_text(&capped, session->iam_id);
        iam_pg_param_int64(&capped, max_per_identity - 1);
        result = iam_pg_run(conn, &cap, &capped, operation, NULL);
    }
    if (result == IAM_OK) {
        struct iam_pg_params row = {0};
        iam_pg_param_bytea(&row, session->hash, sizeof session->hash);
        iam_pg_param_text(&row, session->kind);
        iam_pg_param_text(&row, session->iam_id);
        iam_pg_param_text(&row, session->account_id);
        iam_pg_param_text(&row, session->apikey_id[0] ? session->apikey_id : NULL);
        iam_pg_param_int64(&row, session->created_at);
        iam_pg_param_int64(&row, session->last_seen_at);
        iam_pg_param_int64(&row, session->expires_at);
        iam_pg_param_int64(&row, session->idle_timeout);
        iam_pg_param_int64(&row, iam_now_ms()); /* orders sessions started within one second */
        result = iam_pg_run(conn, &insert, &row, operation, NULL);
    }
    return iam_pg_write_end(conn, result, false, operation);
}

static enum iam_result pg_session_get(struct iam_store *store, const uint8_t *hash,
                                      struct iam_store_session_record *out)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " SESSION_COLUMNS " FROM console_sessions WHERE hash = $1::bytea");
    struct iam_pg_params params = {0};
    iam_pg_param_bytea(&params, hash, IAM_RECORD_HASH_SIZE);
    enum iam_result result = iam_pg_read_row(store, &statement, &params, NULL, "session_get", read_session, out);
    if (result == IAM_OK)
        memcpy(out->hash, hash, IAM_RECORD_HASH_SIZE);
    return result;
}

/* Runs one write statement on its own (autocommit); `*changes` gets the rows it changed. */
static enum iam_result run_alone(struct iam_store *store, struct iam_pg_statement *statement,
                                 const struct iam_pg_params *params, const char *operation, int64_t *changes)
{
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_acquire(store, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_pg_run(conn, statement, params, operation, changes);
    conn->write_changes = 0;
    iam_pg_release(conn);
    return result;
}

static enum iam_result pg_session_touch(struct iam_store *store, const uint8_t *hash, int64_t now, bool *found)
{
    /* Matches (and counts) the row even when last_seen_at is already later. */
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "UPDATE console_sessions SET last_seen_at = greatest(last_seen_at, $2::bigint) WHERE hash = $1::bytea");
    struct iam_pg_params params = {0};
    iam_pg_param_bytea(&params, hash, IAM_RECORD_HASH_SIZE);
    iam_pg_param_int64(&params, now);
    int64_t changes = 0;
    enum iam_result result = run_alone(store, &statement, &params, "session_touch", &changes);
    *found = result == IAM_OK && changes > 0;
    return result;
}

static enum iam_result pg_session_delete(struct iam_store *store, const uint8_t *hash, int64_t *deleted)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("DELETE FROM console_sessions WHERE hash = $1::bytea");
    struct iam_pg_params params = {0};
    iam_pg_param_bytea(&params, hash, IAM_RECORD_HASH_SIZE);
    return run_alone(store, &statement, &params, "session_delete", deleted);
}

static enum iam_result pg_session_delete_identity(struct iam_store *store, const char *account_id,
                                                  const char *iam_id, int64_t *deleted)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("DELETE FROM console_sessions WHERE account_id = $1::text AND iam_id = $2::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, iam_id);
    return run_alone(store, &statement, &params, "session_delete_identity", deleted);
}

static enum iam_result pg_session_purge(struct iam_store *store, int64_t now, int64_t limit, int64_t keep,
                                        int64_t *deleted)
{
    static const char *const operation = "session_purge";
    static struct iam_pg_statement expired_sql = IAM_PG_STATEMENT(
        "DELETE FROM console_sessions WHERE hash IN (SELECT hash FROM console_sessions "
        "WHERE expires_at <= $1::bigint OR $1::bigint - last_seen_at >= idle_timeout LIMIT $2::bigint)");
    static struct iam_pg_statement count_sql = IAM_PG_STATEMENT("SELECT count(*) FROM console_sessions");
    static struct iam_pg_statement trim_sql = IAM_PG_STATEMENT(
        "DELETE FROM console_sessions WHERE hash IN (SELECT hash FROM console_sessions "
        "ORDER BY created_at, started_at_ms, hash LIMIT $1::bigint)");
    int64_t expired = 0, trimmed = 0, count = 0;
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    struct iam_pg_params params = {0};
    iam_pg_param_int64(&params, now);
    iam_pg_param_int64(&params, limit);
    result = iam_pg_run(conn, &expired_sql, &params, operation, &expired);
    if (result == IAM_OK)
        result = iam_pg_query_integer(conn, &count_sql, NULL, operation, &count);
    if (result == IAM_OK && count > keep) {
        struct iam_pg_params extra = {0};
        iam_pg_param_int64(&extra, count - keep);
        result = iam_pg_run(conn, &trim_sql, &extra, operation, &trimmed);
    }
    result = iam_pg_write_end(conn, result, false, operation);
    if (result == IAM_OK)
        *deleted = expired + trimmed;
    return result;
}

static enum iam_result pg_session_count(struct iam_store *store, int64_t *count)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT("SELECT count(*) FROM console_sessions");
    return iam_pg_read_integer(store, &statement, NULL, "session_count", count);
}

const struct iam_store_sessions_backend iam_store_postgres_sessions_backend = {
    .insert = pg_session_insert,
    .get = pg_session_get,
    .touch = pg_session_touch,
    .delete_one = pg_session_delete,
    .delete_identity = pg_session_delete_identity,
    .purge = pg_session_purge,
    .count = pg_session_count,
};
