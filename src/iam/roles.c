/*
 * roles.c: custom roles (roles.h): create, read, replace and delete behind
 * iam_authz_check(), with IBM's duplicate rules (name, identical action
 * set), the 40-per-account limit, removal from policies on delete, and the
 * role list that merges custom roles with the engine's service and system
 * roles.
 *
 * Error codes set here (err->code): invalid_body 400, role_not_found 404,
 * not_found 404 (another account), insufficent_permissions 403,
 * role_conflict_error 409 (same name, same actions, stale If-Match),
 * request_not_processed 409 (40 roles), unable_to_process 500/503.
 */
#include "iam/roles.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/time.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "iam/apikeys.h"
#include "iam/engine.h"
#include "iam/policies.h"
#include "store/store_access.h"

#define ROLE_ID_MAX 256
#define ROLE_RESOURCE_TYPE "customRole"
#define ACCESS_MANAGEMENT "iam-access-management"

static const char *const server_members[] = {"id", "crn", "href", "created_at", "created_by_id", "last_modified_at",
                                             "last_modified_by_id", NULL};

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_access_error(err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
}

static enum iam_result role_not_found(struct iam_error *err)
{
    return iam_access_error(err, IAM_ENOTFOUND, "role_not_found", "Role not found.");
}

static enum iam_result not_set_up(struct iam_error *err)
{
    return iam_access_error(err, IAM_EINTERNAL, "unable_to_process", "The role service is not set up.");
}

static bool json_text(const json_t *value)
{
    return json_is_string(value) && strlen(json_string_value(value)) == json_string_length(value);
}

static bool listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const char *unknown_member(const json_t *object, const char *const *allowed)
{
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)object, name, value) {
        (void)value;
        if (!listed(allowed, name) && !listed(server_members, name))
            return name;
    }
    return NULL;
}

/* Reads member `name` as text checked by iam_text_check (an arena copy); absent leaves NULL (an error when `required`). */
static enum iam_result body_text(struct iam_arena *arena, const json_t *body, const char *name, size_t max,
                                 bool required, bool allow_empty, const char **out, struct iam_error *err)
{
    *out = NULL;
    const json_t *value = json_object_get(body, name);
    if (!value || json_is_null(value)) {
        if (required)
            return iam_access_error(err, IAM_EINVAL, "invalid_body", "The property %s is required.", name);
        return IAM_OK;
    }
    if (!json_text(value))
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "The property %s must be a string.", name);
    if (iam_text_check(name, json_string_value(value), max, allow_empty, err) != IAM_OK) {
        snprintf(err->code, sizeof err->code, "%s", "invalid_body");
        err->message_code[0] = '\0';
        return IAM_EINVAL;
    }
    *out = iam_arena_strdup(arena, json_string_value(value));
    return *out ? IAM_OK : no_memory(err);
}

/* A capitalised alphanumeric name. */
static bool role_name_valid(const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || length > IAM_ROLE_NAME_MAX || !isupper((unsigned char)name[0]))
        return false;
    for (size_t i = 0; i < length; i++)
        if (!isalnum((unsigned char)name[i]))
            return false;
    return true;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Checks the actions of a role of `service_name` and writes them as the JSON
 * array text the record keeps; `*set_key` is the sorted, newline-joined set.
 */
static enum iam_result parse_actions(struct iam_service *service, struct iam_arena *arena, const json_t *actions,
                                     const char *service_name, const char **text, const char **set_key,
                                     struct iam_error *err)
{
    if (!json_is_array(actions) || json_array_size(actions) == 0)
        return iam_access_error(err, IAM_EINVAL, "invalid_body",
                                "The property actions must list at least one action of the service.");
    size_t count = json_array_size(actions);
    if (count > IAM_ROLE_ACTIONS_MAX)
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "A custom role has at most %d actions.",
                                IAM_ROLE_ACTIONS_MAX);
    const char **sorted = iam_arena_alloc(arena, count * sizeof *sorted);
    if (!sorted)
        return no_memory(err);
    size_t prefix = strlen(service_name);
    size_t total = 1;
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_array_get(actions, i);
        if (!json_text(item))
            return iam_access_error(err, IAM_EINVAL, "invalid_body", "Each action must be a string.");
        const char *action = json_string_value(item);
        if (strlen(action) > 256 || strncmp(action, service_name, prefix) != 0 || action[prefix] != '.')
            return iam_access_error(err, IAM_EINVAL, "invalid_body", "The action %.128s does not belong to %s.",
                                    action, service_name);
        if (!iam_engine_action_exists(service->engine, action))
            return iam_access_error(err, IAM_EINVAL, "invalid_body", "The action %.128s is not defined by %s.",
                                    action, service_name);
        sorted[i] = action;
        total += strlen(action) + 1;
    }
    qsort(sorted, count, sizeof *sorted, compare_strings);
    char *key = iam_arena_alloc(arena, total);
    if (!key)
        return no_memory(err);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
            return iam_access_error(err, IAM_EINVAL, "invalid_body", "The action %.128s is listed twice.", sorted[i]);
        size_t length = strlen(sorted[i]);
        memcpy(key + used, sorted[i], length);
        used += length;
        key[used++] = '\n';
    }
    key[used] = '\0';
    char *dumped = json_dumps(actions, JSON_COMPACT);
    *text = dumped ? iam_arena_strdup(arena, dumped) : NULL;
    free(dumped);
    *set_key = key;
    return *text ? IAM_OK : no_memory(err);
}

