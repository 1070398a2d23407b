/*
 * test_store_copy.c: iam_store_copy (store/copy.h) and the table list it
 * walks (store/tables.h).
 *
 * The source is always a SQLite file filled through the store interface
 * with at least one row in every table (NULLs, booleans, blobs with zero
 * bytes, history over several pages). The target is a second SQLite file,
 * or, with IAMD_TEST_STORE set to a PostgreSQL maintenance URL (as
 * scripts/pg-test-cluster.sh run sets it), a fresh PostgreSQL database per
 * test. Copies use pages of 3 rows so every table crosses page boundaries.
 *
 * Whole-table comparisons ATTACH two SQLite files and compare every column
 * of every row (EXCEPT both ways); a PostgreSQL target is compared by
 * copying it back into a third SQLite file (the round trip).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/log.h"
#include "store/copy.h"
#include "store/store.h"
#include "store/store_access.h"
#include "store/store_activity.h"
#include "store/store_audit.h"
#include "store/store_sessions.h"
#include "store/tables.h"
#include "support/store_location.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ACCOUNT_C "cccccccccccccccccccccccccccccccc"
#define SERVICE_IDS 4
#define PAGE_ROWS 3

struct fixture {
    char dir[64];
    char source_path[128];
    struct test_store_location target; /* path: the target's location, a SQLite file or a PostgreSQL URL */
    char round_trip[128];              /* a third SQLite file */
    bool postgres;
    struct iam_store *source;
    struct iam_store *destination;
    struct iam_arena *arena;
};

/* --- raw SQLite helpers --- */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        fail_msg("open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK) {
        char copy[300];
        snprintf(copy, sizeof copy, "%s", message ? message : "?");
        sqlite3_free(message);
        fail_msg("%s: %s", sql, copy);
    }
}

static int64_t raw_integer(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK || sqlite3_step(statement) != SQLITE_ROW)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int64_t value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
}

/*
 * Asserts that every listed table holds the same rows, every column equal,
 * in the SQLite files `left` and `right`.
 */
static void assert_same_rows(const char *left, const char *right)
{
    sqlite3 *db = raw_open(left);
    sqlite3_stmt *attach = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS other", -1, &attach, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_bind_text(attach, 1, right, -1, SQLITE_STATIC), SQLITE_OK);
    assert_int_equal(sqlite3_step(attach), SQLITE_DONE);
    sqlite3_finalize(attach);
    for (size_t i = 0; i < iam_store_table_count; i++) {
        const char *name = iam_store_tables[i].name;
        char sql[300];
        snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM main.%s) - (SELECT count(*) FROM other.%s)", name,
                 name);
        if (raw_integer(db, sql) != 0)
            fail_msg("table %s: row counts differ", name);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT * FROM main.%s EXCEPT SELECT * FROM other.%s)", name,
                 name);
        if (raw_integer(db, sql) != 0)
            fail_msg("table %s: rows differ", name);
    }
    sqlite3_close(db);
}

/* --- fixture --- */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/iamd-copy-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->source_path, sizeof f->source_path, "%s/source.db", f->dir);
    snprintf(f->round_trip, sizeof f->round_trip, "%s/round-trip.db", f->dir);
    const char *location = getenv("IAMD_TEST_STORE");
    if (test_is_postgres(location)) {
        f->postgres = true;
        test_postgres_database_create(&f->target, location, "copy");
    } else {
        snprintf(f->target.path, sizeof f->target.path, "%s/target.db", f->dir);
    }
    f->source = test_store_open(f->source_path);
    f->destination = test_store_open(f->target.path);
    f->arena = iam_arena_new();
    assert_non_null(f->arena);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    iam_store_close(f->source);
    iam_store_close(f->destination);
    iam_arena_free(f->arena);
    if (f->postgres) {
        test_postgres_database_drop(&f->target);
    } else {
        test_sqlite_remove(f->target.path);
    }
    test_sqlite_remove(f->source_path);
    test_sqlite_remove(f->round_trip);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* --- the source's rows --- */

/* Bytes with a zero inside, so a copy that treats blobs as strings fails. */
static const uint8_t sealed_bytes[] = {0x01, 0x00, 0xff, 0x7f, 0x00, 0x80, 0x42};

