/*
 * postgres_migrations.c: the PostgreSQL schema, as an ordered list of
 * versioned migrations mirroring the SQLite ones (migrations.c) entry for
 * entry: the same tables, columns, constraints and indexes, in PostgreSQL's
 * dialect. A migration is never edited once released; a change to the schema
 * is a new entry here and in migrations.c, with the same number.
 *
 * Dialect: TEXT COLLATE "C" for every string, so comparisons, unique keys and
 * ORDER BY compare bytes as SQLite's BINARY collation does, whatever the
 * database's locale; BIGINT for times and counters; BYTEA for binary values;
 * BOOLEAN for SQLite's 0/1 INTEGER flags; an identity column for history's
 * AUTOINCREMENT. SQLite's NOCASE on group names becomes lower() on a "C"
 * string, which folds ASCII letters only, as NOCASE does.
 *
 * Concurrency: every pending migration runs in one transaction that first
 * takes a transaction-level advisory lock, so several nodes starting at once
 * on an empty database migrate it once; the others wait, then find nothing
 * to do. PostgreSQL's DDL is transactional: a failure leaves the previous
 * version whole.
 */
#include "store/postgres_internal.h"

#include <string.h>

#include "common/log.h"
#include "common/time.h"

struct migration {
    int64_t version;
    const char *description;
    const char *sql;
};

