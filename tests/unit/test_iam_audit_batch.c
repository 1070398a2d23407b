/*
 * test_iam_audit_batch.c: the batched audit records of token requests and
 * failed authentications (src/iam/audit_batch.c) over a real SQLite store
 * and trail: counts add up into one aggregate record per distinct event,
 * with the window's first and last times and the first request's id; every
 * identifying field (and NULL versus "") keeps events apart; the table is
 * bounded (overflow keys without the details, then counted drops); a flush
 * the database refuses keeps every count for the next one; adds and flushes
 * from several threads lose and double nothing; and the chain verifies with
 * the events counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/log.h"
#include "iam/audit.h"
#include "iam/audit_batch.h"
#include "store/store.h"
#include "store/store_audit.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_A "ApiKey-aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define KEY_B "ApiKey-bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define T0 1700000000000

struct fixture {
    char dir[64];
    char path[512];
    struct iam_store *store;
    struct iam_audit *audit;
    struct iam_audit_batch *batch;
    struct iam_arena *arena;
};

static void fixture_open(struct fixture *f, const struct iam_audit_batch_options *options)
{
    struct iam_error err;
    iam_error_clear(&err);
    assert_int_equal(iam_store_open(f->path, &f->store, &err), IAM_OK);
    uint8_t pepper[32];
    memset(pepper, 0x5a, sizeof pepper);
    assert_int_equal(iam_audit_new(f->store, pepper, sizeof pepper, IAM_AUDIT_FAIL_CLOSED, &f->audit), IAM_OK);
    assert_int_equal(iam_audit_batch_new(f->audit, options, &f->batch), IAM_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/iamd-audit-batch-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/iamd.db", f->dir);
    fixture_open(f, NULL);
    f->arena = iam_arena_new();
    assert_non_null(f->arena);
    *state = f;
    return 0;
}

/* A table of 3 keys and 2 overflow keys, to reach the bounds. */
static int setup_small(void **state)
{
    setup(state);
    struct fixture *f = *state;
    iam_audit_batch_free(f->batch);
    struct iam_audit_batch_options options = {.capacity = 3, .overflow = 2};
    assert_int_equal(iam_audit_batch_new(f->audit, &options, &f->batch), IAM_OK);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    iam_audit_batch_free(f->batch);
    iam_audit_free(f->audit);
    iam_store_close(f->store);
    iam_arena_free(f->arena);
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char name[600];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(name, sizeof name, "%s%s", f->path, suffixes[i]);
        unlink(name);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* --- helpers --- */

/* A token issued with KEY_A from 192.0.2.7, at T0 + `offset` ms. */
static struct iam_audit_record token_event(int64_t offset, const char *request_id)
{
    struct iam_audit_record event = {
        .time_ms = T0 + offset,
        .request_id = request_id,
        .action = "iam-identity.token.create",
        .method = "POST",
        .route = "/identity/token",
        .mechanism = "urn:ibm:params:oauth:grant-type:apikey",
        .actor_iam_id = "iam-ServiceId-a",
        .actor_account_id = ACCOUNT_A,
        .actor_apikey_id = KEY_A,
        .client_address = "192.0.2.7",
        .account_id = ACCOUNT_A,
        .target_type = "apikey",
        .target_id = KEY_A,
        .outcome = "success",
        .status = 200,
    };
    return event;
}

/* A token refused for an unknown key of id KEY_B: no account, no owner. */
static struct iam_audit_record refused_event(int64_t offset)
{
    struct iam_audit_record event = token_event(offset, "req-refused");
    event.actor_iam_id = NULL;
    event.actor_account_id = NULL;
    event.actor_apikey_id = KEY_B;
    event.account_id = NULL;
    event.target_id = KEY_B;
    event.outcome = "failure";
    event.status = 400;
    event.error_code = "invalid_grant";
    event.message_code = "BXNIM0415E";
    return event;
}

static struct iam_audit_record *scan_all(struct fixture *f, size_t *count)
{
    struct iam_audit_record *items = NULL;
    assert_int_equal(iam_store_audit_scan(f->store, f->arena, 0, 1000, &items, count), IAM_OK);
    return items;
}

static int64_t sum_counts(const struct iam_audit_record *items, size_t count)
{
    int64_t sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += items[i].count;
    return sum;
}

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The one record whose target_id and outcome are these; fails unless exactly one. */
static const struct iam_audit_record *find(const struct iam_audit_record *items, size_t count, const char *target_id,
                                           const char *outcome)
{
    const struct iam_audit_record *found = NULL;
    for (size_t i = 0; i < count; i++) {
        if (same(items[i].target_id, target_id) && strcmp(items[i].outcome, outcome) == 0) {
            if (found)
                fail_msg("two records for %s %s", target_id ? target_id : "(null)", outcome);
            found = &items[i];
        }
    }
    if (!found)
        fail_msg("no record for %s %s", target_id ? target_id : "(null)", outcome);
    return found;
}

/* Makes the trail's inserts fail (true) or work again (false), as a full disk or a lost database would. */
static void block_inserts(struct fixture *f, bool blocked)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const char *sql = blocked ? "CREATE TRIGGER test_block BEFORE INSERT ON audit_events "
                                "BEGIN SELECT RAISE(ABORT, 'blocked'); END"
                              : "DROP TRIGGER test_block";
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static struct iam_audit_batch_stats stats_of(struct fixture *f)
{
    struct iam_audit_batch_stats stats;
    iam_audit_batch_stats(f->batch, &stats);
    return stats;
}

/* --- tests --- */

static void test_counts_add_up(void **state)
{
    struct fixture *f = *state;
    /* Out of order on purpose: the window is the earliest and latest time, the id the earliest request's. */
    static const int64_t offsets[] = {30, 10, 50, 20, 40};
    static const char *const ids[] = {"req-30", "req-10", "req-50", "req-20", "req-40"};
    for (size_t i = 0; i < 5; i++) {
        struct iam_audit_record event = token_event(offsets[i], ids[i]);
        iam_audit_batch_add(f->batch, &event);
    }
    for (int i = 0; i < 3; i++) {
        struct iam_audit_record event = refused_event(100 + i);
        iam_audit_batch_add(f->batch, &event);
    }
    struct iam_audit_batch_stats stats = stats_of(f);
    assert_int_equal(stats.keys, 2);
    assert_int_equal(stats.events, 8);
    size_t count = 0;
    scan_all(f, &count);
    assert_int_equal(count, 0); /* nothing written before a flush */

    assert_int_equal(iam_audit_batch_flush(f->batch), IAM_OK);
    stats = stats_of(f);
    assert_int_equal(stats.keys, 0);
    assert_int_equal(stats.events, 0);
    struct iam_audit_record *items = scan_all(f, &count);
    assert_int_equal(count, 2);
    const struct iam_audit_record *issued = find(items, count, KEY_A, "success");
    assert_int_equal(issued->count, 5);
    assert_int_equal(issued->window_start_ms, T0 + 10);
    assert_int_equal(issued->time_ms, T0 + 50);
    assert_string_equal(issued->request_id, "req-10");
    assert_string_equal(issued->phase, "aggregate");
    assert_string_equal(issued->action, "iam-identity.token.create");
    assert_string_equal(issued->mechanism, "urn:ibm:params:oauth:grant-type:apikey");
    assert_string_equal(issued->account_id, ACCOUNT_A);
    assert_string_equal(issued->actor_apikey_id, KEY_A);
    assert_string_equal(issued->client_address, "192.0.2.7");
    assert_int_equal(issued->status, 200);
    const struct iam_audit_record *refused = find(items, count, KEY_B, "failure");
    assert_int_equal(refused->count, 3);
    assert_null(refused->account_id);
    assert_null(refused->actor_iam_id);
    assert_string_equal(refused->message_code, "BXNIM0415E");
    assert_string_equal(refused->error_code, "invalid_grant");
    assert_int_equal(refused->status, 400);
    /* One flush, one record per key, in the order of their first event. */
    assert_true(items[0].window_start_ms <= items[1].window_start_ms);

    /* The next window starts afresh. */
    struct iam_audit_record again = token_event(60, "req-60");
    iam_audit_batch_add(f->batch, &again);
    assert_int_equal(iam_audit_batch_flush(f->batch), IAM_OK);
    items = scan_all(f, &count);
    assert_int_equal(count, 3);
    assert_int_equal(items[2].count, 1);
    assert_int_equal(items[2].window_start_ms, items[2].time_ms);
    /* An empty flush writes nothing. */
    assert_int_equal(iam_audit_batch_flush(f->batch), IAM_OK);
    scan_all(f, &count);
    assert_int_equal(count, 3);

    struct iam_audit_verify_report report;
    assert_int_equal(iam_audit_verify(f->audit, NULL, &report), IAM_OK);
    assert_true(report.intact);
    assert_int_equal(report.verified, 3);
    assert_int_equal(report.events, 9);
}

/* Each identifying field, and NULL versus "", makes its own record; equal events share one. */
static void test_fields_keep_events_apart(void **state)
{
    struct fixture *f = *state;
    struct iam_audit_record base = token_event(0, "req-base");
    iam_audit_batch_add(f->batch, &base);
    iam_audit_batch_add(f->batch, &base);
    static const size_t fields[] = {
        offsetof(struct iam_audit_record, action),          offsetof(struct iam_audit_record, method),
        offsetof(struct iam_audit_record, route),           offsetof(struct iam_audit_record, mechanism),
        offsetof(struct iam_audit_record, outcome),         offsetof(struct iam_audit_record, error_code),
        offsetof(struct iam_audit_record, message_code),    offsetof(struct iam_audit_record, actor_iam_id),
        offsetof(struct iam_audit_record, actor_account_id), offsetof(struct iam_audit_record, actor_apikey_id),
        offsetof(struct iam_audit_record, client_address),  offsetof(struct iam_audit_record, account_id),
        offsetof(struct iam_audit_record, target_type),     offsetof(struct iam_audit_record, target_id),
    };
    size_t variants = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        struct iam_audit_record event = base;
        const char **field = (const char **)((char *)&event + fields[i]);
        bool was_null = *field == NULL;
        if (fields[i] == offsetof(struct iam_audit_record, outcome))
            *field = "failure"; /* the only other outcome an aggregate may have */
        else
            *field = was_null ? "x-set" : "x-other";
        iam_audit_batch_add(f->batch, &event);
        variants++;
        if (was_null) {
            *field = ""; /* "" is not NULL */
            iam_audit_batch_add(f->batch, &event);
            variants++;
        }
    }
    struct iam_audit_record status = base;
    status.status = 201;
    iam_audit_batch_add(f->batch, &status);
    variants++;
    /* Not part of the key: the request id and the time. */
    struct iam_audit_record later = token_event(5, "req-later");
    iam_audit_batch_add(f->batch, &later);

    assert_int_equal(stats_of(f).keys, 1 + variants);
    assert_int_equal(iam_audit_batch_flush(f->batch), IAM_OK);
    size_t count = 0;
    struct iam_audit_record *items = scan_all(f, &count);
    assert_int_equal(count, 1 + variants);
    assert_int_equal(sum_counts(items, count), 3 + (int64_t)variants);
    size_t merged = 0;
    for (size_t i = 0; i < count; i++) {
        if (items[i].count == 3) {
            merged++;
            assert_string_equal(items[i].request_id, "req-base");
            assert_int_equal(items[i].time_ms, T0 + 5);
        } else {
            assert_int_equal(items[i].count, 1);
        }
    }
    assert_int_equal(merged, 1);
}

