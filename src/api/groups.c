/*
 * groups.c: the /v2/groups routes of the IBM Access Groups v2 API (groups,
 * members, bulk and all-groups membership changes; no rules). Handlers parse,
 * call iam/groups.h and render IBM's models; the rules live in iam/.
 *
 * Errors have the Access Groups shape {trace, errors:[{code, message}],
 * status_code}; codes: invalid_request 400, limit_exceeded 400,
 * insufficent_permissions 403, not_found 404, conflict 409,
 * service_unavailable 503, internal_error 500 (401s come from
 * iam_api_authenticate). Timestamps are ISO-8601 UTC with milliseconds;
 * hrefs are absolute (options.public_url). Lists page with limit (0..100;
 * absent or 0: 50) and offset; next.href carries the next offset, which is
 * what IBM's pagers read.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/groups_api.h"
#include "api/pagination.h"
#include "common/buf.h"
#include "iam/groups.h"

#define HREF_MAX 4096

static const char *const create_fields[] = {"name", "description", NULL};
static const char *const update_fields[] = {"name", "description", NULL};
static const char *const members_fields[] = {"members", NULL};
static const char *const member_fields[] = {"iam_id", "type", NULL};
static const char *const all_groups_fields[] = {"type", "groups", NULL};

/* --- responses --- */

static void groups_fail(struct iam_http_request *request, struct iam_http_response *response,
                        const struct iam_error *err)
{
    enum iam_result result = err && err->result != IAM_OK ? err->result : IAM_EINTERNAL;
    int status = iam_api_status_for(result);
    const char *code = err && err->code[0] ? err->code : iam_error_code_for(result);
    const char *message = err && err->message[0] ? err->message : iam_strerror(result);
    json_t *body = json_pack("{s:s,s:[{s:s,s:s}],s:i}", "trace", request->request_id, "errors", "code", code,
                             "message", message, "status_code", status);
    iam_http_respond_json(request, response, status, body);
}

static void groups_fail_with(struct iam_http_request *request, struct iam_http_response *response,
                             enum iam_result result, const char *message)
{
    struct iam_error err;
    iam_error_set(&err, result, NULL, "%s", message);
    groups_fail(request, response, &err);
}

/* The public base URL without a trailing slash, in the arena. */
static const char *base_url(struct iam_http_request *request, const struct iam_api *api)
{
    const char *url = api->service->options.public_url ? api->service->options.public_url : "";
    size_t length = strlen(url);
    while (length > 0 && url[length - 1] == '/')
        length--;
    return iam_arena_strndup(request->arena, url, length);
}

/* base + "/v2/groups/" + encoded id [+ "/members/" + encoded iam_id], in the arena. */
static const char *group_href(struct iam_http_request *request, const struct iam_api *api, const char *group_id,
                              const char *member_iam_id)
{
    struct iam_buf buf;
    iam_buf_init(&buf, HREF_MAX);
    const char *href = NULL;
    const char *base = base_url(request, api);
    if (!base || iam_buf_append_str(&buf, base) != IAM_OK || iam_buf_append_str(&buf, "/v2/groups/") != IAM_OK ||
        iam_api_append_url_encoded(&buf, group_id) != IAM_OK)
        goto out;
    if (member_iam_id &&
        (iam_buf_append_str(&buf, "/members/") != IAM_OK || iam_api_append_url_encoded(&buf, member_iam_id) != IAM_OK))
        goto out;
    href = iam_arena_strndup(request->arena, buf.data, buf.length);
out:
    iam_buf_free(&buf);
    return href;
}

struct group_flags {
    bool show_federated;
    bool show_crn;
};

