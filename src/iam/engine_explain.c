/*
 * engine_explain.c: iam_engine_explain. Walks every policy of the subject
 * set in the resource's account (all services, not just the request's
 * bucket), checks each part separately instead of stopping at the first
 * failure, and words what differs: an attribute, a tag, a condition, or
 * roles that lack the action. This is the slow, allocating path; the
 * verdict it reports is the same as iam_engine_decide's.
 */
#include <stdlib.h>
#include <string.h>

#include "common/time.h"
#include "iam/engine_internal.h"

struct explain {
    const struct engine_context *context;
    struct iam_arena *arena;
    json_t *granted;
    struct near_miss *misses;
    size_t miss_count;
    size_t miss_capacity;
    bool failed; /* out of memory */
};

struct near_miss {
    json_t *entry;
    size_t missing;
    size_t order;
};

static void add_reason(struct explain *explain, json_t *reasons, const char *text)
{
    if (!text || json_array_append_new(reasons, json_string(text)) != 0)
        explain->failed = true;
}

/* The first value the request gives for `constraint`'s attribute, or NULL (length in *length). */
static const char *request_value(const struct engine_context *context, const struct engine_constraint *constraint,
                                 size_t *length)
{
    for (size_t i = 0; i < context->attribute_count; i++)
        if (context->attributes[i].name_id == constraint->name_id) {
            *length = context->attributes[i].value_length;
            return context->attributes[i].value;
        }
    return NULL;
}

static const char *describe_constraint(struct explain *explain, const struct engine_constraint *constraint)
{
    size_t length = 0;
    const char *value = request_value(explain->context, constraint, &length);
    int shown = length > 200 ? 200 : (int)length;
    if (constraint->op == ENGINE_OP_EXISTS)
        return constraint->exists
                   ? iam_arena_printf(explain->arena, "%s is absent, policy requires stringExists true",
                                      constraint->label)
                   : iam_arena_printf(explain->arena, "%s is '%.*s', policy requires stringExists false",
                                      constraint->label, shown, value ? value : "");
    if (!value)
        return iam_arena_printf(explain->arena, "%s is absent, policy requires %s '%s'", constraint->label,
                                constraint->operator_name, constraint->value_text);
    return iam_arena_printf(explain->arena, "%s is '%.*s', policy requires %s '%s'", constraint->label, shown, value,
                            constraint->operator_name, constraint->value_text);
}

static void describe_condition(struct explain *explain, const struct engine_condition *condition, json_t *reasons)
{
    const struct engine_context *context = explain->context;
    if (engine_condition_holds(context, condition))
        return;
    if (condition->kind != ENGINE_COND_LEAF) {
        for (uint16_t i = 0; i < condition->child_count; i++)
            describe_condition(explain, &condition->children[i], reasons);
        return;
    }
    if (condition->family == ENGINE_FAMILY_STRING_RESOURCE || condition->family == ENGINE_FAMILY_STRING_ENVIRONMENT) {
        const char *text = condition->family == ENGINE_FAMILY_STRING_RESOURCE
                               ? describe_constraint(explain, &condition->string)
                               : iam_arena_printf(explain->arena, "%s does not satisfy %s %s",
                                                  condition->string.label, condition->string.operator_name,
                                                  condition->string.value_text);
        add_reason(explain, reasons,
                   text ? iam_arena_printf(explain->arena, "condition: %s", text) : NULL);
        return;
    }
    char now[IAM_TIME_TEXT_SIZE];
    iam_time_format_rfc3339(context->request->now, now);
    add_reason(explain, reasons,
               iam_arena_printf(explain->arena, "condition %s does not hold at %s", condition->text, now));
}

static const char *role_names(struct explain *explain, const struct engine_policy *policy)
{
    if (policy->role_count == 0)
        return "no roles";
    const char *names = "";
    for (uint16_t i = 0; i < policy->role_count && names; i++) {
        const struct engine_role *role = policy->roles[i];
        const char *name = role->kind == ENGINE_ROLE_UNKNOWN
                               ? iam_arena_printf(explain->arena, "%s (%s)", role->crn, role->description)
                               : role->display_name;
        names = name ? iam_arena_printf(explain->arena, "%s%s%s", names, i ? ", " : "", name) : NULL;
    }
    return names;
}

