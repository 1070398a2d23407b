/*
 * stubs.c: empty answers for the list endpoints of features iamd does not
 * have yet (trusted profiles, profile templates, account settings
 * templates). IBM's integration tests call them during cleanup, so they
 * answer 200 with an empty list and the usual paging fields, to any
 * authenticated caller, whatever account_id is asked for.
 *
 * Message codes: BXNIM0110E 400 pagesize or pagetoken invalid; BXNIM0500E
 * 500 internal error (plus the 401 codes of iam_api_authenticate).
 */
#include "api/api.h"
#include "api/pagination.h"

static const char *const stub_filters[] = {"account_id", "name", "sort", "order", "include_history", NULL};

static void respond_empty_list(struct iam_http_request *request, struct iam_http_response *response,
                               struct iam_api *api, const char *path, const char *name)
{
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_api_page page;
    if (iam_api_page_parse(request, stub_filters, &page, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    iam_api_page_respond(request, response, api, path, &page, false, name, json_array());
}

static void list_profiles(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    respond_empty_list(request, response, context, "/v1/profiles", "profiles");
}

static void list_profile_templates(struct iam_http_request *request, struct iam_http_response *response,
                                   void *context)
{
    respond_empty_list(request, response, context, "/v1/profile_templates", "profile_templates");
}

static void list_account_settings_templates(struct iam_http_request *request, struct iam_http_response *response,
                                            void *context)
{
    respond_empty_list(request, response, context, "/v1/account_settings_templates", "account_settings_templates");
}

enum iam_result iam_api_stubs_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result;
    if ((result = iam_router_add(router, "GET", "/v1/profiles", list_profiles, api)) != IAM_OK ||
        (result = iam_router_add(router, "GET", "/v1/profile_templates", list_profile_templates, api)) != IAM_OK ||
        (result = iam_router_add(router, "GET", "/v1/account_settings_templates", list_account_settings_templates,
                                 api)) != IAM_OK)
        return result;
    return IAM_OK;
}