/* The sorted action set of a stored role, as parse_actions writes it (NULL when unreadable). */
static const char *stored_set_key(struct iam_arena *arena, const struct iam_role_record *role)
{
    json_t *actions = role->actions ? json_loads(role->actions, 0, NULL) : NULL;
    size_t count = json_array_size(actions);
    const char **sorted = count ? iam_arena_alloc(arena, count * sizeof *sorted) : NULL;
    char *key = NULL;
    size_t total = 1;
    if (!count || !sorted)
        goto out;
    for (size_t i = 0; i < count; i++) {
        sorted[i] = json_string_value(json_array_get(actions, i));
        if (!sorted[i])
            goto out;
        total += strlen(sorted[i]) + 1;
    }
    qsort(sorted, count, sizeof *sorted, compare_strings);
    key = iam_arena_alloc(arena, total);
    if (!key)
        goto out;
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        size_t length = strlen(sorted[i]);
        memcpy(key + used, sorted[i], length);
        used += length;
        key[used++] = '\n';
    }
    key[used] = '\0';
out:
    json_decref(actions);
    return key;
}

static enum iam_result authorize(struct iam_service *service, const struct iam_principal *who, const char *action,
                                 const char *account_id, const char *role_id, struct iam_error *err)
{
    struct iam_target target = {.account_id = account_id,
                                .service_name = ACCESS_MANAGEMENT,
                                .resource_type = ROLE_RESOURCE_TYPE,
                                .resource = role_id};
    enum iam_result result = iam_authz_check(service, who, action, &target, err);
    if (result == IAM_EDENIED)
        return iam_access_error(err, IAM_EDENIED, "insufficent_permissions",
                                "You are not allowed to do this with custom roles (%s).", action);
    if (result == IAM_ENOTFOUND)
        return role_id ? role_not_found(err) : iam_access_error(err, IAM_ENOTFOUND, "not_found", "Account not found.");
    return result;
}

/* Checks the account's other roles: name, identical action set (conflict) and, when creating, the limit. */
static enum iam_result check_siblings(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                      const char *service_name, const char *name, const char *set_key,
                                      const char *self_id, struct iam_role_record *conflict, struct iam_error *err)
{
    struct iam_role_record *roles = NULL;
    size_t count = 0;
    enum iam_result result = iam_store_role_list(service->store, arena, account_id, NULL, &roles, &count);
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    if (!self_id && count >= IAM_ROLE_PER_ACCOUNT_MAX)
        return iam_access_error(err, IAM_ECONFLICT, "request_not_processed",
                                "The account already has %d custom roles, the limit.", IAM_ROLE_PER_ACCOUNT_MAX);
    for (size_t i = 0; i < count; i++) {
        if (self_id && same_text(roles[i].id, self_id))
            continue;
        bool same_name = !self_id && same_text(roles[i].name, name);
        bool same_actions = same_text(roles[i].service_name, service_name) &&
                            same_text(stored_set_key(arena, &roles[i]), set_key);
        if (!same_name && !same_actions)
            continue;
        if (conflict)
            *conflict = roles[i];
        return iam_access_error(err, IAM_ECONFLICT, "role_conflict_error",
                                same_name ? "A custom role named %.64s already exists in the account."
                                          : "The custom role %.64s already holds exactly these actions.",
                                same_name ? name : roles[i].name);
    }
    return IAM_OK;
}

