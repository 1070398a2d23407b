/*
 * groups.c: access groups and their members (groups.h): create, read, list
 * (with per-group visibility), update, delete (with the store's cascade to
 * members and policies), membership checks, adding and removing members one
 * by one, in bulk and across every group of an account; every operation
 * behind iam_authz_check() and followed, when it wrote, by an engine refresh.
 *
 * Error codes set here (err->code, Access Groups spelling): invalid_request
 * 400, limit_exceeded 400, insufficent_permissions 403 (from the gate),
 * not_found 404, conflict 409, service_unavailable 503, internal_error 500.
 */
#include "iam/groups.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "iam/apikeys.h"
#include "iam/engine.h"
#include "store/store_access.h"

#define GROUP_ID_LENGTH_MAX 64
#define MEMBER_IAM_ID_MAX 128
#define SEARCH_LENGTH_MAX 100
#define STORE_PAGE 100
#define SCAN_ROWS_MAX 100000 /* the most rows a filtered scan reads (members of one group) */
#define PUBLIC_ENTITY_TAG "1-00000000000000000000000000000000"
#define PUBLIC_DESCRIPTION "Every identity of the account is implicitly a member of this group."

static const char service_name[] = "iam-groups";
static const char resource_type[] = "accessgroup";

/* --- errors --- */

/* Sets `err` with `result` and the Access Groups `code` (NULL: the default for `result`). */
IAM_PRINTF(4, 5)
static enum iam_result group_error(struct iam_error *err, enum iam_result result, const char *code,
                                   const char *format, ...)
{
    if (!err)
        return result;
    iam_error_set(err, result, NULL, "%s", "");
    if (code)
        snprintf(err->code, sizeof err->code, "%s", code);
    va_list args;
    va_start(args, format);
    vsnprintf(err->message, sizeof err->message, format, args);
    va_end(args);
    iam_error_sanitize(err);
    return result;
}

static enum iam_result no_memory(struct iam_error *err)
{
    return group_error(err, IAM_ENOMEM, NULL, "Out of memory.");
}

static enum iam_result not_set_up(struct iam_error *err)
{
    return group_error(err, IAM_EINTERNAL, NULL, "The access group service is not set up.");
}

static enum iam_result group_not_found(struct iam_error *err, const char *id)
{
    return group_error(err, IAM_ENOTFOUND, "not_found", "Access group %.64s was not found.", id ? id : "");
}

static enum iam_result account_not_found(struct iam_error *err)
{
    return group_error(err, IAM_ENOTFOUND, "not_found", "The account was not found.");
}

static enum iam_result public_group_refused(struct iam_error *err)
{
    return group_error(err, IAM_EINVAL, "invalid_request",
                       "The public access group cannot be changed, deleted or given explicit members.");
}

/* A store failure other than not-found or conflict. */
static enum iam_result store_failure(enum iam_result result, struct iam_error *err)
{
    if (result == IAM_ENOMEM)
        return no_memory(err);
    if (iam_store_failed(result))
        return group_error(err, IAM_EUNAVAILABLE, NULL, "The service is temporarily unavailable.");
    return group_error(err, IAM_EINTERNAL, NULL, "Internal error (%s).", iam_strerror(result));
}

/* --- small helpers --- */

bool iam_group_is_public(const char *id)
{
    return id && strcmp(id, IAM_PUBLIC_ACCESS_GROUP) == 0;
}

static bool valid_group_id(const char *id)
{
    return id && strlen(id) <= GROUP_ID_LENGTH_MAX &&
           (iam_group_is_public(id) || iam_is_prefixed_id(id, IAM_GROUP_ID_PREFIX));
}

/* Printable ASCII without spaces: what every iam_id iamd issues looks like. */
static bool valid_iam_id(const char *iam_id)
{
    size_t length = iam_id ? strlen(iam_id) : 0;
    if (length == 0 || length > MEMBER_IAM_ID_MAX)
        return false;
    for (size_t i = 0; i < length; i++)
        if (iam_id[i] <= ' ' || iam_id[i] > '~' || iam_id[i] == '/')
            return false;
    return true;
}

