/*
 * tables.c: the list of iamd's tables and their columns (see tables.h).
 *
 * One entry per table, in foreign-key order: accounts before everything
 * that names an account, access_groups before group_members. Columns are
 * listed in the order of the CREATE TABLE in migrations.c.
 */
#include "store/tables.h"

#include <stdio.h>

#define TEXT(name) {name, IAM_STORE_COLUMN_TEXT}
#define INTEGER(name) {name, IAM_STORE_COLUMN_INTEGER}
#define BOOLEAN(name) {name, IAM_STORE_COLUMN_BOOLEAN}
#define BLOB(name) {name, IAM_STORE_COLUMN_BLOB}

/* A table entry; the column array is a compound literal of static storage. */
#define TABLE(name, order_by, identity, ...)                                                               \
    {name, order_by, identity,                                                                             \
     sizeof((const struct iam_store_column[]){__VA_ARGS__}) / sizeof(struct iam_store_column), \
     (const struct iam_store_column[]){__VA_ARGS__}, false}

/* A table whose rows are never removed (see struct iam_store_table). */
#define APPEND_ONLY_TABLE(name, order_by, identity, ...)                                                   \
    {name, order_by, identity,                                                                             \
     sizeof((const struct iam_store_column[]){__VA_ARGS__}) / sizeof(struct iam_store_column), \
     (const struct iam_store_column[]){__VA_ARGS__}, true}

// clang-format off
const struct iam_store_table iam_store_tables[] = {
    TABLE("meta", "key", NULL, TEXT("key"), TEXT("value")),
    TABLE("accounts", "id", NULL, TEXT("id"), TEXT("name"), TEXT("owner_iam_id"), TEXT("state"), INTEGER("created_at"), INTEGER("modified_at")),
    TABLE("users", "iam_id", NULL, TEXT("iam_id"), TEXT("account_id"), TEXT("login"), TEXT("email"), TEXT("given_name"), TEXT("family_name"), TEXT("state"), TEXT("password_hash"), TEXT("entity_tag"), INTEGER("created_at"), INTEGER("modified_at"), INTEGER("last_authn")),
    TABLE("service_ids", "id", NULL, TEXT("id"), TEXT("iam_id"), TEXT("account_id"), TEXT("group_id"), TEXT("name"), TEXT("description"), TEXT("unique_instance_crns"), TEXT("created_by"), TEXT("entity_tag"), BOOLEAN("locked"), INTEGER("created_at"), INTEGER("modified_at")),
    TABLE("apikeys", "id", NULL, TEXT("id"), TEXT("account_id"), TEXT("iam_id"), TEXT("name"), TEXT("description"), TEXT("created_by"), TEXT("entity_tag"), TEXT("action_when_leaked"), BLOB("hash"), BLOB("sealed_value"), BOOLEAN("locked"), BOOLEAN("disabled"), BOOLEAN("support_sessions"), INTEGER("created_at"), INTEGER("modified_at"), INTEGER("expires_at"), INTEGER("last_authn"), INTEGER("authn_count")),
    TABLE("history", "seq", "seq", INTEGER("seq"), TEXT("entity_id"), TEXT("account_id"), INTEGER("occurred_at"), TEXT("iam_id"), TEXT("iam_id_account"), TEXT("action"), TEXT("params"), TEXT("message")),
    TABLE("signing_keys", "kid", NULL, TEXT("kid"), TEXT("alg"), TEXT("public_jwk"), BLOB("sealed_private"), INTEGER("created_at"), INTEGER("activate_at"), INTEGER("retire_at"), INTEGER("expire_at")),
    TABLE("account_settings", "account_id", NULL, TEXT("account_id"), TEXT("settings"), TEXT("entity_tag"), INTEGER("modified_at")),
    TABLE("revoked_refresh_tokens", "jti", NULL, TEXT("jti"), INTEGER("expires_at")),
    TABLE("policies", "id", NULL, TEXT("id"), TEXT("account_id"), TEXT("type"), TEXT("api_version"), TEXT("subject_kind"), TEXT("subject_value"), TEXT("service_name"), TEXT("document"), TEXT("state"), TEXT("entity_tag"), TEXT("created_by"), TEXT("modified_by"), INTEGER("created_at_ms"), INTEGER("modified_at_ms"), INTEGER("last_permit_at"), INTEGER("last_permit_frequency")),
    TABLE("custom_roles", "id", NULL, TEXT("id"), TEXT("account_id"), TEXT("name"), TEXT("display_name"), TEXT("description"), TEXT("service_name"), TEXT("actions"), TEXT("crn"), TEXT("entity_tag"), TEXT("created_by"), TEXT("modified_by"), INTEGER("created_at_ms"), INTEGER("modified_at_ms")),
    TABLE("access_groups", "id", NULL, TEXT("id"), TEXT("account_id"), TEXT("name"), TEXT("description"), TEXT("entity_tag"), TEXT("created_by"), TEXT("modified_by"), INTEGER("created_at_ms"), INTEGER("modified_at_ms")),
    TABLE("group_members", "group_id, iam_id", NULL, TEXT("group_id"), TEXT("account_id"), TEXT("iam_id"), TEXT("type"), TEXT("created_by"), INTEGER("created_at_ms")),
    TABLE("service_defs", "name", NULL, TEXT("name"), TEXT("document"), TEXT("entity_tag"), TEXT("created_by"), INTEGER("created_at"), INTEGER("modified_at")),
    TABLE("access_settings", "account_id", NULL, TEXT("account_id"), TEXT("settings"), TEXT("entity_tag"), INTEGER("modified_at")),
    TABLE("activity_reports", "seq", "seq", INTEGER("seq"), TEXT("account_id"), TEXT("reference"), TEXT("created_by"), INTEGER("created_at"), TEXT("report")),
    APPEND_ONLY_TABLE("audit_events", "seq", NULL, INTEGER("seq"), INTEGER("time_ms"), TEXT("request_id"), TEXT("phase"), TEXT("actor_iam_id"), TEXT("actor_account_id"), TEXT("actor_apikey_id"), TEXT("client_address"), TEXT("action"), TEXT("method"), TEXT("route"), TEXT("account_id"), TEXT("target_type"), TEXT("target_id"), TEXT("outcome"), INTEGER("status"), TEXT("error_code"), TEXT("message_code"), TEXT("mechanism"), INTEGER("count"), INTEGER("window_start_ms"), BLOB("prev_hash"), BLOB("hash")),
    TABLE("console_sessions", "hash", NULL, BLOB("hash"), TEXT("kind"), TEXT("iam_id"), TEXT("account_id"), TEXT("apikey_id"), INTEGER("created_at"), INTEGER("last_seen_at"), INTEGER("expires_at"), INTEGER("idle_timeout"), INTEGER("started_at_ms")),
};
// clang-format on

const size_t iam_store_table_count = sizeof iam_store_tables / sizeof iam_store_tables[0];

_Static_assert(sizeof iam_store_tables / sizeof iam_store_tables[0] <= IAM_STORE_TABLES_MAX,
               "raise IAM_STORE_TABLES_MAX");

bool iam_store_table_column_list(const struct iam_store_table *table, char *out, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return false;
    out[0] = '\0';
    for (size_t i = 0; i < table->column_count; i++) {
        int written = snprintf(out + used, size - used, "%s%s", i > 0 ? ", " : "", table->columns[i].name);
        if (written < 0 || (size_t)written >= size - used)
            return false;
        used += (size_t)written;
    }
    return true;
}
