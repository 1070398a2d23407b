/*
 * test_iam_usage.c: the usage batcher (iam/usage.h) over a real SQLite store:
 * a flush writes the counted uses; a flush that fails because the database is
 * away (the store's test hook) keeps them, uses counted meanwhile are added,
 * and the next flush writes the sum, none lost; memory is bounded by the
 * number of distinct keys (the capacity), not by uses or outage length; a
 * companion batcher (the audit trail's) is flushed by the same thread, every
 * interval and once more at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/random.h"
#include "iam/apikeys.h"
#include "iam/usage.h"
#include "store/backend.h"
#include "store/store.h"
#include "support/service_fixture.h"

#define ACCOUNT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define OWNER "IBMid-OWNER00000"

struct fixture {
    char directory[TEST_SERVICE_DIRECTORY_SIZE];
    struct iam_service service; /* store, hasher, kek and usage only */
    struct iam_arena *arena;
    const char *key_ids[2];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    iam_log_set_level(IAM_LOG_ERROR);
    if (test_service_open(&f->service, f->directory, "usage", true) != IAM_OK)
        goto fail;
    struct iam_error err;
    f->arena = iam_arena_new();
    int64_t now = iam_now();
    struct iam_account_record account = {.id = ACCOUNT, .name = "test", .owner_iam_id = OWNER, .state = "ACTIVE",
                                          .created_at = now, .modified_at = now};
    struct iam_user_record user = {.iam_id = OWNER, .account_id = ACCOUNT, .login = "owner@example.com",
                                   .state = "ACTIVE", .created_at = now, .modified_at = now};
    if (!f->arena || iam_store_account_insert(f->service.store, &account) != IAM_OK ||
        iam_store_user_insert(f->service.store, &user) != IAM_OK)
        goto fail;
    struct iam_principal owner = {.kind = IAM_PRINCIPAL_USER, .iam_id = OWNER, .account_id = ACCOUNT,
                                  .subject_id = OWNER};
    for (int i = 0; i < 2; i++) {
        struct iam_apikey_create_request request = {.name = i ? "second" : "first", .iam_id = OWNER};
        struct iam_apikey_record record;
        const char *value;
        if (iam_apikey_create(&f->service, f->arena, &owner, &request, &record, &value, &err) != IAM_OK)
            goto fail;
        f->key_ids[i] = record.id;
    }
    *state = f;
    return 0;
fail:
    free(f);
    return -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (iam_store_sqlite_set_unavailable(f->service.store, false) != IAM_OK)
        return -1;
    iam_arena_free(f->arena);
    int status = test_service_close(&f->service, f->directory);
    free(f);
    return status;
}

/* The counters as stored. */
static void stored_usage(struct fixture *f, const char *id, int64_t *count, int64_t *last_authn)
{
    struct iam_apikey_record record;
    assert_int_equal(iam_store_apikey_get(f->service.store, f->arena, ACCOUNT, id, &record), IAM_OK);
    *count = record.authn_count;
    *last_authn = record.last_authn;
}

static void flush_writes_counts(void **state)
{
    struct fixture *f = *state;
    iam_usage_record(f->service.usage, f->key_ids[0], 1900000001);
    iam_usage_record(f->service.usage, f->key_ids[0], 1900000000); /* older: last_authn keeps the later */
    assert_int_equal(iam_usage_flush(f->service.usage), IAM_OK);
    int64_t count, last;
    stored_usage(f, f->key_ids[0], &count, &last);
    assert_int_equal(count, 2);
    assert_int_equal(last, 1900000001);
    iam_usage_pending(f->service.usage, f->key_ids[0], &count, &last);
    assert_int_equal(count, 0);
    assert_int_equal(iam_usage_size(f->service.usage), 0);
}