enum iam_result iam_role_create(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const json_t *body, struct iam_role_record *out,
                                struct iam_role_record *conflict, struct iam_error *err)
{
    static const char *const members[] = {"name",       "display_name", "description", "actions",
                                          "account_id", "service_name", NULL};
    memset(out, 0, sizeof *out);
    if (conflict)
        memset(conflict, 0, sizeof *conflict);
    if (!service || !service->store || !service->engine || !who || !who->iam_id || !who->account_id)
        return not_set_up(err);
    if (!json_is_object(body))
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "The request body must be a JSON object.");
    const char *unknown = unknown_member(body, members);
    if (unknown)
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "Unknown property %.64s.", unknown);
    struct iam_role_record record = {0};
    enum iam_result result;
    if ((result = body_text(arena, body, "name", IAM_ROLE_NAME_MAX, true, false, &record.name, err)) != IAM_OK ||
        (result = body_text(arena, body, "display_name", IAM_ROLE_DISPLAY_NAME_MAX, true, false, &record.display_name,
                            err)) != IAM_OK ||
        (result = body_text(arena, body, "description", IAM_ROLE_DESCRIPTION_MAX, false, true, &record.description, err)) !=
            IAM_OK ||
        (result = body_text(arena, body, "account_id", 64, true, false, &record.account_id, err)) != IAM_OK ||
        (result = body_text(arena, body, "service_name", 64, true, false, &record.service_name, err)) != IAM_OK)
        return result;
    if (!role_name_valid(record.name))
        return iam_access_error(err, IAM_EINVAL, "invalid_body",
                                "The property name must be capitalised and alphanumeric (at most %d characters).",
                                IAM_ROLE_NAME_MAX);
    if (!iam_is_account_id(record.account_id))
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "The property account_id is not an account ID.");
    if ((result = authorize(service, who, IAM_ACTION_ROLE_CREATE, record.account_id, NULL, err)) != IAM_OK)
        return result;
    if (!iam_engine_service_exists(service->engine, record.service_name))
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "The service %.64s is not a known service.",
                                record.service_name);
    const char *set_key = NULL;
    if ((result = parse_actions(service, arena, json_object_get(body, "actions"), record.service_name,
                                &record.actions, &set_key, err)) != IAM_OK ||
        (result = check_siblings(service, arena, record.account_id, record.service_name, record.name, set_key, NULL,
                                 conflict, err)) != IAM_OK)
        return result;

    char random[33];
    if (iam_random_hex(random, 16) != IAM_OK)
        return iam_access_error(err, IAM_ECRYPTO, "unable_to_process", "Cannot create a role id.");
    const char *plain = iam_arena_printf(arena, "customRole-%s-%s", random, record.name);
    char *id = plain ? iam_arena_alloc(arena, strlen(plain) * 2 + 1) : NULL;
    if (!id)
        return no_memory(err);
    iam_hex_encode(plain, strlen(plain), id);
    record.id = id;
    record.crn = iam_arena_printf(arena, "crn:v1:ibmcloud:public:iam-access-management::a/%s::customRole:%s",
                                  record.account_id, record.name);
    if (record.description && !*record.description)
        record.description = NULL;
    record.created_by = who->iam_id;
    record.modified_by = who->iam_id;
    record.created_at_ms = iam_now_ms();
    record.modified_at_ms = record.created_at_ms;
    if (!record.crn)
        return no_memory(err);
    if (iam_entity_tag_next(arena, NULL, &record.entity_tag, err) != IAM_OK)
        return iam_access_error(err, IAM_ECRYPTO, "unable_to_process", "Cannot create an entity tag.");
    result = iam_store_role_insert(service->store, &record);
    if (result == IAM_ECONFLICT)
        return iam_access_error(err, IAM_ECONFLICT, "role_conflict_error",
                                "A custom role named %.64s already exists.", record.name);
    if (result == IAM_ENOTFOUND)
        return iam_access_error(err, IAM_ENOTFOUND, "not_found", "Account not found.");
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    iam_access_refresh(service);
    *out = record;
    return IAM_OK;
}

static bool role_id_valid(const char *id)
{
    size_t length = id ? strlen(id) : 0;
    if (length == 0 || length > ROLE_ID_MAX)
        return false;
    for (size_t i = 0; i < length; i++)
        if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
            return false;
    return true;
}

static enum iam_result load_role(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *id, const char *action,
                                 struct iam_role_record *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !who->account_id || !who->iam_id)
        return not_set_up(err);
    if (!role_id_valid(id))
        return role_not_found(err);
    enum iam_result result = iam_store_role_get(service->store, arena, who->account_id, id, out);
    if (result == IAM_ENOTFOUND)
        return role_not_found(err);
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    return authorize(service, who, action, out->account_id, out->id, err);
}

