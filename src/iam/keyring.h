/*
 * keyring.h: the token signing keys: creation, encryption at rest, rotation
 * and the published JWKS.
 *
 * Each key has a life in four times: created (published in the JWKS at once),
 * activate_at (signs from then), retire_at (stops signing) and expire_at
 * (leaves the JWKS). The key that signs is the newest one whose activate_at
 * has passed. A successor always exists: it is created when its predecessor
 * starts signing, with activate_at = predecessor's retire_at, so every client
 * sees a key in the JWKS for a whole rotation period before any token carries
 * it. A retired key stays published for the access-token lifetime plus the
 * JWKS cache time, so no token outlives the key that verifies it.
 * Private keys are stored sealed (AES-256-GCM under the KEK, AAD
 * "signing-key:<kid>").
 *
 * Thread safety: sign, verify and jwks take a read lock; maintain takes the
 * write lock briefly after doing its slow work (key generation) unlocked.
 */
#ifndef IAM_IAM_KEYRING_H
#define IAM_IAM_KEYRING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "crypto/aead.h"
#include "crypto/jwt.h"
#include "store/store.h"

struct iam_keyring;

struct iam_keyring_options {
    enum iam_jwt_alg alg;     /* algorithm of new keys */
    int64_t rotation;         /* seconds a key signs */
    int64_t retention;        /* seconds a retired key stays published */
};

/*
 * Loads the keys from the store (unsealing them with `kek`), and creates the
 * active and next keys when missing. The keyring keeps `store` (not owned).
 */
enum iam_result iam_keyring_open(struct iam_store *store, const uint8_t kek[IAM_AEAD_KEY_SIZE],
                                 const struct iam_keyring_options *options, int64_t now, struct iam_keyring **out,
                                 struct iam_error *err) IAM_MUST_CHECK;

void iam_keyring_free(struct iam_keyring *keyring);

/* Creates the successor key when due and forgets expired keys. Cheap when nothing is due. */
enum iam_result iam_keyring_maintain(struct iam_keyring *keyring, int64_t now) IAM_MUST_CHECK;

/* Signs `claims` with the key active at `now`. `*token` is malloc'd; the caller frees it. */
enum iam_result iam_keyring_sign(struct iam_keyring *keyring, const json_t *claims, int64_t now,
                                 char **token) IAM_MUST_CHECK;

/* Verifies a token against the published keys (see iam_jwt_verify). */
enum iam_result iam_keyring_verify(struct iam_keyring *keyring, const char *token,
                                   const struct iam_jwt_verify_options *options, json_t **claims,
                                   const char **reason) IAM_MUST_CHECK;

/* The JWKS document {"keys":[...]} of the keys published at `now`. New reference. */
json_t *iam_keyring_jwks(struct iam_keyring *keyring, int64_t now);

/* True when a key signs at `now` (iam_keyring_sign cannot fail for want of one); for readiness checks. */
bool iam_keyring_can_sign(struct iam_keyring *keyring, int64_t now);

#endif
