/*
 * http.c: the libcurl client of iamctl (http.h): requests, answer parsing,
 * error lines, list paging and URL building.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "crypto/hash.h"
#include "http.h"
#include "output.h"

#define ANSWER_MAX (16 * 1024 * 1024)
#define URL_MAX 8192
#define CONNECT_TIMEOUT_SECONDS 10L
#define LIST_PAGES_MAX 500
#define USER_AGENT "iamctl/0.1.0"

static bool valid_endpoint_text(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '?' || *p == '#' || *p == '"' || *p == '\\')
            return false;
    return true;
}

int iamctl_http_open(struct iamctl_http *http, const char *endpoint, const struct iamctl_http_options *options)
{
    memset(http, 0, sizeof *http);
    http->options = *options;
    if (http->options.timeout_seconds <= 0)
        http->options.timeout_seconds = 60;
    size_t length = endpoint ? strlen(endpoint) : 0;
    size_t scheme = 0;
    if (length > 7 && strncasecmp(endpoint, "http://", 7) == 0)
        scheme = 7;
    else if (length > 8 && strncasecmp(endpoint, "https://", 8) == 0)
        scheme = 8;
    while (length > scheme && endpoint[length - 1] == '/')
        length--;
    if (scheme == 0 || length == scheme || endpoint[scheme] == '/' || length >= sizeof http->endpoint ||
        !valid_endpoint_text(endpoint))
        return iamctl_usage(NULL, "the endpoint must be an http:// or https:// URL such as https://iam.example.com");
    memcpy(http->endpoint, endpoint, length);
    http->endpoint[length] = '\0';
    http->curl = curl_easy_init();
    if (!http->curl)
        return iamctl_fail("cannot start libcurl");
    return IAMCTL_EXIT_OK;
}

void iamctl_http_close(struct iamctl_http *http)
{
    if (http->curl)
        curl_easy_cleanup(http->curl);
    http->curl = NULL;
    if (http->authorization) {
        iam_wipe(http->authorization, strlen(http->authorization));
        free(http->authorization);
        http->authorization = NULL;
    }
}

int iamctl_http_set_token(struct iamctl_http *http, const char *access_token)
{
    if (http->authorization) {
        iam_wipe(http->authorization, strlen(http->authorization));
        free(http->authorization);
        http->authorization = NULL;
    }
    struct iam_buf line;
    iam_buf_init(&line, 16384);
    if (iam_buf_append_str(&line, "Authorization: Bearer ") != IAM_OK ||
        iam_buf_append_str(&line, access_token) != IAM_OK) {
        iam_buf_free(&line);
        return iamctl_fail("the access token is too long");
    }
    http->authorization = iam_buf_detach(&line);
    return http->authorization ? IAMCTL_EXIT_OK : iamctl_fail("out of memory");
}

void iamctl_response_free(struct iamctl_response *response)
{
    json_decref(response->body);
    response->body = NULL;
}

static size_t on_body(char *data, size_t size, size_t count, void *context)
{
    struct iam_buf *buf = context;
    size_t length = size * count;
    if (iam_buf_append(buf, data, length) != IAM_OK)
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    return length;
}

static size_t on_header(char *data, size_t size, size_t count, void *context)
{
    struct iamctl_response *response = context;
    size_t length = size * count;
    if (length > 5 && strncasecmp(data, "ETag:", 5) == 0) {
        size_t start = 5, end = length;
        while (start < end && (data[start] == ' ' || data[start] == '\t'))
            start++;
        while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' '))
            end--;
        size_t value_length = end - start;
        if (value_length < sizeof response->etag) {
            memcpy(response->etag, data + start, value_length);
            response->etag[value_length] = '\0';
        }
    }
    return length;
}

/* One line for a transfer that did not complete. */
static int report_transport(const struct iamctl_http *http, CURLcode code)
{
    const char *detail = http->error[0] ? http->error : curl_easy_strerror(code);
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return iamctl_fail("cannot find the host of %s: %s", http->endpoint, detail);
    case CURLE_COULDNT_CONNECT:
        return iamctl_fail("cannot connect to %s: %s (is iamd running there?)", http->endpoint, detail);
    case CURLE_OPERATION_TIMEDOUT:
        return iamctl_fail("%s did not answer in time: %s", http->endpoint, detail);
    case CURLE_PEER_FAILED_VERIFICATION:
        return iamctl_fail("the TLS certificate of %s could not be verified: %s (use --cacert FILE)",
                           http->endpoint, detail);
    case CURLE_SSL_CONNECT_ERROR:
        return iamctl_fail("TLS with %s failed: %s (is it an https:// endpoint?)", http->endpoint, detail);
    case CURLE_WRITE_ERROR:
        return iamctl_fail("the answer of %s is too large", http->endpoint);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return iamctl_fail("%s does not answer like iamd: %s", http->endpoint, detail);
    default: return iamctl_fail("request to %s failed: %s", http->endpoint, detail);
    }
}

