/*
 * server.c: the libmicrohttpd daemon, per-request state, and turning an
 * iam_http_response into bytes on the wire.
 *
 * One struct http_exchange per request, created on the first access-handler
 * call and freed in the request-completed callback. libmicrohttpd calls the
 * access handler at least twice per request: once after the headers, then
 * once per piece of body, then once more with no data. We answer only on
 * that last call: answering earlier makes MHD close keep-alive connections
 * (stack.md). The exceptions are the refusals made from the headers alone
 * (413 on a declared Content-Length over the cap, 400 on a NUL in the URL):
 * those are answered at once, with "Connection: close", without reading
 * the body.
 *
 * Bodies are copied into the exchange's own capped buffer, so MHD's
 * per-connection pool only has to hold the request line and headers (up to
 * max_header_bytes), MHD's records of each header and query parameter, and
 * the response headers: it is max_header_bytes plus 4 KiB. MHD answers 431
 * or 414 itself when the headers or the URL outgrow the pool; we answer 431
 * with the API's error body for headers over max_header_bytes that fit. One
 * case MHD gets wrong: query parameters whose records fill the pool leave it
 * without room to answer, and the connection hangs until the idle timeout.
 * The URI callback, which sees the raw URL before MHD splits it, estimates
 * that memory and cuts such a query string off at the '?' so MHD stores no
 * parameter; the request is then answered 414.
 *
 * Connection counting, the connection cap and the whole-request deadline are
 * in connections.c; the certificate for HTTPS in tls.c.
 *
 * SIGPIPE: MHD suppresses it in the threads it starts (MSG_NOSIGNAL), which
 * are the only ones writing to sockets; the main program needs no handler
 * on our behalf.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/time.h"
#include "crypto/random.h"
#include "http/connections.h"
#include "http/http.h"
#include "http/http_internal.h"
#include "http/tls.h"

#define HTTP_DEFAULT_MAX_HEADER_BYTES ((size_t)16 * 1024)
/* MHD's pool beyond max_header_bytes: its header and parameter records, and the response headers. */
#define HTTP_POOL_HEADROOM_BYTES ((size_t)4 * 1024)
/* What MHD 0.9.75 takes from the pool for each header or query parameter (measured; rounded up). */
#define HTTP_MHD_RECORD_BYTES 64
#define HTTP_DEFAULT_MAX_BODY_BYTES ((size_t)1024 * 1024)
#define HTTP_DEFAULT_TIMEOUT_S 30u
/* After the cap, a chunked body is read and dropped for this much more, then the connection is cut. */
#define HTTP_DISCARD_LIMIT_BYTES ((size_t)1024 * 1024)
/* How long iam_http_server_stop waits for requests in flight before closing connections. */
#define HTTP_DRAIN_TIMEOUT_MS 5000
#define HTTP_REQUEST_ID_BYTES 16 /* 32 hex characters */

struct iam_http_server {
    struct MHD_Daemon *daemon;
    const struct iam_router *router;
    struct http_connections *connections; /* owned */
    size_t max_body_bytes;
    size_t max_header_bytes;
    bool tls;                     /* serves HTTPS; the certificate slot of tls.c is ours */
    void (*error_responder)(struct iam_http_request *request, struct iam_http_response *response, int status,
                            const char *message);
    uint16_t port;
    atomic_size_t in_flight;      /* exchanges not yet completed */
    atomic_bool start_error_set;  /* the first MHD message is kept for iam_http_server_start's err */
    char start_error[256];
};

struct http_exchange {
    struct iam_http_server *server;
    struct iam_arena *arena;
    struct iam_buf body;
    struct iam_http_request request;
    struct iam_http_response response;
    int64_t started_ns;
    size_t discarded;     /* body bytes dropped after the cap */
    bool body_too_large;
    bool responded;
    char request_id[2 * HTTP_REQUEST_ID_BYTES + 1];
    char client_address[INET6_ADDRSTRLEN];
};

