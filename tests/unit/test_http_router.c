/*
 * test_http_router.c: route matching, {param} captures, trailing slashes,
 * literal precedence, the 404/405 fallback, refused paths and patterns, and
 * the hooks run around handlers.
 * Requests are built by hand (no connection), each with its own arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

/* Each handler answers with its name so a test can see which route ran. */
static void handler_named(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    iam_http_respond_raw(request, response, 200, "text/plain", context, strlen(context));
}

struct fixture {
    struct iam_router *router;
    struct iam_arena *arena;
    struct iam_http_request request;
    struct iam_http_response response;
};

static void add(struct iam_router *router, const char *method, const char *pattern, const char *name)
{
    assert_int_equal(iam_router_add(router, method, pattern, handler_named, (void *)name), IAM_OK);
}

static int setup(void **state)
{
    static struct fixture fixture;
    memset(&fixture, 0, sizeof fixture);
    fixture.router = iam_router_new();
    assert_non_null(fixture.router);
    add(fixture.router, "GET", "/", "root");
    add(fixture.router, "GET", "/v1/serviceids", "list");
    add(fixture.router, "POST", "/v1/serviceids", "create");
    add(fixture.router, "GET", "/v1/serviceids/{id}", "get");
    add(fixture.router, "DELETE", "/v1/serviceids/{id}", "delete");
    add(fixture.router, "POST", "/v1/serviceids/{id}/lock", "lock");
    add(fixture.router, "GET", "/v1/apikeys/details", "details");
    add(fixture.router, "GET", "/v1/apikeys/{id}", "apikey");
    add(fixture.router, "GET", "/v1/a/{x}/c", "a-param-c");
    add(fixture.router, "GET", "/v1/a/b/{y}", "a-b-param");
    add(fixture.router, "GET", "/v1/p/{a}/{b}/{c}/{d}", "four");
    *state = &fixture;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fixture = *state;
    iam_router_free(fixture->router);
    return 0;
}

/* Dispatches and returns the status; `fixture->response.body` names the handler that ran. */
static int run(struct fixture *fixture, const char *method, const char *path)
{
    iam_arena_free(fixture->arena);
    json_decref(fixture->response.body_json);
    fixture->arena = iam_arena_new();
    assert_non_null(fixture->arena);
    memset(&fixture->request, 0, sizeof fixture->request);
    memset(&fixture->response, 0, sizeof fixture->response);
    fixture->request.arena = fixture->arena;
    fixture->request.method = method;
    fixture->request.path = path;
    fixture->request.body = "";
    fixture->request.request_id = "0123456789abcdef0123456789abcdef";
    iam_router_dispatch(fixture->router, &fixture->request, &fixture->response);
    return fixture->response.status;
}

static void expect_handler(struct fixture *fixture, const char *method, const char *path, const char *name)
{
    assert_int_equal(run(fixture, method, path), 200);
    assert_non_null(fixture->response.body);
    assert_string_equal(fixture->response.body, name);
}

static const char *response_header(const struct iam_http_response *response, const char *name)
{
    for (const struct iam_http_header_line *line = response->headers; line; line = line->next) {
        if (strcmp(line->name, name) == 0)
            return line->value;
    }
    return NULL;
}

static void free_last(struct fixture *fixture)
{
    json_decref(fixture->response.body_json);
    fixture->response.body_json = NULL;
    iam_arena_free(fixture->arena);
    fixture->arena = NULL;
}

static void test_literal_routes(void **state)
{
    struct fixture *fixture = *state;
    expect_handler(fixture, "GET", "/", "root");
    expect_handler(fixture, "GET", "/v1/serviceids", "list");
    expect_handler(fixture, "POST", "/v1/serviceids", "create");
    assert_string_equal(fixture->request.route, "/v1/serviceids");
    assert_int_equal(fixture->request.path_param_count, 0);
    free_last(fixture);
}

