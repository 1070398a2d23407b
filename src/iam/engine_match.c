/*
 * engine_match.c: the decision path's matching. Prepares a request (interned
 * ids looked up without inserting, the serviceName derived from the action
 * when absent, accountId / serviceType / service_group_id taken from the
 * request's account and the service registry), then matches policy resource
 * attributes, tags and v2 conditions against it. Also the stringMatch glob
 * compiler and matcher and the parsers of condition values. Nothing here
 * allocates on the decision path.
 */
#include <string.h>

#include "common/time.h"
#include "iam/engine_internal.h"

/* ------------------------------------------------------------------ globs */

enum iam_result engine_glob_compile(struct iam_arena *arena, const char *pattern, struct engine_glob *out)
{
    memset(out, 0, sizeof *out);
    size_t length = strlen(pattern);
    out->tokens = iam_arena_alloc(arena, (length + 1) * sizeof *out->tokens);
    char *text = iam_arena_alloc(arena, length + 1);
    if (!out->tokens || !text)
        return IAM_ENOMEM;
    size_t used = 0, literal_start = 0;
    for (size_t i = 0; i < length;) {
        if (strncmp(pattern + i, "{{*}}", 5) == 0 || strncmp(pattern + i, "{{?}}", 5) == 0) {
            text[used++] = pattern[i + 2];
            i += 5;
            continue;
        }
        if (pattern[i] != '*' && pattern[i] != '?') {
            text[used++] = pattern[i++];
            continue;
        }
        if (used > literal_start)
            out->tokens[out->token_count++] = (struct engine_glob_token){
                ENGINE_GLOB_LITERAL, (uint32_t)(used - literal_start), text + literal_start};
        literal_start = used;
        out->has_wildcard = true;
        if (pattern[i] == '*') {
            if (out->token_count == 0 || out->tokens[out->token_count - 1].kind != ENGINE_GLOB_STAR)
                out->tokens[out->token_count++] = (struct engine_glob_token){ENGINE_GLOB_STAR, 0, NULL};
        } else {
            out->tokens[out->token_count++] = (struct engine_glob_token){ENGINE_GLOB_ONE, 0, NULL};
        }
        i++;
    }
    if (used > literal_start)
        out->tokens[out->token_count++] =
            (struct engine_glob_token){ENGINE_GLOB_LITERAL, (uint32_t)(used - literal_start), text + literal_start};
    text[used] = '\0';
    if (!out->has_wildcard) {
        out->literal = text;
        out->literal_length = used;
    }
    return IAM_OK;
}

/* The index after the UTF-8 character starting at `index`. */
static size_t next_character(const char *text, size_t length, size_t index)
{
    index++;
    while (index < length && ((unsigned char)text[index] & 0xc0) == 0x80)
        index++;
    return index;
}

bool engine_glob_match(const struct engine_glob *glob, const char *text, size_t length)
{
    if (!glob->has_wildcard)
        return length == glob->literal_length && memcmp(text, glob->literal, length) == 0;
    uint32_t token = 0;
    size_t position = 0;
    uint32_t star_token = UINT32_MAX;
    size_t star_position = 0;
    for (;;) {
        if (token < glob->token_count) {
            const struct engine_glob_token *current = &glob->tokens[token];
            if (current->kind == ENGINE_GLOB_STAR) {
                if (token + 1 == glob->token_count)
                    return true; /* a trailing star takes the rest */
                star_token = token++;
                star_position = position;
                continue;
            }
            if (current->kind == ENGINE_GLOB_ONE && position < length) {
                position = next_character(text, length, position);
                token++;
                continue;
            }
            if (current->kind == ENGINE_GLOB_LITERAL && length - position >= current->length &&
                memcmp(text + position, current->text, current->length) == 0) {
                position += current->length;
                token++;
                continue;
            }
        } else if (position == length) {
            return true;
        }
        /* Mismatch: let the last star take one more character. */
        if (star_token == UINT32_MAX || star_position >= length)
            return false;
        star_position = next_character(text, length, star_position);
        position = star_position;
        token = star_token + 1;
    }
}

/* ---------------------------------------------------------- value parsers */

static int read_number(const char **cursor, int digits)
{
    int value = 0;
    for (int i = 0; i < digits; i++) {
        char c = (*cursor)[0];
        if (c < '0' || c > '9')
            return -1;
        value = value * 10 + (c - '0');
        (*cursor)++;
    }
    return value;
}