static void describe_action(struct explain *explain, const struct engine_policy *policy, json_t *reasons)
{
    const struct engine_context *context = explain->context;
    const struct engine_snapshot *snapshot = context->snapshot;
    const char *action = context->request->action;
    if (context->service < 0) {
        add_reason(explain, reasons,
                   context->service_name
                       ? iam_arena_printf(explain->arena, "service %.*s is not registered",
                                          (int)context->service_name_length, context->service_name)
                       : "the request names no service");
        return;
    }
    const struct engine_service *service = &snapshot->services[context->service];
    if (context->action_local < 0) {
        add_reason(explain, reasons,
                   iam_arena_printf(explain->arena, "action %s is not defined by service %s", action, service->name));
        return;
    }
    if (engine_policy_grants_bit(snapshot, policy, context->service, (uint32_t)context->action_local))
        return;
    size_t granted = 0;
    for (uint32_t bit = 0; bit < service->action_count; bit++)
        for (uint16_t i = 0; i < policy->role_count; i++)
            if (engine_bit(engine_role_actions(snapshot, policy->roles[i], context->service), bit)) {
                granted++;
                break;
            }
    const char *names = role_names(explain, policy);
    add_reason(explain, reasons,
               names ? iam_arena_printf(explain->arena, "roles %s grant %zu actions on %s but not %s", names, granted,
                                        service->name, action)
                     : NULL);
}

static json_t *granting_roles(const struct engine_context *context, const struct engine_policy *policy)
{
    json_t *roles = json_array();
    for (uint16_t i = 0; roles && i < policy->role_count; i++) {
        const struct engine_role *role = policy->roles[i];
        const uint64_t *set = engine_role_actions(context->snapshot, role, context->service);
        bool grants = context->request->action ? engine_bit(set, (uint32_t)context->action_local) : set != NULL;
        if (grants && json_array_append_new(roles, json_string(role->crn)) != 0) {
            json_decref(roles);
            return NULL;
        }
    }
    return roles;
}

static void explain_policy(struct explain *explain, const struct engine_policy *policy, const char *via_group_id)
{
    const struct engine_context *context = explain->context;
    json_t *reasons = json_array();
    if (!reasons) {
        explain->failed = true;
        return;
    }
    if (policy->broken)
        add_reason(explain, reasons,
                   iam_arena_printf(explain->arena, "the policy cannot be evaluated: %s", policy->broken));
    for (uint16_t i = 0; i < policy->constraint_count; i++)
        if (!engine_constraint_holds(context, &policy->constraints[i]))
            add_reason(explain, reasons, describe_constraint(explain, &policy->constraints[i]));
    for (uint16_t i = 0; i < policy->tag_count; i++)
        if (!engine_constraint_holds(context, &policy->tags[i]))
            add_reason(explain, reasons, describe_constraint(explain, &policy->tags[i]));
    if (policy->rule)
        describe_condition(explain, policy->rule, reasons);
    if (context->request->action)
        describe_action(explain, policy, reasons);
    else if (context->service < 0)
        add_reason(explain, reasons, "the resource's service is not registered");
    json_t *entry = json_pack("{s:s}", "policy_id", policy->id);
    if (!entry || (via_group_id && json_object_set_new(entry, "via_group_id", json_string(via_group_id)) != 0))
        goto fail;
    if (json_array_size(reasons) == 0) {
        json_t *roles = granting_roles(context, policy);
        if (!roles || json_object_set_new(entry, "roles", roles) != 0 ||
            json_array_append_new(explain->granted, entry) != 0) {
            entry = NULL;
            goto fail;
        }
        json_decref(reasons);
        return;
    }
    if (explain->miss_count == explain->miss_capacity) {
        size_t capacity = explain->miss_capacity ? explain->miss_capacity * 2 : 16;
        struct near_miss *misses = realloc(explain->misses, capacity * sizeof *misses);
        if (!misses)
            goto fail;
        explain->misses = misses;
        explain->miss_capacity = capacity;
    }
    size_t missing = json_array_size(reasons);
    if (json_object_set_new(entry, "missing", reasons) != 0) {
        reasons = NULL;
        goto fail;
    }
    explain->misses[explain->miss_count] = (struct near_miss){entry, missing, explain->miss_count};
    explain->miss_count++;
    return;
fail:
    explain->failed = true;
    json_decref(entry);
    json_decref(reasons);
}

