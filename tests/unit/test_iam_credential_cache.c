/*
 * test_iam_credential_cache.c: the API-key credential cache
 * (iam/credential_cache.h) on its own: a hit returns what was stored, an entry
 * is trusted only under the stamp it was stored with (engine snapshot and
 * cache generation), invalidation forgets everything at once, stores made
 * under an outdated generation are ignored, unknown hashes miss, oversized
 * text is not cached, a colliding key evicts, and concurrent use is safe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "common/arena.h"
#include "iam/credential_cache.h"

struct fixture {
    struct iam_credential_cache *cache;
    struct iam_arena *arena;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    if (iam_credential_cache_new(64, &f.cache) != IAM_OK)
        return -1;
    f.arena = iam_arena_new();
    if (!f.arena)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    iam_credential_cache_free(f->cache);
    iam_arena_free(f->arena);
    return 0;
}

static void hash_of(uint8_t seed, uint8_t hash[IAM_HASH_SIZE])
{
    for (size_t i = 0; i < IAM_HASH_SIZE; i++)
        hash[i] = (uint8_t)(seed * 31 + i * 7);
}

static struct iam_credential service_id_credential(void)
{
    struct iam_credential credential = {
        .apikey_id = "ApiKey-1",
        .account_id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        .iam_id = "iam-ServiceId-1",
        .disabled = false,
        .expires_at = 1900000000,
        .has_principal = true,
        .principal = {.kind = IAM_PRINCIPAL_SERVICE_ID,
                      .iam_id = "iam-ServiceId-1",
                      .account_id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                      .subject_id = "ServiceId-1",
                      .name = "billing"},
    };
    return credential;
}

static void hit_returns_what_was_stored(void **state)
{
    struct fixture *f = *state;
    uint8_t hash[IAM_HASH_SIZE];
    hash_of(1, hash);
    struct iam_credential_stamp stamp = iam_credential_cache_stamp(f->cache, 7);
    assert_int_equal(stamp.snapshot, 7);
    struct iam_credential out;
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, hash, stamp, &out)); /* never stored */

    struct iam_credential stored = service_id_credential();
    iam_credential_cache_store(f->cache, hash, stamp, &stored);
    assert_int_equal(iam_credential_cache_count(f->cache, 7), 1);
    assert_int_equal(iam_credential_cache_count(f->cache, 8), 0); /* counted only under the current snapshot */
    assert_true(iam_credential_cache_lookup(f->cache, f->arena, hash, iam_credential_cache_stamp(f->cache, 7), &out));
    assert_string_equal(out.apikey_id, "ApiKey-1");
    assert_string_equal(out.account_id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_string_equal(out.iam_id, "iam-ServiceId-1");
    assert_false(out.disabled);
    assert_int_equal(out.expires_at, 1900000000);
    assert_true(out.has_principal);
    assert_int_equal(out.principal.kind, IAM_PRINCIPAL_SERVICE_ID);
    assert_string_equal(out.principal.iam_id, "iam-ServiceId-1");
    assert_string_equal(out.principal.account_id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_string_equal(out.principal.subject_id, "ServiceId-1");
    assert_string_equal(out.principal.name, "billing");
    assert_string_equal(out.principal.apikey_id, "ApiKey-1");
    assert_null(out.principal.login);
    assert_null(out.principal.email);
    /* Arena copies: nothing points into the cache or the caller's record. */
    assert_ptr_not_equal(out.apikey_id, stored.apikey_id);

    /* Another hash misses, even in the same cache. */
    uint8_t other[IAM_HASH_SIZE];
    hash_of(2, other);
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, other, stamp, &out));
}

