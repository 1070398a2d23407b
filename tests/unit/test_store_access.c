/*
 * test_store_access.c: the access side of the store interface (store_access.h)
 * over its SQLite backend: migration 2, policies, custom roles, access groups
 * and members, registered services, access settings, account and user
 * administration, cascades, the engine's snapshot, threads, and the identity
 * activity tables (users' sign-ins, the inactive-identities scan, stored
 * reports).
 *
 * Each test opens a fresh database in its own mkdtemp directory under /tmp
 * and removes it afterwards. Some checks read the file with sqlite3 directly
 * to see what the interface hides (tables, rows left behind by cascades).
 * With IAMD_TEST_STORE set to a PostgreSQL URL the same tests run against
 * the PostgreSQL backend, one fresh database per test (see support/store_location.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/log.h"
#include "store/store.h"
#include "store/store_access.h"
#include "store/store_activity.h"
#include "support/store_location.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ACCOUNT_C "cccccccccccccccccccccccccccccccc"

#define USER_1 "IBMid-USER000001"
#define USER_2 "IBMid-USER000002"
#define USER_B "IBMid-USERB00001"

#define TAG_1 "1-00000000000000000000000000000001"
#define TAG_2 "2-00000000000000000000000000000002"
#define TAG_3 "3-00000000000000000000000000000003"

struct fixture {
    struct test_store_location location;
    struct iam_store *store;
    struct iam_arena *arena;
};

/* --- helpers --- */

static void reopen_store(struct fixture *f)
{
    iam_store_close(f->store);
    f->store = test_store_open(f->location.path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_store_location_create(&f->location, "access");
    f->store = test_store_open(f->location.path);
    f->arena = iam_arena_new();
    assert_non_null(f->arena);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    iam_store_close(f->store);
    iam_arena_free(f->arena);
    test_store_location_remove(&f->location);
    free(f);
    return 0;
}

static void add_account(struct iam_store *store, const char *id, int64_t created_at)
{
    struct iam_account_record account = {
        .id = id, .name = "an account", .owner_iam_id = "IBMid-OWNER00001", .state = "ACTIVE",
        .created_at = created_at, .modified_at = created_at,
    };
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
}

static struct iam_user_record user_record(const char *account_id, const char *iam_id, const char *login,
                                          int64_t created_at)
{
    struct iam_user_record user = {
        .iam_id = iam_id, .account_id = account_id, .login = login, .email = login, .given_name = "Ada",
        .family_name = "Lovelace", .state = "ACTIVE", .entity_tag = TAG_1, .created_at = created_at,
        .modified_at = created_at,
    };
    return user;
}

static void add_user(struct iam_store *store, const char *account_id, const char *iam_id, const char *login,
                     int64_t created_at)
{
    struct iam_user_record user = user_record(account_id, iam_id, login, created_at);
    assert_int_equal(iam_store_user_insert(store, &user), IAM_OK);
}

static int64_t revision_of(struct iam_store *store)
{
    int64_t revision = -1;
    assert_int_equal(iam_store_revision(store, &revision), IAM_OK);
    return revision;
}

/* A policy numbered `n` on a subject; strings live in `arena`. */
static struct iam_policy_record policy_record(struct iam_arena *arena, const char *account_id, int n,
                                              const char *subject_kind, const char *subject_value)
{
    struct iam_policy_record policy = {
        .id = iam_arena_printf(arena, "00000000-0000-4000-8000-%012d", n),
        .account_id = account_id,
        .type = "access",
        .api_version = "v2",
        .subject_kind = subject_kind,
        .subject_value = subject_value,
        .service_name = "iam-identity",
        .document = iam_arena_printf(arena, "{\"type\":\"access\",\"n\":%d}", n),
        .state = "active",
        .entity_tag = TAG_1,
        .created_by = "IBMid-OWNER00001",
        .modified_by = "IBMid-OWNER00001",
        .created_at_ms = 1700000000000 + n,
        .modified_at_ms = 1700000000000 + n,
    };
    return policy;
}

static struct iam_role_record role_record(struct iam_arena *arena, const char *account_id, int n, const char *name,
                                          const char *service_name)
{
    struct iam_role_record role = {
        .id = iam_arena_printf(arena, "customRole-%032d-%s", n, name),
        .account_id = account_id,
        .name = name,
        .display_name = iam_arena_printf(arena, "Role %d", n),
        .description = "a role",
        .service_name = service_name,
        .actions = "[\"iam-identity.serviceid.get\"]",
        .crn = iam_arena_printf(arena, "crn:v1:bluemix:public:iam::::role:%s", name),
        .entity_tag = TAG_1,
        .created_by = "IBMid-OWNER00001",
        .modified_by = "IBMid-OWNER00001",
        .created_at_ms = 1700000000000 + n,
        .modified_at_ms = 1700000000000 + n,
    };
    return role;
}

static struct iam_group_record group_record(struct iam_arena *arena, const char *account_id, int n, const char *name,
                                            const char *description)
{
    struct iam_group_record group = {
        .id = iam_arena_printf(arena, "AccessGroupId-00000000-0000-4000-8000-%012d", n),
        .account_id = account_id,
        .name = name,
        .description = description,
        .entity_tag = TAG_1,
        .created_by = "IBMid-OWNER00001",
        .modified_by = "IBMid-OWNER00001",
        .created_at_ms = 1700000000000 + n,
        .modified_at_ms = 1700000000000 + n,
    };
    return group;
}

static void add_member(struct iam_store *store, const char *account_id, const char *group_id, const char *iam_id)
{
    struct iam_group_member_record member = {
        .group_id = group_id, .account_id = account_id, .iam_id = iam_id, .type = "user",
        .created_by = "IBMid-OWNER00001", .created_at_ms = 1700000000000,
    };
    assert_int_equal(iam_store_member_add(store, &member), IAM_OK);
}

static struct iam_apikey_record apikey_record(struct iam_arena *arena, const char *account_id, const char *iam_id,
                                              int n)
{
    struct iam_apikey_record record = {
        .id = iam_arena_printf(arena, "ApiKey-00000000-0000-4000-8000-%012d", n),
        .account_id = account_id,
        .iam_id = iam_id,
        .name = "key",
        .created_by = iam_id,
        .entity_tag = TAG_1,
        .action_when_leaked = "none",
        .created_at = 1700000000 + n,
        .modified_at = 1700000000 + n,
    };
    for (int i = 0; i < IAM_RECORD_HASH_SIZE; i++)
        record.hash[i] = (uint8_t)(n * 31 + i * 7);
    return record;
}

static void add_apikey_with_history(struct fixture *f, const char *account_id, const char *iam_id, int n)
{
    struct iam_apikey_record key = apikey_record(f->arena, account_id, iam_id, n);
    struct iam_history_record history = {
        .entity_id = key.id, .timestamp = 1700000000, .iam_id = iam_id, .iam_id_account = account_id,
        .action = "CreateApiKey", .params = "[]", .message = "created",
    };
    assert_int_equal(iam_store_apikey_insert(f->store, &key, &history), IAM_OK);
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

static void raw_exec(const char *path, const char *sql)
{
    if (test_is_postgres(path)) {
        test_postgres_exec(path, sql);
        return;
    }
    sqlite3 *db = raw_open(path);
    char *message = NULL;
    int code = sqlite3_exec(db, sql, NULL, NULL, &message);
    if (code != SQLITE_OK)
        fail_msg("raw_exec: %s", message ? message : "?");
    sqlite3_free(message);
    sqlite3_close(db);
}

static const char *const access_tables[] = {"policies",      "custom_roles", "access_groups",
                                            "group_members", "service_defs", "access_settings"};

static void assert_access_tables(const char *path, int64_t expected)
{
    char sql[200];
    for (size_t i = 0; i < sizeof access_tables / sizeof access_tables[0]; i++) {
        snprintf(sql, sizeof sql,
                 test_is_postgres(path) ? "SELECT count(*) FROM information_schema.tables WHERE table_name = '%s' "
                                          "AND table_schema = current_schema()"
                                        : "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'",
                 access_tables[i]);
        assert_int_equal(test_store_integer(path, sql), expected);
    }
}

/* --- migration 2 --- */

static void test_migration_fresh(void **state)
{
    struct fixture *f = *state;
    int64_t version = 0;
    assert_int_equal(iam_store_schema_version(f->store, &version), IAM_OK);
    assert_true(version >= 2);
    assert_access_tables(f->location.path, 1);
    assert_int_equal(test_store_integer(f->location.path, test_is_postgres(f->location.path)
                                              ? "SELECT count(*) FROM pg_indexes WHERE indexname IN "
                                                "('policies_account_subject', 'policies_account_state_created', "
                                                "'access_groups_account_name', 'group_members_account_iam_id')"
                                              : "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                                                "('policies_account_subject', 'policies_account_state_created', "
                                                "'access_groups_account_name', 'group_members_account_iam_id')"),
                     4);
    /* Every new table is STRICT (SQLite; PostgreSQL columns are always typed). */
    if (!test_is_postgres(f->location.path))
        assert_int_equal(test_store_integer(f->location.path,
                                            "SELECT count(*) FROM pragma_table_list WHERE strict = 1 AND name IN "
                                            "('policies', 'custom_roles', 'access_groups', 'group_members', "
                                            "'service_defs', 'access_settings')"),
                         6);
    /* Reopening applies nothing twice. */
    int64_t latest = version;
    reopen_store(f);
    assert_int_equal(iam_store_schema_version(f->store, &version), IAM_OK);
    assert_int_equal(version, latest);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM schema_migrations"), latest);
}

/*
 * A database as migration 1 left it (the store's version 1 schema, with data):
 * the tables and columns of later migrations are dropped and their versions
 * forgotten, then the reopen applies migration 2 onwards and the old rows work
 * with the new functions.
 */
static void test_migration_upgrade_from_1(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_user(f->store, ACCOUNT_A, USER_1, "one@example.com", 1700000001);
    add_apikey_with_history(f, ACCOUNT_A, USER_1, 1);
    iam_store_close(f->store);
    f->store = NULL;
    raw_exec(f->location.path, "DROP TABLE group_members; DROP TABLE access_groups; DROP TABLE policies; "
                               "DROP TABLE custom_roles; DROP TABLE service_defs; DROP TABLE access_settings; "
                               "DROP TABLE audit_events; DROP TABLE activity_reports; DROP TABLE console_sessions; ALTER TABLE users DROP COLUMN last_authn; "
                               "DELETE FROM schema_migrations WHERE version >= 2");
    if (test_is_postgres(f->location.path))
        raw_exec(f->location.path, "DROP FUNCTION audit_events_append_only()");
    assert_access_tables(f->location.path, 0);
    assert_int_equal(test_store_integer(f->location.path, "SELECT max(version) FROM schema_migrations"), 1);

    f->store = test_store_open(f->location.path);
    int64_t version = 0;
    assert_int_equal(iam_store_schema_version(f->store, &version), IAM_OK);
    assert_true(version >= 2); /* migration 2 and every later one */
    assert_access_tables(f->location.path, 1);

    /* The version 1 rows are there and the access side works on them. */
    struct iam_user_record *users = NULL;
    size_t count = 0;
    bool more = true;
    assert_int_equal(iam_store_user_list(f->store, f->arena, ACCOUNT_A, 0, 10, &users, &count, &more), IAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(users[0].iam_id, USER_1);
    struct iam_group_record group = group_record(f->arena, ACCOUNT_A, 1, "admins", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &group), IAM_OK);
    add_member(f->store, ACCOUNT_A, group.id, USER_1);
    assert_int_equal(iam_store_user_delete(f->store, ACCOUNT_A, USER_1), IAM_OK);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM apikeys"), 0);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM history"), 0);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM group_members"), 0);
}

/* --- accounts and users --- */

static void test_account_list_update(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_C, 1700000001);
    add_account(f->store, ACCOUNT_A, 1700000002);
    add_account(f->store, ACCOUNT_B, 1700000002);

    struct iam_account_record *items = NULL;
    size_t count = 0;
    bool more = false;
    assert_int_equal(iam_store_account_list(f->store, f->arena, 0, 2, &items, &count, &more), IAM_OK);
    assert_int_equal(count, 2);
    assert_true(more);
    assert_string_equal(items[0].id, ACCOUNT_C); /* created first */
    assert_string_equal(items[1].id, ACCOUNT_A); /* same time as B: by id */
    assert_string_equal(items[1].owner_iam_id, "IBMid-OWNER00001");
    assert_int_equal(iam_store_account_list(f->store, f->arena, 2, 2, &items, &count, &more), IAM_OK);
    assert_int_equal(count, 1);
    assert_false(more);
    assert_string_equal(items[0].id, ACCOUNT_B);
    assert_int_equal(iam_store_account_list(f->store, f->arena, 0, 0, &items, &count, &more), IAM_EINVAL);
    assert_int_equal(iam_store_account_list(f->store, f->arena, -1, 10, &items, &count, &more), IAM_EINVAL);

    int64_t before = revision_of(f->store);
    struct iam_account_record updated = {
        .id = ACCOUNT_A, .name = "renamed", .owner_iam_id = USER_1, .state = "DISABLED",
        .created_at = 1, .modified_at = 1800000000,
    };
    assert_int_equal(iam_store_account_update(f->store, &updated), IAM_OK);
    assert_int_equal(revision_of(f->store), before + 1);
    struct iam_account_record read;
    assert_int_equal(iam_store_account_get(f->store, f->arena, ACCOUNT_A, &read), IAM_OK);
    assert_string_equal(read.name, "renamed");
    assert_string_equal(read.owner_iam_id, USER_1);
    assert_string_equal(read.state, "DISABLED");
    assert_int_equal(read.created_at, 1700000002); /* not the update's to change */
    assert_int_equal(read.modified_at, 1800000000);

    updated.id = "dddddddddddddddddddddddddddddddd";
    assert_int_equal(iam_store_account_update(f->store, &updated), IAM_ENOTFOUND);
    updated.id = ACCOUNT_B;
    updated.name = NULL;
    assert_int_equal(iam_store_account_update(f->store, &updated), IAM_EINVAL);
    assert_int_equal(revision_of(f->store), before + 1);
}

