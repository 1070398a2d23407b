/*
 * connections.c: every open connection of the server, to cap their number
 * across libmicrohttpd's worker threads and to cut requests that take too
 * long to arrive.
 *
 * MHD's own limits fall short of both: MHD_OPTION_CONNECTION_LIMIT is split
 * evenly between the worker threads (a busy thread refuses while another is
 * empty), and MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout, which a
 * client sending one byte a second never reaches (slow loris).
 *
 * Each connection gets a struct http_conn (MHD's socket context), linked in
 * a list under a mutex taken only at open and close and by the watchdog.
 * Its state is one atomic: WAITING (between requests), RECEIVING since a
 * time, or HANDLING (the request is read; the answer is under way).
 * - open: RECEIVING since now (the first request, TLS handshake included,
 *   is timed from the accept);
 * - request line parsed: RECEIVING since now, unless already receiving;
 * - request read, or refused: HANDLING;
 * - request completed: WAITING.
 * The watchdog wakes four times a second. A WAITING connection whose kernel
 * byte count (TCP_INFO tcpi_bytes_received) moved since it began waiting has
 * started a request: RECEIVING since now, so a request line trickled in
 * byte by byte is timed as well. A connection RECEIVING for longer than the
 * timeout is shut down (shutdown(2)); MHD reads the end of the stream and
 * closes it. The descriptor stays MHD's: MHD closes it only after the close
 * notification, which takes the list's mutex, so the watchdog never touches
 * a descriptor that already belongs to another connection.
 */
#include "http/connections.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/time.h"
#include "http/http_internal.h"

#define CONN_WAITING 0
#define CONN_HANDLING (-1)
#define WATCHDOG_TICK_NS (250LL * 1000 * 1000)

struct http_conn {
    struct http_conn *prev, *next; /* in the table's list, under its mutex */
    MHD_socket fd;
    atomic_int_fast64_t state;     /* CONN_WAITING, CONN_HANDLING, or receiving since (monotonic ns, > 0) */
    atomic_uint generation;        /* requests completed */
    /* The watchdog's own, under the mutex: */
    bool cut;
    bool baseline_valid;
    unsigned baseline_generation;
    uint64_t baseline_bytes;
    char client[INET6_ADDRSTRLEN];
};

struct http_connections {
    unsigned max_connections;
    int64_t timeout_ns;
    atomic_uint active;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct http_conn *head;
    pthread_t watchdog;
    bool watchdog_running;
    bool stopping;                 /* under lock */
};

static struct http_conn *conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static int64_t receiving_since_now(void)
{
    int64_t now = iam_monotonic_ns();
    return now > 0 ? now : 1;
}

void http_connection_request_line(struct MHD_Connection *connection)
{
    struct http_conn *conn = conn_of(connection);
    if (!conn)
        return;
    int_fast64_t waiting = CONN_WAITING;
    atomic_compare_exchange_strong(&conn->state, &waiting, receiving_since_now());
}

void http_connection_request_read(struct MHD_Connection *connection)
{
    struct http_conn *conn = conn_of(connection);
    if (conn)
        atomic_store(&conn->state, CONN_HANDLING);
}

void http_connection_request_done(struct MHD_Connection *connection)
{
    struct http_conn *conn = conn_of(connection);
    if (!conn)
        return;
    /* The generation first: the watchdog takes a new byte baseline for the new wait. */
    atomic_fetch_add(&conn->generation, 1);
    atomic_store(&conn->state, CONN_WAITING);
}

/* Bytes the kernel received on `fd` so far; false when unknown (not TCP, or a kernel before 4.1). */
static bool tcp_bytes_received(MHD_socket fd, uint64_t *bytes)
{
    struct tcp_info info;
    socklen_t length = sizeof info;
    memset(&info, 0, sizeof info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0)
        return false;
    if (length < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
        return false;
    *bytes = info.tcpi_bytes_received;
    return true;
}

/* One connection's check; called by the watchdog with the mutex held. */
static void watchdog_check(struct http_connections *table, struct http_conn *conn, int64_t now)
{
    if (conn->cut)
        return;
    int64_t state = atomic_load(&conn->state);
    if (state == CONN_HANDLING)
        return;
    if (state == CONN_WAITING) {
        unsigned generation = atomic_load(&conn->generation);
        uint64_t bytes = 0;
        if (!tcp_bytes_received(conn->fd, &bytes))
            return;
        if (!conn->baseline_valid || conn->baseline_generation != generation) {
            conn->baseline_valid = true;
            conn->baseline_generation = generation;
            conn->baseline_bytes = bytes;
            return;
        }
        if (bytes == conn->baseline_bytes)
            return;
        int_fast64_t waiting = CONN_WAITING;
        int64_t since = receiving_since_now();
        if (atomic_compare_exchange_strong(&conn->state, &waiting, since) &&
            atomic_load(&conn->generation) != generation) {
            /* A whole request came and went meanwhile: those bytes were its; wait again. */
            int_fast64_t mine = since;
            atomic_compare_exchange_strong(&conn->state, &mine, CONN_WAITING);
        }
        return;
    }
    if (now - state <= table->timeout_ns)
        return;
    conn->cut = true;
    shutdown(conn->fd, SHUT_RDWR);
    iam_metrics_add(IAM_METRIC_CONNECTIONS_TIMED_OUT, 1);
    iam_log(IAM_LOG_WARN, "http_request_timeout",
            "client %s did not send its request within %lld s; connection closed", conn->client,
            (long long)(table->timeout_ns / 1000000000LL));
}

static void *watchdog_main(void *argument)
{
    struct http_connections *table = argument;
    pthread_mutex_lock(&table->lock);
    while (!table->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += WATCHDOG_TICK_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += 1;
            until.tv_nsec -= 1000000000L;
        }
        int waited = 0;
        while (!table->stopping && waited != ETIMEDOUT)
            waited = pthread_cond_timedwait(&table->wake, &table->lock, &until);
        if (table->stopping)
            break;
        int64_t now = iam_monotonic_ns();
        for (struct http_conn *conn = table->head; conn; conn = conn->next)
            watchdog_check(table, conn, now);
    }
    pthread_mutex_unlock(&table->lock);
    return NULL;
}

