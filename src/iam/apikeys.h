/*
 * apikeys.h: API keys of users and service IDs (IBM Identity API v1 semantics).
 *
 * A key value is generated in the key format of crypto/keyformat.h (or
 * supplied by the client, >= 32 characters), stored only as
 * HMAC-SHA256(pepper, value), and returned once, in the create result.
 * With store_value (service-ID keys only) the value is also kept AEAD-sealed
 * under the KEK with AAD "apikey-value:<id>" and returned on reads.
 * A locked key cannot be changed or deleted, but still authenticates.
 */
#ifndef IAM_IAM_APIKEYS_H
#define IAM_IAM_APIKEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "store/records.h"

#define IAM_NAME_MAX 255
#define IAM_DESCRIPTION_MAX 1024
#define IAM_APIKEY_SUPPLIED_MIN 32
#define IAM_APIKEY_SUPPLIED_MAX 128

struct iam_apikey_create_request {
    const char *name;               /* required, 1..255 */
    const char *description;        /* optional, <= 1024 */
    const char *iam_id;             /* required: the identity the key is for */
    const char *account_id;         /* optional: defaults to the identity's account */
    const char *apikey;             /* optional client-supplied value */
    const char *action_when_leaked; /* optional: "none" (default), "disable", "delete" */
    bool store_value;
    bool support_sessions;
    bool locked;                    /* Entity-Lock header */
    bool disabled;                  /* Entity-Disable header */
    int64_t expires_at;             /* 0: never */
};

/*
 * Creates a key. `*out` is the stored record (arena memory); `*value` is the
 * key value, to be shown once (arena memory). `creator` becomes created_by.
 */
enum iam_result iam_apikey_create(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *creator, const struct iam_apikey_create_request *request,
                                  struct iam_apikey_record *out, const char **value, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Builds (but does not store) a key record and its value: used by
 * iam_apikey_create and by service-ID creation, which stores the first key in
 * the same transaction as the service ID. Validates the request.
 */
enum iam_result iam_apikey_prepare(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *creator, const struct iam_apikey_create_request *request,
                                   const char *account_id, struct iam_apikey_record *out, const char **value,
                                   struct iam_error *err) IAM_MUST_CHECK;

/* --- the rest of the key operations (reads, lists, changes) --- */

/*
 * Rules every operation below follows: the key is loaded from the caller's
 * account (another account's key is IAM_ENOTFOUND, "BXNIM0102E"), then
 * iam_authz_check() decides; every change gets a new entity tag
 * ("<version+1>-<32 hex>") and one history record, in one store transaction.
 * A locked key refuses update and delete with IAM_ELOCKED ("BXNIM0510E").
 */

/* A key as the reads return it. Everything is arena memory. */
struct iam_apikey_view {
    struct iam_apikey_record record;
    const char *value;                  /* the value for store_value keys (and on create), else NULL */
    bool has_history;                   /* include_history was asked */
    struct iam_history_record *history; /* oldest first */
    size_t history_count;
    bool has_activity;                  /* include_activity was asked */
    int64_t authn_count;                /* stored count plus deltas not yet flushed */
    int64_t last_authn;                 /* 0: never */
};

struct iam_apikey_read_options {
    bool include_history;
    bool include_activity;
};

/* Reads key `id` of the caller's account. */
enum iam_result iam_apikey_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                               const char *id, const struct iam_apikey_read_options *options,
                               struct iam_apikey_view *out, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Reads the key whose value is `value` (the IAM-ApiKey header), if it belongs
 * to the caller's account; IAM_ENOTFOUND otherwise.
 */
enum iam_result iam_apikey_get_by_value(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *value,
                                        const struct iam_apikey_read_options *options, struct iam_apikey_view *out,
                                        struct iam_error *err) IAM_MUST_CHECK;

struct iam_apikey_list_request {
    const char *account_id; /* NULL: the caller's account */
    const char *iam_id;     /* NULL: the caller (scope entity); a filter with scope account */
    const char *scope;      /* NULL or "entity": one identity's keys; "account": every key of the account */
    const char *type;       /* NULL, "user" or "serviceid" */
    const char *filter;     /* NULL or `name co "text"` */
    const char *sort;       /* NULL, "name", "description", "created_at", "created_by" */
    const char *order;      /* NULL, "asc" or "desc" */
    bool include_history;
    int64_t offset;         /* >= 0 */
    int64_t limit;          /* 1..100 */
};

struct iam_apikey_page {
    struct iam_apikey_view *items; /* arena array */
    size_t count;
    bool has_more;                 /* a row exists past this page */
};

/* Lists one page of keys. Malformed scope, type, filter, sort or order: IAM_EINVAL. */
enum iam_result iam_apikey_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                                const struct iam_apikey_list_request *request, struct iam_apikey_page *out,
                                struct iam_error *err) IAM_MUST_CHECK;

