/*
 * fuzz_policy.c: libFuzzer target for the policy documents: the v1 and v2
 * request conversions of src/iam/policies.c (iam_policy_from_v1 /
 * iam_policy_from_v2, iam_policy_to_v1 / iam_policy_to_v2) and the decision
 * engine's compile of a policy document (src/iam/engine_compile.c, through
 * iam_engine_new_from_snapshot), followed by a decision, an evaluation and an
 * explanation (src/iam/engine.c, engine_match.c, engine_explain.c).
 *
 * The input is one JSON document, tried as a v1 body and as a v2 body (a
 * refusal must carry a UTF-8 message). For each shape that converts, the
 * round trips must hold: from_v1(to_v1(c)) == c for a v1 policy,
 * from_v2(to_v2(c)) == c for both. Then one snapshot is compiled with the
 * raw input as a stored document (the engine must survive any row: it marks
 * what it cannot compile as broken) and each canonical form, next to a
 * registered service, and a request built from the policy's own subject and
 * resource attributes is decided, evaluated and explained for a few actions:
 * the three must agree on permitted. A policy that converted must compile
 * without being broken.
 */
#include "fuzz_common.h"

#include <jansson.h>

#include "common/arena.h"
#include "common/log.h"
#include "iam/engine.h"
#include "iam/engine_internal.h"
#include "iam/policies.h"
#include "store/access_records.h"

#define ACCOUNT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SERVICE_ID "iam-ServiceId-11111111-1111-4111-8111-111111111111"
#define NOW 1700000000 /* a Tuesday, 22:13 UTC */
#define MAX_ATTRIBUTES 32

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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    iam_log_set_level(IAM_LOG_ERROR);
    return 0;
}

/* from_v1 / from_v2 by shape. */
static enum iam_result convert(enum iam_policy_api api, const json_t *body, json_t **canonical)
{
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = api == IAM_POLICY_API_V1 ? iam_policy_from_v1(body, canonical, &err)
                                                      : iam_policy_from_v2(body, canonical, &err);
    FUZZ_CHECK(result == IAM_OK || result == IAM_EINVAL);
    FUZZ_CHECK((result == IAM_OK) == (*canonical != NULL));
    if (result != IAM_OK)
        FUZZ_CHECK(err.result == IAM_EINVAL && strcmp(err.code, "invalid_body") == 0 && err.message[0] &&
                   fuzz_utf8_valid(err.message));
    return result;
}

static void check_round_trips(enum iam_policy_api api, const json_t *canonical)
{
    json_t *again = NULL;
    if (api == IAM_POLICY_API_V1) {
        json_t *v1 = NULL;
        FUZZ_CHECK(iam_policy_to_v1(canonical, &v1) == IAM_OK);
        FUZZ_CHECK(convert(IAM_POLICY_API_V1, v1, &again) == IAM_OK);
        FUZZ_CHECK(json_equal(again, canonical));
        json_decref(again);
        json_decref(v1);
    } else {
        json_t *v1 = NULL;
        if (iam_policy_to_v1(canonical, &v1) == IAM_OK) {
            /* v1 could express it: converting that back loses nothing */
            FUZZ_CHECK(convert(IAM_POLICY_API_V1, v1, &again) == IAM_OK);
            FUZZ_CHECK(json_equal(again, canonical));
            json_decref(again);
            json_decref(v1);
        } else {
            FUZZ_CHECK(v1 == NULL);
        }
    }
    json_t *v2 = iam_policy_to_v2(canonical);
    FUZZ_CHECK(v2);
    FUZZ_CHECK(convert(IAM_POLICY_API_V2, v2, &again) == IAM_OK);
    FUZZ_CHECK(json_equal(again, canonical));
    json_decref(again);
    json_decref(v2);
}

/* The policy's subject: an iam_id, or a group the request's service ID is made a member of. */
static const char *subject_of(const json_t *document, bool *is_group)
{
    const json_t *attributes = json_object_get(json_object_get(document, "subject"), "attributes");
    if (!attributes) {
        const json_t *subjects = json_object_get(document, "subjects");
        attributes = json_object_get(json_array_get(subjects, 0), "attributes");
    }
    size_t index;
    const json_t *attribute;
    json_array_foreach(attributes, index, attribute) {
        const char *key = json_string_value(json_object_get(attribute, "key"));
        if (!key)
            key = json_string_value(json_object_get(attribute, "name"));
        const char *value = json_string_value(json_object_get(attribute, "value"));
        if (key && value && (strcmp(key, "iam_id") == 0 || strcmp(key, "access_group_id") == 0)) {
            *is_group = strcmp(key, "access_group_id") == 0;
            return value;
        }
    }
    *is_group = false;
    return SERVICE_ID;
}

/* The resource attributes with string values (or the first of a list), as a request would carry them. */
static size_t request_attributes(const json_t *document, struct iam_engine_attribute *out, const char **account)
{
    const json_t *resource = json_object_get(document, "resource");
    if (!resource)
        resource = json_array_get(json_object_get(document, "resources"), 0);
    size_t count = 0;
    size_t index;
    const json_t *attribute;
    *account = ACCOUNT;
    json_array_foreach(json_object_get(resource, "attributes"), index, attribute) {
        const char *key = json_string_value(json_object_get(attribute, "key"));
        if (!key)
            key = json_string_value(json_object_get(attribute, "name"));
        const json_t *value = json_object_get(attribute, "value");
        if (json_is_array(value))
            value = json_array_get(value, 0);
        if (!key || !json_is_string(value) || count == MAX_ATTRIBUTES)
            continue;
        if (strcmp(key, "accountId") == 0)
            *account = json_string_value(value);
        else
            out[count++] = (struct iam_engine_attribute){key, json_string_value(value)};
    }
    return count;
}

