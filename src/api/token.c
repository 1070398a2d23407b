/*
 * token.c: the token service endpoints.
 *
 *   POST /identity/token, POST /oidc/token   IBM API-key grant, refresh_token, client_credentials
 *   GET  /identity/keys                      JWKS
 *   GET  /identity/.well-known/openid-configuration
 *   POST /identity/introspect                RFC 7662 (caller authenticated)
 *   POST /identity/revoke                    RFC 7009 (caller authenticated)
 *
 * Token errors use IBM's token format {errorCode, errorMessage, context} and,
 * for generic OAuth2 clients, RFC 6749's {error, error_description} too:
 *   BXNIM0109E  400 invalid_request         a required parameter is missing
 *   BXNIM0106E  400 unsupported_grant_type
 *   BXNIM0415E  400 invalid_grant           unknown API key (also a deleted identity's key)
 *   BXNIM0416E  400 invalid_grant           disabled API key
 *   BXNIM0417E  400 invalid_grant           expired API key
 *   BXNIM0407E  400 invalid_grant           invalid, expired or revoked refresh token
 *   BXNIM0408E  401 invalid_client          client_credentials: wrong client id or secret
 *   BXNIM0602E  400 invalid_grant           password grant: wrong login or password
 *   BXNIM0431E  429 too_many_requests       too many failures (Retry-After): password grant; API key
 *                                           and client_credentials from an address over its limit, or
 *                                           a wrong value of a key id over its limit
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/audit_api.h"
#include "common/metrics.h"
#include "common/time.h"
#include "iam/authn.h"
#include "iam/keyring.h"
#include "iam/passwords.h"
#include "iam/tokens.h"

#define TOKEN_PARAM_MAX 4096

/*
 * What a token request authenticated as, or what its refused credential
 * named, for its audit record (counted in the audit batch by handle_token:
 * no database write per token).
 */
struct token_attempt {
    bool issued;
    struct iam_principal who;           /* the identity tokens were issued to, when issued */
    struct iam_authn_refusal refused;   /* what a refused API key named */
};

static void token_fail(struct iam_http_request *request, struct iam_http_response *response, int status,
                       const char *oauth_error, const struct iam_error *err)
{
    char start[IAM_TIME_TEXT_SIZE];
    iam_time_format_rfc3339(iam_now(), start);
    const char *user_agent = iam_http_header(request, "User-Agent");
    json_t *body = json_pack("{s:{s:s,s:s,s:s,s:s,s:s},s:s,s:s,s:s,s:s}", "context", "requestId",
                             request->request_id, "requestType", "incoming.Identity_Token", "userAgent",
                             user_agent ? user_agent : "", "clientIp", request->client_address, "startTime", start,
                             "errorCode", err->message_code, "errorMessage", err->message, "error", oauth_error,
                             "error_description", err->message);
    iam_http_respond_json(request, response, status, body);
}

static void token_fail_with(struct iam_http_request *request, struct iam_http_response *response, int status,
                            const char *oauth_error, const char *message_code, const char *message)
{
    struct iam_error err;
    iam_error_set(&err, IAM_EINVAL, message_code, "%s", message);
    token_fail(request, response, status, oauth_error, &err);
}

static void token_fail_missing(struct iam_http_request *request, struct iam_http_response *response,
                               const char *name)
{
    char message[128];
    snprintf(message, sizeof message, "Property missing or empty. Property name: %s", name);
    token_fail_with(request, response, 400, "invalid_request", "BXNIM0109E", message);
}

/* Maps an authentication failure to its status and OAuth error (429 with Retry-After when rate limited). */
static void token_fail_authn(struct iam_http_request *request, struct iam_http_response *response,
                             const struct iam_error *err, int64_t retry_after)
{
    iam_api_count_store_failure(err->result);
    if (err->result == IAM_ETOOMANY) {
        token_fail(request, response, 429, "too_many_requests", err);
        iam_api_retry_after(request, response, retry_after);
        return;
    }
    if (err->result == IAM_EUNAVAILABLE || err->result == IAM_ESTORE) {
        token_fail(request, response, 503, "temporarily_unavailable", err);
        return;
    }
    if (err->result == IAM_ENOMEM || err->result == IAM_ECRYPTO || err->result == IAM_EINTERNAL) {
        token_fail(request, response, 500, "server_error", err);
        return;
    }
    token_fail(request, response, 400, "invalid_grant", err);
}

