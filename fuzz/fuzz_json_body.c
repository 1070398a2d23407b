/*
 * fuzz_json_body.c: libFuzzer target for the JSON request-body readers every
 * handler shares (src/api/common.c, src/api/pagination.c): iam_api_json_body
 * on a request built without a server (an arena and the body, as the server
 * passes it: NUL-terminated with its length), then iam_api_only_fields with
 * the member lists of the real handlers, the typed member readers
 * (iam_api_body_string / _bool / _time), iam_text_check on every string and
 * iam_crn_parse on CRN lists, as the handlers and the domain use them.
 *
 * The first byte picks the handler's member list (low bits) and whether an
 * empty body is allowed (high bit); the rest is the body. Checked: a parsed
 * body is an object without duplicate members that survives a dump and
 * reload; only_fields accepts exactly the bodies whose members are all
 * listed; a string the reader returns has no NUL inside; errors carry an
 * IBM message code and a UTF-8 message.
 */
#include "fuzz_common.h"

#include <jansson.h>

#include "api/api.h"
#include "api/pagination.h"
#include "common/arena.h"
#include "common/log.h"
#include "iam/apikeys.h"
#include "iam/crn.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    iam_log_set_level(IAM_LOG_ERROR);
    return 0;
}

/* The member lists of the handlers in src/api/ (copied: they are static there). */
static const char *const serviceid_create[] = {"account_id", "name", "group_id", "description",
                                               "unique_instance_crns", "apikey", NULL};
static const char *const serviceid_update[] = {"name", "description", "unique_instance_crns", NULL};
static const char *const apikey_create[] = {"name",   "iam_id",      "description",      "account_id",
                                            "apikey", "store_value", "support_sessions", "action_when_leaked",
                                            "expires_at", NULL};
static const char *const apikey_update[] = {"name", "description", "support_sessions", "action_when_leaked",
                                            "expires_at", NULL};
static const char *const group_fields[] = {"name", "description", NULL};
static const char *const members_fields[] = {"members", NULL};
static const char *const all_groups_fields[] = {"type", "groups", NULL};
static const char *const account_create[] = {"name", "owner", NULL};
static const char *const user_create[] = {"login", "email", "given_name", "family_name", "password", NULL};
static const char *const user_update[] = {"email", "given_name", "family_name", "state", NULL};
static const char *const session_fields[] = {"login", "password", "apikey", NULL};
static const char *const policy_patch[] = {"state", NULL};

static const char *const *const lists[] = {serviceid_create, serviceid_update, apikey_create, apikey_update,
                                           group_fields,     members_fields,   all_groups_fields, account_create,
                                           user_create,      user_update,      session_fields,    policy_patch};
#define LIST_COUNT (sizeof lists / sizeof lists[0])

static const char *const member_fields[] = {"iam_id", "type", NULL};
static const char *const owner_fields[] = {"login", "email", "given_name", "family_name", "password", NULL};

static bool listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

static void check_error(enum iam_result result, const struct iam_error *err)
{
    if (result == IAM_OK)
        return;
    FUZZ_CHECK(result == IAM_EINVAL);
    FUZZ_CHECK(err->result == result && err->message_code[0] && err->message[0]);
    FUZZ_CHECK(fuzz_utf8_valid(err->message));
}

/* only_fields as the handlers call it, with the exact-answer oracle. */
static void check_only_fields(const json_t *object, const char *const *allowed)
{
    struct iam_error err;
    iam_error_clear(&err);
    enum iam_result result = iam_api_only_fields(object, allowed, &err);
    check_error(result, &err);
    bool all_listed = true;
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)object, name, value) {
        if (!listed(allowed, name))
            all_listed = false;
    }
    FUZZ_CHECK((result == IAM_OK) == all_listed);
}

/* The typed readers on every listed member, then the domain's text and CRN checks on what they return. */
static void read_members(struct iam_arena *arena, const json_t *object, const char *const *allowed)
{
    struct iam_error err;
    for (const char *const *name = allowed; *name; name++) {
        const char *text = NULL;
        bool present = false, flag = false;
        int64_t when = 0;
        iam_error_clear(&err);
        enum iam_result result = iam_api_body_string(object, *name, &text, &err);
        check_error(result, &err);
        if (result == IAM_OK && text) {
            FUZZ_CHECK(strlen(text) == json_string_length(json_object_get(object, *name)));
            enum iam_result checked = iam_text_check(*name, text, IAM_NAME_MAX, false, &err);
            check_error(checked, &err);
        }
        iam_error_clear(&err);
        check_error(iam_api_body_bool(object, *name, &present, &flag, &err), &err);
        iam_error_clear(&err);
        result = iam_api_body_time(object, *name, &present, &when, &err);
        check_error(result, &err);
        FUZZ_CHECK(result != IAM_OK || when >= 0);
    }

    const json_t *crns = json_object_get(object, "unique_instance_crns");
    size_t index;
    const json_t *item;
    json_array_foreach(crns, index, item) {
        struct iam_crn crn;
        if (json_is_string(item))
            (void)iam_crn_parse(arena, json_string_value(item), &crn);
    }
    const json_t *members = json_object_get(object, "members");
    json_array_foreach(members, index, item) {
        if (json_is_object(item)) {
            check_only_fields(item, member_fields);
            read_members(arena, item, member_fields);
        }
    }
    const json_t *owner = json_object_get(object, "owner");
    if (json_is_object(owner)) {
        check_only_fields(owner, owner_fields);
        read_members(arena, owner, owner_fields);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024 + 1)
        return 0; /* the server's default body cap is 64 KiB */
    const char *const *allowed = lists[(data[0] & 0x7f) % LIST_COUNT];
    bool allow_empty = (data[0] & 0x80) != 0;
    struct iam_arena *arena = iam_arena_new();
    FUZZ_CHECK(arena);
    char *body = fuzz_string(data + 1, size - 1);
    struct iam_http_request request = {.arena = arena, .method = "POST", .path = "/fuzz", .body = body,
                                       .body_length = size - 1, .client_address = "127.0.0.1",
                                       .request_id = "fuzz"};
    struct iam_error err;
    iam_error_clear(&err);
    json_t *object = NULL;
    enum iam_result result = iam_api_json_body(&request, allow_empty, &object, &err);
    check_error(result, &err);
    FUZZ_CHECK((result == IAM_OK) == (object != NULL));
    if (result == IAM_OK) {
        FUZZ_CHECK(json_is_object(object));
        /* What the handlers read is what a client that re-serialises it would send. */
        char *dumped = json_dumps(object, JSON_COMPACT);
        FUZZ_CHECK(dumped);
        json_t *reloaded = json_loads(dumped, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_CHECK(reloaded && json_equal(reloaded, object));
        json_decref(reloaded);
        free(dumped);
        check_only_fields(object, allowed);
        read_members(arena, object, allowed);
        json_decref(object);
    }
    free(body);
    iam_arena_free(arena);
    return 0;
}
