/*
 * access_settings.c: the IBM Policy Management access settings routes
 * (GET and PATCH /v1/accounts/{account_id}/settings/access_management;
 * PATCH needs If-Match). Handlers parse, call iam/access_settings.h and
 * render.
 *
 * Status and codes: 200; 400 invalid_body, 403 insufficent_permissions, 404
 * not_found, 409 request_not_processed (stale If-Match), 500/503
 * unable_to_process.
 */
#include "api/access_api.h"
#include "iam/access_settings.h"
#include "iam/policies.h"

static void respond_settings(struct iam_http_request *request, struct iam_http_response *response,
                             struct iam_access_settings_view *view)
{
    json_t *body = json_deep_copy(view->settings);
    iam_access_settings_view_release(view);
    if (!body) {
        struct iam_error err;
        iam_access_error(&err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
        iam_api_access_error(request, response, &err, NULL);
        return;
    }
    iam_http_respond_json(request, response, 200, body);
    iam_api_set_etag(request, response, view->entity_tag);
}

static void get_settings(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_access_settings_view view;
    if (iam_access_settings_get(api->service, request->arena, &who, iam_http_path_param(request, 0), &view, &err) !=
        IAM_OK)
        iam_api_access_error(request, response, &err, NULL);
    else
        respond_settings(request, response, &view);
}

static void update_settings(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    const char *expected = NULL;
    json_t *body = NULL;
    struct iam_access_settings_view view;
    if (iam_api_if_match(request, &expected, &err) != IAM_OK ||
        iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_access_settings_update(api->service, request->arena, &who, iam_http_path_param(request, 0), expected,
                                   body, &view, &err) != IAM_OK)
        iam_api_access_error(request, response, &err, NULL);
    else
        respond_settings(request, response, &view);
    json_decref(body);
}

enum iam_result iam_api_access_settings_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result;
    if ((result = iam_router_add(router, "GET", "/v1/accounts/{account_id}/settings/access_management", get_settings,
                                 api)) != IAM_OK ||
        (result = iam_router_add(router, "PATCH", "/v1/accounts/{account_id}/settings/access_management",
                                 update_settings, api)) != IAM_OK)
        return result;
    return IAM_OK;
}
