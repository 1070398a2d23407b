/*
 * sqlite_access_groups.c: SQLite rows of access groups and their members.
 *
 * A group's name is unique in its account regardless of ASCII case (the
 * unique index uses COLLATE NOCASE), and name sorting ignores ASCII case too.
 * A member row carries the account of its group: it is inserted by
 * INSERT ... SELECT from the group row of the caller's account, so a member
 * can never join another account's group. Deleting a group deletes its
 * members and the policies whose subject it is, in one transaction.
 *
 * The group search is a case-insensitive substring of the name or the
 * description (instr over lower(), ASCII case folding, '%' and '_' literal).
 * A page and its total are read in one read transaction so they agree.
 * Members are listed by iam_id (the primary key order).
 */
#include "store/sqlite_internal.h"

#define GROUP_COLUMNS \
    "id, account_id, name, description, entity_tag, created_by, modified_by, created_at_ms, modified_at_ms"

/* ?1 account, ?2 member iam_id, ?3 search text. */
#define GROUP_FILTER                                                                                        \
    " FROM access_groups WHERE account_id = ?1"                                                             \
    " AND (?2 IS NULL OR id IN (SELECT group_id FROM group_members WHERE account_id = ?1 AND iam_id = ?2))" \
    " AND (?3 IS NULL OR instr(lower(name), lower(?3)) > 0 OR instr(lower(description), lower(?3)) > 0)"

/* The filter's parameters, then ?4 limit, ?5 offset. */
#define GROUP_LIST_SQL(order_by) "SELECT " GROUP_COLUMNS GROUP_FILTER " ORDER BY " order_by " LIMIT ?4 OFFSET ?5"

static const char *const list_sql[IAM_STORE_GROUP_SORT_COUNT][2] = {
    [IAM_STORE_GROUP_SORT_NAME] = {[IAM_SORT_ASC] = GROUP_LIST_SQL("name COLLATE NOCASE ASC, id ASC"),
                                   [IAM_SORT_DESC] = GROUP_LIST_SQL("name COLLATE NOCASE DESC, id DESC")},
    [IAM_STORE_GROUP_SORT_DESCRIPTION] =
        {[IAM_SORT_ASC] = GROUP_LIST_SQL("description COLLATE NOCASE ASC NULLS FIRST, id ASC"),
         [IAM_SORT_DESC] = GROUP_LIST_SQL("description COLLATE NOCASE DESC NULLS LAST, id DESC")},
    [IAM_STORE_GROUP_SORT_CREATED_AT] = {[IAM_SORT_ASC] = GROUP_LIST_SQL("created_at_ms ASC, id ASC"),
                                         [IAM_SORT_DESC] = GROUP_LIST_SQL("created_at_ms DESC, id DESC")},
};

static const char group_exists_sql[] = "SELECT 1 FROM access_groups WHERE account_id = ?1 AND id = ?2";

static enum iam_result read_group(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_group_record *out = item;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->account_id) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->name) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->description) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->entity_tag) ||
        !iam_sqlite_column_text(arena, statement, 5, &out->created_by) ||
        !iam_sqlite_column_text(arena, statement, 6, &out->modified_by))
        return IAM_ENOMEM;
    out->created_at_ms = sqlite3_column_int64(statement, 7);
    out->modified_at_ms = sqlite3_column_int64(statement, 8);
    return IAM_OK;
}

/* --- groups --- */

enum iam_result iam_sqlite_group_insert(struct iam_store *base, const struct iam_group_record *group)
{
    static const char *const operation = "group_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_GROUP_INSERT,
                                "INSERT INTO access_groups (" GROUP_COLUMNS ") "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, group->id) || iam_sqlite_bind_text(statement, 2, group->account_id) ||
        iam_sqlite_bind_text(statement, 3, group->name) || iam_sqlite_bind_text(statement, 4, group->description) ||
        iam_sqlite_bind_text(statement, 5, group->entity_tag) ||
        iam_sqlite_bind_text(statement, 6, group->created_by) ||
        iam_sqlite_bind_text(statement, 7, group->modified_by) ||
        iam_sqlite_bind_int64(statement, 8, group->created_at_ms) ||
        iam_sqlite_bind_int64(statement, 9, group->modified_at_ms)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_group_get(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                     const char *id, struct iam_group_record *out)
{
    static const char *const operation = "group_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_GROUP_GET,
                                "SELECT " GROUP_COLUMNS " FROM access_groups WHERE account_id = ?1 AND id = ?2",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, id)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        result = read_group(arena, statement, out);
