/*
 * postgres_accounts.c: PostgreSQL rows of accounts, their users and their
 * identity settings, and the change history of service IDs and API keys (the
 * mirror of sqlite_accounts.c and sqlite_history.c).
 *
 * A user belongs to one account and its iam_id is unique in the instance; the
 * login is unique across the instance and compared byte for byte (the caller
 * normalises it). History records are appended inside the write transaction
 * that changes their entity, ordered by an identity sequence; writes are
 * serialised by the store-wide write lock, so the sequence order is the
 * commit order.
 */
#include "store/postgres_internal.h"

#include <stdint.h>
#include <string.h>

/* --- accounts --- */

enum iam_result iam_pg_account_insert(struct iam_store *store, const struct iam_account_record *account)
{
    static const char *const operation = "account_insert";
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("INSERT INTO accounts (" IAM_PG_ACCOUNT_COLUMNS ") "
                         "VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint)");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, account->id);
    iam_pg_param_text(&params, account->name);
    iam_pg_param_text(&params, account->owner_iam_id);
    iam_pg_param_text(&params, account->state);
    iam_pg_param_int64(&params, account->created_at);
    iam_pg_param_int64(&params, account->modified_at);
    result = iam_pg_run(conn, &statement, &params, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_account_read(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_account_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->id) || !iam_pg_text(arena, result, row, 1, &out->name) ||
        !iam_pg_text(arena, result, row, 2, &out->owner_iam_id) || !iam_pg_text(arena, result, row, 3, &out->state))
        return IAM_ENOMEM;
    out->created_at = iam_pg_int64(result, row, 4);
    out->modified_at = iam_pg_int64(result, row, 5);
    return IAM_OK;
}

enum iam_result iam_pg_account_get(struct iam_store *store, struct iam_arena *arena, const char *id,
                                   struct iam_account_record *out)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " IAM_PG_ACCOUNT_COLUMNS " FROM accounts WHERE id = $1::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, id);
    return iam_pg_read_row(store, &statement, &params, arena, "account_get", iam_pg_account_read, out);
}

/* --- users --- */

#define USER_COLUMNS                                                                                              \
    "iam_id, account_id, login, email, given_name, family_name, state, password_hash, entity_tag, created_at, " \
    "modified_at"

enum iam_result iam_pg_user_insert(struct iam_store *store, const struct iam_user_record *user)
{
    static const char *const operation = "user_insert";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "INSERT INTO users (" USER_COLUMNS ") VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, "
        "$7::text, $8::text, $9::text, $10::bigint, $11::bigint)");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, user->iam_id);
    iam_pg_param_text(&params, user->account_id);
    iam_pg_param_text(&params, user->login);
    iam_pg_param_text(&params, user->email);
    iam_pg_param_text(&params, user->given_name);
    iam_pg_param_text(&params, user->family_name);
    iam_pg_param_text(&params, user->state);
    iam_pg_param_text(&params, user->password_hash);
    iam_pg_param_text(&params, user->entity_tag);
    iam_pg_param_int64(&params, user->created_at);
    iam_pg_param_int64(&params, user->modified_at);
    result = iam_pg_run(conn, &statement, &params, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

static enum iam_result read_user(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_user_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->iam_id) || !iam_pg_text(arena, result, row, 1, &out->account_id) ||
        !iam_pg_text(arena, result, row, 2, &out->login) || !iam_pg_text(arena, result, row, 3, &out->email) ||
        !iam_pg_text(arena, result, row, 4, &out->given_name) ||
        !iam_pg_text(arena, result, row, 5, &out->family_name) || !iam_pg_text(arena, result, row, 6, &out->state) ||
        !iam_pg_text(arena, result, row, 7, &out->password_hash) ||
        !iam_pg_text(arena, result, row, 8, &out->entity_tag))
        return IAM_ENOMEM;
    out->created_at = iam_pg_int64(result, row, 9);
    out->modified_at = iam_pg_int64(result, row, 10);
    return IAM_OK;
}

enum iam_result iam_pg_user_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                const char *iam_id, struct iam_user_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " USER_COLUMNS " FROM users WHERE account_id = $1::text AND iam_id = $2::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, iam_id);
    return iam_pg_read_row(store, &statement, &params, arena, "user_get", read_user, out);
}

enum iam_result iam_pg_user_get_by_login(struct iam_store *store, struct iam_arena *arena, const char *login,
                                         struct iam_user_record *out)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " USER_COLUMNS " FROM users WHERE login = $1::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, login);
    return iam_pg_read_row(store, &statement, &params, arena, "user_get_by_login", read_user, out);
}

/* --- account identity settings --- */

