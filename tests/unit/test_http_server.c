/*
 * test_http_server.c: a real server on 127.0.0.1, port 0, with a tiny router,
 * driven by a raw-socket client that writes HTTP/1.1 by hand. Checks the
 * answers and headers, keep-alive (two requests on one socket: the MHD
 * trap), body caps (413 before and during the body), empty JSON bodies,
 * the 404/405 fallback, NUL bytes in URLs, the access log, start errors,
 * draining on stop, the header and query-string caps, the connection cap,
 * the whole-request deadline, per-route statistics, and (under ASan) that
 * nothing leaks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "http/http.h"

#define MAX_BODY 1024

/* --- handlers --- */

static void handle_hello(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    request->log_identity = "iam-ServiceId-test";
    iam_http_respond_json(request, response, 200,
                          json_pack("{s:s,s:s?}", "hello", "world", "x_test", iam_http_header(request, "x-test")));
}

static void handle_echo(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    iam_http_respond_raw(request, response, 200, "text/plain", request->body, request->body_length);
}

static void handle_json(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    iam_http_respond_json(request, response, 200,
                          json_pack("{s:I,s:s,s:s?}", "length", (json_int_t)request->body_length, "body",
                                    request->body, "content_type", iam_http_header(request, "Content-Type")));
}

static void handle_item(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    iam_http_respond_json(request, response, 200, json_pack("{s:s}", "id", iam_http_path_param(request, 0)));
}

static bool count_query(void *context, const char *name, const char *value)
{
    (void)name;
    (void)value;
    (*(int *)context)++;
    return true;
}

static void handle_query(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    int count = 0;
    iam_http_query_each(request, count_query, &count);
    iam_http_respond_json(request, response, 200,
                          json_pack("{s:s?,s:s?,s:s?,s:s?,s:i}", "name", iam_http_query(request, "name"), "empty",
                                    iam_http_query(request, "empty"), "Name", iam_http_query(request, "Name"),
                                    "missing", iam_http_query(request, "missing"), "count", count));
}

static void handle_nothing(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)request;
    (void)response;
    (void)context;
}

static void handle_headers(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    iam_http_add_header(request, response, "Cache-Control", "max-age=60");
    iam_http_add_header(request, response, "X-Extra", "1");
    iam_http_add_header(request, response, "X-Bad", "a\r\nSet-Cookie: x=1");
    iam_http_respond_json(request, response, 201, json_pack("{s:b}", "ok", 1));
}

static void handle_whoami(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    iam_http_respond_json(request, response, 200, json_pack("{s:s}", "client", request->client_address));
}

static void handle_empty(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)request;
    (void)context;
    iam_http_respond_empty(response, 204);
}

static void handle_slow(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    iam_http_respond_json(request, response, 200, json_pack("{s:b}", "slow", 1));
}

static void error_responder(struct iam_http_request *request, struct iam_http_response *response, int status,
                            const char *message)
{
    iam_http_respond_json(request, response, status,
                          json_pack("{s:s,s:i,s:s}", "custom_error", message, "status", status, "trace",
                                    request->request_id));
}

/* --- a raw HTTP/1.1 client --- */

struct client {
    int fd;
    char data[256 * 1024]; /* bytes received and not yet consumed */
    size_t length;
};

struct reply {
    int status;
    char head[8192]; /* status line and headers, NUL-terminated */
    char body[64 * 1024];
    size_t body_length;
};

static struct client *client_open(int family, uint16_t port)
{
    struct client *client = calloc(1, sizeof *client);
    assert_non_null(client);
    client->fd = socket(family, SOCK_STREAM, 0);
    assert_true(client->fd >= 0);
    struct timeval timeout = {.tv_sec = 5};
    assert_int_equal(setsockopt(client->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), 0);
    int connected;
    if (family == AF_INET6) {
        struct sockaddr_in6 address = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        assert_int_equal(inet_pton(AF_INET6, "::1", &address.sin6_addr), 1);
        connected = connect(client->fd, (struct sockaddr *)&address, sizeof address);
    } else {
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
        assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &address.sin_addr), 1);
        connected = connect(client->fd, (struct sockaddr *)&address, sizeof address);
    }
    assert_int_equal(connected, 0);
    return client;
}

static void client_close(struct client *client)
{
    close(client->fd);
    free(client);
}

static void client_send(struct client *client, const void *data, size_t length)
{
    const char *cursor = data;
    while (length > 0) {
        ssize_t sent = send(client->fd, cursor, length, MSG_NOSIGNAL);
        assert_true(sent > 0);
        cursor += sent;
        length -= (size_t)sent;
    }
}