static void user_fields_round_trip(void **state)
{
    struct fixture *f = *state;
    uint8_t hash[IAM_HASH_SIZE];
    hash_of(3, hash);
    struct iam_credential stored = {
        .apikey_id = "ApiKey-u",
        .account_id = "acc",
        .iam_id = "IBMid-U",
        .has_principal = true,
        .principal = {.kind = IAM_PRINCIPAL_USER, .iam_id = "IBMid-U", .account_id = "acc", .subject_id = "IBMid-U",
                      .name = "Ada Lovelace", .login = "ada", .email = "ada@example.com", .given_name = "Ada",
                      .family_name = ""},
    };
    struct iam_credential_stamp stamp = iam_credential_cache_stamp(f->cache, 1);
    iam_credential_cache_store(f->cache, hash, stamp, &stored);
    struct iam_credential out;
    assert_true(iam_credential_cache_lookup(f->cache, f->arena, hash, stamp, &out));
    assert_int_equal(out.principal.kind, IAM_PRINCIPAL_USER);
    assert_string_equal(out.principal.login, "ada");
    assert_string_equal(out.principal.email, "ada@example.com");
    assert_string_equal(out.principal.given_name, "Ada");
    assert_non_null(out.principal.family_name); /* empty, not NULL */
    assert_string_equal(out.principal.family_name, "");
    assert_string_equal(out.principal.name, "Ada Lovelace");
}

static void disabled_key_without_principal(void **state)
{
    struct fixture *f = *state;
    uint8_t hash[IAM_HASH_SIZE];
    hash_of(4, hash);
    struct iam_credential stored = {.apikey_id = "ApiKey-d", .account_id = "acc", .iam_id = "IBMid-D",
                                    .disabled = true};
    struct iam_credential_stamp stamp = iam_credential_cache_stamp(f->cache, 1);
    iam_credential_cache_store(f->cache, hash, stamp, &stored);
    struct iam_credential out;
    assert_true(iam_credential_cache_lookup(f->cache, f->arena, hash, stamp, &out));
    assert_true(out.disabled);
    assert_false(out.has_principal);
    assert_null(out.principal.iam_id);
}

static void another_revision_misses(void **state)
{
    struct fixture *f = *state;
    uint8_t hash[IAM_HASH_SIZE];
    hash_of(5, hash);
    struct iam_credential stored = service_id_credential();
    iam_credential_cache_store(f->cache, hash, iam_credential_cache_stamp(f->cache, 10), &stored);
    struct iam_credential out;
    /* The store moved on (a write on any node): the entry is not trusted any more. */
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, hash, iam_credential_cache_stamp(f->cache, 11), &out));
    /* Nor under an older revision. */
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, hash, iam_credential_cache_stamp(f->cache, 9), &out));
    assert_true(iam_credential_cache_lookup(f->cache, f->arena, hash, iam_credential_cache_stamp(f->cache, 10), &out));
    /* Re-read at the new revision, it is trusted there. */
    iam_credential_cache_store(f->cache, hash, iam_credential_cache_stamp(f->cache, 11), &stored);
    assert_true(iam_credential_cache_lookup(f->cache, f->arena, hash, iam_credential_cache_stamp(f->cache, 11), &out));
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, hash, iam_credential_cache_stamp(f->cache, 10), &out));
}

static void invalidate_forgets_everything(void **state)
{
    struct fixture *f = *state;
    uint8_t first[IAM_HASH_SIZE], second[IAM_HASH_SIZE];
    hash_of(6, first);
    hash_of(7, second);
    struct iam_credential stored = service_id_credential();
    struct iam_credential_stamp before = iam_credential_cache_stamp(f->cache, 3);
    iam_credential_cache_store(f->cache, first, before, &stored);
    iam_credential_cache_store(f->cache, second, before, &stored);
    assert_int_equal(iam_credential_cache_count(f->cache, 3), 2);

    iam_credential_cache_invalidate(f->cache);
    struct iam_credential_stamp after = iam_credential_cache_stamp(f->cache, 3);
    assert_int_not_equal(after.generation, before.generation);
    struct iam_credential out;
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, first, after, &out));
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, second, after, &out));
    assert_int_equal(iam_credential_cache_count(f->cache, 3), 0);

    /* A read that started before the write (old stamp) must not put its answer back. */
    uint8_t third[IAM_HASH_SIZE];
    hash_of(11, third);
    iam_credential_cache_store(f->cache, third, before, &stored);
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, third, before, &out));
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, third, after, &out));
    /* A read that started after it may. */
    iam_credential_cache_store(f->cache, first, after, &stored);
    assert_true(iam_credential_cache_lookup(f->cache, f->arena, first, after, &out));
    iam_credential_cache_invalidate(NULL); /* allowed */
}