static void test_user_list_update(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    add_user(f->store, ACCOUNT_A, USER_2, "two@example.com", 1700000002);
    add_user(f->store, ACCOUNT_A, USER_1, "one@example.com", 1700000001);
    add_user(f->store, ACCOUNT_B, USER_B, "b@example.com", 1700000000);

    struct iam_user_record *items = NULL;
    size_t count = 0;
    bool more = true;
    assert_int_equal(iam_store_user_list(f->store, f->arena, ACCOUNT_A, 0, 10, &items, &count, &more), IAM_OK);
    assert_int_equal(count, 2);
    assert_false(more);
    assert_string_equal(items[0].iam_id, USER_1);
    assert_string_equal(items[1].iam_id, USER_2);
    assert_int_equal(iam_store_user_list(f->store, f->arena, ACCOUNT_A, 1, 1, &items, &count, &more), IAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(items[0].iam_id, USER_2);
    assert_int_equal(iam_store_user_list(f->store, f->arena, ACCOUNT_C, 0, 10, &items, &count, &more), IAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(iam_store_user_list(f->store, f->arena, ACCOUNT_A, 0, 101, &items, &count, &more), IAM_EINVAL);

    struct iam_user_record updated = user_record(ACCOUNT_A, USER_1, "uno@example.com", 5);
    updated.given_name = "Grace";
    updated.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    updated.state = "DISABLED";
    updated.entity_tag = TAG_2;
    updated.modified_at = 1800000000;
    assert_int_equal(iam_store_user_update(f->store, &updated, TAG_1), IAM_OK);
    struct iam_user_record read;
    assert_int_equal(iam_store_user_get(f->store, f->arena, ACCOUNT_A, USER_1, &read), IAM_OK);
    assert_string_equal(read.login, "uno@example.com");
    assert_string_equal(read.given_name, "Grace");
    assert_string_equal(read.state, "DISABLED");
    assert_string_equal(read.password_hash, updated.password_hash);
    assert_string_equal(read.entity_tag, TAG_2);
    assert_int_equal(read.created_at, 1700000001);
    assert_int_equal(read.modified_at, 1800000000);

    /* Stale tag, another account, a login taken: nothing changes. */
    int64_t before = revision_of(f->store);
    updated.entity_tag = TAG_3;
    updated.given_name = "Nobody";
    assert_int_equal(iam_store_user_update(f->store, &updated, TAG_1), IAM_ECONFLICT);
    updated.account_id = ACCOUNT_B;
    assert_int_equal(iam_store_user_update(f->store, &updated, TAG_2), IAM_ENOTFOUND);
    assert_int_equal(iam_store_user_update(f->store, &updated, NULL), IAM_ENOTFOUND);
    updated.account_id = ACCOUNT_A;
    updated.login = "two@example.com";
    assert_int_equal(iam_store_user_update(f->store, &updated, NULL), IAM_ECONFLICT);
    assert_int_equal(revision_of(f->store), before);
    assert_int_equal(iam_store_user_get(f->store, f->arena, ACCOUNT_A, USER_1, &read), IAM_OK);
    assert_string_equal(read.given_name, "Grace");
    /* No tag: any version. */
    updated.login = "uno@example.com";
    assert_int_equal(iam_store_user_update(f->store, &updated, NULL), IAM_OK);
    assert_int_equal(iam_store_user_get(f->store, f->arena, ACCOUNT_A, USER_1, &read), IAM_OK);
    assert_string_equal(read.given_name, "Nobody");
    assert_string_equal(read.entity_tag, TAG_3);
}

static void test_user_delete_cascades(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    add_user(f->store, ACCOUNT_A, USER_1, "one@example.com", 1);
    add_user(f->store, ACCOUNT_A, USER_2, "two@example.com", 2);
    add_user(f->store, ACCOUNT_B, USER_B, "b@example.com", 3);
    add_apikey_with_history(f, ACCOUNT_A, USER_1, 1);
    add_apikey_with_history(f, ACCOUNT_A, USER_1, 2);
    add_apikey_with_history(f, ACCOUNT_A, USER_2, 3);
    struct iam_group_record g1 = group_record(f->arena, ACCOUNT_A, 1, "one", NULL);
    struct iam_group_record g2 = group_record(f->arena, ACCOUNT_A, 2, "two", NULL);
    struct iam_group_record gb = group_record(f->arena, ACCOUNT_B, 3, "bee", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &g1), IAM_OK);
    assert_int_equal(iam_store_group_insert(f->store, &g2), IAM_OK);
    assert_int_equal(iam_store_group_insert(f->store, &gb), IAM_OK);
    add_member(f->store, ACCOUNT_A, g1.id, USER_1);
    add_member(f->store, ACCOUNT_A, g2.id, USER_1);
    add_member(f->store, ACCOUNT_A, g1.id, USER_2);
    /* Rows naming USER_1 in another account (the domain would refuse them): the boundary holds. */
    add_member(f->store, ACCOUNT_B, gb.id, USER_1);
    struct iam_policy_record p1 = policy_record(f->arena, ACCOUNT_A, 1, "iam_id", USER_1);
    struct iam_policy_record p2 = policy_record(f->arena, ACCOUNT_A, 2, "iam_id", USER_1);
    p2.state = "deleted";
    struct iam_policy_record p3 = policy_record(f->arena, ACCOUNT_A, 3, "iam_id", USER_2);
    struct iam_policy_record p4 = policy_record(f->arena, ACCOUNT_A, 4, "access_group_id", g1.id);
    struct iam_policy_record p5 = policy_record(f->arena, ACCOUNT_B, 5, "iam_id", USER_1);
    struct iam_policy_record p6 = policy_record(f->arena, ACCOUNT_A, 6, "service", USER_1);
    struct iam_policy_record *policies[] = {&p1, &p2, &p3, &p4, &p5, &p6};
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
        assert_int_equal(iam_store_policy_insert(f->store, policies[i]), IAM_OK);

    /* From another account: not found, nothing removed. */
    int64_t before = revision_of(f->store);
    assert_int_equal(iam_store_user_delete(f->store, ACCOUNT_B, USER_1), IAM_ENOTFOUND);
    assert_int_equal(iam_store_user_delete(f->store, ACCOUNT_A, "IBMid-NOBODY0001"), IAM_ENOTFOUND);
    assert_int_equal(revision_of(f->store), before);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM apikeys"), 3);

    assert_int_equal(iam_store_user_delete(f->store, ACCOUNT_A, USER_1), IAM_OK);
    assert_int_equal(revision_of(f->store), before + 1); /* one transaction */
    struct iam_user_record user;
    assert_int_equal(iam_store_user_get(f->store, f->arena, ACCOUNT_A, USER_1, &user), IAM_ENOTFOUND);
    assert_int_equal(iam_store_user_get(f->store, f->arena, ACCOUNT_A, USER_2, &user), IAM_OK);
    /* Keys and their history: USER_1's gone, USER_2's kept. */
    assert_int_equal(test_store_integer(f->location.path,
                                        "SELECT count(*) FROM apikeys WHERE iam_id = 'IBMid-USER000001'"), 0);
    assert_int_equal(test_store_integer(f->location.path,
                                        "SELECT count(*) FROM apikeys WHERE iam_id = 'IBMid-USER000002'"), 1);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM history"), 1);
    /* Memberships: USER_1's in the account gone; USER_2's and the other account's kept. */
    int64_t count = -1;
    assert_int_equal(iam_store_member_group_count(f->store, ACCOUNT_A, USER_1, &count), IAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(iam_store_member_group_count(f->store, ACCOUNT_A, USER_2, &count), IAM_OK);
    assert_int_equal(count, 1);
    assert_int_equal(iam_store_member_group_count(f->store, ACCOUNT_B, USER_1, &count), IAM_OK);
    assert_int_equal(count, 1);
    /* Policies: USER_1 as iam_id subject in the account, active or not, gone; the rest kept. */
    struct iam_policy_record read;
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p1.id, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p2.id, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p3.id, &read), IAM_OK);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p4.id, &read), IAM_OK);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_B, p5.id, &read), IAM_OK);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p6.id, &read), IAM_OK);
    assert_int_equal(iam_store_user_delete(f->store, ACCOUNT_A, USER_1), IAM_ENOTFOUND);
}

