/*
 * service_registry.c: registered service definitions (service_registry.h):
 * validation of the JSON document, operator-only register / replace / get /
 * list / delete over the store, and loading a directory of definitions at
 * start.
 *
 * Error codes set here (err->code): invalid_body 400, not_found 404,
 * insufficent_permissions 403, request_not_processed 409 (built-in service,
 * stale If-Match), unable_to_process 500/503.
 */
#include "iam/service_registry.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "iam/apikeys.h"
#include "iam/engine.h"
#include "iam/policies.h"
#include "store/store_access.h"

#define NAME_MIN 2
#define NAME_MAX_LENGTH 64
#define ACTION_MAX_LENGTH 256
#define ROLE_NAME_MAX_LENGTH 64
#define TEXT_MAX 1024
#define FILES_MAX 1000

static const char *const document_members[] = {"name",           "display_name", "description", "service_type",
                                               "service_group_id", "actions",    "roles",       "resource_types",
                                               "attributes",     "supported_attributes", "pdp_clients", NULL};
static const char *const server_members[] = {"builtin", "entity_tag", "created_at", "modified_at", "created_by",
                                             NULL};
static const char *const reserved_names[] = {"iam", "alliamserviceroles", NULL};

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_access_error(err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
}

static enum iam_result invalid(struct iam_error *err, const char *what, const char *detail)
{
    return iam_access_error(err, IAM_EINVAL, "invalid_body", "The service definition's %s %s.", what, detail);
}

static enum iam_result service_not_found(struct iam_error *err)
{
    return iam_access_error(err, IAM_ENOTFOUND, "not_found", "Service not found.");
}

static bool listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

static bool json_text(const json_t *value)
{
    return json_is_string(value) && strlen(json_string_value(value)) == json_string_length(value);
}

static bool service_name_valid(const char *name)
{
    size_t length = strlen(name);
    if (length < NAME_MIN || length > NAME_MAX_LENGTH)
        return false;
    for (size_t i = 0; i < length; i++)
        if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) && name[i] != '-')
            return false;
    return true;
}

/* [A-Za-z0-9_.-]{1,max} */
static bool token_valid(const char *text, size_t max, bool allow_dot)
{
    size_t length = strlen(text);
    if (length == 0 || length > max)
        return false;
    for (size_t i = 0; i < length; i++)
        if (!isalnum((unsigned char)text[i]) && text[i] != '_' && text[i] != '-' && !(allow_dot && text[i] == '.'))
            return false;
    return true;
}

static bool iam_id_valid(const char *text)
{
    if (iam_is_prefixed_id(text, "iam-ServiceId-"))
        return true;
    if (strncmp(text, "IBMid-", 6) != 0)
        return false;
    size_t length = strlen(text + 6);
    if (length == 0 || length > 64)
        return false;
    for (size_t i = 6; text[i]; i++)
        if (!isupper((unsigned char)text[i]) && !isdigit((unsigned char)text[i]))
            return false;
    return true;
}

/* An optional free-text member: a string of at most TEXT_MAX characters. */
static enum iam_result check_optional_text(const json_t *document, const char *name, struct iam_error *err)
{
    const json_t *value = json_object_get(document, name);
    if (!value || json_is_null(value))
        return IAM_OK;
    if (!json_text(value))
        return invalid(err, name, "must be a string");
    if (iam_text_check(name, json_string_value(value), TEXT_MAX, true, err) != IAM_OK)
        return invalid(err, name, "is too long or holds control characters");
    return IAM_OK;
}

/* An optional list of tokens (resource_types, attributes): at most IAM_SERVICE_LIST_MAX, no repeats. */
static enum iam_result check_token_list(const json_t *document, const char *name, struct iam_error *err)
{
    const json_t *list = json_object_get(document, name);
    if (!list || json_is_null(list))
        return IAM_OK;
    if (!json_is_array(list) || json_array_size(list) > IAM_SERVICE_LIST_MAX)
        return invalid(err, name, "must be a list of at most 100 names");
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *item = json_array_get(list, i);
        if (!json_text(item) || !token_valid(json_string_value(item), ROLE_NAME_MAX_LENGTH, false))
            return invalid(err, name, "must hold names of letters, digits, _ and -");
        for (size_t j = 0; j < i; j++)
            if (json_equal(item, json_array_get(list, j)))
                return invalid(err, name, "lists a name twice");
    }
    return IAM_OK;
}

