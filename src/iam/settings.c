/*
 * settings.c: account identity settings (settings.h): the table of settings
 * with their defaults and bounds, validation of updates, merging, and the
 * stored form.
 *
 * The store keeps one JSON text per account:
 *   {"settings": {<every setting>}, "history": [<newest SETTINGS_HISTORY_MAX changes>]}
 * History lives in that text because the store's settings interface takes no
 * history record (iam_store_settings_put).
 *
 * Message codes set here: BXNIM0105E account not found, BXNIM0109E invalid
 * property, BXNIM0500E internal, BXNIM0501E stale entity tag (plus
 * BXNIM0503E from iam_identity_store_failure).
 */
#include "iam/settings.h"

#include <stdlib.h>
#include <string.h>

#include "common/time.h"
#include "iam/apikeys.h"
#include "store/store.h"

#define SETTINGS_HISTORY_MAX 50
#define SETTINGS_DEFAULT_TAG "0-00000000000000000000000000000000"
#define ALLOWED_IPS_MAX 4096
#define USER_MFA_MAX 1000
#define USER_DOMAINS_MAX 100
#define PATTERNS_MAX 100
#define PATTERN_LENGTH_MAX 255
#define REALM_LENGTH_MAX 255

enum setting_kind {
    SETTING_CHOICE,     /* one of `choices` */
    SETTING_SECONDS,    /* "NOT_SET" or a decimal string in [min, max] */
    SETTING_IP_LIST,    /* addresses, subnets and ranges, comma separated */
    SETTING_USER_MFA,   /* [{iam_id, mfa}] */
    SETTING_USER_DOMAINS /* [{realm_id, invitation_email_allow_patterns?, restrict_invitation?}] */
};

struct setting {
    const char *name;
    enum setting_kind kind;
    const char *default_value; /* for the string kinds; the array kinds default to [] */
    const char *const *choices;
    long min, max;
};

static const char *const restrict_choices[] = {"RESTRICTED", "NOT_RESTRICTED", "NOT_SET", NULL};
static const char *const visibility_choices[] = {"RESTRICTED", "NOT_RESTRICTED", NULL};
static const char *const mfa_choices[] = {"NONE",   "NONE_NO_ROPC", "TOTP",   "TOTP4ALL",
                                          "LEVEL1", "LEVEL2",       "LEVEL3", NULL};

/* Every setting: name, kind, default (NULL: []), choices and bounds. One list feeds both tables below. */
#define SETTINGS_LIST(X)                                                                              \
    X("restrict_create_service_id", SETTING_CHOICE, "NOT_SET", restrict_choices, 0, 0)                \
    X("restrict_create_platform_apikey", SETTING_CHOICE, "NOT_SET", restrict_choices, 0, 0)           \
    X("allowed_ip_addresses", SETTING_IP_LIST, "", NULL, 0, 0)                                        \
    X("mfa", SETTING_CHOICE, "NONE", mfa_choices, 0, 0)                                               \
    X("user_mfa", SETTING_USER_MFA, NULL, NULL, 0, 0)                                                 \
    X("session_expiration_in_seconds", SETTING_SECONDS, "86400", NULL, 900, 86400)                    \
    X("session_invalidation_in_seconds", SETTING_SECONDS, "7200", NULL, 900, 7200)                    \
    X("max_sessions_per_identity", SETTING_SECONDS, "NOT_SET", NULL, 1, 1000000)                      \
    X("system_access_token_expiration_in_seconds", SETTING_SECONDS, "3600", NULL, 900, 3600)          \
    X("system_refresh_token_expiration_in_seconds", SETTING_SECONDS, "259200", NULL, 900, 259200)     \
    X("restrict_user_list_visibility", SETTING_CHOICE, "NOT_RESTRICTED", visibility_choices, 0, 0)    \
    X("restrict_user_domains", SETTING_USER_DOMAINS, NULL, NULL, 0, 0)

#define SETTING_ENTRY(name, kind, default_value, choices, min, max) {name, kind, default_value, choices, min, max},
#define SETTING_NAME(name, kind, default_value, choices, min, max) name,

static const struct setting settings_table[] = {SETTINGS_LIST(SETTING_ENTRY)};
#define SETTINGS_COUNT (sizeof settings_table / sizeof settings_table[0])

const char *const iam_settings_fields[] = {SETTINGS_LIST(SETTING_NAME) NULL};

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
}

