/*
 * test_store_audit.c: the audit trail's store interface (store_audit.h) on
 * SQLite, or with IAMD_TEST_STORE set to a PostgreSQL URL on PostgreSQL
 * (one fresh database per test): head, the seq = head + 1 insert rule, the
 * checkpoint, account-scoped lists with every filter and keyset paging, get,
 * scan, the append-only triggers, that audit writes leave the revision, and
 * batch inserts (all or nothing, one checkpoint, the same seq rule) with the
 * aggregate columns (mechanism, count, window_start_ms).
 * The hashes here are arbitrary bytes: the chain is iam/audit.c's job
 * (test_iam_audit.c).
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
#include "store/store_audit.h"
#include "support/store_location.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

struct fixture {
    struct test_store_location location;
    struct iam_store *store;
    struct iam_arena *arena;
};

/* --- the location switch (support/store_location.h) --- */

/* Runs constant SQL; true when it succeeded. */
static bool raw_try(const char *path, const char *sql)
{
    if (test_is_postgres(path)) {
        PGconn *pg = test_postgres_connect(path);
        PGresult *result = PQexec(pg, sql);
        ExecStatusType status = PQresultStatus(result);
        PQclear(result);
        PQfinish(pg);
        return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    int code = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return code == SQLITE_OK;
}

static void raw_exec(const char *path, const char *sql)
{
    if (!raw_try(path, sql))
        fail_msg("raw_exec failed: %s", sql);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    test_store_location_create(&f->location, "audit_store");
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

/* --- records --- */

/* Record `seq` of `account`; its hash bytes are all `seq`, its prev_hash all `seq - 1`. */
static struct iam_audit_record record_for(int64_t seq, const char *account, const char *actor, const char *action,
                                          const char *outcome)
{
    struct iam_audit_record record = {
        .seq = seq,
        .time_ms = 1700000000000 + seq * 1000,
        .request_id = "0123456789abcdef0123456789abcdef",
        .phase = strcmp(outcome, "pending") == 0 ? "request" : "outcome",
        .actor_iam_id = actor,
        .actor_account_id = account,
        .client_address = "192.0.2.7",
        .action = action,
        .method = "POST",
        .route = "/v1/serviceids",
        .account_id = account,
        .target_type = "serviceid",
        .target_id = seq % 2 ? "ServiceId-odd" : "ServiceId-even",
        .outcome = outcome,
        .status = strcmp(outcome, "pending") == 0 ? 0 : strcmp(outcome, "success") == 0 ? 201 : 403,
        .error_code = strcmp(outcome, "failure") == 0 ? "forbidden" : NULL,
        .message_code = strcmp(outcome, "failure") == 0 ? "BXNIM0513E" : NULL,
        .count = 1,
        .window_start_ms = 1700000000000 + seq * 1000,
    };
    memset(record.prev_hash, (int)(seq - 1), sizeof record.prev_hash);
    memset(record.hash, (int)seq, sizeof record.hash);
    return record;
}

static void insert(struct fixture *f, const struct iam_audit_record *record)
{
    char checkpoint[64];
    snprintf(checkpoint, sizeof checkpoint, "%lld:cp", (long long)record->seq);
    assert_int_equal(iam_store_audit_insert(f->store, record, checkpoint), IAM_OK);
}

/* Ten records: odd seqs in A by alice, even in B by bob; outcomes cycle pending, success, failure. */
static void insert_ten(struct fixture *f)
{
    static const char *const outcomes[] = {"pending", "success", "failure"};
    for (int64_t seq = 1; seq <= 10; seq++) {
        struct iam_audit_record record =
            record_for(seq, seq % 2 ? ACCOUNT_A : ACCOUNT_B, seq % 2 ? "IBMid-ALICE" : "IBMid-BOB",
                       seq <= 5 ? "iam-identity.serviceid.create" : "iam-identity.apikey.delete",
                       outcomes[seq % 3]);
        insert(f, &record);
    }
}

static void assert_seqs(const struct iam_audit_record *items, size_t count, const int64_t *expected,
                        size_t expected_count)
{
    assert_int_equal(count, expected_count);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(items[i].seq, expected[i]);
}

/* --- tests --- */

static void test_head_insert_conflict(void **state)
{
    struct fixture *f = *state;
    int64_t seq = -1;
    uint8_t hash[IAM_AUDIT_HASH_SIZE], zeros[IAM_AUDIT_HASH_SIZE] = {0};
    memset(hash, 0x77, sizeof hash);
    assert_int_equal(iam_store_audit_head(f->store, &seq, hash), IAM_OK);
    assert_int_equal(seq, 0);
    assert_memory_equal(hash, zeros, sizeof hash);

    struct iam_audit_record first = record_for(1, ACCOUNT_A, "IBMid-ALICE", "a.b.c", "pending");
    insert(f, &first);
    assert_int_equal(iam_store_audit_head(f->store, &seq, hash), IAM_OK);
    assert_int_equal(seq, 1);
    assert_memory_equal(hash, first.hash, sizeof hash);
    const char *checkpoint = NULL;
    assert_int_equal(iam_store_meta_get(f->store, f->arena, IAM_AUDIT_HEAD_META_KEY, &checkpoint), IAM_OK);
    assert_string_equal(checkpoint, "1:cp");

    /* The same seq again (a writer that read a stale head), and a gap: both refused, nothing changes. */
    struct iam_audit_record again = record_for(1, ACCOUNT_A, "IBMid-MALLORY", "a.b.c", "success");
    assert_int_equal(iam_store_audit_insert(f->store, &again, "1:other"), IAM_ECONFLICT);
    struct iam_audit_record gap = record_for(3, ACCOUNT_A, "IBMid-MALLORY", "a.b.c", "success");
    assert_int_equal(iam_store_audit_insert(f->store, &gap, "3:other"), IAM_ECONFLICT);
    assert_int_equal(iam_store_audit_head(f->store, &seq, hash), IAM_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(iam_store_meta_get(f->store, f->arena, IAM_AUDIT_HEAD_META_KEY, &checkpoint), IAM_OK);
    assert_string_equal(checkpoint, "1:cp");

    struct iam_audit_record second = record_for(2, ACCOUNT_A, "IBMid-ALICE", "a.b.c", "success");
    insert(f, &second);
    assert_int_equal(iam_store_audit_head(f->store, &seq, hash), IAM_OK);
    assert_int_equal(seq, 2);
    assert_memory_equal(hash, second.hash, sizeof hash);
}

static void test_insert_arguments(void **state)
{
    struct fixture *f = *state;
    struct iam_audit_record record = record_for(1, ACCOUNT_A, "IBMid-ALICE", "a.b.c", "success");
    assert_int_equal(iam_store_audit_insert(f->store, &record, NULL), IAM_EINVAL);
    record.outcome = "maybe";
    assert_int_equal(iam_store_audit_insert(f->store, &record, "1:cp"), IAM_EINVAL);
    record.outcome = "success";
    record.phase = "during";
    assert_int_equal(iam_store_audit_insert(f->store, &record, "1:cp"), IAM_EINVAL);
    record.phase = "outcome";
    record.action = NULL;
    assert_int_equal(iam_store_audit_insert(f->store, &record, "1:cp"), IAM_EINVAL);
    record.action = "a.b.c";
    record.seq = 0;
    assert_int_equal(iam_store_audit_insert(f->store, &record, "1:cp"), IAM_EINVAL);
    record.seq = 1;
    record.count = 0; /* a record stands for at least one request */
    assert_int_equal(iam_store_audit_insert(f->store, &record, "1:cp"), IAM_EINVAL);
    record.count = 1;
    record.window_start_ms = record.time_ms + 1; /* a window cannot start after its last request */
    assert_int_equal(iam_store_audit_insert(f->store, &record, "1:cp"), IAM_EINVAL);
    record.window_start_ms = record.time_ms;
    insert(f, &record);
    struct iam_audit_query query = {.account_id = ACCOUNT_A, .limit = 0};
    struct iam_audit_record *items = NULL;
    size_t count = 0;
    bool more = false;
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &query, &items, &count, &more), IAM_EINVAL);
    query.limit = IAM_STORE_LIST_LIMIT_MAX + 1;
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &query, &items, &count, &more), IAM_EINVAL);
    query.limit = 10;
    query.outcome = "maybe";
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &query, &items, &count, &more), IAM_EINVAL);
    query.outcome = NULL;
    query.account_id = NULL;
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &query, &items, &count, &more), IAM_EINVAL);
    assert_int_equal(iam_store_audit_scan(f->store, f->arena, 0, 0, &items, &count), IAM_EINVAL);
    assert_int_equal(iam_store_audit_scan(f->store, f->arena, 0, IAM_STORE_AUDIT_SCAN_MAX + 1, &items, &count),
                     IAM_EINVAL);
}