/*
 * Returned by the URI callback when the raw URL holds "%00" (MHD would decode
 * it to a NUL and silently cut the path or the argument there), or when its
 * query parameters would not fit in the connection's memory. Static markers
 * rather than allocations, since MHD does not promise a completion call for
 * requests it rejects before the access handler sees them.
 */
static char url_has_nul_marker;
static char url_too_large_marker;

const int64_t iam_http_duration_bounds_us[IAM_HTTP_DURATION_BUCKETS - 1] = {1000,   5000,    25000,  100000,
                                                                             250000, 1000000, 5000000};

/* --- logging --- */

__attribute__((format(printf, 2, 0))) static void http_on_mhd_log(void *context, const char *format, va_list args)
{
    struct iam_http_server *server = context;
    char message[sizeof server->start_error];
    vsnprintf(message, sizeof message, format, args);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == '\r'))
        message[--length] = '\0';
    if (!atomic_exchange(&server->start_error_set, true))
        memcpy(server->start_error, message, length + 1); /* same size as `message` */
    iam_log(IAM_LOG_WARN, "http_daemon", "%s", message);
}


/* The method as it may appear in a log: known ones verbatim, anything else as "other". */
static const char *http_log_method(const char *method)
{
    int index = iam_http_method_index(method);
    return index >= 0 ? iam_http_method_name(index) : "other";
}

/* Counts the request in its route's statistics (relaxed atomics: a few adds per request). */
static void http_count(const struct http_exchange *exchange, int status, int64_t elapsed_ns)
{
    struct iam_http_route_stats *stats = exchange->request.route_stats;
    if (!stats)
        stats = iam_router_unmatched_stats(exchange->server->router);
    if (!stats || status < 100 || status > 599)
        return;
    int64_t elapsed_us = elapsed_ns / 1000;
    size_t bucket = 0;
    while (bucket < IAM_HTTP_DURATION_BUCKETS - 1 && elapsed_us > iam_http_duration_bounds_us[bucket])
        bucket++;
    atomic_fetch_add_explicit(&stats->responses[status / 100 - 1], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&stats->duration_buckets[bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&stats->duration_us_sum, (uint_fast64_t)elapsed_us, memory_order_relaxed);
}

/* One line per request. Never the query string, headers or body: they may carry secrets. */
static void http_log_access(const struct http_exchange *exchange, int status)
{
    const struct iam_http_request *request = &exchange->request;
    int64_t elapsed_ns = iam_monotonic_ns() - exchange->started_ns;
    if (elapsed_ns < 0)
        elapsed_ns = 0;
    http_count(exchange, status, elapsed_ns);
    if (!iam_log_enabled(IAM_LOG_INFO))
        return;
    /* Built with snprintf, not JSON objects: this line is written for every request. */
    char route[384], request_id[96], client[96], identity[160];
    iam_log_escape(route, sizeof route, request->route ? request->route : "unmatched");
    iam_log_escape(request_id, sizeof request_id, request->request_id);
    iam_log_escape(client, sizeof client, request->client_address);
    iam_log_escape(identity, sizeof identity, request->log_identity);
    char fields[1024];
    snprintf(fields, sizeof fields,
             "\"method\":\"%s\",\"route\":%s,\"status\":%d,\"duration_ms\":%lld,\"duration_us\":%lld,"
             "\"request_id\":%s,\"client\":%s,\"identity\":%s",
             http_log_method(request->method), route, status, (long long)(elapsed_ns / 1000000),
             (long long)(elapsed_ns / 1000), request_id, client, identity);
    iam_log_preformatted(IAM_LOG_INFO, "http_request", fields);
}

/* --- exchanges --- */

void iam_http_client_address(struct MHD_Connection *connection, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, size, "unknown");
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *address = info->client_addr;
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)address;
        if (!inet_ntop(AF_INET, &v4->sin_addr, out, (socklen_t)size))
            snprintf(out, size, "unknown");
    } else if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)address;
        const void *bytes = &v6->sin6_addr;
        int family = AF_INET6;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
            /* An IPv4 client of a dual-stack socket: log it as IPv4, as an IPv4 socket would. */
            bytes = &v6->sin6_addr.s6_addr[12];
            family = AF_INET;
        }
        if (!inet_ntop(family, bytes, out, (socklen_t)size))
            snprintf(out, size, "unknown");
    }
}

