/*
 * test_iam_service_ids.c: the service-ID domain functions
 * (iam/service_ids.h) over a real SQLite store in a mkdtemp directory:
 * create with a first key in one transaction, get with history and activity,
 * list with name filters and paging, update with entity tags, lock, delete
 * with its keys, account isolation and authorization.
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
#include "iam/apikeys.h"
#include "iam/service_ids.h"
#include "iam/usage.h"
#include "store/store.h"
#include "support/service_fixture.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define USER_A "IBMid-AAAAAAAAAA"
#define USER_B "IBMid-BBBBBBBBBB"

struct fixture {
    char directory[TEST_SERVICE_DIRECTORY_SIZE];
    struct iam_service service;
    struct iam_arena *arena;
    struct iam_principal user_a;
    struct iam_principal user_b;
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
    if (test_service_open(&f->service, f->directory, "serviceids", true) != IAM_OK)
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

static struct iam_service_id_view create(struct fixture *f, const struct iam_service_id_create_request *request)
{
    struct iam_service_id_view view;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_service_id_create(&f->service, f->arena, &f->user_a, request, &view, &err);
    if (result != IAM_OK)
        fail_msg("iam_service_id_create: %s: %s %s", iam_strerror(result), err.message_code, err.message);
    return view;
}

static struct iam_service_id_record create_named(struct fixture *f, const char *name)
{
    struct iam_service_id_create_request request = {.account_id = ACCOUNT_A, .name = name};
    return create(f, &request).record;
}

static struct iam_apikey_record add_key(struct fixture *f, const struct iam_service_id_record *service_id,
                                        const char *name)
{
    struct iam_apikey_create_request request = {.name = name, .iam_id = service_id->iam_id};
    struct iam_apikey_record record;
    const char *value;
    struct iam_error err;
    assert_int_equal(iam_apikey_create(&f->service, f->arena, &f->user_a, &request, &record, &value, &err), IAM_OK);
    return record;
}

static void assert_entity_tag_version(const char *tag, int version)
{
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%d-", version);
    assert_non_null(tag);
    assert_int_equal(strncmp(tag, prefix, strlen(prefix)), 0);
    assert_int_equal(strlen(tag + strlen(prefix)), 32);
    assert_int_equal(strspn(tag + strlen(prefix), "0123456789abcdef"), 32);
}

static void create_and_get(void **state)
{
    struct fixture *f = *state;
    static const char *const crns[] = {"crn:v1:bluemix:public:x::a/1::instance:1", "crn:x"};
    struct iam_service_id_create_request request = {.account_id = ACCOUNT_A,
                                                    .name = "worker",
                                                    .description = "does work",
                                                    .unique_instance_crns = crns,
                                                    .unique_instance_crn_count = 2};
    struct iam_service_id_view created = create(f, &request);
    const struct iam_service_id_record *record = &created.record;
    assert_true(iam_is_prefixed_id(record->id, "ServiceId-"));
    assert_int_equal(strncmp(record->iam_id, "iam-", 4), 0);
    assert_string_equal(record->iam_id + 4, record->id);
    assert_string_equal(record->account_id, ACCOUNT_A);
    assert_string_equal(record->created_by, USER_A);
    assert_false(record->locked);
    assert_entity_tag_version(record->entity_tag, 1);
    assert_false(created.has_apikey);
    assert_int_equal(created.unique_instance_crn_count, 2);

    struct iam_service_id_view view;
    struct iam_error err;
    struct iam_service_id_read_options options = {.include_history = true, .include_activity = true};
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, record->id, &options, &view, &err),
                     IAM_OK);
    assert_string_equal(view.record.name, "worker");
    assert_string_equal(view.record.description, "does work");
    assert_string_equal(view.record.entity_tag, record->entity_tag);
    assert_int_equal(view.unique_instance_crn_count, 2);
    assert_string_equal(view.unique_instance_crns[1], "crn:x");
    assert_true(view.has_history);
    assert_int_equal(view.history_count, 1);
    assert_string_equal(view.history[0].action, "CreateServiceId");
    assert_true(view.has_activity);
    assert_int_equal(view.authn_count, 0);

    /* activity sums the keys' counts, pending deltas included */
    struct iam_apikey_record one = add_key(f, record, "one");
    struct iam_apikey_record two = add_key(f, record, "two");
    iam_usage_record(f->service.usage, one.id, 1900000000);
    iam_usage_record(f->service.usage, two.id, 1900000100);
    iam_usage_record(f->service.usage, two.id, 1900000050);
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, record->id, &options, &view, &err),
                     IAM_OK);
    assert_int_equal(view.authn_count, 3);
    assert_int_equal(view.last_authn, 1900000100);

    /* Entity-Lock */
    struct iam_service_id_create_request locked = {.account_id = ACCOUNT_A, .name = "locked", .locked = true};
    assert_true(create(f, &locked).record.locked);

    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, "ServiceId-none", NULL, &view, &err),
                     IAM_ENOTFOUND);
    assert_string_equal(err.message_code, "BXNIM0103E");
}