/* --- policies --- */

static void test_policy_crud(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    struct iam_policy_record policy = policy_record(f->arena, ACCOUNT_A, 1, "iam_id", USER_1);
    policy.last_permit_at = 1700000100;
    policy.last_permit_frequency = 3;
    assert_int_equal(iam_store_policy_insert(f->store, &policy), IAM_OK);

    struct iam_policy_record read;
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, policy.id, &read), IAM_OK);
    assert_string_equal(read.id, policy.id);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.type, "access");
    assert_string_equal(read.api_version, "v2");
    assert_string_equal(read.subject_kind, "iam_id");
    assert_string_equal(read.subject_value, USER_1);
    assert_string_equal(read.service_name, "iam-identity");
    assert_string_equal(read.document, policy.document);
    assert_string_equal(read.state, "active");
    assert_string_equal(read.entity_tag, TAG_1);
    assert_string_equal(read.created_by, "IBMid-OWNER00001");
    assert_string_equal(read.modified_by, "IBMid-OWNER00001");
    assert_int_equal(read.created_at_ms, 1700000000001);
    assert_int_equal(read.modified_at_ms, 1700000000001);
    assert_int_equal(read.last_permit_at, 1700000100);
    assert_int_equal(read.last_permit_frequency, 3);

    /* Bad input and duplicates are refused. */
    struct iam_policy_record bad = policy_record(f->arena, ACCOUNT_A, 2, "iam_id", USER_1);
    bad.state = "gone";
    assert_int_equal(iam_store_policy_insert(f->store, &bad), IAM_EINVAL);
    bad.state = "active";
    bad.subject_kind = "group";
    assert_int_equal(iam_store_policy_insert(f->store, &bad), IAM_EINVAL);
    bad.subject_kind = NULL;
    assert_int_equal(iam_store_policy_insert(f->store, &bad), IAM_EINVAL);
    bad.subject_kind = "iam_id";
    bad.account_id = ACCOUNT_C; /* no such account */
    assert_int_equal(iam_store_policy_insert(f->store, &bad), IAM_ENOTFOUND);
    assert_int_equal(iam_store_policy_insert(f->store, &policy), IAM_ECONFLICT);
    struct iam_policy_record same_id_other_account = policy;
    same_id_other_account.account_id = ACCOUNT_B;
    assert_int_equal(iam_store_policy_insert(f->store, &same_id_other_account), IAM_ECONFLICT);

    /* Another account's policy is not found for get, update and delete. */
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_B, policy.id, &read), IAM_ENOTFOUND);
    struct iam_policy_record updated = policy;
    updated.account_id = ACCOUNT_B;
    updated.entity_tag = TAG_2;
    assert_int_equal(iam_store_policy_update(f->store, &updated, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_store_policy_update(f->store, &updated, TAG_1), IAM_ENOTFOUND);
    assert_int_equal(iam_store_policy_delete(f->store, ACCOUNT_B, policy.id), IAM_ENOTFOUND);

    /* Update: right tag, stale tag, no tag. */
    updated.account_id = ACCOUNT_A;
    updated.type = "authorization";
    updated.api_version = "v1";
    updated.subject_kind = "access_group_id";
    updated.subject_value = "AccessGroupId-x";
    updated.service_name = NULL;
    updated.document = "{\"changed\":true}";
    updated.state = "deleted";
    updated.modified_by = USER_2;
    updated.modified_at_ms = 1800000000000;
    updated.created_by = "someone else"; /* not the update's to change */
    updated.created_at_ms = 5;
    assert_int_equal(iam_store_policy_update(f->store, &updated, TAG_1), IAM_OK);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, policy.id, &read), IAM_OK);
    assert_string_equal(read.type, "authorization");
    assert_string_equal(read.api_version, "v1");
    assert_string_equal(read.subject_kind, "access_group_id");
    assert_string_equal(read.subject_value, "AccessGroupId-x");
    assert_null(read.service_name);
    assert_string_equal(read.document, "{\"changed\":true}");
    assert_string_equal(read.state, "deleted");
    assert_string_equal(read.entity_tag, TAG_2);
    assert_string_equal(read.modified_by, USER_2);
    assert_int_equal(read.modified_at_ms, 1800000000000);
    assert_string_equal(read.created_by, "IBMid-OWNER00001");
    assert_int_equal(read.created_at_ms, 1700000000001);
    assert_int_equal(read.last_permit_frequency, 3);
    int64_t before = revision_of(f->store);
    updated.entity_tag = TAG_3;
    assert_int_equal(iam_store_policy_update(f->store, &updated, TAG_1), IAM_ECONFLICT);
    assert_int_equal(revision_of(f->store), before);
    assert_int_equal(iam_store_policy_update(f->store, &updated, NULL), IAM_OK);
    assert_int_equal(revision_of(f->store), before + 1);

    assert_int_equal(iam_store_policy_delete(f->store, ACCOUNT_A, policy.id), IAM_OK);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, policy.id, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_policy_delete(f->store, ACCOUNT_A, policy.id), IAM_ENOTFOUND);
    assert_int_equal(iam_store_policy_update(f->store, &updated, NULL), IAM_ENOTFOUND);
}

static void assert_policy_ids(struct iam_policy_record *items, size_t count, const int *expected, size_t expected_count)
{
    assert_int_equal(count, expected_count);
    char id[64];
    for (size_t i = 0; i < count; i++) {
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", expected[i]);
        assert_string_equal(items[i].id, id);
    }
}

static void test_policy_list(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    /* 1..6 in A with varied fields, 7 in B. */
    struct iam_policy_record p[8];
    p[1] = policy_record(f->arena, ACCOUNT_A, 1, "iam_id", USER_1);
    p[2] = policy_record(f->arena, ACCOUNT_A, 2, "iam_id", USER_2);
    p[2].type = "authorization";
    p[2].created_at_ms = 1700000000010; /* newest */
    p[3] = policy_record(f->arena, ACCOUNT_A, 3, "access_group_id", "AccessGroupId-1");
    p[3].service_name = "cloud-object-storage";
    p[3].modified_at_ms = 1600000000000; /* modified earliest */
    p[4] = policy_record(f->arena, ACCOUNT_A, 4, "iam_id", USER_1);
    p[4].state = "deleted";
    p[5] = policy_record(f->arena, ACCOUNT_A, 5, "iam_id", USER_1);
    p[5].service_name = NULL;
    p[6] = policy_record(f->arena, ACCOUNT_A, 6, "access_group_id", USER_1); /* same value, other kind */
    p[7] = policy_record(f->arena, ACCOUNT_B, 7, "iam_id", USER_1);
    for (int i = 1; i <= 7; i++)
        assert_int_equal(iam_store_policy_insert(f->store, &p[i]), IAM_OK);

    struct iam_policy_record *items = NULL;
    size_t count = 0;
    bool more = true;
    struct iam_policy_query query = {.account_id = ACCOUNT_A, .limit = 100};

    /* Default: active only, by created_at. */
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){1, 3, 5, 6, 2}, 5);
    assert_false(more);
    query.state = "deleted";
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){4}, 1);
    query.state = "active";
    query.iam_id = USER_1;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){1, 5}, 2);
    query.iam_id = NULL;
    query.access_group_id = "AccessGroupId-1";
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){3}, 1);
    query.access_group_id = NULL;
    query.type = "authorization";
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){2}, 1);
    query.type = NULL;
    query.service_name = "cloud-object-storage";
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){3}, 1);
    query.service_name = "iam-identity";
    query.iam_id = USER_1;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){1}, 1);
    query.service_name = NULL;
    query.iam_id = NULL;

    /* Sorts and orders. */
    query.sort = "id";
    query.order = IAM_SORT_DESC;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){6, 5, 3, 2, 1}, 5);
    query.sort = "type";
    query.order = IAM_SORT_DESC;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){2, 6, 5, 3, 1}, 5);
    query.sort = "last_modified_at";
    query.order = IAM_SORT_ASC;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){3, 1, 2, 5, 6}, 5);
    query.sort = "created_at";
    query.order = IAM_SORT_DESC;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){2, 6, 5, 3, 1}, 5);
    query.sort = "state";
    query.order = IAM_SORT_ASC;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){1, 2, 3, 5, 6}, 5);

    /* Paging. */
    query.sort = NULL;
    query.limit = 2;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){1, 3}, 2);
    assert_true(more);
    query.offset = 4;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){2}, 1);
    assert_false(more);
    query.offset = 3;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){6, 2}, 2);
    assert_false(more);

    /* The other account sees its own only. */
    struct iam_policy_query other = {.account_id = ACCOUNT_B, .limit = 100};
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &other, &items, &count, &more), IAM_OK);
    assert_policy_ids(items, count, (const int[]){7}, 1);

    /* Bad queries. */
    struct iam_policy_query bad = {.account_id = ACCOUNT_A, .limit = 10, .sort = "name"};
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &bad, &items, &count, &more), IAM_EINVAL);
    bad.sort = NULL;
    bad.state = "all";
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &bad, &items, &count, &more), IAM_EINVAL);
    bad.state = NULL;
    bad.limit = 0;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &bad, &items, &count, &more), IAM_EINVAL);
    bad.limit = 101;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &bad, &items, &count, &more), IAM_EINVAL);
    bad.limit = 10;
    bad.order = (enum iam_sort_order)7;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &bad, &items, &count, &more), IAM_EINVAL);
    bad.order = IAM_SORT_ASC;
    bad.account_id = NULL;
    assert_int_equal(iam_store_policy_list(f->store, f->arena, &bad, &items, &count, &more), IAM_EINVAL);
}