static void hash_of(int n, uint8_t hash[IAM_RECORD_HASH_SIZE])
{
    for (int i = 0; i < IAM_RECORD_HASH_SIZE; i++)
        hash[i] = (uint8_t)(n * 31 + i * 7);
    hash[5] = 0; /* a zero byte inside */
}

static void add_account(struct iam_store *store, const char *id, const char *owner)
{
    struct iam_account_record account = {.id = id, .name = "Account", .owner_iam_id = owner, .state = "ACTIVE",
                                         .created_at = 1700000000, .modified_at = 1700000001};
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
}

static void add_service_id(struct iam_store *store, struct iam_arena *arena, int n)
{
    struct iam_service_id_record service_id = {
        .id = iam_arena_printf(arena, "ServiceId-%d", n),
        .iam_id = iam_arena_printf(arena, "iam-ServiceId-%d", n),
        .account_id = ACCOUNT_A,
        .name = iam_arena_printf(arena, "app-%d", n),
        .description = n % 2 ? "odd" : NULL,
        .unique_instance_crns = "[]",
        .created_by = "IBMid-owner",
        .entity_tag = "1-abc",
        .locked = n % 2 == 1,
        .created_at = 1700000100 + n,
        .modified_at = 1700000200 + n,
    };
    struct iam_apikey_record apikey = {
        .id = iam_arena_printf(arena, "ApiKey-%d", n),
        .account_id = ACCOUNT_A,
        .iam_id = service_id.iam_id,
        .name = iam_arena_printf(arena, "key-%d", n),
        .description = n % 2 ? NULL : "even key",
        .created_by = "IBMid-owner",
        .entity_tag = "1-def",
        .action_when_leaked = "disable",
        .sealed_value = n == 0 ? sealed_bytes : NULL,
        .sealed_value_length = n == 0 ? sizeof sealed_bytes : 0,
        .locked = n % 2 == 0,
        .disabled = n == 3,
        .support_sessions = true,
        .created_at = 1700000300 + n,
        .modified_at = 1700000400 + n,
        .expires_at = n == 2 ? 1900000000 : 0,
    };
    hash_of(n, apikey.hash);
    struct iam_history_record history[2] = {
        {.entity_id = service_id.id, .timestamp = 1700000500 + n, .iam_id = "IBMid-owner",
         .iam_id_account = ACCOUNT_A, .action = "CreateServiceId", .params = "[\"a\"]", .message = NULL},
        {.entity_id = service_id.id, .timestamp = 1700000600 + n, .iam_id = NULL, .iam_id_account = NULL,
         .action = "UpdateServiceId", .params = NULL, .message = "renamed"},
    };
    assert_int_equal(iam_store_service_id_insert(store, &service_id, &apikey, history, 2), IAM_OK);
}

