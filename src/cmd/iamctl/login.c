/*
 * login.c: the session commands: login (exchange an API key and save the
 * endpoint and token; the key itself only with --save-apikey), logout
 * (revoke the refresh token, forget the credentials), target (who and where,
 * from the saved login) and oauth-tokens (a valid IAM token).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "crypto/hash.h"
#include "output.h"
#include "session.h"
#include "table.h"

static void format_time(int64_t when, char *out, size_t size)
{
    time_t seconds = (time_t)when;
    struct tm local;
    if (!localtime_r(&seconds, &local) || strftime(out, size, "%Y-%m-%d %H:%M:%S %Z", &local) == 0)
        snprintf(out, size, "%lld", (long long)when);
}

/* Reads the key from the terminal without echo. */
static int prompt_apikey(const char *command, char **apikey)
{
    struct termios saved, quiet;
    bool restore = tcgetattr(STDIN_FILENO, &saved) == 0;
    fputs("API key: ", stderr);
    fflush(stderr);
    if (restore) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    int status = iamctl_session_read_apikey(command, "-", apikey);
    if (restore)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fputc('\n', stderr);
    return status;
}

static void show_login(const struct iamctl_context *context, const char *endpoint, int64_t expires, bool saved_key,
                       const char *source)
{
    if (context->json) {
        json_t *report = json_pack("{s:s,s:s,s:s,s:s,s:I,s:b,s:s}", "endpoint", endpoint, "account_id",
                                   context->account_id, "iam_id", context->iam_id, "identity", context->identity,
                                   "token_expires_at", (json_int_t)expires, "apikey_saved", saved_key,
                                   "credentials", source);
        if (report)
            iamctl_print_json(report);
        json_decref(report);
        return;
    }
    if (context->quiet)
        return;
    char identity[512], when[64];
    snprintf(identity, sizeof identity, "%s (%s)", context->iam_id, context->identity);
    format_time(expires, when, sizeof when);
    if ((int64_t)time(NULL) >= expires)
        snprintf(when + strlen(when), sizeof when - strlen(when), " (expired)");
    const char *pairs[] = {"Endpoint:",      endpoint,
                           "Account:",       context->account_id,
                           "Identity:",      identity,
                           "Token expires:", when,
                           "API key saved:", saved_key ? "yes" : "no",
                           "Credentials:",   source,
                           NULL};
    iamctl_table_print_pairs(stdout, pairs);
}

int iamctl_cmd_login(struct iamctl_context *context)
{
    const char *command = context->command->name;
    const char *endpoint = iamctl_flag(context, "endpoint");
    const char *spec = iamctl_flag(context, "apikey");
    bool save_key = iamctl_has_flag(context, "save-apikey");
    int status = iamctl_config_load(&context->config);
    context->config_loaded = status == IAMCTL_EXIT_OK;
    if (status != IAMCTL_EXIT_OK)
        return status;
    if (!endpoint)
        endpoint = getenv("IAMCTL_ENDPOINT");
    if (!endpoint || !*endpoint)
        endpoint = iamctl_config_get(&context->config, "endpoint");
    if (!endpoint)
        return iamctl_usage(command, "give the endpoint: --endpoint URL (or IAMCTL_ENDPOINT)");
    if (!spec)
        spec = getenv("IAMCTL_APIKEY");
    char *apikey = NULL;
    if (spec && *spec)
        status = iamctl_session_read_apikey(command, spec, &apikey);
    else if (isatty(STDIN_FILENO))
        status = prompt_apikey(command, &apikey);
    else
        return iamctl_usage(command, "give the API key: --apikey KEY, --apikey @FILE, --apikey - (standard input) "
                                     "or IAMCTL_APIKEY");
    if (status != IAMCTL_EXIT_OK)
        return status;
    struct iamctl_tokens tokens = {0};
    status = iamctl_session_connect(context, endpoint);
    if (status == IAMCTL_EXIT_OK)
        status = iamctl_session_exchange_apikey(&context->http, apikey, &tokens);
    if (status == IAMCTL_EXIT_OK)
        status = iamctl_session_identify(context, tokens.access_token);
    if (status == IAMCTL_EXIT_OK) {
        /* A new login replaces the old one entirely. */
        iamctl_config_forget_login(&context->config);
        iamctl_config_set(&context->config, "endpoint", context->http.endpoint);
        iamctl_session_remember(context, &tokens);
        iamctl_config_set(&context->config, "apikey", save_key ? apikey : NULL);
        status = iamctl_config_save(&context->config);
    }
    if (status == IAMCTL_EXIT_OK)
        show_login(context, context->http.endpoint, tokens.expires_at, save_key, "login");
    iamctl_tokens_free(&tokens);
    iamctl_apikey_free(apikey);
    return status;
}

