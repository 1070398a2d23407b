/*
 * services.c: our service registry routes (not an IBM API): GET /v1/services,
 * GET/PUT/DELETE /v1/services/{name}. Only the instance operator may call
 * them. Handlers parse, call iam/service_registry.h and render.
 *
 * Status and codes: 200 get/list/replace, 201 first registration, 204
 * delete; 400 invalid_body, 403 insufficent_permissions, 404 not_found,
 * 409 request_not_processed (stale If-Match, built-in service), 500/503
 * unable_to_process. Errors use the Policy Management body.
 */
#include <string.h>

#include "api/access_api.h"
#include "iam/policies.h"
#include "iam/service_registry.h"

static void respond_service(struct iam_http_request *request, struct iam_http_response *response, int status,
                            const struct iam_service_def_record *record, bool builtin)
{
    json_t *body = iam_service_registry_render(record, builtin);
    if (!body) {
        struct iam_error err;
        iam_access_error(&err, IAM_EINTERNAL, "unable_to_process", "The service definition cannot be rendered.");
        iam_api_access_error(request, response, &err, NULL);
        return;
    }
    iam_http_respond_json(request, response, status, body);
    if (!builtin)
        iam_api_set_etag(request, response, record->entity_tag);
}

static void list_services(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_service_registry_entry *items = NULL;
    size_t count = 0;
    if (iam_service_registry_list(api->service, request->arena, &who, &items, &count, &err) != IAM_OK) {
        iam_api_access_error(request, response, &err, NULL);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; list && i < count; i++) {
        json_t *item = iam_service_registry_render(&items[i].record, items[i].builtin);
        if (item && json_array_append_new(list, item) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    json_t *body = list ? json_pack("{s:o}", "services", list) : NULL;
    if (!body) {
        iam_access_error(&err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
        iam_api_access_error(request, response, &err, NULL);
        return;
    }
    iam_http_respond_json(request, response, 200, body);
}

static void get_service(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_service_def_record record;
    bool builtin = false;
    if (iam_service_registry_get(api->service, request->arena, &who, iam_http_path_param(request, 0), &record,
                                 &builtin, &err) != IAM_OK)
        iam_api_access_error(request, response, &err, NULL);
    else
        respond_service(request, response, 200, &record, builtin);
}

static void put_service(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char *expected = NULL;
    struct iam_service_def_record record;
    bool created = false;
    if ((iam_http_header(request, "If-Match") && iam_api_if_match(request, &expected, &err) != IAM_OK) ||
        iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_service_registry_put(api->service, request->arena, &who, iam_http_path_param(request, 0), expected, body,
                                 &record, &created, &err) != IAM_OK)
        iam_api_access_error(request, response, &err, NULL);
    else
        respond_service(request, response, created ? 201 : 200, &record, false);
    json_decref(body);
}

static void delete_service(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_service_registry_delete(api->service, request->arena, &who, iam_http_path_param(request, 0), &err) !=
        IAM_OK)
        iam_api_access_error(request, response, &err, NULL);
    else
        iam_http_respond_empty(response, 204);
}

enum iam_result iam_api_services_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result;
    if ((result = iam_router_add(router, "GET", "/v1/services", list_services, api)) != IAM_OK ||
        (result = iam_router_add(router, "GET", "/v1/services/{name}", get_service, api)) != IAM_OK ||
        (result = iam_router_add(router, "PUT", "/v1/services/{name}", put_service, api)) != IAM_OK ||
        (result = iam_router_add(router, "DELETE", "/v1/services/{name}", delete_service, api)) != IAM_OK)
        return result;
    return IAM_OK;
}
