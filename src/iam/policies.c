/*
 * policies.c: access and authorization policies (policies.h): conversion
 * between the v1 and v2 wire shapes and the stored canonical form,
 * validation (structure here, references against the store and the engine),
 * create / get / replace / state / soft delete / list behind
 * iam_authz_check() on the policy's target, conflict detection, and the
 * v1 / v2 renderers (role enrichment, v1 placeholders for v2 policies).
 *
 * Error codes set here (err->code): invalid_body 400 (also a resource in an
 * account the caller cannot see), policy_not_found 404, insufficent_permissions
 * 403, policy_conflict_error 409 (same subject and resource, or a stale
 * If-Match), request_not_processed 409 (locked subject, 1000 policies per
 * subject, deleted policy), missing_required_query_parameter 400,
 * unable_to_process 500/503.
 */
#include "iam/policies.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "iam/apikeys.h"
#include "iam/engine.h"
#include "store/store_access.h"

#define ATTRIBUTE_KEY_MAX 128
#define ROLE_CRN_MAX 512
#define ROLE_NAME_MAX 64
#define LIST_BATCH 100
#define LIST_SCAN_MAX 5000 /* rows read per list request at most (an account holds up to 4020 policies) */
#define START_MAX 1000000000LL
#define POLICY_ID_MAX 64
#define RESOURCE_KEY_PREFIX "{{resource.attributes."
#define ENV_CURRENT_TIME "{{environment.attributes.current_time}}"
#define ENV_CURRENT_DATE_TIME "{{environment.attributes.current_date_time}}"
#define ENV_CURRENT_DATE "{{environment.attributes.current_date}}"
#define ENV_DAY_OF_WEEK "{{environment.attributes.day_of_week}}"

static const char placeholder_description[] =
    "**This is a unsupported policy version placeholder, to view the full content, please call GET with provided "
    "href**";

/* --- errors --- */

enum iam_result iam_access_error(struct iam_error *err, enum iam_result result, const char *code,
                                 const char *format, ...)
{
    if (!err)
        return result;
    iam_error_set(err, result, "", "%s", "");
    va_list args;
    va_start(args, format);
    vsnprintf(err->message, sizeof err->message, format, args);
    va_end(args);
    iam_error_sanitize(err);
    snprintf(err->code, sizeof err->code, "%s", code);
    return result;
}

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_access_error(err, IAM_ENOMEM, "unable_to_process", "Out of memory.");
}

enum iam_result iam_access_store_failure(enum iam_result result, struct iam_error *err)
{
    if (result == IAM_ENOMEM)
        return no_memory(err);
    if (iam_store_failed(result))
        return iam_access_error(err, IAM_EUNAVAILABLE, "unable_to_process",
                                "The service is temporarily unavailable.");
    return iam_access_error(err, IAM_EINTERNAL, "unable_to_process", "Internal error (%s).", iam_strerror(result));
}

static enum iam_result invalid(struct iam_error *err, const char *format, ...) IAM_PRINTF(2, 3);

static enum iam_result invalid(struct iam_error *err, const char *format, ...)
{
    if (!err)
        return IAM_EINVAL;
    iam_error_set(err, IAM_EINVAL, "", "%s", "");
    va_list args;
    va_start(args, format);
    vsnprintf(err->message, sizeof err->message, format, args);
    va_end(args);
    iam_error_sanitize(err);
    snprintf(err->code, sizeof err->code, "%s", "invalid_body");
    return IAM_EINVAL;
}

static enum iam_result policy_not_found(struct iam_error *err)
{
    return iam_access_error(err, IAM_ENOTFOUND, "policy_not_found", "Policy not found.");
}

static enum iam_result not_set_up(struct iam_error *err)
{
    return iam_access_error(err, IAM_EINTERNAL, "unable_to_process", "The policy service is not set up.");
}

/* iam_text_check with the Policy Management code. */
static enum iam_result check_text(const char *what, const char *text, size_t max, bool allow_empty,
                                  struct iam_error *err)
{
    if (iam_text_check(what, text, max, allow_empty, err) == IAM_OK)
        return IAM_OK;
    if (err) {
        snprintf(err->code, sizeof err->code, "%s", "invalid_body");
        err->message_code[0] = '\0';
    }
    return IAM_EINVAL;
}

void iam_access_time_format(int64_t when_ms, char out[32])
{
    time_t seconds = (time_t)(when_ms / 1000);
    int millis = (int)(when_ms % 1000);
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    struct tm tm;
    if (!gmtime_r(&seconds, &tm)) {
        snprintf(out, 32, "%s", "1970-01-01T00:00:00.000Z");
        return;
    }
    char date[32];
    if (strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        date[0] = '\0';
    snprintf(out, 32, "%.19s.%03dZ", date, millis % 1000);
}

static json_t *time_json(int64_t when_ms)
{
    char text[32];
    iam_access_time_format(when_ms, text);
    return json_string(text);
}

/* --- small helpers --- */

static bool listed(const char *const *names, const char *name)
{
    for (; name && *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The first member of `object` neither allowed nor ignored, or NULL. */
static const char *unknown_member(const json_t *object, const char *const *allowed, const char *const *ignored)
{
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)object, name, value) {
        (void)value;
        if (!listed(allowed, name) && !(ignored && listed(ignored, name)))
            return name;
    }
    return NULL;
}

static bool json_text(const json_t *value)
{
    return json_is_string(value) && strlen(json_string_value(value)) == json_string_length(value);
}

static const char *member_text(const json_t *object, const char *name)
{
    const json_t *value = json_object_get(object, name);
    return json_text(value) ? json_string_value(value) : NULL;
}

/* Members a response carries that a client may echo back in a request. */
static const char *const server_members[] = {"id",
                                             "href",
                                             "created_at",
                                             "created_by_id",
                                             "last_modified_at",
                                             "last_modified_by_id",
                                             "state",
                                             "template",
                                             "last_permit_at",
                                             "last_permit_frequency",
                                             "counts",
                                             NULL};

void iam_access_refresh(struct iam_service *service)
{
    if (service && service->engine && iam_engine_refresh(service->engine, false) != IAM_OK)
        iam_log(IAM_LOG_WARN, "engine_refresh_failed", "The decision engine could not reload after a change.");
}

/* --- operators and attribute values --- */

enum value_kind { VALUE_STRING, VALUE_BOOLEAN, VALUE_LIST };

static const struct {
    const char *name;
    enum value_kind kind;
} string_operators[] = {
    {"stringEquals", VALUE_STRING},     {"stringMatch", VALUE_STRING},      {"stringExists", VALUE_BOOLEAN},
    {"stringEqualsAnyOf", VALUE_LIST}, {"stringMatchAnyOf", VALUE_LIST},
};

static bool operator_kind(const char *name, enum value_kind *kind)
{
    for (size_t i = 0; i < sizeof string_operators / sizeof string_operators[0]; i++) {
        if (strcmp(string_operators[i].name, name) == 0) {
            *kind = string_operators[i].kind;
            return true;
        }
    }
    return false;
}

static const char *const v1_resource_operators[] = {"stringEquals", "stringMatch", NULL};
static const char *const v2_resource_operators[] = {"stringEquals", "stringExists", "stringMatch",
                                                    "stringEqualsAnyOf", "stringMatchAnyOf", NULL};
static const char *const v2_subject_operators[] = {"stringEquals", "stringExists", NULL};
static const char *const v1_subject_operators[] = {"stringEquals", NULL};
static const char *const tag_operators[] = {"stringEquals", "stringMatch", NULL};

/* Resource attributes that name a scope exactly: stringEquals only. */
static const char *const exact_attributes[] = {"accountId", "serviceType", "serviceName", "service_group_id", NULL};

/* Checks a value for an operator of `kind`; `what` names it in messages. */
static enum iam_result check_value(const char *what, enum value_kind kind, const json_t *value, struct iam_error *err)
{
    switch (kind) {
    case VALUE_STRING:
        if (!json_text(value))
            return invalid(err, "The value of %.64s must be a string.", what);
        return check_text(what, json_string_value(value), IAM_POLICY_VALUE_MAX, false, err);
    case VALUE_BOOLEAN:
        if (!json_is_boolean(value))
            return invalid(err, "The value of %.64s must be true or false (stringExists).", what);
        return IAM_OK;
    case VALUE_LIST: {
        if (!json_is_array(value) || json_array_size(value) == 0)
            return invalid(err, "The value of %.64s must be a list of strings.", what);
        if (json_array_size(value) > IAM_POLICY_ANY_OF_MAX)
            return invalid(err, "The value of %.64s has more than %d values.", what, IAM_POLICY_ANY_OF_MAX);
        size_t index;
        json_t *item;
        json_array_foreach(value, index, item) {
            if (!json_text(item))
                return invalid(err, "The values of %.64s must be strings.", what);
            if (check_text(what, json_string_value(item), IAM_POLICY_VALUE_MAX, false, err) != IAM_OK)
                return IAM_EINVAL;
        }
        return IAM_OK;
    }
    }
    return invalid(err, "Unknown operator.");
}

enum attribute_shape { SHAPE_V1, SHAPE_V2 };

struct attribute_rules {
    const char *where;            /* "subject", "resource", "tag": for messages */
    enum attribute_shape shape;
    const char *const *operators; /* allowed */
    bool exact_scopes;            /* accountId & co. take stringEquals only */
};

/* Parses one attribute into canonical {key, operator, value} appended to `list`. */
static enum iam_result parse_attribute(const json_t *item, const struct attribute_rules *rules, json_t *list,
                                       struct iam_error *err)
{
    static const char *const v1_members[] = {"name", "value", "operator", NULL};
    static const char *const v2_members[] = {"key", "value", "operator", NULL};
    if (!json_is_object(item))
        return invalid(err, "Each %s attribute must be an object.", rules->where);
    const char *key_member = rules->shape == SHAPE_V1 ? "name" : "key";
    const char *unknown = unknown_member(item, rules->shape == SHAPE_V1 ? v1_members : v2_members, NULL);
    if (unknown)
        return invalid(err, "Unknown member %.64s in a %s attribute.", unknown, rules->where);
    const char *key = member_text(item, key_member);
    if (!key)
        return invalid(err, "Each %s attribute needs a string %s.", rules->where, key_member);
    if (check_text(key_member, key, ATTRIBUTE_KEY_MAX, false, err) != IAM_OK)
        return IAM_EINVAL;
    const json_t *operator_value = json_object_get(item, "operator");
    const char *operator_name = "stringEquals";
    if (operator_value) {
        if (!json_text(operator_value))
            return invalid(err, "The operator of %s attribute %.64s must be a string.", rules->where, key);
        operator_name = json_string_value(operator_value);
    } else if (rules->shape == SHAPE_V2) {
        return invalid(err, "The %s attribute %.64s needs an operator.", rules->where, key);
    }
    enum value_kind kind;
    if (!listed(rules->operators, operator_name) || !operator_kind(operator_name, &kind))
        return invalid(err, "The operator %.64s is not allowed for %s attributes here.", operator_name, rules->where);
    if (rules->exact_scopes && listed(exact_attributes, key) && strcmp(operator_name, "stringEquals") != 0)
        return invalid(err, "The %s attribute %.64s only takes the operator stringEquals.", rules->where, key);
    const json_t *value = json_object_get(item, "value");
    if (!value)
        return invalid(err, "The %s attribute %.64s needs a value.", rules->where, key);
    if (check_value(key, kind, value, err) != IAM_OK)
        return IAM_EINVAL;
    size_t index;
    json_t *existing;
    json_array_foreach(list, index, existing) {
        if (strcmp(member_text(existing, "key"), key) == 0)
            return invalid(err, "The %s attribute %.64s appears twice.", rules->where, key);
    }
    json_t *canonical = json_pack("{s:s,s:s,s:O}", "key", key, "operator", operator_name, "value", value);
    if (json_array_append_new(list, canonical) != 0)
        return no_memory(err);
    return IAM_OK;
}

/* Parses an array of attributes (min..max entries) into a new canonical array. */
static enum iam_result parse_attributes(const json_t *array, const struct attribute_rules *rules, size_t min,
                                        size_t max, json_t **out, struct iam_error *err)
{
    *out = NULL;
    if (!json_is_array(array))
        return invalid(err, "The %s attributes must be a list.", rules->where);
    if (json_array_size(array) < min)
        return invalid(err, "The %s needs at least %zu attribute%s.", rules->where, min, min == 1 ? "" : "s");
    if (json_array_size(array) > max)
        return invalid(err, "The %s has more than %zu attributes.", rules->where, max);
    json_t *list = json_array();
    if (!list)
        return no_memory(err);
    size_t index;
    json_t *item;
    json_array_foreach(array, index, item) {
        if (parse_attribute(item, rules, list, err) != IAM_OK) {
            json_decref(list);
            return err ? err->result : IAM_EINVAL;
        }
    }
    *out = list;
    return IAM_OK;
}

/* --- roles --- */

static bool role_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/*
 * A role CRN: crn:v1:<cname>:<ctype>:<service>:<location>:<scope>:<instance>:<role|serviceRole|customRole>:<Name>.
 * Custom roles carry the account scope "a/<account>".
 */
static bool role_crn_valid(const char *crn)
{
    size_t length = strlen(crn);
    if (length > ROLE_CRN_MAX || strncmp(crn, "crn:v1:", 7) != 0)
        return false;
    const char *parts[10];
    size_t lengths[10];
    const char *cursor = crn;
    for (int i = 0; i < 10; i++) {
        const char *colon = i < 9 ? strchr(cursor, ':') : NULL;
        if (i < 9 && !colon)
            return false;
        parts[i] = cursor;
        lengths[i] = colon ? (size_t)(colon - cursor) : strlen(cursor);
        cursor = colon ? colon + 1 : cursor + lengths[i];
    }
    for (int i = 2; i <= 4; i++) {
        if (lengths[i] == 0 || lengths[i] > 64)
            return false;
        for (size_t j = 0; j < lengths[i]; j++)
            if (!islower((unsigned char)parts[i][j]) && !isdigit((unsigned char)parts[i][j]) && parts[i][j] != '-')
                return false;
    }
    if (lengths[5] != 0 || lengths[7] != 0)
        return false;
    bool custom = lengths[8] == 10 && strncmp(parts[8], "customRole", 10) == 0;
    bool builtin = (lengths[8] == 4 && strncmp(parts[8], "role", 4) == 0) ||
                   (lengths[8] == 11 && strncmp(parts[8], "serviceRole", 11) == 0);
    if (!custom && !builtin)
        return false;
    if (custom) {
        if (lengths[6] != 34 || strncmp(parts[6], "a/", 2) != 0)
            return false;
        char account[IAM_ACCOUNT_ID_SIZE];
        memcpy(account, parts[6] + 2, 32);
        account[32] = '\0';
        if (!iam_is_account_id(account))
            return false;
    } else if (lengths[6] != 0) {
        return false;
    }
    if (lengths[9] == 0 || lengths[9] > ROLE_NAME_MAX)
        return false;
    for (size_t j = 0; j < lengths[9]; j++)
        if (!role_name_char(parts[9][j]))
            return false;
    return true;
}

/* Parses roles[{role_id}] (display_name, description and actions echoed back are ignored). */
static enum iam_result parse_roles(const json_t *roles, const char *where, json_t **out, struct iam_error *err)
{
    static const char *const allowed[] = {"role_id", NULL};
    static const char *const ignored[] = {"display_name", "description", "actions", NULL};
    *out = NULL;
    if (!json_is_array(roles) || json_array_size(roles) == 0)
        return invalid(err, "The property %s must list at least one role.", where);
    if (json_array_size(roles) > IAM_POLICY_ROLES_MAX)
        return invalid(err, "The property %s has more than %d roles.", where, IAM_POLICY_ROLES_MAX);
    json_t *list = json_array();
    if (!list)
        return no_memory(err);
    size_t index;
    json_t *item;
    enum iam_result result = IAM_OK;
    json_array_foreach(roles, index, item) {
        const char *role_id = json_is_object(item) ? member_text(item, "role_id") : NULL;
        const char *unknown = json_is_object(item) ? unknown_member(item, allowed, ignored) : NULL;
        if (!role_id) {
            result = invalid(err, "Each role in %s needs a string role_id.", where);
            goto fail;
        }
        if (unknown) {
            result = invalid(err, "Unknown member %.64s in a role.", unknown);
            goto fail;
        }
        if (!role_crn_valid(role_id)) {
            result = invalid(err, "The role_id %.200s is not a valid role CRN.", role_id);
            goto fail;
        }
        size_t seen;
        json_t *previous;
        json_array_foreach(list, seen, previous) {
            if (strcmp(member_text(previous, "role_id"), role_id) == 0) {
                result = invalid(err, "The role %.200s is listed twice.", role_id);
                goto fail;
            }
        }
        if (json_array_append_new(list, json_pack("{s:s}", "role_id", role_id)) != 0) {
            result = no_memory(err);
            goto fail;
        }
    }
    *out = list;
    return IAM_OK;
fail:
    json_decref(list);
    return result;
}

/* --- rules (v2 conditions) --- */

enum condition_family { FAMILY_TIME, FAMILY_DATE, FAMILY_DATE_TIME, FAMILY_DAY, FAMILY_RESOURCE, FAMILY_COUNT };

struct rule_stats {
    int conditions;
    int greater_or_equal[FAMILY_COUNT];
    int less_or_equal[FAMILY_COUNT];
    bool seen[FAMILY_COUNT];
};

static bool digits(const char *text, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!isdigit((unsigned char)text[i]))
            return false;
    return true;
}

