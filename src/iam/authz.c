/*
 * authz.c: the single authorization gate (interim rule, see principal.h).
 * The access-policy engine replaces the body of iam_authz_check; callers
 * do not change.
 */
#include <string.h>

#include "iam/principal.h"
#include "iam/service.h"

/* Actions a service ID may take on itself or on its own keys. */
static const char *const service_id_self_actions[] = {
    IAM_ACTION_SERVICEID_READ, IAM_ACTION_SERVICEID_UPDATE, IAM_ACTION_SERVICEID_DELETE,
    IAM_ACTION_SERVICEID_LOCK, IAM_ACTION_APIKEY_CREATE,    IAM_ACTION_APIKEY_READ,
    IAM_ACTION_APIKEY_UPDATE,  IAM_ACTION_APIKEY_DELETE,    IAM_ACTION_APIKEY_LOCK,
    IAM_ACTION_APIKEY_DISABLE, IAM_ACTION_TOKEN_INTROSPECT, NULL,
};

static bool listed(const char *const *actions, const char *action)
{
    for (; *actions; actions++)
        if (strcmp(*actions, action) == 0)
            return true;
    return false;
}

enum iam_result iam_authz_check(struct iam_service *service, const struct iam_principal *who, const char *action,
                                const struct iam_target *target, struct iam_error *err)
{
    (void)service;
    if (!who || !who->account_id || !target || !target->account_id || !action)
        return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "Authorization check without a subject or target.");
    if (strcmp(who->account_id, target->account_id) != 0)
        return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0102E", "The requested object was not found.");
    if (who->kind == IAM_PRINCIPAL_USER)
        return IAM_OK;
    /* A service ID: itself and its own keys only. */
    if (strcmp(action, IAM_ACTION_TOKEN_INTROSPECT) == 0)
        return IAM_OK;
    if (target->owner_iam_id && strcmp(target->owner_iam_id, who->iam_id) == 0 &&
        listed(service_id_self_actions, action))
        return IAM_OK;
    return iam_error_set(err, IAM_EDENIED, "BXNIM0513E",
                         "You are not authorized to perform this action (%s).", action);
}
