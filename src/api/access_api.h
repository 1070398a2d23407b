/*
 * access_api.h: registration of the access-management routes (IBM Policy
 * Management: v1 and v2 policies, custom roles, access settings; and our
 * service registry), and the helpers those handler files share: the
 * Policy Management error body and query readers. The lead adds the
 * register calls to iam_api_register_all. Endpoints: docs/api/policies.md.
 */
#ifndef IAM_API_ACCESS_API_H
#define IAM_API_ACCESS_API_H

#include <jansson.h>
#include <stdint.h>

#include "api/api.h"

/* /v1/policies[/{id}] and /v2/policies[/{id}] (api/policies.c). */
enum iam_result iam_api_policies_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
/* /v2/roles[/{id}] (api/roles.c). */
enum iam_result iam_api_roles_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
/* /v1/services[/{name}] (api/services.c). */
enum iam_result iam_api_services_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
/* /v1/accounts/{account_id}/settings/access_management (api/access_settings.c). */
enum iam_result iam_api_access_settings_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;

/*
 * Responds with the Policy Management error body
 * {"trace", "errors":[{"code","message","details"?}], "status_code"}: the
 * status from err->result, the code from err->code when it is one of IBM's
 * Policy Management codes, else the closest one (invalid_body, not_found,
 * insufficent_permissions, request_not_processed, unable_to_process...).
 * Steals `details` (may be NULL).
 */
void iam_api_access_error(struct iam_http_request *request, struct iam_http_response *response,
                          const struct iam_error *err, json_t *details);

/*
 * Reads query parameter `name` as an integer in [min, max] (absent: 0 in
 * `*value`); anything else is IAM_EINVAL "invalid_body".
 */
enum iam_result iam_api_access_query_integer(const struct iam_http_request *request, const char *name, int64_t min,
                                             int64_t max, int64_t *value, struct iam_error *err) IAM_MUST_CHECK;

/* A query parameter, NULL when absent or empty. */
const char *iam_api_access_query(const struct iam_http_request *request, const char *name);

#endif
