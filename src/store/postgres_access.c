/*
 * postgres_access.c: the PostgreSQL backend's access-side table of functions
 * (backend.h), account and user administration, policies and custom roles
 * (the mirror of sqlite_access_backend.c, sqlite_access_accounts.c,
 * sqlite_access_policies.c and sqlite_access_roles.c).
 *
 * Deleting a user removes, in the same transaction and all within its
 * account: its API keys and their history, its access-group memberships and
 * the policies whose subject it is. Every policy and role statement names the
 * account in its WHERE clause, except the permit statistics batch (by policy
 * id, unique across the instance), which does not bump the revision. Policy
 * list filters are bound parameters that are NULL when unused and combine
 * with AND.
 */
#include "store/postgres_internal.h"

/* Runs a statement bound to `count` texts. */
static enum iam_result run_texts(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                                 const char *operation, size_t count, const char *const values[], int64_t *changes)
{
    struct iam_pg_params params = {0};
    for (size_t i = 0; i < count; i++)
        iam_pg_param_text(&params, values[i]);
    return iam_pg_run(conn, statement, &params, operation, changes);
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

/* --- accounts --- */

static enum iam_result pg_account_list(struct iam_store *store, struct iam_arena *arena, int64_t offset,
                                       int64_t limit, struct iam_account_record **items, size_t *count,
                                       bool *has_more)
{
    /* Instance-wide on purpose: only the instance operator lists accounts. */
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " IAM_PG_ACCOUNT_COLUMNS " FROM accounts "
                         "ORDER BY created_at ASC, id ASC LIMIT $1::bigint OFFSET $2::bigint");
    struct iam_pg_params params = {0};
    iam_pg_param_int64(&params, limit + 1); /* one row past the page tells whether there is a next one */
    iam_pg_param_int64(&params, offset);
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &statement, &params, arena, "account_list", sizeof **items,
                                              iam_pg_account_read, (size_t)limit, &rows, count, has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

static enum iam_result pg_account_update(struct iam_store *store, const struct iam_account_record *account)
{
    static const char *const operation = "account_update";
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("UPDATE accounts SET name = $2::text, state = $3::text, owner_iam_id = $4::text, "
                         "modified_at = $5::bigint WHERE id = $1::text");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t changes = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, account->id);
    iam_pg_param_text(&params, account->name);
    iam_pg_param_text(&params, account->state);
    iam_pg_param_text(&params, account->owner_iam_id);
    iam_pg_param_int64(&params, account->modified_at);
    result = iam_pg_run(conn, &statement, &params, operation, &changes);
    if (result == IAM_OK && changes == 0)
        result = IAM_ENOTFOUND;
    return iam_pg_write_end(conn, result, true, operation);
}

/* --- users --- */

#define USER_COLUMNS                                                                                              \
    "iam_id, account_id, login, email, given_name, family_name, state, password_hash, entity_tag, created_at, " \
    "modified_at"

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

static enum iam_result pg_user_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    int64_t offset, int64_t limit, struct iam_user_record **items, size_t *count,
                                    bool *has_more)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " USER_COLUMNS " FROM users WHERE account_id = $1::text "
                         "ORDER BY created_at ASC, iam_id ASC LIMIT $2::bigint OFFSET $3::bigint");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_int64(&params, limit + 1);
    iam_pg_param_int64(&params, offset);
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &statement, &params, arena, "user_list", sizeof **items,
                                              read_user, (size_t)limit, &rows, count, has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

static enum iam_result pg_user_update(struct iam_store *store, const struct iam_user_record *user,
                                      const char *expected_entity_tag)
{
    static const char *const operation = "user_update";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "UPDATE users SET login = $3::text, email = $4::text, given_name = $5::text, family_name = $6::text, "
        "state = $7::text, password_hash = $8::text, entity_tag = $9::text, modified_at = $10::bigint "
        "WHERE account_id = $1::text AND iam_id = $2::text AND ($11::text IS NULL OR entity_tag = $11::text)");
    static struct iam_pg_statement exists =
        IAM_PG_STATEMENT("SELECT 1 FROM users WHERE account_id = $1::text AND iam_id = $2::text");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t changes = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, user->account_id);
    iam_pg_param_text(&params, user->iam_id);
    iam_pg_param_text(&params, user->login);
    iam_pg_param_text(&params, user->email);
    iam_pg_param_text(&params, user->given_name);
    iam_pg_param_text(&params, user->family_name);
    iam_pg_param_text(&params, user->state);
    iam_pg_param_text(&params, user->password_hash);
    iam_pg_param_text(&params, user->entity_tag);
    iam_pg_param_int64(&params, user->modified_at);
    iam_pg_param_text(&params, expected_entity_tag);
    result = iam_pg_run(conn, &statement, &params, operation, &changes);
    if (result == IAM_OK && changes == 0)
        result = missing_or_stale(conn, &exists, user->account_id, user->iam_id, operation);
    return iam_pg_write_end(conn, result, true, operation);
}

