/*
 * groups.c: access group commands over IBM's Access Groups v2 (/v2/groups):
 * access-groups, access-group, -create, -update, -delete, and the members:
 * access-group-users / -user-add / -user-remove, access-group-service-ids /
 * -service-id-add / -service-id-remove. Groups are named by id or by name
 * (names are unique in an account, ignoring case).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "common/ids.h"
#include "output.h"
#include "table.h"

#define GROUP_MEMBERS_MAX 50

static void show_group(const struct iamctl_context *context, const json_t *group)
{
    if (context->json) {
        iamctl_print_json(group);
        return;
    }
    const char *pairs[] = {
        "ID",          iamctl_json_string(group, "id"),
        "Name",        iamctl_json_string(group, "name"),
        "Description", iamctl_json_string(group, "description"),
        "Created At",  iamctl_json_string(group, "created_at"),
        "Modified At", iamctl_json_string(group, "last_modified_at"),
        NULL,
    };
    iamctl_table_print_pairs(stdout, pairs);
}

static int list_groups(struct iamctl_context *context, json_t **items)
{
    struct iamctl_url url;
    iamctl_url_init(&url, "/v2/groups");
    iamctl_url_query(&url, "account_id", context->account_id);
    iamctl_url_query(&url, "limit", "100");
    const char *path = iamctl_url_text(&url);
    int status = path ? iamctl_http_list(&context->http, path, "groups", items) : iamctl_fail("out of memory");
    iamctl_url_free(&url);
    return status;
}

/* GETs /v2/groups/{id}, keeping its ETag as "entity_tag" for a later PATCH. */
static int get_group(struct iamctl_context *context, const char *id, json_t **group)
{
    struct iamctl_url url;
    iamctl_url_init(&url, "/v2/groups");
    iamctl_url_segment(&url, id);
    struct iamctl_response response = {0};
    int status = iamctl_http_call(&context->http, "GET", iamctl_url_text(&url), NULL, NULL, NULL, &response);
    *group = status == IAMCTL_EXIT_OK ? json_incref(response.body) : NULL;
    if (*group && response.etag[0])
        json_object_set_new(*group, "entity_tag", json_string(response.etag));
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    return status;
}

int iamctl_group_resolve(struct iamctl_context *context, const char *text, json_t **group)
{
    *group = NULL;
    if (iam_is_prefixed_id(text, "AccessGroupId-") || strcmp(text, "AccessGroupId-PublicAccess") == 0)
        return get_group(context, text, group);
    json_t *items = NULL;
    int status = list_groups(context, &items);
    if (status != IAMCTL_EXIT_OK)
        return status;
    const char *id = NULL;
    size_t index;
    json_t *item;
    json_array_foreach(items, index, item) {
        if (strcasecmp(iamctl_json_str(item, "name"), text) == 0)
            id = iamctl_json_string(item, "id");
    }
    status = id ? get_group(context, id, group)
                : iamctl_fail("no access group named '%s' in account %s", text, context->account_id);
    json_decref(items);
    return status;
}

