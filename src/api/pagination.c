/*
 * pagination.c: pagesize/pagetoken parsing, the paging fields of list
 * responses, and the shared body readers and model renderers (pagination.h).
 */
#include "api/pagination.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/ids.h"
#include "common/time.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"

#define PAGE_OFFSET_MAX 100000000
#define PAGE_FILTER_VALUE_MAX 1024
#define LINK_MAX 16384

static enum iam_result bad_page(struct iam_error *err, const char *message)
{
    return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "%s", message);
}

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
}

/* The entry of `filter_names` equal to `name` (static storage), or NULL. */
static const char *known_filter(const char *const *filter_names, const char *name)
{
    for (; *filter_names; filter_names++)
        if (strcmp(*filter_names, name) == 0)
            return *filter_names;
    return NULL;
}

static enum iam_result add_filter(struct iam_api_page *page, const char *name, const char *value)
{
    if (page->filter_count >= IAM_API_PAGE_FILTERS_MAX)
        return IAM_EINVAL;
    page->filters[page->filter_count].name = name;
    page->filters[page->filter_count].value = value;
    page->filter_count++;
    return IAM_OK;
}

static enum iam_result decode_token(struct iam_arena *arena, const char *token, const char *const *filter_names,
                                    struct iam_api_page *page, struct iam_error *err)
{
    static const char malformed[] = "The pagetoken is not valid.";
    size_t length = strlen(token);
    if (length == 0 || length > IAM_API_PAGETOKEN_MAX)
        return bad_page(err, malformed);
    uint8_t decoded[IAM_API_PAGETOKEN_MAX];
    size_t decoded_length = 0;
    if (iam_base64url_decode(token, length, decoded, sizeof decoded, &decoded_length) != IAM_OK)
        return bad_page(err, malformed);
    json_t *object = json_loadb((const char *)decoded, decoded_length, JSON_REJECT_DUPLICATES, NULL);
    json_t *offset = json_object_get(object, "o");
    json_t *filters = json_object_get(object, "f");
    enum iam_result result = IAM_OK;
    if (!json_is_object(object) || !json_is_integer(offset) || json_integer_value(offset) < 0 ||
        json_integer_value(offset) > PAGE_OFFSET_MAX || (filters && !json_is_object(filters)) ||
        json_object_size(object) != 1 + (filters != NULL)) {
        result = bad_page(err, malformed);
        goto out;
    }
    page->offset = json_integer_value(offset);
    const char *name;
    json_t *value;
    json_object_foreach(filters, name, value) {
        const char *known = known_filter(filter_names, name);
        if (!known || !json_is_string(value) || json_string_length(value) > PAGE_FILTER_VALUE_MAX ||
            strlen(json_string_value(value)) != json_string_length(value)) {
            result = bad_page(err, malformed);
            goto out;
        }
        const char *copy = iam_arena_strdup(arena, json_string_value(value));
        if (!copy) {
            result = no_memory(err);
            goto out;
        }
        if (add_filter(page, known, copy) != IAM_OK) {
            result = bad_page(err, malformed);
            goto out;
        }
    }
out:
    json_decref(object);
    return result;
}

bool iam_api_page_size_parse(const char *text, int64_t max, int64_t *value)
{
    size_t length = strlen(text);
    int64_t number = 0;
    bool digits = length > 0 && length <= 3;
    for (size_t i = 0; digits && i < length; i++) {
        digits = text[i] >= '0' && text[i] <= '9';
        number = number * 10 + (text[i] - '0');
    }
    if (!digits || number < 1 || number > max)
        return false;
    *value = number;
    return true;
}

