/*
 * test_store_sqlite.c: the store interface over its SQLite backend.
 *
 * Each test opens a fresh database in its own mkdtemp directory under /tmp
 * and removes it afterwards. Some checks look at the file with sqlite3
 * directly (schema rows, journal mode) to see what the interface hides.
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/log.h"
#include "common/metrics.h"
#include "store/store.h"
#include "store/store_access.h"
#include "support/store_location.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ACCOUNT_C "cccccccccccccccccccccccccccccccc"

struct fixture {
    struct test_store_location location;
    struct iam_store *store;
    struct iam_arena *arena;
};

/* --- helpers --- */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_store_location_create(&f->location, "store");
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

static void add_account(struct iam_store *store, const char *id)
{
    struct iam_account_record account = {
        .id = id, .name = "an account", .owner_iam_id = "IBMid-OWNER00001", .state = "ACTIVE",
        .created_at = 1700000000, .modified_at = 1700000000,
    };
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
}

static int64_t revision_of(struct iam_store *store)
{
    int64_t revision = -1;
    assert_int_equal(iam_store_revision(store, &revision), IAM_OK);
    return revision;
}

/* A service ID numbered `n`; strings live in `arena`. */
static struct iam_service_id_record service_id_record(struct iam_arena *arena, const char *account_id, int n,
                                                      const char *name)
{
    struct iam_service_id_record record = {
        .id = iam_arena_printf(arena, "ServiceId-00000000-0000-4000-8000-%012d", n),
        .iam_id = iam_arena_printf(arena, "iam-ServiceId-00000000-0000-4000-8000-%012d", n),
        .account_id = account_id,
        .name = name,
        .unique_instance_crns = "[]",
        .created_by = "IBMid-OWNER00001",
        .entity_tag = "1-00000000000000000000000000000001",
        .created_at = 1700000000 + n,
        .modified_at = 1700000000 + n,
    };
    return record;
}

static void fill_hash(uint8_t hash[IAM_RECORD_HASH_SIZE], int seed)
{
    for (int i = 0; i < IAM_RECORD_HASH_SIZE; i++)
        hash[i] = (uint8_t)(seed * 31 + i * 7 + (seed >> 8));
}

/* An API key numbered `n` for `iam_id`; strings live in `arena`. */
static struct iam_apikey_record apikey_record(struct iam_arena *arena, const char *account_id, const char *iam_id,
                                              int n, const char *name)
{
    struct iam_apikey_record record = {
        .id = iam_arena_printf(arena, "ApiKey-00000000-0000-4000-8000-%012d", n),
        .account_id = account_id,
        .iam_id = iam_id,
        .name = name,
        .created_by = "IBMid-OWNER00001",
        .entity_tag = "1-00000000000000000000000000000001",
        .action_when_leaked = "none",
        .support_sessions = true,
        .created_at = 1700000000 + n,
        .modified_at = 1700000000 + n,
    };
    fill_hash(record.hash, n);
    return record;
}

static struct iam_history_record history_record(const char *entity_id, const char *action, int64_t timestamp)
{
    struct iam_history_record record = {
        .entity_id = entity_id, .timestamp = timestamp, .iam_id = "IBMid-OWNER00001",
        .iam_id_account = ACCOUNT_A, .action = action, .params = "[]", .message = action,
    };
    return record;
}

static size_t history_count(struct fixture *f, const char *entity_id)
{
    struct iam_history_record *items = NULL;
    size_t count = 0;
    assert_int_equal(iam_store_history_list(f->store, f->arena, entity_id, 1000, &items, &count), IAM_OK);
    return count;
}

/* --- open, migrations, revision --- */

