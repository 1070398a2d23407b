/*
 * files.c: atomic private files, small file reads and the config directory
 * (files.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/files.h"
#include "crypto/hash.h"
#include "files.h"

static enum iam_result fail(char *error, size_t error_size, enum iam_result result, const char *what,
                            const char *path, int saved_errno)
{
    snprintf(error, error_size, "cannot %s %s: %s", what, path, strerror(saved_errno));
    return result;
}

enum iam_result iamctl_private_file_open(struct iamctl_private_file *file, const char *path, bool overwrite,
                                         char *error, size_t error_size)
{
    memset(file, 0, sizeof *file);
    file->fd = -1;
    file->overwrite = overwrite;
    if (!path || !*path) {
        snprintf(error, error_size, "the file name is empty");
        return IAM_EINVAL;
    }
    if (snprintf(file->path, sizeof file->path, "%s", path) >= (int)sizeof file->path ||
        snprintf(file->temporary, sizeof file->temporary, "%s.tmp-XXXXXX", path) >= (int)sizeof file->temporary) {
        file->temporary[0] = '\0';
        snprintf(error, error_size, "the file name is too long");
        return IAM_EINVAL;
    }
    struct stat info;
    if (!overwrite && lstat(path, &info) == 0) {
        file->temporary[0] = '\0';
        snprintf(error, error_size, "%s exists already (use --force to replace it)", path);
        return IAM_ECONFLICT;
    }
    /* mkstemp creates the file with mode 0600, O_EXCL. */
    file->fd = mkostemp(file->temporary, O_CLOEXEC);
    if (file->fd < 0) {
        int saved = errno;
        file->temporary[0] = '\0';
        return fail(error, error_size, IAM_EINVAL, "create a file beside", path, saved);
    }
    if (fchmod(file->fd, 0600) != 0) {
        int saved = errno;
        iamctl_private_file_abort(file);
        return fail(error, error_size, IAM_EINVAL, "set the mode of", path, saved);
    }
    return IAM_OK;
}

/* Moves the temporary file to the destination without replacing an existing file. */
static int rename_no_replace(const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    /* Filesystems without RENAME_NOREPLACE: link() fails on an existing name too. */
    if (link(from, to) != 0)
        return -1;
    unlink(from);
    return 0;
}

enum iam_result iamctl_private_file_commit(struct iamctl_private_file *file, const char *data, size_t length,
                                           char *error, size_t error_size)
{
    if (file->fd < 0) {
        snprintf(error, error_size, "no file is open");
        return IAM_EINTERNAL;
    }
    int failure = iam_file_write_synced(file->fd, data, length);
    if (failure != 0) {
        iamctl_private_file_abort(file);
        return fail(error, error_size, IAM_EINVAL, "write", file->path, failure);
    }
    int fd = file->fd;
    file->fd = -1;
    if (close(fd) != 0) {
        int saved = errno;
        iamctl_private_file_abort(file);
        return fail(error, error_size, IAM_EINVAL, "write", file->path, saved);
    }
    int moved = file->overwrite ? rename(file->temporary, file->path) : rename_no_replace(file->temporary, file->path);
    if (moved != 0) {
        int saved = errno;
        iamctl_private_file_abort(file);
        if (saved == EEXIST) {
            snprintf(error, error_size, "%s exists already (use --force to replace it)", file->path);
            return IAM_ECONFLICT;
        }
        return fail(error, error_size, IAM_EINVAL, "save", file->path, saved);
    }
    file->temporary[0] = '\0';
    return IAM_OK;
}

void iamctl_private_file_abort(struct iamctl_private_file *file)
{
    if (file->fd >= 0) {
        close(file->fd);
        file->fd = -1;
    }
    if (file->temporary[0]) {
        unlink(file->temporary);
        file->temporary[0] = '\0';
    }
}

enum iam_result iamctl_file_read(const char *path, size_t max, bool private_only, char **data, size_t *length,
                                 char *error, size_t error_size)
{
    *data = NULL;
    *length = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        return fail(error, error_size, saved == ENOENT ? IAM_ENOTFOUND : IAM_EINVAL, "read", path, saved);
    }
    enum iam_result result = IAM_OK;
    char *buffer = NULL;
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        snprintf(error, error_size, "%s is not a regular file", path);
        result = IAM_EINVAL;
        goto out;
    }
    if (private_only && (info.st_mode & (S_IRWXG | S_IRWXO))) {
        snprintf(error, error_size, "%s may be read by others (mode %03o); run: chmod 600 %s", path,
                 (unsigned)(info.st_mode & 0777), path);
        result = IAM_EDENIED;
        goto out;
    }
    if ((uint64_t)info.st_size > max) {
        snprintf(error, error_size, "%s is too large (more than %zu bytes)", path, max);
        result = IAM_ETOOBIG;
        goto out;
    }
    buffer = malloc(max + 1);
    if (!buffer) {
        snprintf(error, error_size, "out of memory");
        result = IAM_ENOMEM;
        goto out;
    }
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, buffer + used, max + 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            result = fail(error, error_size, IAM_EINVAL, "read", path, errno);
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > max) {
            snprintf(error, error_size, "%s is too large (more than %zu bytes)", path, max);
            result = IAM_ETOOBIG;
            goto out;
        }
    }
    buffer[used] = '\0';
    *data = buffer;
    *length = used;
    buffer = NULL;
out:
    if (buffer) {
        iam_wipe(buffer, max + 1);
        free(buffer);
    }
    close(fd);
    return result;
}

enum iam_result iamctl_make_private_dir(const char *path, char *error, size_t error_size)
{
    char partial[IAMCTL_PATH_MAX];
    size_t length = strlen(path);
    if (length == 0 || length >= sizeof partial) {
        snprintf(error, error_size, "the configuration directory name is empty or too long");
        return IAM_EINVAL;
    }
    memcpy(partial, path, length + 1);
    for (size_t i = 1; i <= length; i++) {
        if (partial[i] != '/' && partial[i] != '\0')
            continue;
        char saved = partial[i];
        partial[i] = '\0';
        if (mkdir(partial, 0700) != 0 && errno != EEXIST)
            return fail(error, error_size, IAM_EINVAL, "create the directory", partial, errno);
        partial[i] = saved;
    }
    struct stat info;
    if (stat(path, &info) != 0)
        return fail(error, error_size, IAM_EINVAL, "use the directory", path, errno);
    if (!S_ISDIR(info.st_mode)) {
        snprintf(error, error_size, "%s is not a directory", path);
        return IAM_EINVAL;
    }
    /* Our own directory only: tighten it if it was made by hand with a looser mode. */
    if ((info.st_mode & 077) && info.st_uid == geteuid() && chmod(path, 0700) != 0)
        return fail(error, error_size, IAM_EINVAL, "set the mode of", path, errno);
    return IAM_OK;
}
