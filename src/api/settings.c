/*
 * settings.c: the account identity settings routes of the IBM Identity API:
 * GET and PUT /v1/accounts/{account_id}/settings/identity and
 * GET /v1/accounts/{account_id}/effective_settings/identity (no templates
 * exist, so the effective settings are the account's own).
 * Handlers parse, call iam/settings.h and render; the rules live in iam/.
 *
 * Message codes (set here or in iam/settings.c):
 *   BXNIM0105E 404 account not found (another account)
 *   BXNIM0109E 400 a setting, the body or If-Match missing or invalid
 *   BXNIM0500E 500 internal error
 *   BXNIM0501E 409 stale entity tag (If-Match)
 *   BXNIM0503E 503 store unavailable
 *   BXNIM0513E 403 not allowed (from iam_authz_check)
 */
#include "api/api.h"
#include "api/pagination.h"
#include "iam/settings.h"

/* {account_id, entity_tag, history, <every setting>} */
static json_t *settings_json(const struct iam_settings_view *view)
{
    json_t *object = json_pack("{s:s,s:s,s:o}", "account_id", view->account_id, "entity_tag", view->entity_tag,
                               "history", iam_api_history_json(view->history, view->history_count));
    if (object && json_object_update(object, view->settings) != 0) {
        json_decref(object);
        return NULL;
    }
    return object;
}

static void respond_settings(struct iam_http_request *request, struct iam_http_response *response,
                             const struct iam_settings_view *view)
{
    json_t *body = settings_json(view);
    if (!body) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
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
    struct iam_settings_view view = {0};
    bool include_history;
    if (iam_api_query_bool(request, "include_history", false, &include_history, &err) != IAM_OK ||
        iam_settings_get(api->service, request->arena, &who, iam_http_path_param(request, 0), include_history, &view,
                         &err) != IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        respond_settings(request, response, &view);
    iam_settings_view_release(&view);
}

static void update_settings(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_settings_view view = {0};
    const char *expected = NULL;
    json_t *body = NULL;
    if (iam_api_if_match(request, &expected, &err) != IAM_OK ||
        iam_api_json_body(request, true, &body, &err) != IAM_OK ||
        iam_api_only_fields(body, iam_settings_fields, &err) != IAM_OK ||
        iam_settings_update(api->service, request->arena, &who, iam_http_path_param(request, 0), expected, body, &view,
                            &err) != IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        respond_settings(request, response, &view);
    iam_settings_view_release(&view);
    json_decref(body);
}

static void get_effective_settings(struct iam_http_request *request, struct iam_http_response *response,
                                   void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_settings_view view = {0};
    bool include_history;
    if (iam_api_query_bool(request, "include_history", false, &include_history, &err) != IAM_OK ||
        iam_settings_get(api->service, request->arena, &who, iam_http_path_param(request, 0), include_history, &view,
                         &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
    } else {
        json_t *body = json_pack("{s:s,s:O,s:o,s:[]}", "account_id", view.account_id, "effective", view.settings,
                                 "account", settings_json(&view), "assigned_templates");
        if (body)
            iam_http_respond_json(request, response, 200, body);
        else
            iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    }
    iam_settings_view_release(&view);
}

enum iam_result iam_api_settings_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result;
    if ((result = iam_router_add(router, "GET", "/v1/accounts/{account_id}/settings/identity", get_settings, api)) !=
            IAM_OK ||
        (result = iam_router_add(router, "PUT", "/v1/accounts/{account_id}/settings/identity", update_settings,
                                 api)) != IAM_OK ||
        (result = iam_router_add(router, "GET", "/v1/accounts/{account_id}/effective_settings/identity",
                                 get_effective_settings, api)) != IAM_OK)
        return result;
    return IAM_OK;
}