static void http_request_id(char out[2 * HTTP_REQUEST_ID_BYTES + 1])
{
    if (iam_random_hex(out, HTTP_REQUEST_ID_BYTES) == IAM_OK)
        return;
    /* The CSPRNG failed: still hand out a unique id rather than refuse to log the request. */
    static atomic_ullong counter;
    unsigned long long sequence = atomic_fetch_add(&counter, 1);
    snprintf(out, 2 * HTTP_REQUEST_ID_BYTES + 1, "%016llx%016llx", (unsigned long long)iam_monotonic_ns(), sequence);
}

static struct http_exchange *http_exchange_new(struct iam_http_server *server, struct MHD_Connection *connection,
                                               const char *url, const char *method)
{
    struct http_exchange *exchange = calloc(1, sizeof *exchange);
    if (!exchange)
        return NULL;
    exchange->arena = iam_arena_new();
    if (!exchange->arena) {
        free(exchange);
        return NULL;
    }
    exchange->server = server;
    exchange->started_ns = iam_monotonic_ns();
    iam_buf_init(&exchange->body, server->max_body_bytes);
    http_request_id(exchange->request_id);
    iam_http_client_address(connection, exchange->client_address, sizeof exchange->client_address);

    struct iam_http_request *request = &exchange->request;
    request->arena = exchange->arena;
    request->method = method;
    request->path = url;
    request->body = "";
    request->client_address = exchange->client_address;
    request->request_id = exchange->request_id;
    request->connection = connection;
    request->tls = server->tls;
    atomic_fetch_add(&server->in_flight, 1);
    return exchange;
}

static void http_exchange_free(struct http_exchange *exchange)
{
    json_decref(exchange->response.body_json);
    iam_buf_free(&exchange->body); /* wipes: bodies carry API keys and passwords */
    iam_arena_free(exchange->arena);
    atomic_fetch_sub(&exchange->server->in_flight, 1);
    free(exchange);
}

/* --- answering --- */

/* Adds a header unless the handler already set one of that name. */
static bool http_add_default_header(struct MHD_Response *reply, const char *name, const char *value)
{
    if (MHD_get_response_header(reply, name))
        return true;
    return MHD_add_response_header(reply, name, value) == MHD_YES;
}

/* Replaces the handler's response with the default JSON error for `status`. */
static void http_default_error(struct http_exchange *exchange, int status, const char *code, const char *message)
{
    struct iam_http_response *response = &exchange->response;
    json_decref(response->body_json);
    response->body_json = iam_http_error_body(&exchange->request, status, code, message);
    response->body = NULL;
    response->body_length = 0;
    response->content_type = NULL;
    response->status = status;
}

static struct MHD_Response *http_build_body(struct http_exchange *exchange, bool *is_json)
{
    struct iam_http_response *response = &exchange->response;
    *is_json = false;
    if (response->body_json) {
        char *text = json_dumps(response->body_json, JSON_COMPACT);
        json_decref(response->body_json);
        response->body_json = NULL;
        if (!text)
            return NULL;
        *is_json = true;
        /* MHD owns `text` from here and frees it when the response is destroyed. */
        struct MHD_Response *reply = MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free);
        if (!reply)
            free(text);
        return reply;
    }
    if (response->body && response->body_length)
        return MHD_create_response_from_buffer(response->body_length, (void *)response->body, MHD_RESPMEM_MUST_COPY);
    return MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
}

/* Serialises exchange->response, queues it and writes the access-log line. */
static enum MHD_Result http_send(struct http_exchange *exchange, bool close_connection)
{
    struct iam_http_response *response = &exchange->response;
    struct MHD_Connection *connection = exchange->request.connection;
    struct MHD_Response *reply = NULL;
    bool is_json = false;
    enum MHD_Result queued = MHD_NO;

