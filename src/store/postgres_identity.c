/*
 * postgres_identity.c: PostgreSQL rows of service IDs and API keys (the mirror
 * of sqlite_service_ids.c and sqlite_apikeys.c).
 *
 * Every statement names the account in its WHERE clause, except the lookups
 * that come before any account is known: a key by its hash (authentication)
 * and the usage batch (by key id, unique across the instance). Lists take
 * their ORDER BY from a fixed table indexed by the parsed sort column and
 * order; filters are bound parameters that are NULL when unused. A NULL
 * description or creator sorts as the smallest value, as in SQLite (NULLS
 * FIRST ascending, NULLS LAST descending). Name filters are case-sensitive
 * substrings (strpos), so '%' and '_' are literal. A key's type is read from
 * its iam_id: a service ID's starts with "iam-ServiceId-", compared exactly.
 *
 * Updates are conditional on the entity tag in their WHERE clause; when one
 * changes no row, a second query in the same transaction tells a missing row
 * (IAM_ENOTFOUND) from a stale tag (IAM_ECONFLICT).
 */
#include "store/postgres_internal.h"

/* --- service IDs --- */

#define SERVICE_ID_COLUMNS                                                                                     \
    "id, iam_id, account_id, group_id, name, description, unique_instance_crns, created_by, entity_tag, locked, " \
    "created_at, modified_at"

/* $1 account, $2 exact name, $3 name substring, $4 group, $5 limit + 1, $6 offset. */
#define SERVICE_ID_LIST_SQL(order_by)                                                                   \
    IAM_PG_STATEMENT("SELECT " SERVICE_ID_COLUMNS " FROM service_ids WHERE account_id = $1::text"        \
                     " AND ($2::text IS NULL OR name = $2::text)"                                       \
                     " AND ($3::text IS NULL OR strpos(name, $3::text) > 0)"                            \
                     " AND ($4::text IS NULL OR group_id = $4::text)"                                   \
                     " ORDER BY " order_by " LIMIT $5::bigint OFFSET $6::bigint")

static struct iam_pg_statement service_id_list_sql[IAM_STORE_SERVICE_ID_SORT_COUNT][2] = {
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

static enum iam_result read_service_id(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_service_id_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->id) || !iam_pg_text(arena, result, row, 1, &out->iam_id) ||
        !iam_pg_text(arena, result, row, 2, &out->account_id) || !iam_pg_text(arena, result, row, 3, &out->group_id) ||
        !iam_pg_text(arena, result, row, 4, &out->name) || !iam_pg_text(arena, result, row, 5, &out->description) ||
        !iam_pg_text(arena, result, row, 6, &out->unique_instance_crns) ||
        !iam_pg_text(arena, result, row, 7, &out->created_by) || !iam_pg_text(arena, result, row, 8, &out->entity_tag))
        return IAM_ENOMEM;
    out->locked = iam_pg_bool(result, row, 9);
    out->created_at = iam_pg_int64(result, row, 10);
    out->modified_at = iam_pg_int64(result, row, 11);
    return IAM_OK;
}

/* --- API keys (the row insert is shared with the service ID insert) --- */

#define APIKEY_COLUMNS                                                                                            \
    "id, account_id, iam_id, name, description, created_by, entity_tag, action_when_leaked, hash, sealed_value, " \
    "locked, disabled, support_sessions, created_at, modified_at, expires_at, last_authn, authn_count"

static enum iam_result apikey_insert_row(struct iam_pg_conn *conn, const struct iam_apikey_record *apikey,
                                         const char *operation)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "INSERT INTO apikeys (" APIKEY_COLUMNS ") VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, "
        "$6::text, $7::text, $8::text, $9::bytea, $10::bytea, $11::boolean, $12::boolean, $13::boolean, "
        "$14::bigint, $15::bigint, $16::bigint, $17::bigint, $18::bigint)");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, apikey->id);
    iam_pg_param_text(&params, apikey->account_id);
    iam_pg_param_text(&params, apikey->iam_id);
    iam_pg_param_text(&params, apikey->name);
    iam_pg_param_text(&params, apikey->description);
    iam_pg_param_text(&params, apikey->created_by);
    iam_pg_param_text(&params, apikey->entity_tag);
    iam_pg_param_text(&params, apikey->action_when_leaked);
    iam_pg_param_bytea(&params, apikey->hash, sizeof apikey->hash);
    iam_pg_param_bytea(&params, apikey->sealed_value, apikey->sealed_value_length);
    iam_pg_param_bool(&params, apikey->locked);
    iam_pg_param_bool(&params, apikey->disabled);
    iam_pg_param_bool(&params, apikey->support_sessions);
    iam_pg_param_int64(&params, apikey->created_at);
    iam_pg_param_int64(&params, apikey->modified_at);
    iam_pg_param_int64(&params, apikey->expires_at);
    iam_pg_param_int64(&params, apikey->last_authn);
    iam_pg_param_int64(&params, apikey->authn_count);
    return iam_pg_run(conn, &statement, &params, operation, NULL);
}

