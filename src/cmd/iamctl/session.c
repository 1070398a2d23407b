/*
 * session.c: credentials, token exchange and renewal, and the identity a
 * token names (session.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "output.h"
#include "session.h"

#define APIKEY_GRANT "urn:ibm:params:oauth:grant-type:apikey"
#define FORM_MAX 16384
#define TOKEN_MAX 16384
#define KEY_FILE_MAX (64 * 1024)
#define SESSION_REFUSED 3 /* internal: the token endpoint refused the grant */

void iamctl_tokens_free(struct iamctl_tokens *tokens)
{
    if (tokens->access_token) {
        iam_wipe(tokens->access_token, strlen(tokens->access_token));
        free(tokens->access_token);
    }
    if (tokens->refresh_token) {
        iam_wipe(tokens->refresh_token, strlen(tokens->refresh_token));
        free(tokens->refresh_token);
    }
    memset(tokens, 0, sizeof *tokens);
}

void iamctl_apikey_free(char *apikey)
{
    if (!apikey)
        return;
    iam_wipe(apikey, strlen(apikey));
    free(apikey);
}

int iamctl_session_connect(struct iamctl_context *context, const char *endpoint)
{
    if (context->http_open)
        return IAMCTL_EXIT_OK;
    int status = iamctl_http_open(&context->http, endpoint, &context->http_options);
    if (status != IAMCTL_EXIT_OK) {
        iamctl_http_close(&context->http);
        return status;
    }
    context->http_open = true;
    if (context->http_options.insecure)
        iamctl_warn(context->quiet, "TLS certificates are not verified (--insecure)");
    return IAMCTL_EXIT_OK;
}

/*
 * Posts `form` to /identity/token. IAMCTL_EXIT_OK with `tokens` filled;
 * SESSION_REFUSED with the answer in `refusal` (caller frees); or
 * IAMCTL_EXIT_FAILURE after printing a transport problem.
 */
static int token_request(struct iamctl_http *http, const char *form, struct iamctl_tokens *tokens,
                         struct iamctl_response *refusal)
{
    memset(tokens, 0, sizeof *tokens);
    memset(refusal, 0, sizeof *refusal);
    struct iamctl_request request = {
        .method = "POST",
        .path = "/identity/token",
        .content_type = "application/x-www-form-urlencoded",
        .body = form,
        .body_length = strlen(form),
    };
    struct iamctl_response response;
    int status = iamctl_http_send(http, &request, &response);
    if (status != IAMCTL_EXIT_OK) {
        iamctl_response_free(&response);
        return status;
    }
    if (response.status != 200) {
        *refusal = response;
        return SESSION_REFUSED;
    }
    const char *access = iamctl_json_string(response.body, "access_token");
    const char *refresh = iamctl_json_string(response.body, "refresh_token");
    const json_t *expires_in = json_object_get(response.body, "expires_in");
    const json_t *expiration = json_object_get(response.body, "expiration");
    if (!access || !*access || strlen(access) > TOKEN_MAX || !json_is_integer(expires_in) ||
        !json_is_integer(expiration)) {
        iamctl_response_free(&response);
        return iamctl_fail("%s does not answer like iamd (no token in the token endpoint's answer)", http->endpoint);
    }
    bool has_refresh = refresh && *refresh && strcmp(refresh, "not_supported") != 0;
    tokens->access_token = strdup(access);
    if (has_refresh)
        tokens->refresh_token = strdup(refresh);
    tokens->expires_at = (int64_t)json_integer_value(expiration);
    tokens->issued_at = tokens->expires_at - (int64_t)json_integer_value(expires_in);
    iam_wipe((char *)access, strlen(access));
    if (refresh)
        iam_wipe((char *)refresh, strlen(refresh));
    iamctl_response_free(&response);
    if (!tokens->access_token || (has_refresh && !tokens->refresh_token)) {
        iamctl_tokens_free(tokens);
        return iamctl_fail("out of memory");
    }
    return IAMCTL_EXIT_OK;
}

