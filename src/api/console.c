/*
 * console.c: the web console's server side (see console_api.h and
 * docs/api/console.md).
 *
 * Static assets: web/ is compiled into the binary (cmake/embed_web.cmake,
 * api/web_assets.h). "/", "/console" and "/console/" answer /index.html;
 * "/console/<path>" answers the asset "/<path>"; an unknown path whose last
 * segment has no '.' is a client-side route and answers /index.html too; an
 * unknown file is 404. Every answer carries the console's security headers
 * (a strict Content-Security-Policy without 'unsafe-inline', nosniff,
 * no-referrer, no framing) and a strong ETag computed once per asset.
 * The router matches whole segments, so client-side routes and assets are
 * served up to four segments below /console.
 *
 * Sessions: POST /console/api/session signs in (login and password, or an
 * API key) and sets the iamd_session cookie (HttpOnly, SameSite=Strict, Path=/,
 * Secure under TLS, no Max-Age); GET reads the session; DELETE signs out.
 * The table itself is iam/sessions.h (in the store, shared by every node:
 * service->sessions). Cookie values, CSRF tokens, passwords
 * and API keys are never logged, and the request body (which holds the
 * password or key) is wiped before it is released.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/audit_api.h"
#include "api/console_api.h"
#include "api/pagination.h"
#include "api/web_assets.h"
#include "common/time.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "iam/authn.h"
#include "iam/passwords.h"
#include "iam/sessions.h"
#include "iam/settings.h"

#define CONSOLE_PREFIX "/console"
#define CONSOLE_API_PREFIX "/console/api"
#define CONSOLE_INDEX "/index.html"
#define CONSOLE_ETAG_SIZE 40       /* '"' + 32 hex + '"' + NUL, rounded up */
#define CONSOLE_COOKIE_HEADER_MAX 8192
#define CONSOLE_ORIGIN_MAX 512
#define CONSOLE_IDLE_DEFAULT 7200
#define CONSOLE_ABSOLUTE_DEFAULT 86400

/* The console's own message codes (iamd's, not IBM's). */
#define CONSOLE_NO_SESSION "BXNIM0540E"
#define CONSOLE_CSRF_INVALID "BXNIM0541E"
#define CONSOLE_ORIGIN_INVALID "BXNIM0542E"

static const char content_security_policy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

static const char *const session_fields[] = {"login", "password", "apikey", NULL};

/* --- assets --- */

static pthread_once_t etags_once = PTHREAD_ONCE_INIT;
static char (*asset_etags)[CONSOLE_ETAG_SIZE]; /* one per asset, computed once; never freed */

static void etags_compute(void)
{
    size_t count = iam_web_asset_count;
    if (count == 0)
        return;
    char (*etags)[CONSOLE_ETAG_SIZE] = calloc(count, sizeof *etags);
    if (!etags)
        return; /* assets are then served without ETag */
    for (size_t i = 0; i < count; i++) {
        uint8_t hash[IAM_HASH_SIZE];
        char hex[2 * 16 + 1];
        if (iam_sha256(iam_web_assets[i].data, iam_web_assets[i].length, hash) != IAM_OK) {
            free(etags);
            return;
        }
        iam_hex_encode(hash, 16, hex);
        snprintf(etags[i], CONSOLE_ETAG_SIZE, "\"%s\"", hex);
    }
    asset_etags = etags;
}

/* The index of the asset at `path` ("/app.js"), or -1. */
static long asset_find(const char *path, size_t length)
{
    for (size_t i = 0; i < iam_web_asset_count; i++) {
        const char *candidate = iam_web_assets[i].path;
        if (candidate && strlen(candidate) == length && memcmp(candidate, path, length) == 0)
            return (long)i;
    }
    return -1;
}

/* The security headers of every console answer; `cache_control` NULL keeps the server's default. */
static void console_headers(struct iam_http_request *request, struct iam_http_response *response,
                            const char *cache_control)
{
    iam_http_add_header(request, response, "Content-Security-Policy", content_security_policy);
    iam_http_add_header(request, response, "X-Content-Type-Options", "nosniff");
    iam_http_add_header(request, response, "Referrer-Policy", "no-referrer");
    iam_http_add_header(request, response, "X-Frame-Options", "DENY");
    if (cache_control)
        iam_http_add_header(request, response, "Cache-Control", cache_control);
}

