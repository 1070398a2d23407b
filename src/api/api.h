/*
 * api.h: what every resource handler in api/ shares: the API context,
 * authentication of the caller, IBM-format error responses, JSON bodies,
 * query parameters and entity tags. Handlers stay thin: parse, call iam/,
 * render.
 */
#ifndef IAM_API_API_H
#define IAM_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "http/http.h"
#include "iam/principal.h"
#include "iam/service.h"

/* Who may read GET /metrics (see api/metrics.c). */
enum iam_api_metrics_access {
    IAM_API_METRICS_OFF,   /* 404, as if it did not exist: the default */
    IAM_API_METRICS_TOKEN, /* Authorization: Bearer <metrics_token> */
    IAM_API_METRICS_OPEN,  /* anyone (aggregate numbers only) */
};

struct iam_api {
    struct iam_service *service;
    enum iam_api_metrics_access metrics_access;
    const char *metrics_token;         /* for IAM_API_METRICS_TOKEN; not owned */
    const struct iam_router *router;   /* set by iam_api_metrics_register: per-route statistics */
};

/* Registers every route of the API (each resource file has its own register function). */
enum iam_result iam_api_register_all(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;

/* Per-resource registration, one per file in api/. */
enum iam_result iam_api_token_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
enum iam_result iam_api_serviceids_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
enum iam_result iam_api_apikeys_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
enum iam_result iam_api_settings_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
enum iam_result iam_api_stubs_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
enum iam_result iam_api_authz_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
enum iam_result iam_api_metrics_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;
enum iam_result iam_api_activity_register(struct iam_router *router, struct iam_api *api) IAM_MUST_CHECK;

/*
 * Authenticates the caller from "Authorization: Bearer <token>",
 * "Authorization: Basic base64(apikey:<key>)", or, with no Authorization
 * header, the console's session cookie (plus X-CSRF-Token on writes; see
 * api/console.c). On success fills `who` (arena
 * memory), sets request->log_identity and returns true. On failure writes a
 * 401 IBM error response and returns false; the handler just returns.
 */
bool iam_api_authenticate(struct iam_api *api, struct iam_http_request *request, struct iam_http_response *response,
                          struct iam_principal *who);

/*
 * Writes the IBM Identity error body for `err`:
 * {"errors":[{"code","message_code","message"}],"status_code":N,"trace":<request id>}
 * with the HTTP status chosen from err->result (EINVAL 400, EUNAUTH 401,
 * EDENIED 403, ENOTFOUND 404, ECONFLICT 409, ELOCKED 409, ETOOBIG 413,
 * EUNAVAILABLE 503, ETOOMANY 429, others 500).
 */
void iam_api_respond_error(struct iam_http_request *request, struct iam_http_response *response,
                           const struct iam_error *err);

/* Adds "Retry-After: <seconds>" (at least 1), as 429 answers carry. */
void iam_api_retry_after(struct iam_http_request *request, struct iam_http_response *response, int64_t seconds);

/* Builds the error in place and responds: iam_api_fail(req, resp, IAM_EINVAL, "BXNIM0109E", "Name is too long."). */
void iam_api_fail(struct iam_http_request *request, struct iam_http_response *response, enum iam_result result,
                  const char *message_code, const char *format, ...) IAM_PRINTF(5, 6);

/*
 * The server's own error responses (413 body too large, 400 malformed
 * request, 405) in the IBM error format; for iam_http_server_options.
 */
void iam_api_server_error(struct iam_http_request *request, struct iam_http_response *response, int status,
                          const char *message);

/*
 * Counts an answer given because the database failed (IAM_ESTORE) or the
 * service could not reach it (IAM_EUNAVAILABLE), for /metrics; other
 * results are ignored. iam_api_respond_error calls it.
 */
void iam_api_count_store_failure(enum iam_result result);

/* The HTTP status for a result. */
int iam_api_status_for(enum iam_result result);

/*
 * Parses the body as one JSON object (duplicate keys rejected). An empty body
 * gives an empty object when `allow_empty`, else IAM_EINVAL. `*object` is a new
 * reference the caller releases.
 */
enum iam_result iam_api_json_body(const struct iam_http_request *request, bool allow_empty, json_t **object,
                                  struct iam_error *err) IAM_MUST_CHECK;

/*
 * Rejects members of `object` not listed in `allowed` (NULL-terminated) with
 * IAM_EINVAL naming the first unknown member.
 */
enum iam_result iam_api_only_fields(const json_t *object, const char *const *allowed,
                                    struct iam_error *err) IAM_MUST_CHECK;

/*
 * Reads query parameter `name` as "true"/"false" (absent: `fallback`).
 * Anything else is IAM_EINVAL.
 */
enum iam_result iam_api_query_bool(const struct iam_http_request *request, const char *name, bool fallback,
                                   bool *value, struct iam_error *err) IAM_MUST_CHECK;

/* Reads a header as "true"/"false" (absent: false); anything else IAM_EINVAL. */
enum iam_result iam_api_header_bool(const struct iam_http_request *request, const char *name, bool *value,
                                    struct iam_error *err) IAM_MUST_CHECK;

/* Sets the ETag header (the entity tag, unquoted as IBM sends it). */
void iam_api_set_etag(struct iam_http_request *request, struct iam_http_response *response, const char *entity_tag);

/*
 * The If-Match value a PUT requires: missing or empty is IAM_EINVAL
 * ("If-Match header is required"); "*" gives NULL in `*expected` (any version).
 * Surrounding quotes and a W/ prefix are removed.
 */
enum iam_result iam_api_if_match(const struct iam_http_request *request, const char **expected,
                                 struct iam_error *err) IAM_MUST_CHECK;

#endif
