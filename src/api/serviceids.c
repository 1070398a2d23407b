/*
 * serviceids.c: the /v1/serviceids routes of the IBM Identity API (create,
 * list, get, update, delete, lock/unlock). Handlers parse, call
 * iam/service_ids.h and render; the rules live in iam/.
 *
 * Message codes (set here or in iam/service_ids.c and iam/apikeys.c):
 *   BXNIM0103E 404 service ID not found (also: another account's service ID)
 *   BXNIM0105E 404 account not found (create or list in another account)
 *   BXNIM0109E 400 request body property or header missing or invalid
 *   BXNIM0110E 400 query parameter invalid (account_id, pagesize, pagetoken, filter, sort, order)
 *   BXNIM0500E 500 internal error
 *   BXNIM0501E 409 stale entity tag (If-Match)
 *   BXNIM0503E 503 store unavailable
 *   BXNIM0510E 409 service ID locked, or one of its API keys locked (delete)
 *   BXNIM0511E 409 an API key with the supplied value exists (create with apikey)
 *   BXNIM0513E 403 not allowed (from iam_authz_check)
 */
#include <string.h>

#include "api/api.h"
#include "api/pagination.h"
#include "common/ids.h"
#include "crypto/hash.h"
#include "iam/service_ids.h"

static const char *const create_fields[] = {"account_id", "name", "group_id", "description",
                                            "unique_instance_crns", "apikey", NULL};
static const char *const create_key_fields[] = {"name",        "description", "apikey", "store_value",
                                                "action_when_leaked", "expires_at", NULL};
static const char *const update_fields[] = {"name", "description", "unique_instance_crns", NULL};
static const char *const list_filters[] = {"account_id", "group_id", "name", "filter", "sort", "order", NULL};

static json_t *service_id_json(const struct iam_service_id_view *view, bool show_group_id)
{
    const struct iam_service_id_record *record = &view->record;
    char crn[IAM_CRN_SIZE];
    iam_identity_crn(crn, record->account_id, "serviceid", record->id);
    json_t *crns = json_array();
    for (size_t i = 0; crns && i < view->unique_instance_crn_count; i++) {
        if (json_array_append_new(crns, json_string(view->unique_instance_crns[i])) != 0) {
            json_decref(crns);
            crns = NULL;
        }
    }
    json_t *object = json_pack("{s:s,s:s,s:s,s:s,s:b,s:o,s:o,s:s,s:s,s:s*,s:o}", "id", record->id, "iam_id",
                               record->iam_id, "entity_tag", record->entity_tag ? record->entity_tag : "", "crn", crn,
                               "locked", record->locked, "created_at", iam_api_time_json(record->created_at),
                               "modified_at", iam_api_time_json(record->modified_at), "account_id",
                               record->account_id, "name", record->name ? record->name : "", "description",
                               record->description, "unique_instance_crns", crns);
    if (!object)
        return NULL;
    bool complete = true;
    if (show_group_id && record->group_id)
        complete = json_object_set_new(object, "group_id", json_string(record->group_id)) == 0;
    if (complete && view->has_history)
        complete =
            json_object_set_new(object, "history", iam_api_history_json(view->history, view->history_count)) == 0;
    if (complete && view->has_activity)
        complete = json_object_set_new(object, "activity",
                                       json_pack("{s:I,s:o*}", "authn_count", (json_int_t)view->authn_count,
                                                 "last_authn",
                                                 view->last_authn ? iam_api_time_json(view->last_authn) : NULL)) == 0;
    if (complete && view->has_apikey)
        complete = json_object_set_new(object, "apikey", iam_api_apikey_json(&view->apikey)) == 0;
    if (!complete) {
        json_decref(object);
        return NULL;
    }
    return object;
}

/* Responds with the service ID (and its ETag), or with the error when rendering fails. */
static void respond_service_id(struct iam_http_request *request, struct iam_http_response *response, int status,
                               const struct iam_service_id_view *view, bool show_group_id)
{
    json_t *body = service_id_json(view, show_group_id);
    if (!body) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, status, body);
    iam_api_set_etag(request, response, view->record.entity_tag);
}

