/*
 * postgres_activity.c: the PostgreSQL side of store_activity.h, mirroring
 * sqlite_activity.c: users' sign-in times (greatest() keeps the latest of
 * every node's batches), the inactive-identities scan (one REPEATABLE READ
 * transaction, three queries) and the stored activity reports. None of these
 * writes bumps the revision.
 */
#include <string.h>

#include "store/postgres_internal.h"
#include "store/store_activity.h"

static enum iam_result pg_user_add_authn(struct iam_store *store, const struct iam_apikey_usage *items, size_t count)
{
    static const char *const operation = "user_add_authn";
    /* Users deleted since the sign-in match no row and are skipped. */
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("UPDATE users SET last_authn = greatest(last_authn, $2::bigint) WHERE iam_id = $1::text");
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    for (size_t i = 0; result == IAM_OK && i < count; i++) {
        struct iam_pg_params params = {0};
        iam_pg_param_text(&params, items[i].id);
        iam_pg_param_int64(&params, items[i].last_authn);
        result = iam_pg_run(conn, &statement, &params, operation, NULL);
    }
    return iam_pg_write_end(conn, result, false, operation);
}

/* --- the inactive-identities scan --- */

static enum iam_result read_user(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_activity_user *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->iam_id) || !iam_pg_text(arena, result, row, 1, &out->login) ||
        !iam_pg_text(arena, result, row, 2, &out->email) || !iam_pg_text(arena, result, row, 3, &out->given_name) ||
        !iam_pg_text(arena, result, row, 4, &out->family_name))
        return IAM_ENOMEM;
    out->last_authn = iam_pg_int64(result, row, 5);
    return IAM_OK;
}

static enum iam_result read_service_id(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_activity_service_id *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->id) || !iam_pg_text(arena, result, row, 1, &out->iam_id) ||
        !iam_pg_text(arena, result, row, 2, &out->name))
        return IAM_ENOMEM;
    out->last_authn = iam_pg_int64(result, row, 3);
    return IAM_OK;
}

static enum iam_result read_apikey(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_activity_apikey *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->id) || !iam_pg_text(arena, result, row, 1, &out->name) ||
        !iam_pg_text(arena, result, row, 2, &out->iam_id) ||
        !iam_pg_text(arena, result, row, 3, &out->service_id_id) ||
        !iam_pg_text(arena, result, row, 4, &out->service_id_name) ||
        !iam_pg_text(arena, result, row, 5, &out->user_login) ||
        !iam_pg_text(arena, result, row, 6, &out->user_email) ||
        !iam_pg_text(arena, result, row, 7, &out->user_given_name) ||
        !iam_pg_text(arena, result, row, 8, &out->user_family_name))
        return IAM_ENOMEM;
    out->last_authn = iam_pg_int64(result, row, 9);
    return IAM_OK;
}

