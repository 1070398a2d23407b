/*
 * test_iam_policies.c: access policies (iam/policies.h) over a real SQLite
 * store and the real decision engine, in a mkdtemp directory: v1 <->
 * canonical <-> v2 conversion round trips, every validation refusal of the
 * reference (with nothing stored), locked subjects, conflict detection,
 * soft delete and restore, entity tags, list filtering by what the caller
 * may read, paging, and the v1 / v2 renderers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "iam/engine.h"
#include "iam/policies.h"
#include "store/store.h"
#include "store/store_access.h"
#include "support/service_fixture.h"

#define ACCOUNT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ACCOUNT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define OWNER_A "IBMid-AAAAAAAAAA"
#define USER_A2 "IBMid-AAAAAAAAA2"
#define OWNER_B "IBMid-BBBBBBBBBB"
#define SID "iam-ServiceId-11111111-1111-4111-8111-111111111111"
#define LOCKED_SID "iam-ServiceId-22222222-2222-4222-8222-222222222222"
#define GROUP "AccessGroupId-33333333-3333-4333-8333-333333333333"
#define COS "cloud-object-storage"
#define VIEWER "crn:v1:bluemix:public:iam::::role:Viewer"
#define ADMINISTRATOR "crn:v1:bluemix:public:iam::::role:Administrator"
#define READER "crn:v1:bluemix:public:iam::::serviceRole:Reader"
#define WRITER "crn:v1:bluemix:public:iam::::serviceRole:Writer"
#define OBJECT_READER "crn:v1:bluemix:public:cloud-object-storage::::serviceRole:ObjectReader"
#define SERVICE_ID_CREATOR "crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator"

static const char cos_definition[] =
    "{\"name\":\"cloud-object-storage\",\"display_name\":\"Cloud Object Storage\",\"service_type\":\"service\","
    "\"actions\":[\"cloud-object-storage.object.get\",\"cloud-object-storage.object.put\","
    "\"cloud-object-storage.bucket.list\",\"cloud-object-storage.bucket.create\"],"
    "\"roles\":{\"Reader\":[\"cloud-object-storage.object.get\",\"cloud-object-storage.bucket.list\"],"
    "\"Writer\":[\"cloud-object-storage.object.get\",\"cloud-object-storage.object.put\"],"
    "\"Manager\":[\"cloud-object-storage.object.get\",\"cloud-object-storage.object.put\","
    "\"cloud-object-storage.bucket.create\"],"
    "\"ObjectReader\":{\"display_name\":\"Object Reader\",\"description\":\"Reads objects\","
    "\"actions\":[\"cloud-object-storage.object.get\"]}},"
    "\"resource_types\":[\"bucket\",\"object\"],\"attributes\":[\"prefix\"]}";

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

static void insert_service_id(struct iam_store *store, const char *iam_id, bool locked)
{
    struct iam_service_id_record record = {.id = iam_id + 4, .iam_id = iam_id, .account_id = ACCOUNT_A,
                                           .name = "app", .unique_instance_crns = "[]", .created_by = OWNER_A,
                                           .entity_tag = "1-00000000000000000000000000000001", .locked = locked,
                                           .created_at = iam_now(), .modified_at = iam_now()};
    assert_int_equal(iam_store_service_id_insert(store, &record, NULL, NULL, 0), IAM_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    iam_log_set_level(IAM_LOG_ERROR);
    if (test_service_open(&f->service, f->directory, "policies", false) != IAM_OK)
        goto fail;
    f->service.options.public_url = "http://iam.example.test/";
    struct iam_error err;
    struct iam_store *store = f->service.store;
    f->arena = iam_arena_new();
    insert_account(store, ACCOUNT_A, OWNER_A, "a@example.com");
    insert_user(store, ACCOUNT_A, USER_A2, "a2@example.com");
    insert_account(store, ACCOUNT_B, OWNER_B, "b@example.com");
    insert_service_id(store, SID, false);
    insert_service_id(store, LOCKED_SID, true);
    struct iam_group_record group = {.id = GROUP, .account_id = ACCOUNT_A, .name = "devs",
                                     .entity_tag = "1-00000000000000000000000000000001", .created_by = OWNER_A,
                                     .modified_by = OWNER_A, .created_at_ms = iam_now_ms(),
                                     .modified_at_ms = iam_now_ms()};
    assert_int_equal(iam_store_group_insert(store, &group), IAM_OK);
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

/* --- helpers --- */

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, JSON_REJECT_DUPLICATES, &error);
    if (!value)
        fail_msg("bad test JSON at %d: %s: %s", error.position, error.text, text);
    return value;
}

/* A v1 body: subject iam_id, resource attributes (a JSON fragment) and roles (a JSON fragment). */
static json_t *v1_body(struct fixture *f, const char *subject_name, const char *subject_value,
                       const char *resource_attributes, const char *roles)
{
    const char *text = iam_arena_printf(
        f->arena,
        "{\"type\":\"access\",\"description\":\"test\",\"subjects\":[{\"attributes\":[{\"name\":\"%s\",\"value\":\"%s\"}]}],"
        "\"roles\":[%s],\"resources\":[{\"attributes\":[%s]}]}",
        subject_name, subject_value, roles, resource_attributes);
    return parse(text);
}

#define COS_RESOURCE                                                                                                   \
    "{\"name\":\"accountId\",\"value\":\"" ACCOUNT_A "\",\"operator\":\"stringEquals\"},"                              \
    "{\"name\":\"serviceName\",\"value\":\"" COS "\",\"operator\":\"stringEquals\"}"
#define ROLE(crn) "{\"role_id\":\"" crn "\"}"

static size_t count_policies(struct fixture *f, const char *account_id, const char *state)
{
    struct iam_policy_query query = {.account_id = account_id, .state = state, .limit = 100};
    struct iam_policy_record *items = NULL;
    size_t count = 0;
    bool has_more = false;
    assert_int_equal(iam_store_policy_list(f->service.store, f->arena, &query, &items, &count, &has_more), IAM_OK);
    return count;
}

