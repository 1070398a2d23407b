/*
 * http.h: requests, responses, routing and the server (libmicrohttpd underneath).
 *
 * A handler receives a fully read request (body capped by the server's limit)
 * and fills a response. All memory a handler allocates for the request comes
 * from `request->arena`, freed by the server when the request completes (the
 * response has been sent or the connection dropped).
 * The server never logs bodies, headers (so neither Authorization nor
 * IAM-ApiKey), the query string or the raw path: its access log has the route
 * template instead.
 */
#ifndef IAM_HTTP_HTTP_H
#define IAM_HTTP_HTTP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"

#define IAM_HTTP_MAX_PATH_PARAMS 4

struct iam_http_request {
    struct iam_arena *arena;      /* freed when the request completes */
    const char *method;           /* "GET", "POST", ... */
    const char *path;             /* URL path without the query string, percent-decoded by MHD */
    const char *route;            /* the matched route template ("/v1/serviceids/{id}"), for logs */
    const char *body;             /* NUL-terminated; "" when empty */
    size_t body_length;
    const char *client_address;   /* textual IP address */
    const char *request_id;       /* unique per request; echoed as Transaction-Id and in error traces */
    const char *path_params[IAM_HTTP_MAX_PATH_PARAMS]; /* values of {name} segments in order */
    size_t path_param_count;
    const char *log_identity;     /* set by handlers: the caller's iam_id for the access log */
    void *app_state;              /* owned by the layer above (router hooks and handlers share it); arena memory */
    bool tls;                     /* true when served over HTTPS */
    void *connection;             /* private to the server */
    struct iam_http_route_stats *route_stats; /* set by the router: where the server counts this request */
};

/* A request header (case-insensitive name), NULL when absent. */
const char *iam_http_header(const struct iam_http_request *request, const char *name);

/*
 * A query-string argument, NULL when absent (present but empty gives "", as
 * does "?name" alone). Names are case-sensitive; with repeated names the first
 * wins (use iam_http_query_each to refuse repeats). Values are percent-decoded
 * by MHD, '+' as a space. A URL holding %00 never reaches a handler (400).
 */
const char *iam_http_query(const struct iam_http_request *request, const char *name);

/*
 * Calls `visit` for every query argument; stops when it returns false.
 * Used to reject unknown parameters and to rebuild URLs for pagination.
 */
void iam_http_query_each(const struct iam_http_request *request,
                         bool (*visit)(void *context, const char *name, const char *value), void *context);

/* The value of the index-th {param} of the matched route. */
const char *iam_http_path_param(const struct iam_http_request *request, size_t index);

struct iam_http_header_line {
    const char *name;
    const char *value;
    struct iam_http_header_line *next;
};

struct iam_http_response {
    int status;                   /* 0 until set; the server sends 500 if a handler leaves it 0 */
    const char *content_type;     /* default "application/json" when body_json is set */
    json_t *body_json;            /* owned by the response; serialised by the server */
    const char *body;             /* raw body (arena memory) when body_json is NULL */
    size_t body_length;
    struct iam_http_header_line *headers; /* extra headers, arena memory */
};

/*
 * Sets a JSON response; steals `body`. A NULL `body` (a failed json_pack)
 * makes the server answer its default 500 instead of `status` with no body.
 * Each respond_* call replaces the body of an earlier one.
 */
void iam_http_respond_json(struct iam_http_request *request, struct iam_http_response *response, int status,
                           json_t *body);

/* Sets a response with no body (204 and the like). */
void iam_http_respond_empty(struct iam_http_response *response, int status);

/* Sets a raw response; `body` is copied into the request's arena. */
void iam_http_respond_raw(struct iam_http_request *request, struct iam_http_response *response, int status,
                          const char *content_type, const void *body, size_t length);

/*
 * Adds a response header; both strings are copied into the arena. A header
 * the handler sets replaces the server's default of the same name
 * (Content-Type, Cache-Control...). A name that is not a token or a value
 * holding CR or LF is refused (logged, not sent).
 */