static void test_policy_count_and_permits(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    struct iam_policy_record p1 = policy_record(f->arena, ACCOUNT_A, 1, "iam_id", USER_1);
    struct iam_policy_record p2 = policy_record(f->arena, ACCOUNT_A, 2, "iam_id", USER_1);
    struct iam_policy_record p3 = policy_record(f->arena, ACCOUNT_A, 3, "iam_id", USER_1);
    p3.state = "deleted";
    struct iam_policy_record p4 = policy_record(f->arena, ACCOUNT_B, 4, "iam_id", USER_1);
    struct iam_policy_record p5 = policy_record(f->arena, ACCOUNT_A, 5, "access_group_id", USER_1);
    struct iam_policy_record *all[] = {&p1, &p2, &p3, &p4, &p5};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_int_equal(iam_store_policy_insert(f->store, all[i]), IAM_OK);

    int64_t count = -1;
    assert_int_equal(iam_store_policy_count_for_subject(f->store, ACCOUNT_A, "iam_id", USER_1, &count), IAM_OK);
    assert_int_equal(count, 2);
    assert_int_equal(iam_store_policy_count_for_subject(f->store, ACCOUNT_B, "iam_id", USER_1, &count), IAM_OK);
    assert_int_equal(count, 1);
    assert_int_equal(iam_store_policy_count_for_subject(f->store, ACCOUNT_A, "iam_id", USER_2, &count), IAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(iam_store_policy_count_for_subject(f->store, ACCOUNT_A, NULL, USER_1, &count), IAM_EINVAL);

    int64_t before = revision_of(f->store);
    struct iam_policy_permit permits[] = {
        {.id = p1.id, .count = 5, .last_permit_at = 1700000500},
        {.id = "00000000-0000-4000-8000-999999999999", .count = 9, .last_permit_at = 1700000900}, /* gone */
        {.id = p1.id, .count = 2, .last_permit_at = 1700000400}, /* older: the max stays */
        {.id = p4.id, .count = 1, .last_permit_at = 1700000100},
    };
    assert_int_equal(iam_store_policy_add_permits(f->store, permits, 4), IAM_OK);
    assert_int_equal(revision_of(f->store), before); /* statistics do not bump it */
    struct iam_policy_record read;
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p1.id, &read), IAM_OK);
    assert_int_equal(read.last_permit_frequency, 7);
    assert_int_equal(read.last_permit_at, 1700000500);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_B, p4.id, &read), IAM_OK);
    assert_int_equal(read.last_permit_frequency, 1);
    assert_int_equal(read.last_permit_at, 1700000100);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p2.id, &read), IAM_OK);
    assert_int_equal(read.last_permit_frequency, 0);
    assert_int_equal(read.last_permit_at, 0);

    struct iam_policy_permit negative = {.id = p1.id, .count = -1, .last_permit_at = 1};
    assert_int_equal(iam_store_policy_add_permits(f->store, &negative, 1), IAM_EINVAL);
    struct iam_policy_permit no_id = {.count = 1};
    assert_int_equal(iam_store_policy_add_permits(f->store, &no_id, 1), IAM_EINVAL);
    assert_int_equal(iam_store_policy_add_permits(f->store, NULL, 1), IAM_EINVAL);
    assert_int_equal(iam_store_policy_add_permits(f->store, NULL, 0), IAM_OK);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p1.id, &read), IAM_OK);
    assert_int_equal(read.last_permit_frequency, 7);
    assert_int_equal(revision_of(f->store), before);
}

/* --- custom roles --- */

static void test_roles(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    struct iam_role_record r1 = role_record(f->arena, ACCOUNT_A, 1, "Reviewer", "iam-identity");
    struct iam_role_record r2 = role_record(f->arena, ACCOUNT_A, 2, "Auditor", "iam-identity");
    struct iam_role_record r3 = role_record(f->arena, ACCOUNT_A, 3, "Reviewer", "cloud-object-storage");
    struct iam_role_record r4 = role_record(f->arena, ACCOUNT_B, 4, "Reviewer", "iam-identity");
    r2.description = NULL;
    assert_int_equal(iam_store_role_insert(f->store, &r1), IAM_OK);
    assert_int_equal(iam_store_role_insert(f->store, &r2), IAM_OK);
    assert_int_equal(iam_store_role_insert(f->store, &r3), IAM_OK); /* same name, other service */
    assert_int_equal(iam_store_role_insert(f->store, &r4), IAM_OK); /* same name, other account */
    struct iam_role_record duplicate = role_record(f->arena, ACCOUNT_A, 5, "Reviewer", "iam-identity");
    assert_int_equal(iam_store_role_insert(f->store, &duplicate), IAM_ECONFLICT);
    duplicate.name = "Other";
    duplicate.display_name = NULL;
    assert_int_equal(iam_store_role_insert(f->store, &duplicate), IAM_EINVAL);

    struct iam_role_record read;
    assert_int_equal(iam_store_role_get(f->store, f->arena, ACCOUNT_A, r1.id, &read), IAM_OK);
    assert_string_equal(read.id, r1.id);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.name, "Reviewer");
    assert_string_equal(read.display_name, "Role 1");
    assert_string_equal(read.description, "a role");
    assert_string_equal(read.service_name, "iam-identity");
    assert_string_equal(read.actions, r1.actions);
    assert_string_equal(read.crn, r1.crn);
    assert_string_equal(read.entity_tag, TAG_1);
    assert_string_equal(read.created_by, "IBMid-OWNER00001");
    assert_int_equal(read.created_at_ms, 1700000000001);
    assert_int_equal(iam_store_role_get(f->store, f->arena, ACCOUNT_B, r1.id, &read), IAM_ENOTFOUND);

    struct iam_role_record *items = NULL;
    size_t count = 0;
    assert_int_equal(iam_store_role_list(f->store, f->arena, ACCOUNT_A, NULL, &items, &count), IAM_OK);
    assert_int_equal(count, 3);
    assert_string_equal(items[0].id, r2.id); /* Auditor */
    assert_null(items[0].description);
    assert_string_equal(items[1].id, r3.id); /* Reviewer, cloud-object-storage */
    assert_string_equal(items[2].id, r1.id); /* Reviewer, iam-identity */
    assert_int_equal(iam_store_role_list(f->store, f->arena, ACCOUNT_A, "iam-identity", &items, &count), IAM_OK);
    assert_int_equal(count, 2);
    assert_int_equal(iam_store_role_list(f->store, f->arena, ACCOUNT_C, NULL, &items, &count), IAM_OK);
    assert_int_equal(count, 0);

    struct iam_role_record updated = r1;
    updated.display_name = "Reviewer role";
    updated.description = NULL;
    updated.actions = "[\"iam-identity.serviceid.get\",\"iam-identity.apikey.get\"]";
    updated.entity_tag = TAG_2;
    updated.modified_at_ms = 1800000000000;
    updated.name = "Renamed"; /* not the update's to change */
    assert_int_equal(iam_store_role_update(f->store, &updated, TAG_1), IAM_OK);
    assert_int_equal(iam_store_role_get(f->store, f->arena, ACCOUNT_A, r1.id, &read), IAM_OK);
    assert_string_equal(read.display_name, "Reviewer role");
    assert_null(read.description);
    assert_string_equal(read.actions, updated.actions);
    assert_string_equal(read.name, "Reviewer");
    assert_string_equal(read.entity_tag, TAG_2);
    assert_int_equal(read.modified_at_ms, 1800000000000);
    assert_int_equal(iam_store_role_update(f->store, &updated, TAG_1), IAM_ECONFLICT);
    updated.account_id = ACCOUNT_B;
    assert_int_equal(iam_store_role_update(f->store, &updated, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_store_role_delete(f->store, ACCOUNT_B, r1.id), IAM_ENOTFOUND);
    assert_int_equal(iam_store_role_delete(f->store, ACCOUNT_A, r1.id), IAM_OK);
    assert_int_equal(iam_store_role_delete(f->store, ACCOUNT_A, r1.id), IAM_ENOTFOUND);
    assert_int_equal(iam_store_role_get(f->store, f->arena, ACCOUNT_A, r1.id, &read), IAM_ENOTFOUND);
}

/* --- access groups and members --- */