static void client_send_text(struct client *client, const char *text)
{
    client_send(client, text, strlen(text));
}

/* Reads more bytes; false on end of stream. */
static bool client_fill(struct client *client)
{
    assert_true(client->length < sizeof client->data);
    ssize_t received = recv(client->fd, client->data + client->length, sizeof client->data - client->length, 0);
    assert_true(received >= 0); /* a timeout fails the test */
    client->length += (size_t)received;
    return received > 0;
}

static void client_consume(struct client *client, size_t count)
{
    memmove(client->data, client->data + count, client->length - count);
    client->length -= count;
}

/* The value of a header in `reply` (case-insensitive name), copied into `out`; false when absent. */
static bool reply_header(const struct reply *reply, const char *name, char *out, size_t size)
{
    size_t name_length = strlen(name);
    for (const char *line = strstr(reply->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *start = line + 2;
        if (strncasecmp(start, name, name_length) == 0 && start[name_length] == ':') {
            const char *value = start + name_length + 1;
            while (*value == ' ')
                value++;
            const char *end = strstr(value, "\r\n");
            size_t length = end ? (size_t)(end - value) : strlen(value);
            if (length >= size)
                length = size - 1;
            memcpy(out, value, length);
            out[length] = '\0';
            return true;
        }
    }
    return false;
}

static int reply_header_count(const struct reply *reply, const char *name)
{
    int count = 0;
    size_t name_length = strlen(name);
    for (const char *line = strstr(reply->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, name, name_length) == 0 && line[2 + name_length] == ':')
            count++;
    }
    return count;
}

/* Reads one response; `head_request` when it answers a HEAD (no body follows). */
static void client_read(struct client *client, struct reply *reply, bool head_request)
{
    memset(reply, 0, sizeof *reply);
    char *end = NULL;
    while (!(end = memmem(client->data, client->length, "\r\n\r\n", 4)))
        assert_true(client_fill(client));
    size_t head_length = (size_t)(end - client->data) + 2; /* keep the last header's CRLF */
    assert_true(head_length < sizeof reply->head);
    memcpy(reply->head, client->data, head_length);
    reply->head[head_length] = '\0';
    client_consume(client, head_length + 2);
    assert_int_equal(sscanf(reply->head, "HTTP/1.1 %d", &reply->status), 1);

    char value[64];
    size_t content_length = 0;
    if (reply_header(reply, "Content-Length", value, sizeof value))
        content_length = strtoul(value, NULL, 10);
    assert_false(reply_header(reply, "Transfer-Encoding", value, sizeof value));
    if (head_request || reply->status == 204 || reply->status == 304)
        return;
    assert_true(content_length < sizeof reply->body);
    while (client->length < content_length)
        assert_true(client_fill(client));
    memcpy(reply->body, client->data, content_length);
    reply->body[content_length] = '\0';
    reply->body_length = content_length;
    client_consume(client, content_length);
}

/* True when the server closed the connection (nothing more to read). */
static bool client_closed(struct client *client)
{
    if (client->length != 0)
        return false;
    char byte;
    ssize_t received = recv(client->fd, &byte, 1, 0);
    return received == 0 || (received < 0 && errno == ECONNRESET);
}

static json_t *reply_json(const struct reply *reply)
{
    json_error_t error;
    json_t *body = json_loadb(reply->body, reply->body_length, JSON_REJECT_DUPLICATES, &error);
    assert_non_null(body);
    return body;
}

/* --- fixture --- */

struct fixture {
    struct iam_router *router;
    struct iam_http_server *server;
    uint16_t port;
};

static struct iam_router *make_router(void)
{
    struct iam_router *router = iam_router_new();
    assert_non_null(router);
    assert_int_equal(iam_router_add(router, "GET", "/hello", handle_hello, NULL), IAM_OK);
    assert_int_equal(iam_router_add(router, "POST", "/echo", handle_echo, NULL), IAM_OK);
    assert_int_equal(iam_router_add(router, "POST", "/json", handle_json, NULL), IAM_OK);
    assert_int_equal(iam_router_add(router, "GET", "/items/{id}", handle_item, NULL), IAM_OK);
    assert_int_equal(iam_router_add(router, "GET", "/query", handle_query, NULL), IAM_OK);
    assert_int_equal(iam_router_add(router, "GET", "/nothing", handle_nothing, NULL), IAM_OK);
    assert_int_equal(iam_router_add(router, "GET", "/headers", handle_headers, NULL), IAM_OK);
    assert_int_equal(iam_router_add(router, "GET", "/whoami", handle_whoami, NULL), IAM_OK);
    assert_int_equal(iam_router_add(router, "DELETE", "/empty", handle_empty, NULL), IAM_OK);
    assert_int_equal(iam_router_add(router, "GET", "/slow", handle_slow, NULL), IAM_OK);
    return router;
}

