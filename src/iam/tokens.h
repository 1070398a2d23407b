/*
 * tokens.h: access and refresh tokens.
 *
 * Access tokens are RS256 (by default) JWTs with IBM's claims; issuing one
 * writes nothing to the database. Refresh tokens (user identities only; a
 * service ID gets "not_supported", as IBM does) are opaque: an AES-GCM sealed
 * JSON document under the KEK (AAD "refresh-token") naming the identity, the
 * API key it came from (or, for a password sign-in, a fingerprint of the
 * password hash), a jti and an expiry. Using one re-checks the key (or that
 * the password is unchanged) and the identity; revoking one (RFC 7009) records
 * its jti until it would expire.
 */
#ifndef IAM_IAM_TOKENS_H
#define IAM_IAM_TOKENS_H

#include <jansson.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"

#define IAM_GRANT_APIKEY "urn:ibm:params:oauth:grant-type:apikey"
#define IAM_GRANT_REFRESH "refresh_token"
#define IAM_GRANT_CLIENT_CREDENTIALS "client_credentials"

struct iam_token_response {
    const char *access_token;  /* arena memory */
    const char *refresh_token; /* arena memory; "not_supported" for service IDs */
    int64_t expires_in;        /* == exp - iat */
    int64_t expiration;        /* == exp */
    const char *scope;
};

/*
 * Issues tokens for `who`, authenticated through `grant_type` with API key
 * `apikey_id` (recorded in the refresh token).
 */
enum iam_result iam_tokens_issue(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                                 const char *grant_type, struct iam_token_response *out,
                                 struct iam_error *err) IAM_MUST_CHECK;

/*
 * Exchanges a refresh token for new tokens. Invalid, expired or revoked refresh
 * tokens, and those whose key or identity is gone or disabled, are IAM_EINVAL
 * "BXNIM0407E". `issued_to` (optional) gets the identity the new tokens are
 * for (arena memory; its apikey_id is the key the session came from, if any).
 */
enum iam_result iam_tokens_refresh(struct iam_service *service, struct iam_arena *arena, const char *refresh_token,
                                   struct iam_token_response *out, struct iam_principal *issued_to,
                                   struct iam_error *err) IAM_MUST_CHECK;

/*
 * RFC 7009: revokes a refresh token of `caller`'s account. Unknown or foreign
 * tokens succeed silently, as the RFC asks.
 */
enum iam_result iam_tokens_revoke(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *caller, const char *token,
                                  struct iam_error *err) IAM_MUST_CHECK;

/*
 * RFC 7662: the introspection answer for `token`, seen by `caller`. A token
 * of another account, or not valid, is {"active": false}. New reference.
 */
json_t *iam_tokens_introspect(struct iam_service *service, struct iam_arena *arena,
                              const struct iam_principal *caller, const char *token);

#endif