/* --- service IDs --- */

enum iam_result iam_pg_service_id_insert(struct iam_store *store, const struct iam_service_id_record *service_id,
                                         const struct iam_apikey_record *apikey,
                                         const struct iam_history_record *history, size_t history_count)
{
    static const char *const operation = "service_id_insert";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "INSERT INTO service_ids (" SERVICE_ID_COLUMNS ") VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, "
        "$6::text, coalesce($7::text, '[]'), $8::text, $9::text, $10::boolean, $11::bigint, $12::bigint)");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, service_id->id);
    iam_pg_param_text(&params, service_id->iam_id);
    iam_pg_param_text(&params, service_id->account_id);
    iam_pg_param_text(&params, service_id->group_id);
    iam_pg_param_text(&params, service_id->name);
    iam_pg_param_text(&params, service_id->description);
    iam_pg_param_text(&params, service_id->unique_instance_crns);
    iam_pg_param_text(&params, service_id->created_by);
    iam_pg_param_text(&params, service_id->entity_tag);
    iam_pg_param_bool(&params, service_id->locked);
    iam_pg_param_int64(&params, service_id->created_at);
    iam_pg_param_int64(&params, service_id->modified_at);
    result = iam_pg_run(conn, &statement, &params, operation, NULL);
    if (result == IAM_OK && apikey)
        result = apikey_insert_row(conn, apikey, operation);
    for (size_t i = 0; result == IAM_OK && i < history_count; i++)
        result = iam_pg_history_append(conn, service_id->account_id, &history[i], operation);
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_service_id_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                      const char *id, struct iam_service_id_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " SERVICE_ID_COLUMNS " FROM service_ids WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, id);
    return iam_pg_read_row(store, &statement, &params, arena, "service_id_get", read_service_id, out);
}

enum iam_result iam_pg_service_id_get_by_iam_id(struct iam_store *store, struct iam_arena *arena,
                                                const char *account_id, const char *iam_id,
                                                struct iam_service_id_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " SERVICE_ID_COLUMNS " FROM service_ids WHERE account_id = $1::text AND iam_id = $2::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, iam_id);
    return iam_pg_read_row(store, &statement, &params, arena, "service_id_get_by_iam_id", read_service_id, out);
}

enum iam_result iam_pg_service_id_list(struct iam_store *store, struct iam_arena *arena,
                                       const struct iam_service_id_query *query, enum iam_store_service_id_sort sort,
                                       struct iam_service_id_record **items, size_t *count, bool *has_more)
{
    int order = query->order == IAM_SORT_DESC ? IAM_SORT_DESC : IAM_SORT_ASC;
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, query->account_id);
    iam_pg_param_text(&params, query->name);
    iam_pg_param_text(&params, query->name_contains);
    iam_pg_param_text(&params, query->group_id);
    iam_pg_param_int64(&params, query->limit + 1); /* one row past the page tells whether there is a next one */
    iam_pg_param_int64(&params, query->offset);
    void *rows = NULL;
    enum iam_result result =
        iam_pg_read_rows(store, &service_id_list_sql[sort][order], &params, arena, "service_id_list", sizeof **items,
                         read_service_id, (size_t)query->limit, &rows, count, has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

/* After an UPDATE that changed nothing: IAM_ECONFLICT when the row exists (its tag differed), else IAM_ENOTFOUND. */
static enum iam_result missing_or_stale(struct iam_pg_conn *conn, struct iam_pg_statement *exists,
                                        const char *account_id, const char *id, const char *operation)
{
    struct iam_pg_params params = {0};
    int64_t found = 0;
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, id);
    enum iam_result result = iam_pg_query_integer(conn, exists, &params, operation, &found);
    return result == IAM_OK ? IAM_ECONFLICT : result;
}

