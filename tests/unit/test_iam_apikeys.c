/*
 * test_iam_apikeys.c: the API-key domain functions (iam/apikeys.h) over a
 * real SQLite store in a mkdtemp directory: create, read by id and by value,
 * list and paging, update with entity tags, lock/disable, delete, sealed
 * stored values, input refusals, account isolation and authorization.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/keyformat.h"
#include "crypto/random.h"
#include "iam/apikeys.h"
#include "iam/service_ids.h"
#include "iam/usage.h"
#include "store/store.h"
#include "support/service_fixture.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define USER_A "IBMid-AAAAAAAAAA"
#define USER_B "IBMid-BBBBBBBBBB"
#define SUPPLIED_VALUE "abcdefghijklmnopqrstuvwxyz0123456789-_.~ABCD"

struct fixture {
    char directory[TEST_SERVICE_DIRECTORY_SIZE];
    struct iam_service service;
    struct iam_arena *arena;
    struct iam_principal user_a; /* a user of account A */
    struct iam_principal user_b; /* a user of account B */
};

static void insert_account(struct iam_store *store, const char *account_id, const char *user_iam_id,
                           const char *login)
{
    struct iam_account_record account = {.id = account_id, .name = "test", .owner_iam_id = user_iam_id,
                                          .state = "ACTIVE", .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
    struct iam_user_record user = {.iam_id = user_iam_id, .account_id = account_id, .login = login,
                                   .state = "ACTIVE", .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_user_insert(store, &user), IAM_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    iam_log_set_level(IAM_LOG_WARN);
    if (test_service_open(&f->service, f->directory, "apikeys", true) != IAM_OK)
        goto fail;
    f->arena = iam_arena_new();
    insert_account(f->service.store, ACCOUNT_A, USER_A, "a@example.com");
    insert_account(f->service.store, ACCOUNT_B, USER_B, "b@example.com");
    f->user_a = test_user_principal(USER_A, ACCOUNT_A);
    f->user_b = test_user_principal(USER_B, ACCOUNT_B);
    *state = f;
    return 0;
fail:
    free(f);
    return -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    iam_arena_free(f->arena);
    if (test_service_close(&f->service, f->directory) != 0)
        return -1;
    free(f);
    return 0;
}

/* Creates a key; fails the test unless it works. */
static struct iam_apikey_record create_key(struct fixture *f, const struct iam_principal *who,
                                           struct iam_apikey_create_request *request, const char **value)
{
    struct iam_apikey_record record;
    struct iam_error err;
    iam_error_clear(&err);
    const char *ignored;
    enum iam_result result =
        iam_apikey_create(&f->service, f->arena, who, request, &record, value ? value : &ignored, &err);
    if (result != IAM_OK)
        fail_msg("iam_apikey_create: %s: %s %s", iam_strerror(result), err.message_code, err.message);
    return record;
}

static struct iam_apikey_record create_user_key(struct fixture *f, const char *name, const char **value)
{
    struct iam_apikey_create_request request = {.name = name, .iam_id = USER_A, .description = "first"};
    return create_key(f, &f->user_a, &request, value);
}

/* A service ID in account A (created through the domain, as a user of A). */
static struct iam_service_id_record create_service_id(struct fixture *f, const char *name)
{
    struct iam_service_id_create_request request = {.account_id = ACCOUNT_A, .name = name};
    struct iam_service_id_view view;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_service_id_create(&f->service, f->arena, &f->user_a, &request, &view, &err);
    if (result != IAM_OK)
        fail_msg("iam_service_id_create: %s: %s", iam_strerror(result), err.message);
    return view.record;
}

static struct iam_principal service_principal(const struct iam_service_id_record *record)
{
    return (struct iam_principal){.kind = IAM_PRINCIPAL_SERVICE_ID,
                                  .iam_id = record->iam_id,
                                  .account_id = record->account_id,
                                  .subject_id = record->id,
                                  .name = record->name};
}

static void assert_entity_tag_version(const char *tag, int version)
{
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%d-", version);
    assert_non_null(tag);
    assert_int_equal(strncmp(tag, prefix, strlen(prefix)), 0);
    const char *hex = tag + strlen(prefix);
    assert_int_equal(strlen(hex), 32);
    assert_int_equal(strspn(hex, "0123456789abcdef"), 32);
}

static void create_then_get(void **state)
{
    struct fixture *f = *state;
    const char *value = NULL;
    struct iam_apikey_record created = create_user_key(f, "key one", &value);

    assert_true(iam_is_prefixed_id(created.id, "ApiKey-"));
    assert_string_equal(created.account_id, ACCOUNT_A);
    assert_string_equal(created.iam_id, USER_A);
    assert_string_equal(created.created_by, USER_A);
    assert_string_equal(created.action_when_leaked, "none");
    assert_false(created.locked);
    assert_false(created.disabled);
    assert_false(created.support_sessions);
    assert_null(created.sealed_value);
    assert_entity_tag_version(created.entity_tag, 1);

    /* The value is in the key format, names the key id, and only its HMAC is kept. */
    struct iam_keyformat_info info;
    assert_int_equal(iam_keyformat_inspect("iamd", value, &info), IAM_OK);
    assert_string_equal(info.key_id_text, created.id);
    uint8_t hash[IAM_HASH_SIZE];
    assert_int_equal(iam_hasher_mac(f->service.hasher, value, strlen(value), hash), IAM_OK);
    assert_memory_equal(hash, created.hash, IAM_HASH_SIZE);

    struct iam_apikey_view view;
    struct iam_error err;
    struct iam_apikey_read_options options = {.include_history = true, .include_activity = true};
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, &options, &view, &err), IAM_OK);
    assert_string_equal(view.record.name, "key one");
    assert_string_equal(view.record.description, "first");
    assert_string_equal(view.record.entity_tag, created.entity_tag);
    assert_null(view.value); /* user keys never show their value again */
    assert_true(view.has_history);
    assert_int_equal(view.history_count, 1);
    assert_string_equal(view.history[0].action, "CreateApiKey");
    assert_string_equal(view.history[0].iam_id, USER_A);
    assert_string_equal(view.history[0].iam_id_account, ACCOUNT_A);
    assert_string_equal(view.history[0].params, "[\"key one\"]");
    assert_true(view.has_activity);
    assert_int_equal(view.authn_count, 0);

    /* Activity includes the uses not yet flushed. */
    iam_usage_record(f->service.usage, created.id, 1900000000);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, &options, &view, &err), IAM_OK);
    assert_int_equal(view.authn_count, 1);
    assert_int_equal(view.last_authn, 1900000000);

    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, "ApiKey-missing", NULL, &view, &err),
                     IAM_ENOTFOUND);
    assert_string_equal(err.message_code, "BXNIM0102E");
}

