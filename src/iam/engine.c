/*
 * engine.c: the decision engine's lifecycle and fast paths (engine.h).
 *
 * Snapshots are immutable and reference counted. A reader takes the current
 * snapshot under a mutex held only for a pointer copy and a reference
 * increment, so readers never wait for a rebuild: iam_engine_refresh reads
 * and compiles outside the lock and swaps the pointer in. The engine keeps
 * its reference to a replaced snapshot for at least one more refresh and
 * RETIRED_GRACE_NS, so snapshot memory handed out (policy ids, role names)
 * outlives engine.h's promise ("until the next refresh") and a copy made right
 * after a decision is always safe; a snapshot is freed once the engine and its
 * last reader have released it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/time.h"
#include "iam/engine_internal.h"
#include "store/store_access.h"

/* Replaced snapshots still referenced by the engine (newest first), kept for a grace period. */
struct retired_snapshot {
    struct engine_snapshot *snapshot;
    int64_t retired_ns;
    struct retired_snapshot *next;
};

/* How long a replaced snapshot stays allocated at least, so memory handed out just before a refresh
 * (a policy id being copied) is never freed under the reader. */
#define RETIRED_GRACE_NS 2000000000LL

/* Defaults of the staleness rule (engine.h); the service sets its own. */
#define DEFAULT_MAX_STALENESS_MS 30000
#define DEFAULT_POLL_INTERVAL_MS 500

/* A revision check that has not returned after max staleness + this + two poll intervals counts as failed. */
#define STALL_GRACE_MS 5000

struct iam_engine {
    pthread_mutex_t lock;    /* guards current */
    pthread_mutex_t rebuild; /* one rebuild at a time; guards retired */
    struct engine_snapshot *current;
    _Atomic int64_t revision; /* current->revision, readable without the lock */
    _Atomic int64_t serial;   /* bumped by every install: never repeats (iam_engine_snapshot_serial) */
    struct retired_snapshot *retired;
    struct iam_store *store; /* not owned; NULL for engines built from a caller's snapshot */
    /*
     * The staleness rule (engine.h). Times are the engine clock's (monotonic ns)
     * at the START of a revision check: the snapshot was current at least then.
     */
    _Atomic int64_t confirmed_ns;     /* the latest check that found the snapshot current */
    _Atomic int64_t failed_ns;        /* the latest check that failed (0: none) */
    _Atomic int64_t max_staleness_ms;
    _Atomic int64_t poll_interval_ms;
    int64_t (*_Atomic clock_ns)(void);
};

static int64_t engine_now_ns(struct iam_engine *engine)
{
    int64_t (*clock_ns)(void) = atomic_load(&engine->clock_ns);
    return clock_ns ? clock_ns() : iam_monotonic_ns();
}

/* Raises `*target` to `value` unless it is already later (several threads check the revision). */
static void atomic_raise(_Atomic int64_t *target, int64_t value)
{
    int64_t seen = atomic_load(target);
    while (seen < value && !atomic_compare_exchange_weak(target, &seen, value))
        ;
}

struct engine_snapshot *engine_snapshot_acquire(struct iam_engine *engine)
{
    pthread_mutex_lock(&engine->lock);
    struct engine_snapshot *snapshot = engine->current;
    atomic_fetch_add_explicit(&snapshot->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&engine->lock);
    return snapshot;
}

void engine_snapshot_release(struct engine_snapshot *snapshot)
{
    if (snapshot && atomic_fetch_sub_explicit(&snapshot->refs, 1, memory_order_acq_rel) == 1)
        engine_snapshot_free(snapshot);
}

/* Makes `snapshot` current. Called with engine->rebuild held. */
static void engine_install(struct iam_engine *engine, struct engine_snapshot *snapshot)
{
    pthread_mutex_lock(&engine->lock);
    struct engine_snapshot *replaced = engine->current;
    engine->current = snapshot;
    atomic_store(&engine->revision, snapshot->revision);
    atomic_fetch_add(&engine->serial, 1);
    pthread_mutex_unlock(&engine->lock);
    int64_t now = iam_monotonic_ns();
    struct retired_snapshot *entry = malloc(sizeof *entry);
    if (entry) {
        *entry = (struct retired_snapshot){replaced, now, engine->retired};
        engine->retired = entry;
    } else {
        engine_snapshot_release(replaced); /* still valid until its readers are done */
    }
    /* Drop the engine's reference to snapshots past the grace period, always keeping the newest. */
    struct retired_snapshot **link = engine->retired ? &engine->retired->next : NULL;
    while (link && *link) {
        struct retired_snapshot *old = *link;
        if (now - old->retired_ns < RETIRED_GRACE_NS) {
            link = &old->next;
            continue;
        }
        *link = old->next;
        engine_snapshot_release(old->snapshot);
        free(old);
    }
}