static void test_params_are_captured(void **state)
{
    struct fixture *fixture = *state;
    expect_handler(fixture, "GET", "/v1/serviceids/ServiceId-123", "get");
    assert_string_equal(fixture->request.route, "/v1/serviceids/{id}");
    assert_int_equal(fixture->request.path_param_count, 1);
    assert_string_equal(iam_http_path_param(&fixture->request, 0), "ServiceId-123");
    assert_null(iam_http_path_param(&fixture->request, 1));

    expect_handler(fixture, "POST", "/v1/serviceids/abc/lock", "lock");
    assert_string_equal(iam_http_path_param(&fixture->request, 0), "abc");

    expect_handler(fixture, "GET", "/v1/p/1/22/333/4444", "four");
    assert_int_equal(fixture->request.path_param_count, 4);
    assert_string_equal(iam_http_path_param(&fixture->request, 0), "1");
    assert_string_equal(iam_http_path_param(&fixture->request, 1), "22");
    assert_string_equal(iam_http_path_param(&fixture->request, 2), "333");
    assert_string_equal(iam_http_path_param(&fixture->request, 3), "4444");
    free_last(fixture);
}

static void test_trailing_slash(void **state)
{
    struct fixture *fixture = *state;
    expect_handler(fixture, "GET", "/v1/serviceids/", "list");
    expect_handler(fixture, "GET", "/v1/serviceids/abc/", "get");
    assert_string_equal(iam_http_path_param(&fixture->request, 0), "abc");
    /* Only one trailing slash. */
    assert_int_equal(run(fixture, "GET", "/v1/serviceids//"), 404);
    free_last(fixture);
}

static void test_literal_wins_over_param(void **state)
{
    struct fixture *fixture = *state;
    expect_handler(fixture, "GET", "/v1/apikeys/details", "details");
    expect_handler(fixture, "GET", "/v1/apikeys/ApiKey-1", "apikey");
    /* The leftmost difference decides: /v1/a/b/{y} beats /v1/a/{x}/c for /v1/a/b/c. */
    expect_handler(fixture, "GET", "/v1/a/b/c", "a-b-param");
    expect_handler(fixture, "GET", "/v1/a/z/c", "a-param-c");
    free_last(fixture);

    /* Registration order does not matter. */
    struct iam_router *router = iam_router_new();
    assert_non_null(router);
    add(router, "GET", "/x/{id}", "param");
    add(router, "GET", "/x/me", "literal");
    struct iam_router *saved = fixture->router;
    fixture->router = router;
    expect_handler(fixture, "GET", "/x/me", "literal");
    expect_handler(fixture, "GET", "/x/you", "param");
    fixture->router = saved;
    free_last(fixture);
    iam_router_free(router);
}

static void test_not_found(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(run(fixture, "GET", "/v2/serviceids"), 404);
    assert_null(fixture->request.route);
    json_t *body = fixture->response.body_json;
    assert_non_null(body);
    assert_int_equal(json_integer_value(json_object_get(body, "status_code")), 404);
    assert_string_equal(json_string_value(json_object_get(body, "trace")), "0123456789abcdef0123456789abcdef");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(body, "errors"), 0), "code")),
                        "not_found");
    assert_int_equal(run(fixture, "GET", "/v1/serviceids/a/b/c/d"), 404);
    assert_int_equal(run(fixture, "GET", "/v1"), 404);
    free_last(fixture);
}