/* What an update changes; NULL strings and false `set_` flags leave a field alone. */
struct iam_apikey_update_request {
    const char *name;               /* 1..255 */
    const char *description;        /* "" clears it */
    const char *action_when_leaked; /* "none", "disable", "delete" */
    bool set_support_sessions;
    bool support_sessions;
    bool set_expires_at;
    int64_t expires_at;             /* 0: never; a past time expires the key at once (create refuses one) */
};

/*
 * Updates key `id` if its entity tag is `expected_entity_tag` (NULL: any,
 * If-Match "*"); stale: IAM_ECONFLICT "BXNIM0501E". `*out` is the result.
 */
enum iam_result iam_apikey_update(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, const char *id, const char *expected_entity_tag,
                                  const struct iam_apikey_update_request *request, struct iam_apikey_view *out,
                                  struct iam_error *err) IAM_MUST_CHECK;

/* Deletes key `id` (and its history). Tokens already issued stay valid until they expire. */
enum iam_result iam_apikey_delete(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, const char *id,
                                  struct iam_error *err) IAM_MUST_CHECK;

/* Locks or unlocks key `id`; a no-op when it already is in that state. */
enum iam_result iam_apikey_set_locked(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *id, bool locked,
                                      struct iam_error *err) IAM_MUST_CHECK;

/*
 * Disables or enables key `id`; a no-op when it already is in that state.
 * Allowed on a locked key: disabling is how a leaked locked key is stopped.
 */
enum iam_result iam_apikey_set_disabled(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *id, bool disabled,
                                        struct iam_error *err) IAM_MUST_CHECK;

/* --- helpers shared by the identity modules (apikeys.c, service_ids.c, settings.c) --- */

/* The next entity tag after `previous` (NULL: the first, "1-<32 hex>"), in the arena. */
enum iam_result iam_entity_tag_next(struct iam_arena *arena, const char *previous, const char **out,
                                    struct iam_error *err) IAM_MUST_CHECK;

/*
 * Fills `out` with a history record of `who` doing `action` on `entity_id`
 * now; `params` (NULL-terminated, may be NULL) becomes a JSON array of strings.
 */
enum iam_result iam_history_make(struct iam_arena *arena, const struct iam_principal *who, const char *entity_id,
                                 const char *action, const char *message, const char *const *params,
                                 struct iam_history_record *out, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Parses a list filter: `name eq "text"` gives `*equals`, `name co "text"`
 * gives `*contains` (arena copies; the other one NULL). Inside the quotes,
 * \" and \\ escape. Anything else: IAM_EINVAL "BXNIM0110E".
 */
enum iam_result iam_name_filter_parse(struct iam_arena *arena, const char *filter, const char **equals,
                                      const char **contains, struct iam_error *err) IAM_MUST_CHECK;

/* IAM_OK when `text` is 1..`max` characters (UTF-8) without control characters; else IAM_EINVAL naming `what`. */
enum iam_result iam_text_check(const char *what, const char *text, size_t max, bool allow_empty,
                               struct iam_error *err) IAM_MUST_CHECK;

/* True when `iam_id` names a service ID ("iam-ServiceId-..."). */
bool iam_is_service_id_iam_id(const char *iam_id);

/*
 * The client's error for a failed store call that is neither "not found" nor
 * "conflict": ESTORE becomes IAM_EUNAVAILABLE "BXNIM0503E", the rest BXNIM0500E.
 */
enum iam_result iam_identity_store_failure(enum iam_result result, struct iam_error *err);

/* Parses a list order: NULL or "asc", "desc"; else IAM_EINVAL "BXNIM0110E". */
enum iam_result iam_sort_order_parse(const char *order, enum iam_sort_order *out, struct iam_error *err) IAM_MUST_CHECK;

/* Adds the usage deltas not yet flushed to a key's stored counters. */
void iam_apikey_activity(struct iam_service *service, const struct iam_apikey_record *record, int64_t *authn_count,
                         int64_t *last_authn);

#endif
