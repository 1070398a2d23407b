/*
 * test_iam_settings.c: account identity settings (iam/settings.h) over a real
 * SQLite store: defaults, validated updates with entity tags, the
 * restrict_user_domains merge, history, account isolation and authorization.
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
#include "common/log.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "iam/settings.h"
#include "store/store.h"
#include "support/service_fixture.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define USER_A "IBMid-AAAAAAAAAA"
#define USER_B "IBMid-BBBBBBBBBB"
#define DEFAULT_TAG "0-00000000000000000000000000000000"

struct fixture {
    char directory[TEST_SERVICE_DIRECTORY_SIZE];
    struct iam_service service;
    struct iam_arena *arena;
    struct iam_principal user_a;
    struct iam_principal user_b;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    iam_log_set_level(IAM_LOG_WARN);
    if (test_service_open(&f->service, f->directory, "settings", false) != IAM_OK)
        goto fail;
    f->arena = iam_arena_new();
    const char *accounts[][2] = {{ACCOUNT_A, USER_A}, {ACCOUNT_B, USER_B}};
    for (size_t i = 0; i < 2; i++) {
        struct iam_account_record account = {.id = accounts[i][0], .name = "test", .owner_iam_id = accounts[i][1],
                                              .state = "ACTIVE", .created_at = iam_now(), .modified_at = iam_now()};
        if (iam_store_account_insert(f->service.store, &account) != IAM_OK)
            goto fail;
    }
    f->user_a = (struct iam_principal){.kind = IAM_PRINCIPAL_USER, .iam_id = USER_A, .account_id = ACCOUNT_A};
    f->user_b = (struct iam_principal){.kind = IAM_PRINCIPAL_USER, .iam_id = USER_B, .account_id = ACCOUNT_B};
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

static const char *setting(const struct iam_settings_view *view, const char *name)
{
    return json_string_value(json_object_get(view->settings, name));
}

static void defaults(void **state)
{
    struct fixture *f = *state;
    struct iam_settings_view view;
    struct iam_error err;
    assert_int_equal(iam_settings_get(&f->service, f->arena, &f->user_a, ACCOUNT_A, true, &view, &err), IAM_OK);
    assert_string_equal(view.account_id, ACCOUNT_A);
    assert_string_equal(view.entity_tag, DEFAULT_TAG);
    assert_int_equal(view.history_count, 0);
    assert_string_equal(setting(&view, "restrict_create_service_id"), "NOT_SET");
    assert_string_equal(setting(&view, "restrict_create_platform_apikey"), "NOT_SET");
    assert_string_equal(setting(&view, "allowed_ip_addresses"), "");
    assert_string_equal(setting(&view, "mfa"), "NONE");
    assert_string_equal(setting(&view, "session_expiration_in_seconds"), "86400");
    assert_string_equal(setting(&view, "session_invalidation_in_seconds"), "7200");
    assert_string_equal(setting(&view, "max_sessions_per_identity"), "NOT_SET");
    assert_string_equal(setting(&view, "system_access_token_expiration_in_seconds"), "3600");
    assert_string_equal(setting(&view, "system_refresh_token_expiration_in_seconds"), "259200");
    assert_string_equal(setting(&view, "restrict_user_list_visibility"), "NOT_RESTRICTED");
    assert_true(json_is_array(json_object_get(view.settings, "user_mfa")));
    assert_true(json_is_array(json_object_get(view.settings, "restrict_user_domains")));
    size_t fields = 0;
    while (iam_settings_fields[fields])
        fields++;
    assert_int_equal(json_object_size(view.settings), fields);
    iam_settings_view_release(&view);
}

static void update_and_merge(void **state)
{
    struct fixture *f = *state;
    struct iam_settings_view view;
    struct iam_error err;
    json_t *changes = json_loads("{\"restrict_create_service_id\":\"NOT_RESTRICTED\",\"mfa\":\"TOTP\","
                                 "\"session_expiration_in_seconds\":\"900\",\"max_sessions_per_identity\":\"10\","
                                 "\"user_mfa\":[{\"iam_id\":\"IBMid-AAAAAAAAAA\",\"mfa\":\"NONE\"}],"
                                 "\"restrict_user_domains\":[{\"realm_id\":\"IBMid\","
                                 "\"invitation_email_allow_patterns\":[\"*.*@ibm.com\"],\"restrict_invitation\":false},"
                                 "{\"realm_id\":\"other\",\"restrict_invitation\":true}]}",
                                 0, NULL);
    assert_non_null(changes);
    assert_int_equal(iam_settings_update(&f->service, f->arena, &f->user_a, ACCOUNT_A, "1-stale", changes, &view, &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.message_code, "BXNIM0501E");
    assert_int_equal(
        iam_settings_update(&f->service, f->arena, &f->user_a, ACCOUNT_A, DEFAULT_TAG, changes, &view, &err), IAM_OK);
    assert_int_equal(strncmp(view.entity_tag, "1-", 2), 0);
    assert_string_equal(setting(&view, "restrict_create_service_id"), "NOT_RESTRICTED");
    assert_string_equal(setting(&view, "session_expiration_in_seconds"), "900");
    assert_true(json_equal(json_object_get(view.settings, "restrict_user_domains"),
                           json_object_get(changes, "restrict_user_domains")));
    const char *first_tag = view.entity_tag;
    iam_settings_view_release(&view);
    json_decref(changes);

    /* restrict_user_domains merges by realm: an entry with only realm_id removes it */
    changes = json_loads("{\"restrict_user_domains\":[{\"realm_id\":\"other\"}]}", 0, NULL);
    assert_int_equal(iam_settings_update(&f->service, f->arena, &f->user_a, ACCOUNT_A, NULL, changes, &view, &err),
                     IAM_OK);
    json_decref(changes);
    json_t *domains = json_object_get(view.settings, "restrict_user_domains");
    assert_int_equal(json_array_size(domains), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(domains, 0), "realm_id")), "IBMid");
    iam_settings_view_release(&view);

    /* the old tag is stale; the stored settings and history read back */
    changes = json_loads("{\"mfa\":\"NONE\"}", 0, NULL);
    assert_int_equal(iam_settings_update(&f->service, f->arena, &f->user_a, ACCOUNT_A, first_tag, changes, &view, &err),
                     IAM_ECONFLICT);
    json_decref(changes);
    assert_int_equal(iam_settings_get(&f->service, f->arena, &f->user_a, ACCOUNT_A, true, &view, &err), IAM_OK);
    assert_int_equal(strncmp(view.entity_tag, "2-", 2), 0);
    assert_string_equal(setting(&view, "mfa"), "TOTP");
    assert_string_equal(setting(&view, "max_sessions_per_identity"), "10");
    assert_int_equal(view.history_count, 2);
    assert_string_equal(view.history[0].action, "UpdateAccountSettings");
    assert_string_equal(view.history[0].iam_id, USER_A);
    assert_string_equal(view.history[1].params, "[\"restrict_user_domains\"]");
    iam_settings_view_release(&view);
}

