/*
 * policies.c: the IBM Policy Management policy routes, v1 (/v1/policies)
 * and v2 (/v2/policies): list, create, get, replace (If-Match), update state
 * (If-Match), delete. Handlers parse, call iam/policies.h and render; the
 * rules live in iam/. Also the Policy Management error body and query
 * readers shared by the other access handler files (access_api.h).
 *
 * Status and codes: 201 create, 200 get/replace/patch/list, 204 delete;
 * 400 invalid_body / missing_required_query_parameter, 401 (from
 * iam_api_authenticate), 403 insufficent_permissions, 404 policy_not_found /
 * not_found, 409 policy_conflict_error (with details.conflicts_with
 * {etag, policy}) / request_not_processed, 500/503 unable_to_process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access_api.h"
#include "api/pagination.h"
#include "common/buf.h"
#include "iam/policies.h"

#define LINK_MAX 4096

/* --- shared helpers (access_api.h) --- */

static const char *const policy_management_codes[] = {
    "insufficent_permissions", "invalid_body", "invalid_token", "missing_required_query_parameter", "not_found",
    "policy_not_found", "role_not_found", "resource_not_found", "policy_conflict_error", "role_conflict_error",
    "request_not_processed", "too_many_requests", "unable_to_process", "unsupported_content_type", NULL};

static const char *closest_code(enum iam_result result)
{
    switch (result) {
    case IAM_EINVAL: return "invalid_body";
    case IAM_EUNAUTH: return "invalid_token";
    case IAM_EDENIED: return "insufficent_permissions";
    case IAM_ENOTFOUND: return "not_found";
    case IAM_ECONFLICT:
    case IAM_ELOCKED:
    case IAM_ETOOBIG: return "request_not_processed";
    case IAM_ETOOMANY: return "too_many_requests";
    default: return "unable_to_process";
    }
}

void iam_api_access_error(struct iam_http_request *request, struct iam_http_response *response,
                          const struct iam_error *err, json_t *details)
{
    enum iam_result result = err && err->result != IAM_OK ? err->result : IAM_EINTERNAL;
    int status = iam_api_status_for(result);
    const char *code = closest_code(result);
    for (const char *const *known = policy_management_codes; err && *known; known++)
        if (strcmp(*known, err->code) == 0)
            code = *known;
    const char *message = err && err->message[0] ? err->message : iam_strerror(result);
    json_t *error = json_pack("{s:s,s:s}", "code", code, "message", message);
    if (error && details && json_object_set(error, "details", details) != 0) {
        json_decref(error);
        error = NULL;
    }
    json_decref(details);
    json_t *body = error ? json_pack("{s:s,s:[o],s:i}", "trace", request->request_id, "errors", error,
                                     "status_code", status)
                         : NULL;
    iam_http_respond_json(request, response, status, body);
}

const char *iam_api_access_query(const struct iam_http_request *request, const char *name)
{
    const char *value = iam_http_query(request, name);
    return value && *value ? value : NULL;
}

enum iam_result iam_api_access_query_integer(const struct iam_http_request *request, const char *name, int64_t min,
                                             int64_t max, int64_t *value, struct iam_error *err)
{
    *value = 0;
    const char *text = iam_api_access_query(request, name);
    if (!text)
        return IAM_OK;
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || parsed < min || parsed > max)
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "The query parameter %s must be %lld to %lld.", name,
                                (long long)min, (long long)max);
    *value = parsed;
    return IAM_OK;
}

/* --- links --- */

struct query_copy {
    struct iam_buf *buf;
    enum iam_result result;
};

static bool copy_parameter(void *context, const char *name, const char *value)
{
    struct query_copy *copy = context;
    if (strcmp(name, "start") == 0)
        return true;
    if ((copy->result = iam_buf_append_str(copy->buf, copy->buf->length ? "&" : "?")) != IAM_OK ||
        (copy->result = iam_api_append_url_encoded(copy->buf, name)) != IAM_OK)
        return false;
    if (value && ((copy->result = iam_buf_append_str(copy->buf, "=")) != IAM_OK ||
                  (copy->result = iam_api_append_url_encoded(copy->buf, value)) != IAM_OK))
        return false;
    return true;
}

/* The list's first-page URL: public URL + path + the request's query minus start (arena). */
static const char *first_link(struct iam_http_request *request, const struct iam_api *api, const char *path)
{
    struct iam_buf query;
    iam_buf_init(&query, LINK_MAX);
    struct query_copy copy = {.buf = &query, .result = IAM_OK};
    iam_http_query_each(request, copy_parameter, &copy);
    const char *url = api->service->options.public_url ? api->service->options.public_url : "";
    size_t length = strlen(url);
    while (length > 0 && url[length - 1] == '/')
        length--;
    const char *link = copy.result == IAM_OK ? iam_arena_printf(request->arena, "%.*s%s%s", (int)length, url, path,
                                                                query.data ? query.data : "")
                                             : NULL;
    iam_buf_free(&query);
    return link;
}

