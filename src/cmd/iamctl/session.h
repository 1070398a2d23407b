/*
 * session.h: who iamctl acts as. The credentials come from, in order:
 * IAMCTL_APIKEY (exchanged for a token on every run, nothing written), or the
 * login saved by `iamctl login` (config.h). A saved token is renewed once 80%
 * of its life has passed: with the saved API key (login --save-apikey), else
 * with the refresh token (user logins); without either, the token is used
 * until it expires and then the user is asked to log in again. The endpoint
 * is IAMCTL_ENDPOINT, else the saved one.
 */
#ifndef IAMCTL_SESSION_H
#define IAMCTL_SESSION_H

#include <jansson.h>
#include <stdint.h>

#include "iamctl.h"

#define IAMCTL_APIKEY_MAX 1024

/* Tokens from the token endpoint. */
struct iamctl_tokens {
    char *access_token;  /* owned, wiped on free */
    char *refresh_token; /* owned, NULL when the identity gets none (service IDs) */
    int64_t issued_at;   /* expiration - expires_in, server time */
    int64_t expires_at;
};

/*
 * Opens the session for a command: finds the endpoint and credentials,
 * renews the token when due (saving it), and fills context->http (with the
 * bearer token), account_id, iam_id and identity. Prints one line and
 * returns IAMCTL_EXIT_FAILURE when not logged in, when the login expired or
 * was refused, or when the endpoint cannot be reached.
 */
int iamctl_session_open(struct iamctl_context *context);

/* Opens context->http on `endpoint` with the context's TLS and timeout options. */
int iamctl_session_connect(struct iamctl_context *context, const char *endpoint);

/*
 * Exchanges an API key for tokens (IBM's apikey grant). Prints the server's
 * refusal ("Provided API key could not be found. (BXNIM0415E)") and returns
 * IAMCTL_EXIT_FAILURE when refused.
 */
int iamctl_session_exchange_apikey(struct iamctl_http *http, const char *apikey, struct iamctl_tokens *tokens);

/* Uses a refresh token (refresh_token grant). */
int iamctl_session_exchange_refresh(struct iamctl_http *http, const char *refresh_token,
                                    struct iamctl_tokens *tokens);

/* Reads the identity (iam_id, account, name) from the token's claims into the context. */
int iamctl_session_identify(struct iamctl_context *context, const char *access_token);

/* Stores fresh tokens (and the identity) in the loaded config. */
void iamctl_session_remember(struct iamctl_context *context, const struct iamctl_tokens *tokens);

/* Frees and wipes the tokens. */
void iamctl_tokens_free(struct iamctl_tokens *tokens);

/*
 * Reads an API key given as `spec`: the key itself, "@FILE" (a downloaded key
 * file: JSON with an "apikey" member, or the bare key) or "-" (one line from
 * standard input). *apikey is a new string the caller wipes and frees.
 * Prints one line and returns IAMCTL_EXIT_FAILURE (unreadable file) or
 * IAMCTL_EXIT_USAGE (empty key).
 */
int iamctl_session_read_apikey(const char *command, const char *spec, char **apikey);

/* Frees a key from iamctl_session_read_apikey after wiping it. */
void iamctl_apikey_free(char *apikey);

/* Decodes the claims (payload) of a JWT without verifying it; a new object, or NULL. */
json_t *iamctl_session_claims(const char *token);

#endif
