/*
 * test_iam_groups.c: the access-group domain functions (iam/groups.h) over a
 * real SQLite store and decision engine in a mkdtemp directory: create, get,
 * list (paging, search, the public access group, per-group visibility),
 * update with entity tags, delete with force and its cascade to members and
 * policies, member additions with their per-member outcomes, removals one by
 * one, in bulk and from all groups, the limits, and account isolation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "iam/engine.h"
#include "iam/groups.h"
#include "iam/usage.h"
#include "store/store.h"
#include "store/store_access.h"
#include "support/service_fixture.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define OWNER_A "IBMid-AAAAAAAAAA"
#define OWNER_B "IBMid-BBBBBBBBBB"
#define USER_A2 "IBMid-AAAAAAAAA2"
#define USER_A3 "IBMid-AAAAAAAAA3"

struct fixture {
    char directory[TEST_SERVICE_DIRECTORY_SIZE];
    struct iam_service service;
    struct iam_arena *arena;
    struct iam_principal owner_a;
    struct iam_principal owner_b;
    struct iam_principal user_a2; /* a user of A without any policy */
    char sid_a[IAM_ID_SIZE];      /* a service ID of A (iam_id) */
    char sid_b[IAM_ID_SIZE];      /* a service ID of B (iam_id) */
};

static void insert_user(struct iam_store *store, const char *account_id, const char *iam_id, const char *login)
{
    struct iam_user_record user = {.iam_id = iam_id, .account_id = account_id, .login = login,
                                   .email = "someone@example.com", .given_name = "Given", .family_name = "Family",
                                   .state = "ACTIVE", .entity_tag = "1-00000000000000000000000000000000",
                                   .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_user_insert(store, &user), IAM_OK);
}