static void get_by_value(void **state)
{
    struct fixture *f = *state;
    const char *value = NULL;
    struct iam_apikey_record created = create_user_key(f, "by value", &value);
    struct iam_apikey_view view;
    struct iam_error err;
    struct iam_apikey_read_options options = {.include_history = true};
    assert_int_equal(iam_apikey_get_by_value(&f->service, f->arena, &f->user_a, value, &options, &view, &err), IAM_OK);
    assert_string_equal(view.record.id, created.id);
    assert_int_equal(view.history_count, 1);

    assert_int_equal(iam_apikey_get_by_value(&f->service, f->arena, &f->user_b, value, &options, &view, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_apikey_get_by_value(&f->service, f->arena, &f->user_a, "iamd_not-a-key", NULL, &view, &err),
                     IAM_ENOTFOUND);
}

static size_t list_count(struct fixture *f, const struct iam_principal *who, struct iam_apikey_list_request request,
                         bool *has_more)
{
    struct iam_apikey_page page;
    struct iam_error err;
    iam_error_clear(&err);
    if (request.limit == 0)
        request.limit = 100;
    enum iam_result result = iam_apikey_list(&f->service, f->arena, who, &request, &page, &err);
    if (result != IAM_OK)
        fail_msg("iam_apikey_list: %s: %s", iam_strerror(result), err.message);
    if (has_more)
        *has_more = page.has_more;
    return page.count;
}

static void list_and_page(void **state)
{
    struct fixture *f = *state;
    create_user_key(f, "alpha", NULL);
    create_user_key(f, "beta", NULL);
    create_user_key(f, "alphabet", NULL);
    struct iam_service_id_record service_id = create_service_id(f, "lister");
    struct iam_apikey_create_request service_key = {.name = "service key", .iam_id = service_id.iam_id};
    create_key(f, &f->user_a, &service_key, NULL);

    bool has_more;
    /* scope entity (default): the caller's own keys */
    assert_int_equal(list_count(f, &f->user_a, (struct iam_apikey_list_request){0}, &has_more), 3);
    assert_false(has_more);
    assert_int_equal(list_count(f, &f->user_a, (struct iam_apikey_list_request){.limit = 2}, &has_more), 2);
    assert_true(has_more);
    assert_int_equal(list_count(f, &f->user_a, (struct iam_apikey_list_request){.limit = 2, .offset = 2}, &has_more),
                     1);
    assert_false(has_more);
    assert_int_equal(list_count(f, &f->user_a, (struct iam_apikey_list_request){.filter = "name co \"alpha\""}, NULL),
                     2);
    assert_int_equal(list_count(f, &f->user_a, (struct iam_apikey_list_request){.iam_id = service_id.iam_id}, NULL),
                     1);
    assert_int_equal(list_count(f, &f->user_a, (struct iam_apikey_list_request){.scope = "account"}, NULL), 4);
    assert_int_equal(
        list_count(f, &f->user_a, (struct iam_apikey_list_request){.scope = "account", .type = "serviceid"}, NULL), 1);

    /* sorted by name, descending */
    struct iam_apikey_page page;
    struct iam_error err;
    struct iam_apikey_list_request sorted = {.sort = "name", .order = "desc", .limit = 10};
    assert_int_equal(iam_apikey_list(&f->service, f->arena, &f->user_a, &sorted, &page, &err), IAM_OK);
    assert_int_equal(page.count, 3);
    assert_string_equal(page.items[0].record.name, "beta");
    assert_string_equal(page.items[2].record.name, "alpha");

    /* malformed parameters */
    struct iam_apikey_list_request bad[] = {
        {.limit = 10, .scope = "everything"}, {.limit = 10, .type = "robot"},
        {.limit = 10, .sort = "hash"},        {.limit = 10, .order = "up"},
        {.limit = 10, .filter = "name sw \"a\""}, {.limit = 10, .filter = "name co \"unterminated"},
        {.limit = 0},                         {.limit = 10, .account_id = "not-an-account"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(iam_apikey_list(&f->service, f->arena, &f->user_a, &bad[i], &page, &err), IAM_EINVAL);
        assert_string_equal(err.message_code, "BXNIM0110E");
    }

    /* another account */
    struct iam_apikey_list_request foreign = {.account_id = ACCOUNT_B, .limit = 10};
    assert_int_equal(iam_apikey_list(&f->service, f->arena, &f->user_a, &foreign, &page, &err), IAM_ENOTFOUND);
    assert_int_equal(list_count(f, &f->user_b, (struct iam_apikey_list_request){.scope = "account"}, NULL), 0);
}

static void update_with_entity_tags(void **state)
{
    struct fixture *f = *state;
    struct iam_apikey_record created = create_user_key(f, "to update", NULL);
    struct iam_apikey_view view;
    struct iam_error err;

    struct iam_apikey_update_request update = {.description = "second"};
    const char *stale = "1-00000000000000000000000000000000";
    assert_int_equal(
        iam_apikey_update(&f->service, f->arena, &f->user_a, created.id, stale, &update, &view, &err), IAM_ECONFLICT);
    assert_string_equal(err.message_code, "BXNIM0501E");
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, NULL, &view, &err), IAM_OK);
    assert_string_equal(view.record.description, "first");
    assert_string_equal(view.record.entity_tag, created.entity_tag);

    int64_t expires = iam_now() + 86400;
    update = (struct iam_apikey_update_request){.name = "renamed",
                                                .description = "second",
                                                .action_when_leaked = "disable",
                                                .set_support_sessions = true,
                                                .support_sessions = true,
                                                .set_expires_at = true,
                                                .expires_at = expires};
    assert_int_equal(
        iam_apikey_update(&f->service, f->arena, &f->user_a, created.id, created.entity_tag, &update, &view, &err),
        IAM_OK);
    assert_entity_tag_version(view.record.entity_tag, 2);
    assert_string_equal(view.record.name, "renamed");
    assert_string_equal(view.record.action_when_leaked, "disable");
    assert_true(view.record.support_sessions);
    assert_int_equal(view.record.expires_at, expires);
    const char *second_tag = view.record.entity_tag;

    /* "" clears the description; NULL expected tag (If-Match: *) matches any version. */
    update = (struct iam_apikey_update_request){.description = ""};
    assert_int_equal(iam_apikey_update(&f->service, f->arena, &f->user_a, created.id, NULL, &update, &view, &err),
                     IAM_OK);
    assert_null(view.record.description);
    assert_entity_tag_version(view.record.entity_tag, 3);
    /* the old tag is now stale */
    assert_int_equal(
        iam_apikey_update(&f->service, f->arena, &f->user_a, created.id, second_tag, &update, &view, &err),
        IAM_ECONFLICT);

    struct iam_apikey_read_options options = {.include_history = true};
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, &options, &view, &err), IAM_OK);
    assert_int_equal(view.history_count, 3);
    assert_string_equal(view.history[1].action, "UpdateApiKey");
    assert_string_equal(view.history[2].params, "[\"description\"]");

    /* bad input changes nothing */
    struct iam_apikey_update_request bad[] = {
        {.name = ""},
        {.action_when_leaked = "explode"},
        {.set_expires_at = true, .expires_at = -5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(iam_apikey_update(&f->service, f->arena, &f->user_a, created.id, NULL, &bad[i], &view, &err),
                         IAM_EINVAL);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, NULL, &view, &err), IAM_OK);
    assert_entity_tag_version(view.record.entity_tag, 3);

    /* an update may set a past expiry: the key expires at once */
    update = (struct iam_apikey_update_request){.set_expires_at = true, .expires_at = iam_now() - 60};
    assert_int_equal(iam_apikey_update(&f->service, f->arena, &f->user_a, created.id, NULL, &update, &view, &err),
                     IAM_OK);
    assert_true(view.record.expires_at < iam_now());
}