static enum iam_result pg_inactive(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                   int64_t since, struct iam_activity_inactive *out)
{
    static const char *const operation = "activity_inactive";
    /* A user is active through a password sign-in or any of its keys. */
    static struct iam_pg_statement users_sql = IAM_PG_STATEMENT(
        "SELECT iam_id, login, email, given_name, family_name, last FROM ("
        "SELECT u.iam_id, u.login, u.email, u.given_name, u.family_name, "
        "greatest(u.last_authn, coalesce((SELECT max(k.last_authn) FROM apikeys k "
        "WHERE k.account_id = u.account_id AND k.iam_id = u.iam_id), 0)) AS last "
        "FROM users u WHERE u.account_id = $1::text) AS activity "
        "WHERE last < $2::bigint ORDER BY last, iam_id LIMIT $3::bigint");
    static struct iam_pg_statement service_ids_sql = IAM_PG_STATEMENT(
        "SELECT id, iam_id, name, last FROM ("
        "SELECT s.id, s.iam_id, s.name, coalesce((SELECT max(k.last_authn) FROM apikeys k "
        "WHERE k.account_id = s.account_id AND k.iam_id = s.iam_id), 0) AS last "
        "FROM service_ids s WHERE s.account_id = $1::text) AS activity "
        "WHERE last < $2::bigint ORDER BY last, id LIMIT $3::bigint");
    static struct iam_pg_statement apikeys_sql = IAM_PG_STATEMENT(
        "SELECT k.id, k.name, k.iam_id, s.id, s.name, u.login, u.email, u.given_name, u.family_name, k.last_authn "
        "FROM apikeys k "
        "LEFT JOIN service_ids s ON s.account_id = k.account_id AND s.iam_id = k.iam_id "
        "LEFT JOIN users u ON u.account_id = k.account_id AND u.iam_id = k.iam_id "
        "WHERE k.account_id = $1::text AND k.last_authn < $2::bigint ORDER BY k.last_authn, k.id LIMIT $3::bigint");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_int64(&params, since);
    iam_pg_param_int64(&params, IAM_STORE_ACTIVITY_ITEMS_MAX);
    void *users = NULL, *service_ids = NULL, *apikeys = NULL;
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_read_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_pg_collect(conn, &users_sql, &params, arena, operation, sizeof(struct iam_activity_user), read_user,
                            IAM_STORE_ACTIVITY_ITEMS_MAX, &users, &out->user_count, NULL);
    if (result == IAM_OK)
        result = iam_pg_collect(conn, &service_ids_sql, &params, arena, operation,
                                sizeof(struct iam_activity_service_id), read_service_id, IAM_STORE_ACTIVITY_ITEMS_MAX,
                                &service_ids, &out->service_id_count, NULL);
    if (result == IAM_OK)
        result = iam_pg_collect(conn, &apikeys_sql, &params, arena, operation, sizeof(struct iam_activity_apikey),
                                read_apikey, IAM_STORE_ACTIVITY_ITEMS_MAX, &apikeys, &out->apikey_count, NULL);
    result = iam_pg_read_end(conn, result, operation);
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

static enum iam_result pg_report_insert(struct iam_store *store, const struct iam_activity_report_record *report,
                                        int64_t keep_since, int64_t keep_max)
{
    static const char *const operation = "activity_report_insert";
    static struct iam_pg_statement insert_sql = IAM_PG_STATEMENT(
        "INSERT INTO activity_reports (account_id, reference, created_by, created_at, report) "
        "VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::text)");
    static struct iam_pg_statement prune_old_sql = IAM_PG_STATEMENT(
        "DELETE FROM activity_reports WHERE account_id = $1::text AND created_at < $2::bigint");
    static struct iam_pg_statement prune_extra_sql = IAM_PG_STATEMENT(
        "DELETE FROM activity_reports WHERE account_id = $1::text AND seq NOT IN ("
        "SELECT seq FROM activity_reports WHERE account_id = $1::text ORDER BY seq DESC LIMIT $2::bigint)");
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, report->account_id);
    iam_pg_param_text(&params, report->reference);
    iam_pg_param_text(&params, report->created_by);
    iam_pg_param_int64(&params, report->created_at);
    iam_pg_param_text(&params, report->report);
    result = iam_pg_run(conn, &insert_sql, &params, operation, NULL);
    struct iam_pg_params old = {0};
    iam_pg_param_text(&old, report->account_id);
    iam_pg_param_int64(&old, keep_since);
    if (result == IAM_OK)
        result = iam_pg_run(conn, &prune_old_sql, &old, operation, NULL);
    struct iam_pg_params extra = {0};
    iam_pg_param_text(&extra, report->account_id);
    iam_pg_param_int64(&extra, keep_max);
    if (result == IAM_OK)
        result = iam_pg_run(conn, &prune_extra_sql, &extra, operation, NULL);
    return iam_pg_write_end(conn, result, false, operation);
}

static enum iam_result read_report(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_activity_report_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->account_id) || !iam_pg_text(arena, result, row, 1, &out->reference) ||
        !iam_pg_text(arena, result, row, 2, &out->created_by) || !iam_pg_text(arena, result, row, 4, &out->report))
        return IAM_ENOMEM;
    out->created_at = iam_pg_int64(result, row, 3);
    return IAM_OK;
}

static enum iam_result pg_report_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *reference, struct iam_activity_report_record *out)
{
    static struct iam_pg_statement by_reference = IAM_PG_STATEMENT(
        "SELECT account_id, reference, created_by, created_at, report FROM activity_reports "
        "WHERE account_id = $1::text AND reference = $2::text");
    static struct iam_pg_statement latest = IAM_PG_STATEMENT(
        "SELECT account_id, reference, created_by, created_at, report FROM activity_reports "
        "WHERE account_id = $1::text ORDER BY seq DESC LIMIT 1");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    if (reference)
        iam_pg_param_text(&params, reference);
    return iam_pg_read_row(store, reference ? &by_reference : &latest, &params, arena, "activity_report_get",
                           read_report, out);
}

const struct iam_store_activity_backend iam_store_postgres_activity_backend = {
    .user_add_authn = pg_user_add_authn,
    .inactive = pg_inactive,
    .report_insert = pg_report_insert,
    .report_get = pg_report_get,
};
