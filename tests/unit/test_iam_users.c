/*
 * test_iam_users.c: users, accounts and passwords (iam/users.h,
 * iam/accounts.h, iam/passwords.h) over a real SQLite store and decision
 * engine in a mkdtemp directory: user creation with login normalisation,
 * duplicates across accounts, validation, disabling, deletion with its
 * cascade (keys, memberships, policies), who may administer users, password
 * changes, password authentication, the failed-attempt limits (including
 * that another address is not locked out), the same verification work for
 * unknown logins, and account creation by the instance operator.
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
#include "crypto/hash.h"
#include "crypto/random.h"
#include "iam/accounts.h"
#include "iam/apikeys.h"
#include "iam/engine.h"
#include "iam/groups.h"
#include "iam/passwords.h"
#include "iam/usage.h"
#include "iam/users.h"
#include "store/store.h"
#include "store/store_access.h"
#include "support/service_fixture.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define OWNER_A "IBMid-AAAAAAAAAA"
#define OWNER_B "IBMid-BBBBBBBBBB"
#define PASSWORD "correct horse battery staple"
#define PASSWORD_2 "another long passphrase"

struct fixture {
    char directory[TEST_SERVICE_DIRECTORY_SIZE];
    struct iam_service service;
    struct iam_arena *arena;
    struct iam_principal owner_a;
    struct iam_principal owner_b;
};

static void insert_account(struct iam_store *store, const char *account_id, const char *owner, const char *login)
{
    struct iam_account_record account = {.id = account_id, .name = "test", .owner_iam_id = owner,
                                          .state = "ACTIVE", .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
    struct iam_user_record user = {.iam_id = owner, .account_id = account_id, .login = login, .state = "ACTIVE",
                                   .entity_tag = "1-00000000000000000000000000000000", .created_at = iam_now(),
                                   .modified_at = iam_now()};
    assert_int_equal(iam_store_user_insert(store, &user), IAM_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    iam_log_set_level(IAM_LOG_ERROR);
    iam_password_limits_reset();
    if (test_service_open(&f->service, f->directory, "users", true) != IAM_OK)
        goto fail;
    struct iam_error err;
    f->arena = iam_arena_new();
    insert_account(f->service.store, ACCOUNT_A, OWNER_A, "owner-a");
    insert_account(f->service.store, ACCOUNT_B, OWNER_B, "owner-b");
    /* Account A is the bootstrap account: its owner is the instance operator. */
    assert_int_equal(iam_store_meta_insert(f->service.store, IAM_BOOTSTRAP_ACCOUNT_META, ACCOUNT_A), IAM_OK);
    if (iam_engine_new(f->service.store, &f->service.engine, &err) != IAM_OK)
        goto fail;
    f->owner_a = test_user_principal(OWNER_A, ACCOUNT_A);
    f->owner_b = test_user_principal(OWNER_B, ACCOUNT_B);
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
    iam_password_limits_reset();
    if (test_service_close(&f->service, f->directory) != 0)
        return -1;
    free(f);
    return 0;
}

static struct iam_user_view create_user(struct fixture *f, const char *login, const char *password)
{
    struct iam_user_create_request request = {.login = login, .email = "person@example.com", .given_name = "Ada",
                                              .family_name = "Lovelace", .password = password};
    struct iam_user_view view;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_user_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, &request, &view, &err);
    if (result != IAM_OK)
        fail_msg("iam_user_create(%s): %s: %s %s", login, iam_strerror(result), err.message_code, err.message);
    return view;
}

static struct iam_principal principal_of(const struct iam_user_view *view)
{
    return (struct iam_principal){.kind = IAM_PRINCIPAL_USER, .iam_id = view->record.iam_id,
                                  .account_id = view->record.account_id, .subject_id = view->record.iam_id};
}

static int64_t count_users(struct fixture *f, const char *account_id)
{
    struct iam_user_record *items = NULL;
    size_t count = 0;
    bool has_more = false;
    assert_int_equal(iam_store_user_list(f->service.store, f->arena, account_id, 0, 100, &items, &count, &has_more),
                     IAM_OK);
    assert_false(has_more);
    return (int64_t)count;
}

static enum iam_result sign_in(struct fixture *f, const char *login, const char *password, const char *address,
                               struct iam_principal *who, int64_t *retry_after, struct iam_error *err)
{
    iam_error_clear(err);
    return iam_authn_password_with_retry(&f->service, f->arena, login, password, address, who, retry_after, err);
}