static enum iam_result pg_user_delete(struct iam_store *store, const char *account_id, const char *iam_id)
{
    static const char *const operation = "user_delete";
    static struct iam_pg_statement delete_row =
        IAM_PG_STATEMENT("DELETE FROM users WHERE account_id = $1::text AND iam_id = $2::text");
    /* History first: it finds the keys through the apikeys rows deleted next. */
    static struct iam_pg_statement cascades[] = {
        IAM_PG_STATEMENT("DELETE FROM history WHERE account_id = $1::text AND entity_id IN "
                         "(SELECT id FROM apikeys WHERE account_id = $1::text AND iam_id = $2::text)"),
        IAM_PG_STATEMENT("DELETE FROM apikeys WHERE account_id = $1::text AND iam_id = $2::text"),
        IAM_PG_STATEMENT("DELETE FROM group_members WHERE account_id = $1::text AND iam_id = $2::text"),
        IAM_PG_STATEMENT("DELETE FROM policies WHERE account_id = $1::text AND subject_kind = 'iam_id' "
                         "AND subject_value = $2::text"),
    };
    const char *const keys[] = {account_id, iam_id};
    struct iam_pg_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = run_texts(conn, &delete_row, operation, 2, keys, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    for (size_t i = 0; result == IAM_OK && i < sizeof cascades / sizeof cascades[0]; i++)
        result = run_texts(conn, &cascades[i], operation, 2, keys, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

/* --- policies --- */

/*
 * $1 account, $2 state, $3 iam_id, $4 access group id, $5 type, $6 service name,
 * $7 limit + 1, $8 offset.
 */
#define POLICY_LIST_SQL(order_by)                                                                              \
    IAM_PG_STATEMENT("SELECT " IAM_PG_POLICY_COLUMNS " FROM policies WHERE account_id = $1::text"               \
                     " AND state = $2::text"                                                                   \
                     " AND ($3::text IS NULL OR (subject_kind = 'iam_id' AND subject_value = $3::text))"       \
                     " AND ($4::text IS NULL OR (subject_kind = 'access_group_id' AND subject_value = $4::text))" \
                     " AND ($5::text IS NULL OR type = $5::text)"                                              \
                     " AND ($6::text IS NULL OR service_name = $6::text)"                                      \
                     " ORDER BY " order_by " LIMIT $7::bigint OFFSET $8::bigint")

static struct iam_pg_statement policy_list_sql[IAM_STORE_POLICY_SORT_COUNT][2] = {
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

enum iam_result iam_pg_policy_read(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_policy_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->id) || !iam_pg_text(arena, result, row, 1, &out->account_id) ||
        !iam_pg_text(arena, result, row, 2, &out->type) || !iam_pg_text(arena, result, row, 3, &out->api_version) ||
        !iam_pg_text(arena, result, row, 4, &out->subject_kind) ||
        !iam_pg_text(arena, result, row, 5, &out->subject_value) ||
        !iam_pg_text(arena, result, row, 6, &out->service_name) ||
        !iam_pg_text(arena, result, row, 7, &out->document) || !iam_pg_text(arena, result, row, 8, &out->state) ||
        !iam_pg_text(arena, result, row, 9, &out->entity_tag) ||
        !iam_pg_text(arena, result, row, 10, &out->created_by) ||
        !iam_pg_text(arena, result, row, 11, &out->modified_by))
        return IAM_ENOMEM;
    out->created_at_ms = iam_pg_int64(result, row, 12);
    out->modified_at_ms = iam_pg_int64(result, row, 13);
    out->last_permit_at = iam_pg_int64(result, row, 14);
    out->last_permit_frequency = iam_pg_int64(result, row, 15);
    return IAM_OK;
}

static enum iam_result pg_policy_insert(struct iam_store *store, const struct iam_policy_record *policy)
{
    static const char *const operation = "policy_insert";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "INSERT INTO policies (" IAM_PG_POLICY_COLUMNS ") VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, "
        "$6::text, $7::text, $8::text, $9::text, $10::text, $11::text, $12::text, $13::bigint, $14::bigint, "
        "$15::bigint, $16::bigint)");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, policy->id);
    iam_pg_param_text(&params, policy->account_id);
    iam_pg_param_text(&params, policy->type);
    iam_pg_param_text(&params, policy->api_version);
    iam_pg_param_text(&params, policy->subject_kind);
    iam_pg_param_text(&params, policy->subject_value);
    iam_pg_param_text(&params, policy->service_name);
    iam_pg_param_text(&params, policy->document);
    iam_pg_param_text(&params, policy->state);
    iam_pg_param_text(&params, policy->entity_tag);
    iam_pg_param_text(&params, policy->created_by);
    iam_pg_param_text(&params, policy->modified_by);
    iam_pg_param_int64(&params, policy->created_at_ms);
    iam_pg_param_int64(&params, policy->modified_at_ms);
    iam_pg_param_int64(&params, policy->last_permit_at);
    iam_pg_param_int64(&params, policy->last_permit_frequency);
    result = iam_pg_run(conn, &statement, &params, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

static enum iam_result pg_policy_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *id, struct iam_policy_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " IAM_PG_POLICY_COLUMNS " FROM policies WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, id);
    return iam_pg_read_row(store, &statement, &params, arena, "policy_get", iam_pg_policy_read, out);
}