static void test_group_crud(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    struct iam_group_record group = group_record(f->arena, ACCOUNT_A, 1, "Admins", "the admins");
    assert_int_equal(iam_store_group_insert(f->store, &group), IAM_OK);
    struct iam_group_record read;
    assert_int_equal(iam_store_group_get(f->store, f->arena, ACCOUNT_A, group.id, &read), IAM_OK);
    assert_string_equal(read.id, group.id);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.name, "Admins");
    assert_string_equal(read.description, "the admins");
    assert_string_equal(read.entity_tag, TAG_1);
    assert_string_equal(read.created_by, "IBMid-OWNER00001");
    assert_string_equal(read.modified_by, "IBMid-OWNER00001");
    assert_int_equal(read.created_at_ms, 1700000000001);
    assert_int_equal(read.modified_at_ms, 1700000000001);

    /* Names are unique per account regardless of case. */
    struct iam_group_record shouting = group_record(f->arena, ACCOUNT_A, 2, "ADMINS", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &shouting), IAM_ECONFLICT);
    struct iam_group_record elsewhere = group_record(f->arena, ACCOUNT_B, 3, "admins", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &elsewhere), IAM_OK);
    struct iam_group_record second = group_record(f->arena, ACCOUNT_A, 4, "Readers", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &second), IAM_OK);
    struct iam_group_record no_account = group_record(f->arena, ACCOUNT_C, 5, "x", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &no_account), IAM_ENOTFOUND);

    int64_t count = -1;
    assert_int_equal(iam_store_group_count(f->store, ACCOUNT_A, &count), IAM_OK);
    assert_int_equal(count, 2);
    assert_int_equal(iam_store_group_count(f->store, ACCOUNT_C, &count), IAM_OK);
    assert_int_equal(count, 0);

    /* Another account's group: not found everywhere. */
    assert_int_equal(iam_store_group_get(f->store, f->arena, ACCOUNT_B, group.id, &read), IAM_ENOTFOUND);
    struct iam_group_record updated = group;
    updated.account_id = ACCOUNT_B;
    updated.name = "Renamed";
    updated.entity_tag = TAG_2;
    assert_int_equal(iam_store_group_update(f->store, &updated, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_store_group_delete(f->store, ACCOUNT_B, group.id), IAM_ENOTFOUND);

    /* Update: renaming onto another group's name in any case conflicts; a stale tag conflicts. */
    int64_t before = revision_of(f->store);
    updated.account_id = ACCOUNT_A;
    updated.name = "rEADERS";
    assert_int_equal(iam_store_group_update(f->store, &updated, TAG_1), IAM_ECONFLICT);
    updated.name = "Renamed";
    assert_int_equal(iam_store_group_update(f->store, &updated, TAG_2), IAM_ECONFLICT);
    assert_int_equal(revision_of(f->store), before);
    updated.description = NULL;
    updated.modified_by = USER_1;
    updated.modified_at_ms = 1800000000000;
    assert_int_equal(iam_store_group_update(f->store, &updated, TAG_1), IAM_OK);
    assert_int_equal(iam_store_group_get(f->store, f->arena, ACCOUNT_A, group.id, &read), IAM_OK);
    assert_string_equal(read.name, "Renamed");
    assert_null(read.description);
    assert_string_equal(read.entity_tag, TAG_2);
    assert_string_equal(read.modified_by, USER_1);
    assert_int_equal(read.modified_at_ms, 1800000000000);
    assert_int_equal(read.created_at_ms, 1700000000001);
    /* Changing only the case of its own name is fine. */
    updated.name = "RENAMED";
    assert_int_equal(iam_store_group_update(f->store, &updated, NULL), IAM_OK);

    assert_int_equal(iam_store_group_delete(f->store, ACCOUNT_A, group.id), IAM_OK);
    assert_int_equal(iam_store_group_get(f->store, f->arena, ACCOUNT_A, group.id, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_group_delete(f->store, ACCOUNT_A, group.id), IAM_ENOTFOUND);
    assert_int_equal(iam_store_group_update(f->store, &updated, NULL), IAM_ENOTFOUND);
}

static void assert_group_names(struct iam_group_record *items, size_t count, const char *const *expected,
                               size_t expected_count)
{
    assert_int_equal(count, expected_count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(items[i].name, expected[i]);
}

static void test_group_list(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    struct iam_group_record groups[] = {
        group_record(f->arena, ACCOUNT_A, 5, "delta", "Fourth group"),
        group_record(f->arena, ACCOUNT_A, 1, "Alpha", "first 100% group"),
        group_record(f->arena, ACCOUNT_A, 3, "charlie", NULL),
        group_record(f->arena, ACCOUNT_A, 2, "Bravo", "second_group"),
        group_record(f->arena, ACCOUNT_B, 4, "alphabet", "other account"),
    };
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        assert_int_equal(iam_store_group_insert(f->store, &groups[i]), IAM_OK);
    add_member(f->store, ACCOUNT_A, groups[0].id, USER_1);
    add_member(f->store, ACCOUNT_A, groups[2].id, USER_1);
    add_member(f->store, ACCOUNT_A, groups[1].id, USER_2);
    add_member(f->store, ACCOUNT_B, groups[4].id, USER_1);

    struct iam_group_record *items = NULL;
    size_t count = 0;
    int64_t total = -1;
    struct iam_group_query query = {.account_id = ACCOUNT_A, .limit = 100};

    /* Default: by name, ignoring case. */
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"Alpha", "Bravo", "charlie", "delta"}, 4);
    assert_int_equal(total, 4);
    query.order = IAM_SORT_DESC;
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"delta", "charlie", "Bravo", "Alpha"}, 4);
    query.sort = "created_at";
    query.order = IAM_SORT_ASC;
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"Alpha", "Bravo", "charlie", "delta"}, 4);
    query.sort = "description";
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"charlie", "Alpha", "delta", "Bravo"}, 4);
    query.order = IAM_SORT_DESC;
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"Bravo", "delta", "Alpha", "charlie"}, 4);
    query.order = IAM_SORT_ASC;
    query.sort = NULL;

    /* Search: case-insensitive substring of name or description; % and _ are literal. */
    query.search = "ALP";
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"Alpha"}, 1);
    assert_int_equal(total, 1);
    query.search = "GROUP";
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"Alpha", "Bravo", "delta"}, 3);
    query.search = "%";
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"Alpha"}, 1);
    query.search = "_";
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"Bravo"}, 1);
    query.search = "zzz";
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(total, 0);
    query.search = NULL;

    /* Member filter, alone and with search. */
    query.member_iam_id = USER_1;
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"charlie", "delta"}, 2);
    assert_int_equal(total, 2);
    query.search = "fourth";
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"delta"}, 1);
    assert_int_equal(total, 1);
    query.search = NULL;
    query.member_iam_id = "IBMid-NOBODY0001";
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(total, 0);
    query.member_iam_id = NULL;

    /* Paging: the total counts every match. */
    query.limit = 3;
    query.offset = 2;
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"charlie", "delta"}, 2);
    assert_int_equal(total, 4);
    query.offset = 10;
    assert_int_equal(iam_store_group_list(f->store, f->arena, &query, &items, &count, &total), IAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(total, 4);

    /* The other account. */
    struct iam_group_query other = {.account_id = ACCOUNT_B, .limit = 10, .member_iam_id = USER_1};
    assert_int_equal(iam_store_group_list(f->store, f->arena, &other, &items, &count, &total), IAM_OK);
    assert_group_names(items, count, (const char *const[]){"alphabet"}, 1);
    assert_int_equal(total, 1);

    /* Bad queries. */
    struct iam_group_query bad = {.account_id = ACCOUNT_A, .limit = 10, .sort = "id"};
    assert_int_equal(iam_store_group_list(f->store, f->arena, &bad, &items, &count, &total), IAM_EINVAL);
    bad.sort = NULL;
    bad.limit = 0;
    assert_int_equal(iam_store_group_list(f->store, f->arena, &bad, &items, &count, &total), IAM_EINVAL);
    bad.limit = 10;
    bad.offset = -1;
    assert_int_equal(iam_store_group_list(f->store, f->arena, &bad, &items, &count, &total), IAM_EINVAL);
}

static void test_members(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    struct iam_group_record group = group_record(f->arena, ACCOUNT_A, 1, "one", NULL);
    struct iam_group_record other = group_record(f->arena, ACCOUNT_A, 2, "two", NULL);
    struct iam_group_record foreign = group_record(f->arena, ACCOUNT_B, 3, "three", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &group), IAM_OK);
    assert_int_equal(iam_store_group_insert(f->store, &other), IAM_OK);
    assert_int_equal(iam_store_group_insert(f->store, &foreign), IAM_OK);

    struct iam_group_member_record member = {
        .group_id = group.id, .account_id = ACCOUNT_A, .iam_id = "iam-ServiceId-1", .type = "service",
        .created_by = USER_1, .created_at_ms = 1700000000123,
    };
    assert_int_equal(iam_store_member_add(f->store, &member), IAM_OK);
    assert_int_equal(iam_store_member_add(f->store, &member), IAM_ECONFLICT);
    add_member(f->store, ACCOUNT_A, group.id, USER_2);
    add_member(f->store, ACCOUNT_A, group.id, USER_1);
    add_member(f->store, ACCOUNT_A, other.id, USER_1);

    /* Joining another account's group, or one that does not exist: not found. */
    struct iam_group_member_record stray = member;
    stray.group_id = foreign.id;
    assert_int_equal(iam_store_member_add(f->store, &stray), IAM_ENOTFOUND);
    stray.group_id = "AccessGroupId-missing";
    assert_int_equal(iam_store_member_add(f->store, &stray), IAM_ENOTFOUND);
    stray.group_id = other.id;
    stray.type = "robot";
    assert_int_equal(iam_store_member_add(f->store, &stray), IAM_EINVAL);

    struct iam_group_member_record read;
    assert_int_equal(iam_store_member_get(f->store, f->arena, ACCOUNT_A, group.id, "iam-ServiceId-1", &read), IAM_OK);
    assert_string_equal(read.group_id, group.id);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.iam_id, "iam-ServiceId-1");
    assert_string_equal(read.type, "service");
    assert_string_equal(read.created_by, USER_1);
    assert_int_equal(read.created_at_ms, 1700000000123);
    assert_int_equal(iam_store_member_get(f->store, f->arena, ACCOUNT_B, group.id, "iam-ServiceId-1", &read),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_store_member_get(f->store, f->arena, ACCOUNT_A, other.id, "iam-ServiceId-1", &read),
                     IAM_ENOTFOUND);

    struct iam_group_member_record *items = NULL;
    size_t count = 0;
    int64_t total = -1;
    assert_int_equal(iam_store_member_list(f->store, f->arena, ACCOUNT_A, group.id, 0, 2, &items, &count, &total),
                     IAM_OK);
    assert_int_equal(count, 2);
    assert_int_equal(total, 3);
    assert_string_equal(items[0].iam_id, USER_1);
    assert_string_equal(items[1].iam_id, USER_2);
    assert_int_equal(iam_store_member_list(f->store, f->arena, ACCOUNT_A, group.id, 2, 2, &items, &count, &total),
                     IAM_OK);
    assert_int_equal(count, 1);
    assert_int_equal(total, 3);
    assert_string_equal(items[0].iam_id, "iam-ServiceId-1");
    assert_int_equal(iam_store_member_list(f->store, f->arena, ACCOUNT_B, group.id, 0, 10, &items, &count, &total),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_store_member_list(f->store, f->arena, ACCOUNT_A, foreign.id, 0, 10, &items, &count,
                                           &total),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_store_member_list(f->store, f->arena, ACCOUNT_A, group.id, 0, 0, &items, &count, &total),
                     IAM_EINVAL);

    int64_t groups = -1;
    assert_int_equal(iam_store_member_group_count(f->store, ACCOUNT_A, USER_1, &groups), IAM_OK);
    assert_int_equal(groups, 2);
    assert_int_equal(iam_store_member_group_count(f->store, ACCOUNT_B, USER_1, &groups), IAM_OK);
    assert_int_equal(groups, 0);

    assert_int_equal(iam_store_member_remove(f->store, ACCOUNT_B, group.id, USER_1), IAM_ENOTFOUND);
    assert_int_equal(iam_store_member_remove(f->store, ACCOUNT_A, group.id, USER_1), IAM_OK);
    assert_int_equal(iam_store_member_remove(f->store, ACCOUNT_A, group.id, USER_1), IAM_ENOTFOUND);
    assert_int_equal(iam_store_member_group_count(f->store, ACCOUNT_A, USER_1, &groups), IAM_OK);
    assert_int_equal(groups, 1);
    /* An emptied group lists as empty, not missing. */
    assert_int_equal(iam_store_member_remove(f->store, ACCOUNT_A, other.id, USER_1), IAM_OK);
    assert_int_equal(iam_store_member_list(f->store, f->arena, ACCOUNT_A, other.id, 0, 10, &items, &count, &total),
                     IAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(total, 0);
}

