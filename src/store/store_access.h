/*
 * store_access.h: the access-side part of the store interface (policies,
 * custom roles, access groups, members, registered services, access
 * settings) and the account/user administration the access issue needs.
 * Same rules as store.h: one transaction per call, the account in every
 * WHERE clause, IAM_ENOTFOUND / IAM_ECONFLICT / IAM_ESTORE, arena results,
 * every write bumps the revision (except permit statistics).
 */
#ifndef IAM_STORE_STORE_ACCESS_H
#define IAM_STORE_STORE_ACCESS_H

#include "store/access_records.h"
#include "store/store.h"

/* --- accounts and users (administration) --- */
enum iam_result iam_store_account_list(struct iam_store *store, struct iam_arena *arena, int64_t offset,
                                       int64_t limit, struct iam_account_record **items, size_t *count,
                                       bool *has_more) IAM_MUST_CHECK;
/* Replaces name, state, owner_iam_id and modified_at. */
enum iam_result iam_store_account_update(struct iam_store *store, const struct iam_account_record *account) IAM_MUST_CHECK;

enum iam_result iam_store_user_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    int64_t offset, int64_t limit, struct iam_user_record **items, size_t *count,
                                    bool *has_more) IAM_MUST_CHECK;
/* Replaces login, email, given/family name, state, password_hash, entity_tag, modified_at if the tag matches (NULL: any). */
enum iam_result iam_store_user_update(struct iam_store *store, const struct iam_user_record *user,
                                      const char *expected_entity_tag) IAM_MUST_CHECK;
/* Deletes the user, its API keys, its group memberships and the policies whose subject it is. */
enum iam_result iam_store_user_delete(struct iam_store *store, const char *account_id, const char *iam_id) IAM_MUST_CHECK;

/* --- policies --- */
enum iam_result iam_store_policy_insert(struct iam_store *store, const struct iam_policy_record *policy) IAM_MUST_CHECK;
enum iam_result iam_store_policy_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *id, struct iam_policy_record *out) IAM_MUST_CHECK;
enum iam_result iam_store_policy_list(struct iam_store *store, struct iam_arena *arena,
                                      const struct iam_policy_query *query, struct iam_policy_record **items,
                                      size_t *count, bool *has_more) IAM_MUST_CHECK;
/* Replaces type, api_version, subject_kind/value, service_name, document, state, entity_tag, modified_*. */
enum iam_result iam_store_policy_update(struct iam_store *store, const struct iam_policy_record *policy,
                                        const char *expected_entity_tag) IAM_MUST_CHECK;
/* Removes the row for good (soft deletion is an update to state "deleted"). */
enum iam_result iam_store_policy_delete(struct iam_store *store, const char *account_id, const char *id) IAM_MUST_CHECK;
/* Active policies of an account with this exact subject (for conflict checks and limits). */
enum iam_result iam_store_policy_count_for_subject(struct iam_store *store, const char *account_id,
                                                   const char *subject_kind, const char *subject_value,
                                                   int64_t *count) IAM_MUST_CHECK;
/* Adds permit statistics; does not bump the revision. */
enum iam_result iam_store_policy_add_permits(struct iam_store *store, const struct iam_policy_permit *permits,
                                             size_t count) IAM_MUST_CHECK;

/* --- custom roles --- */
enum iam_result iam_store_role_insert(struct iam_store *store, const struct iam_role_record *role) IAM_MUST_CHECK;
enum iam_result iam_store_role_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                   const char *id, struct iam_role_record *out) IAM_MUST_CHECK;
/* Every custom role of an account (at most 40), optionally of one service, by name. */
enum iam_result iam_store_role_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    const char *service_name, struct iam_role_record **items,
                                    size_t *count) IAM_MUST_CHECK;
/* Replaces display_name, description, actions, entity_tag, modified_*. */
enum iam_result iam_store_role_update(struct iam_store *store, const struct iam_role_record *role,
                                      const char *expected_entity_tag) IAM_MUST_CHECK;
