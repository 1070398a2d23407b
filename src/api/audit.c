/*
 * audit.c: the API side of the audit trail (audit_api.h, docs/api/audit.md).
 *
 * Recording. The router runs audit_before and audit_after around every
 * matched route. For a POST, PUT, PATCH or DELETE outside the token and
 * decision paths, audit_before authenticates the caller (so the record names
 * the actor; the handler's own iam_api_authenticate then reuses that answer,
 * see iam_api_audit_authentication) and appends a "request" record BEFORE the
 * handler runs. If that append fails: in fail-closed mode the request is
 * answered 503 and the handler never runs, so nothing changes; in
 * best-effort mode an error is logged and the handler runs. audit_after
 * appends the "outcome" record (status, IBM error code); a failure there is
 * logged (the change is done by then). GET, HEAD and OPTIONS are never
 * recorded this way, nor is anything on the token path (no database write
 * per token) or the decision path (/v2/authz...).
 *
 * Counting: iam_api_audit_count adds a token request or a failed
 * authentication to the service's audit batch (iam/audit_batch.h), which the
 * usage thread writes as aggregate records; called by api/token.c and by
 * iam_api_authenticate (api/common.c).
 *
 * What a record holds comes from the route table below (action name, target
 * type, which path parameter is the target) and from the request: method,
 * route template, path parameters, Transaction-Id, client address, the
 * authenticated principal's ids. From the response only named members are
 * read: the created object's id and account (on success) and errors[0]'s
 * code and message_code (on failure). Never a body, header, query string,
 * key value, password, token or cookie.
 *
 * Reading: GET /v1/audit/events (one account's records, newest first, with
 * filters and keyset pagination: the pagetoken carries the filters and the
 * seq to continue below, so records appended meanwhile never shift a page)
 * and GET /v1/audit/events/{seq}, both behind iam-identity.audit.read.
 */
#include "api/audit_api.h"
#include "api/pagination.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/encoding.h"
#include "iam/audit.h"
#include "iam/audit_batch.h"
#include "iam/authn.h"

#define AUDIT_LIMIT_DEFAULT 20
#define AUDIT_FILTER_MAX IAM_AUDIT_FIELD_MAX
#define AUDIT_PAGETOKEN_MAX 2048
#define AUDIT_LINK_MAX 8192

/* --- the route table --- */

struct audit_route {
    const char *method;
    const char *route;
    const char *action;
    const char *target_type;
    const char *target_param;     /* the path parameter naming the target; NULL: the response's `response_id` */
    const char *response_id;      /* the created object's id in a success response (NULL: none) */
    const char *response_account; /* the member holding the created object's account ("account_id" if NULL) */
    bool no_identify;             /* the credentials are in the body (sign-in): no authentication beforehand */
};

