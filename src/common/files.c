/* files.c: the durable write under the private files (files.h). */
#include "common/files.h"

#include <errno.h>
#include <unistd.h>

int iam_file_write_synced(int fd, const void *data, size_t length)
{
    const char *bytes = data;
    size_t written = 0;
    while (written < length) {
        ssize_t n = write(fd, bytes + written, length - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        written += (size_t)n;
    }
    return fsync(fd) != 0 ? errno : 0;
}
