/*
 * postgres_groups.c: PostgreSQL rows of access groups and their members,
 * registered services and per-account access settings, and the decision
 * engine's snapshot (the mirror of sqlite_access_groups.c,
 * sqlite_access_services.c and sqlite_access_snapshot.c).
 *
 * A group's name is unique in its account regardless of ASCII case (a unique
 * index on lower(name), whose "C" collation folds ASCII letters only, as
 * SQLite's NOCASE), and name and description sorts ignore ASCII case the same
 * way. A member row is inserted by INSERT ... SELECT from the group row of
 * the caller's account, so a member never joins another account's group.
 * Deleting a group deletes its members and the policies whose subject it is.
 * The group search is a case-insensitive substring of the name or the
 * description ('%' and '_' literal); the search text is folded with the "C"
 * collation too, whatever the database's locale.
 *
 * A page and its total, and the parts of the snapshot, are read in one
 * REPEATABLE READ transaction so they agree. Services and access settings are
 * written by "put": insert or replace, guarded by an expected entity tag read
 * inside the write transaction; replacing a service keeps its creator and
 * creation time.
 */
#include "store/postgres_internal.h"

#include <stdint.h>

#define GROUP_COLUMNS \
    "id, account_id, name, description, entity_tag, created_by, modified_by, created_at_ms, modified_at_ms"

/* $1 account, $2 member iam_id, $3 search text. */
#define GROUP_FILTER                                                                                             \
    " FROM access_groups WHERE account_id = $1::text"                                                            \
    " AND ($2::text IS NULL OR id IN (SELECT group_id FROM group_members"                                        \
    " WHERE account_id = $1::text AND iam_id = $2::text))"                                                       \
    " AND ($3::text IS NULL OR strpos(lower(name), lower($3::text COLLATE \"C\")) > 0"                           \
    " OR strpos(lower(description), lower($3::text COLLATE \"C\")) > 0)"

/* The filter's parameters, then $4 limit, $5 offset. */
#define GROUP_LIST_SQL(order_by) \
    IAM_PG_STATEMENT("SELECT " GROUP_COLUMNS GROUP_FILTER " ORDER BY " order_by " LIMIT $4::bigint OFFSET $5::bigint")

static struct iam_pg_statement group_list_sql[IAM_STORE_GROUP_SORT_COUNT][2] = {
    [IAM_STORE_GROUP_SORT_NAME] = {[IAM_SORT_ASC] = GROUP_LIST_SQL("lower(name) ASC, id ASC"),
                                   [IAM_SORT_DESC] = GROUP_LIST_SQL("lower(name) DESC, id DESC")},
    [IAM_STORE_GROUP_SORT_DESCRIPTION] =
        {[IAM_SORT_ASC] = GROUP_LIST_SQL("lower(description) ASC NULLS FIRST, id ASC"),
         [IAM_SORT_DESC] = GROUP_LIST_SQL("lower(description) DESC NULLS LAST, id DESC")},
    [IAM_STORE_GROUP_SORT_CREATED_AT] = {[IAM_SORT_ASC] = GROUP_LIST_SQL("created_at_ms ASC, id ASC"),
                                         [IAM_SORT_DESC] = GROUP_LIST_SQL("created_at_ms DESC, id DESC")},
};

static struct iam_pg_statement group_exists =
    IAM_PG_STATEMENT("SELECT 1 FROM access_groups WHERE account_id = $1::text AND id = $2::text");

/* Binds `count` texts. */
static void bind_texts(struct iam_pg_params *params, size_t count, const char *const values[])
{
    for (size_t i = 0; i < count; i++)
        iam_pg_param_text(params, values[i]);
}

static enum iam_result run_texts(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                                 const char *operation, size_t count, const char *const values[], int64_t *changes)
{
    struct iam_pg_params params = {0};
    bind_texts(&params, count, values);
    return iam_pg_run(conn, statement, &params, operation, changes);
}

static enum iam_result read_group(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_group_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->id) || !iam_pg_text(arena, result, row, 1, &out->account_id) ||
        !iam_pg_text(arena, result, row, 2, &out->name) || !iam_pg_text(arena, result, row, 3, &out->description) ||
        !iam_pg_text(arena, result, row, 4, &out->entity_tag) ||
        !iam_pg_text(arena, result, row, 5, &out->created_by) ||
        !iam_pg_text(arena, result, row, 6, &out->modified_by))
        return IAM_ENOMEM;
    out->created_at_ms = iam_pg_int64(result, row, 7);
    out->modified_at_ms = iam_pg_int64(result, row, 8);
    return IAM_OK;
}