/* Names follow the actions IBM's services define where one exists; iamd's own start with "iamd.". */
static const struct audit_route audit_routes[] = {
    {"POST", "/v1/serviceids", "iam-identity.serviceid.create", "serviceid", NULL, "id", NULL, false},
    {"PUT", "/v1/serviceids/{id}", "iam-identity.serviceid.update", "serviceid", "id", NULL, NULL, false},
    {"DELETE", "/v1/serviceids/{id}", "iam-identity.serviceid.delete", "serviceid", "id", NULL, NULL, false},
    {"POST", "/v1/serviceids/{id}/lock", "iam-identity.serviceid.lock", "serviceid", "id", NULL, NULL, false},
    {"DELETE", "/v1/serviceids/{id}/lock", "iam-identity.serviceid.unlock", "serviceid", "id", NULL, NULL, false},
    {"POST", "/v1/apikeys", "iam-identity.apikey.create", "apikey", NULL, "id", NULL, false},
    {"PUT", "/v1/apikeys/{id}", "iam-identity.apikey.update", "apikey", "id", NULL, NULL, false},
    {"DELETE", "/v1/apikeys/{id}", "iam-identity.apikey.delete", "apikey", "id", NULL, NULL, false},
    {"POST", "/v1/apikeys/{id}/lock", "iam-identity.apikey.lock", "apikey", "id", NULL, NULL, false},
    {"DELETE", "/v1/apikeys/{id}/lock", "iam-identity.apikey.unlock", "apikey", "id", NULL, NULL, false},
    {"POST", "/v1/apikeys/{id}/disable", "iam-identity.apikey.disable", "apikey", "id", NULL, NULL, false},
    {"DELETE", "/v1/apikeys/{id}/disable", "iam-identity.apikey.enable", "apikey", "id", NULL, NULL, false},
    {"PUT", "/v1/accounts/{account_id}/settings/identity", "iam-identity.account.update", "account-settings",
     "account_id", NULL, NULL, false},
    {"PATCH", "/v1/accounts/{account_id}/settings/access_management", "iam-access-management.settings.update",
     "access-settings", "account_id", NULL, NULL, false},
    {"POST", "/v1/accounts", "iamd.account.create", "account", NULL, "id", "id", false},
    {"POST", "/v1/accounts/{account_id}/users", "user-management.user.create", "user", NULL, "iam_id", NULL, false},
    {"PATCH", "/v1/accounts/{account_id}/users/{iam_id}", "user-management.user.update", "user", "iam_id", NULL,
     NULL, false},
    {"DELETE", "/v1/accounts/{account_id}/users/{iam_id}", "user-management.user.delete", "user", "iam_id", NULL,
     NULL, false},
    {"PUT", "/v1/accounts/{account_id}/users/{iam_id}/password", "user-management.user.password", "user", "iam_id",
     NULL, NULL, false},
    {"POST", "/v1/policies", "iam.policy.create", "policy", NULL, "id", NULL, false},
    {"PUT", "/v1/policies/{id}", "iam.policy.update", "policy", "id", NULL, NULL, false},
    {"PATCH", "/v1/policies/{id}", "iam.policy.update", "policy", "id", NULL, NULL, false},
    {"DELETE", "/v1/policies/{id}", "iam.policy.delete", "policy", "id", NULL, NULL, false},
    {"POST", "/v2/policies", "iam.policy.create", "policy", NULL, "id", NULL, false},
    {"PUT", "/v2/policies/{id}", "iam.policy.update", "policy", "id", NULL, NULL, false},
    {"PATCH", "/v2/policies/{id}", "iam.policy.update", "policy", "id", NULL, NULL, false},
    {"DELETE", "/v2/policies/{id}", "iam.policy.delete", "policy", "id", NULL, NULL, false},
    {"POST", "/v2/roles", "iam-access-management.customRole.create", "role", NULL, "id", NULL, false},
    {"PUT", "/v2/roles/{id}", "iam-access-management.customRole.update", "role", "id", NULL, NULL, false},
    {"DELETE", "/v2/roles/{id}", "iam-access-management.customRole.delete", "role", "id", NULL, NULL, false},
    {"POST", "/v2/groups", "iam-groups.groups.create", "accessgroup", NULL, "id", NULL, false},
    {"PATCH", "/v2/groups/{access_group_id}", "iam-groups.groups.update", "accessgroup", "access_group_id", NULL,
     NULL, false},
    {"DELETE", "/v2/groups/{access_group_id}", "iam-groups.groups.delete", "accessgroup", "access_group_id", NULL,
     NULL, false},
    {"PUT", "/v2/groups/{access_group_id}/members", "iam-groups.members.add", "accessgroup", "access_group_id", NULL,
     NULL, false},
    {"DELETE", "/v2/groups/{access_group_id}/members/{iam_id}", "iam-groups.members.delete", "accessgroup",
     "access_group_id", NULL, NULL, false},
    {"POST", "/v2/groups/{access_group_id}/members/delete", "iam-groups.members.delete", "accessgroup",
     "access_group_id", NULL, NULL, false},
    {"DELETE", "/v2/groups/_allgroups/members/{iam_id}", "iam-groups.members.delete", "member", "iam_id", NULL, NULL,
     false},
    {"PUT", "/v2/groups/_allgroups/members/{iam_id}", "iam-groups.members.add", "member", "iam_id", NULL, NULL,
     false},
    {"PUT", "/v1/services/{name}", "iamd.service.update", "service", "name", NULL, NULL, false},
    {"DELETE", "/v1/services/{name}", "iamd.service.delete", "service", "name", NULL, NULL, false},
    {"POST", "/console/api/session", "iam-identity.session.create", "session", NULL, NULL, NULL, true},
    {"DELETE", "/console/api/session", "iam-identity.session.delete", "session", NULL, NULL, NULL, false},
};

