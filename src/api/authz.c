/*
 * authz.c: the decision API other services call (IBM's PDP wire format,
 * reference section 5) and our explain endpoint.
 *
 *   POST /v2/authz          up to 100 independent (subject, action, resource) decisions
 *   PUT  /v2/authz/bulk     one subject and action over up to 1000 resources
 *   POST /v2/authz/roles    the roles and actions a subject holds on up to 100 resources
 *   POST /v2/authz/explain  ours: the decision and why (granting policies, near misses)
 *
 * The caller authenticates as itself (its own token or API key); the subject
 * goes in the body. A caller may ask only about services that list it in
 * their definition's pdp_clients (a per-item 403 "unauthorized to make this
 * request" otherwise); questions about iamd's own services are answered for
 * the owner of the resource's account only. Decisions, and who may ask,
 * come from the in-memory engine: no database query per decision.
 *
 * While the database cannot be reached the engine's snapshot keeps answering
 * for at most --max-staleness after it was last confirmed current; then every
 * endpoint here answers 503 BXNIM0503E (iam_engine_check_current) rather
 * than decide on data that may be out of date.
 */
#include <pthread.h>
#include <string.h>

#include "api/api.h"
#include "common/ids.h"
#include "common/time.h"
#include "common/metrics.h"
#include "crypto/encoding.h"
#include "iam/crn.h"
#include "iam/engine.h"

#define AUTHZ_MAX_ITEMS 100
#define AUTHZ_MAX_BULK 1000
#define AUTHZ_MAX_ATTRIBUTES 24
#define AUTHZ_MAX_TOKEN_BODY 8192
#define AUTHZ_UNAUTHORIZED "unauthorized to make this request"

/* One parsed question. */
struct authz_item {
    const char *subject_id;
    const char *scope;
    const char *action;
    const char *account_id;
    const char *service_name;
    struct iam_engine_attribute resource[AUTHZ_MAX_ATTRIBUTES];
    size_t resource_count;
    struct iam_engine_attribute environment[AUTHZ_MAX_ATTRIBUTES];
    size_t environment_count;
};

/* Shared read-only between threads: jansson's read functions and refcounts are thread-safe here. */
#ifndef JANSSON_THREAD_SAFE_REFCOUNT
#error "iamd needs a jansson built with atomic reference counts"
#endif
static json_t *cache_key_pattern_document;
static pthread_once_t cache_key_pattern_once = PTHREAD_ONCE_INIT;

static void cache_key_pattern_build(void)
{
    cache_key_pattern_document = json_pack(
        "{s:[s,s,s],s:[[s],[s,s]],s:[[],[s],[s,s],[s,s,s],[s,s,s,s],[s,s,s,s,s]]}", "order", "subject", "resource",
        "action", "subject", "id", "id", "scope", "resource", "serviceName", "serviceName", "accountId",
        "serviceName", "accountId", "serviceInstance", "serviceName", "accountId", "serviceInstance", "resourceType",
        "serviceName", "accountId", "serviceInstance", "resourceType", "resource");
}

/* IBM's cacheKeyPattern: the same for every answer, so built once (a new reference each call). */
static json_t *cache_key_pattern(void)
{
    pthread_once(&cache_key_pattern_once, cache_key_pattern_build);
    return cache_key_pattern_document ? json_incref(cache_key_pattern_document) : json_object();
}

/* Reads {attributes:{id, scope}} or {accessTokenBody:"<base64url payload>"}. */
static const char *parse_subject(struct iam_arena *arena, const json_t *subject, struct authz_item *item)
{
    if (!json_is_object(subject))
        return "subject must be an object";
    const json_t *attributes = json_object_get(subject, "attributes");
    const char *token_body = json_string_value(json_object_get(subject, "accessTokenBody"));
    if (token_body) {
        size_t length = strlen(token_body);
        if (length == 0 || length > AUTHZ_MAX_TOKEN_BODY)
            return "accessTokenBody is empty or too long";
        uint8_t *decoded = iam_arena_alloc(arena, length + 1);
        size_t decoded_length = 0;
        if (!decoded || iam_base64url_decode(token_body, length, decoded, length, &decoded_length) != IAM_OK)
            return "accessTokenBody is not base64url";
        json_t *claims = json_loadb((const char *)decoded, decoded_length, JSON_REJECT_DUPLICATES, NULL);
        const char *iam_id = json_string_value(json_object_get(claims, "iam_id"));
        const char *scope = json_string_value(json_object_get(claims, "scope"));
        item->subject_id = iam_arena_strdup(arena, iam_id);
        item->scope = iam_arena_strdup(arena, scope);
        json_decref(claims);
        if (!item->subject_id)
            return "accessTokenBody has no iam_id";
    } else if (json_is_object(attributes)) {
        item->subject_id = json_string_value(json_object_get(attributes, "id"));
        item->scope = json_string_value(json_object_get(attributes, "scope"));
        if (!item->subject_id || !*item->subject_id || strlen(item->subject_id) > 128)
            return "subject.attributes.id is required";
    } else {
        return "subject needs attributes or accessTokenBody";
    }
    return NULL;
}