static bool valid_member_type(const char *type)
{
    return type && (strcmp(type, "user") == 0 || strcmp(type, "service") == 0 || strcmp(type, "profile") == 0);
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Case-insensitive (ASCII) substring test, as the store's search does. */
static bool contains_nocase(const char *haystack, const char *needle)
{
    if (!needle || !*needle)
        return true;
    if (!haystack)
        return false;
    size_t length = strlen(needle);
    for (const char *p = haystack; *p; p++)
        if (strncasecmp(p, needle, length) == 0)
            return true;
    return false;
}

/* Lets the decision engine see a write at once; a failed refresh is logged, the write stands. */
static void refresh_engine(struct iam_service *service)
{
    if (!service->engine)
        return;
    if (iam_engine_refresh(service->engine, false) != IAM_OK)
        iam_log(IAM_LOG_WARN, "engine_refresh", "the decision engine could not be refreshed after a group change");
}

/* The gate: `action` on group `group_id` (NULL: account level) of `account_id`. */
static enum iam_result authorize(struct iam_service *service, const struct iam_principal *who, const char *action,
                                 const char *account_id, const char *group_id, struct iam_error *err)
{
    struct iam_target target = {
        .account_id = account_id,
        .service_name = service_name,
        .resource_type = resource_type,
        .resource = group_id,
    };
    return iam_authz_check(service, who, action, &target, err);
}

/*
 * The account-level gate of the operations that name an account: another
 * account is IAM_ENOTFOUND; a refusal (IAM_EDENIED) is reported in `*denied`
 * so the caller may fall back to per-group checks.
 */
static enum iam_result account_gate(struct iam_service *service, const struct iam_principal *who, const char *action,
                                    const char *account_id, bool *denied, struct iam_error *err)
{
    *denied = false;
    if (!account_id || !*account_id)
        return group_error(err, IAM_EINVAL, "invalid_request", "The query parameter account_id is required.");
    if (!iam_is_account_id(account_id))
        return group_error(err, IAM_EINVAL, "invalid_request", "The query parameter account_id is malformed.");
    struct iam_error scratch;
    iam_error_clear(&scratch);
    enum iam_result result = authorize(service, who, action, account_id, NULL, &scratch);
    if (result == IAM_OK)
        return IAM_OK;
    if (result == IAM_EDENIED) {
        *denied = true;
        if (err)
            *err = scratch;
        return IAM_OK;
    }
    if (result == IAM_ENOTFOUND)
        return account_not_found(err);
    if (err)
        *err = scratch;
    return result;
}

/* The implicit public access group of `account_id`, as a record. */
static enum iam_result public_group(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                    struct iam_group_record *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    struct iam_account_record account;
    memset(&account, 0, sizeof account);
    enum iam_result result = iam_store_account_get(service->store, arena, account_id, &account);
    if (result == IAM_ENOTFOUND)
        return account_not_found(err);
    if (result != IAM_OK)
        return store_failure(result, err);
    out->id = IAM_PUBLIC_ACCESS_GROUP;
    out->account_id = account.id;
    out->name = IAM_GROUP_PUBLIC_NAME;
    out->description = PUBLIC_DESCRIPTION;
    out->entity_tag = PUBLIC_ENTITY_TAG;
    out->created_by = "system";
    out->modified_by = "system";
    out->created_at_ms = account.created_at * 1000;
    out->modified_at_ms = account.created_at * 1000;
    return IAM_OK;
}

/* Loads group `id` from the caller's account and authorizes `action` on it. */
static enum iam_result load_group(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, const char *id, const char *action,
                                  struct iam_group_record *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !who->account_id || !who->iam_id)
        return not_set_up(err);
    if (!valid_group_id(id))
        return group_not_found(err, id);
    enum iam_result result;
    if (iam_group_is_public(id)) {
        result = public_group(service, arena, who->account_id, out, err);
        if (result == IAM_ENOTFOUND)
            return group_not_found(err, id);
    } else {
        result = iam_store_group_get(service->store, arena, who->account_id, id, out);
        if (result == IAM_ENOTFOUND)
            return group_not_found(err, id);
        if (result != IAM_OK)
            return store_failure(result, err);
    }
    if (result != IAM_OK)
        return result;
    result = authorize(service, who, action, out->account_id, out->id, err);
    return result == IAM_ENOTFOUND ? group_not_found(err, id) : result;
}

static enum iam_result check_name(const char *name, struct iam_error *err)
{
    enum iam_result result = iam_text_check("name", name, IAM_GROUP_NAME_MAX, false, err);
    if (result != IAM_OK)
        return result; /* IAM_EINVAL: code "invalid_request" */
    if (name[0] == ' ' || name[strlen(name) - 1] == ' ')
        return group_error(err, IAM_EINVAL, "invalid_request", "The group name must not start or end with a space.");
    return IAM_OK;
}

static enum iam_result check_description(const char *description, struct iam_error *err)
{
    return iam_text_check("description", description, IAM_GROUP_DESCRIPTION_MAX, true, err);
}

/* Whether another group of the account (not `except_id`) has `name`, compared case-insensitively. */
static enum iam_result name_taken(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                  const char *name, const char *except_id, bool *taken, struct iam_error *err)
{
    *taken = strcasecmp(name, IAM_GROUP_PUBLIC_NAME) == 0;
    struct iam_group_query query = {
        .account_id = account_id, .search = name, .order = IAM_SORT_ASC, .limit = STORE_PAGE};
    while (!*taken) {
        struct iam_group_record *items = NULL;
        size_t count = 0;
        int64_t total = 0;
        enum iam_result result = iam_store_group_list(service->store, arena, &query, &items, &count, &total);
        if (result != IAM_OK)
            return store_failure(result, err);
        for (size_t i = 0; i < count; i++)
            if (items[i].name && strcasecmp(items[i].name, name) == 0 && !same_text(items[i].id, except_id))
                *taken = true;
        query.offset += (int64_t)count;
        if (count == 0 || query.offset >= total)
            break;
    }
    return IAM_OK;
}

static enum iam_result duplicate_name(struct iam_error *err, const char *name)
{
    return group_error(err, IAM_ECONFLICT, "conflict", "An access group named \"%.100s\" exists in the account.",
                       name);
}

/* --- groups --- */

enum iam_result iam_group_create(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *account_id, const char *name,
                                 const char *description, struct iam_group_record *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !who->iam_id)
        return not_set_up(err);
    enum iam_result result;
    if ((result = check_name(name, err)) != IAM_OK)
        return result;
    if (description && (result = check_description(description, err)) != IAM_OK)
        return result;
    bool denied = false;
    if ((result = account_gate(service, who, IAM_ACTION_GROUP_CREATE, account_id, &denied, err)) != IAM_OK)
        return result;
    if (denied)
        return IAM_EDENIED;
    int64_t existing = 0;
    if ((result = iam_store_group_count(service->store, account_id, &existing)) != IAM_OK)
        return store_failure(result, err);
    if (existing >= IAM_GROUPS_PER_ACCOUNT_MAX)
        return group_error(err, IAM_EINVAL, "limit_exceeded", "The account has %d access groups, the most it may have.",
                           IAM_GROUPS_PER_ACCOUNT_MAX);
    bool taken = false;
    if ((result = name_taken(service, arena, account_id, name, NULL, &taken, err)) != IAM_OK)
        return result;
    if (taken)
        return duplicate_name(err, name);

    char id[IAM_ID_SIZE];
    if (iam_prefixed_id_new(IAM_GROUP_ID_PREFIX, id) != IAM_OK)
        return group_error(err, IAM_ECRYPTO, NULL, "Cannot create an identifier.");
    const char *tag = NULL;
    if ((result = iam_entity_tag_next(arena, NULL, &tag, err)) != IAM_OK)
        return result;
    int64_t now = iam_now_ms();
    struct iam_group_record record = {
        .id = iam_arena_strdup(arena, id),
        .account_id = iam_arena_strdup(arena, account_id),
        .name = name,
        .description = description && *description ? description : NULL,
        .entity_tag = tag,
        .created_by = who->iam_id,
        .modified_by = who->iam_id,
        .created_at_ms = now,
        .modified_at_ms = now,
    };
    if (!record.id || !record.account_id)
        return no_memory(err);
    result = iam_store_group_insert(service->store, &record);
    if (result == IAM_ECONFLICT)
        return duplicate_name(err, name);
    if (result == IAM_ENOTFOUND)
        return account_not_found(err);
    if (result != IAM_OK)
        return store_failure(result, err);
    refresh_engine(service);
    *out = record;
    return IAM_OK;
}

