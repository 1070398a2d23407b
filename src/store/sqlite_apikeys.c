/*
 * sqlite_apikeys.c: SQLite rows of API keys.
 *
 * Every statement names the account in its WHERE clause, except the two
 * lookups that come before any account is known: by hash (authentication)
 * and the usage batch (by key id, which is unique across the instance).
 * A key's type is read from its iam_id: a service ID's iam_id starts with
 * "iam-ServiceId-", compared exactly (LIKE would ignore ASCII case in SQLite).
 */
#include "store/sqlite_internal.h"

#define APIKEY_COLUMNS                                                                                            \
    "id, account_id, iam_id, name, description, created_by, entity_tag, action_when_leaked, hash, sealed_value, " \
    "locked, disabled, support_sessions, created_at, modified_at, expires_at, last_authn, authn_count"

/* ?1 account, ?2 iam_id, ?3 type (0 any, 1 user, 2 service ID), ?4 name substring, ?5 limit + 1, ?6 offset. */
#define APIKEY_LIST_SQL(order_by)                                                                   \
    "SELECT " APIKEY_COLUMNS " FROM apikeys WHERE account_id = ?1"                                  \
    " AND (?2 IS NULL OR iam_id = ?2)"                                                              \
    " AND (?3 = 0 OR (?3 = 1 AND substr(iam_id, 1, 14) <> 'iam-ServiceId-')"                      \
    " OR (?3 = 2 AND substr(iam_id, 1, 14) = 'iam-ServiceId-'))"                                   \
    " AND (?4 IS NULL OR instr(name, ?4) > 0)"                                                      \
    " ORDER BY " order_by " LIMIT ?5 OFFSET ?6"

static const char *const list_sql[IAM_STORE_APIKEY_SORT_COUNT][2] = {
    [IAM_STORE_APIKEY_SORT_CREATED_AT] = {[IAM_SORT_ASC] = APIKEY_LIST_SQL("created_at ASC, id ASC"),
                                          [IAM_SORT_DESC] = APIKEY_LIST_SQL("created_at DESC, id DESC")},
    [IAM_STORE_APIKEY_SORT_NAME] = {[IAM_SORT_ASC] = APIKEY_LIST_SQL("name ASC, id ASC"),
                                    [IAM_SORT_DESC] = APIKEY_LIST_SQL("name DESC, id DESC")},
    [IAM_STORE_APIKEY_SORT_DESCRIPTION] = {[IAM_SORT_ASC] = APIKEY_LIST_SQL("description ASC NULLS FIRST, id ASC"),
                                           [IAM_SORT_DESC] =
                                               APIKEY_LIST_SQL("description DESC NULLS LAST, id DESC")},
    [IAM_STORE_APIKEY_SORT_CREATED_BY] = {[IAM_SORT_ASC] = APIKEY_LIST_SQL("created_by ASC NULLS FIRST, id ASC"),
                                          [IAM_SORT_DESC] = APIKEY_LIST_SQL("created_by DESC NULLS LAST, id DESC")},
};

static int type_parameter(enum iam_store_apikey_type type)
{
    switch (type) {
    case IAM_STORE_APIKEY_TYPE_USER: return 1;
    case IAM_STORE_APIKEY_TYPE_SERVICE_ID: return 2;
    case IAM_STORE_APIKEY_TYPE_ANY: break;
    }
    return 0;
}

static enum iam_result read_apikey(struct iam_arena *arena, sqlite3_stmt *statement, struct iam_apikey_record *out)
{
    if (!iam_sqlite_column_text(arena, statement, 0, &out->id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->account_id) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->iam_id) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->name) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->description) ||
        !iam_sqlite_column_text(arena, statement, 5, &out->created_by) ||
        !iam_sqlite_column_text(arena, statement, 6, &out->entity_tag) ||
        !iam_sqlite_column_text(arena, statement, 7, &out->action_when_leaked) ||
        !iam_sqlite_column_blob(arena, statement, 9, &out->sealed_value, &out->sealed_value_length))
        return IAM_ENOMEM;
    if (!iam_sqlite_column_fixed_blob(statement, 8, out->hash, sizeof out->hash))
        return IAM_ESTORE; /* the schema's CHECK makes this impossible */
    out->locked = sqlite3_column_int(statement, 10) != 0;
    out->disabled = sqlite3_column_int(statement, 11) != 0;
    out->support_sessions = sqlite3_column_int(statement, 12) != 0;
    out->created_at = sqlite3_column_int64(statement, 13);
    out->modified_at = sqlite3_column_int64(statement, 14);
    out->expires_at = sqlite3_column_int64(statement, 15);
    out->last_authn = sqlite3_column_int64(statement, 16);
    out->authn_count = sqlite3_column_int64(statement, 17);
    return IAM_OK;
}