/* Long strings are cut at the field limit, in the key as in the record. */
static void test_long_strings_cut(void **state)
{
    struct fixture *f = *state;
    char first[600], second[600];
    memset(first, 'k', sizeof first - 1);
    first[sizeof first - 1] = '\0';
    memcpy(second, first, sizeof second);
    second[400] = 'z'; /* differs only past the limit */
    struct iam_audit_record event = token_event(0, "req-1");
    event.client_address = first;
    iam_audit_batch_add(f->batch, &event);
    event.client_address = second;
    iam_audit_batch_add(f->batch, &event);
    assert_int_equal(iam_audit_batch_flush(f->batch), IAM_OK);
    size_t count = 0;
    struct iam_audit_record *items = scan_all(f, &count);
    assert_int_equal(count, 1);
    assert_int_equal(items[0].count, 2);
    assert_int_equal(strlen(items[0].client_address), IAM_AUDIT_FIELD_MAX);
}

/* Beyond the capacity events are counted without their details; beyond the overflow keys, dropped and counted. */
static void test_bounded(void **state)
{
    struct fixture *f = *state; /* capacity 3, overflow 2 */
    static const char *const addresses[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"};
    for (size_t i = 0; i < 5; i++) {
        struct iam_audit_record event = token_event((int64_t)i, "req");
        event.client_address = addresses[i];
        iam_audit_batch_add(f->batch, &event);
    }
    struct iam_audit_batch_stats stats = stats_of(f);
    assert_int_equal(stats.keys, 4); /* 3 ordinary, 1 overflow holding 2 events */
    assert_int_equal(stats.events, 5);
    assert_int_equal(stats.overflowed, 2);
    assert_int_equal(stats.dropped, 0);
    /* Other actions need their own overflow keys: one more fits, the next two do not. */
    static const char *const actions[] = {"iam-identity.authenticate", "x.other", "x.third"};
    for (size_t i = 0; i < 3; i++) {
        struct iam_audit_record event = refused_event(10);
        event.action = actions[i];
        iam_audit_batch_add(f->batch, &event);
    }
    stats = stats_of(f);
    assert_int_equal(stats.keys, 5);
    assert_int_equal(stats.events, 6);
    assert_int_equal(stats.overflowed, 3);
    assert_int_equal(stats.dropped, 2);
    /* Events without action, method, route or a final outcome are not recordable: dropped. */
    struct iam_audit_record incomplete = token_event(0, "req");
    incomplete.route = NULL;
    iam_audit_batch_add(f->batch, &incomplete);
    incomplete.route = "/identity/token";
    incomplete.outcome = "pending";
    iam_audit_batch_add(f->batch, &incomplete);
    iam_audit_batch_add(f->batch, NULL);
    assert_int_equal(stats_of(f).dropped, 5);
    iam_audit_batch_add(NULL, &incomplete); /* no table: nothing happens */

    assert_int_equal(iam_audit_batch_flush(f->batch), IAM_OK);
    size_t count = 0;
    struct iam_audit_record *items = scan_all(f, &count);
    assert_int_equal(count, 5);
    assert_int_equal(sum_counts(items, count), 6);
    size_t overflow_records = 0;
    for (size_t i = 0; i < count; i++) {
        if (items[i].client_address)
            continue;
        overflow_records++;
        /* What an overflow record keeps, and what it does not. */
        assert_non_null(items[i].action);
        assert_string_equal(items[i].route, "/identity/token");
        assert_non_null(items[i].mechanism);
        assert_null(items[i].actor_iam_id);
        assert_null(items[i].actor_apikey_id);
        assert_null(items[i].account_id);
        assert_null(items[i].target_id);
        if (strcmp(items[i].action, "iam-identity.token.create") == 0)
            assert_int_equal(items[i].count, 2);
        else
            assert_string_equal(items[i].message_code, "BXNIM0415E");
    }
    assert_int_equal(overflow_records, 2);
    /* After a flush the table has room again. */
    struct iam_audit_record event = token_event(0, "req");
    event.client_address = addresses[4];
    iam_audit_batch_add(f->batch, &event);
    stats = stats_of(f);
    assert_int_equal(stats.keys, 1);
    assert_int_equal(stats.overflowed, 3);
}

/* A flush the database refuses keeps every count; the next one writes them with what came meanwhile. */
static void test_retry_keeps_counts(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 4; i++) {
        struct iam_audit_record event = token_event(10 + i, i == 0 ? "req-first" : "req-next");
        iam_audit_batch_add(f->batch, &event);
    }
    block_inserts(f, true);
    assert_true(iam_store_failed(iam_audit_batch_flush(f->batch)));
    struct iam_audit_batch_stats stats = stats_of(f);
    assert_int_equal(stats.keys, 1);
    assert_int_equal(stats.events, 4);
    /* Counted meanwhile: the same key, and a new one; a second failed flush loses nothing either. */
    for (int i = 0; i < 2; i++) {
        struct iam_audit_record event = token_event(100 + i, "req-later");
        iam_audit_batch_add(f->batch, &event);
    }
    struct iam_audit_record refused = refused_event(200);
    iam_audit_batch_add(f->batch, &refused);
    assert_true(iam_store_failed(iam_audit_batch_flush(f->batch)));
    stats = stats_of(f);
    assert_int_equal(stats.keys, 2);
    assert_int_equal(stats.events, 7);
    size_t count = 0;
    scan_all(f, &count);
    assert_int_equal(count, 0);

    block_inserts(f, false);
    assert_int_equal(iam_audit_batch_flush(f->batch), IAM_OK);
    struct iam_audit_record *items = scan_all(f, &count);
    assert_int_equal(count, 2);
    const struct iam_audit_record *issued = find(items, count, KEY_A, "success");
    assert_int_equal(issued->count, 6);
    assert_int_equal(issued->window_start_ms, T0 + 10); /* the window spans the outage */
    assert_int_equal(issued->time_ms, T0 + 101);
    assert_string_equal(issued->request_id, "req-first");
    assert_int_equal(find(items, count, KEY_B, "failure")->count, 1);
    assert_int_equal(stats_of(f).keys, 0);
    struct iam_audit_verify_report report;
    assert_int_equal(iam_audit_verify(f->audit, NULL, &report), IAM_OK);
    assert_true(report.intact);
    assert_int_equal(report.events, 7);
}

