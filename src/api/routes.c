/*
 * routes.c: the whole route table (each resource file registers its own
 * routes), health, and the answers for unknown routes and methods.
 */
#include "api/access_api.h"
#include "api/accounts_api.h"
#include "api/api.h"
#include "api/audit_api.h"
#include "api/console_api.h"
#include "api/groups_api.h"

static void handle_healthz(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    iam_http_respond_json(request, response, 200, json_pack("{s:s}", "status", "ok"));
}

static void handle_fallback(struct iam_http_request *request, struct iam_http_response *response,
                            bool method_not_allowed, void *context)
{
    (void)context;
    if (method_not_allowed)
        iam_api_server_error(request, response, 405, "This method is not allowed on this endpoint.");
    else
        iam_api_fail(request, response, IAM_ENOTFOUND, "BXNIM0404E", "No such API endpoint.");
}

enum iam_result iam_api_register_all(struct iam_router *router, struct iam_api *api)
{
    iam_router_set_fallback(router, handle_fallback, api);
    enum iam_result result = iam_router_add(router, "GET", "/healthz", handle_healthz, api);
    if (result == IAM_OK)
        result = iam_api_token_register(router, api);
    if (result == IAM_OK)
        result = iam_api_serviceids_register(router, api);
    if (result == IAM_OK)
        result = iam_api_apikeys_register(router, api);
    if (result == IAM_OK)
        result = iam_api_settings_register(router, api);
    if (result == IAM_OK)
        result = iam_api_stubs_register(router, api);
    if (result == IAM_OK)
        result = iam_api_authz_register(router, api);
    if (result == IAM_OK)
        result = iam_api_groups_register(router, api);
    if (result == IAM_OK)
        result = iam_api_accounts_register(router, api);
    if (result == IAM_OK)
        result = iam_api_users_register(router, api);
    if (result == IAM_OK)
        result = iam_api_policies_register(router, api);
    if (result == IAM_OK)
        result = iam_api_roles_register(router, api);
    if (result == IAM_OK)
        result = iam_api_services_register(router, api);
    if (result == IAM_OK)
        result = iam_api_access_settings_register(router, api);
    if (result == IAM_OK)
        result = iam_api_console_register(router, api);
    if (result == IAM_OK)
        result = iam_api_metrics_register(router, api);
    if (result == IAM_OK)
        result = iam_api_activity_register(router, api);
    if (result == IAM_OK)
        result = iam_api_audit_register(router, api);
    return result;
}