/* --- groups --- */

enum iam_result iam_pg_group_insert(struct iam_store *store, const struct iam_group_record *group)
{
    static const char *const operation = "group_insert";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "INSERT INTO access_groups (" GROUP_COLUMNS ") VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, "
        "$6::text, $7::text, $8::bigint, $9::bigint)");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, group->id);
    iam_pg_param_text(&params, group->account_id);
    iam_pg_param_text(&params, group->name);
    iam_pg_param_text(&params, group->description);
    iam_pg_param_text(&params, group->entity_tag);
    iam_pg_param_text(&params, group->created_by);
    iam_pg_param_text(&params, group->modified_by);
    iam_pg_param_int64(&params, group->created_at_ms);
    iam_pg_param_int64(&params, group->modified_at_ms);
    result = iam_pg_run(conn, &statement, &params, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_group_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                 const char *id, struct iam_group_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT " GROUP_COLUMNS " FROM access_groups WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    iam_pg_param_text(&params, id);
    return iam_pg_read_row(store, &statement, &params, arena, "group_get", read_group, out);
}

enum iam_result iam_pg_group_list(struct iam_store *store, struct iam_arena *arena,
                                  const struct iam_group_query *query, enum iam_store_group_sort sort,
                                  struct iam_group_record **items, size_t *count, int64_t *total)
{
    static const char *const operation = "group_list";
    static struct iam_pg_statement total_sql = IAM_PG_STATEMENT("SELECT count(*)" GROUP_FILTER);
    const char *const filter[] = {query->account_id, query->member_iam_id, query->search};
    int order = query->order == IAM_SORT_DESC ? IAM_SORT_DESC : IAM_SORT_ASC;
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t matching = 0;
    void *rows = NULL;
    enum iam_result result = iam_pg_read_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    bind_texts(&params, 3, filter);
    result = iam_pg_query_integer(conn, &total_sql, &params, operation, &matching);
    if (result == IAM_ENOTFOUND)
        result = IAM_ESTORE; /* count(*) always returns a row */
    if (result != IAM_OK)
        goto out;
    iam_pg_param_int64(&params, query->limit);
    iam_pg_param_int64(&params, query->offset);
    result = iam_pg_collect(conn, &group_list_sql[sort][order], &params, arena, operation, sizeof **items, read_group,
                            (size_t)query->limit, &rows, count, NULL);
    if (result == IAM_OK) {
        *items = rows;
        *total = matching;
    }
out:
    return iam_pg_read_end(conn, result, operation);
}

enum iam_result iam_pg_group_update(struct iam_store *store, const struct iam_group_record *group,
                                    const char *expected_entity_tag)
{
    static const char *const operation = "group_update";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "UPDATE access_groups SET name = $3::text, description = $4::text, entity_tag = $5::text, "
        "modified_by = $6::text, modified_at_ms = $7::bigint "
        "WHERE account_id = $1::text AND id = $2::text AND ($8::text IS NULL OR entity_tag = $8::text)");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t changes = 0, found = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, group->account_id);
    iam_pg_param_text(&params, group->id);
    iam_pg_param_text(&params, group->name);
    iam_pg_param_text(&params, group->description);
    iam_pg_param_text(&params, group->entity_tag);
    iam_pg_param_text(&params, group->modified_by);
    iam_pg_param_int64(&params, group->modified_at_ms);
    iam_pg_param_text(&params, expected_entity_tag);
    result = iam_pg_run(conn, &statement, &params, operation, &changes);
    if (result != IAM_OK || changes > 0)
        goto out;
    /* Nothing changed: the group is not in the account, or its tag is not the expected one. */
    struct iam_pg_params keys = {0};
    bind_texts(&keys, 2, (const char *const[]){group->account_id, group->id});
    result = iam_pg_query_integer(conn, &group_exists, &keys, operation, &found);
    if (result == IAM_OK)
        result = IAM_ECONFLICT;
out:
    return iam_pg_write_end(conn, result, true, operation);
}