static void test_group_delete_cascades(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    struct iam_group_record doomed = group_record(f->arena, ACCOUNT_A, 1, "doomed", NULL);
    struct iam_group_record kept = group_record(f->arena, ACCOUNT_A, 2, "kept", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &doomed), IAM_OK);
    assert_int_equal(iam_store_group_insert(f->store, &kept), IAM_OK);
    add_member(f->store, ACCOUNT_A, doomed.id, USER_1);
    add_member(f->store, ACCOUNT_A, doomed.id, USER_2);
    add_member(f->store, ACCOUNT_A, kept.id, USER_1);
    struct iam_policy_record p1 = policy_record(f->arena, ACCOUNT_A, 1, "access_group_id", doomed.id);
    struct iam_policy_record p2 = policy_record(f->arena, ACCOUNT_A, 2, "access_group_id", doomed.id);
    p2.state = "deleted";
    struct iam_policy_record p3 = policy_record(f->arena, ACCOUNT_A, 3, "access_group_id", kept.id);
    struct iam_policy_record p4 = policy_record(f->arena, ACCOUNT_A, 4, "iam_id", doomed.id); /* other kind */
    struct iam_policy_record p5 = policy_record(f->arena, ACCOUNT_B, 5, "access_group_id", doomed.id);
    struct iam_policy_record *all[] = {&p1, &p2, &p3, &p4, &p5};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_int_equal(iam_store_policy_insert(f->store, all[i]), IAM_OK);

    int64_t before = revision_of(f->store);
    assert_int_equal(iam_store_group_delete(f->store, ACCOUNT_B, doomed.id), IAM_ENOTFOUND);
    assert_int_equal(revision_of(f->store), before);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM group_members"), 3);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM policies"), 5);

    assert_int_equal(iam_store_group_delete(f->store, ACCOUNT_A, doomed.id), IAM_OK);
    assert_int_equal(revision_of(f->store), before + 1);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM group_members WHERE group_id = "
                                                          "'AccessGroupId-00000000-0000-4000-8000-000000000001'"),
                     0);
    int64_t groups = -1;
    assert_int_equal(iam_store_member_group_count(f->store, ACCOUNT_A, USER_1, &groups), IAM_OK);
    assert_int_equal(groups, 1);
    struct iam_policy_record read;
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p1.id, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p2.id, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p3.id, &read), IAM_OK);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_A, p4.id, &read), IAM_OK);
    assert_int_equal(iam_store_policy_get(f->store, f->arena, ACCOUNT_B, p5.id, &read), IAM_OK);
}

/* --- registered services and access settings --- */

static void test_service_defs(void **state)
{
    struct fixture *f = *state;
    struct iam_service_def_record service = {
        .name = "kms", .document = "{\"actions\":[]}", .entity_tag = TAG_1, .created_by = USER_1,
        .created_at = 1700000000, .modified_at = 1700000000,
    };
    struct iam_service_def_record read;
    assert_int_equal(iam_store_service_def_get(f->store, f->arena, "kms", &read), IAM_ENOTFOUND);
    /* A tag expected where there is no row: conflict. */
    assert_int_equal(iam_store_service_def_put(f->store, &service, TAG_1), IAM_ECONFLICT);
    assert_int_equal(iam_store_service_def_put(f->store, &service, NULL), IAM_OK);
    struct iam_service_def_record second = service;
    second.name = "cloud-object-storage";
    assert_int_equal(iam_store_service_def_put(f->store, &second, NULL), IAM_OK);

    assert_int_equal(iam_store_service_def_get(f->store, f->arena, "kms", &read), IAM_OK);
    assert_string_equal(read.name, "kms");
    assert_string_equal(read.document, "{\"actions\":[]}");
    assert_string_equal(read.entity_tag, TAG_1);
    assert_string_equal(read.created_by, USER_1);
    assert_int_equal(read.created_at, 1700000000);

    /* Replace: stale tag conflicts; the right one replaces, creation facts stay. */
    struct iam_service_def_record replaced = service;
    replaced.document = "{\"actions\":[\"kms.key.read\"]}";
    replaced.entity_tag = TAG_2;
    replaced.created_by = USER_2;
    replaced.created_at = 1800000000;
    replaced.modified_at = 1800000000;
    assert_int_equal(iam_store_service_def_put(f->store, &replaced, TAG_3), IAM_ECONFLICT);
    assert_int_equal(iam_store_service_def_put(f->store, &replaced, TAG_1), IAM_OK);
    assert_int_equal(iam_store_service_def_get(f->store, f->arena, "kms", &read), IAM_OK);
    assert_string_equal(read.document, replaced.document);
    assert_string_equal(read.entity_tag, TAG_2);
    assert_string_equal(read.created_by, USER_1);
    assert_int_equal(read.created_at, 1700000000);
    assert_int_equal(read.modified_at, 1800000000);
    replaced.document = NULL;
    assert_int_equal(iam_store_service_def_put(f->store, &replaced, NULL), IAM_EINVAL);

    struct iam_service_def_record *items = NULL;
    size_t count = 0;
    assert_int_equal(iam_store_service_def_list(f->store, f->arena, &items, &count), IAM_OK);
    assert_int_equal(count, 2);
    assert_string_equal(items[0].name, "cloud-object-storage");
    assert_string_equal(items[1].name, "kms");

    assert_int_equal(iam_store_service_def_delete(f->store, "kms"), IAM_OK);
    assert_int_equal(iam_store_service_def_delete(f->store, "kms"), IAM_ENOTFOUND);
    assert_int_equal(iam_store_service_def_list(f->store, f->arena, &items, &count), IAM_OK);
    assert_int_equal(count, 1);
}

static void test_access_settings(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    struct iam_access_settings_record read;
    assert_int_equal(iam_store_access_settings_get(f->store, f->arena, ACCOUNT_A, &read), IAM_ENOTFOUND);
    struct iam_access_settings_record settings = {
        .account_id = ACCOUNT_A, .settings = "{\"external_account_identity_interaction\":{}}", .entity_tag = TAG_1,
        .modified_at = 1700000000,
    };
    assert_int_equal(iam_store_access_settings_put(f->store, &settings, TAG_1), IAM_ECONFLICT);
    assert_int_equal(iam_store_access_settings_put(f->store, &settings, NULL), IAM_OK);
    assert_int_equal(iam_store_access_settings_get(f->store, f->arena, ACCOUNT_A, &read), IAM_OK);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.settings, settings.settings);
    assert_string_equal(read.entity_tag, TAG_1);
    assert_int_equal(read.modified_at, 1700000000);
    assert_int_equal(iam_store_access_settings_get(f->store, f->arena, ACCOUNT_B, &read), IAM_ENOTFOUND);

    settings.settings = "{}";
    settings.entity_tag = TAG_2;
    settings.modified_at = 1800000000;
    assert_int_equal(iam_store_access_settings_put(f->store, &settings, TAG_3), IAM_ECONFLICT);
    assert_int_equal(iam_store_access_settings_put(f->store, &settings, TAG_1), IAM_OK);
    assert_int_equal(iam_store_access_settings_get(f->store, f->arena, ACCOUNT_A, &read), IAM_OK);
    assert_string_equal(read.settings, "{}");
    assert_string_equal(read.entity_tag, TAG_2);
    assert_int_equal(read.modified_at, 1800000000);

    settings.account_id = ACCOUNT_C;
    assert_int_equal(iam_store_access_settings_put(f->store, &settings, NULL), IAM_ENOTFOUND);
    settings.account_id = ACCOUNT_B;
    settings.settings = NULL;
    assert_int_equal(iam_store_access_settings_put(f->store, &settings, NULL), IAM_EINVAL);
}

/* --- snapshot and revision --- */

static void test_snapshot(void **state)
{
    struct fixture *f = *state;
    struct iam_access_snapshot snapshot;
    assert_int_equal(iam_store_access_snapshot(f->store, f->arena, &snapshot), IAM_OK);
    assert_int_equal(snapshot.policy_count, 0);
    assert_int_equal(snapshot.account_count, 0);
    assert_int_equal(snapshot.revision, revision_of(f->store));

    add_account(f->store, ACCOUNT_B, 1700000000);
    add_account(f->store, ACCOUNT_A, 1700000000);
    struct iam_policy_record p1 = policy_record(f->arena, ACCOUNT_A, 1, "iam_id", USER_1);
    struct iam_policy_record p2 = policy_record(f->arena, ACCOUNT_A, 2, "iam_id", USER_1);
    p2.state = "deleted";
    struct iam_policy_record p3 = policy_record(f->arena, ACCOUNT_B, 3, "iam_id", USER_B);
    assert_int_equal(iam_store_policy_insert(f->store, &p1), IAM_OK);
    assert_int_equal(iam_store_policy_insert(f->store, &p2), IAM_OK);
    assert_int_equal(iam_store_policy_insert(f->store, &p3), IAM_OK);
    struct iam_role_record role = role_record(f->arena, ACCOUNT_B, 1, "Checker", "iam-identity");
    assert_int_equal(iam_store_role_insert(f->store, &role), IAM_OK);
    struct iam_group_record group = group_record(f->arena, ACCOUNT_A, 1, "g", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &group), IAM_OK);
    add_member(f->store, ACCOUNT_A, group.id, USER_2);
    add_member(f->store, ACCOUNT_A, group.id, USER_1);
    struct iam_service_def_record service = {
        .name = "kms", .document = "{}", .entity_tag = TAG_1, .created_at = 1, .modified_at = 1,
    };
    assert_int_equal(iam_store_service_def_put(f->store, &service, NULL), IAM_OK);

    assert_int_equal(iam_store_access_snapshot(f->store, f->arena, &snapshot), IAM_OK);
    assert_int_equal(snapshot.revision, revision_of(f->store));
    /* Active policies only, grouped by account. */
    assert_int_equal(snapshot.policy_count, 2);
    assert_string_equal(snapshot.policies[0].id, p1.id);
    assert_string_equal(snapshot.policies[0].account_id, ACCOUNT_A);
    assert_string_equal(snapshot.policies[0].document, p1.document);
    assert_string_equal(snapshot.policies[1].id, p3.id);
    assert_int_equal(snapshot.role_count, 1);
    assert_string_equal(snapshot.roles[0].name, "Checker");
    assert_string_equal(snapshot.roles[0].actions, role.actions);
    assert_int_equal(snapshot.member_count, 2);
    assert_string_equal(snapshot.members[0].iam_id, USER_1);
    assert_string_equal(snapshot.members[1].iam_id, USER_2);
    assert_string_equal(snapshot.members[0].group_id, group.id);
    assert_int_equal(snapshot.service_count, 1);
    assert_string_equal(snapshot.services[0].name, "kms");
    assert_int_equal(snapshot.account_count, 2);
    assert_string_equal(snapshot.accounts[0].id, ACCOUNT_A);
    assert_string_equal(snapshot.accounts[1].id, ACCOUNT_B);
    assert_string_equal(snapshot.accounts[0].owner_iam_id, "IBMid-OWNER00001");

    /* A write moves the revision; the next snapshot sees both. */
    int64_t old_revision = snapshot.revision;
    assert_int_equal(iam_store_policy_delete(f->store, ACCOUNT_A, p1.id), IAM_OK);
    assert_int_equal(iam_store_access_snapshot(f->store, f->arena, &snapshot), IAM_OK);
    assert_int_equal(snapshot.revision, old_revision + 1);
    assert_int_equal(snapshot.policy_count, 1);
    assert_int_equal(iam_store_access_snapshot(f->store, f->arena, NULL), IAM_EINVAL);
}