/* Every field comes back as written, NULLs as NULL. */
static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct iam_audit_record written = record_for(1, ACCOUNT_A, "IBMid-ALICE", "a.b.c", "failure");
    written.actor_apikey_id = "ApiKey-1";
    written.phase = "aggregate";
    written.mechanism = "urn:ibm:params:oauth:grant-type:apikey";
    written.count = 4242;
    written.window_start_ms = written.time_ms - 999;
    insert(f, &written);
    struct iam_audit_record bare = record_for(2, ACCOUNT_A, NULL, "a.b.c", "pending");
    bare.actor_account_id = NULL;
    bare.client_address = NULL;
    bare.target_type = NULL;
    bare.target_id = NULL;
    insert(f, &bare);

    struct iam_audit_record read;
    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_A, 1, &read), IAM_OK);
    assert_int_equal(read.seq, 1);
    assert_int_equal(read.time_ms, written.time_ms);
    assert_string_equal(read.request_id, written.request_id);
    assert_string_equal(read.phase, "aggregate");
    assert_string_equal(read.mechanism, "urn:ibm:params:oauth:grant-type:apikey");
    assert_int_equal(read.count, 4242);
    assert_int_equal(read.window_start_ms, written.time_ms - 999);
    assert_string_equal(read.actor_iam_id, "IBMid-ALICE");
    assert_string_equal(read.actor_account_id, ACCOUNT_A);
    assert_string_equal(read.actor_apikey_id, "ApiKey-1");
    assert_string_equal(read.client_address, "192.0.2.7");
    assert_string_equal(read.action, "a.b.c");
    assert_string_equal(read.method, "POST");
    assert_string_equal(read.route, "/v1/serviceids");
    assert_string_equal(read.account_id, ACCOUNT_A);
    assert_string_equal(read.target_type, "serviceid");
    assert_string_equal(read.target_id, "ServiceId-odd");
    assert_string_equal(read.outcome, "failure");
    assert_int_equal(read.status, 403);
    assert_string_equal(read.error_code, "forbidden");
    assert_string_equal(read.message_code, "BXNIM0513E");
    assert_memory_equal(read.prev_hash, written.prev_hash, IAM_AUDIT_HASH_SIZE);
    assert_memory_equal(read.hash, written.hash, IAM_AUDIT_HASH_SIZE);

    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_A, 2, &read), IAM_OK);
    assert_null(read.actor_iam_id);
    assert_null(read.actor_account_id);
    assert_null(read.actor_apikey_id);
    assert_null(read.client_address);
    assert_null(read.target_type);
    assert_null(read.target_id);
    assert_null(read.error_code);
    assert_null(read.mechanism);
    assert_int_equal(read.count, 1);
    assert_int_equal(read.window_start_ms, bare.time_ms);
    assert_int_equal(read.status, 0);
}