/* Fills every table of the list with at least one row. */
static void populate(struct iam_store *store, struct iam_arena *arena)
{
    assert_int_equal(iam_store_meta_insert(store, "bootstrapped", ACCOUNT_A), IAM_OK);
    assert_int_equal(iam_store_meta_insert(store, "bootstrap_account", ACCOUNT_A), IAM_OK);
    add_account(store, ACCOUNT_A, "IBMid-owner");
    add_account(store, ACCOUNT_B, "IBMid-other");
    struct iam_user_record user = {.iam_id = "IBMid-owner", .account_id = ACCOUNT_A, .login = "admin",
                                   .email = NULL, .given_name = "Ada", .family_name = NULL, .state = "ACTIVE",
                                   .password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                                   .entity_tag = "1-u", .created_at = 1700000002, .modified_at = 1700000003};
    assert_int_equal(iam_store_user_insert(store, &user), IAM_OK);
    for (int n = 0; n < SERVICE_IDS; n++)
        add_service_id(store, arena, n);
    struct iam_apikey_usage usage = {.id = "ApiKey-1", .count = 42, .last_authn = 1700009999};
    assert_int_equal(iam_store_apikey_add_usage(store, &usage, 1), IAM_OK);
    struct iam_apikey_usage sign_in = {.id = "IBMid-owner", .count = 3, .last_authn = 1700008888};
    assert_int_equal(iam_store_user_add_authn(store, &sign_in, 1), IAM_OK);
    struct iam_activity_report_record report = {.account_id = ACCOUNT_A, .reference = "report-1",
                                                .created_by = "IBMid-owner", .created_at = 1700000020,
                                                .report = "{\"users\":[]}"};
    assert_int_equal(iam_store_activity_report_insert(store, &report, 0, 20), IAM_OK);
    struct iam_audit_record audit = {.seq = 1, .time_ms = 1700000030000, .request_id = "req-1",
                                     .phase = "request", .actor_iam_id = "IBMid-owner", .action = "POST /v1/serviceids",
                                     .method = "POST", .route = "/v1/serviceids", .account_id = ACCOUNT_A,
                                     .outcome = "pending", .status = 0, .mechanism = "bearer", .count = 3,
                                     .window_start_ms = 1700000029000};
    memset(audit.prev_hash, 0, sizeof audit.prev_hash);
    memset(audit.hash, 0xab, sizeof audit.hash);
    assert_int_equal(iam_store_audit_insert(store, &audit, "1:abab"), IAM_OK);
    struct iam_store_session_record session = {.kind = "user", .iam_id = "IBMid-owner", .account_id = ACCOUNT_A,
                                               .created_at = 1700000040, .last_seen_at = 1700000041,
                                               .expires_at = 1700086440, .idle_timeout = 7200};
    memset(session.hash, 0xcd, sizeof session.hash);
    assert_int_equal(iam_store_session_insert(store, &session, 0, 1700000040), IAM_OK);

    struct iam_signing_key_record key = {.kid = "kid-1", .alg = "RS256", .public_jwk = "{\"kty\":\"RSA\"}",
                                         .sealed_private = sealed_bytes,
                                         .sealed_private_length = sizeof sealed_bytes, .created_at = 1700000000,
                                         .activate_at = 1700000000, .retire_at = 1800000000,
                                         .expire_at = 1800003600};
    assert_int_equal(iam_store_signing_key_insert(store, &key), IAM_OK);
    struct iam_settings_record settings = {.account_id = ACCOUNT_A, .settings = "{\"mfa\":\"NONE\"}",
                                           .entity_tag = "1-s", .modified_at = 1700000010};
    assert_int_equal(iam_store_settings_put(store, &settings, NULL), IAM_OK);
    assert_int_equal(iam_store_revocation_insert(store, "jti-1", 1900000000), IAM_OK);

    struct iam_policy_record policy = {.id = "policy-1", .account_id = ACCOUNT_A, .type = "access",
                                       .api_version = "v1", .subject_kind = "iam_id",
                                       .subject_value = "iam-ServiceId-0", .service_name = "iam-identity",
                                       .document = "{\"roles\":[]}", .state = "active", .entity_tag = "1-p",
                                       .created_by = "IBMid-owner", .modified_by = NULL,
                                       .created_at_ms = 1700000000123, .modified_at_ms = 1700000000456};
    assert_int_equal(iam_store_policy_insert(store, &policy), IAM_OK);
    struct iam_policy_permit permit = {.id = "policy-1", .count = 5, .last_permit_at = 1700000777};
    assert_int_equal(iam_store_policy_add_permits(store, &permit, 1), IAM_OK);
    struct iam_policy_record deleted = policy;
    deleted.id = "policy-2";
    deleted.state = "deleted";
    deleted.service_name = NULL;
    assert_int_equal(iam_store_policy_insert(store, &deleted), IAM_OK);

    struct iam_role_record role = {.id = "726f6c65", .account_id = ACCOUNT_A, .name = "Auditor",
                                   .display_name = "Auditor", .description = NULL, .service_name = "iam-identity",
                                   .actions = "[\"iam-identity.serviceid.get\"]", .crn = "crn:v1:role",
                                   .entity_tag = "1-r", .created_by = "IBMid-owner", .modified_by = "IBMid-owner",
                                   .created_at_ms = 1700000000001, .modified_at_ms = 1700000000002};
    assert_int_equal(iam_store_role_insert(store, &role), IAM_OK);
    struct iam_group_record group = {.id = "AccessGroupId-1", .account_id = ACCOUNT_A, .name = "Admins",
                                     .description = "the admins", .entity_tag = "1-g", .created_by = "IBMid-owner",
                                     .modified_by = NULL, .created_at_ms = 1700000000003,
                                     .modified_at_ms = 1700000000004};
    assert_int_equal(iam_store_group_insert(store, &group), IAM_OK);
    struct iam_group_member_record member = {.group_id = "AccessGroupId-1", .account_id = ACCOUNT_A,
                                             .iam_id = "iam-ServiceId-1", .type = "service",
                                             .created_by = "IBMid-owner", .created_at_ms = 1700000000005};
    assert_int_equal(iam_store_member_add(store, &member), IAM_OK);
    member.iam_id = "IBMid-owner";
    member.type = "user";
    member.created_by = NULL;
    assert_int_equal(iam_store_member_add(store, &member), IAM_OK);
    struct iam_service_def_record service = {.name = "billing", .document = "{\"actions\":[]}", .entity_tag = "1-d",
                                             .created_by = NULL, .created_at = 1700000020, .modified_at = 1700000021};
    assert_int_equal(iam_store_service_def_put(store, &service, NULL), IAM_OK);
    struct iam_access_settings_record access_settings = {.account_id = ACCOUNT_A, .settings = "{}",
                                                         .entity_tag = "1-a", .modified_at = 1700000030};
    assert_int_equal(iam_store_access_settings_put(store, &access_settings, NULL), IAM_OK);
}