/* Reads unique_instance_crns, an array of strings, into an arena array. */
static enum iam_result read_crns(struct iam_arena *arena, const json_t *body, bool *present, const char *const **out,
                                 size_t *count, struct iam_error *err)
{
    const json_t *array = json_object_get(body, "unique_instance_crns");
    *present = array != NULL;
    *out = NULL;
    *count = 0;
    if (!array)
        return IAM_OK;
    if (!json_is_array(array) || json_array_size(array) > IAM_SERVICE_ID_CRNS_MAX)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E",
                             "The property unique_instance_crns must be a list of at most %d strings.",
                             IAM_SERVICE_ID_CRNS_MAX);
    const char **items = iam_arena_alloc(arena, (json_array_size(array) + 1) * sizeof *items);
    if (!items)
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    size_t index;
    json_t *item;
    json_array_foreach(array, index, item) {
        if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item))
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property unique_instance_crns must hold strings.");
        items[index] = json_string_value(item);
    }
    *out = items;
    *count = json_array_size(array);
    return IAM_OK;
}

static enum iam_result read_create_key(const json_t *object, struct iam_apikey_create_request *out,
                                       struct iam_error *err)
{
    bool present;
    enum iam_result result;
    if (!json_is_object(object))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property apikey must be an object.");
    if ((result = iam_api_only_fields(object, create_key_fields, err)) != IAM_OK ||
        (result = iam_api_body_string(object, "name", &out->name, err)) != IAM_OK ||
        (result = iam_api_body_string(object, "description", &out->description, err)) != IAM_OK ||
        (result = iam_api_body_string(object, "apikey", &out->apikey, err)) != IAM_OK ||
        (result = iam_api_body_bool(object, "store_value", &present, &out->store_value, err)) != IAM_OK ||
        (result = iam_api_body_string(object, "action_when_leaked", &out->action_when_leaked, err)) != IAM_OK ||
        (result = iam_api_body_time(object, "expires_at", &present, &out->expires_at, err)) != IAM_OK)
        return result;
    return IAM_OK;
}

static enum iam_result read_create(struct iam_arena *arena, const json_t *body,
                                   struct iam_service_id_create_request *out, struct iam_apikey_create_request *key,
                                   struct iam_error *err)
{
    bool present;
    enum iam_result result;
    if ((result = iam_api_only_fields(body, create_fields, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "account_id", &out->account_id, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "name", &out->name, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "group_id", &out->group_id, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "description", &out->description, err)) != IAM_OK ||
        (result = read_crns(arena, body, &present, &out->unique_instance_crns, &out->unique_instance_crn_count,
                            err)) != IAM_OK)
        return result;
    const json_t *apikey = json_object_get(body, "apikey");
    if (apikey) {
        if ((result = read_create_key(apikey, key, err)) != IAM_OK)
            return result;
        out->apikey = key;
    }
    return IAM_OK;
}