/* A batch is stored whole or not at all, behind one seq check and one checkpoint. */
static void test_insert_batch(void **state)
{
    struct fixture *f = *state;
    struct iam_audit_record first = record_for(1, ACCOUNT_A, "IBMid-ALICE", "a.b.c", "success");
    insert(f, &first);
    struct iam_audit_record batch[3];
    for (int64_t i = 0; i < 3; i++) {
        batch[i] = record_for(2 + i, ACCOUNT_A, "IBMid-ALICE", "iam-identity.token.create", "success");
        batch[i].phase = "aggregate";
        batch[i].count = 10 + i;
    }
    /* Seqs that do not follow each other, an empty batch, one too many: refused before the database. */
    batch[1].seq = 5;
    assert_int_equal(iam_store_audit_insert_batch(f->store, batch, 3, "4:cp"), IAM_EINVAL);
    batch[1].seq = 3;
    assert_int_equal(iam_store_audit_insert_batch(f->store, batch, 0, "4:cp"), IAM_EINVAL);
    assert_int_equal(iam_store_audit_insert_batch(f->store, batch, IAM_STORE_AUDIT_INSERT_MAX + 1, "4:cp"),
                     IAM_EINVAL);
    /* A stale head: the whole batch is refused and nothing of it is stored. */
    struct iam_audit_record stale[2] = {record_for(1, ACCOUNT_A, "IBMid-X", "a.b.c", "success"),
                                        record_for(2, ACCOUNT_A, "IBMid-X", "a.b.c", "success")};
    assert_int_equal(iam_store_audit_insert_batch(f->store, stale, 2, "2:stale"), IAM_ECONFLICT);
    /* A failure inside the transaction (the third row is refused): the first two are rolled back. */
    raw_exec(f->location.path, test_is_postgres(f->location.path)
                          ? "ALTER TABLE audit_events ADD CONSTRAINT test_block CHECK (seq <> 4) NOT VALID"
                          : "CREATE TRIGGER test_block BEFORE INSERT ON audit_events WHEN NEW.seq = 4 "
                            "BEGIN SELECT RAISE(ABORT, 'blocked'); END");
    assert_int_not_equal(iam_store_audit_insert_batch(f->store, batch, 3, "4:cp"), IAM_OK);
    int64_t seq = 0;
    uint8_t hash[IAM_AUDIT_HASH_SIZE];
    assert_int_equal(iam_store_audit_head(f->store, &seq, hash), IAM_OK);
    assert_int_equal(seq, 1);
    const char *checkpoint = NULL;
    assert_int_equal(iam_store_meta_get(f->store, f->arena, IAM_AUDIT_HEAD_META_KEY, &checkpoint), IAM_OK);
    assert_string_equal(checkpoint, "1:cp");
    raw_exec(f->location.path, test_is_postgres(f->location.path)
                                   ? "ALTER TABLE audit_events DROP CONSTRAINT test_block"
                                   : "DROP TRIGGER test_block");
    /* Now it goes in whole, in order, with one checkpoint: the last record's. */
    assert_int_equal(iam_store_audit_insert_batch(f->store, batch, 3, "4:cp"), IAM_OK);
    assert_int_equal(iam_store_audit_head(f->store, &seq, hash), IAM_OK);
    assert_int_equal(seq, 4);
    assert_int_equal(iam_store_meta_get(f->store, f->arena, IAM_AUDIT_HEAD_META_KEY, &checkpoint), IAM_OK);
    assert_string_equal(checkpoint, "4:cp");
    struct iam_audit_record *items = NULL;
    size_t count = 0;
    assert_int_equal(iam_store_audit_scan(f->store, f->arena, 1, 10, &items, &count), IAM_OK);
    assert_int_equal(count, 3);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(items[i].seq, 2 + (int64_t)i);
        assert_int_equal(items[i].count, 10 + (int64_t)i);
        assert_string_equal(items[i].phase, "aggregate");
    }
}

