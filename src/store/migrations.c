/*
 * migrations.c: the SQLite schema, as an ordered list of versioned migrations.
 *
 * A migration is never edited once released: a change to the schema is a new
 * entry at the end. Each runs in its own transaction together with the row
 * that records it in schema_migrations(version, applied_at), so a crash leaves
 * the database at a whole version. Opening a database whose version is newer
 * than the last migration here fails rather than guess.
 *
 * Conventions (kept close to what the PostgreSQL backend will use): STRICT
 * tables, booleans as INTEGER 0/1 with a CHECK, times as INTEGER seconds,
 * absent strings as NULL, binary values as BLOB, no double-quoted strings.
 */
#include "store/sqlite_internal.h"

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
     "  key TEXT PRIMARY KEY,\n"
     "  value TEXT NOT NULL\n"
     ") STRICT;\n"

     /* One row, bumped by every write transaction that changes something. */
     "CREATE TABLE revision (\n"
     "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
     "  value INTEGER NOT NULL\n"
     ") STRICT;\n"
     "INSERT INTO revision (id, value) VALUES (1, 0);\n"

     "CREATE TABLE accounts (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  name TEXT NOT NULL,\n"
     "  owner_iam_id TEXT NOT NULL,\n"
     "  state TEXT NOT NULL,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  modified_at INTEGER NOT NULL\n"
     ") STRICT;\n"

     "CREATE TABLE users (\n"
     "  iam_id TEXT PRIMARY KEY,\n"
     "  account_id TEXT NOT NULL REFERENCES accounts (id),\n"
     "  login TEXT NOT NULL UNIQUE,\n"
     "  email TEXT,\n"
     "  given_name TEXT,\n"
     "  family_name TEXT,\n"
     "  state TEXT NOT NULL,\n"
     "  password_hash TEXT,\n"
     "  entity_tag TEXT,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  modified_at INTEGER NOT NULL\n"
     ") STRICT;\n"
     "CREATE INDEX users_account ON users (account_id);\n"

     "CREATE TABLE service_ids (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  iam_id TEXT NOT NULL UNIQUE,\n"
     "  account_id TEXT NOT NULL REFERENCES accounts (id),\n"
     "  group_id TEXT,\n"
     "  name TEXT NOT NULL,\n"
     "  description TEXT,\n"
     "  unique_instance_crns TEXT NOT NULL,\n"
     "  created_by TEXT,\n"
     "  entity_tag TEXT NOT NULL,\n"
     "  locked INTEGER NOT NULL CHECK (locked IN (0, 1)),\n"
     "  created_at INTEGER NOT NULL,\n"
     "  modified_at INTEGER NOT NULL\n"
     ") STRICT;\n"
     /* The id in list indexes lets ORDER BY <column>, id and LIMIT stop early. */
     "CREATE INDEX service_ids_account_created ON service_ids (account_id, created_at, id);\n"
     "CREATE INDEX service_ids_account_name ON service_ids (account_id, name, id);\n"

     "CREATE TABLE apikeys (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  account_id TEXT NOT NULL REFERENCES accounts (id),\n"
     "  iam_id TEXT NOT NULL,\n"
     "  name TEXT NOT NULL,\n"
     "  description TEXT,\n"
     "  created_by TEXT,\n"
     "  entity_tag TEXT NOT NULL,\n"
     "  action_when_leaked TEXT,\n"
     "  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),\n"
     "  sealed_value BLOB,\n"
     "  locked INTEGER NOT NULL CHECK (locked IN (0, 1)),\n"
     "  disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),\n"
     "  support_sessions INTEGER NOT NULL CHECK (support_sessions IN (0, 1)),\n"
     "  created_at INTEGER NOT NULL,\n"
     "  modified_at INTEGER NOT NULL,\n"
     "  expires_at INTEGER NOT NULL,\n"
     "  last_authn INTEGER NOT NULL,\n"
     "  authn_count INTEGER NOT NULL\n"
     ") STRICT;\n"
     "CREATE INDEX apikeys_account_iam_id ON apikeys (account_id, iam_id);\n"
     "CREATE INDEX apikeys_account_created ON apikeys (account_id, created_at, id);\n"

     /* account_id is the account of the entity (not of the actor), so deletes
      * can be scoped to the account like every other write. */
     "CREATE TABLE history (\n"
     "  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
     "  entity_id TEXT NOT NULL,\n"
     "  account_id TEXT NOT NULL,\n"
     "  occurred_at INTEGER NOT NULL,\n"
     "  iam_id TEXT,\n"
     "  iam_id_account TEXT,\n"
     "  action TEXT NOT NULL,\n"
     "  params TEXT,\n"
     "  message TEXT\n"
     ") STRICT;\n"
     "CREATE INDEX history_entity ON history (entity_id, seq);\n"

     "CREATE TABLE signing_keys (\n"
     "  kid TEXT PRIMARY KEY,\n"
     "  alg TEXT NOT NULL,\n"
     "  public_jwk TEXT NOT NULL,\n"
     "  sealed_private BLOB NOT NULL,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  activate_at INTEGER NOT NULL,\n"
     "  retire_at INTEGER NOT NULL,\n"
     "  expire_at INTEGER NOT NULL\n"
     ") STRICT;\n"

     "CREATE TABLE account_settings (\n"
     "  account_id TEXT PRIMARY KEY REFERENCES accounts (id),\n"
     "  settings TEXT NOT NULL,\n"
     "  entity_tag TEXT NOT NULL,\n"
     "  modified_at INTEGER NOT NULL\n"
     ") STRICT;\n"

     "CREATE TABLE revoked_refresh_tokens (\n"
     "  jti TEXT PRIMARY KEY,\n"
     "  expires_at INTEGER NOT NULL\n"
     ") STRICT;\n"
     "CREATE INDEX revoked_refresh_tokens_expires ON revoked_refresh_tokens (expires_at);\n"},

    /*
     * Access management: policies, custom roles, access groups and their
     * members, registered services, access settings. Policy, role, group and
     * member times are milliseconds (IBM's precision for these objects), as the
     * _ms suffix says. JSON columns hold text the domain produced with jansson
     * (no json_valid CHECK: SQLite refuses it in a schema that is not trusted).
     * Rows of an account reference it; a member references its group (deleted
     * first by the store, which also keeps member and group in one account).
     */
    {2, "access management",
     "CREATE TABLE policies (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  account_id TEXT NOT NULL REFERENCES accounts (id),\n"
     "  type TEXT NOT NULL CHECK (type IN ('access', 'authorization')),\n"
     "  api_version TEXT NOT NULL CHECK (api_version IN ('v1', 'v2')),\n"
     "  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('iam_id', 'access_group_id', 'service')),\n"
     "  subject_value TEXT NOT NULL,\n"
     "  service_name TEXT,\n"
     "  document TEXT NOT NULL,\n"
     "  state TEXT NOT NULL CHECK (state IN ('active', 'deleted')),\n"
     "  entity_tag TEXT NOT NULL,\n"
     "  created_by TEXT,\n"
     "  modified_by TEXT,\n"
     "  created_at_ms INTEGER NOT NULL,\n"
     "  modified_at_ms INTEGER NOT NULL,\n"
     "  last_permit_at INTEGER NOT NULL DEFAULT 0,\n"
     "  last_permit_frequency INTEGER NOT NULL DEFAULT 0\n"
     ") STRICT;\n"
     "CREATE INDEX policies_account_subject ON policies (account_id, subject_kind, subject_value);\n"
     "CREATE INDEX policies_account_state_created ON policies (account_id, state, created_at_ms, id);\n"

     "CREATE TABLE custom_roles (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  account_id TEXT NOT NULL REFERENCES accounts (id),\n"
     "  name TEXT NOT NULL,\n"
     "  display_name TEXT NOT NULL,\n"
     "  description TEXT,\n"
     "  service_name TEXT NOT NULL,\n"
     "  actions TEXT NOT NULL,\n"
     "  crn TEXT,\n"
     "  entity_tag TEXT NOT NULL,\n"
     "  created_by TEXT,\n"
     "  modified_by TEXT,\n"
     "  created_at_ms INTEGER NOT NULL,\n"
     "  modified_at_ms INTEGER NOT NULL,\n"
     "  UNIQUE (account_id, service_name, name)\n"
     ") STRICT;\n"

     /* NOCASE folds ASCII letters only: 'Admins' and 'ADMINS' collide, 'Ärzte' and 'ärzte' do not. */
     "CREATE TABLE access_groups (\n"
     "  id TEXT PRIMARY KEY,\n"
     "  account_id TEXT NOT NULL REFERENCES accounts (id),\n"
     "  name TEXT NOT NULL,\n"
     "  description TEXT,\n"
     "  entity_tag TEXT NOT NULL,\n"
     "  created_by TEXT,\n"
     "  modified_by TEXT,\n"
     "  created_at_ms INTEGER NOT NULL,\n"
     "  modified_at_ms INTEGER NOT NULL\n"
     ") STRICT;\n"
     "CREATE UNIQUE INDEX access_groups_account_name ON access_groups (account_id, name COLLATE NOCASE);\n"
     "CREATE INDEX access_groups_account_created ON access_groups (account_id, created_at_ms, id);\n"

     "CREATE TABLE group_members (\n"
     "  group_id TEXT NOT NULL REFERENCES access_groups (id),\n"
     "  account_id TEXT NOT NULL REFERENCES accounts (id),\n"
     "  iam_id TEXT NOT NULL,\n"
     "  type TEXT NOT NULL CHECK (type IN ('user', 'service', 'profile')),\n"
     "  created_by TEXT,\n"
     "  created_at_ms INTEGER NOT NULL,\n"
     "  PRIMARY KEY (group_id, iam_id)\n"
     ") STRICT;\n"
     "CREATE INDEX group_members_account_iam_id ON group_members (account_id, iam_id);\n"

     "CREATE TABLE service_defs (\n"
     "  name TEXT PRIMARY KEY,\n"
     "  document TEXT NOT NULL,\n"
     "  entity_tag TEXT NOT NULL,\n"
     "  created_by TEXT,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  modified_at INTEGER NOT NULL\n"
     ") STRICT;\n"

     "CREATE TABLE access_settings (\n"
     "  account_id TEXT PRIMARY KEY REFERENCES accounts (id),\n"
     "  settings TEXT NOT NULL,\n"
     "  entity_tag TEXT NOT NULL,\n"
     "  modified_at INTEGER NOT NULL\n"
     ") STRICT;\n"},

    /*
     * Identity activity: users' last sign-in (their keys' use is in apikeys),
     * and the stored inactive-identities reports. seq orders reports for
     * "latest" even within one second; references are unique per account.
     */
    {3, "identity activity",
     "ALTER TABLE users ADD COLUMN last_authn INTEGER NOT NULL DEFAULT 0;\n"

     "CREATE TABLE activity_reports (\n"
     "  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
     "  account_id TEXT NOT NULL REFERENCES accounts (id),\n"
     "  reference TEXT NOT NULL,\n"
     "  created_by TEXT NOT NULL,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  report TEXT NOT NULL,\n"
     "  UNIQUE (account_id, reference)\n"
     ") STRICT;\n"
     "CREATE INDEX activity_reports_account_seq ON activity_reports (account_id, seq);\n"},
    /*
     * The audit trail (store_audit.h): one row per record, seq assigned by the
     * domain (no AUTOINCREMENT: an insert must name head + 1), chained by
     * HMAC hashes. account_id is the account acted in, without a foreign key:
     * records outlive what they describe, and a refused request may name an
     * account that does not exist. The triggers make the table append-only
     * for every writer that goes through SQLite's schema (not proof against
     * someone who edits the file: the hash chain is). An "aggregate" record
     * stands for `count` requests between window_start_ms and time_ms (token
     * requests and failed authentications, counted in memory and written in
     * batches: iam/audit_batch.h); every other record has count 1.
     */
    {4, "audit trail",
     "CREATE TABLE audit_events (\n"
     "  seq INTEGER PRIMARY KEY CHECK (seq >= 1),\n"
     "  time_ms INTEGER NOT NULL,\n"
     "  request_id TEXT NOT NULL,\n"
     "  phase TEXT NOT NULL CHECK (phase IN ('request', 'outcome', 'aggregate')),\n"
     "  actor_iam_id TEXT,\n"
     "  actor_account_id TEXT,\n"
     "  actor_apikey_id TEXT,\n"
     "  client_address TEXT,\n"
     "  action TEXT NOT NULL,\n"
     "  method TEXT NOT NULL,\n"
     "  route TEXT NOT NULL,\n"
     "  account_id TEXT,\n"
     "  target_type TEXT,\n"
     "  target_id TEXT,\n"
     "  outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'success', 'failure')),\n"
     "  status INTEGER NOT NULL,\n"
     "  error_code TEXT,\n"
     "  message_code TEXT,\n"
     "  mechanism TEXT,\n"
     "  count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),\n"
     "  window_start_ms INTEGER NOT NULL,\n"
     "  prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),\n"
     "  hash BLOB NOT NULL CHECK (length(hash) = 32)\n"
     ") STRICT;\n"
     "CREATE INDEX audit_events_account_seq ON audit_events (account_id, seq);\n"
     "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events\n"
     "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;\n"
     "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events\n"
     "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;\n"},
    /*
     * Console sign-in sessions (store_sessions.h), shared by every node: named
     * by the SHA-256 of the cookie value (never the value), found by that hash
     * or by identity (the per-identity cap, sign-out everywhere). No foreign
     * key: a session is only ever read back through its identity's checks.
     */
    {5, "console sessions",
     "CREATE TABLE console_sessions (\n"
     "  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),\n"
     "  kind TEXT NOT NULL CHECK (kind IN ('user', 'serviceid')),\n"
     "  iam_id TEXT NOT NULL,\n"
     "  account_id TEXT NOT NULL,\n"
     "  apikey_id TEXT,\n"
     "  created_at INTEGER NOT NULL,\n"
     "  last_seen_at INTEGER NOT NULL,\n"
     "  expires_at INTEGER NOT NULL,\n"
     "  idle_timeout INTEGER NOT NULL CHECK (idle_timeout > 0),\n"
     "  started_at_ms INTEGER NOT NULL\n"
     ") STRICT, WITHOUT ROWID;\n"
     "CREATE INDEX console_sessions_identity ON console_sessions (account_id, iam_id);\n"},
};

