/*
 * sqlite_activity.c: the SQLite side of store_activity.h: users' sign-in
 * times, the inactive-identities scan (one read transaction, three queries)
 * and the stored activity reports. None of these writes bumps the revision.
 */
#include <string.h>

#include "store/sqlite_internal.h"
#include "store/store_activity.h"

static enum iam_result sqlite_user_add_authn(struct iam_store *base, const struct iam_apikey_usage *items,
                                                 size_t count)
{
    static const char *const operation = "user_add_authn";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    /* Users deleted since the sign-in match no row and are skipped. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_USER_ADD_AUTHN,
                                "UPDATE users SET last_authn = max(last_authn, ?2) WHERE iam_id = ?1", &statement);
    for (size_t i = 0; result == IAM_OK && i < count; i++) {
        if (iam_sqlite_bind_text(statement, 1, items[i].id) ||
            iam_sqlite_bind_int64(statement, 2, items[i].last_authn)) {
            result = iam_sqlite_fail_last(conn, operation);
            iam_sqlite_reset(statement);
            break;
        }
        result = iam_sqlite_run(conn, statement, operation, NULL);
    }
    conn->write_changes = 0; /* statistics: the revision stays */
    return iam_sqlite_write_end(conn, result, operation);
}

/* --- the inactive-identities scan --- */

static enum iam_result read_user(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_activity_user *out = item;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->iam_id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->login) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->email) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->given_name) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->family_name))
        return IAM_ENOMEM;
    out->last_authn = sqlite3_column_int64(statement, 5);
    return IAM_OK;
}

static enum iam_result read_service_id(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_activity_service_id *out = item;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->iam_id) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->name))
        return IAM_ENOMEM;
    out->last_authn = sqlite3_column_int64(statement, 3);
    return IAM_OK;
}

static enum iam_result read_apikey(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_activity_apikey *out = item;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->name) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->iam_id) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->service_id_id) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->service_id_name) ||
        !iam_sqlite_column_text(arena, statement, 5, &out->user_login) ||
        !iam_sqlite_column_text(arena, statement, 6, &out->user_email) ||
        !iam_sqlite_column_text(arena, statement, 7, &out->user_given_name) ||
        !iam_sqlite_column_text(arena, statement, 8, &out->user_family_name))
        return IAM_ENOMEM;
    out->last_authn = sqlite3_column_int64(statement, 9);
    return IAM_OK;
}

/* Runs one scan query (?1 account, ?2 since, ?3 row limit) into an arena array. */
static enum iam_result scan(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot, const char *sql,
                            struct iam_arena *arena, const char *account_id, int64_t since, size_t item_size,
                            enum iam_result (*read_row)(struct iam_arena *, sqlite3_stmt *, void *), void **items,
                            size_t *count)
{
    static const char *const operation = "activity_inactive";
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_int64(statement, 2, since) ||
        iam_sqlite_bind_int64(statement, 3, IAM_STORE_ACTIVITY_ITEMS_MAX)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return iam_sqlite_collect(conn, statement, arena, operation, item_size, read_row, IAM_STORE_ACTIVITY_ITEMS_MAX,
                              items, count, NULL);
}

static enum iam_result sqlite_inactive(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                             int64_t since, struct iam_activity_inactive *out)
{
    static const char *const operation = "activity_inactive";
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_read_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    void *users = NULL, *service_ids = NULL, *apikeys = NULL;
    /* A user is active through a password sign-in or any of its keys. */
    result = scan(conn, IAM_SQLITE_STMT_ACTIVITY_USERS,
                  "SELECT iam_id, login, email, given_name, family_name, last FROM ("
                  "SELECT u.iam_id, u.login, u.email, u.given_name, u.family_name, "
                  "max(u.last_authn, coalesce((SELECT max(k.last_authn) FROM apikeys k "
                  "WHERE k.account_id = u.account_id AND k.iam_id = u.iam_id), 0)) AS last "
                  "FROM users u WHERE u.account_id = ?1) "
                  "WHERE last < ?2 ORDER BY last, iam_id LIMIT ?3",
                  arena, account_id, since, sizeof(struct iam_activity_user), read_user, &users, &out->user_count);
    if (result == IAM_OK)
        result = scan(conn, IAM_SQLITE_STMT_ACTIVITY_SERVICE_IDS,
                      "SELECT id, iam_id, name, last FROM ("
                      "SELECT s.id, s.iam_id, s.name, coalesce((SELECT max(k.last_authn) FROM apikeys k "
                      "WHERE k.account_id = s.account_id AND k.iam_id = s.iam_id), 0) AS last "
                      "FROM service_ids s WHERE s.account_id = ?1) "
                      "WHERE last < ?2 ORDER BY last, id LIMIT ?3",
                      arena, account_id, since, sizeof(struct iam_activity_service_id), read_service_id,
                      &service_ids, &out->service_id_count);
    if (result == IAM_OK)
        result = scan(conn, IAM_SQLITE_STMT_ACTIVITY_APIKEYS,
                      "SELECT k.id, k.name, k.iam_id, s.id, s.name, u.login, u.email, u.given_name, "
                      "u.family_name, k.last_authn FROM apikeys k "
                      "LEFT JOIN service_ids s ON s.account_id = k.account_id AND s.iam_id = k.iam_id "
                      "LEFT JOIN users u ON u.account_id = k.account_id AND u.iam_id = k.iam_id "
                      "WHERE k.account_id = ?1 AND k.last_authn < ?2 ORDER BY k.last_authn, k.id LIMIT ?3",
                      arena, account_id, since, sizeof(struct iam_activity_apikey), read_apikey, &apikeys,
                      &out->apikey_count);
    result = iam_sqlite_read_end(conn, result, operation);
    if (result != IAM_OK) {
        memset(out, 0, sizeof *out);
        return result;
    }
    out->users = users;
    out->service_ids = service_ids;
    out->apikeys = apikeys;
    return IAM_OK;
}

