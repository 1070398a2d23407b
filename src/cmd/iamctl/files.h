/*
 * files.h: the files iamctl writes hold credentials (the config's token, a
 * downloaded API key), so they are written with mode 0600 and atomically:
 * a temporary file beside the target is filled, flushed to disk and renamed
 * over it, so a reader never sees a partial file and a failure leaves
 * nothing behind. The temporary file is created before anything is asked of
 * the server, so an unwritable destination fails before a key is created.
 */
#ifndef IAMCTL_FILES_H
#define IAMCTL_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define IAMCTL_PATH_MAX 4096

struct iamctl_private_file {
    char path[IAMCTL_PATH_MAX];      /* the destination */
    char temporary[IAMCTL_PATH_MAX]; /* "<path>.tmp-XXXXXX", empty when none is open */
    int fd;
    bool overwrite;
};

/*
 * Creates the temporary file for `path` (mode 0600). Unless `overwrite`,
 * fails when `path` exists. On failure writes a one-line reason into
 * `error` and returns an error result; nothing is left behind.
 */
enum iam_result iamctl_private_file_open(struct iamctl_private_file *file, const char *path, bool overwrite,
                                         char *error, size_t error_size) IAM_MUST_CHECK;

/*
 * Writes `data`, flushes it and renames the temporary file to the
 * destination (without replacing an existing file unless `overwrite`).
 * On failure the temporary file is removed and `error` says why.
 */
enum iam_result iamctl_private_file_commit(struct iamctl_private_file *file, const char *data, size_t length,
                                           char *error, size_t error_size) IAM_MUST_CHECK;

/* Removes the temporary file (if any) without touching the destination. */
void iamctl_private_file_abort(struct iamctl_private_file *file);

/*
 * Reads a whole regular file of at most `max` bytes into a new NUL-terminated
 * buffer (*data, freed by the caller, who should wipe secrets first).
 * With `private_only`, refuses a file that group or others may read.
 */
enum iam_result iamctl_file_read(const char *path, size_t max, bool private_only, char **data, size_t *length,
                                 char *error, size_t error_size) IAM_MUST_CHECK;

/* Creates `path` (and missing parents) as directories with mode 0700; existing ones are left as they are. */
enum iam_result iamctl_make_private_dir(const char *path, char *error, size_t error_size) IAM_MUST_CHECK;

#endif
