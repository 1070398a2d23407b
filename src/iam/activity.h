/*
 * activity.h: the inactive-identities report of the IBM Identity API
 * ("activity report", reference section 7): the users, service IDs and API
 * keys of an account that have not authenticated within a duration.
 *
 * Activity: an API key is active when it authenticated (token exchange,
 * client_credentials, HTTP Basic, console sign-in: its last_authn, batched
 * by iam/usage.c); a service ID when any of its keys did; a user when it
 * signed in with its password or any of its keys authenticated. Identities
 * created within the duration and never used are listed too (IBM: "all
 * identities that have not authenticated within the time indicated by
 * duration"). Trusted profiles do not exist in iamd: `profiles` is [].
 *
 * Reports are computed when asked for (this node's pending usage counters
 * are flushed first; another node's last second of use may be missed) and
 * stored in the database, so GET through any node finds them, 200 at once
 * (IBM may answer 204 while a report is pending; iamd never needs to).
 * Creating a report deletes the account's reports older than a day (IBM's
 * rule) and keeps at most IAM_ACTIVITY_REPORTS_KEPT. Each list holds at most
 * IAM_STORE_ACTIVITY_ITEMS_MAX entries, the longest inactive first.
 *
 * Permission: IAM_ACTION_ACTIVITY_REPORT_CREATE / _READ on the account's
 * iam-identity service (Administrator; IBM: "you must be assigned the
 * Administrator role on the IAM Identity Service"); another account is
 * IAM_ENOTFOUND "BXNIM0105E".
 */
#ifndef IAM_IAM_ACTIVITY_H
#define IAM_IAM_ACTIVITY_H

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"

#define IAM_ACTIVITY_DURATION_DEFAULT_HOURS 720 /* 30 days, IBM's default */
#define IAM_ACTIVITY_DURATION_MAX_HOURS 8760    /* a year */
#define IAM_ACTIVITY_REPORTS_KEPT 20            /* per account */
#define IAM_ACTIVITY_REFERENCE_MAX 64

/*
 * Computes and stores the report of `account_id` for `type` (NULL or
 * "inactive") and `duration` (NULL: 720; else hours as "720" or "720h",
 * 1..8760). On success `*reference` (arena) names it.
 * Errors: bad type or duration IAM_EINVAL "BXNIM0110E"; another account
 * IAM_ENOTFOUND "BXNIM0105E"; not allowed IAM_EDENIED; the store
 * IAM_EUNAVAILABLE "BXNIM0503E".
 */
enum iam_result iam_activity_report_create(struct iam_service *service, struct iam_arena *arena,
                                           const struct iam_principal *who, const char *account_id, const char *type,
                                           const char *duration, const char **reference,
                                           struct iam_error *err) IAM_MUST_CHECK;

/*
 * The stored report `reference` of `account_id` ("latest": the newest) as
 * IBM's Report JSON text in `*report` (arena). Unknown reference (or none
 * yet for "latest"): IAM_ENOTFOUND "BXNIM0112E"; other errors as above.
 */
enum iam_result iam_activity_report_get(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *account_id,
                                        const char *reference, const char **report,
                                        struct iam_error *err) IAM_MUST_CHECK;

#endif
