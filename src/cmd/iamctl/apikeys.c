/*
 * apikeys.c: the API key commands over /v1/apikeys: a service ID's keys
 * (service-api-key*) and the logged-in identity's own keys (api-key*).
 * A key created with --file is written in the console's download format
 * {name, description, createdAt, apikey} with mode 0600, atomically, and not
 * printed; the file is prepared before the key is created, and a key whose
 * file cannot be written is deleted again, so no key value is ever lost or
 * half-written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common/ids.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "files.h"
#include "output.h"
#include "table.h"

#define AMBIGUOUS_SHOWN 5

/* Whose keys a command works on. */
struct key_owner {
    const char *iam_id;   /* iam-ServiceId-… or the logged-in identity */
    const char *label;    /* for messages: the service ID's name, or "you" */
    json_t *service_id;   /* owned, NULL for one's own keys */
};

static void owner_free(struct key_owner *owner)
{
    json_decref(owner->service_id);
    owner->service_id = NULL;
}

/* The owner: the service ID in argument `index`, or (index < 0) the logged-in identity. */
static int owner_find(struct iamctl_context *context, int index, struct key_owner *owner)
{
    memset(owner, 0, sizeof *owner);
    if (index < 0) {
        owner->iam_id = context->iam_id;
        owner->label = context->identity;
        return IAMCTL_EXIT_OK;
    }
    int status = iamctl_serviceid_resolve(context, iamctl_arg(context, index), &owner->service_id);
    if (status != IAMCTL_EXIT_OK)
        return status;
    owner->iam_id = iamctl_json_str(owner->service_id, "iam_id");
    owner->label = iamctl_json_str(owner->service_id, "name");
    return IAMCTL_EXIT_OK;
}

static void show_key(const struct iamctl_context *context, const json_t *key, const char *value)
{
    if (context->json) {
        iamctl_print_json(key);
        return;
    }
    char locked[32], disabled[32];
    const char *pairs[] = {
        "ID",          iamctl_json_string(key, "id"),
        "Name",        iamctl_json_string(key, "name"),
        "Description", iamctl_json_string(key, "description"),
        "IAM ID",      iamctl_json_string(key, "iam_id"),
        "CRN",         iamctl_json_string(key, "crn"),
        "Version",     iamctl_json_string(key, "entity_tag"),
        "Locked",      iamctl_json_text(key, "locked", locked, sizeof locked),
        "Disabled",    iamctl_json_text(key, "disabled", disabled, sizeof disabled),
        "Created At",  iamctl_json_string(key, "created_at"),
        "Modified At", iamctl_json_string(key, "modified_at"),
        value ? "API Key" : NULL, value,
        NULL,
    };
    iamctl_table_print_pairs(stdout, pairs);
}

/* Every key of `owner`. */
static int list_keys(struct iamctl_context *context, const struct key_owner *owner, json_t **items)
{
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/apikeys");
    iamctl_url_query(&url, "account_id", context->account_id);
    iamctl_url_query(&url, "iam_id", owner->iam_id);
    iamctl_url_query(&url, "pagesize", "100");
    const char *path = iamctl_url_text(&url);
    int status = path ? iamctl_http_list(&context->http, path, "apikeys", items) : iamctl_fail("out of memory");
    iamctl_url_free(&url);
    return status;
}

/* The key `text` (ApiKey-… id or name) among the keys of `owner`. */
static int key_resolve(struct iamctl_context *context, const struct key_owner *owner, const char *text,
                       json_t **key)
{
    *key = NULL;
    int status;
    if (iam_is_prefixed_id(text, "ApiKey-")) {
        struct iamctl_url url;
        iamctl_url_init(&url, "/v1/apikeys");
        iamctl_url_segment(&url, text);
        struct iamctl_response response = {0};
        status = iamctl_http_call(&context->http, "GET", iamctl_url_text(&url), NULL, NULL, NULL, &response);
        iamctl_url_free(&url);
        if (status == IAMCTL_EXIT_OK && strcmp(iamctl_json_str(response.body, "iam_id"), owner->iam_id) != 0)
            status = iamctl_fail("API key %s does not belong to %s", text, owner->label);
        if (status == IAMCTL_EXIT_OK)
            *key = json_incref(response.body);
        iamctl_response_free(&response);
        return status;
    }
    json_t *items = NULL;
    if ((status = list_keys(context, owner, &items)) != IAMCTL_EXIT_OK)
        return status;
    json_t *found = NULL;
    size_t matches = 0;
    char ids[1024] = "";
    size_t used = 0;
    size_t index;
    json_t *item;
    json_array_foreach(items, index, item) {
        if (strcmp(iamctl_json_str(item, "name"), text) != 0)
            continue;
        if (matches < AMBIGUOUS_SHOWN) {
            int n = snprintf(ids + used, sizeof ids - used, "%s%s", matches ? ", " : "", iamctl_json_str(item, "id"));
            if (n > 0 && (size_t)n < sizeof ids - used)
                used += (size_t)n;
        }
        matches++;
        found = item;
    }
    if (matches == 0)
        status = iamctl_fail("no API key named '%s' for %s", text, owner->label);
    else if (matches > 1)
        status = iamctl_fail("%zu API keys are named '%s' (%s%s); give the ID instead", matches, text, ids,
                             matches > AMBIGUOUS_SHOWN ? ", ..." : "");
    else
        *key = json_incref(found);
    json_decref(items);
    return status;
}

