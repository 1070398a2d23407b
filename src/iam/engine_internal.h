/*
 * engine_internal.h: the compiled snapshot of the policy decision engine,
 * shared by engine.c (lifecycle, decide, evaluate, registry queries),
 * engine_intern.c (the string intern table), engine_compile.c (snapshot ->
 * indexed structures), engine_match.c (attribute, glob and condition
 * matching) and engine_explain.c. Not a public interface.
 *
 * A compiled snapshot is immutable once published. Everything in it lives in
 * its arena except the intern table's arrays (malloc'd, freed with it).
 * Strings are interned into dense uint32 ids (0 = "not interned"), so
 * matching compares integers; per-id side information (is this string a
 * service name, an action, a role CRN?) lives in a parallel array.
 */
#ifndef IAM_IAM_ENGINE_INTERNAL_H
#define IAM_IAM_ENGINE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/engine.h"

#define ENGINE_NO_STRING 0u
#define ENGINE_MAX_REQUEST_ATTRIBUTES 32
#define ENGINE_MAX_VALUE_LENGTH 4096 /* bounds the O(pattern x value) cost of a stringMatch */
#define ENGINE_MAX_ANY_OF 10
#define ENGINE_GENERIC_ROLE_COUNT 7
#define ENGINE_IMPLICIT_ACTION_COUNT 6
#define ENGINE_NEAR_MISS_LIMIT 10

/* action_service values besides a service index */
#define ENGINE_NOT_AN_ACTION (-1)
#define ENGINE_IMPLICIT_ACTION (-2) /* iam.policy.* / iam.role.*: every service has them */

struct engine_role;

/* What the snapshot knows about one interned string. */
struct engine_string_info {
    int32_t service;        /* index of the service with this name, or -1 */
    int32_t action_service; /* service index of this action, ENGINE_IMPLICIT_ACTION or ENGINE_NOT_AN_ACTION */
    uint32_t action_local;  /* the action's bit in its service's action sets */
    struct engine_role *role; /* the role with this CRN, or NULL */
    uint32_t account_owner;   /* for an account id: its owner's iam_id, or ENGINE_NO_STRING */
};

struct engine_intern_slot {
    uint32_t tag;     /* high bits of the hash, to skip most string compares */
    uint32_t id;      /* 0: empty */
    const char *text; /* the string itself, so a lookup touches one slot and the text */
};

struct engine_intern {
    struct engine_intern_slot *slots;
    uint32_t mask;                    /* slot count - 1 (a power of two) */
    const char **strings;             /* id -> NUL-terminated text (arena) */
    uint32_t *lengths;
    struct engine_string_info *info;
    uint32_t count;                   /* ids in use, including the reserved id 0 */
    uint32_t capacity;
    struct iam_arena *arena;
};

/* --- intern table (engine_intern.c) --- */
enum iam_result engine_intern_init(struct engine_intern *table, struct iam_arena *arena) IAM_MUST_CHECK;
void engine_intern_release(struct engine_intern *table);
/* The id of `text` (adding a copy when new). */
enum iam_result engine_intern_add(struct engine_intern *table, const char *text, size_t length,
                                  uint32_t *id) IAM_MUST_CHECK;
/* The id of `text`, or ENGINE_NO_STRING; never allocates. */
uint32_t engine_intern_find(const struct engine_intern *table, const char *text, size_t length);

/* --- glob patterns (stringMatch) --- */
enum engine_glob_kind { ENGINE_GLOB_LITERAL, ENGINE_GLOB_STAR, ENGINE_GLOB_ONE };

struct engine_glob_token {
    uint8_t kind;
    uint32_t length;
    const char *text;
};

struct engine_glob {
    struct engine_glob_token *tokens;
    uint32_t token_count;
    bool has_wildcard;
    const char *literal;    /* the unescaped text when there is no wildcard */
    size_t literal_length;
};

