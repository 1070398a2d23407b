/*
 * test_iam_engine.c: unit tests of the policy decision engine (src/iam/engine*.c)
 * and the built-in service definitions: the registry as compiled (built-in
 * role tables, implicit iam.* actions, role CRNs, role resolution), glob and
 * condition-value parsing, request validation, evaluate's obligation and
 * grants, explain's wording and ordering, policies that cannot be compiled,
 * and snapshot swaps under concurrent readers. The decision table is in
 * test_iam_engine_table.c.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "common/arena.h"
#include "iam/engine.h"
#include "iam/engine_internal.h"
#include "iam/principal.h"
#include "store/store_access.h"

#define ACCOUNT "0123456789abcdef0123456789abcdef"
#define OTHER_ACCOUNT "fedcba9876543210fedcba9876543210"
#define SID "iam-ServiceId-11111111-2222-4333-8444-555555555555"
#define GROUP "AccessGroupId-66666666-7777-4888-9999-000000000000"
#define NOW 1748858400 /* Monday 2025-06-02 10:00:00Z */

#define VIEWER "crn:v1:bluemix:public:iam::::role:Viewer"
#define OPERATOR "crn:v1:bluemix:public:iam::::role:Operator"
#define EDITOR "crn:v1:bluemix:public:iam::::role:Editor"
#define ADMINISTRATOR "crn:v1:bluemix:public:iam::::role:Administrator"
#define READER "crn:v1:bluemix:public:iam::::serviceRole:Reader"
#define MANAGER "crn:v1:bluemix:public:iam::::serviceRole:Manager"
#define WRITER "crn:v1:bluemix:public:iam::::serviceRole:Writer"

static const char cos_document[] =
    "{'name':'cloud-object-storage','display_name':'Cloud Object Storage','service_type':'service',"
    "'service_group_id':null,'pdp_clients':['iam-ServiceId-cos-pdp'],'actions':["
    "{'id':'cloud-object-storage.object.get','display_name':'Read objects'},{'id':'cloud-object-storage.object.put'},"
    "{'id':'kms.key.read'}],"
    "'roles':{'Viewer':['cloud-object-storage.object.get'],'Reader':['cloud-object-storage.object.get'],"
    "'Writer':['cloud-object-storage.object.get','cloud-object-storage.object.put','kms.key.read'],"
    "'ObjectReader':{'display_name':'Object Reader','description':'Reads objects','actions':['cloud-object-storage."
    "object.get']}},'resource_types':['bucket','object']}";

/* Copies `text` into the arena, turning ' into ". */
static char *quote(struct iam_arena *arena, const char *text)
{
    char *copy = iam_arena_strdup(arena, text);
    for (char *p = copy; p && *p; p++)
        if (*p == '\'')
            *p = '"';
    return copy;
}

/* A policy record: `attributes` and `extra` are JSON fragments written with '. */
static struct iam_policy_record make_policy(struct iam_arena *arena, const char *id, const char *account,
                                            const char *kind, const char *subject, const char *attributes,
                                            const char *role, const char *extra)
{
    char *document = iam_arena_printf(
        arena,
        "{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"%s\",\"operator\":\"stringEquals\",\"value\":"
        "\"%s\"}]},\"resource\":{\"attributes\":[{\"key\":\"accountId\",\"operator\":\"stringEquals\",\"value\":\"%s\"}"
        "%s%s]},\"control\":{\"grant\":{\"roles\":[{\"role_id\":\"%s\"}]}}%s}",
        kind, subject, account, attributes[0] ? "," : "", quote(arena, attributes), role,
        extra ? quote(arena, extra) : "");
    return (struct iam_policy_record){.id = id,
                                      .account_id = account,
                                      .type = "access",
                                      .api_version = "v2",
                                      .subject_kind = kind,
                                      .subject_value = subject,
                                      .state = "active",
                                      .document = document};
}

static struct iam_engine *engine_from(struct iam_access_snapshot *snapshot)
{
    struct iam_engine *engine = NULL;
    struct iam_error err;
    assert_int_equal(iam_engine_new_from_snapshot(snapshot, &engine, &err), IAM_OK);
    assert_non_null(engine);
    return engine;
}

static bool decide(struct iam_engine *engine, const char *account, const char *subject, const char *action,
                   const struct iam_engine_attribute *attributes, size_t count)
{
    struct iam_engine_request request = {.account_id = account,
                                         .subject_iam_id = subject,
                                         .action = action,
                                         .resource = attributes,
                                         .resource_count = count,
                                         .now = NOW};
    struct iam_engine_decision decision;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_OK);
    return decision.permitted;
}