static enum iam_result invalid(struct iam_error *err, const char *name, const char *what)
{
    return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property %s %s.", name, what);
}

static const struct setting *find_setting(const char *name)
{
    for (size_t i = 0; i < SETTINGS_COUNT; i++)
        if (strcmp(settings_table[i].name, name) == 0)
            return &settings_table[i];
    return NULL;
}

static bool listed(const char *const *choices, const char *text)
{
    for (; *choices; choices++)
        if (strcmp(*choices, text) == 0)
            return true;
    return false;
}

/* --- validation: each returns a new, normalised value in `*out` --- */

static enum iam_result check_seconds(const struct setting *setting, const char *text, struct iam_error *err)
{
    if (strcmp(text, "NOT_SET") == 0)
        return IAM_OK;
    size_t length = strlen(text);
    bool valid = length > 0 && length <= 9 && !(length > 1 && text[0] == '0');
    long value = 0;
    for (size_t i = 0; valid && i < length; i++) {
        valid = text[i] >= '0' && text[i] <= '9';
        value = value * 10 + (text[i] - '0');
    }
    if (!valid || value < setting->min || value > setting->max)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E",
                             "The property %s must be NOT_SET or a number from %ld to %ld.", setting->name,
                             setting->min, setting->max);
    return IAM_OK;
}

static enum iam_result check_ip_list(const struct setting *setting, const char *text, struct iam_error *err)
{
    size_t length = strlen(text);
    if (length > ALLOWED_IPS_MAX)
        return invalid(err, setting->name, "is too long");
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
                  c == ':' || c == '/' || c == ',' || c == '-' || c == ' ';
        if (!ok)
            return invalid(err, setting->name, "may contain only IP addresses, subnets and ranges, comma separated");
    }
    return IAM_OK;
}

static enum iam_result check_user_mfa(const struct setting *setting, const json_t *value, json_t **out,
                                      struct iam_error *err)
{
    if (!json_is_array(value) || json_array_size(value) > USER_MFA_MAX)
        return invalid(err, setting->name, "must be a list of at most 1000 {iam_id, mfa} objects");
    json_t *list = json_array();
    if (!list)
        return no_memory(err);
    size_t index;
    json_t *entry;
    json_array_foreach(value, index, entry) {
        json_t *iam_id = json_object_get(entry, "iam_id"), *mfa = json_object_get(entry, "mfa");
        if (!json_is_object(entry) || json_object_size(entry) != 2 || !json_is_string(iam_id) || !json_is_string(mfa) ||
            iam_text_check("user_mfa.iam_id", json_string_value(iam_id), 63, false, err) != IAM_OK ||
            !listed(mfa_choices, json_string_value(mfa))) {
            json_decref(list);
            return invalid(err, setting->name, "entries must be {iam_id, mfa} with a known mfa value");
        }
        if (json_array_append_new(list, json_pack("{s:O,s:O}", "iam_id", iam_id, "mfa", mfa)) != 0) {
            json_decref(list);
            return no_memory(err);
        }
    }
    *out = list;
    return IAM_OK;
}

/* One restrict_user_domains entry, copied with only the known members. */
static json_t *user_domain_copy(const json_t *entry, bool *well_formed)
{
    *well_formed = false;
    if (!json_is_object(entry))
        return NULL;
    const json_t *realm = json_object_get(entry, "realm_id");
    const json_t *patterns = json_object_get(entry, "invitation_email_allow_patterns");
    const json_t *restrict_invitation = json_object_get(entry, "restrict_invitation");
    size_t members = 1 + (patterns != NULL) + (restrict_invitation != NULL);
    if (json_object_size(entry) != members || !json_is_string(realm) ||
        iam_text_check("realm_id", json_string_value(realm), REALM_LENGTH_MAX, false, NULL) != IAM_OK)
        return NULL;
    if (restrict_invitation && !json_is_boolean(restrict_invitation))
        return NULL;
    if (patterns) {
        if (!json_is_array(patterns) || json_array_size(patterns) > PATTERNS_MAX)
            return NULL;
        size_t index;
        json_t *pattern;
        json_array_foreach(patterns, index, pattern) {
            if (!json_is_string(pattern) ||
                iam_text_check("pattern", json_string_value(pattern), PATTERN_LENGTH_MAX, false, NULL) != IAM_OK)
                return NULL;
        }
    }
    *well_formed = true;
    return json_deep_copy(entry);
}