static struct iam_policy_record create_ok(struct fixture *f, const struct iam_principal *who,
                                          enum iam_policy_api api, json_t *body)
{
    struct iam_policy_record record, conflict;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_policy_create(&f->service, f->arena, who, api, body, &record, &conflict, &err);
    json_decref(body);
    if (result != IAM_OK)
        fail_msg("iam_policy_create: %s: %s %s", iam_strerror(result), err.code, err.message);
    return record;
}

/* Creating `body` fails with `expected` and `code`, and stores nothing. */
static void refused(struct fixture *f, const struct iam_principal *who, enum iam_policy_api api, json_t *body,
                    enum iam_result expected, const char *code)
{
    size_t before = count_policies(f, ACCOUNT_A, "active");
    struct iam_policy_record record, conflict;
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_policy_create(&f->service, f->arena, who, api, body, &record, &conflict, &err);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (result != expected || strcmp(err.code, code) != 0)
        fail_msg("expected %s/%s, got %s/%s (%s) for %s", iam_strerror(expected), code, iam_strerror(result), err.code,
                 err.message, text);
    if (getenv("TEST_VERBOSE"))
        print_message("refused %s: %s\n", err.code, err.message);
    free(text);
    assert_int_equal(count_policies(f, ACCOUNT_A, "active"), before);
}

static void refused_v1(struct fixture *f, json_t *body)
{
    refused(f, &f->owner_a, IAM_POLICY_API_V1, body, IAM_EINVAL, "invalid_body");
}

static void refused_v2(struct fixture *f, json_t *body)
{
    refused(f, &f->owner_a, IAM_POLICY_API_V2, body, IAM_EINVAL, "invalid_body");
}

/* A v2 body over COS for SID with `extra` members appended (a JSON fragment starting with ',' or empty). */
static json_t *v2_body(struct fixture *f, const char *resource_attributes, const char *roles, const char *extra)
{
    return parse(iam_arena_printf(
        f->arena,
        "{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"iam_id\",\"operator\":\"stringEquals\","
        "\"value\":\"" SID "\"}]},\"resource\":{\"attributes\":[%s]},\"control\":{\"grant\":{\"roles\":[%s]}}%s}",
        resource_attributes, roles, extra));
}

#define V2_COS                                                                                                         \
    "{\"key\":\"accountId\",\"operator\":\"stringEquals\",\"value\":\"" ACCOUNT_A "\"},"                               \
    "{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"" COS "\"}"

static bool matches(const char *pattern, const char *text)
{
    regex_t regex;
    if (regcomp(&regex, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool found = regexec(&regex, text, 0, NULL, 0) == 0;
    regfree(&regex);
    return found;
}

/* --- conversion --- */

static void test_v1_round_trip(void **state)
{
    (void)state;
    json_t *v1 = parse("{\"type\":\"access\",\"description\":\"d\",\"subjects\":[{\"attributes\":[{\"name\":\"iam_id\","
                       "\"value\":\"" SID "\"}]}],\"roles\":[" ROLE(READER) "," ROLE(VIEWER) "],"
                       "\"resources\":[{\"attributes\":[{\"name\":\"accountId\",\"value\":\"" ACCOUNT_A "\","
                       "\"operator\":\"stringEquals\"},{\"name\":\"serviceName\",\"value\":\"" COS "\","
                       "\"operator\":\"stringEquals\"},{\"name\":\"resource\",\"value\":\"dev*\","
                       "\"operator\":\"stringMatch\"}]}]}");
    json_t *canonical = NULL, *back = NULL, *v2 = NULL, *again = NULL;
    struct iam_error err;
    assert_int_equal(iam_policy_from_v1(v1, &canonical, &err), IAM_OK);
    /* The canonical form is the v2 shape. */
    json_t *subject = json_array_get(json_object_get(json_object_get(canonical, "subject"), "attributes"), 0);
    assert_string_equal(json_string_value(json_object_get(subject, "key")), "iam_id");
    assert_string_equal(json_string_value(json_object_get(subject, "operator")), "stringEquals");
    assert_int_equal(json_array_size(json_object_get(json_object_get(json_object_get(canonical, "control"), "grant"),
                                                     "roles")),
                     2);
    assert_int_equal(iam_policy_to_v1(canonical, &back), IAM_OK);
    assert_true(json_equal(back, v1));
    v2 = iam_policy_to_v2(canonical);
    assert_int_equal(iam_policy_from_v2(v2, &again, &err), IAM_OK);
    assert_true(json_equal(again, canonical));
    json_decref(v1);
    json_decref(canonical);
    json_decref(back);
    json_decref(v2);
    json_decref(again);
}

static void test_v1_operator_defaults_to_string_equals(void **state)
{
    struct fixture *f = *state;
    json_t *v1 = v1_body(f, "iam_id", SID,
                         "{\"name\":\"accountId\",\"value\":\"" ACCOUNT_A "\"},{\"name\":\"serviceName\",\"value\":\"" COS
                         "\"}",
                         ROLE(READER));
    json_t *canonical = NULL, *back = NULL;
    struct iam_error err;
    assert_int_equal(iam_policy_from_v1(v1, &canonical, &err), IAM_OK);
    json_t *attribute = json_array_get(json_object_get(json_object_get(canonical, "resource"), "attributes"), 1);
    assert_string_equal(json_string_value(json_object_get(attribute, "operator")), "stringEquals");
    assert_int_equal(iam_policy_to_v1(canonical, &back), IAM_OK);
    attribute = json_array_get(json_object_get(json_array_get(json_object_get(back, "resources"), 0), "attributes"), 1);
    assert_string_equal(json_string_value(json_object_get(attribute, "operator")), "stringEquals");
    json_decref(v1);
    json_decref(canonical);
    json_decref(back);
}

static void test_v2_round_trip_and_v1_limits(void **state)
{
    struct fixture *f = *state;
    json_t *v2 = v2_body(f,
                         V2_COS ",{\"key\":\"resourceType\",\"operator\":\"stringEquals\",\"value\":\"bucket\"},"
                                "{\"key\":\"resource\",\"operator\":\"stringEqualsAnyOf\",\"value\":[\"a\",\"b\"]}",
                         ROLE(READER),
                         ",\"pattern\":\"time-based-conditions:once\",\"rule\":{\"operator\":\"and\",\"conditions\":["
                         "{\"key\":\"{{environment.attributes.current_date_time}}\",\"operator\":"
                         "\"dateTimeGreaterThanOrEquals\",\"value\":\"2022-12-23T00:00:00+00:00\"},"
                         "{\"key\":\"{{environment.attributes.current_date_time}}\",\"operator\":"
                         "\"dateTimeLessThanOrEquals\",\"value\":\"2022-12-23T23:59:59+00:00\"}]}");
    json_t *canonical = NULL, *v1 = NULL;
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_policy_from_v2(v2, &canonical, &err) != IAM_OK)
        fail_msg("%s", err.message);
    json_t *back = iam_policy_to_v2(canonical);
    assert_true(json_equal(back, v2));
    /* v1 cannot express conditions or any-of operators. */
    assert_int_equal(iam_policy_to_v1(canonical, &v1), IAM_EINVAL);
    assert_null(v1);
    json_decref(v2);
    json_decref(back);
    json_decref(canonical);
}

/* --- validation --- */

static void test_refuses_bad_structure(void **state)
{
    struct fixture *f = *state;
    refused_v1(f, parse("{\"subjects\":[],\"roles\":[],\"resources\":[]}"));
    refused_v1(f, parse("{\"type\":\"owner\",\"subjects\":[{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"" SID
                        "\"}]}],\"roles\":[" ROLE(READER) "],\"resources\":[{\"attributes\":[" COS_RESOURCE "]}]}"));
    /* two subjects */
    refused_v1(f, parse("{\"type\":\"access\",\"subjects\":[{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"" SID
                        "\"}]},{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"" OWNER_A "\"}]}],"
                        "\"roles\":[" ROLE(READER) "],\"resources\":[{\"attributes\":[" COS_RESOURCE "]}]}"));
    /* two resources */
    refused_v1(f, parse("{\"type\":\"access\",\"subjects\":[{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"" SID
                        "\"}]}],\"roles\":[" ROLE(READER) "],\"resources\":[{\"attributes\":[" COS_RESOURCE
                        "]},{\"attributes\":[" COS_RESOURCE "]}]}"));
    /* unknown member */
    refused_v1(f, parse("{\"type\":\"access\",\"owner\":1,\"subjects\":[{\"attributes\":[{\"name\":\"iam_id\","
                        "\"value\":\"" SID "\"}]}],\"roles\":[" ROLE(READER) "],\"resources\":[{\"attributes\":["
                        COS_RESOURCE "]}]}"));
    /* no roles */
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE, ""));
    /* a role listed twice */
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(READER) "," ROLE(READER)));
    /* v2 without control */
    refused_v2(f, parse("{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"iam_id\",\"operator\":"
                        "\"stringEquals\",\"value\":\"" SID "\"}]},\"resource\":{\"attributes\":[" V2_COS "]}}"));
    /* v2 attribute without an operator */
    refused_v2(f, v2_body(f, "{\"key\":\"accountId\",\"value\":\"" ACCOUNT_A "\"}", ROLE(READER), ""));
}

