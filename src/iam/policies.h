/*
 * policies.h: access and authorization policies (IBM Policy Management API,
 * v1 and v2 shapes over one stored form).
 *
 * The stored (canonical) form is the v2 shape, kept as the `document` of an
 * iam_policy_record (see docs/api/policies.md "Stored form"):
 *   {type, description?, subject{attributes[{key,operator,value}]},
 *    resource{attributes[{key,operator,value}], tags[{key,operator,value}]?},
 *    control{grant{roles[{role_id}]}}, pattern?, rule?}
 * Every attribute carries its operator (a v1 attribute without one is
 * stringEquals). v1 bodies are converted into it; v1 and v2 responses are
 * rendered from it. A policy created through /v2 is shown by v1 as IBM's
 * "unsupported version" placeholder.
 *
 * Rules: every refusal of bad input is IAM_EINVAL with IBM's code
 * "invalid_body" and nothing is stored. The policy's account is its
 * resource's accountId; iam_authz_check() decides with
 * iam.policy.create/update/delete/read on a target made of the policy's
 * resource attributes (so only someone who may administer that target may
 * grant on it). A policy whose subject is a locked service ID cannot be
 * created, replaced, restored or deleted (IAM_ELOCKED, 409). An active policy
 * with the same type, subject and resource (attributes and tags, in any
 * order) is a conflict (IAM_ECONFLICT, "policy_conflict_error", the other
 * policy returned). Deletion is soft: state "deleted", restorable for 10
 * days with iam_policy_set_state(..., "active"); after that the policy is
 * gone (purged when next seen). After each write the decision engine is
 * refreshed (read-your-writes).
 *
 * Errors carry IBM's Policy Management code in err->code (invalid_body,
 * policy_not_found, policy_conflict_error, insufficent_permissions,
 * missing_required_query_parameter, request_not_processed, ...); the
 * message_code is empty. Records and strings are arena memory.
 */
#ifndef IAM_IAM_POLICIES_H
#define IAM_IAM_POLICIES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "store/access_records.h"

#define IAM_POLICY_PER_SUBJECT_MAX 1000
#define IAM_POLICY_VALUE_MAX 1000         /* characters of an attribute value */
#define IAM_POLICY_ANY_OF_MAX 10          /* values of a stringEqualsAnyOf / stringMatchAnyOf */
#define IAM_POLICY_ROLES_MAX 20
#define IAM_POLICY_ATTRIBUTES_MAX 20      /* resource attributes; subject attributes likewise */
#define IAM_POLICY_TAGS_MAX 10
#define IAM_POLICY_DESCRIPTION_MAX 300
#define IAM_POLICY_RULE_CONDITIONS_MAX 10 /* conditions of a rule, all levels together */
#define IAM_POLICY_RULE_DEPTH_MAX 2       /* nesting levels of and/or */
#define IAM_POLICY_RESTORE_WINDOW_MS (10LL * 24 * 3600 * 1000)
#define IAM_POLICY_LIST_LIMIT_DEFAULT 50
#define IAM_POLICY_LIST_LIMIT_MAX 100

/* The placeholder role of v2 policies seen through v1 (reference 3.2). */
#define IAM_POLICY_PLACEHOLDER_ROLE "crn:v1:bluemix:public:iam::::role:UnsupportedVersion"

/* Which wire shape a request uses and a response is rendered in. */
enum iam_policy_api { IAM_POLICY_API_V1, IAM_POLICY_API_V2 };

/*
 * Fills `err` like iam_error_set, then sets err->code to IBM's Policy
 * Management `code` (the message_code stays empty). Shared by the access
 * modules (policies, roles, service registry, access settings).
 */
enum iam_result iam_access_error(struct iam_error *err, enum iam_result result, const char *code,
                                 const char *format, ...) IAM_PRINTF(4, 5);

/* Refreshes the decision engine after a write (read-your-writes); a failure is logged. NULL engine: nothing. */
void iam_access_refresh(struct iam_service *service);

/* The client's error for a failed store call (ESTORE: 503; others: 500), code "unable_to_process". */
enum iam_result iam_access_store_failure(enum iam_result result, struct iam_error *err);

/*
 * Writes `when_ms` (milliseconds since the epoch) as IBM's policy timestamp
 * "2023-06-23T21:52:23.443Z" into `out` (at least 32 bytes).
 */
void iam_access_time_format(int64_t when_ms, char out[32]);

/* --- conversion (no store, no engine): structure, operators, lengths, rules --- */

/*
 * Converts a v1 request body ({type, subjects, roles, resources, description})
 * into the canonical form. Server-generated members (id, href, created_at,
 * state, ...) are ignored; any other unknown member is refused. `*canonical`
 * is a new reference. Structural problems: IAM_EINVAL "invalid_body".
 */
enum iam_result iam_policy_from_v1(const json_t *body, json_t **canonical, struct iam_error *err) IAM_MUST_CHECK;

/* Converts a v2 request body ({type, subject, resource, control, pattern, rule, description}). */
enum iam_result iam_policy_from_v2(const json_t *body, json_t **canonical, struct iam_error *err) IAM_MUST_CHECK;