static enum iam_result check_user_domains(const struct setting *setting, const json_t *value, json_t **out,
                                          struct iam_error *err)
{
    if (!json_is_array(value) || json_array_size(value) > USER_DOMAINS_MAX)
        return invalid(err, setting->name, "must be a list of at most 100 realm restrictions");
    json_t *list = json_array();
    if (!list)
        return no_memory(err);
    size_t index;
    json_t *entry;
    json_array_foreach(value, index, entry) {
        bool well_formed;
        json_t *copy = user_domain_copy(entry, &well_formed);
        if (!well_formed || !copy) {
            json_decref(copy);
            json_decref(list);
            return well_formed ? no_memory(err)
                               : invalid(err, setting->name,
                                         "entries must be {realm_id, invitation_email_allow_patterns, "
                                         "restrict_invitation}");
        }
        if (json_array_append_new(list, copy) != 0) {
            json_decref(list);
            return no_memory(err);
        }
    }
    *out = list;
    return IAM_OK;
}

/* Validates one changed setting; `*out` is a new reference to the value to keep. */
static enum iam_result check_setting(const struct setting *setting, const json_t *value, json_t **out,
                                     struct iam_error *err)
{
    *out = NULL;
    enum iam_result result;
    switch (setting->kind) {
    case SETTING_USER_MFA: return check_user_mfa(setting, value, out, err);
    case SETTING_USER_DOMAINS: return check_user_domains(setting, value, out, err);
    case SETTING_CHOICE:
    case SETTING_SECONDS:
    case SETTING_IP_LIST: break;
    }
    if (!json_is_string(value))
        return invalid(err, setting->name, "must be a string");
    const char *text = json_string_value(value);
    if (setting->kind == SETTING_CHOICE && !listed(setting->choices, text))
        return invalid(err, setting->name, "has a value that is not allowed");
    if (setting->kind == SETTING_SECONDS && (result = check_seconds(setting, text, err)) != IAM_OK)
        return result;
    if (setting->kind == SETTING_IP_LIST && (result = check_ip_list(setting, text, err)) != IAM_OK)
        return result;
    *out = json_string(text);
    return *out ? IAM_OK : no_memory(err);
}

/* --- stored form --- */

struct loaded {
    const char *stored_tag; /* NULL when the account never stored settings */
    const char *entity_tag;
    json_t *settings;       /* every setting */
    json_t *history;        /* array of stored history objects */
};

static void loaded_release(struct loaded *loaded)
{
    json_decref(loaded->settings);
    json_decref(loaded->history);
    loaded->settings = NULL;
    loaded->history = NULL;
}

static json_t *default_value(const struct setting *setting)
{
    return setting->default_value ? json_string(setting->default_value) : json_array();
}

static enum iam_result load(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                            struct loaded *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    struct iam_settings_record record;
    json_t *stored = NULL;
    enum iam_result result = iam_store_settings_get(service->store, arena, account_id, &record);
    if (result == IAM_OK) {
        out->stored_tag = record.entity_tag;
        stored = record.settings ? json_loads(record.settings, JSON_REJECT_DUPLICATES, NULL) : NULL;
    } else if (result != IAM_ENOTFOUND) {
        return iam_identity_store_failure(result, err);
    }
    out->entity_tag = out->stored_tag ? out->stored_tag : SETTINGS_DEFAULT_TAG;
    out->settings = json_object();
    json_t *history = json_object_get(stored, "history");
    out->history = json_is_array(history) ? json_incref(history) : json_array();
    if (!out->settings || !out->history)
        goto nomem;
    const json_t *saved = json_object_get(stored, "settings");
    for (size_t i = 0; i < SETTINGS_COUNT; i++) {
        const struct setting *setting = &settings_table[i];
        json_t *value = json_object_get(saved, setting->name);
        bool usable = value && (setting->default_value ? json_is_string(value) : json_is_array(value));
        if (json_object_set_new(out->settings, setting->name, usable ? json_incref(value) : default_value(setting)) !=
            0)
            goto nomem;
    }
    json_decref(stored);
    return IAM_OK;
nomem:
    json_decref(stored);
    loaded_release(out);
    return no_memory(err);
}

