/*
 * test_iam_roles.c: custom roles (iam/roles.h) over a real SQLite store and
 * the real decision engine: create with IBM's id and CRN formats, every
 * refusal (with nothing stored), duplicate names and action sets, the 40
 * per account limit, replace with entity tags and immutable fields, delete
 * removing the role from policies (soft-deleting those left without roles),
 * the role list (custom, service and system roles, alliamserviceroles).
 * Also the rest of the access-management domain written with them: the
 * service registry (iam/service_registry.h, operator only, validation,
 * directory loading) and the access settings (iam/access_settings.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/encoding.h"
#include "iam/access_settings.h"
#include "iam/engine.h"
#include "iam/policies.h"
#include "iam/roles.h"
#include "iam/service_registry.h"
#include "store/store.h"
#include "store/store_access.h"
#include "support/service_fixture.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define OWNER_A "IBMid-AAAAAAAAAA"
#define USER_A2 "IBMid-AAAAAAAAA2"
#define OWNER_B "IBMid-BBBBBBBBBB"
#define SID "iam-ServiceId-11111111-1111-4111-8111-111111111111"
#define COS "cloud-object-storage"
#define READER "crn:v1:bluemix:public:iam::::serviceRole:Reader"

static const char cos_definition[] =
    "{\"name\":\"cloud-object-storage\",\"service_type\":\"service\",\"actions\":["
    "\"cloud-object-storage.a.get\",\"cloud-object-storage.b.get\",\"cloud-object-storage.c.get\","
    "\"cloud-object-storage.d.get\",\"cloud-object-storage.e.get\",\"cloud-object-storage.f.get\","
    "\"cloud-object-storage.g.get\",\"cloud-object-storage.h.get\"],"
    "\"roles\":{\"Reader\":[\"cloud-object-storage.a.get\"],\"Writer\":[\"cloud-object-storage.b.get\"],"
    "\"Manager\":[\"cloud-object-storage.c.get\"]}}";

struct fixture {
    char directory[TEST_SERVICE_DIRECTORY_SIZE];
    struct iam_service service;
    struct iam_arena *arena;
    struct iam_principal owner_a;
    struct iam_principal user_a2;
    struct iam_principal owner_b;
};

static void insert_user(struct iam_store *store, const char *account_id, const char *iam_id, const char *login)
{
    struct iam_user_record user = {.iam_id = iam_id, .account_id = account_id, .login = login, .state = "ACTIVE",
                                   .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_user_insert(store, &user), IAM_OK);
}

static void insert_account(struct iam_store *store, const char *account_id, const char *owner, const char *login)
{
    struct iam_account_record account = {.id = account_id, .name = "test", .owner_iam_id = owner, .state = "ACTIVE",
                                          .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
    insert_user(store, account_id, owner, login);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    iam_log_set_level(IAM_LOG_ERROR);
    if (test_service_open(&f->service, f->directory, "roles", false) != IAM_OK)
        goto fail;
    f->service.options.public_url = "http://iam.example.test";
    struct iam_error err;
    struct iam_store *store = f->service.store;
    f->arena = iam_arena_new();
    insert_account(store, ACCOUNT_A, OWNER_A, "a@example.com");
    insert_user(store, ACCOUNT_A, USER_A2, "a2@example.com");
    insert_account(store, ACCOUNT_B, OWNER_B, "b@example.com");
    assert_int_equal(iam_store_meta_insert(store, "bootstrap_account", ACCOUNT_A), IAM_OK);
    struct iam_service_id_record sid = {.id = SID + 4, .iam_id = SID, .account_id = ACCOUNT_A, .name = "app",
                                        .unique_instance_crns = "[]", .created_by = OWNER_A,
                                        .entity_tag = "1-00000000000000000000000000000001", .created_at = iam_now(),
                                        .modified_at = iam_now()};
    assert_int_equal(iam_store_service_id_insert(store, &sid, NULL, NULL, 0), IAM_OK);
    struct iam_service_def_record cos = {.name = COS, .document = cos_definition,
                                         .entity_tag = "1-00000000000000000000000000000001", .created_by = OWNER_A,
                                         .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_service_def_put(store, &cos, NULL), IAM_OK);
    if (iam_engine_new(store, &f->service.engine, &err) != IAM_OK)
        goto fail;
    f->owner_a = test_user_principal(OWNER_A, ACCOUNT_A);
    f->user_a2 = test_user_principal(USER_A2, ACCOUNT_A);
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
    if (test_service_close(&f->service, f->directory) != 0)
        return -1;
    free(f);
    return 0;
}

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, JSON_REJECT_DUPLICATES, &error);
    if (!value)
        fail_msg("bad test JSON: %s: %s", error.text, text);
    return value;
}

static json_t *role_body(struct fixture *f, const char *name, const char *display_name, const char *actions)
{
    return parse(iam_arena_printf(f->arena,
                                  "{\"name\":\"%s\",\"display_name\":\"%s\",\"description\":\"test role\","
                                  "\"actions\":[%s],\"account_id\":\"" ACCOUNT_A "\",\"service_name\":\"" COS "\"}",
                                  name, display_name, actions));
}

#define ACTION(letter) "\"cloud-object-storage." letter ".get\""

static size_t count_roles(struct fixture *f)
{
    struct iam_role_record *items = NULL;
    size_t count = 0;
    assert_int_equal(iam_store_role_list(f->service.store, f->arena, ACCOUNT_A, NULL, &items, &count), IAM_OK);
    return count;
}

static struct iam_role_record create_role(struct fixture *f, json_t *body)
{
    struct iam_role_record record, conflict;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_role_create(&f->service, f->arena, &f->owner_a, body, &record, &conflict, &err);
    json_decref(body);
    if (result != IAM_OK)
        fail_msg("iam_role_create: %s %s", err.code, err.message);
    return record;
}

static void role_refused(struct fixture *f, const struct iam_principal *who, json_t *body, enum iam_result expected,
                         const char *code)
{
    size_t before = count_roles(f);
    struct iam_role_record record, conflict;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_role_create(&f->service, f->arena, who, body, &record, &conflict, &err);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (result != expected || strcmp(err.code, code) != 0)
        fail_msg("expected %s/%s, got %s/%s (%s) for %s", iam_strerror(expected), code, iam_strerror(result), err.code,
                 err.message, text);
    if (getenv("TEST_VERBOSE"))
        print_message("refused %s: %s\n", err.code, err.message);
    free(text);
    assert_int_equal(count_roles(f), before);
}

static struct iam_policy_record create_policy(struct fixture *f, const char *roles, const char *resource_type)
{
    json_t *body = parse(iam_arena_printf(
        f->arena,
        "{\"type\":\"access\",\"subjects\":[{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"" SID "\"}]}],"
        "\"roles\":[%s],\"resources\":[{\"attributes\":[{\"name\":\"accountId\",\"value\":\"" ACCOUNT_A "\"},"
        "{\"name\":\"serviceName\",\"value\":\"" COS "\"},{\"name\":\"resourceType\",\"value\":\"%s\"}]}]}",
        roles, resource_type));
    struct iam_policy_record record, conflict;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result =
        iam_policy_create(&f->service, f->arena, &f->owner_a, IAM_POLICY_API_V1, body, &record, &conflict, &err);
    json_decref(body);
    if (result != IAM_OK)
        fail_msg("iam_policy_create: %s %s", err.code, err.message);
    return record;
}

/* --- custom roles --- */