static int keys_list(struct iamctl_context *context, int owner_index)
{
    struct key_owner owner;
    int status = owner_find(context, owner_index, &owner);
    if (status != IAMCTL_EXIT_OK)
        return status;
    json_t *items = NULL;
    status = list_keys(context, &owner, &items);
    if (status == IAMCTL_EXIT_OK) {
        if (context->json) {
            iamctl_print_json(items);
        } else if (iamctl_has_flag(context, "uuid")) {
            size_t index;
            json_t *item;
            json_array_foreach(items, index, item) {
                printf("%s\n", iamctl_json_str(item, "id"));
            }
        } else {
            static const char *const headers[] = {"ID",     "NAME",     "DESCRIPTION", "CREATED AT",
                                                  "LOCKED", "DISABLED", NULL};
            struct iamctl_table table;
            iamctl_table_init(&table, headers);
            size_t index;
            json_t *item;
            json_array_foreach(items, index, item) {
                char locked[32], disabled[32];
                const char *cells[] = {iamctl_json_string(item, "id"),
                                       iamctl_json_string(item, "name"),
                                       iamctl_json_string(item, "description"),
                                       iamctl_json_string(item, "created_at"),
                                       iamctl_json_text(item, "locked", locked, sizeof locked),
                                       iamctl_json_text(item, "disabled", disabled, sizeof disabled)};
                if (iamctl_table_add(&table, cells) != IAM_OK) {
                    status = iamctl_fail("out of memory");
                    break;
                }
            }
            if (status == IAMCTL_EXIT_OK)
                iamctl_table_print(&table, stdout);
            iamctl_table_free(&table);
        }
    }
    json_decref(items);
    owner_free(&owner);
    return status;
}

static int key_get(struct iamctl_context *context, int owner_index)
{
    struct key_owner owner;
    int status = owner_find(context, owner_index, &owner);
    if (status != IAMCTL_EXIT_OK)
        return status;
    json_t *key = NULL;
    status = key_resolve(context, &owner, iamctl_arg(context, 0), &key);
    if (status == IAMCTL_EXIT_OK) {
        if (iamctl_has_flag(context, "uuid") && !context->json)
            printf("%s\n", iamctl_json_str(key, "id"));
        else
            show_key(context, key, NULL);
    }
    json_decref(key);
    owner_free(&owner);
    return status;
}