static enum iam_result read_settings(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_settings_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->account_id) || !iam_pg_text(arena, result, row, 1, &out->settings) ||
        !iam_pg_text(arena, result, row, 2, &out->entity_tag))
        return IAM_ENOMEM;
    out->modified_at = iam_pg_int64(result, row, 3);
    return IAM_OK;
}

enum iam_result iam_pg_settings_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    struct iam_settings_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT account_id, settings, entity_tag, modified_at FROM account_settings WHERE account_id = $1::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    return iam_pg_read_row(store, &statement, &params, arena, "settings_get", read_settings, out);
}

enum iam_result iam_pg_check_tag(struct iam_pg_conn *conn, struct iam_pg_statement *statement, const char *key,
                                 const char *expected_entity_tag, const char *operation)
{
    struct iam_pg_params params = {0};
    PGresult *result = NULL;
    iam_pg_param_text(&params, key);
    enum iam_result outcome = iam_pg_execute(conn, statement, &params, operation, &result, NULL);
    if (outcome != IAM_OK)
        return outcome;
    if (PQntuples(result) < 1 || PQgetisnull(result, 0, 0) ||
        strcmp(PQgetvalue(result, 0, 0), expected_entity_tag) != 0)
        outcome = IAM_ECONFLICT;
    PQclear(result);
    return outcome;
}

enum iam_result iam_pg_settings_put(struct iam_store *store, const struct iam_settings_record *settings,
                                    const char *expected_entity_tag)
{
    static const char *const operation = "settings_put";
    static struct iam_pg_statement tag =
        IAM_PG_STATEMENT("SELECT entity_tag FROM account_settings WHERE account_id = $1::text");
    static struct iam_pg_statement upsert = IAM_PG_STATEMENT(
        "INSERT INTO account_settings (account_id, settings, entity_tag, modified_at) "
        "VALUES ($1::text, $2::text, $3::text, $4::bigint) "
        "ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings, "
        "entity_tag = excluded.entity_tag, modified_at = excluded.modified_at");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    if (expected_entity_tag) {
        result = iam_pg_check_tag(conn, &tag, settings->account_id, expected_entity_tag, operation);
        if (result != IAM_OK)
            goto out;
    }
    iam_pg_param_text(&params, settings->account_id);
    iam_pg_param_text(&params, settings->settings);
    iam_pg_param_text(&params, settings->entity_tag);
    iam_pg_param_int64(&params, settings->modified_at);
    result = iam_pg_run(conn, &upsert, &params, operation, NULL);
out:
    return iam_pg_write_end(conn, result, true, operation);
}

/* --- history --- */

enum iam_result iam_pg_history_append(struct iam_pg_conn *conn, const char *account_id,
                                      const struct iam_history_record *history, const char *operation)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "INSERT INTO history (entity_id, account_id, occurred_at, iam_id, iam_id_account, action, params, message) "
        "VALUES ($1::text, $2::text, $3::bigint, $4::text, $5::text, $6::text, $7::text, $8::text)");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, history->entity_id);
    iam_pg_param_text(&params, account_id);
    iam_pg_param_int64(&params, history->timestamp);
    iam_pg_param_text(&params, history->iam_id);
    iam_pg_param_text(&params, history->iam_id_account);
    iam_pg_param_text(&params, history->action);
    iam_pg_param_text(&params, history->params);
    iam_pg_param_text(&params, history->message);
    return iam_pg_run(conn, &statement, &params, operation, NULL);
}

static enum iam_result read_history(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_history_record *record = item;
    record->timestamp = iam_pg_int64(result, row, 1);
    if (!iam_pg_text(arena, result, row, 0, &record->entity_id) ||
        !iam_pg_text(arena, result, row, 2, &record->iam_id) ||
        !iam_pg_text(arena, result, row, 3, &record->iam_id_account) ||
        !iam_pg_text(arena, result, row, 4, &record->action) || !iam_pg_text(arena, result, row, 5, &record->params) ||
        !iam_pg_text(arena, result, row, 6, &record->message))
        return IAM_ENOMEM;
    return IAM_OK;
}

enum iam_result iam_pg_history_list(struct iam_store *store, struct iam_arena *arena, const char *entity_id,
                                    size_t limit, struct iam_history_record **items, size_t *count)
{
    /* The newest `limit` by sequence, then turned oldest first. */
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT entity_id, occurred_at, iam_id, iam_id_account, action, params, message "
        "FROM (SELECT seq, entity_id, occurred_at, iam_id, iam_id_account, action, params, message "
        "FROM history WHERE entity_id = $1::text ORDER BY seq DESC LIMIT $2::bigint) AS newest ORDER BY seq ASC");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, entity_id);
    iam_pg_param_int64(&params, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &statement, &params, arena, "history_list", sizeof **items,
                                              read_history, SIZE_MAX, &rows, count, NULL);
    if (result == IAM_OK)
        *items = rows;
    return result;
}
