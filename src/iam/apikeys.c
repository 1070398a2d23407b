/*
 * apikeys.c: API keys of users and service IDs (apikeys.h): creating a key
 * (value, keyed hash, optional sealed copy), reading it (by id or by value),
 * listing, updating, deleting, locking and disabling it, each behind
 * iam_authz_check() with a new entity tag and a history record per change.
 * Also owns the helpers the identity modules share: entity tags, history
 * records, the list filter grammar and text checks.
 *
 * Message codes set here: BXNIM0102E key not found, BXNIM0103E service ID
 * not found, BXNIM0104E user not found, BXNIM0105E account not found (list
 * in another account), BXNIM0109E invalid property, BXNIM0110E invalid
 * query parameter, BXNIM0500E internal, BXNIM0501E stale entity tag,
 * BXNIM0503E store unavailable, BXNIM0510E locked, BXNIM0511E duplicate key
 * value.
 */
#include "iam/apikeys.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ids.h"
#include "common/time.h"
#include "crypto/aead.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/keyformat.h"
#include "crypto/random.h"
#include "iam/authn.h"
#include "iam/usage.h"
#include "store/store.h"

#define HISTORY_LIMIT 100
#define APIKEY_ID_MAX 64     /* no stored id is longer; longer ones are refused before any lookup */
#define APIKEY_VALUE_MAX 256 /* the longest value worth hashing for a lookup */
#define FILTER_VALUE_MAX 255
#define SERVICE_ID_IAM_PREFIX "iam-ServiceId-"
#define VALUE_AAD_SIZE (sizeof "apikey-value:" + IAM_ID_SIZE)

static const char *const leak_actions[] = {"none", "disable", "delete", NULL};

/* --- shared helpers --- */

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
}

enum iam_result iam_identity_store_failure(enum iam_result result, struct iam_error *err)
{
    if (result == IAM_ENOMEM)
        return no_memory(err);
    if (iam_store_failed(result))
        return iam_error_set(err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "Internal error (%s).", iam_strerror(result));
}

static enum iam_result key_not_found(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0102E", "API key not found.");
}

bool iam_is_service_id_iam_id(const char *iam_id)
{
    return iam_id && strncmp(iam_id, SERVICE_ID_IAM_PREFIX, strlen(SERVICE_ID_IAM_PREFIX)) == 0;
}

enum iam_result iam_entity_tag_next(struct iam_arena *arena, const char *previous, const char **out,
                                    struct iam_error *err)
{
    long long version = 0;
    if (previous) {
        char *end = NULL;
        errno = 0;
        long long parsed = strtoll(previous, &end, 10);
        if (errno == 0 && end != previous && *end == '-' && parsed >= 0 && parsed < LLONG_MAX)
            version = parsed;
    }
    char hex[33];
    if (iam_random_hex(hex, 16) != IAM_OK)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot create an entity tag.");
    *out = iam_arena_printf(arena, "%lld-%s", version + 1, hex);
    return *out ? IAM_OK : no_memory(err);
}

enum iam_result iam_history_make(struct iam_arena *arena, const struct iam_principal *who, const char *entity_id,
                                 const char *action, const char *message, const char *const *params,
                                 struct iam_history_record *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *array = json_array();
    if (!array)
        return no_memory(err);
    for (const char *const *param = params; param && *param; param++) {
        if (json_array_append_new(array, json_string(*param)) != 0) {
            json_decref(array);
            return no_memory(err);
        }
    }
    char *text = json_dumps(array, JSON_COMPACT);
    json_decref(array);
    if (!text)
        return no_memory(err);
    out->params = iam_arena_strdup(arena, text);
    free(text);
    if (!out->params)
        return no_memory(err);
    out->entity_id = entity_id;
    out->timestamp = iam_now();
    out->iam_id = who->iam_id;
    out->iam_id_account = who->account_id;
    out->action = action;
    out->message = message;
    return IAM_OK;
}

