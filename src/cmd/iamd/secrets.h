/*
 * secrets.h: the two secrets kept outside the database: the pepper that keys
 * API-key hashes and the key-encryption key (KEK) that seals private keys and
 * stored values. Each comes from an environment variable (64 hex digits) or
 * from a file under <data-dir>/secrets/ (mode 0600 in a 0700 directory),
 * created with 32 random bytes on first start.
 */
#ifndef IAMD_SECRETS_H
#define IAMD_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define IAMD_SECRET_SIZE 32

/*
 * Loads secret `name` ("pepper" or "kek") from `env_value` when not NULL/empty,
 * else from <data_dir>/secrets/<name>, creating it when missing.
 * Refuses a file others can read.
 */
enum iam_result iamd_secret_load(const char *data_dir, const char *name, const char *env_value,
                                 uint8_t out[IAMD_SECRET_SIZE], struct iam_error *err) IAM_MUST_CHECK;

/*
 * Like iamd_secret_load, but never creates the file: a missing one is
 * IAM_ENOTFOUND (for tools that read an existing installation).
 */
enum iam_result iamd_secret_read(const char *data_dir, const char *name, const char *env_value,
                                 uint8_t out[IAMD_SECRET_SIZE], struct iam_error *err) IAM_MUST_CHECK;

/*
 * Writes `content` to `path` with mode 0600, atomically (a temporary file
 * renamed into place). Fails when `path` exists and `exclusive` is set.
 */
enum iam_result iamd_write_private_file(const char *path, const char *content, size_t length, bool exclusive,
                                        struct iam_error *err) IAM_MUST_CHECK;

#endif