static enum iam_result pg_policy_list(struct iam_store *store, struct iam_arena *arena,
                                      const struct iam_policy_query *query, enum iam_store_policy_sort sort,
                                      struct iam_policy_record **items, size_t *count, bool *has_more)
{
    int order = query->order == IAM_SORT_DESC ? IAM_SORT_DESC : IAM_SORT_ASC;
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, query->account_id);
    iam_pg_param_text(&params, query->state);
    iam_pg_param_text(&params, query->iam_id);
    iam_pg_param_text(&params, query->access_group_id);
    iam_pg_param_text(&params, query->type);
    iam_pg_param_text(&params, query->service_name);
    iam_pg_param_int64(&params, query->limit + 1);
    iam_pg_param_int64(&params, query->offset);
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &policy_list_sql[sort][order], &params, arena, "policy_list",
                                              sizeof **items, iam_pg_policy_read, (size_t)query->limit, &rows, count,
                                              has_more);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

static enum iam_result pg_policy_update(struct iam_store *store, const struct iam_policy_record *policy,
                                        const char *expected_entity_tag)
{
    static const char *const operation = "policy_update";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "UPDATE policies SET type = $3::text, api_version = $4::text, subject_kind = $5::text, "
        "subject_value = $6::text, service_name = $7::text, document = $8::text, state = $9::text, "
        "entity_tag = $10::text, modified_by = $11::text, modified_at_ms = $12::bigint "
        "WHERE account_id = $1::text AND id = $2::text AND ($13::text IS NULL OR entity_tag = $13::text)");
    static struct iam_pg_statement exists =
        IAM_PG_STATEMENT("SELECT 1 FROM policies WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t changes = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, policy->account_id);
    iam_pg_param_text(&params, policy->id);
    iam_pg_param_text(&params, policy->type);
    iam_pg_param_text(&params, policy->api_version);
    iam_pg_param_text(&params, policy->subject_kind);
    iam_pg_param_text(&params, policy->subject_value);
    iam_pg_param_text(&params, policy->service_name);
    iam_pg_param_text(&params, policy->document);
    iam_pg_param_text(&params, policy->state);
    iam_pg_param_text(&params, policy->entity_tag);
    iam_pg_param_text(&params, policy->modified_by);
    iam_pg_param_int64(&params, policy->modified_at_ms);
    iam_pg_param_text(&params, expected_entity_tag);
    result = iam_pg_run(conn, &statement, &params, operation, &changes);
    if (result == IAM_OK && changes == 0)
        result = missing_or_stale(conn, &exists, policy->account_id, policy->id, operation);
    return iam_pg_write_end(conn, result, true, operation);
}