/* Length of the UTF-8 sequence at `p` (1..4), 0 when it is not well formed. */
static size_t utf8_sequence(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xe0 && p[0] <= 0xef) {
        unsigned char low = p[0] == 0xe0 ? 0xa0 : 0x80, high = p[0] == 0xed ? 0x9f : 0xbf;
        return p[1] >= low && p[1] <= high && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        unsigned char low = p[0] == 0xf0 ? 0x90 : 0x80, high = p[0] == 0xf4 ? 0x8f : 0xbf;
        return p[1] >= low && p[1] <= high && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

enum iam_result iam_text_check(const char *what, const char *text, size_t max, bool allow_empty,
                               struct iam_error *err)
{
    if (!text)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property %s is required.", what);
    size_t characters = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        size_t length = utf8_sequence(p);
        if (length == 0)
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property %s is not valid UTF-8.", what);
        if (length == 1 && ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f))
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property %s contains a control character.",
                                 what);
        p += length;
        if (++characters > max)
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property %s is longer than %zu characters.",
                                 what, max);
    }
    if (characters == 0 && !allow_empty)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property %s must not be empty.", what);
    return IAM_OK;
}

static enum iam_result bad_filter(struct iam_error *err)
{
    return iam_error_set(err, IAM_EINVAL, "BXNIM0110E",
                         "The filter is not supported; use name co \"text\" or name eq \"text\".");
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

enum iam_result iam_name_filter_parse(struct iam_arena *arena, const char *filter, const char **equals,
                                      const char **contains, struct iam_error *err)
{
    *equals = NULL;
    *contains = NULL;
    if (!filter)
        return bad_filter(err);
    const char *p = skip_spaces(filter);
    if (strncasecmp(p, "name", 4) != 0 || (p[4] != ' ' && p[4] != '\t'))
        return bad_filter(err);
    p = skip_spaces(p + 4);
    bool is_equals;
    if (strncasecmp(p, "eq", 2) == 0)
        is_equals = true;
    else if (strncasecmp(p, "co", 2) == 0)
        is_equals = false;
    else
        return bad_filter(err);
    if (p[2] != ' ' && p[2] != '\t')
        return bad_filter(err);
    p = skip_spaces(p + 2);
    if (*p++ != '"')
        return bad_filter(err);
    char value[FILTER_VALUE_MAX * 4 + 1];
    size_t length = 0;
    for (;;) {
        char c = *p++;
        if (c == '\0')
            return bad_filter(err);
        if (c == '"')
            break;
        if (c == '\\') {
            c = *p++;
            if (c != '"' && c != '\\')
                return bad_filter(err);
        }
        if (length + 1 >= sizeof value)
            return bad_filter(err);
        value[length++] = c;
    }
    value[length] = '\0';
    if (*skip_spaces(p) != '\0')
        return bad_filter(err);
    if (iam_text_check("filter", value, FILTER_VALUE_MAX, true, err) != IAM_OK)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "The filter value is not valid.");
    const char *copy = iam_arena_strndup(arena, value, length);
    if (!copy)
        return no_memory(err);
    if (is_equals)
        *equals = copy;
    else
        *contains = copy;
    return IAM_OK;
}

void iam_apikey_activity(struct iam_service *service, const struct iam_apikey_record *record, int64_t *authn_count,
                         int64_t *last_authn)
{
    int64_t stored_count = record->authn_count, stored_last = record->last_authn;
    int64_t pending_count = 0, pending_last = 0;
    if (service->usage) {
        /*
         * The record may have been read before a flush moved this key's deltas
         * into the store: read the stored counters again with flushes held
         * off, then the deltas still in memory, so every use counts once.
         */
        struct iam_arena *arena = iam_arena_new();
        iam_usage_hold(service->usage);
        struct iam_apikey_record fresh;
        if (arena && iam_store_apikey_get(service->store, arena, record->account_id, record->id, &fresh) == IAM_OK) {
            stored_count = fresh.authn_count;
            stored_last = fresh.last_authn;
        }
        iam_usage_pending(service->usage, record->id, &pending_count, &pending_last);
        iam_usage_release(service->usage);
        iam_arena_free(arena);
    }
    *authn_count = stored_count + pending_count;
    *last_authn = stored_last > pending_last ? stored_last : pending_last;
}