static void test_refuses_bad_subjects(void **state)
{
    struct fixture *f = *state;
    refused_v1(f, v1_body(f, "email", "x@example.com", COS_RESOURCE, ROLE(READER)));
    /* a user of another account */
    refused_v1(f, v1_body(f, "iam_id", OWNER_B, COS_RESOURCE, ROLE(READER)));
    refused_v1(f, v1_body(f, "iam_id", "iam-ServiceId-99999999-9999-4999-8999-999999999999", COS_RESOURCE,
                          ROLE(READER)));
    refused_v1(f, v1_body(f, "access_group_id", "AccessGroupId-99999999-9999-4999-8999-999999999999", COS_RESOURCE,
                          ROLE(READER)));
    refused_v1(f, v1_body(f, "iam_id", "iam-Profile-99999999-9999-4999-8999-999999999999", COS_RESOURCE,
                          ROLE(READER)));
    /* a subject with two attributes */
    refused_v1(f, parse("{\"type\":\"access\",\"subjects\":[{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"" SID
                        "\"},{\"name\":\"access_group_id\",\"value\":\"" GROUP "\"}]}],\"roles\":[" ROLE(READER)
                        "],\"resources\":[{\"attributes\":[" COS_RESOURCE "]}]}"));
    /* v2 subject operator not allowed */
    refused_v2(f, parse("{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"iam_id\",\"operator\":"
                        "\"stringMatch\",\"value\":\"iam-*\"}]},\"resource\":{\"attributes\":[" V2_COS "]},"
                        "\"control\":{\"grant\":{\"roles\":[" ROLE(READER) "]}}}"));
    /* authorization subject service unknown, and in another account */
    refused_v1(f, parse("{\"type\":\"authorization\",\"subjects\":[{\"attributes\":[{\"name\":\"accountId\","
                        "\"value\":\"" ACCOUNT_A "\"},{\"name\":\"serviceName\",\"value\":\"nosuch\"}]}],"
                        "\"roles\":[" ROLE(READER) "],\"resources\":[{\"attributes\":[" COS_RESOURCE "]}]}"));
    refused_v1(f, parse("{\"type\":\"authorization\",\"subjects\":[{\"attributes\":[{\"name\":\"accountId\","
                        "\"value\":\"" ACCOUNT_B "\"},{\"name\":\"serviceName\",\"value\":\"" COS "\"}]}],"
                        "\"roles\":[" ROLE(READER) "],\"resources\":[{\"attributes\":[" COS_RESOURCE "]}]}"));
}

