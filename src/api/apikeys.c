/*
 * apikeys.c: the /v1/apikeys routes of the IBM Identity API (create, list,
 * details by value, get, update, delete, lock/unlock, disable/enable).
 * Handlers parse, call iam/apikeys.h and render; the rules live in iam/.
 *
 * Message codes (set here or in iam/apikeys.c):
 *   BXNIM0102E 404 API key not found (also: another account's key)
 *   BXNIM0103E 404 service ID not found (create for a missing service ID)
 *   BXNIM0104E 404 user not found (create for a missing user)
 *   BXNIM0105E 404 account not found (list in another account)
 *   BXNIM0109E 400 request body property or header missing or invalid
 *   BXNIM0110E 400 query parameter invalid (pagesize, pagetoken, filter, sort, order, scope, type)
 *   BXNIM0500E 500 internal error
 *   BXNIM0501E 409 stale entity tag (If-Match)
 *   BXNIM0503E 503 store unavailable
 *   BXNIM0510E 409 API key locked (update, delete)
 *   BXNIM0511E 409 an API key with the supplied value exists
 *   BXNIM0513E 403 not allowed (from iam_authz_check)
 */
#include <string.h>

#include "api/api.h"
#include "api/pagination.h"
#include "crypto/hash.h"
#include "iam/apikeys.h"

static const char *const create_fields[] = {"name",     "iam_id",           "description",        "account_id",
                                            "apikey",   "store_value",      "support_sessions",   "action_when_leaked",
                                            "expires_at", NULL};
static const char *const update_fields[] = {"name", "description", "support_sessions", "action_when_leaked",
                                            "expires_at", NULL};
static const char *const list_filters[] = {"account_id", "iam_id", "scope", "type",     "filter",
                                           "sort",       "order",  "group_id", NULL};

/* Responds with the key (and its ETag), or with the error when rendering fails. */
static void respond_key(struct iam_http_request *request, struct iam_http_response *response, int status,
                        const struct iam_apikey_view *view)
{
    json_t *body = iam_api_apikey_json(view);
    if (!body) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, status, body);
    iam_api_set_etag(request, response, view->record.entity_tag);
}

static enum iam_result read_create(const json_t *body, struct iam_apikey_create_request *out, struct iam_error *err)
{
    bool present;
    enum iam_result result;
    if ((result = iam_api_only_fields(body, create_fields, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "name", &out->name, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "iam_id", &out->iam_id, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "description", &out->description, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "account_id", &out->account_id, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "apikey", &out->apikey, err)) != IAM_OK ||
        (result = iam_api_body_bool(body, "store_value", &present, &out->store_value, err)) != IAM_OK ||
        (result = iam_api_body_bool(body, "support_sessions", &present, &out->support_sessions, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "action_when_leaked", &out->action_when_leaked, err)) != IAM_OK ||
        (result = iam_api_body_time(body, "expires_at", &present, &out->expires_at, err)) != IAM_OK)
        return result;
    return IAM_OK;
}

static void create_key(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_apikey_create_request create = {0};
    struct iam_apikey_view view = {0};
    json_t *body = NULL;
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK || read_create(body, &create, &err) != IAM_OK ||
        iam_api_header_bool(request, "Entity-Lock", &create.locked, &err) != IAM_OK ||
        iam_api_header_bool(request, "Entity-Disable", &create.disabled, &err) != IAM_OK ||
        iam_apikey_create(api->service, request->arena, &who, &create, &view.record, &view.value, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
    } else {
        respond_key(request, response, 201, &view);
        iam_wipe((char *)view.value, strlen(view.value));
    }
    iam_api_body_wipe_string(body, "apikey");
    json_decref(body);
}