/* Adds `line` to the header list; false when libcurl is out of memory. */
static bool add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(*list, line);
    if (!grown)
        return false;
    *list = grown;
    return true;
}

int iamctl_http_send(struct iamctl_http *http, const struct iamctl_request *request,
                     struct iamctl_response *response)
{
    memset(response, 0, sizeof *response);
    int status = IAMCTL_EXIT_FAILURE;
    struct iam_buf url, answer;
    iam_buf_init(&url, URL_MAX);
    iam_buf_init(&answer, ANSWER_MAX);
    struct curl_slist *headers = NULL;
    char if_match_line[256];
    char content_type_line[128];
    CURL *curl = http->curl;

    if (!request->path) {
        status = iamctl_fail("the request URL is too long");
        goto out;
    }
    if (iam_buf_append_str(&url, http->endpoint) != IAM_OK || iam_buf_append_str(&url, request->path) != IAM_OK) {
        status = iamctl_fail("the request URL is too long");
        goto out;
    }
    bool headers_ok = add_header(&headers, "Accept: application/json") && add_header(&headers, "Expect:");
    if (headers_ok && request->content_type) {
        snprintf(content_type_line, sizeof content_type_line, "Content-Type: %s", request->content_type);
        headers_ok = add_header(&headers, content_type_line);
    }
    if (headers_ok && request->if_match) {
        snprintf(if_match_line, sizeof if_match_line, "If-Match: %s", request->if_match);
        headers_ok = add_header(&headers, if_match_line);
    }
    if (headers_ok && request->authenticated && http->authorization)
        headers_ok = add_header(&headers, http->authorization);
    for (const char *const *extra = request->headers; headers_ok && extra && *extra; extra++)
        headers_ok = add_header(&headers, *extra);
    if (!headers_ok) {
        status = iamctl_fail("out of memory");
        goto out;
    }

