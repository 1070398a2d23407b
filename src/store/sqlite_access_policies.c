/*
 * sqlite_access_policies.c: SQLite rows of access and authorization policies.
 *
 * Every statement names the account in its WHERE clause, except the permit
 * statistics batch, which goes by policy id (unique across the instance) like
 * the API-key usage batch, and does not bump the revision. Lists take their
 * ORDER BY from a fixed table indexed by the parsed sort column and order,
 * always ending in id so pages are stable; filters are bound parameters that
 * are NULL when unused, and combine with AND (an iam_id and an access group id
 * together match nothing, since a policy has one subject).
 */
#include "store/sqlite_internal.h"

/*
 * ?1 account, ?2 state, ?3 iam_id, ?4 access group id, ?5 type, ?6 service name,
 * ?7 limit + 1, ?8 offset.
 */
#define POLICY_LIST_SQL(order_by)                                                                      \
    "SELECT " IAM_SQLITE_POLICY_COLUMNS " FROM policies WHERE account_id = ?1 AND state = ?2"          \
    " AND (?3 IS NULL OR (subject_kind = 'iam_id' AND subject_value = ?3))"                           \
    " AND (?4 IS NULL OR (subject_kind = 'access_group_id' AND subject_value = ?4))"                  \
    " AND (?5 IS NULL OR type = ?5) AND (?6 IS NULL OR service_name = ?6)"                            \
    " ORDER BY " order_by " LIMIT ?7 OFFSET ?8"

static const char *const list_sql[IAM_STORE_POLICY_SORT_COUNT][2] = {
    [IAM_STORE_POLICY_SORT_CREATED_AT] = {[IAM_SORT_ASC] = POLICY_LIST_SQL("created_at_ms ASC, id ASC"),
                                          [IAM_SORT_DESC] = POLICY_LIST_SQL("created_at_ms DESC, id DESC")},
    [IAM_STORE_POLICY_SORT_ID] = {[IAM_SORT_ASC] = POLICY_LIST_SQL("id ASC"),
                                  [IAM_SORT_DESC] = POLICY_LIST_SQL("id DESC")},
    [IAM_STORE_POLICY_SORT_TYPE] = {[IAM_SORT_ASC] = POLICY_LIST_SQL("type ASC, id ASC"),
                                    [IAM_SORT_DESC] = POLICY_LIST_SQL("type DESC, id DESC")},
    [IAM_STORE_POLICY_SORT_LAST_MODIFIED_AT] =
        {[IAM_SORT_ASC] = POLICY_LIST_SQL("modified_at_ms ASC, id ASC"),
         [IAM_SORT_DESC] = POLICY_LIST_SQL("modified_at_ms DESC, id DESC")},
    [IAM_STORE_POLICY_SORT_STATE] = {[IAM_SORT_ASC] = POLICY_LIST_SQL("state ASC, id ASC"),
                                     [IAM_SORT_DESC] = POLICY_LIST_SQL("state DESC, id DESC")},
};

enum iam_result iam_sqlite_policy_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_policy_record *out = item;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->account_id) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->type) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->api_version) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->subject_kind) ||
        !iam_sqlite_column_text(arena, statement, 5, &out->subject_value) ||
        !iam_sqlite_column_text(arena, statement, 6, &out->service_name) ||
        !iam_sqlite_column_text(arena, statement, 7, &out->document) ||
        !iam_sqlite_column_text(arena, statement, 8, &out->state) ||
        !iam_sqlite_column_text(arena, statement, 9, &out->entity_tag) ||
        !iam_sqlite_column_text(arena, statement, 10, &out->created_by) ||
        !iam_sqlite_column_text(arena, statement, 11, &out->modified_by))
        return IAM_ENOMEM;
    out->created_at_ms = sqlite3_column_int64(statement, 12);
    out->modified_at_ms = sqlite3_column_int64(statement, 13);
    out->last_permit_at = sqlite3_column_int64(statement, 14);
    out->last_permit_frequency = sqlite3_column_int64(statement, 15);
    return IAM_OK;
}