static void list_keys(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_api_page page;
    struct iam_apikey_list_request list = {0};
    struct iam_apikey_page found;
    if (iam_api_page_parse(request, list_filters, &page, &err) != IAM_OK ||
        iam_api_query_bool(request, "include_history", false, &list.include_history, &err) != IAM_OK)
        goto fail;
    list.account_id = iam_api_page_filter(&page, "account_id");
    list.iam_id = iam_api_page_filter(&page, "iam_id");
    list.scope = iam_api_page_filter(&page, "scope");
    list.type = iam_api_page_filter(&page, "type");
    list.filter = iam_api_page_filter(&page, "filter");
    list.sort = iam_api_page_filter(&page, "sort");
    list.order = iam_api_page_filter(&page, "order");
    list.offset = page.offset;
    list.limit = page.limit;
    if (iam_apikey_list(api->service, request->arena, &who, &list, &found, &err) != IAM_OK)
        goto fail;
    json_t *items = json_array();
    for (size_t i = 0; items && i < found.count; i++) {
        if (json_array_append_new(items, iam_api_apikey_json(&found.items[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    iam_api_page_respond(request, response, api, "/v1/apikeys", &page, found.has_more, "apikeys", items);
    return;
fail:
    iam_api_respond_error(request, response, &err);
}

static void get_details(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_apikey_read_options options = {0};
    struct iam_apikey_view view;
    const char *value = iam_http_header(request, "IAM-ApiKey");
    if (!value || !*value) {
        iam_api_fail(request, response, IAM_EINVAL, "BXNIM0109E", "The IAM-ApiKey header is required.");
        return;
    }
    if (iam_api_query_bool(request, "include_history", false, &options.include_history, &err) != IAM_OK ||
        iam_apikey_get_by_value(api->service, request->arena, &who, value, &options, &view, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    respond_key(request, response, 200, &view);
}

static void get_key(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_apikey_read_options options = {0};
    struct iam_apikey_view view;
    if (iam_api_query_bool(request, "include_history", false, &options.include_history, &err) != IAM_OK ||
        iam_api_query_bool(request, "include_activity", false, &options.include_activity, &err) != IAM_OK ||
        iam_apikey_get(api->service, request->arena, &who, iam_http_path_param(request, 0), &options, &view, &err) !=
            IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    respond_key(request, response, 200, &view);
}

static enum iam_result read_update(const json_t *body, struct iam_apikey_update_request *out, struct iam_error *err)
{
    enum iam_result result;
    if ((result = iam_api_only_fields(body, update_fields, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "name", &out->name, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "description", &out->description, err)) != IAM_OK ||
        (result = iam_api_body_bool(body, "support_sessions", &out->set_support_sessions, &out->support_sessions,
                                    err)) != IAM_OK ||
        (result = iam_api_body_string(body, "action_when_leaked", &out->action_when_leaked, err)) != IAM_OK ||
        (result = iam_api_body_time(body, "expires_at", &out->set_expires_at, &out->expires_at, err)) != IAM_OK)
        return result;
    return IAM_OK;
}

static void update_key(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_apikey_update_request update = {0};
    struct iam_apikey_view view;
    const char *expected = NULL;
    json_t *body = NULL;
    if (iam_api_if_match(request, &expected, &err) != IAM_OK ||
        iam_api_json_body(request, true, &body, &err) != IAM_OK ||
        read_update(body, &update, &err) != IAM_OK ||
        iam_apikey_update(api->service, request->arena, &who, iam_http_path_param(request, 0), expected, &update,
                          &view, &err) != IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        respond_key(request, response, 200, &view);
    json_decref(body);
}

enum key_change { KEY_DELETE, KEY_LOCK, KEY_UNLOCK, KEY_DISABLE, KEY_ENABLE };

/* The body-less operations: 204 on success. */
static void change_key(struct iam_http_request *request, struct iam_http_response *response, struct iam_api *api,
                       enum key_change change)
{
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    const char *id = iam_http_path_param(request, 0);
    struct iam_service *service = api->service;
    enum iam_result result;
    switch (change) {
    case KEY_DELETE: result = iam_apikey_delete(service, request->arena, &who, id, &err); break;
    case KEY_LOCK: result = iam_apikey_set_locked(service, request->arena, &who, id, true, &err); break;
    case KEY_UNLOCK: result = iam_apikey_set_locked(service, request->arena, &who, id, false, &err); break;
    case KEY_DISABLE: result = iam_apikey_set_disabled(service, request->arena, &who, id, true, &err); break;
    case KEY_ENABLE: result = iam_apikey_set_disabled(service, request->arena, &who, id, false, &err); break;
    default: result = iam_error_set(&err, IAM_EINTERNAL, "BXNIM0500E", "Unknown operation."); break;
    }
    if (result != IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        iam_http_respond_empty(response, 204);
}

static void delete_key(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    change_key(request, response, context, KEY_DELETE);
}

static void lock_key(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    change_key(request, response, context, KEY_LOCK);
}

static void unlock_key(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    change_key(request, response, context, KEY_UNLOCK);
}

static void disable_key(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    change_key(request, response, context, KEY_DISABLE);
}

static void enable_key(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    change_key(request, response, context, KEY_ENABLE);
}

enum iam_result iam_api_apikeys_register(struct iam_router *router, struct iam_api *api)
{
    static const struct {
        const char *method;
        const char *pattern;
        iam_http_handler handler;
    } routes[] = {
        {"GET", "/v1/apikeys", list_keys},
        {"POST", "/v1/apikeys", create_key},
        {"GET", "/v1/apikeys/details", get_details},
        {"GET", "/v1/apikeys/{id}", get_key},
        {"PUT", "/v1/apikeys/{id}", update_key},
        {"DELETE", "/v1/apikeys/{id}", delete_key},
        {"POST", "/v1/apikeys/{id}/lock", lock_key},
        {"DELETE", "/v1/apikeys/{id}/lock", unlock_key},
        {"POST", "/v1/apikeys/{id}/disable", disable_key},
        {"DELETE", "/v1/apikeys/{id}/disable", enable_key},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        enum iam_result result = iam_router_add(router, routes[i].method, routes[i].pattern, routes[i].handler, api);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}