static bool json_array_has(const json_t *array, const char *text)
{
    size_t index;
    const json_t *item;
    json_array_foreach(array, index, item)
        if (json_is_string(item) && strcmp(json_string_value(item), text) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------ built-in services */

static void builtin_services_follow_the_reference_tables(void **state)
{
    (void)state;
    json_t *all = iam_engine_builtin_services();
    assert_non_null(all);
    assert_int_equal(json_object_size(all), 4);
    const char *name;
    json_t *document;
    json_object_foreach(all, name, document)
    {
        assert_string_equal(json_string_value(json_object_get(document, "name")), name);
        assert_string_equal(json_string_value(json_object_get(document, "service_type")), "platform_service");
        assert_string_equal(json_string_value(json_object_get(document, "service_group_id")), "IAM");
        size_t index;
        json_t *action;
        json_array_foreach(json_object_get(document, "actions"), index, action)
        {
            const char *id = json_string_value(json_object_get(action, "id"));
            assert_non_null(id);
            assert_int_equal(strncmp(id, name, strlen(name)), 0);
            assert_int_equal(id[strlen(name)], '.');
            assert_non_null(json_string_value(json_object_get(action, "display_name")));
        }
    }
    const json_t *identity = json_object_get(json_object_get(all, "iam-identity"), "roles");
    /* IBM's oddities: Operator, not Editor, deletes service IDs and creates or deletes keys */
    const json_t *operator_actions = json_object_get(identity, "Operator");
    const json_t *editor_actions = json_object_get(identity, "Editor");
    assert_true(json_array_has(operator_actions, IAM_ACTION_APIKEY_CREATE));
    assert_true(json_array_has(operator_actions, IAM_ACTION_APIKEY_DELETE));
    assert_true(json_array_has(operator_actions, IAM_ACTION_SERVICEID_DELETE));
    assert_false(json_array_has(editor_actions, IAM_ACTION_APIKEY_CREATE));
    assert_false(json_array_has(editor_actions, IAM_ACTION_APIKEY_DELETE));
    assert_false(json_array_has(editor_actions, IAM_ACTION_SERVICEID_DELETE));
    assert_true(json_array_has(editor_actions, IAM_ACTION_SERVICEID_UPDATE));
    assert_true(json_array_has(json_object_get(identity, "Viewer"), IAM_ACTION_TOKEN_INTROSPECT));
    assert_false(json_array_has(json_object_get(identity, "Viewer"), IAM_ACTION_APIKEY_READ));
    assert_true(json_array_has(json_object_get(identity, "Administrator"), IAM_ACTION_AUDIT_READ));
    assert_false(json_array_has(json_object_get(identity, "Operator"), IAM_ACTION_AUDIT_READ));
    assert_false(json_array_has(json_object_get(identity, "Administrator"), IAM_ACTION_SERVICEID_CREATE));
    const json_t *creator = json_object_get(identity, "ServiceIdCreator");
    assert_true(json_is_object(creator));
    assert_true(json_array_has(json_object_get(creator, "actions"), IAM_ACTION_SERVICEID_CREATE));
    assert_int_equal(json_array_size(json_object_get(creator, "actions")), 1);
    assert_true(json_array_has(json_object_get(json_object_get(identity, "UserApiKeyCreator"), "actions"),
                               IAM_ACTION_USER_APIKEY_CREATE));
    const json_t *users = json_object_get(json_object_get(all, "user-management"), "roles");
    assert_true(json_array_has(json_object_get(users, "Administrator"), IAM_ACTION_USER_DELETE));
    assert_false(json_array_has(json_object_get(users, "Editor"), IAM_ACTION_USER_DELETE));
    assert_true(json_array_has(json_object_get(users, "Editor"), IAM_ACTION_USER_INVITE));
    assert_false(json_array_has(json_object_get(users, "Operator"), IAM_ACTION_USER_UPDATE));
    const json_t *groups = json_object_get(json_object_get(all, "iam-groups"), "roles");
    assert_true(json_array_has(json_object_get(groups, "Editor"), IAM_ACTION_MEMBER_ADD));
    assert_false(json_array_has(json_object_get(groups, "Operator"), IAM_ACTION_MEMBER_ADD));
    assert_true(json_array_has(json_object_get(groups, "Viewer"), IAM_ACTION_MEMBER_LIST));
    const json_t *access = json_object_get(json_object_get(all, "iam-access-management"), "roles");
    assert_true(json_array_has(json_object_get(access, "Administrator"), IAM_ACTION_ROLE_CREATE));
    assert_false(json_array_has(json_object_get(access, "Editor"), IAM_ACTION_ROLE_CREATE));
    assert_true(json_array_has(json_object_get(access, "Viewer"), IAM_ACTION_ACCESS_SETTINGS_READ));
    json_decref(all);
}

static void every_named_action_is_defined(void **state)
{
    (void)state;
    struct iam_access_snapshot empty = {0};
    struct iam_engine *engine = engine_from(&empty);
    static const char *const actions[] = {
        IAM_ACTION_SERVICEID_CREATE, IAM_ACTION_SERVICEID_READ, IAM_ACTION_SERVICEID_UPDATE,
        IAM_ACTION_SERVICEID_DELETE, IAM_ACTION_SERVICEID_LOCK, IAM_ACTION_APIKEY_CREATE, IAM_ACTION_APIKEY_READ,
        IAM_ACTION_APIKEY_UPDATE, IAM_ACTION_APIKEY_DELETE, IAM_ACTION_APIKEY_LOCK, IAM_ACTION_APIKEY_DISABLE,
        IAM_ACTION_ACCOUNT_APIKEYS_LIST, IAM_ACTION_APIKEY_MANAGE, IAM_ACTION_USER_APIKEY_CREATE,
        IAM_ACTION_SETTINGS_READ, IAM_ACTION_SETTINGS_UPDATE, IAM_ACTION_TOKEN_INTROSPECT, IAM_ACTION_AUDIT_READ,
        IAM_ACTION_POLICY_READ, IAM_ACTION_POLICY_CREATE, IAM_ACTION_POLICY_UPDATE, IAM_ACTION_POLICY_DELETE,
        IAM_ACTION_ROLE_READ, IAM_ACTION_ROLE_CREATE, IAM_ACTION_ROLE_UPDATE, IAM_ACTION_ROLE_DELETE,
        IAM_ACTION_ACCESS_SETTINGS_READ, IAM_ACTION_ACCESS_SETTINGS_UPDATE, IAM_ACTION_GROUP_CREATE,
        IAM_ACTION_GROUP_READ, IAM_ACTION_GROUP_LIST, IAM_ACTION_GROUP_UPDATE, IAM_ACTION_GROUP_DELETE,
        IAM_ACTION_MEMBER_ADD, IAM_ACTION_MEMBER_READ, IAM_ACTION_MEMBER_LIST, IAM_ACTION_MEMBER_DELETE,
        IAM_ACTION_USER_INVITE, IAM_ACTION_USER_READ, IAM_ACTION_USER_LIST, IAM_ACTION_USER_UPDATE,
        IAM_ACTION_USER_DELETE, "iam.role.read", "iam.role.assign"};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (!iam_engine_action_exists(engine, actions[i]))
            fail_msg("%s is not defined", actions[i]);
    }
    assert_false(iam_engine_action_exists(engine, "iam-identity.serviceid.fly"));
    assert_false(iam_engine_action_exists(engine, "iam-identity"));
    assert_false(iam_engine_action_exists(engine, NULL));
    assert_int_equal(iam_engine_revision(engine), 0);
    iam_engine_free(engine);
}

static void account_owners_come_from_the_snapshot(void **state)
{
    (void)state;
    struct iam_account_record accounts[] = {
        {.id = ACCOUNT, .name = "a", .owner_iam_id = "IBMid-OWNER", .state = "ACTIVE"},
        {.id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", .name = "b", .owner_iam_id = "IBMid-OTHER", .state = "ACTIVE"},
        {.id = "cccccccccccccccccccccccccccccccc", .name = "c", .owner_iam_id = NULL, .state = "ACTIVE"},
    };
    struct iam_access_snapshot snapshot = {.accounts = accounts, .account_count = 3};
    struct iam_engine *engine = engine_from(&snapshot);
    assert_true(iam_engine_account_owner(engine, ACCOUNT, "IBMid-OWNER"));
    assert_false(iam_engine_account_owner(engine, ACCOUNT, "IBMid-OTHER")); /* owns another account */
    assert_true(iam_engine_account_owner(engine, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "IBMid-OTHER"));
    assert_false(iam_engine_account_owner(engine, "cccccccccccccccccccccccccccccccc", "IBMid-OWNER"));
    assert_false(iam_engine_account_owner(engine, "dddddddddddddddddddddddddddddddd", "IBMid-OWNER"));
    assert_false(iam_engine_account_owner(engine, ACCOUNT, "IBMid-NOBODY"));
    assert_false(iam_engine_account_owner(engine, ACCOUNT, NULL));
    assert_false(iam_engine_account_owner(NULL, ACCOUNT, "IBMid-OWNER"));
    iam_engine_free(engine);
}

static void engines_without_a_store_are_always_current(void **state)
{
    (void)state;
    struct iam_access_snapshot empty = {0};
    struct iam_engine *engine = engine_from(&empty);
    iam_engine_set_staleness(engine, 0, 500);
    struct iam_engine_store_status status;
    iam_engine_store_status(engine, &status);
    assert_true(status.reachable);
    assert_true(status.current);
    assert_int_equal(status.confirmed_age_ms, 0);
    assert_int_equal(iam_engine_check_current(engine), IAM_OK);
    iam_engine_free(engine);
}

/* --------------------------------------------------------------- registry */

static struct iam_engine *registry_engine(struct iam_arena *arena)
{
    struct iam_service_def_record *services = iam_arena_alloc(arena, 3 * sizeof *services);
    services[0] = (struct iam_service_def_record){.name = "cloud-object-storage", .document = quote(arena, cos_document)};
    /* a registered service cannot replace a built-in, and a broken document defines nothing */
    services[1] = (struct iam_service_def_record){.name = "iam-identity",
                                                  .document = "{\"name\":\"iam-identity\",\"actions\":[]}"};
    services[2] = (struct iam_service_def_record){.name = "broken", .document = "{not json"};
    struct iam_role_record *roles = iam_arena_alloc(arena, sizeof *roles);
    roles[0] = (struct iam_role_record){
        .id = "r1",
        .account_id = ACCOUNT,
        .name = "Putter",
        .display_name = "Object putter",
        .description = "Puts objects",
        .service_name = "cloud-object-storage",
        .actions = "[\"cloud-object-storage.object.put\"]",
        .crn = "crn:v1:ibmcloud:public:iam-access-management::a/" ACCOUNT "::customRole:Putter",
    };
    struct iam_access_snapshot snapshot = {
        .services = services, .service_count = 3, .roles = roles, .role_count = 1, .revision = 42};
    return engine_from(&snapshot);
}

static void registry_answers_services_actions_and_pdp_clients(void **state)
{
    (void)state;
    struct iam_arena *arena = iam_arena_new();
    struct iam_engine *engine = registry_engine(arena);
    assert_int_equal(iam_engine_revision(engine), 42);
    assert_true(iam_engine_service_exists(engine, "cloud-object-storage"));
    assert_true(iam_engine_service_exists(engine, "iam-identity"));
    assert_true(iam_engine_service_exists(engine, "user-management"));
    assert_false(iam_engine_service_exists(engine, "broken"));
    assert_false(iam_engine_service_exists(engine, "alliamserviceroles"));
    assert_false(iam_engine_service_exists(engine, NULL));
    assert_true(iam_engine_service_builtin(engine, "iam-identity"));
    assert_true(iam_engine_service_builtin(engine, "iam-groups"));
    assert_false(iam_engine_service_builtin(engine, "cloud-object-storage"));
    assert_true(iam_engine_service_pdp_client(engine, "cloud-object-storage", "iam-ServiceId-cos-pdp"));
    assert_false(iam_engine_service_pdp_client(engine, "cloud-object-storage", SID));
    assert_false(iam_engine_service_pdp_client(engine, "iam-identity", "iam-ServiceId-cos-pdp"));
    assert_true(iam_engine_action_exists(engine, "cloud-object-storage.object.get"));
    /* an action always belongs to the service its prefix names */
    assert_false(iam_engine_action_exists(engine, "kms.key.read"));
    /* the built-in kept its own definition */
    assert_true(iam_engine_action_exists(engine, IAM_ACTION_APIKEY_CREATE));
    iam_engine_free(engine);
    iam_arena_free(arena);
}

static void roles_resolve_per_service_and_account(void **state)
{
    (void)state;
    struct iam_arena *arena = iam_arena_new();
    struct iam_engine *engine = registry_engine(arena);
    const char *display_name = NULL, *description = NULL;
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, NULL, VIEWER, &display_name, &description), IAM_OK);
    assert_string_equal(display_name, "Viewer");
    assert_non_null(strstr(description, "viewer"));
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, NULL, MANAGER, &display_name, NULL), IAM_OK);
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, "iam-identity", OPERATOR, NULL, NULL), IAM_OK);
    /* iam-identity defines no Reader; COS does */
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, "iam-identity", READER, NULL, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, "cloud-object-storage", READER, NULL, NULL), IAM_OK);
    /* platform roles exist for every service, even one that lists none */
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, "cloud-object-storage", ADMINISTRATOR, NULL, NULL),
                     IAM_OK);
    const char *creator = "crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator";
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, "iam-identity", creator, &display_name, NULL), IAM_OK);
    assert_string_equal(display_name, "Service ID creator");
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, "iam-groups", creator, NULL, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, NULL, creator, NULL, NULL), IAM_ENOTFOUND);
    const char *object_reader = "crn:v1:bluemix:public:cloud-object-storage::::serviceRole:ObjectReader";
    assert_int_equal(
        iam_engine_role_resolve(engine, ACCOUNT, "cloud-object-storage", object_reader, &display_name, &description),
        IAM_OK);
    assert_string_equal(display_name, "Object Reader");
    assert_string_equal(description, "Reads objects");
    const char *custom = "crn:v1:ibmcloud:public:iam-access-management::a/" ACCOUNT "::customRole:Putter";
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, "cloud-object-storage", custom, &display_name, NULL),
                     IAM_OK);
    assert_string_equal(display_name, "Object putter");
    assert_int_equal(iam_engine_role_resolve(engine, OTHER_ACCOUNT, "cloud-object-storage", custom, NULL, NULL),
                     IAM_ENOTFOUND);
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, "iam-identity", custom, NULL, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, NULL, custom, NULL, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, "nosuch", VIEWER, NULL, NULL), IAM_ENOTFOUND);
    assert_int_equal(iam_engine_role_resolve(engine, ACCOUNT, NULL, "crn:v1:bluemix:public:iam::::role:Owner", NULL,
                                             NULL),
                     IAM_ENOTFOUND);
    iam_engine_free(engine);
    iam_arena_free(arena);
}