enum iam_result iam_group_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                              const char *id, struct iam_group_record *out, struct iam_error *err)
{
    return load_group(service, arena, who, id, IAM_ACTION_GROUP_READ, out, err);
}

/* The parsed `search` parameter. */
struct group_search {
    const char *text;  /* substring of name or description; NULL: none */
    const char *id;    /* an exact group id; NULL: none */
};

static enum iam_result parse_search(const char *search, struct group_search *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!search || !*search)
        return IAM_OK;
    if (strlen(search) > SEARCH_LENGTH_MAX + 12 || iam_text_check("search", search, SEARCH_LENGTH_MAX + 12, false, NULL))
        return group_error(err, IAM_EINVAL, "invalid_request", "The query parameter search is too long or malformed.");
    if (strncmp(search, "id:", 3) == 0) {
        out->id = search + 3;
        return IAM_OK;
    }
    if (strncmp(search, "name:", 5) == 0)
        out->text = search + 5;
    else if (strncmp(search, "description:", 12) == 0)
        out->text = search + 12;
    else
        out->text = search;
    if (!*out->text)
        out->text = NULL;
    return IAM_OK;
}

static enum iam_result parse_sort(const char *sort, const char **column, enum iam_sort_order *order,
                                  struct iam_error *err)
{
    *column = NULL;
    *order = IAM_SORT_ASC;
    if (!sort || !*sort)
        return IAM_OK;
    if (sort[0] == '-') {
        *order = IAM_SORT_DESC;
        sort++;
    }
    if (strcmp(sort, "name") == 0 || strcmp(sort, "description") == 0 || strcmp(sort, "created_at") == 0)
        *column = sort;
    else if (strcmp(sort, "is_federated") == 0)
        *column = NULL; /* no group here has rules: the default order */
    else
        return group_error(err, IAM_EINVAL, "invalid_request",
                           "The query parameter sort must be name, description, created_at or is_federated.");
    return IAM_OK;
}

/* Appends `record` to a growing arena array. */
static enum iam_result push_group(struct iam_arena *arena, struct iam_group_record **items, size_t *count,
                                  size_t *capacity, const struct iam_group_record *record)
{
    if (*count == *capacity) {
        size_t grown = *capacity ? *capacity * 2 : 16;
        struct iam_group_record *bigger = iam_arena_alloc(arena, grown * sizeof *bigger);
        if (!bigger)
            return IAM_ENOMEM;
        if (*count)
            memcpy(bigger, *items, *count * sizeof *bigger);
        *items = bigger;
        *capacity = grown;
    }
    (*items)[(*count)++] = *record;
    return IAM_OK;
}

/* The slice [offset, offset+limit) of `all` into `out`. */
static void page_slice(struct iam_group_record *all, size_t all_count, int64_t offset, int64_t limit,
                       struct iam_group_page *out)
{
    out->total = (int64_t)all_count;
    if (offset >= (int64_t)all_count) {
        out->items = NULL;
        out->count = 0;
        return;
    }
    size_t available = all_count - (size_t)offset;
    out->items = all + offset;
    out->count = available < (size_t)limit ? available : (size_t)limit;
}

/* `search=id:<id>`: the one group, if visible and matching the member filter. */
static enum iam_result list_by_id(struct iam_service *service, struct iam_arena *arena,
                                  const struct iam_principal *who, const struct iam_group_list_request *request,
                                  const char *id, struct iam_group_page *out, struct iam_error *err)
{
    struct iam_group_record group;
    struct iam_error scratch;
    iam_error_clear(&scratch);
    enum iam_result result;
    if (iam_group_is_public(id)) {
        if (request->hide_public_access || request->iam_id)
            return IAM_OK;
        result = public_group(service, arena, request->account_id, &group, err);
    } else if (valid_group_id(id)) {
        result = iam_store_group_get(service->store, arena, request->account_id, id, &group);
        if (result == IAM_ENOTFOUND)
            return IAM_OK;
        if (result != IAM_OK)
            return store_failure(result, err);
        if (request->iam_id) {
            struct iam_group_member_record member;
            result = iam_store_member_get(service->store, arena, request->account_id, id, request->iam_id, &member);
            if (result == IAM_ENOTFOUND)
                return IAM_OK;
            if (result != IAM_OK)
                return store_failure(result, err);
        }
    } else {
        return IAM_OK;
    }
    if (result != IAM_OK)
        return result;
    result = authorize(service, who, IAM_ACTION_GROUP_READ, group.account_id, group.id, &scratch);
    if (result == IAM_EDENIED)
        return IAM_OK;
    if (result != IAM_OK) {
        if (err)
            *err = scratch;
        return result;
    }
    out->total = 1;
    if (request->offset > 0)
        return IAM_OK;
    out->items = iam_arena_alloc(arena, sizeof *out->items);
    if (!out->items)
        return no_memory(err);
    out->items[0] = group;
    out->count = 1;
    return IAM_OK;
}

