/*
 * store_activity.c: the public functions of store_activity.h: argument
 * checks every backend would make the same way, then the backend's activity
 * table (backend.h). Nothing here knows SQL.
 */
#include "store/store_activity.h"

#include <string.h>

#include "store/backend.h"
#include "store/timed.h"

static const struct iam_store_activity_backend *activity_of(const struct iam_store *store)
{
    return store->backend->activity;
}

enum iam_result iam_store_user_add_authn(struct iam_store *store, const struct iam_apikey_usage *items, size_t count)
{
    if (!store || (count > 0 && !items))
        return IAM_EINVAL;
    for (size_t i = 0; i < count; i++)
        if (!items[i].id)
            return IAM_EINVAL;
    if (count == 0)
        return IAM_OK;
    const struct iam_store_activity_backend *activity = activity_of(store);
    if (!activity)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(activity->user_add_authn(store, items, count));
}

enum iam_result iam_store_activity_inactive(struct iam_store *store, struct iam_arena *arena, const char *account_id,
                                            int64_t since, struct iam_activity_inactive *out)
{
    if (!out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    if (!store || !arena || !account_id)
        return IAM_EINVAL;
    const struct iam_store_activity_backend *activity = activity_of(store);
    if (!activity)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(activity->inactive(store, arena, account_id, since, out));
}

enum iam_result iam_store_activity_report_insert(struct iam_store *store,
                                                 const struct iam_activity_report_record *report,
                                                 int64_t keep_since, int64_t keep_max)
{
    if (!store || !report || !report->account_id || !report->reference || !report->created_by || !report->report ||
        keep_max < 1)
        return IAM_EINVAL;
    const struct iam_store_activity_backend *activity = activity_of(store);
    if (!activity)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(activity->report_insert(store, report, keep_since, keep_max));
}

enum iam_result iam_store_activity_report_get(struct iam_store *store, struct iam_arena *arena,
                                              const char *account_id, const char *reference,
                                              struct iam_activity_report_record *out)
{
    if (!out)
        return IAM_EINVAL;
    memset(out, 0, sizeof *out);
    if (!store || !arena || !account_id)
        return IAM_EINVAL;
    const struct iam_store_activity_backend *activity = activity_of(store);
    if (!activity)
        return IAM_EINTERNAL;
    IAM_STORE_RETURN_TIMED(activity->report_get(store, arena, account_id, reference, out));
}