/* Every access write bumps the revision once; failed writes and reads do not. */
static void test_revision(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    int64_t revision = revision_of(f->store);
    struct iam_group_record group = group_record(f->arena, ACCOUNT_A, 1, "g", NULL);
    assert_int_equal(iam_store_group_insert(f->store, &group), IAM_OK);
    assert_int_equal(revision_of(f->store), ++revision);
    assert_int_equal(iam_store_group_insert(f->store, &group), IAM_ECONFLICT);
    assert_int_equal(revision_of(f->store), revision);
    add_member(f->store, ACCOUNT_A, group.id, USER_1);
    assert_int_equal(revision_of(f->store), ++revision);
    struct iam_role_record role = role_record(f->arena, ACCOUNT_A, 1, "R", "iam-identity");
    assert_int_equal(iam_store_role_insert(f->store, &role), IAM_OK);
    assert_int_equal(revision_of(f->store), ++revision);
    struct iam_service_def_record service = {
        .name = "kms", .document = "{}", .entity_tag = TAG_1, .created_at = 1, .modified_at = 1,
    };
    assert_int_equal(iam_store_service_def_put(f->store, &service, NULL), IAM_OK);
    assert_int_equal(revision_of(f->store), ++revision);
    struct iam_access_settings_record settings = {
        .account_id = ACCOUNT_A, .settings = "{}", .entity_tag = TAG_1, .modified_at = 1,
    };
    assert_int_equal(iam_store_access_settings_put(f->store, &settings, NULL), IAM_OK);
    assert_int_equal(revision_of(f->store), ++revision);

    struct iam_access_snapshot snapshot;
    struct iam_group_record read;
    int64_t count;
    assert_int_equal(iam_store_access_snapshot(f->store, f->arena, &snapshot), IAM_OK);
    assert_int_equal(iam_store_group_get(f->store, f->arena, ACCOUNT_A, group.id, &read), IAM_OK);
    assert_int_equal(iam_store_group_count(f->store, ACCOUNT_A, &count), IAM_OK);
    assert_int_equal(iam_store_member_remove(f->store, ACCOUNT_A, group.id, USER_2), IAM_ENOTFOUND);
    assert_int_equal(iam_store_role_delete(f->store, ACCOUNT_A, "nope"), IAM_ENOTFOUND);
    assert_int_equal(iam_store_service_def_delete(f->store, "nope"), IAM_ENOTFOUND);
    assert_int_equal(revision_of(f->store), revision);

    assert_int_equal(iam_store_member_remove(f->store, ACCOUNT_A, group.id, USER_1), IAM_OK);
    assert_int_equal(revision_of(f->store), ++revision);
    assert_int_equal(iam_store_service_def_delete(f->store, "kms"), IAM_OK);
    assert_int_equal(revision_of(f->store), ++revision);
}

/* --- threads: writers create groups and members while readers take snapshots --- */

#define GROUP_WRITERS 2
#define SNAPSHOT_READERS 2
#define GROUPS_PER_WRITER 60

struct access_worker {
    struct iam_store *store;
    int index;
    int64_t base_revision;
    int failures;
    int snapshots;
};

static void *write_groups(void *argument)
{
    struct access_worker *worker = argument;
    struct iam_arena *arena = iam_arena_new();
    if (!arena) {
        worker->failures++;
        return NULL;
    }
    for (int i = 0; i < GROUPS_PER_WRITER; i++) {
        int n = worker->index * 1000 + i;
        struct iam_group_record group =
            group_record(arena, ACCOUNT_A, n, iam_arena_printf(arena, "group %d", n), "threaded");
        struct iam_group_member_record member = {
            .group_id = group.id, .account_id = ACCOUNT_A, .iam_id = USER_1, .type = "user",
            .created_at_ms = 1700000000000,
        };
        if (iam_store_group_insert(worker->store, &group) != IAM_OK ||
            iam_store_member_add(worker->store, &member) != IAM_OK)
            worker->failures++;
    }
    iam_arena_free(arena);
    return NULL;
}

/*
 * Each writer commits a group, then its member: at any committed state,
 * groups - members is between 0 and the number of writers, and the revision
 * moved by groups + members. A snapshot whose member list and revision came
 * from different states would break 2 * members <= moved <= 2 * members + writers.
 */
