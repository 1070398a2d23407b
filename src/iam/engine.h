/*
 * engine.h: the policy decision engine (the PDP).
 *
 * The engine compiles every active policy, custom role, group membership and
 * service definition (built-in iam-identity, iam-access-management and
 * iam-groups, plus registered services) into an immutable, indexed, in-memory
 * snapshot: strings interned, policies indexed by account and subject,
 * role-to-action maps resolved into per-policy action sets, stringMatch
 * patterns precompiled. A decision touches no database and allocates nothing.
 *
 * Semantics (IBM): deny by default, allow-union. The subject set is the
 * iam_id, its access groups, and AccessGroupId-PublicAccess. A policy
 * matches when every resource attribute it names matches the request (an
 * attribute it omits is unconstrained; accountId must equal the request's
 * account), its conditions (v2 `rule`) hold at `now`, and the requested
 * action is in the union of its roles' actions for the resource's service.
 * serviceType "service" matches every registered service,
 * "platform_service" every built-in account-management service;
 * service_group_id "IAM" matches the iam-* services.
 *
 * The snapshot is replaced when the store revision moves
 * (iam_engine_refresh); readers keep using the snapshot they started with.
 * All functions are thread-safe.
 */
#ifndef IAM_IAM_ENGINE_H
#define IAM_IAM_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "store/access_records.h"
#include "store/store.h"

#define IAM_PUBLIC_ACCESS_GROUP "AccessGroupId-PublicAccess"

struct iam_engine;

/* Builds the engine and its first snapshot from the store. The store is not owned. */
enum iam_result iam_engine_new(struct iam_store *store, struct iam_engine **out, struct iam_error *err) IAM_MUST_CHECK;

/* Builds an engine from a snapshot the caller assembled (tests, benchmarks); no store behind it. */
enum iam_result iam_engine_new_from_snapshot(const struct iam_access_snapshot *snapshot, struct iam_engine **out,
                                             struct iam_error *err) IAM_MUST_CHECK;

void iam_engine_free(struct iam_engine *engine);

/*
 * Rebuilds the snapshot when the store revision differs from the current
 * one (or always when `force`). Cheap when nothing changed (one revision read).
 */
enum iam_result iam_engine_refresh(struct iam_engine *engine, bool force) IAM_MUST_CHECK;

/* The store revision of the current snapshot. Lock-free. */
int64_t iam_engine_revision(struct iam_engine *engine);

/*
 * A number that changes whenever the snapshot is replaced (the store revision
 * moved, or a forced refresh) and never repeats in this process, even when the
 * store's revision goes back (a database restored from a backup). Caches of
 * what the store said (credentials, verified tokens) tag their entries with
 * it, read before the store, and trust an entry only while it is unchanged.
 * Lock-free.
 */
int64_t iam_engine_snapshot_serial(struct iam_engine *engine);

/* The access policies compiled into the current snapshot, every account's (for /metrics); 0 for NULL. */
size_t iam_engine_policy_count(struct iam_engine *engine);

/*
 * The staleness rule: how long memory may stand in for the store.
 *
 * Every iam_engine_refresh is a revision check. One that reads the store
 * revision (and rebuilds when it moved) confirms the snapshot current as of
 * the moment the check started ("confirmed_at"); one that fails (the store is
 * unreachable, or the rebuild failed) marks the snapshot unconfirmed until a
 * later check succeeds. In-memory state (this snapshot's decisions, cached
 * credentials and verified tokens) may be served while it is current:
 *
 *   - the latest check succeeded (the store is reachable), and no more than
 *     max_staleness + 5 s + 2 poll intervals have passed since confirmed_at
 *     (a check that hangs instead of failing does not extend the window), or
 *   - the latest check failed, and now <= confirmed_at + max_staleness.
 *
 * Otherwise callers answer 503 (IAM_EUNAVAILABLE). With max_staleness 0
 * nothing is served from memory once a check has failed. A failure is seen
 * by the next check: the service polls every engine_refresh_ms.
 * Engines without a store (iam_engine_new_from_snapshot) are always current.
 */
struct iam_engine_store_status {
    bool reachable;           /* the latest revision check succeeded */
    bool current;             /* memory may be served (the rule above) */
    int64_t confirmed_age_ms; /* milliseconds since confirmed_at (0 without a store) */
};

/* Fills `out` (see above). Lock-free; for the decision paths, /readyz and /metrics. */
void iam_engine_store_status(struct iam_engine *engine, struct iam_engine_store_status *out);

/* IAM_OK when in-memory state may be served (status.current), else IAM_EUNAVAILABLE. */
enum iam_result iam_engine_check_current(struct iam_engine *engine) IAM_MUST_CHECK;

/*
 * Sets max_staleness (milliseconds, >= 0; default 30000) and the interval at
 * which the owner polls iam_engine_refresh (default 500), which bounds a hung check.
 */
void iam_engine_set_staleness(struct iam_engine *engine, int64_t max_staleness_ms, int64_t poll_interval_ms);

/*
 * For tests: replaces the monotonic clock (nanoseconds) of the staleness rule;
 * NULL restores CLOCK_MONOTONIC. The snapshot counts as confirmed at the
 * moment of the call.
 */