/* Memory stays bounded through an outage: the keys given back fill the table, new ones overflow. */
static void test_retry_stays_bounded(void **state)
{
    struct fixture *f = *state; /* capacity 3, overflow 2 */
    static const char *const addresses[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"};
    for (size_t i = 0; i < 3; i++) {
        struct iam_audit_record event = token_event(0, "req");
        event.client_address = addresses[i];
        iam_audit_batch_add(f->batch, &event);
    }
    block_inserts(f, true);
    assert_true(iam_store_failed(iam_audit_batch_flush(f->batch)));
    struct iam_audit_record event = token_event(1, "req");
    event.client_address = addresses[3];
    iam_audit_batch_add(f->batch, &event); /* the table is full again: an overflow key */
    struct iam_audit_batch_stats stats = stats_of(f);
    assert_int_equal(stats.keys, 4);
    assert_int_equal(stats.overflowed, 1);
    block_inserts(f, false);
    assert_int_equal(iam_audit_batch_flush(f->batch), IAM_OK);
    size_t count = 0;
    struct iam_audit_record *items = scan_all(f, &count);
    assert_int_equal(count, 4);
    assert_int_equal(sum_counts(items, count), 4);
}

struct adder {
    struct iam_audit_batch *batch;
    int index;
    int adds;
};

static void *adder_run(void *argument)
{
    struct adder *adder = argument;
    char address[32];
    for (int i = 0; i < adder->adds; i++) {
        struct iam_audit_record event = token_event(i, "req");
        snprintf(address, sizeof address, "198.51.100.%d", (adder->index + i) % 10);
        event.client_address = address;
        iam_audit_batch_add(adder->batch, &event);
    }
    return NULL;
}

struct flusher {
    struct iam_audit_batch *batch;
    int stop;
    int failures;
};

static void *flusher_run(void *argument)
{
    struct flusher *flusher = argument;
    while (!__atomic_load_n(&flusher->stop, __ATOMIC_SEQ_CST)) {
        if (iam_audit_batch_flush(flusher->batch) != IAM_OK)
            flusher->failures++;
        usleep(1000);
    }
    return NULL;
}

/* Four threads add while a fifth flushes over and over: every event is in exactly one record. */
static void test_threads(void **state)
{
    struct fixture *f = *state;
    enum { ADDERS = 4, EACH = 2000 };
    pthread_t threads[ADDERS], flush_thread;
    struct adder adders[ADDERS];
    struct flusher flusher = {.batch = f->batch};
    assert_int_equal(pthread_create(&flush_thread, NULL, flusher_run, &flusher), 0);
    for (int i = 0; i < ADDERS; i++) {
        adders[i] = (struct adder){.batch = f->batch, .index = i, .adds = EACH};
        assert_int_equal(pthread_create(&threads[i], NULL, adder_run, &adders[i]), 0);
    }
    for (int i = 0; i < ADDERS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    __atomic_store_n(&flusher.stop, 1, __ATOMIC_SEQ_CST);
    assert_int_equal(pthread_join(flush_thread, NULL), 0);
    assert_int_equal(flusher.failures, 0);
    assert_int_equal(iam_audit_batch_flush(f->batch), IAM_OK);
    size_t count = 0;
    struct iam_audit_record *items = NULL;
    int64_t total = 0;
    int64_t after = 0;
    do {
        assert_int_equal(iam_store_audit_scan(f->store, f->arena, after, 1000, &items, &count), IAM_OK);
        total += sum_counts(items, count);
        if (count)
            after = items[count - 1].seq;
    } while (count == 1000);
    assert_int_equal(total, ADDERS * EACH);
    assert_int_equal(stats_of(f).dropped, 0);
    struct iam_audit_verify_report report;
    assert_int_equal(iam_audit_verify(f->audit, NULL, &report), IAM_OK);
    assert_true(report.intact);
    assert_int_equal(report.events, ADDERS * EACH);
}

/* Freeing the table writes what is pending. */
static void test_free_flushes(void **state)
{
    struct fixture *f = *state;
    struct iam_audit_record event = token_event(0, "req");
    iam_audit_batch_add(f->batch, &event);
    iam_audit_batch_add(f->batch, &event);
    iam_audit_batch_free(f->batch);
    f->batch = NULL;
    size_t count = 0;
    struct iam_audit_record *items = scan_all(f, &count);
    assert_int_equal(count, 1);
    assert_int_equal(items[0].count, 2);
}

int main(void)
{
    iam_log_set_level(IAM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts_add_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_keep_events_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_strings_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_retry_keeps_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_stays_bounded, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_flushes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
