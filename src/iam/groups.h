/*
 * groups.h: access groups and their members (IBM Access Groups v2
 * semantics, dynamic rules left out).
 *
 * Rules every operation follows: a group is loaded from the caller's account
 * (another account's group is IAM_ENOTFOUND), then iam_authz_check() decides
 * with an iam-groups action on target {serviceName iam-groups, resourceType
 * accessgroup, resource <group id>} (account-level operations: no resource).
 * Every write is followed by iam_engine_refresh so the next decision sees it.
 *
 * AccessGroupId-PublicAccess is implicit: every identity of the account is a
 * member; it can be read (a synthetic record) but not changed, deleted or
 * given explicit members (IAM_EINVAL).
 *
 * Errors carry Access Groups codes in err->code ("invalid_request",
 * "not_found", "conflict", "limit_exceeded", "insufficent_permissions");
 * err->message_code is empty. Results and strings are arena memory.
 */
#ifndef IAM_IAM_GROUPS_H
#define IAM_IAM_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "store/access_records.h"

#define IAM_GROUP_ID_PREFIX "AccessGroupId-"
#define IAM_GROUP_NAME_MAX 100          /* characters */
#define IAM_GROUP_DESCRIPTION_MAX 250   /* characters */
#define IAM_GROUPS_PER_ACCOUNT_MAX 500
#define IAM_GROUPS_PER_IDENTITY_MAX 50
#define IAM_GROUP_MEMBERS_PER_CALL_MAX 50  /* members in one add or bulk remove, groups in one _allgroups add */
#define IAM_GROUP_LIST_LIMIT_DEFAULT 50    /* limit absent or 0 */
#define IAM_GROUP_LIST_LIMIT_MAX 100
#define IAM_GROUP_LIST_OFFSET_MAX 1000000
#define IAM_GROUP_PUBLIC_NAME "Public Access"

/* True when `id` is the implicit public access group. */
bool iam_group_is_public(const char *id);

/* Creates a group in `account_id`; `who` becomes created_by. Duplicate name (any case): IAM_ECONFLICT. */
enum iam_result iam_group_create(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *account_id, const char *name,
                                 const char *description, struct iam_group_record *out,
                                 struct iam_error *err) IAM_MUST_CHECK;

/* Reads group `id` of the caller's account (the public access group as a synthetic record). */
enum iam_result iam_group_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                              const char *id, struct iam_group_record *out, struct iam_error *err) IAM_MUST_CHECK;

struct iam_group_list_request {
    const char *account_id;  /* required */
    const char *iam_id;      /* optional: groups this identity is a static member of */
    const char *search;      /* optional: "text", "name:text", "description:text" or "id:<group id>" */
    const char *sort;        /* optional: "name" (default), "description", "created_at", "is_federated"; "-" prefix: descending */
    bool hide_public_access; /* leave the public access group out */
    int64_t offset;          /* 0..IAM_GROUP_LIST_OFFSET_MAX */
    int64_t limit;           /* 1..100 (the api layer maps 0 and absent to 50) */
};

struct iam_group_page {
    struct iam_group_record *items; /* arena array */
    size_t count;
    int64_t total;                  /* every group matching the query (IBM's total_count) */
};

/*
 * Lists one page of the groups the caller may read. With the account-level
 * iam-groups list permission every group is listed; without it, the groups
 * the caller may read one by one. The public access group comes first
 * (unless hidden, filtered out by `search`, or an iam_id filter is given).
 */
enum iam_result iam_group_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                               const struct iam_group_list_request *request, struct iam_group_page *out,
                               struct iam_error *err) IAM_MUST_CHECK;

/*
 * Updates name and/or description (NULL: unchanged; description "" clears it)
 * if the entity tag is `expected_entity_tag` (NULL: any); stale: IAM_ECONFLICT.
 */
enum iam_result iam_group_update(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *id, const char *expected_entity_tag,
                                 const char *name, const char *description, struct iam_group_record *out,
                                 struct iam_error *err) IAM_MUST_CHECK;

/*
 * Deletes a group, its members and the policies naming it. With members and
 * without `force`: IAM_ECONFLICT.
 */
enum iam_result iam_group_delete(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *id, bool force,
                                 struct iam_error *err) IAM_MUST_CHECK;

/* --- members --- */

