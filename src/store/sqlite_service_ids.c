/*
 * sqlite_service_ids.c: SQLite rows of service IDs.
 *
 * Every statement names the account in its WHERE clause. Lists take their
 * ORDER BY from a fixed table indexed by the parsed sort column and order
 * (one cached statement per combination); filters are bound parameters
 * that are NULL when unused. A NULL description sorts as the smallest value
 * (first ascending, last descending), spelled out with NULLS FIRST/LAST so the
 * PostgreSQL backend, whose default is the opposite, can match it. The name
 * filter is a case-sensitive substring (instr), so '%' and '_' are literal.
 */
#include "store/sqlite_internal.h"

#define SERVICE_ID_COLUMNS                                                                                     \
    "id, iam_id, account_id, group_id, name, description, unique_instance_crns, created_by, entity_tag, locked, " \
    "created_at, modified_at"

/* ?1 account, ?2 exact name, ?3 name substring, ?4 group, ?5 limit + 1, ?6 offset. */
#define SERVICE_ID_LIST_SQL(order_by)                                                       \
    "SELECT " SERVICE_ID_COLUMNS " FROM service_ids WHERE account_id = ?1"                  \
    " AND (?2 IS NULL OR name = ?2) AND (?3 IS NULL OR instr(name, ?3) > 0)"              \
    " AND (?4 IS NULL OR group_id = ?4)"                                                   \
    " ORDER BY " order_by " LIMIT ?5 OFFSET ?6"

static const char *const list_sql[IAM_STORE_SERVICE_ID_SORT_COUNT][2] = {
    [IAM_STORE_SERVICE_ID_SORT_CREATED_AT] = {[IAM_SORT_ASC] = SERVICE_ID_LIST_SQL("created_at ASC, id ASC"),
                                              [IAM_SORT_DESC] = SERVICE_ID_LIST_SQL("created_at DESC, id DESC")},
    [IAM_STORE_SERVICE_ID_SORT_NAME] = {[IAM_SORT_ASC] = SERVICE_ID_LIST_SQL("name ASC, id ASC"),
                                        [IAM_SORT_DESC] = SERVICE_ID_LIST_SQL("name DESC, id DESC")},
    [IAM_STORE_SERVICE_ID_SORT_DESCRIPTION] =
        {[IAM_SORT_ASC] = SERVICE_ID_LIST_SQL("description ASC NULLS FIRST, id ASC"),
         [IAM_SORT_DESC] = SERVICE_ID_LIST_SQL("description DESC NULLS LAST, id DESC")},
    [IAM_STORE_SERVICE_ID_SORT_MODIFIED_AT] = {[IAM_SORT_ASC] = SERVICE_ID_LIST_SQL("modified_at ASC, id ASC"),
                                               [IAM_SORT_DESC] = SERVICE_ID_LIST_SQL("modified_at DESC, id DESC")},
};

static enum iam_result read_service_id(struct iam_arena *arena, sqlite3_stmt *statement,
                                       struct iam_service_id_record *out)
{
    if (!iam_sqlite_column_text(arena, statement, 0, &out->id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->iam_id) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->account_id) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->group_id) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->name) ||
        !iam_sqlite_column_text(arena, statement, 5, &out->description) ||
        !iam_sqlite_column_text(arena, statement, 6, &out->unique_instance_crns) ||
        !iam_sqlite_column_text(arena, statement, 7, &out->created_by) ||
        !iam_sqlite_column_text(arena, statement, 8, &out->entity_tag))
        return IAM_ENOMEM;
    out->locked = sqlite3_column_int(statement, 9) != 0;
    out->created_at = sqlite3_column_int64(statement, 10);
    out->modified_at = sqlite3_column_int64(statement, 11);
    return IAM_OK;
}

static enum iam_result insert_row(struct iam_sqlite_conn *conn, const struct iam_service_id_record *service_id,
                                  const char *operation)
{
    sqlite3_stmt *statement;
    enum iam_result result =
        iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SERVICE_ID_INSERT,
                           "INSERT INTO service_ids (" SERVICE_ID_COLUMNS ") "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, '[]'), ?8, ?9, ?10, ?11, ?12)",
                           &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, service_id->id) || iam_sqlite_bind_text(statement, 2, service_id->iam_id) ||
        iam_sqlite_bind_text(statement, 3, service_id->account_id) ||
        iam_sqlite_bind_text(statement, 4, service_id->group_id) ||
        iam_sqlite_bind_text(statement, 5, service_id->name) ||
        iam_sqlite_bind_text(statement, 6, service_id->description) ||
        iam_sqlite_bind_text(statement, 7, service_id->unique_instance_crns) ||
        iam_sqlite_bind_text(statement, 8, service_id->created_by) ||
        iam_sqlite_bind_text(statement, 9, service_id->entity_tag) ||
        iam_sqlite_bind_bool(statement, 10, service_id->locked) ||
        iam_sqlite_bind_int64(statement, 11, service_id->created_at) ||
        iam_sqlite_bind_int64(statement, 12, service_id->modified_at)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return iam_sqlite_run(conn, statement, operation, NULL);
}

