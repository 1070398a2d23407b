/*
 * sqlite_access_roles.c: SQLite rows of custom roles.
 *
 * A custom role's name is unique per account and service (byte for byte; the
 * domain capitalises names). Every statement names the account in its WHERE
 * clause. Lists return every role of the account (IBM caps them at 40), by
 * name, then service, then id.
 */
#include "store/sqlite_internal.h"

enum iam_result iam_sqlite_role_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_role_record *out = item;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->account_id) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->name) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->display_name) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->description) ||
        !iam_sqlite_column_text(arena, statement, 5, &out->service_name) ||
        !iam_sqlite_column_text(arena, statement, 6, &out->actions) ||
        !iam_sqlite_column_text(arena, statement, 7, &out->crn) ||
        !iam_sqlite_column_text(arena, statement, 8, &out->entity_tag) ||
        !iam_sqlite_column_text(arena, statement, 9, &out->created_by) ||
        !iam_sqlite_column_text(arena, statement, 10, &out->modified_by))
        return IAM_ENOMEM;
    out->created_at_ms = sqlite3_column_int64(statement, 11);
    out->modified_at_ms = sqlite3_column_int64(statement, 12);
    return IAM_OK;
}

enum iam_result iam_sqlite_role_insert(struct iam_store *base, const struct iam_role_record *role)
{
    static const char *const operation = "role_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ROLE_INSERT,
                                "INSERT INTO custom_roles (" IAM_SQLITE_ROLE_COLUMNS ") "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, role->id) || iam_sqlite_bind_text(statement, 2, role->account_id) ||
        iam_sqlite_bind_text(statement, 3, role->name) || iam_sqlite_bind_text(statement, 4, role->display_name) ||
        iam_sqlite_bind_text(statement, 5, role->description) ||
        iam_sqlite_bind_text(statement, 6, role->service_name) || iam_sqlite_bind_text(statement, 7, role->actions) ||
        iam_sqlite_bind_text(statement, 8, role->crn) || iam_sqlite_bind_text(statement, 9, role->entity_tag) ||
        iam_sqlite_bind_text(statement, 10, role->created_by) ||
        iam_sqlite_bind_text(statement, 11, role->modified_by) ||
        iam_sqlite_bind_int64(statement, 12, role->created_at_ms) ||
        iam_sqlite_bind_int64(statement, 13, role->modified_at_ms)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_role_get(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                    const char *id, struct iam_role_record *out)
{
    static const char *const operation = "role_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ROLE_GET,
                                "SELECT " IAM_SQLITE_ROLE_COLUMNS
                                " FROM custom_roles WHERE account_id = ?1 AND id = ?2",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, id)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        result = iam_sqlite_role_read(arena, statement, out);
out:
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_role_list(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                     const char *service_name, struct iam_role_record **items, size_t *count)
{
    static const char *const operation = "role_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ROLE_LIST,
                                "SELECT " IAM_SQLITE_ROLE_COLUMNS " FROM custom_roles WHERE account_id = ?1 "
                                "AND (?2 IS NULL OR service_name = ?2) ORDER BY name ASC, service_name ASC, id ASC",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, service_name)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    void *rows = NULL;
    result = iam_sqlite_collect(conn, statement, arena, operation, sizeof **items, iam_sqlite_role_read, SIZE_MAX,
                              &rows, count, NULL);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

enum iam_result iam_sqlite_role_update(struct iam_store *base, const struct iam_role_record *role,
                                       const char *expected_entity_tag)
{
    static const char *const operation = "role_update";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t changes = 0, found = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ROLE_UPDATE,
                                "UPDATE custom_roles SET display_name = ?3, description = ?4, actions = ?5, "
                                "entity_tag = ?6, modified_by = ?7, modified_at_ms = ?8 "
                                "WHERE account_id = ?1 AND id = ?2 AND (?9 IS NULL OR entity_tag = ?9)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, role->account_id) || iam_sqlite_bind_text(statement, 2, role->id) ||
        iam_sqlite_bind_text(statement, 3, role->display_name) ||
        iam_sqlite_bind_text(statement, 4, role->description) || iam_sqlite_bind_text(statement, 5, role->actions) ||
        iam_sqlite_bind_text(statement, 6, role->entity_tag) ||
        iam_sqlite_bind_text(statement, 7, role->modified_by) ||
        iam_sqlite_bind_int64(statement, 8, role->modified_at_ms) ||
        iam_sqlite_bind_text(statement, 9, expected_entity_tag)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, &changes);
    if (result != IAM_OK || changes > 0)
        goto out;
    /* Nothing changed: the role is not in the account, or its tag is not the expected one. */
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_ROLE_EXISTS,
                                      "SELECT 1 FROM custom_roles WHERE account_id = ?1 AND id = ?2", operation, 2,
                                      (const char *const[]){role->account_id, role->id}, &found);
    if (result == IAM_OK)
        result = IAM_ECONFLICT;
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_role_delete(struct iam_store *base, const char *account_id, const char *id)
{
    static const char *const operation = "role_delete";
    struct iam_sqlite_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_ROLE_DELETE,
                                  "DELETE FROM custom_roles WHERE account_id = ?1 AND id = ?2", operation, 2,
                                  (const char *const[]){account_id, id}, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_sqlite_write_end(conn, result, operation);
}