/* Deletes the role (the domain removes it from policies first, in its own calls). */
enum iam_result iam_store_role_delete(struct iam_store *store, const char *account_id, const char *id) IAM_MUST_CHECK;

/* --- access groups --- */
enum iam_result iam_store_group_insert(struct iam_store *store, const struct iam_group_record *group) IAM_MUST_CHECK;
enum iam_result iam_store_group_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                    const char *id, struct iam_group_record *out) IAM_MUST_CHECK;
/* One page; `*total` is the number of rows matching the query (IBM's total_count). */
enum iam_result iam_store_group_list(struct iam_store *store, struct iam_arena *arena,
                                     const struct iam_group_query *query, struct iam_group_record **items,
                                     size_t *count, int64_t *total) IAM_MUST_CHECK;
/* Replaces name, description, entity_tag, modified_*. */
enum iam_result iam_store_group_update(struct iam_store *store, const struct iam_group_record *group,
                                       const char *expected_entity_tag) IAM_MUST_CHECK;
/* Deletes the group, its members and the policies whose subject it is. */
enum iam_result iam_store_group_delete(struct iam_store *store, const char *account_id, const char *id) IAM_MUST_CHECK;
enum iam_result iam_store_group_count(struct iam_store *store, const char *account_id, int64_t *count) IAM_MUST_CHECK;

/* Adds a member; IAM_ECONFLICT when already a member. */
enum iam_result iam_store_member_add(struct iam_store *store, const struct iam_group_member_record *member) IAM_MUST_CHECK;
enum iam_result iam_store_member_remove(struct iam_store *store, const char *account_id, const char *group_id,
                                        const char *iam_id) IAM_MUST_CHECK;
enum iam_result iam_store_member_get(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                     const char *group_id, const char *iam_id,
                                     struct iam_group_member_record *out) IAM_MUST_CHECK;
enum iam_result iam_store_member_list(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                      const char *group_id, int64_t offset, int64_t limit,
                                      struct iam_group_member_record **items, size_t *count,
                                      int64_t *total) IAM_MUST_CHECK;
/* How many groups `iam_id` belongs to in the account (limit 50). */
enum iam_result iam_store_member_group_count(struct iam_store *store, const char *account_id, const char *iam_id,
                                             int64_t *count) IAM_MUST_CHECK;

/* --- registered services (instance-wide) --- */
/* Inserts or replaces if the tag matches (NULL: any, including absent). */
enum iam_result iam_store_service_def_put(struct iam_store *store, const struct iam_service_def_record *service,
                                          const char *expected_entity_tag) IAM_MUST_CHECK;
enum iam_result iam_store_service_def_get(struct iam_store *store, struct iam_arena *arena, const char *name,
                                          struct iam_service_def_record *out) IAM_MUST_CHECK;
enum iam_result iam_store_service_def_list(struct iam_store *store, struct iam_arena *arena,
                                           struct iam_service_def_record **items, size_t *count) IAM_MUST_CHECK;
enum iam_result iam_store_service_def_delete(struct iam_store *store, const char *name) IAM_MUST_CHECK;

/* --- access-management settings --- */
enum iam_result iam_store_access_settings_get(struct iam_store *store, struct iam_arena *arena,
                                              const char *account_id,
                                              struct iam_access_settings_record *out) IAM_MUST_CHECK;
enum iam_result iam_store_access_settings_put(struct iam_store *store, const struct iam_access_settings_record *settings,
                                              const char *expected_entity_tag) IAM_MUST_CHECK;

/* --- the decision engine's load --- */
/*
 * Reads every active policy, custom role, group membership, registered service
 * and account, in one read transaction (a consistent snapshot), and the
 * revision it corresponds to.
 */
enum iam_result iam_store_access_snapshot(struct iam_store *store, struct iam_arena *arena,
                                          struct iam_access_snapshot *out) IAM_MUST_CHECK;

#endif