static int two_digits(const char *text)
{
    return (text[0] - '0') * 10 + (text[1] - '0');
}

/* "+hh:mm" / "-hh:mm" / "Z" (when `allow_z`), the whole rest of the text. */
static bool offset_valid(const char *text, bool allow_z)
{
    if (allow_z && strcmp(text, "Z") == 0)
        return true;
    return (text[0] == '+' || text[0] == '-') && strlen(text) == 6 && digits(text + 1, 2) && text[3] == ':' &&
           digits(text + 4, 2) && two_digits(text + 1) <= 14 && two_digits(text + 4) <= 59;
}

/* "hh:mm:ss±hh:mm" */
static bool time_of_day_valid(const char *text)
{
    return strlen(text) >= 9 && digits(text, 2) && text[2] == ':' && digits(text + 3, 2) && text[5] == ':' &&
           digits(text + 6, 2) && two_digits(text) <= 23 && two_digits(text + 3) <= 59 &&
           two_digits(text + 6) <= 59 && offset_valid(text + 8, true);
}

/* "YYYY-MM-DD" optionally followed by an offset. */
static bool date_valid(const char *text)
{
    if (strlen(text) < 10 || !digits(text, 4) || text[4] != '-' || !digits(text + 5, 2) || text[7] != '-' ||
        !digits(text + 8, 2))
        return false;
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year = two_digits(text) * 100 + two_digits(text + 2);
    int month = two_digits(text + 5), day = two_digits(text + 8);
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1])
        return false;
    return text[10] == '\0' || offset_valid(text + 10, true);
}

/* ISO-8601 date and time with an offset. */
static bool date_time_valid(const char *text)
{
    size_t length = strlen(text);
    if (length < 20 || length > 40)
        return false;
    bool has_offset = text[length - 1] == 'Z' || (length > 6 && (text[length - 6] == '+' || text[length - 6] == '-'));
    int64_t when;
    return has_offset && iam_time_parse(text, &when) == IAM_OK;
}

/* "1".."7" (Monday is 1), optionally "N+hh:mm". */
static bool day_valid(const char *text)
{
    return text[0] >= '1' && text[0] <= '7' && (text[1] == '\0' || offset_valid(text + 1, false));
}

static bool resource_condition_key(const char *key)
{
    size_t prefix = strlen(RESOURCE_KEY_PREFIX);
    size_t length = strlen(key);
    if (length <= prefix + 2 || strncmp(key, RESOURCE_KEY_PREFIX, prefix) != 0 || strcmp(key + length - 2, "}}") != 0)
        return false;
    size_t name_length = length - prefix - 2;
    if (name_length > 64)
        return false;
    for (size_t i = prefix; i < length - 2; i++)
        if (!isalnum((unsigned char)key[i]) && key[i] != '_' && key[i] != '-' && key[i] != '.')
            return false;
    return true;
}

/* The family and comparison of a time operator: "timeGreaterThanOrEquals" -> FAMILY_TIME, +1 (>=). */
static bool comparison_operator(const char *name, enum condition_family *family, int *direction)
{
    static const struct {
        const char *prefix;
        enum condition_family family;
    } prefixes[] = {{"dateTime", FAMILY_DATE_TIME}, {"date", FAMILY_DATE}, {"time", FAMILY_TIME}};
    static const struct {
        const char *suffix;
        int direction; /* 2: >=, -2: <=, 1: >, -1: < */
    } suffixes[] = {{"GreaterThanOrEquals", 2}, {"LessThanOrEquals", -2}, {"GreaterThan", 1}, {"LessThan", -1}};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t length = strlen(prefixes[i].prefix);
        if (strncmp(name, prefixes[i].prefix, length) != 0)
            continue;
        for (size_t j = 0; j < sizeof suffixes / sizeof suffixes[0]; j++) {
            if (strcmp(name + length, suffixes[j].suffix) == 0) {
                *family = prefixes[i].family;
                *direction = suffixes[j].direction;
                return true;
            }
        }
        return false; /* "date..." does not fall through to other prefixes */
    }
    return false;
}

