/*
 * activity.c: the inactive-identities report (rules in activity.h):
 * argument checks, authorization, the store's scan rendered as IBM's Report
 * JSON, and the stored reports.
 */
#include "iam/activity.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "iam/apikeys.h"
#include "iam/usage.h"
#include "store/store_activity.h"

#define REPORT_KEEP_SECONDS 86400 /* IBM: reports older than a day are deleted when a new one is made */

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
}

static enum iam_result authorize(struct iam_service *service, const struct iam_principal *who, const char *action,
                                 const char *account_id, struct iam_error *err)
{
    if (!service || !service->store || !who || !who->account_id || !who->iam_id)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The activity service is not set up.");
    if (!account_id || !*account_id)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
    struct iam_target target = {.account_id = account_id};
    enum iam_result result = iam_authz_check(service, who, action, &target, err);
    if (result == IAM_ENOTFOUND)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
    return result;
}

/* Hours from "720" or "720h" (no sign, no spaces, no leading zero), 1..IAM_ACTIVITY_DURATION_MAX_HOURS. */
static enum iam_result parse_duration(const char *text, int64_t *hours, struct iam_error *err)
{
    if (!text) {
        *hours = IAM_ACTIVITY_DURATION_DEFAULT_HOURS;
        return IAM_OK;
    }
    int64_t value = 0;
    size_t digits = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
        value = value * 10 + (*p - '0');
    if (*p == 'h')
        p++;
    if (digits == 0 || text[0] == '0' || *p != '\0' || value > IAM_ACTIVITY_DURATION_MAX_HOURS)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0110E",
                             "The query parameter duration must be a number of hours from 1 to %d, such as 720 or "
                             "720h.",
                             IAM_ACTIVITY_DURATION_MAX_HOURS);
    *hours = value;
    return IAM_OK;
}

/* --- rendering IBM's Report --- */

/* Adds "last_authn" to `object` when the identity ever authenticated. */
static bool add_last_authn(json_t *object, int64_t last_authn)
{
    if (!object)
        return false;
    if (last_authn <= 0)
        return true;
    char text[IAM_TIME_TEXT_SIZE];
    iam_time_format_ibm(last_authn, text);
    return json_object_set_new(object, "last_authn", json_string(text)) == 0;
}

/* Appends `item` (stolen) to `array`; false when either is NULL or appending fails. */
static bool append(json_t *array, json_t *item)
{
    if (!item)
        return false;
    return json_array_append_new(array, item) == 0;
}

/* "given family", or whichever is set, or the login (as tokens name users). */
static const char *user_name(struct iam_arena *arena, const char *given, const char *family, const char *login)
{
    if (given && family)
        return iam_arena_printf(arena, "%s %s", given, family);
    return given ? given : family ? family : login;
}