void iam_http_add_header(struct iam_http_request *request, struct iam_http_response *response, const char *name,
                         const char *value);

typedef void (*iam_http_handler)(struct iam_http_request *request, struct iam_http_response *response,
                                 void *context);

/* --- routing --- */

/* Upper bounds (microseconds) of the request-duration histogram buckets; the last one is +Inf. */
#define IAM_HTTP_DURATION_BUCKETS 8
extern const int64_t iam_http_duration_bounds_us[IAM_HTTP_DURATION_BUCKETS - 1];

/*
 * Request counts and durations of one route (or of every unmatched request),
 * kept by the router and updated by the server with relaxed atomic adds.
 * Durations run from the complete request headers to the queued answer.
 */
struct iam_http_route_stats {
    atomic_uint_fast64_t responses[5];  /* by status class: [0] 1xx ... [4] 5xx */
    atomic_uint_fast64_t duration_buckets[IAM_HTTP_DURATION_BUCKETS]; /* not cumulative */
    atomic_uint_fast64_t duration_us_sum;
};

struct iam_router;

/* A new empty router. Free with iam_router_free. */
struct iam_router *iam_router_new(void);
void iam_router_free(struct iam_router *router);

/*
 * Adds a route. `pattern` is a path whose segments are literals or `{name}`
 * (a whole segment; at most IAM_HTTP_MAX_PATH_PARAMS). A request path with a
 * trailing slash matches the pattern without one. Literal segments win over
 * `{name}` segments when both match. IAM_EINVAL for a malformed pattern (no
 * leading '/', a trailing '/', empty, "." or ".." segments, braces inside a
 * segment, a name outside [A-Za-z0-9_]) or a method other than GET, HEAD,
 * POST, PUT, PATCH, DELETE, OPTIONS; IAM_ECONFLICT when the method already has
 * a pattern of the same shape. `pattern` is copied.
 */
enum iam_result iam_router_add(struct iam_router *router, const char *method, const char *pattern,
                               iam_http_handler handler, void *context) IAM_MUST_CHECK;

/*
 * Sets the handler for requests that match no route (404) or a route under
 * another method (405, `method_not_allowed` true). The default answers plain JSON.
 */
void iam_router_set_fallback(struct iam_router *router,
                             void (*fallback)(struct iam_http_request *request, struct iam_http_response *response,
                                              bool method_not_allowed, void *context),
                             void *context);

/*
 * Code run around every matched route's handler (the API's audit trail).
 * `before` runs once the route is known (request->route, path_params set) and
 * before the handler; returning false skips the handler (`before` must then
 * have set the response). `after` runs after the handler, or after a refusing
 * `before`, with the response filled. Not run for requests that match no
 * route, or no method of the matched route. Either may be NULL.
 */
struct iam_router_hooks {
    bool (*before)(struct iam_http_request *request, struct iam_http_response *response, void *context);
    void (*after)(struct iam_http_request *request, struct iam_http_response *response, void *context);
    void *context;
};

/* Sets the hooks (copied); NULL removes them. */
void iam_router_set_hooks(struct iam_router *router, const struct iam_router_hooks *hooks);

/*
 * Routes `request` (fills path_params and route) and runs the handler.
 * Resource first: the most specific pattern matching the path is chosen,
 * then the method among that pattern's routes; if it has none the fallback
 * runs with `method_not_allowed` and an Allow header is set. HEAD uses the
 * GET route when there is no HEAD route. Methods outside the set above get
 * 405 whatever the path. Paths with empty, "." or ".." segments (after MHD's
 * percent-decoding) match nothing. `route` stays NULL when nothing matched.
 */
void iam_router_dispatch(const struct iam_router *router, struct iam_http_request *request,
                         struct iam_http_response *response);

/*
 * Calls `visit` with each route's method, pattern and statistics in the order
 * added, then once with method NULL and pattern "unmatched" for the requests
 * that matched no route (404, 405, and the server's own refusals).
 */
void iam_router_each_stats(const struct iam_router *router,
                           void (*visit)(void *context, const char *method, const char *pattern,
                                         const struct iam_http_route_stats *stats),
                           void *context);