static json_t *group_json(struct iam_http_request *request, const struct iam_api *api,
                          const struct iam_group_record *group, const struct group_flags *flags)
{
    const char *href = group_href(request, api, group->id, NULL);
    if (!href)
        return NULL;
    json_t *object = json_pack("{s:s,s:s,s:s,s:o,s:s,s:o,s:s,s:s}", "id", group->id, "name", group->name ? group->name : "",
                               "account_id", group->account_id, "created_at", iam_api_time_ms_json(group->created_at_ms),
                               "created_by_id", group->created_by ? group->created_by : "", "last_modified_at",
                               iam_api_time_ms_json(group->modified_at_ms), "last_modified_by_id",
                               group->modified_by ? group->modified_by : "", "href", href);
    if (!object)
        return NULL;
    bool complete = true;
    if (group->description)
        complete = json_object_set_new(object, "description", json_string(group->description)) == 0;
    if (complete && flags && flags->show_federated)
        complete = json_object_set_new(object, "is_federated", json_false()) == 0;
    if (complete && flags && flags->show_crn) {
        const char *crn = iam_arena_printf(request->arena, "crn:v1:bluemix:public:iam-groups::a/%s::group:%s",
                                           group->account_id, group->id);
        complete = crn && json_object_set_new(object, "crn", json_string(crn)) == 0;
    }
    if (!complete) {
        json_decref(object);
        return NULL;
    }
    return object;
}

static void respond_group(struct iam_http_request *request, struct iam_http_response *response,
                          const struct iam_api *api, int status, const struct iam_group_record *group,
                          const struct group_flags *flags)
{
    json_t *body = group_json(request, api, group, flags);
    if (!body) {
        groups_fail_with(request, response, IAM_ENOMEM, "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, status, body);
    iam_api_set_etag(request, response, group->entity_tag);
}

/* The errors array of a multi-status item, or NULL for a 2xx item. */
static json_t *item_errors(const struct iam_group_member_outcome *outcome)
{
    if (outcome->status >= 200 && outcome->status < 300)
        return NULL;
    const char *code = outcome->error.code[0] ? outcome->error.code : iam_error_code_for(outcome->error.result);
    return json_pack("[{s:s,s:s}]", "code", code, "message", outcome->error.message);
}

/* --- request readers --- */

/* Reads a non-negative decimal query parameter (absent: `fallback`). */
static enum iam_result query_number(const struct iam_http_request *request, const char *name, int64_t fallback,
                                    int64_t max, int64_t *value, struct iam_error *err)
{
    const char *text = iam_http_query(request, name);
    *value = fallback;
    if (!text)
        return IAM_OK;
    size_t length = strlen(text);
    int64_t parsed = 0;
    bool digits = length > 0 && length <= 9;
    for (size_t i = 0; digits && i < length; i++) {
        digits = text[i] >= '0' && text[i] <= '9';
        parsed = parsed * 10 + (text[i] - '0');
    }
    if (!digits || parsed > max)
        return iam_error_set(err, IAM_EINVAL, NULL, "The query parameter %s must be a number from 0 to %lld.", name,
                             (long long)max);
    *value = parsed;
    return IAM_OK;
}

/* limit (0..100; absent or 0: the default) and offset. */
static enum iam_result query_page(const struct iam_http_request *request, int64_t *offset, int64_t *limit,
                                  struct iam_error *err)
{
    enum iam_result result = query_number(request, "limit", IAM_GROUP_LIST_LIMIT_DEFAULT, IAM_GROUP_LIST_LIMIT_MAX,
                                          limit, err);
    if (result == IAM_OK && *limit == 0)
        *limit = IAM_GROUP_LIST_LIMIT_DEFAULT;
    if (result == IAM_OK)
        result = query_number(request, "offset", 0, IAM_GROUP_LIST_OFFSET_MAX, offset, err);
    return result;
}

static enum iam_result query_flags(const struct iam_http_request *request, struct group_flags *flags,
                                   struct iam_error *err)
{
    enum iam_result result = iam_api_query_bool(request, "show_federated", false, &flags->show_federated, err);
    if (result == IAM_OK)
        result = iam_api_query_bool(request, "show_crn", false, &flags->show_crn, err);
    return result;
}

/* A string member: absent gives NULL; another type is IAM_EINVAL. */
static enum iam_result body_string(const json_t *object, const char *name, const char **value, struct iam_error *err)
{
    *value = NULL;
    const json_t *member = json_object_get(object, name);
    if (!member)
        return IAM_OK;
    if (!json_is_string(member) || strlen(json_string_value(member)) != json_string_length(member))
        return iam_error_set(err, IAM_EINVAL, NULL, "The property %s must be a string.", name);
    *value = json_string_value(member);
    return IAM_OK;
}

/* A list of at most IAM_GROUP_MEMBERS_PER_CALL_MAX elements under `name`; `*array` borrowed. */
static enum iam_result body_list(const json_t *object, const char *name, const json_t **array, struct iam_error *err)
{
    *array = json_object_get(object, name);
    if (!json_is_array(*array) || json_array_size(*array) == 0 ||
        json_array_size(*array) > IAM_GROUP_MEMBERS_PER_CALL_MAX)
        return iam_error_set(err, IAM_EINVAL, NULL, "The property %s must be a list of 1 to %d entries.", name,
                             IAM_GROUP_MEMBERS_PER_CALL_MAX);
    return IAM_OK;
}

/* A list of strings (iam_ids or group ids) into an arena array. */
static enum iam_result body_string_list(struct iam_arena *arena, const json_t *object, const char *name,
                                        const char ***items, size_t *count, struct iam_error *err)
{
    const json_t *array;
    enum iam_result result = body_list(object, name, &array, err);
    if (result != IAM_OK)
        return result;
    const char **values = iam_arena_alloc(arena, json_array_size(array) * sizeof *values);
    if (!values)
        return iam_error_set(err, IAM_ENOMEM, NULL, "Out of memory.");
    size_t index;
    const json_t *item;
    json_array_foreach(array, index, item) {
        if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item))
            return iam_error_set(err, IAM_EINVAL, NULL, "The property %s must hold strings.", name);
        values[index] = json_string_value(item);
    }
    *items = values;
    *count = json_array_size(array);
    return IAM_OK;
}