enum iam_result iam_sqlite_service_id_insert(struct iam_store *base, const struct iam_service_id_record *service_id,
                                             const struct iam_apikey_record *apikey,
                                             const struct iam_history_record *history, size_t history_count)
{
    static const char *const operation = "service_id_insert";
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = insert_row(conn, service_id, operation);
    if (result == IAM_OK && apikey)
        result = iam_sqlite_apikey_insert_row(conn, apikey, operation);
    for (size_t i = 0; result == IAM_OK && i < history_count; i++)
        result = iam_sqlite_history_append(conn, service_id->account_id, &history[i], operation);
    return iam_sqlite_write_end(conn, result, operation);
}

/* Reads the one service ID of `account_id` whose `column` (bound as ?2) matches. */
static enum iam_result get_one(struct iam_store *base, struct iam_arena *arena, enum iam_sqlite_statement slot,
                               const char *sql, const char *operation, const char *account_id, const char *value,
                               struct iam_service_id_record *out)
{
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, value)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        result = read_service_id(arena, statement, out);
out:
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_service_id_get(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                          const char *id, struct iam_service_id_record *out)
{
    return get_one(base, arena, IAM_SQLITE_STMT_SERVICE_ID_GET,
                   "SELECT " SERVICE_ID_COLUMNS " FROM service_ids WHERE account_id = ?1 AND id = ?2",
                   "service_id_get", account_id, id, out);
}

enum iam_result iam_sqlite_service_id_get_by_iam_id(struct iam_store *base, struct iam_arena *arena,
                                                    const char *account_id, const char *iam_id,
                                                    struct iam_service_id_record *out)
{
    return get_one(base, arena, IAM_SQLITE_STMT_SERVICE_ID_GET_BY_IAM_ID,
                   "SELECT " SERVICE_ID_COLUMNS " FROM service_ids WHERE account_id = ?1 AND iam_id = ?2",
                   "service_id_get_by_iam_id", account_id, iam_id, out);
}

enum iam_result iam_sqlite_service_id_list(struct iam_store *base, struct iam_arena *arena,
                                           const struct iam_service_id_query *query,
                                           enum iam_store_service_id_sort sort, struct iam_service_id_record **items,
                                           size_t *count, bool *has_more)
{
    static const char *const operation = "service_id_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    struct iam_service_id_record *records = NULL;
    size_t used = 0, capacity = 0;
    bool more = false;
    int order = query->order == IAM_SORT_DESC ? IAM_SORT_DESC : IAM_SORT_ASC;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, (enum iam_sqlite_statement)(IAM_SQLITE_STMT_SERVICE_ID_LIST + 2 * (int)sort + order),
                                list_sql[sort][order], &statement);
    if (result != IAM_OK)
        return result;
    /* One row past the page tells whether there is a next page. */
    if (iam_sqlite_bind_text(statement, 1, query->account_id) || iam_sqlite_bind_text(statement, 2, query->name) ||
        iam_sqlite_bind_text(statement, 3, query->name_contains) ||
        iam_sqlite_bind_text(statement, 4, query->group_id) ||
        iam_sqlite_bind_int64(statement, 5, query->limit + 1) || iam_sqlite_bind_int64(statement, 6, query->offset)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    while ((result = iam_sqlite_step(conn, statement, operation)) == IAM_OK) {
        if (used == (size_t)query->limit) {
            more = true;
            break;
        }
        struct iam_service_id_record *grown =
            iam_sqlite_array_reserve(arena, records, used, &capacity, sizeof *records);
        if (!grown) {
            result = IAM_ENOMEM;
            goto out;
        }
        records = grown;
        result = read_service_id(arena, statement, &records[used]);
        if (result != IAM_OK)
            goto out;
        used++;
    }
    if (result == IAM_ENOTFOUND)
        result = IAM_OK;
out:
    iam_sqlite_reset(statement);
    if (result == IAM_OK) {
        *items = records;
        *count = used;
        *has_more = more;
    }
    return result;
}

/*
 * After an UPDATE that changed nothing: IAM_OK when the service ID exists in
 * the account (so its entity tag differed), IAM_ENOTFOUND otherwise.
 */