static enum iam_result check_condition(const json_t *condition, struct rule_stats *stats, struct iam_error *err)
{
    static const char *const members[] = {"key", "operator", "value", NULL};
    const char *unknown = unknown_member(condition, members, NULL);
    if (unknown)
        return invalid(err, "Unknown member %.64s in a rule condition.", unknown);
    const char *key = member_text(condition, "key");
    const char *operator_name = member_text(condition, "operator");
    const json_t *value = json_object_get(condition, "value");
    if (!key || !operator_name || !value)
        return invalid(err, "Each rule condition needs a key, an operator and a value.");
    if (++stats->conditions > IAM_POLICY_RULE_CONDITIONS_MAX)
        return invalid(err, "A rule has at most %d conditions.", IAM_POLICY_RULE_CONDITIONS_MAX);
    enum condition_family family;
    int direction;
    enum value_kind kind;
    if (comparison_operator(operator_name, &family, &direction)) {
        const char *expected = family == FAMILY_TIME   ? ENV_CURRENT_TIME
                               : family == FAMILY_DATE ? ENV_CURRENT_DATE
                                                       : ENV_CURRENT_DATE_TIME;
        if (strcmp(key, expected) != 0 && !(family == FAMILY_DATE && strcmp(key, ENV_CURRENT_DATE_TIME) == 0))
            return invalid(err, "The operator %.64s applies to the key %s.", operator_name, expected);
        const char *text = json_text(value) ? json_string_value(value) : NULL;
        bool valid = text && (family == FAMILY_TIME        ? time_of_day_valid(text)
                              : family == FAMILY_DATE      ? date_valid(text)
                                                           : date_time_valid(text));
        if (!valid)
            return invalid(err, "The value of the %.64s condition is not a valid %s.", operator_name,
                           family == FAMILY_TIME   ? "time (hh:mm:ss+hh:mm)"
                           : family == FAMILY_DATE ? "date (YYYY-MM-DD)"
                                                   : "date and time with an offset");
        if (direction == 2)
            stats->greater_or_equal[family]++;
        else if (direction == -2)
            stats->less_or_equal[family]++;
    } else if (strcmp(operator_name, "dayOfWeekEquals") == 0 || strcmp(operator_name, "dayOfWeekAnyOf") == 0) {
        family = FAMILY_DAY;
        if (strcmp(key, ENV_DAY_OF_WEEK) != 0)
            return invalid(err, "The operator %s applies to the key %s.", operator_name, ENV_DAY_OF_WEEK);
        bool any_of = strcmp(operator_name, "dayOfWeekAnyOf") == 0;
        if (!any_of && json_text(value)) {
            if (!day_valid(json_string_value(value)))
                return invalid(err, "Days of the week are 1 (Monday) to 7.");
        } else {
            if (!json_is_array(value) || json_array_size(value) == 0 || json_array_size(value) > 7 ||
                (!any_of && json_array_size(value) != 1))
                return invalid(err, "The value of %s must be %s.", operator_name,
                               any_of ? "a list of 1 to 7 days" : "one day");
            size_t index;
            json_t *day;
            json_array_foreach(value, index, day) {
                if (!json_text(day) || !day_valid(json_string_value(day)))
                    return invalid(err, "Days of the week are 1 (Monday) to 7.");
            }
        }
    } else if (operator_kind(operator_name, &kind)) {
        family = FAMILY_RESOURCE;
        if (!resource_condition_key(key))
            return invalid(err, "String conditions apply to keys {{resource.attributes.<name>}}.");
        if (check_value("a rule condition", kind, value, err) != IAM_OK)
            return IAM_EINVAL;
    } else {
        return invalid(err, "Unknown rule operator %.64s.", operator_name);
    }
    stats->seen[family] = true;
    return IAM_OK;
}

static enum iam_result check_rule_node(const json_t *node, int depth, struct rule_stats *stats,
                                       struct iam_error *err)
{
    static const char *const members[] = {"operator", "conditions", NULL};
    if (!json_is_object(node))
        return invalid(err, "A rule and each of its conditions must be objects.");
    const json_t *conditions = json_object_get(node, "conditions");
    if (!conditions)
        return check_condition(node, stats, err);
    if (depth >= IAM_POLICY_RULE_DEPTH_MAX)
        return invalid(err, "Rules nest at most %d levels.", IAM_POLICY_RULE_DEPTH_MAX);
    const char *unknown = unknown_member(node, members, NULL);
    if (unknown)
        return invalid(err, "Unknown member %.64s in a rule.", unknown);
    const char *operator_name = member_text(node, "operator");
    if (!operator_name || (strcmp(operator_name, "and") != 0 && strcmp(operator_name, "or") != 0))
        return invalid(err, "A rule with conditions needs the operator and or or.");
    if (!json_is_array(conditions) || json_array_size(conditions) == 0)
        return invalid(err, "The conditions of a rule must be a non-empty list.");
    if (json_array_size(conditions) > IAM_POLICY_RULE_CONDITIONS_MAX)
        return invalid(err, "A rule has at most %d conditions.", IAM_POLICY_RULE_CONDITIONS_MAX);
    size_t index;
    json_t *child;
    json_array_foreach(conditions, index, child) {
        if (check_rule_node(child, depth + 1, stats, err) != IAM_OK)
            return IAM_EINVAL;
    }
    return IAM_OK;
}

/* Checks `rule` and `pattern` together (either may be NULL). */
static enum iam_result check_rule(const json_t *rule, const json_t *pattern, struct iam_error *err)
{
    if (!rule && !pattern)
        return IAM_OK;
    if (rule && !pattern)
        return invalid(err, "A policy with a rule needs a pattern.");
    if (!rule)
        return invalid(err, "A policy with a pattern needs a rule.");
    if (!json_text(pattern))
        return invalid(err, "The pattern must be a string.");
    struct rule_stats stats;
    memset(&stats, 0, sizeof stats);
    if (check_rule_node(rule, 0, &stats, err) != IAM_OK)
        return IAM_EINVAL;
    bool once = stats.seen[FAMILY_DATE_TIME] || stats.seen[FAMILY_DATE];
    bool weekly = stats.seen[FAMILY_DAY] || stats.seen[FAMILY_TIME];
    bool resource = stats.seen[FAMILY_RESOURCE];
    if (once && weekly)
        return invalid(err, "A rule cannot mix one-time and weekly conditions.");
    for (int family = FAMILY_TIME; family <= FAMILY_DATE_TIME; family++)
        if (stats.greater_or_equal[family] != stats.less_or_equal[family])
            return invalid(err, "Each GreaterThanOrEquals condition must be paired with a LessThanOrEquals one.");
    const char *name = json_string_value(pattern);
    bool matches;
    if (strcmp(name, "time-based-conditions:once") == 0)
        matches = once && !resource;
    else if (strcmp(name, "time-based-conditions:weekly") == 0)
        matches = weekly && !resource;
    else if (strcmp(name, "time-based-conditions:weekly:all-day") == 0)
        matches = stats.seen[FAMILY_DAY] && !stats.seen[FAMILY_TIME] && !resource;
    else if (strcmp(name, "time-based-conditions:weekly:custom-hours") == 0)
        matches = stats.seen[FAMILY_TIME] && !resource;
    else if (strcmp(name, "attribute-based-condition:resource:literal-and-wildcard") == 0)
        matches = resource && !once && !weekly;
    else
        return invalid(err, "Unknown pattern %.100s.", name);
    if (!matches)
        return invalid(err, "The rule's conditions do not fit the pattern %.100s.", name);
    return IAM_OK;
}

/* --- conversion --- */

static enum iam_result parse_type(const json_t *body, const char **type, struct iam_error *err)
{
    *type = member_text(body, "type");
    if (!*type)
        return invalid(err, "The property type is required (access or authorization).");
    if (strcmp(*type, "access") != 0 && strcmp(*type, "authorization") != 0)
        return invalid(err, "The property type must be access or authorization.");
    return IAM_OK;
}

/* Adds description (when non-empty) to `canonical`. */
static enum iam_result parse_description(const json_t *body, json_t *canonical, struct iam_error *err)
{
    const json_t *value = json_object_get(body, "description");
    if (!value || json_is_null(value))
        return IAM_OK;
    if (!json_text(value))
        return invalid(err, "The property description must be a string.");
    if (check_text("description", json_string_value(value), IAM_POLICY_DESCRIPTION_MAX, true, err) != IAM_OK)
        return IAM_EINVAL;
    if (json_string_length(value) == 0)
        return IAM_OK;
    return json_object_set(canonical, "description", (json_t *)value) == 0 ? IAM_OK : no_memory(err);
}

/* Builds {type, description?, subject, resource, control} from parsed parts (stolen). */
static enum iam_result assemble(const char *type, json_t *subject_attributes, json_t *resource_attributes,
                                json_t *tags, json_t *roles, json_t **out, struct iam_error *err)
{
    json_t *resource = json_pack("{s:o}", "attributes", resource_attributes);
    if (resource && tags && json_array_size(tags) > 0 && json_object_set(resource, "tags", tags) != 0) {
        json_decref(resource);
        resource = NULL;
    }
    json_decref(tags);
    json_t *canonical = resource ? json_pack("{s:s,s:{s:o},s:o,s:{s:{s:o}}}", "type", type, "subject", "attributes",
                                             subject_attributes, "resource", resource, "control", "grant", "roles",
                                             roles)
                                 : NULL;
    if (!resource) {
        json_decref(subject_attributes);
        json_decref(roles);
    }
    *out = canonical;
    return canonical ? IAM_OK : no_memory(err);
}

enum iam_result iam_policy_from_v1(const json_t *body, json_t **canonical, struct iam_error *err)
{
    static const char *const members[] = {"type", "description", "subjects", "roles", "resources", NULL};
    static const struct attribute_rules subject_rules = {"subject", SHAPE_V1, v1_subject_operators, false};
    static const struct attribute_rules resource_rules = {"resource", SHAPE_V1, v1_resource_operators, true};
    static const struct attribute_rules tag_rules = {"tag", SHAPE_V1, tag_operators, false};
    static const char *const subject_members[] = {"attributes", NULL};
    static const char *const resource_members[] = {"attributes", "tags", NULL};
    *canonical = NULL;
    if (!json_is_object(body))
        return invalid(err, "The request body must be a JSON object.");
    const char *unknown = unknown_member(body, members, server_members);
    if (unknown)
        return invalid(err, "Unknown property %.64s.", unknown);
    const char *type;
    if (parse_type(body, &type, err) != IAM_OK)
        return IAM_EINVAL;
    const json_t *subjects = json_object_get(body, "subjects");
    const json_t *resources = json_object_get(body, "resources");
    if (!json_is_array(subjects) || json_array_size(subjects) != 1)
        return invalid(err, "A policy needs exactly one subject.");
    if (!json_is_array(resources) || json_array_size(resources) != 1)
        return invalid(err, "A policy needs exactly one resource.");
    const json_t *subject = json_array_get(subjects, 0);
    const json_t *resource = json_array_get(resources, 0);
    if (!json_is_object(subject) || (unknown = unknown_member(subject, subject_members, NULL)))
        return invalid(err, "A subject is an object with attributes only.");
    if (!json_is_object(resource) || (unknown = unknown_member(resource, resource_members, NULL)))
        return invalid(err, "A resource is an object with attributes and tags only.");

    json_t *subject_attributes = NULL, *resource_attributes = NULL, *tags = NULL, *roles = NULL;
    enum iam_result result;
    if ((result = parse_attributes(json_object_get(subject, "attributes"), &subject_rules, 1,
                                   IAM_POLICY_ATTRIBUTES_MAX, &subject_attributes, err)) != IAM_OK ||
        (result = parse_attributes(json_object_get(resource, "attributes"), &resource_rules, 1,
                                   IAM_POLICY_ATTRIBUTES_MAX, &resource_attributes, err)) != IAM_OK)
        goto fail;
    if (json_object_get(resource, "tags") &&
        (result = parse_attributes(json_object_get(resource, "tags"), &tag_rules, 0, IAM_POLICY_TAGS_MAX, &tags,
                                   err)) != IAM_OK)
        goto fail;
    if ((result = parse_roles(json_object_get(body, "roles"), "roles", &roles, err)) != IAM_OK)
        goto fail;
    if ((result = assemble(type, subject_attributes, resource_attributes, tags, roles, canonical, err)) != IAM_OK)
        return result;
    if ((result = parse_description(body, *canonical, err)) != IAM_OK) {
        json_decref(*canonical);
        *canonical = NULL;
    }
    return result;
fail:
    json_decref(subject_attributes);
    json_decref(resource_attributes);
    json_decref(tags);
    json_decref(roles);
    return result;
}