enum iam_result iam_group_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                               const struct iam_group_list_request *request, struct iam_group_page *out,
                               struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !request)
        return not_set_up(err);
    if (request->limit < 1 || request->limit > IAM_GROUP_LIST_LIMIT_MAX)
        return group_error(err, IAM_EINVAL, "invalid_request", "The query parameter limit must be from 0 to 100.");
    if (request->offset < 0 || request->offset > IAM_GROUP_LIST_OFFSET_MAX)
        return group_error(err, IAM_EINVAL, "invalid_request", "The query parameter offset is out of range.");
    if (request->iam_id && !valid_iam_id(request->iam_id))
        return group_error(err, IAM_EINVAL, "invalid_request", "The query parameter iam_id is malformed.");
    struct group_search search;
    const char *column = NULL;
    enum iam_sort_order order;
    enum iam_result result;
    if ((result = parse_search(request->search, &search, err)) != IAM_OK ||
        (result = parse_sort(request->sort, &column, &order, err)) != IAM_OK)
        return result;
    bool denied = false;
    if ((result = account_gate(service, who, IAM_ACTION_GROUP_LIST, request->account_id, &denied, err)) != IAM_OK)
        return result;
    if (err)
        iam_error_clear(err);
    if (search.id)
        return list_by_id(service, arena, who, request, search.id, out, err);

    bool with_public = !request->hide_public_access && !request->iam_id &&
                       (contains_nocase(IAM_GROUP_PUBLIC_NAME, search.text) ||
                        contains_nocase(PUBLIC_DESCRIPTION, search.text));
    struct iam_group_record public_record;
    if (with_public && (result = public_group(service, arena, request->account_id, &public_record, err)) != IAM_OK)
        return result;
    struct iam_group_query query = {
        .account_id = request->account_id,
        .member_iam_id = request->iam_id,
        .search = search.text,
        .sort = column,
        .order = order,
    };

    if (!denied) {
        /* Every group is visible: let the store page; the public group is row 0. */
        int64_t skip_public = with_public ? 1 : 0;
        int64_t limit = request->limit;
        int64_t offset = request->offset;
        bool public_on_page = with_public && offset == 0;
        query.offset = offset > skip_public ? offset - skip_public : 0;
        query.limit = public_on_page ? limit - 1 : limit;
        bool discard = query.limit == 0; /* limit 1 on the first page: only the public group */
        if (discard)
            query.limit = 1;
        struct iam_group_record *items = NULL;
        size_t count = 0;
        int64_t total = 0;
        if ((result = iam_store_group_list(service->store, arena, &query, &items, &count, &total)) != IAM_OK)
            return store_failure(result, err);
        if (discard)
            count = 0;
        out->total = total + skip_public;
        out->items = iam_arena_alloc(arena, (count + 1) * sizeof *out->items);
        if (!out->items)
            return no_memory(err);
        if (public_on_page)
            out->items[out->count++] = public_record;
        for (size_t i = 0; i < count; i++)
            out->items[out->count++] = items[i];
        return IAM_OK;
    }

    /* Only some groups may be visible: read them all (at most 500), keep the readable ones, then page. */
    struct iam_group_record *visible = NULL;
    size_t visible_count = 0, capacity = 0;
    if (with_public && push_group(arena, &visible, &visible_count, &capacity, &public_record) != IAM_OK)
        return no_memory(err);
    query.limit = STORE_PAGE;
    for (int64_t read = 0; read < SCAN_ROWS_MAX;) {
        struct iam_group_record *items = NULL;
        size_t count = 0;
        int64_t total = 0;
        if ((result = iam_store_group_list(service->store, arena, &query, &items, &count, &total)) != IAM_OK)
            return store_failure(result, err);
        for (size_t i = 0; i < count; i++) {
            struct iam_error scratch;
            iam_error_clear(&scratch);
            result = authorize(service, who, IAM_ACTION_GROUP_READ, items[i].account_id, items[i].id, &scratch);
            if (result == IAM_EDENIED)
                continue;
            if (result != IAM_OK) {
                if (err)
                    *err = scratch;
                return result;
            }
            if (push_group(arena, &visible, &visible_count, &capacity, &items[i]) != IAM_OK)
                return no_memory(err);
        }
        read += (int64_t)count;
        query.offset += (int64_t)count;
        if (count == 0 || query.offset >= total)
            break;
    }
    page_slice(visible, visible_count, request->offset, request->limit, out);
    return IAM_OK;
}

/* Classifies a failed conditional update: a stale tag, or a name another group took meanwhile. */
static enum iam_result update_conflict(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                       const char *id, const char *loaded_tag, const char *name,
                                       struct iam_error *err)
{
    struct iam_group_record current;
    enum iam_result result = iam_store_group_get(service->store, arena, account_id, id, &current);
    if (result == IAM_ENOTFOUND)
        return group_not_found(err, id);
    if (result != IAM_OK)
        return store_failure(result, err);
    if (!same_text(current.entity_tag, loaded_tag))
        return group_error(err, IAM_ECONFLICT, "conflict",
                           "The access group changed since it was read (stale If-Match); read it again and retry.");
    return duplicate_name(err, name);
}