enum iam_result iam_api_page_parse(const struct iam_http_request *request, const char *const *filter_names,
                                   struct iam_api_page *page, struct iam_error *err)
{
    memset(page, 0, sizeof *page);
    page->limit = IAM_API_PAGESIZE_DEFAULT;
    page->filter_names = filter_names;
    const char *size = iam_http_query(request, "pagesize");
    if (size && !iam_api_page_size_parse(size, IAM_API_PAGESIZE_MAX, &page->limit))
        return bad_page(err, "The query parameter pagesize must be a number from 1 to 100.");
    const char *token = iam_http_query(request, "pagetoken");
    if (token)
        return decode_token(request->arena, token, filter_names, page, err);
    for (const char *const *name = filter_names; *name; name++) {
        const char *value = iam_http_query(request, *name);
        if (value && add_filter(page, *name, value) != IAM_OK)
            return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "Too many list filters.");
    }
    return IAM_OK;
}

const char *iam_api_page_filter(const struct iam_api_page *page, const char *name)
{
    for (size_t i = 0; i < page->filter_count; i++)
        if (strcmp(page->filters[i].name, name) == 0)
            return page->filters[i].value;
    return NULL;
}

/* A pagetoken for `offset` with the page's filters, in the arena. */
static const char *encode_token(struct iam_arena *arena, const struct iam_api_page *page, int64_t offset)
{
    json_t *filters = json_object();
    json_t *object = json_pack("{s:I,s:o}", "o", (json_int_t)offset, "f", filters);
    const char *token = NULL;
    if (!object)
        return NULL;
    for (size_t i = 0; i < page->filter_count; i++)
        if (json_object_set_new(filters, page->filters[i].name, json_string(page->filters[i].value)) != 0)
            goto out;
    token = iam_api_token_from_json(arena, object, JSON_COMPACT);
out:
    json_decref(object);
    return token;
}