/* Route prefixes never recorded: the token path (no write per token) and the decision path. */
static const char *const unrecorded_prefixes[] = {"/identity/", "/oidc/", "/v2/authz", NULL};

static bool starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool method_changes_state(const char *method)
{
    return method && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0 ||
                      strcmp(method, "DELETE") == 0);
}

static bool route_recorded(const struct iam_http_request *request)
{
    if (!request->route || !method_changes_state(request->method))
        return false;
    for (const char *const *prefix = unrecorded_prefixes; *prefix; prefix++)
        if (starts_with(request->route, *prefix))
            return false;
    return true;
}

static const struct audit_route *route_find(const struct iam_http_request *request)
{
    for (size_t i = 0; i < sizeof audit_routes / sizeof audit_routes[0]; i++)
        if (strcmp(audit_routes[i].method, request->method) == 0 && strcmp(audit_routes[i].route, request->route) == 0)
            return &audit_routes[i];
    return NULL;
}

/* The value of path parameter {name} of the matched route, or NULL. */
static const char *path_param_named(const struct iam_http_request *request, const char *name)
{
    size_t index = 0, name_length = strlen(name);
    const char *cursor = request->route;
    while (cursor && *cursor) {
        if (*cursor == '/') {
            cursor++;
            continue;
        }
        const char *end = strchr(cursor, '/');
        size_t length = end ? (size_t)(end - cursor) : strlen(cursor);
        if (length >= 2 && cursor[0] == '{' && cursor[length - 1] == '}') {
            if (length - 2 == name_length && memcmp(cursor + 1, name, name_length) == 0)
                return index < request->path_param_count ? request->path_params[index] : NULL;
            index++;
        }
        cursor += length;
    }
    return NULL;
}

/* --- per-request state (request->app_state) --- */

struct audit_state {
    const struct audit_route *entry; /* NULL: a route without an entry (named "<METHOD> <route>") */
    bool identified;                 /* audit_before ran iam_api_authenticate */
    bool authenticated;              /* ... and it accepted the caller */
    struct iam_principal who;        /* the caller when authenticated (arena strings) */
    struct iam_http_response refusal; /* its refusal otherwise, replayed to the handler (body owned until then) */
    bool refusal_pending;
    bool actor_set;                  /* iam_api_audit_set_actor named the actor */
    struct iam_principal actor;
    bool refused;                    /* fail-closed: the request record failed, the handler did not run */
};

static struct audit_state *state_of(const struct iam_http_request *request)
{
    return request ? request->app_state : NULL;
}

static void response_adopt(struct iam_http_response *to, struct iam_http_response *from)
{
    json_decref(to->body_json);
    to->status = from->status;
    to->content_type = from->content_type;
    to->body_json = from->body_json;
    to->body = from->body;
    to->body_length = from->body_length;
    struct iam_http_header_line **tail = &to->headers;
    while (*tail)
        tail = &(*tail)->next;
    *tail = from->headers;
    memset(from, 0, sizeof *from);
}

