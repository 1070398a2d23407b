/*
 * store_activity.h: the store side of identity activity: users' last
 * sign-in (batched like API-key usage), the scan behind the inactive-
 * identities report, and the stored reports themselves (IBM Identity API
 * "activity report"), so a report made on one node is read on any other.
 *
 * Same rules as store.h: one transaction per call, the account in every
 * WHERE clause, arena results. Two exceptions to "every write bumps the
 * revision": sign-in counts and reports are statistics, not configuration,
 * so neither invalidates the caches keyed on the revision.
 */
#ifndef IAM_STORE_STORE_ACTIVITY_H
#define IAM_STORE_STORE_ACTIVITY_H

#include "store/store.h"

/* The most entries of each kind one scan returns (the least recently active first). */
#define IAM_STORE_ACTIVITY_ITEMS_MAX 10000

/*
 * Adds users' sign-ins: each user's last_authn becomes max(last_authn,
 * item.last_authn) (`id` is the user's iam_id; `count` is not stored).
 * Users deleted since are skipped.
 */
enum iam_result iam_store_user_add_authn(struct iam_store *store, const struct iam_apikey_usage *items,
                                         size_t count) IAM_MUST_CHECK;

/* A user and the last time it authenticated: password sign-in or any of its API keys (0: never). */
struct iam_activity_user {
    const char *iam_id;
    const char *login;
    const char *email;
    const char *given_name;
    const char *family_name;
    int64_t last_authn;
};

/* A service ID and the last time any of its API keys authenticated (0: never). */
struct iam_activity_service_id {
    const char *id;
    const char *iam_id;
    const char *name;
    int64_t last_authn;
};

/* An API key with its owner: a service ID (service_id_*) or a user (user_*), NULL fields for the other. */
struct iam_activity_apikey {
    const char *id;
    const char *name;
    const char *iam_id; /* the owner's iam_id */
    const char *service_id_id;
    const char *service_id_name;
    const char *user_login;
    const char *user_email;
    const char *user_given_name;
    const char *user_family_name;
    int64_t last_authn;
};

/* The identities of an account that have not authenticated since a time. */
struct iam_activity_inactive {
    struct iam_activity_user *users;
    size_t user_count;
    struct iam_activity_service_id *service_ids;
    size_t service_id_count;
    struct iam_activity_apikey *apikeys;
    size_t apikey_count;
};

/*
 * Fills `out` (arena arrays) with the users, service IDs and API keys of
 * `account_id` whose last authentication is before `since` (never counts as
 * before), each list ordered by last_authn then id and cut at
 * IAM_STORE_ACTIVITY_ITEMS_MAX. All three come from one consistent read.
 */
enum iam_result iam_store_activity_inactive(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                            int64_t since, struct iam_activity_inactive *out) IAM_MUST_CHECK;

struct iam_activity_report_record {
    const char *account_id;
    const char *reference;
    const char *created_by;  /* iam_id of the identity that asked for it */
    int64_t created_at;
    const char *report;      /* the report's JSON text */
};

/*
 * Stores a report, then deletes the account's reports created before
 * `keep_since` and all but its `keep_max` newest. IAM_ECONFLICT when the
 * reference exists in that account; IAM_ENOTFOUND when the account does not.
 */
enum iam_result iam_store_activity_report_insert(struct iam_store *store,
                                                 const struct iam_activity_report_record *report,
                                                 int64_t keep_since, int64_t keep_max) IAM_MUST_CHECK;

/* The report `reference` of `account_id`, or with `reference` NULL the newest one; IAM_ENOTFOUND when none. */
enum iam_result iam_store_activity_report_get(struct iam_store *store, struct iam_arena *arena,
                                              const char *account_id, const char *reference,
                                              struct iam_activity_report_record *out) IAM_MUST_CHECK;

#endif