static enum iam_result engine_alloc(struct iam_store *store, struct iam_engine **out)
{
    struct iam_engine *engine = calloc(1, sizeof *engine);
    if (!engine)
        return IAM_ENOMEM;
    if (pthread_mutex_init(&engine->lock, NULL) != 0) {
        free(engine);
        return IAM_ENOMEM;
    }
    if (pthread_mutex_init(&engine->rebuild, NULL) != 0) {
        pthread_mutex_destroy(&engine->lock);
        free(engine);
        return IAM_ENOMEM;
    }
    engine->store = store;
    atomic_init(&engine->revision, 0);
    atomic_init(&engine->serial, 1);
    atomic_init(&engine->confirmed_ns, 0);
    atomic_init(&engine->failed_ns, 0);
    atomic_init(&engine->max_staleness_ms, DEFAULT_MAX_STALENESS_MS);
    atomic_init(&engine->poll_interval_ms, DEFAULT_POLL_INTERVAL_MS);
    atomic_init(&engine->clock_ns, NULL);
    *out = engine;
    return IAM_OK;
}

/* Reads the store's access data and compiles it. */
static enum iam_result engine_load(struct iam_store *store, struct engine_snapshot **out, struct iam_error *err)
{
    struct iam_arena *arena = iam_arena_new();
    if (!arena)
        return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory loading access policies.");
    struct iam_access_snapshot input;
    memset(&input, 0, sizeof input);
    enum iam_result result = iam_store_access_snapshot(store, arena, &input);
    if (result != IAM_OK)
        iam_error_set(err, result, "BXNIM0500E", "Could not read the access policies: %s.", iam_strerror(result));
    else
        result = engine_snapshot_compile(&input, out, err);
    iam_arena_free(arena);
    return result;
}

enum iam_result iam_engine_new(struct iam_store *store, struct iam_engine **out, struct iam_error *err)
{
    *out = NULL;
    if (!store)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0500E", "The decision engine needs a store.");
    int64_t started_ns = iam_monotonic_ns();
    struct engine_snapshot *snapshot = NULL;
    enum iam_result result = engine_load(store, &snapshot, err);
    if (result != IAM_OK)
        return result;
    struct iam_engine *engine;
    if ((result = engine_alloc(store, &engine)) != IAM_OK) {
        engine_snapshot_free(snapshot);
        return iam_error_set(err, result, "BXNIM0500E", "Out of memory.");
    }
    engine->current = snapshot;
    atomic_store(&engine->revision, snapshot->revision);
    atomic_store(&engine->confirmed_ns, started_ns);
    *out = engine;
    return IAM_OK;
}

enum iam_result iam_engine_new_from_snapshot(const struct iam_access_snapshot *snapshot, struct iam_engine **out,
                                             struct iam_error *err)
{
    *out = NULL;
    if (!snapshot)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0500E", "No access snapshot given.");
    struct engine_snapshot *compiled = NULL;
    enum iam_result result = engine_snapshot_compile(snapshot, &compiled, err);
    if (result != IAM_OK)
        return result;
    struct iam_engine *engine;
    if ((result = engine_alloc(NULL, &engine)) != IAM_OK) {
        engine_snapshot_free(compiled);
        return iam_error_set(err, result, "BXNIM0500E", "Out of memory.");
    }
    engine->current = compiled;
    atomic_store(&engine->revision, compiled->revision);
    *out = engine;
    return IAM_OK;
}

void iam_engine_free(struct iam_engine *engine)
{
    if (!engine)
        return;
    while (engine->retired) {
        struct retired_snapshot *next = engine->retired->next;
        engine_snapshot_release(engine->retired->snapshot);
        free(engine->retired);
        engine->retired = next;
    }
    engine_snapshot_release(engine->current);
    pthread_mutex_destroy(&engine->rebuild);
    pthread_mutex_destroy(&engine->lock);
    free(engine);
}