static const json_t *role_named(const json_t *roles, const char *display_name)
{
    size_t index;
    const json_t *role;
    json_array_foreach(roles, index, role)
        if (strcmp(json_string_value(json_object_get(role, "display_name")), display_name) == 0)
            return role;
    return NULL;
}

static void roles_for_service_lists_system_and_service_roles(void **state)
{
    (void)state;
    struct iam_arena *arena = iam_arena_new();
    struct iam_engine *engine = registry_engine(arena);
    json_t *all = iam_engine_roles_for_service(engine, "alliamserviceroles");
    assert_non_null(all);
    assert_int_equal(json_array_size(json_object_get(all, "system_roles")), 4);
    assert_int_equal(json_array_size(json_object_get(all, "service_roles")), 3);
    const json_t *admin = role_named(json_object_get(all, "system_roles"), "Administrator");
    assert_non_null(admin);
    assert_string_equal(json_string_value(json_object_get(admin, "crn")), ADMINISTRATOR);
    assert_true(json_array_has(json_object_get(admin, "actions"), "iam.policy.create"));
    assert_true(json_array_has(json_object_get(admin, "actions"), "iam.role.assign"));
    const json_t *viewer = role_named(json_object_get(all, "system_roles"), "Viewer");
    assert_true(json_array_has(json_object_get(viewer, "actions"), "iam.policy.read"));
    assert_false(json_array_has(json_object_get(viewer, "actions"), "iam.policy.create"));
    assert_non_null(role_named(json_object_get(all, "service_roles"), "Manager"));
    json_decref(all);
    json_t *same = iam_engine_roles_for_service(engine, NULL);
    assert_int_equal(json_array_size(json_object_get(same, "system_roles")), 4);
    json_decref(same);

    json_t *identity = iam_engine_roles_for_service(engine, "iam-identity");
    assert_non_null(identity);
    assert_int_equal(json_array_size(json_object_get(identity, "system_roles")), 4);
    const json_t *creator = role_named(json_object_get(identity, "service_roles"), "Service ID creator");
    assert_non_null(creator);
    assert_string_equal(json_string_value(json_object_get(creator, "crn")),
                        "crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator");
    assert_true(json_array_has(json_object_get(creator, "actions"), IAM_ACTION_SERVICEID_CREATE));
    const json_t *operator_role = role_named(json_object_get(identity, "system_roles"), "Operator");
    assert_true(json_array_has(json_object_get(operator_role, "actions"), IAM_ACTION_APIKEY_CREATE));
    assert_true(json_array_has(json_object_get(operator_role, "actions"), "iam.policy.read"));
    assert_false(json_array_has(json_object_get(operator_role, "actions"), "iam.policy.create"));
    json_decref(identity);

    json_t *cos = iam_engine_roles_for_service(engine, "cloud-object-storage");
    assert_non_null(cos);
    const json_t *writer = role_named(json_object_get(cos, "service_roles"), "Writer");
    assert_non_null(writer);
    assert_int_equal(json_array_size(json_object_get(writer, "actions")), 2); /* kms.key.read is not COS's */
    assert_non_null(role_named(json_object_get(cos, "service_roles"), "Object Reader"));
    assert_null(role_named(json_object_get(cos, "service_roles"), "Manager"));
    const json_t *cos_admin = role_named(json_object_get(cos, "system_roles"), "Administrator");
    assert_int_equal(json_array_size(json_object_get(cos_admin, "actions")), 6);
    json_decref(cos);
    assert_null(iam_engine_roles_for_service(engine, "nosuch"));
    iam_engine_free(engine);
    iam_arena_free(arena);
}

/* ------------------------------------------------------------ requests */