static struct iam_http_server *start_server(const char *listen, const struct iam_router *router,
                                            enum iam_result *result, struct iam_error *err)
{
    struct iam_http_server_options options = {
        .listen = listen,
        .threads = 2,
        .max_body_bytes = MAX_BODY,
        .connection_timeout_s = 10,
        .max_connections = 64,
        .error_responder = error_responder,
    };
    struct iam_http_server *server = NULL;
    *result = iam_http_server_start(&options, router, &server, err);
    return server;
}

static int group_setup(void **state)
{
    static struct fixture fixture;
    iam_log_set_level(IAM_LOG_WARN);
    fixture.router = make_router();
    struct iam_error err;
    enum iam_result result;
    fixture.server = start_server("127.0.0.1:0", fixture.router, &result, &err);
    if (result != IAM_OK) {
        fprintf(stderr, "server start: %s\n", err.message);
        return -1;
    }
    fixture.port = iam_http_server_port(fixture.server);
    *state = &fixture;
    return 0;
}

static int group_teardown(void **state)
{
    struct fixture *fixture = *state;
    iam_http_server_stop(fixture->server);
    iam_router_free(fixture->router);
    return 0;
}

static void assert_standard_headers(const struct reply *reply, bool json)
{
    char transaction[64], request_id[64], value[128];
    assert_true(reply_header(reply, "Transaction-Id", transaction, sizeof transaction));
    assert_int_equal(strlen(transaction), 32);
    assert_int_equal(strspn(transaction, "0123456789abcdef"), 32);
    assert_true(reply_header(reply, "X-Request-Id", request_id, sizeof request_id));
    assert_string_equal(transaction, request_id);
    assert_true(reply_header(reply, "X-Content-Type-Options", value, sizeof value));
    assert_string_equal(value, "nosniff");
    if (json) {
        assert_true(reply_header(reply, "Content-Type", value, sizeof value));
        assert_string_equal(value, "application/json");
        assert_true(reply_header(reply, "Cache-Control", value, sizeof value));
        assert_string_equal(value, "no-store");
    }
}

/* --- tests --- */

static void test_port_reported(void **state)
{
    struct fixture *fixture = *state;
    assert_true(fixture->port > 0);
    assert_int_equal(iam_http_server_port(NULL), 0);
    /* The reported port is the one accepting connections. */
    struct client *client = client_open(AF_INET, fixture->port);
    client_close(client);
}

static void test_get_json(void **state)
{
    struct fixture *fixture = *state;
    struct client *client = client_open(AF_INET, fixture->port);
    static struct reply reply;
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Test: yes\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body, "{\"hello\":\"world\",\"x_test\":\"yes\"}");
    assert_standard_headers(&reply, true);
    client_close(client);
}

static void test_keep_alive_serves_two_requests(void **state)
{
    struct fixture *fixture = *state;
    struct client *client = client_open(AF_INET, fixture->port);
    static struct reply first, second;
    char value[64];
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &first, false);
    assert_int_equal(first.status, 200);
    assert_false(reply_header(&first, "Connection", value, sizeof value) && strcasecmp(value, "close") == 0);

    client_send_text(client, "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 11\r\n\r\nhello world");
    client_read(client, &second, false);
    assert_int_equal(second.status, 200);
    assert_string_equal(second.body, "hello world");

    /* Request ids differ per request. */
    char first_id[64], second_id[64];
    assert_true(reply_header(&first, "Transaction-Id", first_id, sizeof first_id));
    assert_true(reply_header(&second, "Transaction-Id", second_id, sizeof second_id));
    assert_string_not_equal(first_id, second_id);

    /* And a third, pipelined with a fourth in one write. */
    client_send_text(client, "GET /items/a HTTP/1.1\r\nHost: localhost\r\n\r\n"
                             "GET /items/b HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &first, false);
    client_read(client, &second, false);
    assert_string_equal(first.body, "{\"id\":\"a\"}");
    assert_string_equal(second.body, "{\"id\":\"b\"}");
    client_close(client);
}

