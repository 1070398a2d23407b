/*
 * accounts.c: iamd's own account routes (IBM does not publish these):
 * POST /v1/accounts (instance operator only: creates an account and its
 * owner user), GET /v1/accounts (the operator: every account; others: their
 * own), GET /v1/accounts/{account_id}. Errors use the Identity format with
 * the codes listed in iam/accounts.h. The owner's password is wiped from
 * the parsed body before it is freed.
 */
#include "api/accounts_api.h"
#include "api/api.h"
#include "api/pagination.h"
#include "iam/accounts.h"

static const char *const create_fields[] = {"name", "owner", NULL};
static const char *const owner_fields[] = {"login", "email", "given_name", "family_name", "password", NULL};
static const char *const no_filters[] = {NULL};

static json_t *account_json(const struct iam_account_record *account)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "id", account->id, "name", account->name ? account->name : "",
                     "state", account->state ? account->state : "", "owner_iam_id",
                     account->owner_iam_id ? account->owner_iam_id : "", "created_at",
                     iam_api_time_json(account->created_at), "modified_at", iam_api_time_json(account->modified_at));
}

static enum iam_result read_owner(const json_t *body, struct iam_user_create_request *owner, struct iam_error *err)
{
    const json_t *object = json_object_get(body, "owner");
    if (!json_is_object(object))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property owner must be an object {login, email, ...}.");
    enum iam_result result;
    if ((result = iam_api_only_fields(object, owner_fields, err)) != IAM_OK ||
        (result = iam_api_body_string(object, "login", &owner->login, err)) != IAM_OK ||
        (result = iam_api_body_string(object, "email", &owner->email, err)) != IAM_OK ||
        (result = iam_api_body_string(object, "given_name", &owner->given_name, err)) != IAM_OK ||
        (result = iam_api_body_string(object, "family_name", &owner->family_name, err)) != IAM_OK ||
        (result = iam_api_body_string(object, "password", &owner->password, err)) != IAM_OK)
        return result;
    return IAM_OK;
}

static void create_account(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    struct iam_account_create_request create = {0};
    struct iam_account_record account;
    struct iam_user_view owner;
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_api_only_fields(body, create_fields, &err) != IAM_OK ||
        iam_api_body_string(body, "name", &create.name, &err) != IAM_OK || read_owner(body, &create.owner, &err) != IAM_OK ||
        iam_account_create(api->service, request->arena, &who, &create, &account, &owner, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
    } else {
        json_t *answer = account_json(&account);
        if (!answer || json_object_set_new(answer, "owner", iam_api_user_json(&owner)) != 0) {
            json_decref(answer);
            iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        } else {
            iam_http_respond_json(request, response, 201, answer);
        }
    }
    iam_api_body_wipe_string(json_object_get(body, "owner"), "password");
    json_decref(body);
}

static void list_accounts(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_api_page page;
    struct iam_account_page found;
    if (iam_api_page_parse(request, no_filters, &page, &err) != IAM_OK ||
        iam_account_list(api->service, request->arena, &who, page.offset, page.limit, &found, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < found.count; i++) {
        if (json_array_append_new(items, account_json(&found.items[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    iam_api_page_respond(request, response, api, "/v1/accounts", &page, found.has_more, "accounts", items);
}

static void get_account(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_account_record account;
    if (iam_account_get(api->service, request->arena, &who, iam_http_path_param(request, 0), &account, &err) !=
        IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    json_t *answer = account_json(&account);
    if (!answer)
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    else
        iam_http_respond_json(request, response, 200, answer);
}

enum iam_result iam_api_accounts_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result;
    if ((result = iam_router_add(router, "POST", "/v1/accounts", create_account, api)) != IAM_OK ||
        (result = iam_router_add(router, "GET", "/v1/accounts", list_accounts, api)) != IAM_OK ||
        (result = iam_router_add(router, "GET", "/v1/accounts/{account_id}", get_account, api)) != IAM_OK)
        return result;
    return IAM_OK;
}