static void create_with_first_key(void **state)
{
    struct fixture *f = *state;
    struct iam_apikey_create_request key = {.name = "first key", .store_value = true, .expires_at = iam_now() + 3600};
    struct iam_service_id_create_request request = {.account_id = ACCOUNT_A, .name = "with key", .apikey = &key};
    struct iam_service_id_view created = create(f, &request);
    assert_true(created.has_apikey);
    assert_non_null(created.apikey.value);
    assert_string_equal(created.apikey.record.iam_id, created.record.iam_id);
    assert_string_equal(created.apikey.record.account_id, ACCOUNT_A);
    assert_string_equal(created.apikey.record.created_by, USER_A);
    char *value = strdup(created.apikey.value);

    /* the key was stored with the service ID, its value sealed and readable */
    struct iam_apikey_view key_view;
    struct iam_error err;
    struct iam_apikey_read_options options = {.include_history = true};
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, created.apikey.record.id, &options, &key_view,
                                    &err),
                     IAM_OK);
    assert_string_equal(key_view.value, value);
    assert_int_equal(key_view.history_count, 1);
    assert_string_equal(key_view.history[0].action, "CreateApiKey");
    free(value);

    /* a bad first key stores nothing at all */
    struct iam_apikey_create_request bad_key = {.name = "bad", .apikey = "short"};
    struct iam_service_id_create_request bad = {.account_id = ACCOUNT_A, .name = "orphan", .apikey = &bad_key};
    struct iam_service_id_view view;
    assert_int_equal(iam_service_id_create(&f->service, f->arena, &f->user_a, &bad, &view, &err), IAM_EINVAL);
    struct iam_service_id_list_request list = {.account_id = ACCOUNT_A, .name = "orphan", .limit = 10};
    struct iam_service_id_page page;
    assert_int_equal(iam_service_id_list(&f->service, f->arena, &f->user_a, &list, &page, &err), IAM_OK);
    assert_int_equal(page.count, 0);

    /* refused inputs */
    struct iam_service_id_create_request refused[] = {
        {.name = "no account"},
        {.account_id = "invalid", .name = "bad account"},
        {.account_id = ACCOUNT_A},
        {.account_id = ACCOUNT_A, .name = ""},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(iam_service_id_create(&f->service, f->arena, &f->user_a, &refused[i], &view, &err),
                         IAM_EINVAL);
    struct iam_service_id_create_request foreign = {.account_id = ACCOUNT_B, .name = "elsewhere"};
    assert_int_equal(iam_service_id_create(&f->service, f->arena, &f->user_a, &foreign, &view, &err), IAM_ENOTFOUND);
}

static size_t list_count(struct fixture *f, struct iam_service_id_list_request request, bool *has_more)
{
    struct iam_service_id_page page;
    struct iam_error err;
    iam_error_clear(&err);
    if (!request.account_id)
        request.account_id = ACCOUNT_A;
    if (request.limit == 0)
        request.limit = 100;
    enum iam_result result = iam_service_id_list(&f->service, f->arena, &f->user_a, &request, &page, &err);
    if (result != IAM_OK)
        fail_msg("iam_service_id_list: %s: %s", iam_strerror(result), err.message);
    if (has_more)
        *has_more = page.has_more;
    return page.count;
}

