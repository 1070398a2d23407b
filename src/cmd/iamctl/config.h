/*
 * config.h: iamctl's saved login, $XDG_CONFIG_HOME/iamctl/config.json
 * (~/.config/iamctl/config.json by default): a JSON object with
 *
 *   version            1
 *   endpoint           the iamd base URL
 *   account_id, iam_id, identity   who is logged in (from the token)
 *   access_token       the cached IAM token
 *   token_issued_at, token_expires_at   its life (Unix seconds)
 *   refresh_token      for user logins (service IDs get none)
 *   apikey             only after `login --save-apikey`
 *
 * The directory has mode 0700, the file 0600 and is replaced atomically
 * (files.h). A config file that others may read is refused.
 */
#ifndef IAMCTL_CONFIG_H
#define IAMCTL_CONFIG_H

#include <jansson.h>
#include <stdint.h>

#include "files.h"

struct iamctl_config {
    char dir[IAMCTL_PATH_MAX];
    char path[IAMCTL_PATH_MAX];
    json_t *document; /* owned; an empty object when there is no file yet */
};

/*
 * Finds the config path and loads the file when it exists. Returns
 * IAMCTL_EXIT_OK, or prints one line and returns IAMCTL_EXIT_FAILURE
 * (no HOME, unreadable or malformed file, file readable by others).
 */
int iamctl_config_load(struct iamctl_config *config);

/* Writes the document (mode 0600, atomic). Prints one line and returns IAMCTL_EXIT_FAILURE on failure. */
int iamctl_config_save(const struct iamctl_config *config);

/* Frees the document, wiping the secrets it holds. */
void iamctl_config_free(struct iamctl_config *config);

/* A string setting, or NULL. */
const char *iamctl_config_get(const struct iamctl_config *config, const char *key);

/* An integer setting, or 0. */
int64_t iamctl_config_get_int(const struct iamctl_config *config, const char *key);

/* Sets (value not NULL) or removes (value NULL) a string setting. */
void iamctl_config_set(struct iamctl_config *config, const char *key, const char *value);

/* Sets an integer setting. */
void iamctl_config_set_int(struct iamctl_config *config, const char *key, int64_t value);

/* Removes every credential (token, refresh token, API key) and the identity, keeping the endpoint. */
void iamctl_config_forget_login(struct iamctl_config *config);

#endif