struct iam_group_member_input {
    const char *iam_id;
    const char *type; /* "user", "service" or "profile" */
};

/*
 * The outcome for one member (or one group in the _allgroups operations):
 * `status` is the HTTP status of the item (200 added, 204 removed, 400, 403,
 * 404, 409) and `error` its detail when the status is not 2xx.
 */
struct iam_group_member_outcome {
    const char *iam_id;
    const char *group_id;
    const char *type;
    const char *created_by;
    int64_t created_at_ms;
    int status;
    struct iam_error error;
};

/*
 * Adds up to IAM_GROUP_MEMBERS_PER_CALL_MAX members to group `group_id`.
 * Whole-request failures (group not found, permission, too many members)
 * return an error; otherwise IAM_OK with one outcome per input, in order:
 * 200 added, 404 the identity does not exist in the account, 409 already a
 * member, 400 unknown type or the identity is in 50 groups already.
 */
enum iam_result iam_group_members_add(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *group_id,
                                      const struct iam_group_member_input *members, size_t count,
                                      struct iam_group_member_outcome **outcomes,
                                      struct iam_error *err) IAM_MUST_CHECK;

/* IAM_OK when `iam_id` is a member of `group_id` (the public group: any identity of the account), else IAM_ENOTFOUND. */
enum iam_result iam_group_member_check(struct iam_service *service, struct iam_arena *arena,
                                       const struct iam_principal *who, const char *group_id, const char *iam_id,
                                       struct iam_error *err) IAM_MUST_CHECK;

struct iam_group_member_view {
    struct iam_group_member_record record;
    /* With verbose: */
    const char *name;        /* user: "given family" (or login); service ID: its name */
    const char *email;       /* users only */
    const char *description; /* service IDs only */
    const char *entity_id;   /* service ID: its ServiceId-<uuid> id (for hrefs); user: NULL */
};

struct iam_group_member_list_request {
    const char *type;  /* optional: "user", "service" or "profile" */
    bool verbose;      /* fill names and emails */
    bool dynamic_only; /* membership_type=dynamic: always empty here */
    int64_t offset;
    int64_t limit;     /* 1..100 */
};

struct iam_group_member_page {
    struct iam_group_member_view *items;
    size_t count;
    int64_t total;
};

/* Lists one page of the static members of a group (the public group lists none). */
enum iam_result iam_group_members_list(struct iam_service *service, struct iam_arena *arena,
                                       const struct iam_principal *who, const char *group_id,
                                       const struct iam_group_member_list_request *request,
                                       struct iam_group_member_page *out, struct iam_error *err) IAM_MUST_CHECK;

/* Removes one member; not a member: IAM_ENOTFOUND. */
enum iam_result iam_group_member_remove(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *group_id, const char *iam_id,
                                        struct iam_error *err) IAM_MUST_CHECK;

/* Removes up to 50 members; one outcome per iam_id: 204 removed, 404 not a member, 400 malformed. */
enum iam_result iam_group_members_remove(struct iam_service *service, struct iam_arena *arena,
                                         const struct iam_principal *who, const char *group_id,
                                         const char *const *iam_ids, size_t count,
                                         struct iam_group_member_outcome **outcomes,
                                         struct iam_error *err) IAM_MUST_CHECK;

/*
 * Removes `iam_id` from every group of `account_id` it is a static member
 * of; one outcome per group (204, or 403 when the caller may not remove
 * members of that group). A member of no group: IAM_ENOTFOUND.
 */
enum iam_result iam_group_member_remove_all(struct iam_service *service, struct iam_arena *arena,
                                            const struct iam_principal *who, const char *account_id,
                                            const char *iam_id, struct iam_group_member_outcome **outcomes,
                                            size_t *count, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Adds `iam_id` (of `type`) to up to 50 groups of `account_id`; one outcome
 * per group id, in order: 200, 404 group not found, 403, 409 already a
 * member, 400 public group or the 50-groups limit. The identity must exist in
 * the account (else IAM_ENOTFOUND for the whole request).
 */
enum iam_result iam_group_member_add_to_groups(struct iam_service *service, struct iam_arena *arena,
                                               const struct iam_principal *who, const char *account_id,
                                               const char *iam_id, const char *type, const char *const *group_ids,
                                               size_t count, struct iam_group_member_outcome **outcomes,
                                               struct iam_error *err) IAM_MUST_CHECK;

#endif
