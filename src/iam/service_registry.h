/*
 * service_registry.h: the services an operator registers (beyond the
 * built-in iam-identity, iam-access-management, iam-groups and
 * user-management): their actions, role-to-action maps, resource types,
 * extra resource attributes and the identities allowed to ask /v2/authz
 * about them. One JSON document per service, format in docs/api/services.md:
 *   {name, display_name?, description?, service_type?, service_group_id?,
 *    actions:[id | {id, display_name?, description?}],
 *    roles:{<Name>: [action...] | {display_name?, description?, actions:[...]}},
 *    resource_types?:[...], attributes?:[...], pdp_clients?:[iam_id...]}
 *
 * Rules: name is [a-z0-9-]{2,64} and not a built-in or reserved name; every
 * action is "<name>.<...>", listed once; every action a role names is
 * declared; pdp_clients are service ID or user iam_ids. Only the instance
 * operator (the owner of the bootstrap account) may read or change the
 * registry; others get 403 insufficent_permissions. Writes refresh the
 * decision engine. Errors carry the Policy Management codes (invalid_body,
 * not_found, insufficent_permissions, request_not_processed...).
 */
#ifndef IAM_IAM_SERVICE_REGISTRY_H
#define IAM_IAM_SERVICE_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "store/access_records.h"

#define IAM_SERVICE_ACTIONS_MAX 500
#define IAM_SERVICE_ROLES_MAX 100
#define IAM_SERVICE_PDP_CLIENTS_MAX 100
#define IAM_SERVICE_LIST_MAX 100 /* small lists: resource_types, attributes */
#define IAM_SERVICE_FILE_MAX (1024 * 1024)

/*
 * Checks a service definition and returns its normalised document (a new
 * reference: `name` set, server members removed). `name` is the expected
 * name (from the URL); NULL takes the document's. No store, no authorization.
 */
enum iam_result iam_service_registry_check(struct iam_service *service, const char *name, const json_t *document,
                                           json_t **normalised, struct iam_error *err) IAM_MUST_CHECK;

/*
 * Registers or replaces service `name` with `document` if the stored entity
 * tag is `expected_entity_tag` (NULL: any, including none). `*created` tells
 * a new registration.
 */
enum iam_result iam_service_registry_put(struct iam_service *service, struct iam_arena *arena,
                                         const struct iam_principal *who, const char *name,
                                         const char *expected_entity_tag, const json_t *document,
                                         struct iam_service_def_record *out, bool *created,
                                         struct iam_error *err) IAM_MUST_CHECK;

/* Reads a registered service, or a built-in one (`*builtin` true, no entity tag). */
enum iam_result iam_service_registry_get(struct iam_service *service, struct iam_arena *arena,
                                         const struct iam_principal *who, const char *name,
                                         struct iam_service_def_record *out, bool *builtin,
                                         struct iam_error *err) IAM_MUST_CHECK;

/* Every service: the built-in ones first (marked), then the registered ones by name. */
struct iam_service_registry_entry {
    struct iam_service_def_record record;
    bool builtin;
};

enum iam_result iam_service_registry_list(struct iam_service *service, struct iam_arena *arena,
                                          const struct iam_principal *who, struct iam_service_registry_entry **items,
                                          size_t *count, struct iam_error *err) IAM_MUST_CHECK;

/* Deletes a registered service (built-in ones cannot be). Its policies and custom roles stay, granting nothing. */
enum iam_result iam_service_registry_delete(struct iam_service *service, struct iam_arena *arena,
                                            const struct iam_principal *who, const char *name,
                                            struct iam_error *err) IAM_MUST_CHECK;

/*
 * Loads every "*.json" file of `directory` (in name order) as a service
 * definition, registering or replacing each (unchanged ones are skipped).
 * No authorization: the operator configured the directory. Stops at the
 * first bad file; err->message names it.
 */
enum iam_result iam_service_registry_load_dir(struct iam_service *service, const char *directory,
                                              struct iam_error *err) IAM_MUST_CHECK;

/*
 * The response body of a service: the document's members plus builtin,
 * entity_tag, created_at and modified_at. New reference; NULL when out of memory.
 */
json_t *iam_service_registry_render(const struct iam_service_def_record *record, bool builtin);

#endif
