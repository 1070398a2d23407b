/*
 * bootstrap.h: the first start of an empty instance.
 *
 * With no account in the store, creates an account, its owner user (who is
 * also the instance operator) and one API key for that user. The caller
 * shows the key once and saves it; later starts find the instance
 * bootstrapped and create nothing.
 */
#ifndef IAM_IAM_BOOTSTRAP_H
#define IAM_IAM_BOOTSTRAP_H

#include <stdbool.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/service.h"

struct iam_bootstrap_result {
    bool created;           /* false when the instance was bootstrapped already */
    const char *account_id; /* the rest: arena memory, set when created */
    const char *iam_id;
    const char *login;
    const char *apikey_id;
    const char *apikey_name;
    const char *apikey_description;
    const char *apikey;     /* the value: shown once */
    int64_t created_at;
};

enum iam_result iam_bootstrap(struct iam_service *service, struct iam_arena *arena, const char *admin_login,
                              struct iam_bootstrap_result *out, struct iam_error *err) IAM_MUST_CHECK;

#endif