enum iam_result iam_pg_service_id_update(struct iam_store *store, const struct iam_service_id_record *updated,
                                         const char *expected_entity_tag, const struct iam_history_record *history)
{
    static const char *const operation = "service_id_update";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "UPDATE service_ids SET name = $3::text, description = $4::text, "
        "unique_instance_crns = coalesce($5::text, '[]'), group_id = $6::text, locked = $7::boolean, "
        "entity_tag = $8::text, modified_at = $9::bigint "
        "WHERE account_id = $1::text AND id = $2::text AND ($10::text IS NULL OR entity_tag = $10::text)");
    static struct iam_pg_statement exists =
        IAM_PG_STATEMENT("SELECT 1 FROM service_ids WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t changes = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, updated->account_id);
    iam_pg_param_text(&params, updated->id);
    iam_pg_param_text(&params, updated->name);
    iam_pg_param_text(&params, updated->description);
    iam_pg_param_text(&params, updated->unique_instance_crns);
    iam_pg_param_text(&params, updated->group_id);
    iam_pg_param_bool(&params, updated->locked);
    iam_pg_param_text(&params, updated->entity_tag);
    iam_pg_param_int64(&params, updated->modified_at);
    iam_pg_param_text(&params, expected_entity_tag);
    result = iam_pg_run(conn, &statement, &params, operation, &changes);
    if (result == IAM_OK && changes == 0)
        result = missing_or_stale(conn, &exists, updated->account_id, updated->id, operation);
    else if (result == IAM_OK && history)
        result = iam_pg_history_append(conn, updated->account_id, history, operation);
    return iam_pg_write_end(conn, result, true, operation);
}

/* Runs a DELETE bound to (account_id, value). */
static enum iam_result delete_by(struct iam_pg_conn *conn, struct iam_pg_statement *statement, const char *account_id,
                                 const char *value, const char *operation, int64_t *changes)
{
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, value);
    return iam_pg_run(conn, statement, &params, operation, changes);
}

/*
 * Deletes the service ID, its keys and their history, its group memberships,
 * the policies whose subject it is, and its own history. The keys are found
 * through the service ID's iam_id, read by a subquery in the same
 * transaction; the service ID row goes last so the subqueries still see it.
 * Nothing deleted from service_ids means it was not there: roll back.
 */
