/*
 * fuzz_api.c: libFuzzer target for the request bodies, query strings and
 * path segments of the whole API, through the real handlers: an iamd service
 * (SQLite in a temporary directory, preferably on /dev/shm) and its HTTP
 * server run inside the fuzzer process, and each input is sent as one request
 * over a keep-alive loopback connection, authenticated as the account owner.
 * This reaches what the other targets cannot: the handlers' own readers
 * (static in the files of src/api/, e.g. the /v2/authz request parser), then
 * the domain checks in src/iam/ and the store behind them.
 *
 * Input: [route byte][rest]. The route byte picks a method and path from the
 * table below: a write route of every resource, the decision API and the
 * token endpoint take the rest as their body; list and read routes take it as
 * their query string, or as the path segment "{}" stands for. In the rest,
 * the placeholders $ACCOUNT, $ADMIN, $APIKEY, $SID, $SIDID, $GROUP, $KEYID,
 * $USER, $PID, $ROLE and $ROLECRN are replaced with the values of the objects
 * made at start, so seeds can name real objects (a mutated placeholder is
 * just text).
 *
 * Checked: the server answers every request (no hang, no connection closed
 * without an answer, no crash or sanitizer report anywhere in the process),
 * never with a 5xx (bad input is the client's error), always with a JSON body
 * (except 204 and HEAD), and a token issued just now is accepted. Objects a
 * request created are deleted again so the state stays small, and the
 * account settings a request changed are put back, so no input locks the
 * fuzzer out for the inputs after it.
 *
 * The database lives in a directory named after the process
 * (/dev/shm/iamd-fuzz-api-<pid>-*), removed at exit; directories of crashed
 * runs are removed by the next run. FUZZ_API_TRACE=1 prints every answer;
 * FUZZ_API_LOG=warn shows the server's log.
 */
#include "fuzz_common.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/api.h"
#include "common/arena.h"
#include "common/log.h"
#include "crypto/random.h"
#include "iam/bootstrap.h"
#include "iam/service.h"
#include "store/store.h"

#define BODY_MAX (64 * 1024)
#define RESPONSE_MAX (1024 * 1024)
#define REQUEST_MAX (BODY_MAX * 2 + 4096)

/* The settings a request may change, put back after every request to their routes. */
static const char identity_defaults[] =
    "{\"restrict_create_service_id\":\"NOT_SET\",\"restrict_create_platform_apikey\":\"NOT_SET\","
    "\"allowed_ip_addresses\":\"\",\"mfa\":\"NONE\",\"user_mfa\":[],"
    "\"session_expiration_in_seconds\":\"86400\",\"session_invalidation_in_seconds\":\"7200\","
    "\"max_sessions_per_identity\":\"NOT_SET\",\"system_access_token_expiration_in_seconds\":\"3600\","
    "\"system_refresh_token_expiration_in_seconds\":\"259200\","
    "\"restrict_user_list_visibility\":\"NOT_RESTRICTED\",\"restrict_user_domains\":[]}";
static const char access_defaults[] =
    "{\"external_account_identity_interaction\":{\"identity_types\":{"
    "\"user\":{\"state\":\"enabled\",\"external_allowed_accounts\":[]},"
    "\"service_id\":{\"state\":\"enabled\",\"external_allowed_accounts\":[]},"
    "\"service\":{\"state\":\"enabled\",\"external_allowed_accounts\":[]}}}}";

struct route {
    const char *method;
    const char *path;          /* with placeholders */
    bool form;                 /* application/x-www-form-urlencoded, else application/json */
    bool authenticated;        /* sends the owner's token */
    const char *cleanup;       /* on 201: DELETE this path, "%s" being the new id (NULL: nothing) */
    const char *id_member;     /* the member of the 201 body holding that id (NULL: "id") */
    const char *reset;         /* a JSON body sent again with the same method and path afterwards (NULL: none) */
    bool query;                /* the input is the query string (after path + "&"), or fills "{}" in the path */
};