enum iam_result iam_sqlite_apikey_insert_row(struct iam_sqlite_conn *conn, const struct iam_apikey_record *apikey,
                                             const char *operation)
{
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_APIKEY_INSERT,
                                                "INSERT INTO apikeys (" APIKEY_COLUMNS ") VALUES (?1, ?2, ?3, ?4, "
                                                "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, apikey->id) || iam_sqlite_bind_text(statement, 2, apikey->account_id) ||
        iam_sqlite_bind_text(statement, 3, apikey->iam_id) || iam_sqlite_bind_text(statement, 4, apikey->name) ||
        iam_sqlite_bind_text(statement, 5, apikey->description) ||
        iam_sqlite_bind_text(statement, 6, apikey->created_by) ||
        iam_sqlite_bind_text(statement, 7, apikey->entity_tag) ||
        iam_sqlite_bind_text(statement, 8, apikey->action_when_leaked) ||
        iam_sqlite_bind_blob(statement, 9, apikey->hash, sizeof apikey->hash) ||
        iam_sqlite_bind_blob(statement, 10, apikey->sealed_value, apikey->sealed_value_length) ||
        iam_sqlite_bind_bool(statement, 11, apikey->locked) || iam_sqlite_bind_bool(statement, 12, apikey->disabled) ||
        iam_sqlite_bind_bool(statement, 13, apikey->support_sessions) ||
        iam_sqlite_bind_int64(statement, 14, apikey->created_at) ||
        iam_sqlite_bind_int64(statement, 15, apikey->modified_at) ||
        iam_sqlite_bind_int64(statement, 16, apikey->expires_at) ||
        iam_sqlite_bind_int64(statement, 17, apikey->last_authn) ||
        iam_sqlite_bind_int64(statement, 18, apikey->authn_count)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return iam_sqlite_run(conn, statement, operation, NULL);
}

enum iam_result iam_sqlite_apikey_insert(struct iam_store *base, const struct iam_apikey_record *apikey,
                                         const struct iam_history_record *history)
{
    static const char *const operation = "apikey_insert";
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_apikey_insert_row(conn, apikey, operation);
    if (result == IAM_OK && history)
        result = iam_sqlite_history_append(conn, apikey->account_id, history, operation);
    return iam_sqlite_write_end(conn, result, operation);
}

/* Reads one key from a prepared statement whose parameters are bound by the caller. */
static enum iam_result get_one(struct iam_sqlite_conn *conn, sqlite3_stmt *statement, struct iam_arena *arena,
                               const char *operation, struct iam_apikey_record *out)
{
    enum iam_result result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        result = read_apikey(arena, statement, out);
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_apikey_get(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                      const char *id, struct iam_apikey_record *out)
{
    static const char *const operation = "apikey_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_APIKEY_GET,
                                "SELECT " APIKEY_COLUMNS " FROM apikeys WHERE account_id = ?1 AND id = ?2",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, id)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return get_one(conn, statement, arena, operation, out);
}