static bool add_attribute(struct iam_engine_attribute *list, size_t *count, const char *name, const char *value)
{
    if (!value || !*value)
        return true;
    if (*count == AUTHZ_MAX_ATTRIBUTES)
        return false;
    list[(*count)++] = (struct iam_engine_attribute){name, value};
    return true;
}

/* Reads string attributes of an object into `list`; an error text on failure. */
static const char *read_attributes(const json_t *object, struct iam_engine_attribute *list, size_t *count,
                                   const char *what)
{
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)object, name, value) {
        if (!json_is_string(value))
            return what;
        if (strlen(name) > 64 || json_string_length(value) > 1000)
            return what;
        if (!add_attribute(list, count, name, json_string_value(value)))
            return "too many attributes";
    }
    return NULL;
}

static const char *attribute_of(const struct iam_engine_attribute *list, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].name, name) == 0)
            return list[i].value;
    return NULL;
}

/* Reads {crn} or {attributes:{...}} into the item's resource attributes (accountId kept apart). */
static const char *parse_resource(struct iam_arena *arena, const json_t *resource, struct authz_item *item)
{
    if (!json_is_object(resource))
        return "resource must be an object";
    const char *crn_text = json_string_value(json_object_get(resource, "crn"));
    struct iam_engine_attribute all[AUTHZ_MAX_ATTRIBUTES];
    size_t count = 0;
    if (crn_text) {
        struct iam_crn crn;
        if (iam_crn_parse(arena, crn_text, &crn) != IAM_OK)
            return "resource.crn is not a valid CRN";
        add_attribute(all, &count, "serviceName", crn.service_name);
        add_attribute(all, &count, "accountId", crn.account_id);
        add_attribute(all, &count, "region", crn.location);
        add_attribute(all, &count, "serviceInstance", crn.service_instance);
        add_attribute(all, &count, "resourceType", crn.resource_type);
        add_attribute(all, &count, "resource", crn.resource);
        const json_t *extra = json_object_get(resource, "attributes");
        if (extra) {
            if (!json_is_object(extra))
                return "resource.attributes must be an object";
            const char *problem = read_attributes(extra, all, &count, "resource attributes must be strings");
            if (problem)
                return problem;
        }
    } else {
        const json_t *attributes = json_object_get(resource, "attributes");
        if (!json_is_object(attributes))
            return "resource needs crn or attributes";
        const char *problem = read_attributes(attributes, all, &count, "resource attributes must be strings");
        if (problem)
            return problem;
    }
    item->account_id = attribute_of(all, count, "accountId");
    item->service_name = attribute_of(all, count, "serviceName");
    if (!item->account_id || !iam_is_account_id(item->account_id))
        return "resource accountId is missing or malformed";
    if (!item->service_name)
        return "resource serviceName is missing";
    for (size_t i = 0; i < count; i++)
        if (strcmp(all[i].name, "accountId") != 0)
            item->resource[item->resource_count++] = all[i];
    return NULL;
}

static const char *parse_environment(const json_t *environment, struct authz_item *item)
{
    if (!environment || json_is_null(environment))
        return NULL;
    if (!json_is_object(environment))
        return "environment must be an object";
    const json_t *attributes = json_object_get(environment, "attributes");
    if (!attributes)
        return NULL;
    if (!json_is_object(attributes))
        return "environment.attributes must be an object";
    return read_attributes(attributes, item->environment, &item->environment_count,
                           "environment attributes must be strings");
}

/* Whether `who` may ask about `service_name` in `account_id`. */
static bool caller_may_ask(struct iam_api *api, const struct iam_principal *who, const char *service_name,
                           const char *account_id)
{
    struct iam_engine *engine = api->service->engine;
    if (iam_engine_service_pdp_client(engine, service_name, who->iam_id))
        return true;
    if (!iam_engine_service_builtin(engine, service_name) || who->kind != IAM_PRINCIPAL_USER ||
        strcmp(who->account_id, account_id) != 0)
        return false;
    return iam_engine_account_owner(engine, account_id, who->iam_id);
}