static void test_post_body_echoed(void **state)
{
    struct fixture *fixture = *state;
    struct client *client = client_open(AF_INET, fixture->port);
    static struct reply reply;
    char value[64];
    client_send_text(client, "POST /json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                             "Content-Length: 12\r\n\r\n{\"a\":\"\xc3\xa9 b\"}");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    json_t *body = reply_json(&reply);
    assert_int_equal(json_integer_value(json_object_get(body, "length")), 12);
    assert_string_equal(json_string_value(json_object_get(body, "body")), "{\"a\":\"\xc3\xa9 b\"}");
    json_decref(body);

    /* A raw body keeps its content type and gets no Cache-Control from the server. */
    client_send_text(client, "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc");
    client_read(client, &reply, false);
    assert_string_equal(reply.body, "abc");
    assert_true(reply_header(&reply, "Content-Type", value, sizeof value));
    assert_string_equal(value, "text/plain");
    assert_false(reply_header(&reply, "Cache-Control", value, sizeof value));
    assert_standard_headers(&reply, false);

    /* A body of exactly the cap is accepted. */
    static char request[MAX_BODY + 256];
    int head = snprintf(request, sizeof request,
                        "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", MAX_BODY);
    assert_true(head > 0);
    memset(request + head, 'x', MAX_BODY);
    client_send(client, request, (size_t)head + MAX_BODY);
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    assert_int_equal(reply.body_length, MAX_BODY);
    client_close(client);
}

static void test_empty_json_post(void **state)
{
    struct fixture *fixture = *state;
    struct client *client = client_open(AF_INET, fixture->port);
    static struct reply reply;
    client_send_text(client, "POST /json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                             "Content-Length: 0\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    json_t *body = reply_json(&reply);
    assert_int_equal(json_integer_value(json_object_get(body, "length")), 0);
    assert_string_equal(json_string_value(json_object_get(body, "body")), "");
    assert_string_equal(json_string_value(json_object_get(body, "content_type")), "application/json");
    json_decref(body);
    /* The connection is still good afterwards. */
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    client_close(client);
}

static void assert_too_large(const struct reply *reply)
{
    char value[64];
    assert_int_equal(reply->status, 413);
    json_t *body = reply_json(reply);
    assert_string_equal(json_string_value(json_object_get(body, "custom_error")), "The request body is too large.");
    assert_int_equal(json_integer_value(json_object_get(body, "status")), 413);
    assert_true(reply_header(reply, "Transaction-Id", value, sizeof value));
    assert_string_equal(json_string_value(json_object_get(body, "trace")), value);
    json_decref(body);
    assert_true(reply_header(reply, "Connection", value, sizeof value));
    assert_string_equal(value, "close");
}

static void test_content_length_over_cap(void **state)
{
    struct fixture *fixture = *state;
    static struct reply reply;

    /* Answered from the headers: the client has sent no body at all. */
    struct client *client = client_open(AF_INET, fixture->port);
    client_send_text(client, "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                             "Content-Length: 100000\r\n\r\n");
    client_read(client, &reply, false);
    assert_too_large(&reply);
    assert_true(client_closed(client));
    client_close(client);

    /* With Expect: 100-continue the 413 comes instead of "100 Continue". */
    client = client_open(AF_INET, fixture->port);
    client_send_text(client, "POST /echo HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
                             "Content-Length: 1025\r\n\r\n");
    client_read(client, &reply, false);
    assert_too_large(&reply);
    client_close(client);

    /* A huge declared length does not overflow anything. */
    client = client_open(AF_INET, fixture->port);
    client_send_text(client, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
                             "Content-Length: 99999999999999999999999\r\n\r\n");
    client_read(client, &reply, false);
    assert_true(reply.status == 413 || reply.status == 400);
    client_close(client);
}

static void test_chunked_body(void **state)
{
    struct fixture *fixture = *state;
    static struct reply reply;
    struct client *client = client_open(AF_INET, fixture->port);
    client_send_text(client, "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body, "hello world");

    /* Three chunks of 800 bytes outgrow the 1024-byte cap: 413 once the body has been read. */
    static char chunk[900];
    int head = snprintf(chunk, sizeof chunk, "320\r\n");
    memset(chunk + head, 'y', 800);
    memcpy(chunk + head + 800, "\r\n", 2);
    client_send_text(client, "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; i++)
        client_send(client, chunk, (size_t)head + 802);
    client_send_text(client, "0\r\n\r\n");
    client_read(client, &reply, false);
    assert_too_large(&reply);
    client_close(client);
}

static void test_fallback(void **state)
{
    struct fixture *fixture = *state;
    static struct reply reply;
    char value[128];
    struct client *client = client_open(AF_INET, fixture->port);

    client_send_text(client, "GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 404);
    assert_standard_headers(&reply, true);
    json_t *body = reply_json(&reply);
    assert_true(reply_header(&reply, "Transaction-Id", value, sizeof value));
    assert_string_equal(json_string_value(json_object_get(body, "trace")), value);
    assert_int_equal(json_integer_value(json_object_get(body, "status_code")), 404);
    json_decref(body);

    client_send_text(client, "DELETE /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 405);
    assert_true(reply_header(&reply, "Allow", value, sizeof value));
    assert_string_equal(value, "GET, HEAD");

    client_send_text(client, "BREW /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 405);

    client_send_text(client, "GET /items//x HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 404);

    client_send_text(client, "GET /items/%2e%2e HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 404);
    client_close(client);
}

static void test_nul_in_url(void **state)
{
    struct fixture *fixture = *state;
    static struct reply reply;
    struct client *client = client_open(AF_INET, fixture->port);
    client_send_text(client, "GET /items/abc%00def HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 400);
    json_t *body = reply_json(&reply);
    assert_int_equal(json_integer_value(json_object_get(body, "status")), 400);
    json_decref(body);
    client_close(client);

    client = client_open(AF_INET, fixture->port);
    client_send_text(client, "GET /query?name=a%00b HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 400);
    client_close(client);

    /* An escaped percent sign followed by "00" is ordinary text. */
    client = client_open(AF_INET, fixture->port);
    client_send_text(client, "GET /items/a%2500 HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body, "{\"id\":\"a%00\"}");
    client_close(client);
}

static void test_query_and_params(void **state)
{
    struct fixture *fixture = *state;
    static struct reply reply;
    struct client *client = client_open(AF_INET, fixture->port);
    client_send_text(client, "GET /query?name=a%20b&empty&Name=x&name=second HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    json_t *body = reply_json(&reply);
    assert_string_equal(json_string_value(json_object_get(body, "name")), "a b");
    assert_string_equal(json_string_value(json_object_get(body, "empty")), "");
    assert_string_equal(json_string_value(json_object_get(body, "Name")), "x");
    assert_true(json_is_null(json_object_get(body, "missing")));
    assert_int_equal(json_integer_value(json_object_get(body, "count")), 4);
    json_decref(body);

    client_send_text(client, "GET /items/Service%20Id/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_string_equal(reply.body, "{\"id\":\"Service Id\"}");
    client_close(client);
}

static void test_head_and_empty(void **state)
{
    struct fixture *fixture = *state;
    static struct reply reply;
    char value[64];
    struct client *client = client_open(AF_INET, fixture->port);
    client_send_text(client, "HEAD /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, true);
    assert_int_equal(reply.status, 200);
    assert_true(reply_header(&reply, "Content-Length", value, sizeof value));
    assert_true(strtoul(value, NULL, 10) > 0);

    /* No body followed the HEAD answer: the next answer starts right here. */
    client_send_text(client, "DELETE /empty HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 204);
    assert_false(reply_header(&reply, "Content-Type", value, sizeof value));
    assert_standard_headers(&reply, false);

    client_send_text(client, "GET /whoami HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_string_equal(reply.body, "{\"client\":\"127.0.0.1\"}");
    client_close(client);
}

static void test_handler_headers_and_missing_status(void **state)
{
    struct fixture *fixture = *state;
    static struct reply reply;
    char value[64];
    struct client *client = client_open(AF_INET, fixture->port);
    client_send_text(client, "GET /headers HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 201);
    assert_int_equal(reply_header_count(&reply, "Cache-Control"), 1);
    assert_true(reply_header(&reply, "Cache-Control", value, sizeof value));
    assert_string_equal(value, "max-age=60");
    assert_true(reply_header(&reply, "X-Extra", value, sizeof value));
    assert_string_equal(value, "1");
    assert_false(reply_header(&reply, "X-Bad", value, sizeof value));
    assert_false(reply_header(&reply, "Set-Cookie", value, sizeof value));

    client_send_text(client, "GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 500);
    assert_standard_headers(&reply, true);
    json_t *body = reply_json(&reply);
    assert_int_equal(json_integer_value(json_object_get(body, "status_code")), 500);
    json_decref(body);
    client_close(client);
}

/* Runs one request with stderr sent to a file and returns what was logged (caller frees). */
static char *capture_log(uint16_t port, const char *request_text)
{
    char path[] = "/tmp/iamd-http-log-XXXXXX";
    int file = mkstemp(path);
    assert_true(file >= 0);
    unlink(path);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(file, STDERR_FILENO) >= 0);
    iam_log_set_level(IAM_LOG_INFO);

    struct client *client = client_open(AF_INET, port);
    static struct reply reply;
    client_send_text(client, request_text);
    client_read(client, &reply, false);
    client_close(client);

    /* The line is written right after the response is queued: give the server thread a moment. */
    static char text[16384];
    ssize_t length = 0;
    for (int attempt = 0; attempt < 200; attempt++) {
        length = pread(file, text, sizeof text - 1, 0);
        assert_true(length >= 0);
        text[length] = '\0';
        if (strstr(text, "\"http_request\""))
            break;
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    iam_log_set_level(IAM_LOG_WARN);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    close(file);
    return strdup(text);
}

static void test_access_log(void **state)
{
    struct fixture *fixture = *state;
    char *text = capture_log(fixture->port, "GET /hello?apikey=hunter2secret HTTP/1.1\r\nHost: localhost\r\n"
                                            "Authorization: Bearer topsecrettoken\r\nIAM-ApiKey: keysecret\r\n\r\n");
    assert_non_null(strstr(text, "\"event\":\"http_request\""));
    assert_non_null(strstr(text, "\"method\":\"GET\""));
    assert_non_null(strstr(text, "\"route\":\"/hello\""));
    assert_non_null(strstr(text, "\"status\":200"));
    assert_non_null(strstr(text, "\"duration_ms\":"));
    assert_non_null(strstr(text, "\"request_id\":\""));
    assert_non_null(strstr(text, "\"client\":\"127.0.0.1\""));
    assert_non_null(strstr(text, "\"identity\":\"iam-ServiceId-test\""));
    assert_null(strstr(text, "hunter2secret"));
    assert_null(strstr(text, "apikey="));
    assert_null(strstr(text, "topsecrettoken"));
    assert_null(strstr(text, "keysecret"));
    free(text);

    text = capture_log(fixture->port, "POST /nowhere/secretpath HTTP/1.1\r\nHost: localhost\r\n"
                                      "Content-Length: 15\r\n\r\npassword=s3cret");
    assert_non_null(strstr(text, "\"route\":\"unmatched\""));
    assert_non_null(strstr(text, "\"status\":404"));
    assert_non_null(strstr(text, "\"identity\":null"));
    assert_null(strstr(text, "secretpath"));
    assert_null(strstr(text, "s3cret"));
    free(text);
}

static void test_bad_listen_addresses(void **state)
{
    struct fixture *fixture = *state;
    const char *addresses[] = {"",          "8080",          "127.0.0.1",      "127.0.0.1:",
                               "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80a", "localhost:8080",
                               "::1:8080",  "[::1]",         "[::1]8080",      "[127.0.0.1]:80",
                               "1.2.3:80",  "[::1]:123456"};
    for (size_t i = 0; i < sizeof addresses / sizeof addresses[0]; i++) {
        struct iam_error err;
        enum iam_result result;
        struct iam_http_server *server = start_server(addresses[i], fixture->router, &result, &err);
        assert_null(server);
        assert_int_equal(result, IAM_EINVAL);
        assert_non_null(strstr(err.message, "listen"));
    }
}

static void test_address_in_use(void **state)
{
    struct fixture *fixture = *state;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)fixture->port);
    struct iam_error err;
    enum iam_result result;
    iam_log_set_level(IAM_LOG_ERROR); /* MHD's complaint is expected */
    struct iam_http_server *server = start_server(listen, fixture->router, &result, &err);
    iam_log_set_level(IAM_LOG_WARN);
    assert_null(server);
    assert_int_not_equal(result, IAM_OK);
    assert_non_null(strstr(err.message, listen));
    assert_non_null(strstr(err.message, "in use"));
}

static void test_ipv6(void **state)
{
    struct fixture *fixture = *state;
    struct iam_error err;
    enum iam_result result;
    iam_log_set_level(IAM_LOG_ERROR);
    struct iam_http_server *server = start_server("[::1]:0", fixture->router, &result, &err);
    iam_log_set_level(IAM_LOG_WARN);
    if (!server) {
        print_message("IPv6 loopback unavailable here: %s\n", err.message);
        skip();
    }
    uint16_t port = iam_http_server_port(server);
    assert_true(port > 0);
    struct client *client = client_open(AF_INET6, port);
    static struct reply reply;
    client_send_text(client, "GET /whoami HTTP/1.1\r\nHost: [::1]\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body, "{\"client\":\"::1\"}");
    client_close(client);
    iam_http_server_stop(server);
}

static void test_stop_drains_requests_in_flight(void **state)
{
    struct fixture *fixture = *state;
    struct iam_error err;
    enum iam_result result;
    struct iam_http_server *server = start_server("127.0.0.1:0", fixture->router, &result, &err);
    assert_non_null(server);
    struct client *client = client_open(AF_INET, iam_http_server_port(server));
    struct client *idle = client_open(AF_INET, iam_http_server_port(server));
    client_send_text(client, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
    nanosleep(&pause, NULL); /* the handler is now sleeping */
    iam_http_server_stop(server);
    static struct reply reply;
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body, "{\"slow\":true}");
    /* The idle keep-alive connection did not hold the stop up, and is closed. */
    assert_true(client_closed(idle));
    client_close(client);
    client_close(idle);
    iam_http_server_stop(NULL);
}

/* Starts a server of its own with `options` (listen, router and error responder filled in here). */
static struct iam_http_server *start_custom(struct iam_http_server_options options, const struct iam_router *router)
{
    options.listen = "127.0.0.1:0";
    options.error_responder = error_responder;
    struct iam_http_server *server = NULL;
    struct iam_error err;
    assert_int_equal(iam_http_server_start(&options, router, &server, &err), IAM_OK);
    return server;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void test_query_parameters_over_the_pool(void **state)
{
    struct fixture *fixture = *state;
    /* 400 parameters used to fill MHD's pool with records: no answer until the idle timeout. */
    static char request[8192];
    int used = snprintf(request, sizeof request, "GET /query?");
    for (int i = 0; i < 400; i++)
        used += snprintf(request + used, sizeof request - (size_t)used, "a=1&");
    snprintf(request + used, sizeof request - (size_t)used, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    struct client *client = client_open(AF_INET, fixture->port);
    static struct reply reply;
    client_send_text(client, request);
    client_read(client, &reply, false); /* SO_RCVTIMEO: a hang fails here */
    assert_int_equal(reply.status, 414);
    json_t *body = reply_json(&reply);
    assert_int_equal(json_integer_value(json_object_get(body, "status")), 414);
    json_decref(body);
    assert_true(client_closed(client));
    client_close(client);

    /* A path alone longer than the header cap: 414 too. */
    static char long_path[20000];
    memset(long_path, 'a', sizeof long_path);
    memcpy(long_path, "GET /", 5);
    snprintf(long_path + 17000, sizeof long_path - 17000, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client = client_open(AF_INET, fixture->port);
    client_send_text(client, long_path);
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 414);
    client_close(client);

    /* A few parameters still work. */
    client = client_open(AF_INET, fixture->port);
    client_send_text(client, "GET /query?name=x&a=1&b=2 HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    client_close(client);
}

static void test_header_cap(void **state)
{
    struct fixture *fixture = *state;
    struct iam_http_server *server = start_custom((struct iam_http_server_options){.threads = 1, .max_header_bytes = 4096},
                                                  fixture->router);
    uint16_t port = iam_http_server_port(server);
    static char request[32768];
    static struct reply reply;
    const size_t sizes[] = {3000, 5000, 20000};
    const int expected[] = {200, 431, 431};
    for (size_t i = 0; i < 3; i++) {
        int used = snprintf(request, sizeof request, "GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Pad: ");
        memset(request + used, 'p', sizes[i]);
        snprintf(request + used + sizes[i], sizeof request - (size_t)used - sizes[i], "\r\n\r\n");
        struct client *client = client_open(AF_INET, port);
        client_send_text(client, request);
        client_read(client, &reply, false);
        assert_int_equal(reply.status, expected[i]);
        if (i == 1) { /* just over the cap: ours, in the API's format */
            json_t *body = reply_json(&reply);
            assert_int_equal(json_integer_value(json_object_get(body, "status")), 431);
            json_decref(body);
        }
        client_close(client);
    }
    iam_http_server_stop(server);
}

static void test_connection_cap_across_threads(void **state)
{
    struct fixture *fixture = *state;
    struct iam_http_server *server = start_custom((struct iam_http_server_options){.threads = 2, .max_connections = 2},
                                                  fixture->router);
    uint16_t port = iam_http_server_port(server);
    static struct reply reply;
    struct client *first = client_open(AF_INET, port), *second = client_open(AF_INET, port);
    for (struct client *c = first; c; c = c == first ? second : NULL) {
        client_send_text(c, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
        client_read(c, &reply, false);
        assert_int_equal(reply.status, 200);
    }
    iam_log_set_level(IAM_LOG_ERROR); /* the refusal is logged as a warning */
    struct client *third = client_open(AF_INET, port);
    client_send(third, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n", 40);
    assert_true(client_closed(third)); /* closed unanswered */
    client_close(third);
    client_close(first);
    bool served = false;
    for (int attempt = 0; attempt < 100 && !served; attempt++) {
        struct client *again = client_open(AF_INET, port);
        client_send_text(again, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
        if (client_fill(again) && again->length > 12 && memcmp(again->data, "HTTP/1.1 200", 12) == 0)
            served = true;
        client_close(again);
        if (!served) {
            struct timespec pause = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    client_close(second);
    iam_http_server_stop(server);
    iam_log_set_level(IAM_LOG_WARN);
    assert_true(served);
}

static void test_request_timeout_cuts_a_trickle(void **state)
{
    struct fixture *fixture = *state;
    struct iam_http_server *server = start_custom(
        (struct iam_http_server_options){.threads = 1, .request_timeout_s = 1, .connection_timeout_s = 30},
        fixture->router);
    iam_log_set_level(IAM_LOG_ERROR); /* the cut is logged as a warning */
    struct client *client = client_open(AF_INET, iam_http_server_port(server));
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
    bool cut = false;
    while (!cut && seconds_since(&start) < 6) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
        if (send(client->fd, "x", 1, MSG_NOSIGNAL) != 1)
            cut = true;
        char byte;
        ssize_t received = recv(client->fd, &byte, 1, MSG_DONTWAIT);
        if (received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            cut = true;
    }
    double elapsed = seconds_since(&start);
    client_close(client);
    iam_http_server_stop(server);
    iam_log_set_level(IAM_LOG_WARN);
    assert_true(cut);
    /* Documented bound: the request timeout, plus the watchdog's quarter-second tick, plus slack. */
    assert_true(elapsed >= 0.75);
    assert_true(elapsed <= 3.0);
}

struct stats_seen {
    uint64_t hello_2xx;
    uint64_t hello_count;
    uint64_t unmatched_4xx;
};

static void visit_stats(void *context, const char *method, const char *pattern,
                        const struct iam_http_route_stats *stats)
{
    struct stats_seen *seen = context;
    if (method && strcmp(method, "GET") == 0 && strcmp(pattern, "/hello") == 0) {
        seen->hello_2xx = atomic_load(&stats->responses[1]);
        for (int i = 0; i < IAM_HTTP_DURATION_BUCKETS; i++)
            seen->hello_count += atomic_load(&stats->duration_buckets[i]);
    }
    if (!method && strcmp(pattern, "unmatched") == 0)
        seen->unmatched_4xx = atomic_load(&stats->responses[3]);
}

static void test_route_statistics(void **state)
{
    struct fixture *fixture = *state;
    struct stats_seen before = {0}, after = {0};
    iam_router_each_stats(fixture->router, visit_stats, &before);
    struct client *client = client_open(AF_INET, fixture->port);
    static struct reply reply;
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 200);
    client_read(client, &reply, false);
    assert_int_equal(reply.status, 404);
    client_close(client);
    iam_router_each_stats(fixture->router, visit_stats, &after);
    assert_int_equal(after.hello_2xx, before.hello_2xx + 1);
    assert_int_equal(after.hello_count, before.hello_count + 1);
    assert_int_equal(after.unmatched_4xx, before.unmatched_4xx + 1);
}

static void test_reload_tls_without_tls(void **state)
{
    struct fixture *fixture = *state;
    struct iam_error err;
    assert_int_equal(iam_http_server_reload_tls(fixture->server, &err), IAM_EINVAL);
    assert_int_equal(iam_http_server_reload_tls(NULL, &err), IAM_EINVAL);
    /* Half a TLS configuration is refused. */
    struct iam_http_server *server = NULL;
    struct iam_http_server_options options = {.listen = "127.0.0.1:0", .tls_cert_file = "/nonexistent.pem"};
    assert_int_equal(iam_http_server_start(&options, fixture->router, &server, &err), IAM_EINVAL);
    assert_null(server);
    options.tls_key_file = "/nonexistent.key";
    assert_int_equal(iam_http_server_start(&options, fixture->router, &server, &err), IAM_EINVAL);
    assert_non_null(strstr(err.message, "/nonexistent.pem"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_reported),
        cmocka_unit_test(test_get_json),
        cmocka_unit_test(test_keep_alive_serves_two_requests),
        cmocka_unit_test(test_post_body_echoed),
        cmocka_unit_test(test_empty_json_post),
        cmocka_unit_test(test_content_length_over_cap),
        cmocka_unit_test(test_chunked_body),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_nul_in_url),
        cmocka_unit_test(test_query_and_params),
        cmocka_unit_test(test_head_and_empty),
        cmocka_unit_test(test_handler_headers_and_missing_status),
        cmocka_unit_test(test_access_log),
        cmocka_unit_test(test_bad_listen_addresses),
        cmocka_unit_test(test_address_in_use),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_stop_drains_requests_in_flight),
        cmocka_unit_test(test_query_parameters_over_the_pool),
        cmocka_unit_test(test_header_cap),
        cmocka_unit_test(test_connection_cap_across_threads),
        cmocka_unit_test(test_request_timeout_cuts_a_trickle),
        cmocka_unit_test(test_route_statistics),
        cmocka_unit_test(test_reload_tls_without_tls),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
