/*
 * records.h: the rows iamd keeps, as the store hands them to the domain.
 *
 * Strings are NUL-terminated; NULL means "absent" (e.g. a description never
 * set). Records read from the store have their strings and blobs allocated in
 * the caller's arena. Times are seconds since the epoch; 0 means "none".
 */
#ifndef IAM_STORE_RECORDS_H
#define IAM_STORE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IAM_RECORD_HASH_SIZE 32

struct iam_account_record {
    const char *id;            /* 32 lowercase hex */
    const char *name;
    const char *owner_iam_id;  /* the owner user's iam_id */
    const char *state;         /* "ACTIVE" or "DISABLED" */
    int64_t created_at;
    int64_t modified_at;
};

struct iam_user_record {
    const char *iam_id;        /* IBMid-XXXXXXXXXX */
    const char *account_id;
    const char *login;         /* unique across the instance */
    const char *email;
    const char *given_name;
    const char *family_name;
    const char *state;         /* "ACTIVE", "DISABLED" */
    const char *password_hash; /* argon2id encoded string, NULL when none */
    const char *entity_tag;
    int64_t created_at;
    int64_t modified_at;
};

struct iam_service_id_record {
    const char *id;            /* ServiceId-<uuid> */
    const char *iam_id;        /* iam-ServiceId-<uuid> */
    const char *account_id;
    const char *group_id;      /* may be NULL */
    const char *name;
    const char *description;   /* NULL when never set */
    const char *unique_instance_crns; /* JSON array text, "[]" when empty */
    const char *created_by;    /* iam_id of the creator */
    const char *entity_tag;    /* "<version>-<32 hex>" */
    bool locked;
    int64_t created_at;
    int64_t modified_at;
};

struct iam_apikey_record {
    const char *id;            /* ApiKey-<uuid> */
    const char *account_id;
    const char *iam_id;        /* the identity the key authenticates */
    const char *name;
    const char *description;   /* NULL when never set */
    const char *created_by;
    const char *entity_tag;
    const char *action_when_leaked; /* "none", "disable", "delete" */
    uint8_t hash[IAM_RECORD_HASH_SIZE]; /* HMAC-SHA256(pepper, value) */
    const uint8_t *sealed_value; /* AEAD-sealed value when store_value; NULL otherwise */
    size_t sealed_value_length;
    bool locked;
    bool disabled;
    bool support_sessions;
    int64_t created_at;
    int64_t modified_at;
    int64_t expires_at;        /* 0: never */
    int64_t last_authn;        /* 0: never used */
    int64_t authn_count;
};

/* One usage delta for iam_store_apikey_add_usage (batched off the token path). */
struct iam_apikey_usage {
    const char *id;
    int64_t count;             /* added to authn_count */
    int64_t last_authn;        /* last_authn becomes max(last_authn, this) */
};

/* IBM's EnityHistoryRecord. */
struct iam_history_record {
    const char *entity_id;
    int64_t timestamp;
    const char *iam_id;        /* who */
    const char *iam_id_account;
    const char *action;        /* e.g. "CreateServiceId" */
    const char *params;        /* JSON array of strings */
    const char *message;
};

struct iam_signing_key_record {
    const char *kid;
    const char *alg;           /* "RS256", "ES256", "EdDSA" */
    const char *public_jwk;    /* JSON text */
    const uint8_t *sealed_private; /* AEAD-sealed PKCS#8 PEM */
    size_t sealed_private_length;
    int64_t created_at;
    int64_t activate_at;       /* signs from this time */
    int64_t retire_at;         /* stops signing at this time */
    int64_t expire_at;         /* leaves the JWKS at this time */
};

struct iam_settings_record {
    const char *account_id;
    const char *settings;      /* JSON object text */
    const char *entity_tag;
    int64_t modified_at;
};

/* Sort orders for list queries. */
enum iam_sort_order { IAM_SORT_ASC, IAM_SORT_DESC };

struct iam_service_id_query {
    const char *account_id;    /* required */
    const char *name;          /* exact match, optional */
    const char *name_contains; /* substring match, optional (filter `name co "x"`) */
    const char *group_id;      /* optional */
    const char *sort;          /* "name", "description", "created_at", "modified_at"; NULL: created_at */
    enum iam_sort_order order;
    int64_t offset;
    int64_t limit;             /* 1..100 */
};

struct iam_apikey_query {
    const char *account_id;    /* required */
    const char *iam_id;        /* optional: keys of this identity only */
    const char *type;          /* optional: "user" or "serviceid" */
    const char *name_contains; /* optional */
    const char *sort;          /* "name", "description", "created_at", "created_by"; NULL: created_at */
    enum iam_sort_order order;
    int64_t offset;
    int64_t limit;
};

#endif