static void list_with_filters(void **state)
{
    struct fixture *f = *state;
    create_named(f, "Go-one");
    create_named(f, "Go-two");
    create_named(f, "node");
    struct iam_service_id_create_request other = {.account_id = ACCOUNT_B, .name = "Go-other"};
    struct iam_service_id_view view;
    struct iam_error err;
    assert_int_equal(iam_service_id_create(&f->service, f->arena, &f->user_b, &other, &view, &err), IAM_OK);

    bool has_more;
    assert_int_equal(list_count(f, (struct iam_service_id_list_request){0}, &has_more), 3);
    assert_false(has_more);
    assert_int_equal(list_count(f, (struct iam_service_id_list_request){.name = "node"}, NULL), 1);
    assert_int_equal(list_count(f, (struct iam_service_id_list_request){.name = "Go"}, NULL), 0);
    assert_int_equal(list_count(f, (struct iam_service_id_list_request){.filter = "name co \"Go\""}, NULL), 2);
    assert_int_equal(list_count(f, (struct iam_service_id_list_request){.filter = "name eq \"Go-two\""}, NULL), 1);
    assert_int_equal(
        list_count(f, (struct iam_service_id_list_request){.filter = "name eq \"Go-two\"", .name = "node"}, NULL), 0);
    assert_int_equal(list_count(f, (struct iam_service_id_list_request){.limit = 2}, &has_more), 2);
    assert_true(has_more);
    assert_int_equal(list_count(f, (struct iam_service_id_list_request){.limit = 2, .offset = 2}, &has_more), 1);
    assert_false(has_more);

    struct iam_service_id_page page;
    struct iam_service_id_list_request sorted = {
        .account_id = ACCOUNT_A, .sort = "name", .order = "desc", .include_history = true, .limit = 10};
    assert_int_equal(iam_service_id_list(&f->service, f->arena, &f->user_a, &sorted, &page, &err), IAM_OK);
    assert_int_equal(page.count, 3);
    assert_string_equal(page.items[0].record.name, "node");
    assert_true(page.items[0].has_history);
    assert_int_equal(page.items[0].history_count, 1);

    struct iam_service_id_list_request bad[] = {
        {.limit = 10},
        {.account_id = "nope", .limit = 10},
        {.account_id = ACCOUNT_A, .filter = "description co \"x\"", .limit = 10},
        {.account_id = ACCOUNT_A, .sort = "iam_id", .limit = 10},
        {.account_id = ACCOUNT_A, .order = "sideways", .limit = 10},
        {.account_id = ACCOUNT_A, .limit = 101},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(iam_service_id_list(&f->service, f->arena, &f->user_a, &bad[i], &page, &err), IAM_EINVAL);
        assert_string_equal(err.message_code, "BXNIM0110E");
    }
    struct iam_service_id_list_request foreign = {.account_id = ACCOUNT_B, .limit = 10};
    assert_int_equal(iam_service_id_list(&f->service, f->arena, &f->user_a, &foreign, &page, &err), IAM_ENOTFOUND);
}

