/*
 * connections.h: the server's open connections (connections.c), for
 * server.c only: the global connection cap and the whole-request deadline.
 */
#ifndef IAM_HTTP_CONNECTIONS_H
#define IAM_HTTP_CONNECTIONS_H

#include <microhttpd.h>

#include "common/error.h"

struct http_connections;

/*
 * A table for `max_connections` (0: no cap of ours) and `request_timeout_s`
 * (0: no deadline; otherwise a watchdog thread runs until
 * http_connections_stop_watchdog). Free with http_connections_free.
 */
enum iam_result http_connections_new(unsigned max_connections, unsigned request_timeout_s,
                                     struct http_connections **out, struct iam_error *err) IAM_MUST_CHECK;

/* Stops the watchdog thread (before MHD_stop_daemon). NULL is allowed. */
void http_connections_stop_watchdog(struct http_connections *connections);

/* Frees the table; every connection must be closed (after MHD_stop_daemon). NULL is allowed. */
void http_connections_free(struct http_connections *connections);

/* MHD_OPTION_NOTIFY_CONNECTION handler; `context` is the table. */
void http_connections_notify(void *context, struct MHD_Connection *connection, void **socket_context,
                             enum MHD_ConnectionNotificationCode code);

/* Called from MHD's callbacks for `connection`, in its thread: */
void http_connection_request_line(struct MHD_Connection *connection); /* a request line arrived */
void http_connection_request_read(struct MHD_Connection *connection); /* the request is in: no deadline now */
void http_connection_request_done(struct MHD_Connection *connection); /* answered: waiting for the next one */

#endif
