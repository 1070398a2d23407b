/*
 * test_store_postgres.c: what only the PostgreSQL backend does: its location
 * (pool_size), migrations by several nodes at once, several stores (nodes) on
 * one database, a connection lost and regained, a database gone
 * (IAM_EUNAVAILABLE), advisory locks, a small pool under many threads,
 * byte-wise ordering whatever the database's collation, and the signing
 * keyring of several nodes (shared keys, one node at a time rotates).
 *
 * Runs when IAMD_TEST_STORE is a PostgreSQL URL (a maintenance database, as
 * scripts/pg-test-cluster.sh run provides); every test skips otherwise. Each
 * test creates its own database and drops it afterwards. The store behaviour
 * shared with SQLite is tested by test_store_sqlite.c and
 * test_store_access.c, which run against PostgreSQL too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/log.h"
#include "crypto/random.h"
#include "iam/keyring.h"
#include "store/store.h"
#include "store/store_access.h"
#include "support/store_location.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct fixture {
    struct test_store_location location; /* base: the maintenance URL; path: the test's database */
    struct iam_arena *arena;
};

/* --- helpers --- */

static int setup(void **state)
{
    const char *base = getenv("IAMD_TEST_STORE");
    if (!test_is_postgres(base)) {
        *state = NULL;
        return 0;
    }
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_postgres_database_create(&f->location, base, "pgtest");
    f->arena = iam_arena_new();
    assert_non_null(f->arena);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (!f)
        return 0;
    test_postgres_database_drop(&f->location);
    iam_arena_free(f->arena);
    free(f);
    return 0;
}

/* The fixture, or a skip when no PostgreSQL is configured. */
static struct fixture *fixture_of(void **state)
{
    if (!*state)
        skip();
    return *state;
}

static void add_account(struct iam_store *store, const char *id)
{
    struct iam_account_record account = {
        .id = id, .name = "an account", .owner_iam_id = "IBMid-OWNER00001", .state = "ACTIVE",
        .created_at = 1700000000, .modified_at = 1700000000,
    };
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
}

static struct iam_service_id_record service_id_record(struct iam_arena *arena, int n, const char *name)
{
    struct iam_service_id_record record = {
        .id = iam_arena_printf(arena, "ServiceId-00000000-0000-4000-8000-%012d", n),
        .iam_id = iam_arena_printf(arena, "iam-ServiceId-00000000-0000-4000-8000-%012d", n),
        .account_id = ACCOUNT_A,
        .name = name,
        .unique_instance_crns = "[]",
        .entity_tag = "1-00000000000000000000000000000001",
        .created_at = 1700000000 + n,
        .modified_at = 1700000000 + n,
    };
    return record;
}

static int64_t revision_of(struct iam_store *store)
{
    int64_t revision = -1;
    assert_int_equal(iam_store_revision(store, &revision), IAM_OK);
    return revision;
}

/* --- the location --- */

static void test_location_pool_size(void **state)
{
    struct fixture *f = fixture_of(state);
    static const char *const bad[] = {"pool_size=0", "pool_size=101", "pool_size=", "pool_size=x", "pool_size=-1"};
    char location[700];
    struct iam_store *store = NULL;
    struct iam_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        test_url_with_database(f->location.base, f->location.database, bad[i], location, sizeof location);
        assert_int_equal(iam_store_open(location, &store, &err), IAM_EINVAL);
        assert_null(store);
    }
    /* libpq's own parameters pass through, before and after ours; unknown ones are refused. */
    test_url_with_database(f->location.base, f->location.database,
                           "application_name=first&pool_size=2&connect_timeout=3", location, sizeof location);
    store = test_store_open(location);
    add_account(store, ACCOUNT_A);
    iam_store_close(store);
    test_url_with_database(f->location.base, f->location.database, "no_such_parameter=1", location, sizeof location);
    assert_int_equal(iam_store_open(location, &store, &err), IAM_EINVAL);
    /* Messages never repeat a password. */
    assert_int_equal(iam_store_open("postgres://user:s3cret@127.0.0.1:1/x?connect_timeout=1", &store, &err),
                     IAM_EUNAVAILABLE);
    assert_null(strstr(err.message, "s3cret"));
    assert_non_null(strstr(err.message, "127.0.0.1:1/x"));
}