/* True when If-None-Match lists `etag` (weak comparison, as RFC 9110 asks for GET) or is "*". */
static bool if_none_match(const struct iam_http_request *request, const char *etag)
{
    const char *header = iam_http_header(request, "If-None-Match");
    if (!header)
        return false;
    size_t etag_length = strlen(etag);
    const char *cursor = header;
    while (*cursor) {
        while (*cursor == ' ' || *cursor == '\t' || *cursor == ',')
            cursor++;
        if (!*cursor)
            break;
        const char *end = strchr(cursor, ',');
        size_t length = end ? (size_t)(end - cursor) : strlen(cursor);
        while (length > 0 && (cursor[length - 1] == ' ' || cursor[length - 1] == '\t'))
            length--;
        if (length == 1 && cursor[0] == '*')
            return true;
        const char *tag = cursor;
        if (length >= 2 && tag[0] == 'W' && tag[1] == '/') {
            tag += 2;
            length -= 2;
        }
        if (length == etag_length && memcmp(tag, etag, length) == 0)
            return true;
        if (!end)
            break;
        cursor = end + 1;
    }
    return false;
}

static void serve_asset(struct iam_http_request *request, struct iam_http_response *response, size_t index)
{
    const struct iam_web_asset *asset = &iam_web_assets[index];
    pthread_once(&etags_once, etags_compute);
    bool is_index = strcmp(asset->path, CONSOLE_INDEX) == 0;
    console_headers(request, response, is_index ? "no-cache" : "public, max-age=3600");
    const char *etag = asset_etags ? asset_etags[index] : NULL;
    if (etag)
        iam_http_add_header(request, response, "ETag", etag);
    if (etag && if_none_match(request, etag)) {
        iam_http_respond_empty(response, 304);
        return;
    }
    /* The asset lives as long as the process: the server copies it once into its reply. */
    iam_http_respond_empty(response, 200);
    response->content_type = asset->content_type;
    response->body = (const char *)asset->data;
    response->body_length = asset->length;
}

static void serve_not_found(struct iam_http_request *request, struct iam_http_response *response)
{
    console_headers(request, response, NULL);
    iam_api_fail(request, response, IAM_ENOTFOUND, "BXNIM0404E", "No such file in the console.");
}

static void serve_index(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    (void)context;
    long index = asset_find(CONSOLE_INDEX, strlen(CONSOLE_INDEX));
    if (index < 0)
        serve_not_found(request, response);
    else
        serve_asset(request, response, (size_t)index);
}

/* GET /console/<up to four segments>: an asset, else a client-side route, else 404. */
static void serve_console_path(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    const char *path = request->path;
    size_t prefix = strlen(CONSOLE_PREFIX);
    if (!path || strncmp(path, CONSOLE_PREFIX "/", prefix + 1) != 0) {
        serve_not_found(request, response);
        return;
    }
    /* Unknown API paths answer JSON, never the page. */
    if (strncmp(path, CONSOLE_API_PREFIX, strlen(CONSOLE_API_PREFIX)) == 0 &&
        (path[strlen(CONSOLE_API_PREFIX)] == '/' || path[strlen(CONSOLE_API_PREFIX)] == '\0')) {
        console_headers(request, response, NULL);
        iam_api_fail(request, response, IAM_ENOTFOUND, "BXNIM0404E", "No such API endpoint.");
        return;
    }
    const char *asset = path + prefix; /* "/app.js" */
    size_t length = strlen(asset);
    if (length > 1 && asset[length - 1] == '/')
        length--; /* the router tolerates one trailing slash */
    long index = asset_find(asset, length);
    if (index >= 0) {
        serve_asset(request, response, (size_t)index);
        return;
    }
    const char *last = asset;
    for (size_t i = 0; i < length; i++) {
        if (asset[i] == '/')
            last = asset + i + 1;
    }
    if (memchr(last, '.', length - (size_t)(last - asset)))
        serve_not_found(request, response);
    else
        serve_index(request, response, context);
}

/* --- cookies, origins, CSRF --- */

