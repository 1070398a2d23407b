/*
 * main.c: the iamd program: settings, secrets, store, domain, bootstrap,
 * HTTP server, and an orderly stop on SIGINT or SIGTERM. SIGHUP reloads the
 * TLS certificate and key.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "common/config.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/time.h"
#include "crypto/hash.h"
#include "http/http.h"
#include "iam/bootstrap.h"
#include "iam/service.h"
#include "iam/service_registry.h"
#include "db_command.h"
#include "commands.h"
#include "secrets.h"

struct iamd_settings {
    const char *listen;
    const char *data_dir;
    const char *database;
    const char *public_url;
    const char *token_alg;
    const char *key_prefix;
    const char *admin_login;
    const char *log_level;
    const char *service_definitions;
    const char *audit_mode;
    const char *pepper;
    const char *kek;
    int64_t threads;
    int64_t token_ttl;
    int64_t refresh_token_ttl;
    int64_t key_rotation;
    int64_t jwks_cache_ttl;
    int64_t clock_leeway;
    int64_t usage_flush_ms;
    int64_t max_body;
    int64_t max_connections;
    int64_t connection_timeout;
    int64_t decision_cache_ttl;
    int64_t engine_refresh_ms;
    const char *tls_cert;
    const char *tls_key;
    const char *metrics;
    const char *metrics_token;
    int64_t max_header_bytes;
    int64_t request_timeout;
    int64_t max_staleness;
    int64_t failed_auth_per_address;
    int64_t failed_auth_per_key;
    int64_t failed_auth_window;
};

#define STRING(flag, env, def, help, field) \
    {flag, env, IAM_SETTING_STRING, def, 0, 0, false, help, &settings->field, NULL, NULL}
#define SECRET(env, help, field) \
    {env, env, IAM_SETTING_STRING, "", 0, 0, true, help, &settings->field, NULL, NULL}
#define INTEGER(flag, env, def, min, max, help, field) \
    {flag, env, IAM_SETTING_INTEGER, def, min, max, false, help, NULL, &settings->field, NULL}

static size_t settings_table(struct iamd_settings *settings, struct iam_setting *table)
{
    const struct iam_setting entries[] = {
        STRING("listen", "IAMD_LISTEN", "127.0.0.1:8080", "Address and port to serve HTTP on (ADDR:PORT, [IPv6]:PORT).",
               listen),
        STRING("data-dir", "IAMD_DATA_DIR", "./var",
               "Directory for the SQLite database, the secrets and bootstrap-apikey.json.", data_dir),
        STRING("database", "IAMD_DATABASE_URL", "",
               "Database: sqlite:PATH or postgres://user:password@host:port/db?pool_size=N (default sqlite:<data-dir>/iamd.db).", database),
        STRING("public-url", "IAMD_PUBLIC_URL", "",
               "Base URL clients use to reach iamd; tokens' issuer is <public-url>/identity (default http://<listen>).",
               public_url),
        STRING("token-alg", "IAMD_TOKEN_ALG", "RS256", "Access-token signing algorithm: RS256, ES256 or EdDSA.",
               token_alg),
        STRING("key-prefix", "IAMD_KEY_PREFIX", "iamd",
               "Prefix of generated API key values (1-16 of a-z0-9), for secret scanners.", key_prefix),
        STRING("admin-login", "IAMD_ADMIN_LOGIN", "admin", "Login name of the owner user created on first start.",
               admin_login),
        STRING("log-level", "IAMD_LOG_LEVEL", "info", "Lowest log level written: debug, info, warn or error.",
               log_level),
        STRING("service-definitions", "IAMD_SERVICE_DEFINITIONS", "",
               "Directory of service definition files (*.json) registered at start (see docs/api/services.md).",
               service_definitions),
        INTEGER("decision-cache-ttl", "IAMD_DECISION_CACHE_TTL", "60", 0, 3600,
                "maxCacheAgeSeconds that /v2/authz permits carry: how long callers may cache them.",
                decision_cache_ttl),
        INTEGER("engine-refresh-ms", "IAMD_ENGINE_REFRESH_MS", "500", 50, 60000,
                "How often the policy engine checks the database for changes made by other nodes.",
                engine_refresh_ms),
        INTEGER("threads", "IAMD_THREADS", "0", 0, 256, "HTTP worker threads (0: one per core).", threads),
        INTEGER("token-ttl", "IAMD_TOKEN_TTL", "3600", 60, 86400, "Access-token lifetime in seconds.", token_ttl),
        INTEGER("refresh-token-ttl", "IAMD_REFRESH_TOKEN_TTL", "2592000", 300, 31536000,
                "Refresh-token lifetime in seconds.", refresh_token_ttl),
        INTEGER("key-rotation", "IAMD_KEY_ROTATION", "604800", 600, 31536000,
                "Seconds each signing key signs before its successor takes over.", key_rotation),
        INTEGER("jwks-cache-ttl", "IAMD_JWKS_CACHE_TTL", "300", 0, 86400,
                "Seconds clients may cache /identity/keys (Cache-Control max-age).", jwks_cache_ttl),
        INTEGER("clock-leeway", "IAMD_CLOCK_LEEWAY", "30", 0, 300, "Seconds of clock skew accepted in tokens.",
                clock_leeway),
        INTEGER("usage-flush-ms", "IAMD_USAGE_FLUSH_MS", "1000", 10, 600000,
                "How often API-key usage counters and the audit records of tokens and failed "
                "authentications are written, in milliseconds.",
                usage_flush_ms),
        INTEGER("max-body", "IAMD_MAX_BODY", "65536", 1024, 16777216, "Largest request body in bytes.", max_body),
        INTEGER("max-connections", "IAMD_MAX_CONNECTIONS", "1024", 1, 100000, "Most concurrent connections.",
                max_connections),
        INTEGER("connection-timeout", "IAMD_CONNECTION_TIMEOUT", "30", 1, 3600,
                "Seconds an idle or slow connection is kept.", connection_timeout),
        STRING("tls-cert", "IAMD_TLS_CERT", "",
               "PEM certificate chain (leaf first) to serve HTTPS with; needs --tls-key. Reloaded on SIGHUP.", tls_cert),
        STRING("tls-key", "IAMD_TLS_KEY", "",
               "PEM private key of --tls-cert (unencrypted; mode 0600 or 0640). Reloaded on SIGHUP.", tls_key),
        INTEGER("max-header-bytes", "IAMD_MAX_HEADER_BYTES", "16384", 4096, 262144,
                "Largest request line plus headers in bytes (431 or 414 beyond).", max_header_bytes),
        INTEGER("request-timeout", "IAMD_REQUEST_TIMEOUT", "30", 1, 3600,
                "Seconds a request may take to arrive whole (TLS handshake, headers, body), however slowly it trickles.",
                request_timeout),
        STRING("metrics", "IAMD_METRICS", "off",
               "Who may read GET /metrics: off (404), token (Authorization: Bearer $IAMD_METRICS_TOKEN) or open.",
               metrics),
        SECRET("IAMD_METRICS_TOKEN", "Bearer token for GET /metrics with --metrics token (32 or more characters).",
               metrics_token),
        INTEGER("max-staleness", "IAMD_MAX_STALENESS", "30", 0, 3600,
                "Seconds API-key tokens and decisions keep being served from memory while the database cannot be "
                "reached (0: never); then 503.",
                max_staleness),
        INTEGER("failed-auth-per-address", "IAMD_FAILED_AUTH_PER_ADDRESS", "60", 0, 1000000,
                "Failed API-key authentications per client address per window before that address is refused "
                "with 429 (0: no limit).",
                failed_auth_per_address),
        INTEGER("failed-auth-per-key", "IAMD_FAILED_AUTH_PER_KEY", "10", 0, 1000000,
                "Failed authentications per API key id per window after which WRONG values of that key get 429 "
                "(the right value always works; 0: no limit).",
                failed_auth_per_key),
        INTEGER("failed-auth-window", "IAMD_FAILED_AUTH_WINDOW", "300", 1, 86400,
                "Seconds a failed-authentication count lasts, from its first failure.", failed_auth_window),
        STRING("audit-mode", "IAMD_AUDIT_MODE", "fail-closed",
               "When an audit record cannot be written: fail-closed (refuse the change, 503) or best-effort "
               "(log an error and carry on).",
               audit_mode),
        SECRET("IAMD_PEPPER", "Pepper keying API-key hashes, 64 hex digits (default: <data-dir>/secrets/pepper).",
               pepper),
        SECRET("IAMD_KEK", "Key-encryption key for secrets at rest, 64 hex digits (default: <data-dir>/secrets/kek).",
               kek),
    };
    size_t count = sizeof entries / sizeof entries[0];
    memcpy(table, entries, sizeof entries);
    return count;
}

#define SETTINGS_MAX 64

/* Writes bootstrap-apikey.json (the console's "download key" format plus account and identity). */
static int save_bootstrap_key(const char *data_dir, const struct iam_bootstrap_result *bootstrap)
{
    char created[IAM_TIME_TEXT_SIZE];
    iam_time_format_ibm(bootstrap->created_at, created);
    json_t *document = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", bootstrap->apikey_name, "description",
                                 bootstrap->apikey_description, "createdAt", created, "apikey", bootstrap->apikey,
                                 "account_id", bootstrap->account_id, "iam_id", bootstrap->iam_id);
    char *text = document ? json_dumps(document, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(document);
    if (!text)
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/bootstrap-apikey.json", data_dir);
    struct iam_error err;
    iam_error_clear(&err);
    size_t length = strlen(text);
    enum iam_result result = iamd_write_private_file(path, text, length, false, &err);
    iam_wipe(text, length);
    free(text);
    if (result != IAM_OK) {
        fprintf(stderr, "iamd: %s\n", err.message);
        return -1;
    }
    return 0;
}

