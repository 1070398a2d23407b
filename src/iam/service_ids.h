/*
 * service_ids.h: service IDs (IBM Identity API v1 semantics): create (with an
 * optional first API key stored in the same transaction), get, list, update,
 * delete (with its keys) and lock/unlock.
 *
 * Rules: a service ID is loaded from the caller's account (another account's
 * is IAM_ENOTFOUND, "BXNIM0103E"), then iam_authz_check() decides. Every
 * change gets a new entity tag ("<version+1>-<32 hex>") and a history record.
 * A locked service ID refuses update and delete with IAM_ELOCKED
 * ("BXNIM0510E"); so does delete while any of its keys is locked.
 * Results and strings are arena memory.
 */
#ifndef IAM_IAM_SERVICE_IDS_H
#define IAM_IAM_SERVICE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/apikeys.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "store/records.h"

#define IAM_SERVICE_ID_CRNS_MAX 100    /* unique_instance_crns entries */
#define IAM_SERVICE_ID_CRN_LENGTH_MAX 512
#define IAM_SERVICE_ID_GROUP_ID_MAX 128

struct iam_service_id_create_request {
    const char *account_id;                  /* required: 32 lowercase hex */
    const char *name;                        /* required, 1..255 */
    const char *description;                 /* optional, <= 1024 */
    const char *group_id;                    /* optional */
    const char *const *unique_instance_crns; /* optional */
    size_t unique_instance_crn_count;
    bool locked;                             /* Entity-Lock header */
    /* Optional first key; its iam_id and account_id are the new service ID's. */
    const struct iam_apikey_create_request *apikey;
};

/* A service ID as the operations return it. */
struct iam_service_id_view {
    struct iam_service_id_record record;
    const char **unique_instance_crns;  /* parsed from the record */
    size_t unique_instance_crn_count;
    bool has_history;                   /* include_history was asked */
    struct iam_history_record *history; /* oldest first */
    size_t history_count;
    bool has_activity;                  /* include_activity was asked */
    int64_t authn_count;                /* summed over the service ID's keys */
    int64_t last_authn;                 /* the latest over its keys; 0: never */
    bool has_apikey;                    /* create only: the first key, value included */
    struct iam_apikey_view apikey;
};

struct iam_service_id_read_options {
    bool include_history;
    bool include_activity;
};

/* Creates a service ID; `who` becomes created_by (of it and of its first key). */
enum iam_result iam_service_id_create(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who,
                                      const struct iam_service_id_create_request *request,
                                      struct iam_service_id_view *out, struct iam_error *err) IAM_MUST_CHECK;

/* Reads service ID `id` of the caller's account. */
enum iam_result iam_service_id_get(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, const char *id,
                                   const struct iam_service_id_read_options *options, struct iam_service_id_view *out,
                                   struct iam_error *err) IAM_MUST_CHECK;

struct iam_service_id_list_request {
    const char *account_id; /* required */
    const char *name;       /* exact match */
    const char *group_id;
    const char *filter;     /* `name co "text"` or `name eq "text"` */
    const char *sort;       /* NULL, "name", "description", "created_at", "modified_at" */
    const char *order;      /* NULL, "asc", "desc" */
    bool include_history;
    int64_t offset;         /* >= 0 */
    int64_t limit;          /* 1..100 */
};

struct iam_service_id_page {
    struct iam_service_id_view *items; /* arena array */
    size_t count;
    bool has_more;
};

/* Lists one page. Missing account_id or a malformed parameter: IAM_EINVAL "BXNIM0110E". */
enum iam_result iam_service_id_list(struct iam_service *service, struct iam_arena *arena,
                                    const struct iam_principal *who, const struct iam_service_id_list_request *request,
                                    struct iam_service_id_page *out, struct iam_error *err) IAM_MUST_CHECK;

/* What an update changes; NULL and false leave a field alone. */
struct iam_service_id_update_request {
    const char *name;        /* 1..255 */
    const char *description; /* "" clears it */
    bool set_unique_instance_crns;
    const char *const *unique_instance_crns; /* an empty list clears it */
    size_t unique_instance_crn_count;
};

/*
 * Updates service ID `id` if its entity tag is `expected_entity_tag` (NULL:
 * any); stale: IAM_ECONFLICT "BXNIM0501E".
 */
enum iam_result iam_service_id_update(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *id,
                                      const char *expected_entity_tag,
                                      const struct iam_service_id_update_request *request,
                                      struct iam_service_id_view *out, struct iam_error *err) IAM_MUST_CHECK;

/* Deletes service ID `id`, its API keys and their history. */
enum iam_result iam_service_id_delete(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *id,
                                      struct iam_error *err) IAM_MUST_CHECK;

/* Locks or unlocks service ID `id`; a no-op when it already is in that state. */
enum iam_result iam_service_id_set_locked(struct iam_service *service, struct iam_arena *arena,
                                          const struct iam_principal *who, const char *id, bool locked,
                                          struct iam_error *err) IAM_MUST_CHECK;

#endif