bool iam_api_audit_authentication(struct iam_http_request *request, struct iam_http_response *response,
                                  struct iam_principal *who, bool *ok)
{
    struct audit_state *state = state_of(request);
    if (!state || !state->identified)
        return false;
    if (state->authenticated) {
        *who = state->who;
        request->log_identity = who->iam_id;
        *ok = true;
        return true;
    }
    if (!state->refusal_pending)
        return false; /* already replayed once: authenticate again */
    response_adopt(response, &state->refusal);
    state->refusal_pending = false;
    *ok = false;
    return true;
}

void iam_api_audit_set_actor(struct iam_http_request *request, const struct iam_principal *who)
{
    struct audit_state *state = state_of(request);
    if (!state || !who)
        return;
    state->actor = *who;
    state->actor_set = true;
}

/* --- building records --- */

static const struct iam_principal *actor_of(const struct audit_state *state)
{
    if (state->actor_set)
        return &state->actor;
    if (state->authenticated)
        return &state->who;
    return NULL;
}

static const char *response_member(const struct iam_http_response *response, const char *name)
{
    const json_t *value = json_object_get(response->body_json, name);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

static const char *response_error_member(const struct iam_http_response *response, const char *name)
{
    const json_t *first = json_array_get(json_object_get(response->body_json, "errors"), 0);
    const json_t *value = json_object_get(first, name);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

/* The record of `request` in `phase`; `response` is NULL for the request phase. */
static void record_build(struct iam_http_request *request, const struct audit_state *state,
                         const struct iam_http_response *response, struct iam_audit_record *record)
{
    const struct audit_route *entry = state->entry;
    memset(record, 0, sizeof *record);
    record->request_id = request->request_id;
    record->phase = response ? "outcome" : "request";
    record->client_address = request->client_address;
    record->method = request->method;
    record->route = request->route;
    const struct iam_principal *actor = actor_of(state);
    if (actor) {
        record->actor_iam_id = actor->iam_id;
        record->actor_account_id = actor->account_id;
        record->actor_apikey_id = actor->apikey_id;
    } else {
        record->actor_iam_id = request->log_identity; /* named by a handler, if any */
    }
    if (entry) {
        record->action = entry->action;
        record->target_type = entry->target_type;
        if (entry->target_param)
            record->target_id = path_param_named(request, entry->target_param);
    } else {
        record->action = iam_arena_printf(request->arena, "%s %s", request->method, request->route);
        if (request->path_param_count > 0)
            record->target_id = request->path_params[request->path_param_count - 1];
    }
    int status = response ? (response->status ? response->status : 500) : 0;
    bool success = status >= 100 && status < 400;
    /* The account acted in: named by the path, else (a created object) by the answer, else the caller's. */
    record->account_id = path_param_named(request, "account_id");
    if (response && success && entry) {
        if (!record->account_id)
            record->account_id = response_member(response, entry->response_account ? entry->response_account
                                                                                     : "account_id");
        if (!record->target_id && entry->response_id)
            record->target_id = response_member(response, entry->response_id);
    }
    if (!record->account_id && actor)
        record->account_id = actor->account_id;
    record->status = status;
    record->outcome = !response ? "pending" : success ? "success" : "failure";
    if (response && !success) {
        record->error_code = response_error_member(response, "code");
        record->message_code = response_error_member(response, "message_code");
    }
}

static void log_failure(const struct iam_http_request *request, const struct iam_audit_record *record,
                        enum iam_result result, const char *what)
{
    iam_log(IAM_LOG_ERROR, "audit_write_failed", "%s record of request %s (%s) not written: %s", what,
            request->request_id, record->action ? record->action : "?", iam_strerror(result));
}

/* --- the hooks --- */

static bool audit_before(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_audit *audit = api->service ? api->service->audit : NULL;
    if (!audit || !route_recorded(request))
        return true;
    struct audit_state *state = iam_arena_alloc(request->arena, sizeof *state);
    if (!state) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return false;
    }
    state->entry = route_find(request);
    request->app_state = state;
    if (!state->entry || !state->entry->no_identify) {
        struct iam_principal who;
        memset(&who, 0, sizeof who);
        state->authenticated = iam_api_authenticate(api, request, &state->refusal, &who);
        state->identified = true;
        if (state->authenticated)
            state->who = who;
        else
            state->refusal_pending = true;
    }
    struct iam_audit_record record;
    record_build(request, state, NULL, &record);
    enum iam_result result = record.action ? iam_audit_append(audit, request->arena, &record) : IAM_ENOMEM;
    if (result == IAM_OK)
        return true;
    log_failure(request, &record, result, "request");
    if (iam_audit_mode_of(audit) == IAM_AUDIT_BEST_EFFORT)
        return true;
    state->refused = true;
    iam_api_fail(request, response, IAM_EUNAVAILABLE, "BXNIM0503E",
                 "The audit trail cannot be written, so the request was refused and nothing was changed. "
                 "Try again later.");
    return false;
}

static void audit_after(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct audit_state *state = state_of(request);
    if (!state)
        return;
    if (state->refusal_pending) {
        json_decref(state->refusal.body_json); /* the handler never asked for it */
        state->refusal.body_json = NULL;
        state->refusal_pending = false;
    }
    /* Refused because the trail could not be written: that was logged, and the store is failing. */
    if (state->refused)
        return;
    struct iam_audit_record record;
    record_build(request, state, response, &record);
    enum iam_result result =
        record.action ? iam_audit_append(api->service->audit, request->arena, &record) : IAM_ENOMEM;
    if (result != IAM_OK)
        log_failure(request, &record, result, "outcome");
}

/* --- the batched records: token requests and failed authentications --- */

void iam_api_audit_count(struct iam_api *api, const struct iam_http_request *request,
                         const struct iam_http_response *response, const char *action, const char *mechanism,
                         const struct iam_principal *who, const struct iam_authn_refusal *refused)
{
    struct iam_audit_batch *batch = api && api->service ? api->service->audit_batch : NULL;
    if (!batch || !request || !response || !action)
        return;
    int status = response->status ? response->status : 500;
    bool success = status >= 100 && status < 400;
    struct iam_audit_record event;
    memset(&event, 0, sizeof event);
    event.request_id = request->request_id;
    event.client_address = request->client_address;
    event.method = request->method;
    event.route = request->route;
    event.action = action;
    event.mechanism = mechanism;
    event.status = status;
    event.outcome = success ? "success" : "failure";
    if (success && who) {
        event.actor_iam_id = who->iam_id;
        event.actor_account_id = who->account_id;
        event.actor_apikey_id = who->apikey_id;
        event.account_id = who->account_id;
        if (who->apikey_id) {
            event.target_type = "apikey";
            event.target_id = who->apikey_id;
        } else if (who->kind == IAM_PRINCIPAL_SERVICE_ID) {
            event.target_type = "serviceid";
            event.target_id = who->subject_id;
        } else {
            event.target_type = "user";
            event.target_id = who->iam_id;
        }
    } else if (!success && refused) {
        /* What the refused key named: its owner and account when it is a stored key, else its id at most. */
        event.actor_iam_id = refused->iam_id;
        event.actor_account_id = refused->account_id;
        event.actor_apikey_id = refused->apikey_id;
        event.account_id = refused->account_id;
        if (refused->apikey_id) {
            event.target_type = "apikey";
            event.target_id = refused->apikey_id;
        }
    }
    if (!success) {
        /* IBM's API error body (errors[0]) or its token error body (errorCode, and OAuth's error). */
        event.error_code = response_error_member(response, "code");
        if (!event.error_code)
            event.error_code = response_member(response, "error");
        event.message_code = response_error_member(response, "message_code");
        if (!event.message_code)
            event.message_code = response_member(response, "errorCode");
    }
    iam_audit_batch_add(batch, &event);
}

/* --- rendering --- */

static json_t *hash_json(const uint8_t hash[IAM_AUDIT_HASH_SIZE])
{
    char hex[2 * IAM_AUDIT_HASH_SIZE + 1];
    iam_hex_encode(hash, IAM_AUDIT_HASH_SIZE, hex);
    return json_string(hex);
}

static json_t *event_json(const struct iam_audit_record *record)
{
    json_t *actor = json_pack("{s:s?,s:s?,s:s?,s:s?}", "iam_id", record->actor_iam_id, "account_id",
                              record->actor_account_id, "apikey_id", record->actor_apikey_id, "client_address",
                              record->client_address);
    json_t *target = json_pack("{s:s?,s:s?,s:s?}", "account_id", record->account_id, "type", record->target_type,
                               "id", record->target_id);
    return json_pack("{s:I,s:o,s:o,s:I,s:s?,s:s?,s:o,s:s?,s:s?,s:s?,s:s?,s:o,s:s?,s:I,s:s?,s:s?,s:o,s:o}", "seq",
                     (json_int_t)record->seq, "time", iam_api_time_ms_json(record->time_ms), "window_start",
                     iam_api_time_ms_json(record->window_start_ms), "count", (json_int_t)record->count, "request_id",
                     record->request_id, "phase", record->phase, "actor", actor, "action", record->action, "method",
                     record->method, "route", record->route, "mechanism", record->mechanism, "target", target,
                     "outcome", record->outcome, "status", (json_int_t)record->status, "error_code",
                     record->error_code, "message_code", record->message_code, "prev_hash",
                     hash_json(record->prev_hash), "hash", hash_json(record->hash));
}

/* --- GET /v1/audit/events --- */

static const char *const filter_names[] = {"account_id", "actor", "action", "target", "outcome", "from", "to", NULL};

struct audit_page {
    const char *filters[sizeof filter_names / sizeof filter_names[0]]; /* by index of filter_names */
    int64_t before_seq;
    int64_t limit;
};

static enum iam_result bad_query(struct iam_error *err, const char *message)
{
    return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "%s", message);
}