/* --- migrations by several nodes at once --- */

struct opener {
    const char *url;
    struct iam_store *store;
    enum iam_result result;
};

static void *open_concurrently(void *argument)
{
    struct opener *opener = argument;
    opener->result = iam_store_open(opener->url, &opener->store, NULL);
    return NULL;
}

static void test_concurrent_migration(void **state)
{
    struct fixture *f = fixture_of(state);
    enum { NODES = 4 };
    pthread_t threads[NODES];
    struct opener openers[NODES];
    for (int i = 0; i < NODES; i++) {
        openers[i] = (struct opener){.url = f->location.path};
        assert_int_equal(pthread_create(&threads[i], NULL, open_concurrently, &openers[i]), 0);
    }
    for (int i = 0; i < NODES; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(openers[i].result, IAM_OK);
    }
    int64_t version = 0;
    assert_int_equal(iam_store_schema_version(openers[0].store, &version), IAM_OK);
    assert_true(version >= 2);
    /* Each migration applied once, the revision row inserted once. */
    assert_int_equal(test_postgres_integer(f->location.path, "SELECT count(*) FROM schema_migrations"), version);
    assert_int_equal(test_postgres_integer(f->location.path, "SELECT count(*) FROM revision"), 1);
    for (int i = 0; i < NODES; i++)
        iam_store_close(openers[i].store);
}

/* --- two stores (two nodes) on one database --- */

static void test_two_nodes(void **state)
{
    struct fixture *f = fixture_of(state);
    struct iam_store *one = test_store_open(f->location.path);
    struct iam_store *two = test_store_open(f->location.path);
    add_account(one, ACCOUNT_A);
    int64_t before = revision_of(two);
    assert_int_equal(before, revision_of(one));

    /* A write through one is read through the other at once, and moves the shared revision. */
    struct iam_service_id_record record = service_id_record(f->arena, 1, "shared");
    assert_int_equal(iam_store_service_id_insert(one, &record, NULL, NULL, 0), IAM_OK);
    struct iam_service_id_record read;
    assert_int_equal(iam_store_service_id_get(two, f->arena, ACCOUNT_A, record.id, &read), IAM_OK);
    assert_string_equal(read.name, "shared");
    assert_int_equal(revision_of(two), before + 1);

    /* Conditional updates across nodes: the second writer with the old tag loses. */
    struct iam_service_id_record first = record, second = record;
    first.name = "first";
    first.entity_tag = "2-a";
    second.name = "second";
    second.entity_tag = "2-b";
    assert_int_equal(iam_store_service_id_update(one, &first, record.entity_tag, NULL), IAM_OK);
    assert_int_equal(iam_store_service_id_update(two, &second, record.entity_tag, NULL), IAM_ECONFLICT);
    assert_int_equal(iam_store_service_id_get(two, f->arena, ACCOUNT_A, record.id, &read), IAM_OK);
    assert_string_equal(read.name, "first");

    /* The bootstrap guard: one meta insert wins. */
    assert_int_equal(iam_store_meta_insert(one, "bootstrapped", "one"), IAM_OK);
    assert_int_equal(iam_store_meta_insert(two, "bootstrapped", "two"), IAM_ECONFLICT);
    iam_store_close(one);
    iam_store_close(two);
}

/* --- usage from several nodes adds up --- */

struct usage_worker {
    struct iam_store *store;
    const char *id;
    int batches;
    int failures;
};

static void *add_usage(void *argument)
{
    struct usage_worker *worker = argument;
    for (int i = 0; i < worker->batches; i++) {
        struct iam_apikey_usage usage = {.id = worker->id, .count = 3, .last_authn = 1700000000 + i};
        if (iam_store_apikey_add_usage(worker->store, &usage, 1) != IAM_OK)
            worker->failures++;
    }
    return NULL;
}