const char *iam_api_console_cookie(const struct iam_http_request *request)
{
    const char *header = iam_http_header(request, "Cookie");
    if (!header || strnlen(header, CONSOLE_COOKIE_HEADER_MAX + 1) > CONSOLE_COOKIE_HEADER_MAX)
        return NULL;
    size_t name_length = strlen(IAM_CONSOLE_COOKIE);
    const char *cursor = header;
    while (*cursor) {
        while (*cursor == ' ' || *cursor == '\t' || *cursor == ';')
            cursor++;
        const char *end = strchr(cursor, ';');
        size_t length = end ? (size_t)(end - cursor) : strlen(cursor);
        if (length > name_length && strncmp(cursor, IAM_CONSOLE_COOKIE, name_length) == 0 &&
            cursor[name_length] == '=') {
            const char *value = cursor + name_length + 1;
            size_t value_length = length - name_length - 1;
            while (value_length > 0 && (value[value_length - 1] == ' ' || value[value_length - 1] == '\t'))
                value_length--;
            if (value_length >= 2 && value[0] == '"' && value[value_length - 1] == '"') {
                value++;
                value_length -= 2;
            }
            if (value_length == 0)
                return NULL;
            return iam_arena_strndup(request->arena, value, value_length);
        }
        if (!end)
            break;
        cursor = end + 1;
    }
    return NULL;
}

/*
 * Writes the origin ("scheme://host[:port]") of `url` into `out` in lower
 * case without a default port (:80 for http, :443 for https). False when it
 * does not look like an http(s) URL or is too long.
 */
static bool origin_normalise(const char *url, size_t url_length, char out[CONSOLE_ORIGIN_MAX])
{
    const char *scheme_end = NULL;
    for (size_t i = 0; i + 2 < url_length; i++) {
        if (url[i] == ':' && url[i + 1] == '/' && url[i + 2] == '/') {
            scheme_end = url + i;
            break;
        }
    }
    if (!scheme_end)
        return false;
    const char *authority = scheme_end + 3;
    const char *stop = url + url_length;
    const char *slash = memchr(authority, '/', (size_t)(stop - authority));
    size_t length = (size_t)((slash ? slash : stop) - url);
    if (length == 0 || length >= CONSOLE_ORIGIN_MAX || authority == (slash ? slash : stop))
        return false;
    for (size_t i = 0; i < length; i++)
        out[i] = (url[i] >= 'A' && url[i] <= 'Z') ? (char)(url[i] - 'A' + 'a') : url[i];
    out[length] = '\0';
    size_t scheme_length = (size_t)(scheme_end - url);
    bool http = scheme_length == 4 && strncmp(out, "http", 4) == 0;
    bool https = scheme_length == 5 && strncmp(out, "https", 5) == 0;
    if (!http && !https)
        return false;
    const char *default_port = http ? ":80" : ":443";
    size_t port_length = strlen(default_port);
    if (length > port_length && strcmp(out + length - port_length, default_port) == 0)
        out[length - port_length] = '\0';
    return true;
}

static bool origin_equal(const char *origin, const char *url)
{
    char left[CONSOLE_ORIGIN_MAX];
    char right[CONSOLE_ORIGIN_MAX];
    if (!origin || !url)
        return false;
    return origin_normalise(origin, strlen(origin), left) && origin_normalise(url, strlen(url), right) &&
           strcmp(left, right) == 0;
}

/* True when the request has no Origin header or comes from this server's own origin. */
static bool origin_allowed(const struct iam_api *api, struct iam_http_request *request)
{
    const char *origin = iam_http_header(request, "Origin");
    if (!origin)
        return true;
    if (origin_equal(origin, api->service->options.public_url))
        return true;
    const char *host = iam_http_header(request, "Host");
    if (!host || !*host || strpbrk(host, "/@ \t"))
        return false;
    const char *own = iam_arena_printf(request->arena, "%s://%s", request->tls ? "https" : "http", host);
    return own && origin_equal(origin, own);
}

static bool method_is_safe(const char *method)
{
    return method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || strcmp(method, "OPTIONS") == 0);
}

/* The cookie's attributes; the value is empty and Max-Age 0 when clearing. */
static void set_session_cookie(const struct iam_api *api, struct iam_http_request *request,
                               struct iam_http_response *response, const char *value)
{
    const char *public_url = api->service->options.public_url;
    bool secure = request->tls || (public_url && strncasecmp(public_url, "https://", 8) == 0);
    const char *cookie = iam_arena_printf(request->arena, "%s=%s; Path=/;%s HttpOnly; SameSite=Strict%s",
                                          IAM_CONSOLE_COOKIE, value ? value : "", value ? "" : " Max-Age=0;",
                                          secure ? "; Secure" : "");
    if (cookie)
        iam_http_add_header(request, response, "Set-Cookie", cookie);
}

static void fail_csrf(struct iam_http_request *request, struct iam_http_response *response, const char *message_code,
                      const char *message)
{
    struct iam_error err;
    iam_error_set(&err, IAM_EDENIED, message_code, "%s", message);
    snprintf(err.code, sizeof err.code, "%s", "csrf_token_invalid");
    iam_api_respond_error(request, response, &err);
}