static void respond_tokens(struct iam_http_request *request, struct iam_http_response *response,
                           const struct iam_token_response *tokens)
{
    json_t *body = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "access_token", tokens->access_token, "refresh_token",
                             tokens->refresh_token, "token_type", "Bearer", "expires_in",
                             (json_int_t)tokens->expires_in, "expiration", (json_int_t)tokens->expiration, "scope",
                             tokens->scope);
    iam_http_respond_json(request, response, 200, body);
    iam_http_add_header(request, response, "Pragma", "no-cache");
}

/* Reads "Authorization: Basic base64(id:secret)" into arena strings; false when absent or malformed. */
static bool basic_credentials(struct iam_http_request *request, const char **id, const char **secret)
{
    const char *authorization = iam_http_header(request, "Authorization");
    if (!authorization || strncasecmp(authorization, "Basic ", 6) != 0)
        return false;
    const char *encoded = authorization + 6;
    size_t encoded_length = strlen(encoded);
    if (encoded_length == 0 || encoded_length > TOKEN_PARAM_MAX)
        return false;
    char *decoded = iam_arena_alloc(request->arena, encoded_length + 1);
    size_t length = 0;
    if (!decoded || sodium_base642bin((unsigned char *)decoded, encoded_length, encoded, encoded_length, NULL,
                                      &length, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    decoded[length] = '\0';
    char *colon = strchr(decoded, ':');
    if (!colon || strlen(decoded) != length)
        return false;
    *colon = '\0';
    /* RFC 6749 2.3.1: both parts are form-urlencoded inside Basic. */
    struct iam_form id_form, secret_form;
    char *id_pair = iam_arena_printf(request->arena, "v=%s", decoded);
    char *secret_pair = iam_arena_printf(request->arena, "v=%s", colon + 1);
    if (!id_pair || !secret_pair ||
        iam_form_parse(request->arena, id_pair, strlen(id_pair), &id_form) != IAM_OK ||
        iam_form_parse(request->arena, secret_pair, strlen(secret_pair), &secret_form) != IAM_OK)
        return false;
    *id = iam_form_get(&id_form, "v");
    *secret = iam_form_get(&secret_form, "v");
    return *id && *secret;
}

static void grant_apikey(struct iam_api *api, struct iam_http_request *request, struct iam_http_response *response,
                         const struct iam_form *form, struct token_attempt *attempt)
{
    const char *apikey = iam_form_get(form, "apikey");
    if (!apikey || !*apikey) {
        token_fail_missing(request, response, "apikey");
        return;
    }
    struct iam_principal who;
    struct iam_error err;
    iam_error_clear(&err);
    int64_t retry_after = 0;
    if (iam_authn_apikey_attempt(api->service, request->arena, apikey, request->client_address, &who, &retry_after,
                                 &attempt->refused, &err) != IAM_OK) {
        token_fail_authn(request, response, &err, retry_after);
        return;
    }
    request->log_identity = who.iam_id;
    struct iam_token_response tokens;
    if (iam_tokens_issue(api->service, request->arena, &who, IAM_GRANT_APIKEY, &tokens, &err) != IAM_OK) {
        token_fail_authn(request, response, &err, 0);
        return;
    }
    respond_tokens(request, response, &tokens);
    attempt->who = who;
    attempt->issued = true;
}

static void grant_refresh(struct iam_api *api, struct iam_http_request *request, struct iam_http_response *response,
                          const struct iam_form *form, struct token_attempt *attempt)
{
    const char *refresh_token = iam_form_get(form, "refresh_token");
    if (!refresh_token || !*refresh_token) {
        token_fail_missing(request, response, "refresh_token");
        return;
    }
    struct iam_token_response tokens;
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_tokens_refresh(api->service, request->arena, refresh_token, &tokens, &attempt->who, &err) != IAM_OK) {
        token_fail_authn(request, response, &err, 0);
        return;
    }
    respond_tokens(request, response, &tokens);
    attempt->issued = true;
}

static void grant_client_credentials(struct iam_api *api, struct iam_http_request *request,
                                     struct iam_http_response *response, const struct iam_form *form,
                                     struct token_attempt *attempt)
{
    const char *client_id = iam_form_get(form, "client_id");
    const char *client_secret = iam_form_get(form, "client_secret");
    const char *basic_id = NULL, *basic_secret = NULL;
    if (basic_credentials(request, &basic_id, &basic_secret)) {
        if ((client_id && strcmp(client_id, basic_id) != 0) || client_secret) {
            /* RFC 6749 2.3: one authentication method per request. */
            token_fail_with(request, response, 400, "invalid_request", "BXNIM0109E",
                            "Client credentials were given both in the header and in the body.");
            return;
        }
        client_id = basic_id;
        client_secret = basic_secret;
    }
    if (!client_id || !*client_id || !client_secret || !*client_secret) {
        token_fail_missing(request, response, !client_id || !*client_id ? "client_id" : "client_secret");
        return;
    }
    struct iam_principal who;
    struct iam_error err;
    iam_error_clear(&err);
    int64_t retry_after = 0;
    enum iam_result result = iam_authn_apikey_attempt(api->service, request->arena, client_secret,
                                                      request->client_address, &who, &retry_after,
                                                      &attempt->refused, &err);
    if (result == IAM_OK && (who.kind != IAM_PRINCIPAL_SERVICE_ID || strcmp(who.subject_id, client_id) != 0)) {
        /* A working key, but not the named client's: refused, and recorded as that key. */
        attempt->refused = (struct iam_authn_refusal){
            .apikey_id = who.apikey_id, .account_id = who.account_id, .iam_id = who.iam_id};
        result = IAM_EUNAUTH;
    }
    if (result != IAM_OK) {
        if (err.result == IAM_EUNAVAILABLE || err.result == IAM_ETOOMANY) {
            token_fail_authn(request, response, &err, retry_after);
            return;
        }
        token_fail_with(request, response, 401, "invalid_client", "BXNIM0408E",
                        "Client authentication failed.");
        iam_http_add_header(request, response, "WWW-Authenticate", "Basic realm=\"iamd\"");
        return;
    }
    request->log_identity = who.iam_id;
    struct iam_token_response tokens;
    if (iam_tokens_issue(api->service, request->arena, &who, IAM_GRANT_CLIENT_CREDENTIALS, &tokens, &err) !=
        IAM_OK) {
        token_fail_authn(request, response, &err, 0);
        return;
    }
    respond_tokens(request, response, &tokens);
    attempt->who = who;
    attempt->issued = true;
}

/* Parses the form body; answers 400 itself when it cannot. */
static bool read_form(struct iam_http_request *request, struct iam_http_response *response, struct iam_form *form)
{
    const char *content_type = iam_http_header(request, "Content-Type");
    if (content_type && strncasecmp(content_type, "application/x-www-form-urlencoded", 33) != 0) {
        token_fail_with(request, response, 400, "invalid_request", "BXNIM0109E",
                        "The request body must be application/x-www-form-urlencoded.");
        return false;
    }
    if (iam_form_parse(request->arena, request->body, request->body_length, form) != IAM_OK) {
        token_fail_with(request, response, 400, "invalid_request", "BXNIM0109E", "The form body is malformed.");
        return false;
    }
    return true;
}

static void grant_password(struct iam_api *api, struct iam_http_request *request, struct iam_http_response *response,
                           const struct iam_form *form, struct token_attempt *attempt)
{
    const char *username = iam_form_get(form, "username");
    const char *password = iam_form_get(form, "password");
    if (!username || !*username || !password || !*password) {
        token_fail_missing(request, response, !username || !*username ? "username" : "password");
        return;
    }
    struct iam_principal who;
    struct iam_error err;
    iam_error_clear(&err);
    int64_t retry_after = 0;
    if (iam_authn_password_with_retry(api->service, request->arena, username, password, request->client_address,
                                      &who, &retry_after, &err) != IAM_OK) {
        token_fail_authn(request, response, &err, retry_after);
        return;
    }
    request->log_identity = who.iam_id;
    struct iam_token_response tokens;
    if (iam_tokens_issue(api->service, request->arena, &who, "password", &tokens, &err) != IAM_OK) {
        token_fail_authn(request, response, &err, 0);
        return;
    }
    respond_tokens(request, response, &tokens);
    attempt->who = who;
    attempt->issued = true;
}

/* Counts the outcome of a token request for /metrics: by grant type when issued, else by OAuth error. */
static void token_count(const char *grant_type, const struct iam_http_response *response)
{
    if (response->status == 200) {
        enum iam_metric metric = IAM_METRIC_TOKENS_APIKEY;
        if (strcmp(grant_type, IAM_GRANT_REFRESH) == 0)
            metric = IAM_METRIC_TOKENS_REFRESH;
        else if (strcmp(grant_type, IAM_GRANT_CLIENT_CREDENTIALS) == 0)
            metric = IAM_METRIC_TOKENS_CLIENT_CREDENTIALS;
        else if (strcmp(grant_type, "password") == 0)
            metric = IAM_METRIC_TOKENS_PASSWORD;
        iam_metrics_add(metric, 1);
        return;
    }
    static const struct {
        const char *error;
        enum iam_metric metric;
    } reasons[] = {
        {"invalid_request", IAM_METRIC_TOKEN_FAILED_INVALID_REQUEST},
        {"invalid_grant", IAM_METRIC_TOKEN_FAILED_INVALID_GRANT},
        {"unsupported_grant_type", IAM_METRIC_TOKEN_FAILED_UNSUPPORTED_GRANT},
        {"too_many_requests", IAM_METRIC_TOKEN_FAILED_TOO_MANY_REQUESTS},
        {"temporarily_unavailable", IAM_METRIC_TOKEN_FAILED_UNAVAILABLE},
        {"server_error", IAM_METRIC_TOKEN_FAILED_SERVER_ERROR},
    };
    const char *error = json_string_value(json_object_get(response->body_json, "error"));
    enum iam_metric metric = response->status == 429 ? IAM_METRIC_TOKEN_FAILED_TOO_MANY_REQUESTS
                                                     : IAM_METRIC_TOKEN_FAILED_OTHER;
    for (size_t i = 0; error && i < sizeof reasons / sizeof reasons[0]; i++)
        if (strcmp(error, reasons[i].error) == 0)
            metric = reasons[i].metric;
    iam_metrics_add(metric, 1);
}

/* The grant type as recorded: one of the supported ones (a constant), else NULL (never the client's text). */
static const char *grant_mechanism(const char *grant_type)
{
    static const char *const supported[] = {IAM_GRANT_APIKEY, IAM_GRANT_REFRESH, IAM_GRANT_CLIENT_CREDENTIALS,
                                            "password", NULL};
    for (const char *const *name = supported; grant_type && *name; name++)
        if (strcmp(grant_type, *name) == 0)
            return *name;
    return NULL;
}

static void handle_token(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct token_attempt attempt;
    memset(&attempt, 0, sizeof attempt);
    struct iam_form form;
    const char *grant_type = NULL;
    if (!read_form(request, response, &form)) {
        /* answered */
    } else if (!(grant_type = iam_form_get(&form, "grant_type")) || !*grant_type) {
        token_fail_missing(request, response, "grant_type");
    } else if (strcmp(grant_type, IAM_GRANT_APIKEY) == 0) {
        grant_apikey(api, request, response, &form, &attempt);
    } else if (strcmp(grant_type, IAM_GRANT_REFRESH) == 0) {
        grant_refresh(api, request, response, &form, &attempt);
    } else if (strcmp(grant_type, IAM_GRANT_CLIENT_CREDENTIALS) == 0) {
        grant_client_credentials(api, request, response, &form, &attempt);
    } else if (strcmp(grant_type, "password") == 0) {
        grant_password(api, request, response, &form, &attempt);
    } else {
        token_fail_with(request, response, 400, "unsupported_grant_type", "BXNIM0106E",
                        "The grant type is not supported.");
    }
    token_count(grant_type ? grant_type : "", response);
    iam_api_audit_count(api, request, response, IAM_AUDIT_ACTION_TOKEN, grant_mechanism(grant_type),
                        attempt.issued ? &attempt.who : NULL, &attempt.refused);
}

static void handle_keys(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    json_t *jwks = iam_keyring_jwks(api->service->keyring, iam_now());
    if (!jwks) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, 200, jwks);
    char cache[64];
    snprintf(cache, sizeof cache, "public, max-age=%lld", (long long)api->service->options.jwks_cache_ttl);
    iam_http_add_header(request, response, "Cache-Control", cache);
}