/* Builds "grant_type=<grant>&<name>=<value>" (value percent-encoded) in `form`. */
static int build_form(struct iam_buf *form, const char *grant, const char *name, const char *value)
{
    iam_buf_init(form, FORM_MAX);
    if (iam_buf_append_str(form, "grant_type=") != IAM_OK || iamctl_url_encode(form, grant) != IAM_OK ||
        iam_buf_appendf(form, "&%s=", name) != IAM_OK || iamctl_url_encode(form, value) != IAM_OK) {
        iam_buf_free(form);
        return iamctl_fail("the credential is too long");
    }
    return IAMCTL_EXIT_OK;
}

static int exchange(struct iamctl_http *http, const char *grant, const char *name, const char *value,
                    struct iamctl_tokens *tokens, struct iamctl_response *refusal)
{
    struct iam_buf form;
    int status = build_form(&form, grant, name, value);
    if (status != IAMCTL_EXIT_OK) {
        memset(refusal, 0, sizeof *refusal);
        memset(tokens, 0, sizeof *tokens);
        return status;
    }
    status = token_request(http, form.data, tokens, refusal);
    iam_buf_free(&form); /* wipes the credential */
    return status;
}

static int report_refusal(const struct iamctl_http *http, struct iamctl_response *refusal)
{
    int status = iamctl_http_report(http, refusal, false);
    iamctl_response_free(refusal);
    return status;
}

int iamctl_session_exchange_apikey(struct iamctl_http *http, const char *apikey, struct iamctl_tokens *tokens)
{
    struct iamctl_response refusal;
    int status = exchange(http, APIKEY_GRANT, "apikey", apikey, tokens, &refusal);
    return status == SESSION_REFUSED ? report_refusal(http, &refusal) : status;
}

int iamctl_session_exchange_refresh(struct iamctl_http *http, const char *refresh_token,
                                    struct iamctl_tokens *tokens)
{
    struct iamctl_response refusal;
    int status = exchange(http, "refresh_token", "refresh_token", refresh_token, tokens, &refusal);
    return status == SESSION_REFUSED ? report_refusal(http, &refusal) : status;
}

