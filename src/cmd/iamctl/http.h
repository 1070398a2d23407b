/*
 * http.h: iamctl's HTTP client on libcurl. TLS certificates and host names
 * are verified unless --insecure is given; connect and total timeouts;
 * no redirects; answers capped at 16 MiB. Bodies are JSON (jansson, duplicate
 * keys rejected). An endpoint that is down or does not answer like iamd
 * (no JSON) gives one clear line; an error answer of iamd is printed as
 * "iamctl: <message> (<code>)". Lists follow the API's `next` links.
 */
#ifndef IAMCTL_HTTP_H
#define IAMCTL_HTTP_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>

#include "common/buf.h"
#include "common/error.h"

#define IAMCTL_ENDPOINT_MAX 1024

struct iamctl_http_options {
    bool insecure;         /* skip certificate and host name verification */
    const char *ca_file;   /* CA bundle instead of the system's, or NULL */
    long timeout_seconds;  /* whole request; connecting gets at most 10 s */
};

struct iamctl_http {
    CURL *curl;
    char endpoint[IAMCTL_ENDPOINT_MAX]; /* scheme://host[:port][/prefix], no trailing slash */
    struct iamctl_http_options options;
    char *authorization; /* "Authorization: Bearer ..." (owned, wiped), or NULL */
    char error[CURL_ERROR_SIZE];
};

struct iamctl_request {
    const char *method;
    const char *path;         /* "/v1/..." with its query string, already encoded */
    const char *content_type; /* of `body`, or NULL */
    const char *body;
    size_t body_length;
    const char *if_match;
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
    bool authenticated;         /* send the bearer token */
};

struct iamctl_response {
    long status;
    json_t *body; /* the parsed JSON answer, or NULL when the body was empty */
    char etag[160];
};

/*
 * Checks `endpoint` (http:// or https:// URL; trailing slashes dropped) and
 * prepares the client. Prints one line and returns IAMCTL_EXIT_USAGE for a
 * malformed endpoint, IAMCTL_EXIT_FAILURE when libcurl cannot start.
 */
int iamctl_http_open(struct iamctl_http *http, const char *endpoint, const struct iamctl_http_options *options);

/* Releases the client and wipes the token. */
void iamctl_http_close(struct iamctl_http *http);

/* Uses `access_token` as the bearer token of authenticated requests. */
int iamctl_http_set_token(struct iamctl_http *http, const char *access_token);

/*
 * Sends one request. Returns IAMCTL_EXIT_OK when the server answered like
 * iamd (any status: JSON or an empty body); otherwise prints why (cannot
 * connect, TLS, timeout, not iamd) and returns IAMCTL_EXIT_FAILURE.
 * The caller frees `response` with iamctl_response_free in both cases.
 */
int iamctl_http_send(struct iamctl_http *http, const struct iamctl_request *request,
                     struct iamctl_response *response);

/*
 * An authenticated JSON call that must succeed: `body` (may be NULL) is sent
 * as application/json. Returns IAMCTL_EXIT_OK for a 2xx answer; otherwise
 * prints the server's error and returns IAMCTL_EXIT_FAILURE.
 */
int iamctl_http_call(struct iamctl_http *http, const char *method, const char *path, const json_t *body,
                     const char *if_match, const char *const *headers, struct iamctl_response *response);

/*
 * GETs `path` and the pages after it (the answer's `next`, a URL or {href}),
 * collecting the items of array member `key` into *items (a new array).
 */
int iamctl_http_list(struct iamctl_http *http, const char *path, const char *key, json_t **items);

/* Prints "iamctl: <message> (<code>)" for an answer that is not a success; returns IAMCTL_EXIT_FAILURE. */
int iamctl_http_report(const struct iamctl_http *http, const struct iamctl_response *response, bool authenticated);

/* The server's message and code of an error answer (empty strings when it has none). */
void iamctl_http_error_text(const json_t *body, const char **message, const char **code);

/* Frees the parsed body. */
void iamctl_response_free(struct iamctl_response *response);

/* A path and query under construction; errors are remembered and reported by iamctl_url_text. */
struct iamctl_url {
    struct iam_buf buf;
    bool has_query;
    enum iam_result result;
};

/* Starts with `path` as is ("/v1/serviceids"). */
void iamctl_url_init(struct iamctl_url *url, const char *path);

/* Appends "/" and `segment`, percent-encoded. */
void iamctl_url_segment(struct iamctl_url *url, const char *segment);

/* Appends "?name=value" or "&name=value" (value percent-encoded); nothing when value is NULL. */
void iamctl_url_query(struct iamctl_url *url, const char *name, const char *value);

/* The text, or NULL after an error (too long, out of memory). */
const char *iamctl_url_text(const struct iamctl_url *url);

void iamctl_url_free(struct iamctl_url *url);

/* Appends `text` percent-encoded (RFC 3986 unreserved characters kept) to `buf`. */
enum iam_result iamctl_url_encode(struct iam_buf *buf, const char *text) IAM_MUST_CHECK;

#endif