static enum iam_result service_id_exists(struct iam_sqlite_conn *conn, const char *account_id, const char *id,
                                         const char *operation)
{
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_prepare(
        conn, IAM_SQLITE_STMT_SERVICE_ID_EXISTS, "SELECT 1 FROM service_ids WHERE account_id = ?1 AND id = ?2",
        &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, id)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
out:
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_service_id_update(struct iam_store *base, const struct iam_service_id_record *updated,
                                             const char *expected_entity_tag,
                                             const struct iam_history_record *history)
{
    static const char *const operation = "service_id_update";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t changes = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SERVICE_ID_UPDATE,
                                "UPDATE service_ids SET name = ?3, description = ?4, "
                                "unique_instance_crns = coalesce(?5, '[]'), group_id = ?6, locked = ?7, "
                                "entity_tag = ?8, modified_at = ?9 "
                                "WHERE account_id = ?1 AND id = ?2 AND (?10 IS NULL OR entity_tag = ?10)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, updated->account_id) || iam_sqlite_bind_text(statement, 2, updated->id) ||
        iam_sqlite_bind_text(statement, 3, updated->name) ||
        iam_sqlite_bind_text(statement, 4, updated->description) ||
        iam_sqlite_bind_text(statement, 5, updated->unique_instance_crns) ||
        iam_sqlite_bind_text(statement, 6, updated->group_id) || iam_sqlite_bind_bool(statement, 7, updated->locked) ||
        iam_sqlite_bind_text(statement, 8, updated->entity_tag) ||
        iam_sqlite_bind_int64(statement, 9, updated->modified_at) ||
        iam_sqlite_bind_text(statement, 10, expected_entity_tag)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, &changes);
    if (result != IAM_OK)
        goto out;
    if (changes == 0) {
        result = service_id_exists(conn, updated->account_id, updated->id, operation);
        if (result == IAM_OK)
            result = IAM_ECONFLICT; /* the row is there: its entity tag is not the expected one */
        goto out;
    }
    if (history)
        result = iam_sqlite_history_append(conn, updated->account_id, history, operation);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

/* Runs a DELETE bound to (account_id, value). */
static enum iam_result delete_by(struct iam_sqlite_conn *conn, enum iam_sqlite_statement slot, const char *sql,
                                 const char *account_id, const char *value, const char *operation, int64_t *changes)
{
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, value)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return iam_sqlite_run(conn, statement, operation, changes);
}

/*
 * Deletes the service ID, its keys and their history, its group memberships
 * and the policies whose subject it is.
 * The keys are found through the service ID's iam_id, read by a subquery in
 * the same transaction; the service ID row goes last so the subqueries still
 * see it. Nothing deleted from service_ids means it was not there: roll back.
 */
enum iam_result iam_sqlite_service_id_delete(struct iam_store *base, const char *account_id, const char *id)
{
    static const char *const operation = "service_id_delete";
    struct iam_sqlite_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = delete_by(conn, IAM_SQLITE_STMT_HISTORY_DELETE_KEYS_OF_SERVICE_ID,
                       "DELETE FROM history WHERE account_id = ?1 AND entity_id IN "
                       "(SELECT id FROM apikeys WHERE account_id = ?1 AND iam_id = "
                       "(SELECT iam_id FROM service_ids WHERE account_id = ?1 AND id = ?2))",
                       account_id, id, operation, NULL);
    if (result != IAM_OK)
        goto out;
    result = delete_by(conn, IAM_SQLITE_STMT_APIKEY_DELETE_OF_SERVICE_ID,
                       "DELETE FROM apikeys WHERE account_id = ?1 AND iam_id = "
                       "(SELECT iam_id FROM service_ids WHERE account_id = ?1 AND id = ?2)",
                       account_id, id, operation, NULL);
    if (result != IAM_OK)
        goto out;
    /* Its group memberships and the policies naming it go with it (no orphans in the engine). */
    result = delete_by(conn, IAM_SQLITE_STMT_MEMBER_DELETE_OF_SERVICE_ID,
                       "DELETE FROM group_members WHERE account_id = ?1 AND iam_id = "
                       "(SELECT iam_id FROM service_ids WHERE account_id = ?1 AND id = ?2)",
                       account_id, id, operation, NULL);
    if (result != IAM_OK)
        goto out;
    result = delete_by(conn, IAM_SQLITE_STMT_POLICY_DELETE_OF_SERVICE_ID,
                       "DELETE FROM policies WHERE account_id = ?1 AND subject_kind = 'iam_id' AND subject_value = "
                       "(SELECT iam_id FROM service_ids WHERE account_id = ?1 AND id = ?2)",
                       account_id, id, operation, NULL);
    if (result != IAM_OK)
        goto out;
    result = iam_sqlite_history_delete(conn, account_id, id, operation);
    if (result != IAM_OK)
        goto out;
    result = delete_by(conn, IAM_SQLITE_STMT_SERVICE_ID_DELETE,
                       "DELETE FROM service_ids WHERE account_id = ?1 AND id = ?2", account_id, id, operation,
                       &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
out:
    return iam_sqlite_write_end(conn, result, operation);
}