static void test_usage_adds_up(void **state)
{
    struct fixture *f = fixture_of(state);
    enum { NODES = 3, BATCHES = 40 };
    struct iam_store *stores[NODES];
    for (int i = 0; i < NODES; i++)
        stores[i] = test_store_open(f->location.path);
    add_account(stores[0], ACCOUNT_A);
    struct iam_apikey_record key = {
        .id = "ApiKey-usage", .account_id = ACCOUNT_A, .iam_id = "IBMid-OWNER00001", .name = "k",
        .entity_tag = "1-x", .action_when_leaked = "none",
    };
    memset(key.hash, 7, sizeof key.hash);
    assert_int_equal(iam_store_apikey_insert(stores[0], &key, NULL), IAM_OK);
    int64_t before = revision_of(stores[0]);
    pthread_t threads[NODES];
    struct usage_worker workers[NODES];
    for (int i = 0; i < NODES; i++) {
        workers[i] = (struct usage_worker){.store = stores[i], .id = key.id, .batches = BATCHES};
        assert_int_equal(pthread_create(&threads[i], NULL, add_usage, &workers[i]), 0);
    }
    for (int i = 0; i < NODES; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(workers[i].failures, 0);
    }
    struct iam_apikey_record read;
    assert_int_equal(iam_store_apikey_get(stores[1], f->arena, ACCOUNT_A, key.id, &read), IAM_OK);
    assert_int_equal(read.authn_count, NODES * BATCHES * 3);
    assert_int_equal(read.last_authn, 1700000000 + BATCHES - 1);
    assert_int_equal(revision_of(stores[2]), before); /* statistics */
    for (int i = 0; i < NODES; i++)
        iam_store_close(stores[i]);
}

/* --- connections lost and regained --- */

static void terminate_sessions(const struct fixture *f)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = '%s' AND pid <> pg_backend_pid()",
             f->location.database);
    assert_true(test_postgres_integer(f->location.base, sql) > 0);
}

static void test_reconnect(void **state)
{
    struct fixture *f = fixture_of(state);
    struct iam_store *store = test_store_open(f->location.path);
    add_account(store, ACCOUNT_A);
    int64_t count = 0;
    assert_int_equal(iam_store_account_count(store, &count), IAM_OK);

    /* The server drops every session (a restart, a failover): the next calls reconnect by themselves. */
    terminate_sessions(f);
    assert_int_equal(iam_store_account_count(store, &count), IAM_OK);
    assert_int_equal(count, 1);
    terminate_sessions(f);
    struct iam_service_id_record record = service_id_record(f->arena, 1, "after");
    assert_int_equal(iam_store_service_id_insert(store, &record, NULL, NULL, 0), IAM_OK);
    struct iam_access_snapshot snapshot;
    terminate_sessions(f);
    assert_int_equal(iam_store_access_snapshot(store, f->arena, &snapshot), IAM_OK);
    assert_int_equal(snapshot.account_count, 1);

    /* The database gone for good: calls fail with IAM_EUNAVAILABLE, nothing crashes. */
    char sql[200];
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", f->location.database);
    test_postgres_exec(f->location.base, sql);
    assert_int_equal(iam_store_account_count(store, &count), IAM_EUNAVAILABLE);
    assert_int_equal(iam_store_account_insert(store, &(struct iam_account_record){.id = "x", .name = "x",
                                                                                   .owner_iam_id = "x",
                                                                                   .state = "ACTIVE"}),
                     IAM_EUNAVAILABLE);
    bool acquired = true;
    assert_int_equal(iam_store_try_lock(store, "keyring", &acquired), IAM_EUNAVAILABLE);
    assert_false(acquired);

    /* It comes back (empty): the store reconnects once the brief backoff has passed. */
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->location.database);
    test_postgres_exec(f->location.base, sql);
    usleep(600 * 1000);
    assert_int_equal(iam_store_account_count(store, &count), IAM_ESTORE); /* no tables: not a crash either */
    iam_store_close(store);
}

/* --- advisory locks --- */

/* A session ending releases its locks as its server process exits, a moment after the client hangs up. */
static bool try_lock_within(struct iam_store *store, const char *name, int milliseconds)
{
    bool acquired = false;
    for (int waited = 0; waited <= milliseconds; waited += 20) {
        assert_int_equal(iam_store_try_lock(store, name, &acquired), IAM_OK);
        if (acquired)
            return true;
        usleep(20 * 1000);
    }
    return false;
}

