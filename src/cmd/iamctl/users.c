/*
 * users.c: the users of the account over iamd's own user API
 * (/v1/accounts/{account_id}/users): users, user-invite, user-remove, and
 * the look-up of a user by iam_id, login or e-mail.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "output.h"
#include "table.h"

#define AMBIGUOUS_SHOWN 5

static int list_users(struct iamctl_context *context, json_t **items)
{
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/accounts");
    iamctl_url_segment(&url, context->account_id);
    iamctl_url_segment(&url, "users");
    iamctl_url_query(&url, "pagesize", "100");
    const char *path = iamctl_url_text(&url);
    int status = path ? iamctl_http_list(&context->http, path, "users", items) : iamctl_fail("out of memory");
    iamctl_url_free(&url);
    return status;
}

static void show_user(const struct iamctl_context *context, const json_t *user)
{
    if (context->json) {
        iamctl_print_json(user);
        return;
    }
    char password[32];
    const char *pairs[] = {
        "IAM ID",       iamctl_json_string(user, "iam_id"),
        "Login",        iamctl_json_string(user, "login"),
        "Email",        iamctl_json_string(user, "email"),
        "Given Name",   iamctl_json_string(user, "given_name"),
        "Family Name",  iamctl_json_string(user, "family_name"),
        "State",        iamctl_json_string(user, "state"),
        "Password Set", iamctl_json_text(user, "password_set", password, sizeof password),
        "Created At",   iamctl_json_string(user, "created_at"),
        NULL,
    };
    iamctl_table_print_pairs(stdout, pairs);
}

int iamctl_user_resolve(struct iamctl_context *context, const char *text, json_t **user)
{
    *user = NULL;
    json_t *items = NULL;
    int status = list_users(context, &items);
    if (status != IAMCTL_EXIT_OK)
        return status;
    json_t *found = NULL;
    size_t matches = 0;
    char ids[1024] = "";
    size_t used = 0;
    size_t index;
    json_t *item;
    json_array_foreach(items, index, item) {
        bool match = strcmp(iamctl_json_str(item, "iam_id"), text) == 0 ||
                     strcasecmp(iamctl_json_str(item, "login"), text) == 0 ||
                     strcasecmp(iamctl_json_str(item, "email"), text) == 0;
        if (!match)
            continue;
        /* An exact iam_id or login match wins over e-mail matches. */
        if (strcmp(iamctl_json_str(item, "iam_id"), text) == 0 || strcasecmp(iamctl_json_str(item, "login"), text) == 0) {
            found = item;
            matches = 1;
            break;
        }
        if (matches < AMBIGUOUS_SHOWN) {
            int n = snprintf(ids + used, sizeof ids - used, "%s%s", matches ? ", " : "",
                             iamctl_json_str(item, "login"));
            if (n > 0 && (size_t)n < sizeof ids - used)
                used += (size_t)n;
        }
        matches++;
        found = item;
    }
    if (matches == 0)
        status = iamctl_fail("no user '%s' in account %s", text, context->account_id);
    else if (matches > 1)
        status = iamctl_fail("%zu users have the e-mail address '%s' (%s); give the login instead", matches, text,
                             ids);
    else
        *user = json_incref(found);
    json_decref(items);
    return status;
}

int iamctl_cmd_users(struct iamctl_context *context)
{
    json_t *items = NULL;
    int status = list_users(context, &items);
    if (status != IAMCTL_EXIT_OK)
        return status;
    if (context->json) {
        iamctl_print_json(items);
    } else {
        static const char *const headers[] = {"LOGIN", "EMAIL", "NAME", "IAM ID", "STATE", NULL};
        struct iamctl_table table;
        iamctl_table_init(&table, headers);
        size_t index;
        json_t *item;
        json_array_foreach(items, index, item) {
            char name[256];
            snprintf(name, sizeof name, "%s%s%s", iamctl_json_str(item, "given_name"),
                     *iamctl_json_str(item, "given_name") && *iamctl_json_str(item, "family_name") ? " " : "",
                     iamctl_json_str(item, "family_name"));
            const char *cells[] = {iamctl_json_string(item, "login"), iamctl_json_string(item, "email"), name,
                                   iamctl_json_string(item, "iam_id"), iamctl_json_string(item, "state")};
            if (iamctl_table_add(&table, cells) != IAM_OK) {
                status = iamctl_fail("out of memory");
                break;
            }
        }
        if (status == IAMCTL_EXIT_OK)
            iamctl_table_print(&table, stdout);
        iamctl_table_free(&table);
    }
    json_decref(items);
    return status;
}

