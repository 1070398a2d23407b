/*
 * passwords.h: user passwords: the length policy, argon2id hashing
 * (libsodium crypto_pwhash_str, opslimit 2, memlimit 19 MiB), verification,
 * password authentication for the token endpoint, and the in-memory limits
 * on failed attempts.
 *
 * Failed-attempt limits (a fixed 5-minute window per counter, starting at
 * its first failure). An attempt for login L from client address A is
 * refused with IAM_ETOOMANY, without checking the password, when
 *   (a) A has 20 or more failures (any login, known or not) in its window, or
 *   (b) L has 5 or more failures in its window AND A itself is one of the
 *       addresses those failures came from.
 * So an address that has not failed for L is never locked out by failures
 * from elsewhere: the owner signing in from their usual address still gets
 * in while an attacker elsewhere is blocked. Each attempt counts as a failure
 * before the password is checked (so parallel guesses cannot overshoot) and
 * a success takes it back and clears L's failures from A. Unknown logins are
 * counted like known ones, so a refusal does not reveal whether a login
 * exists. The counting is iam/ratelimit.h's (IPv6 addresses count per /64;
 * bounded tables, oldest windows evicted first); the limiter is process-wide
 * (one service per process), so several nodes each count on their own.
 *
 * A successful sign-in is also counted as the user's activity (last_authn,
 * for the inactive-identities report), through the usage batcher: nothing is
 * written to the database per sign-in.
 *
 * Passwords are never logged, stored in clear or returned.
 */
#ifndef IAM_IAM_PASSWORDS_H
#define IAM_IAM_PASSWORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/ratelimit.h"
#include "iam/service.h"

#define IAM_PASSWORD_MIN 12          /* characters (UTF-8 code points) */
#define IAM_PASSWORD_MAX 256         /* characters */
#define IAM_PASSWORD_BYTES_MAX 1024  /* bytes, whatever the characters */
#define IAM_PASSWORD_OPSLIMIT 2
#define IAM_PASSWORD_MEMLIMIT ((size_t)19 * 1024 * 1024) /* bytes */
#define IAM_PASSWORD_WINDOW_S 300
#define IAM_PASSWORD_USER_FAILURES_MAX 5
#define IAM_PASSWORD_ADDRESS_FAILURES_MAX 20

/* IAM_OK when `password` meets the policy (12..256 characters of valid UTF-8, no control characters). */
enum iam_result iam_password_check(const char *password, struct iam_error *err) IAM_MUST_CHECK;

/* Checks the policy, then hashes `password` into an encoded argon2id string in the arena. */
enum iam_result iam_password_hash(struct iam_arena *arena, const char *password, const char **hash,
                                  struct iam_error *err) IAM_MUST_CHECK;

/*
 * True when `password` matches `hash`. A NULL or malformed `hash` is
 * verified against a fixed dummy hash instead (same cost) and gives false.
 */
bool iam_password_verify(const char *hash, const char *password);

/*
 * Authenticates a user by login (case-insensitive) and password. On success
 * fills `who` as API-key and token authentication do (arena memory).
 * Unknown login, wrong password, no password set and a disabled user all
 * give the same IAM_EINVAL "BXNIM0602E" after the same work (one argon2id
 * verification). Too many failures: IAM_ETOOMANY "BXNIM0431E" whose message
 * gives the delay; a store failure: IAM_EUNAVAILABLE "BXNIM0503E".
 */
enum iam_result iam_authn_password(struct iam_service *service, struct iam_arena *arena, const char *login,
                                   const char *password, const char *client_address, struct iam_principal *who,
                                   struct iam_error *err) IAM_MUST_CHECK;

/* The same, also giving the seconds to wait when refused (0 otherwise), e.g. for a Retry-After header. */
enum iam_result iam_authn_password_with_retry(struct iam_service *service, struct iam_arena *arena,
                                              const char *login, const char *password, const char *client_address,
                                              struct iam_principal *who, int64_t *retry_after,
                                              struct iam_error *err) IAM_MUST_CHECK;

/* --- the failure limits, exposed for iam_authn_password and tests (times in seconds) --- */

/* What became of an attempt started with iam_password_limit_begin. */
enum iam_password_attempt { IAM_PASSWORD_ATTEMPT_SUCCEEDED, IAM_PASSWORD_ATTEMPT_FAILED, IAM_PASSWORD_ATTEMPT_VOID };

/*
 * Starts an attempt for `login` from `address` (NULL: "unknown") at `now`:
 * IAM_ETOOMANY with `*retry_after` seconds when refused; else IAM_OK and the
 * attempt is counted as a failure until iam_password_limit_end says otherwise.
 * IAM_ENOMEM when the tables cannot grow.
 */
enum iam_result iam_password_limit_begin(const char *login, const char *address, int64_t now,
                                         int64_t *retry_after) IAM_MUST_CHECK;

/*
 * Ends an attempt: SUCCEEDED takes the attempt back and clears the login's
 * failures from that address; FAILED keeps it; VOID (the check could not run,
 * e.g. the store failed) takes the attempt back only.
 */
void iam_password_limit_end(const char *login, const char *address, enum iam_password_attempt outcome, int64_t now);

/* Forgets every counter (tests). */
void iam_password_limits_reset(void);

/* The process-wide sign-in limiter's table sizes and refusals (iam/ratelimit.h), for /metrics. */
void iam_password_limits_stats(struct iam_ratelimit_stats *out);

/* How many argon2id verifications this process has run (tests: the unknown-login path verifies too). */
uint64_t iam_password_verify_count(void);

#endif