    if (response->status < 100 || response->status > 599) {
        iam_log(IAM_LOG_ERROR, "http_response", "no valid response status for route %s (status %d)",
                exchange->request.route ? exchange->request.route : "unmatched", response->status);
        http_default_error(exchange, 500, "internal_error", "The server failed to answer the request.");
    }
    reply = http_build_body(exchange, &is_json);
    if (!reply) {
        /* Out of memory or unserialisable JSON: one more try with the small default body. */
        http_default_error(exchange, 500, "internal_error", "The server failed to answer the request.");
        reply = http_build_body(exchange, &is_json);
        if (!reply)
            goto done;
    }

    bool headers_ok = true;
    for (const struct iam_http_header_line *line = response->headers; line; line = line->next)
        headers_ok = headers_ok && MHD_add_response_header(reply, line->name, line->value) == MHD_YES;
    const char *content_type = response->content_type ? response->content_type
                                                       : (is_json ? "application/json" : NULL);
    if (content_type)
        headers_ok = headers_ok && http_add_default_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    headers_ok = headers_ok && http_add_default_header(reply, "Transaction-Id", exchange->request_id);
    headers_ok = headers_ok && http_add_default_header(reply, "X-Request-Id", exchange->request_id);
    if (is_json)
        headers_ok = headers_ok && http_add_default_header(reply, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    headers_ok = headers_ok && http_add_default_header(reply, "X-Content-Type-Options", "nosniff");
    if (close_connection)
        headers_ok = headers_ok && http_add_default_header(reply, MHD_HTTP_HEADER_CONNECTION, "close");
    if (!headers_ok)
        iam_log(IAM_LOG_ERROR, "http_response", "could not add a response header (route %s)",
                exchange->request.route ? exchange->request.route : "unmatched");

    queued = MHD_queue_response(connection, (unsigned int)response->status, reply);
    MHD_destroy_response(reply); /* the connection holds its own reference */

done:
    exchange->responded = true;
    http_log_access(exchange, queued == MHD_YES ? response->status : 0);
    return queued;
}

/* Answers from the headers alone (400, 413, 414, 431), through the API's error_responder when there is one. */
static enum MHD_Result http_refuse(struct http_exchange *exchange, int status, const char *message)
{
    struct iam_http_server *server = exchange->server;
    http_connection_request_read(exchange->request.connection);
    if (server->error_responder)
        server->error_responder(&exchange->request, &exchange->response, status, message);
    if (exchange->response.status == 0)
        http_default_error(exchange, status, status == 400 ? "invalid_request" : "request_too_large", message);
    return http_send(exchange, true);
}

/* The declared Content-Length, when there is one and it parses. */
static bool http_declared_length(struct MHD_Connection *connection, unsigned long long *length)
{
    const char *text = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!text || !*text)
        return false;
    unsigned long long value = 0;
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9')
            return false; /* MHD refuses such requests itself */
        unsigned digit = (unsigned)(*c - '0');
        if (value > (~0ULL - digit) / 10) {
            value = ~0ULL;
            break;
        }
        value = value * 10 + digit;
    }
    *length = value;
    return true;
}

static void *http_on_uri(void *context, const char *uri, struct MHD_Connection *connection)
{
    struct iam_http_server *server = context;
    http_connection_request_line(connection);
    if (!uri)
        return NULL;
    /*
     * MHD stores one record per query parameter in the connection's pool, next
     * to the URL itself. When they would not fit, the query is cut off here,
     * before MHD splits it: `uri` is MHD's own writable copy of the request
     * line (MHD hands it to this callback before parsing it in place).
     */
    char *query = strchr(uri, '?');
    size_t parameters = 0;
    for (const char *c = query; c; c = strchr(c + 1, '&'))
        parameters++;
    if (strlen(uri) + parameters * HTTP_MHD_RECORD_BYTES > server->max_header_bytes) {
        if (query)
            query[1] = '\0';
        return &url_too_large_marker;
    }
    /* %00 anywhere in the raw URL (path or query); the text is never logged. */
    for (const char *c = strchr(uri, '%'); c; c = strchr(c + 1, '%')) {
        if (c[1] == '0' && c[2] == '0')
            return &url_has_nul_marker;
    }
    return NULL;
}