/* --- key values --- */

static void value_aad(char out[VALUE_AAD_SIZE], const char *id)
{
    snprintf(out, VALUE_AAD_SIZE, "apikey-value:%s", id);
}

/* Opens a stored value straight into the arena copy that is returned. */
static enum iam_result open_value(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_apikey_record *record, const char **value, struct iam_error *err)
{
    *value = NULL;
    if (record->sealed_value_length <= IAM_AEAD_OVERHEAD)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "The stored API key value cannot be read.");
    size_t length = record->sealed_value_length - IAM_AEAD_OVERHEAD;
    char *plain = iam_arena_alloc(arena, length + 1);
    if (!plain)
        return no_memory(err);
    char aad[VALUE_AAD_SIZE];
    value_aad(aad, record->id);
    if (iam_aead_open(service->kek, aad, strlen(aad), record->sealed_value, record->sealed_value_length,
                      (uint8_t *)plain) != IAM_OK) {
        iam_wipe(plain, length);
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "The stored API key value cannot be read.");
    }
    plain[length] = '\0';
    *value = plain;
    return IAM_OK;
}

/* RFC 3986 unreserved characters: what a client-supplied value may contain. */
static bool url_safe(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

static enum iam_result check_supplied_value(const char *value, struct iam_error *err)
{
    size_t length = strnlen(value, IAM_APIKEY_SUPPLIED_MAX + 1);
    if (length < IAM_APIKEY_SUPPLIED_MIN || length > IAM_APIKEY_SUPPLIED_MAX)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property apikey must be %d to %d characters long.",
                             IAM_APIKEY_SUPPLIED_MIN, IAM_APIKEY_SUPPLIED_MAX);
    for (size_t i = 0; i < length; i++) {
        if (!url_safe(value[i]))
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E",
                                 "The property apikey may contain only letters, digits and - _ . ~.");
    }
    return IAM_OK;
}

static bool listed(const char *const *choices, const char *text)
{
    for (; *choices; choices++)
        if (strcmp(*choices, text) == 0)
            return true;
    return false;
}

static enum iam_result check_leak_action(const char *action, struct iam_error *err)
{
    if (action && !listed(leak_actions, action))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E",
                             "The property action_when_leaked must be none, disable or delete.");
    return IAM_OK;
}

static enum iam_result check_expiry(int64_t expires_at, struct iam_error *err)
{
    if (expires_at < 0 || (expires_at > 0 && expires_at <= iam_now()))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property expires_at must be in the future.");
    return IAM_OK;
}

/* Everything about a create request that needs no lookup. */
static enum iam_result check_create_request(const struct iam_apikey_create_request *request, struct iam_error *err)
{
    enum iam_result result;
    if (!request)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The request is empty.");
    if ((result = iam_text_check("name", request->name, IAM_NAME_MAX, false, err)) != IAM_OK)
        return result;
    if (request->description &&
        (result = iam_text_check("description", request->description, IAM_DESCRIPTION_MAX, true, err)) != IAM_OK)
        return result;
    if ((result = iam_text_check("iam_id", request->iam_id, IAM_ID_SIZE - 1, false, err)) != IAM_OK)
        return result;
    if (request->account_id && !iam_is_account_id(request->account_id))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property account_id is not a valid account ID.");
    if ((result = check_leak_action(request->action_when_leaked, err)) != IAM_OK)
        return result;
    bool service_key = iam_is_service_id_iam_id(request->iam_id);
    if (request->store_value && !service_key)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E",
                             "The property store_value is only for service ID keys: we don't allow storing of API "
                             "keys for users.");
    if (request->support_sessions && service_key)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E",
                             "The property support_sessions is only supported for user API keys.");
    if ((result = check_expiry(request->expires_at, err)) != IAM_OK)
        return result;
    if (request->apikey && (result = check_supplied_value(request->apikey, err)) != IAM_OK)
        return result;
    return IAM_OK;
}