static void test_advisory_locks(void **state)
{
    struct fixture *f = fixture_of(state);
    struct iam_store *one = test_store_open(f->location.path);
    struct iam_store *two = test_store_open(f->location.path);
    bool acquired = false;
    assert_int_equal(iam_store_try_lock(one, "keyring", &acquired), IAM_OK);
    assert_true(acquired);
    assert_int_equal(iam_store_try_lock(two, "keyring", &acquired), IAM_OK);
    assert_false(acquired);
    assert_int_equal(iam_store_try_lock(one, "keyring", &acquired), IAM_OK);
    assert_false(acquired); /* held by this store already */
    assert_int_equal(iam_store_try_lock(two, "other", &acquired), IAM_OK);
    assert_true(acquired);

    assert_int_equal(iam_store_unlock(one, "keyring"), IAM_OK);
    assert_int_equal(iam_store_unlock(one, "keyring"), IAM_ENOTFOUND);
    assert_int_equal(iam_store_try_lock(two, "keyring", &acquired), IAM_OK);
    assert_true(acquired);

    /* A node that goes away releases its locks with its session. */
    iam_store_close(two);
    assert_true(try_lock_within(one, "keyring", 3000));
    /* A lost lock session is noticed: the locks are gone, and can be taken again. */
    terminate_sessions(f);
    assert_true(try_lock_within(one, "other", 3000));
    assert_int_equal(iam_store_try_lock(one, "keyring", &acquired), IAM_OK);
    assert_true(acquired);
    iam_store_close(one);
}

/* --- a small pool, many threads --- */

struct insert_worker {
    struct iam_store *store;
    int index;
    int failures;
};

static void *insert_service_ids(void *argument)
{
    struct insert_worker *worker = argument;
    struct iam_arena *arena = iam_arena_new();
    if (!arena) {
        worker->failures++;
        return NULL;
    }
    for (int i = 0; i < 25; i++) {
        struct iam_service_id_record record = service_id_record(arena, worker->index * 1000 + i, "pooled");
        struct iam_service_id_record read;
        if (iam_store_service_id_insert(worker->store, &record, NULL, NULL, 0) != IAM_OK ||
            iam_store_service_id_get(worker->store, arena, ACCOUNT_A, record.id, &read) != IAM_OK)
            worker->failures++;
    }
    iam_arena_free(arena);
    return NULL;
}

static void test_small_pool(void **state)
{
    struct fixture *f = fixture_of(state);
    char location[700];
    test_url_with_database(f->location.base, f->location.database, "pool_size=1", location, sizeof location);
    struct iam_store *store = test_store_open(location);
    add_account(store, ACCOUNT_A);
    enum { THREADS = 6 };
    pthread_t threads[THREADS];
    struct insert_worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct insert_worker){.store = store, .index = i + 1};
        assert_int_equal(pthread_create(&threads[i], NULL, insert_service_ids, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(workers[i].failures, 0);
    }
    assert_int_equal(test_postgres_integer(f->location.path, "SELECT count(*) FROM service_ids"), THREADS * 25);
    /* One pooled connection (and no lock connection yet). */
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND application_name = 'iamd'",
             f->location.database);
    assert_int_equal(test_postgres_integer(f->location.base, sql), 1);
    iam_store_close(store);
}

/* --- ordering and case folding do not depend on the database's collation --- */