static void lock_refuses_update_and_delete(void **state)
{
    struct fixture *f = *state;
    struct iam_apikey_record created = create_user_key(f, "locked", NULL);
    struct iam_apikey_view view;
    struct iam_error err;
    assert_int_equal(iam_apikey_set_locked(&f->service, f->arena, &f->user_a, created.id, true, &err), IAM_OK);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, NULL, &view, &err), IAM_OK);
    assert_true(view.record.locked);
    assert_entity_tag_version(view.record.entity_tag, 2);

    struct iam_apikey_update_request update = {.name = "nope"};
    assert_int_equal(iam_apikey_update(&f->service, f->arena, &f->user_a, created.id, NULL, &update, &view, &err),
                     IAM_ELOCKED);
    assert_string_equal(err.message_code, "BXNIM0510E");
    assert_int_equal(iam_apikey_delete(&f->service, f->arena, &f->user_a, created.id, &err), IAM_ELOCKED);

    /* disabling stays possible on a locked key */
    assert_int_equal(iam_apikey_set_disabled(&f->service, f->arena, &f->user_a, created.id, true, &err), IAM_OK);
    assert_int_equal(iam_apikey_set_disabled(&f->service, f->arena, &f->user_a, created.id, false, &err), IAM_OK);
    assert_int_equal(iam_apikey_set_locked(&f->service, f->arena, &f->user_a, created.id, false, &err), IAM_OK);

    struct iam_apikey_read_options options = {.include_history = true};
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, &options, &view, &err), IAM_OK);
    assert_false(view.record.locked);
    assert_false(view.record.disabled);
    assert_int_equal(view.history_count, 5);
    assert_string_equal(view.history[1].action, "LockApiKey");
    assert_string_equal(view.history[2].action, "DisableApiKey");
    assert_string_equal(view.history[3].action, "EnableApiKey");
    assert_string_equal(view.history[4].action, "UnlockApiKey");

    /* a lock of an unlocked key twice is one change */
    assert_int_equal(iam_apikey_set_locked(&f->service, f->arena, &f->user_a, created.id, false, &err), IAM_OK);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, NULL, &view, &err), IAM_OK);
    assert_entity_tag_version(view.record.entity_tag, 5);

    assert_int_equal(iam_apikey_delete(&f->service, f->arena, &f->user_a, created.id, &err), IAM_OK);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, NULL, &view, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_apikey_delete(&f->service, f->arena, &f->user_a, created.id, &err), IAM_ENOTFOUND);
}