static json_t *users_json(struct iam_arena *arena, const struct iam_activity_inactive *inactive)
{
    json_t *array = json_array();
    for (size_t i = 0; array && i < inactive->user_count; i++) {
        const struct iam_activity_user *user = &inactive->users[i];
        json_t *item = json_pack("{s:s,s:s*,s:s,s:s*}", "iam_id", user->iam_id, "name",
                                 user_name(arena, user->given_name, user->family_name, user->login), "username",
                                 user->login ? user->login : "", "email", user->email);
        if (!add_last_authn(item, user->last_authn) || !append(array, item)) {
            json_decref(item);
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

static json_t *service_ids_json(const struct iam_activity_inactive *inactive)
{
    json_t *array = json_array();
    for (size_t i = 0; array && i < inactive->service_id_count; i++) {
        const struct iam_activity_service_id *service_id = &inactive->service_ids[i];
        json_t *item = json_pack("{s:s,s:s*}", "id", service_id->id, "name", service_id->name);
        if (!add_last_authn(item, service_id->last_authn) || !append(array, item)) {
            json_decref(item);
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

/* IBM's ApikeyActivity: type "serviceid" with serviceid{id,name}, or "user" with user{iam_id,name,username,email}. */
static json_t *apikey_json(struct iam_arena *arena, const struct iam_activity_apikey *key)
{
    bool service_id = iam_is_service_id_iam_id(key->iam_id);
    json_t *owner = service_id ? json_pack("{s:s*,s:s*}", "id", key->service_id_id, "name", key->service_id_name)
                               : json_pack("{s:s,s:s*,s:s*,s:s*}", "iam_id", key->iam_id, "name",
                                           user_name(arena, key->user_given_name, key->user_family_name,
                                                     key->user_login),
                                           "username", key->user_login, "email", key->user_email);
    json_t *item = json_pack("{s:s,s:s*,s:s,s:o*}", "id", key->id, "name", key->name, "type",
                             service_id ? "serviceid" : "user", service_id ? "serviceid" : "user", owner);
    if (!add_last_authn(item, key->last_authn)) {
        json_decref(item);
        return NULL;
    }
    return item;
}

static json_t *apikeys_json(struct iam_arena *arena, const struct iam_activity_inactive *inactive)
{
    json_t *array = json_array();
    for (size_t i = 0; array && i < inactive->apikey_count; i++) {
        if (!append(array, apikey_json(arena, &inactive->apikeys[i]))) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

/* The Report's JSON text (arena), or NULL when out of memory. */
static const char *report_text(struct iam_arena *arena, const char *created_by, const char *reference, int64_t hours,
                               int64_t start, int64_t end, const struct iam_activity_inactive *inactive)
{
    char duration[24], start_text[IAM_TIME_TEXT_SIZE], end_text[IAM_TIME_TEXT_SIZE];
    snprintf(duration, sizeof duration, "%lld", (long long)hours);
    iam_time_format_ibm(start, start_text);
    iam_time_format_ibm(end, end_text);
    json_t *report = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:[]}", "created_by", created_by, "reference",
                               reference, "report_duration", duration, "report_start_time", start_text,
                               "report_end_time", end_text, "users", users_json(arena, inactive), "apikeys",
                               apikeys_json(arena, inactive), "serviceids", service_ids_json(inactive), "profiles");
    if (!report)
        return NULL;
    char *dumped = json_dumps(report, JSON_COMPACT);
    json_decref(report);
    if (!dumped)
        return NULL;
    const char *text = iam_arena_strdup(arena, dumped);
    free(dumped);
    return text;
}

/* --- the operations --- */

enum iam_result iam_activity_report_create(struct iam_service *service, struct iam_arena *arena,
                                           const struct iam_principal *who, const char *account_id, const char *type,
                                           const char *duration, const char **reference, struct iam_error *err)
{
    *reference = NULL;
    enum iam_result result = authorize(service, who, IAM_ACTION_ACTIVITY_REPORT_CREATE, account_id, err);
    if (result != IAM_OK)
        return result;
    if (type && strcmp(type, "inactive") != 0)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "The query parameter type must be inactive.");
    int64_t hours = 0;
    if ((result = parse_duration(duration, &hours, err)) != IAM_OK)
        return result;
    /* This node's uses not yet written would otherwise look like inactivity. */
    if (iam_usage_flush(service->usage) != IAM_OK)
        iam_log(IAM_LOG_WARN, "activity_report", "pending usage counters could not be written first");
    int64_t end = iam_now();
    int64_t start = end - hours * 3600;
    struct iam_activity_inactive inactive;
    result = iam_store_activity_inactive(service->store, arena, account_id, start, &inactive);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    char uuid[IAM_UUID_SIZE];
    if (iam_uuid_new(uuid) != IAM_OK)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot draw a report reference.");
    const char *name = iam_arena_strdup(arena, uuid);
    const char *text = name ? report_text(arena, who->iam_id, name, hours, start, end, &inactive) : NULL;
    if (!text)
        return no_memory(err);
    struct iam_activity_report_record record = {
        .account_id = account_id, .reference = name, .created_by = who->iam_id, .created_at = end, .report = text};
    result = iam_store_activity_report_insert(service->store, &record, end - REPORT_KEEP_SECONDS,
                                              IAM_ACTIVITY_REPORTS_KEPT);
    if (result == IAM_ENOTFOUND)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    *reference = name;
    return IAM_OK;
}

enum iam_result iam_activity_report_get(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *account_id,
                                        const char *reference, const char **report, struct iam_error *err)
{
    *report = NULL;
    enum iam_result result = authorize(service, who, IAM_ACTION_ACTIVITY_REPORT_READ, account_id, err);
    if (result != IAM_OK)
        return result;
    if (!reference || !*reference || strlen(reference) > IAM_ACTIVITY_REFERENCE_MAX)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0112E", "Report not found.");
    struct iam_activity_report_record record;
    result = iam_store_activity_report_get(service->store, arena, account_id,
                                           strcmp(reference, "latest") == 0 ? NULL : reference, &record);
    if (result == IAM_ENOTFOUND)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0112E", "Report not found.");
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    *report = record.report;
    return IAM_OK;
}