static void test_migrations_reopen_idempotent(void **state)
{
    struct fixture *f = *state;
    int64_t version = 0;
    assert_int_equal(iam_store_schema_version(f->store, &version), IAM_OK);
    assert_true(version >= 1);
    add_account(f->store, ACCOUNT_A);

    iam_store_close(f->store);
    f->store = NULL;
    f->store = test_store_open(f->location.path);
    int64_t again = 0;
    assert_int_equal(iam_store_schema_version(f->store, &again), IAM_OK);
    assert_int_equal(again, version);
    assert_int_equal(test_store_integer(f->location.path, "SELECT count(*) FROM schema_migrations"), version);
    /* Data survived the reopen; WAL mode is recorded in the file. */
    int64_t accounts = 0;
    assert_int_equal(iam_store_account_count(f->store, &accounts), IAM_OK);
    assert_int_equal(accounts, 1);
    if (test_is_postgres(f->location.path))
        return; /* no file */
    assert_int_equal(test_store_integer(f->location.path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);

    struct stat info;
    assert_int_equal(stat(f->location.path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);
}

/* A database migrated by a newer iamd is refused rather than misread. */
static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    iam_store_close(f->store);
    f->store = NULL;
    static const char newer[] = "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)";
    if (test_is_postgres(f->location.path)) {
        test_postgres_exec(f->location.path, newer);
    } else {
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(f->location.path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, newer, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    }
    struct iam_error err;
    iam_error_clear(&err);
    assert_int_equal(iam_store_open(f->location.path, &f->store, &err), IAM_ESTORE);
    assert_null(f->store);
    assert_non_null(strstr(err.message, "newer"));
}

static void test_open_locations(void **state)
{
    struct fixture *f = *state;
    struct iam_store *other = NULL;
    struct iam_error err;
    assert_int_equal(iam_store_open("", &other, &err), IAM_EINVAL);
    assert_null(other);
    assert_int_equal(iam_store_open(":memory:", &other, &err), IAM_EINVAL);
    assert_int_equal(iam_store_open("sqlite:", &other, &err), IAM_EINVAL);
    /* A PostgreSQL URL goes to that backend: nothing listens on port 1. */
    assert_int_equal(iam_store_open("postgres://127.0.0.1:1/iamd?connect_timeout=2", &other, &err),
                     IAM_EUNAVAILABLE);
    assert_null(other);
    assert_int_equal(iam_store_open("postgresql://127.0.0.1:1/iamd?pool_size=0", &other, &err), IAM_EINVAL);

    /* "sqlite:PATH" opens the same database as PATH, concurrently (PostgreSQL: the same URL). */
    char location[600];
    snprintf(location, sizeof location, "%s%s", test_is_postgres(f->location.path) ? "" : "sqlite:", f->location.path);
    assert_int_equal(iam_store_open(location, &other, &err), IAM_OK);
    add_account(f->store, ACCOUNT_A);
    int64_t accounts = 0;
    assert_int_equal(iam_store_account_count(other, &accounts), IAM_OK);
    assert_int_equal(accounts, 1);
    iam_store_close(other);
    iam_store_close(NULL);
}

static void test_revision_bumps_on_writes_only(void **state)
{
    struct fixture *f = *state;
    int64_t start = revision_of(f->store);
    add_account(f->store, ACCOUNT_A);
    int64_t after_insert = revision_of(f->store);
    assert_true(after_insert > start);

    struct iam_account_record account;
    assert_int_equal(iam_store_account_get(f->store, f->arena, ACCOUNT_A, &account), IAM_OK);
    int64_t count = 0;
    assert_int_equal(iam_store_account_count(f->store, &count), IAM_OK);
    bool revoked = true;
    assert_int_equal(iam_store_revocation_exists(f->store, "jti-1", &revoked), IAM_OK);
    assert_int_equal(revision_of(f->store), after_insert);

    /* Failed writes and writes that change nothing leave it alone. */
    struct iam_account_record duplicate = {.id = ACCOUNT_A, .name = "x", .owner_iam_id = "y", .state = "ACTIVE"};
    assert_int_equal(iam_store_account_insert(f->store, &duplicate), IAM_ECONFLICT);
    assert_int_equal(iam_store_revocation_purge(f->store, 1800000000), IAM_OK);
    assert_int_equal(iam_store_signing_key_purge(f->store, 1800000000), IAM_OK);
    assert_int_equal(revision_of(f->store), after_insert);

    assert_int_equal(iam_store_meta_set(f->store, "bootstrapped", "yes"), IAM_OK);
    assert_int_equal(revision_of(f->store), after_insert + 1);
}

static void test_meta(void **state)
{
    struct fixture *f = *state;
    const char *value = "unchanged";
    assert_int_equal(iam_store_meta_get(f->store, f->arena, "bootstrapped", &value), IAM_ENOTFOUND);
    assert_int_equal(iam_store_meta_insert(f->store, "bootstrapped", "1"), IAM_OK);
    assert_int_equal(iam_store_meta_insert(f->store, "bootstrapped", "2"), IAM_ECONFLICT);
    assert_int_equal(iam_store_meta_get(f->store, f->arena, "bootstrapped", &value), IAM_OK);
    assert_string_equal(value, "1");
    assert_int_equal(iam_store_meta_set(f->store, "bootstrapped", "3"), IAM_OK);
    assert_int_equal(iam_store_meta_set(f->store, "fresh", "4"), IAM_OK);
    assert_int_equal(iam_store_meta_get(f->store, f->arena, "bootstrapped", &value), IAM_OK);
    assert_string_equal(value, "3");
    assert_int_equal(iam_store_meta_get(f->store, f->arena, "fresh", &value), IAM_OK);
    assert_string_equal(value, "4");
}

/* Every call that reaches the backend lands in the store call histogram once; refused arguments do not. */
static void test_calls_are_timed(void **state)
{
    struct fixture *f = *state;
    struct iam_metrics_histogram before, after;
    iam_metrics_store_calls(&before);
    int64_t revision = 0;
    const char *value = NULL;
    struct iam_account_record *items = NULL;
    size_t count = 0;
    bool more = false;
    assert_int_equal(iam_store_revision(f->store, &revision), IAM_OK);
    assert_int_equal(iam_store_meta_get(f->store, f->arena, "absent", &value), IAM_ENOTFOUND);
    assert_int_equal(iam_store_account_list(f->store, f->arena, 0, 2, &items, &count, &more), IAM_OK);
    assert_int_equal(iam_store_revision(f->store, NULL), IAM_EINVAL);
    iam_metrics_store_calls(&after);
    uint64_t calls = 0;
    for (int i = 0; i < IAM_METRICS_STORE_BUCKETS; i++)
        calls += after.buckets[i] - before.buckets[i];
    assert_int_equal(calls, 3);
    assert_true(after.sum_ns > before.sum_ns);
}

/* --- accounts and users --- */

static void test_account_and_user(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    add_account(f->store, ACCOUNT_B);
    struct iam_account_record account;
    assert_int_equal(iam_store_account_get(f->store, f->arena, ACCOUNT_A, &account), IAM_OK);
    assert_string_equal(account.id, ACCOUNT_A);
    assert_string_equal(account.name, "an account");
    assert_string_equal(account.owner_iam_id, "IBMid-OWNER00001");
    assert_string_equal(account.state, "ACTIVE");
    assert_int_equal(account.created_at, 1700000000);
    assert_int_equal(iam_store_account_get(f->store, f->arena, ACCOUNT_C, &account), IAM_ENOTFOUND);
    int64_t count = 0;
    assert_int_equal(iam_store_account_count(f->store, &count), IAM_OK);
    assert_int_equal(count, 2);

    struct iam_user_record user = {
        .iam_id = "IBMid-OWNER00001", .account_id = ACCOUNT_A, .login = "owner@example.com",
        .email = "owner@example.com", .given_name = "Ada", .family_name = "Lovelace", .state = "ACTIVE",
        .password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", .entity_tag = "1-x",
        .created_at = 1700000001, .modified_at = 1700000002,
    };
    assert_int_equal(iam_store_user_insert(f->store, &user), IAM_OK);
    struct iam_user_record read;
    assert_int_equal(iam_store_user_get(f->store, f->arena, ACCOUNT_A, user.iam_id, &read), IAM_OK);
    assert_string_equal(read.iam_id, user.iam_id);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.login, user.login);
    assert_string_equal(read.given_name, "Ada");
    assert_string_equal(read.family_name, "Lovelace");
    assert_string_equal(read.password_hash, user.password_hash);
    assert_int_equal(read.created_at, 1700000001);
    assert_int_equal(read.modified_at, 1700000002);
    assert_int_equal(iam_store_user_get(f->store, f->arena, ACCOUNT_B, user.iam_id, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_user_get_by_login(f->store, f->arena, "owner@example.com", &read), IAM_OK);
    assert_string_equal(read.iam_id, user.iam_id);
    assert_int_equal(iam_store_user_get_by_login(f->store, f->arena, "nobody@example.com", &read), IAM_ENOTFOUND);

    /* Login is unique across accounts; a user needs an existing account; absent strings stay NULL. */
    struct iam_user_record twin = user;
    twin.iam_id = "IBMid-OTHER00002";
    twin.account_id = ACCOUNT_B;
    assert_int_equal(iam_store_user_insert(f->store, &twin), IAM_ECONFLICT);
    struct iam_user_record orphan = {.iam_id = "IBMid-ORPHAN0003", .account_id = ACCOUNT_C, .login = "o@example.com",
                                     .state = "ACTIVE"};
    assert_int_equal(iam_store_user_insert(f->store, &orphan), IAM_ENOTFOUND);
    orphan.account_id = ACCOUNT_B;
    assert_int_equal(iam_store_user_insert(f->store, &orphan), IAM_OK);
    assert_int_equal(iam_store_user_get(f->store, f->arena, ACCOUNT_B, orphan.iam_id, &read), IAM_OK);
    assert_null(read.email);
    assert_null(read.password_hash);
    assert_null(read.entity_tag);
}

/* --- service IDs --- */

static void test_service_id_insert_get(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    add_account(f->store, ACCOUNT_B);

    struct iam_service_id_record bare = service_id_record(f->arena, ACCOUNT_A, 1, "bare");
    assert_int_equal(iam_store_service_id_insert(f->store, &bare, NULL, NULL, 0), IAM_OK);

    struct iam_service_id_record with_key = service_id_record(f->arena, ACCOUNT_A, 2, "with key");
    with_key.description = "has a first key";
    with_key.group_id = "AccessGroupId-1";
    with_key.locked = true;
    with_key.unique_instance_crns = "[\"crn:v1:x\"]";
    struct iam_apikey_record key = apikey_record(f->arena, ACCOUNT_A, with_key.iam_id, 1, "first key");
    struct iam_history_record history[2] = {history_record(with_key.id, "CreateServiceId", 1700000002),
                                            history_record(key.id, "CreateApiKey", 1700000002)};
    int64_t before = revision_of(f->store);
    assert_int_equal(iam_store_service_id_insert(f->store, &with_key, &key, history, 2), IAM_OK);
    assert_true(revision_of(f->store) > before);

    struct iam_service_id_record read;
    assert_int_equal(iam_store_service_id_get(f->store, f->arena, ACCOUNT_A, with_key.id, &read), IAM_OK);
    assert_string_equal(read.id, with_key.id);
    assert_string_equal(read.iam_id, with_key.iam_id);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.group_id, "AccessGroupId-1");
    assert_string_equal(read.name, "with key");
    assert_string_equal(read.description, "has a first key");
    assert_string_equal(read.unique_instance_crns, "[\"crn:v1:x\"]");
    assert_string_equal(read.created_by, "IBMid-OWNER00001");
    assert_string_equal(read.entity_tag, with_key.entity_tag);
    assert_true(read.locked);
    assert_int_equal(read.created_at, with_key.created_at);
    assert_int_equal(read.modified_at, with_key.modified_at);

    assert_int_equal(iam_store_service_id_get(f->store, f->arena, ACCOUNT_A, bare.id, &read), IAM_OK);
    assert_null(read.description);
    assert_null(read.group_id);
    assert_false(read.locked);

    assert_int_equal(iam_store_service_id_get_by_iam_id(f->store, f->arena, ACCOUNT_A, with_key.iam_id, &read),
                     IAM_OK);
    assert_string_equal(read.id, with_key.id);

    /* Another account sees nothing. */
    assert_int_equal(iam_store_service_id_get(f->store, f->arena, ACCOUNT_B, with_key.id, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_service_id_get_by_iam_id(f->store, f->arena, ACCOUNT_B, with_key.iam_id, &read),
                     IAM_ENOTFOUND);

    struct iam_apikey_record key_read;
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, key.id, &key_read), IAM_OK);
    assert_string_equal(key_read.iam_id, with_key.iam_id);
    assert_int_equal(history_count(f, with_key.id), 1);
    assert_int_equal(history_count(f, key.id), 1);

    /* A duplicate id fails as a whole: neither the key nor the history is left behind. */
    struct iam_service_id_record duplicate = service_id_record(f->arena, ACCOUNT_A, 1, "duplicate");
    duplicate.iam_id = "iam-ServiceId-ffffffff-0000-4000-8000-000000000001";
    struct iam_apikey_record key2 = apikey_record(f->arena, ACCOUNT_A, duplicate.iam_id, 2, "second");
    struct iam_history_record history2 = history_record(key2.id, "CreateApiKey", 1);
    before = revision_of(f->store);
    assert_int_equal(iam_store_service_id_insert(f->store, &duplicate, &key2, &history2, 1), IAM_ECONFLICT);
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, key2.id, &key_read), IAM_ENOTFOUND);
    assert_int_equal(history_count(f, key2.id), 0);
    assert_int_equal(revision_of(f->store), before);

    /* The first key must belong to the new service ID; the account must exist. */
    struct iam_service_id_record third = service_id_record(f->arena, ACCOUNT_A, 3, "third");
    struct iam_apikey_record foreign = apikey_record(f->arena, ACCOUNT_B, third.iam_id, 3, "foreign");
    assert_int_equal(iam_store_service_id_insert(f->store, &third, &foreign, NULL, 0), IAM_EINVAL);
    struct iam_service_id_record orphan = service_id_record(f->arena, ACCOUNT_C, 4, "orphan");
    assert_int_equal(iam_store_service_id_insert(f->store, &orphan, NULL, NULL, 0), IAM_ENOTFOUND);
}