/* "<noun>.<verb>[...]": two or more non-empty dot-separated tokens. */
static bool action_rest_valid(const char *rest)
{
    if (!token_valid(rest, ACTION_MAX_LENGTH, true) || rest[0] == '.' || rest[strlen(rest) - 1] == '.' ||
        !strchr(rest, '.') || strstr(rest, ".."))
        return false;
    return true;
}

static const char *action_id(const json_t *action)
{
    const json_t *id = json_is_object(action) ? json_object_get(action, "id") : action;
    return json_text(id) ? json_string_value(id) : NULL;
}

static enum iam_result check_actions(const char *name, const json_t *actions, struct iam_error *err)
{
    static const char *const action_members[] = {"id", "display_name", "description", NULL};
    if (!json_is_array(actions) || json_array_size(actions) == 0 ||
        json_array_size(actions) > IAM_SERVICE_ACTIONS_MAX)
        return invalid(err, "actions", "must be a list of 1 to 500 actions");
    size_t prefix = strlen(name);
    for (size_t i = 0; i < json_array_size(actions); i++) {
        const json_t *action = json_array_get(actions, i);
        const char *id = action_id(action);
        if (json_is_object(action)) {
            const char *member;
            json_t *value;
            json_object_foreach((json_t *)action, member, value) {
                if (!listed(action_members, member))
                    return invalid(err, "actions", "have an unknown member");
                if (strcmp(member, "id") != 0 &&
                    (!json_text(value) || iam_text_check(member, json_string_value(value), TEXT_MAX, true, err) !=
                                              IAM_OK))
                    return invalid(err, "actions", "have a display_name or description that is not short text");
            }
        }
        if (!id)
            return invalid(err, "actions", "must be strings or objects with an id");
        if (strncmp(id, name, prefix) != 0 || id[prefix] != '.' || !action_rest_valid(id + prefix + 1))
            return iam_access_error(err, IAM_EINVAL, "invalid_body",
                                    "The action %.128s must be named \"%s.<noun>.<verb>\".", id, name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(id, action_id(json_array_get(actions, j))) == 0)
                return iam_access_error(err, IAM_EINVAL, "invalid_body", "The action %.128s is listed twice.", id);
    }
    return IAM_OK;
}

/* The actions every service has (docs/api/services.md "Implicit actions"); roles may list them. */
static const char *const implicit_actions[] = {"iam.policy.read",   "iam.policy.create", "iam.policy.update",
                                               "iam.policy.delete", "iam.role.read",     "iam.role.assign",
                                               NULL};

static bool action_declared(const json_t *actions, const char *id)
{
    if (listed(implicit_actions, id))
        return true;
    for (size_t i = 0; i < json_array_size(actions); i++)
        if (strcmp(action_id(json_array_get(actions, i)), id) == 0)
            return true;
    return false;
}

static enum iam_result check_roles(const json_t *roles, const json_t *actions, struct iam_error *err)
{
    static const char *const role_members[] = {"display_name", "description", "actions", NULL};
    if (!json_is_object(roles) || json_object_size(roles) > IAM_SERVICE_ROLES_MAX)
        return invalid(err, "roles", "must be an object of at most 100 roles");
    const char *role;
    json_t *value;
    json_object_foreach((json_t *)roles, role, value) {
        if (!isupper((unsigned char)role[0]) || !token_valid(role, ROLE_NAME_MAX_LENGTH, false))
            return iam_access_error(err, IAM_EINVAL, "invalid_body",
                                    "The role name %.64s must start with a capital letter (letters, digits, _, -).",
                                    role);
        const json_t *list = value;
        if (json_is_object(value)) {
            const char *member;
            json_t *member_value;
            json_object_foreach(value, member, member_value) {
                if (!listed(role_members, member))
                    return invalid(err, "roles", "have an unknown member");
                if (strcmp(member, "actions") != 0 &&
                    (!json_text(member_value) ||
                     iam_text_check(member, json_string_value(member_value), TEXT_MAX, true, err) != IAM_OK))
                    return invalid(err, "roles", "have a display_name or description that is not short text");
            }
            list = json_object_get(value, "actions");
        }
        if (!json_is_array(list))
            return iam_access_error(err, IAM_EINVAL, "invalid_body", "The role %.64s needs a list of actions.", role);
        for (size_t i = 0; i < json_array_size(list); i++) {
            const json_t *item = json_array_get(list, i);
            if (!json_text(item) || !action_declared(actions, json_string_value(item)))
                return iam_access_error(err, IAM_EINVAL, "invalid_body",
                                        "The role %.64s names an action the service does not declare.", role);
        }
    }
    return IAM_OK;
}