static void fail_no_session(const struct iam_api *api, struct iam_http_request *request,
                            struct iam_http_response *response, bool clear_cookie)
{
    if (clear_cookie)
        set_session_cookie(api, request, response, NULL);
    iam_api_fail(request, response, IAM_EUNAUTH, CONSOLE_NO_SESSION,
                 "There is no valid session: it has ended or expired. Sign in again.");
}

/* The session store could not answer: 503 (or 500 when out of memory), the cookie kept. */
static void fail_unavailable(struct iam_http_request *request, struct iam_http_response *response,
                             enum iam_result result)
{
    if (result == IAM_ENOMEM)
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
    else
        iam_api_fail(request, response, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
}

/*
 * The whole cookie check (see iam_api_console_authenticate); also gives the
 * session and the cookie value to the session handlers.
 */
static bool session_authenticate(struct iam_api *api, struct iam_http_request *request,
                                 struct iam_http_response *response, struct iam_principal *who,
                                 struct iam_session *session, const char **cookie_out)
{
    struct iam_sessions *sessions = api->service->sessions;
    const char *cookie = iam_api_console_cookie(request);
    if (!cookie) {
        fail_no_session(api, request, response, false);
        return false;
    }
    enum iam_result found = iam_sessions_find(sessions, cookie, session);
    if (found == IAM_ENOTFOUND) {
        fail_no_session(api, request, response, true);
        return false;
    }
    if (found != IAM_OK) { /* the store cannot tell: keep the cookie, it may still be good */
        fail_unavailable(request, response, found);
        return false;
    }
    if (!method_is_safe(request->method)) {
        if (!origin_allowed(api, request)) {
            fail_csrf(request, response, CONSOLE_ORIGIN_INVALID,
                      "The request comes from another origin than this server.");
            return false;
        }
        if (!iam_session_csrf_matches(session, iam_http_header(request, IAM_CONSOLE_CSRF_HEADER))) {
            fail_csrf(request, response, CONSOLE_CSRF_INVALID,
                      "The " IAM_CONSOLE_CSRF_HEADER " header is missing or does not match the session.");
            return false;
        }
    }
    struct iam_error err;
    iam_error_clear(&err);
    /* `who` outlives `session` (the caller's stack): it points at arena copies. */
    const char *account_id = iam_arena_strdup(request->arena, session->account_id);
    const char *iam_id = iam_arena_strdup(request->arena, session->iam_id);
    const char *apikey_id = session->apikey_id[0] ? iam_arena_strdup(request->arena, session->apikey_id) : NULL;
    if (!account_id || !iam_id || (session->apikey_id[0] && !apikey_id)) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return false;
    }
    enum iam_result result = iam_authn_principal(api->service, request->arena, account_id, iam_id, apikey_id, who, &err);
    if (result == IAM_EUNAUTH) {
        /* Best effort: the identity is gone either way, and its sessions end at the next try or purge. */
        enum iam_result ended = iam_sessions_end(sessions, cookie);
        (void)ended;
        fail_no_session(api, request, response, true);
        return false;
    }
    if (result != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return false;
    }
    /* Counts the use (written at most once per touch interval); a write that finds no row: signed out meanwhile. */
    result = iam_sessions_touch(sessions, cookie, session);
    if (result == IAM_ENOTFOUND) {
        fail_no_session(api, request, response, true);
        return false;
    }
    if (result != IAM_OK) {
        fail_unavailable(request, response, result);
        return false;
    }
    request->log_identity = who->iam_id;
    if (cookie_out)
        *cookie_out = cookie;
    return true;
}

bool iam_api_console_authenticate(struct iam_api *api, struct iam_http_request *request,
                                  struct iam_http_response *response, struct iam_principal *who)
{
    struct iam_session session;
    bool ok = session_authenticate(api, request, response, who, &session, NULL);
    iam_wipe(&session, sizeof session);
    return ok;
}

/* --- /console/api/session --- */

/* A seconds setting of the account; `fallback` when NOT_SET or unreadable as a positive number. */
static enum iam_result setting_seconds(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                       const char *name, int64_t fallback, int64_t *seconds)
{
    const char *value = NULL;
    *seconds = fallback;
    enum iam_result result = iam_settings_value(service, arena, account_id, name, &value);
    if (result != IAM_OK)
        return result;
    if (!value || strcmp(value, "NOT_SET") == 0)
        return IAM_OK;
    char *end = NULL;
    long long parsed = strtoll(value, &end, 10);
    if (end != value && *end == '\0' && parsed > 0)
        *seconds = parsed;
    return IAM_OK;
}

