/*
 * access_records.h: the access-side rows: policies, custom roles, access
 * groups and their members, registered services, and per-account
 * access-management settings. Same conventions as records.h: strings NUL-
 * terminated, NULL for absent, times in seconds, arena-allocated when read.
 */
#ifndef IAM_STORE_ACCESS_RECORDS_H
#define IAM_STORE_ACCESS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/records.h"

/*
 * A policy. `document` is the canonical JSON form (v2 shape, see
 * docs/architecture.md): {type, description?, subject{attributes[]},
 * resource{attributes[], tags[]?}, control{grant{roles[{role_id}]}}, pattern?, rule?}.
 * The subject is also kept in two indexed columns for lookups.
 */
struct iam_policy_record {
    const char *id;            /* lowercase uuid */
    const char *account_id;
    const char *type;          /* "access" or "authorization" */
    const char *api_version;   /* "v1" or "v2": which API created it (v1 lists show v2 ones as placeholders) */
    const char *subject_kind;  /* "iam_id", "access_group_id", or "service" (authorization policies) */
    const char *subject_value; /* the iam_id, the group id, or the source service name */
    const char *service_name;  /* the resource's serviceName if it names one, else NULL (list filter) */
    const char *document;      /* JSON text */
    const char *state;         /* "active" or "deleted" */
    const char *entity_tag;
    const char *created_by;
    const char *modified_by;
    int64_t created_at_ms;     /* policies use millisecond timestamps, as IBM does */
    int64_t modified_at_ms;
    int64_t last_permit_at;    /* seconds; 0: never */
    int64_t last_permit_frequency;
};

struct iam_policy_query {
    const char *account_id;    /* required */
    const char *iam_id;        /* optional: subject_kind iam_id and this value */
    const char *access_group_id; /* optional */
    const char *type;          /* optional */
    const char *service_name;  /* optional */
    const char *state;         /* optional: "active" (default when NULL) or "deleted" */
    const char *sort;          /* NULL (created_at), "id", "type", "created_at", "last_modified_at", "state" */
    enum iam_sort_order order;
    int64_t offset;
    int64_t limit;             /* 1..100 */
};

/* One permit-statistics delta (batched like API-key usage). */
struct iam_policy_permit {
    const char *id;
    int64_t count;
    int64_t last_permit_at;
};

struct iam_role_record {
    const char *id;            /* hex of "customRole-<32 hex>-<Name>" */
    const char *account_id;
    const char *name;          /* capitalised alphanumeric, unique per account and service */
    const char *display_name;
    const char *description;
    const char *service_name;
    const char *actions;       /* JSON array of action strings */
    const char *crn;
    const char *entity_tag;
    const char *created_by;
    const char *modified_by;
    int64_t created_at_ms;
    int64_t modified_at_ms;
};

struct iam_group_record {
    const char *id;            /* AccessGroupId-<uuid> */
    const char *account_id;
    const char *name;          /* unique per account, case-insensitively */
    const char *description;
    const char *entity_tag;
    const char *created_by;
    const char *modified_by;
    int64_t created_at_ms;
    int64_t modified_at_ms;
};

struct iam_group_query {
    const char *account_id;    /* required */
    const char *member_iam_id; /* optional: groups this identity is a member of */
    const char *search;        /* optional: case-insensitive substring of name or description */
    const char *sort;          /* NULL (name), "name", "description", "created_at" */
    enum iam_sort_order order;
    int64_t offset;
    int64_t limit;             /* 1..100 */
};

struct iam_group_member_record {
    const char *group_id;
    const char *account_id;
    const char *iam_id;
    const char *type;          /* "user", "service" or "profile" */
    const char *created_by;
    int64_t created_at_ms;
};

/* A registered service: its actions and role-to-action maps (JSON document). */
struct iam_service_def_record {
    const char *name;          /* e.g. "cloud-object-storage" */
    const char *document;      /* JSON text, see docs/api.md "Service registry" */
    const char *entity_tag;
    const char *created_by;
    int64_t created_at;
    int64_t modified_at;
};

/* Per-account access-management settings (IBM section 3.5), JSON text. */
struct iam_access_settings_record {
    const char *account_id;
    const char *settings;
    const char *entity_tag;
    int64_t modified_at;
};

/* A whole account's access data, for compiling the decision engine. */
struct iam_access_snapshot {
    struct iam_policy_record *policies;      /* active only */
    size_t policy_count;
    struct iam_role_record *roles;
    size_t role_count;
    struct iam_group_member_record *members;
    size_t member_count;
    struct iam_service_def_record *services;
    size_t service_count;
    struct iam_account_record *accounts;     /* for owner shortcuts */
    size_t account_count;
    int64_t revision;                        /* the store revision the snapshot was read at */
};

#endif