/*
 * The v1 body of a canonical document ({type, description?, subjects, roles
 * [{role_id}], resources}); IAM_EINVAL when v1 cannot express it (v2
 * operators, conditions). `*v1` is a new reference.
 */
enum iam_result iam_policy_to_v1(const json_t *canonical, json_t **v1) IAM_MUST_CHECK;

/* The v2 body of a canonical document (a deep copy). NULL when out of memory. */
json_t *iam_policy_to_v2(const json_t *canonical);

/* --- operations --- */

/*
 * Creates a policy from a request body in the shape of `api`. On
 * "policy_conflict_error" `conflict` (may be NULL) receives the active policy
 * it collides with.
 */
enum iam_result iam_policy_create(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, enum iam_policy_api api, const json_t *body,
                                  struct iam_policy_record *out, struct iam_policy_record *conflict,
                                  struct iam_error *err) IAM_MUST_CHECK;

/* Reads policy `id` of the caller's account (deleted ones too, within the restore window). */
enum iam_result iam_policy_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                               const char *id, struct iam_policy_record *out, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Replaces policy `id` with `body` if its entity tag is `expected_entity_tag`
 * (NULL: any). The type cannot change; v1 cannot replace a policy created
 * through v2 (v2 may replace any, which makes it a v2 policy). A stale tag is
 * IAM_ECONFLICT "policy_conflict_error" with `conflict` = the current policy.
 */
enum iam_result iam_policy_replace(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, const char *id, const char *expected_entity_tag,
                                   enum iam_policy_api api, const json_t *body, struct iam_policy_record *out,
                                   struct iam_policy_record *conflict, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Sets the state of policy `id` to "active" (restore: re-validated like a
 * create) or "deleted", if its entity tag matches (NULL: any).
 */
enum iam_result iam_policy_set_state(struct iam_service *service, struct iam_arena *arena,
                                     const struct iam_principal *who, const char *id,
                                     const char *expected_entity_tag, const char *state,
                                     struct iam_policy_record *out, struct iam_policy_record *conflict,
                                     struct iam_error *err) IAM_MUST_CHECK;

/* Soft-deletes policy `id` (an already deleted policy is "policy_not_found"). */
enum iam_result iam_policy_delete(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, const char *id,
                                  struct iam_error *err) IAM_MUST_CHECK;

struct iam_policy_list_request {
    enum iam_policy_api api;
    const char *account_id;       /* required ("missing_required_query_parameter") */
    const char *iam_id;
    const char *access_group_id;
    const char *type;             /* access | authorization */
    const char *service_type;     /* service | platform_service */
    const char *service_name;     /* (the v2 list offers it) */
    const char *service_group_id; /* (the v2 list offers it) */
    const char *tag_name;
    const char *tag_value;
    const char *sort;             /* [-]id|type|href|created_at|last_modified_at|state */
    const char *state;            /* active (default) | deleted */
    const char *format;           /* include_last_permit | display (checked, used by the renderer) */
    const char *start;            /* opaque page token (a row offset) */
    int64_t limit;                /* 0: default 50; else 1..100 */
};

struct iam_policy_page {
    struct iam_policy_record *items; /* arena array, only policies the caller may read */
    size_t count;
    int64_t limit;
    const char *next_start;          /* NULL on the last page */
    const char *previous_start;      /* NULL on the first page */
};

/* One page of the policies the caller may read (others are skipped, never 403). */
enum iam_result iam_policy_list(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const struct iam_policy_list_request *request,
                                struct iam_policy_page *out, struct iam_error *err) IAM_MUST_CHECK;

/* --- rendering --- */

#define IAM_POLICY_RENDER_LAST_PERMIT 1u /* format=include_last_permit */
#define IAM_POLICY_RENDER_DISPLAY 2u     /* format=display: role display names, descriptions and actions */

/* Parses a `format` query value into render flags; IAM_EINVAL "invalid_body" when unknown. */
enum iam_result iam_policy_format_parse(const char *format, unsigned *flags, struct iam_error *err) IAM_MUST_CHECK;

/*
 * The response body of `record` in the shape of `api` (v1 enriches roles with
 * display_name and description; a v2 policy seen through v1 is the
 * placeholder), with id, href (absolute), state and IBM timestamps.
 * A new reference; NULL when out of memory.
 */
json_t *iam_policy_render(struct iam_service *service, struct iam_arena *arena, const struct iam_policy_record *record,
                          enum iam_policy_api api, unsigned flags);

/* --- used by custom roles --- */

/*
 * Removes `role_crn` from every policy of `account_id` that grants it (a
 * policy left without roles is soft-deleted). No authorization: the caller
 * (role deletion) has authorized. `*changed` counts the policies rewritten.
 */
enum iam_result iam_policy_remove_role(struct iam_service *service, struct iam_arena *arena,
                                       const struct iam_principal *who, const char *account_id, const char *role_crn,
                                       size_t *changed, struct iam_error *err) IAM_MUST_CHECK;

#endif