/* --- paging --- */

struct query_copy {
    struct iam_buf *buf;
    enum iam_result result;
};

static bool copy_parameter(void *context, const char *name, const char *value)
{
    struct query_copy *copy = context;
    if (strcmp(name, "limit") == 0 || strcmp(name, "offset") == 0)
        return true;
    if ((copy->result = iam_api_append_url_encoded(copy->buf, name)) != IAM_OK)
        return false;
    if (value && ((copy->result = iam_buf_append_str(copy->buf, "=")) != IAM_OK ||
                  (copy->result = iam_api_append_url_encoded(copy->buf, value)) != IAM_OK))
        return false;
    copy->result = iam_buf_append_str(copy->buf, "&");
    return copy->result == IAM_OK;
}

static json_t *link_json(struct iam_http_request *request, const char *prefix, int64_t limit, int64_t offset)
{
    const char *href = iam_arena_printf(request->arena, "%slimit=%lld&offset=%lld", prefix, (long long)limit,
                                        (long long)offset);
    return href ? json_pack("{s:s}", "href", href) : NULL;
}

/*
 * Adds limit, offset, total_count, first, previous (offset > 0), next (more
 * rows) and last to `body`. Links repeat the request's other query parameters.
 */
static enum iam_result add_paging(struct iam_http_request *request, const struct iam_api *api, const char *path,
                                  int64_t offset, int64_t limit, int64_t total, json_t *body, struct iam_error *err)
{
    struct iam_buf buf;
    iam_buf_init(&buf, HREF_MAX);
    const char *base = base_url(request, api);
    struct query_copy copy = {.buf = &buf, .result = IAM_OK};
    if (!base || iam_buf_append_str(&buf, base) != IAM_OK || iam_buf_append_str(&buf, path) != IAM_OK ||
        iam_buf_append_str(&buf, "?") != IAM_OK) {
        iam_buf_free(&buf);
        return iam_error_set(err, IAM_ETOOBIG, NULL, "The request URL is too long.");
    }
    iam_http_query_each(request, copy_parameter, &copy);
    const char *prefix = copy.result == IAM_OK ? iam_arena_strndup(request->arena, buf.data, buf.length) : NULL;
    iam_buf_free(&buf);
    if (!prefix)
        return iam_error_set(err, copy.result == IAM_OK ? IAM_ENOMEM : IAM_ETOOBIG, NULL,
                             "The request URL is too long.");
    int64_t last = total > 0 ? (total - 1) / limit * limit : 0;
    if (json_object_set_new(body, "limit", json_integer(limit)) != 0 ||
        json_object_set_new(body, "offset", json_integer(offset)) != 0 ||
        json_object_set_new(body, "total_count", json_integer(total)) != 0 ||
        json_object_set_new(body, "first", link_json(request, prefix, limit, 0)) != 0 ||
        json_object_set_new(body, "last", link_json(request, prefix, limit, last)) != 0)
        return iam_error_set(err, IAM_ENOMEM, NULL, "Out of memory.");
    if (offset > 0 &&
        json_object_set_new(body, "previous", link_json(request, prefix, limit, offset > limit ? offset - limit : 0)) !=
            0)
        return iam_error_set(err, IAM_ENOMEM, NULL, "Out of memory.");
    if (offset + limit < total && json_object_set_new(body, "next", link_json(request, prefix, limit, offset + limit)) != 0)
        return iam_error_set(err, IAM_ENOMEM, NULL, "Out of memory.");
    return IAM_OK;
}