static void test_refuses_bad_resources(void **state)
{
    struct fixture *f = *state;
    /* no accountId */
    refused_v1(f, v1_body(f, "iam_id", SID, "{\"name\":\"serviceName\",\"value\":\"" COS "\"}", ROLE(READER)));
    /* accountId alone */
    refused_v1(f, v1_body(f, "iam_id", SID, "{\"name\":\"accountId\",\"value\":\"" ACCOUNT_A "\"}", ROLE(VIEWER)));
    /* unknown attribute */
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE ",{\"name\":\"colour\",\"value\":\"red\"}", ROLE(READER)));
    /* unknown service */
    refused_v1(f, v1_body(f, "iam_id", SID,
                          "{\"name\":\"accountId\",\"value\":\"" ACCOUNT_A "\"},{\"name\":\"serviceName\",\"value\":"
                          "\"nosuch-service\"}",
                          ROLE(VIEWER)));
    /* operators: v1 knows no stringExists; accountId and serviceName are stringEquals only */
    refused_v1(f, v1_body(f, "iam_id", SID,
                          COS_RESOURCE ",{\"name\":\"resource\",\"value\":\"x\",\"operator\":\"stringExists\"}",
                          ROLE(READER)));
    refused_v1(f, v1_body(f, "iam_id", SID,
                          "{\"name\":\"accountId\",\"value\":\"" ACCOUNT_A "\",\"operator\":\"stringMatch\"},"
                          "{\"name\":\"serviceName\",\"value\":\"" COS "\"}",
                          ROLE(READER)));
    refused_v2(f, v2_body(f,
                          "{\"key\":\"accountId\",\"operator\":\"stringEquals\",\"value\":\"" ACCOUNT_A "\"},"
                          "{\"key\":\"serviceName\",\"operator\":\"stringEqualsAnyOf\",\"value\":[\"" COS "\"]}",
                          ROLE(READER), ""));
    refused_v2(f, v2_body(f, V2_COS ",{\"key\":\"resource\",\"operator\":\"stringLike\",\"value\":\"x\"}",
                          ROLE(READER), ""));
    /* more than 10 values in an any-of */
    refused_v2(f, v2_body(f,
                          V2_COS ",{\"key\":\"resource\",\"operator\":\"stringEqualsAnyOf\",\"value\":[\"1\",\"2\","
                                 "\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}",
                          ROLE(READER), ""));
    /* stringExists takes a boolean */
    refused_v2(f, v2_body(f, V2_COS ",{\"key\":\"resource\",\"operator\":\"stringExists\",\"value\":\"yes\"}",
                          ROLE(READER), ""));
    /* values of 0 and 1001 characters */
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE ",{\"name\":\"resource\",\"value\":\"\"}", ROLE(READER)));
    char *long_value = calloc(1, 1002);
    assert_non_null(long_value);
    memset(long_value, 'x', 1001);
    refused_v1(f, v1_body(f, "iam_id", SID,
                          iam_arena_printf(f->arena, COS_RESOURCE ",{\"name\":\"resource\",\"value\":\"%s\"}",
                                           long_value),
                          ROLE(READER)));
    long_value[1000] = '\0'; /* exactly 1000 is fine */
    struct iam_policy_record record =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1,
                  v1_body(f, "iam_id", SID,
                          iam_arena_printf(f->arena, COS_RESOURCE ",{\"name\":\"resource\",\"value\":\"%s\"}",
                                           long_value),
                          ROLE(READER)));
    assert_non_null(record.id);
    free(long_value);
    /* tags only on all IAM-enabled services */
    refused_v1(f, parse("{\"type\":\"access\",\"subjects\":[{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"" SID
                        "\"}]}],\"roles\":[" ROLE(VIEWER) "],\"resources\":[{\"attributes\":[" COS_RESOURCE
                        "],\"tags\":[{\"name\":\"project\",\"value\":\"x\"}]}]}"));
    /* the service's declared extra attribute is accepted */
    record = create_ok(f, &f->owner_a, IAM_POLICY_API_V1,
                       v1_body(f, "iam_id", SID, COS_RESOURCE ",{\"name\":\"prefix\",\"value\":\"logs/\"}",
                               ROLE(WRITER)));
    assert_string_equal(record.service_name, COS);
}

static void test_refuses_bad_roles(void **state)
{
    struct fixture *f = *state;
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE("Viewer")));
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE("crn:v1:bluemix:public:iam::::role")));
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE("crn:v1:bluemix:public:iam::::owner:Viewer")));
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE("crn:v1:bluemix:public:iam::::role:Vi ewer")));
    /* well-formed but unknown */
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE("crn:v1:bluemix:public:iam::::role:Superuser")));
    /* exists, but not on this service */
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(SERVICE_ID_CREATOR)));
    /* a service-specific role on a policy naming no service */
    refused_v1(f, v1_body(f, "iam_id", SID,
                          "{\"name\":\"accountId\",\"value\":\"" ACCOUNT_A "\"},{\"name\":\"serviceType\",\"value\":"
                          "\"service\"}",
                          ROLE(OBJECT_READER)));
    /* a custom role of another account */
    refused_v1(f, v1_body(f, "iam_id", SID, COS_RESOURCE,
                          ROLE("crn:v1:ibmcloud:public:iam-access-management::a/" ACCOUNT_B "::customRole:Mine")));
    /* the good ones */
    struct iam_policy_record record = create_ok(
        f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(OBJECT_READER) "," ROLE(VIEWER)));
    assert_non_null(record.id);
}