enum iam_result iam_sqlite_policy_insert(struct iam_store *base, const struct iam_policy_record *policy)
{
    static const char *const operation = "policy_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_POLICY_INSERT,
                                "INSERT INTO policies (" IAM_SQLITE_POLICY_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, "
                                "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, policy->id) || iam_sqlite_bind_text(statement, 2, policy->account_id) ||
        iam_sqlite_bind_text(statement, 3, policy->type) || iam_sqlite_bind_text(statement, 4, policy->api_version) ||
        iam_sqlite_bind_text(statement, 5, policy->subject_kind) ||
        iam_sqlite_bind_text(statement, 6, policy->subject_value) ||
        iam_sqlite_bind_text(statement, 7, policy->service_name) ||
        iam_sqlite_bind_text(statement, 8, policy->document) || iam_sqlite_bind_text(statement, 9, policy->state) ||
        iam_sqlite_bind_text(statement, 10, policy->entity_tag) ||
        iam_sqlite_bind_text(statement, 11, policy->created_by) ||
        iam_sqlite_bind_text(statement, 12, policy->modified_by) ||
        iam_sqlite_bind_int64(statement, 13, policy->created_at_ms) ||
        iam_sqlite_bind_int64(statement, 14, policy->modified_at_ms) ||
        iam_sqlite_bind_int64(statement, 15, policy->last_permit_at) ||
        iam_sqlite_bind_int64(statement, 16, policy->last_permit_frequency)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_policy_get(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                      const char *id, struct iam_policy_record *out)
{
    static const char *const operation = "policy_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_POLICY_GET,
                                "SELECT " IAM_SQLITE_POLICY_COLUMNS " FROM policies WHERE account_id = ?1 AND id = ?2",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, id)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        result = iam_sqlite_policy_read(arena, statement, out);
out:
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_policy_list(struct iam_store *base, struct iam_arena *arena,
                                       const struct iam_policy_query *query, enum iam_store_policy_sort sort,
                                       struct iam_policy_record **items, size_t *count, bool *has_more)
{
    static const char *const operation = "policy_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int order = query->order == IAM_SORT_DESC ? IAM_SORT_DESC : IAM_SORT_ASC;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, (enum iam_sqlite_statement)(IAM_SQLITE_STMT_POLICY_LIST + 2 * (int)sort + order),
                                list_sql[sort][order], &statement);
    if (result != IAM_OK)
        return result;
    /* One row past the page tells whether there is a next page. */
    if (iam_sqlite_bind_text(statement, 1, query->account_id) || iam_sqlite_bind_text(statement, 2, query->state) ||
        iam_sqlite_bind_text(statement, 3, query->iam_id) ||
        iam_sqlite_bind_text(statement, 4, query->access_group_id) ||
        iam_sqlite_bind_text(statement, 5, query->type) || iam_sqlite_bind_text(statement, 6, query->service_name) ||
        iam_sqlite_bind_int64(statement, 7, query->limit + 1) || iam_sqlite_bind_int64(statement, 8, query->offset)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    void *rows = NULL;
    result = iam_sqlite_collect(conn, statement, arena, operation, sizeof **items, iam_sqlite_policy_read,
                              (size_t)query->limit, &rows, count, has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

enum iam_result iam_sqlite_policy_update(struct iam_store *base, const struct iam_policy_record *policy,
                                         const char *expected_entity_tag)
{
    static const char *const operation = "policy_update";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t changes = 0, found = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_POLICY_UPDATE,
                                "UPDATE policies SET type = ?3, api_version = ?4, subject_kind = ?5, "
                                "subject_value = ?6, service_name = ?7, document = ?8, state = ?9, "
                                "entity_tag = ?10, modified_by = ?11, modified_at_ms = ?12 "
                                "WHERE account_id = ?1 AND id = ?2 AND (?13 IS NULL OR entity_tag = ?13)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, policy->account_id) || iam_sqlite_bind_text(statement, 2, policy->id) ||
        iam_sqlite_bind_text(statement, 3, policy->type) || iam_sqlite_bind_text(statement, 4, policy->api_version) ||
        iam_sqlite_bind_text(statement, 5, policy->subject_kind) ||
        iam_sqlite_bind_text(statement, 6, policy->subject_value) ||
        iam_sqlite_bind_text(statement, 7, policy->service_name) ||
        iam_sqlite_bind_text(statement, 8, policy->document) || iam_sqlite_bind_text(statement, 9, policy->state) ||
        iam_sqlite_bind_text(statement, 10, policy->entity_tag) ||
        iam_sqlite_bind_text(statement, 11, policy->modified_by) ||
        iam_sqlite_bind_int64(statement, 12, policy->modified_at_ms) ||
        iam_sqlite_bind_text(statement, 13, expected_entity_tag)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, &changes);
    if (result != IAM_OK || changes > 0)
        goto out;
    /* Nothing changed: the policy is not in the account, or its tag is not the expected one. */
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_POLICY_EXISTS,
                                      "SELECT 1 FROM policies WHERE account_id = ?1 AND id = ?2", operation, 2,
                                      (const char *const[]){policy->account_id, policy->id}, &found);
    if (result == IAM_OK)
        result = IAM_ECONFLICT;
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_policy_delete(struct iam_store *base, const char *account_id, const char *id)
{
    static const char *const operation = "policy_delete";
    struct iam_sqlite_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_POLICY_DELETE,
                                  "DELETE FROM policies WHERE account_id = ?1 AND id = ?2", operation, 2,
                                  (const char *const[]){account_id, id}, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_policy_count_for_subject(struct iam_store *base, const char *account_id,
                                                    const char *subject_kind, const char *subject_value,
                                                    int64_t *count)
{
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_POLICY_COUNT_FOR_SUBJECT,
                                      "SELECT count(*) FROM policies WHERE account_id = ?1 AND subject_kind = ?2 "
                                      "AND subject_value = ?3 AND state = 'active'",
                                      "policy_count_for_subject", 3,
                                      (const char *const[]){account_id, subject_kind, subject_value}, count);
    return result == IAM_ENOTFOUND ? IAM_ESTORE : result; /* count(*) always returns a row */
}

enum iam_result iam_sqlite_policy_add_permits(struct iam_store *base, const struct iam_policy_permit *permits,
                                              size_t count)
{
    static const char *const operation = "policy_add_permits";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    /* Policies deleted since the permits were counted match no row and are skipped. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_POLICY_ADD_PERMITS,
                                "UPDATE policies SET last_permit_frequency = last_permit_frequency + ?2, "
                                "last_permit_at = max(last_permit_at, ?3) WHERE id = ?1",
                                &statement);
    for (size_t i = 0; result == IAM_OK && i < count; i++) {
        if (iam_sqlite_bind_text(statement, 1, permits[i].id) ||
            iam_sqlite_bind_int64(statement, 2, permits[i].count) ||
            iam_sqlite_bind_int64(statement, 3, permits[i].last_permit_at)) {
            result = iam_sqlite_fail_last(conn, operation);
            iam_sqlite_reset(statement);
            break;
        }
        result = iam_sqlite_run(conn, statement, operation, NULL);
    }
    /* Statistics, not configuration: the engine's snapshot (keyed on the revision) stays valid. */
    conn->write_changes = 0;
    return iam_sqlite_write_end(conn, result, operation);
}
