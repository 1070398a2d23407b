/*
 * ids.h: IBM-format identifiers.
 *
 *   account id      32 lowercase hex                     f1e90dde43954fc68994fe16fb8be633
 *   uuid v4         8-4-4-4-12 lowercase hex
 *   service ID id   ServiceId-<uuid>,  iam_id  iam-ServiceId-<uuid>
 *   API key id      ApiKey-<uuid>
 *   user iam_id     IBMid-<10 uppercase alnum>           IBMid-550002G2B4
 *   CRN             crn:v1:bluemix:public:iam-identity::a/<account>::<type>:<id>
 */
#ifndef IAM_COMMON_IDS_H
#define IAM_COMMON_IDS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define IAM_UUID_SIZE 37       /* 36 + NUL */
#define IAM_ACCOUNT_ID_SIZE 33 /* 32 + NUL */
#define IAM_ID_SIZE 64         /* enough for any prefixed id or iam_id */
#define IAM_CRN_SIZE 192

/* A random version-4 UUID, lowercase. */
enum iam_result iam_uuid_new(char out[IAM_UUID_SIZE]) IAM_MUST_CHECK;

/* `prefix` followed by a new UUID ("ServiceId-", "ApiKey-"...). */
enum iam_result iam_prefixed_id_new(const char *prefix, char out[IAM_ID_SIZE]) IAM_MUST_CHECK;

/* A new account id: 32 lowercase hex characters. */
enum iam_result iam_account_id_new(char out[IAM_ACCOUNT_ID_SIZE]) IAM_MUST_CHECK;

/* A new user iam_id: "IBMid-" and 10 uppercase letters and digits. */
enum iam_result iam_user_iam_id_new(char out[IAM_ID_SIZE]) IAM_MUST_CHECK;

/* True when `text` is a lowercase UUID. */
bool iam_is_uuid(const char *text);

/* True when `text` is `prefix` followed by a lowercase UUID. */
bool iam_is_prefixed_id(const char *text, const char *prefix);

/* True when `text` is 32 lowercase hex characters. */
bool iam_is_account_id(const char *text);

/* Writes the iam-identity CRN of an object of `type` ("serviceid", "apikey"...). */
void iam_identity_crn(char out[IAM_CRN_SIZE], const char *account_id, const char *type, const char *id);

#endif