static void test_refuses_bad_rules(void **state)
{
    struct fixture *f = *state;
#define DT(op, value)                                                                                                  \
    "{\"key\":\"{{environment.attributes.current_date_time}}\",\"operator\":\"" op "\",\"value\":\"" value "\"}"
#define DAY "{\"key\":\"{{environment.attributes.day_of_week}}\",\"operator\":\"dayOfWeekAnyOf\",\"value\":[\"1\",\"2\"]}"
#define TM(op, value)                                                                                                  \
    "{\"key\":\"{{environment.attributes.current_time}}\",\"operator\":\"" op "\",\"value\":\"" value "\"}"
    const char *once = ",\"pattern\":\"time-based-conditions:once\"";
    /* rule without pattern, pattern without rule */
    refused_v2(f, v2_body(f, V2_COS, ROLE(READER), ",\"rule\":" DT("dateTimeLessThan", "2030-01-01T00:00:00Z")));
    refused_v2(f, v2_body(f, V2_COS, ROLE(READER), once));
    /* unknown pattern */
    refused_v2(f, v2_body(f, V2_COS, ROLE(READER),
                          ",\"pattern\":\"sometimes\",\"rule\":" DT("dateTimeLessThan", "2030-01-01T00:00:00Z")));
    /* three levels */
    refused_v2(f, v2_body(f, V2_COS, ROLE(READER),
                          iam_arena_printf(f->arena,
                                           "%s,\"rule\":{\"operator\":\"and\",\"conditions\":[{\"operator\":\"or\","
                                           "\"conditions\":[{\"operator\":\"and\",\"conditions\":[%s,%s]}]}]}",
                                           once, DT("dateTimeGreaterThanOrEquals", "2030-01-01T00:00:00Z"),
                                           DT("dateTimeLessThanOrEquals", "2030-01-02T00:00:00Z"))));
    /* eleven conditions */
    const char *many = DT("dateTimeLessThan", "2030-01-01T00:00:00Z");
    for (int i = 0; i < 10; i++)
        many = iam_arena_printf(f->arena, "%s,%s", many, DT("dateTimeLessThan", "2030-01-01T00:00:00Z"));
    refused_v2(f, v2_body(f, V2_COS, ROLE(READER),
                          iam_arena_printf(f->arena, "%s,\"rule\":{\"operator\":\"or\",\"conditions\":[%s]}", once,
                                           many)));
    /* GreaterThanOrEquals without LessThanOrEquals */
    refused_v2(f, v2_body(f, V2_COS, ROLE(READER),
                          iam_arena_printf(f->arena, "%s,\"rule\":{\"operator\":\"and\",\"conditions\":[%s]}", once,
                                           DT("dateTimeGreaterThanOrEquals", "2030-01-01T00:00:00Z"))));
    /* once and weekly mixed */
    refused_v2(f, v2_body(f, V2_COS, ROLE(READER),
                          iam_arena_printf(f->arena, "%s,\"rule\":{\"operator\":\"and\",\"conditions\":[%s,%s,%s]}",
                                           once, DT("dateTimeGreaterThanOrEquals", "2030-01-01T00:00:00Z"),
                                           DT("dateTimeLessThanOrEquals", "2030-01-02T00:00:00Z"), DAY)));
    /* malformed values and keys */
    refused_v2(f, v2_body(f, V2_COS, ROLE(READER),
                          ",\"pattern\":\"time-based-conditions:weekly:custom-hours\",\"rule\":{\"operator\":\"and\","
                          "\"conditions\":[" DAY "," TM("timeGreaterThanOrEquals", "25:00:00+00:00") "," TM(
                              "timeLessThanOrEquals", "17:00:00+00:00") "]}"));
    refused_v2(f, v2_body(f, V2_COS, ROLE(READER),
                          ",\"pattern\":\"time-based-conditions:once\",\"rule\":{\"key\":\"{{environment.attributes."
                          "current_time}}\",\"operator\":\"dateTimeLessThan\",\"value\":\"2030-01-01T00:00:00Z\"}"));
    /* the good ones */
    create_ok(f, &f->owner_a, IAM_POLICY_API_V2,
              v2_body(f, V2_COS, ROLE(READER),
                      ",\"pattern\":\"time-based-conditions:weekly:custom-hours\",\"rule\":{\"operator\":\"and\","
                      "\"conditions\":[" DAY "," TM("timeGreaterThanOrEquals", "09:00:00+00:00") "," TM(
                          "timeLessThanOrEquals", "17:00:00+00:00") "]}"));
    create_ok(f, &f->owner_a, IAM_POLICY_API_V2,
              v2_body(f, V2_COS ",{\"key\":\"resourceType\",\"operator\":\"stringEquals\",\"value\":\"bucket\"}",
                      ROLE(READER),
                      iam_arena_printf(f->arena, "%s,\"rule\":{\"operator\":\"and\",\"conditions\":[%s,%s]}", once,
                                       DT("dateTimeGreaterThanOrEquals", "2030-01-01T00:00:00+01:00"),
                                       DT("dateTimeLessThanOrEquals", "2030-01-02T00:00:00+01:00"))));
}

static void test_other_account_and_denied(void **state)
{
    struct fixture *f = *state;
    /* A resource in account B, asked by account A's owner: bad input, like an account that does not exist. */
    refused(f, &f->owner_a, IAM_POLICY_API_V1,
            v1_body(f, "iam_id", OWNER_B,
                    "{\"name\":\"accountId\",\"value\":\"" ACCOUNT_B "\"},{\"name\":\"serviceName\",\"value\":\"" COS
                    "\"}",
                    ROLE(READER)),
            IAM_EINVAL, "invalid_body");
    assert_int_equal(count_policies(f, ACCOUNT_B, "active"), 0);
    /* ... and the same answer for an account that does not exist */
    refused(f, &f->owner_a, IAM_POLICY_API_V1,
            v1_body(f, "iam_id", SID,
                    "{\"name\":\"accountId\",\"value\":\"cccccccccccccccccccccccccccccccc\"},"
                    "{\"name\":\"serviceName\",\"value\":\"" COS "\"}",
                    ROLE(READER)),
            IAM_EINVAL, "invalid_body");
    /* A user of the account without Administrator on the target cannot grant on it. */
    refused(f, &f->user_a2, IAM_POLICY_API_V1, v1_body(f, "iam_id", USER_A2, COS_RESOURCE, ROLE(ADMINISTRATOR)),
            IAM_EDENIED, "insufficent_permissions");
}

static void test_locked_subject(void **state)
{
    struct fixture *f = *state;
    refused(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", LOCKED_SID, COS_RESOURCE, ROLE(READER)),
            IAM_ELOCKED, "request_not_processed");
    /* A policy created while unlocked cannot be replaced or deleted once the service ID is locked. */
    struct iam_policy_record record =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(READER)));
    struct iam_service_id_record sid;
    assert_int_equal(iam_store_service_id_get_by_iam_id(f->service.store, f->arena, ACCOUNT_A, SID, &sid), IAM_OK);
    sid.locked = true;
    assert_int_equal(iam_store_service_id_update(f->service.store, &sid, NULL, NULL), IAM_OK);
    struct iam_error err;
    struct iam_policy_record out, conflict;
    json_t *body = v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(WRITER));
    assert_int_equal(iam_policy_replace(&f->service, f->arena, &f->owner_a, record.id, NULL, IAM_POLICY_API_V1, body,
                                        &out, &conflict, &err),
                     IAM_ELOCKED);
    json_decref(body);
    assert_int_equal(iam_policy_delete(&f->service, f->arena, &f->owner_a, record.id, &err), IAM_ELOCKED);
    assert_int_equal(iam_policy_get(&f->service, f->arena, &f->owner_a, record.id, &out, &err), IAM_OK);
    assert_string_equal(out.state, "active");
    assert_string_equal(out.entity_tag, record.entity_tag);
}