static void announce_bootstrap(const char *data_dir, const struct iam_bootstrap_result *bootstrap)
{
    fprintf(stderr,
            "\n"
            "iamd: first start: created account %s with owner %s (login %s).\n"
            "iamd: the owner's API key is shown ONCE here and saved to %s/bootstrap-apikey.json (mode 0600):\n"
            "\n    %s\n\n",
            bootstrap->account_id, bootstrap->iam_id, bootstrap->login, data_dir, bootstrap->apikey);
}

/* The store location iamd uses: --database, else sqlite:<data-dir>/iamd.db. */
static void database_location(const struct iamd_settings *settings, char *out, size_t size)
{
    if (settings->database[0])
        snprintf(out, size, "%s", settings->database);
    else
        snprintf(out, size, "sqlite:%s/iamd.db", settings->data_dir);
}

int iamd_store_settings_load(int argc, char **argv, const char *summary, struct iamd_store_settings *out)
{
    struct iamd_settings settings;
    memset(&settings, 0, sizeof settings);
    struct iam_setting table[SETTINGS_MAX];
    size_t count = settings_table(&settings, table);
    struct iam_error err;
    iam_error_clear(&err);
    bool help = false;
    if (iam_config_load(table, count, argc, argv, &help, &err) != IAM_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], err.message);
        return 2;
    }
    if (help) {
        iam_config_print_help(stdout, argv[0], summary, table, count);
        return 0;
    }
    snprintf(out->data_dir, sizeof out->data_dir, "%s", settings.data_dir);
    database_location(&settings, out->database, sizeof out->database);
    if (iamd_secret_read(settings.data_dir, "pepper", settings.pepper, out->pepper, &err) != IAM_OK) {
        fprintf(stderr, "%s: cannot read the pepper (IAMD_PEPPER or <data-dir>/secrets/pepper): %s\n", argv[0],
                err.message);
        return 1;
    }
    return -1;
}