static json_t *page_link(struct iam_http_request *request, const char *first, const char *start)
{
    const char *href = iam_arena_printf(request->arena, "%s%sstart=%s", first, strchr(first, '?') ? "&" : "?", start);
    return href ? json_pack("{s:s,s:s}", "href", href, "start", start) : NULL;
}

/* --- rendering --- */

static const char *path_for(enum iam_policy_api api)
{
    return api == IAM_POLICY_API_V1 ? "/v1/policies" : "/v2/policies";
}

static void respond_policy(struct iam_http_request *request, struct iam_http_response *response,
                           struct iam_api *api, int status, const struct iam_policy_record *record,
                           enum iam_policy_api version, unsigned flags)
{
    json_t *body = iam_policy_render(api->service, request->arena, record, version, flags);
    if (!body) {
        struct iam_error err;
        iam_access_error(&err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
        iam_api_access_error(request, response, &err, NULL);
        return;
    }
    iam_http_respond_json(request, response, status, body);
    iam_api_set_etag(request, response, record->entity_tag);
}

/* The error, with details.conflicts_with {etag, policy} when a conflicting policy is known. */
static void respond_failure(struct iam_http_request *request, struct iam_http_response *response,
                            struct iam_api *api, const struct iam_error *err, const struct iam_policy_record *conflict,
                            enum iam_policy_api version)
{
    json_t *details = NULL;
    if (conflict && conflict->id && err->result == IAM_ECONFLICT) {
        json_t *policy = iam_policy_render(api->service, request->arena, conflict, version, 0);
        details = policy ? json_pack("{s:{s:s,s:o}}", "conflicts_with", "etag",
                                     conflict->entity_tag ? conflict->entity_tag : "", "policy", policy)
                         : NULL;
    }
    iam_api_access_error(request, response, err, details);
}

/* --- handlers --- */

static void list_policies(struct iam_http_request *request, struct iam_http_response *response, struct iam_api *api,
                          enum iam_policy_api version)
{
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_policy_list_request list = {
        .api = version,
        .account_id = iam_api_access_query(request, "account_id"),
        .iam_id = iam_api_access_query(request, "iam_id"),
        .access_group_id = iam_api_access_query(request, "access_group_id"),
        .type = iam_api_access_query(request, "type"),
        .service_type = iam_api_access_query(request, "service_type"),
        /* v2 only (IBM's v1 list has no such filters; unknown parameters are ignored) */
        .service_name = version == IAM_POLICY_API_V2 ? iam_api_access_query(request, "service_name") : NULL,
        .service_group_id = version == IAM_POLICY_API_V2 ? iam_api_access_query(request, "service_group_id") : NULL,
        .tag_name = iam_api_access_query(request, "tag_name"),
        .tag_value = iam_api_access_query(request, "tag_value"),
        .sort = iam_api_access_query(request, "sort"),
        .state = iam_api_access_query(request, "state"),
        .format = iam_api_access_query(request, "format"),
        .start = iam_api_access_query(request, "start"),
    };
    struct iam_policy_page page;
    unsigned flags = 0;
    if (iam_api_access_query_integer(request, "limit", 1, IAM_POLICY_LIST_LIMIT_MAX, &list.limit, &err) != IAM_OK ||
        iam_policy_format_parse(list.format, &flags, &err) != IAM_OK ||
        iam_policy_list(api->service, request->arena, &who, &list, &page, &err) != IAM_OK) {
        iam_api_access_error(request, response, &err, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < page.count; i++) {
        if (json_array_append_new(items, iam_policy_render(api->service, request->arena, &page.items[i], version,
                                                           flags)) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    const char *first = first_link(request, api, path_for(version));
    json_t *body = NULL;
    if (items && first)
        body = json_pack("{s:I,s:{s:s},s:o}", "limit", (json_int_t)page.limit, "first", "href", first, "policies",
                         items); /* steals items, even on failure */
    else
        json_decref(items);
    if (body && page.next_start && json_object_set_new(body, "next", page_link(request, first, page.next_start)) != 0)
        goto fail;
    if (body && page.previous_start &&
        json_object_set_new(body, "previous", page_link(request, first, page.previous_start)) != 0)
        goto fail;
    if (!body)
        goto fail;
    iam_http_respond_json(request, response, 200, body);
    return;
fail:
    json_decref(body);
    iam_access_error(&err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
    iam_api_access_error(request, response, &err, NULL);
}

static void create_policy(struct iam_http_request *request, struct iam_http_response *response, struct iam_api *api,
                          enum iam_policy_api version)
{
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    struct iam_policy_record record, conflict;
    memset(&conflict, 0, sizeof conflict);
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_policy_create(api->service, request->arena, &who, version, body, &record, &conflict, &err) != IAM_OK)
        respond_failure(request, response, api, &err, &conflict, version);
    else
        respond_policy(request, response, api, 201, &record, version, 0);
    json_decref(body);
}

static void get_policy(struct iam_http_request *request, struct iam_http_response *response, struct iam_api *api,
                       enum iam_policy_api version)
{
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_policy_record record;
    unsigned flags = 0;
    if (iam_policy_format_parse(iam_api_access_query(request, "format"), &flags, &err) != IAM_OK ||
        iam_policy_get(api->service, request->arena, &who, iam_http_path_param(request, 0), &record, &err) != IAM_OK)
        iam_api_access_error(request, response, &err, NULL);
    else
        respond_policy(request, response, api, 200, &record, version, flags);
}

static void replace_policy(struct iam_http_request *request, struct iam_http_response *response,
                           struct iam_api *api, enum iam_policy_api version)
{
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char *expected = NULL;
    struct iam_policy_record record, conflict;
    memset(&conflict, 0, sizeof conflict);
    if (iam_api_if_match(request, &expected, &err) != IAM_OK ||
        iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_policy_replace(api->service, request->arena, &who, iam_http_path_param(request, 0), expected, version,
                           body, &record, &conflict, &err) != IAM_OK)
        respond_failure(request, response, api, &err, &conflict, version);
    else
        respond_policy(request, response, api, 200, &record, version, 0);
    json_decref(body);
}

static void patch_policy(struct iam_http_request *request, struct iam_http_response *response, struct iam_api *api,
                         enum iam_policy_api version)
{
    static const char *const fields[] = {"state", NULL};
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char *expected = NULL;
    const char *state = NULL;
    struct iam_policy_record record, conflict;
    memset(&conflict, 0, sizeof conflict);
    if (iam_api_if_match(request, &expected, &err) != IAM_OK ||
        iam_api_json_body(request, false, &body, &err) != IAM_OK || iam_api_only_fields(body, fields, &err) != IAM_OK) {
        respond_failure(request, response, api, &err, NULL, version);
        goto out;
    }
    state = json_string_value(json_object_get(body, "state"));
    if (!state) {
        iam_access_error(&err, IAM_EINVAL, "invalid_body", "The property state is required (active or deleted).");
        respond_failure(request, response, api, &err, NULL, version);
        goto out;
    }
    if (iam_policy_set_state(api->service, request->arena, &who, iam_http_path_param(request, 0), expected, state,
                             &record, &conflict, &err) != IAM_OK)
        respond_failure(request, response, api, &err, &conflict, version);
    else
        respond_policy(request, response, api, 200, &record, version, 0);
out:
    json_decref(body);
}

static void delete_policy(struct iam_http_request *request, struct iam_http_response *response, struct iam_api *api)
{
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_policy_delete(api->service, request->arena, &who, iam_http_path_param(request, 0), &err) != IAM_OK)
        iam_api_access_error(request, response, &err, NULL);
    else
        iam_http_respond_empty(response, 204);
}

static void list_v1(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    list_policies(request, response, context, IAM_POLICY_API_V1);
}
static void list_v2(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    list_policies(request, response, context, IAM_POLICY_API_V2);
}
static void create_v1(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    create_policy(request, response, context, IAM_POLICY_API_V1);
}
static void create_v2(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    create_policy(request, response, context, IAM_POLICY_API_V2);
}
static void get_v1(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    get_policy(request, response, context, IAM_POLICY_API_V1);
}
static void get_v2(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    get_policy(request, response, context, IAM_POLICY_API_V2);
}
static void replace_v1(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    replace_policy(request, response, context, IAM_POLICY_API_V1);
}
static void replace_v2(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    replace_policy(request, response, context, IAM_POLICY_API_V2);
}
static void patch_v1(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    patch_policy(request, response, context, IAM_POLICY_API_V1);
}
static void patch_v2(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    patch_policy(request, response, context, IAM_POLICY_API_V2);
}
static void delete_any(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    delete_policy(request, response, context);
}

enum iam_result iam_api_policies_register(struct iam_router *router, struct iam_api *api)
{
    static const struct {
        const char *method;
        const char *pattern;
        iam_http_handler handler;
    } routes[] = {
        {"GET", "/v1/policies", list_v1},
        {"POST", "/v1/policies", create_v1},
        {"GET", "/v1/policies/{id}", get_v1},
        {"PUT", "/v1/policies/{id}", replace_v1},
        {"PATCH", "/v1/policies/{id}", patch_v1},
        {"DELETE", "/v1/policies/{id}", delete_any},
        {"GET", "/v2/policies", list_v2},
        {"POST", "/v2/policies", create_v2},
        {"GET", "/v2/policies/{id}", get_v2},
        {"PUT", "/v2/policies/{id}", replace_v2},
        {"PATCH", "/v2/policies/{id}", patch_v2},
        {"DELETE", "/v2/policies/{id}", delete_any},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        enum iam_result result = iam_router_add(router, routes[i].method, routes[i].pattern, routes[i].handler, api);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}