static void create_and_normalise(void **state)
{
    struct fixture *f = *state;
    struct iam_user_view view = create_user(f, "Ada.Lovelace@Example.COM", PASSWORD);
    const struct iam_user_record *user = &view.record;
    assert_int_equal(strncmp(user->iam_id, "IBMid-", 6), 0);
    assert_int_equal(strlen(user->iam_id), 16);
    assert_string_equal(user->login, "ada.lovelace@example.com");
    assert_string_equal(user->account_id, ACCOUNT_A);
    assert_string_equal(user->email, "person@example.com");
    assert_string_equal(user->given_name, "Ada");
    assert_string_equal(user->family_name, "Lovelace");
    assert_string_equal(user->state, "ACTIVE");
    assert_int_equal(strncmp(user->entity_tag, "1-", 2), 0);
    assert_true(view.password_set);
    assert_null(user->password_hash);

    /* stored as an argon2id hash with the chosen cost */
    struct iam_user_record stored;
    assert_int_equal(iam_store_user_get(f->service.store, f->arena, ACCOUNT_A, user->iam_id, &stored), IAM_OK);
    assert_non_null(stored.password_hash);
    assert_int_equal(strncmp(stored.password_hash, "$argon2id$", 10), 0);
    assert_non_null(strstr(stored.password_hash, "m=19456,t=2,"));
    assert_null(strstr(stored.password_hash, PASSWORD));

    struct iam_user_view got;
    struct iam_error err;
    assert_int_equal(iam_user_get(&f->service, f->arena, &f->owner_a, ACCOUNT_A, user->iam_id, &got, &err), IAM_OK);
    assert_string_equal(got.record.login, "ada.lovelace@example.com");
    assert_null(got.record.password_hash);
    assert_true(got.password_set);

    /* without a password */
    struct iam_user_view plain = create_user(f, "nopassword", NULL);
    assert_false(plain.password_set);

    struct iam_user_page page;
    assert_int_equal(iam_user_list(&f->service, f->arena, &f->owner_a, ACCOUNT_A, 0, 2, &page, &err), IAM_OK);
    assert_int_equal(page.count, 2);
    assert_true(page.has_more);
    for (size_t i = 0; i < page.count; i++)
        assert_null(page.items[i].record.password_hash);
    assert_int_equal(iam_user_list(&f->service, f->arena, &f->owner_a, ACCOUNT_A, 2, 2, &page, &err), IAM_OK);
    assert_int_equal(page.count, 1);
    assert_false(page.has_more);
}

static void duplicates_and_validation(void **state)
{
    struct fixture *f = *state;
    create_user(f, "grace", PASSWORD);
    struct iam_user_view view;
    struct iam_error err;
    int64_t users_a = count_users(f, ACCOUNT_A), users_b = count_users(f, ACCOUNT_B);

    struct iam_user_create_request request = {.login = "GRACE", .email = "g@example.com", .given_name = "Grace",
                                              .family_name = "Hopper"};
    assert_int_equal(iam_user_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, &request, &view, &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.message_code, "BXNIM0520E");
    /* logins are unique in the whole instance */
    assert_int_equal(iam_user_create(&f->service, f->arena, &f->owner_b, ACCOUNT_B, &request, &view, &err),
                     IAM_ECONFLICT);

    static const struct {
        const char *login, *email, *given, *family, *password;
    } bad[] = {
        {"ab", "a@example.com", "A", "B", NULL},                         /* login too short */
        {"two words", "a@example.com", "A", "B", NULL},                  /* space */
        {"semi;colon", "a@example.com", "A", "B", NULL},                 /* character outside the set */
        {"x12345678901234567890123456789012345678901234567890123456789012345", "a@example.com", "A", "B", NULL},
        {NULL, "a@example.com", "A", "B", NULL},                         /* no login */
        {"valid-login", NULL, "A", "B", NULL},                           /* no email */
        {"valid-login", "not-an-email", "A", "B", NULL},                 /* bad email */
        {"valid-login", "a@b@example.com", "A", "B", NULL},              /* bad email */
        {"valid-login", "a@example.com", NULL, "B", NULL},               /* given name required */
        {"valid-login", "a@example.com", "A", NULL, NULL},               /* family name required */
        {"valid-login", "a@example.com", "A", "B", "short"},             /* password too short */
        {"valid-login", "a@example.com", "A", "B", ""},                  /* empty password */
        {"valid-login", "a@example.com", "A", "B", "bad\x01password-long"}, /* control character */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct iam_user_create_request invalid = {.login = bad[i].login, .email = bad[i].email,
                                                  .given_name = bad[i].given, .family_name = bad[i].family,
                                                  .password = bad[i].password};
        enum iam_result result = iam_user_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, &invalid, &view, &err);
        if (result != IAM_EINVAL)
            fail_msg("case %zu: %s (%s)", i, iam_strerror(result), err.message);
        assert_string_equal(err.message_code, "BXNIM0109E");
    }
    char long_password[IAM_PASSWORD_MAX + 2];
    memset(long_password, 'p', sizeof long_password - 1);
    long_password[sizeof long_password - 1] = '\0';
    struct iam_user_create_request too_long = {.login = "long-password", .email = "a@example.com", .given_name = "A",
                                               .family_name = "B", .password = long_password};
    assert_int_equal(iam_user_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, &too_long, &view, &err), IAM_EINVAL);
    long_password[IAM_PASSWORD_MAX] = '\0'; /* exactly 256 is fine */
    assert_int_equal(iam_user_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, &too_long, &view, &err), IAM_OK);
    assert_int_equal(count_users(f, ACCOUNT_A), users_a + 1);
    assert_int_equal(count_users(f, ACCOUNT_B), users_b);
}