/* The 16 bytes of the uuid in "ApiKey-<uuid>". */
static enum iam_result key_id_bytes(const char *id, uint8_t out[IAM_KEYFORMAT_KEY_ID_BYTES])
{
    const char *uuid = strchr(id, '-');
    if (!uuid)
        return IAM_EINTERNAL;
    char hex[2 * IAM_KEYFORMAT_KEY_ID_BYTES + 1];
    size_t length = 0;
    for (const char *p = uuid + 1; *p; p++) {
        if (*p == '-')
            continue;
        if (length + 1 >= sizeof hex)
            return IAM_EINTERNAL;
        hex[length++] = *p;
    }
    hex[length] = '\0';
    if (length != (size_t)2 * IAM_KEYFORMAT_KEY_ID_BYTES)
        return IAM_EINTERNAL;
    return iam_hex_decode(hex, out, IAM_KEYFORMAT_KEY_ID_BYTES);
}

enum iam_result iam_apikey_prepare(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *creator, const struct iam_apikey_create_request *request,
                                   const char *account_id, struct iam_apikey_record *out, const char **value,
                                   struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    *value = NULL;
    enum iam_result result = check_create_request(request, err);
    if (result != IAM_OK)
        return result;
    if (!service || !service->hasher || !creator || !creator->iam_id)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The key service is not set up.");
    if (!account_id || !iam_is_account_id(account_id))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property account_id is not a valid account ID.");

    char id[IAM_ID_SIZE];
    char generated[IAM_KEYFORMAT_VALUE_SIZE] = "";
    const char *plain = request->apikey;
    if (iam_prefixed_id_new("ApiKey-", id) != IAM_OK)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot create an API key ID.");
    if (!plain) {
        uint8_t key_id[IAM_KEYFORMAT_KEY_ID_BYTES];
        const char *prefix = service->options.key_prefix ? service->options.key_prefix : IAM_KEYFORMAT_DEFAULT_PREFIX;
        if (key_id_bytes(id, key_id) != IAM_OK || iam_keyformat_generate(prefix, key_id, generated) != IAM_OK) {
            result = iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot create an API key value.");
            goto out;
        }
        plain = generated;
    }
    size_t plain_length = strlen(plain);
    if (iam_hasher_mac(service->hasher, plain, plain_length, out->hash) != IAM_OK) {
        result = iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot hash the API key value.");
        goto out;
    }
    if (request->store_value) {
        uint8_t *sealed = iam_arena_alloc(arena, plain_length + IAM_AEAD_OVERHEAD);
        if (!sealed) {
            result = no_memory(err);
            goto out;
        }
        char aad[VALUE_AAD_SIZE];
        value_aad(aad, id);
        if (iam_aead_seal(service->kek, aad, strlen(aad), plain, plain_length, sealed) != IAM_OK) {
            result = iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot seal the API key value.");
            goto out;
        }
        out->sealed_value = sealed;
        out->sealed_value_length = plain_length + IAM_AEAD_OVERHEAD;
    }
    int64_t now = iam_now();
    char *copy = iam_arena_strndup(arena, plain, plain_length);
    out->id = iam_arena_strdup(arena, id);
    out->account_id = iam_arena_strdup(arena, account_id);
    out->iam_id = iam_arena_strdup(arena, request->iam_id);
    out->name = iam_arena_strdup(arena, request->name);
    out->description =
        request->description && *request->description ? iam_arena_strdup(arena, request->description) : NULL;
    out->created_by = iam_arena_strdup(arena, creator->iam_id);
    out->action_when_leaked = request->action_when_leaked ? request->action_when_leaked : "none";
    if (!copy || !out->id || !out->account_id || !out->iam_id || !out->name || !out->created_by ||
        (request->description && *request->description && !out->description)) {
        if (copy)
            iam_wipe(copy, plain_length);
        result = no_memory(err);
        goto out;
    }
    if ((result = iam_entity_tag_next(arena, NULL, &out->entity_tag, err)) != IAM_OK) {
        iam_wipe(copy, plain_length);
        goto out;
    }
    out->locked = request->locked;
    out->disabled = request->disabled;
    out->support_sessions = request->support_sessions;
    out->created_at = now;
    out->modified_at = now;
    out->expires_at = request->expires_at;
    *value = copy;
    result = IAM_OK;
out:
    iam_wipe(generated, sizeof generated);
    if (result != IAM_OK)
        memset(out, 0, sizeof *out);
    return result;
}