static void insert_account(struct iam_store *store, const char *account_id, const char *owner, const char *login)
{
    struct iam_account_record account = {.id = account_id, .name = "test", .owner_iam_id = owner,
                                          .state = "ACTIVE", .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
    insert_user(store, account_id, owner, login);
}

/* Inserts a service ID straight into the store; `iam_id` receives its iam_id. */
static void insert_service_id(struct iam_store *store, const char *account_id, const char *name,
                              char iam_id[IAM_ID_SIZE])
{
    char id[IAM_ID_SIZE];
    assert_int_equal(iam_prefixed_id_new("ServiceId-", id), IAM_OK);
    memcpy(iam_id, "iam-", 4);
    memcpy(iam_id + 4, id, strlen(id) + 1); /* "ServiceId-" + uuid: 47 bytes, fits */
    struct iam_service_id_record record = {.id = id, .iam_id = iam_id, .account_id = account_id, .name = name,
                                           .description = "a worker", .unique_instance_crns = "[]",
                                           .created_by = OWNER_A, .entity_tag = "1-00000000000000000000000000000000",
                                           .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_service_id_insert(store, &record, NULL, NULL, 0), IAM_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    iam_log_set_level(IAM_LOG_ERROR);
    if (test_service_open(&f->service, f->directory, "groups", true) != IAM_OK)
        goto fail;
    struct iam_error err;
    f->arena = iam_arena_new();
    insert_account(f->service.store, ACCOUNT_A, OWNER_A, "owner-a");
    insert_account(f->service.store, ACCOUNT_B, OWNER_B, "owner-b");
    insert_user(f->service.store, ACCOUNT_A, USER_A2, "user-a2");
    insert_user(f->service.store, ACCOUNT_A, USER_A3, "user-a3");
    insert_service_id(f->service.store, ACCOUNT_A, "worker-a", f->sid_a);
    insert_service_id(f->service.store, ACCOUNT_B, "worker-b", f->sid_b);
    if (iam_engine_new(f->service.store, &f->service.engine, &err) != IAM_OK)
        goto fail;
    f->owner_a = test_user_principal(OWNER_A, ACCOUNT_A);
    f->owner_b = test_user_principal(OWNER_B, ACCOUNT_B);
    f->user_a2 = test_user_principal(USER_A2, ACCOUNT_A);
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

static struct iam_group_record create_group(struct fixture *f, const char *name, const char *description)
{
    struct iam_group_record group;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result =
        iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, name, description, &group, &err);
    if (result != IAM_OK)
        fail_msg("iam_group_create(%s): %s: %s %s", name, iam_strerror(result), err.code, err.message);
    return group;
}

static int64_t count_groups(struct fixture *f)
{
    int64_t count = -1;
    assert_int_equal(iam_store_group_count(f->service.store, ACCOUNT_A, &count), IAM_OK);
    return count;
}

static struct iam_group_page list(struct fixture *f, const struct iam_principal *who,
                                  struct iam_group_list_request request)
{
    struct iam_group_page page;
    struct iam_error err;
    iam_error_clear(&err);
    if (!request.account_id)
        request.account_id = ACCOUNT_A;
    if (!request.limit)
        request.limit = 100;
    enum iam_result result = iam_group_list(&f->service, f->arena, who, &request, &page, &err);
    if (result != IAM_OK)
        fail_msg("iam_group_list: %s: %s", iam_strerror(result), err.message);
    return page;
}

static bool page_has(const struct iam_group_page *page, const char *id)
{
    for (size_t i = 0; i < page->count; i++)
        if (strcmp(page->items[i].id, id) == 0)
            return true;
    return false;
}

static void create_get_update_delete(void **state)
{
    struct fixture *f = *state;
    int64_t before_ms = iam_now_ms();
    struct iam_group_record group = create_group(f, "Developers", "people who build");
    assert_true(iam_is_prefixed_id(group.id, IAM_GROUP_ID_PREFIX));
    assert_string_equal(group.account_id, ACCOUNT_A);
    assert_string_equal(group.name, "Developers");
    assert_string_equal(group.description, "people who build");
    assert_string_equal(group.created_by, OWNER_A);
    assert_string_equal(group.modified_by, OWNER_A);
    assert_true(group.created_at_ms >= before_ms);
    assert_int_equal(strncmp(group.entity_tag, "1-", 2), 0);

    struct iam_group_record got;
    struct iam_error err;
    assert_int_equal(iam_group_get(&f->service, f->arena, &f->owner_a, group.id, &got, &err), IAM_OK);
    assert_string_equal(got.name, "Developers");
    assert_string_equal(got.entity_tag, group.entity_tag);

    /* a stale tag changes nothing */
    struct iam_group_record updated;
    assert_int_equal(iam_group_update(&f->service, f->arena, &f->owner_a, group.id, "1-ffffffffffffffffffffffffffffffff",
                                      "Renamed", NULL, &updated, &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.code, "conflict");
    assert_int_equal(iam_group_update(&f->service, f->arena, &f->owner_a, group.id, group.entity_tag, "Builders",
                                      "", &updated, &err),
                     IAM_OK);
    assert_string_equal(updated.name, "Builders");
    assert_null(updated.description);
    assert_int_equal(strncmp(updated.entity_tag, "2-", 2), 0);
    assert_int_equal(iam_group_get(&f->service, f->arena, &f->owner_a, group.id, &got, &err), IAM_OK);
    assert_string_equal(got.name, "Builders");
    assert_null(got.description);
    assert_string_equal(got.entity_tag, updated.entity_tag);
    /* the old tag is stale now */
    assert_int_equal(iam_group_update(&f->service, f->arena, &f->owner_a, group.id, group.entity_tag, "Again", NULL,
                                      &updated, &err),
                     IAM_ECONFLICT);
    /* nothing to change */
    assert_int_equal(iam_group_update(&f->service, f->arena, &f->owner_a, group.id, NULL, NULL, NULL, &updated, &err),
                     IAM_EINVAL);

    assert_int_equal(iam_group_delete(&f->service, f->arena, &f->owner_a, group.id, false, &err), IAM_OK);
    assert_int_equal(iam_group_get(&f->service, f->arena, &f->owner_a, group.id, &got, &err), IAM_ENOTFOUND);
    assert_string_equal(err.code, "not_found");
    assert_int_equal(iam_group_delete(&f->service, f->arena, &f->owner_a, group.id, false, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_group_get(&f->service, f->arena, &f->owner_a, "AccessGroupId-nonsense", &got, &err),
                     IAM_ENOTFOUND);
}

static void names_and_validation(void **state)
{
    struct fixture *f = *state;
    struct iam_group_record group = create_group(f, "Operators", NULL);
    struct iam_group_record other = create_group(f, "Auditors", NULL);
    struct iam_group_record out;
    struct iam_error err;
    int64_t before = count_groups(f);

    /* duplicates, whatever the case; the public group's name is taken */
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, "OPERATORS", NULL, &out, &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.code, "conflict");
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, "public access", NULL, &out, &err),
                     IAM_ECONFLICT);
    /* renaming onto another group's name, any case */
    assert_int_equal(iam_group_update(&f->service, f->arena, &f->owner_a, other.id, NULL, "operators", NULL, &out, &err),
                     IAM_ECONFLICT);
    /* renaming a group to another case of its own name is fine */
    assert_int_equal(iam_group_update(&f->service, f->arena, &f->owner_a, group.id, NULL, "OPERATORS", NULL, &out, &err),
                     IAM_OK);
    assert_string_equal(out.name, "OPERATORS");
    /* the same name in another account is fine */
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_b, ACCOUNT_B, "Operators", NULL, &out, &err),
                     IAM_OK);

    char name[128], description[300];
    memset(name, 'n', 101);
    name[101] = '\0';
    memset(description, 'd', 251);
    description[251] = '\0';
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, name, NULL, &out, &err),
                     IAM_EINVAL);
    assert_string_equal(err.code, "invalid_request");
    name[100] = '\0';
    description[250] = '\0';
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, name, description, &out, &err),
                     IAM_OK);
    description[250] = 'd';
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, "Other", description, &out, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, "", NULL, &out, &err), IAM_EINVAL);
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, NULL, NULL, &out, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, " padded", NULL, &out, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, "bad\x01name", NULL, &out, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, NULL, "No account", NULL, &out, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, "not-an-account", "Bad", NULL, &out, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_update(&f->service, f->arena, &f->owner_a, group.id, NULL, name, description, &out, &err),
                     IAM_EINVAL);
    assert_int_equal(count_groups(f), before + 1); /* only the 100-character one */
    assert_int_equal(iam_group_get(&f->service, f->arena, &f->owner_a, group.id, &out, &err), IAM_OK);
    assert_string_equal(out.name, "OPERATORS");
}