static void update_with_entity_tags(void **state)
{
    struct fixture *f = *state;
    static const char *const crns[] = {"crn:a"};
    struct iam_service_id_create_request request = {
        .account_id = ACCOUNT_A, .name = "before", .description = "old", .unique_instance_crns = crns,
        .unique_instance_crn_count = 1};
    struct iam_service_id_record record = create(f, &request).record;
    struct iam_service_id_view view;
    struct iam_error err;

    struct iam_service_id_update_request update = {.name = "after"};
    assert_int_equal(iam_service_id_update(&f->service, f->arena, &f->user_a, record.id, "invalid", &update, &view,
                                           &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.message_code, "BXNIM0501E");
    /* a missing id is 404 even with a bad tag */
    assert_int_equal(iam_service_id_update(&f->service, f->arena, &f->user_a, "ServiceId-x", "invalid", &update,
                                           &view, &err),
                     IAM_ENOTFOUND);

    update = (struct iam_service_id_update_request){
        .name = "after", .description = "", .set_unique_instance_crns = true};
    assert_int_equal(
        iam_service_id_update(&f->service, f->arena, &f->user_a, record.id, record.entity_tag, &update, &view, &err),
        IAM_OK);
    assert_string_equal(view.record.name, "after");
    assert_null(view.record.description);
    assert_int_equal(view.unique_instance_crn_count, 0);
    assert_entity_tag_version(view.record.entity_tag, 2);

    assert_int_equal(
        iam_service_id_update(&f->service, f->arena, &f->user_a, record.id, record.entity_tag, &update, &view, &err),
        IAM_ECONFLICT);
    struct iam_service_id_read_options options = {.include_history = true};
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, record.id, &options, &view, &err), IAM_OK);
    assert_int_equal(view.history_count, 2);
    assert_string_equal(view.history[1].action, "UpdateServiceId");
    assert_string_equal(view.history[1].params, "[\"name\",\"description\",\"unique_instance_crns\"]");

    update = (struct iam_service_id_update_request){.name = ""};
    assert_int_equal(iam_service_id_update(&f->service, f->arena, &f->user_a, record.id, NULL, &update, &view, &err),
                     IAM_EINVAL);
}

static void lock_refuses_update_and_delete(void **state)
{
    struct fixture *f = *state;
    struct iam_service_id_record record = create_named(f, "guarded");
    struct iam_service_id_view view;
    struct iam_error err;
    assert_int_equal(iam_service_id_set_locked(&f->service, f->arena, &f->user_a, record.id, true, &err), IAM_OK);
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, record.id, NULL, &view, &err), IAM_OK);
    assert_true(view.record.locked);
    assert_entity_tag_version(view.record.entity_tag, 2);

    struct iam_service_id_update_request update = {.description = "x"};
    assert_int_equal(iam_service_id_update(&f->service, f->arena, &f->user_a, record.id, NULL, &update, &view, &err),
                     IAM_ELOCKED);
    assert_string_equal(err.message_code, "BXNIM0510E");
    assert_int_equal(iam_service_id_delete(&f->service, f->arena, &f->user_a, record.id, &err), IAM_ELOCKED);
    assert_int_equal(iam_service_id_set_locked(&f->service, f->arena, &f->user_a, record.id, false, &err), IAM_OK);

    /* a locked key also refuses the delete */
    struct iam_apikey_record key = add_key(f, &record, "pinned");
    assert_int_equal(iam_apikey_set_locked(&f->service, f->arena, &f->user_a, key.id, true, &err), IAM_OK);
    assert_int_equal(iam_service_id_delete(&f->service, f->arena, &f->user_a, record.id, &err), IAM_ELOCKED);
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, record.id, NULL, &view, &err), IAM_OK);

    struct iam_service_id_read_options options = {.include_history = true};
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, record.id, &options, &view, &err), IAM_OK);
    assert_int_equal(view.history_count, 3);
    assert_string_equal(view.history[1].action, "LockServiceId");
    assert_string_equal(view.history[2].action, "UnlockServiceId");
}

static void delete_cascades_keys(void **state)
{
    struct fixture *f = *state;
    struct iam_service_id_record record = create_named(f, "doomed");
    struct iam_service_id_record bystander = create_named(f, "bystander");
    struct iam_apikey_record one = add_key(f, &record, "one");
    struct iam_apikey_record two = add_key(f, &record, "two");
    struct iam_apikey_record kept = add_key(f, &bystander, "kept");
    struct iam_error err;
    assert_int_equal(iam_service_id_delete(&f->service, f->arena, &f->user_a, record.id, &err), IAM_OK);

    struct iam_service_id_view view;
    struct iam_apikey_view key;
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, record.id, NULL, &view, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, one.id, NULL, &key, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, two.id, NULL, &key, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_apikey_get(&f->service, f->arena, &f->user_a, kept.id, NULL, &key, &err), IAM_OK);
    assert_int_equal(iam_service_id_delete(&f->service, f->arena, &f->user_a, record.id, &err), IAM_ENOTFOUND);
}