/* The seeds (fuzz/seeds.py) name routes by their index here: keep the order. */
static const struct route routes[] = {
    {"POST", "/identity/token", true, false, NULL, NULL, NULL, false},
    {"POST", "/v1/serviceids", false, true, "/v1/serviceids/%s", NULL, NULL, false},
    {"PUT", "/v1/serviceids/$SIDID", false, true, NULL, NULL, NULL, false},
    {"POST", "/v1/apikeys", false, true, "/v1/apikeys/%s", NULL, NULL, false},
    {"PUT", "/v1/apikeys/$KEYID", false, true, NULL, NULL, NULL, false},
    {"POST", "/v1/policies", false, true, "/v1/policies/%s", NULL, NULL, false},
    {"PUT", "/v1/policies/$PID", false, true, NULL, NULL, NULL, false},
    {"PATCH", "/v1/policies/$PID", false, true, NULL, NULL, NULL, false},
    {"POST", "/v2/policies", false, true, "/v2/policies/%s", NULL, NULL, false},
    {"PUT", "/v2/policies/$PID", false, true, NULL, NULL, NULL, false},
    {"POST", "/v2/authz", false, true, NULL, NULL, NULL, false},
    {"PUT", "/v2/authz/bulk", false, true, NULL, NULL, NULL, false},
    {"POST", "/v2/authz/roles", false, true, NULL, NULL, NULL, false},
    {"POST", "/v2/authz/explain", false, true, NULL, NULL, NULL, false},
    {"POST", "/v2/groups?account_id=$ACCOUNT", false, true, "/v2/groups/%s?force=true", NULL, NULL, false},
    {"PATCH", "/v2/groups/$GROUP", false, true, NULL, NULL, NULL, false},
    {"PUT", "/v2/groups/$GROUP/members", false, true, NULL, NULL, NULL, false},
    {"POST", "/v2/groups/$GROUP/members/delete", false, true, NULL, NULL, NULL, false},
    {"PUT", "/v2/groups/_allgroups/members/$USER?account_id=$ACCOUNT", false, true, NULL, NULL, NULL, false},
    {"POST", "/v2/roles", false, true, "/v2/roles/%s", NULL, NULL, false},
    {"PUT", "/v2/roles/$ROLE", false, true, NULL, NULL, NULL, false},
    {"PUT", "/v1/services/fuzz-service", false, true, NULL, NULL, NULL, false},
    /* settings that could lock the owner out are put back after every request */
    {"PUT", "/v1/accounts/$ACCOUNT/settings/identity", false, true, NULL, NULL, identity_defaults, false},
    {"PATCH", "/v1/accounts/$ACCOUNT/settings/access_management", false, true, NULL, NULL, access_defaults, false},
    {"POST", "/v1/accounts/$ACCOUNT/users", false, true, "/v1/accounts/$ACCOUNT/users/%s", "iam_id", NULL, false},
    {"PATCH", "/v1/accounts/$ACCOUNT/users/$USER", false, true, NULL, NULL, NULL, false},
    {"POST", "/identity/introspect", true, true, NULL, NULL, NULL, false},
    /* list and read routes: the input is the query string (pagination, filters, sorts, flags) */
    {"GET", "/v1/serviceids?account_id=$ACCOUNT", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/serviceids/$SIDID?", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/apikeys?account_id=$ACCOUNT", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/apikeys/$KEYID?", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/policies?account_id=$ACCOUNT", false, true, NULL, NULL, NULL, true},
    {"GET", "/v2/policies?account_id=$ACCOUNT", false, true, NULL, NULL, NULL, true},
    {"GET", "/v2/groups?account_id=$ACCOUNT", false, true, NULL, NULL, NULL, true},
    {"GET", "/v2/groups/$GROUP/members?", false, true, NULL, NULL, NULL, true},
    {"GET", "/v2/roles?account_id=$ACCOUNT", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/accounts/$ACCOUNT/users?", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/accounts/$ACCOUNT/settings/identity?", false, true, NULL, NULL, NULL, true},
    /* the input is a path parameter (percent-decoded by MHD: any byte but NUL can arrive) */
    {"GET", "/v1/serviceids/{}", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/apikeys/{}", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/policies/{}", false, true, NULL, NULL, NULL, true},
    {"GET", "/v2/groups/{}", false, true, NULL, NULL, NULL, true},
    {"HEAD", "/v2/groups/$GROUP/members/{}", false, true, NULL, NULL, NULL, true},
    {"DELETE", "/v2/groups/$GROUP/members/{}", false, true, NULL, NULL, NULL, true},
    {"PUT", "/v2/groups/_allgroups/members/{}?account_id=$ACCOUNT", false, true, NULL, NULL, NULL, true},
    {"DELETE", "/v2/groups/_allgroups/members/{}?account_id=$ACCOUNT", false, true, NULL, NULL, NULL, true},
    {"GET", "/v2/roles/{}", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/services/{}", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/accounts/{}/settings/identity", false, true, NULL, NULL, NULL, true},
    {"GET", "/v1/accounts/$ACCOUNT/users/{}", false, true, NULL, NULL, NULL, true},
};
#define ROUTE_COUNT (sizeof routes / sizeof routes[0])