static void create_service_id(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_service_id_create_request create = {0};
    struct iam_apikey_create_request key = {0};
    struct iam_service_id_view view;
    bool show_group_id;
    json_t *body = NULL;
    if (iam_api_query_bool(request, "show_group_id", false, &show_group_id, &err) != IAM_OK ||
        iam_api_header_bool(request, "Entity-Lock", &create.locked, &err) != IAM_OK ||
        iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        read_create(request->arena, body, &create, &key, &err) != IAM_OK ||
        iam_service_id_create(api->service, request->arena, &who, &create, &view, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
    } else {
        respond_service_id(request, response, 201, &view, show_group_id);
        if (view.apikey.value)
            iam_wipe((char *)view.apikey.value, strlen(view.apikey.value));
    }
    iam_api_body_wipe_string(json_object_get(body, "apikey"), "apikey");
    json_decref(body);
}

static void list_service_ids(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_api_page page;
    struct iam_service_id_list_request list = {0};
    struct iam_service_id_page found;
    bool show_group_id;
    if (iam_api_page_parse(request, list_filters, &page, &err) != IAM_OK ||
        iam_api_query_bool(request, "include_history", false, &list.include_history, &err) != IAM_OK ||
        iam_api_query_bool(request, "show_group_id", false, &show_group_id, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    list.account_id = iam_api_page_filter(&page, "account_id");
    list.group_id = iam_api_page_filter(&page, "group_id");
    list.name = iam_api_page_filter(&page, "name");
    list.filter = iam_api_page_filter(&page, "filter");
    list.sort = iam_api_page_filter(&page, "sort");
    list.order = iam_api_page_filter(&page, "order");
    list.offset = page.offset;
    list.limit = page.limit;
    if (iam_service_id_list(api->service, request->arena, &who, &list, &found, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < found.count; i++) {
        if (json_array_append_new(items, service_id_json(&found.items[i], show_group_id)) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    iam_api_page_respond(request, response, api, "/v1/serviceids", &page, found.has_more, "serviceids", items);
}

static void get_service_id(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_service_id_read_options options = {0};
    struct iam_service_id_view view;
    bool show_group_id;
    if (iam_api_query_bool(request, "include_history", false, &options.include_history, &err) != IAM_OK ||
        iam_api_query_bool(request, "include_activity", false, &options.include_activity, &err) != IAM_OK ||
        iam_api_query_bool(request, "show_group_id", false, &show_group_id, &err) != IAM_OK ||
        iam_service_id_get(api->service, request->arena, &who, iam_http_path_param(request, 0), &options, &view,
                           &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    respond_service_id(request, response, 200, &view, show_group_id);
}

static enum iam_result read_update(struct iam_arena *arena, const json_t *body,
                                   struct iam_service_id_update_request *out, struct iam_error *err)
{
    enum iam_result result;
    if ((result = iam_api_only_fields(body, update_fields, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "name", &out->name, err)) != IAM_OK ||
        (result = iam_api_body_string(body, "description", &out->description, err)) != IAM_OK ||
        (result = read_crns(arena, body, &out->set_unique_instance_crns, &out->unique_instance_crns,
                            &out->unique_instance_crn_count, err)) != IAM_OK)
        return result;
    return IAM_OK;
}

static void update_service_id(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_service_id_update_request update = {0};
    struct iam_service_id_view view;
    const char *expected = NULL;
    bool show_group_id;
    json_t *body = NULL;
    if (iam_api_query_bool(request, "show_group_id", false, &show_group_id, &err) != IAM_OK ||
        iam_api_if_match(request, &expected, &err) != IAM_OK ||
        iam_api_json_body(request, true, &body, &err) != IAM_OK ||
        read_update(request->arena, body, &update, &err) != IAM_OK ||
        iam_service_id_update(api->service, request->arena, &who, iam_http_path_param(request, 0), expected, &update,
                              &view, &err) != IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        respond_service_id(request, response, 200, &view, show_group_id);
    json_decref(body);
}

enum service_id_change { SERVICE_ID_DELETE, SERVICE_ID_LOCK, SERVICE_ID_UNLOCK };

/* The body-less operations: 204 on success. */
static void change_service_id(struct iam_http_request *request, struct iam_http_response *response,
                              struct iam_api *api, enum service_id_change change)
{
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    const char *id = iam_http_path_param(request, 0);
    enum iam_result result;
    if (change == SERVICE_ID_DELETE)
        result = iam_service_id_delete(api->service, request->arena, &who, id, &err);
    else
        result = iam_service_id_set_locked(api->service, request->arena, &who, id, change == SERVICE_ID_LOCK, &err);
    if (result != IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        iam_http_respond_empty(response, 204);
}

static void delete_service_id(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    change_service_id(request, response, context, SERVICE_ID_DELETE);
}

static void lock_service_id(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    change_service_id(request, response, context, SERVICE_ID_LOCK);
}

static void unlock_service_id(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    change_service_id(request, response, context, SERVICE_ID_UNLOCK);
}

enum iam_result iam_api_serviceids_register(struct iam_router *router, struct iam_api *api)
{
    static const struct {
        const char *method;
        const char *pattern;
        iam_http_handler handler;
    } routes[] = {
        {"GET", "/v1/serviceids", list_service_ids},
        {"POST", "/v1/serviceids", create_service_id},
        {"GET", "/v1/serviceids/{id}", get_service_id},
        {"PUT", "/v1/serviceids/{id}", update_service_id},
        {"DELETE", "/v1/serviceids/{id}", delete_service_id},
        {"POST", "/v1/serviceids/{id}/lock", lock_service_id},
        {"DELETE", "/v1/serviceids/{id}/lock", unlock_service_id},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        enum iam_result result = iam_router_add(router, routes[i].method, routes[i].pattern, routes[i].handler, api);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}
