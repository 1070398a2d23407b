/*
 * users.c: the users of an account (users.h): login normalisation, create
 * (with an optional password hashed by passwords.c), read, list, update,
 * delete through the store's cascade, and password changes; every
 * operation behind iam_authz_check() except the self-service ones users.h
 * lists, and followed by an engine refresh when it wrote.
 */
#include "iam/users.h"

#include <string.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/time.h"
#include "iam/apikeys.h"
#include "iam/authn.h"
#include "iam/engine.h"
#include "iam/passwords.h"
#include "store/store_access.h"

#define USER_IAM_ID_MAX 64

static const char service_name[] = "user-management";
static const char resource_type[] = "user";

static enum iam_result no_memory(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOMEM, "BXNIM0500E", "Out of memory.");
}

static enum iam_result not_set_up(struct iam_error *err)
{
    return iam_error_set(err, IAM_EINTERNAL, "BXNIM0500E", "The user service is not set up.");
}

static enum iam_result user_not_found(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0102E", "User not found.");
}

static enum iam_result account_not_found(struct iam_error *err)
{
    return iam_error_set(err, IAM_ENOTFOUND, "BXNIM0105E", "Account not found.");
}

static enum iam_result stale_tag(struct iam_error *err)
{
    return iam_error_set(err, IAM_ECONFLICT, "BXNIM0501E",
                         "The entity tag does not match the user's current version; read it again and retry.");
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void refresh_engine(struct iam_service *service)
{
    iam_authn_forget(service); /* a user changed or removed: cached credentials and tokens are re-read */
    if (service->engine && iam_engine_refresh(service->engine, false) != IAM_OK)
        iam_log(IAM_LOG_WARN, "engine_refresh", "the decision engine could not be refreshed after a user change");
}

static struct iam_user_view view_of(const struct iam_user_record *record)
{
    struct iam_user_view view = {.record = *record, .password_set = record->password_hash != NULL};
    view.record.password_hash = NULL;
    return view;
}

/* The gate: `action` on user `iam_id` (NULL: account level) of `account_id`. */
static enum iam_result authorize(struct iam_service *service, const struct iam_principal *who, const char *action,
                                 const char *account_id, const char *iam_id, struct iam_error *err)
{
    struct iam_target target = {
        .account_id = account_id,
        .owner_iam_id = iam_id,
        .service_name = service_name,
        .resource_type = resource_type,
        .resource = iam_id,
    };
    return iam_authz_check(service, who, action, &target, err);
}

static bool is_self(const struct iam_principal *who, const char *iam_id)
{
    return who->kind == IAM_PRINCIPAL_USER && who->iam_id && iam_id && strcmp(who->iam_id, iam_id) == 0;
}

/*
 * Loads user `iam_id` of `account_id`. The caller may be the user when
 * `self_allowed`; otherwise it must pass the gate for `action`.
 */
static enum iam_result load_user(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, const char *account_id, const char *iam_id,
                                 const char *action, bool self_allowed, struct iam_user_record *out,
                                 struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !who || !who->iam_id)
        return not_set_up(err);
    if (!iam_is_account_id(account_id) || !iam_id || !*iam_id || strlen(iam_id) > USER_IAM_ID_MAX)
        return user_not_found(err);
    enum iam_result result = iam_store_user_get(service->store, arena, account_id, iam_id, out);
    if (result == IAM_ENOTFOUND)
        return user_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    if (self_allowed && is_self(who, out->iam_id))
        return IAM_OK;
    result = authorize(service, who, action, out->account_id, out->iam_id, err);
    return result == IAM_ENOTFOUND ? user_not_found(err) : result;
}

/* The account gate for account-level user operations; another account is "account not found". */
static enum iam_result authorize_account(struct iam_service *service, const struct iam_principal *who,
                                         const char *action, const char *account_id, struct iam_error *err)
{
    if (!service || !service->store || !who || !who->iam_id)
        return not_set_up(err);
    if (!iam_is_account_id(account_id))
        return account_not_found(err);
    enum iam_result result = authorize(service, who, action, account_id, NULL, err);
    return result == IAM_ENOTFOUND ? account_not_found(err) : result;
}