#define MIGRATION_COUNT (sizeof migrations / sizeof migrations[0])

int64_t iam_sqlite_schema_latest(void)
{
    return migrations[MIGRATION_COUNT - 1].version;
}

static enum iam_result exec_sql(sqlite3 *db, const char *sql, const char *what, struct iam_error *err)
{
    char *message = NULL;
    int code = sqlite3_exec(db, sql, NULL, NULL, &message);
    if (code == SQLITE_OK)
        return IAM_OK;
    iam_log(IAM_LOG_ERROR, "store_error", "%s: sqlite %d: %s", what, code, message ? message : sqlite3_errstr(code));
    sqlite3_free(message);
    return iam_error_set(err, IAM_ESTORE, NULL, "database migration failed (%s)", what);
}

static enum iam_result current_version(sqlite3 *db, int64_t *version, struct iam_error *err)
{
    sqlite3_stmt *statement = NULL;
    enum iam_result result = IAM_OK;
    int code = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &statement, NULL);
    if (code == SQLITE_OK)
        code = sqlite3_step(statement);
    if (code == SQLITE_ROW) {
        *version = sqlite3_column_int64(statement, 0);
    } else {
        iam_log(IAM_LOG_ERROR, "store_error", "schema version: sqlite %d: %s", code, sqlite3_errmsg(db));
        result = iam_error_set(err, IAM_ESTORE, NULL, "the schema version could not be read");
    }
    sqlite3_finalize(statement);
    return result;
}