static const struct migration migrations[] = {
    {1, "initial schema",
     "CREATE TABLE meta (\n"
     "  key TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  value TEXT COLLATE \"C\" NOT NULL\n"
     ");\n"

     /* One row, bumped by every write transaction that changes something. */
     "CREATE TABLE revision (\n"
     "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
     "  value BIGINT NOT NULL\n"
     ");\n"
     "INSERT INTO revision (id, value) VALUES (1, 0);\n"

     "CREATE TABLE accounts (\n"
     "  id TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  name TEXT COLLATE \"C\" NOT NULL,\n"
     "  owner_iam_id TEXT COLLATE \"C\" NOT NULL,\n"
     "  state TEXT COLLATE \"C\" NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  modified_at BIGINT NOT NULL\n"
     ");\n"

     "CREATE TABLE users (\n"
     "  iam_id TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL REFERENCES accounts (id),\n"
     "  login TEXT COLLATE \"C\" NOT NULL UNIQUE,\n"
     "  email TEXT COLLATE \"C\",\n"
     "  given_name TEXT COLLATE \"C\",\n"
     "  family_name TEXT COLLATE \"C\",\n"
     "  state TEXT COLLATE \"C\" NOT NULL,\n"
     "  password_hash TEXT COLLATE \"C\",\n"
     "  entity_tag TEXT COLLATE \"C\",\n"
     "  created_at BIGINT NOT NULL,\n"
     "  modified_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX users_account ON users (account_id);\n"

     "CREATE TABLE service_ids (\n"
     "  id TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  iam_id TEXT COLLATE \"C\" NOT NULL UNIQUE,\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL REFERENCES accounts (id),\n"
     "  group_id TEXT COLLATE \"C\",\n"
     "  name TEXT COLLATE \"C\" NOT NULL,\n"
     "  description TEXT COLLATE \"C\",\n"
     "  unique_instance_crns TEXT COLLATE \"C\" NOT NULL,\n"
     "  created_by TEXT COLLATE \"C\",\n"
     "  entity_tag TEXT COLLATE \"C\" NOT NULL,\n"
     "  locked BOOLEAN NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  modified_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX service_ids_account_created ON service_ids (account_id, created_at, id);\n"
     "CREATE INDEX service_ids_account_name ON service_ids (account_id, name, id);\n"

     "CREATE TABLE apikeys (\n"
     "  id TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL REFERENCES accounts (id),\n"
     "  iam_id TEXT COLLATE \"C\" NOT NULL,\n"
     "  name TEXT COLLATE \"C\" NOT NULL,\n"
     "  description TEXT COLLATE \"C\",\n"
     "  created_by TEXT COLLATE \"C\",\n"
     "  entity_tag TEXT COLLATE \"C\" NOT NULL,\n"
     "  action_when_leaked TEXT COLLATE \"C\",\n"
     "  hash BYTEA NOT NULL UNIQUE CHECK (octet_length(hash) = 32),\n"
     "  sealed_value BYTEA,\n"
     "  locked BOOLEAN NOT NULL,\n"
     "  disabled BOOLEAN NOT NULL,\n"
     "  support_sessions BOOLEAN NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  modified_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL,\n"
     "  last_authn BIGINT NOT NULL,\n"
     "  authn_count BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX apikeys_account_iam_id ON apikeys (account_id, iam_id);\n"
     "CREATE INDEX apikeys_account_created ON apikeys (account_id, created_at, id);\n"

     "CREATE TABLE history (\n"
     "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
     "  entity_id TEXT COLLATE \"C\" NOT NULL,\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL,\n"
     "  occurred_at BIGINT NOT NULL,\n"
     "  iam_id TEXT COLLATE \"C\",\n"
     "  iam_id_account TEXT COLLATE \"C\",\n"
     "  action TEXT COLLATE \"C\" NOT NULL,\n"
     "  params TEXT COLLATE \"C\",\n"
     "  message TEXT COLLATE \"C\"\n"
     ");\n"
     "CREATE INDEX history_entity ON history (entity_id, seq);\n"

     "CREATE TABLE signing_keys (\n"
     "  kid TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  alg TEXT COLLATE \"C\" NOT NULL,\n"
     "  public_jwk TEXT COLLATE \"C\" NOT NULL,\n"
     "  sealed_private BYTEA NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  activate_at BIGINT NOT NULL,\n"
     "  retire_at BIGINT NOT NULL,\n"
     "  expire_at BIGINT NOT NULL\n"
     ");\n"

     "CREATE TABLE account_settings (\n"
     "  account_id TEXT COLLATE \"C\" PRIMARY KEY REFERENCES accounts (id),\n"
     "  settings TEXT COLLATE \"C\" NOT NULL,\n"
     "  entity_tag TEXT COLLATE \"C\" NOT NULL,\n"
     "  modified_at BIGINT NOT NULL\n"
     ");\n"

     "CREATE TABLE revoked_refresh_tokens (\n"
     "  jti TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  expires_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX revoked_refresh_tokens_expires ON revoked_refresh_tokens (expires_at);\n"},

    {2, "access management",
     "CREATE TABLE policies (\n"
     "  id TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL REFERENCES accounts (id),\n"
     "  type TEXT COLLATE \"C\" NOT NULL CHECK (type IN ('access', 'authorization')),\n"
     "  api_version TEXT COLLATE \"C\" NOT NULL CHECK (api_version IN ('v1', 'v2')),\n"
     "  subject_kind TEXT COLLATE \"C\" NOT NULL CHECK (subject_kind IN ('iam_id', 'access_group_id', 'service')),\n"
     "  subject_value TEXT COLLATE \"C\" NOT NULL,\n"
     "  service_name TEXT COLLATE \"C\",\n"
     "  document TEXT COLLATE \"C\" NOT NULL,\n"
     "  state TEXT COLLATE \"C\" NOT NULL CHECK (state IN ('active', 'deleted')),\n"
     "  entity_tag TEXT COLLATE \"C\" NOT NULL,\n"
     "  created_by TEXT COLLATE \"C\",\n"
     "  modified_by TEXT COLLATE \"C\",\n"
     "  created_at_ms BIGINT NOT NULL,\n"
     "  modified_at_ms BIGINT NOT NULL,\n"
     "  last_permit_at BIGINT NOT NULL DEFAULT 0,\n"
     "  last_permit_frequency BIGINT NOT NULL DEFAULT 0\n"
     ");\n"
     "CREATE INDEX policies_account_subject ON policies (account_id, subject_kind, subject_value);\n"
     "CREATE INDEX policies_account_state_created ON policies (account_id, state, created_at_ms, id);\n"

     "CREATE TABLE custom_roles (\n"
     "  id TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL REFERENCES accounts (id),\n"
     "  name TEXT COLLATE \"C\" NOT NULL,\n"
     "  display_name TEXT COLLATE \"C\" NOT NULL,\n"
     "  description TEXT COLLATE \"C\",\n"
     "  service_name TEXT COLLATE \"C\" NOT NULL,\n"
     "  actions TEXT COLLATE \"C\" NOT NULL,\n"
     "  crn TEXT COLLATE \"C\",\n"
     "  entity_tag TEXT COLLATE \"C\" NOT NULL,\n"
     "  created_by TEXT COLLATE \"C\",\n"
     "  modified_by TEXT COLLATE \"C\",\n"
     "  created_at_ms BIGINT NOT NULL,\n"
     "  modified_at_ms BIGINT NOT NULL,\n"
     "  UNIQUE (account_id, service_name, name)\n"
     ");\n"

     /* lower() of a "C" string folds ASCII letters only: SQLite's NOCASE. */
     "CREATE TABLE access_groups (\n"
     "  id TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL REFERENCES accounts (id),\n"
     "  name TEXT COLLATE \"C\" NOT NULL,\n"
     "  description TEXT COLLATE \"C\",\n"
     "  entity_tag TEXT COLLATE \"C\" NOT NULL,\n"
     "  created_by TEXT COLLATE \"C\",\n"
     "  modified_by TEXT COLLATE \"C\",\n"
     "  created_at_ms BIGINT NOT NULL,\n"
     "  modified_at_ms BIGINT NOT NULL\n"
     ");\n"
     "CREATE UNIQUE INDEX access_groups_account_name ON access_groups (account_id, lower(name));\n"
     "CREATE INDEX access_groups_account_created ON access_groups (account_id, created_at_ms, id);\n"

     "CREATE TABLE group_members (\n"
     "  group_id TEXT COLLATE \"C\" NOT NULL REFERENCES access_groups (id),\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL REFERENCES accounts (id),\n"
     "  iam_id TEXT COLLATE \"C\" NOT NULL,\n"
     "  type TEXT COLLATE \"C\" NOT NULL CHECK (type IN ('user', 'service', 'profile')),\n"
     "  created_by TEXT COLLATE \"C\",\n"
     "  created_at_ms BIGINT NOT NULL,\n"
     "  PRIMARY KEY (group_id, iam_id)\n"
     ");\n"
     "CREATE INDEX group_members_account_iam_id ON group_members (account_id, iam_id);\n"

     "CREATE TABLE service_defs (\n"
     "  name TEXT COLLATE \"C\" PRIMARY KEY,\n"
     "  document TEXT COLLATE \"C\" NOT NULL,\n"
     "  entity_tag TEXT COLLATE \"C\" NOT NULL,\n"
     "  created_by TEXT COLLATE \"C\",\n"
     "  created_at BIGINT NOT NULL,\n"
     "  modified_at BIGINT NOT NULL\n"
     ");\n"

     "CREATE TABLE access_settings (\n"
     "  account_id TEXT COLLATE \"C\" PRIMARY KEY REFERENCES accounts (id),\n"
     "  settings TEXT COLLATE \"C\" NOT NULL,\n"
     "  entity_tag TEXT COLLATE \"C\" NOT NULL,\n"
     "  modified_at BIGINT NOT NULL\n"
     ");\n"},

    {3, "identity activity",
     "ALTER TABLE users ADD COLUMN last_authn BIGINT NOT NULL DEFAULT 0;\n"

     "CREATE TABLE activity_reports (\n"
     "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL REFERENCES accounts (id),\n"
     "  reference TEXT COLLATE \"C\" NOT NULL,\n"
     "  created_by TEXT COLLATE \"C\" NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  report TEXT COLLATE \"C\" NOT NULL,\n"
     "  UNIQUE (account_id, reference)\n"
     ");\n"
     "CREATE INDEX activity_reports_account_seq ON activity_reports (account_id, seq);\n"},
    /* The audit trail: the mirror of SQLite's migration 4 (append-only by trigger, TRUNCATE included). */
    {4, "audit trail",
     "CREATE TABLE audit_events (\n"
     "  seq BIGINT PRIMARY KEY CHECK (seq >= 1),\n"
     "  time_ms BIGINT NOT NULL,\n"
     "  request_id TEXT COLLATE \"C\" NOT NULL,\n"
     "  phase TEXT COLLATE \"C\" NOT NULL CHECK (phase IN ('request', 'outcome', 'aggregate')),\n"
     "  actor_iam_id TEXT COLLATE \"C\",\n"
     "  actor_account_id TEXT COLLATE \"C\",\n"
     "  actor_apikey_id TEXT COLLATE \"C\",\n"
     "  client_address TEXT COLLATE \"C\",\n"
     "  action TEXT COLLATE \"C\" NOT NULL,\n"
     "  method TEXT COLLATE \"C\" NOT NULL,\n"
     "  route TEXT COLLATE \"C\" NOT NULL,\n"
     "  account_id TEXT COLLATE \"C\",\n"
     "  target_type TEXT COLLATE \"C\",\n"
     "  target_id TEXT COLLATE \"C\",\n"
     "  outcome TEXT COLLATE \"C\" NOT NULL CHECK (outcome IN ('pending', 'success', 'failure')),\n"
     "  status BIGINT NOT NULL,\n"
     "  error_code TEXT COLLATE \"C\",\n"
     "  message_code TEXT COLLATE \"C\",\n"
     "  mechanism TEXT COLLATE \"C\",\n"
     "  count BIGINT NOT NULL DEFAULT 1 CHECK (count >= 1),\n"
     "  window_start_ms BIGINT NOT NULL,\n"
     "  prev_hash BYTEA NOT NULL CHECK (length(prev_hash) = 32),\n"
     "  hash BYTEA NOT NULL CHECK (length(hash) = 32)\n"
     ");\n"
     "CREATE INDEX audit_events_account_seq ON audit_events (account_id, seq);\n"
     "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS\n"
     "$$ BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$;\n"
     "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events\n"
     "  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();\n"
     "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events\n"
     "  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();\n"},
    /* Console sign-in sessions: the mirror of SQLite's migration 5. */
    {5, "console sessions",
     "CREATE TABLE console_sessions (\n"
     "  hash BYTEA PRIMARY KEY CHECK (length(hash) = 32),\n"
     "  kind TEXT COLLATE \"C\" NOT NULL CHECK (kind IN ('user', 'serviceid')),\n"
     "  iam_id TEXT COLLATE \"C\" NOT NULL,\n"
     "  account_id TEXT COLLATE \"C\" NOT NULL,\n"
     "  apikey_id TEXT COLLATE \"C\",\n"
     "  created_at BIGINT NOT NULL,\n"
     "  last_seen_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL,\n"
     "  idle_timeout BIGINT NOT NULL CHECK (idle_timeout > 0),\n"
     "  started_at_ms BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX console_sessions_identity ON console_sessions (account_id, iam_id);\n"},
};