/* Members first (they reference the group), then the group's policies, then the group. */
enum iam_result iam_pg_group_delete(struct iam_store *store, const char *account_id, const char *id)
{
    static const char *const operation = "group_delete";
    static struct iam_pg_statement cascades[] = {
        IAM_PG_STATEMENT("DELETE FROM group_members WHERE account_id = $1::text AND group_id = $2::text"),
        IAM_PG_STATEMENT("DELETE FROM policies WHERE account_id = $1::text AND subject_kind = 'access_group_id' "
                         "AND subject_value = $2::text"),
    };
    static struct iam_pg_statement delete_row =
        IAM_PG_STATEMENT("DELETE FROM access_groups WHERE account_id = $1::text AND id = $2::text");
    const char *const keys[] = {account_id, id};
    struct iam_pg_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    for (size_t i = 0; result == IAM_OK && i < sizeof cascades / sizeof cascades[0]; i++)
        result = run_texts(conn, &cascades[i], operation, 2, keys, NULL);
    if (result == IAM_OK)
        result = run_texts(conn, &delete_row, operation, 2, keys, &deleted);
    /* Not in the account: roll back (nothing of another account was touched anyway). */
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_group_count(struct iam_store *store, const char *account_id, int64_t *count)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT count(*) FROM access_groups WHERE account_id = $1::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    return iam_pg_read_integer(store, &statement, &params, "group_count", count);
}

/* --- members --- */

enum iam_result iam_pg_member_read(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_group_member_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->group_id) || !iam_pg_text(arena, result, row, 1, &out->account_id) ||
        !iam_pg_text(arena, result, row, 2, &out->iam_id) || !iam_pg_text(arena, result, row, 3, &out->type) ||
        !iam_pg_text(arena, result, row, 4, &out->created_by))
        return IAM_ENOMEM;
    out->created_at_ms = iam_pg_int64(result, row, 5);
    return IAM_OK;
}

enum iam_result iam_pg_member_add(struct iam_store *store, const struct iam_group_member_record *member)
{
    static const char *const operation = "member_add";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "INSERT INTO group_members (" IAM_PG_MEMBER_COLUMNS ") "
        "SELECT id, account_id, $3::text, $4::text, $5::text, $6::bigint FROM access_groups "
        "WHERE account_id = $1::text AND id = $2::text");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t inserted = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, member->account_id);
    iam_pg_param_text(&params, member->group_id);
    iam_pg_param_text(&params, member->iam_id);
    iam_pg_param_text(&params, member->type);
    iam_pg_param_text(&params, member->created_by);
    iam_pg_param_int64(&params, member->created_at_ms);
    result = iam_pg_run(conn, &statement, &params, operation, &inserted);
    if (result == IAM_OK && inserted == 0)
        result = IAM_ENOTFOUND; /* no such group in the account */
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_member_remove(struct iam_store *store, const char *account_id, const char *group_id,
                                     const char *iam_id)
{
    static const char *const operation = "member_remove";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "DELETE FROM group_members WHERE account_id = $1::text AND group_id = $2::text AND iam_id = $3::text");
    struct iam_pg_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = run_texts(conn, &statement, operation, 3, (const char *const[]){account_id, group_id, iam_id}, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_member_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                  const char *group_id, const char *iam_id, struct iam_group_member_record *out)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " IAM_PG_MEMBER_COLUMNS " FROM group_members "
                         "WHERE account_id = $1::text AND group_id = $2::text AND iam_id = $3::text");
    struct iam_pg_params params = {0};
    bind_texts(&params, 3, (const char *const[]){account_id, group_id, iam_id});
    return iam_pg_read_row(store, &statement, &params, arena, "member_get", iam_pg_member_read, out);
}

/* IAM_ENOTFOUND when the group is not in the account (an empty group is an empty page). */
enum iam_result iam_pg_member_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                   const char *group_id, int64_t offset, int64_t limit,
                                   struct iam_group_member_record **items, size_t *count, int64_t *total)
{
    static const char *const operation = "member_list";
    static struct iam_pg_statement total_sql = IAM_PG_STATEMENT(
        "SELECT count(*) FROM group_members WHERE account_id = $1::text AND group_id = $2::text");
    static struct iam_pg_statement page_sql = IAM_PG_STATEMENT(
        "SELECT " IAM_PG_MEMBER_COLUMNS " FROM group_members WHERE account_id = $1::text AND group_id = $2::text "
        "ORDER BY iam_id ASC LIMIT $3::bigint OFFSET $4::bigint");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    int64_t found = 0, matching = 0;
    void *rows = NULL;
    enum iam_result result = iam_pg_read_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    bind_texts(&params, 2, (const char *const[]){account_id, group_id});
    result = iam_pg_query_integer(conn, &group_exists, &params, operation, &found);
    if (result != IAM_OK)
        goto out;
    result = iam_pg_query_integer(conn, &total_sql, &params, operation, &matching);
    if (result == IAM_ENOTFOUND)
        result = IAM_ESTORE; /* count(*) always returns a row */
    if (result != IAM_OK)
        goto out;
    iam_pg_param_int64(&params, limit);
    iam_pg_param_int64(&params, offset);
    result = iam_pg_collect(conn, &page_sql, &params, arena, operation, sizeof **items, iam_pg_member_read,
                            (size_t)limit, &rows, count, NULL);
    if (result == IAM_OK) {
        *items = rows;
        *total = matching;
    }
out:
    return iam_pg_read_end(conn, result, operation);
}