/* The console's download format, in its order. A new string (the caller wipes and frees it). */
static char *key_file_text(const json_t *key, const char *value)
{
    const char *created = iamctl_json_string(key, "created_at");
    char now[IAM_TIME_TEXT_SIZE];
    if (!created) {
        iam_time_format_ibm(iam_now(), now);
        created = now;
    }
    json_t *document = json_pack("{s:s,s:s,s:s,s:s}", "name", iamctl_json_str(key, "name"), "description",
                                 iamctl_json_str(key, "description"), "createdAt", created, "apikey", value);
    char *text = document ? json_dumps(document, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (document) {
        const char *copy = iamctl_json_string(document, "apikey");
        iam_wipe((char *)copy, strlen(copy));
        json_decref(document);
    }
    return text;
}

/* Deletes a key whose file could not be written, so no unusable key is left. */
static void delete_unsaved_key(struct iamctl_context *context, const char *id)
{
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/apikeys");
    iamctl_url_segment(&url, id);
    struct iamctl_response response = {0};
    if (iamctl_http_call(&context->http, "DELETE", iamctl_url_text(&url), NULL, NULL, NULL, &response) ==
        IAMCTL_EXIT_OK)
        iamctl_fail("the API key %s was deleted again because its file could not be written", id);
    else
        iamctl_fail("the API key %s exists but its value was not saved: delete it", id);
    iamctl_response_free(&response);
    iamctl_url_free(&url);
}

static int key_create(struct iamctl_context *context, int owner_index)
{
    const char *path = iamctl_flag(context, "file");
    struct iamctl_private_file file = {.fd = -1};
    char error[IAMCTL_PATH_MAX + 128];
    /* Prepare the file first: an unwritable destination fails before a key exists. */
    if (path && iamctl_private_file_open(&file, path, iamctl_has_flag(context, "force"), error, sizeof error) !=
                    IAM_OK)
        return iamctl_fail("%s", error);
    struct key_owner owner;
    int status = owner_find(context, owner_index, &owner);
    if (status != IAMCTL_EXIT_OK) {
        iamctl_private_file_abort(&file);
        return status;
    }
    const char *name = iamctl_arg(context, 0);
    const char *description = iamctl_flag(context, "description");
    json_t *body = json_pack("{s:s,s:s,s:s}", "name", name, "iam_id", owner.iam_id, "account_id",
                             context->account_id);
    if (body && description)
        json_object_set_new(body, "description", json_string(description));
    static const char *const lock[] = {"Entity-Lock: true", NULL};
    struct iamctl_response response = {0};
    status = body ? iamctl_http_call(&context->http, "POST", "/v1/apikeys", body, NULL,
                                     iamctl_has_flag(context, "lock") ? lock : NULL, &response)
                  : iamctl_fail("out of memory");
    json_decref(body);
    const char *value = iamctl_json_string(response.body, "apikey");
    if (status == IAMCTL_EXIT_OK && (!value || !*value))
        status = iamctl_fail("%s does not answer like iamd (no key value in the answer)", context->http.endpoint);
    if (status != IAMCTL_EXIT_OK) {
        iamctl_private_file_abort(&file);
        goto out;
    }
    if (path) {
        char *text = key_file_text(response.body, value);
        enum iam_result saved =
            text ? iamctl_private_file_commit(&file, text, strlen(text), error, sizeof error) : IAM_ENOMEM;
        if (text) {
            iam_wipe(text, strlen(text));
            free(text);
        } else {
            iamctl_private_file_abort(&file);
            snprintf(error, sizeof error, "out of memory");
        }
        if (saved != IAM_OK) {
            status = iamctl_fail("cannot write the key file: %s", error);
            delete_unsaved_key(context, iamctl_json_str(response.body, "id"));
            goto out;
        }
        /* The value is in the file only. */
        iam_wipe((char *)value, strlen(value));
        json_object_del(response.body, "apikey");
        if (context->json) {
            iamctl_print_json(response.body);
        } else if (context->quiet) {
            printf("%s\n", iamctl_json_str(response.body, "id"));
        } else {
            iamctl_say(false, "Created API key %s for %s; its value is saved in %s", name, owner.label, path);
            show_key(context, response.body, NULL);
        }
    } else if (context->json) {
        iamctl_print_json(response.body);
    } else if (context->quiet) {
        printf("%s\n", value);
    } else {
        iamctl_say(false, "Created API key %s for %s", name, owner.label);
        show_key(context, response.body, value);
        iamctl_say(false, "Keep the API key safe: it cannot be shown again.");
    }
out:
    if (value && response.body && iamctl_json_string(response.body, "apikey"))
        iam_wipe((char *)value, strlen(value));
    iamctl_response_free(&response);
    owner_free(&owner);
    return status;
}

static int key_update(struct iamctl_context *context, int owner_index)
{
    const char *name = iamctl_flag(context, "name");
    const char *description = iamctl_flag(context, "description");
    if (!name && !description)
        return iamctl_usage(context->command->name, "nothing to change: give --name or --description");
    struct key_owner owner;
    int status = owner_find(context, owner_index, &owner);
    if (status != IAMCTL_EXIT_OK)
        return status;
    json_t *key = NULL;
    json_t *body = NULL;
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/apikeys");
    struct iamctl_response response = {0};
    if ((status = key_resolve(context, &owner, iamctl_arg(context, 0), &key)) != IAMCTL_EXIT_OK)
        goto out;
    body = json_object();
    if (!body) {
        status = iamctl_fail("out of memory");
        goto out;
    }
    if (name)
        json_object_set_new(body, "name", json_string(name));
    if (description)
        json_object_set_new(body, "description", json_string(description));
    const char *version = iamctl_json_string(key, "entity_tag");
    iamctl_url_segment(&url, iamctl_json_str(key, "id"));
    status = iamctl_http_call(&context->http, "PUT", iamctl_url_text(&url), body, version ? version : "*", NULL,
                              &response);
    if (status == IAMCTL_EXIT_OK) {
        if (!context->json)
            iamctl_say(context->quiet, "Updated API key %s", iamctl_json_str(response.body, "id"));
        if (!context->quiet || context->json)
            show_key(context, response.body, NULL);
    }
out:
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(body);
    json_decref(key);
    owner_free(&owner);
    return status;
}

enum key_change { KEY_DELETE, KEY_LOCK, KEY_UNLOCK, KEY_DISABLE, KEY_ENABLE };

static int key_change(struct iamctl_context *context, int owner_index, enum key_change change)
{
    static const char *const methods[] = {"DELETE", "POST", "DELETE", "POST", "DELETE"};
    static const char *const suffixes[] = {NULL, "lock", "lock", "disable", "disable"};
    static const char *const done[] = {"Deleted", "Locked", "Unlocked", "Disabled", "Enabled"};
    struct key_owner owner;
    int status = owner_find(context, owner_index, &owner);
    if (status != IAMCTL_EXIT_OK)
        return status;
    json_t *key = NULL;
    struct iamctl_url url;
    iamctl_url_init(&url, "/v1/apikeys");
    struct iamctl_response response = {0};
    if ((status = key_resolve(context, &owner, iamctl_arg(context, 0), &key)) != IAMCTL_EXIT_OK)
        goto out;
    const char *id = iamctl_json_str(key, "id");
    const char *name = iamctl_json_str(key, "name");
    if (change == KEY_DELETE && !iamctl_has_flag(context, "force")) {
        char question[512];
        snprintf(question, sizeof question, "Delete API key %s (%s)?", name, id);
        if (!iamctl_confirm(question)) {
            status = iamctl_fail("not deleted (use -f to delete without asking)");
            goto out;
        }
    }
    iamctl_url_segment(&url, id);
    if (suffixes[change])
        iamctl_url_segment(&url, suffixes[change]);
    status = iamctl_http_call(&context->http, methods[change], iamctl_url_text(&url), NULL, NULL, NULL, &response);
    if (status == IAMCTL_EXIT_OK && !context->json)
        iamctl_say(context->quiet, "%s API key %s (%s)", done[change], name, id);
out:
    iamctl_response_free(&response);
    iamctl_url_free(&url);
    json_decref(key);
    owner_free(&owner);
    return status;
}

/* service-api-key* take KEY SERVICE_ID (the service ID is argument 1), service-api-keys takes SERVICE_ID. */
int iamctl_cmd_service_api_keys(struct iamctl_context *context) { return keys_list(context, 0); }
int iamctl_cmd_service_api_key(struct iamctl_context *context) { return key_get(context, 1); }
int iamctl_cmd_service_api_key_create(struct iamctl_context *context) { return key_create(context, 1); }
int iamctl_cmd_service_api_key_update(struct iamctl_context *context) { return key_update(context, 1); }
int iamctl_cmd_service_api_key_delete(struct iamctl_context *context) { return key_change(context, 1, KEY_DELETE); }
int iamctl_cmd_service_api_key_lock(struct iamctl_context *context) { return key_change(context, 1, KEY_LOCK); }
int iamctl_cmd_service_api_key_unlock(struct iamctl_context *context) { return key_change(context, 1, KEY_UNLOCK); }
int iamctl_cmd_service_api_key_disable(struct iamctl_context *context)
{
    return key_change(context, 1, KEY_DISABLE);
}
int iamctl_cmd_service_api_key_enable(struct iamctl_context *context) { return key_change(context, 1, KEY_ENABLE); }

/* api-key* work on the logged-in identity's own keys. */
int iamctl_cmd_api_keys(struct iamctl_context *context) { return keys_list(context, -1); }
int iamctl_cmd_api_key(struct iamctl_context *context) { return key_get(context, -1); }
int iamctl_cmd_api_key_create(struct iamctl_context *context) { return key_create(context, -1); }
int iamctl_cmd_api_key_update(struct iamctl_context *context) { return key_update(context, -1); }
int iamctl_cmd_api_key_delete(struct iamctl_context *context) { return key_change(context, -1, KEY_DELETE); }
int iamctl_cmd_api_key_lock(struct iamctl_context *context) { return key_change(context, -1, KEY_LOCK); }
int iamctl_cmd_api_key_unlock(struct iamctl_context *context) { return key_change(context, -1, KEY_UNLOCK); }
int iamctl_cmd_api_key_disable(struct iamctl_context *context) { return key_change(context, -1, KEY_DISABLE); }
int iamctl_cmd_api_key_enable(struct iamctl_context *context) { return key_change(context, -1, KEY_ENABLE); }