static void test_method_not_allowed(void **state)
{
    struct fixture *fixture = *state;
    assert_int_equal(run(fixture, "PUT", "/v1/serviceids"), 405);
    assert_string_equal(response_header(&fixture->response, "Allow"), "GET, HEAD, POST");
    assert_string_equal(fixture->request.route, "/v1/serviceids");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(fixture->response.body_json, "errors"), 0), "code")),
                        "method_not_allowed");

    assert_int_equal(run(fixture, "PATCH", "/v1/serviceids/abc"), 405);
    assert_string_equal(response_header(&fixture->response, "Allow"), "GET, HEAD, DELETE");

    /* Resource first: /v1/apikeys/details has only GET, the {id} route is not consulted. */
    assert_int_equal(run(fixture, "DELETE", "/v1/apikeys/details"), 405);

    /* Methods outside the served set are 405 whatever the path. */
    assert_int_equal(run(fixture, "BREW", "/v1/serviceids"), 405);
    assert_int_equal(run(fixture, "TRACE", "/nowhere"), 405);
    assert_int_equal(run(fixture, "get", "/v1/serviceids"), 405);
    free_last(fixture);
}

static void test_head_uses_get(void **state)
{
    struct fixture *fixture = *state;
    expect_handler(fixture, "HEAD", "/v1/serviceids/abc", "get");
    assert_int_equal(run(fixture, "OPTIONS", "/v1/serviceids"), 405);
    free_last(fixture);
}

static void test_bad_paths(void **state)
{
    struct fixture *fixture = *state;
    const char *paths[] = {"",          "v1/serviceids",        "//",          "//v1/serviceids",
                           "/v1//serviceids", "/v1/./serviceids", "/v1/serviceids/..", "/v1/serviceids/.",
                           "/./",       "/..",                  "/v1/serviceids/abc//lock",
                           "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(run(fixture, "GET", paths[i]), 404);
    }
    assert_int_equal(run(fixture, "GET", NULL), 404);
    /* Dots inside a segment are ordinary characters. */
    expect_handler(fixture, "GET", "/v1/serviceids/a.b", "get");
    expect_handler(fixture, "GET", "/v1/serviceids/...", "get");
    free_last(fixture);
}

static void test_bad_patterns(void **state)
{
    (void)state;
    struct iam_router *router = iam_router_new();
    assert_non_null(router);
    const char *patterns[] = {"",         "v1",        "/v1/",         "/v1//x",     "/v1/{}",
                              "/v1/{id",  "/v1/id}",   "/v1/x{id}",    "/v1/{a-b}",  "/v1/./x",
                              "/v1/../x", "/{a}/{b}/{c}/{d}/{e}"};
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        assert_int_equal(iam_router_add(router, "GET", patterns[i], handler_named, "x"), IAM_EINVAL);
    }
    assert_int_equal(iam_router_add(router, "FETCH", "/v1", handler_named, "x"), IAM_EINVAL);
    assert_int_equal(iam_router_add(router, "GET", "/v1", NULL, NULL), IAM_EINVAL);
    assert_int_equal(iam_router_add(router, "GET", "/v1/{id}", handler_named, "x"), IAM_OK);
    /* Same method and shape, even under another parameter name. */
    assert_int_equal(iam_router_add(router, "GET", "/v1/{name}", handler_named, "x"), IAM_ECONFLICT);
    assert_int_equal(iam_router_add(router, "POST", "/v1/{name}", handler_named, "x"), IAM_OK);
    iam_router_free(router);
}

struct fallback_record {
    int calls;
    bool method_not_allowed;
};

static void custom_fallback(struct iam_http_request *request, struct iam_http_response *response,
                            bool method_not_allowed, void *context)
{
    struct fallback_record *record = context;
    record->calls++;
    record->method_not_allowed = method_not_allowed;
    iam_http_respond_json(request, response, method_not_allowed ? 405 : 404, json_pack("{s:b}", "custom", 1));
}