static void malformed_requests_are_einval(void **state)
{
    (void)state;
    struct iam_access_snapshot empty = {0};
    struct iam_engine *engine = engine_from(&empty);
    struct iam_engine_decision decision;
    struct iam_engine_request request = {.account_id = ACCOUNT, .subject_iam_id = SID, .action = NULL, .now = NOW};
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_EINVAL);
    request.action = IAM_ACTION_SERVICEID_READ;
    request.account_id = NULL;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_EINVAL);
    assert_false(decision.permitted);
    request.account_id = ACCOUNT;
    request.subject_iam_id = NULL;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_EINVAL);
    request.subject_iam_id = SID;
    struct iam_engine_attribute many[ENGINE_MAX_REQUEST_ATTRIBUTES + 1];
    for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
        many[i] = (struct iam_engine_attribute){"resource", "x"};
    request.resource = many;
    request.resource_count = ENGINE_MAX_REQUEST_ATTRIBUTES + 1;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_EINVAL);
    request.resource_count = ENGINE_MAX_REQUEST_ATTRIBUTES;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_OK);
    char *long_value = calloc(ENGINE_MAX_VALUE_LENGTH + 2, 1);
    assert_non_null(long_value);
    memset(long_value, 'x', ENGINE_MAX_VALUE_LENGTH);
    struct iam_engine_attribute long_resource[] = {{"resource", long_value}};
    request.resource = long_resource;
    request.resource_count = 1;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_OK);
    long_value[ENGINE_MAX_VALUE_LENGTH] = 'x';
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_EINVAL);
    free(long_value);
    struct iam_engine_attribute null_value[] = {{"serviceName", NULL}};
    request.resource = null_value;
    request.resource_count = 1;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_EINVAL);
    struct iam_engine_attribute two_services[] = {{"serviceName", "iam-identity"}, {"serviceName", "iam-groups"}};
    request.resource = two_services;
    request.resource_count = 2;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_EINVAL);
    request.resource = NULL;
    request.resource_count = 1;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_EINVAL);
    assert_int_equal(iam_engine_decide(NULL, &request, &decision), IAM_EINVAL);
    struct iam_arena *arena = iam_arena_new();
    struct iam_engine_evaluation evaluation;
    assert_int_equal(iam_engine_evaluate(engine, arena, &request, &evaluation), IAM_EINVAL);
    json_t *explanation = iam_engine_explain(engine, arena, &request);
    assert_non_null(explanation);
    assert_true(json_is_false(json_object_get(explanation, "permitted")));
    assert_non_null(json_object_get(explanation, "error"));
    json_decref(explanation);
    iam_arena_free(arena);
    /* refreshing an engine without a store is a no-op */
    assert_int_equal(iam_engine_refresh(engine, true), IAM_OK);
    iam_engine_free(engine);
}

/* --------------------------------------------------------------- globs */

static bool glob(const char *pattern, const char *text)
{
    struct iam_arena *arena = iam_arena_new();
    struct engine_glob compiled;
    assert_int_equal(engine_glob_compile(arena, pattern, &compiled), IAM_OK);
    bool matched = engine_glob_match(&compiled, text, strlen(text));
    iam_arena_free(arena);
    return matched;
}

static void globs_match_as_ibm_documents(void **state)
{
    (void)state;
    assert_true(glob("*", ""));
    assert_true(glob("*", "anything"));
    assert_true(glob("", ""));
    assert_false(glob("", "x"));
    assert_true(glob("dev*", "dev"));
    assert_true(glob("dev*", "development"));
    assert_false(glob("dev*", "de"));
    assert_true(glob("*-prod", "eu-prod"));
    assert_false(glob("*-prod", "eu-prod-2"));
    assert_true(glob("a*b*c", "aXbYc"));
    assert_true(glob("a*b*c", "abc"));
    assert_true(glob("a*b*c", "abbbcbc"));
    assert_false(glob("a*b*c", "acb"));
    assert_true(glob("*aab", "aaaab")); /* needs backtracking */
    assert_true(glob("**x", "yx"));
    assert_true(glob("?", "a"));
    assert_false(glob("?", ""));
    assert_false(glob("?", "ab"));
    assert_true(glob("?", "\xc3\xa9"));  /* one character, two bytes */
    assert_true(glob("a?c", "a\xe2\x82\xac" "c")); /* a, euro sign, c */
    assert_false(glob("a??c", "a\xe2\x82\xac" "c"));
    assert_true(glob("{{*}}", "*"));
    assert_false(glob("{{*}}", "x"));
    assert_true(glob("{{?}}x?", "?xy"));
    assert_false(glob("{{?}}x?", "axy"));
    assert_true(glob("a{{*}}*", "a*bc"));
    assert_false(glob("a{{*}}*", "abc"));
    assert_true(glob("{{", "{{"));
    assert_true(glob("{{x}}", "{{x}}"));
    assert_true(glob("path/*/file?.txt", "path/a/b/file1.txt"));
    /* a pattern without wildcards is plain text after unescaping */
    struct iam_arena *arena = iam_arena_new();
    struct engine_glob compiled;
    assert_int_equal(engine_glob_compile(arena, "x{{*}}y", &compiled), IAM_OK);
    assert_false(compiled.has_wildcard);
    assert_string_equal(compiled.literal, "x*y");
    iam_arena_free(arena);
}

static void condition_values_parse_strictly(void **state)
{
    (void)state;
    int64_t value = 0;
    int32_t offset = 0;
    assert_int_equal(engine_parse_time_of_day("09:30:15-05:00", &value, &offset), IAM_OK);
    assert_int_equal(value, 9 * 3600 + 30 * 60 + 15);
    assert_int_equal(offset, -5 * 3600);
    assert_int_equal(engine_parse_time_of_day("23:59", &value, &offset), IAM_OK);
    assert_int_equal(value, 23 * 3600 + 59 * 60);
    assert_int_equal(offset, 0);
    assert_int_equal(engine_parse_time_of_day("00:00:00Z", &value, &offset), IAM_OK);
    assert_int_equal(engine_parse_time_of_day("12:00:00+0530", &value, &offset), IAM_OK);
    assert_int_equal(offset, 5 * 3600 + 30 * 60);
    assert_int_equal(engine_parse_time_of_day("24:00:00", &value, &offset), IAM_EINVAL);
    assert_int_equal(engine_parse_time_of_day("9:00:00", &value, &offset), IAM_EINVAL);
    assert_int_equal(engine_parse_time_of_day("09:00:00+", &value, &offset), IAM_EINVAL);
    assert_int_equal(engine_parse_time_of_day("09:00:00 ", &value, &offset), IAM_EINVAL);
    assert_int_equal(engine_parse_date("1970-01-01", &value, &offset), IAM_OK);
    assert_int_equal(value, 0);
    assert_int_equal(engine_parse_date("2025-06-02", &value, &offset), IAM_OK);
    assert_int_equal(value, NOW / 86400);
    assert_int_equal(engine_parse_date("2024-02-29+02:00", &value, &offset), IAM_OK);
    assert_int_equal(offset, 7200);
    assert_int_equal(engine_parse_date("2025-02-29", &value, &offset), IAM_EINVAL);
    assert_int_equal(engine_parse_date("2025-13-01", &value, &offset), IAM_EINVAL);
    assert_int_equal(engine_parse_date("2025-06-02T00:00:00", &value, &offset), IAM_EINVAL);
    struct engine_day day;
    assert_int_equal(engine_parse_day_of_week("1", &day), IAM_OK);
    assert_int_equal(day.day, 1);
    assert_int_equal(day.offset, 0);
    assert_int_equal(engine_parse_day_of_week("7+09:00", &day), IAM_OK);
    assert_int_equal(day.day, 7);
    assert_int_equal(day.offset, 9 * 3600);
    assert_int_equal(engine_parse_day_of_week("0", &day), IAM_EINVAL);
    assert_int_equal(engine_parse_day_of_week("8", &day), IAM_EINVAL);
    assert_int_equal(engine_parse_day_of_week("12", &day), IAM_EINVAL);
}

/* ------------------------------------------------------ evaluate, explain */