json_t *iamctl_session_claims(const char *token)
{
    const char *first = strchr(token, '.');
    const char *second = first ? strchr(first + 1, '.') : NULL;
    if (!first || !second || second - first - 1 > TOKEN_MAX)
        return NULL;
    size_t length = (size_t)(second - first - 1);
    uint8_t *decoded = malloc(length + 1);
    size_t decoded_length = 0;
    json_t *claims = NULL;
    if (decoded && iam_base64url_decode(first + 1, length, decoded, length, &decoded_length) == IAM_OK)
        claims = json_loadb((const char *)decoded, decoded_length, JSON_REJECT_DUPLICATES, NULL);
    free(decoded);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

int iamctl_session_identify(struct iamctl_context *context, const char *access_token)
{
    json_t *claims = iamctl_session_claims(access_token);
    const char *iam_id = iamctl_json_string(claims, "iam_id");
    const char *account = iamctl_json_string(json_object_get(claims, "account"), "bss");
    if (!iam_id || !account || strlen(iam_id) >= sizeof context->iam_id ||
        strlen(account) >= sizeof context->account_id) {
        json_decref(claims);
        return iamctl_fail("the access token from %s does not name an identity and an account",
                           context->http.endpoint);
    }
    snprintf(context->iam_id, sizeof context->iam_id, "%s", iam_id);
    snprintf(context->account_id, sizeof context->account_id, "%s", account);
    const char *name = iamctl_json_string(claims, "name");
    const char *sub = iamctl_json_string(claims, "sub");
    const char *identity = strncmp(iam_id, "iam-ServiceId-", 14) == 0 && name ? name : sub ? sub : iam_id;
    snprintf(context->identity, sizeof context->identity, "%s", identity);
    json_decref(claims);
    return IAMCTL_EXIT_OK;
}

void iamctl_session_remember(struct iamctl_context *context, const struct iamctl_tokens *tokens)
{
    struct iamctl_config *config = &context->config;
    iamctl_config_set(config, "access_token", tokens->access_token);
    iamctl_config_set(config, "refresh_token", tokens->refresh_token);
    iamctl_config_set_int(config, "token_issued_at", tokens->issued_at);
    iamctl_config_set_int(config, "token_expires_at", tokens->expires_at);
    iamctl_config_set(config, "account_id", context->account_id);
    iamctl_config_set(config, "iam_id", context->iam_id);
    iamctl_config_set(config, "identity", context->identity);
}

/* Loads the config once per run. */
static int load_config(struct iamctl_context *context)
{
    if (context->config_loaded)
        return IAMCTL_EXIT_OK;
    int status = iamctl_config_load(&context->config);
    if (status != IAMCTL_EXIT_OK) {
        iamctl_config_free(&context->config);
        return status;
    }
    context->config_loaded = true;
    return IAMCTL_EXIT_OK;
}

static void format_time(int64_t when, char *out, size_t size)
{
    time_t seconds = (time_t)when;
    struct tm local;
    if (!localtime_r(&seconds, &local) || strftime(out, size, "%Y-%m-%d %H:%M:%S %Z", &local) == 0)
        snprintf(out, size, "%lld", (long long)when);
}

/* Renews a saved token that is past 80% of its life; keeps it (with a warning) while it is still valid. */
static int renew(struct iamctl_context *context, const char **token)
{
    struct iamctl_config *config = &context->config;
    const char *apikey = iamctl_config_get(config, "apikey");
    const char *refresh = iamctl_config_get(config, "refresh_token");
    int64_t expires = iamctl_config_get_int(config, "token_expires_at");
    bool expired = (int64_t)time(NULL) >= expires;
    char when[64];
    format_time(expires, when, sizeof when);
    if (!apikey && !refresh) {
        if (expired)
            return iamctl_fail("the login to %s expired at %s; run 'iamctl login' again", context->http.endpoint,
                               when);
        return IAMCTL_EXIT_OK;
    }
    struct iamctl_tokens tokens;
    struct iamctl_response refusal;
    int status = apikey ? exchange(&context->http, APIKEY_GRANT, "apikey", apikey, &tokens, &refusal)
                        : exchange(&context->http, "refresh_token", "refresh_token", refresh, &tokens, &refusal);
    if (status == SESSION_REFUSED) {
        const char *message, *code;
        iamctl_http_error_text(refusal.body, &message, &code);
        if (expired)
            status = iamctl_fail("the login to %s expired and could not be renewed: %s (%s); run 'iamctl login' "
                                 "again",
                                 context->http.endpoint, *message ? message : "refused", *code ? code : "?");
        else
            iamctl_warn(context->quiet, "the login could not be renewed: %s (%s); it expires at %s",
                        *message ? message : "refused", *code ? code : "?", when);
        iamctl_response_free(&refusal);
        return expired ? status : IAMCTL_EXIT_OK;
    }
    if (status != IAMCTL_EXIT_OK)
        return status;
    status = iamctl_session_identify(context, tokens.access_token);
    if (status == IAMCTL_EXIT_OK) {
        iamctl_session_remember(context, &tokens);
        status = iamctl_config_save(config);
        *token = iamctl_config_get(config, "access_token");
    }
    iamctl_tokens_free(&tokens);
    return status;
}

int iamctl_session_open(struct iamctl_context *context)
{
    const char *env_key = getenv("IAMCTL_APIKEY");
    const char *env_endpoint = getenv("IAMCTL_ENDPOINT");
    if (env_key && !*env_key)
        env_key = NULL;
    if (env_endpoint && !*env_endpoint)
        env_endpoint = NULL;
    int status;
    if (!(env_key && env_endpoint) && (status = load_config(context)) != IAMCTL_EXIT_OK)
        return status;
    const char *saved_endpoint = context->config_loaded ? iamctl_config_get(&context->config, "endpoint") : NULL;
    const char *endpoint = env_endpoint ? env_endpoint : saved_endpoint;
    if (!endpoint)
        return iamctl_fail("not logged in: run 'iamctl login --apikey KEY --endpoint URL', or set IAMCTL_APIKEY "
                           "and IAMCTL_ENDPOINT");
    if ((status = iamctl_session_connect(context, endpoint)) != IAMCTL_EXIT_OK)
        return status;

    if (env_key) {
        char *apikey = NULL;
        if ((status = iamctl_session_read_apikey(NULL, env_key, &apikey)) != IAMCTL_EXIT_OK)
            return status == IAMCTL_EXIT_USAGE ? IAMCTL_EXIT_FAILURE : status;
        struct iamctl_tokens tokens;
        status = iamctl_session_exchange_apikey(&context->http, apikey, &tokens);
        iamctl_apikey_free(apikey);
        if (status == IAMCTL_EXIT_OK && (status = iamctl_session_identify(context, tokens.access_token)) ==
                                            IAMCTL_EXIT_OK)
            status = iamctl_http_set_token(&context->http, tokens.access_token);
        context->token_expires_at = tokens.expires_at;
        iamctl_tokens_free(&tokens);
        return status;
    }

    const char *token = iamctl_config_get(&context->config, "access_token");
    if (!token || !saved_endpoint || strcmp(saved_endpoint, endpoint) != 0)
        return iamctl_fail("not logged in to %s: run 'iamctl login', or set IAMCTL_APIKEY", endpoint);
    int64_t issued = iamctl_config_get_int(&context->config, "token_issued_at");
    int64_t expires = iamctl_config_get_int(&context->config, "token_expires_at");
    int64_t now = (int64_t)time(NULL);
    if (expires <= issued || now >= issued + (expires - issued) / 10 * 8) {
        if ((status = renew(context, &token)) != IAMCTL_EXIT_OK)
            return status;
    }
    if ((status = iamctl_session_identify(context, token)) != IAMCTL_EXIT_OK)
        return status;
    context->token_expires_at = iamctl_config_get_int(&context->config, "token_expires_at");
    return iamctl_http_set_token(&context->http, token);
}

/* Reads one line of standard input. */
static int read_stdin_line(char **out)
{
    char line[IAMCTL_APIKEY_MAX + 2];
    if (!fgets(line, sizeof line, stdin)) {
        *out = NULL;
        return IAMCTL_EXIT_OK;
    }
    *out = strdup(line);
    iam_wipe(line, sizeof line);
    return *out ? IAMCTL_EXIT_OK : iamctl_fail("out of memory");
}

/* The key of a downloaded key file: JSON {"apikey": ...}, or the file's text. */
static int read_key_file(const char *path, char **out)
{
    char error[IAMCTL_PATH_MAX + 128];
    char *text = NULL;
    size_t length = 0;
    *out = NULL;
    if (iamctl_file_read(path, KEY_FILE_MAX, false, &text, &length, error, sizeof error) != IAM_OK)
        return iamctl_fail("%s", error);
    json_t *document = json_loadb(text, length, JSON_REJECT_DUPLICATES, NULL);
    if (document) {
        const char *value = iamctl_json_string(document, "apikey");
        *out = value ? strdup(value) : NULL;
        if (value)
            iam_wipe((char *)value, strlen(value));
        json_decref(document);
        iam_wipe(text, length);
        free(text);
        if (!value)
            return iamctl_fail("%s has no \"apikey\" member", path);
        return *out ? IAMCTL_EXIT_OK : iamctl_fail("out of memory");
    }
    *out = text;
    return IAMCTL_EXIT_OK;
}

int iamctl_session_read_apikey(const char *command, const char *spec, char **apikey)
{
    *apikey = NULL;
    char *value = NULL;
    int status;
    if (strcmp(spec, "-") == 0)
        status = read_stdin_line(&value);
    else if (spec[0] == '@')
        status = read_key_file(spec + 1, &value);
    else
        status = (value = strdup(spec)) ? IAMCTL_EXIT_OK : iamctl_fail("out of memory");
    if (status != IAMCTL_EXIT_OK)
        return status;
    /* Trim surrounding white space (a key file or a pasted line ends with a newline). */
    size_t start = 0, end = value ? strlen(value) : 0;
    while (start < end && (value[start] == ' ' || value[start] == '\t' || value[start] == '\n' ||
                           value[start] == '\r'))
        start++;
    while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t' || value[end - 1] == '\n' ||
                           value[end - 1] == '\r'))
        end--;
    bool clean = end > start && end - start <= IAMCTL_APIKEY_MAX;
    for (size_t i = start; clean && i < end; i++)
        if ((unsigned char)value[i] <= 0x20 || (unsigned char)value[i] == 0x7f)
            clean = false;
    if (!clean) {
        bool empty = end == start;
        iamctl_apikey_free(value);
        return iamctl_usage(command, empty ? "the API key is empty"
                                           : "the API key is too long or holds spaces or control characters");
    }
    memmove(value, value + start, end - start);
    iam_wipe(value + (end - start), strlen(value + (end - start)));
    value[end - start] = '\0';
    *apikey = value;
    return IAMCTL_EXIT_OK;
}