static void test_conflict(void **state)
{
    struct fixture *f = *state;
    struct iam_policy_record first =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(READER)));
    /* Same subject, same attributes in another order, other roles, through v2: a conflict. */
    json_t *body = parse("{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"iam_id\",\"operator\":"
                         "\"stringEquals\",\"value\":\"" SID "\"}]},\"resource\":{\"attributes\":["
                         "{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"" COS "\"},"
                         "{\"key\":\"accountId\",\"operator\":\"stringEquals\",\"value\":\"" ACCOUNT_A "\"}]},"
                         "\"control\":{\"grant\":{\"roles\":[" ROLE(WRITER) "]}}}");
    struct iam_policy_record record, conflict;
    struct iam_error err;
    iam_error_clear(&err);
    assert_int_equal(iam_policy_create(&f->service, f->arena, &f->owner_a, IAM_POLICY_API_V2, body, &record, &conflict,
                                       &err),
                     IAM_ECONFLICT);
    json_decref(body);
    assert_string_equal(err.code, "policy_conflict_error");
    assert_string_equal(conflict.id, first.id);
    assert_string_equal(conflict.entity_tag, first.entity_tag);
    assert_int_equal(count_policies(f, ACCOUNT_A, "active"), 1);
    /* Another subject or another resource is no conflict. */
    create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "access_group_id", GROUP, COS_RESOURCE, ROLE(READER)));
    create_ok(f, &f->owner_a, IAM_POLICY_API_V1,
              v1_body(f, "iam_id", SID, COS_RESOURCE ",{\"name\":\"resourceType\",\"value\":\"bucket\"}",
                      ROLE(READER)));
    /* Replacing the second into the first's scope is a conflict too. */
    struct iam_policy_record second =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1,
                  v1_body(f, "iam_id", SID, COS_RESOURCE ",{\"name\":\"resourceType\",\"value\":\"object\"}",
                          ROLE(READER)));
    body = v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(READER));
    assert_int_equal(iam_policy_replace(&f->service, f->arena, &f->owner_a, second.id, second.entity_tag,
                                        IAM_POLICY_API_V1, body, &record, &conflict, &err),
                     IAM_ECONFLICT);
    json_decref(body);
    assert_string_equal(conflict.id, first.id);
}

static void test_soft_delete_and_restore(void **state)
{
    struct fixture *f = *state;
    struct iam_policy_record created =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(READER)));
    struct iam_error err;
    iam_error_clear(&err);
    assert_int_equal(iam_policy_delete(&f->service, f->arena, &f->owner_a, created.id, &err), IAM_OK);
    struct iam_policy_record deleted, out, conflict;
    assert_int_equal(iam_policy_get(&f->service, f->arena, &f->owner_a, created.id, &deleted, &err), IAM_OK);
    assert_string_equal(deleted.state, "deleted");
    assert_string_not_equal(deleted.entity_tag, created.entity_tag);
    assert_int_equal(iam_policy_delete(&f->service, f->arena, &f->owner_a, created.id, &err), IAM_ENOTFOUND);
    assert_string_equal(err.code, "policy_not_found");

    struct iam_policy_list_request list = {.api = IAM_POLICY_API_V1, .account_id = ACCOUNT_A};
    struct iam_policy_page page;
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_OK);
    assert_int_equal(page.count, 0);
    list.state = "deleted";
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.items[0].id, created.id);

    /* A deleted policy's scope is free again; restoring then conflicts. */
    struct iam_policy_record replacement =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(WRITER)));
    assert_int_equal(iam_policy_set_state(&f->service, f->arena, &f->owner_a, created.id, deleted.entity_tag, "active",
                                          &out, &conflict, &err),
                     IAM_ECONFLICT);
    assert_string_equal(conflict.id, replacement.id);
    assert_int_equal(iam_policy_delete(&f->service, f->arena, &f->owner_a, replacement.id, &err), IAM_OK);
    /* Restore needs the current tag. */
    assert_int_equal(iam_policy_set_state(&f->service, f->arena, &f->owner_a, created.id, created.entity_tag, "active",
                                          &out, &conflict, &err),
                     IAM_ECONFLICT);
    assert_string_equal(err.code, "policy_conflict_error");
    assert_string_equal(conflict.entity_tag, deleted.entity_tag);
    assert_int_equal(iam_policy_set_state(&f->service, f->arena, &f->owner_a, created.id, deleted.entity_tag, "active",
                                          &out, &conflict, &err),
                     IAM_OK);
    assert_string_equal(out.state, "active");
    assert_int_equal(iam_policy_set_state(&f->service, f->arena, &f->owner_a, created.id, NULL, "gone", &out,
                                          &conflict, &err),
                     IAM_EINVAL);
}