enum iam_result iam_service_registry_check(struct iam_service *service, const char *name, const json_t *document,
                                           json_t **normalised, struct iam_error *err)
{
    *normalised = NULL;
    if (!json_is_object(document))
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "A service definition is a JSON object.");
    const char *member;
    json_t *value;
    json_object_foreach((json_t *)document, member, value) {
        if (!listed(document_members, member) && !listed(server_members, member))
            return iam_access_error(err, IAM_EINVAL, "invalid_body", "Unknown property %.64s.", member);
    }
    const json_t *given = json_object_get(document, "name");
    if (given && !json_text(given))
        return invalid(err, "name", "must be a string");
    const char *document_name = given ? json_string_value(given) : NULL;
    if (name && document_name && strcmp(name, document_name) != 0)
        return invalid(err, "name", "differs from the name in the URL");
    if (!name)
        name = document_name;
    if (!name || !service_name_valid(name))
        return invalid(err, "name", "must be 2 to 64 lowercase letters, digits and -");
    if (listed(reserved_names, name) || (service && service->engine && iam_engine_service_builtin(service->engine, name)))
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "The service name %s is built in or reserved.", name);
    enum iam_result result;
    if ((result = check_optional_text(document, "display_name", err)) != IAM_OK ||
        (result = check_optional_text(document, "description", err)) != IAM_OK ||
        (result = check_token_list(document, "resource_types", err)) != IAM_OK ||
        (result = check_token_list(document, "attributes", err)) != IAM_OK ||
        (result = check_token_list(document, "supported_attributes", err)) != IAM_OK)
        return result;
    const json_t *type = json_object_get(document, "service_type");
    if (type && !json_is_null(type) && !(json_text(type) && (strcmp(json_string_value(type), "service") == 0 ||
                                      strcmp(json_string_value(type), "platform_service") == 0)))
        return invalid(err, "service_type", "must be service or platform_service");
    const json_t *group = json_object_get(document, "service_group_id");
    if (group && !json_is_null(group) && !(json_text(group) && token_valid(json_string_value(group), NAME_MAX_LENGTH, false)))
        return invalid(err, "service_group_id", "must be a short name");
    const json_t *actions = json_object_get(document, "actions");
    if ((result = check_actions(name, actions, err)) != IAM_OK)
        return result;
    const json_t *roles = json_object_get(document, "roles");
    if (roles && !json_is_null(roles) && (result = check_roles(roles, actions, err)) != IAM_OK)
        return result;
    const json_t *clients = json_object_get(document, "pdp_clients");
    if (clients && !json_is_null(clients)) {
        if (!json_is_array(clients) || json_array_size(clients) > IAM_SERVICE_PDP_CLIENTS_MAX)
            return invalid(err, "pdp_clients", "must be a list of at most 100 iam_ids");
        for (size_t i = 0; i < json_array_size(clients); i++) {
            const json_t *client = json_array_get(clients, i);
            if (!json_text(client) || !iam_id_valid(json_string_value(client)))
                return invalid(err, "pdp_clients", "must hold service ID or user iam_ids");
        }
    }
    json_t *copy = json_deep_copy(document);
    if (!copy)
        return no_memory(err);
    for (const char *const *server = server_members; *server; server++)
        json_object_del(copy, *server);
    if (json_object_set_new(copy, "name", json_string(name)) != 0) {
        json_decref(copy);
        return no_memory(err);
    }
    *normalised = copy;
    return IAM_OK;
}

