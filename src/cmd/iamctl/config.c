/*
 * config.c: loading and saving ~/.config/iamctl/config.json (config.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "config.h"
#include "crypto/hash.h"
#include "output.h"

#define CONFIG_VERSION 1
#define CONFIG_MAX_BYTES (256 * 1024)

static const char *const secret_keys[] = {"access_token", "refresh_token", "apikey", NULL};

/* Overwrites the secret strings of the document before it is released. */
static void wipe_secrets(json_t *document)
{
    for (const char *const *key = secret_keys; *key; key++) {
        json_t *value = json_object_get(document, *key);
        if (json_is_string(value))
            iam_wipe((char *)json_string_value(value), json_string_length(value));
    }
}

static int find_paths(struct iamctl_config *config)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int written;
    if (xdg && xdg[0] == '/')
        written = snprintf(config->dir, sizeof config->dir, "%s/iamctl", xdg);
    else if (home && *home)
        written = snprintf(config->dir, sizeof config->dir, "%s/.config/iamctl", home);
    else
        return iamctl_fail("cannot find the configuration directory: HOME is not set");
    if (written < 0 || (size_t)written >= sizeof config->dir ||
        snprintf(config->path, sizeof config->path, "%s/config.json", config->dir) >= (int)sizeof config->path)
        return iamctl_fail("the configuration directory name is too long");
    return IAMCTL_EXIT_OK;
}

int iamctl_config_load(struct iamctl_config *config)
{
    memset(config, 0, sizeof *config);
    int status = find_paths(config);
    if (status != IAMCTL_EXIT_OK)
        return status;
    char error[512];
    char *text = NULL;
    size_t length = 0;
    enum iam_result result = iamctl_file_read(config->path, CONFIG_MAX_BYTES, true, &text, &length, error,
                                              sizeof error);
    if (result == IAM_ENOTFOUND) {
        config->document = json_object();
        return config->document ? IAMCTL_EXIT_OK : iamctl_fail("out of memory");
    }
    if (result != IAM_OK)
        return iamctl_fail("%s", error);
    json_error_t parse_error;
    config->document = json_loadb(text, length, JSON_REJECT_DUPLICATES, &parse_error);
    iam_wipe(text, length);
    free(text);
    if (!json_is_object(config->document)) {
        json_decref(config->document);
        config->document = NULL;
        return iamctl_fail("%s is not a valid iamctl configuration (%s); remove it and log in again", config->path,
                           parse_error.text);
    }
    return IAMCTL_EXIT_OK;
}

int iamctl_config_save(const struct iamctl_config *config)
{
    char error[IAMCTL_PATH_MAX + 128];
    if (iamctl_make_private_dir(config->dir, error, sizeof error) != IAM_OK)
        return iamctl_fail("%s", error);
    json_object_set_new(config->document, "version", json_integer(CONFIG_VERSION));
    char *text = json_dumps(config->document, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return iamctl_fail("out of memory");
    size_t length = strlen(text);
    /* A copy with the final newline (not realloc: the old block would keep the token). */
    char *lined = malloc(length + 2);
    if (lined) {
        memcpy(lined, text, length);
        lined[length] = '\n';
        lined[length + 1] = '\0';
    }
    iam_wipe(text, length);
    free(text);
    if (!lined)
        return iamctl_fail("out of memory");
    text = lined;
    length++;
    struct iamctl_private_file file;
    enum iam_result result = iamctl_private_file_open(&file, config->path, true, error, sizeof error);
    if (result == IAM_OK)
        result = iamctl_private_file_commit(&file, text, length, error, sizeof error);
    iam_wipe(text, length);
    free(text);
    if (result != IAM_OK)
        return iamctl_fail("cannot save the configuration: %s", error);
    return IAMCTL_EXIT_OK;
}

void iamctl_config_free(struct iamctl_config *config)
{
    if (config->document) {
        wipe_secrets(config->document);
        json_decref(config->document);
    }
    config->document = NULL;
}

const char *iamctl_config_get(const struct iamctl_config *config, const char *key)
{
    const char *value = json_string_value(json_object_get(config->document, key));
    return value && *value ? value : NULL;
}

int64_t iamctl_config_get_int(const struct iamctl_config *config, const char *key)
{
    const json_t *value = json_object_get(config->document, key);
    return json_is_integer(value) ? (int64_t)json_integer_value(value) : 0;
}

/* Removes `key`, wiping the old value first when it is a secret. */
static void remove_key(struct iamctl_config *config, const char *key)
{
    json_t *old = json_object_get(config->document, key);
    for (const char *const *secret = secret_keys; old && *secret; secret++)
        if (strcmp(*secret, key) == 0 && json_is_string(old))
            iam_wipe((char *)json_string_value(old), json_string_length(old));
    json_object_del(config->document, key);
}

void iamctl_config_set(struct iamctl_config *config, const char *key, const char *value)
{
    remove_key(config, key);
    if (value)
        json_object_set_new(config->document, key, json_string(value));
}

void iamctl_config_set_int(struct iamctl_config *config, const char *key, int64_t value)
{
    json_object_set_new(config->document, key, json_integer((json_int_t)value));
}

void iamctl_config_forget_login(struct iamctl_config *config)
{
    static const char *const login_keys[] = {"access_token",    "refresh_token",    "apikey", "account_id",
                                             "iam_id",          "identity",         "token_issued_at",
                                             "token_expires_at", NULL};
    for (const char *const *key = login_keys; *key; key++)
        remove_key(config, *key);
}