static struct iam_service *service;
static struct iam_router *router;
static struct iam_api api;
static struct iam_http_server *server;
static uint16_t port;
static int connection = -1;
static char token[8192];

/* Values of the placeholders, filled at start. */
enum { V_ACCOUNT, V_ADMIN, V_APIKEY, V_SID, V_SIDID, V_GROUP, V_KEYID, V_USER, V_PID, V_ROLE, V_ROLECRN, V_COUNT };
/* Longer names first where one is a prefix of another. */
static const char *const placeholder_names[V_COUNT] = {"$ACCOUNT", "$ADMIN", "$APIKEY", "$SIDID",   "$SID",   "$GROUP",
                                                       "$KEYID",   "$USER",  "$PID",    "$ROLECRN", "$ROLE"};
static const int placeholder_values[V_COUNT] = {V_ACCOUNT, V_ADMIN, V_APIKEY,  V_SIDID,  V_SID,  V_GROUP,
                                                V_KEYID,   V_USER,  V_PID,     V_ROLECRN, V_ROLE};
static char values[V_COUNT][160];

/* The input run before the current one: a connection the server closed silently may be its doing. */
static uint8_t previous_input[BODY_MAX];
static size_t previous_input_size;

static void save_previous_input(void)
{
    const char *name = getenv("FUZZ_API_PREVIOUS");
    FILE *out = fopen(name ? name : "fuzz_api-previous-input", "wb");
    if (out) {
        fwrite(previous_input, 1, previous_input_size, out);
        fclose(out);
        fprintf(stderr, "fuzz_api: the input before this one was written to %s\n",
                name ? name : "fuzz_api-previous-input");
    }
}