int iamctl_cmd_logout(struct iamctl_context *context)
{
    int status = iamctl_config_load(&context->config);
    context->config_loaded = status == IAMCTL_EXIT_OK;
    if (status != IAMCTL_EXIT_OK)
        return status;
    const char *endpoint = iamctl_config_get(&context->config, "endpoint");
    const char *access = iamctl_config_get(&context->config, "access_token");
    const char *refresh = iamctl_config_get(&context->config, "refresh_token");
    if (!access && !iamctl_config_get(&context->config, "apikey")) {
        iamctl_say(context->quiet || context->json, "Not logged in");
        return IAMCTL_EXIT_OK;
    }
    /* Best effort: revoke the refresh token so a copy of the file cannot be renewed. */
    if (endpoint && access && refresh && iamctl_session_connect(context, endpoint) == IAMCTL_EXIT_OK &&
        iamctl_http_set_token(&context->http, access) == IAMCTL_EXIT_OK) {
        struct iam_buf form;
        iam_buf_init(&form, 16384);
        if (iam_buf_append_str(&form, "token=") == IAM_OK && iamctl_url_encode(&form, refresh) == IAM_OK) {
            struct iamctl_request request = {.method = "POST",
                                             .path = "/identity/revoke",
                                             .content_type = "application/x-www-form-urlencoded",
                                             .body = form.data,
                                             .body_length = form.length,
                                             .authenticated = true};
            struct iamctl_response response;
            if (iamctl_http_send(&context->http, &request, &response) != IAMCTL_EXIT_OK ||
                response.status != 200)
                iamctl_warn(context->quiet, "the refresh token could not be revoked; it is forgotten anyway");
            iamctl_response_free(&response);
        }
        iam_buf_free(&form);
    }
    iamctl_config_forget_login(&context->config);
    status = iamctl_config_save(&context->config);
    if (status == IAMCTL_EXIT_OK && !context->json)
        iamctl_say(context->quiet, "Logged out from %s", endpoint ? endpoint : "iamd");
    return status;
}

int iamctl_cmd_target(struct iamctl_context *context)
{
    const char *env_key = getenv("IAMCTL_APIKEY");
    if (env_key && *env_key) {
        /* Credentials from the environment: ask the server who they are. */
        int status = iamctl_session_open(context);
        if (status == IAMCTL_EXIT_OK)
            show_login(context, context->http.endpoint, context->token_expires_at, false, "IAMCTL_APIKEY");
        return status;
    }
    int status = iamctl_config_load(&context->config);
    context->config_loaded = status == IAMCTL_EXIT_OK;
    if (status != IAMCTL_EXIT_OK)
        return status;
    const char *endpoint = iamctl_config_get(&context->config, "endpoint");
    const char *iam_id = iamctl_config_get(&context->config, "iam_id");
    if (!endpoint || !iam_id || !iamctl_config_get(&context->config, "access_token"))
        return iamctl_fail("not logged in: run 'iamctl login --apikey KEY --endpoint URL'");
    const char *env_endpoint = getenv("IAMCTL_ENDPOINT");
    if (env_endpoint && *env_endpoint && strcmp(env_endpoint, endpoint) != 0)
        iamctl_warn(context->quiet, "IAMCTL_ENDPOINT (%s) is not the endpoint of the saved login", env_endpoint);
    snprintf(context->account_id, sizeof context->account_id, "%s",
             iamctl_config_get(&context->config, "account_id") ? iamctl_config_get(&context->config, "account_id")
                                                               : "");
    snprintf(context->iam_id, sizeof context->iam_id, "%s", iam_id);
    const char *identity = iamctl_config_get(&context->config, "identity");
    snprintf(context->identity, sizeof context->identity, "%s", identity ? identity : iam_id);
    show_login(context, endpoint, iamctl_config_get_int(&context->config, "token_expires_at"),
               iamctl_config_get(&context->config, "apikey") != NULL, "login");
    return IAMCTL_EXIT_OK;
}

int iamctl_cmd_oauth_tokens(struct iamctl_context *context)
{
    const char *header = context->http.authorization;
    const char *token = header ? strstr(header, "Bearer ") : NULL;
    if (!token)
        return iamctl_fail("no token");
    if (context->json) {
        json_t *report = json_pack("{s:s}", "iam_token", token);
        if (!report)
            return iamctl_fail("out of memory");
        iamctl_print_json(report);
        const char *copy = iamctl_json_string(report, "iam_token");
        iam_wipe((char *)copy, strlen(copy));
        json_decref(report);
    } else if (context->quiet) {
        printf("%s\n", token + 7);
    } else {
        printf("IAM token:  %s\n", token);
    }
    return IAMCTL_EXIT_OK;
}
