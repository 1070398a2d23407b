/*
 * sqlite_access_services.c: SQLite rows of registered services (instance-wide)
 * and of per-account access-management settings.
 *
 * Both are written by "put": insert or replace, guarded by an expected entity
 * tag read inside the write transaction. A tag expected where there is no row
 * is IAM_ECONFLICT (the caller holds a version that is not the current one).
 * Replacing a service keeps its created_by and created_at.
 */
#include "store/sqlite_internal.h"

#include <string.h>

/*
 * Compares the row's entity tag with the expected one inside the write
 * transaction: the query in `sql` takes the key as ?1 and returns the tag.
 */
static enum iam_result check_tag(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot, const char *sql,
                                 const char *key, const char *expected_entity_tag, const char *operation)
{
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, key)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_ENOTFOUND) {
        result = IAM_ECONFLICT;
    } else if (result == IAM_OK) {
        const unsigned char *current = sqlite3_column_text(statement, 0);
        if (!current || strcmp((const char *)current, expected_entity_tag) != 0)
            result = IAM_ECONFLICT;
    }
out:
    iam_sqlite_reset(statement);
    return result;
}

/* --- registered services --- */

enum iam_result iam_sqlite_service_def_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_service_def_record *out = item;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->name) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->document) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->entity_tag) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->created_by))
        return IAM_ENOMEM;
    out->created_at = sqlite3_column_int64(statement, 4);
    out->modified_at = sqlite3_column_int64(statement, 5);
    return IAM_OK;
}

enum iam_result iam_sqlite_service_def_put(struct iam_store *base, const struct iam_service_def_record *service,
                                           const char *expected_entity_tag)
{
    static const char *const operation = "service_def_put";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    if (expected_entity_tag) {
        result = check_tag(conn, IAM_SQLITE_STMT_SERVICE_DEF_TAG, "SELECT entity_tag FROM service_defs WHERE name = ?1",
                           service->name, expected_entity_tag, operation);
        if (result != IAM_OK)
            goto out;
    }
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SERVICE_DEF_UPSERT,
                                "INSERT INTO service_defs (" IAM_SQLITE_SERVICE_DEF_COLUMNS ") "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                                "ON CONFLICT (name) DO UPDATE SET document = excluded.document, "
                                "entity_tag = excluded.entity_tag, modified_at = excluded.modified_at",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, service->name) || iam_sqlite_bind_text(statement, 2, service->document) ||
        iam_sqlite_bind_text(statement, 3, service->entity_tag) ||
        iam_sqlite_bind_text(statement, 4, service->created_by) ||
        iam_sqlite_bind_int64(statement, 5, service->created_at) ||
        iam_sqlite_bind_int64(statement, 6, service->modified_at)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_service_def_get(struct iam_store *base, struct iam_arena *arena, const char *name,
                                           struct iam_service_def_record *out)
{
    static const char *const operation = "service_def_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SERVICE_DEF_GET,
                                "SELECT " IAM_SQLITE_SERVICE_DEF_COLUMNS " FROM service_defs WHERE name = ?1",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, name)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        result = iam_sqlite_service_def_read(arena, statement, out);
out:
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_service_def_list(struct iam_store *base, struct iam_arena *arena,
                                            struct iam_service_def_record **items, size_t *count)
{
    static const char *const operation = "service_def_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SERVICE_DEF_LIST,
                                "SELECT " IAM_SQLITE_SERVICE_DEF_COLUMNS " FROM service_defs ORDER BY name ASC",
                                &statement);
    if (result != IAM_OK)
        return result;
    void *rows = NULL;
    result = iam_sqlite_collect(conn, statement, arena, operation, sizeof **items, iam_sqlite_service_def_read,
                              SIZE_MAX, &rows, count, NULL);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

enum iam_result iam_sqlite_service_def_delete(struct iam_store *base, const char *name)
{
    static const char *const operation = "service_def_delete";
    struct iam_sqlite_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_SERVICE_DEF_DELETE, "DELETE FROM service_defs WHERE name = ?1",
                                  operation, 1, (const char *const[]){name}, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_sqlite_write_end(conn, result, operation);
}

/* --- access-management settings --- */

enum iam_result iam_sqlite_access_settings_get(struct iam_store *base, struct iam_arena *arena,
                                               const char *account_id, struct iam_access_settings_record *out)
{
    static const char *const operation = "access_settings_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ACCESS_SETTINGS_GET,
                                "SELECT account_id, settings, entity_tag, modified_at "
                                "FROM access_settings WHERE account_id = ?1",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result != IAM_OK)
        goto out;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->account_id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->settings) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->entity_tag)) {
        result = IAM_ENOMEM;
        goto out;
    }
    out->modified_at = sqlite3_column_int64(statement, 3);
out:
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_access_settings_put(struct iam_store *base,
                                               const struct iam_access_settings_record *settings,
                                               const char *expected_entity_tag)
{
    static const char *const operation = "access_settings_put";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    if (expected_entity_tag) {
        result = check_tag(conn, IAM_SQLITE_STMT_ACCESS_SETTINGS_TAG,
                           "SELECT entity_tag FROM access_settings WHERE account_id = ?1", settings->account_id,
                           expected_entity_tag, operation);
        if (result != IAM_OK)
            goto out;
    }
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ACCESS_SETTINGS_UPSERT,
                                "INSERT INTO access_settings (account_id, settings, entity_tag, modified_at) "
                                "VALUES (?1, ?2, ?3, ?4) "
                                "ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings, "
                                "entity_tag = excluded.entity_tag, modified_at = excluded.modified_at",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, settings->account_id) ||
        iam_sqlite_bind_text(statement, 2, settings->settings) ||
        iam_sqlite_bind_text(statement, 3, settings->entity_tag) ||
        iam_sqlite_bind_int64(statement, 4, settings->modified_at)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}