    curl_easy_reset(curl);
    http->error[0] = '\0';
    long connect_timeout = http->options.timeout_seconds < CONNECT_TIMEOUT_SECONDS ? http->options.timeout_seconds
                                                                                    : CONNECT_TIMEOUT_SECONDS;
    bool options_ok =
        curl_easy_setopt(curl, CURLOPT_URL, url.data) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, connect_timeout) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, http->options.timeout_seconds) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, http->options.insecure ? 0L : 1L) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, http->options.insecure ? 0L : 2L) == CURLE_OK &&
        (!http->options.ca_file || curl_easy_setopt(curl, CURLOPT_CAINFO, http->options.ca_file) == CURLE_OK) &&
        curl_easy_setopt(curl, CURLOPT_USERAGENT, USER_AGENT) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, http->error) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, response) == CURLE_OK;
    if (options_ok) {
        if (strcmp(request->method, "GET") == 0) {
            options_ok = curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L) == CURLE_OK;
        } else {
            options_ok = curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request->method) == CURLE_OK;
            if (options_ok && (request->body || strcmp(request->method, "POST") == 0))
                options_ok =
                    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_length) ==
                        CURLE_OK &&
                    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request->body ? request->body : "") == CURLE_OK;
        }
    }
    if (!options_ok) {
        status = iamctl_fail("cannot set up the request (libcurl is missing a feature)");
        goto out;
    }
    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        status = report_transport(http, code);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
    if (answer.length == 0) {
        if (response->status >= 200 && response->status < 300) {
            status = IAMCTL_EXIT_OK;
            goto out;
        }
        status = iamctl_fail("%s does not answer like iamd (HTTP %ld with an empty body)", http->endpoint,
                             response->status);
        goto out;
    }
    json_error_t parse_error;
    response->body = json_loadb(answer.data, answer.length, JSON_REJECT_DUPLICATES, &parse_error);
    if (!response->body) {
        const char *type = NULL;
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
        status = iamctl_fail("%s does not answer like iamd (HTTP %ld, %s instead of JSON)", http->endpoint,
                             response->status, type ? type : "no content type");
        goto out;
    }
    status = IAMCTL_EXIT_OK;
out:
    /* Forget the header list and buffers before they are freed. */
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    iam_buf_free(&url);
    iam_buf_free(&answer); /* wipes: answers may hold tokens and keys */
    return status;
}

void iamctl_http_error_text(const json_t *body, const char **message, const char **code)
{
    *message = "";
    *code = "";
    const json_t *first = json_array_get(json_object_get(body, "errors"), 0);
    if (json_is_object(first)) {
        const char *text = json_string_value(json_object_get(first, "message"));
        const char *message_code = json_string_value(json_object_get(first, "message_code"));
        const char *error_code = json_string_value(json_object_get(first, "code"));
        *message = text ? text : "";
        *code = message_code && *message_code ? message_code : error_code ? error_code : "";
        return;
    }
    const char *token_message = json_string_value(json_object_get(body, "errorMessage"));
    if (token_message) {
        const char *token_code = json_string_value(json_object_get(body, "errorCode"));
        *message = token_message;
        *code = token_code ? token_code : "";
        return;
    }
    const char *plain = json_string_value(json_object_get(body, "message"));
    const char *plain_code = json_string_value(json_object_get(body, "code"));
    *message = plain ? plain : "";
    *code = plain_code ? plain_code : "";
}

int iamctl_http_report(const struct iamctl_http *http, const struct iamctl_response *response, bool authenticated)
{
    const char *message, *code;
    iamctl_http_error_text(response->body, &message, &code);
    if (!*message)
        return iamctl_fail("%s does not answer like iamd (HTTP %ld without an error message)", http->endpoint,
                           response->status);
    if (response->status == 401 && authenticated)
        return iamctl_fail("%s (%s); the login is no longer valid: run 'iamctl login'", message,
                           *code ? code : "401");
    if (*code)
        return iamctl_fail("%s (%s)", message, code);
    return iamctl_fail("%s (HTTP %ld)", message, response->status);
}

int iamctl_http_call(struct iamctl_http *http, const char *method, const char *path, const json_t *body,
                     const char *if_match, const char *const *headers, struct iamctl_response *response)
{
    char *text = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text) {
            memset(response, 0, sizeof *response);
            return iamctl_fail("out of memory");
        }
    }
    struct iamctl_request request = {
        .method = method,
        .path = path,
        .content_type = text ? "application/json" : NULL,
        .body = text,
        .body_length = text ? strlen(text) : 0,
        .if_match = if_match,
        .headers = headers,
        .authenticated = true,
    };
    int status = iamctl_http_send(http, &request, response);
    if (text) {
        iam_wipe(text, strlen(text));
        free(text);
    }
    if (status != IAMCTL_EXIT_OK)
        return status;
    if (response->status < 200 || response->status >= 300)
        return iamctl_http_report(http, response, true);
    return IAMCTL_EXIT_OK;
}

