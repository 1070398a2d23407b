/*
 * settings.h: the identity settings of an account (IBM Identity API v1,
 * /v1/accounts/{account_id}/settings/identity).
 *
 * Every setting has a default, so an account that never stored any still has
 * a complete set, with the entity tag "0-00000000000000000000000000000000".
 * Number-like settings are strings ("86400"), as IBM sends them. An update
 * carries any subset of the fields; each is checked against its enumeration
 * or numeric range; restrict_user_domains is merged by realm_id (an entry
 * with only realm_id removes that realm), user_mfa is replaced whole.
 * Reads need IAM_ACTION_SETTINGS_READ, updates IAM_ACTION_SETTINGS_UPDATE;
 * another account's settings are IAM_ENOTFOUND ("BXNIM0105E").
 */
#ifndef IAM_IAM_SETTINGS_H
#define IAM_IAM_SETTINGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/error.h"
#include "iam/principal.h"
#include "iam/service.h"
#include "store/records.h"

/* The names of every setting, NULL-terminated: the fields an update may carry. */
extern const char *const iam_settings_fields[];

struct iam_settings_view {
    const char *account_id;             /* arena memory */
    const char *entity_tag;             /* arena memory */
    json_t *settings;                   /* every setting by name; owned: release with iam_settings_view_release */
    struct iam_history_record *history; /* oldest first, arena memory; empty unless asked for */
    size_t history_count;
};

/* Reads the settings of `account_id` (defaults filled in). */
enum iam_result iam_settings_get(struct iam_service *service, struct iam_arena *arena, const struct iam_principal *who,
                                 const char *account_id, bool include_history, struct iam_settings_view *out,
                                 struct iam_error *err) IAM_MUST_CHECK;

/*
 * Applies `changes` (a JSON object of settings) if the current entity tag is
 * `expected_entity_tag` (NULL: any). Unknown names, wrong types and values out
 * of range: IAM_EINVAL "BXNIM0109E", nothing changed. Stale: IAM_ECONFLICT
 * "BXNIM0501E". `*out` is the result.
 */
enum iam_result iam_settings_update(struct iam_service *service, struct iam_arena *arena,
                                    const struct iam_principal *who, const char *account_id,
                                    const char *expected_entity_tag, const json_t *changes,
                                    struct iam_settings_view *out, struct iam_error *err) IAM_MUST_CHECK;

/*
 * The current value of one string setting of `account_id` (its default when
 * never set), for the service's own rules (no authorization: never expose it
 * to a caller). `*value` is arena memory.
 */
enum iam_result iam_settings_value(struct iam_service *service, struct iam_arena *arena, const char *account_id,
                                   const char *name, const char **value) IAM_MUST_CHECK;

/* Releases what a view owns (its settings object). NULL is allowed. */
void iam_settings_view_release(struct iam_settings_view *view);

#endif