int64_t iam_engine_revision(struct iam_engine *engine)
{
    return engine ? atomic_load(&engine->revision) : 0;
}

int64_t iam_engine_snapshot_serial(struct iam_engine *engine)
{
    return engine ? atomic_load(&engine->serial) : 0;
}

size_t iam_engine_policy_count(struct iam_engine *engine)
{
    if (!engine)
        return 0;
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    size_t count = snapshot->policy_count;
    engine_snapshot_release(snapshot);
    return count;
}

/* Records the outcome of a revision check that started at `started_ns`. */
static enum iam_result engine_checked(struct iam_engine *engine, int64_t started_ns, enum iam_result result)
{
    atomic_raise(result == IAM_OK ? &engine->confirmed_ns : &engine->failed_ns, started_ns);
    return result;
}

enum iam_result iam_engine_refresh(struct iam_engine *engine, bool force)
{
    if (!engine)
        return IAM_EINVAL;
    if (!engine->store)
        return IAM_OK; /* built from a caller's snapshot: nothing to reload */
    int64_t started_ns = engine_now_ns(engine);
    int64_t revision = 0;
    enum iam_result result = iam_store_revision(engine->store, &revision);
    if (result != IAM_OK)
        return engine_checked(engine, started_ns, result);
    if (!force && iam_engine_revision(engine) == revision)
        return engine_checked(engine, started_ns, IAM_OK);
    pthread_mutex_lock(&engine->rebuild);
    /*
     * Another thread may have rebuilt while this one waited: then the store's
     * revision is the engine's now. Compared for equality, not order: a
     * database restored from a backup goes back in revisions, and the caches
     * keyed on the revision must not outlive that.
     */
    if (!force && iam_engine_revision(engine) != revision &&
        iam_store_revision(engine->store, &revision) == IAM_OK && iam_engine_revision(engine) == revision) {
        pthread_mutex_unlock(&engine->rebuild);
        return engine_checked(engine, started_ns, IAM_OK);
    }
    struct engine_snapshot *snapshot = NULL;
    result = engine_load(engine->store, &snapshot, NULL);
    if (result == IAM_OK)
        engine_install(engine, snapshot);
    pthread_mutex_unlock(&engine->rebuild);
    /* A failed rebuild leaves a snapshot older than the store: not confirmed either. */
    return engine_checked(engine, started_ns, result);
}

/* --------------------------------------------------------- staleness */

void iam_engine_set_staleness(struct iam_engine *engine, int64_t max_staleness_ms, int64_t poll_interval_ms)
{
    if (!engine)
        return;
    atomic_store(&engine->max_staleness_ms, max_staleness_ms > 0 ? max_staleness_ms : 0);
    atomic_store(&engine->poll_interval_ms, poll_interval_ms > 0 ? poll_interval_ms : DEFAULT_POLL_INTERVAL_MS);
}

void iam_engine_set_clock(struct iam_engine *engine, int64_t (*clock_ns)(void))
{
    if (!engine)
        return;
    /* Restart the bookkeeping on the new clock's scale: confirmed now, no failure seen. */
    atomic_store(&engine->clock_ns, clock_ns);
    atomic_store(&engine->failed_ns, 0);
    atomic_store(&engine->confirmed_ns, engine_now_ns(engine));
}

void iam_engine_store_status(struct iam_engine *engine, struct iam_engine_store_status *out)
{
    memset(out, 0, sizeof *out);
    out->reachable = true;
    out->current = true;
    if (!engine || !engine->store)
        return; /* no store behind it: its snapshot is all there is */
    int64_t now_ns = engine_now_ns(engine);
    int64_t confirmed_ns = atomic_load(&engine->confirmed_ns);
    int64_t failed_ns = atomic_load(&engine->failed_ns);
    int64_t max_staleness_ms = atomic_load(&engine->max_staleness_ms);
    int64_t age_ms = now_ns > confirmed_ns ? (now_ns - confirmed_ns) / 1000000 : 0;
    out->confirmed_age_ms = age_ms;
    /* The latest check to start decides: a success that started before (or with) a failure does not count. */
    out->reachable = confirmed_ns > failed_ns;
    if (out->reachable)
        /* A check that hangs (a database that neither answers nor refuses) must not extend the window forever. */
        out->current = age_ms <= max_staleness_ms + STALL_GRACE_MS + 2 * atomic_load(&engine->poll_interval_ms);
    else
        out->current = max_staleness_ms > 0 && now_ns - confirmed_ns <= max_staleness_ms * 1000000;
}

