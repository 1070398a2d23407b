/*
 * serviceids.c: the service ID commands (service-ids, service-id,
 * service-id-create/-update/-delete/-lock/-unlock) over /v1/serviceids, and
 * the name-or-id look-up the other families use.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "common/ids.h"
#include "output.h"
#include "table.h"

#define SERVICE_ID_PAGE "100"
#define AMBIGUOUS_SHOWN 5

/* Prints one service ID as "Key   value" lines, or as JSON. */
static void show_service_id(const struct iamctl_context *context, const json_t *service_id)
{
    if (context->json) {
        iamctl_print_json(service_id);
        return;
    }
    char scratch[32];
    const char *pairs[] = {
        "ID",          iamctl_json_string(service_id, "id"),
        "IAM ID",      iamctl_json_string(service_id, "iam_id"),
        "Name",        iamctl_json_string(service_id, "name"),
        "Description", iamctl_json_string(service_id, "description"),
        "CRN",         iamctl_json_string(service_id, "crn"),
        "Version",     iamctl_json_string(service_id, "entity_tag"),
        "Locked",      iamctl_json_text(service_id, "locked", scratch, sizeof scratch),
        "Created At",  iamctl_json_string(service_id, "created_at"),
        "Modified At", iamctl_json_string(service_id, "modified_at"),
        NULL,
    };
    iamctl_table_print_pairs(stdout, pairs);
}

/* GETs `path` (a service ID list) and returns every item. */
static int list_service_ids(struct iamctl_context *context, const char *name, json_t **items)
{
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/serviceids");
    iamctl_url_query(&url, "account_id", context->account_id);
    iamctl_url_query(&url, "name", name);
    iamctl_url_query(&url, "pagesize", SERVICE_ID_PAGE);
    const char *path = iamctl_url_text(&url);
    int status = path ? iamctl_http_list(&context->http, path, "serviceids", items)
                      : iamctl_fail("the service ID name is too long");
    iamctl_url_free(&url);
    return status;
}

int iamctl_serviceid_resolve(struct iamctl_context *context, const char *text, json_t **service_id)
{
    *service_id = NULL;
    const char *id = strncmp(text, "iam-ServiceId-", 14) == 0 ? text + 4 : text;
    if (iam_is_prefixed_id(id, "ServiceId-")) {
        struct iamctl_url url;
        iamctl_url_init(&url, "/v1/serviceids");
        iamctl_url_segment(&url, id);
        struct iamctl_response response = {0};
        int status = iamctl_http_call(&context->http, "GET", iamctl_url_text(&url), NULL, NULL, NULL, &response);
        iamctl_url_free(&url);
        if (status == IAMCTL_EXIT_OK)
            *service_id = json_incref(response.body);
        iamctl_response_free(&response);
        return status;
    }
    json_t *items = NULL;
    int status = list_service_ids(context, text, &items);
    if (status != IAMCTL_EXIT_OK)
        return status;
    size_t count = json_array_size(items);
    if (count == 0) {
        status = iamctl_fail("no service ID named '%s' in account %s", text, context->account_id);
    } else if (count == 1) {
        *service_id = json_incref(json_array_get(items, 0));
    } else {
        char ids[1024] = "";
        size_t used = 0;
        for (size_t i = 0; i < count && i < AMBIGUOUS_SHOWN; i++) {
            int n = snprintf(ids + used, sizeof ids - used, "%s%s", i ? ", " : "",
                             iamctl_json_string(json_array_get(items, i), "id"));
            if (n < 0 || (size_t)n >= sizeof ids - used)
                break;
            used += (size_t)n;
        }
        status = iamctl_fail("%zu service IDs are named '%s' (%s%s); give the ID instead", count, text, ids,
                             count > AMBIGUOUS_SHOWN ? ", ..." : "");
    }
    json_decref(items);
    return status;
}

