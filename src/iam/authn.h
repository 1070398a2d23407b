/*
 * authn.h: turning credentials into a principal.
 *
 * Two ways in: an API key value (token exchange, HTTP Basic "apikey:<key>",
 * client_credentials) and an access token we issued (Bearer).
 * An unknown, malformed, disabled or expired key, or a key whose identity is
 * gone or disabled, never authenticates. Unknown and wrong keys take the same
 * path and give the same error.
 */
#ifndef IAM_IAM_AUTHN_H
#define IAM_IAM_AUTHN_H

#include <jansson.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "store/records.h"

/*
 * Authenticates an API key value. On success fills `who` (arena memory) and,
 * if `key` is not NULL, the key's record, and counts the use. No failure
 * limits: keys a client presents go through iam_authn_apikey_from.
 * Errors (token endpoint codes): unknown/malformed -> IAM_EINVAL "BXNIM0415E";
 * disabled -> IAM_EINVAL "BXNIM0416E"; expired -> "BXNIM0417E";
 * identity disabled or deleted -> "BXNIM0415E"; the store is needed and
 * cannot be reached -> IAM_EUNAVAILABLE "BXNIM0503E".
 *
 * A key seen before is answered from the credential cache
 * (iam/credential_cache.h) without reading the store, while the engine's
 * snapshot has not changed since it was read (no write seen on any node, none
 * through this process) and the engine says memory may be served
 * (iam_engine_check_current: during a store outage, up to --max-staleness).
 * Unknown keys always read the store. With `key` the store is always read.
 */
enum iam_result iam_authn_apikey(struct iam_service *service, struct iam_arena *arena, const char *value,
                                 struct iam_principal *who, struct iam_apikey_record *key,
                                 struct iam_error *err) IAM_MUST_CHECK;

/*
 * iam_authn_apikey for a key presented by a client at `client_address`,
 * under the service's failed-authentication limits (service->auth_limits,
 * iam/ratelimit.h; none when NULL). The subject is the key id the value
 * names (iam/keyformat.h; a value in no known format counts for its address
 * only). Rules:
 *   - an address with --failed-auth-per-address failures in the window is
 *     refused before any work, whatever key it brings;
 *   - a key id with more than --failed-auth-per-key failures in the window
 *     gets 429 instead of the usual error, but only for WRONG values: the
 *     value is verified first (HMAC, one lookup, constant-time compare), and
 *     the right value of that key is never refused because of its id's
 *     failures, so nobody can lock a key's owner out by guessing at it;
 *   - successes do not count.
 * Refused: IAM_ETOOMANY "BXNIM0431E" with `*retry_after` seconds (>= 1);
 * otherwise `*retry_after` is 0 and the result is iam_authn_apikey's.
 */
enum iam_result iam_authn_apikey_from(struct iam_service *service, struct iam_arena *arena, const char *value,
                                      const char *client_address, struct iam_principal *who,
                                      struct iam_apikey_record *key, int64_t *retry_after,
                                      struct iam_error *err) IAM_MUST_CHECK;

/*
 * What a refused API key named, for the audit trail (iam/audit_batch.h).
 * Never a secret: ids only, arena memory, NULL when not known.
 */
struct iam_authn_refusal {
    const char *apikey_id;  /* the stored key the value matched; else the key id a value in iamd's key
                               format (valid checksum) names, which is not secret; else NULL */
    const char *account_id; /* the matched key's account (NULL for an unknown key: no lookup is made) */
    const char *iam_id;     /* the matched key's owner */
};

/*
 * iam_authn_apikey_from (without the key record) that also says, on failure,
 * what the refused value named in `refusal` (may be NULL; zeroed first).
 * The same work and the same answers: the refusal costs no store read.
 */
enum iam_result iam_authn_apikey_attempt(struct iam_service *service, struct iam_arena *arena, const char *value,
                                         const char *client_address, struct iam_principal *who,
                                         int64_t *retry_after, struct iam_authn_refusal *refusal,
                                         struct iam_error *err) IAM_MUST_CHECK;

/*
 * Verifies an access token we issued (signature by a key of our keyring, alg
 * pinned by that key, exp/nbf/iat with leeway, iss), then checks that its
 * identity still exists and is active. Any failure is IAM_EUNAUTH
 * ("BXNIM0407E"-style detail in `err`). `*claims` (optional) gets a new reference.
 */
enum iam_result iam_authn_access_token(struct iam_service *service, struct iam_arena *arena, const char *token,
                                       struct iam_principal *who, json_t **claims, struct iam_error *err) IAM_MUST_CHECK;

/*
 * The verified-token cache: an access token verified once (signature, claims,
 * identity) is remembered by its SHA-256 until its exp, and trusted again
 * only while the engine snapshot it was verified at is current
 * (iam_engine_snapshot_serial: the store revision has not moved), nothing was
 * forgotten since (iam_authn_forget), and the engine says memory may be
 * served (iam_engine_check_current). Every write that can end an identity
 * (deleting a service ID, disabling or removing a user) bumps the store
 * revision, so a cached token of a removed identity stops working at once
 * through this process and within --engine-refresh-ms through other nodes.
 * Hits and misses (a lookup the cache could not answer) are counted in
 * common/metrics.h, as are the credential cache's in iam_authn_apikey.
 */
struct iam_authn_cache;
enum iam_result iam_authn_cache_new(struct iam_authn_cache **out) IAM_MUST_CHECK;
void iam_authn_cache_free(struct iam_authn_cache *cache);

/*
 * The verified tokens the cache would serve now (unexpired, verified at the
 * current snapshot, nothing forgotten since), for /metrics: takes each of the
 * cache's locks once. 0 without a cache.
 */
size_t iam_authn_cache_count(struct iam_service *service);

/*
 * Forgets every cached credential and verified token of this process. Called
 * after a write through this process that can change what a key or an
 * identity authenticates as (a key updated, disabled, locked or deleted; a
 * service ID or user changed or removed), before the write is acknowledged,
 * so the change holds at once even before the engine has rebuilt. O(1).
 */
void iam_authn_forget(struct iam_service *service);

/*
 * Re-reads the identity `iam_id` of `account_id` as every authentication does
 * (it must exist and be active) and fills `who` (arena memory): for
 * credentials that name an identity rather than carry proof, such as a console
 * session. When `apikey_id` is not NULL the identity signed in with that key,
 * which must still exist, belong to it and be neither disabled nor expired;
 * who->apikey_id is then set. The key's use is not counted.
 * Gone, disabled or expired: IAM_EUNAUTH ("BXNIM0407E"); a store failure:
 * IAM_EUNAVAILABLE ("BXNIM0503E").
 */
enum iam_result iam_authn_principal(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                    const char *iam_id, const char *apikey_id, struct iam_principal *who,
                                    struct iam_error *err) IAM_MUST_CHECK;

#endif
