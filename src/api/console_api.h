/*
 * console_api.h: the web console's server side (api/console.c, documented
 * in docs/api/console.md): the static assets built into the binary (web/),
 * sign-in sessions under /console/api/session, and authentication of API
 * calls by the session cookie, which iam_api_authenticate (api/common.c)
 * delegates here when a request has no Authorization header.
 */
#ifndef IAM_API_CONSOLE_API_H
#define IAM_API_CONSOLE_API_H

#include <stdbool.h>

#include "api/api.h"

#define IAM_CONSOLE_COOKIE "iamd_session"
#define IAM_CONSOLE_CSRF_HEADER "X-CSRF-Token"

/*
 * GET/HEAD /, /console, /console/<path> (assets and client-side routes) and
 * POST/GET/DELETE /console/api/session.
 */
enum iam_result iam_api_console_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;

/*
 * The value of the first iamd_session cookie of the request's Cookie header
 * (arena memory), NULL when there is none or it is empty.
 */
const char *iam_api_console_cookie(const struct iam_http_request *request);

/*
 * Authenticates the caller by the session cookie: the session must be live,
 * and for a method other than GET, HEAD and OPTIONS the request must carry
 * X-CSRF-Token equal to the session's token and, when it has an Origin
 * header, come from this server's own origin (the public URL or the request's
 * Host). Then the identity is re-read (a deleted or disabled identity, or a
 * revoked sign-in key, ends the session) and the session's idle timer restarts.
 * On success fills `who` (arena memory), sets request->log_identity and
 * returns true. Otherwise writes the IBM error response (401 and the cookie
 * cleared; 403 "csrf_token_invalid"; 503) and returns false.
 */
bool iam_api_console_authenticate(struct iam_api *api, struct iam_http_request *request,
                                  struct iam_http_response *response, struct iam_principal *who);

#endif
