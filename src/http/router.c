/*
 * router.c: maps (method, path) to a handler.
 *
 * Patterns are split into segments once, when added; a lookup splits the
 * request path into spans on the stack (no allocation) and scans the routes
 * linearly, which is fast enough for the few hundred routes of the API.
 *
 * Resolution is resource first: among the patterns that match the path, the
 * most specific one wins (comparing segments left to right, a literal beats
 * a {param}); then the method is looked up among the routes of that pattern.
 * A path whose best pattern lacks the method gets 405 with an Allow header,
 * even if a less specific pattern has the method. HEAD falls back to GET.
 *
 * Each route owns its request statistics (struct iam_http_route_stats,
 * updated by the server); requests matching no route share the router's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "http/http.h"
#include "http/http_internal.h"

/* Deeper paths than this never match (IBM's longest path has 6 segments). */
#define ROUTER_MAX_SEGMENTS 16

struct router_span {
    const char *text;
    size_t length;
};

struct router_segment {
    const char *text; /* into route->pattern; for a param, the name without braces */
    size_t length;
    bool is_param;
};

struct router_route {
    int method;    /* index in the method table */
    char *pattern; /* owned copy; also the route name given to logs */
    struct router_segment segments[ROUTER_MAX_SEGMENTS];
    size_t segment_count;
    iam_http_handler handler;
    void *context;
    struct iam_http_route_stats *stats; /* owned; its own allocation so it never moves */
};

struct iam_router {
    struct router_route *routes;
    size_t count;
    size_t capacity;
    void (*fallback)(struct iam_http_request *request, struct iam_http_response *response, bool method_not_allowed,
                     void *context);
    void *fallback_context;
    struct iam_http_route_stats *unmatched; /* owned: 404, 405 and the server's own refusals */
    struct iam_router_hooks hooks;
};

static const char *const method_names[IAM_HTTP_METHOD_COUNT] = {"GET",   "HEAD",   "POST",   "PUT",
                                                                "PATCH", "DELETE", "OPTIONS"};

int iam_http_method_index(const char *method)
{
    if (!method)
        return -1;
    for (int i = 0; i < IAM_HTTP_METHOD_COUNT; i++) {
        if (strcmp(method, method_names[i]) == 0)
            return i;
    }
    return -1;
}

const char *iam_http_method_name(int index)
{
    return index >= 0 && index < IAM_HTTP_METHOD_COUNT ? method_names[index] : "";
}

json_t *iam_http_error_body(const struct iam_http_request *request, int status, const char *code,
                            const char *message)
{
    return json_pack("{s:[{s:s,s:s}],s:i,s:s?}", "errors", "code", code, "message", message, "status_code", status,
                     "trace", request ? request->request_id : NULL);
}

static void router_default_fallback(struct iam_http_request *request, struct iam_http_response *response,
                                    bool method_not_allowed, void *context)
{
    (void)context;
    if (method_not_allowed)
        iam_http_respond_json(request, response, 405,
                              iam_http_error_body(request, 405, "method_not_allowed",
                                                  "The method is not allowed for the requested URL."));
    else
        iam_http_respond_json(request, response, 404,
                              iam_http_error_body(request, 404, "not_found",
                                                  "The requested URL was not found on the server."));
}

struct iam_router *iam_router_new(void)
{
    struct iam_router *router = calloc(1, sizeof *router);
    if (!router)
        return NULL;
    router->unmatched = calloc(1, sizeof *router->unmatched);
    if (!router->unmatched) {
        free(router);
        return NULL;
    }
    router->fallback = router_default_fallback;
    return router;
}

void iam_router_free(struct iam_router *router)
{
    if (!router)
        return;
    for (size_t i = 0; i < router->count; i++) {
        free(router->routes[i].pattern);
        free(router->routes[i].stats);
    }
    free(router->routes);
    free(router->unmatched);
    free(router);
}

void iam_router_set_fallback(struct iam_router *router,
                             void (*fallback)(struct iam_http_request *request, struct iam_http_response *response,
                                              bool method_not_allowed, void *context),
                             void *context)
{
    router->fallback = fallback ? fallback : router_default_fallback;
    router->fallback_context = fallback ? context : NULL;
}

/*
 * Splits an absolute path into segments. A single trailing slash is
 * tolerated ("/a/b/" is "/a/b"); empty segments, "." and ".." are not.
 * False when the path cannot match any route.
 */
