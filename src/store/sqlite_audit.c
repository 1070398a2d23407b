/*
 * sqlite_audit.c: SQLite rows of the audit trail (store_audit.h).
 *
 * An insert names its seq; the statement inserts only when that seq is the
 * current maximum + 1 (checked inside the write transaction, which SQLite
 * serialises with BEGIN IMMEDIATE), so a writer that read a stale head gets
 * IAM_ECONFLICT and never a gap or a fork. A batch runs the same statement
 * once per record in one transaction (each row checked the same way), so it
 * is stored whole or not at all. The head checkpoint in meta is written in
 * the same transaction. Audit writes leave the revision alone.
 */
#include "store/audit_backend.h"
#include "store/sqlite_internal.h"

#include <string.h>

static enum iam_result read_record(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_audit_record *record = item;
    record->seq = sqlite3_column_int64(statement, 0);
    record->time_ms = sqlite3_column_int64(statement, 1);
    record->status = sqlite3_column_int64(statement, 15);
    record->count = sqlite3_column_int64(statement, 19);
    record->window_start_ms = sqlite3_column_int64(statement, 20);
    if (!iam_sqlite_column_text(arena, statement, 2, &record->request_id) ||
        !iam_sqlite_column_text(arena, statement, 3, &record->phase) ||
        !iam_sqlite_column_text(arena, statement, 4, &record->actor_iam_id) ||
        !iam_sqlite_column_text(arena, statement, 5, &record->actor_account_id) ||
        !iam_sqlite_column_text(arena, statement, 6, &record->actor_apikey_id) ||
        !iam_sqlite_column_text(arena, statement, 7, &record->client_address) ||
        !iam_sqlite_column_text(arena, statement, 8, &record->action) ||
        !iam_sqlite_column_text(arena, statement, 9, &record->method) ||
        !iam_sqlite_column_text(arena, statement, 10, &record->route) ||
        !iam_sqlite_column_text(arena, statement, 11, &record->account_id) ||
        !iam_sqlite_column_text(arena, statement, 12, &record->target_type) ||
        !iam_sqlite_column_text(arena, statement, 13, &record->target_id) ||
        !iam_sqlite_column_text(arena, statement, 14, &record->outcome) ||
        !iam_sqlite_column_text(arena, statement, 16, &record->error_code) ||
        !iam_sqlite_column_text(arena, statement, 17, &record->message_code) ||
        !iam_sqlite_column_text(arena, statement, 18, &record->mechanism))
        return IAM_ENOMEM;
    /* A hash of the wrong size is stored data the chain check reports, not a store failure: zeros never verify. */
    if (!iam_sqlite_column_fixed_blob(statement, 21, record->prev_hash, IAM_AUDIT_HASH_SIZE))
        memset(record->prev_hash, 0xff, IAM_AUDIT_HASH_SIZE);
    if (!iam_sqlite_column_fixed_blob(statement, 22, record->hash, IAM_AUDIT_HASH_SIZE))
        memset(record->hash, 0, IAM_AUDIT_HASH_SIZE);
    return IAM_OK;
}

static enum iam_result sqlite_audit_head(struct iam_store *base, int64_t *seq, uint8_t hash[IAM_AUDIT_HASH_SIZE])
{
    static const char *const operation = "audit_head";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_AUDIT_HEAD,
                                "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", &statement);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK) {
        *seq = sqlite3_column_int64(statement, 0);
        if (!iam_sqlite_column_fixed_blob(statement, 1, hash, IAM_AUDIT_HASH_SIZE))
            memset(hash, 0, IAM_AUDIT_HASH_SIZE); /* appending to it makes a record that never verifies */
    } else if (result == IAM_ENOTFOUND) {
        result = IAM_OK; /* empty: seq 0, zero hash (set by store_audit.c) */
    }
    iam_sqlite_reset(statement);
    return result;
}

static enum iam_result bind_record(sqlite3_stmt *statement, const struct iam_audit_record *record)
{
    if (iam_sqlite_bind_int64(statement, 1, record->seq) || iam_sqlite_bind_int64(statement, 2, record->time_ms) ||
        iam_sqlite_bind_text(statement, 3, record->request_id) || iam_sqlite_bind_text(statement, 4, record->phase) ||
        iam_sqlite_bind_text(statement, 5, record->actor_iam_id) ||
        iam_sqlite_bind_text(statement, 6, record->actor_account_id) ||
        iam_sqlite_bind_text(statement, 7, record->actor_apikey_id) ||
        iam_sqlite_bind_text(statement, 8, record->client_address) ||
        iam_sqlite_bind_text(statement, 9, record->action) || iam_sqlite_bind_text(statement, 10, record->method) ||
        iam_sqlite_bind_text(statement, 11, record->route) || iam_sqlite_bind_text(statement, 12, record->account_id) ||
        iam_sqlite_bind_text(statement, 13, record->target_type) ||
        iam_sqlite_bind_text(statement, 14, record->target_id) || iam_sqlite_bind_text(statement, 15, record->outcome) ||
        iam_sqlite_bind_int64(statement, 16, record->status) ||
        iam_sqlite_bind_text(statement, 17, record->error_code) ||
        iam_sqlite_bind_text(statement, 18, record->message_code) ||
        iam_sqlite_bind_text(statement, 19, record->mechanism) || iam_sqlite_bind_int64(statement, 20, record->count) ||
        iam_sqlite_bind_int64(statement, 21, record->window_start_ms) ||
        iam_sqlite_bind_blob(statement, 22, record->prev_hash, IAM_AUDIT_HASH_SIZE) ||
        iam_sqlite_bind_blob(statement, 23, record->hash, IAM_AUDIT_HASH_SIZE))
        return IAM_ESTORE;
    return IAM_OK;
}