const char *iam_api_token_from_json(struct iam_arena *arena, const json_t *object, size_t dump_flags)
{
    char *text = json_dumps(object, dump_flags);
    if (!text)
        return NULL;
    size_t size = iam_base64url_encoded_size(strlen(text));
    char *encoded = iam_arena_alloc(arena, size);
    const char *token = encoded && iam_base64url_encode(text, strlen(text), encoded, size) == IAM_OK ? encoded : NULL;
    free(text);
    return token;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

enum iam_result iam_api_append_url_encoded(struct iam_buf *buf, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        char escaped[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        enum iam_result result = unreserved(*p) ? iam_buf_append(buf, p, 1) : iam_buf_append(buf, escaped, 3);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}

struct query_copy {
    struct iam_buf *buf;
    const char *const *skip; /* the filter names: the page's values are appended instead */
    enum iam_result result;
};

static bool copy_parameter(void *context, const char *name, const char *value)
{
    struct query_copy *copy = context;
    if (strcmp(name, "pagetoken") == 0 || (copy->skip && known_filter(copy->skip, name)))
        return true;
    if (copy->buf->length > 0 && (copy->result = iam_buf_append_str(copy->buf, "&")) != IAM_OK)
        return false;
    if ((copy->result = iam_api_append_url_encoded(copy->buf, name)) != IAM_OK)
        return false;
    if (value && ((copy->result = iam_buf_append_str(copy->buf, "=")) != IAM_OK ||
                  (copy->result = iam_api_append_url_encoded(copy->buf, value)) != IAM_OK))
        return false;
    return true;
}

/* `base` followed by a pagetoken for `offset`. */
static json_t *link_with_token(struct iam_http_request *request, const char *base, bool has_query,
                               const struct iam_api_page *page, int64_t offset)
{
    const char *token = encode_token(request->arena, page, offset);
    if (!token)
        return NULL;
    const char *link = iam_arena_printf(request->arena, "%s%spagetoken=%s", base, has_query ? "&" : "?", token);
    return link ? json_string(link) : NULL;
}

enum iam_result iam_api_page_links(struct iam_http_request *request, const struct iam_api *api, const char *path,
                                   const struct iam_api_page *page, bool has_more, json_t *body,
                                   struct iam_error *err)
{
    struct iam_buf query;
    iam_buf_init(&query, LINK_MAX);
    struct query_copy copy = {.buf = &query, .skip = page->filter_names, .result = IAM_OK};
    iam_http_query_each(request, copy_parameter, &copy);
    copy.skip = NULL;
    for (size_t i = 0; i < page->filter_count && copy.result == IAM_OK; i++)
        copy_parameter(&copy, page->filters[i].name, page->filters[i].value);
    if (copy.result != IAM_OK) {
        iam_buf_free(&query);
        return iam_error_set(err, IAM_ETOOBIG, "BXNIM0110E", "The query string is too long.");
    }
    const char *public_url = api->service->options.public_url ? api->service->options.public_url : "";
    size_t public_length = strlen(public_url);
    while (public_length > 0 && public_url[public_length - 1] == '/')
        public_length--;
    bool has_query = query.length > 0;
    const char *first = iam_arena_printf(request->arena, "%.*s%s%s%s", (int)public_length, public_url, path,
                                         has_query ? "?" : "", has_query ? query.data : "");
    iam_buf_free(&query);
    if (!first)
        return no_memory(err);
    if (json_object_set_new(body, "offset", json_integer(page->offset)) != 0 ||
        json_object_set_new(body, "limit", json_integer(page->limit)) != 0 ||
        json_object_set_new(body, "first", json_string(first)) != 0)
        return no_memory(err);
    if (page->offset > 0) {
        int64_t previous = page->offset > page->limit ? page->offset - page->limit : 0;
        if (json_object_set_new(body, "previous", link_with_token(request, first, has_query, page, previous)) != 0)
            return no_memory(err);
    }
    if (has_more) {
        json_t *next = link_with_token(request, first, has_query, page, page->offset + page->limit);
        if (json_object_set_new(body, "next", next) != 0)
            return no_memory(err);
    }
    return IAM_OK;
}

void iam_api_page_respond(struct iam_http_request *request, struct iam_http_response *response,
                          const struct iam_api *api, const char *path, const struct iam_api_page *page, bool has_more,
                          const char *name, json_t *items)
{
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = json_object();
    if (!body || !items) {
        iam_error_set(&err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        goto fail;
    }
    if (iam_api_page_links(request, api, path, page, has_more, body, &err) != IAM_OK)
        goto fail;
    if (json_object_set_new(body, name, items) != 0) {
        items = NULL; /* stolen even on failure */
        iam_error_set(&err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        goto fail;
    }
    iam_http_respond_json(request, response, 200, body);
    return;
fail:
    json_decref(items);
    json_decref(body);
    iam_api_respond_error(request, response, &err);
}

/* --- request readers --- */

static enum iam_result wrong_type(struct iam_error *err, const char *name, const char *type)
{
    return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property %s must be %s.", name, type);
}

enum iam_result iam_api_body_string(const json_t *body, const char *name, const char **value, struct iam_error *err)
{
    *value = NULL;
    const json_t *member = json_object_get(body, name);
    if (!member)
        return IAM_OK;
    if (!json_is_string(member))
        return wrong_type(err, name, "a string");
    if (strlen(json_string_value(member)) != json_string_length(member))
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property %s contains a NUL character.", name);
    *value = json_string_value(member);
    return IAM_OK;
}

enum iam_result iam_api_body_bool(const json_t *body, const char *name, bool *present, bool *value,
                                  struct iam_error *err)
{
    const json_t *member = json_object_get(body, name);
    *present = member != NULL;
    *value = false;
    if (!member)
        return IAM_OK;
    if (!json_is_boolean(member))
        return wrong_type(err, name, "true or false");
    *value = json_is_true(member);
    return IAM_OK;
}

enum iam_result iam_api_body_time(const json_t *body, const char *name, bool *present, int64_t *when,
                                  struct iam_error *err)
{
    const char *text = NULL;
    *when = 0;
    enum iam_result result = iam_api_body_string(body, name, &text, err);
    *present = text != NULL;
    if (result != IAM_OK || !text || !*text)
        return result;
    if (iam_time_parse(text, when) != IAM_OK)
        return wrong_type(err, name, "a time such as 2049-01-02T18:30+0000");
    return IAM_OK;
}

void iam_api_body_wipe_string(json_t *body, const char *name)
{
    json_t *member = json_object_get(body, name);
    if (json_is_string(member))
        iam_wipe((char *)json_string_value(member), json_string_length(member));
}

/* --- renderers --- */

json_t *iam_api_time_json(int64_t when)
{
    char text[IAM_TIME_TEXT_SIZE];
    iam_time_format_ibm(when, text);
    return json_string(text);
}

json_t *iam_api_time_ms_json(int64_t milliseconds)
{
    char text[40]; /* room for any year gmtime_r accepts */
    time_t seconds = (time_t)(milliseconds / 1000);
    int remainder = (int)(milliseconds % 1000);
    if (remainder < 0) {
        remainder += 1000;
        seconds -= 1;
    }
    struct tm parts;
    if (!gmtime_r(&seconds, &parts))
        return json_string("");
    size_t length = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
    snprintf(text + length, sizeof text - length, ".%03dZ", remainder);
    return json_string(text);
}

static const char *or_empty(const char *text)
{
    return text ? text : "";
}

json_t *iam_api_history_json(const struct iam_history_record *items, size_t count)
{
    json_t *array = json_array();
    if (!array)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        json_t *params = items[i].params ? json_loads(items[i].params, 0, NULL) : NULL;
        if (!json_is_array(params)) {
            json_decref(params);
            params = json_array();
        }
        json_t *record = json_pack("{s:o,s:s,s:s,s:s,s:o,s:s}", "timestamp", iam_api_time_json(items[i].timestamp),
                                   "iam_id", or_empty(items[i].iam_id), "iam_id_account",
                                   or_empty(items[i].iam_id_account), "action", or_empty(items[i].action), "params",
                                   params, "message", or_empty(items[i].message));
        if (json_array_append_new(array, record) != 0) {
            json_decref(array);
            return NULL;
        }
    }
    return array;
}

json_t *iam_api_apikey_json(const struct iam_apikey_view *view)
{
    const struct iam_apikey_record *key = &view->record;
    char crn[IAM_CRN_SIZE];
    iam_identity_crn(crn, key->account_id, "apikey", key->id);
    json_t *object = json_pack(
        "{s:s,s:s,s:s,s:b,s:b,s:o,s:s,s:o,s:s,s:s*,s:b,s:s,s:o*,s:s,s:s,s:s}", "id", key->id, "entity_tag",
        or_empty(key->entity_tag), "crn", crn, "locked", key->locked, "disabled", key->disabled, "created_at",
        iam_api_time_json(key->created_at), "created_by", or_empty(key->created_by), "modified_at",
        iam_api_time_json(key->modified_at), "name", or_empty(key->name), "description", key->description,
        "support_sessions", key->support_sessions, "action_when_leaked",
        key->action_when_leaked ? key->action_when_leaked : "none", "expires_at",
        key->expires_at ? iam_api_time_json(key->expires_at) : NULL, "iam_id", key->iam_id, "account_id",
        key->account_id, "apikey", or_empty(view->value));
    if (!object)
        return NULL;
    if (view->has_history &&
        json_object_set_new(object, "history", iam_api_history_json(view->history, view->history_count)) != 0)
        goto fail;
    if (view->has_activity) {
        json_t *activity = json_pack("{s:I,s:o*}", "authn_count", (json_int_t)view->authn_count, "last_authn",
                                     view->last_authn ? iam_api_time_json(view->last_authn) : NULL);
        if (json_object_set_new(object, "activity", activity) != 0)
            goto fail;
    }
    return object;
fail:
    json_decref(object);
    return NULL;
}