static void stored_value_round_trip(void **state)
{
    struct fixture *f = *state;
    struct iam_service_id_record service_id = create_service_id(f, "storer");
    struct iam_apikey_create_request request = {.name = "kept", .iam_id = service_id.iam_id, .store_value = true};
    const char *value = NULL;
    struct iam_apikey_record created = create_key(f, &f->user_a, &request, &value);
    char *expected = strdup(value);

    /* The record holds a sealed blob bound to "apikey-value:<id>", not the value. */
    assert_non_null(created.sealed_value);
    assert_int_equal(created.sealed_value_length, strlen(expected) + IAM_AEAD_OVERHEAD);
    assert_null(memmem(created.sealed_value, created.sealed_value_length, expected, strlen(expected)));
    char plain[256];
    char aad[128];
    snprintf(aad, sizeof aad, "apikey-value:%s", created.id);
    assert_int_equal(iam_aead_open(f->service.kek, aad, strlen(aad), created.sealed_value,
                                   created.sealed_value_length, (uint8_t *)plain),
                     IAM_OK);
    assert_memory_equal(plain, expected, strlen(expected));
    assert_int_equal(iam_aead_open(f->service.kek, "apikey-value:x", 14, created.sealed_value,
                                   created.sealed_value_length, (uint8_t *)plain),
                     IAM_ECRYPTO);

    /* Reads return it: by id, by value, in lists. */
    struct iam_apikey_view view;
    struct iam_error err;
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, NULL, &view, &err), IAM_OK);
    assert_string_equal(view.value, expected);
    assert_int_equal(iam_apikey_get_by_value(&f->service, f->arena, &f->user_a, expected, NULL, &view, &err), IAM_OK);
    assert_string_equal(view.value, expected);
    struct iam_apikey_page page;
    struct iam_apikey_list_request list = {.iam_id = service_id.iam_id, .limit = 10};
    assert_int_equal(iam_apikey_list(&f->service, f->arena, &f->user_a, &list, &page, &err), IAM_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.items[0].value, expected);
    free(expected);
}