static void test_service_id_list(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    add_account(f->store, ACCOUNT_B);
    add_account(f->store, ACCOUNT_C);
    static const char *const names[] = {"delta", "alpha", "charlie", "bravo", "alpha-two"};
    for (int i = 0; i < 5; i++) {
        struct iam_service_id_record record = service_id_record(f->arena, ACCOUNT_A, i + 1, names[i]);
        if (i == 2)
            record.group_id = "group-1";
        assert_int_equal(iam_store_service_id_insert(f->store, &record, NULL, NULL, 0), IAM_OK);
    }
    struct iam_service_id_record in_b = service_id_record(f->arena, ACCOUNT_B, 100, "alpha");
    assert_int_equal(iam_store_service_id_insert(f->store, &in_b, NULL, NULL, 0), IAM_OK);

    struct iam_service_id_record *items = NULL;
    size_t count = 0;
    bool has_more = false;

    /* Default order is created_at ascending; pages of 2. */
    struct iam_service_id_query query = {.account_id = ACCOUNT_A, .limit = 2};
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 2);
    assert_true(has_more);
    assert_string_equal(items[0].name, "delta");
    assert_string_equal(items[1].name, "alpha");
    query.offset = 4;
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 1);
    assert_false(has_more);
    assert_string_equal(items[0].name, "alpha-two");
    query.offset = 3; /* exactly the last page: no more */
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 2);
    assert_false(has_more);
    query.offset = 10;
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 0);
    assert_false(has_more);

    /* Exact name and substring. */
    struct iam_service_id_query by_name = {.account_id = ACCOUNT_A, .name = "alpha", .limit = 100};
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &by_name, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(items[0].name, "alpha");
    struct iam_service_id_query contains = {.account_id = ACCOUNT_A, .name_contains = "lph", .limit = 100,
                                            .sort = "name"};
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &contains, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 2);
    assert_string_equal(items[0].name, "alpha");
    assert_string_equal(items[1].name, "alpha-two");
    contains.name_contains = "%"; /* no wildcard meaning */
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &contains, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 0);
    struct iam_service_id_query by_group = {.account_id = ACCOUNT_A, .group_id = "group-1", .limit = 100};
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &by_group, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(items[0].name, "charlie");

    /* Sort by name both ways. */
    struct iam_service_id_query sorted = {.account_id = ACCOUNT_A, .sort = "name", .limit = 100};
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &sorted, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 5);
    static const char *const ascending[] = {"alpha", "alpha-two", "bravo", "charlie", "delta"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(items[i].name, ascending[i]);
    sorted.order = IAM_SORT_DESC;
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &sorted, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(items[i].name, ascending[4 - i]);
    sorted.sort = "modified_at";
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &sorted, &items, &count, &has_more), IAM_OK);
    assert_string_equal(items[0].name, "alpha-two");
    sorted.sort = "description";
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &sorted, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 5);

    /* Account isolation. */
    struct iam_service_id_query other = {.account_id = ACCOUNT_B, .limit = 100};
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &other, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(items[0].id, in_b.id);
    other.account_id = ACCOUNT_C;
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &other, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 0);
    assert_false(has_more);

    /* Bad queries. */
    struct iam_service_id_query bad = {.account_id = ACCOUNT_A, .sort = "name; DROP TABLE service_ids", .limit = 10};
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &bad, &items, &count, &has_more), IAM_EINVAL);
    bad.sort = "iam_id";
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &bad, &items, &count, &has_more), IAM_EINVAL);
    bad.sort = NULL;
    bad.limit = 0;
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &bad, &items, &count, &has_more), IAM_EINVAL);
    bad.limit = 101;
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &bad, &items, &count, &has_more), IAM_EINVAL);
    bad.limit = 10;
    bad.offset = -1;
    assert_int_equal(iam_store_service_id_list(f->store, f->arena, &bad, &items, &count, &has_more), IAM_EINVAL);
}