/* True when `iam_id` owns `account_id` (the owner cannot be disabled or removed). */
static enum iam_result is_account_owner(struct iam_service *service, struct iam_arena *arena,
                                        const char *account_id, const char *iam_id, bool *owner,
                                        struct iam_error *err)
{
    struct iam_account_record account;
    *owner = false;
    enum iam_result result = iam_store_account_get(service->store, arena, account_id, &account);
    if (result == IAM_ENOTFOUND)
        return account_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    *owner = same_text(account.owner_iam_id, iam_id);
    return IAM_OK;
}

/* --- validation --- */

enum iam_result iam_login_normalize(struct iam_arena *arena, const char *login, const char **out,
                                    struct iam_error *err)
{
    *out = NULL;
    if (!login)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property login is required.");
    size_t length = strnlen(login, IAM_LOGIN_MAX + 1);
    if (length < IAM_LOGIN_MIN || length > IAM_LOGIN_MAX)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The login must have from %d to %d characters.",
                             IAM_LOGIN_MIN, IAM_LOGIN_MAX);
    char *copy = iam_arena_strndup(arena, login, length);
    if (!copy)
        return no_memory(err);
    for (char *c = copy; *c; c++) {
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
        else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '@' ||
                   *c == '-'))
            return iam_error_set(err, IAM_EINVAL, "BXNIM0109E",
                                 "The login may hold only letters, digits and . _ @ -.");
    }
    *out = copy;
    return IAM_OK;
}

static enum iam_result check_email(const char *email, struct iam_error *err)
{
    enum iam_result result = iam_text_check("email", email, IAM_EMAIL_MAX, false, err);
    if (result != IAM_OK)
        return result;
    const char *at = strchr(email, '@');
    bool valid = at && at != email && at[1] && !strchr(at + 1, '@') && at[strlen(at) - 1] != '.';
    for (const char *c = email; valid && *c; c++)
        if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r' || *c == '<' || *c == '>' || *c == ',')
            valid = false;
    if (!valid)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property email is not an email address.");
    return IAM_OK;
}

static enum iam_result check_person_name(const char *what, const char *name, bool required, struct iam_error *err)
{
    if (!name && !required)
        return IAM_OK;
    return iam_text_check(what, name, IAM_PERSON_NAME_MAX, !required, err);
}

static enum iam_result login_in_use(struct iam_error *err)
{
    return iam_error_set(err, IAM_ECONFLICT, "BXNIM0520E", "The login is already in use.");
}

enum iam_result iam_user_prepare(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                 const struct iam_user_create_request *request, bool names_required,
                                 struct iam_user_record *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!service || !service->store || !request)
        return not_set_up(err);
    const char *login = NULL;
    enum iam_result result;
    if ((result = iam_login_normalize(arena, request->login, &login, err)) != IAM_OK ||
        (result = check_email(request->email, err)) != IAM_OK ||
        (result = check_person_name("given_name", request->given_name, names_required, err)) != IAM_OK ||
        (result = check_person_name("family_name", request->family_name, names_required, err)) != IAM_OK)
        return result;
    if (request->password && (result = iam_password_check(request->password, err)) != IAM_OK)
        return result;
    struct iam_user_record existing;
    result = iam_store_user_get_by_login(service->store, arena, login, &existing);
    if (result == IAM_OK)
        return login_in_use(err);
    if (result != IAM_ENOTFOUND)
        return iam_identity_store_failure(result, err);
    const char *hash = NULL;
    if (request->password && (result = iam_password_hash(arena, request->password, &hash, err)) != IAM_OK)
        return result;
    char iam_id[IAM_ID_SIZE];
    if (iam_user_iam_id_new(iam_id) != IAM_OK)
        return iam_error_set(err, IAM_ECRYPTO, "BXNIM0500E", "Cannot create an identifier.");
    const char *tag = NULL;
    if ((result = iam_entity_tag_next(arena, NULL, &tag, err)) != IAM_OK)
        return result;
    int64_t now = iam_now();
    out->iam_id = iam_arena_strdup(arena, iam_id);
    out->account_id = iam_arena_strdup(arena, account_id);
    out->login = login;
    out->email = request->email;
    out->given_name = request->given_name && *request->given_name ? request->given_name : NULL;
    out->family_name = request->family_name && *request->family_name ? request->family_name : NULL;
    out->state = IAM_USER_STATE_ACTIVE;
    out->password_hash = hash;
    out->entity_tag = tag;
    out->created_at = now;
    out->modified_at = now;
    if (!out->iam_id || !out->account_id)
        return no_memory(err);
    return IAM_OK;
}