/* Responds 200 with the paging fields and `items` (stolen) under `name`. */
static void respond_page(struct iam_http_request *request, struct iam_http_response *response,
                         const struct iam_api *api, const char *path, int64_t offset, int64_t limit, int64_t total,
                         const char *name, json_t *items)
{
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = json_object();
    if (!body || !items) {
        iam_error_set(&err, IAM_ENOMEM, NULL, "Out of memory.");
        goto fail;
    }
    if (add_paging(request, api, path, offset, limit, total, body, &err) != IAM_OK)
        goto fail;
    if (json_object_set_new(body, name, items) != 0) {
        items = NULL;
        iam_error_set(&err, IAM_ENOMEM, NULL, "Out of memory.");
        goto fail;
    }
    iam_http_respond_json(request, response, 200, body);
    return;
fail:
    json_decref(items);
    json_decref(body);
    groups_fail(request, response, &err);
}

/* --- groups --- */

static void create_group(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char *name = NULL, *description = NULL;
    struct iam_group_record group;
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_api_only_fields(body, create_fields, &err) != IAM_OK || body_string(body, "name", &name, &err) != IAM_OK ||
        body_string(body, "description", &description, &err) != IAM_OK ||
        iam_group_create(api->service, request->arena, &who, iam_http_query(request, "account_id"), name, description,
                         &group, &err) != IAM_OK)
        groups_fail(request, response, &err);
    else
        respond_group(request, response, api, 201, &group, NULL);
    json_decref(body);
}