static void decide(struct iam_engine *engine, struct iam_arena *arena, const json_t *document)
{
    bool is_group = false;
    const char *subject = subject_of(document, &is_group);
    struct iam_engine_attribute attributes[MAX_ATTRIBUTES];
    const char *account = ACCOUNT;
    size_t count = request_attributes(document, attributes, &account);
    static const struct iam_engine_attribute environment[] = {{"networkType", "public"}};
    struct iam_engine_request request = {
        .account_id = account,
        .subject_iam_id = is_group ? SERVICE_ID : subject,
        .action = "cloud-object-storage.object.get",
        .resource = attributes,
        .resource_count = count,
        .environment = environment,
        .environment_count = 1,
        .now = NOW,
    };
    /* The fast path, the full evaluation and the explanation must agree on every decision. */
    static const char *const actions[] = {"cloud-object-storage.object.get", "cloud-object-storage.bucket.create",
                                          "iam-identity.serviceid.get", "iam.policy.read"};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        request.action = actions[i];
        struct iam_engine_decision decision;
        enum iam_result result = iam_engine_decide(engine, &request, &decision);
        FUZZ_CHECK(result == IAM_OK || result == IAM_EINVAL);
        FUZZ_CHECK(!decision.permitted || decision.policy_id);
        struct iam_engine_evaluation evaluation;
        enum iam_result evaluated = iam_engine_evaluate(engine, arena, &request, &evaluation);
        FUZZ_CHECK(evaluated == result);
        json_t *explanation = iam_engine_explain(engine, arena, &request);
        FUZZ_CHECK(explanation);
        if (result == IAM_OK) {
            if (evaluation.permitted != decision.permitted ||
                json_is_true(json_object_get(explanation, "permitted")) != decision.permitted) {
                fprintf(stderr, "%s: decide %d, evaluate %d, explain %d\n", actions[i], decision.permitted,
                        evaluation.permitted, json_is_true(json_object_get(explanation, "permitted")));
                abort();
            }
        }
        json_decref(explanation);
    }
    struct iam_engine_evaluation roles;
    request.action = NULL; /* what /v2/authz/roles asks */
    enum iam_result result = iam_engine_evaluate(engine, arena, &request, &roles);
    FUZZ_CHECK(result == IAM_OK || result == IAM_EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!body)
        return 0;
    struct iam_arena *arena = iam_arena_new();
    FUZZ_CHECK(arena);

    json_t *canonical[2] = {NULL, NULL};
    const enum iam_policy_api apis[2] = {IAM_POLICY_API_V1, IAM_POLICY_API_V2};
    for (int i = 0; i < 2; i++)
        if (convert(apis[i], body, &canonical[i]) == IAM_OK)
            check_round_trips(apis[i], canonical[i]);

    /* One snapshot: the raw document as a stored row, and each canonical form. */
    struct iam_policy_record policies[3];
    size_t policy_count = 0;
    const json_t *documents[3] = {body, canonical[0], canonical[1]};
    static const char *const ids[3] = {"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
                                       "00000000-0000-4000-8000-000000000003"};
    struct iam_group_member_record members[3];
    size_t member_count = 0;
    char *texts[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        if (!documents[i])
            continue;
        texts[i] = json_dumps(documents[i], JSON_COMPACT | JSON_ENCODE_ANY);
        FUZZ_CHECK(texts[i]);
        bool is_group = false;
        const char *subject = subject_of(documents[i], &is_group);
        const char *account = ACCOUNT;
        struct iam_engine_attribute unused[MAX_ATTRIBUTES];
        (void)request_attributes(documents[i], unused, &account);
        policies[policy_count++] = (struct iam_policy_record){
            .id = ids[i], .account_id = account, .type = "access", .api_version = i == 1 ? "v1" : "v2",
            .subject_kind = is_group ? "access_group_id" : "iam_id", .subject_value = subject,
            .document = texts[i], .state = "active"};
        if (is_group)
            members[member_count++] = (struct iam_group_member_record){
                .group_id = subject, .account_id = account, .iam_id = SERVICE_ID, .type = "service"};
    }
    struct iam_service_def_record service = {.name = "cloud-object-storage", .document = cos_definition};
    struct iam_account_record account = {.id = ACCOUNT, .name = "fuzz", .owner_iam_id = "IBMid-OWNER00000",
                                         .state = "ACTIVE"};
    struct iam_access_snapshot snapshot = {.policies = policies, .policy_count = policy_count,
                                           .members = members, .member_count = member_count,
                                           .services = &service, .service_count = 1,
                                           .accounts = &account, .account_count = 1, .revision = 1};
    struct iam_engine *engine = NULL;
    struct iam_error err;
    FUZZ_CHECK(iam_engine_new_from_snapshot(&snapshot, &engine, &err) == IAM_OK);
    /* What the API accepted, the engine can enforce. */
    struct engine_snapshot *compiled = engine_snapshot_acquire(engine);
    for (uint32_t i = 0; i < compiled->policy_count; i++) {
        const struct engine_policy *policy = &compiled->policies[i];
        if (strcmp(policy->id, ids[0]) != 0 && policy->broken) {
            fprintf(stderr, "accepted policy %s does not compile: %s\n", policy->id, policy->broken);
            abort();
        }
    }
    engine_snapshot_release(compiled);
    for (int i = 0; i < 3; i++)
        if (documents[i])
            decide(engine, arena, documents[i]);
    iam_engine_free(engine);

    for (int i = 0; i < 3; i++)
        free(texts[i]);
    json_decref(canonical[0]);
    json_decref(canonical[1]);
    json_decref(body);
    iam_arena_free(arena);
    return 0;
}
