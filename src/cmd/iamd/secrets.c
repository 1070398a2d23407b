/* secrets.c: loading or creating the pepper and the KEK, and writing private files. */
#include "secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/files.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

enum iam_result iamd_write_private_file(const char *path, const char *content, size_t length, bool exclusive,
                                        struct iam_error *err)
{
    char temporary[4096];
    if (snprintf(temporary, sizeof temporary, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof temporary)
        return iam_error_set(err, IAM_EINVAL, "", "Path too long: %s", path);
    if (exclusive && access(path, F_OK) == 0)
        return iam_error_set(err, IAM_ECONFLICT, "", "%s exists already", path);
    int fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return iam_error_set(err, IAM_EINVAL, "", "Cannot create %s: %s", temporary, strerror(errno));
    int failure = iam_file_write_synced(fd, content, length);
    if (failure != 0) {
        close(fd);
        unlink(temporary);
        return iam_error_set(err, IAM_EINVAL, "", "Cannot write %s: %s", temporary, strerror(failure));
    }
    if (close(fd) != 0) {
        unlink(temporary);
        return iam_error_set(err, IAM_EINVAL, "", "Cannot save %s: %s", temporary, strerror(errno));
    }
    if (rename(temporary, path) != 0) {
        unlink(temporary);
        return iam_error_set(err, IAM_EINVAL, "", "Cannot rename into %s: %s", path, strerror(errno));
    }
    return IAM_OK;
}

static enum iam_result read_secret_file(const char *path, uint8_t out[IAMD_SECRET_SIZE], struct iam_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return iam_error_set(err, errno == ENOENT ? IAM_ENOTFOUND : IAM_EINVAL, "", "Cannot open %s: %s", path,
                             strerror(errno));
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        return iam_error_set(err, IAM_EINVAL, "", "%s is not a regular file", path);
    }
    if (info.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return iam_error_set(err, IAM_EINVAL, "", "%s is readable by others (mode %o); chmod 600 it", path,
                             (unsigned)(info.st_mode & 0777));
    }
    char text[2 * IAMD_SECRET_SIZE + 2];
    ssize_t n = read(fd, text, sizeof text);
    close(fd);
    if (n < 2 * IAMD_SECRET_SIZE)
        return iam_error_set(err, IAM_EINVAL, "", "%s is too short", path);
    enum iam_result result = iam_hex_decode(text, out, IAMD_SECRET_SIZE);
    iam_wipe(text, sizeof text);
    if (result != IAM_OK)
        return iam_error_set(err, IAM_EINVAL, "", "%s must hold 64 hex digits", path);
    return IAM_OK;
}

enum iam_result iamd_secret_read(const char *data_dir, const char *name, const char *env_value,
                                 uint8_t out[IAMD_SECRET_SIZE], struct iam_error *err)
{
    if (env_value && *env_value) {
        if (strlen(env_value) != 2 * IAMD_SECRET_SIZE || iam_hex_decode(env_value, out, IAMD_SECRET_SIZE) != IAM_OK)
            return iam_error_set(err, IAM_EINVAL, "", "The %s from the environment must be 64 hex digits", name);
        return IAM_OK;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/secrets/%s", data_dir, name);
    return read_secret_file(path, out, err);
}

enum iam_result iamd_secret_load(const char *data_dir, const char *name, const char *env_value,
                                 uint8_t out[IAMD_SECRET_SIZE], struct iam_error *err)
{
    if (env_value && *env_value) {
        if (strlen(env_value) != 2 * IAMD_SECRET_SIZE || iam_hex_decode(env_value, out, IAMD_SECRET_SIZE) != IAM_OK)
            return iam_error_set(err, IAM_EINVAL, "", "The %s from the environment must be 64 hex digits", name);
        return IAM_OK;
    }
    char directory[4096], path[4200];
    snprintf(directory, sizeof directory, "%s/secrets", data_dir);
    snprintf(path, sizeof path, "%s/%s", directory, name);
    if (mkdir(directory, 0700) != 0 && errno != EEXIST)
        return iam_error_set(err, IAM_EINVAL, "", "Cannot create %s: %s", directory, strerror(errno));
    enum iam_result result = read_secret_file(path, out, err);
    if (result != IAM_ENOTFOUND)
        return result;
    iam_error_clear(err);
    uint8_t fresh[IAMD_SECRET_SIZE];
    char text[2 * IAMD_SECRET_SIZE + 2];
    result = iam_random_bytes(fresh, sizeof fresh);
    if (result != IAM_OK)
        return iam_error_set(err, result, "", "The CSPRNG failed");
    iam_hex_encode(fresh, sizeof fresh, text);
    text[2 * IAMD_SECRET_SIZE] = '\n';
    result = iamd_write_private_file(path, text, 2 * IAMD_SECRET_SIZE + 1, true, err);
    iam_wipe(text, sizeof text);
    if (result == IAM_OK)
        memcpy(out, fresh, sizeof fresh);
    iam_wipe(fresh, sizeof fresh);
    if (result == IAM_ECONFLICT) /* created meanwhile by another process: read that one */
        return read_secret_file(path, out, err);
    return result;
}
