/*
 * sqlite_access_snapshot.c: the decision engine's load, every active policy,
 * custom role, group membership, registered service and account of the
 * instance, with the store revision they correspond to.
 *
 * All six queries run in one read transaction on one connection, so the
 * snapshot is one committed state: a write committed while it is read is
 * either wholly in it (and in its revision) or wholly absent. This is the one
 * read that spans accounts on purpose; rows come grouped by account.
 */
#include "store/sqlite_internal.h"

/* Runs a query with no parameters and reads all its rows into an arena array. */
static enum iam_result read_all(struct iam_sqlite_conn *conn, struct iam_arena *arena, enum iam_sqlite_statement slot,
                                const char *sql, size_t item_size,
                                enum iam_result (*read_row)(struct iam_arena *arena, sqlite3_stmt *statement,
                                                            void *item),
                                void **items, size_t *count)
{
    static const char *const operation = "access_snapshot";
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        return result;
    return iam_sqlite_collect(conn, statement, arena, operation, item_size, read_row, SIZE_MAX, items, count, NULL);
}

enum iam_result iam_sqlite_access_snapshot(struct iam_store *base, struct iam_arena *arena,
                                           struct iam_access_snapshot *out)
{
    static const char *const operation = "access_snapshot";
    struct iam_access_snapshot snapshot = {0};
    void *policies = NULL, *roles = NULL, *members = NULL, *services = NULL, *accounts = NULL;
    struct iam_sqlite_conn *conn;
    enum iam_result result = iam_sqlite_read_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    /* The revision first: the read transaction's view is fixed by its first SELECT. */
    result = iam_sqlite_query_integer(conn, IAM_SQLITE_STMT_SNAPSHOT_REVISION,
                                      "SELECT value FROM revision WHERE id = 1", operation, 0, NULL,
                                      &snapshot.revision);
    if (result == IAM_ENOTFOUND)
        result = IAM_ESTORE; /* migration 1 inserts the row */
    if (result != IAM_OK)
        goto out;
    result = read_all(conn, arena, IAM_SQLITE_STMT_SNAPSHOT_POLICIES,
                      "SELECT " IAM_SQLITE_POLICY_COLUMNS " FROM policies WHERE state = 'active' "
                      "ORDER BY account_id ASC, created_at_ms ASC, id ASC",
                      sizeof *snapshot.policies, iam_sqlite_policy_read, &policies, &snapshot.policy_count);
    if (result != IAM_OK)
        goto out;
    result = read_all(conn, arena, IAM_SQLITE_STMT_SNAPSHOT_ROLES,
                      "SELECT " IAM_SQLITE_ROLE_COLUMNS " FROM custom_roles "
                      "ORDER BY account_id ASC, service_name ASC, name ASC",
                      sizeof *snapshot.roles, iam_sqlite_role_read, &roles, &snapshot.role_count);
    if (result != IAM_OK)
        goto out;
    result = read_all(conn, arena, IAM_SQLITE_STMT_SNAPSHOT_MEMBERS,
                      "SELECT " IAM_SQLITE_MEMBER_COLUMNS " FROM group_members "
                      "ORDER BY account_id ASC, group_id ASC, iam_id ASC",
                      sizeof *snapshot.members, iam_sqlite_member_read, &members, &snapshot.member_count);
    if (result != IAM_OK)
        goto out;
    result = read_all(conn, arena, IAM_SQLITE_STMT_SNAPSHOT_SERVICES,
                      "SELECT " IAM_SQLITE_SERVICE_DEF_COLUMNS " FROM service_defs ORDER BY name ASC",
                      sizeof *snapshot.services, iam_sqlite_service_def_read, &services, &snapshot.service_count);
    if (result != IAM_OK)
        goto out;
    result = read_all(conn, arena, IAM_SQLITE_STMT_SNAPSHOT_ACCOUNTS,
                      "SELECT " IAM_SQLITE_ACCOUNT_COLUMNS " FROM accounts ORDER BY id ASC",
                      sizeof *snapshot.accounts, iam_sqlite_account_read, &accounts, &snapshot.account_count);
out:
    result = iam_sqlite_read_end(conn, result, operation);
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