static void test_service_id_update(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    add_account(f->store, ACCOUNT_B);
    struct iam_service_id_record record = service_id_record(f->arena, ACCOUNT_A, 1, "before");
    assert_int_equal(iam_store_service_id_insert(f->store, &record, NULL, NULL, 0), IAM_OK);

    struct iam_service_id_record updated = record;
    updated.name = "after";
    updated.description = "described";
    updated.entity_tag = "2-00000000000000000000000000000002";
    updated.modified_at = 1800000000;
    updated.locked = true;
    /* Fields the update does not own are ignored. */
    updated.created_by = "IBMid-SOMEONE999";
    updated.created_at = 1;
    struct iam_history_record history = history_record(record.id, "UpdateServiceId", 1800000000);
    assert_int_equal(iam_store_service_id_update(f->store, &updated, record.entity_tag, &history), IAM_OK);
    struct iam_service_id_record read;
    assert_int_equal(iam_store_service_id_get(f->store, f->arena, ACCOUNT_A, record.id, &read), IAM_OK);
    assert_string_equal(read.name, "after");
    assert_string_equal(read.description, "described");
    assert_string_equal(read.entity_tag, updated.entity_tag);
    assert_int_equal(read.modified_at, 1800000000);
    assert_true(read.locked);
    assert_string_equal(read.created_by, "IBMid-OWNER00001");
    assert_int_equal(read.created_at, record.created_at);
    assert_int_equal(history_count(f, record.id), 1);

    /* The old tag is stale now; nothing changes, not even the revision. */
    int64_t before = revision_of(f->store);
    updated.name = "stale";
    assert_int_equal(iam_store_service_id_update(f->store, &updated, record.entity_tag, &history), IAM_ECONFLICT);
    assert_int_equal(revision_of(f->store), before);
    assert_int_equal(history_count(f, record.id), 1);
    assert_int_equal(iam_store_service_id_get(f->store, f->arena, ACCOUNT_A, record.id, &read), IAM_OK);
    assert_string_equal(read.name, "after");

    /* NULL expected tag: unconditional. */
    updated.name = "forced";
    updated.description = NULL;
    assert_int_equal(iam_store_service_id_update(f->store, &updated, NULL, NULL), IAM_OK);
    assert_int_equal(iam_store_service_id_get(f->store, f->arena, ACCOUNT_A, record.id, &read), IAM_OK);
    assert_string_equal(read.name, "forced");
    assert_null(read.description);

    /* Another account, or an id that does not exist: not found, even with the right tag. */
    struct iam_service_id_record elsewhere = updated;
    elsewhere.account_id = ACCOUNT_B;
    assert_int_equal(iam_store_service_id_update(f->store, &elsewhere, updated.entity_tag, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_store_service_id_update(f->store, &elsewhere, NULL, NULL), IAM_ENOTFOUND);
    struct iam_service_id_record missing = service_id_record(f->arena, ACCOUNT_A, 9, "missing");
    assert_int_equal(iam_store_service_id_update(f->store, &missing, NULL, NULL), IAM_ENOTFOUND);
}

static void test_service_id_delete_cascades(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    add_account(f->store, ACCOUNT_B);
    struct iam_service_id_record doomed = service_id_record(f->arena, ACCOUNT_A, 1, "doomed");
    struct iam_service_id_record kept = service_id_record(f->arena, ACCOUNT_A, 2, "kept");
    struct iam_apikey_record doomed_key1 = apikey_record(f->arena, ACCOUNT_A, doomed.iam_id, 1, "k1");
    struct iam_apikey_record doomed_key2 = apikey_record(f->arena, ACCOUNT_A, doomed.iam_id, 2, "k2");
    struct iam_apikey_record kept_key = apikey_record(f->arena, ACCOUNT_A, kept.iam_id, 3, "k3");
    struct iam_history_record doomed_history = history_record(doomed.id, "CreateServiceId", 1);
    struct iam_history_record key_history = history_record(doomed_key2.id, "CreateApiKey", 2);
    struct iam_history_record kept_history = history_record(kept_key.id, "CreateApiKey", 3);
    assert_int_equal(iam_store_service_id_insert(f->store, &doomed, &doomed_key1, &doomed_history, 1), IAM_OK);
    assert_int_equal(iam_store_apikey_insert(f->store, &doomed_key2, &key_history), IAM_OK);
    assert_int_equal(iam_store_service_id_insert(f->store, &kept, &kept_key, &kept_history, 1), IAM_OK);

    /* From another account: nothing happens. */
    assert_int_equal(iam_store_service_id_delete(f->store, ACCOUNT_B, doomed.id), IAM_ENOTFOUND);
    struct iam_apikey_record key;
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, doomed_key1.id, &key), IAM_OK);

    int64_t before = revision_of(f->store);
    assert_int_equal(iam_store_service_id_delete(f->store, ACCOUNT_A, doomed.id), IAM_OK);
    assert_true(revision_of(f->store) > before);
    struct iam_service_id_record read;
    assert_int_equal(iam_store_service_id_get(f->store, f->arena, ACCOUNT_A, doomed.id, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, doomed_key1.id, &key), IAM_ENOTFOUND);
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, doomed_key2.id, &key), IAM_ENOTFOUND);
    assert_int_equal(iam_store_apikey_get_by_hash(f->store, f->arena, doomed_key1.hash, &key), IAM_ENOTFOUND);
    assert_int_equal(history_count(f, doomed.id), 0);
    assert_int_equal(history_count(f, doomed_key2.id), 0);

    assert_int_equal(iam_store_service_id_get(f->store, f->arena, ACCOUNT_A, kept.id, &read), IAM_OK);
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, kept_key.id, &key), IAM_OK);
    assert_int_equal(history_count(f, kept_key.id), 1);

    before = revision_of(f->store);
    assert_int_equal(iam_store_service_id_delete(f->store, ACCOUNT_A, doomed.id), IAM_ENOTFOUND);
    assert_int_equal(revision_of(f->store), before);
}