enum iam_result iam_policy_from_v2(const json_t *body, json_t **canonical, struct iam_error *err)
{
    static const char *const members[] = {"type",    "description", "subject", "resource",
                                          "control", "pattern",     "rule",    NULL};
    static const struct attribute_rules subject_rules = {"subject", SHAPE_V2, v2_subject_operators, true};
    static const struct attribute_rules resource_rules = {"resource", SHAPE_V2, v2_resource_operators, true};
    static const struct attribute_rules tag_rules = {"tag", SHAPE_V2, tag_operators, false};
    static const char *const subject_members[] = {"attributes", NULL};
    static const char *const resource_members[] = {"attributes", "tags", NULL};
    static const char *const control_members[] = {"grant", NULL};
    static const char *const grant_members[] = {"roles", NULL};
    *canonical = NULL;
    if (!json_is_object(body))
        return invalid(err, "The request body must be a JSON object.");
    const char *unknown = unknown_member(body, members, server_members);
    if (unknown)
        return invalid(err, "Unknown property %.64s.", unknown);
    const char *type;
    if (parse_type(body, &type, err) != IAM_OK)
        return IAM_EINVAL;
    const json_t *subject = json_object_get(body, "subject");
    const json_t *resource = json_object_get(body, "resource");
    const json_t *control = json_object_get(body, "control");
    if (!json_is_object(subject) || unknown_member(subject, subject_members, NULL))
        return invalid(err, "The property subject is required: {attributes:[{key, operator, value}]}.");
    if (!json_is_object(resource) || unknown_member(resource, resource_members, NULL))
        return invalid(err, "The property resource is required: {attributes:[...], tags:[...]}.");
    const json_t *grant = json_is_object(control) ? json_object_get(control, "grant") : NULL;
    if (!json_is_object(grant) || unknown_member(control, control_members, NULL) ||
        unknown_member(grant, grant_members, NULL))
        return invalid(err, "The property control is required: {grant:{roles:[{role_id}]}}.");
    const json_t *rule = json_object_get(body, "rule");
    const json_t *pattern = json_object_get(body, "pattern");
    if (check_rule(rule, pattern, err) != IAM_OK)
        return IAM_EINVAL;

    json_t *subject_attributes = NULL, *resource_attributes = NULL, *tags = NULL, *roles = NULL;
    enum iam_result result;
    if ((result = parse_attributes(json_object_get(subject, "attributes"), &subject_rules, 1,
                                   IAM_POLICY_ATTRIBUTES_MAX, &subject_attributes, err)) != IAM_OK ||
        (result = parse_attributes(json_object_get(resource, "attributes"), &resource_rules, 1,
                                   IAM_POLICY_ATTRIBUTES_MAX, &resource_attributes, err)) != IAM_OK)
        goto fail;
    if (json_object_get(resource, "tags") &&
        (result = parse_attributes(json_object_get(resource, "tags"), &tag_rules, 0, IAM_POLICY_TAGS_MAX, &tags,
                                   err)) != IAM_OK)
        goto fail;
    if ((result = parse_roles(json_object_get(grant, "roles"), "control.grant.roles", &roles, err)) != IAM_OK)
        goto fail;
    if ((result = assemble(type, subject_attributes, resource_attributes, tags, roles, canonical, err)) != IAM_OK)
        return result;
    if ((result = parse_description(body, *canonical, err)) != IAM_OK)
        goto fail_canonical;
    if (rule && (json_object_set(*canonical, "pattern", (json_t *)pattern) != 0 ||
                 json_object_set_new(*canonical, "rule", json_deep_copy(rule)) != 0)) {
        result = no_memory(err);
        goto fail_canonical;
    }
    return IAM_OK;
fail_canonical:
    json_decref(*canonical);
    *canonical = NULL;
    return result;
fail:
    json_decref(subject_attributes);
    json_decref(resource_attributes);
    json_decref(tags);
    json_decref(roles);
    return result;
}

/* v1 attributes [{name, value, operator?}] from canonical ones; false when v1 cannot express one. */
static bool attributes_to_v1(const json_t *attributes, bool with_operator, json_t *out)
{
    size_t index;
    json_t *attribute;
    json_array_foreach(attributes, index, attribute) {
        const char *operator_name = member_text(attribute, "operator");
        const json_t *value = json_object_get(attribute, "value");
        if (!operator_name || !json_is_string(value) ||
            !listed(with_operator ? v1_resource_operators : v1_subject_operators, operator_name))
            return false;
        json_t *item = with_operator ? json_pack("{s:s,s:O,s:s}", "name", member_text(attribute, "key"), "value",
                                                 value, "operator", operator_name)
                                     : json_pack("{s:s,s:O}", "name", member_text(attribute, "key"), "value", value);
        if (json_array_append_new(out, item) != 0)
            return false;
    }
    return true;
}

enum iam_result iam_policy_to_v1(const json_t *canonical, json_t **v1)
{
    *v1 = NULL;
    if (!json_is_object(canonical) || json_object_get(canonical, "rule") || json_object_get(canonical, "pattern"))
        return IAM_EINVAL;
    const json_t *resource = json_object_get(canonical, "resource");
    const json_t *tags = json_object_get(resource, "tags");
    const json_t *roles = json_object_get(json_object_get(json_object_get(canonical, "control"), "grant"), "roles");
    const char *type = member_text(canonical, "type");
    json_t *subject_attributes = json_array();
    json_t *resource_attributes = json_array();
    json_t *tag_list = tags ? json_array() : NULL;
    json_t *role_list = json_array();
    json_t *body = NULL;
    if (!type || !json_is_array(roles) || !subject_attributes || !resource_attributes || !role_list ||
        (tags && !tag_list) ||
        !attributes_to_v1(json_object_get(json_object_get(canonical, "subject"), "attributes"), false,
                          subject_attributes) ||
        !attributes_to_v1(json_object_get(resource, "attributes"), true, resource_attributes) ||
        (tags && !attributes_to_v1(tags, true, tag_list)))
        goto fail;
    size_t index;
    json_t *role;
    json_array_foreach(roles, index, role) {
        if (json_array_append_new(role_list, json_pack("{s:s}", "role_id", member_text(role, "role_id"))) != 0)
            goto fail;
    }
    json_t *v1_resource = json_pack("{s:O}", "attributes", resource_attributes);
    if (v1_resource && tag_list && json_object_set(v1_resource, "tags", tag_list) != 0) {
        json_decref(v1_resource);
        v1_resource = NULL;
    }
    body = v1_resource ? json_pack("{s:s,s:[{s:O}],s:O,s:[o]}", "type", type, "subjects", "attributes",
                                   subject_attributes, "roles", role_list, "resources", v1_resource)
                       : NULL;
    if (!body)
        goto fail;
    const json_t *description = json_object_get(canonical, "description");
    if (description && json_object_set(body, "description", (json_t *)description) != 0)
        goto fail;
    json_decref(subject_attributes);
    json_decref(resource_attributes);
    json_decref(tag_list);
    json_decref(role_list);
    *v1 = body;
    return IAM_OK;
fail:
    json_decref(body);
    json_decref(subject_attributes);
    json_decref(resource_attributes);
    json_decref(tag_list);
    json_decref(role_list);
    return IAM_EINVAL;
}

json_t *iam_policy_to_v2(const json_t *canonical)
{
    return json_deep_copy(canonical);
}

/* --- what a canonical document says: account, subject, service, authorization target --- */

struct policy_facts {
    const char *type;          /* arena copies */
    const char *account_id;
    const char *subject_kind;  /* iam_id | access_group_id | service */
    const char *subject_value;
    const char *service_name;  /* the resource's serviceName, or NULL */
    struct iam_target_attribute attributes[IAM_POLICY_ATTRIBUTES_MAX];
    size_t attribute_count;    /* resource attributes with a string value, accountId excluded */
};

static const char *const authorization_subject_keys[] = {"accountId",    "serviceName", "serviceInstance",
                                                         "region",       "resourceType", "resource",
                                                         "resourceGroupId", NULL};

static const json_t *find_attribute(const json_t *attributes, const char *key)
{
    size_t index;
    json_t *attribute;
    json_array_foreach(attributes, index, attribute) {
        const char *name = member_text(attribute, "key");
        if (name && strcmp(name, key) == 0)
            return attribute;
    }
    return NULL;
}

/* The value of attribute `key` when its operator is stringEquals, else NULL. */
static const char *equals_value(const json_t *attributes, const char *key)
{
    const json_t *attribute = find_attribute(attributes, key);
    const char *operator_name = member_text(attribute, "operator");
    if (!operator_name || strcmp(operator_name, "stringEquals") != 0)
        return NULL;
    return member_text(attribute, "value");
}

static const json_t *document_roles(const json_t *canonical)
{
    return json_object_get(json_object_get(json_object_get(canonical, "control"), "grant"), "roles");
}

/* Reads and checks the scope facts of a canonical document (no store needed). */
static enum iam_result policy_facts_read(struct iam_arena *arena, const json_t *canonical,
                                         struct policy_facts *facts, struct iam_error *err)
{
    memset(facts, 0, sizeof *facts);
    const char *type = member_text(canonical, "type");
    const json_t *subject = json_object_get(json_object_get(canonical, "subject"), "attributes");
    const json_t *resource = json_object_get(canonical, "resource");
    const json_t *attributes = json_object_get(resource, "attributes");
    const json_t *tags = json_object_get(resource, "tags");
    if (!type || !json_is_array(subject) || !json_is_array(attributes) || !json_is_array(document_roles(canonical)))
        return invalid(err, "The policy is incomplete.");

    const char *account_id = equals_value(attributes, "accountId");
    if (!account_id || !iam_is_account_id(account_id))
        return invalid(err, "The resource needs the attribute accountId (stringEquals, an account ID).");
    if (!find_attribute(attributes, "serviceType") && !find_attribute(attributes, "serviceName") &&
        !find_attribute(attributes, "resourceGroupId") && !find_attribute(attributes, "service_group_id"))
        return invalid(err,
                       "The resource needs one of serviceType, serviceName, resourceGroupId or service_group_id.");
    const char *service_type = member_text(find_attribute(attributes, "serviceType"), "value");
    if (find_attribute(attributes, "serviceType") && !same_text(service_type, "service") &&
        !same_text(service_type, "platform_service"))
        return invalid(err, "The resource attribute serviceType must be service or platform_service.");
    const char *group = member_text(find_attribute(attributes, "service_group_id"), "value");
    if (find_attribute(attributes, "service_group_id") && !same_text(group, "IAM"))
        return invalid(err, "The resource attribute service_group_id must be IAM.");
    if (json_array_size(tags) > 0) {
        size_t index;
        json_t *attribute;
        json_array_foreach(attributes, index, attribute) {
            const char *key = member_text(attribute, "key");
            if (strcmp(key, "accountId") != 0 && strcmp(key, "serviceType") != 0)
                return invalid(err, "Access-management tags only apply to all IAM-enabled services: the resource "
                                    "may then hold only accountId and serviceType=service.");
        }
        if (!same_text(service_type, "service"))
            return invalid(err, "Access-management tags need the resource attribute serviceType=service.");
    }

    facts->type = iam_arena_strdup(arena, type);
    facts->account_id = iam_arena_strdup(arena, account_id);
    const char *service_name = equals_value(attributes, "serviceName");
    facts->service_name = service_name ? iam_arena_strdup(arena, service_name) : NULL;
    if (!facts->type || !facts->account_id || (service_name && !facts->service_name))
        return no_memory(err);