enum iam_result iam_group_update(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *id, const char *expected_entity_tag,
                                 const char *name, const char *description, struct iam_group_record *out,
                                 struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    enum iam_result result;
    if (name && (result = check_name(name, err)) != IAM_OK)
        return result;
    if (description && (result = check_description(description, err)) != IAM_OK)
        return result;
    if (!name && !description)
        return group_error(err, IAM_EINVAL, "invalid_request", "Give a name or a description to change.");
    struct iam_group_record record;
    if ((result = load_group(service, arena, who, id, IAM_ACTION_GROUP_UPDATE, &record, err)) != IAM_OK)
        return result;
    if (iam_group_is_public(record.id))
        return public_group_refused(err);
    if (expected_entity_tag && !same_text(expected_entity_tag, record.entity_tag))
        return group_error(err, IAM_ECONFLICT, "conflict",
                           "The access group changed since it was read (stale If-Match); read it again and retry.");
    struct iam_group_record updated = record;
    bool changed = false;
    if (name && !same_text(name, record.name)) {
        if (strcasecmp(name, record.name ? record.name : "") != 0) {
            bool taken = false;
            if ((result = name_taken(service, arena, record.account_id, name, record.id, &taken, err)) != IAM_OK)
                return result;
            if (taken)
                return duplicate_name(err, name);
        }
        updated.name = name;
        changed = true;
    }
    if (description) {
        const char *value = *description ? description : NULL;
        if (!same_text(value, record.description)) {
            updated.description = value;
            changed = true;
        }
    }
    if (!changed) {
        *out = record;
        return IAM_OK;
    }
    if ((result = iam_entity_tag_next(arena, record.entity_tag, &updated.entity_tag, err)) != IAM_OK)
        return result;
    updated.modified_by = who->iam_id;
    updated.modified_at_ms = iam_now_ms();
    result = iam_store_group_update(service->store, &updated, record.entity_tag);
    if (result == IAM_ECONFLICT)
        return update_conflict(service, arena, record.account_id, record.id, record.entity_tag, updated.name, err);
    if (result == IAM_ENOTFOUND)
        return group_not_found(err, id);
    if (result != IAM_OK)
        return store_failure(result, err);
    refresh_engine(service);
    *out = updated;
    return IAM_OK;
}

enum iam_result iam_group_delete(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *id, bool force, struct iam_error *err)
{
    struct iam_group_record record;
    enum iam_result result = load_group(service, arena, who, id, IAM_ACTION_GROUP_DELETE, &record, err);
    if (result != IAM_OK)
        return result;
    if (iam_group_is_public(record.id))
        return public_group_refused(err);
    if (!force) {
        struct iam_group_member_record *members = NULL;
        size_t count = 0;
        int64_t total = 0;
        result = iam_store_member_list(service->store, arena, record.account_id, record.id, 0, 1, &members, &count,
                                       &total);
        if (result != IAM_OK)
            return store_failure(result, err);
        if (total > 0 || count > 0)
            return group_error(err, IAM_ECONFLICT, "conflict",
                               "The access group has %lld members; remove them first or delete with force=true.",
                               (long long)(total > 0 ? total : (int64_t)count));
    }
    result = iam_store_group_delete(service->store, record.account_id, record.id);
    if (result == IAM_ENOTFOUND)
        return group_not_found(err, id);
    if (result != IAM_OK)
        return store_failure(result, err);
    refresh_engine(service);
    return IAM_OK;
}

/* --- members --- */

/* What a member's identity is, as far as listing needs. */
struct identity_info {
    const char *name;
    const char *email;
    const char *description;
    const char *entity_id;
};

/*
 * Finds `iam_id` of `type` in `account_id`: IAM_OK, IAM_ENOTFOUND, IAM_EINVAL
 * (the type contradicts the iam_id) or a store failure. `type` NULL: by prefix.
 */
static enum iam_result find_identity(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                     const char *iam_id, const char *type, struct identity_info *info,
                                     struct iam_error *err)
{
    struct identity_info ignored;
    if (!info)
        info = &ignored;
    memset(info, 0, sizeof *info);
    bool service_id = iam_is_service_id_iam_id(iam_id);
    bool profile = strncmp(iam_id, "iam-Profile-", 12) == 0;
    if (!type)
        type = service_id ? "service" : profile ? "profile" : "user";
    if ((strcmp(type, "service") == 0) != service_id || (strcmp(type, "profile") == 0) != profile)
        return group_error(err, IAM_EINVAL, "invalid_request", "The member %.128s is not of type %s.", iam_id, type);
    enum iam_result result;
    if (profile) {
        result = IAM_ENOTFOUND; /* iamd has no trusted profiles */
    } else if (service_id) {
        struct iam_service_id_record record;
        result = iam_store_service_id_get_by_iam_id(service->store, arena, account_id, iam_id, &record);
        if (result == IAM_OK) {
            info->name = record.name;
            info->description = record.description;
            info->entity_id = record.id;
        }
    } else {
        struct iam_user_record user;
        result = iam_store_user_get(service->store, arena, account_id, iam_id, &user);
        if (result == IAM_OK) {
            info->email = user.email;
            if (user.given_name && user.family_name)
                info->name = iam_arena_printf(arena, "%s %s", user.given_name, user.family_name);
            else
                info->name = user.given_name ? user.given_name : user.login;
        }
    }
    if (result == IAM_ENOTFOUND)
        return group_error(err, IAM_ENOTFOUND, "not_found", "The identity %.128s was not found in the account.",
                           iam_id);
    if (result != IAM_OK)
        return store_failure(result, err);
    return IAM_OK;
}

static int status_of(enum iam_result result)
{
    switch (result) {
    case IAM_OK: return 200;
    case IAM_EINVAL: return 400;
    case IAM_EDENIED: return 403;
    case IAM_ENOTFOUND: return 404;
    case IAM_ECONFLICT: return 409;
    case IAM_EUNAVAILABLE: return 503;
    default: return 500;
    }
}

/* Fills an outcome from a failed `result` (the detail already in outcome->error). */
static void outcome_fail(struct iam_group_member_outcome *outcome, enum iam_result result)
{
    outcome->status = status_of(result);
    if (outcome->error.result == IAM_OK)
        group_error(&outcome->error, result, NULL, "%s", iam_strerror(result));
}

/*
 * Adds `iam_id` to `group` (already loaded and authorized), filling `outcome`;
 * true when added.
 */