/* --- operations --- */

enum iam_result iam_user_create(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *account_id,
                                const struct iam_user_create_request *request, struct iam_user_view *out,
                                struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    enum iam_result result = authorize_account(service, who, IAM_ACTION_USER_INVITE, account_id, err);
    if (result != IAM_OK)
        return result;
    struct iam_user_record record;
    if ((result = iam_user_prepare(service, arena, account_id, request, true, &record, err)) != IAM_OK)
        return result;
    result = iam_store_user_insert(service->store, &record);
    if (result == IAM_ECONFLICT)
        return login_in_use(err);
    if (result == IAM_ENOTFOUND)
        return account_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    refresh_engine(service);
    *out = view_of(&record);
    return IAM_OK;
}

enum iam_result iam_user_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                             const char *account_id, const char *iam_id, struct iam_user_view *out,
                             struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    struct iam_user_record record;
    enum iam_result result = load_user(service, arena, who, account_id, iam_id, IAM_ACTION_USER_READ, true, &record,
                                       err);
    if (result == IAM_OK)
        *out = view_of(&record);
    return result;
}

enum iam_result iam_user_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                              const char *account_id, int64_t offset, int64_t limit, struct iam_user_page *out,
                              struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (offset < 0 || limit < 1 || limit > IAM_STORE_LIST_LIMIT_MAX)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0110E", "The page asked for is out of range.");
    enum iam_result result = authorize_account(service, who, IAM_ACTION_USER_LIST, account_id, err);
    if (result != IAM_OK)
        return result;
    struct iam_user_record *records = NULL;
    size_t count = 0;
    result = iam_store_user_list(service->store, arena, account_id, offset, limit, &records, &count, &out->has_more);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    if (count == 0)
        return IAM_OK;
    out->items = iam_arena_alloc(arena, count * sizeof *out->items);
    if (!out->items)
        return no_memory(err);
    for (size_t i = 0; i < count; i++)
        out->items[i] = view_of(&records[i]);
    out->count = count;
    return IAM_OK;
}

/* Stores `updated` under a new entity tag if the stored one is still `loaded_tag`. */
static enum iam_result save_user(struct iam_service *service, struct iam_arena *arena,
                                 struct iam_user_record *updated, const char *loaded_tag, struct iam_error *err)
{
    enum iam_result result = iam_entity_tag_next(arena, loaded_tag, &updated->entity_tag, err);
    if (result != IAM_OK)
        return result;
    updated->modified_at = iam_now();
    result = iam_store_user_update(service->store, updated, loaded_tag);
    if (result == IAM_ECONFLICT)
        return stale_tag(err);
    if (result == IAM_ENOTFOUND)
        return user_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    refresh_engine(service);
    return IAM_OK;
}

enum iam_result iam_user_update(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *account_id, const char *iam_id,
                                const char *expected_entity_tag, const struct iam_user_update_request *request,
                                struct iam_user_view *out, struct iam_error *err)
{
    memset(out, 0, sizeof *out);
    if (!request)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The request is empty.");
    enum iam_result result;
    if ((request->email && (result = check_email(request->email, err)) != IAM_OK) ||
        (result = check_person_name("given_name", request->given_name, false, err)) != IAM_OK ||
        (result = check_person_name("family_name", request->family_name, false, err)) != IAM_OK)
        return result;
    if (request->state && strcmp(request->state, IAM_USER_STATE_ACTIVE) != 0 &&
        strcmp(request->state, IAM_USER_STATE_DISABLED) != 0)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0109E", "The property state must be ACTIVE or DISABLED.");
    /* Users may change their own names and email; the state is an administrator's decision. */
    struct iam_user_record record;
    if ((result = load_user(service, arena, who, account_id, iam_id, IAM_ACTION_USER_UPDATE, !request->state, &record,
                            err)) != IAM_OK)
        return result;
    if (expected_entity_tag && !same_text(expected_entity_tag, record.entity_tag))
        return stale_tag(err);
    struct iam_user_record updated = record;
    bool changed = false;
    if (request->email && !same_text(request->email, record.email)) {
        updated.email = request->email;
        changed = true;
    }
    if (request->given_name) {
        const char *value = *request->given_name ? request->given_name : NULL;
        changed |= !same_text(value, record.given_name);
        updated.given_name = value;
    }
    if (request->family_name) {
        const char *value = *request->family_name ? request->family_name : NULL;
        changed |= !same_text(value, record.family_name);
        updated.family_name = value;
    }
    if (request->state && !same_text(request->state, record.state)) {
        if (strcmp(request->state, IAM_USER_STATE_DISABLED) == 0) {
            bool owner = false;
            if ((result = is_account_owner(service, arena, record.account_id, record.iam_id, &owner, err)) != IAM_OK)
                return result;
            if (owner)
                return iam_error_set(err, IAM_ECONFLICT, "BXNIM0521E", "The account owner cannot be disabled.");
        }
        updated.state = request->state;
        changed = true;
    }
    if (changed && (result = save_user(service, arena, &updated, record.entity_tag, err)) != IAM_OK)
        return result;
    *out = view_of(&updated);
    return IAM_OK;
}