/* The query string ("?...") of a `next` link (a URL string or {href}), or NULL. */
static const char *next_query(const json_t *body)
{
    const json_t *next = json_object_get(body, "next");
    const char *link = json_is_string(next) ? json_string_value(next) : json_string_value(json_object_get(next, "href"));
    return link ? strchr(link, '?') : NULL;
}

int iamctl_http_list(struct iamctl_http *http, const char *path, const char *key, json_t **items)
{
    *items = json_array();
    if (!*items)
        return iamctl_fail("out of memory");
    size_t base_length = strcspn(path, "?");
    struct iam_buf current;
    iam_buf_init(&current, URL_MAX);
    int status = IAMCTL_EXIT_OK;
    if (iam_buf_append_str(&current, path) != IAM_OK) {
        status = iamctl_fail("the request URL is too long");
        goto out;
    }
    for (int page = 0; page < LIST_PAGES_MAX; page++) {
        struct iamctl_response response;
        status = iamctl_http_call(http, "GET", current.data, NULL, NULL, NULL, &response);
        if (status != IAMCTL_EXIT_OK) {
            iamctl_response_free(&response);
            goto out;
        }
        const json_t *list = json_object_get(response.body, key);
        if (!json_is_array(list)) {
            iamctl_response_free(&response);
            status = iamctl_fail("%s does not answer like iamd (no %s list)", http->endpoint, key);
            goto out;
        }
        if (json_array_extend(*items, (json_t *)list) != 0) {
            iamctl_response_free(&response);
            status = iamctl_fail("out of memory");
            goto out;
        }
        const char *query = next_query(response.body);
        bool more = query && json_array_size(list) > 0 && strcmp(query, current.data + strcspn(current.data, "?")) != 0;
        if (more) {
            iam_buf_reset(&current);
            if (iam_buf_append(&current, path, base_length) != IAM_OK ||
                iam_buf_append_str(&current, query) != IAM_OK) {
                iamctl_response_free(&response);
                status = iamctl_fail("the next page's URL is too long");
                goto out;
            }
        }
        iamctl_response_free(&response);
        if (!more)
            goto out;
    }
out:
    iam_buf_free(&current);
    if (status != IAMCTL_EXIT_OK) {
        json_decref(*items);
        *items = NULL;
    }
    return status;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

enum iam_result iamctl_url_encode(struct iam_buf *buf, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        enum iam_result result;
        if (unreserved(*p)) {
            result = iam_buf_append(buf, p, 1);
        } else {
            char escaped[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            result = iam_buf_append(buf, escaped, 3);
        }
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}

void iamctl_url_init(struct iamctl_url *url, const char *path)
{
    iam_buf_init(&url->buf, URL_MAX);
    url->has_query = strchr(path, '?') != NULL;
    url->result = iam_buf_append_str(&url->buf, path);
}

void iamctl_url_segment(struct iamctl_url *url, const char *segment)
{
    if (url->result != IAM_OK)
        return;
    if ((url->result = iam_buf_append_str(&url->buf, "/")) == IAM_OK)
        url->result = iamctl_url_encode(&url->buf, segment);
}

void iamctl_url_query(struct iamctl_url *url, const char *name, const char *value)
{
    if (url->result != IAM_OK || !value)
        return;
    if ((url->result = iam_buf_append_str(&url->buf, url->has_query ? "&" : "?")) == IAM_OK &&
        (url->result = iamctl_url_encode(&url->buf, name)) == IAM_OK &&
        (url->result = iam_buf_append_str(&url->buf, "=")) == IAM_OK)
        url->result = iamctl_url_encode(&url->buf, value);
    url->has_query = true;
}

const char *iamctl_url_text(const struct iamctl_url *url)
{
    return url->result == IAM_OK ? url->buf.data : NULL;
}

void iamctl_url_free(struct iamctl_url *url)
{
    iam_buf_free(&url->buf);
}
