/*
 * activity.c: the activity report routes of the IBM Identity API (reference
 * section 7, the "inactive identities" report):
 *
 *   POST /v1/activity/accounts/{account_id}/report?type=inactive&duration=720
 *        -> 202 {"reference": "..."}
 *   GET  /v1/activity/accounts/{account_id}/report/{reference}   ("latest" allowed)
 *        -> 200 Report
 *
 * Handlers parse, call iam/activity.h and render; the rules live in iam/.
 *
 * Message codes (set here or in iam/activity.c):
 *   BXNIM0105E 404 account not found (another account)
 *   BXNIM0110E 400 bad type or duration query parameter
 *   BXNIM0112E 404 report not found
 *   BXNIM0500E 500 internal error
 *   BXNIM0503E 503 store unavailable
 *   BXNIM0513E 403 not allowed (from iam_authz_check)
 */
#include <string.h>

#include "api/api.h"
#include "iam/activity.h"

static void create_report(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    const char *reference = NULL;
    if (iam_activity_report_create(api->service, request->arena, &who, iam_http_path_param(request, 0),
                                   iam_http_query(request, "type"), iam_http_query(request, "duration"), &reference,
                                   &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    json_t *body = json_pack("{s:s}", "reference", reference);
    if (!body) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, 202, body);
}

static void get_report(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    const char *report = NULL;
    if (iam_activity_report_get(api->service, request->arena, &who, iam_http_path_param(request, 0),
                                iam_http_path_param(request, 1), &report, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    iam_http_respond_raw(request, response, 200, "application/json", report, strlen(report));
}

enum iam_result iam_api_activity_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result =
        iam_router_add(router, "POST", "/v1/activity/accounts/{account_id}/report", create_report, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "GET", "/v1/activity/accounts/{account_id}/report/{reference}", get_report,
                                api);
    return result;
}