static void test_get_is_account_scoped(void **state)
{
    struct fixture *f = *state;
    insert_ten(f);
    struct iam_audit_record read;
    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_A, 3, &read), IAM_OK);
    assert_int_equal(read.seq, 3);
    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_B, 3, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_B, 4, &read), IAM_OK);
    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_A, 11, &read), IAM_ENOTFOUND);
    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_A, 0, &read), IAM_ENOTFOUND);
}

static void test_list_scope_filters_paging(void **state)
{
    struct fixture *f = *state;
    insert_ten(f);
    struct iam_audit_record *items = NULL;
    size_t count = 0;
    bool more = true;

    /* Account A only (odd seqs), newest first. */
    struct iam_audit_query query = {.account_id = ACCOUNT_A, .limit = 100};
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){9, 7, 5, 3, 1}, 5);
    assert_false(more);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(items[i].account_id, ACCOUNT_A);

    /* Keyset paging: 2 per page, continuing below the last seq. */
    query.limit = 2;
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){9, 7}, 2);
    assert_true(more);
    query.before_seq = 7;
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){5, 3}, 2);
    assert_true(more);
    query.before_seq = 3;
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &query, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){1}, 1);
    assert_false(more);

    /* Filters, each alone. */
    struct iam_audit_query by_action = {.account_id = ACCOUNT_A, .action = "iam-identity.apikey.delete",
                                        .limit = 100};
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &by_action, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){9, 7}, 2);
    struct iam_audit_query by_target = {.account_id = ACCOUNT_B, .target_id = "ServiceId-even", .limit = 100};
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &by_target, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){10, 8, 6, 4, 2}, 5);
    struct iam_audit_query by_outcome = {.account_id = ACCOUNT_A, .outcome = "failure", .limit = 100};
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &by_outcome, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){5}, 1);
    struct iam_audit_query by_pending = {.account_id = ACCOUNT_A, .outcome = "pending", .limit = 100};
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &by_pending, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){9, 3}, 2);
    struct iam_audit_query by_actor = {.account_id = ACCOUNT_A, .actor_iam_id = "IBMid-BOB", .limit = 100};
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &by_actor, &items, &count, &more), IAM_OK);
    assert_int_equal(count, 0); /* bob acted in B only */
    /* from inclusive, to exclusive: seqs 3..6 by time, odd ones in A. */
    struct iam_audit_query by_time = {.account_id = ACCOUNT_A, .from_ms = 1700000003000, .to_ms = 1700000007000,
                                      .limit = 100};
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &by_time, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){5, 3}, 2);
    /* All together. */
    struct iam_audit_query all = {.account_id = ACCOUNT_A, .actor_iam_id = "IBMid-ALICE",
                                  .action = "iam-identity.serviceid.create", .target_id = "ServiceId-odd",
                                  .outcome = "success", .from_ms = 1, .to_ms = 1700000100000, .limit = 100};
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &all, &items, &count, &more), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){1}, 1);
    /* An account with no records. */
    struct iam_audit_query other = {.account_id = "cccccccccccccccccccccccccccccccc", .limit = 100};
    assert_int_equal(iam_store_audit_list(f->store, f->arena, &other, &items, &count, &more), IAM_OK);
    assert_int_equal(count, 0);
}

