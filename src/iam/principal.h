/*
 * principal.h: who is calling, and the one place that decides what they may do.
 *
 * A principal is built by authentication (iam/authn.h) from a verified access
 * token or an API key. iam_authz_check() is the single authorization gate of
 * every management operation; handlers never compare accounts themselves.
 *
 * Interim rule (until access policies land): an identity acts within its own
 * account only; a user may do anything in its account; a service ID may read
 * and manage only itself and its own API keys (it may not create service IDs,
 * nor read account settings).
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

/* Actions, named as IBM names them for the iam-identity service. */
#define IAM_ACTION_SERVICEID_CREATE "iam-identity.serviceid.create"
#define IAM_ACTION_SERVICEID_READ "iam-identity.serviceid.get"
#define IAM_ACTION_SERVICEID_UPDATE "iam-identity.serviceid.update"
#define IAM_ACTION_SERVICEID_DELETE "iam-identity.serviceid.delete"
#define IAM_ACTION_SERVICEID_LOCK "iam-identity.serviceid.lock"
#define IAM_ACTION_APIKEY_CREATE "iam-identity.apikey.create"
#define IAM_ACTION_APIKEY_READ "iam-identity.apikey.get"
#define IAM_ACTION_APIKEY_UPDATE "iam-identity.apikey.update"
#define IAM_ACTION_APIKEY_DELETE "iam-identity.apikey.delete"
#define IAM_ACTION_APIKEY_LOCK "iam-identity.apikey.lock"
#define IAM_ACTION_APIKEY_DISABLE "iam-identity.apikey.disable"
#define IAM_ACTION_ACCOUNT_APIKEYS_LIST "iam-identity.apikey.list"
#define IAM_ACTION_SETTINGS_READ "iam-identity.account.get"
#define IAM_ACTION_SETTINGS_UPDATE "iam-identity.account.update"
#define IAM_ACTION_TOKEN_INTROSPECT "iam-identity.token.introspect"

/* What an action applies to. */
struct iam_target {
    const char *account_id;   /* the account that owns the object (required) */
    const char *owner_iam_id; /* the identity the object is or belongs to; NULL for account-level */
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
