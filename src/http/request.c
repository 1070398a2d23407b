/*
 * request.c: reading a request (headers, query arguments, path parameters)
 * and filling a response.
 *
 * `request->connection` is the struct MHD_Connection of the request, or NULL
 * for requests built by hand (unit tests), which then have no headers and no
 * query arguments. Query argument names are compared case-sensitively here
 * (MHD's own lookup ignores case for every kind of value).
 */
#include <microhttpd.h>
#include <string.h>

#include "common/log.h"
#include "http/http.h"
#include "http/http_internal.h"

const char *iam_http_header(const struct iam_http_request *request, const char *name)
{
    if (!request || !request->connection || !name)
        return NULL;
    return MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, name);
}

struct query_lookup {
    const char *name;
    size_t name_length;
    const char *value;
    bool found;
};

static enum MHD_Result query_lookup_visit(void *context, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                          const char *value, size_t value_size)
{
    struct query_lookup *lookup = context;
    (void)kind;
    (void)value_size;
    if (!key || key_size != lookup->name_length || memcmp(key, lookup->name, key_size) != 0)
        return MHD_YES;
    lookup->value = value ? value : "";
    lookup->found = true;
    return MHD_NO; /* first occurrence wins */
}

const char *iam_http_query(const struct iam_http_request *request, const char *name)
{
    if (!request || !request->connection || !name)
        return NULL;
    struct query_lookup lookup = {.name = name, .name_length = strlen(name)};
    MHD_get_connection_values_n(request->connection, MHD_GET_ARGUMENT_KIND, query_lookup_visit, &lookup);
    return lookup.found ? lookup.value : NULL;
}

struct query_walk {
    bool (*visit)(void *context, const char *name, const char *value);
    void *context;
};

static enum MHD_Result query_walk_visit(void *context, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct query_walk *walk = context;
    (void)kind;
    if (!key)
        return MHD_YES;
    return walk->visit(walk->context, key, value ? value : "") ? MHD_YES : MHD_NO;
}

void iam_http_query_each(const struct iam_http_request *request,
                         bool (*visit)(void *context, const char *name, const char *value), void *context)
{
    if (!request || !request->connection || !visit)
        return;
    struct query_walk walk = {.visit = visit, .context = context};
    MHD_get_connection_values(request->connection, MHD_GET_ARGUMENT_KIND, query_walk_visit, &walk);
}

const char *iam_http_path_param(const struct iam_http_request *request, size_t index)
{
    if (!request || index >= request->path_param_count)
        return NULL;
    return request->path_params[index];
}

/* Drops whatever body a previous respond_* call set. */
static void response_clear_body(struct iam_http_response *response)
{
    json_decref(response->body_json);
    response->body_json = NULL;
    response->body = NULL;
    response->body_length = 0;
    response->content_type = NULL;
}

void iam_http_respond_json(struct iam_http_request *request, struct iam_http_response *response, int status,
                           json_t *body)
{
    response_clear_body(response);
    if (!body) {
        /* json_pack or json_object failed in the handler. Status 0 makes the server send its
         * default 500 rather than this status with an empty body. */
        iam_log(IAM_LOG_ERROR, "http_response", "JSON body missing for status %d (route %s)", status,
                request && request->route ? request->route : "unmatched");
        response->status = 0;
        return;
    }
    response->status = status;
    response->body_json = body;
}

void iam_http_respond_empty(struct iam_http_response *response, int status)
{
    response_clear_body(response);
    response->status = status;
}

void iam_http_respond_raw(struct iam_http_request *request, struct iam_http_response *response, int status,
                          const char *content_type, const void *body, size_t length)
{
    response_clear_body(response);
    char *copy = iam_arena_strndup(request->arena, body ? body : "", body ? length : 0);
    const char *type = content_type ? iam_arena_strdup(request->arena, content_type) : NULL;
    if (!copy || (content_type && !type)) {
        iam_log(IAM_LOG_ERROR, "http_response", "out of memory copying a response body");
        response->status = 0; /* the server's default 500 */
        return;
    }
    response->status = status;
    response->content_type = type;
    response->body = copy;
    response->body_length = body ? length : 0;
}

/* Header names are tokens; values may hold neither CR, LF nor NUL (header injection). */
static bool header_line_valid(const char *name, const char *value)
{
    if (!name[0])
        return false;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if (*c <= ' ' || *c >= 127 || *c == ':')
            return false;
    }
    return strpbrk(value, "\r\n") == NULL;
}

void iam_http_add_header(struct iam_http_request *request, struct iam_http_response *response, const char *name,
                         const char *value)
{
    if (!name || !value || !header_line_valid(name, value)) {
        iam_log(IAM_LOG_ERROR, "http_response", "refused a malformed response header");
        return;
    }
    struct iam_http_header_line *line = iam_arena_alloc(request->arena, sizeof *line);
    if (!line)
        goto out_of_memory;
    line->name = iam_arena_strdup(request->arena, name);
    line->value = iam_arena_strdup(request->arena, value);
    if (!line->name || !line->value)
        goto out_of_memory;
    /* Appended, so headers go out in the order they were added. */
    struct iam_http_header_line **tail = &response->headers;
    while (*tail)
        tail = &(*tail)->next;
    *tail = line;
    return;

out_of_memory:
    iam_log(IAM_LOG_ERROR, "http_response", "out of memory adding a response header");
}