static void list_groups(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_group_list_request list = {
        .account_id = iam_http_query(request, "account_id"),
        .iam_id = iam_http_query(request, "iam_id"),
        .search = iam_http_query(request, "search"),
        .sort = iam_http_query(request, "sort"),
    };
    struct group_flags flags = {0};
    struct iam_group_page page;
    const char *membership = iam_http_query(request, "membership_type");
    if (membership && strcmp(membership, "static") != 0 && strcmp(membership, "dynamic") != 0 &&
        strcmp(membership, "all") != 0) {
        groups_fail_with(request, response, IAM_EINVAL, "The query parameter membership_type must be static, dynamic or all.");
        return;
    }
    if (query_page(request, &list.offset, &list.limit, &err) != IAM_OK ||
        query_flags(request, &flags, &err) != IAM_OK ||
        iam_api_query_bool(request, "hide_public_access", false, &list.hide_public_access, &err) != IAM_OK) {
        groups_fail(request, response, &err);
        return;
    }
    if (iam_group_list(api->service, request->arena, &who, &list, &page, &err) != IAM_OK) {
        groups_fail(request, response, &err);
        return;
    }
    if (membership && strcmp(membership, "dynamic") == 0) {
        /* No dynamic rules in iamd: nobody is a dynamic member of anything. */
        page.count = 0;
        page.total = 0;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < page.count; i++) {
        if (json_array_append_new(items, group_json(request, api, &page.items[i], &flags)) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    respond_page(request, response, api, "/v2/groups", list.offset, list.limit, page.total, "groups", items);
}

static void get_group(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct group_flags flags = {0};
    struct iam_group_record group;
    if (query_flags(request, &flags, &err) != IAM_OK ||
        iam_group_get(api->service, request->arena, &who, iam_http_path_param(request, 0), &group, &err) != IAM_OK)
        groups_fail(request, response, &err);
    else
        respond_group(request, response, api, 200, &group, &flags);
}

static void update_group(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char *expected = NULL, *name = NULL, *description = NULL;
    struct iam_group_record group;
    if (iam_api_if_match(request, &expected, &err) != IAM_OK ||
        iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_api_only_fields(body, update_fields, &err) != IAM_OK || body_string(body, "name", &name, &err) != IAM_OK ||
        body_string(body, "description", &description, &err) != IAM_OK ||
        iam_group_update(api->service, request->arena, &who, iam_http_path_param(request, 0), expected, name,
                         description, &group, &err) != IAM_OK)
        groups_fail(request, response, &err);
    else
        respond_group(request, response, api, 200, &group, NULL);
    json_decref(body);
}

static void delete_group(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    bool force = false;
    if (iam_api_query_bool(request, "force", false, &force, &err) != IAM_OK ||
        iam_group_delete(api->service, request->arena, &who, iam_http_path_param(request, 0), force, &err) != IAM_OK)
        groups_fail(request, response, &err);
    else
        iam_http_respond_empty(response, 204);
}

/* --- members --- */

static void check_member(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_group_member_check(api->service, request->arena, &who, iam_http_path_param(request, 0),
                               iam_http_path_param(request, 1), &err) != IAM_OK)
        groups_fail(request, response, &err);
    else
        iam_http_respond_empty(response, 204);
}

static enum iam_result read_members(struct iam_arena *arena, const json_t *body,
                                    struct iam_group_member_input **members, size_t *count, struct iam_error *err)
{
    const json_t *array;
    enum iam_result result;
    if ((result = iam_api_only_fields(body, members_fields, err)) != IAM_OK ||
        (result = body_list(body, "members", &array, err)) != IAM_OK)
        return result;
    struct iam_group_member_input *items = iam_arena_alloc(arena, json_array_size(array) * sizeof *items);
    if (!items)
        return iam_error_set(err, IAM_ENOMEM, NULL, "Out of memory.");
    size_t index;
    const json_t *item;
    json_array_foreach(array, index, item) {
        if (!json_is_object(item))
            return iam_error_set(err, IAM_EINVAL, NULL, "Each member must be an object {iam_id, type}.");
        if ((result = iam_api_only_fields(item, member_fields, err)) != IAM_OK ||
            (result = body_string(item, "iam_id", &items[index].iam_id, err)) != IAM_OK ||
            (result = body_string(item, "type", &items[index].type, err)) != IAM_OK)
            return result;
    }
    *members = items;
    *count = json_array_size(array);
    return IAM_OK;
}

static void add_members(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    struct iam_group_member_input *members = NULL;
    size_t count = 0;
    struct iam_group_member_outcome *outcomes = NULL;
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        read_members(request->arena, body, &members, &count, &err) != IAM_OK ||
        iam_group_members_add(api->service, request->arena, &who, iam_http_path_param(request, 0), members, count,
                              &outcomes, &err) != IAM_OK) {
        groups_fail(request, response, &err);
        json_decref(body);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < count; i++) {
        const struct iam_group_member_outcome *outcome = &outcomes[i];
        json_t *item = json_pack("{s:s,s:s?,s:i,s:s}", "iam_id", outcome->iam_id ? outcome->iam_id : "", "type",
                                 outcome->type, "status_code", outcome->status, "trace", request->request_id);
        bool complete = item != NULL;
        if (complete && outcome->status == 200)
            complete = json_object_set_new(item, "created_at", iam_api_time_ms_json(outcome->created_at_ms)) == 0 &&
                       json_object_set_new(item, "created_by_id", json_string(outcome->created_by)) == 0;
        json_t *errors = item_errors(outcome);
        if (complete && errors)
            complete = json_object_set_new(item, "errors", errors) == 0;
        else
            json_decref(errors);
        if (!complete || json_array_append_new(items, item) != 0) {
            if (!complete)
                json_decref(item);
            json_decref(items);
            items = NULL;
        }
    }
    json_decref(body);
    json_t *answer = items ? json_pack("{s:o}", "members", items) : NULL;
    if (!answer)
        groups_fail_with(request, response, IAM_ENOMEM, "Out of memory.");
    else
        iam_http_respond_json(request, response, 207, answer);
}