static enum iam_result sqlite_audit_insert(struct iam_store *base, const struct iam_audit_record *records,
                                           size_t count, const char *checkpoint)
{
    static const char *const operation = "audit_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    for (size_t i = 0; i < count; i++) {
        int64_t changes = 0;
        result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_AUDIT_INSERT,
                                    "INSERT INTO audit_events (" IAM_AUDIT_COLUMNS ") "
                                    "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                                    "?17, ?18, ?19, ?20, ?21, ?22, ?23 "
                                    "WHERE (SELECT coalesce(max(seq), 0) FROM audit_events) = ?1 - 1",
                                    &statement);
        if (result != IAM_OK)
            goto out;
        if (bind_record(statement, &records[i]) != IAM_OK) {
            result = iam_sqlite_fail_last(conn, operation);
            iam_sqlite_reset(statement);
            goto out;
        }
        result = iam_sqlite_run(conn, statement, operation, &changes);
        if (result == IAM_OK && changes != 1)
            result = IAM_ECONFLICT; /* the head moved since the caller read it */
        if (result != IAM_OK)
            goto out;
    }
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_AUDIT_CHECKPOINT,
                                "INSERT INTO meta (key, value) VALUES ('" IAM_AUDIT_HEAD_META_KEY "', ?1) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, checkpoint)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    /* A record, not configuration: caches keyed on the revision stay valid. */
    conn->write_changes = 0;
    return iam_sqlite_write_end(conn, result, operation);
}

static enum iam_result sqlite_audit_list(struct iam_store *base, struct iam_arena *arena,
                                         const struct iam_audit_query *query, struct iam_audit_record **items,
                                         size_t *count, bool *has_more)
{
    static const char *const operation = "audit_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    /* The (account_id, seq) index walked backwards; the optional filters are checked on the way. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_AUDIT_LIST,
                                "SELECT " IAM_AUDIT_COLUMNS " FROM audit_events "
                                "WHERE account_id = ?1 AND seq < ?2 AND time_ms >= ?3 AND time_ms < ?4 "
                                "AND (?5 IS NULL OR actor_iam_id = ?5) AND (?6 IS NULL OR action = ?6) "
                                "AND (?7 IS NULL OR target_id = ?7) AND (?8 IS NULL OR outcome = ?8) "
                                "ORDER BY seq DESC LIMIT ?9",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, query->account_id) ||
        iam_sqlite_bind_int64(statement, 2, query->before_seq > 0 ? query->before_seq : INT64_MAX) ||
        iam_sqlite_bind_int64(statement, 3, query->from_ms) ||
        iam_sqlite_bind_int64(statement, 4, query->to_ms > 0 ? query->to_ms : INT64_MAX) ||
        iam_sqlite_bind_text(statement, 5, query->actor_iam_id) || iam_sqlite_bind_text(statement, 6, query->action) ||
        iam_sqlite_bind_text(statement, 7, query->target_id) || iam_sqlite_bind_text(statement, 8, query->outcome) ||
        iam_sqlite_bind_int64(statement, 9, query->limit + 1)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    void *rows = NULL;
    result = iam_sqlite_collect(conn, statement, arena, operation, sizeof **items, read_record, (size_t)query->limit,
                                &rows, count, has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

static enum iam_result sqlite_audit_get(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                        int64_t seq, struct iam_audit_record *out)
{
    static const char *const operation = "audit_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_AUDIT_GET,
                                "SELECT " IAM_AUDIT_COLUMNS " FROM audit_events WHERE seq = ?1 AND account_id = ?2",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_int64(statement, 1, seq) || iam_sqlite_bind_text(statement, 2, account_id)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        result = read_record(arena, statement, out);
    iam_sqlite_reset(statement);
    return result;
}

static enum iam_result sqlite_audit_scan(struct iam_store *base, struct iam_arena *arena, int64_t after_seq,
                                         size_t limit, struct iam_audit_record **items, size_t *count)
{
    static const char *const operation = "audit_scan";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_AUDIT_SCAN,
                                "SELECT " IAM_AUDIT_COLUMNS " FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_int64(statement, 1, after_seq) || iam_sqlite_bind_int64(statement, 2, (int64_t)limit)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    void *rows = NULL;
    result = iam_sqlite_collect(conn, statement, arena, operation, sizeof **items, read_record, limit, &rows, count,
                                NULL);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

const struct iam_store_audit_backend iam_store_sqlite_audit_backend = {
    .head = sqlite_audit_head,
    .insert = sqlite_audit_insert,
    .list = sqlite_audit_list,
    .get = sqlite_audit_get,
    .scan = sqlite_audit_scan,
};
