/*
 * accounts.h: accounts (iamd's own administration API; IBM does not publish
 * one). The instance operator, the owner of the account created at
 * bootstrap (meta "bootstrap_account"), creates accounts, each with its
 * owner user, and lists and reads every account; anyone else sees only their
 * own account. Account ids are 32 lowercase hex, as IBM's.
 *
 * Message codes: BXNIM0105E 404 account not found; BXNIM0109E 400 invalid
 * property; BXNIM0110E 400 invalid query parameter; BXNIM0520E 409 the
 * owner's login is in use; BXNIM0523E 403 only the instance operator may do
 * this; BXNIM0500E 500; BXNIM0503E 503. Arena memory.
 */
#ifndef IAM_IAM_ACCOUNTS_H
#define IAM_IAM_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "iam/users.h"
#include "store/records.h"

#define IAM_ACCOUNT_NAME_MAX 255
#define IAM_BOOTSTRAP_ACCOUNT_META "bootstrap_account"

/* Sets `*operator` when `who` is the instance operator (a user owning the bootstrap account). */
enum iam_result iam_account_is_operator(struct iam_service *service, struct iam_arena *arena,
                                        const struct iam_principal *who, bool *is_operator,
                                        struct iam_error *err) IAM_MUST_CHECK;

struct iam_account_create_request {
    const char *name;                       /* required, 1..255 */
    struct iam_user_create_request owner;   /* login and email required; names and password optional */
};

/*
 * Creates an account and its owner user (instance operator only).
 * `*account` and `*owner` are the stored records.
 */
enum iam_result iam_account_create(struct iam_service *service, struct iam_arena *arena,
                                   const struct iam_principal *who, const struct iam_account_create_request *request,
                                   struct iam_account_record *account, struct iam_user_view *owner,
                                   struct iam_error *err) IAM_MUST_CHECK;

/* Reads an account: any for the operator, else only the caller's own (others: IAM_ENOTFOUND). */
enum iam_result iam_account_get(struct iam_service *service, struct iam_arena *arena,
                                const struct iam_principal *who, const char *id, struct iam_account_record *out,
                                struct iam_error *err) IAM_MUST_CHECK;

struct iam_account_page {
    struct iam_account_record *items;
    size_t count;
    bool has_more;
};

/* Lists accounts: every one for the operator (offset >= 0, limit 1..100), else the caller's own. */
enum iam_result iam_account_list(struct iam_service *service, struct iam_arena *arena,
                                 const struct iam_principal *who, int64_t offset, int64_t limit,
                                 struct iam_account_page *out, struct iam_error *err) IAM_MUST_CHECK;

#endif