static enum MHD_Result http_on_access(void *context, struct MHD_Connection *connection, const char *url,
                                      const char *method, const char *version, const char *upload_data,
                                      size_t *upload_data_size, void **request_context)
{
    struct iam_http_server *server = context;
    struct http_exchange *exchange = *request_context;
    (void)version;

    if (!exchange || *request_context == (void *)&url_has_nul_marker ||
        *request_context == (void *)&url_too_large_marker) {
        /* First call: headers are in, no body yet. */
        bool url_has_nul = *request_context == (void *)&url_has_nul_marker;
        bool url_too_large = *request_context == (void *)&url_too_large_marker;
        exchange = http_exchange_new(server, connection, url, method);
        if (!exchange)
            return MHD_NO; /* closes the connection */
        *request_context = exchange;
        if (url_too_large) {
            iam_metrics_add(IAM_METRIC_REQUESTS_REFUSED_HEADER, 1);
            return http_refuse(exchange, 414, "The request URL is too long or has too many query parameters.");
        }
        if (url_has_nul)
            return http_refuse(exchange, 400, "The request URL contains an encoded NUL byte.");
        const union MHD_ConnectionInfo *size = MHD_get_connection_info(connection,
                                                                       MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
        if (size && size->header_size > server->max_header_bytes) {
            iam_metrics_add(IAM_METRIC_REQUESTS_REFUSED_HEADER, 1);
            return http_refuse(exchange, 431, "The request headers are too large.");
        }
        unsigned long long declared = 0;
        if (http_declared_length(connection, &declared) && declared > server->max_body_bytes)
            return http_refuse(exchange, 413, "The request body is too large.");
        return MHD_YES;
    }
    if (exchange->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        if (!exchange->body_too_large) {
            enum iam_result result = iam_buf_append(&exchange->body, upload_data, size);
            if (result == IAM_OK)
                return MHD_YES;
            if (result != IAM_ETOOBIG)
                return MHD_NO; /* out of memory: drop the connection */
            /* A chunked body outgrew the cap. MHD cannot answer mid-body, so the rest is read and
             * dropped (within a limit) and the 413 goes out after it. */
            exchange->body_too_large = true;
            iam_buf_free(&exchange->body);
        }
        exchange->discarded += size;
        return exchange->discarded > HTTP_DISCARD_LIMIT_BYTES ? MHD_NO : MHD_YES;
    }

    /* Last call: the whole body is in. */
    if (exchange->body_too_large)
        return http_refuse(exchange, 413, "The request body is too large.");
    struct iam_http_request *request = &exchange->request;
    request->body = exchange->body.data ? exchange->body.data : "";
    request->body_length = exchange->body.length;
    http_connection_request_read(connection);
    iam_router_dispatch(server->router, request, &exchange->response);
    return http_send(exchange, false);
}

static void http_on_completed(void *context, struct MHD_Connection *connection, void **request_context,
                              enum MHD_RequestTerminationCode code)
{
    (void)context;
    http_connection_request_done(connection);
    struct http_exchange *exchange = *request_context;
    *request_context = NULL;
    if (!exchange || (void *)exchange == (void *)&url_has_nul_marker ||
        (void *)exchange == (void *)&url_too_large_marker)
        return;
    if (!exchange->responded)
        iam_log(IAM_LOG_DEBUG, "http_request_aborted", "request %s ended before an answer (code %d)",
                exchange->request_id, (int)code);
    http_exchange_free(exchange);
}

/* --- start and stop --- */

/* Parses "1.2.3.4:80" or "[::1]:80" into `address`. */
static enum iam_result http_parse_listen(const char *listen, struct sockaddr_storage *address, uint16_t *port_out,
                                         bool *ipv6)
{
    char host[INET6_ADDRSTRLEN];
    const char *port_text = NULL;
    size_t host_length = 0;
    const char *host_start = listen;

    if (!listen || !*listen)
        return IAM_EINVAL;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return IAM_EINVAL;
        host_start = listen + 1;
        host_length = (size_t)(close - host_start);
        port_text = close + 2;
        *ipv6 = true;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon)
            return IAM_EINVAL;
        host_length = (size_t)(colon - listen);
        port_text = colon + 1;
        *ipv6 = false;
    }
    if (host_length == 0 || host_length >= sizeof host)
        return IAM_EINVAL;
    memcpy(host, host_start, host_length);
    host[host_length] = '\0';

    unsigned long port = 0;
    size_t digits = 0;
    for (const char *c = port_text; *c; c++, digits++) {
        if (*c < '0' || *c > '9' || digits == 5)
            return IAM_EINVAL;
        port = port * 10 + (unsigned long)(*c - '0');
    }
    if (digits == 0 || port > 65535)
        return IAM_EINVAL;

    memset(address, 0, sizeof *address);
    if (*ipv6) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1)
            return IAM_EINVAL;
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *)address;
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
            return IAM_EINVAL;
    }
    *port_out = (uint16_t)port;
    return IAM_OK;
}