static void disable_and_enable(void **state)
{
    struct fixture *f = *state;
    struct iam_user_view user = create_user(f, "disabled-soon", PASSWORD);
    struct iam_principal who;
    struct iam_error err;
    int64_t retry = 0;
    assert_int_equal(sign_in(f, "disabled-soon", PASSWORD, "10.0.0.1", &who, &retry, &err), IAM_OK);

    struct iam_user_view out;
    struct iam_user_update_request disable = {.state = "DISABLED"};
    assert_int_equal(iam_user_update(&f->service, f->arena, &f->owner_a, ACCOUNT_A, user.record.iam_id,
                                     "1-ffffffffffffffffffffffffffffffff", &disable, &out, &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.message_code, "BXNIM0501E");
    struct iam_user_update_request sleeping = {.state = "SLEEPING"};
    assert_int_equal(iam_user_update(&f->service, f->arena, &f->owner_a, ACCOUNT_A, user.record.iam_id, NULL,
                                     &sleeping, &out, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_user_update(&f->service, f->arena, &f->owner_a, ACCOUNT_A, user.record.iam_id,
                                     user.record.entity_tag, &disable, &out, &err),
                     IAM_OK);
    assert_string_equal(out.record.state, "DISABLED");
    assert_int_equal(strncmp(out.record.entity_tag, "2-", 2), 0);
    assert_true(out.password_set);

    /* a disabled user cannot sign in, even with the right password, and gets the usual answer */
    assert_int_equal(sign_in(f, "disabled-soon", PASSWORD, "10.0.0.1", &who, &retry, &err), IAM_EINVAL);
    assert_string_equal(err.message_code, "BXNIM0602E");
    assert_null(who.iam_id);

    struct iam_user_update_request enable = {.state = "ACTIVE"};
    assert_int_equal(iam_user_update(&f->service, f->arena, &f->owner_a, ACCOUNT_A, user.record.iam_id,
                                     out.record.entity_tag, &enable, &out, &err),
                     IAM_OK);
    assert_int_equal(sign_in(f, "disabled-soon", PASSWORD, "10.0.0.1", &who, &retry, &err), IAM_OK);

    /* the account owner cannot be disabled */
    assert_int_equal(
        iam_user_update(&f->service, f->arena, &f->owner_a, ACCOUNT_A, OWNER_A, NULL, &disable, &out, &err),
        IAM_ECONFLICT);
    assert_string_equal(err.message_code, "BXNIM0521E");
    struct iam_user_view owner;
    assert_int_equal(iam_user_get(&f->service, f->arena, &f->owner_a, ACCOUNT_A, OWNER_A, &owner, &err), IAM_OK);
    assert_string_equal(owner.record.state, "ACTIVE");
}

static void delete_cascades(void **state)
{
    struct fixture *f = *state;
    struct iam_user_view user = create_user(f, "leaving", PASSWORD);
    const char *iam_id = user.record.iam_id;
    struct iam_error err;

    /* a personal API key, a group membership and a policy */
    struct iam_apikey_create_request key_request = {.name = "personal", .iam_id = iam_id};
    struct iam_apikey_record key;
    const char *value = NULL;
    assert_int_equal(iam_apikey_create(&f->service, f->arena, &f->owner_a, &key_request, &key, &value, &err), IAM_OK);
    struct iam_group_record group;
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, "Leavers", NULL, &group, &err),
                     IAM_OK);
    struct iam_group_member_input member = {.iam_id = iam_id, .type = "user"};
    struct iam_group_member_outcome *outcomes = NULL;
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, group.id, &member, 1, &outcomes, &err),
                     IAM_OK);
    assert_int_equal(outcomes[0].status, 200);
    char policy_id[IAM_UUID_SIZE];
    assert_int_equal(iam_uuid_new(policy_id), IAM_OK);
    struct iam_policy_record policy = {
        .id = policy_id, .account_id = ACCOUNT_A, .type = "access", .api_version = "v2", .subject_kind = "iam_id",
        .subject_value = iam_id, .service_name = "iam-groups",
        .document = iam_arena_printf(
            f->arena,
            "{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"iam_id\",\"operator\":\"stringEquals\","
            "\"value\":\"%s\"}]},\"resource\":{\"attributes\":[{\"key\":\"accountId\",\"operator\":\"stringEquals\","
            "\"value\":\"%s\"},{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"iam-groups\"}]},"
            "\"control\":{\"grant\":{\"roles\":[{\"role_id\":\"crn:v1:bluemix:public:iam::::role:Viewer\"}]}}}",
            iam_id, ACCOUNT_A),
        .state = "active", .entity_tag = "1-00000000000000000000000000000000", .created_by = OWNER_A,
        .modified_by = OWNER_A, .created_at_ms = iam_now_ms(), .modified_at_ms = iam_now_ms()};
    assert_int_equal(iam_store_policy_insert(f->service.store, &policy), IAM_OK);

    /* a plain user may not remove others; the owner cannot be removed */
    struct iam_user_view other = create_user(f, "bystander", NULL);
    struct iam_principal bystander = principal_of(&other);
    assert_int_equal(iam_user_delete(&f->service, f->arena, &bystander, ACCOUNT_A, iam_id, &err), IAM_EDENIED);
    assert_int_equal(iam_user_delete(&f->service, f->arena, &f->owner_a, ACCOUNT_A, OWNER_A, &err), IAM_ECONFLICT);
    assert_string_equal(err.message_code, "BXNIM0521E");

    assert_int_equal(iam_user_delete(&f->service, f->arena, &f->owner_a, ACCOUNT_A, iam_id, &err), IAM_OK);
    struct iam_user_view gone;
    assert_int_equal(iam_user_get(&f->service, f->arena, &f->owner_a, ACCOUNT_A, iam_id, &gone, &err), IAM_ENOTFOUND);
    assert_string_equal(err.message_code, "BXNIM0102E");
    assert_int_equal(iam_user_delete(&f->service, f->arena, &f->owner_a, ACCOUNT_A, iam_id, &err), IAM_ENOTFOUND);
    struct iam_apikey_record key_after;
    assert_int_equal(iam_store_apikey_get(f->service.store, f->arena, ACCOUNT_A, key.id, &key_after), IAM_ENOTFOUND);
    int64_t groups = -1, policies = -1;
    assert_int_equal(iam_store_member_group_count(f->service.store, ACCOUNT_A, iam_id, &groups), IAM_OK);
    assert_int_equal(groups, 0);
    assert_int_equal(iam_store_policy_count_for_subject(f->service.store, ACCOUNT_A, "iam_id", iam_id, &policies),
                     IAM_OK);
    assert_int_equal(policies, 0);
    struct iam_principal who;
    int64_t retry = 0;
    assert_int_equal(sign_in(f, "leaving", PASSWORD, "10.0.0.2", &who, &retry, &err), IAM_EINVAL);
    /* the login is free again */
    create_user(f, "leaving", NULL);
}