enum iam_result iam_settings_value(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                   const char *name, const char **value)
{
    *value = NULL;
    const struct setting *setting = find_setting(name);
    if (!setting || !setting->default_value)
        return IAM_EINVAL;
    struct loaded loaded;
    struct iam_error err;
    enum iam_result result = load(service, arena, account_id, &loaded, &err);
    if (result != IAM_OK)
        return result;
    *value = iam_arena_strdup(arena, json_string_value(json_object_get(loaded.settings, name)));
    loaded_release(&loaded);
    return *value ? IAM_OK : IAM_ENOMEM;
}

/* The stored history objects as records (arena memory). */
static enum iam_result history_records(struct iam_arena *arena, const char *account_id, const json_t *history,
                                       struct iam_settings_view *view, struct iam_error *err)
{
    size_t count = json_array_size(history);
    if (count == 0)
        return IAM_OK;
    struct iam_history_record *records = iam_arena_alloc(arena, count * sizeof *records);
    if (!records)
        return no_memory(err);
    size_t index;
    json_t *item;
    json_array_foreach(history, index, item) {
        char *params = json_dumps(json_object_get(item, "params"), JSON_COMPACT | JSON_ENCODE_ANY);
        records[index] = (struct iam_history_record){
            .entity_id = account_id,
            .timestamp = json_integer_value(json_object_get(item, "timestamp")),
            .iam_id = iam_arena_strdup(arena, json_string_value(json_object_get(item, "iam_id"))),
            .iam_id_account = iam_arena_strdup(arena, json_string_value(json_object_get(item, "iam_id_account"))),
            .action = iam_arena_strdup(arena, json_string_value(json_object_get(item, "action"))),
            .params = iam_arena_strdup(arena, params ? params : "[]"),
            .message = iam_arena_strdup(arena, json_string_value(json_object_get(item, "message"))),
        };
        free(params);
        if (!records[index].params)
            return no_memory(err);
    }
    view->history = records;
    view->history_count = count;
    return IAM_OK;
}

static json_t *history_object(const struct iam_history_record *record)
{
    json_t *params = json_loads(record->params, 0, NULL);
    return json_pack("{s:I,s:s,s:s,s:s,s:o,s:s}", "timestamp", (json_int_t)record->timestamp, "iam_id",
                     record->iam_id, "iam_id_account", record->iam_id_account, "action", record->action, "params",
                     params ? params : json_array(), "message", record->message);
}

static enum iam_result authorize(struct iam_service *service, const struct iam_principal *who, const char *action,
                                 const char *account_id, struct iam_error *err)
{
    if (!service || !service->store || !who || !who->account_id || !who->iam_id)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The settings service is not set up.");
    if (!account_id || !*account_id)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
    struct iam_target target = {.account_id = account_id};
    enum iam_result result = iam_authz_check(service, who, action, &target, err);
    if (result == IAM_ENOTFOUND)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
    return result;
}

/* Moves the loaded settings into `view`. */
static enum iam_result fill_view(struct iam_arena *arena, const char *account_id, struct loaded *loaded,
                                 bool include_history, struct iam_settings_view *view, struct iam_error *err)
{
    memset(view, 0, sizeof *view);
    view->account_id = iam_arena_strdup(arena, account_id);
    view->entity_tag = iam_arena_strdup(arena, loaded->entity_tag);
    if (!view->account_id || !view->entity_tag)
        return no_memory(err);
    if (include_history) {
        enum iam_result result = history_records(arena, view->account_id, loaded->history, view, err);
        if (result != IAM_OK)
            return result;
    }
    view->settings = loaded->settings;
    loaded->settings = NULL;
    return IAM_OK;
}

enum iam_result iam_settings_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                                 const char *account_id, bool include_history, struct iam_settings_view *out,
                                 struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    enum iam_result result = authorize(service, who, IAM_ACTION_SETTINGS_READ, account_id, err);
    if (result != IAM_OK)
        return result;
    struct loaded loaded;
    if ((result = load(service, arena, account_id, &loaded, err)) != IAM_OK)
        return result;
    result = fill_view(arena, account_id, &loaded, include_history, out, err);
    loaded_release(&loaded);
    return result;
}

/* Merges restrict_user_domains entries by realm_id into `current` (an entry with only realm_id removes it). */
static enum iam_result merge_user_domains(json_t *current, const json_t *changes)
{
    size_t index;
    json_t *change;
    json_array_foreach(changes, index, change) {
        const char *realm = json_string_value(json_object_get(change, "realm_id"));
        for (size_t i = json_array_size(current); i-- > 0;) {
            const char *existing = json_string_value(json_object_get(json_array_get(current, i), "realm_id"));
            if (existing && strcmp(existing, realm) == 0)
                json_array_remove(current, i);
        }
        if (json_object_size(change) > 1 && json_array_append(current, change) != 0)
            return IAM_ENOMEM;
    }
    return IAM_OK;
}