out:
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_group_list(struct iam_store *base, struct iam_arena *arena,
                                      const struct iam_group_query *query, enum iam_store_group_sort sort,
                                      struct iam_group_record **items, size_t *count, int64_t *total)
{
    static const char *const operation = "group_list";
    const char *const filter[] = {query->account_id, query->member_iam_id, query->search};
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t matching = 0;
    void *rows = NULL;
    int order = query->order == IAM_SORT_DESC ? IAM_SORT_DESC : IAM_SORT_ASC;
    enum iam_result result = iam_sqlite_read_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_GROUP_LIST_TOTAL, "SELECT count(*)" GROUP_FILTER,
                                      operation, 3, filter, &matching);
    if (result == IAM_ENOTFOUND)
        result = IAM_ESTORE; /* count(*) always returns a row */
    if (result != IAM_OK)
        goto out;
    result = iam_sqlite_prepare(conn, (enum iam_sqlite_statement)(IAM_SQLITE_STMT_GROUP_LIST + 2 * (int)sort + order),
                                list_sql[sort][order], &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, filter[0]) || iam_sqlite_bind_text(statement, 2, filter[1]) ||
        iam_sqlite_bind_text(statement, 3, filter[2]) || iam_sqlite_bind_int64(statement, 4, query->limit) ||
        iam_sqlite_bind_int64(statement, 5, query->offset)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_collect(conn, statement, arena, operation, sizeof **items, read_group, (size_t)query->limit,
                                &rows, count, NULL);
    if (result == IAM_OK) {
        *items = rows;
        *total = matching;
    }
out:
    return iam_sqlite_read_end(conn, result, operation);
}

enum iam_result iam_sqlite_group_update(struct iam_store *base, const struct iam_group_record *group,
                                        const char *expected_entity_tag)
{
    static const char *const operation = "group_update";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t changes = 0, found = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_GROUP_UPDATE,
                                "UPDATE access_groups SET name = ?3, description = ?4, entity_tag = ?5, "
                                "modified_by = ?6, modified_at_ms = ?7 "
                                "WHERE account_id = ?1 AND id = ?2 AND (?8 IS NULL OR entity_tag = ?8)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, group->account_id) || iam_sqlite_bind_text(statement, 2, group->id) ||
        iam_sqlite_bind_text(statement, 3, group->name) || iam_sqlite_bind_text(statement, 4, group->description) ||
        iam_sqlite_bind_text(statement, 5, group->entity_tag) ||
        iam_sqlite_bind_text(statement, 6, group->modified_by) ||
        iam_sqlite_bind_int64(statement, 7, group->modified_at_ms) ||
        iam_sqlite_bind_text(statement, 8, expected_entity_tag)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, &changes);
    if (result != IAM_OK || changes > 0)
        goto out;
    /* Nothing changed: the group is not in the account, or its tag is not the expected one. */
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_GROUP_EXISTS, group_exists_sql, operation, 2,
                                      (const char *const[]){group->account_id, group->id}, &found);
    if (result == IAM_OK)
        result = IAM_ECONFLICT;
out:
    return iam_sqlite_write_end(conn, result, operation);
}

/* Members first (they reference the group), then the group's policies, then the group. */
enum iam_result iam_sqlite_group_delete(struct iam_store *base, const char *account_id, const char *id)
{
    static const char *const operation = "group_delete";
    const char *const keys[] = {account_id, id};
    struct iam_sqlite_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_GROUP_DELETE_MEMBERS,
                                  "DELETE FROM group_members WHERE account_id = ?1 AND group_id = ?2", operation, 2,
                                  keys, NULL);
    if (result != IAM_OK)
        goto out;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_GROUP_DELETE_POLICIES,
                                  "DELETE FROM policies WHERE account_id = ?1 AND subject_kind = 'access_group_id' "
                                  "AND subject_value = ?2",
                                  operation, 2, keys, NULL);
    if (result != IAM_OK)
        goto out;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_GROUP_DELETE,
                                  "DELETE FROM access_groups WHERE account_id = ?1 AND id = ?2", operation, 2, keys,
                                  &deleted);
    /* Not in the account: roll back (nothing of another account was touched anyway). */
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_group_count(struct iam_store *base, const char *account_id, int64_t *count)
{
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_GROUP_COUNT,
                                      "SELECT count(*) FROM access_groups WHERE account_id = ?1", "group_count", 1,
                                      (const char *const[]){account_id}, count);
    return result == IAM_ENOTFOUND ? IAM_ESTORE : result;
}

/* --- members --- */

enum iam_result iam_sqlite_member_read(struct iam_arena *arena, sqlite3_stmt *statement, void *item)
{
    struct iam_group_member_record *out = item;
    if (!iam_sqlite_column_text(arena, statement, 0, &out->group_id) ||
        !iam_sqlite_column_text(arena, statement, 1, &out->account_id) ||
        !iam_sqlite_column_text(arena, statement, 2, &out->iam_id) ||
        !iam_sqlite_column_text(arena, statement, 3, &out->type) ||
        !iam_sqlite_column_text(arena, statement, 4, &out->created_by))
        return IAM_ENOMEM;
    out->created_at_ms = sqlite3_column_int64(statement, 5);
    return IAM_OK;
}