/* --- loading and authorizing --- */

/* Authorizes `action`; a refusal that must look like absence becomes `not_found`'s error. */
static enum iam_result authorize(struct iam_service *service, const struct iam_principal *who, const char *action,
                                 const char *account_id, const char *owner_iam_id,
                                 enum iam_result (*not_found)(struct iam_error *), struct iam_error *err)
{
    struct iam_target target = {.account_id = account_id, .owner_iam_id = owner_iam_id};
    enum iam_result result = iam_authz_check(service, who, action, &target, err);
    if (result == IAM_ENOTFOUND)
        return not_found(err);
    return result;
}

/* Loads key `id` from the caller's account and authorizes `action` on it. */
static enum iam_result load_key(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                                const char *id, const char *action, struct iam_apikey_record *out,
                                struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !who->account_id || !who->iam_id)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The key service is not set up.");
    if (!id || !*id || strlen(id) > APIKEY_ID_MAX)
        return key_not_found(err);
    enum iam_result result = iam_store_apikey_get(service->store, arena, who->account_id, id, out);
    if (result == IAM_ENOTFOUND)
        return key_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    return authorize(service, who, action, out->account_id, out->iam_id, key_not_found, err);
}

static enum iam_result fill_view(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_apikey_record *record, bool include_history, bool include_activity,
                                 struct iam_apikey_view *view, struct iam_error *err)
{
    memset(view, 0, sizeof *view);
    view->record = *record;
    enum iam_result result;
    if (record->sealed_value && (result = open_value(service, arena, record, &view->value, err)) != IAM_OK)
        return result;
    if (include_history) {
        view->has_history = true;
        result = iam_store_history_list(service->store, arena, record->id, HISTORY_LIMIT, &view->history,
                                        &view->history_count);
        if (result != IAM_OK)
            return iam_identity_store_failure(result, err);
    }
    if (include_activity) {
        view->has_activity = true;
        iam_apikey_activity(service, record, &view->authn_count, &view->last_authn);
    }
    return IAM_OK;
}

/* Stores a change to `updated` (a copy of the loaded record) under a new entity tag, with its history. */
static enum iam_result save_change(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, struct iam_apikey_record *updated,
                                   const char *previous_tag, const char *action, const char *message,
                                   const char *const *params, struct iam_error *err)
{
    struct iam_history_record history;
    enum iam_result result = iam_entity_tag_next(arena, previous_tag, &updated->entity_tag, err);
    if (result != IAM_OK)
        return result;
    updated->modified_at = iam_now();
    if ((result = iam_history_make(arena, who, updated->id, action, message, params, &history, err)) != IAM_OK)
        return result;
    result = iam_store_apikey_update(service->store, updated, previous_tag, &history);
    /* Whatever happened (a lost connection may still have committed), cached credentials are re-read. */
    iam_authn_forget(service);
    if (result == IAM_ECONFLICT)
        return iam_error_set(err, IAM_ECONFLICT, "BXNIM0501E",
                             "The API key was changed by another request; read it again and retry.");
    if (result == IAM_ENOTFOUND)
        return key_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    return IAM_OK;
}

static enum iam_result key_locked(struct iam_error *err)
{
    return iam_error_set(err, IAM_ELOCKED, "BXNIM0510E", "The API key is locked; unlock it before changing it.");
}

/* --- operations --- */

static enum iam_result service_id_not_found(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0103E", "Service ID not found.");
}

static enum iam_result user_not_found(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0104E", "User not found.");
}

/* IAM_OK when the identity a new key is for exists in `account_id`. */
static enum iam_result identity_exists(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                       const char *iam_id, struct iam_error *err)
{
    enum iam_result result;
    if (iam_is_service_id_iam_id(iam_id)) {
        struct iam_service_id_record service_id;
        result = iam_store_service_id_get_by_iam_id(service->store, arena, account_id, iam_id, &service_id);
        if (result == IAM_ENOTFOUND)
            return service_id_not_found(err);
    } else {
        struct iam_user_record user;
        result = iam_store_user_get(service->store, arena, account_id, iam_id, &user);
        if (result == IAM_ENOTFOUND)
            return user_not_found(err);
    }
    return result == IAM_OK ? IAM_OK : iam_identity_store_failure(result, err);
}

