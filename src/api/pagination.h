/*
 * pagination.h: paging of the Identity API's list responses (pagesize,
 * pagetoken; offset, limit, first, previous, next), plus the few request
 * readers and model renderers that more than one resource file needs
 * (typed body members, history records, API keys). Those last ones belong
 * with api.h; they live here until the owner of api.h takes them.
 *
 * A pagetoken is unpadded base64url of {"o":<offset>,"f":{<filter>:<value>}}:
 * it carries the whole query, so a request with a pagetoken needs no other
 * filter (IBM: account_id is required "unless using a pagetoken"). When a
 * pagetoken is present, its filters win over the request's.
 */
#ifndef IAM_API_PAGINATION_H
#define IAM_API_PAGINATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "common/buf.h"
#include "common/error.h"
#include "http/http.h"
#include "iam/apikeys.h"
#include "store/records.h"

#define IAM_API_PAGESIZE_DEFAULT 20
#define IAM_API_PAGESIZE_MAX 100
#define IAM_API_PAGE_FILTERS_MAX 12
#define IAM_API_PAGETOKEN_MAX 2048 /* characters */

struct iam_api_page_filter {
    const char *name;  /* one of the list's filter names */
    const char *value; /* arena memory */
};

/* One page of a list request. */
struct iam_api_page {
    int64_t offset;
    int64_t limit; /* the pagesize asked for */
    const char *const *filter_names; /* as given to iam_api_page_parse */
    size_t filter_count;
    struct iam_api_page_filter filters[IAM_API_PAGE_FILTERS_MAX];
};

/*
 * Reads pagesize (1..100, default 20) and pagetoken. `filter_names`
 * (NULL-terminated, at most IAM_API_PAGE_FILTERS_MAX) are the query parameters
 * that define the list; their values come from the pagetoken when there is
 * one, else from the request. A bad pagesize or a malformed pagetoken:
 * IAM_EINVAL "BXNIM0110E".
 */
enum iam_result iam_api_page_parse(const struct iam_http_request *request, const char *const *filter_names,
                                   struct iam_api_page *page, struct iam_error *err) IAM_MUST_CHECK;

/* The value of filter `name` for this page; NULL when absent. */
const char *iam_api_page_filter(const struct iam_api_page *page, const char *name);

/*
 * Adds offset, limit and first to `body`, previous when offset > 0 and next
 * only when `has_more`. Links are absolute: options.public_url + `path` +
 * the request's other query parameters (pagesize, include_history...) + the
 * page's filters (so a pagetoken-only request still links to the same list)
 * + a new pagetoken for previous and next.
 */
enum iam_result iam_api_page_links(struct iam_http_request *request, const struct iam_api *api, const char *path,
                                   const struct iam_api_page *page, bool has_more, json_t *body,
                                   struct iam_error *err) IAM_MUST_CHECK;

/*
 * Responds 200 with the paging fields and `items` under `name`
 * ({"offset", "limit", "first", "previous"?, "next"?, name: [...]}).
 * Steals `items`; NULL (out of memory) gives a 500 error response.
 */
void iam_api_page_respond(struct iam_http_request *request, struct iam_http_response *response,
                          const struct iam_api *api, const char *path, const struct iam_api_page *page, bool has_more,
                          const char *name, json_t *items);

/* --- request readers shared by the resource files --- */

/*
 * Reads member `name` of `body` as a string: absent leaves `*value` NULL,
 * any other JSON type is IAM_EINVAL "BXNIM0109E".
 */
enum iam_result iam_api_body_string(const json_t *body, const char *name, const char **value,
                                    struct iam_error *err) IAM_MUST_CHECK;

/* Reads member `name` as a boolean; `*present` tells whether it was there. */
enum iam_result iam_api_body_bool(const json_t *body, const char *name, bool *present, bool *value,
                                  struct iam_error *err) IAM_MUST_CHECK;

/*
 * Reads member `name` as an IBM timestamp into `*when` (absent: `*present`
 * false; "" gives 0, meaning "none").
 */
enum iam_result iam_api_body_time(const json_t *body, const char *name, bool *present, int64_t *when,
                                  struct iam_error *err) IAM_MUST_CHECK;

/* Wipes a body member's string in place (a client-supplied key value) before the body is released. */
void iam_api_body_wipe_string(json_t *body, const char *name);

/* --- query helpers shared by the resource files --- */

/* True when `text` is a decimal page size from 1 to `max` (at most three digits), stored in *value. */
bool iam_api_page_size_parse(const char *text, int64_t max, int64_t *value);

/* Appends `text` percent-encoded (all but RFC 3986's unreserved characters) to `buf`. */
enum iam_result iam_api_append_url_encoded(struct iam_buf *buf, const char *text) IAM_MUST_CHECK;

/* A pagetoken: `object` dumped as JSON with `dump_flags`, base64url-encoded, in the arena; NULL when out of memory. */
const char *iam_api_token_from_json(struct iam_arena *arena, const json_t *object, size_t dump_flags);

/* --- renderers shared by the resource files (new references; NULL when out of memory) --- */

/* An IBM timestamp string ("YYYY-MM-DDTHH:MM+0000"). */
json_t *iam_api_time_json(int64_t when);

/* A timestamp with milliseconds, as access groups and audit records show them: "2023-06-23T21:52:23.443Z". */
json_t *iam_api_time_ms_json(int64_t milliseconds);

/* IBM's EnityHistoryRecord array. */
json_t *iam_api_history_json(const struct iam_history_record *items, size_t count);

/* IBM's ApiKey model: "apikey" is the value when known, else "". */
json_t *iam_api_apikey_json(const struct iam_apikey_view *view);

#endif