static void list_paging_search_and_public_group(void **state)
{
    struct fixture *f = *state;
    const char *names[] = {"alpha", "bravo", "charlie", "delta", "echo"};
    struct iam_group_record groups[5];
    for (size_t i = 0; i < 5; i++)
        groups[i] = create_group(f, names[i], i == 2 ? "the third one" : NULL);

    /* the public group comes first, then the groups by name */
    struct iam_group_page page = list(f, &f->owner_a, (struct iam_group_list_request){0});
    assert_int_equal(page.total, 6);
    assert_int_equal(page.count, 6);
    assert_string_equal(page.items[0].id, IAM_PUBLIC_ACCESS_GROUP);
    assert_string_equal(page.items[0].name, IAM_GROUP_PUBLIC_NAME);
    assert_string_equal(page.items[0].account_id, ACCOUNT_A);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(page.items[i + 1].name, names[i]);

    /* paging: every group once, the total each time */
    char seen[6][IAM_ID_SIZE];
    size_t seen_count = 0;
    for (int64_t offset = 0; offset < 6; offset += 2) {
        page = list(f, &f->owner_a, (struct iam_group_list_request){.offset = offset, .limit = 2});
        assert_int_equal(page.total, 6);
        assert_int_equal(page.count, 2);
        for (size_t i = 0; i < page.count; i++)
            snprintf(seen[seen_count++], IAM_ID_SIZE, "%s", page.items[i].id);
    }
    assert_string_equal(seen[0], IAM_PUBLIC_ACCESS_GROUP);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(seen[i + 1], groups[i].id);
    page = list(f, &f->owner_a, (struct iam_group_list_request){.offset = 0, .limit = 1});
    assert_int_equal(page.count, 1);
    assert_int_equal(page.total, 6);
    assert_string_equal(page.items[0].id, IAM_PUBLIC_ACCESS_GROUP);
    page = list(f, &f->owner_a, (struct iam_group_list_request){.offset = 6, .limit = 10});
    assert_int_equal(page.count, 0);
    assert_int_equal(page.total, 6);

    /* hidden public group; descending sort */
    page = list(f, &f->owner_a, (struct iam_group_list_request){.hide_public_access = true, .sort = "-name"});
    assert_int_equal(page.total, 5);
    assert_string_equal(page.items[0].name, "echo");
    assert_string_equal(page.items[4].name, "alpha");

    /* search: name or description, any case; the prefixed forms */
    page = list(f, &f->owner_a, (struct iam_group_list_request){.search = "ALP"});
    assert_int_equal(page.total, 1);
    assert_string_equal(page.items[0].id, groups[0].id);
    page = list(f, &f->owner_a, (struct iam_group_list_request){.search = "third"});
    assert_int_equal(page.total, 1);
    assert_string_equal(page.items[0].id, groups[2].id);
    page = list(f, &f->owner_a, (struct iam_group_list_request){.search = "name:delta"});
    assert_int_equal(page.total, 1);
    assert_string_equal(page.items[0].id, groups[3].id);
    char by_id[IAM_ID_SIZE + 8];
    snprintf(by_id, sizeof by_id, "id:%s", groups[4].id);
    page = list(f, &f->owner_a, (struct iam_group_list_request){.search = by_id});
    assert_int_equal(page.total, 1);
    assert_string_equal(page.items[0].id, groups[4].id);
    page = list(f, &f->owner_a, (struct iam_group_list_request){.search = "public"});
    assert_int_equal(page.total, 1);
    assert_string_equal(page.items[0].id, IAM_PUBLIC_ACCESS_GROUP);

    /* bad parameters */
    struct iam_error err;
    struct iam_group_list_request bad = {.account_id = ACCOUNT_A, .limit = 101};
    assert_int_equal(iam_group_list(&f->service, f->arena, &f->owner_a, &bad, &page, &err), IAM_EINVAL);
    bad = (struct iam_group_list_request){.account_id = ACCOUNT_A, .limit = 10, .sort = "colour"};
    assert_int_equal(iam_group_list(&f->service, f->arena, &f->owner_a, &bad, &page, &err), IAM_EINVAL);
    bad = (struct iam_group_list_request){.limit = 10};
    assert_int_equal(iam_group_list(&f->service, f->arena, &f->owner_a, &bad, &page, &err), IAM_EINVAL);
    assert_string_equal(err.code, "invalid_request");

    /* the public group: readable, not changeable */
    struct iam_group_record out;
    assert_int_equal(iam_group_get(&f->service, f->arena, &f->owner_a, IAM_PUBLIC_ACCESS_GROUP, &out, &err), IAM_OK);
    assert_string_equal(out.name, IAM_GROUP_PUBLIC_NAME);
    assert_int_equal(iam_group_update(&f->service, f->arena, &f->owner_a, IAM_PUBLIC_ACCESS_GROUP, NULL, "Mine", NULL,
                                      &out, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_delete(&f->service, f->arena, &f->owner_a, IAM_PUBLIC_ACCESS_GROUP, true, &err),
                     IAM_EINVAL);
    struct iam_group_member_input member = {.iam_id = f->sid_a, .type = "service"};
    struct iam_group_member_outcome *outcomes = NULL;
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, IAM_PUBLIC_ACCESS_GROUP, &member, 1,
                                           &outcomes, &err),
                     IAM_EINVAL);
    /* every identity of the account is a member; others are not */
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, IAM_PUBLIC_ACCESS_GROUP, f->sid_a, &err),
                     IAM_OK);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, IAM_PUBLIC_ACCESS_GROUP, USER_A2, &err),
                     IAM_OK);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, IAM_PUBLIC_ACCESS_GROUP, f->sid_b, &err),
                     IAM_ENOTFOUND);
    struct iam_group_member_page members;
    struct iam_group_member_list_request member_list = {.limit = 50};
    assert_int_equal(iam_group_members_list(&f->service, f->arena, &f->owner_a, IAM_PUBLIC_ACCESS_GROUP, &member_list,
                                            &members, &err),
                     IAM_OK);
    assert_int_equal(members.total, 0);
}