int iamctl_cmd_service_ids(struct iamctl_context *context)
{
    json_t *items = NULL;
    int status = list_service_ids(context, NULL, &items);
    if (status != IAMCTL_EXIT_OK)
        return status;
    if (context->json) {
        iamctl_print_json(items);
    } else if (iamctl_has_flag(context, "uuid")) {
        size_t index;
        json_t *item;
        json_array_foreach(items, index, item) {
            printf("%s\n", iamctl_json_str(item, "id"));
        }
    } else {
        static const char *const headers[] = {"ID", "NAME", "CREATED AT", "MODIFIED AT", "DESCRIPTION", "LOCKED",
                                              NULL};
        struct iamctl_table table;
        iamctl_table_init(&table, headers);
        size_t index;
        json_t *item;
        json_array_foreach(items, index, item) {
            char scratch[32];
            const char *cells[] = {iamctl_json_string(item, "id"),         iamctl_json_string(item, "name"),
                                   iamctl_json_string(item, "created_at"), iamctl_json_string(item, "modified_at"),
                                   iamctl_json_string(item, "description"),
                                   iamctl_json_text(item, "locked", scratch, sizeof scratch)};
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

int iamctl_cmd_service_id(struct iamctl_context *context)
{
    json_t *service_id = NULL;
    int status = iamctl_serviceid_resolve(context, iamctl_arg(context, 0), &service_id);
    if (status != IAMCTL_EXIT_OK)
        return status;
    if (iamctl_has_flag(context, "uuid") && !context->json)
        printf("%s\n", iamctl_json_str(service_id, "id"));
    else
        show_service_id(context, service_id);
    json_decref(service_id);
    return IAMCTL_EXIT_OK;
}

int iamctl_cmd_service_id_create(struct iamctl_context *context)
{
    const char *name = iamctl_arg(context, 0);
    json_t *body = json_pack("{s:s,s:s}", "account_id", context->account_id, "name", name);
    const char *description = iamctl_flag(context, "description");
    if (body && description)
        json_object_set_new(body, "description", json_string(description));
    if (!body)
        return iamctl_fail("out of memory");
    static const char *const lock[] = {"Entity-Lock: true", NULL};
    struct iamctl_response response = {0};
    int status = iamctl_http_call(&context->http, "POST", "/v1/serviceids", body, NULL,
                                  iamctl_has_flag(context, "lock") ? lock : NULL, &response);
    json_decref(body);
    if (status == IAMCTL_EXIT_OK) {
        if (context->quiet && !context->json) {
            printf("%s\n", iamctl_json_str(response.body, "id"));
        } else {
            if (!context->json)
                iamctl_say(false, "Created service ID %s in account %s", name, context->account_id);
            show_service_id(context, response.body);
        }
    }
    iamctl_response_free(&response);
    return status;
}

int iamctl_cmd_service_id_update(struct iamctl_context *context)
{
    const char *name = iamctl_flag(context, "name");
    const char *description = iamctl_flag(context, "description");
    if (!name && !description)
        return iamctl_usage(context->command->name, "nothing to change: give --name or --description");
    json_t *service_id = NULL;
    int status = iamctl_serviceid_resolve(context, iamctl_arg(context, 0), &service_id);
    if (status != IAMCTL_EXIT_OK)
        return status;
    const char *version = iamctl_flag(context, "version");
    if (!version)
        version = iamctl_json_string(service_id, "entity_tag");
    json_t *body = json_object();
    if (body && name)
        json_object_set_new(body, "name", json_string(name));
    if (body && description)
        json_object_set_new(body, "description", json_string(description));
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/serviceids");
    iamctl_url_segment(&url, iamctl_json_str(service_id, "id"));
    struct iamctl_response response = {0};
    status = body ? iamctl_http_call(&context->http, "PUT", iamctl_url_text(&url), body, version ? version : "*",
                                     NULL, &response)
                  : iamctl_fail("out of memory");
    if (status == IAMCTL_EXIT_OK) {
        if (!context->json)
            iamctl_say(context->quiet, "Updated service ID %s", iamctl_json_str(response.body, "id"));
        if (!context->quiet || context->json)
            show_service_id(context, response.body);
    }
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(body);
    json_decref(service_id);
    return status;
}

enum change { CHANGE_DELETE, CHANGE_LOCK, CHANGE_UNLOCK };

static int change_service_id(struct iamctl_context *context, enum change change)
{
    json_t *service_id = NULL;
    int status = iamctl_serviceid_resolve(context, iamctl_arg(context, 0), &service_id);
    if (status != IAMCTL_EXIT_OK)
        return status;
    const char *id = iamctl_json_str(service_id, "id");
    const char *name = iamctl_json_str(service_id, "name");
    if (change == CHANGE_DELETE && !iamctl_has_flag(context, "force")) {
        char question[512];
        snprintf(question, sizeof question, "Delete service ID %s (%s) and its API keys?", name, id);
        if (!iamctl_confirm(question)) {
            json_decref(service_id);
            return iamctl_fail("not deleted (use -f to delete without asking)");
        }
    }
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/serviceids");
    iamctl_url_segment(&url, id);
    if (change != CHANGE_DELETE)
        iamctl_url_segment(&url, "lock");
    const char *method = change == CHANGE_LOCK ? "POST" : "DELETE";
    struct iamctl_response response = {0};
    status = iamctl_http_call(&context->http, method, iamctl_url_text(&url), NULL, NULL, NULL, &response);
    if (status == IAMCTL_EXIT_OK && !context->json) {
        static const char *const done[] = {"Deleted", "Locked", "Unlocked"};
        iamctl_say(context->quiet, "%s service ID %s (%s)", done[change], name, id);
    }
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(service_id);
    return status;
}

int iamctl_cmd_service_id_delete(struct iamctl_context *context)
{
    return change_service_id(context, CHANGE_DELETE);
}

int iamctl_cmd_service_id_lock(struct iamctl_context *context)
{
    return change_service_id(context, CHANGE_LOCK);
}

int iamctl_cmd_service_id_unlock(struct iamctl_context *context)
{
    return change_service_id(context, CHANGE_UNLOCK);
}