static void test_collation_independent(void **state)
{
    struct fixture *f = fixture_of(state);
    /* A database whose default collation sorts 'a' before 'B' and folds every letter (ICU en-US). */
    char sql[300], icu_url[700], icu_name[80];
    snprintf(icu_name, sizeof icu_name, "%s_icu", f->location.database);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", icu_name);
    test_postgres_exec(f->location.base, sql);
    snprintf(sql, sizeof sql,
             "CREATE DATABASE %s LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' TEMPLATE template0",
             icu_name);
    PGconn *pg = test_postgres_connect(f->location.base);
    PGresult *created = PQexec(pg, sql);
    bool have_icu = PQresultStatus(created) == PGRES_COMMAND_OK;
    PQclear(created);
    PQfinish(pg);
    if (!have_icu)
        skip(); /* a server built without ICU */
    test_url_with_database(f->location.base, icu_name, "", icu_url, sizeof icu_url);
    struct iam_store *store = test_store_open(icu_url);
    add_account(store, ACCOUNT_A);
    static const char *const names[] = {"a", "B", "\xc3\x84rzte", "_x"};
    for (int i = 0; i < 4; i++) {
        struct iam_service_id_record record = service_id_record(f->arena, i + 1, names[i]);
        assert_int_equal(iam_store_service_id_insert(store, &record, NULL, NULL, 0), IAM_OK);
    }
    struct iam_service_id_record *items = NULL;
    size_t count = 0;
    bool more = false;
    struct iam_service_id_query query = {.account_id = ACCOUNT_A, .sort = "name", .limit = 10};
    assert_int_equal(iam_store_service_id_list(store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_int_equal(count, 4);
    /* Bytes, as SQLite's BINARY: "B" < "_x" < "a" < "Ä...". */
    assert_string_equal(items[0].name, "B");
    assert_string_equal(items[1].name, "_x");
    assert_string_equal(items[2].name, "a");
    assert_string_equal(items[3].name, "\xc3\x84rzte");

    /* Group names: ASCII case folds (NOCASE), other letters do not; the search folds alike. */
    struct iam_group_record group = {
        .id = "AccessGroupId-1", .account_id = ACCOUNT_A, .name = "\xc3\x84rzte", .entity_tag = "1-x",
    };
    assert_int_equal(iam_store_group_insert(store, &group), IAM_OK);
    group.id = "AccessGroupId-2";
    group.name = "\xc3\xa4rzte"; /* lower-case a-umlaut: another name for NOCASE */
    assert_int_equal(iam_store_group_insert(store, &group), IAM_OK);
    group.id = "AccessGroupId-3";
    group.name = "\xc3\x84RZTE";
    assert_int_equal(iam_store_group_insert(store, &group), IAM_ECONFLICT);
    struct iam_group_record *groups = NULL;
    int64_t total = 0;
    struct iam_group_query search = {.account_id = ACCOUNT_A, .search = "\xc3\xa4RZ", .limit = 10};
    assert_int_equal(iam_store_group_list(store, f->arena, &search, &groups, &count, &total), IAM_OK);
    assert_int_equal(total, 1);
    assert_string_equal(groups[0].id, "AccessGroupId-2");
    iam_store_close(store);
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", icu_name);
    test_postgres_exec(f->location.base, sql);
}

/* --- the signing keyring of several nodes --- */

#define KEY_ROTATION 1000
#define KEY_RETENTION 300
#define KEY_T0 1800000000

struct keyring_node {
    struct iam_store *store;
    const uint8_t *kek;
    int64_t now;
    struct iam_keyring *keyring;
    enum iam_result result;
};

static const struct iam_keyring_options keyring_options = {
    .alg = IAM_JWT_ES256, .rotation = KEY_ROTATION, .retention = KEY_RETENTION};

static void *open_keyring(void *argument)
{
    struct keyring_node *node = argument;
    node->result = iam_keyring_open(node->store, node->kek, &keyring_options, node->now, &node->keyring, NULL);
    return NULL;
}

static void *maintain_keyring(void *argument)
{
    struct keyring_node *node = argument;
    node->result = iam_keyring_maintain(node->keyring, node->now);
    return NULL;
}

/* Runs `work` on every node at once. */
static void on_every_node(struct keyring_node *nodes, size_t count, void *(*work)(void *), int64_t now)
{
    pthread_t threads[8];
    assert_true(count <= 8);
    for (size_t i = 0; i < count; i++) {
        nodes[i].now = now;
        assert_int_equal(pthread_create(&threads[i], NULL, work, &nodes[i]), 0);
    }
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(nodes[i].result, IAM_OK);
    }
}

/* The kids a node publishes, sorted into one comma-separated string. */
static void published_kids(struct iam_keyring *keyring, int64_t now, char *out, size_t size)
{
    json_t *jwks = iam_keyring_jwks(keyring, now);
    assert_non_null(jwks);
    json_t *keys = json_object_get(jwks, "keys");
    const char *kids[16];
    size_t count = json_array_size(keys);
    assert_true(count <= 16);
    for (size_t i = 0; i < count; i++)
        kids[i] = json_string_value(json_object_get(json_array_get(keys, i), "kid"));
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && strcmp(kids[j - 1], kids[j]) > 0; j--) {
            const char *swap = kids[j];
            kids[j] = kids[j - 1];
            kids[j - 1] = swap;
        }
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i ? "," : "", kids[i]);
    }
    json_decref(jwks);
}