    size_t index;
    json_t *attribute;
    json_array_foreach(attributes, index, attribute) {
        const char *key = member_text(attribute, "key");
        const char *operator_name = member_text(attribute, "operator");
        const char *value = member_text(attribute, "value");
        /* Any-of and exists constraints are left out: the target becomes broader, which asks more of the caller. */
        if (strcmp(key, "accountId") == 0 || !value ||
            (strcmp(operator_name, "stringEquals") != 0 && strcmp(operator_name, "stringMatch") != 0))
            continue;
        if (facts->attribute_count >= IAM_POLICY_ATTRIBUTES_MAX)
            break;
        struct iam_target_attribute *target = &facts->attributes[facts->attribute_count++];
        target->name = iam_arena_strdup(arena, key);
        target->value = iam_arena_strdup(arena, value);
        if (!target->name || !target->value)
            return no_memory(err);
    }

    if (strcmp(type, "access") == 0) {
        const char *key = json_array_size(subject) == 1 ? member_text(json_array_get(subject, 0), "key") : NULL;
        if (!key || (strcmp(key, "iam_id") != 0 && strcmp(key, "access_group_id") != 0))
            return invalid(err, "The subject of an access policy is one attribute: iam_id or access_group_id.");
        const char *value = equals_value(subject, key);
        if (!value)
            return invalid(err, "The subject attribute %s takes the operator stringEquals.", key);
        facts->subject_kind = iam_arena_strdup(arena, key);
        facts->subject_value = iam_arena_strdup(arena, value);
    } else {
        json_array_foreach(subject, index, attribute) {
            const char *key = member_text(attribute, "key");
            if (!listed(authorization_subject_keys, key))
                return invalid(err, "Unknown subject attribute %.64s for an authorization policy.", key);
        }
        const char *source_account = equals_value(subject, "accountId");
        const char *source_service = equals_value(subject, "serviceName");
        if (!source_account || !source_service)
            return invalid(err, "The subject of an authorization policy needs accountId and serviceName "
                                "(stringEquals).");
        if (strcmp(source_account, account_id) != 0)
            return invalid(err, "The subject of an authorization policy must be in the policy's account.");
        facts->subject_kind = "service";
        facts->subject_value = iam_arena_strdup(arena, source_service);
    }
    if (!facts->subject_kind || !facts->subject_value)
        return no_memory(err);
    return IAM_OK;
}

static void facts_target(const struct policy_facts *facts, struct iam_target *target)
{
    memset(target, 0, sizeof *target);
    target->account_id = facts->account_id;
    target->service_name = facts->service_name;
    target->attributes = facts->attributes;
    target->attribute_count = facts->attribute_count;
}

/*
 * iam_authz_check on the policy's target. Another account (IAM_ENOTFOUND from
 * the gate) is bad input: 400 invalid_body, whether that account exists or
 * not; a refusal is 403 insufficent_permissions.
 */
static enum iam_result authorize(struct iam_service *service, const struct iam_principal *who, const char *action,
                                 const struct policy_facts *facts, struct iam_error *err)
{
    struct iam_target target;
    facts_target(facts, &target);
    enum iam_result result = iam_authz_check(service, who, action, &target, err);
    if (result == IAM_OK)
        return IAM_OK;
    if (result == IAM_EDENIED)
        return iam_access_error(err, IAM_EDENIED, "insufficent_permissions",
                                "You are not allowed to %s policies on this resource (%s).",
                                strcmp(action, IAM_ACTION_POLICY_READ) == 0 ? "read" : "manage", action);
    if (result == IAM_ENOTFOUND) /* the same answer whether the account exists or not */
        return invalid(err, "The resource's accountId %s is not an account you can manage policies in.",
                       facts->account_id);
    return result;
}

/* --- references: subjects, services, attributes and roles that must exist --- */

/* Base attribute names every resource may use. */
static const char *const base_resource_attributes[] = {
    "accountId", "serviceType", "serviceName", "serviceInstance", "resourceType", "resource",
    "resourceGroupId", "service_group_id", "region", NULL};

/*
 * True when the service definition of `service_name` declares `attribute`
 * (its "attributes" or "supported_attributes" list; see docs/api/services.md).
 */
static bool service_declares_attribute(struct iam_service *service, struct iam_arena *arena,
                                       const char *service_name, const char *attribute)
{
    if (!service_name)
        return false;
    json_t *document = NULL;
    json_t *builtin = iam_engine_builtin_services();
    if (builtin && json_object_get(builtin, service_name)) {
        document = json_incref(json_object_get(builtin, service_name));
    } else {
        struct iam_service_def_record record;
        if (iam_store_service_def_get(service->store, arena, service_name, &record) == IAM_OK && record.document)
            document = json_loads(record.document, JSON_REJECT_DUPLICATES, NULL);
    }
    json_decref(builtin);
    bool found = false;
    size_t index;
    json_t *item;
    static const char *const lists[] = {"attributes", "supported_attributes"};
    for (size_t l = 0; l < 2 && !found; l++) {
        json_array_foreach(json_object_get(document, lists[l]), index, item) {
            const char *name = json_is_string(item) ? json_string_value(item) : member_text(item, "name");
            if (name && strcmp(name, attribute) == 0) {
                found = true;
                break;
            }
        }
    }
    json_decref(document);
    return found;
}

/* Checks that the subject exists in the policy's account; `*locked` tells a locked service ID. */
static enum iam_result check_subject(struct iam_service *service, struct iam_arena *arena,
                                     const struct policy_facts *facts, bool *locked, struct iam_error *err)
{
    *locked = false;
    enum iam_result result;
    if (strcmp(facts->subject_kind, "iam_id") == 0) {
        if (iam_is_service_id_iam_id(facts->subject_value)) {
            struct iam_service_id_record record;
            result = iam_store_service_id_get_by_iam_id(service->store, arena, facts->account_id,
                                                        facts->subject_value, &record);
            if (result == IAM_OK)
                *locked = record.locked;
        } else if (strncmp(facts->subject_value, "iam-Profile-", 12) == 0) {
            return invalid(err, "Trusted profiles are not supported as policy subjects.");
        } else {
            struct iam_user_record record;
            result = iam_store_user_get(service->store, arena, facts->account_id, facts->subject_value, &record);
        }
        if (result == IAM_ENOTFOUND || result == IAM_EINVAL)
            return invalid(err, "The subject %.80s is not a user or service ID of account %s.", facts->subject_value,
                           facts->account_id);
        return result == IAM_OK ? IAM_OK : iam_access_store_failure(result, err);
    }
    if (strcmp(facts->subject_kind, "access_group_id") == 0) {
        if (strcmp(facts->subject_value, IAM_PUBLIC_ACCESS_GROUP) == 0)
            return IAM_OK;
        struct iam_group_record record;
        result = iam_store_group_get(service->store, arena, facts->account_id, facts->subject_value, &record);
        if (result == IAM_ENOTFOUND || result == IAM_EINVAL)
            return invalid(err, "The subject %.80s is not an access group of account %s.", facts->subject_value,
                           facts->account_id);
        return result == IAM_OK ? IAM_OK : iam_access_store_failure(result, err);
    }
    if (!iam_engine_service_exists(service->engine, facts->subject_value))
        return invalid(err, "The subject service %.64s is not a known service.", facts->subject_value);
    return IAM_OK;
}

/* Services, attribute names and roles the policy names must exist and fit together. */
static enum iam_result check_references(struct iam_service *service, struct iam_arena *arena,
                                        const json_t *canonical, const struct policy_facts *facts,
                                        struct iam_error *err)
{
    if (facts->service_name && !iam_engine_service_exists(service->engine, facts->service_name))
        return invalid(err, "The service %.64s is not a known service.", facts->service_name);
    const json_t *resource = json_object_get(canonical, "resource");
    size_t index;
    json_t *attribute;
    json_array_foreach(json_object_get(resource, "attributes"), index, attribute) {
        const char *key = member_text(attribute, "key");
        if (!listed(base_resource_attributes, key) &&
            !service_declares_attribute(service, arena, facts->service_name, key))
            return invalid(err, "Unknown resource attribute %.64s%s%.64s.", key,
                           facts->service_name ? " for the service " : "",
                           facts->service_name ? facts->service_name : "");
    }
    json_t *role;
    json_array_foreach(document_roles(canonical), index, role) {
        const char *role_id = member_text(role, "role_id");
        const char *display_name = NULL, *description = NULL;
        enum iam_result result = iam_engine_role_resolve(service->engine, facts->account_id, facts->service_name,
                                                         role_id, &display_name, &description);
        if (result == IAM_ENOTFOUND || result == IAM_EINVAL)
            return invalid(err, "The role %.200s does not exist or does not apply to %.64s.", role_id,
                           facts->service_name ? facts->service_name : "this resource");
        if (result != IAM_OK)
            return iam_access_error(err, result, "unable_to_process", "The role %.200s cannot be resolved.",
                                    role_id);
    }
    return IAM_OK;
}

/* --- conflicts and limits --- */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An order-independent text form of an attribute list (NULL on failure). */
static char *attribute_set_text(struct iam_arena *arena, const json_t *attributes)
{
    size_t count = json_array_size(attributes);
    char **items = count ? iam_arena_alloc(arena, count * sizeof *items) : NULL;
    if (count && !items)
        return NULL;
    size_t total = 1;
    for (size_t i = 0; i < count; i++) {
        char *text = json_dumps(json_array_get(attributes, i), JSON_COMPACT | JSON_SORT_KEYS);
        items[i] = text ? iam_arena_strdup(arena, text) : NULL;
        free(text);
        if (!items[i])
            return NULL;
        total += strlen(items[i]) + 1;
    }
    if (count > 1)
        qsort(items, count, sizeof *items, compare_strings);
    char *joined = iam_arena_alloc(arena, total);
    if (!joined)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        size_t length = strlen(items[i]);
        memcpy(joined + used, items[i], length);
        used += length;
        joined[used++] = '\n';
    }
    joined[used] = '\0';
    return joined;
}

/* type, subject and resource (attributes and tags) of a canonical document, order-independent. */
static char *scope_text(struct iam_arena *arena, const json_t *canonical)
{
    const json_t *resource = json_object_get(canonical, "resource");
    char *subject = attribute_set_text(arena, json_object_get(json_object_get(canonical, "subject"), "attributes"));
    char *attributes = attribute_set_text(arena, json_object_get(resource, "attributes"));
    char *tags = attribute_set_text(arena, json_object_get(resource, "tags"));
    const char *type = member_text(canonical, "type");
    if (!subject || !attributes || !tags || !type)
        return NULL;
    return iam_arena_printf(arena, "%s\x1f%s\x1f%s\x1f%s", type, subject, attributes, tags);
}