#define MIGRATION_COUNT (sizeof migrations / sizeof migrations[0])

int64_t iam_pg_schema_latest(void)
{
    return migrations[MIGRATION_COUNT - 1].version;
}

/* Runs constant DDL (several statements, no parameters) through the simple query protocol. */
static enum iam_result exec_ddl(struct iam_pg_conn *conn, const char *sql, const char *what, struct iam_error *err)
{
    PGresult *result = PQexec(conn->pg, sql);
    ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    enum iam_result outcome = IAM_OK;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        outcome = iam_pg_fail(conn, result, what);
        if (outcome != IAM_EUNAVAILABLE)
            outcome = IAM_ESTORE;
        iam_error_set(err, outcome, NULL, "database migration failed (%s)", what);
    }
    PQclear(result);
    return outcome;
}

static enum iam_result run_step(struct iam_pg_conn *conn, struct iam_pg_statement *statement,
                                const struct iam_pg_params *params, const char *what, struct iam_error *err)
{
    enum iam_result result = iam_pg_run(conn, statement, params, what, NULL);
    if (result != IAM_OK)
        iam_error_set(err, result == IAM_EUNAVAILABLE ? result : IAM_ESTORE, NULL, "database migration failed (%s)",
                      what);
    return result == IAM_EUNAVAILABLE ? result : (result == IAM_OK ? IAM_OK : IAM_ESTORE);
}

