/*
 * common.c: the shared handler helpers of api.h: caller authentication
 * (Bearer token, Basic apikey, or the console's session cookie, checked in
 * api/console.c), IBM-format errors, JSON bodies, query booleans and entity tags.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api/api.h"
#include "api/audit_api.h"
#include "api/console_api.h"
#include "common/metrics.h"
#include "crypto/hash.h"
#include "iam/authn.h"

#define API_CREDENTIAL_MAX 8192

int iam_api_status_for(enum iam_result result)
{
    switch (result) {
    case IAM_OK: return 200;
    case IAM_EINVAL: return 400;
    case IAM_EUNAUTH: return 401;
    case IAM_EDENIED: return 403;
    case IAM_ENOTFOUND: return 404;
    case IAM_ECONFLICT: return 409;
    case IAM_ELOCKED: return 409;
    case IAM_ETOOBIG: return 413;
    case IAM_EUNAVAILABLE: return 503;
    case IAM_ETOOMANY: return 429;
    default: return 500;
    }
}

/* Like iam_api_respond_error, with an explicit HTTP status. */
static void respond_error_status(struct iam_http_request *request, struct iam_http_response *response, int status,
                                 const char *code, const char *message_code, const char *message)
{
    json_t *body = json_pack("{s:[{s:s,s:s,s:s}],s:i,s:s}", "errors", "code", code, "message_code", message_code,
                             "message", message, "status_code", status, "trace", request->request_id);
    iam_http_respond_json(request, response, status, body);
}

void iam_api_respond_error(struct iam_http_request *request, struct iam_http_response *response,
                           const struct iam_error *err)
{
    enum iam_result result = err && err->result != IAM_OK ? err->result : IAM_EINTERNAL;
    iam_api_count_store_failure(result);
    int status = iam_api_status_for(result);
    const char *code = err && err->code[0] ? err->code : iam_error_code_for(result);
    const char *message_code = err && err->message_code[0] ? err->message_code : "BXNIM0500E";
    const char *message = err && err->message[0] ? err->message : iam_strerror(result);
    respond_error_status(request, response, status, code, message_code, message);
}

void iam_api_count_store_failure(enum iam_result result)
{
    if (result == IAM_ESTORE)
        iam_metrics_add(IAM_METRIC_STORE_ERRORS, 1);
    else if (result == IAM_EUNAVAILABLE)
        iam_metrics_add(IAM_METRIC_STORE_UNAVAILABLE, 1);
}

void iam_api_server_error(struct iam_http_request *request, struct iam_http_response *response, int status,
                          const char *message)
{
    const char *code = status == 413 || status == 414 || status == 431 ? "request_too_large"
                       : status == 405                               ? "method_not_allowed"
                                                                     : "invalid_request";
    respond_error_status(request, response, status, code, "BXNIM0109E", message);
}

void iam_api_fail(struct iam_http_request *request, struct iam_http_response *response, enum iam_result result,
                  const char *message_code, const char *format, ...)
{
    struct iam_error err;
    iam_error_set(&err, result, message_code, "%s", "");
    va_list args;
    va_start(args, format);
    vsnprintf(err.message, sizeof err.message, format, args);
    va_end(args);
    iam_error_sanitize(&err);
    iam_api_respond_error(request, response, &err);
}

/* Returns the API key from "Basic base64(apikey:<key>)", or NULL. */
static const char *basic_apikey(struct iam_http_request *request, const char *encoded)
{
    size_t encoded_length = strlen(encoded);
    if (encoded_length == 0 || encoded_length > API_CREDENTIAL_MAX)
        return NULL;
    /* Standard base64 (not url-safe) as HTTP Basic uses. */
    size_t capacity = encoded_length / 4 * 3 + 3;
    unsigned char *decoded = iam_arena_alloc(request->arena, capacity + 1);
    if (!decoded)
        return NULL;
    size_t length = 0;
    if (sodium_base642bin(decoded, capacity, encoded, encoded_length, NULL, &length, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return NULL;
    decoded[length] = '\0';
    if (strlen((char *)decoded) != length)
        return NULL;
    if (strncmp((char *)decoded, "apikey:", 7) != 0)
        return NULL;
    return (const char *)decoded + 7;
}

void iam_api_retry_after(struct iam_http_request *request, struct iam_http_response *response, int64_t seconds)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)(seconds > 0 ? seconds : 1));
    iam_http_add_header(request, response, "Retry-After", text);
}