/* Finds an active policy other than `self_id` with the same scope as `canonical`. */
static enum iam_result find_conflict(struct iam_service *service, struct iam_arena *arena,
                                     const struct policy_facts *facts, const json_t *canonical,
                                     const char *self_id, struct iam_policy_record *conflict, bool *found,
                                     struct iam_error *err)
{
    *found = false;
    char *wanted = scope_text(arena, canonical);
    if (!wanted)
        return no_memory(err);
    struct iam_policy_query query = {.account_id = facts->account_id, .state = "active", .limit = LIST_BATCH};
    if (strcmp(facts->subject_kind, "iam_id") == 0)
        query.iam_id = facts->subject_value;
    else if (strcmp(facts->subject_kind, "access_group_id") == 0)
        query.access_group_id = facts->subject_value;
    else
        query.type = "authorization";
    for (int64_t scanned = 0; scanned < LIST_SCAN_MAX;) {
        struct iam_policy_record *items = NULL;
        size_t count = 0;
        bool has_more = false;
        enum iam_result result = iam_store_policy_list(service->store, arena, &query, &items, &count, &has_more);
        if (result != IAM_OK)
            return iam_access_store_failure(result, err);
        for (size_t i = 0; i < count; i++) {
            if ((self_id && strcmp(items[i].id, self_id) == 0) || !same_text(items[i].subject_kind, facts->subject_kind) ||
                !same_text(items[i].subject_value, facts->subject_value) || !same_text(items[i].type, facts->type))
                continue;
            json_t *document = json_loads(items[i].document, JSON_REJECT_DUPLICATES, NULL);
            char *text = document ? scope_text(arena, document) : NULL;
            json_decref(document);
            if (text && strcmp(text, wanted) == 0) {
                if (conflict)
                    *conflict = items[i];
                *found = true;
                return IAM_OK;
            }
        }
        scanned += (int64_t)count;
        if (!has_more || count == 0)
            break;
        query.offset += (int64_t)count;
    }
    return IAM_OK;
}

static enum iam_result conflict_error(struct iam_error *err)
{
    return iam_access_error(err, IAM_ECONFLICT, "policy_conflict_error",
                            "A policy with the same subject and resource already exists.");
}

static enum iam_result subject_locked_error(struct iam_error *err)
{
    return iam_access_error(err, IAM_ELOCKED, "request_not_processed",
                            "The policy's subject is a locked service ID; unlock it before changing its policies.");
}

static enum iam_result check_subject_limit(struct iam_service *service, const struct policy_facts *facts,
                                           struct iam_error *err)
{
    int64_t count = 0;
    enum iam_result result = iam_store_policy_count_for_subject(service->store, facts->account_id,
                                                                facts->subject_kind, facts->subject_value, &count);
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    if (count >= IAM_POLICY_PER_SUBJECT_MAX)
        return iam_access_error(err, IAM_ECONFLICT, "request_not_processed",
                                "The subject already has %d policies, the limit.", IAM_POLICY_PER_SUBJECT_MAX);
    return IAM_OK;
}

/* Everything a new or changed policy must pass after authorization: references, lock, limit, conflicts. */
static enum iam_result check_write(struct iam_service *service, struct iam_arena *arena, const json_t *canonical,
                                   const struct policy_facts *facts, const char *self_id, bool counts_new,
                                   struct iam_policy_record *conflict, struct iam_error *err)
{
    bool locked = false;
    enum iam_result result;
    if ((result = check_subject(service, arena, facts, &locked, err)) != IAM_OK ||
        (result = check_references(service, arena, canonical, facts, err)) != IAM_OK)
        return result;
    if (locked)
        return subject_locked_error(err);
    if (counts_new && (result = check_subject_limit(service, facts, err)) != IAM_OK)
        return result;
    bool found = false;
    if ((result = find_conflict(service, arena, facts, canonical, self_id, conflict, &found, err)) != IAM_OK)
        return result;
    return found ? conflict_error(err) : IAM_OK;
}

/* --- loading --- */

static bool deleted_too_long(const struct iam_policy_record *record, int64_t now_ms)
{
    return same_text(record->state, "deleted") && now_ms - record->modified_at_ms > IAM_POLICY_RESTORE_WINDOW_MS;
}

static enum iam_result parse_document(const struct iam_policy_record *record, json_t **document,
                                      struct iam_error *err)
{
    *document = record->document ? json_loads(record->document, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(*document)) {
        json_decref(*document);
        *document = NULL;
        return iam_access_error(err, IAM_EINTERNAL, "unable_to_process", "The stored policy %s is unreadable.",
                                record->id);
    }
    return IAM_OK;
}

/*
 * Loads policy `id` of the caller's account, with its document and facts,
 * and authorizes `action` on its target. A deleted policy past the restore
 * window is purged and reported as not found.
 */
static enum iam_result load_policy(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, const char *id, const char *action,
                                   struct iam_policy_record *out, json_t **document, struct policy_facts *facts,
                                   struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    *document = NULL;
    if (!service || !service->store || !who || !who->account_id || !who->iam_id)
        return not_set_up(err);
    if (!id || !iam_is_uuid(id))
        return policy_not_found(err);
    enum iam_result result = iam_store_policy_get(service->store, arena, who->account_id, id, out);
    if (result == IAM_ENOTFOUND)
        return policy_not_found(err);
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    if (deleted_too_long(out, iam_now_ms())) {
        if (iam_store_policy_delete(service->store, out->account_id, out->id) == IAM_OK)
            iam_access_refresh(service);
        return policy_not_found(err);
    }
    if ((result = parse_document(out, document, err)) != IAM_OK)
        return result;
    if ((result = policy_facts_read(arena, *document, facts, err)) != IAM_OK ||
        (result = authorize(service, who, action, facts, err)) != IAM_OK) {
        json_decref(*document);
        *document = NULL;
        return result == IAM_ENOTFOUND ? policy_not_found(err) : result;
    }
    return IAM_OK;
}

static enum iam_result document_text(struct iam_arena *arena, const json_t *canonical, const char **out,
                                     struct iam_error *err)
{
    char *text = json_dumps(canonical, JSON_COMPACT);
    *out = text ? iam_arena_strdup(arena, text) : NULL;
    free(text);
    return *out ? IAM_OK : no_memory(err);
}

static enum iam_result parse_body(enum iam_policy_api api, const json_t *body, json_t **canonical,
                                  struct iam_error *err)
{
    return api == IAM_POLICY_API_V1 ? iam_policy_from_v1(body, canonical, err)
                                    : iam_policy_from_v2(body, canonical, err);
}

/* Stores `updated` (a changed copy of the record whose tag is `previous_tag`) under a new tag. */
static enum iam_result save_update(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, struct iam_policy_record *updated,
                                   const char *previous_tag, struct iam_error *err)
{
    enum iam_result result = iam_entity_tag_next(arena, previous_tag, &updated->entity_tag, err);
    if (result != IAM_OK)
        return iam_access_error(err, result, "unable_to_process", "Cannot create an entity tag.");
    updated->modified_by = who->iam_id;
    updated->modified_at_ms = iam_now_ms();
    result = iam_store_policy_update(service->store, updated, previous_tag);
    if (result == IAM_ECONFLICT)
        return iam_access_error(err, IAM_ECONFLICT, "policy_conflict_error",
                                "The policy changed meanwhile; read it again and retry.");
    if (result == IAM_ENOTFOUND)
        return policy_not_found(err);
    if (result != IAM_OK)
        return iam_access_store_failure(result, err);
    iam_access_refresh(service);
    return IAM_OK;
}

static enum iam_result stale_tag(const struct iam_policy_record *current, struct iam_policy_record *conflict,
                                 struct iam_error *err)
{
    if (conflict)
        *conflict = *current;
    return iam_access_error(err, IAM_ECONFLICT, "policy_conflict_error",
                            "The If-Match entity tag does not match the policy's current version.");
}

/* --- operations --- */

enum iam_result iam_policy_create(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, enum iam_policy_api api, const json_t *body,
                                  struct iam_policy_record *out, struct iam_policy_record *conflict,
                                  struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (conflict)
        memset(conflict, 0, sizeof *conflict);
    if (!service || !service->store || !service->engine || !who || !who->iam_id || !who->account_id)
        return not_set_up(err);
    json_t *canonical = NULL;
    struct policy_facts facts;
    enum iam_result result;
    if ((result = parse_body(api, body, &canonical, err)) != IAM_OK ||
        (result = policy_facts_read(arena, canonical, &facts, err)) != IAM_OK ||
        (result = authorize(service, who, IAM_ACTION_POLICY_CREATE, &facts, err)) != IAM_OK ||
        (result = check_write(service, arena, canonical, &facts, NULL, true, conflict, err)) != IAM_OK)
        goto out;

    char id[IAM_UUID_SIZE];
    if (iam_uuid_new(id) != IAM_OK) {
        result = iam_access_error(err, IAM_ECRYPTO, "unable_to_process", "Cannot create a policy id.");
        goto out;
    }
    struct iam_policy_record record = {
        .id = iam_arena_strdup(arena, id),
        .account_id = facts.account_id,
        .type = facts.type,
        .api_version = api == IAM_POLICY_API_V1 ? "v1" : "v2",
        .subject_kind = facts.subject_kind,
        .subject_value = facts.subject_value,
        .service_name = facts.service_name,
        .state = "active",
        .created_by = who->iam_id,
        .modified_by = who->iam_id,
        .created_at_ms = iam_now_ms(),
    };
    record.modified_at_ms = record.created_at_ms;
    if (!record.id) {
        result = no_memory(err);
        goto out;
    }
    if ((result = document_text(arena, canonical, &record.document, err)) != IAM_OK)
        goto out;
    if ((result = iam_entity_tag_next(arena, NULL, &record.entity_tag, err)) != IAM_OK) {
        result = iam_access_error(err, result, "unable_to_process", "Cannot create an entity tag.");
        goto out;
    }
    result = iam_store_policy_insert(service->store, &record);
    if (result == IAM_ENOTFOUND) {
        result = invalid(err, "The resource's accountId %s is not an account you can manage policies in.",
                         facts.account_id);
        goto out;
    }
    if (result != IAM_OK) {
        result = iam_access_store_failure(result, err);
        goto out;
    }
    iam_access_refresh(service);
    *out = record;
out:
    json_decref(canonical);
    return result;
}

enum iam_result iam_policy_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                               const char *id, struct iam_policy_record *out, struct iam_error *err)
{
    json_t *document = NULL;
    struct policy_facts facts;
    enum iam_result result = load_policy(service, arena, who, id, IAM_ACTION_POLICY_READ, out, &document, &facts, err);
    json_decref(document);
    if (result != IAM_OK)
        memset(out, 0, sizeof *out);
    return result;
}