enum iam_result iam_http_server_start(const struct iam_http_server_options *options, const struct iam_router *router,
                                      struct iam_http_server **out, struct iam_error *err)
{
    struct iam_http_server *server = NULL;
    struct sockaddr_storage address;
    uint16_t port = 0;
    bool ipv6 = false;
    enum iam_result result = IAM_OK;

    if (out)
        *out = NULL;
    if (!options || !router || !out)
        return iam_error_set(err, IAM_EINVAL, NULL, "missing server options or router");
    if (http_parse_listen(options->listen, &address, &port, &ipv6) != IAM_OK)
        return iam_error_set(err, IAM_EINVAL, NULL,
                             "bad listen address \"%s\": expected IPV4:PORT or [IPV6]:PORT",
                             options->listen ? options->listen : "");

    unsigned threads = options->threads;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (unsigned)cores : 1;
    }

    bool tls = (options->tls_cert_file && *options->tls_cert_file) || (options->tls_key_file && *options->tls_key_file);
    if (tls && (!options->tls_cert_file || !*options->tls_cert_file || !options->tls_key_file ||
                !*options->tls_key_file))
        return iam_error_set(err, IAM_EINVAL, NULL, "TLS needs both a certificate file and a key file");
    if (tls && (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
                MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK2) != MHD_YES))
        return iam_error_set(err, IAM_EINVAL, NULL, "this libmicrohttpd was built without TLS support");

    server = calloc(1, sizeof *server);
    if (!server)
        return iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
    server->router = router;
    server->max_body_bytes = options->max_body_bytes ? options->max_body_bytes : HTTP_DEFAULT_MAX_BODY_BYTES;
    server->max_header_bytes = options->max_header_bytes ? options->max_header_bytes : HTTP_DEFAULT_MAX_HEADER_BYTES;
    server->error_responder = options->error_responder;
    result = http_connections_new(options->max_connections, options->request_timeout_s, &server->connections, err);
    if (result != IAM_OK)
        goto fail;
    if (tls) {
        result = iam_http_tls_open(options->tls_cert_file, options->tls_key_file, err);
        if (result != IAM_OK)
            goto fail;
        server->tls = true;
    }

    /* MHD_USE_ITC lets iam_http_server_stop quiesce the daemon before closing connections. */
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (ipv6)
        flags |= MHD_USE_DUAL_STACK;
    if (tls)
        flags |= MHD_USE_TLS;
    /*
     * MHD splits its connection limit evenly between the worker threads; the
     * real cap is connections.c's, across threads. MHD's is only set high
     * enough never to bind first.
     */
    unsigned mhd_connection_limit = options->max_connections ? options->max_connections * threads : 0;
    struct MHD_OptionItem settings[16];
    size_t setting_count = 0;