static struct iam_engine *group_engine(struct iam_arena *arena)
{
    struct iam_policy_record *policies = iam_arena_alloc(arena, 4 * sizeof *policies);
    policies[0] = make_policy(arena, "direct", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringEquals','value':'iam-identity'}", OPERATOR, NULL);
    policies[1] = make_policy(arena, "via-group", ACCOUNT, "access_group_id", GROUP,
                              "{'key':'serviceType','operator':'stringEquals','value':'platform_service'}", VIEWER,
                              NULL);
    policies[2] = make_policy(arena, "public", ACCOUNT, "access_group_id", IAM_PUBLIC_ACCESS_GROUP,
                              "{'key':'serviceName','operator':'stringEquals','value':'iam-identity'},"
                              "{'key':'resourceType','operator':'stringEquals','value':'account'}",
                              ADMINISTRATOR, NULL);
    policies[3] = make_policy(arena, "elsewhere", OTHER_ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringEquals','value':'iam-identity'}", ADMINISTRATOR,
                              NULL);
    struct iam_group_member_record *members = iam_arena_alloc(arena, 2 * sizeof *members);
    members[0] = (struct iam_group_member_record){.group_id = GROUP, .account_id = ACCOUNT, .iam_id = SID};
    members[1] = members[0]; /* listed twice: counted once */
    struct iam_access_snapshot snapshot = {
        .policies = policies, .policy_count = 4, .members = members, .member_count = 2, .revision = 3};
    return engine_from(&snapshot);
}

static void evaluate_gives_obligation_and_grants(void **state)
{
    (void)state;
    struct iam_arena *arena = iam_arena_new();
    struct iam_engine *engine = group_engine(arena);
    struct iam_engine_attribute attributes[] = {{"serviceName", "iam-identity"}};
    struct iam_engine_request request = {.account_id = ACCOUNT,
                                         .subject_iam_id = SID,
                                         .action = NULL,
                                         .resource = attributes,
                                         .resource_count = 1,
                                         .now = NOW};
    struct iam_engine_evaluation evaluation;
    assert_int_equal(iam_engine_evaluate(engine, arena, &request, &evaluation), IAM_OK);
    assert_true(evaluation.permitted);
    assert_int_equal(evaluation.group_count, 2);
    assert_string_equal(evaluation.groups[0], GROUP);
    assert_string_equal(evaluation.groups[1], IAM_PUBLIC_ACCESS_GROUP);
    assert_int_equal(evaluation.grant_count, 2); /* direct Operator, Viewer via the group; not the public one */
    bool saw_direct = false, saw_group = false;
    for (size_t i = 0; i < evaluation.grant_count; i++) {
        const struct iam_engine_role_grant *grant = &evaluation.grants[i];
        assert_true(grant->platform);
        if (strcmp(grant->policy_id, "direct") == 0) {
            saw_direct = true;
            assert_null(grant->via_group_id);
            assert_string_equal(grant->role_crn, OPERATOR);
            assert_string_equal(grant->display_name, "Operator");
        } else {
            saw_group = true;
            assert_string_equal(grant->policy_id, "via-group");
            assert_string_equal(grant->via_group_id, GROUP);
            assert_string_equal(grant->role_crn, VIEWER);
        }
    }
    assert_true(saw_direct && saw_group);
    bool create = false, read = false, manage = false;
    for (size_t i = 0; i < evaluation.action_count; i++) {
        create = create || strcmp(evaluation.actions[i], IAM_ACTION_APIKEY_CREATE) == 0;
        read = read || strcmp(evaluation.actions[i], IAM_ACTION_POLICY_READ) == 0;
        manage = manage || strcmp(evaluation.actions[i], IAM_ACTION_APIKEY_MANAGE) == 0;
    }
    assert_true(create && read);
    assert_false(manage);

    /* the public-access policy adds Administrator on the account settings resource */
    struct iam_engine_attribute account_resource[] = {{"serviceName", "iam-identity"}, {"resourceType", "account"}};
    request.resource = account_resource;
    request.resource_count = 2;
    request.action = IAM_ACTION_APIKEY_MANAGE;
    assert_int_equal(iam_engine_evaluate(engine, arena, &request, &evaluation), IAM_OK);
    assert_true(evaluation.permitted);
    assert_int_equal(evaluation.grant_count, 3);
    assert_string_equal(evaluation.grants[2].via_group_id, IAM_PUBLIC_ACCESS_GROUP);

    /* another account's policies never count, and the subject has no groups there */
    request.account_id = OTHER_ACCOUNT;
    request.action = IAM_ACTION_APIKEY_CREATE;
    struct iam_engine_decision decision;
    assert_int_equal(iam_engine_decide(engine, &request, &decision), IAM_OK);
    assert_true(decision.permitted);
    assert_string_equal(decision.policy_id, "elsewhere");
    assert_int_equal(iam_engine_evaluate(engine, arena, &request, &evaluation), IAM_OK);
    assert_int_equal(evaluation.group_count, 1);
    assert_int_equal(evaluation.grant_count, 1);

    /* an unknown service: nothing held, not an error */
    struct iam_engine_attribute unknown[] = {{"serviceName", "nosuch"}};
    request.account_id = ACCOUNT;
    request.action = NULL;
    request.resource = unknown;
    request.resource_count = 1;
    assert_int_equal(iam_engine_evaluate(engine, arena, &request, &evaluation), IAM_OK);
    assert_false(evaluation.permitted);
    assert_int_equal(evaluation.action_count, 0);
    iam_engine_free(engine);
    iam_arena_free(arena);
}

static const json_t *first_miss(const json_t *explanation)
{
    return json_array_get(json_object_get(explanation, "near_misses"), 0);
}

static bool reasons_contain(const json_t *miss, const char *text)
{
    size_t index;
    const json_t *reason;
    json_array_foreach(json_object_get(miss, "missing"), index, reason)
        if (strstr(json_string_value(reason), text))
            return true;
    return false;
}

static void explain_names_what_differs(void **state)
{
    (void)state;
    struct iam_arena *arena = iam_arena_new();
    struct iam_policy_record policies[14];
    policies[0] = make_policy(arena, "instance-a", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringEquals','value':'iam-identity'},"
                              "{'key':'serviceInstance','operator':'stringEquals','value':'a'}",
                              ADMINISTRATOR, NULL);
    policies[1] = make_policy(arena, "viewer", ACCOUNT, "access_group_id", GROUP,
                              "{'key':'serviceName','operator':'stringEquals','value':'iam-identity'}", VIEWER, NULL);
    policies[2] = make_policy(
        arena, "expired", ACCOUNT, "iam_id", SID,
        "{'key':'serviceName','operator':'stringEquals','value':'iam-identity'}", ADMINISTRATOR,
        ",'pattern':'time-based-conditions:once','rule':{'operator':'and','conditions':["
        "{'key':'{{environment.attributes.current_date_time}}','operator':'dateTimeGreaterThanOrEquals','value':'2022-"
        "12-23T00:00:00+00:00'},"
        "{'key':'{{environment.attributes.current_date_time}}','operator':'dateTimeLessThanOrEquals','value':'2022-12-"
        "23T23:59:59+00:00'}]}");
    policies[3] = make_policy(arena, "broken", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceInstance','operator':'stringEqualsAnyOf','value':['1','2','3','4','5',"
                              "'6','7','8','9','10','11']}",
                              ADMINISTRATOR, NULL);
    policies[4] = make_policy(arena, "far", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringEquals','value':'iam-groups'},"
                              "{'key':'resourceType','operator':'stringExists','value':true},"
                              "{'key':'resourceGroupId','operator':'stringMatch','value':'rg-*'}",
                              VIEWER, NULL);
    for (int i = 5; i < 14; i++)
        policies[i] = make_policy(arena, iam_arena_printf(arena, "filler-%d", i), ACCOUNT, "iam_id", SID,
                                  "{'key':'serviceName','operator':'stringEquals','value':'user-management'},"
                                  "{'key':'resource','operator':'stringEquals','value':'x'}",
                                  VIEWER, NULL);
    struct iam_group_member_record members[] = {{.group_id = GROUP, .account_id = ACCOUNT, .iam_id = SID}};
    struct iam_access_snapshot snapshot = {.policies = policies, .policy_count = 14, .members = members,
                                           .member_count = 1};
    struct iam_engine *engine = engine_from(&snapshot);
    struct iam_engine_attribute attributes[] = {{"serviceInstance", "b"}};
    struct iam_engine_request request = {.account_id = ACCOUNT,
                                         .subject_iam_id = SID,
                                         .action = IAM_ACTION_APIKEY_CREATE,
                                         .resource = attributes,
                                         .resource_count = 1,
                                         .now = NOW};
    json_t *explanation = iam_engine_explain(engine, arena, &request);
    assert_non_null(explanation);
    assert_true(json_is_false(json_object_get(explanation, "permitted")));
    assert_string_equal(json_string_value(json_object_get(explanation, "action")), IAM_ACTION_APIKEY_CREATE);
    const json_t *subject = json_object_get(explanation, "subject");
    assert_string_equal(json_string_value(json_object_get(subject, "iam_id")), SID);
    assert_true(json_array_has(json_object_get(subject, "groups"), GROUP));
    assert_true(json_array_has(json_object_get(subject, "groups"), IAM_PUBLIC_ACCESS_GROUP));
    assert_int_equal(json_array_size(json_object_get(explanation, "granted_by")), 0);
    const json_t *misses = json_object_get(explanation, "near_misses");
    assert_int_equal(json_array_size(misses), ENGINE_NEAR_MISS_LIMIT);
    /* nearest first: one thing missing each, in the order found */
    const json_t *nearest = first_miss(explanation);
    size_t previous = 0;
    size_t index;
    const json_t *miss;
    json_array_foreach(misses, index, miss)
    {
        size_t missing = json_array_size(json_object_get(miss, "missing"));
        assert_true(missing >= previous);
        previous = missing;
    }
    bool saw_instance = false, saw_roles = false, saw_expired = false, saw_broken = false;
    json_array_foreach(misses, index, miss)
    {
        const char *id = json_string_value(json_object_get(miss, "policy_id"));
        if (strcmp(id, "instance-a") == 0) {
            saw_instance = true;
            assert_true(reasons_contain(miss, "resource attribute serviceInstance is 'b', policy requires "
                                              "stringEquals 'a'"));
            assert_int_equal(json_array_size(json_object_get(miss, "missing")), 1);
        } else if (strcmp(id, "viewer") == 0) {
            saw_roles = true;
            assert_string_equal(json_string_value(json_object_get(miss, "via_group_id")), GROUP);
            assert_true(reasons_contain(miss, "roles Viewer grant 7 actions on iam-identity but not "
                                              "iam-identity.apikey.create"));
        } else if (strcmp(id, "expired") == 0) {
            saw_expired = true;
            assert_true(reasons_contain(miss, "condition dateTimeLessThanOrEquals 2022-12-23T23:59:59+00:00 does not "
                                              "hold at 2025-06-02T10:00:00Z"));
            assert_false(reasons_contain(miss, "dateTimeGreaterThanOrEquals"));
        } else if (strcmp(id, "broken") == 0) {
            saw_broken = true;
            assert_true(reasons_contain(miss, "cannot be evaluated"));
        }
        assert_null(json_object_get(miss, "roles"));
    }
    assert_true(saw_instance && saw_roles && saw_expired && saw_broken);
    assert_int_equal(json_array_size(json_object_get(nearest, "missing")), 1);
    json_decref(explanation);

    /* a permitted request names the granting policy and role */
    attributes[0].value = "a";
    explanation = iam_engine_explain(engine, arena, &request);
    assert_true(json_is_true(json_object_get(explanation, "permitted")));
    const json_t *granted = json_array_get(json_object_get(explanation, "granted_by"), 0);
    assert_string_equal(json_string_value(json_object_get(granted, "policy_id")), "instance-a");
    assert_true(json_array_has(json_object_get(granted, "roles"), ADMINISTRATOR));
    assert_null(json_object_get(granted, "via_group_id"));
    json_decref(explanation);

    /* the far policy lists each of its differences */
    request.action = "iam-groups.groups.read";
    explanation = iam_engine_explain(engine, arena, &request);
    json_array_foreach(json_object_get(explanation, "near_misses"), index, miss)
    {
        if (strcmp(json_string_value(json_object_get(miss, "policy_id")), "far") != 0)
            continue;
        assert_true(reasons_contain(miss, "resource attribute resourceType is absent, policy requires stringExists "
                                          "true"));
        assert_true(reasons_contain(miss, "resource attribute resourceGroupId is absent, policy requires stringMatch "
                                          "'rg-*'"));
    }
    json_decref(explanation);

    /* unknown actions and services are named */
    request.action = "iam-identity.serviceid.fly";
    explanation = iam_engine_explain(engine, arena, &request);
    assert_true(reasons_contain(first_miss(explanation), "action iam-identity.serviceid.fly is not defined by "
                                                         "service iam-identity"));
    json_decref(explanation);
    request.action = "nosuch.thing.read";
    explanation = iam_engine_explain(engine, arena, &request);
    assert_true(reasons_contain(first_miss(explanation), "service nosuch is not registered"));
    json_decref(explanation);
    iam_engine_free(engine);
    iam_arena_free(arena);
}

static void bad_policies_deny_without_hiding_good_ones(void **state)
{
    (void)state;
    struct iam_arena *arena = iam_arena_new();
    struct iam_policy_record policies[7];
    policies[0] = make_policy(arena, "good", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringEquals','value':'iam-groups'}", VIEWER, NULL);
    policies[1] = make_policy(arena, "unknown-operator", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringContains','value':'iam'}", ADMINISTRATOR, NULL);
    policies[2] = make_policy(arena, "bad-rule", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringEquals','value':'iam-identity'}", ADMINISTRATOR,
                              ",'rule':{'key':'{{environment.attributes.current_time}}','operator':'timeLessThan',"
                              "'value':'25:00:00'}");
    policies[3] = make_policy(arena, "unknown-role", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringEquals','value':'iam-access-management'}",
                              "crn:v1:bluemix:public:iam::::role:Owner", NULL);
    policies[4] = (struct iam_policy_record){.id = "not-json",
                                             .account_id = ACCOUNT,
                                             .type = "access",
                                             .subject_kind = "iam_id",
                                             .subject_value = SID,
                                             .state = "active",
                                             .document = "{\"type\":"};
    policies[5] = make_policy(arena, "deleted", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringEquals','value':'user-management'}",
                              ADMINISTRATOR, NULL);
    policies[5].state = "deleted";
    policies[6] = make_policy(arena, "authorization", ACCOUNT, "iam_id", SID,
                              "{'key':'serviceName','operator':'stringEquals','value':'user-management'}",
                              ADMINISTRATOR, NULL);
    policies[6].type = "authorization";
    policies[6].document = iam_arena_printf(arena, "%s", policies[6].document);
    memcpy(strstr((char *)policies[6].document, "\"access\""), "\"author\"", 8); /* a type the engine skips */
    struct iam_access_snapshot snapshot = {.policies = policies, .policy_count = 7};
    struct iam_engine *engine = engine_from(&snapshot);
    assert_true(decide(engine, ACCOUNT, SID, IAM_ACTION_GROUP_READ, NULL, 0));
    assert_false(decide(engine, ACCOUNT, SID, IAM_ACTION_GROUP_CREATE, NULL, 0));
    assert_false(decide(engine, ACCOUNT, SID, IAM_ACTION_SERVICEID_READ, NULL, 0));
    assert_false(decide(engine, ACCOUNT, SID, IAM_ACTION_ROLE_READ, NULL, 0));
    assert_false(decide(engine, ACCOUNT, SID, IAM_ACTION_USER_READ, NULL, 0));
    json_t *explanation = iam_engine_explain(
        engine, arena,
        &(struct iam_engine_request){
            .account_id = ACCOUNT, .subject_iam_id = SID, .action = IAM_ACTION_SERVICEID_READ, .now = NOW});
    char *text = json_dumps(explanation, JSON_COMPACT);
    assert_non_null(strstr(text, "operator stringContains is not supported"));
    assert_non_null(strstr(text, "has a malformed value"));
    assert_non_null(strstr(text, "not valid JSON"));
    assert_non_null(strstr(text, "crn:v1:bluemix:public:iam::::role:Owner (not defined)"));
    assert_null(strstr(text, "\"deleted\""));
    free(text);
    json_decref(explanation);
    iam_engine_free(engine);
    iam_arena_free(arena);
}

static void v1_shaped_attributes_and_omitted_operators_are_read(void **state)
{
    (void)state;
    const char *document =
        "{\"type\":\"access\",\"subject\":{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"" SID "\"}]},"
        "\"resource\":{\"attributes\":[{\"name\":\"accountId\",\"value\":\"" ACCOUNT "\"},"
        "{\"name\":\"serviceName\",\"value\":\"iam-identity\"},{\"name\":\"resourceType\",\"value\":\"serviceid\"}]},"
        "\"control\":{\"grant\":{\"roles\":[{\"role_id\":\"" OPERATOR "\"}]}}}";
    struct iam_policy_record policy = {
        .id = "v1", .account_id = ACCOUNT, .type = "access", .state = "active", .document = document};
    struct iam_access_snapshot snapshot = {.policies = &policy, .policy_count = 1};
    struct iam_engine *engine = engine_from(&snapshot);
    struct iam_engine_attribute serviceid[] = {{"resourceType", "serviceid"}, {"resource", "ServiceId-1"}};
    struct iam_engine_attribute apikey[] = {{"resourceType", "apikey"}};
    assert_true(decide(engine, ACCOUNT, SID, IAM_ACTION_APIKEY_CREATE, serviceid, 2));
    assert_false(decide(engine, ACCOUNT, SID, IAM_ACTION_APIKEY_CREATE, apikey, 1));
    /* a caller cannot widen its resource by naming the account or the service type itself */
    struct iam_engine_attribute spoofed[] = {{"accountId", ACCOUNT}, {"resourceType", "serviceid"}};
    assert_false(decide(engine, OTHER_ACCOUNT, SID, IAM_ACTION_APIKEY_CREATE, spoofed, 2));
    iam_engine_free(engine);
}

static void many_services_and_policies_per_subject(void **state)
{
    (void)state;
    struct iam_arena *arena = iam_arena_new();
    enum { SERVICES = 40, PER_SERVICE = 25 };
    struct iam_service_def_record services[SERVICES];
    struct iam_policy_record *policies = iam_arena_alloc(arena, SERVICES * PER_SERVICE * sizeof *policies);
    size_t count = 0;
    for (int s = 0; s < SERVICES; s++) {
        services[s] = (struct iam_service_def_record){
            .name = iam_arena_printf(arena, "svc%02d", s),
            .document = iam_arena_printf(arena,
                                         "{\"name\":\"svc%02d\",\"actions\":[{\"id\":\"svc%02d.a.read\"},"
                                         "{\"id\":\"svc%02d.a.write\"}],\"roles\":{\"Reader\":[\"svc%02d.a.read\"],"
                                         "\"Writer\":[\"svc%02d.a.read\",\"svc%02d.a.write\"]}}",
                                         s, s, s, s, s, s)};
        for (int p = 0; p < PER_SERVICE; p++) {
            char *attributes = iam_arena_printf(arena,
                                                "{'key':'serviceName','operator':'stringEquals','value':'svc%02d'},"
                                                "{'key':'serviceInstance','operator':'stringEquals','value':'i%d'}",
                                                s, p);
            policies[count] = make_policy(arena, iam_arena_printf(arena, "p-%d-%d", s, p), ACCOUNT, "iam_id", SID,
                                          attributes, (s + p) % 2 ? WRITER : READER, NULL);
            count++;
        }
    }
    struct iam_access_snapshot snapshot = {
        .policies = policies, .policy_count = count, .services = services, .service_count = SERVICES};
    struct iam_engine *engine = engine_from(&snapshot);
    for (int s = 0; s < SERVICES; s++)
        for (int p = 0; p < PER_SERVICE; p++) {
            char service[16], instance[16], read[32], write[32];
            snprintf(service, sizeof service, "svc%02d", s);
            snprintf(instance, sizeof instance, "i%d", p);
            snprintf(read, sizeof read, "svc%02d.a.read", s);
            snprintf(write, sizeof write, "svc%02d.a.write", s);
            struct iam_engine_attribute attributes[] = {{"serviceName", service}, {"serviceInstance", instance}};
            assert_true(decide(engine, ACCOUNT, SID, read, attributes, 2));
            assert_true(decide(engine, ACCOUNT, SID, write, attributes, 2) == ((s + p) % 2 == 1));
            attributes[1].value = "elsewhere";
            assert_false(decide(engine, ACCOUNT, SID, read, attributes, 2));
        }
    iam_engine_free(engine);
    iam_arena_free(arena);
}

/* ----------------------------------------------------- snapshot swapping */

struct reader_state {
    struct iam_engine *engine;
    atomic_bool stop;
    atomic_long decisions;
    atomic_long inconsistent;
};

static void *reader_thread(void *argument)
{
    struct reader_state *reader = argument;
    struct iam_engine_request request = {
        .account_id = ACCOUNT, .subject_iam_id = SID, .action = IAM_ACTION_GROUP_READ, .now = NOW};
    while (!atomic_load(&reader->stop)) {
        struct iam_engine_decision decision;
        if (iam_engine_decide(reader->engine, &request, &decision) != IAM_OK) {
            atomic_fetch_add(&reader->inconsistent, 1);
            continue;
        }
        /* either snapshot is fine, but a permit always names a live policy id */
        if (decision.permitted && strncmp(decision.policy_id, "gen-", 4) != 0)
            atomic_fetch_add(&reader->inconsistent, 1);
        atomic_fetch_add(&reader->decisions, 1);
    }
    return NULL;
}

static void snapshots_swap_under_readers(void **state)
{
    (void)state;
    struct iam_arena *arena = iam_arena_new();
    struct iam_policy_record permit = make_policy(
        arena, "gen-permit", ACCOUNT, "iam_id", SID,
        "{'key':'serviceName','operator':'stringEquals','value':'iam-groups'}", VIEWER, NULL);
    struct iam_access_snapshot granting = {.policies = &permit, .policy_count = 1, .revision = 1};
    struct iam_access_snapshot empty = {.revision = 2};
    struct reader_state reader = {.engine = engine_from(&granting)};
    atomic_init(&reader.stop, false);
    atomic_init(&reader.decisions, 0);
    atomic_init(&reader.inconsistent, 0);
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, reader_thread, &reader), 0);
    struct iam_error err;
    for (int i = 0; i < 200; i++) {
        granting.revision = 2 * i + 1;
        empty.revision = 2 * i + 2;
        assert_int_equal(engine_replace(reader.engine, i % 2 ? &granting : &empty, &err), IAM_OK);
        assert_int_equal(iam_engine_revision(reader.engine), i % 2 ? 2 * i + 1 : 2 * i + 2);
        assert_true(decide(reader.engine, ACCOUNT, SID, IAM_ACTION_GROUP_READ, NULL, 0) == (i % 2 == 1));
    }
    atomic_store(&reader.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&reader.inconsistent), 0);
    assert_true(atomic_load(&reader.decisions) > 0);
    iam_engine_free(reader.engine);
    iam_arena_free(arena);
}

