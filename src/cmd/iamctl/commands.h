/*
 * commands.h: the command handlers, one file per family, and the look-ups
 * the families share (a service ID, user or access group given by name or
 * id; role names to role CRNs). Every handler returns an enum iamctl_exit.
 */
#ifndef IAMCTL_COMMANDS_H
#define IAMCTL_COMMANDS_H

#include <jansson.h>

#include "iamctl.h"

/* login.c: the session */
int iamctl_cmd_login(struct iamctl_context *context);
int iamctl_cmd_logout(struct iamctl_context *context);
int iamctl_cmd_target(struct iamctl_context *context);
int iamctl_cmd_oauth_tokens(struct iamctl_context *context);

/* serviceids.c */
int iamctl_cmd_service_ids(struct iamctl_context *context);
int iamctl_cmd_service_id(struct iamctl_context *context);
int iamctl_cmd_service_id_create(struct iamctl_context *context);
int iamctl_cmd_service_id_update(struct iamctl_context *context);
int iamctl_cmd_service_id_delete(struct iamctl_context *context);
int iamctl_cmd_service_id_lock(struct iamctl_context *context);
int iamctl_cmd_service_id_unlock(struct iamctl_context *context);

/*
 * The service ID named `text`: its id (ServiceId-…), iam_id (iam-ServiceId-…)
 * or name. A name that several service IDs carry is an error listing their
 * ids. *service_id is a new reference to the API's object.
 */
int iamctl_serviceid_resolve(struct iamctl_context *context, const char *text, json_t **service_id);

/* apikeys.c */
int iamctl_cmd_service_api_keys(struct iamctl_context *context);
int iamctl_cmd_service_api_key(struct iamctl_context *context);
int iamctl_cmd_service_api_key_create(struct iamctl_context *context);
int iamctl_cmd_service_api_key_update(struct iamctl_context *context);
int iamctl_cmd_service_api_key_delete(struct iamctl_context *context);
int iamctl_cmd_service_api_key_lock(struct iamctl_context *context);
int iamctl_cmd_service_api_key_unlock(struct iamctl_context *context);
int iamctl_cmd_service_api_key_disable(struct iamctl_context *context);
int iamctl_cmd_service_api_key_enable(struct iamctl_context *context);
int iamctl_cmd_api_keys(struct iamctl_context *context);
int iamctl_cmd_api_key(struct iamctl_context *context);
int iamctl_cmd_api_key_create(struct iamctl_context *context);
int iamctl_cmd_api_key_update(struct iamctl_context *context);
int iamctl_cmd_api_key_delete(struct iamctl_context *context);
int iamctl_cmd_api_key_lock(struct iamctl_context *context);
int iamctl_cmd_api_key_unlock(struct iamctl_context *context);
int iamctl_cmd_api_key_disable(struct iamctl_context *context);
int iamctl_cmd_api_key_enable(struct iamctl_context *context);

/* policies.c: policies of service IDs, users and access groups */
int iamctl_cmd_service_policies(struct iamctl_context *context);
int iamctl_cmd_service_policy(struct iamctl_context *context);
int iamctl_cmd_service_policy_create(struct iamctl_context *context);
int iamctl_cmd_service_policy_update(struct iamctl_context *context);
int iamctl_cmd_service_policy_delete(struct iamctl_context *context);
int iamctl_cmd_user_policies(struct iamctl_context *context);
int iamctl_cmd_user_policy(struct iamctl_context *context);
int iamctl_cmd_user_policy_create(struct iamctl_context *context);
int iamctl_cmd_user_policy_update(struct iamctl_context *context);
int iamctl_cmd_user_policy_delete(struct iamctl_context *context);
int iamctl_cmd_access_group_policies(struct iamctl_context *context);
int iamctl_cmd_access_group_policy(struct iamctl_context *context);
int iamctl_cmd_access_group_policy_create(struct iamctl_context *context);
int iamctl_cmd_access_group_policy_update(struct iamctl_context *context);
int iamctl_cmd_access_group_policy_delete(struct iamctl_context *context);

/* groups.c */
int iamctl_cmd_access_groups(struct iamctl_context *context);
int iamctl_cmd_access_group(struct iamctl_context *context);
int iamctl_cmd_access_group_create(struct iamctl_context *context);
int iamctl_cmd_access_group_update(struct iamctl_context *context);
int iamctl_cmd_access_group_delete(struct iamctl_context *context);
int iamctl_cmd_access_group_users(struct iamctl_context *context);
int iamctl_cmd_access_group_user_add(struct iamctl_context *context);
int iamctl_cmd_access_group_user_remove(struct iamctl_context *context);
int iamctl_cmd_access_group_service_ids(struct iamctl_context *context);
int iamctl_cmd_access_group_service_id_add(struct iamctl_context *context);
int iamctl_cmd_access_group_service_id_remove(struct iamctl_context *context);

/* The access group named `text` (its id or its name, any case). *group is a new reference. */
int iamctl_group_resolve(struct iamctl_context *context, const char *text, json_t **group);

/* users.c */
int iamctl_cmd_users(struct iamctl_context *context);
int iamctl_cmd_user_invite(struct iamctl_context *context);
int iamctl_cmd_user_remove(struct iamctl_context *context);

/* The user named `text`: iam_id (IBMid-…), login or e-mail (any case). *user is a new reference. */
int iamctl_user_resolve(struct iamctl_context *context, const char *text, json_t **user);

/* roles.c */
int iamctl_cmd_roles(struct iamctl_context *context);

/*
 * Turns `roles` (comma-separated display names, role names or role CRNs)
 * into an array of {"role_id": CRN} for a policy on `service_name` (NULL:
 * every service). An unknown role is an error listing the known ones.
 */
int iamctl_roles_resolve(struct iamctl_context *context, const char *service_name, const char *roles,
                         json_t **role_ids);

/* authz.c: decisions */
int iamctl_cmd_authz(struct iamctl_context *context);
int iamctl_cmd_explain(struct iamctl_context *context);

/* audit.c: the audit trail */
int iamctl_cmd_audit_events(struct iamctl_context *context);
int iamctl_cmd_audit_event(struct iamctl_context *context);

/* activity.c: the inactive-identities report */
int iamctl_cmd_activity_report(struct iamctl_context *context);
int iamctl_cmd_activity_report_get(struct iamctl_context *context);

/* keycheck.c: offline key inspection */
int iamctl_cmd_key_check(struct iamctl_context *context);

#endif
