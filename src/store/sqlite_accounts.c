/*
 * sqlite_accounts.c: SQLite rows of accounts, their users and their identity
 * settings.
 *
 * A user belongs to one account and its iam_id is unique in the instance;
 * the login is unique across the instance (the login lookup is one of the
 * two cross-account reads authentication needs). Logins are compared byte
 * for byte: the caller normalises them.
 */
#include "store/sqlite_internal.h"

#include <string.h>

/* --- accounts --- */

enum iam_result iam_sqlite_account_insert(struct iam_store *base, const struct iam_account_record *account)
{
    static const char *const operation = "account_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ACCOUNT_INSERT,
                                "INSERT INTO accounts (id, name, owner_iam_id, state, created_at, modified_at) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, account->id) || iam_sqlite_bind_text(statement, 2, account->name) ||
        iam_sqlite_bind_text(statement, 3, account->owner_iam_id) ||
        iam_sqlite_bind_text(statement, 4, account->state) ||
        iam_sqlite_bind_int64(statement, 5, account->created_at) ||
        iam_sqlite_bind_int64(statement, 6, account->modified_at)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_account_get(struct iam_store *base, struct iam_arena *arena, const char *id,
                                       struct iam_account_record *out)
{
    static const char *const operation = "account_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ACCOUNT_GET,
                                "SELECT id, name, owner_iam_id, state, created_at, modified_at "
                                "FROM accounts WHERE id = ?1",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, id)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result != IAM_OK)
        goto out;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->name) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->owner_iam_id) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->state)) {
        result = IAM_ENOMEM;
        goto out;
    }
    out->created_at = sqlite3_column_int64(statement, 4);
    out->modified_at = sqlite3_column_int64(statement, 5);
out:
    iam_sqlite_reset(statement);
    return result;
}

/* --- users --- */

#define USER_COLUMNS                                                                                              \
    "iam_id, account_id, login, email, given_name, family_name, state, password_hash, entity_tag, created_at, " \
    "modified_at"

enum iam_result iam_sqlite_user_insert(struct iam_store *base, const struct iam_user_record *user)
{
    static const char *const operation = "user_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_USER_INSERT,
                                "INSERT INTO users (" USER_COLUMNS ") "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, user->iam_id) || iam_sqlite_bind_text(statement, 2, user->account_id) ||
        iam_sqlite_bind_text(statement, 3, user->login) || iam_sqlite_bind_text(statement, 4, user->email) ||
        iam_sqlite_bind_text(statement, 5, user->given_name) ||
        iam_sqlite_bind_text(statement, 6, user->family_name) || iam_sqlite_bind_text(statement, 7, user->state) ||
        iam_sqlite_bind_text(statement, 8, user->password_hash) ||
        iam_sqlite_bind_text(statement, 9, user->entity_tag) ||
        iam_sqlite_bind_int64(statement, 10, user->created_at) ||
        iam_sqlite_bind_int64(statement, 11, user->modified_at)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

static enum iam_result read_user(struct iam_arena *arena, sqlite3_stmt *statement, struct iam_user_record *out)
{
    if (!iam_sqlite_column_text(arena, statement, 0, &out->iam_id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->account_id) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->login) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->email) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->given_name) ||
        !iam_sqlite_column_text(arena, statement, 5, &out->family_name) ||
        !iam_sqlite_column_text(arena, statement, 6, &out->state) ||
        !iam_sqlite_column_text(arena, statement, 7, &out->password_hash) ||
        !iam_sqlite_column_text(arena, statement, 8, &out->entity_tag))
        return IAM_ENOMEM;
    out->created_at = sqlite3_column_int64(statement, 9);
    out->modified_at = sqlite3_column_int64(statement, 10);
    return IAM_OK;
}

/* Runs a user query bound to `first` (and `second` when not NULL) and reads its one row. */
static enum iam_result user_query(struct iam_store *base, struct iam_arena *arena, enum iam_sqlite_statement slot,
                                  const char *sql, const char *operation, const char *first, const char *second,
                                  struct iam_user_record *out)
{
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, first) || (second && iam_sqlite_bind_text(statement, 2, second))) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        result = read_user(arena, statement, out);
out:
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_user_get(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                    const char *iam_id, struct iam_user_record *out)
{
    return user_query(base, arena, IAM_SQLITE_STMT_USER_GET,
                      "SELECT " USER_COLUMNS " FROM users WHERE account_id = ?1 AND iam_id = ?2", "user_get",
                      account_id, iam_id, out);
}

enum iam_result iam_sqlite_user_get_by_login(struct iam_store *base, struct iam_arena *arena, const char *login,
                                             struct iam_user_record *out)
{
    return user_query(base, arena, IAM_SQLITE_STMT_USER_GET_BY_LOGIN,
                      "SELECT " USER_COLUMNS " FROM users WHERE login = ?1", "user_get_by_login", login, NULL, out);
}

/* --- account identity settings --- */

enum iam_result iam_sqlite_settings_get(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                        struct iam_settings_record *out)
{
    static const char *const operation = "settings_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SETTINGS_GET,
                                "SELECT account_id, settings, entity_tag, modified_at "
                                "FROM account_settings WHERE account_id = ?1",
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

/*
 * Compares the current entity tag with the expected one inside the write
 * transaction. No row while a tag is expected is IAM_ECONFLICT: the caller
 * holds a version that is not the current one.
 */
static enum iam_result settings_check_tag(struct iam_sqlite_conn *conn, const char *account_id,
                                          const char *expected_entity_tag, const char *operation)
{
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_prepare(
        conn, IAM_SQLITE_STMT_SETTINGS_TAG, "SELECT entity_tag FROM account_settings WHERE account_id = ?1",
        &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id)) {
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

enum iam_result iam_sqlite_settings_put(struct iam_store *base, const struct iam_settings_record *settings,
                                        const char *expected_entity_tag)
{
    static const char *const operation = "settings_put";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    if (expected_entity_tag) {
        result = settings_check_tag(conn, settings->account_id, expected_entity_tag, operation);
        if (result != IAM_OK)
            goto out;
    }
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SETTINGS_UPSERT,
                                "INSERT INTO account_settings (account_id, settings, entity_tag, modified_at) "
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