/* ------------------------------------------------------ refresh from a store */

static void store_policy(struct iam_store *store, struct iam_arena *arena, const char *id, const char *kind,
                         const char *subject, const char *service, const char *role)
{
    struct iam_policy_record policy =
        make_policy(arena, id, ACCOUNT, kind, subject,
                    iam_arena_printf(arena, "{'key':'serviceName','operator':'stringEquals','value':'%s'}", service),
                    role, NULL);
    policy.service_name = service;
    policy.entity_tag = "1-00000000000000000000000000000000";
    policy.created_at_ms = 1700000000000;
    policy.modified_at_ms = 1700000000000;
    assert_int_equal(iam_store_policy_insert(store, &policy), IAM_OK);
}

/* A database restored from an older backup: the revision goes back, and the engine must follow it. */
static void engine_follows_a_revision_that_goes_back(void **state)
{
    (void)state;
    char dir[] = "/tmp/iamd-engine-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/iamd.db", dir);
    struct iam_store *store = NULL;
    struct iam_error err;
    assert_int_equal(iam_store_open(path, &store, &err), IAM_OK);
    struct iam_account_record account = {.id = ACCOUNT, .name = "test", .owner_iam_id = "IBMid-OWNER00001",
                                         .state = "ACTIVE", .created_at = 1700000000, .modified_at = 1700000000};
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
    struct iam_engine *engine = NULL;
    assert_int_equal(iam_engine_new(store, &engine, &err), IAM_OK);
    int64_t revision = iam_engine_revision(engine);
    int64_t serial = iam_engine_snapshot_serial(engine);
    assert_true(revision > 0);
    assert_int_equal(iam_engine_refresh(engine, false), IAM_OK); /* nothing moved: same snapshot */
    assert_int_equal(iam_engine_snapshot_serial(engine), serial);

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE revision SET value = value - 1 WHERE id = 1", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(iam_engine_refresh(engine, false), IAM_OK);
    assert_int_equal(iam_engine_revision(engine), revision - 1);
    assert_true(iam_engine_snapshot_serial(engine) != serial);
    /* Forward again to the old number: a new snapshot, a new serial (caches tagged before do not revive). */
    int64_t restored_serial = iam_engine_snapshot_serial(engine);
    assert_int_equal(iam_store_account_insert(store, &(struct iam_account_record){
                                                         .id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", .name = "b",
                                                         .owner_iam_id = "IBMid-OWNER00002", .state = "ACTIVE",
                                                         .created_at = 1700000000, .modified_at = 1700000000}),
                     IAM_OK);
    assert_int_equal(iam_engine_refresh(engine, false), IAM_OK);
    assert_int_equal(iam_engine_revision(engine), revision);
    assert_true(iam_engine_snapshot_serial(engine) != serial);
    assert_true(iam_engine_snapshot_serial(engine) != restored_serial);
    assert_true(iam_engine_account_owner(engine, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "IBMid-OWNER00002"));
    iam_engine_free(engine);
    iam_store_close(store);
    char command[64];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    assert_int_equal(system(command), 0);
}