/* --- API keys --- */

static void test_apikey_crud(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    add_account(f->store, ACCOUNT_B);
    static const uint8_t sealed[] = {0x00, 0x01, 0xfe, 0xff, 0x00, 0x42};
    struct iam_apikey_record record = apikey_record(f->arena, ACCOUNT_A, "IBMid-OWNER00001", 1, "user key");
    record.description = "for tests";
    record.sealed_value = sealed;
    record.sealed_value_length = sizeof sealed;
    record.expires_at = 1900000000;
    struct iam_history_record history = history_record(record.id, "CreateApiKey", 1);
    assert_int_equal(iam_store_apikey_insert(f->store, &record, &history), IAM_OK);

    struct iam_apikey_record read;
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, record.id, &read), IAM_OK);
    assert_string_equal(read.id, record.id);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.iam_id, "IBMid-OWNER00001");
    assert_string_equal(read.name, "user key");
    assert_string_equal(read.description, "for tests");
    assert_string_equal(read.created_by, record.created_by);
    assert_string_equal(read.entity_tag, record.entity_tag);
    assert_string_equal(read.action_when_leaked, "none");
    assert_memory_equal(read.hash, record.hash, IAM_RECORD_HASH_SIZE);
    assert_int_equal(read.sealed_value_length, sizeof sealed);
    assert_memory_equal(read.sealed_value, sealed, sizeof sealed);
    assert_false(read.locked);
    assert_false(read.disabled);
    assert_true(read.support_sessions);
    assert_int_equal(read.expires_at, 1900000000);
    assert_int_equal(read.created_at, record.created_at);
    assert_int_equal(read.last_authn, 0);
    assert_int_equal(read.authn_count, 0);

    /* By hash, across accounts; another account's get is not found. */
    assert_int_equal(iam_store_apikey_get_by_hash(f->store, f->arena, record.hash, &read), IAM_OK);
    assert_string_equal(read.id, record.id);
    uint8_t unknown[IAM_RECORD_HASH_SIZE];
    fill_hash(unknown, 999);
    assert_int_equal(iam_store_apikey_get_by_hash(f->store, f->arena, unknown, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_B, record.id, &read), IAM_ENOTFOUND);
    /* By id across accounts (audit attribution): the key and its account; an unknown id is not found. */
    assert_int_equal(iam_store_apikey_get_by_id(f->store, f->arena, record.id, &read), IAM_OK);
    assert_string_equal(read.account_id, record.account_id);
    assert_string_equal(read.iam_id, record.iam_id);
    assert_int_equal(iam_store_apikey_get_by_id(f->store, f->arena, "ApiKey-00000000-0000-0000-0000-000000000000", &read),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_store_apikey_get_by_id(f->store, f->arena, NULL, &read), IAM_EINVAL);

    /* Duplicates: same hash under another id, same id under another hash. */
    struct iam_apikey_record same_hash = apikey_record(f->arena, ACCOUNT_B, "IBMid-OTHER00002", 2, "clash");
    memcpy(same_hash.hash, record.hash, IAM_RECORD_HASH_SIZE);
    assert_int_equal(iam_store_apikey_insert(f->store, &same_hash, NULL), IAM_ECONFLICT);
    struct iam_apikey_record same_id = apikey_record(f->arena, ACCOUNT_A, "IBMid-OWNER00001", 1, "clash");
    fill_hash(same_id.hash, 3);
    assert_int_equal(iam_store_apikey_insert(f->store, &same_id, NULL), IAM_ECONFLICT);

    /* Update with the right, a stale and no tag. */
    struct iam_apikey_record updated = record;
    updated.name = "renamed";
    updated.description = NULL;
    updated.locked = true;
    updated.disabled = true;
    updated.support_sessions = false;
    updated.action_when_leaked = "delete";
    updated.expires_at = 0;
    updated.entity_tag = "2-00000000000000000000000000000002";
    updated.modified_at = 1800000000;
    updated.authn_count = 77; /* not the update's to change */
    struct iam_history_record update_history = history_record(record.id, "UpdateApiKey", 2);
    assert_int_equal(iam_store_apikey_update(f->store, &updated, record.entity_tag, &update_history), IAM_OK);
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, record.id, &read), IAM_OK);
    assert_string_equal(read.name, "renamed");
    assert_null(read.description);
    assert_true(read.locked);
    assert_true(read.disabled);
    assert_false(read.support_sessions);
    assert_string_equal(read.action_when_leaked, "delete");
    assert_int_equal(read.expires_at, 0);
    assert_int_equal(read.modified_at, 1800000000);
    assert_int_equal(read.authn_count, 0);
    assert_memory_equal(read.sealed_value, sealed, sizeof sealed);
    assert_int_equal(history_count(f, record.id), 2);
    assert_int_equal(iam_store_apikey_update(f->store, &updated, record.entity_tag, NULL), IAM_ECONFLICT);
    updated.name = "forced";
    assert_int_equal(iam_store_apikey_update(f->store, &updated, NULL, NULL), IAM_OK);
    struct iam_apikey_record elsewhere = updated;
    elsewhere.account_id = ACCOUNT_B;
    assert_int_equal(iam_store_apikey_update(f->store, &elsewhere, NULL, NULL), IAM_ENOTFOUND);

    /* Delete: another account cannot; then the key and its history go. */
    assert_int_equal(iam_store_apikey_delete(f->store, ACCOUNT_B, record.id), IAM_ENOTFOUND);
    assert_int_equal(iam_store_apikey_delete(f->store, ACCOUNT_A, record.id), IAM_OK);
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, record.id, &read), IAM_ENOTFOUND);
    assert_int_equal(history_count(f, record.id), 0);
    assert_int_equal(iam_store_apikey_delete(f->store, ACCOUNT_A, record.id), IAM_ENOTFOUND);
    /* The hash is free again. */
    assert_int_equal(iam_store_apikey_insert(f->store, &same_hash, NULL), IAM_OK);
}