static void handle_discovery(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    const char *issuer = api->service->options.issuer;
    const char *alg = iam_jwt_alg_name(api->service->options.token_alg);
    struct iam_arena *arena = request->arena;
    json_t *body = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:[s,s,s,s],s:[s],s:[s],s:[s],s:[s,s,s],s:[s,s],s:[s,s],s:[s]}", "issuer", issuer,
        "token_endpoint", iam_arena_printf(arena, "%s/token", issuer), "jwks_uri",
        iam_arena_printf(arena, "%s/keys", issuer), "introspection_endpoint",
        iam_arena_printf(arena, "%s/introspect", issuer), "revocation_endpoint",
        iam_arena_printf(arena, "%s/revoke", issuer), "grant_types_supported", IAM_GRANT_APIKEY, IAM_GRANT_REFRESH,
        IAM_GRANT_CLIENT_CREDENTIALS, "password", "response_types_supported", "cloud_iam", "subject_types_supported", "public",
        "id_token_signing_alg_values_supported", alg, "token_endpoint_auth_methods_supported",
        "client_secret_basic", "client_secret_post", "none", "scopes_supported", "openid", "ibm",
        "claims_supported", "iam_id", "sub", "token_endpoint_auth_signing_alg_values_supported", alg);
    if (!body) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, 200, body);
}