static void invalid_updates_change_nothing(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "{\"mfa\":\"SOMETIMES\"}",
        "{\"mfa\":1}",
        "{\"session_expiration_in_seconds\":\"899\"}",
        "{\"session_expiration_in_seconds\":\"86401\"}",
        "{\"session_invalidation_in_seconds\":\"0900\"}",
        "{\"system_access_token_expiration_in_seconds\":3600}",
        "{\"system_refresh_token_expiration_in_seconds\":\"12x\"}",
        "{\"max_sessions_per_identity\":\"0\"}",
        "{\"restrict_user_list_visibility\":\"NOT_SET\"}",
        "{\"allowed_ip_addresses\":\"10.0.0.1; rm\"}",
        "{\"user_mfa\":[{\"iam_id\":\"IBMid-X\"}]}",
        "{\"user_mfa\":[{\"iam_id\":\"IBMid-X\",\"mfa\":\"NONE\",\"extra\":1}]}",
        "{\"restrict_user_domains\":[{\"invitation_email_allow_patterns\":[]}]}",
        "{\"restrict_user_domains\":[{\"realm_id\":\"r\",\"restrict_invitation\":\"yes\"}]}",
        "{\"mfa\":\"TOTP\",\"colour\":\"blue\"}",
    };
    struct iam_settings_view view;
    struct iam_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *changes = json_loads(bad[i], 0, NULL);
        assert_non_null(changes);
        enum iam_result result =
            iam_settings_update(&f->service, f->arena, &f->user_a, ACCOUNT_A, NULL, changes, &view, &err);
        json_decref(changes);
        if (result != IAM_EINVAL)
            fail_msg("%s: %s", bad[i], iam_strerror(result));
        assert_string_equal(err.message_code, "BXNIM0109E");
    }
    assert_int_equal(iam_settings_get(&f->service, f->arena, &f->user_a, ACCOUNT_A, false, &view, &err), IAM_OK);
    assert_string_equal(view.entity_tag, DEFAULT_TAG);
    assert_string_equal(setting(&view, "mfa"), "NONE");
    iam_settings_view_release(&view);
}

static void isolation(void **state)
{
    struct fixture *f = *state;
    struct iam_settings_view view;
    struct iam_error err;
    json_t *changes = json_loads("{\"mfa\":\"TOTP\"}", 0, NULL);
    assert_int_equal(iam_settings_get(&f->service, f->arena, &f->user_a, ACCOUNT_B, false, &view, &err),
                     IAM_ENOTFOUND);
    assert_string_equal(err.message_code, "BXNIM0105E");
    assert_int_equal(iam_settings_update(&f->service, f->arena, &f->user_a, ACCOUNT_B, NULL, changes, &view, &err),
                     IAM_ENOTFOUND);
    struct iam_principal service_id = {.kind = IAM_PRINCIPAL_SERVICE_ID,
                                       .iam_id = "iam-ServiceId-00000000-0000-4000-8000-000000000000",
                                       .account_id = ACCOUNT_A};
    assert_int_equal(iam_settings_get(&f->service, f->arena, &service_id, ACCOUNT_A, false, &view, &err), IAM_EDENIED);
    assert_int_equal(iam_settings_update(&f->service, f->arena, &service_id, ACCOUNT_A, NULL, changes, &view, &err),
                     IAM_EDENIED);
    json_decref(changes);
    assert_int_equal(iam_settings_get(&f->service, f->arena, &f->user_b, ACCOUNT_B, false, &view, &err), IAM_OK);
    assert_string_equal(view.entity_tag, DEFAULT_TAG);
    iam_settings_view_release(&view);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(update_and_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_updates_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(isolation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