static void other_account_is_not_found(void **state)
{
    struct fixture *f = *state;
    struct iam_service_id_record record = create_named(f, "private");
    struct iam_service_id_view view;
    struct iam_error err;
    struct iam_service_id_update_request update = {.name = "stolen"};
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_b, record.id, NULL, &view, &err),
                     IAM_ENOTFOUND);
    assert_string_equal(err.message_code, "BXNIM0103E");
    assert_int_equal(iam_service_id_update(&f->service, f->arena, &f->user_b, record.id, NULL, &update, &view, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_service_id_delete(&f->service, f->arena, &f->user_b, record.id, &err), IAM_ENOTFOUND);
    assert_int_equal(iam_service_id_set_locked(&f->service, f->arena, &f->user_b, record.id, true, &err),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, record.id, NULL, &view, &err), IAM_OK);
    assert_string_equal(view.record.name, "private");
    assert_false(view.record.locked);
}

static void service_id_principal_limits(void **state)
{
    struct fixture *f = *state;
    struct iam_service_id_record mine = create_named(f, "mine");
    struct iam_service_id_record theirs = create_named(f, "theirs");
    struct iam_principal me = {.kind = IAM_PRINCIPAL_SERVICE_ID,
                               .iam_id = mine.iam_id,
                               .account_id = ACCOUNT_A,
                               .subject_id = mine.id};
    struct iam_service_id_view view;
    struct iam_error err;
    struct iam_service_id_update_request update = {.description = "mine now"};
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &me, theirs.id, NULL, &view, &err), IAM_EDENIED);
    assert_int_equal(iam_service_id_update(&f->service, f->arena, &me, theirs.id, NULL, &update, &view, &err),
                     IAM_EDENIED);
    assert_int_equal(iam_service_id_delete(&f->service, f->arena, &me, theirs.id, &err), IAM_EDENIED);
    assert_int_equal(iam_service_id_set_locked(&f->service, f->arena, &me, theirs.id, true, &err), IAM_EDENIED);
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &f->user_a, theirs.id, NULL, &view, &err), IAM_OK);
    assert_null(view.record.description);

    /* Without a policy not even itself (IBM semantics: no implicit self-access). */
    assert_int_equal(iam_service_id_get(&f->service, f->arena, &me, mine.id, NULL, &view, &err), IAM_EDENIED);
    assert_int_equal(iam_service_id_update(&f->service, f->arena, &me, mine.id, NULL, &update, &view, &err),
                     IAM_EDENIED);

    /* Creation is not restricted by default: anyone in the account may, and the creator administers it. */
    struct iam_service_id_create_request request = {.account_id = ACCOUNT_A, .name = "spawn"};
    assert_int_equal(iam_service_id_create(&f->service, f->arena, &me, &request, &view, &err), IAM_OK);
    const char *spawned = view.record.id;
    assert_int_equal(iam_service_id_update(&f->service, f->arena, &me, spawned, NULL, &update, &view, &err), IAM_OK);
    assert_string_equal(view.record.description, "mine now");

    /* Its list holds only what it may read: the one it created, not "mine" or "theirs". */
    struct iam_service_id_list_request list = {.account_id = ACCOUNT_A, .limit = 10};
    struct iam_service_id_page page;
    assert_int_equal(iam_service_id_list(&f->service, f->arena, &me, &list, &page, &err), IAM_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.items[0].record.id, spawned);
    assert_int_equal(iam_service_id_list(&f->service, f->arena, &f->user_a, &list, &page, &err), IAM_OK);
    assert_int_equal(page.count, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(create_with_first_key, setup, teardown),
        cmocka_unit_test_setup_teardown(list_with_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(update_with_entity_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(lock_refuses_update_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_cascades_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(other_account_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(service_id_principal_limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