/* Parses an optional trailing offset ("", "Z", "+hh:mm", "-hhmm") that must end the text. */
static enum iam_result parse_offset(const char *cursor, int32_t *offset)
{
    *offset = 0;
    if (*cursor == '\0')
        return IAM_OK;
    if ((cursor[0] == 'Z' || cursor[0] == 'z') && cursor[1] == '\0')
        return IAM_OK;
    if (*cursor != '+' && *cursor != '-')
        return IAM_EINVAL;
    int sign = *cursor == '-' ? -1 : 1;
    cursor++;
    int hours = read_number(&cursor, 2);
    if (*cursor == ':')
        cursor++;
    int minutes = read_number(&cursor, 2);
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || *cursor != '\0')
        return IAM_EINVAL;
    *offset = sign * (hours * 3600 + minutes * 60);
    return IAM_OK;
}

enum iam_result engine_parse_time_of_day(const char *text, int64_t *seconds, int32_t *offset)
{
    const char *cursor = text;
    int hours = read_number(&cursor, 2);
    if (hours < 0 || hours > 23 || *cursor++ != ':')
        return IAM_EINVAL;
    int minutes = read_number(&cursor, 2);
    if (minutes < 0 || minutes > 59)
        return IAM_EINVAL;
    int secs = 0;
    if (*cursor == ':') {
        cursor++;
        secs = read_number(&cursor, 2);
        if (secs < 0 || secs > 59)
            return IAM_EINVAL;
    }
    *seconds = hours * 3600 + minutes * 60 + secs;
    return parse_offset(cursor, offset);
}

static int64_t days_from_civil(int64_t year, int64_t month, int64_t day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

enum iam_result engine_parse_date(const char *text, int64_t *days, int32_t *offset)
{
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *cursor = text;
    int year = read_number(&cursor, 4);
    if (year < 1970 || *cursor++ != '-')
        return IAM_EINVAL;
    int month = read_number(&cursor, 2);
    if (month < 1 || month > 12 || *cursor++ != '-')
        return IAM_EINVAL;
    int day = read_number(&cursor, 2);
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day < 1 || day > month_days[month - 1] || (month == 2 && day == 29 && !leap))
        return IAM_EINVAL;
    *days = days_from_civil(year, month, day);
    return parse_offset(cursor, offset);
}

enum iam_result engine_parse_day_of_week(const char *text, struct engine_day *out)
{
    if (text[0] < '1' || text[0] > '7')
        return IAM_EINVAL;
    out->day = (uint8_t)(text[0] - '0');
    return parse_offset(text + 1, &out->offset);
}

/* -------------------------------------------------------------- requests */

static void add_attribute(struct engine_context *context, uint32_t name_id, const char *name, const char *value,
                          size_t value_length, uint32_t value_id)
{
    struct engine_attribute *attribute = &context->attributes[context->attribute_count++];
    attribute->name_id = name_id;
    attribute->name = name;
    attribute->value = value;
    attribute->value_length = value_length;
    attribute->value_id = value_id;
}