/* Finds the outcome for `iam_id` among `count`. */
static const struct iam_group_member_outcome *outcome_for(const struct iam_group_member_outcome *outcomes,
                                                          size_t count, const char *iam_id)
{
    for (size_t i = 0; i < count; i++)
        if (outcomes[i].iam_id && strcmp(outcomes[i].iam_id, iam_id) == 0)
            return &outcomes[i];
    fail_msg("no outcome for %s", iam_id);
    return NULL;
}

static void member_add_outcomes(void **state)
{
    struct fixture *f = *state;
    struct iam_group_record group = create_group(f, "Members", NULL);
    char unknown[IAM_ID_SIZE];
    snprintf(unknown, sizeof unknown, "iam-ServiceId-%s", "00000000-0000-4000-8000-000000000000");
    const struct iam_group_member_input members[] = {
        {.iam_id = f->sid_a, .type = "service"},    /* 200 */
        {.iam_id = USER_A2, .type = "user"},        /* 200 */
        {.iam_id = unknown, .type = "service"},     /* 404 */
        {.iam_id = f->sid_b, .type = "service"},    /* 404: another account's */
        {.iam_id = OWNER_B, .type = "user"},        /* 404: another account's */
        {.iam_id = USER_A3, .type = "service"},     /* 400: a user is not a service */
        {.iam_id = USER_A3, .type = "group"},       /* 400: no such type */
        {.iam_id = NULL, .type = "user"},           /* 400: no iam_id */
        {.iam_id = "iam-Profile-x", .type = "profile"}, /* 404: no trusted profiles */
    };
    size_t count = sizeof members / sizeof members[0];
    struct iam_group_member_outcome *outcomes = NULL;
    struct iam_error err;
    int64_t before_ms = iam_now_ms();
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, group.id, members, count, &outcomes,
                                           &err),
                     IAM_OK);
    const int expected[] = {200, 200, 404, 404, 404, 400, 400, 400, 404};
    for (size_t i = 0; i < count; i++) {
        if (outcomes[i].status != expected[i])
            fail_msg("member %zu (%s): status %d, expected %d (%s)", i, members[i].iam_id ? members[i].iam_id : "-",
                     outcomes[i].status, expected[i], outcomes[i].error.message);
        if (expected[i] == 200) {
            assert_string_equal(outcomes[i].created_by, OWNER_A);
            assert_true(outcomes[i].created_at_ms >= before_ms);
            assert_int_equal(outcomes[i].error.result, IAM_OK);
        } else {
            assert_true(outcomes[i].error.code[0] != '\0');
            assert_true(outcomes[i].error.message[0] != '\0');
        }
    }
    assert_string_equal(outcomes[2].error.code, "not_found");
    assert_string_equal(outcomes[6].error.code, "invalid_request");

    /* the same member again: 409 for it, 200 for the new one */
    const struct iam_group_member_input again[] = {{.iam_id = f->sid_a, .type = "service"},
                                                   {.iam_id = USER_A3, .type = "user"}};
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, group.id, again, 2, &outcomes, &err),
                     IAM_OK);
    assert_int_equal(outcome_for(outcomes, 2, f->sid_a)->status, 409);
    assert_string_equal(outcome_for(outcomes, 2, f->sid_a)->error.code, "conflict");
    assert_int_equal(outcome_for(outcomes, 2, USER_A3)->status, 200);

    /* membership as stored */
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, group.id, f->sid_a, &err), IAM_OK);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, group.id, USER_A2, &err), IAM_OK);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, group.id, unknown, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, group.id, OWNER_A, &err),
                     IAM_ENOTFOUND);
    struct iam_group_member_page page;
    struct iam_group_member_list_request request = {.limit = 50, .verbose = true};
    assert_int_equal(iam_group_members_list(&f->service, f->arena, &f->owner_a, group.id, &request, &page, &err),
                     IAM_OK);
    assert_int_equal(page.total, 3);
    assert_int_equal(page.count, 3);
    bool saw_service = false, saw_user = false;
    for (size_t i = 0; i < page.count; i++) {
        if (strcmp(page.items[i].record.iam_id, f->sid_a) == 0) {
            saw_service = true;
            assert_string_equal(page.items[i].record.type, "service");
            assert_string_equal(page.items[i].name, "worker-a");
            assert_string_equal(page.items[i].description, "a worker");
        } else if (strcmp(page.items[i].record.iam_id, USER_A2) == 0) {
            saw_user = true;
            assert_string_equal(page.items[i].record.type, "user");
            assert_string_equal(page.items[i].name, "Given Family");
            assert_string_equal(page.items[i].email, "someone@example.com");
        }
        assert_string_equal(page.items[i].record.created_by, OWNER_A);
    }
    assert_true(saw_service && saw_user);
    /* type filter and paging */
    request = (struct iam_group_member_list_request){.limit = 1, .type = "user"};
    assert_int_equal(iam_group_members_list(&f->service, f->arena, &f->owner_a, group.id, &request, &page, &err),
                     IAM_OK);
    assert_int_equal(page.total, 2);
    assert_int_equal(page.count, 1);
    assert_null(page.items[0].name); /* not verbose */
    request = (struct iam_group_member_list_request){.limit = 2, .offset = 2};
    assert_int_equal(iam_group_members_list(&f->service, f->arena, &f->owner_a, group.id, &request, &page, &err),
                     IAM_OK);
    assert_int_equal(page.total, 3);
    assert_int_equal(page.count, 1);
    request = (struct iam_group_member_list_request){.limit = 2, .type = "robot"};
    assert_int_equal(iam_group_members_list(&f->service, f->arena, &f->owner_a, group.id, &request, &page, &err),
                     IAM_EINVAL);

    /* whole-request failures */
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, group.id, members, 0, &outcomes, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, "AccessGroupId-00000000-0000-4000-8000-000000000000",
                                           members, 1, &outcomes, &err),
                     IAM_ENOTFOUND);
}