static enum iam_result token_decode(struct iam_arena *arena, const char *token, struct audit_page *page,
                                    struct iam_error *err)
{
    static const char malformed[] = "The pagetoken is not valid.";
    size_t length = strlen(token);
    uint8_t decoded[AUDIT_PAGETOKEN_MAX];
    size_t decoded_length = 0;
    if (length == 0 || length > AUDIT_PAGETOKEN_MAX ||
        iam_base64url_decode(token, length, decoded, sizeof decoded, &decoded_length) != IAM_OK)
        return bad_query(err, malformed);
    json_t *object = json_loadb((const char *)decoded, decoded_length, JSON_REJECT_DUPLICATES, NULL);
    json_t *before = json_object_get(object, "b");
    json_t *filters = json_object_get(object, "f");
    enum iam_result result = IAM_OK;
    if (!json_is_object(object) || json_object_size(object) != 2 || !json_is_integer(before) ||
        json_integer_value(before) < 1 || !json_is_object(filters)) {
        result = bad_query(err, malformed);
        goto out;
    }
    page->before_seq = json_integer_value(before);
    const char *name;
    json_t *value;
    json_object_foreach(filters, name, value) {
        size_t index = 0;
        while (filter_names[index] && strcmp(filter_names[index], name) != 0)
            index++;
        if (!filter_names[index] || !json_is_string(value) ||
            strlen(json_string_value(value)) != json_string_length(value)) {
            result = bad_query(err, malformed);
            goto out;
        }
        page->filters[index] = iam_arena_strdup(arena, json_string_value(value));
        if (!page->filters[index]) {
            result = iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
            goto out;
        }
    }
out:
    json_decref(object);
    return result;
}