static void who_may_administer(void **state)
{
    struct fixture *f = *state;
    struct iam_user_view one = create_user(f, "user-one", PASSWORD);
    struct iam_user_view two = create_user(f, "user-two", PASSWORD);
    struct iam_principal me = principal_of(&one);
    struct iam_user_view out;
    struct iam_error err;
    struct iam_user_create_request request = {.login = "invited", .email = "i@example.com", .given_name = "I",
                                              .family_name = "N"};

    assert_int_equal(iam_user_create(&f->service, f->arena, &me, ACCOUNT_A, &request, &out, &err), IAM_EDENIED);
    assert_string_equal(err.code, "insufficent_permissions");
    assert_int_equal(iam_user_get(&f->service, f->arena, &me, ACCOUNT_A, two.record.iam_id, &out, &err), IAM_EDENIED);
    struct iam_user_page page;
    assert_int_equal(iam_user_list(&f->service, f->arena, &me, ACCOUNT_A, 0, 10, &page, &err), IAM_EDENIED);
    /* oneself: read, names and email yes; state no */
    assert_int_equal(iam_user_get(&f->service, f->arena, &me, ACCOUNT_A, one.record.iam_id, &out, &err), IAM_OK);
    struct iam_user_update_request names = {.given_name = "Augusta", .email = "augusta@example.com"};
    assert_int_equal(iam_user_update(&f->service, f->arena, &me, ACCOUNT_A, one.record.iam_id, NULL, &names, &out,
                                     &err),
                     IAM_OK);
    assert_string_equal(out.record.given_name, "Augusta");
    assert_string_equal(out.record.email, "augusta@example.com");
    struct iam_user_update_request disable = {.state = "DISABLED"};
    assert_int_equal(iam_user_update(&f->service, f->arena, &me, ACCOUNT_A, two.record.iam_id, NULL, &disable, &out,
                                     &err),
                     IAM_EDENIED);
    assert_int_equal(iam_user_update(&f->service, f->arena, &me, ACCOUNT_A, one.record.iam_id, NULL, &disable, &out,
                                     &err),
                     IAM_EDENIED);
    assert_int_equal(iam_user_set_password(&f->service, f->arena, &me, ACCOUNT_A, two.record.iam_id, PASSWORD_2, NULL,
                                           "10.0.0.3", NULL, &out, &err),
                     IAM_EDENIED);

    /* with Editor on user-management: invite and update, but not remove (Administrator only) */
    char policy_id[IAM_UUID_SIZE];
    assert_int_equal(iam_uuid_new(policy_id), IAM_OK);
    struct iam_policy_record policy = {
        .id = policy_id, .account_id = ACCOUNT_A, .type = "access", .api_version = "v2", .subject_kind = "iam_id",
        .subject_value = one.record.iam_id, .service_name = "user-management",
        .document = iam_arena_printf(
            f->arena,
            "{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"iam_id\",\"operator\":\"stringEquals\","
            "\"value\":\"%s\"}]},\"resource\":{\"attributes\":[{\"key\":\"accountId\",\"operator\":\"stringEquals\","
            "\"value\":\"%s\"},{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"user-management\"}"
            "]},\"control\":{\"grant\":{\"roles\":[{\"role_id\":\"crn:v1:bluemix:public:iam::::role:Editor\"}]}}}",
            one.record.iam_id, ACCOUNT_A),
        .state = "active", .entity_tag = "1-00000000000000000000000000000000", .created_by = OWNER_A,
        .modified_by = OWNER_A, .created_at_ms = iam_now_ms(), .modified_at_ms = iam_now_ms()};
    assert_int_equal(iam_store_policy_insert(f->service.store, &policy), IAM_OK);
    assert_int_equal(iam_engine_refresh(f->service.engine, false), IAM_OK);
    assert_int_equal(iam_user_create(&f->service, f->arena, &me, ACCOUNT_A, &request, &out, &err), IAM_OK);
    assert_int_equal(iam_user_update(&f->service, f->arena, &me, ACCOUNT_A, two.record.iam_id, NULL, &disable, &out,
                                     &err),
                     IAM_OK);
    assert_int_equal(iam_user_list(&f->service, f->arena, &me, ACCOUNT_A, 0, 10, &page, &err), IAM_OK);
    assert_int_equal(iam_user_delete(&f->service, f->arena, &me, ACCOUNT_A, two.record.iam_id, &err), IAM_EDENIED);

    /* another account: not found, whatever the path says */
    assert_int_equal(iam_user_get(&f->service, f->arena, &f->owner_b, ACCOUNT_A, one.record.iam_id, &out, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_user_get(&f->service, f->arena, &f->owner_b, ACCOUNT_B, one.record.iam_id, &out, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_user_create(&f->service, f->arena, &f->owner_b, ACCOUNT_A, &request, &out, &err),
                     IAM_ENOTFOUND);
    assert_string_equal(err.message_code, "BXNIM0105E");
    assert_int_equal(iam_user_delete(&f->service, f->arena, &f->owner_b, ACCOUNT_A, one.record.iam_id, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_user_list(&f->service, f->arena, &f->owner_b, ACCOUNT_A, 0, 10, &page, &err), IAM_ENOTFOUND);
}

static void passwords_set_and_verify(void **state)
{
    struct fixture *f = *state;
    struct iam_user_view user = create_user(f, "Changer", PASSWORD);
    struct iam_principal self = principal_of(&user);
    struct iam_principal who;
    struct iam_user_view out;
    struct iam_error err;
    int64_t retry = 0;

    /* sign-in fills the principal as token authentication does; the login is case-insensitive */
    assert_int_equal(sign_in(f, "CHANGER", PASSWORD, "10.0.1.1", &who, &retry, &err), IAM_OK);
    assert_int_equal(who.kind, IAM_PRINCIPAL_USER);
    assert_string_equal(who.iam_id, user.record.iam_id);
    assert_string_equal(who.account_id, ACCOUNT_A);
    assert_string_equal(who.subject_id, user.record.iam_id);
    assert_string_equal(who.login, "changer");
    assert_string_equal(who.email, "person@example.com");
    assert_string_equal(who.given_name, "Ada");
    assert_string_equal(who.family_name, "Lovelace");
    assert_string_equal(who.name, "Ada Lovelace");
    assert_null(who.apikey_id);
    assert_int_equal(iam_authn_password(&f->service, f->arena, "changer", PASSWORD, "10.0.1.1", &who, &err), IAM_OK);

    /* the user: current password required and checked */
    assert_int_equal(iam_user_set_password(&f->service, f->arena, &self, ACCOUNT_A, user.record.iam_id, PASSWORD_2,
                                           NULL, "10.0.1.1", &retry, &out, &err),
                     IAM_EINVAL);
    assert_string_equal(err.message_code, "BXNIM0522E");
    assert_int_equal(iam_user_set_password(&f->service, f->arena, &self, ACCOUNT_A, user.record.iam_id, PASSWORD_2,
                                           "not the password", "10.0.1.1", &retry, &out, &err),
                     IAM_EINVAL);
    assert_string_equal(err.message_code, "BXNIM0522E");
    assert_int_equal(sign_in(f, "changer", PASSWORD, "10.0.1.1", &who, &retry, &err), IAM_OK);
    assert_int_equal(iam_user_set_password(&f->service, f->arena, &self, ACCOUNT_A, user.record.iam_id, "too short",
                                           PASSWORD, "10.0.1.1", &retry, &out, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_user_set_password(&f->service, f->arena, &self, ACCOUNT_A, user.record.iam_id, PASSWORD_2,
                                           PASSWORD, "10.0.1.1", &retry, &out, &err),
                     IAM_OK);
    assert_true(out.password_set);
    assert_null(out.record.password_hash);
    assert_int_equal(sign_in(f, "changer", PASSWORD, "10.0.1.2", &who, &retry, &err), IAM_EINVAL);
    assert_int_equal(sign_in(f, "changer", PASSWORD_2, "10.0.1.1", &who, &retry, &err), IAM_OK);

    /* an administrator sets it without the current one */
    assert_int_equal(iam_user_set_password(&f->service, f->arena, &f->owner_a, ACCOUNT_A, user.record.iam_id, PASSWORD,
                                           NULL, "10.0.1.9", &retry, &out, &err),
                     IAM_OK);
    assert_int_equal(sign_in(f, "changer", PASSWORD, "10.0.1.1", &who, &retry, &err), IAM_OK);
    /* a user without a password sets the first one without a current one */
    struct iam_user_view fresh = create_user(f, "fresh", NULL);
    struct iam_principal fresh_self = principal_of(&fresh);
    assert_int_equal(sign_in(f, "fresh", PASSWORD, "10.0.1.3", &who, &retry, &err), IAM_EINVAL);
    assert_int_equal(iam_user_set_password(&f->service, f->arena, &fresh_self, ACCOUNT_A, fresh.record.iam_id,
                                           PASSWORD, NULL, "10.0.1.3", &retry, &out, &err),
                     IAM_OK);
    assert_int_equal(sign_in(f, "fresh", PASSWORD, "10.0.1.3", &who, &retry, &err), IAM_OK);

    /* direct hashing and verification */
    const char *hash = NULL;
    assert_int_equal(iam_password_hash(f->arena, PASSWORD, &hash, &err), IAM_OK);
    assert_true(iam_password_verify(hash, PASSWORD));
    assert_false(iam_password_verify(hash, PASSWORD_2));
    assert_false(iam_password_verify(NULL, PASSWORD));
    assert_false(iam_password_verify("$2y$10$notargon", PASSWORD));
    assert_false(iam_password_verify(hash, NULL));
}

static void rate_limits(void **state)
{
    struct fixture *f = *state;
    create_user(f, "target", PASSWORD);
    struct iam_principal who;
    struct iam_error err;
    int64_t retry = 0;
    const char *attacker = "192.0.2.66";

    /* five failures from one address, then that address is refused, right password included */
    for (int i = 0; i < IAM_PASSWORD_USER_FAILURES_MAX; i++) {
        assert_int_equal(sign_in(f, "target", "wrong password!!", attacker, &who, &retry, &err), IAM_EINVAL);
        assert_int_equal(retry, 0);
    }
    assert_int_equal(sign_in(f, "target", PASSWORD, attacker, &who, &retry, &err), IAM_ETOOMANY);
    assert_string_equal(err.message_code, "BXNIM0431E");
    assert_true(retry > 0 && retry <= IAM_PASSWORD_WINDOW_S);
    char expected[64];
    snprintf(expected, sizeof expected, "%lld seconds", (long long)retry);
    assert_non_null(strstr(err.message, expected));
    assert_null(who.iam_id);

    /* the owner from another address is not locked out, and success clears that address */
    assert_int_equal(sign_in(f, "target", PASSWORD, "198.51.100.7", &who, &retry, &err), IAM_OK);
    /* an address that failed once for this user is refused now that the user is over the limit */
    assert_int_equal(sign_in(f, "target", "wrong password!!", "198.51.100.8", &who, &retry, &err), IAM_EINVAL);
    assert_int_equal(sign_in(f, "target", PASSWORD, "198.51.100.8", &who, &retry, &err), IAM_ETOOMANY);
    /* the clean address still gets in */
    assert_int_equal(sign_in(f, "target", PASSWORD, "198.51.100.7", &who, &retry, &err), IAM_OK);

    /* 20 failures from one address, whatever the logins, known or not, refuse that address for everyone */
    const char *sprayer = "203.0.113.5";
    for (int i = 0; i < IAM_PASSWORD_ADDRESS_FAILURES_MAX; i++) {
        char login[32];
        snprintf(login, sizeof login, "ghost-%02d", i);
        assert_int_equal(sign_in(f, login, "wrong password!!", sprayer, &who, &retry, &err), IAM_EINVAL);
    }
    create_user(f, "innocent", PASSWORD);
    assert_int_equal(sign_in(f, "innocent", PASSWORD, sprayer, &who, &retry, &err), IAM_ETOOMANY);
    assert_int_equal(sign_in(f, "innocent", PASSWORD, "203.0.113.6", &who, &retry, &err), IAM_OK);

    /* an unknown login is limited like a known one (the refusal reveals nothing) */
    for (int i = 0; i < IAM_PASSWORD_USER_FAILURES_MAX; i++)
        assert_int_equal(sign_in(f, "nobody-here", "wrong password!!", "192.0.2.99", &who, &retry, &err), IAM_EINVAL);
    assert_int_equal(sign_in(f, "nobody-here", "wrong password!!", "192.0.2.99", &who, &retry, &err), IAM_ETOOMANY);

    /* the window: counters end 5 minutes after their first failure (explicit clock) */
    int64_t now = 1900000000;
    int64_t wait = 0;
    for (int i = 0; i < IAM_PASSWORD_USER_FAILURES_MAX; i++) {
        assert_int_equal(iam_password_limit_begin("clocked", "192.0.2.1", now + i, &wait), IAM_OK);
        iam_password_limit_end("clocked", "192.0.2.1", IAM_PASSWORD_ATTEMPT_FAILED, now + i);
    }
    assert_int_equal(iam_password_limit_begin("clocked", "192.0.2.1", now + 10, &wait), IAM_ETOOMANY);
    assert_int_equal(wait, IAM_PASSWORD_WINDOW_S - 10);
    assert_int_equal(iam_password_limit_begin("clocked", "192.0.2.1", now + IAM_PASSWORD_WINDOW_S, &wait), IAM_OK);
    iam_password_limit_end("clocked", "192.0.2.1", IAM_PASSWORD_ATTEMPT_SUCCEEDED, now + IAM_PASSWORD_WINDOW_S);
    /* a void attempt (the check could not run) is not a failure */
    for (int i = 0; i < 2 * IAM_PASSWORD_USER_FAILURES_MAX; i++) {
        assert_int_equal(iam_password_limit_begin("voided", "192.0.2.2", now, &wait), IAM_OK);
        iam_password_limit_end("voided", "192.0.2.2", IAM_PASSWORD_ATTEMPT_VOID, now);
    }
    /* attempts in flight count: the sixth concurrent guess is refused before any finishes */
    for (int i = 0; i < IAM_PASSWORD_USER_FAILURES_MAX; i++)
        assert_int_equal(iam_password_limit_begin("parallel", "192.0.2.3", now, &wait), IAM_OK);
    assert_int_equal(iam_password_limit_begin("parallel", "192.0.2.3", now, &wait), IAM_ETOOMANY);

    /* a wrong current password counts too */
    struct iam_user_view changer = create_user(f, "guessed", PASSWORD);
    struct iam_principal self = principal_of(&changer);
    struct iam_user_view out;
    for (int i = 0; i < IAM_PASSWORD_USER_FAILURES_MAX; i++)
        assert_int_equal(iam_user_set_password(&f->service, f->arena, &self, ACCOUNT_A, changer.record.iam_id,
                                               PASSWORD_2, "wrong password!!", "192.0.2.4", &retry, &out, &err),
                         IAM_EINVAL);
    assert_int_equal(iam_user_set_password(&f->service, f->arena, &self, ACCOUNT_A, changer.record.iam_id, PASSWORD_2,
                                           PASSWORD, "192.0.2.4", &retry, &out, &err),
                     IAM_ETOOMANY);
    assert_true(retry > 0);
}

static void unknown_login_costs_a_verification(void **state)
{
    struct fixture *f = *state;
    create_user(f, "known", PASSWORD);
    struct iam_principal who;
    struct iam_error err;
    int64_t retry = 0;

    uint64_t before = iam_password_verify_count();
    assert_int_equal(sign_in(f, "unknown-login", PASSWORD, "10.1.0.1", &who, &retry, &err), IAM_EINVAL);
    assert_int_equal(iam_password_verify_count(), before + 1);
    struct iam_error wrong;
    assert_int_equal(sign_in(f, "known", "wrong password!!", "10.1.0.1", &who, &retry, &wrong), IAM_EINVAL);
    assert_int_equal(iam_password_verify_count(), before + 2);
    /* the same answer for both */
    assert_string_equal(err.message_code, wrong.message_code);
    assert_string_equal(err.message, wrong.message);
    /* malformed logins and users without a password take the same path */
    assert_int_equal(sign_in(f, "x", PASSWORD, "10.1.0.2", &who, &retry, &err), IAM_EINVAL);
    assert_int_equal(iam_password_verify_count(), before + 3);
    create_user(f, "passwordless", NULL);
    assert_int_equal(sign_in(f, "passwordless", "", "10.1.0.2", &who, &retry, &err), IAM_EINVAL);
    assert_string_equal(err.message_code, "BXNIM0109E"); /* an empty password is a missing field */
    assert_int_equal(sign_in(f, "passwordless", PASSWORD, "10.1.0.2", &who, &retry, &err), IAM_EINVAL);
    assert_string_equal(err.message_code, "BXNIM0602E");
    assert_int_equal(iam_password_verify_count(), before + 4);
    /* a refused attempt does no argon2 work ("known" failed once already, from 10.1.0.1) */
    for (int i = 0; i < IAM_PASSWORD_USER_FAILURES_MAX - 1; i++)
        assert_int_equal(sign_in(f, "known", "wrong password!!", "10.1.0.3", &who, &retry, &err), IAM_EINVAL);
    uint64_t at_limit = iam_password_verify_count();
    assert_int_equal(sign_in(f, "known", PASSWORD, "10.1.0.3", &who, &retry, &err), IAM_ETOOMANY);
    assert_int_equal(iam_password_verify_count(), at_limit);
}

static void accounts_by_the_operator(void **state)
{
    struct fixture *f = *state;
    struct iam_account_record account;
    struct iam_user_view owner;
    struct iam_error err;
    bool is_operator = false;
    assert_int_equal(iam_account_is_operator(&f->service, f->arena, &f->owner_a, &is_operator, &err), IAM_OK);
    assert_true(is_operator);
    assert_int_equal(iam_account_is_operator(&f->service, f->arena, &f->owner_b, &is_operator, &err), IAM_OK);
    assert_false(is_operator);

    int64_t accounts_before = 0;
    assert_int_equal(iam_store_account_count(f->service.store, &accounts_before), IAM_OK);
    struct iam_account_create_request request = {
        .name = "Third account",
        .owner = {.login = "Third-Owner", .email = "third@example.com", .password = PASSWORD}};
    /* only the operator */
    assert_int_equal(iam_account_create(&f->service, f->arena, &f->owner_b, &request, &account, &owner, &err),
                     IAM_EDENIED);
    assert_string_equal(err.message_code, "BXNIM0523E");
    assert_string_equal(err.code, "insufficent_permissions");
    struct iam_user_view plain_user = create_user(f, "plain", NULL);
    struct iam_principal plain = principal_of(&plain_user);
    assert_int_equal(iam_account_create(&f->service, f->arena, &plain, &request, &account, &owner, &err), IAM_EDENIED);

    assert_int_equal(iam_account_create(&f->service, f->arena, &f->owner_a, &request, &account, &owner, &err), IAM_OK);
    assert_true(iam_is_account_id(account.id));
    assert_string_equal(account.name, "Third account");
    assert_string_equal(account.state, "ACTIVE");
    assert_string_equal(account.owner_iam_id, owner.record.iam_id);
    assert_string_equal(owner.record.account_id, account.id);
    assert_string_equal(owner.record.login, "third-owner");
    assert_null(owner.record.given_name);
    assert_null(owner.record.password_hash);
    assert_true(owner.password_set);

    /* the new owner signs in and owns their account */
    struct iam_principal who;
    int64_t retry = 0;
    assert_int_equal(sign_in(f, "third-owner", PASSWORD, "10.2.0.1", &who, &retry, &err), IAM_OK);
    assert_string_equal(who.account_id, account.id);
    struct iam_user_create_request invite = {.login = "third-member", .email = "m@example.com", .given_name = "M",
                                             .family_name = "N"};
    struct iam_user_view member;
    assert_int_equal(iam_user_create(&f->service, f->arena, &who, account.id, &invite, &member, &err), IAM_OK);
    assert_int_equal(iam_account_create(&f->service, f->arena, &who, &request, &account, &owner, &err), IAM_EDENIED);

    /* reading and listing: the operator everything, others their own */
    struct iam_account_record got;
    assert_int_equal(iam_account_get(&f->service, f->arena, &f->owner_a, ACCOUNT_B, &got, &err), IAM_OK);
    assert_int_equal(iam_account_get(&f->service, f->arena, &f->owner_b, ACCOUNT_B, &got, &err), IAM_OK);
    assert_string_equal(got.owner_iam_id, OWNER_B);
    assert_int_equal(iam_account_get(&f->service, f->arena, &f->owner_b, ACCOUNT_A, &got, &err), IAM_ENOTFOUND);
    assert_string_equal(err.message_code, "BXNIM0105E");
    assert_int_equal(iam_account_get(&f->service, f->arena, &f->owner_a, "ffffffffffffffffffffffffffffffff", &got, &err),
                     IAM_ENOTFOUND);
    struct iam_account_page page;
    assert_int_equal(iam_account_list(&f->service, f->arena, &f->owner_a, 0, 100, &page, &err), IAM_OK);
    assert_int_equal((int64_t)page.count, accounts_before + 1);
    assert_int_equal(iam_account_list(&f->service, f->arena, &f->owner_b, 0, 100, &page, &err), IAM_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.items[0].id, ACCOUNT_B);

    /* bad input and a taken login change nothing */
    int64_t accounts_now = 0;
    assert_int_equal(iam_store_account_count(f->service.store, &accounts_now), IAM_OK);
    struct iam_account_create_request taken = {.name = "Dup", .owner = {.login = "THIRD-OWNER", .email = "x@example.com"}};
    assert_int_equal(iam_account_create(&f->service, f->arena, &f->owner_a, &taken, &account, &owner, &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.message_code, "BXNIM0520E");
    struct iam_account_create_request nameless = {.owner = {.login = "someone-new", .email = "x@example.com"}};
    assert_int_equal(iam_account_create(&f->service, f->arena, &f->owner_a, &nameless, &account, &owner, &err),
                     IAM_EINVAL);
    struct iam_account_create_request ownerless = {.name = "No owner"};
    assert_int_equal(iam_account_create(&f->service, f->arena, &f->owner_a, &ownerless, &account, &owner, &err),
                     IAM_EINVAL);
    int64_t accounts_after = 0;
    assert_int_equal(iam_store_account_count(f->service.store, &accounts_after), IAM_OK);
    assert_int_equal(accounts_after, accounts_now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_and_normalise, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicates_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(disable_and_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(who_may_administer, setup, teardown),
        cmocka_unit_test_setup_teardown(passwords_set_and_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(rate_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_login_costs_a_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(accounts_by_the_operator, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