static enum iam_result copy(struct iam_store *source, struct iam_store *target, bool replace,
                            struct iam_store_copy_report *report, struct iam_error *err)
{
    struct iam_store_copy_options options = {.replace = replace, .page_rows = PAGE_ROWS};
    iam_error_clear(err);
    return iam_store_copy(source, target, &options, report, err);
}

static void assert_copy_ok(struct iam_store *source, struct iam_store *target, bool replace)
{
    struct iam_store_copy_report report;
    struct iam_error err;
    enum iam_result result = copy(source, target, replace, &report, &err);
    if (result != IAM_OK)
        fail_msg("iam_store_copy: %s: %s", iam_strerror(result), err.message);
}

static int64_t revision_of(struct iam_store *store)
{
    int64_t revision = -1;
    assert_int_equal(iam_store_revision(store, &revision), IAM_OK);
    return revision;
}

static int64_t accounts_in(struct iam_store *store)
{
    int64_t count = -1;
    assert_int_equal(iam_store_account_count(store, &count), IAM_OK);
    return count;
}

/* --- the table list against the schema --- */

static const struct iam_store_table *listed(const char *name)
{
    for (size_t i = 0; i < iam_store_table_count; i++) {
        if (strcmp(iam_store_tables[i].name, name) == 0)
            return &iam_store_tables[i];
    }
    return NULL;
}

static size_t position_of(const char *name)
{
    for (size_t i = 0; i < iam_store_table_count; i++) {
        if (strcmp(iam_store_tables[i].name, name) == 0)
            return i;
    }
    return SIZE_MAX;
}

/* SQLite's declared type for a kind (STRICT tables: booleans are INTEGER). */
static const char *sqlite_type_of(enum iam_store_column_kind kind)
{
    return kind == IAM_STORE_COLUMN_TEXT ? "TEXT" : kind == IAM_STORE_COLUMN_BLOB ? "BLOB" : "INTEGER";
}

/* Every data table of the SQLite schema is listed, with its columns in order, after the tables it references. */
static void test_table_list_matches_sqlite_schema(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = raw_open(f->source_path);
    sqlite3_stmt *tables = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN "
                                        "('schema_migrations', 'revision', 'sqlite_sequence') ORDER BY name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    size_t seen = 0;
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        const struct iam_store_table *table = listed(name);
        if (!table)
            fail_msg("table %s is in the schema but not in src/store/tables.c", name);
        seen++;
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT name, type FROM pragma_table_info('%s') ORDER BY cid", name);
        sqlite3_stmt *columns = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &columns, NULL), SQLITE_OK);
        size_t c = 0;
        while (sqlite3_step(columns) == SQLITE_ROW) {
            const char *column = (const char *)sqlite3_column_text(columns, 0);
            const char *type = (const char *)sqlite3_column_text(columns, 1);
            if (c >= table->column_count)
                fail_msg("%s.%s is not in src/store/tables.c", name, column);
            if (strcmp(table->columns[c].name, column) != 0 ||
                strcmp(sqlite_type_of(table->columns[c].kind), type) != 0)
                fail_msg("%s column %zu: schema has %s %s, tables.c %s", name, c, column, type,
                         table->columns[c].name);
            c++;
        }
        sqlite3_finalize(columns);
        assert_int_equal(c, table->column_count);
        snprintf(sql, sizeof sql, "SELECT \"table\" FROM pragma_foreign_key_list('%s')", name);
        sqlite3_stmt *references = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &references, NULL), SQLITE_OK);
        while (sqlite3_step(references) == SQLITE_ROW) {
            const char *parent = (const char *)sqlite3_column_text(references, 0);
            if (position_of(parent) >= position_of(name))
                fail_msg("%s references %s, which tables.c lists after it", name, parent);
        }
        sqlite3_finalize(references);
    }
    sqlite3_finalize(tables);
    sqlite3_close(db);
    assert_int_equal(seen, iam_store_table_count);
}

