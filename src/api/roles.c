/*
 * roles.c: the IBM Policy Management role routes (/v2/roles): list (custom,
 * service and system roles), create, get, replace (If-Match), delete.
 * Handlers parse, call iam/roles.h and render.
 *
 * Status and codes: 201 create, 200 get/replace/list, 204 delete; 400
 * invalid_body, 403 insufficent_permissions, 404 role_not_found / not_found,
 * 409 role_conflict_error (details.conflicts_with {etag, role}) /
 * request_not_processed, 500/503 unable_to_process.
 */
#include <string.h>

#include "api/access_api.h"
#include "iam/policies.h"
#include "iam/roles.h"

static void respond_role(struct iam_http_request *request, struct iam_http_response *response, struct iam_api *api,
                         int status, const struct iam_role_record *record)
{
    json_t *body = iam_role_render(api->service, request->arena, record);
    if (!body) {
        struct iam_error err;
        iam_access_error(&err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
        iam_api_access_error(request, response, &err, NULL);
        return;
    }
    iam_http_respond_json(request, response, status, body);
    iam_api_set_etag(request, response, record->entity_tag);
}

static void respond_failure(struct iam_http_request *request, struct iam_http_response *response,
                            struct iam_api *api, const struct iam_error *err, const struct iam_role_record *conflict)
{
    json_t *details = NULL;
    if (conflict && conflict->id && err->result == IAM_ECONFLICT) {
        json_t *role = iam_role_render(api->service, request->arena, conflict);
        details = role ? json_pack("{s:{s:s,s:o}}", "conflicts_with", "etag",
                                   conflict->entity_tag ? conflict->entity_tag : "", "role", role)
                       : NULL;
    }
    iam_api_access_error(request, response, err, details);
}

static void list_roles(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_role_list_request list = {
        .account_id = iam_api_access_query(request, "account_id"),
        .service_name = iam_api_access_query(request, "service_name"),
        .source_service_name = iam_api_access_query(request, "source_service_name"),
        .policy_type = iam_api_access_query(request, "policy_type"),
        .service_group_id = iam_api_access_query(request, "service_group_id"),
    };
    struct iam_role_collection roles;
    if (iam_role_list(api->service, request->arena, &who, &list, &roles, &err) != IAM_OK) {
        iam_api_access_error(request, response, &err, NULL);
        return;
    }
    json_t *custom = json_array();
    for (size_t i = 0; custom && i < roles.custom_count; i++) {
        if (json_array_append_new(custom, iam_role_render(api->service, request->arena, &roles.custom_roles[i])) !=
            0) {
            json_decref(custom);
            custom = NULL;
        }
    }
    json_t *system_roles = json_object_get(roles.catalogue, "system_roles");
    json_t *service_roles = json_object_get(roles.catalogue, "service_roles");
    system_roles = json_is_array(system_roles) ? json_incref(system_roles) : json_array();
    service_roles = json_is_array(service_roles) ? json_incref(service_roles) : json_array();
    json_t *body = NULL;
    if (custom && system_roles && service_roles) {
        body = json_pack("{s:o,s:o,s:o}", "custom_roles", custom, "service_roles", service_roles, "system_roles",
                         system_roles); /* steals all three, even on failure */
    } else {
        json_decref(custom);
        json_decref(system_roles);
        json_decref(service_roles);
    }
    json_decref(roles.catalogue);
    if (!body) {
        iam_access_error(&err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
        iam_api_access_error(request, response, &err, NULL);
        return;
    }
    iam_http_respond_json(request, response, 200, body);
}

static void create_role(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    struct iam_role_record record, conflict;
    memset(&conflict, 0, sizeof conflict);
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_role_create(api->service, request->arena, &who, body, &record, &conflict, &err) != IAM_OK)
        respond_failure(request, response, api, &err, &conflict);
    else
        respond_role(request, response, api, 201, &record);
    json_decref(body);
}

static void get_role(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_role_record record;
    if (iam_role_get(api->service, request->arena, &who, iam_http_path_param(request, 0), &record, &err) != IAM_OK)
        iam_api_access_error(request, response, &err, NULL);
    else
        respond_role(request, response, api, 200, &record);
}

static void replace_role(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char *expected = NULL;
    struct iam_role_record record, conflict;
    memset(&conflict, 0, sizeof conflict);
    if (iam_api_if_match(request, &expected, &err) != IAM_OK ||
        iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_role_replace(api->service, request->arena, &who, iam_http_path_param(request, 0), expected, body, &record,
                         &conflict, &err) != IAM_OK)
        respond_failure(request, response, api, &err, &conflict);
    else
        respond_role(request, response, api, 200, &record);
    json_decref(body);
}

static void delete_role(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_role_delete(api->service, request->arena, &who, iam_http_path_param(request, 0), &err) != IAM_OK)
        iam_api_access_error(request, response, &err, NULL);
    else
        iam_http_respond_empty(response, 204);
}

enum iam_result iam_api_roles_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result;
    if ((result = iam_router_add(router, "GET", "/v2/roles", list_roles, api)) != IAM_OK ||
        (result = iam_router_add(router, "POST", "/v2/roles", create_role, api)) != IAM_OK ||
        (result = iam_router_add(router, "GET", "/v2/roles/{id}", get_role, api)) != IAM_OK ||
        (result = iam_router_add(router, "PUT", "/v2/roles/{id}", replace_role, api)) != IAM_OK ||
        (result = iam_router_add(router, "DELETE", "/v2/roles/{id}", delete_role, api)) != IAM_OK)
        return result;
    return IAM_OK;
}