enum iam_result engine_context_init(struct engine_context *context, const struct engine_snapshot *snapshot,
                                    const struct iam_engine_request *request)
{
    if (!request || !request->account_id || !request->subject_iam_id ||
        request->resource_count > ENGINE_MAX_REQUEST_ATTRIBUTES || (request->resource_count && !request->resource))
        return IAM_EINVAL;
    const struct engine_intern *strings = &snapshot->strings;
    context->snapshot = snapshot;
    context->request = request;
    context->attribute_count = 0;
    context->service = -1;
    context->action_local = -1;
    context->service_name_id = ENGINE_NO_STRING;
    context->service_name = NULL;
    context->service_name_length = 0;
    size_t account_length = strlen(request->account_id);
    context->account_id = engine_intern_find(strings, request->account_id, account_length);
    context->subject_id = engine_intern_find(strings, request->subject_iam_id, strlen(request->subject_iam_id));
    context->action_id = request->action ? engine_intern_find(strings, request->action, strlen(request->action))
                                         : ENGINE_NO_STRING;
    bool has_service_name = false;
    for (size_t i = 0; i < request->resource_count; i++) {
        const struct iam_engine_attribute *attribute = &request->resource[i];
        if (!attribute->name || !attribute->value)
            return IAM_EINVAL;
        uint32_t name_id = engine_intern_find(strings, attribute->name, strlen(attribute->name));
        /* Derived from the request's account and the registry, never taken from the caller. */
        if (name_id != ENGINE_NO_STRING && (name_id == snapshot->id_account || name_id == snapshot->id_service_type ||
                                            name_id == snapshot->id_service_group))
            continue;
        size_t value_length = strnlen(attribute->value, ENGINE_MAX_VALUE_LENGTH + 1);
        if (value_length > ENGINE_MAX_VALUE_LENGTH)
            return IAM_EINVAL;
        uint32_t value_id = engine_intern_find(strings, attribute->value, value_length);
        if (name_id == snapshot->id_service_name && name_id != ENGINE_NO_STRING) {
            if (has_service_name)
                return IAM_EINVAL; /* one resource has one service */
            has_service_name = true;
            context->service_name_id = value_id;
            context->service_name = attribute->value;
            context->service_name_length = value_length;
        }
        add_attribute(context, name_id, attribute->name, attribute->value, value_length, value_id);
    }
    add_attribute(context, snapshot->id_account, "accountId", request->account_id, account_length,
                  context->account_id);
    if (!has_service_name && request->action && strncmp(request->action, "iam.", 4) != 0) {
        const char *dot = strchr(request->action, '.');
        if (dot && dot > request->action) {
            size_t length = (size_t)(dot - request->action);
            context->service_name_id = engine_intern_find(strings, request->action, length);
            context->service_name = request->action;
            context->service_name_length = length;
            add_attribute(context, snapshot->id_service_name, "serviceName", request->action, length,
                          context->service_name_id);
        }
    }
    if (context->service_name_id != ENGINE_NO_STRING)
        context->service = strings->info[context->service_name_id].service;
    if (context->service >= 0) {
        const struct engine_service *service = &snapshot->services[context->service];
        add_attribute(context, snapshot->id_service_type, "serviceType", strings->strings[service->type_value_id],
                      strings->lengths[service->type_value_id], service->type_value_id);
        if (service->group_value_id != ENGINE_NO_STRING)
            add_attribute(context, snapshot->id_service_group, "service_group_id",
                          strings->strings[service->group_value_id], strings->lengths[service->group_value_id],
                          service->group_value_id);
        if (context->action_id != ENGINE_NO_STRING) {
            const struct engine_string_info *info = &strings->info[context->action_id];
            if (info->action_service == ENGINE_IMPLICIT_ACTION || info->action_service == context->service)
                context->action_local = info->action_local;
        }
    }
    return IAM_OK;
}

/* ------------------------------------------------------------ constraints */

static bool value_matches(const struct engine_constraint *constraint, uint32_t value_id, const char *value,
                          size_t length)
{
    switch (constraint->op) {
    case ENGINE_OP_EQUALS:
        return value_id != ENGINE_NO_STRING && value_id == constraint->value_ids[0];
    case ENGINE_OP_EQUALS_ANY:
        for (uint16_t i = 0; value_id != ENGINE_NO_STRING && i < constraint->value_count; i++)
            if (constraint->value_ids[i] == value_id)
                return true;
        return false;
    case ENGINE_OP_MATCH:
    case ENGINE_OP_MATCH_ANY:
        for (uint16_t i = 0; i < constraint->value_count; i++)
            if (engine_glob_match(&constraint->globs[i], value, length))
                return true;
        return false;
    default:
        return false;
    }
}

bool engine_constraint_holds(const struct engine_context *context, const struct engine_constraint *constraint)
{
    bool present = false;
    for (size_t i = 0; i < context->attribute_count; i++) {
        const struct engine_attribute *attribute = &context->attributes[i];
        if (attribute->name_id != constraint->name_id)
            continue;
        present = true;
        if (constraint->op == ENGINE_OP_EXISTS)
            break;
        if (value_matches(constraint, attribute->value_id, attribute->value, attribute->value_length))
            return true;
    }
    return constraint->op == ENGINE_OP_EXISTS && present == constraint->exists;
}

/* Environment attributes are few and rarely used: compared as text. */
static bool environment_constraint_holds(const struct engine_context *context,
                                         const struct engine_constraint *constraint)
{
    const struct iam_engine_request *request = context->request;
    bool present = false;
    for (size_t i = 0; request->environment && i < request->environment_count; i++) {
        const struct iam_engine_attribute *attribute = &request->environment[i];
        if (!attribute->name || !attribute->value || strcmp(attribute->name, constraint->name) != 0)
            continue;
        present = true;
        if (constraint->op == ENGINE_OP_EXISTS)
            break;
        size_t length = strlen(attribute->value);
        if (constraint->op == ENGINE_OP_EQUALS || constraint->op == ENGINE_OP_EQUALS_ANY) {
            for (uint16_t v = 0; v < constraint->value_count; v++)
                if (strcmp(constraint->values[v], attribute->value) == 0)
                    return true;
        } else if (value_matches(constraint, ENGINE_NO_STRING, attribute->value, length)) {
            return true;
        }
    }
    return constraint->op == ENGINE_OP_EXISTS && present == constraint->exists;
}