static void test_apikey_list_filters(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    add_account(f->store, ACCOUNT_B);
    const char *service_iam_id = "iam-ServiceId-00000000-0000-4000-8000-000000000001";
    struct {
        const char *iam_id;
        const char *name;
        const char *created_by;
    } keys[] = {
        {"IBMid-OWNER00001", "owner one", "IBMid-C"},
        {"IBMid-OWNER00001", "owner two", "IBMid-A"},
        {"IBMid-OTHER00002", "other", "IBMid-B"},
        {service_iam_id, "service one", "IBMid-D"},
        {service_iam_id, "service two", "IBMid-E"},
        /* a user iam_id that only looks alike in another case */
        {"IAM-SERVICEID-not-a-service-id", "shouty user", "IBMid-F"},
    };
    for (int i = 0; i < 6; i++) {
        struct iam_apikey_record record = apikey_record(f->arena, ACCOUNT_A, keys[i].iam_id, i + 1, keys[i].name);
        record.created_by = keys[i].created_by;
        assert_int_equal(iam_store_apikey_insert(f->store, &record, NULL), IAM_OK);
    }
    struct iam_apikey_record in_b = apikey_record(f->arena, ACCOUNT_B, "IBMid-OWNER00001", 50, "owner in b");
    assert_int_equal(iam_store_apikey_insert(f->store, &in_b, NULL), IAM_OK);

    struct iam_apikey_record *items = NULL;
    size_t count = 0;
    bool has_more = false;
    struct iam_apikey_query query = {.account_id = ACCOUNT_A, .limit = 100};
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 6);
    assert_false(has_more);

    query.iam_id = "IBMid-OWNER00001";
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 2);
    assert_string_equal(items[0].name, "owner one");
    assert_string_equal(items[1].name, "owner two");

    query.iam_id = NULL;
    query.type = "serviceid";
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 2);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(items[i].iam_id, service_iam_id);
    query.type = "user";
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 4);
    for (size_t i = 0; i < count; i++)
        assert_string_not_equal(items[i].iam_id, service_iam_id);
    query.type = "user";
    query.name_contains = "owner";
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 2);

    /* Sorts and paging. */
    struct iam_apikey_query sorted = {.account_id = ACCOUNT_A, .sort = "created_by", .order = IAM_SORT_DESC,
                                      .limit = 2};
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &sorted, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 2);
    assert_true(has_more);
    assert_string_equal(items[0].created_by, "IBMid-F");
    assert_string_equal(items[1].created_by, "IBMid-E");
    sorted.sort = "name";
    sorted.order = IAM_SORT_ASC;
    sorted.offset = 4;
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &sorted, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 2);
    assert_false(has_more);
    assert_string_equal(items[0].name, "service two");
    assert_string_equal(items[1].name, "shouty user");

    /* Account isolation and bad input. */
    struct iam_apikey_query other = {.account_id = ACCOUNT_B, .limit = 100};
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &other, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(items[0].id, in_b.id);
    other.account_id = ACCOUNT_C;
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &other, &items, &count, &has_more), IAM_OK);
    assert_int_equal(count, 0);
    other.type = "robot";
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &other, &items, &count, &has_more), IAM_EINVAL);
    other.type = NULL;
    other.sort = "hash";
    assert_int_equal(iam_store_apikey_list(f->store, f->arena, &other, &items, &count, &has_more), IAM_EINVAL);
}