enum iam_result iam_pg_member_group_count(struct iam_store *store, const char *account_id, const char *iam_id,
                                          int64_t *count)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT count(*) FROM group_members WHERE account_id = $1::text AND iam_id = $2::text");
    struct iam_pg_params params = {0};
    bind_texts(&params, 2, (const char *const[]){account_id, iam_id});
    return iam_pg_read_integer(store, &statement, &params, "member_group_count", count);
}

/* --- registered services --- */

enum iam_result iam_pg_service_def_read(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_service_def_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->name) || !iam_pg_text(arena, result, row, 1, &out->document) ||
        !iam_pg_text(arena, result, row, 2, &out->entity_tag) || !iam_pg_text(arena, result, row, 3, &out->created_by))
        return IAM_ENOMEM;
    out->created_at = iam_pg_int64(result, row, 4);
    out->modified_at = iam_pg_int64(result, row, 5);
    return IAM_OK;
}

enum iam_result iam_pg_service_def_put(struct iam_store *store, const struct iam_service_def_record *service,
                                       const char *expected_entity_tag)
{
    static const char *const operation = "service_def_put";
    static struct iam_pg_statement tag = IAM_PG_STATEMENT("SELECT entity_tag FROM service_defs WHERE name = $1::text");
    static struct iam_pg_statement upsert = IAM_PG_STATEMENT(
        "INSERT INTO service_defs (" IAM_PG_SERVICE_DEF_COLUMNS ") "
        "VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint) "
        "ON CONFLICT (name) DO UPDATE SET document = excluded.document, "
        "entity_tag = excluded.entity_tag, modified_at = excluded.modified_at");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    if (expected_entity_tag) {
        result = iam_pg_check_tag(conn, &tag, service->name, expected_entity_tag, operation);
        if (result != IAM_OK)
            goto out;
    }
    iam_pg_param_text(&params, service->name);
    iam_pg_param_text(&params, service->document);
    iam_pg_param_text(&params, service->entity_tag);
    iam_pg_param_text(&params, service->created_by);
    iam_pg_param_int64(&params, service->created_at);
    iam_pg_param_int64(&params, service->modified_at);
    result = iam_pg_run(conn, &upsert, &params, operation, NULL);
out:
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_service_def_get(struct iam_store *store, struct iam_arena *arena, const char *name,
                                       struct iam_service_def_record *out)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " IAM_PG_SERVICE_DEF_COLUMNS " FROM service_defs WHERE name = $1::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, name);
    return iam_pg_read_row(store, &statement, &params, arena, "service_def_get", iam_pg_service_def_read, out);
}

enum iam_result iam_pg_service_def_list(struct iam_store *store, struct iam_arena *arena,
                                        struct iam_service_def_record **items, size_t *count)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT " IAM_PG_SERVICE_DEF_COLUMNS " FROM service_defs ORDER BY name ASC");
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &statement, NULL, arena, "service_def_list", sizeof **items,
                                              iam_pg_service_def_read, SIZE_MAX, &rows, count, NULL);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

enum iam_result iam_pg_service_def_delete(struct iam_store *store, const char *name)
{
    static const char *const operation = "service_def_delete";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT("DELETE FROM service_defs WHERE name = $1::text");
    struct iam_pg_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = run_texts(conn, &statement, operation, 1, (const char *const[]){name}, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_pg_write_end(conn, result, true, operation);
}

/* --- access-management settings --- */

static enum iam_result read_access_settings(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_access_settings_record *out = item;
    if (!iam_pg_text(arena, result, row, 0, &out->account_id) || !iam_pg_text(arena, result, row, 1, &out->settings) ||
        !iam_pg_text(arena, result, row, 2, &out->entity_tag))
        return IAM_ENOMEM;
    out->modified_at = iam_pg_int64(result, row, 3);
    return IAM_OK;
}

enum iam_result iam_pg_access_settings_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                           struct iam_access_settings_record *out)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "SELECT account_id, settings, entity_tag, modified_at FROM access_settings WHERE account_id = $1::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, account_id);
    return iam_pg_read_row(store, &statement, &params, arena, "access_settings_get", read_access_settings, out);
}

