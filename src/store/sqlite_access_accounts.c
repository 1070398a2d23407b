/*
 * sqlite_access_accounts.c: account and user administration for the access
 * side (listing and updating accounts, listing, updating and deleting users).
 *
 * Deleting a user removes, in the same transaction and all within its
 * account: its API keys and their history, its access-group memberships, and
 * the policies whose subject it is (subject_kind 'iam_id'). Lists are ordered
 * by creation time, then id, so pages are stable.
 */
#include "store/sqlite_internal.h"

/* --- accounts --- */

enum iam_result iam_sqlite_account_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_account_record *out = item;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->name) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->owner_iam_id) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->state))
        return IAM_ENOMEM;
    out->created_at = sqlite3_column_int64(statement, 4);
    out->modified_at = sqlite3_column_int64(statement, 5);
    return IAM_OK;
}

enum iam_result iam_sqlite_account_list(struct iam_store *base, struct iam_arena *arena, int64_t offset,
                                        int64_t limit, struct iam_account_record **items, size_t *count,
                                        bool *has_more)
{
    static const char *const operation = "account_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    /* Instance-wide on purpose: only the instance operator lists accounts. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ACCOUNT_LIST,
                                "SELECT " IAM_SQLITE_ACCOUNT_COLUMNS " FROM accounts "
                                "ORDER BY created_at ASC, id ASC LIMIT ?1 OFFSET ?2",
                                &statement);
    if (result != IAM_OK)
        return result;
    /* One row past the page tells whether there is a next page. */
    if (iam_sqlite_bind_int64(statement, 1, limit + 1) || iam_sqlite_bind_int64(statement, 2, offset)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    void *rows = NULL;
    result = iam_sqlite_collect(conn, statement, arena, operation, sizeof **items, iam_sqlite_account_read,
                              (size_t)limit, &rows, count, has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

enum iam_result iam_sqlite_account_update(struct iam_store *base, const struct iam_account_record *account)
{
    static const char *const operation = "account_update";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t changes = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ACCOUNT_UPDATE,
                                "UPDATE accounts SET name = ?2, state = ?3, owner_iam_id = ?4, modified_at = ?5 "
                                "WHERE id = ?1",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, account->id) || iam_sqlite_bind_text(statement, 2, account->name) ||
        iam_sqlite_bind_text(statement, 3, account->state) ||
        iam_sqlite_bind_text(statement, 4, account->owner_iam_id) ||
        iam_sqlite_bind_int64(statement, 5, account->modified_at)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, &changes);
    if (result == IAM_OK && changes == 0)
        result = IAM_ENOTFOUND;
out:
    return iam_sqlite_write_end(conn, result, operation);
}

/* --- users --- */

#define USER_COLUMNS                                                                                              \
    "iam_id, account_id, login, email, given_name, family_name, state, password_hash, entity_tag, created_at, " \
    "modified_at"

static enum iam_result read_user(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_user_record *out = item;
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

enum iam_result iam_sqlite_user_list(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                     int64_t offset, int64_t limit, struct iam_user_record **items, size_t *count,
                                     bool *has_more)
{
    static const char *const operation = "user_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_USER_LIST,
                                "SELECT " USER_COLUMNS " FROM users WHERE account_id = ?1 "
                                "ORDER BY created_at ASC, iam_id ASC LIMIT ?2 OFFSET ?3",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_int64(statement, 2, limit + 1) ||
        iam_sqlite_bind_int64(statement, 3, offset)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    void *rows = NULL;
    result = iam_sqlite_collect(conn, statement, arena, operation, sizeof **items, read_user, (size_t)limit,
                              &rows, count, has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

enum iam_result iam_sqlite_user_update(struct iam_store *base, const struct iam_user_record *user,
                                       const char *expected_entity_tag)
{
    static const char *const operation = "user_update";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t changes = 0, found = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_USER_UPDATE,
                                "UPDATE users SET login = ?3, email = ?4, given_name = ?5, family_name = ?6, "
                                "state = ?7, password_hash = ?8, entity_tag = ?9, modified_at = ?10 "
                                "WHERE account_id = ?1 AND iam_id = ?2 AND (?11 IS NULL OR entity_tag = ?11)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, user->account_id) || iam_sqlite_bind_text(statement, 2, user->iam_id) ||
        iam_sqlite_bind_text(statement, 3, user->login) || iam_sqlite_bind_text(statement, 4, user->email) ||
        iam_sqlite_bind_text(statement, 5, user->given_name) ||
        iam_sqlite_bind_text(statement, 6, user->family_name) || iam_sqlite_bind_text(statement, 7, user->state) ||
        iam_sqlite_bind_text(statement, 8, user->password_hash) ||
        iam_sqlite_bind_text(statement, 9, user->entity_tag) ||
        iam_sqlite_bind_int64(statement, 10, user->modified_at) ||
        iam_sqlite_bind_text(statement, 11, expected_entity_tag)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, &changes);
    if (result != IAM_OK || changes > 0)
        goto out;
    /* Nothing changed: the user is not in the account, or its tag is not the expected one. */
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_USER_EXISTS,
                                      "SELECT 1 FROM users WHERE account_id = ?1 AND iam_id = ?2", operation, 2,
                                      (const char *const[]){user->account_id, user->iam_id}, &found);
    if (result == IAM_OK)
        result = IAM_ECONFLICT;
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_user_delete(struct iam_store *base, const char *account_id, const char *iam_id)
{
    static const char *const operation = "user_delete";
    const char *const keys[] = {account_id, iam_id};
    struct iam_sqlite_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_USER_DELETE,
                                  "DELETE FROM users WHERE account_id = ?1 AND iam_id = ?2", operation, 2, keys,
                                  &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    if (result != IAM_OK)
        goto out;
    /* History first: it finds the keys through the apikeys rows deleted next. */
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_USER_DELETE_KEY_HISTORY,
                                  "DELETE FROM history WHERE account_id = ?1 AND entity_id IN "
                                  "(SELECT id FROM apikeys WHERE account_id = ?1 AND iam_id = ?2)",
                                  operation, 2, keys, NULL);
    if (result != IAM_OK)
        goto out;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_USER_DELETE_KEYS,
                                  "DELETE FROM apikeys WHERE account_id = ?1 AND iam_id = ?2", operation, 2, keys,
                                  NULL);
    if (result != IAM_OK)
        goto out;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_USER_DELETE_MEMBERSHIPS,
                                  "DELETE FROM group_members WHERE account_id = ?1 AND iam_id = ?2", operation, 2,
                                  keys, NULL);
    if (result != IAM_OK)
        goto out;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_USER_DELETE_POLICIES,
                                  "DELETE FROM policies WHERE account_id = ?1 AND subject_kind = 'iam_id' "
                                  "AND subject_value = ?2",
                                  operation, 2, keys, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}