static void test_apikey_add_usage(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    struct iam_apikey_record first = apikey_record(f->arena, ACCOUNT_A, "IBMid-OWNER00001", 1, "first");
    struct iam_apikey_record second = apikey_record(f->arena, ACCOUNT_A, "IBMid-OWNER00001", 2, "second");
    assert_int_equal(iam_store_apikey_insert(f->store, &first, NULL), IAM_OK);
    assert_int_equal(iam_store_apikey_insert(f->store, &second, NULL), IAM_OK);

    struct iam_apikey_usage usage[] = {
        {.id = first.id, .count = 3, .last_authn = 1700000100},
        {.id = "ApiKey-gone", .count = 5, .last_authn = 1700000999},
        {.id = first.id, .count = 2, .last_authn = 1700000050}, /* older: last_authn stays */
        {.id = second.id, .count = 1, .last_authn = 1700000200},
    };
    int64_t before = revision_of(f->store);
    assert_int_equal(iam_store_apikey_add_usage(f->store, usage, 4), IAM_OK);
    assert_int_equal(revision_of(f->store), before); /* usage leaves caches keyed on the revision valid */
    struct iam_apikey_record read;
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, first.id, &read), IAM_OK);
    assert_int_equal(read.authn_count, 5);
    assert_int_equal(read.last_authn, 1700000100);
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, second.id, &read), IAM_OK);
    assert_int_equal(read.authn_count, 1);
    assert_int_equal(read.last_authn, 1700000200);

    struct iam_apikey_usage newer = {.id = first.id, .count = 1, .last_authn = 1700000300};
    assert_int_equal(iam_store_apikey_add_usage(f->store, &newer, 1), IAM_OK);
    assert_int_equal(iam_store_apikey_get(f->store, f->arena, ACCOUNT_A, first.id, &read), IAM_OK);
    assert_int_equal(read.authn_count, 6);
    assert_int_equal(read.last_authn, 1700000300);

    /* Only unknown ids, or nothing at all: no change. */
    before = revision_of(f->store);
    assert_int_equal(iam_store_apikey_add_usage(f->store, &usage[1], 1), IAM_OK);
    assert_int_equal(iam_store_apikey_add_usage(f->store, NULL, 0), IAM_OK);
    assert_int_equal(revision_of(f->store), before);
}

/* --- history --- */