/* A token signed by `signer` at `now` verifies on `verifier`. */
static void assert_cross_verifies(struct iam_keyring *signer, struct iam_keyring *verifier, int64_t now)
{
    json_t *claims = json_pack("{s:s,s:I,s:I}", "sub", "x", "iat", (json_int_t)now, "exp", (json_int_t)(now + 60));
    assert_non_null(claims);
    char *token = NULL;
    assert_int_equal(iam_keyring_sign(signer, claims, now, &token), IAM_OK);
    struct iam_jwt_verify_options verify = {.now = now, .leeway = 0, .require_exp = true};
    json_t *verified = NULL;
    const char *reason = NULL;
    assert_int_equal(iam_keyring_verify(verifier, token, &verify, &verified, &reason), IAM_OK);
    json_decref(verified);
    json_decref(claims);
    free(token);
}

static void test_keyring_nodes(void **state)
{
    struct fixture *f = fixture_of(state);
    enum { NODES = 3 };
    uint8_t kek[IAM_AEAD_KEY_SIZE];
    assert_int_equal(iam_random_bytes(kek, sizeof kek), IAM_OK);
    struct keyring_node nodes[NODES];
    for (int i = 0; i < NODES; i++)
        nodes[i] = (struct keyring_node){.store = test_store_open(f->location.path), .kek = kek};

    /* Started together on an empty database: one active key and one successor, created once. */
    on_every_node(nodes, NODES, open_keyring, KEY_T0);
    assert_int_equal(test_postgres_integer(f->location.path, "SELECT count(*) FROM signing_keys"), 2);
    /* A node that opened while another held the keyring lock publishes the successor at
     * its next maintenance (the housekeeping thread runs it every few seconds). */
    for (int i = 0; i < NODES; i++)
        assert_int_equal(iam_keyring_maintain(nodes[i].keyring, KEY_T0), IAM_OK);
    assert_int_equal(test_postgres_integer(f->location.path, "SELECT count(*) FROM signing_keys"), 2);
    char first[400], other[400];
    published_kids(nodes[0].keyring, KEY_T0, first, sizeof first);
    for (int i = 1; i < NODES; i++) {
        published_kids(nodes[i].keyring, KEY_T0, other, sizeof other);
        assert_string_equal(other, first);
    }
    for (int i = 0; i < NODES; i++)
        assert_cross_verifies(nodes[i].keyring, nodes[(i + 1) % NODES].keyring, KEY_T0);

    /* The successor starts signing: every node maintains at once, one creates the next successor. */
    int64_t later = KEY_T0 + KEY_ROTATION;
    on_every_node(nodes, NODES, maintain_keyring, later);
    assert_int_equal(test_postgres_integer(f->location.path, "SELECT count(*) FROM signing_keys"), 3);
    /* The next maintenance publishes it everywhere, long before it signs. */
    on_every_node(nodes, NODES, maintain_keyring, later + 5);
    published_kids(nodes[0].keyring, later + 5, first, sizeof first);
    assert_non_null(strchr(first, ','));
    for (int i = 1; i < NODES; i++) {
        published_kids(nodes[i].keyring, later + 5, other, sizeof other);
        assert_string_equal(other, first);
    }
    for (int i = 0; i < NODES; i++)
        assert_cross_verifies(nodes[i].keyring, nodes[(i + 2) % NODES].keyring, later + 5);

    for (int i = 0; i < NODES; i++) {
        iam_keyring_free(nodes[i].keyring);
        iam_store_close(nodes[i].store);
    }
}

int main(void)
{
    iam_log_set_level(IAM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_location_pool_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_adds_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advisory_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collation_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyring_nodes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