static enum iam_result pg_policy_delete(struct iam_store *store, const char *account_id, const char *id)
{
    static const char *const operation = "policy_delete";
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("DELETE FROM policies WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = run_texts(conn, &statement, operation, 2, (const char *const[]){account_id, id}, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_pg_write_end(conn, result, true, operation);
}

static enum iam_result pg_policy_count_for_subject(struct iam_store *store, const char *account_id,
                                                   const char *subject_kind, const char *subject_value,
                                                   int64_t *count)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT count(*) FROM policies WHERE account_id = $1::text AND subject_kind = $2::text "
        "AND subject_value = $3::text AND state = 'active'");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, subject_kind);
    iam_pg_param_text(&params, subject_value);
    return iam_pg_read_integer(store, &statement, &params, "policy_count_for_subject", count);
}

/* Statistics, not configuration: the engine's snapshot (keyed on the revision) stays valid. */
static enum iam_result pg_policy_add_permits(struct iam_store *store, const struct iam_policy_permit *permits,
                                             size_t count)
{
    static const char *const operation = "policy_add_permits";
    /* Policies deleted since the permits were counted match no row and are skipped. */
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("UPDATE policies SET last_permit_frequency = last_permit_frequency + $2::bigint, "
                         "last_permit_at = greatest(last_permit_at, $3::bigint) WHERE id = $1::text");
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    for (size_t i = 0; result == IAM_OK && i < count; i++) {
        struct iam_pg_params params = {0};
        iam_pg_param_text(&params, permits[i].id);
        iam_pg_param_int64(&params, permits[i].count);
        iam_pg_param_int64(&params, permits[i].last_permit_at);
        result = iam_pg_run(conn, &statement, &params, operation, NULL);
    }
    return iam_pg_write_end(conn, result, false, operation);
}

/* --- custom roles --- */

enum iam_result iam_pg_role_read(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_role_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->id) || !iam_pg_text(arena, result, row, 1, &out->account_id) ||
        !iam_pg_text(arena, result, row, 2, &out->name) || !iam_pg_text(arena, result, row, 3, &out->display_name) ||
        !iam_pg_text(arena, result, row, 4, &out->description) ||
        !iam_pg_text(arena, result, row, 5, &out->service_name) ||
        !iam_pg_text(arena, result, row, 6, &out->actions) || !iam_pg_text(arena, result, row, 7, &out->crn) ||
        !iam_pg_text(arena, result, row, 8, &out->entity_tag) ||
        !iam_pg_text(arena, result, row, 9, &out->created_by) ||
        !iam_pg_text(arena, result, row, 10, &out->modified_by))
        return IAM_ENOMEM;
    out->created_at_ms = iam_pg_int64(result, row, 11);
    out->modified_at_ms = iam_pg_int64(result, row, 12);
    return IAM_OK;
}

static enum iam_result pg_role_insert(struct iam_store *store, const struct iam_role_record *role)
{
    static const char *const operation = "role_insert";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "INSERT INTO custom_roles (" IAM_PG_ROLE_COLUMNS ") VALUES ($1::text, $2::text, $3::text, $4::text, "
        "$5::text, $6::text, $7::text, $8::text, $9::text, $10::text, $11::text, $12::bigint, $13::bigint)");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, role->id);
    iam_pg_param_text(&params, role->account_id);
    iam_pg_param_text(&params, role->name);
    iam_pg_param_text(&params, role->display_name);
    iam_pg_param_text(&params, role->description);
    iam_pg_param_text(&params, role->service_name);
    iam_pg_param_text(&params, role->actions);
    iam_pg_param_text(&params, role->crn);
    iam_pg_param_text(&params, role->entity_tag);
    iam_pg_param_text(&params, role->created_by);
    iam_pg_param_text(&params, role->modified_by);
    iam_pg_param_int64(&params, role->created_at_ms);
    iam_pg_param_int64(&params, role->modified_at_ms);
    result = iam_pg_run(conn, &statement, &params, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

static enum iam_result pg_role_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                   const char *id, struct iam_role_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " IAM_PG_ROLE_COLUMNS " FROM custom_roles WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, id);
    return iam_pg_read_row(store, &statement, &params, arena, "role_get", iam_pg_role_read, out);
}