enum iam_result iam_role_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                             const char *id, struct iam_role_record *out, struct iam_error *err)
{
    enum iam_result result = load_role(service, arena, who, id, IAM_ACTION_ROLE_READ, out, err);
    if (result != IAM_OK)
        memset(out, 0, sizeof *out);
    return result;
}

enum iam_result iam_role_replace(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *id, const char *expected_entity_tag,
                                 const json_t *body, struct iam_role_record *out, struct iam_role_record *conflict,
                                 struct iam_error *err)
{
    static const char *const members[] = {"name",       "display_name", "description", "actions",
                                          "account_id", "service_name", NULL};
    static const char *const immutable[] = {"name", "account_id", "service_name"};
    memset(out, 0, sizeof *out);
    if (conflict)
        memset(conflict, 0, sizeof *conflict);
    if (!service || !service->engine)
        return not_set_up(err);
    struct iam_role_record current;
    enum iam_result result = load_role(service, arena, who, id, IAM_ACTION_ROLE_UPDATE, &current, err);
    if (result != IAM_OK)
        return result;
    if (expected_entity_tag && !same_text(expected_entity_tag, current.entity_tag)) {
        if (conflict)
            *conflict = current;
        return iam_access_error(err, IAM_ECONFLICT, "role_conflict_error",
                                "The If-Match entity tag does not match the role's current version.");
    }
    if (!json_is_object(body))
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "The request body must be a JSON object.");
    const char *unknown = unknown_member(body, members);
    if (unknown)
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "Unknown property %.64s.", unknown);
    const char *current_values[] = {current.name, current.account_id, current.service_name};
    for (size_t i = 0; i < sizeof immutable / sizeof immutable[0]; i++) {
        const json_t *value = json_object_get(body, immutable[i]);
        if (value && !(json_text(value) && same_text(json_string_value(value), current_values[i])))
            return iam_access_error(err, IAM_EINVAL, "invalid_body", "The property %s of a role cannot change.",
                                    immutable[i]);
    }
    struct iam_role_record updated = current;
    const char *set_key = NULL;
    if ((result = body_text(arena, body, "display_name", IAM_ROLE_DISPLAY_NAME_MAX, true, false, &updated.display_name,
                            err)) != IAM_OK ||
        (result = body_text(arena, body, "description", IAM_ROLE_DESCRIPTION_MAX, false, true, &updated.description, err)) !=
            IAM_OK ||
        (result = parse_actions(service, arena, json_object_get(body, "actions"), current.service_name,
                                &updated.actions, &set_key, err)) != IAM_OK ||
        (result = check_siblings(service, arena, current.account_id, current.service_name, current.name, set_key,
                                 current.id, conflict, err)) != IAM_OK)
        return result;
    if (updated.description && !*updated.description)
        updated.description = NULL;
    if (iam_entity_tag_next(arena, current.entity_tag, &updated.entity_tag, err) != IAM_OK)
        return iam_access_error(err, IAM_ECRYPTO, "unable_to_process", "Cannot create an entity tag.");
    updated.modified_by = who->iam_id;
    updated.modified_at_ms = iam_now_ms();
    result = iam_store_role_update(service->store, &updated, current.entity_tag);
    if (result == IAM_ECONFLICT) {
        if (conflict)
            *conflict = current;
        return iam_access_error(err, IAM_ECONFLICT, "role_conflict_error",
                                "The role changed meanwhile; read it again and retry.");
    }
    if (result == IAM_ENOTFOUND)
        return role_not_found(err);
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    iam_access_refresh(service);
    *out = updated;
    return IAM_OK;
}

enum iam_result iam_role_delete(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *id, struct iam_error *err)
{
    struct iam_role_record current;
    enum iam_result result = load_role(service, arena, who, id, IAM_ACTION_ROLE_DELETE, &current, err);
    if (result != IAM_OK)
        return result;
    size_t changed = 0;
    if ((result = iam_policy_remove_role(service, arena, who, current.account_id, current.crn, &changed, err)) !=
        IAM_OK)
        return result;
    result = iam_store_role_delete(service->store, current.account_id, current.id);
    if (result == IAM_ENOTFOUND)
        return role_not_found(err);
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    iam_access_refresh(service);
    return IAM_OK;
}

static enum iam_result check_query(const char *name, const char *value, struct iam_error *err)
{
    if (value && iam_text_check(name, value, 128, false, err) != IAM_OK)
        return iam_access_error(err, IAM_EINVAL, "invalid_body", "The query parameter %s is not valid.", name);
    return IAM_OK;
}