enum iam_result iam_apikey_create(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *creator, const struct iam_apikey_create_request *request,
                                  struct iam_apikey_record *out, const char **value, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    *value = NULL;
    enum iam_result result = check_create_request(request, err);
    if (result != IAM_OK)
        return result;
    if (!service || !service->store || !creator || !creator->account_id)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The key service is not set up.");
    const char *account_id = request->account_id ? request->account_id : creator->account_id;
    enum iam_result (*identity_not_found)(struct iam_error *) =
        iam_is_service_id_iam_id(request->iam_id) ? service_id_not_found : user_not_found;
    /* Authorize before looking the identity up, so another account's identities stay invisible. */
    result = authorize(service, creator, IAM_ACTION_APIKEY_CREATE, account_id, request->iam_id, identity_not_found,
                       err);
    if (result != IAM_OK)
        return result;
    if ((result = identity_exists(service, arena, account_id, request->iam_id, err)) != IAM_OK)
        return result;

    struct iam_apikey_record record;
    const char *plain = NULL;
    if ((result = iam_apikey_prepare(service, arena, creator, request, account_id, &record, &plain, err)) != IAM_OK)
        return result;
    const char *params[] = {record.name, NULL};
    struct iam_history_record history;
    result = iam_history_make(arena, creator, record.id, "CreateApiKey", "API key created.", params, &history, err);
    if (result != IAM_OK)
        goto fail;
    result = iam_store_apikey_insert(service->store, &record, &history);
    if (result == IAM_ECONFLICT) {
        result = iam_error_set(err, IAM_ECONFLICT, "BXNIM0511E", "An API key with this value already exists.");
        goto fail;
    }
    if (result != IAM_OK) {
        result = iam_identity_store_failure(result, err);
        goto fail;
    }
    *out = record;
    *value = plain;
    return IAM_OK;
fail:
    if (plain)
        iam_wipe((char *)plain, strlen(plain));
    return result;
}

enum iam_result iam_apikey_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                               const char *id, const struct iam_apikey_read_options *options,
                               struct iam_apikey_view *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    struct iam_apikey_record record;
    enum iam_result result = load_key(service, arena, who, id, IAM_ACTION_APIKEY_READ, &record, err);
    if (result != IAM_OK)
        return result;
    return fill_view(service, arena, &record, options && options->include_history,
                     options && options->include_activity, out, err);
}

enum iam_result iam_apikey_get_by_value(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *value,
                                        const struct iam_apikey_read_options *options, struct iam_apikey_view *out,
                                        struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !service->hasher)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The key service is not set up.");
    /* RFC 8959 URI form, as authentication accepts it. */
    if (value && strncmp(value, "secret-token:", 13) == 0)
        value += 13;
    if (!value || !*value || strnlen(value, APIKEY_VALUE_MAX + 1) > APIKEY_VALUE_MAX)
        return key_not_found(err);
    uint8_t hash[IAM_HASH_SIZE];
    if (iam_hasher_mac(service->hasher, value, strlen(value), hash) != IAM_OK)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot hash the API key value.");
    struct iam_apikey_record found;
    enum iam_result result = iam_store_apikey_get_by_hash(service->store, arena, hash, &found);
    if (result == IAM_ENOTFOUND)
        return key_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    if (!iam_bytes_equal(found.hash, hash, IAM_HASH_SIZE))
        return key_not_found(err);
    /* The hash lookup crosses accounts; reload within the caller's account. */
    return iam_apikey_get(service, arena, who, found.id, options, out, err);
}

static enum iam_result bad_query(struct iam_error *err, const char *message)
{
    return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "%s", message);
}