static bool add_one(struct iam_service *service, const struct iam_principal *who, const struct iam_group_record *group,
                    const char *iam_id, const char *type, struct iam_group_member_outcome *outcome)
{
    int64_t groups = 0;
    enum iam_result result = iam_store_member_group_count(service->store, group->account_id, iam_id, &groups);
    if (result != IAM_OK) {
        outcome_fail(outcome, store_failure(result, &outcome->error));
        return false;
    }
    struct iam_group_member_record member = {
        .group_id = group->id,
        .account_id = group->account_id,
        .iam_id = iam_id,
        .type = type,
        .created_by = who->iam_id,
        .created_at_ms = iam_now_ms(),
    };
    if (groups >= IAM_GROUPS_PER_IDENTITY_MAX) {
        /* Already a member is the better answer when it is one. */
        struct iam_group_member_record existing;
        struct iam_arena *scratch = iam_arena_new();
        bool member_already = scratch && iam_store_member_get(service->store, scratch, group->account_id, group->id,
                                                              iam_id, &existing) == IAM_OK;
        iam_arena_free(scratch);
        if (member_already)
            outcome_fail(outcome, group_error(&outcome->error, IAM_ECONFLICT, "conflict",
                                              "%.128s is already a member of the access group.", iam_id));
        else
            outcome_fail(outcome, group_error(&outcome->error, IAM_EINVAL, "limit_exceeded",
                                              "%.128s is a member of %d access groups, the most it may be.", iam_id,
                                              IAM_GROUPS_PER_IDENTITY_MAX));
        return false;
    }
    result = iam_store_member_add(service->store, &member);
    if (result == IAM_ECONFLICT) {
        outcome_fail(outcome, group_error(&outcome->error, IAM_ECONFLICT, "conflict",
                                          "%.128s is already a member of the access group.", iam_id));
        return false;
    }
    if (result == IAM_ENOTFOUND) {
        outcome_fail(outcome, group_not_found(&outcome->error, group->id));
        return false;
    }
    if (result != IAM_OK) {
        outcome_fail(outcome, store_failure(result, &outcome->error));
        return false;
    }
    outcome->status = 200;
    outcome->created_by = who->iam_id;
    outcome->created_at_ms = member.created_at_ms;
    return true;
}

static enum iam_result member_count_check(size_t count, const char *what, struct iam_error *err)
{
    if (count == 0 || count > IAM_GROUP_MEMBERS_PER_CALL_MAX)
        return group_error(err, IAM_EINVAL, "invalid_request", "Give from 1 to %d %s.", IAM_GROUP_MEMBERS_PER_CALL_MAX,
                           what);
    return IAM_OK;
}

enum iam_result iam_group_members_add(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *group_id,
                                      const struct iam_group_member_input *members, size_t count,
                                      struct iam_group_member_outcome **outcomes, struct iam_error *err)
{
    *outcomes = NULL;
    enum iam_result result;
    if ((result = member_count_check(count, "members", err)) != IAM_OK)
        return result;
    struct iam_group_record group;
    if ((result = load_group(service, arena, who, group_id, IAM_ACTION_MEMBER_ADD, &group, err)) != IAM_OK)
        return result;
    if (iam_group_is_public(group.id))
        return public_group_refused(err);
    struct iam_group_member_outcome *items = iam_arena_alloc(arena, count * sizeof *items);
    if (!items)
        return no_memory(err);
    bool changed = false;
    for (size_t i = 0; i < count; i++) {
        struct iam_group_member_outcome *outcome = &items[i];
        outcome->iam_id = members[i].iam_id;
        outcome->type = members[i].type;
        outcome->group_id = group.id;
        if (!valid_iam_id(members[i].iam_id)) {
            outcome_fail(outcome, group_error(&outcome->error, IAM_EINVAL, "invalid_request",
                                              "The member iam_id is missing or malformed."));
            continue;
        }
        if (!valid_member_type(members[i].type)) {
            outcome_fail(outcome, group_error(&outcome->error, IAM_EINVAL, "invalid_request",
                                              "The member type must be user, service or profile."));
            continue;
        }
        result = find_identity(service, arena, group.account_id, members[i].iam_id, members[i].type, NULL,
                               &outcome->error);
        if (result != IAM_OK) {
            outcome_fail(outcome, result);
            continue;
        }
        if (add_one(service, who, &group, members[i].iam_id, members[i].type, outcome))
            changed = true;
    }
    if (changed)
        refresh_engine(service);
    *outcomes = items;
    return IAM_OK;
}

enum iam_result iam_group_member_check(struct iam_service *service, struct iam_arena *arena,
                                       const struct iam_principal *who, const char *group_id, const char *iam_id,
                                       struct iam_error *err)
{
    struct iam_group_record group;
    enum iam_result result = load_group(service, arena, who, group_id, IAM_ACTION_MEMBER_READ, &group, err);
    if (result != IAM_OK)
        return result;
    if (!valid_iam_id(iam_id))
        return group_error(err, IAM_ENOTFOUND, "not_found", "Not a member of the access group.");
    if (iam_group_is_public(group.id)) {
        result = find_identity(service, arena, group.account_id, iam_id, NULL, NULL, err);
        if (result == IAM_EINVAL)
            result = group_error(err, IAM_ENOTFOUND, "not_found", "Not a member of the access group.");
        return result;
    }
    struct iam_group_member_record member;
    result = iam_store_member_get(service->store, arena, group.account_id, group.id, iam_id, &member);
    if (result == IAM_ENOTFOUND)
        return group_error(err, IAM_ENOTFOUND, "not_found", "%.128s is not a member of the access group.", iam_id);
    return result == IAM_OK ? IAM_OK : store_failure(result, err);
}

/* Fills the verbose fields of a member view. */
static enum iam_result describe_member(struct iam_service *service, struct iam_arena *arena,
                                       struct iam_group_member_view *view, struct iam_error *err)
{
    struct identity_info info;
    struct iam_error scratch;
    iam_error_clear(&scratch);
    enum iam_result result = find_identity(service, arena, view->record.account_id, view->record.iam_id, NULL, &info,
                                           &scratch);
    if (result == IAM_ENOTFOUND || result == IAM_EINVAL)
        return IAM_OK; /* a dangling membership lists without a name */
    if (result != IAM_OK) {
        if (err)
            *err = scratch;
        return result;
    }
    view->name = info.name;
    view->email = info.email;
    view->description = info.description;
    view->entity_id = info.entity_id;
    return IAM_OK;
}