enum iam_result iam_pg_migrate(struct iam_pg_conn *conn, struct iam_error *err)
{
    static struct iam_pg_statement begin = IAM_PG_STATEMENT("BEGIN ISOLATION LEVEL READ COMMITTED");
    static struct iam_pg_statement lock = IAM_PG_STATEMENT("SELECT pg_advisory_xact_lock($1::bigint)");
    static struct iam_pg_statement current =
        IAM_PG_STATEMENT("SELECT coalesce(max(version), 0) FROM schema_migrations");
    static struct iam_pg_statement record =
        IAM_PG_STATEMENT("INSERT INTO schema_migrations (version, applied_at) VALUES ($1::bigint, $2::bigint)");
    static struct iam_pg_statement commit = IAM_PG_STATEMENT("COMMIT");
    struct iam_pg_params params = {0};
    int64_t version = 0;

    for (size_t i = 0; i < MIGRATION_COUNT; i++) {
        if (migrations[i].version != (int64_t)i + 1)
            return iam_error_set(err, IAM_EINTERNAL, NULL, "migration %zu is numbered out of order", i);
    }
    enum iam_result result = run_step(conn, &begin, NULL, "begin migration", err);
    if (result != IAM_OK)
        return result;
    iam_pg_param_int64(&params, iam_pg_lock_key("iamd:migrations"));
    result = run_step(conn, &lock, &params, "migration lock", err);
    if (result != IAM_OK)
        goto fail;
    /* Under the lock: a node that waited finds the table, and the version, the first one left. */
    result = exec_ddl(conn,
                      "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
                      "  version BIGINT PRIMARY KEY,\n"
                      "  applied_at BIGINT NOT NULL\n"
                      ")",
                      "schema_migrations", err);
    if (result != IAM_OK)
        goto fail;
    result = iam_pg_query_integer(conn, &current, NULL, "schema version", &version);
    if (result != IAM_OK) {
        iam_error_set(err, result == IAM_EUNAVAILABLE ? result : IAM_ESTORE, NULL,
                      "the schema version could not be read");
        result = result == IAM_EUNAVAILABLE ? result : IAM_ESTORE;
        goto fail;
    }
    if (version > iam_pg_schema_latest()) {
        result = iam_error_set(err, IAM_ESTORE, NULL,
                               "the database schema (version %lld) is newer than this iamd (version %lld)",
                               (long long)version, (long long)iam_pg_schema_latest());
        goto fail;
    }
    for (size_t i = (size_t)version; i < MIGRATION_COUNT; i++) {
        const struct migration *migration = &migrations[i];
        iam_log(IAM_LOG_INFO, "store_migration", "applying migration %lld: %s", (long long)migration->version,
                migration->description);
        result = exec_ddl(conn, migration->sql, migration->description, err);
        if (result != IAM_OK)
            goto fail;
        struct iam_pg_params version_params = {0};
        iam_pg_param_int64(&version_params, migration->version);
        iam_pg_param_int64(&version_params, iam_now());
        result = run_step(conn, &record, &version_params, "record migration", err);
        if (result != IAM_OK)
            goto fail;
    }
    result = run_step(conn, &commit, NULL, "commit migration", err);
    if (result != IAM_OK)
        goto fail;
    return IAM_OK;
fail:
    if (conn->pg && PQstatus(conn->pg) == CONNECTION_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
        PGresult *rollback = PQexec(conn->pg, "ROLLBACK");
        PQclear(rollback);
    }
    return result;
}
