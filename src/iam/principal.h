/*
 * principal.h: who is calling, and the one place that decides what they may do.
 *
 * A principal is built by authentication (iam/authn.h) from a verified access
 * token or an API key. iam_authz_check() is the single authorization gate of
 * every management operation; handlers never compare accounts themselves.
 *
 * Rules, in order: another account's object is IAM_ENOTFOUND; the account
 * owner may do everything (except create service IDs or user API keys when
 * the account restricts it, as IBM does); the creator of a service ID
 * administers it (implicit, no policy written); otherwise the policy engine
 * decides. A refusal is IAM_EDENIED.
 */
#ifndef IAM_IAM_PRINCIPAL_H
#define IAM_IAM_PRINCIPAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

enum iam_principal_kind { IAM_PRINCIPAL_USER, IAM_PRINCIPAL_SERVICE_ID };

struct iam_principal {
    enum iam_principal_kind kind;
    const char *iam_id;     /* "IBMid-..." or "iam-ServiceId-..." */
    const char *account_id;
    const char *subject_id; /* "ServiceId-<uuid>" for service IDs, the iam_id for users */
    const char *name;       /* display name, may be NULL */
    const char *apikey_id;  /* the key used when authenticated by API key, else NULL */
    /* User details for token claims (NULL for service IDs). */
    const char *login;
    const char *email;
    const char *given_name;
    const char *family_name;
};

/* Actions, named as IBM names them. The built-in service definitions (iam/builtin_services.c) map roles to them. */
/* iam-identity (reference section 6.1) */
#define IAM_ACTION_SERVICEID_CREATE "iam-identity.serviceid.create"
#define IAM_ACTION_SERVICEID_READ "iam-identity.serviceid.get"
#define IAM_ACTION_SERVICEID_UPDATE "iam-identity.serviceid.update"
#define IAM_ACTION_SERVICEID_DELETE "iam-identity.serviceid.delete"
#define IAM_ACTION_SERVICEID_LOCK "iam-identity.serviceid.update" /* IBM gates locking by update */
#define IAM_ACTION_APIKEY_CREATE "iam-identity.apikey.create"
#define IAM_ACTION_APIKEY_READ "iam-identity.apikey.get"
#define IAM_ACTION_APIKEY_UPDATE "iam-identity.apikey.update"
#define IAM_ACTION_APIKEY_DELETE "iam-identity.apikey.delete"
#define IAM_ACTION_APIKEY_LOCK "iam-identity.apikey.update"
#define IAM_ACTION_APIKEY_DISABLE "iam-identity.apikey.update"
#define IAM_ACTION_ACCOUNT_APIKEYS_LIST "iam-identity.apikey.list"
#define IAM_ACTION_APIKEY_MANAGE "iam-identity.apikey.manage"       /* every key in the account */
#define IAM_ACTION_USER_APIKEY_CREATE "iam-identity.user-apikey.create" /* only when restricted */
#define IAM_ACTION_SETTINGS_READ "iam-identity.account.get"
#define IAM_ACTION_SETTINGS_UPDATE "iam-identity.account.update"
#define IAM_ACTION_TOKEN_INTROSPECT "iam-identity.token.introspect"
#define IAM_ACTION_AUDIT_READ "iam-identity.audit.read"
#define IAM_ACTION_ACTIVITY_REPORT_CREATE "iam-identity.activity-report.create" /* inactive-identities report */
#define IAM_ACTION_ACTIVITY_REPORT_READ "iam-identity.activity-report.get"
/* policy management: checked on the policy's TARGET resource (reference 3.7) */
#define IAM_ACTION_POLICY_READ "iam.policy.read"
#define IAM_ACTION_POLICY_CREATE "iam.policy.create"
#define IAM_ACTION_POLICY_UPDATE "iam.policy.update"
#define IAM_ACTION_POLICY_DELETE "iam.policy.delete"
/* custom roles */
#define IAM_ACTION_ROLE_READ "iam-access-management.customRole.get"
#define IAM_ACTION_ROLE_CREATE "iam-access-management.customRole.create"
#define IAM_ACTION_ROLE_UPDATE "iam-access-management.customRole.update"
#define IAM_ACTION_ROLE_DELETE "iam-access-management.customRole.delete"
#define IAM_ACTION_ACCESS_SETTINGS_READ "iam-access-management.settings.get"
#define IAM_ACTION_ACCESS_SETTINGS_UPDATE "iam-access-management.settings.update"
/* access groups */
#define IAM_ACTION_GROUP_CREATE "iam-groups.groups.create"
#define IAM_ACTION_GROUP_READ "iam-groups.groups.read"
#define IAM_ACTION_GROUP_LIST "iam-groups.groups.list"
#define IAM_ACTION_GROUP_UPDATE "iam-groups.groups.update"
#define IAM_ACTION_GROUP_DELETE "iam-groups.groups.delete"
#define IAM_ACTION_MEMBER_ADD "iam-groups.members.add"
#define IAM_ACTION_MEMBER_READ "iam-groups.members.read"
#define IAM_ACTION_MEMBER_LIST "iam-groups.members.list"
#define IAM_ACTION_MEMBER_DELETE "iam-groups.members.delete"
/* users of an account */
#define IAM_ACTION_USER_INVITE "user-management.user.create"
#define IAM_ACTION_USER_READ "user-management.user.read"
#define IAM_ACTION_USER_LIST "user-management.user.list"
#define IAM_ACTION_USER_UPDATE "user-management.user.update"
#define IAM_ACTION_USER_DELETE "user-management.user.delete"

struct iam_target_attribute {
    const char *name;
    const char *value;
};

/*
 * What an action applies to: the object's account and its resource
 * attributes as a policy would name them (serviceName, resourceType,
 * resource, and for policy management the whole target attribute set).
 */
struct iam_target {
    const char *account_id;    /* the account that owns the object (required) */
    const char *owner_iam_id;  /* the identity the object is or belongs to; NULL for account-level */
    const char *service_name;  /* "iam-identity", "iam-groups", ... (NULL: derived from the action's prefix) */
    const char *resource_type; /* "serviceid", "apikey", "accessgroup", ...; NULL: the whole service */
    const char *resource;      /* the object's id; NULL: the whole service or type */
    const char *created_by;    /* the object's creator (the creator rule), NULL when not applicable */
    /* Extra attributes (e.g. a policy's target resource for iam.policy.*); may be NULL. */
    const struct iam_target_attribute *attributes;
    size_t attribute_count;
};

struct iam_service;

/*
 * IAM_OK when `who` may do `action` on `target`. A target in another account
 * is IAM_ENOTFOUND (never a hint that it exists); a refusal in the same
 * account is IAM_EDENIED. `err` gets the IBM detail.
 */
enum iam_result iam_authz_check(struct iam_service *service, const struct iam_principal *who, const char *action,
                                const struct iam_target *target, struct iam_error *err) IAM_MUST_CHECK;

#endif
