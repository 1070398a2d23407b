/*
 * accounts_api.h: registration of iamd's own account and user
 * administration routes (api/accounts.c, api/users.c; documented in
 * docs/api/accounts-users.md). The lead adds the calls to
 * iam_api_register_all.
 */
#ifndef IAM_API_ACCOUNTS_API_H
#define IAM_API_ACCOUNTS_API_H

#include "api/api.h"

/* POST/GET /v1/accounts, GET /v1/accounts/{account_id}. */
enum iam_result iam_api_accounts_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;

/* /v1/accounts/{account_id}/users[/{iam_id}[/password]]. */
enum iam_result iam_api_users_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;

/* The User model of both files: {iam_id, account_id, login, email, ..., entity_tag} (new reference; NULL on ENOMEM). */
struct iam_user_view;
json_t *iam_api_user_json(const struct iam_user_view *view);

#endif