/* Only the owner of the bootstrap account (the instance operator) manages the registry. */
static enum iam_result authorize_operator(struct iam_service *service, struct iam_arena *arena,
                                          const struct iam_principal *who, struct iam_error *err)
{
    if (!service || !service->store || !who || !who->iam_id)
        return iam_access_error(err, IAM_EINTERNAL, "unable_to_process", "The service registry is not set up.");
    const char *account_id = NULL;
    struct iam_account_record account;
    enum iam_result result = iam_store_meta_get(service->store, arena, "bootstrap_account", &account_id);
    if (result == IAM_OK)
        result = iam_store_account_get(service->store, arena, account_id, &account);
    if (result != IAM_OK && result != IAM_ENOTFOUND)
        return iam_access_store_failure(result, err);
    if (result == IAM_OK && who->kind == IAM_PRINCIPAL_USER && account.owner_iam_id &&
        strcmp(account.owner_iam_id, who->iam_id) == 0)
        return IAM_OK;
    return iam_access_error(err, IAM_EDENIED, "insufficent_permissions",
                            "Only the instance operator may read or change the service registry.");
}

static enum iam_result document_text(struct iam_arena *arena, const json_t *document, const char **out,
                                     struct iam_error *err)
{
    char *text = json_dumps(document, JSON_COMPACT);
    *out = text ? iam_arena_strdup(arena, text) : NULL;
    free(text);
    return *out ? IAM_OK : no_memory(err);
}

/* Stores `normalised` under `name`; `*unchanged` when the stored document is already equal. */
static enum iam_result store_definition(struct iam_service *service, struct iam_arena *arena, const char *name,
                                        const char *created_by, const char *expected_entity_tag,
                                        const json_t *normalised, struct iam_service_def_record *out, bool *created,
                                        bool *unchanged, struct iam_error *err)
{
    *created = false;
    *unchanged = false;
    struct iam_service_def_record current;
    enum iam_result result = iam_store_service_def_get(service->store, arena, name, &current);
    if (result != IAM_OK && result != IAM_ENOTFOUND)
        return iam_access_store_failure(result, err);
    bool exists = result == IAM_OK;
    if (expected_entity_tag && (!exists || !current.entity_tag || strcmp(expected_entity_tag, current.entity_tag) != 0))
        return exists ? iam_access_error(err, IAM_ECONFLICT, "request_not_processed",
                                         "The If-Match entity tag does not match the service's current version.")
                      : service_not_found(err);
    if (exists) {
        json_t *stored = current.document ? json_loads(current.document, 0, NULL) : NULL;
        bool same = stored && json_equal(stored, normalised);
        json_decref(stored);
        if (same) {
            *unchanged = true;
            *out = current;
            return IAM_OK;
        }
    }
    struct iam_service_def_record record = {
        .name = iam_arena_strdup(arena, name),
        .created_by = exists ? current.created_by : created_by,
        .created_at = exists ? current.created_at : iam_now(),
        .modified_at = iam_now(),
    };
    if (!record.name)
        return no_memory(err);
    if ((result = document_text(arena, normalised, &record.document, err)) != IAM_OK)
        return result;
    if (iam_entity_tag_next(arena, exists ? current.entity_tag : NULL, &record.entity_tag, err) != IAM_OK)
        return iam_access_error(err, IAM_ECRYPTO, "unable_to_process", "Cannot create an entity tag.");
    result = iam_store_service_def_put(service->store, &record, exists ? current.entity_tag : NULL);
    if (result == IAM_ECONFLICT)
        return iam_access_error(err, IAM_ECONFLICT, "request_not_processed",
                                "The service definition changed meanwhile; read it again and retry.");
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    iam_access_refresh(service);
    *created = !exists;
    *out = record;
    return IAM_OK;
}