struct response {
    int status;
    char content_type[128];
    char *body;          /* malloc'd, NUL-terminated */
    size_t body_length;
    bool close;          /* "Connection: close": the server ends the connection after it */
};

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_api: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* Replaces the placeholders in `text` (`length` bytes); writes at most `size` - 1 bytes and a NUL. */
static size_t expand(const char *text, size_t length, char *out, size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < length && used + 1 < size;) {
        bool replaced = false;
        if (text[i] == '$') {
            for (int p = 0; p < V_COUNT; p++) {
                size_t name_length = strlen(placeholder_names[p]);
                if (length - i >= name_length && memcmp(text + i, placeholder_names[p], name_length) == 0) {
                    const char *value = values[placeholder_values[p]];
                    size_t value_length = strlen(value);
                    if (used + value_length + 1 >= size) {
                        out[used] = '\0';
                        return used;
                    }
                    memcpy(out + used, value, value_length);
                    used += value_length;
                    i += name_length;
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced)
            out[used++] = text[i++];
    }
    out[used] = '\0';
    return used;
}

static void disconnect(void)
{
    if (connection >= 0)
        close(connection);
    connection = -1;
}

static void connect_to_server(void)
{
    disconnect();
    connection = socket(AF_INET, SOCK_STREAM, 0);
    if (connection < 0)
        fail("socket", strerror(errno));
    struct timeval timeout = {.tv_sec = 20};
    setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    int one = 1;
    setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Interrupted (libFuzzer's SIGALRM), a connect goes on by itself: EISCONN or EALREADY then means that. */
    int connected = connect(connection, (struct sockaddr *)&address, sizeof address);
    while (connected != 0 && (errno == EINTR || errno == EALREADY)) {
        connected = connect(connection, (struct sockaddr *)&address, sizeof address);
        if (connected != 0 && errno == EISCONN)
            connected = 0;
    }
    if (connected != 0)
        fail("connect", strerror(errno));
}

static bool send_all(const char *data, size_t length)
{
    while (length) {
        ssize_t sent = send(connection, data, length, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue; /* libFuzzer's SIGALRM (the -timeout check) interrupts blocking calls */
        if (sent <= 0)
            return false;
        data += sent;
        length -= (size_t)sent;
    }
    return true;
}

/* Reads one response; false when the connection closed before a complete one. A read timeout is a hang. */
static bool receive(struct response *out, bool head)
{
    static char buffer[RESPONSE_MAX + 1];
    size_t used = 0;
    char *header_end = NULL;
    memset(out, 0, sizeof *out);
    while (!header_end) {
        if (used == RESPONSE_MAX)
            fail("response headers too large", NULL);
        ssize_t got = recv(connection, buffer + used, RESPONSE_MAX - used, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            fail("the server did not answer within 20 s", NULL);
        if (got <= 0)
            return false;
        used += (size_t)got;
        buffer[used] = '\0';
        header_end = strstr(buffer, "\r\n\r\n");
    }
    if (sscanf(buffer, "HTTP/1.%*d %d", &out->status) != 1)
        fail("malformed status line", buffer);
    size_t content_length = 0;
    bool has_length = false;
    for (char *line = strstr(buffer, "\r\n"); line && line < header_end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) {
            content_length = strtoul(line + 17, NULL, 10);
            has_length = true;
        } else if (strncasecmp(line + 2, "Content-Type:", 13) == 0) {
            sscanf(line + 15, " %127[^\r;]", out->content_type);
        } else if (strncasecmp(line + 2, "Connection:", 11) == 0) {
            out->close = strncasecmp(line + 13 + strspn(line + 13, " "), "close", 5) == 0;
        }
    }
    if (!has_length && out->status != 204 && out->status != 304)
        fail("response without Content-Length", buffer);
    size_t header_length = (size_t)(header_end + 4 - buffer);
    if (head)
        content_length = 0; /* the length of the body a GET would have had */
    if (content_length > RESPONSE_MAX - header_length)
        fail("response too large", NULL);
    while (used < header_length + content_length) {
        ssize_t got = recv(connection, buffer + used, header_length + content_length - used, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            fail("the server did not finish its answer within 20 s", NULL);
        if (got <= 0)
            return false;
        used += (size_t)got;
    }
    out->body = malloc(content_length + 1);
    if (!out->body)
        abort();
    memcpy(out->body, buffer + header_length, content_length);
    out->body[content_length] = '\0';
    out->body_length = content_length;
    return true;
}

/*
 * Sends one request and reads its answer. The connection is kept alive, and
 * opened again after an answer with "Connection: close". A connection that
 * ends without any answer is a finding: the request is never sent twice.
 */
static void exchange(const char *method, const char *path, const char *content_type, const char *body,
                     size_t body_length, bool authenticated, struct response *out)
{
    static char request[REQUEST_MAX];
    static char previous[512]; /* the exchange before, for the report when a connection ends unexpectedly */
    if (connection < 0)
        connect_to_server();
    int head = snprintf(request, sizeof request,
                        "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sIf-Match: *\r\n"
                        "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                        method, path, authenticated ? "Authorization: Bearer " : "", authenticated ? token : "",
                        authenticated ? "\r\n" : "", content_type ? content_type : "application/json", body_length);
    if (head < 0 || (size_t)head + body_length > sizeof request)
        fail("request too large", path);
    memcpy(request + head, body, body_length);
    if (!send_all(request, (size_t)head + body_length) || !receive(out, strcmp(method, "HEAD") == 0)) {
        fprintf(stderr, "fuzz_api: %s %s\nafter %s\n", method, path, previous);
        save_previous_input();
        fail("the server closed the connection without answering", NULL);
    }
    snprintf(previous, sizeof previous, "%s %.300s -> %d%s", method, path, out->status,
             out->close ? " (Connection: close)" : "");
    if (out->close)
        disconnect();
}

/* A JSON member of a response body, copied into `out`. */
static bool response_member(const struct response *response, const char *name, char *out, size_t size)
{
    json_t *body = json_loads(response->body, 0, NULL);
    const char *value = json_string_value(json_object_get(body, name));
    bool found = value && strlen(value) < size;
    if (found)
        memcpy(out, value, strlen(value) + 1);
    json_decref(body);
    return found;
}

/* A request the fixture needs: must answer `expected`; fills `member` from the body when asked. */
static void setup_request(const char *method, const char *path_template, const char *body_template, int expected,
                          const char *member, char *out, size_t size)
{
    char path[512], body[4096];
    expand(path_template, strlen(path_template), path, sizeof path);
    size_t length = expand(body_template, strlen(body_template), body, sizeof body);
    struct response response;
    exchange(method, path, NULL, body, length, true, &response);
    if (response.status != expected) {
        fprintf(stderr, "fuzz_api: setup %s %s answered %d: %s\n", method, path, response.status, response.body);
        abort();
    }
    if (member && !response_member(&response, member, out, size))
        fail("setup response lacks a member", member);
    free(response.body);
}

static void issue_token(void)
{
    char body[512];
    int length = snprintf(body, sizeof body, "grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=%s",
                          values[V_APIKEY]);
    struct response response;
    exchange("POST", "/identity/token", "application/x-www-form-urlencoded", body, (size_t)length, false, &response);
    if (response.status != 200 || !response_member(&response, "access_token", token, sizeof token))
        fail("the owner's API key no longer gets a token", response.body);
    free(response.body);
}

static const char cos_definition[] =
    "{\"name\":\"cloud-object-storage\",\"display_name\":\"Cloud Object Storage\",\"service_type\":\"service\","
    "\"actions\":[\"cloud-object-storage.object.get\",\"cloud-object-storage.object.put\","
    "\"cloud-object-storage.bucket.list\"],"
    "\"roles\":{\"Reader\":[\"cloud-object-storage.object.get\",\"cloud-object-storage.bucket.list\"],"
    "\"Writer\":[\"cloud-object-storage.object.get\",\"cloud-object-storage.object.put\"],"
    "\"ObjectReader\":{\"display_name\":\"Object Reader\",\"description\":\"Reads objects\","
    "\"actions\":[\"cloud-object-storage.object.get\"]}},\"resource_types\":[\"bucket\",\"object\"],"
    "\"pdp_clients\":[\"$ADMIN\"]}";
static const char fuzz_definition[] =
    "{\"name\":\"fuzz-service\",\"display_name\":\"Fuzz\",\"actions\":[\"fuzz-service.thing.read\"],"
    "\"roles\":{\"Reader\":[\"fuzz-service.thing.read\"]},\"pdp_clients\":[\"$ADMIN\"]}";

static char directory[160];

static int remove_entry(const char *path, const struct stat *status, int type, struct FTW *walk)
{
    (void)status;
    (void)type;
    (void)walk;
    if (remove(path) != 0)
        fprintf(stderr, "fuzz_api: could not remove %s: %s\n", path, strerror(errno));
    return 0;
}

/* Removes a directory tree (depth first, no symbolic links followed). */
static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_directory(void)
{
    if (directory[0])
        remove_tree(directory);
}

/* Removes the databases of earlier runs that crashed (their process is gone). */
static void remove_stale_directories(const char *parent)
{
    DIR *listing = opendir(parent);
    if (!listing)
        return;
    struct dirent *entry;
    while ((entry = readdir(listing))) {
        long pid = 0;
        if (sscanf(entry->d_name, "iamd-fuzz-api-%ld-", &pid) != 1 || pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[512];
        if (snprintf(path, sizeof path, "%s/%s", parent, entry->d_name) < (int)sizeof path)
            remove_tree(path);
    }
    closedir(listing);
}

static void start_service(void)
{
    struct stat shm;
    const char *parent = stat("/dev/shm", &shm) == 0 && S_ISDIR(shm.st_mode) ? "/dev/shm" : "/tmp";
    remove_stale_directories(parent);
    snprintf(directory, sizeof directory, "%s/iamd-fuzz-api-%ld-XXXXXX", parent, (long)getpid());
    if (!mkdtemp(directory))
        fail("mkdtemp", strerror(errno));
    atexit(remove_directory);
    char location[256];
    snprintf(location, sizeof location, "sqlite:%s/iamd.db", directory);
    struct iam_error err;
    struct iam_store *store = NULL;
    if (iam_store_open(location, &store, &err) != IAM_OK)
        fail("iam_store_open", err.message);
    uint8_t pepper[32], kek[IAM_AEAD_KEY_SIZE];
    if (iam_random_bytes(pepper, sizeof pepper) != IAM_OK || iam_random_bytes(kek, sizeof kek) != IAM_OK)
        fail("iam_random_bytes", NULL);
    struct iam_service_options options;
    iam_service_options_default(&options);
    if (iam_service_new(store, pepper, sizeof pepper, kek, &options, &service, &err) != IAM_OK)
        fail("iam_service_new", err.message);
    struct iam_arena *arena = iam_arena_new();
    struct iam_bootstrap_result bootstrap;
    if (!arena || iam_bootstrap(service, arena, "owner@fuzz.test", &bootstrap, &err) != IAM_OK || !bootstrap.created)
        fail("iam_bootstrap", err.message);
    snprintf(values[V_APIKEY], sizeof values[V_APIKEY], "%s", bootstrap.apikey);
    snprintf(values[V_ACCOUNT], sizeof values[V_ACCOUNT], "%s", bootstrap.account_id);
    snprintf(values[V_ADMIN], sizeof values[V_ADMIN], "%s", bootstrap.iam_id);
    iam_arena_free(arena);

    api.service = service;
    router = iam_router_new();
    if (!router || iam_api_register_all(router, &api) != IAM_OK)
        fail("iam_api_register_all", NULL);
    struct iam_http_server_options server_options = {.listen = "127.0.0.1:0", .threads = 1,
                                                     .max_body_bytes = BODY_MAX,
                                                     .error_responder = iam_api_server_error};
    if (iam_http_server_start(&server_options, router, &server, &err) != IAM_OK)
        fail("iam_http_server_start", err.message);
    port = iam_http_server_port(server);
}

static void make_fixtures(void)
{
    setup_request("PUT", "/v1/services/cloud-object-storage", cos_definition, 201, NULL, NULL, 0);
    setup_request("PUT", "/v1/services/fuzz-service", fuzz_definition, 201, NULL, NULL, 0);
    setup_request("POST", "/v1/serviceids", "{\"account_id\":\"$ACCOUNT\",\"name\":\"fuzz-app\"}", 201, "iam_id",
                  values[V_SID], sizeof values[V_SID]);
    snprintf(values[V_SIDID], sizeof values[V_SIDID], "%s", values[V_SID] + 4); /* "iam-" + id */
    setup_request("POST", "/v1/apikeys", "{\"name\":\"fuzz-key\",\"iam_id\":\"$SID\"}", 201, "id", values[V_KEYID],
                  sizeof values[V_KEYID]);
    setup_request("POST", "/v2/groups?account_id=$ACCOUNT", "{\"name\":\"fuzzers\"}", 201, "id", values[V_GROUP],
                  sizeof values[V_GROUP]);
    setup_request("POST", "/v1/policies",
                  "{\"type\":\"access\",\"subjects\":[{\"attributes\":[{\"name\":\"iam_id\",\"value\":\"$SID\"}]}],"
                  "\"roles\":[{\"role_id\":\"crn:v1:bluemix:public:iam::::serviceRole:Reader\"}],"
                  "\"resources\":[{\"attributes\":[{\"name\":\"accountId\",\"value\":\"$ACCOUNT\"},"
                  "{\"name\":\"serviceName\",\"value\":\"cloud-object-storage\"}]}]}",
                  201, "id", values[V_PID], sizeof values[V_PID]);
    setup_request("POST", "/v2/roles",
                  "{\"name\":\"FuzzAuditor\",\"display_name\":\"Fuzz auditor\",\"account_id\":\"$ACCOUNT\","
                  "\"service_name\":\"cloud-object-storage\",\"actions\":[\"cloud-object-storage.object.get\"]}",
                  201, "id", values[V_ROLE], sizeof values[V_ROLE]);
    setup_request("GET", "/v2/roles/$ROLE", "", 200, "crn", values[V_ROLECRN], sizeof values[V_ROLECRN]);
    setup_request("POST", "/v1/accounts/$ACCOUNT/users",
                  "{\"login\":\"member@fuzz.test\",\"email\":\"member@fuzz.test\",\"given_name\":\"M\","
                  "\"family_name\":\"F\"}",
                  201, "iam_id", values[V_USER], sizeof values[V_USER]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* FUZZ_API_LOG=warn|info|debug shows the server's own log lines (libmicrohttpd's among them). */
    enum iam_log_level level = IAM_LOG_ERROR;
    if (getenv("FUZZ_API_LOG") && iam_log_level_parse(getenv("FUZZ_API_LOG"), &level) != IAM_OK)
        level = IAM_LOG_ERROR;
    iam_log_set_level(level);
    start_service();
    issue_token();
    make_fixtures();
    return 0;
}

/* Deletes what a 201 created, so the state (and the engine's compile time) stays small. */
static void clean_up(const struct route *route, const struct response *response)
{
    char id[160], format[256], path[512];
    if (!route->cleanup || response->status != 201 ||
        !response_member(response, route->id_member ? route->id_member : "id", id, sizeof id))
        return;
    expand(route->cleanup, strlen(route->cleanup), format, sizeof format);
    const char *marker = strstr(format, "%s");
    if (!marker)
        fail("cleanup path without %s", route->cleanup);
    snprintf(path, sizeof path, "%.*s%s%s", (int)(marker - format), format, id, marker + 2);
    struct response deleted;
    exchange("DELETE", path, NULL, "", 0, true, &deleted);
    if (deleted.status != 204 && deleted.status != 200) {
        fprintf(stderr, "fuzz_api: DELETE %s answered %d: %s\nafter %s %s answered 201: %s\n", path, deleted.status,
                deleted.body, route->method, route->path, response->body);
        abort();
    }
    free(deleted.body);
}

/* Puts back what a settings route may have changed. */
static void reset(const struct route *route, const char *path)
{
    char body[2048];
    if (!route->reset)
        return;
    size_t length = expand(route->reset, strlen(route->reset), body, sizeof body);
    struct response response;
    exchange(route->method, path, NULL, body, length, true, &response);
    if (response.status != 200) {
        fprintf(stderr, "fuzz_api: resetting %s answered %d: %s\n", path, response.status, response.body);
        abort();
    }
    free(response.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[8192];
    static char body[BODY_MAX + 1];
    if (size < 1 || size > BODY_MAX)
        return 0;
    const struct route *route = &routes[data[0] % ROUTE_COUNT];
    size_t path_length = expand(route->path, strlen(route->path), path, sizeof path);
    size_t length = expand((const char *)data + 1, size - 1, body, sizeof body);
    if (route->query) {
        /*
         * Any number of query arguments: a query whose parameters would not fit libmicrohttpd's
         * pool is answered 414 by http_on_uri (src/http/server.c) instead of hanging (docs/fuzzing.md).
         */
        /* On the request line, escape what would end or break it; '%' stays for MHD to judge. */
        static const char hex[] = "0123456789ABCDEF";
        static char line[sizeof path];
        char *slot = strstr(path, "{}");
        size_t used = 0;
        if (slot) {
            used = (size_t)(slot - path);
            memcpy(line, path, used);
        } else {
            memcpy(line, path, path_length);
            used = path_length;
            if (line[used - 1] != '?')
                line[used++] = '&';
        }
        for (size_t i = 0; i < length && used + 4 < sizeof line; i++) {
            unsigned char c = (unsigned char)body[i];
            if (c <= 0x20 || c >= 0x7f || c == '#' || (slot && (c == '/' || c == '?'))) {
                line[used++] = '%';
                line[used++] = hex[c >> 4];
                line[used++] = hex[c & 15];
            } else {
                line[used++] = (char)c;
            }
        }
        if (slot) {
            size_t rest = strlen(slot + 2);
            if (used + rest >= sizeof line)
                return 0;
            memcpy(line + used, slot + 2, rest);
            used += rest;
        }
        line[used] = '\0';
        memcpy(path, line, used + 1);
        length = 0;
    }
    const char *content_type = route->form ? "application/x-www-form-urlencoded" : NULL;
    struct response response;
    exchange(route->method, path, content_type, body, length, route->authenticated, &response);
    if (route->authenticated && response.status == 401) { /* the token expired (long runs): renew, ask again */
        free(response.body);
        issue_token();
        exchange(route->method, path, content_type, body, length, true, &response);
        if (response.status == 401)
            fail("a token issued just now is refused", response.body);
    }
    if (getenv("FUZZ_API_TRACE")) /* to check that seeds reach the handlers they are meant for */
        fprintf(stderr, "fuzz_api: %s %s -> %d %.300s\n", route->method, path, response.status, response.body);
    if (response.status >= 500) {
        fprintf(stderr, "fuzz_api: %s %s answered %d: %s\n", route->method, path, response.status, response.body);
        abort();
    }
    if (response.status != 204 && strcmp(route->method, "HEAD") != 0) {
        json_t *parsed = json_loadb(response.body, response.body_length, 0, NULL);
        if (!parsed || strcmp(response.content_type, "application/json") != 0) {
            fprintf(stderr, "fuzz_api: %s %s answered %d with a non-JSON body (%s): %s\n", route->method, path,
                    response.status, response.content_type, response.body);
            abort();
        }
        json_decref(parsed);
    }
    clean_up(route, &response);
    reset(route, path);
    free(response.body);
    memcpy(previous_input, data, size);
    previous_input_size = size;
    return 0;
}