/*
 * Authenticates the caller and checks that the engine may decide from memory
 * (the database answers, or was confirmed within --max-staleness); answers
 * 401 or 503 itself when not.
 */
static bool ready_to_decide(struct iam_api *api, struct iam_http_request *request, struct iam_http_response *response,
                            struct iam_principal *who)
{
    if (!iam_api_authenticate(api, request, response, who))
        return false;
    if (iam_engine_check_current(api->service->engine) != IAM_OK) {
        iam_api_fail(request, response, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
        return false;
    }
    return true;
}

static json_t *attributes_json(const struct iam_engine_attribute *list, size_t count, const char *account_id)
{
    json_t *object = json_object();
    if (!object)
        return NULL;
    if (account_id)
        json_object_set_new(object, "accountId", json_string(account_id));
    for (size_t i = 0; i < count; i++)
        json_object_set_new(object, list[i].name, json_string(list[i].value));
    return object;
}

static json_t *item_error(const char *status, const char *code, const char *message, const char *request_id)
{
    return json_pack("{s:s,s:{s:s,s:[{s:s,s:s}]}}", "status", status, "error", "transactionId", request_id, "errors",
                     "code", code, "message", message);
}

static struct iam_engine_request engine_request(const struct authz_item *item, int64_t now)
{
    return (struct iam_engine_request){
        .account_id = item->account_id,
        .subject_iam_id = item->subject_id,
        .action = item->action,
        .resource = item->resource,
        .resource_count = item->resource_count,
        .environment = item->environment,
        .environment_count = item->environment_count,
        .now = now,
    };
}

/* A permit's obligation: every action held at this resource, scoped to exactly these attributes. */
static json_t *obligation(struct iam_api *api, const struct authz_item *item,
                          const struct iam_engine_evaluation *evaluation)
{
    json_t *actions = json_array();
    for (size_t i = 0; actions && i < evaluation->action_count; i++)
        json_array_append_new(actions, json_string(evaluation->actions[i]));
    json_t *subject = json_pack("{s:{s:s}}", "attributes", "id", item->subject_id);
    if (subject && item->scope)
        json_object_set_new(json_object_get(subject, "attributes"), "scope", json_string(item->scope));
    return json_pack("{s:o,s:I,s:o,s:{s:o},s:{s:o}}", "actions", actions, "maxCacheAgeSeconds",
                     (json_int_t)api->service->options.decision_cache_ttl, "subject", subject, "resource",
                     "attributes", attributes_json(item->resource, item->resource_count, item->account_id),
                     "environment", "attributes", attributes_json(item->environment, item->environment_count, NULL));
}

/* Decides one item fully (with its obligation). */
static json_t *decide_item(struct iam_api *api, struct iam_http_request *request, const struct authz_item *item,
                           int64_t now)
{
    struct iam_engine_request question = engine_request(item, now);
    struct iam_engine_evaluation evaluation;
    if (iam_engine_evaluate(api->service->engine, request->arena, &question, &evaluation) != IAM_OK)
        return item_error("500", "internal_error", "The decision could not be made.", request->request_id);
    iam_metrics_add(evaluation.permitted ? IAM_METRIC_DECISIONS_PERMIT : IAM_METRIC_DECISIONS_DENY, 1);
    if (!evaluation.permitted)
        return json_pack("{s:s,s:{s:b}}", "status", "200", "authorizationDecision", "permitted", 0);
    return json_pack("{s:s,s:{s:b,s:o}}", "status", "200", "authorizationDecision", "permitted", 1, "obligation",
                     obligation(api, item, &evaluation));
}

/* Parses one /v2/authz (or roles) item; NULL problem on success. */
static const char *parse_item(struct iam_arena *arena, const json_t *entry, bool want_action, struct authz_item *item)
{
    memset(item, 0, sizeof *item);
    if (!json_is_object(entry))
        return "each request must be an object";
    const char *problem = parse_subject(arena, json_object_get(entry, "subject"), item);
    if (problem)
        return problem;
    const json_t *action = json_object_get(entry, "action");
    if (want_action) {
        item->action = json_string_value(action);
        if (!item->action || !*item->action || strlen(item->action) > 256)
            return "action is required";
    } else if (action) {
        return "action must be absent in a roles request";
    }
    problem = parse_resource(arena, json_object_get(entry, "resource"), item);
    if (problem)
        return problem;
    return parse_environment(json_object_get(entry, "environment"), item);
}

/* Reads the body as a JSON array of 1..max items; answers 400 itself when it cannot. */
static json_t *read_array(struct iam_http_request *request, struct iam_http_response *response, size_t max)
{
    json_error_t error;
    json_t *body = json_loadb(request->body, request->body_length, JSON_REJECT_DUPLICATES, &error);
    if (!json_is_array(body) || json_array_size(body) == 0 || json_array_size(body) > max) {
        json_decref(body);
        iam_api_fail(request, response, IAM_EINVAL, "BXNIM0109E",
                     "The body must be a JSON array of 1 to %zu requests.", max);
        return NULL;
    }
    return body;
}

static void handle_authz(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!ready_to_decide(api, request, response, &who))
        return;
    json_t *body = read_array(request, response, AUTHZ_MAX_ITEMS);
    if (!body)
        return;
    json_t *responses = json_array();
    int64_t now = iam_now();
    size_t index;
    json_t *entry;
    json_array_foreach(body, index, entry) {
        struct authz_item item;
        const char *problem = parse_item(request->arena, entry, true, &item);
        json_t *answer;
        if (problem)
            answer = item_error("400", "invalid_request", problem, request->request_id);
        else if (!caller_may_ask(api, &who, item.service_name, item.account_id))
            answer = item_error("403", "unauthorized", AUTHZ_UNAUTHORIZED, request->request_id);
        else
            answer = decide_item(api, request, &item, now);
        json_array_append_new(responses, answer);
    }
    json_decref(body);
    iam_http_respond_json(request, response, 200,
                          json_pack("{s:o,s:o}", "responses", responses, "cacheKeyPattern", cache_key_pattern()));
}