static void refusals_on_create(void **state)
{
    struct fixture *f = *state;
    struct iam_apikey_record record;
    const char *value = NULL;
    struct iam_error err;
    struct iam_service_id_record service_id = create_service_id(f, "sessions");
    struct {
        struct iam_apikey_create_request request;
        enum iam_result expected;
    } cases[] = {
        /* store_value is for service-ID keys only */
        {{.name = "k", .iam_id = USER_A, .store_value = true}, IAM_EINVAL},
        /* a client-supplied value must be 32..128 URL-safe characters */
        {{.name = "k", .iam_id = USER_A, .apikey = "too-short"}, IAM_EINVAL},
        {{.name = "k", .iam_id = USER_A, .apikey = "has spaces has spaces has spaces has spaces"}, IAM_EINVAL},
        {{.name = "", .iam_id = USER_A}, IAM_EINVAL},
        {{.iam_id = USER_A}, IAM_EINVAL},
        {{.name = "k"}, IAM_EINVAL},
        {{.name = "k", .iam_id = USER_A, .action_when_leaked = "panic"}, IAM_EINVAL},
        {{.name = "k", .iam_id = USER_A, .account_id = "xyz"}, IAM_EINVAL},
        {{.name = "k", .iam_id = service_id.iam_id, .support_sessions = true}, IAM_EINVAL},
        {{.name = "k", .iam_id = USER_A, .expires_at = 1000}, IAM_EINVAL},
        /* the identity must exist in the account */
        {{.name = "k", .iam_id = "IBMid-NOBODY0000"}, IAM_ENOTFOUND},
        {{.name = "k", .iam_id = "iam-ServiceId-00000000-0000-4000-8000-000000000000"}, IAM_ENOTFOUND},
        /* another account's identity, or the caller's identity in another account */
        {{.name = "k", .iam_id = USER_B}, IAM_ENOTFOUND},
        {{.name = "k", .iam_id = USER_A, .account_id = ACCOUNT_B}, IAM_ENOTFOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum iam_result result =
            iam_apikey_create(&f->service, f->arena, &f->user_a, &cases[i].request, &record, &value, &err);
        if (result != cases[i].expected)
            fail_msg("case %zu: %s instead of %s (%s)", i, iam_strerror(result), iam_strerror(cases[i].expected),
                     err.message);
    }
    assert_string_equal(err.message_code, "BXNIM0104E");
    /* nothing was stored */
    assert_int_equal(list_count(f, &f->user_a, (struct iam_apikey_list_request){.scope = "account"}, NULL), 0);

    /* a supplied value works once; the same value again is a conflict */
    struct iam_apikey_create_request supplied = {.name = "mine", .iam_id = USER_A, .apikey = SUPPLIED_VALUE};
    struct iam_apikey_record first = create_key(f, &f->user_a, &supplied, &value);
    assert_string_equal(value, SUPPLIED_VALUE);
    assert_int_equal(iam_apikey_create(&f->service, f->arena, &f->user_a, &supplied, &record, &value, &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.message_code, "BXNIM0511E");
    struct iam_apikey_view view;
    assert_int_equal(iam_apikey_get_by_value(&f->service, f->arena, &f->user_a, SUPPLIED_VALUE, NULL, &view, &err),
                     IAM_OK);
    assert_string_equal(view.record.id, first.id);

    /* Entity-Lock and Entity-Disable */
    struct iam_apikey_create_request flags = {.name = "flags", .iam_id = USER_A, .locked = true, .disabled = true};
    struct iam_apikey_record flagged = create_key(f, &f->user_a, &flags, NULL);
    assert_true(flagged.locked);
    assert_true(flagged.disabled);
}

static void other_account_is_not_found(void **state)
{
    struct fixture *f = *state;
    struct iam_apikey_record created = create_user_key(f, "private", NULL);
    struct iam_apikey_view view;
    struct iam_error err;
    struct iam_apikey_update_request update = {.name = "stolen"};
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_b, created.id, NULL, &view, &err), IAM_ENOTFOUND);
    assert_string_equal(err.message_code, "BXNIM0102E");
    assert_int_equal(iam_apikey_update(&f->service, f->arena, &f->user_b, created.id, NULL, &update, &view, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_apikey_delete(&f->service, f->arena, &f->user_b, created.id, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_apikey_set_locked(&f->service, f->arena, &f->user_b, created.id, true, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_apikey_set_disabled(&f->service, f->arena, &f->user_b, created.id, true, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.id, NULL, &view, &err), IAM_OK);
    assert_string_equal(view.record.name, "private");
    assert_entity_tag_version(view.record.entity_tag, 1);
}

static void service_id_without_policy_touches_no_keys(void **state)
{
    struct fixture *f = *state;
    struct iam_service_id_record mine = create_service_id(f, "mine");
    struct iam_service_id_record theirs = create_service_id(f, "theirs");
    struct iam_principal me = service_principal(&mine);
    struct iam_apikey_create_request for_theirs = {.name = "theirs", .iam_id = theirs.iam_id};
    struct iam_apikey_record their_key = create_key(f, &f->user_a, &for_theirs, NULL);
    struct iam_apikey_record user_key = create_user_key(f, "user's", NULL);

    struct iam_apikey_view view;
    struct iam_apikey_record record;
    const char *value;
    struct iam_error err;
    struct iam_apikey_update_request update = {.name = "taken"};
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &me, their_key.id, NULL, &view, &err), IAM_EDENIED);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &me, user_key.id, NULL, &view, &err), IAM_EDENIED);
    assert_int_equal(iam_apikey_update(&f->service, f->arena, &me, their_key.id, NULL, &update, &view, &err),
                     IAM_EDENIED);
    assert_int_equal(iam_apikey_delete(&f->service, f->arena, &me, their_key.id, &err), IAM_EDENIED);
    assert_int_equal(iam_apikey_set_locked(&f->service, f->arena, &me, their_key.id, true, &err), IAM_EDENIED);
    assert_int_equal(iam_apikey_create(&f->service, f->arena, &me, &for_theirs, &record, &value, &err), IAM_EDENIED);
    struct iam_apikey_page page;
    struct iam_apikey_list_request list = {.iam_id = theirs.iam_id, .limit = 10};
    assert_int_equal(iam_apikey_list(&f->service, f->arena, &me, &list, &page, &err), IAM_EDENIED);
    list = (struct iam_apikey_list_request){.scope = "account", .limit = 10};
    assert_int_equal(iam_apikey_list(&f->service, f->arena, &me, &list, &page, &err), IAM_EDENIED);

    /* Without a policy (IBM semantics) not even its own keys: no implicit self-access for service IDs. */
    struct iam_apikey_create_request for_me = {.name = "own", .iam_id = mine.iam_id};
    assert_int_equal(iam_apikey_create(&f->service, f->arena, &me, &for_me, &record, &value, &err), IAM_EDENIED);
    list = (struct iam_apikey_list_request){.limit = 10};
    assert_int_equal(iam_apikey_list(&f->service, f->arena, &me, &list, &page, &err), IAM_EDENIED);
}