static void member_removal(void **state)
{
    struct fixture *f = *state;
    struct iam_group_record group = create_group(f, "Removal", NULL);
    const struct iam_group_member_input members[] = {{.iam_id = f->sid_a, .type = "service"},
                                                     {.iam_id = USER_A2, .type = "user"},
                                                     {.iam_id = USER_A3, .type = "user"}};
    struct iam_group_member_outcome *outcomes = NULL;
    struct iam_error err;
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, group.id, members, 3, &outcomes, &err),
                     IAM_OK);

    assert_int_equal(iam_group_member_remove(&f->service, f->arena, &f->owner_a, group.id, USER_A3, &err), IAM_OK);
    assert_int_equal(iam_group_member_remove(&f->service, f->arena, &f->owner_a, group.id, USER_A3, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, group.id, USER_A3, &err),
                     IAM_ENOTFOUND);

    const char *const bulk[] = {f->sid_a, USER_A3, USER_A2, ""};
    assert_int_equal(iam_group_members_remove(&f->service, f->arena, &f->owner_a, group.id, bulk, 4, &outcomes, &err),
                     IAM_OK);
    assert_int_equal(outcomes[0].status, 204);
    assert_int_equal(outcomes[1].status, 404);
    assert_int_equal(outcomes[2].status, 204);
    assert_int_equal(outcomes[3].status, 400);
    int64_t in_groups = -1;
    assert_int_equal(iam_store_member_group_count(f->service.store, ACCOUNT_A, f->sid_a, &in_groups), IAM_OK);
    assert_int_equal(in_groups, 0);
    const char *many[51];
    for (size_t i = 0; i < 51; i++)
        many[i] = USER_A2;
    assert_int_equal(iam_group_members_remove(&f->service, f->arena, &f->owner_a, group.id, many, 51, &outcomes, &err),
                     IAM_EINVAL);
}