static void list_members(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    struct iam_group_member_list_request list = {.type = iam_http_query(request, "type")};
    const char *membership = iam_http_query(request, "membership_type");
    if (membership && strcmp(membership, "static") != 0 && strcmp(membership, "dynamic") != 0 &&
        strcmp(membership, "all") != 0) {
        groups_fail_with(request, response, IAM_EINVAL, "The query parameter membership_type must be static, dynamic or all.");
        return;
    }
    list.dynamic_only = membership && strcmp(membership, "dynamic") == 0;
    const char *sort = iam_http_query(request, "sort");
    if (sort && *sort) {
        groups_fail_with(request, response, IAM_EINVAL, "Sorting members is not supported; members list by iam_id.");
        return;
    }
    const char *group_id = iam_http_path_param(request, 0);
    struct iam_group_member_page page;
    if (query_page(request, &list.offset, &list.limit, &err) != IAM_OK ||
        iam_api_query_bool(request, "verbose", false, &list.verbose, &err) != IAM_OK ||
        iam_group_members_list(api->service, request->arena, &who, group_id, &list, &page, &err) != IAM_OK) {
        groups_fail(request, response, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < page.count; i++) {
        const struct iam_group_member_view *view = &page.items[i];
        const struct iam_group_member_record *member = &view->record;
        const char *href = group_href(request, api, group_id, member->iam_id);
        json_t *item = href ? json_pack("{s:s,s:s,s:s,s:o,s:s,s:s}", "iam_id", member->iam_id, "type",
                                        member->type ? member->type : "", "membership_type", "static", "created_at",
                                        iam_api_time_ms_json(member->created_at_ms), "created_by_id",
                                        member->created_by ? member->created_by : "", "href", href)
                            : NULL;
        bool complete = item != NULL;
        if (complete && view->name)
            complete = json_object_set_new(item, "name", json_string(view->name)) == 0;
        if (complete && view->email)
            complete = json_object_set_new(item, "email", json_string(view->email)) == 0;
        if (complete && view->description)
            complete = json_object_set_new(item, "description", json_string(view->description)) == 0;
        if (!complete || json_array_append_new(items, item) != 0) {
            if (!complete)
                json_decref(item);
            json_decref(items);
            items = NULL;
        }
    }
    const char *path = iam_arena_printf(request->arena, "/v2/groups/%s/members", group_id);
    if (!path) {
        json_decref(items);
        groups_fail_with(request, response, IAM_ENOMEM, "Out of memory.");
        return;
    }
    respond_page(request, response, api, path, list.offset, list.limit, page.total, "members", items);
}

static void remove_member(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_group_member_remove(api->service, request->arena, &who, iam_http_path_param(request, 0),
                                iam_http_path_param(request, 1), &err) != IAM_OK)
        groups_fail(request, response, &err);
    else
        iam_http_respond_empty(response, 204);
}

/* One multi-status item of the bulk and all-groups operations. */
static json_t *status_item(struct iam_http_request *request, const struct iam_group_member_outcome *outcome,
                           const char *key, const char *value)
{
    json_t *item = json_pack("{s:s,s:s,s:i}", key, value ? value : "", "trace", request->request_id, "status_code",
                             outcome->status);
    json_t *errors = item_errors(outcome);
    if (item && errors && json_object_set_new(item, "errors", errors) != 0) {
        json_decref(item);
        return NULL;
    }
    if (!item)
        json_decref(errors);
    return item;
}