static void *take_snapshots(void *argument)
{
    struct access_worker *worker = argument;
    for (int i = 0; i < 200; i++) {
        struct iam_arena *arena = iam_arena_new();
        if (!arena) {
            worker->failures++;
            return NULL;
        }
        struct iam_access_snapshot snapshot;
        if (iam_store_access_snapshot(worker->store, arena, &snapshot) != IAM_OK) {
            worker->failures++;
        } else {
            int64_t moved = snapshot.revision - worker->base_revision;
            int64_t members = (int64_t)snapshot.member_count;
            if (moved < 2 * members || moved > 2 * members + GROUP_WRITERS)
                worker->failures++;
            worker->snapshots++;
            if (members == GROUP_WRITERS * GROUPS_PER_WRITER) {
                iam_arena_free(arena);
                break;
            }
        }
        iam_arena_free(arena);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    /* Policies to read before the members: they widen the window a snapshot without one read transaction would have. */
    raw_exec(f->location.path, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
                      "INSERT INTO policies (id, account_id, type, api_version, subject_kind, subject_value, document, "
                      "state, entity_tag, created_at_ms, modified_at_ms) "
                      "SELECT 'bulk-' || i, '" ACCOUNT_A "', 'access', 'v2', 'iam_id', 'IBMid-BULK', '{}', 'active', "
                      "'1-x', i, i FROM n");
    int64_t base = revision_of(f->store);
    pthread_t writers[GROUP_WRITERS], readers[SNAPSHOT_READERS];
    struct access_worker writer_state[GROUP_WRITERS], reader_state[SNAPSHOT_READERS];
    for (int i = 0; i < SNAPSHOT_READERS; i++) {
        reader_state[i] = (struct access_worker){.store = f->store, .index = i, .base_revision = base};
        assert_int_equal(pthread_create(&readers[i], NULL, take_snapshots, &reader_state[i]), 0);
    }
    for (int i = 0; i < GROUP_WRITERS; i++) {
        writer_state[i] = (struct access_worker){.store = f->store, .index = i + 1, .base_revision = base};
        assert_int_equal(pthread_create(&writers[i], NULL, write_groups, &writer_state[i]), 0);
    }
    for (int i = 0; i < GROUP_WRITERS; i++) {
        assert_int_equal(pthread_join(writers[i], NULL), 0);
        assert_int_equal(writer_state[i].failures, 0);
    }
    for (int i = 0; i < SNAPSHOT_READERS; i++) {
        assert_int_equal(pthread_join(readers[i], NULL), 0);
        assert_int_equal(reader_state[i].failures, 0);
        assert_true(reader_state[i].snapshots > 0);
    }
    int64_t total = 0;
    assert_int_equal(iam_store_group_count(f->store, ACCOUNT_A, &total), IAM_OK);
    assert_int_equal(total, GROUP_WRITERS * GROUPS_PER_WRITER);
    struct iam_access_snapshot snapshot;
    assert_int_equal(iam_store_access_snapshot(f->store, f->arena, &snapshot), IAM_OK);
    assert_int_equal(snapshot.member_count, GROUP_WRITERS * GROUPS_PER_WRITER);
    assert_int_equal(snapshot.revision, base + 2 * GROUP_WRITERS * GROUPS_PER_WRITER);
}

/* --- argument checks --- */

static void test_arguments(void **state)
{
    struct fixture *f = *state;
    struct iam_policy_record policy = {0};
    struct iam_group_record group = {0};
    struct iam_role_record role = {0};
    struct iam_group_member_record member = {0};
    int64_t count;
    assert_int_equal(iam_store_policy_insert(f->store, NULL), IAM_EINVAL);
    assert_int_equal(iam_store_policy_insert(f->store, &policy), IAM_EINVAL);
    assert_int_equal(iam_store_policy_update(f->store, &policy, NULL), IAM_EINVAL);
    assert_int_equal(iam_store_policy_get(NULL, f->arena, ACCOUNT_A, "x", &policy), IAM_EINVAL);
    assert_int_equal(iam_store_group_insert(f->store, &group), IAM_EINVAL);
    assert_int_equal(iam_store_group_update(f->store, &group, NULL), IAM_EINVAL);
    assert_int_equal(iam_store_role_insert(f->store, &role), IAM_EINVAL);
    assert_int_equal(iam_store_member_add(f->store, &member), IAM_EINVAL);
    assert_int_equal(iam_store_group_count(f->store, NULL, &count), IAM_EINVAL);
    assert_int_equal(iam_store_member_group_count(f->store, ACCOUNT_A, NULL, &count), IAM_EINVAL);
    assert_int_equal(iam_store_user_delete(f->store, ACCOUNT_A, NULL), IAM_EINVAL);
    assert_int_equal(iam_store_service_def_put(f->store, &(struct iam_service_def_record){0}, NULL), IAM_EINVAL);
    assert_int_equal(iam_store_access_settings_put(f->store, &(struct iam_access_settings_record){0}, NULL),
                     IAM_EINVAL);
}

/* --- identity activity (store_activity.h) --- */

#define SID_1 "ServiceId-00000000-0000-4000-8000-000000000001"
#define SID_2 "ServiceId-00000000-0000-4000-8000-000000000002"
#define SID_3 "ServiceId-00000000-0000-4000-8000-000000000003"
#define SID_B "ServiceId-00000000-0000-4000-8000-00000000000b"

static void add_service_id(struct iam_store *store, const char *account_id, const char *id, const char *name)
{
    char iam_id[80];
    snprintf(iam_id, sizeof iam_id, "iam-%s", id);
    struct iam_service_id_record record = {
        .id = id, .iam_id = iam_id, .account_id = account_id, .name = name, .unique_instance_crns = "[]",
        .created_by = "IBMid-OWNER00001", .entity_tag = TAG_1, .created_at = 1700000000, .modified_at = 1700000000,
    };
    assert_int_equal(iam_store_service_id_insert(store, &record, NULL, NULL, 0), IAM_OK);
}

/* Key `n` of `iam_id`, used last at `used` (0: never). */
static const char *add_used_key(struct fixture *f, const char *account_id, const char *iam_id, int n, int64_t used)
{
    add_apikey_with_history(f, account_id, iam_id, n);
    const char *id = iam_arena_printf(f->arena, "ApiKey-00000000-0000-4000-8000-%012d", n);
    if (used) {
        struct iam_apikey_usage usage = {.id = id, .count = 1, .last_authn = used};
        assert_int_equal(iam_store_apikey_add_usage(f->store, &usage, 1), IAM_OK);
    }
    return id;
}

static void test_activity_inactive(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    add_user(f->store, ACCOUNT_A, USER_1, "one@example.com", 1700000000);
    add_user(f->store, ACCOUNT_A, USER_2, "two@example.com", 1700000000);
    add_user(f->store, ACCOUNT_B, USER_B, "b@example.com", 1700000000);
    add_service_id(f->store, ACCOUNT_A, SID_1, "used");
    add_service_id(f->store, ACCOUNT_A, SID_2, "unused");
    add_service_id(f->store, ACCOUNT_A, SID_3, "keyless");
    add_service_id(f->store, ACCOUNT_B, SID_B, "other account");
    add_used_key(f, ACCOUNT_A, "iam-" SID_1, 1, 1700000900);
    const char *unused_key = add_used_key(f, ACCOUNT_A, "iam-" SID_2, 2, 0);
    const char *old_user_key = add_used_key(f, ACCOUNT_A, USER_2, 3, 1700000100);
    add_used_key(f, ACCOUNT_B, "iam-" SID_B, 4, 0);
    /* USER_1 signed in with its password; sign-ins and usage leave the revision alone. */
    int64_t revision = revision_of(f->store);
    struct iam_apikey_usage sign_ins[] = {{.id = USER_1, .count = 1, .last_authn = 1700000500},
                                          {.id = "IBMid-GONE000001", .count = 1, .last_authn = 1700000500}};
    assert_int_equal(iam_store_user_add_authn(f->store, sign_ins, 2), IAM_OK);
    struct iam_apikey_usage older = {.id = USER_1, .count = 1, .last_authn = 1700000200};
    assert_int_equal(iam_store_user_add_authn(f->store, &older, 1), IAM_OK); /* an older batch: max wins */
    assert_int_equal(revision_of(f->store), revision);

    struct iam_activity_inactive inactive;
    assert_int_equal(iam_store_activity_inactive(f->store, f->arena, ACCOUNT_A, 1700000400, &inactive), IAM_OK);
    /* users: USER_2 (its key, long ago); USER_1 signed in since */
    assert_int_equal(inactive.user_count, 1);
    assert_string_equal(inactive.users[0].iam_id, USER_2);
    assert_string_equal(inactive.users[0].login, "two@example.com");
    assert_string_equal(inactive.users[0].given_name, "Ada");
    assert_int_equal(inactive.users[0].last_authn, 1700000100);
    /* service IDs: never used first, by id */
    assert_int_equal(inactive.service_id_count, 2);
    assert_string_equal(inactive.service_ids[0].id, SID_2);
    assert_string_equal(inactive.service_ids[0].name, "unused");
    assert_int_equal(inactive.service_ids[0].last_authn, 0);
    assert_string_equal(inactive.service_ids[1].id, SID_3);
    /* keys: the unused service ID key, then the old user key, each with its owner */
    assert_int_equal(inactive.apikey_count, 2);
    assert_string_equal(inactive.apikeys[0].id, unused_key);
    assert_string_equal(inactive.apikeys[0].service_id_id, SID_2);
    assert_string_equal(inactive.apikeys[0].service_id_name, "unused");
    assert_null(inactive.apikeys[0].user_login);
    assert_int_equal(inactive.apikeys[0].last_authn, 0);
    assert_string_equal(inactive.apikeys[1].id, old_user_key);
    assert_string_equal(inactive.apikeys[1].iam_id, USER_2);
    assert_null(inactive.apikeys[1].service_id_id);
    assert_string_equal(inactive.apikeys[1].user_login, "two@example.com");
    assert_string_equal(inactive.apikeys[1].user_family_name, "Lovelace");
    assert_int_equal(inactive.apikeys[1].last_authn, 1700000100);

    /* since = USER_1's sign-in: not before it, so still active */
    assert_int_equal(iam_store_activity_inactive(f->store, f->arena, ACCOUNT_A, 1700000500, &inactive), IAM_OK);
    assert_int_equal(inactive.user_count, 1);
    /* everything is inactive since the future; nothing since the epoch's start */
    assert_int_equal(iam_store_activity_inactive(f->store, f->arena, ACCOUNT_A, 1800000000, &inactive), IAM_OK);
    assert_int_equal(inactive.user_count, 2);
    assert_int_equal(inactive.service_id_count, 3);
    assert_int_equal(inactive.apikey_count, 3);
    assert_int_equal(iam_store_activity_inactive(f->store, f->arena, ACCOUNT_A, 0, &inactive), IAM_OK);
    assert_int_equal(inactive.user_count + inactive.service_id_count + inactive.apikey_count, 0);
    /* another account sees only its own */
    assert_int_equal(iam_store_activity_inactive(f->store, f->arena, ACCOUNT_B, 1800000000, &inactive), IAM_OK);
    assert_int_equal(inactive.user_count, 1);
    assert_string_equal(inactive.users[0].iam_id, USER_B);
    assert_int_equal(inactive.service_id_count, 1);
    assert_string_equal(inactive.service_ids[0].id, SID_B);
    assert_int_equal(inactive.apikey_count, 1);
    assert_int_equal(iam_store_activity_inactive(f->store, f->arena, ACCOUNT_C, 1800000000, &inactive), IAM_OK);
    assert_int_equal(inactive.user_count + inactive.service_id_count + inactive.apikey_count, 0);
}

static void test_activity_reports(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A, 1700000000);
    add_account(f->store, ACCOUNT_B, 1700000000);
    int64_t revision = revision_of(f->store);
    struct iam_activity_report_record report = {
        .account_id = ACCOUNT_A, .reference = "r1", .created_by = USER_1, .created_at = 1000, .report = "{\"n\":1}",
    };
    assert_int_equal(iam_store_activity_report_insert(f->store, &report, 0, 10), IAM_OK);
    report.reference = "r2";
    report.report = "{\"n\":2}";
    assert_int_equal(iam_store_activity_report_insert(f->store, &report, 0, 10), IAM_OK); /* same second */
    assert_int_equal(revision_of(f->store), revision);

    struct iam_activity_report_record read;
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_A, "r1", &read), IAM_OK);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.reference, "r1");
    assert_string_equal(read.created_by, USER_1);
    assert_int_equal(read.created_at, 1000);
    assert_string_equal(read.report, "{\"n\":1}");
    /* the latest is the last made, even within one second */
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_A, NULL, &read), IAM_OK);
    assert_string_equal(read.reference, "r2");
    /* account scoping, unknown references, duplicates, unknown accounts */
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_B, "r1", &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_B, NULL, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_A, "r9", &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_activity_report_insert(f->store, &report, 0, 10), IAM_ECONFLICT);
    report.account_id = ACCOUNT_B; /* the same reference in another account is another report */
    assert_int_equal(iam_store_activity_report_insert(f->store, &report, 0, 10), IAM_OK);
    report.account_id = ACCOUNT_C;
    assert_int_equal(iam_store_activity_report_insert(f->store, &report, 0, 10), IAM_ENOTFOUND);

    /* pruning: older than keep_since, then all but the keep_max newest, in that account only */
    report.account_id = ACCOUNT_A;
    report.reference = "r3";
    report.created_at = 5000;
    assert_int_equal(iam_store_activity_report_insert(f->store, &report, 1001, 10), IAM_OK);
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_A, "r1", &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_A, "r2", &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_B, "r2", &read), IAM_OK);
    for (int i = 4; i <= 6; i++) {
        report.reference = iam_arena_printf(f->arena, "r%d", i);
        report.created_at = 5000 + i;
        assert_int_equal(iam_store_activity_report_insert(f->store, &report, 0, 2), IAM_OK);
    }
    assert_int_equal(test_store_integer(f->location.path,
                                        "SELECT count(*) FROM activity_reports WHERE account_id = '" ACCOUNT_A "'"),
                     2);
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_A, "r5", &read), IAM_OK);
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, ACCOUNT_A, NULL, &read), IAM_OK);
    assert_string_equal(read.reference, "r6");

    /* arguments */
    assert_int_equal(iam_store_activity_report_insert(f->store, &report, 0, 0), IAM_EINVAL);
    report.report = NULL;
    assert_int_equal(iam_store_activity_report_insert(f->store, &report, 0, 10), IAM_EINVAL);
    assert_int_equal(iam_store_activity_report_get(f->store, f->arena, NULL, "r5", &read), IAM_EINVAL);
    struct iam_activity_inactive inactive;
    assert_int_equal(iam_store_activity_inactive(f->store, NULL, ACCOUNT_A, 0, &inactive), IAM_EINVAL);
    struct iam_apikey_usage nameless = {.id = NULL, .last_authn = 1};
    assert_int_equal(iam_store_user_add_authn(f->store, &nameless, 1), IAM_EINVAL);
    assert_int_equal(iam_store_user_add_authn(f->store, NULL, 0), IAM_OK);
}

int main(void)
{
    iam_log_set_level(IAM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migration_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_upgrade_from_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_list_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_list_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_delete_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_count_and_permits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_delete_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_defs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activity_inactive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activity_reports, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