static const char *postgres_type_of(enum iam_store_column_kind kind)
{
    switch (kind) {
    case IAM_STORE_COLUMN_TEXT:
        return "text";
    case IAM_STORE_COLUMN_INTEGER:
        return "bigint";
    case IAM_STORE_COLUMN_BOOLEAN:
        return "boolean";
    case IAM_STORE_COLUMN_BLOB:
        return "bytea";
    }
    return "?";
}

/* PostgreSQL target only: its tables have the listed columns, in order, with the kinds' types. */
static void test_table_list_matches_postgres_schema(void **state)
{
    struct fixture *f = *state;
    if (!f->postgres)
        skip();
    PGconn *pg = test_postgres_connect(f->target.path);
    for (size_t i = 0; i < iam_store_table_count; i++) {
        const struct iam_store_table *table = &iam_store_tables[i];
        const char *values[1] = {table->name};
        PGresult *result = PQexecParams(pg,
                                        "SELECT column_name, data_type FROM information_schema.columns "
                                        "WHERE table_schema = current_schema() AND table_name = $1 "
                                        "ORDER BY ordinal_position",
                                        1, NULL, values, NULL, NULL, 0);
        assert_int_equal(PQresultStatus(result), PGRES_TUPLES_OK);
        if ((size_t)PQntuples(result) != table->column_count)
            fail_msg("%s: PostgreSQL has %d columns, tables.c %zu", table->name, PQntuples(result),
                     table->column_count);
        for (size_t c = 0; c < table->column_count; c++) {
            const char *expected = postgres_type_of(table->columns[c].kind);
            if (strcmp(PQgetvalue(result, (int)c, 0), table->columns[c].name) != 0 ||
                strcmp(PQgetvalue(result, (int)c, 1), expected) != 0)
                fail_msg("%s column %zu: PostgreSQL has %s %s, tables.c %s %s", table->name, c,
                         PQgetvalue(result, (int)c, 0), PQgetvalue(result, (int)c, 1), table->columns[c].name,
                         expected);
        }
        PQclear(result);
    }
    PQfinish(pg);
}

/* --- copies --- */

static void test_copy_counts_every_table(void **state)
{
    struct fixture *f = *state;
    populate(f->source, f->arena);
    int64_t before = revision_of(f->destination);
    struct iam_store_copy_report report;
    struct iam_error err;
    enum iam_result result = copy(f->source, f->destination, false, &report, &err);
    if (result != IAM_OK)
        fail_msg("iam_store_copy: %s: %s", iam_strerror(result), err.message);
    assert_int_equal(report.table_count, iam_store_table_count);
    assert_null(report.mismatch_table);
    int64_t total = 0;
    for (size_t i = 0; i < report.table_count; i++) {
        const struct iam_store_copy_count *count = &report.tables[i];
        assert_string_equal(count->table, iam_store_tables[i].name);
        if (count->source < 1)
            fail_msg("the fixture leaves table %s empty: fill it in populate()", count->table);
        assert_int_equal(count->copied, count->source);
        assert_int_equal(count->target, count->source);
        total += count->source;
    }
    assert_int_equal(report.rows, total);
    assert_int_equal(report.tables[position_of("history")].source, 2 * SERVICE_IDS); /* several pages */
    assert_true(report.target_revision > before);
    assert_int_equal(report.target_revision, revision_of(f->destination));
    if (!f->postgres)
        assert_same_rows(f->source_path, f->target.path);
}