enum iam_result iam_policy_replace(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, const char *id, const char *expected_entity_tag,
                                   enum iam_policy_api api, const json_t *body, struct iam_policy_record *out,
                                   struct iam_policy_record *conflict, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (conflict)
        memset(conflict, 0, sizeof *conflict);
    if (!service || !service->engine)
        return not_set_up(err);
    struct iam_policy_record current;
    json_t *old_document = NULL, *canonical = NULL;
    struct policy_facts old_facts, facts;
    enum iam_result result =
        load_policy(service, arena, who, id, IAM_ACTION_POLICY_UPDATE, &current, &old_document, &old_facts, err);
    if (result != IAM_OK)
        return result;
    if (expected_entity_tag && !same_text(expected_entity_tag, current.entity_tag)) {
        result = stale_tag(&current, conflict, err);
        goto out;
    }
    if (same_text(current.state, "deleted")) {
        result = iam_access_error(err, IAM_ECONFLICT, "request_not_processed",
                                  "The policy is deleted; restore it (PATCH state active) before replacing it.");
        goto out;
    }
    if (api == IAM_POLICY_API_V1 && same_text(current.api_version, "v2")) {
        result = invalid(err, "This policy was created through /v2/policies; replace it there.");
        goto out;
    }
    if ((result = parse_body(api, body, &canonical, err)) != IAM_OK ||
        (result = policy_facts_read(arena, canonical, &facts, err)) != IAM_OK)
        goto out;
    if (strcmp(facts.type, current.type) != 0) {
        result = invalid(err, "The type of a policy cannot change.");
        goto out;
    }
    if (strcmp(facts.account_id, current.account_id) != 0) {
        result = invalid(err, "The accountId of a policy cannot change.");
        goto out;
    }
    if ((result = authorize(service, who, IAM_ACTION_POLICY_UPDATE, &facts, err)) != IAM_OK)
        goto out;
    bool old_locked = false;
    if ((result = check_subject(service, arena, &old_facts, &old_locked, err)) != IAM_OK && result != IAM_EINVAL)
        goto out;
    if (old_locked) {
        result = subject_locked_error(err);
        goto out;
    }
    bool new_subject = !same_text(facts.subject_kind, current.subject_kind) ||
                       !same_text(facts.subject_value, current.subject_value);
    if ((result = check_write(service, arena, canonical, &facts, current.id, new_subject, conflict, err)) != IAM_OK)
        goto out;

    struct iam_policy_record updated = current;
    updated.type = facts.type;
    updated.api_version = api == IAM_POLICY_API_V2 ? "v2" : current.api_version;
    updated.subject_kind = facts.subject_kind;
    updated.subject_value = facts.subject_value;
    updated.service_name = facts.service_name;
    if ((result = document_text(arena, canonical, &updated.document, err)) != IAM_OK ||
        (result = save_update(service, arena, who, &updated, current.entity_tag, err)) != IAM_OK)
        goto out;
    *out = updated;
out:
    json_decref(old_document);
    json_decref(canonical);
    return result;
}

enum iam_result iam_policy_set_state(struct iam_service *service, struct iam_arena *arena,
                                     const struct iam_principal *who, const char *id,
                                     const char *expected_entity_tag, const char *state,
                                     struct iam_policy_record *out, struct iam_policy_record *conflict,
                                     struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (conflict)
        memset(conflict, 0, sizeof *conflict);
    if (!service || !service->engine)
        return not_set_up(err);
    if (!state || (strcmp(state, "active") != 0 && strcmp(state, "deleted") != 0))
        return invalid(err, "The property state must be active or deleted.");
    bool restore = strcmp(state, "active") == 0;
    struct iam_policy_record current;
    json_t *document = NULL;
    struct policy_facts facts;
    enum iam_result result = load_policy(service, arena, who, id,
                                         restore ? IAM_ACTION_POLICY_UPDATE : IAM_ACTION_POLICY_DELETE, &current,
                                         &document, &facts, err);
    if (result != IAM_OK)
        return result;
    if (expected_entity_tag && !same_text(expected_entity_tag, current.entity_tag)) {
        result = stale_tag(&current, conflict, err);
        goto out;
    }
    if (same_text(current.state, state)) {
        *out = current;
        goto out;
    }
    if (restore) {
        if ((result = check_write(service, arena, document, &facts, current.id, true, conflict, err)) != IAM_OK)
            goto out;
    } else {
        bool locked = false;
        if ((result = check_subject(service, arena, &facts, &locked, err)) != IAM_OK && result != IAM_EINVAL)
            goto out;
        result = IAM_OK;
        if (locked) {
            result = subject_locked_error(err);
            goto out;
        }
    }
    struct iam_policy_record updated = current;
    updated.state = restore ? "active" : "deleted";
    if ((result = save_update(service, arena, who, &updated, current.entity_tag, err)) != IAM_OK)
        goto out;
    *out = updated;
out:
    json_decref(document);
    return result;
}

enum iam_result iam_policy_delete(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, const char *id, struct iam_error *err)
{
    struct iam_policy_record current;
    json_t *document = NULL;
    struct policy_facts facts;
    enum iam_result result =
        load_policy(service, arena, who, id, IAM_ACTION_POLICY_DELETE, &current, &document, &facts, err);
    json_decref(document);
    if (result != IAM_OK)
        return result;
    if (same_text(current.state, "deleted"))
        return policy_not_found(err);
    bool locked = false;
    if ((result = check_subject(service, arena, &facts, &locked, err)) != IAM_OK && result != IAM_EINVAL)
        return result;
    if (locked)
        return subject_locked_error(err);
    struct iam_policy_record updated = current;
    updated.state = "deleted";
    return save_update(service, arena, who, &updated, current.entity_tag, err);
}

/* --- list --- */

static enum iam_result check_query_text(const char *name, const char *value, struct iam_error *err)
{
    if (value && check_text(name, value, 256, false, err) != IAM_OK)
        return invalid(err, "The query parameter %s is not valid.", name);
    return IAM_OK;
}

static enum iam_result parse_sort(const char *sort, struct iam_policy_query *query, struct iam_error *err)
{
    static const char *const supported[] = {"id", "type", "created_at", "last_modified_at", "state", NULL};
    query->sort = NULL;
    query->order = IAM_SORT_ASC;
    if (!sort || !*sort)
        return IAM_OK;
    const char *name = sort;
    if (*name == '-') {
        query->order = IAM_SORT_DESC;
        name++;
    }
    if (strcmp(name, "href") == 0)
        name = "id";
    for (const char *const *field = supported; *field; field++) {
        if (strcmp(*field, name) == 0) {
            query->sort = *field;
            return IAM_OK;
        }
    }
    return invalid(err, "The sort field %.64s is not supported (id, type, href, created_at, last_modified_at, state, "
                        "with - for descending).",
                   name);
}

static bool tag_matches(const json_t *tags, const char *name, const char *value)
{
    size_t index;
    json_t *tag;
    json_array_foreach(tags, index, tag) {
        if ((!name || same_text(member_text(tag, "key"), name)) &&
            (!value || same_text(member_text(tag, "value"), value)))
            return true;
    }
    return false;
}

/* The filters the store does not apply. */
static bool matches_filters(const struct iam_policy_list_request *request, const json_t *document)
{
    const json_t *resource = json_object_get(document, "resource");
    const json_t *attributes = json_object_get(resource, "attributes");
    if (request->service_type && !same_text(equals_value(attributes, "serviceType"), request->service_type))
        return false;
    if (request->service_group_id &&
        !same_text(equals_value(attributes, "service_group_id"), request->service_group_id))
        return false;
    if ((request->tag_name || request->tag_value) &&
        !tag_matches(json_object_get(resource, "tags"), request->tag_name, request->tag_value))
        return false;
    return true;
}

static enum iam_result parse_start(const char *start, int64_t *offset, struct iam_error *err)
{
    *offset = 0;
    if (!start || !*start)
        return IAM_OK;
    if (strlen(start) > 10 || !digits(start, strlen(start)))
        return invalid(err, "The query parameter start is not a page token of this list.");
    char *end = NULL;
    errno = 0;
    long long value = strtoll(start, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0 || value > START_MAX)
        return invalid(err, "The query parameter start is not a page token of this list.");
    *offset = value;
    return IAM_OK;
}

static enum iam_result check_list_request(const struct iam_policy_list_request *request,
                                          struct iam_policy_query *query, int64_t *limit, struct iam_error *err)
{
    if (!request->account_id || !*request->account_id)
        return iam_access_error(err, IAM_EINVAL, "missing_required_query_parameter",
                                "The query parameter account_id is required.");
    if (!iam_is_account_id(request->account_id))
        return invalid(err, "The query parameter account_id is not a valid account ID.");
    if (request->type && strcmp(request->type, "access") != 0 && strcmp(request->type, "authorization") != 0)
        return invalid(err, "The query parameter type must be access or authorization.");
    if (request->service_type && strcmp(request->service_type, "service") != 0 &&
        strcmp(request->service_type, "platform_service") != 0)
        return invalid(err, "The query parameter service_type must be service or platform_service.");
    if (request->state && strcmp(request->state, "active") != 0 && strcmp(request->state, "deleted") != 0)
        return invalid(err, "The query parameter state must be active or deleted.");
    unsigned flags;
    enum iam_result result;
    if ((result = iam_policy_format_parse(request->format, &flags, err)) != IAM_OK ||
        (result = check_query_text("iam_id", request->iam_id, err)) != IAM_OK ||
        (result = check_query_text("access_group_id", request->access_group_id, err)) != IAM_OK ||
        (result = check_query_text("service_name", request->service_name, err)) != IAM_OK ||
        (result = check_query_text("service_group_id", request->service_group_id, err)) != IAM_OK ||
        (result = check_query_text("tag_name", request->tag_name, err)) != IAM_OK ||
        (result = check_query_text("tag_value", request->tag_value, err)) != IAM_OK ||
        (result = parse_sort(request->sort, query, err)) != IAM_OK ||
        (result = parse_start(request->start, &query->offset, err)) != IAM_OK)
        return result;
    *limit = request->limit == 0 ? IAM_POLICY_LIST_LIMIT_DEFAULT : request->limit;
    if (*limit < 1 || *limit > IAM_POLICY_LIST_LIMIT_MAX)
        return invalid(err, "The query parameter limit must be 1 to %d.", IAM_POLICY_LIST_LIMIT_MAX);
    query->account_id = request->account_id;
    query->iam_id = request->iam_id;
    query->access_group_id = request->access_group_id;
    query->type = request->type;
    query->service_name = request->service_name;
    query->state = request->state ? request->state : "active";
    query->limit = LIST_BATCH;
    return IAM_OK;
}

/* True when the caller may read `record` (IAM_OK with `*readable` set), or an error that is not a refusal. */
static enum iam_result readable(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                                const struct iam_policy_list_request *request, const struct iam_policy_record *record,
                                bool *allowed, struct iam_error *err)
{
    *allowed = false;
    json_t *document = record->document ? json_loads(record->document, JSON_REJECT_DUPLICATES, NULL) : NULL;
    struct policy_facts facts;
    struct iam_error ignored;
    iam_error_clear(&ignored);
    enum iam_result result = IAM_OK;
    if (!json_is_object(document) || !matches_filters(request, document) ||
        policy_facts_read(arena, document, &facts, &ignored) != IAM_OK)
        goto out;
    struct iam_target target;
    facts_target(&facts, &target);
    result = iam_authz_check(service, who, IAM_ACTION_POLICY_READ, &target, err);
    if (result == IAM_OK)
        *allowed = true;
    else if (result == IAM_EDENIED || result == IAM_ENOTFOUND)
        result = IAM_OK;
out:
    json_decref(document);
    return result;
}