enum iam_result iam_sort_order_parse(const char *order, enum iam_sort_order *out, struct iam_error *err)
{
    if (!order || strcmp(order, "asc") == 0)
        *out = IAM_SORT_ASC;
    else if (strcmp(order, "desc") == 0)
        *out = IAM_SORT_DESC;
    else
        return bad_query(err, "The query parameter order must be asc or desc.");
    return IAM_OK;
}

enum iam_result iam_apikey_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                                const struct iam_apikey_list_request *request, struct iam_apikey_page *out,
                                struct iam_error *err)
{
    static const char *const sorts[] = {"name", "description", "created_at", "created_by", NULL};
    static const char *const types[] = {"user", "serviceid", NULL};
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !who->account_id || !request)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The key service is not set up.");
    struct iam_apikey_query query = {.offset = request->offset, .limit = request->limit, .sort = request->sort};
    enum iam_result result;
    bool account_scope = false;
    if (request->scope && strcmp(request->scope, "account") == 0)
        account_scope = true;
    else if (request->scope && strcmp(request->scope, "entity") != 0)
        return bad_query(err, "The query parameter scope must be entity or account.");
    if (request->type && !listed(types, request->type))
        return bad_query(err, "The query parameter type must be user or serviceid.");
    if (request->sort && !listed(sorts, request->sort))
        return bad_query(err, "The query parameter sort must be name, description, created_at or created_by.");
    if ((result = iam_sort_order_parse(request->order, &query.order, err)) != IAM_OK)
        return result;
    if (request->offset < 0 || request->limit < 1 || request->limit > 100)
        return bad_query(err, "The page size must be 1 to 100.");
    if (request->filter) {
        const char *equals = NULL;
        if ((result = iam_name_filter_parse(arena, request->filter, &equals, &query.name_contains, err)) != IAM_OK)
            return result;
        if (equals)
            return bad_query(err, "API keys support only the filter name co \"text\".");
    }
    query.account_id = request->account_id ? request->account_id : who->account_id;
    if (!iam_is_account_id(query.account_id))
        return bad_query(err, "The query parameter account_id is not a valid account ID.");
    if (request->iam_id && strlen(request->iam_id) >= IAM_ID_SIZE)
        return bad_query(err, "The query parameter iam_id is not valid.");
    query.type = request->type;
    if (account_scope) {
        query.iam_id = request->iam_id;
        result = iam_authz_check(service, who, IAM_ACTION_ACCOUNT_APIKEYS_LIST,
                                 &(struct iam_target){.account_id = query.account_id}, err);
    } else {
        query.iam_id = request->iam_id ? request->iam_id : who->iam_id;
        result = iam_authz_check(service, who, IAM_ACTION_APIKEY_READ,
                                 &(struct iam_target){.account_id = query.account_id, .owner_iam_id = query.iam_id},
                                 err);
    }
    if (result == IAM_ENOTFOUND)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
    if (result != IAM_OK)
        return result;

    struct iam_apikey_record *records = NULL;
    size_t count = 0;
    result = iam_store_apikey_list(service->store, arena, &query, &records, &count, &out->has_more);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    if (count > 0) {
        out->items = iam_arena_alloc(arena, count * sizeof *out->items);
        if (!out->items)
            return no_memory(err);
    }
    for (size_t i = 0; i < count; i++) {
        if ((result = fill_view(service, arena, &records[i], request->include_history, false, &out->items[i], err)) !=
            IAM_OK)
            return result;
    }
    out->count = count;
    return IAM_OK;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static enum iam_result check_update_request(const struct iam_apikey_update_request *request, struct iam_error *err)
{
    enum iam_result result;
    if (!request)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The request is empty.");
    if (request->name && (result = iam_text_check("name", request->name, IAM_NAME_MAX, false, err)) != IAM_OK)
        return result;
    if (request->description &&
        (result = iam_text_check("description", request->description, IAM_DESCRIPTION_MAX, true, err)) != IAM_OK)
        return result;
    if ((result = check_leak_action(request->action_when_leaked, err)) != IAM_OK)
        return result;
    /* A past time is allowed here: it expires the key now (IBM's own IT sends one). */
    if (request->set_expires_at && request->expires_at < 0)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property expires_at is not valid.");
    return IAM_OK;
}