static void engine_refreshes_when_the_store_moves(void **state)
{
    (void)state;
    char dir[] = "/tmp/iamd-engine-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/iamd.db", dir);
    struct iam_store *store = NULL;
    struct iam_error err;
    assert_int_equal(iam_store_open(path, &store, &err), IAM_OK);
    struct iam_arena *arena = iam_arena_new();
    struct iam_account_record account = {.id = ACCOUNT, .name = "test", .owner_iam_id = "IBMid-OWNER00001",
                                         .state = "ACTIVE", .created_at = 1700000000, .modified_at = 1700000000};
    assert_int_equal(iam_store_account_insert(store, &account), IAM_OK);
    store_policy(store, arena, "11111111-0000-4000-8000-000000000001", "iam_id", SID, "iam-groups", VIEWER);

    struct iam_engine *engine = NULL;
    assert_int_equal(iam_engine_new(store, &engine, &err), IAM_OK);
    int64_t revision = 0;
    assert_int_equal(iam_store_revision(store, &revision), IAM_OK);
    assert_int_equal(iam_engine_revision(engine), revision);
    assert_true(decide(engine, ACCOUNT, SID, IAM_ACTION_GROUP_READ, NULL, 0));
    assert_false(decide(engine, ACCOUNT, SID, IAM_ACTION_GROUP_CREATE, NULL, 0));
    assert_int_equal(iam_engine_policy_count(engine), 1);
    assert_int_equal(iam_engine_policy_count(NULL), 0);

    /* a group, a membership and a group policy: visible after the refresh, not before */
    struct iam_group_record group = {.id = GROUP, .account_id = ACCOUNT, .name = "editors",
                                     .entity_tag = "1-00000000000000000000000000000000",
                                     .created_at_ms = 1700000000000, .modified_at_ms = 1700000000000};
    assert_int_equal(iam_store_group_insert(store, &group), IAM_OK);
    struct iam_group_member_record member = {.group_id = GROUP, .account_id = ACCOUNT, .iam_id = SID,
                                             .type = "service", .created_at_ms = 1700000000000};
    assert_int_equal(iam_store_member_add(store, &member), IAM_OK);
    store_policy(store, arena, "11111111-0000-4000-8000-000000000002", "access_group_id", GROUP, "iam-groups",
                 EDITOR);
    assert_false(decide(engine, ACCOUNT, SID, IAM_ACTION_GROUP_CREATE, NULL, 0));
    assert_int_equal(iam_engine_refresh(engine, false), IAM_OK);
    assert_true(iam_engine_revision(engine) > revision);
    assert_true(decide(engine, ACCOUNT, SID, IAM_ACTION_GROUP_CREATE, NULL, 0));
    assert_int_equal(iam_engine_policy_count(engine), 2);

    /* nothing moved: the same snapshot */
    revision = iam_engine_revision(engine);
    assert_int_equal(iam_engine_refresh(engine, false), IAM_OK);
    assert_int_equal(iam_engine_revision(engine), revision);
    assert_int_equal(iam_engine_refresh(engine, true), IAM_OK);
    assert_int_equal(iam_engine_revision(engine), revision);

    /* removing the membership takes the group's access away */
    assert_int_equal(iam_store_member_remove(store, ACCOUNT, GROUP, SID), IAM_OK);
    assert_int_equal(iam_engine_refresh(engine, false), IAM_OK);
    assert_false(decide(engine, ACCOUNT, SID, IAM_ACTION_GROUP_CREATE, NULL, 0));
    assert_true(decide(engine, ACCOUNT, SID, IAM_ACTION_GROUP_READ, NULL, 0));

    iam_engine_free(engine);
    iam_store_close(store);
    iam_arena_free(arena);
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        unlink(name);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_services_follow_the_reference_tables),
        cmocka_unit_test(every_named_action_is_defined),
        cmocka_unit_test(account_owners_come_from_the_snapshot),
        cmocka_unit_test(engines_without_a_store_are_always_current),
        cmocka_unit_test(registry_answers_services_actions_and_pdp_clients),
        cmocka_unit_test(roles_resolve_per_service_and_account),
        cmocka_unit_test(roles_for_service_lists_system_and_service_roles),
        cmocka_unit_test(malformed_requests_are_einval),
        cmocka_unit_test(globs_match_as_ibm_documents),
        cmocka_unit_test(condition_values_parse_strictly),
        cmocka_unit_test(evaluate_gives_obligation_and_grants),
        cmocka_unit_test(explain_names_what_differs),
        cmocka_unit_test(bad_policies_deny_without_hiding_good_ones),
        cmocka_unit_test(v1_shaped_attributes_and_omitted_operators_are_read),
        cmocka_unit_test(many_services_and_policies_per_subject),
        cmocka_unit_test(snapshots_swap_under_readers),
        cmocka_unit_test(engine_refreshes_when_the_store_moves),
        cmocka_unit_test(engine_follows_a_revision_that_goes_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