enum iam_result iam_pg_access_settings_put(struct iam_store *store, const struct iam_access_settings_record *settings,
                                           const char *expected_entity_tag)
{
    static const char *const operation = "access_settings_put";
    static struct iam_pg_statement tag =
        IAM_PG_STATEMENT("SELECT entity_tag FROM access_settings WHERE account_id = $1::text");
    static struct iam_pg_statement upsert = IAM_PG_STATEMENT(
        "INSERT INTO access_settings (account_id, settings, entity_tag, modified_at) "
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

/* --- the decision engine's load --- */

/*
 * Every active policy, custom role, group membership, registered service and
 * account, with the revision they correspond to, in one REPEATABLE READ
 * transaction: a write committed meanwhile is either wholly in the snapshot
 * (and in its revision) or wholly absent. The one read that spans accounts on
 * purpose; rows come grouped by account.
 */
enum iam_result iam_pg_access_snapshot(struct iam_store *store, struct iam_arena *arena,
                                       struct iam_access_snapshot *out)
{
    static const char *const operation = "access_snapshot";
    static struct iam_pg_statement revision = IAM_PG_STATEMENT("SELECT value FROM revision WHERE id = 1");
    static struct iam_pg_statement policies_sql =
        IAM_PG_STATEMENT("SELECT " IAM_PG_POLICY_COLUMNS " FROM policies WHERE state = 'active' "
                         "ORDER BY account_id ASC, created_at_ms ASC, id ASC");
    static struct iam_pg_statement roles_sql = IAM_PG_STATEMENT(
        "SELECT " IAM_PG_ROLE_COLUMNS " FROM custom_roles ORDER BY account_id ASC, service_name ASC, name ASC");
    static struct iam_pg_statement members_sql = IAM_PG_STATEMENT(
        "SELECT " IAM_PG_MEMBER_COLUMNS " FROM group_members ORDER BY account_id ASC, group_id ASC, iam_id ASC");
    static struct iam_pg_statement services_sql =
        IAM_PG_STATEMENT("SELECT " IAM_PG_SERVICE_DEF_COLUMNS " FROM service_defs ORDER BY name ASC");
    static struct iam_pg_statement accounts_sql =
        IAM_PG_STATEMENT("SELECT " IAM_PG_ACCOUNT_COLUMNS " FROM accounts ORDER BY id ASC");
    struct iam_access_snapshot snapshot = {0};
    void *policies = NULL, *roles = NULL, *members = NULL, *services = NULL, *accounts = NULL;
    struct iam_pg_conn *conn;
    enum iam_result result = iam_pg_read_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    /* The transaction's snapshot is taken by its first query, this one. */
    result = iam_pg_query_integer(conn, &revision, NULL, operation, &snapshot.revision);
    if (result == IAM_ENOTFOUND)
        result = IAM_ESTORE; /* migration 1 inserts the row */
    if (result == IAM_OK)
        result = iam_pg_collect(conn, &policies_sql, NULL, arena, operation, sizeof *snapshot.policies,
                                iam_pg_policy_read, SIZE_MAX, &policies, &snapshot.policy_count, NULL);
    if (result == IAM_OK)
        result = iam_pg_collect(conn, &roles_sql, NULL, arena, operation, sizeof *snapshot.roles, iam_pg_role_read,
                                SIZE_MAX, &roles, &snapshot.role_count, NULL);
    if (result == IAM_OK)
        result = iam_pg_collect(conn, &members_sql, NULL, arena, operation, sizeof *snapshot.members,
                                iam_pg_member_read, SIZE_MAX, &members, &snapshot.member_count, NULL);
    if (result == IAM_OK)
        result = iam_pg_collect(conn, &services_sql, NULL, arena, operation, sizeof *snapshot.services,
                                iam_pg_service_def_read, SIZE_MAX, &services, &snapshot.service_count, NULL);
    if (result == IAM_OK)
        result = iam_pg_collect(conn, &accounts_sql, NULL, arena, operation, sizeof *snapshot.accounts,
                                iam_pg_account_read, SIZE_MAX, &accounts, &snapshot.account_count, NULL);
    result = iam_pg_read_end(conn, result, operation);
    if (result == IAM_OK) {
        snapshot.policies = policies;
        snapshot.roles = roles;
        snapshot.members = members;
        snapshot.services = services;
        snapshot.accounts = accounts;
        *out = snapshot;
    }
    return result;
}