enum iam_result iam_sqlite_apikey_get_by_hash(struct iam_store *base, struct iam_arena *arena,
                                              const uint8_t hash[IAM_RECORD_HASH_SIZE],
                                              struct iam_apikey_record *out)
{
    static const char *const operation = "apikey_get_by_hash";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    /* Cross-account on purpose: authentication does not know the account yet. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_APIKEY_GET_BY_HASH,
                                "SELECT " APIKEY_COLUMNS " FROM apikeys WHERE hash = ?1", &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_blob(statement, 1, hash, IAM_RECORD_HASH_SIZE)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return get_one(conn, statement, arena, operation, out);
}

enum iam_result iam_sqlite_apikey_get_by_id(struct iam_store *base, struct iam_arena *arena, const char *id,
                                            struct iam_apikey_record *out)
{
    static const char *const operation = "apikey_get_by_id";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    /* Cross-account on purpose: the audit trail names the account of a refused key id. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_APIKEY_GET_BY_ID, "SELECT " APIKEY_COLUMNS " FROM apikeys WHERE id = ?1",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, id)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        return result;
    }
    return get_one(conn, statement, arena, operation, out);
}

enum iam_result iam_sqlite_apikey_list(struct iam_store *base, struct iam_arena *arena,
                                       const struct iam_apikey_query *query, enum iam_store_apikey_sort sort,
                                       enum iam_store_apikey_type type, struct iam_apikey_record **items,
                                       size_t *count, bool *has_more)
{
    static const char *const operation = "apikey_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    struct iam_apikey_record *records = NULL;
    size_t used = 0, capacity = 0;
    bool more = false;
    int order = query->order == IAM_SORT_DESC ? IAM_SORT_DESC : IAM_SORT_ASC;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, (enum iam_sqlite_statement)(IAM_SQLITE_STMT_APIKEY_LIST + 2 * (int)sort + order),
                                list_sql[sort][order], &statement);
    if (result != IAM_OK)
        return result;
    /* One row past the page tells whether there is a next page. */
    if (iam_sqlite_bind_text(statement, 1, query->account_id) || iam_sqlite_bind_text(statement, 2, query->iam_id) ||
        iam_sqlite_bind_int64(statement, 3, type_parameter(type)) ||
        iam_sqlite_bind_text(statement, 4, query->name_contains) ||
        iam_sqlite_bind_int64(statement, 5, query->limit + 1) || iam_sqlite_bind_int64(statement, 6, query->offset)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    while ((result = iam_sqlite_step(conn, statement, operation)) == IAM_OK) {
        if (used == (size_t)query->limit) {
            more = true;
            break;
        }
        struct iam_apikey_record *grown = iam_sqlite_array_reserve(arena, records, used, &capacity, sizeof *records);
        if (!grown) {
            result = IAM_ENOMEM;
            goto out;
        }
        records = grown;
        result = read_apikey(arena, statement, &records[used]);
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

/* After an UPDATE that changed nothing: IAM_OK when the key exists in the account. */
static enum iam_result apikey_exists(struct iam_sqlite_conn *conn, const char *account_id, const char *id,
                                     const char *operation)
{
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_APIKEY_EXISTS,
                                                "SELECT 1 FROM apikeys WHERE account_id = ?1 AND id = ?2", &statement);
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

enum iam_result iam_sqlite_apikey_update(struct iam_store *base, const struct iam_apikey_record *updated,
                                         const char *expected_entity_tag, const struct iam_history_record *history)
{
    static const char *const operation = "apikey_update";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t changes = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_APIKEY_UPDATE,
                                "UPDATE apikeys SET name = ?3, description = ?4, support_sessions = ?5, "
                                "action_when_leaked = ?6, expires_at = ?7, locked = ?8, disabled = ?9, "
                                "entity_tag = ?10, modified_at = ?11 "
                                "WHERE account_id = ?1 AND id = ?2 AND (?12 IS NULL OR entity_tag = ?12)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, updated->account_id) || iam_sqlite_bind_text(statement, 2, updated->id) ||
        iam_sqlite_bind_text(statement, 3, updated->name) ||
        iam_sqlite_bind_text(statement, 4, updated->description) ||
        iam_sqlite_bind_bool(statement, 5, updated->support_sessions) ||
        iam_sqlite_bind_text(statement, 6, updated->action_when_leaked) ||
        iam_sqlite_bind_int64(statement, 7, updated->expires_at) ||
        iam_sqlite_bind_bool(statement, 8, updated->locked) || iam_sqlite_bind_bool(statement, 9, updated->disabled) ||
        iam_sqlite_bind_text(statement, 10, updated->entity_tag) ||
        iam_sqlite_bind_int64(statement, 11, updated->modified_at) ||
        iam_sqlite_bind_text(statement, 12, expected_entity_tag)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, &changes);
    if (result != IAM_OK)
        goto out;
    if (changes == 0) {
        result = apikey_exists(conn, updated->account_id, updated->id, operation);
        if (result == IAM_OK)
            result = IAM_ECONFLICT; /* the row is there: its entity tag is not the expected one */
        goto out;
    }
    if (history)
        result = iam_sqlite_history_append(conn, updated->account_id, history, operation);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_apikey_delete(struct iam_store *base, const char *account_id, const char *id)
{
    static const char *const operation = "apikey_delete";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t deleted = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_APIKEY_DELETE,
                                "DELETE FROM apikeys WHERE account_id = ?1 AND id = ?2", &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, id)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    if (result == IAM_OK)
        result = iam_sqlite_history_delete(conn, account_id, id, operation);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_apikey_add_usage(struct iam_store *base, const struct iam_apikey_usage *usage,
                                            size_t count)
{
    static const char *const operation = "apikey_add_usage";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    /* Keys deleted since the usage was counted match no row and are skipped. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_APIKEY_ADD_USAGE,
                                "UPDATE apikeys SET authn_count = authn_count + ?2, "
                                "last_authn = max(last_authn, ?3) WHERE id = ?1",
                                &statement);
    for (size_t i = 0; result == IAM_OK && i < count; i++) {
        if (iam_sqlite_bind_text(statement, 1, usage[i].id) || iam_sqlite_bind_int64(statement, 2, usage[i].count) ||
            iam_sqlite_bind_int64(statement, 3, usage[i].last_authn)) {
            result = iam_sqlite_fail_last(conn, operation);
            iam_sqlite_reset(statement);
            break;
        }
        result = iam_sqlite_run(conn, statement, operation, NULL);
    }
    /* Usage counters are statistics, not configuration: they leave the revision alone so
     * caches keyed on it are not invalidated by every batch. */
    conn->write_changes = 0;
    return iam_sqlite_write_end(conn, result, operation);
}