enum iam_result iam_group_members_list(struct iam_service *service, struct iam_arena *arena,
                                       const struct iam_principal *who, const char *group_id,
                                       const struct iam_group_member_list_request *request,
                                       struct iam_group_member_page *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!request)
        return not_set_up(err);
    if (request->limit < 1 || request->limit > IAM_GROUP_LIST_LIMIT_MAX)
        return group_error(err, IAM_EINVAL, "invalid_request", "The query parameter limit must be from 0 to 100.");
    if (request->offset < 0 || request->offset > IAM_GROUP_LIST_OFFSET_MAX)
        return group_error(err, IAM_EINVAL, "invalid_request", "The query parameter offset is out of range.");
    if (request->type && !valid_member_type(request->type))
        return group_error(err, IAM_EINVAL, "invalid_request",
                           "The query parameter type must be user, service or profile.");
    struct iam_group_record group;
    enum iam_result result = load_group(service, arena, who, group_id, IAM_ACTION_MEMBER_LIST, &group, err);
    if (result != IAM_OK)
        return result;
    if (iam_group_is_public(group.id) || request->dynamic_only)
        return IAM_OK; /* implicit members are not listed; iamd has no dynamic rules */

    struct iam_group_member_record *rows = NULL;
    size_t count = 0;
    if (!request->type) {
        result = iam_store_member_list(service->store, arena, group.account_id, group.id, request->offset,
                                       request->limit, &rows, &count, &out->total);
        if (result != IAM_OK)
            return store_failure(result, err);
    } else {
        /* Filter by type over every member, then page. */
        struct iam_group_member_record *kept = NULL;
        size_t kept_count = 0, capacity = 0;
        int64_t offset = 0;
        for (;;) {
            struct iam_group_member_record *page = NULL;
            size_t page_count = 0;
            int64_t total = 0;
            result = iam_store_member_list(service->store, arena, group.account_id, group.id, offset, STORE_PAGE,
                                           &page, &page_count, &total);
            if (result != IAM_OK)
                return store_failure(result, err);
            for (size_t i = 0; i < page_count; i++) {
                if (!page[i].type || strcmp(page[i].type, request->type) != 0)
                    continue;
                if (kept_count == capacity) {
                    size_t grown = capacity ? capacity * 2 : 32;
                    struct iam_group_member_record *bigger = iam_arena_alloc(arena, grown * sizeof *bigger);
                    if (!bigger)
                        return no_memory(err);
                    if (kept_count)
                        memcpy(bigger, kept, kept_count * sizeof *bigger);
                    kept = bigger;
                    capacity = grown;
                }
                kept[kept_count++] = page[i];
            }
            offset += (int64_t)page_count;
            if (page_count == 0 || offset >= total || offset >= SCAN_ROWS_MAX)
                break;
        }
        out->total = (int64_t)kept_count;
        if (request->offset < (int64_t)kept_count) {
            rows = kept + request->offset;
            size_t available = kept_count - (size_t)request->offset;
            count = available < (size_t)request->limit ? available : (size_t)request->limit;
        }
    }
    if (count == 0)
        return IAM_OK;
    out->items = iam_arena_alloc(arena, count * sizeof *out->items);
    if (!out->items)
        return no_memory(err);
    for (size_t i = 0; i < count; i++) {
        out->items[i].record = rows[i];
        if (request->verbose && (result = describe_member(service, arena, &out->items[i], err)) != IAM_OK)
            return result;
    }
    out->count = count;
    return IAM_OK;
}

/* Removes `iam_id` from `group` (loaded and authorized); IAM_ENOTFOUND when not a member. */
static enum iam_result remove_one(struct iam_service *service, const struct iam_group_record *group,
                                  const char *iam_id, struct iam_error *err)
{
    if (!valid_iam_id(iam_id))
        return group_error(err, IAM_EINVAL, "invalid_request", "The member iam_id is missing or malformed.");
    enum iam_result result = iam_store_member_remove(service->store, group->account_id, group->id, iam_id);
    if (result == IAM_ENOTFOUND)
        return group_error(err, IAM_ENOTFOUND, "not_found", "%.128s is not a member of the access group.", iam_id);
    return result == IAM_OK ? IAM_OK : store_failure(result, err);
}

enum iam_result iam_group_member_remove(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, const char *group_id, const char *iam_id,
                                        struct iam_error *err)
{
    struct iam_group_record group;
    enum iam_result result = load_group(service, arena, who, group_id, IAM_ACTION_MEMBER_DELETE, &group, err);
    if (result != IAM_OK)
        return result;
    if (iam_group_is_public(group.id))
        return public_group_refused(err);
    if (!valid_iam_id(iam_id))
        return group_error(err, IAM_ENOTFOUND, "not_found", "Not a member of the access group.");
    if ((result = remove_one(service, &group, iam_id, err)) != IAM_OK)
        return result;
    refresh_engine(service);
    return IAM_OK;
}

enum iam_result iam_group_members_remove(struct iam_service *service, struct iam_arena *arena,
                                         const struct iam_principal *who, const char *group_id,
                                         const char *const *iam_ids, size_t count,
                                         struct iam_group_member_outcome **outcomes, struct iam_error *err)
{
    *outcomes = NULL;
    enum iam_result result;
    if ((result = member_count_check(count, "members", err)) != IAM_OK)
        return result;
    struct iam_group_record group;
    if ((result = load_group(service, arena, who, group_id, IAM_ACTION_MEMBER_DELETE, &group, err)) != IAM_OK)
        return result;
    if (iam_group_is_public(group.id))
        return public_group_refused(err);
    struct iam_group_member_outcome *items = iam_arena_alloc(arena, count * sizeof *items);
    if (!items)
        return no_memory(err);
    bool changed = false;
    for (size_t i = 0; i < count; i++) {
        items[i].iam_id = iam_ids[i];
        items[i].group_id = group.id;
        result = remove_one(service, &group, iam_ids[i], &items[i].error);
        if (result != IAM_OK) {
            outcome_fail(&items[i], result);
            continue;
        }
        items[i].status = 204;
        changed = true;
    }
    if (changed)
        refresh_engine(service);
    *outcomes = items;
    return IAM_OK;
}

