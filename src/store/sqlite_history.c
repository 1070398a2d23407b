/*
 * sqlite_history.c: SQLite rows of the change history of service IDs and API
 * keys (IBM's EntityHistoryRecord).
 *
 * Records are appended inside the write transaction that changes the entity,
 * ordered by an AUTOINCREMENT sequence (never reused, so the order is the
 * order of appends), and deleted with their entity. Each row carries the
 * account of its entity so deletes are scoped to the account.
 */
#include "store/sqlite_internal.h"

#include <stdint.h>

enum iam_result iam_sqlite_history_append(struct iam_sqlite_conn *conn, const char *account_id,
                                          const struct iam_history_record *history, const char *operation)
{
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(
        conn, IAM_SQLITE_STMT_HISTORY_INSERT,
        "INSERT INTO history (entity_id, account_id, occurred_at, iam_id, iam_id_account, action, params, message) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, history->entity_id) || iam_sqlite_bind_text(statement, 2, account_id) ||
        iam_sqlite_bind_int64(statement, 3, history->timestamp) ||
        iam_sqlite_bind_text(statement, 4, history->iam_id) ||
        iam_sqlite_bind_text(statement, 5, history->iam_id_account) ||
        iam_sqlite_bind_text(statement, 6, history->action) || iam_sqlite_bind_text(statement, 7, history->params) ||
        iam_sqlite_bind_text(statement, 8, history->message)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return iam_sqlite_run(conn, statement, operation, NULL);
}

enum iam_result iam_sqlite_history_delete(struct iam_sqlite_conn *conn, const char *account_id, const char *entity_id,
                                          const char *operation)
{
    sqlite3_stmt *statement;
    enum iam_result result =
        iam_sqlite_prepare(conn, IAM_SQLITE_STMT_HISTORY_DELETE_ENTITY,
                           "DELETE FROM history WHERE account_id = ?1 AND entity_id = ?2", &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, entity_id)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return iam_sqlite_run(conn, statement, operation, NULL);
}

enum iam_result iam_sqlite_history_list(struct iam_store *base, struct iam_arena *arena, const char *entity_id,
                                        size_t limit, struct iam_history_record **items, size_t *count)
{
    static const char *const operation = "history_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    struct iam_history_record *records = NULL;
    size_t used = 0, capacity = 0;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    /* The newest `limit` by sequence, then turned oldest first. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_HISTORY_LIST,
                                "SELECT entity_id, occurred_at, iam_id, iam_id_account, action, params, message "
                                "FROM (SELECT seq, entity_id, occurred_at, iam_id, iam_id_account, action, params, "
                                "message FROM history WHERE entity_id = ?1 ORDER BY seq DESC LIMIT ?2) AS newest "
                                "ORDER BY seq ASC",
                                &statement);
    if (result != IAM_OK)
        return result;
    int64_t sql_limit = limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
    if (iam_sqlite_bind_text(statement, 1, entity_id) || iam_sqlite_bind_int64(statement, 2, sql_limit)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    while ((result = iam_sqlite_step(conn, statement, operation)) == IAM_OK) {
        struct iam_history_record *grown =
            iam_sqlite_array_reserve(arena, records, used, &capacity, sizeof *records);
        if (!grown) {
            result = IAM_ENOMEM;
            goto out;
        }
        records = grown;
        struct iam_history_record *record = &records[used];
        record->timestamp = sqlite3_column_int64(statement, 1);
        if (!iam_sqlite_column_text(arena, statement, 0, &record->entity_id) ||
            !iam_sqlite_column_text(arena, statement, 2, &record->iam_id) ||
            !iam_sqlite_column_text(arena, statement, 3, &record->iam_id_account) ||
            !iam_sqlite_column_text(arena, statement, 4, &record->action) ||
            !iam_sqlite_column_text(arena, statement, 5, &record->params) ||
            !iam_sqlite_column_text(arena, statement, 6, &record->message)) {
            result = IAM_ENOMEM;
            goto out;
        }
        used++;
    }
    if (result == IAM_ENOTFOUND)
        result = IAM_OK;
out:
    iam_sqlite_reset(statement);
    if (result == IAM_OK) {
        *items = records;
        *count = used;
    }
    return result;
}