static void handle_bulk(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!ready_to_decide(api, request, response, &who))
        return;
    json_t *body = NULL;
    struct iam_error err;
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    const json_t *resources = json_object_get(body, "resources");
    const json_t *shared = json_object_get(resources, "sharedAttributes");
    const json_t *unique = json_object_get(resources, "uniqueAttributes");
    struct authz_item base;
    memset(&base, 0, sizeof base);
    const char *problem = parse_subject(request->arena, json_object_get(body, "subject"), &base);
    base.action = json_string_value(json_object_get(body, "action"));
    if (!problem && (!base.action || !*base.action))
        problem = "action is required";
    if (!problem && (!json_is_object(shared) || !json_is_array(unique) || json_array_size(unique) == 0 ||
                     json_array_size(unique) > AUTHZ_MAX_BULK))
        problem = "resources needs sharedAttributes and 1 to 1000 uniqueAttributes";
    if (!problem)
        problem = parse_environment(json_object_get(body, "environment"), &base);
    if (problem) {
        json_decref(body);
        iam_api_fail(request, response, IAM_EINVAL, "BXNIM0109E", "%s.", problem);
        return;
    }
    json_t *decisions = json_array();
    int64_t now = iam_now();
    size_t index;
    json_t *entry;
    bool refused = false;
    json_array_foreach(unique, index, entry) {
        struct authz_item item = base;
        item.resource_count = 0;
        json_t *merged = json_deep_copy(shared);
        if (!json_is_object(entry) || json_object_update(merged, entry) != 0) {
            json_decref(merged);
            json_array_append_new(decisions, json_pack("{s:s,s:s}", "decision", "Deny", "reason", "invalid"));
            continue;
        }
        /* The item's attributes point into `wrapped`: it lives until the decision is made. */
        json_t *wrapped = json_pack("{s:o}", "attributes", merged);
        problem = parse_resource(request->arena, wrapped, &item);
        if (problem) {
            json_decref(wrapped);
            json_array_append_new(decisions, json_pack("{s:s,s:s}", "decision", "Deny", "reason", "invalid"));
            continue;
        }
        if (!caller_may_ask(api, &who, item.service_name, item.account_id)) {
            json_decref(wrapped);
            refused = true;
            break;
        }
        json_t *decided = decide_item(api, request, &item, now);
        json_decref(wrapped);
        json_t *decision = json_object_get(decided, "authorizationDecision");
        if (json_is_true(json_object_get(decision, "permitted")))
            json_array_append_new(decisions, json_pack("{s:s,s:O}", "decision", "Permit", "obligation",
                                                       json_object_get(decision, "obligation")));
        else
            json_array_append_new(decisions, json_pack("{s:s}", "decision", "Deny"));
        json_decref(decided);
    }
    json_decref(body);
    if (refused) {
        json_decref(decisions);
        iam_api_fail(request, response, IAM_EDENIED, "BXNIM0513E", AUTHZ_UNAUTHORIZED);
        return;
    }
    iam_http_respond_json(request, response, 200,
                          json_pack("{s:o,s:o}", "decisions", decisions, "cacheKeyPattern", cache_key_pattern()));
}