/* --- stored reports --- */

/* Runs a statement without rows whose parameters are ?1 an account id and ?2 a number. */
static enum iam_result run_account_and_number(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot,
                                              const char *sql, const char *account_id, int64_t number)
{
    static const char *const operation = "activity_report_insert";
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_int64(statement, 2, number)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return iam_sqlite_run(conn, statement, operation, NULL);
}

static enum iam_result sqlite_report_insert(struct iam_store *base,
                                                  const struct iam_activity_report_record *report,
                                                  int64_t keep_since, int64_t keep_max)
{
    static const char *const operation = "activity_report_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ACTIVITY_REPORT_INSERT,
                                "INSERT INTO activity_reports (account_id, reference, created_by, created_at, report) "
                                "VALUES (?1, ?2, ?3, ?4, ?5)",
                                &statement);
    if (result == IAM_OK) {
        if (iam_sqlite_bind_text(statement, 1, report->account_id) ||
            iam_sqlite_bind_text(statement, 2, report->reference) ||
            iam_sqlite_bind_text(statement, 3, report->created_by) ||
            iam_sqlite_bind_int64(statement, 4, report->created_at) ||
            iam_sqlite_bind_text(statement, 5, report->report)) {
            result = iam_sqlite_fail_last(conn, operation);
            iam_sqlite_reset(statement);
        } else {
            result = iam_sqlite_run(conn, statement, operation, NULL);
        }
    }
    if (result == IAM_OK)
        result = run_account_and_number(conn, IAM_SQLITE_STMT_ACTIVITY_REPORT_PRUNE_OLD,
                                        "DELETE FROM activity_reports WHERE account_id = ?1 AND created_at < ?2",
                                        report->account_id, keep_since);
    if (result == IAM_OK)
        result = run_account_and_number(conn, IAM_SQLITE_STMT_ACTIVITY_REPORT_PRUNE_EXTRA,
                                        "DELETE FROM activity_reports WHERE account_id = ?1 AND seq NOT IN ("
                                        "SELECT seq FROM activity_reports WHERE account_id = ?1 "
                                        "ORDER BY seq DESC LIMIT ?2)",
                                        report->account_id, keep_max);
    conn->write_changes = 0; /* reports are not configuration: the revision stays */
    return iam_sqlite_write_end(conn, result, operation);
}

static enum iam_result sqlite_report_get(struct iam_store *base, struct iam_arena *arena,
                                               const char *account_id, const char *reference,
                                               struct iam_activity_report_record *out)
{
    static const char *const operation = "activity_report_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    if (reference)
        result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ACTIVITY_REPORT_GET,
                                    "SELECT account_id, reference, created_by, created_at, report "
                                    "FROM activity_reports WHERE account_id = ?1 AND reference = ?2",
                                    &statement);
    else
        result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_ACTIVITY_REPORT_LATEST,
                                    "SELECT account_id, reference, created_by, created_at, report "
                                    "FROM activity_reports WHERE account_id = ?1 ORDER BY seq DESC LIMIT 1",
                                    &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) ||
        (reference && iam_sqlite_bind_text(statement, 2, reference))) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result != IAM_OK)
        goto out;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->account_id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->reference) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->created_by) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->report)) {
        result = IAM_ENOMEM;
        goto out;
    }
    out->created_at = sqlite3_column_int64(statement, 3);
out:
    iam_sqlite_reset(statement);
    return result;
}

const struct iam_store_activity_backend iam_store_sqlite_activity_backend = {
    .user_add_authn = sqlite_user_add_authn,
    .inactive = sqlite_inactive,
    .report_insert = sqlite_report_insert,
    .report_get = sqlite_report_get,
};