enum iam_result iam_settings_update(struct iam_service *service, struct iam_arena *arena,
                                    const struct iam_principal *who, const char *account_id,
                                    const char *expected_entity_tag, const json_t *changes,
                                    struct iam_settings_view *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    enum iam_result result = authorize(service, who, IAM_ACTION_SETTINGS_UPDATE, account_id, err);
    if (result != IAM_OK)
        return result;
    if (!json_is_object(changes))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The request body must be a JSON object.");

    json_t *checked = json_object();
    struct loaded loaded = {0};
    char *text = NULL;
    if (!checked)
        return no_memory(err);
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)changes, name, value) {
        const struct setting *setting = find_setting(name);
        json_t *normalised = NULL;
        if (!setting) {
            result = iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "Unknown property: %.64s.", name);
            goto out;
        }
        if ((result = check_setting(setting, value, &normalised, err)) != IAM_OK)
            goto out;
        if (json_object_set_new(checked, name, normalised) != 0) {
            result = no_memory(err);
            goto out;
        }
    }
    if ((result = load(service, arena, account_id, &loaded, err)) != IAM_OK)
        goto out;
    if (expected_entity_tag && strcmp(expected_entity_tag, loaded.entity_tag) != 0) {
        result = iam_error_set(err, IAM_ECONFLICT, "BXNIM0501E",
                               "The entity tag does not match the current account settings; read them again.");
        goto out;
    }

    const char *changed[SETTINGS_COUNT + 1];
    size_t changed_count = 0;
    json_object_foreach(checked, name, value) {
        json_t *current = json_object_get(loaded.settings, name);
        json_t *merged = json_deep_copy(current);
        if (!merged) {
            result = no_memory(err);
            goto out;
        }
        if (find_setting(name)->kind == SETTING_USER_DOMAINS) {
            if (merge_user_domains(merged, value) != IAM_OK) {
                json_decref(merged);
                result = no_memory(err);
                goto out;
            }
        } else {
            json_decref(merged);
            merged = json_incref(value);
        }
        if (json_equal(merged, current)) {
            json_decref(merged);
            continue;
        }
        if (json_object_set_new(loaded.settings, name, merged) != 0) {
            result = no_memory(err);
            goto out;
        }
        changed[changed_count++] = find_setting(name)->name;
    }
    changed[changed_count] = NULL;

    if (changed_count > 0) {
        struct iam_history_record history;
        const char *tag;
        if ((result = iam_entity_tag_next(arena, loaded.stored_tag, &tag, err)) != IAM_OK ||
            (result = iam_history_make(arena, who, account_id, "UpdateAccountSettings", "Account settings updated.",
                                       changed, &history, err)) != IAM_OK)
            goto out;
        if (json_array_append_new(loaded.history, history_object(&history)) != 0) {
            result = no_memory(err);
            goto out;
        }
        while (json_array_size(loaded.history) > SETTINGS_HISTORY_MAX)
            json_array_remove(loaded.history, 0);
        json_t *stored = json_pack("{s:O,s:O}", "settings", loaded.settings, "history", loaded.history);
        text = stored ? json_dumps(stored, JSON_COMPACT) : NULL;
        json_decref(stored);
        if (!text) {
            result = no_memory(err);
            goto out;
        }
        struct iam_settings_record record = {
            .account_id = account_id, .settings = text, .entity_tag = tag, .modified_at = iam_now()};
        result = iam_store_settings_put(service->store, &record, loaded.stored_tag);
        if (result == IAM_ECONFLICT) {
            result = iam_error_set(err, IAM_ECONFLICT, "BXNIM0501E",
                                   "The account settings were changed by another request; read them again and retry.");
            goto out;
        }
        if (result != IAM_OK) {
            result = iam_identity_store_failure(result, err);
            goto out;
        }
        loaded.entity_tag = tag;
    }
    result = fill_view(arena, account_id, &loaded, false, out, err);
out:
    free(text);
    json_decref(checked);
    loaded_release(&loaded);
    return result;
}

void iam_settings_view_release(struct iam_settings_view *view)
{
    if (!view)
        return;
    json_decref(view->settings);
    view->settings = NULL;
}