static void test_create_formats(void **state)
{
    struct fixture *f = *state;
    struct iam_role_record role = create_role(f, role_body(f, "Auditor", "Auditor", ACTION("a") "," ACTION("b")));
    assert_string_equal(role.crn,
                        "crn:v1:ibmcloud:public:iam-access-management::a/" ACCOUNT_A "::customRole:Auditor");
    /* id: lowercase hex of "customRole-<32 hex>-Auditor" */
    size_t length = strlen(role.id);
    assert_int_equal(length % 2, 0);
    char *plain = calloc(1, length / 2 + 1);
    assert_non_null(plain);
    assert_int_equal(iam_hex_decode(role.id, (uint8_t *)plain, length / 2), IAM_OK);
    assert_int_equal(strncmp(plain, "customRole-", 11), 0);
    assert_int_equal(strspn(plain + 11, "0123456789abcdef"), 32);
    assert_string_equal(plain + 43, "-Auditor");
    free(plain);
    for (size_t i = 0; i < length; i++)
        assert_false(isupper((unsigned char)role.id[i]));
    assert_int_equal(strncmp(role.entity_tag, "1-", 2), 0);

    json_t *body = iam_role_render(&f->service, f->arena, &role);
    assert_string_equal(json_string_value(json_object_get(body, "href")),
                        iam_arena_printf(f->arena, "http://iam.example.test/v2/roles/%s", role.id));
    assert_int_equal(json_array_size(json_object_get(body, "actions")), 2);
    assert_string_equal(json_string_value(json_object_get(body, "service_name")), COS);
    json_decref(body);

    struct iam_role_record read;
    struct iam_error err;
    assert_int_equal(iam_role_get(&f->service, f->arena, &f->owner_a, role.id, &read, &err), IAM_OK);
    assert_string_equal(read.name, "Auditor");
    assert_int_equal(iam_role_get(&f->service, f->arena, &f->owner_b, role.id, &read, &err), IAM_ENOTFOUND);
    assert_string_equal(err.code, "role_not_found");

    /* The new role is usable in a policy at once (read-your-writes). */
    struct iam_policy_record policy = create_policy(
        f, iam_arena_printf(f->arena, "{\"role_id\":\"%s\"}", role.crn), "bucket");
    assert_non_null(policy.id);
}