static enum iam_result pg_role_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    const char *service_name, struct iam_role_record **items, size_t *count)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " IAM_PG_ROLE_COLUMNS " FROM custom_roles WHERE account_id = $1::text "
        "AND ($2::text IS NULL OR service_name = $2::text) ORDER BY name ASC, service_name ASC, id ASC");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, service_name);
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &statement, &params, arena, "role_list", sizeof **items,
                                              iam_pg_role_read, SIZE_MAX, &rows, count, NULL);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

static enum iam_result pg_role_update(struct iam_store *store, const struct iam_role_record *role,
                                      const char *expected_entity_tag)
{
    static const char *const operation = "role_update";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "UPDATE custom_roles SET display_name = $3::text, description = $4::text, actions = $5::text, "
        "entity_tag = $6::text, modified_by = $7::text, modified_at_ms = $8::bigint "
        "WHERE account_id = $1::text AND id = $2::text AND ($9::text IS NULL OR entity_tag = $9::text)");
    static struct iam_pg_statement exists =
        IAM_PG_STATEMENT("SELECT 1 FROM custom_roles WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t changes = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, role->account_id);
    iam_pg_param_text(&params, role->id);
    iam_pg_param_text(&params, role->display_name);
    iam_pg_param_text(&params, role->description);
    iam_pg_param_text(&params, role->actions);
    iam_pg_param_text(&params, role->entity_tag);
    iam_pg_param_text(&params, role->modified_by);
    iam_pg_param_int64(&params, role->modified_at_ms);
    iam_pg_param_text(&params, expected_entity_tag);
    result = iam_pg_run(conn, &statement, &params, operation, &changes);
    if (result == IAM_OK && changes == 0)
        result = missing_or_stale(conn, &exists, role->account_id, role->id, operation);
    return iam_pg_write_end(conn, result, true, operation);
}

static enum iam_result pg_role_delete(struct iam_store *store, const char *account_id, const char *id)
{
    static const char *const operation = "role_delete";
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("DELETE FROM custom_roles WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = run_texts(conn, &statement, operation, 2, (const char *const[]){account_id, id}, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_pg_write_end(conn, result, true, operation);
}

/* --- the table (groups, members, services, settings and the snapshot: postgres_groups.c) --- */

const struct iam_store_access_backend iam_store_postgres_access_backend = {
    .account_list = pg_account_list,
    .account_update = pg_account_update,
    .user_list = pg_user_list,
    .user_update = pg_user_update,
    .user_delete = pg_user_delete,
    .policy_insert = pg_policy_insert,
    .policy_get = pg_policy_get,
    .policy_list = pg_policy_list,
    .policy_update = pg_policy_update,
    .policy_delete = pg_policy_delete,
    .policy_count_for_subject = pg_policy_count_for_subject,
    .policy_add_permits = pg_policy_add_permits,
    .role_insert = pg_role_insert,
    .role_get = pg_role_get,
    .role_list = pg_role_list,
    .role_update = pg_role_update,
    .role_delete = pg_role_delete,
    .group_insert = iam_pg_group_insert,
    .group_get = iam_pg_group_get,
    .group_list = iam_pg_group_list,
    .group_update = iam_pg_group_update,
    .group_delete = iam_pg_group_delete,
    .group_count = iam_pg_group_count,
    .member_add = iam_pg_member_add,
    .member_remove = iam_pg_member_remove,
    .member_get = iam_pg_member_get,
    .member_list = iam_pg_member_list,
    .member_group_count = iam_pg_member_group_count,
    .service_def_put = iam_pg_service_def_put,
    .service_def_get = iam_pg_service_def_get,
    .service_def_list = iam_pg_service_def_list,
    .service_def_delete = iam_pg_service_def_delete,
    .access_settings_get = iam_pg_access_settings_get,
    .access_settings_put = iam_pg_access_settings_put,
    .access_snapshot = iam_pg_access_snapshot,
};
