/*
 * users.h: the users of an account (iamd's own administration API; IBM
 * does not publish one): create, read, list, update (names, email, state),
 * delete (with their API keys, group memberships and policies) and set a
 * password.
 *
 * Rules: a user is loaded from the account named in the request, then
 * iam_authz_check() decides with a user-management action on target
 * {serviceName user-management, resourceType user, resource <iam_id>}
 * (another account is IAM_ENOTFOUND). Reading oneself needs no permission;
 * so does changing one's own names and email, and one's own password (with
 * the current password when one is set). The account owner cannot be
 * disabled or removed. Logins are 3..64 of [A-Za-z0-9._@-], stored in
 * lowercase, unique in the whole instance. Every change gets a new entity tag.
 * Records returned never carry the password hash. Arena memory.
 *
 * Message codes: BXNIM0102E 404 user not found; BXNIM0105E 404 account not
 * found; BXNIM0109E 400 invalid property; BXNIM0110E 400 invalid query
 * parameter; BXNIM0501E 409 stale entity tag; BXNIM0513E 403 not allowed;
 * BXNIM0520E 409 login in use; BXNIM0521E 409 the account owner cannot be
 * disabled or removed; BXNIM0522E 400 current password missing or wrong;
 * BXNIM0431E 429 too many wrong current passwords; BXNIM0500E 500;
 * BXNIM0503E 503.
 */
#ifndef IAM_IAM_USERS_H
#define IAM_IAM_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "store/records.h"

#define IAM_LOGIN_MIN 3
#define IAM_LOGIN_MAX 64
#define IAM_EMAIL_MAX 254
#define IAM_PERSON_NAME_MAX 100
#define IAM_USER_STATE_ACTIVE "ACTIVE"
#define IAM_USER_STATE_DISABLED "DISABLED"

/* A user as the operations return it: the record without its password hash. */
struct iam_user_view {
    struct iam_user_record record; /* password_hash always NULL */
    bool password_set;
};

struct iam_user_create_request {
    const char *login;       /* required */
    const char *email;       /* required */
    const char *given_name;  /* required for users, optional for an account's owner */
    const char *family_name; /* idem */
    const char *password;    /* optional: 12..256 characters */
};

/* Lowercases and checks a login; IAM_EINVAL "BXNIM0109E" when malformed. `*out` in the arena. */
enum iam_result iam_login_normalize(struct iam_arena *arena, const char *login, const char **out,
                                    struct iam_error *err) IAM_MUST_CHECK;

/*
 * Checks a create request and builds (does not store) the user record of a
 * new user of `account_id` with a new iam_id, its password hashed. With
 * `names_required` false, given and family names may be absent.
 * A login already in use: IAM_ECONFLICT "BXNIM0520E".
 */
enum iam_result iam_user_prepare(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                 const struct iam_user_create_request *request, bool names_required,
                                 struct iam_user_record *out, struct iam_error *err) IAM_MUST_CHECK;

/* Creates a user in `account_id` (account owner or holders of IAM_ACTION_USER_INVITE). */
enum iam_result iam_user_create(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *account_id,
                                const struct iam_user_create_request *request, struct iam_user_view *out,
                                struct iam_error *err) IAM_MUST_CHECK;

enum iam_result iam_user_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                             const char *account_id, const char *iam_id, struct iam_user_view *out,
                             struct iam_error *err) IAM_MUST_CHECK;

struct iam_user_page {
    struct iam_user_view *items;
    size_t count;
    bool has_more;
};

/* Lists one page (offset >= 0, limit 1..100) of the account's users. */
enum iam_result iam_user_list(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                              const char *account_id, int64_t offset, int64_t limit, struct iam_user_page *out,
                              struct iam_error *err) IAM_MUST_CHECK;

/* What an update changes; NULL leaves a field alone. */
struct iam_user_update_request {
    const char *email;
    const char *given_name;  /* "" clears it */
    const char *family_name; /* "" clears it */
    const char *state;       /* "ACTIVE" or "DISABLED" */
};

/* Updates a user if its entity tag is `expected_entity_tag` (NULL: any). */
enum iam_result iam_user_update(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *account_id, const char *iam_id,
                                const char *expected_entity_tag, const struct iam_user_update_request *request,
                                struct iam_user_view *out, struct iam_error *err) IAM_MUST_CHECK;

/* Deletes a user, its API keys, its group memberships and its policies. */
enum iam_result iam_user_delete(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *account_id, const char *iam_id,
                                struct iam_error *err) IAM_MUST_CHECK;

/*
 * Sets a user's password. The user themself must give `current_password`
 * when a password is set (wrong ones count against the failure limits of
 * passwords.h, from `client_address`); others need IAM_ACTION_USER_UPDATE
 * and no current password. `*retry_after` (may be NULL) gets the seconds to
 * wait when the failure limits refuse (IAM_ETOOMANY), else 0.
 */
enum iam_result iam_user_set_password(struct iam_service *service, struct iam_arena *arena,
                                      const struct iam_principal *who, const char *account_id, const char *iam_id,
                                      const char *password, const char *current_password,
                                      const char *client_address, int64_t *retry_after,
                                      struct iam_user_view *out, struct iam_error *err) IAM_MUST_CHECK;

#endif