static void test_create_refusals(void **state)
{
    struct fixture *f = *state;
    role_refused(f, &f->owner_a, role_body(f, "auditor", "Auditor", ACTION("a")), IAM_EINVAL, "invalid_body");
    role_refused(f, &f->owner_a, role_body(f, "Audi-tor", "Auditor", ACTION("a")), IAM_EINVAL, "invalid_body");
    role_refused(f, &f->owner_a,
                 role_body(f, "Auditor", "123456789012345678901234567890123456789012345678901", ACTION("a")),
                 IAM_EINVAL, "invalid_body");
    role_refused(f, &f->owner_a, role_body(f, "Auditor", "", ACTION("a")), IAM_EINVAL, "invalid_body");
    role_refused(f, &f->owner_a, role_body(f, "Auditor", "Auditor", ""), IAM_EINVAL, "invalid_body");
    role_refused(f, &f->owner_a, role_body(f, "Auditor", "Auditor", ACTION("z")), IAM_EINVAL, "invalid_body");
    role_refused(f, &f->owner_a, role_body(f, "Auditor", "Auditor", "\"iam-identity.serviceid.get\""), IAM_EINVAL,
                 "invalid_body");
    role_refused(f, &f->owner_a, role_body(f, "Auditor", "Auditor", ACTION("a") "," ACTION("a")), IAM_EINVAL,
                 "invalid_body");
    char description[260];
    memset(description, 'd', 251);
    description[251] = '\0';
    role_refused(f, &f->owner_a,
                 parse(iam_arena_printf(f->arena,
                                        "{\"name\":\"Auditor\",\"display_name\":\"Auditor\",\"description\":\"%s\","
                                        "\"actions\":[" ACTION("a") "],\"account_id\":\"" ACCOUNT_A
                                        "\",\"service_name\":\"" COS "\"}",
                                        description)),
                 IAM_EINVAL, "invalid_body");
    role_refused(f, &f->owner_a,
                 parse("{\"name\":\"Auditor\",\"display_name\":\"Auditor\",\"actions\":[\"nosuch.a.get\"],"
                       "\"account_id\":\"" ACCOUNT_A "\",\"service_name\":\"nosuch\"}"),
                 IAM_EINVAL, "invalid_body");
    role_refused(f, &f->owner_a,
                 parse("{\"name\":\"Auditor\",\"display_name\":\"Auditor\",\"actions\":[" ACTION("a")
                       "],\"account_id\":\"" ACCOUNT_A "\",\"service_name\":\"" COS "\",\"colour\":\"red\"}"),
                 IAM_EINVAL, "invalid_body");
    role_refused(f, &f->owner_a,
                 parse("{\"name\":\"Auditor\",\"display_name\":\"Auditor\",\"actions\":[" ACTION("a")
                       "],\"service_name\":\"" COS "\"}"),
                 IAM_EINVAL, "invalid_body");
    /* In another account: not found. Without the right: 403. */
    role_refused(f, &f->owner_b, role_body(f, "Auditor", "Auditor", ACTION("a")), IAM_ENOTFOUND, "not_found");
    role_refused(f, &f->user_a2, role_body(f, "Auditor", "Auditor", ACTION("a")), IAM_EDENIED,
                 "insufficent_permissions");
}