enum iam_result iam_service_registry_put(struct iam_service *service, struct iam_arena *arena,
                                         const struct iam_principal *who, const char *name,
                                         const char *expected_entity_tag, const json_t *document,
                                         struct iam_service_def_record *out, bool *created, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    *created = false;
    enum iam_result result = authorize_operator(service, arena, who, err);
    if (result != IAM_OK)
        return result;
    json_t *normalised = NULL;
    if ((result = iam_service_registry_check(service, name, document, &normalised, err)) != IAM_OK)
        return result;
    bool unchanged;
    result = store_definition(service, arena, json_string_value(json_object_get(normalised, "name")), who->iam_id,
                              expected_entity_tag, normalised, out, created, &unchanged, err);
    json_decref(normalised);
    return result;
}

/* The built-in definition of `name` as a record (arena), or IAM_ENOTFOUND. */
static enum iam_result builtin_record(struct iam_arena *arena, const char *name, struct iam_service_def_record *out)
{
    json_t *all = iam_engine_builtin_services();
    if (!all)
        return IAM_ENOMEM;
    enum iam_result result = IAM_ENOTFOUND;
    const json_t *document = json_object_get(all, name);
    if (document) {
        char *text = json_dumps(document, JSON_COMPACT);
        memset(out, 0, sizeof *out);
        out->name = iam_arena_strdup(arena, name);
        out->document = text ? iam_arena_strdup(arena, text) : NULL;
        free(text);
        result = out->name && out->document ? IAM_OK : IAM_ENOMEM;
    }
    json_decref(all);
    return result;
}

enum iam_result iam_service_registry_get(struct iam_service *service, struct iam_arena *arena,
                                         const struct iam_principal *who, const char *name,
                                         struct iam_service_def_record *out, bool *builtin, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    *builtin = false;
    enum iam_result result = authorize_operator(service, arena, who, err);
    if (result != IAM_OK)
        return result;
    if (!name || !service_name_valid(name))
        return service_not_found(err);
    result = builtin_record(arena, name, out);
    if (result == IAM_OK) {
        *builtin = true;
        return IAM_OK;
    }
    if (result != IAM_ENOTFOUND)
        return no_memory(err);
    result = iam_store_service_def_get(service->store, arena, name, out);
    if (result == IAM_ENOTFOUND)
        return service_not_found(err);
    return result == IAM_OK ? IAM_OK : iam_access_store_failure(result, err);
}

enum iam_result iam_service_registry_list(struct iam_service *service, struct iam_arena *arena,
                                          const struct iam_principal *who, struct iam_service_registry_entry **items,
                                          size_t *count, struct iam_error *err)
{
    *items = NULL;
    *count = 0;
    enum iam_result result = authorize_operator(service, arena, who, err);
    if (result != IAM_OK)
        return result;
    struct iam_service_def_record *registered = NULL;
    size_t registered_count = 0;
    if ((result = iam_store_service_def_list(service->store, arena, &registered, &registered_count)) != IAM_OK)
        return iam_access_store_failure(result, err);
    json_t *all = iam_engine_builtin_services();
    if (!all)
        return no_memory(err);
    size_t total = json_object_size(all) + registered_count;
    struct iam_service_registry_entry *entries = iam_arena_alloc(arena, (total ? total : 1) * sizeof *entries);
    if (!entries) {
        json_decref(all);
        return no_memory(err);
    }
    size_t used = 0;
    const char *name;
    json_t *document;
    json_object_foreach(all, name, document) {
        (void)document;
        if (builtin_record(arena, name, &entries[used].record) != IAM_OK) {
            json_decref(all);
            return no_memory(err);
        }
        entries[used++].builtin = true;
    }
    json_decref(all);
    for (size_t i = 0; i < registered_count; i++) {
        entries[used].record = registered[i];
        entries[used++].builtin = false;
    }
    *items = entries;
    *count = used;
    return IAM_OK;
}

enum iam_result iam_service_registry_delete(struct iam_service *service, struct iam_arena *arena,
                                            const struct iam_principal *who, const char *name,
                                            struct iam_error *err)
{
    enum iam_result result = authorize_operator(service, arena, who, err);
    if (result != IAM_OK)
        return result;
    if (!name || !service_name_valid(name))
        return service_not_found(err);
    struct iam_service_def_record ignored;
    if (builtin_record(arena, name, &ignored) == IAM_OK)
        return iam_access_error(err, IAM_ECONFLICT, "request_not_processed",
                                "The built-in service %s cannot be deleted.", name);
    result = iam_store_service_def_delete(service->store, name);
    if (result == IAM_ENOTFOUND)
        return service_not_found(err);
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    iam_access_refresh(service);
    return IAM_OK;
}

