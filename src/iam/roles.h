/*
 * roles.h: custom roles (IBM Policy Management /v2/roles, reference 3.4) and
 * the role catalogue a role list answers (custom, service and system roles).
 *
 * A custom role is a named set of actions of one service, in one account:
 *   id   lowercase hex of "customRole-<32 hex>-<Name>"
 *   crn  crn:v1:ibmcloud:public:iam-access-management::a/<account>::customRole:<Name>
 * Rules: name is capitalised alphanumeric (1..50) and unique in the account;
 * display_name 1..50 characters; description up to 250; 1..100 actions, each
 * defined by the role's service (iam_engine_action_exists) and prefixed
 * "<service_name>."; no two custom roles of an account and service hold the
 * same action set (409 role_conflict_error, the other role returned); at
 * most 40 custom roles per account (409 request_not_processed). name,
 * account_id and service_name never change. Deleting a role removes it from
 * every policy granting it (a policy left without roles is soft-deleted).
 * Authorization: iam_authz_check with IAM_ACTION_ROLE_* on the target
 * {account, resourceType customRole, resource <role id>}. Errors carry
 * IBM's Policy Management code (invalid_body, role_not_found,
 * role_conflict_error, insufficent_permissions, ...). Records are arena
 * memory.
 */
#ifndef IAM_IAM_ROLES_H
#define IAM_IAM_ROLES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "store/access_records.h"

#define IAM_ROLE_PER_ACCOUNT_MAX 40
#define IAM_ROLE_NAME_MAX 50
#define IAM_ROLE_DISPLAY_NAME_MAX 50
#define IAM_ROLE_DESCRIPTION_MAX 250
#define IAM_ROLE_ACTIONS_MAX 100

/*
 * Creates a custom role from a request body {name, display_name,
 * description?, actions[], account_id, service_name}. On
 * "role_conflict_error" `conflict` (may be NULL) receives the other role.
 */
enum iam_result iam_role_create(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const json_t *body, struct iam_role_record *out,
                                struct iam_role_record *conflict, struct iam_error *err) IAM_MUST_CHECK;

/* Reads custom role `id` of the caller's account. */
enum iam_result iam_role_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                             const char *id, struct iam_role_record *out, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Replaces display_name, description and actions of role `id` from a body
 * {display_name, actions[], description?} if its entity tag is
 * `expected_entity_tag` (NULL: any). name, account_id and service_name may be
 * repeated but not changed. Stale: 409 role_conflict_error with the current role.
 */
enum iam_result iam_role_replace(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *id, const char *expected_entity_tag,
                                 const json_t *body, struct iam_role_record *out, struct iam_role_record *conflict,
                                 struct iam_error *err) IAM_MUST_CHECK;

/* Deletes role `id` after removing it from every policy of the account. */
enum iam_result iam_role_delete(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *id,
                                struct iam_error *err) IAM_MUST_CHECK;

struct iam_role_list_request {
    const char *account_id;          /* optional: without it, no custom roles */
    const char *service_name;        /* optional; "alliamserviceroles": platform roles plus Reader/Writer/Manager */
    const char *source_service_name; /* accepted, not used (authorization roles are the service's) */
    const char *policy_type;         /* optional: access | authorization */
    const char *service_group_id;    /* optional, exclusive with service_name */
};

struct iam_role_collection {
    struct iam_role_record *custom_roles; /* arena array: the ones the caller may read */
    size_t custom_count;
    json_t *catalogue; /* {system_roles:[...], service_roles:[...]} from the engine; owned, release with json_decref */
};

/* The roles that apply to the request, as IBM's RoleCollection parts. */
enum iam_result iam_role_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                              const struct iam_role_list_request *request, struct iam_role_collection *out,
                              struct iam_error *err) IAM_MUST_CHECK;

/* IBM's CustomRole JSON for `record` (href absolute). New reference; NULL when out of memory. */
json_t *iam_role_render(struct iam_service *service, struct iam_arena *arena, const struct iam_role_record *record);

#endif