static void filter_grammar(void **state)
{
    struct fixture *f = *state;
    const char *equals, *contains;
    struct iam_error err;
    assert_int_equal(iam_name_filter_parse(f->arena, "name co \"Go\"", &equals, &contains, &err), IAM_OK);
    assert_null(equals);
    assert_string_equal(contains, "Go");
    assert_int_equal(iam_name_filter_parse(f->arena, "  NAME  EQ  \"a \\\"b\\\\\"  ", &equals, &contains, &err),
                     IAM_OK);
    assert_string_equal(equals, "a \"b\\");
    assert_null(contains);
    static const char *const bad[] = {"",           "name",          "name co",       "name co Go",
                                      "name co \"", "name co \"x\" and", "id eq \"x\"", "name co \"\\n\"",
                                      "nameco \"x\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(iam_name_filter_parse(f->arena, bad[i], &equals, &contains, &err), IAM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_then_get, setup, teardown),
        cmocka_unit_test_setup_teardown(get_by_value, setup, teardown),
        cmocka_unit_test_setup_teardown(list_and_page, setup, teardown),
        cmocka_unit_test_setup_teardown(update_with_entity_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(lock_refuses_update_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(stored_value_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_on_create, setup, teardown),
        cmocka_unit_test_setup_teardown(other_account_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(service_id_without_policy_touches_no_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(filter_grammar, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