/* --- form bodies (application/x-www-form-urlencoded) --- */

struct iam_form_field {
    const char *name;
    const char *value;
};

struct iam_form {
    struct iam_form_field *fields; /* arena memory */
    size_t count;
};

/*
 * Parses a urlencoded body into `form` (names and values percent-decoded, '+'
 * as space). Rejects malformed escapes, NUL bytes, duplicate names and more
 * than 64 fields with IAM_EINVAL; also empty names ("=x", "a=1&&b=2", a
 * trailing '&'). A name without '=' has the value "". An empty body gives
 * zero fields. Duplicates are compared after decoding. The bytes are not
 * checked for valid UTF-8.
 */
enum iam_result iam_form_parse(struct iam_arena *arena, const char *body, size_t length,
                               struct iam_form *form) IAM_MUST_CHECK;

/* A field's value, NULL when absent. */
const char *iam_form_get(const struct iam_form *form, const char *name);

/* --- the server --- */

struct iam_http_server_options {
    const char *listen;             /* "ADDR:PORT", IPv4 or [IPv6] literal (no host names); port 0: any */
    unsigned threads;               /* worker threads; 0: number of cores */
    size_t max_body_bytes;          /* larger bodies get 413; 0: 1 MiB */
    unsigned connection_timeout_s;  /* idle connections are closed after this; 0: 30 s */
    unsigned max_connections;       /* across all threads; further connections are closed at once; 0: MHD's default */
    /*
     * The request line and headers together: larger ones get 431 (414 when the
     * URL alone is too long or has too many query parameters). 0: 16 KiB.
     * MHD's per-connection memory pool is this plus 4 KiB for its own records
     * and the response headers.
     */
    size_t max_header_bytes;
    /*
     * Seconds a request may take to arrive whole (TLS handshake, request line,
     * headers, body), counted from the connection's accept or, on a keep-alive
     * connection, from the first byte of the request. A client still sending
     * then is disconnected, however steadily it trickles. 0: no limit.
     */
    unsigned request_timeout_s;
    /*
     * PEM files: the certificate chain (leaf first) and its private key. Both
     * or neither; with them the server speaks HTTPS only, TLS 1.2 and 1.3 with
     * ECDHE and AEAD ciphers. The key file must not be accessible to others
     * (mode 0600 or 0640). One HTTPS server per process.
     */
    const char *tls_cert_file;
    const char *tls_key_file;
    /*
     * Called with a 413/400 the server produces itself before routing (body too
     * large, malformed request), so the body has the API's error format. May be NULL.
     */
    void (*error_responder)(struct iam_http_request *request, struct iam_http_response *response, int status,
                            const char *message);
};

struct iam_http_server;

/*
 * Binds and starts serving `router` (which must outlive the server).
 * On failure `err` says why: IAM_EINVAL for a bad listen address or options,
 * IAM_EUNAVAILABLE when the daemon cannot start (address in use...).
 * SIGPIPE needs no handling by the caller: MHD suppresses it in its threads.
 */
enum iam_result iam_http_server_start(const struct iam_http_server_options *options, const struct iam_router *router,
                                      struct iam_http_server **out, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Reads the certificate and key files again and serves them to new TLS
 * handshakes; connections and handshakes in progress keep the old pair. On
 * any problem (unreadable file, a key others can read, a key that does not
 * match the certificate) the old pair stays and `err` says why.
 * IAM_EINVAL when the server does not serve TLS. Thread-safe.
 */
enum iam_result iam_http_server_reload_tls(struct iam_http_server *server, struct iam_error *err) IAM_MUST_CHECK;

/* The port actually bound (useful with port 0). */
uint16_t iam_http_server_port(const struct iam_http_server *server);

/*
 * Stops accepting, finishes in-flight requests (waiting at most 5 s for them
 * to be answered; idle keep-alive connections do not count) and frees the
 * server. NULL is allowed.
 */
void iam_http_server_stop(struct iam_http_server *server);

#endif