enum iam_result iam_engine_check_current(struct iam_engine *engine)
{
    struct iam_engine_store_status status;
    iam_engine_store_status(engine, &status);
    return status.current ? IAM_OK : IAM_EUNAVAILABLE;
}

enum iam_result engine_replace(struct iam_engine *engine, const struct iam_access_snapshot *input,
                               struct iam_error *err)
{
    struct engine_snapshot *snapshot = NULL;
    enum iam_result result = engine_snapshot_compile(input, &snapshot, err);
    if (result != IAM_OK)
        return result;
    pthread_mutex_lock(&engine->rebuild);
    engine_install(engine, snapshot);
    pthread_mutex_unlock(&engine->rebuild);
    return IAM_OK;
}

/* ---------------------------------------------------------------- decide */

/* The first policy among `indexes` that grants the action and applies, or NULL. */
static const struct engine_policy *first_grant(const struct engine_context *context,
                                               const struct engine_entry *entries, uint32_t count)
{
    const struct engine_snapshot *snapshot = context->snapshot;
    for (uint32_t i = 0; i < count; i++) {
        if (!engine_entry_grants_bit(snapshot, &entries[i], context->service, (uint32_t)context->action_local))
            continue;
        const struct engine_policy *policy = &snapshot->policies[entries[i].policy];
        if (engine_policy_applies(context, policy))
            return policy;
    }
    return NULL;
}

static const struct engine_policy *subject_grant(const struct engine_context *context,
                                                 const struct engine_subject *subject)
{
    if (!subject)
        return NULL;
    const struct engine_bucket *bucket = engine_subject_bucket(subject, context->service_name_id);
    const struct engine_policy *policy = bucket ? first_grant(context, bucket->policies, bucket->count) : NULL;
    return policy ? policy : first_grant(context, subject->generic, subject->generic_count);
}

enum iam_result iam_engine_decide(struct iam_engine *engine, const struct iam_engine_request *request,
                                  struct iam_engine_decision *out)
{
    if (!engine || !request || !out || !request->action)
        return IAM_EINVAL;
    out->permitted = false;
    out->policy_id = NULL;
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    struct engine_context context;
    enum iam_result result = engine_context_init(&context, snapshot, request);
    if (result != IAM_OK || context.action_local < 0 || context.account_id == ENGINE_NO_STRING)
        goto out;
    const struct engine_subject *subject = engine_subject_find(snapshot, context.account_id, context.subject_id);
    const struct engine_policy *policy = subject_grant(&context, subject);
    for (uint32_t i = 0; !policy && subject && i < subject->group_count; i++)
        policy = subject_grant(&context, subject->groups[i]);
    if (!policy)
        policy = subject_grant(&context, engine_subject_find(snapshot, context.account_id, snapshot->id_public_access));
    if (policy) {
        out->permitted = true;
        out->policy_id = policy->id;
    }
out:
    engine_snapshot_release(snapshot);
    return result;
}

/* -------------------------------------------------------------- evaluate */

struct candidate {
    const struct engine_policy *policy;
    const char *via_group_id;
};

/* Appends every policy of `subject` that applies to the request. */
static void collect_applying(const struct engine_context *context, const struct engine_subject *subject,
                             const char *via_group_id, struct candidate *out, size_t *count)
{
    if (!subject)
        return;
    const struct engine_snapshot *snapshot = context->snapshot;
    const struct engine_bucket *bucket = engine_subject_bucket(subject, context->service_name_id);
    for (uint32_t i = 0; bucket && i < bucket->count; i++) {
        const struct engine_policy *policy = &snapshot->policies[bucket->policies[i].policy];
        if (engine_policy_applies(context, policy))
            out[(*count)++] = (struct candidate){policy, via_group_id};
    }
    for (uint32_t i = 0; i < subject->generic_count; i++) {
        const struct engine_policy *policy = &snapshot->policies[subject->generic[i].policy];
        if (engine_policy_applies(context, policy))
            out[(*count)++] = (struct candidate){policy, via_group_id};
    }
}