enum iam_result iam_group_member_remove_all(struct iam_service *service, struct iam_arena *arena,
                                            const struct iam_principal *who, const char *account_id,
                                            const char *iam_id, struct iam_group_member_outcome **outcomes,
                                            size_t *count, struct iam_error *err)
{
    *outcomes = NULL;
    *count = 0;
    if (!service || !service->store || !who)
        return not_set_up(err);
    bool denied = false;
    enum iam_result result = account_gate(service, who, IAM_ACTION_MEMBER_DELETE, account_id, &denied, err);
    if (result != IAM_OK)
        return result;
    if (err)
        iam_error_clear(err);
    if (!valid_iam_id(iam_id))
        return group_error(err, IAM_ENOTFOUND, "not_found", "The identity is not a member of any access group.");
    /* An identity is in at most 50 groups; read them all before changing anything. */
    struct iam_group_query query = {
        .account_id = account_id, .member_iam_id = iam_id, .order = IAM_SORT_ASC, .limit = STORE_PAGE};
    struct iam_group_record *groups = NULL;
    size_t group_count = 0, capacity = 0;
    for (;;) {
        struct iam_group_record *items = NULL;
        size_t page_count = 0;
        int64_t total = 0;
        if ((result = iam_store_group_list(service->store, arena, &query, &items, &page_count, &total)) != IAM_OK)
            return store_failure(result, err);
        for (size_t i = 0; i < page_count; i++)
            if (push_group(arena, &groups, &group_count, &capacity, &items[i]) != IAM_OK)
                return no_memory(err);
        query.offset += (int64_t)page_count;
        if (page_count == 0 || query.offset >= total || query.offset >= SCAN_ROWS_MAX)
            break;
    }
    if (group_count == 0)
        return group_error(err, IAM_ENOTFOUND, "not_found", "%.128s is not a member of any access group.", iam_id);
    struct iam_group_member_outcome *items = iam_arena_alloc(arena, group_count * sizeof *items);
    if (!items)
        return no_memory(err);
    bool changed = false;
    for (size_t i = 0; i < group_count; i++) {
        items[i].iam_id = iam_id;
        items[i].group_id = groups[i].id;
        result = authorize(service, who, IAM_ACTION_MEMBER_DELETE, groups[i].account_id, groups[i].id,
                           &items[i].error);
        if (result == IAM_OK)
            result = remove_one(service, &groups[i], iam_id, &items[i].error);
        if (result != IAM_OK) {
            outcome_fail(&items[i], result);
            continue;
        }
        items[i].status = 204;
        changed = true;
    }
    if (changed)
        refresh_engine(service);
    *outcomes = items;
    *count = group_count;
    return IAM_OK;
}

enum iam_result iam_group_member_add_to_groups(struct iam_service *service, struct iam_arena *arena,
                                               const struct iam_principal *who, const char *account_id,
                                               const char *iam_id, const char *type, const char *const *group_ids,
                                               size_t count, struct iam_group_member_outcome **outcomes,
                                               struct iam_error *err)
{
    *outcomes = NULL;
    if (!service || !service->store || !who)
        return not_set_up(err);
    enum iam_result result;
    if ((result = member_count_check(count, "groups", err)) != IAM_OK)
        return result;
    bool denied = false;
    if ((result = account_gate(service, who, IAM_ACTION_MEMBER_ADD, account_id, &denied, err)) != IAM_OK)
        return result;
    if (err)
        iam_error_clear(err);
    if (!valid_member_type(type))
        return group_error(err, IAM_EINVAL, "invalid_request", "The property type must be user, service or profile.");
    if (!valid_iam_id(iam_id))
        return group_error(err, IAM_ENOTFOUND, "not_found", "The identity was not found in the account.");
    if ((result = find_identity(service, arena, account_id, iam_id, type, NULL, err)) != IAM_OK)
        return result;
    struct iam_group_member_outcome *items = iam_arena_alloc(arena, count * sizeof *items);
    if (!items)
        return no_memory(err);
    bool changed = false;
    for (size_t i = 0; i < count; i++) {
        struct iam_group_member_outcome *outcome = &items[i];
        outcome->iam_id = iam_id;
        outcome->type = type;
        outcome->group_id = group_ids[i];
        struct iam_group_record group;
        memset(&group, 0, sizeof group);
        if (!valid_group_id(group_ids[i])) {
            outcome_fail(outcome, group_not_found(&outcome->error, group_ids[i]));
            continue;
        }
        if (iam_group_is_public(group_ids[i])) {
            outcome_fail(outcome, public_group_refused(&outcome->error));
            continue;
        }
        result = iam_store_group_get(service->store, arena, account_id, group_ids[i], &group);
        if (result == IAM_ENOTFOUND)
            result = group_not_found(&outcome->error, group_ids[i]);
        else if (result != IAM_OK)
            result = store_failure(result, &outcome->error);
        else
            result = authorize(service, who, IAM_ACTION_MEMBER_ADD, group.account_id, group.id, &outcome->error);
        if (result != IAM_OK) {
            outcome_fail(outcome, result);
            continue;
        }
        if (add_one(service, who, &group, iam_id, type, outcome))
            changed = true;
    }
    if (changed)
        refresh_engine(service);
    *outcomes = items;
    return IAM_OK;
}