static void test_custom_fallback(void **state)
{
    struct fixture *fixture = *state;
    struct fallback_record record = {0};
    iam_router_set_fallback(fixture->router, custom_fallback, &record);
    assert_int_equal(run(fixture, "GET", "/missing"), 404);
    assert_int_equal(record.calls, 1);
    assert_false(record.method_not_allowed);
    assert_true(json_is_true(json_object_get(fixture->response.body_json, "custom")));
    assert_int_equal(run(fixture, "PUT", "/"), 405);
    assert_int_equal(record.calls, 2);
    assert_true(record.method_not_allowed);
    assert_string_equal(response_header(&fixture->response, "Allow"), "GET, HEAD");
    iam_router_set_fallback(fixture->router, NULL, NULL); /* back to the default */
    assert_int_equal(run(fixture, "GET", "/missing"), 404);
    assert_int_equal(record.calls, 2);
    free_last(fixture);
}

/* What the hooks saw, in order. */
struct hook_record {
    char trace[256];
    bool refuse;
};

static void trace_add(struct hook_record *record, const char *what)
{
    size_t used = strlen(record->trace);
    snprintf(record->trace + used, sizeof record->trace - used, "%s%s", used ? "," : "", what);
}

static bool hook_before(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct hook_record *record = context;
    char what[128];
    snprintf(what, sizeof what, "before %s %s %s", request->method, request->route,
             request->path_param_count ? request->path_params[0] : "-");
    trace_add(record, what);
    if (record->refuse)
        iam_http_respond_raw(request, response, 503, "text/plain", "refused", 7);
    return !record->refuse;
}

static void hook_after(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct hook_record *record = context;
    char what[64];
    snprintf(what, sizeof what, "after %d %.*s", response->status, (int)response->body_length,
             response->body ? response->body : "");
    trace_add(record, what);
    (void)request;
}

static void test_hooks(void **state)
{
    struct fixture *fixture = *state;
    struct hook_record record = {0};
    struct iam_router_hooks hooks = {.before = hook_before, .after = hook_after, .context = &record};
    iam_router_set_hooks(fixture->router, &hooks);

    /* Around the handler, with the route template and the parameters already known. */
    expect_handler(fixture, "DELETE", "/v1/serviceids/abc", "delete");
    assert_string_equal(record.trace, "before DELETE /v1/serviceids/{id} abc,after 200 delete");

    /* A refusing `before` skips the handler; `after` still sees the answer. */
    record.trace[0] = '\0';
    record.refuse = true;
    assert_int_equal(run(fixture, "POST", "/v1/serviceids"), 503);
    assert_string_equal(fixture->response.body, "refused");
    assert_string_equal(record.trace, "before POST /v1/serviceids -,after 503 refused");

    /* Nothing matched, or not this method: no handler, no hooks. */
    record.trace[0] = '\0';
    record.refuse = false;
    assert_int_equal(run(fixture, "GET", "/missing"), 404);
    assert_int_equal(run(fixture, "PUT", "/v1/serviceids"), 405);
    assert_string_equal(record.trace, "");

    /* Removed: handlers run alone again. */
    iam_router_set_hooks(fixture->router, NULL);
    expect_handler(fixture, "GET", "/v1/serviceids", "list");
    assert_string_equal(record.trace, "");
    free_last(fixture);
}

static void test_many_routes(void **state)
{
    (void)state;
    struct iam_router *router = iam_router_new();
    assert_non_null(router);
    static char names[300][48];
    for (int i = 0; i < 300; i++) {
        snprintf(names[i], sizeof names[i], "/v1/r%d/{id}/sub", i);
        assert_int_equal(iam_router_add(router, "GET", names[i], handler_named, names[i]), IAM_OK);
    }
    struct fixture local = {.router = router};
    for (int i = 0; i < 300; i += 37) {
        char path[64];
        snprintf(path, sizeof path, "/v1/r%d/xyz/sub", i);
        expect_handler(&local, "GET", path, names[i]);
        assert_string_equal(iam_http_path_param(&local.request, 0), "xyz");
    }
    free_last(&local);
    iam_router_free(router);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_literal_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_are_captured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_slash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_wins_over_param, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_uses_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
        cmocka_unit_test(test_bad_patterns),
        cmocka_unit_test_setup_teardown(test_custom_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
        cmocka_unit_test(test_many_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