static enum iam_result session_settings(struct iam_service *service, struct iam_arena *arena,
                                        const char *account_id, struct iam_session_start *start)
{
    int64_t idle = 0, absolute = 0, per_identity = 0;
    enum iam_result result =
        setting_seconds(service, arena, account_id, "session_invalidation_in_seconds", CONSOLE_IDLE_DEFAULT, &idle);
    if (result == IAM_OK)
        result = setting_seconds(service, arena, account_id, "session_expiration_in_seconds",
                                 CONSOLE_ABSOLUTE_DEFAULT, &absolute);
    if (result == IAM_OK)
        result = setting_seconds(service, arena, account_id, "max_sessions_per_identity", 0, &per_identity);
    start->idle_timeout = idle;
    start->absolute_timeout = absolute;
    start->max_per_identity = (size_t)per_identity;
    return result;
}

static json_t *session_json(const struct iam_principal *who, const struct iam_session *session)
{
    char expires_at[IAM_TIME_TEXT_SIZE];
    iam_time_format_rfc3339(session->expires_at, expires_at);
    bool user = who->kind == IAM_PRINCIPAL_USER;
    const char *name = who->name ? who->name : user && who->login ? who->login : who->iam_id;
    return json_pack("{s:s,s:s,s:s,s:s*,s:s,s:s,s:s,s:I}", "iam_id", who->iam_id, "account_id", who->account_id,
                     "name", name ? name : "", "login", user ? who->login : NULL, "kind", user ? "user" : "serviceid",
                     "csrf_token", session->csrf_token, "expires_at", expires_at, "idle_timeout",
                     (json_int_t)session->idle_timeout);
}

