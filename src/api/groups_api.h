/*
 * groups_api.h: registration of the IBM Access Groups v2 routes
 * (api/groups.c). The lead adds the call to iam_api_register_all.
 */
#ifndef IAM_API_GROUPS_API_H
#define IAM_API_GROUPS_API_H

#include "api/api.h"

/* Registers /v2/groups and its member routes (see docs/api/groups.md). */
enum iam_result iam_api_groups_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;

#endif