int main(int argc, char **argv)
{
    /* Subcommands run instead of the server: `iamd db ...` with none of its settings,
     * `iamd audit ...` reading the settings itself. */
    if (argc > 1 && strcmp(argv[1], "db") == 0)
        return iamd_db_command(argc, argv);
    if (argc > 1 && strcmp(argv[1], "audit") == 0)
        return iamd_audit_command(argc - 1, argv + 1);
    struct iamd_settings settings;
    memset(&settings, 0, sizeof settings);
    struct iam_setting table[SETTINGS_MAX];
    size_t count = settings_table(&settings, table);
    struct iam_error err;
    iam_error_clear(&err);
    bool help = false;
    if (iam_config_load(table, count, argc, argv, &help, &err) != IAM_OK) {
        fprintf(stderr, "iamd: %s\n", err.message);
        return 2;
    }
    if (help) {
        iam_config_print_help(stdout, "iamd",
                              "iamd: Identity and Access Management server (IBM Cloud IAM compatible).\n\n"
                              "Commands:\n"
                              "  iamd db copy --from LOCATION --to LOCATION [--replace]\n"
                              "        Copy a database, e.g. from SQLite to PostgreSQL (see iamd db --help).\n"
                              "  iamd audit verify [--anchor SEQ:HASH]\n"
                              "        Check the audit trail's hash chain (see iamd audit --help).",
                              table,
                              count);
        return 0;
    }
    enum iam_log_level level;
    if (iam_log_level_parse(settings.log_level, &level) != IAM_OK) {
        fprintf(stderr, "iamd: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    iam_log_set_level(level);
    (void)iam_metrics_start_time(); /* the process start, for /metrics */

    struct iam_service_options options;
    iam_service_options_default(&options);
    if (iam_jwt_alg_parse(settings.token_alg, &options.token_alg) != IAM_OK) {
        fprintf(stderr, "iamd: --token-alg must be RS256, ES256 or EdDSA\n");
        return 2;
    }
    bool tls = settings.tls_cert[0] || settings.tls_key[0];
    if (tls && !(settings.tls_cert[0] && settings.tls_key[0])) {
        fprintf(stderr, "iamd: --tls-cert and --tls-key go together\n");
        return 2;
    }
    enum iam_api_metrics_access metrics_access;
    if (strcmp(settings.metrics, "off") == 0)
        metrics_access = IAM_API_METRICS_OFF;
    else if (strcmp(settings.metrics, "token") == 0)
        metrics_access = IAM_API_METRICS_TOKEN;
    else if (strcmp(settings.metrics, "open") == 0)
        metrics_access = IAM_API_METRICS_OPEN;
    else {
        fprintf(stderr, "iamd: --metrics must be off, token or open\n");
        return 2;
    }
    if (metrics_access == IAM_API_METRICS_TOKEN && strlen(settings.metrics_token) < 32) {
        fprintf(stderr, "iamd: --metrics token needs IAMD_METRICS_TOKEN of 32 or more characters\n");
        return 2;
    }
    if (metrics_access != IAM_API_METRICS_TOKEN && settings.metrics_token[0]) {
        fprintf(stderr, "iamd: IAMD_METRICS_TOKEN is set but --metrics is not token\n");
        return 2;
    }
    if (iam_audit_mode_parse(settings.audit_mode, &options.audit_mode) != IAM_OK) {
        fprintf(stderr, "iamd: --audit-mode must be fail-closed or best-effort\n");
        return 2;
    }
    char public_url[512], issuer[600], database[4200];
    if (settings.public_url[0])
        snprintf(public_url, sizeof public_url, "%s", settings.public_url);
    else
        snprintf(public_url, sizeof public_url, "%s://%s", tls ? "https" : "http", settings.listen);
    size_t url_length = strlen(public_url);
    while (url_length > 0 && public_url[url_length - 1] == '/')
        public_url[--url_length] = '\0';
    snprintf(issuer, sizeof issuer, "%s/identity", public_url);
    options.public_url = public_url;
    options.issuer = issuer;
    options.key_prefix = settings.key_prefix;
    options.access_token_ttl = settings.token_ttl;
    options.refresh_token_ttl = settings.refresh_token_ttl;
    options.signing_key_rotation = settings.key_rotation;
    options.jwks_cache_ttl = settings.jwks_cache_ttl;
    options.clock_leeway = settings.clock_leeway;
    options.usage_flush_interval_ms = settings.usage_flush_ms;
    options.decision_cache_ttl = settings.decision_cache_ttl;
    options.engine_refresh_ms = settings.engine_refresh_ms;
    options.max_staleness = settings.max_staleness;
    options.failed_auth_per_address = settings.failed_auth_per_address;
    options.failed_auth_per_key = settings.failed_auth_per_key;
    options.failed_auth_window = settings.failed_auth_window;

    if (mkdir(settings.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "iamd: cannot create data directory %s: %s\n", settings.data_dir, strerror(errno));
        return 1;
    }
    database_location(&settings, database, sizeof database);

    uint8_t pepper[IAMD_SECRET_SIZE], kek[IAMD_SECRET_SIZE];
    if (iamd_secret_load(settings.data_dir, "pepper", settings.pepper, pepper, &err) != IAM_OK ||
        iamd_secret_load(settings.data_dir, "kek", settings.kek, kek, &err) != IAM_OK) {
        fprintf(stderr, "iamd: %s\n", err.message);
        return 1;
    }

    /* Signals are taken by sigwait below; worker threads inherit the mask. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    struct iam_store *store = NULL;
    struct iam_service *service = NULL;
    struct iam_router *router = NULL;
    struct iam_http_server *server = NULL;
    struct iam_arena *arena = iam_arena_new();
    if (!arena)
        goto out;
    if (iam_store_open(database, &store, &err) != IAM_OK) {
        /* Never the location itself: a PostgreSQL URL may carry a password. */
        fprintf(stderr, "iamd: cannot open the database (%s): %s\n",
                strncmp(database, "sqlite:", 7) == 0 ? database : "--database", err.message);
        goto out;
    }
    if (iam_service_new(store, pepper, sizeof pepper, kek, &options, &service, &err) != IAM_OK) {
        fprintf(stderr, "iamd: %s\n", err.message);
        goto out; /* iam_service_new closed the store */
    }
    iam_wipe(pepper, sizeof pepper);
    iam_wipe(kek, sizeof kek);

    struct iam_bootstrap_result bootstrap;
    if (iam_bootstrap(service, arena, settings.admin_login, &bootstrap, &err) != IAM_OK) {
        fprintf(stderr, "iamd: bootstrap failed: %s\n", err.message);
        goto out;
    }
    if (bootstrap.created) {
        if (save_bootstrap_key(settings.data_dir, &bootstrap) != 0)
            goto out;
        announce_bootstrap(settings.data_dir, &bootstrap);
    }
    if (settings.service_definitions[0] &&
        iam_service_registry_load_dir(service, settings.service_definitions, &err) != IAM_OK) {
        fprintf(stderr, "iamd: cannot load the service definitions in %s: %s\n", settings.service_definitions,
                err.message);
        goto out;
    }
    iam_arena_free(arena);
    arena = NULL;

    struct iam_api api = {
        .service = service,
        .metrics_access = metrics_access,
        .metrics_token = settings.metrics_token,
    };
    router = iam_router_new();
    if (!router || iam_api_register_all(router, &api) != IAM_OK) {
        fprintf(stderr, "iamd: cannot build the route table\n");
        goto out;
    }
    struct iam_http_server_options server_options = {
        .listen = settings.listen,
        .threads = (unsigned)settings.threads,
        .max_body_bytes = (size_t)settings.max_body,
        .connection_timeout_s = (unsigned)settings.connection_timeout,
        .max_connections = (unsigned)settings.max_connections,
        .max_header_bytes = (size_t)settings.max_header_bytes,
        .request_timeout_s = (unsigned)settings.request_timeout,
        .tls_cert_file = settings.tls_cert,
        .tls_key_file = settings.tls_key,
        .error_responder = iam_api_server_error,
    };
    if (iam_http_server_start(&server_options, router, &server, &err) != IAM_OK) {
        fprintf(stderr, "iamd: cannot serve on %s: %s\n", settings.listen, err.message);
        goto out;
    }
    iam_log(IAM_LOG_INFO, "started", "listening on %s (port %u, %s), issuer %s", settings.listen,
            (unsigned)iam_http_server_port(server), tls ? "https" : "http", issuer);

    int received = 0;
    for (;;) {
        if (sigwait(&stop_signals, &received) != 0)
            continue;
        if (received != SIGHUP)
            break;
        if (!tls) {
            iam_log(IAM_LOG_INFO, "sighup_ignored", "SIGHUP: nothing to reload without TLS");
            continue;
        }
        iam_error_clear(&err);
        if (iam_http_server_reload_tls(server, &err) == IAM_OK)
            iam_log(IAM_LOG_INFO, "tls_reloaded", "new TLS handshakes use the certificate read now");
        else
            iam_log(IAM_LOG_ERROR, "tls_reload_failed", "keeping the previous certificate: %s", err.message);
    }
    iam_log(IAM_LOG_INFO, "stopping", "signal %d", received);
    status = 0;
out:
    iam_http_server_stop(server);
    iam_router_free(router);
    iam_service_free(service);
    iam_arena_free(arena);
    iam_wipe(pepper, sizeof pepper);
    iam_wipe(kek, sizeof kek);
    return status;
}