void iam_engine_set_clock(struct iam_engine *engine, int64_t (*clock_ns)(void));

struct iam_engine_attribute {
    const char *name;
    const char *value;
};

struct iam_engine_request {
    const char *account_id;      /* the resource's account (required) */
    const char *subject_iam_id;  /* user or service ID iam_id (required) */
    const char *action;          /* "<service>.<noun>.<verb>"; NULL when asking for roles */
    const struct iam_engine_attribute *resource; /* serviceName, serviceInstance, resourceType, resource, resourceGroupId, ... */
    size_t resource_count;
    const struct iam_engine_attribute *environment; /* extra environment attributes (may be NULL) */
    size_t environment_count;
    int64_t now;                 /* seconds since the epoch, for time-based conditions */
};

/* Result of the fast path. */
struct iam_engine_decision {
    bool permitted;
    const char *policy_id;       /* a policy that granted it (snapshot memory valid until the next refresh; copy it) */
};

/*
 * The fast path: permitted or not, and one granting policy. No allocation.
 * IAM_EINVAL for a malformed request (missing account, subject or action).
 */
enum iam_result iam_engine_decide(struct iam_engine *engine, const struct iam_engine_request *request,
                                  struct iam_engine_decision *out) IAM_MUST_CHECK;

/* A role a subject holds on a resource, with the actions it grants there. */
struct iam_engine_role_grant {
    const char *role_crn;
    const char *display_name;
    const char *description;
    bool platform;               /* a platform role (Viewer..Administrator) */
    const char **actions;        /* arena memory */
    size_t action_count;
    const char *policy_id;       /* the policy that grants it */
    const char *via_group_id;    /* NULL when the policy names the subject directly */
};

struct iam_engine_evaluation {
    bool permitted;
    const char **actions;        /* union of actions the subject holds on this resource (obligation) */
    size_t action_count;
    struct iam_engine_role_grant *grants; /* every matching policy's roles */
    size_t grant_count;
    const char **groups;         /* the subject's groups (expanded subject set, minus the iam_id) */
    size_t group_count;
};

/*
 * The full evaluation behind /v2/authz obligations and /v2/authz/roles:
 * everything the subject holds on the resource. Arena memory.
 */
enum iam_result iam_engine_evaluate(struct iam_engine *engine, struct iam_arena *arena,
                                    const struct iam_engine_request *request,
                                    struct iam_engine_evaluation *out) IAM_MUST_CHECK;

/*
 * Explains a decision as JSON (new reference; NULL on ENOMEM):
 * {permitted, action, subject:{iam_id, groups[]}, granted_by:[{policy_id, via_group_id?, roles[]}],
 *  near_misses:[{policy_id, via_group_id?, missing:[...human-readable reasons...]}]}
 * near_misses lists the subject's policies in the account that did not grant the
 * action, each with what it lacks (an attribute that differs, a role without the
 * action, a condition that does not hold), nearest first, at most 10.
 */
json_t *iam_engine_explain(struct iam_engine *engine, struct iam_arena *arena, const struct iam_engine_request *request);

/* --- the service registry as compiled into the snapshot (for validating policies and roles) --- */

/* True when `service_name` is built in or registered. */
bool iam_engine_service_exists(struct iam_engine *engine, const char *service_name);

/* True when `service_name` is one of the built-in iam-* / user-management services. */
bool iam_engine_service_builtin(struct iam_engine *engine, const char *service_name);

/* True when `iam_id` is listed in the registered service's pdp_clients (may ask /v2/authz about it). */
bool iam_engine_service_pdp_client(struct iam_engine *engine, const char *service_name, const char *iam_id);

/* True when `iam_id` owns account `account_id` (the snapshot's account list; no store read). */
bool iam_engine_account_owner(struct iam_engine *engine, const char *account_id, const char *iam_id);

/* True when `action` is defined by its service ("<service>.<noun>.<verb>"). */
bool iam_engine_action_exists(struct iam_engine *engine, const char *action);

/*
 * Resolves a role CRN for policies in `account_id` on `service_name` (NULL: a
 * policy over several services, where only platform and generic service roles
 * apply). Fills display name and description (snapshot memory, copy them).
 * IAM_ENOTFOUND when the role does not exist or does not apply there.
 */
enum iam_result iam_engine_role_resolve(struct iam_engine *engine, const char *account_id, const char *service_name,
                                        const char *role_crn, const char **display_name,
                                        const char **description) IAM_MUST_CHECK;

/*
 * The roles that apply to `service_name` (NULL or "alliamserviceroles": the
 * platform roles plus Reader, Writer and Manager) as IBM's RoleCollection
 * parts: {"system_roles":[...], "service_roles":[...]}, each role
 * {display_name, description, actions[], crn}. Custom roles come from the store.
 */
json_t *iam_engine_roles_for_service(struct iam_engine *engine, const char *service_name);

/* The built-in service definitions as JSON documents (name -> document), for docs and tests. */
json_t *iam_engine_builtin_services(void);

#endif