enum iam_result iam_sqlite_member_add(struct iam_store *base, const struct iam_group_member_record *member)
{
    static const char *const operation = "member_add";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t inserted = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_MEMBER_ADD,
                                "INSERT INTO group_members (" IAM_SQLITE_MEMBER_COLUMNS ") "
                                "SELECT id, account_id, ?3, ?4, ?5, ?6 FROM access_groups "
                                "WHERE account_id = ?1 AND id = ?2",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, member->account_id) ||
        iam_sqlite_bind_text(statement, 2, member->group_id) || iam_sqlite_bind_text(statement, 3, member->iam_id) ||
        iam_sqlite_bind_text(statement, 4, member->type) || iam_sqlite_bind_text(statement, 5, member->created_by) ||
        iam_sqlite_bind_int64(statement, 6, member->created_at_ms)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, &inserted);
    if (result == IAM_OK && inserted == 0)
        result = IAM_ENOTFOUND; /* no such group in the account */
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_member_remove(struct iam_store *base, const char *account_id, const char *group_id,
                                         const char *iam_id)
{
    static const char *const operation = "member_remove";
    struct iam_sqlite_conn *conn;
    int64_t deleted = 0;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_run_texts(conn, IAM_SQLITE_STMT_MEMBER_REMOVE,
                                  "DELETE FROM group_members WHERE account_id = ?1 AND group_id = ?2 AND iam_id = ?3",
                                  operation, 3, (const char *const[]){account_id, group_id, iam_id}, &deleted);
    if (result == IAM_OK && deleted == 0)
        result = IAM_ENOTFOUND;
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_member_get(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                      const char *group_id, const char *iam_id, struct iam_group_member_record *out)
{
    static const char *const operation = "member_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_MEMBER_GET,
                                "SELECT " IAM_SQLITE_MEMBER_COLUMNS " FROM group_members "
                                "WHERE account_id = ?1 AND group_id = ?2 AND iam_id = ?3",
                                &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, group_id) ||
        iam_sqlite_bind_text(statement, 3, iam_id)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK)
        result = iam_sqlite_member_read(arena, statement, out);
out:
    iam_sqlite_reset(statement);
    return result;
}

/* IAM_ENOTFOUND when the group is not in the account (an empty group is an empty page). */
enum iam_result iam_sqlite_member_list(struct iam_store *base, struct iam_arena *arena, const char *account_id,
                                       const char *group_id, int64_t offset, int64_t limit,
                                       struct iam_group_member_record **items, size_t *count, int64_t *total)
{
    static const char *const operation = "member_list";
    const char *const keys[] = {account_id, group_id};
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    int64_t found = 0, matching = 0;
    void *rows = NULL;
    enum iam_result result = iam_sqlite_read_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_GROUP_EXISTS, group_exists_sql, operation, 2, keys,
                                      &found);
    if (result != IAM_OK)
        goto out;
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_MEMBER_LIST_TOTAL,
                                      "SELECT count(*) FROM group_members WHERE account_id = ?1 AND group_id = ?2",
                                      operation, 2, keys, &matching);
    if (result == IAM_ENOTFOUND)
        result = IAM_ESTORE; /* count(*) always returns a row */
    if (result != IAM_OK)
        goto out;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_MEMBER_LIST,
                                "SELECT " IAM_SQLITE_MEMBER_COLUMNS " FROM group_members "
                                "WHERE account_id = ?1 AND group_id = ?2 ORDER BY iam_id ASC LIMIT ?3 OFFSET ?4",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, account_id) || iam_sqlite_bind_text(statement, 2, group_id) ||
        iam_sqlite_bind_int64(statement, 3, limit) || iam_sqlite_bind_int64(statement, 4, offset)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_collect(conn, statement, arena, operation, sizeof **items, iam_sqlite_member_read,
                                (size_t)limit, &rows, count, NULL);
    if (result == IAM_OK) {
        *items = rows;
        *total = matching;
    }
out:
    return iam_sqlite_read_end(conn, result, operation);
}

enum iam_result iam_sqlite_member_group_count(struct iam_store *base, const char *account_id, const char *iam_id,
                                              int64_t *count)
{
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_MEMBER_GROUP_COUNT,
                                      "SELECT count(*) FROM group_members WHERE account_id = ?1 AND iam_id = ?2",
                                      "member_group_count", 2, (const char *const[]){account_id, iam_id}, count);
    return result == IAM_ENOTFOUND ? IAM_ESTORE : result;
}