/* Adds a new user to the groups named in --access-groups (comma-separated). */
static int add_to_groups(struct iamctl_context *context, const char *iam_id, const char *groups)
{
    int status = IAMCTL_EXIT_OK;
    const char *cursor = groups;
    while (*cursor) {
        size_t length = strcspn(cursor, ",");
        char name[256];
        if (length == 0 || length >= sizeof name)
            return iamctl_usage(context->command->name, "--access-groups holds an empty or too long group name");
        memcpy(name, cursor, length);
        name[length] = '\0';
        json_t *group = NULL;
        if ((status = iamctl_group_resolve(context, name, &group)) != IAMCTL_EXIT_OK)
            return status;
        struct iamctl_url url;
        iamctl_url_init(&url, "/v2/groups");
        iamctl_url_segment(&url, iamctl_json_str(group, "id"));
        iamctl_url_segment(&url, "members");
        json_t *body = json_pack("{s:[{s:s,s:s}]}", "members", "iam_id", iam_id, "type", "user");
        struct iamctl_response response = {0};
        status = body ? iamctl_http_call(&context->http, "PUT", iamctl_url_text(&url), body, NULL, NULL, &response)
                      : iamctl_fail("out of memory");
        const json_t *member = json_array_get(json_object_get(response.body, "members"), 0);
        const json_t *code = json_object_get(member, "status_code");
        if (status == IAMCTL_EXIT_OK && !(json_is_integer(code) && json_integer_value(code) < 300)) {
            const char *message, *error_code;
            iamctl_http_error_text(member, &message, &error_code);
            status = iamctl_fail("the user was created but not added to %s: %s (%s)", name, message, error_code);
        } else if (status == IAMCTL_EXIT_OK && !context->json) {
            iamctl_say(context->quiet, "Added %s to access group %s", iam_id, iamctl_json_str(group, "name"));
        }
        iamctl_response_free(&response);
        json_decref(body);
        iamctl_url_free(&url);
        json_decref(group);
        if (status != IAMCTL_EXIT_OK)
            return status;
        cursor += length;
        if (*cursor == ',')
            cursor++;
    }
    return status;
}

int iamctl_cmd_user_invite(struct iamctl_context *context)
{
    const char *email = iamctl_arg(context, 0);
    const char *login = iamctl_flag(context, "login");
    const char *given = iamctl_flag(context, "given-name");
    const char *family = iamctl_flag(context, "family-name");
    if (!strchr(email, '@'))
        return iamctl_usage(context->command->name, "'%s' is not an e-mail address", email);
    if (!given || !family)
        return iamctl_usage(context->command->name, "give --given-name and --family-name");
    json_t *body = json_pack("{s:s,s:s,s:s,s:s}", "login", login ? login : email, "email", email, "given_name",
                             given, "family_name", family);
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/accounts");
    iamctl_url_segment(&url, context->account_id);
    iamctl_url_segment(&url, "users");
    struct iamctl_response response = {0};
    int status = body ? iamctl_http_call(&context->http, "POST", iamctl_url_text(&url), body, NULL, NULL, &response)
                      : iamctl_fail("out of memory");
    json_decref(body);
    iamctl_url_free(&url);
    if (status == IAMCTL_EXIT_OK) {
        if (context->quiet && !context->json) {
            printf("%s\n", iamctl_json_str(response.body, "iam_id"));
        } else {
            if (!context->json)
                iamctl_say(false, "Invited %s to account %s", email, context->account_id);
            show_user(context, response.body);
        }
        const char *groups = iamctl_flag(context, "access-groups");
        if (groups)
            status = add_to_groups(context, iamctl_json_str(response.body, "iam_id"), groups);
    }
    iamctl_response_free(&response);
    return status;
}

int iamctl_cmd_user_remove(struct iamctl_context *context)
{
    json_t *user = NULL;
    int status = iamctl_user_resolve(context, iamctl_arg(context, 0), &user);
    if (status != IAMCTL_EXIT_OK)
        return status;
    const char *iam_id = iamctl_json_str(user, "iam_id");
    const char *login = iamctl_json_str(user, "login");
    if (!iamctl_has_flag(context, "force")) {
        char question[512];
        snprintf(question, sizeof question, "Remove user %s (%s), their API keys and their policies?", login,
                 iam_id);
        if (!iamctl_confirm(question)) {
            json_decref(user);
            return iamctl_fail("not removed (use -f to remove without asking)");
        }
    }
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/accounts");
    iamctl_url_segment(&url, context->account_id);
    iamctl_url_segment(&url, "users");
    iamctl_url_segment(&url, iam_id);
    struct iamctl_response response = {0};
    status = iamctl_http_call(&context->http, "DELETE", iamctl_url_text(&url), NULL, NULL, NULL, &response);
    if (status == IAMCTL_EXIT_OK && !context->json)
        iamctl_say(context->quiet, "Removed user %s (%s)", login, iam_id);
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(user);
    return status;
}