enum iam_result iam_pg_service_id_delete(struct iam_store *store, const char *account_id, const char *id)
{
    static const char *const operation = "service_id_delete";
    static struct iam_pg_statement steps[] = {
        IAM_PG_STATEMENT("DELETE FROM history WHERE account_id = $1::text AND entity_id IN "
                         "(SELECT id FROM apikeys WHERE account_id = $1::text AND iam_id = "
                         "(SELECT iam_id FROM service_ids WHERE account_id = $1::text AND id = $2::text))"),
        IAM_PG_STATEMENT("DELETE FROM apikeys WHERE account_id = $1::text AND iam_id = "
                         "(SELECT iam_id FROM service_ids WHERE account_id = $1::text AND id = $2::text)"),
        IAM_PG_STATEMENT("DELETE FROM group_members WHERE account_id = $1::text AND iam_id = "
                         "(SELECT iam_id FROM service_ids WHERE account_id = $1::text AND id = $2::text)"),
        IAM_PG_STATEMENT("DELETE FROM policies WHERE account_id = $1::text AND subject_kind = 'iam_id' AND "
                         "subject_value = (SELECT iam_id FROM service_ids WHERE account_id = $1::text AND id = $2::text)"),
        IAM_PG_STATEMENT("DELETE FROM history WHERE account_id = $1::text AND entity_id = $2::text"),
    };
    static struct iam_pg_statement delete_row =
        IAM_PG_STATEMENT("DELETE FROM service_ids WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    for (size_t i = 0; result == IAM_OK && i < sizeof steps / sizeof steps[0]; i++)
        result = delete_by(conn, &steps[i], account_id, id, operation, NULL);
    if (result == IAM_OK)
        result = delete_by(conn, &delete_row, account_id, id, operation, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_pg_write_end(conn, result, true, operation);
}

/* --- API keys --- */

/* $1 account, $2 iam_id, $3 type (0 any, 1 user, 2 service ID), $4 name substring, $5 limit + 1, $6 offset. */
#define APIKEY_LIST_SQL(order_by)                                                                      \
    IAM_PG_STATEMENT("SELECT " APIKEY_COLUMNS " FROM apikeys WHERE account_id = $1::text"               \
                     " AND ($2::text IS NULL OR iam_id = $2::text)"                                    \
                     " AND ($3::bigint = 0"                                                            \
                     " OR ($3::bigint = 1 AND substr(iam_id, 1, 14) <> 'iam-ServiceId-')"             \
                     " OR ($3::bigint = 2 AND substr(iam_id, 1, 14) = 'iam-ServiceId-'))"             \
                     " AND ($4::text IS NULL OR strpos(name, $4::text) > 0)"                           \
                     " ORDER BY " order_by " LIMIT $5::bigint OFFSET $6::bigint")

static struct iam_pg_statement apikey_list_sql[IAM_STORE_APIKEY_SORT_COUNT][2] = {
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

static int64_t type_parameter(enum iam_store_apikey_type type)
{
    switch (type) {
    case IAM_STORE_APIKEY_TYPE_USER: return 1;
    case IAM_STORE_APIKEY_TYPE_SERVICE_ID: return 2;
    case IAM_STORE_APIKEY_TYPE_ANY: break;
    }
    return 0;
}

static enum iam_result read_apikey(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_apikey_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->id) || !iam_pg_text(arena, result, row, 1, &out->account_id) ||
        !iam_pg_text(arena, result, row, 2, &out->iam_id) || !iam_pg_text(arena, result, row, 3, &out->name) ||
        !iam_pg_text(arena, result, row, 4, &out->description) ||
        !iam_pg_text(arena, result, row, 5, &out->created_by) ||
        !iam_pg_text(arena, result, row, 6, &out->entity_tag) ||
        !iam_pg_text(arena, result, row, 7, &out->action_when_leaked) ||
        !iam_pg_bytea(arena, result, row, 9, &out->sealed_value, &out->sealed_value_length))
        return IAM_ENOMEM;
    if (!iam_pg_fixed_bytea(result, row, 8, out->hash, sizeof out->hash))
        return IAM_ESTORE; /* the schema's CHECK makes this impossible */
    out->locked = iam_pg_bool(result, row, 10);
    out->disabled = iam_pg_bool(result, row, 11);
    out->support_sessions = iam_pg_bool(result, row, 12);
    out->created_at = iam_pg_int64(result, row, 13);
    out->modified_at = iam_pg_int64(result, row, 14);
    out->expires_at = iam_pg_int64(result, row, 15);
    out->last_authn = iam_pg_int64(result, row, 16);
    out->authn_count = iam_pg_int64(result, row, 17);
    return IAM_OK;
}

enum iam_result iam_pg_apikey_insert(struct iam_store *store, const struct iam_apikey_record *apikey,
                                     const struct iam_history_record *history)
{
    static const char *const operation = "apikey_insert";
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = apikey_insert_row(conn, apikey, operation);
    if (result == IAM_OK && history)
        result = iam_pg_history_append(conn, apikey->account_id, history, operation);
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_apikey_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                  const char *id, struct iam_apikey_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " APIKEY_COLUMNS " FROM apikeys WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, id);
    return iam_pg_read_row(store, &statement, &params, arena, "apikey_get", read_apikey, out);
}

enum iam_result iam_pg_apikey_get_by_id(struct iam_store *store, struct iam_arena *arena, const char *id,
                                        struct iam_apikey_record *out)
{
    /* Cross-account on purpose: the audit trail names the account of a refused key id. */
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " APIKEY_COLUMNS " FROM apikeys WHERE id = $1::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, id);
    return iam_pg_read_row(store, &statement, &params, arena, "apikey_get_by_id", read_apikey, out);
}

enum iam_result iam_pg_apikey_get_by_hash(struct iam_store *store, struct iam_arena *arena,
                                          const uint8_t hash[IAM_RECORD_HASH_SIZE], struct iam_apikey_record *out)
{
    /* Cross-account on purpose: authentication does not know the account yet. */
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " APIKEY_COLUMNS " FROM apikeys WHERE hash = $1::bytea");
    struct iam_pg_params params = {0};
    iam_pg_param_bytea(&params, hash, IAM_RECORD_HASH_SIZE);
    return iam_pg_read_row(store, &statement, &params, arena, "apikey_get_by_hash", read_apikey, out);
}