static void test_scan(void **state)
{
    struct fixture *f = *state;
    insert_ten(f);
    struct iam_audit_record *items = NULL;
    size_t count = 0;
    assert_int_equal(iam_store_audit_scan(f->store, f->arena, 0, 4, &items, &count), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){1, 2, 3, 4}, 4);
    assert_int_equal(iam_store_audit_scan(f->store, f->arena, 8, 4, &items, &count), IAM_OK);
    assert_seqs(items, count, (const int64_t[]){9, 10}, 2);
    assert_int_equal(iam_store_audit_scan(f->store, f->arena, 10, 4, &items, &count), IAM_OK);
    assert_int_equal(count, 0);
}

/* The schema refuses changes to records, whoever sends them through the database's own engine. */
static void test_append_only(void **state)
{
    struct fixture *f = *state;
    insert_ten(f);
    assert_false(raw_try(f->location.path, "UPDATE audit_events SET outcome = 'success' WHERE seq = 3"));
    assert_false(raw_try(f->location.path, "DELETE FROM audit_events WHERE seq = 10"));
    if (test_is_postgres(f->location.path))
        assert_false(raw_try(f->location.path, "TRUNCATE audit_events"));
    struct iam_audit_record read;
    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_A, 3, &read), IAM_OK);
    assert_string_equal(read.outcome, "pending");
    assert_int_equal(iam_store_audit_get(f->store, f->arena, ACCOUNT_B, 10, &read), IAM_OK);
}

/* Audit records are not configuration: the revision (the engine's cache key) does not move. */
static void test_no_revision_bump(void **state)
{
    struct fixture *f = *state;
    int64_t before = -1, after = -1;
    assert_int_equal(iam_store_revision(f->store, &before), IAM_OK);
    insert_ten(f);
    assert_int_equal(iam_store_revision(f->store, &after), IAM_OK);
    assert_int_equal(after, before);
}

int main(void)
{
    iam_log_set_level(IAM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_head_insert_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_is_account_scoped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_scope_filters_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_revision_bump, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