enum iam_result iam_user_delete(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *account_id, const char *iam_id,
                                struct iam_error *err)
{
    struct iam_user_record record;
    enum iam_result result = load_user(service, arena, who, account_id, iam_id, IAM_ACTION_USER_DELETE, false, &record,
                                       err);
    if (result != IAM_OK)
        return result;
    bool owner = false;
    if ((result = is_account_owner(service, arena, record.account_id, record.iam_id, &owner, err)) != IAM_OK)
        return result;
    if (owner)
        return iam_error_set(err, IAM_ECONFLICT, "BXNIM0521E", "The account owner cannot be removed.");
    result = iam_store_user_delete(service->store, record.account_id, record.iam_id);
    if (result == IAM_ENOTFOUND)
        return user_not_found(err);
    if (result != IAM_OK)
        return iam_identity_store_failure(result, err);
    refresh_engine(service);
    return IAM_OK;
}

/* The self-service check: the current password, rate limited like sign-ins. */
static enum iam_result check_current_password(const struct iam_user_record *record, const char *current_password,
                                              const char *client_address, int64_t *retry_after,
                                              struct iam_error *err)
{
    if (!current_password || !*current_password)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0522E", "The property current_password is required.");
    int64_t now = iam_now();
    enum iam_result result = iam_password_limit_begin(record->login, client_address, now, retry_after);
    if (result == IAM_ETOOMANY)
        return iam_error_set(err, IAM_ETOOMANY, "BXNIM0431E",
                             "Too many failed password attempts. Try again in %lld seconds.", (long long)*retry_after);
    if (result != IAM_OK)
        return iam_error_set(err, result, "BXNIM0500E", "Cannot check the password now.");
    bool matches = iam_password_verify(record->password_hash, current_password);
    iam_password_limit_end(record->login, client_address,
                           matches ? IAM_PASSWORD_ATTEMPT_SUCCEEDED : IAM_PASSWORD_ATTEMPT_FAILED, now);
    if (!matches)
        return iam_error_set(err, IAM_EINVAL, "BXNIM0522E", "The current password is not correct.");
    return IAM_OK;
}

enum iam_result iam_user_set_password(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *account_id, const char *iam_id,
                                      const char *password, const char *current_password,
                                      const char *client_address, int64_t *retry_after,
                                      struct iam_user_view *out, struct iam_error *err)
{
    int64_t ignored_retry;
    if (!retry_after)
        retry_after = &ignored_retry;
    *retry_after = 0;
    memset(out, 0, sizeof *out);
    enum iam_result result = iam_password_check(password, err);
    if (result != IAM_OK)
        return result;
    struct iam_user_record record;
    if ((result = load_user(service, arena, who, account_id, iam_id, IAM_ACTION_USER_UPDATE, true, &record, err)) !=
        IAM_OK)
        return result;
    if (is_self(who, record.iam_id) && record.password_hash &&
        (result = check_current_password(&record, current_password, client_address, retry_after, err)) != IAM_OK)
        return result;
    struct iam_user_record updated = record;
    if ((result = iam_password_hash(arena, password, &updated.password_hash, err)) != IAM_OK ||
        (result = save_user(service, arena, &updated, record.entity_tag, err)) != IAM_OK)
        return result;
    *out = view_of(&updated);
    return IAM_OK;
}