static size_t subject_policy_count(const struct engine_subject *subject)
{
    if (!subject)
        return 0;
    size_t count = subject->generic_count;
    for (uint32_t i = 0; i < subject->bucket_count; i++)
        count += subject->buckets[i].count;
    return count;
}

static const char **bitset_actions(struct iam_arena *arena, const struct engine_service *service,
                                   const uint64_t *set, size_t *count)
{
    size_t total = 0;
    for (uint32_t bit = 0; bit < service->action_count; bit++)
        total += engine_bit(set, bit);
    const char **actions = iam_arena_alloc(arena, (total ? total : 1) * sizeof *actions);
    if (!actions)
        return NULL;
    *count = 0;
    for (uint32_t bit = 0; bit < service->action_count; bit++) {
        if (!engine_bit(set, bit))
            continue;
        if (!(actions[*count] = iam_arena_strdup(arena, service->action_names[bit])))
            return NULL;
        (*count)++;
    }
    return actions;
}

/* Display name and description of `role` as `service` describes it. */
static void role_text(const struct engine_service *service, const struct engine_role *role, const char **display_name,
                      const char **description)
{
    *display_name = role->display_name;
    *description = role->description;
    for (uint32_t i = 0; service && i < service->role_count; i++)
        if (service->roles[i].role == role) {
            *display_name = service->roles[i].display_name;
            *description = service->roles[i].description;
        }
}

static enum iam_result evaluate_subjects(const struct engine_context *context, struct iam_arena *arena,
                                         const struct engine_subject *subject,
                                         const struct engine_subject *public_access,
                                         struct iam_engine_evaluation *out)
{
    const struct engine_snapshot *snapshot = context->snapshot;
    size_t capacity = subject_policy_count(subject) + subject_policy_count(public_access);
    for (uint32_t i = 0; subject && i < subject->group_count; i++)
        capacity += subject_policy_count(subject->groups[i]);
    struct candidate *candidates = iam_arena_alloc(arena, (capacity ? capacity : 1) * sizeof *candidates);
    if (!candidates)
        return IAM_ENOMEM;
    size_t count = 0;
    collect_applying(context, subject, NULL, candidates, &count);
    for (uint32_t i = 0; subject && i < subject->group_count; i++)
        collect_applying(context, subject->groups[i], subject->group_ids[i], candidates, &count);
    collect_applying(context, public_access, IAM_PUBLIC_ACCESS_GROUP, candidates, &count);
    if (context->service < 0)
        return IAM_OK;
    const struct engine_service *service = &snapshot->services[context->service];
    uint64_t *all = iam_arena_alloc(arena, (service->words ? service->words : 1) * sizeof *all);
    size_t grant_capacity = 0;
    for (size_t i = 0; i < count; i++)
        grant_capacity += candidates[i].policy->role_count;
    out->grants = iam_arena_alloc(arena, (grant_capacity ? grant_capacity : 1) * sizeof *out->grants);
    if (!all || !out->grants)
        return IAM_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const struct engine_policy *policy = candidates[i].policy;
        for (uint16_t r = 0; r < policy->role_count; r++) {
            const struct engine_role *role = policy->roles[r];
            const uint64_t *set = engine_role_actions(snapshot, role, context->service);
            if (!set)
                continue;
            for (uint32_t word = 0; word < service->words; word++)
                all[word] |= set[word];
            struct iam_engine_role_grant *grant = &out->grants[out->grant_count];
            const char *display_name, *description;
            role_text(service, role, &display_name, &description);
            grant->role_crn = iam_arena_strdup(arena, role->crn);
            grant->display_name = iam_arena_strdup(arena, display_name);
            grant->description = iam_arena_strdup(arena, description);
            grant->platform = role->platform;
            grant->policy_id = iam_arena_strdup(arena, policy->id);
            grant->via_group_id = candidates[i].via_group_id ? iam_arena_strdup(arena, candidates[i].via_group_id)
                                                             : NULL;
            grant->actions = bitset_actions(arena, service, set, &grant->action_count);
            if (!grant->role_crn || !grant->display_name || !grant->description || !grant->policy_id ||
                !grant->actions || (candidates[i].via_group_id && !grant->via_group_id))
                return IAM_ENOMEM;
            out->grant_count++;
        }
    }
    out->actions = bitset_actions(arena, service, all, &out->action_count);
    if (!out->actions)
        return IAM_ENOMEM;
    if (context->request->action)
        out->permitted = context->action_local >= 0 && engine_bit(all, (uint32_t)context->action_local);
    else
        out->permitted = out->action_count > 0;
    return IAM_OK;
}

