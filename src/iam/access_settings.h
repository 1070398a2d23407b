/*
 * access_settings.h: an account's access-management settings (IBM Policy
 * Management /v1/accounts/{account_id}/settings/access_management,
 * reference 3.5):
 *   {external_account_identity_interaction:{identity_types:{
 *      user|service_id|service:{state, external_allowed_accounts[]}}}}
 * state is enabled | monitor | limited (default enabled);
 * external_allowed_accounts lists account IDs (default []).
 *
 * An account that never stored settings has the defaults and the entity
 * tag "0-00000000000000000000000000000000". An update carries any subset of
 * the identity types and of their two fields; the rest stays. Reads need
 * IAM_ACTION_ACCESS_SETTINGS_READ, updates IAM_ACTION_ACCESS_SETTINGS_UPDATE
 * (target: the account, resourceType "settings"); another account's
 * settings are 404 not_found; a stale If-Match is 409
 * request_not_processed; bad input 400 invalid_body, nothing stored.
 */
#ifndef IAM_IAM_ACCESS_SETTINGS_H
#define IAM_IAM_ACCESS_SETTINGS_H

#include <jansson.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"

#define IAM_ACCESS_SETTINGS_ALLOWED_ACCOUNTS_MAX 100

struct iam_access_settings_view {
    const char *account_id; /* arena memory */
    const char *entity_tag; /* arena memory */
    json_t *settings;       /* the whole settings object; owned: iam_access_settings_view_release */
};

/* Reads the settings of `account_id` (defaults filled in). */
enum iam_result iam_access_settings_get(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *account_id,
                                        struct iam_access_settings_view *out, struct iam_error *err) IAM_MUST_CHECK;

/* Applies `changes` if the current entity tag is `expected_entity_tag` (NULL: any). */
enum iam_result iam_access_settings_update(struct iam_service *service, struct iam_arena *arena,
                                           const struct iam_principal *who, const char *account_id,
                                           const char *expected_entity_tag, const json_t *changes,
                                           struct iam_access_settings_view *out,
                                           struct iam_error *err) IAM_MUST_CHECK;

/* Releases what a view owns. NULL is allowed. */
void iam_access_settings_view_release(struct iam_access_settings_view *view);

#endif