bool iam_api_authenticate(struct iam_api *api, struct iam_http_request *request, struct iam_http_response *response,
                          struct iam_principal *who)
{
    bool replayed_ok = false;
    /* A recorded request was authenticated by the audit hook already: the same answer, not a second check. */
    if (iam_api_audit_authentication(request, response, who, &replayed_ok))
        return replayed_ok;
    struct iam_error err;
    iam_error_clear(&err);
    const char *authorization = iam_http_header(request, "Authorization");
    enum iam_result result = IAM_EUNAUTH;
    /* For the audit trail: how the refused credentials came, and what a refused API key named. */
    const char *mechanism = NULL;
    struct iam_authn_refusal refused;
    memset(&refused, 0, sizeof refused);
    if (!authorization) {
        /* The console's session cookie (api/console.c); an Authorization header always wins over it. */
        if (iam_api_console_cookie(request))
            return iam_api_console_authenticate(api, request, response, who);
        iam_error_set(&err, IAM_EUNAUTH, "BXNIM0308E", "No authorization header found.");
    } else if (strncasecmp(authorization, "Bearer ", 7) == 0) {
        const char *token = authorization + 7;
        while (*token == ' ')
            token++;
        mechanism = "bearer";
        result = iam_authn_access_token(api->service, request->arena, token, who, NULL, &err);
    } else if (strncasecmp(authorization, "Basic ", 6) == 0) {
        const char *apikey = basic_apikey(request, authorization + 6);
        mechanism = "basic";
        if (apikey) {
            int64_t retry_after = 0;
            mechanism = "basic-apikey";
            result = iam_authn_apikey_attempt(api->service, request->arena, apikey, request->client_address, who,
                                              &retry_after, &refused, &err);
            if (result == IAM_ETOOMANY) {
                iam_api_respond_error(request, response, &err);
                iam_api_retry_after(request, response, retry_after);
                iam_api_audit_count(api, request, response, IAM_AUDIT_ACTION_AUTHENTICATE, mechanism, NULL,
                                    &refused);
                return false;
            }
            if (result != IAM_OK)
                iam_error_set(&err, IAM_EUNAUTH, "BXNIM0415E", "Provided API key could not be found.");
        } else {
            iam_error_set(&err, IAM_EUNAUTH, "BXNIM0308E", "Basic credentials must be apikey:<API key>.");
        }
    } else {
        iam_error_set(&err, IAM_EUNAUTH, "BXNIM0308E", "Unsupported authorization scheme.");
    }
    if (result == IAM_OK) {
        request->log_identity = who->iam_id;
        return true;
    }
    if (err.result != IAM_EUNAUTH && err.result != IAM_EUNAVAILABLE && err.result != IAM_ESTORE)
        iam_error_set(&err, IAM_EUNAUTH, "BXNIM0407E", "The provided access token is invalid.");
    if (err.result == IAM_ESTORE)
        iam_error_set(&err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    iam_api_respond_error(request, response, &err);
    if (err.result == IAM_EUNAUTH)
        iam_http_add_header(request, response, "WWW-Authenticate", "Bearer realm=\"iamd\"");
    /* Credentials that were presented and refused are a failed authentication; none at all is not. */
    if (authorization)
        iam_api_audit_count(api, request, response, IAM_AUDIT_ACTION_AUTHENTICATE, mechanism, NULL, &refused);
    return false;
}

enum iam_result iam_api_json_body(const struct iam_http_request *request, bool allow_empty, json_t **object,
                                  struct iam_error *err)
{
    *object = NULL;
    size_t length = request->body_length;
    const char *body = request->body ? request->body : "";
    size_t start = 0;
    while (start < length && (body[start] == ' ' || body[start] == '\n' || body[start] == '\r' || body[start] == '\t'))
        start++;
    if (start == length) {
        if (!allow_empty)
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "A JSON request body is required.");
        *object = json_object();
        return *object ? IAM_OK : iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    }
    json_error_t parse_error;
    json_t *parsed = json_loadb(body, length, JSON_REJECT_DUPLICATES, &parse_error);
    if (!parsed)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The request body is not valid JSON: %s.",
                             parse_error.text);
    if (!json_is_object(parsed)) {
        json_decref(parsed);
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The request body must be a JSON object.");
    }
    *object = parsed;
    return IAM_OK;
}

enum iam_result iam_api_only_fields(const json_t *object, const char *const *allowed, struct iam_error *err)
{
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)object, name, value) {
        bool known = false;
        for (const char *const *candidate = allowed; *candidate; candidate++) {
            if (strcmp(name, *candidate) == 0) {
                known = true;
                break;
            }
        }
        if (!known)
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "Unknown property: %.64s.", name);
    }
    return IAM_OK;
}

static enum iam_result parse_bool_text(const char *text, const char *what, const char *name, bool *value,
                                       struct iam_error *err)
{
    if (strcmp(text, "true") == 0) {
        *value = true;
        return IAM_OK;
    }
    if (strcmp(text, "false") == 0) {
        *value = false;
        return IAM_OK;
    }
    return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The %s %.64s must be true or false.", what, name);
}

enum iam_result iam_api_query_bool(const struct iam_http_request *request, const char *name, bool fallback,
                                   bool *value, struct iam_error *err)
{
    const char *text = iam_http_query(request, name);
    if (!text) {
        *value = fallback;
        return IAM_OK;
    }
    return parse_bool_text(text, "query parameter", name, value, err);
}

enum iam_result iam_api_header_bool(const struct iam_http_request *request, const char *name, bool *value,
                                    struct iam_error *err)
{
    const char *text = iam_http_header(request, name);
    if (!text) {
        *value = false;
        return IAM_OK;
    }
    return parse_bool_text(text, "header", name, value, err);
}

void iam_api_set_etag(struct iam_http_request *request, struct iam_http_response *response, const char *entity_tag)
{
    if (entity_tag)
        iam_http_add_header(request, response, "ETag", entity_tag);
}

enum iam_result iam_api_if_match(const struct iam_http_request *request, const char **expected, struct iam_error *err)
{
    const char *text = iam_http_header(request, "If-Match");
    *expected = NULL;
    if (!text || !*text)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The If-Match header is required.");
    if (strcmp(text, "*") == 0)
        return IAM_OK;
    if (strncmp(text, "W/", 2) == 0)
        text += 2;
    size_t length = strlen(text);
    if (length >= 2 && text[0] == '"' && text[length - 1] == '"') {
        text += 1;
        length -= 2;
    }
    if (length == 0 || length > 128)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The If-Match header is malformed.");
    *expected = iam_arena_strndup(request->arena, text, length);
    return *expected ? IAM_OK : iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
}