void http_connections_notify(void *context, struct MHD_Connection *connection, void **socket_context,
                             enum MHD_ConnectionNotificationCode code)
{
    struct http_connections *table = context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        unsigned active = atomic_fetch_add(&table->active, 1) + 1;
        iam_metrics_add(IAM_METRIC_CONNECTIONS_ACTIVE, 1);
        iam_metrics_add(IAM_METRIC_CONNECTIONS_ACCEPTED, 1);
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        MHD_socket fd = info ? info->connect_fd : MHD_INVALID_SOCKET;
        struct http_conn *conn = calloc(1, sizeof *conn);
        *socket_context = conn;
        if (!conn || fd == MHD_INVALID_SOCKET) {
            /* Untracked connections are not served: refuse rather than run without a deadline. */
            if (fd != MHD_INVALID_SOCKET)
                shutdown(fd, SHUT_RDWR);
            return;
        }
        conn->fd = fd;
        atomic_init(&conn->state, receiving_since_now());
        iam_http_client_address(connection, conn->client, sizeof conn->client);
        if (table->max_connections && active > table->max_connections) {
            /* Over the cap: accepted by the kernel, closed at once, before any TLS or HTTP. */
            shutdown(fd, SHUT_RDWR);
            conn->cut = true;
            iam_metrics_add(IAM_METRIC_CONNECTIONS_REFUSED, 1);
            iam_log(IAM_LOG_WARN, "http_connection_refused", "client %s: %u connections open (--max-connections)",
                    conn->client, active - 1);
        }
        pthread_mutex_lock(&table->lock);
        conn->next = table->head;
        if (table->head)
            table->head->prev = conn;
        table->head = conn;
        pthread_mutex_unlock(&table->lock);
        return;
    }
    if (code != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    struct http_conn *conn = *socket_context;
    *socket_context = NULL;
    atomic_fetch_sub(&table->active, 1);
    iam_metrics_add(IAM_METRIC_CONNECTIONS_ACTIVE, -1);
    if (!conn)
        return;
    pthread_mutex_lock(&table->lock);
    if (conn->prev)
        conn->prev->next = conn->next;
    else if (table->head == conn)
        table->head = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    pthread_mutex_unlock(&table->lock);
    free(conn);
}

enum iam_result http_connections_new(unsigned max_connections, unsigned request_timeout_s,
                                     struct http_connections **out, struct iam_error *err)
{
    *out = NULL;
    struct http_connections *table = calloc(1, sizeof *table);
    if (!table)
        return iam_error_set(err, IAM_ENOMEM, NULL, "out of memory");
    table->max_connections = max_connections;
    table->timeout_ns = (int64_t)request_timeout_s * 1000000000LL;
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_mutex_init(&table->lock, NULL);
    pthread_cond_init(&table->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    if (request_timeout_s > 0) {
        if (pthread_create(&table->watchdog, NULL, watchdog_main, table) != 0) {
            http_connections_free(table);
            return iam_error_set(err, IAM_EUNAVAILABLE, NULL, "cannot start the request-timeout thread");
        }
        table->watchdog_running = true;
    }
    *out = table;
    return IAM_OK;
}

void http_connections_stop_watchdog(struct http_connections *table)
{
    if (!table || !table->watchdog_running)
        return;
    pthread_mutex_lock(&table->lock);
    table->stopping = true;
    pthread_cond_signal(&table->wake);
    pthread_mutex_unlock(&table->lock);
    pthread_join(table->watchdog, NULL);
    table->watchdog_running = false;
}

void http_connections_free(struct http_connections *table)
{
    if (!table)
        return;
    http_connections_stop_watchdog(table);
    /* MHD_stop_daemon notified every close; anything left was never closed by MHD. */
    for (struct http_conn *conn = table->head, *next = NULL; conn; conn = next) {
        next = conn->next;
        free(conn);
    }
    pthread_cond_destroy(&table->wake);
    pthread_mutex_destroy(&table->lock);
    free(table);
}