static void all_groups_operations(void **state)
{
    struct fixture *f = *state;
    struct iam_group_record one = create_group(f, "One", NULL);
    struct iam_group_record two = create_group(f, "Two", NULL);
    struct iam_group_record theirs;
    struct iam_error err;
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_b, ACCOUNT_B, "Theirs", NULL, &theirs, &err),
                     IAM_OK);
    const char *const targets[] = {one.id, two.id, theirs.id, IAM_PUBLIC_ACCESS_GROUP, "junk"};
    struct iam_group_member_outcome *outcomes = NULL;
    assert_int_equal(iam_group_member_add_to_groups(&f->service, f->arena, &f->owner_a, ACCOUNT_A, f->sid_a, "service",
                                                    targets, 5, &outcomes, &err),
                     IAM_OK);
    assert_int_equal(outcomes[0].status, 200);
    assert_string_equal(outcomes[0].group_id, one.id);
    assert_int_equal(outcomes[1].status, 200);
    assert_int_equal(outcomes[2].status, 404); /* another account's group */
    assert_int_equal(outcomes[3].status, 400); /* the public group */
    assert_int_equal(outcomes[4].status, 404);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_b, theirs.id, f->sid_a, &err),
                     IAM_ENOTFOUND);
    /* again: already a member */
    assert_int_equal(iam_group_member_add_to_groups(&f->service, f->arena, &f->owner_a, ACCOUNT_A, f->sid_a, "service",
                                                    targets, 1, &outcomes, &err),
                     IAM_OK);
    assert_int_equal(outcomes[0].status, 409);
    /* an identity the account does not have, a wrong type, another account */
    assert_int_equal(iam_group_member_add_to_groups(&f->service, f->arena, &f->owner_a, ACCOUNT_A, f->sid_b, "service",
                                                    targets, 1, &outcomes, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_group_member_add_to_groups(&f->service, f->arena, &f->owner_a, ACCOUNT_A, f->sid_a, "robot",
                                                    targets, 1, &outcomes, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_member_add_to_groups(&f->service, f->arena, &f->owner_a, ACCOUNT_B, f->sid_b, "service",
                                                    targets, 1, &outcomes, &err),
                     IAM_ENOTFOUND);

    /* the groups it is in, through the iam_id filter */
    struct iam_group_page page = list(f, &f->owner_a, (struct iam_group_list_request){.iam_id = f->sid_a});
    assert_int_equal(page.total, 2);
    assert_true(page_has(&page, one.id) && page_has(&page, two.id));

    /* remove from all: another account's caller sees nothing; then one outcome per group */
    size_t count = 0;
    assert_int_equal(iam_group_member_remove_all(&f->service, f->arena, &f->owner_b, ACCOUNT_A, f->sid_a, &outcomes,
                                                 &count, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_group_member_remove_all(&f->service, f->arena, &f->owner_a, ACCOUNT_A, f->sid_a, &outcomes,
                                                 &count, &err),
                     IAM_OK);
    assert_int_equal(count, 2);
    assert_int_equal(outcomes[0].status, 204);
    assert_int_equal(outcomes[1].status, 204);
    page = list(f, &f->owner_a, (struct iam_group_list_request){.iam_id = f->sid_a});
    assert_int_equal(page.total, 0);
    assert_int_equal(iam_group_member_remove_all(&f->service, f->arena, &f->owner_a, ACCOUNT_A, f->sid_a, &outcomes,
                                                 &count, &err),
                     IAM_ENOTFOUND);
}

static void limits(void **state)
{
    struct fixture *f = *state;
    struct iam_error err;
    struct iam_group_member_outcome *outcomes = NULL;
    struct iam_group_record first = create_group(f, "group-000", NULL);

    /* at most 50 members per call */
    struct iam_group_member_input many[51];
    for (size_t i = 0; i < 51; i++)
        many[i] = (struct iam_group_member_input){.iam_id = USER_A2, .type = "user"};
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, first.id, many, 51, &outcomes, &err),
                     IAM_EINVAL);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, first.id, USER_A2, &err),
                     IAM_ENOTFOUND);

    /* an identity is in at most 50 groups */
    struct iam_group_member_input member = {.iam_id = USER_A2, .type = "user"};
    struct iam_group_record group;
    for (int i = 0; i <= IAM_GROUPS_PER_IDENTITY_MAX; i++) {
        char name[32];
        snprintf(name, sizeof name, "member-limit-%03d", i);
        group = create_group(f, name, NULL);
        assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, group.id, &member, 1, &outcomes,
                                               &err),
                         IAM_OK);
        if (i < IAM_GROUPS_PER_IDENTITY_MAX) {
            assert_int_equal(outcomes[0].status, 200);
        } else {
            assert_int_equal(outcomes[0].status, 400);
            assert_string_equal(outcomes[0].error.code, "limit_exceeded");
        }
    }
    int64_t in_groups = 0;
    assert_int_equal(iam_store_member_group_count(f->service.store, ACCOUNT_A, USER_A2, &in_groups), IAM_OK);
    assert_int_equal(in_groups, IAM_GROUPS_PER_IDENTITY_MAX);
    /* not a member of `first` and at the limit: 400 through the _allgroups path too */
    const char *const again[] = {first.id};
    assert_int_equal(iam_group_member_add_to_groups(&f->service, f->arena, &f->owner_a, ACCOUNT_A, USER_A2, "user",
                                                    again, 1, &outcomes, &err),
                     IAM_OK);
    assert_int_equal(outcomes[0].status, 400); /* not a member of `first`, and at the limit */

    /* an account has at most 500 groups */
    for (int64_t n = count_groups(f); n < IAM_GROUPS_PER_ACCOUNT_MAX; n++) {
        char id[IAM_ID_SIZE], name[32];
        assert_int_equal(iam_prefixed_id_new(IAM_GROUP_ID_PREFIX, id), IAM_OK);
        snprintf(name, sizeof name, "filler-%03lld", (long long)n);
        struct iam_group_record record = {.id = id, .account_id = ACCOUNT_A, .name = name,
                                          .entity_tag = "1-00000000000000000000000000000000", .created_by = OWNER_A,
                                          .modified_by = OWNER_A, .created_at_ms = iam_now_ms(),
                                          .modified_at_ms = iam_now_ms()};
        assert_int_equal(iam_store_group_insert(f->service.store, &record), IAM_OK);
    }
    assert_int_equal(iam_group_create(&f->service, f->arena, &f->owner_a, ACCOUNT_A, "one too many", NULL, &group,
                                      &err),
                     IAM_EINVAL);
    assert_string_equal(err.code, "limit_exceeded");
    assert_int_equal(count_groups(f), IAM_GROUPS_PER_ACCOUNT_MAX);
    /* listing all of them pages through every one */
    struct iam_group_page page = list(f, &f->owner_a, (struct iam_group_list_request){.offset = 400, .limit = 100});
    assert_int_equal(page.total, IAM_GROUPS_PER_ACCOUNT_MAX + 1);
    assert_int_equal(page.count, 100);
    page = list(f, &f->owner_a, (struct iam_group_list_request){.offset = 500, .limit = 100});
    assert_int_equal(page.count, 1);
}

