/*
 * sqlite_instance.c: SQLite rows that belong to the instance rather than to an
 * account: metadata facts, token signing keys and revoked refresh tokens.
 *
 * Purges delete by time; a purge that deletes nothing does not bump the
 * revision, so periodic purges do not invalidate caches.
 */
#include "store/sqlite_internal.h"

/* --- metadata --- */

enum iam_result iam_sqlite_meta_get(struct iam_store *base, struct iam_arena *arena, const char *key,
                                    const char **value)
{
    static const char *const operation = "meta_get";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_META_GET, "SELECT value FROM meta WHERE key = ?1", &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, key)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK && !iam_sqlite_column_text(arena, statement, 0, value))
        result = IAM_ENOMEM;
out:
    iam_sqlite_reset(statement);
    return result;
}

static enum iam_result meta_write(struct iam_store *base, enum iam_sqlite_statement slot, const char *sql,
                                  const char *operation, const char *key, const char *value)
{
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, key) || iam_sqlite_bind_text(statement, 2, value)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_meta_insert(struct iam_store *base, const char *key, const char *value)
{
    return meta_write(base, IAM_SQLITE_STMT_META_INSERT, "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                      "meta_insert", key, value);
}

enum iam_result iam_sqlite_meta_set(struct iam_store *base, const char *key, const char *value)
{
    return meta_write(base, IAM_SQLITE_STMT_META_SET,
                      "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      "meta_set", key, value);
}

/* --- signing keys --- */

enum iam_result iam_sqlite_signing_key_insert(struct iam_store *base, const struct iam_signing_key_record *key)
{
    static const char *const operation = "signing_key_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SIGNING_KEY_INSERT,
                                "INSERT INTO signing_keys (kid, alg, public_jwk, sealed_private, created_at, "
                                "activate_at, retire_at, expire_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, key->kid) || iam_sqlite_bind_text(statement, 2, key->alg) ||
        iam_sqlite_bind_text(statement, 3, key->public_jwk) ||
        iam_sqlite_bind_blob(statement, 4, key->sealed_private, key->sealed_private_length) ||
        iam_sqlite_bind_int64(statement, 5, key->created_at) ||
        iam_sqlite_bind_int64(statement, 6, key->activate_at) ||
        iam_sqlite_bind_int64(statement, 7, key->retire_at) || iam_sqlite_bind_int64(statement, 8, key->expire_at)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_signing_key_list(struct iam_store *base, struct iam_arena *arena,
                                            struct iam_signing_key_record **items, size_t *count)
{
    static const char *const operation = "signing_key_list";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    struct iam_signing_key_record *keys = NULL;
    size_t used = 0, capacity = 0;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_SIGNING_KEY_LIST,
                                "SELECT kid, alg, public_jwk, sealed_private, created_at, activate_at, retire_at, "
                                "expire_at FROM signing_keys ORDER BY activate_at ASC, kid ASC",
                                &statement);
    if (result != IAM_OK)
        return result;
    while ((result = iam_sqlite_step(conn, statement, operation)) == IAM_OK) {
        struct iam_signing_key_record *grown =
            iam_sqlite_array_reserve(arena, keys, used, &capacity, sizeof *keys);
        if (!grown) {
            result = IAM_ENOMEM;
            goto out;
        }
        keys = grown;
        struct iam_signing_key_record *key = &keys[used];
        if (!iam_sqlite_column_text(arena, statement, 0, &key->kid) ||
            !iam_sqlite_column_text(arena, statement, 1, &key->alg) ||
            !iam_sqlite_column_text(arena, statement, 2, &key->public_jwk) ||
            !iam_sqlite_column_blob(arena, statement, 3, &key->sealed_private, &key->sealed_private_length)) {
            result = IAM_ENOMEM;
            goto out;
        }
        key->created_at = sqlite3_column_int64(statement, 4);
        key->activate_at = sqlite3_column_int64(statement, 5);
        key->retire_at = sqlite3_column_int64(statement, 6);
        key->expire_at = sqlite3_column_int64(statement, 7);
        used++;
    }
    if (result == IAM_ENOTFOUND)
        result = IAM_OK;
out:
    iam_sqlite_reset(statement);
    if (result == IAM_OK) {
        *items = keys;
        *count = used;
    }
    return result;
}

/* Runs a write that deletes by time: one int64 parameter. */
static enum iam_result delete_before(struct iam_store *base, enum iam_sqlite_statement slot, const char *sql,
                                     const char *operation, int64_t now)
{
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, slot, sql, &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_int64(statement, 1, now)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_signing_key_purge(struct iam_store *base, int64_t now)
{
    /* expire_at 0 means "no expiry" (records.h: 0 is "none"). */
    return delete_before(base, IAM_SQLITE_STMT_SIGNING_KEY_PURGE,
                         "DELETE FROM signing_keys WHERE expire_at <> 0 AND expire_at < ?1", "signing_key_purge",
                         now);
}

/* --- revoked refresh tokens --- */

enum iam_result iam_sqlite_revocation_insert(struct iam_store *base, const char *jti, int64_t expires_at)
{
    static const char *const operation = "revocation_insert";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement;
    enum iam_result result = iam_sqlite_write_begin(base, &conn, operation);
    if (result != IAM_OK)
        return result;
    /* Revoking twice is not an error; the later expiry wins. */
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_REVOCATION_INSERT,
                                "INSERT INTO revoked_refresh_tokens (jti, expires_at) VALUES (?1, ?2) "
                                "ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at "
                                "WHERE excluded.expires_at > revoked_refresh_tokens.expires_at",
                                &statement);
    if (result != IAM_OK)
        goto out;
    if (iam_sqlite_bind_text(statement, 1, jti) || iam_sqlite_bind_int64(statement, 2, expires_at)) {
        result = iam_sqlite_fail_last(conn, operation);
        iam_sqlite_reset(statement);
        goto out;
    }
    result = iam_sqlite_run(conn, statement, operation, NULL);
out:
    return iam_sqlite_write_end(conn, result, operation);
}

enum iam_result iam_sqlite_revocation_exists(struct iam_store *base, const char *jti, bool *revoked)
{
    static const char *const operation = "revocation_exists";
    struct iam_sqlite_conn *conn;
    sqlite3_stmt *statement = NULL;
    enum iam_result result = iam_sqlite_conn_get(base, &conn);
    if (result != IAM_OK)
        return result;
    result = iam_sqlite_prepare(conn, IAM_SQLITE_STMT_REVOCATION_EXISTS,
                                "SELECT 1 FROM revoked_refresh_tokens WHERE jti = ?1", &statement);
    if (result != IAM_OK)
        return result;
    if (iam_sqlite_bind_text(statement, 1, jti)) {
        result = iam_sqlite_fail_last(conn, operation);
        goto out;
    }
    result = iam_sqlite_step(conn, statement, operation);
    if (result == IAM_OK) {
        *revoked = true;
    } else if (result == IAM_ENOTFOUND) {
        *revoked = false;
        result = IAM_OK;
    }
out:
    iam_sqlite_reset(statement);
    return result;
}

enum iam_result iam_sqlite_revocation_purge(struct iam_store *base, int64_t now)
{
    return delete_before(base, IAM_SQLITE_STMT_REVOCATION_PURGE,
                         "DELETE FROM revoked_refresh_tokens WHERE expires_at < ?1", "revocation_purge", now);
}
