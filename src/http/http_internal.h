/*
 * http_internal.h: helpers shared by the files of src/http/ and nothing else.
 *
 * Not part of the http.h contract: other modules must not include this file.
 */
#ifndef IAM_HTTP_HTTP_INTERNAL_H
#define IAM_HTTP_HTTP_INTERNAL_H

#include <jansson.h>

#include "http/http.h"

/*
 * The HTTP layer's own error body, in the API's format:
 * {"errors":[{"code":code,"message":message}],"status_code":status,"trace":request_id}.
 * Used for the default 404/405/413/500 answers. NULL when out of memory.
 * The caller owns the returned reference.
 */
json_t *iam_http_error_body(const struct iam_http_request *request, int status, const char *code,
                            const char *message);

/*
 * Index of a method in the table of methods the server serves
 * (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS); -1 for any other method.
 */
int iam_http_method_index(const char *method);

/* The method at `index` of that table. */
const char *iam_http_method_name(int index);

struct MHD_Connection;

/* The client's address as text ("unknown" when MHD has none); IPv4-mapped IPv6 shown as IPv4. */
void iam_http_client_address(struct MHD_Connection *connection, char *out, size_t size);

/* The statistics the server charges requests that reach no route (its own 400/413/414/431). */
struct iam_http_route_stats *iam_router_unmatched_stats(const struct iam_router *router);

#define IAM_HTTP_METHOD_COUNT 7
#define IAM_HTTP_METHOD_GET 0
#define IAM_HTTP_METHOD_HEAD 1

#endif