static void test_replace(void **state)
{
    struct fixture *f = *state;
    struct iam_policy_record created =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(READER)));
    struct iam_policy_record out, conflict;
    struct iam_error err;
    json_t *body = v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(WRITER));
    assert_int_equal(iam_policy_replace(&f->service, f->arena, &f->owner_a, created.id, "1-ffffffffffffffffffffffffffffffff",
                                        IAM_POLICY_API_V1, body, &out, &conflict, &err),
                     IAM_ECONFLICT);
    assert_string_equal(conflict.id, created.id);
    assert_int_equal(iam_policy_replace(&f->service, f->arena, &f->owner_a, created.id, created.entity_tag,
                                        IAM_POLICY_API_V1, body, &out, &conflict, &err),
                     IAM_OK);
    json_decref(body);
    assert_int_equal(strncmp(out.entity_tag, "2-", 2), 0);
    assert_non_null(strstr(out.document, WRITER));
    assert_null(strstr(out.document, READER));
    /* The type cannot change. */
    body = parse("{\"type\":\"authorization\",\"subjects\":[{\"attributes\":[{\"name\":\"accountId\",\"value\":\""
                 ACCOUNT_A "\"},{\"name\":\"serviceName\",\"value\":\"" COS "\"}]}],\"roles\":[" ROLE(READER)
                 "],\"resources\":[{\"attributes\":[" COS_RESOURCE "]}]}");
    assert_int_equal(iam_policy_replace(&f->service, f->arena, &f->owner_a, created.id, NULL, IAM_POLICY_API_V1, body,
                                        &out, &conflict, &err),
                     IAM_EINVAL);
    json_decref(body);
    /* v1 cannot replace a v2 policy; v2 can replace a v1 one and makes it v2. */
    struct iam_policy_record v2 = create_ok(
        f, &f->owner_a, IAM_POLICY_API_V2,
        v2_body(f, V2_COS ",{\"key\":\"resourceType\",\"operator\":\"stringEquals\",\"value\":\"bucket\"}",
                ROLE(READER), ""));
    body = v1_body(f, "iam_id", SID, COS_RESOURCE ",{\"name\":\"resourceType\",\"value\":\"bucket\"}", ROLE(WRITER));
    assert_int_equal(iam_policy_replace(&f->service, f->arena, &f->owner_a, v2.id, NULL, IAM_POLICY_API_V1, body, &out,
                                        &conflict, &err),
                     IAM_EINVAL);
    json_decref(body);
    body = v2_body(f, V2_COS, ROLE(READER), "");
    assert_int_equal(iam_policy_replace(&f->service, f->arena, &f->owner_a, created.id, NULL, IAM_POLICY_API_V2, body,
                                        &out, &conflict, &err),
                     IAM_OK);
    json_decref(body);
    assert_string_equal(out.api_version, "v2");
    /* Not found: unknown id, malformed id, another account's policy. */
    body = v2_body(f, V2_COS, ROLE(READER), "");
    assert_int_equal(iam_policy_replace(&f->service, f->arena, &f->owner_a, "00000000-0000-4000-8000-000000000000",
                                        NULL, IAM_POLICY_API_V2, body, &out, &conflict, &err),
                     IAM_ENOTFOUND);
    assert_string_equal(err.code, "policy_not_found");
    assert_int_equal(iam_policy_replace(&f->service, f->arena, &f->owner_b, created.id, NULL, IAM_POLICY_API_V2, body,
                                        &out, &conflict, &err),
                     IAM_ENOTFOUND);
    json_decref(body);
    assert_int_equal(iam_policy_get(&f->service, f->arena, &f->owner_a, "../etc", &out, &err), IAM_ENOTFOUND);
}

static void test_list_filters_by_read_permission(void **state)
{
    struct fixture *f = *state;
    /* user A2 holds Viewer on COS (which carries iam.policy.read there), nothing on iam-identity */
    struct iam_policy_record mine =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", USER_A2, COS_RESOURCE, ROLE(VIEWER)));
    struct iam_policy_record cos =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(READER)));
    create_ok(f, &f->owner_a, IAM_POLICY_API_V1,
              v1_body(f, "iam_id", SID,
                      "{\"name\":\"accountId\",\"value\":\"" ACCOUNT_A "\"},{\"name\":\"serviceName\",\"value\":"
                      "\"iam-identity\"}",
                      ROLE(VIEWER)));
    struct iam_policy_list_request list = {.api = IAM_POLICY_API_V1, .account_id = ACCOUNT_A};
    struct iam_policy_page page;
    struct iam_error err;
    iam_error_clear(&err);
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_OK);
    assert_int_equal(page.count, 3);
    if (iam_policy_list(&f->service, f->arena, &f->user_a2, &list, &page, &err) != IAM_OK)
        fail_msg("%s %s", err.code, err.message);
    assert_int_equal(page.count, 2);
    for (size_t i = 0; i < page.count; i++)
        assert_true(strcmp(page.items[i].id, mine.id) == 0 || strcmp(page.items[i].id, cos.id) == 0);
    /* A2 may read but not grant on COS, and may read one policy but not another. */
    struct iam_policy_record out;
    assert_int_equal(iam_policy_get(&f->service, f->arena, &f->user_a2, cos.id, &out, &err), IAM_OK);
    refused(f, &f->user_a2, IAM_POLICY_API_V1,
            v1_body(f, "iam_id", SID, COS_RESOURCE ",{\"name\":\"resourceType\",\"value\":\"bucket\"}", ROLE(READER)),
            IAM_EDENIED, "insufficent_permissions");
    /* Another account sees an empty list, not an error. */
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_b, &list, &page, &err), IAM_OK);
    assert_int_equal(page.count, 0);
    /* Filters: iam_id, type, missing account_id, bad type. */
    list.iam_id = USER_A2;
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_OK);
    assert_int_equal(page.count, 1);
    assert_string_equal(page.items[0].id, mine.id);
    list.iam_id = NULL;
    list.account_id = NULL;
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_EINVAL);
    assert_string_equal(err.code, "missing_required_query_parameter");
    list.account_id = ACCOUNT_A;
    list.type = "owner";
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_EINVAL);
    list.type = NULL;
    list.sort = "-created_by_id";
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_EINVAL);
}

static void test_paging(void **state)
{
    struct fixture *f = *state;
    static const char *const types[] = {"a", "b", "c", "d", "e"};
    for (size_t i = 0; i < 5; i++)
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1,
                  v1_body(f, "iam_id", SID,
                          iam_arena_printf(f->arena, COS_RESOURCE ",{\"name\":\"resourceType\",\"value\":\"%s\"}",
                                           types[i]),
                          ROLE(READER)));
    struct iam_policy_list_request list = {.api = IAM_POLICY_API_V2, .account_id = ACCOUNT_A, .limit = 2,
                                           .sort = "-id"};
    struct iam_policy_page page;
    struct iam_error err;
    size_t seen = 0;
    const char *previous_id = NULL;
    for (int round = 0; round < 5; round++) {
        assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_OK);
        for (size_t i = 0; i < page.count; i++) {
            if (previous_id)
                assert_true(strcmp(previous_id, page.items[i].id) > 0);
            previous_id = page.items[i].id;
        }
        seen += page.count;
        if (round > 0)
            assert_non_null(page.previous_start);
        if (!page.next_start)
            break;
        list.start = page.next_start;
    }
    assert_int_equal(seen, 5);
    list.start = "x1";
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_EINVAL);
}