/* --- constraints: one attribute of a policy resource, tag or string condition --- */
enum engine_op {
    ENGINE_OP_EQUALS,
    ENGINE_OP_MATCH,
    ENGINE_OP_EXISTS,
    ENGINE_OP_EQUALS_ANY,
    ENGINE_OP_MATCH_ANY,
    ENGINE_OP_NEVER, /* could not be compiled: matches nothing */
};

struct engine_constraint {
    uint32_t name_id;
    const char *name;           /* attribute name as the request names it */
    const char *label;          /* how explain names it ("resource attribute serviceName") */
    uint8_t op;
    bool exists;                /* stringExists: true (present) or false (absent) */
    uint16_t value_count;
    uint32_t *value_ids;        /* EQUALS / EQUALS_ANY */
    const char **values;        /* EQUALS / EQUALS_ANY raw text (environment conditions compare text) */
    struct engine_glob *globs;  /* MATCH / MATCH_ANY */
    const char *operator_name;  /* as written in the policy */
    const char *value_text;     /* as written, for explain */
};

/* --- conditions (v2 rule) --- */
enum engine_condition_kind { ENGINE_COND_AND, ENGINE_COND_OR, ENGINE_COND_LEAF };
enum engine_condition_family {
    ENGINE_FAMILY_STRING_RESOURCE,
    ENGINE_FAMILY_STRING_ENVIRONMENT,
    ENGINE_FAMILY_TIME,      /* time of day */
    ENGINE_FAMILY_DATE,
    ENGINE_FAMILY_DATE_TIME,
    ENGINE_FAMILY_DAY_OF_WEEK,
};
enum engine_compare { ENGINE_CMP_LT, ENGINE_CMP_LE, ENGINE_CMP_GT, ENGINE_CMP_GE, ENGINE_CMP_IN };

struct engine_day {
    uint8_t day;    /* 1 (Monday) .. 7 */
    int32_t offset; /* seconds east of UTC */
};

struct engine_condition {
    uint8_t kind;
    uint16_t child_count;
    struct engine_condition *children;
    /* leaves */
    uint8_t family;
    uint8_t compare;
    struct engine_constraint string;  /* string families */
    int64_t value;                    /* time: seconds of day; date: days since epoch; dateTime: epoch seconds */
    int32_t offset;                   /* time and date: seconds east of UTC */
    struct engine_day days[7];
    uint8_t day_count;
    const char *text;                 /* "dateTimeLessThanOrEquals 2022-12-23T23:59:59+00:00" */
};

/* --- roles --- */
enum engine_role_kind { ENGINE_ROLE_GENERIC, ENGINE_ROLE_SPECIFIC, ENGINE_ROLE_CUSTOM, ENGINE_ROLE_UNKNOWN };

struct engine_role {
    uint8_t kind;
    uint8_t generic_index;      /* GENERIC: 0..6 (Viewer, Operator, Editor, Administrator, Reader, Writer, Manager) */
    bool platform;
    int32_t service;            /* SPECIFIC / CUSTOM: the service the role belongs to (-1: not registered) */
    const uint64_t *actions;    /* SPECIFIC / CUSTOM: over that service's actions */
    uint32_t crn_id;
    uint32_t account_id;        /* CUSTOM: its account */
    const char *crn;
    const char *name;
    const char *display_name;
    const char *description;
};

/* A role a service defines, as that service describes it. */
struct engine_service_role {
    struct engine_role *role;
    const uint64_t *actions;
    const char *display_name;
    const char *description;
};