static enum iam_result page_parse(const struct iam_http_request *request, struct audit_page *page,
                                  struct iam_error *err)
{
    memset(page, 0, sizeof *page);
    page->limit = AUDIT_LIMIT_DEFAULT;
    const char *limit = iam_http_query(request, "limit");
    if (limit && !iam_api_page_size_parse(limit, IAM_STORE_LIST_LIMIT_MAX, &page->limit))
        return bad_query(err, "The query parameter limit must be a number from 1 to 100.");
    const char *token = iam_http_query(request, "pagetoken");
    if (token)
        return token_decode(request->arena, token, page, err);
    for (size_t i = 0; filter_names[i]; i++)
        page->filters[i] = iam_http_query(request, filter_names[i]);
    return IAM_OK;
}

static const char *page_filter(const struct audit_page *page, const char *name)
{
    for (size_t i = 0; filter_names[i]; i++)
        if (strcmp(filter_names[i], name) == 0)
            return page->filters[i];
    return NULL;
}

static enum iam_result time_filter(const char *text, const char *name, int64_t *milliseconds, struct iam_error *err)
{
    *milliseconds = 0;
    if (!text)
        return IAM_OK;
    int64_t seconds = 0;
    if (iam_time_parse(text, &seconds) != IAM_OK || seconds < 0)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0110E",
                             "The query parameter %s must be a time such as 2024-05-01T12:00:00Z.", name);
    *milliseconds = seconds * 1000;
    return IAM_OK;
}