json_t *iam_service_registry_render(const struct iam_service_def_record *record, bool builtin)
{
    json_t *body = record->document ? json_loads(record->document, 0, NULL) : NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        return NULL;
    }
    char created[IAM_TIME_TEXT_SIZE], modified[IAM_TIME_TEXT_SIZE];
    iam_time_format_rfc3339(record->created_at, created);
    iam_time_format_rfc3339(record->modified_at, modified);
    if (json_object_set_new(body, "builtin", json_boolean(builtin)) != 0 ||
        (!builtin && (json_object_set_new(body, "entity_tag", json_string(record->entity_tag ? record->entity_tag : "")) !=
                          0 ||
                      json_object_set_new(body, "created_at", json_string(created)) != 0 ||
                      json_object_set_new(body, "modified_at", json_string(modified)) != 0))) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* --- loading a directory --- */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool json_file_name(const char *name)
{
    size_t length = strlen(name);
    return name[0] != '.' && length > 5 && strcmp(name + length - 5, ".json") == 0;
}

/* Reads, checks and stores one definition file. */
static enum iam_result load_file(struct iam_service *service, struct iam_arena *arena, const char *path,
                                 struct iam_error *err)
{
    struct stat info;
    if (stat(path, &info) != 0 || !S_ISREG(info.st_mode))
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "%.200s is not a readable file.", path);
    if (info.st_size > IAM_SERVICE_FILE_MAX)
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "%.200s is larger than 1 MiB.", path);
    json_error_t parse_error;
    json_t *document = json_load_file(path, JSON_REJECT_DUPLICATES, &parse_error);
    if (!document)
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "%.200s: line %d: %.200s", path, parse_error.line,
                                parse_error.text);
    json_t *normalised = NULL;
    struct iam_error inner;
    iam_error_clear(&inner);
    enum iam_result result = iam_service_registry_check(service, NULL, document, &normalised, &inner);
    json_decref(document);
    if (result != IAM_OK)
        return iam_access_error(err, result, "invalid_body", "%.100s: %s", path, inner.message);
    struct iam_service_def_record stored;
    bool created, unchanged;
    result = store_definition(service, arena, json_string_value(json_object_get(normalised, "name")), "file", NULL,
                              normalised, &stored, &created, &unchanged, err);
    if (result == IAM_OK && !unchanged)
        iam_log(IAM_LOG_INFO, "service_registered", "Service %s %s from %s.", stored.name,
                created ? "registered" : "updated", path);
    json_decref(normalised);
    return result;
}

enum iam_result iam_service_registry_load_dir(struct iam_service *service, const char *directory,
                                              struct iam_error *err)
{
    if (!service || !service->store || !directory)
        return iam_access_error(err, IAM_EINTERNAL, "unable_to_process", "The service registry is not set up.");
    DIR *handle = opendir(directory);
    if (!handle)
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "Cannot open the directory %.200s: %s.", directory,
                                strerror(errno));
    struct iam_arena *arena = iam_arena_new();
    char **names = NULL;
    size_t count = 0;
    enum iam_result result = IAM_OK;
    if (!arena) {
        result = no_memory(err);
        goto out;
    }
    names = iam_arena_alloc(arena, FILES_MAX * sizeof *names);
    if (!names) {
        result = no_memory(err);
        goto out;
    }
    struct dirent *entry;
    while ((entry = readdir(handle)) != NULL) {
        if (!json_file_name(entry->d_name))
            continue;
        if (count == FILES_MAX) {
            result = iam_access_error(err, IAM_EINVAL, "invalid_body", "%.200s holds more than %d definitions.",
                                      directory, FILES_MAX);
            goto out;
        }
        if (!(names[count++] = iam_arena_printf(arena, "%s/%s", directory, entry->d_name))) {
            result = no_memory(err);
            goto out;
        }
    }
    qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count && result == IAM_OK; i++)
        result = load_file(service, arena, names[i], err);
out:
    closedir(handle);
    iam_arena_free(arena);
    return result;
}
