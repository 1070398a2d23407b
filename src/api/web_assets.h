/*
 * web_assets.h: the console's static files (web/), built into the binary by
 * cmake/embed_web.cmake. Paths are relative to web/ with a leading slash
 * ("/index.html"); the table ends with a zeroed entry.
 */
#ifndef IAM_API_WEB_ASSETS_H
#define IAM_API_WEB_ASSETS_H

#include <stddef.h>

struct iam_web_asset {
    const char *path;
    const char *content_type;
    const unsigned char *data;
    size_t length;
};

extern const struct iam_web_asset iam_web_assets[];
extern const size_t iam_web_asset_count;

#endif