enum iam_result iam_engine_evaluate(struct iam_engine *engine, struct iam_arena *arena,
                                    const struct iam_engine_request *request, struct iam_engine_evaluation *out)
{
    if (!engine || !arena || !request || !out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    struct engine_context context;
    enum iam_result result = engine_context_init(&context, snapshot, request);
    if (result != IAM_OK)
        goto out;
    const struct engine_subject *subject = engine_subject_find(snapshot, context.account_id, context.subject_id);
    const struct engine_subject *public_access =
        engine_subject_find(snapshot, context.account_id, snapshot->id_public_access);
    size_t group_count = (subject ? subject->group_count : 0) + 1;
    out->groups = iam_arena_alloc(arena, group_count * sizeof *out->groups);
    if (!out->groups) {
        result = IAM_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; subject && i < subject->group_count; i++)
        if (!(out->groups[out->group_count++] = iam_arena_strdup(arena, subject->group_ids[i]))) {
            result = IAM_ENOMEM;
            goto out;
        }
    out->groups[out->group_count++] = IAM_PUBLIC_ACCESS_GROUP;
    if (context.account_id != ENGINE_NO_STRING)
        result = evaluate_subjects(&context, arena, subject, public_access, out);
out:
    engine_snapshot_release(snapshot);
    return result;
}

/* -------------------------------------------------------------- registry */

static int32_t service_index(const struct engine_snapshot *snapshot, const char *service_name)
{
    if (!service_name)
        return -1;
    uint32_t id = engine_intern_find(&snapshot->strings, service_name, strlen(service_name));
    return id ? snapshot->strings.info[id].service : -1;
}

bool iam_engine_service_exists(struct iam_engine *engine, const char *service_name)
{
    if (!engine)
        return false;
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    bool exists = service_index(snapshot, service_name) >= 0;
    engine_snapshot_release(snapshot);
    return exists;
}

bool iam_engine_service_builtin(struct iam_engine *engine, const char *service_name)
{
    if (!engine)
        return false;
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    int32_t index = service_index(snapshot, service_name);
    bool builtin = index >= 0 && snapshot->services[index].builtin;
    engine_snapshot_release(snapshot);
    return builtin;
}

bool iam_engine_service_pdp_client(struct iam_engine *engine, const char *service_name, const char *iam_id)
{
    if (!engine || !iam_id)
        return false;
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    bool allowed = false;
    int32_t index = service_index(snapshot, service_name);
    uint32_t id = engine_intern_find(&snapshot->strings, iam_id, strlen(iam_id));
    for (uint32_t i = 0; index >= 0 && id && i < snapshot->services[index].pdp_client_count; i++)
        allowed = allowed || snapshot->services[index].pdp_clients[i] == id;
    engine_snapshot_release(snapshot);
    return allowed;
}

bool iam_engine_account_owner(struct iam_engine *engine, const char *account_id, const char *iam_id)
{
    if (!engine || !account_id || !iam_id)
        return false;
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    uint32_t account = engine_intern_find(&snapshot->strings, account_id, strlen(account_id));
    uint32_t owner = account ? snapshot->strings.info[account].account_owner : ENGINE_NO_STRING;
    bool is_owner = owner != ENGINE_NO_STRING && owner == engine_intern_find(&snapshot->strings, iam_id, strlen(iam_id));
    engine_snapshot_release(snapshot);
    return is_owner;
}

bool iam_engine_action_exists(struct iam_engine *engine, const char *action)
{
    if (!engine || !action)
        return false;
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    uint32_t id = engine_intern_find(&snapshot->strings, action, strlen(action));
    bool exists = id && snapshot->strings.info[id].action_service != ENGINE_NOT_AN_ACTION;
    engine_snapshot_release(snapshot);
    return exists;
}

enum iam_result iam_engine_role_resolve(struct iam_engine *engine, const char *account_id, const char *service_name,
                                        const char *role_crn, const char **display_name, const char **description)
{
    if (!engine || !role_crn)
        return IAM_EINVAL;
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    enum iam_result result = IAM_ENOTFOUND;
    uint32_t id = engine_intern_find(&snapshot->strings, role_crn, strlen(role_crn));
    const struct engine_role *role = id ? snapshot->strings.info[id].role : NULL;
    int32_t service = service_index(snapshot, service_name);
    if (!role || (service_name && service < 0))
        goto out;
    const struct engine_service *definition = service >= 0 ? &snapshot->services[service] : NULL;
    switch (role->kind) {
    case ENGINE_ROLE_GENERIC:
        if (!definition || definition->generic[role->generic_index])
            result = IAM_OK;
        break;
    case ENGINE_ROLE_SPECIFIC:
        if (definition && role->service == service)
            result = IAM_OK;
        break;
    case ENGINE_ROLE_CUSTOM: {
        uint32_t account = account_id ? engine_intern_find(&snapshot->strings, account_id, strlen(account_id)) : 0;
        if (definition && role->service == service && account && account == role->account_id)
            result = IAM_OK;
        break;
    }
    default:
        break;
    }
    if (result == IAM_OK) {
        const char *name, *text;
        role_text(definition, role, &name, &text);
        if (display_name)
            *display_name = name;
        if (description)
            *description = text;
    }
out:
    engine_snapshot_release(snapshot);
    return result;
}

static json_t *role_json(const char *display_name, const char *description, const char *crn,
                         const struct engine_service *service, const uint64_t *set)
{
    json_t *actions = json_array();
    if (!actions)
        return NULL;
    for (uint32_t bit = 0; service && bit < service->action_count; bit++)
        if (engine_bit(set, bit) && json_array_append_new(actions, json_string(service->action_names[bit])) != 0) {
            json_decref(actions);
            return NULL;
        }
    return json_pack("{s:s, s:s, s:o, s:s}", "display_name", display_name, "description", description, "actions",
                     actions, "crn", crn);
}

json_t *iam_engine_roles_for_service(struct iam_engine *engine, const char *service_name)
{
    if (!engine)
        return NULL;
    struct engine_snapshot *snapshot = engine_snapshot_acquire(engine);
    json_t *system_roles = json_array();
    json_t *service_roles = json_array();
    json_t *result = NULL;
    if (!system_roles || !service_roles)
        goto out;
    if (!service_name || strcmp(service_name, "alliamserviceroles") == 0) {
        /* Roles that apply to policies over several services: their actions are the implicit iam.* ones. */
        uint64_t read_set = 1u | 1u << 4, admin_set = (1u << ENGINE_IMPLICIT_ACTION_COUNT) - 1, none = 0;
        struct engine_service implicit = {.action_count = ENGINE_IMPLICIT_ACTION_COUNT,
                                          .action_names = (const char **)engine_implicit_actions};
        for (int i = 0; i < ENGINE_GENERIC_ROLE_COUNT; i++) {
            const struct engine_role *role = &snapshot->generic_roles[i];
            const uint64_t *set = !role->platform ? &none : i == 3 ? &admin_set : &read_set;
            json_t *item = role_json(role->display_name, role->description, role->crn, &implicit, set);
            if (!item || json_array_append_new(role->platform ? system_roles : service_roles, item) != 0)
                goto out;
        }
    } else {
        int32_t index = service_index(snapshot, service_name);
        if (index < 0)
            goto out;
        const struct engine_service *service = &snapshot->services[index];
        for (uint32_t i = 0; i < service->role_count; i++) {
            const struct engine_service_role *entry = &service->roles[i];
            json_t *item =
                role_json(entry->display_name, entry->description, entry->role->crn, service, entry->actions);
            if (!item || json_array_append_new(entry->role->platform ? system_roles : service_roles, item) != 0)
                goto out;
        }
    }
    result = json_pack("{s:O, s:O}", "system_roles", system_roles, "service_roles", service_roles);
out:
    json_decref(system_roles);
    json_decref(service_roles);
    engine_snapshot_release(snapshot);
    return result;
}