enum iam_result iam_role_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                              const struct iam_role_list_request *request, struct iam_role_collection *out,
                              struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !service->engine || !who || !who->account_id || !request)
        return not_set_up(err);
    enum iam_result result;
    if ((result = check_query("account_id", request->account_id, err)) != IAM_OK ||
        (result = check_query("service_name", request->service_name, err)) != IAM_OK ||
        (result = check_query("source_service_name", request->source_service_name, err)) != IAM_OK ||
        (result = check_query("policy_type", request->policy_type, err)) != IAM_OK ||
        (result = check_query("service_group_id", request->service_group_id, err)) != IAM_OK)
        return result;
    if (request->service_name && request->service_group_id)
        return iam_access_error(err, IAM_EINVAL, "invalid_body",
                                "The query parameters service_name and service_group_id exclude each other.");
    if (request->policy_type && strcmp(request->policy_type, "access") != 0 &&
        strcmp(request->policy_type, "authorization") != 0)
        return iam_access_error(err, IAM_EINVAL, "invalid_body",
                                "The query parameter policy_type must be access or authorization.");
    if (request->account_id && !iam_is_account_id(request->account_id))
        return iam_access_error(err, IAM_EINVAL, "invalid_body",
                                "The query parameter account_id is not an account ID.");
    bool all_generic = !request->service_name || strcmp(request->service_name, "alliamserviceroles") == 0;
    out->catalogue = iam_engine_roles_for_service(service->engine, request->service_name);
    if (!out->catalogue)
        out->catalogue = json_pack("{s:[],s:[]}", "system_roles", "service_roles");
    if (!out->catalogue)
        return no_memory(err);
    if (!request->account_id || (request->service_name && all_generic))
        return IAM_OK;

    struct iam_target account = {.account_id = request->account_id,
                                 .service_name = ACCESS_MANAGEMENT,
                                 .resource_type = ROLE_RESOURCE_TYPE};
    result = iam_authz_check(service, who, IAM_ACTION_ROLE_READ, &account, err);
    iam_error_clear(err);
    if (result == IAM_ENOTFOUND)
        return IAM_OK; /* another account's roles: none to show */
    if (result != IAM_OK && result != IAM_EDENIED) {
        json_decref(out->catalogue);
        out->catalogue = NULL;
        return iam_access_error(err, result, "unable_to_process", "Cannot list roles.");
    }
    struct iam_role_record *roles = NULL;
    size_t count = 0;
    result = iam_store_role_list(service->store, arena, request->account_id, request->service_name, &roles, &count);
    if (result != IAM_OK) {
        json_decref(out->catalogue);
        out->catalogue = NULL;
        return iam_access_store_failure(result, err);
    }
    out->custom_roles = count ? iam_arena_alloc(arena, count * sizeof *out->custom_roles) : NULL;
    if (count && !out->custom_roles) {
        json_decref(out->catalogue);
        out->catalogue = NULL;
        return no_memory(err);
    }
    for (size_t i = 0; i < count; i++) {
        struct iam_error ignored;
        if (authorize(service, who, IAM_ACTION_ROLE_READ, roles[i].account_id, roles[i].id, &ignored) == IAM_OK)
            out->custom_roles[out->custom_count++] = roles[i];
    }
    return IAM_OK;
}

json_t *iam_role_render(struct iam_service *service, struct iam_arena *arena, const struct iam_role_record *record)
{
    const char *url = service->options.public_url ? service->options.public_url : "";
    size_t length = strlen(url);
    while (length > 0 && url[length - 1] == '/')
        length--;
    const char *href = iam_arena_printf(arena, "%.*s/v2/roles/%s", (int)length, url, record->id);
    json_t *actions = record->actions ? json_loads(record->actions, 0, NULL) : NULL;
    if (!json_is_array(actions)) {
        json_decref(actions);
        actions = json_array();
    }
    char created[32], modified[32];
    iam_access_time_format(record->created_at_ms, created);
    iam_access_time_format(record->modified_at_ms, modified);
    if (!href) {
        json_decref(actions);
        return NULL;
    }
    json_t *body = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:s}", "id", record->id, "name",
                             record->name ? record->name : "", "account_id", record->account_id, "service_name",
                             record->service_name ? record->service_name : "", "display_name",
                             record->display_name ? record->display_name : "", "description",
                             record->description ? record->description : "", "actions", actions, "crn",
                             record->crn ? record->crn : "", "created_at", created, "created_by_id",
                             record->created_by ? record->created_by : "", "last_modified_at", modified,
                             "last_modified_by_id", record->modified_by ? record->modified_by : "", "href", href);
    return body;
}