enum iam_result iam_pg_apikey_list(struct iam_store *store, struct iam_arena *arena,
                                   const struct iam_apikey_query *query, enum iam_store_apikey_sort sort,
                                   enum iam_store_apikey_type type, struct iam_apikey_record **items, size_t *count,
                                   bool *has_more)
{
    int order = query->order == IAM_SORT_DESC ? IAM_SORT_DESC : IAM_SORT_ASC;
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, query->account_id);
    iam_pg_param_text(&params, query->iam_id);
    iam_pg_param_int64(&params, type_parameter(type));
    iam_pg_param_text(&params, query->name_contains);
    iam_pg_param_int64(&params, query->limit + 1);
    iam_pg_param_int64(&params, query->offset);
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &apikey_list_sql[sort][order], &params, arena, "apikey_list",
                                              sizeof **items, read_apikey, (size_t)query->limit, &rows, count,
                                              has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

enum iam_result iam_pg_apikey_update(struct iam_store *store, const struct iam_apikey_record *updated,
                                     const char *expected_entity_tag, const struct iam_history_record *history)
{
    static const char *const operation = "apikey_update";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "UPDATE apikeys SET name = $3::text, description = $4::text, support_sessions = $5::boolean, "
        "action_when_leaked = $6::text, expires_at = $7::bigint, locked = $8::boolean, disabled = $9::boolean, "
        "entity_tag = $10::text, modified_at = $11::bigint "
        "WHERE account_id = $1::text AND id = $2::text AND ($12::text IS NULL OR entity_tag = $12::text)");
    static struct iam_pg_statement exists =
        IAM_PG_STATEMENT("SELECT 1 FROM apikeys WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t changes = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, updated->account_id);
    iam_pg_param_text(&params, updated->id);
    iam_pg_param_text(&params, updated->name);
    iam_pg_param_text(&params, updated->description);
    iam_pg_param_bool(&params, updated->support_sessions);
    iam_pg_param_text(&params, updated->action_when_leaked);
    iam_pg_param_int64(&params, updated->expires_at);
    iam_pg_param_bool(&params, updated->locked);
    iam_pg_param_bool(&params, updated->disabled);
    iam_pg_param_text(&params, updated->entity_tag);
    iam_pg_param_int64(&params, updated->modified_at);
    iam_pg_param_text(&params, expected_entity_tag);
    result = iam_pg_run(conn, &statement, &params, operation, &changes);
    if (result == IAM_OK && changes == 0)
        result = missing_or_stale(conn, &exists, updated->account_id, updated->id, operation);
    else if (result == IAM_OK && history)
        result = iam_pg_history_append(conn, updated->account_id, history, operation);
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_apikey_delete(struct iam_store *store, const char *account_id, const char *id)
{
    static const char *const operation = "apikey_delete";
    static struct iam_pg_statement delete_row =
        IAM_PG_STATEMENT("DELETE FROM apikeys WHERE account_id = $1::text AND id = $2::text");
    static struct iam_pg_statement delete_history =
        IAM_PG_STATEMENT("DELETE FROM history WHERE account_id = $1::text AND entity_id = $2::text");
    struct iam_pg_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = delete_by(conn, &delete_row, account_id, id, operation, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    if (result == IAM_OK)
        result = delete_by(conn, &delete_history, account_id, id, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

/*
 * Usage counters are statistics, not configuration: they leave the revision
 * alone so caches keyed on it are not invalidated by every batch. Each node
 * adds its own deltas (authn_count + n, the later last_authn), so the
 * counters of all nodes add up.
 */
enum iam_result iam_pg_apikey_add_usage(struct iam_store *store, const struct iam_apikey_usage *usage, size_t count)
{
    static const char *const operation = "apikey_add_usage";
    /* Keys deleted since the usage was counted match no row and are skipped. */
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("UPDATE apikeys SET authn_count = authn_count + $2::bigint, "
                         "last_authn = greatest(last_authn, $3::bigint) WHERE id = $1::text");
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    for (size_t i = 0; result == IAM_OK && i < count; i++) {
        struct iam_pg_params params = {0};
        iam_pg_param_text(&params, usage[i].id);
        iam_pg_param_int64(&params, usage[i].count);
        iam_pg_param_int64(&params, usage[i].last_authn);
        result = iam_pg_run(conn, &statement, &params, operation, NULL);
    }
    return iam_pg_write_end(conn, result, false, operation);
}
