/*
 * users.c: iamd's own user administration routes (IBM does not publish
 * these): /v1/accounts/{account_id}/users (create, list),
 * /v1/accounts/{account_id}/users/{iam_id} (get, update with If-Match,
 * delete) and .../password (set). Handlers parse, call iam/users.h and
 * render; errors use the Identity format with the codes listed in
 * iam/users.h. Passwords are wiped from the parsed body before it is freed
 * and never appear in an answer.
 */
#include <stdio.h>
#include <string.h>

#include "api/accounts_api.h"
#include "api/api.h"
#include "api/pagination.h"
#include "iam/users.h"

static const char *const create_fields[] = {"login", "email", "given_name", "family_name", "password", NULL};
static const char *const update_fields[] = {"email", "given_name", "family_name", "state", NULL};
static const char *const password_fields[] = {"password", "current_password", NULL};
static const char *const no_filters[] = {NULL};

json_t *iam_api_user_json(const struct iam_user_view *view)
{
    const struct iam_user_record *user = &view->record;
    return json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:b,s:o,s:o,s:s}", "iam_id", user->iam_id, "account_id",
                     user->account_id, "login", user->login ? user->login : "", "email", user->email, "given_name",
                     user->given_name, "family_name", user->family_name, "state", user->state ? user->state : "",
                     "password_set", view->password_set, "created_at", iam_api_time_json(user->created_at),
                     "modified_at", iam_api_time_json(user->modified_at), "entity_tag",
                     user->entity_tag ? user->entity_tag : "");
}

static void respond_user(struct iam_http_request *request, struct iam_http_response *response, int status,
                         const struct iam_user_view *view)
{
    json_t *body = iam_api_user_json(view);
    if (!body) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, status, body);
    iam_api_set_etag(request, response, view->record.entity_tag);
}

static void wipe_passwords(json_t *body)
{
    iam_api_body_wipe_string(body, "password");
    iam_api_body_wipe_string(body, "current_password");
}

static void create_user(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    struct iam_user_create_request create = {0};
    struct iam_user_view view;
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_api_only_fields(body, create_fields, &err) != IAM_OK ||
        iam_api_body_string(body, "login", &create.login, &err) != IAM_OK ||
        iam_api_body_string(body, "email", &create.email, &err) != IAM_OK ||
        iam_api_body_string(body, "given_name", &create.given_name, &err) != IAM_OK ||
        iam_api_body_string(body, "family_name", &create.family_name, &err) != IAM_OK ||
        iam_api_body_string(body, "password", &create.password, &err) != IAM_OK ||
        iam_user_create(api->service, request->arena, &who, iam_http_path_param(request, 0), &create, &view, &err) !=
            IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        respond_user(request, response, 201, &view);
    wipe_passwords(body);
    json_decref(body);
}

static void list_users(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_api_page page;
    struct iam_user_page found;
    const char *account_id = iam_http_path_param(request, 0);
    if (iam_api_page_parse(request, no_filters, &page, &err) != IAM_OK ||
        iam_user_list(api->service, request->arena, &who, account_id, page.offset, page.limit, &found, &err) !=
            IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < found.count; i++) {
        if (json_array_append_new(items, iam_api_user_json(&found.items[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    const char *path = iam_arena_printf(request->arena, "/v1/accounts/%s/users", account_id);
    if (!path) {
        json_decref(items);
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_api_page_respond(request, response, api, path, &page, found.has_more, "users", items);
}

static void get_user(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_user_view view;
    if (iam_user_get(api->service, request->arena, &who, iam_http_path_param(request, 0),
                     iam_http_path_param(request, 1), &view, &err) != IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        respond_user(request, response, 200, &view);
}

static void update_user(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char *expected = NULL;
    struct iam_user_update_request update = {0};
    struct iam_user_view view;
    if (iam_api_if_match(request, &expected, &err) != IAM_OK ||
        iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_api_only_fields(body, update_fields, &err) != IAM_OK ||
        iam_api_body_string(body, "email", &update.email, &err) != IAM_OK ||
        iam_api_body_string(body, "given_name", &update.given_name, &err) != IAM_OK ||
        iam_api_body_string(body, "family_name", &update.family_name, &err) != IAM_OK ||
        iam_api_body_string(body, "state", &update.state, &err) != IAM_OK ||
        iam_user_update(api->service, request->arena, &who, iam_http_path_param(request, 0),
                        iam_http_path_param(request, 1), expected, &update, &view, &err) != IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        respond_user(request, response, 200, &view);
    json_decref(body);
}

static void delete_user(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_user_delete(api->service, request->arena, &who, iam_http_path_param(request, 0),
                        iam_http_path_param(request, 1), &err) != IAM_OK)
        iam_api_respond_error(request, response, &err);
    else
        iam_http_respond_empty(response, 204);
}

static void set_password(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char *password = NULL, *current_password = NULL;
    struct iam_user_view view;
    int64_t retry_after = 0;
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_api_only_fields(body, password_fields, &err) != IAM_OK ||
        iam_api_body_string(body, "password", &password, &err) != IAM_OK ||
        iam_api_body_string(body, "current_password", &current_password, &err) != IAM_OK ||
        iam_user_set_password(api->service, request->arena, &who, iam_http_path_param(request, 0),
                              iam_http_path_param(request, 1), password, current_password, request->client_address,
                              &retry_after, &view, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        if (err.result == IAM_ETOOMANY) {
            char seconds[24];
            snprintf(seconds, sizeof seconds, "%lld", (long long)retry_after);
            iam_http_add_header(request, response, "Retry-After", seconds);
        }
    } else {
        respond_user(request, response, 200, &view);
    }
    wipe_passwords(body);
    json_decref(body);
}

enum iam_result iam_api_users_register(struct iam_router *router, struct iam_api *api)
{
    static const struct {
        const char *method;
        const char *pattern;
        iam_http_handler handler;
    } routes[] = {
        {"POST", "/v1/accounts/{account_id}/users", create_user},
        {"GET", "/v1/accounts/{account_id}/users", list_users},
        {"GET", "/v1/accounts/{account_id}/users/{iam_id}", get_user},
        {"PATCH", "/v1/accounts/{account_id}/users/{iam_id}", update_user},
        {"DELETE", "/v1/accounts/{account_id}/users/{iam_id}", delete_user},
        {"PUT", "/v1/accounts/{account_id}/users/{iam_id}/password", set_password},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        enum iam_result result = iam_router_add(router, routes[i].method, routes[i].pattern, routes[i].handler, api);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}
