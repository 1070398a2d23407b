/*
 * engine_compile.c: turns a struct iam_access_snapshot (store rows: policy
 * documents, custom roles, memberships, service definitions) into the
 * immutable indexed snapshot the decision path reads: interned strings,
 * per-service action numbering and role action bitsets, compiled policy
 * constraints, glob patterns and conditions, and the (account, subject)
 * index with per-service buckets and each identity's groups.
 *
 * A policy that cannot be compiled (an operator we do not know, a malformed
 * condition) is kept with a `broken` reason so explain can show it, and never
 * matches: one bad row must not take authorization down for everybody.
 * Only running out of memory fails the whole compile.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/time.h"
#include "iam/engine_internal.h"

const char *const engine_generic_role_names[ENGINE_GENERIC_ROLE_COUNT] = {
    "Viewer", "Operator", "Editor", "Administrator", "Reader", "Writer", "Manager"};

const char *const engine_implicit_actions[ENGINE_IMPLICIT_ACTION_COUNT] = {
    "iam.policy.read", "iam.policy.create", "iam.policy.update", "iam.policy.delete", "iam.role.read",
    "iam.role.assign"};

static const char *const generic_role_descriptions[ENGINE_GENERIC_ROLE_COUNT] = {
    "As a viewer, you can view service instances, but you can't modify them.",
    "As an operator, you can perform platform actions required to configure and operate service instances, such as "
    "viewing a service's dashboard.",
    "As an editor, you can perform all platform actions except for managing the account and assigning access "
    "policies.",
    "As an administrator, you can perform all platform actions based on the resource this role is being assigned, "
    "including assigning access policies to other users.",
    "As a reader, you can perform read-only actions within a service such as viewing service-specific resources.",
    "As a writer, you have permissions beyond the reader role, including creating and editing service-specific "
    "resources.",
    "As a manager, you have permissions beyond the writer role to complete privileged actions as defined by the "
    "service. In addition, you can create and edit service-specific resources.",
};

#define ADMINISTRATOR_INDEX 3
#define PLATFORM_ROLE_COUNT 4

struct compiler {
    struct engine_snapshot *snapshot;
    struct iam_arena *arena;
};

static enum iam_result intern(struct compiler *compiler, const char *text, uint32_t *id)
{
    return engine_intern_add(&compiler->snapshot->strings, text, strlen(text), id);
}

static struct engine_string_info *info_of(struct compiler *compiler, uint32_t id)
{
    return &compiler->snapshot->strings.info[id];
}

/* The text of a scalar JSON value (string, boolean, integer), arena memory; NULL for other types. */
static const char *scalar_text(struct iam_arena *arena, const json_t *value)
{
    if (json_is_string(value))
        return iam_arena_strdup(arena, json_string_value(value));
    if (json_is_true(value))
        return "true";
    if (json_is_false(value))
        return "false";
    if (json_is_integer(value))
        return iam_arena_printf(arena, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    return NULL;
}

static const char *json_text(struct iam_arena *arena, const json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return NULL;
    const char *copy = iam_arena_strdup(arena, text);
    free(text);
    return copy;
}

static uint64_t *bitset_new(struct compiler *compiler, uint32_t words)
{
    return iam_arena_alloc(compiler->arena, (size_t)(words ? words : 1) * sizeof(uint64_t));
}

static void bit_set(uint64_t *set, uint32_t bit)
{
    set[bit >> 6] |= (uint64_t)1 << (bit & 63);
}

/* ---------------------------------------------------------------- services */

static int generic_index(const char *name)
{
    for (int i = 0; i < ENGINE_GENERIC_ROLE_COUNT; i++)
        if (strcmp(engine_generic_role_names[i], name) == 0)
            return i;
    return -1;
}

static enum iam_result init_generic_roles(struct compiler *compiler)
{
    struct engine_snapshot *snapshot = compiler->snapshot;
    for (int i = 0; i < ENGINE_GENERIC_ROLE_COUNT; i++) {
        struct engine_role *role = &snapshot->generic_roles[i];
        bool platform = i < PLATFORM_ROLE_COUNT;
        role->kind = ENGINE_ROLE_GENERIC;
        role->generic_index = (uint8_t)i;
        role->platform = platform;
        role->service = -1;
        role->name = engine_generic_role_names[i];
        role->display_name = engine_generic_role_names[i];
        role->description = generic_role_descriptions[i];
        role->crn = iam_arena_printf(compiler->arena, "crn:v1:bluemix:public:iam::::%s:%s",
                                     platform ? "role" : "serviceRole", engine_generic_role_names[i]);
        if (!role->crn)
            return IAM_ENOMEM;
        enum iam_result result = intern(compiler, role->crn, &role->crn_id);
        if (result != IAM_OK)
            return result;
        info_of(compiler, role->crn_id)->role = role;
    }
    for (uint32_t i = 0; i < ENGINE_IMPLICIT_ACTION_COUNT; i++) {
        uint32_t id;
        enum iam_result result = intern(compiler, engine_implicit_actions[i], &id);
        if (result != IAM_OK)
            return result;
        info_of(compiler, id)->action_service = ENGINE_IMPLICIT_ACTION;
        info_of(compiler, id)->action_local = i;
    }
    return IAM_OK;
}

/* The bit of `action` in `service`, or -1 when it is not one of its actions. */
static int64_t service_action_bit(struct compiler *compiler, int32_t service, const char *action)
{
    const struct engine_intern *strings = &compiler->snapshot->strings;
    uint32_t id = engine_intern_find(strings, action, strlen(action));
    if (id == ENGINE_NO_STRING)
        return -1;
    const struct engine_string_info *info = &strings->info[id];
    if (info->action_service == ENGINE_IMPLICIT_ACTION || info->action_service == service)
        return info->action_local;
    return -1;
}

/* Fills `set` with the actions listed in `actions` (a JSON array) that `service` defines. */
static void role_actions_fill(struct compiler *compiler, int32_t service, const json_t *actions, uint64_t *set)
{
    size_t index;
    const json_t *action;
    json_array_foreach(actions, index, action)
    {
        if (!json_is_string(action))
            continue;
        int64_t bit = service_action_bit(compiler, service, json_string_value(action));
        if (bit >= 0)
            bit_set(set, (uint32_t)bit);
    }
}

static bool action_belongs_to(const char *action, const char *service_name)
{
    size_t length = strlen(service_name);
    return strncmp(action, service_name, length) == 0 && action[length] == '.' && action[length + 1] != '\0';
}

static enum iam_result compile_service_roles(struct compiler *compiler, int32_t index, const json_t *roles)
{
    struct engine_snapshot *snapshot = compiler->snapshot;
    struct engine_service *service = &snapshot->services[index];
    size_t defined = json_is_object(roles) ? json_object_size(roles) : 0;
    service->roles = iam_arena_alloc(compiler->arena, (defined + PLATFORM_ROLE_COUNT) * sizeof *service->roles);
    if (!service->roles)
        return IAM_ENOMEM;
    const char *name;
    const json_t *value;
    json_object_foreach((json_t *)roles, name, value)
    {
        const json_t *actions = json_is_object(value) ? json_object_get(value, "actions") : value;
        if (!json_is_array(actions) || name[0] == '\0')
            continue;
        uint64_t *set = bitset_new(compiler, service->words);
        if (!set)
            return IAM_ENOMEM;
        role_actions_fill(compiler, index, actions, set);
        const char *display_name = json_string_value(json_object_get(value, "display_name"));
        const char *description = json_string_value(json_object_get(value, "description"));
        int generic = generic_index(name);
        struct engine_role *role;
        if (generic >= 0) {
            if (service->generic[generic])
                continue;
            if (generic < PLATFORM_ROLE_COUNT)
                for (uint32_t bit = 0; bit < ENGINE_IMPLICIT_ACTION_COUNT; bit++)
                    if (generic == ADMINISTRATOR_INDEX || bit == 0 || bit == 4)
                        bit_set(set, bit);
            service->generic[generic] = set;
            role = &snapshot->generic_roles[generic];
        } else {
            const char *crn =
                iam_arena_printf(compiler->arena, "crn:v1:bluemix:public:%s::::serviceRole:%s", service->name, name);
            if (!crn)
                return IAM_ENOMEM;
            uint32_t crn_id;
            enum iam_result result = intern(compiler, crn, &crn_id);
            if (result != IAM_OK)
                return result;
            if (info_of(compiler, crn_id)->role)
                continue;
            role = iam_arena_alloc(compiler->arena, sizeof *role);
            if (!role)
                return IAM_ENOMEM;
            *role = (struct engine_role){
                .kind = ENGINE_ROLE_SPECIFIC,
                .service = index,
                .actions = set,
                .crn_id = crn_id,
                .crn = compiler->snapshot->strings.strings[crn_id],
                .name = iam_arena_strdup(compiler->arena, name),
                .display_name = iam_arena_strdup(compiler->arena, display_name ? display_name : name),
                .description = iam_arena_strdup(compiler->arena, description ? description : ""),
            };
            if (!role->name || !role->display_name || !role->description)
                return IAM_ENOMEM;
            info_of(compiler, crn_id)->role = role;
        }
        struct engine_service_role *entry = &service->roles[service->role_count++];
        entry->role = role;
        entry->actions = set;
        entry->display_name = display_name ? iam_arena_strdup(compiler->arena, display_name) : role->display_name;
        entry->description = description ? iam_arena_strdup(compiler->arena, description) : role->description;
        if (!entry->display_name || !entry->description)
            return IAM_ENOMEM;
    }
    /* Every service has the platform roles, with at least the implicit iam.* actions. */
    for (int generic = 0; generic < PLATFORM_ROLE_COUNT; generic++) {
        if (service->generic[generic])
            continue;
        uint64_t *set = bitset_new(compiler, service->words);
        if (!set)
            return IAM_ENOMEM;
        for (uint32_t bit = 0; bit < ENGINE_IMPLICIT_ACTION_COUNT; bit++)
            if (generic == ADMINISTRATOR_INDEX || bit == 0 || bit == 4)
                bit_set(set, bit);
        service->generic[generic] = set;
        struct engine_service_role *entry = &service->roles[service->role_count++];
        entry->role = &snapshot->generic_roles[generic];
        entry->actions = set;
        entry->display_name = entry->role->display_name;
        entry->description = entry->role->description;
    }
    return IAM_OK;
}

static enum iam_result compile_service(struct compiler *compiler, const char *name, const json_t *document,
                                       bool builtin)
{
    struct engine_snapshot *snapshot = compiler->snapshot;
    if (!name || name[0] == '\0' || !json_is_object(document))
        return IAM_OK;
    uint32_t name_id;
    enum iam_result result = intern(compiler, name, &name_id);
    if (result != IAM_OK)
        return result;
    if (info_of(compiler, name_id)->service >= 0)
        return IAM_OK; /* a built-in wins over a registered service of the same name */
    int32_t index = (int32_t)snapshot->service_count;
    struct engine_service *service = &snapshot->services[index];
    memset(service, 0, sizeof *service);
    service->name = snapshot->strings.strings[name_id];
    service->name_id = name_id;
    service->builtin = builtin;
    const char *display_name = json_string_value(json_object_get(document, "display_name"));
    service->display_name = iam_arena_strdup(compiler->arena, display_name ? display_name : name);
    const char *type = json_string_value(json_object_get(document, "service_type"));
    if (builtin || !type || (strcmp(type, "service") != 0 && strcmp(type, "platform_service") != 0))
        type = builtin ? "platform_service" : "service";
    if (!service->display_name || (result = intern(compiler, type, &service->type_value_id)) != IAM_OK)
        return service->display_name ? result : IAM_ENOMEM;
    const char *group = json_string_value(json_object_get(document, "service_group_id"));
    if (group && group[0] && (result = intern(compiler, group, &service->group_value_id)) != IAM_OK)
        return result;

    const json_t *actions = json_object_get(document, "actions");
    size_t listed = json_is_array(actions) ? json_array_size(actions) : 0;
    size_t capacity = listed + ENGINE_IMPLICIT_ACTION_COUNT;
    service->action_names = iam_arena_alloc(compiler->arena, capacity * sizeof(char *));
    service->action_display_names = iam_arena_alloc(compiler->arena, capacity * sizeof(char *));
    service->action_descriptions = iam_arena_alloc(compiler->arena, capacity * sizeof(char *));
    if (!service->action_names || !service->action_display_names || !service->action_descriptions)
        return IAM_ENOMEM;
    for (uint32_t i = 0; i < ENGINE_IMPLICIT_ACTION_COUNT; i++) {
        service->action_names[i] = engine_implicit_actions[i];
        service->action_display_names[i] = engine_implicit_actions[i];
        service->action_descriptions[i] = "";
    }
    service->action_count = ENGINE_IMPLICIT_ACTION_COUNT;
    size_t position;
    const json_t *action;
    json_array_foreach(actions, position, action)
    {
        const char *id = json_is_object(action) ? json_string_value(json_object_get(action, "id"))
                                                : json_string_value(action);
        if (!id || !action_belongs_to(id, name))
            continue;
        uint32_t action_id;
        if ((result = intern(compiler, id, &action_id)) != IAM_OK)
            return result;
        struct engine_string_info *info = info_of(compiler, action_id);
        if (info->action_service != ENGINE_NOT_AN_ACTION)
            continue; /* listed twice */
        info->action_service = index;
        info->action_local = service->action_count;
        const char *action_display = json_string_value(json_object_get(action, "display_name"));
        const char *action_description = json_string_value(json_object_get(action, "description"));
        service->action_names[service->action_count] = snapshot->strings.strings[action_id];
        service->action_display_names[service->action_count] =
            iam_arena_strdup(compiler->arena, action_display ? action_display : id);
        service->action_descriptions[service->action_count] =
            iam_arena_strdup(compiler->arena, action_description ? action_description : "");
        if (!service->action_display_names[service->action_count] ||
            !service->action_descriptions[service->action_count])
            return IAM_ENOMEM;
        service->action_count++;
    }
    service->words = (service->action_count + 63) / 64;
    info_of(compiler, name_id)->service = index;
    snapshot->service_count++;
    if ((result = compile_service_roles(compiler, index, json_object_get(document, "roles"))) != IAM_OK)
        return result;

    const json_t *clients = json_object_get(document, "pdp_clients");
    if (json_is_array(clients) && json_array_size(clients) > 0) {
        service->pdp_clients = iam_arena_alloc(compiler->arena, json_array_size(clients) * sizeof(uint32_t));
        if (!service->pdp_clients)
            return IAM_ENOMEM;
        const json_t *client;
        json_array_foreach(clients, position, client)
        {
            if (!json_is_string(client))
                continue;
            if ((result = intern(compiler, json_string_value(client),
                                 &service->pdp_clients[service->pdp_client_count])) != IAM_OK)
                return result;
            service->pdp_client_count++;
        }
    }
    return IAM_OK;
}

static enum iam_result compile_services(struct compiler *compiler, const struct iam_access_snapshot *input)
{
    json_t *builtins = iam_engine_builtin_services();
    if (!builtins)
        return IAM_ENOMEM;
    enum iam_result result = IAM_OK;
    size_t capacity = json_object_size(builtins) + input->service_count;
    compiler->snapshot->services =
        iam_arena_alloc(compiler->arena, (capacity ? capacity : 1) * sizeof(struct engine_service));
    if (!compiler->snapshot->services) {
        result = IAM_ENOMEM;
        goto out;
    }
    const char *name;
    json_t *document;
    json_object_foreach(builtins, name, document)
    {
        if ((result = compile_service(compiler, name, document, true)) != IAM_OK)
            goto out;
    }
    for (size_t i = 0; i < input->service_count; i++) {
        const struct iam_service_def_record *record = &input->services[i];
        if (!record->document)
            continue;
        json_t *parsed = json_loads(record->document, JSON_REJECT_DUPLICATES, NULL);
        if (!parsed)
            continue; /* a definition we cannot read defines nothing */
        result = compile_service(compiler, record->name, parsed, false);
        json_decref(parsed);
        if (result != IAM_OK)
            goto out;
    }
out:
    json_decref(builtins);
    return result;
}

/* ------------------------------------------------------------ custom roles */

static enum iam_result compile_custom_roles(struct compiler *compiler, const struct iam_access_snapshot *input)
{
    for (size_t i = 0; i < input->role_count; i++) {
        const struct iam_role_record *record = &input->roles[i];
        if (!record->crn || !record->account_id || !record->service_name)
            continue;
        uint32_t crn_id, account_id, service_name_id;
        enum iam_result result;
        if ((result = intern(compiler, record->crn, &crn_id)) != IAM_OK ||
            (result = intern(compiler, record->account_id, &account_id)) != IAM_OK ||
            (result = intern(compiler, record->service_name, &service_name_id)) != IAM_OK)
            return result;
        if (info_of(compiler, crn_id)->role)
            continue;
        int32_t service = info_of(compiler, service_name_id)->service;
        struct engine_role *role = iam_arena_alloc(compiler->arena, sizeof *role);
        if (!role)
            return IAM_ENOMEM;
        uint64_t *set = NULL;
        if (service >= 0) {
            set = bitset_new(compiler, compiler->snapshot->services[service].words);
            if (!set)
                return IAM_ENOMEM;
            json_t *actions = record->actions ? json_loads(record->actions, 0, NULL) : NULL;
            if (json_is_array(actions))
                role_actions_fill(compiler, service, actions, set);
            json_decref(actions);
        }
        *role = (struct engine_role){
            .kind = ENGINE_ROLE_CUSTOM,
            .service = service,
            .actions = set,
            .crn_id = crn_id,
            .account_id = account_id,
            .crn = compiler->snapshot->strings.strings[crn_id],
            .name = iam_arena_strdup(compiler->arena, record->name ? record->name : ""),
            .display_name = iam_arena_strdup(compiler->arena, record->display_name   ? record->display_name
                                                              : record->name ? record->name
                                                                             : ""),
            .description = iam_arena_strdup(compiler->arena, record->description ? record->description : ""),
        };
        if (!role->name || !role->display_name || !role->description)
            return IAM_ENOMEM;
        info_of(compiler, crn_id)->role = role;
    }
    return IAM_OK;
}

/* ---------------------------------------------------------- constraints */

/* Sets *broken (arena text) and returns IAM_OK, or IAM_ENOMEM. */
static enum iam_result mark_broken(struct compiler *compiler, const char **broken, const char *format, ...)
    IAM_PRINTF(3, 4);

static enum iam_result mark_broken(struct compiler *compiler, const char **broken, const char *format, ...)
{
    if (*broken)
        return IAM_OK;
    va_list args;
    va_start(args, format);
    *broken = iam_arena_vprintf(compiler->arena, format, args);
    va_end(args);
    return *broken ? IAM_OK : IAM_ENOMEM;
}

static enum iam_result compile_glob_value(struct compiler *compiler, const char *text, struct engine_glob *glob)
{
    return engine_glob_compile(compiler->arena, text, glob);
}

/*
 * Compiles one `{key, operator, value}` into `out` (its name already set).
 * A shape we do not support sets *broken.
 */
static enum iam_result compile_constraint(struct compiler *compiler, const char *operator_name, const json_t *value,
                                          struct engine_constraint *out, const char **broken)
{
    struct iam_arena *arena = compiler->arena;
    enum iam_result result;
    out->op = ENGINE_OP_NEVER;
    if (!operator_name)
        operator_name = "stringEquals";
    out->operator_name = iam_arena_strdup(arena, operator_name);
    out->value_text = json_is_string(value) ? iam_arena_strdup(arena, json_string_value(value))
                                            : json_text(arena, value ? value : json_null());
    if (!out->operator_name || !out->value_text)
        return IAM_ENOMEM;
    if (strcmp(operator_name, "stringExists") == 0) {
        out->op = ENGINE_OP_EXISTS;
        const char *text = scalar_text(arena, value);
        if (text && strcmp(text, "true") == 0)
            out->exists = true;
        else if (text && strcmp(text, "false") == 0)
            out->exists = false;
        else
            return mark_broken(compiler, broken, "%s: stringExists needs true or false", out->label);
        return IAM_OK;
    }
    bool any_of = strcmp(operator_name, "stringEqualsAnyOf") == 0 || strcmp(operator_name, "stringMatchAnyOf") == 0;
    bool match = strcmp(operator_name, "stringMatch") == 0 || strcmp(operator_name, "stringMatchAnyOf") == 0;
    if (!any_of && !match && strcmp(operator_name, "stringEquals") != 0)
        return mark_broken(compiler, broken, "%s: operator %s is not supported", out->label, operator_name);
    size_t count = 1;
    if (any_of) {
        count = json_is_array(value) ? json_array_size(value) : 0;
        if (count == 0 || count > ENGINE_MAX_ANY_OF)
            return mark_broken(compiler, broken, "%s: %s needs 1 to 10 values", out->label, operator_name);
    }
    out->value_count = (uint16_t)count;
    out->value_ids = iam_arena_alloc(arena, count * sizeof *out->value_ids);
    out->values = iam_arena_alloc(arena, count * sizeof *out->values);
    out->globs = iam_arena_alloc(arena, count * sizeof *out->globs);
    if (!out->value_ids || !out->values || !out->globs)
        return IAM_ENOMEM;
    bool wildcard = false;
    for (size_t i = 0; i < count; i++) {
        const json_t *item = any_of ? json_array_get(value, i) : value;
        const char *text = scalar_text(arena, item);
        if (!text)
            return mark_broken(compiler, broken, "%s: %s needs string values", out->label, operator_name);
        if (match) {
            if ((result = compile_glob_value(compiler, text, &out->globs[i])) != IAM_OK)
                return result;
            wildcard = wildcard || out->globs[i].has_wildcard;
            text = out->globs[i].has_wildcard ? text : out->globs[i].literal;
        }
        out->values[i] = text;
        if ((result = intern(compiler, text, &out->value_ids[i])) != IAM_OK)
            return result;
    }
    /* A pattern without wildcards is an equality on the unescaped text: compare ids. */
    if (match && wildcard)
        out->op = any_of ? ENGINE_OP_MATCH_ANY : ENGINE_OP_MATCH;
    else
        out->op = any_of ? ENGINE_OP_EQUALS_ANY : ENGINE_OP_EQUALS;
    return IAM_OK;
}

static const char *attribute_key(const json_t *attribute)
{
    const char *key = json_string_value(json_object_get(attribute, "key"));
    return key ? key : json_string_value(json_object_get(attribute, "name"));
}

static enum iam_result compile_attribute_list(struct compiler *compiler, const json_t *list, bool tags,
                                              struct engine_constraint **out, uint16_t *count, const char **broken)
{
    size_t size = json_is_array(list) ? json_array_size(list) : 0;
    *count = 0;
    *out = NULL;
    if (size == 0)
        return IAM_OK;
    if (size > UINT16_MAX)
        return mark_broken(compiler, broken, "too many %s", tags ? "tags" : "resource attributes");
    *out = iam_arena_alloc(compiler->arena, size * sizeof **out);
    if (!*out)
        return IAM_ENOMEM;
    size_t index;
    const json_t *attribute;
    json_array_foreach(list, index, attribute)
    {
        const char *key = attribute_key(attribute);
        if (!key || key[0] == '\0') {
            enum iam_result result = mark_broken(compiler, broken, "a %s has no key", tags ? "tag" : "resource attribute");
            if (result != IAM_OK)
                return result;
            continue;
        }
        struct engine_constraint *constraint = &(*out)[*count];
        constraint->name = tags ? iam_arena_printf(compiler->arena, "tag:%s", key) : iam_arena_strdup(compiler->arena, key);
        constraint->label = iam_arena_printf(compiler->arena, "%s %s", tags ? "resource tag" : "resource attribute", key);
        if (!constraint->name || !constraint->label)
            return IAM_ENOMEM;
        enum iam_result result = intern(compiler, constraint->name, &constraint->name_id);
        if (result == IAM_OK)
            result = compile_constraint(compiler, json_string_value(json_object_get(attribute, "operator")),
                                        json_object_get(attribute, "value"), constraint, broken);
        if (result != IAM_OK)
            return result;
        (*count)++;
    }
    return IAM_OK;
}

/* ------------------------------------------------------------ conditions */

struct rule_operator {
    const char *name;
    uint8_t family;
    uint8_t compare;
};

static const struct rule_operator rule_operators[] = {
    {"timeLessThan", ENGINE_FAMILY_TIME, ENGINE_CMP_LT},
    {"timeLessThanOrEquals", ENGINE_FAMILY_TIME, ENGINE_CMP_LE},
    {"timeGreaterThan", ENGINE_FAMILY_TIME, ENGINE_CMP_GT},
    {"timeGreaterThanOrEquals", ENGINE_FAMILY_TIME, ENGINE_CMP_GE},
    {"dateLessThan", ENGINE_FAMILY_DATE, ENGINE_CMP_LT},
    {"dateLessThanOrEquals", ENGINE_FAMILY_DATE, ENGINE_CMP_LE},
    {"dateGreaterThan", ENGINE_FAMILY_DATE, ENGINE_CMP_GT},
    {"dateGreaterThanOrEquals", ENGINE_FAMILY_DATE, ENGINE_CMP_GE},
    {"dateTimeLessThan", ENGINE_FAMILY_DATE_TIME, ENGINE_CMP_LT},
    {"dateTimeLessThanOrEquals", ENGINE_FAMILY_DATE_TIME, ENGINE_CMP_LE},
    {"dateTimeGreaterThan", ENGINE_FAMILY_DATE_TIME, ENGINE_CMP_GT},
    {"dateTimeGreaterThanOrEquals", ENGINE_FAMILY_DATE_TIME, ENGINE_CMP_GE},
    {"dayOfWeekEquals", ENGINE_FAMILY_DAY_OF_WEEK, ENGINE_CMP_IN},
    {"dayOfWeekAnyOf", ENGINE_FAMILY_DAY_OF_WEEK, ENGINE_CMP_IN},
};

#define RESOURCE_KEY_PREFIX "{{resource.attributes."
#define ENVIRONMENT_KEY_PREFIX "{{environment.attributes."

/* Splits "{{resource.attributes.X}}" / "{{environment.attributes.X}}" into source and name (arena). */
static const char *rule_key_name(struct iam_arena *arena, const char *key, bool *resource)
{
    const char *rest;
    size_t prefix_length;
    if (strncmp(key, RESOURCE_KEY_PREFIX, strlen(RESOURCE_KEY_PREFIX)) == 0) {
        *resource = true;
        prefix_length = strlen(RESOURCE_KEY_PREFIX);
    } else if (strncmp(key, ENVIRONMENT_KEY_PREFIX, strlen(ENVIRONMENT_KEY_PREFIX)) == 0) {
        *resource = false;
        prefix_length = strlen(ENVIRONMENT_KEY_PREFIX);
    } else {
        return NULL;
    }
    rest = key + prefix_length;
    size_t length = strlen(rest);
    if (length <= 2 || strcmp(rest + length - 2, "}}") != 0)
        return NULL;
    return iam_arena_strndup(arena, rest, length - 2);
}

static bool is_clock_attribute(const char *name)
{
    return strcmp(name, "current_time") == 0 || strcmp(name, "current_date_time") == 0 ||
           strcmp(name, "current_date") == 0 || strcmp(name, "day_of_week") == 0;
}

static enum iam_result compile_leaf(struct compiler *compiler, const json_t *node, struct engine_condition *out,
                                    const char **broken)
{
    struct iam_arena *arena = compiler->arena;
    const char *key = json_string_value(json_object_get(node, "key"));
    const char *operator_name = json_string_value(json_object_get(node, "operator"));
    const json_t *value = json_object_get(node, "value");
    out->kind = ENGINE_COND_LEAF;
    const char *value_text = json_is_string(value) ? json_string_value(value) : NULL;
    char *dumped = value_text ? NULL : json_dumps(value ? value : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    out->text = iam_arena_printf(arena, "%s %s", operator_name ? operator_name : "(no operator)",
                                 value_text ? value_text : dumped ? dumped : "?");
    free(dumped);
    if (!out->text)
        return IAM_ENOMEM;
    if (!key || !operator_name)
        return mark_broken(compiler, broken, "condition %s has no key or operator", out->text);
    bool resource = false;
    const char *name = rule_key_name(arena, key, &resource);
    if (!name)
        return mark_broken(compiler, broken, "condition key %s is not supported", key);
    const struct rule_operator *time_operator = NULL;
    for (size_t i = 0; i < sizeof rule_operators / sizeof rule_operators[0]; i++)
        if (strcmp(rule_operators[i].name, operator_name) == 0)
            time_operator = &rule_operators[i];
    if (!time_operator) {
        if (!resource && is_clock_attribute(name))
            return mark_broken(compiler, broken, "condition %s cannot use %s", key, operator_name);
        out->family = resource ? ENGINE_FAMILY_STRING_RESOURCE : ENGINE_FAMILY_STRING_ENVIRONMENT;
        out->string.name = name;
        out->string.label = iam_arena_printf(arena, "%s attribute %s", resource ? "resource" : "environment", name);
        if (!out->string.label)
            return IAM_ENOMEM;
        enum iam_result result = intern(compiler, name, &out->string.name_id);
        if (result != IAM_OK)
            return result;
        return compile_constraint(compiler, operator_name, value, &out->string, broken);
    }
    if (resource || !is_clock_attribute(name))
        return mark_broken(compiler, broken, "condition %s cannot use %s", key, operator_name);
    out->family = time_operator->family;
    out->compare = time_operator->compare;
    bool ok = false;
    switch (out->family) {
    case ENGINE_FAMILY_TIME:
        ok = value_text && engine_parse_time_of_day(value_text, &out->value, &out->offset) == IAM_OK;
        break;
    case ENGINE_FAMILY_DATE:
        ok = value_text && engine_parse_date(value_text, &out->value, &out->offset) == IAM_OK;
        break;
    case ENGINE_FAMILY_DATE_TIME:
        ok = value_text && iam_time_parse(value_text, &out->value) == IAM_OK;
        break;
    case ENGINE_FAMILY_DAY_OF_WEEK: {
        bool any_of = strcmp(operator_name, "dayOfWeekAnyOf") == 0;
        size_t count = any_of ? (json_is_array(value) ? json_array_size(value) : 0) : 1;
        ok = count >= 1 && count <= 7;
        for (size_t i = 0; ok && i < count; i++) {
            const char *day = scalar_text(arena, any_of ? json_array_get(value, i) : value);
            ok = day && engine_parse_day_of_week(day, &out->days[i]) == IAM_OK;
        }
        out->day_count = ok ? (uint8_t)count : 0;
        break;
    }
    default:
        break;
    }
    if (!ok)
        return mark_broken(compiler, broken, "condition %s has a malformed value", out->text);
    return IAM_OK;
}

static enum iam_result compile_condition(struct compiler *compiler, const json_t *node, int depth,
                                         struct engine_condition *out, const char **broken)
{
    if (!json_is_object(node))
        return mark_broken(compiler, broken, "a condition is not an object");
    const json_t *conditions = json_object_get(node, "conditions");
    if (!conditions)
        return compile_leaf(compiler, node, out, broken);
    const char *operator_name = json_string_value(json_object_get(node, "operator"));
    size_t count = json_is_array(conditions) ? json_array_size(conditions) : 0;
    if (depth > 2)
        return mark_broken(compiler, broken, "conditions nest deeper than two levels");
    if (!operator_name || (strcmp(operator_name, "and") != 0 && strcmp(operator_name, "or") != 0))
        return mark_broken(compiler, broken, "condition operator %s is not and/or",
                           operator_name ? operator_name : "(none)");
    if (count == 0 || count > 10)
        return mark_broken(compiler, broken, "a condition group needs 1 to 10 conditions");
    out->kind = strcmp(operator_name, "and") == 0 ? ENGINE_COND_AND : ENGINE_COND_OR;
    out->child_count = (uint16_t)count;
    out->children = iam_arena_alloc(compiler->arena, count * sizeof *out->children);
    if (!out->children)
        return IAM_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        enum iam_result result =
            compile_condition(compiler, json_array_get(conditions, i), depth + 1, &out->children[i], broken);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}

/* -------------------------------------------------------------- policies */

static struct engine_role *unknown_role(struct compiler *compiler, const char *crn, const char *why)
{
    struct engine_role *role = iam_arena_alloc(compiler->arena, sizeof *role);
    if (!role)
        return NULL;
    role->kind = ENGINE_ROLE_UNKNOWN;
    role->service = -1;
    role->crn = iam_arena_strdup(compiler->arena, crn);
    role->name = role->crn;
    role->display_name = role->crn;
    role->description = why;
    return role->crn ? role : NULL;
}

static enum iam_result compile_roles(struct compiler *compiler, struct engine_policy *policy, const json_t *roles)
{
    size_t count = json_is_array(roles) ? json_array_size(roles) : 0;
    if (count > UINT16_MAX)
        count = UINT16_MAX;
    policy->roles = iam_arena_alloc(compiler->arena, (count ? count : 1) * sizeof *policy->roles);
    if (!policy->roles)
        return IAM_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const char *crn = json_string_value(json_object_get(json_array_get(roles, i), "role_id"));
        if (!crn)
            continue;
        uint32_t id = engine_intern_find(&compiler->snapshot->strings, crn, strlen(crn));
        struct engine_role *role = id ? compiler->snapshot->strings.info[id].role : NULL;
        if (role && role->kind == ENGINE_ROLE_CUSTOM && role->account_id != policy->account_id)
            role = unknown_role(compiler, crn, "a custom role of another account");
        else if (!role)
            role = unknown_role(compiler, crn, "not defined");
        if (!role)
            return IAM_ENOMEM;
        policy->roles[policy->role_count++] = role;
    }
    return IAM_OK;
}

static enum iam_result compile_fixed_actions(struct compiler *compiler, struct engine_policy *policy)
{
    if (policy->service < 0)
        return IAM_OK;
    const struct engine_service *service = &compiler->snapshot->services[policy->service];
    uint64_t *set = bitset_new(compiler, service->words);
    if (!set)
        return IAM_ENOMEM;
    for (uint16_t i = 0; i < policy->role_count; i++) {
        const uint64_t *role_set = engine_role_actions(compiler->snapshot, policy->roles[i], policy->service);
        for (uint32_t word = 0; role_set && word < service->words; word++)
            set[word] |= role_set[word];
    }
    policy->fixed_actions = set;
    return IAM_OK;
}

/* The policy's subject: (kind, value) from the document, else from the record's columns. */
static bool policy_subject(const json_t *document, const struct iam_policy_record *record, bool *is_group,
                           const char **value)
{
    const json_t *attributes = json_object_get(json_object_get(document, "subject"), "attributes");
    size_t index;
    const json_t *attribute;
    json_array_foreach(attributes, index, attribute)
    {
        const char *key = attribute_key(attribute);
        const char *operator_name = json_string_value(json_object_get(attribute, "operator"));
        const char *text = json_string_value(json_object_get(attribute, "value"));
        if (!key || !text || (operator_name && strcmp(operator_name, "stringEquals") != 0))
            continue;
        if (strcmp(key, "iam_id") == 0 || strcmp(key, "access_group_id") == 0) {
            *is_group = strcmp(key, "access_group_id") == 0;
            *value = text;
            return true;
        }
    }
    if (record->subject_kind && record->subject_value &&
        (strcmp(record->subject_kind, "iam_id") == 0 || strcmp(record->subject_kind, "access_group_id") == 0)) {
        *is_group = strcmp(record->subject_kind, "access_group_id") == 0;
        *value = record->subject_value;
        return true;
    }
    return false;
}

static enum iam_result compile_policy(struct compiler *compiler, const struct iam_policy_record *record)
{
    struct engine_snapshot *snapshot = compiler->snapshot;
    if (!record->id || !record->account_id || (record->state && strcmp(record->state, "active") != 0))
        return IAM_OK;
    json_t *document = record->document ? json_loads(record->document, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *type = json_string_value(json_object_get(document, "type"));
    if (!type)
        type = record->type;
    enum iam_result result = IAM_OK;
    bool is_group = false;
    const char *subject = NULL;
    if (!type || strcmp(type, "access") != 0 || !policy_subject(document, record, &is_group, &subject))
        goto out;
    struct engine_policy *policy = &snapshot->policies[snapshot->policy_count];
    memset(policy, 0, sizeof *policy);
    policy->service = -1;
    policy->subject_is_group = is_group;
    policy->id = iam_arena_strdup(compiler->arena, record->id);
    if (!policy->id) {
        result = IAM_ENOMEM;
        goto out;
    }
    if ((result = intern(compiler, record->account_id, &policy->account_id)) != IAM_OK ||
        (result = intern(compiler, subject, &policy->subject_id)) != IAM_OK)
        goto out;
    policy->subject = snapshot->strings.strings[policy->subject_id];
    if (!document)
        policy->broken = "the policy document is not valid JSON";
    const json_t *resource = json_object_get(document, "resource");
    if ((result = compile_attribute_list(compiler, json_object_get(resource, "attributes"), false,
                                         &policy->constraints, &policy->constraint_count, &policy->broken)) != IAM_OK ||
        (result = compile_attribute_list(compiler, json_object_get(resource, "tags"), true, &policy->tags,
                                         &policy->tag_count, &policy->broken)) != IAM_OK)
        goto out;
    for (uint16_t i = 0; i < policy->constraint_count; i++) {
        const struct engine_constraint *constraint = &policy->constraints[i];
        if (constraint->name_id == snapshot->id_service_name && constraint->op == ENGINE_OP_EQUALS) {
            policy->service_name_id = constraint->value_ids[0];
            policy->service = snapshot->strings.info[policy->service_name_id].service;
            break;
        }
    }
    const json_t *rule = json_object_get(document, "rule");
    if (rule && !json_is_null(rule)) {
        policy->rule = iam_arena_alloc(compiler->arena, sizeof *policy->rule);
        if (!policy->rule) {
            result = IAM_ENOMEM;
            goto out;
        }
        if ((result = compile_condition(compiler, rule, 1, policy->rule, &policy->broken)) != IAM_OK)
            goto out;
    }
    if ((result = compile_roles(compiler, policy,
                                json_object_get(json_object_get(json_object_get(document, "control"), "grant"),
                                                "roles"))) != IAM_OK ||
        (result = compile_fixed_actions(compiler, policy)) != IAM_OK)
        goto out;
    snapshot->policy_count++;
out:
    json_decref(document);
    return result;
}

/* ---------------------------------------------------------- subject index */

struct index_entry {
    uint64_t key;
    uint32_t second; /* service_name_id for policies, group id for members */
    uint32_t index;
};

static int index_entry_compare(const void *a, const void *b)
{
    const struct index_entry *left = a, *right = b;
    if (left->key != right->key)
        return left->key < right->key ? -1 : 1;
    if (left->second != right->second)
        return left->second < right->second ? -1 : 1;
    return left->index < right->index ? -1 : left->index > right->index;
}

static uint64_t subject_key(uint32_t account_id, uint32_t subject_id)
{
    return (uint64_t)account_id << 32 | subject_id;
}

static uint32_t slot_of(uint64_t key, uint32_t mask)
{
    uint64_t hash = key * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(hash >> 32) & mask;
}

const struct engine_subject *engine_subject_find(const struct engine_snapshot *snapshot, uint32_t account_id,
                                                 uint32_t subject_id)
{
    if (account_id == ENGINE_NO_STRING || subject_id == ENGINE_NO_STRING || !snapshot->subject_slots)
        return NULL;
    uint64_t key = subject_key(account_id, subject_id);
    for (uint32_t slot = slot_of(key, snapshot->subject_mask);; slot = (slot + 1) & snapshot->subject_mask) {
        const struct engine_subject_slot *entry = &snapshot->subject_slots[slot];
        if (entry->key == key)
            return entry->subject;
        if (entry->key == 0)
            return NULL;
    }
}

const struct engine_bucket *engine_subject_bucket(const struct engine_subject *subject, uint32_t service_name_id)
{
    if (service_name_id == ENGINE_NO_STRING)
        return NULL;
    uint32_t low = 0, high = subject->bucket_count;
    while (low < high) {
        uint32_t middle = low + (high - low) / 2;
        uint32_t value = subject->buckets[middle].service_name_id;
        if (value == service_name_id)
            return &subject->buckets[middle];
        if (value < service_name_id)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

static struct engine_subject *subject_insert(struct compiler *compiler, uint64_t key, const char *subject_text)
{
    struct engine_snapshot *snapshot = compiler->snapshot;
    uint32_t slot = slot_of(key, snapshot->subject_mask);
    while (snapshot->subject_slots[slot].key != 0) {
        if (snapshot->subject_slots[slot].key == key)
            return snapshot->subject_slots[slot].subject;
        slot = (slot + 1) & snapshot->subject_mask;
    }
    struct engine_subject *subject = iam_arena_alloc(compiler->arena, sizeof *subject);
    if (!subject)
        return NULL;
    subject->account_id = (uint32_t)(key >> 32);
    subject->subject_id = (uint32_t)key;
    subject->subject = subject_text;
    snapshot->subject_slots[slot].key = key;
    snapshot->subject_slots[slot].subject = subject;
    return subject;
}

static struct engine_entry make_entry(const struct engine_snapshot *snapshot, uint32_t index)
{
    const struct engine_policy *policy = &snapshot->policies[index];
    struct engine_entry entry = {.policy = index};
    if (policy->service >= 0) {
        entry.flags |= ENGINE_ENTRY_FIXED;
        entry.first_word = policy->fixed_actions ? policy->fixed_actions[0] : 0;
    }
    for (uint16_t i = 0; i < policy->role_count; i++) {
        if (policy->roles[i]->kind == ENGINE_ROLE_GENERIC)
            entry.generic_roles |= (uint8_t)(1u << policy->roles[i]->generic_index);
        else if (policy->roles[i]->kind != ENGINE_ROLE_UNKNOWN)
            entry.flags |= ENGINE_ENTRY_OTHER_ROLES;
    }
    return entry;
}

static enum iam_result build_policy_index(struct compiler *compiler, struct index_entry *entries, size_t count)
{
    struct engine_snapshot *snapshot = compiler->snapshot;
    for (size_t start = 0; start < count;) {
        size_t end = start;
        uint32_t generic = 0, buckets = 0;
        while (end < count && entries[end].key == entries[start].key) {
            if (entries[end].second == 0)
                generic++;
            else if (end == start || entries[end].second != entries[end - 1].second ||
                     entries[end - 1].key != entries[end].key)
                buckets++;
            end++;
        }
        const struct engine_policy *first = &snapshot->policies[entries[start].index];
        struct engine_subject *subject = subject_insert(compiler, entries[start].key, first->subject);
        if (!subject)
            return IAM_ENOMEM;
        subject->generic = iam_arena_alloc(compiler->arena, (generic ? generic : 1) * sizeof *subject->generic);
        subject->buckets = iam_arena_alloc(compiler->arena, (buckets ? buckets : 1) * sizeof *subject->buckets);
        if (!subject->generic || !subject->buckets)
            return IAM_ENOMEM;
        for (size_t i = start; i < end;) {
            if (entries[i].second == 0) {
                subject->generic[subject->generic_count++] = make_entry(snapshot, entries[i].index);
                i++;
                continue;
            }
            size_t run_end = i;
            while (run_end < end && entries[run_end].second == entries[i].second)
                run_end++;
            struct engine_bucket *bucket = &subject->buckets[subject->bucket_count++];
            bucket->service_name_id = entries[i].second;
            bucket->policies = iam_arena_alloc(compiler->arena, (run_end - i) * sizeof *bucket->policies);
            if (!bucket->policies)
                return IAM_ENOMEM;
            for (; i < run_end; i++)
                bucket->policies[bucket->count++] = make_entry(snapshot, entries[i].index);
        }
        start = end;
    }
    return IAM_OK;
}

static enum iam_result build_member_index(struct compiler *compiler, struct index_entry *entries, size_t count)
{
    struct engine_snapshot *snapshot = compiler->snapshot;
    for (size_t start = 0; start < count;) {
        size_t end = start;
        while (end < count && entries[end].key == entries[start].key)
            end++;
        uint32_t account_id = (uint32_t)(entries[start].key >> 32);
        struct engine_subject *subject =
            subject_insert(compiler, entries[start].key, snapshot->strings.strings[(uint32_t)entries[start].key]);
        if (!subject)
            return IAM_ENOMEM;
        size_t size = end - start;
        subject->group_ids = iam_arena_alloc(compiler->arena, size * sizeof *subject->group_ids);
        subject->groups = iam_arena_alloc(compiler->arena, size * sizeof *subject->groups);
        if (!subject->group_ids || !subject->groups)
            return IAM_ENOMEM;
        for (size_t i = start; i < end; i++) {
            if (i > start && entries[i].second == entries[i - 1].second)
                continue; /* the same membership twice */
            uint32_t group_id = entries[i].second;
            subject->group_ids[subject->group_count] = snapshot->strings.strings[group_id];
            subject->groups[subject->group_count] =
                (struct engine_subject *)engine_subject_find(snapshot, account_id, group_id);
            subject->group_count++;
        }
        start = end;
    }
    return IAM_OK;
}

/* Records each account's owner, so the decision API knows owners without reading the store. */
static enum iam_result compile_account_owners(struct compiler *compiler, const struct iam_access_snapshot *input)
{
    for (size_t i = 0; i < input->account_count; i++) {
        const struct iam_account_record *account = &input->accounts[i];
        if (!account->id || !account->owner_iam_id)
            continue;
        uint32_t account_id, owner_id;
        enum iam_result result = intern(compiler, account->id, &account_id);
        if (result == IAM_OK)
            result = intern(compiler, account->owner_iam_id, &owner_id);
        if (result != IAM_OK)
            return result;
        info_of(compiler, account_id)->account_owner = owner_id; /* after both adds: they may move info */
    }
    return IAM_OK;
}

static enum iam_result build_subject_index(struct compiler *compiler, const struct iam_access_snapshot *input)
{
    struct engine_snapshot *snapshot = compiler->snapshot;
    enum iam_result result = IAM_OK;
    size_t policy_count = snapshot->policy_count;
    struct index_entry *policy_entries = calloc(policy_count ? policy_count : 1, sizeof *policy_entries);
    struct index_entry *member_entries = calloc(input->member_count ? input->member_count : 1, sizeof *member_entries);
    if (!policy_entries || !member_entries) {
        result = IAM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < policy_count; i++) {
        const struct engine_policy *policy = &snapshot->policies[i];
        policy_entries[i] = (struct index_entry){subject_key(policy->account_id, policy->subject_id),
                                                 policy->service_name_id, (uint32_t)i};
    }
    size_t member_count = 0;
    for (size_t i = 0; i < input->member_count; i++) {
        const struct iam_group_member_record *member = &input->members[i];
        if (!member->account_id || !member->iam_id || !member->group_id)
            continue;
        uint32_t account_id, iam_id, group_id;
        if ((result = intern(compiler, member->account_id, &account_id)) != IAM_OK ||
            (result = intern(compiler, member->iam_id, &iam_id)) != IAM_OK ||
            (result = intern(compiler, member->group_id, &group_id)) != IAM_OK)
            goto out;
        member_entries[member_count++] = (struct index_entry){subject_key(account_id, iam_id), group_id, (uint32_t)i};
    }
    qsort(policy_entries, policy_count, sizeof *policy_entries, index_entry_compare);
    qsort(member_entries, member_count, sizeof *member_entries, index_entry_compare);
    size_t capacity = 16;
    while (capacity < (policy_count + member_count) * 2 + 2)
        capacity *= 2;
    snapshot->subject_slots = iam_arena_alloc(compiler->arena, capacity * sizeof *snapshot->subject_slots);
    if (!snapshot->subject_slots) {
        result = IAM_ENOMEM;
        goto out;
    }
    snapshot->subject_mask = (uint32_t)(capacity - 1);
    if ((result = build_policy_index(compiler, policy_entries, policy_count)) != IAM_OK)
        goto out;
    result = build_member_index(compiler, member_entries, member_count);
out:
    free(policy_entries);
    free(member_entries);
    return result;
}

/* ------------------------------------------------------------------ entry */

static enum iam_result intern_well_known(struct compiler *compiler)
{
    struct engine_snapshot *snapshot = compiler->snapshot;
    enum iam_result result;
    uint32_t ignored;
    if ((result = intern(compiler, "accountId", &snapshot->id_account)) != IAM_OK ||
        (result = intern(compiler, "serviceName", &snapshot->id_service_name)) != IAM_OK ||
        (result = intern(compiler, "serviceType", &snapshot->id_service_type)) != IAM_OK ||
        (result = intern(compiler, "service_group_id", &snapshot->id_service_group)) != IAM_OK ||
        (result = intern(compiler, IAM_PUBLIC_ACCESS_GROUP, &snapshot->id_public_access)) != IAM_OK ||
        (result = intern(compiler, "service", &ignored)) != IAM_OK ||
        (result = intern(compiler, "platform_service", &ignored)) != IAM_OK)
        return result;
    return IAM_OK;
}

enum iam_result engine_snapshot_compile(const struct iam_access_snapshot *input, struct engine_snapshot **out,
                                        struct iam_error *err)
{
    *out = NULL;
    struct engine_snapshot *snapshot = calloc(1, sizeof *snapshot);
    if (!snapshot)
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory compiling access policies.");
    enum iam_result result = IAM_ENOMEM;
    atomic_init(&snapshot->refs, 1);
    snapshot->revision = input->revision;
    snapshot->arena = iam_arena_new();
    if (!snapshot->arena || (result = engine_intern_init(&snapshot->strings, snapshot->arena)) != IAM_OK)
        goto fail;
    struct compiler compiler = {.snapshot = snapshot, .arena = snapshot->arena};
    if ((result = intern_well_known(&compiler)) != IAM_OK || (result = init_generic_roles(&compiler)) != IAM_OK ||
        (result = compile_services(&compiler, input)) != IAM_OK ||
        (result = compile_custom_roles(&compiler, input)) != IAM_OK)
        goto fail;
    snapshot->policies =
        iam_arena_alloc(snapshot->arena, (input->policy_count ? input->policy_count : 1) * sizeof *snapshot->policies);
    if (!snapshot->policies) {
        result = IAM_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < input->policy_count; i++)
        if ((result = compile_policy(&compiler, &input->policies[i])) != IAM_OK)
            goto fail;
    if ((result = build_subject_index(&compiler, input)) != IAM_OK ||
        (result = compile_account_owners(&compiler, input)) != IAM_OK)
        goto fail;
    *out = snapshot;
    return IAM_OK;
fail:
    engine_snapshot_free(snapshot);
    return iam_error_set(err, result, "BXNIM0500E", "Could not compile the access policies: %s.",
                         iam_strerror(result));
}

void engine_snapshot_free(struct engine_snapshot *snapshot)
{
    if (!snapshot)
        return;
    engine_intern_release(&snapshot->strings);
    iam_arena_free(snapshot->arena);
    free(snapshot);
}