static int64_t floor_divide(int64_t value, int64_t divisor)
{
    int64_t quotient = value / divisor;
    return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

static bool compare(int64_t current, int64_t bound, uint8_t how)
{
    switch (how) {
    case ENGINE_CMP_LT:
        return current < bound;
    case ENGINE_CMP_LE:
        return current <= bound;
    case ENGINE_CMP_GT:
        return current > bound;
    case ENGINE_CMP_GE:
        return current >= bound;
    default:
        return false;
    }
}

static bool leaf_holds(const struct engine_context *context, const struct engine_condition *leaf)
{
    int64_t now = context->request->now;
    switch (leaf->family) {
    case ENGINE_FAMILY_STRING_RESOURCE:
        return engine_constraint_holds(context, &leaf->string);
    case ENGINE_FAMILY_STRING_ENVIRONMENT:
        return environment_constraint_holds(context, &leaf->string);
    case ENGINE_FAMILY_TIME: {
        int64_t local = now + leaf->offset;
        return compare(local - floor_divide(local, 86400) * 86400, leaf->value, leaf->compare);
    }
    case ENGINE_FAMILY_DATE:
        return compare(floor_divide(now + leaf->offset, 86400), leaf->value, leaf->compare);
    case ENGINE_FAMILY_DATE_TIME:
        return compare(now, leaf->value, leaf->compare);
    case ENGINE_FAMILY_DAY_OF_WEEK:
        for (uint8_t i = 0; i < leaf->day_count; i++) {
            int64_t days = floor_divide(now + leaf->days[i].offset, 86400);
            int64_t weekday = days + 3 - floor_divide(days + 3, 7) * 7 + 1; /* 1970-01-01 was a Thursday (4) */
            if (weekday == leaf->days[i].day)
                return true;
        }
        return false;
    default:
        return false;
    }
}

bool engine_condition_holds(const struct engine_context *context, const struct engine_condition *condition)
{
    switch (condition->kind) {
    case ENGINE_COND_AND:
        for (uint16_t i = 0; i < condition->child_count; i++)
            if (!engine_condition_holds(context, &condition->children[i]))
                return false;
        return true;
    case ENGINE_COND_OR:
        for (uint16_t i = 0; i < condition->child_count; i++)
            if (engine_condition_holds(context, &condition->children[i]))
                return true;
        return false;
    default:
        return leaf_holds(context, condition);
    }
}

/* ----------------------------------------------------------------- roles */

const uint64_t *engine_role_actions(const struct engine_snapshot *snapshot, const struct engine_role *role,
                                    int32_t service)
{
    if (service < 0)
        return NULL;
    switch (role->kind) {
    case ENGINE_ROLE_GENERIC:
        return snapshot->services[service].generic[role->generic_index];
    case ENGINE_ROLE_SPECIFIC:
    case ENGINE_ROLE_CUSTOM:
        return role->service == service ? role->actions : NULL;
    default:
        return NULL;
    }
}

bool engine_policy_grants_bit(const struct engine_snapshot *snapshot, const struct engine_policy *policy,
                              int32_t service, uint32_t bit)
{
    if (service < 0)
        return false;
    if (policy->service == service)
        return engine_bit(policy->fixed_actions, bit);
    for (uint16_t i = 0; i < policy->role_count; i++)
        if (engine_bit(engine_role_actions(snapshot, policy->roles[i], service), bit))
            return true;
    return false;
}

bool engine_entry_grants_bit(const struct engine_snapshot *snapshot, const struct engine_entry *entry,
                             int32_t service, uint32_t bit)
{
    const struct engine_policy *policy = &snapshot->policies[entry->policy];
    if ((entry->flags & ENGINE_ENTRY_FIXED) && policy->service == service && bit < 64)
        return (entry->first_word >> bit) & 1u;
    if (!(entry->flags & ENGINE_ENTRY_OTHER_ROLES) && service >= 0) {
        const struct engine_service *definition = &snapshot->services[service];
        for (uint32_t roles = entry->generic_roles; roles; roles &= roles - 1)
            if (engine_bit(definition->generic[__builtin_ctz(roles)], bit))
                return true;
        return false;
    }
    return engine_policy_grants_bit(snapshot, policy, service, bit);
}

bool engine_policy_applies(const struct engine_context *context, const struct engine_policy *policy)
{
    if (policy->broken || policy->account_id != context->account_id)
        return false;
    for (uint16_t i = 0; i < policy->constraint_count; i++)
        if (!engine_constraint_holds(context, &policy->constraints[i]))
            return false;
    for (uint16_t i = 0; i < policy->tag_count; i++)
        if (!engine_constraint_holds(context, &policy->tags[i]))
            return false;
    return !policy->rule || engine_condition_holds(context, policy->rule);
}