static void explain_subject(struct explain *explain, const struct engine_subject *subject, const char *via_group_id)
{
    if (!subject)
        return;
    const struct engine_snapshot *snapshot = explain->context->snapshot;
    for (uint32_t b = 0; b < subject->bucket_count; b++)
        for (uint32_t i = 0; i < subject->buckets[b].count; i++)
            explain_policy(explain, &snapshot->policies[subject->buckets[b].policies[i].policy], via_group_id);
    for (uint32_t i = 0; i < subject->generic_count; i++)
        explain_policy(explain, &snapshot->policies[subject->generic[i].policy], via_group_id);
}

static int near_miss_compare(const void *a, const void *b)
{
    const struct near_miss *left = a, *right = b;
    if (left->missing != right->missing)
        return left->missing < right->missing ? -1 : 1;
    return left->order < right->order ? -1 : left->order > right->order;
}

json_t *iam_engine_explain(struct iam_engine *engine, struct iam_arena *arena, const struct iam_engine_request *request)
{
    if (!engine || !arena || !request)
        return NULL;
    struct engine_snapshot *snapshot = NULL;
    struct explain explain = {.arena = arena};
    json_t *result = NULL, *groups = NULL, *misses = NULL;
    struct engine_context context;
    snapshot = engine_snapshot_acquire(engine);
    explain.granted = json_array();
    groups = json_array();
    misses = json_array();
    if (!explain.granted || !groups || !misses)
        goto out;
    if (engine_context_init(&context, snapshot, request) != IAM_OK) {
        result = json_pack("{s:b, s:s?, s:s}", "permitted", 0, "action", request->action, "error",
                           "malformed request: account, subject or resource attributes missing or too many");
        goto out;
    }
    explain.context = &context;
    const struct engine_subject *subject = engine_subject_find(snapshot, context.account_id, context.subject_id);
    for (uint32_t i = 0; subject && i < subject->group_count; i++)
        if (json_array_append_new(groups, json_string(subject->group_ids[i])) != 0)
            goto out;
    if (json_array_append_new(groups, json_string(IAM_PUBLIC_ACCESS_GROUP)) != 0)
        goto out;
    if (context.account_id != ENGINE_NO_STRING) {
        explain_subject(&explain, subject, NULL);
        for (uint32_t i = 0; subject && i < subject->group_count; i++)
            explain_subject(&explain, subject->groups[i], subject->group_ids[i]);
        explain_subject(&explain, engine_subject_find(snapshot, context.account_id, snapshot->id_public_access),
                        IAM_PUBLIC_ACCESS_GROUP);
    }
    if (explain.failed)
        goto out;
    if (explain.miss_count > 1)
        qsort(explain.misses, explain.miss_count, sizeof *explain.misses, near_miss_compare);
    for (size_t i = 0; i < explain.miss_count && i < ENGINE_NEAR_MISS_LIMIT; i++) {
        if (json_array_append(misses, explain.misses[i].entry) != 0)
            goto out;
    }
    /* A policy with nothing missing is exactly a policy iam_engine_decide would accept. */
    bool permitted = json_array_size(explain.granted) > 0;
    result = json_pack("{s:b, s:s?, s:{s:s, s:O}, s:O, s:O}", "permitted", permitted, "action", request->action,
                       "subject", "iam_id", request->subject_iam_id, "groups", groups, "granted_by", explain.granted,
                       "near_misses", misses);
out:
    for (size_t i = 0; i < explain.miss_count; i++)
        json_decref(explain.misses[i].entry);
    free(explain.misses);
    json_decref(explain.granted);
    json_decref(groups);
    json_decref(misses);
    if (snapshot)
        engine_snapshot_release(snapshot);
    return result;
}