enum iam_result iam_policy_list(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const struct iam_policy_list_request *request,
                                struct iam_policy_page *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !who->account_id || !who->iam_id || !request)
        return not_set_up(err);
    struct iam_policy_query query;
    memset(&query, 0, sizeof query);
    int64_t limit = 0;
    enum iam_result result = check_list_request(request, &query, &limit, err);
    if (result != IAM_OK)
        return result;
    out->limit = limit;
    int64_t start = query.offset;
    if (start > 0) {
        out->previous_start = iam_arena_printf(arena, "%lld", (long long)(start > limit ? start - limit : 0));
        if (!out->previous_start)
            return no_memory(err);
    }
    /* Another account's policies are no one's business: an empty list, as for a caller who may read none. */
    struct iam_target account = {.account_id = request->account_id};
    result = iam_authz_check(service, who, IAM_ACTION_POLICY_READ, &account, err);
    if (result == IAM_ENOTFOUND)
        return IAM_OK;
    if (result != IAM_OK && result != IAM_EDENIED)
        return result;
    iam_error_clear(err);

    out->items = iam_arena_alloc(arena, (size_t)limit * sizeof *out->items);
    if (!out->items)
        return no_memory(err);
    int64_t offset = start, scanned = 0, now_ms = iam_now_ms();
    bool more = false;
    while ((int64_t)out->count < limit) {
        if (scanned >= LIST_SCAN_MAX) {
            more = true;
            break;
        }
        struct iam_policy_record *items = NULL;
        size_t count = 0;
        bool has_more = false;
        query.offset = offset;
        if ((result = iam_store_policy_list(service->store, arena, &query, &items, &count, &has_more)) != IAM_OK)
            return iam_access_store_failure(result, err);
        for (size_t i = 0; i < count; i++) {
            offset++;
            scanned++;
            if (deleted_too_long(&items[i], now_ms))
                continue;
            bool allowed = false;
            if ((result = readable(service, arena, who, request, &items[i], &allowed, err)) != IAM_OK)
                return result;
            if (allowed)
                out->items[out->count++] = items[i];
            if ((int64_t)out->count == limit) {
                more = i + 1 < count || has_more;
                break;
            }
        }
        if ((int64_t)out->count == limit || !has_more || count == 0)
            break;
    }
    if (more && !(out->next_start = iam_arena_printf(arena, "%lld", (long long)offset)))
        return no_memory(err);
    iam_error_clear(err);
    return IAM_OK;
}

/* --- rendering --- */

enum iam_result iam_policy_format_parse(const char *format, unsigned *flags, struct iam_error *err)
{
    *flags = 0;
    if (!format || !*format)
        return IAM_OK;
    if (strcmp(format, "include_last_permit") == 0)
        *flags = IAM_POLICY_RENDER_LAST_PERMIT;
    else if (strcmp(format, "display") == 0)
        *flags = IAM_POLICY_RENDER_DISPLAY;
    else
        return invalid(err, "The query parameter format must be include_last_permit or display.");
    return IAM_OK;
}

static const char *public_url(struct iam_service *service, struct iam_arena *arena)
{
    const char *url = service->options.public_url ? service->options.public_url : "";
    size_t length = strlen(url);
    while (length > 0 && url[length - 1] == '/')
        length--;
    return iam_arena_strndup(arena, url, length);
}

/* The actions of a role as [{id, display_name, description}] (empty when unknown). */
static json_t *role_actions(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                            const char *service_name, const char *role_id)
{
    json_t *actions = json_array();
    json_t *source = NULL;
    json_t *owned = NULL;
    if (!actions)
        return NULL;
    if (strstr(role_id, ":customRole:")) {
        struct iam_role_record *roles = NULL;
        size_t count = 0;
        if (iam_store_role_list(service->store, arena, account_id, NULL, &roles, &count) == IAM_OK) {
            for (size_t i = 0; i < count && !owned; i++)
                if (same_text(roles[i].crn, role_id) && roles[i].actions)
                    owned = json_loads(roles[i].actions, 0, NULL);
        }
        source = owned;
    } else if (service->engine) {
        json_t *catalogue = iam_engine_roles_for_service(service->engine, service_name);
        static const char *const parts[] = {"system_roles", "service_roles"};
        for (size_t p = 0; p < 2 && !owned; p++) {
            size_t index;
            json_t *role;
            json_array_foreach(json_object_get(catalogue, parts[p]), index, role) {
                if (same_text(member_text(role, "crn"), role_id)) {
                    owned = json_incref(json_object_get(role, "actions"));
                    break;
                }
            }
        }
        json_decref(catalogue);
        source = owned;
    }
    size_t index;
    json_t *action;
    json_array_foreach(source, index, action) {
        const char *id = json_is_string(action) ? json_string_value(action) : member_text(action, "id");
        if (!id)
            continue;
        const char *display_name = json_is_object(action) ? member_text(action, "display_name") : NULL;
        const char *description = json_is_object(action) ? member_text(action, "description") : NULL;
        if (json_array_append_new(actions, json_pack("{s:s,s:s,s:s}", "id", id, "display_name",
                                                     display_name ? display_name : id, "description",
                                                     description ? description : "")) != 0)
            break;
    }
    json_decref(owned);
    return actions;
}

/* {role_id, display_name, description[, actions]} for a granted role. */
static json_t *role_view(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                         const char *service_name, const char *role_id, bool with_actions)
{
    const char *display_name = NULL, *description = NULL;
    if (!service->engine || iam_engine_role_resolve(service->engine, account_id, service_name, role_id,
                                                    &display_name, &description) != IAM_OK) {
        const char *colon = strrchr(role_id, ':');
        display_name = colon ? colon + 1 : role_id;
        description = "";
    }
    json_t *view = json_pack("{s:s,s:s,s:s}", "role_id", role_id, "display_name", display_name ? display_name : "",
                             "description", description ? description : "");
    if (view && with_actions &&
        json_object_set_new(view, "actions", role_actions(service, arena, account_id, service_name, role_id)) != 0) {
        json_decref(view);
        return NULL;
    }
    return view;
}

/* Replaces each {role_id} of `roles` (an array inside the body) by its enriched view. */
static bool enrich_roles(struct iam_service *service, struct iam_arena *arena, const struct iam_policy_record *record,
                         json_t *roles, bool with_actions)
{
    size_t index;
    json_t *role;
    json_array_foreach(roles, index, role) {
        const char *role_id = member_text(role, "role_id");
        json_t *view = role_id ? role_view(service, arena, record->account_id, record->service_name, role_id,
                                           with_actions)
                               : NULL;
        if (!view || json_array_set_new(roles, index, view) != 0)
            return false;
    }
    return true;
}

static json_t *placeholder(const struct iam_policy_record *record)
{
    return json_pack("{s:s,s:s,s:[{s:[{s:s,s:s}]}],s:[{s:s,s:s,s:s}],s:[{s:[{s:s,s:s,s:s}]}]}", "type",
                     record->type ? record->type : "access", "description", placeholder_description, "subjects",
                     "attributes", "name", "iam_id", "value", "unsupported version", "roles", "role_id",
                     IAM_POLICY_PLACEHOLDER_ROLE, "display_name", "UnsupportedVersion", "description", "",
                     "resources", "attributes", "name", "accountId", "value", record->account_id, "operator",
                     "stringEquals");
}

json_t *iam_policy_render(struct iam_service *service, struct iam_arena *arena, const struct iam_policy_record *record,
                          enum iam_policy_api api, unsigned flags)
{
    json_t *document = record->document ? json_loads(record->document, JSON_REJECT_DUPLICATES, NULL) : NULL;
    json_t *body = NULL;
    const char *base = public_url(service, arena);
    const char *version = "v2";
    bool display = (flags & IAM_POLICY_RENDER_DISPLAY) != 0;
    if (!base)
        goto fail;
    if (api == IAM_POLICY_API_V1) {
        if (same_text(record->api_version, "v2") || !document || iam_policy_to_v1(document, &body) != IAM_OK) {
            body = placeholder(record);
        } else {
            version = "v1";
            if (!enrich_roles(service, arena, record, json_object_get(body, "roles"), display))
                goto fail;
        }
    } else {
        body = document ? iam_policy_to_v2(document) : NULL;
        if (body && display &&
            !enrich_roles(service, arena, record, (json_t *)document_roles(body), true))
            goto fail;
    }
    if (!body)
        goto fail;
    const char *href = iam_arena_printf(arena, "%s/%s/policies/%s", base, version, record->id);
    if (!href || json_object_set_new(body, "id", json_string(record->id)) != 0 ||
        json_object_set_new(body, "href", json_string(href)) != 0 ||
        json_object_set_new(body, "created_at", time_json(record->created_at_ms)) != 0 ||
        json_object_set_new(body, "created_by_id", json_string(record->created_by ? record->created_by : "")) != 0 ||
        json_object_set_new(body, "last_modified_at", time_json(record->modified_at_ms)) != 0 ||
        json_object_set_new(body, "last_modified_by_id",
                            json_string(record->modified_by ? record->modified_by : "")) != 0 ||
        json_object_set_new(body, "state", json_string(record->state ? record->state : "active")) != 0)
        goto fail;
    if (flags & IAM_POLICY_RENDER_LAST_PERMIT) {
        if ((record->last_permit_at > 0 &&
             json_object_set_new(body, "last_permit_at", time_json(record->last_permit_at * 1000)) != 0) ||
            json_object_set_new(body, "last_permit_frequency", json_integer(record->last_permit_frequency)) != 0)
            goto fail;
    }
    json_decref(document);
    return body;
fail:
    json_decref(document);
    json_decref(body);
    return NULL;
}

/* --- custom role removal --- */

struct role_user {
    struct iam_policy_record record;
    struct role_user *next;
};

/* Collects every policy of the account in `state` whose document grants `role_crn`. */
static enum iam_result collect_role_users(struct iam_service *service, struct iam_arena *arena,
                                          const char *account_id, const char *state, const char *role_crn,
                                          struct role_user **list, struct iam_error *err)
{
    struct iam_policy_query query = {.account_id = account_id, .state = state, .limit = LIST_BATCH};
    for (;;) {
        struct iam_policy_record *items = NULL;
        size_t count = 0;
        bool has_more = false;
        enum iam_result result = iam_store_policy_list(service->store, arena, &query, &items, &count, &has_more);
        if (result != IAM_OK)
            return iam_access_store_failure(result, err);
        for (size_t i = 0; i < count; i++) {
            if (!items[i].document || !strstr(items[i].document, role_crn))
                continue;
            struct role_user *user = iam_arena_alloc(arena, sizeof *user);
            if (!user)
                return no_memory(err);
            user->record = items[i];
            user->next = *list;
            *list = user;
        }
        if (!has_more || count == 0)
            return IAM_OK;
        query.offset += (int64_t)count;
    }
}

enum iam_result iam_policy_remove_role(struct iam_service *service, struct iam_arena *arena,
                                       const struct iam_principal *who, const char *account_id, const char *role_crn,
                                       size_t *changed, struct iam_error *err)
{
    *changed = 0;
    if (!service || !service->store || !who || !account_id || !role_crn)
        return not_set_up(err);
    struct role_user *users = NULL;
    enum iam_result result;
    if ((result = collect_role_users(service, arena, account_id, "active", role_crn, &users, err)) != IAM_OK ||
        (result = collect_role_users(service, arena, account_id, "deleted", role_crn, &users, err)) != IAM_OK)
        return result;
    for (struct role_user *user = users; user; user = user->next) {
        json_t *document = NULL;
        if ((result = parse_document(&user->record, &document, err)) != IAM_OK)
            return result;
        json_t *roles = (json_t *)document_roles(document);
        bool removed = false;
        for (size_t i = json_array_size(roles); i-- > 0;) {
            if (same_text(member_text(json_array_get(roles, i), "role_id"), role_crn)) {
                json_array_remove(roles, i);
                removed = true;
            }
        }
        struct iam_policy_record updated = user->record;
        if (removed && json_array_size(roles) == 0)
            updated.state = "deleted";
        result = removed ? document_text(arena, document, &updated.document, err) : IAM_OK;
        json_decref(document);
        if (result != IAM_OK)
            return result;
        if (!removed)
            continue;
        if ((result = save_update(service, arena, who, &updated, user->record.entity_tag, err)) != IAM_OK)
            return result;
        (*changed)++;
    }
    return IAM_OK;
}
