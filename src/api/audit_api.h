/*
 * audit_api.h: the API side of the audit trail (api/audit.c): the router
 * hooks that record every state-changing request, and the read endpoints
 * GET /v1/audit/events[/{seq}] (docs/api/audit.md).
 */
#ifndef IAM_API_AUDIT_API_H
#define IAM_API_AUDIT_API_H

#include <stdbool.h>

#include "api/api.h"

struct iam_authn_refusal;

/* The actions of the batched records (docs/api/audit.md). */
#define IAM_AUDIT_ACTION_TOKEN "iam-identity.token.create"   /* every token request, issued or refused */
#define IAM_AUDIT_ACTION_AUTHENTICATE "iam-identity.authenticate" /* credentials refused by an API */

/*
 * Registers the read routes and installs the recording hooks on `router`
 * (iam_router_set_hooks). Every POST, PUT, PATCH and DELETE that matches a
 * route is recorded twice, except the token and decision endpoints
 * (/identity/..., /oidc/..., /v2/authz...): a "request" record before the
 * handler runs (in fail-closed mode a failure to write it answers 503 and
 * the handler never runs) and an "outcome" record after it.
 */
enum iam_result iam_api_audit_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;

/*
 * For iam_api_authenticate: the recording hook authenticates the caller of a
 * recorded request before the handler runs (so the request record names the
 * actor), and the handler's own authentication must give the same answer
 * without doing the work twice (no second credential check, no second count
 * of a failed attempt). When that earlier answer exists, fills `who` or the
 * refusal into `response`, sets `*ok` and returns true; returns false when
 * the caller must authenticate itself.
 */
bool iam_api_audit_authentication(struct iam_http_request *request, struct iam_http_response *response,
                                  struct iam_principal *who, bool *ok);

/*
 * Counts a token request (IAM_AUDIT_ACTION_TOKEN) or a failed authentication
 * (IAM_AUDIT_ACTION_AUTHENTICATE) in the service's audit batch
 * (iam/audit_batch.h): nothing is written now, the batch is flushed in the
 * background as aggregate records. Status and IBM error codes come from
 * `response` (the answer already made); `mechanism` is how the credentials
 * came (a grant type, "basic-apikey", "bearer"; NULL: unknown); `who` is the
 * identity tokens were issued to (NULL when refused); `refused` is what a
 * refused API key named (NULL: nothing known). Ids and codes only.
 */
void iam_api_audit_count(struct iam_api *api, const struct iam_http_request *request,
                         const struct iam_http_response *response, const char *action, const char *mechanism,
                         const struct iam_principal *who, const struct iam_authn_refusal *refused);

/*
 * Names the actor of a request that does not go through
 * iam_api_authenticate (the console's sign-in), for its outcome record.
 * `who` is copied (its strings must live in the request's arena).
 */
void iam_api_audit_set_actor(struct iam_http_request *request, const struct iam_principal *who);

#endif