static void test_rendering(void **state)
{
    struct fixture *f = *state;
    struct iam_policy_record v1 =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "iam_id", SID, COS_RESOURCE, ROLE(OBJECT_READER)));
    json_t *body = iam_policy_render(&f->service, f->arena, &v1, IAM_POLICY_API_V1, 0);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "href")),
                        iam_arena_printf(f->arena, "http://iam.example.test/v1/policies/%s", v1.id));
    assert_true(matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
                        json_string_value(json_object_get(body, "created_at"))));
    assert_string_equal(json_string_value(json_object_get(body, "created_by_id")), OWNER_A);
    assert_string_equal(json_string_value(json_object_get(body, "state")), "active");
    json_t *role = json_array_get(json_object_get(body, "roles"), 0);
    assert_string_equal(json_string_value(json_object_get(role, "role_id")), OBJECT_READER);
    assert_string_equal(json_string_value(json_object_get(role, "display_name")), "Object Reader");
    assert_string_equal(json_string_value(json_object_get(role, "description")), "Reads objects");
    assert_non_null(json_object_get(body, "subjects"));
    assert_null(json_object_get(body, "last_permit_frequency"));
    json_decref(body);
    body = iam_policy_render(&f->service, f->arena, &v1, IAM_POLICY_API_V2, IAM_POLICY_RENDER_LAST_PERMIT);
    assert_non_null(json_object_get(body, "subject"));
    assert_non_null(json_object_get(body, "control"));
    assert_int_equal(json_integer_value(json_object_get(body, "last_permit_frequency")), 0);
    assert_string_equal(json_string_value(json_object_get(body, "href")),
                        iam_arena_printf(f->arena, "http://iam.example.test/v2/policies/%s", v1.id));
    json_decref(body);
    /* A v2 policy seen through v1 is IBM's placeholder pointing at /v2. */
    struct iam_policy_record v2 = create_ok(
        f, &f->owner_a, IAM_POLICY_API_V2,
        v2_body(f, V2_COS ",{\"key\":\"resourceType\",\"operator\":\"stringEquals\",\"value\":\"bucket\"}",
                ROLE(READER), ""));
    body = iam_policy_render(&f->service, f->arena, &v2, IAM_POLICY_API_V1, 0);
    assert_non_null(strstr(json_string_value(json_object_get(body, "description")), "unsupported policy version"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(body, "roles"), 0),
                                                          "role_id")),
                        IAM_POLICY_PLACEHOLDER_ROLE);
    assert_string_equal(json_string_value(json_object_get(body, "href")),
                        iam_arena_printf(f->arena, "http://iam.example.test/v2/policies/%s", v2.id));
    json_decref(body);
    unsigned flags;
    struct iam_error err;
    assert_int_equal(iam_policy_format_parse("display", &flags, &err), IAM_OK);
    assert_int_equal(flags, IAM_POLICY_RENDER_DISPLAY);
    body = iam_policy_render(&f->service, f->arena, &v1, IAM_POLICY_API_V2, flags);
    json_t *actions = json_object_get(
        json_array_get(json_object_get(json_object_get(json_object_get(body, "control"), "grant"), "roles"), 0),
        "actions");
    assert_int_equal(json_array_size(actions), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(actions, 0), "id")),
                        "cloud-object-storage.object.get");
    json_decref(body);
    assert_int_equal(iam_policy_format_parse("fancy", &flags, &err), IAM_EINVAL);
}

static void test_access_group_and_public_subjects(void **state)
{
    struct fixture *f = *state;
    struct iam_policy_record group =
        create_ok(f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "access_group_id", GROUP, COS_RESOURCE, ROLE(READER)));
    assert_string_equal(group.subject_kind, "access_group_id");
    assert_string_equal(group.subject_value, GROUP);
    struct iam_policy_record everyone = create_ok(
        f, &f->owner_a, IAM_POLICY_API_V1, v1_body(f, "access_group_id", IAM_PUBLIC_ACCESS_GROUP, COS_RESOURCE,
                                                   ROLE(READER)));
    assert_string_equal(everyone.subject_value, IAM_PUBLIC_ACCESS_GROUP);
    struct iam_policy_record authorization = create_ok(
        f, &f->owner_a, IAM_POLICY_API_V1,
        parse("{\"type\":\"authorization\",\"subjects\":[{\"attributes\":[{\"name\":\"accountId\",\"value\":\""
              ACCOUNT_A "\"},{\"name\":\"serviceName\",\"value\":\"" COS "\"},{\"name\":\"serviceInstance\","
              "\"value\":\"src\"}]}],\"roles\":[" ROLE(READER) "],\"resources\":[{\"attributes\":[" COS_RESOURCE
              "]}]}"));
    assert_string_equal(authorization.subject_kind, "service");
    assert_string_equal(authorization.subject_value, COS);
    assert_string_equal(authorization.type, "authorization");
}

/* A refused query value that is not UTF-8 still gives an error message a JSON body can carry (fuzz_api). */
static void test_list_error_message_is_utf8(void **state)
{
    struct fixture *f = *state;
    struct iam_policy_list_request list = {.api = IAM_POLICY_API_V1, .account_id = ACCOUNT_A,
                                           .sort = "-lTTTT t\xefoWeTTTTast_modified_at"};
    struct iam_policy_page page;
    struct iam_error err;
    iam_error_clear(&err);
    assert_int_equal(iam_policy_list(&f->service, f->arena, &f->owner_a, &list, &page, &err), IAM_EINVAL);
    assert_string_equal(err.code, "invalid_body");
    json_t *message = json_string(err.message);
    assert_non_null(message);
    assert_non_null(strstr(err.message, "t?oWe"));
    json_decref(message);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_round_trip),
        cmocka_unit_test_setup_teardown(test_v1_operator_defaults_to_string_equals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_round_trip_and_v1_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_subjects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_resources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_account_and_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_soft_delete_and_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_by_read_permission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rendering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_group_and_public_subjects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_error_message_is_utf8, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