struct engine_service {
    const char *name;
    uint32_t name_id;
    bool builtin;
    const char *display_name;
    uint32_t type_value_id;     /* interned "service" or "platform_service" */
    uint32_t group_value_id;    /* interned service_group_id, 0 when none */
    uint32_t action_count;      /* including the ENGINE_IMPLICIT_ACTION_COUNT iam.* actions first */
    uint32_t words;             /* uint64_t words per action set */
    const char **action_names;
    const char **action_display_names;
    const char **action_descriptions;
    const uint64_t *generic[ENGINE_GENERIC_ROLE_COUNT]; /* NULL: the service does not define that role */
    struct engine_service_role *roles;
    uint32_t role_count;
    uint32_t *pdp_clients;      /* interned iam_ids */
    uint32_t pdp_client_count;
};

/* --- policies --- */
struct engine_policy {
    const char *id;
    uint32_t account_id;
    uint32_t subject_id;
    bool subject_is_group;
    const char *subject;
    uint32_t service_name_id;   /* serviceName stringEquals value, 0: not bound to one service name */
    int32_t service;            /* the service for service_name_id, -1 when none or unknown */
    struct engine_constraint *constraints;
    uint16_t constraint_count;
    struct engine_constraint *tags;
    uint16_t tag_count;
    struct engine_condition *rule;
    struct engine_role **roles;
    uint16_t role_count;
    const uint64_t *fixed_actions; /* service >= 0: union of the roles' actions on it */
    const char *broken;         /* non-NULL: why the policy can never match (compile failure) */
};

/*
 * One policy in a subject's index, with enough of its action set to reject it
 * without touching the policy itself (most candidates do not grant the action).
 */
struct engine_entry {
    uint32_t policy;
    uint8_t flags;              /* ENGINE_ENTRY_* */
    uint8_t generic_roles;      /* bit g: the policy holds generic role g */
    uint64_t first_word;        /* ENGINE_ENTRY_FIXED: the first 64 bits of fixed_actions */
};
#define ENGINE_ENTRY_FIXED 1u   /* bound to one known service: first_word is exact for bits < 64 */
#define ENGINE_ENTRY_OTHER_ROLES 2u /* holds specific or custom roles: check the policy itself */

struct engine_bucket {
    uint32_t service_name_id;
    uint32_t count;
    struct engine_entry *policies;
};

/* The policies of one subject (iam_id or group) in one account, and an iam_id's groups. */
struct engine_subject {
    uint32_t account_id;
    uint32_t subject_id;
    const char *subject;
    struct engine_entry *generic; /* policies not bound to one service name */
    uint32_t generic_count;
    struct engine_bucket *buckets; /* sorted by service_name_id */
    uint32_t bucket_count;
    const char **group_ids;     /* iam_ids only: every group it belongs to in the account */
    struct engine_subject **groups; /* parallel: the group's entry, NULL when it has no policies */
    uint32_t group_count;
};

struct engine_subject_slot {
    uint64_t key;               /* account_id << 32 | subject_id; 0 empty */
    struct engine_subject *subject;
};

struct engine_snapshot {
    atomic_uint refs;
    int64_t revision;
    struct iam_arena *arena;
    struct engine_intern strings;
    struct engine_service *services;
    uint32_t service_count;
    struct engine_role generic_roles[ENGINE_GENERIC_ROLE_COUNT];
    struct engine_policy *policies;
    uint32_t policy_count;
    struct engine_subject_slot *subject_slots;
    uint32_t subject_mask;
    /* well-known strings */
    uint32_t id_account;        /* "accountId" */
    uint32_t id_service_name;   /* "serviceName" */
    uint32_t id_service_type;   /* "serviceType" */
    uint32_t id_service_group;  /* "service_group_id" */
    uint32_t id_public_access;  /* AccessGroupId-PublicAccess */
};

/* --- engine.c: a reference to the current snapshot (never blocks on a rebuild) --- */
struct engine_snapshot *engine_snapshot_acquire(struct iam_engine *engine);
void engine_snapshot_release(struct engine_snapshot *snapshot);
/* Compiles `input` and makes it current, as a refresh does (tests swap snapshots with it). */
enum iam_result engine_replace(struct iam_engine *engine, const struct iam_access_snapshot *input,
                               struct iam_error *err) IAM_MUST_CHECK;