static void test_history_order_and_limit(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    struct iam_service_id_record record = service_id_record(f->arena, ACCOUNT_A, 1, "with history");
    struct iam_history_record created = history_record(record.id, "CreateServiceId", 100);
    assert_int_equal(iam_store_service_id_insert(f->store, &record, NULL, &created, 1), IAM_OK);
    static const char *const actions[] = {"Update1", "Update2", "Update3", "Update4"};
    for (int i = 0; i < 4; i++) {
        struct iam_history_record history = history_record(record.id, actions[i], 100); /* same second */
        assert_int_equal(iam_store_service_id_update(f->store, &record, NULL, &history), IAM_OK);
    }
    struct iam_history_record *items = NULL;
    size_t count = 0;
    assert_int_equal(iam_store_history_list(f->store, f->arena, record.id, 3, &items, &count), IAM_OK);
    assert_int_equal(count, 3);
    assert_string_equal(items[0].action, "Update2");
    assert_string_equal(items[1].action, "Update3");
    assert_string_equal(items[2].action, "Update4");
    assert_string_equal(items[0].entity_id, record.id);
    assert_string_equal(items[0].iam_id, "IBMid-OWNER00001");
    assert_string_equal(items[0].iam_id_account, ACCOUNT_A);
    assert_string_equal(items[0].params, "[]");
    assert_int_equal(items[0].timestamp, 100);

    assert_int_equal(iam_store_history_list(f->store, f->arena, record.id, 50, &items, &count), IAM_OK);
    assert_int_equal(count, 5);
    assert_string_equal(items[0].action, "CreateServiceId");
    assert_string_equal(items[4].action, "Update4");
    assert_int_equal(iam_store_history_list(f->store, f->arena, record.id, 0, &items, &count), IAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(iam_store_history_list(f->store, f->arena, "ServiceId-none", 10, &items, &count), IAM_OK);
    assert_int_equal(count, 0);
}

/* --- signing keys --- */

static void test_signing_keys(void **state)
{
    struct fixture *f = *state;
    static const uint8_t sealed[] = {0xde, 0xad, 0xbe, 0xef};
    struct iam_signing_key_record keys[] = {
        {.kid = "k-later", .alg = "RS256", .public_jwk = "{\"kty\":\"RSA\"}", .sealed_private = sealed,
         .sealed_private_length = sizeof sealed, .created_at = 10, .activate_at = 300, .retire_at = 400,
         .expire_at = 500},
        {.kid = "k-old", .alg = "ES256", .public_jwk = "{\"kty\":\"EC\"}", .sealed_private = sealed,
         .sealed_private_length = sizeof sealed, .created_at = 5, .activate_at = 100, .retire_at = 200,
         .expire_at = 250},
        {.kid = "k-forever", .alg = "EdDSA", .public_jwk = "{\"kty\":\"OKP\"}", .sealed_private = sealed,
         .sealed_private_length = sizeof sealed, .created_at = 1, .activate_at = 200, .retire_at = 0,
         .expire_at = 0},
    };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(iam_store_signing_key_insert(f->store, &keys[i]), IAM_OK);
    assert_int_equal(iam_store_signing_key_insert(f->store, &keys[0]), IAM_ECONFLICT);

    struct iam_signing_key_record *items = NULL;
    size_t count = 0;
    assert_int_equal(iam_store_signing_key_list(f->store, f->arena, &items, &count), IAM_OK);
    assert_int_equal(count, 3);
    assert_string_equal(items[0].kid, "k-old");
    assert_string_equal(items[1].kid, "k-forever");
    assert_string_equal(items[2].kid, "k-later");
    assert_string_equal(items[0].alg, "ES256");
    assert_string_equal(items[0].public_jwk, "{\"kty\":\"EC\"}");
    assert_int_equal(items[0].sealed_private_length, sizeof sealed);
    assert_memory_equal(items[0].sealed_private, sealed, sizeof sealed);
    assert_int_equal(items[0].created_at, 5);
    assert_int_equal(items[0].activate_at, 100);
    assert_int_equal(items[0].retire_at, 200);
    assert_int_equal(items[0].expire_at, 250);

    /* Purge: expire_at before now goes; expire_at 0 (never) stays. */
    assert_int_equal(iam_store_signing_key_purge(f->store, 250), IAM_OK);
    assert_int_equal(iam_store_signing_key_list(f->store, f->arena, &items, &count), IAM_OK);
    assert_int_equal(count, 3);
    assert_int_equal(iam_store_signing_key_purge(f->store, 251), IAM_OK);
    assert_int_equal(iam_store_signing_key_list(f->store, f->arena, &items, &count), IAM_OK);
    assert_int_equal(count, 2);
    assert_int_equal(iam_store_signing_key_purge(f->store, 100000), IAM_OK);
    assert_int_equal(iam_store_signing_key_list(f->store, f->arena, &items, &count), IAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(items[0].kid, "k-forever");
}

/* --- settings --- */

static void test_settings(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    struct iam_settings_record read;
    assert_int_equal(iam_store_settings_get(f->store, f->arena, ACCOUNT_A, &read), IAM_ENOTFOUND);

    struct iam_settings_record settings = {.account_id = ACCOUNT_A, .settings = "{\"mfa\":\"NONE\"}",
                                           .entity_tag = "1-a", .modified_at = 100};
    /* A tag expected while there is no row yet is a conflict. */
    assert_int_equal(iam_store_settings_put(f->store, &settings, "1-zzz"), IAM_ECONFLICT);
    assert_int_equal(iam_store_settings_put(f->store, &settings, NULL), IAM_OK);
    assert_int_equal(iam_store_settings_get(f->store, f->arena, ACCOUNT_A, &read), IAM_OK);
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.settings, "{\"mfa\":\"NONE\"}");
    assert_string_equal(read.entity_tag, "1-a");
    assert_int_equal(read.modified_at, 100);

    struct iam_settings_record next = {.account_id = ACCOUNT_A, .settings = "{\"mfa\":\"TOTP\"}",
                                       .entity_tag = "2-b", .modified_at = 200};
    int64_t before = revision_of(f->store);
    assert_int_equal(iam_store_settings_put(f->store, &next, "0-stale"), IAM_ECONFLICT);
    assert_int_equal(revision_of(f->store), before);
    assert_int_equal(iam_store_settings_put(f->store, &next, "1-a"), IAM_OK);
    assert_int_equal(revision_of(f->store), before + 1);
    assert_int_equal(iam_store_settings_get(f->store, f->arena, ACCOUNT_A, &read), IAM_OK);
    assert_string_equal(read.settings, "{\"mfa\":\"TOTP\"}");
    assert_string_equal(read.entity_tag, "2-b");
    assert_int_equal(read.modified_at, 200);
    assert_int_equal(iam_store_settings_put(f->store, &settings, "1-a"), IAM_ECONFLICT);

    /* Settings of an account that does not exist. */
    struct iam_settings_record orphan = {.account_id = ACCOUNT_C, .settings = "{}", .entity_tag = "1-c"};
    assert_int_equal(iam_store_settings_put(f->store, &orphan, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_store_settings_get(f->store, f->arena, ACCOUNT_C, &read), IAM_ENOTFOUND);
}

/* --- revocations --- */

static void test_revocations(void **state)
{
    struct fixture *f = *state;
    bool revoked = true;
    assert_int_equal(iam_store_revocation_exists(f->store, "jti-1", &revoked), IAM_OK);
    assert_false(revoked);
    assert_int_equal(iam_store_revocation_insert(f->store, "jti-1", 1000), IAM_OK);
    assert_int_equal(iam_store_revocation_insert(f->store, "jti-2", 2000), IAM_OK);
    assert_int_equal(iam_store_revocation_exists(f->store, "jti-1", &revoked), IAM_OK);
    assert_true(revoked);

    /* Revoking again is fine; the later expiry is kept. */
    int64_t before = revision_of(f->store);
    assert_int_equal(iam_store_revocation_insert(f->store, "jti-1", 500), IAM_OK);
    assert_int_equal(revision_of(f->store), before);
    assert_int_equal(iam_store_revocation_insert(f->store, "jti-1", 1500), IAM_OK);

    assert_int_equal(iam_store_revocation_purge(f->store, 1500), IAM_OK);
    assert_int_equal(iam_store_revocation_exists(f->store, "jti-1", &revoked), IAM_OK);
    assert_true(revoked);
    assert_int_equal(iam_store_revocation_purge(f->store, 1501), IAM_OK);
    assert_int_equal(iam_store_revocation_exists(f->store, "jti-1", &revoked), IAM_OK);
    assert_false(revoked);
    assert_int_equal(iam_store_revocation_exists(f->store, "jti-2", &revoked), IAM_OK);
    assert_true(revoked);
}

/* --- threads --- */

#define THREADS 4
#define INSERTS_PER_THREAD 200

struct worker {
    struct iam_store *store;
    int index;
    int failures;
};

static void *insert_keys(void *argument)
{
    struct worker *worker = argument;
    struct iam_arena *arena = iam_arena_new();
    if (!arena) {
        worker->failures++;
        return NULL;
    }
    for (int i = 0; i < INSERTS_PER_THREAD; i++) {
        int n = worker->index * 100000 + i;
        struct iam_apikey_record record = apikey_record(arena, ACCOUNT_A, "IBMid-OWNER00001", n, "threaded");
        record.hash[0] = (uint8_t)worker->index; /* unique across threads */
        record.hash[1] = (uint8_t)(i >> 8);
        record.hash[2] = (uint8_t)i;
        if (iam_store_apikey_insert(worker->store, &record, NULL) != IAM_OK) {
            worker->failures++;
            continue;
        }
        /* Read it back through this thread's connection. */
        struct iam_apikey_record read;
        if (iam_store_apikey_get_by_hash(worker->store, arena, record.hash, &read) != IAM_OK ||
            strcmp(read.id, record.id) != 0)
            worker->failures++;
    }
    iam_arena_free(arena);
    return NULL;
}

static void run_workers(struct iam_store *store, int first_index)
{
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.store = store, .index = first_index + i};
        assert_int_equal(pthread_create(&threads[i], NULL, insert_keys, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(workers[i].failures, 0);
    }
}

static void test_threads(void **state)
{
    struct fixture *f = *state;
    add_account(f->store, ACCOUNT_A);
    int64_t before = revision_of(f->store);
    run_workers(f->store, 1);
    assert_int_equal(revision_of(f->store), before + THREADS * INSERTS_PER_THREAD);
    assert_int_equal(test_store_integer(f->location.path,
                                        "SELECT count(*) FROM apikeys"), THREADS * INSERTS_PER_THREAD);
    /* A second round of threads picks up the connections the first round left behind. */
    run_workers(f->store, 11);
    assert_int_equal(test_store_integer(f->location.path,
                                        "SELECT count(*) FROM apikeys"), 2 * THREADS * INSERTS_PER_THREAD);
}

int main(void)
{
    iam_log_set_level(IAM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_reopen_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_locations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revision_bumps_on_writes_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls_are_timed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_and_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_id_insert_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_id_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_id_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_id_delete_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apikey_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apikey_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apikey_add_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_order_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signing_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