/* Responds 207 {top_key: top_value, list_key: [items]}. */
static void respond_multi(struct iam_http_request *request, struct iam_http_response *response,
                          const struct iam_group_member_outcome *outcomes, size_t count, bool by_group,
                          const char *top_key, const char *top_value, const char *list_key)
{
    json_t *items = json_array();
    for (size_t i = 0; items && i < count; i++) {
        json_t *item = by_group ? status_item(request, &outcomes[i], "access_group_id", outcomes[i].group_id)
                                : status_item(request, &outcomes[i], "iam_id", outcomes[i].iam_id);
        if (json_array_append_new(items, item) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    json_t *answer = items ? json_pack("{s:s,s:o}", top_key, top_value ? top_value : "", list_key, items) : NULL;
    if (!answer)
        groups_fail_with(request, response, IAM_ENOMEM, "Out of memory.");
    else
        iam_http_respond_json(request, response, 207, answer);
}

static void remove_members(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char **iam_ids = NULL;
    size_t count = 0;
    struct iam_group_member_outcome *outcomes = NULL;
    const char *group_id = iam_http_path_param(request, 0);
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_api_only_fields(body, members_fields, &err) != IAM_OK ||
        body_string_list(request->arena, body, "members", &iam_ids, &count, &err) != IAM_OK ||
        iam_group_members_remove(api->service, request->arena, &who, group_id, iam_ids, count, &outcomes, &err) !=
            IAM_OK)
        groups_fail(request, response, &err);
    else
        respond_multi(request, response, outcomes, count, false, "access_group_id", group_id, "members");
    json_decref(body);
}

static void remove_from_all_groups(struct iam_http_request *request, struct iam_http_response *response,
                                   void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    const char *iam_id = iam_http_path_param(request, 0);
    struct iam_group_member_outcome *outcomes = NULL;
    size_t count = 0;
    if (iam_group_member_remove_all(api->service, request->arena, &who, iam_http_query(request, "account_id"), iam_id,
                                    &outcomes, &count, &err) != IAM_OK)
        groups_fail(request, response, &err);
    else
        respond_multi(request, response, outcomes, count, true, "iam_id", iam_id, "groups");
}

static void add_to_groups(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    if (!iam_api_authenticate(api, request, response, &who))
        return;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    const char *type = NULL;
    const char **group_ids = NULL;
    size_t count = 0;
    struct iam_group_member_outcome *outcomes = NULL;
    const char *iam_id = iam_http_path_param(request, 0);
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK ||
        iam_api_only_fields(body, all_groups_fields, &err) != IAM_OK ||
        body_string(body, "type", &type, &err) != IAM_OK ||
        body_string_list(request->arena, body, "groups", &group_ids, &count, &err) != IAM_OK ||
        iam_group_member_add_to_groups(api->service, request->arena, &who, iam_http_query(request, "account_id"),
                                       iam_id, type, group_ids, count, &outcomes, &err) != IAM_OK)
        groups_fail(request, response, &err);
    else
        respond_multi(request, response, outcomes, count, true, "iam_id", iam_id, "groups");
    json_decref(body);
}

enum iam_result iam_api_groups_register(struct iam_router *router, struct iam_api *api)
{
    static const struct {
        const char *method;
        const char *pattern;
        iam_http_handler handler;
    } routes[] = {
        {"POST", "/v2/groups", create_group},
        {"GET", "/v2/groups", list_groups},
        {"GET", "/v2/groups/{access_group_id}", get_group},
        {"PATCH", "/v2/groups/{access_group_id}", update_group},
        {"DELETE", "/v2/groups/{access_group_id}", delete_group},
        {"HEAD", "/v2/groups/{access_group_id}/members/{iam_id}", check_member},
        {"DELETE", "/v2/groups/{access_group_id}/members/{iam_id}", remove_member},
        {"PUT", "/v2/groups/{access_group_id}/members", add_members},
        {"GET", "/v2/groups/{access_group_id}/members", list_members},
        {"POST", "/v2/groups/{access_group_id}/members/delete", remove_members},
        {"DELETE", "/v2/groups/_allgroups/members/{iam_id}", remove_from_all_groups},
        {"PUT", "/v2/groups/_allgroups/members/{iam_id}", add_to_groups},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        enum iam_result result = iam_router_add(router, routes[i].method, routes[i].pattern, routes[i].handler, api);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}