static json_t *role_actions(const struct iam_engine_evaluation *evaluation, bool platform)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < evaluation->grant_count; i++) {
        const struct iam_engine_role_grant *grant = &evaluation->grants[i];
        if (grant->platform != platform)
            continue;
        json_t *actions = json_array();
        for (size_t a = 0; actions && a < grant->action_count; a++)
            json_array_append_new(actions, json_pack("{s:s}", "action", grant->actions[a]));
        json_array_append_new(list, json_pack("{s:{s:s,s:s?,s:s?},s:o}", "role", "crn", grant->role_crn,
                                              "displayName", grant->display_name, "description",
                                              grant->description, "actions", actions));
    }
    return list;
}

static void handle_roles(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!ready_to_decide(api, request, response, &who))
        return;
    json_t *body = read_array(request, response, AUTHZ_MAX_ITEMS);
    if (!body)
        return;
    json_t *responses = json_array();
    int64_t now = iam_now();
    const char *first_account = NULL;
    size_t index;
    json_t *entry;
    json_array_foreach(body, index, entry) {
        struct authz_item item;
        const char *problem = parse_item(request->arena, entry, false, &item);
        const char *request_id = json_string_value(json_object_get(entry, "requestId"));
        if (!problem && first_account && strcmp(first_account, item.account_id) != 0)
            problem = "every request must name the same account";
        if (!problem && !first_account)
            first_account = item.account_id;
        json_t *answer;
        if (problem) {
            answer = item_error("400", "invalid_request", problem, request->request_id);
        } else if (!caller_may_ask(api, &who, item.service_name, item.account_id)) {
            answer = item_error("403", "unauthorized", AUTHZ_UNAUTHORIZED, request->request_id);
        } else {
            struct iam_engine_request question = engine_request(&item, now);
            struct iam_engine_evaluation evaluation;
            if (iam_engine_evaluate(api->service->engine, request->arena, &question, &evaluation) != IAM_OK) {
                answer = item_error("500", "internal_error", "The roles could not be computed.",
                                    request->request_id);
            } else {
                bool is_service_id = strncmp(item.subject_id, "iam-ServiceId-", 14) == 0;
                answer = json_pack("{s:s,s:o,s:{s:s},s:o,s:{s:o}}", "status", "200", "attributes",
                                   attributes_json(item.resource, item.resource_count, item.account_id),
                                   "subjectId", is_service_id ? "serviceId" : "userId", item.subject_id,
                                   "roleActions", role_actions(&evaluation, false), "platformExtensions",
                                   "roleActions", role_actions(&evaluation, true));
            }
        }
        if (answer && request_id)
            json_object_set_new(answer, "requestId", json_string(request_id));
        json_array_append_new(responses, answer);
    }
    json_decref(body);
    iam_http_respond_json(request, response, 200,
                          json_pack("{s:o,s:s,s:[]}", "responses", responses, "transactionId", request->request_id,
                                    "errors"));
}

static void handle_explain(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!ready_to_decide(api, request, response, &who))
        return;
    json_t *body = NULL;
    struct iam_error err;
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    struct authz_item item;
    const char *problem = parse_item(request->arena, body, true, &item);
    if (problem) {
        json_decref(body);
        iam_api_fail(request, response, IAM_EINVAL, "BXNIM0109E", "%s.", problem);
        return;
    }
    /* Explaining reveals policies: the caller needs iam.policy.read on the resource. */
    struct iam_target_attribute attributes[AUTHZ_MAX_ATTRIBUTES];
    for (size_t i = 0; i < item.resource_count; i++)
        attributes[i] = (struct iam_target_attribute){item.resource[i].name, item.resource[i].value};
    struct iam_target target = {.account_id = item.account_id, .service_name = item.service_name,
                                .attributes = attributes, .attribute_count = item.resource_count};
    if (iam_authz_check(api->service, &who, IAM_ACTION_POLICY_READ, &target, &err) != IAM_OK) {
        json_decref(body);
        iam_api_respond_error(request, response, &err);
        return;
    }
    struct iam_engine_request question = engine_request(&item, iam_now());
    json_t *explanation = iam_engine_explain(api->service->engine, request->arena, &question);
    json_decref(body);
    if (!explanation) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, 200, explanation);
}

enum iam_result iam_api_authz_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result = iam_router_add(router, "POST", "/v2/authz", handle_authz, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "PUT", "/v2/authz/bulk", handle_bulk, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "POST", "/v2/authz/roles", handle_roles, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "POST", "/v2/authz/explain", handle_explain, api);
    return result;
}