#define HTTP_SETTING(option, value, pointer) \
    settings[setting_count++] = (struct MHD_OptionItem){(option), (intptr_t)(value), (pointer)}
    HTTP_SETTING(MHD_OPTION_EXTERNAL_LOGGER, http_on_mhd_log, server);
    HTTP_SETTING(MHD_OPTION_SOCK_ADDR, 0, &address);
    if (threads > 1) /* MHD warns about a pool of one: the internal thread serves alone */
        HTTP_SETTING(MHD_OPTION_THREAD_POOL_SIZE, threads, NULL);
    HTTP_SETTING(MHD_OPTION_CONNECTION_MEMORY_LIMIT, server->max_header_bytes + HTTP_POOL_HEADROOM_BYTES, NULL);
    HTTP_SETTING(MHD_OPTION_CONNECTION_TIMEOUT,
                 options->connection_timeout_s ? options->connection_timeout_s : HTTP_DEFAULT_TIMEOUT_S, NULL);
    HTTP_SETTING(MHD_OPTION_URI_LOG_CALLBACK, http_on_uri, server);
    HTTP_SETTING(MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, server);
    HTTP_SETTING(MHD_OPTION_NOTIFY_CONNECTION, http_connections_notify, server->connections);
    if (mhd_connection_limit)
        HTTP_SETTING(MHD_OPTION_CONNECTION_LIMIT, mhd_connection_limit, NULL);
    if (tls) {
        HTTP_SETTING(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)IAM_HTTP_TLS_PRIORITIES);
        /* Options taking one pointer read it from ptr_value, callbacks included. */
        HTTP_SETTING(MHD_OPTION_HTTPS_CERT_CALLBACK2, 0, (void *)iam_http_tls_retrieve);
    }
    HTTP_SETTING(MHD_OPTION_END, 0, NULL);
#undef HTTP_SETTING
    server->daemon = MHD_start_daemon(flags, port, NULL, NULL,
                                      http_on_access, server, MHD_OPTION_ARRAY, settings, MHD_OPTION_END);
    if (!server->daemon) {
        /* MHD joined its threads before returning, so start_error is ours to read. */
        result = iam_error_set(err, IAM_EUNAVAILABLE, NULL, "cannot listen on %s: %s", options->listen,
                               atomic_load(&server->start_error_set) ? server->start_error
                                                                     : "the HTTP daemon failed to start");
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info ? info->port : 0;
    *out = server;
    return IAM_OK;

fail:
    http_connections_free(server->connections);
    if (server->tls)
        iam_http_tls_close();
    free(server);
    return result;
}

uint16_t iam_http_server_port(const struct iam_http_server *server)
{
    return server ? server->port : 0;
}

void iam_http_server_stop(struct iam_http_server *server)
{
    if (!server)
        return;
    /* Stop accepting, give requests in flight time to be answered, then close every connection. */
    MHD_socket listener = MHD_quiesce_daemon(server->daemon);
    for (int waited_ms = 0; atomic_load(&server->in_flight) > 0 && waited_ms < HTTP_DRAIN_TIMEOUT_MS;
         waited_ms += 5) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 5L * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    http_connections_stop_watchdog(server->connections);
    MHD_stop_daemon(server->daemon);
    /* MHD's threads may use the quiesced socket until they are stopped. */
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    http_connections_free(server->connections);
    if (server->tls)
        iam_http_tls_close();
    free(server);
}

enum iam_result iam_http_server_reload_tls(struct iam_http_server *server, struct iam_error *err)
{
    if (!server || !server->tls)
        return iam_error_set(err, IAM_EINVAL, NULL, "the server does not serve TLS");
    return iam_http_tls_reload(err);
}
