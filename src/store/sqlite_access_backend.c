/*
 * sqlite_access_backend.c: the SQLite backend's access-side table of
 * functions (backend.h) and the helpers the sqlite_access_*.c files share:
 * read transactions, statements bound to a list of texts, and reading rows
 * into arena arrays.
 *
 * Read transactions (BEGIN DEFERRED ... COMMIT on the thread's connection)
 * are for reads made of several queries that must agree: a page and its
 * total, or the parts of the engine's snapshot. In WAL mode they take no lock
 * that blocks writers; the state they see is fixed at their first SELECT.
 */
#include "store/sqlite_internal.h"

#include <stdint.h>

#include "common/log.h"

/* --- read transactions --- */

static enum iam_result run_control(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot, const char *sql,
                                   const char *operation)
{
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    return iam_sqlite_run(conn, statement, operation, NULL);
}

/* Ends whatever transaction is open after a failure; some errors end it by themselves. */
static void read_abort(struct iam_sqlite_conn *conn, const char *operation)
{
    if (sqlite3_get_autocommit(conn->db))
        return;
    if (run_control(conn, IAM_SQLITE_STMT_READ_ROLLBACK, "ROLLBACK", operation) == IAM_OK)
        return;
    if (!sqlite3_get_autocommit(conn->db)) {
        int code = sqlite3_exec(conn->db, "ROLLBACK", NULL, NULL, NULL);
        if (code != SQLITE_OK)
            iam_log(IAM_LOG_ERROR, "store_error", "%s: rollback failed: sqlite %d", operation, code);
    }
}

enum iam_result iam_sqlite_read_begin(struct iam_store *base, struct iam_sqlite_conn **out, const char *operation)
{
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = run_control(conn, IAM_SQLITE_STMT_READ_BEGIN, "BEGIN DEFERRED", operation);
    if (result != IAM_OK) {
        read_abort(conn, operation);
        return result;
    }
    *out = conn;
    return IAM_OK;
}

enum iam_result iam_sqlite_read_end(struct iam_sqlite_conn *conn, enum iam_result result, const char *operation)
{
    enum iam_result ended = run_control(conn, IAM_SQLITE_STMT_READ_COMMIT, "COMMIT", operation);
    if (ended != IAM_OK)
        read_abort(conn, operation);
    return result != IAM_OK ? result : ended;
}

/* --- bound statements --- */

static enum iam_result bind_texts(struct iam_sqlite_conn *conn, sqlite3_stmt *statement, size_t count,
                                  const char *const values[], const char *operation)
{
    for (size_t i = 0; i < count; i++) {
        if (iam_sqlite_bind_text(statement, (int)i + 1, values[i])) {
            enum iam_result result = iam_sqlite_fail_last(conn, operation);
            iam_sqlite_reset(statement);
            return result;
        }
    }
    return IAM_OK;
}

enum iam_result iam_sqlite_run_texts(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot, const char *sql,
                                     const char *operation, size_t count, const char *const values[],
                                     int64_t *changes)
{
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    result = bind_texts(conn, statement, count, values, operation);
    if (result != IAM_OK)
        return result;
    return iam_sqlite_run(conn, statement, operation, changes);
}

enum iam_result iam_sqlite_query_integer(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot,
                                         const char *sql, const char *operation, size_t count,
                                         const char *const values[], int64_t *value)
{
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    result = bind_texts(conn, statement, count, values, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        *value = sqlite3_column_int64(statement, 0);
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_collect(struct iam_sqlite_conn *conn, sqlite3_stmt *statement, struct iam_arena *arena,
                                   const char *operation, size_t item_size,
                                   enum iam_result (*read_row)(struct iam_arena *arena, sqlite3_stmt *statement,
                                                               void *item),
                                   size_t max_items, void **items, size_t *count, bool *more)
{
    void *records = NULL;
    size_t used = 0, capacity = 0;
    bool past = false;
    enum iam_result result;
    while ((result = iam_sqlite_step(conn, statement, operation)) == IAM_OK) {
        if (used == max_items) {
            past = true;
            break;
        }
        void *grown = iam_sqlite_array_reserve(arena, records, used, &capacity, item_size);
        if (!grown) {
            result = IAM_ENOMEM;
            break;
        }
        records = grown;
        result = read_row(arena, statement, (char *)records + used * item_size);
        if (result != IAM_OK)
            break;
        used++;
    }
    if (result == IAM_ENOTFOUND)
        result = IAM_OK;
    iam_sqlite_reset(statement);
    if (result == IAM_OK) {
        *items = records;
        *count = used;
        if (more)
            *more = past;
    }
    return result;
}

/* --- the table --- */

const struct iam_store_access_backend iam_store_sqlite_access_backend = {
    .account_list = iam_sqlite_account_list,
    .account_update = iam_sqlite_account_update,
    .user_list = iam_sqlite_user_list,
    .user_update = iam_sqlite_user_update,
    .user_delete = iam_sqlite_user_delete,
    .policy_insert = iam_sqlite_policy_insert,
    .policy_get = iam_sqlite_policy_get,
    .policy_list = iam_sqlite_policy_list,
    .policy_update = iam_sqlite_policy_update,
    .policy_delete = iam_sqlite_policy_delete,
    .policy_count_for_subject = iam_sqlite_policy_count_for_subject,
    .policy_add_permits = iam_sqlite_policy_add_permits,
    .role_insert = iam_sqlite_role_insert,
    .role_get = iam_sqlite_role_get,
    .role_list = iam_sqlite_role_list,
    .role_update = iam_sqlite_role_update,
    .role_delete = iam_sqlite_role_delete,
    .group_insert = iam_sqlite_group_insert,
    .group_get = iam_sqlite_group_get,
    .group_list = iam_sqlite_group_list,
    .group_update = iam_sqlite_group_update,
    .group_delete = iam_sqlite_group_delete,
    .group_count = iam_sqlite_group_count,
    .member_add = iam_sqlite_member_add,
    .member_remove = iam_sqlite_member_remove,
    .member_get = iam_sqlite_member_get,
    .member_list = iam_sqlite_member_list,
    .member_group_count = iam_sqlite_member_group_count,
    .service_def_put = iam_sqlite_service_def_put,
    .service_def_get = iam_sqlite_service_def_get,
    .service_def_list = iam_sqlite_service_def_list,
    .service_def_delete = iam_sqlite_service_def_delete,
    .access_settings_get = iam_sqlite_access_settings_get,
    .access_settings_put = iam_sqlite_access_settings_put,
    .access_snapshot = iam_sqlite_access_snapshot,
};