/* Inserts a v2 policy granting `role` on the group `group_id` (NULL: every group) to `iam_id` or `group_subject`. */
static void insert_policy(struct fixture *f, const char *subject_kind, const char *subject, const char *role,
                          const char *group_id, char id_out[IAM_UUID_SIZE])
{
    char id[IAM_UUID_SIZE];
    assert_int_equal(iam_uuid_new(id), IAM_OK);
    const char *resource = group_id ? iam_arena_printf(f->arena,
                                                       ",{\"key\":\"resourceType\",\"operator\":\"stringEquals\","
                                                       "\"value\":\"accessgroup\"},{\"key\":\"resource\","
                                                       "\"operator\":\"stringEquals\",\"value\":\"%s\"}",
                                                       group_id)
                                    : "";
    const char *document = iam_arena_printf(
        f->arena,
        "{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"%s\",\"operator\":\"stringEquals\","
        "\"value\":\"%s\"}]},\"resource\":{\"attributes\":[{\"key\":\"accountId\",\"operator\":\"stringEquals\","
        "\"value\":\"%s\"},{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"iam-groups\"}%s]},"
        "\"control\":{\"grant\":{\"roles\":[{\"role_id\":\"crn:v1:bluemix:public:iam::::role:%s\"}]}}}",
        subject_kind, subject, ACCOUNT_A, resource, role);
    struct iam_policy_record policy = {.id = id, .account_id = ACCOUNT_A, .type = "access", .api_version = "v2",
                                       .subject_kind = subject_kind, .subject_value = subject,
                                       .service_name = "iam-groups", .document = document, .state = "active",
                                       .entity_tag = "1-00000000000000000000000000000000", .created_by = OWNER_A,
                                       .modified_by = OWNER_A, .created_at_ms = iam_now_ms(),
                                       .modified_at_ms = iam_now_ms()};
    assert_int_equal(iam_store_policy_insert(f->service.store, &policy), IAM_OK);
    assert_int_equal(iam_engine_refresh(f->service.engine, false), IAM_OK);
    if (id_out)
        snprintf(id_out, IAM_UUID_SIZE, "%s", id);
}

static void delete_force_and_cascade(void **state)
{
    struct fixture *f = *state;
    struct iam_group_record group = create_group(f, "Cascade", NULL);
    struct iam_group_member_input member = {.iam_id = f->sid_a, .type = "service"};
    struct iam_group_member_outcome *outcomes = NULL;
    struct iam_error err;
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, group.id, &member, 1, &outcomes, &err),
                     IAM_OK);
    char policy_id[IAM_UUID_SIZE];
    insert_policy(f, "access_group_id", group.id, "Viewer", NULL, policy_id);

    assert_int_equal(iam_group_delete(&f->service, f->arena, &f->owner_a, group.id, false, &err), IAM_ECONFLICT);
    assert_string_equal(err.code, "conflict");
    struct iam_group_record got;
    assert_int_equal(iam_group_get(&f->service, f->arena, &f->owner_a, group.id, &got, &err), IAM_OK);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, group.id, f->sid_a, &err), IAM_OK);

    assert_int_equal(iam_group_delete(&f->service, f->arena, &f->owner_a, group.id, true, &err), IAM_OK);
    assert_int_equal(iam_group_get(&f->service, f->arena, &f->owner_a, group.id, &got, &err), IAM_ENOTFOUND);
    int64_t in_groups = -1;
    assert_int_equal(iam_store_member_group_count(f->service.store, ACCOUNT_A, f->sid_a, &in_groups), IAM_OK);
    assert_int_equal(in_groups, 0);
    struct iam_policy_record policy;
    assert_int_equal(iam_store_policy_get(f->service.store, f->arena, ACCOUNT_A, policy_id, &policy), IAM_ENOTFOUND);
    int64_t policies = -1;
    assert_int_equal(
        iam_store_policy_count_for_subject(f->service.store, ACCOUNT_A, "access_group_id", group.id, &policies),
        IAM_OK);
    assert_int_equal(policies, 0);
}