static bool router_split_path(const char *path, struct router_span *spans, size_t *count)
{
    *count = 0;
    if (!path || path[0] != '/')
        return false;
    const char *cursor = path + 1;
    if (*cursor == '\0')
        return true; /* "/" */
    for (;;) {
        const char *slash = strchr(cursor, '/');
        size_t length = slash ? (size_t)(slash - cursor) : strlen(cursor);
        if (length == 0)
            return false; /* "//" or "/a//b" */
        if ((length == 1 && cursor[0] == '.') || (length == 2 && cursor[0] == '.' && cursor[1] == '.'))
            return false;
        if (*count == ROUTER_MAX_SEGMENTS)
            return false;
        spans[*count].text = cursor;
        spans[*count].length = length;
        (*count)++;
        if (!slash)
            return true;
        cursor = slash + 1;
        if (*cursor == '\0')
            return true; /* trailing slash */
    }
}

static bool router_param_name_valid(const char *name, size_t length)
{
    if (length == 0)
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

/* Fills route->segments from route->pattern; IAM_EINVAL when the pattern is malformed. */
static enum iam_result router_parse_pattern(struct router_route *route)
{
    struct router_span spans[ROUTER_MAX_SEGMENTS];
    size_t count = 0;
    size_t pattern_length = strlen(route->pattern);
    /* Patterns are canonical: no trailing slash except the root itself. */
    if (pattern_length > 1 && route->pattern[pattern_length - 1] == '/')
        return IAM_EINVAL;
    if (!router_split_path(route->pattern, spans, &count))
        return IAM_EINVAL;
    size_t params = 0;
    for (size_t i = 0; i < count; i++) {
        const char *text = spans[i].text;
        size_t length = spans[i].length;
        struct router_segment *segment = &route->segments[i];
        if (text[0] == '{') {
            if (length < 3 || text[length - 1] != '}' || !router_param_name_valid(text + 1, length - 2))
                return IAM_EINVAL;
            if (++params > IAM_HTTP_MAX_PATH_PARAMS)
                return IAM_EINVAL;
            segment->text = text + 1;
            segment->length = length - 2;
            segment->is_param = true;
        } else {
            if (memchr(text, '{', length) || memchr(text, '}', length))
                return IAM_EINVAL;
            segment->text = text;
            segment->length = length;
            segment->is_param = false;
        }
    }
    route->segment_count = count;
    return IAM_OK;
}

/* True when both routes have a {param} at the same positions (then they name the same resource). */
static bool router_same_shape(const struct router_route *a, const struct router_route *b)
{
    if (a->segment_count != b->segment_count)
        return false;
    for (size_t i = 0; i < a->segment_count; i++) {
        if (a->segments[i].is_param != b->segments[i].is_param)
            return false;
        if (!a->segments[i].is_param &&
            (a->segments[i].length != b->segments[i].length ||
             memcmp(a->segments[i].text, b->segments[i].text, a->segments[i].length) != 0))
            return false;
    }
    return true;
}

enum iam_result iam_router_add(struct iam_router *router, const char *method, const char *pattern,
                               iam_http_handler handler, void *context)
{
    enum iam_result result = IAM_OK;
    struct router_route route = {0};
    if (!router || !method || !pattern || !handler)
        return IAM_EINVAL;
    route.method = iam_http_method_index(method);
    if (route.method < 0)
        return IAM_EINVAL;
    route.pattern = strdup(pattern);
    if (!route.pattern)
        return IAM_ENOMEM;
    route.handler = handler;
    route.context = context;
    route.stats = calloc(1, sizeof *route.stats);
    if (!route.stats) {
        result = IAM_ENOMEM;
        goto fail;
    }
    result = router_parse_pattern(&route);
    if (result != IAM_OK)
        goto fail;
    for (size_t i = 0; i < router->count; i++) {
        if (router->routes[i].method == route.method && router_same_shape(&router->routes[i], &route)) {
            result = IAM_ECONFLICT;
            goto fail;
        }
    }
    if (router->count == router->capacity) {
        size_t capacity = router->capacity ? router->capacity * 2 : 32;
        struct router_route *routes = realloc(router->routes, capacity * sizeof *routes);
        if (!routes) {
            result = IAM_ENOMEM;
            goto fail;
        }
        router->routes = routes;
        router->capacity = capacity;
    }
    /* The segments point into route.pattern, a heap string that does not move with the struct. */
    router->routes[router->count++] = route;
    return IAM_OK;

fail:
    free(route.pattern);
    free(route.stats);
    return result;
}

static bool router_route_matches(const struct router_route *route, const struct router_span *spans, size_t count)
{
    if (route->segment_count != count)
        return false;
    for (size_t i = 0; i < count; i++) {
        const struct router_segment *segment = &route->segments[i];
        if (segment->is_param)
            continue;
        if (segment->length != spans[i].length || memcmp(segment->text, spans[i].text, spans[i].length) != 0)
            return false;
    }
    return true;
}

/* >0 when `a` is more specific than `b` (the leftmost literal-vs-param difference decides), 0 when alike. */
static int router_compare_specificity(const struct router_route *a, const struct router_route *b)
{
    for (size_t i = 0; i < a->segment_count; i++) {
        if (a->segments[i].is_param != b->segments[i].is_param)
            return a->segments[i].is_param ? -1 : 1;
    }
    return 0;
}

/* "GET, HEAD, POST" from a bit set of method indexes; HEAD is implied by GET. */
static void router_allow_text(unsigned methods, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    if (methods & (1u << IAM_HTTP_METHOD_GET))
        methods |= 1u << IAM_HTTP_METHOD_HEAD;
    for (int i = 0; i < IAM_HTTP_METHOD_COUNT; i++) {
        if (!(methods & (1u << i)))
            continue;
        int written = snprintf(out + used, size - used, "%s%s", used ? ", " : "", method_names[i]);
        if (written < 0 || (size_t)written >= size - used)
            return;
        used += (size_t)written;
    }
}

void iam_router_dispatch(const struct iam_router *router, struct iam_http_request *request,
                         struct iam_http_response *response)
{
    struct router_span spans[ROUTER_MAX_SEGMENTS];
    size_t count = 0;
    const struct router_route *best = NULL;   /* most specific pattern matching the path */
    const struct router_route *chosen = NULL; /* route of that pattern for the request's method */
    const struct router_route *get_route = NULL;
    unsigned allowed = 0;
    int method = iam_http_method_index(request->method);

    request->route = NULL;
    request->route_stats = router->unmatched;
    request->path_param_count = 0;
    if (router_split_path(request->path, spans, &count)) {
        for (size_t i = 0; i < router->count; i++) {
            const struct router_route *route = &router->routes[i];
            if (!router_route_matches(route, spans, count))
                continue;
            int order = best ? router_compare_specificity(route, best) : 1;
            if (order < 0)
                continue;
            if (order > 0) {
                best = route;
                chosen = NULL;
                get_route = NULL;
                allowed = 0;
            }
            allowed |= 1u << route->method;
            if (route->method == method)
                chosen = route;
            if (route->method == IAM_HTTP_METHOD_GET)
                get_route = route;
        }
    }
    if (!chosen && method == IAM_HTTP_METHOD_HEAD)
        chosen = get_route;

    if (!best) {
        router->fallback(request, response, method < 0, router->fallback_context);
        return;
    }
    request->route = best->pattern;
    if (!chosen) {
        char allow[64];
        router_allow_text(allowed, allow, sizeof allow);
        iam_http_add_header(request, response, "Allow", allow);
        router->fallback(request, response, true, router->fallback_context);
        return;
    }

    for (size_t i = 0; i < count; i++) {
        if (!chosen->segments[i].is_param)
            continue;
        char *value = iam_arena_strndup(request->arena, spans[i].text, spans[i].length);
        if (!value) {
            iam_log(IAM_LOG_ERROR, "http_router", "out of memory copying a path parameter");
            iam_http_respond_json(request, response, 500,
                                  iam_http_error_body(request, 500, "internal_error", "Out of memory."));
            return;
        }
        request->path_params[request->path_param_count++] = value;
    }
    request->route_stats = chosen->stats;
    if (!router->hooks.before || router->hooks.before(request, response, router->hooks.context))
        chosen->handler(request, response, chosen->context);
    if (router->hooks.after)
        router->hooks.after(request, response, router->hooks.context);
}

void iam_router_set_hooks(struct iam_router *router, const struct iam_router_hooks *hooks)
{
    if (!router)
        return;
    if (hooks)
        router->hooks = *hooks;
    else
        memset(&router->hooks, 0, sizeof router->hooks);
}

void iam_router_each_stats(const struct iam_router *router,
                           void (*visit)(void *context, const char *method, const char *pattern,
                                         const struct iam_http_route_stats *stats),
                           void *context)
{
    if (!router || !visit)
        return;
    for (size_t i = 0; i < router->count; i++)
        visit(context, iam_http_method_name(router->routes[i].method), router->routes[i].pattern,
              router->routes[i].stats);
    visit(context, NULL, "unmatched", router->unmatched);
}

struct iam_http_route_stats *iam_router_unmatched_stats(const struct iam_router *router)
{
    return router ? router->unmatched : NULL;
}