enum iam_result iam_apikey_update(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, const char *id, const char *expected_entity_tag,
                                  const struct iam_apikey_update_request *request, struct iam_apikey_view *out,
                                  struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    enum iam_result result = check_update_request(request, err);
    if (result != IAM_OK)
        return result;
    struct iam_apikey_record record;
    if ((result = load_key(service, arena, who, id, IAM_ACTION_APIKEY_UPDATE, &record, err)) != IAM_OK)
        return result;
    if (record.locked)
        return key_locked(err);
    if (expected_entity_tag && !same_text(expected_entity_tag, record.entity_tag))
        return iam_error_set(err, IAM_ECONFLICT, "BXNIM0501E",
                             "The entity tag does not match the API key's current version; read it again and retry.");
    if (request->set_support_sessions && request->support_sessions && iam_is_service_id_iam_id(record.iam_id))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E",
                             "The property support_sessions is only supported for user API keys.");

    struct iam_apikey_record updated = record;
    const char *changed[6];
    size_t changed_count = 0;
    if (request->name && !same_text(request->name, record.name)) {
        updated.name = request->name;
        changed[changed_count++] = "name";
    }
    if (request->description) {
        const char *description = *request->description ? request->description : NULL;
        if (!same_text(description, record.description)) {
            updated.description = description;
            changed[changed_count++] = "description";
        }
    }
    if (request->action_when_leaked && !same_text(request->action_when_leaked, record.action_when_leaked)) {
        updated.action_when_leaked = request->action_when_leaked;
        changed[changed_count++] = "action_when_leaked";
    }
    if (request->set_support_sessions && request->support_sessions != record.support_sessions) {
        updated.support_sessions = request->support_sessions;
        changed[changed_count++] = "support_sessions";
    }
    if (request->set_expires_at && request->expires_at != record.expires_at) {
        updated.expires_at = request->expires_at;
        changed[changed_count++] = "expires_at";
    }
    changed[changed_count] = NULL;
    if (changed_count > 0) {
        result = save_change(service, arena, who, &updated, record.entity_tag, "UpdateApiKey", "API key updated.",
                             changed, err);
        if (result != IAM_OK)
            return result;
    }
    return fill_view(service, arena, &updated, false, false, out, err);
}

enum iam_result iam_apikey_delete(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, const char *id, struct iam_error *err)
{
    struct iam_apikey_record record;
    enum iam_result result = load_key(service, arena, who, id, IAM_ACTION_APIKEY_DELETE, &record, err);
    if (result != IAM_OK)
        return result;
    if (record.locked)
        return key_locked(err);
    result = iam_store_apikey_delete(service->store, record.account_id, record.id);
    iam_authn_forget(service);
    if (result == IAM_ENOTFOUND)
        return key_not_found(err);
    return result == IAM_OK ? IAM_OK : iam_identity_store_failure(result, err);
}

enum iam_result iam_apikey_set_locked(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *id, bool locked,
                                      struct iam_error *err)
{
    struct iam_apikey_record record;
    enum iam_result result = load_key(service, arena, who, id, IAM_ACTION_APIKEY_LOCK, &record, err);
    if (result != IAM_OK || record.locked == locked)
        return result;
    struct iam_apikey_record updated = record;
    updated.locked = locked;
    return save_change(service, arena, who, &updated, record.entity_tag, locked ? "LockApiKey" : "UnlockApiKey",
                       locked ? "API key locked." : "API key unlocked.", NULL, err);
}

enum iam_result iam_apikey_set_disabled(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *id, bool disabled,
                                        struct iam_error *err)
{
    struct iam_apikey_record record;
    enum iam_result result = load_key(service, arena, who, id, IAM_ACTION_APIKEY_DISABLE, &record, err);
    if (result != IAM_OK || record.disabled == disabled)
        return result;
    struct iam_apikey_record updated = record;
    updated.disabled = disabled;
    return save_change(service, arena, who, &updated, record.entity_tag, disabled ? "DisableApiKey" : "EnableApiKey",
                       disabled ? "API key disabled." : "API key enabled.", NULL, err);
}