static void other_account_is_not_found(void **state)
{
    struct fixture *f = *state;
    struct iam_group_record group = create_group(f, "Private", NULL);
    struct iam_group_record out;
    struct iam_group_page page;
    struct iam_group_member_outcome *outcomes = NULL;
    struct iam_error err;
    struct iam_group_member_input member = {.iam_id = f->sid_b, .type = "service"};
    const struct iam_principal *b = &f->owner_b;
    assert_int_equal(iam_group_get(&f->service, f->arena, b, group.id, &out, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_group_update(&f->service, f->arena, b, group.id, NULL, "Taken", NULL, &out, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_group_delete(&f->service, f->arena, b, group.id, true, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_group_members_add(&f->service, f->arena, b, group.id, &member, 1, &outcomes, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, b, group.id, f->sid_a, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_group_member_remove(&f->service, f->arena, b, group.id, f->sid_a, &err), IAM_ENOTFOUND);
    struct iam_group_list_request request = {.account_id = ACCOUNT_A, .limit = 10};
    assert_int_equal(iam_group_list(&f->service, f->arena, b, &request, &page, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_group_create(&f->service, f->arena, b, ACCOUNT_A, "Intruder", NULL, &out, &err),
                     IAM_ENOTFOUND);
    assert_string_equal(err.code, "not_found");
    assert_int_equal(iam_group_get(&f->service, f->arena, &f->owner_a, group.id, &out, &err), IAM_OK);
    assert_string_equal(out.name, "Private");
    page = list(f, b, (struct iam_group_list_request){.account_id = ACCOUNT_B, .hide_public_access = true});
    assert_int_equal(page.total, 0);
}

static void permissions(void **state)
{
    struct fixture *f = *state;
    struct iam_group_record open = create_group(f, "Open", NULL);
    struct iam_group_record closed = create_group(f, "Closed", NULL);
    const struct iam_principal *plain = &f->user_a2;
    struct iam_group_record out;
    struct iam_error err;
    struct iam_group_member_outcome *outcomes = NULL;
    struct iam_group_member_input member = {.iam_id = USER_A2, .type = "user"};

    /* no policy: nothing but the public group is visible, nothing may change */
    assert_int_equal(iam_group_create(&f->service, f->arena, plain, ACCOUNT_A, "Mine", NULL, &out, &err), IAM_EDENIED);
    assert_string_equal(err.code, "insufficent_permissions");
    assert_int_equal(iam_group_get(&f->service, f->arena, plain, open.id, &out, &err), IAM_EDENIED);
    assert_int_equal(iam_group_members_add(&f->service, f->arena, plain, open.id, &member, 1, &outcomes, &err),
                     IAM_EDENIED);
    assert_int_equal(iam_group_member_check(&f->service, f->arena, &f->owner_a, open.id, USER_A2, &err),
                     IAM_ENOTFOUND);
    struct iam_group_page page = list(f, plain, (struct iam_group_list_request){0});
    assert_int_equal(page.total, 1);
    assert_string_equal(page.items[0].id, IAM_PUBLIC_ACCESS_GROUP);

    /* Viewer on one group: that group becomes visible, still not changeable */
    insert_policy(f, "iam_id", USER_A2, "Viewer", open.id, NULL);
    page = list(f, plain, (struct iam_group_list_request){0});
    assert_int_equal(page.total, 2);
    assert_true(page_has(&page, open.id));
    assert_false(page_has(&page, closed.id));
    assert_int_equal(iam_group_get(&f->service, f->arena, plain, open.id, &out, &err), IAM_OK);
    assert_int_equal(iam_group_get(&f->service, f->arena, plain, closed.id, &out, &err), IAM_EDENIED);
    assert_int_equal(iam_group_update(&f->service, f->arena, plain, open.id, NULL, "Renamed", NULL, &out, &err),
                     IAM_EDENIED);

    /* Editor on the service: create, add members, delete */
    insert_policy(f, "iam_id", USER_A2, "Editor", NULL, NULL);
    assert_int_equal(iam_group_create(&f->service, f->arena, plain, ACCOUNT_A, "Mine", NULL, &out, &err), IAM_OK);
    assert_int_equal(iam_group_members_add(&f->service, f->arena, plain, out.id, &member, 1, &outcomes, &err), IAM_OK);
    assert_int_equal(outcomes[0].status, 200);
    page = list(f, plain, (struct iam_group_list_request){0});
    assert_int_equal(page.total, 4);
    assert_int_equal(iam_group_delete(&f->service, f->arena, plain, out.id, true, &err), IAM_OK);

    /* a group's policy reaches its members (the engine sees the membership at once) */
    struct iam_principal user_a3 = {
        .kind = IAM_PRINCIPAL_USER, .iam_id = USER_A3, .account_id = ACCOUNT_A, .subject_id = USER_A3};
    assert_int_equal(iam_group_get(&f->service, f->arena, &user_a3, closed.id, &out, &err), IAM_EDENIED);
    insert_policy(f, "access_group_id", closed.id, "Viewer", closed.id, NULL);
    struct iam_group_member_input a3 = {.iam_id = USER_A3, .type = "user"};
    assert_int_equal(iam_group_members_add(&f->service, f->arena, &f->owner_a, closed.id, &a3, 1, &outcomes, &err),
                     IAM_OK);
    assert_int_equal(iam_group_get(&f->service, f->arena, &user_a3, closed.id, &out, &err), IAM_OK);
    assert_int_equal(iam_group_member_remove(&f->service, f->arena, &f->owner_a, closed.id, USER_A3, &err), IAM_OK);
    assert_int_equal(iam_group_get(&f->service, f->arena, &user_a3, closed.id, &out, &err), IAM_EDENIED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_get_update_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(names_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(list_paging_search_and_public_group, setup, teardown),
        cmocka_unit_test_setup_teardown(member_add_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(member_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(all_groups_operations, setup, teardown),
        cmocka_unit_test_setup_teardown(limits, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_force_and_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(other_account_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(permissions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