/* Reads the page's filters into the store query. */
static enum iam_result query_from_page(const struct audit_page *page, struct iam_audit_query *query,
                                       struct iam_error *err)
{
    memset(query, 0, sizeof *query);
    query->account_id = page_filter(page, "account_id");
    query->actor_iam_id = page_filter(page, "actor");
    query->action = page_filter(page, "action");
    query->target_id = page_filter(page, "target");
    query->outcome = page_filter(page, "outcome");
    query->before_seq = page->before_seq;
    query->limit = page->limit;
    if (!query->account_id || !*query->account_id)
        return bad_query(err, "The query parameter account_id is required.");
    const char *const texts[] = {query->account_id, query->actor_iam_id, query->action, query->target_id};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (texts[i] && strlen(texts[i]) > AUDIT_FILTER_MAX)
            return bad_query(err, "A query parameter is too long.");
    if (query->outcome && strcmp(query->outcome, "success") != 0 && strcmp(query->outcome, "failure") != 0 &&
        strcmp(query->outcome, "pending") != 0)
        return bad_query(err, "The query parameter outcome must be success, failure or pending.");
    enum iam_result result = time_filter(page_filter(page, "from"), "from", &query->from_ms, err);
    if (result == IAM_OK)
        result = time_filter(page_filter(page, "to"), "to", &query->to_ms, err);
    if (result == IAM_OK && query->from_ms && query->to_ms && query->from_ms >= query->to_ms)
        result = bad_query(err, "The query parameter from must be before to.");
    return result;
}

static enum iam_result append_parameter(struct iam_buf *buf, const char *name, const char *value)
{
    enum iam_result result = iam_buf_append_str(buf, buf->length ? "&" : "?");
    if (result == IAM_OK)
        result = iam_buf_append_str(buf, name);
    if (result == IAM_OK)
        result = iam_buf_append_str(buf, "=");
    if (result == IAM_OK)
        result = iam_api_append_url_encoded(buf, value);
    return result;
}

/* A pagetoken continuing below `before_seq` with the page's filters, in the arena. */
static const char *token_encode(struct iam_arena *arena, const struct audit_page *page, int64_t before_seq)
{
    json_t *filters = json_object();
    json_t *object = json_pack("{s:I,s:o}", "b", (json_int_t)before_seq, "f", filters);
    const char *token = NULL;
    if (!object)
        return NULL;
    for (size_t i = 0; filter_names[i]; i++)
        if (page->filters[i] && json_object_set_new(filters, filter_names[i], json_string(page->filters[i])) != 0)
            goto out;
    token = iam_api_token_from_json(arena, object, JSON_COMPACT | JSON_SORT_KEYS);
out:
    json_decref(object);
    return token;
}