static enum iam_result record_version(sqlite3 *db, int64_t version, struct iam_error *err)
{
    sqlite3_stmt *statement = NULL;
    enum iam_result result = IAM_OK;
    int code = sqlite3_prepare_v2(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)", -1,
                                  &statement, NULL);
    if (code == SQLITE_OK)
        code = sqlite3_bind_int64(statement, 1, version);
    if (code == SQLITE_OK)
        code = sqlite3_bind_int64(statement, 2, iam_now());
    if (code == SQLITE_OK)
        code = sqlite3_step(statement);
    if (code != SQLITE_DONE) {
        iam_log(IAM_LOG_ERROR, "store_error", "record migration: sqlite %d: %s", code, sqlite3_errmsg(db));
        result = iam_error_set(err, IAM_ESTORE, NULL, "database migration %lld could not be recorded",
                               (long long)version);
    }
    sqlite3_finalize(statement);
    return result;
}

/* Applies migration `index` unless another process did it first (checked under the write lock). */
static enum iam_result apply(sqlite3 *db, size_t index, struct iam_error *err)
{
    const struct migration *migration = &migrations[index];
    int64_t version = 0;
    enum iam_result result = exec_sql(db, "BEGIN IMMEDIATE", "begin migration", err);
    if (result != IAM_OK)
        return result;
    result = current_version(db, &version, err);
    if (result != IAM_OK || version >= migration->version)
        goto out;
    iam_log(IAM_LOG_INFO, "store_migration", "applying migration %lld: %s", (long long)migration->version,
            migration->description);
    result = exec_sql(db, migration->sql, migration->description, err);
    if (result == IAM_OK)
        result = record_version(db, migration->version, err);
out:
    if (result == IAM_OK)
        result = exec_sql(db, "COMMIT", "commit migration", err);
    if (result != IAM_OK && !sqlite3_get_autocommit(db))
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return result;
}

enum iam_result iam_sqlite_migrate(sqlite3 *db, struct iam_error *err)
{
    int64_t version = 0;
    for (size_t i = 0; i < MIGRATION_COUNT; i++) {
        if (migrations[i].version != (int64_t)i + 1)
            return iam_error_set(err, IAM_EINTERNAL, NULL, "migration %zu is numbered out of order", i);
    }
    enum iam_result result = exec_sql(db,
                                      "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
                                      "  version INTEGER PRIMARY KEY,\n"
                                      "  applied_at INTEGER NOT NULL\n"
                                      ") STRICT",
                                      "schema_migrations", err);
    if (result != IAM_OK)
        return result;
    result = current_version(db, &version, err);
    if (result != IAM_OK)
        return result;
    if (version > iam_sqlite_schema_latest())
        return iam_error_set(err, IAM_ESTORE, NULL,
                             "the database schema (version %lld) is newer than this iamd (version %lld)",
                             (long long)version, (long long)iam_sqlite_schema_latest());
    for (size_t i = (size_t)version; i < MIGRATION_COUNT; i++) {
        result = apply(db, i, err);
        if (result != IAM_OK)
            return result;
    }
    return IAM_OK;
}