/* --- compile (engine_compile.c) --- */
enum iam_result engine_snapshot_compile(const struct iam_access_snapshot *input, struct engine_snapshot **out,
                                        struct iam_error *err) IAM_MUST_CHECK;
void engine_snapshot_free(struct engine_snapshot *snapshot);
const struct engine_subject *engine_subject_find(const struct engine_snapshot *snapshot, uint32_t account_id,
                                                 uint32_t subject_id);
const struct engine_bucket *engine_subject_bucket(const struct engine_subject *subject, uint32_t service_name_id);
extern const char *const engine_generic_role_names[ENGINE_GENERIC_ROLE_COUNT];
extern const char *const engine_implicit_actions[ENGINE_IMPLICIT_ACTION_COUNT];

static inline bool engine_bit(const uint64_t *set, uint32_t bit)
{
    return set && (set[bit >> 6] >> (bit & 63)) & 1u;
}

/* --- a request as the matcher sees it (engine_match.c) --- */
struct engine_attribute {
    uint32_t name_id;
    uint32_t value_id;
    const char *name;
    const char *value;
    size_t value_length;
};

struct engine_context {
    const struct engine_snapshot *snapshot;
    const struct iam_engine_request *request;
    struct engine_attribute attributes[ENGINE_MAX_REQUEST_ATTRIBUTES + 4];
    size_t attribute_count;
    uint32_t account_id;
    uint32_t subject_id;
    uint32_t action_id;
    uint32_t service_name_id;   /* the request's (or derived) serviceName, interned */
    const char *service_name;   /* raw text, may be unterminated: see service_name_length */
    size_t service_name_length;
    int32_t service;            /* the resource's service, -1 unknown */
    int64_t action_local;       /* the action's bit in that service, -1 when it is not one of its actions */
};

/*
 * Prepares `context` for `request` (no allocation). IAM_EINVAL for a malformed
 * request (missing account, subject, more than ENGINE_MAX_REQUEST_ATTRIBUTES, a
 * value longer than ENGINE_MAX_VALUE_LENGTH).
 */
enum iam_result engine_context_init(struct engine_context *context, const struct engine_snapshot *snapshot,
                                    const struct iam_engine_request *request) IAM_MUST_CHECK;
bool engine_constraint_holds(const struct engine_context *context, const struct engine_constraint *constraint);
bool engine_condition_holds(const struct engine_context *context, const struct engine_condition *condition);
/* The policy's roles' action set on `service` is tested for `bit`. */
bool engine_entry_grants_bit(const struct engine_snapshot *snapshot, const struct engine_entry *entry,
                             int32_t service, uint32_t bit);
bool engine_policy_grants_bit(const struct engine_snapshot *snapshot, const struct engine_policy *policy,
                              int32_t service, uint32_t bit);
/* True when the policy's resource, tags and conditions match (actions not checked). */
bool engine_policy_applies(const struct engine_context *context, const struct engine_policy *policy);
bool engine_glob_match(const struct engine_glob *glob, const char *text, size_t length);
/* The action set a role grants on `service`, NULL when it grants nothing there. */
const uint64_t *engine_role_actions(const struct engine_snapshot *snapshot, const struct engine_role *role,
                                    int32_t service);

/* Parsers shared by compile and tests. IAM_EINVAL when malformed. */
enum iam_result engine_parse_time_of_day(const char *text, int64_t *seconds, int32_t *offset) IAM_MUST_CHECK;
enum iam_result engine_parse_date(const char *text, int64_t *days, int32_t *offset) IAM_MUST_CHECK;
enum iam_result engine_parse_day_of_week(const char *text, struct engine_day *out) IAM_MUST_CHECK;
enum iam_result engine_glob_compile(struct iam_arena *arena, const char *pattern, struct engine_glob *out) IAM_MUST_CHECK;

#endif
