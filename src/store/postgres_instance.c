/*
 * postgres_instance.c: PostgreSQL rows that belong to the instance rather than
 * to an account: metadata facts, token signing keys and revoked refresh tokens
 * (the mirror of sqlite_instance.c).
 *
 * Purges delete by time; a purge that deletes nothing does not bump the
 * revision, so periodic purges (run by every node) do not invalidate caches.
 */
#include "store/postgres_internal.h"

/* --- metadata --- */

static enum iam_result read_value(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    return iam_pg_text(arena, result, row, 0, item) ? IAM_OK : IAM_ENOMEM;
}

enum iam_result iam_pg_meta_get(struct iam_store *store, struct iam_arena *arena, const char *key,
                                const char **value)
{
    static struct iam_pg_statement statement = IAM_PG_STATEMENT("SELECT value FROM meta WHERE key = $1::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, key);
    return iam_pg_read_row(store, &statement, &params, arena, "meta_get", read_value, (void *)value);
}

static enum iam_result meta_write(struct iam_store *store, struct iam_pg_statement *statement, const char *operation,
                                  const char *key, const char *value)
{
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, key);
    iam_pg_param_text(&params, value);
    result = iam_pg_run(conn, statement, &params, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

/*
 * The once-only guard (bootstrap): the insert runs under the store-wide write
 * lock and the primary key, so of two nodes inserting the same key at once,
 * one gets IAM_OK and the other IAM_ECONFLICT.
 */
enum iam_result iam_pg_meta_insert(struct iam_store *store, const char *key, const char *value)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("INSERT INTO meta (key, value) VALUES ($1::text, $2::text)");
    return meta_write(store, &statement, "meta_insert", key, value);
}

enum iam_result iam_pg_meta_set(struct iam_store *store, const char *key, const char *value)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("INSERT INTO meta (key, value) VALUES ($1::text, $2::text) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    return meta_write(store, &statement, "meta_set", key, value);
}

/* --- signing keys --- */

enum iam_result iam_pg_signing_key_insert(struct iam_store *store, const struct iam_signing_key_record *key)
{
    static const char *const operation = "signing_key_insert";
    static struct iam_pg_statement statement = IAM_PG_STATEMENT(
        "INSERT INTO signing_keys (kid, alg, public_jwk, sealed_private, created_at, activate_at, retire_at, "
        "expire_at) VALUES ($1::text, $2::text, $3::text, $4::bytea, $5::bigint, $6::bigint, $7::bigint, $8::bigint)");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, key->kid);
    iam_pg_param_text(&params, key->alg);
    iam_pg_param_text(&params, key->public_jwk);
    iam_pg_param_bytea(&params, key->sealed_private, key->sealed_private_length);
    iam_pg_param_int64(&params, key->created_at);
    iam_pg_param_int64(&params, key->activate_at);
    iam_pg_param_int64(&params, key->retire_at);
    iam_pg_param_int64(&params, key->expire_at);
    result = iam_pg_run(conn, &statement, &params, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

static enum iam_result read_signing_key(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    struct iam_signing_key_record *key = item;
    if (!iam_pg_text(arena, result, row, 0, &key->kid) || !iam_pg_text(arena, result, row, 1, &key->alg) ||
        !iam_pg_text(arena, result, row, 2, &key->public_jwk) ||
        !iam_pg_bytea(arena, result, row, 3, &key->sealed_private, &key->sealed_private_length))
        return IAM_ENOMEM;
    key->created_at = iam_pg_int64(result, row, 4);
    key->activate_at = iam_pg_int64(result, row, 5);
    key->retire_at = iam_pg_int64(result, row, 6);
    key->expire_at = iam_pg_int64(result, row, 7);
    return IAM_OK;
}

enum iam_result iam_pg_signing_key_list(struct iam_store *store, struct iam_arena *arena,
                                        struct iam_signing_key_record **items, size_t *count)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT kid, alg, public_jwk, sealed_private, created_at, activate_at, retire_at, "
                         "expire_at FROM signing_keys ORDER BY activate_at ASC, kid ASC");
    void *rows = NULL;
    enum iam_result result = iam_pg_read_rows(store, &statement, NULL, arena, "signing_key_list", sizeof **items,
                                              read_signing_key, SIZE_MAX, &rows, count, NULL);
    if (result == IAM_OK)
        *items = rows;
    return result;
}

/* Runs a write that deletes by time: one bigint parameter. */
static enum iam_result delete_before(struct iam_store *store, struct iam_pg_statement *statement,
                                     const char *operation, int64_t now)
{
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_int64(&params, now);
    result = iam_pg_run(conn, statement, &params, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

enum iam_result iam_pg_signing_key_purge(struct iam_store *store, int64_t now)
{
    /* expire_at 0 means "no expiry" (records.h: 0 is "none"). */
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("DELETE FROM signing_keys WHERE expire_at <> 0 AND expire_at < $1::bigint");
    return delete_before(store, &statement, "signing_key_purge", now);
}

/* --- revoked refresh tokens --- */

enum iam_result iam_pg_revocation_insert(struct iam_store *store, const char *jti, int64_t expires_at)
{
    static const char *const operation = "revocation_insert";
    /* Revoking twice is not an error; the later expiry wins. */
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("INSERT INTO revoked_refresh_tokens (jti, expires_at) VALUES ($1::text, $2::bigint) "
                         "ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at "
                         "WHERE excluded.expires_at > revoked_refresh_tokens.expires_at");
    struct iam_pg_conn *conn;
    struct iam_pg_params params = {0};
    enum iam_result result = iam_pg_write_begin(store, &conn, operation);
    if (result != IAM_OK)
        return result;
    iam_pg_param_text(&params, jti);
    iam_pg_param_int64(&params, expires_at);
    result = iam_pg_run(conn, &statement, &params, operation, NULL);
    return iam_pg_write_end(conn, result, true, operation);
}

static enum iam_result read_nothing(struct iam_arena *arena, const PGresult *result, int row, void *item)
{
    (void)arena;
    (void)result;
    (void)row;
    (void)item;
    return IAM_OK;
}

enum iam_result iam_pg_revocation_exists(struct iam_store *store, const char *jti, bool *revoked)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("SELECT 1 FROM revoked_refresh_tokens WHERE jti = $1::text");
    struct iam_pg_params params = {0};
    iam_pg_param_text(&params, jti);
    enum iam_result result = iam_pg_read_row(store, &statement, &params, NULL, "revocation_exists", read_nothing, NULL);
    if (result == IAM_OK) {
        *revoked = true;
    } else if (result == IAM_ENOTFOUND) {
        *revoked = false;
        result = IAM_OK;
    }
    return result;
}

enum iam_result iam_pg_revocation_purge(struct iam_store *store, int64_t now)
{
    static struct iam_pg_statement statement =
        IAM_PG_STATEMENT("DELETE FROM revoked_refresh_tokens WHERE expires_at < $1::bigint");
    return delete_before(store, &statement, "revocation_purge", now);
}