/* Adds limit, first and (when has_more) next to `body`. */
static enum iam_result page_links(struct iam_http_request *request, const struct iam_api *api,
                                  const struct audit_page *page, bool has_more, int64_t last_seq, json_t *body)
{
    struct iam_buf query;
    iam_buf_init(&query, AUDIT_LINK_MAX);
    enum iam_result result = IAM_OK;
    for (size_t i = 0; result == IAM_OK && filter_names[i]; i++)
        if (page->filters[i])
            result = append_parameter(&query, filter_names[i], page->filters[i]);
    char limit[24];
    snprintf(limit, sizeof limit, "%lld", (long long)page->limit);
    if (result == IAM_OK)
        result = append_parameter(&query, "limit", limit);
    const char *public_url = api->service->options.public_url ? api->service->options.public_url : "";
    size_t public_length = strlen(public_url);
    while (public_length > 0 && public_url[public_length - 1] == '/')
        public_length--;
    const char *first = result == IAM_OK ? iam_arena_printf(request->arena, "%.*s/v1/audit/events%s",
                                                            (int)public_length, public_url, query.data)
                                         : NULL;
    iam_buf_free(&query);
    if (!first)
        return IAM_ENOMEM;
    if (json_object_set_new(body, "limit", json_integer(page->limit)) != 0 ||
        json_object_set_new(body, "first", json_string(first)) != 0)
        return IAM_ENOMEM;
    if (has_more) {
        const char *token = token_encode(request->arena, page, last_seq);
        const char *next = token ? iam_arena_printf(request->arena, "%s&pagetoken=%s", first, token) : NULL;
        if (!next || json_object_set_new(body, "next", json_string(next)) != 0)
            return IAM_ENOMEM;
    }
    return IAM_OK;
}

static void list_events(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct audit_page page;
    struct iam_audit_query query;
    struct iam_audit_record *items = NULL;
    size_t count = 0;
    bool has_more = false;
    if (page_parse(request, &page, &err) != IAM_OK || query_from_page(&page, &query, &err) != IAM_OK ||
        iam_audit_list(api->service, request->arena, &who, &query, &items, &count, &has_more, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    json_t *body = json_object();
    json_t *events = json_array();
    bool complete = body && events;
    for (size_t i = 0; complete && i < count; i++)
        complete = json_array_append_new(events, event_json(&items[i])) == 0;
    if (complete)
        complete = page_links(request, api, &page, has_more, count ? items[count - 1].seq : 0, body) == IAM_OK;
    if (complete) {
        complete = json_object_set_new(body, "events", events) == 0;
        events = NULL;
    }
    if (!complete) {
        json_decref(events);
        json_decref(body);
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, 200, body);
}

/* --- GET /v1/audit/events/{seq} --- */

static bool seq_parse(const char *text, int64_t *seq)
{
    size_t length = text ? strlen(text) : 0;
    int64_t value = 0;
    if (length == 0 || length > 18)
        return false;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        value = value * 10 + (text[i] - '0');
    }
    *seq = value;
    return value >= 1;
}

static void get_event(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    const char *account_id = iam_http_query(request, "account_id");
    if (!account_id)
        account_id = who.account_id;
    int64_t seq = 0;
    struct iam_audit_record record;
    if (!seq_parse(iam_http_path_param(request, 0), &seq)) {
        iam_api_fail(request, response, IAM_ENOTFOUND, "BXNIM0404E", "Audit record not found.");
        return;
    }
    if (iam_audit_get(api->service, request->arena, &who, account_id, seq, &record, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    json_t *body = event_json(&record);
    if (!body) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, 200, body);
}

enum iam_result iam_api_audit_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result = iam_router_add(router, "GET", "/v1/audit/events", list_events, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "GET", "/v1/audit/events/{seq}", get_event, api);
    if (result == IAM_OK) {
        struct iam_router_hooks hooks = {.before = audit_before, .after = audit_after, .context = api};
        iam_router_set_hooks(router, &hooks);
    }
    return result;
}