static void respond_session(struct iam_http_request *request, struct iam_http_response *response,
                            const struct iam_principal *who, const struct iam_session *session)
{
    json_t *body = session_json(who, session);
    if (!body) {
        iam_api_fail(request, response, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
        return;
    }
    iam_http_respond_json(request, response, 200, body);
}

/* Signs the caller in with the body's credentials; false after writing the error. */
static bool sign_in(struct iam_api *api, struct iam_http_request *request, struct iam_http_response *response,
                    const json_t *body, struct iam_principal *who)
{
    struct iam_error err;
    iam_error_clear(&err);
    const char *login = NULL, *password = NULL, *apikey = NULL;
    if (iam_api_only_fields(body, session_fields, &err) != IAM_OK ||
        iam_api_body_string(body, "login", &login, &err) != IAM_OK ||
        iam_api_body_string(body, "password", &password, &err) != IAM_OK ||
        iam_api_body_string(body, "apikey", &apikey, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        return false;
    }
    bool by_password = login || password;
    if (by_password == (apikey != NULL) || (by_password && (!login || !*login || !password || !*password)) ||
        (apikey && !*apikey)) {
        iam_api_fail(request, response, IAM_EINVAL, "BXNIM0109E",
                     "Give either login and password, or apikey.");
        return false;
    }
    enum iam_result result;
    int64_t retry_after = 0;
    if (by_password)
        result = iam_authn_password_with_retry(api->service, request->arena, login, password, request->client_address,
                                               who, &retry_after, &err);
    else
        result = iam_authn_apikey_from(api->service, request->arena, apikey, request->client_address, who, NULL,
                                       &retry_after, &err);
    if (result == IAM_ETOOMANY)
        iam_api_retry_after(request, response, retry_after);
    if (result == IAM_OK)
        return true;
    if (err.result == IAM_ESTORE)
        iam_error_set(&err, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
    /* Wrong credentials of any kind: 401 with authentication's own message (no hint which part was wrong). */
    if (err.result != IAM_ETOOMANY && err.result != IAM_EUNAVAILABLE && err.result != IAM_ENOMEM) {
        char message[sizeof err.message];
        char message_code[sizeof err.message_code];
        snprintf(message, sizeof message, "%s", err.message[0] ? err.message : "The credentials are not valid.");
        snprintf(message_code, sizeof message_code, "%s", err.message_code[0] ? err.message_code : "BXNIM0602E");
        iam_error_set(&err, IAM_EUNAUTH, message_code, "%s", message);
    }
    iam_api_respond_error(request, response, &err);
    return false;
}

static void session_create(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_sessions *sessions = api->service->sessions;
    struct iam_error err;
    iam_error_clear(&err);
    json_t *body = NULL;
    char cookie[IAM_SESSION_TOKEN_SIZE] = "";
    struct iam_session session;
    memset(&session, 0, sizeof session);
    console_headers(request, response, NULL);
    /* A sign-in form posted from elsewhere would sign the victim into the attacker's account. */
    if (!origin_allowed(api, request)) {
        fail_csrf(request, response, CONSOLE_ORIGIN_INVALID, "The request comes from another origin than this server.");
        goto out;
    }
    if (iam_api_json_body(request, false, &body, &err) != IAM_OK) {
        iam_api_respond_error(request, response, &err);
        goto out;
    }
    struct iam_principal who;
    if (!sign_in(api, request, response, body, &who))
        goto out;
    request->log_identity = who.iam_id;
    iam_api_audit_set_actor(request, &who);
    struct iam_session_start start = {
        .kind = who.kind,
        .iam_id = who.iam_id,
        .account_id = who.account_id,
        .apikey_id = who.apikey_id,
    };
    if (session_settings(api->service, request->arena, who.account_id, &start) != IAM_OK) {
        iam_api_fail(request, response, IAM_EUNAVAILABLE, "BXNIM0503E", "The service is temporarily unavailable.");
        goto out;
    }
    /* A new sign-in replaces the session this browser had. */
    const char *previous = iam_api_console_cookie(request);
    enum iam_result result = previous ? iam_sessions_end(sessions, previous) : IAM_OK;
    if (result == IAM_OK || result == IAM_ENOTFOUND)
        result = iam_sessions_start(sessions, &start, cookie, &session);
    if (result == IAM_ESTORE || result == IAM_EUNAVAILABLE) {
        fail_unavailable(request, response, result);
        goto out;
    }
    if (result != IAM_OK) {
        iam_api_fail(request, response, result == IAM_EINVAL ? IAM_EINTERNAL : result, "BXNIM0500E",
                     "The session could not be created.");
        goto out;
    }
    set_session_cookie(api, request, response, cookie);
    respond_session(request, response, &who, &session);
out:
    iam_wipe(cookie, sizeof cookie);
    iam_wipe(&session, sizeof session);
    iam_api_body_wipe_string(body, "password");
    iam_api_body_wipe_string(body, "apikey");
    json_decref(body);
}

static void session_get(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    struct iam_session session;
    console_headers(request, response, NULL);
    if (session_authenticate(api, request, response, &who, &session, NULL))
        respond_session(request, response, &who, &session);
    iam_wipe(&session, sizeof session);
}

static void session_delete(struct iam_http_request *request, struct iam_http_response *response, void *context)
{
    struct iam_api *api = context;
    struct iam_principal who;
    struct iam_session session;
    const char *cookie = NULL;
    console_headers(request, response, NULL);
    if (session_authenticate(api, request, response, &who, &session, &cookie)) {
        enum iam_result result = iam_sessions_end(api->service->sessions, cookie);
        if (result != IAM_OK && result != IAM_ENOTFOUND) { /* not signed out: say so, keep the cookie */
            fail_unavailable(request, response, result);
        } else {
            set_session_cookie(api, request, response, NULL);
            iam_http_respond_empty(response, 204);
        }
    }
    iam_wipe(&session, sizeof session);
}

enum iam_result iam_api_console_register(struct iam_router *router, struct iam_api *api)
{
    static const char *const console_paths[] = {
        CONSOLE_PREFIX "/{a}",
        CONSOLE_PREFIX "/{a}/{b}",
        CONSOLE_PREFIX "/{a}/{b}/{c}",
        CONSOLE_PREFIX "/{a}/{b}/{c}/{d}",
    };
    enum iam_result result = iam_router_add(router, "GET", "/", serve_index, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "GET", CONSOLE_PREFIX, serve_index, api);
    for (size_t i = 0; result == IAM_OK && i < sizeof console_paths / sizeof console_paths[0]; i++)
        result = iam_router_add(router, "GET", console_paths[i], serve_console_path, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "POST", CONSOLE_API_PREFIX "/session", session_create, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "GET", CONSOLE_API_PREFIX "/session", session_get, api);
    if (result == IAM_OK)
        result = iam_router_add(router, "DELETE", CONSOLE_API_PREFIX "/session", session_delete, api);
    return result;
}