/* A few entities read back through the store interface of the target, field by field. */
static void test_copy_entities_read_back(void **state)
{
    struct fixture *f = *state;
    populate(f->source, f->arena);
    assert_copy_ok(f->source, f->destination, false);
    struct iam_store *t = f->destination;
    struct iam_arena *a = f->arena;

    const char *value = NULL;
    assert_int_equal(iam_store_meta_get(t, a, "bootstrapped", &value), IAM_OK);
    assert_string_equal(value, ACCOUNT_A);

    struct iam_user_record user;
    assert_int_equal(iam_store_user_get_by_login(t, a, "admin", &user), IAM_OK);
    assert_string_equal(user.iam_id, "IBMid-owner");
    assert_null(user.email);
    assert_null(user.family_name);
    assert_string_equal(user.given_name, "Ada");
    assert_string_equal(user.password_hash, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");

    struct iam_service_id_record service_id;
    assert_int_equal(iam_store_service_id_get(t, a, ACCOUNT_A, "ServiceId-1", &service_id), IAM_OK);
    assert_true(service_id.locked);
    assert_string_equal(service_id.description, "odd");
    assert_int_equal(service_id.created_at, 1700000101);
    assert_int_equal(iam_store_service_id_get(t, a, ACCOUNT_A, "ServiceId-2", &service_id), IAM_OK);
    assert_false(service_id.locked);
    assert_null(service_id.description);

    /* Keys are found by hash (authentication), with their sealed value and usage counters. */
    struct iam_apikey_record key;
    uint8_t hash[IAM_RECORD_HASH_SIZE];
    hash_of(0, hash);
    assert_int_equal(iam_store_apikey_get_by_hash(t, a, hash, &key), IAM_OK);
    assert_string_equal(key.id, "ApiKey-0");
    assert_int_equal(key.sealed_value_length, sizeof sealed_bytes);
    assert_memory_equal(key.sealed_value, sealed_bytes, sizeof sealed_bytes);
    assert_true(key.locked);
    assert_false(key.disabled);
    assert_true(key.support_sessions);
    hash_of(1, hash);
    assert_int_equal(iam_store_apikey_get_by_hash(t, a, hash, &key), IAM_OK);
    assert_string_equal(key.id, "ApiKey-1");
    assert_null(key.sealed_value);
    assert_int_equal(key.authn_count, 42);
    assert_int_equal(key.last_authn, 1700009999);
    assert_false(key.locked);
    hash_of(3, hash);
    assert_int_equal(iam_store_apikey_get_by_hash(t, a, hash, &key), IAM_OK);
    assert_true(key.disabled);

    struct iam_history_record *history = NULL;
    size_t count = 0;
    assert_int_equal(iam_store_history_list(t, a, "ServiceId-2", 10, &history, &count), IAM_OK);
    assert_int_equal(count, 2);
    assert_string_equal(history[0].action, "CreateServiceId");
    assert_string_equal(history[0].params, "[\"a\"]");
    assert_null(history[0].message);
    assert_string_equal(history[1].action, "UpdateServiceId");
    assert_null(history[1].iam_id);
    assert_string_equal(history[1].message, "renamed");

    struct iam_signing_key_record *keys = NULL;
    assert_int_equal(iam_store_signing_key_list(t, a, &keys, &count), IAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(keys[0].kid, "kid-1");
    assert_int_equal(keys[0].sealed_private_length, sizeof sealed_bytes);
    assert_memory_equal(keys[0].sealed_private, sealed_bytes, sizeof sealed_bytes);
    assert_int_equal(keys[0].expire_at, 1800003600);

    bool revoked = false;
    assert_int_equal(iam_store_revocation_exists(t, "jti-1", &revoked), IAM_OK);
    assert_true(revoked);

    struct iam_policy_record policy;
    assert_int_equal(iam_store_policy_get(t, a, ACCOUNT_A, "policy-1", &policy), IAM_OK);
    assert_string_equal(policy.state, "active");
    assert_string_equal(policy.subject_value, "iam-ServiceId-0");
    assert_int_equal(policy.created_at_ms, 1700000000123);
    assert_int_equal(policy.last_permit_at, 1700000777);
    assert_int_equal(policy.last_permit_frequency, 5);
    assert_null(policy.modified_by);
    assert_int_equal(iam_store_policy_get(t, a, ACCOUNT_A, "policy-2", &policy), IAM_OK);
    assert_string_equal(policy.state, "deleted");

    struct iam_group_member_record member;
    assert_int_equal(iam_store_member_get(t, a, ACCOUNT_A, "AccessGroupId-1", "iam-ServiceId-1", &member), IAM_OK);
    assert_string_equal(member.type, "service");

    /* The decision engine's view: active policies, roles, members, services. */
    struct iam_access_snapshot snapshot;
    assert_int_equal(iam_store_access_snapshot(t, a, &snapshot), IAM_OK);
    assert_int_equal(snapshot.policy_count, 1);
    assert_int_equal(snapshot.role_count, 1);
    assert_int_equal(snapshot.member_count, 2);
    assert_int_equal(snapshot.service_count, 1);
}

/* The copied database takes new writes: history's generated seq continues after the copied ones. */
static void test_copy_target_takes_new_writes(void **state)
{
    struct fixture *f = *state;
    populate(f->source, f->arena);
    assert_copy_ok(f->source, f->destination, false);
    add_service_id(f->destination, f->arena, SERVICE_IDS + 1);
    struct iam_history_record *history = NULL;
    size_t count = 0;
    char entity[32];
    snprintf(entity, sizeof entity, "ServiceId-%d", SERVICE_IDS + 1);
    assert_int_equal(iam_store_history_list(f->destination, f->arena, entity, 10, &history, &count), IAM_OK);
    assert_int_equal(count, 2);
    assert_int_equal(iam_store_history_list(f->destination, f->arena, "ServiceId-0", 10, &history, &count), IAM_OK);
    assert_int_equal(count, 2);
}

static void test_copy_refuses_non_empty_target(void **state)
{
    struct fixture *f = *state;
    populate(f->source, f->arena);
    add_account(f->destination, ACCOUNT_C, "IBMid-c");
    int64_t before = revision_of(f->destination);
    struct iam_store_copy_report report;
    struct iam_error err;
    assert_int_equal(copy(f->source, f->destination, false, &report, &err), IAM_ECONFLICT);
    assert_non_null(strstr(err.message, "not empty"));
    assert_non_null(strstr(err.message, "accounts"));
    /* Nothing written. */
    assert_int_equal(accounts_in(f->destination), 1);
    assert_int_equal(revision_of(f->destination), before);
    const char *value = NULL;
    assert_int_equal(iam_store_meta_get(f->destination, f->arena, "bootstrapped", &value), IAM_ENOTFOUND);

    /* Any table counts: a target holding only a revoked token is not empty either. */
    struct iam_store *other = NULL;
    char path[200];
    snprintf(path, sizeof path, "%s/other.db", f->dir);
    other = test_store_open(path);
    assert_int_equal(iam_store_revocation_insert(other, "jti-x", 1900000000), IAM_OK);
    assert_int_equal(copy(f->source, other, false, &report, &err), IAM_ECONFLICT);
    assert_non_null(strstr(err.message, "revoked_refresh_tokens"));
    iam_store_close(other);
    test_sqlite_remove(path);
}

static void test_copy_replace_empties_target_first(void **state)
{
    struct fixture *f = *state;
    populate(f->source, f->arena);
    add_account(f->destination, ACCOUNT_C, "IBMid-c");
    assert_int_equal(iam_store_meta_insert(f->destination, "bootstrapped", ACCOUNT_C), IAM_OK);
    int64_t before = revision_of(f->destination);
    struct iam_store_copy_report report;
    struct iam_error err;
    enum iam_result result = copy(f->source, f->destination, true, &report, &err);
    if (result != IAM_OK)
        fail_msg("iam_store_copy: %s: %s", iam_strerror(result), err.message);
    struct iam_account_record account;
    assert_int_equal(iam_store_account_get(f->destination, f->arena, ACCOUNT_C, &account), IAM_ENOTFOUND);
    assert_int_equal(accounts_in(f->destination), 2);
    const char *value = NULL;
    assert_int_equal(iam_store_meta_get(f->destination, f->arena, "bootstrapped", &value), IAM_OK);
    assert_string_equal(value, ACCOUNT_A);
    assert_true(revision_of(f->destination) > before);
    for (size_t i = 0; i < report.table_count; i++)
        assert_int_equal(report.tables[i].target, report.tables[i].source);

    if (!f->postgres)
        assert_same_rows(f->source_path, f->target.path);

    /* The target now holds an audit trail, which is append-only: replacing it again is refused. */
    before = revision_of(f->destination);
    assert_int_equal(copy(f->source, f->destination, true, &report, &err), IAM_ECONFLICT);
    assert_non_null(strstr(err.message, "append-only"));
    assert_int_equal(revision_of(f->destination), before);
    if (!f->postgres)
        assert_same_rows(f->source_path, f->target.path);
}

static void test_copy_refuses_empty_source_and_same_store(void **state)
{
    struct fixture *f = *state;
    struct iam_store_copy_report report;
    struct iam_error err;
    add_account(f->destination, ACCOUNT_C, "IBMid-c");
    /* An empty source (a mistyped path, say) must not empty the target, even with replace. */
    assert_int_equal(copy(f->source, f->destination, true, &report, &err), IAM_ENOTFOUND);
    assert_non_null(strstr(err.message, "empty"));
    assert_int_equal(accounts_in(f->destination), 1);
    assert_int_equal(copy(f->destination, f->destination, true, &report, &err), IAM_EINVAL);
    assert_int_equal(iam_store_copy(f->source, f->destination, NULL, NULL, &err), IAM_EINVAL);
}

/*
 * Makes the target's inserts into `table` fail (`ignore` false) or vanish
 * without an error (`ignore` true), with a trigger the store knows nothing of.
 */
static void sabotage(struct fixture *f, const char *table, bool ignore)
{
    char sql[600];
    if (f->postgres) {
        snprintf(sql, sizeof sql,
                 "CREATE FUNCTION sabotage() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN %s; END $$;"
                 "CREATE TRIGGER sabotage BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION sabotage()",
                 ignore ? "RETURN NULL" : "RAISE EXCEPTION 'sabotage'", table);
        test_postgres_exec(f->target.path, sql);
        return;
    }
    sqlite3 *db = raw_open(f->target.path);
    snprintf(sql, sizeof sql, "CREATE TRIGGER sabotage BEFORE INSERT ON %s BEGIN SELECT RAISE(%s); END", table,
             ignore ? "IGNORE" : "ABORT, 'sabotage'");
    raw_exec(db, sql);
    sqlite3_close(db);
}

/* A failure in the last table leaves the target as it was: one transaction. */
static void test_copy_failure_writes_nothing(void **state)
{
    struct fixture *f = *state;
    populate(f->source, f->arena);
    int64_t before = revision_of(f->destination);
    sabotage(f, "access_settings", false);
    struct iam_store_copy_report report;
    struct iam_error err;
    enum iam_result result = copy(f->source, f->destination, false, &report, &err);
    assert_true(result != IAM_OK);
    assert_non_null(strstr(err.message, "access_settings"));
    assert_int_equal(accounts_in(f->destination), 0);
    assert_int_equal(revision_of(f->destination), before);
    assert_int_equal(report.tables[position_of("accounts")].target, 2); /* it got that far, then rolled back */
}

/* Rows that silently fail to arrive are caught by the counts, and nothing is committed. */
static void test_copy_count_mismatch_writes_nothing(void **state)
{
    struct fixture *f = *state;
    populate(f->source, f->arena);
    int64_t before = revision_of(f->destination);
    sabotage(f, "custom_roles", true);
    struct iam_store_copy_report report;
    struct iam_error err;
    assert_int_equal(copy(f->source, f->destination, false, &report, &err), IAM_ESTORE);
    assert_non_null(report.mismatch_table);
    assert_string_equal(report.mismatch_table, "custom_roles");
    size_t roles = position_of("custom_roles");
    assert_int_equal(report.tables[roles].source, 1);
    assert_int_equal(report.tables[roles].target, 0);
    assert_non_null(strstr(err.message, "custom_roles"));
    assert_int_equal(accounts_in(f->destination), 0);
    assert_int_equal(revision_of(f->destination), before);
}

/* source -> target -> a new SQLite file: every row of every table survives, whatever the target's backend. */
static void test_copy_round_trip(void **state)
{
    struct fixture *f = *state;
    populate(f->source, f->arena);
    assert_copy_ok(f->source, f->destination, false);
    struct iam_store *back = NULL;
    back = test_store_open(f->round_trip);
    assert_copy_ok(f->destination, back, false);
    iam_store_close(back);
    assert_same_rows(f->source_path, f->round_trip);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table_list_matches_sqlite_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_list_matches_postgres_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_counts_every_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_entities_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_target_takes_new_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_refuses_non_empty_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_replace_empties_target_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_refuses_empty_source_and_same_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_failure_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_count_mismatch_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