static void failed_flush_keeps_every_count(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 3; i++)
        iam_usage_record(f->service.usage, f->key_ids[0], 1900000000 + i);
    iam_usage_record(f->service.usage, f->key_ids[1], 1900000000);

    assert_int_equal(iam_store_sqlite_set_unavailable(f->service.store, true), IAM_OK);
    assert_int_equal(iam_usage_flush(f->service.usage), IAM_EUNAVAILABLE);
    int64_t count, last;
    iam_usage_pending(f->service.usage, f->key_ids[0], &count, &last);
    assert_int_equal(count, 3);
    assert_int_equal(last, 1900000002);
    /* Counted during the outage, and a second failed flush. */
    iam_usage_record(f->service.usage, f->key_ids[0], 1900000010);
    iam_usage_record(f->service.usage, f->key_ids[1], 1900000011);
    assert_int_equal(iam_usage_flush(f->service.usage), IAM_EUNAVAILABLE);
    iam_usage_record(f->service.usage, f->key_ids[0], 1900000005);
    iam_usage_pending(f->service.usage, f->key_ids[0], &count, &last);
    assert_int_equal(count, 5);
    assert_int_equal(last, 1900000010);
    assert_int_equal(iam_usage_size(f->service.usage), 2); /* one entry per key, however many uses */

    assert_int_equal(iam_store_sqlite_set_unavailable(f->service.store, false), IAM_OK);
    assert_int_equal(iam_usage_flush(f->service.usage), IAM_OK);
    stored_usage(f, f->key_ids[0], &count, &last);
    assert_int_equal(count, 5);
    assert_int_equal(last, 1900000010);
    stored_usage(f, f->key_ids[1], &count, &last);
    assert_int_equal(count, 2);
    assert_int_equal(last, 1900000011);
    iam_usage_pending(f->service.usage, f->key_ids[0], &count, &last);
    assert_int_equal(count, 0);
    assert_int_equal(iam_usage_size(f->service.usage), 0);
    /* Nothing written twice. */
    assert_int_equal(iam_usage_flush(f->service.usage), IAM_OK);
    stored_usage(f, f->key_ids[0], &count, &last);
    assert_int_equal(count, 5);
}

static void capacity_bounds_memory(void **state)
{
    struct fixture *f = *state;
    iam_usage_set_capacity(f->service.usage, 2);
    iam_usage_record(f->service.usage, f->key_ids[0], 1900000000);
    iam_usage_record(f->service.usage, "ApiKey-other", 1900000000);
    iam_usage_record(f->service.usage, "ApiKey-third", 1900000000); /* a third key: not counted */
    for (int i = 0; i < 1000; i++)
        iam_usage_record(f->service.usage, f->key_ids[0], 1900000000); /* known keys still add up */
    assert_int_equal(iam_usage_size(f->service.usage), 2);
    int64_t count, last;
    iam_usage_pending(f->service.usage, "ApiKey-third", &count, &last);
    assert_int_equal(count, 0);
    iam_usage_pending(f->service.usage, f->key_ids[0], &count, &last);
    assert_int_equal(count, 1001);
    assert_int_equal(iam_usage_flush(f->service.usage), IAM_OK);
    stored_usage(f, f->key_ids[0], &count, &last);
    assert_int_equal(count, 1001);
    /* Room again after a flush. */
    iam_usage_record(f->service.usage, "ApiKey-third", 1900000000);
    iam_usage_pending(f->service.usage, "ApiKey-third", &count, &last);
    assert_int_equal(count, 1);
}

static void count_call(void *context)
{
    atomic_fetch_add((atomic_int *)context, 1);
}

/* The companion runs on the batcher's thread every interval, and once more when the batcher is freed. */
static void companion_shares_the_thread(void **state)
{
    struct fixture *f = *state;
    atomic_int calls;
    atomic_init(&calls, 0);
    struct iam_usage *fast = NULL;
    assert_int_equal(iam_usage_new(f->service.store, 10, &fast), IAM_OK);
    iam_usage_set_companion(fast, count_call, &calls);
    for (int waited = 0; waited < 5000 && atomic_load(&calls) < 3; waited += 10)
        usleep(10 * 1000);
    assert_true(atomic_load(&calls) >= 3);
    iam_usage_set_companion(fast, NULL, NULL); /* removed: no more calls */
    usleep(50 * 1000);
    int removed_at = atomic_load(&calls);
    usleep(50 * 1000);
    assert_int_equal(atomic_load(&calls), removed_at);
    iam_usage_set_companion(fast, count_call, &calls);
    struct iam_usage *slow = NULL;
    atomic_int final_calls;
    atomic_init(&final_calls, 0);
    assert_int_equal(iam_usage_new(f->service.store, 3600 * 1000, &slow), IAM_OK);
    iam_usage_set_companion(slow, count_call, &final_calls);
    iam_usage_free(slow); /* no interval has passed: only the final call */
    assert_int_equal(atomic_load(&final_calls), 1);
    iam_usage_free(fast);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(flush_writes_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_flush_keeps_every_count, setup, teardown),
        cmocka_unit_test_setup_teardown(capacity_bounds_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(companion_shares_the_thread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