int iamctl_cmd_access_groups(struct iamctl_context *context)
{
    json_t *items = NULL;
    int status = list_groups(context, &items);
    if (status != IAMCTL_EXIT_OK)
        return status;
    if (context->json) {
        iamctl_print_json(items);
    } else {
        static const char *const headers[] = {"NAME", "ID", "DESCRIPTION", NULL};
        struct iamctl_table table;
        iamctl_table_init(&table, headers);
        size_t index;
        json_t *item;
        json_array_foreach(items, index, item) {
            const char *cells[] = {iamctl_json_string(item, "name"), iamctl_json_string(item, "id"),
                                   iamctl_json_string(item, "description")};
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

int iamctl_cmd_access_group(struct iamctl_context *context)
{
    json_t *group = NULL;
    int status = iamctl_group_resolve(context, iamctl_arg(context, 0), &group);
    if (status == IAMCTL_EXIT_OK)
        show_group(context, group);
    json_decref(group);
    return status;
}

int iamctl_cmd_access_group_create(struct iamctl_context *context)
{
    const char *name = iamctl_arg(context, 0);
    const char *description = iamctl_flag(context, "description");
    json_t *body = json_pack("{s:s}", "name", name);
    if (body && description)
        json_object_set_new(body, "description", json_string(description));
    struct iamctl_url url;
    iamctl_url_init(&url, "/v2/groups");
    iamctl_url_query(&url, "account_id", context->account_id);
    struct iamctl_response response = {0};
    int status = body ? iamctl_http_call(&context->http, "POST", iamctl_url_text(&url), body, NULL, NULL, &response)
                      : iamctl_fail("out of memory");
    if (status == IAMCTL_EXIT_OK) {
        if (context->quiet && !context->json) {
            printf("%s\n", iamctl_json_str(response.body, "id"));
        } else {
            if (!context->json)
                iamctl_say(false, "Created access group %s in account %s", name, context->account_id);
            show_group(context, response.body);
        }
    }
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(body);
    return status;
}

int iamctl_cmd_access_group_update(struct iamctl_context *context)
{
    const char *name = iamctl_flag(context, "name");
    const char *description = iamctl_flag(context, "description");
    if (!name && !description)
        return iamctl_usage(context->command->name, "nothing to change: give --name or --description");
    json_t *group = NULL;
    int status = iamctl_group_resolve(context, iamctl_arg(context, 0), &group);
    if (status != IAMCTL_EXIT_OK)
        return status;
    json_t *body = json_object();
    if (body && name)
        json_object_set_new(body, "name", json_string(name));
    if (body && description)
        json_object_set_new(body, "description", json_string(description));
    const char *version = iamctl_json_string(group, "entity_tag");
    struct iamctl_url url;
    iamctl_url_init(&url, "/v2/groups");
    iamctl_url_segment(&url, iamctl_json_str(group, "id"));
    struct iamctl_response response = {0};
    status = body ? iamctl_http_call(&context->http, "PATCH", iamctl_url_text(&url), body, version ? version : "*",
                                     NULL, &response)
                  : iamctl_fail("out of memory");
    if (status == IAMCTL_EXIT_OK) {
        if (!context->json)
            iamctl_say(context->quiet, "Updated access group %s", iamctl_json_str(response.body, "name"));
        if (!context->quiet || context->json)
            show_group(context, response.body);
    }
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(body);
    json_decref(group);
    return status;
}

int iamctl_cmd_access_group_delete(struct iamctl_context *context)
{
    json_t *group = NULL;
    int status = iamctl_group_resolve(context, iamctl_arg(context, 0), &group);
    if (status != IAMCTL_EXIT_OK)
        return status;
    const char *name = iamctl_json_str(group, "name");
    const char *id = iamctl_json_str(group, "id");
    if (!iamctl_has_flag(context, "force")) {
        char question[512];
        snprintf(question, sizeof question, "Delete access group %s (%s) and its policies?", name, id);
        if (!iamctl_confirm(question)) {
            json_decref(group);
            return iamctl_fail("not deleted (use -f to delete without asking)");
        }
    }
    struct iamctl_url url;
    iamctl_url_init(&url, "/v2/groups");
    iamctl_url_segment(&url, id);
    if (iamctl_has_flag(context, "recursive"))
        iamctl_url_query(&url, "force", "true");
    struct iamctl_response response = {0};
    status = iamctl_http_call(&context->http, "DELETE", iamctl_url_text(&url), NULL, NULL, NULL, &response);
    if (status == IAMCTL_EXIT_OK && !context->json)
        iamctl_say(context->quiet, "Deleted access group %s (%s)", name, id);
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(group);
    return status;
}

/* Lists the members of one type ("user" or "service"). */
static int members_list(struct iamctl_context *context, const char *type)
{
    json_t *group = NULL;
    int status = iamctl_group_resolve(context, iamctl_arg(context, 0), &group);
    if (status != IAMCTL_EXIT_OK)
        return status;
    struct iamctl_url url;
    iamctl_url_init(&url, "/v2/groups");
    iamctl_url_segment(&url, iamctl_json_str(group, "id"));
    iamctl_url_segment(&url, "members");
    iamctl_url_query(&url, "type", type);
    iamctl_url_query(&url, "verbose", "true");
    iamctl_url_query(&url, "limit", "100");
    json_t *items = NULL;
    const char *path = iamctl_url_text(&url);
    status = path ? iamctl_http_list(&context->http, path, "members", &items) : iamctl_fail("out of memory");
    if (status == IAMCTL_EXIT_OK && context->json) {
        iamctl_print_json(items);
    } else if (status == IAMCTL_EXIT_OK) {
        bool users = strcmp(type, "user") == 0;
        static const char *const user_headers[] = {"NAME", "EMAIL", "IAM ID", "ADDED AT", NULL};
        static const char *const service_headers[] = {"NAME", "IAM ID", "DESCRIPTION", "ADDED AT", NULL};
        struct iamctl_table table;
        iamctl_table_init(&table, users ? user_headers : service_headers);
        size_t index;
        json_t *item;
        json_array_foreach(items, index, item) {
            const char *user_cells[] = {iamctl_json_string(item, "name"), iamctl_json_string(item, "email"),
                                        iamctl_json_string(item, "iam_id"), iamctl_json_string(item, "created_at")};
            const char *service_cells[] = {iamctl_json_string(item, "name"), iamctl_json_string(item, "iam_id"),
                                           iamctl_json_string(item, "description"),
                                           iamctl_json_string(item, "created_at")};
            if (iamctl_table_add(&table, users ? user_cells : service_cells) != IAM_OK) {
                status = iamctl_fail("out of memory");
                break;
            }
        }
        if (status == IAMCTL_EXIT_OK)
            iamctl_table_print(&table, stdout);
        iamctl_table_free(&table);
    }
    json_decref(items);
    iamctl_url_free(&url);
    json_decref(group);
    return status;
}

/* The iam_id of member argument `text` of `type`. */
static int member_iam_id(struct iamctl_context *context, const char *type, const char *text, json_t **identity,
                         const char **iam_id)
{
    int status = strcmp(type, "user") == 0 ? iamctl_user_resolve(context, text, identity)
                                           : iamctl_serviceid_resolve(context, text, identity);
    *iam_id = status == IAMCTL_EXIT_OK ? iamctl_json_str(*identity, "iam_id") : NULL;
    return status;
}

/* Adds the identities in arguments 1.. to the group; each member's own outcome is reported. */
static int members_add(struct iamctl_context *context, const char *type)
{
    size_t count = context->args.positional_count - 1;
    if (count > GROUP_MEMBERS_MAX)
        return iamctl_usage(context->command->name, "at most %d members at a time", GROUP_MEMBERS_MAX);
    json_t *group = NULL;
    json_t *members = json_array();
    struct iamctl_url url;
    iamctl_url_init(&url, "/v2/groups");
    struct iamctl_response response = {0};
    int status = members ? iamctl_group_resolve(context, iamctl_arg(context, 0), &group) : iamctl_fail("out of memory");
    for (size_t i = 0; status == IAMCTL_EXIT_OK && i < count; i++) {
        json_t *identity = NULL;
        const char *iam_id = NULL;
        status = member_iam_id(context, type, iamctl_arg(context, (int)i + 1), &identity, &iam_id);
        if (status == IAMCTL_EXIT_OK &&
            json_array_append_new(members, json_pack("{s:s,s:s}", "iam_id", iam_id, "type", type)) != 0)
            status = iamctl_fail("out of memory");
        json_decref(identity);
    }
    if (status != IAMCTL_EXIT_OK)
        goto out;
    iamctl_url_segment(&url, iamctl_json_str(group, "id"));
    iamctl_url_segment(&url, "members");
    json_t *body = json_pack("{s:O}", "members", members);
    status = body ? iamctl_http_call(&context->http, "PUT", iamctl_url_text(&url), body, NULL, NULL, &response)
                  : iamctl_fail("out of memory");
    json_decref(body);
    if (status != IAMCTL_EXIT_OK)
        goto out;
    if (context->json)
        iamctl_print_json(response.body);
    /* 207: every member has its own status. */
    size_t index;
    json_t *item;
    json_array_foreach(json_object_get(response.body, "members"), index, item) {
        const char *iam_id = iamctl_json_str(item, "iam_id");
        const json_t *code = json_object_get(item, "status_code");
        if (json_is_integer(code) && json_integer_value(code) >= 200 && json_integer_value(code) < 300) {
            if (!context->json)
                iamctl_say(context->quiet, "Added %s to access group %s", iamctl_json_str(item, "iam_id"),
                           iamctl_json_str(group, "name"));
            continue;
        }
        const char *message, *error_code;
        iamctl_http_error_text(item, &message, &error_code);
        iamctl_fail("%s was not added: %s (%s)", iam_id, *message ? message : "refused",
                    *error_code ? error_code : "?");
        status = IAMCTL_EXIT_FAILURE;
    }
out:
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(members);
    json_decref(group);
    return status;
}

static int member_remove(struct iamctl_context *context, const char *type)
{
    json_t *group = NULL;
    json_t *identity = NULL;
    const char *iam_id = NULL;
    int status = iamctl_group_resolve(context, iamctl_arg(context, 0), &group);
    if (status == IAMCTL_EXIT_OK)
        status = member_iam_id(context, type, iamctl_arg(context, 1), &identity, &iam_id);
    if (status != IAMCTL_EXIT_OK) {
        json_decref(group);
        json_decref(identity);
        return status;
    }
    struct iamctl_url url;
    iamctl_url_init(&url, "/v2/groups");
    iamctl_url_segment(&url, iamctl_json_str(group, "id"));
    iamctl_url_segment(&url, "members");
    iamctl_url_segment(&url, iam_id);
    struct iamctl_response response = {0};
    status = iamctl_http_call(&context->http, "DELETE", iamctl_url_text(&url), NULL, NULL, NULL, &response);
    if (status == IAMCTL_EXIT_OK && !context->json)
        iamctl_say(context->quiet, "Removed %s from access group %s", iam_id, iamctl_json_str(group, "name"));
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(identity);
    json_decref(group);
    return status;
}

int iamctl_cmd_access_group_users(struct iamctl_context *context) { return members_list(context, "user"); }
int iamctl_cmd_access_group_user_add(struct iamctl_context *context) { return members_add(context, "user"); }
int iamctl_cmd_access_group_user_remove(struct iamctl_context *context) { return member_remove(context, "user"); }
int iamctl_cmd_access_group_service_ids(struct iamctl_context *context) { return members_list(context, "service"); }
int iamctl_cmd_access_group_service_id_add(struct iamctl_context *context) { return members_add(context, "service"); }
int iamctl_cmd_access_group_service_id_remove(struct iamctl_context *context)
{
    return member_remove(context, "service");
}