static void oversized_or_incomplete_is_not_cached(void **state)
{
    struct fixture *f = *state;
    uint8_t hash[IAM_HASH_SIZE];
    hash_of(8, hash);
    char name[IAM_CREDENTIAL_TEXT_MAX + 1];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    struct iam_credential stored = service_id_credential();
    stored.principal.name = name;
    struct iam_credential_stamp stamp = iam_credential_cache_stamp(f->cache, 1);
    iam_credential_cache_store(f->cache, hash, stamp, &stored);
    struct iam_credential out;
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, hash, stamp, &out));

    stored = service_id_credential();
    stored.principal.subject_id = NULL; /* a principal without its subject is not a principal */
    iam_credential_cache_store(f->cache, hash, stamp, &stored);
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, hash, stamp, &out));
    assert_int_equal(iam_credential_cache_count(f->cache, 1), 0);
}

static void colliding_key_evicts(void **state)
{
    struct fixture *f = *state;
    /* Same leading bytes, so the same slot; different hashes. */
    uint8_t first[IAM_HASH_SIZE], second[IAM_HASH_SIZE];
    hash_of(9, first);
    memcpy(second, first, IAM_HASH_SIZE);
    second[IAM_HASH_SIZE - 1] ^= 0xff;
    struct iam_credential a = service_id_credential();
    struct iam_credential b = service_id_credential();
    b.apikey_id = "ApiKey-2";
    struct iam_credential_stamp stamp = iam_credential_cache_stamp(f->cache, 1);
    iam_credential_cache_store(f->cache, first, stamp, &a);
    iam_credential_cache_store(f->cache, second, stamp, &b);
    struct iam_credential out;
    assert_false(iam_credential_cache_lookup(f->cache, f->arena, first, stamp, &out));
    assert_true(iam_credential_cache_lookup(f->cache, f->arena, second, stamp, &out));
    assert_string_equal(out.apikey_id, "ApiKey-2");
    assert_int_equal(iam_credential_cache_count(f->cache, 1), 1);
}

static void null_cache_is_a_miss(void **state)
{
    struct fixture *f = *state;
    uint8_t hash[IAM_HASH_SIZE];
    hash_of(10, hash);
    struct iam_credential stored = service_id_credential();
    struct iam_credential_stamp stamp = iam_credential_cache_stamp(NULL, 1);
    iam_credential_cache_store(NULL, hash, stamp, &stored);
    struct iam_credential out;
    assert_false(iam_credential_cache_lookup(NULL, f->arena, hash, stamp, &out));
    assert_int_equal(iam_credential_cache_count(NULL, 1), 0);
    assert_int_equal(iam_credential_cache_capacity(NULL), 0);
    assert_int_equal(iam_credential_cache_capacity(f->cache), 64);
}

struct worker {
    struct iam_credential_cache *cache;
    int seed;
    int hits;
};

static void *hammer(void *argument)
{
    struct worker *worker = argument;
    struct iam_arena *arena = iam_arena_new();
    struct iam_credential stored = service_id_credential();
    for (int i = 0; i < 20000 && arena; i++) {
        uint8_t hash[IAM_HASH_SIZE];
        hash_of((uint8_t)(worker->seed + i % 16), hash);
        struct iam_credential_stamp stamp = iam_credential_cache_stamp(worker->cache, i % 3);
        struct iam_credential out;
        if (iam_credential_cache_lookup(worker->cache, arena, hash, stamp, &out)) {
            worker->hits += strcmp(out.apikey_id, "ApiKey-1") == 0;
        } else {
            iam_credential_cache_store(worker->cache, hash, stamp, &stored);
        }
        if (i % 1000 == 999) {
            iam_credential_cache_invalidate(worker->cache);
            iam_arena_free(arena);
            arena = iam_arena_new();
        }
    }
    iam_arena_free(arena);
    return NULL;
}

static void concurrent_use(void **state)
{
    struct fixture *f = *state;
    struct worker workers[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (struct worker){.cache = f->cache, .seed = i * 4};
        assert_int_equal(pthread_create(&threads[i], NULL, hammer, &workers[i]), 0);
    }
    int hits = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        hits += workers[i].hits;
    }
    assert_true(hits > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hit_returns_what_was_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(user_fields_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(disabled_key_without_principal, setup, teardown),
        cmocka_unit_test_setup_teardown(another_revision_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(invalidate_forgets_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_or_incomplete_is_not_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(colliding_key_evicts, setup, teardown),
        cmocka_unit_test_setup_teardown(null_cache_is_a_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_use, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