static void handle_introspect(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal caller;
    if (!iam_api_authenticate(api, request, response, &caller))
        return;
    struct iam_form form;
    if (!read_form(request, response, &form))
        return;
    const char *token = iam_form_get(&form, "token");
    if (!token || !*token) {
        token_fail_missing(request, response, "token");
        return;
    }
    json_t *answer = iam_tokens_introspect(api->service, request->arena, &caller, token);
    if (!answer) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, 200, answer);
}

static void handle_revoke(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal caller;
    if (!iam_api_authenticate(api, request, response, &caller))
        return;
    struct iam_form form;
    if (!read_form(request, response, &form))
        return;
    const char *token = iam_form_get(&form, "token");
    if (!token || !*token) {
        token_fail_missing(request, response, "token");
        return;
    }
    struct iam_error err;
    iam_error_clear(&err);
    if (iam_tokens_revoke(api->service, request->arena, &caller, token, &err) != IAM_OK) {
        token_fail(request, response, 503, "temporarily_unavailable", &err);
        return;
    }
    iam_http_respond_raw(request, response, 200, "application/json", "{}", 2);
}

enum iam_result iam_api_token_register(struct iam_router *router, struct iam_api *api)
{
    enum iam_result result = IAM_OK;
    if (result == IAM_OK)
        result = iam_router_add(router, "POST", "/identity/token", handle_token, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "POST", "/oidc/token", handle_token, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "GET", "/identity/keys", handle_keys, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "GET", "/identity/.well-known/openid-configuration", handle_discovery, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "POST", "/identity/introspect", handle_introspect, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "POST", "/identity/revoke", handle_revoke, api);
    return result;
}
