/*
 * files.h: the durable write under iamd's and iamctl's private files
 * (secrets, the bootstrap API key, iamctl's config and downloaded keys).
 * Each caller keeps its own temporary name, rename policy and messages; what
 * they share is getting every byte to disk before the rename publishes it.
 */
#ifndef IAM_COMMON_FILES_H
#define IAM_COMMON_FILES_H

#include <stddef.h>

#include "common/error.h"

/*
 * Writes all `length` bytes of `data` to `fd` (retrying on EINTR and short
 * writes), then fsyncs it. Returns 0, or the errno that stopped it (EIO for
 * a write that made no progress). Does not close `fd`.
 */
int iam_file_write_synced(int fd, const void *data, size_t length) IAM_MUST_CHECK;

#endif