static void test_duplicates_and_limit(void **state)
{
    struct fixture *f = *state;
    struct iam_role_record first = create_role(f, role_body(f, "First", "First", ACTION("a") "," ACTION("b")));
    /* the same action set in another order, another name */
    struct iam_role_record record, conflict;
    struct iam_error err;
    json_t *body = role_body(f, "Second", "Second", ACTION("b") "," ACTION("a"));
    assert_int_equal(iam_role_create(&f->service, f->arena, &f->owner_a, body, &record, &conflict, &err),
                     IAM_ECONFLICT);
    json_decref(body);
    assert_string_equal(err.code, "role_conflict_error");
    assert_string_equal(conflict.id, first.id);
    /* the same name, other actions */
    body = role_body(f, "First", "First again", ACTION("c"));
    assert_int_equal(iam_role_create(&f->service, f->arena, &f->owner_a, body, &record, &conflict, &err),
                     IAM_ECONFLICT);
    json_decref(body);
    assert_string_equal(conflict.id, first.id);
    assert_int_equal(count_roles(f), 1);
    /* 40 per account */
    static const char *const letters[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    for (int mask = 4; count_roles(f) < IAM_ROLE_PER_ACCOUNT_MAX; mask++) {
        const char *actions = "";
        for (int bit = 0; bit < 8; bit++)
            if (mask & (1 << bit))
                actions = iam_arena_printf(f->arena, "%s%s\"cloud-object-storage.%s.get\"", actions,
                                           *actions ? "," : "", letters[bit]);
        create_role(f, role_body(f, iam_arena_printf(f->arena, "Role%d", mask), "Some role", actions));
    }
    role_refused(f, &f->owner_a, role_body(f, "Extra", "Extra", ACTION("a") "," ACTION("h") "," ACTION("g")),
                 IAM_ECONFLICT, "request_not_processed");
}

static void test_replace(void **state)
{
    struct fixture *f = *state;
    struct iam_role_record role = create_role(f, role_body(f, "Auditor", "Auditor", ACTION("a")));
    create_role(f, role_body(f, "Other", "Other", ACTION("b")));
    struct iam_role_record out, conflict;
    struct iam_error err;
    json_t *body = parse("{\"display_name\":\"Auditor 2\",\"actions\":[" ACTION("a") "," ACTION("c") "]}");
    assert_int_equal(iam_role_replace(&f->service, f->arena, &f->owner_a, role.id, "1-ffffffffffffffffffffffffffffffff",
                                      body, &out, &conflict, &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.code, "role_conflict_error");
    assert_string_equal(conflict.entity_tag, role.entity_tag);
    assert_int_equal(iam_role_replace(&f->service, f->arena, &f->owner_a, role.id, role.entity_tag, body, &out,
                                      &conflict, &err),
                     IAM_OK);
    json_decref(body);
    assert_string_equal(out.display_name, "Auditor 2");
    assert_null(out.description);
    assert_int_equal(strncmp(out.entity_tag, "2-", 2), 0);
    assert_non_null(strstr(out.actions, "cloud-object-storage.c.get"));
    /* Immutable fields may be repeated, not changed. */
    body = parse("{\"name\":\"Auditor\",\"service_name\":\"" COS "\",\"account_id\":\"" ACCOUNT_A "\","
                 "\"display_name\":\"Auditor\",\"actions\":[" ACTION("d") "]}");
    assert_int_equal(iam_role_replace(&f->service, f->arena, &f->owner_a, role.id, NULL, body, &out, &conflict, &err),
                     IAM_OK);
    json_decref(body);
    body = parse("{\"name\":\"Renamed\",\"display_name\":\"Auditor\",\"actions\":[" ACTION("d") "]}");
    assert_int_equal(iam_role_replace(&f->service, f->arena, &f->owner_a, role.id, NULL, body, &out, &conflict, &err),
                     IAM_EINVAL);
    json_decref(body);
    /* Same actions as the other role: conflict. */
    body = parse("{\"display_name\":\"Auditor\",\"actions\":[" ACTION("b") "]}");
    assert_int_equal(iam_role_replace(&f->service, f->arena, &f->owner_a, role.id, NULL, body, &out, &conflict, &err),
                     IAM_ECONFLICT);
    json_decref(body);
    assert_string_equal(conflict.name, "Other");
}

static void test_delete_removes_from_policies(void **state)
{
    struct fixture *f = *state;
    struct iam_role_record role = create_role(f, role_body(f, "Auditor", "Auditor", ACTION("a") "," ACTION("e")));
    const char *custom = iam_arena_printf(f->arena, "{\"role_id\":\"%s\"}", role.crn);
    struct iam_policy_record shared =
        create_policy(f, iam_arena_printf(f->arena, "%s,{\"role_id\":\"" READER "\"}", custom), "bucket");
    struct iam_policy_record alone = create_policy(f, custom, "object");
    struct iam_error err;
    iam_error_clear(&err);
    assert_int_equal(iam_role_delete(&f->service, f->arena, &f->owner_a, role.id, &err), IAM_OK);
    struct iam_role_record read;
    assert_int_equal(iam_role_get(&f->service, f->arena, &f->owner_a, role.id, &read, &err), IAM_ENOTFOUND);
    struct iam_policy_record out;
    assert_int_equal(iam_policy_get(&f->service, f->arena, &f->owner_a, shared.id, &out, &err), IAM_OK);
    assert_string_equal(out.state, "active");
    assert_null(strstr(out.document, role.crn));
    assert_non_null(strstr(out.document, READER));
    assert_int_equal(iam_policy_get(&f->service, f->arena, &f->owner_a, alone.id, &out, &err), IAM_OK);
    assert_string_equal(out.state, "deleted");
    assert_null(strstr(out.document, role.crn));
    assert_int_equal(iam_role_delete(&f->service, f->arena, &f->owner_a, role.id, &err), IAM_ENOTFOUND);
}

static bool has_display_name(const json_t *roles, const char *name)
{
    size_t index;
    json_t *role;
    json_array_foreach(roles, index, role) {
        if (strcmp(json_string_value(json_object_get(role, "display_name")), name) == 0)
            return true;
    }
    return false;
}

static void test_list(void **state)
{
    struct fixture *f = *state;
    struct iam_role_record role = create_role(f, role_body(f, "Auditor", "Auditor", ACTION("a")));
    struct iam_role_list_request list = {.account_id = ACCOUNT_A, .service_name = COS};
    struct iam_role_collection roles;
    struct iam_error err;
    assert_int_equal(iam_role_list(&f->service, f->arena, &f->owner_a, &list, &roles, &err), IAM_OK);
    assert_int_equal(roles.custom_count, 1);
    assert_string_equal(roles.custom_roles[0].id, role.id);
    assert_true(has_display_name(json_object_get(roles.catalogue, "system_roles"), "Viewer"));
    assert_true(has_display_name(json_object_get(roles.catalogue, "service_roles"), "Reader"));
    json_decref(roles.catalogue);
    list.service_name = "alliamserviceroles";
    assert_int_equal(iam_role_list(&f->service, f->arena, &f->owner_a, &list, &roles, &err), IAM_OK);
    assert_int_equal(roles.custom_count, 0);
    assert_true(has_display_name(json_object_get(roles.catalogue, "system_roles"), "Administrator"));
    assert_true(has_display_name(json_object_get(roles.catalogue, "service_roles"), "Manager"));
    json_decref(roles.catalogue);
    /* Another account's roles are not shown; exclusive parameters are refused. */
    list.service_name = COS;
    assert_int_equal(iam_role_list(&f->service, f->arena, &f->owner_b, &list, &roles, &err), IAM_OK);
    assert_int_equal(roles.custom_count, 0);
    json_decref(roles.catalogue);
    list.service_group_id = "IAM";
    assert_int_equal(iam_role_list(&f->service, f->arena, &f->owner_a, &list, &roles, &err), IAM_EINVAL);
    assert_null(roles.catalogue);
}

/* --- service registry --- */

static void test_registry(void **state)
{
    struct fixture *f = *state;
    json_t *definition =
        parse("{\"name\":\"kms\",\"display_name\":\"Key Protect\",\"service_group_id\":null,\"actions\":[\"kms.key.get\",{\"id\":\"kms.key.create\","
              "\"display_name\":\"Create keys\"}],\"roles\":{\"Reader\":[\"kms.key.get\"],\"Viewer\":[\"iam.policy.read\"],\"KeyPurge\":{\"display_name\":"
              "\"Key purge\",\"actions\":[\"kms.key.create\"]}},\"pdp_clients\":[\"" SID "\"]}");
    struct iam_service_def_record record;
    bool created = false;
    struct iam_error err;
    iam_error_clear(&err);
    /* Only the instance operator. */
    assert_int_equal(iam_service_registry_put(&f->service, f->arena, &f->user_a2, "kms", NULL, definition, &record,
                                              &created, &err),
                     IAM_EDENIED);
    assert_string_equal(err.code, "insufficent_permissions");
    assert_int_equal(iam_service_registry_put(&f->service, f->arena, &f->owner_b, "kms", NULL, definition, &record,
                                              &created, &err),
                     IAM_EDENIED);
    if (iam_service_registry_put(&f->service, f->arena, &f->owner_a, "kms", NULL, definition, &record, &created,
                                 &err) != IAM_OK)
        fail_msg("%s", err.message);
    assert_true(created);
    const char *tag = record.entity_tag;
    assert_true(iam_engine_service_exists(f->service.engine, "kms"));
    assert_true(iam_engine_action_exists(f->service.engine, "kms.key.create"));
    /* Same document again: unchanged; stale tag: refused. */
    assert_int_equal(iam_service_registry_put(&f->service, f->arena, &f->owner_a, "kms", tag, definition, &record,
                                              &created, &err),
                     IAM_OK);
    assert_false(created);
    assert_int_equal(iam_service_registry_put(&f->service, f->arena, &f->owner_a, "kms",
                                              "9-ffffffffffffffffffffffffffffffff", definition, &record, &created,
                                              &err),
                     IAM_ECONFLICT);
    json_decref(definition);

    static const char *const bad[] = {
        "{\"name\":\"KMS\",\"actions\":[\"KMS.key.get\"]}",
        "{\"name\":\"iam-identity\",\"actions\":[\"iam-identity.key.get\"]}",
        "{\"name\":\"kms2\",\"actions\":[\"kms.key.get\"]}",
        "{\"name\":\"kms2\",\"actions\":[]}",
        "{\"name\":\"kms2\",\"actions\":[\"kms2.key.get\",\"kms2.key.get\"]}",
        "{\"name\":\"kms2\",\"actions\":[\"kms2.key.get\"],\"roles\":{\"Reader\":[\"kms2.key.put\"]}}",
        "{\"name\":\"kms2\",\"actions\":[\"kms2.key.get\"],\"roles\":{\"reader\":[\"kms2.key.get\"]}}",
        "{\"name\":\"kms2\",\"actions\":[\"kms2.key.get\"],\"pdp_clients\":[\"someone\"]}",
        "{\"name\":\"kms2\",\"actions\":[\"kms2.key.get\"],\"colour\":\"red\"}",
        "{\"name\":\"k\",\"actions\":[\"k.key.get\"]}",
        "{\"name\":\"kms2\",\"actions\":[\"kms2.get\"]}",
        "{\"name\":\"kms2\",\"actions\":[\"kms2.key..get\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *document = parse(bad[i]);
        enum iam_result result = iam_service_registry_put(&f->service, f->arena, &f->owner_a, NULL, NULL, document,
                                                          &record, &created, &err);
        json_decref(document);
        if (result != IAM_EINVAL || strcmp(err.code, "invalid_body") != 0)
            fail_msg("accepted %s (%s)", bad[i], err.message);
    }
    struct iam_service_registry_entry *items = NULL;
    size_t count = 0;
    assert_int_equal(iam_service_registry_list(&f->service, f->arena, &f->owner_a, &items, &count, &err), IAM_OK);
    size_t registered = 0;
    for (size_t i = 0; i < count; i++)
        registered += !items[i].builtin;
    assert_int_equal(registered, 2); /* cloud-object-storage (fixture) and kms */
    bool builtin = false;
    assert_int_equal(iam_service_registry_get(&f->service, f->arena, &f->owner_a, "iam-identity", &record, &builtin,
                                              &err),
                     IAM_OK);
    assert_true(builtin);
    assert_int_equal(iam_service_registry_delete(&f->service, f->arena, &f->owner_a, "iam-identity", &err),
                     IAM_ECONFLICT);
    assert_int_equal(iam_service_registry_delete(&f->service, f->arena, &f->owner_a, "kms", &err), IAM_OK);
    assert_false(iam_engine_service_exists(f->service.engine, "kms"));
    assert_int_equal(iam_service_registry_get(&f->service, f->arena, &f->owner_a, "kms", &record, &builtin, &err),
                     IAM_ENOTFOUND);
}

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    assert_int_equal(fputs(text, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
}

static void test_registry_load_dir(void **state)
{
    struct fixture *f = *state;
    char directory[128];
    snprintf(directory, sizeof directory, "%s/services", f->directory);
    assert_int_equal(mkdir(directory, 0700), 0);
    write_file(iam_arena_printf(f->arena, "%s/a.json", directory),
               "{\"name\":\"alpha\",\"actions\":[\"alpha.thing.get\"],\"roles\":{\"Reader\":[\"alpha.thing.get\"]}}");
    write_file(iam_arena_printf(f->arena, "%s/b.json", directory),
               "{\"name\":\"beta\",\"actions\":[\"beta.thing.get\"]}");
    write_file(iam_arena_printf(f->arena, "%s/notes.txt", directory), "not a definition");
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_service_registry_load_dir(&f->service, directory, &err) != IAM_OK)
        fail_msg("%s", err.message);
    assert_true(iam_engine_service_exists(f->service.engine, "alpha"));
    assert_true(iam_engine_service_exists(f->service.engine, "beta"));
    /* Loading again changes nothing; a bad file is named in the error. */
    int64_t revision = iam_engine_revision(f->service.engine);
    assert_int_equal(iam_service_registry_load_dir(&f->service, directory, &err), IAM_OK);
    assert_int_equal(iam_engine_revision(f->service.engine), revision);
    write_file(iam_arena_printf(f->arena, "%s/c.json", directory), "{\"name\":\"gamma\",\"actions\":[\"alpha.x\"]}");
    assert_int_equal(iam_service_registry_load_dir(&f->service, directory, &err), IAM_EINVAL);
    assert_non_null(strstr(err.message, "c.json"));
    assert_int_equal(iam_service_registry_load_dir(&f->service, "/nonexistent/dir", &err), IAM_EINVAL);
}

/* --- access settings --- */

static void test_access_settings(void **state)
{
    struct fixture *f = *state;
    struct iam_access_settings_view view;
    struct iam_error err;
    iam_error_clear(&err);
    assert_int_equal(iam_access_settings_get(&f->service, f->arena, &f->owner_a, ACCOUNT_A, &view, &err), IAM_OK);
    assert_string_equal(view.entity_tag, "0-00000000000000000000000000000000");
    json_t *user = json_object_get(
        json_object_get(json_object_get(view.settings, "external_account_identity_interaction"), "identity_types"),
        "user");
    assert_string_equal(json_string_value(json_object_get(user, "state")), "enabled");
    assert_int_equal(json_array_size(json_object_get(user, "external_allowed_accounts")), 0);
    const char *tag = view.entity_tag;
    iam_access_settings_view_release(&view);

    json_t *change = parse("{\"external_account_identity_interaction\":{\"identity_types\":{\"service_id\":{"
                           "\"state\":\"limited\",\"external_allowed_accounts\":[\"" ACCOUNT_B "\"]}}}}");
    assert_int_equal(iam_access_settings_update(&f->service, f->arena, &f->owner_a, ACCOUNT_A,
                                                "5-ffffffffffffffffffffffffffffffff", change, &view, &err),
                     IAM_ECONFLICT);
    assert_int_equal(iam_access_settings_update(&f->service, f->arena, &f->owner_a, ACCOUNT_A, tag, change, &view,
                                                &err),
                     IAM_OK);
    json_decref(change);
    assert_int_equal(strncmp(view.entity_tag, "1-", 2), 0);
    iam_access_settings_view_release(&view);
    assert_int_equal(iam_access_settings_get(&f->service, f->arena, &f->owner_a, ACCOUNT_A, &view, &err), IAM_OK);
    json_t *types =
        json_object_get(json_object_get(view.settings, "external_account_identity_interaction"), "identity_types");
    assert_string_equal(json_string_value(json_object_get(json_object_get(types, "service_id"), "state")), "limited");
    assert_string_equal(json_string_value(json_object_get(json_object_get(types, "user"), "state")), "enabled");
    iam_access_settings_view_release(&view);

    static const char *const bad[] = {
        "{\"external_account_identity_interaction\":{\"identity_types\":{\"user\":{\"state\":\"off\"}}}}",
        "{\"external_account_identity_interaction\":{\"identity_types\":{\"robot\":{\"state\":\"enabled\"}}}}",
        "{\"external_account_identity_interaction\":{\"identity_types\":{\"user\":{\"external_allowed_accounts\":"
        "[\"nope\"]}}}}",
        "{\"colour\":\"red\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        change = parse(bad[i]);
        assert_int_equal(iam_access_settings_update(&f->service, f->arena, &f->owner_a, ACCOUNT_A, NULL, change, &view,
                                                    &err),
                         IAM_EINVAL);
        json_decref(change);
    }
    assert_int_equal(iam_access_settings_get(&f->service, f->arena, &f->owner_b, ACCOUNT_A, &view, &err),
                     IAM_ENOTFOUND);
    change = parse("{}");
    assert_int_equal(iam_access_settings_update(&f->service, f->arena, &f->user_a2, ACCOUNT_A, NULL, change, &view,
                                                &err),
                     IAM_EDENIED);
    json_decref(change);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_removes_from_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry_load_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_settings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
